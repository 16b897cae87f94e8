//! Temp files and directories oix creates beside a layout or an archive, and the
//! clean-up of those a killed process left.

use super::TEMP_PREFIX;
use std::fs::{self, File};
use std::io;
use std::path::Path;

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
pub(super) fn owned_temp_dir(parent: &Path, kind: &str) -> io::Result<(tempfile::TempDir, File)> {
    let d = tempfile::Builder::new()
        .prefix(&owned_temp_prefix(kind))
        .tempdir_in(parent)?;
    let f = File::open(d.path())?;
    f.lock()?;
    Ok((d, f))
}
