//! The command line as users and Makefiles meet it: the reference grammar, exit codes,
//! `--json` shapes, and tag/untag semantics, all through the real binary.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const FULL_NAME: &str = "registry.example.com:5000/oix/fixture:1.0";

/// Write index.json by hand (bypassing oix) from a JSON value.
fn write_index(dir: &Path, v: &Value) {
    fs::write(dir.join("index.json"), serde_json::to_vec(v).unwrap()).unwrap();
}

/// The first index.json entry of a fixture, as JSON.
fn entry(dir: &Path, i: usize) -> Value {
    index_entries(dir)[i].clone()
}

fn with_ref(mut d: Value, name: &str) -> Value {
    d["annotations"] = json!({ "org.opencontainers.image.ref.name": name });
    d
}

fn d(dir: &Path) -> String {
    dir.display().to_string()
}

#[test]
fn reference_grammar_names_the_same_content_every_way() {
    let (_t, dir) = copy_fixture("multiarch");
    let idx = digest_of_ref(&dir, "latest");
    let stored = blob(&dir, &idx);
    let arm64 = blob_json(&dir, &idx)["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    // Every spelling of the top-level entry gives the same bytes.
    for r in [
        d(&dir),
        at(&dir, ":latest"),
        format!("oci:{}", d(&dir)),
        format!("oci:{}:latest", d(&dir)),
        at(&dir, &format!("@{idx}")),
        format!("oci:{}@{idx}", d(&dir)),
    ] {
        let out = oix(&["inspect", "--raw", &r]).ok();
        assert_eq!(out.stdout, stored, "{r}");
    }
    // A digest anywhere in the graph: a child manifest, and that manifest's config.
    let raw = oix(&["inspect", "--raw", &at(&dir, &format!("@{arm64}"))]).ok();
    assert_eq!(raw.stdout, blob(&dir, &arm64));
    let cfg = blob_json(&dir, &arm64)["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let v = oix(&["--json", "inspect", &at(&dir, &format!("@{cfg}"))])
        .ok()
        .json();
    assert_eq!(v["content"]["architecture"], "arm64");
    assert_eq!(v["descriptor"]["digest"], cfg.as_str());
    // `inspect --config` on the child gives that same config.
    let v = oix(&[
        "--json",
        "inspect",
        "--config",
        &at(&dir, &format!("@{arm64}")),
    ])
    .ok()
    .json();
    assert_eq!(v["descriptor"]["digest"], cfg.as_str());
    // Human inspect: digest first, then the pretty document.
    let out = oix(&["inspect", &at(&dir, ":latest")]).ok().stdout_str();
    assert_eq!(out.lines().next(), Some(idx.as_str()));
    // A layer is not a document.
    let layer = blob_json(&dir, &arm64)["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    oix(&["inspect", &at(&dir, &format!("@{layer}"))])
        .fails_with(1)
        .stderr_contains("not a JSON document");
}

#[test]
fn both_ref_name_conventions_are_read() {
    let (_t, dir) = copy_fixture("skopeo");
    let v1 = entry(&dir, 0);
    let multi = entry(&dir, 1);
    let (v1_digest, multi_digest) = (
        v1["digest"].as_str().unwrap().to_string(),
        multi["digest"].as_str().unwrap().to_string(),
    );
    // One entry with a full image name, as some exporters write it.
    write_index(
        &dir,
        &json!({"schemaVersion": 2, "manifests": [with_ref(v1.clone(), FULL_NAME)]}),
    );
    for r in ["1.0", "fixture:1.0", FULL_NAME] {
        let v = oix(&["--json", "inspect", &at(&dir, &format!(":{r}"))])
            .ok()
            .json();
        assert_eq!(v["descriptor"]["digest"], v1_digest.as_str(), "{r}");
    }
    for r in ["2.0", "xfixture:1.0", "oix/fixture", "5000/oix/fixture:1.0"] {
        oix(&["inspect", &at(&dir, &format!(":{r}"))]).fails_with(3);
    }
    // A bare tag equal to the full name's tag wins over the full name.
    write_index(
        &dir,
        &json!({"schemaVersion": 2, "manifests": [
            with_ref(v1.clone(), FULL_NAME),
            with_ref(multi.clone(), "1.0"),
        ]}),
    );
    let v = oix(&["--json", "inspect", &at(&dir, ":1.0")]).ok().json();
    assert_eq!(v["descriptor"]["digest"], multi_digest.as_str());
    let v = oix(&["--json", "inspect", &at(&dir, &format!(":{FULL_NAME}"))])
        .ok()
        .json();
    assert_eq!(v["descriptor"]["digest"], v1_digest.as_str());
    // ls shows the names exactly as stored.
    let ls = oix(&["--json", "ls", &d(&dir)]).ok().json();
    assert_eq!(ls[0]["ref"], FULL_NAME);
    assert_eq!(ls[1]["ref"], "1.0");
    // Tagging by the short form works; oix writes the name exactly as given.
    oix(&["tag", &at(&dir, ":fixture:1.0"), "short"]).ok();
    assert_eq!(digest_of_ref(&dir, "short"), v1_digest);
    assert_eq!(ref_names(&dir), [FULL_NAME, "1.0", "short"]);
}

#[test]
fn default_reference_needs_exactly_one_entry() {
    let (_t, root) = copy_fixtures();
    let single = root.join("single");
    let out = oix(&["inspect", "--raw", &d(&single)]).ok();
    assert_eq!(out.stdout, blob(&single, &digest_of_ref(&single, "latest")));
    // Two entries: exit 4, and the message lists the refs.
    let two = root.join("skopeo");
    let before = tree_hash(&two);
    for args in [
        vec!["inspect".to_string(), d(&two)],
        vec!["tag".into(), d(&two), "x".into()],
    ] {
        oix(&args)
            .fails_with(4)
            .stderr_contains("v1")
            .stderr_contains("multi");
    }
    // ls without REF lists every entry instead (--tree walks them all).
    oix(&["ls", "--tree", &d(&two)]).ok();
    assert_eq!(
        oix(&["--json", "ls", &d(&two)])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(tree_hash(&two), before);
    // An empty layout: nothing to pick (exit 3), but ls lists nothing happily.
    let empty = root.join("empty");
    oix(&["init", &d(&empty)]).ok();
    oix(&["inspect", &d(&empty)]).fails_with(3);
    assert_eq!(oix(&["--json", "ls", &d(&empty)]).ok().json(), json!([]));
}

#[test]
fn unknown_refs_and_digests_exit_3() {
    let (_t, dir) = copy_fixture("skopeo");
    let before = tree_hash(&dir);
    oix(&["inspect", &at(&dir, ":nope")])
        .fails_with(3)
        .stderr_contains("nope")
        .stderr_contains("v1, multi");
    let absent = format!("@sha256:{}", "0".repeat(64));
    oix(&["inspect", &at(&dir, &absent)]).fails_with(3);
    oix(&["ls", &at(&dir, ":nope")]).fails_with(3);
    oix(&["tag", &at(&dir, ":nope"), "x"]).fails_with(3);
    oix(&["untag", &at(&dir, ":nope")]).fails_with(3);
    assert_eq!(tree_hash(&dir), before);
}

#[test]
fn malicious_digests_are_refused_before_any_path_is_opened() {
    let (_t, dir) = copy_fixture("single");
    // Plant a readable document where the naive path `blobs/sha256/../../etc/passwd`
    // would land; if oix built that path, inspect would print it.
    let planted = dir.join("etc");
    fs::create_dir(&planted).unwrap();
    fs::write(
        planted.join("passwd"),
        br#"{"schemaVersion":2,"manifests":[]}"#,
    )
    .unwrap();
    let before = tree_hash(&dir);
    let bad = [
        "sha256:../../etc/passwd",
        "sha256:../../../../../../etc/passwd",
        "sha256:/etc/passwd",
        "sha512:../../etc/passwd",
    ];
    for digest in bad {
        for args in [
            vec![
                "inspect".to_string(),
                "--raw".into(),
                at(&dir, &format!("@{digest}")),
            ],
            vec!["inspect".into(), at(&dir, &format!("@{digest}"))],
            vec!["ls".into(), at(&dir, &format!("@{digest}"))],
            vec!["tag".into(), at(&dir, &format!("@{digest}")), "x".into()],
        ] {
            let r = oix(&args).fails_with(2).stderr_contains("invalid");
            assert!(r.stdout.is_empty(), "{args:?} printed {:?}", r.stdout_str());
        }
    }
    // Grammar errors come before the layout is even looked at.
    oix(&["inspect", "/nonexistent/layout@sha256:../../etc/passwd"]).fails_with(2);
    // Upper-case hex and wrong lengths are not digests either.
    let upper = format!("@sha256:{}", "A".repeat(64));
    oix(&["inspect", &at(&dir, &upper)]).fails_with(2);
    oix(&["inspect", &at(&dir, "@sha256:abc")]).fails_with(2);
    // Bad ref names (tag targets and sources) are usage errors too.
    for name in ["../x", "-x", "a b", "a//b", ""] {
        oix(&["tag", &at(&dir, ":latest"), name]).fails_with(2);
    }
    oix(&["inspect", &at(&dir, ":a b")]).fails_with(2);
    assert_eq!(tree_hash(&dir), before);
}

#[test]
fn json_shapes_of_ls_tag_untag_inspect() {
    let (_t, dir) = copy_fixture("attestation");
    let idx = digest_of_ref(&dir, "latest");
    // ls: one object per top-level entry.
    let ls = oix(&["--json", "ls", &d(&dir)]).ok().json();
    let e = &ls.as_array().unwrap()[0];
    assert_eq!(e["ref"], "latest");
    assert_eq!(e["digest"], idx.as_str());
    assert_eq!(e["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert!(e["size"].is_i64());
    let plats = e["platforms"].as_array().unwrap();
    assert_eq!(plats.len(), 4);
    assert_eq!(
        plats[0],
        json!({"platform": "linux/amd64", "derived": false})
    );
    assert_eq!(
        plats[2],
        json!({"platform": "unknown/unknown", "derived": false, "attestation": true})
    );
    // ls --tree: flat list with depth and role.
    let tree = oix(&["--json", "ls", "--tree", &d(&dir)]).ok().json();
    let tree = tree.as_array().unwrap();
    assert_eq!(tree.len(), 13);
    assert_eq!(tree[0]["depth"], 0);
    assert_eq!(tree[0]["role"], "index");
    assert_eq!(tree[0]["ref"], "latest");
    assert!(tree
        .iter()
        .all(|n| n["digest"].is_string() && n["mediaType"].is_string()));
    // tag: one change per name.
    let t = oix(&["--json", "tag", &at(&dir, ":latest"), "v1", "v2"])
        .ok()
        .json();
    assert_eq!(
        t,
        json!([
            {"ref": "v1", "digest": idx, "action": "created"},
            {"ref": "v2", "digest": idx, "action": "created"},
        ])
    );
    let t = oix(&["--json", "tag", &at(&dir, ":v1"), "v2"]).ok().json();
    assert_eq!(t[0]["action"], "unchanged");
    // Moving a ref says where it was.
    let amd64 = blob_json(&dir, &idx)["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let t = oix(&["--json", "tag", &at(&dir, &format!("@{amd64}")), "v2"])
        .ok()
        .json();
    assert_eq!(
        t,
        json!([{"ref": "v2", "digest": amd64, "action": "moved", "previous": idx}])
    );
    // untag: removed, with the digest it pointed at.
    let u = oix(&["--json", "untag", &at(&dir, ":v1"), &at(&dir, ":v2")])
        .ok()
        .json();
    assert_eq!(
        u,
        json!([
            {"ref": "v1", "digest": idx, "action": "removed", "previous": idx},
            {"ref": "v2", "digest": amd64, "action": "removed", "previous": amd64},
        ])
    );
    // inspect --json: descriptor + parsed content.
    let v = oix(&["--json", "inspect", &d(&dir)]).ok().json();
    assert_eq!(v["descriptor"]["digest"], idx.as_str());
    assert_eq!(v["content"]["manifests"].as_array().unwrap().len(), 4);
    // Errors under --json: a JSON object on stdout, the message on stderr.
    let r = oix(&["--json", "inspect", &at(&dir, ":nope")]).fails_with(3);
    let err = r.json();
    assert_eq!(err["error"]["exit_code"], 3);
    assert!(err["error"]["message"].as_str().unwrap().contains("nope"));
    // init --json.
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("fresh");
    let v = oix(&["--json", "init", &d(&fresh)]).ok().json();
    assert_eq!(v["created"], true);
    let v = oix(&["--json", "init", &d(&fresh)]).ok().json();
    assert_eq!(v["created"], false);
}

#[test]
fn retag_is_idempotent_and_leaves_index_json_alone() {
    let (_t, dir) = copy_fixture("single");
    oix(&["tag", &at(&dir, ":latest"), "v1", "v1.0"]).ok();
    let bytes = fs::read(dir.join("index.json")).unwrap();
    let ino = fs::metadata(dir.join("index.json")).unwrap().ino();
    for _ in 0..3 {
        let out = oix(&["tag", &at(&dir, ":latest"), "v1", "v1.0"]).ok();
        assert!(
            out.stdout_str().lines().all(|l| l.ends_with(" unchanged")),
            "{}",
            out.stdout_str()
        );
        oix(&["tag", &at(&dir, ":v1"), "latest"]).ok();
    }
    assert_eq!(fs::read(dir.join("index.json")).unwrap(), bytes);
    // Not even rewritten with the same bytes: index.json is replaced by rename, so a
    // rewrite would show up as a new inode.
    assert_eq!(fs::metadata(dir.join("index.json")).unwrap().ino(), ino);
    // No temp files left behind.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oix-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_fsck_clean(&dir);
}

#[test]
fn tag_keeps_order_and_unknown_fields() {
    let (_t, dir) = copy_fixture("skopeo");
    let mut v1 = entry(&dir, 0);
    v1["x-vendor-field"] = json!({"kept": [1, 2, 3]});
    v1["annotations"]["com.example.note"] = json!("keep me");
    let multi = entry(&dir, 1);
    write_index(
        &dir,
        &json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [v1, multi],
            "annotations": {"org.opencontainers.image.created": "2023-11-14T22:13:20Z"},
            "x-top-level": "also kept"
        }),
    );
    let before: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    oix(&["tag", &at(&dir, ":multi"), "z-last"]).ok();
    oix(&["tag", &at(&dir, ":v1"), "multi"]).ok(); // moves multi in place
    let after: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(after["x-top-level"], "also kept");
    assert_eq!(after["annotations"], before["annotations"]);
    assert_eq!(after["mediaType"], before["mediaType"]);
    let m = after["manifests"].as_array().unwrap();
    assert_eq!(m[0], before["manifests"][0], "untouched entry changed");
    assert_eq!(ref_names(&dir), ["v1", "multi", "z-last"]);
    // The moved entry is a copy of v1's descriptor (unknown fields included) renamed.
    let mut want = before["manifests"][0].clone();
    want["annotations"]["org.opencontainers.image.ref.name"] = json!("multi");
    assert_eq!(m[1], want);
    assert_eq!(m[2]["digest"], before["manifests"][1]["digest"]);
    oix(&["untag", &at(&dir, ":multi")]).ok();
    let after: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(after["x-top-level"], "also kept");
    assert_eq!(ref_names(&dir), ["v1", "z-last"]);
}

#[test]
fn untag_ignore_missing_and_usage_errors() {
    let (_t, root) = copy_fixtures();
    let dir = root.join("skopeo");
    let before = fs::read(dir.join("index.json")).unwrap();
    let v1 = digest_of_ref(&dir, "v1");
    oix(&["untag", &at(&dir, ":gone")])
        .fails_with(3)
        .stderr_contains("gone");
    // One missing ref fails the whole command; nothing is removed.
    oix(&["untag", &at(&dir, ":v1"), &at(&dir, ":gone")]).fails_with(3);
    assert_eq!(fs::read(dir.join("index.json")).unwrap(), before);
    // --ignore-missing: exit 0, no change at all for missing refs...
    let out = oix(&["untag", "--ignore-missing", &at(&dir, ":gone")]).ok();
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read(dir.join("index.json")).unwrap(), before);
    // ...while present ones are still removed.
    oix(&[
        "untag",
        "--ignore-missing",
        &at(&dir, ":gone"),
        &at(&dir, ":v1"),
    ])
    .ok();
    assert_eq!(ref_names(&dir), ["multi"]);
    // Content stays until gc.
    assert!(!blob(&dir, &v1).is_empty());
    // untag needs LAYOUT:REF, all in one layout.
    oix(&["untag", &d(&dir)]).fails_with(2);
    let digest = format!("{}@{}", d(&dir), digest_of_ref(&dir, "multi"));
    oix(&["untag", &digest]).fails_with(2);
    let other = root.join("single");
    oix(&["untag", &at(&dir, ":multi"), &at(&other, ":latest")]).fails_with(2);
    assert_eq!(ref_names(&dir), ["multi"]);
    assert_eq!(ref_names(&other), ["latest"]);
    // Untagging the last ref leaves a valid, empty layout.
    oix(&["untag", &at(&dir, ":multi")]).ok();
    assert_eq!(oix(&["--json", "ls", &d(&dir)]).ok().json(), json!([]));
    assert_fsck_clean(&dir);
}

#[test]
fn tag_refuses_to_copy_an_invalid_descriptor() {
    // Regression: `oix tag` used to copy an index.json entry whose digest is not a
    // digest (here `sha256:../../../../etc/passwd`) into a new entry, changing a broken
    // layout and spreading the damage.
    let (_t, dir) = copy_fixture("corrupt/bad-digest");
    let before = tree_hash(&dir);
    oix(&["tag", &at(&dir, ":latest"), "x"])
        .fails_with(1)
        .stderr_contains("invalid digest");
    assert_eq!(tree_hash(&dir), before);
    // A negative size is refused the same way.
    let (_t2, dir) = copy_fixture("single");
    let mut e = entry(&dir, 0);
    e["size"] = json!(-1);
    write_index(&dir, &json!({"schemaVersion": 2, "manifests": [e]}));
    let before = tree_hash(&dir);
    oix(&["tag", &at(&dir, ":latest"), "x"]).fails_with(1);
    assert_eq!(tree_hash(&dir), before);
}

#[test]
fn init_and_global_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new");
    oix(&["init", &format!("oci:{}", d(&dir))]).ok();
    let header: Value = serde_json::from_slice(&fs::read(dir.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(header, json!({"imageLayoutVersion": "1.0.0"}));
    let index: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["manifests"], json!([]));
    assert!(dir.join("blobs").is_dir());
    assert_fsck_clean(&dir);
    // Re-init is a no-op.
    let before = tree_hash(&dir);
    oix(&["init", &d(&dir)]).ok();
    assert_eq!(tree_hash(&dir), before);
    // A non-empty directory that is not a layout is refused and left alone.
    let junk = tmp.path().join("junk");
    fs::create_dir(&junk).unwrap();
    fs::write(junk.join("file"), b"mine").unwrap();
    oix(&["init", &d(&junk)]).fails_with(1);
    assert_eq!(fs::read_dir(&junk).unwrap().count(), 1);
    // Usage errors exit 2.
    oix(&["--lock-timeout", "-1", "ls", &d(&dir)]).fails_with(2);
    oix(&["--lock-timeout", "NaN", "ls", &d(&dir)]).fails_with(2);
    let r = oix(&["no-such-command"]);
    assert_eq!(r.code, 2);
    let r = oix(&["tag", &d(&dir)]);
    assert_eq!(r.code, 2, "tag without names");
    // --help and --version succeed.
    assert!(oix(&["--help"]).ok().stdout_str().contains("EXIT STATUS"));
    oix(&["--version"]).ok();
}

#[test]
fn lock_timeout_is_honoured() {
    let (_t, dir) = copy_fixture("single");
    // Hold the index lock the way another oix would (flock on .oix-index.lock).
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".oix-index.lock"))
        .unwrap();
    lock.lock().unwrap();
    let before = fs::read(dir.join("index.json")).unwrap();
    let start = std::time::Instant::now();
    oix(&[
        "--lock-timeout",
        "0.3",
        "tag",
        &at(&dir, ":latest"),
        "blocked",
    ])
    .fails_with(1)
    .stderr_contains("lock");
    let waited = start.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(250),
        "{waited:?}"
    );
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    assert_eq!(fs::read(dir.join("index.json")).unwrap(), before);
    // Readers take no lock.
    oix(&["ls", &d(&dir)]).ok();
    lock.unlock().unwrap();
    oix(&["--lock-timeout", "0.3", "tag", &at(&dir, ":latest"), "free"]).ok();
}

#[test]
fn ls_warns_about_entries_whose_content_is_missing() {
    let (_t, dir) = copy_fixture("single");
    let digest = entry(&dir, 0)["digest"].as_str().unwrap().to_string();
    let hex = digest.strip_prefix("sha256:").unwrap();
    // A clean layout: no warning, no `missing` field.
    let clean = oix(&["--json", "ls", &d(&dir)]).ok();
    assert!(
        !clean.all_output().contains("warning"),
        "{}",
        clean.all_output()
    );
    assert!(clean.json()[0].get("missing").is_none());
    fs::remove_file(dir.join("blobs/sha256").join(hex)).unwrap();
    // ls still lists (a sparse layout is legitimate), exits 0, and says what is unknown.
    let human = oix(&["ls", &d(&dir)])
        .ok()
        .stderr_contains("1 entry points at content that is not in the layout")
        .stderr_contains(&digest);
    assert!(
        human.stdout_str().contains(&digest[..19]),
        "{}",
        human.stdout_str()
    );
    let json = oix(&["--json", "ls", &d(&dir)]).ok().json();
    assert_eq!(json[0]["missing"], true);
}

/// `--json` errors say what happened (`error.kind`), and each kind exits with the code
/// the EXIT STATUS table gives it.
#[test]
fn json_errors_carry_their_kind_and_its_exit_code() {
    let f = fixtures();
    let scratch = tempfile::tempdir().unwrap();
    let out = |name: &str| scratch.path().join(name).display().to_string();
    let at = |p: &str| f.join(p).display().to_string();
    let cases: Vec<(Vec<String>, &str, i32)> = vec![
        (vec!["ls".into(), out("no-such-dir")], "not-found", 1),
        (
            vec!["inspect".into(), at("corrupt/index-not-json")],
            "corrupt",
            1,
        ),
        (
            vec![
                "export".into(),
                at("corrupt/missing-manifest"),
                "-o".into(),
                out("a.tar"),
            ],
            "not-found",
            1,
        ),
        (
            vec![
                "export".into(),
                at("corrupt/digest-mismatch-manifest"),
                "-o".into(),
                out("b.tar"),
            ],
            "corrupt",
            1,
        ),
        (
            vec![
                "select".into(),
                at("single"),
                "--platform".into(),
                "linux/s390x".into(),
            ],
            "no-match",
            3,
        ),
        (vec!["ls".into(), "--no-such-flag".into()], "", 2),
    ];
    for (args, kind, code) in cases {
        let mut full = vec!["--json".to_string()];
        full.extend(args);
        let r = oix(&full).exits(code);
        if kind.is_empty() {
            continue; // clap's own usage errors print no JSON
        }
        let v = r.json();
        assert_eq!(v["error"]["kind"], kind, "{full:?}: {v}");
        assert_eq!(v["error"]["exit_code"], code, "{full:?}: {v}");
    }
}

/// The library returns an unknown platform's warning as data (`select::Filters`); the
/// CLI prints it, for `copy` as for the commands that parse selector flags.
#[test]
fn copy_prints_the_unknown_platform_warning_the_library_returns() {
    let (_t, dir) = copy_fixture("multiarch");
    let out = dir.parent().unwrap().join("out");
    let o = oix_cmd([
        "copy",
        "--platform",
        "linux/amd65",
        &d(&dir),
        out.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("warning: --platform linux/amd65: unknown architecture \"amd65\""),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing matched: no destination layout");
}
