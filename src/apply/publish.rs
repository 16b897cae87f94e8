//! The destination step of `oix apply`, through the one store.
//!
//! Every place a plan names — the working layout, an `oci:PATH` destination, a
//! `docker://` source or destination — is opened as a store ([`open_store`], the one
//! place apply opens stores) with naming ([`Names`]) and writing ([`Sink`]). Publishing
//! an image is then the same three steps for every kind of destination
//! ([`publish`]): copy the release's graph with [`copy_graph`], set the per-arch names,
//! then the release names (the tag-last rule: a name never points at content whose
//! graph is not all there, and a failure before the last step leaves the release tag
//! where it was). What a name holds now is [`Names::resolve_name`].
//!
//! A release promoted from a registry need not have its layers in the working layout
//! (`layers: remote`, docs/plan.md): the copy then reads documents from the working
//! layout and layers from the source registry ([`WithRemotes`]), streamed through; on
//! the same registry the destination mounts them from the source repository instead.

use super::names::expand_arch_tag;
use super::plan::Connection;
use crate::copy::stores::{self, NamePlan, RunOptions};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::Descriptor;
use crate::reference::{LayoutRef, Reference, Target};
use crate::registry::reference::RegistryRef;
use crate::store::{Access, Connect, Source, Store};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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
    /// Blobs (layers, configs) uploaded, copied, linked or mounted.
    pub uploaded: u64,
    /// Blobs and documents the destination already had.
    pub skipped: u64,
    /// Bytes uploaded or copied.
    pub bytes: u64,
    /// Names set, per-arch and main (`NAME:TAG` in a layout, `TAG` in a registry).
    pub tags: Vec<String>,
    /// Referrers carried along (docs/referrers.md).
    #[serde(skip_serializing_if = "is_zero")]
    pub referrers: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The settings apply opens registries with (`oix apply --timeout`, parallelism).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Parallel blob transfers.
    pub jobs: usize,
    /// Connect and idle timeout for every registry, over the plan's own `timeout`.
    pub timeout: Option<Duration>,
    pub lock_timeout: Duration,
    /// Certificate files for every registry.
    pub tls: crate::store::TlsFiles,
}

/// Where a store is.
pub(super) enum StoreAt<'a> {
    /// A layout directory (created on the first write).
    Layout(&'a Path),
    /// A registry repository (the reference's tag or digest is ignored here).
    Registry {
        remote: &'a RemoteRef,
        /// Whether apply will write (token scope `push`).
        push: bool,
        /// Repositories on the same registry to mount blobs from.
        mount_from: Vec<String>,
    },
}

/// Open a store through the one opener ([`crate::store::open`]), with the plan's
/// connection settings: the one place apply opens stores.
pub(super) fn open_store(at: StoreAt<'_>, settings: &Settings) -> Result<Store> {
    let mut connect = Connect {
        jobs: settings.jobs,
        lock_timeout: Some(settings.lock_timeout),
        tls: settings.tls.clone(),
        ..Connect::new()
    };
    let (reference, access) = match at {
        StoreAt::Layout(path) => (
            Reference::Layout(LayoutRef {
                path: path.to_path_buf(),
                target: Target::Default,
            }),
            // A layout destination is created on the first write, not before.
            Access::Write,
        ),
        StoreAt::Registry {
            remote,
            push,
            mount_from,
        } => {
            let c = &remote.connection;
            connect.plain_http = c.plain_http;
            connect.ca_certs = c.ca_cert.iter().cloned().collect();
            connect.authfile = c.authfile.clone();
            connect.timeout = settings.timeout.or(c.timeout);
            connect.mount_from = mount_from;
            let access = if push { Access::Write } else { Access::Read };
            (
                Reference::Registry(RegistryRef::parse(&remote.url)?),
                access,
            )
        }
    };
    Ok(crate::store::open(&reference, access, &connect)?.store)
}

/// The tag or digest a registry reference names (`latest` when it names neither).
pub(super) fn wanted(url: &str) -> Result<String> {
    let r = RegistryRef::parse(url)?;
    Ok(match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    })
}

/// The repository of a registry reference and its host, for mounts.
pub(super) fn repository_of(url: &str) -> Option<(String, String)> {
    RegistryRef::parse(url).ok().map(|r| (r.host, r.repo))
}

/// The release's graph into `dst`, then its names: `names` in order (per-arch names
/// first, the release names last), each left alone when it already names its content;
/// then the referrers `carry` asks for are listed at `dst` (their content copied with
/// the graph, each after its subject). The one run of copy, push and pull
/// ([`crate::copy::stores::run`]).
pub(super) fn publish(
    src: &dyn Source,
    root: &Descriptor,
    dst: &Store,
    names: &[(String, Descriptor)],
    jobs: usize,
    carry: &crate::copy::stores::Carry,
) -> Result<PushSummary> {
    let plans: Vec<NamePlan> = names.iter().map(|(n, d)| NamePlan::new(n, d)).collect();
    // A registry holding the root by digest holds its whole graph (it accepts a
    // manifest only then): a promotion within one repository sends only the names
    // (and the referrers the registry lacks).
    let out = stores::run(
        src,
        std::slice::from_ref(root),
        &plans,
        dst.as_ref(),
        &RunOptions {
            jobs,
            force_recursive: false,
            referrers: carry.clone(),
        },
    )?;
    let report = out.report;
    Ok(PushSummary {
        uploaded: report.copied + report.linked + report.mounted,
        skipped: report.skipped,
        bytes: report.bytes,
        tags: names.iter().map(|(n, _)| n.clone()).collect(),
        referrers: out.referrers.len() as u64,
    })
}

/// The runnable images of `root` with their per-arch tags for each of `tags`, then the
/// tags themselves: the names [`publish`] sets. An image (a manifest root) is its own
/// per-arch entry; an entry's platform comes from its descriptor or, failing that, its
/// config. `name` makes a name of a tag (`NAME:TAG` in a layout, `TAG` in a registry).
pub(super) fn names_for(
    layout: &Layout,
    root: &Descriptor,
    tags: &[String],
    arch_tags: Option<&str>,
    name: &dyn Fn(&str) -> String,
) -> Result<Vec<(String, Descriptor)>> {
    let mut out: Vec<(String, Descriptor)> = Vec::new();
    let mut push = |n: String, d: Descriptor| -> Result<()> {
        if let Some((_, other)) = out.iter().find(|(x, _)| *x == n) {
            if other.digest != d.digest {
                return Err(Error::failure(format!(
                    "the name {n} would name both {} and {}",
                    other.digest, d.digest
                ))
                .with_hint(
                    "make arch_tags distinguish the entries, e.g. {tag}-{os}-{arch}{variant}",
                ));
            }
            return Ok(());
        }
        out.push((n, d));
        Ok(())
    };
    if let Some(template) = arch_tags {
        let children: Vec<Descriptor> = if root.is_index() {
            crate::graph::entries_of(layout, root)?
                .into_iter()
                .filter(|d| d.is_manifest() && !d.is_attestation())
                .collect()
        } else {
            vec![root.clone()]
        };
        for t in tags {
            for c in &children {
                let Some(p) = crate::platform::entry_platform(layout, c) else {
                    return Err(Error::failure(format!(
                        "arch_tags: entry {} has no platform (none in its descriptor or config)",
                        c.digest
                    )));
                };
                let at = expand_arch_tag(template, t, &p.platform)?;
                push(name(&at), bare(c))?;
            }
        }
    }
    for t in tags {
        push(name(t), bare(root))?;
    }
    Ok(out)
}

/// A descriptor as a name points at it: no platform, no annotations.
fn bare(d: &Descriptor) -> Descriptor {
    let mut d = d.clone();
    d.platform = None;
    d.annotations.clear();
    d
}

/// The working layout with the registries a release's layers stay in (`layers:
/// remote`): a blob the layout has is read from it, any other from the remotes.
pub(super) struct WithRemotes<'a> {
    pub layout: &'a Layout,
    pub remotes: Vec<Arc<Store>>,
}

impl WithRemotes<'_> {
    fn remote_for(&self, digest: &Digest) -> Result<&dyn Source> {
        match self.remotes.as_slice() {
            [one] => Ok(one.source()),
            many => {
                for r in many {
                    if r.source().contains(digest)? {
                        return Ok(r.source());
                    }
                }
                Err(Error::not_found(format!(
                    "blob {digest} is neither in {} nor in the source registries",
                    self.layout.root().display()
                )))
            }
        }
    }
}

impl Source for WithRemotes<'_> {
    fn describe(&self) -> String {
        Source::describe(self.layout)
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        if self.layout.has_blob(digest) {
            return Ok(true);
        }
        for r in &self.remotes {
            if r.source().contains(digest)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let d = desc.digest()?;
        if self.layout.has_blob(&d) {
            return self.layout.open(desc);
        }
        self.remote_for(&d)?.open(desc)
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        let d = desc.digest()?;
        if self.layout.has_blob(&d) {
            return self.layout.read_small(desc);
        }
        self.remote_for(&d)?.read_small(desc)
    }
    /// The working layout's: referrers pulled with a source are listed there.
    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        self.layout.referrers(subject)
    }
}
