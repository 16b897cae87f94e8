//! Differences between two sets of index entries, keyed by normalized platform:
//! `oix diff A B`, and the change report of every editing command (`--dry-run`).

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{Descriptor, Document};
use crate::platform::{entry_platform, PlatformSpec};
use crate::reference::LayoutRef;
use crate::resolve;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AnnotationDiff {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub added: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub removed: BTreeMap<String, String>,
    /// key → [before, after]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub changed: BTreeMap<String, [String; 2]>,
}

impl AnnotationDiff {
    pub fn of(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> AnnotationDiff {
        let mut d = AnnotationDiff::default();
        for (k, v) in a {
            match b.get(k) {
                None => {
                    d.removed.insert(k.clone(), v.clone());
                }
                Some(w) if w != v => {
                    d.changed.insert(k.clone(), [v.clone(), w.clone()]);
                }
                _ => {}
            }
        }
        for (k, v) in b {
            if !a.contains_key(k) {
                d.added.insert(k.clone(), v.clone());
            }
        }
        d
    }
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EntryRef {
    /// The normalized platform (`linux/arm/v7`), `attestation for …`, or `-`.
    pub platform: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub platform: String,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "AnnotationDiff::is_empty")]
    pub annotations: AnnotationDiff,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<EntryRef>,
    pub removed: Vec<EntryRef>,
    pub changed: Vec<Change>,
    pub unchanged: usize,
    /// Annotations of the index (or image) itself.
    #[serde(skip_serializing_if = "AnnotationDiff::is_empty")]
    pub annotations: AnnotationDiff,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.annotations.is_empty()
    }
}

/// Key every entry: its normalized platform; attestations by their subject's key;
/// others by digest. Repeated keys get `#2`, `#3`, … in order.
fn keyed(layout: &Layout, entries: &[Descriptor]) -> Vec<(String, Descriptor)> {
    let label = |d: &Descriptor| -> String {
        entry_platform(layout, d)
            .filter(|_| !d.is_attestation())
            .map(|p| {
                let s = PlatformSpec::from_platform(&p.platform);
                match &s.os_version {
                    Some(v) => format!("{}:{v}", s.short()),
                    None => s.short(),
                }
            })
            .unwrap_or_else(|| d.digest.clone())
    };
    let labels: BTreeMap<String, String> = entries
        .iter()
        .map(|d| (d.digest.clone(), label(d)))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    entries
        .iter()
        .map(|d| {
            let base = if d.is_attestation() {
                let subject = d.attestation_subject().unwrap_or("?");
                format!(
                    "attestation for {}",
                    labels
                        .get(subject)
                        .cloned()
                        .unwrap_or_else(|| subject.to_string())
                )
            } else {
                labels[&d.digest].clone()
            };
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let key = if *n == 1 { base } else { format!("{base}#{n}") };
            (key, d.clone())
        })
        .collect()
}

/// Compare entry lists (and the annotations of their index).
pub fn diff_entries(
    layout: &Layout,
    before: &[Descriptor],
    after: &[Descriptor],
    before_ann: &BTreeMap<String, String>,
    after_ann: &BTreeMap<String, String>,
) -> Diff {
    diff_between(layout, before, layout, after, before_ann, after_ann)
}

fn diff_between(
    la: &Layout,
    before: &[Descriptor],
    lb: &Layout,
    after: &[Descriptor],
    before_ann: &BTreeMap<String, String>,
    after_ann: &BTreeMap<String, String>,
) -> Diff {
    let a = keyed(la, before);
    let b = keyed(lb, after);
    let entry = |k: &str, d: &Descriptor| EntryRef {
        platform: k.to_string(),
        digest: d.digest.clone(),
        media_type: d.media_type.clone(),
    };
    let mut diff = Diff {
        annotations: AnnotationDiff::of(before_ann, after_ann),
        ..Default::default()
    };
    for (k, d) in &a {
        match b.iter().find(|(kb, _)| kb == k) {
            None => diff.removed.push(entry(k, d)),
            Some((_, e)) => {
                let ann = AnnotationDiff::of(&d.annotations, &e.annotations);
                if d.digest != e.digest || !ann.is_empty() {
                    diff.changed.push(Change {
                        platform: k.clone(),
                        from: d.digest.clone(),
                        to: e.digest.clone(),
                        annotations: ann,
                    });
                } else {
                    diff.unchanged += 1;
                }
            }
        }
    }
    for (k, e) in &b {
        if !a.iter().any(|(ka, _)| ka == k) {
            diff.added.push(entry(k, e));
        }
    }
    diff
}

/// The entries and annotations a reference stands for: an index's children, or an
/// image as a one-entry list.
fn entries_of(r: &LayoutRef) -> Result<(Layout, Vec<Descriptor>, BTreeMap<String, String>)> {
    let layout = Layout::open(&r.path)?;
    let d = resolve::resolve_one(&layout, r)?.descriptor;
    if d.is_index() {
        if let (_, Some(Document::Index(i))) = layout.read_document(&d)? {
            return Ok((layout, i.manifests, i.annotations));
        }
    }
    if d.is_manifest() {
        if let (_, Some(Document::Manifest(m))) = layout.read_document(&d)? {
            let mut entry = d.clone();
            entry.annotations.remove(crate::model::annotation::REF_NAME);
            return Ok((layout, vec![entry], m.annotations));
        }
    }
    Err(Error::failure(format!(
        "{r}: {} is neither an image nor an index",
        d.media_type
    )))
}

/// `oix diff A B`.
pub fn diff_refs(a: &LayoutRef, b: &LayoutRef) -> Result<Diff> {
    let (la, ea, aa) = entries_of(a)?;
    let (lb, eb, ab) = entries_of(b)?;
    Ok(diff_between(&la, &ea, &lb, &eb, &aa, &ab))
}

/// Human-readable lines of a diff.
pub fn render(d: &Diff) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &d.annotations.added {
        out.push(format!("+ annotation {k}={v}"));
    }
    for (k, v) in &d.annotations.removed {
        out.push(format!("- annotation {k}={v}"));
    }
    for (k, [a, b]) in &d.annotations.changed {
        out.push(format!("~ annotation {k}: {a} -> {b}"));
    }
    for e in &d.added {
        out.push(format!("+ {} {}", e.platform, e.digest));
    }
    for e in &d.removed {
        out.push(format!("- {} {}", e.platform, e.digest));
    }
    for c in &d.changed {
        if c.from == c.to {
            out.push(format!("~ {} {}", c.platform, c.to));
        } else {
            out.push(format!("~ {} {} -> {}", c.platform, c.from, c.to));
        }
        for (k, v) in &c.annotations.added {
            out.push(format!("    + {k}={v}"));
        }
        for (k, v) in &c.annotations.removed {
            out.push(format!("    - {k}={v}"));
        }
        for (k, [a, b]) in &c.annotations.changed {
            out.push(format!("    ~ {k}: {a} -> {b}"));
        }
    }
    out
}
