//! `oix export`: refs of a layout as a reproducible oci-archive.
//!
//! An export is one [`copy::copy_graph`] of the chosen refs' graphs into an archive
//! store ([`ArchiveSink`]) plus naming (the archive's index.json); only the blobs the
//! graph reaches go into the archive, each verified (size and digest) while it is
//! written. The member order and metadata are the sink's ([`super::sink`]): same layout
//! content and options, same archive bytes.
//!
//! A platform subset (`--platform`) rewrites each index to list only the kept children
//! (a new index, never a sparse one whose children are missing from the archive);
//! attestations and referrers travel with the images they describe ([`crate::subset`],
//! shared with push and pull). Which entries are kept is decided by the selector engine
//! ([`crate::select::Selector::find`]): the entries it picks under each exported ref are
//! kept whole, the indexes above them are rewritten.
//!
//! Referrers (signatures, SBOMs, attestations: docs/referrers.md) of every exported
//! manifest and index go into the archive too ([`referrers::carry`]), listed in its
//! index.json as a layout lists them ([`referrers::entries_for`]); a docker-archive
//! carries none (docker load has no place for them) and reports how many stay behind.

use super::docker_export::{choose_image, name_entry, DockerExport, DockerName};
use super::sink::{ArchiveSink, DockerImage};
use crate::compress::{CompressOptions, Compression};
use crate::copy::{self, CopyOptions};
use crate::error::{Error, Result};
use crate::graph;
use crate::layout::Layout;
use crate::model::Descriptor;
use crate::reference::Target;
use crate::referrers::{self, Carried, Warning};
use crate::resolve;
use crate::select::OnAmbiguity;
use crate::store::Overlay;
use serde::Serialize;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub compress: CompressOptions,
    /// Keep only the entries this selector picks under each ref (no filter: everything).
    pub selector: crate::select::Selector,
    /// Make the archive docker-loadable (`--format docker-archive`).
    pub docker: Option<DockerExport>,
    /// Which referrers travel with the exported graphs (docs/referrers.md); a
    /// docker-archive carries none.
    pub referrers: crate::copy::stores::Carry,
    /// `--manifest-format oci|docker`: the exported documents in that format
    /// (docs/convert.md); the layout keeps its own.
    pub convert: Option<crate::convert::Request>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedRef {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<String>,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The index was rewritten to a platform subset (its digest differs from the layout's).
    pub rewritten: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub refs: Vec<ExportedRef>,
    /// Blobs in the archive.
    pub blobs: u64,
    /// Bytes of blob content in the archive (before compression).
    #[serde(rename = "blobBytes")]
    pub blob_bytes: u64,
    /// sha256 and size of the archive file as written.
    pub digest: String,
    pub size: u64,
    pub compression: String,
    /// The referrers carried into the archive and the name each is listed under in its
    /// index.json (the subject's fallback tag, or a cosign tag).
    pub referrers: Vec<Carried>,
    /// Listed in the layout as referrers but none (not carried).
    pub referrer_warnings: Vec<Warning>,
    /// A docker-archive: how many referrers the exported graphs have that the archive
    /// does not carry (docker load has no place for them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrers_not_carried: Option<u64>,
    /// Documents converted by `--manifest-format`, old digest to new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub converted: Vec<crate::convert::Pair>,
    /// What `--allow-lossy` dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<crate::convert::Item>,
}

/// What an export would write (`--dry-run`): the refs and the referrers carried.
#[derive(Debug, Clone, Serialize)]
pub struct ExportPlan {
    pub refs: Vec<ExportedRef>,
    pub referrers: Vec<Carried>,
    pub referrer_warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrers_not_carried: Option<u64>,
}

/// An export decided, nothing written yet.
struct Prepared<'a> {
    ov: Overlay<'a>,
    exported: Vec<ExportedRef>,
    roots: Vec<Descriptor>,
    docker: Option<DockerImage>,
    carried: Vec<Carried>,
    warnings: Vec<Warning>,
    not_carried: Option<u64>,
    converted: Vec<crate::convert::Pair>,
    dropped: Vec<crate::convert::Item>,
}

/// What [`export`] would write: the refs and the referrers carried; nothing written.
pub fn export_plan(
    layout: &Layout,
    targets: &[Target],
    opts: &ExportOptions,
) -> Result<ExportPlan> {
    let p = prepare(layout, targets, opts)?;
    Ok(ExportPlan {
        refs: p.exported,
        referrers: p.carried,
        referrer_warnings: p.warnings,
        referrers_not_carried: p.not_carried,
    })
}

/// Choose the roots (subsets made), the docker image and the referrers to carry.
fn prepare<'a>(
    layout: &'a Layout,
    targets: &[Target],
    opts: &ExportOptions,
) -> Result<Prepared<'a>> {
    let chosen = choose_roots(layout, targets, opts)?;
    let mut ov = Overlay::new(layout);
    let Kept {
        mut exported,
        roots: mut final_roots,
        converted,
        dropped,
    } = subset_and_convert(&mut ov, &chosen.roots, &chosen.picked, opts)?;
    if final_roots.is_empty() {
        return Err(chosen.no_match.unwrap_or_else(|| {
            Error::no_match(format!(
                "nothing to export: nothing matches {}",
                opts.selector.describe()
            ))
        }));
    }
    let w = graph::walk(&ov, &final_roots);
    if let Some(p) = w.first_problem() {
        return Err(p
            .to_error("cannot export")
            .with_hint("the layout is incomplete or corrupt; check it with `oix fsck`"));
    }
    let docker = match &opts.docker {
        None => None,
        Some(dx) => Some(docker_image(
            layout,
            &ov,
            dx,
            &mut final_roots,
            &mut exported,
        )?),
    };
    // The referrers of everything exported (of the subset's kept entries: a rewritten
    // index is new content and has none). A docker-archive has no place for them.
    let filter = crate::referrers::ArtifactFilter {
        types: opts.referrers.types.clone(),
    };
    let filter = opts.referrers.enabled.then_some(&filter);
    let (mut carried, warnings) = referrers::carry(&ov, &final_roots, filter)?;
    let mut not_carried = None;
    if docker.is_some() {
        not_carried = Some(carried.len() as u64);
        carried.clear();
    }
    Ok(Prepared {
        ov,
        exported,
        roots: final_roots,
        docker,
        carried,
        warnings,
        not_carried,
        converted,
        dropped,
    })
}

/// The entries of the layout the targets name, before any subset.
struct Chosen {
    roots: Vec<Descriptor>,
    /// With a filter: the digests of the entries the selector picks under each target.
    picked: HashSet<String>,
    /// The selector's first refusal, reported when nothing at all is kept.
    no_match: Option<Error>,
}

/// The entries each target names (the whole layout: its images, without the entries
/// that only hold referrers) and, with a filter, what the selector picks under them.
fn choose_roots(layout: &Layout, targets: &[Target], opts: &ExportOptions) -> Result<Chosen> {
    let (index, _) = layout.read_index()?;
    // The whole layout: its images; the entries that only hold referrers are left out
    // and the referrers carried are listed anew (as the referrer options say).
    let holders = if targets.contains(&Target::Default) {
        referrers::holder_names(layout, &index)?
    } else {
        HashSet::new()
    };
    let mut chosen = Chosen {
        roots: Vec::new(),
        picked: HashSet::new(),
        no_match: None,
    };
    for t in targets {
        if opts.selector.has_filters() {
            let r = crate::reference::LayoutRef {
                path: layout.root().to_path_buf(),
                target: t.clone(),
            };
            let all = opts.selector.clone().on_ambiguity(OnAmbiguity::All);
            match all.choose(all.find(layout, &r)?, &r) {
                Ok(found) => chosen
                    .picked
                    .extend(found.matches.into_iter().map(|m| m.descriptor.digest)),
                Err(e) => chosen.no_match = chosen.no_match.or(Some(e)),
            }
        }
        let c = resolve::candidates(layout, &index, t)?;
        if c.is_empty() {
            return Err(nothing_named(layout, &index, t));
        }
        for r in c {
            let holder = *t == Target::Default
                && r.descriptor.ref_name().is_some_and(|n| holders.contains(n));
            if !holder && !chosen.roots.contains(&r.descriptor) {
                chosen.roots.push(r.descriptor);
            }
        }
    }
    Ok(chosen)
}

/// A target that names nothing in the layout.
fn nothing_named(layout: &Layout, index: &crate::model::Index, t: &Target) -> Error {
    let what = match t {
        Target::Default => "the layout is empty".to_string(),
        Target::Name(n) => format!("no ref named {n:?}"),
        Target::Digest(d) => format!("{d} is not in the layout's graph"),
    };
    Error::no_match(format!("{}: {what}", layout.root().display())).with_hint(format!(
        "refs in the layout: {}",
        resolve::ref_names(index).join(", ")
    ))
}

/// The roots after the subset and the conversion.
struct Kept {
    exported: Vec<ExportedRef>,
    roots: Vec<Descriptor>,
    converted: Vec<crate::convert::Pair>,
    dropped: Vec<crate::convert::Item>,
}

/// Each root subset to the `picked` entries (with a filter) and converted (with
/// `--manifest-format`); the new documents go into `ov`, the layout is untouched.
fn subset_and_convert(
    ov: &mut Overlay,
    roots: &[Descriptor],
    picked: &HashSet<String>,
    opts: &ExportOptions,
) -> Result<Kept> {
    let mut out = Kept {
        exported: Vec::new(),
        roots: Vec::new(),
        converted: Vec::new(),
        dropped: Vec::new(),
    };
    for d in roots {
        let kept = if opts.selector.has_filters() {
            let keeps = |c: &Descriptor| picked.contains(&c.digest);
            let subset = crate::subset::subset(&*ov, d, &keeps)?;
            for (_, bytes) in subset.created {
                ov.add(bytes);
            }
            subset.kept
        } else {
            Some(d.clone())
        };
        // The conversion (after the subset, as push and pull do): new documents in the
        // overlay, the layout untouched; a refusal before anything is written.
        let kept = match (kept, &opts.convert) {
            (Some(k), Some(req)) => {
                let c = crate::convert::convert_into(ov, &k, req.to, &req.allow_lossy)?;
                out.converted.extend(c.pairs);
                out.dropped.extend(c.dropped);
                let mut root = k.clone();
                root.media_type = c.root.media_type;
                root.digest = c.root.digest;
                root.size = c.root.size;
                Some(root)
            }
            (k, _) => k,
        };
        if let Some(k) = kept {
            out.exported.push(ExportedRef {
                ref_name: k.ref_name().map(str::to_string),
                digest: k.digest.clone(),
                media_type: k.media_type.clone(),
                rewritten: k.digest != d.digest,
            });
            out.roots.push(k);
        }
    }
    Ok(out)
}

/// A docker-loadable archive: the image single-image consumers get, checked before
/// anything is written; the one root becomes its named entry.
fn docker_image(
    layout: &Layout,
    ov: &Overlay,
    dx: &DockerExport,
    final_roots: &mut Vec<Descriptor>,
    exported: &mut [ExportedRef],
) -> Result<DockerImage> {
    let [root] = final_roots.as_slice() else {
        return Err(Error::usage(format!(
            "a docker-archive holds one image; {} refs were given",
            final_roots.len()
        ))
        .with_hint("export one ref per docker-archive"));
    };
    let image = choose_image(layout, ov, root, dx)?;
    *final_roots = vec![name_entry(root, dx.name.as_ref())];
    if let Some(n) = &dx.name {
        exported[0].ref_name = Some(n.tag.clone());
    }
    Ok(DockerImage {
        manifest: image,
        repo_tags: dx.name.iter().map(|n| n.repo_tag.clone()).collect(),
    })
}

/// Write an oci-archive of `targets` (each a ref, a digest, or the whole layout) to `out`.
pub fn export<W: Write + Send>(
    layout: &Layout,
    targets: &[Target],
    opts: &ExportOptions,
    out: W,
    spool_dir: &Path,
) -> Result<(ExportReport, W)> {
    let Prepared {
        mut ov,
        exported,
        roots: final_roots,
        docker,
        carried,
        warnings,
        not_carried,
        converted,
        dropped,
    } = prepare(layout, targets, opts)?;
    // Carried referrers are listed in the archive's index.json as in a layout: each
    // in its subject's referrers index (a new document) or under its cosign tag.
    let (referrer_entries, indexes) = referrers::entries_for(&carried)?;
    for bytes in indexes {
        ov.add(bytes);
    }
    let mut all_roots = referrers::with_carried(&final_roots, &carried);
    all_roots.extend(referrer_entries.iter().cloned());
    // One copy into the archive sink, then naming: index.json lists the roots as the
    // layout's entries are (ref names, annotations, platforms).
    let sink = ArchiveSink::new(
        format!("the archive of {}", layout.root().display()),
        spool_dir,
    );
    copy::copy_graph(&ov, &sink, &all_roots, &CopyOptions::default())?;
    for r in final_roots.iter().chain(&referrer_entries) {
        sink.add_entry(r);
    }
    if let Some(img) = docker {
        sink.add_docker_image(img);
    }
    let (written, out) = sink.finish(out, &opts.compress)?;
    Ok((
        ExportReport {
            refs: exported,
            blobs: written.blobs,
            blob_bytes: written.blob_bytes,
            digest: written.digest.to_string(),
            size: written.size,
            compression: opts.compress.compression.name().to_string(),
            referrers: carried,
            referrer_warnings: warnings,
            referrers_not_carried: not_carried,
            converted,
            dropped,
        },
        out,
    ))
}

/// Export into `path` atomically ([`super::sink::write_atomically`]: a temp file beside
/// it, synced, renamed over it; `oix copy` writes archives the same way).
pub fn export_to_file(
    layout: &Layout,
    targets: &[Target],
    opts: &ExportOptions,
    path: &Path,
) -> Result<ExportReport> {
    super::sink::write_atomically(path, |w, dir| export(layout, targets, opts, w, dir))
}

/// What `oix export`'s options ask for, as given; [`ExportRequest::destination`] and
/// [`ExportRequest::options`] decide what they mean.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// `-o`: FILE, `-` (stdout), `oci-archive:FILE` or `docker-archive:FILE`.
    pub output: PathBuf,
    /// `--format`: `oci-archive` or `docker-archive`.
    pub format: Option<String>,
    /// `--docker-compat`: same as `--format docker-archive`.
    pub docker_compat: bool,
    /// `--name REPO:TAG` of a docker-archive.
    pub name: Option<String>,
    /// `--allow-zstd`: accept zstd layers in a docker-archive.
    pub allow_zstd: bool,
    /// `--compression` (default: from the file name).
    pub compression: Option<String>,
    /// `--level`.
    pub level: Option<i32>,
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--platform` (repeatable).
    pub platforms: Vec<String>,
    /// `--where` (repeatable).
    pub wheres: Vec<String>,
}

impl ExportRequest {
    /// Whether a docker-loadable archive is asked for (`-o docker-archive:FILE`,
    /// `--docker-compat` or `--format docker-archive`).
    fn docker_output(&self) -> Option<&str> {
        self.output
            .to_str()
            .and_then(|s| s.strip_prefix("docker-archive:"))
    }

    fn is_docker(&self) -> bool {
        self.docker_output().is_some()
            || self.docker_compat
            || self.format.as_deref() == Some("docker-archive")
    }

    /// The archive file to write (`-`: stdout); contradicting options refused (usage).
    pub fn destination(&self) -> Result<PathBuf> {
        let docker_out = self.docker_output();
        if docker_out == Some("") {
            return Err(
                Error::usage("output \"docker-archive:\" has an empty file name")
                    .with_hint("write -o docker-archive:FILE"),
            );
        }
        let docker = self.is_docker();
        if docker && self.format.as_deref() == Some("oci-archive") {
            return Err(Error::usage(
                "--format oci-archive contradicts a docker-archive output (-o docker-archive: or --docker-compat)",
            ));
        }
        if !docker && (self.name.is_some() || self.allow_zstd) {
            return Err(
                Error::usage("--name and --allow-zstd apply to docker-archive exports")
                    .with_hint("add --format docker-archive"),
            );
        }
        match docker_out {
            Some(file) => Ok(PathBuf::from(file)),
            None => crate::reference::archive_output(&self.output),
        }
    }

    /// The options for writing to `output` (from [`ExportRequest::destination`]):
    /// compression, selector and docker image; `referrers` and `convert` are the
    /// defaults for the caller to set. Also the selector's warnings (a platform naming
    /// an unknown os or architecture), one line each, not yet escaped.
    pub fn options(&self, output: &Path) -> Result<(ExportOptions, Vec<String>)> {
        let compression = match &self.compression {
            Some(c) => Compression::parse(c)?,
            None if output.as_os_str() == "-" => Compression::None,
            None => {
                Compression::from_file_name(&output.to_string_lossy()).unwrap_or(Compression::None)
            }
        };
        let mut compress = CompressOptions::new(compression);
        compress.level = self.level;
        if let Some(j) = self.jobs {
            compress.jobs = j.max(1);
        }
        let (selector, docker) = if self.is_docker() {
            let platform = match self.platforms.as_slice() {
                [] => None,
                [one] => Some(crate::platform::PlatformSpec::parse(one)?),
                _ => {
                    return Err(Error::usage(
                        "a docker-archive holds one image: give --platform once",
                    ))
                }
            };
            let dx = DockerExport {
                name: self.name.as_deref().map(DockerName::parse).transpose()?,
                platform,
                allow_zstd: self.allow_zstd,
            };
            let selector = crate::select::subset_selector(&[], &self.wheres)?;
            (selector, Some(dx))
        } else {
            let selector = crate::select::subset_selector(&self.platforms, &self.wheres)?;
            (selector, None)
        };
        let opts = ExportOptions {
            compress,
            selector: selector.selector,
            docker,
            referrers: Default::default(),
            convert: None,
        };
        Ok((opts, selector.warnings))
    }
}

/// The layout and targets of `export LAYOUT[:REF]...`: every reference must name the
/// same layout (usage error otherwise). `None` for no references.
pub fn one_layout_targets(references: &[String]) -> Result<Option<(PathBuf, Vec<Target>)>> {
    let mut path = None;
    let mut targets = Vec::new();
    for s in references {
        let r = crate::reference::LayoutRef::parse(s)?;
        if path.as_ref().is_some_and(|p| *p != r.path) {
            return Err(Error::usage(
                "export: all references must name the same layout",
            ));
        }
        path = Some(r.path);
        targets.push(r.target);
    }
    Ok(path.map(|p| (p, targets)))
}
