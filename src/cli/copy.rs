//! `oix copy`: parse, call [`crate::copy::stores::copy`], print.

use super::output::{self, errln, outln};
use super::registry::{
    add_compression, parse_size, print_converted, print_steps, referrers_note, Bars, ConvertArgs,
    ReferrerArgs, TransportArgs,
};
use super::Ctx;
use crate::copy::stores::{self, CarryOptions, CopyRequest, CopyResult, CopySummary};
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::Connect;
use clap::Args;
use std::path::PathBuf;

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
--platform P --name REPO:TAG`. An oci-archive carries referrers as export does; a \
docker-archive carries none (a warning says how many stay behind).

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

/// The destination's and the source's connections: the shared flags, then each side's
/// own `--dest-*`/`--src-*`; progress and uploads belong to the destination.
fn connections(ctx: &Ctx, a: &CopyArgs) -> Result<(Connect, Connect)> {
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
    Ok((connect, src_connect))
}

pub fn copy(ctx: &Ctx, a: CopyArgs) -> Result<i32> {
    let src = Reference::parse(&a.source)?;
    let dst = Reference::parse(&a.destination)?;
    let (connect, src_connect) = connections(ctx, &a)?;
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
        CopyResult::Done(summary) => print_copied(ctx, &a, &summary, shown_dst)?,
    }
    Ok(0)
}

/// Print what a finished copy did (and write `--digestfile`).
fn print_copied(ctx: &Ctx, a: &CopyArgs, summary: &CopySummary, shown_dst: String) -> Result<()> {
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
    Ok(())
}
