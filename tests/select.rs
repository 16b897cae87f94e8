//! Selection (issue 3): the oix binary against the tricky indexes of fixtures/select/
//! (see fixtures/select/make.sh for what each entry is). Expected digests are read from
//! the fixture's own documents by position, never hard-coded.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/select/layout")
}

fn layout_arg(path: &Path, suffix: &str) -> String {
    format!("{}{suffix}", path.display())
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn first_line(&self) -> &str {
        self.stdout.lines().next().unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn oix(args: &[&str]) -> Out {
    let out = common::oix_cmd(args).output().expect("running oix");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `oix select` on the fixture; asserts the exit code.
fn select(suffix: &str, extra: &[&str], code: i32) -> Out {
    let r = layout_arg(&fixture(), suffix);
    let mut args = vec!["select", r.as_str()];
    args.extend_from_slice(extra);
    let out = oix(&args);
    assert_eq!(
        out.code, code,
        "oix {args:?}\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    out
}

fn read_json(layout: &Path, digest: &str) -> Value {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let bytes = std::fs::read(layout.join("blobs/sha256").join(hex)).expect("blob");
    serde_json::from_slice(&bytes).expect("json blob")
}

fn index_json(layout: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap()
}

/// Digest of the top-level entry with this ref.name (the first one).
fn top(layout: &Path, name: &str) -> String {
    index_json(layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .unwrap_or_else(|| panic!("no ref {name}"))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Digest of entry `path[last]` of the index reached from top-level ref `name` by
/// following the positions in `path`.
fn entry(name: &str, path: &[usize]) -> String {
    let l = fixture();
    let mut digest = top(&l, name);
    for &p in path {
        digest = read_json(&l, &digest)["manifests"][p]["digest"]
            .as_str()
            .unwrap()
            .to_string();
    }
    digest
}

fn app(i: usize) -> String {
    entry("app", &[i])
}

// ---- platforms and normalization -----------------------------------------------------

#[test]
fn picks_one_platform_digest_on_the_first_line() {
    let out = select(":app", &["--platform", "linux/arm/v7"], 0);
    assert_eq!(out.first_line(), app(5));
    assert!(
        out.stdout.contains("platform: linux/arm/v7"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("path: index.json[0] > sha256:"),
        "{}",
        out.stdout
    );
    let q = select(":app", &["--platform", "linux/arm/v7", "-q"], 0);
    assert_eq!(q.stdout, format!("{}\n", app(5)));
}

#[test]
fn aliases_normalize() {
    for p in ["linux/armhf", "linux/arm", "LINUX/ARM/7", "linux/arm/v7"] {
        assert_eq!(
            select(":app", &["--platform", p, "-q"], 0).first_line(),
            app(5),
            "{p}"
        );
    }
    assert_eq!(
        select(":app", &["--platform", "linux/armel", "-q"], 0).first_line(),
        app(4)
    );
    assert_eq!(
        select(":legacy", &["--platform", "linux/i386", "-q"], 0).first_line(),
        entry("legacy", &[0])
    );
}

#[test]
fn arm64_with_and_without_v8_are_the_same_platform() {
    for p in [
        "linux/arm64",
        "linux/aarch64",
        "linux/arm64/v8",
        "linux/arm64/8",
    ] {
        let out = select(":app", &["--platform", p], 4);
        assert!(
            out.stderr.contains(&app(2)) && out.stderr.contains(&app(3)),
            "{}",
            out.stderr
        );
    }
    let out = select(
        ":app",
        &["--platform", "linux/arm64", "--on-ambiguity", "first", "-q"],
        0,
    );
    assert_eq!(out.first_line(), app(2));
}

#[test]
fn duplicate_platforms_are_ambiguous_and_listed_with_why() {
    let out = select(":app", &["--platform", "linux/x86_64"], 4);
    assert!(
        out.stderr
            .contains("2 entries match platform linux/amd64 (exact)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&app(0)) && out.stderr.contains(&app(1)));
    assert!(out
        .stderr
        .contains("why: platform linux/amd64 matches linux/amd64 (exact)"));
    assert!(out.stderr.contains("hint: "));
    // --where disambiguates
    let out = select(
        ":app",
        &[
            "--platform",
            "linux/amd64",
            "--where",
            "org.example.flavor=slim",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), app(1));
    // all
    let out = select(":app", &["--platform", "linux/amd64", "--all", "-q"], 0);
    assert_eq!(out.stdout, format!("{}\n{}\n", app(0), app(1)));
}

#[test]
fn ambiguity_details_in_json() {
    let out = select(":app", &["--platform", "linux/amd64", "--json"], 4);
    let v = out.json();
    assert_eq!(v["error"]["exit_code"], 4);
    let c = v["error"]["details"]["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c[0]["digest"], app(0).as_str());
    assert_eq!(c[1]["digest"], app(1).as_str());
    assert_eq!(c[0]["platform"]["architecture"], "amd64");
    assert_eq!(c[0]["path"][0]["position"], 0);
    assert_eq!(c[0]["path"][1]["position"], 0);
    assert_eq!(c[1]["path"][1]["position"], 1);
}

#[test]
fn no_match_lists_nearest_candidates() {
    let out = select(":app", &["--platform", "linux/arm/v5"], 3);
    assert!(
        out.stderr.contains("nothing matches platform linux/arm/v5"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nearest candidates"));
    // the arm entries come first
    let nearest: Vec<&str> = out.stderr.lines().skip(1).take(3).collect();
    assert!(
        nearest.iter().all(|l| l.contains("linux/arm/")),
        "{nearest:?}"
    );
    // JSON carries them as details
    let v = select(":app", &["--platform", "linux/arm/v5", "--json"], 3).json();
    assert_eq!(v["error"]["exit_code"], 3);
    assert!(!v["error"]["details"]["nearest"]
        .as_array()
        .unwrap()
        .is_empty());
    // a compatible match is pointed out
    let out = select(":legacy", &["--platform", "linux/arm/v8"], 3);
    assert!(
        out.stderr.contains("would match with --match compatible"),
        "{}",
        out.stderr
    );
}

#[test]
fn compatible_mode_variants_and_best() {
    // arm/v6 host: only v6 runs
    let out = select(
        ":app",
        &["--platform", "linux/arm/v6", "--match", "compatible", "-q"],
        0,
    );
    assert_eq!(out.first_line(), app(4));
    // arm/v7 host: v7 and v6 run -> ambiguous; best picks v7
    select(
        ":app",
        &["--platform", "linux/arm/v7", "--match", "compatible"],
        4,
    );
    let out = select(
        ":app",
        &["--platform", "linux/arm/v7", "--on-ambiguity", "best"],
        0,
    );
    assert_eq!(out.first_line(), app(5));
    assert!(
        out.stdout.contains("ranked best of 2 matches"),
        "{}",
        out.stdout
    );
    // arm/v8 host: v8 best of three
    let out = select(
        ":app",
        &["--platform", "linux/arm/v8", "--on-ambiguity", "best", "-q"],
        0,
    );
    assert_eq!(out.first_line(), app(6));
    // arm/v5 host: nothing runs
    select(
        ":app",
        &["--platform", "linux/arm/v5", "--match", "compatible"],
        3,
    );
    // best among equals is a tie: exit 4
    let out = select(
        ":app",
        &["--platform", "linux/amd64", "--on-ambiguity", "best"],
        4,
    );
    assert!(out.stderr.contains("tie for best"), "{}", out.stderr);
    // an earlier --platform ranks first
    let out = select(
        ":app",
        &[
            "--platform",
            "linux/arm/v6",
            "--platform",
            "linux/arm/v7",
            "--on-ambiguity",
            "best",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), app(4));
}

#[test]
fn opt_in_fallbacks() {
    let out = select(
        ":legacy",
        &["--platform", "linux/amd64", "--match", "compatible"],
        3,
    );
    assert!(out.stderr.contains("--fallback 386"), "{}", out.stderr);
    let out = select(
        ":legacy",
        &[
            "--platform",
            "linux/amd64",
            "--match",
            "compatible",
            "--fallback",
            "386",
            "-q",
        ],
        0,
    );
    // the 386 image is listed twice (same digest): not ambiguous
    assert_eq!(out.stdout, format!("{}\n", entry("legacy", &[0])));
    assert!(out.stderr.contains("listed 2 times"), "{}", out.stderr);
    select(
        ":legacy",
        &["--platform", "linux/arm64", "--match", "compatible"],
        3,
    );
    let out = select(
        ":legacy",
        &[
            "--platform",
            "linux/arm64",
            "--on-ambiguity",
            "best",
            "--fallback",
            "arm",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), entry("legacy", &[1]));
    // a fallback without compatible matching is a usage error
    select(
        ":legacy",
        &["--platform", "linux/amd64", "--fallback", "386"],
        2,
    );
}

#[test]
fn windows_os_versions() {
    let out = select(":app", &["--platform", "windows/amd64"], 4);
    assert!(out.stderr.contains("10.0.17763.5329") && out.stderr.contains("10.0.20348.2227"));
    let out = select(":app", &["--platform", "windows/amd64:10.0.17763", "-q"], 0);
    assert_eq!(out.first_line(), app(7));
    let out = select(
        ":app",
        &["--platform", "Windows/AMD64:10.0.20348.2227", "-q"],
        0,
    );
    assert_eq!(out.first_line(), app(8));
    // build rules: a 22621 host runs ltsc2022 (20348) but not 17763
    let out = select(
        ":app",
        &[
            "--platform",
            "windows/amd64:10.0.22621",
            "--match",
            "compatible",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), app(8));
    let out = select(
        ":app",
        &[
            "--platform",
            "windows/amd64:10.0.17763.100",
            "--match",
            "compatible",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), app(7));
    select(
        ":app",
        &[
            "--platform",
            "windows/amd64:10.0.19041",
            "--match",
            "compatible",
        ],
        3,
    );
}

#[test]
fn derived_platforms_are_marked() {
    let out = select(":app", &["--platform", "linux/s390x"], 0);
    assert_eq!(out.first_line(), app(9));
    assert!(
        out.stdout.contains("platform: linux/s390x (derived)"),
        "{}",
        out.stdout
    );
    let v = select(":app", &["--platform", "linux/s390x", "--json"], 0).json();
    assert_eq!(v["matches"][0]["platformDerived"], true);
    assert_eq!(v["matches"][0]["platform"]["architecture"], "s390x");
    // the descriptor itself has no platform
    assert!(v["matches"][0]["descriptor"].get("platform").is_none());
}

#[test]
fn attestations_never_match_a_platform_and_travel_with_their_subject() {
    let v = select(
        ":app",
        &[
            "--platform",
            "linux/arm64",
            "--on-ambiguity",
            "first",
            "--json",
        ],
        0,
    )
    .json();
    let m = &v["matches"][0];
    assert_eq!(m["digest"], app(2).as_str());
    assert_eq!(m["attestations"][0]["digest"], app(10).as_str());
    let v = select(
        ":app",
        &[
            "--platform",
            "linux/amd64",
            "--where",
            "org.example.flavor=full",
            "--json",
        ],
        0,
    )
    .json();
    assert_eq!(
        v["matches"][0]["attestations"][0]["digest"],
        app(11).as_str()
    );
    select(":app", &["--platform", "unknown/unknown"], 3);
    let att = ["--where", "vnd.docker.reference.type=attestation-manifest"];
    select(
        ":app",
        &[&att[..], &["--platform", "linux/arm64"]].concat(),
        3,
    );
    // by --where alone they are found (their subjects do not match)
    let out = select(":app", &[&att[..], &["--all", "-q"]].concat(), 0);
    assert_eq!(out.stdout, format!("{}\n{}\n", app(10), app(11)));
    // ...and when the subject matches too, the attestation travels with it
    let v = select(
        ":app",
        &[
            "--where",
            "digest~=^sha256:",
            "--where",
            "mediaType~=manifest",
            "--all",
            "--json",
        ],
        0,
    )
    .json();
    let digests: Vec<&str> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), 10, "{digests:?}");
    assert!(!digests.contains(&app(10).as_str()) && !digests.contains(&app(11).as_str()));
}

// ---- --where, scope and inheritance ------------------------------------------------

#[test]
fn where_operators_and_fields() {
    let p = ["--platform", "linux/amd64"];
    let q = |w: &str| {
        select(":app", &[&p[..], &["--where", w, "-q"]].concat(), 0)
            .first_line()
            .to_string()
    };
    assert_eq!(q("org.example.flavor!=full"), app(1));
    assert_eq!(q("org.example.flavor~=^sl"), app(1));
    assert_eq!(q(&format!("digest={}", app(0))), app(0));
    select(
        ":app",
        &[&p[..], &["--where", "!org.example.flavor"]].concat(),
        3,
    );
    select(
        ":app",
        &[&p[..], &["--where", "org.example.flavor"]].concat(),
        4,
    );
    // fields: every index in the layout, depth-first
    let out = select(
        "",
        &[
            "--where",
            "mediaType=application/vnd.oci.image.index.v1+json",
            "--all",
            "-q",
        ],
        0,
    );
    let want = [
        top(&fixture(), "app"),
        top(&fixture(), "nested"),
        entry("nested", &[0]),
        entry("nested", &[1]),
        top(&fixture(), "legacy"),
    ];
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), want);
    // ref is the descriptor's ref.name
    let out = select("", &["--where", "ref=single", "-q"], 0);
    assert_eq!(out.first_line(), top(&fixture(), "single"));
    // bad expressions are usage errors
    select(":app", &["--where", "!a=b"], 2);
    select(":app", &["--where", "a~=("], 2);
    select(":app", &["--platform", "linux"], 2);
}

#[test]
fn scope_descriptor_manifest_any() {
    // org.example.tier is inside the arm/v7 manifest, not on its descriptor
    select(":app", &["--where", "org.example.tier=gold"], 3);
    for scope in ["manifest", "any"] {
        let out = select(
            ":app",
            &["--where", "org.example.tier=gold", "--scope", scope, "-q"],
            0,
        );
        assert_eq!(out.first_line(), app(5), "{scope}");
    }
    let out = select(
        ":app",
        &["--where", "org.example.tier=gold", "--scope", "manifest"],
        0,
    );
    assert!(
        out.stdout.contains("org.example.tier=gold (manifest)"),
        "{}",
        out.stdout
    );
    // the descriptor annotations are not read in manifest scope
    select(
        ":app",
        &["--where", "org.example.flavor=slim", "--scope", "manifest"],
        3,
    );
    select(
        ":app",
        &["--where", "org.example.flavor=slim", "--scope", "any"],
        0,
    );
}

#[test]
fn index_annotations_are_not_inherited_unless_asked() {
    // the app index's descriptor says channel=stable; its document says version=1.2.3
    let p = ["--platform", "linux/arm/v6"];
    let w = ["--where", "org.example.channel=stable"];
    select(":app", &[&p[..], &w[..]].concat(), 3);
    let out = select(":app", &[&p[..], &w[..], &["--inherit"]].concat(), 0);
    assert_eq!(out.first_line(), app(4));
    assert!(
        out.stdout
            .contains("inherited from the descriptor of sha256:"),
        "{}",
        out.stdout
    );
    let w = [
        "--where",
        "org.opencontainers.image.version=1.2.3",
        "--scope",
        "manifest",
    ];
    select(":app", &[&p[..], &w[..]].concat(), 3);
    let out = select(":app", &[&p[..], &w[..], &["--inherit", "-q"]].concat(), 0);
    assert_eq!(out.first_line(), app(4));
    // without --platform: the index itself has the annotation, but a named index is not
    // a candidate (its entries are; issue 13), so nothing matches ...
    select(":app", &["--where", "org.example.channel=stable", "-q"], 3);
    // ... and only `ls` falls back to showing the index itself (docs/selection.md)
    let r = layout_arg(&fixture(), ":app");
    let out = oix(&["--json", "ls", &r, "--where", "org.example.channel=stable"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v[0]["digest"], top(&fixture(), "app"));
    // --inherit without --where is a usage error
    select(":app", &["--inherit"], 2);
}

// ---- nested indexes, implicit multi-arch, references ---------------------------------

#[test]
fn nested_indexes_depth_first_with_paths() {
    let out = select(":nested", &["--platform", "linux/amd64"], 4);
    let a = out
        .stderr
        .find(&entry("nested", &[0, 0]))
        .expect("A's amd64 listed");
    let b = out
        .stderr
        .find(&entry("nested", &[1, 1]))
        .expect("B's amd64 listed");
    assert!(a < b, "depth-first document order");
    let v = select(
        ":nested",
        &[
            "--platform",
            "linux/amd64",
            "--on-ambiguity",
            "first",
            "--json",
        ],
        0,
    )
    .json();
    let path: Vec<u64> = v["matches"][0]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    assert_eq!(path, [1, 0, 0]);
    assert_eq!(
        v["matches"][0]["path"][1]["digest"],
        entry("nested", &[0]).as_str()
    );
    // B's annotation applies to its children only with --inherit
    let w = ["--platform", "linux/amd64", "--where", "org.example.part=b"];
    select(":nested", &w, 3);
    let v = select(":nested", &[&w[..], &["--inherit", "--json"]].concat(), 0).json();
    assert_eq!(v["matches"][0]["digest"], entry("nested", &[1, 1]).as_str());
    // a nested index is found through LAYOUT@DIGEST too, with its full path
    let r = format!("@{}", entry("nested", &[1]));
    let v = select(&r, &["--platform", "linux/ppc64le/power9", "--json"], 0).json();
    let path: Vec<u64> = v["matches"][0]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    assert_eq!(path, [1, 1, 0]);
    // ppc64le variants: power9 runs on power10 in compatible mode
    let out = select(
        ":nested",
        &[
            "--platform",
            "linux/ppc64le/power10",
            "--match",
            "compatible",
            "-q",
        ],
        0,
    );
    assert_eq!(out.first_line(), entry("nested", &[1, 0]));
}

#[test]
fn implicit_multi_arch_is_one_candidate_set() {
    let out = select(":multi", &["--platform", "linux/arm64", "-q"], 0);
    assert!(out.stderr.contains("implicit multi-arch"), "{}", out.stderr);
    let ix = index_json(&fixture());
    assert_eq!(
        out.first_line(),
        ix["manifests"][3]["digest"].as_str().unwrap()
    );
    // the amd64 member has no descriptor platform: derived
    let out = select(":multi", &["--platform", "linux/amd64"], 0);
    assert_eq!(
        out.first_line(),
        ix["manifests"][2]["digest"].as_str().unwrap()
    );
    assert!(out.stdout.contains("(derived)"));
    // no filter: three entries, ambiguous, with a fold hint
    let out = select(":multi", &[], 4);
    assert!(
        out.stderr.contains("3 top-level entries share this ref"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("oix fold"));
    let out = select(":multi", &["--all", "-q"], 0);
    assert_eq!(out.stdout.lines().count(), 3);
    // unknown refs are exit 3
    select(":nope", &["--platform", "linux/amd64"], 3);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn local_is_this_machine() {
    let out = select(":single", &["--platform", "local", "-q"], 0);
    assert_eq!(out.first_line(), top(&fixture(), "single"));
}

// ---- ls and inspect ------------------------------------------------------------------

#[test]
fn ls_lists_the_entries_of_an_index_filtered() {
    let l = layout_arg(&fixture(), ":app");
    let out = oix(&["ls", &l]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 13, "{}", out.stdout); // header + 12
    let out = oix(&["ls", &l, "--platform", "linux/arm64", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json();
    let digests: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests, [app(2), app(3)]);
    assert_eq!(rows[0]["path"][1]["position"], 2);
    let out = oix(&["ls", &l, "--platform", "linux/mips64"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    // --tree, filtered: each match with its config and layer
    let n = layout_arg(&fixture(), ":nested");
    let out = oix(&["ls", &n, "--tree", "--platform", "linux/amd64", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trees = out.json();
    assert_eq!(trees.as_array().unwrap().len(), 2);
    let roles: Vec<&str> = trees[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["manifest", "config", "layer"]);
    // unfiltered --tree walks the whole index
    let out = oix(&["ls", &n, "--tree"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("manifest"))
            .count(),
        4
    );
    // implicit multi-arch: the members, with a warning
    let out = oix(&["ls", &layout_arg(&fixture(), ":multi")]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.lines().count(), 4);
    assert!(out.stderr.contains("implicit multi-arch"));
}

#[test]
fn inspect_shows_the_selected_child() {
    let l = layout_arg(&fixture(), ":app");
    let out = oix(&["inspect", &l, "--platform", "linux/arm/v7"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.first_line(), app(5));
    assert!(out.stdout.contains("org.example.tier"));
    let out = oix(&[
        "inspect",
        &l,
        "--platform",
        "linux/arm64",
        "--on-ambiguity",
        "first",
        "--config",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("\"architecture\": \"arm64\""),
        "{}",
        out.stdout
    );
    assert_eq!(oix(&["inspect", &l, "--platform", "linux/amd64"]).code, 4);
    assert_eq!(
        oix(&[
            "inspect",
            &l,
            "--platform",
            "linux/amd64",
            "--on-ambiguity",
            "all"
        ])
        .code,
        2
    );
    // without a selector: the index itself, as before
    let out = oix(&["inspect", &l]);
    assert_eq!(out.code, 0);
    assert_eq!(out.first_line(), top(&fixture(), "app"));
}

// ---- fold ---------------------------------------------------------------------------

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

#[test]
fn fold_turns_an_implicit_set_into_one_index() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    copy_dir(&fixture(), &l);
    let before = index_json(&l);
    let members: Vec<Value> = before["manifests"].as_array().unwrap()[2..5].to_vec();
    let out = oix(&["fold", &layout_arg(&l, ":multi")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = index_json(&l);
    let m = after["manifests"].as_array().unwrap();
    assert_eq!(m.len(), 5);
    assert_eq!(m[2]["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(
        m[2]["annotations"]["org.opencontainers.image.ref.name"],
        "multi"
    );
    assert_eq!(out.first_line(), m[2]["digest"].as_str().unwrap());
    assert_eq!(m[3], before["manifests"][5]); // the rest keeps its order
    let idx = read_json(&l, m[2]["digest"].as_str().unwrap());
    let children = idx["manifests"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    for (c, orig) in children.iter().zip(&members) {
        assert_eq!(c["digest"], orig["digest"]);
        assert!(c["annotations"]
            .get("org.opencontainers.image.ref.name")
            .is_none());
    }
    // the member without a descriptor platform got the one from its config
    assert_eq!(children[0]["platform"]["architecture"], "amd64");
    assert_eq!(children[2]["platform"]["variant"], "v7");
    // now an explicit index: no warning, nested path
    let v = oix(&[
        "select",
        &layout_arg(&l, ":multi"),
        "--platform",
        "linux/arm64",
        "--json",
    ]);
    assert_eq!(v.code, 0);
    assert!(!v.stderr.contains("implicit"), "{}", v.stderr);
    assert_eq!(v.json()["matches"][0]["path"].as_array().unwrap().len(), 2);
    // folding again changes nothing
    let bytes = std::fs::read(l.join("index.json")).unwrap();
    let again = oix(&["fold", &layout_arg(&l, ":multi")]);
    assert_eq!(again.code, 0);
    assert!(again.stderr.contains("nothing to fold"));
    assert_eq!(std::fs::read(l.join("index.json")).unwrap(), bytes);
    // deterministic: a second copy folds to the same digest
    let l2 = tmp.path().join("l2");
    copy_dir(&fixture(), &l2);
    let out2 = oix(&["fold", &layout_arg(&l2, ":multi")]);
    assert_eq!(out2.first_line(), out.first_line());
    // errors
    assert_eq!(oix(&["fold", &layout_arg(&l, ":nope")]).code, 3);
    assert_eq!(oix(&["fold", &layout_arg(&l, "")]).code, 2);
}

#[test]
fn fixtures_are_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("layout");
    let st = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/select/make.sh"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let list = |p: &Path| {
        let mut v: Vec<(PathBuf, Vec<u8>)> = walk(p)
            .into_iter()
            .map(|f| {
                (
                    f.strip_prefix(p).unwrap().to_path_buf(),
                    std::fs::read(&f).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(
        list(&out) == list(&fixture()),
        "fixtures/select/layout differs from make.sh output"
    );
}

fn walk(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn an_empty_layout_lists_nothing_and_selects_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    assert_eq!(oix(&["init", l.to_str().unwrap()]).code, 0);
    let out = oix(&["ls", l.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1); // the header
    assert_eq!(
        oix(&["select", l.to_str().unwrap(), "--where", "a"]).code,
        3
    );
    assert_eq!(oix(&["inspect", l.to_str().unwrap()]).code, 3);
}
