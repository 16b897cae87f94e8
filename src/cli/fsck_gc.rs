//! fsck and gc.

use super::output::{errln, outln};
use super::{output, Ctx};
use crate::error::{Error, Result};
use crate::{fsck, gc};
use clap::Args;
use std::path::{Path, PathBuf};

fn layout_path(s: &str) -> PathBuf {
    crate::reference::layout_dir(Path::new(s))
}

#[derive(Debug, Args)]
pub struct FsckArgs {
    /// The layout directory.
    pub layout: String,
    /// Check presence, sizes and structure only; skip hashing blob contents.
    #[arg(long)]
    pub quick: bool,
    /// Hashing threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

pub fn fsck(ctx: &Ctx, a: FsckArgs) -> Result<i32> {
    let layout = ctx.open(&layout_path(&a.layout))?;
    let mut opts = fsck::Options {
        quick: a.quick,
        ..Default::default()
    };
    if let Some(j) = a.jobs {
        if j == 0 {
            return Err(Error::usage("--jobs must be at least 1"));
        }
        opts.jobs = j;
    }
    let report = fsck::fsck(&layout, &opts)?;
    if ctx.json {
        output::json(&report);
    } else {
        for p in &report.problems {
            let sev = match p.severity {
                fsck::Level::Error => "error",
                fsck::Level::Warning => "warning",
            };
            let mut line = format!("{sev}: [{}] {}", p.code, p.message);
            if let Some(path) = &p.path {
                line.push_str(&format!(" (file {})", path.display()));
            }
            if let Some(r) = &p.referrer {
                line.push_str(&format!(" (referenced from {r})"));
            }
            // One finding, one line: file names and messages escaped whole.
            outln!("{}", crate::text::escape(&line));
        }
        outln!(
            "{}: {} blobs checked, {} hashed, {} errors, {} warnings{}",
            layout.root().display(),
            report.blobs_checked,
            output::human_size(report.bytes_hashed as i64),
            report.errors,
            report.warnings,
            if report.quick {
                " (quick: contents not hashed)"
            } else {
                ""
            }
        );
    }
    Ok(if report.clean { 0 } else { 1 })
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// The layout directory.
    pub layout: String,
    /// Report what would be removed without removing it. Writes nothing, not even a
    /// lock file, so it works on a read-only layout.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn gc(ctx: &Ctx, a: GcArgs) -> Result<i32> {
    let layout = ctx.open(&layout_path(&a.layout))?;
    let report = gc::gc(&layout, a.dry_run)?;
    if ctx.json {
        output::json(&report);
        return Ok(0);
    }
    let verb = if a.dry_run { "would remove" } else { "removed" };
    for n in &report.referrer_entries_removed {
        outln!(
            "{verb} index.json entry {} (referrers of a subject that is gone)",
            crate::text::escape(n)
        );
    }
    for d in &report.removed {
        outln!("{verb} {d}");
    }
    for p in &report.left_alone {
        errln!(
            "note: left alone (not a blob name): {}",
            crate::text::escape(&p.to_string_lossy())
        );
    }
    outln!(
        "{}: kept {} blobs, {verb} {} ({}), {} stale temp files",
        layout.root().display(),
        report.kept,
        report.removed.len(),
        output::human_size(report.bytes_removed as i64),
        report.temp_files_removed
    );
    Ok(0)
}
