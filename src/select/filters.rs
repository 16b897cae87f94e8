//! The selector's filters as plain values (what `--platform`, `--where`, `--match`,
//! `--fallback`, `--scope` and `--inherit` carry), parsed into a [`Selector`]. The
//! command-line flags (`select::args`, with the `cli` feature) fill a [`Filters`] and
//! print the warnings it returns; the library never prints.

use super::{Condition, OnAmbiguity, Scope, Selector};
use crate::error::{Error, Result};
use crate::platform::{Fallback, Fallbacks, MatchMode, PlatformSpec};

/// Selector filters as strings and choices, before parsing.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Platforms (`os/arch[/variant][:os.version][+feature...]` or `local`); any may match.
    pub platforms: Vec<String>,
    /// Conditions (`key=value`, `key!=value`, `key~=REGEX`, `key`, `!key`); all must hold.
    pub wheres: Vec<String>,
    /// How platforms compare; `None` is exact (compatible under `best`).
    pub match_mode: Option<MatchMode>,
    /// Opt-in fallbacks of compatible matching.
    pub fallbacks: Vec<Fallback>,
    /// Which annotations a condition reads.
    pub scope: Scope,
    /// Let an entry see the annotations of the indexes above it.
    pub inherit: bool,
}

/// A parsed [`Selector`] and the warnings a user should see (a platform naming an
/// unknown os or architecture matches nothing; the warning says why before "no match").
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The selector.
    pub selector: Selector,
    /// One line per warning, not yet escaped for a terminal.
    pub warnings: Vec<String>,
}

impl Filters {
    /// True when no platform or condition was given.
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.wheres.is_empty()
    }

    /// Parse into a [`Selector`] (usage errors, exit 2, for bad values).
    pub fn parse(&self) -> Result<Parsed> {
        let mut s = Selector::new();
        let mut warnings = Vec::new();
        for p in &self.platforms {
            let spec = PlatformSpec::parse(p)?;
            warnings.extend(spec.unknown_warning());
            s.platforms.push(spec);
        }
        for w in &self.wheres {
            s.conditions.push(Condition::parse(w)?);
        }
        s.mode = self.match_mode;
        s.fallbacks = Fallbacks::from_list(&self.fallbacks);
        s.scope = self.scope;
        s.inherit = self.inherit;
        if self.inherit && s.conditions.is_empty() {
            return Err(Error::usage("--inherit applies to --where conditions")
                .with_hint("add a --where, or drop --inherit"));
        }
        Ok(Parsed {
            selector: s,
            warnings,
        })
    }
}

/// The `--platform`/`--where` subset of export, push, copy and merge as a [`Selector`]
/// (exact matching, every match), with its warnings.
pub fn subset_selector(platforms: &[String], wheres: &[String]) -> Result<Parsed> {
    let mut p = Filters {
        platforms: platforms.to_vec(),
        wheres: wheres.to_vec(),
        ..Filters::default()
    }
    .parse()?;
    p.selector = p.selector.on_ambiguity(OnAmbiguity::All);
    Ok(p)
}

/// The warnings [`subset_selector`] would return for these platforms (invalid ones are
/// skipped: parsing reports them).
pub fn platform_warnings(platforms: &[String]) -> Vec<String> {
    platforms
        .iter()
        .filter_map(|p| PlatformSpec::parse(p).ok())
        .filter_map(|s| s.unknown_warning())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_platform_is_a_warning_not_output() {
        let p = subset_selector(&["linux/amd65".into()], &[]).unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("amd65"), "{:?}", p.warnings);
        assert_eq!(p.selector.on_ambiguity, OnAmbiguity::All);
        assert_eq!(platform_warnings(&["linux/amd65".into()]), p.warnings);
        assert!(subset_selector(&["linux/amd64".into()], &[])
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn inherit_needs_a_condition() {
        let f = Filters {
            inherit: true,
            ..Filters::default()
        };
        assert_eq!(f.parse().unwrap_err().kind, crate::error::Kind::Usage);
    }
}
