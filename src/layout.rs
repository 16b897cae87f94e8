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

use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, IoContext, Kind, PathWriter, Result};
use crate::model::{self, Descriptor, Document, Index};
use crate::verify::{self, Expect, VerifyingReader};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// How a blob reached this layout from another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// It was already here.
    Present,
    HardLink,
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

/// The lazily created destination of [`Layout::open_or_create`].
#[derive(Debug, Default)]
struct Creation {
    state: Mutex<CreateState>,
    /// An index.json transaction changed the new layout: it stays.
    committed: AtomicBool,
}

#[derive(Debug, Default)]
enum CreateState {
    /// Nothing created yet; reads see an empty layout.
    #[default]
    Pending,
    /// This handle created the directory `(dev, ino)`.
    Created { dev: u64, ino: u64, how: Made },
    /// A layout was there by the first write (another process made it): used as it is.
    Existing,
}

/// How [`Layout::materialize`] made the layout, which says how to undo it.
#[derive(Debug, Clone, Copy)]
enum Made {
    /// A new directory, renamed into place.
    NewDir,
    /// Renamed over the empty directory that was there (its mode and owner kept).
    OverEmptyDir { mode: u32, uid: u32, gid: u32 },
    /// Written inside the empty directory that was there (a mount point, or a parent
    /// oix may not write to).
    InPlace,
}

/// What [`Layout::stage_blob`] made of a blob from another layout.
#[derive(Debug)]
pub enum Staged {
    /// Intact here already.
    Present,
    Pending(Pending),
}

/// A verified blob in a temp file of the layout (a hard link or a sealed copy), not yet
/// visible; dropping it removes the temp file.
#[derive(Debug)]
pub struct Pending {
    tmp: tempfile::TempPath,
    digest: Digest,
    size: u64,
    replace: bool,
    how: Transfer,
}

/// What [`Layout::check_present`] found under a blob's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Absent,
    /// The blob is there with its size, and its content hashes to its name (or it
    /// carries oix's seal).
    Intact,
    /// A file is there but is not the content (why, naming the file): writers replace it.
    Damaged(String),
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

    /// Create a layout (and the directory), or open it if it already is one; the bool
    /// says whether this call created it. Refuses a non-empty directory that is not a
    /// layout. The layout stays even when nothing is ever written to it (`oix init`).
    pub fn init(path: impl AsRef<Path>) -> Result<(Layout, bool)> {
        let l = Layout::open_or_create(path)?;
        let created = l.materialize()?;
        if let Some(c) = &l.creation {
            c.committed.store(true, Ordering::SeqCst);
        }
        Ok((l, created))
    }

    /// The destination of a command that may create it (`build`, `import`, `pull`,
    /// `merge`, `index create/add`): an existing layout is opened; a missing path or an
    /// empty directory gives a handle on which reads see an empty layout and nothing
    /// exists on disk until the first write. Then the whole layout (`oci-layout`, an
    /// empty `index.json`, `blobs/sha256`) is built in a temp directory beside it and
    /// renamed into place, so a crash leaves no layout or a valid empty one.
    ///
    /// When the handle is dropped without an index.json transaction having changed the
    /// new layout (the command failed, or had nothing to commit), the layout is removed
    /// again and an empty directory that was there is left empty: a failed command
    /// leaves nothing behind. The removal is skipped when another process is using the
    /// new layout (it holds the writer fence or has committed to index.json); a process
    /// that opened it but had not started writing yet fails cleanly (the layout is gone)
    /// when it does.
    ///
    /// Refuses, without touching anything, a path that is neither a layout, an empty
    /// directory nor missing.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Layout> {
        let root = path.as_ref();
        if root.join(OCI_LAYOUT_FILE).exists() {
            return Layout::open(root);
        }
        check_creatable(root)?;
        Ok(Layout {
            root: root.to_path_buf(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            writer_fence: OnceLock::new(),
            creation: Some(Creation::default()),
            trust_sources: false,
        })
    }

    /// Make a pending layout exist on disk (see [`Layout::open_or_create`]); returns
    /// whether this call created it. A no-op for a layout that exists.
    fn materialize(&self) -> Result<bool> {
        let Some(c) = &self.creation else {
            return Ok(false);
        };
        let mut st = c.state.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(*st, CreateState::Pending) {
            return Ok(false);
        }
        *st = create_layout_dir(&self.root)?;
        Ok(matches!(*st, CreateState::Created { .. }))
    }

    /// Whether this handle's layout does not exist on disk yet.
    fn is_pending(&self) -> bool {
        self.creation.as_ref().is_some_and(|c| {
            matches!(
                *c.state.lock().unwrap_or_else(|e| e.into_inner()),
                CreateState::Pending
            )
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

    fn lock_file(&self, name: &str) -> Result<File> {
        let path = self.root.join(name);
        // Opening follows links and creates missing targets: a lock "file" that is a
        // link (or a FIFO, which would block) must not make oix touch anything else.
        if let Ok(meta) = fs::symlink_metadata(&path) {
            if !meta.is_file() {
                return Err(Error::corrupt(format!(
                    "{} is not a regular file",
                    path.display()
                ))
                .with_hint("oix keeps its lock files as plain files; remove it (no oix process may be running)"));
            }
        }
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .at("opening lock file", &path)
    }

    /// Hold the writer fence (shared) for this handle's lifetime. Every writer must hold
    /// it before it decides a blob is already present (and so need not be written): a gc
    /// between that check and the transaction that references the blob would delete it.
    pub fn enter_writer(&self) -> Result<()> {
        self.materialize()?;
        if self.writer_fence.get().is_none() {
            let f = self.lock_file(GC_LOCK_FILE)?;
            acquire(&f, false, self.lock_timeout, &self.root.join(GC_LOCK_FILE))?;
            let _ = self.writer_fence.set(f);
        }
        Ok(())
    }

    /// Take the gc fence exclusively: no writer is creating blobs while it is held.
    /// When this handle already holds the fence shared (it wrote blobs), the same lock is
    /// upgraded, and downgraded again when the guard drops.
    pub fn lock_for_gc(&self) -> Result<GcFence> {
        self.materialize()?;
        let path = self.root.join(GC_LOCK_FILE);
        let (file, upgraded) = match self.writer_fence.get() {
            Some(f) => (f.try_clone().at("locking", &path)?, true),
            None => (self.lock_file(GC_LOCK_FILE)?, false),
        };
        if let Err(e) = acquire(&file, true, self.lock_timeout, &path) {
            // flock conversion is not atomic: a failed upgrade may have dropped the
            // shared hold, so take it back before reporting.
            if upgraded {
                let _ = file.lock_shared();
            }
            return Err(e);
        }
        Ok(GcFence { file, upgraded })
    }

    /// Hold the gc fence shared, if the layout is writable (readers such as fsck use
    /// this so gc cannot delete blobs under them; on read-only media there is no gc).
    pub fn try_shared_gc_fence(&self) -> Option<File> {
        let f = self.lock_file(GC_LOCK_FILE).ok()?;
        acquire(&f, false, self.lock_timeout, &self.root.join(GC_LOCK_FILE)).ok()?;
        Some(f)
    }

    /// Hold the gc fence shared without writing anything, for reports on layouts that
    /// may be read-only (`gc --dry-run`): the lock file is opened read-only (flock works
    /// on any open file). When it is missing or cannot be opened (nothing was ever
    /// written by oix, or no read permission), `None`: proceed without the fence.
    pub fn read_only_gc_fence(&self) -> Result<Option<File>> {
        let path = self.root.join(GC_LOCK_FILE);
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(None);
        }
        let Ok(f) = File::open(&path) else {
            return Ok(None);
        };
        acquire(&f, false, self.lock_timeout, &path)?;
        Ok(Some(f))
    }

    /// Take the index.json lock exclusively.
    pub fn lock_index(&self) -> Result<File> {
        self.materialize()?;
        let f = self.lock_file(INDEX_LOCK_FILE)?;
        acquire(
            &f,
            true,
            self.lock_timeout,
            &self.root.join(INDEX_LOCK_FILE),
        )?;
        Ok(f)
    }

    /// Stream `reader` into a new blob. With `expect`, the content must hash to that
    /// digest (and have that size); otherwise sha256 is computed. The blob becomes visible
    /// only after it verified; an existing blob is never replaced.
    pub fn write_blob(
        &self,
        reader: &mut dyn Read,
        expect: Option<(&Digest, u64)>,
    ) -> Result<(Digest, u64)> {
        self.enter_writer()?;
        let expect = match expect {
            Some((d, size)) => Some(
                Expect::blob(d, size)
                    .hint("the source is corrupt or was modified in transit")
                    .require_verifiable()?,
            ),
            None => None,
        };
        let tmp = self.temp_file()?;
        let path = tmp.path().to_path_buf();
        let mut w = io::BufWriter::with_capacity(1 << 20, PathWriter::new(tmp, &path));
        let failed = |e| verify::from_io(e, |e| Error::failure(format!("writing blob: {e}")));
        let (digest, size) = match expect {
            Some(expect) => {
                let mut r = VerifyingReader::new(reader, expect);
                io::copy(&mut r, &mut w).map_err(failed)?;
                let e = r.expect();
                (e.digest.clone(), r.seen())
            }
            None => {
                let mut hw = HashingWriter::new(&mut w, crate::digest::Hasher::sha256());
                io::copy(reader, &mut hw).map_err(failed)?;
                let (_, digest, size) = hw.finish();
                (digest, size)
            }
        };
        let tmp = w
            .into_inner()
            .map_err(|e| Error::write(&path, e.into_error()))?
            .into_inner();
        self.persist_blob(tmp, &digest, size, false)?;
        Ok((digest, size))
    }

    /// Write bytes oix created as a sha256 blob.
    pub fn write_blob_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let (d, _) = self.write_blob(&mut &bytes[..], None)?;
        Ok(d)
    }

    /// Bring the blob `desc` from another layout: [`Layout::stage_blob`], then
    /// [`Layout::commit_staged`].
    pub fn import_blob(&self, src: &Layout, desc: &Descriptor) -> Result<Transfer> {
        match self.stage_blob(src, desc)? {
            Staged::Present => Ok(Transfer::Present),
            Staged::Pending(p) => self.commit_staged(p),
        }
    }

    /// Verify the blob `desc` of another layout and stage it in a temp file of this
    /// layout, not yet visible; [`Layout::commit_staged`] renames it into place. A copy
    /// stages every blob before it commits any, so a corrupt source changes nothing here.
    /// Nothing from the source is trusted blindly (unless this handle was told so with
    /// [`Layout::trusting_sources`]):
    /// - the source file's size is always checked, and its content is hashed once, from
    ///   the open file, before anything is staged;
    /// - a hard link is made only when it cannot be used to change this layout's content
    ///   later: the source inode belongs to this process's user and is not writable by
    ///   group or others (and is still the inode that was hashed when the link lands);
    /// - otherwise the blob is reflinked (`FICLONE`, where the filesystem offers it) or
    ///   copied into a temp file, verified and made read-only (0444).
    ///
    /// A blob already here is kept only when [`Layout::check_present`] finds it intact;
    /// a wrong one is replaced by the verified copy. On a digest mismatch the error names
    /// the source file with both digests.
    pub fn stage_blob(&self, src: &Layout, desc: &Descriptor) -> Result<Staged> {
        let digest = desc.digest()?;
        let size = desc.size()?;
        // The fence first: a blob found present must still be here when it is referenced.
        self.enter_writer()?;
        let replace = match self.check_present(&digest, size)? {
            Presence::Intact => return Ok(Staged::Present),
            Presence::Absent => false,
            Presence::Damaged(_) => true,
        };
        let pending = |tmp: tempfile::TempPath, how: Transfer| {
            Ok(Staged::Pending(Pending {
                tmp,
                digest: digest.clone(),
                size,
                replace,
                how,
            }))
        };
        let src_path = src.blob_path(&digest);
        let mut src_file = src.open_blob(&digest)?;
        let src_meta = src_file.metadata().at("reading", &src_path)?;
        if src_meta.len() != size {
            return Err(Error::corrupt(format!(
                "blob {digest} in {} is {} bytes, the descriptor says {size} ({})",
                src.root.display(),
                src_meta.len(),
                src_path.display()
            ))
            .with_hint(format!(
                "the source layout is corrupt; run `oix fsck {}`",
                src.root.display()
            )));
        }
        // A digest oix cannot compute (fsck warns about those) is size-checked only.
        let mut expect = Expect::blob(&digest, size)
            .named(format!(
                "blob {digest} in {} ({})",
                src.root.display(),
                src_path.display()
            ))
            .hint(format!(
                "the source layout is corrupt or was modified (nothing was written to {}); run `oix fsck {}`",
                self.root.display(),
                src.root.display()
            ));
        if self.trust_sources {
            expect = expect.sizes_only();
        }
        let verify = expect.hash && digest.is_verifiable();
        let check = |r: &mut File, path: &Path| -> Result<()> {
            VerifyingReader::new(r, expect.clone())
                .finish()
                .map_err(|e| verify::from_io(e, |e| Error::io("reading", path, e)))?;
            Ok(())
        };
        if linkable(&src_meta) {
            if verify {
                check(&mut src_file, &src_path)?;
            }
            let canon = fs::canonicalize(&src_path).at("resolving", &src_path)?;
            if let Some(tmp) = self.link_verified(&canon, &src_meta)? {
                return pending(tmp, Transfer::HardLink);
            }
        }
        // Not linkable (or another filesystem): a private copy, verified before it is
        // staged. A reflink snapshots the source first, so the bytes hashed are the
        // bytes kept; the byte copy hashes while it writes. Each reads the content once.
        // A linkable source was hashed above and then could not be linked (another
        // filesystem): read it again from the start.
        src_file
            .seek(io::SeekFrom::Start(0))
            .at("reading", &src_path)?;
        let tmp = self.temp_file()?;
        if rustix::fs::ioctl_ficlone(tmp.as_file(), &src_file).is_ok() {
            if verify {
                let mut clone = File::open(tmp.path()).at("reading", tmp.path())?;
                check(&mut clone, tmp.path())?;
            }
            return pending(self.seal_temp(tmp)?, Transfer::Copy);
        }
        let tmp_path = tmp.path().to_path_buf();
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp);
        io::copy(&mut VerifyingReader::new(&mut src_file, expect), &mut w).map_err(|e| {
            verify::from_io(e, |e| {
                if crate::error::is_no_space(&e) {
                    Error::write(&tmp_path, e)
                } else {
                    Error::new(Kind::Io, format!("copying {}: {e}", src_path.display()))
                }
            })
        })?;
        let tmp = w
            .into_inner()
            .map_err(|e| Error::write(&tmp_path, e.into_error()))?;
        pending(self.seal_temp(tmp)?, Transfer::Copy)
    }

    /// Make a staged blob visible (see [`Layout::stage_blob`]).
    pub fn commit_staged(&self, p: Pending) -> Result<Transfer> {
        self.place(p.tmp, &p.digest, p.size, p.replace)?;
        Ok(p.how)
    }

    /// Hard-link `src` (whose metadata, taken from the file that was verified, is
    /// `verified`) to a temp name in this layout, if it is still the verified inode.
    /// `None`: linking is not possible here (another filesystem, or the source was
    /// swapped), copy instead.
    fn link_verified(
        &self,
        src: &Path,
        verified: &fs::Metadata,
    ) -> Result<Option<tempfile::TempPath>> {
        use std::os::unix::fs::MetadataExt;
        let linked = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .make_in(&self.root, |p| fs::hard_link(src, p));
        let Ok(tmp) = linked else {
            return Ok(None);
        };
        let tmp = tmp.into_temp_path();
        let meta = fs::symlink_metadata(&tmp).at("reading", &tmp)?;
        if meta.dev() != verified.dev() || meta.ino() != verified.ino() {
            return Ok(None); // dropping `tmp` removes the stray link
        }
        Ok(Some(tmp))
    }

    /// Whether blob `digest` is here and intact for a descriptor of `size` bytes: writers
    /// call this before they skip a blob, so a file that merely has the right name
    /// (truncated, replaced, another user's) is never taken for the content.
    /// The size is always checked. The content is hashed unless the file carries oix's
    /// seal: a regular file owned by this process's user with mode 0444, which oix gives
    /// only to blobs it verified while writing them (see the module docs); such a file
    /// can only have been changed by this user (or root), who can change index.json too.
    pub fn check_present(&self, digest: &Digest, size: u64) -> Result<Presence> {
        let path = self.blob_path(digest);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Presence::Absent),
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        let is_link = meta.file_type().is_symlink();
        let meta = if is_link {
            if let Err(e) = self.check_symlink_inside(&path) {
                return Ok(Presence::Damaged(e.message));
            }
            fs::metadata(&path).at("reading", &path)?
        } else {
            meta
        };
        if !meta.is_file() {
            return Ok(Presence::Damaged(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        if meta.len() != size {
            return Ok(Presence::Damaged(format!(
                "{} is {} bytes, the descriptor says {size}",
                path.display(),
                meta.len()
            )));
        }
        // A link is never sealed: its target's seal says nothing about the link.
        if (!is_link && sealed(&meta)) || !digest.is_verifiable() {
            return Ok(Presence::Intact);
        }
        let f = File::open(&path).at("opening", &path)?;
        let expect = Expect::blob(digest, size).named(path.display().to_string());
        match VerifyingReader::new(f, expect).finish() {
            Ok(_) => Ok(Presence::Intact),
            Err(e) => match verify::mismatch_in(&e) {
                Some(m) => Ok(Presence::Damaged(m.to_string())),
                None => Err(Error::io("reading", &path, e)),
            },
        }
    }

    /// Trust the blobs of other layouts this handle copies from (`--trust-source`):
    /// sizes are still checked, content is not hashed. Links still need a safe owner and
    /// mode.
    pub fn trusting_sources(mut self, yes: bool) -> Layout {
        self.trust_sources = yes;
        self
    }

    fn ensure_blob_dir(&self, digest: &Digest) -> Result<()> {
        self.check_blob_dirs(Some(digest.algorithm().as_str()))?;
        let dir = self.root.join(BLOBS_DIR).join(digest.algorithm().as_str());
        fs::create_dir_all(&dir).at("creating", &dir)
    }

    /// Refuse to write or delete blobs when `blobs/` (or `blobs/<alg>`) is a link: every
    /// write and every gc deletion would land outside the layout.
    pub fn check_blob_dirs(&self, alg: Option<&str>) -> Result<()> {
        let blobs = self.root.join(BLOBS_DIR);
        for dir in std::iter::once(blobs.clone()).chain(alg.map(|a| blobs.join(a))) {
            match fs::symlink_metadata(&dir) {
                Ok(m) if !m.is_dir() => {
                    return Err(Error::failure(format!(
                        "{} is not a directory (a link?); oix does not write or delete through it",
                        dir.display()
                    ))
                    .with_hint("a layout's blobs/ must be a directory inside the layout"))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A new temp file in the layout root (same filesystem as blobs/, so rename works).
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile> {
        self.materialize()?;
        tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.root)
            .at("creating a temp file in", &self.root)
    }

    /// A temp file for a blob the caller hashes while writing it (build, import), with
    /// this handle's writer fence held so gc leaves it alone. Finish with
    /// [`Layout::persist_hashed`].
    pub fn blob_temp(&self) -> Result<tempfile::NamedTempFile> {
        self.enter_writer()?;
        self.temp_file()
    }

    /// Make a temp file from [`Layout::blob_temp`] visible as blob `digest`. The caller
    /// computed `digest` and `size` over exactly the bytes it wrote (a hashing writer in
    /// the same pass); the file's length is checked against `size` before the rename,
    /// which never replaces an existing blob.
    pub fn persist_hashed(
        &self,
        tmp: tempfile::NamedTempFile,
        digest: &Digest,
        size: u64,
    ) -> Result<()> {
        let len = tmp.as_file().metadata().at("reading", tmp.path())?.len();
        if len != size {
            return Err(Error::new(
                Kind::Io,
                format!("blob {digest}: the temp file holds {len} bytes, {size} were hashed"),
            ));
        }
        self.persist_blob(tmp, digest, size, false)
    }

    /// Make a verified temp file blob `digest`, read-only (0444). An existing blob is
    /// never replaced unless it is damaged (`replace`, or found so here after a lost
    /// race): then the verified content takes its place by rename.
    fn persist_blob(
        &self,
        tmp: tempfile::NamedTempFile,
        digest: &Digest,
        size: u64,
        replace: bool,
    ) -> Result<()> {
        let tmp = self.seal_temp(tmp)?;
        self.place(tmp, digest, size, replace)
    }

    /// Give a verified temp file the blob mode and fsync it; it stays a temp file.
    fn seal_temp(&self, tmp: tempfile::NamedTempFile) -> Result<tempfile::TempPath> {
        set_mode(tmp.as_file(), tmp.path(), BLOB_MODE)?;
        tmp.as_file().sync_all().at("syncing", tmp.path())?;
        Ok(tmp.into_temp_path())
    }

    /// Rename a sealed temp file to blob `digest` (see [`Layout::persist_blob`]).
    fn place(
        &self,
        tmp: tempfile::TempPath,
        digest: &Digest,
        size: u64,
        replace: bool,
    ) -> Result<()> {
        self.ensure_blob_dir(digest)?;
        let dst = self.blob_path(digest);
        let result = if replace {
            tmp.persist(&dst)
        } else {
            tmp.persist_noclobber(&dst)
        };
        match result {
            Ok(()) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                // Someone else stored it first: keep theirs when it is the content.
                if let Presence::Damaged(_) = self.check_present(digest, size)? {
                    e.path
                        .persist(&dst)
                        .map_err(|e| replace_failed(&dst, e.error))?;
                }
            }
            Err(e) if replace => return Err(replace_failed(&dst, e.error)),
            Err(e) => return Err(Error::io("storing", &dst, e.error)),
        }
        sync_dir(dst.parent().unwrap_or(&self.root))
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

    /// Undo [`Layout::materialize`] (see [`Layout::open_or_create`]). Best effort: it
    /// gives up, leaving a valid layout, whenever the layout may be in use.
    fn roll_back(&self, dev: u64, ino: u64, how: Made) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        // Exclusive gc fence (upgrading this handle's shared hold): no writer is in.
        let fence = match self.writer_fence.get() {
            Some(f) => f.try_clone().at("locking", &self.root)?,
            None => self.lock_file(GC_LOCK_FILE)?,
        };
        if fence.try_lock().is_err() {
            return Ok(());
        }
        let index_lock = self.lock_file(INDEX_LOCK_FILE)?;
        if index_lock.try_lock().is_err() {
            return Ok(());
        }
        let (idx, _) = self.read_index()?;
        // Followed like at creation (an empty directory given through a link is filled
        // in place).
        let meta = fs::metadata(&self.root).at("reading", &self.root)?;
        if !idx.manifests.is_empty() || meta.dev() != dev || meta.ino() != ino {
            return Ok(());
        }
        match how {
            Made::NewDir | Made::OverEmptyDir { .. } => {
                // Renamed away whole first: a crash leaves no layout, not part of one.
                let parent = parent_dir(&self.root);
                let (trash, _lock) = owned_temp_dir(parent, NEW_LAYOUT_TEMP)
                    .at("creating a temp directory in", parent)?;
                fs::rename(&self.root, trash.path()).at("removing", &self.root)?;
                if let Made::OverEmptyDir { mode, uid, gid } = how {
                    use std::os::unix::fs::PermissionsExt;
                    fs::create_dir(&self.root).at("creating", &self.root)?;
                    let _ = std::os::unix::fs::chown(&self.root, Some(uid), Some(gid));
                    fs::set_permissions(&self.root, fs::Permissions::from_mode(mode))
                        .at("setting permissions of", &self.root)?;
                }
                sync_dir(parent)?;
                drop(trash); // removes the old layout
            }
            Made::InPlace => {
                // oci-layout first: from then on it is not a layout, only leftovers.
                let header = self.root.join(OCI_LAYOUT_FILE);
                fs::remove_file(&header).at("removing", &header)?;
                for e in fs::read_dir(&self.root)
                    .at("reading", &self.root)?
                    .flatten()
                {
                    let p = e.path();
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        fs::remove_dir_all(&p).at("removing", &p)?;
                    } else {
                        fs::remove_file(&p).at("removing", &p)?;
                    }
                }
                sync_dir(&self.root)?;
            }
        }
        Ok(())
    }
}

impl Drop for Layout {
    fn drop(&mut self) {
        let Some(c) = &self.creation else { return };
        if c.committed.load(Ordering::SeqCst) {
            return;
        }
        let st = std::mem::take(&mut *c.state.lock().unwrap_or_else(|e| e.into_inner()));
        if let CreateState::Created { dev, ino, how } = st {
            let _ = self.roll_back(dev, ino, how);
        }
    }
}

/// The name prefix of a temp file or directory that oix creates beside a layout or an
/// archive (outside any layout, where no gc looks): `.oix-tmp-KIND-PID-`. The process
/// holds an exclusive flock on it while it is in use, so that
/// [`remove_stale_temps`] can tell a leftover of a killed process from one in use.
pub fn owned_temp_prefix(kind: &str) -> String {
    format!("{TEMP_PREFIX}{kind}-{}-", std::process::id())
}

/// Remove what killed processes left in `dir` under [`owned_temp_prefix`]`(kind)`:
/// only when the process named in it is not running (as /proc shows; without /proc
/// nothing is removed) and no one holds its lock (a process in another PID
/// namespace). A temp of a running oix is never touched. Best effort; returns the
/// count and bytes (of files) removed.
pub fn remove_stale_temps(dir: &Path, kind: &str) -> (u64, u64) {
    let prefix = format!("{TEMP_PREFIX}{kind}-");
    let proc_fs = Path::new("/proc/self").exists();
    let mut removed = (0, 0);
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(ft) = e.file_type() else { continue };
        if !proc_fs
            || pid == std::process::id()
            || Path::new("/proc").join(pid.to_string()).exists()
            || !(ft.is_file() || ft.is_dir())
        {
            continue;
        }
        let path = e.path();
        let Ok(f) = File::open(&path) else { continue };
        // Removed while holding its lock: its owner, if any, is gone.
        if f.try_lock().is_err() {
            continue;
        }
        let len = if ft.is_dir() {
            0
        } else {
            f.metadata().map_or(0, |m| m.len())
        };
        let gone = if ft.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed.0 += 1;
            removed.1 += len;
        }
    }
    removed
}

/// A temp directory beside `root` named by [`owned_temp_prefix`], locked while held.
fn owned_temp_dir(parent: &Path, kind: &str) -> io::Result<(tempfile::TempDir, File)> {
    let d = tempfile::Builder::new()
        .prefix(&owned_temp_prefix(kind))
        .tempdir_in(parent)?;
    let f = File::open(d.path())?;
    f.lock()?;
    Ok((d, f))
}

/// `path`'s directory for siblings (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuse a path a layout cannot be created at: anything but a missing path or an
/// empty directory. Returns the empty directory's metadata.
fn check_creatable(root: &Path) -> Result<Option<fs::Metadata>> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", root, e)),
    };
    let meta = if meta.file_type().is_symlink() {
        fs::metadata(root).at("reading", root)?
    } else {
        meta
    };
    let nonempty = !meta.is_dir() || fs::read_dir(root).at("reading", root)?.next().is_some();
    if nonempty {
        return Err(Error::failure(format!(
            "{} exists, is not empty and is not an OCI image layout",
            root.display()
        ))
        .with_hint("choose an empty or new directory"));
    }
    Ok(Some(meta))
}

/// Write the files of an empty layout into the directory `dir`, oci-layout last (its
/// presence is what marks a finished layout).
fn populate(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir.join(BLOBS_DIR).join("sha256")).at("creating", dir)?;
    write_atomic(dir, INDEX_FILE, &Index::default().to_bytes())?;
    write_atomic(dir, OCI_LAYOUT_FILE, OCI_LAYOUT_CONTENT)?;
    sync_dir(&dir.join(BLOBS_DIR))
}

/// Create an empty layout at `root` (missing or an empty directory): built in a temp
/// directory beside it and renamed into place, so no one ever sees part of a layout.
fn create_layout_dir(root: &Path) -> Result<CreateState> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if root.join(OCI_LAYOUT_FILE).exists() {
        return Ok(CreateState::Existing);
    }
    let existing = check_creatable(root)?;
    let parent = parent_dir(root);
    fs::create_dir_all(parent).at("creating", parent)?;
    let in_place = || -> Result<CreateState> {
        populate(root)?;
        let m = fs::metadata(root).at("reading", root)?;
        Ok(CreateState::Created {
            dev: m.dev(),
            ino: m.ino(),
            how: Made::InPlace,
        })
    };
    // `.`, `..`, `/`: no name to rename onto; fill the (empty) directory itself.
    if existing.is_some() && root.file_name().is_none() {
        return in_place();
    }
    let identity = |how: Made| -> Result<CreateState> {
        let m = fs::metadata(root).at("reading", root)?;
        Ok(CreateState::Created {
            dev: m.dev(),
            ino: m.ino(),
            how,
        })
    };
    // Leftovers of creations (or removals) killed here before.
    remove_stale_temps(parent, NEW_LAYOUT_TEMP);
    let staged = owned_temp_dir(parent, NEW_LAYOUT_TEMP);
    let (staged, _lock) = match (staged, &existing) {
        (Ok(s), _) => s,
        // A parent oix may not write to: fill the empty directory itself.
        (Err(_), Some(_)) => return in_place(),
        (Err(e), None) => return Err(Error::io("creating a temp directory in", parent, e)),
    };
    populate(staged.path())?;
    let how = match &existing {
        None => Made::NewDir,
        Some(m) => {
            let _ = std::os::unix::fs::chown(staged.path(), Some(m.uid()), Some(m.gid()));
            Made::OverEmptyDir {
                mode: m.permissions().mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
            }
        }
    };
    let mode = match how {
        Made::OverEmptyDir { mode, .. } => mode,
        _ => 0o755,
    };
    fs::set_permissions(staged.path(), fs::Permissions::from_mode(mode))
        .at("setting permissions of", staged.path())?;
    // rename(2) replaces a missing path or an empty directory, never a non-empty one.
    match fs::rename(staged.path(), root) {
        Ok(()) => {
            let _ = staged.keep();
            sync_dir(parent)?;
            identity(how)
        }
        Err(e) => {
            drop(staged);
            if root.join(OCI_LAYOUT_FILE).exists() {
                // Another process created the layout first.
                Ok(CreateState::Existing)
            } else if existing.is_some() && check_creatable(root)?.is_some() {
                // The empty directory cannot be replaced (a mount point): fill it.
                in_place()
            } else {
                Err(Error::io("creating", root, e))
            }
        }
    }
}

/// The gc fence held exclusively; see [`Layout::lock_for_gc`].
pub struct GcFence {
    file: File,
    upgraded: bool,
}

impl Drop for GcFence {
    fn drop(&mut self) {
        if self.upgraded {
            // Back to the shared hold this handle had before.
            let _ = self.file.lock_shared();
        }
    }
}

/// Wait for a lock (exclusive or shared) until `timeout`.
fn acquire(f: &File, exclusive: bool, timeout: Duration, path: &Path) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let r = if exclusive {
            f.try_lock()
        } else {
            f.try_lock_shared()
        };
        match r {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("locking", path, e)),
        }
        if start.elapsed() >= timeout {
            return Err(Error::new(
                Kind::Io,
                format!(
                    "timed out after {:.1}s waiting for the lock {}",
                    timeout.as_secs_f64(),
                    path.display()
                ),
            )
            .with_hint(
                "another oix process is working on this layout; retry, or raise --lock-timeout",
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
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

/// The effective user of this process.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A source blob may be hard-linked into a layout only when nobody but this user (and
/// root) can change the shared inode afterwards.
fn linkable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.is_file() && meta.uid() == euid() && meta.mode() & 0o022 == 0
}

/// oix's seal on a blob it verified and wrote: see [`Layout::check_present`].
fn sealed(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.file_type().is_file() && meta.uid() == euid() && meta.mode() & 0o7777 == BLOB_MODE
}

fn replace_failed(dst: &Path, e: io::Error) -> Error {
    Error::new(
        Kind::Io,
        format!(
            "{} is not the blob its name says, and cannot be replaced: {e}",
            dst.display()
        ),
    )
    .with_hint("remove that file (it is not the content) and run the command again")
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .at("syncing", dir)
}
