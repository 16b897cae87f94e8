//! Issue 17, the gaps left after the first round: `ls` marks a zstd twin as `diff` does;
//! `merge --policy keep-missing` annotates a carried twin like the entry it travels
//! with; `pull`, `export` and index edits do not offer `--manifest-format auto` (and
//! refuse it with a hint); `recompress` says it skipped a nested index.
//!
//! The images are written by the library (uncompressed tar layers), so these tests need
//! no external tool.

mod common;
mod common_registry;

use common_registry::oix_json;
use std::path::Path;

const TWIN: &str = "io.github.containers.compression.zstd";
const CARRIED_FROM: &str = "dev.oix.merge.carried-from";

fn entries_of(dir: &Path, tag: &str) -> Vec<serde_json::Value> {
    let d = common::digest_of_ref(dir, tag);
    common::blob_json(dir, &d)["manifests"]
        .as_array()
        .unwrap()
        .clone()
}

fn is_twin(e: &serde_json::Value) -> bool {
    e["annotations"][TWIN] == "true"
}

fn arch(e: &serde_json::Value) -> String {
    e["platform"]["architecture"].as_str().unwrap().to_string()
}

/// `dir:v1`: an index of a linux/amd64 and a linux/arm64 image, each with a zstd twin
/// (`oix recompress --to zstd --add`).
fn twin_index(dir: &Path) -> String {
    common::arch_image(dir, "amd64", "linux/amd64", "one");
    common::arch_image(dir, "arm64", "linux/arm64", "one");
    let l = dir.display();
    common::oix(&[
        "index",
        "create",
        &format!("{l}:v1"),
        &format!("{l}:amd64"),
        &format!("{l}:arm64"),
    ])
    .ok();
    let v = oix_json(&["recompress", &format!("{l}:v1"), "--to", "zstd", "--add"]);
    assert_eq!(v["changed"], true, "{v}");
    let es = entries_of(dir, "v1");
    assert_eq!(es.iter().filter(|e| is_twin(e)).count(), 2, "{es:?}");
    common::digest_of_ref(dir, "v1")
}

/// `ls` labels a twin `PLATFORM (zstd twin)` (the label of `oix diff`) in the table and
/// the tree, and `"twin": "zstd"` in `--json`; a selection's rows too.
#[test]
fn ls_marks_a_zstd_twin_in_the_table_the_tree_and_json() {
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    twin_index(&l);
    let layout = l.display().to_string();

    let table = common::oix(&["ls", &layout]).ok().stdout_str();
    let row = table
        .lines()
        .find(|line| line.starts_with("v1 "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("linux/amd64,linux/arm64,linux/amd64 (zstd twin),linux/arm64 (zstd twin)"),
        "{table}"
    );
    let plain = table
        .lines()
        .find(|line| line.starts_with("amd64 "))
        .unwrap();
    assert!(!plain.contains("twin"), "{table}");

    let v = oix_json(&["ls", &layout]);
    let v1 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ref"] == "v1")
        .unwrap();
    let cells = v1["platforms"].as_array().unwrap();
    assert_eq!(cells.len(), 4, "{v1}");
    let twins: Vec<&str> = cells
        .iter()
        .filter(|c| c["twin"] == "zstd")
        .map(|c| c["platform"].as_str().unwrap())
        .collect();
    assert_eq!(twins, ["linux/amd64", "linux/arm64"], "{v1}");
    assert!(cells[..2].iter().all(|c| c.get("twin").is_none()), "{v1}");

    let tree = common::oix(&["ls", &format!("{layout}:v1"), "--tree"])
        .ok()
        .stdout_str();
    assert_eq!(tree.matches("(zstd twin)").count(), 2, "{tree}");
    assert!(tree.contains("linux/arm64 (zstd twin)"), "{tree}");
    let nodes = oix_json(&["ls", &format!("{layout}:v1"), "--tree"]);
    let marked = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["platform"]["twin"] == "zstd")
        .count();
    assert_eq!(marked, 2, "{nodes}");

    // A selection lists both amd64 entries; the twin's row says which it is.
    let rows = oix_json(&["ls", &format!("{layout}:v1"), "--platform", "linux/amd64"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let marks: Vec<bool> = rows
        .iter()
        .map(|r| r["platforms"][0]["twin"] == "zstd")
        .collect();
    assert_eq!(marks, [false, true], "{rows:?}");
    let table = common::oix(&["ls", &format!("{layout}:v1"), "--platform", "linux/amd64"])
        .ok()
        .stdout_str();
    assert_eq!(
        table.matches("linux/amd64 (zstd twin)").count(),
        1,
        "{table}"
    );
}

/// keep-missing with a new amd64-only build carries arm64 and its twin; both carry
/// `dev.oix.merge.carried-from`, the same value (the twin follows the entry rule); the
/// new amd64 entry has none and the old amd64 twin is gone with the old amd64.
#[test]
fn keep_missing_annotates_a_carried_twin_like_its_entry() {
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    let old = twin_index(&l);
    let new_amd = common::arch_image(&l, "amd64-new", "linux/amd64", "rebuild");
    let layout = l.display().to_string();
    common::oix(&[
        "merge",
        &format!("{layout}:v1"),
        &format!("{layout}:amd64-new"),
        "--policy",
        "keep-missing",
    ])
    .ok();
    let es = entries_of(&l, "v1");
    assert_eq!(es.len(), 3, "{es:?}");
    assert_eq!(es[0]["digest"], new_amd.as_str());
    assert!(es[0]["annotations"].get(CARRIED_FROM).is_none(), "{es:?}");
    let arm: Vec<&serde_json::Value> = es.iter().filter(|e| arch(e) == "arm64").collect();
    assert_eq!(arm.len(), 2, "{es:?}");
    assert!(!is_twin(arm[0]) && is_twin(arm[1]), "{es:?}");
    let from = arm[0]["annotations"][CARRIED_FROM]
        .as_str()
        .unwrap_or_else(|| panic!("the carried entry is annotated: {es:?}"));
    assert!(from.ends_with(&format!("@{old}")), "{from}");
    assert_eq!(
        arm[1]["annotations"][CARRIED_FROM], from,
        "the carried twin is annotated like its entry: {es:?}"
    );
    common::assert_fsck_clean(&l);

    // Merged again with the same source: the annotation is the one first given, so
    // the bytes do not change (the rule docs/publish.md relies on).
    let before = common::digest_of_ref(&l, "v1");
    common::oix(&[
        "merge",
        &format!("{layout}:v1"),
        &format!("{layout}:amd64-new"),
        "--policy",
        "keep-missing",
    ])
    .ok();
    assert_eq!(common::digest_of_ref(&l, "v1"), before);
}

/// `auto` asks a registry, so only push and copy offer it; the others do not list it
/// in their help and refuse it with a hint (exit 2), before any connection.
#[test]
fn manifest_format_auto_is_offered_only_where_it_works() {
    for cmd in [&["pull"][..], &["export"], &["merge"], &["index", "create"]] {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push("--help");
        let help = common::oix(&args).ok().stdout_str();
        let at = help
            .find("--manifest-format")
            .unwrap_or_else(|| panic!("{cmd:?}: {help}"));
        let flag = &help[at..];
        let flag = &flag[..flag.find("--allow-lossy").unwrap()];
        assert!(!flag.contains("auto"), "{cmd:?} offers auto: {flag}");
        assert!(flag.contains("docker"), "{cmd:?}: {flag}");
    }
    for cmd in ["push", "copy"] {
        let help = common::oix(&[cmd, "--help"]).ok().stdout_str();
        let at = help.find("--manifest-format").unwrap();
        let flag = &help[at..];
        let flag = &flag[..flag.find("--allow-lossy").unwrap()];
        assert!(flag.contains("auto"), "{cmd}: {flag}");
    }
    // Port 1 on loopback: nothing listens; the refusal comes first.
    let work = tempfile::tempdir().unwrap();
    let dst = work.path().join("l");
    let out = common::oix(&[
        "pull",
        "docker://127.0.0.1:1/team/app:v1",
        &format!("{}:v1", dst.display()),
        "--plain-http",
        "--manifest-format",
        "auto",
    ])
    .fails_with(2);
    let msg = out.all_output();
    assert!(msg.contains("auto is for push and copy"), "{msg}");
    assert!(msg.contains("choose oci or docker"), "{msg}");
    assert!(!dst.exists(), "nothing written");
}

/// An index with a nested index: `recompress` recompresses the images of its level and
/// reports the nested index `skipped` with a note (JSON and the human note on stderr);
/// the nested index is unchanged in the new index.
#[test]
fn recompress_reports_a_nested_index_it_skips() {
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    common::arch_image(&l, "amd64", "linux/amd64", "one");
    common::arch_image(&l, "arm64", "linux/arm64", "one");
    common::arch_image(&l, "s390x", "linux/s390x", "one");
    let layout = l.display().to_string();
    common::oix(&[
        "index",
        "create",
        &format!("{layout}:inner"),
        &format!("{layout}:amd64"),
        &format!("{layout}:arm64"),
    ])
    .ok();
    let inner = common::digest_of_ref(&l, "inner");
    common::oix(&[
        "index",
        "create",
        &format!("{layout}:outer"),
        &format!("{layout}:inner"),
        &format!("{layout}:s390x"),
    ])
    .ok();
    let outer = entries_of(&l, "outer");
    assert_eq!(outer[0]["digest"], inner.as_str(), "nested: {outer:?}");

    let dry = oix_json(&[
        "recompress",
        &format!("{layout}:outer"),
        "--to",
        "zstd",
        "--dry-run",
    ]);
    let v = oix_json(&["recompress", &format!("{layout}:outer"), "--to", "zstd"]);
    assert_eq!(dry["entries"], v["entries"]);
    let es = v["entries"].as_array().unwrap();
    assert_eq!(es.len(), 2, "{v}");
    let nested = es.iter().find(|e| e["from"] == inner.as_str()).unwrap();
    assert_eq!(nested["action"], "skipped", "{v}");
    assert_eq!(nested["to"], inner.as_str());
    assert!(
        nested["note"].as_str().unwrap().contains("nested index"),
        "{v}"
    );
    let s390x = es.iter().find(|e| e["platform"] == "linux/s390x").unwrap();
    assert_eq!(s390x["action"], "replaced", "{v}");
    let after = entries_of(&l, "outer");
    assert_eq!(after[0], outer[0], "the nested index is left as it is");
    assert_ne!(after[1]["digest"], outer[1]["digest"]);
    common::assert_fsck_clean(&l);

    // The human output says so too.
    let out = common::oix(&["recompress", &format!("{layout}:outer"), "--to", "gzip"]).ok();
    let msg = out.all_output();
    assert!(msg.contains("nested index"), "{msg}");
}

/// A non-distributable (foreign) layer converts as docs/convert.md maps it: OCI
/// `…layer.nondistributable.v1.tar+gzip` ⇄ Docker `…rootfs.foreign.diff.tar.gzip`, its
/// `urls` kept; back to OCI gives the original bytes (same digest); the layer blob is
/// the same blob throughout.
#[test]
fn a_foreign_layer_converts_to_docker_and_back_keeping_its_urls() {
    const NONDIST: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    const FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    const URL: &str = "https://downloads.example.com/windows/base.tar.gz";
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("l");
    let l = oix::Layout::init(&dir).unwrap().0;
    let foreign = b"foreign layer bytes (pretend gzip)";
    let foreign_d = l.write_blob_bytes(foreign).unwrap();
    let plain = b"an ordinary tar layer";
    let plain_d = l.write_blob_bytes(plain).unwrap();
    let cfg = format!(
        r#"{{"architecture":"amd64","os":"windows","rootfs":{{"type":"layers","diff_ids":["{}","{plain_d}"]}}}}"#,
        oix::Digest::sha256_of(b"unpacked foreign layer")
    );
    let cfg_d = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cfg_d}","size":{}}},"layers":[{{"mediaType":"{NONDIST}","digest":"{foreign_d}","size":{},"urls":["{URL}"]}},{{"mediaType":"{}","digest":"{plain_d}","size":{}}}]}}"#,
        oix::model::media::OCI_MANIFEST,
        oix::model::media::OCI_CONFIG,
        cfg.len(),
        foreign.len(),
        oix::model::media::OCI_LAYER_TAR,
        plain.len()
    );
    let man_d = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = oix::model::Descriptor::new(oix::model::media::OCI_MANIFEST, &man_d, man.len() as u64);
    oix::tags::tag(&l, &d, &["v1".to_string()]).unwrap();
    drop(l);

    let docker = work.path().join("docker");
    let v = oix_json(&[
        "copy",
        &format!("{}:v1", dir.display()),
        &format!("{}:v1", docker.display()),
        "--manifest-format",
        "docker",
    ]);
    let to = v["digest"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert_ne!(to, man_d.to_string());
    let m = common::blob_json(&docker, to);
    assert_eq!(m["mediaType"], oix::model::media::DOCKER_MANIFEST, "{m}");
    assert_eq!(m["layers"][0]["mediaType"], FOREIGN, "{m}");
    assert_eq!(m["layers"][0]["urls"][0], URL, "{m}");
    assert_eq!(m["layers"][0]["digest"], foreign_d.to_string());
    assert_eq!(
        m["layers"][1]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar"
    );
    common::assert_fsck_clean(&docker);

    let back = work.path().join("back");
    let v = oix_json(&[
        "copy",
        &format!("{}:v1", docker.display()),
        &format!("{}:v1", back.display()),
        "--manifest-format",
        "oci",
    ]);
    assert_eq!(v["digest"], man_d.to_string(), "{v}");
    assert_eq!(common::blob(&back, &man_d.to_string()), man.as_bytes());
    common::assert_fsck_clean(&back);
}

/// `index add` (the upsert of one platform) replaces amd64 and drops amd64's twin with
/// it (the twin described the old build), keeps arm64's twin after every non-twin
/// entry; adding again changes nothing; a flattened `index create` of the result writes
/// the same bytes (twins are not second platforms that would collide).
#[test]
fn index_add_replaces_a_platform_together_with_its_twin() {
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    twin_index(&l);
    let new_amd = common::arch_image(&l, "amd64-new", "linux/amd64", "rebuild");
    let layout = l.display().to_string();
    let add = || {
        common::oix(&[
            "index",
            "add",
            &format!("{layout}:v1"),
            &format!("{layout}:amd64-new"),
        ])
        .ok()
    };
    let out = add();
    assert!(
        out.all_output().contains("- linux/amd64 (zstd twin)"),
        "{}",
        out.all_output()
    );
    let es = entries_of(&l, "v1");
    let seen: Vec<(String, bool)> = es.iter().map(|e| (arch(e), is_twin(e))).collect();
    assert_eq!(
        seen,
        [
            ("amd64".to_string(), false),
            ("arm64".to_string(), false),
            ("arm64".to_string(), true)
        ],
        "{es:?}"
    );
    assert_eq!(es[0]["digest"], new_amd.as_str());
    let after = common::digest_of_ref(&l, "v1");
    add();
    assert_eq!(common::digest_of_ref(&l, "v1"), after, "idempotent");
    common::oix(&[
        "index",
        "create",
        &format!("{layout}:flat"),
        &format!("{layout}:v1"),
        "--flatten",
    ])
    .ok();
    assert_eq!(common::digest_of_ref(&l, "flat"), after);
    common::assert_fsck_clean(&l);
}

/// `export --format docker-archive --platform` on an index with zstd twins takes the
/// platform's gzip image (the twin does not compete: docs/selection.md), not exit 4;
/// an index of one platform and its twin needs no --platform; a listing of the
/// platforms marks the twins; skopeo's docker-archive: transport reads the export.
#[test]
fn docker_archive_export_of_a_twin_index_takes_the_gzip_image() {
    if !common_registry::require("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    twin_index(&l);
    let layout = l.display().to_string();
    let gzip_amd = common::digest_of_ref(&l, "amd64");
    let tar = work.path().join("x.tar");
    common::oix(&[
        "export",
        &format!("{layout}:v1"),
        "--format",
        "docker-archive",
        "--platform",
        "linux/amd64",
        "--name",
        "example.org/app:1",
        "-o",
        tar.to_str().unwrap(),
    ])
    .ok();
    let back = work.path().join("back");
    let skopeo = common::tool("skopeo").expect("skopeo");
    common::skopeo(
        &skopeo,
        &[
            "copy",
            "--preserve-digests",
            &format!("docker-archive:{}", tar.display()),
            &format!("oci:{}:t", back.display()),
        ],
    )
    .ok();
    let gzip_layers = common::blob_json(&l, &gzip_amd)["layers"].clone();
    let copied = common::blob_json(&back, &common::digest_of_ref(&back, "t"));
    let digests = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["digest"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(digests(&copied["layers"]), digests(&gzip_layers));

    // Without --platform: a multi-arch refusal whose listing marks the twins.
    let out = common::oix(&[
        "export",
        &format!("{layout}:v1"),
        "--format",
        "docker-archive",
        "-o",
        tar.to_str().unwrap(),
    ])
    .fails_with(2);
    let msg = out.all_output();
    assert!(msg.contains("linux/arm64 (zstd twin)"), "{msg}");

    // One platform and its twin: the gzip image, no --platform needed.
    common::oix(&[
        "index",
        "create",
        &format!("{layout}:one"),
        &format!("{layout}:amd64"),
    ])
    .ok();
    oix_json(&[
        "recompress",
        &format!("{layout}:one"),
        "--to",
        "zstd",
        "--add",
    ]);
    assert_eq!(entries_of(&l, "one").len(), 2);
    common::oix(&[
        "export",
        &format!("{layout}:one"),
        "--format",
        "docker-archive",
        "-o",
        tar.to_str().unwrap(),
    ])
    .ok();
}
