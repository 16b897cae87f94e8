//! The destination step of `oix apply`, behind one boundary.
//!
//! [`Registry`] is everything apply needs from a registry client: what a tag names now,
//! pulling an image or index into the working layout, and pushing a layout ref with its
//! tags. The CLI passes the built-in distribution client; a build without one passes
//! [`NoRegistry`], which refuses `docker://` sources and destinations with a clear error.
//!
//! Layout destinations (`oci:PATH`) are handled here, by [`LayoutDestination`], with the
//! layout store's own copy and transaction.

use super::names::expand_arch_tag;
use super::plan::Connection;
use crate::copy::{copy_graph, CopyOptions};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::Descriptor;
use crate::tags;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A `docker://` reference with the settings to reach its registry.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteRef {
    /// `docker://HOST[:PORT]/REPO:TAG` or `docker://HOST[:PORT]/REPO@DIGEST`.
    pub url: String,
    #[serde(flatten)]
    pub connection: Connection,
}

/// What a push did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PushSummary {
    /// Blobs (layers, configs) uploaded or copied.
    pub uploaded: u64,
    /// Blobs the destination already had.
    pub skipped: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Tags set, main and per-arch (`REPO:TAG` relative to the destination).
    pub tags: Vec<String>,
}

/// What a pull did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PullSummary {
    pub downloaded: u64,
    pub skipped: u64,
    pub bytes: u64,
}

/// The registry operations `oix apply` uses.
pub trait Registry {
    /// The digest the tag (or digest) of `target` names now, `None` when the tag does
    /// not exist. A HEAD of the manifest; nothing is downloaded.
    fn current_digest(&self, target: &RemoteRef) -> Result<Option<String>>;

    /// Fetch `source` (its manifest or index and everything it references) into
    /// `layout`, verifying every blob, without naming it in index.json. Returns the
    /// root descriptor (mediaType, digest, size).
    fn pull(&self, source: &RemoteRef, layout: &Layout) -> Result<(Descriptor, PullSummary)>;

    /// Push the graph of the layout ref `ref_name` (whose descriptor is `root`) to the
    /// repository of `target` (its tag is ignored), then set each of `tags` to it; with
    /// `arch_tags`, also tag each child manifest of an index with the template expanded
    /// per tag (`{tag}`, `{os}`, `{arch}`, `{variant}`). Blobs the registry has are
    /// skipped. No tag is set before the whole graph is in the registry.
    fn push(
        &self,
        layout: &Layout,
        ref_name: &str,
        root: &Descriptor,
        target: &RemoteRef,
        tags: &[String],
        arch_tags: Option<&str>,
    ) -> Result<PushSummary>;
}

/// The registry client of a build that has none: every call fails with one clear error.
pub struct NoRegistry;

impl NoRegistry {
    fn refuse(what: &str) -> Error {
        Error::failure(format!(
            "{what}: this build of oix has no registry client for docker:// references"
        ))
        .with_hint("apply with --no-push to carry out the layout steps only, or use a layout destination (oci:PATH)")
    }
}

impl Registry for NoRegistry {
    fn current_digest(&self, target: &RemoteRef) -> Result<Option<String>> {
        Err(Self::refuse(&target.url))
    }
    fn pull(&self, source: &RemoteRef, _: &Layout) -> Result<(Descriptor, PullSummary)> {
        Err(Self::refuse(&source.url))
    }
    fn push(
        &self,
        _: &Layout,
        _: &str,
        _: &Descriptor,
        target: &RemoteRef,
        _: &[String],
        _: Option<&str>,
    ) -> Result<PushSummary> {
        Err(Self::refuse(&target.url))
    }
}

/// The child manifests of `root` that carry a platform (for per-arch tags).
pub fn platform_children(layout: &Layout, root: &Descriptor) -> Result<Vec<Descriptor>> {
    Ok(crate::graph::entries_of(layout, root)?
        .into_iter()
        .filter(|d| d.is_manifest() && d.platform.is_some() && !d.is_attestation())
        .collect())
}

/// The per-arch tags of `tag` for `root`: (tag, child descriptor).
pub fn arch_tags_for(
    layout: &Layout,
    root: &Descriptor,
    template: &str,
    tag: &str,
) -> Result<Vec<(String, Descriptor)>> {
    let mut out: Vec<(String, Descriptor)> = Vec::new();
    for c in platform_children(layout, root)? {
        let Some(p) = &c.platform else { continue };
        let t = expand_arch_tag(template, tag, p)?;
        if let Some((_, other)) = out.iter().find(|(x, _)| *x == t) {
            if other.digest != c.digest {
                return Err(Error::failure(format!(
                    "arch_tags {template:?} gives {t} to two entries ({} and {}); add {{variant}} or {{os}}",
                    other.digest, c.digest
                )));
            }
            continue;
        }
        out.push((t, c));
    }
    Ok(out)
}

/// An `oci:PATH` destination: the image's graph is copied into that layout (hard links
/// where possible) and tagged there as `NAME:TAG` (and `NAME:ARCHTAG` per child), all
/// tags of one push in one transaction.
pub struct LayoutDestination {
    pub path: PathBuf,
    pub lock_timeout: std::time::Duration,
}

impl LayoutDestination {
    pub fn new(path: &Path, lock_timeout: std::time::Duration) -> LayoutDestination {
        LayoutDestination {
            path: path.to_path_buf(),
            lock_timeout,
        }
    }

    /// What `NAME:TAG` names in the destination now (exact ref name), if it exists.
    pub fn current_digest(&self, repo: &str, tag: &str) -> Result<Option<String>> {
        if !self.path.join(crate::layout::OCI_LAYOUT_FILE).exists() {
            return Ok(None);
        }
        let layout = Layout::open(&self.path)?;
        let (idx, _) = layout.read_index()?;
        let name = format!("{repo}:{tag}");
        let cur = crate::authoring::current(&layout, &idx, &name)?;
        Ok(cur.map(|c| c.entry.digest))
    }

    /// Copy `root`'s graph from `layout` and set the tags (created when missing).
    pub fn push(
        &self,
        layout: &Layout,
        root: &Descriptor,
        repo: &str,
        tag_list: &[String],
        arch_tags: Option<&str>,
    ) -> Result<PushSummary> {
        let dest = Layout::init(&self.path)?
            .0
            .with_lock_timeout(self.lock_timeout);
        let report = copy_graph(
            layout,
            &dest,
            std::slice::from_ref(root),
            &CopyOptions::default(),
        )?;
        let mut names: Vec<(String, Descriptor)> = Vec::new();
        let mut entry = root.clone();
        entry.annotations.remove(crate::model::annotation::REF_NAME);
        for t in tag_list {
            if let Some(tpl) = arch_tags {
                for (at, child) in arch_tags_for(layout, root, tpl, t)? {
                    let mut c = child.clone();
                    c.annotations.remove(crate::model::annotation::REF_NAME);
                    names.push((format!("{repo}:{at}"), c));
                }
            }
            names.push((format!("{repo}:{t}"), entry.clone()));
        }
        dest.transact(|idx| {
            for (n, d) in &names {
                tags::set_ref(idx, d, n)?;
            }
            Ok(())
        })?;
        Ok(PushSummary {
            uploaded: report.copied + report.linked,
            skipped: report.skipped,
            bytes: report.bytes,
            tags: names.into_iter().map(|(n, _)| n).collect(),
        })
    }
}
