//! The plan key `referrers:` (docs/plan.md): which referrers travel with an image.

use crate::copy::stores::Carry;
use crate::error::{Error, Result};
use serde::Deserialize;

/// `referrers:` as written: `all` (the default), `none`, or a list of artifact types
/// (only referrers of those types travel, at every level: `--referrers-type`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "referrers: `all`, `none` or a list of artifact types"
)]
pub enum ReferrersSpec {
    /// `all` or `none`.
    Word(String),
    /// Artifact types.
    Types(Vec<String>),
}

impl ReferrersSpec {
    /// What it carries; a word other than `all`/`none`, an empty list or a type that
    /// is not a media type is refused (a usage error, reported by `oix plan check`).
    pub fn carry(&self) -> Result<Carry> {
        let hint = "write `referrers: all` (the default), `referrers: none`, or a list of artifact types such as `referrers: [application/spdx+json]`";
        match self {
            ReferrersSpec::Word(w) if w == "all" => Ok(Carry::default()),
            ReferrersSpec::Word(w) if w == "none" => Ok(Carry::none()),
            ReferrersSpec::Word(w) => Err(Error::usage(format!(
                "referrers: `{}` is not `all`, `none` or a list of artifact types",
                w.escape_debug()
            ))
            .with_hint(hint)),
            ReferrersSpec::Types(t) if t.is_empty() => {
                Err(Error::usage("referrers: an empty list of artifact types").with_hint(hint))
            }
            ReferrersSpec::Types(t) => {
                if let Some(bad) = t.iter().find(|t| !crate::referrers::valid_media_type(t)) {
                    return Err(Error::usage(format!(
                        "referrers: `{}` is not an artifact type (a media type, TYPE/SUBTYPE)",
                        bad.escape_debug()
                    ))
                    .with_hint(hint));
                }
                Ok(Carry {
                    enabled: true,
                    types: t.clone(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers_key_values() {
        let w = |s: &str| ReferrersSpec::Word(s.to_string());
        assert!(w("all").carry().unwrap().enabled);
        assert!(!w("none").carry().unwrap().enabled);
        let t = ReferrersSpec::Types(vec!["application/spdx+json".into()]);
        assert_eq!(t.carry().unwrap().types, ["application/spdx+json"]);
        for bad in [
            w("All"),
            w("\u{1b}[31m"),
            ReferrersSpec::Types(Vec::new()),
            ReferrersSpec::Types(vec!["spdx".into()]),
        ] {
            let e = bad.carry().unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert!(!e.message.contains('\u{1b}'), "{}", e.message);
        }
    }
}
