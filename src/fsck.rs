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

use crate::digest::Digest;
use crate::error::{Kind, Result};
use crate::graph::{self, Role, Severity};
use crate::layout::{Layout, BLOBS_DIR};
use crate::model::{self, Document, ImageConfig};
use crate::verify::{self, Expect, Mismatch, Mismatched, VerifyingReader};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// What the blob check found for one file.
enum BlobState {
    Ok {
        hashed: u64,
    },
    Bad {
        code: &'static str,
        message: String,
        hashed: u64,
    },
}

/// Hash `work` (sorted biggest first) on `opts.jobs` threads of the pool, each taking
/// the next blob in turn ([`crate::pool::map_dynamic`]: longest-processing-time first, so
/// two big blobs side by side go to two threads). One buffer per thread.
fn hash_longest_first(
    layout: &Layout,
    work: &[(u64, Digest, Option<u64>)],
    opts: &Options,
) -> Result<Vec<(Digest, bool, BlobState)>> {
    let states = crate::pool::map_dynamic(
        opts.jobs,
        work,
        || vec![0u8; 1 << 20],
        |buf, (_, d, s)| check_blob(layout, d, *s, opts.quick, buf),
    )?;
    Ok(work
        .iter()
        .zip(states)
        .map(|((_, d, s), state)| (d.clone(), s.is_some(), state))
        .collect())
}

/// Check one blob file: type, size, and (unless quick) digest.
fn check_blob(
    layout: &Layout,
    digest: &Digest,
    size: Option<u64>,
    quick: bool,
    buf: &mut [u8],
) -> BlobState {
    let path = layout.blob_path(digest);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return BlobState::Bad {
                code: "missing-blob",
                message: format!("blob {digest} is missing"),
                hashed: 0,
            }
        }
        Err(e) => {
            return BlobState::Bad {
                code: "unreadable",
                message: format!("cannot read blob {digest}: {e}"),
                hashed: 0,
            }
        }
    };
    if meta.file_type().is_symlink() {
        if let Err(e) = layout.check_symlink_inside(&path) {
            return BlobState::Bad {
                code: "symlink-escape",
                message: e.message,
                hashed: 0,
            };
        }
    } else if !meta.is_file() {
        return BlobState::Bad {
            code: "not-a-file",
            message: format!("blob {digest} is not a regular file"),
            hashed: 0,
        };
    }
    let len = match fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) => {
            return BlobState::Bad {
                code: "unreadable",
                message: format!("cannot read blob {digest}: {e}"),
                hashed: 0,
            }
        }
    };
    if let Some(want) = size {
        if len != want {
            return BlobState::Bad {
                code: "size-mismatch",
                message: format!("blob {digest} is {len} bytes, its descriptor says {want}"),
                hashed: 0,
            };
        }
    }
    if quick {
        return BlobState::Ok { hashed: 0 };
    }
    if !digest.is_verifiable() {
        return BlobState::Ok { hashed: 0 };
    }
    let f = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            return BlobState::Bad {
                code: "unreadable",
                message: format!("cannot open blob {digest}: {e}"),
                hashed: 0,
            }
        }
    };
    // The verifying reader hashes in place, in this thread's buffer.
    let mut r = VerifyingReader::new(f, Expect::new(digest, size));
    loop {
        match r.read(buf) {
            Ok(0) => return BlobState::Ok { hashed: r.seen() },
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let hashed = r.seen();
                return match verify::mismatch_in(&e) {
                    Some(Mismatched {
                        mismatch: Mismatch::Digest { got },
                        ..
                    }) => BlobState::Bad {
                        code: "digest-mismatch",
                        message: format!(
                            "blob {digest} hashes to {got} (corrupt, or stored under a wrong name)"
                        ),
                        hashed,
                    },
                    // The file changed size after it was measured above.
                    Some(m) => BlobState::Bad {
                        code: "size-mismatch",
                        message: m.to_string(),
                        hashed,
                    },
                    None => BlobState::Bad {
                        code: "unreadable",
                        message: format!("reading blob {digest}: {e}"),
                        hashed,
                    },
                };
            }
        }
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
    check_ref_names(&roots, &mut cx);
    // What is reachable is decided by the rule gc keeps by: index.json's graph plus the
    // whole referrers of it, whose blobs are then checked like any other content.
    let stored = crate::reach::stored_blobs(layout)
        .map(|(s, _)| s)
        .unwrap_or_default();
    let reach = crate::reach::reachable(layout, &roots, &stored);
    for (d, why) in reach
        .rejected
        .iter()
        .filter(|(_, w)| w.starts_with("incomplete"))
    {
        cx.add(
            Level::Warning,
            "incomplete-referrer",
            Some(&d.to_string()),
            None,
            format!(
                "blob {d} names a reachable subject but is not kept ({why}); `oix gc` removes it"
            ),
        );
    }
    check_referrers(layout, &roots, &stored, &mut cx);
    let walk = reach.walk;

    // Every reachable digest with the sizes its descriptors claim.
    let mut sizes: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    let mut optional: HashMap<String, bool> = HashMap::new();
    for n in &walk.nodes {
        let referrer =
            n.parent
                .clone()
                .unwrap_or_else(|| match reach.referrers.get(&n.descriptor.digest) {
                    Some(subject) => format!("referrer of {subject}"),
                    None => "index.json".into(),
                });
        sizes
            .entry(n.descriptor.digest.clone())
            .or_default()
            .push((n.descriptor.size, referrer));
        // A subject, or a non-distributable layer with urls, may live elsewhere.
        let may_be_absent =
            n.role == Role::Subject || (n.role == Role::Layer && n.descriptor.urls.is_some());
        let e = optional.entry(n.descriptor.digest.clone()).or_insert(true);
        *e &= may_be_absent;
    }

    let mut to_check: Vec<(Digest, u64)> = Vec::new();
    let mut bad_digests: HashMap<String, ()> = HashMap::new();
    for (digest_str, claims) in &sizes {
        let referrer = claims[0].1.as_str();
        let digest = match Digest::parse(digest_str) {
            Ok(d) => d,
            Err(e) => {
                cx.add(
                    Level::Error,
                    "invalid-digest",
                    Some(digest_str),
                    Some(referrer),
                    e.message,
                );
                bad_digests.insert(digest_str.clone(), ());
                continue;
            }
        };
        if claims.iter().any(|(s, _)| *s < 0) {
            cx.add(
                Level::Error,
                "invalid-size",
                Some(digest_str),
                Some(referrer),
                format!("descriptor of {digest_str} has a negative size"),
            );
            bad_digests.insert(digest_str.clone(), ());
            continue;
        }
        if claims.iter().any(|(s, _)| *s != claims[0].0) {
            let list: Vec<String> = claims
                .iter()
                .map(|(s, r)| format!("{s} (in {r})"))
                .collect();
            cx.add(
                Level::Error,
                "size-conflict",
                Some(digest_str),
                Some(referrer),
                format!(
                    "descriptors of {digest_str} disagree on its size: {}",
                    list.join(", ")
                ),
            );
        }
        if !digest.is_verifiable() {
            cx.add(
                Level::Warning,
                "unverifiable-digest",
                Some(digest_str),
                Some(referrer),
                format!(
                    "{digest_str}: algorithm {} cannot be verified by oix",
                    digest.algorithm().as_str()
                ),
            );
        }
        if optional.get(digest_str).copied().unwrap_or(false) && !layout.has_blob(&digest) {
            continue;
        }
        to_check.push((digest, claims[0].0 as u64));
    }

    // Unreferenced files in blobs/: checked for their name and content too.
    let mut unreferenced: Vec<Digest> = Vec::new();
    scan_blobs_dir(layout, &sizes, &mut unreferenced, &mut cx);

    // Hash everything in parallel, biggest first for balance; one buffer per thread.
    let mut work: Vec<(Digest, Option<u64>)> = to_check
        .iter()
        .map(|(d, s)| (d.clone(), Some(*s)))
        .collect();
    work.extend(unreferenced.into_iter().map(|d| (d, None)));
    let mut with_len: Vec<(u64, Digest, Option<u64>)> = work
        .into_iter()
        .map(|(d, s)| {
            (
                fs::symlink_metadata(layout.blob_path(&d))
                    .map(|m| m.len())
                    .unwrap_or(0),
                d,
                s,
            )
        })
        .collect();
    with_len.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let results = hash_longest_first(layout, &with_len, opts)?;
    let mut bytes_hashed = 0;
    let blobs_checked = results.len() as u64;
    for (d, referenced, state) in results {
        match state {
            BlobState::Ok { hashed } => bytes_hashed += hashed,
            BlobState::Bad {
                code,
                message,
                hashed,
            } => {
                bytes_hashed += hashed;
                let ds = d.to_string();
                bad_digests.insert(ds.clone(), ());
                let code = if !referenced && code == "digest-mismatch" {
                    "misnamed-blob"
                } else {
                    code
                };
                let referrer = sizes.get(&ds).map(|c| c[0].1.clone());
                cx.add(Level::Error, code, Some(&ds), referrer.as_deref(), message);
            }
        }
    }

    // Structure problems the walk found, for blobs that are themselves intact.
    for p in &walk.problems {
        let ds = p.digest.as_deref().unwrap_or("");
        // A missing blob is reported once, by the blob check above.
        if bad_digests.contains_key(ds) || p.kind == Kind::NotFound {
            continue;
        }
        let sev = if p.severity == Severity::Error {
            Level::Error
        } else {
            Level::Warning
        };
        cx.add(
            sev,
            "invalid-document",
            p.digest.as_deref(),
            Some(&p.referrer),
            p.message.clone(),
        );
    }
    check_configs(layout, &walk, &bad_digests, &mut cx);

    cx.findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.digest.cmp(&b.digest))
            .then_with(|| a.code.cmp(b.code))
    });
    let errors = cx
        .findings
        .iter()
        .filter(|f| f.severity == Level::Error)
        .count() as u64;
    let warnings = cx.findings.len() as u64 - errors;
    Ok(Report {
        layout: layout.root().to_path_buf(),
        clean: errors == 0,
        quick: opts.quick,
        blobs_checked,
        bytes_hashed,
        errors,
        warnings,
        problems: cx.findings,
    })
}

/// Walk blobs/<alg>/<name>: names must be digests of their algorithm; symlinks must
/// stay inside; unreferenced valid blobs are returned for hashing.
/// Ref names that break the image-spec grammar (`invalid-ref-name`, a warning: the
/// layout stays usable, and `oix untag` removes any existing name given exactly). Such
/// names cannot be pushed as tags and may carry terminal escapes.
/// How the layout lists referrers (crate::referrers): a listing that names a manifest
/// which is not a referrer of the tag's subject (`not-a-referrer`, `unreadable-referrer`),
/// and index.json entries holding referrers of a subject the layout no longer has
/// (`orphan-referrer`; `oix gc` removes them, so after gc fsck has none). Warnings: the
/// content is not damaged.
fn check_referrers(
    layout: &Layout,
    roots: &[model::Descriptor],
    stored: &[(Digest, u64)],
    cx: &mut Ctx,
) {
    let index = model::Index {
        manifests: roots.to_vec(),
        ..Default::default()
    };
    if let Ok(scan) = crate::referrers::scan_index(layout, &index, false) {
        for w in &scan.warnings {
            cx.add(
                Level::Warning,
                w.code,
                w.digest.as_deref(),
                None,
                w.message.clone(),
            );
        }
    }
    for i in crate::referrers::stale_entries(layout, &index, stored) {
        let d = &roots[i];
        let name = d
            .ref_name()
            .map_or_else(|| "untagged".to_string(), |n| format!("ref {n}"));
        cx.add(
            Level::Warning,
            "orphan-referrer",
            Some(&d.digest),
            Some("index.json"),
            format!(
                "index.json entry {i} ({name}) holds referrers of a subject the layout no longer has; `oix gc` removes it"
            ),
        );
    }
}

fn check_ref_names(roots: &[model::Descriptor], cx: &mut Ctx) {
    for (i, d) in roots.iter().enumerate() {
        let Some(name) = d.ref_name() else { continue };
        if let Err(e) = crate::reference::validate_ref_name(name) {
            cx.findings.push(Finding {
                severity: Level::Warning,
                code: "invalid-ref-name",
                digest: Some(d.digest.clone()),
                path: None,
                referrer: Some("index.json".into()),
                message: format!(
                    "index.json entry {i}: {}; remove it with `oix untag LAYOUT:NAME` (the name exactly)",
                    e.message
                ),
            });
        }
    }
}

fn scan_blobs_dir(
    layout: &Layout,
    referenced: &BTreeMap<String, Vec<(i64, String)>>,
    unreferenced: &mut Vec<Digest>,
    cx: &mut Ctx,
) {
    let blobs = layout.root().join(BLOBS_DIR);
    let Ok(algs) = fs::read_dir(&blobs) else {
        cx.add(
            Level::Error,
            "missing-blobs-dir",
            None,
            None,
            format!("{} is missing or unreadable", blobs.display()),
        );
        return;
    };
    let stray = |cx: &mut Ctx, path: &Path, why: &str| {
        cx.findings.push(Finding {
            severity: Level::Warning,
            code: "stray-file",
            digest: None,
            path: Some(path.to_path_buf()),
            referrer: None,
            message: why.to_string(),
        })
    };
    for alg in algs.flatten() {
        let alg_path = alg.path();
        let Some(alg_name) = alg.file_name().to_str().map(str::to_string) else {
            stray(cx, &alg_path, "name is not UTF-8");
            continue;
        };
        if !alg.file_type().is_ok_and(|t| t.is_dir()) {
            stray(cx, &alg_path, "not an algorithm directory");
            continue;
        }
        let Ok(entries) = fs::read_dir(&alg_path) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            let Ok(digest) = Digest::parse(&format!("{alg_name}:{name}")) else {
                stray(cx, &path, "name is not a digest of its algorithm directory");
                continue;
            };
            let ds = digest.to_string();
            if referenced.contains_key(&ds) {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                if let Err(err) = layout.check_symlink_inside(&path) {
                    cx.add(Level::Error, "symlink-escape", Some(&ds), None, err.message);
                    continue;
                }
            }
            if digest.is_verifiable() {
                unreferenced.push(digest);
            }
        }
    }
}

/// Image configs parse, have os/architecture/rootfs, and agree with the entry platform.
fn check_configs(layout: &Layout, walk: &graph::Walk, bad: &HashMap<String, ()>, cx: &mut Ctx) {
    for n in &walk.nodes {
        let Some(Document::Manifest(m)) = &n.document else {
            continue;
        };
        let cfg = &m.config;
        if !model::media::is_image_config(&cfg.media_type) || bad.contains_key(&cfg.digest) {
            continue;
        }
        let bytes = match layout.read_blob(cfg, model::MAX_MANIFEST_SIZE) {
            Ok(b) => b,
            Err(e) => {
                cx.add(
                    Level::Error,
                    "invalid-config",
                    Some(&cfg.digest),
                    Some(&n.descriptor.digest),
                    e.message,
                );
                continue;
            }
        };
        let parsed: std::result::Result<ImageConfig, _> = serde_json::from_slice(&bytes);
        let config = match parsed {
            Ok(c) => c,
            Err(e) => {
                cx.add(
                    Level::Error,
                    "invalid-config",
                    Some(&cfg.digest),
                    Some(&n.descriptor.digest),
                    format!("config {} is not valid JSON: {e}", cfg.digest),
                );
                continue;
            }
        };
        let rootfs_ok = config
            .extra
            .get("rootfs")
            .and_then(|r| r.get("type"))
            .and_then(|t| t.as_str())
            == Some("layers");
        // Required means present: cosign's signature configs carry `"os":""` and
        // `"architecture":""`, which the image-spec allows (a referrer has no platform).
        let present = |k: &str| {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .is_some_and(|v| v.get(k).is_some_and(|x| x.is_string()))
        };
        let named = |v: &str, k: &str| !v.is_empty() || present(k);
        if !named(&config.os, "os") || !named(&config.architecture, "architecture") || !rootfs_ok {
            cx.add(
                Level::Error,
                "invalid-config",
                Some(&cfg.digest),
                Some(&n.descriptor.digest),
                format!(
                    "config {} lacks a required field (os, architecture, rootfs.type=layers)",
                    cfg.digest
                ),
            );
            continue;
        }
        if let (Some(p), Some(c)) = (&n.descriptor.platform, config.platform()) {
            if let Some(why) = crate::platform::config_disagreement(p, &c) {
                cx.add(
                    Level::Warning,
                    "platform-mismatch",
                    Some(&n.descriptor.digest),
                    n.parent.as_deref().or(Some("index.json")),
                    why,
                );
            }
        }
    }
}
