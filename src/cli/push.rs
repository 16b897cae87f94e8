//! `oix push`: parse, call [`crate::registry::push`] (or hand off to skopeo), print.

use super::output::{self, errln, outln};
use super::registry::{
    add_compression, parse_size, print_converted, print_steps, referrers_note, Bars, ConvertArgs,
    ReferrerArgs, TransportArgs, Via,
};
use super::Ctx;
use crate::copy::stores::CarryOptions;
use crate::error::{Error, Result};
use crate::reference::LayoutRef;
use crate::registry::push::{self, PushOptions};
use crate::registry::{skopeo, Registry, RegistryRef, TransportOptions};
use crate::store::Connect;
use crate::Layout;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST.
    pub source: String,
    /// docker://HOST[:PORT]/REPO[:TAG]; without a tag, the tag is the source's REF.
    pub destination: String,
    /// Push every ref of the layout, each to the tag of its name.
    #[arg(long)]
    pub all_refs: bool,
    /// Push only these platforms (OS/ARCH[/VARIANT], repeatable or comma-separated):
    /// the index is rewritten to the matching entries, never pushed sparse.
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Push only the entries whose descriptor satisfies EXPR (key=value, key!=value,
    /// key~=REGEX, key, !key; repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    /// Also tag each child manifest: {tag}, {arch}, {variant}, {os} are replaced,
    /// e.g. '{tag}-{arch}' or '{tag}_{arch}{variant}'.
    #[arg(long, value_name = "TEMPLATE")]
    pub arch_tags: Option<String>,
    /// Mount blobs from this repository of the same registry instead of uploading them (repeatable).
    #[arg(long, value_name = "REPO")]
    pub mount_from: Vec<String>,
    /// Size of one PATCH of a chunked upload; smaller blobs go up in one request
    /// (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub chunk_size: Option<u64>,
    /// Print what would be uploaded, skipped and tagged; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check every blob and manifest even when the registry already holds the image or
    /// index by digest (normally its graph is then known to be complete).
    #[arg(long)]
    pub force_recursive: bool,
    /// Who does the work: the built-in client or skopeo.
    #[arg(long, value_enum, default_value = "builtin")]
    pub via: Via,
    /// Keep each gzip entry of the index and add a zstd twin per platform, marked
    /// io.github.containers.compression.zstd (podman's --add-compression; see
    /// `oix recompress`). Only zstd.
    #[arg(long, value_name = "zstd")]
    pub add_compression: Option<String>,
    #[command(flatten)]
    pub convert: ConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
}

pub fn push(ctx: &Ctx, a: PushArgs) -> Result<i32> {
    let src = LayoutRef::parse(&a.source)?;
    let dest = RegistryRef::parse(&a.destination)?;
    let layout = ctx.open(&src.path)?;
    let connect = Connect {
        mount_from: a.mount_from.clone(),
        chunk_size: a.chunk_size,
        progress: if a.dry_run {
            None
        } else {
            Bars::on_terminal("pushing")
        },
        ..a.transport.connect()?
    };
    let transport = connect.transport()?;
    let (manifest_format, allow_lossy) = a.convert.request()?;
    if manifest_format.is_some() && a.via == Via::Skopeo {
        return Err(Error::usage(
            "--via skopeo pushes the layout's documents as stored: it takes no --manifest-format",
        ));
    }
    let opts = PushOptions {
        jobs: a.transport.jobs,
        force_recursive: a.force_recursive,
        selector: crate::select::args::subset_selector(&a.platform, &a.wheres)?,
        arch_tags: a.arch_tags.clone(),
        all_refs: a.all_refs,
        carry: CarryOptions {
            manifest_format,
            allow_lossy,
            referrers: a.referrers.carry(),
        },
        add_compression: add_compression(&a.add_compression)?,
    };
    if opts.add_compression.is_some() && a.via == Via::Skopeo {
        return Err(Error::usage(
            "--add-compression needs the built-in client (--via builtin)",
        ));
    }
    let plan = push::plan_push(&layout, &src, &dest, &opts)?;
    if a.via == Via::Skopeo {
        return push_via_skopeo(ctx, &a, &layout, &src, &dest, &plan, &transport);
    }
    let registry = Registry::new(&dest, &connect.registry(true)?)?;
    if a.dry_run {
        let steps = push::dry_run(&plan, &registry, a.transport.jobs, &opts.carry.referrers)?;
        if ctx.json {
            let mut v = serde_json::json!({"dry_run": true, "destination": dest.repository(), "steps": steps});
            if !plan.converted.is_empty() {
                v["converted"] = serde_json::json!(plan.converted);
            }
            output::json(&v);
        } else {
            print_converted(&plan.converted, &plan.dropped);
            print_steps(&steps, &|t| dest.with_tag(t).to_string());
        }
        return Ok(0);
    }
    let summary = push::push(&plan, &registry, &opts)?;
    print_pushed(ctx, &summary, &dest, &plan, &layout);
    Ok(0)
}

fn push_via_skopeo(
    ctx: &Ctx,
    a: &PushArgs,
    layout: &Layout,
    src: &LayoutRef,
    dest: &RegistryRef,
    plan: &push::PushPlan,
    transport: &TransportOptions,
) -> Result<i32> {
    if !a.platform.is_empty() || !a.mount_from.is_empty() || a.chunk_size.is_some() {
        return Err(Error::usage(
            "--via skopeo takes no --platform, --mount-from or --chunk-size (skopeo pushes the layout's index as it is)",
        ));
    }
    if a.transport.connect.timeout.is_some() {
        return Err(Error::usage(
            "--via skopeo takes no --timeout: skopeo applies its own network timeouts",
        ));
    }
    let pairs = skopeo::ref_pairs(layout, src, dest, plan, a.all_refs)?;
    let start = std::time::Instant::now();
    // TLS: the --ca-cert and certs.d CA files and the client pair, copied into one
    // private directory for --dest-cert-dir (skopeo then looks nowhere else).
    let tls = transport.host_tls(&dest.host)?;
    let needs_dir = !tls.ca_files.is_empty() || tls.client.is_some();
    let cert_dir = if a.dry_run || !needs_dir {
        None
    } else {
        skopeo::make_cert_dir(&tls)?
    };
    let shown_dir = PathBuf::from("<temp dir with the CA and client certificate files>");
    let dir_path = match (&cert_dir, needs_dir) {
        (Some(d), _) => Some(d.path()),
        (None, true) => Some(shown_dir.as_path()),
        (None, false) => None,
    };
    // --creds reach skopeo in a private temp auth file, never in its arguments.
    let mut transport = transport.clone();
    let _auth_dir = match (&transport.credentials, a.dry_run) {
        (Some(f), false) => {
            let (d, p) = crate::registry::auth::temp_auth_file(&dest.host, &f.credentials)?;
            transport.authfile = Some(p);
            Some(d)
        }
        (Some(_), true) => {
            transport.authfile = Some(PathBuf::from(
                "<temp auth file with the --creds credentials>",
            ));
            None
        }
        (None, _) => None,
    };
    let transport = &transport;
    let cmds = skopeo::commands(layout.root(), &pairs, plan, dest, transport, dir_path);
    if a.dry_run {
        if ctx.json {
            output::json(&serde_json::json!({"dry_run": true, "via": "skopeo", "commands": cmds}));
        } else {
            for c in &cmds {
                outln!("{}", skopeo::shell_line(c));
            }
        }
        return Ok(0);
    }
    skopeo::run(&cmds)?;
    if ctx.json {
        output::json(&serde_json::json!({
            "via": "skopeo",
            "destination": dest.repository(),
            "commands": cmds,
            "tags": plan.tags.iter().map(|t| serde_json::json!({"tag": t.tag, "digest": t.digest})).collect::<Vec<_>>(),
            "seconds": start.elapsed().as_secs_f64(),
        }));
    } else {
        for t in &plan.tags {
            outln!("{} {}", t.digest, dest.with_tag(&t.tag));
        }
    }
    Ok(0)
}

/// Print what a push did.
fn print_pushed(
    ctx: &Ctx,
    summary: &push::PushSummary,
    dest: &RegistryRef,
    plan: &push::PushPlan,
    layout: &Layout,
) {
    if ctx.json {
        output::json(&summary);
    } else {
        if let Some(r) = &summary.retried {
            errln!("{r}");
        }
        print_converted(&summary.carried.converted, &summary.carried.dropped);
        for t in &summary.tags {
            outln!("{} {}", t.digest, dest.with_tag(&t.tag));
        }
        if summary.tags.is_empty() {
            for d in &summary.digests {
                outln!("{d} {}@{d}", dest.repository());
            }
        }
        for w in &summary.referrer_warnings {
            errln!("warning: {}", w.message);
        }
        let nothing_sent = summary.uploaded == 0 && summary.mounted == 0 && summary.manifests == 0;
        if nothing_sent && summary.roots_present as usize == plan.roots.len() {
            // The registry had every root by digest, so their graphs were not walked
            // remotely: count what they hold here, not "skipped 0".
            let n = crate::graph::walk(layout, &plan.roots).digests().len();
            errln!(
                "all {n} blobs already present (the registry has every manifest by digest), {:.1}s",
                summary.seconds
            );
        } else {
            errln!(
                "uploaded {} blobs ({}), {} already present, mounted {}, {} manifests{}, {:.1}s",
                summary.uploaded,
                output::human_size(summary.bytes as i64),
                summary.skipped,
                summary.mounted,
                summary.manifests,
                referrers_note(summary.carried.referrers.len()),
                summary.seconds
            );
        }
    }
}
