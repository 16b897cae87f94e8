//! `oix recompress LAYOUT:REF --to zstd|gzip [--add]`: rewrite an image's layers in
//! another compression, in place or as compression twins (see [`crate::platform::twin`]).
//!
//! For each image manifest (the ref itself, or each entry of the index it names), every
//! layer is streamed through: read (verified against its digest) → decompress → hash the
//! tar (must equal the config's `diff_id`, else the image is refused: its config would
//! describe other content) → compress with the engine `oix build` uses
//! ([`crate::compress`]: same bytes for any thread count) → hash while writing into a
//! temp file of the layout. Memory stays bounded (1 MiB chunks through a bounded queue,
//! plus the encoder's window); no layer is ever held whole.
//!
//! The config is not touched: `diff_ids` name the uncompressed tars, which do not change.
//! A new manifest is the stored one with only the changed layer descriptors' `mediaType`,
//! `digest` and `size` replaced (key order kept, compact): the same input gives the same
//! bytes. Layers already in the target compression are reused as they are;
//! non-distributable (foreign) layers and layers of unknown types are left unchanged and
//! reported.
//!
//! Without `--add` each entry is replaced by its recompressed form. With `--add` the
//! original stays and a twin is appended with [`ZSTD_TWIN`]` = "true"` on its descriptor;
//! as containers/image does, twins follow every non-twin entry, so a client that takes
//! the first entry of its platform (the image-spec's SHOULD) gets the gzip one.
//!
//! Nothing is visible until everything verified: new layers wait in temp files until
//! every layer of every entry checked out; then layers, manifests and the index are
//! stored, and one [`Layout::transact`] re-points REF (refused if REF moved meanwhile).
//! A failure or a crash before that leaves the layout as it was (temp files aside, which
//! `oix gc` removes).

use crate::compress::{self, Compression};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, media, Descriptor};
use crate::platform::PlatformSpec;
use crate::reference::{LayoutRef, Target};
use crate::store::Overlay;
use serde::Serialize;

/// What to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub to: Compression,
    pub level: Option<i32>,
    /// Keep each entry and add a twin instead of replacing it.
    pub add: bool,
    /// Only the index entries of these platforms (exact match); empty: all.
    pub platforms: Vec<PlatformSpec>,
    pub dry_run: bool,
    /// Compression threads (the bytes do not depend on it).
    pub jobs: usize,
}

impl Options {
    pub fn new(to: Compression) -> Options {
        Options {
            to,
            level: None,
            add: false,
            platforms: Vec::new(),
            dry_run: false,
            jobs: compress::default_jobs(),
        }
    }
}

/// One layer of an entry.
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    pub from: String,
    pub to: String,
    #[serde(rename = "fromMediaType")]
    pub from_media_type: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
    /// `recompressed`, `reused` (already in the target compression), `left` (foreign or
    /// unknown type, unchanged).
    pub action: &'static str,
}

/// One entry (manifest) of the ref.
#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub platform: Option<String>,
    pub from: String,
    /// The new manifest's digest (the old one when nothing changed).
    pub to: String,
    /// `replaced`, `added` (a twin), `unchanged`, `skipped`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl EntryReport {
    /// A nested index of the ref's index: recompress reads one index level, so it is
    /// left as it is, and said so (a `skipped` entry with a note).
    pub(crate) fn nested_index(d: &Descriptor, platform: Option<String>) -> EntryReport {
        EntryReport {
            platform,
            from: d.digest.clone(),
            to: d.digest.clone(),
            action: "skipped",
            layers: Vec::new(),
            note: Some(
                "a nested index; its images are not recompressed (recompress reads one \
                 index level: tag the nested index and recompress that ref)"
                    .into(),
            ),
        }
    }
}

/// What a recompression did (or, dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub from: String,
    pub to: String,
    pub compression: &'static str,
    pub changed: bool,
    #[serde(rename = "dryRun")]
    pub dry_run: bool,
    pub entries: Vec<EntryReport>,
}

/// Recompress the image or index `r` names (a ref name) in `layout`.
pub fn recompress(layout: &Layout, r: &LayoutRef, opts: &Options) -> Result<Report> {
    let name = match &r.target {
        Target::Name(n) => n.clone(),
        _ => {
            return Err(Error::usage(format!(
                "{r}: recompress rewrites what a ref names; give LAYOUT:REF"
            )))
        }
    };
    let mut w = Work::new(layout, Some(layout), opts)?;
    let top = crate::resolve::resolve_one(layout, r)?;
    let mut root = top.descriptor.clone();
    root.annotations.remove(model::annotation::REF_NAME);
    let (new_root, entries) = w.root(&root)?;
    let changed = new_root.digest != root.digest;
    if changed && !opts.dry_run {
        w.store()?;
        let old = root.digest.clone();
        layout.transact(|idx| {
            let hits: Vec<usize> = crate::resolve::named(idx, &name);
            if hits.len() != 1 || idx.manifests[hits[0]].digest != old {
                return Err(Error::failure(format!(
                    "{r} changed while it was being recompressed; nothing was re-pointed"
                ))
                .with_hint("run the command again"));
            }
            let e = &mut idx.manifests[hits[0]];
            e.digest = new_root.digest.clone();
            e.size = new_root.size;
            e.media_type = new_root.media_type.clone();
            Ok(())
        })?;
    }
    Ok(Report {
        target: name,
        from: root.digest.clone(),
        to: new_root.digest.clone(),
        compression: opts.to.name(),
        changed,
        dry_run: opts.dry_run,
        entries,
    })
}

/// [`recompress`] for a copy or push (`--add-compression zstd`): the graph under `root`
/// is read through `source`, and the new layers (in temp files of the system's temp
/// directory, removed with the overlay) and documents are added to it. Returns the new
/// root (`root` itself when nothing changed) and what was done per entry.
pub fn recompress_into(
    source: &mut Overlay<'_>,
    root: &Descriptor,
    opts: &Options,
) -> Result<(Descriptor, Vec<EntryReport>)> {
    let (new, entries, pending, documents) = {
        let mut w = Work::new(&*source, None, opts)?;
        let (new, entries) = w.root(root)?;
        (new, entries, w.pending, w.documents)
    };
    for l in pending {
        if let Some(tmp) = l.tmp {
            source.add_file(&l.desc.digest()?, l.desc.size()?, tmp.into_temp_path());
        }
    }
    for d in documents {
        source.add(d);
    }
    Ok((new, entries))
}

/// `--add-compression C` of push and copy: [`recompress_into`] with `--add`, default
/// level; `jobs` compression threads (the bytes do not depend on it).
pub fn add_twins(
    source: &mut Overlay<'_>,
    root: &Descriptor,
    c: Compression,
    jobs: usize,
) -> Result<Descriptor> {
    let mut opts = Options::new(c);
    opts.add = true;
    opts.jobs = jobs.max(1);
    Ok(recompress_into(source, root, &opts)?.0)
}
mod work;
use work::Work;

/// The compression a layer media type declares; `None` for non-distributable (foreign)
/// layers and types oix does not know (left unchanged).
pub fn layer_compression(mt: &str) -> Option<Compression> {
    match mt {
        media::OCI_LAYER_GZIP | media::DOCKER_LAYER_GZIP => Some(Compression::Gzip),
        media::OCI_LAYER_ZSTD => Some(Compression::Zstd),
        media::OCI_LAYER_TAR | crate::convert::DOCKER_LAYER_TAR => Some(Compression::None),
        _ => None,
    }
}
