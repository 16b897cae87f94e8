//! [`Registry`]: one repository of an OCI distribution registry as a
//! [`crate::store::Source`] and a [`crate::store::Sink`] (remote/store.rs), so
//! [`crate::copy::copy_graph`] pushes (layout → registry) and pulls (registry → layout)
//! with the same algorithm as every other copy.
//!
//! Writing: [`crate::store::Sink::transfer`] HEADs the blob and skips it when present,
//! tries a cross-repository mount from each `--mount-from` repository, and otherwise uploads:
//! monolithic (POST, then one PUT with the body) up to the chunk size, chunked (PATCH per
//! chunk, then PUT) above it. After a dropped connection a chunked upload asks the
//! upload location for its status (GET → 204 + Range) and goes on from there; when the
//! registry cannot resume (distribution 2.8 cancels an upload whose stored size differs
//! from its state token), the blob starts over. Manifests go up with their exact bytes
//! and media type, and the registry's `Docker-Content-Digest` must equal ours.
//!
//! Reading: manifests are fetched with all four manifest types in `Accept` and verified;
//! blobs stream, and a dropped download resumes with a `Range` request.

use super::client::{drain, response_error, Client, Fail, HttpResponse, TransportOptions};
use super::reference::RegistryRef;
use crate::digest::Digest;
use crate::error::{Error, RegistryCode, Result};
use crate::model::{self, media, Descriptor};
use crate::verify::{self, Expect};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use ureq::http::Method;

mod download;
mod names;
pub mod referrers;
mod store;
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
    /// the upload jobs) and remember which are present; [`crate::store::Sink::transfer`] then skips
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
        // MANIFEST_BLOB_UNKNOWN right after the copy checked every blob is most likely a
        // concurrent writer of the same blob (distribution 2.8 rewrites its link file in
        // place): asked again shortly, twice at most, before it is believed.
        let mut resp = self.client.with_retries(|attempt| {
            let mut resp = self
                .client
                .send(
                    Method::PUT,
                    &self.client.url(&format!("manifests/{reference}")),
                    &[("Content-Type", desc.media_type.as_str())],
                    Some(bytes),
                )
                .map_err(Fail::Fatal)?;
            if resp.status().as_u16() == 201 || resp.status().is_success() {
                return Ok(resp);
            }
            let e = response_error(&mut resp, &what);
            if !e.has_registry_code(&RegistryCode::ManifestBlobUnknown) {
                return Err(Fail::Fatal(e));
            }
            let e = e.with_hint("the registry misses a blob the manifest references");
            if attempt >= 2 {
                return Err(Fail::Fatal(e));
            }
            Err(Fail::Retry(e, None))
        })?;
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

    fn cached(&self, digest: &str) -> Option<Vec<u8>> {
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
            .cloned()
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
