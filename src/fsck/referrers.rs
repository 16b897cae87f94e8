//! Referrers: unlisted ones that are incomplete, and the ones index.json lists.

use super::{Ctx, Level};
use crate::digest::Digest;
use crate::layout::Layout;
use crate::model;
use crate::reach::Reach;

/// Referrers of reachable subjects that gc does not keep because they are incomplete
/// (`incomplete-referrer`, a warning: gc removes them).
pub(super) fn report_incomplete(reach: &Reach, cx: &mut Ctx) {
    for (d, why) in reach
        .rejected
        .iter()
        .filter(|(_, w)| w.starts_with("incomplete"))
    {
        cx.add(
            Level::Warning,
            "incomplete-referrer",
            Some(&d.to_string()),
            None,
            format!(
                "blob {d} names a reachable subject but is not kept ({why}); `oix gc` removes it"
            ),
        );
    }
}

/// How the layout lists referrers (crate::referrers): a listing that names a manifest
/// which is not a referrer of the tag's subject (`not-a-referrer`, `unreadable-referrer`),
/// and index.json entries holding referrers of a subject the layout no longer has
/// (`orphan-referrer`; `oix gc` removes them, so after gc fsck has none). Warnings: the
/// content is not damaged.
pub(super) fn check_listed(
    layout: &Layout,
    roots: &[model::Descriptor],
    stored: &[(Digest, u64)],
    cx: &mut Ctx,
) {
    let index = model::Index {
        manifests: roots.to_vec(),
        ..Default::default()
    };
    if let Ok(scan) = crate::referrers::scan_index(layout, &index, false) {
        for w in &scan.warnings {
            cx.add(
                Level::Warning,
                w.code,
                w.digest.as_deref(),
                None,
                w.message.clone(),
            );
        }
    }
    for i in crate::referrers::stale_entries(layout, &index, stored) {
        let d = &roots[i];
        let name = d
            .ref_name()
            .map_or_else(|| "untagged".to_string(), |n| format!("ref {n}"));
        cx.add(
            Level::Warning,
            "orphan-referrer",
            Some(&d.digest),
            Some("index.json"),
            format!(
                "index.json entry {i} ({name}) holds referrers of a subject the layout no longer has; `oix gc` removes it"
            ),
        );
    }
}
