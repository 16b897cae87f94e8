//! The registry flags `copy`, `push`, `pull` and other commands share (connection, TLS,
//! transport, conversion, referrers, `--via`), the progress bars and the dry-run and
//! conversion printing; the commands are in cli/copy.rs, cli/push.rs, cli/pull.rs.

use super::output;
use super::output::{errln, outln};
use crate::copy::stores::{self, PlanStep};
use crate::error::{Error, Result};
use crate::registry::Progress;
use crate::store::Connect;
use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach a registry: TLS, credentials file, timeout. Shared by every command
/// that talks to a registry (push, pull, login; apply takes the TLS part).
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Credentials file (containers auth.json or docker config.json); only this file is
    /// read (`oix login` writes it).
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Trust the certificates of this PEM file besides the system roots: as CAs, and as
    /// the registry's own certificate when the server presents exactly one of them (a
    /// self-signed `openssl req -x509` certificate; its host name is still checked);
    /// repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Use TLS without verifying the registry's certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Speak plain HTTP to the registry (no TLS).
    #[arg(long)]
    pub plain_http: bool,
    /// Give up on a connection after SECONDS without progress: to connect (default 30),
    /// waiting for or reading an answer, sending a body (default 60), and for a
    /// credential helper to answer (default 60). A timed-out request counts as a
    /// transient failure (see --retries); when none is left, oix exits 1 naming the host.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

/// certs.d directories and client certificates.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// Use the certificates of DIR for the registry: *.crt files are CAs (trusted like
    /// --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first
    /// existing HOST[:PORT] directory of ~/.config/containers/certs.d,
    /// /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a
    /// ':'-separated list, replaces those roots).
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Present this client certificate (PEM) when the registry asks for one (mutual
    /// TLS); needs --client-key. Wins over a certs.d client pair.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of
    /// --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The library's certificate options.
    pub(crate) fn files(&self) -> crate::store::TlsFiles {
        crate::store::TlsFiles {
            cert_dir: self.cert_dir.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        }
    }
}

impl ConnectArgs {
    /// The library's connection options for these flags alone (login: no jobs, retries
    /// or credentials of a run).
    pub(crate) fn connect(&self) -> Connect {
        Connect {
            authfile: self.authfile.clone(),
            ca_certs: self.ca_cert.clone(),
            tls: self.tls.files(),
            insecure: self.insecure,
            plain_http: self.plain_http,
            timeout: self.timeout,
            ..Connect::new()
        }
    }
}

#[derive(Debug, Args)]
pub struct TransportArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone
    /// to be asked for the password (on a terminal only). The value is visible to other
    /// users in the process list: prefer `oix login --password-stdin`.
    #[arg(long, value_name = "USER[:PASSWORD]")]
    pub creds: Option<String>,
    /// Attempts after a transient failure (5xx, 429, dropped connection).
    #[arg(long, value_name = "N", default_value = "5")]
    pub retries: u32,
    /// Parallel blob transfers.
    #[arg(long, short = 'j', value_name = "N", default_value = "4")]
    pub jobs: usize,
}

/// A positive number of seconds (fractions allowed), at most a day.
pub(crate) fn parse_timeout(s: &str) -> std::result::Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v.is_finite() && v > 0.0 && v <= 86400.0) {
        return Err(format!(
            "{s:?}: give a number of seconds above 0 and at most 86400"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

impl TransportArgs {
    /// The library's connection options (one mapping for every command).
    pub fn connect(&self) -> Result<Connect> {
        Ok(Connect {
            credentials: match &self.creds {
                Some(text) => Some(super::login::parse_creds(text)?),
                None => None,
            },
            retries: self.retries,
            jobs: self.jobs,
            ..self.connect.connect()
        })
    }
}

/// `--manifest-format`: the format of the manifests and indexes written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    /// As stored (no conversion).
    Keep,
    /// OCI image index and manifest.
    Oci,
    /// Docker manifest list and schema 2 manifest (skopeo calls it v2s2).
    #[value(alias = "v2s2")]
    Docker,
    /// As stored; when the registry refuses the format (MANIFEST_INVALID, unsupported
    /// media type), the other one, retried once (push and copy to a registry).
    Auto,
}

/// `--manifest-format` of the commands that write documents themselves (pull, export,
/// `index create`/`add`, `merge`): no registry answers them, so no `auto`. `auto` still
/// parses (hidden from the help) to be refused with a hint rather than a bare
/// "invalid value".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixedFormat {
    /// As stored (no conversion).
    Keep,
    /// OCI image index and manifest.
    Oci,
    /// Docker manifest list and schema 2 manifest (skopeo calls it v2s2).
    #[value(alias = "v2s2")]
    Docker,
    #[value(hide = true)]
    Auto,
}

impl From<FixedFormat> for ManifestFormat {
    fn from(f: FixedFormat) -> Self {
        match f {
            FixedFormat::Keep => ManifestFormat::Keep,
            FixedFormat::Oci => ManifestFormat::Oci,
            FixedFormat::Docker => ManifestFormat::Docker,
            FixedFormat::Auto => ManifestFormat::Auto,
        }
    }
}

/// Manifest format conversion (docs/convert.md), shared by push and copy.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Write the manifests and indexes in this format: keep (as stored), oci, docker
    /// (schema 2), or auto (as stored; converted and retried once when a registry
    /// destination refuses the format). Blobs never change; only documents get new digests.
    #[arg(long, value_enum, default_value = "keep", value_name = "FORMAT")]
    pub manifest_format: ManifestFormat,
    /// With --manifest-format docker (or auto), drop what Docker cannot hold instead of refusing:
    /// annotations, subject, artifact-type, attestations, fields (comma-separated).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub allow_lossy: Vec<String>,
}

/// Manifest format conversion of pull, export and index edits (docs/convert.md).
#[derive(Debug, Args)]
pub struct FixedConvertArgs {
    /// Write the manifests and indexes in this format: keep (as stored), oci, docker
    /// (schema 2). Blobs never change; only documents get new digests.
    #[arg(long, value_enum, default_value = "keep", value_name = "FORMAT")]
    pub manifest_format: FixedFormat,
    /// With --manifest-format docker, drop what Docker cannot hold instead of refusing:
    /// annotations, subject, artifact-type, attestations, fields (comma-separated).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub allow_lossy: Vec<String>,
}

impl ConvertArgs {
    /// The conversion asked for, and the losses accepted.
    pub fn request(&self) -> Result<(Option<crate::convert::Format>, Vec<crate::convert::Loss>)> {
        conversion(self.manifest_format, &self.allow_lossy)
    }
}

/// The conversion `format` asks for, and the losses `allow_lossy` accepts.
fn conversion(
    format: ManifestFormat,
    allow_lossy: &[String],
) -> Result<(Option<crate::convert::Format>, Vec<crate::convert::Loss>)> {
    use crate::convert::{Format, Loss};
    let to = match format {
        ManifestFormat::Keep => None,
        ManifestFormat::Oci => Some(Format::Oci),
        ManifestFormat::Docker => Some(Format::Docker),
        ManifestFormat::Auto => Some(Format::Auto),
    };
    let lossy = allow_lossy
        .iter()
        .map(|s| Loss::parse(s.trim()))
        .collect::<Result<Vec<_>>>()?;
    if !lossy.is_empty() && !matches!(to, Some(Format::Docker | Format::Auto)) {
        return Err(Error::usage(
            "--allow-lossy applies only with --manifest-format docker or auto",
        ));
    }
    Ok((to, lossy))
}

impl FixedConvertArgs {
    /// The conversion of a command that writes documents itself (export,
    /// `index create`/`add`, `merge`): `auto` asks a registry, so it is refused there.
    pub fn fixed_request(&self, command: &str) -> Result<Option<crate::convert::Request>> {
        let (to, allow_lossy) = conversion(self.manifest_format.into(), &self.allow_lossy)?;
        match to {
            Some(crate::convert::Format::Auto) => Err(Error::usage(format!(
                "{command}: --manifest-format auto is for push and copy to a registry (it retries when the registry refuses)"
            ))
            .with_hint("choose oci or docker")),
            Some(to) => Ok(Some(crate::convert::Request { to, allow_lossy })),
            None => Ok(None),
        }
    }
}

/// `--add-compression`: only zstd twins are defined (containers/image's annotation).
pub(super) fn add_compression(v: &Option<String>) -> Result<Option<crate::compress::Compression>> {
    match v.as_deref() {
        None => Ok(None),
        Some("zstd") => Ok(Some(crate::compress::Compression::Zstd)),
        Some(other) => Err(Error::usage(format!(
            "--add-compression {other:?}: only zstd twins exist"
        ))
        .with_hint("--add-compression zstd")),
    }
}

/// Human lines for converted documents (stderr).
pub fn print_converted(pairs: &[crate::convert::Pair], dropped: &[crate::convert::Item]) {
    for p in pairs {
        errln!("converted {} -> {} ({})", p.from, p.to, p.media_type);
    }
    for d in dropped {
        errln!("dropped {} {}: {}", d.document, d.path, d.what);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// The built-in client.
    Builtin,
    /// `skopeo copy --all --preserve-digests`.
    Skopeo,
}

/// Which referrers (signatures, SBOMs, attestations: docs/referrers.md) travel with
/// what is copied.
#[derive(Debug, Args)]
pub struct ReferrerArgs {
    /// Carry no referrers (by default every referrer of every manifest and index
    /// copied travels along, recursively).
    #[arg(long, conflicts_with = "referrers_type")]
    pub no_referrers: bool,
    /// Carry only referrers of this artifactType (repeatable; a referrer of a carried
    /// referrer must match too).
    #[arg(long, value_name = "TYPE")]
    pub referrers_type: Vec<String>,
}

impl ReferrerArgs {
    /// Whether `--no-referrers` or `--referrers-type` was given (an apply plan's
    /// `referrers:` decides otherwise).
    pub fn given(&self) -> bool {
        self.no_referrers || !self.referrers_type.is_empty()
    }
    pub fn carry(&self) -> stores::Carry {
        if self.no_referrers {
            return stores::Carry::none();
        }
        stores::Carry {
            enabled: true,
            types: self.referrers_type.clone(),
        }
    }
}

/// `N referrers` for the summary lines.
pub(super) fn referrers_note(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 referrer".to_string(),
        n => format!(", {n} referrers"),
    }
}

pub(super) fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{s:?} is not a positive size"))
}

/// Bars on a terminal: one per blob in flight and a total.
pub(super) struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    blobs: Mutex<HashMap<String, (ProgressBar, u64)>>,
}

impl Bars {
    pub(super) fn on_terminal(verb: &str) -> Option<Arc<dyn Progress>> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        total.set_message(verb.to_string());
        Some(Arc::new(Bars {
            multi,
            total,
            blobs: Mutex::new(HashMap::new()),
        }))
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.total.finish_and_clear();
    }
}

impl Progress for Bars {
    fn blob_start(&self, digest: &str, size: u64) {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let short: String = digest
            .split(':')
            .nth(1)
            .unwrap_or(digest)
            .chars()
            .take(12)
            .collect();
        bar.set_message(short);
        self.total.inc_length(size);
        if let Ok(mut m) = self.blobs.lock() {
            m.insert(digest.to_string(), (bar, 0));
        }
    }
    fn blob_position(&self, digest: &str, position: u64) {
        if let Ok(mut m) = self.blobs.lock() {
            if let Some((bar, last)) = m.get_mut(digest) {
                bar.set_position(position);
                if position >= *last {
                    self.total.inc(position - *last);
                } else {
                    self.total
                        .set_position(self.total.position().saturating_sub(*last - position));
                }
                *last = position;
            }
        }
    }
    fn blob_done(&self, digest: &str) {
        if let Ok(mut m) = self.blobs.lock() {
            if let Some((bar, _)) = m.remove(digest) {
                bar.finish_and_clear();
            }
        }
    }
}

/// Print dry-run steps (push and copy).
pub(super) fn print_steps(steps: &[PlanStep], name_of: &dyn Fn(&str) -> String) {
    for s in steps {
        match s.kind {
            "tag" => outln!(
                "{} tag {}{}",
                s.digest,
                name_of(s.tag.as_deref().unwrap_or("")),
                match (s.action, &s.previous) {
                    ("move", Some(p)) => format!(" (move from {p})"),
                    (act, _) => format!(" ({act})"),
                }
            ),
            "referrer" => outln!(
                "{} referrer {} ({})",
                s.digest,
                s.tag.as_deref().unwrap_or(""),
                s.action
            ),
            kind => outln!(
                "{} {} {} {}",
                s.digest,
                s.action,
                kind,
                output::human_size(s.size)
            ),
        }
    }
}
