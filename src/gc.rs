//! `oix gc`: delete blobs nothing references.
//!
//! Mark: everything [`crate::reach::reachable`] finds (index.json's graph, plus whole
//! referrers of it and what they reach; the rule fsck checks by, so that `gc` then
//! `fsck` comes out clean). A misnamed or incomplete blob claiming a reachable subject is
//! not kept. Sweep: every other file under blobs/ named by a valid digest, and stale oix
//! temp files. gc holds the gc fence exclusively (no writer is mid-import) and the
//! index lock (index.json cannot change) for the whole run; a dry run writes nothing
//! (see [`gc`]). It refuses to sweep when
//! any index or manifest in the graph is unreadable, because then the reachable set is
//! not known.
//!
//! Referrers of subjects that are gone: index.json entries that only hold referrers
//! (referrers indexes under `<alg>-<hex>` tags, cosign `.sig`/`.att`/`.sbom` tags,
//! untagged entries with a subject) whose subject nothing else reaches
//! ([`crate::referrers::stale_entries`]) are dropped from index.json in the same run,
//! under the same locks, after the graph was found whole; their blobs are then swept.

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::layout::{Layout, TEMP_PREFIX};
use crate::reach;
use serde::Serialize;
use std::collections::HashSet;
use std::fs;
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
    /// index.json entries removed (or that would be) because they hold only referrers
    /// of subjects the layout no longer has: their ref names (or digests, untagged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrer_entries_removed: Vec<String>,
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
    let (mut index, _) = layout.read_index()?;
    layout.check_blob_dirs(None)?;
    let (stored, left_alone) = reach::stored_blobs(layout)?;
    // Referrers of subjects the layout no longer has: their index.json entries
    // (referrers indexes, cosign tags, untagged referrers) go first, in one transaction
    // under the locks gc holds, and then their blobs with the rest of the garbage.
    let (stale, known) = crate::referrers::stale_entries_and_reach(layout, &index, &stored);
    let entries_removed: Vec<String> = stale
        .iter()
        .map(|&i| {
            let d = &index.manifests[i];
            d.ref_name()
                .map_or_else(|| d.digest.clone(), str::to_string)
        })
        .collect();
    let stale_set: HashSet<usize> = stale.iter().copied().collect();
    let pruned = |idx: &mut crate::model::Index| {
        let mut i = 0;
        idx.manifests.retain(|_| {
            i += 1;
            !stale_set.contains(&(i - 1))
        });
    };
    let before = index.clone();
    pruned(&mut index);
    // The same rule fsck checks by: index.json's graph plus whole referrers of it.
    // (Already computed over exactly these entries when the layout holds referrers.)
    let reach = known.unwrap_or_else(|| reach::reachable(layout, &index.manifests, &stored));
    if let Some(e) = reach.walk.first_error("gc refuses to sweep") {
        return Err(e.with_hint(
            "the reachable set is unknown while the graph is broken; run `oix fsck` and repair first",
        ));
    }
    if let (Some(lock), false, false) = (&_locks.1, dry_run, stale.is_empty()) {
        layout.transact_held(lock, |idx| {
            // The index lock is held since index.json was read: it is unchanged.
            if *idx != before {
                return Err(crate::Error::failure(
                    "index.json changed while gc held its lock",
                ));
            }
            pruned(idx);
            Ok(())
        })?;
    }
    let marked: HashSet<Digest> = reach.digests();

    let mut report = GcReport {
        dry_run,
        kept: 0,
        removed: Vec::new(),
        bytes_removed: 0,
        temp_files_removed: 0,
        left_alone,
        referrer_entries_removed: entries_removed,
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
