//! The oci-archive (and the docker-loadable archive) as a write store.
//!
//! An archive is one tar stream, and its bytes must depend only on its content, while
//! [`crate::copy::copy_graph`] puts leaves in parallel, in whatever order they finish,
//! and documents children first. So the sink does not write as blobs arrive: it records
//! where each blob's bytes are (a blob file of a local layout, by path: nothing is copied
//! twice; a document, in memory; anything else, spooled to an anonymous temp file), and
//! [`ArchiveSink::finish`] writes the tar in the sink's member order, verifying every
//! blob (digest and size) as it goes into the archive.
//!
//! The member order ([`MemberOrder::DocumentsFirst`], the only one so far) is
//! `oci-layout`, `index.json`, then `manifest.json` for a docker-loadable archive, then
//! `blobs/`, `blobs/<alg>/`, then manifests and indexes in walk order from the archive's
//! index.json (parents before children, so an importer knows every size before the bytes
//! arrive), then configs and layers in walk order; mtime 0, uid/gid 0, modes 0644/0755, no
//! user or group names. Same content, same names, same options: same archive bytes.
//!
//! Naming is the archive's index.json (and manifest.json): entries added with
//! [`ArchiveSink::add_entry`] or [`Names::set_names`], written at finish.

mod file;
mod members;

pub use file::{write_atomically, ArchiveFile, TempOut, ARCHIVE_TEMP};

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layout::Transfer;
use crate::model::{self, annotation, Descriptor};
use crate::store::{Names, Sink, Source};
use crate::verify::{self, Expect, VerifyingReader};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
/// The order of an archive's members (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MemberOrder {
    /// `oci-layout`, `index.json`, (`manifest.json`), documents parents first, then
    /// configs and layers, all in walk order from index.json.
    #[default]
    DocumentsFirst,
}

/// One image of a docker-loadable archive's `manifest.json` (Docker's `docker save`
/// format: read by `docker load` of any version, `podman load`, skopeo's
/// `docker-archive:`).
#[derive(Debug, Clone)]
pub struct DockerImage {
    /// The image manifest whose config and layers the entry lists.
    pub manifest: Descriptor,
    /// `RepoTags` (`REPO:TAG`, as given); empty: the image loads untagged.
    pub repo_tags: Vec<String>,
}

/// Where the bytes of a blob of the archive are until [`ArchiveSink::finish`].
enum Held {
    /// A blob file of a local layout (verified when it is written into the archive).
    File(PathBuf),
    /// A document (verified on arrival).
    Bytes(Vec<u8>),
    /// Streamed from another store into an anonymous temp file (verified on arrival).
    Spooled(File),
}

/// What [`ArchiveSink::finish`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// Blobs in the archive.
    pub blobs: u64,
    /// Bytes of blob content (before compression).
    pub blob_bytes: u64,
    /// sha256 and size of the archive stream as written.
    pub digest: Digest,
    pub size: u64,
}

/// An oci-archive being written: a [`Sink`] for [`crate::copy::copy_graph`] and
/// [`Names`] for its index.json; nothing is written before [`ArchiveSink::finish`].
pub struct ArchiveSink {
    what: String,
    order: MemberOrder,
    spool_dir: PathBuf,
    held: Mutex<HashMap<String, (u64, Held)>>,
    entries: Mutex<Vec<Descriptor>>,
    docker: Mutex<Vec<DockerImage>>,
}

fn blob_member(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_str(), d.encoded())
}

impl ArchiveSink {
    /// An empty archive named `what` in messages; blobs that must be spooled go to
    /// anonymous temp files in `spool_dir` (put it on the output's filesystem).
    pub fn new(what: impl Into<String>, spool_dir: &Path) -> ArchiveSink {
        ArchiveSink {
            what: what.into(),
            order: MemberOrder::default(),
            spool_dir: spool_dir.to_path_buf(),
            held: Mutex::new(HashMap::new()),
            entries: Mutex::new(Vec::new()),
            docker: Mutex::new(Vec::new()),
        }
    }

    pub fn order(&self) -> MemberOrder {
        self.order
    }

    /// Add `desc` to the archive's index.json exactly as given (annotations, platform
    /// and ref name kept); its graph must be in the sink by [`ArchiveSink::finish`].
    pub fn add_entry(&self, desc: &Descriptor) {
        self.entries
            .lock()
            .expect("not poisoned")
            .push(desc.clone());
    }

    /// Make the archive docker-loadable: list `image` in `manifest.json`.
    pub fn add_docker_image(&self, image: DockerImage) {
        self.docker.lock().expect("not poisoned").push(image);
    }

    fn hold(&self, desc: &Descriptor, h: Held) -> Result<()> {
        self.held
            .lock()
            .expect("not poisoned")
            .insert(desc.digest.clone(), (desc.size()?, h));
        Ok(())
    }

    /// The bytes of a held blob, its length checked against `size` first.
    fn reader(&self, d: &Digest, size: u64) -> Result<Box<dyn Read + Send + '_>> {
        let held = self.held.lock().expect("not poisoned");
        let Some((_, h)) = held.get(&d.to_string()) else {
            return Err(Error::not_found(format!(
                "{}: blob {d} was never put into the archive",
                self.what
            )));
        };
        Ok(match h {
            Held::Bytes(b) => Box::new(io::Cursor::new(b.clone())),
            Held::File(path) => {
                let f = File::open(path).at("opening", path)?;
                let len = f.metadata().at("reading", path)?.len();
                if len != size {
                    return Err(Error::corrupt(format!(
                        "blob {d} is {len} bytes, its descriptor says {size}"
                    ))
                    .with_hint("the layout is corrupt; run `oix fsck`"));
                }
                Box::new(f)
            }
            Held::Spooled(f) => {
                let mut f = f.try_clone().at("reading", &self.spool_dir)?;
                f.rewind().at("reading", &self.spool_dir)?;
                Box::new(f)
            }
        })
    }
}

impl Source for ArchiveSink {
    fn describe(&self) -> String {
        self.what.clone()
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        Ok(self
            .held
            .lock()
            .expect("not poisoned")
            .contains_key(&digest.to_string()))
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        self.reader(&desc.digest()?, desc.size()?)
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        let size = desc.size()?;
        if size > model::MAX_MANIFEST_SIZE {
            return Err(Error::corrupt(format!(
                "{}: {} is {size} bytes, more than a document may be",
                self.what, desc.digest
            )));
        }
        let d = desc.digest()?;
        let r = self.reader(&d, size)?;
        verify::read_all(r, Expect::blob(&d, size))
            .map_err(|e| verify::from_io(e, |e| Error::failure(format!("reading {d}: {e}"))))
    }
}

impl Sink for ArchiveSink {
    fn describe(&self) -> String {
        self.what.clone()
    }
    fn has(&self, desc: &Descriptor) -> Result<bool> {
        self.contains(&desc.digest()?)
    }
    fn put_blob(&self, desc: &Descriptor, reader: &mut dyn Read) -> Result<()> {
        let d = desc.digest()?;
        let mut f = tempfile::tempfile_in(&self.spool_dir)
            .at("creating a temp file in", &self.spool_dir)?;
        let mut vr = VerifyingReader::new(reader, Expect::blob(&d, desc.size()?));
        io::copy(&mut vr, &mut f)
            .and_then(|_| vr.finish())
            .map_err(|e| {
                verify::from_io(e, |e| Error::failure(format!("spooling blob {d}: {e}")))
            })?;
        self.hold(desc, Held::Spooled(f))
    }
    fn put_manifest(&self, desc: &Descriptor, bytes: &[u8]) -> Result<()> {
        let d = desc.digest()?;
        verify::verify(bytes, &Expect::blob(&d, desc.size()?))
            .map_err(|m| Error::corrupt(format!("{}: document {d} {}", self.what, m.detail())))?;
        self.hold(desc, Held::Bytes(bytes.to_vec()))
    }
    fn transfer(&self, src: &dyn Source, desc: &Descriptor) -> Result<Transfer> {
        if self.has(desc)? {
            return Ok(Transfer::Present);
        }
        let d = desc.digest()?;
        // A local layout's blob file is read once, when the archive is written.
        if let Some(l) = src.as_layout().filter(|l| l.has_blob(&d)) {
            self.hold(desc, Held::File(l.blob_path(&d)))?;
            return Ok(Transfer::Copy);
        }
        let mut r = src.open(desc)?;
        self.put_blob(desc, &mut r)?;
        Ok(Transfer::Copy)
    }
}

impl Names for ArchiveSink {
    fn list_names(&self) -> Result<Vec<String>> {
        let entries = self.entries.lock().expect("not poisoned");
        Ok(entries
            .iter()
            .filter_map(|d| d.ref_name().map(str::to_string))
            .collect())
    }
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>> {
        let entries = self.entries.lock().expect("not poisoned");
        Ok(entries
            .iter()
            .find(|d| d.ref_name() == Some(name))
            .map(|d| {
                let mut d = d.clone();
                d.annotations.remove(annotation::REF_NAME);
                d
            }))
    }
    fn set_names(&self, names: &[String], desc: &Descriptor) -> Result<()> {
        self.remove_names(names)?;
        for n in names {
            let mut d = desc.clone();
            d.annotations
                .insert(annotation::REF_NAME.to_string(), n.clone());
            self.add_entry(&d);
        }
        Ok(())
    }
    fn remove_names(&self, names: &[String]) -> Result<()> {
        self.entries
            .lock()
            .expect("not poisoned")
            .retain(|d| !d.ref_name().is_some_and(|n| names.iter().any(|x| x == n)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::CompressOptions;
    use crate::model::media;

    #[test]
    fn names_and_verified_puts() {
        let t = tempfile::tempdir().unwrap();
        let sink = ArchiveSink::new("test archive", t.path());
        let doc = br#"{"schemaVersion":2,"manifests":[]}"#;
        let d = Descriptor::new(media::OCI_INDEX, &Digest::sha256_of(doc), doc.len() as u64);
        // A document whose bytes do not match its descriptor is refused.
        let wrong = Descriptor::new(media::OCI_INDEX, &Digest::sha256_of(b"x"), doc.len() as u64);
        assert!(sink.put_manifest(&wrong, doc).is_err());
        assert!(!Sink::has(&sink, &wrong).unwrap());
        // A blob streamed from elsewhere is spooled and verified.
        let blob = b"layer bytes";
        let b = Descriptor::new(
            media::OCI_LAYER_TAR,
            &Digest::sha256_of(blob),
            blob.len() as u64,
        );
        assert!(sink.put_blob(&b, &mut &b"other bytes"[..]).is_err());
        sink.put_blob(&b, &mut &blob[..]).unwrap();
        sink.put_manifest(&d, doc).unwrap();
        assert_eq!(sink.read_small(&d).unwrap(), doc);
        // Naming is the archive's index.json.
        sink.set_names(&["a".into(), "b".into()], &d).unwrap();
        assert_eq!(sink.list_names().unwrap(), ["a", "b"]);
        assert_eq!(sink.resolve_name("a").unwrap().unwrap().digest, d.digest);
        sink.remove_names(&["a".into()]).unwrap();
        assert_eq!(sink.list_names().unwrap(), ["b"]);
        let (w, out) = sink
            .finish(
                Vec::new(),
                &CompressOptions::new(crate::compress::Compression::None),
            )
            .unwrap();
        assert_eq!(w.blobs, 1, "only what index.json reaches");
        assert_eq!(w.size, out.len() as u64);
    }
}
