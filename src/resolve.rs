//! Resolving a [`LayoutRef`] to descriptors in a layout.
//!
//! A ref name selects top-level index.json entries (see [`crate::reference`] for the two
//! ref.name conventions). Several top-level entries with one ref.name form one candidate
//! set (implicit multi-arch). A digest selects a descriptor anywhere in the graph.

use crate::error::{Error, Result};
use crate::graph;
use crate::layout::Layout;
use crate::model::{Descriptor, Index};
use crate::reference::{match_ref_name, split_tag, LayoutRef, NameMatch, Target};
use crate::store::Source;
use crate::text;
use std::collections::HashMap;

/// A descriptor chosen by a reference, with where it sits.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub descriptor: Descriptor,
    /// Position in index.json's `manifests`, for top-level entries.
    pub top_level: Option<usize>,
}

/// The top-level entries a target names, in index order. `store` is searched for a
/// digest that is not a top-level entry (and, when it is a layout, its unreferenced
/// stored documents).
pub fn candidates(store: &dyn Source, index: &Index, target: &Target) -> Result<Vec<Resolved>> {
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
        Target::Name(want) => Ok(named(index, want)
            .into_iter()
            .map(|i| Resolved {
                descriptor: index.manifests[i].clone(),
                top_level: Some(i),
            })
            .collect()),
        Target::Digest(d) => {
            let want = d.to_string();
            if let Some(i) = index.manifests.iter().position(|m| m.digest == want) {
                return Ok(vec![Resolved {
                    descriptor: index.manifests[i].clone(),
                    top_level: Some(i),
                }]);
            }
            let w = graph::walk(store, &index.manifests);
            if let Some(n) = w.nodes.into_iter().find(|n| n.descriptor.digest == want) {
                return Ok(vec![Resolved {
                    descriptor: n.descriptor,
                    top_level: None,
                }]);
            }
            // Not reachable (e.g. the index a ref pointed at before an edit, until gc):
            // a stored manifest or index still resolves, typed by its own mediaType.
            Ok(store
                .as_layout()
                .and_then(|layout| stored_document(layout, d))
                .map(|descriptor| Resolved {
                    descriptor,
                    top_level: None,
                })
                .into_iter()
                .collect())
        }
    }
}

/// Positions of the entries of `index` (an index.json, a layout's or an archive's) that
/// the ref name `want` names, in order: the exact ref.name matches, else the full-name
/// matches (see [`match_ref_name`]).
pub fn named(index: &Index, want: &str) -> Vec<usize> {
    let hits: Vec<(usize, NameMatch)> = index
        .manifests
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((i, match_ref_name(d.ref_name()?, want)?)))
        .collect();
    let best = hits.iter().map(|(_, m)| *m).min();
    hits.into_iter()
        .filter(|(_, m)| Some(*m) == best)
        .map(|(i, _)| i)
        .collect()
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
pub fn resolve_in(store: &dyn Source, index: &Index, r: &LayoutRef) -> Result<Resolved> {
    let c = candidates(store, index, &r.target)?;
    choose(index, r, c)
}

/// Exactly one of the candidates `r` named in `index`, or the error [`resolve_one`] words.
fn choose(index: &Index, r: &LayoutRef, mut c: Vec<Resolved>) -> Result<Resolved> {
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

/// The top-level entries of one index.json looked up by ref name and by digest, for
/// callers resolving many references in one layout: built once in O(N), then each
/// lookup costs what it returns, where [`candidates`] scans all N entries each time.
/// Answers exactly as [`candidates`] and [`resolve_in`] do.
pub struct Names {
    index: Index,
    /// Every key a ref.name matches under (see [`match_ref_name`]): the name itself
    /// (exact) and, for full names, the tag and each `repo:tag` tail. Positions ascend.
    by_name: HashMap<String, Vec<(usize, NameMatch)>>,
    /// The first top-level position of each digest.
    by_digest: HashMap<String, usize>,
}

impl Names {
    pub fn new(index: Index) -> Names {
        let mut by_name: HashMap<String, Vec<(usize, NameMatch)>> = HashMap::new();
        let mut by_digest: HashMap<String, usize> = HashMap::new();
        for (i, d) in index.manifests.iter().enumerate() {
            by_digest.entry(d.digest.clone()).or_insert(i);
            let Some(have) = d.ref_name() else { continue };
            for (key, m) in name_keys(have) {
                by_name.entry(key.to_string()).or_default().push((i, m));
            }
        }
        Names {
            index,
            by_name,
            by_digest,
        }
    }

    /// Read `layout`'s index.json and index it.
    pub fn read(layout: &Layout) -> Result<Names> {
        Ok(Names::new(layout.read_index()?.0))
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// [`candidates`] through the lookup tables.
    pub fn candidates(&self, layout: &Layout, target: &Target) -> Result<Vec<Resolved>> {
        let at = |i: usize| Resolved {
            descriptor: self.index.manifests[i].clone(),
            top_level: Some(i),
        };
        match target {
            Target::Name(want) => {
                let hits = self
                    .by_name
                    .get(want.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let best = hits.iter().map(|(_, m)| *m).min();
                Ok(hits
                    .iter()
                    .filter(|(_, m)| Some(*m) == best)
                    .map(|(i, _)| at(*i))
                    .collect())
            }
            Target::Digest(d) => match self.by_digest.get(&d.to_string()) {
                Some(&i) => Ok(vec![at(i)]),
                None => candidates(layout, &self.index, target),
            },
            Target::Default => candidates(layout, &self.index, target),
        }
    }

    /// The entries whose ref.name is exactly `name`, in index order.
    pub fn exact(&self, name: &str) -> Vec<&Descriptor> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(_, m)| *m == NameMatch::Exact)
            .map(|(i, _)| &self.index.manifests[*i])
            .collect()
    }

    /// [`resolve_in`] through the lookup tables.
    pub fn resolve(&self, layout: &Layout, r: &LayoutRef) -> Result<Resolved> {
        let c = self.candidates(layout, &r.target)?;
        choose(&self.index, r, c)
    }
}

/// The wanted names a ref.name `have` answers to, each once, with how it matches: the
/// keys for which [`match_ref_name`]`(have, key)` is `Some`.
fn name_keys(have: &str) -> Vec<(&str, NameMatch)> {
    let mut keys = vec![(have, NameMatch::Exact)];
    let Some(tag) = split_tag(have).1 else {
        return keys;
    };
    // The tag holds no ':', a `repo:tag` tail does: no key is listed twice.
    keys.push((tag, NameMatch::FullName));
    for (i, b) in have.bytes().enumerate() {
        if b == b'/' && have[i + 1..].contains(':') {
            keys.push((&have[i + 1..], NameMatch::FullName));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::annotation;

    const NAMES: &[&str] = &[
        "v1",
        "latest",
        "x:",
        "repo:v1",
        "host:5000/repo:v1",
        "host:5000/repo",
        "example.com/a/b:v1",
        "a/b:c/d",
        "example.com/a/repo:latest",
        "b:v1",
        "a/b:v1",
    ];

    #[test]
    fn name_keys_are_exactly_the_matching_names() {
        let wants: Vec<&str> = NAMES
            .iter()
            .flat_map(|n| name_keys(n).into_iter().map(|(k, _)| k))
            .chain(["", "v2", "repo", "5000/repo:v1", "b", "d"])
            .collect();
        for have in NAMES {
            let keys = name_keys(have);
            for want in &wants {
                let listed: Vec<NameMatch> = keys
                    .iter()
                    .filter(|(k, _)| k == want)
                    .map(|(_, m)| *m)
                    .collect();
                let expected: Vec<NameMatch> = match_ref_name(have, want).into_iter().collect();
                assert_eq!(listed, expected, "have {have:?} want {want:?}");
            }
        }
    }

    #[test]
    fn names_answer_as_candidates_do() {
        let dir = tempfile::tempdir().unwrap();
        let (layout, _) = Layout::init(dir.path().join("l")).unwrap();
        let mut index = Index::default();
        for (i, n) in NAMES.iter().chain(NAMES.iter().step_by(3)).enumerate() {
            let digest = crate::Digest::sha256_of(format!("{i}").as_bytes());
            let mut d = Descriptor::new(crate::model::media::OCI_MANIFEST, &digest, 2);
            d.annotations
                .insert(annotation::REF_NAME.into(), n.to_string());
            index.manifests.push(d);
        }
        index.manifests.push(index.manifests[0].clone());
        let names = Names::new(index.clone());
        let mut targets: Vec<Target> = NAMES
            .iter()
            .chain(&["v2", "", "repo", "b"])
            .map(|n| Target::Name(n.to_string()))
            .collect();
        targets.push(Target::Default);
        for d in &index.manifests {
            targets.push(Target::Digest(d.digest().unwrap()));
        }
        let key = |c: Vec<Resolved>| -> Vec<(Option<usize>, String)> {
            c.into_iter()
                .map(|r| (r.top_level, r.descriptor.digest))
                .collect()
        };
        for n in NAMES.iter().chain(&["v2", "", "repo", "b"]) {
            let scan: Vec<&Descriptor> = index
                .manifests
                .iter()
                .filter(|d| d.ref_name() == Some(*n))
                .collect();
            assert_eq!(names.exact(n), scan, "{n:?}");
        }
        for t in &targets {
            assert_eq!(
                key(names.candidates(&layout, t).unwrap()),
                key(candidates(&layout, &index, t).unwrap()),
                "{t:?}"
            );
        }
    }
}
