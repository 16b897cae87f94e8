//! Editing documents in place inside a layout's graph: the one mechanism behind
//! `index rm` and `annotate`.
//!
//! An edit names a document by its path from index.json (positions in each index's
//! `manifests`; the empty path is index.json itself) and changes its JSON. The edited
//! document gets a new digest, so its descriptor in the parent is re-pointed (digest and
//! size), which changes the parent, and so on up to index.json. Attestations that refer
//! to a re-pointed entry (`vnd.docker.reference.digest`) are re-pointed too.
//!
//! Documents are edited as JSON values that keep their key order and unknown fields;
//! only the edited parts change. Everything runs inside one [`Layout::transact`], so the
//! whole chain of rewrites lands at once or not at all.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, annotation, Descriptor, Index};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// A change to one document.
pub enum Change {
    /// Set and unset keys of the document's own `annotations`.
    Annotate {
        set: BTreeMap<String, String>,
        unset: Vec<String>,
    },
    /// Set and unset annotations of the descriptors at these positions of the
    /// document's `manifests`.
    AnnotateEntries {
        positions: Vec<usize>,
        set: BTreeMap<String, String>,
        unset: Vec<String>,
    },
    /// Remove the entries at these positions (and attestations referring to them).
    RemoveEntries { positions: Vec<usize> },
}

/// One document rewritten.
#[derive(Debug, Clone, Serialize)]
pub struct Rewritten {
    /// Positions from index.json down to the document.
    pub path: Vec<usize>,
    pub from: String,
    pub to: String,
}

fn edit_annotations(obj: &mut Value, set: &BTreeMap<String, String>, unset: &[String]) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let ann = map
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if !ann.is_object() {
        *ann = Value::Object(Default::default());
    }
    let a = ann.as_object_mut().expect("made an object above");
    for k in unset {
        a.remove(k);
    }
    for (k, v) in set {
        a.insert(k.clone(), Value::String(v.clone()));
    }
    if a.is_empty() {
        map.remove("annotations");
    }
}

fn manifests_mut<'a>(doc: &'a mut Value, what: &str) -> Result<&'a mut Vec<Value>> {
    doc.get_mut("manifests")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| Error::failure(format!("{what} is not an index (no manifests list)")))
}

/// Apply `change` to a document's JSON.
fn apply(doc: &mut Value, change: &Change, what: &str) -> Result<()> {
    match change {
        Change::Annotate { set, unset } => edit_annotations(doc, set, unset),
        Change::AnnotateEntries {
            positions,
            set,
            unset,
        } => {
            let list = manifests_mut(doc, what)?;
            for &p in positions {
                let e = list
                    .get_mut(p)
                    .ok_or_else(|| Error::failure(format!("{what}: no entry at position {p}")))?;
                edit_annotations(e, set, unset);
            }
        }
        Change::RemoveEntries { positions } => {
            let list = manifests_mut(doc, what)?;
            // Sets: removing k of M entries costs O(M + k).
            let removed: HashSet<String> = positions
                .iter()
                .filter_map(|&p| list.get(p))
                .filter_map(|e| e.get("digest").and_then(Value::as_str).map(str::to_string))
                .collect();
            let positions: HashSet<usize> = positions.iter().copied().collect();
            let mut i = 0;
            list.retain(|e| {
                let keep_pos = !positions.contains(&i);
                i += 1;
                let refers_to_removed = e
                    .get("annotations")
                    .and_then(|a| a.get(annotation::DOCKER_REFERENCE_DIGEST))
                    .and_then(Value::as_str)
                    .is_some_and(|d| removed.contains(d));
                keep_pos && !refers_to_removed
            });
        }
    }
    Ok(())
}

/// Re-point entry `pos` of `list` from its old digest to `to`/`size`, and attestations
/// that referred to the old digest.
fn repoint(list: &mut [Value], pos: usize, to: &str, size: usize, what: &str) -> Result<String> {
    let e = list
        .get_mut(pos)
        .ok_or_else(|| Error::failure(format!("{what}: no entry at position {pos}")))?;
    let from = e
        .get("digest")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    e["digest"] = Value::String(to.to_string());
    e["size"] = Value::from(size);
    for other in list.iter_mut() {
        if let Some(r) = other
            .get_mut("annotations")
            .and_then(|a| a.get_mut(annotation::DOCKER_REFERENCE_DIGEST))
        {
            if r.as_str() == Some(from.as_str()) {
                *r = Value::String(to.to_string());
            }
        }
    }
    Ok(from)
}

/// Apply `change` to the document at `path` (from index.json) and re-point every parent.
/// With `write` false nothing is stored (dry run); digests are still computed.
pub fn rewrite(
    layout: &Layout,
    index_json: &mut Index,
    path: &[usize],
    change: &Change,
    write: bool,
) -> Result<Vec<Rewritten>> {
    rewrite_with(layout, index_json, path, change, write, &mut Pending::new())
}

/// Documents a dry run computed but did not store, by digest: a later rewrite in the
/// same edit reads its parents from here (two changes below one index).
pub type Pending = BTreeMap<String, Vec<u8>>;

/// [`rewrite`], for several rewrites of one edit: with `write` false, the documents each
/// one computes are kept in `pending` for the next.
pub fn rewrite_with(
    layout: &Layout,
    index_json: &mut Index,
    path: &[usize],
    change: &Change,
    write: bool,
    pending: &mut Pending,
) -> Result<Vec<Rewritten>> {
    if path.is_empty() {
        // index.json itself: edit through JSON to keep the same semantics.
        let mut v =
            serde_json::to_value(&*index_json).map_err(|e| Error::failure(e.to_string()))?;
        apply(&mut v, change, "index.json")?;
        *index_json = serde_json::from_value(v).map_err(|e| Error::failure(e.to_string()))?;
        return Ok(Vec::new());
    }
    // Load the chain of documents: docs[i] is the document at path[..=i].
    let mut docs: Vec<(Descriptor, Value)> = Vec::new();
    let top = index_json
        .manifests
        .get(path[0])
        .ok_or_else(|| Error::failure(format!("index.json has no entry at position {}", path[0])))?
        .clone();
    let mut desc = top;
    for (depth, &pos) in path.iter().enumerate() {
        if depth > 0 {
            let parent = &docs[depth - 1].1;
            let entry = parent
                .get("manifests")
                .and_then(|m| m.get(pos))
                .ok_or_else(|| {
                    Error::failure(format!(
                        "{}: no entry at position {pos}",
                        docs[depth - 1].0.digest
                    ))
                })?;
            desc = serde_json::from_value(entry.clone()).map_err(|e| {
                Error::failure(format!("{}: entry {pos}: {e}", docs[depth - 1].0.digest))
            })?;
        }
        let bytes = match pending.get(&desc.digest) {
            Some(b) => b.clone(),
            None => layout.read_blob(&desc, model::MAX_MANIFEST_SIZE)?,
        };
        let v: Value = model::parse_json(&bytes, &format!("blob {}", desc.digest))?;
        docs.push((desc.clone(), v));
    }
    let mut out = Vec::new();
    let last = docs.len() - 1;
    let what = docs[last].0.digest.clone();
    apply(&mut docs[last].1, change, &format!("blob {what}"))?;
    // Store bottom-up, re-pointing each parent.
    for depth in (0..docs.len()).rev() {
        let bytes =
            serde_json::to_vec(&docs[depth].1).map_err(|e| Error::failure(e.to_string()))?;
        let new_digest = if write {
            layout.write_blob_bytes(&bytes)?
        } else {
            let d = crate::Digest::sha256_of(&bytes);
            pending.insert(d.to_string(), bytes.clone());
            d
        };
        let new = new_digest.to_string();
        out.push(Rewritten {
            path: path[..=depth].to_vec(),
            from: docs[depth].0.digest.clone(),
            to: new.clone(),
        });
        if depth == 0 {
            let list = &mut index_json.manifests;
            let old = list[path[0]].digest.clone();
            list[path[0]].digest = new.clone();
            list[path[0]].size = bytes.len() as i64;
            for d in list.iter_mut() {
                if d.annotations.get(annotation::DOCKER_REFERENCE_DIGEST) == Some(&old) {
                    d.annotations
                        .insert(annotation::DOCKER_REFERENCE_DIGEST.into(), new.clone());
                }
            }
        } else {
            let parent_what = docs[depth - 1].0.digest.clone();
            let list = manifests_mut(&mut docs[depth - 1].1, &parent_what)?;
            repoint(list, path[depth], &new, bytes.len(), &parent_what)?;
        }
    }
    out.reverse();
    Ok(out)
}
