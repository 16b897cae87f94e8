//! Index authoring inside layouts: `index create`, `index add`, `merge` (and the pieces
//! `index rm` and `annotate` share).
//!
//! Every edit follows one shape:
//! 1. resolve the sources into [`Member`]s (an image with its platform and attestations,
//!    or a nested index) — pure reads;
//! 2. plan: compute the new index from the current DEST:REF without writing, so a
//!    refusal (`--mode fail`, `require-all`) or a `--dry-run` leaves the layout untouched;
//! 3. copy the members' graphs into DEST (hard links; idempotent, gc-fenced);
//! 4. one [`Layout::transact`]: re-read DEST:REF under the lock, recompute the index with
//!    the same function, write it as a blob and point REF at it. Concurrent pipelines
//!    adding different platforms therefore never lose each other's entries.
//!
//! Entries are keyed on the normalized platform ([`PlatformSpec`]), so `arm64` and
//! `arm64/v8`, `x86_64` and `amd64` are one key. Indexes oix writes are OCI indexes,
//! serialized deterministically; member descriptors (and the bytes they point to) are
//! kept as the sources had them.

pub mod diff;
pub mod merge;
pub mod rewrite;

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::Platform;
use crate::model::{annotation, media, Descriptor, Document, Index};
use crate::platform::{entry_platform, parse_to_record, PlatformSpec};
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use crate::tags;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Annotation oix puts on entries that `merge --policy keep-missing` carried over from
/// the previous index: the ref and digest they came from.
pub const CARRIED_FROM: &str = "dev.oix.merge.carried-from";

/// A source argument: `REF` or `REF=os/arch[/variant]`.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub text: String,
    pub reference: LayoutRef,
    /// The platform override as it will be recorded (see [`parse_to_record`]).
    pub platform: Option<Platform>,
    /// Record an override whose os or architecture is not a known GOOS/GOARCH value.
    pub allow_unknown_platform: bool,
    /// Record an override that disagrees with the image's config.
    pub force_platform: bool,
}

impl SourceSpec {
    /// Parse `SRC[=PLATFORM]` ([`crate::reference::split_platform`]).
    pub fn parse(text: &str) -> Result<SourceSpec> {
        let (source, platform) = crate::reference::split_platform(text)?;
        Ok(SourceSpec {
            text: text.to_string(),
            reference: LayoutRef::parse(source)?,
            platform,
            allow_unknown_platform: false,
            force_platform: false,
        })
    }

    /// Refuse an override naming an unknown os or architecture (a typo such as
    /// `linux/amd65`) unless `allow_unknown_platform`.
    pub fn check_platform(&self) -> Result<()> {
        match &self.platform {
            Some(p) => PlatformSpec::from_platform(p)
                .check_known(self.allow_unknown_platform)
                .map_err(|e| e.context(format!("source {}", self.text))),
            None => Ok(()),
        }
    }

    /// Apply `--platform` values given beside the sources: one per source in order, or
    /// one for a single source. A source with both forms must agree.
    pub fn apply_platform_flags(sources: &mut [SourceSpec], flags: &[String]) -> Result<()> {
        if flags.is_empty() {
            return Ok(());
        }
        if flags.len() != sources.len() {
            return Err(Error::usage(format!(
                "{} --platform values for {} sources",
                flags.len(),
                sources.len()
            ))
            .with_hint(
                "give one --platform per source, in order, or write SRC=os/arch on each source",
            ));
        }
        for (s, f) in sources.iter_mut().zip(flags) {
            let p = parse_to_record(f)?;
            match &s.platform {
                Some(q) if PlatformSpec::from_platform(q) != PlatformSpec::from_platform(&p) => {
                    return Err(Error::usage(format!(
                        "source {}: conflicting platforms {} and {}",
                        s.text,
                        q.display(),
                        p.display()
                    )))
                }
                _ => s.platform = Some(p),
            }
        }
        Ok(())
    }
}

/// One entry to place in an index.
#[derive(Debug, Clone)]
pub struct Member {
    /// The descriptor as it will be written (platform filled in, ref.name dropped).
    pub descriptor: Descriptor,
    /// The normalized platform key; `None` for nested indexes and artifacts.
    pub key: Option<PlatformSpec>,
    /// Attestation entries that travel with this entry.
    pub attestations: Vec<Descriptor>,
    /// Where it came from, for messages and copying.
    pub origin: String,
    pub layout: PathBuf,
}

impl Member {
    /// `os/arch[/variant]` for messages, or the digest for unkeyed members.
    pub fn label(&self) -> String {
        match &self.key {
            Some(k) => k.short(),
            None => self.descriptor.digest.clone(),
        }
    }
    /// The slot the member takes in an index: its platform key or, unkeyed, its digest.
    /// Two members of one slot replace each other (unless appended).
    fn slot(&self) -> Slot {
        match &self.key {
            Some(k) => Slot::Key(k.clone()),
            None => Slot::Digest(self.descriptor.digest.clone()),
        }
    }
}

/// See [`Member::slot`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Key(PlatformSpec),
    Digest(String),
}

/// How index children of an index source are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    /// The index becomes one nested child.
    Nest,
    /// Its entries are placed one by one (attestations travel with their subjects).
    Flatten,
}

fn strip_ref(d: &Descriptor) -> Descriptor {
    let mut d = d.clone();
    d.annotations.remove(annotation::REF_NAME);
    d
}

/// The platform to write for an image: the override, else the descriptor's, else the
/// config's. The override is written normalized except that a given variant is kept
/// as written (`arm64/v8` stays explicit).
fn image_member(
    layout: &Layout,
    desc: &Descriptor,
    override_: Option<&Platform>,
    origin: &str,
) -> Result<Member> {
    let mut d = strip_ref(desc);
    let platform = match override_ {
        Some(p) => p.clone(),
        None => match entry_platform(layout, desc) {
            Some(ep) => ep.platform,
            None => {
                return Err(Error::failure(format!(
                    "source {origin}: {} has no platform, and its config names none",
                    desc.digest
                ))
                .with_hint("give the platform explicitly: SRC=os/arch[/variant] or --platform"))
            }
        },
    };
    let key = PlatformSpec::from_platform(&platform);
    d.platform = Some(Box::new(platform));
    Ok(Member {
        descriptor: d,
        key: Some(key),
        attestations: Vec::new(),
        origin: origin.to_string(),
        layout: layout.root().to_path_buf(),
    })
}

/// Split an index's entries into members (runnable entries with their attestations).
/// Entries without a platform (nested indexes, artifacts) are unkeyed members.
pub fn members_of_index(layout: &Layout, idx: &Index, origin: &str) -> Result<Vec<Member>> {
    let mut members: Vec<Member> = Vec::new();
    let mut attestations: Vec<&Descriptor> = Vec::new();
    // The first member of each digest, for attaching attestations to their subjects.
    let mut by_digest: HashMap<String, usize> = HashMap::new();
    for c in &idx.manifests {
        if c.is_attestation() {
            attestations.push(c);
            continue;
        }
        if c.is_manifest() {
            match image_member(layout, c, None, origin) {
                Ok(mut m) => {
                    // Keep the entry's own descriptor platform verbatim when it had one.
                    if c.platform.is_some() {
                        m.descriptor.platform = c.platform.clone();
                    }
                    by_digest.entry(c.digest.clone()).or_insert(members.len());
                    members.push(m)
                }
                Err(e) => return Err(e),
            }
        } else {
            by_digest.entry(c.digest.clone()).or_insert(members.len());
            members.push(Member {
                descriptor: c.clone(),
                key: c.platform.as_ref().map(|p| PlatformSpec::from_platform(p)),
                attestations: Vec::new(),
                origin: origin.to_string(),
                layout: layout.root().to_path_buf(),
            });
        }
    }
    for a in attestations {
        match a.attestation_subject().and_then(|s| by_digest.get(s)) {
            Some(&i) => members[i].attestations.push(a.clone()),
            // An attestation whose subject is not here is kept as an unkeyed entry.
            None => {
                by_digest.entry(a.digest.clone()).or_insert(members.len());
                members.push(Member {
                    descriptor: a.clone(),
                    key: None,
                    attestations: Vec::new(),
                    origin: origin.to_string(),
                    layout: layout.root().to_path_buf(),
                })
            }
        }
    }
    Ok(members)
}

/// Resolve the sources into members, in order. Each layout is opened, and its
/// index.json read and indexed ([`resolve::Names`]), once however many sources name it:
/// k sources in a layout of N entries cost O(N + k), not O(N·k).
pub fn resolve_sources(sources: &[SourceSpec], expand: Expand) -> Result<Vec<Member>> {
    let mut opened: HashMap<&Path, (Layout, resolve::Names)> = HashMap::new();
    let mut out = Vec::new();
    for spec in sources {
        let ctx = |e: Error| e.context(format!("source {}", spec.text));
        let (layout, names) = match opened.entry(spec.reference.path.as_path()) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let layout = Layout::open(v.key()).map_err(ctx)?;
                let names = resolve::Names::read(&layout).map_err(ctx)?;
                v.insert((layout, names))
            }
        };
        let r = names.resolve(layout, &spec.reference).map_err(ctx)?;
        out.extend(members_of(layout, spec, &r.descriptor, expand)?);
    }
    Ok(out)
}

/// [`resolve_sources`] (flattened), keeping of each source only the members on the way
/// to an entry `selector` picks in that source (every match; docs/selection.md): the
/// picked images themselves, or the nested index above a picked entry. Attestations stay
/// with their members. Nothing picked in a source is exit 3.
pub fn select_sources(
    sources: &[SourceSpec],
    selector: &crate::select::Selector,
) -> Result<Vec<Member>> {
    let all = selector
        .clone()
        .on_ambiguity(crate::select::OnAmbiguity::All);
    let mut out = Vec::new();
    for spec in sources {
        let ctx = |e: Error| e.context(format!("source {}", spec.text));
        let layout = Layout::open(&spec.reference.path).map_err(ctx)?;
        let r = &spec.reference;
        let found = all.choose(all.find(&layout, r).map_err(ctx)?, r)?;
        let through: std::collections::HashSet<&str> = found
            .matches
            .iter()
            .flat_map(|m| m.path.iter().map(|s| s.digest.as_str()))
            .collect();
        let named = resolve::resolve_one(&layout, r).map_err(ctx)?;
        for m in members_of(&layout, spec, &named.descriptor, Expand::Flatten)? {
            if through.contains(m.descriptor.digest.as_str()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// The members of the source `spec`, already resolved to `d` in `layout`.
pub fn members_of(
    layout: &Layout,
    spec: &SourceSpec,
    d: &Descriptor,
    expand: Expand,
) -> Result<Vec<Member>> {
    if d.is_manifest() {
        spec.check_platform()?;
        if let (Some(given), false) = (&spec.platform, spec.force_platform) {
            if let Some(why) = crate::platform::derived_platform(layout, d)
                .and_then(|c| crate::platform::config_disagreement(given, &c))
            {
                return Err(Error::usage(format!(
                    "source {}: {why} (the platform given is {})",
                    spec.text,
                    given.display()
                ))
                .with_hint(
                    "drop the platform to take the config's, or pass --force-platform to \
                     write it anyway (fsck will warn)",
                ));
            }
        }
        return Ok(vec![image_member(
            layout,
            d,
            spec.platform.as_ref(),
            &spec.text,
        )?]);
    }
    if !d.is_index() {
        return Err(Error::failure(format!(
            "source {}: {} is a {}, not an image or index",
            spec.text, d.digest, d.media_type
        )));
    }
    if spec.platform.is_some() {
        return Err(Error::usage(format!(
            "source {}: a platform override needs an image, but this is an index",
            spec.text
        ))
        .with_hint("pick one image of the index with LAYOUT@DIGEST, or drop the override"));
    }
    match expand {
        Expand::Nest => Ok(vec![Member {
            descriptor: strip_ref(d),
            key: None,
            attestations: Vec::new(),
            origin: spec.text.clone(),
            layout: layout.root().to_path_buf(),
        }]),
        Expand::Flatten => {
            let (_, doc) = layout.read_document(d)?;
            let Some(Document::Index(idx)) = doc else {
                return Err(Error::failure(format!(
                    "source {}: unreadable index",
                    spec.text
                )));
            };
            members_of_index(layout, &idx, &spec.text)
        }
    }
}

/// What `index add` does when an entry for the same platform exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AddMode {
    /// Replace the existing entry (and its attestations) in place.
    Replace,
    /// Keep both.
    Append,
    /// Refuse (exit 5).
    Fail,
}

/// A member list with the first member of each slot indexed, so that placing k members
/// into a list of M costs O(M + k), not O(M·k).
#[derive(Debug, Clone, Default)]
pub struct MemberList {
    list: Vec<Member>,
    first: HashMap<Slot, usize>,
}

impl MemberList {
    pub fn new() -> MemberList {
        MemberList::default()
    }

    /// The members in order.
    pub fn members(&self) -> &[Member] {
        &self.list
    }

    pub fn into_vec(self) -> Vec<Member> {
        self.list
    }

    /// Whether a member takes the slot of `m` (same platform key, or same digest).
    pub fn has_slot_of(&self, m: &Member) -> bool {
        self.first.contains_key(&m.slot())
    }

    /// Append `m` whatever the list holds.
    pub fn push(&mut self, m: Member) {
        self.first.entry(m.slot()).or_insert(self.list.len());
        self.list.push(m);
    }

    /// Place `m` per `mode`: it replaces the first member of its slot in place (Replace),
    /// is refused when that member differs (Fail), or is appended (Append, or a new
    /// slot). Never two members for one slot unless Append.
    pub fn upsert(&mut self, m: Member, mode: AddMode) -> Result<()> {
        if mode != AddMode::Append {
            if let Some(&i) = self.first.get(&m.slot()) {
                if mode == AddMode::Fail && self.list[i].descriptor != m.descriptor {
                    return Err(Error::refused(format!(
                        "an entry for {} already exists ({}); --mode fail refuses to replace it with {} from {}",
                        m.label(),
                        self.list[i].descriptor.digest,
                        m.descriptor.digest,
                        m.origin
                    ))
                    .with_hint("use --mode replace to replace it or --mode append to keep both"));
                }
                // Same slot: the index stays valid.
                self.list[i] = m;
                return Ok(());
            }
        }
        self.push(m);
        Ok(())
    }
}

impl From<Vec<Member>> for MemberList {
    fn from(members: Vec<Member>) -> MemberList {
        let mut l = MemberList {
            list: Vec::with_capacity(members.len()),
            first: HashMap::with_capacity(members.len()),
        };
        for m in members {
            l.push(m);
        }
        l
    }
}

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
}

/// Copy every member's graph into `dest` (hard links where possible).
pub fn import_members(dest: &Layout, members: &[Member]) -> Result<()> {
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
    annotations: &BTreeMap<String, String>,
    dry_run: bool,
    import: &[Member],
    build: &BuildFn,
) -> Result<Outcome> {
    edit_index_with(dest, name, annotations, dry_run, import, build, true)
}

/// [`edit_index`], choosing whether an existing index's other fields (annotations,
/// unknown fields) are kept (`keep_base`) or the index is written afresh.
pub fn edit_index_with(
    dest: &Layout,
    name: &str,
    annotations: &BTreeMap<String, String>,
    dry_run: bool,
    import: &[Member],
    build: &BuildFn,
    keep_base: bool,
) -> Result<Outcome> {
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
    let describe = |new: &Index, cur: &Option<Current>, changed: bool, dry: bool| {
        let bytes = new.to_bytes();
        let digest = crate::Digest::sha256_of(&bytes);
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
        Outcome {
            ref_name: name.to_string(),
            digest: digest.to_string(),
            media_type: media::OCI_INDEX.to_string(),
            size: bytes.len() as i64,
            changed,
            dry_run: dry,
            diff: diff::diff_entries(dest, &before, &new.manifests, &before_ann, &new.annotations),
        }
    };
    if dry_run {
        return Ok(describe(&planned, &cur, false, true));
    }
    import_members(dest, import)?;
    let ((new, cur), changed) = dest.transact(|idx| {
        let (cur, new) = plan(idx)?;
        let bytes = new.to_bytes();
        let digest = dest.write_blob_bytes(&bytes)?;
        let mut entry = Descriptor::new(media::OCI_INDEX, &digest, bytes.len() as u64);
        if let Some(c) = &cur {
            // Keep what else the ref's descriptor carried (annotations, unknown fields).
            entry.annotations = c.entry.annotations.clone();
            entry.extra = c.entry.extra.clone();
        }
        tags::set_ref(idx, &entry, name)?;
        Ok((new, cur))
    })?;
    Ok(describe(&new, &cur, changed, false))
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
    edit_index_with(
        dest,
        name,
        &opts.annotations,
        opts.dry_run,
        import,
        build,
        false,
    )
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
    edit_index(
        dest,
        name,
        &opts.annotations,
        opts.dry_run,
        &incoming,
        &build,
    )
}

/// Parse `key=value` annotation arguments.
pub fn parse_annotations(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in args {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            Error::usage(format!("annotation {a:?} is not key=value"))
                .with_hint("write --annotation org.opencontainers.image.version=1.2")
        })?;
        if k.is_empty() {
            return Err(Error::usage(format!("annotation {a:?} has an empty key")));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// The `org.opencontainers.image.created` value to write, if any: `--created TIME`
/// (RFC 3339, or `now`), else SOURCE_DATE_EPOCH, else none (reproducible by default).
pub fn created_annotation(flag: Option<&str>) -> Result<Option<String>> {
    let from_epoch = |secs: i64| rfc3339_utc(secs);
    match flag {
        Some("now") => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok(Some(from_epoch(secs)))
        }
        Some(t) => {
            let ok = t.len() >= 20
                && t.as_bytes()[4] == b'-'
                && t.as_bytes()[7] == b'-'
                && matches!(t.as_bytes()[10], b'T' | b't')
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'.' | b'+'));
            if !ok {
                return Err(
                    Error::usage(format!("--created {t:?} is not an RFC 3339 time"))
                        .with_hint("write e.g. 2024-05-01T12:00:00Z, or `now`"),
                );
            }
            Ok(Some(t.to_string()))
        }
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.trim().is_empty() => {
                let secs: i64 = v.trim().parse().map_err(|_| {
                    Error::usage(format!(
                        "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
                    ))
                })?;
                Ok(Some(from_epoch(secs)))
            }
            _ => Ok(None),
        },
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the one implementation lives with
/// the build's config writer).
pub fn rfc3339_utc(secs: i64) -> String {
    crate::build::config::rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_from_epoch() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn source_specs() {
        let s = SourceSpec::parse("dir:v1=linux/arm64/v8").unwrap();
        let p = s.platform.unwrap();
        assert_eq!(PlatformSpec::from_platform(&p).short(), "linux/arm64");
        assert_eq!(
            p.variant.as_deref(),
            Some("v8"),
            "the written variant is recorded"
        );
        assert!(SourceSpec::parse("dir:v1").unwrap().platform.is_none());
        assert!(
            SourceSpec::parse("dir:v1=linux").is_err()
                || SourceSpec::parse("dir:v1=linux")
                    .unwrap()
                    .platform
                    .is_none()
        );
    }
}

/// The result of `index rm` or `annotate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EditReport {
    /// The top-level entry edited (its ref name, or its digest when unnamed).
    pub target: String,
    /// Its digest after the edit.
    pub digest: String,
    pub changed: bool,
    pub dry_run: bool,
    /// Entries removed (`index rm`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Entries annotated (`annotate` with a selector): the selector's picks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotated: Vec<String>,
    /// Every document rewritten, innermost last.
    pub rewritten: Vec<rewrite::Rewritten>,
}

/// Group matches by the document that lists them: (container path, positions).
fn by_container(matches: &[crate::select::Match]) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    let mut seen: std::collections::HashSet<Vec<usize>> = std::collections::HashSet::new();
    for m in matches {
        if m.path.is_empty() {
            return Err(Error::usage(format!(
                "{} is not an index entry",
                m.descriptor.digest
            )));
        }
        let pos: Vec<usize> = m.path.iter().map(|s| s.position).collect();
        let (last, container) = pos.split_last().expect("non-empty");
        let last = *last;
        let container = container.to_vec();
        if seen.insert(pos) {
            groups.entry(container).or_default().push(last);
        }
    }
    // Deepest containers first: editing inside never moves the positions above.
    let mut v: Vec<_> = groups.into_iter().collect();
    v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(v)
}

fn default_all(selector: &crate::select::Selector, given: bool) -> crate::select::Selector {
    if given {
        selector.clone()
    } else {
        selector
            .clone()
            .on_ambiguity(crate::select::OnAmbiguity::All)
    }
}

/// An edit of index.json (and the documents below it): returns what it rewrote and the
/// digests it removed; `write` false computes without storing (dry run).
type EditFn<'a> = dyn Fn(&mut Index, bool) -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> + 'a;

/// Run `edit` on index.json: under the lock, or on a copy for a dry run.
fn run_edit(
    layout: &Layout,
    dry_run: bool,
    edit: &EditFn,
) -> Result<(Index, Vec<rewrite::Rewritten>, Vec<String>, bool)> {
    if dry_run {
        let (mut idx, _) = layout.read_index()?;
        let (rw, removed) = edit(&mut idx, false)?;
        return Ok((idx, rw, removed, false));
    }
    let ((idx, rw, removed), changed) = layout.transact(|idx| {
        let (rw, removed) = edit(idx, true)?;
        Ok((idx.clone(), rw, removed))
    })?;
    Ok((idx, rw, removed, changed))
}

fn report(
    target: &LayoutRef,
    idx: &Index,
    top: Option<usize>,
    rw: Vec<rewrite::Rewritten>,
    removed: Vec<String>,
    changed: bool,
    dry_run: bool,
) -> EditReport {
    let digest = top
        .and_then(|p| idx.manifests.get(p))
        .map(|d| d.digest.clone())
        .unwrap_or_default();
    let name = match &target.target {
        Target::Name(n) => n.clone(),
        _ => digest.clone(),
    };
    EditReport {
        target: name,
        digest,
        changed: changed || (dry_run && !rw.is_empty()),
        dry_run,
        removed,
        annotated: Vec::new(),
        rewritten: rw,
    }
}

/// `oix index rm LAYOUT:REF SELECTOR…`: remove the chosen entries (all matches unless
/// `--on-ambiguity` says otherwise) with their attestations.
pub fn remove(
    layout: &Layout,
    r: &LayoutRef,
    selector: &crate::select::Selector,
    ambiguity_given: bool,
    dry_run: bool,
) -> Result<EditReport> {
    if !selector.has_filters() {
        return Err(
            Error::usage("index rm needs a selector (--platform or --where)")
                .with_hint("to drop the whole ref use `oix untag`"),
        );
    }
    let sel = default_all(selector, ambiguity_given);
    let edit = |idx: &mut Index, write: bool| -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> {
        let found = sel.select(layout, r)?;
        let removed: Vec<String> = found
            .matches
            .iter()
            .map(|m| m.descriptor.digest.clone())
            .collect();
        let mut all = Vec::new();
        let mut pending = rewrite::Pending::new();
        for (container, positions) in by_container(&found.matches)? {
            if container.is_empty() {
                return Err(Error::usage(format!(
                    "{r} names top-level entries; index rm removes entries of an index"
                ))
                .with_hint("remove top-level refs with `oix untag`"));
            }
            all.extend(rewrite::rewrite_with(
                layout,
                idx,
                &container,
                &rewrite::Change::RemoveEntries { positions },
                write,
                &mut pending,
            )?);
        }
        Ok((all, removed))
    };
    let top = top_position(layout, r)?;
    let (idx, rw, removed, changed) = run_edit(layout, dry_run, &edit)?;
    Ok(report(r, &idx, top, rw, removed, changed, dry_run))
}

/// The index.json position of the top-level entry `r` names, when it names one.
fn top_position(layout: &Layout, r: &LayoutRef) -> Result<Option<usize>> {
    let (idx, _) = layout.read_index()?;
    let c = resolve::candidates(layout, &idx, &r.target)?;
    Ok(match c.as_slice() {
        [one] => one.top_level,
        _ => None,
    })
}

/// `oix annotate`: without a selector, the document REF names; with one, the chosen
/// descriptors; with `manifest`, inside the chosen documents.
pub fn annotate(
    layout: &Layout,
    r: &LayoutRef,
    selector: Option<(&crate::select::Selector, bool)>,
    manifest: bool,
    set: &BTreeMap<String, String>,
    unset: &[String],
    dry_run: bool,
) -> Result<EditReport> {
    if set.is_empty() && unset.is_empty() {
        return Err(Error::usage(
            "annotate needs --set KEY=VALUE or --unset KEY",
        ));
    }
    let top = top_position(layout, r)?;
    let edit = |idx: &mut Index, write: bool| -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> {
        let mut all = Vec::new();
        let mut picked = Vec::new();
        let mut pending = rewrite::Pending::new();
        match selector.filter(|(s, _)| s.has_filters()) {
            None => {
                let pos = top.ok_or_else(|| {
                    Error::usage(format!("{r} does not name one top-level entry")).with_hint(
                        "name a ref (LAYOUT:REF), or select entries with --platform/--where",
                    )
                })?;
                let change = rewrite::Change::Annotate {
                    set: set.clone(),
                    unset: unset.to_vec(),
                };
                all.extend(rewrite::rewrite(layout, idx, &[pos], &change, write)?);
            }
            Some((s, given)) => {
                let found = default_all(s, given).select(layout, r)?;
                picked.extend(found.matches.iter().map(|m| m.descriptor.digest.clone()));
                if manifest {
                    let mut paths: Vec<Vec<usize>> = found
                        .matches
                        .iter()
                        .map(|m| m.path.iter().map(|s| s.position).collect())
                        .collect();
                    paths.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
                    paths.dedup();
                    for p in paths {
                        let change = rewrite::Change::Annotate {
                            set: set.clone(),
                            unset: unset.to_vec(),
                        };
                        all.extend(rewrite::rewrite_with(
                            layout,
                            idx,
                            &p,
                            &change,
                            write,
                            &mut pending,
                        )?);
                    }
                } else {
                    for (container, positions) in by_container(&found.matches)? {
                        let change = rewrite::Change::AnnotateEntries {
                            positions,
                            set: set.clone(),
                            unset: unset.to_vec(),
                        };
                        all.extend(rewrite::rewrite_with(
                            layout,
                            idx,
                            &container,
                            &change,
                            write,
                            &mut pending,
                        )?);
                    }
                }
            }
        }
        Ok((all, picked))
    };
    let (idx, rw, picked, changed) = run_edit(layout, dry_run, &edit)?;
    let mut rep = report(r, &idx, top, rw, Vec::new(), changed, dry_run);
    rep.annotated = picked;
    Ok(rep)
}
