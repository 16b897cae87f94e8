//! One error type for the whole library.
//!
//! Every error carries a [`Kind`] that maps to a documented exit code, a message that
//! says what went wrong and where (file, field), and an optional hint that says what to
//! do about it. The CLI prints `error: <message>` and `hint: <hint>` on stderr.

use std::fmt;
use std::path::Path;

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
    /// An I/O error on `path`, while doing `what` ("reading", "creating", ...).
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        let mut e = Error::failure(format!("{what} {}: {err}", path.display()));
        if err.kind() == std::io::ErrorKind::PermissionDenied {
            e.hint = Some("check the permissions of the layout directory".into());
        }
        e.source = Some(Box::new(err));
        e
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
