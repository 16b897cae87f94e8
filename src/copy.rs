//! The one graph copy: move everything a set of roots reaches from one store to another.
//!
//! Order matters for registries and for crash safety: all leaf blobs (configs, layers)
//! first, in parallel; then manifests and indexes children-first, each with its exact
//! stored bytes. A parent is never written before everything it references, so a reader
//! of the destination never sees a dangling reference. Naming (tags, index.json refs) is
//! the caller's job, after the copy succeeded.

use crate::error::{Error, Result};
use crate::graph::{self, Role};
use crate::layout::Transfer;
use crate::model::Descriptor;
use crate::store::{Sink, Source, Stage};
use rayon::prelude::*;
use serde::Serialize;

pub mod stores;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyReport {
    /// Blobs (and manifests) that were already in the destination.
    pub skipped: u64,
    /// Blobs hard-linked from a local layout.
    pub linked: u64,
    /// Blobs a registry mounted from another repository.
    pub mounted: u64,
    /// Blobs streamed or copied.
    pub copied: u64,
    /// Bytes streamed or copied (not counting links and skipped blobs).
    pub bytes: u64,
    /// Manifests and indexes written.
    pub manifests: u64,
    /// What happened to each blob (configs, layers), in the order of the plan.
    #[serde(skip)]
    pub blobs: Vec<Moved>,
    /// What happened to each manifest and index, children first.
    #[serde(skip)]
    pub documents: Vec<Moved>,
}

/// What a copy did with one blob or document.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    /// `present`, `linked`, `mounted`, `copied` (blobs); `present`, `written` (documents).
    pub outcome: &'static str,
}

impl Moved {
    fn new(d: &Descriptor, outcome: &'static str) -> Moved {
        Moved {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
            outcome,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Parallel blob transfers.
    pub jobs: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions { jobs: 4 }
    }
}

/// What a copy of a graph moves, in the order the copy moves it.
#[derive(Debug, Clone, Default)]
pub struct CopyPlan {
    /// Configs, layers and other non-document blobs, each digest once (copied in parallel).
    pub leaves: Vec<Descriptor>,
    /// Manifests and indexes, children before the documents that reference them.
    pub documents: Vec<Descriptor>,
}

/// Walk `roots` in `src` and split the graph into leaves and documents; fails when the
/// source is incomplete. `copy_graph` executes exactly this plan; `--dry-run`s print it.
pub fn plan(src: &dyn Source, roots: &[Descriptor]) -> Result<CopyPlan> {
    let walk = graph::walk(src, roots);
    if let Some(e) = walk.first_error(&format!("cannot copy from {}", src.describe())) {
        return Err(e);
    }
    // Leaves: configs and layers, plus entries that are neither manifest nor index
    // (artifacts stored as plain blobs). Each digest once.
    let mut seen = std::collections::HashSet::new();
    let leaves: Vec<Descriptor> = walk
        .nodes
        .iter()
        .filter(|n| n.document.is_none() && n.role != Role::Subject)
        .filter(|n| !(n.descriptor.is_index() || n.descriptor.is_manifest()))
        .map(|n| &n.descriptor)
        .filter(|d| seen.insert(d.digest.clone()))
        .cloned()
        .collect();
    let documents = walk
        .documents_postorder
        .iter()
        .map(|&i| walk.nodes[i].descriptor.clone())
        .collect();
    Ok(CopyPlan { leaves, documents })
}

/// Copy the graph under `roots` from `src` to `dst`.
pub fn copy_graph(
    src: &dyn Source,
    dst: &dyn Sink,
    roots: &[Descriptor],
    opts: &CopyOptions,
) -> Result<CopyReport> {
    copy_graphs(&[(src, roots)], dst, opts)
}

/// Copy the graphs under several `(source, roots)` into `dst` as one copy: every source
/// is planned (and so proven complete) and every blob staged before any is committed,
/// so where the destination stages (a layout copying from layouts: `merge`, `index
/// create/add` with several sources) a corrupt blob in any source leaves it unchanged.
pub fn copy_graphs(
    sources: &[(&dyn Source, &[Descriptor])],
    dst: &dyn Sink,
    opts: &CopyOptions,
) -> Result<CopyReport> {
    let plans: Vec<CopyPlan> = sources
        .iter()
        .map(|(src, roots)| plan(*src, roots))
        .collect::<Result<_>>()?;
    let leaves: Vec<(&dyn Source, &Descriptor)> = sources
        .iter()
        .zip(&plans)
        .flat_map(|((src, _), p)| p.leaves.iter().map(move |d| (*src, d)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| Error::failure(format!("starting copy threads: {e}")))?;
    // Two phases: every blob is verified and staged (in parallel), then all are made
    // visible. A blob that fails verification stops the copy before any is visible
    // (for stores that stage: a layout copying from a layout); staged temp files of a
    // failed copy are removed as they drop.
    let staged: Vec<(&Descriptor, Stage)> = pool.install(|| {
        // One task per blob: rayon's default splitting hands contiguous runs of the
        // slice to one thread, so two big blobs side by side would go one after the
        // other while other threads sit idle (measured on fsck, which had that shape).
        leaves
            .par_iter()
            .with_max_len(1)
            .map(|(src, d)| dst.stage(*src, d).map(|s| (*d, s)))
            .collect::<Result<Vec<_>>>()
    })?;
    let mut report = CopyReport::default();
    for (d, stage) in staged {
        let outcome = match dst.commit(stage)? {
            Transfer::Present => {
                report.skipped += 1;
                "present"
            }
            Transfer::HardLink => {
                report.linked += 1;
                "linked"
            }
            Transfer::Mount => {
                report.mounted += 1;
                "mounted"
            }
            Transfer::Copy => {
                report.bytes += d.size.max(0) as u64;
                report.copied += 1;
                "copied"
            }
        };
        report.blobs.push(Moved::new(d, outcome));
    }
    for ((src, _), p) in sources.iter().zip(&plans) {
        // Which documents the destination already has: asked in parallel (for a
        // registry these are round trips); the writes stay sequential, children first.
        let present: Vec<bool> = pool.install(|| {
            p.documents
                .par_iter()
                .map(|d| dst.has(d))
                .collect::<Result<Vec<bool>>>()
        })?;
        for (d, present) in p.documents.iter().zip(present) {
            if present {
                report.skipped += 1;
                report.documents.push(Moved::new(d, "present"));
                continue;
            }
            let raw = src.read_small(d)?;
            dst.put_manifest(d, &raw)?;
            report.manifests += 1;
            report.documents.push(Moved::new(d, "written"));
        }
    }
    Ok(report)
}
