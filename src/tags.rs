//! ref.name surgery in index.json: `tag` and `untag`, each one locked transaction.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{annotation, Descriptor, Index};
use crate::reference::validate_ref_name;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TagChange {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub digest: String,
    /// `created`, `moved`, `unchanged` or `removed`.
    pub action: &'static str,
    /// The digest the ref pointed to before, when it moved or was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// Point each of `names` at `target` (a copy of its descriptor, ref.name replaced). An
/// existing entry with that name is replaced in place, so index order stays stable;
/// re-tagging the same content is a no-op.
pub fn set_ref(index: &mut Index, target: &Descriptor, name: &str) -> Result<TagChange> {
    validate_ref_name(name)?;
    let mut entry = target.clone();
    entry
        .annotations
        .insert(annotation::REF_NAME.into(), name.into());
    let existing: Vec<usize> = index
        .manifests
        .iter()
        .enumerate()
        .filter(|(_, d)| d.ref_name() == Some(name))
        .map(|(i, _)| i)
        .collect();
    if existing.len() == 1 && index.manifests[existing[0]] == entry {
        return Ok(TagChange {
            ref_name: name.into(),
            digest: entry.digest,
            action: "unchanged",
            previous: None,
        });
    }
    let previous = existing.first().map(|&i| index.manifests[i].digest.clone());
    let action = match &previous {
        None => "created",
        Some(p) if *p == entry.digest => "unchanged",
        Some(_) => "moved",
    };
    let digest = entry.digest.clone();
    match existing.first() {
        Some(&first) => {
            index.manifests[first] = entry;
            for &i in existing[1..].iter().rev() {
                index.manifests.remove(i);
            }
        }
        None => index.manifests.push(entry),
    }
    Ok(TagChange {
        ref_name: name.into(),
        previous: previous.filter(|p| *p != digest),
        digest,
        action,
    })
}

/// Tag `target` with every name in one transaction.
pub fn tag(layout: &Layout, target: &Descriptor, names: &[String]) -> Result<Vec<TagChange>> {
    for n in names {
        validate_ref_name(n)?;
    }
    // Never copy a broken descriptor (invalid digest, negative size) into new entries.
    target.digest().and_then(|_| target.size()).map_err(|e| {
        e.context("refusing to tag")
            .with_hint("the entry is damaged; run `oix fsck` and fix index.json")
    })?;
    let (changes, _) =
        layout.transact(|idx| names.iter().map(|n| set_ref(idx, target, n)).collect())?;
    Ok(changes)
}

/// Remove the top-level entries named by each ref (all of them, when several share the
/// name). A missing ref is an error (exit 3) unless `ignore_missing`.
pub fn untag(layout: &Layout, names: &[String], ignore_missing: bool) -> Result<Vec<TagChange>> {
    let (changes, _) = layout.transact(|idx| {
        let mut changes = Vec::new();
        for name in names {
            let before = idx.manifests.len();
            let mut removed = Vec::new();
            idx.manifests.retain(|d| {
                if d.ref_name() == Some(name.as_str()) {
                    removed.push(d.digest.clone());
                    false
                } else {
                    true
                }
            });
            if before == idx.manifests.len() {
                if ignore_missing {
                    continue;
                }
                return Err(
                    Error::no_match(format!("no ref named {name:?} in index.json")).with_hint(
                        "see the refs with `oix ls LAYOUT`; --ignore-missing makes this a no-op",
                    ),
                );
            }
            for digest in removed {
                changes.push(TagChange {
                    ref_name: name.clone(),
                    previous: Some(digest.clone()),
                    digest,
                    action: "removed",
                });
            }
        }
        Ok(changes)
    })?;
    Ok(changes)
}
