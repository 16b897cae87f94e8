//! `src_ref`: the upstream source of an image (the repository and commit it was built
//! from), recorded as OCI annotations.
//!
//! - `org.opencontainers.image.source` = the repository URL;
//! - `org.opencontainers.image.revision` = the commit hash, only when `src_ref` is a
//!   commit URL of a known forge shape:
//!   - `https://HOST/OWNER/REPO/commit/SHA` (GitHub, Gitea, Forgejo, opendev.org),
//!   - `https://HOST/GROUP[/SUBGROUP…]/REPO/-/commit/SHA` (GitLab),
//!   - `https://HOST/OWNER/REPO/src/commit/SHA` (Gitea's tree-at-commit page),
//!   - `https://HOST/OWNER/REPO/commits/SHA` (Bitbucket),
//!
//!   where SHA is 7 to 64 hexadecimal digits (written lower-case). A query (`?…`) or
//!   fragment (`#…`) after the SHA is ignored.
//! - Any other URL is recorded as written in `source`, and no `revision` is set.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";

/// The annotations a `src_ref` value stands for.
pub fn annotations(src_ref: &str) -> Result<BTreeMap<String, String>> {
    let url = src_ref.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::usage(format!(
            "src_ref {src_ref:?} is not an http(s) URL"
        ))
        .with_hint("write the upstream commit URL, e.g. https://opendev.org/starlingx/integ/commit/<sha>"));
    }
    let mut out = BTreeMap::new();
    match split_commit_url(url) {
        Some((repo, sha)) => {
            out.insert(SOURCE.to_string(), repo);
            out.insert(REVISION.to_string(), sha);
        }
        None => {
            out.insert(SOURCE.to_string(), url.to_string());
        }
    }
    Ok(out)
}

/// `(repository URL, commit)` when `url` is a commit URL of a known shape.
pub fn split_commit_url(url: &str) -> Option<(String, String)> {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let path = url[..cut].trim_end_matches('/');
    let (head, sha) = path.rsplit_once('/')?;
    if !(7..=64).contains(&sha.len()) || !sha.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let repo = ["/-/commit", "/src/commit", "/commits", "/commit"]
        .iter()
        .find_map(|m| head.strip_suffix(m))?;
    // At least HOST/OWNER/REPO after the scheme.
    let after_scheme = repo.split_once("://")?.1;
    if after_scheme.split('/').filter(|s| !s.is_empty()).count() < 3 {
        return None;
    }
    Some((repo.to_string(), sha.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "dac417bd31ed36d455e94db4aabe5916367654d4";

    #[test]
    fn commit_urls() {
        for (url, repo) in [
            (
                format!("https://opendev.org/starlingx/integ/commit/{SHA}"),
                "https://opendev.org/starlingx/integ",
            ),
            (
                format!("https://github.com/o/r/commit/{SHA}#diff-1"),
                "https://github.com/o/r",
            ),
            (
                format!("https://gitlab.com/g/sub/r/-/commit/{SHA}?view=parallel"),
                "https://gitlab.com/g/sub/r",
            ),
            (
                format!("https://gitea.com/o/r/src/commit/{}/", SHA.to_uppercase()),
                "https://gitea.com/o/r",
            ),
            (
                format!("https://bitbucket.org/w/r/commits/{SHA}"),
                "https://bitbucket.org/w/r",
            ),
        ] {
            let a = annotations(&url).unwrap();
            assert_eq!(a[SOURCE], repo, "{url}");
            assert_eq!(a[REVISION], SHA, "{url}");
        }
    }

    #[test]
    fn other_urls_are_source_only() {
        for url in [
            "https://opendev.org/starlingx/integ",
            "https://github.com/o/r/tree/main",
            "https://github.com/o/r/commit/not-a-sha",
            "https://host/commit/abcdef12",
        ] {
            let a = annotations(url).unwrap();
            assert_eq!(a.len(), 1, "{url}");
            assert_eq!(a[SOURCE], url);
        }
        assert!(annotations("ftp://x/y").is_err());
        assert!(annotations("https://x/y z").is_err());
    }
}
