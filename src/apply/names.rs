//! The distribution-spec name grammars a plan is checked against, and per-arch tag
//! templates.
//!
//! - tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`;
//! - repository name: `/`-separated components, each `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`;
//! - registry host: `host[:port]`, DNS labels or an IPv4 address or `[IPv6]`, the port
//!   1-65535.
//!
//! They are the checks of [`crate::registry::reference`], the parser `push` uses, so a
//! plan that `oix plan check` accepts is not refused later for its names.
//!
//! A release tag also becomes the layout ref `NAME:TAG`, which must satisfy the
//! image-spec ref grammar ([`crate::reference::validate_ref_name`]) as well.

use crate::error::{Error, Result};
pub use crate::registry::push::expand_arch_tag;
pub use crate::registry::reference::{validate_host, validate_repo, validate_tag};

/// The placeholders a per-arch tag template may use.
pub const ARCH_TAG_PLACEHOLDERS: &[&str] = &["{tag}", "{os}", "{arch}", "{variant}"];

/// Check an `arch_tags` template: it must use `{tag}` (one tag per release tag) and
/// `{arch}` (one tag per architecture), and no placeholder but those of
/// [`ARCH_TAG_PLACEHOLDERS`].
pub fn validate_arch_tag_template(template: &str) -> Result<()> {
    let bad = |why: String| {
        Error::usage(format!("arch_tags {template:?}: {why}"))
            .with_hint("write e.g. \"{tag}-{arch}\" or \"{tag}_{arch}{variant}\"")
    };
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i..];
        let end = tail
            .find('}')
            .ok_or_else(|| bad("a '{' without its '}'".into()))?;
        let ph = &tail[..=end];
        if !ARCH_TAG_PLACEHOLDERS.contains(&ph) {
            return Err(bad(format!(
                "unknown placeholder {ph}; use {}",
                ARCH_TAG_PLACEHOLDERS.join(", ")
            )));
        }
        rest = &tail[end + 1..];
    }
    if rest.contains('}') {
        return Err(bad("a '}' without its '{'".into()));
    }
    for needed in ["{tag}", "{arch}"] {
        if !template.contains(needed) {
            return Err(bad(format!("{needed} is missing, so tags would collide")));
        }
    }
    // A sample expansion must be a legal tag.
    let sample = template
        .replace("{tag}", "1.0")
        .replace("{os}", "linux")
        .replace("{arch}", "arm64")
        .replace("{variant}", "v8");
    validate_tag(&sample).map_err(|e| bad(e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    #[test]
    fn tags() {
        for ok in [
            "stx.4.0-v2.2",
            "master-centos-stable-20191203T153530Z.0",
            "_x",
            "40",
            "stx.4.0-v0.11.0-103-g4f28657",
        ] {
            validate_tag(ok).unwrap();
        }
        for bad in ["", ".x", "-x", "a b", "a:b", "a/b", &"x".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repos() {
        for ok in ["k8s-cni-sriov", "starlingx/k8s", "a__b", "a---b", "a.b_c"] {
            validate_repo(ok).unwrap();
        }
        for bad in ["", "A", "a//b", "-a", "a-", "a___b", "a..b", "a:b", "/a"] {
            assert!(validate_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        for ok in [
            "registry.example.com",
            "localhost:5000",
            "127.0.0.1:1",
            "[::1]:5000",
        ] {
            validate_host(ok).unwrap();
        }
        for bad in [
            "", "a..b", "-a.b", "a:b", "host:", "[::1", "a_b.c", "h:0", "h:65536", "h:99999",
        ] {
            assert!(validate_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arch_templates() {
        validate_arch_tag_template("{tag}-{arch}").unwrap();
        validate_arch_tag_template("{tag}_{arch}{variant}").unwrap();
        assert!(validate_arch_tag_template("{tag}").is_err());
        assert!(validate_arch_tag_template("{tag}-{cpu}").is_err());
        assert!(validate_arch_tag_template("{tag}/{arch}").is_err());
        assert!(validate_arch_tag_template("{tag-{arch}").is_err());
        let p = Platform {
            os: "linux".into(),
            architecture: "arm".into(),
            variant: Some("v7".into()),
            ..Default::default()
        };
        assert_eq!(
            expand_arch_tag("{tag}_{arch}{variant}", "1.0", &p).unwrap(),
            "1.0_armv7"
        );
    }
}
