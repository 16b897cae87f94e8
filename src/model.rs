//! Lenient serde models of the OCI documents oix reads and writes.
//!
//! These structs keep every field they do not know in `extra` (in document order), so
//! rewriting index.json preserves unknown fields. Annotations are a `BTreeMap` so that
//! documents oix creates serialize deterministically. Third-party manifests, indexes and
//! configs are parsed only to be read, never re-serialized: their bytes stay as stored.
//!
//! Digests stay strings here; [`Descriptor::digest`] validates them. Only validated
//! [`Digest`]s reach the layout store, so no path is ever built from a raw string.

use crate::digest::Digest;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub mod media {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const DOCKER_ATTESTATION_CONFIG: &str = "application/vnd.docker.attestation.config.v1+json";

    pub fn is_index(mt: &str) -> bool {
        mt == OCI_INDEX || mt == DOCKER_LIST
    }
    pub fn is_manifest(mt: &str) -> bool {
        mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
    }
    /// Config media types whose JSON carries os/architecture.
    pub fn is_image_config(mt: &str) -> bool {
        mt == OCI_CONFIG || mt == DOCKER_CONFIG
    }
}

/// The well-known annotation keys oix reads or writes.
pub mod annotation {
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    pub const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
    pub const DOCKER_REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
    pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
}

/// Largest manifest, index or config oix will read into memory (the registries' limit).
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;
/// Largest index.json oix will read (10,000 entries fit with room to spare).
pub const MAX_INDEX_JSON_SIZE: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Platform {
    /// `os/arch[/variant]`, as users write it.
    pub fn display(&self) -> String {
        let mut s = format!("{}/{}", self.os, self.architecture);
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            s.push('/');
            s.push_str(v);
        }
        if let Some(v) = self.os_version.as_deref().filter(|v| !v.is_empty()) {
            s.push(':');
            s.push_str(v);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Boxed: a platform is 216 bytes, most descriptors (layers, configs) have none, and
    /// a 10,000-entry index.json is a `Vec` of descriptors that serde grows by doubling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Box<Platform>>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size: size as i64,
            urls: None,
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
            extra: Map::new(),
        }
    }
    /// The validated digest.
    pub fn digest(&self) -> Result<Digest> {
        Digest::parse(&self.digest)
    }
    /// The size as unsigned, refusing negative sizes.
    pub fn size(&self) -> Result<u64> {
        u64::try_from(self.size).map_err(|_| {
            Error::corrupt(format!(
                "descriptor {} has a negative size {}",
                self.digest, self.size
            ))
        })
    }
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations
            .get(annotation::REF_NAME)
            .map(String::as_str)
    }
    pub fn is_index(&self) -> bool {
        media::is_index(&self.media_type)
    }
    pub fn is_manifest(&self) -> bool {
        media::is_manifest(&self.media_type)
    }
    /// A BuildKit-style attestation or other referrer entry: it never matches a platform
    /// filter and travels with the entry it references.
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get(annotation::DOCKER_REFERENCE_TYPE)
            .is_some_and(|t| t == annotation::ATTESTATION_MANIFEST)
            || self
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }
    /// The digest an attestation entry refers to, when it says.
    pub fn attestation_subject(&self) -> Option<&str> {
        self.annotations
            .get(annotation::DOCKER_REFERENCE_DIGEST)
            .map(String::as_str)
    }
}

/// An image index (also used for index.json and Docker manifest lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    #[serde(rename = "schemaVersion")]
    pub schema_version: i64,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_keys"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
            extra: Map::new(),
        }
    }
}

impl Index {
    /// Deterministic compact bytes for an index oix writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializing an in-memory index cannot fail")
    }
}

/// An image manifest (OCI or Docker schema 2); read-only view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: i64,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_keys"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The platform-relevant part of an image config; everything else kept in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageConfig {
    pub fn platform(&self) -> Option<Platform> {
        if self.os.is_empty() || self.architecture.is_empty() {
            return None;
        }
        Some(Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: self.variant.clone(),
            features: None,
            extra: Map::new(),
        })
    }
}

/// Why a descriptor is in the graph: the part it plays in the document that lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An entry of index.json or of a nested index.
    Entry,
    Config,
    Layer,
    /// The `subject` of a manifest or index (may legitimately be absent from the layout).
    Subject,
}

/// A parsed manifest or index, classified by media type.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // documents are few and short-lived
pub enum Document {
    Index(Index),
    Manifest(Manifest),
}

/// Deserialize an annotations map, refusing a key given twice: the image spec says
/// "Keys MUST be unique within this map", and keeping one of two values silently (as
/// JSON parsers do) would let two readers of one document see different refs.
fn unique_keys<'de, D>(d: D) -> std::result::Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    UniqueAnnotations::deserialize(d).map(|a| a.0)
}

/// An annotations map read by [`unique_keys`]' rules.
struct UniqueAnnotations(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for UniqueAnnotations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueAnnotations;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of string annotations")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    use std::collections::btree_map::Entry;
                    match out.entry(k) {
                        Entry::Occupied(e) => {
                            return Err(serde::de::Error::custom(format!(
                                "annotation key {:?} given twice",
                                e.key()
                            )));
                        }
                        Entry::Vacant(e) => {
                            e.insert(v);
                        }
                    }
                }
                Ok(UniqueAnnotations(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parse JSON bytes as `T`, with an error naming `what` (a file or a digest).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::corrupt(format!("{what}: invalid JSON: {e}"))
            .with_hint("the file is corrupt or not the document its descriptor claims")
    })
}

impl Document {
    /// Parse `bytes` as the document type `media_type` says; checks the required fields.
    pub fn parse(media_type: &str, bytes: &[u8], what: &str) -> Result<Option<Document>> {
        if media::is_index(media_type) {
            let idx: Index = parse_json(bytes, what)?;
            if idx.schema_version != 2 {
                return Err(Error::corrupt(format!(
                    "{what}: schemaVersion is {}, expected 2",
                    idx.schema_version
                )));
            }
            check_declared_type(idx.media_type.as_deref(), media_type, what)?;
            Ok(Some(Document::Index(idx)))
        } else if media::is_manifest(media_type) {
            let m: Manifest = parse_json(bytes, what)?;
            if m.schema_version != 2 {
                return Err(Error::corrupt(format!(
                    "{what}: schemaVersion is {}, expected 2",
                    m.schema_version
                )));
            }
            check_declared_type(m.media_type.as_deref(), media_type, what)?;
            Ok(Some(Document::Manifest(m)))
        } else {
            Ok(None)
        }
    }

    /// Every descriptor this document points at, with the role each plays, in document
    /// order: an index's entries then its subject; a manifest's config, layers, subject.
    /// The one list of a document's children (the walk in `graph` follows it).
    pub fn children_with_roles(&self) -> Vec<(&Descriptor, Role)> {
        match self {
            Document::Index(i) => i
                .manifests
                .iter()
                .map(|d| (d, Role::Entry))
                .chain(i.subject.iter().map(|d| (d, Role::Subject)))
                .collect(),
            Document::Manifest(m) => std::iter::once((&m.config, Role::Config))
                .chain(m.layers.iter().map(|d| (d, Role::Layer)))
                .chain(m.subject.iter().map(|d| (d, Role::Subject)))
                .collect(),
        }
    }

    /// Every descriptor this document points at, in document order (the descriptors of
    /// [`Document::children_with_roles`]).
    pub fn children(&self) -> Vec<&Descriptor> {
        self.children_with_roles()
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }
}

fn check_declared_type(declared: Option<&str>, expected: &str, what: &str) -> Result<()> {
    match declared {
        Some(d) if d != expected => Err(Error::corrupt(format!(
            "{what}: the descriptor says {expected} but the document declares mediaType {d}"
        ))
        .with_hint("the descriptor's mediaType must match the document it points to")),
        _ => Ok(()),
    }
}

// Descriptors and platforms are by far the most numerous objects oix parses (an index.json
// with 10,000 entries holds 20,000 of them). serde's `#[serde(flatten)]` buffers every
// field through an intermediate representation, which made parsing such an index.json
// cost most of a `select`; these hand-written visitors read known fields directly and
// keep unknown ones, in order, in `extra`.

/// An object key read without allocating when the JSON holds it unescaped: the
/// descriptor and platform visitors read eight keys per entry, and an index.json of
/// 10,000 entries spent a tenth of `oix select` allocating and freeing them.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Store a known field, refusing a second occurrence like derived impls do.
fn set_once<'de, A: serde::de::MapAccess<'de>, T: serde::Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> std::result::Result<(), A::Error> {
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Deserialize<'de> for Descriptor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Descriptor;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an OCI descriptor object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Descriptor, A::Error> {
                let (mut media_type, mut digest, mut size) = (None, None, None);
                let (mut urls, mut data) = (None, None);
                let mut annotations: Option<Option<UniqueAnnotations>> = None;
                let (mut platform, mut artifact_type) = (None, None);
                let mut extra = Map::new();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    match key.as_ref() {
                        "mediaType" => set_once(&mut media_type, "mediaType", &mut map)?,
                        "digest" => set_once(&mut digest, "digest", &mut map)?,
                        "size" => set_once(&mut size, "size", &mut map)?,
                        "urls" => set_once(&mut urls, "urls", &mut map)?,
                        "annotations" => set_once(&mut annotations, "annotations", &mut map)?,
                        "data" => set_once(&mut data, "data", &mut map)?,
                        "platform" => set_once(&mut platform, "platform", &mut map)?,
                        "artifactType" => set_once(&mut artifact_type, "artifactType", &mut map)?,
                        _ => {
                            let v: Value = map.next_value()?;
                            extra.insert(key.into_owned(), v);
                        }
                    }
                }
                use serde::de::Error as _;
                Ok(Descriptor {
                    media_type: media_type.ok_or_else(|| A::Error::missing_field("mediaType"))?,
                    digest: digest.ok_or_else(|| A::Error::missing_field("digest"))?,
                    size: size.ok_or_else(|| A::Error::missing_field("size"))?,
                    urls: urls.flatten(),
                    annotations: annotations.flatten().map(|a| a.0).unwrap_or_default(),
                    data: data.flatten(),
                    platform: platform.flatten(),
                    artifact_type: artifact_type.flatten(),
                    extra,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Platform;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an OCI platform object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Platform, A::Error> {
                let (mut architecture, mut os, mut os_version) = (None, None, None);
                let (mut os_features, mut variant, mut features) = (None, None, None);
                let mut extra = Map::new();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    match key.as_ref() {
                        "architecture" => set_once(&mut architecture, "architecture", &mut map)?,
                        "os" => set_once(&mut os, "os", &mut map)?,
                        "os.version" => set_once(&mut os_version, "os.version", &mut map)?,
                        "os.features" => set_once(&mut os_features, "os.features", &mut map)?,
                        "variant" => set_once(&mut variant, "variant", &mut map)?,
                        "features" => set_once(&mut features, "features", &mut map)?,
                        _ => {
                            let v: Value = map.next_value()?;
                            extra.insert(key.into_owned(), v);
                        }
                    }
                }
                use serde::de::Error as _;
                Ok(Platform {
                    architecture: architecture
                        .ok_or_else(|| A::Error::missing_field("architecture"))?,
                    os: os.ok_or_else(|| A::Error::missing_field("os"))?,
                    os_version: os_version.flatten(),
                    os_features: os_features.flatten(),
                    variant: variant.flatten(),
                    features: features.flatten(),
                    extra,
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_round_trip() {
        let src = r#"{"schemaVersion":2,"zzz":1,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"vendor.x":{"a":[1,2]},"annotations":{"b":"2","a":"1"}}],"aaa":"x"}"#;
        let idx: Index = serde_json::from_str(src).unwrap();
        let out: Value = serde_json::from_slice(&idx.to_bytes()).unwrap();
        let want: Value = serde_json::from_str(src).unwrap();
        assert_eq!(out, want);
    }

    #[test]
    fn unknown_float_fields_round_trip_exactly() {
        // Found by the json_model fuzz target: without serde_json's float_roundtrip,
        // rewriting index.json changed the value of a float in an unknown field.
        let src = br#"{"schemaVersion":2,"manifests":[],"x":2.2200000000000002e24,"y":0.30000000000000004}"#;
        let idx: Index = serde_json::from_slice(src).unwrap();
        let again: Index = serde_json::from_slice(&idx.to_bytes()).unwrap();
        assert_eq!(idx, again);
    }

    #[test]
    fn duplicate_annotation_keys_are_refused() {
        let src = br#"{"schemaVersion":2,"manifests":[],"annotations":{"a":"1","a":"2"}}"#;
        let e = parse_json::<Index>(src, "index.json").unwrap_err();
        assert!(
            e.message.contains("annotation key \"a\" given twice"),
            "{}",
            e.message
        );
        let d = br#"{"mediaType":"x/y","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"annotations":{"org.opencontainers.image.ref.name":"a","org.opencontainers.image.ref.name":"b"}}"#;
        assert!(parse_json::<Descriptor>(d, "d").is_err());
        let ok = br#"{"schemaVersion":2,"manifests":[],"annotations":{"a":"1","b":"2"}}"#;
        assert_eq!(
            parse_json::<Index>(ok, "index.json")
                .unwrap()
                .annotations
                .len(),
            2
        );
    }

    #[test]
    fn attestation_detection() {
        let d: Descriptor = serde_json::from_str(r#"{"mediaType":"x/y","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":1,"platform":{"os":"unknown","architecture":"unknown"}}"#).unwrap();
        assert!(d.is_attestation());
    }

    #[test]
    fn descriptor_visitor_refuses_duplicates_and_missing_fields() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let dup = format!(r#"{{"mediaType":"a/b","digest":"{d}","digest":"{d}","size":0}}"#);
        assert!(serde_json::from_str::<Descriptor>(&dup).is_err());
        assert!(serde_json::from_str::<Descriptor>(r#"{"mediaType":"a/b","size":0}"#).is_err());
        let p = r#"{"architecture":"arm","os":"linux","variant":null,"x":1}"#;
        let p: Platform = serde_json::from_str(p).unwrap();
        assert_eq!(p.variant, None);
        assert_eq!(p.extra["x"], 1);
        assert!(serde_json::from_str::<Platform>(r#"{"os":"linux"}"#).is_err());
    }
}
