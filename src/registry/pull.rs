//! `pull`: the store copy from a registry into a layout ([`stores::run`]), after the
//! selector's subset and a conversion, then the ref.

use super::Registry;
use crate::copy::stores::{self, CarryOptions, CarrySummary, NamePlan, RunOptions};
use crate::error::Result;
use crate::layout::Layout;
use crate::select::Selector;
use crate::store::{Overlay, StoreRef};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub jobs: usize,
    /// `--platform` / `--where`: pull only the entries this selector picks.
    pub selector: Selector,
    /// Conversion (after the subset) and referrers.
    pub carry: CarryOptions,
}

/// The `--json` summary of a pull.
#[derive(Debug, Clone, Serialize)]
pub struct PullSummary {
    pub source: String,
    pub layout: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Blobs downloaded and blobs the layout already had.
    pub downloaded: u64,
    pub skipped: u64,
    pub bytes: u64,
    pub manifests: u64,
    pub retries: u64,
    pub seconds: f64,
    /// `created`, `moved` or `unchanged`.
    pub action: &'static str,
    /// `converted`, `dropped`, `referrers`.
    #[serde(flatten)]
    pub carried: CarrySummary,
    /// Listed in the source as referrers but none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

/// Pull `registry`'s `reference` (tag or digest) into `layout` as `ref_name`: the copy
/// ([`stores::run`]) from the registry to the layout, then the ref.
pub fn pull(
    registry: &Registry,
    layout: &Layout,
    ref_name: &str,
    opts: &PullOptions,
) -> Result<PullSummary> {
    let start = Instant::now();
    crate::reference::validate_ref_name(ref_name)?;
    let r = &registry.reference;
    let wanted = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".to_string(),
    };
    registry.client.ping()?;
    let (mut root, _) = registry.get_manifest(&wanted)?;
    let mut source = Overlay::new(registry);
    if opts.selector.has_filters() {
        let named = crate::select::registry_ref(r);
        root = stores::subset_selected(&mut source, registry, &named, &root, &opts.selector)?;
    }
    let (converted, dropped) = match opts.carry.manifest_format {
        Some(to) => {
            let c = crate::convert::convert_into(&mut source, &root, to, &opts.carry.allow_lossy)?;
            root = c.root;
            (c.pairs, c.dropped)
        }
        None => Default::default(),
    };
    let out = stores::run(
        &source,
        std::slice::from_ref(&root),
        &[NamePlan::new(ref_name, &root)],
        StoreRef::Layout(layout),
        &RunOptions {
            jobs: opts.jobs.max(1),
            force_recursive: false,
            referrers: opts.carry.referrers.clone(),
        },
    )?;
    let report = out.report;
    Ok(PullSummary {
        source: r.to_string(),
        layout: layout.root().display().to_string(),
        ref_name: ref_name.to_string(),
        digest: root.digest.clone(),
        media_type: root.media_type.clone(),
        downloaded: report.copied + report.linked,
        skipped: report.skipped,
        bytes: report.bytes,
        manifests: report.manifests,
        retries: registry
            .client
            .retried
            .load(std::sync::atomic::Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
        action: out.names.first().map(|n| n.action).unwrap_or("unchanged"),
        carried: CarrySummary {
            converted,
            dropped,
            referrers: out.referrers,
        },
        referrer_warnings: out.referrer_warnings,
    })
}
