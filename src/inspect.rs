//! Read-only views of a store (a layout or a registry): `ls` rows, the `--tree` walk
//! and `inspect`. They read manifests, indexes and configs through [`Source`], never
//! layers.

use crate::error::{Error, Result};
use crate::graph::{self, Role};
use crate::layout::Layout;
use crate::model::{self, Descriptor, Document};
use crate::platform::entry_platform;
use crate::resolve::Resolved;
use crate::store::Source;
use serde::Serialize;
use std::collections::BTreeMap;

/// One top-level entry of index.json, as `oix ls` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    /// For an image: its platform; for an index: its children's platforms, in order.
    pub platforms: Vec<PlatformCell>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The content this entry points at is not in the layout (a sparse or damaged
    /// layout), so its platforms cannot be read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
}

/// The `ls` warning for entries whose content is absent, if any are.
pub fn missing_warning(entries: &[&Entry]) -> Option<String> {
    let missing: Vec<&str> = entries
        .iter()
        .filter(|e| e.missing)
        .map(|e| e.digest.as_str())
        .collect();
    let first = missing.first()?;
    Some(format!(
        "{} entr{} point{} at content that is not in the layout (first: {first}); \
         platforms shown as - are unknown, `oix fsck` tells what is missing",
        missing.len(),
        if missing.len() == 1 { "y" } else { "ies" },
        if missing.len() == 1 { "s" } else { "" },
    ))
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformCell {
    pub platform: String,
    pub derived: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attestation: bool,
    /// `"zstd"` when the entry is a compression twin of its platform
    /// ([`crate::platform::twin`]): a variant, not a second platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twin: Option<&'static str>,
}

impl PlatformCell {
    /// The platform as people read it: `linux/amd64`, `linux/amd64 (zstd twin)` (the
    /// label `oix diff` uses); `derived_mark` follows a platform read from the config.
    pub fn label(&self, derived_mark: &str) -> String {
        let derived = if self.derived { derived_mark } else { "" };
        match self.twin {
            Some(t) => format!("{}{derived} ({t} twin)", self.platform),
            None => format!("{}{derived}", self.platform),
        }
    }
}

/// The `ls` cell of the entry `d` (an index.json entry or an index child).
fn cell(layout: &dyn Source, d: &Descriptor) -> Option<PlatformCell> {
    entry_platform(layout, d).map(|p| PlatformCell {
        platform: p.platform.display(),
        derived: p.derived,
        attestation: d.is_attestation(),
        twin: crate::platform::is_zstd_twin(d).then_some("zstd"),
    })
}

/// Describe one descriptor for `ls`.
pub fn describe(layout: &dyn Source, d: &Descriptor) -> Entry {
    let mut platforms = Vec::new();
    if d.is_index() {
        for c in &graph::entries_of(layout, d).unwrap_or_default() {
            platforms.extend(cell(layout, c));
        }
    } else {
        platforms.extend(cell(layout, d));
    }
    Entry {
        ref_name: d.ref_name().map(str::to_string),
        digest: d.digest.clone(),
        media_type: d.media_type.clone(),
        size: d.size,
        platforms,
        annotations: d.annotations.clone(),
        missing: d
            .digest()
            .is_ok_and(|dg| !layout.contains(&dg).unwrap_or(false)),
    }
}

/// The top-level entries of index.json.
pub fn list(layout: &Layout) -> Result<Vec<Entry>> {
    let (idx, _) = layout.read_index()?;
    Ok(idx.manifests.iter().map(|d| describe(layout, d)).collect())
}

/// One node of `ls --tree`.
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    pub depth: usize,
    pub role: &'static str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<String>,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformCell>,
    /// For a `referrer` node: its artifactType.
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

fn role_name(r: Role, d: &Descriptor) -> &'static str {
    match r {
        Role::Entry if d.is_index() => "index",
        Role::Entry if d.is_attestation() => "attestation",
        Role::Entry if d.is_manifest() => "manifest",
        Role::Entry => "artifact",
        Role::Config => "config",
        Role::Layer => "layer",
        Role::Subject => "subject",
    }
}

/// Walk from `roots` and list every node, depth first. Nodes reached twice are listed
/// each time they are referenced but expanded once.
pub fn tree(layout: &dyn Source, roots: &[Descriptor]) -> Result<Vec<TreeNode>> {
    let w = graph::walk(layout, roots);
    if let Some(e) = w.first_error("cannot walk the graph") {
        return Err(e);
    }
    Ok(w.nodes
        .iter()
        .map(|n| {
            let platform = if n.role == Role::Entry {
                cell(layout, &n.descriptor)
            } else {
                None
            };
            TreeNode {
                depth: n.depth,
                role: role_name(n.role, &n.descriptor),
                ref_name: n.descriptor.ref_name().map(str::to_string),
                digest: n.descriptor.digest.clone(),
                media_type: n.descriptor.media_type.clone(),
                size: n.descriptor.size,
                platform,
                artifact_type: None,
            }
        })
        .collect())
}

/// [`tree`], with the referrers of every index and manifest listed right under it
/// (role `referrer`, recursively, each once per subject; a cycle ends), as `scan`
/// found them.
pub fn tree_with_referrers(
    layout: &dyn Source,
    roots: &[Descriptor],
    scan: &crate::referrers::Scan,
) -> Result<Vec<TreeNode>> {
    let nodes = tree(layout, roots)?;
    let all = crate::referrers::ArtifactFilter::default();
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        let rows = if n.role == "subject" {
            Vec::new()
        } else {
            scan.tree(&n.digest, &all, true)
        };
        let depth = n.depth;
        out.push(n);
        for r in rows {
            let d = &r.referrer.descriptor;
            out.push(TreeNode {
                depth: depth + 1 + r.depth,
                role: "referrer",
                ref_name: r.referrer.tag.clone(),
                digest: d.digest.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
                platform: None,
                artifact_type: d.artifact_type.clone(),
            });
        }
    }
    Ok(out)
}

/// What `oix inspect` shows.
pub struct Inspection {
    pub descriptor: Descriptor,
    /// The exact stored bytes.
    pub raw: Vec<u8>,
}

/// Read the document a resolved reference points at (or, with `config`, the config of
/// the image it points at). Layers are refused: they are not documents.
pub fn inspect(layout: &dyn Source, r: &Resolved, config: bool) -> Result<Inspection> {
    let d = &r.descriptor;
    if config {
        if !d.is_manifest() {
            return Err(Error::usage(format!(
                "{} is a {}, not an image manifest; --config needs an image",
                d.digest, d.media_type
            ))
            .with_hint("select one image of the index, e.g. with LAYOUT@DIGEST"));
        }
        let bytes = layout.read_small(d)?;
        let doc = Document::parse(&d.media_type, &bytes, &format!("blob {}", d.digest))?;
        let Some(Document::Manifest(m)) = doc else {
            unreachable!("a manifest descriptor parses as a manifest")
        };
        let raw = layout.read_small(&m.config)?;
        return Ok(Inspection {
            descriptor: m.config,
            raw,
        });
    }
    let raw = layout.read_small(d).map_err(|e| {
        if d.size > model::MAX_MANIFEST_SIZE as i64 {
            e.with_hint("this blob is a layer or other large content; inspect shows documents only")
        } else {
            e
        }
    })?;
    // An index or manifest descriptor must point at that kind of document.
    if d.is_index() || d.is_manifest() {
        crate::model::Document::parse(&d.media_type, &raw, &format!("blob {}", d.digest))?;
    }
    // Refuse to print a layer as if it were JSON.
    if serde_json::from_slice::<serde_json::Value>(&raw).is_err() {
        return Err(Error::corrupt(format!(
            "{} ({}) is not a JSON document",
            d.digest, d.media_type
        ))
        .with_hint("inspect shows manifests, indexes and configs"));
    }
    Ok(Inspection {
        descriptor: d.clone(),
        raw,
    })
}
