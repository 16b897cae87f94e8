//! build.

use super::output::{errln, outln};
use super::{output, Ctx};
use crate::build::{self as b, BuildOptions, EntryOptions, ImageSettings, LayerSource};
use crate::compress::{CompressOptions, Compression};
use crate::error::{Error, IoContext, Result};
use crate::reference::LayoutRef;
use crate::Layout;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_long_help = "\
EXAMPLES:
  oix build rootfs/ -o out:latest --platform linux/amd64
  oix build rootfs.tar.xz -o out:1.0 --platform linux/arm64 --compression zstd
  tar -C rootfs -cf - . | oix build - -o out:dev --platform linux/amd64 --owner 0:0
  oix build app/ -o out:app --base out:latest --cmd '[\"/app/run\"]' --env MODE=prod

Reproducible: entries are sorted, uname/gname dropped, and with SOURCE_DATE_EPOCH (or
--source-date-epoch) mtimes are clamped to it and the config's `created` is set to it.
Without an epoch, `created` is left out, so the same tree still gives the same digests.")]
pub struct BuildArgs {
    /// Root filesystem: a directory, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst) or - for
    /// a tar on stdin.
    pub source: Option<String>,
    /// Where to put the image: LAYOUT:REF (the layout is created if missing).
    #[arg(short = 'o', long = "output", value_name = "LAYOUT:REF")]
    pub output: String,
    /// Platform of the image: os/arch[/variant] (default: the base image's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Write a --platform whose os or architecture is not a known GOOS/GOARCH value.
    #[arg(long)]
    pub allow_unknown_platform: bool,
    /// os.version of the platform (e.g. a Windows build number).
    #[arg(long, value_name = "VERSION")]
    pub os_version: Option<String>,
    /// An os.features entry of the platform (repeatable).
    #[arg(long = "os-feature", value_name = "FEATURE")]
    pub os_features: Vec<String>,
    /// A further layer source, in order after SOURCE (repeatable).
    #[arg(long = "layer", value_name = "SOURCE")]
    pub layers: Vec<String>,
    /// Put the new layers on top of this image: REF in the output layout, or
    /// LAYOUT:REF / LAYOUT@DIGEST (its config is carried over, history appended).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Set an environment variable, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Entrypoint: a JSON array, or words separated by spaces ('' clears it).
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Default command: a JSON array, or words separated by spaces ('' clears it).
    #[arg(long, value_name = "CMD")]
    pub cmd: Option<String>,
    /// Working directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// User (name, uid or uid:gid).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A config label, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// An exposed port, PORT[/tcp|udp|sctp] (repeatable).
    #[arg(long, value_name = "PORT")]
    pub expose: Vec<String>,
    /// Stop signal (e.g. SIGTERM).
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// A manifest annotation, KEY=VALUE (repeatable).
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// A JSON object of runtime-config fields (Env, Cmd, Labels, …) applied before the flags.
    #[arg(long = "config", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Layer compression.
    #[arg(long, default_value = "gzip", value_parser = ["gzip", "zstd", "none"])]
    pub compression: String,
    /// Compression level (gzip 0-9, default 4; zstd 1-19, default 3).
    #[arg(long)]
    pub level: Option<i32>,
    /// Compression threads (default: the number of cores; the bytes do not depend on it).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Clamp mtimes to this Unix time and use it as the config's `created`.
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub source_date_epoch: Option<i64>,
    /// Write every entry as owned by UID:GID (e.g. 0:0).
    #[arg(long, value_name = "UID:GID")]
    pub owner: Option<String>,
}

/// `KEY=VALUE` pairs.
pub fn key_values(flag: &str, items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(Error::usage(format!("{flag} {kv:?}: expected KEY=VALUE"))),
        })
        .collect()
}

/// A command: a JSON array of strings, or words separated by whitespace.
fn command_words(flag: &str, s: &str) -> Result<Vec<String>> {
    if s.trim_start().starts_with('[') {
        return serde_json::from_str(s)
            .map_err(|e| Error::usage(format!("{flag}: not a JSON array of strings: {e}")));
    }
    Ok(s.split_whitespace().map(str::to_string).collect())
}

fn parse_owner(s: &str) -> Result<(u64, u64)> {
    let bad = || Error::usage(format!("--owner {s:?}: expected UID:GID, e.g. 0:0"));
    let (u, g) = s.split_once(':').ok_or_else(bad)?;
    Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?))
}

pub fn build(ctx: &Ctx, a: BuildArgs) -> Result<i32> {
    let out = LayoutRef::parse(&a.output)?;
    let ref_name = out.require_name()?.to_string();
    let layers = layer_sources(&a)?;
    let platform = platform_flag(&a)?;
    let settings = image_settings(&a)?;
    let annotations: BTreeMap<String, String> = key_values("--annotation", &a.annotations)?
        .into_iter()
        .collect();
    let mut copts = CompressOptions::new(Compression::parse(&a.compression)?);
    copts.level = a.level;
    if let Some(j) = a.jobs {
        copts.jobs = j.max(1);
    }
    let opts = BuildOptions {
        layers,
        platform,
        base: a.base.clone(),
        settings,
        annotations,
        compress: Some(copts),
        entry: EntryOptions {
            epoch: a.source_date_epoch,
            owner: a.owner.as_deref().map(parse_owner).transpose()?,
        },
    };
    let layout = Layout::open_or_create(&out.path)?.with_lock_timeout(ctx.lock_timeout);
    let report = b::build(&layout, &ref_name, &opts)?;
    if ctx.json {
        output::json(&report);
    } else {
        print_report(&report, &out, &a.compression);
    }
    Ok(0)
}

/// SOURCE then each --layer; at most one of them may be stdin.
fn layer_sources(a: &BuildArgs) -> Result<Vec<LayerSource>> {
    let mut layers = Vec::new();
    for s in a.source.iter().chain(&a.layers) {
        layers.push(LayerSource::parse(s)?);
    }
    let stdin_uses = layers.iter().filter(|l| **l == LayerSource::Stdin).count();
    if stdin_uses > 1 {
        return Err(Error::usage("only one layer can come from stdin (-)"));
    }
    Ok(layers)
}

/// --platform with --os-version and --os-feature, which need it.
fn platform_flag(a: &BuildArgs) -> Result<Option<crate::model::Platform>> {
    match &a.platform {
        Some(p) => {
            let mut p = b::parse_platform(p)?;
            crate::platform::PlatformSpec::from_platform(&p)
                .check_known(a.allow_unknown_platform)?;
            p.os_version = a.os_version.clone();
            if !a.os_features.is_empty() {
                p.os_features = Some(a.os_features.clone());
            }
            Ok(Some(p))
        }
        None if a.os_version.is_some() || !a.os_features.is_empty() => Err(Error::usage(
            "--os-version and --os-feature need --platform",
        )),
        None => Ok(None),
    }
}

/// The runtime-config settings: --config FILE, then the flags.
fn image_settings(a: &BuildArgs) -> Result<ImageSettings> {
    let fragment = match &a.config_file {
        Some(p) => {
            let bytes = std::fs::read(p).at("reading", p)?;
            match crate::model::parse_json::<serde_json::Value>(&bytes, &p.display().to_string())? {
                serde_json::Value::Object(m) => Some(m),
                _ => {
                    return Err(Error::usage(format!(
                        "--config {}: expected a JSON object of runtime-config fields",
                        p.display()
                    )))
                }
            }
        }
        None => None,
    };
    Ok(ImageSettings {
        env: a.env.clone(),
        entrypoint: a
            .entrypoint
            .as_deref()
            .map(|s| command_words("--entrypoint", s))
            .transpose()?,
        cmd: a
            .cmd
            .as_deref()
            .map(|s| command_words("--cmd", s))
            .transpose()?,
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        labels: key_values("--label", &a.labels)?,
        expose: a.expose.clone(),
        stop_signal: a.stop_signal.clone(),
        fragment,
    })
}

fn print_report(report: &b::BuildReport, out: &LayoutRef, compression: &str) {
    outln!(
        "{} {}:{} {} {}",
        report.digest,
        out.path.display(),
        report.ref_name,
        report.platform,
        report.action
    );
    for l in &report.layers {
        outln!(
            "  layer {} {} ({}, {} uncompressed, {} entries) from {}",
            l.layer.digest,
            output::human_size(l.layer.size as i64),
            compression,
            output::human_size(l.layer.uncompressed_size as i64),
            l.entries,
            l.source
        );
        if l.skipped_sockets > 0 {
            errln!(
                "warning: {} socket(s) in {} were skipped (tar cannot hold sockets)",
                l.skipped_sockets,
                l.source
            );
        }
    }
}
