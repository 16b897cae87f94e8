//! What a layout keeps: the one rule behind `gc` (what it must not delete) and `fsck`
//! (what it checks as content), so that after `oix gc`, `oix fsck` is clean unless some
//! kept content is itself damaged.
//!
//! Reachable is everything [`graph::walk`] reaches from index.json, plus *referrers*:
//! manifests and indexes stored in blobs/ but listed nowhere, whose `subject` is
//! reachable (signatures, SBOMs, attestations attached by digest), and what they reach;
//! repeated, since a referrer can have referrers of its own. A stored blob counts as a
//! referrer only when it is whole:
//! - its content hashes to its name (a misnamed file is not content, whatever it claims);
//! - every index and manifest below it reads and verifies, and every config and layer
//!   below it is present with its descriptor's size (an incomplete referrer could never
//!   pass fsck, so keeping it would keep the layout unclean forever).
//!
//! Candidates that claim a reachable subject but fail these checks are returned in
//! [`Reach::rejected`]: gc deletes them like any unreferenced blob, fsck names them in a
//! warning. Layer content below a kept referrer is not hashed here (gc stays cheap);
//! fsck hashes it like any reachable blob and reports a corrupt one.

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::graph::{self, Role, Walk};
use crate::layout::{Layout, BLOBS_DIR};
use crate::model::{self, Descriptor};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;

/// Blobs named by a valid digest (with their sizes), and the other files found.
pub type Stored = (Vec<(Digest, u64)>, Vec<PathBuf>);

/// The reachable set of a layout.
#[derive(Debug, Default)]
pub struct Reach {
    /// The walk from index.json, extended by the walks of the kept referrers (their
    /// roots are nodes with role [`Role::Entry`] and no parent).
    pub walk: Walk,
    /// Kept referrers: referrer digest → the digest of its subject.
    pub referrers: HashMap<String, String>,
    /// Stored blobs that claim a reachable subject but are not kept, with why.
    pub rejected: Vec<(Digest, String)>,
}

impl Reach {
    /// Every reachable digest (valid ones only).
    pub fn digests(&self) -> HashSet<Digest> {
        self.walk.digests()
    }
}

/// Every blob in blobs/ named by a valid digest, with its size (symlinks not followed).
pub fn stored_blobs(layout: &Layout) -> Result<Stored> {
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

/// What a stored blob that parses as a document with a `subject` claims.
pub(crate) struct Claim {
    pub(crate) descriptor: Descriptor,
    pub(crate) subject: String,
    /// Why it cannot be kept, found before its subject is known to be reachable.
    pub(crate) broken: Option<String>,
}

/// Read a stored blob that may be a referrer: JSON declaring a `subject`. `None` when it
/// is not one (too big, not JSON, no subject). Its digest is verified here.
pub(crate) fn claim(layout: &Layout, digest: &Digest, size: u64) -> Option<Claim> {
    if size > model::MAX_MANIFEST_SIZE {
        return None;
    }
    // Through the store's checks: a link out of blobs/, a FIFO or a device is not read.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(layout.open_blob(digest).ok()?, model::MAX_MANIFEST_SIZE + 1),
        &mut bytes,
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let subject = v.get("subject")?.get("digest")?.as_str()?.to_string();
    let media_type = match v.get("mediaType").and_then(|m| m.as_str()) {
        Some(m) => m.to_string(),
        None if v.get("manifests").is_some() => model::media::OCI_INDEX.to_string(),
        None => model::media::OCI_MANIFEST.to_string(),
    };
    let broken = crate::verify::verify(&bytes, &crate::verify::Expect::new(digest, None))
        .err()
        .map(|m| format!("its {} (misnamed)", m.detail()));
    Some(Claim {
        descriptor: Descriptor::new(&media_type, digest, bytes.len() as u64),
        subject,
        broken,
    })
}

/// Why the graph under a referrer is not whole, if it is not: a document that does not
/// read, or a config or layer missing or of the wrong size.
fn incomplete(layout: &Layout, w: &Walk) -> Option<String> {
    if let Some(p) = w
        .problems
        .iter()
        .find(|p| p.severity == graph::Severity::Error)
    {
        return Some(format!(
            "{} (in {}): {}",
            p.digest.as_deref().unwrap_or("?"),
            p.referrer,
            p.message
        ));
    }
    for n in w.nodes.iter().filter(|n| n.document.is_none()) {
        let optional =
            n.role == Role::Subject || (n.role == Role::Layer && n.descriptor.urls.is_some());
        let (Ok(d), Ok(size)) = (n.descriptor.digest(), n.descriptor.size()) else {
            return Some(format!("{}: invalid descriptor", n.descriptor.digest));
        };
        match layout.open_blob(&d).and_then(|f| {
            f.metadata()
                .map(|m| m.len())
                .at("reading", &layout.blob_path(&d))
        }) {
            Ok(len) if len == size => {}
            Ok(len) => {
                return Some(format!(
                    "blob {d} is {len} bytes, its descriptor says {size}"
                ))
            }
            Err(_) if optional && !layout.has_blob(&d) => {}
            Err(e) => return Some(e.message),
        }
    }
    None
}

/// The reachable set from `roots` (normally index.json's `manifests`), with referrers.
/// `stored` is the listing of blobs/ ([`stored_blobs`]).
pub fn reachable(layout: &Layout, roots: &[Descriptor], stored: &[(Digest, u64)]) -> Reach {
    let mut reach = Reach {
        walk: graph::walk(layout, roots),
        ..Default::default()
    };
    let mut marked: HashSet<String> = reach
        .walk
        .nodes
        .iter()
        .map(|n| n.descriptor.digest.clone())
        .collect();
    let mut candidates: Vec<Claim> = stored
        .iter()
        .filter(|(d, _)| !marked.contains(&d.to_string()))
        .filter_map(|(d, s)| claim(layout, d, *s))
        .collect();
    loop {
        let (ready, rest): (Vec<Claim>, Vec<Claim>) = candidates
            .into_iter()
            .partition(|c| marked.contains(&c.subject));
        candidates = rest;
        if ready.is_empty() {
            break;
        }
        for c in ready {
            let d = c.descriptor.digest.clone();
            if marked.contains(&d) {
                continue; // reached meanwhile through another referrer
            }
            let why = c.broken.or_else(|| {
                let w = graph::walk(layout, std::slice::from_ref(&c.descriptor));
                match incomplete(layout, &w) {
                    Some(why) => Some(format!("incomplete: {why}")),
                    None => {
                        append(&mut reach.walk, w, &mut marked);
                        None
                    }
                }
            });
            match why {
                Some(why) => {
                    if let Ok(dg) = Digest::parse(&d) {
                        reach.rejected.push((dg, why));
                    }
                }
                None => {
                    reach.referrers.insert(d, c.subject);
                }
            }
        }
    }
    reach.rejected.sort();
    reach
}

/// Add the nodes of `w` to `into`, keeping `documents_postorder` indexes valid.
fn append(into: &mut Walk, w: Walk, marked: &mut HashSet<String>) {
    let offset = into.nodes.len();
    for n in &w.nodes {
        marked.insert(n.descriptor.digest.clone());
    }
    into.nodes.extend(w.nodes);
    into.problems.extend(w.problems);
    into.documents_postorder
        .extend(w.documents_postorder.into_iter().map(|i| i + offset));
}
