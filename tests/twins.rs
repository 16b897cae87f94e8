//! Compression twins (issue 17 item 4): `oix recompress --to zstd --add` writes a zstd
//! twin per platform that skopeo copies and reads, in a layout and through the real
//! registry; selection prefers the gzip entry over its twin; merge policies keep a twin
//! with its platform; the same input gives the same bytes; an image whose layer does not
//! match its diff_id is refused without changing the layout.

mod common;
mod common_registry;

use common_registry::*;
use oix::model::media;
use std::path::Path;
use std::process::Command;

const TWIN: &str = "io.github.containers.compression.zstd";

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

/// A two-arch umoci-built index (real gzip tar layers) at `dir:v1`.
fn two_arch(dir: &Path, seed: u64) {
    build_multiarch(
        dir,
        "v1",
        &[("linux", "amd64", None), ("linux", "arm64", None)],
        50_000,
        seed,
    );
}

fn recompress_add(dir: &Path) -> serde_json::Value {
    oix_json(&[
        "recompress",
        &format!("{}:v1", dir.display()),
        "--to",
        "zstd",
        "--add",
    ])
}

#[test]
fn recompress_add_writes_zstd_twins_that_skopeo_copies_and_reads() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    two_arch(&l, 1);
    let before = entries_of(&l, "v1");
    let v = recompress_add(&l);
    assert_eq!(v["changed"], true, "{v}");
    let es = v["entries"].as_array().unwrap();
    assert_eq!(es.len(), 2);
    for e in es {
        assert_eq!(e["action"], "added", "{v}");
        assert_ne!(e["from"], e["to"]);
        for layer in e["layers"].as_array().unwrap() {
            assert_eq!(layer["action"], "recompressed");
            assert_eq!(layer["mediaType"], media::OCI_LAYER_ZSTD);
        }
    }
    let after = entries_of(&l, "v1");
    // The gzip entries stay as they were, first; the twins follow, marked.
    assert_eq!(after.len(), 4);
    assert_eq!(after[..2], before[..]);
    for (twin, orig) in after[2..].iter().zip(&before) {
        assert!(is_twin(twin), "{twin}");
        assert_eq!(twin["platform"], orig["platform"]);
        let m = common::blob_json(&l, twin["digest"].as_str().unwrap());
        let o = common::blob_json(&l, orig["digest"].as_str().unwrap());
        assert_eq!(
            m["config"], o["config"],
            "config unchanged: diff_ids stay valid"
        );
        for layer in m["layers"].as_array().unwrap() {
            assert_eq!(layer["mediaType"], media::OCI_LAYER_ZSTD);
            let bytes = common::blob(&l, layer["digest"].as_str().unwrap());
            assert_eq!(&bytes[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
        }
    }
    common::assert_fsck_clean(&l);

    // Running it again changes nothing (the platforms have their twins).
    let again = recompress_add(&l);
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(entries_of(&l, "v1"), after);

    // skopeo copies both entries of each platform and reads every image.
    let skopeo = common::tool("skopeo").expect("skopeo");
    let l2 = work.path().join("l2");
    common::skopeo(
        &skopeo,
        &[
            "copy",
            "--all",
            "--preserve-digests",
            &format!("oci:{}:v1", l.display()),
            &format!("oci:{}:v1", l2.display()),
        ],
    )
    .ok();
    assert_eq!(entries_of(&l2, "v1"), after);
    common::assert_fsck_clean(&l2);
    let raw = common::skopeo(
        &skopeo,
        &["inspect", "--raw", &format!("oci:{}:v1", l2.display())],
    )
    .ok();
    let idx: serde_json::Value = serde_json::from_str(&raw.stdout_str()).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 4);
    // skopeo's own instance choice for amd64 reads the image (config and layers).
    common::skopeo(
        &skopeo,
        &[
            "--override-arch",
            "amd64",
            "--override-os",
            "linux",
            "inspect",
            &format!("oci:{}:v1", l2.display()),
        ],
    )
    .ok();
    // umoci unpacks the gzip entry, untouched by the recompression.
    let umoci = common::tool("umoci").expect("umoci");
    let gzip_amd = after
        .iter()
        .find(|e| arch(e) == "amd64" && !is_twin(e))
        .unwrap();
    oix_json(&[
        "tag",
        &format!("{}@{}", l.display(), gzip_amd["digest"].as_str().unwrap()),
        "amd64-gzip",
    ]);
    let bundle = work.path().join("bundle");
    common::run_tool(
        &umoci,
        &[
            "unpack",
            "--rootless",
            "--image",
            &format!("{}:amd64-gzip", l.display()),
            bundle.to_str().unwrap(),
        ],
    )
    .ok();
    assert!(bundle.join("rootfs/data/payload.bin").exists());
}

/// A one-result selection takes the gzip entry; `--where` on the twin annotation takes
/// the twin; `--on-ambiguity all` lists both.
#[test]
fn select_platform_prefers_the_gzip_entry_over_its_twin() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    two_arch(&l, 2);
    recompress_add(&l);
    let es = entries_of(&l, "v1");
    let gzip = es
        .iter()
        .find(|e| arch(e) == "amd64" && !is_twin(e))
        .unwrap();
    let twin = es
        .iter()
        .find(|e| arch(e) == "amd64" && is_twin(e))
        .unwrap();
    let r = format!("{}:v1", l.display());
    let v = oix_json(&["select", &r, "--platform", "linux/amd64"]);
    let ms = v["matches"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(ms.len(), 1, "{v}");
    assert_eq!(ms[0]["digest"], gzip["digest"]);
    assert!(ms[0]["why"].to_string().contains("zstd twin"), "{v}");
    let v = oix_json(&["select", &r, "--platform", "linux/amd64", "--where", TWIN]);
    let ms = v["matches"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{v}");
    assert_eq!(ms[0]["digest"], twin["digest"]);
    let v = oix_json(&[
        "select",
        &r,
        "--platform",
        "linux/amd64",
        "--on-ambiguity",
        "all",
    ]);
    assert_eq!(v["matches"].as_array().unwrap().len(), 2, "{v}");
}

/// keep-missing with a new gzip-only amd64 build keeps arm64's twin with arm64 and
/// drops amd64's old twin (it described the old build); require-all does not count
/// twins as platforms; diff names a twin as a variant of its platform.
#[test]
fn merge_policies_keep_each_twin_with_its_platform() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    two_arch(&l, 3);
    recompress_add(&l);
    let old = entries_of(&l, "v1");
    let old_arm_twin = old
        .iter()
        .find(|e| arch(e) == "arm64" && is_twin(e))
        .unwrap()
        .clone();
    let new_amd = common::arch_image(&l, "amd64-new", "linux/amd64", "rebuild");
    let r = format!("{}:v1", l.display());
    let src = format!("{}:amd64-new", l.display());

    // require-all: the sources lack arm64 (a platform), and nothing else is counted.
    let out = common::oix(&["merge", &r, &src, "--policy", "require-all"]).fails_with(5);
    let msg = out.all_output();
    assert!(msg.contains("1 platform(s): linux/arm64"), "{msg}");

    common::oix(&["merge", &r, &src, "--policy", "keep-missing"]).ok();
    let es = entries_of(&l, "v1");
    let amd: Vec<_> = es.iter().filter(|e| arch(e) == "amd64").collect();
    assert_eq!(
        amd.len(),
        1,
        "the old amd64 twin went with the old amd64: {es:?}"
    );
    assert_eq!(amd[0]["digest"], new_amd.as_str());
    let arm: Vec<_> = es.iter().filter(|e| arch(e) == "arm64").collect();
    assert_eq!(arm.len(), 2, "arm64 kept its twin: {es:?}");
    assert!(!is_twin(arm[0]) && is_twin(arm[1]));
    assert_eq!(arm[1]["digest"], old_arm_twin["digest"]);
    common::assert_fsck_clean(&l);

    // Unambiguous after the merge too.
    let v = oix_json(&["select", &r, "--platform", "linux/arm64"]);
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);

    // diff: the twins are variants of their platforms.
    let l3 = work.path().join("l3");
    two_arch(&l3, 4);
    oix_json(&["tag", &format!("{}:v1", l3.display()), "plain"]);
    recompress_add(&l3);
    let d = oix_json(&[
        "diff",
        &format!("{}:plain", l3.display()),
        &format!("{}:v1", l3.display()),
    ]);
    let added: Vec<String> = d["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["platform"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        added,
        ["linux/amd64 (zstd twin)", "linux/arm64 (zstd twin)"],
        "{d}"
    );
}

/// The same input gives the same bytes, whatever the number of threads; replacing
/// (no --add) re-points the ref to zstd-only entries; gzip back gives gzip layers.
#[test]
fn recompress_is_reproducible_and_round_trips() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a");
    two_arch(&a, 5);
    let b = work.path().join("b");
    common::copy_tree(&a, &b);
    let run = |dir: &Path, jobs: &str| {
        oix_json(&[
            "recompress",
            &format!("{}:v1", dir.display()),
            "--to",
            "zstd",
            "--jobs",
            jobs,
        ])
    };
    let va = run(&a, "1");
    let vb = run(&b, "2");
    assert_eq!(va["to"], vb["to"]);
    assert_eq!(va["entries"], vb["entries"]);
    assert_eq!(common::digest_of_ref(&a, "v1"), va["to"].as_str().unwrap());
    let es = entries_of(&a, "v1");
    assert_eq!(es.len(), 2);
    assert!(es.iter().all(|e| !is_twin(e)));
    common::assert_fsck_clean(&a);
    let back = oix_json(&["recompress", &format!("{}:v1", a.display()), "--to", "gzip"]);
    for e in back["entries"].as_array().unwrap() {
        for layer in e["layers"].as_array().unwrap() {
            assert_eq!(layer["mediaType"], media::OCI_LAYER_GZIP);
        }
    }
    common::assert_fsck_clean(&a);
}

/// A layer whose content does not hash to its config's diff_id: a clear error (exit 1),
/// and the layout is byte for byte as it was (no blob, no temp file, no index change).
#[test]
fn a_layer_that_does_not_match_its_diff_id_is_refused_and_nothing_changes() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("l");
    let l = oix::Layout::init(&dir).unwrap().0;
    let layer = b"some layer bytes, not what the config says";
    let layer_d = l.write_blob_bytes(layer).unwrap();
    let wrong = oix::Digest::sha256_of(b"other content");
    let cfg = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{wrong}"]}}}}"#
    );
    let cfg_d = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cfg_d}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{layer_d}","size":{}}}]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len(),
        media::OCI_LAYER_TAR,
        layer.len()
    );
    let man_d = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = oix::model::Descriptor::new(media::OCI_MANIFEST, &man_d, man.len() as u64);
    oix::tags::tag(&l, &d, &["v1".to_string()]).unwrap();
    drop(l);
    let before = common::tree_hash(&dir);
    let out = common::oix(&[
        "recompress",
        &format!("{}:v1", dir.display()),
        "--to",
        "zstd",
    ])
    .fails_with(1);
    let msg = out.all_output();
    assert!(msg.contains("diff_id"), "{msg}");
    assert!(msg.contains(&layer_d.to_string()), "{msg}");
    assert!(msg.contains("nothing was"), "{msg}");
    assert_eq!(common::tree_hash(&dir), before);

    // The same image with a right diff_id recompresses; the single manifest is replaced.
    let good = common::arch_image(&dir, "ok", "linux/amd64", "x");
    let v = oix_json(&[
        "recompress",
        &format!("{}:ok", dir.display()),
        "--to",
        "zstd",
    ]);
    assert_eq!(v["from"], good.as_str());
    assert_eq!(common::digest_of_ref(&dir, "ok"), v["to"].as_str().unwrap());
    // --add needs an index.
    common::oix(&[
        "recompress",
        &format!("{}:ok", dir.display()),
        "--to",
        "zstd",
        "--add",
    ])
    .fails_with(2);
}

/// Pushed to the real registry, the twin index reads back whole with `skopeo copy --all`.
#[test]
fn a_twin_index_pushed_to_the_registry_copies_back_with_skopeo() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    two_arch(&l, 6);
    recompress_add(&l);
    let digest = common::digest_of_ref(&l, "v1");
    let r = format!("docker://{}/team/app:v1", reg.host());
    oix_json(&["push", &format!("{}:v1", l.display()), &r, "--plain-http"]);
    let raw = skopeo_raw(&r, &["--tls-verify=false"]);
    assert_eq!(oix::Digest::sha256_of(&raw).to_string(), digest);
    let back = work.path().join("back");
    run(Command::new("skopeo").args([
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &r,
        &format!("oci:{}:v1", back.display()),
    ]));
    assert_eq!(common::digest_of_ref(&back, "v1"), digest);
    let es = entries_of(&back, "v1");
    assert_eq!(es.iter().filter(|e| is_twin(e)).count(), 2);
    common::assert_fsck_clean(&back);
}

/// `push --add-compression zstd` and `copy --add-compression zstd` (podman's flag) send
/// the index with twins, the very bytes `oix recompress --add` writes into a layout; the
/// source layout is not changed; skopeo copies the pushed index back whole.
#[test]
fn push_and_copy_add_compression_zstd_send_the_twins() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("l");
    two_arch(&l, 7);
    let reference = work.path().join("ref");
    common::copy_tree(&l, &reference);
    recompress_add(&reference);
    let want = common::digest_of_ref(&reference, "v1");
    let before = common::tree_hash(&l);

    let r = format!("docker://{}/team/twins:v1", reg.host());
    let v = oix_json(&[
        "push",
        &format!("{}:v1", l.display()),
        &r,
        "--plain-http",
        "--add-compression",
        "zstd",
    ]);
    assert_eq!(v["digests"][0], want.as_str(), "{v}");
    assert_eq!(
        common::tree_hash(&l),
        before,
        "the source layout is unchanged"
    );
    let raw = skopeo_raw(&r, &["--tls-verify=false"]);
    assert_eq!(oix::Digest::sha256_of(&raw).to_string(), want);
    let back = work.path().join("back");
    run(Command::new("skopeo").args([
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &r,
        &format!("oci:{}:v1", back.display()),
    ]));
    assert_eq!(
        entries_of(&back, "v1")
            .iter()
            .filter(|e| is_twin(e))
            .count(),
        2
    );
    common::assert_fsck_clean(&back);

    // Layout to layout: every blob streamed (the new layers are not in the source).
    let dst = work.path().join("dst");
    common::oix(&[
        "copy",
        &format!("{}:v1", l.display()),
        &format!("{}:v1", dst.display()),
        "--add-compression",
        "zstd",
    ])
    .ok();
    assert_eq!(common::digest_of_ref(&dst, "v1"), want);
    common::assert_fsck_clean(&dst);
    assert_eq!(common::tree_hash(&l), before);
    common::oix(&[
        "push",
        &format!("{}:v1", l.display()),
        &r,
        "--plain-http",
        "--add-compression",
        "gzip",
    ])
    .fails_with(2);
}
