//! The locks of a layout: the index.json lock and the gc fence (shared for writers,
//! exclusive for gc), with the timed wait both use.

use super::{Layout, GC_LOCK_FILE, INDEX_LOCK_FILE};
use crate::error::{Error, IoContext, Kind, Result};
use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

impl Layout {
    pub(super) fn lock_file(&self, name: &str) -> Result<File> {
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
