//! Helpers the referrer tests share (tests/referrers_carry.rs, tests/referrers_more.rs):
//! images, artifacts and cosign-style signatures built in a layout, and readers of
//! `--json` summaries, archives and the registry.
#![allow(dead_code)]

use crate::common_registry::*;
use oix::digest::Digest;
use oix::model::{media, Descriptor};
use oix::Layout;
use serde_json::Value;
use std::path::Path;

/// A layout at `dir` holding one image tagged `v1`; its manifest digest.
pub fn image(dir: &Path) -> String {
    let l = Layout::init(dir).unwrap().0;
    let layer = b"layer of the carried image".to_vec();
    let ld = l.write_blob_bytes(&layer).unwrap();
    let cfg = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
    );
    let cd = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{ld}","size":{}}}]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len(),
        media::OCI_LAYER_TAR,
        layer.len()
    );
    let md = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64);
    oix::tags::tag(&l, &d, &["v1".to_string()]).unwrap();
    md.to_string()
}

/// `oix attach SUBJECT --artifact-type AT FILE`: the new manifest's digest.
pub fn attach(dir: &Path, subject: &str, at: &str, name: &str, content: &str) -> String {
    let f = dir.parent().unwrap().join(name);
    std::fs::write(&f, content).unwrap();
    let v = oix_json(&[
        "attach",
        subject,
        "--artifact-type",
        at,
        f.to_str().unwrap(),
    ]);
    v["digest"].as_str().unwrap().to_string()
}

/// A cosign-style legacy signature of `subject`, built by hand: the simple-signing
/// payload layer with the `dev.cosignproject.cosign/signature` annotation, tagged
/// `sha256-<hex>.sig`. Its manifest digest.
pub fn cosign_sig(dir: &Path, subject: &str) -> String {
    let l = Layout::open(dir).unwrap();
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"example/app"}},"image":{{"docker-manifest-digest":"{subject}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    let pd = l.write_blob_bytes(payload.as_bytes()).unwrap();
    let cfg =
        br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = l.write_blob_bytes(cfg).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"{pd}","size":{},"annotations":{{"dev.cosignproject.cosign/signature":"MEUCIQDtest"}}}}]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len(),
        payload.len()
    );
    let md = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64);
    let tag = format!("{}.sig", fallback(subject));
    oix::tags::tag(&l, &d, &[tag]).unwrap();
    md.to_string()
}

pub fn fallback(digest: &str) -> String {
    oix::referrers::fallback_tag(&Digest::parse(digest).unwrap())
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The digests a `--json` summary's `referrers` lists (none when absent).
pub fn carried(v: &Value) -> Vec<String> {
    sorted(
        v["referrers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r["descriptor"]["digest"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// A tar member's bytes.
pub fn tar_member(archive: &Path, name: &str) -> Vec<u8> {
    let f = std::fs::File::open(archive).unwrap();
    let mut ar = tar::Archive::new(f);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_str() == Some(name) {
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut b).unwrap();
            return b;
        }
    }
    panic!("no {name} in {}", archive.display());
}

/// The names an oci-archive's index.json lists.
pub fn archive_names(archive: &Path) -> Vec<String> {
    let v: Value = serde_json::from_slice(&tar_member(archive, "index.json")).unwrap();
    sorted(
        v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
            .map(str::to_string)
            .collect(),
    )
}

/// skopeo reads `repo@digest` on the registry, and its bytes hash to the digest.
pub fn skopeo_reads(host: &str, repo: &str, digest: &str) {
    let raw = skopeo_raw(
        &format!("docker://{host}/{repo}@{digest}"),
        &["--tls-verify=false"],
    );
    assert_eq!(Digest::sha256_of(&raw).to_string(), digest);
}
