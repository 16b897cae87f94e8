//! Referrers travel with their images (issue 16 items 3 and 4): `push`, `pull` and
//! `copy` carry every referrer of every manifest and index they copy, recursively,
//! against the real CNCF distribution registry on loopback (2.8: no referrers API, so
//! the fallback tag `sha256-<hex>` and cosign's `.sig` tag). Round trip layout →
//! registry → fresh layout → second registry, every referrer byte-identical and
//! readable by skopeo; `--no-referrers`, `--referrers-type`, `--dry-run`; two
//! concurrent pushes of different referrers to one subject both end up listed.

mod common_registry;
mod referrer_kit;

use common_registry::*;
use oix::digest::Digest;
use oix::model::{media, Descriptor};
use oix::Layout;
use referrer_kit::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const SBOM: &str = "application/spdx+json";
const PROV: &str = "application/vnd.example.provenance.v1+json";
const SIG: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// `oix referrers -r L:REF --json`: the digests listed, sorted.
fn layout_referrers(subject: &str) -> Vec<String> {
    let v = oix_json(&["referrers", "-r", subject]);
    let mut d: Vec<String> = v["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["descriptor"]["digest"].as_str().unwrap().to_string())
        .collect();
    d.sort();
    d
}

/// The digests the fallback-tag index of `subject` lists on the registry.
fn fallback_listed(host: &str, repo: &str, subject: &str) -> Vec<String> {
    let raw = skopeo_raw(
        &format!("docker://{host}/{repo}:{}", fallback(subject)),
        &["--tls-verify=false"],
    );
    let v: Value = serde_json::from_slice(&raw).unwrap();
    sorted(
        v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn referrers_travel_layout_registry_layout_registry() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let reg2 = RegistryServer::start(None, Auth::None);
    let (h, h2) = (reg.host(), reg2.host());
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("src");
    let subject = image(&l);
    let ls = l.to_str().unwrap().to_string();
    let sbom = attach(
        &l,
        &format!("{ls}:v1"),
        SBOM,
        "sbom.json",
        r#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    // A referrer of a referrer: provenance of the SBOM.
    let prov = attach(
        &l,
        &format!("{ls}@{sbom}"),
        PROV,
        "prov.json",
        r#"{"builder":"test"}"#,
    );
    let sig = cosign_sig(&l, &subject);
    let all = sorted(vec![sbom.clone(), prov.clone(), sig.clone()]);
    assert_eq!(layout_referrers(&format!("{ls}:v1")), all);

    // --dry-run lists them and writes nothing.
    let dry = oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/app:v1"),
        "--plain-http",
        "--dry-run",
    ]);
    let listed: Vec<&Value> = dry["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "referrer")
        .collect();
    assert_eq!(listed.len(), 3, "{dry}");
    assert!(reg.repo_manifests("app").is_empty());

    // layout → registry.
    let before = reg.requests().len();
    let pushed = oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/app:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&pushed), all);
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h, "app", d);
    }
    assert_eq!(fallback_listed(&h, "app", &subject), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&h, "app", &sbom), vec![prov.clone()]);
    let cosign_raw = skopeo_raw(
        &format!("docker://{h}/app:{}.sig", fallback(&subject)),
        &["--tls-verify=false"],
    );
    assert_eq!(Digest::sha256_of(&cosign_raw).to_string(), sig);

    // registry → fresh layout.
    let p = work.path().join("pulled");
    let ps = p.to_str().unwrap().to_string();
    let pulled = oix_json(&[
        "pull",
        &format!("docker://{h}/app:v1"),
        &format!("{ps}:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&pulled), all);
    assert_eq!(layout_referrers(&format!("{ps}:v1")), all);
    let fsck = oix().args(["fsck", &ps]).output().unwrap();
    assert!(fsck.status.success());
    // Discovery listed the repository's tags once (the pull; the push wrote only),
    // instead of looking each candidate tag up (tests/referrers_registry.rs counts).
    let reqs = reg.requests();
    assert_eq!(
        reqs[before..]
            .iter()
            .filter(|(_, p)| p.contains("/tags/list"))
            .count(),
        1,
        "{:?}",
        &reqs[before..]
    );

    // registry → second registry.
    let copied = oix_json(&[
        "copy",
        &format!("docker://{h}/app:v1"),
        &format!("docker://{h2}/mirror:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&copied), all);
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h2, "mirror", d);
    }
    assert_eq!(fallback_listed(&h2, "mirror", &subject), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&h2, "mirror", &sbom), vec![prov.clone()]);
    // ... and from there into a layout again: the same referrers.
    let q = work.path().join("again");
    let qs = q.to_str().unwrap().to_string();
    oix_json(&[
        "copy",
        &format!("docker://{h2}/mirror:v1"),
        &format!("{qs}:v1"),
        "--plain-http",
    ]);
    assert_eq!(layout_referrers(&format!("{qs}:v1")), all);

    // Copying again changes nothing: each referrer listed once.
    oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/app:v1"),
        "--plain-http",
    ]);
    assert_eq!(fallback_listed(&h, "app", &subject), vec![sbom.clone()]);

    // --no-referrers carries none.
    let none = oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/bare:v1"),
        "--plain-http",
        "--no-referrers",
    ]);
    assert!(carried(&none).is_empty());
    assert_eq!(reg.repo_manifests("bare"), vec![subject.clone()]);
    let bare = work.path().join("bare");
    let bs = bare.to_str().unwrap().to_string();
    oix_json(&[
        "pull",
        &format!("docker://{h}/app:v1"),
        &format!("{bs}:v1"),
        "--plain-http",
        "--no-referrers",
    ]);
    assert!(layout_referrers(&format!("{bs}:v1")).is_empty());

    // --referrers-type narrows every level: the SBOM, not its provenance.
    let t = work.path().join("typed");
    let ts = t.to_str().unwrap().to_string();
    let typed = oix_json(&[
        "pull",
        &format!("docker://{h}/app:v1"),
        &format!("{ts}:v1"),
        "--plain-http",
        "--referrers-type",
        SBOM,
        "--referrers-type",
        SIG,
    ]);
    assert_eq!(carried(&typed), sorted(vec![sbom.clone(), sig.clone()]));
}

/// Two pushes of different referrers of one subject at the same time: the fallback
/// index lists all of them afterwards (read-modify-write, re-read and merged again).
#[test]
fn concurrent_pushes_keep_every_referrer() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let mut subject = String::new();
    let mut layouts = Vec::new();
    for who in ["a", "b"] {
        let l = work.path().join(who).join("l");
        std::fs::create_dir_all(l.parent().unwrap()).unwrap();
        subject = image(&l);
        let ls = l.to_str().unwrap().to_string();
        for i in 0..3 {
            expected.push(attach(
                &l,
                &format!("{ls}:v1"),
                SBOM,
                &format!("sbom-{i}.json"),
                &format!(r#"{{"writer":"{who}","n":{i}}}"#),
            ));
        }
        layouts.push(ls);
    }
    // The subject first, so both pushes race on the referrers index only.
    oix_json(&[
        "push",
        &format!("{}:v1", layouts[0]),
        &format!("docker://{h}/conc:v1"),
        "--plain-http",
        "--no-referrers",
    ]);
    let children: Vec<_> = layouts
        .iter()
        .map(|ls| {
            let mut c: Command = oix();
            c.args([
                "--json",
                "push",
                &format!("{ls}:v1"),
                &format!("docker://{h}/conc:v1"),
                "--plain-http",
            ]);
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(fallback_listed(&h, "conc", &subject), sorted(expected));
}

/// An image manifest for `platform` (`os/arch`) in `l`, unnamed: its descriptor.
fn platform_image(l: &Layout, platform: &str) -> Descriptor {
    let (os, arch) = platform.split_once('/').unwrap();
    let layer = format!("layer for {platform}").into_bytes();
    let ld = l.write_blob_bytes(&layer).unwrap();
    let cfg = format!(
        r#"{{"architecture":"{arch}","os":"{os}","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
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
    let mut d = Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64);
    d.platform = Some(Box::new(oix::model::Platform {
        os: os.into(),
        architecture: arch.into(),
        ..Default::default()
    }));
    d
}

/// A `--platform` subset carries the referrers of the kept entries only (the rewritten
/// index is new content and has none); a fallback index on the registry that lists a
/// manifest which is not a referrer of its subject is not carried from, with a warning.
#[test]
fn platform_subsets_carry_the_kept_entries_referrers_and_non_referrers_stay() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("multi");
    let l = Layout::init(&dir).unwrap().0;
    let amd = platform_image(&l, "linux/amd64");
    let arm = platform_image(&l, "linux/arm64");
    let idx = oix::model::Index {
        manifests: vec![amd.clone(), arm.clone()],
        ..Default::default()
    };
    let bytes = idx.to_bytes();
    let id = l.write_blob_bytes(&bytes).unwrap();
    let idx_d = Descriptor::new(media::OCI_INDEX, &id, bytes.len() as u64);
    oix::tags::tag(&l, &idx_d, &["v1".to_string()]).unwrap();
    let ds = dir.to_str().unwrap().to_string();
    let on_amd = attach(
        &dir,
        &format!("{ds}@{}", amd.digest),
        SBOM,
        "amd.json",
        "{}",
    );
    let on_arm = attach(
        &dir,
        &format!("{ds}@{}", arm.digest),
        SBOM,
        "arm.json",
        "[]",
    );
    let on_idx = attach(&dir, &format!("{ds}:v1"), PROV, "idx.json", "{}");
    let pushed = oix_json(&[
        "push",
        &format!("{ds}:v1"),
        &format!("docker://{h}/multi:v1"),
        "--plain-http",
    ]);
    assert_eq!(
        carried(&pushed),
        sorted(vec![on_amd.clone(), on_arm.clone(), on_idx.clone()])
    );

    let p = work.path().join("arm");
    let ps = p.to_str().unwrap().to_string();
    let pulled = oix_json(&[
        "pull",
        &format!("docker://{h}/multi:v1"),
        &format!("{ps}:v1"),
        "--plain-http",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(carried(&pulled), vec![on_arm.clone()]);

    // A fallback index for the amd64 manifest that also lists the arm64 image (no
    // subject) and the arm64 SBOM (another subject): neither is carried, the real
    // referrer is.
    let bogus = oix::model::Index {
        manifests: vec![
            Descriptor::new(media::OCI_MANIFEST, &Digest::parse(&on_amd).unwrap(), {
                let raw = skopeo_raw(
                    &format!("docker://{h}/multi@{on_amd}"),
                    &["--tls-verify=false"],
                );
                raw.len() as u64
            }),
            arm.clone(),
            Descriptor::new(media::OCI_MANIFEST, &Digest::parse(&on_arm).unwrap(), {
                let raw = skopeo_raw(
                    &format!("docker://{h}/multi@{on_arm}"),
                    &["--tls-verify=false"],
                );
                raw.len() as u64
            }),
        ],
        ..Default::default()
    };
    let bb = bogus.to_bytes();
    let bd = l.write_blob_bytes(&bb).unwrap();
    let tag = fallback(&amd.digest);
    oix::tags::tag(
        &l,
        &Descriptor::new(media::OCI_INDEX, &bd, bb.len() as u64),
        &["bogus".to_string()],
    )
    .unwrap();
    oix_json(&[
        "copy",
        &format!("{ds}:bogus"),
        &format!("docker://{h}/multi:{tag}"),
        "--plain-http",
        "--no-referrers",
    ]);
    let out = oix()
        .args([
            "copy",
            &format!("docker://{h}/multi@{}", amd.digest),
            &format!("{}:amd", work.path().join("amd").display()),
            "--plain-http",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning:") && err.contains("not carried"),
        "{err}"
    );
    assert!(err.contains("1 referrer,"), "{err}");
}

/// A referrer cycle (B's subject is A; A is tagged as B's cosign signature
/// `sha256-<B>.sig`): push and pull end, each referrer carried once.
#[test]
fn a_referrer_cycle_is_carried_once_and_ends() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("cyc");
    let a = image(&l);
    let ls = l.to_str().unwrap().to_string();
    let b = attach(&l, &format!("{ls}:v1"), SBOM, "b.json", "{}");
    let layout = Layout::open(&l).unwrap();
    let size = std::fs::metadata(l.join("blobs/sha256").join(&a[7..]))
        .unwrap()
        .len();
    oix::tags::tag(
        &layout,
        &Descriptor::new(media::OCI_MANIFEST, &Digest::parse(&a).unwrap(), size),
        &[format!("{}.sig", fallback(&b))],
    )
    .unwrap();
    let pushed = oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/cyc:v1"),
        "--plain-http",
    ]);
    // B as A's referrer, and A (the root) listed as B's cosign signature.
    assert_eq!(carried(&pushed), sorted(vec![a.clone(), b.clone()]));
    let p = work.path().join("back");
    let pulled = oix_json(&[
        "pull",
        &format!("docker://{h}/cyc@{b}"),
        &format!("{}:b", p.display()),
        "--plain-http",
    ]);
    // The cycle's last edge (A is B's cosign signature) was pushed as a listing too.
    let sig = skopeo_raw(
        &format!("docker://{h}/cyc:{}.sig", fallback(&b)),
        &["--tls-verify=false"],
    );
    assert_eq!(Digest::sha256_of(&sig).to_string(), a);
    // From B: A is B's signature, B is A's referrer (B is the root: listed, not walked).
    assert_eq!(carried(&pulled), sorted(vec![a.clone(), b.clone()]));
    assert_eq!(
        layout_referrers(&format!("{}@{a}", p.display())),
        vec![b.clone()]
    );
}

/// The issue's round trip: layout → registry → fresh layout → oci-archive → fresh
/// layout → second registry. Every referrer (cosign `.sig`, SBOM, provenance of the
/// SBOM) arrives byte-identical (digests compared, skopeo reads each one); the
/// archive lists them as a layout does; export/import `--dry-run`, `--no-referrers`,
/// `--referrers-type`, `import --all`; a docker-archive carries none and says so.
#[test]
fn referrers_travel_through_export_and_import() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let reg2 = RegistryServer::start(None, Auth::None);
    let (h, h2) = (reg.host(), reg2.host());
    let work = tempfile::tempdir().unwrap();
    let p = |n: &str| work.path().join(n).to_str().unwrap().to_string();
    let l = work.path().join("src");
    let subject = image(&l);
    let ls = p("src");
    let sbom = attach(
        &l,
        &format!("{ls}:v1"),
        SBOM,
        "sbom.json",
        r#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    let prov = attach(
        &l,
        &format!("{ls}@{sbom}"),
        PROV,
        "prov.json",
        r#"{"builder":"t"}"#,
    );
    let sig = cosign_sig(&l, &subject);
    let all = sorted(vec![sbom.clone(), prov.clone(), sig.clone()]);

    // layout → registry → fresh layout.
    oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/app:v1"),
        "--plain-http",
    ]);
    let pulled = p("pulled");
    let v = oix_json(&[
        "pull",
        &format!("docker://{h}/app:v1"),
        &format!("{pulled}:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&v), all);

    // fresh layout → oci-archive: --dry-run lists the referrers and writes nothing.
    let tar = work.path().join("release.tar");
    let ts = tar.to_str().unwrap().to_string();
    let dry = oix_json(&["export", &format!("{pulled}:v1"), "-o", &ts, "--dry-run"]);
    assert_eq!(carried(&dry), all, "{dry}");
    assert!(!tar.exists());
    let exported = oix_json(&["export", &format!("{pulled}:v1"), "-o", &ts]);
    assert_eq!(carried(&exported), all, "{exported}");
    // The archive's index.json lists them as a layout does: the subject's and the
    // SBOM's referrers indexes, the cosign tag.
    assert_eq!(
        archive_names(&tar),
        sorted(vec![
            "v1".to_string(),
            fallback(&subject),
            fallback(&sbom),
            format!("{}.sig", fallback(&subject)),
        ])
    );
    // The same input gives the same archive bytes.
    let tar2 = work.path().join("again.tar");
    oix_json(&[
        "export",
        &format!("{pulled}:v1"),
        "-o",
        tar2.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&tar).unwrap(), std::fs::read(&tar2).unwrap());

    // oci-archive → fresh layout: --dry-run first (nothing written), then for real.
    let imp = p("imported");
    let dry = oix_json(&[
        "import",
        &format!("{ts}:v1"),
        "-o",
        &format!("{imp}:v1"),
        "--dry-run",
    ]);
    assert_eq!(carried(&dry), all, "{dry}");
    assert!(!Path::new(&imp).exists());
    let v = oix_json(&["import", &format!("{ts}:v1"), "-o", &format!("{imp}:v1")]);
    assert_eq!(carried(&v), all, "{v}");
    assert_eq!(layout_referrers(&format!("{imp}:v1")), all);
    let fsck = oix().args(["fsck", &imp]).output().unwrap();
    assert!(fsck.status.success() && fsck.stderr.is_empty(), "{fsck:?}");
    // Byte-identical: every referrer's blob in the imported layout hashes to its digest.
    for d in &all {
        let dg = Digest::parse(d).unwrap();
        let bytes = std::fs::read(Path::new(&imp).join("blobs/sha256").join(dg.encoded())).unwrap();
        assert_eq!(Digest::sha256_of(&bytes), dg);
    }

    // fresh layout → second registry: every referrer there, skopeo reads each.
    let v = oix_json(&[
        "push",
        &format!("{imp}:v1"),
        &format!("docker://{h2}/mirror:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&v), all);
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h2, "mirror", d);
    }
    assert_eq!(fallback_listed(&h2, "mirror", &subject), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&h2, "mirror", &sbom), vec![prov.clone()]);
    let cosign_raw = skopeo_raw(
        &format!("docker://{h2}/mirror:{}.sig", fallback(&subject)),
        &["--tls-verify=false"],
    );
    assert_eq!(Digest::sha256_of(&cosign_raw).to_string(), sig);

    // The whole layout exported: its image once, the referrer entries listed anew
    // (not twice); `import --all` restores them.
    let whole = work.path().join("whole.tar");
    oix_json(&["export", &pulled, "-o", whole.to_str().unwrap()]);
    assert_eq!(archive_names(&whole), archive_names(&tar));
    let all_imp = p("all");
    let v = oix_json(&["import", whole.to_str().unwrap(), "--all", "-o", &all_imp]);
    assert_eq!(v["refs"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(carried(&v), all);
    assert_eq!(layout_referrers(&format!("{all_imp}:v1")), all);

    // --no-referrers: an archive with the image only; an import that leaves them out.
    let bare = work.path().join("bare.tar");
    let v = oix_json(&[
        "export",
        &format!("{pulled}:v1"),
        "-o",
        bare.to_str().unwrap(),
        "--no-referrers",
    ]);
    assert!(carried(&v).is_empty());
    assert_eq!(archive_names(&bare), vec!["v1".to_string()]);
    let bi = p("bare-import");
    let v = oix_json(&[
        "import",
        &format!("{ts}:v1"),
        "-o",
        &format!("{bi}:v1"),
        "--no-referrers",
    ]);
    assert!(carried(&v).is_empty());
    assert!(layout_referrers(&format!("{bi}:v1")).is_empty());

    // --referrers-type narrows every level: the SBOM and the signature, not the
    // SBOM's provenance.
    let typed = work.path().join("typed.tar");
    let v = oix_json(&[
        "export",
        &format!("{pulled}:v1"),
        "-o",
        typed.to_str().unwrap(),
        "--referrers-type",
        SBOM,
        "--referrers-type",
        SIG,
    ]);
    assert_eq!(carried(&v), sorted(vec![sbom.clone(), sig.clone()]));
    let ti = p("typed-import");
    let v = oix_json(&[
        "import",
        &format!("{ts}:v1"),
        "-o",
        &format!("{ti}:v1"),
        "--referrers-type",
        SBOM,
    ]);
    assert_eq!(carried(&v), vec![sbom.clone()]);

    // A docker-archive has no place for referrers: none carried, and it says so.
    let dock = work.path().join("docker.tar");
    let v = oix_json(&[
        "export",
        &format!("{pulled}:v1"),
        "-o",
        dock.to_str().unwrap(),
        "--format",
        "docker-archive",
    ]);
    assert!(carried(&v).is_empty());
    assert_eq!(v["referrers_not_carried"], 3, "{v}");
    let out = oix()
        .args([
            "export",
            &format!("{pulled}:v1"),
            "-o",
            dock.to_str().unwrap(),
            "--format",
            "docker-archive",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("3 referrer(s) not carried"),
        "{err}"
    );
}

/// A `--platform` export carries the kept entries' referrers only.
#[test]
fn platform_export_carries_the_kept_entries_referrers() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("multi");
    let l = Layout::init(&dir).unwrap().0;
    let amd = platform_image(&l, "linux/amd64");
    let arm = platform_image(&l, "linux/arm64");
    let idx = oix::model::Index {
        manifests: vec![amd.clone(), arm.clone()],
        ..Default::default()
    };
    let bytes = idx.to_bytes();
    let id = l.write_blob_bytes(&bytes).unwrap();
    let idx_d = Descriptor::new(media::OCI_INDEX, &id, bytes.len() as u64);
    oix::tags::tag(&l, &idx_d, &["v1".to_string()]).unwrap();
    let ds = dir.to_str().unwrap().to_string();
    let _on_amd = attach(
        &dir,
        &format!("{ds}@{}", amd.digest),
        SBOM,
        "amd.json",
        "{}",
    );
    let on_arm = attach(
        &dir,
        &format!("{ds}@{}", arm.digest),
        SBOM,
        "arm.json",
        "[]",
    );
    let _on_idx = attach(&dir, &format!("{ds}:v1"), PROV, "idx.json", "{}");
    let tar = work.path().join("arm.tar");
    let v = oix_json(&[
        "export",
        &format!("{ds}:v1"),
        "-o",
        tar.to_str().unwrap(),
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(carried(&v), vec![on_arm.clone()], "{v}");
    let imp = work.path().join("imp");
    let is = imp.to_str().unwrap();
    oix_json(&[
        "import",
        &format!("{}:v1", tar.display()),
        "-o",
        &format!("{is}:v1"),
    ]);
    let got = oix_json(&["referrers", &format!("{is}@{}", arm.digest)]);
    assert_eq!(got["referrers"][0]["descriptor"]["digest"], on_arm.as_str());
}

/// Cross-layout `index add`, `index create` and `merge` bring the referrers of what
/// they take from another layout (a signature, an SBOM and a referrer of it), listed
/// as a layout lists them; `--dry-run` lists them and writes nothing; `--no-referrers`
/// and `--referrers-type` narrow it. No registry needed.
#[test]
fn cross_layout_edits_carry_referrers() {
    let work = tempfile::tempdir().unwrap();
    let p = |n: &str| work.path().join(n).to_str().unwrap().to_string();
    let l = work.path().join("src");
    let subject = image(&l);
    let ls = p("src");
    let sbom = attach(&l, &format!("{ls}:v1"), SBOM, "sbom.json", "{}");
    let prov = attach(&l, &format!("{ls}@{sbom}"), PROV, "prov.json", "[]");
    let sig = cosign_sig(&l, &subject);
    let all = sorted(vec![sbom.clone(), prov.clone(), sig.clone()]);

    let add = p("add");
    oix_json(&["init", &add]);
    let dry = oix_json(&[
        "index",
        "add",
        &format!("{add}:rel"),
        &format!("{ls}:v1"),
        "--dry-run",
    ]);
    assert_eq!(carried(&dry), all, "{dry}");
    assert!(layout_refs(&add).is_empty());
    let v = oix_json(&["index", "add", &format!("{add}:rel"), &format!("{ls}:v1")]);
    assert_eq!(carried(&v), all, "{v}");
    assert_eq!(layout_referrers(&format!("{add}@{subject}")), all);
    let fsck = oix().args(["fsck", &add]).output().unwrap();
    assert!(fsck.status.success() && fsck.stderr.is_empty(), "{fsck:?}");
    // Adding again lists each once.
    oix_json(&["index", "add", &format!("{add}:rel"), &format!("{ls}:v1")]);
    assert_eq!(layout_referrers(&format!("{add}@{subject}")), all);

    let merged = p("merged");
    let v = oix_json(&[
        "merge",
        &format!("{merged}:rel"),
        &format!("{ls}:v1"),
        "--policy",
        "union",
    ]);
    assert_eq!(carried(&v), all, "{v}");
    assert_eq!(layout_referrers(&format!("{merged}@{subject}")), all);

    let created = p("created");
    let v = oix_json(&[
        "index",
        "create",
        &format!("{created}:rel"),
        &format!("{ls}:v1"),
        "--referrers-type",
        SBOM,
    ]);
    assert_eq!(carried(&v), vec![sbom.clone()], "{v}");
    assert_eq!(
        layout_referrers(&format!("{created}@{subject}")),
        vec![sbom.clone()]
    );

    let bare = p("bare");
    let v = oix_json(&[
        "merge",
        &format!("{bare}:rel"),
        &format!("{ls}:v1"),
        "--policy",
        "union",
        "--no-referrers",
    ]);
    assert!(v.get("referrers").is_none(), "{v}");
    assert!(layout_referrers(&format!("{bare}@{subject}")).is_empty());
}

/// The ref names of a layout's index.json entries (`oix ls --json`).
fn layout_refs(dir: &str) -> Vec<String> {
    let v = oix_json(&["ls", dir]);
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["ref"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `oix apply` carries referrers: a release taken from a layout and published to a
/// registry brings the image's signature, SBOM and the SBOM's provenance; a release
/// promoted from that registry (`docker://` source, `layers: remote`) to a second
/// registry brings them on; `--no-referrers` carries none.
#[test]
fn apply_carries_referrers_to_destinations() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let reg2 = RegistryServer::start(None, Auth::None);
    let (h, h2) = (reg.host(), reg2.host());
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("builds");
    let subject = image(&l);
    let ls = l.to_str().unwrap().to_string();
    let sbom = attach(&l, &format!("{ls}:v1"), SBOM, "sbom.json", "{}");
    let prov = attach(&l, &format!("{ls}@{sbom}"), PROV, "prov.json", "[]");
    let sig = cosign_sig(&l, &subject);
    let all = sorted(vec![sbom.clone(), prov.clone(), sig.clone()]);

    let plan = work.path().join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./out\ndestinations:\n  - url: docker://{h}\n    plain_http: true\nimages:\n  - name: app\n    source: ./builds:v1\n    tags: ['1.0']\n"
        ),
    )
    .unwrap();
    let out = oix()
        .args(["apply", plan.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h, "app", d);
    }
    assert_eq!(fallback_listed(&h, "app", &subject), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&h, "app", &sbom), vec![prov.clone()]);
    // The working layout lists them too.
    let outdir = work.path().join("out");
    assert_eq!(
        layout_referrers(&format!("{}@{subject}", outdir.display())),
        all
    );

    // Promotion from that registry to a second one (the plan's destination on the
    // source's registry says how to reach it: plain HTTP).
    let plan2 = work.path().join("promote.yaml");
    std::fs::write(
        &plan2,
        format!(
            "version: 1\nlayout: ./promote\ndestinations:\n  - url: docker://{h2}/mirror\n    plain_http: true\n  - url: docker://{h}/promoted\n    plain_http: true\nimages:\n  - name: app\n    source: docker://{h}/app:1.0\n    tags: ['1.0']\n"
        ),
    )
    .unwrap();
    let out = oix()
        .args(["apply", plan2.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h2, "mirror/app", d);
    }
    assert_eq!(
        fallback_listed(&h2, "mirror/app", &sbom),
        vec![prov.clone()]
    );

    // --no-referrers: the image only.
    let plan3 = work.path().join("bare.yaml");
    std::fs::write(
        &plan3,
        format!(
            "version: 1\nlayout: ./bare\ndestinations:\n  - url: docker://{h2}/bare\n    plain_http: true\nimages:\n  - name: app\n    source: ./builds:v1\n    tags: ['1.0']\n"
        ),
    )
    .unwrap();
    let out = oix()
        .args(["apply", plan3.to_str().unwrap(), "--no-referrers"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reg2.repo_manifests("bare/app"), vec![subject.clone()]);
}
