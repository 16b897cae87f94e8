//! One error type for the whole library.
//!
//! Every error carries a [`Kind`] that maps to a documented exit code, a message that
//! says what went wrong and where (file, field), and an optional hint that says what to
//! do about it. The CLI prints `error: <message>` and `hint: <hint>` on stderr.

mod write;

pub use write::{is_no_space, PathWriter, WriteFailure};
use write::{mount_of, take_write_failure};

use std::fmt;
use std::path::Path;

/// The exit statuses oix documents (EXIT STATUS in oix(1), `cli::EXIT_CODES`). Every
/// exit of the binary is one of these; [`Kind::exit`] is the one map from an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: success.
    Success,
    /// 1: failure (I/O, invalid content, fsck found problems, lock timeout).
    Failure,
    /// 2: usage error (bad arguments or references).
    Usage,
    /// 3: no match (a reference or selector matched nothing).
    NoMatch,
    /// 4: ambiguous (several entries matched where one was needed).
    Ambiguous,
    /// 5: refused by a policy (nothing was written).
    Refused,
    /// 6: changes made (only where --detailed-exitcode asks for it).
    Changed,
}

impl ExitCode {
    /// Every exit status, in order.
    pub const ALL: [ExitCode; 7] = [
        ExitCode::Success,
        ExitCode::Failure,
        ExitCode::Usage,
        ExitCode::NoMatch,
        ExitCode::Ambiguous,
        ExitCode::Refused,
        ExitCode::Changed,
    ];

    /// The number the process exits with.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Usage => 2,
            ExitCode::NoMatch => 3,
            ExitCode::Ambiguous => 4,
            ExitCode::Refused => 5,
            ExitCode::Changed => 6,
        }
    }

    /// What the status means, as the EXIT STATUS section says it.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitCode::Success => "success",
            ExitCode::Failure => {
                "failure (I/O, invalid content, fsck found problems, lock timeout)"
            }
            ExitCode::Usage => "usage error (bad arguments or references)",
            ExitCode::NoMatch => "no match (a reference or selector matched nothing)",
            ExitCode::Ambiguous => "ambiguous (several entries matched where one was needed)",
            ExitCode::Refused => "refused by a policy (nothing was written)",
            ExitCode::Changed => "changes made (only where --detailed-exitcode asks for it)",
        }
    }

    /// [`ExitCode::Changed`] when `detailed` (--detailed-exitcode) and something
    /// changed (or, in a dry run, would change), else [`ExitCode::Success`].
    pub fn changed_if(detailed: bool, changed: bool) -> ExitCode {
        if detailed && changed {
            ExitCode::Changed
        } else {
            ExitCode::Success
        }
    }
}

/// What happened; decides the process exit code (see [`Kind::exit`]).
///
/// "Not found" is a thing that must exist and does not (a file, a blob, a layout, a
/// remote repository): exit 1. "No match" is a reference or selector that names
/// nothing: exit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any other failure: exit 1.
    Failure,
    /// Something that must exist does not (a file, a blob, a layout): exit 1.
    NotFound,
    /// Content is invalid or does not match its digest or size: exit 1.
    Corrupt,
    /// A local read or write failed (permissions, a full disk, a lock): exit 1.
    Io,
    /// The registry or the network failed; [`Error::remote`] carries the HTTP status
    /// and the registry's error codes when it answered: exit 1.
    Remote,
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
    /// Every kind.
    pub const ALL: [Kind; 9] = [
        Kind::Failure,
        Kind::NotFound,
        Kind::Corrupt,
        Kind::Io,
        Kind::Remote,
        Kind::Usage,
        Kind::NoMatch,
        Kind::Ambiguous,
        Kind::Refused,
    ];

    /// The one map from what happened to the exit status.
    pub fn exit(self) -> ExitCode {
        match self {
            Kind::Failure | Kind::NotFound | Kind::Corrupt | Kind::Io | Kind::Remote => {
                ExitCode::Failure
            }
            Kind::Usage => ExitCode::Usage,
            Kind::NoMatch => ExitCode::NoMatch,
            Kind::Ambiguous => ExitCode::Ambiguous,
            Kind::Refused => ExitCode::Refused,
        }
    }

    /// The process exit status of this kind.
    pub fn exit_code(self) -> i32 {
        self.exit().code()
    }

    /// This kind when it is a failure (exit 1), else [`Kind::Failure`]: for a problem
    /// found while reading content (a walk's), reported as the failure of a command.
    pub fn as_failure(self) -> Kind {
        if self.exit() == ExitCode::Failure {
            self
        } else {
            Kind::Failure
        }
    }

    /// The kind's name in `--json` error output (`error.kind`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::NotFound => "not-found",
            Kind::Corrupt => "corrupt",
            Kind::Io => "io",
            Kind::Remote => "remote",
            Kind::Usage => "usage",
            Kind::NoMatch => "no-match",
            Kind::Ambiguous => "ambiguous",
            Kind::Refused => "refused",
        }
    }
}

/// An error code of the OCI distribution API (the `code` of an entry of a registry's
/// `errors` array), parsed once where the response is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCode {
    /// `BLOB_UNKNOWN`: the registry does not have the blob.
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`: the upload was refused.
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`: the upload session is gone.
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: the content does not match its digest.
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`: a blob a manifest names is missing.
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`: the manifest was refused.
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`: no such manifest or tag.
    ManifestUnknown,
    /// `NAME_INVALID`: the repository name is refused.
    NameInvalid,
    /// `NAME_UNKNOWN`: no such repository.
    NameUnknown,
    /// `SIZE_INVALID`: the content length does not match.
    SizeInvalid,
    /// `UNAUTHORIZED`: authentication is needed.
    Unauthorized,
    /// `DENIED`: access is not allowed.
    Denied,
    /// `UNSUPPORTED`: the operation is not supported.
    Unsupported,
    /// `TOOMANYREQUESTS`: rate limited.
    TooManyRequests,
    /// A code the spec does not define, as the registry spelled it.
    Other(String),
}

impl RegistryCode {
    /// The code for its spelling in a registry's answer.
    pub fn parse(code: &str) -> RegistryCode {
        match code {
            "BLOB_UNKNOWN" => RegistryCode::BlobUnknown,
            "BLOB_UPLOAD_INVALID" => RegistryCode::BlobUploadInvalid,
            "BLOB_UPLOAD_UNKNOWN" => RegistryCode::BlobUploadUnknown,
            "DIGEST_INVALID" => RegistryCode::DigestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => RegistryCode::ManifestBlobUnknown,
            "MANIFEST_INVALID" => RegistryCode::ManifestInvalid,
            "MANIFEST_UNKNOWN" => RegistryCode::ManifestUnknown,
            "NAME_INVALID" => RegistryCode::NameInvalid,
            "NAME_UNKNOWN" => RegistryCode::NameUnknown,
            "SIZE_INVALID" => RegistryCode::SizeInvalid,
            "UNAUTHORIZED" => RegistryCode::Unauthorized,
            "DENIED" => RegistryCode::Denied,
            "UNSUPPORTED" => RegistryCode::Unsupported,
            "TOOMANYREQUESTS" => RegistryCode::TooManyRequests,
            other => RegistryCode::Other(other.to_string()),
        }
    }
}

/// What a registry answered to a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFailure {
    /// The HTTP status.
    pub status: u16,
    /// The codes of its `errors` array, in order (empty when the body had none).
    pub codes: Vec<RegistryCode>,
}

/// The one error type: what happened ([`Kind`], hence the exit code), a message, a hint.
#[derive(Debug)]
pub struct Error {
    /// What happened; decides the exit code.
    pub kind: Kind,
    /// What failed and where, for a human.
    pub message: String,
    /// What to do about it, when oix knows.
    pub hint: Option<String>,
    /// Structured data for `--json` error output (e.g. the candidates of an ambiguous
    /// selection); printed as `error.details`.
    pub details: Option<Box<serde_json::Value>>,
    /// For [`Kind::Remote`] errors from a registry's answer: its status and error codes.
    pub remote: Option<Box<RemoteFailure>>,
    /// The underlying error, if any.
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// A result with oix's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            details: None,
            remote: None,
            source: None,
        }
    }
    /// Any other failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    /// Bad arguments or input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    /// Nothing matched (exit 3).
    pub fn no_match(message: impl Into<String>) -> Self {
        Self::new(Kind::NoMatch, message)
    }
    /// Several matched where one was needed (exit 4).
    pub fn ambiguous(message: impl Into<String>) -> Self {
        Self::new(Kind::Ambiguous, message)
    }
    /// A policy refused the change (exit 5).
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }
    /// Something that must exist does not (a file, a blob, a layout, a repository).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    /// Content is invalid, or does not match its digest or size.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(Kind::Corrupt, message)
    }
    /// The registry or the network failed (no answer to carry; see
    /// [`Error::registry`] for one).
    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(Kind::Remote, message)
    }
    /// A registry answered `status` with the error `codes`.
    pub fn registry(message: impl Into<String>, status: u16, codes: Vec<RegistryCode>) -> Self {
        let mut e = Self::new(Kind::Remote, message);
        e.remote = Some(Box::new(RemoteFailure { status, codes }));
        e
    }
    /// Whether a registry's answer carried `code`.
    pub fn has_registry_code(&self, code: &RegistryCode) -> bool {
        self.remote.as_ref().is_some_and(|r| r.codes.contains(code))
    }
    /// An I/O error on `path`, while doing `what` ("reading", "creating", ...). A full
    /// filesystem is reported as [`Error::write`] does.
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        if is_no_space(&err) {
            return Error::write(path, err);
        }
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            Kind::NotFound
        } else {
            Kind::Io
        };
        let mut e = Error::new(kind, format!("{what} {}: {err}", path.display()));
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
            Error::new(
                Kind::Io,
                format!("{what} {device} writing {}", path.display()),
            )
            .with_hint(hint)
        } else {
            let mut e = Error::new(Kind::Io, format!("writing {}: {err}", path.display()));
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

    /// Add a hint (what to do).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Add structured data for `--json` error output.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }
    /// Prefix the message with more context ("in index.json: ...").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    /// The process exit status for this error.
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
    /// An I/O error becomes a [`Kind::Io`] error naming `what` was done to `path`.
    fn at(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(what, path, e))
    }
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
    fn every_kind_maps_to_its_documented_exit_code() {
        let expect = |k: Kind| match k {
            Kind::Failure | Kind::NotFound | Kind::Corrupt | Kind::Io | Kind::Remote => 1,
            Kind::Usage => 2,
            Kind::NoMatch => 3,
            Kind::Ambiguous => 4,
            Kind::Refused => 5,
        };
        for k in Kind::ALL {
            assert_eq!(k.exit_code(), expect(k), "{k:?}");
            assert_eq!(Error::new(k, "x").exit_code(), expect(k), "{k:?}");
        }
        let codes: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6]);
        for k in Kind::ALL {
            assert_eq!(k.as_failure().exit_code(), 1, "{k:?}");
        }
        assert_eq!(Kind::Corrupt.as_failure(), Kind::Corrupt);
        assert_eq!(ExitCode::changed_if(true, true).code(), 6);
        assert_eq!(ExitCode::changed_if(false, true).code(), 0);
        assert_eq!(ExitCode::changed_if(true, false).code(), 0);
        // Kind names are distinct (they are --json data).
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        // The constructors say what they are.
        assert_eq!(Error::not_found("x").kind, Kind::NotFound);
        assert_eq!(Error::corrupt("x").kind, Kind::Corrupt);
        assert_eq!(Error::remote("x").kind, Kind::Remote);
        let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            Error::io("reading", Path::new("/x"), gone).kind,
            Kind::NotFound
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(Error::io("reading", Path::new("/x"), denied).kind, Kind::Io);
        let r = Error::registry("PUT", 400, vec![RegistryCode::parse("DIGEST_INVALID")]);
        assert_eq!(r.kind, Kind::Remote);
        assert!(r.has_registry_code(&RegistryCode::DigestInvalid));
        assert!(!r.has_registry_code(&RegistryCode::NameUnknown));
        assert_eq!(
            RegistryCode::parse("X_VENDOR"),
            RegistryCode::Other("X_VENDOR".into())
        );
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
