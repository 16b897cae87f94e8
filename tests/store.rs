//! Library-level tests of the layout store, transactions, the graph copy, fsck and gc.

mod common;

use common::tiny_image as image;
use oix::model::{media, Descriptor, Index};
use oix::{fsck, gc, Layout};
use std::fs;
use std::path::Path;

fn tagged(l: &Layout, d: &Descriptor, name: &str) {
    oix::tags::tag(l, d, &[name.to_string()]).unwrap();
}

fn codes(r: &fsck::Report) -> Vec<&'static str> {
    r.problems.iter().map(|p| p.code).collect()
}

fn new_layout(dir: &Path) -> Layout {
    Layout::init(dir.join("l")).unwrap().0
}

fn check(l: &Layout) -> fsck::Report {
    fsck::fsck(l, &fsck::Options::default()).unwrap()
}

fn first_layer(l: &Layout, d: &Descriptor) -> Descriptor {
    let (_, doc) = l.read_document(d).unwrap();
    match doc.unwrap() {
        oix::model::Document::Manifest(m) => m.layers[0].clone(),
        _ => unreachable!(),
    }
}

#[test]
fn clean_layout_fscks_clean_and_retag_is_a_noop() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let d = image(&l, "amd64", b"layer");
    tagged(&l, &d, "v1");
    let before = fs::read(l.root().join("index.json")).unwrap();
    tagged(&l, &d, "v1");
    assert_eq!(before, fs::read(l.root().join("index.json")).unwrap());
    let r = check(&l);
    assert!(r.clean, "{:?}", r.problems);
    assert_eq!(r.blobs_checked, 3);
}

#[test]
fn fsck_finds_each_kind_of_damage() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let a = image(&l, "amd64", b"aaaa");
    let b = image(&l, "arm64", b"bbbb");
    let c = image(&l, "s390x", b"cccc");
    tagged(&l, &a, "a");
    tagged(&l, &b, "b");
    tagged(&l, &c, "c");
    assert!(check(&l).clean);

    // a: delete its layer; b: truncate its layer; c: same-size different content.
    let (la, lb, lc) = (
        first_layer(&l, &a),
        first_layer(&l, &b),
        first_layer(&l, &c),
    );
    fs::remove_file(l.blob_path(&la.digest().unwrap())).unwrap();
    fs::write(l.blob_path(&lb.digest().unwrap()), b"bb").unwrap();
    fs::write(l.blob_path(&lc.digest().unwrap()), b"CCCC").unwrap();
    // An unreferenced blob under a wrong name, a stray file, a symlink leaving the layout.
    let wrong = oix::Digest::sha256_of(b"something else");
    fs::write(l.blob_path(&wrong), b"not that").unwrap();
    fs::write(l.root().join("blobs/sha256/notadigest"), b"x").unwrap();
    let outside = t.path().join("outside");
    fs::write(&outside, b"secret").unwrap();
    let escaped = oix::Digest::sha256_of(b"secret");
    std::os::unix::fs::symlink(&outside, l.blob_path(&escaped)).unwrap();

    let r = check(&l);
    assert!(!r.clean);
    let c = codes(&r);
    for want in [
        "missing-blob",
        "size-mismatch",
        "digest-mismatch",
        "misnamed-blob",
        "symlink-escape",
        "stray-file",
    ] {
        assert!(c.contains(&want), "missing {want} in {c:?}");
    }
    // Problems name the blob and its file.
    let miss = r
        .problems
        .iter()
        .find(|p| p.code == "missing-blob")
        .unwrap();
    assert_eq!(miss.digest.as_deref(), Some(la.digest.as_str()));
    assert!(miss
        .path
        .as_ref()
        .unwrap()
        .ends_with(la.digest.replace(':', "/")));
    // --quick does not hash: the same-size corruption goes unseen, the others not.
    let q = fsck::fsck(
        &l,
        &fsck::Options {
            quick: true,
            jobs: 1,
        },
    )
    .unwrap();
    assert!(!codes(&q).contains(&"digest-mismatch"));
    assert!(codes(&q).contains(&"size-mismatch"));
}

#[test]
fn fsck_checks_documents_configs_and_platforms() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    // A manifest descriptor pointing at bytes that are not a manifest.
    let junk = br#"{"schemaVersion":2,"hello":1}"#;
    let jd = l.write_blob_bytes(junk).unwrap();
    tagged(
        &l,
        &Descriptor::new(media::OCI_MANIFEST, &jd, junk.len() as u64),
        "junk",
    );
    // A config without os.
    let cfg = br#"{"architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = l.write_blob_bytes(cfg).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[]}}"#,
        media::OCI_CONFIG,
        cfg.len()
    );
    let md = l.write_blob_bytes(man.as_bytes()).unwrap();
    tagged(
        &l,
        &Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64),
        "nocfg",
    );
    // A platform that disagrees with the config: a warning only.
    let mut p = image(&l, "arm64", b"x");
    p.platform = Some(Box::new(oix::model::Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..Default::default()
    }));
    tagged(&l, &p, "mismatch");
    let r = check(&l);
    let c = codes(&r);
    assert!(c.contains(&"invalid-document"), "{c:?}");
    assert!(c.contains(&"invalid-config"), "{c:?}");
    let w = r
        .problems
        .iter()
        .find(|p| p.code == "platform-mismatch")
        .unwrap();
    assert_eq!(w.severity, fsck::Level::Warning);
}

#[test]
fn transaction_refuses_dangling_entries_and_keeps_unknown_fields() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let d = image(&l, "amd64", b"l");
    // Unknown fields in index.json and its descriptors survive a rewrite.
    let mut raw: serde_json::Value =
        serde_json::from_slice(&fs::read(l.root().join("index.json")).unwrap()).unwrap();
    let mut entry = serde_json::to_value(&d).unwrap();
    entry["vendor.extra"] = serde_json::json!({"k": [1, 2]});
    raw["manifests"] = serde_json::json!([entry]);
    raw["x-unknown"] = serde_json::json!("kept");
    fs::write(
        l.root().join("index.json"),
        serde_json::to_vec(&raw).unwrap(),
    )
    .unwrap();
    tagged(&l, &d, "v1");
    let after: serde_json::Value =
        serde_json::from_slice(&fs::read(l.root().join("index.json")).unwrap()).unwrap();
    assert_eq!(after["x-unknown"], "kept");
    assert_eq!(after["manifests"][0]["vendor.extra"]["k"][1], 2);

    let ghost = Descriptor::new(media::OCI_MANIFEST, &oix::Digest::sha256_of(b"ghost"), 5);
    let before = fs::read(l.root().join("index.json")).unwrap();
    let err = l
        .transact(|idx: &mut Index| {
            idx.manifests.push(ghost.clone());
            Ok(())
        })
        .unwrap_err();
    assert!(err.message.contains("not in the layout"), "{}", err.message);
    assert_eq!(before, fs::read(l.root().join("index.json")).unwrap());
}

#[test]
fn gc_sweeps_unreachable_keeps_reachable_and_referrers() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let keep = image(&l, "amd64", b"keep");
    let gone = image(&l, "arm64", b"drop");
    tagged(&l, &keep, "keep");
    // A referrer (e.g. a signature) whose subject is kept, not listed in index.json.
    let sig_layer = l.write_blob_bytes(b"signature").unwrap();
    let empty = l.write_blob_bytes(b"{}").unwrap();
    let sig = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/example.sig","config":{{"mediaType":"{}","digest":"{empty}","size":2}},"layers":[{{"mediaType":"application/octet-stream","digest":"{sig_layer}","size":9}}],"subject":{{"mediaType":"{}","digest":"{}","size":{}}}}}"#,
        media::OCI_MANIFEST,
        media::OCI_EMPTY,
        media::OCI_MANIFEST,
        keep.digest,
        keep.size
    );
    let sig_d = l.write_blob_bytes(sig.as_bytes()).unwrap();
    // A stale temp file from a crashed writer.
    fs::write(l.root().join(".oix-tmp-crashed"), b"partial").unwrap();

    let dry = gc::gc(&l, true).unwrap();
    assert_eq!(dry.removed.len(), 3, "{:?}", dry.removed);
    assert!(l.has_blob(&gone.digest().unwrap()));

    let r = gc::gc(&l, false).unwrap();
    assert_eq!(r.removed.len(), 3);
    assert!(r.removed.contains(&gone.digest));
    assert_eq!(r.temp_files_removed, 1);
    assert!(l.has_blob(&sig_d) && l.has_blob(&sig_layer) && l.has_blob(&empty));
    assert!(!l.has_blob(&gone.digest().unwrap()));
    assert!(check(&l).clean);
    // Idempotent.
    assert!(gc::gc(&l, false).unwrap().removed.is_empty());
}

#[test]
fn gc_refuses_on_a_broken_graph_and_waits_for_writers() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let a = image(&l, "amd64", b"a");
    tagged(&l, &a, "a");
    let orphan = l.write_blob_bytes(b"orphan").unwrap();
    fs::remove_file(l.blob_path(&a.digest().unwrap())).unwrap();
    let e = gc::gc(&l, false).unwrap_err();
    assert!(e.message.contains("refuses"), "{}", e.message);
    assert!(l.has_blob(&orphan), "nothing swept");

    // A writer that holds the fence (it wrote a blob not yet referenced) blocks gc.
    let t2 = tempfile::tempdir().unwrap();
    let w = new_layout(t2.path());
    let pending = w.write_blob_bytes(b"about to be referenced").unwrap();
    let g = Layout::open(w.root())
        .unwrap()
        .with_lock_timeout(std::time::Duration::from_millis(200));
    let e = gc::gc(&g, false).unwrap_err();
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(w.has_blob(&pending));
    drop(w);
    assert_eq!(gc::gc(&g, false).unwrap().removed.len(), 1);
}

#[test]
fn copy_graph_links_blobs_and_writes_children_first() {
    let t = tempfile::tempdir().unwrap();
    let src = Layout::init(t.path().join("src")).unwrap().0;
    let a = image(&src, "amd64", b"A");
    let b = image(&src, "arm64", b"B");
    let idx = Index {
        manifests: vec![a, b],
        ..Index::default()
    };
    let bytes = idx.to_bytes();
    let id = src.write_blob_bytes(&bytes).unwrap();
    let root = Descriptor::new(media::OCI_INDEX, &id, bytes.len() as u64);
    let dst = Layout::init(t.path().join("dst")).unwrap().0;
    let rep = oix::copy::copy_graph(&src, &dst, std::slice::from_ref(&root), &Default::default())
        .unwrap();
    assert_eq!(rep.linked, 4, "{rep:?}");
    assert_eq!(rep.manifests, 3);
    tagged(&dst, &root, "multi");
    assert!(check(&dst).clean);
    // Second copy: nothing to do.
    let again = oix::copy::copy_graph(&src, &dst, &[root], &Default::default()).unwrap();
    assert_eq!((again.linked, again.copied, again.manifests), (0, 0, 0));
}

#[test]
fn write_blob_verifies_before_the_blob_is_visible() {
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let want = oix::Digest::sha256_of(b"right");
    let e = l
        .write_blob(&mut &b"wrong"[..], Some((&want, 5)))
        .unwrap_err();
    assert!(e.message.contains("hashes to"));
    let e = l
        .write_blob(&mut &b"right!"[..], Some((&want, 5)))
        .unwrap_err();
    assert!(e.message.contains("larger than"), "{}", e.message);
    assert!(!l.has_blob(&want));
    l.write_blob(&mut &b"right"[..], Some((&want, 5))).unwrap();
    assert!(l.has_blob(&want));
    // No temp files left behind.
    let temps = fs::read_dir(l.root())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".oix-tmp-")
        })
        .count();
    assert_eq!(temps, 0);
}

/// The hashing threads take blobs biggest first from a shared cursor; whatever the
/// number of threads, every blob is checked once and the report is the same.
#[test]
fn fsck_reports_the_same_for_any_number_of_threads() {
    for name in [
        "digest-mismatch-layer",
        "missing-layer",
        "wrong-size",
        "truncated-layer",
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corrupt")
            .join(name);
        let l = Layout::open(&dir).unwrap();
        let run = |jobs: usize| {
            let opts = fsck::Options {
                jobs,
                ..fsck::Options::default()
            };
            let r = fsck::fsck(&l, &opts).unwrap();
            (
                serde_json::to_string(&r.problems).unwrap(),
                r.blobs_checked,
                r.bytes_hashed,
            )
        };
        let one = run(1);
        assert!(one.0.len() > 2, "{name}: the fixture is damaged");
        for jobs in [2, 3, 16] {
            assert_eq!(run(jobs), one, "{name} with {jobs} threads");
        }
    }
}

/// `oix fsck -j 1` and `-j 4` print the same report (text and `--json`) and exit the
/// same on a damaged layout whose blobs differ widely in size (the hashing threads of
/// the shared pool take them biggest first; issue 13).
#[test]
fn fsck_cli_reports_the_same_with_1_and_4_jobs() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let l = new_layout(t.path());
    let mut sizes = vec![3 << 20, 3 << 20, 2 << 20, 1 << 20];
    sizes.extend((0..60).map(|i| 100 + 37 * i));
    let mut layers = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..*n).map(|j| (j * 31 + i * 7) as u8).collect();
        layers.push((l.write_blob_bytes(&data).unwrap(), *n));
    }
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cfg_d = l.write_blob_bytes(cfg).unwrap();
    let layer_json: Vec<String> = layers
        .iter()
        .map(|(d, n)| {
            format!(
                r#"{{"mediaType":"{}","digest":"{d}","size":{n}}}"#,
                media::OCI_LAYER_TAR
            )
        })
        .collect();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cfg_d}","size":{}}},"layers":[{}]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len(),
        layer_json.join(",")
    );
    let man_d = l.write_blob_bytes(man.as_bytes()).unwrap();
    tagged(
        &l,
        &Descriptor::new(media::OCI_MANIFEST, &man_d, man.len() as u64),
        "v",
    );
    // Damage: a flipped byte in a big blob, a truncated one, a missing small one.
    let writable = |d: &oix::Digest| {
        let p = l.blob_path(d);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        p
    };
    let p = writable(&layers[1].0);
    let mut bytes = fs::read(&p).unwrap();
    bytes[12345] ^= 1;
    fs::write(&p, bytes).unwrap();
    let p = writable(&layers[3].0);
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(1000)
        .unwrap();
    fs::remove_file(l.blob_path(&layers[10].0)).unwrap();

    let dir = l.root().to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["fsck"];
        all.extend_from_slice(args);
        all.push(&dir);
        let r = common::oix(&all);
        r.assert_no_panic();
        (r.code, r.stdout_str())
    };
    let one = run(&["-j", "1", "--json"]);
    assert_ne!(one.0, 0, "a damaged layout fails: {}", one.1);
    for code in ["digest-mismatch", "size-mismatch", "missing-blob"] {
        assert!(one.1.contains(code), "{code} in {}", one.1);
    }
    assert_eq!(run(&["-j", "4", "--json"]), one);
    assert_eq!(run(&["-j", "4"]), run(&["-j", "1"]));
}
