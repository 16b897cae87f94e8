//! `oix pull`: parse, call [`crate::registry::pull`], print.

use super::output::{self, errln, outln};
use super::registry::{
    print_converted, referrers_note, Bars, FixedConvertArgs, ReferrerArgs, TransportArgs,
};
use super::Ctx;
use crate::copy::stores::CarryOptions;
use crate::error::Result;
use crate::reference::LayoutRef;
use crate::registry::pull::{self, PullOptions};
use crate::registry::{Registry, RegistryRef};
use crate::store::Connect;
use crate::Layout;
use clap::Args;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// docker://HOST[:PORT]/REPO[:TAG|@DIGEST].
    pub source: String,
    /// LAYOUT:REF to store it as (the layout is created if needed); REF defaults to the
    /// tag, and to `latest` when the source names neither a tag nor a digest.
    pub destination: String,
    /// Pull only these platforms of an index (OS/ARCH[/VARIANT], repeatable or comma-separated).
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Pull only the entries whose descriptor satisfies EXPR (repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    #[command(flatten)]
    pub convert: FixedConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
}

pub fn pull(ctx: &Ctx, a: PullArgs) -> Result<i32> {
    let src = RegistryRef::parse(&a.source)?;
    let dst = LayoutRef::parse(&a.destination)?;
    let ref_name = src.stored_as(&dst)?;
    let (manifest_format, allow_lossy) = match a.convert.fixed_request("pull")? {
        Some(r) => (Some(r.to), r.allow_lossy),
        None => (None, Vec::new()),
    };
    let layout = Layout::open_or_create(&dst.path)?.with_lock_timeout(ctx.lock_timeout);
    let connect = Connect {
        progress: Bars::on_terminal("pulling"),
        ..a.transport.connect()?
    };
    let registry = Registry::new(&src, &connect.registry(false)?)?;
    let summary = pull::pull(
        &registry,
        &layout,
        &ref_name,
        &PullOptions {
            jobs: a.transport.jobs,
            selector: crate::select::args::subset_selector(&a.platform, &a.wheres)?,
            carry: CarryOptions {
                manifest_format,
                allow_lossy,
                referrers: a.referrers.carry(),
            },
        },
    )?;
    if ctx.json {
        output::json(&summary);
    } else {
        print_converted(&summary.carried.converted, &summary.carried.dropped);
        outln!(
            "{} {}:{}",
            summary.digest,
            layout.root().display(),
            summary.ref_name
        );
        for w in &summary.referrer_warnings {
            errln!("warning: {}", w.message);
        }
        errln!(
            "downloaded {} blobs ({}), {} already present{}, {:.1}s",
            summary.downloaded,
            output::human_size(summary.bytes as i64),
            summary.skipped,
            referrers_note(summary.carried.referrers.len()),
            summary.seconds
        );
    }
    Ok(0)
}
