//! The store abstraction: a place that holds content-addressed blobs and manifests.
//!
//! A local layout, an oci-archive and a registry are all stores. Reading goes through
//! [`Source`], writing through [`Sink`]; [`crate::copy::copy_graph`] moves a graph between
//! any two of them, and [`crate::graph::walk`] walks any [`Source`]. Implementations verify
//! what they write: content becomes visible only after its digest and size checked out.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::{Layout, Pending, Presence, Staged, Transfer};
use crate::model::{self, Descriptor};
use std::collections::HashMap;
use std::io::Read;

pub mod open;
pub use open::{open, Access, Connect, Opened, Store, StoreRef, TlsFiles};

/// The read side of a store.
pub trait Source: Sync {
    /// A name for messages (`./out`, `docker://host/repo`).
    fn describe(&self) -> String;
    /// Whether the store holds this blob.
    fn contains(&self, digest: &Digest) -> Result<bool>;
    /// Stream a blob's bytes; the reader yields exactly the stored content (callers verify,
    /// with a [`crate::verify::VerifyingReader`] or through a verifying [`Sink`]).
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>>;
    /// [`Source::open`] from byte `offset` on (a resumed upload goes on from there). The
    /// default reads and discards the first `offset` bytes; layouts seek, registries
    /// ask for a `Range`.
    fn open_at(&self, desc: &Descriptor, offset: u64) -> Result<Box<dyn Read + Send + '_>> {
        let mut r = self.open(desc)?;
        std::io::copy(&mut (&mut r).take(offset), &mut std::io::sink()).map_err(|e| {
            crate::error::Error::remote(format!(
                "reading {} from {}: {e}",
                desc.digest,
                self.describe()
            ))
        })?;
        Ok(r)
    }
    /// A manifest, index or config, read whole and verified (at most 4 MiB).
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>>;
    /// The local layout behind this source, for zero-copy transfers (hard links).
    fn as_layout(&self) -> Option<&Layout> {
        None
    }
    /// The manifests whose `subject` is `subject` (OCI 1.1 referrers). A store that has
    /// no way to know yet answers none.
    fn referrers(&self, _subject: &Descriptor) -> Result<Vec<Descriptor>> {
        Ok(Vec::new())
    }
}

/// Naming: the tags of a store. For a layout these are index.json's ref names; for a
/// registry, the tags of the repository the store was opened on. Copies move content;
/// naming is the separate last step, after everything a name reaches is in the store.
pub trait Names: Source {
    /// Every name the store holds: a layout's in index.json order, a registry's sorted.
    fn list_names(&self) -> Result<Vec<String>>;
    /// What a name (or a digest) points at now; `None` when the store has no such name.
    /// Several entries under one name (a layout may hold them) are an ambiguity error.
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>>;
    /// Point each of `names` at `desc`, whose graph is already in the store; all of
    /// them in one step where the store allows it (a layout: one transaction).
    fn set_names(&self, names: &[String], desc: &Descriptor) -> Result<()>;
    /// Remove names; a name that does not exist is not an error.
    fn remove_names(&self, names: &[String]) -> Result<()>;
}

/// The write side of a store.
pub trait Sink: Sync {
    /// The store as a reference a user would write (for messages).
    fn describe(&self) -> String;
    /// Whether the store already holds this blob (copies skip it).
    fn has(&self, desc: &Descriptor) -> Result<bool>;
    /// Store a blob streamed from `reader`, verified against `desc` before it is visible.
    fn put_blob(&self, desc: &Descriptor, reader: &mut dyn Read) -> Result<()>;
    /// Store a manifest or index with its exact bytes (verified against `desc`).
    fn put_manifest(&self, desc: &Descriptor, bytes: &[u8]) -> Result<()>;
    /// Copy one blob from `src`. The default streams it through [`Sink::put_blob`];
    /// stores override it for faster paths (hard links between layouts, registry mounts).
    fn transfer(&self, src: &dyn Source, desc: &Descriptor) -> Result<Transfer> {
        let mut r = src.open(desc)?;
        self.put_blob(desc, &mut r)?;
        Ok(Transfer::Copy)
    }
    /// The first half of a transfer that is all or nothing where the store allows it:
    /// a layout copying from another layout verifies and stages every blob before
    /// [`Sink::commit`] makes any visible, so a corrupt source changes nothing. The
    /// default transfers at once.
    fn stage(&self, src: &dyn Source, desc: &Descriptor) -> Result<Stage> {
        self.transfer(src, desc).map(Stage::Done)
    }
    /// The registry repository behind this sink, for the runs that need the registry
    /// itself (a registry index edit lists the referrers it carries there:
    /// [`crate::copy::stores::run`]). Other stores answer `None`.
    fn as_registry(&self) -> Option<&crate::registry::remote::Registry> {
        None
    }
    /// Make a staged blob visible.
    fn commit(&self, stage: Stage) -> Result<Transfer> {
        match stage {
            Stage::Done(t) => Ok(t),
            Stage::Pending(_) => Err(crate::error::Error::failure(format!(
                "{}: a staged blob cannot be committed here",
                self.describe()
            ))),
        }
    }
}

/// A blob on its way into a store (see [`Sink::stage`]).
#[derive(Debug)]
pub enum Stage {
    /// Transferred already (or present).
    Done(Transfer),
    /// Verified and waiting in a temp file of the destination layout.
    Pending(Pending),
}

impl Source for Layout {
    fn describe(&self) -> String {
        self.root().display().to_string()
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        Ok(self.has_blob(digest))
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(self.open_blob(&desc.digest()?)?))
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        self.read_blob(desc, model::MAX_MANIFEST_SIZE)
    }
    /// A seek; a blob file whose length is not the descriptor's size is refused.
    fn open_at(&self, desc: &Descriptor, offset: u64) -> Result<Box<dyn Read + Send + '_>> {
        use std::io::Seek;
        let d = desc.digest()?;
        let mut f = self.open_blob(&d)?;
        let len = f
            .metadata()
            .map_err(|e| crate::error::Error::io("reading", &self.blob_path(&d), e))?
            .len();
        if len != desc.size()? {
            return Err(crate::error::Error::corrupt(format!(
                "blob {d} in {} is {len} bytes, its descriptor says {}",
                self.root().display(),
                desc.size
            ))
            .with_hint("the layout is corrupt; run `oix fsck`"));
        }
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| crate::error::Error::io("seeking in", &self.blob_path(&d), e))?;
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))
    }
    fn as_layout(&self) -> Option<&Layout> {
        Some(self)
    }
    /// The direct referrers of `subject`, however the layout lists them
    /// ([`crate::referrers`]). Each call scans the layout: code asking for many subjects
    /// should take one [`crate::referrers::scan`] (or `referrers_of`, recursive).
    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let s = crate::referrers::scan(self, true)?;
        Ok(s.direct(&subject.digest)
            .iter()
            .map(|r| r.descriptor.clone())
            .collect())
    }
}

impl Sink for Layout {
    fn describe(&self) -> String {
        self.root().display().to_string()
    }
    fn has(&self, desc: &Descriptor) -> Result<bool> {
        // Asked by writers deciding to skip a blob: hold the gc fence from here on.
        self.enter_writer()?;
        // Present means intact: a file that only has the name (truncated, another
        // user's, replaced) is written over by the verified content instead.
        let state = self.check_present(&desc.digest()?, desc.size()?)?;
        Ok(state == Presence::Intact)
    }
    fn put_blob(&self, desc: &Descriptor, reader: &mut dyn Read) -> Result<()> {
        let d = desc.digest()?;
        self.write_blob(reader, Some((&d, desc.size()?)))?;
        Ok(())
    }
    fn put_manifest(&self, desc: &Descriptor, bytes: &[u8]) -> Result<()> {
        self.put_blob(desc, &mut &bytes[..])
    }
    fn stage(&self, src: &dyn Source, desc: &Descriptor) -> Result<Stage> {
        match src.as_layout() {
            Some(l) => Ok(match self.stage_blob(l, desc)? {
                Staged::Present => Stage::Done(Transfer::Present),
                Staged::Pending(p) => Stage::Pending(p),
            }),
            None => self.transfer(src, desc).map(Stage::Done),
        }
    }
    fn commit(&self, stage: Stage) -> Result<Transfer> {
        match stage {
            Stage::Done(t) => Ok(t),
            Stage::Pending(p) => self.commit_staged(p),
        }
    }
    fn transfer(&self, src: &dyn Source, desc: &Descriptor) -> Result<Transfer> {
        match src.as_layout() {
            Some(l) => self.import_blob(l, desc),
            None => {
                if self.has(desc)? {
                    return Ok(Transfer::Present);
                }
                let mut r = src.open(desc)?;
                self.put_blob(desc, &mut r)?;
                Ok(Transfer::Copy)
            }
        }
    }
}

impl Names for Layout {
    fn list_names(&self) -> Result<Vec<String>> {
        let (index, _) = self.read_index()?;
        Ok(crate::resolve::ref_names(&index))
    }
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>> {
        // A digest oix can verify; `NAME:TAG` also parses as a digest (of algorithm
        // NAME), and is a name.
        if let Some(d) = crate::digest::Digest::parse(name)
            .ok()
            .filter(|d| d.is_verifiable())
        {
            return Ok(crate::resolve::stored_document(self, &d));
        }
        let (index, _) = self.read_index()?;
        let hits: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| d.ref_name() == Some(name))
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => {
                let mut d = (*one).clone();
                d.annotations.remove(model::annotation::REF_NAME);
                Ok(Some(d))
            }
            many => Err(crate::error::Error::ambiguous(format!(
                "{}: {} entries are named {name:?}",
                self.root().display(),
                many.len()
            ))
            .with_hint("name one of them by digest (LAYOUT@sha256:...)")),
        }
    }
    fn set_names(&self, names: &[String], desc: &Descriptor) -> Result<()> {
        let mut entry = desc.clone();
        entry.annotations.remove(model::annotation::REF_NAME);
        crate::tags::tag(self, &entry, names).map(|_| ())
    }
    fn remove_names(&self, names: &[String]) -> Result<()> {
        crate::tags::untag(self, names, true).map(|_| ())
    }
}

/// A [`Source`] plus documents oix created for one operation (rewritten indexes of a
/// platform subset, converted manifests), held in memory. Reads of those digests are
/// answered from memory, everything else from the base store; the base is never written.
pub struct Overlay<'a> {
    base: &'a dyn Source,
    extra: HashMap<String, Vec<u8>>,
    /// Blobs oix created in temp files (recompressed layers), with their sizes; the
    /// files go when the overlay does.
    files: HashMap<String, (tempfile::TempPath, u64)>,
}

impl<'a> Overlay<'a> {
    /// An overlay over `base` with no documents of its own yet.
    pub fn new(base: &'a dyn Source) -> Self {
        Overlay {
            base,
            extra: HashMap::new(),
            files: HashMap::new(),
        }
    }
    /// Add a blob oix wrote to a temp file, hashed as `digest` while it was written.
    pub fn add_file(&mut self, digest: &Digest, size: u64, path: tempfile::TempPath) {
        self.files.insert(digest.to_string(), (path, size));
    }
    fn open_file(
        &self,
        desc: &Descriptor,
        offset: u64,
    ) -> Option<Result<Box<dyn Read + Send + '_>>> {
        use std::io::Seek;
        let (path, _) = self.files.get(&desc.digest)?;
        Some((|| {
            let mut f = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
            f.seek(std::io::SeekFrom::Start(offset))
                .map_err(|e| Error::io("seeking in", path, e))?;
            Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)) as Box<dyn Read + Send>)
        })())
    }
    /// Add bytes oix created; returns their sha256 digest.
    pub fn add(&mut self, bytes: Vec<u8>) -> Digest {
        let d = Digest::sha256_of(&bytes);
        self.extra.insert(d.to_string(), bytes);
        d
    }
    /// The bytes of a document this overlay holds (not the base's).
    pub fn created(&self, digest: &str) -> Option<&[u8]> {
        self.extra.get(digest).map(Vec::as_slice)
    }
}

impl Source for Overlay<'_> {
    fn describe(&self) -> String {
        self.base.describe()
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        let key = digest.to_string();
        if self.extra.contains_key(&key) || self.files.contains_key(&key) {
            return Ok(true);
        }
        self.base.contains(digest)
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        if let Some(r) = self.open_file(desc, 0) {
            return r;
        }
        match self.extra.get(&desc.digest) {
            Some(b) => Ok(Box::new(std::io::Cursor::new(b.as_slice()))),
            None => self.base.open(desc),
        }
    }
    fn open_at(&self, desc: &Descriptor, offset: u64) -> Result<Box<dyn Read + Send + '_>> {
        if let Some(r) = self.open_file(desc, offset) {
            return r;
        }
        match self.extra.get(&desc.digest) {
            Some(b) => {
                let start = (offset as usize).min(b.len());
                Ok(Box::new(std::io::Cursor::new(&b[start..])))
            }
            None => self.base.open_at(desc, offset),
        }
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        match self.extra.get(&desc.digest) {
            Some(b) if b.len() as i64 == desc.size => Ok(b.clone()),
            Some(_) => Err(Error::corrupt(format!(
                "{}: size does not match its descriptor",
                desc.digest
            ))),
            None => self.base.read_small(desc),
        }
    }
    /// The base layout, for hard links, unless the overlay holds blobs in files: then
    /// every blob is streamed (a layout sink would look for those in the base).
    fn as_layout(&self) -> Option<&Layout> {
        if self.files.is_empty() {
            self.base.as_layout()
        } else {
            None
        }
    }
    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        self.base.referrers(subject)
    }
}
