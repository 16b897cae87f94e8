//! Normalization of os/architecture/variant (containerd's `normalizeArch` table), the
//! known GOOS/GOARCH values with typo suggestions, and the entry-vs-config disagreement
//! rule. Pure: no layout reads.

use super::PlatformSpec;
use crate::error::{Error, Result};
use crate::model::Platform;

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

pub(super) fn local_os() -> String {
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
