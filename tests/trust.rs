//! Trust boundaries between layouts (issue 12, sections 1 and 6): content that enters a
//! layout from another one is verified, is never left sharing an inode someone else can
//! write, a file that merely has a blob's name is not taken for the blob, and gc and
//! fsck decide what is reachable by one rule.

mod common;
mod common_registry;

use common::*;
use oix::model::{media, Descriptor};
use oix::{fsck, gc, Layout};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap();
    dir.join("blobs").join(alg).join(hex)
}

/// A source layout `dir` with image `img` (linux/amd64) whose layer is `layer_len`
/// bytes; returns the layer digest.
fn source(dir: &Path, salt: &str) -> String {
    let man = arch_image(dir, "img", "linux/amd64", salt);
    blob_json(dir, &man)["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Flip one byte of a file in place (its size stays the same).
fn flip_byte(path: &Path) {
    let mut b = fs::read(path).unwrap();
    b[3] ^= 0x20;
    // Blobs are 0444; the tests run as root, but make it explicit for other users.
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(path, b).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o444)).unwrap();
}

/// A destination layout that already holds something (so "unchanged" means something).
fn destination(dir: &Path) {
    arch_image(dir, "other", "linux/arm64", "dest");
}

#[test]
fn a_corrupt_source_blob_is_refused_and_the_destination_is_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let layer = source(&src, "corrupt");
    let layer_file = blob_path(&src, &layer);
    flip_byte(&layer_file);
    let dst = t.path().join("dst");
    destination(&dst);
    let good = t.path().join("good");
    arch_image(&good, "img", "linux/s390x", "good");
    let before = tree_hash(&dst);
    let cases: Vec<Vec<String>> = vec![
        // Several sources, the corrupt one last: the good one's blobs stay out too.
        vec![
            "merge".into(),
            at(&dst, ":rel"),
            at(&good, ":img"),
            at(&src, ":img"),
            "--policy".into(),
            "union".into(),
        ],
        vec![
            "import".into(),
            at(&src, ":img"),
            "-o".into(),
            at(&dst, ":img"),
        ],
        vec![
            "merge".into(),
            at(&dst, ":rel"),
            at(&src, ":img"),
            "--policy".into(),
            "union".into(),
        ],
        vec![
            "index".into(),
            "add".into(),
            at(&dst, ":rel"),
            at(&src, ":img"),
        ],
        vec![
            "index".into(),
            "create".into(),
            at(&dst, ":rel"),
            at(&src, ":img"),
        ],
    ];
    for args in &cases {
        let r = oix(args).fails_with(1);
        assert!(
            r.stderr.contains(&layer_file.display().to_string()) && r.stderr.contains("hashes to"),
            "{args:?}: the error names the source file and the digests: {}",
            r.stderr
        );
        assert!(r.stderr.contains(&layer), "{}", r.stderr);
        assert_eq!(tree_hash(&dst), before, "{args:?} changed the destination");
    }
    assert_fsck_clean(&dst);

    // --trust-source takes the user's word: the blob is linked without being hashed
    // (so the corrupt content does get in, and fsck of the destination finds it).
    let r = oix(&[
        "import".to_string(),
        at(&src, ":img"),
        "-o".into(),
        at(&dst, ":img"),
        "--trust-source".into(),
    ])
    .ok();
    assert!(r.stderr.contains("imported"), "{}", r.stderr);
    let linked = fs::metadata(blob_path(&dst, &layer)).unwrap();
    assert_eq!(linked.ino(), fs::metadata(&layer_file).unwrap().ino());
    fsck(&dst).exits(1).output_contains("digest-mismatch");
}

#[test]
fn only_a_source_file_nobody_else_can_write_is_hard_linked() {
    let t = tempfile::tempdir().unwrap();
    // uid, mode of the source layer → linked?
    let cases: &[(&str, Option<u32>, u32, bool)] = &[
        ("own-0444", None, 0o444, true),
        ("own-0644", None, 0o644, true),
        ("foreign", Some(65534), 0o444, false),
        ("own-0666", None, 0o666, false),
        ("own-0464", None, 0o464, false),
    ];
    for &(name, owner, mode, link) in cases {
        let src = t.path().join(format!("src-{name}"));
        let layer = source(&src, name);
        let f = blob_path(&src, &layer);
        if let Some(uid) = owner {
            std::os::unix::fs::chown(&f, Some(uid), Some(uid)).unwrap();
        }
        fs::set_permissions(&f, fs::Permissions::from_mode(mode)).unwrap();
        for cmd in ["import", "merge"] {
            let dst = t.path().join(format!("dst-{name}-{cmd}"));
            match cmd {
                "import" => oix(&[
                    "import".to_string(),
                    at(&src, ":img"),
                    "-o".into(),
                    at(&dst, ":img"),
                ]),
                _ => oix(&[
                    "merge".to_string(),
                    at(&dst, ":rel"),
                    at(&src, ":img"),
                    "--policy".into(),
                    "union".into(),
                ]),
            }
            .ok();
            let s = fs::metadata(&f).unwrap();
            let d = fs::metadata(blob_path(&dst, &layer)).unwrap();
            assert_eq!(d.ino() == s.ino(), link, "{name} {cmd}: linked?");
            if link {
                assert!(d.nlink() >= 2, "{name} {cmd}");
            } else {
                // A private copy: ours, read-only, and the source is left alone.
                assert_eq!(d.nlink(), 1, "{name} {cmd}");
                assert_eq!(d.uid(), s_uid_of_process(), "{name} {cmd}");
                assert_eq!(d.mode() & 0o7777, 0o444, "{name} {cmd}");
                assert_eq!(s.mode() & 0o7777, mode, "{name} {cmd}: source mode kept");
            }
            assert_fsck_clean(&dst);
        }
    }
}

/// The uid this test runs as (the owner of a file it creates).
fn s_uid_of_process() -> u32 {
    let t = tempfile::NamedTempFile::new().unwrap();
    t.as_file().metadata().unwrap().uid()
}

#[test]
fn blobs_oix_writes_are_read_only() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    source(&src, "modes");
    let dst = t.path().join("dst");
    oix(&[
        "merge".to_string(),
        at(&dst, ":rel"),
        at(&src, ":img"),
        "--policy".into(),
        "union".into(),
    ])
    .ok();
    for dir in [&src, &dst] {
        for e in fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let m = e.unwrap().metadata().unwrap();
            assert_eq!(m.mode() & 0o7777, 0o444, "{}", dir.display());
        }
        // index.json stays an ordinary file that oix replaces by rename.
        let m = fs::metadata(dir.join("index.json")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o644);
    }
    // gc can still remove them.
    let before = fs::read_dir(dst.join("blobs/sha256")).unwrap().count();
    oix(&["untag".to_string(), at(&dst, ":rel")]).ok();
    oix(&["gc".to_string(), dst.display().to_string()]).ok();
    let after = fs::read_dir(dst.join("blobs/sha256")).unwrap().count();
    assert!(after < before, "{before} -> {after}");
    assert_fsck_clean(&dst);
}

/// Put `bytes` under blob `digest`'s name in `dir` (as another tool, or an attacker,
/// could), with `mode`.
fn plant(dir: &Path, digest: &str, bytes: &[u8], mode: u32) -> PathBuf {
    let p = blob_path(dir, digest);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&p);
    fs::write(&p, bytes).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn a_wrong_file_under_a_blob_name_is_replaced_by_merge_import_and_index_add() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let layer = source(&src, "replace");
    let good = fs::read(blob_path(&src, &layer)).unwrap();
    let mut same_size = good.clone();
    same_size[0] ^= 1;
    // An 8-byte file; a same-size file with other content (not sealed: 0644, so hashed).
    for (what, bytes) in [("short", b"8 bytes!".to_vec()), ("same-size", same_size)] {
        for cmd in ["merge", "import", "index-add"] {
            let dst = t.path().join(format!("dst-{what}-{cmd}"));
            destination(&dst);
            plant(&dst, &layer, &bytes, 0o644);
            let args: Vec<String> = match cmd {
                "merge" => vec![
                    "merge".into(),
                    at(&dst, ":rel"),
                    at(&src, ":img"),
                    "--policy".into(),
                    "union".into(),
                ],
                "import" => vec![
                    "import".into(),
                    at(&src, ":img"),
                    "-o".into(),
                    at(&dst, ":img"),
                ],
                _ => vec![
                    "index".into(),
                    "add".into(),
                    at(&dst, ":rel"),
                    at(&src, ":img"),
                ],
            };
            oix(&args).ok();
            assert_eq!(
                fs::read(blob_path(&dst, &layer)).unwrap(),
                good,
                "{what} {cmd}"
            );
            assert_fsck_clean(&dst);
        }
    }

    // Import from an archive: the archive is fine, the destination file is not; it is
    // replaced (it used to be refused with the archive blamed).
    let archive = t.path().join("img.tar");
    oix(&[
        "export".to_string(),
        at(&src, ":img"),
        "-o".into(),
        archive.display().to_string(),
    ])
    .ok();
    let dst = t.path().join("dst-archive");
    destination(&dst);
    plant(&dst, &layer, b"8 bytes!", 0o644);
    oix(&[
        "import".to_string(),
        archive.display().to_string(),
        "-o".into(),
        at(&dst, ":img"),
    ])
    .ok();
    assert_eq!(fs::read(blob_path(&dst, &layer)).unwrap(), good);
    assert_fsck_clean(&dst);

    // What cannot be replaced (a directory under the blob's name) is named, and blamed.
    for cmd in ["merge", "archive"] {
        let dst = t.path().join(format!("dst-dir-{cmd}"));
        destination(&dst);
        let p = blob_path(&dst, &layer);
        fs::create_dir_all(p.join("x")).unwrap();
        let args: Vec<String> = if cmd == "merge" {
            vec![
                "merge".into(),
                at(&dst, ":rel"),
                at(&src, ":img"),
                "--policy".into(),
                "union".into(),
            ]
        } else {
            vec![
                "import".into(),
                archive.display().to_string(),
                "-o".into(),
                at(&dst, ":img"),
            ]
        };
        let r = oix(&args).fails_with(1);
        assert!(
            r.stderr.contains(&p.display().to_string()) && r.stderr.contains("cannot be replaced"),
            "{cmd}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("corrupt or hostile"), "{}", r.stderr);
    }
}

#[test]
fn pull_replaces_a_wrong_file_under_a_blob_name() {
    use common_registry::{random_bytes, tools_present, Auth, RegistryServer};
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    // A 345-byte layer, as in the report.
    let l = Layout::init(&src).unwrap().0;
    let layer_bytes = random_bytes(12, 345);
    let ld = l.write_blob_bytes(&layer_bytes).unwrap();
    let cfg = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
    );
    let cd = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{ld}","size":345}}]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        cfg.len(),
        media::OCI_LAYER_TAR,
    );
    let md = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = Descriptor::new(media::OCI_MANIFEST, &md, man.len() as u64);
    oix::tags::tag(&l, &d, &["v1".to_string()]).unwrap();
    oix(&[
        "push".to_string(),
        at(&src, ":v1"),
        format!("docker://{h}/t/app:v1"),
        "--plain-http".into(),
    ])
    .ok();
    let dst = t.path().join("dst");
    destination(&dst);
    let layer = ld.to_string();
    plant(&dst, &layer, b"8 bytes!", 0o644);
    // The manifest too, same size, wrong content: present documents are checked as well.
    let mut wrong = man.clone().into_bytes();
    wrong[10] = b' ';
    plant(&dst, &md.to_string(), &wrong, 0o644);
    oix(&[
        "pull".to_string(),
        format!("docker://{h}/t/app:v1"),
        at(&dst, ":v1"),
        "--plain-http".into(),
    ])
    .ok();
    assert_eq!(fs::read(blob_path(&dst, &layer)).unwrap(), layer_bytes);
    assert_eq!(
        fs::read(blob_path(&dst, &md.to_string())).unwrap(),
        man.as_bytes()
    );
    assert_fsck_clean(&dst);
}

// ---- gc and fsck agree (section 6) ----

/// A referrer manifest (an artifact with one layer) whose subject is `subject`;
/// returns its bytes (not stored).
fn referrer_bytes(subject: &Descriptor, layer: &Descriptor) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/vnd.example.sig","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[{{"mediaType":"application/vnd.example.sig.v1","digest":"{}","size":{}}}],"subject":{{"mediaType":"{}","digest":"{}","size":{}}}}}"#,
        media::OCI_MANIFEST,
        layer.digest,
        layer.size,
        subject.media_type,
        subject.digest,
        subject.size
    )
    .into_bytes()
}

fn check(l: &Layout) -> fsck::Report {
    fsck::fsck(l, &fsck::Options::default()).unwrap()
}

#[test]
fn gc_then_fsck_is_clean_with_misnamed_and_incomplete_referrers() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::init(t.path().join("l")).unwrap().0;
    let img = tiny_image(&l, "amd64", b"the image layer");
    oix::tags::tag(&l, &img, &["v1".to_string()]).unwrap();
    l.write_blob_bytes(b"{}").unwrap(); // the empty config every referrer uses

    // A whole referrer: kept by gc, its blobs checked by fsck.
    let sig = l.write_blob_bytes(b"signature").unwrap();
    let sig_d = Descriptor::new("application/vnd.example.sig.v1", &sig, 9);
    let whole = l.write_blob_bytes(&referrer_bytes(&img, &sig_d)).unwrap();

    // Incomplete: its layer is not in the layout.
    let absent = Descriptor::new(
        "application/vnd.example.sig.v1",
        &oix::Digest::sha256_of(b"never stored"),
        12,
    );
    let incomplete = l.write_blob_bytes(&referrer_bytes(&img, &absent)).unwrap();

    // Misnamed: a referrer document stored under another document's name.
    let misnamed_bytes = referrer_bytes(&img, &sig_d);
    let mut other = misnamed_bytes.clone();
    other.extend_from_slice(b" ");
    let misnamed = oix::Digest::sha256_of(&other);
    plant(l.root(), &misnamed.to_string(), &misnamed_bytes, 0o444);

    let before = check(&l);
    assert!(!before.clean, "the misnamed blob is an error before gc");
    assert!(before
        .problems
        .iter()
        .any(|p| p.code == "incomplete-referrer"
            && p.digest.as_deref() == Some(&*incomplete.to_string())));

    let r = gc::gc(&l, false).unwrap();
    assert!(
        r.removed.contains(&incomplete.to_string()),
        "{:?}",
        r.removed
    );
    assert!(r.removed.contains(&misnamed.to_string()), "{:?}", r.removed);
    assert!(!r.removed.contains(&whole.to_string()));
    assert!(!r.removed.contains(&sig.to_string()));
    let after = check(&l);
    assert!(
        after.clean && after.problems.is_empty(),
        "{:?}",
        after.problems
    );
    assert_fsck_clean(l.root());
}

#[test]
fn fsck_checks_the_blobs_of_referrers() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::init(t.path().join("l")).unwrap().0;
    let img = tiny_image(&l, "amd64", b"the image layer");
    oix::tags::tag(&l, &img, &["v1".to_string()]).unwrap();
    l.write_blob_bytes(b"{}").unwrap();
    let sig = l.write_blob_bytes(b"signature").unwrap();
    let sig_d = Descriptor::new("application/vnd.example.sig.v1", &sig, 9);
    let referrer = l.write_blob_bytes(&referrer_bytes(&img, &sig_d)).unwrap();
    assert!(check(&l).clean);
    flip_byte(&l.blob_path(&sig));
    let r = check(&l);
    let p = r
        .problems
        .iter()
        .find(|p| p.digest.as_deref() == Some(&*sig.to_string()))
        .unwrap_or_else(|| panic!("{:?}", r.problems));
    assert_eq!(p.code, "digest-mismatch", "{p:?}");
    assert_eq!(p.referrer.as_deref(), Some(&*referrer.to_string()));
    // gc keeps it (the referrer is whole; its content is damaged, which gc does not
    // repair), and fsck still reports it.
    let g = gc::gc(&l, false).unwrap();
    assert!(g.removed.is_empty(), "{:?}", g.removed);
    assert!(!check(&l).clean);
}
