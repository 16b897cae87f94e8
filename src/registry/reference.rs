//! Registry references: `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`.
//!
//! Grammar (distribution-spec): a repository name is `/`-separated components, each
//! `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`; a tag is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`;
//! host and name together stay within 255 characters. As in skopeo, a first component
//! without `.` or `:` that is not `localhost` is a Docker Hub short name
//! (`docker://alpine` is `docker.io/library/alpine`).

use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};
use crate::reference::{check_components, Malformed};
use std::fmt;

/// Docker Hub's name in references and the host its API answers on.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `host[:port]` as written (`docker.io` for Hub short names).
    pub host: String,
    /// Repository name inside the registry (`library/alpine`).
    pub repo: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "docker://{}/{}", self.host, self.repo)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A reference (or URL) as it may be shown: credentials written into it
/// (`docker://user:password@host/...`) become `***`.
pub fn redact_reference(input: &str) -> std::borrow::Cow<'_, str> {
    let (scheme, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        // `docker://alpine@sha256:...` (a Hub short name with a digest) holds no user. Only
        // a registered algorithm tells it from `user:password@host:port`, whose
        // `host:port` is a digest by the grammar.
        Some(at)
            if authority_end == rest.len()
                && Digest::parse(&rest[at + 1..])
                    .is_ok_and(|d| !matches!(d.algorithm(), Algorithm::Other(_))) =>
        {
            input.into()
        }
        Some(at) => format!("{scheme}***{}", &rest[at..]).into(),
        None => input.into(),
    }
}

/// Refuse credentials written into a reference, without repeating them.
pub fn refuse_userinfo(input: &str) -> Result<()> {
    let shown = redact_reference(input);
    if shown == input {
        return Ok(());
    }
    Err(Error::usage(format!(
        "registry reference {shown:?} holds credentials (USER:PASSWORD@); oix does not take them from a reference"
    ))
    .with_hint(
        "log in (oix login HOST, or skopeo/docker login) or pass --authfile FILE; the credentials were not used and are not shown",
    ))
}

impl RegistryRef {
    pub fn parse(input: &str) -> Result<RegistryRef> {
        refuse_userinfo(input)?;
        let usage = |why: String| {
            Error::usage(format!("invalid registry reference {input:?}: {why}")).with_hint(
                "write docker://HOST[:PORT]/REPO[:TAG] or docker://HOST/REPO@sha256:<hex>",
            )
        };
        let s = input
            .strip_prefix("docker://")
            .ok_or_else(|| usage("it must start with docker://".into()))?;
        let (rest, digest) = match s.rsplit_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|e| usage(e.message))?)),
            None => (s, None),
        };
        let (name, tag) = crate::reference::split_tag(rest);
        if let Some(t) = tag {
            validate_tag(t).map_err(|e| usage(e.message))?;
        }
        let (host, repo) = match name.split_once('/') {
            Some((h, r)) if names_a_host(h) => (h.to_string(), r.to_string()),
            Some(_) => (DOCKER_HUB.to_string(), name.to_string()),
            None => (DOCKER_HUB.to_string(), format!("library/{name}")),
        };
        validate_host(&host).map_err(|e| usage(e.message))?;
        validate_repo(&repo).map_err(|e| usage(e.message))?;
        if host.len() + 1 + repo.len() > 255 {
            return Err(usage(
                "host and repository are longer than 255 characters".into(),
            ));
        }
        Ok(RegistryRef {
            host,
            repo,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> RegistryRef {
        RegistryRef {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// The repository without tag or digest: `docker://host/repo`.
    pub fn repository(&self) -> String {
        format!("docker://{}/{}", self.host, self.repo)
    }

    /// The host the API is reached on (Docker Hub's differs from its name).
    pub fn api_host(&self) -> &str {
        if self.host == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.host
        }
    }

    /// The ref name a pull of this reference stores under in `dst`: the name `dst`
    /// gives, else this tag, else `latest` (the registry's default, as push defaults
    /// the tag). A digest without a name in `dst`, or `dst` naming a digest, is a usage
    /// error: a pull stores under a ref name.
    pub fn stored_as(&self, dst: &crate::reference::LayoutRef) -> Result<String> {
        use crate::reference::Target;
        match (&dst.target, &self.tag) {
            (Target::Name(n), _) => Ok(n.clone()),
            (Target::Default, Some(t)) => Ok(t.clone()),
            (Target::Default, None) if self.digest.is_none() => Ok("latest".to_string()),
            (Target::Default, None) => Err(Error::usage(format!(
                "{dst}: {self} names a digest, not a tag: name the ref to store the image as"
            ))
            .with_hint(format!("write {dst}:REF"))),
            (Target::Digest(_), _) => Err(Error::usage(
                "pull stores under a ref name: give LAYOUT:REF, not LAYOUT@DIGEST",
            )),
        }
    }
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid tag {tag:?}: a tag is 1 to 128 of [A-Za-z0-9_.-] and does not start with . or -"
        ))
        .with_hint("write e.g. 1.0, v2.1-rc1 or 1.0_build5 (a '+' of a version is written '_')"))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` components joined by `/`.
pub fn validate_repo(repo: &str) -> Result<()> {
    let bad = |why: &str| Error::usage(format!("invalid repository name {repo:?}: {why}"));
    if repo.is_empty() {
        return Err(bad("empty"));
    }
    let separator = |b: &[u8]| match b {
        [b'.', ..] => Some(1),
        [b'_', b'_', ..] => Some(2),
        [b'_', ..] => Some(1),
        [b'-', ..] => Some(b.iter().take_while(|c| **c == b'-').count()),
        _ => None,
    };
    let lower = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    check_components(repo, lower, separator).map_err(|why| {
        bad(&match why {
            Malformed::EmptyComponent => "empty path component".to_string(),
            Malformed::Character(c) => format!(
                "character {c:?} is not allowed (lowercase letters, digits, . _ __ - and /)"
            ),
            Malformed::SeparatorFirst => {
                "separators must sit between lowercase alphanumerics".into()
            }
            Malformed::SeparatorLast => "a component must end with a lowercase alphanumeric".into(),
        })
    })?;
    Ok(())
}

/// Is `first`, the first `/`-separated part of a reference, a registry host? It is
/// when it holds a `.` or a `:` or is `localhost`; otherwise the reference is a Docker
/// Hub short name (`alpine`, `user/img`).
pub fn names_a_host(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

/// `host[:port]`: DNS labels (letters, digits, inner `-`), an IPv4
/// address, or a bracketed IPv6 address (`[::1]`); the port, when given, is 1-65535.
/// The one host check of every reference oix reads (command line and plan files).
pub fn validate_host(host: &str) -> Result<()> {
    let bad = |why: &str| Error::usage(format!("invalid registry host {host:?}: {why}"));
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' of an IPv6 address"))?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p => (
                None,
                Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            ),
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("the port must be a number"));
        }
        if p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535) {
            return Err(bad("the port must be 1-65535"));
        }
    }
    let Some(name) = name else {
        return Ok(());
    };
    if name.is_empty() {
        return Err(bad("empty host name"));
    }
    for label in name.split('.') {
        let b = label.as_bytes();
        // No length limit per label here: a label over 63 characters is left to the
        // resolver, which refuses it without a query (tests/registry_edges.rs relies on
        // that to test an unresolvable host without traffic).
        let ok = !b.is_empty()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-';
        if !ok {
            return Err(bad(&format!(
                "{label:?} is not a host name label (letters, digits and inner '-')"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_stores_under_the_layout_name_else_the_tag_else_latest() {
        use crate::reference::LayoutRef;
        let d = format!("sha256:{}", "a".repeat(64));
        let r = |s: &str| RegistryRef::parse(s).unwrap();
        let l = |s: &str| LayoutRef::parse(s).unwrap();
        assert_eq!(
            r("docker://h.io/r:1").stored_as(&l("dir:mine")).unwrap(),
            "mine"
        );
        assert_eq!(r("docker://h.io/r:1").stored_as(&l("dir")).unwrap(), "1");
        assert_eq!(r("docker://h.io/r").stored_as(&l("dir")).unwrap(), "latest");
        assert_eq!(
            r(&format!("docker://h.io/r@{d}"))
                .stored_as(&l("dir:x"))
                .unwrap(),
            "x"
        );
        let e = r(&format!("docker://h.io/r@{d}"))
            .stored_as(&l("dir"))
            .unwrap_err();
        assert_eq!(e.kind, crate::Kind::Usage);
        assert!(e.hint.as_deref() == Some("write dir:REF"), "{:?}", e.hint);
        let e = r("docker://h.io/r:1")
            .stored_as(&l(&format!("dir@{d}")))
            .unwrap_err();
        assert_eq!(e.kind, crate::Kind::Usage);
    }

    #[test]
    fn credentials_in_references_are_refused_unseen() {
        let d = format!("sha256:{}", "a".repeat(64));
        for ok in [
            "docker://h.io/r:1".to_string(),
            format!("docker://alpine@{d}"),
            format!("docker://h.io/r@{d}"),
        ] {
            assert_eq!(redact_reference(&ok), ok.as_str());
        }
        assert_eq!(
            redact_reference("docker://u:hunter2@h.io:5000/r:1"),
            "docker://***@h.io:5000/r:1"
        );
        assert_eq!(
            redact_reference("docker://u:hunter2@alpine"),
            "docker://***@alpine"
        );
        // `127.0.0.1:5000` is a digest by the grammar, of no registered algorithm.
        assert_eq!(
            redact_reference("docker://u:hunter2@127.0.0.1:5000"),
            "docker://***@127.0.0.1:5000"
        );
        let e = RegistryRef::parse("docker://u:hunter2@h.io/r:1").unwrap_err();
        assert!(!format!("{} {:?}", e.message, e.hint).contains("hunter2"));
        assert_eq!(e.kind, crate::error::Kind::Usage);
    }

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_hosts_ports_tags_digests() {
        let r = RegistryRef::parse("docker://localhost:5000/a/b-c:v1.0").unwrap();
        assert_eq!(r.host, "localhost:5000");
        assert_eq!(r.repo, "a/b-c");
        assert_eq!(r.tag.as_deref(), Some("v1.0"));
        assert_eq!(r.to_string(), "docker://localhost:5000/a/b-c:v1.0");
        let r = RegistryRef::parse(&format!("docker://reg.example.com/x@{D}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.unwrap().to_string(), D);
        let r = RegistryRef::parse("docker://127.0.0.1:5000/x").unwrap();
        assert_eq!((r.host.as_str(), r.tag), ("127.0.0.1:5000", None));
        let r = RegistryRef::parse("docker://[::1]:5000/x:t").unwrap();
        assert_eq!(r.host, "[::1]:5000");
        let r = RegistryRef::parse("docker://alpine:3").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repo.as_str()),
            ("docker.io", "library/alpine")
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = RegistryRef::parse("docker://user/img").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repo.as_str()),
            ("docker.io", "user/img")
        );
        let r = RegistryRef::parse("docker://h.io/a__b/c.d/e---f:_x").unwrap();
        assert_eq!(r.repo, "a__b/c.d/e---f");
    }

    #[test]
    fn refuses_bad_references() {
        for bad in [
            "localhost:5000/x",
            "docker://",
            "docker://h.io/",
            "docker://h.io/UPPER",
            "docker://h.io/a_.b",
            "docker://h.io/a___b",
            "docker://h.io/-a",
            "docker://h.io/a//b",
            "docker://h.io/a:",
            "docker://h.io/a:.x",
            "docker://h.io/a:-x",
            "docker://h.io:99999/a",
            "docker://h.io:x/a",
            "docker://h.io/a@sha256:1234",
            "docker://h_x.io/a",
        ] {
            assert!(RegistryRef::parse(bad).is_err(), "{bad:?}");
        }
        let long_tag = "a".repeat(129);
        assert!(RegistryRef::parse(&format!("docker://h.io/a:{long_tag}")).is_err());
        assert!(validate_tag(&"a".repeat(128)).is_ok());
    }
}
