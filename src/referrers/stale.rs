//! Which index.json entries only hold referrers of subjects the layout no longer has
//! (`gc` drops them, fsck warns), and which names hold referrers at all.

use super::{
    cosign_subject, fallback_tag, is_referrers_index, looks_like_fallback_tag, read_info,
    scan_index, Found, Info,
};
use crate::digest::Digest;
use crate::error::Result;
use crate::layout::Layout;
use crate::model::{Descriptor, Index};
use std::collections::HashSet;

/// What a referrer-holding index.json entry hangs on.
enum Hangs {
    /// A referrers index: live when a reachable digest has this fallback tag.
    Tag(String),
    /// A cosign tag or an untagged entry with a subject: live when this digest is.
    Digest(String),
}

/// The positions of index.json entries that only hold referrers of subjects the layout
/// no longer has: referrers indexes (`<alg>-<hex>` tags), cosign tags and untagged
/// entries with a subject, whose subject nothing else in the layout reaches (through
/// tagged entries, other live referrers and unlisted referrer blobs, repeated until
/// nothing changes: a referrer of a referrer counts; a cycle of referrers reaching only
/// each other is stale). `gc` drops them; fsck warns about them (`orphan-referrer`).
pub fn stale_entries(layout: &Layout, index: &Index, stored: &[(Digest, u64)]) -> Vec<usize> {
    stale_entries_and_reach(layout, index, stored).0
}

/// [`stale_entries`], with the reachable set of the entries that are not stale when it
/// had to compute it (the set `gc` keeps: callers need not walk the graph again).
pub fn stale_entries_and_reach(
    layout: &Layout,
    index: &Index,
    stored: &[(Digest, u64)],
) -> (Vec<usize>, Option<crate::reach::Reach>) {
    let mut holders: Vec<(usize, Hangs)> = Vec::new();
    let mut roots: Vec<Descriptor> = Vec::new();
    for (i, e) in index.manifests.iter().enumerate() {
        let name = e.ref_name();
        let hangs = if let Some((d, _)) = name.filter(|_| e.is_manifest()).and_then(cosign_subject)
        {
            Some(Hangs::Digest(d.to_string()))
        } else if let Some(tag) = name.filter(|n| {
            e.is_index() && looks_like_fallback_tag(n) && is_referrers_index(layout, e, n)
        }) {
            Some(Hangs::Tag(tag.to_string()))
        } else if name.is_none() && (e.is_manifest() || e.is_index()) {
            match read_info(layout, e) {
                Ok(Some(Info {
                    subject: Some(s), ..
                })) => Some(Hangs::Digest(s)),
                _ => None,
            }
        } else {
            None
        };
        match hangs {
            Some(h) => holders.push((i, h)),
            None => roots.push(e.clone()),
        }
    }
    if holders.is_empty() {
        return (Vec::new(), None);
    }
    let reach = loop {
        let reach = crate::reach::reachable(layout, &roots, stored);
        let digests: HashSet<String> = reach
            .walk
            .nodes
            .iter()
            .map(|n| n.descriptor.digest.clone())
            .collect();
        let tags: HashSet<String> = digests
            .iter()
            .filter_map(|d| Digest::parse(d).ok())
            .map(|d| fallback_tag(&d))
            .collect();
        let (live, rest): (Vec<_>, Vec<_>) = holders.into_iter().partition(|(_, h)| match h {
            Hangs::Tag(t) => tags.contains(t),
            Hangs::Digest(d) => digests.contains(d),
        });
        holders = rest;
        if live.is_empty() {
            break reach;
        }
        roots.extend(live.iter().map(|(i, _)| index.manifests[*i].clone()));
    };
    let mut stale: Vec<usize> = holders.into_iter().map(|(i, _)| i).collect();
    stale.sort_unstable();
    (stale, Some(reach))
}

/// The names of `index`'s entries that hold referrers (referrers indexes under a
/// fallback tag, cosign tags): a whole-layout export or `import --all` leaves them out
/// of the entries it takes, and lists the referrers it carries under them anew.
pub fn holder_names(layout: &Layout, index: &Index) -> Result<HashSet<String>> {
    let s = scan_index(layout, index, false)?;
    Ok(s.all()
        .filter(|r| matches!(r.found, Found::FallbackTag | Found::CosignTag))
        .filter_map(|r| r.tag.clone())
        .collect())
}
