//! Manifest format conversion (issue 17 item 1): OCI ⇄ Docker schema 2 through
//! `oix copy`/`oix push --manifest-format`, on the bundled fixtures and against the real
//! CNCF registry; skopeo reads what was pushed; refusals write nothing.

mod common;
mod common_registry;

use common_registry::*;
use oix::convert::{convert, Format};
use oix::model::{media, Descriptor};
use oix::store::Source;
use oix::Layout;
use std::path::Path;
use std::process::{Command, Output};

fn root_of(dir: &Path, name: &str) -> Descriptor {
    let l = Layout::open(dir).unwrap();
    let (idx, _) = l.read_index().unwrap();
    let mut d = idx
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(name))
        .unwrap()
        .clone();
    d.annotations.clear();
    d
}

fn oix_out(args: &[&str]) -> Output {
    oix().args(args).output().unwrap()
}

/// Every fixture image that Docker can hold converts to Docker and back to the very
/// same OCI bytes; blobs are untouched (every converted document's blobs are the
/// source's); the same input gives the same bytes.
#[test]
fn fixtures_round_trip_through_docker_to_the_same_digests() {
    for (fixture, lossy) in [("multiarch", &[][..]), ("single", &[][..])] {
        let dir = common::fixtures().join(fixture);
        let l = Layout::open(&dir).unwrap();
        let (idx, _) = l.read_index().unwrap();
        for entry in &idx.manifests {
            let mut root = entry.clone();
            root.annotations.clear();
            let docker = match convert(&l, &root, Format::Docker, lossy) {
                Ok(c) => c,
                // Entries Docker cannot hold (e.g. artifacts, annotations) are refused,
                // never half-converted.
                Err(e) => {
                    assert_eq!(e.kind, oix::Kind::Refused, "{fixture}: {e}");
                    continue;
                }
            };
            assert!(
                media::DOCKER_LIST == docker.root.media_type
                    || media::DOCKER_MANIFEST == docker.root.media_type,
                "{fixture}: {}",
                docker.root.media_type
            );
            assert_ne!(docker.root.digest, root.digest);
            let again = convert(&l, &root, Format::Docker, lossy).unwrap();
            assert_eq!(again.root, docker.root, "{fixture}: deterministic");
            let w = oix::graph::walk(&docker.source, std::slice::from_ref(&docker.root));
            assert!(w.complete(), "{fixture}: {:?}", w.problems);
            for n in &w.nodes {
                if !(n.descriptor.is_index() || n.descriptor.is_manifest()) {
                    assert!(
                        l.has_blob(&n.descriptor.digest().unwrap()),
                        "{fixture}: blob {} is the source's",
                        n.descriptor.digest
                    );
                    assert!(!n.descriptor.media_type.contains(".oci."));
                }
            }
            let back = convert(&docker.source, &docker.root, Format::Oci, &[]).unwrap();
            assert_eq!(back.root, root, "{fixture}: round trip");
            assert_eq!(
                back.source.read_small(&back.root).unwrap(),
                l.read_small(&root).unwrap()
            );
        }
    }
}

/// The attestation fixture: refused, listing each attestation, unless accepted; a
/// nested index: refused (a manifest list lists manifests only). Nothing written.
#[test]
fn what_docker_cannot_hold_is_refused_listing_it() {
    let work = tempfile::tempdir().unwrap();
    let dst = work.path().join("out");
    let src = common::fixtures().join("attestation");
    let o = oix_out(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--manifest-format",
        "docker",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert_eq!(
        err.matches("attestation manifest sha256:").count(),
        2,
        "{err}"
    );
    assert!(err.contains("--allow-lossy attestations"), "{err}");
    assert!(!dst.exists(), "nothing written");
    let v = oix_json(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--manifest-format",
        "docker",
        "--allow-lossy",
        "attestations",
    ]);
    assert_eq!(v["mediaType"], media::DOCKER_LIST);
    assert_eq!(v["dropped"].as_array().unwrap().len(), 2);
    assert!(!v["converted"].as_array().unwrap().is_empty());
    common::assert_fsck_clean(&dst);

    let nested = common::fixtures().join("nested");
    let o = oix_out(&[
        "copy",
        nested.to_str().unwrap(),
        work.path().join("n").to_str().unwrap(),
        "--manifest-format",
        "docker",
        "--allow-lossy",
        "annotations,subject,artifact-type,attestations,fields",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(err.contains("an index inside an index"), "{err}");
    assert!(!work.path().join("n").exists());
    // Bad flags are usage errors.
    let o = oix_out(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--allow-lossy",
        "everything",
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown loss"));
    let o = oix_out(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--allow-lossy",
        "annotations",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A umoci-built multi-arch index pushed as a Docker manifest list: skopeo sees Docker
/// media types and copies it whole; copying it back to OCI gives the original index
/// digest; the dry run reports the same pairs and sends nothing.
#[test]
fn a_docker_manifest_list_pushed_to_the_registry_reads_with_skopeo_and_converts_back() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = build_multiarch(
        &src,
        "v1",
        &[("linux", "amd64", None), ("linux", "arm64", None)],
        20_000,
        3,
    );
    let r = format!("docker://{}/team/app:v1", reg.host());
    let source = format!("{}:v1", src.display());
    let dry = oix_json(&[
        "push",
        &source,
        &r,
        "--plain-http",
        "--manifest-format",
        "docker",
        "--dry-run",
    ]);
    assert_eq!(
        reg.requests()
            .iter()
            .filter(|(m, _)| m == "PUT" || m == "POST" || m == "PATCH")
            .count(),
        0
    );
    let v = oix_json(&[
        "push",
        &source,
        &r,
        "--plain-http",
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(v["converted"], dry["converted"]);
    let pairs = v["converted"].as_array().unwrap();
    assert_eq!(pairs.len(), 3, "two manifests and the index: {v}");
    let list_digest = v["digests"][0].as_str().unwrap().to_string();
    let last = pairs.last().unwrap();
    assert_eq!(last["from"], idx.digest.as_str());
    assert_eq!(last["to"], list_digest.as_str());
    assert_eq!(last["mediaType"], media::DOCKER_LIST);

    let raw = skopeo_raw(&r, &["--tls-verify=false"]);
    assert_eq!(oix::Digest::sha256_of(&raw).to_string(), list_digest);
    let list: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(list["mediaType"], media::DOCKER_LIST);
    for m in list["manifests"].as_array().unwrap() {
        assert_eq!(m["mediaType"], media::DOCKER_MANIFEST);
        let child = format!(
            "docker://{}/team/app@{}",
            reg.host(),
            m["digest"].as_str().unwrap()
        );
        let man: serde_json::Value =
            serde_json::from_slice(&skopeo_raw(&child, &["--tls-verify=false"])).unwrap();
        assert_eq!(man["mediaType"], media::DOCKER_MANIFEST);
        assert_eq!(man["config"]["mediaType"], media::DOCKER_CONFIG);
        for l in man["layers"].as_array().unwrap() {
            assert_eq!(l["mediaType"], media::DOCKER_LAYER_GZIP);
        }
    }

    // skopeo reads the list and every image (its oci: transport stores Docker lists
    // only converted, by skopeo itself: so no --preserve-digests here).
    let copied = work.path().join("skopeo");
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--src-tls-verify=false",
        &r,
        &format!("oci:{}:t", copied.display()),
    ]));
    common::assert_fsck_clean(&copied);
    let w = oix::graph::walk(&Layout::open(&copied).unwrap(), &[root_of(&copied, "t")]);
    assert!(w.complete());
    assert_eq!(
        w.nodes
            .iter()
            .filter(|n| n.descriptor.is_manifest())
            .count(),
        2
    );

    // Back to OCI: the original bytes, so the original digest.
    let back = work.path().join("back");
    let v = oix_json(&[
        "copy",
        &r,
        &format!("{}:v1", back.display()),
        "--plain-http",
        "--manifest-format",
        "oci",
    ]);
    assert_eq!(v["digest"], idx.digest.as_str());
    assert_eq!(root_of(&back, "v1").digest, idx.digest);
    common::assert_fsck_clean(&back);
    // pull takes the same flag.
    let pulled = work.path().join("pulled");
    let v = oix_json(&[
        "pull",
        &r,
        &format!("{}:p", pulled.display()),
        "--plain-http",
        "--manifest-format",
        "oci",
    ]);
    assert_eq!(v["digest"], idx.digest.as_str());
    assert_eq!(v["converted"].as_array().unwrap().len(), 3);
    common::assert_fsck_clean(&pulled);
}

/// A zstd image to Docker: refused with the layers listed, and the registry saw no
/// write at all (access log); the layout is unchanged.
#[test]
fn a_zstd_image_is_refused_and_nothing_is_sent() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/hello"), b"hello\n").unwrap();
    let layout = work.path().join("z");
    let o = oix_out(&[
        "build",
        tree.to_str().unwrap(),
        "--platform",
        "linux/amd64",
        "--compression",
        "zstd",
        "-o",
        &format!("{}:z", layout.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before = common::tree_hash(&layout);
    let since = reg.requests().len();
    let r = format!("docker://{}/team/z:1", reg.host());
    let o = oix_out(&[
        "push",
        &format!("{}:z", layout.display()),
        &r,
        "--plain-http",
        "--manifest-format",
        "docker",
        "--allow-lossy",
        "annotations,fields",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(err.contains("layers[0]: zstd layer"), "{err}");
    assert!(err.contains("recompress"), "{err}");
    let reqs = &reg.requests()[since..];
    assert!(
        reqs.iter()
            .all(|(m, _)| m != "PUT" && m != "POST" && m != "PATCH"),
        "{reqs:?}"
    );
    assert_eq!(common::tree_hash(&layout), before);
    // Copy to a layout: refused the same way, nothing created.
    let o = oix_out(&[
        "copy",
        &format!("{}:z", layout.display()),
        work.path().join("d").to_str().unwrap(),
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(o.status.code(), Some(5));
    assert!(!work.path().join("d").exists());
}

/// The children of an index in the layout `dir` under `name`: (digest, media type).
fn children_of(dir: &Path, name: &str) -> Vec<(String, String)> {
    let l = Layout::open(dir).unwrap();
    let root = root_of(dir, name);
    let idx: serde_json::Value = serde_json::from_slice(&l.read_small(&root).unwrap()).unwrap();
    idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap().to_string(),
                m["mediaType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn oix_fail(args: &[&str], code: i32) -> String {
    let o = oix_out(args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "oix {args:?}: {err}");
    err
}

/// `index create`, `index add` and `merge` write the index in the format asked for,
/// children converted (new documents beside the originals); mixed OCI/Docker children,
/// and an OCI index of Docker children, are warned about (stderr and `--json`
/// `warnings`); a conversion the index cannot take is refused before anything is
/// written; skopeo reads the Docker list pushed as stored; back to OCI the children
/// are the original OCI digests.
#[test]
fn index_edits_write_the_format_asked_for_and_warn_about_mixed_children() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = build_multiarch(
        &src,
        "v1",
        &[("linux", "amd64", None), ("linux", "arm64", None)],
        5_000,
        7,
    );
    let oci_children = children_of(&src, "v1");
    let s = |suffix: &str| format!("{}{suffix}", src.display());
    // A Docker copy of the same images (layout to layout).
    let dock = work.path().join("dock");
    oix_json(&[
        "copy",
        &s(":v1"),
        &format!("{}:v1", dock.display()),
        "--manifest-format",
        "docker",
    ]);
    let docker_children = children_of(&dock, "v1");
    assert!(docker_children
        .iter()
        .all(|(_, mt)| mt == media::DOCKER_MANIFEST));
    let d = |suffix: &str| format!("{}{suffix}", dock.display());

    // index create --manifest-format docker: a Docker list, the children converted.
    let out = work.path().join("out");
    let o = |suffix: &str| format!("{}{suffix}", out.display());
    let v = oix_json(&[
        "index",
        "create",
        &o(":docker"),
        &s(&format!("@{}", oci_children[0].0)),
        &s(&format!("@{}", oci_children[1].0)),
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(v["mediaType"], media::DOCKER_LIST, "{v}");
    assert_eq!(v["converted"].as_array().unwrap().len(), 3, "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
    assert_eq!(root_of(&out, "docker").media_type, media::DOCKER_LIST);
    let made = children_of(&out, "docker");
    assert_eq!(made, docker_children, "the same documents as copy converts");
    // The originals stay: the OCI children are still in the layout.
    let l = Layout::open(&out).unwrap();
    for (c, _) in &oci_children {
        assert!(l.has_blob(&oix::Digest::parse(c).unwrap()));
    }
    common::assert_fsck_clean(&out);
    // Deterministic: again, the same digest, nothing changed.
    let again = oix_json(&[
        "index",
        "create",
        &o(":docker"),
        &s(&format!("@{}", oci_children[0].0)),
        &s(&format!("@{}", oci_children[1].0)),
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(again["digest"], v["digest"]);
    assert_eq!(again["changed"], false);

    // index add of a Docker image to an OCI index: mixed children, warned about.
    let before = common::tree_hash(&out);
    let o1 = oix_out(&[
        "index",
        "add",
        &o(":mixed"),
        &s(&format!("@{}", oci_children[0].0)),
        &d(&format!("@{}", docker_children[1].0)),
    ]);
    let err = String::from_utf8_lossy(&o1.stderr);
    assert!(o1.status.success(), "{err}");
    assert!(
        err.contains("warning: the index mixes 1 OCI and 1 Docker"),
        "{err}"
    );
    assert_ne!(common::tree_hash(&out), before);
    let v = oix_json(&["index", "add", &o(":mixed"), &s(":v1"), "--dry-run"]);
    let w = v["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{v}");
    assert!(w[0].as_str().unwrap().contains("Quay"), "{v}");
    // --manifest-format oci normalizes them: the original OCI children come back.
    let v = oix_json(&[
        "index",
        "add",
        &o(":mixed"),
        &d(&format!("@{}", docker_children[1].0)),
        "--manifest-format",
        "oci",
    ]);
    assert!(v.get("warnings").is_none(), "{v}");
    assert_eq!(v["mediaType"], media::OCI_INDEX);
    assert_eq!(children_of(&out, "mixed"), oci_children);

    // merge of Docker images into an OCI index: warned (index type vs children).
    let v = oix_json(&["merge", &o(":m"), &d(":v1"), "--policy", "replace"]);
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w[0].as_str()
            .unwrap()
            .contains("the index is OCI but its 2 children are Docker schema 2"),
        "{v}"
    );
    // --manifest-format docker: a Docker list of them, the Docker children as they are.
    let v = oix_json(&[
        "merge",
        &o(":m"),
        &d(":v1"),
        "--policy",
        "replace",
        "--manifest-format",
        "docker",
    ]);
    assert!(v.get("warnings").is_none(), "{v}");
    assert_eq!(v["mediaType"], media::DOCKER_LIST);
    assert_eq!(
        v["converted"].as_array().unwrap().len(),
        1,
        "only the index: {v}"
    );
    assert_eq!(children_of(&out, "m"), docker_children);
    // --manifest-format oci: the children back to their OCI bytes and digests.
    let v = oix_json(&[
        "merge",
        &o(":back"),
        &d(":v1"),
        "--policy",
        "replace",
        "--manifest-format",
        "oci",
    ]);
    assert_eq!(v["mediaType"], media::OCI_INDEX);
    assert_eq!(children_of(&out, "back"), oci_children);
    common::assert_fsck_clean(&out);

    // Refusals write nothing: annotations on a Docker list need --allow-lossy.
    let before = common::tree_hash(&out);
    let err = oix_fail(
        &[
            "merge",
            &o(":m"),
            &s(":v1"),
            "--policy",
            "union",
            "--annotation",
            "org.opencontainers.image.version=1",
            "--manifest-format",
            "docker",
        ],
        5,
    );
    assert!(err.contains("--allow-lossy annotations"), "{err}");
    assert_eq!(common::tree_hash(&out), before);
    let fresh = work.path().join("fresh");
    oix_fail(
        &[
            "index",
            "create",
            &format!("{}:x", fresh.display()),
            &s(":v1"),
            "--manifest-format",
            "docker",
        ],
        5,
    );
    assert!(!fresh.exists(), "an index inside an index: nothing created");
    let err = oix_fail(
        &[
            "merge",
            &o(":m"),
            &s(":v1"),
            "--policy",
            "union",
            "--manifest-format",
            "auto",
        ],
        2,
    );
    assert!(err.contains("auto is for push and copy"), "{err}");

    // Pushed as stored, skopeo reads the Docker list oix wrote.
    let reg = RegistryServer::start(None, Auth::None);
    let r = format!("docker://{}/team/idx:docker", reg.host());
    oix_json(&["push", &o(":docker"), &r, "--plain-http"]);
    let raw: serde_json::Value =
        serde_json::from_slice(&skopeo_raw(&r, &["--tls-verify=false"])).unwrap();
    assert_eq!(raw["mediaType"], media::DOCKER_LIST);
    for m in raw["manifests"].as_array().unwrap() {
        assert_eq!(m["mediaType"], media::DOCKER_MANIFEST);
    }
    // A registry edit takes no conversion (it writes an OCI index).
    oix_fail(
        &[
            "merge",
            &r,
            &s(":v1"),
            "--policy",
            "union",
            "--plain-http",
            "--manifest-format",
            "oci",
        ],
        2,
    );
    // A registry index edit warns about mixed children the same way.
    let v = oix_json(&[
        "merge",
        &format!("docker://{}/team/idx:mixed", reg.host()),
        &s(&format!("@{}", oci_children[0].0)),
        &d(&format!("@{}", docker_children[1].0)),
        "--policy",
        "replace",
        "--plain-http",
    ]);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("mixes 1 OCI and 1 Docker"),
        "{v}"
    );
    let _ = idx;
}

/// `export --manifest-format`: the archive holds the converted documents, the layout
/// keeps its own; skopeo reads the oci-archive and a docker-archive of it; `auto` is
/// refused.
#[test]
fn export_writes_the_format_asked_for() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = build_multiarch(
        &src,
        "v1",
        &[("linux", "amd64", None), ("linux", "arm64", None)],
        5_000,
        9,
    );
    let before = common::tree_hash(&src);
    let s = format!("{}:v1", src.display());
    let tar = work.path().join("d.tar");
    let v = oix_json(&[
        "export",
        &s,
        "-o",
        tar.to_str().unwrap(),
        "--manifest-format",
        "docker",
    ]);
    let pairs = v["converted"].as_array().unwrap();
    assert_eq!(pairs.len(), 3, "{v}");
    assert_eq!(v["refs"][0]["mediaType"], media::DOCKER_LIST);
    assert_eq!(pairs.last().unwrap()["from"], idx.digest.as_str());
    assert_eq!(v["refs"][0]["digest"], pairs.last().unwrap()["to"]);
    assert_eq!(common::tree_hash(&src), before, "the layout is untouched");
    // Deterministic: the same archive bytes again.
    let v2 = oix_json(&[
        "export",
        &s,
        "-o",
        tar.to_str().unwrap(),
        "--manifest-format",
        "docker",
    ]);
    assert_eq!(v2["digest"], v["digest"]);
    // (skopeo 1.9's oci transports look only at index.json entries of OCI types, so
    // oix reads this archive back: its root is the Docker list.)
    // Imported back and converted to OCI: the original digest.
    let back = work.path().join("back");
    let v = oix_json(&[
        "copy",
        &format!("oci-archive:{}:v1", tar.display()),
        &format!("{}:v1", back.display()),
        "--manifest-format",
        "oci",
    ]);
    assert_eq!(v["digest"], idx.digest.as_str());
    let back_pairs = v["converted"].as_array().unwrap();
    assert_eq!(back_pairs.len(), 3, "{v}");
    assert_eq!(
        back_pairs.last().unwrap()["fromMediaType"],
        media::DOCKER_LIST
    );

    // A docker-archive with Docker documents on its OCI side: skopeo loads it.
    let dtar = work.path().join("docker.tar");
    oix_json(&[
        "export",
        &s,
        "-o",
        dtar.to_str().unwrap(),
        "--format",
        "docker-archive",
        "--platform",
        "linux/arm64",
        "--name",
        "example.org/app:1",
        "--manifest-format",
        "docker",
    ]);
    let loaded = work.path().join("loaded");
    run(Command::new("skopeo").args([
        "copy",
        &format!("docker-archive:{}", dtar.display()),
        &format!("oci:{}:t", loaded.display()),
    ]));
    common::assert_fsck_clean(&loaded);
    let err = oix_fail(
        &[
            "export",
            &s,
            "-o",
            work.path().join("x.tar").to_str().unwrap(),
            "--manifest-format",
            "auto",
        ],
        2,
    );
    assert!(err.contains("auto"), "{err}");
    assert!(!work.path().join("x.tar").exists());
}

/// `--manifest-format auto` against a registry that refuses OCI documents (a
/// forwarding proxy in front of the real registry answers 400 MANIFEST_INVALID to
/// OCI manifest and index PUTs, and passes everything else through): push and copy
/// convert to Docker and retry once, saying so; without auto the refusal is an
/// error. A registry refusing Docker documents gets OCI: the original digests.
#[test]
fn auto_converts_and_retries_when_the_registry_refuses_the_format() {
    if !tools_present() {
        return;
    }
    use common_registry::proxy::{FaultProxy, Faults};
    let reg = RegistryServer::start(None, Auth::None);
    let refuse_oci = FaultProxy::start(
        reg.port,
        Faults {
            refuse_manifest_types: vec![media::OCI_INDEX, media::OCI_MANIFEST],
            ..Default::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = build_multiarch(
        &src,
        "v1",
        &[("linux", "amd64", None), ("linux", "arm64", None)],
        5_000,
        11,
    );
    let s = format!("{}:v1", src.display());
    let via = |port: u16, tag: &str| format!("docker://127.0.0.1:{port}/team/app:{tag}");
    // As stored: refused, a remote error (exit 1) naming the code.
    let err = oix_fail(
        &["push", &s, &via(refuse_oci.port, "keep"), "--plain-http"],
        1,
    );
    assert!(err.contains("MANIFEST_INVALID"), "{err}");
    let refused = refuse_oci
        .counters
        .refused_manifests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(refused >= 1);

    // auto: converted to Docker, pushed again.
    let o = oix_out(&[
        "push",
        &s,
        &via(refuse_oci.port, "auto"),
        "--plain-http",
        "--manifest-format",
        "auto",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("the registry refused the documents as stored (HTTP 400 MANIFEST_INVALID): converted OCI to Docker schema 2"), "{err}");
    assert!(err.contains("converted sha256:"), "{err}");
    let raw: serde_json::Value = serde_json::from_slice(&skopeo_raw(
        &format!("docker://{}/team/app:auto", reg.host()),
        &["--tls-verify=false"],
    ))
    .unwrap();
    assert_eq!(raw["mediaType"], media::DOCKER_LIST);
    // --json: the pairs and the retry.
    let v = oix_json(&[
        "push",
        &s,
        &via(refuse_oci.port, "auto2"),
        "--plain-http",
        "--manifest-format",
        "auto",
    ]);
    assert!(
        v["retried"].as_str().unwrap().contains("MANIFEST_INVALID"),
        "{v}"
    );
    assert_eq!(v["converted"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["tags"][0]["digest"], v["digests"][0]);
    // copy takes auto too.
    let v = oix_json(&[
        "copy",
        &s,
        &via(refuse_oci.port, "copied"),
        "--dest-plain-http",
        "--manifest-format",
        "auto",
    ]);
    assert!(v["retried"].is_string(), "{v}");
    assert_eq!(v["mediaType"], media::DOCKER_LIST);
    // A registry taking everything: auto pushes as stored, nothing converted.
    let v = oix_json(&[
        "push",
        &s,
        &format!("docker://{}/team/app:plain", reg.host()),
        "--plain-http",
        "--manifest-format",
        "auto",
    ]);
    assert!(
        v.get("retried").is_none() && v.get("converted").is_none(),
        "{v}"
    );
    assert_eq!(v["digests"][0], idx.digest.as_str());

    // A registry refusing Docker documents: the Docker list goes back to OCI, the
    // original bytes and digest.
    let refuse_docker = FaultProxy::start(
        reg.port,
        Faults {
            refuse_manifest_types: vec![media::DOCKER_LIST, media::DOCKER_MANIFEST],
            ..Default::default()
        },
    );
    let v = oix_json(&[
        "copy",
        &format!("docker://{}/team/app:auto", reg.host()),
        &via(refuse_docker.port, "oci-again"),
        "--plain-http",
        "--manifest-format",
        "auto",
    ]);
    assert!(v["retried"].is_string(), "{v}");
    assert_eq!(v["digest"], idx.digest.as_str(), "{v}");
}
