//! [`PlatformSpec`]: the normalized platform users write (`--platform`) and entries are
//! compared as; its parser, printer and the record form [`parse_to_record`]. Pure.

use super::normalize::{is_known_arch, is_known_os, local_os, normalize_arch, normalize_os};
use crate::error::{Error, Result};
use crate::model::Platform;
use std::fmt;
use std::str::FromStr;

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
