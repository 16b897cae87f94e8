//! Issue 4: index authoring and merging inside layouts — the release-pipeline scenarios
//! (Fedora compose, TripleO per-arch pipelines, OBS/kiwi), modes, bad input, determinism.

mod common;

use common::*;
use oix::model::{media, Descriptor};
use oix::Layout;
use std::path::{Path, PathBuf};

/// The platforms (os/arch[/variant]) and digests of the index DIR:REF, in order.
fn entries(dir: &Path, r: &str) -> Vec<(String, String, serde_json::Value)> {
    let idx = blob_json(dir, &digest_of_ref(dir, r));
    idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            let mut s = format!(
                "{}/{}",
                p["os"].as_str().unwrap_or("?"),
                p["architecture"].as_str().unwrap_or("?")
            );
            if let Some(v) = p["variant"].as_str() {
                s.push('/');
                s.push_str(v);
            }
            (
                s,
                m["digest"].as_str().unwrap().to_string(),
                m["annotations"].clone(),
            )
        })
        .collect()
}

fn skopeo_copy_all(dir: &Path, r: &str) {
    let Some(sk) = tool("skopeo") else { return };
    let out = tempfile::tempdir().unwrap();
    let dst = format!("oci:{}:{r}", out.path().join("copy").display());
    skopeo(
        &sk,
        &[
            "copy",
            "--all",
            "--preserve-digests",
            &format!("oci:{}:{r}", dir.display()),
            &dst,
        ],
    )
    .ok();
    // The copy holds the same index bytes.
    assert_eq!(
        digest_of_ref(&out.path().join("copy"), r),
        digest_of_ref(dir, r),
        "skopeo changed the index"
    );
}

const FEDORA_ARCHES: [&str; 4] = ["linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"];

/// DEST:40 holding four arches, and a new compose that built only amd64 and arm64.
fn fedora() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("compose-old");
    let new = t.path().join("compose-new");
    let dest = t.path().join("dest");
    let mut srcs = Vec::new();
    for p in FEDORA_ARCHES {
        let tag = p.replace('/', "-");
        arch_image(&old, &tag, p, "old");
        srcs.push(format!("{}:{tag}", old.display()));
    }
    let mut args = vec!["index".to_string(), "create".into(), at(&dest, ":40")];
    args.extend(srcs);
    oix(&args).ok();
    let mut new_srcs = Vec::new();
    for p in &FEDORA_ARCHES[..2] {
        let tag = p.replace('/', "-");
        arch_image(&new, &tag, p, "new");
        new_srcs.push(format!("{}:{tag}", new.display()));
    }
    (t, dest, new_srcs)
}

#[test]
fn fedora_require_all_refuses_and_leaves_dest_byte_for_byte() {
    let (_t, dest, new) = fedora();
    let before = tree_hash(&dest);
    let mut args = vec!["merge".to_string(), at(&dest, ":40")];
    args.extend(new.clone());
    args.extend(["--policy".into(), "require-all".into()]);
    let r = oix(&args).fails_with(5);
    let err = r.all_output();
    assert!(
        err.contains("linux/ppc64le") && err.contains("linux/s390x"),
        "{err}"
    );
    assert_eq!(before, tree_hash(&dest), "require-all wrote something");
    // --expect names a platform nobody has: refused as well, listing it.
    let mut args = vec!["merge".to_string(), at(&dest, ":40")];
    args.extend(new);
    args.extend([
        "--policy".into(),
        "union".into(),
        "--expect".into(),
        "linux/riscv64,linux/amd64".into(),
    ]);
    oix(&args).fails_with(5).stderr_contains("linux/riscv64");
    assert_eq!(before, tree_hash(&dest));
}

#[test]
fn fedora_keep_missing_builds_the_hybrid_index() {
    let (_t, dest, new) = fedora();
    let old = entries(&dest, "40");
    let old_index = digest_of_ref(&dest, "40");
    let mut args = vec!["merge".to_string(), at(&dest, ":40")];
    args.extend(new);
    args.extend(["--policy".into(), "keep-missing".into()]);
    oix(&args).ok();
    let now = entries(&dest, "40");
    let plats: Vec<&str> = now.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(plats, FEDORA_ARCHES);
    // amd64 and arm64 are the new builds; ppc64le and s390x are the old ones, marked.
    for i in 0..2 {
        assert_ne!(now[i].1, old[i].1);
        assert!(now[i].2.get("dev.oix.merge.carried-from").is_none());
    }
    for i in 2..4 {
        assert_eq!(now[i].1, old[i].1);
        assert_eq!(
            now[i].2["dev.oix.merge.carried-from"],
            format!("40@{old_index}")
        );
    }
    assert_fsck_clean(&dest);
    skopeo_copy_all(&dest, "40");
}

#[test]
fn fedora_replace_gives_exactly_the_new_platforms() {
    let (_t, dest, new) = fedora();
    let mut args = vec!["merge".to_string(), at(&dest, ":40")];
    args.extend(new);
    args.extend(["--policy".into(), "replace".into()]);
    oix(&args).ok();
    let plats: Vec<String> = entries(&dest, "40").into_iter().map(|e| e.0).collect();
    assert_eq!(plats, ["linux/amd64", "linux/arm64"]);
    assert_fsck_clean(&dest);
    skopeo_copy_all(&dest, "40");
}

#[test]
fn tripleo_concurrent_per_arch_pipelines_never_lose_an_arch() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("layout");
    let arches = ["linux/amd64", "linux/ppc64le", "linux/arm64", "linux/s390x"];
    for (round, salt) in ["r1", "r2", "r3"].iter().enumerate() {
        for p in arches {
            let arch = p.split('/').nth(1).unwrap();
            arch_image(&l, &format!("neutron_{arch}"), p, salt);
        }
        // Four pipelines at once, started in a different order each round.
        let mut kids = Vec::new();
        for i in 0..4 {
            let arch = arches[(i + round) % 4].split('/').nth(1).unwrap();
            let mut c = oix_cmd([
                "index".to_string(),
                "add".into(),
                at(&l, ":neutron"),
                at(&l, &format!(":neutron_{arch}")),
            ]);
            kids.push(c.spawn().unwrap());
        }
        for mut k in kids {
            assert!(k.wait().unwrap().success());
        }
        let e = entries(&l, "neutron");
        assert_eq!(e.len(), 4, "round {round}: {e:?}");
        for p in arches {
            let arch = p.split('/').nth(1).unwrap();
            let want = digest_of_ref(&l, &format!("neutron_{arch}"));
            assert!(
                e.iter().any(|(pp, d, _)| pp == p && *d == want),
                "round {round}: {p} is not the latest build"
            );
        }
    }
    assert_fsck_clean(&l);
    skopeo_copy_all(&l, "neutron");
}

#[test]
fn obs_kiwi_per_arch_layouts_merge_into_one_with_hard_links() {
    let t = tempfile::tempdir().unwrap();
    let mut srcs = Vec::new();
    for p in [
        "linux/amd64",
        "linux/arm64/v8",
        "linux/ppc64le",
        "linux/s390x",
    ] {
        let dir = t.path().join(format!("kiwi-{}", p.replace('/', "-")));
        arch_image(&dir, "image", p, "kiwi");
        srcs.push(format!("{}:image", dir.display()));
    }
    let out = t.path().join("out");
    let mut args = vec![
        "merge".to_string(),
        at(&out, ":15.6"),
        "--policy".into(),
        "union".into(),
    ];
    args.extend(srcs.clone());
    args.extend([
        "--annotation".into(),
        "org.opencontainers.image.version=15.6".into(),
    ]);
    let r = oix(&args).ok();
    assert!(
        r.stdout_str().starts_with("sha256:"),
        "digest first: {}",
        r.stdout_str()
    );
    let idx = blob_json(&out, &digest_of_ref(&out, "15.6"));
    assert_eq!(
        idx["annotations"]["org.opencontainers.image.version"],
        "15.6"
    );
    // The variant the source wrote (arm64/v8) is kept as written.
    assert_eq!(idx["manifests"][1]["platform"]["variant"], "v8");
    // Layers and configs are shared with the sources (hard links), not copied.
    use std::os::unix::fs::MetadataExt;
    let src_dir = t.path().join("kiwi-linux-amd64");
    let man = blob_json(&src_dir, &digest_of_ref(&src_dir, "image"));
    for blob in [&man["config"], &man["layers"][0]] {
        let rel = blob["digest"].as_str().unwrap().replace(':', "/");
        let a = src_dir.join("blobs").join(&rel).metadata().unwrap().ino();
        let b = out.join("blobs").join(&rel).metadata().unwrap().ino();
        assert_eq!(a, b, "{rel} was copied, not linked");
    }
    assert_fsck_clean(&out);
    skopeo_copy_all(&out, "15.6");
    // Same inputs, same bytes: a second merge elsewhere gives the same digest.
    let out2 = t.path().join("out2");
    args[1] = at(&out2, ":15.6");
    oix(&args).ok();
    assert_eq!(digest_of_ref(&out, "15.6"), digest_of_ref(&out2, "15.6"));
    // Re-running is a no-op.
    args[1] = at(&out, ":15.6");
    let before = std::fs::read(out.join("index.json")).unwrap();
    args.push("--detailed-exitcode".into());
    oix(&args).ok();
    assert_eq!(before, std::fs::read(out.join("index.json")).unwrap());
}

#[test]
fn add_modes_and_platform_normalization() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("l");
    arch_image(&l, "a1", "linux/arm64", "1");
    arch_image(&l, "a2", "linux/arm64/v8", "2");
    oix(&["index", "add", &at(&l, ":multi"), &at(&l, ":a1")]).ok();
    // arm64/v8 is arm64: --mode fail refuses (exit 5), nothing written.
    let before = tree_hash(&l);
    oix(&[
        "index",
        "add",
        "--mode",
        "fail",
        &at(&l, ":multi"),
        &at(&l, ":a2"),
    ])
    .fails_with(5);
    assert_eq!(before, tree_hash(&l));
    // replace (default): one entry, the new one.
    oix(&["index", "add", &at(&l, ":multi"), &at(&l, ":a2")]).ok();
    let e = entries(&l, "multi");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].1, digest_of_ref(&l, "a2"));
    // append: both kept on purpose.
    oix(&[
        "index",
        "add",
        "--mode",
        "append",
        &at(&l, ":multi"),
        &at(&l, ":a1"),
    ])
    .ok();
    assert_eq!(entries(&l, "multi").len(), 2);
    // Platform override by SRC=PLATFORM and by --platform, normalized (x86_64 = amd64).
    // a1 is an arm64 image: a platform its config contradicts is refused (exit 2,
    // nothing written) unless forced.
    let before = tree_hash(&l);
    oix(&[
        "index",
        "add",
        &at(&l, ":multi"),
        &format!("{}=linux/x86_64", at(&l, ":a1")),
    ])
    .fails_with(2)
    .stderr_contains("entry says linux/amd64 but its config says linux/arm64")
    .stderr_contains("--force-platform");
    assert_eq!(before, tree_hash(&l));
    oix(&[
        "index",
        "add",
        &at(&l, ":multi"),
        &format!("{}=linux/x86_64", at(&l, ":a1")),
        "--force-platform",
    ])
    .ok();
    let e = entries(&l, "multi");
    assert_eq!(e.last().unwrap().0, "linux/amd64");
    assert_fsck_clean(&l);
}

#[test]
fn attestations_travel_with_their_entry() {
    let (_t, l) = copy_fixture("attestation");
    let old = entries(&l, "latest");
    assert!(old.iter().any(|e| e.0 == "unknown/unknown"));
    let amd64_old = old.iter().find(|e| e.0 == "linux/amd64").unwrap().1.clone();
    arch_image(&l, "new_amd64", "linux/amd64", "rebuilt");
    oix(&["index", "add", &at(&l, ":latest"), &at(&l, ":new_amd64")]).ok();
    let idx = blob_json(&l, &digest_of_ref(&l, "latest"));
    let refs: Vec<&str> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"]["vnd.docker.reference.digest"].as_str())
        .collect();
    assert!(
        !refs.contains(&amd64_old.as_str()),
        "the replaced entry's attestation stayed"
    );
    assert_eq!(
        old.iter().filter(|e| e.0 == "unknown/unknown").count() - 1,
        refs.len(),
        "other attestations must stay"
    );
    // Attestations come after the runnable entries.
    let last = idx["manifests"].as_array().unwrap().last().unwrap();
    assert!(last["annotations"]["vnd.docker.reference.type"].is_string() || refs.is_empty());
    assert_fsck_clean(&l);
}

#[test]
fn nested_and_flattened_index_sources() {
    let (_t, l) = copy_fixture("multiarch");
    let n = l.parent().unwrap().join("n");
    oix(&["index", "create", &at(&n, ":nested"), &at(&l, ":latest")]).ok();
    let idx = blob_json(&n, &digest_of_ref(&n, "nested"));
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(idx["manifests"][0]["mediaType"], media::OCI_INDEX);
    oix(&[
        "index",
        "create",
        "--flatten",
        &at(&n, ":flat"),
        &at(&l, ":latest"),
    ])
    .ok();
    assert_eq!(entries(&n, "flat").len(), 5);
    assert_fsck_clean(&n);
}

#[test]
fn bad_sources_are_refused_with_nothing_written() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("l");
    arch_image(&l, "img", "linux/amd64", "x");
    // An image whose config has no platform.
    let lay = Layout::open(&l).unwrap();
    let cfg = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = lay.write_blob_bytes(cfg).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len()
    );
    let md = lay.write_blob_bytes(man.as_bytes()).unwrap();
    oix::tags::tag(
        &lay,
        &Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64),
        &["noplat".into()],
    )
    .unwrap();
    oix(&["index", "create", &at(&l, ":x"), &at(&l, ":img")]).ok();
    let (_m, multi) = copy_fixture("multiarch");
    arch_image(&l, "img2", "linux/amd64", "y");
    let before = tree_hash(&l);
    let src = at(&l, ":noplat");
    oix(&["index", "add", &at(&l, ":x"), &src])
        .fails_with(1)
        .stderr_contains("noplat");
    oix(&[
        "index",
        "add",
        &at(&l, ":x"),
        &format!("{}=linux/arm64", at(&l, ":img")),
        "--platform",
        "linux/s390x",
    ])
    .fails_with(2)
    .stderr_contains("conflicting");
    oix(&[
        "index",
        "add",
        &at(&l, ":x"),
        &format!("{}=linux/arm64", at(&multi, ":latest")),
    ])
    .fails_with(2)
    .stderr_contains("needs an image");
    oix(&["index", "add", &at(&l, ":x"), &at(&l, ":nope")])
        .fails_with(3)
        .stderr_contains("nope");
    oix(&["index", "add", &l.display().to_string(), &at(&l, ":img")]).fails_with(2);
    oix(&[
        "index",
        "create",
        &at(&l, ":y"),
        &at(&l, ":img"),
        &at(&l, ":img2"),
    ])
    .fails_with(2);
    assert_eq!(before, tree_hash(&l));
    // The platform override rescues the platform-less image.
    oix(&[
        "index",
        "add",
        &at(&l, ":x"),
        &format!("{src}=linux/riscv64"),
    ])
    .ok();
}

#[test]
fn dry_run_diff_and_detailed_exitcode() {
    let (_t, dest, new) = fedora();
    let before = tree_hash(&dest);
    let mut args = vec!["--json".to_string(), "merge".into(), at(&dest, ":40")];
    args.extend(new.clone());
    args.extend([
        "--policy".into(),
        "replace".into(),
        "--dry-run".into(),
        "--detailed-exitcode".into(),
    ]);
    let r = oix(&args).exits(6);
    let j = r.json();
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["diff"]["removed"].as_array().unwrap().len(), 2);
    assert_eq!(j["diff"]["changed"].as_array().unwrap().len(), 2);
    assert_eq!(before, tree_hash(&dest));
    // oix diff between two refs.
    let old = digest_of_ref(&dest, "40");
    args.retain(|a| a != "--dry-run" && a != "--detailed-exitcode" && a != "--json");
    oix(&args).ok();
    let d = oix(&[
        "--json",
        "diff",
        &format!("{}@{old}", dest.display()),
        &at(&dest, ":40"),
    ])
    .ok()
    .json();
    let removed: Vec<&str> = d["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["platform"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["linux/ppc64le", "linux/s390x"]);
    oix(&[
        "diff",
        "--detailed-exitcode",
        &at(&dest, ":40"),
        &at(&dest, ":40"),
    ])
    .ok();
}

#[test]
fn created_timestamp_only_when_asked() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("l");
    arch_image(&l, "img", "linux/amd64", "x");
    oix(&["index", "create", &at(&l, ":plain"), &at(&l, ":img")]).ok();
    assert!(blob_json(&l, &digest_of_ref(&l, "plain"))["annotations"].is_null());
    let mut c = oix_cmd(["index", "create", &at(&l, ":dated"), &at(&l, ":img")]);
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    run(c).ok();
    assert_eq!(
        blob_json(&l, &digest_of_ref(&l, "dated"))["annotations"]
            ["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn obs_kiwi_version_annotation_per_entry_and_rm() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let mut args = vec![
        "merge".to_string(),
        at(&out, ":latest"),
        "--policy".into(),
        "union".into(),
    ];
    for (p, v) in [
        ("linux/amd64", "1.1"),
        ("linux/arm64", "1.2"),
        ("linux/s390x", "1.3"),
    ] {
        let dir = t.path().join(p.replace('/', "-"));
        arch_image(&dir, "image", p, v);
        args.push(format!("{}:image", dir.display()));
    }
    oix(&args).ok();
    for (p, v) in [
        ("linux/amd64", "1.1"),
        ("linux/arm64", "1.2"),
        ("linux/s390x", "1.3"),
    ] {
        oix(&[
            "annotate",
            &at(&out, ":latest"),
            "--platform",
            p,
            "--set",
            &format!("org.opencontainers.image.version={v}"),
        ])
        .ok();
    }
    let e = entries(&out, "latest");
    let versions: Vec<&str> = e
        .iter()
        .map(|x| x.2["org.opencontainers.image.version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.1", "1.2", "1.3"]);
    // Annotation on the index itself; children unaffected.
    oix(&[
        "annotate",
        &at(&out, ":latest"),
        "--set",
        "org.opencontainers.image.title=demo",
    ])
    .ok();
    let idx = blob_json(&out, &digest_of_ref(&out, "latest"));
    assert_eq!(idx["annotations"]["org.opencontainers.image.title"], "demo");
    // Dry-run rm writes nothing; rm removes; a selector is required.
    let before = tree_hash(&out);
    oix(&[
        "index",
        "rm",
        "--dry-run",
        "--detailed-exitcode",
        &at(&out, ":latest"),
        "--platform",
        "linux/s390x",
    ])
    .exits(6);
    assert_eq!(before, tree_hash(&out));
    oix(&["index", "rm", &at(&out, ":latest")]).fails_with(2);
    oix(&[
        "index",
        "rm",
        &at(&out, ":latest"),
        "--platform",
        "linux/s390x",
    ])
    .ok();
    assert_eq!(entries(&out, "latest").len(), 2);
    oix(&[
        "index",
        "rm",
        &at(&out, ":latest"),
        "--platform",
        "linux/riscv64",
    ])
    .fails_with(3);
    assert_fsck_clean(&out);
    skopeo_copy_all(&out, "latest");
}

#[test]
fn annotate_manifest_rewrites_parents_and_attestation_links() {
    let (_t, l) = copy_fixture("attestation");
    let before = entries(&l, "latest");
    let old_arm = before
        .iter()
        .find(|e| e.0 == "linux/arm64")
        .unwrap()
        .1
        .clone();
    oix(&[
        "annotate",
        &at(&l, ":latest"),
        "--platform",
        "linux/arm64",
        "--manifest",
        "--set",
        "org.opencontainers.image.revision=abc123",
    ])
    .ok();
    let idx = blob_json(&l, &digest_of_ref(&l, "latest"));
    let list = idx["manifests"].as_array().unwrap();
    let arm = list
        .iter()
        .find(|m| m["platform"]["architecture"] == "arm64")
        .unwrap();
    let new_arm = arm["digest"].as_str().unwrap();
    assert_ne!(new_arm, old_arm);
    // The manifest carries the annotation; its attestation now refers to the new digest.
    assert_eq!(
        blob_json(&l, new_arm)["annotations"]["org.opencontainers.image.revision"],
        "abc123"
    );
    let refs: Vec<&str> = list
        .iter()
        .filter_map(|m| m["annotations"]["vnd.docker.reference.digest"].as_str())
        .collect();
    assert!(
        refs.contains(&new_arm) && !refs.contains(&old_arm.as_str()),
        "{refs:?}"
    );
    assert_fsck_clean(&l);
    skopeo_copy_all(&l, "latest");
    // Bad input: nothing to set, --manifest without a selector.
    oix(&["annotate", &at(&l, ":latest")]).fails_with(2);
    oix(&["annotate", &at(&l, ":latest"), "--manifest", "--set", "a=b"]).fails_with(2);
}

/// Regression (found by issue 8's hostile probes): `annotate --manifest --dry-run` with
/// two matches below one index failed ("blob … is missing"): the second rewrite read the
/// parent the first had only computed. The dry run must predict the real run exactly.
#[test]
fn annotate_manifest_dry_run_with_two_matches_predicts_the_real_run() {
    let (_t, dir) = copy_fixture("multiarch");
    let args = |dry: bool| {
        let mut a = vec![
            "--json".to_string(),
            "annotate".into(),
            at(&dir, ":latest"),
            "--platform".into(),
            "linux/amd64".into(),
            "--platform".into(),
            "linux/arm64".into(),
            "--manifest".into(),
            "--set".into(),
            "a=b".into(),
        ];
        if dry {
            a.push("--dry-run".into());
        }
        a
    };
    let before = tree_hash(&dir);
    let dry = oix(&args(true)).ok().json();
    assert_eq!(tree_hash(&dir), before, "a dry run wrote");
    let real = oix(&args(false)).ok().json();
    assert_eq!(dry["digest"], real["digest"]);
    assert_eq!(dry["rewritten"], real["rewritten"]);
    assert_fsck_clean(&dir);
}

/// Issue 12 §7: one manifest under two platforms, and a platform change of the same
/// digest, are reported as what they are; different index bytes are never "no
/// differences".
#[test]
fn diff_reports_platform_changes_of_the_same_manifest() {
    let t = tempfile::tempdir().unwrap();
    let imgs = t.path().join("imgs");
    let l = t.path().join("L");
    let arm64 = arch_image(&imgs, "arm64", "linux/arm64", "a");
    oix(&["index", "create", &at(&l, ":1.0"), &at(&imgs, ":arm64")]).ok();
    oix(&["tag", &at(&l, ":1.0"), "before"]).ok();

    // The arm64 image listed once more, as arm/v7 (forced: its config says arm64).
    let r = oix(&[
        "index",
        "add",
        &at(&l, ":1.0"),
        &format!("{}=linux/arm/v7", at(&imgs, ":arm64")),
        "--force-platform",
    ])
    .ok();
    let out = r.stdout_str();
    let lines: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(lines, [format!("+ linux/arm/v7 {arm64}")], "{out}");
    let d = oix(&["diff", &at(&l, ":before"), &at(&l, ":1.0")]).ok();
    assert_eq!(
        d.stdout_str().trim(),
        format!("+ linux/arm/v7 {arm64}"),
        "{}",
        d.stdout_str()
    );

    // Writing `variant: v8` on the arm64 entry: same key (arm64 = arm64/v8), new bytes.
    oix(&["tag", &at(&l, ":1.0"), "two"]).ok();
    let r = oix(&[
        "index",
        "add",
        &at(&l, ":1.0"),
        &format!("{}=linux/arm64/v8", at(&imgs, ":arm64")),
    ])
    .ok();
    let out = r.stdout_str();
    assert!(out.contains("1.0 written"), "{out}");
    assert!(
        out.contains(&format!(
            "~ linux/arm64 {arm64}\n    platform linux/arm64 -> linux/arm64/v8"
        )),
        "{out}"
    );
    let d = oix(&[
        "diff",
        &at(&l, ":two"),
        &at(&l, ":1.0"),
        "--detailed-exitcode",
    ])
    .exits(6);
    assert!(
        d.stdout_str()
            .contains("platform linux/arm64 -> linux/arm64/v8"),
        "{}",
        d.stdout_str()
    );
    assert!(!d.stdout_str().contains("no differences"));

    // One manifest moved to another platform between two indexes: one change, not an
    // entry removed and another added.
    let m = t.path().join("M");
    oix(&[
        "index",
        "create",
        &at(&m, ":x"),
        &format!("{}=linux/arm/v7", at(&imgs, ":arm64")),
        "--force-platform",
    ])
    .ok();
    let d = oix(&["diff", &at(&l, ":before"), &at(&m, ":x")]).ok();
    assert_eq!(
        d.stdout_str().trim(),
        format!("~ linux/arm64 -> linux/arm/v7 {arm64}"),
        "{}",
        d.stdout_str()
    );

    // The same entries in another order: other bytes, so never "no differences".
    arch_image(&imgs, "amd64", "linux/amd64", "a");
    oix(&[
        "index",
        "create",
        &at(&m, ":ab"),
        &at(&imgs, ":amd64"),
        &at(&imgs, ":arm64"),
    ])
    .ok();
    oix(&[
        "index",
        "create",
        &at(&m, ":ba"),
        &at(&imgs, ":arm64"),
        &at(&imgs, ":amd64"),
    ])
    .ok();
    let d = oix(&[
        "diff",
        &at(&m, ":ab"),
        &at(&m, ":ba"),
        "--detailed-exitcode",
    ])
    .exits(6);
    assert_eq!(
        d.stdout_str().trim(),
        "~ index: the order of the entries",
        "{}",
        d.stdout_str()
    );
}

/// Issue 12 §7: platform typos do not pass silently.
#[test]
fn platform_typos_are_refused_on_write_and_warned_on_read() {
    let t = tempfile::tempdir().unwrap();
    let imgs = t.path().join("imgs");
    let l = t.path().join("L");
    arch_image(&imgs, "amd64", "linux/amd64", "a");
    // An unknown architecture is refused, with the nearest known one as a hint; nothing
    // is created.
    oix(&[
        "index",
        "create",
        &at(&l, ":1.0"),
        &format!("{}=linux/amd65", at(&imgs, ":amd64")),
    ])
    .fails_with(2)
    .stderr_contains("unknown architecture \"amd65\"")
    .stderr_contains("did you mean linux/amd64?");
    assert!(!l.exists(), "a refused create left a layout behind");
    // An architecture where the os belongs is an error with the fix as a hint, read or write.
    oix(&[
        "index",
        "create",
        &at(&l, ":1.0"),
        &format!("{}=amd64/v2", at(&imgs, ":amd64")),
    ])
    .fails_with(2)
    .stderr_contains("did you mean linux/amd64/v2?");
    oix(&["select", &at(&imgs, ":amd64"), "--platform", "arm64/v8"])
        .fails_with(2)
        .stderr_contains("\"arm64\" is an architecture, not an operating system")
        .stderr_contains("did you mean linux/arm64/v8?");
    // --allow-unknown-platform writes it (and --force-platform, since the config says amd64).
    oix(&[
        "index",
        "create",
        &at(&l, ":1.0"),
        &format!("{}=linux/amd65", at(&imgs, ":amd64")),
        "--allow-unknown-platform",
        "--force-platform",
    ])
    .ok();
    // A read filter with an unknown value warns and matches only itself.
    oix(&["ls", &at(&imgs, ":amd64"), "--platform", "linux/amd65"])
        .exits(3)
        .stderr_contains("warning: --platform linux/amd65: unknown architecture");
    // The subset filter of export (and push, pull) warns the same way.
    oix(&[
        "export",
        &at(&imgs, ":amd64"),
        "--platform",
        "linux/amd65",
        "-o",
        &t.path().join("x.tar").display().to_string(),
    ])
    .exits(3)
    .stderr_contains("warning: --platform linux/amd65: unknown architecture");
    // A known platform: no warning.
    let r = oix(&["select", &at(&imgs, ":amd64"), "--platform", "linux/amd64"]).ok();
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

/// Issue 12 §7: `ls REF --where` filters the index's entries; when none matches but the
/// index itself does (its own annotations, where merge writes them), that index is the
/// answer; PATH appears only when it tells rows apart.
#[test]
fn ls_where_on_an_index_ref_matches_the_index_own_annotations() {
    let t = tempfile::tempdir().unwrap();
    let imgs = t.path().join("imgs");
    let rel = t.path().join("release");
    arch_image(&imgs, "amd64", "linux/amd64", "a");
    arch_image(&imgs, "arm64", "linux/arm64", "a");
    oix(&[
        "merge",
        &at(&rel, ":1.0"),
        &at(&imgs, ":amd64"),
        &at(&imgs, ":arm64"),
        "--policy",
        "union",
        "--annotation",
        "org.opencontainers.image.version=1.0",
    ])
    .ok();
    let r = oix(&[
        "ls",
        &at(&rel, ":1.0"),
        "--where",
        "org.opencontainers.image.version",
    ])
    .ok();
    let out = r.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("REF") && !lines[0].contains("PATH"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("1.0 ") && lines[1].contains(" index "),
        "{out}"
    );
    // A filter its entries match: the entries, not the index, and no PATH column.
    let r = oix(&["ls", &at(&rel, ":1.0"), "--platform", "linux/arm64"]).ok();
    let out = r.stdout_str();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        !out.contains("PATH") && out.contains("linux/arm64"),
        "{out}"
    );
    // Matching nothing at all is still exit 3.
    oix(&["ls", &at(&rel, ":1.0"), "--where", "org.example.none"]).fails_with(3);
    // Matches under two different indexes: PATH tells them apart.
    oix(&["tag", &at(&rel, ":1.0"), "again"]).ok();
    oix(&[
        "merge",
        &at(&rel, ":2.0"),
        &at(&imgs, ":arm64"),
        "--policy",
        "union",
    ])
    .ok();
    let r = oix(&[
        "ls",
        &rel.display().to_string(),
        "--platform",
        "linux/arm64",
    ])
    .ok();
    assert!(
        r.stdout_str().lines().next().unwrap().ends_with("PATH"),
        "{}",
        r.stdout_str()
    );
}

/// Issue 12 §7: hints that fit the case. A missing source layout is not something to
/// `oix init`; an archive given where a layout is read points at `oix import`.
#[test]
fn source_hints_fit_the_case() {
    let t = tempfile::tempdir().unwrap();
    let imgs = t.path().join("imgs");
    arch_image(&imgs, "amd64", "linux/amd64", "a");
    let rel = t.path().join("release");
    oix(&["index", "create", &at(&rel, ":1.0"), &at(&imgs, ":amd64")]).ok();
    let r = oix(&[
        "index",
        "add",
        &at(&rel, ":1.0"),
        &at(&t.path().join("nosuch"), ":demo"),
    ])
    .fails_with(1);
    assert!(!r.stderr.contains("oix init"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: check the path"), "{}", r.stderr);
    // An archive file where a layout is read.
    let tar = t.path().join("app.tar");
    std::fs::write(&tar, b"not really").unwrap();
    oix(&["index", "add", &at(&rel, ":1.0"), &at(&tar, ":1.0")])
        .fails_with(1)
        .stderr_contains(&format!("`oix import {} -o LAYOUT`", tar.display()));
    // The oci-archive: transport where a layout is read.
    oix(&["ls", &format!("oci-archive:{}:1.0", tar.display())])
        .fails_with(2)
        .stderr_contains(&format!("`oix import {} -o LAYOUT`", tar.display()));
}
/// Issue 18: an edit costs O(N + k), not O(N·k). In a layout whose index.json holds N
/// images (real manifests, one platform each), `index add` of 400 of them into one
/// index takes at most 20× the time of adding 1 (a ratio, so the machine's speed and
/// load cancel out; the min of a few runs each). Before the fix every source re-read and
/// re-parsed index.json: the ratio was over 100.
#[test]
fn index_add_of_many_sources_grows_with_entries_plus_sources() {
    let n: usize = env_or("OIX_TEST_SCALE_ENTRIES", 5000);
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("l");
    Layout::init(&l).unwrap();
    // Plain writes: thousands of fsynced blob writes would take a minute on a busy disk.
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(l.join("blobs/sha256").join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    };
    let ld = put(b"one shared layer");
    let cfg = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
    );
    let cd = put(cfg.as_bytes());
    let mut top = Vec::with_capacity(n);
    for i in 0..n {
        let man = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{ld}","size":16}}],"annotations":{{"n":"{i}"}}}}"#,
            media::OCI_MANIFEST,
            media::OCI_CONFIG,
            cfg.len(),
            media::OCI_LAYER_TAR,
        );
        let md = put(man.as_bytes());
        top.push(serde_json::json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": md,
            "size": man.len(),
            "annotations": {"org.opencontainers.image.ref.name": format!("img-{i}")},
            "platform": {"architecture": "amd64", "os": "linux", "variant": format!("v{}", i + 2)},
        }));
    }
    let original = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": top,
    }))
    .unwrap();
    let time_add = |k: usize| -> std::time::Duration {
        let mut args = vec!["index".to_string(), "add".into(), at(&l, ":idx")];
        args.extend((0..k).map(|i| at(&l, &format!(":img-{i}"))));
        (0..3)
            .map(|_| {
                std::fs::write(l.join("index.json"), &original).unwrap();
                let start = std::time::Instant::now();
                oix(&args).ok();
                let took = start.elapsed();
                assert_eq!(entries(&l, "idx").len(), k);
                took
            })
            .min()
            .unwrap()
    };
    let one = time_add(1);
    let many = time_add(400);
    let ratio = many.as_secs_f64() / one.as_secs_f64();
    eprintln!("N={n}: add 1 {one:?}, add 400 {many:?}, ratio {ratio:.1}");
    assert!(
        ratio <= 20.0,
        "adding 400 entries took {ratio:.1}× the time of adding 1 at N={n} ({many:?} vs {one:?}): \
         an edit must cost O(N + k)"
    );
}
