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
