//! Discovering the referrers a copy carries along with the documents it moves.

use super::{fallback_tag, info, scan, ArtifactFilter, Warning};
use crate::error::Result;
use crate::model::{Descriptor, Document};
use serde::Serialize;
use std::collections::HashSet;

/// A referrer a copy carries: found in the source for `subject`, checked to be one
/// (its document names that subject, or it is a cosign tag of it), and how the
/// destination lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Carried {
    /// The subject's digest.
    pub subject: String,
    /// The referrer: mediaType, digest, size, and its document's artifactType and
    /// annotations (as a referrers index lists it).
    pub descriptor: Descriptor,
    /// The name it is listed under at the destination: the subject's fallback tag
    /// (`sha256-<hex>`, the referrers index) or, for cosign's legacy signatures,
    /// attestations and SBOMs (no `subject` field), its own tag `sha256-<hex>.sig`.
    pub tag: String,
    /// Listed by its own cosign tag rather than in the referrers index.
    pub cosign: bool,
}

/// Every referrer to carry along with the documents `documents` (each manifest and
/// index a copy moves): the referrers `source` lists for each, recursively (referrers
/// of referrers, and of the manifests a referrer index lists), each once, so a cycle
/// ends. `filter` narrows every level; recursion goes on only through carried
/// referrers. What the source lists but is not a referrer of that subject (another
/// subject, none, unreadable) is not carried: a warning says so. Parents come before
/// the referrers that name them, so writing in this order PUTs referrers after their
/// subject.
pub fn discover(
    source: &dyn crate::store::Source,
    documents: &[Descriptor],
    filter: &ArtifactFilter,
) -> Result<(Vec<Carried>, Vec<Warning>)> {
    // A layout is scanned once and answers every subject from memory.
    let scan = match source.as_layout() {
        Some(l) => Some(scan(l, true)?),
        None => None,
    };
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut visited: HashSet<String> = documents.iter().map(|d| d.digest.clone()).collect();
    // (subject, referrer) pairs handled: a referrer already carried (or copied as a
    // document) that another subject lists is listed there too, and not walked again.
    let mut pairs: HashSet<(String, String)> = HashSet::new();
    let mut queue: std::collections::VecDeque<Descriptor> = documents.iter().cloned().collect();
    while let Some(doc) = queue.pop_front() {
        let listed: Vec<Descriptor> = match &scan {
            Some(s) => s
                .direct(&doc.digest)
                .iter()
                .map(|r| r.descriptor.clone())
                .collect(),
            None => source.referrers(&doc)?,
        };
        let subject = doc.digest()?;
        for r in listed {
            if !filter.matches(&r) || !pairs.insert((doc.digest.clone(), r.digest.clone())) {
                continue;
            }
            let c = match judge(source, &doc, &subject, &r)? {
                Verdict::Carry(c) => *c,
                Verdict::Skip => continue,
                Verdict::Warn(w) => {
                    warnings.push(w);
                    continue;
                }
            };
            let d = &c.descriptor;
            let new = visited.insert(r.digest.clone());
            // A referrer index's own manifests may have referrers too.
            if new && d.is_index() {
                if let Ok(Some(Document::Index(idx))) = source
                    .read_small(d)
                    .and_then(|b| Document::parse(&d.media_type, &b, "referrer"))
                {
                    for m in idx.manifests {
                        if (m.is_manifest() || m.is_index()) && visited.insert(m.digest.clone()) {
                            queue.push_back(m);
                        }
                    }
                }
            }
            if new {
                queue.push_back(d.clone());
            }
            out.push(c);
        }
    }
    Ok((out, warnings))
}
/// The referrers to carry with the graphs under `roots` (every manifest and index they
/// reach) from `source`: [`discover`] over the graphs' documents; none when `filter`
/// is `None` (`--no-referrers`). What export, import and the cross-layout edits call.
pub fn carry(
    source: &dyn crate::store::Source,
    roots: &[Descriptor],
    filter: Option<&ArtifactFilter>,
) -> Result<(Vec<Carried>, Vec<Warning>)> {
    let Some(filter) = filter.filter(|_| !roots.is_empty()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let docs = crate::copy::plan_documents(source, roots)?.documents;
    discover(source, &docs, filter)
}

/// `roots`, then the carried referrers that are not among them, each once: what a copy
/// of the graphs with their referrers walks.
pub fn with_carried(roots: &[Descriptor], carried: &[Carried]) -> Vec<Descriptor> {
    let mut seen: HashSet<&str> = roots.iter().map(|r| r.digest.as_str()).collect();
    let mut out = roots.to_vec();
    for c in carried {
        if seen.insert(c.descriptor.digest.as_str()) {
            out.push(c.descriptor.clone());
        }
    }
    out
}

/// What a copy does with one referrer `source` lists for `doc`.
enum Verdict {
    /// Carry it: its document names `doc` (or it is a cosign tag of it).
    Carry(Box<Carried>),
    /// Not a manifest or index after all (the document did not parse as one).
    Skip,
    /// Not carried, and why.
    Warn(Warning),
}

/// Read the referrer `r` that `source` lists for `doc` (digest `subject`) and decide
/// whether it is one: its subject is `doc`, or it is a cosign signature, attestation or
/// SBOM (no `subject`) listed for it.
fn judge(
    source: &dyn crate::store::Source,
    doc: &Descriptor,
    subject: &crate::digest::Digest,
    r: &Descriptor,
) -> Result<Verdict> {
    let warn = |m: String| {
        Ok(Verdict::Warn(Warning {
            code: "not-a-referrer",
            digest: Some(r.digest.clone()),
            message: m,
        }))
    };
    if !(r.is_manifest() || r.is_index()) {
        return warn(format!(
            "{} is listed as a referrer of {subject} but is a {}: not carried",
            r.digest, r.media_type
        ));
    }
    let parsed = source
        .read_small(r)
        .and_then(|b| Document::parse(&r.media_type, &b, &format!("referrer {}", r.digest)));
    let i = match parsed {
        Ok(Some(d)) => info(&d),
        Ok(None) => return Ok(Verdict::Skip),
        Err(e) => {
            return warn(format!(
                "{} is listed as a referrer of {subject} but cannot be read: {}; not carried",
                r.digest, e.message
            ))
        }
    };
    let cosign = crate::registry::remote::referrers::cosign_suffix(r.artifact_type.as_deref())
        .filter(|_| i.subject.is_none() && r.is_manifest());
    let (tag, at) = match (&i.subject, cosign) {
        (Some(s), _) if *s == doc.digest => (fallback_tag(subject), i.shown_type()),
        (None, Some(suffix)) => (
            format!("{}{suffix}", fallback_tag(subject)),
            i.artifact_type.clone().or(r.artifact_type.clone()),
        ),
        (other, _) => {
            return warn(format!(
                "{} is listed as a referrer of {subject} but its subject is {}: not carried",
                r.digest,
                other.as_deref().unwrap_or("missing")
            ))
        }
    };
    let mut d = Descriptor::new(&r.media_type, &r.digest()?, r.size()?);
    d.artifact_type = at;
    d.annotations = i.annotations.clone();
    Ok(Verdict::Carry(Box::new(Carried {
        subject: doc.digest.clone(),
        descriptor: d,
        tag,
        cosign: cosign.is_some() && i.subject.is_none(),
    })))
}
