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
//! - and always cosign's legacy tags `sha256-<hex>.sig`, `.att`, `.sbom` (HEAD each).
//!
//! Only manifests are read (`HEAD`/`GET /v2/<name>/manifests/…`, plus the one probe of
//! the API): the tag list is never fetched.
//!
//! Writing ([`Registry::list_referrers`]): with the API the registry lists a referrer
//! itself when its manifest is PUT; without it the fallback-tag index is updated
//! read-modify-write. Registries have no conditional PUT, so after writing, oix reads
//! the index again (twice, a moment apart) and merges once more when an entry it wrote
//! or saw is gone (another writer replaced the index in between), up to
//! [`MAX_MERGES`] times.

use super::{header, Registry};
use crate::digest::Digest;
use crate::error::{Error, Kind, Result};
use crate::model::{self, media, Descriptor, Index};
use crate::registry::client::{drain, response_error};
use std::collections::HashSet;
use std::time::Duration;
use ureq::http::Method;

/// Rounds of read, merge, write, re-read before giving up on a contended index.
pub const MAX_MERGES: usize = 10;
/// Pages of a referrers API answer followed at most (a registry that keeps sending
/// `Link`s is stopped).
const MAX_PAGES: usize = 10_000;

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

/// The cosign tag suffix for a referrer's `artifactType`, when it is one of cosign's.
pub fn cosign_suffix(artifact_type: Option<&str>) -> Option<&'static str> {
    let at = artifact_type?;
    crate::referrers::COSIGN_SUFFIXES
        .iter()
        .find(|(_, t)| *t == at)
        .map(|(s, _)| *s)
}

impl Registry {
    /// Whether the registry offers the referrers API (probed once with this subject).
    fn api_listing(&self, subject: &Digest, types: &[String]) -> Result<Option<Vec<Descriptor>>> {
        let known = *self.referrers_api.lock().unwrap_or_else(|p| p.into_inner());
        if known == Some(false) {
            return Ok(None);
        }
        let found = self.referrers_api_get(subject, types)?;
        *self.referrers_api.lock().unwrap_or_else(|p| p.into_inner()) = Some(found.is_some());
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
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.clone()) {
                return Err(Error::remote(format!(
                    "{what}: the registry sent the page {url} twice"
                )));
            }
            let mut resp =
                self.client
                    .send(Method::GET, &url, &[("Accept", media::OCI_INDEX)], None)?;
            let status = resp.status().as_u16();
            if status == 404 || status == 405 || status == 400 {
                drain(&mut resp);
                return Ok(None);
            }
            if !resp.status().is_success() {
                return Err(response_error(&mut resp, &what));
            }
            let ct = header(&resp, "content-type").map(str::to_string);
            let next = header(&resp, "link")
                .and_then(super::names::next_link)
                .map(str::to_string);
            let body = resp
                .body_mut()
                .with_config()
                .limit(model::MAX_MANIFEST_SIZE)
                .read_to_vec()
                .map_err(|e| Error::remote(format!("{what}: {e}")))?;
            let Some(page) = parse_api_page(ct.as_deref(), &body) else {
                return Ok(if out.is_empty() { None } else { Some(out) });
            };
            out.extend(page);
            match next {
                Some(n) => url = self.next_page(&n, &what)?,
                None => return Ok(Some(out)),
            }
        }
        Err(Error::remote(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }

    /// The fallback-tag index of `subject` as listed now (an empty one when the tag does
    /// not exist). A tag holding something other than an index is refused.
    pub fn fallback_index(&self, subject: &Digest) -> Result<Index> {
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
                model::parse_json(&bytes, &format!("{}:{tag}", self.reference.repository()))
            }
            Err(e) if e.kind == Kind::NoMatch => Ok(Index::default()),
            Err(e) => Err(e),
        }
    }

    /// cosign's legacy tags of `subject` that exist, as descriptors (HEAD each):
    /// `artifactType` cosign's type for that kind.
    fn cosign_tags(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        let mut out = Vec::new();
        for (suffix, at) in crate::referrers::COSIGN_SUFFIXES {
            let tag = format!("{}{suffix}", crate::referrers::fallback_tag(subject));
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
    /// empty; the API is asked to filter too).
    pub fn referrers_of(&self, subject: &Digest, types: &[String]) -> Result<Vec<Descriptor>> {
        let mut listed = match self.api_listing(subject, types)? {
            Some(l) => l,
            // A tag of that name holding something else lists no referrers (writing
            // to it is refused: [`Registry::fallback_index`]).
            None => match self.fallback_index(subject) {
                Ok(i) => i.manifests,
                Err(e) if e.kind == Kind::Refused => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        listed.extend(self.cosign_tags(subject)?);
        let mut seen = HashSet::new();
        listed.retain(|d| {
            seen.insert(d.digest.clone())
                && (types.is_empty()
                    || d.artifact_type
                        .as_deref()
                        .is_some_and(|t| types.iter().any(|w| w == t)))
        });
        Ok(listed)
    }

    /// Whether the registry offers the referrers API (it then lists referrers itself).
    pub fn offers_referrers_api(&self, subject: &Digest) -> Result<bool> {
        Ok(self.api_listing(subject, &[])?.is_some())
    }

    /// List `referrers` (already in the repository) among the referrers of `subject`:
    /// nothing to do where the registry offers the API; otherwise add it to the
    /// fallback-tag index, read-modify-write, merging again when a concurrent writer's
    /// update replaced ours (see the module docs).
    pub fn list_referrers(&self, subject: &Digest, referrers: &[Descriptor]) -> Result<()> {
        let Some(referrer) = referrers.first() else {
            return Ok(());
        };
        if self.offers_referrers_api(subject)? {
            return Ok(());
        }
        let tag = crate::referrers::fallback_tag(subject);
        // Every entry seen in any read: a writer that replaced the index may have
        // dropped one, and it goes back in.
        let mut known: Vec<Descriptor> = Vec::new();
        for round in 0..MAX_MERGES {
            let mut idx = self.fallback_index(subject)?;
            let before: HashSet<String> = idx.manifests.iter().map(|d| d.digest.clone()).collect();
            for d in idx.manifests.iter() {
                if !known.iter().any(|k| k.digest == d.digest) {
                    known.push(d.clone());
                }
            }
            for r in referrers {
                if !known.iter().any(|k| k.digest == r.digest) {
                    known.push(r.clone());
                }
            }
            let missing: Vec<Descriptor> = known
                .iter()
                .filter(|k| !before.contains(&k.digest))
                .cloned()
                .collect();
            if missing.is_empty() {
                if round == 0 || self.settled(subject, &known)? {
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
            let desc = Descriptor::new(&mt, &Digest::sha256_of(&bytes), bytes.len() as u64);
            self.put_manifest_at(&tag, &desc, &bytes)?;
            if self.settled(subject, &known)? {
                return Ok(());
            }
            // Another writer replaced the index: wait a little (longer each round,
            // staggered by the referrer's digest so two writers do not meet again).
            let stagger = referrer.digest.bytes().last().unwrap_or(0) as u64 % 7;
            std::thread::sleep(Duration::from_millis(
                20 * (round as u64 + 1) + stagger * 10,
            ));
        }
        Err(Error::remote(format!(
            "{}:{tag}: other writers kept replacing the referrers index; {} could not be listed in {MAX_MERGES} rounds",
            self.reference.repository(),
            referrer.digest
        ))
        .with_hint("push again when the other writers are done"))
    }

    /// Whether the fallback index lists every one of `known`, read twice a moment apart
    /// (a writer that read before our write may still replace it).
    fn settled(&self, subject: &Digest, known: &[Descriptor]) -> Result<bool> {
        for pause in [0u64, 150] {
            std::thread::sleep(Duration::from_millis(pause));
            let now: HashSet<String> = self
                .fallback_index(subject)?
                .manifests
                .into_iter()
                .map(|d| d.digest)
                .collect();
            if !known.iter().all(|k| now.contains(&k.digest)) {
                return Ok(false);
            }
        }
        Ok(true)
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
}
