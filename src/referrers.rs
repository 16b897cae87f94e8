//! Referrers in a layout: finding them, attaching new ones, and telling which are stale.
//!
//! A *referrer* is a manifest (or index) whose `subject` names another manifest or index:
//! a signature, an SBOM, an attestation (image-spec 1.1). The image-layout spec does not
//! say how a layout lists them, and the tools around oix write them three ways; oix
//! reads all three (docs/referrers.md has the conventions and the choice):
//!
//! - **fallback tag** (regctl, and what oix writes): an index tagged `<alg>-<hex>`
//!   ([`fallback_tag`] of the subject's digest, the distribution-spec "referrers tag
//!   schema") in index.json, whose `manifests` are the referrers' descriptors with their
//!   `artifactType` and annotations pulled up. A listed manifest whose subject is not the
//!   tag's digest is reported (`not-a-referrer`), not listed.
//! - **index.json entry** (oras): a top-level entry (usually untagged) whose document
//!   has a `subject`.
//! - **cosign tag**: a manifest tagged `<alg>-<hex>.sig`, `.att` or `.sbom`; cosign's
//!   legacy convention names the subject in the tag, the manifest has no `subject`.
//! - **unlisted blob**: a manifest in blobs/ that nothing lists but whose `subject` is
//!   in the layout (written by older oix versions; `gc` keeps it, see [`crate::reach`]).
//!   No other tool finds these.
//!
//! [`scan`] reads index.json and the documents it needs once (linear in the entries and
//! the referrers, whatever their number) and answers every query from memory, so a
//! subject with 10,000 referrers is one pass. Recursion (a signature of an SBOM) is
//! guarded by a visited set: a cycle (A's subject B, B's subject A) ends.

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layout::Layout;
use crate::model::{self, annotation, media, Descriptor, Document, Index};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// cosign's legacy tag suffixes and the `artifactType` cosign gives the same content
/// when it writes OCI 1.1 referrers (`application/vnd.dev.cosign.artifact.<x>.v1+json`).
pub const COSIGN_SUFFIXES: &[(&str, &str)] = &[
    (".sig", "application/vnd.dev.cosign.artifact.sig.v1+json"),
    (".att", "application/vnd.dev.cosign.artifact.att.v1+json"),
    (".sbom", "application/vnd.dev.cosign.artifact.sbom.v1+json"),
];

/// The title annotation `attach` puts on each layer (the file's base name).
pub const TITLE: &str = "org.opencontainers.image.title";

/// The referrers tag of a digest (distribution-spec, "referrers tag schema"): the
/// algorithm truncated to 32 characters, `-`, the encoded part truncated to 64, with any
/// character outside `[a-zA-Z0-9._-]` replaced by `-`. `sha256:ab…` → `sha256-ab…`.
pub fn fallback_tag(d: &Digest) -> String {
    fn clean(s: &str, max: usize) -> String {
        s.chars()
            .take(max)
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
    format!(
        "{}-{}",
        clean(d.algorithm().as_str(), 32),
        clean(d.encoded(), 64)
    )
}

/// The subject a cosign tag (`sha256-<hex>.sig|.att|.sbom`) names, with the
/// `artifactType` cosign uses for that kind. Only a full 64-digit lower-case hex part
/// counts, so an ordinary tag such as `release-1.sig` is never taken for one.
pub fn cosign_subject(name: &str) -> Option<(Digest, &'static str)> {
    let (stem, at) = COSIGN_SUFFIXES
        .iter()
        .find_map(|(suffix, at)| name.strip_suffix(suffix).map(|s| (s, *at)))?;
    if !looks_like_fallback_tag(stem) {
        return None;
    }
    let (alg, enc) = stem.split_once('-')?;
    Some((Digest::parse(&format!("{alg}:{enc}")).ok()?, at))
}

/// Could `name` be a referrers tag (`<alg>-<64 hex digits>`, the encoded part of a
/// sha256 digest, or the truncated one of a longer digest)? Which subject it is for is
/// decided by the referrers it lists. Ordinary tags (`own-4`, `v1-2.3`) are not.
fn looks_like_fallback_tag(name: &str) -> bool {
    let Some((alg, enc)) = name.split_once('-') else {
        return false;
    };
    !alg.is_empty()
        && alg.len() <= 32
        && alg
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c))
        && enc.len() == 64
        && enc
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Does the referrers tag `tag` name a digest whose content is in the layout (then an
/// index under that name claims to list its referrers, and what it lists is checked)?
fn names_present_content(layout: &Layout, tag: &str) -> bool {
    tag.split_once('-')
        .and_then(|(alg, enc)| Digest::parse(&format!("{alg}:{enc}")).ok())
        .is_some_and(|d| layout.has_blob(&d))
}

/// Is the index `e`, named `tag`, a referrers index: does it list at least one
/// manifest whose subject's fallback tag is `tag`? (An empty index, or an image index
/// that happens to carry such a name, is an ordinary entry and never dropped by gc.)
fn is_referrers_index(layout: &Layout, e: &Descriptor, tag: &str) -> bool {
    let Ok((_, Some(Document::Index(idx)))) = layout.read_document(e) else {
        return false;
    };
    idx.manifests.iter().any(|d| {
        matches!(read_info(layout, d), Ok(Some(Info { subject: Some(s), .. }))
            if Digest::parse(&s).is_ok_and(|sd| fallback_tag(&sd) == tag))
    })
}

/// Which referrers a query returns: those whose `artifactType` is one of `types`
/// (all when empty).
#[derive(Debug, Clone, Default)]
pub struct ArtifactFilter {
    pub types: Vec<String>,
}

impl ArtifactFilter {
    pub fn matches(&self, d: &Descriptor) -> bool {
        self.types.is_empty()
            || d.artifact_type
                .as_deref()
                .is_some_and(|t| self.types.iter().any(|w| w == t))
    }
}

/// How a referrer was found (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    FallbackTag,
    Entry,
    CosignTag,
    Blob,
}

impl Found {
    pub fn name(self) -> &'static str {
        match self {
            Found::FallbackTag => "fallback-tag",
            Found::Entry => "entry",
            Found::CosignTag => "cosign-tag",
            Found::Blob => "blob",
        }
    }
}

/// One referrer of one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Referrer {
    /// The subject's digest.
    pub subject: String,
    /// The referrer's descriptor, `artifactType` and annotations pulled up from its
    /// document (as the referrers API answers), ref.name removed.
    pub descriptor: Descriptor,
    pub found: Found,
    /// The index.json name it was found under (fallback tag, cosign tag, entry ref).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Something odd about how a layout lists referrers (fsck reports these as warnings).
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub message: String,
}

/// Every referrer of a layout, by subject.
#[derive(Debug, Default)]
pub struct Scan {
    by_subject: HashMap<String, Vec<Referrer>>,
    /// (subject, referrer digest) pairs already recorded.
    seen: HashSet<(String, String)>,
    pub warnings: Vec<Warning>,
}

/// One row of [`Scan::tree`].
#[derive(Debug, Clone, Serialize)]
pub struct TreeRow<'a> {
    /// 0 for a referrer of the queried subject, 1 for a referrer of that referrer, ...
    pub depth: usize,
    #[serde(flatten)]
    pub referrer: &'a Referrer,
}

/// The parts of a document a referrer listing needs.
struct Info {
    subject: Option<String>,
    /// The document's own `artifactType`.
    artifact_type: Option<String>,
    /// A manifest's config media type.
    config_type: Option<String>,
    annotations: BTreeMap<String, String>,
}

impl Info {
    /// The referrers API rule: artifactType, else the config's media type.
    fn shown_type(&self) -> Option<String> {
        self.artifact_type
            .clone()
            .or_else(|| self.config_type.clone())
    }
}

fn info(doc: &Document) -> Info {
    match doc {
        Document::Manifest(m) => Info {
            subject: m.subject.as_ref().map(|s| s.digest.clone()),
            artifact_type: m.artifact_type.clone(),
            config_type: Some(m.config.media_type.clone()),
            annotations: m.annotations.clone(),
        },
        Document::Index(i) => Info {
            subject: i.subject.as_ref().map(|s| s.digest.clone()),
            artifact_type: i.artifact_type.clone(),
            config_type: None,
            annotations: i.annotations.clone(),
        },
    }
}

/// Read (verified) and parse the manifest or index `d` points at.
fn read_info(layout: &Layout, d: &Descriptor) -> Result<Option<Info>> {
    let (_, doc) = layout.read_document(d)?;
    Ok(doc.as_ref().map(info))
}

/// `base`'s mediaType, digest and size with the document's artifactType and annotations.
fn pulled_up(base: &Descriptor, info: &Info) -> Descriptor {
    let mut d = base.clone();
    d.annotations = info.annotations.clone();
    d.artifact_type = info.shown_type();
    d.platform = None;
    d
}

impl Scan {
    fn add(&mut self, subject: &str, descriptor: Descriptor, found: Found, tag: Option<&str>) {
        if !self
            .seen
            .insert((subject.to_string(), descriptor.digest.clone()))
        {
            return;
        }
        self.by_subject
            .entry(subject.to_string())
            .or_default()
            .push(Referrer {
                subject: subject.to_string(),
                descriptor,
                found,
                tag: tag.map(str::to_string),
            });
    }

    fn warn(&mut self, code: &'static str, digest: Option<&str>, message: String) {
        self.warnings.push(Warning {
            code,
            digest: digest.map(str::to_string),
            message,
        });
    }

    /// The direct referrers of `subject`, in the order found.
    pub fn direct(&self, subject: &str) -> &[Referrer] {
        self.by_subject.get(subject).map_or(&[], Vec::as_slice)
    }

    /// Every referrer of the layout.
    pub fn all(&self) -> impl Iterator<Item = &Referrer> {
        self.by_subject.values().flatten()
    }

    /// The referrers of `subject` depth first, and with `recursive` their referrers
    /// too. Rows matching `filter` are returned; recursion passes through the others
    /// (a signature of an SBOM is found when filtering for signatures). Each referrer is
    /// listed once; a cycle ends.
    pub fn tree(
        &self,
        subject: &str,
        filter: &ArtifactFilter,
        recursive: bool,
    ) -> Vec<TreeRow<'_>> {
        let mut out = Vec::new();
        let mut visited: HashSet<&str> = HashSet::from([subject]);
        // Explicit stack: a chain of 10,000 referrers must not overflow the call stack.
        let mut stack: Vec<(usize, &Referrer)> =
            self.direct(subject).iter().rev().map(|r| (0, r)).collect();
        while let Some((depth, r)) = stack.pop() {
            if !visited.insert(r.descriptor.digest.as_str()) {
                continue;
            }
            if filter.matches(&r.descriptor) {
                out.push(TreeRow { depth, referrer: r });
            }
            if recursive {
                stack.extend(
                    self.direct(&r.descriptor.digest)
                        .iter()
                        .rev()
                        .map(|c| (depth + 1, c)),
                );
            }
        }
        out
    }
}

/// Find every referrer in `layout`: index.json's fallback-tag indexes, entries with a
/// subject and cosign tags; with `unlisted`, also manifests in blobs/ that nothing lists
/// but that name a subject (this reads every blob small enough to be a manifest).
pub fn scan(layout: &Layout, unlisted: bool) -> Result<Scan> {
    let (index, _) = layout.read_index()?;
    scan_index(layout, &index, unlisted)
}

/// [`scan`] against an index.json already read.
pub fn scan_index(layout: &Layout, index: &Index, unlisted: bool) -> Result<Scan> {
    let mut s = Scan::default();
    let mut listed: HashSet<String> = HashSet::new();
    for e in &index.manifests {
        listed.insert(e.digest.clone());
        let name = e.ref_name();
        if let Some((subject, at)) = name.filter(|_| e.is_manifest()).and_then(cosign_subject) {
            // cosign's legacy tag: the subject is in the name.
            // Its config is an image config: the kind is in the tag's suffix.
            let mut d = e.clone();
            d.annotations.remove(annotation::REF_NAME);
            d.artifact_type = None;
            if let Ok(Some(i)) = read_info(layout, e) {
                d = pulled_up(e, &i);
                d.artifact_type = i.artifact_type.clone();
            }
            d.artifact_type.get_or_insert_with(|| at.to_string());
            s.add(&subject.to_string(), d, Found::CosignTag, name);
            continue;
        }
        if let Some(tag) = name.filter(|n| {
            e.is_index()
                && looks_like_fallback_tag(n)
                && (names_present_content(layout, n) || is_referrers_index(layout, e, n))
        }) {
            if fallback_entries(layout, e, tag, &mut s, &mut listed) {
                continue;
            }
        }
        if !(e.is_manifest() || e.is_index()) {
            continue;
        }
        // Unreadable entries are fsck's to report (missing-blob, invalid-document).
        if let Ok(Some(i)) = read_info(layout, e) {
            if let Some(subject) = &i.subject {
                let mut d = pulled_up(e, &i);
                d.annotations.remove(annotation::REF_NAME);
                s.add(subject, d, Found::Entry, name);
            }
        }
    }
    if unlisted {
        let (stored, _) = crate::reach::stored_blobs(layout)?;
        for (d, size) in stored {
            let ds = d.to_string();
            if listed.contains(&ds) {
                continue;
            }
            let Some(c) = crate::reach::claim(layout, &d, size) else {
                continue;
            };
            if c.broken.is_some() || !has_document(layout, &c.subject) {
                continue;
            }
            if let Ok(Some(i)) = read_info(layout, &c.descriptor) {
                s.add(&c.subject, pulled_up(&c.descriptor, &i), Found::Blob, None);
            }
        }
    }
    Ok(s)
}

fn has_document(layout: &Layout, digest: &str) -> bool {
    Digest::parse(digest).is_ok_and(|d| layout.has_blob(&d))
}

/// Read the fallback-tag index `e` (named `tag`) and record its referrers. `false` when
/// it is not one after all (it does not read as an index): then it is an ordinary entry.
fn fallback_entries(
    layout: &Layout,
    e: &Descriptor,
    tag: &str,
    s: &mut Scan,
    listed: &mut HashSet<String>,
) -> bool {
    let idx = match layout.read_document(e) {
        Ok((_, Some(Document::Index(i)))) => i,
        _ => return false,
    };
    for d in &idx.manifests {
        listed.insert(d.digest.clone());
        let i = match read_info(layout, d) {
            Ok(Some(i)) => i,
            Ok(None) => {
                s.warn(
                    "not-a-referrer",
                    Some(&d.digest),
                    format!(
                        "referrers index {tag} lists {} of type {}, which is not a manifest or index",
                        d.digest, d.media_type
                    ),
                );
                continue;
            }
            Err(err) => {
                s.warn(
                    "unreadable-referrer",
                    Some(&d.digest),
                    format!(
                        "referrers index {tag} lists {}, which cannot be read: {}",
                        d.digest, err.message
                    ),
                );
                continue;
            }
        };
        match &i.subject {
            Some(subject)
                if Digest::parse(subject).is_ok_and(|sd| fallback_tag(&sd) == tag) =>
            {
                // The listed descriptor as written (it carries the pulled-up fields);
                // fill them in when a writer left them out.
                let mut desc = d.clone();
                if desc.artifact_type.is_none() {
                    desc.artifact_type = i.shown_type();
                }
                if desc.annotations.is_empty() {
                    desc.annotations = i.annotations.clone();
                }
                s.add(subject, desc, Found::FallbackTag, Some(tag));
            }
            Some(other) => s.warn(
                "not-a-referrer",
                Some(&d.digest),
                format!(
                    "referrers index {tag} lists {}, whose subject is {other}, not the digest the tag names; it is not listed as a referrer",
                    d.digest
                ),
            ),
            None => s.warn(
                "not-a-referrer",
                Some(&d.digest),
                format!(
                    "referrers index {tag} lists {}, which has no subject; it is not listed as a referrer",
                    d.digest
                ),
            ),
        }
    }
    true
}

/// Every referrer of `subject` in `layout`, recursively (referrers of referrers too,
/// each once, cycles ended), that `filter` keeps; every convention of the module docs,
/// unlisted blobs included. The carrying code (push, pull, export, copy) calls this.
pub fn referrers_of(
    layout: &Layout,
    subject: &Digest,
    filter: &ArtifactFilter,
) -> Result<Vec<Descriptor>> {
    let s = scan(layout, true)?;
    Ok(s.tree(&subject.to_string(), filter, true)
        .into_iter()
        .map(|r| r.referrer.descriptor.clone())
        .collect())
}

/// What a referrer-holding index.json entry hangs on.
enum Hangs {
    /// A referrers index: live when a reachable digest has this fallback tag.
    Tag(String),
    /// A cosign tag or an untagged entry with a subject: live when this digest is.
    Digest(String),
}

/// The positions of index.json entries that only hold referrers of subjects the layout
/// no longer has: referrers indexes (`<alg>-<hex>` tags), cosign tags and untagged
/// entries with a subject, whose subject nothing else in the layout reaches (through
/// tagged entries, other live referrers and unlisted referrer blobs, repeated until
/// nothing changes: a referrer of a referrer counts; a cycle of referrers reaching only
/// each other is stale). `gc` drops them; fsck warns about them (`orphan-referrer`).
pub fn stale_entries(layout: &Layout, index: &Index, stored: &[(Digest, u64)]) -> Vec<usize> {
    stale_entries_and_reach(layout, index, stored).0
}

/// [`stale_entries`], with the reachable set of the entries that are not stale when it
/// had to compute it (the set `gc` keeps: callers need not walk the graph again).
pub fn stale_entries_and_reach(
    layout: &Layout,
    index: &Index,
    stored: &[(Digest, u64)],
) -> (Vec<usize>, Option<crate::reach::Reach>) {
    let mut holders: Vec<(usize, Hangs)> = Vec::new();
    let mut roots: Vec<Descriptor> = Vec::new();
    for (i, e) in index.manifests.iter().enumerate() {
        let name = e.ref_name();
        let hangs = if let Some((d, _)) = name.filter(|_| e.is_manifest()).and_then(cosign_subject)
        {
            Some(Hangs::Digest(d.to_string()))
        } else if let Some(tag) = name.filter(|n| {
            e.is_index() && looks_like_fallback_tag(n) && is_referrers_index(layout, e, n)
        }) {
            Some(Hangs::Tag(tag.to_string()))
        } else if name.is_none() && (e.is_manifest() || e.is_index()) {
            match read_info(layout, e) {
                Ok(Some(Info {
                    subject: Some(s), ..
                })) => Some(Hangs::Digest(s)),
                _ => None,
            }
        } else {
            None
        };
        match hangs {
            Some(h) => holders.push((i, h)),
            None => roots.push(e.clone()),
        }
    }
    if holders.is_empty() {
        return (Vec::new(), None);
    }
    let reach = loop {
        let reach = crate::reach::reachable(layout, &roots, stored);
        let digests: HashSet<String> = reach
            .walk
            .nodes
            .iter()
            .map(|n| n.descriptor.digest.clone())
            .collect();
        let tags: HashSet<String> = digests
            .iter()
            .filter_map(|d| Digest::parse(d).ok())
            .map(|d| fallback_tag(&d))
            .collect();
        let (live, rest): (Vec<_>, Vec<_>) = holders.into_iter().partition(|(_, h)| match h {
            Hangs::Tag(t) => tags.contains(t),
            Hangs::Digest(d) => digests.contains(d),
        });
        holders = rest;
        if live.is_empty() {
            break reach;
        }
        roots.extend(live.iter().map(|(i, _)| index.manifests[*i].clone()));
    };
    let mut stale: Vec<usize> = holders.into_iter().map(|(i, _)| i).collect();
    stale.sort_unstable();
    (stale, Some(reach))
}

/// A file to attach and the media type of its layer.
#[derive(Debug, Clone)]
pub struct AttachFile {
    pub path: PathBuf,
    pub media_type: String,
}

impl AttachFile {
    /// `FILE[:MEDIATYPE]`: the part after the last `:` is a media type when it holds a
    /// `/` (so `a:b.txt` is a file name); default `application/octet-stream`.
    pub fn parse(arg: &str) -> AttachFile {
        match arg.rsplit_once(':') {
            Some((path, mt)) if mt.contains('/') && !path.is_empty() => AttachFile {
                path: PathBuf::from(path),
                media_type: mt.to_string(),
            },
            _ => AttachFile {
                path: PathBuf::from(arg),
                media_type: "application/octet-stream".into(),
            },
        }
    }
}

/// What `oix attach` writes.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    pub artifact_type: String,
    pub files: Vec<AttachFile>,
    pub annotations: BTreeMap<String, String>,
}

/// The result of [`attach`].
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    /// The new artifact manifest, as listed in the referrers index.
    pub descriptor: Descriptor,
    pub subject: String,
    /// The referrers index's tag in index.json.
    pub tag: String,
    /// Whether index.json changed (false: the same artifact was attached already).
    pub changed: bool,
}

/// The descriptor grammar's media type rule (image-spec `defs-descriptor.json`).
pub fn valid_media_type(mt: &str) -> bool {
    fn part(p: &str) -> bool {
        let mut cs = p.chars();
        cs.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && p.len() <= 127
            && cs.all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    }
    mt.split_once('/').is_some_and(|(a, b)| part(a) && part(b))
}

/// The image-spec 1.1 artifact manifest `attach` writes (field order fixed, no
/// timestamps: the same inputs give the same bytes).
#[derive(Serialize)]
struct ArtifactManifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    #[serde(rename = "artifactType")]
    artifact_type: &'a str,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Descriptor,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The empty descriptor (image-spec manifest.md): `{}`, size 2, data `e30=`.
pub fn empty_descriptor() -> Descriptor {
    let mut d = Descriptor::new(media::OCI_EMPTY, &Digest::sha256_of(b"{}"), 2);
    d.data = Some("e30=".into());
    d
}

/// Check everything about `a` and `subject` that can be checked before writing.
fn check_attach(layout: &Layout, subject: &Descriptor, a: &Attach) -> Result<Vec<String>> {
    if !(subject.is_manifest() || subject.is_index()) {
        return Err(Error::usage(format!(
            "{} is a {}, not a manifest or index; only those can have referrers",
            subject.digest, subject.media_type
        ))
        .with_hint("name an image or an index as the subject"));
    }
    let sd = subject.digest()?;
    subject.size()?;
    if !layout.has_blob(&sd) {
        return Err(
            Error::not_found(format!("subject {sd} is not in the layout")).with_hint(
                "pull or import the image first; oix attaches only to content the layout holds",
            ),
        );
    }
    if !valid_media_type(&a.artifact_type) {
        return Err(Error::usage(format!(
            "--artifact-type {:?} is not a media type (type/subtype)",
            a.artifact_type
        ))
        .with_hint("e.g. application/spdx+json or application/vnd.example.notes.v1+json"));
    }
    if a.files.is_empty() {
        return Err(Error::usage("attach needs at least one FILE"));
    }
    let mut titles = Vec::new();
    for f in &a.files {
        if !valid_media_type(&f.media_type) {
            return Err(Error::usage(format!(
                "{}: {:?} is not a media type (type/subtype)",
                f.path.display(),
                f.media_type
            ))
            .with_hint("write FILE:MEDIATYPE, e.g. sbom.json:application/spdx+json"));
        }
        let meta = std::fs::metadata(&f.path)
            .at("reading", &f.path)
            .map_err(|e| e.with_hint("name an existing file to attach: FILE or FILE:MEDIATYPE"))?;
        if !meta.is_file() {
            return Err(
                Error::usage(format!("{} is not a regular file", f.path.display()))
                    .with_hint("attach regular files (archive a directory first)"),
            );
        }
        let title = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: the file name is not valid UTF-8",
                    f.path.display()
                ))
            })?
            .to_string();
        if titles.contains(&title) {
            return Err(Error::usage(format!(
                "two files are named {title:?}; each layer's title must be unique"
            )));
        }
        titles.push(title);
    }
    for k in a.annotations.keys() {
        if k.is_empty() {
            return Err(Error::usage("an annotation key is empty").with_hint("write K=V"));
        }
    }
    // An existing name under the referrers tag that is not an index would be replaced.
    let tag = fallback_tag(&sd);
    let (index, _) = layout.read_index()?;
    check_tag_free(&index, &tag)?;
    Ok(titles)
}

fn check_tag_free(index: &Index, tag: &str) -> Result<()> {
    if let Some(e) = index
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(tag) && !d.is_index())
    {
        return Err(Error::refused(format!(
            "the referrers tag {tag} names {} ({}), not a referrers index",
            e.digest, e.media_type
        ))
        .with_hint(format!(
            "that name is reserved for the subject's referrers index; untag it (`oix untag LAYOUT:{tag}`) first"
        )));
    }
    Ok(())
}

/// Write an image-spec 1.1 artifact manifest for `a` with `subject` as its subject, and
/// list it in the subject's referrers index (fallback tag) in one index.json
/// transaction. Every blob is hashed as written; nothing is written when a check fails.
pub fn attach(layout: &Layout, subject: &Descriptor, a: &Attach) -> Result<Attached> {
    let titles = check_attach(layout, subject, a)?;
    let sd = subject.digest()?;
    let mut layers = Vec::with_capacity(a.files.len());
    for (f, title) in a.files.iter().zip(titles) {
        let mut file = std::fs::File::open(&f.path).at("reading", &f.path)?;
        let (d, size) = layout.write_blob(&mut file, None)?;
        let mut l = Descriptor::new(&f.media_type, &d, size);
        l.annotations.insert(TITLE.into(), title);
        layers.push(l);
    }
    let config = empty_descriptor();
    layout.write_blob_bytes(b"{}")?;
    let manifest = ArtifactManifest {
        schema_version: 2,
        media_type: media::OCI_MANIFEST,
        artifact_type: &a.artifact_type,
        config,
        layers,
        subject: Descriptor::new(&subject.media_type, &sd, subject.size()?),
        annotations: &a.annotations,
    };
    let bytes = serde_json::to_vec(&manifest).expect("serializing an artifact manifest");
    let md = layout.write_blob_bytes(&bytes)?;
    let mut descriptor = Descriptor::new(media::OCI_MANIFEST, &md, bytes.len() as u64);
    descriptor.artifact_type = Some(a.artifact_type.clone());
    descriptor.annotations = a.annotations.clone();
    let tag = fallback_tag(&sd);
    let (_, changed) = layout.transact(|idx| list_in_fallback(layout, idx, &sd, &descriptor))?;
    Ok(Attached {
        descriptor,
        subject: sd.to_string(),
        tag,
        changed,
    })
}

/// Add `descriptor` to the referrers index of `subject` (its fallback tag) in the
/// index.json being edited: created or extended (existing entries and unknown fields
/// kept, the new one appended), nothing done when it is listed already. A name under
/// the fallback tag that is not an index is refused.
fn list_in_fallback(
    layout: &Layout,
    idx: &mut Index,
    subject: &Digest,
    descriptor: &Descriptor,
) -> Result<()> {
    let tag = fallback_tag(subject);
    check_tag_free(idx, &tag)?;
    let existing = idx
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(tag.as_str()))
        .cloned();
    let mut list = match existing {
        Some(e) => match layout.read_document(&e)? {
            (_, Some(Document::Index(i))) => i,
            _ => unreachable!("check_tag_free: the entry is an index"),
        },
        None => Index::default(),
    };
    if list.manifests.iter().any(|d| d.digest == descriptor.digest) {
        return Ok(());
    }
    list.manifests.push(descriptor.clone());
    let bytes = list.to_bytes();
    if bytes.len() as u64 > model::MAX_MANIFEST_SIZE {
        return Err(Error::refused(format!(
            "the referrers index of {subject} would exceed {} bytes",
            model::MAX_MANIFEST_SIZE
        )));
    }
    let d = layout.write_blob_bytes(&bytes)?;
    let mt = list.media_type.as_deref().unwrap_or(media::OCI_INDEX);
    crate::tags::set_ref(idx, &Descriptor::new(mt, &d, bytes.len() as u64), &tag)?;
    Ok(())
}

/// A referrer a copy carries: found in the source for `subject`, checked to be one
/// (its document names that subject, or it is a cosign tag of it), and how the
/// destination lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Carried {
    /// The subject's digest.
    pub subject: String,
    /// The referrer: mediaType, digest, size, and its document's artifactType and
    /// annotations (as a referrers index lists it).
    pub descriptor: Descriptor,
    /// The name it is listed under at the destination: the subject's fallback tag
    /// (`sha256-<hex>`, the referrers index) or, for cosign's legacy signatures,
    /// attestations and SBOMs (no `subject` field), its own tag `sha256-<hex>.sig`.
    pub tag: String,
    /// Listed by its own cosign tag rather than in the referrers index.
    pub cosign: bool,
}

/// Every referrer to carry along with the documents `documents` (each manifest and
/// index a copy moves): the referrers `source` lists for each, recursively (referrers
/// of referrers, and of the manifests a referrer index lists), each once, so a cycle
/// ends. `filter` narrows every level; recursion goes on only through carried
/// referrers. What the source lists but is not a referrer of that subject (another
/// subject, none, unreadable) is not carried: a warning says so. Parents come before
/// the referrers that name them, so writing in this order PUTs referrers after their
/// subject.
pub fn discover(
    source: &dyn crate::store::Source,
    documents: &[Descriptor],
    filter: &ArtifactFilter,
) -> Result<(Vec<Carried>, Vec<Warning>)> {
    // A layout is scanned once and answers every subject from memory.
    let scan = match source.as_layout() {
        Some(l) => Some(scan(l, true)?),
        None => None,
    };
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut visited: HashSet<String> = documents.iter().map(|d| d.digest.clone()).collect();
    // (subject, referrer) pairs handled: a referrer already carried (or copied as a
    // document) that another subject lists is listed there too, and not walked again.
    let mut pairs: HashSet<(String, String)> = HashSet::new();
    let mut queue: std::collections::VecDeque<Descriptor> = documents.iter().cloned().collect();
    while let Some(doc) = queue.pop_front() {
        let listed: Vec<Descriptor> = match &scan {
            Some(s) => s
                .direct(&doc.digest)
                .iter()
                .map(|r| r.descriptor.clone())
                .collect(),
            None => source.referrers(&doc)?,
        };
        let subject = doc.digest()?;
        for r in listed {
            if !filter.matches(&r) || !pairs.insert((doc.digest.clone(), r.digest.clone())) {
                continue;
            }
            let warn = |m: String| Warning {
                code: "not-a-referrer",
                digest: Some(r.digest.clone()),
                message: m,
            };
            if !(r.is_manifest() || r.is_index()) {
                warnings.push(warn(format!(
                    "{} is listed as a referrer of {subject} but is a {}: not carried",
                    r.digest, r.media_type
                )));
                continue;
            }
            let parsed = source.read_small(&r).and_then(|b| {
                Document::parse(&r.media_type, &b, &format!("referrer {}", r.digest))
            });
            let i = match parsed {
                Ok(Some(d)) => info(&d),
                Ok(None) => continue,
                Err(e) => {
                    warnings.push(warn(format!(
                        "{} is listed as a referrer of {subject} but cannot be read: {}; not carried",
                        r.digest, e.message
                    )));
                    continue;
                }
            };
            let cosign =
                crate::registry::remote::referrers::cosign_suffix(r.artifact_type.as_deref())
                    .filter(|_| i.subject.is_none() && r.is_manifest());
            let (tag, at) = match (&i.subject, cosign) {
                (Some(s), _) if *s == doc.digest => (fallback_tag(&subject), i.shown_type()),
                (None, Some(suffix)) => (
                    format!("{}{suffix}", fallback_tag(&subject)),
                    i.artifact_type.clone().or(r.artifact_type.clone()),
                ),
                (other, _) => {
                    warnings.push(warn(format!(
                        "{} is listed as a referrer of {subject} but its subject is {}: not carried",
                        r.digest,
                        other.as_deref().unwrap_or("missing")
                    )));
                    continue;
                }
            };
            let mut d = Descriptor::new(&r.media_type, &r.digest()?, r.size()?);
            d.artifact_type = at;
            d.annotations = i.annotations.clone();
            let new = visited.insert(r.digest.clone());
            // A referrer index's own manifests may have referrers too.
            if new && d.is_index() {
                if let Ok(Some(Document::Index(idx))) = source
                    .read_small(&d)
                    .and_then(|b| Document::parse(&d.media_type, &b, "referrer"))
                {
                    for c in idx.manifests {
                        if (c.is_manifest() || c.is_index()) && visited.insert(c.digest.clone()) {
                            queue.push_back(c);
                        }
                    }
                }
            }
            if new {
                queue.push_back(d.clone());
            }
            out.push(Carried {
                subject: doc.digest.clone(),
                descriptor: d,
                tag,
                cosign: cosign.is_some() && i.subject.is_none(),
            });
        }
    }
    Ok((out, warnings))
}

/// Record carried referrers (their content already in `layout`) the way
/// docs/referrers.md says, in one index.json transaction: each in its subject's
/// referrers index, a cosign one under its own tag. Returns whether index.json changed.
pub fn record(layout: &Layout, carried: &[Carried]) -> Result<bool> {
    if carried.is_empty() {
        return Ok(false);
    }
    let (_, changed) = layout.transact(|idx| record_into(layout, idx, carried))?;
    Ok(changed)
}

/// [`record`] inside an index.json transaction already open (`idx` is the index.json
/// being edited), so that an import adds its refs and lists their referrers at once.
pub fn record_into(layout: &Layout, idx: &mut Index, carried: &[Carried]) -> Result<()> {
    for c in carried {
        if c.cosign {
            crate::tags::set_ref(idx, &cosign_entry(c), &c.tag)?;
        } else {
            let subject = Digest::parse(&c.subject)?;
            list_in_fallback(layout, idx, &subject, &c.descriptor)?;
        }
    }
    Ok(())
}

/// The index.json descriptor of a cosign referrer (no pulled-up fields: as a layout
/// lists an image).
fn cosign_entry(c: &Carried) -> Descriptor {
    let mut d = c.descriptor.clone();
    d.artifact_type = None;
    d.annotations.clear();
    d
}

/// The referrers to carry with the graphs under `roots` (every manifest and index they
/// reach) from `source`: [`discover`] over the graphs' documents; none when `filter`
/// is `None` (`--no-referrers`). What export, import and the cross-layout edits call.
pub fn carry(
    source: &dyn crate::store::Source,
    roots: &[Descriptor],
    filter: Option<&ArtifactFilter>,
) -> Result<(Vec<Carried>, Vec<Warning>)> {
    let Some(filter) = filter.filter(|_| !roots.is_empty()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let docs = crate::copy::plan_documents(source, roots)?.documents;
    discover(source, &docs, filter)
}

/// `roots`, then the carried referrers that are not among them, each once: what a copy
/// of the graphs with their referrers walks.
pub fn with_carried(roots: &[Descriptor], carried: &[Carried]) -> Vec<Descriptor> {
    let mut seen: HashSet<&str> = roots.iter().map(|r| r.digest.as_str()).collect();
    let mut out = roots.to_vec();
    for c in carried {
        if seen.insert(c.descriptor.digest.as_str()) {
            out.push(c.descriptor.clone());
        }
    }
    out
}

/// The index.json entries that list `carried` in a store written from scratch (an
/// oci-archive), the way [`record`] lists them in an empty layout: per subject one
/// referrers index under its fallback tag (in the order carried), a cosign referrer
/// under its own tag. Returns the entries (ref names set) and the referrers indexes'
/// bytes (new documents, to be stored with them).
pub fn entries_for(carried: &[Carried]) -> Result<(Vec<Descriptor>, Vec<Vec<u8>>)> {
    let mut lists: Vec<(String, Index)> = Vec::new();
    let mut entries: Vec<(String, Descriptor)> = Vec::new();
    for c in carried {
        if c.cosign {
            if !entries.iter().any(|(t, _)| *t == c.tag) {
                entries.push((c.tag.clone(), cosign_entry(c)));
            }
            continue;
        }
        let i = match lists.iter().position(|(s, _)| *s == c.subject) {
            Some(i) => i,
            None => {
                lists.push((c.subject.clone(), Index::default()));
                lists.len() - 1
            }
        };
        let list = &mut lists[i].1;
        if !list
            .manifests
            .iter()
            .any(|d| d.digest == c.descriptor.digest)
        {
            list.manifests.push(c.descriptor.clone());
        }
    }
    let mut docs = Vec::new();
    let mut out = Vec::new();
    for (subject, list) in lists {
        let bytes = list.to_bytes();
        if bytes.len() as u64 > model::MAX_MANIFEST_SIZE {
            return Err(Error::refused(format!(
                "the referrers index of {subject} would exceed {} bytes",
                model::MAX_MANIFEST_SIZE
            )));
        }
        let mut d = Descriptor::new(
            media::OCI_INDEX,
            &Digest::sha256_of(&bytes),
            bytes.len() as u64,
        );
        d.annotations.insert(
            annotation::REF_NAME.to_string(),
            fallback_tag(&Digest::parse(&subject)?),
        );
        out.push(d);
        docs.push(bytes);
    }
    for (tag, mut d) in entries {
        d.annotations.insert(annotation::REF_NAME.to_string(), tag);
        out.push(d);
    }
    Ok((out, docs))
}

/// The names of `index`'s entries that hold referrers (referrers indexes under a
/// fallback tag, cosign tags): a whole-layout export or `import --all` leaves them out
/// of the entries it takes, and lists the referrers it carries under them anew.
pub fn holder_names(layout: &Layout, index: &Index) -> Result<HashSet<String>> {
    let s = scan_index(layout, index, false)?;
    Ok(s.all()
        .filter(|r| matches!(r.found, Found::FallbackTag | Found::CosignTag))
        .filter_map(|r| r.tag.clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tags_follow_the_distribution_spec() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(fallback_tag(&d), format!("sha256-{}", d.encoded()));
        let long = Digest::parse(&format!("sha512:{}", "a".repeat(128))).unwrap();
        assert_eq!(fallback_tag(&long), format!("sha512-{}", "a".repeat(64)));
        assert!(looks_like_fallback_tag(&fallback_tag(&d)));
        assert!(!looks_like_fallback_tag("latest"));
        assert!(!looks_like_fallback_tag("v1-2.3"));
        // Found by tests/concurrency_mixed: gc took the index `own-4` for a referrers
        // index of a subject that is gone and dropped it.
        assert!(!looks_like_fallback_tag("own-4"));
        assert!(!looks_like_fallback_tag(&format!(
            "sha256-{}",
            "A".repeat(64)
        )));
    }

    #[test]
    fn cosign_tags_name_their_subject() {
        let d = Digest::sha256_of(b"x");
        let (s, at) = cosign_subject(&format!("sha256-{}.sig", d.encoded())).unwrap();
        assert_eq!(s, d);
        assert!(at.ends_with("sig.v1+json"));
        assert!(cosign_subject("sha256-zz.sig").is_none());
        assert!(cosign_subject("latest").is_none());
        assert!(cosign_subject("release-1.sig").is_none());
    }

    #[test]
    fn media_types_and_file_arguments() {
        assert!(valid_media_type("application/spdx+json"));
        assert!(!valid_media_type("spdx"));
        assert!(!valid_media_type("a/b c"));
        assert!(!valid_media_type("/b"));
        let f = AttachFile::parse("sbom.json:application/spdx+json");
        assert_eq!(f.path, PathBuf::from("sbom.json"));
        assert_eq!(f.media_type, "application/spdx+json");
        let g = AttachFile::parse("notes:v1.txt");
        assert_eq!(g.path, PathBuf::from("notes:v1.txt"));
        assert_eq!(g.media_type, "application/octet-stream");
    }

    #[test]
    fn empty_descriptor_is_the_spec_one() {
        let d = empty_descriptor();
        assert_eq!(
            d.digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
