//! `oix copy SRC DEST` between any two stores (issue 14 item 1), against the real CNCF
//! registry: every pair of layout, registry and archive stores, a retag within a repository
//! (manifest only), a copy between repositories of one registry (mounts only), a
//! platform subset registry to registry, dry runs and bad input. The registries' access
//! logs prove what was (not) sent.

mod common;
mod common_registry;

use common_registry::proxy::{FaultProxy, Faults};
use common_registry::*;
use oix::model::{media, Descriptor, Index};
use oix::store::Names;
use oix::Layout;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::Ordering;

const PLATFORMS: &[(&str, &str, Option<&str>)] = &[
    ("linux", "amd64", None),
    ("linux", "arm64", None),
    ("linux", "arm", Some("v7")),
];

/// A 3-arch index tagged `tag` in `dir`, plus an attestation manifest for the arm64
/// entry (as buildkit writes them). Returns the index descriptor.
fn attested_index(dir: &Path, tag: &str, seed: u64) -> Descriptor {
    let idx = build_multiarch(dir, tag, PLATFORMS, 50_000, seed);
    let l = Layout::open(dir).unwrap();
    let mut index: Index = serde_json::from_slice(&l.read_blob(&idx, 1 << 20).unwrap()).unwrap();
    let arm = index.manifests[1].digest.clone();
    let empty = l.write_blob_bytes(b"{}").unwrap();
    let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#;
    let st = l.write_blob_bytes(statement).unwrap();
    let att = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": st.to_string(), "size": statement.len()}]
    }))
    .unwrap();
    let att_d = l.write_blob_bytes(&att).unwrap();
    let entry: Descriptor = serde_json::from_value(serde_json::json!({
        "mediaType": media::OCI_MANIFEST,
        "digest": att_d.to_string(),
        "size": att.len(),
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": arm,
        }
    }))
    .unwrap();
    index.manifests.push(entry);
    let bytes = index.to_bytes();
    let d = l.write_blob_bytes(&bytes).unwrap();
    let desc = Descriptor::new(media::OCI_INDEX, &d, bytes.len() as u64);
    l.transact(|idx| {
        oix::tags::set_ref(idx, &desc, tag)?;
        Ok(())
    })
    .unwrap();
    desc
}

fn out(args: &[&str]) -> Output {
    oix().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let o = out(args);
    assert!(
        o.status.success(),
        "oix {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Every digest of a layout's graph, and fsck clean.
fn checked_layout(dir: &Path) -> Vec<String> {
    ok(&["fsck", dir.to_str().unwrap()]);
    graph_digests(dir)
}

/// The manifest digests under a registry index (skopeo's view), the index included.
fn registry_graph(reference: &str, extra: &[&str]) -> Vec<String> {
    let raw = skopeo_raw(reference, extra);
    let idx: Index = serde_json::from_slice(&raw).unwrap();
    let mut v = vec![format!("sha256:{}", sha256(&raw))];
    let repo = reference.rsplit_once(':').unwrap().0;
    for m in &idx.manifests {
        let child = skopeo_raw(&format!("{repo}@{}", m.digest), extra);
        assert_eq!(format!("sha256:{}", sha256(&child)), m.digest);
        v.push(m.digest.clone());
    }
    v
}

fn sha256(b: &[u8]) -> String {
    oix::Digest::sha256_of(b).to_string()[7..].to_string()
}

fn manifest_digests(dir: &Path, tag: &str) -> Vec<String> {
    let l = Layout::open(dir).unwrap();
    let (idx, _) = l.read_index().unwrap();
    let root = idx
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(tag))
        .unwrap()
        .clone();
    let index: Index = serde_json::from_slice(&l.read_blob(&root, 1 << 20).unwrap()).unwrap();
    let mut v = vec![root.digest.clone()];
    v.extend(index.manifests.iter().map(|d| d.digest.clone()));
    v
}

#[test]
fn every_pair_of_stores_copies_an_attested_index() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let secret = "c0py-Pa55";
    let pw = htpasswd(pki.dir.path(), "copier", secret);
    // Two registries: one TLS without auth, one TLS with htpasswd (the same CA signs
    // both certificates, so one --ca-cert reaches both).
    let a = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::None);
    let b = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::Htpasswd(pw));
    let work = tempfile::tempdir().unwrap();
    let auth = authfile(work.path(), &b.host(), "copier", secret);
    let ca = pki.ca.to_str().unwrap().to_string();
    let conn = ["--ca-cert", &ca, "--authfile", auth.to_str().unwrap()];
    let src = work.path().join("src");
    let idx = attested_index(&src, "v1", 7);
    let want = manifest_digests(&src, "v1");
    assert_eq!(want.len(), 5, "index, 3 images, 1 attestation");
    let copy = |from: &str, to: &str| {
        let mut args = vec!["--json", "copy", from, to];
        args.extend(conn);
        let o = ok(&args);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["digest"], idx.digest.as_str(), "{from} -> {to}");
        v
    };

    // layout -> layout
    let l2 = work.path().join("l2");
    let v = copy(
        &format!("{}:v1", src.display()),
        &format!("{}:copied", l2.display()),
    );
    assert!(v["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["outcome"] == "linked" || b["outcome"] == "copied"));
    assert_eq!(checked_layout(&l2), graph_digests(&src));
    assert_eq!(manifest_digests(&l2, "copied"), want);

    // layout -> registry (TLS)
    let ra = format!("docker://{}/team/app:v1", a.host());
    let v = copy(&format!("{}:v1", src.display()), &ra);
    assert!(v["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["outcome"] == "copied"));
    assert_eq!(v["name"]["action"], "created");
    let sk = ["--tls-verify=false"];
    assert_eq!(registry_graph(&ra, &sk), want);

    // registry -> layout
    let l3 = work.path().join("l3");
    copy(&ra, &format!("{}:v1", l3.display()));
    assert_eq!(checked_layout(&l3), graph_digests(&src));
    assert_eq!(manifest_digests(&l3, "v1"), want);

    // registry -> registry, across two registries (the second with basic auth)
    let rb = format!("docker://{}/rel/app:1.0", b.host());
    let since_a = a.requests().len();
    let v = copy(&ra, &rb);
    assert!(v["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["outcome"] == "copied"));
    assert_eq!(v["manifests"].as_array().unwrap().len(), 5);
    let creds = format!("--creds=copier:{secret}");
    assert_eq!(registry_graph(&rb, &[sk[0], &creds]), want);
    // Blobs streamed from A: every blob read once, nothing written there.
    assert_eq!(
        a.count(since_a, "GET", "/blobs/sha256:"),
        v["blobs"].as_array().unwrap().len()
    );
    assert_eq!(a.count(since_a, "PUT", "/"), 0);
    // Again: everything is there, the root is found by digest, nothing is walked.
    let v = copy(&ra, &rb);
    assert_eq!(v["root_present"], true);
    assert_eq!(v["name"]["action"], "unchanged");

    // Archives. layout -> oci-archive and registry -> oci-archive: one file, the bytes
    // `oix export` writes; every blob is `copied` into it.
    let file = |n: &str| work.path().join(n).display().to_string();
    let oa = file("from-layout.tar");
    let v = copy(
        &format!("{}:v1", src.display()),
        &format!("oci-archive:{oa}"),
    );
    assert!(v["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["outcome"] == "copied"));
    let ob = file("from-registry.tar");
    copy(&ra, &format!("oci-archive:{ob}:v1"));
    let ex = file("exported.tar");
    ok(&["export", &format!("{}:v1", src.display()), "-o", &ex]);
    let bytes = |f: &str| std::fs::read(f).unwrap();
    assert_eq!(sha256(&bytes(&oa)), sha256(&bytes(&ex)));
    assert_eq!(sha256(&bytes(&ob)), sha256(&bytes(&ex)));
    // A re-import of the archive agrees on the digests.
    let l4 = work.path().join("l4");
    ok(&["import", &oa, "-o", &format!("{}:v1", l4.display())]);
    assert_eq!(checked_layout(&l4), graph_digests(&src));
    assert_eq!(manifest_digests(&l4, "v1"), want);

    // oci-archive -> layout, -> registry (the one with basic auth), -> oci-archive.
    let l5 = work.path().join("l5");
    copy(
        &format!("oci-archive:{oa}:v1"),
        &format!("{}:v1", l5.display()),
    );
    assert_eq!(checked_layout(&l5), graph_digests(&src));
    assert_eq!(manifest_digests(&l5, "v1"), want);
    let rc = format!("docker://{}/from-archive/app:v1", b.host());
    copy(&format!("oci-archive:{oa}:v1"), &rc);
    assert_eq!(registry_graph(&rc, &[sk[0], &creds]), want);
    let oc = file("from-archive.tar");
    copy(
        &format!("oci-archive:{oa}:v1"),
        &format!("oci-archive:{oc}"),
    );
    assert_eq!(sha256(&bytes(&oc)), sha256(&bytes(&ex)));

    // docker-archive (one image: --platform chooses it) -> layout, -> registry: both
    // hold the image the archive's manifest.json names, with one digest.
    let dk = file("arm64.docker.tar");
    let mut args = vec![
        "copy",
        "--platform",
        "linux/arm64",
        &ra,
        &format!("docker-archive:{dk}:example.org/app:v1"),
    ]
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    args.extend(conn.iter().map(|s| s.to_string()));
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let from_dk = format!("docker-archive:{dk}:example.org/app:v1");
    let l6 = work.path().join("l6");
    let dcopy = |to: &str| {
        let mut args = vec!["--json", "copy", &from_dk, to];
        args.extend(conn);
        let v: serde_json::Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        v["digest"].as_str().unwrap().to_string()
    };
    let d6 = dcopy(&format!("{}:dk", l6.display()));
    ok(&["fsck", l6.to_str().unwrap()]);
    assert_eq!(digest_of(&l6, "dk"), d6);
    let rd = format!("docker://{}/from-docker/app:v1", a.host());
    assert_eq!(dcopy(&rd), d6);
    assert_eq!(format!("sha256:{}", sha256(&skopeo_raw(&rd, &sk))), d6);
}

/// The digest `name` names in the layout `dir`.
fn digest_of(dir: &Path, name: &str) -> String {
    let l = Layout::open(dir).unwrap();
    l.resolve_name(name).unwrap().unwrap().digest
}

#[test]
fn a_retag_within_a_repository_sends_only_the_manifest() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = attested_index(&src, "v1", 8);
    let r = |t: &str| format!("docker://{}/team/app:{t}", reg.host());
    ok(&[
        "copy",
        &format!("{}:v1", src.display()),
        &r("build-40"),
        "--plain-http",
    ]);
    let since = reg.requests().len();
    let digestfile = work.path().join("digest");
    let o = ok(&[
        "copy",
        &r("build-40"),
        &r("1.0"),
        "--plain-http",
        "--digestfile",
        digestfile.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.trim(), format!("{} {}", idx.digest, r("1.0")));
    // As skopeo: the digest alone, no newline.
    assert_eq!(std::fs::read_to_string(&digestfile).unwrap(), idx.digest);
    let reqs = &reg.requests()[since..];
    assert_eq!(
        reqs.iter().filter(|(_, p)| p.contains("/blobs/")).count(),
        0,
        "no blob requests: {reqs:?}"
    );
    assert_eq!(reg.count(since, "PUT", "/manifests/1.0"), 1);
    assert_eq!(reg.count(since, "PUT", "/manifests/"), 1, "{reqs:?}");
    assert_eq!(
        skopeo_raw(&r("1.0"), &["--tls-verify=false"]),
        skopeo_raw(&r("build-40"), &["--tls-verify=false"])
    );
}

#[test]
fn a_copy_between_repositories_of_one_registry_mounts_every_blob() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    attested_index(&src, "v1", 9);
    let from = format!("docker://{}/builds/app:40", reg.host());
    let to = format!("docker://{}/release/app:1.0", reg.host());
    ok(&[
        "copy",
        &format!("{}:v1", src.display()),
        &from,
        "--plain-http",
    ]);
    let since = reg.requests_with_query().len();
    let o = ok(&["--json", "copy", &from, &to, "--plain-http"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let blobs = v["blobs"].as_array().unwrap();
    assert!(!blobs.is_empty());
    assert!(blobs.iter().all(|b| b["outcome"] == "mounted"), "{v}");
    let reqs = reg.requests_with_query()[since..].to_vec();
    let mounts = reqs
        .iter()
        .filter(|(m, p)| {
            m == "POST"
                && p.contains("mount=")
                && (p.contains("from=builds%2Fapp") || p.contains("from=builds/app"))
        })
        .count();
    assert_eq!(mounts, blobs.len(), "{reqs:?}");
    let uploads = reqs
        .iter()
        .filter(|(m, p)| (m == "PATCH" || m == "PUT") && p.contains("/blobs/uploads/"))
        .count();
    assert_eq!(uploads, 0, "{reqs:?}");
    assert_eq!(
        reqs.iter()
            .filter(|(m, p)| m == "GET" && p.contains("/blobs/"))
            .count(),
        0,
        "no blob is downloaded: {reqs:?}"
    );
    assert_eq!(
        reg.repo_layers("release/app"),
        reg.repo_layers("builds/app")
    );
}

#[test]
fn a_platform_subset_between_registries_keeps_the_entries_and_their_attestations() {
    if !tools_present() {
        return;
    }
    let a = RegistryServer::start(None, Auth::None);
    let b = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = attested_index(&src, "v1", 10);
    let all = manifest_digests(&src, "v1");
    let ra = format!("docker://{}/app:v1", a.host());
    let rb = format!("docker://{}/app:arm64", b.host());
    ok(&[
        "copy",
        &format!("{}:v1", src.display()),
        &ra,
        "--plain-http",
    ]);
    let o = ok(&[
        "--json",
        "copy",
        &ra,
        &rb,
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_ne!(v["digest"], idx.digest.as_str(), "a new index");
    let raw = skopeo_raw(&rb, &["--tls-verify=false"]);
    assert_eq!(v["digest"], format!("sha256:{}", sha256(&raw)));
    let sub: Index = serde_json::from_slice(&raw).unwrap();
    let kept: Vec<&str> = sub.manifests.iter().map(|d| d.digest.as_str()).collect();
    // arm64 and its attestation, in their original order.
    assert_eq!(kept, [all[2].as_str(), all[4].as_str()]);
    // Only their blobs travelled.
    let layers = b.repo_layers("app");
    let per_image = 2; // config + one layer
    assert_eq!(layers.len(), per_image + 2, "{layers:?}");
}

#[test]
fn a_dry_run_writes_nothing() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = attested_index(&src, "v1", 11);
    let r = format!("docker://{}/app:v1", reg.host());
    let since = reg.requests().len();
    let o = ok(&[
        "--json",
        "copy",
        "--dry-run",
        &format!("{}:v1", src.display()),
        &r,
        "--plain-http",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["digest"], idx.digest.as_str());
    let steps = v["steps"].as_array().unwrap();
    assert!(steps
        .iter()
        .any(|s| s["kind"] == "tag" && s["action"] == "create"));
    for m in ["PUT", "POST", "PATCH", "DELETE"] {
        assert_eq!(reg.count(since, m, "/"), 0, "{m} in a dry run");
    }
    // Registry -> layout that does not exist: not created.
    ok(&["copy", &format!("{}:v1", src.display()), &r, "--plain-http"]);
    let dest = work.path().join("never");
    let o = ok(&[
        "copy",
        "--dry-run",
        &r,
        &format!("{}:v1", dest.display()),
        "--plain-http",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("upload blob"));
    assert!(!dest.exists());
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    let d = format!("{}:x", dest.display());
    let check = |args: &[&str], code: i32, want: &str| {
        let o = out(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!dest.exists(), "{args:?} created the destination");
    };
    // Unknown source tag: exit 3.
    let missing = format!("docker://{}/app:nope", reg.host());
    check(
        &["copy", &missing, &d, "--plain-http"],
        3,
        "no such manifest",
    );
    // Unreachable registry (nothing listens there): exit 1, naming the host.
    let port = free_port();
    let gone = format!("docker://127.0.0.1:{port}/app:v1");
    check(
        &["copy", &gone, &d, "--plain-http", "--retries", "0"],
        1,
        &format!("127.0.0.1:{port}"),
    );
    // Bad references: exit 2.
    check(
        &["copy", "docker://UPPER/app:v1", &d],
        2,
        "invalid registry reference",
    );
    check(
        &[
            "copy",
            &format!("{}:v1", dest.display()),
            "docker://h/a:b@sha256:zz",
        ],
        2,
        "invalid registry reference",
    );
    // A source layout that does not exist.
    check(
        &[
            "copy",
            &format!("{}:v1", work.path().join("none").display()),
            &d,
        ],
        1,
        "not an OCI image layout",
    );
    // A missing archive: a usage error naming it.
    check(&["copy", "oci-archive:x.tar", &d], 2, "no such file");
}

#[test]
fn a_registry_to_registry_upload_resumes_reading_the_rest_with_a_range_request() {
    if !tools_present() {
        return;
    }
    let a = RegistryServer::start(None, Auth::None);
    let b = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("l");
    let l = Layout::init(&dir).unwrap().0;
    let img = common::tiny_image(&l, "amd64", &random_bytes(5, 3000));
    l.set_names(&["1".into()], &img).unwrap();
    let ra = format!("docker://{}/app:1", a.host());
    ok(&["copy", &format!("{}:1", dir.display()), &ra, "--plain-http"]);
    // 1000-byte PATCHes, one blob at a time; the second PATCH of the layer is dropped
    // before its body arrives: the destination holds 1000 bytes and the upload goes on
    // from there, reading only the rest from the source registry.
    let proxy = FaultProxy::start(
        b.port,
        Faults {
            drop_nth_patch: Some(2),
            ..Default::default()
        },
    );
    let since = a.requests().len();
    let v = oix_json(&[
        "copy",
        &ra,
        &format!("docker://127.0.0.1:{}/app:1", proxy.port),
        "--plain-http",
        "--chunk-size",
        "1000",
        "-j",
        "1",
    ]);
    assert_eq!(proxy.counters.dropped.load(Ordering::Relaxed), 1);
    assert_eq!(v["resumed"], 1, "{v}");
    assert_eq!(v["restarted"], 0, "{v}");
    // Each PATCH reads its chunk from the source at its offset: a `Range` request (206)
    // after the first, never a whole download (200) thrown away up to the offset.
    let log = std::fs::read_to_string(a.dir.path().join("access.log")).unwrap();
    let layer = format!("\"GET /v2/app/blobs/{} ", img_layer(&l, &img));
    let gets: Vec<&str> = log
        .lines()
        .skip(since)
        .filter(|l| l.contains(&layer))
        .collect();
    let whole = gets.iter().filter(|l| l.contains("\" 200 ")).count();
    let ranged = gets.iter().filter(|l| l.contains("\" 206 ")).count();
    assert_eq!(whole, 1, "{gets:#?}");
    assert!(ranged >= 2, "the resumed chunk and the rest: {gets:#?}");
    let raw = skopeo_raw(
        &format!("docker://{}/app:1", b.host()),
        &["--tls-verify=false"],
    );
    assert_eq!(oix::Digest::sha256_of(&raw).to_string(), img.digest);
}

/// The digest of the one layer of the image `img` in `l`.
fn img_layer(l: &Layout, img: &Descriptor) -> String {
    let m: serde_json::Value = serde_json::from_slice(&l.read_blob(img, 1 << 20).unwrap()).unwrap();
    m["layers"][0]["digest"].as_str().unwrap().to_string()
}

#[test]
fn registry_subsets_go_through_the_selector_and_read_platforms_from_configs() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let idx = build_multiarch(&src, "v1", PLATFORMS, 20_000, 12);
    // The same index without platforms in its descriptors: only the configs say them.
    let l = Layout::open(&src).unwrap();
    let mut index: Index = serde_json::from_slice(&l.read_blob(&idx, 1 << 20).unwrap()).unwrap();
    for m in &mut index.manifests {
        m.platform = None;
    }
    let arm64 = index.manifests[1].digest.clone();
    let bytes = index.to_bytes();
    let d = l.write_blob_bytes(&bytes).unwrap();
    let bare = Descriptor::new(media::OCI_INDEX, &d, bytes.len() as u64);
    l.transact(|i| {
        oix::tags::set_ref(i, &bare, "bare")?;
        Ok(())
    })
    .unwrap();
    let r = format!("docker://{}/app:bare", reg.host());
    ok(&[
        "copy",
        &format!("{}:bare", src.display()),
        &r,
        "--plain-http",
    ]);
    let entries = |dir: &Path, tag: &str| manifest_digests(dir, tag)[1..].to_vec();
    // copy and pull pick the same entry, found through its config.
    let c = work.path().join("c");
    ok(&[
        "copy",
        &r,
        &format!("{}:arm", c.display()),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(entries(&c, "arm"), std::slice::from_ref(&arm64));
    let p = work.path().join("p");
    ok(&[
        "pull",
        &r,
        &format!("{}:arm", p.display()),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(entries(&p, "arm"), [arm64]);
    assert_eq!(manifest_digests(&c, "arm"), manifest_digests(&p, "arm"));
    // Nothing matches: exit 3 naming the filter, nothing written.
    let o = out(&[
        "copy",
        &r,
        &format!("{}:s390x", work.path().join("none").display()),
        "--plain-http",
        "--platform",
        "linux/s390x",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!work.path().join("none").exists());
}

#[test]
fn a_plain_http_source_and_a_tls_destination_take_per_side_flags() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let secret = "s1de-Pa55";
    let pw = htpasswd(pki.dir.path(), "copier", secret);
    let plain = RegistryServer::start(None, Auth::None);
    let tls = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::Htpasswd(pw));
    let work = tempfile::tempdir().unwrap();
    let auth = authfile(work.path(), &tls.host(), "copier", secret);
    let src = work.path().join("src");
    let idx = attested_index(&src, "v1", 13);
    let from = format!("docker://{}/app:v1", plain.host());
    let to = format!("docker://{}/app:v1", tls.host());
    ok(&[
        "copy",
        &format!("{}:v1", src.display()),
        &from,
        "--plain-http",
    ]);
    let ca = pki.ca.to_str().unwrap();
    let a = auth.to_str().unwrap();
    // One --plain-http would speak HTTP to the TLS registry too: refused there.
    let o = out(&[
        "copy",
        &from,
        &to,
        "--plain-http",
        "--ca-cert",
        ca,
        "--authfile",
        a,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = oix_json(&[
        "copy",
        &from,
        &to,
        "--src-plain-http",
        "--ca-cert",
        ca,
        "--authfile",
        a,
    ]);
    assert_eq!(v["digest"], idx.digest.as_str());
    let creds = format!("--creds=copier:{secret}");
    assert_eq!(
        registry_graph(&to, &["--tls-verify=false", &creds]),
        manifest_digests(&src, "v1")
    );
}
