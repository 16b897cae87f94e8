//! ref.name surgery in index.json: `tag` and `untag`, each one locked transaction.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{annotation, Descriptor, Index};
use crate::reference::validate_ref_name;
use serde::Serialize;
use std::collections::HashMap;

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

/// Point `name` at `target` (a copy of its descriptor, ref.name replaced). An existing
/// entry with that name is replaced in place, so index order stays stable; re-tagging
/// the same content is a no-op.
pub fn set_ref(index: &mut Index, target: &Descriptor, name: &str) -> Result<TagChange> {
    let mut changes = set_refs(index, target, &[name.to_string()])?;
    Ok(changes.remove(0))
}

/// Point each of `names` at `target`, in order, exactly as [`set_ref`] one name after
/// the other would (an existing entry is replaced in place, further entries of that
/// name are removed), with one pass over index.json: O(N + k) for k names over N
/// entries, not O(N·k).
pub fn set_refs(
    index: &mut Index,
    target: &Descriptor,
    names: &[String],
) -> Result<Vec<TagChange>> {
    for n in names {
        validate_ref_name(n)?;
    }
    // The positions of the entries named by each of `names`, ascending.
    let mut named: HashMap<&str, Vec<usize>> =
        names.iter().map(|n| (n.as_str(), Vec::new())).collect();
    for (i, d) in index.manifests.iter().enumerate() {
        if let Some(v) = d.ref_name().and_then(|n| named.get_mut(n)) {
            v.push(i);
        }
    }
    // Entries to drop at the end; positions stay valid until then.
    let mut removed = vec![false; index.manifests.len()];
    let mut changes = Vec::with_capacity(names.len());
    for name in names {
        let mut entry = target.clone();
        entry
            .annotations
            .insert(annotation::REF_NAME.into(), name.clone());
        let existing = named.get_mut(name.as_str()).expect("every name is listed");
        if existing.len() == 1 && index.manifests[existing[0]] == entry {
            changes.push(TagChange {
                ref_name: name.clone(),
                digest: entry.digest,
                action: "unchanged",
                previous: None,
            });
            continue;
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
                for &i in &existing[1..] {
                    removed[i] = true;
                }
                existing.truncate(1);
            }
            None => {
                existing.push(index.manifests.len());
                index.manifests.push(entry);
                removed.push(false);
            }
        }
        changes.push(TagChange {
            ref_name: name.clone(),
            previous: previous.filter(|p| *p != digest),
            digest,
            action,
        });
    }
    if removed.contains(&true) {
        let mut i = 0;
        index.manifests.retain(|_| {
            i += 1;
            !removed[i - 1]
        });
    }
    Ok(changes)
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
    let (changes, _) = layout.transact(|idx| set_refs(idx, target, names))?;
    Ok(changes)
}

/// Remove the top-level entries named by each ref (all of them, when several share the
/// name). A missing ref is an error (exit 3) unless `ignore_missing`.
pub fn untag(layout: &Layout, names: &[String], ignore_missing: bool) -> Result<Vec<TagChange>> {
    let (changes, _) = layout.transact(|idx| {
        // One pass over index.json: the positions of the entries each name names.
        let mut named: HashMap<&str, Vec<usize>> =
            names.iter().map(|n| (n.as_str(), Vec::new())).collect();
        for (i, d) in idx.manifests.iter().enumerate() {
            if let Some(v) = d.ref_name().and_then(|n| named.get_mut(n)) {
                v.push(i);
            }
        }
        let mut removed = vec![false; idx.manifests.len()];
        let mut changes = Vec::new();
        for name in names {
            // Taken: a name given twice finds nothing the second time.
            let positions = named
                .get_mut(name.as_str())
                .map(std::mem::take)
                .unwrap_or_default();
            if positions.is_empty() {
                if ignore_missing {
                    continue;
                }
                return Err(
                    Error::no_match(format!("no ref named {name:?} in index.json")).with_hint(
                        "see the refs with `oix ls LAYOUT`; --ignore-missing makes this a no-op",
                    ),
                );
            }
            for i in positions {
                removed[i] = true;
                let digest = idx.manifests[i].digest.clone();
                changes.push(TagChange {
                    ref_name: name.clone(),
                    previous: Some(digest.clone()),
                    digest,
                    action: "removed",
                });
            }
        }
        let mut i = 0;
        idx.manifests.retain(|_| {
            i += 1;
            !removed[i - 1]
        });
        Ok(changes)
    })?;
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(n: usize, name: Option<&str>) -> Descriptor {
        let digest = crate::Digest::sha256_of(format!("{n}").as_bytes());
        let mut d = Descriptor::new(crate::model::media::OCI_MANIFEST, &digest, 2);
        if let Some(name) = name {
            d.annotations
                .insert(annotation::REF_NAME.into(), name.into());
        }
        d
    }

    /// set_ref one name at a time as it was written before set_refs: a scan per name.
    fn set_ref_by_scanning(index: &mut Index, target: &Descriptor, name: &str) -> TagChange {
        let mut entry = target.clone();
        entry
            .annotations
            .insert(annotation::REF_NAME.into(), name.into());
        let existing: Vec<usize> = (0..index.manifests.len())
            .filter(|&i| index.manifests[i].ref_name() == Some(name))
            .collect();
        if existing.len() == 1 && index.manifests[existing[0]] == entry {
            return TagChange {
                ref_name: name.into(),
                digest: entry.digest,
                action: "unchanged",
                previous: None,
            };
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
        TagChange {
            ref_name: name.into(),
            previous: previous.filter(|p| *p != digest),
            digest,
            action,
        }
    }

    #[test]
    fn untag_removes_every_named_entry_once() {
        let dir = tempfile::tempdir().unwrap();
        let (layout, _) = Layout::init(dir.path().join("l")).unwrap();
        let mut index = Index::default();
        for (n, name) in [(0, "a"), (1, "b"), (2, "a"), (3, "c"), (4, "a")] {
            index.manifests.push(desc(n, Some(name)));
        }
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let put =
            || crate::layout::write_atomic(layout.root(), "index.json", &index.to_bytes()).unwrap();
        put();
        // A name given twice finds nothing the second time: exit 3, nothing written.
        let e = untag(&layout, &names(&["a", "c", "a"]), false).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::NoMatch);
        assert_eq!(layout.read_index().unwrap().0, index);
        let changes = untag(&layout, &names(&["a", "zz", "c", "a"]), true).unwrap();
        let got: Vec<(String, String)> = changes
            .iter()
            .map(|c| (c.ref_name.clone(), c.digest.clone()))
            .collect();
        let want: Vec<(String, String)> = [(0, "a"), (2, "a"), (4, "a"), (3, "c")]
            .iter()
            .map(|(n, name)| (name.to_string(), desc(*n, None).digest))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            layout.read_index().unwrap().0.manifests,
            vec![desc(1, Some("b"))]
        );
    }

    #[test]
    fn set_refs_is_set_ref_name_after_name() {
        // Duplicated names (an implicit set), an unnamed entry, the target already
        // tagged, a name given twice, new names.
        let mut index = Index::default();
        for (n, name) in [
            (0, Some("a")),
            (1, Some("b")),
            (2, None),
            (3, Some("a")),
            (4, Some("c")),
            (5, Some("a")),
            (6, Some("d")),
            (4, Some("e")),
        ] {
            index.manifests.push(desc(n, name));
        }
        for target in [desc(4, None), desc(9, None)] {
            let names: Vec<String> = ["a", "x", "c", "e", "a", "y", "b", "x"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let mut fast = index.clone();
            let got = set_refs(&mut fast, &target, &names).unwrap();
            let mut slow = index.clone();
            let want: Vec<TagChange> = names
                .iter()
                .map(|n| set_ref_by_scanning(&mut slow, &target, n))
                .collect();
            assert_eq!(fast.to_bytes(), slow.to_bytes());
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(&want).unwrap()
            );
        }
    }
}
