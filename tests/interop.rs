//! Interoperability with the real tools, and clean failure on corrupted layouts.
//!
//! - Layouts oix writes are read by `skopeo inspect oci:…` (the `--raw` bytes are the
//!   stored manifest) and by `umoci ls` / `umoci stat`.
//! - Layouts umoci and skopeo write are read by `oix ls` / `oix inspect` and pass `oix fsck`.
//! - Every corrupted fixture makes `oix fsck` exit 1 naming the blob or file, makes the
//!   read commands that touch the defect fail with `error: …` (never a panic), and no
//!   command changes a byte of the layout.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

/// Manifest digests of the multiarch fixture's children, in index order, with the
/// platform each has.
fn multiarch_children(dir: &Path, name: &str) -> Vec<(String, Value)> {
    let idx = blob_json(dir, &digest_of_ref(dir, name));
    idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["digest"].as_str().unwrap().to_string(),
                d["platform"].clone(),
            )
        })
        .collect()
}

/// First layer digest of an image manifest.
fn first_layer(dir: &Path, manifest: &str) -> String {
    blob_json(dir, manifest)["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `skopeo inspect --raw oci:DIR:REF` must print exactly the stored bytes.
fn assert_skopeo_raw(skopeo_bin: &Path, dir: &Path, name: &str) {
    let raw = skopeo(
        skopeo_bin,
        &["inspect", "--raw", &format!("oci:{}:{name}", dir.display())],
    )
    .ok();
    let stored = blob(dir, &digest_of_ref(dir, name));
    assert!(
        raw.stdout == stored,
        "skopeo --raw bytes of {name} differ from the stored blob"
    );
}

/// oix reads every ref of a layout another tool wrote: ls lists them, inspect --raw is
/// the stored bytes, --tree walks, and fsck finds nothing wrong.
fn assert_oix_reads(dir: &Path) {
    let names = ref_names(dir);
    let listed = oix(&["--json".as_ref(), "ls".as_ref(), dir.as_os_str()])
        .ok()
        .json();
    let listed: Vec<String> = listed
        .as_array()
        .expect("ls --json is an array")
        .iter()
        .map(|e| e["ref"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(listed, names, "oix ls refs of {}", dir.display());
    oix(&["ls", "--tree", &dir.display().to_string()]).ok();
    for n in &names {
        let raw = oix(&["inspect", "--raw", &at(dir, &format!(":{n}"))]).ok();
        assert_eq!(
            raw.stdout,
            blob(dir, &digest_of_ref(dir, n)),
            "inspect --raw {n}"
        );
        oix(&["inspect", &at(dir, &format!(":{n}"))]).ok();
    }
    assert_fsck_clean(dir);
}

#[test]
fn layout_written_by_oix_is_read_by_skopeo_and_umoci() {
    let (Some(sk), Some(um)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("made-by-oix");
    oix(&["init", &dir.display().to_string()]).ok();
    // An empty oix layout is a layout to umoci.
    let r = run_tool(&um, &["ls", "--layout", &dir.display().to_string()]).ok();
    assert_eq!(r.stdout_str().trim(), "");

    // Bring the multiarch index in through the library (import + one transaction), as
    // a copy between layouts does.
    let src = fixtures().join("multiarch");
    let src_layout = oix::Layout::open(&src).unwrap();
    let layout = oix::Layout::open(&dir).unwrap();
    let (src_index, _) = src_layout.read_index().unwrap();
    let walk = oix::graph::walk(&src_layout, &src_index.manifests);
    assert!(walk.complete(), "{:?}", walk.problems);
    for n in &walk.nodes {
        layout.import_blob(&src_layout, &n.descriptor).unwrap();
    }
    oix::tags::tag(&layout, &src_index.manifests[0], &["multi".to_string()]).unwrap();
    drop(layout);

    // Then edit refs with the CLI.
    let children = multiarch_children(&dir, "multi");
    let (amd64, arm64, armv7) = (&children[0].0, &children[1].0, &children[2].0);
    oix(&["tag", &at(&dir, ":multi"), "latest"]).ok();
    oix(&["tag", &at(&dir, &format!("@{amd64}")), "amd64"]).ok();
    oix(&[
        "tag",
        &at(&dir, &format!("@{arm64}")),
        "arm64",
        "arm64-extra",
    ])
    .ok();
    oix(&["untag", &at(&dir, ":arm64-extra")]).ok();
    assert_eq!(ref_names(&dir), ["multi", "latest", "amd64", "arm64"]);
    assert_fsck_clean(&dir);

    // skopeo: raw bytes are the stored documents; platform selection through our index.
    for n in ["multi", "latest", "amd64", "arm64"] {
        assert_skopeo_raw(&sk, &dir, n);
    }
    let loc = |n: &str| format!("oci:{}:{n}", dir.display());
    let v = skopeo(&sk, &["inspect", &loc("amd64")]).ok().json();
    assert_eq!(v["Digest"], amd64.as_str());
    assert_eq!(v["Architecture"], "amd64");
    let v = skopeo(
        &sk,
        &[
            "inspect",
            "--override-arch",
            "arm",
            "--override-variant",
            "v7",
            &loc("latest"),
        ],
    )
    .ok()
    .json();
    assert_eq!(v["Architecture"], "arm");
    assert_eq!(v["Layers"][0], first_layer(&dir, armv7).as_str());
    let gone = skopeo(&sk, &["inspect", &loc("arm64-extra")]);
    assert_ne!(gone.code, 0, "skopeo still sees the untagged ref");

    // umoci: same ref list; stat reads an image oix tagged.
    let r = run_tool(&um, &["ls", "--layout", &dir.display().to_string()]).ok();
    let mut umoci_refs: Vec<String> = r.stdout_str().lines().map(str::to_string).collect();
    umoci_refs.sort();
    let mut ours = ref_names(&dir);
    ours.sort();
    assert_eq!(umoci_refs, ours);
    for n in ["amd64", "arm64"] {
        let r = run_tool(
            &um,
            &["stat", "--json", "--image", &at(&dir, &format!(":{n}"))],
        )
        .ok();
        r.json();
    }

    // skopeo copies out of the oix layout, and into it next to oix's refs.
    let other = tmp.path().join("copied-by-skopeo");
    skopeo(
        &sk,
        &[
            "copy",
            "-q",
            &loc("amd64"),
            &format!("oci:{}:copy", other.display()),
        ],
    )
    .ok();
    assert_oix_reads(&other);
    assert_eq!(
        oix(&["inspect", "--raw", &at(&other, ":copy")]).ok().stdout,
        blob(&dir, amd64)
    );
    let single = fixtures().join("single");
    skopeo(
        &sk,
        &[
            "copy",
            "-q",
            &format!("oci:{}:latest", single.display()),
            &loc("from-skopeo"),
        ],
    )
    .ok();
    assert_eq!(
        ref_names(&dir),
        ["multi", "latest", "amd64", "arm64", "from-skopeo"]
    );
    assert_oix_reads(&dir);
    oix(&["untag", &at(&dir, ":multi")]).ok();
    assert_skopeo_raw(&sk, &dir, "from-skopeo");
    assert_skopeo_raw(&sk, &dir, "latest");
    assert_fsck_clean(&dir);
}

#[test]
fn copied_fixture_edited_by_oix_stays_readable() {
    let (Some(sk), Some(um)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    let (_tmp, dir) = copy_fixture("skopeo");
    let multi = digest_of_ref(&dir, "multi");
    oix(&["tag", &at(&dir, ":v1"), "v2"]).ok();
    oix(&["tag", &at(&dir, ":multi"), "all"]).ok();
    oix(&["untag", &at(&dir, ":multi")]).ok();
    assert_eq!(ref_names(&dir), ["v1", "v2", "all"]);
    assert_eq!(digest_of_ref(&dir, "all"), multi);
    for n in ["v1", "v2", "all"] {
        assert_skopeo_raw(&sk, &dir, n);
    }
    let r = run_tool(&um, &["ls", "--layout", &dir.display().to_string()]).ok();
    let out = r.stdout_str();
    let mut umoci_refs: Vec<&str> = out.lines().collect();
    umoci_refs.sort();
    assert_eq!(umoci_refs, ["all", "v1", "v2"]);
    run_tool(&um, &["stat", "--json", "--image", &at(&dir, ":v2")])
        .ok()
        .json();
    assert_fsck_clean(&dir);
}

#[test]
fn layouts_written_by_umoci_pass_oix() {
    let Some(um) = tool("umoci") else {
        return;
    };
    // The checked-in one (umoci init/new/config/unpack/repack/gc).
    let (_t, single) = copy_fixture("single");
    assert_oix_reads(&single);

    // A fresh one, left as umoci leaves it: without gc, so unreferenced blobs remain
    // (allowed by the spec; fsck must not complain), two tags, a config-only image and
    // a layer made by `umoci insert`.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("made-by-umoci");
    let d = dir.display().to_string();
    let img = |t: &str| format!("{d}:{t}");
    run_tool(&um, &["init", "--layout", &d]).ok();
    run_tool(&um, &["new", "--image", &img("base")]).ok();
    run_tool(
        &um,
        &[
            "config",
            "--image",
            &img("base"),
            "--os",
            "linux",
            "--architecture",
            "riscv64",
            "--config.label",
            "org.example=oix",
            "--tag",
            "riscv",
        ],
    )
    .ok();
    let payload = tmp.path().join("payload.txt");
    fs::write(&payload, b"inserted by umoci\n").unwrap();
    run_tool(
        &um,
        &[
            "insert",
            "--image",
            &img("riscv"),
            "--tag",
            "with-layer",
            &payload.display().to_string(),
            "/payload.txt",
        ],
    )
    .ok();
    run_tool(&um, &["tag", "--image", &img("with-layer"), "alias"]).ok();
    assert_eq!(ref_names(&dir).len(), 4);
    assert_oix_reads(&dir);
    let cfg = oix(&["inspect", "--config", "--json", &img("riscv")])
        .ok()
        .json();
    assert_eq!(cfg["content"]["architecture"], "riscv64");
    let ls = oix(&["--json", "ls", &img("riscv")]).ok().json();
    assert_eq!(ls[0]["platforms"][0]["platform"], "linux/riscv64");
    assert_eq!(ls[0]["platforms"][0]["derived"], true);
}

#[test]
fn layouts_written_by_skopeo_pass_oix() {
    let Some(sk) = tool("skopeo") else {
        return;
    };
    let (_t, checked_in) = copy_fixture("skopeo");
    assert_oix_reads(&checked_in);

    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("made-by-skopeo");
    let to = |n: &str| format!("oci:{}:{n}", dst.display());
    let from = |f: &str| format!("oci:{}:latest", fixtures().join(f).display());
    // (skopeo 1.9 cannot copy nested indexes: "Unexpectedly received a manifest list
    // instead of a manifest for a single image", so nested/ is not copied here.)
    skopeo(
        &sk,
        &["copy", "-q", "--all", &from("attestation"), &to("attested")],
    )
    .ok();
    // Without --all skopeo picks one image of the index (the host's platform).
    skopeo(&sk, &["copy", "-q", &from("multiarch"), &to("one")]).ok();
    skopeo(&sk, &["copy", "-q", &from("single"), &to("single")]).ok();
    assert_eq!(ref_names(&dst), ["attested", "one", "single"]);
    assert_oix_reads(&dst);
    // The attestation entries survive the copy and oix still tells them apart.
    // `ls LAYOUT:REF` lists the entries of that index (issue 3).
    let ls = oix(&["--json", "ls", &at(&dst, ":attested")]).ok().json();
    let rows = ls.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter()
            .filter(|r| r["platforms"][0]["attestation"] == true)
            .count(),
        2,
        "{ls}"
    );
    let tree = oix(&["--json", "ls", "--tree", &at(&dst, ":attested")])
        .ok()
        .json();
    let roles: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["role"].as_str().unwrap())
        .collect();
    let image = ["manifest", "config", "layer"];
    let att = ["attestation", "config", "layer"];
    let want: Vec<&str> = std::iter::once("index")
        .chain(image)
        .chain(image)
        .chain(att)
        .chain(att)
        .collect();
    assert_eq!(roles, want);
}

#[test]
fn clean_fixtures_are_read_by_oix_and_skopeo() {
    let Some(sk) = tool("skopeo") else {
        return;
    };
    let (_t, root) = copy_fixtures();
    for (name, refs) in CLEAN_FIXTURES {
        let dir = root.join(name);
        let before = tree_hash(&dir);
        assert_eq!(&ref_names(&dir), refs, "{name}");
        assert_oix_reads(&dir);
        for r in *refs {
            assert_skopeo_raw(&sk, &dir, r);
        }
        assert_eq!(tree_hash(&dir), before, "{name} changed while being read");
    }
    // skopeo picks each platform of the hand-written index oix also lists.
    let dir = root.join("multiarch");
    let ls = oix(&["--json", "ls", &dir.display().to_string()])
        .ok()
        .json();
    let plats: Vec<&str> = ls[0]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(
        plats,
        [
            "linux/amd64",
            "linux/arm64",
            "linux/arm/v7",
            "linux/ppc64le",
            "linux/s390x"
        ]
    );
    for (digest, p) in multiarch_children(&dir, "latest") {
        let mut args = vec!["inspect", "--override-os", "linux"];
        let arch = p["architecture"].as_str().unwrap();
        args.extend(["--override-arch", arch]);
        if let Some(v) = p["variant"].as_str() {
            args.extend(["--override-variant", v]);
        }
        let loc = format!("oci:{}:latest", dir.display());
        args.push(&loc);
        let v = skopeo(&sk, &args).ok().json();
        assert_eq!(v["Architecture"], arch);
        assert_eq!(v["Layers"][0], first_layer(&dir, &digest).as_str());
    }
}

/// One corrupted fixture: what fsck must report, and which read commands must fail
/// (with what in their message).
struct Case {
    name: &'static str,
    /// The fsck problem code (`--json` `problems[].code`); `None` when fsck cannot open
    /// the layout at all and fails with an `error:` instead of a report.
    fsck_code: Option<&'static str>,
    /// fsck's report must contain this (the blob's digest hex, or the file at fault).
    fsck_names: String,
    /// `fsck --quick` must also exit 1 (false where only hashing can see the defect).
    quick_sees_it: bool,
    /// Read commands (`DIR` is replaced by the layout path) that must fail, and a
    /// string their error must contain.
    must_fail: Vec<(Vec<&'static str>, String)>,
}

type Fails = Vec<(Vec<&'static str>, String)>;

fn case(
    name: &'static str,
    fsck_code: Option<&'static str>,
    fsck_names: &str,
    quick_sees_it: bool,
    must_fail: Fails,
) -> Case {
    Case {
        name,
        fsck_code,
        fsck_names: fsck_names.to_string(),
        quick_sees_it,
        must_fail,
    }
}

const READS: &[&[&str]] = &[
    &["ls", "DIR"],
    &["--json", "ls", "DIR"],
    &["ls", "--tree", "DIR"],
    &["--json", "ls", "--tree", "DIR"],
    &["inspect", "DIR"],
    &["inspect", "--raw", "DIR"],
    &["inspect", "--config", "DIR"],
    &["--json", "inspect", "DIR:latest"],
];

fn with_dir(args: &[&str], dir: &Path) -> Vec<String> {
    args.iter()
        .map(|a| a.replace("DIR", &dir.display().to_string()))
        .collect()
}

fn corrupt_cases() -> Vec<Case> {
    let single = fixtures().join("single");
    let man = digest_of_ref(&single, "latest");
    let m = blob_json(&single, &man);
    let hex = |d: &str| d.split_once(':').unwrap().1.to_string();
    let man = hex(&man);
    let cfg = hex(m["config"]["digest"].as_str().unwrap());
    let layer = hex(m["layers"][0]["digest"].as_str().unwrap());
    let multi = fixtures().join("multiarch");
    let arm64 = multiarch_children(&multi, "latest")[1].0.clone();
    let wrong = sha256_hex(b"not the content");
    let inspects = |needle: &str| -> Fails {
        [
            vec!["inspect", "DIR"],
            vec!["inspect", "--raw", "DIR"],
            vec!["inspect", "--config", "DIR"],
            vec!["ls", "--tree", "DIR"],
        ]
        .into_iter()
        .map(|a| (a, needle.to_string()))
        .collect()
    };
    let everything = |needle: &str| -> Fails {
        READS
            .iter()
            .map(|a| (a.to_vec(), needle.to_string()))
            .collect()
    };
    let one = |args: &[&'static str], needle: &str| -> Fails {
        vec![(args.to_vec(), needle.to_string())]
    };
    // `inspect LAYOUT@<arm64>` resolves through the index, then finds the blob missing.
    let at_arm64: &'static str = Box::leak(format!("DIR@{arm64}").into_boxed_str());
    let arm64 = hex(&arm64);
    vec![
        case(
            "missing-manifest",
            Some("missing-blob"),
            &man,
            true,
            inspects(&man),
        ),
        case("missing-layer", Some("missing-blob"), &layer, true, vec![]),
        case(
            "truncated-config",
            Some("size-mismatch"),
            &cfg,
            true,
            one(&["inspect", "--config", "DIR"], &cfg),
        ),
        case(
            "truncated-layer",
            Some("size-mismatch"),
            &layer,
            true,
            vec![],
        ),
        case(
            "digest-mismatch-layer",
            Some("digest-mismatch"),
            &layer,
            false,
            vec![],
        ),
        case(
            "digest-mismatch-manifest",
            Some("digest-mismatch"),
            &man,
            false,
            inspects(&man),
        ),
        case(
            "wrong-size",
            Some("size-mismatch"),
            &man,
            true,
            inspects(&man),
        ),
        case("wrong-name", Some("misnamed-blob"), &wrong, false, vec![]),
        case(
            "symlink-escape",
            Some("symlink-escape"),
            &cfg,
            true,
            one(&["inspect", "--config", "DIR"], "outside the layout"),
        ),
        case(
            "bad-digest",
            Some("invalid-digest"),
            "../../../../etc/passwd",
            true,
            inspects("invalid digest"),
        ),
        case(
            "mediatype-mismatch",
            Some("invalid-document"),
            &man,
            true,
            one(&["ls", "--tree", "DIR"], &man),
        ),
        case(
            "malformed-index",
            Some("invalid-index-json"),
            "index.json",
            true,
            everything("index.json"),
        ),
        case(
            "index-not-json",
            Some("invalid-index-json"),
            "index.json",
            true,
            everything("index.json"),
        ),
        case(
            "not-a-layout",
            None,
            "oci-layout",
            true,
            everything("not an OCI image layout"),
        ),
        case(
            "missing-child",
            Some("missing-blob"),
            &arm64,
            true,
            vec![
                (vec!["ls", "--tree", "DIR"], arm64.clone()),
                (vec!["--json", "ls", "--tree", "DIR"], arm64.clone()),
                (vec!["inspect", at_arm64], arm64.clone()),
            ],
        ),
    ]
}

/// Run every read command and fsck on a broken layout: no panic, clean `error:`
/// messages, JSON on stdout under --json, the expected failures, a report naming the
/// problem, and no change at all.
fn check_corrupt(dir: &Path, case: &Case) {
    let before = tree_hash(dir);
    for args in READS {
        let argv = with_dir(args, dir);
        let r = oix(&argv);
        if r.code != 0 {
            r.assert_error_message();
            assert!(
                [1, 2, 3, 4].contains(&r.code),
                "{}: unexpected exit {} for {argv:?}",
                case.name,
                r.code
            );
            if argv[0] == "--json" {
                assert!(
                    r.json()["error"]["message"].is_string(),
                    "{}: {argv:?}",
                    case.name
                );
            }
        }
    }
    for (args, needle) in &case.must_fail {
        let argv = with_dir(args, dir);
        oix(&argv).fails().stderr_contains(needle);
    }
    let d = dir.display().to_string();
    let full = oix(&["fsck", &d])
        .exits(1)
        .output_contains(&case.fsck_names);
    let quick = oix(&["fsck", "--quick", &d]);
    if case.quick_sees_it {
        quick.exits(1).output_contains(&case.fsck_names);
    } else {
        assert!(
            [0, 1].contains(&quick.code),
            "{}: fsck --quick exit {}",
            case.name,
            quick.code
        );
    }
    let report = oix(&["--json", "fsck", &d]).exits(1).json();
    match case.fsck_code {
        Some(code) => {
            assert_eq!(report["clean"], false, "{}: {report}", case.name);
            let problems = report["problems"].as_array().expect("problems array");
            let hit = problems.iter().any(|p| {
                p["severity"] == "error"
                    && p["code"] == code
                    && p.to_string().contains(&case.fsck_names)
            });
            assert!(
                hit,
                "{}: no `{code}` error naming {} in {report:#}",
                case.name, case.fsck_names
            );
        }
        None => {
            full.assert_error_message();
            assert!(report["error"]["message"].is_string(), "{report}");
        }
    }
    assert_eq!(tree_hash(dir), before, "{}: the layout changed", case.name);
}

#[test]
fn corrupted_fixtures_fail_cleanly_and_stay_untouched() {
    let (_t, root) = copy_fixtures();
    let cases = corrupt_cases();
    // Every corrupted fixture has a case, and every case a fixture.
    let mut on_disk: Vec<String> = fs::read_dir(root.join("corrupt"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut named: Vec<String> = cases.iter().map(|c| c.name.to_string()).collect();
    named.sort();
    assert_eq!(on_disk, named);
    let mut failures = Vec::new();
    for case in &cases {
        let dir = root.join("corrupt").join(case.name);
        if let Err(e) = std::panic::catch_unwind(|| check_corrupt(&dir, case)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("[{}] {msg}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn oversized_index_json_is_refused() {
    let (_t, dir) = copy_fixture("single");
    // A sparse file one byte over the 64 MiB limit (instant, takes no disk space).
    let f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.join("index.json"))
        .unwrap();
    f.set_len(oix::model::MAX_INDEX_JSON_SIZE + 1).unwrap();
    drop(f);
    let case = case(
        "index-too-large",
        Some("invalid-index-json"),
        "index.json",
        true,
        READS
            .iter()
            .map(|a| (a.to_vec(), "larger than".to_string()))
            .collect(),
    );
    check_corrupt(&dir, &case);
    // Writers refuse it too, and leave it alone.
    let before = tree_hash(&dir);
    oix(&["tag", &at(&dir, ":latest"), "x"]).fails_with(1);
    assert_eq!(tree_hash(&dir), before);
}

#[test]
fn a_file_or_an_empty_dir_is_not_a_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, b"{}").unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for dir in [&file, &empty] {
        let before = tree_hash(tmp.path());
        for args in READS {
            oix(&with_dir(args, dir))
                .fails_with(1)
                .stderr_contains("not an OCI image layout");
        }
        oix(&["fsck", &dir.display().to_string()])
            .fails_with(1)
            .stderr_contains("not an OCI image layout");
        oix(&["tag", &at(dir, ":latest"), "x"]).fails_with(1);
        assert_eq!(tree_hash(tmp.path()), before);
    }
}

#[test]
fn make_fixtures_reproduces_the_checked_in_fixtures() {
    let (Some(_), Some(_)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    // Run a copy of the script in a scratch dir (it writes next to itself).
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("make-fixtures.sh");
    fs::copy(fixtures().join("make-fixtures.sh"), &script).unwrap();
    let mut c = std::process::Command::new("bash");
    c.arg(&script).env("HOME", tmp.path());
    run(c).ok();
    let mut dirs: Vec<String> = CLEAN_FIXTURES.iter().map(|(n, _)| n.to_string()).collect();
    dirs.push("corrupt".into());
    for name in dirs {
        assert_eq!(
            tree_hash(&tmp.path().join(&name)),
            tree_hash(&fixtures().join(&name)),
            "fixtures/{name} differs from what make-fixtures.sh makes; rerun it and commit"
        );
    }
}

/// A test that needs skopeo fails under CI when skopeo is missing, and says SKIP (and
/// passes) locally: the rule of tests/gate, used by every interop and registry test.
#[test]
fn a_missing_tool_fails_under_ci_and_skips_locally() {
    if std::env::var_os("OIX_TEST_HIDE_TOOLS").is_some() {
        return; // the child runs below; never recurse
    }
    let exe = std::env::current_exe().unwrap();
    let child = |ci: Option<&str>| {
        let mut c = std::process::Command::new(&exe);
        c.args([
            "--exact",
            "layouts_written_by_skopeo_pass_oix",
            "--nocapture",
        ])
        .env("OIX_TEST_HIDE_TOOLS", "skopeo,umoci")
        .env_remove("CI");
        if let Some(v) = ci {
            c.env("CI", v);
        }
        c.output().unwrap()
    };
    let under_ci = child(Some("true"));
    assert!(
        !under_ci.status.success(),
        "CI=true with skopeo missing must fail"
    );
    let err = String::from_utf8_lossy(&under_ci.stderr).to_string()
        + &String::from_utf8_lossy(&under_ci.stdout);
    assert!(err.contains("skopeo is required under CI"), "{err}");
    let local = child(None);
    assert!(local.status.success());
    let out = String::from_utf8_lossy(&local.stderr);
    assert!(out.contains("SKIP: skopeo not found"), "{out}");
}
