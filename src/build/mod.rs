//! `oix build`: one image from root filesystem directories or tarballs, reproducibly.
//!
//! Each layer is one streaming pass: walk the source → write a deterministic tar
//! ([`tar_writer`]) → hash the uncompressed bytes (the diff_id) → compress in parallel
//! ([`crate::compress`]) → hash the compressed bytes → a temp file in the layout, which
//! becomes the blob by rename ([`Layout::persist_hashed`]). Nothing is buffered beyond a
//! few compression blocks, and the blob is written once and never re-read.
//!
//! The config and manifest are new documents, serialized once and compactly; the
//! manifest's index.json entry carries the platform and the ref, set in one
//! [`Layout::transact`] with [`tags::set_ref`] semantics.

pub mod config;
pub mod source;
pub mod tar_writer;

pub use config::ImageSettings;
pub use source::{EntryOptions, LayerSource, SourceStats};

use crate::compress::{pipelined, CompressOptions, Encoder};
use crate::copy::{copy_graph, CopyOptions};
use crate::digest::{Digest, Hasher, HashingWriter};
use crate::error::{Error, PathWriter, Result};
use crate::layout::Layout;
use crate::model::{self, media, Descriptor, Document, ImageConfig, Manifest, Platform};
use crate::reference::{validate_ref_name, LayoutRef, Target};
use crate::{platform, resolve, tags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

/// A blob streamed into a layout with its uncompressed digest.
#[derive(Debug, Clone, Serialize)]
pub struct StreamedLayer {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(rename = "diffID")]
    pub diff_id: String,
    #[serde(rename = "uncompressedSize")]
    pub uncompressed_size: u64,
}

impl StreamedLayer {
    pub fn descriptor(&self) -> Result<Descriptor> {
        Ok(Descriptor::new(
            &self.media_type,
            &Digest::parse(&self.digest)?,
            self.size,
        ))
    }
}

/// Stream the tar that `produce` writes into a new compressed layer blob of `layout`,
/// hashing both sides in the same pass.
pub fn stream_layer<T>(
    layout: &Layout,
    copts: &CompressOptions,
    produce: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<(StreamedLayer, T)> {
    let tmp = layout.blob_temp()?;
    let werr = |e: std::io::Error| {
        Error::from_io(e, |e| {
            Error::failure(format!("writing the layer blob: {e}"))
        })
    };
    let out = HashingWriter::new(
        BufWriter::with_capacity(1 << 20, PathWriter::new(tmp.as_file(), tmp.path())),
        Hasher::sha256(),
    );
    let enc = Encoder::new(out, copts)?;
    // This thread: walking, reading, tar; the other: diff_id, compression, digest, file.
    let (value, tee) = pipelined(HashingWriter::new(enc, Hasher::sha256()), produce)?;
    let (enc, diff_id, uncompressed_size) = tee.finish();
    let out = enc.finish().map_err(werr)?;
    let (buf, digest, size) = out.finish();
    buf.into_inner().map_err(|e| werr(e.into_error()))?;
    layout.persist_hashed(tmp, &digest, size)?;
    Ok((
        StreamedLayer {
            media_type: copts.compression.layer_media_type().to_string(),
            digest: digest.to_string(),
            size,
            diff_id: diff_id.to_string(),
            uncompressed_size,
        },
        value,
    ))
}

/// Build one layer blob from `src`.
pub fn build_layer(
    layout: &Layout,
    src: &LayerSource,
    copts: &CompressOptions,
    entry: &EntryOptions,
) -> Result<(StreamedLayer, SourceStats)> {
    stream_layer(layout, copts, |w| {
        let mut tw = tar_writer::TarWriter::new(w);
        let stats = source::write_source(src, &mut tw, entry)?;
        tw.finish()
            .map_err(|e| Error::failure(format!("writing the layer blob: {e}")))?;
        Ok(stats)
    })
}

/// A `--platform` for a build: the selector's platform grammar
/// (`os/arch[/variant][:os.version][+feature…]` or `local`), recorded with
/// [`crate::platform::parse_to_record`].
pub fn parse_platform(s: &str) -> Result<Platform> {
    crate::platform::parse_to_record(s)
}

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Layer sources, base first.
    pub layers: Vec<LayerSource>,
    /// os/arch/variant (+ os.version, os.features); taken from the base when omitted.
    pub platform: Option<Platform>,
    /// `REF` in the output layout, or `LAYOUT:REF` / `LAYOUT@DIGEST` elsewhere.
    pub base: Option<String>,
    pub settings: ImageSettings,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    pub compress: Option<CompressOptions>,
    pub entry: EntryOptions,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuiltLayer {
    #[serde(flatten)]
    pub layer: StreamedLayer,
    pub source: String,
    pub entries: u64,
    #[serde(rename = "skippedSockets", skip_serializing_if = "is_zero")]
    pub skipped_sockets: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub digest: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// `created`, `moved` or `unchanged` (see `oix tag`).
    pub action: String,
    pub platform: String,
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<BuiltLayer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

struct Base {
    manifest: Manifest,
    config: Vec<u8>,
    platform: Option<Platform>,
}

fn same_platform(a: &Platform, b: &Platform) -> bool {
    a.os == b.os
        && a.architecture == b.architecture
        && a.variant.as_deref().unwrap_or("") == b.variant.as_deref().unwrap_or("")
}

/// Find the base image, bring its graph into `layout` if it lives elsewhere, and read
/// its manifest and config.
fn load_base(layout: &Layout, spec: &str, want: Option<&Platform>) -> Result<Base> {
    let r = if spec.contains(':') || spec.contains('@') {
        LayoutRef::parse(spec)?
    } else {
        validate_ref_name(spec)?;
        LayoutRef {
            path: layout.root().to_path_buf(),
            target: Target::Name(spec.to_string()),
        }
    };
    let src = Layout::open(&r.path)?;
    let resolved = resolve::resolve_one(&src, &r).map_err(|e| e.context("--base"))?;
    let mut desc = resolved.descriptor;
    if desc.is_index() {
        let (_, doc) = src.read_document(&desc)?;
        let Some(Document::Index(idx)) = doc else {
            return Err(Error::failure(format!("--base {spec}: unreadable index")));
        };
        let Some(want) = want else {
            return Err(Error::usage(format!(
                "--base {spec} is a multi-platform index; say which image with --platform"
            )));
        };
        let hits: Vec<&Descriptor> = idx
            .manifests
            .iter()
            .filter(|c| c.is_manifest() && !c.is_attestation())
            .filter(|c| {
                platform::entry_platform(&src, c).is_some_and(|p| same_platform(&p.platform, want))
            })
            .collect();
        desc = match hits.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(Error::no_match(format!(
                    "--base {spec} has no image for {}",
                    want.display()
                )))
            }
            _ => {
                return Err(Error::ambiguous(format!(
                    "--base {spec} has {} images for {}",
                    hits.len(),
                    want.display()
                ))
                .with_hint("name one with --base LAYOUT@DIGEST"))
            }
        };
    }
    if !desc.is_manifest() {
        return Err(Error::usage(format!(
            "--base {spec} is a {}, not an image",
            desc.media_type
        )));
    }
    let same = std::fs::canonicalize(src.root()).ok() == std::fs::canonicalize(layout.root()).ok();
    if !same {
        copy_graph(
            &src,
            layout,
            std::slice::from_ref(&desc),
            &CopyOptions::default(),
        )?;
    }
    let (_, doc) = layout.read_document(&desc)?;
    let Some(Document::Manifest(manifest)) = doc else {
        return Err(Error::failure(format!(
            "--base {spec}: unreadable manifest"
        )));
    };
    let config = layout.read_blob(&manifest.config, model::MAX_MANIFEST_SIZE)?;
    let platform = serde_json::from_slice::<ImageConfig>(&config)
        .ok()
        .and_then(|c| c.platform());
    Ok(Base {
        manifest,
        config,
        platform,
    })
}

/// Build an image into `layout` and point `ref_name` at it.
pub fn build(layout: &Layout, ref_name: &str, opts: &BuildOptions) -> Result<BuildReport> {
    validate_ref_name(ref_name)?;
    if opts.layers.is_empty() {
        return Err(Error::usage("nothing to build: give a SOURCE or --layer"));
    }
    let copts = opts
        .compress
        .unwrap_or_else(|| CompressOptions::new(crate::compress::Compression::Gzip));
    copts.level()?;
    let base = match &opts.base {
        Some(spec) => Some(load_base(layout, spec, opts.platform.as_ref())?),
        None => None,
    };
    let platform = image_platform(
        opts.platform.as_ref(),
        base.as_ref().and_then(|b| b.platform.as_ref()),
    )?;
    refuse_layout_inside_sources(layout, &opts.layers)?;
    let mut layers = Vec::new();
    for src in &opts.layers {
        let (layer, stats) = build_layer(layout, src, &copts, &opts.entry)?;
        layers.push(BuiltLayer {
            layer,
            source: src.describe(),
            entries: stats.entries,
            skipped_sockets: stats.skipped_sockets,
        });
    }
    let (config_desc, desc) = write_image(layout, base.as_ref(), &platform, opts, &layers)?;
    let (change, _) = layout.transact(|idx| tags::set_ref(idx, &desc, ref_name))?;
    Ok(BuildReport {
        digest: desc.digest.clone(),
        ref_name: ref_name.to_string(),
        action: change.action.to_string(),
        platform: platform.display(),
        manifest: desc,
        config: config_desc,
        layers,
        base: opts.base.clone(),
    })
}

/// The image's platform: `--platform`, the base image's, or both when they agree on
/// os and architecture (then the base fills in os.version and os.features).
fn image_platform(given: Option<&Platform>, base: Option<&Platform>) -> Result<Platform> {
    match (given, base) {
        (Some(p), Some(bp)) => {
            if p.os != bp.os || p.architecture != bp.architecture {
                return Err(Error::usage(format!(
                    "--platform {} disagrees with the base image, which is {}",
                    p.display(),
                    bp.display()
                )));
            }
            let mut p = p.clone();
            if p.os_version.is_none() {
                p.os_version = bp.os_version.clone();
            }
            if p.os_features.is_none() {
                p.os_features = bp.os_features.clone();
            }
            Ok(p)
        }
        (Some(p), None) => Ok(p.clone()),
        (None, Some(bp)) => Ok(bp.clone()),
        (None, None) => Err(
            Error::usage("--platform is required (e.g. --platform linux/amd64)")
                .with_hint("with --base, the base image's platform is used"),
        ),
    }
}

/// A layout inside a source tree would be walked into its own layers.
fn refuse_layout_inside_sources(layout: &Layout, sources: &[LayerSource]) -> Result<()> {
    let root = layout.canonical_root();
    for src in sources {
        if let (LayerSource::Dir(d), Some(root)) = (src, &root) {
            if std::fs::canonicalize(d).is_ok_and(|d| root.starts_with(&d)) {
                return Err(Error::usage(format!(
                    "the output layout {} is inside the source tree {}",
                    layout.root().display(),
                    d.display()
                ))
                .with_hint("write the layout outside the tree being built"));
            }
        }
    }
    Ok(())
}

/// Write the config and the manifest (the base's layers, then `layers`) as blobs;
/// return the config's descriptor and the manifest's, which carries the platform.
fn write_image(
    layout: &Layout,
    base: Option<&Base>,
    platform: &Platform,
    opts: &BuildOptions,
    layers: &[BuiltLayer],
) -> Result<(Descriptor, Descriptor)> {
    let diff_ids = layers
        .iter()
        .map(|l| Digest::parse(&l.layer.diff_id))
        .collect::<Result<Vec<_>>>()?;
    let created = opts.entry.epoch.map(config::rfc3339);
    let cfg = config::make_config(
        base.map(|b| b.config.as_slice()),
        platform,
        &opts.settings,
        &diff_ids,
        created.as_deref(),
    )?;
    let cfg_digest = layout.write_blob_bytes(&cfg)?;
    let config_desc = Descriptor::new(media::OCI_CONFIG, &cfg_digest, cfg.len() as u64);
    let mut all_layers: Vec<Descriptor> =
        base.map(|b| b.manifest.layers.clone()).unwrap_or_default();
    for l in layers {
        all_layers.push(l.layer.descriptor()?);
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        artifact_type: None,
        config: config_desc.clone(),
        layers: all_layers,
        subject: None,
        annotations: opts.annotations.clone(),
        extra: Default::default(),
    };
    let bytes = serde_json::to_vec(&manifest).expect("serializing a manifest cannot fail");
    let m_digest = layout.write_blob_bytes(&bytes)?;
    let mut desc = Descriptor::new(media::OCI_MANIFEST, &m_digest, bytes.len() as u64);
    desc.platform = Some(Box::new(platform.clone()));
    Ok((config_desc, desc))
}
