//! Differences between two sets of index entries, keyed by normalized platform:
//! `oix diff A B` (two references in any stores: layouts or registries, so "what would
//! this push change?" is `oix diff LAYOUT:1.0 docker://HOST/REPO:1.0`), and the change
//! report of every editing command (`--dry-run`). Only indexes, manifests and configs
//! are read, never layers.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{Descriptor, Document};
use crate::platform::{entry_platform, PlatformSpec};
use crate::reference::LayoutRef;
use crate::store::{Names, Source};
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
    /// The descriptor's `platform` field as written, before and after, when it changed
    /// (`linux/arm64` -> `linux/arm64/v8`; `-` for none).
    #[serde(rename = "platformChange", skip_serializing_if = "Option::is_none")]
    pub platform_change: Option<[String; 2]>,
    /// Other descriptor fields that changed (`mediaType`, `size`, `urls`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
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
    /// Differences of the documents themselves that no entry shows: other fields of the
    /// index, the order of its entries, or (last resort) only their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.annotations.is_empty()
            && self.other.is_empty()
    }
}

/// A descriptor's `platform` field as written (not normalized), `-` when it has none.
fn written_platform(d: &Descriptor) -> String {
    match &d.platform {
        None => "-".to_string(),
        Some(p) => {
            let mut s = p.display();
            if let Some(v) = &p.os_version {
                s.push(':');
                s.push_str(v);
            }
            if let Some(f) = p.os_features.as_ref().filter(|f| !f.is_empty()) {
                s.push('+');
                s.push_str(&f.join("+"));
            }
            if !p.extra.is_empty() || p.features.is_some() {
                // Anything else in the platform object: show it whole.
                s = serde_json::to_string(p).unwrap_or(s);
            }
            s
        }
    }
}

/// The descriptor fields (other than annotations and platform) whose values differ.
fn changed_fields(a: &Descriptor, b: &Descriptor) -> Vec<String> {
    let as_map = |d: &Descriptor| -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(d) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("annotations");
                m.remove("platform");
                m.remove("digest");
                m
            }
            _ => Default::default(),
        }
    };
    let (ma, mb) = (as_map(a), as_map(b));
    let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| ma.get(*k) != mb.get(*k))
        .cloned()
        .collect()
}

/// Key every entry: its normalized platform (each entry its own, so one manifest listed
/// under two platforms gets two keys; a zstd twin `PLATFORM (zstd twin)`); attestations by their subject's key (the first
/// entry with that digest); others by digest. Repeated keys get `#2`, `#3`, … in order.
fn keyed(layout: &dyn Source, entries: &[Descriptor]) -> Vec<(String, Descriptor)> {
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
            .map(|l| {
                // A twin is a variant of its platform, not its second entry.
                if crate::platform::is_zstd_twin(d) {
                    format!("{l} (zstd twin)")
                } else {
                    l
                }
            })
            .unwrap_or_else(|| d.digest.clone())
    };
    let labels: Vec<String> = entries.iter().map(label).collect();
    let mut first_label: BTreeMap<&str, &str> = BTreeMap::new();
    for (d, l) in entries.iter().zip(&labels) {
        if !d.is_attestation() {
            first_label.entry(d.digest.as_str()).or_insert(l.as_str());
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    entries
        .iter()
        .zip(&labels)
        .map(|(d, l)| {
            let base = if d.is_attestation() {
                let subject = d.attestation_subject().unwrap_or("?");
                format!(
                    "attestation for {}",
                    first_label.get(subject).copied().unwrap_or(subject)
                )
            } else {
                l.clone()
            };
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let key = if *n == 1 { base } else { format!("{base}#{n}") };
            (key, d.clone())
        })
        .collect()
}

/// Compare entry lists (and the annotations of their index); `layout` is the store
/// that holds the entries (a layout, or the registry an index is edited in).
pub fn diff_entries(
    layout: &dyn Source,
    before: &[Descriptor],
    after: &[Descriptor],
    before_ann: &BTreeMap<String, String>,
    after_ann: &BTreeMap<String, String>,
) -> Diff {
    diff_between(layout, before, layout, after, before_ann, after_ann)
}

fn diff_between(
    la: &dyn Source,
    before: &[Descriptor],
    lb: &dyn Source,
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
    let change = |k: &str, d: &Descriptor, e: &Descriptor| -> Option<Change> {
        let ann = AnnotationDiff::of(&d.annotations, &e.annotations);
        let (pa, pb) = (written_platform(d), written_platform(e));
        let fields = changed_fields(d, e);
        (d.digest != e.digest || !ann.is_empty() || pa != pb || !fields.is_empty()).then(|| {
            Change {
                platform: k.to_string(),
                from: d.digest.clone(),
                to: e.digest.clone(),
                annotations: ann,
                platform_change: (pa != pb).then_some([pa, pb]),
                fields,
            }
        })
    };
    let mut removed: Vec<(&String, &Descriptor)> = Vec::new();
    for (k, d) in &a {
        match b.iter().find(|(kb, _)| kb == k) {
            None => removed.push((k, d)),
            Some((_, e)) => match change(k, d, e) {
                Some(c) => diff.changed.push(c),
                None => diff.unchanged += 1,
            },
        }
    }
    let mut added: Vec<(&String, &Descriptor)> = b
        .iter()
        .filter(|(k, _)| !a.iter().any(|(ka, _)| ka == k))
        .map(|(k, e)| (k, e))
        .collect();
    // The same manifest under another platform is a change of its platform, not one
    // entry removed and another added.
    for (k, d) in removed {
        match added.iter().position(|(_, e)| e.digest == d.digest) {
            Some(i) => {
                let (kb, e) = added.remove(i);
                let mut c = change(&format!("{k} -> {kb}"), d, e).unwrap_or_else(|| Change {
                    platform: format!("{k} -> {kb}"),
                    from: d.digest.clone(),
                    to: e.digest.clone(),
                    annotations: AnnotationDiff::default(),
                    platform_change: None,
                    fields: Vec::new(),
                });
                if c.platform_change.is_none() {
                    c.platform_change = Some([k.clone(), kb.clone()]);
                }
                diff.changed.push(c);
            }
            None => diff.removed.push(entry(k, d)),
        }
    }
    for (k, e) in added {
        diff.added.push(entry(k, e));
    }
    if diff.is_empty()
        && before
            .iter()
            .map(|d| &d.digest)
            .ne(after.iter().map(|d| &d.digest))
    {
        diff.other.push("the order of the entries".to_string());
    }
    diff
}

/// The top-level fields (other than `manifests` and `annotations`) in which two
/// documents differ; when none do, that only their bytes differ.
fn document_differences(a: &[u8], b: &[u8]) -> Vec<String> {
    let parse = |x: &[u8]| match serde_json::from_slice::<serde_json::Value>(x) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.remove("manifests");
            m.remove("annotations");
            m.remove("layers");
            m
        }
        _ => Default::default(),
    };
    let (ma, mb) = (parse(a), parse(b));
    let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| ma.get(*k) != mb.get(*k))
        .map(|k| format!("field {k}"))
        .collect();
    if out.is_empty() {
        out.push("only the bytes (formatting or key order), not the content".to_string());
    }
    out
}

/// What `diff` compares of one reference.
struct Side {
    digest: String,
    bytes: Vec<u8>,
    entries: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
}

/// The entries and annotations a reference stands for: an index's children, or an
/// image as a one-entry list.
fn entries_of(store: &dyn Names, r: &LayoutRef) -> Result<Side> {
    let d = crate::select::resolve(store, r)?.descriptor;
    let read = |d: &Descriptor| -> Result<(Vec<u8>, Option<Document>)> {
        let bytes = store.read_small(d)?;
        let doc = Document::parse(&d.media_type, &bytes, &format!("blob {}", d.digest))?;
        Ok((bytes, doc))
    };
    if d.is_index() {
        if let (bytes, Some(Document::Index(i))) = read(&d)? {
            return Ok(Side {
                digest: d.digest,
                bytes,
                entries: i.manifests,
                annotations: i.annotations,
            });
        }
    }
    if d.is_manifest() {
        if let (bytes, Some(Document::Manifest(m))) = read(&d)? {
            let mut entry = d.clone();
            entry.annotations.remove(crate::model::annotation::REF_NAME);
            return Ok(Side {
                digest: d.digest,
                bytes,
                entries: vec![entry],
                annotations: m.annotations,
            });
        }
    }
    Err(Error::failure(format!(
        "{r}: {} is neither an image nor an index",
        d.media_type
    )))
}

/// `oix diff A B` between two layout references.
pub fn diff_refs(a: &LayoutRef, b: &LayoutRef) -> Result<Diff> {
    let la = Layout::open(&a.path)?;
    let x = entries_of(&la, a)?;
    let lb = Layout::open(&b.path)?;
    let y = entries_of(&lb, b)?;
    Ok(compare(&la, &x, &lb, &y))
}

/// `oix diff A B` between references in any two stores (each a store and what names
/// the index or image in it, as [`crate::select::Selector::find`] takes them).
pub fn diff_stores(a: (&dyn Names, &LayoutRef), b: (&dyn Names, &LayoutRef)) -> Result<Diff> {
    let x = entries_of(a.0, a.1)?;
    let y = entries_of(b.0, b.1)?;
    Ok(compare(a.0, &x, b.0, &y))
}

fn compare(sa: &dyn Source, x: &Side, sb: &dyn Source, y: &Side) -> Diff {
    let mut d = diff_between(
        sa,
        &x.entries,
        sb,
        &y.entries,
        &x.annotations,
        &y.annotations,
    );
    // Different bytes are never "no differences".
    if d.is_empty() && x.digest != y.digest {
        d.other = document_differences(&x.bytes, &y.bytes);
    }
    d
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
    for o in &d.other {
        out.push(format!("~ index: {o}"));
    }
    for c in &d.changed {
        if c.from == c.to {
            out.push(format!("~ {} {}", c.platform, c.to));
        } else {
            out.push(format!("~ {} {} -> {}", c.platform, c.from, c.to));
        }
        if let Some([a, b]) = &c.platform_change {
            // Unless the key line already says it (`~ linux/arm64 -> linux/arm/v7 …`).
            if c.platform != format!("{a} -> {b}") {
                out.push(format!("    platform {a} -> {b}"));
            }
        }
        for f in &c.fields {
            out.push(format!("    field {f} changed"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_differing_only_in_bytes_are_not_equal() {
        let a = br#"{"schemaVersion":2,"manifests":[]}"#;
        let b = br#"{ "schemaVersion": 2, "manifests": [] }"#;
        assert_eq!(
            document_differences(a, b),
            ["only the bytes (formatting or key order), not the content"]
        );
        let c = br#"{"schemaVersion":2,"manifests":[],"artifactType":"x/y"}"#;
        assert_eq!(document_differences(a, c), ["field artifactType"]);
    }

    #[test]
    fn written_platform_keeps_what_normalization_drops() {
        let d: Descriptor = serde_json::from_str(
            r#"{"mediaType":"m","digest":"sha256:00","size":1,
                "platform":{"os":"linux","architecture":"arm64","variant":"v8"}}"#,
        )
        .unwrap();
        assert_eq!(written_platform(&d), "linux/arm64/v8");
        let mut e = d.clone();
        e.platform = None;
        assert_eq!(written_platform(&e), "-");
    }
}
