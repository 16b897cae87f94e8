//! `oix gc`: delete blobs nothing references.
//!
//! Mark: everything reachable from index.json through nested indexes, manifests,
//! configs and layers, plus referrers (manifests whose `subject` is marked) and what they
//! reach. Sweep: every other file under blobs/ named by a valid digest, and stale oix
//! temp files. gc holds the gc fence exclusively (no writer is mid-import) and the
//! index lock (index.json cannot change) for the whole run; a dry run writes nothing
//! (see [`gc`]). It refuses to sweep when
//! any index or manifest in the graph is unreadable, because then the reachable set is
//! not known.

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::graph;
use crate::layout::{Layout, BLOBS_DIR, TEMP_PREFIX};
use crate::model::{self, Descriptor};
use serde::Serialize;
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Blobs reachable (kept).
    pub kept: u64,
    /// Blobs removed (or that would be, with --dry-run).
    pub removed: Vec<String>,
    pub bytes_removed: u64,
    /// Stale temp files removed.
    pub temp_files_removed: u64,
    /// Files in blobs/ that are not named by a digest: left alone.
    pub left_alone: Vec<PathBuf>,
}

/// Blobs named by a valid digest (with their sizes), and the other files found.
type Stored = (Vec<(Digest, u64)>, Vec<PathBuf>);

/// Every blob in blobs/ named by a valid digest, with its size (symlinks not followed).
fn stored_blobs(layout: &Layout) -> Result<Stored> {
    let root = layout.root().join(BLOBS_DIR);
    let mut blobs = Vec::new();
    let mut others = Vec::new();
    for alg in fs::read_dir(&root).at("reading", &root)?.flatten() {
        if !alg.file_type().is_ok_and(|t| t.is_dir()) {
            others.push(alg.path());
            continue;
        }
        let alg_name = alg.file_name().to_string_lossy().to_string();
        for e in fs::read_dir(alg.path())
            .at("reading", &alg.path())?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            match Digest::parse(&format!("{alg_name}:{name}")) {
                Ok(d) => {
                    let len = e.path().symlink_metadata().map(|m| m.len()).unwrap_or(0);
                    blobs.push((d, len));
                }
                Err(_) => others.push(e.path()),
            }
        }
    }
    blobs.sort();
    Ok((blobs, others))
}

/// A stored blob that declares a `subject`: its descriptor, for marking referrers.
fn referrer_descriptor(
    layout: &Layout,
    digest: &Digest,
    size: u64,
) -> Option<(Descriptor, String)> {
    if size > model::MAX_MANIFEST_SIZE {
        return None;
    }
    // Through the store's checks: a link out of blobs/, a FIFO or a device is not read.
    let mut bytes = Vec::new();
    layout
        .open_blob(digest)
        .ok()?
        .take(model::MAX_MANIFEST_SIZE + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let subject = v.get("subject")?.get("digest")?.as_str()?.to_string();
    let media_type = match v.get("mediaType").and_then(|m| m.as_str()) {
        Some(m) => m.to_string(),
        None if v.get("manifests").is_some() => model::media::OCI_INDEX.to_string(),
        None => model::media::OCI_MANIFEST.to_string(),
    };
    Some((Descriptor::new(&media_type, digest, size), subject))
}

/// Collect garbage. With `dry_run` nothing is written, not even a lock file, so it
/// works on read-only layouts: the gc fence is held shared when its lock file can be
/// opened read-only (a running gc is waited for), else not at all; writers may run
/// meanwhile, so the report is a snapshot (a blob or temp file of an import in flight
/// can be listed).
pub fn gc(layout: &Layout, dry_run: bool) -> Result<GcReport> {
    let _locks = if dry_run {
        (None, None, layout.read_only_gc_fence()?)
    } else {
        (
            Some(layout.lock_for_gc()?),
            Some(layout.lock_index()?),
            None,
        )
    };
    let (index, _) = layout.read_index()?;
    let walk = graph::walk(layout, &index.manifests);
    if let Some(e) = walk.first_error("gc refuses to sweep") {
        return Err(e.with_hint(
            "the reachable set is unknown while the graph is broken; run `oix fsck` and repair first",
        ));
    }
    let mut marked: HashSet<Digest> = walk.digests();
    layout.check_blob_dirs(None)?;
    let (stored, left_alone) = stored_blobs(layout)?;

    // Referrers: keep manifests whose subject is kept, and what they reach; repeat,
    // since a referrer can itself have referrers.
    let candidates: Vec<(Descriptor, String)> = stored
        .iter()
        .filter(|(d, _)| !marked.contains(d))
        .filter_map(|(d, s)| referrer_descriptor(layout, d, *s))
        .collect();
    loop {
        let marked_strings: HashSet<String> = marked.iter().map(|d| d.to_string()).collect();
        let new_roots: Vec<Descriptor> = candidates
            .iter()
            .filter(|(d, subject)| {
                marked_strings.contains(subject) && !marked_strings.contains(&d.digest)
            })
            .map(|(d, _)| d.clone())
            .collect();
        if new_roots.is_empty() {
            break;
        }
        let w = graph::walk(layout, &new_roots);
        marked.extend(w.digests());
    }

    let mut report = GcReport {
        dry_run,
        kept: 0,
        removed: Vec::new(),
        bytes_removed: 0,
        temp_files_removed: 0,
        left_alone,
    };
    for (d, len) in &stored {
        if marked.contains(d) {
            report.kept += 1;
            continue;
        }
        if !dry_run {
            let p = layout.blob_path(d);
            fs::remove_file(&p).at("removing", &p)?;
        }
        report.removed.push(d.to_string());
        report.bytes_removed += len;
    }
    // Temp files: with the fence held exclusively no oix writer is running, so every
    // temp file left in the layout root is from a process that died.
    for e in fs::read_dir(layout.root())
        .at("reading", layout.root())?
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && e.file_type().is_ok_and(|t| t.is_file())
        {
            if !dry_run {
                fs::remove_file(e.path()).at("removing", &e.path())?;
            }
            report.temp_files_removed += 1;
        }
    }
    Ok(report)
}
