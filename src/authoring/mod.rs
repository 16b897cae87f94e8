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
//!
//! This file holds step 1 (sources and members); the edit pipeline with `index create`
//! and `index add` lives in `edit`, and `index rm` / `annotate` (edits of the entries a
//! selector picks) in `select_edit`.

pub mod diff;
mod edit;
pub mod merge;
pub mod remote;
pub mod rewrite;
mod select_edit;

pub use edit::{
    add, add_store, compose, create, created_annotation, current, current_in, current_members,
    edit_index, edit_index_as, edit_index_with, import_members, import_members_with,
    member_referrers, open_dest, parse_annotations, rfc3339_utc, AddMode, BuildFn, Current,
    EditOptions, MemberList, MemberReferrers, Outcome,
};
pub use select_edit::{annotate, annotate_store, remove, remove_store, EditReport};

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::Platform;
use crate::model::{annotation, Descriptor, Document, Index};
use crate::platform::{entry_platform, parse_to_record, PlatformSpec};
use crate::reference::LayoutRef;
use crate::resolve;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
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
    /// Entries that travel with this entry: its attestations and its compression twins
    /// ([`attach_twins`]). They are written after every member's own entry (twins thus
    /// follow every gzip entry, as containers/image orders them), replaced and carried
    /// over with it, and never count as a platform of their own.
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
    Ok(attach_twins(members))
}

/// The twin rule of index edits ([`crate::platform::twin`]): a zstd twin whose platform
/// has a non-twin member travels with that member (in its `attestations`, followed by
/// the twin's own attestations) instead of being a member, so it is replaced, carried
/// over and counted with its platform. A twin without such a member stays one.
pub fn attach_twins(members: Vec<Member>) -> Vec<Member> {
    use crate::platform::is_zstd_twin;
    let mut primary: HashMap<PlatformSpec, usize> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        if let (Some(k), false) = (&m.key, is_zstd_twin(&m.descriptor)) {
            primary.entry(k.clone()).or_insert(i);
        }
    }
    let mut out: Vec<Member> = Vec::with_capacity(members.len());
    let mut moved: Vec<(usize, Member)> = Vec::new();
    let mut new_pos: Vec<Option<usize>> = vec![None; members.len()];
    for (i, m) in members.into_iter().enumerate() {
        let p = m
            .key
            .as_ref()
            .filter(|_| is_zstd_twin(&m.descriptor))
            .and_then(|k| primary.get(k));
        match p {
            Some(&p) => moved.push((p, m)),
            None => {
                new_pos[i] = Some(out.len());
                out.push(m);
            }
        }
    }
    for (p, m) in moved {
        if let Some(j) = new_pos[p] {
            out[j].attestations.push(m.descriptor);
            out[j].attestations.extend(m.attestations);
        }
    }
    out
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
