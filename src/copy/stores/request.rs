//! What `oix copy` is asked to do and what it reports (the carry options and summary
//! `copy`, `push` and `pull` share).

use super::{Carry, NameOutcome, PlanStep};
use crate::copy::Moved;
use serde::Serialize;

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

/// The result of [`super::copy`]: done, or the plan of a dry run.
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
