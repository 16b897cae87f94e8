//! `oix attach`: writing a new artifact manifest whose subject is in the layout and
//! listing it in the subject's referrers index.

use super::record::{check_tag_free, list_in_fallback};
use super::{fallback_tag, TITLE};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layout::Layout;
use crate::model::{media, Descriptor};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A file to attach and the media type of its layer.
#[derive(Debug, Clone)]
pub struct AttachFile {
    pub path: PathBuf,
    pub media_type: String,
}

impl AttachFile {
    /// `FILE[:MEDIATYPE]`: the part after the last `:` is a media type when it holds a
    /// `/` (so `a:b.txt` is a file name); default `application/octet-stream`.
    pub fn parse(arg: &str) -> AttachFile {
        match arg.rsplit_once(':') {
            Some((path, mt)) if mt.contains('/') && !path.is_empty() => AttachFile {
                path: PathBuf::from(path),
                media_type: mt.to_string(),
            },
            _ => AttachFile {
                path: PathBuf::from(arg),
                media_type: "application/octet-stream".into(),
            },
        }
    }
}

/// What `oix attach` writes.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    pub artifact_type: String,
    pub files: Vec<AttachFile>,
    pub annotations: BTreeMap<String, String>,
}

/// The result of [`attach`].
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    /// The new artifact manifest, as listed in the referrers index.
    pub descriptor: Descriptor,
    pub subject: String,
    /// The referrers index's tag in index.json.
    pub tag: String,
    /// Whether index.json changed (false: the same artifact was attached already).
    pub changed: bool,
}

/// The descriptor grammar's media type rule (image-spec `defs-descriptor.json`).
pub fn valid_media_type(mt: &str) -> bool {
    fn part(p: &str) -> bool {
        let mut cs = p.chars();
        cs.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && p.len() <= 127
            && cs.all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    }
    mt.split_once('/').is_some_and(|(a, b)| part(a) && part(b))
}

/// The image-spec 1.1 artifact manifest `attach` writes (field order fixed, no
/// timestamps: the same inputs give the same bytes).
#[derive(Serialize)]
struct ArtifactManifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    #[serde(rename = "artifactType")]
    artifact_type: &'a str,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Descriptor,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The empty descriptor (image-spec manifest.md): `{}`, size 2, data `e30=`.
pub fn empty_descriptor() -> Descriptor {
    let mut d = Descriptor::new(media::OCI_EMPTY, &Digest::sha256_of(b"{}"), 2);
    d.data = Some("e30=".into());
    d
}

/// Check everything about `a` and `subject` that can be checked before writing.
fn check_attach(layout: &Layout, subject: &Descriptor, a: &Attach) -> Result<Vec<String>> {
    if !(subject.is_manifest() || subject.is_index()) {
        return Err(Error::usage(format!(
            "{} is a {}, not a manifest or index; only those can have referrers",
            subject.digest, subject.media_type
        ))
        .with_hint("name an image or an index as the subject"));
    }
    let sd = subject.digest()?;
    subject.size()?;
    if !layout.has_blob(&sd) {
        return Err(
            Error::not_found(format!("subject {sd} is not in the layout")).with_hint(
                "pull or import the image first; oix attaches only to content the layout holds",
            ),
        );
    }
    if !valid_media_type(&a.artifact_type) {
        return Err(Error::usage(format!(
            "--artifact-type {:?} is not a media type (type/subtype)",
            a.artifact_type
        ))
        .with_hint("e.g. application/spdx+json or application/vnd.example.notes.v1+json"));
    }
    if a.files.is_empty() {
        return Err(Error::usage("attach needs at least one FILE"));
    }
    let mut titles = Vec::new();
    for f in &a.files {
        if !valid_media_type(&f.media_type) {
            return Err(Error::usage(format!(
                "{}: {:?} is not a media type (type/subtype)",
                f.path.display(),
                f.media_type
            ))
            .with_hint("write FILE:MEDIATYPE, e.g. sbom.json:application/spdx+json"));
        }
        let meta = std::fs::metadata(&f.path)
            .at("reading", &f.path)
            .map_err(|e| e.with_hint("name an existing file to attach: FILE or FILE:MEDIATYPE"))?;
        if !meta.is_file() {
            return Err(
                Error::usage(format!("{} is not a regular file", f.path.display()))
                    .with_hint("attach regular files (archive a directory first)"),
            );
        }
        let title = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: the file name is not valid UTF-8",
                    f.path.display()
                ))
            })?
            .to_string();
        if titles.contains(&title) {
            return Err(Error::usage(format!(
                "two files are named {title:?}; each layer's title must be unique"
            )));
        }
        titles.push(title);
    }
    for k in a.annotations.keys() {
        if k.is_empty() {
            return Err(Error::usage("an annotation key is empty").with_hint("write K=V"));
        }
    }
    // An existing name under the referrers tag that is not an index would be replaced.
    let tag = fallback_tag(&sd);
    let (index, _) = layout.read_index()?;
    check_tag_free(&index, &tag)?;
    Ok(titles)
}

/// Write an image-spec 1.1 artifact manifest for `a` with `subject` as its subject, and
/// list it in the subject's referrers index (fallback tag) in one index.json
/// transaction. Every blob is hashed as written; nothing is written when a check fails.
pub fn attach(layout: &Layout, subject: &Descriptor, a: &Attach) -> Result<Attached> {
    let titles = check_attach(layout, subject, a)?;
    let sd = subject.digest()?;
    let mut layers = Vec::with_capacity(a.files.len());
    for (f, title) in a.files.iter().zip(titles) {
        let mut file = std::fs::File::open(&f.path).at("reading", &f.path)?;
        let (d, size) = layout.write_blob(&mut file, None)?;
        let mut l = Descriptor::new(&f.media_type, &d, size);
        l.annotations.insert(TITLE.into(), title);
        layers.push(l);
    }
    let config = empty_descriptor();
    layout.write_blob_bytes(b"{}")?;
    let manifest = ArtifactManifest {
        schema_version: 2,
        media_type: media::OCI_MANIFEST,
        artifact_type: &a.artifact_type,
        config,
        layers,
        subject: Descriptor::new(&subject.media_type, &sd, subject.size()?),
        annotations: &a.annotations,
    };
    let bytes = serde_json::to_vec(&manifest).expect("serializing an artifact manifest");
    let md = layout.write_blob_bytes(&bytes)?;
    let mut descriptor = Descriptor::new(media::OCI_MANIFEST, &md, bytes.len() as u64);
    descriptor.artifact_type = Some(a.artifact_type.clone());
    descriptor.annotations = a.annotations.clone();
    let tag = fallback_tag(&sd);
    let (_, changed) = layout.transact(|idx| list_in_fallback(layout, idx, &sd, &descriptor))?;
    Ok(Attached {
        descriptor,
        subject: sd.to_string(),
        tag,
        changed,
    })
}
