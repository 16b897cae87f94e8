//! `oix publish`: one per-arch pipeline's step (the library's `publish` module does it).

use super::output::{self, errln, outln};
use super::registry::TransportArgs;
use super::Ctx;
use crate::authoring::merge::Policy;
use crate::error::{Error, Result};
use crate::platform::PlatformSpec;
use crate::publish::{self, ArchTag, PublishOptions};
use crate::reference::LayoutRef;
use crate::text::escape;
use clap::Args;
use std::time::Duration;

pub const PUBLISH_HELP: &str = "\
How TAG converges when several pipelines publish at once (docs/publish.md):
the per-arch tags are the source of truth. Each publisher pushes its image and sets
its per-arch tag first, then computes TAG from every per-arch tag that exists for
it (and, by the policy, from what TAG holds now), writes it, and reads both again.
When TAG is no longer what the per-arch tags say (another publisher wrote an older
view after us), it waits a jittered backoff and repeats, at most --max-retries
times; each retry is reported on stderr. Publishers that see the same per-arch
tags write byte-identical indexes. Assumes the destination reads its own writes
(one registry instance, or a layout); not through eventually consistent mirrors.

Policies (as in `oix merge`, the per-arch tags being the sources):
  union         TAG's entries plus the per-arch entries (these win per platform)
  replace       exactly the per-arch entries
  keep-missing  the per-arch entries, plus TAG's entries for platforms without a
                per-arch tag, marked dev.oix.merge.carried-from
  require-all   refuses (exit 5, TAG untouched) when a platform TAG has or --expect
                names has no per-arch tag; use {build} to scope per-arch tags to
                one build, so that an arch that failed to build is missing

Exit 1 when TAG did not settle within --max-retries (run again: publish is
idempotent).";

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// This pipeline's image: LAYOUT:REF or LAYOUT@DIGEST (one image, not an index).
    pub source: String,
    /// The release: docker://HOST[:PORT]/REPO:TAG, or a layout LAYOUT:TAG (oci:PATH:TAG).
    pub destination: String,
    /// The per-arch tag: {tag}, {arch}, {variant}, {os} and {build} are replaced, e.g.
    /// '{tag}-{arch}' or '{tag}-{build}-{arch}{variant}'; must contain {arch}.
    #[arg(long, value_name = "TEMPLATE")]
    pub arch_tag: String,
    /// The build (compose) id for {build}: per-arch tags of other builds are not read.
    #[arg(long, value_name = "ID")]
    pub build: Option<String>,
    /// How TAG is computed from the per-arch tags and what TAG holds now.
    #[arg(long, value_enum, default_value = "union")]
    pub policy: Policy,
    /// Platforms TAG must list (OS/ARCH[/VARIANT], repeatable or comma-separated);
    /// refused with exit 5 otherwise, TAG untouched.
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub expect: Vec<String>,
    /// Writes of TAG after the first, when a re-read shows another publisher wrote.
    #[arg(long, value_name = "N", default_value = "10")]
    pub max_retries: u32,
    /// Print the per-arch tag and the index TAG would get; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
}

pub fn publish(ctx: &Ctx, a: PublishArgs) -> Result<i32> {
    let src = LayoutRef::parse(&a.source)?;
    let layout = ctx.open(&src.path)?;
    let image = crate::resolve::resolve_one(&layout, &src)?.descriptor;
    let connect = crate::store::Connect {
        lock_timeout: Some(ctx.lock_timeout),
        ..a.transport.connect()?
    };
    let (dest, tag) = publish::open_destination(&a.destination, &connect)?;
    let expect = a
        .expect
        .iter()
        .map(|p| PlatformSpec::parse(p))
        .collect::<Result<Vec<_>>>()?;
    if a.max_retries > 1000 {
        return Err(Error::usage("--max-retries must be at most 1000"));
    }
    let backoff = std::env::var("OIX_PUBLISH_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_millis(100));
    let opts = PublishOptions {
        arch_tag: ArchTag::new(&a.arch_tag, &tag, a.build.as_deref())?,
        tag,
        policy: a.policy,
        expect,
        max_retries: a.max_retries,
        backoff,
        jobs: a.transport.jobs,
        dry_run: a.dry_run,
    };
    let json = ctx.json;
    let mut on_retry = |r: &publish::Retry| {
        if json {
            output::json_stderr(&serde_json::json!({ "retry": r }));
        } else {
            errln!(
                "retry {}/{}: {} names {}, the per-arch tags say {}; writing again in {} ms",
                r.retry,
                r.max_retries,
                escape(&opts.tag),
                r.found.as_deref().unwrap_or("nothing"),
                r.wanted,
                r.delay_ms
            );
        }
    };
    let report = publish::publish(&layout, &image, dest.as_ref(), &opts, &mut on_retry)?;
    if json {
        output::json(&report);
    } else {
        print_report(&report);
    }
    Ok(0)
}

fn print_report(report: &publish::PublishReport) {
    let dest_name = escape(&report.destination);
    outln!(
        "{} {}:{} ({})",
        report.image,
        dest_name,
        escape(&report.arch_tag),
        escape(&report.platform)
    );
    let what = match (report.dry_run, report.changed, report.previous.as_deref()) {
        (true, _, Some(p)) if p == report.digest => "unchanged",
        (true, ..) => "would be written",
        (false, true, _) => "written",
        (false, false, _) => "unchanged",
    };
    outln!(
        "{} {}:{} {what}",
        report.digest,
        dest_name,
        escape(&report.tag)
    );
    for e in &report.entries {
        let platform = e.platform.as_deref().unwrap_or("-");
        match (&e.arch_tag, &e.carried_from) {
            (Some(t), _) => outln!(
                "  {} {} {} {}",
                escape(platform),
                e.digest,
                e.from,
                escape(t)
            ),
            (None, Some(c)) => outln!(
                "  {} {} {} from {}",
                escape(platform),
                e.digest,
                e.from,
                escape(c)
            ),
            (None, None) => outln!("  {} {} {}", escape(platform), e.digest, e.from),
        }
    }
    for t in &report.ignored {
        errln!(
            "warning: {} looks like a per-arch tag but its image does not expand to it; not used",
            escape(t)
        );
    }
}
