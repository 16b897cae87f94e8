//! Writing the archive: its members in the sink's order ([`super::MemberOrder`]), every
//! blob verified as it goes in, and `manifest.json` for a docker-loadable archive.

use super::{blob_member, ArchiveSink, Written};
use crate::build::tar_writer::{TarEntry, TarEntryType, TarWriter};
use crate::compress::{pipelined, CompressOptions, Encoder};
use crate::digest::{Digest, Hasher, HashingWriter};
use crate::error::{Error, Result};
use crate::graph::{self, Role};
use crate::model::{self, Descriptor, Index};
use crate::store::Source;
use crate::verify::{self, Expect, VerifyingReader};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::io::{self, Write};

#[derive(Serialize)]
struct DockerEntry<'a> {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<&'a [String]>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

impl ArchiveSink {
    fn manifest_json(&self) -> Result<Option<Vec<u8>>> {
        let docker = self.docker.lock().expect("not poisoned");
        if docker.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for img in docker.iter() {
            let bytes = self.read_small(&img.manifest)?;
            let m: model::Manifest =
                model::parse_json(&bytes, &format!("manifest {}", img.manifest.digest))?;
            let layers = m
                .layers
                .iter()
                .map(|l| l.digest().map(|d| blob_member(&d)))
                .collect::<Result<Vec<_>>>()?;
            out.push(DockerEntry {
                config: blob_member(&m.config.digest()?),
                repo_tags: (!img.repo_tags.is_empty()).then_some(img.repo_tags.as_slice()),
                layers,
            });
        }
        Ok(Some(
            serde_json::to_vec(&out).expect("serializing manifest.json cannot fail"),
        ))
    }

    /// Write the archive to `out` (compressed per `compress`): index.json lists the
    /// entries added, in the order they were added; every blob their graphs reach must
    /// be in the sink.
    pub fn finish<W: Write + Send>(
        self,
        out: W,
        compress: &CompressOptions,
    ) -> Result<(Written, W)> {
        let roots = self.entries.lock().expect("not poisoned").clone();
        let (docs, leaves) = self.blobs_in_order(&roots)?;
        let manifest_json = self.manifest_json()?;
        let counter = HashingWriter::new(out, Hasher::sha256());
        let enc = Encoder::new(counter, compress)?;
        // This thread: tar and blob reads; the other: compression and output.
        let (blob_bytes, enc) = pipelined(enc, |w| {
            let mut tw = TarWriter::new(w);
            self.write_metadata(&mut tw, &roots, manifest_json.as_deref())?;
            self.write_blobs(tw, &docs, &leaves)
        })?;
        let counter = enc.finish().map_err(write_error)?;
        let (out, digest, size) = counter.finish();
        Ok((
            Written {
                blobs: (docs.len() + leaves.len()) as u64,
                blob_bytes,
                digest,
                size,
            },
            out,
        ))
    }

    /// The blobs the graphs of `roots` reach, once each in walk order: the documents
    /// (walk order puts parents first), then configs and layers.
    #[allow(clippy::type_complexity)]
    fn blobs_in_order(
        &self,
        roots: &[Descriptor],
    ) -> Result<(Vec<(Digest, u64)>, Vec<(Digest, u64)>)> {
        let w = graph::walk(self, roots);
        if let Some(p) = w.first_problem() {
            return Err(p
                .to_error(&format!("cannot write {}", self.what))
                .with_hint("the source is incomplete or corrupt; check it with `oix fsck`"));
        }
        let mut seen = HashSet::new();
        let mut docs = Vec::new();
        let mut leaves = Vec::new();
        for n in &w.nodes {
            let Ok(d) = n.descriptor.digest() else {
                continue;
            };
            if n.role == Role::Subject && !self.contains(&d)? {
                continue;
            }
            if !seen.insert(d.clone()) {
                continue;
            }
            let size = n.descriptor.size()?;
            if n.document.is_some() {
                docs.push((d, size));
            } else {
                leaves.push((d, size));
            }
        }
        Ok((docs, leaves))
    }

    /// `oci-layout`, `index.json` (listing `roots`), `manifest.json` when there is one.
    fn write_metadata<W: Write>(
        &self,
        tw: &mut TarWriter<W>,
        roots: &[Descriptor],
        manifest_json: Option<&[u8]>,
    ) -> Result<()> {
        let file = |name: &str, bytes: &[u8]| {
            let mut e = TarEntry::new(name.as_bytes().to_vec(), TarEntryType::File);
            e.size = bytes.len() as u64;
            e
        };
        let layout_header = br#"{"imageLayoutVersion":"1.0.0"}"#;
        tw.append(
            &file("oci-layout", layout_header),
            Some(&mut &layout_header[..]),
        )
        .map_err(write_error)?;
        let idx = Index {
            manifests: roots.to_vec(),
            ..Index::default()
        }
        .to_bytes();
        tw.append(&file("index.json", &idx), Some(&mut &idx[..]))
            .map_err(write_error)?;
        if let Some(m) = manifest_json {
            tw.append(&file("manifest.json", m), Some(&mut &m[..]))
                .map_err(write_error)?;
        }
        Ok(())
    }

    /// `blobs/`, `blobs/<alg>/`, then every blob (documents first), each verified as it
    /// is written; ends the tar. Returns the bytes of blob content written.
    fn write_blobs<W: Write>(
        &self,
        mut tw: TarWriter<W>,
        docs: &[(Digest, u64)],
        leaves: &[(Digest, u64)],
    ) -> Result<u64> {
        tw.append(&TarEntry::new(b"blobs".to_vec(), TarEntryType::Dir), None)
            .map_err(write_error)?;
        let algs: BTreeSet<String> = docs
            .iter()
            .chain(leaves)
            .map(|(d, _)| d.algorithm().as_str().to_string())
            .collect();
        for a in &algs {
            tw.append(
                &TarEntry::new(format!("blobs/{a}").into_bytes(), TarEntryType::Dir),
                None,
            )
            .map_err(write_error)?;
        }
        let mut blob_bytes = 0u64;
        for (d, size) in docs.iter().chain(leaves) {
            let mut e = TarEntry::new(blob_member(d).into_bytes(), TarEntryType::File);
            e.size = *size;
            let reader = self.reader(d, *size)?;
            let expect = Expect::blob(d, *size).hint("the layout is corrupt; run `oix fsck`");
            let mut hr = VerifyingReader::new(reader, expect);
            tw.append(&e, Some(&mut hr))
                .and_then(|()| hr.finish())
                .map_err(|err| {
                    verify::from_io(err, |err| {
                        Error::failure(format!("writing blob {d} into the archive: {err}"))
                    })
                })?;
            blob_bytes += size;
        }
        tw.finish().map_err(write_error)?;
        Ok(blob_bytes)
    }
}

fn write_error(e: io::Error) -> Error {
    Error::from_io(e, |e| Error::failure(format!("writing the archive: {e}")))
}
