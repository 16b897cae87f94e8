//! Platforms: the platform of an index entry, the platform specs users write, their
//! normalization, and the two match modes with the ranking used by `--on-ambiguity best`.
//!
//! # The platform of an entry
//! The platform of an entry is its descriptor's `platform`; when the descriptor has none,
//! it is derived from the config of the manifest it points to (os, architecture,
//! variant, os.version, os.features) and shown as derived.
//!
//! # Normalization
//! Both sides of every comparison are normalized first (the table of containerd's
//! `normalizeArch`, see docs/selection.md): lower case; `x86_64`/`x86-64` → `amd64`,
//! `amd64/v1` ≡ `amd64`; `aarch64` → `arm64`, `arm64/v8` (`8`, `v8.0`) ≡ `arm64`,
//! `arm64/9` (`9.0`, `v9.0`) → `arm64/v9`; `i386` → `386` (variant dropped);
//! `armhf` → `arm/v7`; `armel` → `arm/v6`; bare `arm` (or `arm/7`) → `arm/v7`,
//! `arm/5|6|8` → `arm/v5|v6|v8`; OS `macos` → `darwin`, empty → the running OS.
//! os.features are lower-cased, sorted and de-duplicated; os.version is trimmed.
//!
//! # Match modes
//! - [`MatchMode::Exact`]: os, architecture and variant equal after normalization;
//!   os.version compared (component-wise, `10.0.17763` = `10.0.17763.*`) and os.features
//!   compared (as sets) only when both sides give them. The relation is symmetric.
//! - [`MatchMode::Compatible`]: the entry can run on the wanted platform (the "host"):
//!   same os; same architecture with a variant at or below the host's (arm/v7 runs v6
//!   and v5; amd64/v3 runs v2 and v1; arm64/v8.x runs v8.y for y ≤ x; arm64/v9.x runs
//!   v9.y ≤ x and v8.y ≤ min(x+5, 9); ppc64le/powerN runs lower powerM; riscv64 profile
//!   rva2Nu64 runs lower ones); Windows os.version by build (the host's build must equal
//!   the entry's before 20348 (ltsc2022); from 20348 on, the entry's build must lie between
//!   the newest LTSC build at or below the host's and the host's build); os.features of
//!   the entry must be a subset of the wanted ones when those are given.
//!   Opt-in fallbacks across architectures ([`Fallbacks`]): amd64 runs 386, arm64 runs
//!   arm/v8..v5. They are off by default because not every host has them (many arm64
//!   CPUs have no AArch32). There is no fallback across operating systems.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, Descriptor, Document, ImageConfig, Platform};
use serde::Serialize;
use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPlatform {
    pub platform: Platform,
    /// True when read from the image config rather than the descriptor.
    pub derived: bool,
}

impl EntryPlatform {
    pub fn display(&self) -> String {
        if self.derived {
            format!("{} (derived)", self.platform.display())
        } else {
            self.platform.display()
        }
    }
    /// The normalized form, for matching.
    pub fn spec(&self) -> PlatformSpec {
        PlatformSpec::from_platform(&self.platform)
    }
}

/// The platform of a manifest entry, from its descriptor or (derived) from its config.
/// Returns `None` for entries without either (and for indexes).
pub fn entry_platform(layout: &Layout, desc: &Descriptor) -> Option<EntryPlatform> {
    if let Some(p) = &desc.platform {
        return Some(EntryPlatform {
            platform: (**p).clone(),
            derived: false,
        });
    }
    derived_platform(layout, desc).map(|platform| EntryPlatform {
        platform,
        derived: true,
    })
}

/// The platform in the config of the manifest `desc` points to (`None` for indexes,
/// artifacts without an image config, and unreadable blobs).
pub fn derived_platform(layout: &Layout, desc: &Descriptor) -> Option<Platform> {
    if !desc.is_manifest() {
        return None;
    }
    let (_, doc) = layout.read_document(desc).ok()?;
    let Some(Document::Manifest(m)) = doc else {
        return None;
    };
    config_platform(layout, &m.config)
}

/// os/architecture/... of an image config blob, when it is one.
pub fn config_platform(layout: &Layout, config: &Descriptor) -> Option<Platform> {
    if !model::media::is_image_config(&config.media_type) {
        return None;
    }
    let bytes = layout.read_blob(config, model::MAX_MANIFEST_SIZE).ok()?;
    let cfg: ImageConfig = serde_json::from_slice(&bytes).ok()?;
    cfg.platform()
}

// ---------------------------------------------------------------------------------------
// Normalization

/// The operating system as Go's GOOS spells it: lower case, `macos` → `darwin`, empty →
/// the running machine's.
pub fn normalize_os(os: &str) -> String {
    let os = os.trim().to_ascii_lowercase();
    match os.as_str() {
        "" => local_os(),
        "macos" => "darwin".into(),
        _ => os,
    }
}

/// Architecture and variant per containerd's `normalizeArch` table. An empty variant is
/// the architecture's base (amd64 = v1, arm64 = v8); arm always gets an explicit variant.
pub fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.trim().to_ascii_lowercase();
    let variant = variant.trim().to_ascii_lowercase();
    let (a, v): (&str, String) = match arch.as_str() {
        "i386" => ("386", String::new()),
        "x86_64" | "x86-64" | "amd64" => (
            "amd64",
            if variant == "v1" {
                String::new()
            } else {
                variant
            },
        ),
        "aarch64" | "arm64" => (
            "arm64",
            match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".into(),
                _ => variant,
            },
        ),
        "armhf" => ("arm", "v7".into()),
        "armel" => ("arm", "v6".into()),
        "arm" => (
            "arm",
            match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" => "v5".into(),
                "6" => "v6".into(),
                "8" => "v8".into(),
                _ => variant,
            },
        ),
        _ => return (arch, variant),
    };
    (a.to_string(), v)
}

/// A normalized copy of a model [`Platform`] (unknown fields dropped).
pub fn normalize(p: &Platform) -> Platform {
    PlatformSpec::from_platform(p).to_platform()
}

fn local_os() -> String {
    match std::env::consts::OS {
        "macos" => "darwin".into(),
        os => os.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Known values

/// Go's GOOS values (`go tool dist list`, plus historical ones): the operating systems
/// OCI platforms name. Others are typos until a user says otherwise.
pub const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// Go's GOARCH values (normalized: `x86_64` is `amd64`, `aarch64` is `arm64`).
pub const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "arm64",
    "arm64be",
    "armbe",
    "loong64",
    "mips",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "mipsle",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// Whether `arch` (any alias, any case) is a known architecture.
pub fn is_known_arch(arch: &str) -> bool {
    KNOWN_ARCH.contains(&normalize_arch(arch, "").0.as_str())
}

/// Whether `os` (any case, `macos` included) is a known operating system.
pub fn is_known_os(os: &str) -> bool {
    !os.trim().is_empty() && KNOWN_OS.contains(&normalize_os(os).as_str())
}

/// The known value closest to `word` (edit distance at most 2), for a hint.
fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let distance = |a: &str, b: &str| -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    };
    known
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

impl PlatformSpec {
    /// What is unknown about this platform (its os or architecture is not a GOOS/GOARCH
    /// value), with a suggestion; `None` when both are known.
    pub fn unknown(&self) -> Option<(String, Option<String>)> {
        let mut what = Vec::new();
        let mut fixed = self.clone();
        if !KNOWN_OS.contains(&self.os.as_str()) {
            what.push(format!("unknown os {:?}", self.os));
            if let Some(n) = nearest(&self.os, KNOWN_OS) {
                fixed.os = n.to_string();
            }
        }
        if !KNOWN_ARCH.contains(&self.architecture.as_str()) {
            what.push(format!("unknown architecture {:?}", self.architecture));
            if let Some(n) = nearest(&self.architecture, KNOWN_ARCH) {
                fixed.architecture = n.to_string();
            }
        }
        if what.is_empty() {
            return None;
        }
        let suggestion = (fixed != *self).then(|| fixed.short());
        Some((what.join(" and "), suggestion))
    }

    /// A platform to be written (into an index or a config) must name a known os and
    /// architecture unless `allow_unknown`: a usage error (exit 2) with the nearest known
    /// platform as a hint.
    pub fn check_known(&self, allow_unknown: bool) -> Result<()> {
        match self.unknown() {
            Some((what, suggestion)) if !allow_unknown => {
                let mut hint = String::new();
                if let Some(s) = suggestion {
                    hint.push_str(&format!("did you mean {s}? "));
                }
                hint.push_str("pass --allow-unknown-platform to write it anyway");
                Err(Error::usage(format!("platform {}: {what}", self.short())).with_hint(hint))
            }
            _ => Ok(()),
        }
    }

    /// A warning for a platform used to read (a filter): `None` when it is known.
    pub fn unknown_warning(&self) -> Option<String> {
        self.unknown().map(|(what, suggestion)| {
            let mut w = format!(
                "--platform {}: {what}; it matches only itself",
                self.short()
            );
            if let Some(s) = suggestion {
                w.push_str(&format!(" (did you mean {s}?)"));
            }
            w
        })
    }
}

/// Where an entry's platform disagrees with its image config's: os or architecture
/// differ after normalization. One rule for `fsck` (a warning) and for writing an entry
/// (refused unless forced).
pub fn config_disagreement(entry: &Platform, config: &Platform) -> Option<String> {
    let (e, c) = (
        PlatformSpec::from_platform(entry),
        PlatformSpec::from_platform(config),
    );
    (e.os != c.os || e.architecture != c.architecture).then(|| {
        format!(
            "entry says {}/{} but its config says {}/{}",
            entry.os, entry.architecture, config.os, config.architecture
        )
    })
}

// ---------------------------------------------------------------------------------------
// Platform specs

/// A normalized platform: what a user asked for (`--platform`), or an entry's platform
/// made comparable. Build one with [`PlatformSpec::parse`] or
/// [`PlatformSpec::from_platform`]; the fields are always normalized.
///
/// `os_version: None` and empty `os_features` mean "not given": such a field is not
/// compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlatformSpec {
    pub os: String,
    pub architecture: String,
    /// `""` = the architecture's base variant.
    pub variant: String,
    pub os_version: Option<String>,
    /// Lower case, sorted, unique.
    pub os_features: Vec<String>,
}

impl PlatformSpec {
    /// Build a normalized spec from parts.
    pub fn new(os: &str, arch: &str, variant: &str) -> PlatformSpec {
        let (architecture, variant) = normalize_arch(arch, variant);
        PlatformSpec {
            os: normalize_os(os),
            architecture,
            variant,
            os_version: None,
            os_features: Vec::new(),
        }
    }

    pub fn with_os_version(mut self, v: &str) -> PlatformSpec {
        let v = v.trim();
        self.os_version = (!v.is_empty()).then(|| v.to_string());
        self
    }

    pub fn with_os_features<S: AsRef<str>>(mut self, f: &[S]) -> PlatformSpec {
        self.os_features = norm_features(f.iter().map(|s| s.as_ref()));
        self
    }

    /// The running machine (`local`): GOOS/GOARCH of this build of oix. The CPU's
    /// micro-architecture level is not probed (amd64 means v1), 32-bit arm means v7, and
    /// no os.version is given.
    pub fn local() -> PlatformSpec {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", ""),
            "x86" => ("386", ""),
            "aarch64" => ("arm64", ""),
            "arm" => ("arm", "v7"),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", ""),
            "powerpc64" => ("ppc64", ""),
            "loongarch64" => ("loong64", ""),
            "mips64" if cfg!(target_endian = "little") => ("mips64le", ""),
            other => (other, ""),
        };
        PlatformSpec::new(&local_os(), arch, variant)
    }

    /// Parse `os/arch[/variant][:os.version][+feature...]` (case-insensitive, aliases
    /// normalized) or `local`.
    pub fn parse(input: &str) -> Result<PlatformSpec> {
        let bad = |why: &str| {
            Error::usage(format!("invalid platform {input:?}: {why}")).with_hint(
                "write os/arch[/variant][:os.version][+feature...], e.g. linux/arm64, \
                 linux/arm/v6, windows/amd64:10.0.17763+win32k, or `local`",
            )
        };
        let s = input.trim();
        if s.eq_ignore_ascii_case("local") {
            return Ok(PlatformSpec::local());
        }
        let mut parts = s.split('+');
        let head = parts.next().unwrap_or_default();
        let features: Vec<&str> = parts.collect();
        for f in &features {
            if f.is_empty() || !f.bytes().all(is_name_byte) {
                return Err(bad(&format!("os.feature {f:?} must be [a-z0-9._-]+")));
            }
        }
        let (plat, version) = match head.split_once(':') {
            Some((p, v)) => {
                if v.is_empty()
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                {
                    return Err(bad(&format!("os.version {v:?} must be [A-Za-z0-9._-]+")));
                }
                (p, Some(v))
            }
            None => (head, None),
        };
        let comps: Vec<&str> = plat.split('/').collect();
        if comps.len() < 2 || comps.len() > 3 {
            return Err(bad("expected os/arch or os/arch/variant"));
        }
        for c in &comps {
            if c.is_empty() || !c.bytes().all(is_name_byte) {
                return Err(bad(&format!("{c:?} must be [a-z0-9._-]+")));
            }
        }
        if comps.len() == 2 && is_known_arch(comps[0]) && !is_known_os(comps[0]) {
            // `arm64/v8`: an architecture where the os belongs.
            let mut hint = format!("did you mean linux/{}?", plat.to_ascii_lowercase());
            if is_known_os(comps[1]) {
                hint = format!(
                    "did you mean {}/{}?",
                    comps[1].to_ascii_lowercase(),
                    comps[0].to_ascii_lowercase()
                );
            }
            return Err(Error::usage(format!(
                "invalid platform {input:?}: {:?} is an architecture, not an operating system",
                comps[0]
            ))
            .with_hint(format!("{hint} (a platform is os/arch[/variant])")));
        }
        let mut spec = PlatformSpec::new(comps[0], comps[1], comps.get(2).copied().unwrap_or(""));
        if let Some(v) = version {
            spec = spec.with_os_version(v);
        }
        Ok(spec.with_os_features(&features))
    }

    /// Normalize an OCI platform object.
    pub fn from_platform(p: &Platform) -> PlatformSpec {
        let spec = PlatformSpec::new(&p.os, &p.architecture, p.variant.as_deref().unwrap_or(""));
        let spec = match p.os_version.as_deref() {
            Some(v) => spec.with_os_version(v),
            None => spec,
        };
        match &p.os_features {
            Some(f) => spec.with_os_features(f),
            None => spec,
        }
    }

    /// As an OCI platform object.
    pub fn to_platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: (!self.os_features.is_empty()).then(|| self.os_features.clone()),
            variant: (!self.variant.is_empty()).then(|| self.variant.clone()),
            features: None,
            extra: Default::default(),
        }
    }

    /// `os/arch[/variant]` without os.version and os.features.
    pub fn short(&self) -> String {
        if self.variant.is_empty() {
            format!("{}/{}", self.os, self.architecture)
        } else {
            format!("{}/{}/{}", self.os, self.architecture, self.variant)
        }
    }

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

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

fn norm_features<'a>(f: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = f
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

impl fmt::Display for PlatformSpec {
    /// `os/arch[/variant][:os.version][+feature...]`; [`PlatformSpec::parse`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())?;
        if let Some(v) = &self.os_version {
            write!(f, ":{v}")?;
        }
        for feat in &self.os_features {
            write!(f, "+{feat}")?;
        }
        Ok(())
    }
}

impl FromStr for PlatformSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<PlatformSpec> {
        PlatformSpec::parse(s)
    }
}

// ---------------------------------------------------------------------------------------
// Matching and ranking

/// `--match`: how a wanted platform is compared with an entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fallback {
    /// An amd64 host also accepts 386 entries.
    #[value(name = "386")]
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
fn variant_level(arch: &str, variant: &str) -> Option<u32> {
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

/// A platform a user wrote, to be recorded (build configs, index entries): parsed and
/// checked with [`PlatformSpec::parse`], os and architecture normalized (`x86_64` →
/// `amd64`, `armhf` → `arm` + `v7`), but a variant the user wrote explicitly is kept
/// as written (`linux/arm64/v8` stays `v8`; matching treats it as `arm64` anyway).
pub fn parse_to_record(input: &str) -> Result<Platform> {
    let spec = PlatformSpec::parse(input)?;
    let mut p = spec.to_platform();
    let head = input.split(['+', ':']).next().unwrap_or_default();
    if let Some(v) = head.split('/').nth(2).filter(|v| !v.is_empty()) {
        p.variant = Some(v.trim().to_ascii_lowercase());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PlatformSpec {
        PlatformSpec::parse(s).unwrap()
    }
    fn exact(want: &str, have: &str) -> bool {
        p(want)
            .matches(&p(have), MatchMode::Exact, Fallbacks::default())
            .is_ok()
    }
    fn compat(want: &str, have: &str) -> bool {
        p(want)
            .matches(&p(have), MatchMode::Compatible, Fallbacks::default())
            .is_ok()
    }
    fn compat_fb(want: &str, have: &str) -> bool {
        let fb = Fallbacks {
            i386: true,
            arm: true,
        };
        p(want).matches(&p(have), MatchMode::Compatible, fb).is_ok()
    }

    // One test per row of the normalization table (docs/selection.md).
    #[test]
    fn table_i386() {
        assert_eq!(normalize_arch("i386", ""), ("386".into(), "".into()));
        assert_eq!(normalize_arch("i386", "v2"), ("386".into(), "".into()));
        assert_eq!(p("linux/i386").short(), "linux/386");
    }
    #[test]
    fn table_amd64_aliases() {
        for a in ["x86_64", "x86-64", "amd64", "X86_64", "AMD64"] {
            assert_eq!(normalize_arch(a, ""), ("amd64".into(), "".into()), "{a}");
            assert_eq!(normalize_arch(a, "v1"), ("amd64".into(), "".into()), "{a}");
            assert_eq!(
                normalize_arch(a, "V3"),
                ("amd64".into(), "v3".into()),
                "{a}"
            );
        }
        for v in ["v2", "v3", "v4"] {
            assert_eq!(normalize_arch("amd64", v).1, v);
        }
        assert_eq!(p("linux/amd64/v1"), p("linux/amd64"));
        assert_eq!(p("linux/x86_64"), p("linux/amd64"));
    }
    #[test]
    fn table_arm64_aliases() {
        for a in ["aarch64", "arm64", "AArch64"] {
            for v in ["", "8", "v8", "v8.0"] {
                assert_eq!(normalize_arch(a, v), ("arm64".into(), "".into()), "{a}/{v}");
            }
            for v in ["9", "9.0", "v9.0", "v9"] {
                assert_eq!(
                    normalize_arch(a, v),
                    ("arm64".into(), "v9".into()),
                    "{a}/{v}"
                );
            }
            assert_eq!(normalize_arch(a, "v8.2").1, "v8.2");
        }
        assert_eq!(p("linux/arm64/v8"), p("linux/arm64"));
        assert_eq!(p("linux/aarch64"), p("linux/arm64"));
    }
    #[test]
    fn table_armhf_armel() {
        assert_eq!(normalize_arch("armhf", ""), ("arm".into(), "v7".into()));
        assert_eq!(normalize_arch("armel", ""), ("arm".into(), "v6".into()));
        assert_eq!(p("linux/armhf"), p("linux/arm/v7"));
        assert_eq!(p("linux/armel"), p("linux/arm/v6"));
    }
    #[test]
    fn table_arm_variants() {
        assert_eq!(normalize_arch("arm", ""), ("arm".into(), "v7".into()));
        assert_eq!(normalize_arch("arm", "7"), ("arm".into(), "v7".into()));
        assert_eq!(normalize_arch("arm", "5"), ("arm".into(), "v5".into()));
        assert_eq!(normalize_arch("arm", "6"), ("arm".into(), "v6".into()));
        assert_eq!(normalize_arch("arm", "8"), ("arm".into(), "v8".into()));
        assert_eq!(p("linux/arm"), p("linux/arm/v7"));
    }
    #[test]
    fn table_os() {
        assert_eq!(normalize_os("Linux"), "linux");
        assert_eq!(normalize_os("macos"), "darwin");
        assert_eq!(normalize_os("MacOS"), "darwin");
        assert_eq!(normalize_os(""), local_os());
        assert_eq!(normalize_os("windows"), "windows");
    }
    #[test]
    fn unknown_arches_pass_through_lowercased() {
        assert_eq!(
            normalize_arch("PPC64LE", "Power9"),
            ("ppc64le".into(), "power9".into())
        );
        assert_eq!(normalize_arch("s390x", ""), ("s390x".into(), "".into()));
    }

    #[test]
    fn parse_syntax() {
        let s = p("Windows/AMD64:10.0.17763.1457+Win32k+a");
        assert_eq!(s.os, "windows");
        assert_eq!(s.architecture, "amd64");
        assert_eq!(s.os_version.as_deref(), Some("10.0.17763.1457"));
        assert_eq!(s.os_features, vec!["a".to_string(), "win32k".to_string()]);
        assert_eq!(s.to_string(), "windows/amd64:10.0.17763.1457+a+win32k");
        assert_eq!(p("LOCAL"), PlatformSpec::local());
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "a/b/c/d",
            "linux/amd64:",
            "linux/am d64",
            "linux/amd64+",
            "linux/amd64:1.0+",
            "linux/amd64:a b",
        ] {
            let e = PlatformSpec::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::Kind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn local_is_the_running_machine() {
        let l = PlatformSpec::local();
        assert_eq!(l.os, local_os());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(l.short(), format!("{}/amd64", local_os()));
        #[cfg(target_arch = "aarch64")]
        assert_eq!(l.short(), format!("{}/arm64", local_os()));
    }

    #[test]
    fn exact_rules() {
        assert!(exact("linux/arm64", "linux/arm64/v8"));
        assert!(exact("linux/arm64/v8", "linux/aarch64"));
        assert!(!exact("linux/arm64", "linux/arm64/v8.2"));
        assert!(exact("linux/arm", "linux/arm/v7"));
        assert!(!exact("linux/arm", "linux/arm/v6"));
        assert!(!exact("linux/amd64", "linux/amd64/v3"));
        assert!(!exact("linux/amd64", "windows/amd64"));
        // os.version only when both give one, compared component-wise
        assert!(exact(
            "windows/amd64:10.0.17763",
            "windows/amd64:10.0.17763.1457"
        ));
        assert!(!exact(
            "windows/amd64:10.0.17763",
            "windows/amd64:10.0.20348.169"
        ));
        assert!(exact("windows/amd64:10.0.17763", "windows/amd64"));
        assert!(exact("windows/amd64", "windows/amd64:10.0.20348.169"));
        // os.features as sets, when both give them
        assert!(exact("windows/amd64+win32k", "windows/amd64+win32k"));
        assert!(!exact("windows/amd64+win32k", "windows/amd64+other"));
        assert!(exact("windows/amd64", "windows/amd64+win32k"));
    }

    #[test]
    fn huge_variant_numbers_do_not_overflow() {
        // Found by the platform fuzz target: arm64/v713862239 overflowed `maj * 10`
        // (a panic in debug builds) before the range check threw it away.
        let p = PlatformSpec::parse("linux/arm64/v713862239").unwrap();
        let host = PlatformSpec::parse("linux/arm64").unwrap();
        assert!(host
            .matches(&p, MatchMode::Compatible, Fallbacks::default())
            .is_err());
        assert!(p
            .matches(&p, MatchMode::Compatible, Fallbacks::default())
            .is_ok());
        assert!(variant_level("arm64", "v4294967295.4294967295").is_none());
    }

    #[test]
    fn compatible_variant_rules() {
        // arm/v7 accepts v6 and v5, not v8
        assert!(compat("linux/arm/v7", "linux/arm/v7"));
        assert!(compat("linux/arm/v7", "linux/arm/v6"));
        assert!(compat("linux/arm/v7", "linux/arm/v5"));
        assert!(!compat("linux/arm/v7", "linux/arm/v8"));
        assert!(compat("linux/arm/v8", "linux/arm/v7"));
        assert!(!compat("linux/arm/v6", "linux/arm/v7"));
        // amd64/v3 accepts v2 and v1
        assert!(compat("linux/amd64/v3", "linux/amd64/v2"));
        assert!(compat("linux/amd64/v3", "linux/amd64"));
        assert!(!compat("linux/amd64", "linux/amd64/v2"));
        // arm64
        assert!(compat("linux/arm64/v8.2", "linux/arm64"));
        assert!(compat("linux/arm64/v8.2", "linux/arm64/v8.1"));
        assert!(!compat("linux/arm64", "linux/arm64/v8.1"));
        assert!(compat("linux/arm64/v9", "linux/arm64/v8.5"));
        assert!(!compat("linux/arm64/v9", "linux/arm64/v8.6"));
        assert!(compat("linux/arm64/v9.2", "linux/arm64/v8.7"));
        assert!(!compat("linux/arm64/v8.9", "linux/arm64/v9"));
        // ppc64le, riscv64
        assert!(compat("linux/ppc64le/power10", "linux/ppc64le/power9"));
        assert!(compat("linux/ppc64le/power9", "linux/ppc64le"));
        assert!(!compat("linux/ppc64le/power9", "linux/ppc64le/power10"));
        assert!(compat("linux/riscv64/rva22u64", "linux/riscv64"));
        // unknown families match only themselves
        assert!(compat("linux/s390x", "linux/s390x"));
        assert!(!compat("linux/mips64/x", "linux/mips64/y"));
        // no cross-OS fallback
        assert!(!compat("windows/amd64", "linux/amd64"));
    }

    #[test]
    fn opt_in_fallbacks() {
        assert!(!compat("linux/amd64", "linux/386"));
        assert!(compat_fb("linux/amd64", "linux/386"));
        assert!(compat_fb("linux/amd64/v3", "linux/386"));
        assert!(!compat_fb("linux/386", "linux/amd64"));
        assert!(!compat("linux/arm64", "linux/arm/v7"));
        assert!(compat_fb("linux/arm64", "linux/arm/v7"));
        assert!(compat_fb("linux/arm64", "linux/arm/v8"));
        assert!(compat_fb("linux/arm64/v9", "linux/arm/v5"));
        assert!(!compat_fb("linux/arm/v7", "linux/arm64"));
        let err = p("linux/amd64")
            .matches(&p("linux/386"), MatchMode::Compatible, Fallbacks::default())
            .unwrap_err();
        assert!(err.contains("--fallback 386"), "{err}");
    }

    #[test]
    fn windows_build_rules() {
        // before ltsc2022 the build must be equal
        assert!(compat(
            "windows/amd64:10.0.17763.100",
            "windows/amd64:10.0.17763.2"
        ));
        assert!(!compat(
            "windows/amd64:10.0.17763",
            "windows/amd64:10.0.14393.1"
        ));
        assert!(!compat(
            "windows/amd64:10.0.14393",
            "windows/amd64:10.0.17763.1"
        ));
        // from ltsc2022 on: between the newest LTSC ≤ host and the host
        assert!(compat(
            "windows/amd64:10.0.20348",
            "windows/amd64:10.0.20348.1"
        ));
        assert!(compat(
            "windows/amd64:10.0.22621",
            "windows/amd64:10.0.20348.1"
        ));
        assert!(compat(
            "windows/amd64:10.0.25398",
            "windows/amd64:10.0.22621.5"
        ));
        assert!(!compat(
            "windows/amd64:10.0.22621",
            "windows/amd64:10.0.17763.1"
        ));
        assert!(!compat(
            "windows/amd64:10.0.20348",
            "windows/amd64:10.0.22621.1"
        ));
        assert!(compat(
            "windows/amd64:10.0.26100",
            "windows/amd64:10.0.26100.3"
        ));
        assert!(!compat(
            "windows/amd64:10.0.26100",
            "windows/amd64:10.0.20348.3"
        ));
        // major.minor must agree
        assert!(!compat(
            "windows/amd64:6.3.20348",
            "windows/amd64:10.0.20348"
        ));
        // an entry without os.version is not excluded
        assert!(compat("windows/amd64:10.0.20348", "windows/amd64"));
    }

    #[test]
    fn ranking() {
        let fb = Fallbacks {
            i386: true,
            arm: true,
        };
        let rank = |want: &str, have: &str| {
            p(want)
                .matches(&p(have), MatchMode::Compatible, fb)
                .unwrap()
                .rank
        };
        // exact over fallback, higher variant first
        assert!(rank("linux/arm/v7", "linux/arm/v7") < rank("linux/arm/v7", "linux/arm/v6"));
        assert!(rank("linux/arm/v7", "linux/arm/v6") < rank("linux/arm/v7", "linux/arm/v5"));
        assert!(rank("linux/amd64", "linux/amd64") < rank("linux/amd64", "linux/386"));
        assert!(rank("linux/arm64", "linux/arm/v8") < rank("linux/arm64", "linux/arm/v7"));
        assert!(rank("linux/amd64/v3", "linux/amd64/v1") < rank("linux/amd64/v3", "linux/386"));
        // closer os.version
        let w = "windows/amd64:10.0.22621";
        assert!(rank(w, "windows/amd64:10.0.22621.1") < rank(w, "windows/amd64:10.0.20348.1"));
        let w = "windows/amd64:10.0.17763.300";
        assert!(rank(w, "windows/amd64:10.0.17763.290") < rank(w, "windows/amd64:10.0.17763.100"));
        let w = "windows/amd64:10.0.17763";
        assert!(rank(w, "windows/amd64:10.0.17763.290") < rank(w, "windows/amd64:10.0.17763.100"));
        // more os.features
        let w = "windows/amd64+win32k";
        assert!(rank(w, "windows/amd64+win32k") < rank(w, "windows/amd64"));
    }

    #[test]
    fn entry_platform_spec_normalizes() {
        let plat = Platform {
            architecture: "aarch64".into(),
            os: "Linux".into(),
            variant: Some("v8".into()),
            ..Default::default()
        };
        assert_eq!(
            PlatformSpec::from_platform(&plat).to_string(),
            "linux/arm64"
        );
        assert_eq!(normalize(&plat).variant, None);
    }

    // ---- property tests ----

    fn arb_platform() -> impl Strategy<Value = Platform> {
        let os = prop::sample::select(vec![
            "linux", "Linux", "windows", "darwin", "macos", "freebsd",
        ]);
        let arch = prop::sample::select(vec![
            "amd64", "x86_64", "X86-64", "aarch64", "arm64", "ARM64", "arm", "armhf", "armel",
            "i386", "386", "ppc64le", "riscv64", "s390x", "mips64",
        ]);
        let variant = prop::sample::select(vec![
            "", "v1", "v2", "v3", "V4", "5", "6", "7", "8", "9", "9.0", "v5", "v6", "v7", "v8",
            "v8.0", "v8.1", "v8.2", "v9", "v9.0", "v9.3", "power8", "power9", "power10",
            "rva20u64", "rva22u64", "x",
        ]);
        let version = prop::option::of(prop::sample::select(vec![
            "10.0.14393.1",
            "10.0.17763",
            "10.0.17763.1457",
            "10.0.17763.2",
            "10.0.20348",
            "10.0.20348.169",
            "10.0.22621.1",
            "10.0.25398.1",
            "10.0.26100.2",
            "6.3.9600",
            "abc",
        ]));
        let features = prop::collection::vec(
            prop::sample::select(vec!["win32k", "Win32K", "foo", "bar"]),
            0..3,
        );
        (os, arch, variant, version, features).prop_map(|(os, arch, variant, version, f)| {
            Platform {
                os: os.into(),
                architecture: arch.into(),
                variant: (!variant.is_empty()).then(|| variant.into()),
                os_version: version.map(Into::into),
                os_features: (!f.is_empty()).then(|| f.into_iter().map(Into::into).collect()),
                ..Default::default()
            }
        })
    }

    fn all_fallbacks() -> impl Strategy<Value = Fallbacks> {
        (any::<bool>(), any::<bool>()).prop_map(|(i386, arm)| Fallbacks { i386, arm })
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(plat in arb_platform()) {
            let once = normalize(&plat);
            prop_assert_eq!(normalize(&once), once.clone());
            let spec = PlatformSpec::from_platform(&plat);
            prop_assert_eq!(PlatformSpec::from_platform(&spec.to_platform()), spec.clone());
            let (a, v) = normalize_arch(&plat.architecture, plat.variant.as_deref().unwrap_or(""));
            prop_assert_eq!(normalize_arch(&a, &v), (a, v));
            // the display form parses back to the same spec
            if spec.os_version.as_deref().is_none_or(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')) {
                prop_assert_eq!(PlatformSpec::parse(&spec.to_string()).unwrap(), spec);
            }
        }

        #[test]
        fn exact_match_is_symmetric(a in arb_platform(), b in arb_platform()) {
            let (a, b) = (PlatformSpec::from_platform(&a), PlatformSpec::from_platform(&b));
            let fb = Fallbacks::default();
            prop_assert_eq!(
                a.matches(&b, MatchMode::Exact, fb).is_ok(),
                b.matches(&a, MatchMode::Exact, fb).is_ok()
            );
        }

        #[test]
        fn exact_match_is_reflexive(a in arb_platform()) {
            let a = PlatformSpec::from_platform(&a);
            prop_assert!(a.matches(&a, MatchMode::Exact, Fallbacks::default()).is_ok());
        }

        #[test]
        fn every_exact_match_is_a_compatible_match(a in arb_platform(), b in arb_platform(), fb in all_fallbacks()) {
            let (a, b) = (PlatformSpec::from_platform(&a), PlatformSpec::from_platform(&b));
            if a.matches(&b, MatchMode::Exact, fb).is_ok() {
                let m = a.matches(&b, MatchMode::Compatible, fb);
                prop_assert!(m.is_ok(), "{} vs {}: {:?}", a, b, m);
            }
        }

        #[test]
        fn aliases_match_exactly(plat in arb_platform()) {
            // a platform matches its normalized form exactly
            let raw = PlatformSpec::from_platform(&plat);
            let norm = PlatformSpec::from_platform(&normalize(&plat));
            prop_assert!(raw.matches(&norm, MatchMode::Exact, Fallbacks::default()).is_ok());
        }
    }
}
