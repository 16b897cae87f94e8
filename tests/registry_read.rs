//! Read commands on registries (issue 14 item 2): `ls`, `inspect`, `select`, `diff` and
//! `digest` on `docker://` references give the same output as on a layout holding the
//! same content, against the real CNCF distribution registry on loopback, and read
//! manifests and configs only, never layers (counted in the registry's access log).

mod common_registry;

use common_registry::proxy::{FaultProxy, Faults};
use common_registry::*;
use oix::model::{media, Descriptor, Document, Index};
use oix::store::Names;
use oix::Layout;
use serde_json::json;
use std::path::Path;

const PLATFORMS: &[(&str, &str, Option<&str>)] = &[
    ("linux", "amd64", None),
    ("linux", "arm64", None),
    ("linux", "arm", Some("v7")),
];

/// `oix ARGS`: (exit code, stdout, stderr).
fn oix_run(args: &[&str]) -> (i32, String, String) {
    let out = oix().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `oix --json ARGS` on success, its stdout with every store name replaced by `STORE`.
fn json_of(args: &[&str], stores: &[&str]) -> String {
    let v = oix_json(args);
    let mut s = serde_json::to_string_pretty(&v).unwrap();
    for name in stores {
        s = s.replace(name, "STORE");
    }
    s
}

/// A 3-arch index named `tag` in `dir`: the amd64 entry without a descriptor platform
/// (its platform is derived from its config), and an in-toto attestation of the arm64
/// image. Returns the index descriptor.
fn release(dir: &Path, tag: &str, seed: u64) -> Descriptor {
    let built = build_multiarch(dir, "built", PLATFORMS, 2_000, seed);
    let layout = Layout::open(dir).unwrap();
    let (_, doc) = layout.read_document(&built).unwrap();
    let Some(Document::Index(mut index)) = doc else {
        panic!("not an index")
    };
    index.manifests[0].platform = None;
    let put = |bytes: &[u8], mt: &str| {
        let d = layout.write_blob_bytes(bytes).unwrap();
        Descriptor::new(mt, &d, bytes.len() as u64)
    };
    let empty = put(b"{}", "application/vnd.oci.empty.v1+json");
    let statement = put(
        format!(r#"{{"_type":"https://in-toto.io/Statement/v0.1","seed":{seed}}}"#).as_bytes(),
        "application/vnd.in-toto+json",
    );
    let att = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": empty,
        "layers": [statement],
    }))
    .unwrap();
    let mut att_desc = put(&att, media::OCI_MANIFEST);
    att_desc.platform = Some(Box::new(oix::model::Platform {
        os: "unknown".into(),
        architecture: "unknown".into(),
        ..Default::default()
    }));
    att_desc.annotations.insert(
        "vnd.docker.reference.type".into(),
        "attestation-manifest".into(),
    );
    att_desc.annotations.insert(
        "vnd.docker.reference.digest".into(),
        index.manifests[1].digest.clone(),
    );
    index.manifests.push(att_desc);
    let bytes = Index {
        manifests: index.manifests,
        ..Default::default()
    }
    .to_bytes();
    let desc = put(&bytes, media::OCI_INDEX);
    layout
        .transact(|idx| {
            idx.manifests.retain(|d| d.ref_name() != Some("built"));
            oix::tags::set_ref(idx, &desc, tag)?;
            Ok(())
        })
        .unwrap();
    desc
}

/// Every layer digest of the layout's graph (what a read command must never GET).
fn layer_digests(dir: &Path) -> Vec<String> {
    let layout = Layout::open(dir).unwrap();
    let (idx, _) = layout.read_index().unwrap();
    let w = oix::graph::walk(&layout, &idx.manifests);
    w.nodes
        .iter()
        .filter(|n| n.role == oix::graph::Role::Layer)
        .map(|n| n.descriptor.digest.clone())
        .collect()
}

/// GETs of layer blobs since `since`.
fn layer_gets(reg: &RegistryServer, since: usize, layers: &[String]) -> usize {
    reg.requests()[since..]
        .iter()
        .filter(|(m, p)| m == "GET" && layers.iter().any(|l| p.ends_with(&format!("/blobs/{l}"))))
        .count()
}

#[test]
fn read_commands_answer_on_a_registry_as_on_the_layout() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("rel");
    let idx = release(&lay, "1.0", 1);
    let l = lay.to_str().unwrap().to_string();
    let remote = format!("docker://{h}/t/app");
    oix_json(&[
        "push",
        &format!("{l}:1.0"),
        &format!("{remote}:1.0"),
        "--plain-http",
    ]);
    let layers = layer_digests(&lay);
    assert_eq!(
        layers.len(),
        4,
        "3 image layers and the attestation statement"
    );
    let since = reg.requests().len();

    let stores = [l.as_str(), remote.as_str()];
    let both = |args: &[&str]| -> (String, String) {
        let swap = |r: &str| -> Vec<String> {
            args.iter()
                .map(|a| a.replace("REF", r))
                .chain(
                    r.starts_with("docker://")
                        .then(|| "--plain-http".to_string()),
                )
                .collect()
        };
        let a = swap(&format!("{l}:1.0"));
        let b = swap(&format!("{remote}:1.0"));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        (json_of(&a, &stores), json_of(&b, &stores))
    };
    let cases: &[&[&str]] = &[
        &["ls", "REF"],
        &["ls", "REF", "--tree"],
        &["ls", "REF", "--platform", "linux/arm/v7"],
        &["inspect", "REF"],
        &["inspect", "REF", "--platform", "linux/amd64", "--config"],
        &["select", "REF", "--platform", "linux/arm64"],
        &["select", "REF", "--all", "--where", "mediaType~=manifest"],
        &["select", "REF", "--where", "vnd.docker.reference.type"],
        &["select", "REF", "--platform", "linux/amd64"],
        &["digest", "REF"],
    ];
    for args in cases {
        let (on_layout, on_registry) = both(args);
        assert_eq!(on_layout, on_registry, "oix {args:?}");
    }
    // The derived platform and the attestation are there, as on the layout.
    let rows = oix_json(&["ls", &format!("{remote}:1.0"), "--plain-http"]);
    assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
    assert_eq!(
        rows[0]["platforms"][0],
        json!({"platform": "linux/amd64", "derived": true})
    );
    assert_eq!(rows[3]["platforms"][0]["attestation"], true);
    // diff between the two stores: nothing differs, in both directions.
    for (a, b) in [
        (format!("{l}:1.0"), format!("{remote}:1.0")),
        (format!("{remote}:1.0"), format!("{l}:1.0")),
    ] {
        let (code, out, err) = oix_run(&["diff", &a, &b, "--plain-http", "--detailed-exitcode"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(out, "no differences (4 entries)\n");
    }
    let d = json_of(
        &[
            "diff",
            &format!("{l}:1.0"),
            &format!("{remote}:1.0"),
            "--plain-http",
        ],
        &stores,
    );
    assert_eq!(
        d,
        json_of(&["diff", &format!("{l}:1.0"), &format!("{l}:1.0")], &stores)
    );
    // inspect --raw: the exact bytes, and the registry's digest on stderr.
    let (code, out, err) = oix_run(&["inspect", "--raw", &format!("{remote}:1.0"), "--plain-http"]);
    assert_eq!(code, 0, "{err}");
    let local = Layout::open(&lay)
        .unwrap()
        .read_blob(&idx, 1 << 20)
        .unwrap();
    assert_eq!(out.as_bytes(), &local[..]);
    assert_eq!(err, format!("Docker-Content-Digest: {}\n", idx.digest));
    // Tags, sorted.
    oix_json(&[
        "push",
        &format!("{l}:1.0"),
        &format!("{remote}:0.9"),
        "--plain-http",
    ]);
    oix_json(&[
        "push",
        &format!("{l}:1.0"),
        &format!("{remote}:latest"),
        "--plain-http",
    ]);
    let (code, out, _) = oix_run(&["ls", &remote, "--plain-http"]);
    assert_eq!((code, out.as_str()), (0, "0.9\n1.0\nlatest\n"));
    assert_eq!(
        oix_json(&["ls", &remote, "--plain-http"]),
        json!({"repository": remote, "tags": ["0.9", "1.0", "latest"]})
    );
    // Without a tag, the read commands name `latest` (as pull and skopeo).
    let (_, out, _) = oix_run(&["digest", &remote, "--plain-http"]);
    assert_eq!(out, format!("{}\n", idx.digest));

    // Manifests and configs only: never a layer.
    assert_eq!(
        layer_gets(&reg, since, &layers),
        0,
        "{:?}",
        &reg.requests()[since..]
    );
    assert!(reg.count(since, "GET", "/manifests/") > 0);
}

#[test]
fn digest_is_one_head_and_errors_are_clear() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("rel");
    let idx = release(&lay, "1.0", 2);
    let l = lay.to_str().unwrap().to_string();
    let remote = format!("docker://{h}/t/app");
    oix_json(&[
        "push",
        &format!("{l}:1.0"),
        &format!("{remote}:1.0"),
        "--plain-http",
    ]);

    let (code, out, _) = oix_run(&["digest", &format!("{l}:1.0")]);
    assert_eq!((code, out.clone()), (0, format!("{}\n", idx.digest)));
    let since = reg.requests().len();
    let (code, out2, err) = oix_run(&["digest", &format!("{remote}:1.0"), "--plain-http"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out2, out);
    let reqs = reg.requests()[since..].to_vec();
    let reads: Vec<_> = reqs.iter().filter(|(_, p)| p != "/v2/").collect();
    assert_eq!(reads.len(), 1, "{reqs:?}");
    assert_eq!(reads[0].0, "HEAD");
    // By digest too (a HEAD of the digest).
    let (code, out3, _) = oix_run(&[
        "digest",
        &format!("{remote}@{}", idx.digest),
        "--plain-http",
    ]);
    assert_eq!((code, out3), (0, out));
    let v = oix_json(&["digest", &format!("{remote}:1.0"), "--plain-http"]);
    assert_eq!(v["digest"], idx.digest.as_str());
    assert_eq!(v["mediaType"], media::OCI_INDEX);
    assert_eq!(v["size"], idx.size);

    // An unknown tag: exit 3 on every read command, naming the tag and how to list tags.
    for cmd in ["ls", "inspect", "select", "digest"] {
        let (code, _, err) = oix_run(&[cmd, &format!("{remote}:nope"), "--plain-http"]);
        assert_eq!(code, 3, "{cmd}: {err}");
        assert!(err.contains("no tag \"nope\""), "{cmd}: {err}");
        assert!(err.contains(&format!("oix ls {remote}")), "{cmd}: {err}");
    }
    let (code, _, err) = oix_run(&[
        "diff",
        &format!("{l}:1.0"),
        &format!("{remote}:nope"),
        "--plain-http",
    ]);
    assert_eq!(code, 3, "{err}");
    // A repository that does not exist has no tags; its tag is not there either.
    let (code, out, _) = oix_run(&["ls", &format!("docker://{h}/t/none"), "--plain-http"]);
    assert_eq!((code, out.as_str()), (0, ""));
    // A bad host: usage error before any request.
    let (code, _, err) = oix_run(&["ls", "docker://bad_host!/app:1.0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid registry reference"), "{err}");
    // Nothing listening: exit 1 naming the host, quickly.
    let dead = format!("127.0.0.1:{}", free_port());
    let t = std::time::Instant::now();
    let (code, _, err) = oix_run(&[
        "inspect",
        &format!("docker://{dead}/app:1.0"),
        "--plain-http",
        "--retries",
        "0",
        "--timeout",
        "2",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&dead), "{err}");
    assert!(t.elapsed().as_secs() < 20);
    // ls of a repository with --tree or filters asks for a tag.
    let (code, _, err) = oix_run(&["ls", &remote, "--tree", "--plain-http"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn diff_shows_what_a_push_would_change() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("rel");
    release(&lay, "1.0", 3);
    let l = lay.to_str().unwrap().to_string();
    let remote = format!("docker://{h}/t/app:1.0");
    oix_json(&["push", &format!("{l}:1.0"), &remote, "--plain-http"]);
    let layers = layer_digests(&lay);
    // The next release: one platform rebuilt, one annotated.
    let next = work.path().join("next");
    release(&next, "1.0", 4);
    let n = next.to_str().unwrap().to_string();
    let (code, _, err) = oix_run(&[
        "annotate",
        &format!("{n}:1.0"),
        "--platform",
        "linux/arm64",
        "--set",
        "org.opencontainers.image.revision=abc",
    ]);
    assert_eq!(code, 0, "{err}");
    let since = reg.requests().len();
    let (code, out, err) = oix_run(&[
        "diff",
        &remote,
        &format!("{n}:1.0"),
        "--plain-http",
        "--detailed-exitcode",
    ]);
    assert_eq!(code, 6, "{out}{err}");
    assert!(out.contains("~ linux/amd64 sha256:"), "{out}");
    assert!(
        out.contains("+ org.opencontainers.image.revision=abc"),
        "{out}"
    );
    let d = oix_json(&["diff", &remote, &format!("{n}:1.0"), "--plain-http"]);
    assert_eq!(d["changed"].as_array().unwrap().len(), 4, "{d}");
    assert_eq!(layer_gets(&reg, since, &layers), 0);
    // After the push, nothing differs.
    oix_json(&["push", &format!("{n}:1.0"), &remote, "--plain-http"]);
    let (code, out, err) = oix_run(&[
        "diff",
        &format!("{n}:1.0"),
        &remote,
        "--plain-http",
        "--detailed-exitcode",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "no differences (4 entries)\n");
}

#[test]
fn ls_follows_link_pages() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("rel");
    let idx = release(&lay, "1.0", 5);
    let l = lay.to_str().unwrap().to_string();
    oix_json(&[
        "push",
        &format!("{l}:1.0"),
        &format!("docker://{h}/t/app:1.0"),
        "--plain-http",
    ]);
    // More tags through the library's naming (one manifest PUT each).
    let rr = oix::registry::RegistryRef::parse(&format!("docker://{h}/t/app")).unwrap();
    let mut opts = oix::registry::RegistryOptions::default();
    opts.transport.plain_http = true;
    opts.push = true;
    let registry = oix::registry::Registry::new(&rr, &opts).unwrap();
    let names: Vec<String> = (0..11).map(|i| format!("t{i:02}")).collect();
    registry.set_names(&names, &idx).unwrap();
    let mut want: Vec<String> = names.clone();
    want.push("1.0".into());
    want.sort();

    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            page_tags: Some(5),
            ..Default::default()
        },
    );
    let through = format!("docker://127.0.0.1:{}/t/app", proxy.port);
    let v = oix_json(&["ls", &through, "--plain-http"]);
    assert_eq!(v["tags"], json!(want));
    // 12 tags in pages of at most 5: three pages, each followed by its Link.
    assert_eq!(
        proxy
            .counters
            .tag_pages
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    // Direct (one page from distribution 2.8): the same answer.
    assert_eq!(
        oix_json(&["ls", &format!("docker://{h}/t/app"), "--plain-http"])["tags"],
        json!(want)
    );
}

/// The read commands take push's registry flags: TLS with `--ca-cert`, credentials with
/// `--authfile`; without them they fail as push does (exit 1, the flag named), secrets
/// never shown.
#[test]
fn read_commands_take_the_registry_flags() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let secret = "s3cr3t-Pa55";
    let pw = htpasswd(pki.dir.path(), "tester", secret);
    let reg = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::Htpasswd(pw));
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let lay = work.path().join("rel");
    let idx = release(&lay, "1.0", 6);
    let l = format!("{}:1.0", lay.display());
    let ca = pki.ca.to_str().unwrap().to_string();
    let good = authfile(work.path(), &h, "tester", secret);
    let good = good.to_str().unwrap().to_string();
    let remote = format!("docker://{h}/t/app");
    oix_json(&[
        "push",
        &l,
        &format!("{remote}:1.0"),
        "--ca-cert",
        &ca,
        "--authfile",
        &good,
    ]);
    let flags = ["--ca-cert", ca.as_str(), "--authfile", good.as_str()];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(&flags).map(|s| s.to_string()).collect()
    };
    let tag = format!("{remote}:1.0");
    for args in [
        with(&["ls", &remote]),
        with(&["ls", &tag]),
        with(&["inspect", &tag]),
        with(&["select", &tag, "--platform", "linux/arm64"]),
        with(&["digest", &tag]),
        with(&["diff", &l, &tag]),
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = oix_run(&a);
        assert_eq!(code, 0, "{a:?}: {out}{err}");
        if a[0] == "digest" {
            assert_eq!(out, format!("{}\n", idx.digest));
        }
    }
    for (args, want) in [
        (
            vec!["ls", tag.as_str(), "--authfile", good.as_str()],
            "--ca-cert",
        ),
        (
            vec!["digest", tag.as_str(), "--ca-cert", ca.as_str()],
            "authentication required",
        ),
    ] {
        let (code, out, err) = oix_run(&args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains(secret) && !out.contains(secret));
    }
}
