//! What a search finds: the matches (each with its path, platform and why), the near
//! misses, and the warnings.

use crate::model::Descriptor;
use crate::platform::{EntryPlatform, Rank};
use serde::Serialize;
use std::collections::BTreeMap;

/// One step of a match's path: the descriptor taken and its position in the index that
/// lists it (the first step is in index.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathStep {
    pub digest: String,
    pub position: usize,
}

/// One selected entry.
#[derive(Debug, Clone)]
pub struct Match {
    pub descriptor: Descriptor,
    /// From index.json down to this entry (inclusive). Empty when the entry is not an
    /// index entry (a config or layer named by digest).
    pub path: Vec<PathStep>,
    /// Its platform, and whether it was derived from the config.
    pub platform: Option<EntryPlatform>,
    /// The keys whose values made positive conditions hold (annotations and fields).
    pub matched: BTreeMap<String, String>,
    /// Why it matched, one line per filter.
    pub why: Vec<String>,
    /// Attestation entries of the same index that refer to this entry.
    pub attestations: Vec<Descriptor>,
    /// Position of the platform filter that matched, and how well.
    pub rank: Option<(usize, Rank)>,
}

/// Where a match is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container<'a> {
    IndexJson,
    /// A nested index, by digest.
    Index(&'a str),
    /// Not an index entry (a config or layer named by digest).
    Unknown,
}

impl Match {
    /// The document that lists this entry.
    pub fn container(&self) -> Container<'_> {
        match self.path.len() {
            0 => Container::Unknown,
            1 => Container::IndexJson,
            n => Container::Index(&self.path[n - 2].digest),
        }
    }
    /// Position in its container's `manifests`.
    pub fn position(&self) -> Option<usize> {
        self.path.last().map(|s| s.position)
    }
    /// `index.json[2] > sha256:0123456789ab…[1]`
    pub fn path_display(&self) -> String {
        if self.path.is_empty() {
            return "(not an index entry)".into();
        }
        let mut s = format!("index.json[{}]", self.path[0].position);
        for w in self.path.windows(2) {
            s.push_str(&format!(
                " > {}[{}]",
                short_digest(&w[0].digest),
                w[1].position
            ));
        }
        s
    }
    pub fn platform_display(&self) -> String {
        match &self.platform {
            Some(p) => p.display(),
            None if self.descriptor.is_index() => "(index)".into(),
            None => "-".into(),
        }
    }
}

impl Serialize for Match {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            digest: &'a str,
            descriptor: &'a Descriptor,
            path: &'a [PathStep],
            platform: Option<&'a crate::model::Platform>,
            #[serde(rename = "platformDerived")]
            platform_derived: bool,
            matched: &'a BTreeMap<String, String>,
            why: &'a [String],
            attestations: &'a [Descriptor],
        }
        Out {
            digest: &self.descriptor.digest,
            descriptor: &self.descriptor,
            path: &self.path,
            platform: self.platform.as_ref().map(|p| &p.platform),
            platform_derived: self.platform.as_ref().is_some_and(|p| p.derived),
            matched: &self.matched,
            why: &self.why,
            attestations: &self.attestations,
        }
        .serialize(s)
    }
}

/// A candidate that did not match, for the "nearest candidates" of a failed selection.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub digest: String,
    pub path: Vec<PathStep>,
    pub platform: Option<String>,
    /// Why it did not match.
    pub reasons: Vec<String>,
}

/// The result of a search.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub matches: Vec<Match>,
    /// Things the user should know (implicit multi-arch, entries without a platform, a
    /// duplicate chosen); the CLI prints them as `warning:` lines.
    pub warnings: Vec<String>,
    /// The REF named several top-level entries.
    pub implicit: bool,
    /// Number of entries examined.
    pub searched: usize,
    /// The closest non-matching candidates (filled when nothing matched).
    pub nearest: Vec<Miss>,
}

pub(super) fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d.to_string(),
    }
}
