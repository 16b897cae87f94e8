//! The files under blobs/: each one's type, size and digest, hashed in parallel, and
//! the names of the files nothing references.

use super::claims::Claims;
use super::{Ctx, Finding, Level, Options};
use crate::digest::Digest;
use crate::error::Result;
use crate::layout::{Layout, BLOBS_DIR};
use crate::verify::{self, Expect, Mismatch, Mismatched, VerifyingReader};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::Path;

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

impl BlobState {
    fn bad(code: &'static str, message: String) -> BlobState {
        BlobState::Bad {
            code,
            message,
            hashed: 0,
        }
    }
}

/// The totals of the blob checks, for the report.
pub(super) struct Hashed {
    pub(super) blobs_checked: u64,
    pub(super) bytes_hashed: u64,
}

/// Check every referenced blob (`to_check`, with its claimed size) and every
/// unreferenced one, and record what is wrong with each; bad ones go into `bad`.
pub(super) fn check_all(
    layout: &Layout,
    claims: &Claims,
    to_check: Vec<(Digest, u64)>,
    unreferenced: Vec<Digest>,
    opts: &Options,
    bad: &mut HashSet<String>,
    cx: &mut Ctx,
) -> Result<Hashed> {
    let mut work: Vec<(Digest, Option<u64>)> =
        to_check.into_iter().map(|(d, s)| (d, Some(s))).collect();
    work.extend(unreferenced.into_iter().map(|d| (d, None)));
    let results = hash_longest_first(layout, &biggest_first(layout, work), opts)?;
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
                bad.insert(ds.clone());
                // A file nobody references that does not hash to its name is misnamed.
                let code = if !referenced && code == "digest-mismatch" {
                    "misnamed-blob"
                } else {
                    code
                };
                let referrer = claims.first_referrer(&ds);
                cx.add(Level::Error, code, Some(&ds), referrer.as_deref(), message);
            }
        }
    }
    Ok(Hashed {
        blobs_checked,
        bytes_hashed,
    })
}

/// The blobs to hash with their file lengths, biggest first (ties by digest), so the
/// parallel hashing balances.
fn biggest_first(
    layout: &Layout,
    work: Vec<(Digest, Option<u64>)>,
) -> Vec<(u64, Digest, Option<u64>)> {
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
    with_len
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
    if let Err(state) = check_file(layout, &path, digest, size) {
        return state;
    }
    if quick || !digest.is_verifiable() {
        return BlobState::Ok { hashed: 0 };
    }
    let f = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return BlobState::bad("unreadable", format!("cannot open blob {digest}: {e}")),
    };
    hash_file(f, digest, size, buf)
}

/// The blob's file: present, a regular file or a symlink that stays inside the layout,
/// of the claimed size.
fn check_file(
    layout: &Layout,
    path: &Path,
    digest: &Digest,
    size: Option<u64>,
) -> std::result::Result<(), BlobState> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BlobState::bad(
                "missing-blob",
                format!("blob {digest} is missing"),
            ))
        }
        Err(e) => {
            return Err(BlobState::bad(
                "unreadable",
                format!("cannot read blob {digest}: {e}"),
            ))
        }
    };
    if meta.file_type().is_symlink() {
        if let Err(e) = layout.check_symlink_inside(path) {
            return Err(BlobState::bad("symlink-escape", e.message));
        }
    } else if !meta.is_file() {
        return Err(BlobState::bad(
            "not-a-file",
            format!("blob {digest} is not a regular file"),
        ));
    }
    let len = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            return Err(BlobState::bad(
                "unreadable",
                format!("cannot read blob {digest}: {e}"),
            ))
        }
    };
    match size {
        Some(want) if len != want => Err(BlobState::bad(
            "size-mismatch",
            format!("blob {digest} is {len} bytes, its descriptor says {want}"),
        )),
        _ => Ok(()),
    }
}

/// Hash the blob's content through the verifying reader, in this thread's buffer.
fn hash_file(f: fs::File, digest: &Digest, size: Option<u64>, buf: &mut [u8]) -> BlobState {
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

/// Walk blobs/<alg>/<name>: names must be digests of their algorithm; symlinks must
/// stay inside; unreferenced valid blobs are returned for hashing.
pub(super) fn scan_blobs_dir(
    layout: &Layout,
    referenced: &BTreeMap<String, Vec<(i64, String)>>,
    cx: &mut Ctx,
) -> Vec<Digest> {
    let mut unreferenced: Vec<Digest> = Vec::new();
    let blobs = layout.root().join(BLOBS_DIR);
    let Ok(algs) = fs::read_dir(&blobs) else {
        cx.add(
            Level::Error,
            "missing-blobs-dir",
            None,
            None,
            format!("{} is missing or unreadable", blobs.display()),
        );
        return unreferenced;
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
    unreferenced
}

/// A file in blobs/ that is not a blob (`stray-file`, a warning).
fn stray(cx: &mut Ctx, path: &Path, why: &str) {
    cx.findings.push(Finding {
        severity: Level::Warning,
        code: "stray-file",
        digest: None,
        path: Some(path.to_path_buf()),
        referrer: None,
        message: why.to_string(),
    })
}
