//! `oix recompress`: parse, call [`crate::recompress`], print.

use super::output::{errln, outln};
use super::{output, Ctx};
use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::platform::PlatformSpec;
use crate::recompress::{self, Options};
use crate::reference::LayoutRef;
use clap::Args;

pub const RECOMPRESS_HELP: &str = "\
Every layer is decompressed, checked against its config's diff_id (a mismatch refuses \
the image and changes nothing), recompressed with the engine `oix build` uses (the same \
bytes for any --jobs) and hashed while it is written; memory stays bounded. Configs are \
unchanged; layers already in the target compression are reused; non-distributable \
(foreign) layers are left as they are and reported.

Without --add each entry is replaced. With --add (zstd only) the gzip entries stay and a \
twin per platform is appended, marked `io.github.containers.compression.zstd: \"true\"` \
as podman's `--add-compression zstd` does: clients that cannot read zstd keep using the \
gzip entry, and oix's selection and merge policies treat the twin as a variant of its \
platform (docs/selection.md, \"Compression twins\"). REF is re-pointed in one index.json \
transaction. Running it again changes nothing.";

#[derive(Debug, Args)]
pub struct RecompressArgs {
    /// LAYOUT:REF naming an image or an index.
    pub reference: String,
    /// The compression to write: zstd or gzip.
    #[arg(long, value_name = "zstd|gzip")]
    pub to: String,
    /// Compression level (gzip 0-9, default 4; zstd 1-19, default 3).
    #[arg(long, value_name = "N")]
    pub level: Option<i32>,
    /// Keep each entry and add a zstd twin next to it (--to zstd, indexes only).
    #[arg(long)]
    pub add: bool,
    /// Only the index entries of this platform (repeatable; exact match).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Compute the new digests without storing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Compression threads (default: all cores); the output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

pub fn recompress(ctx: &Ctx, a: RecompressArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.reference)?;
    let layout = ctx.open(&r.path)?;
    let mut opts = Options::new(Compression::parse(&a.to)?);
    opts.level = a.level;
    opts.add = a.add;
    opts.dry_run = a.dry_run;
    if let Some(j) = a.jobs {
        if j == 0 {
            return Err(Error::usage("--jobs must be at least 1"));
        }
        opts.jobs = j;
    }
    opts.platforms = a
        .platform
        .iter()
        .map(|p| PlatformSpec::parse(p))
        .collect::<Result<_>>()?;
    let report = recompress::recompress(&layout, &r, &opts)?;
    if ctx.json {
        output::json(&report);
        return Ok(0);
    }
    for e in &report.entries {
        let p = e.platform.as_deref().unwrap_or("-");
        let line = match e.action {
            "replaced" | "added" => format!("{p}: {} {} -> {}", e.action, e.from, e.to),
            _ => format!("{p}: {} {}", e.action, e.from),
        };
        outln!("{}", crate::text::escape(&line));
        if let Some(n) = &e.note {
            errln!("note: {p}: {}", crate::text::escape(n));
        }
    }
    let verb = match (report.changed, report.dry_run) {
        (false, _) => "unchanged",
        (true, true) => "would re-point",
        (true, false) => "re-pointed",
    };
    outln!(
        "{}: {verb} {} -> {} ({})",
        crate::text::escape(&report.target),
        report.from,
        report.to,
        report.compression
    );
    Ok(0)
}
