//! `oix copy SRC DEST` between any two stores, and the run that `push` and `pull` share
//! with it: resolve the source's name, subset when filters are given (the one subset,
//! never sparse), copy the graph ([`crate::copy::copy_graph`]), then set the names
//! (tag-last: a name is set only after everything it reaches is in the store).
//!
//! Registry specifics live in the registry store and are used from here:
//! - a root the destination registry holds by digest is not walked (distribution accepts
//!   a manifest only when everything it references is present), so a retag within one
//!   repository sends only the manifest;
//! - between two repositories of one registry, the destination tries a cross-repository
//!   mount from the source repository first (added to `--mount-from`);
//! - registry to registry, blobs stream through (never touching disk), a resumed upload
//!   reading the rest with a `Range` request ([`crate::store::Source::open_at`]).

use super::{CopyOptions, CopyReport, Moved};
use crate::error::{Error, Result};
use crate::model::{self, Descriptor, Index, Platform};
use crate::reference::{LayoutRef, Reference, Target};
use crate::select::{OnAmbiguity, Selector};
use crate::store::{open, Access, Connect, Names, Overlay, Source, Store, StoreRef};
use crate::{platform, resolve};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::time::Instant;

/// Parallel HEADs used to find what a registry already has.
const HEAD_THREADS: usize = 16;

/// A name to set after the copy, and the document it names.
#[derive(Debug, Clone, Serialize)]
pub struct NamePlan {
    pub name: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `os/arch[/variant]` for per-arch tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip)]
    pub descriptor: Descriptor,
}

impl NamePlan {
    pub fn new(name: &str, d: &Descriptor) -> NamePlan {
        NamePlan {
            name: name.to_string(),
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            platform: None,
            descriptor: d.clone(),
        }
    }
}

/// What setting a name did.
#[derive(Debug, Clone, Serialize)]
pub struct NameOutcome {
    pub name: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `created`, `moved` or `unchanged`.
    pub action: &'static str,
    /// The digest a moved name pointed at before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// How a run copies.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub jobs: usize,
    /// Walk every root even when the destination registry holds it by digest.
    pub force_recursive: bool,
    /// Which referrers travel with what is copied.
    pub referrers: Carry,
}

/// Which referrers a copy carries (docs/referrers.md): by default every referrer of
/// every manifest and index it copies, recursively; `--no-referrers` none;
/// `--referrers-type TYPE` only those of these artifact types.
#[derive(Debug, Clone)]
pub struct Carry {
    pub enabled: bool,
    pub types: Vec<String>,
}

impl Default for Carry {
    fn default() -> Self {
        Carry {
            enabled: true,
            types: Vec::new(),
        }
    }
}

impl Carry {
    pub fn none() -> Carry {
        Carry {
            enabled: false,
            types: Vec::new(),
        }
    }
}

/// The referrers to carry with `roots` from `source` to `dst` (none when `carry` says
/// so), with the warnings about listed non-referrers. A docker-archive has no place
/// for referrers (as `oix export --format docker-archive`): none are carried, and a
/// warning (`referrers_not_carried`) says how many stay behind.
pub fn carried_referrers(
    source: &dyn Source,
    roots: &[Descriptor],
    dst: StoreRef<'_>,
    carry: &Carry,
) -> Result<(
    Vec<crate::referrers::Carried>,
    Vec<crate::referrers::Warning>,
)> {
    if !carry.enabled || roots.is_empty() || matches!(dst, StoreRef::Archive(_)) {
        return Ok((Vec::new(), Vec::new()));
    }
    let filter = crate::referrers::ArtifactFilter {
        types: carry.types.clone(),
    };
    let (carried, mut warnings) = crate::referrers::carry(source, roots, Some(&filter))?;
    match dst {
        StoreRef::ArchiveFile(a) if a.is_docker() => {
            if !carried.is_empty() {
                warnings.push(crate::referrers::Warning {
                    code: "referrers_not_carried",
                    digest: None,
                    message: format!(
                        "{} referrer(s) not carried: a docker-archive has no place for them (docker load ignores them); copy to an oci-archive to keep them",
                        carried.len()
                    ),
                });
            }
            Ok((Vec::new(), warnings))
        }
        _ => Ok((carried, warnings)),
    }
}

/// `roots`, then the carried referrers that are not roots already, each once.
fn with_referrers(roots: &[Descriptor], carried: &[crate::referrers::Carried]) -> Vec<Descriptor> {
    let mut seen: HashSet<&str> = roots.iter().map(|r| r.digest.as_str()).collect();
    let mut out = roots.to_vec();
    for c in carried {
        if seen.insert(c.descriptor.digest.as_str()) {
            out.push(c.descriptor.clone());
        }
    }
    out
}

/// List carried referrers at the destination, after their content is there: in a
/// layout, one index.json transaction (docs/referrers.md); on a registry, a cosign
/// referrer under its tag, the others in the subject's fallback-tag index (unless the
/// registry offers the referrers API and lists them itself).
fn record_referrers(
    source: &dyn Source,
    dst: StoreRef<'_>,
    carried: &[crate::referrers::Carried],
) -> Result<()> {
    match dst {
        StoreRef::Layout(l) => crate::referrers::record(l, carried).map(|_| ()),
        StoreRef::Registry(r) => {
            let mut by_subject: Vec<(&str, Vec<Descriptor>)> = Vec::new();
            for c in carried {
                if c.cosign {
                    let bytes = source.read_small(&c.descriptor)?;
                    let mut d = c.descriptor.clone();
                    d.artifact_type = None;
                    r.put_manifest_at(&c.tag, &d, &bytes)?;
                    continue;
                }
                match by_subject.iter_mut().find(|(s, _)| *s == c.subject) {
                    Some((_, v)) => v.push(c.descriptor.clone()),
                    None => by_subject.push((&c.subject, vec![c.descriptor.clone()])),
                }
            }
            for (subject, list) in by_subject {
                r.list_referrers(&crate::digest::Digest::parse(subject)?, &list)?;
            }
            Ok(())
        }
        // An archive being written lists them in its index.json as `oix export` does
        // (`referrers::entries_for`: the same entries, in the same order, so the same
        // bytes): each subject's referrers index (a new document) under its fallback
        // tag, a cosign referrer under its own tag.
        StoreRef::ArchiveFile(_) => {
            let (entries, indexes) = crate::referrers::entries_for(carried)?;
            for bytes in indexes {
                let d = Descriptor::new(
                    crate::model::media::OCI_INDEX,
                    &crate::digest::Digest::sha256_of(&bytes),
                    bytes.len() as u64,
                );
                dst.sink().put_manifest(&d, &bytes)?;
            }
            for e in entries {
                let name = e.ref_name().unwrap_or_default().to_string();
                dst.names().set_names(std::slice::from_ref(&name), &e)?;
            }
            Ok(())
        }
        // An archive opened for reading is not written to.
        StoreRef::Archive(_) => Ok(()),
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub report: CopyReport,
    /// Roots the destination registry held by digest (their graphs were not walked).
    pub roots_present: u64,
    pub names: Vec<NameOutcome>,
    /// The referrers carried (listed at the destination), parents first.
    pub referrers: Vec<crate::referrers::Carried>,
    /// What the source listed as referrers but is none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

/// Copy the graphs under `roots` from `source` to `dst`, then set `names` in order,
/// then list the referrers carried with them ([`RunOptions::referrers`]; their content
/// is copied with the graphs, each after its subject).
pub fn run(
    source: &dyn Source,
    roots: &[Descriptor],
    names: &[NamePlan],
    dst: StoreRef<'_>,
    opts: &RunOptions,
) -> Result<Outcome> {
    let mut todo = Vec::new();
    let mut roots_present = 0;
    if let StoreRef::Registry(r) = dst {
        r.client.ping()?;
    }
    let (carried, warnings) = carried_referrers(source, roots, dst, &opts.referrers)?;
    let all_roots = with_referrers(roots, &carried);
    let roots = &all_roots[..];
    if let StoreRef::Registry(r) = dst {
        for root in roots {
            if !opts.force_recursive
                && r.head_manifest(&root.digest)?.as_deref() == Some(&root.digest)
            {
                roots_present += 1;
            } else {
                todo.push(root.clone());
            }
        }
        if !todo.is_empty() {
            let plan = super::plan(source, &todo)?;
            r.prefetch_blobs(&plan.leaves, HEAD_THREADS.max(opts.jobs))?;
        }
    } else {
        todo = roots.to_vec();
    }
    let report = if todo.is_empty() {
        CopyReport::default()
    } else {
        super::copy_graph(
            source,
            dst.sink(),
            &todo,
            &CopyOptions {
                jobs: opts.jobs.max(1),
            },
        )?
    };
    let mut outcomes = Vec::new();
    for n in names {
        let previous = dst.names().resolve_name(&n.name)?.map(|d| d.digest);
        let action = match &previous {
            Some(p) if *p == n.digest => "unchanged",
            Some(_) => "moved",
            None => "created",
        };
        // A registry tag that already names the digest is left alone (one manifest
        // validation less); a layout entry is rewritten in place when its descriptor
        // differs (a no-op otherwise).
        if action != "unchanged" || matches!(dst, StoreRef::Layout(_)) {
            dst.names()
                .set_names(std::slice::from_ref(&n.name), &n.descriptor)?;
        }
        outcomes.push(NameOutcome {
            name: n.name.clone(),
            digest: n.digest.clone(),
            platform: n.platform.clone(),
            action,
            previous: previous.filter(|p| *p != n.digest),
        });
    }
    record_referrers(source, dst, &carried)?;
    Ok(Outcome {
        report,
        roots_present,
        names: outcomes,
        referrers: carried,
        referrer_warnings: warnings,
    })
}

/// One line of a dry-run plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// `upload`, `skip` (blobs); `put`, `skip` (manifests); `create`, `move`, `keep`
    /// (tags); `list` (referrers: listed under `tag` at the destination).
    pub action: &'static str,
    /// `blob`, `manifest`, `tag` or `referrer`.
    pub kind: &'static str,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// For a tag that moves: the digest it points at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// Whether `dst` holds `d`, asked without writing anything (a layout not created yet
/// holds nothing).
fn holds(dst: StoreRef<'_>, d: &Descriptor) -> Result<bool> {
    match dst {
        StoreRef::Layout(l) => Ok(l.has_blob(&d.digest()?)),
        StoreRef::Registry(r) if d.is_manifest() || d.is_index() => {
            Ok(r.head_manifest(&d.digest)?.is_some())
        }
        StoreRef::Registry(r) => r.has_blob(&d.digest()?),
        StoreRef::Archive(a) => a.contains(&d.digest()?),
        StoreRef::ArchiveFile(a) => a.contains(&d.digest()?),
    }
}

/// What [`run`] would do: reads and HEADs only, nothing written.
pub fn dry_run(
    source: &dyn Source,
    roots: &[Descriptor],
    names: &[NamePlan],
    dst: StoreRef<'_>,
    jobs: usize,
    referrers: &Carry,
) -> Result<Vec<PlanStep>> {
    if let StoreRef::Registry(r) = dst {
        r.client.ping()?;
    }
    let (carried, _) = carried_referrers(source, roots, dst, referrers)?;
    let all_roots = with_referrers(roots, &carried);
    let cp = super::plan(source, &all_roots)?;
    let step = |d: &Descriptor, kind: &'static str, yes: &'static str| -> Result<PlanStep> {
        Ok(PlanStep {
            action: if holds(dst, d)? { "skip" } else { yes },
            kind,
            digest: d.digest.clone(),
            size: d.size,
            tag: None,
            previous: None,
        })
    };
    let mut steps: Vec<PlanStep> = crate::pool::install(HEAD_THREADS.max(jobs), || {
        cp.leaves
            .par_iter()
            .map(|d| step(d, "blob", "upload"))
            .chain(cp.documents.par_iter().map(|d| step(d, "manifest", "put")))
            .collect::<Result<Vec<_>>>()
    })??;
    for n in names {
        let now = match dst {
            StoreRef::Layout(l) if !l.root().join("index.json").exists() => None,
            _ => dst.names().resolve_name(&n.name)?.map(|d| d.digest),
        };
        let (action, previous) = match now {
            None => ("create", None),
            Some(p) if p == n.digest => ("keep", None),
            Some(p) => ("move", Some(p)),
        };
        steps.push(PlanStep {
            action,
            kind: "tag",
            digest: n.digest.clone(),
            size: n.descriptor.size,
            tag: Some(n.name.clone()),
            previous,
        });
    }
    for c in &carried {
        steps.push(PlanStep {
            action: "list",
            kind: "referrer",
            digest: c.descriptor.digest.clone(),
            size: c.descriptor.size,
            tag: Some(c.tag.clone()),
            previous: None,
        });
    }
    Ok(steps)
}

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

/// What `oix copy` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct CopyRequest {
    /// `--platform` and `--where`: copy only these entries (the index is rewritten).
    pub platforms: Vec<String>,
    pub wheres: Vec<String>,
    /// Report what would move; write nothing.
    pub dry_run: bool,
    /// Walk every root even when the destination registry holds it by digest.
    pub force_recursive: bool,
    /// Conversion and referrers.
    pub carry: CarryOptions,
    /// `--add-compression zstd`: add a zstd twin per platform after the subset, before
    /// a format conversion ([`crate::recompress::recompress_into`]).
    pub add_compression: Option<crate::compress::Compression>,
}

/// How a copy carries documents and referrers: the options `copy`, `push` and `pull`
/// share (one declaration, one meaning).
#[derive(Debug, Clone, Default)]
pub struct CarryOptions {
    /// `--manifest-format oci|docker`: convert the documents (after the subset, before
    /// the copy; [`crate::convert`]); `None` copies them as stored.
    pub manifest_format: Option<crate::convert::Format>,
    /// `--allow-lossy`: what a conversion to Docker may drop.
    pub allow_lossy: Vec<crate::convert::Loss>,
    /// Which referrers travel along (all by default).
    pub referrers: Carry,
}

/// What carrying did: the `--json` fields `copy`, `push` and `pull` share (flattened
/// into each summary, so their output keeps its shape).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CarrySummary {
    /// `--manifest-format`: every document converted, old digest to new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub converted: Vec<crate::convert::Pair>,
    /// What `--allow-lossy` let the conversion drop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<crate::convert::Item>,
    /// The referrers carried along and where each is listed now.
    pub referrers: Vec<crate::referrers::Carried>,
}

/// The `--json` result of `oix copy`.
#[derive(Debug, Clone, Serialize)]
pub struct CopySummary {
    pub source: String,
    pub destination: String,
    /// The digest the destination's name points at now (after a subset: the new index).
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    /// The name set at the destination (none when it names a digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<NameOutcome>,
    /// An archive destination: the file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveWritten>,
    /// The destination registry held the root by digest: nothing was walked.
    pub root_present: bool,
    /// Every blob (config, layer) and what happened to it: `present`, `mounted`,
    /// `copied`, `linked`.
    pub blobs: Vec<Moved>,
    /// Every manifest and index: `written` or `present`.
    pub manifests: Vec<Moved>,
    /// `converted`, `dropped`, `referrers`.
    #[serde(flatten)]
    pub carried: CarrySummary,
    /// Listed in the source as referrers but none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
    pub copied: u64,
    pub mounted: u64,
    pub linked: u64,
    pub present: u64,
    /// Bytes of blobs copied (links, mounts and present blobs move none).
    pub bytes: u64,
    /// Requests retried after transient failures (both registries).
    pub retries: u64,
    /// `--manifest-format auto`: why the registry refused the stored format and what
    /// was copied instead (the copy was retried once, converted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<String>,
    /// Uploads to a registry continued from its upload status / started over.
    pub resumed: u64,
    pub restarted: u64,
    pub seconds: f64,
}

/// The archive file a copy wrote (sha256 and size of the file, blobs in it).
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveWritten {
    pub digest: String,
    pub size: u64,
    pub blobs: u64,
}

/// The result of [`copy`]: done, or the plan of a dry run.
pub enum CopyResult {
    Done(Box<CopySummary>),
    DryRun {
        source: String,
        destination: String,
        digest: String,
        steps: Vec<PlanStep>,
        /// `--manifest-format`: the documents that would be converted.
        converted: Vec<crate::convert::Pair>,
    },
}

/// The descriptor `target` names in an opened source store.
fn resolve_source(src: &Store, reference: &Reference, target: &Target) -> Result<Descriptor> {
    let mut d = match (src, reference) {
        (Store::Layout(l), Reference::Layout(r)) => resolve::resolve_one(l, r)?.descriptor,
        _ => {
            let wanted = match target {
                Target::Digest(d) => d.to_string(),
                Target::Name(n) => n.clone(),
                Target::Default => "latest".to_string(),
            };
            src.names().resolve_name(&wanted)?.ok_or_else(|| {
                Error::no_match(format!("{}:{wanted}: no such manifest", src.describe()))
                    .with_hint("check the tag or digest (`skopeo list-tags` shows the tags)")
            })?
        }
    };
    d.annotations.remove(model::annotation::REF_NAME);
    Ok(d)
}

/// The name to set at the destination: its own tag or ref, else the source's name;
/// none when the destination names a digest (which must then be what is copied).
fn destination_name(
    src_target: &Target,
    dst_target: &Target,
    destination: &str,
) -> Result<Option<String>> {
    match (dst_target, src_target) {
        (Target::Name(n), _) => Ok(Some(n.clone())),
        (Target::Digest(_), _) => Ok(None),
        (Target::Default, Target::Name(n)) => Ok(Some(n.clone())),
        (Target::Default, Target::Default) => Ok(Some("latest".to_string())),
        (Target::Default, Target::Digest(_)) => Err(Error::usage(format!(
            "{destination}: the source names a digest: name the tag or ref to copy it to"
        ))
        .with_hint(format!("write {destination}:TAG"))),
    }
}

/// `oix copy SRC DEST`: see the module documentation. `connect` reaches the
/// destination (its `jobs`, `mount_from`, `chunk_size` and `progress` apply there), and
/// the source unless `src_connect` is given for it.
pub fn copy(
    src_ref: &Reference,
    dst_ref: &Reference,
    connect: &Connect,
    src_connect: Option<&Connect>,
    req: &CopyRequest,
) -> Result<CopyResult> {
    let start = Instant::now();
    // Progress is drawn by the side that uploads (a registry destination); a source
    // registry reporting the same blobs' reads would count them twice.
    let src_connect = Connect {
        mount_from: Vec::new(),
        progress: None,
        ..src_connect.unwrap_or(connect).clone()
    };
    let src = open(src_ref, Access::Read, &src_connect)?;
    let mut dst_connect = connect.clone();
    let mut same_repository = false;
    if let (Reference::Registry(s), Reference::Registry(d)) = (src_ref, dst_ref) {
        if s.host == d.host {
            if s.repo == d.repo {
                same_repository = true;
            } else if !dst_connect.mount_from.contains(&s.repo) {
                // Same registry: mount before uploading.
                dst_connect.mount_from.insert(0, s.repo.clone());
            }
        }
    }
    let access = if req.dry_run {
        // Nothing is written: a registry token for pulling is enough, and a layout is
        // not created (it is only created on the first write anyway).
        Access::Read
    } else {
        Access::Write
    };
    let mut dst = match (dst_ref, access) {
        (Reference::Layout(_) | Reference::Archive { .. }, Access::Read) => {
            open(dst_ref, Access::Write, &dst_connect)?
        }
        _ => open(dst_ref, access, &dst_connect)?,
    };
    let dest_name = destination_name(&src.target, &dst.target, &dst.store.describe())?;
    let root = resolve_source(&src.store, src_ref, &src.target)?;
    let mut source = Overlay::new(src.store.source());
    // A docker-archive holds one image: --platform chooses it (as `oix export --format
    // docker-archive`), the OCI side keeps the whole index.
    let mut platforms = req.platforms.as_slice();
    if let Store::ArchiveFile(a) = &mut dst.store {
        if a.is_docker() && !platforms.is_empty() {
            let [one] = platforms else {
                return Err(Error::usage(
                    "a docker-archive holds one image: give --platform once",
                ));
            };
            a.choose_platform(crate::platform::PlatformSpec::parse(one)?);
            platforms = &[];
        }
    }
    let subsetting = !(platforms.is_empty() && req.wheres.is_empty());
    let root = if !subsetting {
        root
    } else {
        // Unknown-platform warnings are the caller's to show (`select::filters::platform_warnings`).
        let selector = crate::select::subset_selector(platforms, &req.wheres)?.selector;
        let r = match src_ref {
            Reference::Layout(r) => r.clone(),
            Reference::Registry(r) => crate::select::registry_ref(r),
            Reference::Archive { path, name, .. } => LayoutRef {
                path: path.clone(),
                target: name.clone().map(Target::Name).unwrap_or(Target::Default),
            },
        };
        subset_selected(&mut source, src.store.names(), &r, &root, &selector)?
    };
    let twinned = match req.add_compression {
        Some(c) => {
            crate::recompress::add_twins(&mut source, &root, c, crate::compress::default_jobs())?
        }
        None => root.clone(),
    };
    let recompressed = twinned.digest != root.digest;
    let root = twinned;
    // `auto` copies as stored and converts only when a registry refuses (below).
    let auto = req.carry.manifest_format == Some(crate::convert::Format::Auto);
    let conversion = match req.carry.manifest_format.filter(|_| !auto) {
        Some(to) => Some(crate::convert::convert_into(
            &mut source,
            &root,
            to,
            &req.carry.allow_lossy,
        )?),
        None => None,
    };
    let converting = conversion.as_ref().is_some_and(|c| c.root != root);
    let mut root = conversion.as_ref().map_or(root, |c| c.root.clone());
    let (mut converted, mut dropped) =
        conversion.map_or_else(Default::default, |c| (c.pairs, c.dropped));
    if let Target::Digest(d) = &dst.target {
        if d.to_string() != root.digest {
            return Err(Error::usage(format!(
                "{}@{d}: the content to copy is {}, not the digest the destination names",
                dst.store.describe(),
                root.digest
            )));
        }
    }
    if let Store::ArchiveFile(a) = &dst.store {
        a.prepare(&source, &root)?;
    }
    let mut names: Vec<NamePlan> = dest_name.iter().map(|n| NamePlan::new(n, &root)).collect();
    // Within one repository the registry holds the source's whole graph already (it
    // was just resolved there): only the name is sent, no blob is asked about.
    let retag =
        same_repository && !subsetting && !converting && !recompressed && !req.force_recursive;
    let roots = if retag {
        &[][..]
    } else {
        std::slice::from_ref(&root)
    };
    if req.dry_run {
        let steps = dry_run(
            &source,
            roots,
            &names,
            dst.store.as_ref(),
            connect.jobs,
            &req.carry.referrers,
        )?;
        return Ok(CopyResult::DryRun {
            source: src.store.describe(),
            destination: dst.store.describe(),
            digest: root.digest.clone(),
            steps,
            converted,
        });
    }
    let opts = RunOptions {
        jobs: connect.jobs,
        force_recursive: req.force_recursive,
        referrers: req.carry.referrers.clone(),
    };
    let mut retried_as = None;
    let out = match run(&source, roots, &names, dst.store.as_ref(), &opts) {
        Ok(out) => out,
        Err(e) => {
            let why = match crate::convert::refused_format(&e) {
                Some(why) if auto => why,
                _ => return Err(e),
            };
            // The registry refused the stored format: the other one, once.
            let to = crate::convert::Format::Auto.for_root(&root.media_type);
            let c = crate::convert::convert_into(&mut source, &root, to, &req.carry.allow_lossy)
                .map_err(|ce| {
                    ce.context(format!(
                        "the registry refused {} ({why}) and --manifest-format auto cannot convert it",
                        root.digest
                    ))
                })?;
            retried_as = Some(format!(
                "the registry refused the documents as stored ({why}): converted to {} ({} documents) and copied again",
                to.name(),
                c.pairs.len()
            ));
            root = c.root;
            converted = c.pairs;
            dropped = c.dropped;
            names = dest_name.iter().map(|n| NamePlan::new(n, &root)).collect();
            run(
                &source,
                std::slice::from_ref(&root),
                &names,
                dst.store.as_ref(),
                &opts,
            )?
        }
    };
    let r = out.report;
    let retried = |s: &Store| match s {
        Store::Registry(r) => r.client.retried.load(std::sync::atomic::Ordering::Relaxed),
        Store::Layout(_) | Store::Archive(_) | Store::ArchiveFile(_) => 0,
    };
    let (resumed, restarted) = match &dst.store {
        Store::Registry(r) => {
            let s = r.snapshot();
            (s.resumed, s.restarted)
        }
        Store::Layout(_) | Store::Archive(_) | Store::ArchiveFile(_) => (0, 0),
    };
    let retries = retried(&src.store) + retried(&dst.store);
    let destination = dst.store.describe();
    // The last step: an archive destination is written now, whole.
    let archive = dst.store.finish()?.map(|w| ArchiveWritten {
        digest: w.digest.to_string(),
        size: w.size,
        blobs: w.blobs,
    });
    Ok(CopyResult::Done(Box::new(CopySummary {
        source: src.store.describe(),
        destination,
        archive,
        digest: root.digest.clone(),
        media_type: root.media_type.clone(),
        size: root.size,
        name: out.names.into_iter().next(),
        root_present: retag || out.roots_present > 0,
        copied: r.copied,
        mounted: r.mounted,
        linked: r.linked,
        present: r.blobs.iter().filter(|b| b.outcome == "present").count() as u64,
        bytes: r.bytes,
        blobs: r.blobs,
        manifests: r.documents,
        carried: CarrySummary {
            converted,
            dropped,
            referrers: out.referrers,
        },
        referrer_warnings: out.referrer_warnings,
        retries,
        retried: retried_as,
        resumed,
        restarted,
        seconds: start.elapsed().as_secs_f64(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::layout::Layout;
    use crate::select::EntryFilter;

    #[test]
    fn subsets_keep_attestations_of_kept_entries() {
        let d = |n: u8| format!("sha256:{}", format!("{n:02x}").repeat(32));
        let idx = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(1), "size": 1,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(2), "size": 1,
                 "platform": {"os": "linux", "architecture": "arm64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(3), "size": 1,
                 "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": d(2)}}
            ],
            "x-extra": true
        });
        let bytes = serde_json::to_vec(&idx).unwrap();
        let root = Descriptor::new(
            model::media::OCI_INDEX,
            &Digest::sha256_of(&bytes),
            bytes.len() as u64,
        );
        let dir = tempfile::tempdir().unwrap();
        let (layout, _) = Layout::init(dir.path().join("l")).unwrap();
        let mut source = Overlay::new(&layout);
        let mut subset_index =
            |bytes: &[u8],
             what: &str,
             keep: &dyn Fn(&Descriptor) -> bool,
             filter: &str,
             of: &dyn Fn(&Descriptor) -> Option<Platform>| {
                subset_root(&mut source, &root, bytes, what, keep, filter, of)
                    .map(|kept| kept.map(|k| source.read_small(&k).unwrap()))
            };
        let of = |d: &Descriptor| d.platform.as_deref().cloned();
        let filter = |p: &[&str], w: &[&str]| {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            let w: Vec<String> = w.iter().map(|s| s.to_string()).collect();
            EntryFilter::parse(&p, &w).unwrap()
        };
        let mut sub = |f: EntryFilter| {
            let keep = |d: &Descriptor| f.keeps(d, of(d).as_ref());
            subset_index(&bytes, "t", &keep, &f.describe(), &of)
        };
        let out = sub(filter(&["linux/arm64"], &[])).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let digests: Vec<&str> = v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap())
            .collect();
        assert_eq!(digests, vec![d(2).as_str(), d(3).as_str()]);
        assert_eq!(v["x-extra"], true);
        let all = filter(&["linux/arm64", "linux/amd64"], &[]);
        assert!(sub(all).unwrap().is_none());
        // --where alone, on the descriptors' own fields and annotations.
        let w = filter(&[], &["mediaType~=manifest"]);
        assert!(sub(w.clone()).unwrap().is_none());
        let w = filter(&[], &["org.example.missing"]);
        assert!(sub(w.clone()).is_err());
        let none = filter(&["linux/s390x"], &[]);
        let e = sub(none).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::NoMatch);
    }
}
