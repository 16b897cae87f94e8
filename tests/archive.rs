//! `oix import` / `oix export` against skopeo and umoci, and hostile archives.

mod imagekit;

use imagekit::*;
use serde_json::json;
use std::fs;
use std::io::Write;
use std::path::Path;

/// A layout `L` with `v1` (gzip) and `v2` (zstd) built from a test tree.
fn fixture(dir: &Path) {
    make_tree(&dir.join("tree"), false);
    oix(
        dir,
        &["build", "tree", "-o", "L:v1", "--platform", "linux/amd64"],
    )
    .ok();
    fs::create_dir_all(dir.join("small/etc")).unwrap();
    fs::write(dir.join("small/etc/motd"), b"hello\n").unwrap();
    oix(
        dir,
        &[
            "build",
            "small",
            "-o",
            "L:v2",
            "--platform",
            "linux/amd64",
            "--compression",
            "zstd",
        ],
    )
    .ok();
}

fn digest_of(layout: &Path, name: &str) -> String {
    refs(layout)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no ref {name} in {}: {:?}", layout.display(), refs(layout)))
        .1
}

/// Store `bytes` as a blob of `layout`, returning its digest.
fn put_blob(layout: &Path, bytes: &[u8]) -> String {
    let d = oix::Digest::sha256_of(bytes);
    fs::write(layout.join("blobs/sha256").join(d.encoded()), bytes).unwrap();
    d.to_string()
}

/// Add a top-level entry to index.json (test fixture surgery).
fn add_entry(layout: &Path, desc: serde_json::Value) {
    let mut idx = index_json(layout);
    idx["manifests"].as_array_mut().unwrap().push(desc);
    fs::write(layout.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
}

fn entry_of(layout: &Path, name: &str) -> serde_json::Value {
    index_json(layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .cloned()
        .unwrap()
}

/// A multi-platform index `multi` in L: amd64 (v1), an arm64 image, and an attestation
/// for the arm64 image.
fn multi_arch(dir: &Path) -> (String, String, String) {
    let l = dir.join("L");
    oix(
        dir,
        &["build", "small", "-o", "L:arm", "--platform", "linux/arm64"],
    )
    .ok();
    let amd = entry_of(&l, "v1");
    let arm = entry_of(&l, "arm");
    let empty = put_blob(&l, b"{}");
    let statement = put_blob(&l, br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let att = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": statement, "size": 45}]
    }))
    .unwrap();
    let att_digest = put_blob(&l, &att);
    let mut children = Vec::new();
    for e in [&amd, &arm] {
        let mut c = e.clone();
        c["annotations"].as_object_mut().unwrap().clear();
        c.as_object_mut().unwrap().remove("annotations");
        children.push(c);
    }
    children.push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": att_digest, "size": att.len(),
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": arm["digest"],
        }
    }));
    let idx = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": children,
    }))
    .unwrap();
    let idx_digest = put_blob(&l, &idx);
    add_entry(
        &l,
        json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": idx_digest, "size": idx.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"}
        }),
    );
    (
        idx_digest,
        arm["digest"].as_str().unwrap().to_string(),
        att_digest,
    )
}

#[test]
fn skopeo_oci_archives_import_with_the_same_digests() {
    if !have("skopeo") {
        return;
    }
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    let (idx_digest, _, _) = multi_arch(dir);
    let l = dir.join("L");
    run_in(
        dir,
        "skopeo",
        &["copy", "-q", "oci:L:v1", "oci-archive:sk1.tar:v1"],
    )
    .ok();
    oix(dir, &["import", "sk1.tar", "-o", "T"]).ok();
    assert_eq!(digest_of(&dir.join("T"), "v1"), digest_of(&l, "v1"));
    // A whole multi-arch index, byte for byte.
    run_in(
        dir,
        "skopeo",
        &[
            "copy",
            "-q",
            "--all",
            "--preserve-digests",
            "oci:L:multi",
            "oci-archive:skm.tar:multi",
        ],
    )
    .ok();
    oix(
        dir,
        &["import", "oci-archive:skm.tar:multi", "-o", "T:release"],
    )
    .ok();
    assert_eq!(digest_of(&dir.join("T"), "release"), idx_digest);
    oix(dir, &["ls", "T:release", "--tree"]).ok();
    // The imported layout is readable by skopeo again.
    run_in(dir, "skopeo", &["inspect", "oci:T:v1"]).ok();
}

#[test]
fn exports_are_reproducible_and_read_by_skopeo_and_oix() {
    if !have("skopeo") {
        return;
    }
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    let l = dir.join("L");
    for (file, extra) in [
        ("e.tar", vec![]),
        ("e.tar.gz", vec![]),
        ("e.tar.zst", vec![]),
        ("e1.tar.gz", vec!["--jobs", "1"]),
        ("e3.tar.gz", vec!["--jobs", "3"]),
        ("e1.tar.zst", vec!["--jobs", "1"]),
    ] {
        let mut args = vec!["export", "L:v1", "L:v2", "-o", file];
        args.extend(extra);
        oix(dir, &args).ok();
    }
    let bytes = |f: &str| fs::read(dir.join(f)).unwrap();
    assert_eq!(bytes("e.tar.gz"), bytes("e1.tar.gz"));
    assert_eq!(bytes("e.tar.gz"), bytes("e3.tar.gz"));
    assert_eq!(bytes("e.tar.zst"), bytes("e1.tar.zst"));
    oix(dir, &["export", "L:v1", "L:v2", "-o", "again.tar"]).ok();
    assert_eq!(bytes("e.tar"), bytes("again.tar"));
    // Only reachable blobs: three per image (manifest, config, layer).
    let members = read_members(&bytes("e.tar"));
    let blobs = members
        .iter()
        .filter(|m| m.name.starts_with(b"blobs/sha256/") && m.typeflag == b'0')
        .count();
    assert_eq!(blobs, 6);
    fs::write(l.join("blobs/sha256").join("0".repeat(64)), b"stray").unwrap();
    oix(dir, &["export", "L:v1", "L:v2", "-o", "again.tar"]).ok();
    assert_eq!(
        bytes("e.tar"),
        bytes("again.tar"),
        "an unreferenced blob changed the export"
    );

    for f in ["e.tar", "e.tar.gz", "e.tar.zst"] {
        let r = run_in(dir, "skopeo", &["inspect", &format!("oci-archive:{f}:v1")]).ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["Digest"].as_str().unwrap(), digest_of(&l, "v1"), "{f}");
        let target = format!("T-{f}");
        oix(dir, &["import", f, "--all", "-o", &target]).ok();
        assert_eq!(refs(&dir.join(&target)), {
            let mut r = refs(&l);
            r.retain(|(n, _)| n == "v1" || n == "v2");
            r
        });
    }
    if have("xz") {
        // Two concatenated xz streams.
        let tar = bytes("e.tar");
        let mut xz = Vec::new();
        for part in [&tar[..tar.len() / 3], &tar[tar.len() / 3..]] {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 3);
            e.write_all(part).unwrap();
            xz.extend(e.finish().unwrap());
        }
        fs::write(dir.join("e.tar.xz"), xz).unwrap();
        oix(dir, &["import", "e.tar.xz:v2", "-o", "X"]).ok();
        assert_eq!(digest_of(&dir.join("X"), "v2"), digest_of(&l, "v2"));
    }
    // From stdin, JSON report.
    let r = oix_stdin(
        dir,
        &["--json", "import", "-", "--all", "-o", "S"],
        &bytes("e.tar.gz"),
    )
    .ok();
    let rep: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rep["format"], "oci-archive");
    assert_eq!(rep["compression"], "gzip");
    assert_eq!(rep["refs"].as_array().unwrap().len(), 2);
    // Export to stdout.
    let out = oix_cmd(["export", "L:v1", "-o", "-"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::write(dir.join("stdout.tar"), &out.stdout).unwrap();
    oix(dir, &["import", "stdout.tar", "-o", "U:copy"]).ok();
    assert_eq!(digest_of(&dir.join("U"), "copy"), digest_of(&l, "v1"));
}

#[test]
fn platform_subset_export_rewrites_the_index() {
    if !have("skopeo") {
        return;
    }
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    let (idx_digest, arm_digest, att_digest) = multi_arch(dir);
    let l = dir.join("L");
    oix(
        dir,
        &[
            "export",
            "L:multi",
            "--platform",
            "linux/arm64",
            "-o",
            "arm.tar",
        ],
    )
    .ok();
    let members = read_members(&fs::read(dir.join("arm.tar")).unwrap());
    let names: Vec<String> = members
        .iter()
        .map(|m| String::from_utf8(m.name.clone()).unwrap())
        .collect();
    let amd = blob_json(&l, &digest_of(&l, "v1"));
    let amd_layer = amd["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .replace(':', "/");
    assert!(
        !names.iter().any(|n| n.ends_with(&amd_layer)),
        "amd64 layer exported"
    );
    let idx: serde_json::Value = serde_json::from_slice(
        &members
            .iter()
            .find(|m| m.name == b"index.json")
            .unwrap()
            .data,
    )
    .unwrap();
    let top = &idx["manifests"][0];
    assert_eq!(
        top["annotations"]["org.opencontainers.image.ref.name"],
        "multi"
    );
    assert_ne!(top["digest"], idx_digest);
    oix(dir, &["import", "arm.tar", "-o", "T"]).ok();
    let t_l = dir.join("T");
    let sub = blob_json(&t_l, &digest_of(&t_l, "multi"));
    let kids: Vec<&str> = sub["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["digest"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [arm_digest.as_str(), att_digest.as_str()]);
    let r = run_in(
        dir,
        "skopeo",
        &["inspect", "--raw", "oci-archive:arm.tar:multi"],
    )
    .ok();
    let raw: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(raw, sub);
    // amd64: the attestation (of the arm64 image) stays behind.
    oix(
        dir,
        &[
            "export",
            "L:multi",
            "--platform",
            "linux/amd64",
            "-o",
            "amd.tar",
        ],
    )
    .ok();
    oix(dir, &["import", "amd.tar", "-o", "A"]).ok();
    let a_l = dir.join("A");
    let sub = blob_json(&a_l, &digest_of(&a_l, "multi"));
    assert_eq!(sub["manifests"].as_array().unwrap().len(), 1);
    // Both platforms: nothing removed, so the original index travels unchanged.
    oix(
        dir,
        &[
            "export",
            "L:multi",
            "--platform",
            "linux/amd64",
            "--platform",
            "linux/arm64",
            "-o",
            "both.tar",
        ],
    )
    .ok();
    oix(dir, &["import", "both.tar", "-o", "B"]).ok();
    assert_eq!(digest_of(&dir.join("B"), "multi"), idx_digest);
    oix(
        dir,
        &[
            "export",
            "L:multi",
            "--platform",
            "linux/s390x",
            "-o",
            "none.tar",
        ],
    )
    .exits(3);
    oix(dir, &["export", "L:nope", "-o", "none.tar"]).exits(3);
    assert!(!dir.join("none.tar").exists());
}

#[test]
fn docker_archives_convert_keeping_layer_bytes() {
    if !have("skopeo") {
        return;
    }
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    run_in(
        dir,
        "skopeo",
        &[
            "copy",
            "-q",
            "oci:L:v1",
            "docker-archive:d.tar:example.com/app:1.0",
        ],
    )
    .ok();
    oix(dir, &["import", "d.tar", "-o", "T"]).ok();
    let t_l = dir.join("T");
    let name = "docker.io/example.com/app:1.0";
    let names: Vec<String> = refs(&t_l).into_iter().map(|(n, _)| n).collect();
    let name = if names.iter().any(|n| n == name) {
        name.to_string()
    } else {
        names[0].clone()
    };
    assert!(name.ends_with("app:1.0"), "{names:?}");
    let m = blob_json(&t_l, &digest_of(&t_l, &name));
    let cfg = blob_json(&t_l, m["config"]["digest"].as_str().unwrap());
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(m["layers"][0]["digest"], cfg["rootfs"]["diff_ids"][0]);
    let e = entry_of(&t_l, &name);
    assert_eq!(e["platform"]["architecture"], "amd64");
    // Selecting by tag and renaming.
    oix(dir, &["import", "d.tar:1.0", "-o", "T:one"]).ok();
    assert_eq!(digest_of(&t_l, "one"), digest_of(&t_l, &name));
    oix(dir, &["import", "d.tar:2.0", "-o", "T:two"]).exits(3);
    run_in(dir, "skopeo", &["inspect", "oci:T:one"]).ok();
    if have("umoci") {
        run_in(dir, "umoci", &["unpack", "--image", "T:one", "bundle"]).ok();
        let want = describe_tree(&dir.join("tree"), true);
        let got = describe_tree(&dir.join("bundle/rootfs"), true);
        assert_eq!(got, want);
    }
}

#[test]
fn layout_import_and_ref_selection() {
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    let l = dir.join("L");
    oix(dir, &["import", "oci:L:v1", "-o", "T"]).ok();
    assert_eq!(digest_of(&dir.join("T"), "v1"), digest_of(&l, "v1"));
    oix(dir, &["import", "L:v2", "-o", "T:renamed"]).ok();
    assert_eq!(digest_of(&dir.join("T"), "renamed"), digest_of(&l, "v2"));
    oix(dir, &["export", "L", "-o", "all.tar"]).ok();
    let before = fs::read(dir.join("T/index.json")).unwrap();
    let r = oix(dir, &["import", "all.tar", "-o", "T"]).exits(4);
    assert!(
        r.stderr.contains("v1") && r.stderr.contains("v2"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read(dir.join("T/index.json")).unwrap(), before);
    oix(dir, &["import", "all.tar", "--all", "-o", "T:x"]).exits(2);
    oix(dir, &["import", "all.tar:v9", "-o", "T"]).exits(3);
    oix(dir, &["import", "all.tar:v2", "-o", "T:again"]).ok();
    assert_eq!(digest_of(&dir.join("T"), "again"), digest_of(&l, "v2"));
    oix(dir, &["import", "missing.tar", "-o", "T"]).exits(2);
}

/// Rewrite a plain oci-archive: apply `f` to its members.
fn mutate(base: &[u8], f: impl FnOnce(&mut Vec<Member>)) -> Vec<u8> {
    let mut m = read_members(base);
    f(&mut m);
    raw_tar(&m)
}

fn blob_name(d: &str) -> String {
    format!("blobs/{}", d.replace(':', "/"))
}

#[test]
fn hostile_archives_are_refused_and_leave_the_target_alone() {
    let t = scratch();
    let dir = t.path();
    fixture(dir);
    let l = dir.join("L");
    oix(dir, &["export", "L:v2", "-o", "base.tar"]).ok();
    let base = fs::read(dir.join("base.tar")).unwrap();
    oix(dir, &["import", "base.tar", "-o", "T:keep"]).ok();
    let before = fs::read(dir.join("T/index.json")).unwrap();
    let m = blob_json(&l, &digest_of(&l, "v2"));
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let manifest = digest_of(&l, "v2");

    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            mutate(&base, |m| m.push(Member::file("blobs/../../evil", b"x"))),
            "`..`",
        ),
        (
            "absolute",
            mutate(&base, |m| m.push(Member::file("/tmp/evil", b"x"))),
            "absolute",
        ),
        (
            "symlink-escape",
            mutate(&base, |m| m.push(Member::link("etc", b'2', "../../etc"))),
            "leaves the archive",
        ),
        (
            "symlink-absolute",
            mutate(&base, |m| {
                m.push(Member::link("passwd", b'2', "/etc/passwd"))
            }),
            "leaves the archive",
        ),
        (
            "hardlink-escape",
            mutate(&base, |m| m.push(Member::link("h", b'1', "../outside"))),
            "leaves the archive",
        ),
        (
            "link-as-blob",
            mutate(&base, |m| {
                m.push(Member::link(
                    &blob_name(&format!("sha256:{}", "a".repeat(64))),
                    b'2',
                    "index.json",
                ))
            }),
            "link where a blob should be",
        ),
        (
            "bad-blob-name",
            mutate(&base, |m| {
                m.push(Member::file("blobs/sha256/not-a-digest", b"x"))
            }),
            "not a digest",
        ),
        (
            "nested-blob-name",
            mutate(&base, |m| m.push(Member::file("blobs/sha256/x/y", b"x"))),
            "blobs/<algorithm>/<encoded>",
        ),
        (
            "duplicate",
            mutate(&base, |m| {
                let dup = Member::file(
                    "index.json",
                    &m.iter().find(|x| x.name == b"index.json").unwrap().data,
                );
                m.push(dup)
            }),
            "duplicate entry",
        ),
        (
            "content-mismatch",
            mutate(&base, |m| {
                let e = m
                    .iter_mut()
                    .find(|x| x.name == blob_name(&layer).as_bytes())
                    .unwrap();
                let n = e.data.len();
                e.data = vec![b'z'; n];
            }),
            "hashes to",
        ),
        (
            "missing-blob",
            mutate(&base, |m| {
                m.retain(|x| x.name != blob_name(&layer).as_bytes())
            }),
            "missing",
        ),
        (
            "device",
            mutate(&base, |m| {
                m.push(Member {
                    name: b"dev".to_vec(),
                    typeflag: b'3',
                    data: vec![],
                    link: vec![],
                })
            }),
            "no place",
        ),
    ];
    // Size mismatch: the manifest says the layer is one byte longer than it is.
    cases.push((
        "size-mismatch",
        mutate(&base, |ms| {
            let old_name = blob_name(&manifest);
            let mut mj: serde_json::Value = serde_json::from_slice(
                &ms.iter()
                    .find(|x| x.name == old_name.as_bytes())
                    .unwrap()
                    .data,
            )
            .unwrap();
            let size = mj["layers"][0]["size"].as_i64().unwrap();
            mj["layers"][0]["size"] = json!(size + 1);
            let bytes = serde_json::to_vec(&mj).unwrap();
            let new_digest = oix::Digest::sha256_of(&bytes).to_string();
            for x in ms.iter_mut() {
                if x.name == old_name.as_bytes() {
                    x.name = blob_name(&new_digest).into_bytes();
                    x.data = bytes.clone();
                } else if x.name == b"index.json" {
                    let mut idx: serde_json::Value = serde_json::from_slice(&x.data).unwrap();
                    idx["manifests"][0]["digest"] = json!(new_digest);
                    idx["manifests"][0]["size"] = json!(bytes.len());
                    x.data = serde_json::to_vec(&idx).unwrap();
                }
            }
        }),
        "descriptor says",
    ));
    // A gzip bomb: a 64 MiB member of zeros compresses about 1000:1.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut plain = read_members(&base);
    plain.insert(0, Member::file("padding", &vec![0u8; 64 << 20]));
    bomb.write_all(&raw_tar(&plain)).unwrap();
    cases.push(("gzip-bomb", bomb.finish().unwrap(), "decompression bomb"));

    for (name, bytes, msg) in cases {
        let f = format!("{name}.tar");
        fs::write(dir.join(&f), &bytes).unwrap();
        // A blob missing from the archive is fine when the target already has it (the
        // graph in the target is complete); every other case fails either way.
        let r = oix(dir, &["import", &f, "-o", "T:new"]);
        if name == "missing-blob" {
            r.ok();
            oix(dir, &["untag", "T:new"]).ok();
            assert_eq!(fs::read(dir.join("T/index.json")).unwrap(), before);
            let fresh = format!("F-{name}");
            let r = oix(dir, &["import", &f, "-o", &format!("{fresh}:new")]).fails();
            assert!(r.stderr.contains(msg), "{name}: {}", r.stderr);
            // A failed import leaves no new layout behind (issue 12).
            assert!(!dir.join(&fresh).exists(), "{name}: left {fresh} behind");
            continue;
        }
        let r = r.fails();
        assert!(
            r.stderr.contains(msg),
            "{name}: expected {msg:?} in: {}",
            r.stderr
        );
        assert_eq!(
            fs::read(dir.join("T/index.json")).unwrap(),
            before,
            "{name}: index.json changed"
        );
        // Into a new layout (nothing present yet): refused the same way, no refs.
        let fresh = format!("F-{name}");
        let r = oix(dir, &["import", &f, "-o", &format!("{fresh}:new")]).fails();
        assert!(
            r.stderr.contains(msg),
            "{name} (fresh): expected {msg:?} in: {}",
            r.stderr
        );
        // A failed import leaves no new layout behind (issue 12).
        assert!(!dir.join(&fresh).exists(), "{name}: left {fresh} behind");
    }
    // The refusals left the target intact and usable.
    oix(dir, &["ls", "T"]).ok();
    oix(dir, &["import", "base.tar", "-o", "T:fine"]).ok();
}

/// The root index an archive's index.json names, and the entries it lists (digests).
fn archive_root_entries(tar: &[u8]) -> Vec<serde_json::Value> {
    let members = read_members(tar);
    let member = |name: &str| {
        members
            .iter()
            .find(|m| m.name == name.as_bytes())
            .unwrap_or_else(|| panic!("no member {name}"))
            .data
            .clone()
    };
    let idx: serde_json::Value = serde_json::from_slice(&member("index.json")).unwrap();
    let root = idx["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .replace(':', "/");
    let doc: serde_json::Value = serde_json::from_slice(&member(&format!("blobs/{root}"))).unwrap();
    doc["manifests"].as_array().unwrap().clone()
}

#[test]
fn platform_subset_export_keeps_referrers_and_the_order_of_nested_indexes() {
    let t = scratch();
    let dir = t.path();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // A rewritten nested index keeps its place in its parent (it used to move last).
    oix(
        dir,
        &[
            "export",
            &path_str(&fixtures.join("nested")),
            "--platform",
            "linux/arm64",
            "--platform",
            "linux/s390x",
            "-o",
            "nested.tar",
        ],
    )
    .ok();
    let top = archive_root_entries(&fs::read(dir.join("nested.tar")).unwrap());
    let types: Vec<&str> = top
        .iter()
        .map(|d| d["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json"
        ]
    );
    // Referrers (artifacts whose subject is an image) travel with their subject.
    let l = dir.join("L");
    assert!(std::process::Command::new("cp")
        .args(["-a", &path_str(&fixtures.join("multiarch")), &path_str(&l)])
        .status()
        .unwrap()
        .success());
    let latest = entry_of(&l, "latest");
    let mut outer = blob_json(&l, latest["digest"].as_str().unwrap());
    let image = |arch: &str| {
        outer["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["platform"]["architecture"] == arch)
            .unwrap()
            .clone()
    };
    let (amd, arm) = (image("amd64"), image("arm64"));
    let empty = put_blob(&l, b"{}");
    let referrer = |subject: &serde_json::Value, n: u32| {
        let bytes = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.example.sbom",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [],
            "subject": {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]},
            "annotations": {"n": n.to_string()},
        }))
        .unwrap();
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.example.sbom",
            "digest": put_blob(&l, &bytes),
            "size": bytes.len(),
        })
    };
    let (sbom_amd, sbom_arm) = (referrer(&amd, 1), referrer(&arm, 2));
    let list = outer["manifests"].as_array_mut().unwrap();
    list.push(sbom_amd.clone());
    list.push(sbom_arm.clone());
    let bytes = serde_json::to_vec(&outer).unwrap();
    let idx = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": put_blob(&l, &bytes),
            "size": bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        }],
    });
    fs::write(l.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    oix(dir, &["fsck", "L"]).ok();
    oix(
        dir,
        &[
            "export",
            "L:latest",
            "--platform",
            "linux/arm64",
            "-o",
            "arm.tar",
        ],
    )
    .ok();
    let kept: Vec<String> = archive_root_entries(&fs::read(dir.join("arm.tar")).unwrap())
        .iter()
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kept,
        [
            arm["digest"].as_str().unwrap(),
            sbom_arm["digest"].as_str().unwrap()
        ],
        "the arm64 image and its SBOM, not the amd64 one's"
    );
}
