//! The platforms of a release, compared exactly (an expected platform is there or not).

use crate::layout::Layout;
use crate::model::Descriptor;
use crate::platform::{entry_platform, Fallbacks, MatchMode, PlatformSpec};

pub(super) fn contains(have: &[PlatformSpec], want: &PlatformSpec) -> bool {
    have.iter().any(|h| {
        want.check(h, MatchMode::Exact, Fallbacks::default())
            .is_some()
    })
}

/// The platforms of an image (one) or of an index's runnable entries.
pub fn platforms_of(layout: &Layout, d: &Descriptor) -> Vec<PlatformSpec> {
    if d.is_manifest() {
        return entry_platform(layout, d)
            .map(|p| vec![p.spec()])
            .unwrap_or_default();
    }
    let Ok(entries) = crate::graph::entries_of(layout, d) else {
        return Vec::new();
    };
    let mut out: Vec<PlatformSpec> = Vec::new();
    for c in entries.iter().filter(|c| !c.is_attestation()) {
        if let Some(p) = entry_platform(layout, c) {
            let s = p.spec();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}
