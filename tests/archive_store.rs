//! Archives as stores: export is one copy into the archive sink (same bytes as before
//! the sink existed), docker-loadable exports, and archives read as sources.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// sha256 of the file `oix export ARGS -o FILE` writes.
fn export_digest(dir: &Path, args: &[&str]) -> String {
    let out = dir.join("out.tar");
    let _ = fs::remove_file(&out);
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.push("-o".into());
    a.push(out.display().to_string());
    oix(&a).ok();
    sha256_hex(&fs::read(&out).unwrap())
}

/// Exports of the bundled fixtures have exactly the bytes they had before export became
/// a copy into the archive sink (digests recorded from the export of 5139d00).
#[test]
fn export_through_the_archive_sink_keeps_the_bytes() {
    let t = tempfile::tempdir().unwrap();
    let f = fixtures();
    let at = |s: &str| f.join(s).display().to_string();
    for (want, args) in [
        (
            "3b83021105852a6f9ea3dc59da9979e73380d5f3ada456b87724a717c0d465b3",
            vec![at("single:latest")],
        ),
        (
            "9741f9da4e7754ae139681fa7e5906863bd2cc40d292785a34b7f54a2ad14b93",
            vec![at("multiarch:latest")],
        ),
        (
            "c1596f1058ca6715c86ef8e4cad18e24cabec81d80dc8d03a88f2095a217a5bc",
            vec![at("nested:latest")],
        ),
        (
            "1bd57bf7a8765d4e0a1a380d2e1acdb59bc360fb75faaf4724fa16685214d244",
            vec![at("attestation:latest")],
        ),
        (
            "d69f0c9daccd456ac1cc2628f46b94a3be81cb6d5f61f432385320d39210840b",
            vec![at("skopeo")],
        ),
        (
            "6d62a13cdd641c81332943f0b8d4b9a8d6eec471a9e320f7e16bb3e94c920d21",
            vec![
                at("multiarch:latest"),
                "--platform".into(),
                "linux/arm64".into(),
            ],
        ),
        (
            "56d2e4cd7eb7b2740f1b8a3cba1c13e38611d6562ed7fba66430324e7f528ebd",
            vec![
                at("attestation:latest"),
                "--platform".into(),
                "linux/amd64".into(),
            ],
        ),
        (
            "0ef5e2328a2ab8afe5cf34e3f148c0b8c9e6923f53c83cae4571f8f51ff60b65",
            vec![
                at("nested:latest"),
                "--platform".into(),
                "linux/arm64".into(),
            ],
        ),
        (
            "ff18ea28561cdec25eb7b130033ff4a985e8bf5c9f6d9f6f2e9a138ad84559b4",
            vec![at("skopeo"), "--compression".into(), "gzip".into()],
        ),
        (
            "d12a1b3410085f785010f6704a4fb21601269137f618ac04635f0b1083f14fc5",
            vec![at("skopeo"), "--compression".into(), "zstd".into()],
        ),
    ] {
        let a: Vec<&str> = std::iter::once("export")
            .chain(args.iter().map(String::as_str))
            .collect();
        assert_eq!(export_digest(t.path(), &a), want, "oix {}", a.join(" "));
    }
}

fn tar_member(tar: &Path, name: &str) -> Vec<u8> {
    let mut ar = tar::Archive::new(fs::File::open(tar).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_str() == Some(name) {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            return v;
        }
    }
    panic!("{name} is not in {}", tar.display());
}

/// `--format docker-archive` writes Docker's manifest.json beside the OCI layout files,
/// with the name in RepoTags and io.containerd.image.name; skopeo's docker-archive:
/// transport reads it and the copy passes fsck; the bytes are reproducible.
#[test]
fn docker_archive_exports_are_read_by_skopeo() {
    let Some(sk) = tool("skopeo") else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let single = at(&fixtures().join("single"), ":latest");
    let x = d.join("x.tar");
    let xs = x.display().to_string();
    oix(&[
        "export",
        &single,
        "--format",
        "docker-archive",
        "--name",
        "example.org/app:1.0",
        "-o",
        &xs,
    ])
    .ok();
    let m: serde_json::Value = serde_json::from_slice(&tar_member(&x, "manifest.json")).unwrap();
    let img = &m.as_array().unwrap()[0];
    assert_eq!(img["RepoTags"], serde_json::json!(["example.org/app:1.0"]));
    let manifest = blob_json(
        &fixtures().join("single"),
        &digest_of_ref(&fixtures().join("single"), "latest"),
    );
    let cfg = manifest["config"]["digest"]
        .as_str()
        .unwrap()
        .replace(':', "/");
    assert_eq!(img["Config"], format!("blobs/{cfg}"));
    assert_eq!(
        img["Layers"].as_array().unwrap().len(),
        manifest["layers"].as_array().unwrap().len()
    );
    let idx: serde_json::Value = serde_json::from_slice(&tar_member(&x, "index.json")).unwrap();
    let ann = &idx["manifests"][0]["annotations"];
    assert_eq!(ann["io.containerd.image.name"], "example.org/app:1.0");
    assert_eq!(ann["org.opencontainers.image.ref.name"], "1.0");
    // Same inputs, same bytes; the alias spellings give the same archive.
    let again = d.join("again.tar");
    let agains = format!("docker-archive:{}", again.display());
    oix(&[
        "export",
        &single,
        "--name",
        "example.org/app:1.0",
        "-o",
        &agains,
    ])
    .ok();
    assert_eq!(fs::read(&x).unwrap(), fs::read(&again).unwrap());
    let compat = d.join("compat.tar");
    oix(&[
        "export",
        &single,
        "--docker-compat",
        "--name",
        "example.org/app:1.0",
        "-o",
        &compat.display().to_string(),
    ])
    .ok();
    assert_eq!(fs::read(&x).unwrap(), fs::read(&compat).unwrap());
    // skopeo reads it as a docker-archive.
    let l = d.join("L");
    skopeo(
        &sk,
        &[
            "copy",
            &format!("docker-archive:{xs}"),
            &format!("oci:{}:t", l.display()),
        ],
    )
    .ok();
    assert_fsck_clean(&l);
    skopeo(&sk, &["inspect", &format!("docker-archive:{xs}")]).ok();
    // And oix imports it as the oci-archive it also is, under the tag.
    let i = d.join("I");
    oix(&["import", &xs, "-o", &at(&i, ":imported")]).ok();
    assert_eq!(
        digest_of_ref(&i, "imported"),
        digest_of_ref(&fixtures().join("single"), "latest")
    );

    // A multi-arch ref: --platform chooses the image of manifest.json, the OCI side
    // keeps the whole index.
    let multi = fixtures().join("multiarch");
    let y = d.join("y.tar");
    let ys = y.display().to_string();
    oix(&[
        "export",
        &at(&multi, ":latest"),
        "--format",
        "docker-archive",
        "--platform",
        "linux/arm64",
        "--name",
        "app:2",
        "-o",
        &ys,
    ])
    .ok();
    let idx: serde_json::Value = serde_json::from_slice(&tar_member(&y, "index.json")).unwrap();
    assert_eq!(
        idx["manifests"][0]["digest"].as_str().unwrap(),
        digest_of_ref(&multi, "latest")
    );
    assert_eq!(
        idx["manifests"][0]["annotations"]["io.containerd.image.name"],
        "docker.io/library/app:2"
    );
    let m2 = d.join("M");
    skopeo(
        &sk,
        &[
            "copy",
            &format!("docker-archive:{ys}"),
            &format!("oci:{}:t", m2.display()),
        ],
    )
    .ok();
    assert_fsck_clean(&m2);
    let got = blob_json(&m2, &digest_of_ref(&m2, "t"));
    let cfg = blob_json(&m2, got["config"]["digest"].as_str().unwrap());
    assert_eq!(cfg["architecture"], "arm64");
    let all = d.join("ALL");
    skopeo(
        &sk,
        &[
            "copy",
            "--all",
            &format!("oci-archive:{ys}"),
            &format!("oci:{}:t", all.display()),
        ],
    )
    .ok();
    assert_eq!(digest_of_ref(&all, "t"), digest_of_ref(&multi, "latest"));
}

/// `docker load` reads a docker-archive export. Docker is not one of the gated interop
/// tools (no daemon on CI machines): without a reachable daemon this test prints SKIP
/// and passes, also under CI.
#[test]
fn docker_load_reads_a_docker_archive_export() {
    let reachable = std::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !reachable {
        eprintln!(
            "SKIP: no docker daemon reachable (`docker info` fails); docker is not a gated tool"
        );
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let x = t.path().join("x.tar");
    let name = format!("oix-test/docker-load:{}", std::process::id());
    oix(&[
        "export",
        &at(&fixtures().join("multiarch"), ":latest"),
        "--format",
        "docker-archive",
        "--platform",
        "linux/amd64",
        "--name",
        &name,
        "-o",
        &x.display().to_string(),
    ])
    .ok();
    let out = std::process::Command::new("docker")
        .args(["load", "-i"])
        .arg(&x)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&name));
    let _ = std::process::Command::new("docker")
        .args(["rmi", &name])
        .output();
}

/// Refusals leave no output file: a zstd layer (unless --allow-zstd), a multi-arch ref
/// without --platform, a platform the index lacks, a bad --name, two refs, --name
/// without docker-archive.
#[test]
fn docker_archive_refusals_are_clear_and_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::create_dir_all(d.join("tree/etc")).unwrap();
    fs::write(d.join("tree/etc/motd"), b"hello\n").unwrap();
    let l = d.join("L");
    oix(&[
        "build",
        &d.join("tree").display().to_string(),
        "-o",
        &at(&l, ":z"),
        "--platform",
        "linux/amd64",
        "--compression",
        "zstd",
    ])
    .ok();
    let out = d.join("out.tar");
    let outs = out.display().to_string();
    let multi = at(&fixtures().join("multiarch"), ":latest");
    let single = at(&fixtures().join("single"), ":latest");
    let zstd = at(&l, ":z");
    let two_refs = fixtures().join("skopeo").display().to_string();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec![&zstd, "--format", "docker-archive"], 2, "zstd layer"),
        (vec![&multi, "--format", "docker-archive"], 2, "--platform"),
        (
            vec![
                &multi,
                "--format",
                "docker-archive",
                "--platform",
                "windows/amd64",
            ],
            3,
            "platforms in",
        ),
        (
            vec![&single, "--format", "docker-archive", "--name", "App:1"],
            2,
            "--name",
        ),
        (
            vec![&single, "--format", "docker-archive", "--name", "app"],
            2,
            "no tag",
        ),
        (
            vec![
                &single,
                "--format",
                "docker-archive",
                "--name",
                "app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ],
            2,
            "--name",
        ),
        (
            vec![&two_refs, "--format", "docker-archive"],
            2,
            "one image",
        ),
        (vec![&single, "--name", "app:1"], 2, "docker-archive"),
    ];
    let cases: Vec<(Vec<String>, i32, &str)> = cases
        .into_iter()
        .map(|(a, c, m)| (a.into_iter().map(str::to_string).collect(), c, m))
        .collect();
    for (args, code, needle) in cases {
        let mut a = vec!["export".to_string()];
        a.extend(args);
        a.extend(["-o".to_string(), outs.clone()]);
        oix(&a).fails_with(code).stderr_contains(needle);
        assert!(!out.exists(), "oix {} left {}", a.join(" "), out.display());
    }
    // Accepted on request.
    oix(&[
        "export",
        &at(&l, ":z"),
        "--format",
        "docker-archive",
        "--allow-zstd",
        "-o",
        &outs,
    ])
    .ok();
    let m: serde_json::Value = serde_json::from_slice(&tar_member(&out, "manifest.json")).unwrap();
    assert_eq!(m[0]["RepoTags"], serde_json::Value::Null);
}

/// Archives are read stores: `oix copy` reads an oci-archive (any ref, a platform
/// subset) and a docker-archive (made by skopeo, by name) into a layout with the same
/// digests as the one copy would give from a layout; the staging directory is gone
/// afterwards; an archive copied into another archive has the bytes of an export.
#[test]
fn archives_are_copy_sources() {
    let Some(sk) = tool("skopeo") else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let skf = fixtures().join("skopeo");
    let s = d.join("s.tar.gz");
    let ss = s.display().to_string();
    oix(&["export", &skf.display().to_string(), "-o", &ss]).ok();
    let c = d.join("C");
    oix(&["copy", &format!("oci-archive:{ss}:multi"), &at(&c, ":m")]).ok();
    oix(&["copy", &format!("oci-archive:{ss}:v1"), &at(&c, ":v1")]).ok();
    assert_eq!(digest_of_ref(&c, "m"), digest_of_ref(&skf, "multi"));
    assert_eq!(digest_of_ref(&c, "v1"), digest_of_ref(&skf, "v1"));
    oix(&[
        "copy",
        "--platform",
        "linux/arm64",
        &format!("oci-archive:{ss}:multi"),
        &at(&c, ":arm"),
    ])
    .ok();
    let arm = blob_json(&c, &digest_of_ref(&c, "arm"));
    assert_eq!(arm["manifests"][0]["platform"]["architecture"], "arm64");
    assert_fsck_clean(&c);
    // A docker-archive written by skopeo, chosen by its RepoTag.
    let dk = d.join("dk.tar");
    skopeo(
        &sk,
        &[
            "copy",
            &format!("oci:{}:v1", skf.display()),
            &format!("docker-archive:{}:foo/bar:2", dk.display()),
        ],
    )
    .ok();
    oix(&[
        "copy",
        &format!("docker-archive:{}:foo/bar:2", dk.display()),
        &at(&c, ":dk"),
    ])
    .ok();
    assert_fsck_clean(&c);
    // Nothing staged is left beside the archives.
    let left: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oix-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A missing ref: no match, nothing named.
    oix(&["copy", &format!("oci-archive:{ss}:nope"), &at(&c, ":x")]).fails_with(3);
    // An archive read as a source is copied into another archive: the bytes of
    // exporting the same ref from the layout the archive was made from.
    let out = d.join("out.tar");
    oix(&[
        "copy",
        &format!("oci-archive:{ss}:multi"),
        &format!("oci-archive:{}", out.display()),
    ])
    .ok();
    let m = d.join("m.tar");
    oix(&[
        "export",
        &at(&skf, ":multi"),
        "-o",
        &m.display().to_string(),
    ])
    .ok();
    assert_eq!(file_sha(&out), file_sha(&m));
}

/// sha256 of a file.
fn file_sha(p: &Path) -> String {
    sha256_hex(&fs::read(p).unwrap())
}

/// Archives are copy destinations (issue 14): `oix copy SRC oci-archive:FILE` writes
/// the bytes `oix export` writes for the same content and options (whole, a platform
/// subset, gzip, docker-loadable with a chosen image and name), blob outcomes are
/// `copied`, `--digestfile` names the root; a dry run, a refused copy and a bad
/// destination leave no file; an existing file is replaced (as export does).
#[test]
fn archives_are_copy_destinations_with_the_bytes_of_export() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let skf = fixtures().join("skopeo");
    let f = |s: &str| format!("{}{s}", skf.display());
    let p = |n: &str| d.join(n);
    let s = |n: &str| d.join(n).display().to_string();
    let cases: [(&[&str], &[&str], &str); 5] = [
        (&["export", &f(":multi")], &["copy", &f(":multi")], "a.tar"),
        (
            &["export", &f(":multi")],
            &["copy", &f(":multi")],
            "a.tar.gz",
        ),
        (
            &[
                "export",
                &f(":multi"),
                "--platform",
                "linux/arm64",
                "--platform",
                "linux/s390x",
            ],
            &[
                "copy",
                &f(":multi"),
                "--platform",
                "linux/arm64",
                "--platform",
                "linux/s390x",
            ],
            "sub.tar",
        ),
        (
            &[
                "export",
                &f(":multi"),
                "--where",
                "mediaType~=manifest",
                "--platform",
                "linux/amd64",
            ],
            &[
                "copy",
                &f(":multi"),
                "--where",
                "mediaType~=manifest",
                "--platform",
                "linux/amd64",
            ],
            "where.tar.zst",
        ),
        (&["export", &f(":v1")], &["copy", &f(":v1")], "v1.tar"),
    ];
    for (export, copy, name) in cases {
        let e = p(&format!("e-{name}"));
        let mut a: Vec<String> = export.iter().map(|x| x.to_string()).collect();
        a.extend(["-o".to_string(), e.display().to_string()]);
        oix(&a).ok();
        let c = p(&format!("c-{name}"));
        let mut a: Vec<String> = copy.iter().map(|x| x.to_string()).collect();
        a.push(format!("oci-archive:{}", c.display()));
        oix(&a).ok();
        assert_eq!(file_sha(&e), file_sha(&c), "{copy:?} vs {export:?}");
    }
    // docker-loadable: --platform chooses the image, REPO:TAG names it.
    oix(&[
        "export",
        &f(":multi"),
        "--format",
        "docker-archive",
        "--platform",
        "linux/arm64",
        "--name",
        "example.org/app:1.0",
        "-o",
        &s("de.tar"),
    ])
    .ok();
    oix(&[
        "copy",
        &f(":multi"),
        "--platform",
        "linux/arm64",
        &format!("docker-archive:{}:example.org/app:1.0", s("dc.tar")),
    ])
    .ok();
    assert_eq!(file_sha(&p("de.tar")), file_sha(&p("dc.tar")));
    oix(&[
        "export",
        &f(":v1"),
        "--format",
        "docker-archive",
        "-o",
        &s("de1.tar"),
    ])
    .ok();
    oix(&[
        "copy",
        &f(":v1"),
        &format!("docker-archive:{}", s("dc1.tar")),
    ])
    .ok();
    assert_eq!(file_sha(&p("de1.tar")), file_sha(&p("dc1.tar")));

    // --json: every blob copied into the archive; the file's digest; --digestfile.
    let j = oix(&[
        "--json",
        "copy",
        &f(":multi"),
        &format!("oci-archive:{}:rel", s("j.tar")),
        "--digestfile",
        &s("digest"),
    ])
    .ok()
    .json();
    let root = digest_of_ref(&skf, "multi");
    assert_eq!(j["digest"], root.as_str());
    assert_eq!(fs::read_to_string(p("digest")).unwrap(), root);
    assert_eq!(j["name"]["name"], "rel");
    assert_eq!(
        j["archive"]["digest"],
        format!("sha256:{}", file_sha(&p("j.tar")))
    );
    let blobs = j["blobs"].as_array().unwrap();
    assert!(!blobs.is_empty());
    assert!(blobs.iter().all(|b| b["outcome"] == "copied"), "{blobs:?}");
    // The archive reads back: the named root, complete.
    let back = p("back");
    oix(&["import", &s("j.tar"), "-o", &at(&back, ":rel")]).ok();
    assert_eq!(digest_of_ref(&back, "rel"), root);
    assert_fsck_clean(&back);

    // A dry run writes nothing.
    oix(&[
        "copy",
        "--dry-run",
        &f(":multi"),
        &format!("oci-archive:{}", s("dry.tar")),
    ])
    .ok();
    assert!(!p("dry.tar").exists());
    // A refused copy (a docker-archive of a multi-arch index without --platform)
    // leaves no file, and no temp file beside it.
    oix(&[
        "copy",
        &f(":multi"),
        &format!("docker-archive:{}", s("no.tar")),
    ])
    .fails_with(2)
    .stderr_contains("--platform");
    assert!(!p("no.tar").exists());
    // A missing directory or a directory as the file: usage errors.
    oix(&[
        "copy",
        &f(":v1"),
        &format!("oci-archive:{}", s("nodir/x.tar")),
    ])
    .fails_with(2);
    oix(&["copy", &f(":v1"), &format!("oci-archive:{}", s("back"))]).fails_with(2);
    // A docker-archive's name is REPO:TAG.
    oix(&[
        "copy",
        &f(":v1"),
        &format!("docker-archive:{}:1.0", s("n.tar")),
    ])
    .fails_with(2)
    .stderr_contains("REPO:TAG");
    assert!(!p("n.tar").exists());
    // A corrupt source blob is found while the archive is written: the copy fails and
    // leaves neither the file nor a temp file (nor changes an existing file).
    let bad = p("bad");
    copy_tree(&skf, &bad);
    let cfg = blob_json(&bad, &digest_of_ref(&bad, "v1"))["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob_file = bad.join("blobs/sha256").join(&cfg[7..]);
    let mut bytes = fs::read(&blob_file).unwrap();
    bytes[0] ^= 0xff;
    fs::remove_file(&blob_file).unwrap();
    fs::write(&blob_file, &bytes).unwrap();
    oix(&[
        "copy",
        &at(&bad, ":v1"),
        &format!("oci-archive:{}", s("corrupt.tar")),
    ])
    .fails();
    assert!(!p("corrupt.tar").exists());
    fs::write(p("keep.tar"), b"keep").unwrap();
    oix(&[
        "copy",
        &at(&bad, ":v1"),
        &format!("oci-archive:{}", s("keep.tar")),
    ])
    .fails();
    assert_eq!(fs::read(p("keep.tar")).unwrap(), b"keep");
    // An existing file is replaced whole, as export replaces it.
    fs::write(p("old.tar"), b"old").unwrap();
    oix(&["copy", &f(":v1"), &format!("oci-archive:{}", s("old.tar"))]).ok();
    assert_eq!(file_sha(&p("old.tar")), file_sha(&p("c-v1.tar")));
    let left: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oix-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A failed import leaves the target as it was: the archive is staged beside it, so
/// not even unreferenced blobs land in the target.
#[test]
fn a_refused_import_leaves_the_target_untouched() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let target = d.join("T");
    oix(&[
        "import",
        &at(&fixtures().join("single"), ":latest"),
        "-o",
        &at(&target, ":one"),
    ])
    .ok();
    let before = tree_hash(&target);
    let x = d.join("x.tar");
    oix(&[
        "export",
        &at(&fixtures().join("multiarch"), ":latest"),
        "-o",
        &x.display().to_string(),
    ])
    .ok();
    // Cut the archive short: every blob that arrived before the cut was verified, but
    // the graph is incomplete.
    let bytes = fs::read(&x).unwrap();
    fs::write(&x, &bytes[..bytes.len() / 2]).unwrap();
    oix(&[
        "import",
        &x.display().to_string(),
        "-o",
        &at(&target, ":two"),
    ])
    .fails();
    assert_eq!(tree_hash(&target), before);
    assert!(fs::read_dir(d).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".oix-tmp")));
}

/// SIGKILL while `oix copy` writes an archive: the file is either absent or whole (the
/// bytes of export), never partial, and an existing file is either the old one or the
/// new one; the next write into the directory removes the killed writers' temp files.
#[test]
fn a_killed_copy_into_an_archive_leaves_no_partial_file() {
    use std::os::unix::process::ExitStatusExt;
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let src = d.join("src");
    let (l, _) = oix::Layout::init(&src).unwrap();
    // A 24 MiB layer: writing the archive takes long enough to be interrupted.
    let mut rng = Rng(7);
    let layer: Vec<u8> = (0..24 << 20).map(|_| rng.next() as u8).collect();
    let img = tiny_image(&l, "amd64", &layer);
    l.transact(|idx| {
        oix::tags::set_ref(idx, &img, "v1")?;
        Ok(())
    })
    .unwrap();
    let want = d.join("want.tar");
    oix(&[
        "export",
        &at(&src, ":v1"),
        "-o",
        &want.display().to_string(),
    ])
    .ok();
    let want = sha256_hex(&fs::read(&want).unwrap());
    let out = d.join("out").join("a.tar");
    fs::create_dir(d.join("out")).unwrap();
    let dest = format!("oci-archive:{}", out.display());
    let mut killed = 0;
    for (i, delay) in [5u64, 20, 40, 60, 80, 120, 160, 240]
        .into_iter()
        .enumerate()
    {
        if i == 4 {
            // From here on an older file exists: it stays whole until replaced.
            fs::write(&out, b"old").unwrap();
        }
        let mut child = oix_cmd(["copy", &at(&src, ":v1"), &dest])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.signal() == Some(9) {
            killed += 1;
        }
        match fs::read(&out) {
            Err(_) => assert!(i < 4, "the old file is gone after a kill at {delay} ms"),
            Ok(b) if b == b"old" => {}
            Ok(b) => assert_eq!(sha256_hex(&b), want, "a partial archive after {delay} ms"),
        }
    }
    assert!(killed > 0, "no copy was killed while it ran");
    // The next write removes what the killed writers left.
    oix(&["copy", &at(&src, ":v1"), &dest]).ok();
    assert_eq!(sha256_hex(&fs::read(&out).unwrap()), want);
    let left: Vec<String> = fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "a.tar")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
