//! Helpers for the build/import/export tests: running oix and the real tools, describing
//! a directory tree (types, modes, contents, links, hard-link groups, xattrs) so two
//! trees can be compared, and writing raw (possibly hostile) tar archives.
#![allow(dead_code)] // each test crate uses a different subset

// Each helper module includes the one gate; a test crate may include several helpers.
#[allow(clippy::duplicate_mod)]
#[path = "../gate/mod.rs"]
mod gate;

#[allow(clippy::duplicate_mod)]
#[path = "../common/bin.rs"]
mod bin;
pub use bin::oix_cmd;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Debug)]
pub struct Run {
    pub cmdline: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }
    pub fn fails(self) -> Run {
        assert!(
            self.code != 0 && self.code != 101,
            "expected a clean failure: {self:#?}"
        );
        assert!(!self.stderr.contains("panicked at"), "panicked: {self:#?}");
        self
    }
    pub fn exits(self, code: i32) -> Run {
        assert_eq!(self.code, code, "wrong exit code: {self:#?}");
        self
    }
}

fn finish(cmdline: String, out: Output) -> Run {
    let r = Run {
        cmdline,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked at"), "panicked: {r:#?}");
    r
}

/// Run `prog args…` in `dir`.
pub fn run_in(dir: &Path, prog: &str, args: &[&str]) -> Run {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap_or_else(|e| panic!("running {prog}: {e}"));
    finish(format!("{prog} {}", args.join(" ")), out)
}

pub fn oix(dir: &Path, args: &[&str]) -> Run {
    let out = oix_cmd(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running oix: {e}"));
    finish(format!("oix {}", args.join(" ")), out)
}

/// Run oix with `input` on stdin.
pub fn oix_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    let mut child = oix_cmd(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning oix");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    finish(format!("oix {} < input", args.join(" ")), out)
}

/// Whether an external tool is installed. Missing tools fail the test under CI and print
/// `SKIP` locally (tests/gate).
pub fn have(tool: &str) -> bool {
    gate::find(tool).is_some()
}

pub fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// One node of a tree description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// File content hash, symlink target, or device numbers.
    pub content: String,
    pub mtime: Option<i64>,
    /// Index of the hard-link group (paths sharing an inode), if nlink > 1.
    pub link_group: Option<String>,
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// Describe every path under `root` (relative paths). `mtimes`: include file mtimes.
pub fn describe_tree(root: &Path, mtimes: bool) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut groups: HashMap<(u64, u64), String> = HashMap::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        let m = fs::symlink_metadata(e.path()).unwrap();
        let ft = m.file_type();
        let (kind, content) = if ft.is_dir() {
            ("dir", String::new())
        } else if ft.is_symlink() {
            (
                "symlink",
                fs::read_link(e.path()).unwrap().display().to_string(),
            )
        } else if ft.is_file() {
            let bytes = fs::read(e.path()).unwrap();
            ("file", oix::Digest::sha256_of(&bytes).to_string())
        } else if ft.is_fifo() {
            ("fifo", String::new())
        } else if ft.is_char_device() {
            ("char", format!("{:x}", m.rdev()))
        } else if ft.is_block_device() {
            ("block", format!("{:x}", m.rdev()))
        } else {
            ("other", String::new())
        };
        let link_group = if !ft.is_dir() && m.nlink() > 1 {
            let key = (m.dev(), m.ino());
            let first = groups.entry(key).or_insert_with(|| rel.clone()).clone();
            Some(first)
        } else {
            None
        };
        let mut xattrs = BTreeMap::new();
        if let Ok(names) = xattr::list(e.path()) {
            for n in names {
                let name = String::from_utf8_lossy(n.as_bytes()).into_owned();
                if name == "security.selinux" {
                    continue;
                }
                if let Ok(Some(v)) = xattr::get(e.path(), &n) {
                    xattrs.insert(name, v);
                }
            }
        }
        out.insert(
            rel,
            Node {
                kind,
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                content,
                mtime: (mtimes && !ft.is_dir() && !ft.is_symlink()).then(|| m.mtime()),
                link_group,
                xattrs,
            },
        );
    }
    out
}

/// Whether user.* xattrs work on the filesystem holding `dir`.
pub fn user_xattrs_supported(dir: &Path) -> bool {
    let p = dir.join(".xattr-probe");
    fs::write(&p, b"").unwrap();
    let ok = xattr::set(&p, "user.probe", b"1").is_ok();
    fs::remove_file(&p).unwrap();
    ok
}

/// A rootfs-like tree with the file types a layer must carry. Returns whether xattrs
/// were set.
pub fn make_tree(root: &Path, with_xattrs: bool) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("etc/ssl")).unwrap();
    fs::create_dir_all(root.join("var/empty")).unwrap();
    let deep = "d".repeat(60);
    let deep_dir = root.join(format!("opt/{deep}/{deep}"));
    fs::create_dir_all(&deep_dir).unwrap();
    fs::write(
        deep_dir.join(format!("{}.txt", "n".repeat(90))),
        b"long name\n",
    )
    .unwrap();
    fs::write(root.join("etc/hostname"), b"oix-test\n").unwrap();
    fs::write(root.join("etc/ssl/key.pem"), b"secret\n").unwrap();
    fs::set_permissions(
        root.join("etc/ssl/key.pem"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let mut big = Vec::new();
    for i in 0..200_000u32 {
        big.extend_from_slice(format!("line {i} of a largish text file\n").as_bytes());
    }
    fs::write(root.join("usr/bin/tool"), &big).unwrap();
    fs::set_permissions(
        root.join("usr/bin/tool"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    fs::write(root.join("usr/bin/sgid"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(
        root.join("usr/bin/sgid"),
        fs::Permissions::from_mode(0o2711),
    )
    .unwrap();
    fs::create_dir_all(root.join("tmp")).unwrap();
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::hard_link(root.join("usr/bin/tool"), root.join("usr/bin/tool-alias")).unwrap();
    std::os::unix::fs::symlink("tool", root.join("usr/bin/link")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("etc/abs-link")).unwrap();
    std::os::unix::fs::symlink("x".repeat(150), root.join("etc/long-target")).unwrap();
    fs::write(root.join("etc/empty"), b"").unwrap();
    let fifo = root.join("var/fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    if is_root() {
        let st = Command::new("mknod")
            .args([root.join("var/null").to_str().unwrap(), "c", "1", "3"])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let xattrs = with_xattrs && user_xattrs_supported(root);
    if xattrs {
        xattr::set(root.join("etc/hostname"), "user.origin", b"oix test").unwrap();
        xattr::set(root.join("usr/bin"), "user.dir", b"\x00binary\xff").unwrap();
    }
    xattrs
}

/// Run `f` on a tree and give every path a fixed mtime (for comparisons across tools).
pub fn set_mtimes(root: &Path, t: i64) {
    for e in walkdir::WalkDir::new(root).contents_first(true) {
        let e = e.unwrap();
        let st = Command::new("touch")
            .args(["-h", "-d", &format!("@{t}"), e.path().to_str().unwrap()])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

/// One raw tar member for hand-made archives.
pub struct Member {
    pub name: Vec<u8>,
    pub typeflag: u8,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
}

impl Member {
    pub fn file(name: &str, data: &[u8]) -> Member {
        Member {
            name: name.as_bytes().to_vec(),
            typeflag: b'0',
            data: data.to_vec(),
            link: Vec::new(),
        }
    }
    pub fn dir(name: &str) -> Member {
        Member {
            name: name.as_bytes().to_vec(),
            typeflag: b'5',
            data: Vec::new(),
            link: Vec::new(),
        }
    }
    pub fn link(name: &str, typeflag: u8, target: &str) -> Member {
        Member {
            name: name.as_bytes().to_vec(),
            typeflag,
            data: Vec::new(),
            link: target.as_bytes().to_vec(),
        }
    }
}

/// A ustar archive written byte by byte, so names the `tar` crate's builder would refuse
/// (`..`, absolute paths) can be made.
pub fn raw_tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut h = [0u8; 512];
        assert!(m.name.len() <= 100 && m.link.len() <= 100);
        h[..m.name.len()].copy_from_slice(&m.name);
        let octal = |f: &mut [u8], v: u64| {
            let s = format!("{:0w$o}", v, w = f.len() - 1);
            f[..s.len()].copy_from_slice(s.as_bytes());
        };
        octal(
            &mut h[100..108],
            if m.typeflag == b'5' { 0o755 } else { 0o644 },
        );
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], m.data.len() as u64);
        octal(&mut h[136..148], 0);
        h[156] = m.typeflag;
        h[157..157 + m.link.len()].copy_from_slice(&m.link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&m.data);
        let pad = (512 - m.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

/// The members of a plain tar (regular files, dirs and links only).
pub fn read_members(tar_bytes: &[u8]) -> Vec<Member> {
    let mut a = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path_bytes().to_vec();
        let typeflag = e.header().entry_type().as_byte();
        let link = e.link_name_bytes().map(|l| l.to_vec()).unwrap_or_default();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        out.push(Member {
            name,
            typeflag,
            data,
            link,
        });
    }
    out
}

pub fn index_json(layout: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap()
}

/// (ref name, digest) pairs of a layout's index.json, sorted.
pub fn refs(layout: &Path) -> Vec<(String, String)> {
    let idx = index_json(layout);
    let mut v: Vec<(String, String)> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                d["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The JSON of the blob `digest` in `layout`.
pub fn blob_json(layout: &Path, digest: &str) -> serde_json::Value {
    let (alg, hex) = digest.split_once(':').unwrap();
    serde_json::from_slice(&fs::read(layout.join("blobs").join(alg).join(hex)).unwrap()).unwrap()
}

pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("oix-test-")
        .tempdir()
        .unwrap()
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

pub fn pb(p: &Path, s: &str) -> PathBuf {
    p.join(s)
}
