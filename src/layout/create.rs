//! Lazy creation of a layout ([`Layout::open_or_create`]): the layout is built in a temp
//! directory beside it on the first write, and rolled back on drop when no index.json
//! transaction committed. Kept apart from the store's reads and writes because it is
//! its own state machine (pending, created, existing).

use super::temps::{owned_temp_dir, remove_stale_temps};
use super::{
    sync_dir, write_atomic, Layout, BLOBS_DIR, DEFAULT_LOCK_TIMEOUT, GC_LOCK_FILE, INDEX_FILE,
    INDEX_LOCK_FILE, NEW_LAYOUT_TEMP, OCI_LAYOUT_CONTENT, OCI_LAYOUT_FILE,
};
use crate::error::{Error, IoContext, Result};
use crate::model::Index;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// The lazily created destination of [`Layout::open_or_create`].
#[derive(Debug, Default)]
pub(super) struct Creation {
    state: Mutex<CreateState>,
    /// An index.json transaction changed the new layout: it stays.
    pub(super) committed: AtomicBool,
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

impl Layout {
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
    pub(super) fn materialize(&self) -> Result<bool> {
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
    pub(super) fn is_pending(&self) -> bool {
        self.creation.as_ref().is_some_and(|c| {
            matches!(
                *c.state.lock().unwrap_or_else(|e| e.into_inner()),
                CreateState::Pending
            )
        })
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

/// `path`'s directory for siblings (`.` for a bare name).
pub(super) fn parent_dir(path: &Path) -> &Path {
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
