//! [`Registry`] as a store: [`Source`] (verified reads, referrers) and [`Sink`]
//! (uploads, manifests by digest).

use super::download::ResumingReader;
use super::Registry;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::Transfer;
use crate::model::{self, Descriptor};
use crate::store::{Sink, Source};
use crate::verify::{self, Expect};
use std::io::{self, Read};
use std::sync::atomic::Ordering;

impl Source for Registry {
    fn describe(&self) -> String {
        self.reference.repository()
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        let ds = digest.to_string();
        if self.cached(&ds).is_some() {
            return Ok(true);
        }
        // Only manifests and indexes are asked for (by the graph walk): fetch and keep.
        match self.get_manifest(&ds) {
            Ok(_) => Ok(true),
            Err(e) if e.kind == crate::error::Kind::NoMatch => self.has_blob(digest),
            Err(e) => Err(e),
        }
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        self.open_at(desc, 0)
    }
    /// A download from `offset` on: a `Range` request, nothing before it is fetched (a
    /// registry-to-registry upload resumed mid-blob streams only the rest).
    fn open_at(&self, desc: &Descriptor, offset: u64) -> Result<Box<dyn Read + Send + '_>> {
        let d = desc.digest()?;
        Ok(Box::new(ResumingReader {
            registry: self,
            digest: d,
            size: desc.size()?,
            position: offset,
            inner: None,
            failures: 0,
        }))
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        let d = desc.digest()?;
        let size = desc.size()?;
        if size > model::MAX_MANIFEST_SIZE {
            return Err(Error::corrupt(format!(
                "{d}: size {size} exceeds the {} byte limit for documents",
                model::MAX_MANIFEST_SIZE
            )));
        }
        let expect =
            Expect::blob(&d, size).named(format!("{d} from {}", self.reference.repository()));
        let bytes = match self.cached(&d.to_string()) {
            Some(b) => b,
            None if desc.is_manifest() || desc.is_index() => self.get_manifest(&d.to_string())?.1,
            None => verify::read_all(self.open(desc)?, expect.clone()).map_err(|e| {
                verify::from_io(e, |e| {
                    Error::remote(format!("reading blob {}: {e}", self.what(&d)))
                })
            })?,
        };
        verify::verify(&bytes, &expect)?;
        Ok(bytes)
    }
    /// The referrers API where offered, else the fallback tag; plus cosign's tags
    /// ([`super::referrers`]).
    fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        self.referrers_of(&subject.digest()?, &[])
    }
}

impl Sink for Registry {
    fn describe(&self) -> String {
        self.reference.repository()
    }
    fn as_registry(&self) -> Option<&Registry> {
        Some(self)
    }
    fn has(&self, desc: &Descriptor) -> Result<bool> {
        let d = desc.digest()?;
        if desc.is_manifest() || desc.is_index() {
            Ok(self.head_manifest(&d.to_string())?.is_some())
        } else {
            self.has_blob(&d)
        }
    }
    /// A one-shot stream cannot be re-read, so it is read into memory once and retried
    /// from there. The graph copy never comes here: it uses [`Sink::transfer`], which
    /// re-opens the source for each attempt and streams.
    fn put_blob(&self, desc: &Descriptor, reader: &mut dyn Read) -> Result<()> {
        let d = desc.digest()?;
        let expect = Expect::blob(&d, desc.size()?).named(format!("blob {d} to push"));
        let buf = verify::read_all(reader, expect).map_err(|e| {
            verify::from_io(e, |e| {
                Error::remote(format!("reading {}: {e}", desc.digest))
            })
        })?;
        let open = |offset: u64| -> Result<Box<dyn Read + Send + '_>> {
            let start = (offset as usize).min(buf.len());
            Ok(Box::new(io::Cursor::new(&buf[start..])))
        };
        self.upload(desc, &open, None)?;
        self.stats.uploaded.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(desc.size()?, Ordering::Relaxed);
        Ok(())
    }
    fn put_manifest(&self, desc: &Descriptor, bytes: &[u8]) -> Result<()> {
        self.put_manifest_at(&desc.digest()?.to_string(), desc, bytes)
    }
    fn transfer(&self, src: &dyn Source, desc: &Descriptor) -> Result<Transfer> {
        let d = desc.digest()?;
        if self.known_present(&desc.digest) || self.has_blob(&d)? {
            self.stats.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(Transfer::Present);
        }
        let mut session = None;
        for from in &self.mount_from {
            match self.try_mount(&d, from)? {
                Ok(()) => {
                    self.stats.mounted.fetch_add(1, Ordering::Relaxed);
                    return Ok(Transfer::Mount);
                }
                Err(loc) => {
                    if session.is_none() {
                        session = loc;
                    }
                }
            }
        }
        let open = |offset: u64| src.open_at(desc, offset);
        self.upload(desc, &open, session)?;
        self.stats.uploaded.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(desc.size()?, Ordering::Relaxed);
        Ok(Transfer::Copy)
    }
}
