//! push and pull.

use super::output::{errln, outln};
use super::{output, Ctx};
use crate::copy::stores::{self, CarryOptions, CopyRequest, CopyResult, PlanStep};
use crate::error::{Error, Result};
use crate::reference::LayoutRef;
use crate::reference::Reference;
use crate::registry::pull::{self, PullOptions};
use crate::registry::push::{self, PushOptions};
use crate::registry::{skopeo, Progress, Registry, RegistryRef, TransportOptions};
use crate::store::Connect;
use crate::Layout;
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

/// Manifest format conversion (docs/convert.md), shared by push and copy.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Write the manifests and indexes in this format: keep (as stored), oci, docker
    /// (schema 2), or on push and copy auto (as stored; converted and retried once when
    /// the registry refuses the format). Blobs never change; only documents get new digests.
    #[arg(long, value_enum, default_value = "keep", value_name = "FORMAT")]
    pub manifest_format: ManifestFormat,
    /// With --manifest-format docker (or auto), drop what Docker cannot hold instead of refusing:
    /// annotations, subject, artifact-type, attestations, fields (comma-separated).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub allow_lossy: Vec<String>,
}

impl ConvertArgs {
    /// The conversion asked for, and the losses accepted.
    pub fn request(&self) -> Result<(Option<crate::convert::Format>, Vec<crate::convert::Loss>)> {
        use crate::convert::{Format, Loss};
        let to = match self.manifest_format {
            ManifestFormat::Keep => None,
            ManifestFormat::Oci => Some(Format::Oci),
            ManifestFormat::Docker => Some(Format::Docker),
            ManifestFormat::Auto => Some(Format::Auto),
        };
        let lossy = self
            .allow_lossy
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

    /// [`ConvertArgs::request`] for a command that writes documents itself (export,
    /// `index create`/`add`, `merge`): `auto` asks a registry, so it is refused there.
    pub fn fixed_request(&self, command: &str) -> Result<Option<crate::convert::Request>> {
        let (to, allow_lossy) = self.request()?;
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
fn add_compression(v: &Option<String>) -> Result<Option<crate::compress::Compression>> {
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
fn referrers_note(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 referrer".to_string(),
        n => format!(", {n} referrers"),
    }
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST.
    pub source: String,
    /// docker://HOST[:PORT]/REPO[:TAG]; without a tag, the tag is the source's REF.
    pub destination: String,
    /// Push every ref of the layout, each to the tag of its name.
    #[arg(long)]
    pub all_refs: bool,
    /// Push only these platforms (OS/ARCH[/VARIANT], repeatable or comma-separated):
    /// the index is rewritten to the matching entries, never pushed sparse.
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Push only the entries whose descriptor satisfies EXPR (key=value, key!=value,
    /// key~=REGEX, key, !key; repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    /// Also tag each child manifest: {tag}, {arch}, {variant}, {os} are replaced,
    /// e.g. '{tag}-{arch}' or '{tag}_{arch}{variant}'.
    #[arg(long, value_name = "TEMPLATE")]
    pub arch_tags: Option<String>,
    /// Mount blobs from this repository of the same registry instead of uploading them (repeatable).
    #[arg(long, value_name = "REPO")]
    pub mount_from: Vec<String>,
    /// Size of one PATCH of a chunked upload; smaller blobs go up in one request
    /// (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub chunk_size: Option<u64>,
    /// Print what would be uploaded, skipped and tagged; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check every blob and manifest even when the registry already holds the image or
    /// index by digest (normally its graph is then known to be complete).
    #[arg(long)]
    pub force_recursive: bool,
    /// Who does the work: the built-in client or skopeo.
    #[arg(long, value_enum, default_value = "builtin")]
    pub via: Via,
    /// Keep each gzip entry of the index and add a zstd twin per platform, marked
    /// io.github.containers.compression.zstd (podman's --add-compression; see
    /// `oix recompress`). Only zstd.
    #[arg(long, value_name = "zstd")]
    pub add_compression: Option<String>,
    #[command(flatten)]
    pub convert: ConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// docker://HOST[:PORT]/REPO[:TAG|@DIGEST].
    pub source: String,
    /// LAYOUT:REF to store it as (the layout is created if needed); REF defaults to the
    /// tag, and to `latest` when the source names neither a tag nor a digest.
    pub destination: String,
    /// Pull only these platforms of an index (OS/ARCH[/VARIANT], repeatable or comma-separated).
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Pull only the entries whose descriptor satisfies EXPR (repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    #[command(flatten)]
    pub convert: ConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
}

pub const COPY_LONG_ABOUT: &str = "\
Copy an image or index between any two stores: a layout (PATH[:REF|@DIGEST], oci:PATH), \
a registry (docker://HOST[:PORT]/REPO[:TAG|@DIGEST]) and an archive \
(oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG]), in any direction.

Every blob is verified; blobs the destination holds are skipped; uploads run in \
parallel (-j), resume after dropped connections and are retried. Between two registries \
blobs stream through without touching disk; between two repositories of one registry a \
cross-repository mount is tried first; within one repository a copy to a new tag sends \
only the manifest. The destination's name (tag or ref) is set last, after everything it \
reaches is there. Without a name in DEST the source's name is used.

--platform/--where copy only the matching entries of an index: the index is rewritten \
(attestations of kept entries stay), never copied sparse.

An archive destination is written whole at the end, atomically (a temp file beside it, \
renamed over it: a failed or --dry-run copy leaves no file; an existing file is \
replaced), with the bytes `oix export` writes for the same content: compression from \
the file name (.tar.gz, .tar.zst, else none). A docker-archive holds one image: \
--platform chooses it and REPO:TAG names it, as `oix export --format docker-archive \
--platform P --name REPO:TAG`. Archives carry no referrers yet (as export).

Referrers (signatures, SBOMs, attestations) of every manifest and index copied travel \
along, recursively, and are listed at the destination (docs/referrers.md); \
--no-referrers and --referrers-type narrow that.";

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// LAYOUT[:REF|@DIGEST], docker://HOST[:PORT]/REPO[:TAG|@DIGEST],
    /// oci-archive:FILE[:REF] or docker-archive:FILE[:REPO:TAG].
    pub source: String,
    /// LAYOUT[:REF], docker://HOST[:PORT]/REPO[:TAG], oci-archive:FILE[:REF] or
    /// docker-archive:FILE[:REPO:TAG]; without a name, the source's.
    pub destination: String,
    /// Copy only these platforms of an index (OS/ARCH[/VARIANT], repeatable or
    /// comma-separated): the index is rewritten to the matching entries.
    #[arg(long, value_name = "PLATFORM", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Copy only the entries whose descriptor satisfies EXPR (repeatable, all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,
    /// After copying, write the digest of the copied image or index to FILE (as skopeo:
    /// the digest alone, no newline).
    #[arg(long, value_name = "FILE")]
    pub digestfile: Option<PathBuf>,
    /// Print what would be copied, skipped and named; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also mount blobs from this repository of the destination registry (repeatable;
    /// the source repository is tried first when both are on one registry).
    #[arg(long, value_name = "REPO")]
    pub mount_from: Vec<String>,
    /// Size of one PATCH of a chunked upload (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub chunk_size: Option<u64>,
    /// Check every blob and manifest even when the destination registry already holds
    /// the image or index by digest.
    #[arg(long)]
    pub force_recursive: bool,
    /// Speak plain HTTP to the source registry only (--plain-http: to both).
    #[arg(long)]
    pub src_plain_http: bool,
    /// Speak plain HTTP to the destination registry only.
    #[arg(long)]
    pub dest_plain_http: bool,
    /// Use TLS without verifying the source registry's certificate (--insecure: both).
    #[arg(long)]
    pub src_insecure: bool,
    /// Use TLS without verifying the destination registry's certificate.
    #[arg(long)]
    pub dest_insecure: bool,
    /// Keep each gzip entry of the index and add a zstd twin per platform, marked
    /// io.github.containers.compression.zstd (podman's --add-compression; see
    /// `oix recompress`). Only zstd.
    #[arg(long, value_name = "zstd")]
    pub add_compression: Option<String>,
    #[command(flatten)]
    pub convert: ConvertArgs,
    #[command(flatten)]
    pub referrers: ReferrerArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
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
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    blobs: Mutex<HashMap<String, (ProgressBar, u64)>>,
}

impl Bars {
    fn on_terminal(verb: &str) -> Option<Arc<dyn Progress>> {
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
fn print_steps(steps: &[PlanStep], name_of: &dyn Fn(&str) -> String) {
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

pub fn copy(ctx: &Ctx, a: CopyArgs) -> Result<i32> {
    let src = Reference::parse(&a.source)?;
    let dst = Reference::parse(&a.destination)?;
    let base = Connect {
        lock_timeout: Some(ctx.lock_timeout),
        ..a.transport.connect()?
    };
    let connect = Connect {
        mount_from: a.mount_from.clone(),
        chunk_size: a.chunk_size,
        progress: if a.dry_run {
            None
        } else {
            Bars::on_terminal("copying")
        },
        plain_http: base.plain_http || a.dest_plain_http,
        insecure: base.insecure || a.dest_insecure,
        ..base.clone()
    };
    let src_connect = Connect {
        plain_http: base.plain_http || a.src_plain_http,
        insecure: base.insecure || a.src_insecure,
        ..base
    };
    let (manifest_format, allow_lossy) = a.convert.request()?;
    let req = CopyRequest {
        platforms: a.platform.clone(),
        wheres: a.wheres.clone(),
        dry_run: a.dry_run,
        force_recursive: a.force_recursive,
        carry: CarryOptions {
            manifest_format,
            allow_lossy,
            referrers: a.referrers.carry(),
        },
        add_compression: add_compression(&a.add_compression)?,
    };
    for w in crate::select::filters::platform_warnings(&req.platforms) {
        super::output::warning(&w);
    }
    let shown_dst = crate::reference::shown_source(&a.destination).to_string();
    match stores::copy(&src, &dst, &connect, Some(&src_connect), &req)? {
        CopyResult::DryRun {
            source,
            destination,
            digest,
            steps,
            converted,
        } => {
            if ctx.json {
                let mut v = serde_json::json!({
                    "dry_run": true, "source": source, "destination": destination,
                    "digest": digest, "steps": steps,
                });
                if !converted.is_empty() {
                    v["converted"] = serde_json::json!(converted);
                }
                output::json(&v);
            } else {
                print_converted(&converted, &[]);
                print_steps(&steps, &|n| format!("{destination}:{n}"));
            }
        }
        CopyResult::Done(summary) => {
            if let Some(f) = &a.digestfile {
                std::fs::write(f, summary.digest.as_bytes())
                    .map_err(|e| Error::io("writing the digest to", f, e))?;
            }
            if ctx.json {
                output::json(&summary);
            } else {
                let named = match &summary.name {
                    Some(n) => format!("{}:{}", summary.destination, n.name),
                    None => shown_dst,
                };
                outln!("{} {}", summary.digest, named);
                if let Some(r) = &summary.retried {
                    errln!("{r}");
                }
                print_converted(&summary.carried.converted, &summary.carried.dropped);
                for w in &summary.referrer_warnings {
                    errln!("warning: {}", w.message);
                }
                errln!(
                    "copied {} blobs ({}), mounted {}, linked {}, {} already present, {} manifests{}, {:.1}s",
                    summary.copied,
                    output::human_size(summary.bytes as i64),
                    summary.mounted,
                    summary.linked,
                    summary.present,
                    summary.manifests.iter().filter(|m| m.outcome == "written").count(),
                    referrers_note(summary.carried.referrers.len()),
                    summary.seconds
                );
                if let Some(f) = &summary.archive {
                    errln!(
                        "wrote {} ({} blobs, {}, {})",
                        summary.destination,
                        f.blobs,
                        output::human_size(f.size as i64),
                        f.digest
                    );
                }
            }
        }
    }
    Ok(0)
}

pub fn push(ctx: &Ctx, a: PushArgs) -> Result<i32> {
    let src = LayoutRef::parse(&a.source)?;
    let dest = RegistryRef::parse(&a.destination)?;
    let layout = ctx.open(&src.path)?;
    let connect = Connect {
        mount_from: a.mount_from.clone(),
        chunk_size: a.chunk_size,
        progress: if a.dry_run {
            None
        } else {
            Bars::on_terminal("pushing")
        },
        ..a.transport.connect()?
    };
    let transport = connect.transport()?;
    let (manifest_format, allow_lossy) = a.convert.request()?;
    if manifest_format.is_some() && a.via == Via::Skopeo {
        return Err(Error::usage(
            "--via skopeo pushes the layout's documents as stored: it takes no --manifest-format",
        ));
    }
    let opts = PushOptions {
        jobs: a.transport.jobs,
        force_recursive: a.force_recursive,
        selector: crate::select::args::subset_selector(&a.platform, &a.wheres)?,
        arch_tags: a.arch_tags.clone(),
        all_refs: a.all_refs,
        carry: CarryOptions {
            manifest_format,
            allow_lossy,
            referrers: a.referrers.carry(),
        },
        add_compression: add_compression(&a.add_compression)?,
    };
    if opts.add_compression.is_some() && a.via == Via::Skopeo {
        return Err(Error::usage(
            "--add-compression needs the built-in client (--via builtin)",
        ));
    }
    let plan = push::plan_push(&layout, &src, &dest, &opts)?;
    if a.via == Via::Skopeo {
        return push_via_skopeo(ctx, &a, &layout, &src, &dest, &plan, &transport);
    }
    let registry = Registry::new(&dest, &connect.registry(true)?)?;
    if a.dry_run {
        let steps = push::dry_run(&plan, &registry, a.transport.jobs, &opts.carry.referrers)?;
        if ctx.json {
            let mut v = serde_json::json!({"dry_run": true, "destination": dest.repository(), "steps": steps});
            if !plan.converted.is_empty() {
                v["converted"] = serde_json::json!(plan.converted);
            }
            output::json(&v);
        } else {
            print_converted(&plan.converted, &plan.dropped);
            print_steps(&steps, &|t| dest.with_tag(t).to_string());
        }
        return Ok(0);
    }
    let summary = push::push(&plan, &registry, &opts)?;
    if ctx.json {
        output::json(&summary);
    } else {
        if let Some(r) = &summary.retried {
            errln!("{r}");
        }
        print_converted(&summary.carried.converted, &summary.carried.dropped);
        for t in &summary.tags {
            outln!("{} {}", t.digest, dest.with_tag(&t.tag));
        }
        if summary.tags.is_empty() {
            for d in &summary.digests {
                outln!("{d} {}@{d}", dest.repository());
            }
        }
        for w in &summary.referrer_warnings {
            errln!("warning: {}", w.message);
        }
        let nothing_sent = summary.uploaded == 0 && summary.mounted == 0 && summary.manifests == 0;
        if nothing_sent && summary.roots_present as usize == plan.roots.len() {
            // The registry had every root by digest, so their graphs were not walked
            // remotely: count what they hold here, not "skipped 0".
            let n = crate::graph::walk(&layout, &plan.roots).digests().len();
            errln!(
                "all {n} blobs already present (the registry has every manifest by digest), {:.1}s",
                summary.seconds
            );
        } else {
            errln!(
                "uploaded {} blobs ({}), {} already present, mounted {}, {} manifests{}, {:.1}s",
                summary.uploaded,
                output::human_size(summary.bytes as i64),
                summary.skipped,
                summary.mounted,
                summary.manifests,
                referrers_note(summary.carried.referrers.len()),
                summary.seconds
            );
        }
    }
    Ok(0)
}

fn push_via_skopeo(
    ctx: &Ctx,
    a: &PushArgs,
    layout: &Layout,
    src: &LayoutRef,
    dest: &RegistryRef,
    plan: &push::PushPlan,
    transport: &TransportOptions,
) -> Result<i32> {
    if !a.platform.is_empty() || !a.mount_from.is_empty() || a.chunk_size.is_some() {
        return Err(Error::usage(
            "--via skopeo takes no --platform, --mount-from or --chunk-size (skopeo pushes the layout's index as it is)",
        ));
    }
    if a.transport.connect.timeout.is_some() {
        return Err(Error::usage(
            "--via skopeo takes no --timeout: skopeo applies its own network timeouts",
        ));
    }
    let pairs = skopeo::ref_pairs(layout, src, dest, plan, a.all_refs)?;
    let start = std::time::Instant::now();
    // TLS: the --ca-cert and certs.d CA files and the client pair, copied into one
    // private directory for --dest-cert-dir (skopeo then looks nowhere else).
    let tls = transport.host_tls(&dest.host)?;
    let needs_dir = !tls.ca_files.is_empty() || tls.client.is_some();
    let cert_dir = if a.dry_run || !needs_dir {
        None
    } else {
        skopeo::make_cert_dir(&tls)?
    };
    let shown_dir = PathBuf::from("<temp dir with the CA and client certificate files>");
    let dir_path = match (&cert_dir, needs_dir) {
        (Some(d), _) => Some(d.path()),
        (None, true) => Some(shown_dir.as_path()),
        (None, false) => None,
    };
    // --creds reach skopeo in a private temp auth file, never in its arguments.
    let mut transport = transport.clone();
    let _auth_dir = match (&transport.credentials, a.dry_run) {
        (Some(f), false) => {
            let (d, p) = crate::registry::auth::temp_auth_file(&dest.host, &f.credentials)?;
            transport.authfile = Some(p);
            Some(d)
        }
        (Some(_), true) => {
            transport.authfile = Some(PathBuf::from(
                "<temp auth file with the --creds credentials>",
            ));
            None
        }
        (None, _) => None,
    };
    let transport = &transport;
    let cmds = skopeo::commands(layout.root(), &pairs, plan, dest, transport, dir_path);
    if a.dry_run {
        if ctx.json {
            output::json(&serde_json::json!({"dry_run": true, "via": "skopeo", "commands": cmds}));
        } else {
            for c in &cmds {
                outln!("{}", skopeo::shell_line(c));
            }
        }
        return Ok(0);
    }
    skopeo::run(&cmds)?;
    if ctx.json {
        output::json(&serde_json::json!({
            "via": "skopeo",
            "destination": dest.repository(),
            "commands": cmds,
            "tags": plan.tags.iter().map(|t| serde_json::json!({"tag": t.tag, "digest": t.digest})).collect::<Vec<_>>(),
            "seconds": start.elapsed().as_secs_f64(),
        }));
    } else {
        for t in &plan.tags {
            outln!("{} {}", t.digest, dest.with_tag(&t.tag));
        }
    }
    Ok(0)
}

pub fn pull(ctx: &Ctx, a: PullArgs) -> Result<i32> {
    let src = RegistryRef::parse(&a.source)?;
    let dst = LayoutRef::parse(&a.destination)?;
    let ref_name = src.stored_as(&dst)?;
    let (manifest_format, allow_lossy) = match a.convert.fixed_request("pull")? {
        Some(r) => (Some(r.to), r.allow_lossy),
        None => (None, Vec::new()),
    };
    let layout = Layout::open_or_create(&dst.path)?.with_lock_timeout(ctx.lock_timeout);
    let connect = Connect {
        progress: Bars::on_terminal("pulling"),
        ..a.transport.connect()?
    };
    let registry = Registry::new(&src, &connect.registry(false)?)?;
    let summary = pull::pull(
        &registry,
        &layout,
        &ref_name,
        &PullOptions {
            jobs: a.transport.jobs,
            selector: crate::select::args::subset_selector(&a.platform, &a.wheres)?,
            carry: CarryOptions {
                manifest_format,
                allow_lossy,
                referrers: a.referrers.carry(),
            },
        },
    )?;
    if ctx.json {
        output::json(&summary);
    } else {
        print_converted(&summary.carried.converted, &summary.carried.dropped);
        outln!(
            "{} {}:{}",
            summary.digest,
            layout.root().display(),
            summary.ref_name
        );
        for w in &summary.referrer_warnings {
            errln!("warning: {}", w.message);
        }
        errln!(
            "downloaded {} blobs ({}), {} already present{}, {:.1}s",
            summary.downloaded,
            output::human_size(summary.bytes as i64),
            summary.skipped,
            referrers_note(summary.carried.referrers.len()),
            summary.seconds
        );
    }
    Ok(0)
}
