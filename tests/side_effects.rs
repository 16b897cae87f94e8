//! A failed command changes nothing (issue 12, section 4): a destination layout that
//! did not exist (or was an empty directory) is still absent (or empty) after a command
//! that fails, with the exit code it always had; killed exports leave no temp files that
//! the next export does not clean; `gc --dry-run` reads a read-only layout; a full disk
//! is reported as such, with the path.

mod common;
mod common_registry;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The sorted names in `dir`.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Some bytes that do not compress (xorshift).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&rng.next().to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A layout `good` with ref `1` (a 1 MB uncompressed layer), a root filesystem, an
/// archive of `good:1` and that archive cut inside its last (layer) blob: its
/// manifest and config import before the cut is found.
struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    good: PathBuf,
    rootfs: PathBuf,
    cut_archive: PathBuf,
    junk_archive: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let rootfs = dir.join("rootfs");
    fs::create_dir(&rootfs).unwrap();
    fs::write(rootfs.join("big"), noise(7, 1_000_000)).unwrap();
    let good = dir.join("good");
    oix(&[
        "build",
        rootfs.to_str().unwrap(),
        "-o",
        &at(&good, ":1"),
        "--platform",
        "linux/amd64",
        "--compression",
        "none",
    ])
    .ok();
    let archive = dir.join("good.tar");
    oix(&["export", &at(&good, ":1"), "-o", archive.to_str().unwrap()]).ok();
    let bytes = fs::read(&archive).unwrap();
    let cut_archive = dir.join("cut.tar");
    fs::write(&cut_archive, &bytes[..bytes.len() - 300_000]).unwrap();
    let junk_archive = dir.join("junk.tar");
    fs::write(&junk_archive, b"this is not a tar archive").unwrap();
    World {
        _tmp: tmp,
        dir,
        good,
        rootfs,
        cut_archive,
        junk_archive,
    }
}

/// Every failing command of issue 12, section 4, with its destination `D` and the
/// exit code it has always had.
fn failing_commands(w: &World, dest: &Path) -> Vec<(&'static str, Vec<String>, i32)> {
    let d = |s: &str| at(dest, s);
    let good = |s: &str| at(&w.good, s);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let rootfs = w.rootfs.to_str().unwrap();
    vec![
        (
            "build --base (missing base ref)",
            s(&[
                "build",
                rootfs,
                "-o",
                &d(":x"),
                "--platform",
                "linux/amd64",
                "--base",
                &good(":nope"),
            ]),
            3,
        ),
        (
            "merge --policy require-all (refused, nothing written)",
            s(&[
                "merge",
                &d(":r"),
                &good(":1"),
                "--policy",
                "require-all",
                "--expect",
                "linux/arm64",
            ]),
            5,
        ),
        (
            "merge with a missing source",
            s(&["merge", &d(":r"), &good(":nope"), "--policy", "union"]),
            3,
        ),
        (
            "index create with a missing source",
            s(&["index", "create", &d(":r"), &good(":nope")]),
            3,
        ),
        (
            "index add with a missing source",
            s(&["index", "add", &d(":r"), &good(":nope")]),
            3,
        ),
        (
            "import of a file that is not an archive",
            s(&["import", w.junk_archive.to_str().unwrap(), "-o", &d(":x")]),
            1,
        ),
        (
            "import of an archive cut inside its last blob (two blobs written first)",
            s(&["import", w.cut_archive.to_str().unwrap(), "-o", &d(":x")]),
            1,
        ),
    ]
}

#[test]
fn failed_commands_leave_no_new_layout() {
    let w = world();
    let before = listing(&w.dir);
    let mut checked = 0;
    for (what, args, code) in failing_commands(&w, &w.dir.join("new")) {
        oix(&args).fails_with(code);
        assert!(
            !w.dir.join("new").exists(),
            "{what}: left {:?} behind",
            listing(&w.dir.join("new"))
        );
        assert_eq!(
            listing(&w.dir),
            before,
            "{what}: changed the parent directory"
        );
        checked += 1;
    }
    // An empty directory that was there stays, empty, with its mode.
    let empty = w.dir.join("empty");
    fs::create_dir(&empty).unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o750)).unwrap();
    let before = listing(&w.dir);
    for (what, args, code) in failing_commands(&w, &empty) {
        oix(&args).fails_with(code);
        assert_eq!(listing(&empty), Vec::<String>::new(), "{what}");
        let mode = fs::metadata(&empty).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o750, "{what}: mode of the empty directory");
        assert_eq!(
            listing(&w.dir),
            before,
            "{what}: changed the parent directory"
        );
        checked += 1;
    }
    eprintln!("failed commands leave nothing: {checked} failure cases checked");
}

#[test]
fn failed_pull_of_a_missing_tag_leaves_no_layout() {
    if !common_registry::require("docker-registry") {
        return;
    }
    let reg = common_registry::RegistryServer::start(None, common_registry::Auth::None);
    let w = world();
    oix(&[
        "push",
        &at(&w.good, ":1"),
        &format!("docker://{}/t/app:1", reg.host()),
        "--plain-http",
    ])
    .ok();
    let before = listing(&w.dir);
    let dest = w.dir.join("pulled");
    oix(&[
        "pull",
        &format!("docker://{}/t/app:missing", reg.host()),
        &at(&dest, ":x"),
        "--plain-http",
        "--retries",
        "0",
    ])
    .fails_with(3);
    assert!(!dest.exists(), "a failed pull created {}", dest.display());
    assert_eq!(listing(&w.dir), before);
    // The same pull of a tag that exists creates the layout.
    oix(&[
        "pull",
        &format!("docker://{}/t/app:1", reg.host()),
        &at(&dest, ":x"),
        "--plain-http",
    ])
    .ok();
    assert_fsck_clean(&dest);
}

#[test]
fn successful_commands_still_create_the_destination() {
    let w = world();
    let m = w.dir.join("merged");
    oix(&[
        "merge",
        &at(&m, ":r"),
        &at(&w.good, ":1"),
        "--policy",
        "union",
    ])
    .ok();
    assert_fsck_clean(&m);
    assert_eq!(ref_names(&m), vec!["r"]);
    let empty = w.dir.join("empty");
    fs::create_dir(&empty).unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o750)).unwrap();
    let archive = w.dir.join("good.tar");
    oix(&["import", archive.to_str().unwrap(), "-o", &at(&empty, ":x")]).ok();
    assert_fsck_clean(&empty);
    let mode = fs::metadata(&empty).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o750);
    // No staging directories left beside them.
    assert!(
        !listing(&w.dir).iter().any(|n| n.starts_with(".oix-")),
        "{:?}",
        listing(&w.dir)
    );
}

/// The library mechanism: nothing exists until the first write; blobs without a
/// committed transaction are removed with the handle; a commit keeps the layout; a
/// layout another handle is writing to is not removed under it.
#[test]
fn open_or_create_creates_on_first_write_and_rolls_back_on_drop() {
    use oix::Layout;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("l");

    let l = Layout::open_or_create(&p).unwrap();
    assert!(l.read_index().unwrap().0.manifests.is_empty());
    assert!(!p.exists(), "opening must not create");
    drop(l);
    assert!(!p.exists());

    let l = Layout::open_or_create(&p).unwrap();
    let d = l.write_blob_bytes(b"hello").unwrap();
    assert!(p.join("oci-layout").exists() && l.has_blob(&d));
    drop(l);
    assert!(!p.exists(), "blobs without a commit are rolled back");

    // Another handle in the layout (holding the writer fence): it stays.
    let l = Layout::open_or_create(&p).unwrap();
    l.write_blob_bytes(b"hello").unwrap();
    let other = Layout::open(&p).unwrap();
    other.enter_writer().unwrap();
    drop(l);
    assert!(
        p.join("oci-layout").exists(),
        "removed under another writer"
    );
    drop(other);
    Layout::open(&p).unwrap();
    fs::remove_dir_all(&p).unwrap();

    // A committed transaction keeps it.
    let l = Layout::open_or_create(&p).unwrap();
    let d = l
        .write_blob_bytes(br#"{"schemaVersion":2,"manifests":[]}"#)
        .unwrap();
    let desc = oix::model::Descriptor::new(oix::model::media::OCI_INDEX, &d, 34);
    oix::tags::tag(&l, &desc, &["t".to_string()]).unwrap();
    drop(l);
    assert_eq!(ref_names(&p), vec!["t"]);

    // A path that is neither missing, empty nor a layout is refused untouched.
    let f = tmp.path().join("file");
    fs::write(&f, b"x").unwrap();
    assert!(Layout::open_or_create(&f).is_err());
    assert_eq!(fs::read(&f).unwrap(), b"x");
}

/// `dir` made read-only for root too: a read-only bind mount of it over itself, else
/// `chattr +i` on it and everything in it. Undone on drop. `None` when neither works
/// (a failure under CI: the test must not pass without checking anything).
struct ReadOnly {
    dir: PathBuf,
    mounted: bool,
}

impl ReadOnly {
    fn make(dir: &Path) -> Option<ReadOnly> {
        let sh = |cmd: &str, args: &[&str]| {
            std::process::Command::new(cmd)
                .args(args)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let d = dir.to_str().unwrap();
        if sh("mount", &["--bind", d, d]) {
            if sh("mount", &["-o", "remount,ro,bind", d]) {
                return Some(ReadOnly {
                    dir: dir.to_path_buf(),
                    mounted: true,
                });
            }
            sh("umount", &[d]);
        }
        if sh("chattr", &["-R", "+i", d]) {
            return Some(ReadOnly {
                dir: dir.to_path_buf(),
                mounted: false,
            });
        }
        None
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let d = self.dir.to_str().unwrap();
        let ok = if self.mounted {
            std::process::Command::new("umount").arg(d).status()
        } else {
            std::process::Command::new("chattr")
                .args(["-R", "-i", d])
                .status()
        };
        assert!(ok.is_ok_and(|s| s.success()), "cannot undo read-only {d}");
    }
}

#[test]
fn gc_dry_run_works_on_a_read_only_layout() {
    let w = world();
    let l = &w.good;
    // Garbage to report: an unreferenced blob and a stale temp file.
    let lay = oix::Layout::open(l).unwrap();
    let orphan = lay.write_blob_bytes(b"nothing references me").unwrap();
    drop(lay);
    fs::write(l.join(".oix-tmp-stale"), b"x").unwrap();
    for with_lock_file in [true, false] {
        if !with_lock_file {
            fs::remove_file(l.join(".oix-gc.lock")).unwrap();
        }
        let before = tree_hash(l);
        let Some(ro) = ReadOnly::make(l) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot make a read-only layout (no bind mount, no chattr): the test cannot run"
            );
            eprintln!("skipping: cannot make a read-only layout (no bind mount, no chattr)");
            return;
        };
        assert!(
            fs::write(l.join("probe"), b"x").is_err(),
            "the layout is still writable"
        );
        let r = oix(&["--json", "gc", "--dry-run", l.to_str().unwrap()]).ok();
        let j = r.json();
        assert_eq!(j["removed"], serde_json::json!([orphan.to_string()]), "{j}");
        assert_eq!(j["temp_files_removed"], 1);
        oix(&["gc", "--dry-run", l.to_str().unwrap()])
            .ok()
            .output_contains("would remove");
        // A real gc cannot work here and says so.
        oix(&["gc", l.to_str().unwrap()]).fails_with(1);
        drop(ro);
        assert_eq!(tree_hash(l), before);
        assert_eq!(
            l.join(".oix-gc.lock").exists(),
            with_lock_file,
            "a dry run created the lock file"
        );
    }
}

/// The `.oix-tmp-*` files in `dir`.
fn temps(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with(".oix-tmp-"))
        .collect()
}

/// Start `oix export REF -o OUT` and wait until a temp file in OUT's directory that
/// was not there before holds data.
// The caller waits for (or kills) the child it gets back.
#[allow(clippy::zombie_processes)]
fn export_in_flight(reference: &str, out: &Path) -> std::process::Child {
    let dir = out.parent().unwrap();
    let before = temps(dir);
    let mut child = oix_cmd(["export", reference, "-o", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let writing = temps(dir)
            .iter()
            .filter(|t| !before.contains(t))
            .any(|t| fs::metadata(dir.join(t)).is_ok_and(|m| m.len() > 0));
        if writing {
            return child;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the export never started writing");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[test]
fn killed_exports_leave_temp_files_the_next_export_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    fs::create_dir(&rootfs).unwrap();
    // Big enough that the export is still writing when it is killed.
    fs::write(rootfs.join("big"), noise(11, 32 << 20)).unwrap();
    let big = tmp.path().join("big");
    oix(&[
        "build",
        rootfs.to_str().unwrap(),
        "-o",
        &at(&big, ":1"),
        "--platform",
        "linux/amd64",
        "--compression",
        "none",
    ])
    .ok();
    fs::remove_dir_all(&rootfs).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    // Another tool's file with a similar name is never touched.
    fs::write(out.join(".oix-tmp-not-ours"), b"keep").unwrap();

    let mut killed = export_in_flight(&at(&big, ":1"), &out.join("big.tar.gz"));
    killed.kill().unwrap();
    killed.wait().unwrap();
    let stale = temps(&out);
    assert_eq!(stale.len(), 2, "{stale:?}");

    // A concurrent export's temp file survives the cleaning done by another export.
    let mut live = export_in_flight(&at(&big, ":1"), &out.join("live.tar.gz"));
    let small = tmp.path().join("small");
    arch_image(&small, "1", "linux/arm64", "x");
    let archive = out.join("small.tar");
    oix(&["export", &at(&small, ":1"), "-o", archive.to_str().unwrap()]).ok();
    let left = temps(&out);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&".oix-tmp-not-ours".to_string()));
    assert!(
        !left
            .iter()
            .any(|t| stale.contains(t) && t != ".oix-tmp-not-ours"),
        "the killed export's temp file is still there: {left:?}"
    );
    assert!(
        live.wait().unwrap().success(),
        "the concurrent export failed"
    );
    assert_eq!(temps(&out), vec![".oix-tmp-not-ours".to_string()]);

    // The new archives are whole.
    for (a, name) in [(&archive, "1"), (&out.join("live.tar.gz"), "1")] {
        let back = tmp
            .path()
            .join(format!("back-{}", a.file_name().unwrap().to_string_lossy()));
        oix(&[
            "import",
            a.to_str().unwrap(),
            "-o",
            &at(&back, &format!(":{name}")),
        ])
        .ok();
        assert_fsck_clean(&back);
    }
}

/// A 512 KiB tmpfs, unmounted on drop.
struct SmallFs(tempfile::TempDir);

impl SmallFs {
    fn mount() -> Option<SmallFs> {
        let d = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
            .arg(d.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallFs(d))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn a_full_disk_is_reported_with_the_device_and_path() {
    let Some(fs_) = SmallFs::mount() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "cannot mount a small tmpfs: the full-disk test cannot run (the conversion itself is unit-tested in src/error/)"
        );
        eprintln!("skipping: cannot mount a tmpfs");
        return;
    };
    let full = fs_.0.path();
    let w = world(); // a 1 MB layer: does not fit in 512 KiB
    let archive = w.dir.join("good.tar");
    let rootfs = w.rootfs.to_str().unwrap();
    let cases: Vec<(&str, Vec<String>, PathBuf)> = vec![
        (
            "build",
            [
                "build",
                rootfs,
                "-o",
                &at(&full.join("b"), ":1"),
                "--platform",
                "linux/amd64",
                "--compression",
                "none",
            ]
            .map(String::from)
            .to_vec(),
            full.join("b"),
        ),
        (
            "build --compression zstd",
            [
                "build",
                rootfs,
                "-o",
                &at(&full.join("z"), ":1"),
                "--platform",
                "linux/amd64",
                "--compression",
                "zstd",
            ]
            .map(String::from)
            .to_vec(),
            full.join("z"),
        ),
        (
            "import",
            [
                "import",
                archive.to_str().unwrap(),
                "-o",
                &at(&full.join("i"), ":1"),
            ]
            .map(String::from)
            .to_vec(),
            full.join("i"),
        ),
        (
            "merge",
            [
                "merge",
                &at(&full.join("m"), ":1"),
                &at(&w.good, ":1"),
                "--policy",
                "union",
            ]
            .map(String::from)
            .to_vec(),
            full.join("m"),
        ),
        (
            "export",
            [
                "export",
                &at(&w.good, ":1"),
                "-o",
                full.join("x.tar.gz").to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec(),
            full.join("x.tar.gz"),
        ),
        (
            "build into the mount point itself",
            [
                "build",
                rootfs,
                "-o",
                &at(full, ":1"),
                "--platform",
                "linux/amd64",
                "--compression",
                "none",
            ]
            .map(String::from)
            .to_vec(),
            full.join("oci-layout"),
        ),
    ];
    for (what, args, target) in cases {
        let r = oix(&args).fails_with(1);
        let want = format!(
            "error: no space left on device tmpfs (tmpfs mounted at {}) writing {}/",
            full.display(),
            full.display()
        );
        assert!(r.stderr.contains(&want), "{what}: {}", r.stderr);
        assert!(
            !r.stderr.contains("corrupt or hostile"),
            "{what}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("hint: free space on"),
            "{what}: {}",
            r.stderr
        );
        // And the failed command left nothing behind.
        assert!(!target.exists(), "{what} left {}", target.display());
        assert_eq!(listing(full), Vec::<String>::new(), "{what}");
    }
}

/// SIGKILL of commands that create their destination: afterwards the destination is
/// missing (or the empty directory it was), or a valid layout (fsck clean; empty when
/// the kill came between creation and commit). Staging directories that kills leave
/// beside it are removed by the next creation there.
#[test]
fn killed_creations_leave_no_layout_or_a_valid_one() {
    let w = world();
    let archive = w.dir.join("good.tar");
    let parent = w.dir.join("p");
    fs::create_dir(&parent).unwrap();
    let dest = parent.join("new");
    let cmd = |dest: &Path| oix_cmd(["import", archive.to_str().unwrap(), "-o", &at(dest, ":1")]);
    // Calibrate: how long one creation takes here.
    let start = std::time::Instant::now();
    run(cmd(&dest)).ok();
    let took = start.elapsed().as_micros() as u64;
    fs::remove_dir_all(&dest).unwrap();
    let mut rng = Rng(0x5eed_1234);
    let rounds = env_or("OIX_CREATE_KILL_ROUNDS", 40);
    let (mut missing, mut empty, mut whole) = (0, 0, 0);
    for round in 0..rounds {
        let was_dir = round % 2 == 1;
        if was_dir {
            fs::create_dir(&dest).unwrap();
        }
        let mut c = cmd(&dest)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(
            rng.next() % (took + took / 2),
        ));
        let _ = c.kill();
        c.wait().unwrap();
        if !dest.exists() {
            assert!(!was_dir, "round {round}: the empty directory is gone");
            missing += 1;
            continue;
        }
        if listing(&dest).is_empty() {
            assert!(was_dir, "round {round}: an empty directory appeared");
            missing += 1;
        } else {
            fsck(&dest).ok();
            match ref_names(&dest).len() {
                0 => empty += 1,
                _ => whole += 1,
            }
        }
        fs::remove_dir_all(&dest).unwrap();
    }
    let staged = temps(&parent).len();
    eprintln!(
        "killed creations: {rounds} rounds: {missing} left nothing, {empty} a valid empty layout, {whole} the whole import; {staged} staging directories left beside it"
    );
    // What the kills left beside the destination goes with the next creation there.
    run(cmd(&dest)).ok();
    let left: Vec<String> = listing(&parent)
        .into_iter()
        .filter(|n| n != "new")
        .collect();
    assert!(left.is_empty(), "left beside the destination: {left:?}");
}

#[test]
fn the_current_directory_or_a_link_as_destination() {
    let w = world();
    let cwd = w.dir.join("cwd");
    fs::create_dir(&cwd).unwrap();
    let mut c = oix_cmd(["import", w.cut_archive.to_str().unwrap(), "-o", ".:x"]);
    c.current_dir(&cwd);
    run(c).fails_with(1);
    assert_eq!(listing(&cwd), Vec::<String>::new());
    let mut c = oix_cmd([
        "import",
        w.dir.join("good.tar").to_str().unwrap(),
        "-o",
        ".:x",
    ]);
    c.current_dir(&cwd);
    run(c).ok();
    assert_fsck_clean(&cwd);

    // An empty directory given through a symlink: filled (and emptied) through it.
    let target = w.dir.join("target");
    fs::create_dir(&target).unwrap();
    let link = w.dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let cut = w.cut_archive.to_str().unwrap();
    oix(&["import", cut, "-o", &at(&link, ":x")]).fails_with(1);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(listing(&target), Vec::<String>::new());
    let good = w.dir.join("good.tar");
    oix(&["import", good.to_str().unwrap(), "-o", &at(&link, ":x")]).ok();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_fsck_clean(&target);
}

/// Several processes creating one new layout at once all succeed, into one layout.
#[test]
fn concurrent_creations_of_one_layout_all_land() {
    let w = world();
    let dest = w.dir.join("shared");
    let children: Vec<_> = (0..8)
        .map(|i| {
            oix_cmd([
                "--lock-timeout=60",
                "index",
                "add",
                &at(&dest, &format!(":r{i}")),
                &at(&w.good, ":1"),
            ])
            .stdout(std::process::Stdio::null())
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
    let mut names = ref_names(&dest);
    names.sort();
    assert_eq!(names, (0..8).map(|i| format!("r{i}")).collect::<Vec<_>>());
    assert_fsck_clean(&dest);
    assert_eq!(temps(&w.dir), Vec::<String>::new());
}
