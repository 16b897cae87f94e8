//! Matching a wanted platform against an entry's: the two match modes, the opt-in
//! fallbacks, and the ranking used by `--on-ambiguity best`, with the variant and
//! Windows os.version rules they rest on. Pure.

use super::PlatformSpec;
use serde::Serialize;
use std::cmp::Reverse;

impl PlatformSpec {
    /// Match this wanted platform against an entry's platform `have`. On success, how
    /// well it matched (for ranking); otherwise why not, in words.
    pub fn matches(
        &self,
        have: &PlatformSpec,
        mode: MatchMode,
        fallbacks: Fallbacks,
    ) -> std::result::Result<PlatformMatch, String> {
        self.compare(have, mode, fallbacks)
            .map_err(|why| why.explain(self, have))
    }

    /// [`PlatformSpec::matches`] without wording the reason of a mismatch (the fast path
    /// for searching many entries).
    pub fn check(
        &self,
        have: &PlatformSpec,
        mode: MatchMode,
        fallbacks: Fallbacks,
    ) -> Option<PlatformMatch> {
        self.compare(have, mode, fallbacks).ok()
    }

    fn compare(
        &self,
        have: &PlatformSpec,
        mode: MatchMode,
        fb: Fallbacks,
    ) -> std::result::Result<PlatformMatch, Why> {
        match mode {
            MatchMode::Exact => self.match_exact(have),
            MatchMode::Compatible => self.match_compatible(have, fb),
        }
    }

    fn match_exact(&self, have: &PlatformSpec) -> std::result::Result<PlatformMatch, Why> {
        if self.os != have.os {
            return Err(Why::Os);
        }
        if self.architecture != have.architecture || self.variant != have.variant {
            return Err(Why::NotEqual);
        }
        if let (Some(w), Some(h)) = (&self.os_version, &have.os_version) {
            if !versions_equal(w, h) {
                return Err(Why::OsVersion);
            }
        }
        if !self.os_features.is_empty()
            && !have.os_features.is_empty()
            && self.os_features != have.os_features
        {
            return Err(Why::OsFeaturesDiffer);
        }
        Ok(PlatformMatch {
            rank: Rank::best(have.os_features.len()),
            how: "exact",
        })
    }

    fn match_compatible(
        &self,
        have: &PlatformSpec,
        fb: Fallbacks,
    ) -> std::result::Result<PlatformMatch, Why> {
        if self.os != have.os {
            return Err(Why::OsCompatible);
        }
        let (class, variant_distance, fallback) = if self.architecture == have.architecture {
            match variant_distance(&self.architecture, &self.variant, &have.variant) {
                Some(0) => (Class::Same, 0, None),
                Some(d) => (Class::OlderVariant, d, None),
                None => return Err(Why::Variant),
            }
        } else if self.architecture == "amd64" && have.architecture == "386" {
            if !fb.i386 {
                return Err(Why::NeedsFallback("386"));
            }
            (Class::CrossArch, 0, Some("386"))
        } else if self.architecture == "arm64" && have.architecture == "arm" {
            let Some(n) = arm_level(&have.variant).filter(|n| *n <= 8) else {
                return Err(Why::Variant);
            };
            if !fb.arm {
                return Err(Why::NeedsFallback("arm"));
            }
            (Class::CrossArch, 8 - n, Some("arm"))
        } else {
            return Err(Why::Arch);
        };
        let mut class = class;
        let mut version_distance = (0, 0);
        if let (Some(w), Some(h)) = (&self.os_version, &have.os_version) {
            match version_distance_for(&self.os, w, h) {
                Some(d) => {
                    version_distance = d;
                    if d.0 > 0 && class == Class::Same {
                        class = Class::OlderVersion;
                    }
                }
                None => return Err(Why::OsVersion),
            }
        }
        if !self.os_features.is_empty() {
            if let Some(i) = have
                .os_features
                .iter()
                .position(|f| self.os_features.binary_search(f).is_err())
            {
                return Err(Why::OsFeature(i));
            }
        }
        let how = match (class, fallback) {
            (_, Some("386")) => "compatible: opt-in fallback 386",
            (_, Some(_)) => "compatible: opt-in fallback arm",
            (Class::Same, _) => "compatible",
            (Class::OlderVariant, _) => "compatible: older variant",
            _ => "compatible: older os.version",
        };
        Ok(PlatformMatch {
            rank: Rank {
                class,
                variant_distance,
                version_distance,
                features: Reverse(have.os_features.len()),
            },
            how,
        })
    }
}

/// Why a platform did not match (worded by [`Why::explain`] only when shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Os,
    OsCompatible,
    NotEqual,
    Variant,
    Arch,
    NeedsFallback(&'static str),
    OsVersion,
    OsFeaturesDiffer,
    /// The entry needs its os.feature number `usize`.
    OsFeature(usize),
}

impl Why {
    fn explain(self, want: &PlatformSpec, have: &PlatformSpec) -> String {
        match self {
            Why::Os => format!("os {} is not {}", have.os, want.os),
            Why::OsCompatible => format!(
                "os {} cannot run on {} (no fallback across operating systems)",
                have.os, want.os
            ),
            Why::NotEqual => format!("{} is not {}", have.short(), want.short()),
            Why::Variant => format!("{} does not run on {}", have.short(), want.short()),
            Why::Arch => format!(
                "architecture {} is not {}",
                have.architecture, want.architecture
            ),
            Why::NeedsFallback(fb) => format!(
                "{} would run on {} only with the opt-in fallback --fallback {fb}",
                have.short(),
                want.short()
            ),
            Why::OsVersion => {
                let (w, h) = (
                    want.os_version.as_deref().unwrap_or_default(),
                    have.os_version.as_deref().unwrap_or_default(),
                );
                if want.os == "windows" {
                    format!("os.version {h} does not run on a {w} host (Windows build rules)")
                } else {
                    format!("os.version {h} is not {w}")
                }
            }
            Why::OsFeaturesDiffer => format!(
                "os.features {} are not {}",
                have.os_features.join("+"),
                want.os_features.join("+")
            ),
            Why::OsFeature(i) => format!(
                "needs os.feature {}, not among the wanted ones",
                have.os_features.get(i).map(String::as_str).unwrap_or("?")
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Matching and ranking

/// `--match`: how a wanted platform is compared with an entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Equal after normalization.
    #[default]
    Exact,
    /// The entry can run on the wanted platform.
    Compatible,
}

/// Opt-in cross-architecture fallbacks of compatible matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fallbacks {
    /// amd64 runs 386.
    pub i386: bool,
    /// arm64 runs arm/v8, v7, v6, v5.
    pub arm: bool,
}

/// One opt-in fallback, as `--fallback` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Fallback {
    /// An amd64 host also accepts 386 entries.
    #[cfg_attr(feature = "cli", value(name = "386"))]
    I386,
    /// An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support).
    Arm,
}

impl Fallbacks {
    pub fn from_list(list: &[Fallback]) -> Fallbacks {
        Fallbacks {
            i386: list.contains(&Fallback::I386),
            arm: list.contains(&Fallback::Arm),
        }
    }
    pub fn any(&self) -> bool {
        self.i386 || self.arm
    }
}

/// How a match was reached, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Same architecture and variant (and os.version, when compared).
    Same,
    /// Same architecture and variant, older Windows build.
    OlderVersion,
    /// Same architecture, older variant.
    OlderVariant,
    /// An opt-in fallback to another architecture.
    CrossArch,
}

/// How well an entry's platform fits a wanted one; smaller is better. Ordered by: the
/// class (exact before fallback), the variant distance (higher variant first), the
/// os.version distance (closest build first, then closest revision, or the highest when
/// the wanted platform gives no revision), then more os.features first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank {
    pub class: Class,
    pub variant_distance: u32,
    pub version_distance: (u64, u64),
    pub features: Reverse<usize>,
}

impl Rank {
    fn best(features: usize) -> Rank {
        Rank {
            class: Class::Same,
            variant_distance: 0,
            version_distance: (0, 0),
            features: Reverse(features),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMatch {
    pub rank: Rank,
    /// How it matched: `exact`, `compatible`, `compatible: older variant`, ...
    pub how: &'static str,
}

/// Levels of the variants of architectures with an ordered variant family. `None` for
/// unknown architectures or variants, which then only match themselves.
pub(super) fn variant_level(arch: &str, variant: &str) -> Option<u32> {
    match arch {
        "amd64" => match variant {
            "" => Some(1),
            v => v
                .strip_prefix('v')?
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=9).contains(n)),
        },
        "arm" => arm_level(variant),
        // v8.x → 80+x, v9.x → 90+x
        "arm64" => {
            let v = if variant.is_empty() { "v8" } else { variant };
            let rest = v.strip_prefix('v')?;
            let (maj, min) = match rest.split_once('.') {
                Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
                None => (rest.parse::<u32>().ok()?, 0),
            };
            ((8..=9).contains(&maj) && min <= 9).then(|| maj * 10 + min)
        }
        "ppc64le" => match variant {
            "" => Some(8),
            v => v
                .strip_prefix("power")?
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 8),
        },
        "riscv64" => match variant {
            "" => Some(20),
            v => v
                .strip_prefix("rva")?
                .strip_suffix("u64")?
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 20),
        },
        _ => None,
    }
}

fn arm_level(variant: &str) -> Option<u32> {
    variant
        .strip_prefix('v')?
        .parse::<u32>()
        .ok()
        .filter(|n| (5..=8).contains(n))
}

/// How far below the host variant the entry's is, when the host runs it.
fn variant_distance(arch: &str, host: &str, entry: &str) -> Option<u32> {
    if host == entry {
        return Some(0);
    }
    let h = variant_level(arch, host)?;
    let e = variant_level(arch, entry)?;
    if arch == "arm64" && h / 10 == 9 && e / 10 == 8 {
        // v9.x hosts run v8.y up to y = min(x + 5, 9)
        let limit = 80 + (h % 10 + 5).min(9);
        return (e <= limit).then(|| h - e);
    }
    if arch == "arm64" && h / 10 != e / 10 {
        return None;
    }
    (e <= h).then(|| h - e)
}

/// Dotted numeric components; `None` if any is not a number.
fn version_components(v: &str) -> Option<Vec<u64>> {
    v.split('.').map(|c| c.parse::<u64>().ok()).collect()
}

/// Versions equal in the components both give (`10.0.17763` = `10.0.17763.1457`).
fn versions_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (version_components(a), version_components(b)) {
        (Some(x), Some(y)) => x.iter().zip(y.iter()).all(|(p, q)| p == q),
        _ => false,
    }
}

/// Windows builds from which the stable container ABI holds (ltsc2022, ltsc2025).
pub const WINDOWS_LTSC_BUILDS: [u64; 2] = [20348, 26100];

/// Whether an entry with os.version `entry` runs on a host with `host`, and how far.
fn version_distance_for(os: &str, host: &str, entry: &str) -> Option<(u64, u64)> {
    if os != "windows" {
        return versions_equal(host, entry).then_some((0, 0));
    }
    let (h, e) = match (version_components(host), version_components(entry)) {
        (Some(h), Some(e)) if h.len() >= 3 && e.len() >= 3 => (h, e),
        _ => return versions_equal(host, entry).then_some((0, 0)),
    };
    if h[0] != e[0] || h[1] != e[1] {
        return None;
    }
    let (hb, eb) = (h[2], e[2]);
    let ok = if hb < WINDOWS_LTSC_BUILDS[0] {
        hb == eb
    } else {
        let ltsc = WINDOWS_LTSC_BUILDS
            .iter()
            .rev()
            .find(|b| hb >= **b)
            .copied()
            .unwrap_or(WINDOWS_LTSC_BUILDS[0]);
        eb >= ltsc && eb <= hb
    };
    if !ok {
        return None;
    }
    // Revisions: the closest to the host's; the highest when the host gives none (a
    // missing revision counts as 0).
    let er = e.get(3).copied().unwrap_or(0);
    let rev = match h.get(3) {
        Some(hr) => hr.abs_diff(er),
        None => u64::MAX - er,
    };
    Some((hb - eb, rev))
}
