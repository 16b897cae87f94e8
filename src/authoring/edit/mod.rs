//! The edit pipeline of `index create`, `index add` and `merge`: placing members
//! ([`MemberList`]), composing the index, reading DEST:REF as it is, copying the members
//! in and the one transaction that writes the new index; plus the annotation flags
//! these commands share. Split from the module root, which resolves sources into members.

use super::diff;
use super::{image_member, members_of_index, resolve_sources, Expand, Member, SourceSpec};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{media, Descriptor, Document, Index};
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use crate::tags;
use format::{finish, plan_written, Written};
use std::collections::BTreeMap;
use std::path::PathBuf;

mod annotations;
mod format;
mod members;

pub use annotations::{created_annotation, parse_annotations, rfc3339_utc};
pub use members::{AddMode, MemberList};

/// The index document for `members`: runnable entries in order, then attestations in
/// the order of their subjects. `base` carries over fields of an existing index.
pub fn compose(
    base: Option<&Index>,
    members: &[Member],
    annotations: &BTreeMap<String, String>,
) -> Index {
    let mut idx = base.cloned().unwrap_or_default();
    idx.schema_version = 2;
    idx.media_type = Some(media::OCI_INDEX.to_string());
    idx.manifests = members.iter().map(|m| m.descriptor.clone()).collect();
    idx.manifests
        .extend(members.iter().flat_map(|m| m.attestations.iter().cloned()));
    for (k, v) in annotations {
        idx.annotations.insert(k.clone(), v.clone());
    }
    idx
}

/// DEST:REF as it is now: the top-level entry and, for an index, its document.
pub struct Current {
    pub entry: Descriptor,
    pub index: Option<Index>,
}

/// Find DEST:REF (exact ref.name) in `idx`. Several entries sharing the name are an
/// implicit multi-arch set, which the editing commands refuse to guess about.
pub fn current(layout: &Layout, idx: &Index, name: &str) -> Result<Option<Current>> {
    let hits: Vec<&Descriptor> = idx
        .manifests
        .iter()
        .filter(|d| d.ref_name() == Some(name))
        .collect();
    current_of(layout, name, hits)
}

/// [`current`] through an index.json already indexed (callers looking up many refs).
pub fn current_in(layout: &Layout, names: &resolve::Names, name: &str) -> Result<Option<Current>> {
    current_of(layout, name, names.exact(name))
}

fn current_of(layout: &Layout, name: &str, hits: Vec<&Descriptor>) -> Result<Option<Current>> {
    match hits.as_slice() {
        [] => Ok(None),
        [d] => {
            let index = if d.is_index() {
                match layout.read_document(d)? {
                    (_, Some(Document::Index(i))) => Some(i),
                    _ => None,
                }
            } else {
                None
            };
            Ok(Some(Current {
                entry: (*d).clone(),
                index,
            }))
        }
        _ => Err(Error::ambiguous(format!(
            "{} top-level entries are named {name:?} (an implicit multi-arch set)",
            hits.len()
        ))
        .with_hint(format!(
            "turn them into one index first: oix fold LAYOUT:{name}"
        ))),
    }
}

/// The members of the current DEST:REF: an index's entries, or an image as one member.
pub fn current_members(layout: &Layout, cur: &Option<Current>, dest: &str) -> Result<Vec<Member>> {
    match cur {
        None => Ok(Vec::new()),
        Some(Current { index: Some(i), .. }) => members_of_index(layout, i, dest),
        Some(Current { entry, index: None }) if entry.is_manifest() => {
            Ok(vec![image_member(layout, entry, None, dest)?])
        }
        Some(Current { entry, .. }) => Err(Error::failure(format!(
            "{dest} points at {} ({}), which is neither an image nor an index",
            entry.digest, entry.media_type
        ))),
    }
}

/// Computes an edit's member list from DEST:REF as it is (planned once, then re-run
/// under the lock).
pub type BuildFn<'a> = dyn Fn(&Layout, Option<&Current>) -> Result<Vec<Member>> + 'a;

/// The result of an edit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    /// Whether index.json changed (false on a no-op, and always with --dry-run).
    pub changed: bool,
    pub dry_run: bool,
    pub diff: diff::Diff,
    /// What the edited tag named before, for an edit of a registry index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Documents converted by `--manifest-format`, old digest to new (docs/convert.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub converted: Vec<crate::convert::Pair>,
    /// What `--allow-lossy` dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<crate::convert::Item>,
    /// Mixed OCI and Docker children ([`crate::convert::mixed_children`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The referrers carried in with entries from other layouts (docs/referrers.md)
    /// and the name each is listed under (with --dry-run: would be).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<crate::referrers::Carried>,
    /// Listed in a source as referrers but none (not carried).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

/// The referrers to carry with the members that come from other layouts than `dest`
/// (their graphs, attestations included), per source layout, as `carry` says; with the
/// warnings about listed non-referrers.
pub fn member_referrers(
    dest: &Layout,
    members: &[Member],
    carry: &crate::copy::stores::Carry,
) -> Result<(MemberReferrers, Vec<crate::referrers::Warning>)> {
    let mut out = MemberReferrers::new();
    let mut warnings = Vec::new();
    if !carry.enabled {
        return Ok((out, warnings));
    }
    let filter = crate::referrers::ArtifactFilter {
        types: carry.types.clone(),
    };
    let mut by_layout: BTreeMap<&PathBuf, Vec<Descriptor>> = BTreeMap::new();
    for m in members.iter().filter(|m| m.layout.as_path() != dest.root()) {
        let e = by_layout.entry(&m.layout).or_default();
        e.push(m.descriptor.clone());
        e.extend(m.attestations.iter().cloned());
    }
    for (path, roots) in by_layout {
        let src = Layout::open(path)?;
        let (c, w) = crate::referrers::carry(&src, &roots, Some(&filter))?;
        warnings.extend(w);
        if !c.is_empty() {
            out.insert(path.clone(), c);
        }
    }
    Ok((out, warnings))
}

/// Referrers to carry, by the source layout they come from.
pub type MemberReferrers = BTreeMap<PathBuf, Vec<crate::referrers::Carried>>;

/// Copy every member's graph into `dest` (hard links where possible).
pub fn import_members(dest: &Layout, members: &[Member]) -> Result<()> {
    import_members_with(dest, members, &MemberReferrers::new())
}

/// [`import_members`], with the referrers carried from each source layout
/// ([`member_referrers`]) copied in the same copy (listing them is the caller's, in
/// its index.json transaction: [`crate::referrers::record_into`]).
pub fn import_members_with(
    dest: &Layout,
    members: &[Member],
    referrers: &MemberReferrers,
) -> Result<()> {
    let mut by_layout: BTreeMap<&PathBuf, Vec<Descriptor>> = BTreeMap::new();
    let mut local: Vec<Descriptor> = Vec::new();
    for m in members {
        if m.layout.as_path() == dest.root() {
            // Nothing to copy, but the graph must be whole all the same: a new index
            // must not list a broken descriptor (invalid digest, link out of the
            // layout, oversized manifest) that a copy would have refused.
            local.push(m.descriptor.clone());
            local.extend(m.attestations.iter().cloned());
            continue;
        }
        let e = by_layout.entry(&m.layout).or_default();
        e.push(m.descriptor.clone());
        e.extend(m.attestations.iter().cloned());
    }
    for (path, carried) in referrers {
        let e = by_layout.entry(path).or_default();
        *e = crate::referrers::with_carried(e, carried);
    }
    if !local.is_empty() {
        // Referenced from here on: keep gc out until the transaction is written.
        dest.enter_writer()?;
        let w = crate::graph::walk(dest, &local);
        if let Some(e) = w.first_error(&format!("cannot use {}", dest.root().display())) {
            return Err(e);
        }
    }
    // One copy for all the sources: a corrupt blob in any of them leaves dest unchanged.
    let srcs: Vec<(Layout, Vec<Descriptor>)> = by_layout
        .into_iter()
        .map(|(path, roots)| Ok((Layout::open(path)?, roots)))
        .collect::<Result<_>>()?;
    let pairs: Vec<(&dyn crate::store::Source, &[Descriptor])> = srcs
        .iter()
        .map(|(l, r)| (l as &dyn crate::store::Source, r.as_slice()))
        .collect();
    crate::copy::copy_graphs(&pairs, dest, &Default::default())?;
    Ok(())
}

/// Plan and apply one edit of DEST:REF. `build` computes the new member list from the
/// current one; it runs once to plan (no writes) and, unless `dry_run`, once more under
/// the index lock. Annotations are merged onto the index document.
pub fn edit_index(
    dest: &Layout,
    name: &str,
    opts: &EditOptions,
    import: &[Member],
    build: &BuildFn,
) -> Result<Outcome> {
    edit_index_with(dest, name, opts, import, build, true)
}

/// [`edit_index`], choosing whether an existing index's other fields (annotations,
/// unknown fields) are kept (`keep_base`) or the index is written afresh.
pub fn edit_index_with(
    dest: &Layout,
    name: &str,
    opts: &EditOptions,
    import: &[Member],
    build: &BuildFn,
    keep_base: bool,
) -> Result<Outcome> {
    edit_index_as(dest, name, opts, import, build, keep_base)
}

/// [`edit_index_with`] writing the index (and its children) in the format
/// `opts.convert` asks for (`--manifest-format` of `index create` and `merge`); `None`:
/// an OCI index of the members as they are. The referrers of members from other layouts
/// come along as `opts.referrers` says (docs/referrers.md).
pub fn edit_index_as(
    dest: &Layout,
    name: &str,
    opts: &EditOptions,
    import: &[Member],
    build: &BuildFn,
    keep_base: bool,
) -> Result<Outcome> {
    let (annotations, dry_run, conv) = (&opts.annotations, opts.dry_run, opts.convert.as_ref());
    crate::reference::validate_ref_name(name)?;
    let plan = |idx: &Index| -> Result<(Option<Current>, Index)> {
        let cur = current(dest, idx, name)?;
        let members = build(dest, cur.as_ref())?;
        let base = cur
            .as_ref()
            .and_then(|c| c.index.as_ref())
            .filter(|_| keep_base);
        Ok((
            cur.as_ref().map(|c| Current {
                entry: c.entry.clone(),
                index: c.index.clone(),
            }),
            compose(base, &members, annotations),
        ))
    };
    let (idx_now, _) = dest.read_index()?;
    let (cur, planned) = plan(&idx_now)?;
    // The conversion is planned before anything is written: a refusal leaves DEST as it is.
    let written = plan_written(dest, import, &planned, conv)?;
    // The referrers of what comes from other layouts come along (docs/referrers.md).
    let (referrers, referrer_warnings) = member_referrers(dest, import, &opts.referrers)?;
    let carried: Vec<crate::referrers::Carried> = referrers.values().flatten().cloned().collect();
    let with_referrers = |o: Outcome| Outcome {
        referrers: carried.clone(),
        referrer_warnings: referrer_warnings.clone(),
        ..o
    };
    if dry_run {
        return Ok(with_referrers(outcome(
            dest, name, written, &cur, false, true,
        )));
    }
    import_members_with(dest, import, &referrers)?;
    let ((w, cur), changed) = dest.transact(|idx| {
        let (cur, new) = plan(idx)?;
        let w = finish(dest, &new, conv)?;
        for b in &w.docs {
            dest.write_blob_bytes(b)?;
        }
        let digest = crate::Digest::parse(&w.root.digest)?;
        let mut entry = Descriptor::new(&w.root.media_type, &digest, w.root.size as u64);
        if let Some(c) = &cur {
            // Keep what else the ref's descriptor carried (annotations, unknown fields).
            entry.annotations = c.entry.annotations.clone();
            entry.extra = c.entry.extra.clone();
        }
        tags::set_ref(idx, &entry, name)?;
        crate::referrers::record_into(dest, idx, &carried)?;
        Ok((w, cur))
    })?;
    Ok(with_referrers(outcome(dest, name, w, &cur, changed, false)))
}

/// What an edit of `name` in `dest` reports: the index written as `w`, compared with
/// what the ref named before (`cur`).
fn outcome(
    dest: &Layout,
    name: &str,
    w: Written,
    cur: &Option<Current>,
    changed: bool,
    dry: bool,
) -> Outcome {
    let before: Vec<Descriptor> = match cur {
        Some(Current { index: Some(i), .. }) => i.manifests.clone(),
        Some(Current { entry, .. }) => vec![entry.clone()],
        None => Vec::new(),
    };
    let before_ann = cur
        .as_ref()
        .and_then(|c| c.index.as_ref())
        .map(|i| i.annotations.clone())
        .unwrap_or_default();
    let warnings = crate::convert::mixed_children(&w.root.media_type, &w.manifests)
        .into_iter()
        .collect();
    Outcome {
        ref_name: name.to_string(),
        digest: w.root.digest.clone(),
        media_type: w.root.media_type.clone(),
        size: w.root.size,
        changed,
        dry_run: dry,
        diff: diff::diff_entries(dest, &before, &w.manifests, &before_ann, &w.annotations),
        previous: None,
        converted: w.converted,
        dropped: w.dropped,
        warnings,
        referrers: Vec::new(),
        referrer_warnings: Vec::new(),
    }
}

/// Resolve `dest` (LAYOUT:REF) into its layout and ref name. With `create`, a missing
/// layout is created on the first write and only kept if the edit commits
/// ([`Layout::open_or_create`]).
pub fn open_dest(
    dest: &str,
    lock_timeout: std::time::Duration,
    create: bool,
) -> Result<(Layout, String)> {
    let r = LayoutRef::parse(dest)?;
    let name = match &r.target {
        Target::Name(n) => n.clone(),
        _ => {
            return Err(
                Error::usage(format!("{dest}: the destination must be LAYOUT:REF"))
                    .with_hint("name the ref to create or edit, e.g. ./out:latest"),
            )
        }
    };
    let layout = if create {
        Layout::open_or_create(&r.path)?
    } else {
        Layout::open(&r.path)?
    };
    Ok((layout.with_lock_timeout(lock_timeout), name))
}

/// Options shared by the index-editing commands.
#[derive(Debug, Clone, Default)]
pub struct EditOptions {
    /// Annotations to set on the index document.
    pub annotations: BTreeMap<String, String>,
    pub dry_run: bool,
    /// Inline the entries of index sources instead of nesting them.
    pub flatten: bool,
    /// `--manifest-format oci|docker`: the index (and its children) in that format.
    pub convert: Option<crate::convert::Request>,
    /// Which referrers of entries from other layouts come along (by default all).
    pub referrers: crate::copy::stores::Carry,
}

fn resolve_all(sources: &[SourceSpec], flatten: bool) -> Result<Vec<Member>> {
    let expand = if flatten {
        Expand::Flatten
    } else {
        Expand::Nest
    };
    resolve_sources(sources, expand)
}

/// `oix index create DEST:REF SRC…`: a new index from the sources (REF moves to it).
pub fn create(
    dest: &Layout,
    name: &str,
    sources: &[SourceSpec],
    opts: &EditOptions,
) -> Result<Outcome> {
    let incoming = resolve_all(sources, opts.flatten)?;
    let build = |_: &Layout, _: Option<&Current>| -> Result<Vec<Member>> {
        let mut list = MemberList::new();
        for m in &incoming {
            list.upsert(m.clone(), AddMode::Fail).map_err(|e| {
                Error::usage(format!(
                    "two sources give the platform {}: {}",
                    m.label(),
                    e.message
                ))
                .with_hint("drop one, or use `oix index add --mode append` to keep both on purpose")
            })?;
        }
        Ok(list.into_vec())
    };
    // A fresh index: nothing of the previous REF is carried over.
    let fresh = |l: &Layout, _: Option<&Current>| build(l, None);
    edit_index_fresh(dest, name, opts, &incoming, &fresh)
}

fn edit_index_fresh(
    dest: &Layout,
    name: &str,
    opts: &EditOptions,
    import: &[Member],
    build: &BuildFn,
) -> Result<Outcome> {
    edit_index_as(dest, name, opts, import, build, false)
}

/// `oix index add DEST:REF SRC…`: upsert each source keyed on its platform; creates
/// DEST:REF when missing. An image DEST:REF becomes an index holding it first.
pub fn add(
    dest: &Layout,
    name: &str,
    sources: &[SourceSpec],
    mode: AddMode,
    opts: &EditOptions,
) -> Result<Outcome> {
    let incoming = resolve_all(sources, opts.flatten)?;
    let build = |layout: &Layout, cur: Option<&Current>| -> Result<Vec<Member>> {
        let cur_owned = cur.map(|c| Current {
            entry: c.entry.clone(),
            index: c.index.clone(),
        });
        let mut list = MemberList::from(current_members(layout, &cur_owned, name)?);
        for m in &incoming {
            list.upsert(m.clone(), mode)?;
        }
        Ok(list.into_vec())
    };
    edit_index_as(dest, name, opts, &incoming, &build, true)
}

/// [`add`] into TAG of a store that is not a layout (a registry; [`super::remote`]).
pub fn add_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    sources: &[super::remote::EditSource],
    mode: AddMode,
    opts: &EditOptions,
    jobs: usize,
) -> Result<Outcome> {
    let expand = if opts.flatten {
        Expand::Flatten
    } else {
        Expand::Nest
    };
    let (incoming, stores) = super::remote::resolve_edit_sources(sources, expand)?;
    let build = |existing: Vec<Member>, _: Option<&Descriptor>| -> Result<Vec<Member>> {
        let mut list = MemberList::from(existing);
        for m in &incoming {
            list.upsert(m.clone(), mode)?;
        }
        Ok(list.into_vec())
    };
    super::remote::edit_store(
        dest,
        tag,
        &opts.annotations,
        opts.dry_run,
        &incoming,
        &stores,
        &build,
        true,
        jobs,
        &opts.referrers,
    )
}
