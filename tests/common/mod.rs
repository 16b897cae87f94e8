//! Helpers shared by the integration tests: running the `oix` binary and the real
//! interop tools, copying fixtures into scratch directories, and hashing a directory
//! tree to prove a command left it untouched.
#![allow(dead_code)] // each test crate uses a different subset

// Each helper module includes the one gate; a test crate may include several helpers.
#[allow(clippy::duplicate_mod)]
#[path = "../gate/mod.rs"]
mod gate;

#[allow(clippy::duplicate_mod)]
#[path = "bin.rs"]
mod bin;
#[allow(unused_imports)] // each test crate uses a different subset
pub use bin::{oix_bin, oix_cmd};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The result of one command, with the checks every test wants.
#[derive(Debug)]
pub struct Run {
    pub cmdline: String,
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn from_output(cmdline: String, out: Output) -> Run {
        let code = match out.status.code() {
            Some(c) => c,
            None => {
                use std::os::unix::process::ExitStatusExt;
                panic!(
                    "{cmdline}: killed by signal {:?}\nstderr: {}",
                    out.status.signal(),
                    String::from_utf8_lossy(&out.stderr)
                )
            }
        };
        let r = Run {
            cmdline,
            code,
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        r.assert_no_panic();
        r
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout and stderr together, for "does the report name X" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout_str(), self.stderr)
    }

    fn describe(&self) -> String {
        format!(
            "`{}` exited {}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmdline,
            self.code,
            self.stdout_str(),
            self.stderr
        )
    }

    /// A Rust panic exits 101 and prints "panicked at"; oix must never do that.
    pub fn assert_no_panic(&self) {
        assert!(
            self.code != 101 && !self.stderr.contains("panicked at"),
            "oix panicked: {}",
            self.describe()
        );
    }

    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {}", self.describe());
        self
    }

    /// Exit `code` (nothing said about stderr: fsck reports problems on stdout).
    pub fn exits(self, code: i32) -> Run {
        assert_eq!(self.code, code, "wrong exit code: {}", self.describe());
        self
    }

    /// Exit `code`, with a well-formed `error: …` message on stderr.
    pub fn fails_with(self, code: i32) -> Run {
        assert_eq!(self.code, code, "wrong exit code: {}", self.describe());
        self.assert_error_message();
        self
    }

    /// Non-zero exit with an `error:` line first on stderr.
    pub fn fails(self) -> Run {
        assert_ne!(self.code, 0, "expected failure: {}", self.describe());
        self.assert_error_message();
        self
    }

    pub fn assert_error_message(&self) {
        assert!(
            self.stderr.starts_with("error: ") && self.stderr.trim().len() > "error: ".len(),
            "expected `error: …` on stderr: {}",
            self.describe()
        );
    }

    pub fn stderr_contains(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.describe()
        );
        self
    }

    pub fn output_contains(self, needle: &str) -> Run {
        assert!(
            self.all_output().contains(needle),
            "output lacks {needle:?}: {}",
            self.describe()
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.describe()))
    }
}

fn cmdline(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(mut c: Command) -> Run {
    let line = cmdline(&c);
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {line}: {e}"));
    Run::from_output(line, out)
}

/// Run oix with `args`.
pub fn oix<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    run(oix_cmd(args))
}

/// `oix fsck DIR` (full verification).
pub fn fsck(dir: &Path) -> Run {
    oix(&["fsck".as_ref(), dir.as_os_str()])
}

/// Assert `oix fsck` (full, then --quick) finds nothing wrong.
pub fn assert_fsck_clean(dir: &Path) {
    fsck(dir).ok();
    oix(&["fsck".as_ref(), "--quick".as_ref(), dir.as_os_str()]).ok();
}

/// `DIR:REF` as one argument.
pub fn at(dir: &Path, suffix: &str) -> String {
    format!("{}{suffix}", dir.display())
}

/// The checked-in fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A scratch copy of the whole fixtures tree (symlinks kept as symlinks, so the
/// relative link in corrupt/symlink-escape still points at ../single).
pub fn copy_fixtures() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dst = tmp.path().join("fixtures");
    copy_tree(&fixtures(), &dst);
    (tmp, dst)
}

/// A scratch copy of one fixture (a directory under fixtures/).
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dst = tmp.path().join(name.replace('/', "-"));
    copy_tree(&fixtures().join(name), &dst);
    (tmp, dst)
}

/// Recursive copy that keeps symlinks as links.
pub fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in walkdir::WalkDir::new(src).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src).unwrap();
        let to = dst.join(rel);
        let ft = e.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, &to).unwrap();
        } else if ft.is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    oix::Digest::sha256_of(bytes).encoded().to_string()
}

/// A digest of a directory tree: every entry's relative path, type, mode, and content
/// hash (or link target). Equal before and after a command ⇒ the command changed nothing.
///
/// oix's empty lock files (`.oix-gc.lock`, `.oix-index.lock`) are left out: fsck takes
/// the gc fence shared (creating the file when the layout is writable) so that a
/// concurrent gc cannot delete blobs under it. They hold no layout content.
pub fn tree_hash(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mut listing = String::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let name = e.file_name().to_string_lossy();
        if name.starts_with(".oix-")
            && name.ends_with(".lock")
            && e.metadata()
                .map(|m| m.is_file() && m.len() == 0)
                .unwrap_or(false)
        {
            continue;
        }
        let meta = fs::symlink_metadata(e.path()).unwrap();
        let mode = meta.permissions().mode();
        let what = if meta.file_type().is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else if meta.is_dir() {
            "dir".to_string()
        } else {
            format!("file {}", sha256_hex(&fs::read(e.path()).unwrap()))
        };
        listing.push_str(&format!("{rel}\t{mode:o}\t{what}\n"));
    }
    sha256_hex(listing.as_bytes())
}

/// Find an interop tool. Missing: panic under CI (the suite must not silently skip
/// there), else print `SKIP: ...` and return None (the rule lives in tests/gate).
pub fn tool(name: &str) -> Option<PathBuf> {
    gate::find(name)
}

/// Run a non-oix tool; stdout and stderr captured.
pub fn run_tool(bin: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(bin);
    c.args(args);
    run(c)
}

/// `skopeo --insecure-policy ARGS…` (no trust policy needed for local layouts).
pub fn skopeo(bin: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(bin);
    c.arg("--insecure-policy").args(args);
    run(c)
}

/// The index.json entries (`manifests`), parsed.
pub fn index_entries(dir: &Path) -> Vec<serde_json::Value> {
    let bytes = fs::read(dir.join("index.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("index.json parses");
    v["manifests"].as_array().cloned().unwrap_or_default()
}

/// Ref names in index.json, in order.
pub fn ref_names(dir: &Path) -> Vec<String> {
    index_entries(dir)
        .iter()
        .filter_map(|d| {
            d["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// The digest index.json gives REF.
pub fn digest_of_ref(dir: &Path, name: &str) -> String {
    index_entries(dir)
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .and_then(|d| d["digest"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no ref {name} in {}", dir.display()))
}

/// The stored bytes of a blob.
pub fn blob(dir: &Path, digest: &str) -> Vec<u8> {
    let (alg, hex) = digest.split_once(':').unwrap();
    fs::read(dir.join("blobs").join(alg).join(hex)).unwrap()
}

/// Parse a stored blob as JSON.
pub fn blob_json(dir: &Path, digest: &str) -> serde_json::Value {
    serde_json::from_slice(&blob(dir, digest)).unwrap()
}

/// The image fixtures that must be clean, with their refs.
pub const CLEAN_FIXTURES: &[(&str, &[&str])] = &[
    ("single", &["latest"]),
    ("multiarch", &["latest"]),
    ("nested", &["latest"]),
    ("attestation", &["latest"]),
    ("skopeo", &["v1", "multi"]),
];

/// xorshift64*: tiny, deterministic for a seed (crash, concurrency and fuzz-smoke loops).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// An environment variable parsed as `T`, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Write one image for `platform` (`os/arch[/variant]`) into the layout at `dir`
/// (created if needed) and tag it `name`; `salt` makes distinct content for "new
/// builds". Returns the manifest digest.
pub fn arch_image(dir: &Path, name: &str, platform: &str, salt: &str) -> String {
    let l = oix::Layout::init(dir).unwrap().0;
    let parts: Vec<&str> = platform.split('/').collect();
    let variant = parts
        .get(2)
        .map(|v| format!(r#","variant":"{v}""#))
        .unwrap_or_default();
    let layer = format!("layer for {platform} {salt}");
    let ld = l.write_blob_bytes(layer.as_bytes()).unwrap();
    let cfg = format!(
        r#"{{"architecture":"{}","os":"{}"{variant},"rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#,
        parts[1], parts[0]
    );
    let cd = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{ld}","size":{}}}]}}"#,
        oix::model::media::OCI_MANIFEST,
        oix::model::media::OCI_CONFIG,
        cfg.len(),
        oix::model::media::OCI_LAYER_TAR,
        layer.len()
    );
    let md = l.write_blob_bytes(man.as_bytes()).unwrap();
    let d = oix::model::Descriptor::new(oix::model::media::OCI_MANIFEST, &md, man.len() as u64);
    oix::tags::tag(&l, &d, &[name.to_string()]).unwrap();
    md.to_string()
}

/// Write a tiny image (config + one layer + manifest) and return its manifest descriptor.
pub fn tiny_image(l: &oix::Layout, arch: &str, layer: &[u8]) -> oix::model::Descriptor {
    let layer_d = l.write_blob_bytes(layer).unwrap();
    let cfg = format!(
        r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_d}"]}}}}"#
    );
    let cfg_d = l.write_blob_bytes(cfg.as_bytes()).unwrap();
    let man = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cfg_d}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{layer_d}","size":{}}}]}}"#,
        oix::model::media::OCI_MANIFEST,
        oix::model::media::OCI_CONFIG,
        cfg.len(),
        oix::model::media::OCI_LAYER_TAR,
        layer.len()
    );
    let man_d = l.write_blob_bytes(man.as_bytes()).unwrap();
    oix::model::Descriptor::new(oix::model::media::OCI_MANIFEST, &man_d, man.len() as u64)
}
