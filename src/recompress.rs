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

use crate::compress::{self, pipelined, CompressOptions, Compression, Encoder, Limits};
use crate::digest::{Digest, Hasher, HashingWriter};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, media, Descriptor};
use crate::platform::{
    entry_platform, is_zstd_twin, Fallbacks, MatchMode, PlatformSpec, ZSTD_TWIN,
};
use crate::reference::{LayoutRef, Target};
use crate::store::{Overlay, Source};
use crate::verify::{Expect, VerifyingReader};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, BufWriter, Write};

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
    fn nested_index(d: &Descriptor, platform: Option<String>) -> EntryReport {
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

/// A recompressed layer waiting to be stored.
struct NewLayer {
    desc: Descriptor,
    tmp: Option<tempfile::NamedTempFile>,
}

struct Work<'a> {
    /// Where the image is read from.
    src: &'a dyn Source,
    /// The layout new layers are staged in (its temp files, renamed into `blobs/` by
    /// [`Work::store`]); `None`: temp files of the system's temp dir ([`recompress_into`]).
    layout: Option<&'a Layout>,
    opts: &'a Options,
    copts: CompressOptions,
    /// Old layer digest → its recompressed descriptor (a layer shared by entries is
    /// recompressed once).
    layers: HashMap<String, Descriptor>,
    pending: Vec<NewLayer>,
    /// New documents, children first.
    documents: Vec<Vec<u8>>,
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

fn label(p: &Option<PlatformSpec>) -> Option<String> {
    p.as_ref().map(PlatformSpec::short)
}

impl<'a> Work<'a> {
    fn new(src: &'a dyn Source, layout: Option<&'a Layout>, opts: &'a Options) -> Result<Work<'a>> {
        if opts.to == Compression::None {
            return Err(Error::usage("--to: choose zstd or gzip"));
        }
        if opts.add && opts.to != Compression::Zstd {
            return Err(Error::usage(
                "--add makes zstd twins of gzip entries; --to gzip --add has no twin marking",
            )
            .with_hint("use --to zstd --add, or --to gzip to replace the entries"));
        }
        let mut copts = CompressOptions::new(opts.to);
        copts.level = opts.level;
        copts.jobs = opts.jobs.max(1);
        copts.level()?;
        Ok(Work {
            src,
            layout,
            opts,
            copts,
            layers: HashMap::new(),
            pending: Vec::new(),
            documents: Vec::new(),
        })
    }

    /// Recompress what `root` names (an index or one image).
    fn root(&mut self, root: &Descriptor) -> Result<(Descriptor, Vec<EntryReport>)> {
        if root.is_index() {
            self.index(root)
        } else if root.is_manifest() {
            if self.opts.add {
                return Err(Error::usage(format!(
                    "{} is a single image: a zstd twin goes next to it in an index",
                    root.digest
                ))
                .with_hint(
                    "wrap it in an index first (`oix index create`), or replace it (no --add)",
                ));
            }
            let (new, e) = self.entry(root, None)?;
            Ok((new, vec![e]))
        } else {
            Err(Error::usage(format!(
                "{} is a {}, not an image or index",
                root.digest, root.media_type
            )))
        }
    }

    /// Recompress the entries of an index; returns its new descriptor.
    fn index(&mut self, root: &Descriptor) -> Result<(Descriptor, Vec<EntryReport>)> {
        let bytes = self.src.read_small(root)?;
        let mut doc: Value = model::parse_json(&bytes, &root.digest)?;
        let entries: Vec<Descriptor> = serde_json::from_value(
            doc.get("manifests")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|e| Error::corrupt(format!("{}: manifests: {e}", root.digest)))?;
        let src = self.src;
        let spec_of = |d: &Descriptor| entry_platform(src, d).map(|p| p.spec());
        let twins: Vec<PlatformSpec> = entries
            .iter()
            .filter(|d| is_zstd_twin(d))
            .filter_map(spec_of)
            .collect();
        let mut reports = Vec::new();
        let mut replace: Vec<(usize, Descriptor)> = Vec::new();
        let mut added: Vec<Value> = Vec::new();
        let mut any_wanted = false;
        for (i, d) in entries.iter().enumerate() {
            if d.is_index() {
                reports.push(EntryReport::nested_index(d, label(&spec_of(d))));
                continue;
            }
            if d.is_attestation() || !d.is_manifest() {
                continue;
            }
            let spec = spec_of(d);
            if !self.opts.platforms.is_empty() {
                let wanted = spec.as_ref().is_some_and(|have| {
                    self.opts.platforms.iter().any(|want| {
                        want.matches(have, MatchMode::Exact, Fallbacks::default())
                            .is_ok()
                    })
                });
                if !wanted {
                    continue;
                }
            }
            any_wanted = true;
            let skip = |note: String| EntryReport {
                platform: label(&spec),
                from: d.digest.clone(),
                to: d.digest.clone(),
                action: "skipped",
                layers: Vec::new(),
                note: Some(note),
            };
            if is_zstd_twin(d) {
                reports.push(skip("a zstd twin; left as it is".into()));
                continue;
            }
            if self.opts.add {
                let has_twin = spec.as_ref().is_some_and(|s| twins.contains(s));
                if has_twin {
                    reports.push(skip("already has a zstd twin".into()));
                    continue;
                }
            }
            let (new, mut rep) = self.entry(d, spec.clone())?;
            if new.digest == d.digest {
                reports.push(rep);
                continue;
            }
            if self.opts.add {
                let mut v = serde_json::to_value(d).map_err(|e| Error::failure(e.to_string()))?;
                v["mediaType"] = Value::String(new.media_type.clone());
                v["digest"] = Value::String(new.digest.clone());
                v["size"] = Value::from(new.size);
                let ann = v
                    .as_object_mut()
                    .expect("a descriptor is an object")
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Default::default()));
                ann[ZSTD_TWIN] = Value::String("true".into());
                rep.action = "added";
                added.push(v);
            } else {
                replace.push((i, new));
            }
            reports.push(rep);
        }
        if !any_wanted {
            let wanted: Vec<String> = self.opts.platforms.iter().map(|p| p.short()).collect();
            return Err(Error::no_match(format!(
                "{}: no image entry{}",
                root.digest,
                if wanted.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", wanted.join(", "))
                }
            )));
        }
        if replace.is_empty() && added.is_empty() {
            return Ok((root.clone(), reports));
        }
        let list = doc
            .get_mut("manifests")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| Error::corrupt(format!("{}: no manifests list", root.digest)))?;
        for (i, new) in replace {
            let e = &mut list[i];
            let old = e["digest"].as_str().unwrap_or_default().to_string();
            e["mediaType"] = Value::String(new.media_type.clone());
            e["digest"] = Value::String(new.digest.clone());
            e["size"] = Value::from(new.size);
            // Attestations follow the entry they describe.
            for other in list.iter_mut() {
                if let Some(s) = other
                    .get_mut("annotations")
                    .and_then(|a| a.get_mut(model::annotation::DOCKER_REFERENCE_DIGEST))
                {
                    if s.as_str() == Some(old.as_str()) {
                        *s = Value::String(new.digest.clone());
                    }
                }
            }
        }
        list.extend(added);
        let out = serde_json::to_vec(&doc).map_err(|e| Error::failure(e.to_string()))?;
        let d = Digest::sha256_of(&out);
        let mut new_root = root.clone();
        new_root.digest = d.to_string();
        new_root.size = out.len() as i64;
        self.documents.push(out);
        Ok((new_root, reports))
    }

    /// Recompress one image manifest; returns its new descriptor (the old one when no
    /// layer changed).
    fn entry(
        &mut self,
        desc: &Descriptor,
        spec: Option<PlatformSpec>,
    ) -> Result<(Descriptor, EntryReport)> {
        let bytes = self.src.read_small(desc)?;
        let manifest: model::Manifest = model::parse_json(&bytes, &desc.digest)?;
        let mut report = EntryReport {
            platform: label(&spec),
            from: desc.digest.clone(),
            to: desc.digest.clone(),
            action: "unchanged",
            layers: Vec::new(),
            note: None,
        };
        if !media::is_image_config(&manifest.config.media_type) {
            report.action = "skipped";
            report.note = Some(format!(
                "not an image (config {}); left as it is",
                manifest.config.media_type
            ));
            return Ok((desc.clone(), report));
        }
        let docker = desc.media_type == media::DOCKER_MANIFEST;
        if docker && self.opts.to == Compression::Zstd {
            return Err(Error::refused(format!(
                "{}: a Docker schema 2 manifest has no zstd layer type",
                desc.digest
            ))
            .with_hint(
                "convert the image to OCI first (`oix copy --format oci`), then recompress",
            ));
        }
        let config = self.src.read_small(&manifest.config)?;
        let config: Value = model::parse_json(&config, &manifest.config.digest)?;
        let diff_ids: Vec<String> = config
            .pointer("/rootfs/diff_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if diff_ids.len() != manifest.layers.len() {
            return Err(Error::corrupt(format!(
                "{}: {} layers but its config {} lists {} diff_ids",
                desc.digest,
                manifest.layers.len(),
                manifest.config.digest,
                diff_ids.len()
            ))
            .with_hint("the image is inconsistent; nothing was changed"));
        }
        let mut doc: Value = model::parse_json(&bytes, &desc.digest)?;
        let mut changed = false;
        let mut foreign = 0;
        for (i, layer) in manifest.layers.iter().enumerate() {
            let (new, action) = match layer_compression(&layer.media_type) {
                None => {
                    foreign += 1;
                    (layer.clone(), "left")
                }
                Some(c) if c == self.opts.to => (layer.clone(), "reused"),
                Some(_) => {
                    let new = self.layer(desc, i, layer, &diff_ids[i], docker)?;
                    (new, "recompressed")
                }
            };
            if new.digest != layer.digest {
                changed = true;
                let l = &mut doc["layers"][i];
                l["mediaType"] = Value::String(new.media_type.clone());
                l["digest"] = Value::String(new.digest.clone());
                l["size"] = Value::from(new.size);
                if let Some(o) = l.as_object_mut() {
                    // Embedded data would be the old bytes.
                    o.remove("data");
                }
            }
            report.layers.push(LayerReport {
                from: layer.digest.clone(),
                to: new.digest.clone(),
                from_media_type: layer.media_type.clone(),
                media_type: new.media_type.clone(),
                size: new.size,
                action,
            });
        }
        if foreign > 0 {
            report.note = Some(format!(
                "{foreign} non-distributable or unknown layer(s) left unchanged"
            ));
        }
        if !changed {
            return Ok((desc.clone(), report));
        }
        let out = serde_json::to_vec(&doc).map_err(|e| Error::failure(e.to_string()))?;
        let mut new = desc.clone();
        new.digest = Digest::sha256_of(&out).to_string();
        new.size = out.len() as i64;
        new.data = None;
        report.to = new.digest.clone();
        report.action = "replaced";
        self.documents.push(out);
        Ok((new, report))
    }

    /// Recompress layer `i` of `manifest` into a temp file, checking its tar against
    /// `diff_id`.
    fn layer(
        &mut self,
        manifest: &Descriptor,
        i: usize,
        layer: &Descriptor,
        diff_id: &str,
        docker: bool,
    ) -> Result<Descriptor> {
        if let Some(d) = self.layers.get(&layer.digest) {
            return Ok(d.clone());
        }
        let where_ = || format!("{} layer {i} ({})", manifest.digest, layer.digest);
        let want =
            Digest::parse(diff_id).map_err(|e| e.context(format!("{}: diff_id", where_())))?;
        let digest = layer.digest()?;
        let raw = self.src.open(layer).map_err(|e| e.context(where_()))?;
        let raw = VerifyingReader::new(raw, Expect::blob(&digest, layer.size()?));
        let limits = Limits {
            // Layers with large runs of zeros legitimately compress far beyond 100x.
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        let read_err = |e: io::Error| {
            crate::verify::from_io(e, |e| Error::failure(format!("{}: reading: {e}", where_())))
        };
        let tmp = match self.layout {
            Some(l) => l.blob_temp()?,
            None => tempfile::NamedTempFile::new()
                .map_err(|e| Error::io("creating a temp file in", &std::env::temp_dir(), e))?,
        };
        let file = tmp.as_file();
        let sink = Encoder::new(
            HashingWriter::new(BufWriter::with_capacity(1 << 20, file), Hasher::sha256()),
            &self.copts,
        )?;
        let (tar, sink) = pipelined(sink, |w| {
            let d = compress::decompress(raw, limits).map_err(read_err)?;
            let mut hw = HashingWriter::new(w, Hasher::sha256());
            io::copy(&mut { d.reader }, &mut hw).map_err(read_err)?;
            let (_, tar, _) = hw.finish();
            Ok(tar)
        })
        .map_err(|e| e.context(where_()))?;
        let hw = sink
            .finish()
            .map_err(|e| Error::io("writing", tmp.path(), e))?;
        let (mut buf, new_digest, size) = hw.finish();
        buf.flush()
            .map_err(|e| Error::io("writing", tmp.path(), e))?;
        drop(buf);
        if tar != want {
            return Err(Error::corrupt(format!(
                "{}: its uncompressed content is {tar}, but the config's diff_id says {want}",
                where_()
            ))
            .with_hint(
                "the image is inconsistent (its config describes other layers); nothing was \
                 changed. Rebuild or re-pull it",
            ));
        }
        let media_type = match (self.opts.to, docker) {
            (Compression::Gzip, true) => media::DOCKER_LAYER_GZIP,
            (c, _) => c.layer_media_type(),
        };
        let mut new = layer.clone();
        new.media_type = media_type.to_string();
        new.digest = new_digest.to_string();
        new.size = size as i64;
        new.data = None;
        new.urls = None;
        self.layers.insert(layer.digest.clone(), new.clone());
        self.pending.push(NewLayer {
            desc: new.clone(),
            tmp: Some(tmp),
        });
        Ok(new)
    }

    /// Make the new layers and documents visible (children before parents).
    fn store(&mut self) -> Result<()> {
        let Some(layout) = self.layout else {
            return Err(Error::failure("recompress: no layout to store in"));
        };
        for l in &mut self.pending {
            if let Some(tmp) = l.tmp.take() {
                layout.persist_hashed(tmp, &l.desc.digest()?, l.desc.size()?)?;
            }
        }
        for d in &self.documents {
            layout.write_blob_bytes(d)?;
        }
        Ok(())
    }
}

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
