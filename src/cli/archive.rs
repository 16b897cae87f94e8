//! import, export.

use super::output::{errln, outln};
use super::registry::ReferrerArgs;
use super::{output, Ctx};
use crate::archive::export::{
    export, export_plan, export_to_file, one_layout_targets, ExportPlan, ExportReport,
    ExportRequest,
};
use crate::archive::import::{import, parse_source, ImportOptions, ImportSource};
use crate::archive::Selection;
use crate::compress::Limits;
use crate::error::{Error, Kind, Result};
use crate::reference::{LayoutRef, Target};
use crate::Layout;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(after_long_help = "\
SOURCE:
  FILE[:REF]                      an oci-archive or docker-archive (.tar, .tar.gz, .tar.xz,
                                  .tar.zst; the compression is read from the first bytes)
  oci-archive:FILE[:REF]          the same, skopeo style (also docker-archive:FILE[:REF])
  -                               an archive on stdin
  oci:DIR[:REF|@DIGEST], DIR      another OCI layout

Everything is verified before the refs are added: blob digests and sizes, manifests and
indexes, and the completeness of each imported graph. A failed import leaves index.json
as it was (blobs it staged are unreferenced; `oix gc` collects them).

EXAMPLES:
  oix import kiwi-image.x86_64.tar.xz -o out:latest
  oix import release.tar --all -o out
  oix import docker-save.tar:myapp:1.2 -o out:1.2")]
pub struct ImportArgs {
    /// The archive or layout to import (see SOURCE below).
    pub source: String,
    /// Target LAYOUT (created if missing), or LAYOUT:REF to name the imported image.
    #[arg(short = 'o', long = "output", value_name = "LAYOUT[:REF]")]
    pub output: String,
    /// Import every ref of the source, each under its own name.
    #[arg(long)]
    pub all: bool,
    /// Refuse a compressed archive that expands more than this many times its size.
    #[arg(long, value_name = "RATIO", default_value = "100")]
    pub max_ratio: u64,
    /// Refuse an archive whose uncompressed content exceeds this many bytes.
    #[arg(long, value_name = "BYTES", default_value = "1099511627776")]
    pub max_size: u64,
    /// A layout SOURCE only: do not hash its blobs (sizes are still checked; links still
    /// need a source file owned by you and not writable by group or others).
    #[arg(long)]
    pub trust_source: bool,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    /// Read and check the source, print what would be imported (refs, referrers);
    /// change nothing in the target.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn import_cmd(ctx: &Ctx, a: ImportArgs) -> Result<i32> {
    let out = LayoutRef::parse(&a.output)?;
    let rename = match &out.target {
        Target::Default => None,
        Target::Name(n) => Some(n.clone()),
        Target::Digest(_) => {
            return Err(Error::usage("-o takes LAYOUT or LAYOUT:REF, not a digest"))
        }
    };
    let (source, name) = parse_source(&a.source)?;
    let sel = Selection {
        name,
        all: a.all,
        rename,
    };
    if a.all && sel.rename.is_some() {
        return Err(Error::usage(
            "--all imports every ref under its own name; use -o LAYOUT without :REF",
        ));
    }
    let limits = Limits {
        max_ratio: a.max_ratio.max(1),
        max_total: a.max_size,
        ..Limits::default()
    };
    if let ImportSource::Layout(r) = &source {
        if !r.path.join(crate::layout::OCI_LAYOUT_FILE).exists() {
            return Err(Error::usage(format!(
                "{} is a directory but not an OCI layout",
                r.path.display()
            )));
        }
    }
    let layout = Layout::open_or_create(&out.path)?
        .with_lock_timeout(ctx.lock_timeout)
        .trusting_sources(a.trust_source);
    let opts = ImportOptions {
        referrers: a.referrers.carry(),
        dry_run: a.dry_run,
    };
    let report = import(&layout, &source, &sel, limits, &opts)?;
    if ctx.json {
        output::json(&report);
    } else {
        for c in &report.refs {
            outln!(
                "{} {}:{} {}",
                c.digest,
                out.path.display(),
                c.ref_name,
                if a.dry_run { would(c.action) } else { c.action }
            );
        }
        print_referrers(&report.referrers, &report.referrer_warnings, a.dry_run);
        if a.dry_run {
            errln!("dry run: nothing was written to {}", out.path.display());
            return Ok(0);
        }
        errln!(
            "imported {} from {} ({} blobs written, {}, {} already present)",
            report.format,
            report.source,
            report.blobs,
            output::human_size(report.bytes as i64),
            report.present
        );
    }
    Ok(0)
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
The archive holds only the blobs the exported refs reach. Its bytes depend only on the
layout's content and the options (fixed member order, mtimes and owners; compression
that does not depend on the thread count).

--platform keeps only images of the given platforms: an index is rewritten to list just
them (a new index, never one whose children are missing); attestations stay with their
images. Matching is on os, architecture and (when given) variant.

--format docker-archive (or -o docker-archive:FILE, or --docker-compat) writes an archive
that docker load (any version), podman load, ctr images import and skopeo's
docker-archive: transport read: the oci-archive plus Docker's manifest.json for one
image. --name REPO:TAG sets its RepoTags and the io.containerd.image.name annotation.
For a multi-arch ref, --platform chooses the image single-image consumers get (it is
required then) and the OCI side keeps the whole index. Layers stay as stored: zstd
layers are refused (docker load reads them only from Docker 23 on) unless --allow-zstd.

EXAMPLES:
  oix export out:latest -o release.tar
  oix export out:1.0 out:1.0-debug -o release.tar.zst
  oix export out:latest --platform linux/arm64 -o arm64.tar.gz
  oix export out:latest --format docker-archive --name example.org/app:1.0 --platform linux/amd64 -o app.tar")]
pub struct ExportArgs {
    /// LAYOUT (every ref), LAYOUT:REF or LAYOUT@DIGEST; several refs of one layout may be given.
    #[arg(required = true, value_name = "LAYOUT[:REF]")]
    pub references: Vec<String>,
    /// The archive to write (- for stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Compression (default: from the file name: .tar.gz/.tgz gzip, .tar.zst zstd, else none).
    #[arg(long, value_parser = ["gzip", "zstd", "none"])]
    pub compression: Option<String>,
    /// Compression level (gzip 0-9, default 4; zstd 1-19, default 3).
    #[arg(long)]
    pub level: Option<i32>,
    /// Compression threads (default: the number of cores; the bytes do not depend on it).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Export only images of this platform, os/arch[/variant] (repeatable; normalized
    /// like every selector: arm64 = arm64/v8, x86_64 = amd64).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platforms: Vec<String>,
    /// Export only images whose descriptor satisfies EXPR (key=value, key!=value,
    /// key~=REGEX, key, !key; repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    /// Archive format: oci-archive, or docker-archive (also loadable by docker load;
    /// with docker-archive --platform chooses the image instead of subsetting).
    #[arg(long, value_name = "FORMAT", value_parser = ["oci-archive", "docker-archive"])]
    pub format: Option<String>,
    /// Same as --format docker-archive.
    #[arg(long)]
    pub docker_compat: bool,
    /// The image name of a docker-archive, REPO:TAG (RepoTags, io.containerd.image.name).
    #[arg(long, value_name = "REPO:TAG")]
    pub name: Option<String>,
    /// Accept zstd layers in a docker-archive (docker load reads them from Docker 23 on).
    #[arg(long)]
    pub allow_zstd: bool,
    /// The exported manifests and indexes in this format (docs/convert.md).
    #[command(flatten)]
    pub convert: super::registry::FixedConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    /// Print what would be exported (refs, referrers); write no archive.
    #[arg(long)]
    pub dry_run: bool,
}

/// `created` → `would create`, for dry runs.
fn would(action: &str) -> &'static str {
    match action {
        "created" => "would create",
        "moved" => "would move",
        "removed" => "would remove",
        _ => "unchanged",
    }
}

/// One line per carried referrer (`referrer DIGEST -> SUBJECT (TAG)`) and per warning,
/// on stderr.
pub(crate) fn print_referrers(
    carried: &[crate::referrers::Carried],
    warnings: &[crate::referrers::Warning],
    dry_run: bool,
) {
    let verb = if dry_run { "would carry" } else { "carried" };
    for c in carried {
        errln!(
            "{verb} referrer {} of {} ({}, listed as {})",
            c.descriptor.digest,
            c.subject,
            crate::text::escape(c.descriptor.artifact_type.as_deref().unwrap_or("-")),
            c.tag
        );
    }
    for w in warnings {
        errln!("warning: {}", crate::text::escape(&w.message));
    }
}

pub fn export_cmd(ctx: &Ctx, a: ExportArgs) -> Result<i32> {
    let req = ExportRequest {
        output: a.output.clone(),
        format: a.format.clone(),
        docker_compat: a.docker_compat,
        name: a.name.clone(),
        allow_zstd: a.allow_zstd,
        compression: a.compression.clone(),
        level: a.level,
        jobs: a.jobs,
        platforms: a.platforms.clone(),
        wheres: a.wheres.clone(),
    };
    let output = req.destination()?;
    let (path, targets) = one_layout_targets(&a.references)?.expect("clap requires one reference");
    let layout = ctx.open(&path)?;
    let (mut opts, warnings) = req.options(&output)?;
    for w in &warnings {
        output::warning(w);
    }
    opts.referrers = a.referrers.carry();
    opts.convert = a.convert.fixed_request("export")?;
    if a.dry_run {
        let plan = export_plan(&layout, &targets, &opts)?;
        if ctx.json {
            output::json(&plan);
        } else {
            print_export_plan(&plan);
        }
        return Ok(0);
    }
    let to_stdout = output.as_os_str() == "-";
    let report = if to_stdout {
        let stdout = std::io::stdout();
        let (report, mut w) = export(
            &layout,
            &targets,
            &opts,
            std::io::BufWriter::new(stdout),
            &std::env::temp_dir(),
        )?;
        w.flush()
            .map_err(|e| Error::new(Kind::Io, format!("writing stdout: {e}")))?;
        report
    } else {
        export_to_file(&layout, &targets, &opts, &output)?
    };
    if ctx.json {
        if to_stdout {
            output::json_stderr(&report);
        } else {
            output::json(&report);
        }
    } else {
        print_export_report(&report, &output, to_stdout);
    }
    Ok(0)
}

/// `export --dry-run`: the refs (stdout), the referrers and the note (stderr).
fn print_export_plan(plan: &ExportPlan) {
    for r in &plan.refs {
        outln!(
            "{} {}{}",
            r.digest,
            r.ref_name.as_deref().unwrap_or("-"),
            if r.rewritten {
                " (platform subset)"
            } else {
                ""
            }
        );
    }
    print_referrers(&plan.referrers, &plan.referrer_warnings, true);
    not_carried_note(plan.referrers_not_carried);
    errln!("dry run: no archive written");
}

/// The archive written and its refs: on stdout, or on stderr when the archive went to
/// stdout; the referrers and conversions on stderr.
fn print_export_report(report: &ExportReport, output: &Path, to_stdout: bool) {
    print_referrers(&report.referrers, &report.referrer_warnings, false);
    not_carried_note(report.referrers_not_carried);
    let mut lines = Vec::new();
    lines.push(format!(
        "{} {} ({}, {} blobs, {})",
        report.digest,
        output.display(),
        report.compression,
        report.blobs,
        output::human_size(report.size as i64)
    ));
    for r in &report.refs {
        lines.push(format!(
            "  {} {}{}",
            r.digest,
            r.ref_name.as_deref().unwrap_or("-"),
            if report.converted.iter().any(|p| p.to == r.digest) {
                " (converted)"
            } else if r.rewritten {
                " (platform subset)"
            } else {
                ""
            }
        ));
    }
    super::registry::print_converted(&report.converted, &report.dropped);
    for l in lines {
        if to_stdout {
            errln!("{l}");
        } else {
            outln!("{l}");
        }
    }
}

/// A docker-archive carries no referrers: say how many stay behind.
fn not_carried_note(n: Option<u64>) {
    match n {
        Some(n) if n > 0 => errln!(
            "note: {n} referrer(s) not carried: a docker-archive has no place for them (docker load ignores them); export an oci-archive to keep them"
        ),
        _ => {}
    }
}
