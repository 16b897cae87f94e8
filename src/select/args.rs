//! The selector's command-line flags, reusable by every command that picks entries:
//! `#[command(flatten)] selector: SelectorArgs` (filters) and, for commands that need
//! one result, `#[command(flatten)] ambiguity: AmbiguityArgs`. Only with the `cli`
//! feature: the flags fill a library [`Filters`] and print its warnings.

use super::filters::{Filters, Parsed};
use super::{OnAmbiguity, Scope, Selector};
use crate::error::Result;
use crate::platform::{Fallback, MatchMode};
use clap::Args;

/// Selector filters: `--platform`, `--where`, `--match`, `--fallback`, `--scope`, `--inherit`.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectorArgs {
    /// Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local`
    /// (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable:
    /// any may match.
    #[arg(long = "platform", value_name = "PLATFORM", help_heading = "Selection")]
    pub platforms: Vec<String>,

    /// Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present),
    /// !key (absent); key is an annotation key or ref, digest, mediaType, artifactType.
    /// Repeatable: all must hold.
    #[arg(long = "where", value_name = "EXPR", help_heading = "Selection")]
    pub wheres: Vec<String>,

    /// How --platform compares: exact (equal after normalization) or compatible (the
    /// entry runs on that platform). Default: exact; compatible with --on-ambiguity best.
    #[arg(
        long = "match",
        value_enum,
        value_name = "MODE",
        help_heading = "Selection"
    )]
    pub match_mode: Option<MatchMode>,

    /// Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64
    /// also runs arm/v8..v5). Comma-separated or repeated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "FALLBACK",
        help_heading = "Selection"
    )]
    pub fallback: Vec<Fallback>,

    /// Which annotations --where reads: the descriptor's, the manifest's (inside the
    /// pointed-to manifest or index), or either.
    #[arg(long, value_enum, default_value_t = Scope::Descriptor, value_name = "SCOPE", help_heading = "Selection")]
    pub scope: Scope,

    /// Let an entry see the annotations of the indexes above it (never by default).
    #[arg(long, help_heading = "Selection")]
    pub inherit: bool,
}

/// `--on-ambiguity`, for commands that need one result (or all of them).
#[derive(Debug, Clone, Default, Args)]
pub struct AmbiguityArgs {
    /// When several entries match: error (exit 4, listing them), first (in index
    /// order), best (the unique best under compatible matching) or all.
    #[arg(long, value_enum, value_name = "POLICY", help_heading = "Selection")]
    pub on_ambiguity: Option<OnAmbiguity>,
}

impl SelectorArgs {
    /// True when no filter flag was given.
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.wheres.is_empty()
    }

    /// The flags as library [`Filters`].
    pub fn filters(&self) -> Filters {
        Filters {
            platforms: self.platforms.clone(),
            wheres: self.wheres.clone(),
            match_mode: self.match_mode,
            fallbacks: self.fallback.clone(),
            scope: self.scope,
            inherit: self.inherit,
        }
    }

    /// Parse the flags into a [`Selector`] (usage errors, exit 2, for bad values),
    /// printing a warning for each platform naming an unknown os or architecture.
    pub fn to_selector(&self) -> Result<Selector> {
        Ok(warned(self.filters().parse()?))
    }
}

/// Print a parse's warnings on stderr; return its selector.
fn warned(p: Parsed) -> Selector {
    for w in &p.warnings {
        crate::cli::output::warning(w);
    }
    p.selector
}

/// The `--platform`/`--where` flags of export, push and merge as a [`Selector`] (exact
/// matching, every match), with a warning printed for each platform naming an unknown
/// os or architecture ([`super::filters::subset_selector`] without the printing).
pub fn subset_selector(platforms: &[String], wheres: &[String]) -> Result<Selector> {
    Ok(warned(super::filters::subset_selector(platforms, wheres)?))
}

impl AmbiguityArgs {
    /// Set the selector's `--on-ambiguity` when the flag was given.
    pub fn apply(&self, s: Selector) -> Selector {
        match self.on_ambiguity {
            Some(a) => s.on_ambiguity(a),
            None => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::PlatformSpec;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        s: SelectorArgs,
        #[command(flatten)]
        a: AmbiguityArgs,
    }

    #[test]
    fn flags_convert() {
        let t = T::try_parse_from([
            "t",
            "--platform",
            "linux/aarch64",
            "--platform",
            "local",
            "--where",
            "a=b",
            "--match",
            "compatible",
            "--fallback",
            "386,arm",
            "--scope",
            "any",
            "--inherit",
            "--on-ambiguity",
            "best",
        ])
        .unwrap();
        let s = t.a.apply(t.s.to_selector().unwrap());
        assert_eq!(s.platforms[0].to_string(), "linux/arm64");
        assert_eq!(s.platforms[1], PlatformSpec::local());
        assert_eq!(s.conditions.len(), 1);
        assert_eq!(s.effective_mode(), MatchMode::Compatible);
        assert!(s.fallbacks.i386 && s.fallbacks.arm);
        assert_eq!(s.scope, Scope::Any);
        assert!(s.inherit);
        assert_eq!(s.on_ambiguity, OnAmbiguity::Best);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let t = T::try_parse_from(["t", "--platform", "linux"]).unwrap();
        assert_eq!(t.s.to_selector().unwrap_err().kind, crate::Kind::Usage);
        let t = T::try_parse_from(["t", "--where", "!a=b"]).unwrap();
        assert_eq!(t.s.to_selector().unwrap_err().kind, crate::Kind::Usage);
        let t = T::try_parse_from(["t", "--inherit"]).unwrap();
        assert_eq!(t.s.to_selector().unwrap_err().kind, crate::Kind::Usage);
        // fallbacks need compatible matching
        let t = T::try_parse_from(["t", "--platform", "linux/amd64", "--fallback", "386"]).unwrap();
        let s = t.s.to_selector().unwrap();
        assert_eq!(s.validate().unwrap_err().kind, crate::Kind::Usage);
        // best implies compatible
        let s = s.on_ambiguity(OnAmbiguity::Best);
        assert!(s.validate().is_ok());
    }
}
