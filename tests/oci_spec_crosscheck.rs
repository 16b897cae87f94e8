//! An independent check of the documents oix writes: the OCI project's own Rust types
//! (oci-spec) must parse the manifest and config `oix build` writes, the index `oix merge`
//! writes, and index.json, and agree on what they say.

mod common;

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use std::path::Path;

fn oix(args: &[&str]) -> String {
    let out = common::oix_cmd(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oix {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(layout.join("blobs").join(digest.replace(':', "/"))).unwrap()
}

#[test]
fn documents_oix_writes_parse_with_oci_spec() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("l");
    let l_s = l.to_str().unwrap();
    for arch in ["amd64", "arm64"] {
        let root = t.path().join(format!("root-{arch}"));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/motd"), arch).unwrap();
        oix(&[
            "build",
            root.to_str().unwrap(),
            "-o",
            &format!("{l_s}:{arch}"),
            "--platform",
            &format!("linux/{arch}"),
            "--env",
            "A=1",
            "--annotation",
            "org.opencontainers.image.version=1",
        ]);
    }
    oix(&[
        "merge",
        &format!("{l_s}:multi"),
        &format!("{l_s}:amd64"),
        &format!("{l_s}:arm64"),
        "--policy",
        "union",
    ]);

    let index_json: ImageIndex =
        serde_json::from_slice(&std::fs::read(l.join("index.json")).unwrap()).unwrap();
    assert_eq!(index_json.manifests().len(), 3);
    let multi = index_json
        .manifests()
        .iter()
        .find(|d| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get("org.opencontainers.image.ref.name"))
                .is_some_and(|n| n == "multi")
        })
        .unwrap();
    let idx: ImageIndex = serde_json::from_slice(&blob(&l, multi.digest().as_ref())).unwrap();
    assert_eq!(idx.schema_version(), 2);
    let arches: Vec<String> = idx
        .manifests()
        .iter()
        .map(|d| d.platform().as_ref().unwrap().architecture().to_string())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"]);
    for d in idx.manifests() {
        let m: ImageManifest = serde_json::from_slice(&blob(&l, d.digest().as_ref())).unwrap();
        assert_eq!(
            m.annotations().as_ref().unwrap()["org.opencontainers.image.version"],
            "1"
        );
        assert_eq!(m.layers().len(), 1);
        let c: ImageConfiguration =
            serde_json::from_slice(&blob(&l, m.config().digest().as_ref())).unwrap();
        assert_eq!(c.os().to_string(), "linux");
        assert_eq!(
            c.architecture().to_string(),
            d.platform().as_ref().unwrap().architecture().to_string()
        );
        assert_eq!(c.rootfs().diff_ids().len(), 1);
        assert!(c
            .config()
            .as_ref()
            .unwrap()
            .env()
            .as_ref()
            .unwrap()
            .contains(&"A=1".to_string()));
    }
}
