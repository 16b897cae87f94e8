//! Per-registry TLS material: certs.d directories, `--ca-cert`, `--client-cert`.
//!
//! A certs.d directory is the one containers/image (skopeo, podman, buildah) and docker
//! read: a directory named after the registry's `HOST[:PORT]` holding
//!
//! - `*.crt`: CA certificates trusted for this registry (besides the system roots);
//! - `*.cert` + `*.key`: a client certificate and its key (mutual TLS), paired by name
//!   (`client.cert` goes with `client.key`); one without the other is an error.
//!
//! Files are taken in name order; with several client pairs the first one is presented
//! (rustls offers one client identity per connection). Other files are ignored.
//!
//! Which directory: `--cert-dir DIR` is used as it is (the files are directly in DIR,
//! as with skopeo's `--cert-dir`), and then no default is looked at. Without it, the
//! first of `$HOME/.config/containers/certs.d/HOST[:PORT]`,
//! `/etc/containers/certs.d/HOST[:PORT]` and `/etc/docker/certs.d/HOST[:PORT]` that
//! exists is used (the order containers/image uses). `OIX_CERTS_D_ROOTS` (a
//! `:`-separated list of directories) replaces those three roots, for tests and for
//! machines that keep certs.d elsewhere.
//!
//! `HOST[:PORT]` comes from a [`crate::registry::RegistryRef`] (or `oix login`'s host),
//! whose host check admits only DNS labels, IP addresses and a port, so the directory
//! name cannot climb out of the root.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The environment variable replacing the default certs.d roots.
pub const CERTS_D_ROOTS_ENV: &str = "OIX_CERTS_D_ROOTS";

/// The certs.d roots looked in when no `--cert-dir` is given, in order.
pub fn default_roots() -> Vec<PathBuf> {
    if let Some(v) = std::env::var_os(CERTS_D_ROOTS_ENV) {
        return std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    let mut v = Vec::new();
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        v.push(PathBuf::from(h).join(".config/containers/certs.d"));
    }
    v.push(PathBuf::from("/etc/containers/certs.d"));
    v.push(PathBuf::from("/etc/docker/certs.d"));
    v
}

/// The TLS material found for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTls {
    /// CA files (`--ca-cert`, then the certs.d `*.crt` files).
    pub ca_files: Vec<PathBuf>,
    /// The client certificate and key (`--client-cert/--client-key`, else certs.d).
    pub client: Option<(PathBuf, PathBuf)>,
    /// The certs.d directory used, if any.
    pub dir: Option<PathBuf>,
    /// Where oix looked for a certs.d directory (for hints).
    pub looked_in: Vec<PathBuf>,
}

impl HostTls {
    /// Where a client certificate could have come from, for hints.
    pub fn where_to_put_client_cert(&self) -> String {
        let dirs: Vec<String> = match &self.dir {
            Some(d) => vec![d.display().to_string()],
            None => self
                .looked_in
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        };
        format!(
            "put the client certificate and its key as NAME.cert and NAME.key in {} (certs.d), or pass --client-cert FILE --client-key FILE",
            if dirs.is_empty() {
                "a --cert-dir DIR".to_string()
            } else {
                dirs.join(" or ")
            }
        )
    }
}

/// The `*.crt` files and `*.cert`/`*.key` pairs of one certs.d directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertsDir {
    pub cas: Vec<PathBuf>,
    pub pairs: Vec<(PathBuf, PathBuf)>,
}

/// Read a certs.d directory: `*.crt` are CAs, `*.cert` + `*.key` pairs (a `.cert`
/// without its `.key`, or a `.key` without its `.cert`, is an error naming both).
pub fn read_certs_dir(dir: &Path) -> Result<CertsDir> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::usage(format!(
            "cannot read certificate directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut names: Vec<String> = Vec::new();
    for e in rd {
        let e = e.map_err(|e| {
            Error::usage(format!(
                "cannot read certificate directory {}: {e}",
                dir.display()
            ))
        })?;
        if let Ok(n) = e.file_name().into_string() {
            names.push(n);
        }
    }
    names.sort();
    let mut out = CertsDir::default();
    for n in &names {
        if n.ends_with(".crt") {
            out.cas.push(dir.join(n));
        } else if let Some(stem) = n.strip_suffix(".cert") {
            let key = format!("{stem}.key");
            if !names.contains(&key) {
                return Err(Error::usage(format!(
                    "{}: client certificate {n} has no key {key}",
                    dir.display()
                ))
                .with_hint(
                    "put the client certificate's key beside it as NAME.key; CA certificates are named *.crt, not *.cert",
                ));
            }
            out.pairs.push((dir.join(n), dir.join(key)));
        } else if let Some(stem) = n.strip_suffix(".key") {
            let cert = format!("{stem}.cert");
            if !names.contains(&cert) {
                return Err(Error::usage(format!(
                    "{}: key {n} has no client certificate {cert}",
                    dir.display()
                ))
                .with_hint("a client certificate is NAME.cert beside NAME.key"));
            }
        }
    }
    Ok(out)
}

/// The certs.d directory for `host_port`: `cert_dir` itself when given, else the first
/// `ROOT/HOST[:PORT]` that exists under [`default_roots`]. Returns it (if any) and the
/// places looked in.
pub fn find_dir(
    host_port: &str,
    cert_dir: Option<&Path>,
) -> Result<(Option<PathBuf>, Vec<PathBuf>)> {
    if let Some(d) = cert_dir {
        if !d.is_dir() {
            return Err(Error::usage(format!(
                "--cert-dir {}: not a directory",
                d.display()
            ))
            .with_hint("--cert-dir names a directory holding *.crt CA files and NAME.cert/NAME.key client pairs"));
        }
        return Ok((Some(d.to_path_buf()), vec![d.to_path_buf()]));
    }
    // The directory name is the host as written, with its port; an IPv6 literal keeps
    // its brackets (`[::1]:5000`), as containers/image names it.
    if host_port.is_empty() || host_port.contains('/') || host_port.starts_with('.') {
        return Ok((None, Vec::new()));
    }
    let mut looked = Vec::new();
    for root in default_roots() {
        let p = root.join(host_port);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                looked.push(p.clone());
                return Ok((Some(p), looked));
            }
            // Missing or not readable: on to the next root, as containers/image does.
            Ok(_) => looked.push(p),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                looked.push(p)
            }
            Err(e) => {
                return Err(Error::usage(format!(
                    "cannot read certificate directory {}: {e}",
                    p.display()
                )))
            }
        }
    }
    Ok((None, looked))
}

/// Everything TLS needs for `host_port`: the `--ca-cert` files plus the certs.d CAs, and
/// the client pair from `--client-cert/--client-key` (which win) or certs.d.
pub fn resolve(
    host_port: &str,
    ca_certs: &[PathBuf],
    cert_dir: Option<&Path>,
    client_cert: Option<&Path>,
    client_key: Option<&Path>,
) -> Result<HostTls> {
    let explicit = match (client_cert, client_key) {
        (Some(c), Some(k)) => Some((c.to_path_buf(), k.to_path_buf())),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::usage("--client-cert needs --client-key")
                .with_hint("pass the client certificate's private key with --client-key FILE"))
        }
        (None, Some(_)) => {
            return Err(Error::usage("--client-key needs --client-cert")
                .with_hint("pass the client certificate with --client-cert FILE"))
        }
    };
    let (dir, looked_in) = find_dir(host_port, cert_dir)?;
    let found = match &dir {
        Some(d) => read_certs_dir(d)?,
        None => CertsDir::default(),
    };
    let mut ca_files = ca_certs.to_vec();
    ca_files.extend(found.cas);
    Ok(HostTls {
        ca_files,
        client: explicit.or_else(|| found.pairs.into_iter().next()),
        dir,
        looked_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_refuses_lone_halves() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(d.join("b.crt"), "x").unwrap();
        std::fs::write(d.join("a.crt"), "x").unwrap();
        std::fs::write(d.join("client.cert"), "x").unwrap();
        std::fs::write(d.join("client.key"), "x").unwrap();
        std::fs::write(d.join("README"), "x").unwrap();
        let c = read_certs_dir(d).unwrap();
        assert_eq!(c.cas, vec![d.join("a.crt"), d.join("b.crt")]);
        assert_eq!(c.pairs, vec![(d.join("client.cert"), d.join("client.key"))]);
        std::fs::write(d.join("other.cert"), "x").unwrap();
        let e = read_certs_dir(d).unwrap_err();
        assert!(
            e.message.contains("other.cert has no key other.key"),
            "{e:?}"
        );
        std::fs::remove_file(d.join("other.cert")).unwrap();
        std::fs::write(d.join("lone.key"), "x").unwrap();
        let e = read_certs_dir(d).unwrap_err();
        assert!(
            e.message.contains("lone.key has no client certificate"),
            "{e:?}"
        );
    }

    #[test]
    fn client_flags_come_in_pairs() {
        let e = resolve("h", &[], None, Some(Path::new("c")), None).unwrap_err();
        assert!(e.message.contains("--client-key"));
        let e = resolve("h", &[], None, None, Some(Path::new("k"))).unwrap_err();
        assert!(e.message.contains("--client-cert"));
    }
}
