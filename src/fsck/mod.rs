//! `oix fsck`: verify a layout end to end.
//!
//! Checks, each reported with a stable code:
//! - every blob reachable from index.json is present (`missing-blob`), a regular file or
//!   a symlink that stays inside blobs/ (`symlink-escape`, `not-a-file`), of the size its
//!   descriptors say (`size-mismatch`, `size-conflict`) and hashing to its digest
//!   (`digest-mismatch`; skipped with `--quick`);
//! - digests are grammatical (`invalid-digest`), or unverifiable (`unverifiable-digest`, warning);
//! - manifests, indexes and configs parse and have their required fields
//!   (`invalid-document`, `invalid-config`), media types are coherent;
//! - an entry's platform agrees with its config's os/architecture (`platform-mismatch`, warning);
//! - ref names follow the image-spec ref grammar (`invalid-ref-name`, warning);
//! - every file in blobs/ is a blob under its own name (`misnamed-blob`), names are
//!   digests (`stray-file`, warning), symlinks stay inside the layout;
//! - referrers (unlisted manifests whose `subject` is reachable) are content like the
//!   rest, by the rule gc keeps by ([`crate::reach`]): their blobs get every check above;
//!   one that is incomplete is not kept (`incomplete-referrer`, warning: gc removes it);
//! - referrers listed in index.json ([`crate::referrers`]): a referrers index listing a
//!   manifest that is not a referrer of its subject (`not-a-referrer`,
//!   `unreadable-referrer`), an entry holding referrers of a subject the layout no longer
//!   has (`orphan-referrer`); warnings, and gc removes the orphans.
//!
//! Hashing runs in parallel across blobs on the shared pool ([`crate::pool`]) with a fixed
//! buffer per thread, so memory stays bounded whatever the blob sizes.

mod blobs;
mod claims;
mod documents;
mod referrers;

use crate::digest::Digest;
use crate::error::Result;
use crate::layout::Layout;
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Level,
    /// Stable machine-readable code (see the module docs).
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The file at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The document that references the blob (`index.json` or a digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub layout: PathBuf,
    pub clean: bool,
    pub quick: bool,
    pub blobs_checked: u64,
    pub bytes_hashed: u64,
    pub errors: u64,
    pub warnings: u64,
    pub problems: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Skip hashing (sizes and structure only).
    pub quick: bool,
    /// Parallel hashing threads.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quick: false,
            jobs: crate::pool::default_jobs(),
        }
    }
}

/// What every check writes its findings to.
struct Ctx<'a> {
    layout: &'a Layout,
    findings: Vec<Finding>,
}

impl Ctx<'_> {
    fn add(
        &mut self,
        severity: Level,
        code: &'static str,
        digest: Option<&str>,
        referrer: Option<&str>,
        message: String,
    ) {
        let path = digest
            .and_then(|d| Digest::parse(d).ok())
            .map(|d| self.layout.blob_path(&d));
        self.findings.push(Finding {
            severity,
            code,
            digest: digest.map(str::to_string),
            path,
            referrer: referrer.map(str::to_string),
            message,
        });
    }
}

/// Run every check on `layout`.
pub fn fsck(layout: &Layout, opts: &Options) -> Result<Report> {
    let mut cx = Ctx {
        layout,
        findings: Vec::new(),
    };
    // A shared hold on the gc fence keeps a concurrent gc from deleting blobs under us;
    // on read-only media there is no lock file to take, and no gc either.
    let _fence = layout.try_shared_gc_fence();
    let index = match layout.read_index() {
        Ok((idx, _)) => Some(idx),
        Err(e) => {
            cx.add(Level::Error, "invalid-index-json", None, None, e.message);
            None
        }
    };
    let roots = index.map(|i| i.manifests).unwrap_or_default();
    documents::check_ref_names(&roots, &mut cx);
    // What is reachable is decided by the rule gc keeps by: index.json's graph plus the
    // whole referrers of it, whose blobs are then checked like any other content.
    let stored = crate::reach::stored_blobs(layout)
        .map(|(s, _)| s)
        .unwrap_or_default();
    let reach = crate::reach::reachable(layout, &roots, &stored);
    referrers::report_incomplete(&reach, &mut cx);
    referrers::check_listed(layout, &roots, &stored, &mut cx);

    let claims = claims::Claims::collect(&reach);
    // Digests whose blob (or descriptor) is already reported: nothing more is said of them.
    let mut bad_digests: HashSet<String> = HashSet::new();
    let to_check = claims.check(layout, &mut bad_digests, &mut cx);

    // Unreferenced files in blobs/: checked for their name and content too.
    let unreferenced = blobs::scan_blobs_dir(layout, &claims.sizes, &mut cx);
    let hashed = blobs::check_all(
        layout,
        &claims,
        to_check,
        unreferenced,
        opts,
        &mut bad_digests,
        &mut cx,
    )?;

    documents::report_walk_problems(&reach.walk, &bad_digests, &mut cx);
    documents::check_configs(layout, &reach.walk, &bad_digests, &mut cx);
    Ok(report(layout, opts, hashed, cx.findings))
}

/// The report: findings errors first, then by digest and code (a stable sort, so the
/// order the checks ran in breaks ties).
fn report(
    layout: &Layout,
    opts: &Options,
    hashed: blobs::Hashed,
    mut findings: Vec<Finding>,
) -> Report {
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.digest.cmp(&b.digest))
            .then_with(|| a.code.cmp(b.code))
    });
    let errors = findings
        .iter()
        .filter(|f| f.severity == Level::Error)
        .count() as u64;
    let warnings = findings.len() as u64 - errors;
    Report {
        layout: layout.root().to_path_buf(),
        clean: errors == 0,
        quick: opts.quick,
        blobs_checked: hashed.blobs_checked,
        bytes_hashed: hashed.bytes_hashed,
        errors,
        warnings,
        problems: findings,
    }
}
