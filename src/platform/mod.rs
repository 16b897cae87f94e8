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
//!
//! # Files
//! Only `entry` reads a layout (descriptor or image config); the rest is
//! pure: `normalize` (normalization, known values), `spec` ([`PlatformSpec`], parsing,
//! printing) and `matching` (match modes, fallbacks, ranking).

mod entry;
mod matching;
mod normalize;
mod spec;
mod twin;

pub use entry::*;
pub use matching::*;
pub use normalize::*;
pub use spec::*;
pub use twin::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;
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
