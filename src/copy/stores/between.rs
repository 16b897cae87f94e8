//! `oix copy SRC DEST` (see [`super`]): open both ends, prepare the root (subset,
//! twins, conversion), run, and with `--manifest-format auto` retry once converted.

use super::{
    dry_run, run, subset_selected, ArchiveWritten, CarrySummary, CopyRequest, CopyResult,
    CopySummary, NamePlan, RunOptions, RunOutcome,
};
use crate::error::{Error, Result};
use crate::model::{self, Descriptor};
use crate::reference::{LayoutRef, Reference, Target};
use crate::resolve;
use crate::store::{open, Access, Connect, Names, Opened, Overlay, Store, StoreRef};
use std::time::Instant;

/// The descriptor `target` names in an opened source store.
fn resolve_source(src: &Store, reference: &Reference, target: &Target) -> Result<Descriptor> {
    let mut d = match (src, reference) {
        (Store::Layout(l), Reference::Layout(r)) => resolve::resolve_one(l, r)?.descriptor,
        _ => {
            let wanted = match target {
                Target::Digest(d) => d.to_string(),
                Target::Name(n) => n.clone(),
                Target::Default => "latest".to_string(),
            };
            src.names().resolve_name(&wanted)?.ok_or_else(|| {
                Error::no_match(format!("{}:{wanted}: no such manifest", src.describe()))
                    .with_hint("check the tag or digest (`skopeo list-tags` shows the tags)")
            })?
        }
    };
    d.annotations.remove(model::annotation::REF_NAME);
    Ok(d)
}

/// The name to set at the destination: its own tag or ref, else the source's name;
/// none when the destination names a digest (which must then be what is copied).
fn destination_name(
    src_target: &Target,
    dst_target: &Target,
    destination: &str,
) -> Result<Option<String>> {
    match (dst_target, src_target) {
        (Target::Name(n), _) => Ok(Some(n.clone())),
        (Target::Digest(_), _) => Ok(None),
        (Target::Default, Target::Name(n)) => Ok(Some(n.clone())),
        (Target::Default, Target::Default) => Ok(Some("latest".to_string())),
        (Target::Default, Target::Digest(_)) => Err(Error::usage(format!(
            "{destination}: the source names a digest: name the tag or ref to copy it to"
        ))
        .with_hint(format!("write {destination}:TAG"))),
    }
}

/// Both ends of a copy, opened.
struct Ends {
    src: Opened,
    dst: Opened,
    /// Source and destination are one repository of one registry.
    same_repository: bool,
}

/// Open the source (reading) and the destination (writing, or reading for a dry run;
/// a layout or archive is opened for writing either way, created on the first write).
fn open_ends(
    src_ref: &Reference,
    dst_ref: &Reference,
    connect: &Connect,
    src_connect: Option<&Connect>,
    dry_run: bool,
) -> Result<Ends> {
    // Progress is drawn by the side that uploads (a registry destination); a source
    // registry reporting the same blobs' reads would count them twice.
    let src_connect = Connect {
        mount_from: Vec::new(),
        progress: None,
        ..src_connect.unwrap_or(connect).clone()
    };
    let src = open(src_ref, Access::Read, &src_connect)?;
    let mut dst_connect = connect.clone();
    let mut same_repository = false;
    if let (Reference::Registry(s), Reference::Registry(d)) = (src_ref, dst_ref) {
        if s.host == d.host {
            if s.repo == d.repo {
                same_repository = true;
            } else if !dst_connect.mount_from.contains(&s.repo) {
                // Same registry: mount before uploading.
                dst_connect.mount_from.insert(0, s.repo.clone());
            }
        }
    }
    let access = if dry_run {
        // Nothing is written: a registry token for pulling is enough, and a layout is
        // not created (it is only created on the first write anyway).
        Access::Read
    } else {
        Access::Write
    };
    let dst = match (dst_ref, access) {
        (Reference::Layout(_) | Reference::Archive { .. }, Access::Read) => {
            open(dst_ref, Access::Write, &dst_connect)?
        }
        _ => open(dst_ref, access, &dst_connect)?,
    };
    Ok(Ends {
        src,
        dst,
        same_repository,
    })
}

/// The root to copy after the subset, the zstd twins and the conversion.
struct Prepared {
    root: Descriptor,
    subsetting: bool,
    recompressed: bool,
    converting: bool,
    converted: Vec<crate::convert::Pair>,
    dropped: Vec<crate::convert::Item>,
}

/// Subset `root` (`--platform`/`--where`; a docker-archive destination chooses its one
/// image by `--platform` instead), add zstd twins, convert (not under `auto`); new
/// documents go into `source`.
fn prepare(
    source: &mut Overlay<'_>,
    src_names: &dyn Names,
    dst: &mut Store,
    src_ref: &Reference,
    root: Descriptor,
    req: &CopyRequest,
) -> Result<Prepared> {
    // A docker-archive holds one image: --platform chooses it (as `oix export --format
    // docker-archive`), the OCI side keeps the whole index.
    let mut platforms = req.platforms.as_slice();
    if let Store::ArchiveFile(a) = dst {
        if a.is_docker() && !platforms.is_empty() {
            let [one] = platforms else {
                return Err(Error::usage(
                    "a docker-archive holds one image: give --platform once",
                ));
            };
            a.choose_platform(crate::platform::PlatformSpec::parse(one)?);
            platforms = &[];
        }
    }
    let subsetting = !(platforms.is_empty() && req.wheres.is_empty());
    let root = if !subsetting {
        root
    } else {
        // Unknown-platform warnings are the caller's to show (`select::filters::platform_warnings`).
        let selector = crate::select::subset_selector(platforms, &req.wheres)?.selector;
        let r = match src_ref {
            Reference::Layout(r) => r.clone(),
            Reference::Registry(r) => crate::select::registry_ref(r),
            Reference::Archive { path, name, .. } => LayoutRef {
                path: path.clone(),
                target: name.clone().map(Target::Name).unwrap_or(Target::Default),
            },
        };
        subset_selected(source, src_names, &r, &root, &selector)?
    };
    let twinned = match req.add_compression {
        Some(c) => crate::recompress::add_twins(source, &root, c, crate::compress::default_jobs())?,
        None => root.clone(),
    };
    let recompressed = twinned.digest != root.digest;
    let root = twinned;
    // `auto` copies as stored and converts only when a registry refuses ([`run_or_retry`]).
    let auto = req.carry.manifest_format == Some(crate::convert::Format::Auto);
    let conversion = match req.carry.manifest_format.filter(|_| !auto) {
        Some(to) => Some(crate::convert::convert_into(
            source,
            &root,
            to,
            &req.carry.allow_lossy,
        )?),
        None => None,
    };
    let converting = conversion.as_ref().is_some_and(|c| c.root != root);
    let root = conversion.as_ref().map_or(root, |c| c.root.clone());
    let (converted, dropped) = conversion.map_or_else(Default::default, |c| (c.pairs, c.dropped));
    Ok(Prepared {
        root,
        subsetting,
        recompressed,
        converting,
        converted,
        dropped,
    })
}

/// `oix copy SRC DEST`: see the module documentation. `connect` reaches the
/// destination (its `jobs`, `mount_from`, `chunk_size` and `progress` apply there), and
/// the source unless `src_connect` is given for it.
pub fn copy(
    src_ref: &Reference,
    dst_ref: &Reference,
    connect: &Connect,
    src_connect: Option<&Connect>,
    req: &CopyRequest,
) -> Result<CopyResult> {
    let start = Instant::now();
    let Ends {
        src,
        mut dst,
        same_repository,
    } = open_ends(src_ref, dst_ref, connect, src_connect, req.dry_run)?;
    let dest_name = destination_name(&src.target, &dst.target, &dst.store.describe())?;
    let root = resolve_source(&src.store, src_ref, &src.target)?;
    let mut source = Overlay::new(src.store.source());
    let p = prepare(
        &mut source,
        src.store.names(),
        &mut dst.store,
        src_ref,
        root,
        req,
    )?;
    let root = p.root.clone();
    if let Target::Digest(d) = &dst.target {
        if d.to_string() != root.digest {
            return Err(Error::usage(format!(
                "{}@{d}: the content to copy is {}, not the digest the destination names",
                dst.store.describe(),
                root.digest
            )));
        }
    }
    if let Store::ArchiveFile(a) = &dst.store {
        a.prepare(&source, &root)?;
    }
    // Within one repository the registry holds the source's whole graph already (it
    // was just resolved there): only the name is sent, no blob is asked about.
    let retag = same_repository
        && !p.subsetting
        && !p.converting
        && !p.recompressed
        && !req.force_recursive;
    let roots = if retag {
        &[][..]
    } else {
        std::slice::from_ref(&root)
    };
    if req.dry_run {
        let names: Vec<NamePlan> = dest_name.iter().map(|n| NamePlan::new(n, &root)).collect();
        let steps = dry_run(
            &source,
            roots,
            &names,
            dst.store.as_ref(),
            connect.jobs,
            &req.carry.referrers,
        )?;
        return Ok(CopyResult::DryRun {
            source: src.store.describe(),
            destination: dst.store.describe(),
            digest: root.digest.clone(),
            steps,
            converted: p.converted,
        });
    }
    let opts = RunOptions {
        jobs: connect.jobs,
        force_recursive: req.force_recursive,
        referrers: req.carry.referrers.clone(),
    };
    let ran = run_or_retry(
        &mut source,
        roots,
        p,
        dest_name.as_deref(),
        dst.store.as_ref(),
        &opts,
        req,
    )?;
    let summary = summarize(&src.store, dst.store, ran, retag)?;
    Ok(CopyResult::Done(Box::new(CopySummary {
        seconds: start.elapsed().as_secs_f64(),
        ..summary
    })))
}

/// A run, and the root and conversion it ended with.
struct Ran {
    out: RunOutcome,
    root: Descriptor,
    converted: Vec<crate::convert::Pair>,
    dropped: Vec<crate::convert::Item>,
    /// `--manifest-format auto`: why it was retried converted.
    retried: Option<String>,
}

/// Run the copy of `roots` (the prepared root, or none for a retag) and set the name;
/// under `--manifest-format auto`, when the registry refuses the stored format, convert
/// the root to the other one and run once more.
fn run_or_retry(
    source: &mut Overlay<'_>,
    roots: &[Descriptor],
    p: Prepared,
    dest_name: Option<&str>,
    dst: StoreRef<'_>,
    opts: &RunOptions,
    req: &CopyRequest,
) -> Result<Ran> {
    let auto = req.carry.manifest_format == Some(crate::convert::Format::Auto);
    let root = p.root;
    let names: Vec<NamePlan> = dest_name.iter().map(|n| NamePlan::new(n, &root)).collect();
    let e = match run(&*source, roots, &names, dst, opts) {
        Ok(out) => {
            return Ok(Ran {
                out,
                root,
                converted: p.converted,
                dropped: p.dropped,
                retried: None,
            })
        }
        Err(e) => e,
    };
    let why = match crate::convert::refused_format(&e) {
        Some(why) if auto => why,
        _ => return Err(e),
    };
    // The registry refused the stored format: the other one, once.
    let to = crate::convert::Format::Auto.for_root(&root.media_type);
    let c =
        crate::convert::convert_into(source, &root, to, &req.carry.allow_lossy).map_err(|ce| {
            ce.context(format!(
                "the registry refused {} ({why}) and --manifest-format auto cannot convert it",
                root.digest
            ))
        })?;
    let retried = Some(format!(
        "the registry refused the documents as stored ({why}): converted to {} ({} documents) and copied again",
        to.name(),
        c.pairs.len()
    ));
    let names: Vec<NamePlan> = dest_name
        .iter()
        .map(|n| NamePlan::new(n, &c.root))
        .collect();
    let out = run(&*source, std::slice::from_ref(&c.root), &names, dst, opts)?;
    Ok(Ran {
        out,
        root: c.root,
        converted: c.pairs,
        dropped: c.dropped,
        retried,
    })
}

/// The summary of a finished run (`seconds` left for the caller); an archive
/// destination is written now, whole (the last step).
fn summarize(src: &Store, dst: Store, ran: Ran, retag: bool) -> Result<CopySummary> {
    let Ran {
        out,
        root,
        converted,
        dropped,
        retried,
    } = ran;
    let r = out.report;
    let retries = |s: &Store| match s {
        Store::Registry(r) => r.client.retried.load(std::sync::atomic::Ordering::Relaxed),
        Store::Layout(_) | Store::Archive(_) | Store::ArchiveFile(_) => 0,
    };
    let (resumed, restarted) = match &dst {
        Store::Registry(r) => {
            let s = r.snapshot();
            (s.resumed, s.restarted)
        }
        Store::Layout(_) | Store::Archive(_) | Store::ArchiveFile(_) => (0, 0),
    };
    let retries = retries(src) + retries(&dst);
    let destination = dst.describe();
    let archive = dst.finish()?.map(|w| ArchiveWritten {
        digest: w.digest.to_string(),
        size: w.size,
        blobs: w.blobs,
    });
    Ok(CopySummary {
        source: src.describe(),
        destination,
        archive,
        digest: root.digest.clone(),
        media_type: root.media_type.clone(),
        size: root.size,
        name: out.names.into_iter().next(),
        root_present: retag || out.roots_present > 0,
        copied: r.copied,
        mounted: r.mounted,
        linked: r.linked,
        present: r.blobs.iter().filter(|b| b.outcome == "present").count() as u64,
        bytes: r.bytes,
        blobs: r.blobs,
        manifests: r.documents,
        carried: CarrySummary {
            converted,
            dropped,
            referrers: out.referrers,
        },
        referrer_warnings: out.referrer_warnings,
        retries,
        retried,
        resumed,
        restarted,
        seconds: 0.0,
    })
}
