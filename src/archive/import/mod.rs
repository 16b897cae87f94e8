//! `oix import`: an oci-archive, a docker-archive or another layout into a layout.
//!
//! Archives are read in one streaming pass (plain, gzip, zstd or xz, detected from the
//! first bytes; concatenated streams are read whole) under a [`Limits`] guard against
//! decompression bombs. Every member is checked before anything is written for it:
//! - its name is normalized; absolute names, `..`, non-UTF-8 names and duplicates are
//!   refused, as are symlinks and hard links whose target leaves the archive, links where
//!   a blob should be, and member types other than files, directories and links;
//! - a member under `blobs/` must be named `blobs/<alg>/<encoded>` with a valid digest; it
//!   is streamed into a verified blob (digest and size) of the staging layout. When index.json or
//!   a parent document came earlier in the archive, the member's size is checked against
//!   its descriptor before any byte is copied;
//! - `index.json`, `oci-layout`, `manifest.json` and other small JSON files are held in
//!   memory (bounded); docker-archive layer tars (`*.tar`) are streamed into blobs named
//!   by their computed digest; other members are skipped.
//!
//! Then the chosen entries are copied into the target ([`copy_graph`] from the staging
//! layout, [`super::source`]), their graph is walked in the target ([`graph::walk`]) to
//! prove it complete (every manifest and index read and verified, every config and
//! layer present with its descriptor's size), and one [`Layout::transact`] adds the refs.

mod finish;
mod staging;

pub use finish::verify_graph;
pub(crate) use staging::{ingest, oci_index, oci_picks, Item, Staged};

use super::select_entries;
use super::source::ArchiveSource;
use super::Selection;
use crate::compress::Limits;
use crate::error::{Error, IoContext, Result};
use crate::layout::Layout;
use crate::reference::{LayoutRef, Reference, Scheme, Target};
use crate::resolve;
use crate::tags::TagChange;
use finish::{drop_holders, finish};
use serde::Serialize;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
/// Where an import reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// An archive file (oci-archive or docker-archive, plain or compressed).
    Archive(PathBuf),
    /// An archive on standard input.
    Stdin,
    /// Another OCI layout.
    Layout(LayoutRef),
}

/// Parse `SOURCE`: `-`, `[oci-archive:|docker-archive:]FILE[:REF]`, `oci:DIR[:REF|@DIGEST]`,
/// or a path (a directory is a layout, a file an archive) with an optional `:REF`.
/// Returns the source and the REF to select, if any.
pub fn parse_source(s: &str) -> Result<(ImportSource, Option<String>)> {
    if s == "-" {
        return Ok((ImportSource::Stdin, None));
    }
    // A file whose name holds a ':' is that file; otherwise FILE ends at the first ':'.
    let archive = |scheme: Scheme, rest: &str| -> Result<(ImportSource, Option<String>)> {
        if Path::new(rest).is_file() {
            return Ok((ImportSource::Archive(rest.into()), None));
        }
        let (path, name) = Reference::split_archive(scheme, rest)?;
        Ok((ImportSource::Archive(path), name))
    };
    match Scheme::of(s) {
        (scheme @ (Scheme::OciArchive | Scheme::DockerArchive), _, rest) => {
            return archive(scheme, rest)
        }
        (Scheme::Layout, true, _) => {
            return Ok((ImportSource::Layout(LayoutRef::parse(s)?), None));
        }
        (Scheme::Registry, ..) => {
            return Err(Error::usage(format!(
                "import source {:?} is a registry reference; import reads archives and layouts",
                crate::registry::reference::redact_reference(s)
            ))
            .with_hint("pull it instead: `oix pull docker://HOST/REPO:TAG LAYOUT:REF`"))
        }
        (Scheme::Layout, false, _) => {}
    }
    let p = Path::new(s);
    if p.is_dir() {
        return Ok((ImportSource::Layout(LayoutRef::parse(s)?), None));
    }
    if p.is_file() {
        return Ok((ImportSource::Archive(p.into()), None));
    }
    let head = s.split([':', '@']).next().unwrap_or(s);
    if Path::new(head).is_dir() {
        return Ok((ImportSource::Layout(LayoutRef::parse(s)?), None));
    }
    if Path::new(head).is_file() {
        return archive(Scheme::OciArchive, s);
    }
    Err(
        Error::usage(format!("import source {s:?}: no such file or directory"))
            .with_hint("give an archive file, - for stdin, or a layout directory (oci:DIR[:REF])"),
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub source: String,
    /// `oci-archive`, `docker-archive` or `oci-layout`.
    pub format: String,
    /// Compression of the archive stream (`uncompressed`, `gzip`, `zstd`, `xz`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    pub refs: Vec<TagChange>,
    /// Blobs written to the target.
    pub blobs: u64,
    /// Bytes of the blobs written.
    pub bytes: u64,
    /// Blobs the target already had.
    pub present: u64,
    /// The referrers carried in with the imported entries (docs/referrers.md) and the
    /// name each is listed under in the target.
    pub referrers: Vec<crate::referrers::Carried>,
    /// Listed in the source as referrers but none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
    /// `--dry-run`: nothing was written; `refs` says what would change.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// How an import runs.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Which referrers of the imported entries come along (by default all).
    pub referrers: crate::copy::stores::Carry,
    /// Read and check the source, report what would be imported; write nothing to the
    /// target.
    pub dry_run: bool,
}

/// Import `source` into `target` (see the module docs). `sel.name` overrides a REF
/// given inside `source`.
pub fn import(
    target: &Layout,
    source: &ImportSource,
    sel: &Selection,
    limits: Limits,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    match source {
        ImportSource::Layout(r) => import_layout(target, r, sel, opts),
        ImportSource::Archive(p) => {
            let f = std::fs::File::open(p).at("opening", p)?;
            import_stream(target, f, &p.display().to_string(), sel, limits, opts)
        }
        ImportSource::Stdin => import_stream(target, io::stdin(), "stdin", sel, limits, opts),
    }
}

/// One copy from the archive (read into a staging layout beside the target: see
/// [`super::source`]) plus naming.
fn import_stream<R: Read + Send>(
    target: &Layout,
    raw: R,
    what: &str,
    sel: &Selection,
    limits: Limits,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    // Beside the target: the nearest directory above it that exists already (the
    // target and its parents are created on the first write), so links work.
    let root = std::path::absolute(target.root()).at("resolving", target.root())?;
    let stage_in = root
        .ancestors()
        .skip(1)
        .find(|p| p.as_os_str().is_empty() || p.is_dir())
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let src = ArchiveSource::read(raw, what, &stage_in, limits, None)?;
    let picks = src.pick(sel)?;
    // The staging layout's index.json becomes the archive's, so the referrers it lists
    // are found there (an oci-archive's: a docker-archive has none).
    let picks = if src.kind() == super::source::ArchiveKind::Oci {
        src.mirror_index()?;
        let staging = crate::store::Source::as_layout(&src).expect("a staging layout");
        drop_holders(staging, picks, sel)?
    } else {
        picks
    };
    let (refs, rep, referrers, referrer_warnings) = finish(&src, target, &picks, what, opts)?;
    let (_, bytes) = src.counts();
    Ok(ImportReport {
        source: what.to_string(),
        format: src.kind().name().into(),
        compression: Some(src.compression().name().into()),
        refs,
        blobs: rep.copied + rep.linked + rep.manifests,
        bytes,
        present: rep.skipped,
        referrers,
        referrer_warnings,
        dry_run: opts.dry_run,
    })
}

fn import_layout(
    target: &Layout,
    r: &LayoutRef,
    sel: &Selection,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let src = Layout::open(&r.path)?;
    let what = r.path.display().to_string();
    let (index, _) = src.read_index()?;
    let picks = match &r.target {
        Target::Digest(_) => {
            let res = resolve::resolve_one(&src, r)?;
            let name = sel
                .rename
                .clone()
                .or_else(|| res.descriptor.ref_name().map(str::to_string))
                .ok_or_else(|| {
                    Error::usage(format!("{r} has no ref name"))
                        .with_hint("name it with -o LAYOUT:REF")
                })?;
            vec![(name, res.descriptor)]
        }
        Target::Name(n) => {
            let mut s = sel.clone();
            s.name = Some(n.clone());
            select_entries(&index, &s, &what)?
        }
        Target::Default => drop_holders(&src, select_entries(&index, sel, &what)?, sel)?,
    };
    let (refs, rep, referrers, referrer_warnings) = finish(&src, target, &picks, &what, opts)?;
    Ok(ImportReport {
        source: r.to_string(),
        format: "oci-layout".into(),
        compression: None,
        refs,
        blobs: rep.copied + rep.linked + rep.manifests,
        bytes: rep.bytes,
        present: rep.skipped,
        referrers,
        referrer_warnings,
        dry_run: opts.dry_run,
    })
}
