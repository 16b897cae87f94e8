//! `merge`, `index add` and `index rm` with a registry index as the thing they edit
//! (`docker://HOST/REPO:TAG`): the published release is both the destination and the
//! "previous release" the policies compare against.
//!
//! The same shape as the layout edit ([`super::edit_index`]), over the store traits:
//! 1. read what TAG names now and its entries ([`crate::publish::current_members`]:
//!    the index, and the child manifests and configs needed to learn a platform the
//!    descriptor does not carry; never a layer);
//! 2. compute the new entry list with the same build function as in a layout (the one
//!    policy engine, [`super::merge::apply_policy`]); a refusal or `--dry-run` stops
//!    here, before anything is written;
//! 3. copy the graphs of the new entries from their sources with the referrers they
//!    carry ([`crate::copy::stores::run`], as `oix copy`: blobs the registry holds are
//!    skipped after a HEAD; the referrers are PUT after their subjects and listed on
//!    the registry, docs/referrers.md); entries carried over from the published index
//!    need nothing local;
//! 4. PUT the index by digest, then point TAG at it.
//!
//! A registry has no compare-and-swap on tags: two editors of one TAG at the same
//! moment can lose each other's change (the last PUT wins). Per-arch pipelines that
//! run concurrently use `oix publish` instead (docs/publish.md).

use super::{compose, diff, resolve_sources, Expand, Member, Outcome, SourceSpec};
use crate::copy::stores::{carried_referrers, run, Carry, RunOptions};
use crate::copy::{copy_graphs, CopyOptions};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{media, Descriptor, Index};
use crate::publish::{current_members, Destination, Platforms};
use crate::reference::Target;
use crate::store::{Names, Source, StoreRef};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A source of a registry edit: an image or index in a layout, or one in a registry
/// (opened by the caller; on the destination's registry its blobs are mounted).
pub enum EditSource {
    Layout(Box<SourceSpec>),
    Store {
        text: String,
        store: Box<dyn Names>,
        target: Target,
    },
}

/// A registry source and the members it gives (copied from it when listed).
pub type StoreMembers<'a> = (&'a dyn Source, Vec<Member>);

/// The sources' members in order, and for each registry source the roots to copy from
/// it. An index source is flattened (its entries taken one by one) unless `expand` is
/// [`Expand::Nest`]; a registry source's platforms come from its descriptors or configs.
pub fn resolve_edit_sources(
    sources: &[EditSource],
    expand: Expand,
) -> Result<(Vec<Member>, Vec<StoreMembers<'_>>)> {
    let mut members = Vec::new();
    let mut stores: Vec<(&dyn Source, Vec<Member>)> = Vec::new();
    for s in sources {
        match s {
            EditSource::Layout(spec) => {
                members.extend(resolve_sources(std::slice::from_ref(&**spec), expand)?)
            }
            EditSource::Store {
                text,
                store,
                target,
            } => {
                let ctx = |e: Error| e.context(format!("source {text}"));
                let name = match target {
                    Target::Name(n) => n.clone(),
                    Target::Digest(d) => d.to_string(),
                    Target::Default => "latest".to_string(),
                };
                let d = store.resolve_name(&name).map_err(ctx)?.ok_or_else(|| {
                    Error::not_found(format!("source {text}: {name} does not exist"))
                })?;
                let got = if d.is_index() && expand == Expand::Nest {
                    vec![crate::publish::view_member(&d, None, text)?]
                } else {
                    current_members(store.as_ref(), &d, text, &mut Platforms::default())
                        .map_err(ctx)?
                        .0
                };
                members.extend(got.iter().cloned());
                stores.push((store.as_ref() as &dyn Source, got));
            }
        }
    }
    Ok((members, stores))
}

/// Computes an edit's entry list from TAG's current entries (and what TAG names).
pub type StoreBuildFn<'a> = dyn Fn(Vec<Member>, Option<&Descriptor>) -> Result<Vec<Member>> + 'a;

/// What TAG names now in `dest`, with its entries and (for an index) its document.
pub struct Published {
    pub current: Option<Descriptor>,
    pub members: Vec<Member>,
    pub index: Option<Index>,
}

/// Read TAG of `dest` (manifests and configs only).
pub fn published(dest: &dyn Destination, tag: &str) -> Result<Published> {
    crate::registry::reference::validate_tag(tag)?;
    let current = dest.resolve_name(tag)?;
    let (members, index) = match &current {
        None => (Vec::new(), None),
        Some(c) => current_members(dest, c, tag, &mut Platforms::default())?,
    };
    Ok(Published {
        current,
        members,
        index,
    })
}

/// Plan and apply one edit of TAG in `dest` (see the module docs). `import` are the
/// members that come from layouts; those in the result are copied in first. With
/// `keep_base`, an existing index's other fields (annotations, unknown fields) are kept.
#[allow(clippy::too_many_arguments)] // the edit's parts, as in the layout edit
pub fn edit_store(
    dest: &dyn Destination,
    tag: &str,
    annotations: &BTreeMap<String, String>,
    dry_run: bool,
    import: &[Member],
    stores: &[StoreMembers<'_>],
    build: &StoreBuildFn,
    keep_base: bool,
    jobs: usize,
    referrers: &Carry,
) -> Result<Outcome> {
    let cur = published(dest, tag)?;
    let members = build(cur.members, cur.current.as_ref())?;
    let base = cur.index.as_ref().filter(|_| keep_base);
    let new = compose(base, &members, annotations);
    let bytes = new.to_bytes();
    let desc = Descriptor::new(
        media::OCI_INDEX,
        &Digest::sha256_of(&bytes),
        bytes.len() as u64,
    );
    let before: Vec<Descriptor> = match (&cur.index, &cur.current) {
        (Some(i), _) => i.manifests.clone(),
        (None, Some(e)) => vec![e.clone()],
        (None, None) => Vec::new(),
    };
    let before_ann = cur
        .index
        .as_ref()
        .map(|i| i.annotations.clone())
        .unwrap_or_default();
    let changed = cur.current.as_ref().map(|c| c.digest.as_str()) != Some(desc.digest.as_str());
    let mut outcome = Outcome {
        ref_name: tag.to_string(),
        digest: desc.digest.clone(),
        media_type: media::OCI_INDEX.to_string(),
        size: bytes.len() as i64,
        changed: false,
        dry_run,
        diff: diff::diff_entries(dest, &before, &new.manifests, &before_ann, &new.annotations),
        referrers: Vec::new(),
        referrer_warnings: Vec::new(),
        previous: cur.current.as_ref().map(|c| c.digest.clone()),
        converted: Vec::new(),
        dropped: Vec::new(),
        warnings: crate::convert::mixed_children(media::OCI_INDEX, &new.manifests)
            .into_iter()
            .collect(),
    };
    if !changed {
        return Ok(outcome);
    }
    let srcs = sources_to_copy(import, stores, &new)?;
    let pairs: Vec<(&dyn Source, &[Descriptor])> = srcs
        .0
        .iter()
        .map(|(l, r)| (l as &dyn Source, r.as_slice()))
        .chain(srcs.1.iter().map(|(s, r)| (*s, r.as_slice())))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    match dest.as_registry() {
        // The same store copy as `oix copy`/`push`: the graphs, then the referrers
        // carried with them (each after its subject), listed on the registry.
        Some(r) => {
            for (src, roots) in &pairs {
                if dry_run {
                    let (c, w) = carried_referrers(*src, roots, StoreRef::Registry(r), referrers)?;
                    outcome.referrers.extend(c);
                    outcome.referrer_warnings.extend(w);
                    continue;
                }
                let opts = RunOptions {
                    jobs: jobs.max(1),
                    force_recursive: false,
                    referrers: referrers.clone(),
                };
                let out = run(*src, roots, &[], StoreRef::Registry(r), &opts)?;
                outcome.referrers.extend(out.referrers);
                outcome.referrer_warnings.extend(out.referrer_warnings);
            }
        }
        None if dry_run => {}
        None if !pairs.is_empty() => {
            copy_graphs(&pairs, dest, &CopyOptions { jobs: jobs.max(1) })?;
        }
        None => {}
    }
    if dry_run {
        return Ok(outcome);
    }
    dest.put_manifest(&desc, &bytes)?;
    dest.set_names(&[tag.to_string()], &desc)?;
    outcome.changed = true;
    Ok(outcome)
}

/// The layouts and registry stores the new index's entries come from, each with the
/// roots to copy from it (entries and their attestations): only what `new` lists is
/// uploaded; the registry's own entries stay as they are.
#[allow(clippy::type_complexity)] // (layouts opened here, registry sources borrowed)
fn sources_to_copy<'a>(
    import: &[Member],
    stores: &[StoreMembers<'a>],
    new: &Index,
) -> Result<(
    Vec<(Layout, Vec<Descriptor>)>,
    Vec<(&'a dyn Source, Vec<Descriptor>)>,
)> {
    let listed: BTreeSet<&str> = new.manifests.iter().map(|d| d.digest.as_str()).collect();
    let mut by_layout: BTreeMap<&PathBuf, Vec<Descriptor>> = BTreeMap::new();
    for m in import {
        if !listed.contains(m.descriptor.digest.as_str()) || m.layout.as_os_str().is_empty() {
            continue;
        }
        let e = by_layout.entry(&m.layout).or_default();
        e.push(m.descriptor.clone());
        e.extend(m.attestations.iter().cloned());
    }
    let srcs: Vec<(Layout, Vec<Descriptor>)> = by_layout
        .into_iter()
        .map(|(path, roots)| Ok((Layout::open(path)?, roots)))
        .collect::<Result<_>>()?;
    let remote = stores
        .iter()
        .map(|(s, ms)| {
            let roots = ms
                .iter()
                .filter(|m| listed.contains(m.descriptor.digest.as_str()))
                .flat_map(|m| std::iter::once(&m.descriptor).chain(&m.attestations))
                .cloned()
                .collect();
            (*s, roots)
        })
        .collect();
    Ok((srcs, remote))
}
