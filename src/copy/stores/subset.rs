//! `--platform`/`--where` subsets of a root: the one selector picks, the one subset of
//! the walk rewrites the indexes.

use crate::error::{Error, Result};
use crate::model::{self, Descriptor, Index, Platform};
use crate::platform;
use crate::reference::LayoutRef;
use crate::select::{OnAmbiguity, Selector};
use crate::store::{Names, Overlay};
use std::collections::HashSet;

/// The subset of the index `root` (document `index_bytes`) whose entries `keep` keeps,
/// through the one subset of the graph walk ([`crate::subset::subset_index`]): `None`
/// when every entry is kept; a refusal naming the index's platforms when none is
/// (`filter` names the filter there). New documents go into `source`.
pub(crate) fn subset_root(
    source: &mut Overlay<'_>,
    root: &Descriptor,
    index_bytes: &[u8],
    what: &str,
    keep: &dyn Fn(&Descriptor) -> bool,
    filter: &str,
    platform_of: &dyn Fn(&Descriptor) -> Option<Platform>,
) -> Result<Option<Descriptor>> {
    let idx: Index = model::parse_json(index_bytes, what)?;
    let subset = crate::subset::subset_index(&*source, root, &idx, keep)?;
    let Some(kept) = subset.kept else {
        let have: Vec<String> = idx
            .manifests
            .iter()
            .filter(|d| !d.is_attestation())
            .filter_map(|d| platform_of(d).map(|p| p.display()))
            .collect();
        return Err(
            Error::no_match(format!("{what}: no entry matches {filter}"))
                .with_hint(format!("platforms in the index: {}", have.join(", "))),
        );
    };
    for (_, bytes) in subset.created {
        source.add(bytes);
    }
    if kept.digest == root.digest {
        return Ok(None);
    }
    Ok(Some(Descriptor::new(
        &root.media_type,
        &kept.digest()?,
        kept.size()?,
    )))
}

/// The `--platform`/`--where` subset of `root`, which `r` names in `store` (a layout,
/// or a registry through [`crate::select::registry_ref`]): the one selector picks
/// (docs/selection.md), and the indexes on the way to a pick are rewritten to list what
/// leads to picks (a picked index is kept whole). A single manifest stays as it is when
/// picked. Push, pull and copy all subset here.
pub fn subset_selected(
    source: &mut Overlay<'_>,
    store: &dyn Names,
    r: &LayoutRef,
    root: &Descriptor,
    selector: &Selector,
) -> Result<Descriptor> {
    let all = selector.clone().on_ambiguity(OnAmbiguity::All);
    let found = all.choose(all.find(store, r)?, r)?;
    if !root.is_index() {
        return Ok(root.clone());
    }
    let bytes = store.read_small(root)?;
    let of = |d: &Descriptor| platform::entry_platform(store, d).map(|e| e.platform);
    let picked: HashSet<&str> = found
        .matches
        .iter()
        .map(|m| m.descriptor.digest.as_str())
        .collect();
    let keep = |d: &Descriptor| picked.contains(d.digest.as_str());
    let what = root.digest.clone();
    Ok(
        subset_root(source, root, &bytes, &what, &keep, &all.describe(), &of)?
            .unwrap_or_else(|| root.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::model::media;
    use crate::reference::Target;
    use crate::store::Source;
    use serde_json::json;

    /// A layout whose ref `t` names an index of real manifests (their platforms in the
    /// descriptors), optionally with one attestation of the second, and an extra field
    /// oix must carry over; the ref and the index descriptor.
    fn index_layout(
        dir: &std::path::Path,
        platforms: &[Platform],
        attest: bool,
    ) -> (Layout, LayoutRef, Descriptor) {
        let (layout, _) = Layout::init(dir).unwrap();
        let config = layout.write_blob_bytes(b"{}").unwrap();
        let manifest = |n: usize| {
            let m = json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config.to_string(), "size": 2},
                "layers": [],
                "annotations": {"n": n.to_string()}
            });
            let bytes = serde_json::to_vec(&m).unwrap();
            (layout.write_blob_bytes(&bytes).unwrap(), bytes.len())
        };
        let mut entries = Vec::new();
        for (n, p) in platforms.iter().enumerate() {
            let (d, size) = manifest(n);
            entries.push(
                json!({"mediaType": media::OCI_MANIFEST, "digest": d.to_string(),
                                "size": size, "platform": p}),
            );
        }
        if attest {
            let (d, size) = manifest(99);
            entries.push(
                json!({"mediaType": media::OCI_MANIFEST, "digest": d.to_string(), "size": size,
                 "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": entries[1]["digest"]}}),
            );
        }
        let idx = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX,
                         "manifests": entries, "x-extra": true});
        let bytes = serde_json::to_vec(&idx).unwrap();
        let d = layout.write_blob_bytes(&bytes).unwrap();
        let root = Descriptor::new(media::OCI_INDEX, &d, bytes.len() as u64);
        layout.set_names(&["t".to_string()], &root).unwrap();
        let r = LayoutRef {
            path: dir.to_path_buf(),
            target: Target::Name("t".into()),
        };
        (layout, r, root)
    }

    fn plat(os: &str, arch: &str, v: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: v.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn subsets_keep_attestations_of_kept_entries() {
        let dir = tempfile::tempdir().unwrap();
        let arches = [plat("linux", "amd64", None), plat("linux", "arm64", None)];
        let (layout, r, root) = index_layout(&dir.path().join("l"), &arches, true);
        let entries: Vec<String> =
            model::parse_json::<Index>(&layout.read_small(&root).unwrap(), "t")
                .unwrap()
                .manifests
                .iter()
                .map(|d| d.digest.clone())
                .collect();
        let sub = |p: &[&str], w: &[&str]| {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            let w: Vec<String> = w.iter().map(|s| s.to_string()).collect();
            let selector = crate::select::subset_selector(&p, &w).unwrap().selector;
            let mut source = Overlay::new(&layout);
            subset_selected(&mut source, &layout, &r, &root, &selector)
                .map(|kept| (kept.digest != root.digest).then(|| source.read_small(&kept).unwrap()))
        };
        let out = sub(&["linux/arm64"], &[]).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let digests: Vec<&str> = v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap())
            .collect();
        assert_eq!(digests, vec![entries[1].as_str(), entries[2].as_str()]);
        assert_eq!(v["x-extra"], true);
        assert!(sub(&["linux/arm64", "linux/amd64"], &[]).unwrap().is_none());
        // --where alone, on the descriptors' own fields and annotations.
        assert!(sub(&[], &["mediaType~=manifest"]).unwrap().is_none());
        assert!(sub(&[], &["org.example.missing"]).is_err());
        let e = sub(&["linux/s390x"], &[]).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::NoMatch);
        // Parsing refuses what is not a platform.
        assert!(crate::select::subset_selector(&["linux".into()], &[]).is_err());
        assert!(crate::select::subset_selector(&["linux//x".into()], &[]).is_err());
    }

    #[test]
    fn platforms_match_normalized() {
        let keeps = |spec: &str, p: Platform| {
            let dir = tempfile::tempdir().unwrap();
            let (layout, r, _) = index_layout(&dir.path().join("l"), &[p], false);
            let selector = crate::select::subset_selector(&[spec.to_string()], &[])
                .unwrap()
                .selector;
            selector.find(&layout, &r).unwrap().matches.len() == 1
        };
        assert!(keeps("linux/arm/v7", plat("linux", "arm", Some("v7"))));
        assert!(!keeps("linux/arm/v7", plat("linux", "arm", Some("v6"))));
        // Normalized like every selector: bare arm is arm/v7, x86_64 is amd64.
        assert!(keeps("linux/arm/v7", plat("linux", "arm", None)));
        assert!(keeps("linux/amd64", plat("linux", "x86_64", None)));
        assert!(keeps("linux/arm64", plat("linux", "arm64", Some("v8"))));
    }
}
