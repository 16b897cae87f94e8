//! [`Registry`]: one repository of an OCI distribution registry as a [`Source`] and a
//! [`Sink`], so [`crate::copy::copy_graph`] pushes (layout → registry) and pulls
//! (registry → layout) with the same algorithm as every other copy.
//!
//! Writing: [`Sink::transfer`] HEADs the blob and skips it when present, tries a
//! cross-repository mount from each `--mount-from` repository, and otherwise uploads:
//! monolithic (POST, then one PUT with the body) up to the chunk size, chunked (PATCH per
//! chunk, then PUT) above it. After a dropped connection a chunked upload asks the
//! upload location for its status (GET → 204 + Range) and goes on from there; when the
//! registry cannot resume (distribution 2.8 cancels an upload whose stored size differs
//! from its state token), the blob starts over. Manifests go up with their exact bytes
//! and media type, and the registry's `Docker-Content-Digest` must equal ours.
//!
//! Reading: manifests are fetched with all four manifest types in `Accept` and verified;
//! blobs stream, and a dropped download resumes with a `Range` request.

use super::client::{drain, response_error, Client, HttpResponse, TransportOptions};
use super::reference::RegistryRef;
use crate::digest::Digest;
use crate::error::{Error, RegistryCode, Result};
use crate::layout::Transfer;
use crate::model::{self, media, Descriptor};
use crate::store::{Sink, Source};
use crate::verify::{self, Expect};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use ureq::http::Method;

mod names;
pub mod referrers;
mod upload;

/// Every manifest type oix handles, for `Accept`.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Default size of one PATCH; blobs up to this size go up in one PUT. Large: against
/// distribution 2.8 a monolithic PUT of a 128 MiB layer is measurably faster than two
/// PATCHes, and that registry cannot resume a chunk cut mid-way anyway (the blob
/// restarts), so chunking only pays for very large blobs.
pub const DEFAULT_CHUNK_SIZE: u64 = 256 * 1024 * 1024;

/// Byte-level progress of blob transfers (the CLI draws bars from it).
pub trait Progress: Send + Sync {
    fn blob_start(&self, digest: &str, size: u64);
    /// Bytes of this blob transferred so far (may go back after a restart).
    fn blob_position(&self, digest: &str, position: u64);
    fn blob_done(&self, digest: &str);
}

/// Counters of what the registry store did.
#[derive(Debug, Default)]
pub struct Stats {
    pub uploaded: AtomicU64,
    pub skipped: AtomicU64,
    pub mounted: AtomicU64,
    pub bytes: AtomicU64,
    /// Uploads that went on from the registry's upload status after a failure.
    pub resumed: AtomicU64,
    /// Uploads started over in a new session after a failure.
    pub restarted: AtomicU64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub uploaded: u64,
    pub skipped: u64,
    pub mounted: u64,
    pub bytes: u64,
    pub resumed: u64,
    pub restarted: u64,
}

#[derive(Clone)]
pub struct RegistryOptions {
    pub transport: TransportOptions,
    /// Repositories on the same registry to mount blobs from.
    pub mount_from: Vec<String>,
    pub chunk_size: u64,
    /// Parallel workers that will share this store (sizes the connection pool).
    pub jobs: usize,
    /// Whether the job writes (token scope `push`).
    pub push: bool,
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            transport: TransportOptions::new(),
            mount_from: Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            jobs: 4,
            push: false,
            progress: None,
        }
    }
}

pub struct Registry {
    pub client: Client,
    pub reference: RegistryRef,
    mount_from: Vec<String>,
    chunk_size: u64,
    progress: Option<Arc<dyn Progress>>,
    pub stats: Stats,
    /// Manifests fetched so far, by digest (verified).
    manifests: Mutex<HashMap<String, Vec<u8>>>,
    /// Blobs a HEAD found present (filled by [`Registry::prefetch_blobs`]).
    present: Mutex<std::collections::HashSet<String>>,
    /// What this run learned about the repository's referrers: whether the registry
    /// offers the referrers API, its tags, the `OCI-Subject` answers ([`referrers`]).
    referrers: referrers::State,
}

fn header<'a>(resp: &'a HttpResponse, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn with_query(url: &str, q: &str) -> String {
    if url.contains('?') {
        format!("{url}&{q}")
    } else {
        format!("{url}?{q}")
    }
}

/// How many bytes an upload holds, from its `Range: 0-N` (or `bytes=0-N`) header:
/// N+1, except that distribution answers `0-0` both for an empty upload and for one
/// holding exactly one byte. `at_least` (what the registry is known to hold: the end
/// of a chunk it just accepted, or the offset it last confirmed) settles that case.
fn parse_range_end(v: &str, at_least: u64) -> Option<u64> {
    let v = v.trim().trim_start_matches("bytes=");
    let (a, b) = v.split_once('-')?;
    let _: u64 = a.trim().parse().ok()?;
    match b.trim().parse::<u64>().ok()? {
        0 if at_least == 0 => Some(0),
        n => n.checked_add(1),
    }
}

impl Registry {
    pub fn new(reference: &RegistryRef, opts: &RegistryOptions) -> Result<Registry> {
        let actions = if opts.push { "pull,push" } else { "pull" };
        let mut scopes = vec![format!("repository:{}:{actions}", reference.repo)];
        for m in &opts.mount_from {
            super::reference::validate_repo(m).map_err(|e| e.context("--mount-from"))?;
            scopes.push(format!("repository:{m}:pull"));
        }
        let client = Client::new(
            reference.api_host(),
            &reference.host,
            &reference.repo,
            scopes,
            &opts.transport,
            opts.jobs,
        )?;
        Ok(Registry {
            client,
            reference: reference.clone(),
            mount_from: opts.mount_from.clone(),
            chunk_size: opts.chunk_size.max(1),
            progress: opts.progress.clone(),
            stats: Stats::default(),
            manifests: Mutex::new(HashMap::new()),
            present: Mutex::new(std::collections::HashSet::new()),
            referrers: referrers::State::new(opts.jobs),
        })
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            uploaded: self.stats.uploaded.load(Ordering::Relaxed),
            skipped: self.stats.skipped.load(Ordering::Relaxed),
            mounted: self.stats.mounted.load(Ordering::Relaxed),
            bytes: self.stats.bytes.load(Ordering::Relaxed),
            resumed: self.stats.resumed.load(Ordering::Relaxed),
            restarted: self.stats.restarted.load(Ordering::Relaxed),
        }
    }

    fn what(&self, d: &Digest) -> String {
        format!("{} {d}", self.reference.repository())
    }

    /// HEAD a blob: present or not.
    pub fn has_blob(&self, d: &Digest) -> Result<bool> {
        let mut resp = self.client.send(
            Method::HEAD,
            &self.client.url(&format!("blobs/{d}")),
            &[],
            None,
        )?;
        drain(&mut resp);
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(response_error(
                &mut resp,
                &format!("HEAD blob {}", self.what(d)),
            )),
        }
    }

    /// HEAD many blobs at once on `threads` connections (HEADs are cheap, so wider than
    /// the upload jobs) and remember which are present; [`Sink::transfer`] then skips
    /// them without asking again.
    pub fn prefetch_blobs(&self, descs: &[Descriptor], threads: usize) -> Result<()> {
        use rayon::prelude::*;
        let found: Vec<String> = crate::pool::install(threads, || {
            descs
                .par_iter()
                .map(|d| -> Result<Option<String>> {
                    Ok(self.has_blob(&d.digest()?)?.then(|| d.digest.clone()))
                })
                .collect::<Result<Vec<_>>>()
        })??
        .into_iter()
        .flatten()
        .collect();
        self.present
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(found);
        Ok(())
    }

    fn known_present(&self, digest: &str) -> bool {
        self.present
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(digest)
    }

    /// HEAD a manifest by digest or tag; its digest when present (see
    /// [`Registry::resolve_manifest`]).
    pub fn head_manifest(&self, reference: &str) -> Result<Option<String>> {
        Ok(self.resolve_manifest(reference)?.map(|d| d.digest))
    }

    /// GET a manifest by tag or digest: its descriptor (media type from the response,
    /// digest computed from the bytes and checked against the registry's) and bytes.
    pub fn get_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>)> {
        let what = format!("{}:{reference}", self.reference.repository());
        let mut resp = self.client.send(
            Method::GET,
            &self.client.url(&format!("manifests/{reference}")),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
        )?;
        match resp.status().as_u16() {
            200 => {}
            404 => {
                return Err(Error::no_match(format!("{what}: no such manifest"))
                    .with_hint("check the tag or digest (skopeo list-tags shows the tags)"))
            }
            _ => return Err(response_error(&mut resp, &format!("GET manifest {what}"))),
        }
        let content_type = header(&resp, "content-type")
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_string());
        let claimed = header(&resp, "docker-content-digest").map(str::to_string);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(model::MAX_MANIFEST_SIZE)
            .read_to_vec()
            .map_err(|e| Error::remote(format!("reading manifest {what}: {e}")))?;
        let digest = match Digest::parse(reference) {
            Ok(want) => {
                let expect = Expect::new(&want, None)
                    .named(format!("manifest {what} as the registry sent it"))
                    .require_verifiable()?;
                verify::verify(&bytes, &expect)?;
                want
            }
            Err(_) => Digest::sha256_of(&bytes),
        };
        if let Some(c) = claimed.as_deref().and_then(|c| Digest::parse(c).ok()) {
            if c.algorithm() == digest.algorithm() && c != digest {
                return Err(Error::corrupt(format!(
                    "{what}: Docker-Content-Digest says {c} but the content hashes to {digest}"
                )));
            }
        }
        let declared: Option<String> = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string));
        let media_type = match (declared, content_type) {
            (Some(d), _) => d,
            (None, Some(c)) if media::is_index(&c) || media::is_manifest(&c) => c,
            (None, _) => {
                return Err(Error::corrupt(format!(
                    "{what}: cannot tell the manifest's media type (no mediaType field, Content-Type not a manifest type)"
                )))
            }
        };
        let desc = Descriptor::new(&media_type, &digest, bytes.len() as u64);
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.to_string(), bytes.clone());
        Ok((desc, bytes))
    }

    /// PUT a manifest under `reference` (its digest or a tag), exact bytes, and check the
    /// digest the registry computed.
    pub fn put_manifest_at(&self, reference: &str, desc: &Descriptor, bytes: &[u8]) -> Result<()> {
        let d = desc.digest()?;
        let what = format!("PUT manifest {}:{reference}", self.reference.repository());
        let mut resp = self.client.send(
            Method::PUT,
            &self.client.url(&format!("manifests/{reference}")),
            &[("Content-Type", desc.media_type.as_str())],
            Some(bytes),
        )?;
        if resp.status().as_u16() != 201 && !resp.status().is_success() {
            let mut e = response_error(&mut resp, &what);
            if e.has_registry_code(&RegistryCode::ManifestBlobUnknown) {
                e = e.with_hint("the registry misses a blob the manifest references");
            }
            return Err(e);
        }
        let claimed = header(&resp, "docker-content-digest").map(str::to_string);
        self.referrers
            .put_answered(reference, &d, header(&resp, "oci-subject"));
        drain(&mut resp);
        if let Some(c) = claimed {
            if c != d.to_string() {
                return Err(Error::remote(format!(
                    "{what}: the registry stored it as {c}, not {d}"
                ))
                .with_hint("the registry changed the manifest; it must store the exact bytes"));
            }
        }
        // Naming it again (another tag) then needs no GET.
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(d.to_string(), bytes.to_vec());
        Ok(())
    }

    fn progress_reader<'r>(
        &'r self,
        inner: Box<dyn Read + Send + 'r>,
        digest: &str,
        start: u64,
    ) -> ProgressReader<'r> {
        if let Some(p) = &self.progress {
            p.blob_position(digest, start);
        }
        ProgressReader {
            inner,
            progress: self.progress.as_deref(),
            digest: digest.to_string(),
            position: start,
        }
    }

    fn cached(&self, digest: &str) -> Option<Vec<u8>> {
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
            .cloned()
    }

    /// GET a blob (following redirects), starting at `offset`.
    fn get_blob(&self, d: &Digest, offset: u64) -> Result<HttpResponse> {
        let url = self.client.url(&format!("blobs/{d}"));
        let range = format!("bytes={offset}-");
        let headers: Vec<(&str, &str)> = if offset > 0 {
            vec![("Range", range.as_str())]
        } else {
            vec![]
        };
        let mut resp = self.client.send(Method::GET, &url, &headers, None)?;
        match resp.status().as_u16() {
            200 | 206 => Ok(resp),
            404 => Err(Error::not_found(format!(
                "blob {} is not in the registry",
                self.what(d)
            ))),
            _ => Err(response_error(
                &mut resp,
                &format!("GET blob {}", self.what(d)),
            )),
        }
    }
}

/// Counts bytes read and reports them.
struct ProgressReader<'a> {
    inner: Box<dyn Read + Send + 'a>,
    progress: Option<&'a dyn Progress>,
    digest: String,
    position: u64,
}

impl Read for ProgressReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        if let Some(p) = self.progress {
            p.blob_position(&self.digest, self.position);
        }
        Ok(n)
    }
}

/// A blob download that re-requests the rest (`Range`) after a dropped connection.
struct ResumingReader<'a> {
    registry: &'a Registry,
    digest: Digest,
    size: u64,
    position: u64,
    inner: Option<ureq::BodyReader<'static>>,
    failures: u32,
}

impl Read for ResumingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.position >= self.size {
                // Let the caller see any extra bytes (it verifies the size).
                return match self.inner.as_mut() {
                    Some(r) => r.read(buf),
                    None => Ok(0),
                };
            }
            if self.inner.is_none() {
                let resp = self
                    .registry
                    .get_blob(&self.digest, self.position)
                    .map_err(|e| io::Error::other(e.message))?;
                let status = resp.status().as_u16();
                let mut r = resp.into_body().into_reader();
                if status == 200 && self.position > 0 {
                    // The server ignored Range: skip what we already have.
                    io::copy(&mut (&mut r).take(self.position), &mut io::sink())?;
                }
                self.inner = Some(r);
            }
            let r = self.inner.as_mut().expect("set above");
            match r.read(buf) {
                Ok(n) if n > 0 => {
                    self.position += n as u64;
                    if let Some(p) = &self.registry.progress {
                        p.blob_position(&self.digest.to_string(), self.position);
                    }
                    return Ok(n);
                }
                Ok(_) | Err(_) if self.failures < self.registry.client.retries() => {
                    self.failures += 1;
                    self.registry.client.retried.fetch_add(1, Ordering::Relaxed);
                    self.inner = None;
                    std::thread::sleep(std::time::Duration::from_millis(
                        200 * self.failures as u64,
                    ));
                }
                Ok(n) => return Ok(n),
                Err(e) => return Err(self.explain(e)),
            }
        }
    }
}

impl ResumingReader<'_> {
    /// Say what a read that timed out was waiting for.
    fn explain(&self, e: io::Error) -> io::Error {
        let timed_out = e.kind() == io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|i| i.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if !timed_out {
            return e;
        }
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "timed out: {} sent nothing for {} s at byte {} of {} (see --timeout)",
                self.registry.reference.api_host(),
                self.registry.client.idle_timeout().as_secs_f64(),
                self.position,
                self.size
            ),
        )
    }
}

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
    /// ([`referrers`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_queries() {
        assert_eq!(parse_range_end("0-1023", 0), Some(1024));
        // distribution: `0-0` after nothing and after one byte.
        assert_eq!(parse_range_end("bytes=0-0", 0), Some(0));
        assert_eq!(parse_range_end("0-0", 1), Some(1));
        assert_eq!(parse_range_end("0-1", 1), Some(2));
        assert_eq!(parse_range_end("0-1", 0), Some(2));
        assert_eq!(parse_range_end("junk", 0), None);
        assert_eq!(
            with_query("/v2/x/blobs/uploads/u?_state=a", "digest=d"),
            "/v2/x/blobs/uploads/u?_state=a&digest=d"
        );
        assert_eq!(with_query("/u", "digest=d"), "/u?digest=d");
    }
}
