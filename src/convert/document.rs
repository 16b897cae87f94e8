//! Converting one document (and, through an index, the documents it lists): media
//! types mapped, children's descriptors updated, what Docker cannot hold reported.

use super::{
    Format, Item, Loss, Pair, DOCKER_FOREIGN_GZIP, DOCKER_FOREIGN_TAR, DOCKER_LAYER_TAR,
    OCI_NONDIST_GZIP, OCI_NONDIST_TAR,
};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::media;
use crate::model::Descriptor;
use crate::store::Source;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The blob media type that corresponds to `mt` in format `to`; `None` when there is
/// none. Types already in the target format map to themselves.
fn blob_type(mt: &str, to: Format) -> Option<&'static str> {
    const PAIRS: [(&str, &str); 5] = [
        (media::OCI_CONFIG, media::DOCKER_CONFIG),
        (media::OCI_LAYER_GZIP, media::DOCKER_LAYER_GZIP),
        (media::OCI_LAYER_TAR, DOCKER_LAYER_TAR),
        (OCI_NONDIST_GZIP, DOCKER_FOREIGN_GZIP),
        (OCI_NONDIST_TAR, DOCKER_FOREIGN_TAR),
    ];
    PAIRS.iter().find_map(|&(oci, docker)| match to {
        Format::Docker if mt == oci || mt == docker => Some(docker),
        Format::Oci | Format::Auto if mt == oci || mt == docker => Some(oci),
        _ => None,
    })
}

/// `to` is concrete here ([`super::plan`] resolved [`Format::Auto`]).
fn doc_type(index: bool, to: Format) -> &'static str {
    match (index, to) {
        (true, Format::Docker) => media::DOCKER_LIST,
        (false, Format::Docker) => media::DOCKER_MANIFEST,
        (true, _) => media::OCI_INDEX,
        (false, _) => media::OCI_MANIFEST,
    }
}

/// New (media type, digest, size) of a converted document; `None`: unchanged.
type NewDoc = Option<(String, String, i64)>;

/// A conversion in progress: what is converted so far, what is refused or dropped.
pub(super) struct Converter<'s> {
    pub(super) src: &'s dyn Source,
    pub(super) to: Format,
    pub(super) allow: &'s [Loss],
    pub(super) done: HashMap<String, NewDoc>,
    pub(super) problems: Vec<Item>,
    pub(super) dropped: Vec<Item>,
    pub(super) pairs: Vec<Pair>,
    pub(super) created: Vec<Vec<u8>>,
}

/// Fields of a Docker descriptor (distribution's schema 2 and manifest list).
const DOCKER_DESCRIPTOR_FIELDS: [&str; 5] = ["mediaType", "digest", "size", "urls", "platform"];
const DOCKER_PLATFORM_FIELDS: [&str; 6] = [
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
];

impl Converter<'_> {
    /// Note something Docker cannot hold at `path` of `doc`; returns whether it is
    /// dropped (an allowed loss).
    fn lose(&mut self, doc: &str, path: String, what: String, loss: Option<Loss>) -> bool {
        let item = Item {
            document: doc.to_string(),
            path,
            what,
            loss,
        };
        match loss {
            Some(l) if self.allow.contains(&l) => {
                self.dropped.push(item);
                true
            }
            _ => {
                self.problems.push(item);
                false
            }
        }
    }

    /// The loss kind of a field Docker does not define.
    fn field_loss(key: &str) -> Loss {
        match key {
            "annotations" => Loss::Annotations,
            "subject" => Loss::Subject,
            "artifactType" => Loss::ArtifactType,
            _ => Loss::Fields,
        }
    }

    /// Convert the document `desc` names (a manifest or index); `nested`: it is an
    /// entry of an index.
    pub(super) fn document(&mut self, desc: &Descriptor, nested: bool) -> Result<NewDoc> {
        if let Some(d) = self.done.get(&desc.digest) {
            return Ok(d.clone());
        }
        let index = desc.is_index();
        if !index && !desc.is_manifest() {
            let what = format!("{} is not an image manifest or index", desc.media_type);
            self.lose(&desc.digest, String::new(), what, None);
            return Ok(None);
        }
        if index && nested && self.to == Format::Docker {
            self.lose(
                &desc.digest,
                String::new(),
                "an index inside an index (a Docker manifest list lists only manifests)".into(),
                None,
            );
            return Ok(None);
        }
        let bytes = self.src.read_small(desc)?;
        let what = desc.digest.clone();
        let value: Value = crate::model::parse_json(&bytes, &what)?;
        let Value::Object(obj) = value else {
            return Err(Error::corrupt(format!("{what}: not a JSON object")));
        };
        let target = doc_type(index, self.to);
        let mut changed = desc.media_type != target;
        let mut out = Map::new();
        let has_mt = obj.contains_key("mediaType");
        // A `mediaType` after the body marks one a conversion added (see the module
        // documentation): the way back to OCI removes it again.
        let body = if index { "manifests" } else { "config" };
        let added_mt = self.to == Format::Oci
            && !desc.media_type.starts_with("application/vnd.oci.")
            && obj.keys().position(|k| k == "mediaType") > obj.keys().position(|k| k == body);
        for (k, v) in obj {
            let v = match k.as_str() {
                "schemaVersion" => v,
                "mediaType" if added_mt => {
                    changed = true;
                    continue;
                }
                "mediaType" => {
                    if v.as_str() != Some(target) {
                        changed = true;
                    }
                    Value::String(target.into())
                }
                "manifests" if index => {
                    let (v, c) = self.entries(&what, v)?;
                    changed |= c;
                    v
                }
                "config" if !index => {
                    let (v, c) = self.blob(&what, "config".into(), v, true)?;
                    changed |= c;
                    v
                }
                "layers" if !index => {
                    let (v, c) = self.layers(&what, v)?;
                    changed |= c;
                    v
                }
                _ if self.to == Format::Docker => {
                    if is_empty(&v) {
                        // `"annotations": {}` says nothing Docker loses; still dropped.
                        changed = true;
                        continue;
                    }
                    let loss = Self::field_loss(&k);
                    let shown = format!("{k} ({} has no such field)", Format::Docker.name());
                    if self.lose(&what, k.clone(), shown, Some(loss)) {
                        changed = true;
                        continue;
                    }
                    v
                }
                _ => v,
            };
            out.insert(k, v);
        }
        if !has_mt && self.to == Format::Docker {
            // Docker requires it; an OCI document may omit it (a SHOULD), so an OCI
            // document without it stays as it is on the way to OCI. Appended last,
            // after the body, so that the way back knows to remove it.
            out.insert("mediaType".into(), Value::String(target.into()));
            changed = true;
        }
        let new = changed.then(|| self.write(desc, &bytes, out, target));
        self.done.insert(desc.digest.clone(), new.clone());
        Ok(new)
    }

    /// The `layers` of a manifest: each layer descriptor's media type mapped.
    fn layers(&mut self, what: &str, v: Value) -> Result<(Value, bool)> {
        let Value::Array(layers) = v else {
            return Err(Error::corrupt(format!("{what}: layers is not an array")));
        };
        let mut changed = false;
        let mut new = Vec::with_capacity(layers.len());
        for (i, l) in layers.into_iter().enumerate() {
            let (v, c) = self.blob(what, format!("layers[{i}]"), l, false)?;
            changed |= c;
            new.push(v);
        }
        Ok((Value::Array(new), changed))
    }

    /// The bytes of the converted document `out` (source `desc`, stored as `bytes`),
    /// recorded as created and paired with its source; its new media type, digest, size.
    fn write(
        &mut self,
        desc: &Descriptor,
        bytes: &[u8],
        out: Map<String, Value>,
        target: &str,
    ) -> (String, String, i64) {
        let mut b = serde_json::to_vec(&Value::Object(out)).expect("serializing JSON values");
        // Keep what follows the closing brace (Go's json.Encoder, and so umoci and
        // others, end documents with a newline): it travels both ways.
        let end = bytes
            .iter()
            .rposition(|c| *c == b'}')
            .map_or(bytes.len(), |i| i + 1);
        b.extend_from_slice(&bytes[end..]);
        let d = Digest::sha256_of(&b);
        let size = b.len() as i64;
        self.pairs.push(Pair {
            from: desc.digest.clone(),
            to: d.to_string(),
            from_media_type: desc.media_type.clone(),
            media_type: target.to_string(),
            size,
        });
        self.created.push(b);
        (target.to_string(), d.to_string(), size)
    }

    /// The `manifests` of an index: each child converted, its descriptor updated.
    fn entries(&mut self, what: &str, v: Value) -> Result<(Value, bool)> {
        let Value::Array(entries) = v else {
            return Err(Error::corrupt(format!("{what}: manifests is not an array")));
        };
        let mut changed = false;
        let mut new = Vec::with_capacity(entries.len());
        for (i, e) in entries.into_iter().enumerate() {
            let d: Descriptor = serde_json::from_value(e.clone())
                .map_err(|err| Error::corrupt(format!("{what}: manifests[{i}]: {err}")))?;
            if self.to == Format::Docker && d.is_attestation() {
                let shown = format!("attestation manifest {}", d.digest);
                if self.lose(
                    what,
                    format!("manifests[{i}]"),
                    shown,
                    Some(Loss::Attestations),
                ) {
                    changed = true;
                    continue;
                }
                // Not allowed: reported; its own content is not examined further.
                new.push(e);
                continue;
            }
            let Value::Object(mut m) = e else {
                return Err(Error::corrupt(format!(
                    "{what}: manifests[{i}] is not an object"
                )));
            };
            if let Some((mt, digest, size)) = self.document(&d, true)? {
                m.insert("mediaType".into(), Value::String(mt));
                m.insert("digest".into(), Value::String(digest));
                m.insert("size".into(), Value::from(size));
                changed = true;
            }
            if self.to == Format::Docker {
                if d.platform.is_none() {
                    self.lose(
                        what,
                        format!("manifests[{i}]"),
                        format!(
                            "entry {} has no platform (a Docker manifest list requires one)",
                            d.digest
                        ),
                        None,
                    );
                }
                changed |= self.docker_descriptor(what, &format!("manifests[{i}]"), &mut m);
            }
            new.push(Value::Object(m));
        }
        Ok((Value::Array(new), changed))
    }

    /// A config (`config`) or layer descriptor: its media type mapped.
    fn blob(&mut self, what: &str, path: String, v: Value, config: bool) -> Result<(Value, bool)> {
        let Value::Object(mut m) = v else {
            return Err(Error::corrupt(format!("{what}: {path} is not an object")));
        };
        let mt = m
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut changed = false;
        match blob_type(&mt, self.to) {
            Some(new) if (new == media::OCI_CONFIG || new == media::DOCKER_CONFIG) == config => {
                if new != mt {
                    m.insert("mediaType".into(), Value::String(new.into()));
                    changed = true;
                }
            }
            _ => {
                let why = if mt == media::OCI_LAYER_ZSTD {
                    format!("zstd layer ({mt}): Docker has no zstd layer type")
                } else if config {
                    format!("config of type {mt:?} (an artifact, not an image)")
                } else {
                    format!("layer of type {mt:?} has no {} form", self.to.name())
                };
                self.lose(what, path.clone(), why, None);
            }
        }
        if self.to == Format::Docker {
            changed |= self.docker_descriptor(what, &path, &mut m);
        }
        Ok((Value::Object(m), changed))
    }

    /// Drop (or report) the fields of a descriptor Docker does not define.
    fn docker_descriptor(&mut self, what: &str, path: &str, m: &mut Map<String, Value>) -> bool {
        let mut changed = false;
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            if DOCKER_DESCRIPTOR_FIELDS.contains(&k.as_str()) {
                continue;
            }
            if is_empty(&m[&k]) {
                m.shift_remove(&k);
                changed = true;
                continue;
            }
            let loss = Self::field_loss(&k);
            let shown = format!("{k} (a Docker descriptor has no such field)");
            if self.lose(what, format!("{path}.{k}"), shown, Some(loss)) {
                m.shift_remove(&k);
                changed = true;
            }
        }
        if let Some(Value::Object(p)) = m.get_mut("platform") {
            let keys: Vec<String> = p.keys().cloned().collect();
            for k in keys {
                if DOCKER_PLATFORM_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let shown = format!("platform field {k} (Docker has no such field)");
                if self.lose(
                    what,
                    format!("{path}.platform.{k}"),
                    shown,
                    Some(Loss::Fields),
                ) {
                    p.shift_remove(&k);
                    changed = true;
                }
            }
        }
        changed
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}
