//! `oix push` / `oix pull` against the real CNCF distribution registry (docker-registry),
//! checked with skopeo. See tests/common_registry for the harness.

mod common_registry;

use common_registry::proxy::{FaultProxy, Faults};
use common_registry::token::{self, TokenServer};
use common_registry::*;
use oix::model::{media, Descriptor, Document, Index};
use oix::Layout;
use std::path::Path;
use std::process::Command;

const PLATFORMS: &[(&str, &str, Option<&str>)] = &[
    ("linux", "amd64", None),
    ("linux", "arm64", None),
    ("linux", "arm", Some("v7")),
];

fn local_bytes(layout: &Path, d: &Descriptor) -> Vec<u8> {
    Layout::open(layout).unwrap().read_blob(d, 4 << 20).unwrap()
}

fn children(layout: &Path, index: &Descriptor) -> Vec<Descriptor> {
    let (_, doc) = Layout::open(layout).unwrap().read_document(index).unwrap();
    match doc {
        Some(Document::Index(i)) => i.manifests,
        _ => panic!("not an index"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    run(Command::new("cp").arg("-a").arg(from).arg(to));
}

fn tls_off() -> [&'static str; 1] {
    ["--tls-verify=false"]
}

#[test]
fn plain_http_push_pull_roundtrip() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    let idx = build_multiarch(&lay, "v1", PLATFORMS, 300_000, 1);
    let l = lay.to_str().unwrap();

    // Cold push, chunked (100 KiB chunks for 300 KB layers), with per-arch tags.
    let s = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
        "--chunk-size",
        "100K",
        "--arch-tags",
        "{tag}-{arch}{variant}",
    ]);
    assert_eq!(s["uploaded"], 6, "{s}");
    assert_eq!(s["skipped"], 0);
    assert_eq!(s["manifests"], 4);
    assert!(s["bytes"].as_u64().unwrap() > 900_000);
    assert_eq!(s["tags"].as_array().unwrap().last().unwrap()["tag"], "v1");

    // The registry holds the exact local bytes, for the index and each arch tag.
    let raw = skopeo_raw(&format!("docker://{h}/t/app:v1"), &tls_off());
    assert_eq!(raw, local_bytes(&lay, &idx));
    for c in children(&lay, &idx) {
        let p = c.platform.as_ref().unwrap();
        let tag = format!(
            "v1-{}{}",
            p.architecture,
            p.variant.as_deref().unwrap_or("")
        );
        let raw = skopeo_raw(&format!("docker://{h}/t/app:{tag}"), &tls_off());
        assert_eq!(raw, local_bytes(&lay, &c), "{tag}");
    }

    // skopeo copies it back; every digest matches.
    assert_skopeo_copies_back(&format!("docker://{h}/t/app:v1"), work.path(), &lay);

    // A second push uploads nothing.
    let s = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
    ]);
    assert_eq!(
        (s["uploaded"].as_u64(), s["roots_present"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    assert_eq!(s["manifests"], 0);
    assert_eq!(s["tags"][0]["action"], "unchanged", "{s}");
    // With --force-recursive every blob and manifest is checked, and still none sent.
    let s = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
        "--force-recursive",
    ]);
    assert_eq!(
        (
            s["uploaded"].as_u64(),
            s["skipped"].as_u64(),
            s["manifests_skipped"].as_u64()
        ),
        (Some(0), Some(6), Some(4)),
        "{s}"
    );
    // One arch changed: only its blobs go up; the others are found by HEAD.
    let lay2 = work.path().join("changed");
    copy_dir(&lay, &lay2);
    let idx2 = build_multiarch(&lay2, "v1", &PLATFORMS[..1], 300_000, 99);
    let mut both = children(&lay, &idx);
    both[0] = children(&lay2, &idx2).remove(0);
    let new_index = Index {
        manifests: both,
        ..Default::default()
    };
    let bytes = new_index.to_bytes();
    let l2 = Layout::open(&lay2).unwrap();
    let d = l2.write_blob_bytes(&bytes).unwrap();
    let nd = Descriptor::new(media::OCI_INDEX, &d, bytes.len() as u64);
    l2.transact(|i| oix::tags::set_ref(i, &nd, "v1")).unwrap();
    let s = oix_json(&[
        "push",
        &format!("{}:v1", lay2.display()),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
    ]);
    assert_eq!(
        (s["uploaded"].as_u64(), s["skipped"].as_u64()),
        (Some(2), Some(4)),
        "{s}"
    );
    assert_eq!(s["manifests"], 2, "{s}");
    let v1 = s["tags"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (v1["action"].as_str(), v1["previous"].as_str()),
        (Some("moved"), Some(idx.digest.as_str())),
        "{s}"
    );
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/app:v1"), &tls_off()),
        bytes
    );
    // Back to the first index for the checks below.
    oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
    ]);

    // The dry run of an unchanged push: all skips, the tag kept.
    let d = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
        "--dry-run",
    ]);
    let steps = d["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s["action"] == "skip" || s["action"] == "keep"),
        "{d}"
    );
    let d = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/new:v1"),
        "--plain-http",
        "--dry-run",
    ]);
    let steps = d["steps"].as_array().unwrap();
    assert_eq!(
        steps.iter().filter(|s| s["action"] == "upload").count(),
        6,
        "{d}"
    );
    assert!(steps
        .iter()
        .any(|s| s["kind"] == "tag" && s["action"] == "create"));
    assert!(reg.repo_manifests("t/new").is_empty(), "dry run wrote");

    // oix pull brings it back byte for byte.
    let pulled = work.path().join("pulled");
    let p = oix_json(&[
        "pull",
        &format!("docker://{h}/t/app:v1"),
        &format!("{}:copy", pulled.display()),
        "--plain-http",
    ]);
    assert_eq!(p["digest"], idx.digest.as_str());
    assert_eq!(graph_digests(&pulled), graph_digests(&lay));

    // Platform subsets: a rewritten index, never a sparse one.
    let arm = work.path().join("arm");
    let p = oix_json(&[
        "pull",
        &format!("docker://{h}/t/app:v1"),
        &format!("{}:arm", arm.display()),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    assert_ne!(p["digest"], idx.digest.as_str());
    let layout = Layout::open(&arm).unwrap();
    let top = layout.read_index().unwrap().0.manifests[0].clone();
    let kids = children(&arm, &top);
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].platform.as_ref().unwrap().architecture, "arm64");
    assert!(oix::graph::walk(&layout, &[top]).complete());
    let s = oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/sub:v1"),
        "--plain-http",
        "--platform",
        "linux/amd64,linux/arm/v7",
    ]);
    let raw = skopeo_raw(&format!("docker://{h}/t/sub:v1"), &tls_off());
    let sub: Index = serde_json::from_slice(&raw).unwrap();
    assert_eq!(sub.manifests.len(), 2);
    assert_eq!(
        s["digests"][0].as_str().unwrap(),
        oix::Digest::sha256_of(&raw).to_string()
    );
    let out = oix()
        .args([
            "push",
            &format!("{l}:v1"),
            &format!("docker://{h}/t/sub:v1"),
            "--plain-http",
            "--platform",
            "linux/s390x",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Nested indexes are subset too, by push and by pull (the arm64 image of
    // fixtures/nested lives in a nested index; both used to find no entry).
    let nested = work.path().join("nested");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nested"),
        &nested,
    );
    let arm_only = |outer: &Index, read: &dyn Fn(&Descriptor) -> Index| {
        assert_eq!(outer.manifests.len(), 1, "the s390x image is dropped");
        assert!(outer.manifests[0].is_index());
        let inner = read(&outer.manifests[0]);
        let arches: Vec<String> = inner
            .manifests
            .iter()
            .map(|d| d.platform.as_ref().unwrap().architecture.clone())
            .collect();
        assert_eq!(arches, ["arm64"]);
    };
    let na = format!("{}:latest", nested.display());
    let registry_index = |reference: &str| -> Index {
        serde_json::from_slice(&skopeo_raw(reference, &tls_off())).unwrap()
    };
    let nh = format!("docker://{h}/t/nested");
    oix_json(&[
        "push",
        &na,
        &format!("{nh}:arm"),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    arm_only(&registry_index(&format!("{nh}:arm")), &|d| {
        registry_index(&format!("{nh}@{}", d.digest))
    });
    oix_json(&["push", &na, &format!("{nh}:all"), "--plain-http"]);
    let narm = work.path().join("narm");
    oix_json(&[
        "pull",
        &format!("{nh}:all"),
        &format!("{}:arm", narm.display()),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    let pulled = Layout::open(&narm).unwrap();
    let top = pulled.read_index().unwrap().0.manifests[0].clone();
    assert!(oix::graph::walk(&pulled, std::slice::from_ref(&top)).complete());
    let read = |d: &Descriptor| match pulled.read_document(d).unwrap().1 {
        Some(Document::Index(i)) => i,
        _ => panic!("not an index"),
    };
    arm_only(&read(&top), &read);

    // --where on the entries' descriptors (the digest field here): only that entry goes.
    let want = kids[0].digest.clone();
    oix_json(&[
        "push",
        &format!("{l}:v1"),
        &format!("docker://{h}/t/where:v1"),
        "--plain-http",
        "--where",
        &format!("digest={want}"),
    ]);
    let raw = skopeo_raw(&format!("docker://{h}/t/where:v1"), &tls_off());
    let sub: Index = serde_json::from_slice(&raw).unwrap();
    assert_eq!(sub.manifests.len(), 1);
    assert_eq!(sub.manifests[0].digest, want);

    // --all-refs: every ref to the tag of its name.
    build_multiarch(&lay, "v2", &PLATFORMS[..1], 50_000, 2);
    let s = oix_json(&[
        "push",
        l,
        &format!("docker://{h}/t/all"),
        "--plain-http",
        "--all-refs",
    ]);
    let tags: Vec<&str> = s["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v1", "v2"]);
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/all:v1"), &tls_off()),
        local_bytes(&lay, &idx)
    );
}

#[test]
fn via_skopeo_gives_the_same_registry_state() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    build_multiarch(&lay, "v1", PLATFORMS, 100_000, 3);
    let l = format!("{}:v1", lay.display());
    let tmpl = "{tag}_{arch}{variant}";
    oix_json(&[
        "push",
        &l,
        &format!("docker://{h}/t/a:v1"),
        "--plain-http",
        "--arch-tags",
        tmpl,
    ]);
    let dry = oix()
        .args([
            "push",
            &l,
            &format!("docker://{h}/t/b:v1"),
            "--plain-http",
            "--arch-tags",
            tmpl,
            "--via",
            "skopeo",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success());
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.lines().next().unwrap().starts_with(&format!(
        "skopeo copy --dest-tls-verify=false --all --preserve-digests oci:{l} docker://{h}/t/b:v1"
    )),
        "{text}"
    );
    assert!(reg.repo_manifests("t/b").is_empty());
    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{h}/t/b:v1"),
        "--plain-http",
        "--arch-tags",
        tmpl,
        "--via",
        "skopeo",
    ]);
    assert_eq!(s["via"], "skopeo");
    assert_eq!(reg.repo_layers("t/a"), reg.repo_layers("t/b"));
    assert_eq!(reg.repo_manifests("t/a"), reg.repo_manifests("t/b"));
    for tag in ["v1", "v1_amd64", "v1_arm64", "v1_armv7"] {
        assert_eq!(
            skopeo_raw(&format!("docker://{h}/t/a:{tag}"), &tls_off()),
            skopeo_raw(&format!("docker://{h}/t/b:{tag}"), &tls_off()),
            "{tag}"
        );
    }
    // No skopeo on PATH: a clear error naming the package.
    let out = oix()
        .env("PATH", "/nonexistent")
        .args([
            "push",
            &l,
            &format!("docker://{h}/t/c:v1"),
            "--plain-http",
            "--via",
            "skopeo",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("skopeo is not installed") && err.contains("apt-get install skopeo"),
        "{err}"
    );
}

#[test]
fn tls_with_basic_auth_and_private_ca() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let secret = "s3cr3t-Pa55";
    let pw = htpasswd(pki.dir.path(), "tester", secret);
    let reg = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::Htpasswd(pw));
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    let idx = build_multiarch(&lay, "v1", &PLATFORMS[..2], 100_000, 4);
    let l = format!("{}:v1", lay.display());
    let dest = format!("docker://{h}/t/app:v1");
    let ca = pki.ca.to_str().unwrap();
    let good = authfile(work.path(), &h, "tester", secret);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = authfile(bad_dir.path(), &h, "tester", "wrong");

    let fail = |args: &[&str], want: &str| {
        let out = oix().args(args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(all.contains(want), "{args:?}: wanted {want:?} in {all}");
        assert!(
            !all.contains(secret) && !all.contains("wrong"),
            "secret leaked: {all}"
        );
    };
    // No CA: a TLS error that points at --ca-cert.
    fail(
        &["push", &l, &dest, "--authfile", good.to_str().unwrap()],
        "--ca-cert",
    );
    // No credentials, then wrong ones.
    fail(
        &["push", &l, &dest, "--ca-cert", ca],
        "authentication required",
    );
    fail(
        &[
            "push",
            &l,
            &dest,
            "--ca-cert",
            ca,
            "--authfile",
            bad.to_str().unwrap(),
        ],
        "refused",
    );
    // Plain HTTP against TLS: refused with a hint, never a silent switch.
    fail(
        &[
            "push",
            &l,
            &dest,
            "--plain-http",
            "--authfile",
            good.to_str().unwrap(),
        ],
        "HTTPS",
    );

    let s = oix_json(&[
        "push",
        &l,
        &dest,
        "--ca-cert",
        ca,
        "--authfile",
        good.to_str().unwrap(),
    ]);
    assert_eq!(s["uploaded"], 4);
    // REGISTRY_AUTH_FILE and --insecure work too (and nothing is uploaded twice).
    let out = oix()
        .env("REGISTRY_AUTH_FILE", &good)
        .args(["--json", "push", &l, &dest, "--insecure"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (s["uploaded"].as_u64(), s["roots_present"].as_u64()),
        (Some(0), Some(1))
    );

    // A docker config with a credential helper (docker-credential-<name> get).
    let helper_dir = work.path().join("helper");
    std::fs::create_dir_all(&helper_dir).unwrap();
    let script = helper_dir.join("docker-credential-oixtest");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{h}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"{h}\",\"Username\":\"tester\",\"Secret\":\"{secret}\"}}'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        helper_dir.join("config.json"),
        format!(r#"{{"credHelpers":{{"{h}":"oixtest"}}}}"#),
    )
    .unwrap();
    let out = oix()
        .env("DOCKER_CONFIG", &helper_dir)
        .env("PATH", format!("{}:/usr/bin:/bin", helper_dir.display()))
        .args([
            "--json",
            "push",
            &l,
            &format!("docker://{h}/t/helper:v1"),
            "--ca-cert",
            ca,
        ])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(secret), "secret leaked: {all}");

    let certs = work.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&pki.ca, certs.join("ca.crt")).unwrap();
    let raw = skopeo_raw(
        &dest,
        &[
            "--cert-dir",
            certs.to_str().unwrap(),
            "--authfile",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(raw, local_bytes(&lay, &idx));

    // --via skopeo passes the CA (as a cert dir) and the auth file.
    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{h}/t/sk:v1"),
        "--via",
        "skopeo",
        "--ca-cert",
        ca,
        "--authfile",
        good.to_str().unwrap(),
    ]);
    assert_eq!(s["via"], "skopeo");
    assert_eq!(reg.repo_layers("t/sk"), reg.repo_layers("t/app"));

    // Pull over TLS with auth.
    let pulled = work.path().join("pulled");
    oix_json(&[
        "pull",
        &dest,
        &format!("{}:v1", pulled.display()),
        "--ca-cert",
        ca,
        "--authfile",
        good.to_str().unwrap(),
    ]);
    assert_eq!(graph_digests(&pulled), graph_digests(&lay));
}

#[test]
fn faults_are_retried_and_a_failed_push_moves_no_tag() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    let idx = build_multiarch(&lay, "v1", &PLATFORMS[..2], 300_000, 5);
    let l = format!("{}:v1", lay.display());

    // Chunked uploads: a 503 on the first PATCH, a connection dropped mid-chunk.
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            fail_503_once: Some("PATCH"),
            drop_body_over: Some(50_000),
            ..Default::default()
        },
    );
    let ph = format!("127.0.0.1:{}", proxy.port);
    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{ph}/t/chunked:v1"),
        "--plain-http",
        "--chunk-size",
        "100K",
        "--jobs",
        "2",
    ]);
    assert_eq!(
        proxy
            .counters
            .served_503
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        proxy
            .counters
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(s["retries"].as_u64().unwrap() >= 2, "{s}");
    eprintln!("chunked push through faults: {s}");
    // The dropped chunk is either resumed from the upload status or started over.
    assert!(
        s["resumed"].as_u64().unwrap() + s["restarted"].as_u64().unwrap() >= 1,
        "{s}"
    );
    assert_eq!(s["uploaded"], 4);
    let h = reg.host();
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/chunked:v1"), &tls_off()),
        local_bytes(&lay, &idx)
    );
    assert_skopeo_copies_back(&format!("docker://{h}/t/chunked:v1"), work.path(), &lay);

    // Monolithic uploads: a 503 on the first upload PUT, a dropped body.
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            fail_503_once: Some("PUT"),
            drop_body_over: Some(50_000),
            throttle_first_head: true,
            ..Default::default()
        },
    );
    let ph = format!("127.0.0.1:{}", proxy.port);
    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{ph}/t/mono:v1"),
        "--plain-http",
    ]);
    let served = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(served(&proxy.counters.served_429), 1);
    assert_eq!(served(&proxy.counters.served_503), 1);
    assert!(s["retries"].as_u64().unwrap() >= 3, "{s}");
    // Retry-After: 1 was honoured.
    assert!(s["seconds"].as_f64().unwrap() >= 1.0, "{s}");
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/mono:v1"), &tls_off()),
        local_bytes(&lay, &idx)
    );

    // A download cut mid-blob resumes with a Range request.
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            drop_response_after: Some(200_000),
            ..Default::default()
        },
    );
    let ph = format!("127.0.0.1:{}", proxy.port);
    let pulled = work.path().join("pulled");
    let p = oix_json(&[
        "pull",
        &format!("docker://{ph}/t/mono:v1"),
        &format!("{}:v1", pulled.display()),
        "--plain-http",
        "--jobs",
        "1",
    ]);
    assert_eq!(
        proxy
            .counters
            .dropped_responses
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(p["retries"].as_u64().unwrap() >= 1, "{p}");
    assert_eq!(graph_digests(&pulled), graph_digests(&lay));

    // A push that cannot get through fails, and the tag stays where it was.
    let other = work.path().join("other");
    build_multiarch(&other, "v1", &PLATFORMS[..2], 300_000, 6);
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            drop_body_over: Some(50_000),
            drop_always: true,
            ..Default::default()
        },
    );
    let ph = format!("127.0.0.1:{}", proxy.port);
    let out = oix()
        .args([
            "push",
            &format!("{}:v1", other.display()),
            &format!("docker://{ph}/t/mono:v1"),
            "--plain-http",
            "--retries",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gave up after 3 attempts"));
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/mono:v1"), &tls_off()),
        local_bytes(&lay, &idx)
    );
}

#[test]
fn bearer_tokens_with_scopes_and_cross_repo_mounts() {
    if !tools_present() {
        return;
    }
    let ts = TokenServer::start("tok-user", "tok-pass");
    let reg = RegistryServer::start(
        None,
        Auth::Token {
            realm: ts.realm(),
            service: token::SERVICE.into(),
            issuer: token::ISSUER.into(),
            rootcertbundle: ts.cert.clone(),
        },
    );
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    let idx = build_multiarch(&lay, "v1", &PLATFORMS[..2], 100_000, 7);
    let l = format!("{}:v1", lay.display());
    let auth = authfile(work.path(), &h, "tok-user", "tok-pass");
    let a = auth.to_str().unwrap();

    let out = oix()
        .args([
            "push",
            &l,
            &format!("docker://{h}/t/base:v1"),
            "--plain-http",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no credentials"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{h}/t/base:v1"),
        "--plain-http",
        "--authfile",
        a,
    ]);
    assert_eq!(s["uploaded"], 4);
    let s = oix_json(&[
        "push",
        &l,
        &format!("docker://{h}/t/app:v1"),
        "--plain-http",
        "--authfile",
        a,
        "--mount-from",
        "t/base",
    ]);
    assert_eq!(
        (s["mounted"].as_u64(), s["uploaded"].as_u64()),
        (Some(4), Some(0)),
        "{s}"
    );
    let scopes = ts.scopes.lock().unwrap().clone();
    assert!(
        scopes.contains(&"repository:t/app:pull,push".to_string()),
        "{scopes:?}"
    );
    assert!(
        scopes.contains(&"repository:t/base:pull".to_string()),
        "{scopes:?}"
    );
    assert_eq!(reg.repo_layers("t/app"), reg.repo_layers("t/base"));

    let pulled = work.path().join("pulled");
    let p = oix_json(&[
        "pull",
        &format!("docker://{h}/t/app:v1"),
        &format!("{}:v1", pulled.display()),
        "--plain-http",
        "--authfile",
        a,
    ]);
    assert_eq!(p["digest"], idx.digest.as_str());
    assert_eq!(graph_digests(&pulled), graph_digests(&lay));
}

#[test]
fn docker_lists_and_manifests_travel_unchanged() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    let oci = build_multiarch(&lay, "oci", &PLATFORMS[..2], 50_000, 8);
    // Re-dress each image as a Docker schema 2 manifest (same blobs), then a Docker list.
    let layout = Layout::open(&lay).unwrap();
    let mut entries = Vec::new();
    for c in children(&lay, &oci) {
        let (_, doc) = layout.read_document(&c).unwrap();
        let Some(Document::Manifest(m)) = doc else {
            panic!()
        };
        let dm = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::DOCKER_MANIFEST,
            "config": {"mediaType": media::DOCKER_CONFIG, "digest": m.config.digest, "size": m.config.size},
            "layers": m.layers.iter().map(|l| serde_json::json!({
                "mediaType": media::DOCKER_LAYER_GZIP, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&dm).unwrap();
        let d = layout.write_blob_bytes(&bytes).unwrap();
        let mut desc = Descriptor::new(media::DOCKER_MANIFEST, &d, bytes.len() as u64);
        desc.platform = c.platform.clone();
        entries.push(desc);
    }
    let list = serde_json::json!({"schemaVersion": 2, "mediaType": media::DOCKER_LIST, "manifests": entries});
    let bytes = serde_json::to_vec_pretty(&list).unwrap();
    let d = layout.write_blob_bytes(&bytes).unwrap();
    let list_desc = Descriptor::new(media::DOCKER_LIST, &d, bytes.len() as u64);
    layout
        .transact(|i| oix::tags::set_ref(i, &list_desc, "docker"))
        .unwrap();

    oix_json(&[
        "push",
        &format!("{}:docker", lay.display()),
        &format!("docker://{h}/t/dl:v1"),
        "--plain-http",
    ]);
    assert_eq!(
        skopeo_raw(&format!("docker://{h}/t/dl:v1"), &tls_off()),
        bytes
    );
    let pulled = work.path().join("pulled");
    let p = oix_json(&[
        "pull",
        &format!("docker://{h}/t/dl:v1"),
        &format!("{}:v1", pulled.display()),
        "--plain-http",
    ]);
    assert_eq!(p["mediaType"], media::DOCKER_LIST);
    assert_eq!(p["digest"], list_desc.digest.as_str());
    let pl = Layout::open(&pulled).unwrap();
    let top = pl.read_index().unwrap().0.manifests[0].clone();
    assert_eq!(top.media_type, media::DOCKER_LIST);
    assert_eq!(pl.read_blob(&top, 4 << 20).unwrap(), bytes);
    for e in children(&pulled, &top) {
        assert_eq!(e.media_type, media::DOCKER_MANIFEST);
        assert_eq!(pl.read_blob(&e, 4 << 20).unwrap(), local_bytes(&lay, &e));
    }
    // By digest too.
    let p = oix_json(&[
        "pull",
        &format!("docker://{h}/t/dl@{}", list_desc.digest),
        &format!("{}:bydigest", pulled.display()),
        "--plain-http",
    ]);
    assert_eq!(p["digest"], list_desc.digest.as_str());
}

/// Issue 7 against the real registry: `oix apply` with a destination pushes the release
/// tag (and per-arch tags); re-applying uploads nothing and exits 0 even with
/// --detailed-exitcode.
#[test]
fn apply_pushes_to_a_registry_and_reapply_uploads_nothing() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("out");
    build_multiarch(&lay, "app-build-20191203T153530Z.0", PLATFORMS, 30_000, 7);
    let plan = work.path().join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./out\ndestinations:\n  - url: docker://{h}/rel\n    plain_http: true\nimages:\n  - name: app\n    source: app-build-20191203T153530Z.0\n    tags: [stx.4.0-v1.0]\n    arch_tags: '{{tag}}-{{arch}}'\n    src_ref: https://opendev.org/starlingx/integ/commit/dac417bd31ed36d455e94db4aabe5916367654d4\n"
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = oix()
            .args([
                "--json",
                "apply",
                plan.to_str().unwrap(),
                "--detailed-exitcode",
            ])
            .args(extra)
            .output()
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), j)
    };
    let pushes = |j: &serde_json::Value| -> Vec<serde_json::Value> {
        j["images"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "push")
            .cloned()
            .collect()
    };
    let (code, first) = run(&[]);
    assert_eq!(code, Some(6), "{first}");
    let p = pushes(&first);
    assert_eq!(p.len(), 1, "{first}");
    assert!(p[0]["summary"]["uploaded"].as_u64().unwrap() > 0, "{first}");
    // The registry holds the released index, byte for byte the layout's.
    let local = Layout::open(&lay).unwrap();
    let released = local
        .read_index()
        .unwrap()
        .0
        .manifests
        .into_iter()
        .find(|d| d.ref_name() == Some("app:stx.4.0-v1.0"))
        .expect("release tag in the layout");
    let raw = skopeo_raw(&format!("docker://{h}/rel/app:stx.4.0-v1.0"), &tls_off());
    assert_eq!(oix::Digest::sha256_of(&raw).to_string(), released.digest);
    assert_eq!(raw, local_bytes(&lay, &released));
    skopeo_raw(
        &format!("docker://{h}/rel/app:stx.4.0-v1.0-arm64"),
        &tls_off(),
    );
    // Re-apply: nothing to do, nothing uploaded, exit 0.
    let layers = reg.repo_layers("rel/app");
    let (code, again) = run(&[]);
    assert_eq!(code, Some(0), "{again}");
    assert!(
        pushes(&again)
            .iter()
            .all(|s| s["action"] == "unchanged"
                && s["summary"]["uploaded"].as_u64().unwrap_or(0) == 0),
        "{again}"
    );
    assert_eq!(layers, reg.repo_layers("rel/app"));
}

/// skopeo copies `src` (every platform, digests preserved) into a new layout under
/// `scratch`, and the graph it gets is the layout's, digest for digest.
fn assert_skopeo_copies_back(src: &str, scratch: &Path, lay: &Path) {
    let back = scratch.join("back");
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        src,
        &format!("oci:{}:v1", back.display()),
    ]));
    assert_eq!(graph_digests(&back), graph_digests(lay));
}

/// Issue 12 §7 hints: an unchanged re-push says every blob was already there (not
/// "skipped 0"); `pull docker://…/app LAYOUT` defaults the ref to `latest` as push
/// defaults the tag.
#[test]
fn repush_says_all_present_and_pull_defaults_the_ref() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("src");
    build_multiarch(&lay, "latest", PLATFORMS, 1000, 1);
    let l = lay.to_str().unwrap();
    let push = || {
        oix()
            .args([
                "push",
                &format!("{l}:latest"),
                &format!("docker://{h}/t/app"),
                "--plain-http",
            ])
            .output()
            .unwrap()
    };
    assert!(push().status.success());
    let again = push();
    assert!(again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    // 1 index + 3 manifests + 3 configs + 3 layers.
    assert!(err.contains("all 10 blobs already present"), "{err}");
    assert!(!err.contains("skipped 0"), "{err}");

    let mirror = work.path().join("mirror");
    let out = oix()
        .args([
            "pull",
            &format!("docker://{h}/t/app"),
            mirror.to_str().unwrap(),
            "--plain-http",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ls = oix_json(&["ls", mirror.to_str().unwrap()]);
    assert_eq!(ls[0]["ref"], "latest", "{ls}");
}

/// A one-shot stream handed to the registry store is verified before anything is
/// uploaded (issue 13, item 5: one verifying reader for every reader of content): the
/// error names the blob and what its content hashes to, and the registry never holds it.
#[test]
fn a_stream_is_verified_before_it_is_uploaded() {
    if !tools_present() {
        return;
    }
    use oix::store::Sink;
    let reg = RegistryServer::start(None, Auth::None);
    let target = format!("docker://{}/t/verify:v1", reg.host());
    let r = oix::registry::RegistryRef::parse(&target).unwrap();
    let mut opts = oix::registry::RegistryOptions {
        push: true,
        ..Default::default()
    };
    opts.transport.plain_http = true;
    let registry = oix::registry::Registry::new(&r, &opts).unwrap();
    let right = b"the content its descriptor names";
    let wrong = b"THE CONTENT ITS DESCRIPTOR NAMES";
    let d = oix::Digest::sha256_of(right);
    let desc = Descriptor::new(media::OCI_LAYER_TAR, &d, right.len() as u64);
    let e = registry.put_blob(&desc, &mut &wrong[..]).unwrap_err();
    let got = oix::Digest::sha256_of(wrong);
    assert!(
        e.message.contains(&d.to_string()) && e.message.contains(&format!("hashes to {got}")),
        "{}",
        e.message
    );
    let e = registry.put_blob(&desc, &mut &right[..5]).unwrap_err();
    assert!(
        e.message.contains("is 5 bytes, not the 32"),
        "{}",
        e.message
    );
    assert!(!registry.has_blob(&d).unwrap(), "nothing was uploaded");
    registry.put_blob(&desc, &mut &right[..]).unwrap();
    assert!(registry.has_blob(&d).unwrap());
}
