//! `merge`, `index add` and `index rm` editing a registry index (issue 15 item 1),
//! against the real CNCF registry: the published TAG is the previous release, read
//! without its layers; only what the registry lacks is uploaded.

mod common;
mod common_registry;

use common::tiny_image;
use common_registry::*;
use oix::store::Names;
use oix::Layout;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ARCHES: [&str; 4] = ["amd64", "arm64", "ppc64le", "s390x"];

/// A layout holding one tiny image per arch of `arches` (layer content per `build`),
/// each under its arch's name, and an index of them all under `tag`. Returns the path
/// and the images' (arch, manifest digest, layer digest).
fn build(
    dir: &Path,
    name: &str,
    arches: &[&str],
    build: &str,
    tag: &str,
) -> (PathBuf, Vec<(String, String, String)>) {
    let path = dir.join(name);
    let l = Layout::init(&path).unwrap().0;
    let mut out = Vec::new();
    for arch in arches {
        let layer = format!("{arch} of build {build}");
        let d = tiny_image(&l, arch, layer.as_bytes());
        l.set_names(&[arch.to_string()], &d).unwrap();
        let layer_d = oix::Digest::sha256_of(layer.as_bytes()).to_string();
        out.push((arch.to_string(), d.digest, layer_d));
    }
    let srcs: Vec<String> = arches
        .iter()
        .map(|a| format!("{}:{a}", path.display()))
        .collect();
    let mut c = oix();
    c.args(["index", "create", &format!("{}:{tag}", path.display())])
        .args(&srcs);
    run(&mut c);
    (path, out)
}

fn oix_out(args: &[&str]) -> Output {
    oix().args(args).output().unwrap()
}

fn raw_index(reference: &str) -> (Vec<u8>, Value) {
    let raw = skopeo_raw(reference, &["--tls-verify=false"]);
    let v: Value = serde_json::from_slice(&raw).unwrap();
    (raw, v)
}

/// The (architecture, digest, carried-from) of each entry of an index document.
fn entries(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["platform"]["architecture"].as_str().unwrap().to_string(),
                m["digest"].as_str().unwrap().to_string(),
                m["annotations"]["dev.oix.merge.carried-from"]
                    .as_str()
                    .map(str::to_string),
            )
        })
        .collect()
}

/// `skopeo copy --all` of the reference into a fresh layout, which `oix fsck` passes.
fn copy_all_and_fsck(dir: &Path, reference: &str) {
    let dst = dir.join(format!("readback-{}", reference.len()));
    let _ = std::fs::remove_dir_all(&dst);
    run(Command::new("skopeo")
        .args(["copy", "--all", "--src-tls-verify=false", "--quiet"])
        .arg(reference)
        .arg(format!("oci:{}:t", dst.display())));
    let out = oix_out(&["fsck", dst.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "fsck: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fedora: 4 arches published as :40; a compose on a fresh machine has 3 (s390x failed).
#[test]
fn fedora_compose_merged_against_the_published_release() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let tmp = tempfile::tempdir().unwrap();
    let dest = format!("docker://{}/fedora-toolbox:40", reg.host());
    let (old, old_images) = build(tmp.path(), "old", &ARCHES, "1", "40");
    run(oix()
        .args(["push", "--plain-http", &format!("{}:40", old.display())])
        .arg(&dest));
    let (before_raw, before) = raw_index(&dest);
    let before_digest = oix::Digest::sha256_of(&before_raw).to_string();
    assert_eq!(entries(&before).len(), 4);

    // The compose machine: a fresh layout with amd64, arm64 and ppc64le only.
    let (compose, new_images) = build(tmp.path(), "compose", &ARCHES[..3], "2", "compose");
    let src = format!("{}:compose", compose.display());

    // require-all refuses: exit 5, s390x named, nothing written at the registry.
    let mark = reg.requests().len();
    let out = oix_out(&[
        "merge",
        &dest,
        &src,
        "--policy",
        "require-all",
        "--expect",
        "linux/amd64,linux/arm64,linux/ppc64le,linux/s390x",
        "--plain-http",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("linux/s390x"), "{stderr}");
    assert!(
        !stderr.contains("linux/amd64"),
        "only the missing arch: {stderr}"
    );
    assert_eq!(reg.count(mark, "PUT", "/"), 0, "{:?}", reg.requests());
    assert_eq!(reg.count(mark, "POST", "/"), 0);
    assert_eq!(raw_index(&dest).0, before_raw, "the release is unchanged");

    // --dry-run with --detailed-exitcode: exit 6, still nothing written.
    let mark = reg.requests().len();
    let out = oix_out(&[
        "merge",
        &dest,
        &src,
        "--policy",
        "keep-missing",
        "--dry-run",
        "--detailed-exitcode",
        "--plain-http",
    ]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reg.count(mark, "PUT", "/"), 0);
    assert_eq!(raw_index(&dest).0, before_raw);

    // keep-missing publishes the hybrid: the new 3, and s390x carried with provenance.
    let mark = reg.requests().len();
    let report = oix_json(&[
        "merge",
        &dest,
        &src,
        "--policy",
        "keep-missing",
        "--expect",
        "linux/s390x",
        "--plain-http",
    ]);
    assert_eq!(report["changed"], true, "{report}");
    let (after_raw, after) = raw_index(&dest);
    assert_eq!(
        report["digest"].as_str().unwrap(),
        oix::Digest::sha256_of(&after_raw).to_string()
    );
    let got = entries(&after);
    assert_eq!(got.len(), 4, "{after}");
    for (arch, digest, _) in &new_images {
        let e = got.iter().find(|e| &e.0 == arch).unwrap();
        assert_eq!(&e.1, digest, "{arch} is the compose's build");
        assert_eq!(e.2, None);
    }
    let s390x = got.iter().find(|e| e.0 == "s390x").unwrap();
    assert_eq!(s390x.1, old_images[3].1, "s390x is the published one");
    assert_eq!(
        s390x.2.as_deref(),
        Some(format!("40@{before_digest}").as_str()),
        "carried with provenance"
    );
    // No layer of the old release was downloaded (only its manifests and configs);
    // the new layers were uploaded.
    for (arch, _, layer) in &old_images {
        assert_eq!(
            reg.count(mark, "GET", &format!("/blobs/{layer}")),
            0,
            "{arch}'s old layer was downloaded"
        );
    }
    // An upload ends with PUT .../blobs/uploads/ID?digest=DIGEST.
    let with_query = reg.requests_with_query();
    for (_, _, layer) in &new_images {
        let puts = with_query[mark..]
            .iter()
            .filter(|(m, p)| m == "PUT" && p.contains(&format!("digest={layer}")))
            .count();
        assert_eq!(puts, 1, "uploaded once: {:?}", &with_query[mark..]);
    }

    // Merging the same compose again changes nothing and uploads nothing.
    let mark = reg.requests().len();
    let again = oix_json(&[
        "merge",
        &dest,
        &src,
        "--policy",
        "keep-missing",
        "--plain-http",
    ]);
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["digest"], report["digest"]);
    assert_eq!(reg.count(mark, "PUT", "/"), 0);
    assert_eq!(reg.count(mark, "POST", "/"), 0);

    copy_all_and_fsck(tmp.path(), &dest);
}

/// `index add` and `index rm` on a registry index, read back by skopeo.
#[test]
fn index_add_and_rm_on_a_registry() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let tmp = tempfile::tempdir().unwrap();
    let dest = format!("docker://{}/app:1", reg.host());
    let (old, old_images) = build(tmp.path(), "old", &ARCHES[..2], "1", "rel");
    run(oix()
        .args(["push", "--plain-http", &format!("{}:rel", old.display())])
        .arg(&dest));

    // Add riscv64 from a fresh layout (an image, not an index).
    let (new, new_images) = build(tmp.path(), "new", &["riscv64"], "2", "unused");
    let mark = reg.requests().len();
    let out = oix_json(&[
        "index",
        "add",
        &dest,
        &format!("{}:riscv64", new.display()),
        "--plain-http",
    ]);
    assert_eq!(out["changed"], true, "{out}");
    let (_, v) = raw_index(&dest);
    let got = entries(&v);
    let archs: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(archs, ["amd64", "arm64", "riscv64"], "{v}");
    assert_eq!(got[2].1, new_images[0].1);
    for (_, _, layer) in &old_images {
        assert_eq!(reg.count(mark, "GET", &format!("/blobs/{layer}")), 0);
    }
    copy_all_and_fsck(tmp.path(), &dest);

    // A dry run of rm: exit 6, nothing written.
    let mark = reg.requests().len();
    let out = oix_out(&[
        "index",
        "rm",
        &dest,
        "--platform",
        "linux/amd64",
        "--dry-run",
        "--detailed-exitcode",
        "--plain-http",
    ]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reg.count(mark, "PUT", "/"), 0);

    let out = oix_json(&[
        "index",
        "rm",
        &dest,
        "--platform",
        "linux/amd64",
        "--plain-http",
    ]);
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["removed"][0], old_images[0].1.as_str());
    let (raw, v) = raw_index(&dest);
    assert_eq!(
        out["digest"].as_str().unwrap(),
        oix::Digest::sha256_of(&raw).to_string()
    );
    let archs: Vec<String> = entries(&v).into_iter().map(|e| e.0).collect();
    assert_eq!(archs, ["arm64", "riscv64"], "{v}");
    copy_all_and_fsck(tmp.path(), &dest);

    // annotate at descriptor level: the entry's descriptor gets the annotation, the
    // manifest (and so its digest) is untouched.
    let out = oix_json(&[
        "annotate",
        &dest,
        "--platform",
        "linux/arm64",
        "--set",
        "org.example.qa=passed",
        "--plain-http",
    ]);
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["annotated"][0], old_images[1].1.as_str());
    let (_, v) = raw_index(&dest);
    let arm = &v["manifests"][0];
    assert_eq!(arm["platform"]["architecture"], "arm64");
    assert_eq!(arm["digest"], old_images[1].1.as_str());
    assert_eq!(arm["annotations"]["org.example.qa"], "passed", "{v}");
    assert!(v["manifests"][1]["annotations"]["org.example.qa"].is_null());
    copy_all_and_fsck(tmp.path(), &dest);
    // --manifest would rewrite manifests: refused on a registry.
    let out = oix_out(&[
        "annotate",
        &dest,
        "--platform",
        "linux/arm64",
        "--set",
        "a=b",
        "--manifest",
        "--plain-http",
    ]);
    assert_eq!(out.status.code(), Some(2));

    // Nothing matches: exit 3, nothing written.
    let mark = reg.requests().len();
    let out = oix_out(&[
        "index",
        "rm",
        &dest,
        "--platform",
        "linux/s390x",
        "--plain-http",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(reg.count(mark, "PUT", "/"), 0);
}

/// Sources in the registry itself (per-arch tags of a builds repository): merged into
/// the release without downloading a layer; layers are mounted across repositories.
#[test]
fn merge_from_registry_sources_mounts_and_reads_no_layer() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let tmp = tempfile::tempdir().unwrap();
    let (builds, images) = build(tmp.path(), "builds", &ARCHES[..2], "1", "unused");
    for (arch, _, _) in &images {
        run(oix()
            .args([
                "push",
                "--plain-http",
                &format!("{}:{arch}", builds.display()),
            ])
            .arg(format!("docker://{}/app-builds:1-{arch}", reg.host())));
    }
    let dest = format!("docker://{}/app:1", reg.host());
    let mark = reg.requests().len();
    let out = oix_json(&[
        "merge",
        &dest,
        &format!("docker://{}/app-builds:1-amd64", reg.host()),
        &format!("docker://{}/app-builds:1-arm64", reg.host()),
        "--policy",
        "require-all",
        "--expect",
        "linux/amd64,linux/arm64",
        "--plain-http",
    ]);
    assert_eq!(out["changed"], true, "{out}");
    let (_, v) = raw_index(&dest);
    let got = entries(&v);
    assert_eq!(got.len(), 2, "{v}");
    for (arch, digest, layer) in &images {
        assert!(got.iter().any(|e| &e.0 == arch && &e.1 == digest), "{v}");
        assert_eq!(reg.count(mark, "GET", &format!("/blobs/{layer}")), 0);
    }
    let q = reg.requests_with_query();
    let mounts = q[mark..]
        .iter()
        .filter(|(m, p)| m == "POST" && p.contains("mount=") && p.contains("from=app-builds"))
        .count();
    assert!(mounts >= 2, "layers and configs mounted: {:?}", &q[mark..]);
    copy_all_and_fsck(tmp.path(), &dest);
}

/// Bad input: a destination without a tag, a --platform per source beside a registry
/// source, --manifest: usage errors (exit 2) before anything is written.
#[test]
fn bad_registry_edits_are_refused_before_writing() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let tmp = tempfile::tempdir().unwrap();
    let (l, _) = build(tmp.path(), "l", &ARCHES[..1], "1", "rel");
    let src = format!("{}:rel", l.display());
    let mark = reg.requests().len();
    for args in [
        vec![
            "merge".to_string(),
            format!("docker://{}/app", reg.host()),
            src.clone(),
            "--policy".into(),
            "union".into(),
        ],
        vec![
            "index".to_string(),
            "add".into(),
            format!("docker://{}/app:1", reg.host()),
            src.clone(),
            format!("docker://{}/other:1", reg.host()),
            "--platform".into(),
            "linux/amd64".into(),
            "--platform".into(),
            "linux/arm64".into(),
        ],
    ] {
        let mut c = oix();
        c.args(&args).arg("--plain-http");
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(reg.count(mark, "PUT", "/"), 0);
    assert_eq!(reg.count(mark, "POST", "/"), 0);

    // Human output: the digest, the tag's state, the diff.
    let out = oix_out(&[
        "index",
        "add",
        &format!("docker://{}/app:1", reg.host()),
        &src,
        "--plain-http",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.lines().nth(1) == Some("1 written"), "{text}");
}
