//! Listing a layout's referrers: one pass over index.json (and, asked, the unlisted
//! blobs) that answers every subject from memory.

use super::{
    cosign_subject, fallback_tag, is_referrers_index, looks_like_fallback_tag,
    names_present_content, pulled_up, read_info, ArtifactFilter, Found, Referrer, Warning,
};
use crate::digest::Digest;
use crate::error::Result;
use crate::layout::Layout;
use crate::model::{annotation, Descriptor, Document, Index};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Every referrer of a layout, by subject.
#[derive(Debug, Default)]
pub struct Scan {
    by_subject: HashMap<String, Vec<Referrer>>,
    /// (subject, referrer digest) pairs already recorded.
    seen: HashSet<(String, String)>,
    pub warnings: Vec<Warning>,
}

/// One row of [`Scan::tree`].
#[derive(Debug, Clone, Serialize)]
pub struct TreeRow<'a> {
    /// 0 for a referrer of the queried subject, 1 for a referrer of that referrer, ...
    pub depth: usize,
    #[serde(flatten)]
    pub referrer: &'a Referrer,
}

impl Scan {
    fn add(&mut self, subject: &str, descriptor: Descriptor, found: Found, tag: Option<&str>) {
        if !self
            .seen
            .insert((subject.to_string(), descriptor.digest.clone()))
        {
            return;
        }
        self.by_subject
            .entry(subject.to_string())
            .or_default()
            .push(Referrer {
                subject: subject.to_string(),
                descriptor,
                found,
                tag: tag.map(str::to_string),
            });
    }

    fn warn(&mut self, code: &'static str, digest: Option<&str>, message: String) {
        self.warnings.push(Warning {
            code,
            digest: digest.map(str::to_string),
            message,
        });
    }

    /// The direct referrers of `subject`, in the order found.
    pub fn direct(&self, subject: &str) -> &[Referrer] {
        self.by_subject.get(subject).map_or(&[], Vec::as_slice)
    }

    /// Every referrer of the layout.
    pub fn all(&self) -> impl Iterator<Item = &Referrer> {
        self.by_subject.values().flatten()
    }

    /// The referrers of `subject` depth first, and with `recursive` their referrers
    /// too. Rows matching `filter` are returned; recursion passes through the others
    /// (a signature of an SBOM is found when filtering for signatures). Each referrer is
    /// listed once; a cycle ends.
    pub fn tree(
        &self,
        subject: &str,
        filter: &ArtifactFilter,
        recursive: bool,
    ) -> Vec<TreeRow<'_>> {
        let mut out = Vec::new();
        let mut visited: HashSet<&str> = HashSet::from([subject]);
        // Explicit stack: a chain of 10,000 referrers must not overflow the call stack.
        let mut stack: Vec<(usize, &Referrer)> =
            self.direct(subject).iter().rev().map(|r| (0, r)).collect();
        while let Some((depth, r)) = stack.pop() {
            if !visited.insert(r.descriptor.digest.as_str()) {
                continue;
            }
            if filter.matches(&r.descriptor) {
                out.push(TreeRow { depth, referrer: r });
            }
            if recursive {
                stack.extend(
                    self.direct(&r.descriptor.digest)
                        .iter()
                        .rev()
                        .map(|c| (depth + 1, c)),
                );
            }
        }
        out
    }
}

/// Find every referrer in `layout`: index.json's fallback-tag indexes, entries with a
/// subject and cosign tags; with `unlisted`, also manifests in blobs/ that nothing lists
/// but that name a subject (this reads every blob small enough to be a manifest).
pub fn scan(layout: &Layout, unlisted: bool) -> Result<Scan> {
    let (index, _) = layout.read_index()?;
    scan_index(layout, &index, unlisted)
}

/// [`scan`] against an index.json already read.
pub fn scan_index(layout: &Layout, index: &Index, unlisted: bool) -> Result<Scan> {
    let mut s = Scan::default();
    let mut listed: HashSet<String> = HashSet::new();
    for e in &index.manifests {
        listed.insert(e.digest.clone());
        let name = e.ref_name();
        if let Some((subject, at)) = name.filter(|_| e.is_manifest()).and_then(cosign_subject) {
            // cosign's legacy tag: the subject is in the name.
            // Its config is an image config: the kind is in the tag's suffix.
            let mut d = e.clone();
            d.annotations.remove(annotation::REF_NAME);
            d.artifact_type = None;
            if let Ok(Some(i)) = read_info(layout, e) {
                d = pulled_up(e, &i);
                d.artifact_type = i.artifact_type.clone();
            }
            d.artifact_type.get_or_insert_with(|| at.to_string());
            s.add(&subject.to_string(), d, Found::CosignTag, name);
            continue;
        }
        if let Some(tag) = name.filter(|n| {
            e.is_index()
                && looks_like_fallback_tag(n)
                && (names_present_content(layout, n) || is_referrers_index(layout, e, n))
        }) {
            if fallback_entries(layout, e, tag, &mut s, &mut listed) {
                continue;
            }
        }
        if !(e.is_manifest() || e.is_index()) {
            continue;
        }
        // Unreadable entries are fsck's to report (missing-blob, invalid-document).
        if let Ok(Some(i)) = read_info(layout, e) {
            if let Some(subject) = &i.subject {
                let mut d = pulled_up(e, &i);
                d.annotations.remove(annotation::REF_NAME);
                s.add(subject, d, Found::Entry, name);
            }
        }
    }
    if unlisted {
        let (stored, _) = crate::reach::stored_blobs(layout)?;
        for (d, size) in stored {
            let ds = d.to_string();
            if listed.contains(&ds) {
                continue;
            }
            let Some(c) = crate::reach::claim(layout, &d, size) else {
                continue;
            };
            if c.broken.is_some() || !has_document(layout, &c.subject) {
                continue;
            }
            if let Ok(Some(i)) = read_info(layout, &c.descriptor) {
                s.add(&c.subject, pulled_up(&c.descriptor, &i), Found::Blob, None);
            }
        }
    }
    Ok(s)
}

fn has_document(layout: &Layout, digest: &str) -> bool {
    Digest::parse(digest).is_ok_and(|d| layout.has_blob(&d))
}

/// Read the fallback-tag index `e` (named `tag`) and record its referrers. `false` when
/// it is not one after all (it does not read as an index): then it is an ordinary entry.
fn fallback_entries(
    layout: &Layout,
    e: &Descriptor,
    tag: &str,
    s: &mut Scan,
    listed: &mut HashSet<String>,
) -> bool {
    let idx = match layout.read_document(e) {
        Ok((_, Some(Document::Index(i)))) => i,
        _ => return false,
    };
    for d in &idx.manifests {
        listed.insert(d.digest.clone());
        let i = match read_info(layout, d) {
            Ok(Some(i)) => i,
            Ok(None) => {
                s.warn(
                    "not-a-referrer",
                    Some(&d.digest),
                    format!(
                        "referrers index {tag} lists {} of type {}, which is not a manifest or index",
                        d.digest, d.media_type
                    ),
                );
                continue;
            }
            Err(err) => {
                s.warn(
                    "unreadable-referrer",
                    Some(&d.digest),
                    format!(
                        "referrers index {tag} lists {}, which cannot be read: {}",
                        d.digest, err.message
                    ),
                );
                continue;
            }
        };
        match &i.subject {
            Some(subject)
                if Digest::parse(subject).is_ok_and(|sd| fallback_tag(&sd) == tag) =>
            {
                // The listed descriptor as written (it carries the pulled-up fields);
                // fill them in when a writer left them out.
                let mut desc = d.clone();
                if desc.artifact_type.is_none() {
                    desc.artifact_type = i.shown_type();
                }
                if desc.annotations.is_empty() {
                    desc.annotations = i.annotations.clone();
                }
                s.add(subject, desc, Found::FallbackTag, Some(tag));
            }
            Some(other) => s.warn(
                "not-a-referrer",
                Some(&d.digest),
                format!(
                    "referrers index {tag} lists {}, whose subject is {other}, not the digest the tag names; it is not listed as a referrer",
                    d.digest
                ),
            ),
            None => s.warn(
                "not-a-referrer",
                Some(&d.digest),
                format!(
                    "referrers index {tag} lists {}, which has no subject; it is not listed as a referrer",
                    d.digest
                ),
            ),
        }
    }
    true
}

/// Every referrer of `subject` in `layout`, recursively (referrers of referrers too,
/// each once, cycles ended), that `filter` keeps; every convention of the module docs,
/// unlisted blobs included. The carrying code (push, pull, export, copy) calls this.
pub fn referrers_of(
    layout: &Layout,
    subject: &Digest,
    filter: &ArtifactFilter,
) -> Result<Vec<Descriptor>> {
    let s = scan(layout, true)?;
    Ok(s.tree(&subject.to_string(), filter, true)
        .into_iter()
        .map(|r| r.referrer.descriptor.clone())
        .collect())
}
