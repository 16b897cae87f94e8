//! One error type for the whole library.
//!
//! Every error carries a [`Kind`] that maps to a documented exit code, a message that
//! says what went wrong and where (file, field), and an optional hint that says what to
//! do about it. The CLI prints `error: <message>` and `hint: <hint>` on stderr.

use std::fmt;
use std::path::{Path, PathBuf};

/// What class of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Generic failure (I/O, invalid content, fsck problems): exit 1.
    Failure,
    /// The command line itself is wrong: exit 2.
    Usage,
    /// A selector or reference matched nothing: exit 3.
    NoMatch,
    /// A command that needs one result found several: exit 4.
    Ambiguous,
    /// A policy refused the operation; nothing was written: exit 5.
    Refused,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::NoMatch => 3,
            Kind::Ambiguous => 4,
            Kind::Refused => 5,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// Structured data for `--json` error output (e.g. the candidates of an ambiguous
    /// selection); printed as `error.details`.
    pub details: Option<Box<serde_json::Value>>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            details: None,
            source: None,
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn no_match(message: impl Into<String>) -> Self {
        Self::new(Kind::NoMatch, message)
    }
    pub fn ambiguous(message: impl Into<String>) -> Self {
        Self::new(Kind::Ambiguous, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }
    /// An I/O error on `path`, while doing `what` ("reading", "creating", ...). A full
    /// filesystem is reported as [`Error::write`] does.
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        if is_no_space(&err) {
            return Error::write(path, err);
        }
        let mut e = Error::failure(format!("{what} {}: {err}", path.display()));
        if err.kind() == std::io::ErrorKind::PermissionDenied {
            e.hint = Some("check the permissions of the layout directory".into());
        }
        e.source = Some(Box::new(err));
        e
    }
    /// A write to `path` failed: the one place that turns a write's io::Error into an
    /// oix error. A full filesystem (ENOSPC, EDQUOT) says so, with the device and its
    /// mount point: "no space left on DEVICE writing PATH". When `err` carries a
    /// [`WriteFailure`] (from a [`PathWriter`] deeper in a writer stack), its path wins.
    pub fn write(path: &Path, err: std::io::Error) -> Self {
        let (path, err) = match take_write_failure(err) {
            Ok(w) => (w.path, w.source),
            Err(err) => (path.to_path_buf(), err),
        };
        let mut e = if is_no_space(&err) {
            let (device, hint) = match mount_of(&path) {
                Some(m) => (
                    format!(
                        "device {} ({} mounted at {})",
                        m.source,
                        m.fstype,
                        m.point.display()
                    ),
                    format!(
                        "free space on {}, or write somewhere else",
                        m.point.display()
                    ),
                ),
                None => (
                    "device".to_string(),
                    "free space, or write somewhere else".to_string(),
                ),
            };
            let what = if err.kind() == std::io::ErrorKind::QuotaExceeded {
                "disk quota exceeded on"
            } else {
                "no space left on"
            };
            Error::failure(format!("{what} {device} writing {}", path.display())).with_hint(hint)
        } else {
            let mut e = Error::failure(format!("writing {}: {err}", path.display()));
            if err.kind() == std::io::ErrorKind::PermissionDenied {
                e.hint = Some("check the permissions of the layout directory".into());
            }
            e
        };
        e.source = Some(Box::new(WriteFailure { path, source: err }));
        e
    }

    /// `err` as [`Error::write`] reports it when it is a write failure tagged by a
    /// [`PathWriter`] (anywhere in its chain), else `otherwise(err)` (a read error, say,
    /// in a copy from a reader to a writer).
    pub fn from_io(err: std::io::Error, otherwise: impl FnOnce(std::io::Error) -> Error) -> Self {
        match take_write_failure(err) {
            Ok(w) => Error::write(&w.path, w.source),
            Err(err) => otherwise(err),
        }
    }

    /// Whether this error is a failed write on the local side (see [`Error::write`]),
    /// not a problem of the content being written.
    pub fn is_write_failure(&self) -> bool {
        self.source
            .as_ref()
            .is_some_and(|s| s.downcast_ref::<WriteFailure>().is_some())
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }
    /// Prefix the message with more context ("in index.json: ...").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Attach a path and an action to `std::io::Result`s.
pub trait IoContext<T> {
    fn at(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(what, path, e))
    }
}

/// A failed write to `path`, carried inside an io::Error through writer stacks (tar,
/// compressors, pipelines) that do not know where their bytes go; see [`PathWriter`]
/// and [`Error::write`].
#[derive(Debug)]
pub struct WriteFailure {
    pub path: PathBuf,
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
    pub fn new(inner: W, path: &Path) -> Self {
        PathWriter {
            inner,
            path: path.to_path_buf(),
        }
    }
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
fn find_write_failure(err: &std::io::Error) -> Option<&WriteFailure> {
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
fn take_write_failure(err: std::io::Error) -> Result<WriteFailure, std::io::Error> {
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
struct Mount {
    source: String,
    fstype: String,
    point: PathBuf,
}

fn mount_of(path: &Path) -> Option<Mount> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A writer on a full disk.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_deep_in_a_writer_stack_names_the_path() {
        let p = Path::new("/no/such/dir/.oix-tmp-x");
        let mut w = PathWriter::new(Full, p);
        let e = w.write(b"x").unwrap_err();
        // Wrapped again, as tar and compressors may do.
        let wrapped = std::io::Error::other(e);
        let err = Error::from_io(wrapped, |e| Error::failure(format!("other: {e}")));
        assert!(
            err.message.starts_with("no space left on ")
                && err.message.ends_with(" writing /no/such/dir/.oix-tmp-x"),
            "{}",
            err.message
        );
        assert!(err.message.contains("mounted at /"), "{}", err.message);
        assert!(err.is_write_failure());
        assert!(err.hint.is_some());
        // Untagged errors are the caller's to describe.
        let read = Error::from_io(std::io::Error::other("bad gzip"), |e| {
            Error::failure(format!("reading: {e}"))
        });
        assert_eq!(read.message, "reading: bad gzip");
        assert!(!read.is_write_failure());
        // Error::io on a full disk says the same (sync, rename, small files).
        let e = Error::io("syncing", p, std::io::Error::from_raw_os_error(28));
        assert!(e.message.starts_with("no space left on "), "{}", e.message);
        let q = Error::write(p, std::io::Error::from_raw_os_error(122)); // EDQUOT
        assert!(
            q.message.starts_with("disk quota exceeded on "),
            "{}",
            q.message
        );
    }
}
