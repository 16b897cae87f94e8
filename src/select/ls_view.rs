//! What `oix ls` shows for a reference: the one rule for picking its roots, so a
//! program gets the same entries as the command.
use super::{members, top_level, Found, OnAmbiguity, Selector};
use crate::error::Result;
use crate::model::Descriptor;
use crate::reference::{LayoutRef, Target};
use crate::store::Names;

/// The entries `ls` shows.
#[derive(Debug, Clone)]
pub enum LsView {
    /// With filters: every match at any depth, each with its path
    /// ([`Selector::select_entries`]; nothing matching is exit 3).
    Matches(Found),
    /// Without filters: the entries themselves.
    Entries {
        /// In index order.
        descriptors: Vec<Descriptor>,
        /// Things the user should know (an implicit multi-arch set, ...).
        warnings: Vec<String>,
    },
}

/// The entries `oix ls` shows for `r` in `store`. With filters, the selector's matches.
/// Without: for `LAYOUT` alone, index.json's entries (an empty layout lists nothing);
/// for a named entry, as a list (`tree` false) the entries of the index it names (the
/// members of an implicit multi-arch set, or the one image it names), as a tree the
/// named entries themselves (all of an implicit multi-arch set), whose trees show what
/// is below them.
pub fn ls_view(
    store: &dyn Names,
    r: &LayoutRef,
    selector: &Selector,
    tree: bool,
) -> Result<LsView> {
    if selector.has_filters() {
        return selector.select_entries(store, r).map(LsView::Matches);
    }
    if r.target == Target::Default {
        return Ok(LsView::Entries {
            descriptors: top_level(store, r)?.manifests,
            warnings: Vec::new(),
        });
    }
    if tree {
        let s = Selector::new()
            .on_ambiguity(OnAmbiguity::All)
            .select(store, r)?;
        return Ok(LsView::Entries {
            descriptors: s.matches.into_iter().map(|m| m.descriptor).collect(),
            warnings: s.warnings,
        });
    }
    let m = members(store, r)?;
    Ok(LsView::Entries {
        descriptors: m.entries.into_iter().map(|m| m.descriptor).collect(),
        warnings: m.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::media;
    use crate::Layout;

    fn put(l: &Layout, mt: &str, v: serde_json::Value) -> Descriptor {
        let bytes = serde_json::to_vec(&v).unwrap();
        let d = l.write_blob_bytes(&bytes).unwrap();
        Descriptor::new(mt, &d, bytes.len() as u64)
    }

    fn image(l: &Layout, arch: &str) -> Descriptor {
        let cfg = put(
            l,
            media::OCI_CONFIG,
            serde_json::json!({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}),
        );
        put(
            l,
            media::OCI_MANIFEST,
            serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cfg, "layers": []}),
        )
    }

    fn digests(l: &LsView) -> Vec<String> {
        match l {
            LsView::Matches(s) => s
                .matches
                .iter()
                .map(|m| m.descriptor.digest.clone())
                .collect(),
            LsView::Entries { descriptors, .. } => {
                descriptors.iter().map(|d| d.digest.clone()).collect()
            }
        }
    }

    #[test]
    fn roots_of_a_layout_a_named_index_as_list_and_tree_and_a_filter() {
        let tmp = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(tmp.path().join("l")).unwrap();
        let (amd, arm) = (image(&l, "amd64"), image(&l, "arm64"));
        let idx = put(
            &l,
            media::OCI_INDEX,
            serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [amd, arm]}),
        );
        crate::tags::tag(&l, &idx, &["v1".to_string()]).unwrap();
        let lr = |s: &str| LayoutRef::parse(&format!("{}{s}", l.root().display())).unwrap();
        let none = Selector::new();
        for tree in [false, true] {
            let all = ls_view(&l, &lr(""), &none, tree).unwrap();
            assert_eq!(
                digests(&all),
                vec![idx.digest.clone()],
                "LAYOUT alone: index.json"
            );
        }
        let list = ls_view(&l, &lr(":v1"), &none, false).unwrap();
        assert_eq!(
            digests(&list),
            [amd.digest.clone(), arm.digest.clone()],
            "list: its entries"
        );
        let tree = ls_view(&l, &lr(":v1"), &none, true).unwrap();
        assert_eq!(
            digests(&tree),
            vec![idx.digest.clone()],
            "tree: the index itself"
        );
        let arm_only =
            Selector::new().platform(crate::platform::PlatformSpec::parse("linux/arm64").unwrap());
        let found = ls_view(&l, &lr(":v1"), &arm_only, false).unwrap();
        assert!(matches!(found, LsView::Matches(_)));
        assert_eq!(digests(&found), vec![arm.digest.clone()]);
    }
}
