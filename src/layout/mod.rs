//! The OCI image-layout store: one directory with `oci-layout`, `index.json` and `blobs/`.
//!
//! Safety rules that every writer in oix goes through:
//! - A blob is streamed into a temp file inside the layout, hashed while written,
//!   checked against the expected digest and size, fsynced, and only then renamed to
//!   `blobs/<alg>/<encoded>` without ever replacing an existing blob.
//! - `index.json` is the only mutable file. [`Layout::transact`] takes an exclusive lock on
//!   `.oix-index.lock`, reads, modifies in memory, writes a temp file, fsyncs, renames over
//!   index.json and fsyncs the directory: a crash leaves either the old or the new file.
//! - Writers hold a shared lock on `.oix-gc.lock` for as long as they may create blobs
//!   that index.json does not reference yet; `gc` takes it exclusively, so it never
//!   deletes a blob an import is about to reference.
//!
//! Readers take no lock: index.json is only ever replaced by rename, so a reader sees
//! either the old or the new file whole.
//!
//! This file holds the handle, opening, reads and the index.json transaction; the rest
//! is split by concern: `create` (lazy creation and its roll-back), `lock` (the
//! index lock and the gc fence), `blob` (blob writes), `stage` (blobs from other
//! layouts) and `temps` (temp-file cleanup beside a layout).

mod blob;
mod create;
mod lock;
mod stage;
mod temps;

pub use lock::GcFence;
pub use stage::{Pending, Presence, Staged};
pub use temps::{owned_temp_prefix, remove_stale_temps};

use create::{parent_dir, Creation};

use crate::digest::Digest;
use crate::error::{Error, IoContext, Kind, Result};
use crate::model::{self, Descriptor, Document, Index};
use crate::verify::{self, Expect};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

pub const OCI_LAYOUT_FILE: &str = "oci-layout";
pub const INDEX_FILE: &str = "index.json";
pub const BLOBS_DIR: &str = "blobs";
pub const INDEX_LOCK_FILE: &str = ".oix-index.lock";
pub const GC_LOCK_FILE: &str = ".oix-gc.lock";
/// Prefix of every temp file oix creates in a layout; `gc` removes stale ones.
pub const TEMP_PREFIX: &str = ".oix-tmp-";
/// The [`owned_temp_prefix`] kind of a new layout staged beside its destination, and
/// of one being removed.
const NEW_LAYOUT_TEMP: &str = "layout";
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

const OCI_LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// How a blob reached a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// It was already here.
    Present,
    HardLink,
    /// A registry's cross-repository mount (the registry links it; no bytes move).
    Mount,
    /// Copied with the kernel's copy (a reflink where the filesystem supports it), then verified.
    Copy,
}

/// The hint for a path that is not a layout: what it is instead (an archive, a file,
/// nothing), without suggesting to create a layout where one was to be read.
fn not_layout_hint(root: &Path) -> String {
    let name = root.to_string_lossy().to_ascii_lowercase();
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz"]
        .iter()
        .any(|e| name.ends_with(e));
    match fs::metadata(root) {
        _ if archive => format!(
            "{} is an archive name: `oix import {} -o LAYOUT` unpacks it into a layout",
            root.display(),
            root.display()
        ),
        Ok(m) if m.is_dir() => "a layout is a directory holding oci-layout, index.json and \
                                blobs/; `oix init DIR` creates an empty one"
            .to_string(),
        Ok(_) => "give the layout's directory (an archive is read with `oix import`)".to_string(),
        Err(_) => "check the path: a layout is an existing directory holding oci-layout, \
                   index.json and blobs/"
            .to_string(),
    }
}

#[derive(Debug)]
pub struct Layout {
    root: PathBuf,
    lock_timeout: Duration,
    /// Shared hold on `.oix-gc.lock`, taken on the first write and kept until drop.
    writer_fence: OnceLock<File>,
    /// Set by [`Layout::open_or_create`]: the layout is created on the first write and
    /// removed again on drop unless an index.json transaction committed.
    creation: Option<Creation>,
    /// Blobs copied from other layouts are not hashed (`--trust-source`).
    trust_sources: bool,
}

/// Mode of every blob oix writes: read-only for everyone. Together with ownership by
/// the writing user it is oix's seal on a verified blob ([`Layout::check_present`]).
pub const BLOB_MODE: u32 = 0o444;

impl Layout {
    /// Open an existing layout, checking that it is one.
    pub fn open(path: impl AsRef<Path>) -> Result<Layout> {
        let root = path.as_ref().to_path_buf();
        let not_layout = |kind: Kind, why: String| {
            Error::new(
                kind,
                format!("{} is not an OCI image layout: {why}", root.display()),
            )
            .with_hint(not_layout_hint(&root))
        };
        let meta = fs::metadata(&root).map_err(|e| {
            let kind = if e.kind() == io::ErrorKind::NotFound {
                Kind::NotFound
            } else {
                Kind::Io
            };
            not_layout(kind, e.to_string())
        })?;
        if !meta.is_dir() {
            return Err(not_layout(Kind::Failure, "not a directory".into()));
        }
        let header_path = root.join(OCI_LAYOUT_FILE);
        let header = read_limited(&header_path, 64 * 1024).map_err(|e| {
            not_layout(
                e.kind.as_failure(),
                format!("cannot read {OCI_LAYOUT_FILE}: {}", e.message),
            )
        })?;
        let header: serde_json::Value =
            model::parse_json(&header, &header_path.display().to_string())?;
        match header.get("imageLayoutVersion").and_then(|v| v.as_str()) {
            Some("1.0.0") => {}
            Some(v) => {
                return Err(Error::corrupt(format!(
                    "{}: imageLayoutVersion is {v:?}; oix supports \"1.0.0\"",
                    header_path.display()
                )))
            }
            None => {
                return Err(Error::corrupt(format!(
                    "{}: field imageLayoutVersion is missing",
                    header_path.display()
                ))
                .with_hint("the file must hold {\"imageLayoutVersion\":\"1.0.0\"}"))
            }
        }
        if !root.join(INDEX_FILE).exists() {
            return Err(not_layout(
                Kind::NotFound,
                format!("{INDEX_FILE} is missing"),
            ));
        }
        Ok(Layout {
            root,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            writer_fence: OnceLock::new(),
            creation: None,
            trust_sources: false,
        })
    }

    pub fn with_lock_timeout(mut self, timeout: Duration) -> Layout {
        self.lock_timeout = timeout;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The root with links resolved, also for a layout not created yet (its parent
    /// resolved, then its name); `None` when that parent does not exist either.
    pub fn canonical_root(&self) -> Option<PathBuf> {
        fs::canonicalize(&self.root).ok().or_else(|| {
            let name = self.root.file_name()?;
            Some(fs::canonicalize(parent_dir(&self.root)).ok()?.join(name))
        })
    }

    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// `blobs/<alg>/<encoded>`; only a validated [`Digest`] can name a path.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join(BLOBS_DIR)
            .join(digest.algorithm().as_str())
            .join(digest.encoded())
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        fs::symlink_metadata(self.blob_path(digest)).is_ok()
    }

    /// Open a blob for reading. A blob that is a symlink is followed only when its target
    /// stays inside this layout's `blobs/`.
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let path = self.blob_path(digest);
        let meta = fs::symlink_metadata(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::not_found(format!("blob {digest} is missing ({})", path.display()))
                    .with_hint("the layout is incomplete; fetch or import the content again")
            } else {
                Error::io("reading", &path, e)
            }
        })?;
        if meta.file_type().is_symlink() {
            self.check_symlink_inside(&path)?;
        } else if !meta.is_file() {
            return Err(Error::corrupt(format!(
                "blob {digest} is not a regular file ({})",
                path.display()
            )));
        }
        File::open(&path).at("opening", &path)
    }

    /// Refuse a symlink whose target leaves `<layout>/blobs`.
    pub fn check_symlink_inside(&self, path: &Path) -> Result<()> {
        let blobs = fs::canonicalize(self.root.join(BLOBS_DIR)).at("resolving", &self.root)?;
        match fs::canonicalize(path) {
            Ok(target) if target.starts_with(&blobs) && target.is_file() => Ok(()),
            Ok(target) => Err(Error::corrupt(format!(
                "{} is a symlink to {}, outside the layout's blobs/",
                path.display(),
                target.display()
            ))
            .with_hint("oix never follows links out of a layout; replace the link with the blob")),
            Err(e) => Err(Error::io("resolving symlink", path, e)),
        }
    }

    /// Read a whole blob described by `desc`, verifying size and digest. `limit` bounds
    /// what is read into memory (manifests, indexes and configs).
    pub fn read_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>> {
        let digest = desc.digest()?;
        let size = desc.size()?;
        if size > limit {
            return Err(Error::corrupt(format!(
                "{digest}: descriptor size {size} exceeds the limit of {limit} bytes for this kind of document"
            )));
        }
        let f = self.open_blob(&digest)?;
        let path = self.blob_path(&digest);
        let expect = Expect::blob(&digest, size)
            .hint("the blob is corrupt, truncated or was replaced; run `oix fsck`");
        verify::read_all(f, expect)
            .map_err(|e| verify::from_io(e, |e| Error::io("reading", &path, e)))
    }

    /// Read and parse the manifest or index `desc` points to (`None` for other types).
    pub fn read_document(&self, desc: &Descriptor) -> Result<(Vec<u8>, Option<Document>)> {
        let bytes = self.read_blob(desc, model::MAX_MANIFEST_SIZE)?;
        let doc = Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest))?;
        Ok((bytes, doc))
    }

    /// The current index.json, parsed, with its raw bytes.
    pub fn read_index(&self) -> Result<(Index, Vec<u8>)> {
        let path = self.root.join(INDEX_FILE);
        if self.is_pending() && !self.root.join(OCI_LAYOUT_FILE).exists() {
            let empty = Index::default();
            let bytes = empty.to_bytes();
            return Ok((empty, bytes));
        }
        let meta = fs::symlink_metadata(&path).at("reading", &path)?;
        if meta.file_type().is_symlink() {
            return Err(Error::corrupt(format!("{} is a symlink", path.display()))
                .with_hint("oix refuses an index.json that is a link; replace it with a file"));
        }
        let bytes = read_limited(&path, model::MAX_INDEX_JSON_SIZE)?;
        let idx: Index = model::parse_json(&bytes, &path.display().to_string())?;
        if idx.schema_version != 2 {
            return Err(Error::corrupt(format!(
                "{}: schemaVersion is {}, expected 2",
                path.display(),
                idx.schema_version
            )));
        }
        Ok((idx, bytes))
    }

    /// Change index.json in one locked transaction. `edit` sees the current index and
    /// may change it; the result is written only if its bytes differ. Returns the value
    /// of `edit` and whether index.json changed. Every descriptor the new index adds must
    /// name a valid digest of a blob present in the layout.
    pub fn transact<T>(&self, edit: impl FnOnce(&mut Index) -> Result<T>) -> Result<(T, bool)> {
        self.enter_writer()?;
        let _lock = self.lock_index()?;
        let (mut idx, before) = self.read_index()?;
        let old: std::collections::HashSet<String> =
            idx.manifests.iter().map(|d| d.digest.clone()).collect();
        let out = edit(&mut idx)?;
        for d in idx.manifests.iter().filter(|d| !old.contains(&d.digest)) {
            let digest = d
                .digest()
                .map_err(|e| e.context("refusing to write index.json"))?;
            d.size()?;
            if !self.has_blob(&digest) {
                return Err(Error::not_found(format!(
                    "refusing to write index.json: blob {digest} is not in the layout"
                )));
            }
        }
        let after = idx.to_bytes();
        if after == before {
            return Ok((out, false));
        }
        write_atomic(&self.root, INDEX_FILE, &after)?;
        if let Some(c) = &self.creation {
            c.committed.store(true, Ordering::SeqCst);
        }
        Ok((out, true))
    }
}

/// Read at most `limit` bytes of a file, failing if it is larger.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    // Opening a FIFO would block forever, and a device has no end: regular files only.
    if !fs::metadata(path).at("reading", path)?.is_file() {
        return Err(Error::corrupt(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let f = File::open(path).at("reading", path)?;
    // Sized from the file up front: growing by doubling copied a 3 MB index.json 5 times.
    let hint = f.metadata().map_or(0, |m| m.len()).min(limit) as usize;
    let mut buf = Vec::with_capacity(hint + 1);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .at("reading", path)?;
    if buf.len() as u64 > limit {
        return Err(Error::corrupt(format!(
            "{} is larger than the limit of {limit} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Replace `dir/name` atomically: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .at("creating a temp file in", dir)?;
    tmp.write_all(bytes).at("writing", tmp.path())?;
    set_public_mode(tmp.as_file(), tmp.path())?;
    tmp.as_file().sync_all().at("syncing", tmp.path())?;
    let dst = dir.join(name);
    tmp.persist(&dst)
        .map_err(|e| Error::io("replacing", &dst, e.error))?;
    sync_dir(dir)
}

/// Temp files are created 0600; layout files are world-readable like other tools write them.
fn set_public_mode(f: &File, path: &Path) -> Result<()> {
    set_mode(f, path, 0o644)
}

fn set_mode(f: &File, path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(mode))
        .at("setting permissions of", path)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .at("syncing", dir)
}
