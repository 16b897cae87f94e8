//! What `oix ls LAYOUT:REF` lists without filters.

use super::space::Space;
use super::{top_level, PathStep};
use crate::error::Result;
use crate::model::{Descriptor, Document, Index};
use crate::reference::{LayoutRef, Target};
use crate::store::Names;

/// One entry of [`members`], with its path.
#[derive(Debug, Clone)]
pub struct ListedEntry {
    pub descriptor: Descriptor,
    pub path: Vec<PathStep>,
}

/// The result of [`members`]: the entries `oix ls` lists, and warnings.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub entries: Vec<ListedEntry>,
    pub warnings: Vec<String>,
}

/// What `oix ls LAYOUT:REF` lists without filters: the entries of the index REF names
/// (the members of an implicit multi-arch set, or the one image REF names); for `LAYOUT`
/// alone, the entries of index.json.
pub fn members(store: &dyn Names, r: &LayoutRef) -> Result<Listing> {
    let index = top_level(store, r)?;
    if r.target == Target::Default {
        let entries = index
            .manifests
            .into_iter()
            .enumerate()
            .map(|(i, d)| ListedEntry {
                path: vec![PathStep {
                    digest: d.digest.clone(),
                    position: i,
                }],
                descriptor: d,
            })
            .collect();
        return Ok(Listing {
            entries,
            warnings: Vec::new(),
        });
    }
    let space = Space::resolve(store, &index, r, false)?;
    let warnings = space.warnings.clone();
    let roots = space.root_nodes();
    if r.target != Target::Default && roots.len() == 1 && space.walk.descriptor(roots[0]).is_index()
    {
        let prefix = space.path_of(roots[0]);
        let idx = match space.walk.index(roots[0]) {
            Some(idx) => idx.clone(),
            None => {
                let d = space.walk.descriptor(roots[0]);
                let bytes = store.read_small(d)?;
                match Document::parse(&d.media_type, &bytes, &format!("blob {}", d.digest))? {
                    Some(Document::Index(idx)) => idx,
                    _ => Index::default(),
                }
            }
        };
        let out = idx
            .manifests
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let mut p = prefix.clone();
                p.push(PathStep {
                    digest: d.digest.clone(),
                    position: i,
                });
                ListedEntry {
                    descriptor: d,
                    path: p,
                }
            })
            .collect();
        return Ok(Listing {
            entries: out,
            warnings,
        });
    }
    let out = roots
        .iter()
        .map(|&i| ListedEntry {
            descriptor: space.walk.descriptor(i).clone(),
            path: space.path_of(i),
        })
        .collect();
    Ok(Listing {
        entries: out,
        warnings,
    })
}
