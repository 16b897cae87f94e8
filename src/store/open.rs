//! The one store opener: a parsed [`Reference`] plus [`Connect`] options become an
//! opened [`Store`] (a layout, a registry repository, or an archive: read, or written
//! by [`Store::finish`]) and the name or digest the reference asks for ([`Target`]).
//! Whoever opens a store for writing calls [`Store::finish`] after the copy.
//!
//! Every command that reaches a store goes through here, so the command-line flags
//! (`--authfile`, `--ca-cert`, `--insecure`, `--plain-http`, `--retries`, `--jobs`,
//! `--timeout`, `--mount-from`, `--chunk-size`) mean the same everywhere: the CLI fills
//! a [`Connect`] and calls [`open`].
//!
//! ```no_run
//! use oix::reference::Reference;
//! use oix::store::open::{open, Access, Connect};
//! let r = Reference::parse("docker://localhost:5000/app:1.0")?;
//! let opened = open(&r, Access::Read, &Connect::new())?;
//! let now = opened.store.names().resolve_name("1.0")?;
//! # Ok::<(), oix::Error>(())
//! ```

use super::{Names, Sink, Source};
use crate::archive::sink::{ArchiveFile, Written};
use crate::archive::source::{open_source, ArchiveSource};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::reference::{Reference, Target};
use crate::registry::client::TransportOptions;
use crate::registry::remote::{Progress, Registry, RegistryOptions, DEFAULT_CHUNK_SIZE};
use crate::registry::RegistryRef;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to reach stores: what the connection flags of the command line say.
#[derive(Clone)]
pub struct Connect {
    /// `--authfile`: the only credentials file read.
    pub authfile: Option<PathBuf>,
    /// `--ca-cert`: extra trusted certificates (PEM files).
    pub ca_certs: Vec<PathBuf>,
    /// `--cert-dir`, `--client-cert`, `--client-key`.
    pub tls: TlsFiles,
    /// `--creds`: credentials for this run instead of any auth file.
    pub credentials: Option<crate::registry::auth::Found>,
    /// `--insecure`: TLS without verifying the certificate.
    pub insecure: bool,
    /// `--plain-http`: no TLS.
    pub plain_http: bool,
    /// `--retries`: attempts after a transient failure.
    pub retries: u32,
    /// `-j/--jobs`: parallel blob transfers (1 to 64).
    pub jobs: usize,
    /// `--timeout`: connect and idle timeout.
    pub timeout: Option<Duration>,
    /// `--mount-from`: repositories of the destination registry to mount blobs from.
    pub mount_from: Vec<String>,
    /// `--chunk-size`: size of one PATCH of a chunked upload.
    pub chunk_size: Option<u64>,
    /// How long to wait for a layout's lock.
    pub lock_timeout: Option<Duration>,
    /// Byte-level progress of blob transfers (bars on a terminal).
    pub progress: Option<Arc<dyn Progress>>,
}

/// Certificate files for one registry connection.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// A certs.d directory (else the default certs.d roots are looked in).
    pub cert_dir: Option<PathBuf>,
    /// A client certificate and its key for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// The key of `client_cert`.
    pub client_key: Option<PathBuf>,
}

impl Default for Connect {
    fn default() -> Self {
        Connect::new()
    }
}

impl Connect {
    /// The defaults of the command line: 5 retries, 4 jobs, default timeouts.
    pub fn new() -> Connect {
        Connect {
            authfile: None,
            ca_certs: Vec::new(),
            tls: TlsFiles::default(),
            credentials: None,
            insecure: false,
            plain_http: false,
            retries: 5,
            jobs: 4,
            timeout: None,
            mount_from: Vec::new(),
            chunk_size: None,
            lock_timeout: None,
            progress: None,
        }
    }

    /// The HTTP transport these flags ask for. `OIX_RETRY_BACKOFF_MS` (tests) sets the
    /// base delay between retries.
    pub fn transport(&self) -> Result<TransportOptions> {
        if self.jobs == 0 || self.jobs > 64 {
            return Err(Error::usage("--jobs must be between 1 and 64"));
        }
        let mut t = TransportOptions::new();
        if let Some(d) = self.timeout {
            t = t.with_timeout(d);
        }
        t.authfile = self.authfile.clone();
        t.ca_certs = self.ca_certs.clone();
        t.cert_dir = self.tls.cert_dir.clone();
        t.client_cert = self.tls.client_cert.clone();
        t.client_key = self.tls.client_key.clone();
        t.credentials = self.credentials.clone();
        t.insecure = self.insecure;
        t.plain_http = self.plain_http;
        t.retries = self.retries;
        if let Some(ms) = std::env::var("OIX_RETRY_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            t.backoff = Duration::from_millis(ms);
        }
        Ok(t)
    }

    /// The registry store options; `push` asks for write access (token scope `push`).
    pub fn registry(&self, push: bool) -> Result<RegistryOptions> {
        Ok(RegistryOptions {
            transport: self.transport()?,
            mount_from: self.mount_from.clone(),
            chunk_size: self.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE),
            jobs: self.jobs,
            push,
            progress: self.progress.clone(),
        })
    }
}

/// What the opened store is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading: a layout must exist.
    Read,
    /// Writing: a layout is created on the first write; a registry token asks for push;
    /// an archive is written by [`Store::finish`].
    Write,
}

/// An opened store.
pub enum Store {
    /// An OCI image layout.
    Layout(Layout),
    /// A registry repository.
    Registry(Box<Registry>),
    /// An oci-archive or docker-archive opened for reading (staged: see
    /// [`crate::archive::source`]); read-only.
    Archive(Box<ArchiveSource>),
    /// An oci-archive or docker-archive opened for writing: filled by a copy, written
    /// by [`Store::finish`] (atomically; nothing before).
    ArchiveFile(Box<ArchiveFile>),
}

impl Store {
    /// Its names (and, through [`Names`], its [`Source`] side).
    pub fn names(&self) -> &dyn Names {
        match self {
            Store::Layout(l) => l,
            Store::Registry(r) => &**r,
            Store::Archive(a) => &**a,
            Store::ArchiveFile(a) => &**a,
        }
    }
    /// Its read side.
    pub fn source(&self) -> &dyn Source {
        match self {
            Store::Layout(l) => l,
            Store::Registry(r) => &**r,
            Store::Archive(a) => &**a,
            Store::ArchiveFile(a) => &**a,
        }
    }
    /// Its write side.
    pub fn sink(&self) -> &dyn Sink {
        match self {
            Store::Layout(l) => l,
            Store::Registry(r) => &**r,
            Store::Archive(a) => &**a,
            Store::ArchiveFile(a) => &**a,
        }
    }
    /// The store's name for messages (`./out`, `docker://host/repo`).
    pub fn describe(&self) -> String {
        self.source().describe()
    }
    /// The last step of writing: an archive opened for writing is written to its file
    /// now (atomically: a temp file beside it, synced, renamed; what it wrote is
    /// returned). Layouts and registries are written as a copy goes: nothing to do.
    pub fn finish(self) -> Result<Option<Written>> {
        match self {
            Store::ArchiveFile(a) => a.finish().map(Some),
            Store::Layout(_) | Store::Registry(_) | Store::Archive(_) => Ok(None),
        }
    }
}

/// A borrowed [`Store`]: what copies write to when the caller holds the store itself.
#[derive(Clone, Copy)]
pub enum StoreRef<'a> {
    /// An OCI image layout.
    Layout(&'a Layout),
    /// A registry repository.
    Registry(&'a Registry),
    /// An archive opened for reading.
    Archive(&'a ArchiveSource),
    /// An archive file being written (copied into, then finished).
    ArchiveFile(&'a ArchiveFile),
}

impl<'a> StoreRef<'a> {
    /// The store's naming (and reading) side.
    pub fn names(self) -> &'a dyn Names {
        match self {
            StoreRef::Layout(l) => l,
            StoreRef::Registry(r) => r,
            StoreRef::Archive(a) => a,
            StoreRef::ArchiveFile(a) => a,
        }
    }
    /// The store's write side.
    pub fn sink(self) -> &'a dyn Sink {
        match self {
            StoreRef::Layout(l) => l,
            StoreRef::Registry(r) => r,
            StoreRef::Archive(a) => a,
            StoreRef::ArchiveFile(a) => a,
        }
    }
}

impl Store {
    /// Borrowed, for [`crate::copy::stores::run`].
    pub fn as_ref(&self) -> StoreRef<'_> {
        match self {
            Store::Layout(l) => StoreRef::Layout(l),
            Store::Registry(r) => StoreRef::Registry(r),
            Store::Archive(a) => StoreRef::Archive(a),
            Store::ArchiveFile(a) => StoreRef::ArchiveFile(a),
        }
    }
}

/// A store opened from a reference, and what the reference asks for in it.
pub struct Opened {
    /// The store.
    pub store: Store,
    /// The tag, ref name or digest the reference names; [`Target::Default`] when none.
    pub target: Target,
}

/// The target a registry reference names: its digest, else its tag.
pub fn registry_target(r: &RegistryRef) -> Target {
    match (&r.digest, &r.tag) {
        (Some(d), _) => Target::Digest(d.clone()),
        (None, Some(t)) => Target::Name(t.clone()),
        (None, None) => Target::Default,
    }
}

/// Open the store `reference` names, for `access`, reached as `connect` says.
pub fn open(reference: &Reference, access: Access, connect: &Connect) -> Result<Opened> {
    match reference {
        Reference::Layout(l) => {
            let layout = match access {
                Access::Read => Layout::open(&l.path)?,
                Access::Write => Layout::open_or_create(&l.path)?,
            };
            let layout = match connect.lock_timeout {
                Some(t) => layout.with_lock_timeout(t),
                None => layout,
            };
            Ok(Opened {
                store: Store::Layout(layout),
                target: l.target.clone(),
            })
        }
        Reference::Registry(r) => {
            let registry = Registry::new(r, &connect.registry(access == Access::Write)?)?;
            Ok(Opened {
                store: Store::Registry(Box::new(registry)),
                target: registry_target(r),
            })
        }
        // Written: a new archive, filled by the copy and written whole by
        // `Store::finish` (an existing file is replaced then, as `oix export` does).
        Reference::Archive { scheme, path, name } if access == Access::Write => {
            let docker = match scheme {
                crate::reference::Scheme::DockerArchive => {
                    Some(crate::archive::docker_export::DockerExport {
                        name: name
                            .as_deref()
                            .map(|n| {
                                crate::archive::docker_export::DockerName::parse(n).map_err(|_| {
                                    Error::usage(format!(
                                        "docker-archive:{}:{n}: the image name must be REPO:TAG",
                                        path.display()
                                    ))
                                    .with_hint("write docker-archive:FILE:REPO:TAG, e.g. docker-archive:app.tar:example.org/app:1.0")
                                })
                            })
                            .transpose()?,
                        ..Default::default()
                    })
                }
                _ => None,
            };
            Ok(Opened {
                store: Store::ArchiveFile(Box::new(ArchiveFile::create(path, docker)?)),
                target: name.clone().map_or(Target::Default, Target::Name),
            })
        }
        // Read: once, into a staging layout beside the archive (or in the temp
        // directory when the archive's directory is read-only).
        Reference::Archive { scheme, path, name } => {
            let beside = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let limits = crate::compress::Limits::default();
            let archive = match open_source(Some(path), *scheme, &beside, limits) {
                Err(e) if e.kind == crate::error::Kind::Io && !path.is_file() => return Err(e),
                Err(e) if e.kind == crate::error::Kind::Io => {
                    open_source(Some(path), *scheme, &std::env::temp_dir(), limits)?
                }
                other => other?,
            };
            Ok(Opened {
                store: Store::Archive(Box::new(archive)),
                target: name.clone().map_or(Target::Default, Target::Name),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_layouts_registries_and_archives_to_write() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("new");
        let r = Reference::parse(&format!("{}:1.0", p.display())).unwrap();
        // Reading a layout that does not exist fails; writing creates it lazily.
        assert!(open(&r, Access::Read, &Connect::new()).is_err());
        let o = open(&r, Access::Write, &Connect::new()).unwrap();
        assert_eq!(o.target, Target::Name("1.0".into()));
        assert!(matches!(o.store, Store::Layout(_)));
        assert!(!p.exists(), "nothing is created before the first write");

        let r = Reference::parse("docker://localhost:5000/a/b@sha256:".to_string().as_str());
        assert!(r.is_err());
        let r = Reference::parse("docker://localhost:5000/a/b:t").unwrap();
        let o = open(&r, Access::Read, &Connect::new()).unwrap();
        assert_eq!(o.target, Target::Name("t".into()));
        assert_eq!(o.store.describe(), "docker://localhost:5000/a/b");

        // An archive opened for writing writes nothing before `finish`.
        let file = t.path().join("x.tar");
        let r = Reference::parse(&format!("oci-archive:{}:1.0", file.display())).unwrap();
        let o = open(&r, Access::Write, &Connect::new()).unwrap();
        assert!(matches!(o.store, Store::ArchiveFile(_)));
        assert_eq!(o.target, Target::Name("1.0".into()));
        drop(o);
        assert!(!file.exists());
        // Its directory must exist; a directory is no file name.
        let r = Reference::parse(&format!("oci-archive:{}/no/x.tar", t.path().display()));
        let e = open(&r.unwrap(), Access::Write, &Connect::new())
            .err()
            .unwrap();
        assert_eq!(e.kind, crate::error::Kind::Usage);
        let r = Reference::parse(&format!("oci-archive:{}", t.path().display())).unwrap();
        let e = open(&r, Access::Write, &Connect::new()).err().unwrap();
        assert_eq!(e.kind, crate::error::Kind::Usage);

        let bad = Connect {
            jobs: 0,
            ..Connect::new()
        };
        let r = Reference::parse("docker://localhost:5000/a/b:t").unwrap();
        assert!(open(&r, Access::Read, &bad).is_err());
    }
}
