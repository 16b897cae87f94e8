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
use crate::error::Result;
use crate::layout::Layout;
use crate::model::{Descriptor, Document};
use serde::Serialize;
use std::collections::BTreeMap;

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
pub(super) fn looks_like_fallback_tag(name: &str) -> bool {
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
pub(super) fn names_present_content(layout: &Layout, tag: &str) -> bool {
    tag.split_once('-')
        .and_then(|(alg, enc)| Digest::parse(&format!("{alg}:{enc}")).ok())
        .is_some_and(|d| layout.has_blob(&d))
}

/// Is the index `e`, named `tag`, a referrers index: does it list at least one
/// manifest whose subject's fallback tag is `tag`? (An empty index, or an image index
/// that happens to carry such a name, is an ordinary entry and never dropped by gc.)
pub(super) fn is_referrers_index(layout: &Layout, e: &Descriptor, tag: &str) -> bool {
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

/// The parts of a document a referrer listing needs.
pub(super) struct Info {
    pub(super) subject: Option<String>,
    /// The document's own `artifactType`.
    pub(super) artifact_type: Option<String>,
    /// A manifest's config media type.
    pub(super) config_type: Option<String>,
    pub(super) annotations: BTreeMap<String, String>,
}

impl Info {
    /// The referrers API rule: artifactType, else the config's media type.
    pub(super) fn shown_type(&self) -> Option<String> {
        self.artifact_type
            .clone()
            .or_else(|| self.config_type.clone())
    }
}

pub(super) fn info(doc: &Document) -> Info {
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
pub(super) fn read_info(layout: &Layout, d: &Descriptor) -> Result<Option<Info>> {
    let (_, doc) = layout.read_document(d)?;
    Ok(doc.as_ref().map(info))
}

/// `base`'s mediaType, digest and size with the document's artifactType and annotations.
pub(super) fn pulled_up(base: &Descriptor, info: &Info) -> Descriptor {
    let mut d = base.clone();
    d.annotations = info.annotations.clone();
    d.artifact_type = info.shown_type();
    d.platform = None;
    d
}

mod attach;
mod carry;
mod record;
mod scan;
mod stale;

pub use attach::{attach, empty_descriptor, valid_media_type, Attach, AttachFile, Attached};
pub use carry::{carry, discover, with_carried, Carried};
pub use record::{entries_for, record, record_into};
pub use scan::{referrers_of, scan, scan_index, Scan, TreeRow};
pub use stale::{holder_names, stale_entries, stale_entries_and_reach};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
