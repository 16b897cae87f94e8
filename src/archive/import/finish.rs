//! What every import ends with: the copy into the target with the referrers of what is
//! copied, the completeness check, and the commit of the refs.

use super::super::Selection;
use super::ImportOptions;
use crate::copy::{copy_graph, CopyOptions};
use crate::error::{Error, Result};
use crate::graph::{self, Role};
use crate::layout::Layout;
use crate::model::{Descriptor, Index};
use crate::reference::validate_ref_name;
use crate::tags::{self, TagChange};
use std::collections::HashSet;

/// Prove the graph under `picks` complete in `target`: every index and manifest read
/// and verified by the walk, every other blob present with its descriptor's size.
pub fn verify_graph(target: &Layout, picks: &[(String, Descriptor)], what: &str) -> Result<()> {
    let roots: Vec<Descriptor> = picks.iter().map(|(_, d)| d.clone()).collect();
    let w = graph::walk(target, &roots);
    if let Some(p) = w.first_problem() {
        return Err(p
            .to_error(what)
            .with_hint("the source is incomplete or corrupt; nothing was added to index.json"));
    }
    let mut checked = HashSet::new();
    for n in &w.nodes {
        if n.document.is_some() || !checked.insert(n.descriptor.digest.clone()) {
            continue;
        }
        let digest = n.descriptor.digest()?;
        let size = n.descriptor.size()?;
        let path = target.blob_path(&digest);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.len() == size || m.file_type().is_symlink() => {}
            Ok(m) => {
                return Err(Error::corrupt(format!(
                    "{what}: blob {digest} is {} bytes, its descriptor (in {}) says {size}",
                    m.len(),
                    n.parent.as_deref().unwrap_or("index.json")
                ))
                .with_hint("the source is corrupt; nothing was added to index.json"))
            }
            Err(_) if n.role == Role::Subject => {}
            Err(_) => {
                return Err(Error::not_found(format!(
                    "{what}: blob {digest} (referenced from {}) is missing",
                    n.parent.as_deref().unwrap_or("index.json")
                ))
                .with_hint("the source is incomplete; nothing was added to index.json"))
            }
        }
    }
    Ok(())
}

/// Add the refs and list the carried referrers in one index.json transaction (or,
/// for a dry run, say what the refs would do without writing).
fn commit(
    target: &Layout,
    picks: &[(String, Descriptor)],
    carried: &[crate::referrers::Carried],
    dry_run: bool,
) -> Result<Vec<TagChange>> {
    for (name, _) in picks {
        validate_ref_name(name)?;
    }
    let set = |idx: &mut Index| {
        picks
            .iter()
            .map(|(n, d)| tags::set_ref(idx, d, n))
            .collect::<Result<Vec<_>>>()
    };
    if dry_run {
        let mut idx = if target.root().join("index.json").exists() {
            target.read_index()?.0
        } else {
            Index::default()
        };
        return set(&mut idx);
    }
    let (changes, _) = target.transact(|idx| {
        let changes = set(idx)?;
        crate::referrers::record_into(target, idx, carried)?;
        Ok(changes)
    })?;
    Ok(changes)
}

/// `import --all` of a layout or oci-archive takes its images; the entries that only
/// hold referrers are left out, and the referrers carried with the images are listed
/// anew (as [`ImportOptions::referrers`] says).
pub(super) fn drop_holders(
    src: &Layout,
    picks: Vec<(String, Descriptor)>,
    sel: &Selection,
) -> Result<Vec<(String, Descriptor)>> {
    if !sel.all {
        return Ok(picks);
    }
    let (index, _) = src.read_index()?;
    let holders = crate::referrers::holder_names(src, &index)?;
    Ok(picks
        .into_iter()
        .filter(|(n, _)| !holders.contains(n))
        .collect())
}

/// The copy into the target with the referrers of what is copied, the completeness
/// check, and the commit: what every import ends with. Returns the refs, the copy's
/// report and the referrers carried.
type Finished = (
    Vec<TagChange>,
    crate::copy::CopyReport,
    Vec<crate::referrers::Carried>,
    Vec<crate::referrers::Warning>,
);

pub(super) fn finish(
    src: &dyn crate::store::Source,
    target: &Layout,
    picks: &[(String, Descriptor)],
    what: &str,
    opts: &ImportOptions,
) -> Result<Finished> {
    let roots: Vec<Descriptor> = picks.iter().map(|(_, d)| d.clone()).collect();
    let filter = crate::referrers::ArtifactFilter {
        types: opts.referrers.types.clone(),
    };
    let filter = opts.referrers.enabled.then_some(&filter);
    let (carried, warnings) = crate::referrers::carry(src, &roots, filter)?;
    let all = crate::referrers::with_carried(&roots, &carried);
    if opts.dry_run {
        let refs = commit(target, picks, &carried, true)?;
        return Ok((refs, Default::default(), carried, warnings));
    }
    let rep = copy_graph(src, target, &all, &CopyOptions::default())?;
    let checked: Vec<(String, Descriptor)> = all.into_iter().map(|d| (String::new(), d)).collect();
    verify_graph(target, &checked, what)?;
    let refs = commit(target, picks, &carried, false)?;
    Ok((refs, rep, carried, warnings))
}
