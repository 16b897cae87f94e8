//! Referrers on a registry (OCI distribution-spec 1.1 "Listing Referrers", and the
//! conventions of registries without that API): what [`Source::referrers`] answers for
//! a [`Registry`], and how a referrer pushed to a registry gets listed.
//!
//! Discovery, for one subject:
//! - the **referrers API**, `GET /v2/<name>/referrers/<digest>` (`artifactType` filter,
//!   `Link: <…>; rel="next"` pages), when the registry offers it: an answer that is not an
//!   image index (a 404 from registries without the API, distribution 2.8 among them)
//!   means it does not; that is asked once per store and remembered;
//! - otherwise the **fallback tag** (`sha256-<hex>`): an image index listing the
//!   referrers (a missing tag lists none);
//! - and always cosign's legacy tags `sha256-<hex>.sig`, `.att`, `.sbom`.
//!
//! Cost, for a pull of an image with N referrers: the repository's tags are listed
//! once per run (`tags/list`, paginated) and the fallback and cosign tags that exist
//! are read from that list, so a subject without referrers costs no request at all
//! (before: a GET and three HEADs each); the manifests a listing names are fetched
//! together on the pool ([`crate::pool`]) and kept, so the walk that follows reads them
//! from memory. A repository with more than [`MAX_TAG_PAGES`] pages of tags, or one
//! whose tag list the registry refuses, is not listed: each candidate tag is then
//! looked up on its own, as before.
//!
//! Writing ([`Registry::list_referrers`]): a registry with the referrers API answers
//! the PUT of a manifest with a `subject` with `OCI-Subject: <subject digest>` and
//! lists it itself; without that header the fallback-tag index is updated
//! read-modify-write ([`listing_for`] decides; a referrer this run did not PUT is
//! decided by the API probe). Registries have no conditional PUT, so after writing,
//! oix reads the tag again: when it no longer names what oix wrote and an entry oix
//! wrote or saw is gone (another writer replaced the index), it merges and writes
//! again; when everything is there it waits a settling time and checks once more, so
//! the last check always follows the last write. Up to [`MAX_MERGES`] rounds.
//!
//! Why waiting closes the window: a writer that drops our entry read the index before
//! our write landed and writes after it; its read-to-write time is one GET and one PUT.
//! The settling time is three times our own read-to-write time (a slow registry is
//! slow for every writer), at least 150 ms and at most 5 s, so such a write lands
//! before our final check, which then sees the loss and merges again. Without a
//! conditional PUT this is a bound, not a proof: a competing writer stalled between its
//! read and its write for longer than that can still drop an entry.

use super::{header, Registry};
use crate::digest::Digest;
use crate::error::{Error, Kind, Result};
use crate::model::{self, media, Descriptor, Index};
use crate::registry::client::{drain, response_error};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::http::Method;

/// Rounds of read, merge, write, re-read before giving up on a contended index.
pub const MAX_MERGES: usize = 10;
/// Pages of a referrers API answer followed at most (a registry that keeps sending
/// `Link`s is stopped).
const MAX_PAGES: usize = 10_000;
/// Tags asked for per `tags/list` page, and the pages listed at most before discovery
/// looks its candidate tags up one by one instead.
const TAG_PAGE: usize = 1000;
pub const MAX_TAG_PAGES: usize = 20;
/// The shortest and longest settling time before the final check of a fallback-index
/// write.
const MIN_SETTLE: Duration = Duration::from_millis(150);
const MAX_SETTLE: Duration = Duration::from_secs(5);

/// What one [`Registry`] learned about its repository's referrers during a run.
pub(super) struct State {
    /// Whether the registry offers the referrers API, once asked.
    api: Mutex<Option<bool>>,
    /// The repository's tags, listed once: `Some(None)` when they cannot be listed.
    tags: Mutex<Option<Option<HashSet<String>>>>,
    /// The `OCI-Subject` answer of each manifest PUT, by the manifest's digest.
    put_answers: Mutex<HashMap<String, Option<String>>>,
    /// Threads fetching the manifests a listing names.
    jobs: usize,
}

impl State {
    pub(super) fn new(jobs: usize) -> State {
        State {
            api: Mutex::new(None),
            tags: Mutex::new(None),
            put_answers: Mutex::new(HashMap::new()),
            jobs: jobs.max(1),
        }
    }

    /// A manifest PUT under `reference` succeeded, answering `oci_subject`: remember the
    /// answer, and the tag when the tag list is known (discovery stays right after our
    /// own writes).
    pub(super) fn put_answered(&self, reference: &str, digest: &Digest, oci_subject: Option<&str>) {
        self.put_answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                digest.to_string(),
                oci_subject.map(|s| s.trim().to_string()),
            );
        if Digest::parse(reference).is_err() {
            if let Some(Some(tags)) = self.tags.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
                tags.insert(reference.to_string());
            }
        }
    }

    fn put_answer(&self, digest: &str) -> Option<Option<String>> {
        self.put_answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
            .cloned()
    }
}

/// How a referrer gets listed on a registry after its manifest is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The registry answered its PUT with `OCI-Subject: <this subject>`: the referrers
    /// API lists it; the fallback tag is left alone.
    Indexed,
    /// Its PUT was answered without that header (or naming another subject): the
    /// registry did not index it; the fallback-tag index must list it.
    Fallback,
    /// Not PUT in this run (it was there already): ask whether the API is offered.
    Unknown,
}

/// The distribution-spec's rule ("Pushing Manifests with Subject"): `answer` is the
/// `OCI-Subject` header of the referrer's manifest PUT (`None`: not PUT in this run;
/// `Some(None)`: answered without the header).
pub fn listing_for(answer: Option<Option<&str>>, subject: &Digest) -> Listing {
    match answer {
        None => Listing::Unknown,
        Some(Some(h)) if Digest::parse(h.trim()).is_ok_and(|d| d == *subject) => Listing::Indexed,
        Some(_) => Listing::Fallback,
    }
}

/// The `OCI-Subject` header among a response's headers (names compare
/// case-insensitively, as HTTP says).
pub fn oci_subject<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    headers
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("oci-subject"))
        .map(|(_, v)| v.trim())
}

/// Parse one page of a referrers API answer: `Some(descriptors)` when it is an image
/// index (the API is offered), `None` otherwise (not the API's answer: absent).
/// `content_type` is the response's `Content-Type`.
pub fn parse_api_page(content_type: Option<&str>, body: &[u8]) -> Option<Vec<Descriptor>> {
    let ct = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
    if ct.is_some_and(|c| c != media::OCI_INDEX && c != "application/json") {
        return None;
    }
    let idx: Index = serde_json::from_slice(body).ok()?;
    if idx
        .media_type
        .as_deref()
        .is_some_and(|m| m != media::OCI_INDEX)
    {
        return None;
    }
    Some(idx.manifests)
}

/// One answer of the referrers API: status (200, or 400/404/405 for "not offered"),
/// `Content-Type`, `Link` and body.
#[derive(Debug, Clone, Default)]
pub struct ApiPage {
    pub status: u16,
    pub content_type: Option<String>,
    pub link: Option<String>,
    pub body: Vec<u8>,
}

/// Follow a referrers API listing from `first`: `fetch` answers a URL, `next_url` turns
/// a `Link` target into the next URL (refusing other hosts). `None` when the first
/// answer is not the API's (not offered). A page sent twice, or more than
/// [`MAX_PAGES`] pages, is an error: a registry cannot keep oix listing forever.
pub fn follow_api_pages(
    first: String,
    what: &str,
    mut fetch: impl FnMut(&str) -> Result<ApiPage>,
    next_url: impl Fn(&str) -> Result<String>,
) -> Result<Option<Vec<Descriptor>>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut url = first;
    for _ in 0..MAX_PAGES {
        if !seen.insert(url.clone()) {
            return Err(Error::remote(format!(
                "{what}: the registry sent the page {url} twice"
            )));
        }
        let page = fetch(&url)?;
        if matches!(page.status, 400 | 404 | 405) {
            return Ok(None);
        }
        let Some(found) = parse_api_page(page.content_type.as_deref(), &page.body) else {
            return Ok(if out.is_empty() { None } else { Some(out) });
        };
        out.extend(found);
        match page.link.as_deref().and_then(super::names::next_link) {
            Some(n) => url = next_url(n)?,
            None => return Ok(Some(out)),
        }
    }
    Err(Error::remote(format!(
        "{what}: more than {MAX_PAGES} pages"
    )))
}

/// The referrers of a subject as discovery answers them: `listed` (API or fallback
/// index) then `cosign` (legacy tags), each digest once, those of `types` only (all
/// when empty). Linear in the entries (a hash set, not a scan per entry: a subject may
/// have 10,000 referrers).
pub fn merge_listing(
    listed: Vec<Descriptor>,
    cosign: Vec<Descriptor>,
    types: &[String],
) -> Vec<Descriptor> {
    let mut seen = HashSet::new();
    listed
        .into_iter()
        .chain(cosign)
        .filter(|d| {
            (types.is_empty()
                || d.artifact_type
                    .as_deref()
                    .is_some_and(|t| types.iter().any(|w| w == t)))
                && seen.insert(d.digest.clone())
        })
        .collect()
}

/// The fallback-index entries a writer knows of: its own and every one it saw in any
/// read (a writer that replaced the index may have dropped one; it goes back in), in
/// the order first seen. Adding and comparing are linear.
#[derive(Debug, Default)]
pub struct Known {
    entries: Vec<Descriptor>,
    digests: HashSet<String>,
}

impl Known {
    pub fn add(&mut self, list: &[Descriptor]) {
        for d in list {
            if self.digests.insert(d.digest.clone()) {
                self.entries.push(d.clone());
            }
        }
    }
    /// The known entries `list` lacks, in order.
    pub fn missing_from(&self, list: &[Descriptor]) -> Vec<Descriptor> {
        let have: HashSet<&str> = list.iter().map(|d| d.digest.as_str()).collect();
        self.entries
            .iter()
            .filter(|k| !have.contains(k.digest.as_str()))
            .cloned()
            .collect()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The cosign tag suffix for a referrer's `artifactType`, when it is one of cosign's.
pub fn cosign_suffix(artifact_type: Option<&str>) -> Option<&'static str> {
    let at = artifact_type?;
    crate::referrers::COSIGN_SUFFIXES
        .iter()
        .find(|(_, t)| *t == at)
        .map(|(s, _)| *s)
}

impl Registry {
    /// The referrers API's listing of `subject`, or `None` when the registry does not
    /// offer it (probed once per store, then remembered).
    fn api_listing(&self, subject: &Digest, types: &[String]) -> Result<Option<Vec<Descriptor>>> {
        let known = *self.referrers.api.lock().unwrap_or_else(|p| p.into_inner());
        if known == Some(false) {
            return Ok(None);
        }
        let found = self.referrers_api_get(subject, types)?;
        *self.referrers.api.lock().unwrap_or_else(|p| p.into_inner()) = Some(found.is_some());
        Ok(found)
    }

    /// `GET /v2/<name>/referrers/<digest>`, every page; `None` when the registry does
    /// not answer with an image index.
    fn referrers_api_get(
        &self,
        subject: &Digest,
        types: &[String],
    ) -> Result<Option<Vec<Descriptor>>> {
        let what = format!(
            "listing the referrers of {subject} in {}",
            self.reference.repository()
        );
        let mut url = self.client.url(&format!("referrers/{subject}"));
        for t in types {
            url = super::with_query(&url, &format!("artifactType={}", query_escape(t)));
        }
        let fetch = |url: &str| -> Result<ApiPage> {
            let mut resp =
                self.client
                    .send(Method::GET, url, &[("Accept", media::OCI_INDEX)], None)?;
            let status = resp.status().as_u16();
            if matches!(status, 400 | 404 | 405) {
                drain(&mut resp);
                return Ok(ApiPage {
                    status,
                    ..ApiPage::default()
                });
            }
            if !resp.status().is_success() {
                return Err(response_error(&mut resp, &what));
            }
            let content_type = header(&resp, "content-type").map(str::to_string);
            let link = header(&resp, "link").map(str::to_string);
            let body = resp
                .body_mut()
                .with_config()
                .limit(model::MAX_MANIFEST_SIZE)
                .read_to_vec()
                .map_err(|e| Error::remote(format!("{what}: {e}")))?;
            Ok(ApiPage {
                status,
                content_type,
                link,
                body,
            })
        };
        follow_api_pages(url, &what, fetch, |n| self.next_page(n, &what))
    }

    /// Whether the repository has tag `tag`, from its tag list (listed once per store):
    /// `None` when the list is not available (too long, or refused), and the tag must
    /// be looked up itself.
    fn has_tag(&self, tag: &str) -> Option<bool> {
        let mut tags = self
            .referrers
            .tags
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if tags.is_none() {
            // Any failure (a registry refusing `tags/list`, a timeout) leaves discovery
            // to the lookups by name, which report a real problem themselves.
            let listed = self
                .list_tags_upto(TAG_PAGE, MAX_TAG_PAGES)
                .ok()
                .flatten()
                .map(|t| t.into_iter().collect::<HashSet<String>>());
            *tags = Some(listed);
        }
        tags.as_ref()
            .and_then(|t| t.as_ref())
            .map(|t| t.contains(tag))
    }

    /// The fallback-tag index of `subject` as listed now (an empty one when the tag does
    /// not exist). A tag holding something other than an index is refused.
    pub fn fallback_index(&self, subject: &Digest) -> Result<Index> {
        Ok(self.fallback_read(subject)?.1)
    }

    /// [`Registry::fallback_index`] with the digest the tag names now (`None`: no tag).
    fn fallback_read(&self, subject: &Digest) -> Result<(Option<String>, Index)> {
        let tag = crate::referrers::fallback_tag(subject);
        match self.get_manifest(&tag) {
            Ok((d, bytes)) => {
                if !d.is_index() {
                    return Err(Error::refused(format!(
                        "{}:{tag} is a {}, not the referrers index of {subject}",
                        self.reference.repository(),
                        d.media_type
                    ))
                    .with_hint("that tag is reserved for the referrers of the digest it names"));
                }
                let idx =
                    model::parse_json(&bytes, &format!("{}:{tag}", self.reference.repository()))?;
                Ok((Some(d.digest), idx))
            }
            Err(e) if e.kind == Kind::NoMatch => Ok((None, Index::default())),
            Err(e) => Err(e),
        }
    }

    /// cosign's legacy tags of `subject` that exist, as descriptors: `artifactType`
    /// cosign's type for that kind. Tags the tag list lacks cost nothing.
    fn cosign_tags(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        let mut out = Vec::new();
        for (suffix, at) in crate::referrers::COSIGN_SUFFIXES {
            let tag = format!("{}{suffix}", crate::referrers::fallback_tag(subject));
            if self.has_tag(&tag) == Some(false) {
                continue;
            }
            let Some(mut d) = self.resolve_manifest(&tag)? else {
                continue;
            };
            if !d.is_manifest() {
                continue;
            }
            d.artifact_type = Some(at.to_string());
            out.push(d);
        }
        Ok(out)
    }

    /// The direct referrers of `subject`: the API's answer where offered, else the
    /// fallback-tag index; plus cosign's tags. Each digest once, `types` kept (all when
    /// empty; the API is asked to filter too). Their manifests are fetched together on
    /// the pool and kept for the walk that reads them next.
    pub fn referrers_of(&self, subject: &Digest, types: &[String]) -> Result<Vec<Descriptor>> {
        let listed = match self.api_listing(subject, types)? {
            Some(l) => l,
            None if self.has_tag(&crate::referrers::fallback_tag(subject)) == Some(false) => {
                Vec::new()
            }
            // A tag of that name holding something else lists no referrers (writing
            // to it is refused: [`Registry::fallback_index`]).
            None => match self.fallback_index(subject) {
                Ok(i) => i.manifests,
                Err(e) if e.kind == Kind::Refused => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        let out = merge_listing(listed, self.cosign_tags(subject)?, types);
        self.prefetch_manifests(&out);
        Ok(out)
    }

    /// GET the manifests of `descs` not fetched yet, on the pool (verified and kept by
    /// [`Registry::get_manifest`]). A failure is left for the reader to meet and report.
    fn prefetch_manifests(&self, descs: &[Descriptor]) {
        use rayon::prelude::*;
        let todo: Vec<&Descriptor> = descs
            .iter()
            .filter(|d| {
                (d.is_manifest() || d.is_index())
                    && d.digest().is_ok()
                    && self.cached(&d.digest).is_none()
            })
            .collect();
        if todo.len() < 2 {
            return;
        }
        let _ = crate::pool::install(self.referrers.jobs, || {
            todo.par_iter().for_each(|d| {
                let _ = self.get_manifest(&d.digest);
            })
        });
    }

    /// Whether the registry offers the referrers API (it then lists referrers itself).
    pub fn offers_referrers_api(&self, subject: &Digest) -> Result<bool> {
        Ok(self.api_listing(subject, &[])?.is_some())
    }

    /// List `referrers` (already in the repository) among the referrers of `subject`:
    /// those whose PUT the registry answered with `OCI-Subject` are listed by the
    /// registry; the others go into the fallback-tag index, read-modify-write, merging
    /// again when a concurrent writer's update replaced ours (see the module docs).
    pub fn list_referrers(&self, subject: &Digest, referrers: &[Descriptor]) -> Result<()> {
        let mut fallback = Vec::new();
        let mut unknown = Vec::new();
        for r in referrers {
            let answer = self.referrers.put_answer(&r.digest);
            match listing_for(answer.as_ref().map(|a| a.as_deref()), subject) {
                Listing::Indexed => {}
                Listing::Fallback => fallback.push(r.clone()),
                Listing::Unknown => unknown.push(r.clone()),
            }
        }
        if !unknown.is_empty() && !self.offers_referrers_api(subject)? {
            fallback.extend(unknown);
        }
        if fallback.is_empty() {
            return Ok(());
        }
        self.update_fallback(subject, &fallback)
    }

    /// Add `referrers` to the fallback-tag index of `subject` (module docs: re-read
    /// after every write, merge again on a loss, final check after a settling time).
    fn update_fallback(&self, subject: &Digest, referrers: &[Descriptor]) -> Result<()> {
        let tag = crate::referrers::fallback_tag(subject);
        let mut known = Known::default();
        known.add(referrers);
        let mut settle = MIN_SETTLE;
        let mut wrote = false;
        for round in 0..MAX_MERGES {
            let started = Instant::now();
            let (_, mut idx) = self.fallback_read(subject)?;
            known.add(&idx.manifests);
            let missing = known.missing_from(&idx.manifests);
            if missing.is_empty() {
                // Listed already: by an earlier run (nothing written, nothing to
                // guard), or after our write (check again once settled).
                if !wrote || self.settled(subject, &known, settle)? {
                    return Ok(());
                }
                continue;
            }
            idx.manifests.extend(missing);
            let bytes = idx.to_bytes();
            if bytes.len() as u64 > model::MAX_MANIFEST_SIZE {
                return Err(Error::refused(format!(
                    "the referrers index {tag} would exceed {} bytes",
                    model::MAX_MANIFEST_SIZE
                )));
            }
            let mt = idx.media_type.clone().unwrap_or(media::OCI_INDEX.into());
            let written = Digest::sha256_of(&bytes);
            let desc = Descriptor::new(&mt, &written, bytes.len() as u64);
            self.put_manifest_at(&tag, &desc, &bytes)?;
            wrote = true;
            settle = settle.max(started.elapsed() * 3).min(MAX_SETTLE);
            // Re-read at once: still ours, or a later writer's that kept every entry?
            let (now, again) = self.fallback_read(subject)?;
            let ours = now.as_deref() == Some(written.to_string().as_str());
            if (ours || known.missing_from(&again.manifests).is_empty())
                && self.settled(subject, &known, settle)?
            {
                return Ok(());
            }
            // Another writer replaced the index: wait a little (longer each round,
            // staggered by the referrer's digest so two writers do not meet again).
            let stagger = referrers[0].digest.bytes().last().unwrap_or(0) as u64 % 7;
            std::thread::sleep(Duration::from_millis(
                20 * (round as u64 + 1) + stagger * 10,
            ));
        }
        Err(Error::remote(format!(
            "{}:{tag}: other writers kept replacing the referrers index; {} could not be listed in {MAX_MERGES} rounds",
            self.reference.repository(),
            referrers[0].digest
        ))
        .with_hint("push again when the other writers are done"))
    }

    /// Whether the fallback index still lists every one of `known` after `settle` (a
    /// writer that read before our write may still replace it: module docs).
    fn settled(&self, subject: &Digest, known: &Known, settle: Duration) -> Result<bool> {
        std::thread::sleep(settle);
        let (_, idx) = self.fallback_read(subject)?;
        Ok(known.missing_from(&idx.manifests).is_empty())
    }
}

/// Percent-encode a query value (media types hold `+` and `/`).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The referrers API branch, against the example response of the OCI
    /// distribution-spec 1.1 ("Listing Referrers"): the registries available to the
    /// tests (distribution 2.8) have no referrers API, so this captured answer stands in.
    #[test]
    fn referrers_api_spec_example_response() {
        let body = br#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "size": 1234,
      "digest": "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
      "artifactType": "application/vnd.example.sbom.v1",
      "annotations": {
        "org.opencontainers.image.created": "2022-01-01T14:42:55Z",
        "org.example.sbom.format": "json"
      }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "size": 1234,
      "digest": "sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
      "artifactType": "application/vnd.example.signature.v1",
      "annotations": {
        "org.opencontainers.image.created": "2022-01-01T07:21:33Z",
        "org.example.signature.fingerprint": "abcd"
      }
    }
  ]
}"#;
        let got = parse_api_page(Some("application/vnd.oci.image.index.v1+json"), body).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].artifact_type.as_deref(),
            Some("application/vnd.example.sbom.v1")
        );
        assert_eq!(
            got[1].annotations["org.example.signature.fingerprint"],
            "abcd"
        );
        // The spec's empty answer: the API is there, listing nothing.
        let empty = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        assert_eq!(
            parse_api_page(Some(media::OCI_INDEX), empty).unwrap().len(),
            0
        );
        // A registry without the API: distribution's 404 error body, an HTML page.
        let err = br#"{"errors":[{"code":"NOT_FOUND","message":"not found"}]}"#;
        assert!(parse_api_page(Some("application/json"), err).is_none());
        assert!(parse_api_page(Some("text/html"), b"<html></html>").is_none());
        // The spec's pagination header: the next page's target.
        let link = r#"</v2/app/referrers/sha256:a1?n=1&last=x>; rel="next""#;
        assert_eq!(
            super::super::names::next_link(link),
            Some("/v2/app/referrers/sha256:a1?n=1&last=x")
        );
        assert_eq!(
            query_escape("application/vnd.example.sbom.v1+json"),
            "application%2Fvnd.example.sbom.v1%2Bjson"
        );
    }

    #[test]
    fn cosign_suffixes_from_artifact_types() {
        assert_eq!(
            cosign_suffix(Some("application/vnd.dev.cosign.artifact.sig.v1+json")),
            Some(".sig")
        );
        assert_eq!(cosign_suffix(Some("application/spdx+json")), None);
        assert_eq!(cosign_suffix(None), None);
    }

    /// Header pairs of a raw HTTP response head (status line skipped).
    fn headers_of(raw: &str) -> Vec<(&str, &str)> {
        raw.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim(), v.trim()))
            .collect()
    }

    /// The `OCI-Subject` decision, over captured responses: the registries available to
    /// the tests (distribution 2.8) never send the header, so the branch where the
    /// registry indexes a referrer itself is tested here.
    /// - `DISTRIBUTION_2_8` was captured from `docker-registry` 2.8 on loopback
    ///   (2026-12-07) answering the PUT of an artifact manifest with a `subject`;
    /// - `SPEC_WITH_SUBJECT` is the answer the distribution-spec 1.1 ("Pushing Manifests
    ///   with Subject") prescribes for a registry with the referrers API: the same
    ///   response plus `OCI-Subject: <subject digest>` (distribution 3 and zot send it).
    #[test]
    fn oci_subject_header_decision_captured_responses() {
        let subject = Digest::parse(
            "sha256:a3aa9a6043e00956389f9e9ac582e89b5acda67f142cb2b9f4ca1ab146b651d7",
        )
        .unwrap();
        const DISTRIBUTION_2_8: &str = "HTTP/1.1 201 Created\r
Docker-Content-Digest: sha256:23d64af1773da1c8ce54ae3b2332fbb4b095a95448e740d5015193d376b7b22b\r
Docker-Distribution-Api-Version: registry/2.0\r
Location: http://127.0.0.1:45123/v2/app/manifests/sha256:23d64af1773da1c8ce54ae3b2332fbb4b095a95448e740d5015193d376b7b22b\r
Date: Mon, 07 Dec 2026 00:33:14 GMT\r
Content-Length: 0\r
";
        const SPEC_WITH_SUBJECT: &str = "HTTP/1.1 201 Created\r
Docker-Content-Digest: sha256:23d64af1773da1c8ce54ae3b2332fbb4b095a95448e740d5015193d376b7b22b\r
Location: /v2/app/manifests/sha256:23d64af1773da1c8ce54ae3b2332fbb4b095a95448e740d5015193d376b7b22b\r
oci-subject: sha256:a3aa9a6043e00956389f9e9ac582e89b5acda67f142cb2b9f4ca1ab146b651d7\r
Content-Length: 0\r
";
        let old = oci_subject(headers_of(DISTRIBUTION_2_8));
        assert_eq!(old, None);
        assert_eq!(listing_for(Some(old), &subject), Listing::Fallback);
        let new = oci_subject(headers_of(SPEC_WITH_SUBJECT));
        assert_eq!(new, Some(subject.to_string().as_str()));
        assert_eq!(listing_for(Some(new), &subject), Listing::Indexed);
        // The header naming another subject: the registry did not index ours.
        let other = Digest::sha256_of(b"other");
        assert_eq!(listing_for(Some(new), &other), Listing::Fallback);
        assert_eq!(
            listing_for(Some(Some("garbage")), &subject),
            Listing::Fallback
        );
        // Not PUT in this run (already there): the API probe decides.
        assert_eq!(listing_for(None, &subject), Listing::Unknown);
    }

    fn desc(i: usize) -> Descriptor {
        let mut d = Descriptor::new(
            media::OCI_MANIFEST,
            &Digest::sha256_of(format!("referrer {i}").as_bytes()),
            500 + i as u64,
        );
        d.artifact_type = Some("application/spdx+json".into());
        d
    }

    fn page(descs: &[Descriptor], link: Option<&str>) -> ApiPage {
        let idx = Index {
            manifests: descs.to_vec(),
            ..Index::default()
        };
        ApiPage {
            status: 200,
            content_type: Some(media::OCI_INDEX.into()),
            link: link.map(str::to_string),
            body: idx.to_bytes(),
        }
    }

    /// Paginated referrers API answers (the spec's `Link: <…>; rel="next"` form, as
    /// captured pages): every page followed in order, a page sent twice refused, a 404
    /// first answer means "not offered", a registry switching to a non-index answer
    /// mid-listing keeps what it listed.
    #[test]
    fn referrers_api_pagination_captured_responses() {
        let all: Vec<Descriptor> = (0..5).map(desc).collect();
        let pages: HashMap<&str, ApiPage> = [
            (
                "/v2/app/referrers/sha256:s",
                page(
                    &all[0..2],
                    Some(r#"</v2/app/referrers/sha256:s?n=2&last=b>; rel="next""#),
                ),
            ),
            (
                "/v2/app/referrers/sha256:s?n=2&last=b",
                page(
                    &all[2..4],
                    Some(r#"</v2/app/referrers/sha256:s?n=2&last=d>; rel="next""#),
                ),
            ),
            (
                "/v2/app/referrers/sha256:s?n=2&last=d",
                page(&all[4..], None),
            ),
        ]
        .into_iter()
        .collect();
        let mut asked = Vec::new();
        let got = follow_api_pages(
            "/v2/app/referrers/sha256:s".into(),
            "test",
            |u| {
                asked.push(u.to_string());
                Ok(pages[u].clone())
            },
            |n| Ok(n.to_string()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(got, all);
        assert_eq!(asked.len(), 3);

        // A page that links back to an earlier one: refused, not followed forever.
        let looping = |u: &str| -> Result<ApiPage> {
            Ok(page(
                &all[0..1],
                Some(if u.ends_with('1') {
                    "</p2>; rel=\"next\""
                } else {
                    "</p1>; rel=\"next\""
                }),
            ))
        };
        let e = follow_api_pages("/p1".into(), "test", looping, |n| Ok(n.to_string())).unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);

        // Not offered: distribution 2.8 answers 404.
        let absent = |_: &str| -> Result<ApiPage> {
            Ok(ApiPage {
                status: 404,
                ..ApiPage::default()
            })
        };
        assert!(
            follow_api_pages("/p".into(), "t", absent, |n| Ok(n.to_string()))
                .unwrap()
                .is_none()
        );
        // A second page that is no index: what was listed stays.
        let half = |u: &str| -> Result<ApiPage> {
            if u == "/p" {
                Ok(page(&all[0..2], Some("</q>; rel=\"next\"")))
            } else {
                Ok(ApiPage {
                    status: 200,
                    content_type: Some("text/html".into()),
                    link: None,
                    body: b"<html>".to_vec(),
                })
            }
        };
        assert_eq!(
            follow_api_pages("/p".into(), "t", half, |n| Ok(n.to_string()))
                .unwrap()
                .unwrap()
                .len(),
            2
        );
    }

    /// The fastest of three runs of `f`.
    fn best_of_3(mut f: impl FnMut()) -> Duration {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    }

    /// 10,000 referrers of one subject: parsing the listing, deduplicating it and
    /// merging it into a writer's known entries grow linearly (a ratio of 1,000 to
    /// 10,000 entries over in-memory data; a scan per entry would make it ~100).
    #[test]
    fn ten_thousand_referrers_list_in_linear_time() {
        let make = |n: usize| -> (Vec<u8>, Vec<Descriptor>) {
            let descs: Vec<Descriptor> = (0..n).map(desc).collect();
            let idx = Index {
                manifests: descs.clone(),
                ..Index::default()
            };
            (idx.to_bytes(), descs)
        };
        let (small_bytes, small) = make(1_000);
        let (big_bytes, big) = make(10_000);
        assert!((big_bytes.len() as u64) < model::MAX_MANIFEST_SIZE);
        let work = |bytes: &[u8], descs: &[Descriptor]| {
            let listed = parse_api_page(Some(media::OCI_INDEX), bytes).unwrap();
            // Every entry twice (API and a duplicate listing), deduplicated.
            let merged = merge_listing(listed.clone(), listed, &[]);
            assert_eq!(merged.len(), descs.len());
            let mut known = Known::default();
            known.add(descs);
            known.add(&merged);
            assert_eq!(known.len(), descs.len());
            assert!(known.missing_from(&merged).is_empty());
            assert_eq!(
                known.missing_from(&merged[..descs.len() / 2]).len(),
                descs.len() / 2
            );
        };
        let t_small = best_of_3(|| work(&small_bytes, &small));
        let t_big = best_of_3(|| work(&big_bytes, &big));
        let ratio = t_big.as_secs_f64() / t_small.as_secs_f64().max(1e-6);
        println!("1,000 referrers: {t_small:?}; 10,000: {t_big:?}; ratio {ratio:.1}");
        assert!(
            ratio < 30.0,
            "listing grows faster than linearly: ratio {ratio:.1}"
        );
    }
}
