//! Resolving a [`LayoutRef`] to descriptors in a layout.
//!
//! A ref name selects top-level index.json entries (see [`crate::reference`] for the two
//! ref.name conventions). Several top-level entries with one ref.name form one candidate
//! set (implicit multi-arch). A digest selects a descriptor anywhere in the graph.

use crate::error::{Error, Result};
use crate::graph;
use crate::layout::Layout;
use crate::model::{Descriptor, Index};
use crate::reference::{match_ref_name, LayoutRef, NameMatch, Target};
use crate::text;

/// A descriptor chosen by a reference, with where it sits.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub descriptor: Descriptor,
    /// Position in index.json's `manifests`, for top-level entries.
    pub top_level: Option<usize>,
}

/// The top-level entries a target names, in index order.
pub fn candidates(layout: &Layout, index: &Index, target: &Target) -> Result<Vec<Resolved>> {
    match target {
        Target::Default => Ok(index
            .manifests
            .iter()
            .enumerate()
            .map(|(i, d)| Resolved {
                descriptor: d.clone(),
                top_level: Some(i),
            })
            .collect()),
        Target::Name(want) => {
            let hits: Vec<(usize, NameMatch)> = index
                .manifests
                .iter()
                .enumerate()
                .filter_map(|(i, d)| Some((i, match_ref_name(d.ref_name()?, want)?)))
                .collect();
            let best = hits.iter().map(|(_, m)| *m).min();
            Ok(hits
                .into_iter()
                .filter(|(_, m)| Some(*m) == best)
                .map(|(i, _)| Resolved {
                    descriptor: index.manifests[i].clone(),
                    top_level: Some(i),
                })
                .collect())
        }
        Target::Digest(d) => {
            let want = d.to_string();
            if let Some(i) = index.manifests.iter().position(|m| m.digest == want) {
                return Ok(vec![Resolved {
                    descriptor: index.manifests[i].clone(),
                    top_level: Some(i),
                }]);
            }
            let w = graph::walk(layout, &index.manifests);
            if let Some(n) = w.nodes.into_iter().find(|n| n.descriptor.digest == want) {
                return Ok(vec![Resolved {
                    descriptor: n.descriptor,
                    top_level: None,
                }]);
            }
            // Not reachable (e.g. the index a ref pointed at before an edit, until gc):
            // a stored manifest or index still resolves, typed by its own mediaType.
            Ok(stored_document(layout, d)
                .map(|descriptor| Resolved {
                    descriptor,
                    top_level: None,
                })
                .into_iter()
                .collect())
        }
    }
}

/// A descriptor for an unreferenced stored blob that is a manifest or an index.
pub fn stored_document(layout: &Layout, d: &crate::Digest) -> Option<Descriptor> {
    let meta = std::fs::symlink_metadata(layout.blob_path(d)).ok()?;
    if !meta.is_file() || meta.len() > crate::model::MAX_MANIFEST_SIZE {
        return None;
    }
    let probe = Descriptor::new("application/octet-stream", d, meta.len());
    let bytes = layout
        .read_blob(&probe, crate::model::MAX_MANIFEST_SIZE)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let media_type = match v.get("mediaType").and_then(|m| m.as_str()) {
        Some(m) => m.to_string(),
        None if v.get("manifests").is_some() => crate::model::media::OCI_INDEX.to_string(),
        None if v.get("config").is_some() => crate::model::media::OCI_MANIFEST.to_string(),
        None => return None,
    };
    let desc = Descriptor::new(&media_type, d, meta.len());
    (desc.is_index() || desc.is_manifest()).then_some(desc)
}

/// The list of ref names in index order, for error messages.
pub fn ref_names(index: &Index) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for d in &index.manifests {
        if let Some(n) = d.ref_name() {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// Resolve to exactly one descriptor, or fail: exit 3 when nothing matches, exit 4
/// when several do (listing them).
pub fn resolve_one(layout: &Layout, r: &LayoutRef) -> Result<Resolved> {
    let (index, _) = layout.read_index()?;
    resolve_in(layout, &index, r)
}

/// [`resolve_one`] against an index.json already read (callers resolving many
/// references in one layout parse it once).
pub fn resolve_in(layout: &Layout, index: &Index, r: &LayoutRef) -> Result<Resolved> {
    let mut c = candidates(layout, index, &r.target)?;
    match c.len() {
        1 => Ok(c.remove(0)),
        0 => {
            let names: Vec<String> = ref_names(index)
                .iter()
                .map(|n| text::escape(n).into_owned())
                .collect();
            let listing = if names.is_empty() {
                "the layout has no named refs".to_string()
            } else {
                format!("refs in the layout: {}", names.join(", "))
            };
            let what = match &r.target {
                Target::Default => "the layout is empty".to_string(),
                Target::Name(n) => format!("no entry named {n:?}"),
                Target::Digest(d) => format!("{d} is not in the layout's graph"),
            };
            Err(Error::no_match(format!("{r}: {what}")).with_hint(listing))
        }
        _ => {
            let list: Vec<String> = c
                .iter()
                .map(|x| {
                    // One line per candidate: layout strings escaped (crate::text).
                    text::escape(&format!(
                        "{} {} {}",
                        x.descriptor.ref_name().unwrap_or("-"),
                        x.descriptor.digest,
                        x.descriptor
                            .platform
                            .as_ref()
                            .map(|p| p.display())
                            .unwrap_or_default()
                    ))
                    .into_owned()
                })
                .collect();
            let msg = match &r.target {
                Target::Default => format!(
                    "{r}: the layout holds {} top-level entries; name one",
                    c.len()
                ),
                _ => format!("{r}: {} entries match", c.len()),
            };
            let hint = match &r.target {
                Target::Default => format!(
                    "refs in the layout: {}",
                    text::escape(&ref_names(index).join(", "))
                ),
                _ => "use LAYOUT@DIGEST to pick one, or `oix fold` to combine them".into(),
            };
            Err(Error::ambiguous(format!("{msg}:\n  {}", list.join("\n  "))).with_hint(hint))
        }
    }
}
