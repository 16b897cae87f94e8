//! Naming on a registry: the tags of the repository a [`Registry`] was opened on.
//!
//! Tags are listed with `GET /v2/<name>/tags/list`, following `Link: <...>; rel="next"`
//! pages (distribution-spec "Listing Tags"); a name is resolved with a HEAD of the
//! manifest (nothing downloaded when the registry sends digest, type and length) and
//! set with a PUT of the manifest's exact bytes under the tag.

use super::{header, Registry, MANIFEST_ACCEPT};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::{media, Descriptor};
use crate::registry::client::{drain, response_error};
use crate::store::{Names, Source};
use ureq::http::Method;

/// Tags asked for per page (registries may send fewer and a `Link` to the rest).
const PAGE: usize = 1000;
/// A registry that keeps sending pages is stopped here rather than followed forever.
const MAX_PAGES: usize = 100_000;

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The `rel="next"` target of a `Link` header, if any.
pub(super) fn next_link(link: &str) -> Option<&str> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then_some(target)
    })
}

impl Registry {
    /// The URL of a `Link: <...>; rel="next"` page: relative to the registry, or absolute
    /// on the same registry only (credentials are never sent elsewhere).
    pub(super) fn next_page(&self, link: &str, what: &str) -> Result<String> {
        if link.starts_with('/') {
            return self.client.resolve_location(link);
        }
        let base = self.client.url("");
        let origin = &base[..base.find("/v2/").unwrap_or(base.len())];
        if !link.starts_with(&format!("{origin}/")) {
            return Err(Error::remote(format!(
                "{what}: the next page is on another host ({link})"
            )));
        }
        Ok(link.to_string())
    }

    /// Every tag of the repository, following pagination; a repository that does not
    /// exist has none.
    pub fn list_tags(&self) -> Result<Vec<String>> {
        self.list_tags_paged(PAGE)
    }

    /// [`Registry::list_tags`] asking for `page` tags per request.
    pub fn list_tags_paged(&self, page: usize) -> Result<Vec<String>> {
        self.list_tags_upto(page, MAX_PAGES)?.ok_or_else(|| {
            Error::remote(format!(
                "listing the tags of {}: more than {MAX_PAGES} pages; stopped",
                self.reference.repository()
            ))
        })
    }

    /// The tags, `page` per request, or `None` when there are more than `max_pages`
    /// pages (referrer discovery then looks its few candidate tags up one by one rather
    /// than list a huge repository: [`super::referrers`]).
    pub(super) fn list_tags_upto(
        &self,
        page: usize,
        max_pages: usize,
    ) -> Result<Option<Vec<String>>> {
        let what = format!("listing the tags of {}", self.reference.repository());
        let mut url = self.client.url(&format!("tags/list?n={}", page.max(1)));
        let mut tags = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..max_pages {
            if !seen.insert(url.clone()) {
                return Err(Error::remote(format!(
                    "{what}: the registry sent the page {url} twice"
                )));
            }
            let mut resp = self.client.send(Method::GET, &url, &[], None)?;
            match resp.status().as_u16() {
                200 => {}
                404 => {
                    drain(&mut resp);
                    return Ok(Some(tags));
                }
                _ => return Err(response_error(&mut resp, &what)),
            }
            let next = header(&resp, "link")
                .and_then(next_link)
                .map(str::to_string);
            let body = resp
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .map_err(|e| Error::remote(format!("{what}: {e}")))?;
            let page: TagList = serde_json::from_slice(&body).map_err(|e| {
                Error::remote(format!(
                    "{what}: the registry's answer is not a tag list: {e}"
                ))
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                None => {
                    // The spec promises lexical order; distribution 2.8 with `n` sends
                    // its pages in storage order. Sorted here, output is deterministic.
                    tags.sort();
                    tags.dedup();
                    return Ok(Some(tags));
                }
                Some(n) => url = self.next_page(&n, &what)?,
            }
        }
        Ok(None)
    }

    /// What a tag or digest names, from a HEAD of the manifest (a GET only when the
    /// registry's HEAD lacks the digest, type or length).
    pub fn resolve_manifest(&self, reference: &str) -> Result<Option<Descriptor>> {
        let what = format!("HEAD manifest {}:{reference}", self.reference.repository());
        let mut resp = self.client.send(
            Method::HEAD,
            &self.client.url(&format!("manifests/{reference}")),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
        )?;
        drain(&mut resp);
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            _ => return Err(response_error(&mut resp, &what)),
        }
        let digest = header(&resp, "docker-content-digest").and_then(|d| Digest::parse(d).ok());
        let media_type = header(&resp, "content-type")
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
            .filter(|c| media::is_index(c) || media::is_manifest(c));
        let size = header(&resp, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
        match (digest, media_type, size) {
            (Some(d), Some(m), Some(s)) if s > 0 => Ok(Some(Descriptor::new(&m, &d, s))),
            _ => Ok(Some(self.get_manifest(reference)?.0)),
        }
    }
}

impl Names for Registry {
    fn list_names(&self) -> Result<Vec<String>> {
        self.list_tags()
    }
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>> {
        self.resolve_manifest(name)
    }
    fn set_names(&self, names: &[String], desc: &Descriptor) -> Result<()> {
        let bytes = self.read_small(desc)?;
        for n in names {
            crate::registry::reference::validate_tag(n)?;
            self.put_manifest_at(n, desc, &bytes)?;
        }
        Ok(())
    }
    fn remove_names(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        // distribution deletes manifests by digest (every tag on it goes too); removing
        // one tag alone is not something the API offers everywhere, so oix does not try.
        Err(Error::failure(format!(
            "{}: removing tags ({}) from a registry is not supported",
            self.reference.repository(),
            names.join(", ")
        ))
        .with_hint(
            "point the tag at other content instead, or delete through the registry's own tools",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link("</v2/r/tags/list?n=2&last=b>; rel=\"next\""),
            Some("/v2/r/tags/list?n=2&last=b")
        );
        assert_eq!(next_link("<https://x/a>; rel=prev"), None);
        assert_eq!(
            next_link("<https://x/a>; rel=\"prev\", <https://x/b>; rel=\"next\""),
            Some("https://x/b")
        );
        assert_eq!(next_link("garbage"), None);
    }
}
