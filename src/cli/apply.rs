//! apply, plan check.

use super::output::{errln, outln};
use super::{output, Ctx};
use crate::apply::{self, ImageOutcome, ImageReport, Report, Step};
use crate::error::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

pub const APPLY_HELP: &str = "\
The plan (YAML, documented in docs/plan.md, schema in docs/plan.schema.json) maps each
image's source (a build tag in the working layout, another layout, docker://…, or
several per-arch sources to assemble) to release tags NAME:TAG, with annotations and
src_ref provenance, and lists destinations to push to.

apply first computes and prints the plan, one line per step:
  + create or push a tag      ~ move a tag (needs --force or force: true)
  = already matches, skipped  ! refused
then carries it out: content first, all layout tags in one transaction (each image
all or nothing), then pushes. Running it again changes nothing.

Exit status: 0 nothing to do or all done, 1 an image failed, 5 an image was refused
(a policy or a tag conflict; the other images still ran), 6 with --detailed-exitcode
when changes were (or, with --dry-run, would be) made.";

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Print the plan and stop; nothing is written or pushed.
    #[arg(long)]
    pub dry_run: bool,
    /// Only the images with this name (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Leave out the images with this name (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Move tags that exist with other content, in the layout and at destinations.
    #[arg(long)]
    pub force: bool,
    /// Stop at the first refused or failed image (a refusal found while planning stops
    /// the run before anything is written).
    #[arg(long)]
    pub fail_fast: bool,
    /// Carry out the layout steps only; destinations are not contacted.
    #[arg(long)]
    pub no_push: bool,
    /// Exit 6 when changes were (or, with --dry-run, would be) made.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Give up on a registry connection after SECONDS without progress (connecting,
    /// answers, bodies, credential helpers); overrides the plan destinations' `timeout`
    /// (default 30 s to connect, 60 s otherwise). A push that timed out fails its image
    /// (exit 1).
    #[arg(long, value_name = "SECONDS", value_parser = super::registry::parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    #[command(flatten)]
    pub tls: super::registry::TlsArgs,
    /// Referrers of the images apply pulls, takes from other layouts and pushes.
    #[command(flatten)]
    pub referrers: super::registry::ReferrerArgs,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Validate a plan file: schema, names and tags, platforms, templates, URLs, the
    /// ca_cert/authfile files; and, for each source layout that exists, that its sources
    /// resolve to one image or index (layouts that do not exist yet are listed, not
    /// errors). Registries are not contacted; nothing is written.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plan file.
    pub plan: PathBuf,
}

fn mark(s: &Step) -> &'static str {
    match s.action {
        _ if s.conflict => "!",
        "unchanged" => "=",
        "move" => "~",
        _ => "+",
    }
}

fn short(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

fn step_line(s: &Step) -> String {
    let what = match (s.kind, s.action) {
        ("pull", _) => format!(
            "pull    {} ({})",
            s.target,
            s.digest.as_deref().unwrap_or("?")
        ),
        ("write", _) => format!(
            "write   {} {}{}",
            s.target,
            s.digest.as_deref().unwrap_or("?"),
            s.previous
                .as_deref()
                .map(|p| format!(" (from {p})"))
                .unwrap_or_default()
        ),
        (k, "move") => format!(
            "{k:<7} {} {} -> {}{}",
            s.target,
            short(s.previous.as_deref().unwrap_or("?")),
            short(s.digest.as_deref().unwrap_or("?")),
            if s.conflict {
                " (conflict: needs --force)"
            } else {
                ""
            }
        ),
        (k, "unchanged") => format!(
            "{k:<7} {} (already {})",
            s.target,
            short(s.digest.as_deref().unwrap_or("?"))
        ),
        (k, _) => format!(
            "{k:<7} {} {}",
            s.target,
            short(s.digest.as_deref().unwrap_or("?"))
        ),
    };
    format!("  {} {what}", mark(s))
}

fn print_plan(images: &[&ImageReport], plan: &str, dry_run: bool) {
    outln!(
        "plan {plan}: {} image(s){}",
        images.len(),
        if dry_run { " (dry run)" } else { "" }
    );
    for i in images {
        let doc = match (i.document, &i.from) {
            (Some("annotated"), Some(f)) => format!(", annotated from {}", short(f)),
            (Some(d), _) => format!(", {d}"),
            _ => String::new(),
        };
        let plats = if i.platforms.is_empty() {
            String::new()
        } else {
            format!(" [{}]", i.platforms.join(", "))
        };
        outln!(
            "{} {}{doc}{plats} <- {}",
            i.digest.as_deref().unwrap_or("-"),
            i.name,
            i.sources.join(" + ")
        );
        for a in &i.absent {
            outln!("  - absent  {a}");
        }
        for s in &i.steps {
            outln!("{}", step_line(s));
        }
        if let Some(e) = &i.error {
            outln!(
                "  ! {}: {}",
                if i.outcome == ImageOutcome::Refused {
                    "refused"
                } else {
                    "failed"
                },
                e.message
            );
        }
    }
}

fn outcome_word(o: ImageOutcome) -> &'static str {
    match o {
        ImageOutcome::Unchanged => "unchanged",
        ImageOutcome::Changed => "changed",
        ImageOutcome::WouldChange => "would change",
        ImageOutcome::Refused => "refused",
        ImageOutcome::Failed => "failed",
        ImageOutcome::Skipped => "skipped",
    }
}

fn print_summary(r: &Report) {
    outln!("outcome:");
    for i in &r.images {
        let mut line = format!(
            "{} {} {}",
            i.digest.as_deref().unwrap_or("-"),
            i.name,
            outcome_word(i.outcome)
        );
        if let Some(e) = &i.error {
            line.push_str(&format!(": {}", e.message));
        }
        outln!("{line}");
        for c in &i.referrers {
            outln!(
                "  would carry referrer {} of {} ({}, listed as {})",
                c.descriptor.digest,
                c.subject,
                crate::text::escape(c.descriptor.artifact_type.as_deref().unwrap_or("-")),
                crate::text::escape(&c.tag)
            );
        }
        for w in &i.referrer_warnings {
            outln!("  warning: {}", crate::text::escape(&w.message));
        }
        for s in &i.steps {
            if let Some(p) = &s.summary {
                outln!(
                    "  pushed {}: {} blob(s) uploaded ({}), {} skipped",
                    s.target,
                    p.uploaded,
                    output::human_size(p.bytes as i64),
                    p.skipped
                );
            }
        }
    }
    let s = &r.summary;
    if s.changed + s.would_change + s.refused + s.failed == 0 {
        outln!("nothing to do: {} image(s) already match", s.unchanged);
    } else {
        outln!(
            "{} changed, {} would change, {} unchanged, {} refused, {} failed, {} skipped",
            s.changed,
            s.would_change,
            s.unchanged,
            s.refused,
            s.failed,
            s.skipped
        );
    }
}

pub fn apply(ctx: &Ctx, a: ApplyArgs) -> Result<i32> {
    let plan = apply::load(&a.plan)?;
    let opts = apply::Options {
        dry_run: a.dry_run,
        only: a.only,
        skip: a.skip,
        force: a.force,
        fail_fast: a.fail_fast,
        no_push: a.no_push,
        lock_timeout: ctx.lock_timeout,
        jobs: 4,
        timeout: a.timeout,
        tls: a.tls.files(),
        referrers: a.referrers.given().then(|| a.referrers.carry()),
    };
    let run = apply::Run::prepare(&plan, &opts)?;
    if !ctx.json {
        print_plan(&run.planned(), &plan.path.display().to_string(), a.dry_run);
    }
    let report = run.carry_out();
    if ctx.json {
        output::json(&report);
    } else {
        print_summary(&report);
    }
    // Errors go to stderr in both modes, like every command's.
    for i in &report.images {
        if let Some(e) = &i.error {
            errln!("error: image {}: {}", i.name, e.message);
            if let Some(h) = &e.hint {
                errln!("hint: {h}");
            }
        }
    }
    Ok(report.exit_code(a.detailed_exitcode))
}

pub fn plan(ctx: &Ctx, c: PlanCommand) -> Result<i32> {
    match c {
        PlanCommand::Check(a) => {
            let r = apply::check(&a.plan)?;
            if ctx.json {
                output::json(&r);
            } else if r.ok {
                outln!(
                    "{}: ok: {} image(s), {} release tag(s), {} destination(s)",
                    r.plan,
                    r.images,
                    r.tags,
                    r.destinations
                );
                outln!("  layout sources resolved: {}", r.sources_checked);
                for l in &r.layouts_absent {
                    outln!(
                        "  layout {} does not exist: its sources are checked when it does",
                        l
                    );
                }
            }
            for p in &r.problems {
                errln!("error: {p}");
            }
            if let Some(h) = r.problems.iter().find_map(|p| p.hint.as_ref()) {
                errln!("hint: {h}");
            }
            Ok(if r.ok { 0 } else { 1 })
        }
    }
}
