//! Manifest format conversion: OCI image index ⇄ Docker manifest list, OCI image
//! manifest ⇄ Docker image manifest (schema 2). Blobs (configs, layers) are never
//! changed: only the documents that name them are rewritten, so every blob keeps its
//! bytes and digest and only manifests and indexes get new digests.
//!
//! What maps (a bijection, so a conversion and its inverse undo each other):
//!
//! | OCI | Docker schema 2 |
//! |---|---|
//! | `application/vnd.oci.image.index.v1+json` | `application/vnd.docker.distribution.manifest.list.v2+json` |
//! | `application/vnd.oci.image.manifest.v1+json` | `application/vnd.docker.distribution.manifest.v2+json` |
//! | `application/vnd.oci.image.config.v1+json` | `application/vnd.docker.container.image.v1+json` |
//! | `…layer.v1.tar+gzip` | `…rootfs.diff.tar.gzip` |
//! | `…layer.v1.tar` | `…rootfs.diff.tar` |
//! | `…layer.nondistributable.v1.tar+gzip` | `…rootfs.foreign.diff.tar.gzip` |
//! | `…layer.nondistributable.v1.tar` | `…rootfs.foreign.diff.tar` |
//!
//! What Docker cannot hold is refused, each item listed. Some of it is a *loss* the
//! caller may accept ([`Loss`], `--allow-lossy`): the converted document then simply
//! omits it. The rest has no Docker form at all and is always refused: zstd layers (no
//! Docker media type; recompress first), artifacts (configs or layers of other types),
//! an index inside an index (a manifest list lists manifests only), index entries
//! without a platform (a manifest list requires one). Docker to OCI loses nothing.
//!
//! ## Bytes
//! A converted document is the source document with its media types (and its children's
//! digests and sizes) replaced, keys in the source's order, written compact by
//! serde_json: the same input gives the same bytes. A document with nothing to change
//! keeps its stored bytes (it is not re-serialized). The conversion therefore round
//! trips exactly (OCI → Docker → OCI gives back the original bytes and digests, when
//! nothing was lossy) for every document that is already in that compact form, which is
//! what oix, umoci, skopeo and BuildKit write. It cannot for other spellings of the
//! same JSON, because Docker documents do not carry the formatting:
//! - whitespace inside the document: a pretty-printed `{\n  "schemaVersion": 2, …` comes back compact;
//! - escapes: Go's encoder writes `&` in an annotation as `\u0026`, which comes back
//!   as `&`.
//!
//! What follows the closing brace (a trailing newline, as Go's `json.Encoder` writes
//! it) is kept as it is, both ways.
//!
//! An OCI document without `mediaType` (allowed: the spec says SHOULD; oix's own older
//! documents and many others omit it) does round trip: Docker requires the field, so
//! the conversion appends it *after* the body (`config`/`manifests`), a place Docker's
//! and distribution's encoders never put it (they write it second); converting a
//! Docker document whose `mediaType` comes after its body to OCI removes it again.
//! The marker is the key order, which JSON readers ignore. A Docker document written
//! by another tool in that order loses its `mediaType` on the way to OCI, which OCI
//! allows; its descriptor still says what it is.
//!
//! No annotation records the original digest: Docker documents have no annotations,
//! and one added on the OCI side would itself break the round trip. The old → new
//! digest pairs are reported instead ([`Pair`], `--json`).

use crate::error::{Error, Result};
use crate::model::media;
use crate::model::Descriptor;
use crate::store::{Overlay, Source};
use serde::Serialize;

use std::collections::HashMap;

/// The manifest format to convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// OCI image index / manifest.
    Oci,
    /// Docker manifest list / image manifest, schema 2.
    Docker,
    /// As stored, unless the destination refuses it: then the other format
    /// (`--manifest-format auto` on push and copy to a registry). Given to [`plan`], it
    /// means "the format the root is not in".
    Auto,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Oci => "OCI",
            Format::Docker => "Docker schema 2",
            Format::Auto => "the other format",
        }
    }

    /// The format of a manifest or index media type (`None`: neither).
    pub fn of(media_type: &str) -> Option<Format> {
        match media_type {
            media::OCI_INDEX | media::OCI_MANIFEST => Some(Format::Oci),
            media::DOCKER_LIST | media::DOCKER_MANIFEST => Some(Format::Docker),
            _ => None,
        }
    }

    /// The concrete target for a root of `media_type`: [`Format::Auto`] is the format
    /// the root is not in (an OCI root goes to Docker, anything else to OCI).
    pub fn for_root(self, media_type: &str) -> Format {
        match (self, Format::of(media_type)) {
            (Format::Auto, Some(Format::Oci)) => Format::Docker,
            (Format::Auto, _) => Format::Oci,
            (f, _) => f,
        }
    }
}

/// Why a registry refused a manifest or index in the format it was sent in, when it did
/// (`--manifest-format auto` then converts and retries once): HTTP 400 or 415 with the
/// distribution error code MANIFEST_INVALID, MANIFEST_UNKNOWN or UNSUPPORTED, or a
/// bare 415 (Unsupported Media Type). Decided by the status and codes parsed from the
/// answer ([`crate::error::RemoteFailure`]), never by its message text. `None`: any
/// other failure, which a conversion would not cure.
pub fn refused_format(e: &Error) -> Option<String> {
    use crate::error::RegistryCode;
    let r = e.remote.as_deref()?;
    if !matches!(r.status, 400 | 415) {
        return None;
    }
    let code = r.codes.iter().find(|c| {
        matches!(
            c,
            RegistryCode::ManifestInvalid
                | RegistryCode::ManifestUnknown
                | RegistryCode::Unsupported
        )
    });
    let name = match code {
        Some(RegistryCode::ManifestInvalid) => "MANIFEST_INVALID",
        Some(RegistryCode::ManifestUnknown) => "MANIFEST_UNKNOWN",
        Some(_) => "UNSUPPORTED",
        None if r.status == 415 => "unsupported media type",
        None => return None,
    };
    Some(format!("HTTP {} {name}", r.status))
}

/// A conversion asked for: the target format and the losses accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub to: Format,
    pub allow_lossy: Vec<Loss>,
}

/// A warning about the children of an index about to be written (`merge`, `index
/// create`, `index add`): OCI and Docker children mixed in one index (Quay and other
/// registries reject such indexes), or an index of one format listing only children of
/// the other. `None`: nothing to say. `--manifest-format oci|docker` normalizes both.
pub fn mixed_children(index_media_type: &str, children: &[Descriptor]) -> Option<String> {
    let count = |f: Format| {
        children
            .iter()
            .filter(|c| !c.is_attestation() && Format::of(&c.media_type) == Some(f))
            .count()
    };
    let (oci, docker) = (count(Format::Oci), count(Format::Docker));
    let index = Format::of(index_media_type)?;
    if oci > 0 && docker > 0 {
        return Some(format!(
            "the index mixes {oci} OCI and {docker} Docker schema 2 children; some registries \
             (Quay) reject such indexes: --manifest-format oci or docker converts the children to one format"
        ));
    }
    let (theirs, n) = match index {
        Format::Oci => (Format::Docker, docker),
        _ => (Format::Oci, oci),
    };
    (n > 0).then(|| {
        format!(
            "the index is {} but its {n} children are {}: --manifest-format {} writes one format throughout",
            index.name(),
            theirs.name(),
            match theirs {
                Format::Docker => "docker",
                _ => "oci",
            }
        )
    })
}

/// A loss the caller may accept when converting to Docker (`--allow-lossy KIND`): the
/// converted documents omit what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// `annotations` of manifests, indexes and descriptors.
    Annotations,
    /// The `subject` of a manifest or index (its referrer link).
    Subject,
    /// `artifactType` of manifests, indexes and descriptors.
    ArtifactType,
    /// Attestation entries of an index (BuildKit's `unknown/unknown` manifests): they
    /// are dropped from the list.
    Attestations,
    /// Any other field Docker does not define (a descriptor's `data`, unknown fields,
    /// unknown platform fields).
    Fields,
}

impl Loss {
    pub const ALL: [Loss; 5] = [
        Loss::Annotations,
        Loss::Subject,
        Loss::ArtifactType,
        Loss::Attestations,
        Loss::Fields,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Loss::Annotations => "annotations",
            Loss::Subject => "subject",
            Loss::ArtifactType => "artifact-type",
            Loss::Attestations => "attestations",
            Loss::Fields => "fields",
        }
    }
    pub fn parse(s: &str) -> Result<Loss> {
        Loss::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                Error::usage(format!("--allow-lossy: unknown loss {s:?}"))
                    .with_hint(format!("one of: {}", Loss::ALL.map(Loss::name).join(", ")))
            })
    }
}

/// One document converted: its old and new digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub from: String,
    pub to: String,
    #[serde(rename = "fromMediaType")]
    pub from_media_type: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: i64,
}

/// Something the conversion dropped (an accepted loss) or could not convert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// The document it is in.
    pub document: String,
    /// Where in it, e.g. `layers[2]`, `manifests[0].annotations`.
    pub path: String,
    pub what: String,
    /// The loss kind that would accept it; `None`: it cannot be converted at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
}

/// What a conversion made of a root, the documents themselves held by the caller.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The root's new descriptor (the root itself when nothing changed).
    pub root: Descriptor,
    /// Every document whose digest changed, children first.
    pub pairs: Vec<Pair>,
    /// What was dropped under `--allow-lossy`.
    pub dropped: Vec<Item>,
    /// The new documents' bytes, children first.
    pub created: Vec<Vec<u8>>,
}

/// A conversion with its documents in an [`Overlay`] of the source.
pub struct Converted<'a> {
    pub source: Overlay<'a>,
    pub root: Descriptor,
    pub pairs: Vec<Pair>,
    pub dropped: Vec<Item>,
}

/// Convert the graph under `root` in `src` to `to`: see the module documentation.
pub fn convert<'a>(
    src: &'a dyn Source,
    root: &Descriptor,
    to: Format,
    allow_lossy: &[Loss],
) -> Result<Converted<'a>> {
    let c = plan(src, root, to, allow_lossy)?;
    let mut source = Overlay::new(src);
    for b in c.created {
        source.add(b);
    }
    Ok(Converted {
        source,
        root: c.root,
        pairs: c.pairs,
        dropped: c.dropped,
    })
}

/// [`convert`] into an overlay the caller already has (push and copy add subsets there
/// first): reads through `source`, adds the new documents to it.
pub fn convert_into(
    source: &mut Overlay<'_>,
    root: &Descriptor,
    to: Format,
    allow_lossy: &[Loss],
) -> Result<Conversion> {
    let c = plan(&*source, root, to, allow_lossy)?;
    for b in &c.created {
        source.add(b.clone());
    }
    Ok(c)
}

/// The conversion of `root`, computed without writing anything; refused (nothing
/// created) when anything cannot be converted or is a loss not allowed.
pub fn plan(
    src: &dyn Source,
    root: &Descriptor,
    to: Format,
    allow_lossy: &[Loss],
) -> Result<Conversion> {
    let to = to.for_root(&root.media_type);
    let mut c = Converter {
        src,
        to,
        allow: allow_lossy,
        done: HashMap::new(),
        problems: Vec::new(),
        dropped: Vec::new(),
        pairs: Vec::new(),
        created: Vec::new(),
    };
    let new = c.document(root, false)?;
    if !c.problems.is_empty() {
        return Err(refusal(&c.problems, to, &root.digest));
    }
    let mut out = root.clone();
    if let Some((mt, d, size)) = new {
        out.media_type = mt;
        out.digest = d;
        out.size = size;
    }
    Ok(Conversion {
        root: out,
        pairs: c.pairs,
        dropped: c.dropped,
        created: c.created,
    })
}

fn refusal(problems: &[Item], to: Format, root: &str) -> Error {
    let mut msg = format!(
        "cannot convert {root} to {}: {} item(s) have no {} form",
        to.name(),
        problems.len(),
        to.name()
    );
    for p in problems.iter().take(50) {
        msg.push_str(&format!("\n  {} {}: {}", p.document, p.path, p.what));
        if let Some(l) = p.loss {
            msg.push_str(&format!(" (lossy: {})", l.name()));
        }
    }
    if problems.len() > 50 {
        msg.push_str(&format!("\n  … and {} more", problems.len() - 50));
    }
    let mut kinds: Vec<&str> = problems
        .iter()
        .filter_map(|p| p.loss.map(Loss::name))
        .collect();
    kinds.sort();
    kinds.dedup();
    let hard = problems.iter().any(|p| p.loss.is_none());
    let hint = match (hard, kinds.is_empty()) {
        (false, _) => format!(
            "to drop them, accept the losses: --allow-lossy {}",
            kinds.join(",")
        ),
        (true, _) if problems.iter().any(|p| p.what.contains("zstd")) => {
            "Docker has no zstd layer type: recompress the image to gzip first, or keep the OCI format"
                .to_string()
        }
        (true, _) => "keep the OCI format (--manifest-format keep)".to_string(),
    };
    let details = serde_json::json!({ "items": problems });
    Error::refused(msg).with_hint(hint).with_details(details)
}

pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_FOREIGN_GZIP: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
pub const DOCKER_FOREIGN_TAR: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar";
pub const OCI_NONDIST_GZIP: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const OCI_NONDIST_TAR: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar";

mod document;
use document::Converter;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::layout::Layout;
    use serde_json::Value;

    fn put(l: &Layout, v: &Value) -> (Vec<u8>, Digest) {
        let b = serde_json::to_vec(v).unwrap();
        let d = l.write_blob_bytes(&b).unwrap();
        (b, d)
    }

    fn desc(mt: &str, b: &[u8], d: &Digest) -> Descriptor {
        Descriptor::new(mt, d, b.len() as u64)
    }

    /// An OCI index of one gzip image, with an annotation on the manifest when asked.
    fn image(l: &Layout, layer_mt: &str, annotated: bool) -> Descriptor {
        let (cb, cd) = put(l, &serde_json::json!({"architecture":"amd64","os":"linux"}));
        let lb = b"layer bytes".to_vec();
        let ld = l.write_blob_bytes(&lb).unwrap();
        let mut m = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": cb.len()},
            "layers": [{"mediaType": layer_mt, "digest": ld.to_string(), "size": lb.len()}],
        });
        if annotated {
            m["annotations"] = serde_json::json!({"org.opencontainers.image.title": "x"});
        }
        let (mb, md) = put(l, &m);
        let (ib, id) = put(
            l,
            &serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_INDEX,
                "manifests": [{"mediaType": media::OCI_MANIFEST, "digest": md.to_string(),
                    "size": mb.len(), "platform": {"architecture": "amd64", "os": "linux"}}],
            }),
        );
        desc(media::OCI_INDEX, &ib, &id)
    }

    #[test]
    fn round_trip_gives_back_the_oci_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(dir.path().join("l")).unwrap();
        let root = image(&l, media::OCI_LAYER_GZIP, false);
        let docker = convert(&l, &root, Format::Docker, &[]).unwrap();
        assert_eq!(docker.root.media_type, media::DOCKER_LIST);
        assert_eq!(docker.pairs.len(), 2);
        let list: Value =
            serde_json::from_slice(&docker.source.read_small(&docker.root).unwrap()).unwrap();
        assert_eq!(list["manifests"][0]["mediaType"], media::DOCKER_MANIFEST);
        let m = &list["manifests"][0];
        let md: Descriptor = serde_json::from_value(m.clone()).unwrap();
        let man: Value = serde_json::from_slice(&docker.source.read_small(&md).unwrap()).unwrap();
        assert_eq!(man["config"]["mediaType"], media::DOCKER_CONFIG);
        assert_eq!(man["layers"][0]["mediaType"], media::DOCKER_LAYER_GZIP);
        // Deterministic: again, the same bytes.
        let again = convert(&l, &root, Format::Docker, &[]).unwrap();
        assert_eq!(again.root, docker.root);
        // And back.
        let back = convert(&docker.source, &docker.root, Format::Oci, &[]).unwrap();
        assert_eq!(back.root, root);
        // OCI to OCI: nothing to do, no new document.
        let same = convert(&l, &root, Format::Oci, &[]).unwrap();
        assert_eq!(same.root, root);
        assert!(same.pairs.is_empty());
    }

    #[test]
    fn zstd_and_annotations_are_refused_listing_them() {
        let dir = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(dir.path().join("l")).unwrap();
        let root = image(&l, media::OCI_LAYER_ZSTD, true);
        let e = convert(&l, &root, Format::Docker, &Loss::ALL)
            .err()
            .unwrap();
        assert_eq!(e.kind, crate::error::Kind::Refused);
        assert!(e.to_string().contains("layers[0]: zstd layer"), "{e}");
        let root = image(&l, media::OCI_LAYER_GZIP, true);
        let e = convert(&l, &root, Format::Docker, &[]).err().unwrap();
        assert!(e.to_string().contains("annotations"), "{e}");
        assert!(
            format!("{e:?}").contains("--allow-lossy annotations"),
            "{e:?}"
        );
        let c = convert(&l, &root, Format::Docker, &[Loss::Annotations]).unwrap();
        assert_eq!(c.dropped.len(), 1);
        // Lossy: the way back does not restore the annotation.
        let back = convert(&c.source, &c.root, Format::Oci, &[]).unwrap();
        assert_ne!(back.root.digest, root.digest);
    }

    #[test]
    fn a_format_refusal_is_told_by_status_and_code_only() {
        use crate::error::RegistryCode as C;
        let e = |status, codes: Vec<C>, msg: &str| Error::registry(msg, status, codes);
        assert_eq!(
            refused_format(&e(400, vec![C::ManifestInvalid], "x")).as_deref(),
            Some("HTTP 400 MANIFEST_INVALID")
        );
        assert!(refused_format(&e(400, vec![C::ManifestUnknown], "x")).is_some());
        assert!(refused_format(&e(415, vec![], "x")).is_some());
        assert!(refused_format(&e(400, vec![C::Unsupported], "x")).is_some());
        // Not a format problem: a missing blob, a denial, a server error; the message
        // text is never read.
        assert!(refused_format(&e(400, vec![C::ManifestBlobUnknown], "media type")).is_none());
        assert!(refused_format(&e(403, vec![C::Denied], "MANIFEST_INVALID")).is_none());
        assert!(refused_format(&e(500, vec![C::ManifestInvalid], "x")).is_none());
        assert!(refused_format(&Error::remote("400 MANIFEST_INVALID")).is_none());
        assert_eq!(Format::Auto.for_root(media::OCI_INDEX), Format::Docker);
        assert_eq!(Format::Auto.for_root(media::DOCKER_MANIFEST), Format::Oci);
        assert_eq!(Format::Docker.for_root(media::DOCKER_LIST), Format::Docker);
    }

    #[test]
    fn mixed_children_are_told() {
        let d = |mt: &str| Descriptor::new(mt, &Digest::sha256_of(mt.as_bytes()), 1);
        let oci = d(media::OCI_MANIFEST);
        let docker = d(media::DOCKER_MANIFEST);
        let mixed = mixed_children(media::OCI_INDEX, &[oci.clone(), docker.clone()]).unwrap();
        assert!(mixed.contains("mixes 1 OCI and 1 Docker"), "{mixed}");
        let wrapped = mixed_children(media::OCI_INDEX, std::slice::from_ref(&docker)).unwrap();
        assert!(wrapped.contains("--manifest-format docker"), "{wrapped}");
        let wrapped = mixed_children(media::DOCKER_LIST, std::slice::from_ref(&oci)).unwrap();
        assert!(wrapped.contains("--manifest-format oci"), "{wrapped}");
        assert!(mixed_children(media::OCI_INDEX, &[oci]).is_none());
        assert!(mixed_children(media::DOCKER_LIST, &[docker]).is_none());
        assert!(mixed_children(media::OCI_INDEX, &[]).is_none());
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(dir.path().join("l")).unwrap();
        for v in [
            serde_json::json!([1, 2]),
            serde_json::json!({"schemaVersion": 2, "manifests": 3}),
            serde_json::json!({"schemaVersion": 2, "manifests": [[1, 2]]}),
            serde_json::json!({"schemaVersion": 2, "manifests": [{"digest": "x"}]}),
        ] {
            let (b, d) = put(&l, &v);
            let root = desc(media::OCI_INDEX, &b, &d);
            let e = convert(&l, &root, Format::Docker, &[]).err().unwrap();
            assert_eq!(e.kind, crate::error::Kind::Corrupt, "{v}: {e}");
        }
        let (b, d) = put(
            &l,
            &serde_json::json!({"schemaVersion": 2, "config": 1, "layers": {}}),
        );
        let root = desc(media::OCI_MANIFEST, &b, &d);
        assert!(convert(&l, &root, Format::Docker, &[]).is_err());
    }

    #[test]
    fn missing_media_type_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(dir.path().join("l")).unwrap();
        let (cb, cd) = put(
            &l,
            &serde_json::json!({"architecture":"amd64","os":"linux"}),
        );
        let (mb, md) = put(
            &l,
            &serde_json::json!({"schemaVersion": 2,
                "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": cb.len()},
                "layers": []}),
        );
        let root = desc(media::OCI_MANIFEST, &mb, &md);
        let c = convert(&l, &root, Format::Docker, &[]).unwrap();
        let b = c.source.read_small(&c.root).unwrap();
        assert!(b.ends_with(
            br#""layers":[],"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#
        ));
        let back = convert(&c.source, &c.root, Format::Oci, &[]).unwrap();
        assert_eq!(back.root, root);
        // OCI to OCI: nothing to change, not re-serialized (no mediaType added).
        let same = convert(&l, &root, Format::Oci, &[]).unwrap();
        assert_eq!(same.root, root);
        assert!(same.pairs.is_empty());
        // A Docker document with mediaType in its usual place keeps it.
        let (db, dd) = put(
            &l,
            &serde_json::json!({"schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST,
                "config": {"mediaType": media::DOCKER_CONFIG, "digest": cd.to_string(), "size": cb.len()},
                "layers": []}),
        );
        let d = desc(media::DOCKER_MANIFEST, &db, &dd);
        let o = convert(&l, &d, Format::Oci, &[]).unwrap();
        let ob = o.source.read_small(&o.root).unwrap();
        assert!(ob.starts_with(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config""#
        ));
    }
}
