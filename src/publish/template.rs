//! The per-arch tag template of `oix publish`: expanding it for one image, and telling
//! which existing tags it could have made (a cheap filter before reading their images).

use crate::error::{Error, Result};
use crate::model::Platform;

/// The per-arch tag template with TAG (and the build id) filled in.
#[derive(Debug, Clone)]
pub struct ArchTag {
    /// `{tag}` and `{build}` replaced; `{arch}`, `{variant}`, `{os}` left.
    template: String,
    tag: String,
}

const PLACEHOLDERS: [&str; 3] = ["{arch}", "{variant}", "{os}"];

impl ArchTag {
    /// `template` as given to `--arch-tag`; `{build}` needs `build` (and `build` needs
    /// `{build}`: per-arch tags of one build must not collide with another's).
    pub fn new(template: &str, tag: &str, build: Option<&str>) -> Result<ArchTag> {
        let usage = |m: String| Error::usage(format!("--arch-tag {template:?}: {m}"));
        if !template.contains("{arch}") {
            return Err(usage("it must contain {arch}".into())
                .with_hint("write e.g. '{tag}-{arch}' or '{tag}-{arch}{variant}'"));
        }
        let t = match (template.contains("{build}"), build) {
            (true, Some(b)) => {
                crate::registry::reference::validate_tag(b)
                    .map_err(|e| e.context(format!("--build {b:?}")))?;
                template.replace("{build}", b)
            }
            (true, None) => {
                return Err(usage("it contains {build} but no --build was given".into()))
            }
            (false, Some(_)) => {
                return Err(
                    usage("--build is given but the template has no {build}".into())
                        .with_hint("write e.g. '{tag}-{build}-{arch}'"),
                )
            }
            (false, None) => template.to_string(),
        };
        Ok(ArchTag {
            template: t.replace("{tag}", tag),
            tag: tag.to_string(),
        })
    }

    /// The per-arch tag of an image of platform `p`.
    pub fn expand(&self, p: &Platform) -> Result<String> {
        crate::registry::push::expand_arch_tag(&self.template, &self.tag, p)
    }

    /// Whether `name` could be an expansion (a cheap filter before reading its image):
    /// the placeholders match any text.
    pub fn may_match(&self, name: &str) -> bool {
        let mut pieces: Vec<&str> = Vec::new();
        let mut rest = self.template.as_str();
        loop {
            let next = PLACEHOLDERS
                .iter()
                .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
                .min();
            match next {
                Some((i, len)) => {
                    pieces.push(&rest[..i]);
                    rest = &rest[i + len..];
                }
                None => {
                    pieces.push(rest);
                    break;
                }
            }
        }
        glob(&pieces, name)
    }
}

/// `name` = pieces[0] * pieces[1] * ... * pieces[n] (each `*` any text).
fn glob(pieces: &[&str], name: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return name.is_empty();
    };
    let Some(mut s) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return s.is_empty();
    };
    for p in middle {
        match s.find(p) {
            Some(i) => s = &s[i + p.len()..],
            None => return false,
        }
    }
    s.len() >= last.len() && s.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn templates_expand_and_match() {
        let t = ArchTag::new("{tag}-{arch}{variant}", "40", None).unwrap();
        assert_eq!(
            t.expand(&p("linux", "arm", Some("v7"))).unwrap(),
            "40-armv7"
        );
        assert!(t.may_match("40-amd64"));
        assert!(t.may_match("40-"));
        assert!(!t.may_match("41-amd64"));
        assert!(!t.may_match("40"));
        let b = ArchTag::new("{tag}-{build}-{os}-{arch}", "40", Some("r7")).unwrap();
        assert_eq!(
            b.expand(&p("linux", "s390x", None)).unwrap(),
            "40-r7-linux-s390x"
        );
        assert!(b.may_match("40-r7-linux-s390x"));
        assert!(!b.may_match("40-r6-linux-s390x"));
        assert!(ArchTag::new("{tag}", "40", None).is_err());
        assert!(ArchTag::new("{tag}-{build}-{arch}", "40", None).is_err());
        assert!(ArchTag::new("{tag}-{arch}", "40", Some("r1")).is_err());
        assert!(ArchTag::new("{tag}-{build}-{arch}", "40", Some("bad/id")).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob(&["a", "b", "c"], "aXbYc"));
        assert!(glob(&["a", "b", "c"], "abc"));
        assert!(!glob(&["a", "b", "c"], "ac"));
        assert!(glob(&["", ""], "anything"));
        assert!(glob(&["x"], "x"));
        assert!(!glob(&["x"], "xy"));
        assert!(!glob(&["ab", "ba"], "aba"));
    }
}
