//! Layer sources: a root filesystem directory, or a tar stream (file or stdin, plain or
//! compressed), turned into normalized [`TarEntry`]s for the [`TarWriter`].
//!
//! A directory is walked depth first with siblings sorted by name bytes, so the entry
//! order depends only on the tree. Hard links are found by (device, inode): the first
//! path is written as the file, later ones as tar type `1` links to it. A tar stream
//! keeps its member order (its producer's), with the same header normalization.
//!
//! Normalization for reproducibility: mtimes are clamped to the source date epoch when
//! one is given, uid/gid are replaced by `--owner` when given, user and group names are
//! dropped, and `security.selinux` (a host label, not image content) is not carried.

use super::tar_writer::{TarEntry, TarEntryType, TarWriter};
use crate::compress::{self, Limits};
use crate::error::{Error, IoContext, Result};
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Where one layer's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerSource {
    Dir(PathBuf),
    /// A tarball (`.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst`; the format is read from its
    /// first bytes, not its name).
    Tarball(PathBuf),
    /// A tar stream on standard input.
    Stdin,
}

impl LayerSource {
    pub fn parse(s: &str) -> Result<LayerSource> {
        if s == "-" {
            return Ok(LayerSource::Stdin);
        }
        let p = PathBuf::from(s);
        let meta = fs::metadata(&p).map_err(|e| {
            Error::usage(format!("layer source {s}: {e}"))
                .with_hint("give a root filesystem directory, a tarball, or - for a tar on stdin")
        })?;
        Ok(if meta.is_dir() {
            LayerSource::Dir(p)
        } else {
            LayerSource::Tarball(p)
        })
    }

    pub fn describe(&self) -> String {
        match self {
            LayerSource::Dir(p) | LayerSource::Tarball(p) => p.display().to_string(),
            LayerSource::Stdin => "-".into(),
        }
    }
}

/// How entries are normalized.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryOptions {
    /// Clamp mtimes to this (SOURCE_DATE_EPOCH).
    pub epoch: Option<i64>,
    /// Replace every uid:gid.
    pub owner: Option<(u64, u64)>,
}

impl EntryOptions {
    fn mtime(&self, t: i64) -> i64 {
        let t = t.max(0);
        match self.epoch {
            Some(e) => t.min(e),
            None => t,
        }
    }
    fn owner(&self, uid: u64, gid: u64) -> (u64, u64) {
        self.owner.unwrap_or((uid, gid))
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceStats {
    pub entries: u64,
    /// Bytes of regular-file content.
    pub content_bytes: u64,
    /// Sockets found in a directory source (tar cannot hold them).
    pub skipped_sockets: u64,
}

/// Write every entry of `src` into `tw`.
pub fn write_source<W: Write>(
    src: &LayerSource,
    tw: &mut TarWriter<W>,
    opts: &EntryOptions,
) -> Result<SourceStats> {
    match src {
        LayerSource::Dir(root) => write_dir(root, tw, opts),
        LayerSource::Tarball(path) => {
            let f = File::open(path).at("opening", path)?;
            write_tar_stream(f, tw, opts, &path.display().to_string())
        }
        LayerSource::Stdin => write_tar_stream(io::stdin(), tw, opts, "stdin"),
    }
}

const ENODATA: i32 = 61;
const EOPNOTSUPP: i32 = 95;
/// Host labels, not image content.
const SKIPPED_XATTRS: &[&[u8]] = &[b"security.selinux"];

fn read_xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let names = match xattr::list(path) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(EOPNOTSUPP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in names {
        let key = name.as_bytes();
        if SKIPPED_XATTRS.contains(&key) {
            continue;
        }
        match xattr::get(path, &name) {
            Ok(Some(v)) => out.push((key.to_vec(), v)),
            Ok(None) => {}
            Err(e) if e.raw_os_error() == Some(ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort();
    Ok(out)
}

/// Major and minor device numbers of a Linux `dev_t`.
fn dev_parts(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major as u32, minor as u32)
}

fn write_dir<W: Write>(
    root: &Path,
    tw: &mut TarWriter<W>,
    opts: &EntryOptions,
) -> Result<SourceStats> {
    let mut stats = SourceStats::default();
    let mut first_path: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()));
    for item in walker {
        let item = item.map_err(|e| {
            let p = e.path().unwrap_or(root).to_path_buf();
            match e.into_io_error() {
                Some(io) => Error::io("reading", &p, io),
                None => Error::failure(format!("walking {}: a filesystem loop", p.display())),
            }
        })?;
        let path = item.path();
        let rel = path
            .strip_prefix(root)
            .map_err(|_| {
                Error::failure(format!("{} is outside {}", path.display(), root.display()))
            })?
            .as_os_str()
            .as_bytes()
            .to_vec();
        let meta = item.metadata().map_err(|e| {
            let io = e
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("metadata"));
            Error::io("reading", path, io)
        })?;
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            TarEntryType::Dir
        } else if ft.is_file() {
            TarEntryType::File
        } else if ft.is_symlink() {
            TarEntryType::Symlink
        } else if ft.is_char_device() {
            TarEntryType::Char
        } else if ft.is_block_device() {
            TarEntryType::Block
        } else if ft.is_fifo() {
            TarEntryType::Fifo
        } else {
            stats.skipped_sockets += 1;
            continue;
        };
        let mut e = TarEntry::new(rel, kind);
        e.mode = meta.mode() & 0o7777;
        (e.uid, e.gid) = opts.owner(meta.uid() as u64, meta.gid() as u64);
        e.mtime = opts.mtime(meta.mtime());
        stats.entries += 1;
        if kind != TarEntryType::Dir && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = first_path.get(&key) {
                e.kind = TarEntryType::HardLink;
                e.link = first.clone();
                tw.append(&e, None).map_err(|err| add_error(path, err))?;
                continue;
            }
            first_path.insert(key, e.path.clone());
        }
        e.xattrs = read_xattrs(path).at("reading extended attributes of", path)?;
        match kind {
            TarEntryType::File => {
                e.size = meta.len();
                stats.content_bytes += e.size;
                let mut f = File::open(path).at("opening", path)?;
                tw.append(&e, Some(&mut f))
                    .map_err(|err| add_error(path, err))?;
            }
            TarEntryType::Symlink => {
                e.link = fs::read_link(path)
                    .at("reading symlink", path)?
                    .as_os_str()
                    .as_bytes()
                    .to_vec();
                tw.append(&e, None).map_err(|err| add_error(path, err))?;
            }
            TarEntryType::Char | TarEntryType::Block => {
                (e.dev_major, e.dev_minor) = dev_parts(meta.rdev());
                tw.append(&e, None).map_err(|err| add_error(path, err))?;
            }
            _ => tw.append(&e, None).map_err(|err| add_error(path, err))?,
        }
    }
    Ok(stats)
}

fn add_error(path: &Path, err: io::Error) -> Error {
    Error::failure(format!("adding {} to the layer: {err}", path.display()))
}

/// Normalize a member name of a root filesystem tarball: leading `/` and `./`, empty and
/// `.` components are dropped; `..` is refused. `None` for the root itself.
pub fn normalize_rootfs_path(raw: &[u8]) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut out: Vec<&[u8]> = Vec::new();
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err("a `..` component".into()),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(out.join(&b'/')))
}

fn pax_number(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    // mtime may carry a fraction: keep whole seconds.
    let whole = s.split('.').next()?;
    whole.parse().ok()
}

/// Re-emit the members of a tar stream, normalized. Duplicate paths are refused (a layer
/// must not hold two entries for one path), as are `..` components, hard links to
/// members not seen before, and member types a layer cannot carry (sparse files).
fn write_tar_stream<R: Read + Send, W: Write>(
    raw: R,
    tw: &mut TarWriter<W>,
    opts: &EntryOptions,
    what: &str,
) -> Result<SourceStats> {
    let limits = Limits {
        max_ratio: u64::MAX,
        slack: u64::MAX,
        max_total: u64::MAX,
    };
    let d = compress::decompress(raw, limits).at("reading", Path::new(what))?;
    let mut ar = tar::Archive::new(d.reader);
    let mut stats = SourceStats::default();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let entries = ar
        .entries()
        .map_err(|e| Error::corrupt(format!("{what}: not a tar stream: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            Error::corrupt(format!("{what}: reading tar ({}): {e}", d.format.name()))
        })?;
        let raw_path = entry.path_bytes().into_owned();
        let bad = |why: String| member_error(what, &raw_path, why);
        let Some(kind) = member_type(entry.header().entry_type()).map_err(bad)? else {
            continue;
        };
        let Some(path) = normalize_rootfs_path(&raw_path).map_err(bad)? else {
            continue; // the root directory itself
        };
        if !seen.insert(path.clone()) {
            return Err(bad("appears twice in the tarball".into())
                .with_hint("a layer must not hold two entries for one path"));
        }
        let mut e = TarEntry::new(path.clone(), kind);
        let (uid, gid, mtime) = read_member_header(&mut entry, &mut e).map_err(bad)?;
        (e.uid, e.gid) = opts.owner(uid, gid);
        e.mtime = opts.mtime(mtime);
        stats.entries += 1;
        match kind {
            TarEntryType::Symlink => e.link = link_name(&entry),
            TarEntryType::HardLink => {
                e.link = hard_link_target(&entry, &path, &seen).map_err(bad)?;
            }
            TarEntryType::File => {
                e.size = entry.size();
                stats.content_bytes += e.size;
            }
            _ => {}
        }
        let data: Option<&mut dyn Read> = if kind == TarEntryType::File {
            Some(&mut entry)
        } else {
            None
        };
        tw.append(&e, data).map_err(|err| {
            let msg = d.tripped.get().cloned().unwrap_or_else(|| err.to_string());
            bad(msg)
        })?;
    }
    Ok(stats)
}

/// The error for one member of the tar stream `what`.
fn member_error(what: &str, name: &[u8], why: String) -> Error {
    Error::failure(format!(
        "{what}: member {:?}: {why}",
        String::from_utf8_lossy(name)
    ))
}

/// What a tar member becomes in the layer; `None` for a member to skip (a global PAX
/// header), an error for types a layer cannot carry.
fn member_type(et: tar::EntryType) -> std::result::Result<Option<TarEntryType>, String> {
    Ok(Some(match et {
        tar::EntryType::Regular | tar::EntryType::Continuous => TarEntryType::File,
        tar::EntryType::Directory => TarEntryType::Dir,
        tar::EntryType::Symlink => TarEntryType::Symlink,
        tar::EntryType::Link => TarEntryType::HardLink,
        tar::EntryType::Char => TarEntryType::Char,
        tar::EntryType::Block => TarEntryType::Block,
        tar::EntryType::Fifo => TarEntryType::Fifo,
        tar::EntryType::XGlobalHeader => return Ok(None),
        other => return Err(format!("tar member type {other:?} cannot go into a layer")),
    }))
}

/// Copy the member's mode and device numbers into `e`, and return its uid, gid and
/// mtime as the header and its PAX records give them (before normalization). PAX
/// xattrs are carried, except the ones a layer does not keep.
fn read_member_header<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    e: &mut TarEntry,
) -> std::result::Result<(u64, u64, i64), String> {
    let h = entry.header();
    let num = |r: io::Result<u64>, field: &str| r.map_err(|e| format!("invalid {field}: {e}"));
    e.mode = h.mode().map_err(|err| format!("invalid mode: {err}"))? & 0o7777;
    let mut uid = num(h.uid(), "uid")?;
    let mut gid = num(h.gid(), "gid")?;
    let mut mtime = num(h.mtime(), "mtime")? as i64;
    if e.kind == TarEntryType::Char || e.kind == TarEntryType::Block {
        e.dev_major = h
            .device_major()
            .map_err(|err| format!("invalid device major: {err}"))?
            .unwrap_or(0);
        e.dev_minor = h
            .device_minor()
            .map_err(|err| format!("invalid device minor: {err}"))?
            .unwrap_or(0);
    }
    if let Some(pax) = entry
        .pax_extensions()
        .map_err(|err| format!("invalid PAX header: {err}"))?
    {
        for ext in pax {
            let ext = ext.map_err(|err| format!("invalid PAX record: {err}"))?;
            let key = ext.key_bytes();
            let val = ext.value_bytes();
            if key == b"uid" {
                uid = pax_number(val).unwrap_or(uid as i64).max(0) as u64;
            } else if key == b"gid" {
                gid = pax_number(val).unwrap_or(gid as i64).max(0) as u64;
            } else if key == b"mtime" {
                mtime = pax_number(val).unwrap_or(mtime);
            } else if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if !SKIPPED_XATTRS.contains(&name) {
                    e.xattrs.push((name.to_vec(), val.to_vec()));
                }
            }
        }
    }
    Ok((uid, gid, mtime))
}

/// The member's link name as stored (empty when it has none).
fn link_name<R: Read>(entry: &tar::Entry<'_, R>) -> Vec<u8> {
    entry
        .link_name_bytes()
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

/// A hard link's target, normalized; it must be an earlier member other than `path`.
fn hard_link_target<R: Read>(
    entry: &tar::Entry<'_, R>,
    path: &[u8],
    seen: &HashSet<Vec<u8>>,
) -> std::result::Result<Vec<u8>, String> {
    let link = normalize_rootfs_path(&link_name(entry))
        .map_err(|w| format!("hard link target: {w}"))?
        .ok_or_else(|| "hard link to the root".to_string())?;
    if !seen.contains(&link) || link == path {
        return Err(format!(
            "hard link to {:?}, which is not an earlier member",
            String::from_utf8_lossy(&link)
        ));
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_paths_are_normalized() {
        let n = |s: &str| normalize_rootfs_path(s.as_bytes());
        assert_eq!(n("./etc/passwd").unwrap().unwrap(), b"etc/passwd");
        assert_eq!(n("/usr//bin/").unwrap().unwrap(), b"usr/bin");
        assert_eq!(n("./").unwrap(), None);
        assert!(n("a/../../etc").is_err());
    }

    #[test]
    fn device_numbers_split() {
        // makedev(8, 1) and makedev(259, 70000)
        assert_eq!(dev_parts(0x801), (8, 1));
        let (major, minor) = (4095u64 + 4096, 70000u64);
        let rdev = ((major & 0xfff) << 8)
            | ((major & !0xfff) << 32)
            | (minor & 0xff)
            | ((minor & !0xff) << 12);
        assert_eq!(dev_parts(rdev), (major as u32, minor as u32));
    }
}
