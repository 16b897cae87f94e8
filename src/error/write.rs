//! Write failures that name their file: a [`PathWriter`] wraps a writer so that its
//! errors carry the path through writer stacks (tar, compressors), and
//! [`super::Error::write`] turns them into errors that say which file and which device.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failed write to `path`, carried inside an io::Error through writer stacks (tar,
/// compressors, pipelines) that do not know where their bytes go; see [`PathWriter`]
/// and [`Error::write`].
#[derive(Debug)]
pub struct WriteFailure {
    /// The file being written.
    pub path: PathBuf,
    /// The write's error.
    pub source: std::io::Error,
}

impl fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for WriteFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A writer whose errors name the file it writes (as a [`WriteFailure`]): every blob,
/// layer and archive writer wraps its file in one.
pub struct PathWriter<W> {
    inner: W,
    path: PathBuf,
}

impl<W> PathWriter<W> {
    /// Wrap `inner`, which writes `path`.
    pub fn new(inner: W, path: &Path) -> Self {
        PathWriter {
            inner,
            path: path.to_path_buf(),
        }
    }
    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
    fn tag(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(
            e.kind(),
            WriteFailure {
                path: self.path.clone(),
                source: e,
            },
        )
    }
}

impl<W: std::io::Write> std::io::Write for PathWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.tag(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.tag(e))
    }
}

/// Whether `err` means the filesystem is full (ENOSPC) or the quota is used up (EDQUOT).
pub fn is_no_space(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// The [`WriteFailure`] inside `err` (wrapped by a writer stack, maybe several levels).
pub(super) fn find_write_failure(err: &std::io::Error) -> Option<&WriteFailure> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = err.get_ref().map(|e| e as _);
    while let Some(e) = cur {
        if let Some(w) = e.downcast_ref::<WriteFailure>() {
            return Some(w);
        }
        cur = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|e| e as _),
            None => e.source(),
        };
    }
    None
}

/// Take the [`WriteFailure`] out of `err` (owned when it is the payload; rebuilt from
/// its kind, OS code and text when it is deeper), or give `err` back.
pub(super) fn take_write_failure(err: std::io::Error) -> Result<WriteFailure, std::io::Error> {
    if err.get_ref().is_some_and(|e| e.is::<WriteFailure>()) {
        let inner = err.into_inner().expect("checked above");
        return Ok(*inner.downcast::<WriteFailure>().expect("checked above"));
    }
    match find_write_failure(&err) {
        Some(w) => Ok(WriteFailure {
            path: w.path.clone(),
            source: match w.source.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(w.source.kind(), w.source.to_string()),
            },
        }),
        None => Err(err),
    }
}

/// The filesystem `path` is on, from /proc/self/mountinfo.
pub(super) struct Mount {
    pub(super) source: String,
    pub(super) fstype: String,
    pub(super) point: PathBuf,
}

pub(super) fn mount_of(path: &Path) -> Option<Mount> {
    // The nearest existing ancestor, links resolved (the file itself may be gone).
    let abs = path.ancestors().find_map(|a| {
        std::fs::canonicalize(if a.as_os_str().is_empty() {
            Path::new(".")
        } else {
            a
        })
        .ok()
    })?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let unescape = |s: &str| {
        // mountinfo writes space, tab, newline and backslash as \ooo.
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\'
                && i + 3 < b.len()
                && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap_or(b'?'));
                i += 4;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut best: Option<Mount> = None;
    for line in info.lines() {
        let (left, right) = line.split_once(" - ")?;
        let point = PathBuf::from(unescape(left.split(' ').nth(4)?));
        let mut r = right.split(' ');
        let fstype = r.next()?.to_string();
        let source = unescape(r.next()?);
        // Later lines are mounted on top of earlier ones: the last longest match wins.
        if abs.starts_with(&point)
            && best
                .as_ref()
                .is_none_or(|b| point.components().count() >= b.point.components().count())
        {
            best = Some(Mount {
                source,
                fstype,
                point,
            });
        }
    }
    best
}
