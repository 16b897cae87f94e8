//! The recompression itself: each entry's layers streamed into temp files, the new
//! manifests and index computed, everything stored once all of it checked out.

use super::{layer_compression, EntryReport, LayerReport, Options};

use crate::compress::{self, pipelined, CompressOptions, Compression, Encoder, Limits};
use crate::digest::{Digest, Hasher, HashingWriter};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, media, Descriptor};
use crate::platform::{
    entry_platform, is_zstd_twin, Fallbacks, MatchMode, PlatformSpec, ZSTD_TWIN,
};
use crate::store::Source;
use crate::verify::{Expect, VerifyingReader};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, BufWriter, Write};

/// A recompressed layer waiting to be stored.
pub(super) struct NewLayer {
    pub(super) desc: Descriptor,
    pub(super) tmp: Option<tempfile::NamedTempFile>,
}

/// One recompression: what it reads, where it stages, what it has made so far.
pub(super) struct Work<'a> {
    /// Where the image is read from.
    src: &'a dyn Source,
    /// The layout new layers are staged in (its temp files, renamed into `blobs/` by
    /// [`Work::store`]); `None`: temp files of the system's temp dir
    /// ([`super::recompress_into`]).
    layout: Option<&'a Layout>,
    opts: &'a Options,
    copts: CompressOptions,
    /// Old layer digest → its recompressed descriptor (a layer shared by entries is
    /// recompressed once).
    layers: HashMap<String, Descriptor>,
    pub(super) pending: Vec<NewLayer>,
    /// New documents, children first.
    pub(super) documents: Vec<Vec<u8>>,
}

fn label(p: &Option<PlatformSpec>) -> Option<String> {
    p.as_ref().map(PlatformSpec::short)
}

impl<'a> Work<'a> {
    pub(super) fn new(
        src: &'a dyn Source,
        layout: Option<&'a Layout>,
        opts: &'a Options,
    ) -> Result<Work<'a>> {
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
    pub(super) fn root(&mut self, root: &Descriptor) -> Result<(Descriptor, Vec<EntryReport>)> {
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
        let doc: Value = model::parse_json(&bytes, &root.digest)?;
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
            if !self.wanted(spec.as_ref()) {
                continue;
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
                rep.action = "added";
                added.push(twin_entry(d, &new)?);
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
        let new_root = self.rewrite_index(root, doc, replace, added)?;
        Ok((new_root, reports))
    }

    /// Is an entry of platform `spec` one the options ask for (all when none are given)?
    fn wanted(&self, spec: Option<&PlatformSpec>) -> bool {
        self.opts.platforms.is_empty()
            || spec.is_some_and(|have| {
                self.opts.platforms.iter().any(|want| {
                    want.matches(have, MatchMode::Exact, Fallbacks::default())
                        .is_ok()
                })
            })
    }

    /// The index `root` (parsed as `doc`) with the entries at `replace` re-pointed
    /// (attestations following them) and `added` appended; stored as a new document.
    fn rewrite_index(
        &mut self,
        root: &Descriptor,
        mut doc: Value,
        replace: Vec<(usize, Descriptor)>,
        added: Vec<Value>,
    ) -> Result<Descriptor> {
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
        Ok(new_root)
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
        let diff_ids = self.diff_ids(desc, &manifest)?;
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

    /// The `diff_ids` of the config of `manifest` (stored as `desc`), one per layer.
    fn diff_ids(&self, desc: &Descriptor, manifest: &model::Manifest) -> Result<Vec<String>> {
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
        Ok(diff_ids)
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
    pub(super) fn store(&mut self) -> Result<()> {
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

/// The descriptor of the zstd twin of the entry `d`: `d` as written (unknown fields
/// kept) with the new media type, digest and size, marked with [`ZSTD_TWIN`].
fn twin_entry(d: &Descriptor, new: &Descriptor) -> Result<Value> {
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
    Ok(v)
}
