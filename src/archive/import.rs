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

use super::source::ArchiveSource;
use super::{member_path, resolve_link, select_entries, Selection};
use crate::compress::{self, Format, Limits};
use crate::copy::{copy_graph, CopyOptions};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Kind, Result};
use crate::graph::{self, Role};
use crate::layout::{Layout, Presence};
use crate::model::{self, Descriptor, Index};
use crate::reference::{validate_ref_name, LayoutRef, Reference, Scheme, Target};
use crate::resolve;
use crate::tags::{self, TagChange};
use crate::verify::{self, Expect, VerifyingReader};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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

/// What one archive member became.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A verified blob in the target layout; `format` is the compression of its content
    /// (sniffed for docker-archive layers).
    Blob {
        digest: Digest,
        size: u64,
        format: Format,
    },
    /// A small JSON or metadata file, held in memory.
    Small(Vec<u8>),
    /// A member oix has no use for (read past).
    Skipped,
}

/// The result of streaming an archive into a layout.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    files: HashMap<String, Item>,
    links: HashMap<String, String>,
    blobs: u64,
    bytes: u64,
    present: u64,
}

impl Staged {
    /// Whether the archive has a member (or a link) at `path`.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.links.contains_key(path)
    }

    /// Blobs written while reading the archive, and their bytes.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.blobs, self.bytes)
    }

    /// The member at `path`, following links (inside the archive) up to 32 hops.
    pub(crate) fn lookup(&self, path: &str, what: &str) -> Result<&Item> {
        let mut p = path.to_string();
        for _ in 0..32 {
            if let Some(item) = self.files.get(&p) {
                return Ok(item);
            }
            match self.links.get(&p) {
                Some(next) => p = next.clone(),
                None => {
                    return Err(
                        Error::not_found(format!("{what}: {path} is not in the archive"))
                            .with_hint("the archive is incomplete"),
                    )
                }
            }
        }
        Err(Error::corrupt(format!(
            "{what}: {path}: too many levels of links"
        )))
    }
}

/// Largest small member (JSON) held in memory, and all of them together.
const SMALL_LIMIT: u64 = model::MAX_MANIFEST_SIZE;
const SMALL_TOTAL: u64 = 256 << 20;

/// A reader that keeps the first bytes it passes on (to sniff a layer's compression).
struct Head<'a, R> {
    inner: &'a mut R,
    head: Vec<u8>,
}

impl<R: Read> Read for Head<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.head.len() < 8 {
            let take = (8 - self.head.len()).min(n);
            self.head.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

fn read_small<R: Read>(r: &mut R, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    if size > limit {
        return Err(io::Error::other(format!(
            "{size} bytes is more than the {limit} bytes allowed for this file"
        )));
    }
    let mut buf = Vec::with_capacity(size as usize);
    r.take(size).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Stream every member of the archive `raw` into `target` (see the module docs).
pub(crate) fn ingest<R: Read + Send>(
    target: &Layout,
    raw: R,
    limits: Limits,
    what: &str,
) -> Result<(Staged, Format)> {
    // Blobs found present are used as they are: hold the gc fence before the first check.
    target.enter_writer()?;
    let d = compress::decompress(raw, limits).at("reading", Path::new(what))?;
    let format = d.format;
    let tripped: Arc<OnceLock<String>> = d.tripped;
    let io_fail = |e: &dyn std::fmt::Display, ctx: &str| -> Error {
        match tripped.get() {
            Some(t) => Error::corrupt(format!("{what}: refusing the archive: {t}")).with_hint(
                "nothing was added to index.json; if the archive is genuine, raise --max-ratio or --max-size",
            ),
            None => Error::corrupt(format!("{what}: {ctx}: {e}")),
        }
    };
    let mut ar = tar::Archive::new(d.reader);
    let entries = ar.entries().map_err(|e| io_fail(&e, "not a tar archive"))?;
    let mut st = Staged::default();
    let mut seen: HashMap<String, bool> = HashMap::new(); // path → is a directory
    let mut expected: HashMap<Digest, (u64, String)> = HashMap::new();
    let mut small_total = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_fail(&e, "reading the archive"))?;
        let raw_name = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_name).into_owned();
        let refuse = |why: String| {
            Error::corrupt(format!("{what}: refusing archive entry {shown:?}: {why}"))
                .with_hint("the archive is corrupt or hostile; nothing was added to index.json")
        };
        let et = entry.header().entry_type();
        let is_dir = et == tar::EntryType::Directory;
        if et == tar::EntryType::XGlobalHeader {
            continue;
        }
        let Some(path) = member_path(&raw_name).map_err(refuse)? else {
            if is_dir {
                continue;
            }
            return Err(refuse("the archive root is not a directory".into()));
        };
        if let Some(was_dir) = seen.insert(path.clone(), is_dir) {
            if !(was_dir && is_dir) {
                return Err(refuse("duplicate entry".into()));
            }
        }
        match et {
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let hard = et == tar::EntryType::Link;
                let tgt = entry
                    .link_name_bytes()
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                let resolved = resolve_link(&path, &tgt, hard).map_err(refuse)?;
                if path.starts_with("blobs/") {
                    return Err(refuse(
                        "a link where a blob should be (blobs must be regular files)".into(),
                    ));
                }
                st.links.insert(path, resolved);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.size();
                if let Some(rest) = path.strip_prefix("blobs/") {
                    let digest = match rest.split_once('/') {
                        Some((alg, enc)) if !enc.contains('/') => {
                            Digest::parse(&format!("{alg}:{enc}")).map_err(|e| {
                                refuse(format!("blob name is not a digest ({})", e.message))
                            })?
                        }
                        _ => {
                            return Err(refuse(
                                "files under blobs/ must be named blobs/<algorithm>/<encoded>"
                                    .into(),
                            ))
                        }
                    };
                    if !digest.is_verifiable() {
                        return Err(refuse(format!(
                            "oix cannot verify {} digests",
                            digest.algorithm().as_str()
                        )));
                    }
                    if let Some((want, _)) = expected.get(&digest) {
                        if *want != size {
                            return Err(refuse(format!(
                                "the entry is {size} bytes, its descriptor says {want}"
                            )));
                        }
                    }
                    let presence = target.check_present(&digest, size)?;
                    if presence == Presence::Intact {
                        // Already here, but the archive's copy is still checked: a
                        // corrupt archive is reported, never silently accepted.
                        let expect = Expect::blob(&digest, size);
                        VerifyingReader::new(&mut entry, expect)
                            .finish()
                            .map_err(|e| match verify::mismatch_in(&e) {
                                Some(m) => refuse(format!("its content {}", m.detail())),
                                None => io_fail(&e, "reading a blob"),
                            })?;
                        st.present += 1;
                    } else {
                        // A damaged file under the blob's name is replaced by the
                        // verified content; when it cannot be, the error names that
                        // file (the archive is not at fault).
                        let damaged = matches!(presence, Presence::Damaged(_));
                        target
                            .write_blob(&mut entry, Some((&digest, size)))
                            .map_err(|e| match tripped.get() {
                                // The disk, not the archive: said as it is.
                                _ if e.is_write_failure() => e,
                                Some(_) => io_fail(&e, ""),
                                None if damaged && matches!(e.kind, Kind::Io | Kind::NotFound) => e,
                                None => refuse(e.message),
                            })?;
                        st.blobs += 1;
                        st.bytes += size;
                    }
                    // A document whose descriptor we know: learn its children's sizes.
                    if let Some((_, mt)) = expected.get(&digest).cloned() {
                        let desc = Descriptor::new(&mt, &digest, size);
                        if let Ok((_, Some(doc))) = target.read_document(&desc) {
                            learn(&mut expected, doc.children());
                        }
                    }
                    st.files.insert(
                        path,
                        Item::Blob {
                            digest,
                            size,
                            format: Format::Plain,
                        },
                    );
                } else if path == "index.json"
                    || path == "oci-layout"
                    || path == "manifest.json"
                    || path == "repositories"
                    || (!path.contains('/') && path.ends_with(".json"))
                {
                    let limit = if path == "index.json" {
                        model::MAX_INDEX_JSON_SIZE
                    } else {
                        SMALL_LIMIT
                    };
                    small_total += size;
                    if small_total > SMALL_TOTAL {
                        return Err(refuse("too much metadata in the archive".into()));
                    }
                    let bytes =
                        read_small(&mut entry, size, limit).map_err(|e| match tripped.get() {
                            Some(_) => io_fail(&e, ""),
                            None => refuse(e.to_string()),
                        })?;
                    if path == "index.json" {
                        if let Ok(idx) = serde_json::from_slice::<Index>(&bytes) {
                            learn(&mut expected, idx.manifests.iter().collect());
                        }
                    }
                    st.files.insert(path, Item::Small(bytes));
                } else if path.ends_with(".tar") {
                    // A docker-archive layer: its digest is computed while it streams.
                    let mut head = Head {
                        inner: &mut entry,
                        head: Vec::new(),
                    };
                    let (digest, got) = target.write_blob(&mut head, None).map_err(|e| {
                        if e.is_write_failure() {
                            e
                        } else {
                            io_fail(&e.message, "reading a layer")
                        }
                    })?;
                    if got != size {
                        return Err(refuse(format!("read {got} bytes, the header says {size}")));
                    }
                    let format = Format::sniff(&head.head);
                    st.blobs += 1;
                    st.bytes += size;
                    st.files.insert(
                        path,
                        Item::Blob {
                            digest,
                            size,
                            format,
                        },
                    );
                } else {
                    st.files.insert(path, Item::Skipped);
                }
            }
            other => {
                return Err(refuse(format!(
                    "entry type {other:?} has no place in an image archive"
                )))
            }
        }
    }
    Ok((st, format))
}

fn learn(expected: &mut HashMap<Digest, (u64, String)>, children: Vec<&Descriptor>) {
    for c in children {
        if let (Ok(d), Ok(size)) = (c.digest(), c.size()) {
            expected.entry(d).or_insert((size, c.media_type.clone()));
        }
    }
}

/// Prove the graph under `picks` complete in `target`: every index and manifest read
/// and verified by the walk, every other blob present with its descriptor's size.
pub fn verify_graph(target: &Layout, picks: &[(String, Descriptor)], what: &str) -> Result<()> {
    let roots: Vec<Descriptor> = picks.iter().map(|(_, d)| d.clone()).collect();
    let w = graph::walk(target, &roots);
    if let Some(p) = w.first_problem() {
        return Err(p
            .to_error(what)
            .with_hint("the source is incomplete or corrupt; nothing was added to index.json"));
    }
    let mut checked = HashSet::new();
    for n in &w.nodes {
        if n.document.is_some() || !checked.insert(n.descriptor.digest.clone()) {
            continue;
        }
        let digest = n.descriptor.digest()?;
        let size = n.descriptor.size()?;
        let path = target.blob_path(&digest);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.len() == size || m.file_type().is_symlink() => {}
            Ok(m) => {
                return Err(Error::corrupt(format!(
                    "{what}: blob {digest} is {} bytes, its descriptor (in {}) says {size}",
                    m.len(),
                    n.parent.as_deref().unwrap_or("index.json")
                ))
                .with_hint("the source is corrupt; nothing was added to index.json"))
            }
            Err(_) if n.role == Role::Subject => {}
            Err(_) => {
                return Err(Error::not_found(format!(
                    "{what}: blob {digest} (referenced from {}) is missing",
                    n.parent.as_deref().unwrap_or("index.json")
                ))
                .with_hint("the source is incomplete; nothing was added to index.json"))
            }
        }
    }
    Ok(())
}

/// Add the refs and list the carried referrers in one index.json transaction (or,
/// for a dry run, say what the refs would do without writing).
fn commit(
    target: &Layout,
    picks: &[(String, Descriptor)],
    carried: &[crate::referrers::Carried],
    dry_run: bool,
) -> Result<Vec<TagChange>> {
    for (name, _) in picks {
        validate_ref_name(name)?;
    }
    let set = |idx: &mut Index| {
        picks
            .iter()
            .map(|(n, d)| tags::set_ref(idx, d, n))
            .collect::<Result<Vec<_>>>()
    };
    if dry_run {
        let mut idx = if target.root().join("index.json").exists() {
            target.read_index()?.0
        } else {
            Index::default()
        };
        return set(&mut idx);
    }
    let (changes, _) = target.transact(|idx| {
        let changes = set(idx)?;
        crate::referrers::record_into(target, idx, carried)?;
        Ok(changes)
    })?;
    Ok(changes)
}

/// `import --all` of a layout or oci-archive takes its images; the entries that only
/// hold referrers are left out, and the referrers carried with the images are listed
/// anew (as [`ImportOptions::referrers`] says).
fn drop_holders(
    src: &Layout,
    picks: Vec<(String, Descriptor)>,
    sel: &Selection,
) -> Result<Vec<(String, Descriptor)>> {
    if !sel.all {
        return Ok(picks);
    }
    let (index, _) = src.read_index()?;
    let holders = crate::referrers::holder_names(src, &index)?;
    Ok(picks
        .into_iter()
        .filter(|(n, _)| !holders.contains(n))
        .collect())
}

/// The copy into the target with the referrers of what is copied, the completeness
/// check, and the commit: what every import ends with. Returns the refs, the copy's
/// report and the referrers carried.
type Finished = (
    Vec<TagChange>,
    crate::copy::CopyReport,
    Vec<crate::referrers::Carried>,
    Vec<crate::referrers::Warning>,
);

fn finish(
    src: &dyn crate::store::Source,
    target: &Layout,
    picks: &[(String, Descriptor)],
    what: &str,
    opts: &ImportOptions,
) -> Result<Finished> {
    let roots: Vec<Descriptor> = picks.iter().map(|(_, d)| d.clone()).collect();
    let filter = crate::referrers::ArtifactFilter {
        types: opts.referrers.types.clone(),
    };
    let filter = opts.referrers.enabled.then_some(&filter);
    let (carried, warnings) = crate::referrers::carry(src, &roots, filter)?;
    let all = crate::referrers::with_carried(&roots, &carried);
    if opts.dry_run {
        let refs = commit(target, picks, &carried, true)?;
        return Ok((refs, Default::default(), carried, warnings));
    }
    let rep = copy_graph(src, target, &all, &CopyOptions::default())?;
    let checked: Vec<(String, Descriptor)> = all.into_iter().map(|d| (String::new(), d)).collect();
    verify_graph(target, &checked, what)?;
    let refs = commit(target, picks, &carried, false)?;
    Ok((refs, rep, carried, warnings))
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

pub(crate) fn oci_picks(
    st: &Staged,
    sel: &Selection,
    what: &str,
) -> Result<Vec<(String, Descriptor)>> {
    select_entries(&oci_index(st, what)?, sel, what)
}

/// An oci-archive's index.json, checked (and its oci-layout, when there is one).
pub(crate) fn oci_index(st: &Staged, what: &str) -> Result<Index> {
    if st.files.contains_key("oci-layout") || st.links.contains_key("oci-layout") {
        let Item::Small(b) = st.lookup("oci-layout", what)? else {
            return Err(Error::corrupt(format!(
                "{what}: oci-layout is not a small JSON file"
            )));
        };
        let v: serde_json::Value = model::parse_json(b, &format!("{what}: oci-layout"))?;
        let version = v.get("imageLayoutVersion").and_then(|v| v.as_str());
        if version != Some("1.0.0") {
            return Err(Error::corrupt(format!(
                "{what}: oci-layout says imageLayoutVersion {version:?}; oix supports \"1.0.0\""
            )));
        }
    }
    let Item::Small(b) = st.lookup("index.json", what)? else {
        return Err(Error::corrupt(format!(
            "{what}: index.json is not a small JSON file"
        )));
    };
    let idx: Index = model::parse_json(b, &format!("{what}: index.json"))?;
    if idx.schema_version != 2 {
        return Err(Error::corrupt(format!(
            "{what}: index.json: schemaVersion is {}, expected 2",
            idx.schema_version
        )));
    }
    Ok(idx)
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
