//! Referrers in a layout (issue 16 items 1, 2 and 5): `oix attach` writes an OCI 1.1
//! artifact listed in the subject's referrers index (fallback tag `sha256-<hex>`);
//! `oix referrers`, `ls --referrers` and `ls --tree` find referrers however the layout
//! lists them (fallback tag, untagged index.json entry, cosign tag, unlisted blob);
//! `fsck` warns about orphans and listings of non-referrers; `gc` keeps referrers of
//! reachable subjects and removes those of subjects that are gone. Hostile: a cycle,
//! 10,000 referrers of one subject, a fallback index listing a non-referrer. Interop:
//! skopeo and umoci read a layout holding attached artifacts.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SBOM: &str = "application/spdx+json";
const NOTES: &str = "application/vnd.example.notes.v1+json";
const SIG: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// A layout at `dir` holding one image tagged `v1`; returns its manifest digest.
fn image(dir: &Path) -> String {
    arch_image(dir, "v1", "linux/amd64", "referrers")
}

/// Write a file into `dir` and return its path as a string.
fn file(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// `oix attach` with `--json`: the new manifest's descriptor.
fn attach(subject: &str, artifact_type: &str, files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec![
        "--json",
        "attach",
        subject,
        "--artifact-type",
        artifact_type,
    ];
    args.extend_from_slice(files);
    args.extend_from_slice(extra);
    oix(&args).ok().json()
}

/// `oix referrers --json ARGS`: the referrer rows.
fn referrers(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["--json", "referrers"];
    a.extend_from_slice(args);
    oix(&a).ok().json()["referrers"]
        .as_array()
        .cloned()
        .unwrap()
}

fn digests(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["descriptor"]["digest"].as_str().unwrap().to_string())
        .collect()
}

fn fallback_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// Write `bytes` as a blob straight into the layout (fixture building only).
fn raw_blob(dir: &Path, bytes: &[u8]) -> String {
    let hex = sha256_hex(bytes);
    let p = dir.join("blobs/sha256").join(&hex);
    if !p.exists() {
        fs::write(p, bytes).unwrap();
    }
    format!("sha256:{hex}")
}

/// A manifest with the empty config, one layer and an optional subject; its digest and size.
fn artifact_manifest(
    dir: &Path,
    subject: Option<(&str, usize)>,
    salt: &str,
    at: &str,
) -> (String, usize) {
    let layer = raw_blob(dir, salt.as_bytes());
    let empty = raw_blob(dir, b"{}");
    let subject = subject
        .map(|(d, s)| {
            format!(
                r#","subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":{s}}}"#
            )
        })
        .unwrap_or_default();
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"{at}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"layers":[{{"mediaType":"text/plain","digest":"{layer}","size":{}}}]{subject}}}"#,
        salt.len()
    );
    (raw_blob(dir, m.as_bytes()), m.len())
}

fn blob_size(dir: &Path, digest: &str) -> usize {
    blob(dir, digest).len()
}

/// Rewrite index.json with `entries` appended (fixture building only).
fn add_entries(dir: &Path, entries: &[Value]) {
    let mut idx: Value =
        serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .extend(entries.iter().cloned());
    fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
}

fn entry(digest: &str, size: usize, media_type: &str, name: Option<&str>) -> Value {
    let mut e = serde_json::json!({"mediaType": media_type, "digest": digest, "size": size});
    if let Some(n) = name {
        e["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": n});
    }
    e
}

/// Run oix with a deadline: a hang fails the test instead of stalling the suite.
fn bounded(args: &[&str], secs: u64) -> Run {
    let mut c = oix_cmd(args);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    // Output is read while waiting (a full pipe would block the child).
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => Run::from_output(format!("oix {}", args.join(" ")), out.unwrap()),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("oix {args:?} did not finish within {secs} s");
        }
    }
}

#[test]
fn attach_writes_a_reproducible_artifact_listed_under_the_fallback_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let sbom = file(
        tmp.path(),
        "sbom.spdx.json",
        r#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    let notes = file(tmp.path(), "NOTES", "release notes\n");
    let sbom_arg = format!("{sbom}:{SBOM}");
    let d = attach(
        &at(&l, ":v1"),
        SBOM,
        &[&sbom_arg, &notes],
        &["--annotation", "k=v"],
    );
    let md = d["digest"].as_str().unwrap().to_string();
    assert_eq!(d["artifactType"], SBOM);
    assert_eq!(d["annotations"]["k"], "v");

    // The manifest: image-spec 1.1 artifact with the empty config and the subject.
    let m = blob_json(&l, &md);
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["artifactType"], SBOM);
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        m["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(m["config"]["size"], 2);
    assert_eq!(m["config"]["data"], "e30=");
    assert_eq!(m["subject"]["digest"], subject.as_str());
    assert_eq!(m["subject"]["size"], blob_size(&l, &subject));
    assert_eq!(m["layers"][0]["mediaType"], SBOM);
    assert_eq!(
        m["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "sbom.spdx.json"
    );
    assert_eq!(m["layers"][1]["mediaType"], "application/octet-stream");
    assert_eq!(
        m["layers"][1]["annotations"]["org.opencontainers.image.title"],
        "NOTES"
    );
    assert_eq!(m["annotations"]["k"], "v");
    assert!(m["annotations"]
        .get("org.opencontainers.image.created")
        .is_none());
    assert_eq!(
        blob(&l, m["layers"][1]["digest"].as_str().unwrap()),
        b"release notes\n"
    );

    // Listed in the subject's referrers index, tagged sha256-<hex> in index.json.
    let tag = fallback_tag(&subject);
    let list = blob_json(&l, &digest_of_ref(&l, &tag));
    assert_eq!(list["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(list["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(list["manifests"][0]["digest"], md.as_str());
    assert_eq!(list["manifests"][0]["artifactType"], SBOM);
    assert_fsck_clean(&l);

    // Again: nothing changes.
    let before = tree_hash(&l);
    let again = oix(&[
        "attach",
        &at(&l, ":v1"),
        "--artifact-type",
        SBOM,
        &sbom_arg,
        &notes,
        "--annotation",
        "k=v",
    ])
    .ok();
    assert!(
        again.stdout_str().contains("already attached"),
        "{}",
        again.stdout_str()
    );
    assert_eq!(tree_hash(&l), before);

    // The same inputs in another layout give the same bytes.
    let l2 = tmp.path().join("l2");
    assert_eq!(image(&l2), subject);
    let d2 = attach(
        &at(&l2, ":v1"),
        SBOM,
        &[&sbom_arg, &notes],
        &["--annotation", "k=v"],
    );
    assert_eq!(d2["digest"], md.as_str());
    assert_eq!(digest_of_ref(&l2, &tag), digest_of_ref(&l, &tag));

    // A created annotation only when asked for.
    let d3 = attach(
        &at(&l, ":v1"),
        SBOM,
        &[&sbom_arg],
        &[
            "--annotation",
            "org.opencontainers.image.created=2026-01-01T00:00:00Z",
        ],
    );
    let m3 = blob_json(&l, d3["digest"].as_str().unwrap());
    assert_eq!(
        m3["annotations"]["org.opencontainers.image.created"],
        "2026-01-01T00:00:00Z"
    );
    let list = blob_json(&l, &digest_of_ref(&l, &tag));
    assert_eq!(list["manifests"].as_array().unwrap().len(), 2);
    assert_fsck_clean(&l);
}

#[test]
fn attach_bad_input_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let ok = file(tmp.path(), "ok.txt", "x");
    let missing = tmp.path().join("missing.txt").display().to_string();
    let dir = tmp.path().display().to_string();
    let dup = tmp.path().join("sub");
    fs::create_dir(&dup).unwrap();
    let dup = file(&dup, "ok.txt", "y");
    let cfg = blob_json(&l, &subject)["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    // A second image under another name makes the bare layout ambiguous.
    arch_image(&l, "v2", "linux/arm64", "other");
    let before = tree_hash(&l);
    let v1 = at(&l, ":v1");
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec![v1.clone(), "--artifact-type".into(), SBOM.into(), missing],
            1,
            "missing.txt",
        ),
        (
            vec![v1.clone(), "--artifact-type".into(), SBOM.into(), dir],
            2,
            "not a regular file",
        ),
        (
            vec![
                v1.clone(),
                "--artifact-type".into(),
                "spdx".into(),
                ok.clone(),
            ],
            2,
            "not a media type",
        ),
        (
            vec![
                v1.clone(),
                "--artifact-type".into(),
                SBOM.into(),
                format!("{ok}:bad type/x"),
            ],
            2,
            "not a media type",
        ),
        (
            vec![
                v1.clone(),
                "--artifact-type".into(),
                SBOM.into(),
                ok.clone(),
                dup,
            ],
            2,
            "two files are named",
        ),
        (
            vec![
                v1.clone(),
                "--artifact-type".into(),
                SBOM.into(),
                ok.clone(),
                "--annotation".into(),
                "novalue".into(),
            ],
            2,
            "key=value",
        ),
        (
            vec![
                at(&l, ":nope"),
                "--artifact-type".into(),
                SBOM.into(),
                ok.clone(),
            ],
            3,
            "nope",
        ),
        (
            vec![
                l.display().to_string(),
                "--artifact-type".into(),
                SBOM.into(),
                ok.clone(),
            ],
            4,
            "top-level entries",
        ),
        (
            vec![
                at(&l, &format!("@{cfg}")),
                "--artifact-type".into(),
                SBOM.into(),
                ok.clone(),
            ],
            2,
            "not a manifest or index",
        ),
    ];
    for (args, code, needle) in cases {
        let mut a = vec!["attach".to_string()];
        a.extend(args);
        oix(&a).fails_with(code).stderr_contains(needle);
        assert_eq!(tree_hash(&l), before, "{a:?} changed the layout");
    }
    // A name under the referrers tag that is not a referrers index is refused (exit 5).
    let tag = fallback_tag(&subject);
    oix(&["tag", &v1, &tag]).ok();
    let before = tree_hash(&l);
    oix(&["attach", &v1, "--artifact-type", SBOM, &ok])
        .fails_with(5)
        .stderr_contains("not a referrers index");
    assert_eq!(tree_hash(&l), before);
}

#[test]
fn referrers_lists_filters_and_recurses() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let f = file(tmp.path(), "a.txt", "a");
    let sbom = attach(&at(&l, ":v1"), SBOM, &[&f], &["--annotation", "kind=sbom"]);
    let notes = attach(&at(&l, ":v1"), NOTES, &[&f], &[]);
    let sbom_d = sbom["digest"].as_str().unwrap();
    let sig = attach(&at(&l, &format!("@{sbom_d}")), SIG, &[&f], &[]);
    let sig_d = sig["digest"].as_str().unwrap();
    let v1 = at(&l, ":v1");

    let direct = referrers(&[&v1]);
    assert_eq!(
        digests(&direct),
        [sbom_d, notes["digest"].as_str().unwrap()]
    );
    assert_eq!(direct[0]["descriptor"]["artifactType"], SBOM);
    assert_eq!(direct[0]["descriptor"]["annotations"]["kind"], "sbom");
    assert_eq!(direct[0]["found"], "fallback-tag");
    assert_eq!(direct[0]["subject"], subject.as_str());
    assert!(direct[0]["descriptor"]["size"].as_u64().unwrap() > 0);

    let rec = referrers(&["-r", &v1]);
    assert_eq!(
        digests(&rec),
        [sbom_d, sig_d, notes["digest"].as_str().unwrap()]
    );
    assert_eq!(rec[1]["depth"], 1);
    assert_eq!(rec[1]["subject"], sbom_d);

    assert_eq!(
        digests(&referrers(&["--artifact-type", SBOM, &v1])),
        [sbom_d]
    );
    assert_eq!(
        digests(&referrers(&["--artifact-type", SIG, "--recursive", &v1])),
        [sig_d]
    );
    assert_eq!(referrers(&["--artifact-type", SIG, &v1]).len(), 0);
    assert_eq!(
        referrers(&["--artifact-type", SBOM, "--artifact-type", NOTES, &v1]).len(),
        2
    );
    // By digest, and the referrer's own referrers.
    assert_eq!(
        digests(&referrers(&[&at(&l, &format!("@{subject}"))])).len(),
        2
    );
    assert_eq!(
        digests(&referrers(&[&at(&l, &format!("@{sbom_d}"))])),
        [sig_d]
    );

    // Human output: one row each, the artifact type and annotations shown.
    let out = oix(&["referrers", "-r", &v1]).ok().stdout_str();
    assert!(out.starts_with("DIGEST"), "{out}");
    assert!(out.contains(&format!("  {sig_d}")), "{out}");
    assert!(out.contains("kind=sbom"), "{out}");
    // The library answer the carrying code will use: recursive, filtered.
    let layout = oix::Layout::open(&l).unwrap();
    let all = oix::referrers::referrers_of(
        &layout,
        &oix::Digest::parse(&subject).unwrap(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(all.len(), 3);
    // The store trait answers the direct referrers (what the carrying code asks).
    let subject_d = oix::model::Descriptor::new(
        oix::model::media::OCI_MANIFEST,
        &oix::Digest::parse(&subject).unwrap(),
        blob_size(&l, &subject) as u64,
    );
    let direct = oix::store::Source::referrers(&layout, &subject_d).unwrap();
    let direct: Vec<&str> = direct.iter().map(|d| d.digest.as_str()).collect();
    assert_eq!(direct, [sbom_d, notes["digest"].as_str().unwrap()]);
}

#[test]
fn ls_tree_and_ls_referrers_show_referrers_under_their_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let f = file(tmp.path(), "a.txt", "a");
    let sbom = attach(&at(&l, ":v1"), SBOM, &[&f], &[]);
    let sbom_d = sbom["digest"].as_str().unwrap();
    attach(&at(&l, &format!("@{sbom_d}")), SIG, &[&f], &[]);

    let nodes: Vec<Value> = oix(&["--json", "ls", "--tree", &at(&l, ":v1")])
        .ok()
        .json()
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(nodes[0]["digest"], subject.as_str());
    assert_eq!(nodes[1]["role"], "referrer");
    assert_eq!(nodes[1]["depth"], 1);
    assert_eq!(nodes[1]["digest"], sbom_d);
    assert_eq!(nodes[1]["artifactType"], SBOM);
    assert_eq!(nodes[2]["role"], "referrer");
    assert_eq!(nodes[2]["depth"], 2);
    assert_eq!(nodes[2]["artifactType"], SIG);
    let human = oix(&["ls", "--tree", &at(&l, ":v1")]).ok().stdout_str();
    assert!(human.contains(&format!("  referrer {sbom_d}")), "{human}");
    assert!(human.contains(&format!("artifactType={SBOM}")), "{human}");

    let rows: Vec<Value> = oix(&["--json", "ls", "--referrers", &l.display().to_string()])
        .ok()
        .json()
        .as_array()
        .cloned()
        .unwrap();
    let v1 = rows.iter().find(|r| r["ref"] == "v1").unwrap();
    assert_eq!(v1["referrers"].as_array().unwrap().len(), 2);
    let table = oix(&["ls", "--referrers", &l.display().to_string()])
        .ok()
        .stdout_str();
    assert!(
        table.lines().next().unwrap().ends_with("REFERRERS"),
        "{table}"
    );
    // Without the flag the listing is what it was.
    let plain: Vec<Value> = oix(&["--json", "ls", &l.display().to_string()])
        .ok()
        .json()
        .as_array()
        .cloned()
        .unwrap();
    assert!(plain.iter().all(|r| r.get("referrers").is_none()));
}

/// oras (untagged index.json entry with a subject), cosign (`sha256-<hex>.sig` tag on a
/// manifest without subject) and an unlisted blob with a subject are all found.
#[test]
fn referrers_written_by_other_tools_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let size = blob_size(&l, &subject);
    let (oras, oras_size) = artifact_manifest(
        &l,
        Some((&subject, size)),
        "oras",
        "application/vnd.oras.test",
    );
    // cosign's legacy signature: simple-signing payload layer, the signature annotation.
    let payload = format!(
        r#"{{"critical":{{"image":{{"docker-manifest-digest":"{subject}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    let pd = raw_blob(&l, payload.as_bytes());
    let cfg = raw_blob(
        &l,
        br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let cosign = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cfg}","size":{}}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"{pd}","size":{},"annotations":{{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}}}]}}"#,
        blob_size(&l, &cfg),
        payload.len()
    );
    let cd = raw_blob(&l, cosign.as_bytes());
    let sig_tag = format!("{}.sig", fallback_tag(&subject));
    add_entries(
        &l,
        &[
            entry(
                &oras,
                oras_size,
                "application/vnd.oci.image.manifest.v1+json",
                None,
            ),
            entry(
                &cd,
                cosign.len(),
                "application/vnd.oci.image.manifest.v1+json",
                Some(&sig_tag),
            ),
        ],
    );
    let (unlisted, _) = artifact_manifest(
        &l,
        Some((&subject, size)),
        "unlisted",
        "application/vnd.unlisted",
    );
    let rows = referrers(&[&at(&l, ":v1")]);
    let found: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["descriptor"]["digest"].as_str().unwrap().to_string(),
                r["found"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (oras.clone(), "entry".to_string()),
            (cd.clone(), "cosign-tag".to_string()),
            (unlisted.clone(), "blob".to_string())
        ]
    );
    assert_eq!(
        rows[0]["descriptor"]["artifactType"],
        "application/vnd.oras.test"
    );
    assert_eq!(rows[1]["descriptor"]["artifactType"], SIG);
    assert_eq!(rows[1]["tag"], sig_tag.as_str());
    assert_fsck_clean(&l);
    // gc keeps them all while the subject is there.
    oix(&["gc", &l.display().to_string()]).ok();
    assert_eq!(referrers(&[&at(&l, ":v1")]).len(), 3);
    assert_fsck_clean(&l);
    // attach next to them extends the fallback-tag index.
    let f = file(tmp.path(), "a.txt", "a");
    attach(&at(&l, ":v1"), SBOM, &[&f], &[]);
    assert_eq!(referrers(&[&at(&l, ":v1")]).len(), 4);
}

#[test]
fn gc_keeps_referrers_of_reachable_subjects_and_removes_those_of_subjects_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let keep = arch_image(&l, "keep", "linux/arm64", "kept");
    let f = file(tmp.path(), "a.txt", "gone with the subject");
    let sbom = attach(&at(&l, ":v1"), SBOM, &[&f], &[]);
    let sbom_d = sbom["digest"].as_str().unwrap().to_string();
    let sig = attach(&at(&l, &format!("@{sbom_d}")), SIG, &[&f], &[]);
    let kept = attach(&at(&l, ":keep"), NOTES, &[&f], &[]);
    // An untagged (oras-style) referrer and a cosign tag of the same subject.
    let size = blob_size(&l, &subject);
    let (oras, oras_size) = artifact_manifest(
        &l,
        Some((&subject, size)),
        "oras-gone",
        "application/vnd.oras.test",
    );
    let (cosign, cosign_size) = artifact_manifest(&l, None, "cosign-gone", "application/vnd.x");
    add_entries(
        &l,
        &[
            entry(
                &oras,
                oras_size,
                "application/vnd.oci.image.manifest.v1+json",
                None,
            ),
            entry(
                &cosign,
                cosign_size,
                "application/vnd.oci.image.manifest.v1+json",
                Some(&format!("{}.sig", fallback_tag(&subject))),
            ),
        ],
    );
    // While the subject is there, gc keeps every referrer (and the referrer's referrer).
    let r = oix(&["--json", "gc", &l.display().to_string()]).ok().json();
    assert!(r.get("referrer_entries_removed").is_none(), "{r}");
    for d in [&sbom_d, sig["digest"].as_str().unwrap(), &oras, &cosign] {
        assert!(
            l.join("blobs/sha256").join(&d[7..]).exists(),
            "{d} was removed"
        );
    }
    assert_fsck_clean(&l);

    // The subject goes: fsck warns (exit 0), gc drops the entries and their blobs.
    oix(&["untag", &at(&l, ":v1")]).ok();
    let rep = fsck(&l).ok().all_output();
    assert!(rep.contains("orphan-referrer"), "{rep}");
    let f = oix(&["--json", "fsck", &l.display().to_string()])
        .ok()
        .json();
    let orphans = f["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "orphan-referrer")
        .count();
    assert_eq!(orphans, 4, "{f}");
    assert!(f["problems"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["severity"] == "warning"));
    let before = tree_hash(&l);
    let dry = oix(&["--json", "gc", "--dry-run", &l.display().to_string()])
        .ok()
        .json();
    assert_eq!(
        dry["referrer_entries_removed"].as_array().unwrap().len(),
        4,
        "{dry}"
    );
    assert_eq!(tree_hash(&l), before, "gc --dry-run changed the layout");
    let out = oix(&["gc", &l.display().to_string()]).ok().stdout_str();
    assert!(out.contains("referrers of a subject that is gone"), "{out}");
    let names = ref_names(&l);
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("sha256-") || n == &fallback_tag(&keep)),
        "{names:?}"
    );
    assert_eq!(
        index_entries(&l).len(),
        2,
        "keep and its referrers index remain"
    );
    for d in [
        &subject,
        &sbom_d,
        sig["digest"].as_str().unwrap(),
        &oras,
        &cosign,
    ] {
        assert!(
            !l.join("blobs/sha256").join(&d[7..]).exists(),
            "{d} was kept"
        );
    }
    assert!(l
        .join("blobs/sha256")
        .join(&kept["digest"].as_str().unwrap()[7..])
        .exists());
    let f = oix(&["--json", "fsck", &l.display().to_string()])
        .ok()
        .json();
    assert_eq!(f["warnings"], 0, "{f}");
    assert_eq!(f["errors"], 0, "{f}");
}

/// Hostile: a referrer cycle. Content addressing forbids two `subject` fields naming
/// each other, but a cosign tag names its subject by name: A is tagged
/// `sha256-<B>.sig` (a "signature" of B) and B's `subject` is A. Every command ends; A's
/// referrers are B, B's are A, each listed once; gc removes both (nothing else reaches
/// them) and fsck is clean after.
#[test]
fn hostile_referrer_cycle_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    image(&l);
    let (a, a_size) = artifact_manifest(&l, None, "a", "application/vnd.a");
    let (b, b_size) = artifact_manifest(&l, Some((&a, a_size)), "b", "application/vnd.b");
    add_entries(
        &l,
        &[
            entry(
                &b,
                b_size,
                "application/vnd.oci.image.manifest.v1+json",
                None,
            ),
            entry(
                &a,
                a_size,
                "application/vnd.oci.image.manifest.v1+json",
                Some(&format!("{}.sig", fallback_tag(&b))),
            ),
        ],
    );
    let ls = l.display().to_string();
    let rows: Value = bounded(
        &["--json", "referrers", "-r", &at(&l, &format!("@{a}"))],
        60,
    )
    .ok()
    .json();
    assert_eq!(digests(rows["referrers"].as_array().unwrap()), [b.as_str()]);
    let rows: Value = bounded(
        &["--json", "referrers", "-r", &at(&l, &format!("@{b}"))],
        60,
    )
    .ok()
    .json();
    assert_eq!(digests(rows["referrers"].as_array().unwrap()), [a.as_str()]);
    bounded(&["ls", "--tree", &ls], 60).ok();
    bounded(&["ls", "--referrers", &ls], 60).ok();
    let f = bounded(&["--json", "fsck", &ls], 60).ok().json();
    let orphans = f["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "orphan-referrer")
        .count();
    assert_eq!(orphans, 2, "{f}");
    let out = bounded(&["--json", "gc", &ls], 60).ok().json();
    assert_eq!(
        out["referrer_entries_removed"].as_array().unwrap().len(),
        2,
        "{out}"
    );
    assert_eq!(ref_names(&l), ["v1"]);
    let f = oix(&["--json", "fsck", &ls]).ok().json();
    assert_eq!(f["warnings"], 0, "{f}");
}

/// Hostile: a referrers index that lists a manifest which is not a referrer of its
/// subject (no subject at all, or another subject): fsck warns, `referrers` does not
/// list it, gc keeps the listing (it is content of a kept entry), attach still works.
#[test]
fn hostile_fallback_index_listing_a_non_referrer() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let other = arch_image(&l, "other", "linux/arm64", "other");
    let (plain, plain_size) = artifact_manifest(&l, None, "plain", "application/vnd.plain");
    let (elsewhere, e_size) = artifact_manifest(
        &l,
        Some((&other, blob_size(&l, &other))),
        "else",
        "application/vnd.else",
    );
    let list = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{plain}","size":{plain_size}}},{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{elsewhere}","size":{e_size}}}]}}"#
    );
    let ld = raw_blob(&l, list.as_bytes());
    add_entries(
        &l,
        &[entry(
            &ld,
            list.len(),
            "application/vnd.oci.image.index.v1+json",
            Some(&fallback_tag(&subject)),
        )],
    );
    let f = bounded(&["--json", "fsck", &l.display().to_string()], 60)
        .ok()
        .json();
    let codes: Vec<&str> = f["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["not-a-referrer", "not-a-referrer"], "{f}");
    assert_eq!(f["errors"], 0);
    assert_eq!(referrers(&[&at(&l, ":v1")]).len(), 0);
    // A listing under the wrong tag lists nothing: `elsewhere` names `other`, which
    // has no referrers index of its own.
    assert_eq!(referrers(&[&at(&l, ":other")]).len(), 0);
    let _ = elsewhere;
    oix(&["gc", &l.display().to_string()]).ok();
    assert!(l.join("blobs/sha256").join(&plain[7..]).exists());
    let fl = file(tmp.path(), "a.txt", "a");
    attach(&at(&l, ":v1"), SBOM, &[&fl], &[]);
    assert_eq!(referrers(&[&at(&l, ":v1")]).len(), 1);
}

/// Hostile: 10,000 referrers of one subject (a regctl-style referrers index). `oix
/// referrers` lists them all, and its time grows linearly: 10x the referrers may not
/// cost more than 30x the time (quadratic would be 100x).
#[test]
fn ten_thousand_referrers_stay_linear() {
    let tmp = tempfile::tempdir().unwrap();
    let build = |name: &str, n: usize| -> (PathBuf, String) {
        let l = tmp.path().join(name);
        let subject = image(&l);
        let size = blob_size(&l, &subject);
        let mut listed = Vec::with_capacity(n);
        for i in 0..n {
            let (d, s) = artifact_manifest(&l, Some((&subject, size)), &format!("r{i}"), SBOM);
            listed.push(serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": s, "artifactType": SBOM}));
        }
        let list = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed})).unwrap();
        let ld = raw_blob(&l, &list);
        add_entries(
            &l,
            &[entry(
                &ld,
                list.len(),
                "application/vnd.oci.image.index.v1+json",
                Some(&fallback_tag(&subject)),
            )],
        );
        (l, subject)
    };
    let timed = |l: &Path| -> (usize, Duration) {
        let t = Instant::now();
        let v: Value = bounded(&["--json", "referrers", "-r", &at(l, ":v1")], 120)
            .ok()
            .json();
        (v["referrers"].as_array().unwrap().len(), t.elapsed())
    };
    let (small, _) = build("small", 1_000);
    let (big, subject) = build("big", 10_000);
    let (n_small, _) = timed(&small); // warm the page cache and the binary
    let (n_small2, t_small) = timed(&small);
    let (n_big, t_big) = timed(&big);
    assert_eq!((n_small, n_small2, n_big), (1_000, 1_000, 10_000));
    let ratio = t_big.as_secs_f64() / t_small.as_secs_f64().max(1e-3);
    eprintln!(
        "referrers: 1,000 in {:.3} s, 10,000 in {:.3} s, ratio {ratio:.1} (linear: ~10)",
        t_small.as_secs_f64(),
        t_big.as_secs_f64()
    );
    assert!(ratio < 30.0, "10x the referrers took {ratio:.1}x the time");
    // The rest stays usable: ls --tree, fsck, gc, and one more attach.
    bounded(&["ls", "--tree", &at(&big, ":v1")], 120).ok();
    bounded(&["fsck", "--quick", &big.display().to_string()], 120).ok();
    bounded(&["gc", &big.display().to_string()], 120).ok();
    let f = file(tmp.path(), "one-more.txt", "x");
    let d = attach(&at(&big, ":v1"), NOTES, &[&f], &[]);
    let list = blob_json(&big, &digest_of_ref(&big, &fallback_tag(&subject)));
    assert_eq!(list["manifests"].as_array().unwrap().len(), 10_001);
    assert_eq!(list["manifests"][10_000]["digest"], d["digest"]);
}

/// skopeo and umoci still read a layout with attached artifacts: skopeo copies the
/// subject (`--all`), reads the referrers index and (tagged) the artifact byte for byte;
/// umoci lists the refs and its gc keeps the referrers (they hang off index.json).
#[test]
fn skopeo_and_umoci_read_a_layout_with_attached_artifacts() {
    let (Some(sk), Some(um)) = (tool("skopeo"), tool("umoci")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let subject = image(&l);
    let f = file(tmp.path(), "sbom.json", "{}");
    let sbom = attach(&at(&l, ":v1"), SBOM, &[&format!("{f}:{SBOM}")], &[]);
    let sbom_d = sbom["digest"].as_str().unwrap().to_string();
    attach(&at(&l, &format!("@{sbom_d}")), SIG, &[&f], &[]);
    let tag = fallback_tag(&subject);
    let ld = l.display().to_string();

    let raw = skopeo(&sk, &["inspect", "--raw", &format!("oci:{ld}:{tag}")]).ok();
    assert_eq!(raw.stdout, blob(&l, &digest_of_ref(&l, &tag)));
    // skopeo 1.9 addresses layout content by ref (or @index), not by digest: tag it.
    oix(&["tag", &at(&l, &format!("@{sbom_d}")), "sbom"]).ok();
    let raw = skopeo(&sk, &["inspect", "--raw", &format!("oci:{ld}:sbom")]).ok();
    assert_eq!(raw.stdout, blob(&l, &sbom_d));
    oix(&["untag", &at(&l, ":sbom")]).ok();
    let l2 = tmp.path().join("l2");
    skopeo(
        &sk,
        &[
            "copy",
            "--all",
            "--preserve-digests",
            &format!("oci:{ld}:v1"),
            &format!("oci:{}:v1", l2.display()),
        ],
    )
    .ok();
    assert_eq!(digest_of_ref(&l2, "v1"), subject);

    let ls = run_tool(&um, &["ls", "--layout", &ld]).ok().stdout_str();
    assert!(ls.contains("v1") && ls.contains(&tag), "{ls}");
    run_tool(&um, &["gc", "--layout", &ld]).ok();
    assert_eq!(referrers(&["-r", &at(&l, ":v1")]).len(), 2);
    assert_fsck_clean(&l);
}

/// Concurrent attaches to one subject: every one is listed afterwards (each is one
/// index.json transaction re-reading the referrers index under the lock).
#[test]
fn concurrent_attaches_to_one_subject_are_all_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    image(&l);
    let children: Vec<_> = (0..8)
        .map(|i| {
            let f = file(tmp.path(), &format!("f{i}.txt"), &format!("file {i}"));
            oix_cmd(["attach", &at(&l, ":v1"), "--artifact-type", NOTES, &f])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(referrers(&[&at(&l, ":v1")]).len(), 8);
    assert_fsck_clean(&l);
}

/// Annotations from outside reach the terminal escaped (human output), exact in --json.
#[test]
fn referrer_annotations_are_escaped_for_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    image(&l);
    let f = file(tmp.path(), "a.txt", "a");
    let evil = "x\u{1b}]0;pwned\u{7}\u{1b}[2J";
    attach(
        &at(&l, ":v1"),
        NOTES,
        &[&f],
        &["--annotation", &format!("k={evil}")],
    );
    for args in [
        vec!["referrers", "-r"],
        vec!["ls", "--tree"],
        vec!["ls", "--referrers"],
    ] {
        let mut a = args.clone();
        let target = if args[0] == "ls" && args[1] == "--referrers" {
            l.display().to_string()
        } else {
            at(&l, ":v1")
        };
        a.push(&target);
        let out = oix(&a).ok();
        assert!(!out.stdout.contains(&0x1b), "{a:?}: raw ESC on stdout");
    }
    let rows = referrers(&[&at(&l, ":v1")]);
    assert_eq!(rows[0]["descriptor"]["annotations"]["k"], evil);
}

/// Ordinary names that look a little like referrer tags are never dropped by gc: an
/// index named `own-4` (found by tests/concurrency_mixed), a manifest named
/// `release-1.sig`, and an image index named `sha256-<64 hex>` that lists no referrers.
#[test]
fn gc_keeps_ordinary_entries_with_referrer_like_names() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    image(&l);
    oix(&["index", "add", &at(&l, ":own-4"), &at(&l, ":v1")]).ok();
    oix(&["tag", &at(&l, ":v1"), "release-1.sig"]).ok();
    let name = format!("sha256-{}", "0".repeat(64));
    oix(&["tag", &at(&l, ":own-4"), &name]).ok();
    let before = ref_names(&l);
    let f = oix(&["--json", "fsck", &l.display().to_string()])
        .ok()
        .json();
    assert_eq!(f["warnings"], 0, "{f}");
    let r = oix(&["--json", "gc", &l.display().to_string()]).ok().json();
    assert!(r.get("referrer_entries_removed").is_none(), "{r}");
    assert_eq!(ref_names(&l), before);
    assert_fsck_clean(&l);
}
