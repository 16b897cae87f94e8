//! Reading an archive into a staging layout: one streaming pass, every member checked
//! before anything is written for it (see [`super`] for the rules).

use super::super::{member_path, resolve_link, select_entries, Selection};
use crate::compress::{self, Format, Limits};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Kind, Result};
use crate::layout::{Layout, Presence};
use crate::model::{self, Descriptor, Index};
use crate::verify::{self, Expect, VerifyingReader};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, OnceLock};

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
    let mut ing = Ingest {
        target,
        what,
        tripped: d.tripped,
        st: Staged::default(),
        seen: HashMap::new(),
        expected: HashMap::new(),
        small_total: 0,
    };
    let mut ar = tar::Archive::new(d.reader);
    let entries = ar
        .entries()
        .map_err(|e| ing.io_fail(&e, "not a tar archive"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ing.io_fail(&e, "reading the archive"))?;
        ing.member(&mut entry)?;
    }
    Ok((ing.st, format))
}

/// The state of one streaming pass over an archive.
struct Ingest<'a> {
    target: &'a Layout,
    what: &'a str,
    /// Set when the decompression limits tripped (the archive, not the disk, is at fault).
    tripped: Arc<OnceLock<String>>,
    st: Staged,
    /// Each member path seen, and whether it is a directory.
    seen: HashMap<String, bool>,
    /// Sizes (and media types) of blobs named by index.json or a document read earlier.
    expected: HashMap<Digest, (u64, String)>,
    small_total: u64,
}

impl Ingest<'_> {
    /// A read failure: a tripped limit when there was one, else the archive is corrupt.
    fn io_fail(&self, e: &dyn std::fmt::Display, ctx: &str) -> Error {
        match self.tripped.get() {
            Some(t) => Error::corrupt(format!("{}: refusing the archive: {t}", self.what)).with_hint(
                "nothing was added to index.json; if the archive is genuine, raise --max-ratio or --max-size",
            ),
            None => Error::corrupt(format!("{}: {ctx}: {e}", self.what)),
        }
    }

    /// Check one member and stage what it holds.
    fn member<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw_name = entry.path_bytes().into_owned();
        let m = Member {
            what: self.what,
            shown: String::from_utf8_lossy(&raw_name).into_owned(),
        };
        let et = entry.header().entry_type();
        let is_dir = et == tar::EntryType::Directory;
        if et == tar::EntryType::XGlobalHeader {
            return Ok(());
        }
        let Some(path) = member_path(&raw_name).map_err(|w| m.refuse(w))? else {
            if is_dir {
                return Ok(());
            }
            return Err(m.refuse("the archive root is not a directory"));
        };
        if let Some(was_dir) = self.seen.insert(path.clone(), is_dir) {
            if !(was_dir && is_dir) {
                return Err(m.refuse("duplicate entry"));
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
                let resolved = resolve_link(&path, &tgt, hard).map_err(|w| m.refuse(w))?;
                if path.starts_with("blobs/") {
                    return Err(
                        m.refuse("a link where a blob should be (blobs must be regular files)")
                    );
                }
                self.st.links.insert(path, resolved);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let item = self.file(entry, &path, &m)?;
                self.st.files.insert(path, item);
            }
            other => {
                return Err(m.refuse(format!(
                    "entry type {other:?} has no place in an image archive"
                )))
            }
        }
        Ok(())
    }

    /// A regular file: a blob, a small metadata file, a docker-archive layer or skipped.
    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &str,
        m: &Member,
    ) -> Result<Item> {
        if let Some(rest) = path.strip_prefix("blobs/") {
            self.blob(entry, rest, m)
        } else if is_metadata(path) {
            self.small(entry, path, m)
        } else if path.ends_with(".tar") {
            self.layer(entry, m)
        } else {
            Ok(Item::Skipped)
        }
    }

    /// `blobs/<alg>/<encoded>`: a verified blob of the target (or checked against the
    /// copy it already has).
    fn blob<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        rest: &str,
        m: &Member,
    ) -> Result<Item> {
        let size = entry.size();
        let digest = blob_digest(rest, m)?;
        if let Some((want, _)) = self.expected.get(&digest) {
            if *want != size {
                return Err(m.refuse(format!(
                    "the entry is {size} bytes, its descriptor says {want}"
                )));
            }
        }
        let presence = self.target.check_present(&digest, size)?;
        if presence == Presence::Intact {
            // Already here, but the archive's copy is still checked: a
            // corrupt archive is reported, never silently accepted.
            let expect = Expect::blob(&digest, size);
            VerifyingReader::new(entry, expect).finish().map_err(
                |e| match verify::mismatch_in(&e) {
                    Some(mm) => m.refuse(format!("its content {}", mm.detail())),
                    None => self.io_fail(&e, "reading a blob"),
                },
            )?;
            self.st.present += 1;
        } else {
            // A damaged file under the blob's name is replaced by the
            // verified content; when it cannot be, the error names that
            // file (the archive is not at fault).
            let damaged = matches!(presence, Presence::Damaged(_));
            self.target
                .write_blob(entry, Some((&digest, size)))
                .map_err(|e| match self.tripped.get() {
                    // The disk, not the archive: said as it is.
                    _ if e.is_write_failure() => e,
                    Some(_) => self.io_fail(&e, ""),
                    None if damaged && matches!(e.kind, Kind::Io | Kind::NotFound) => e,
                    None => m.refuse(e.message),
                })?;
            self.st.blobs += 1;
            self.st.bytes += size;
        }
        // A document whose descriptor we know: learn its children's sizes.
        if let Some((_, mt)) = self.expected.get(&digest).cloned() {
            let desc = Descriptor::new(&mt, &digest, size);
            if let Ok((_, Some(doc))) = self.target.read_document(&desc) {
                learn(&mut self.expected, doc.children());
            }
        }
        Ok(Item::Blob {
            digest,
            size,
            format: Format::Plain,
        })
    }

    /// index.json, oci-layout, manifest.json and the like: held in memory, bounded.
    fn small<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &str,
        m: &Member,
    ) -> Result<Item> {
        let size = entry.size();
        let limit = if path == "index.json" {
            model::MAX_INDEX_JSON_SIZE
        } else {
            SMALL_LIMIT
        };
        self.small_total += size;
        if self.small_total > SMALL_TOTAL {
            return Err(m.refuse("too much metadata in the archive"));
        }
        let bytes = read_small(entry, size, limit).map_err(|e| match self.tripped.get() {
            Some(_) => self.io_fail(&e, ""),
            None => m.refuse(e.to_string()),
        })?;
        if path == "index.json" {
            if let Ok(idx) = serde_json::from_slice::<Index>(&bytes) {
                learn(&mut self.expected, idx.manifests.iter().collect());
            }
        }
        Ok(Item::Small(bytes))
    }

    /// A docker-archive layer: its digest is computed while it streams.
    fn layer<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, m: &Member) -> Result<Item> {
        let size = entry.size();
        let mut head = Head {
            inner: entry,
            head: Vec::new(),
        };
        let (digest, got) = self.target.write_blob(&mut head, None).map_err(|e| {
            if e.is_write_failure() {
                e
            } else {
                self.io_fail(&e.message, "reading a layer")
            }
        })?;
        if got != size {
            return Err(m.refuse(format!("read {got} bytes, the header says {size}")));
        }
        let format = Format::sniff(&head.head);
        self.st.blobs += 1;
        self.st.bytes += size;
        Ok(Item::Blob {
            digest,
            size,
            format,
        })
    }
}

/// The member being read, for refusals that name it.
struct Member<'a> {
    what: &'a str,
    shown: String,
}

impl Member<'_> {
    fn refuse(&self, why: impl std::fmt::Display) -> Error {
        Error::corrupt(format!(
            "{}: refusing archive entry {:?}: {why}",
            self.what, self.shown
        ))
        .with_hint("the archive is corrupt or hostile; nothing was added to index.json")
    }
}

/// The small files held in memory: the layout's and docker-archive's metadata.
fn is_metadata(path: &str) -> bool {
    path == "index.json"
        || path == "oci-layout"
        || path == "manifest.json"
        || path == "repositories"
        || (!path.contains('/') && path.ends_with(".json"))
}

/// The digest a member under `blobs/` is named by (`rest` is the name after `blobs/`).
fn blob_digest(rest: &str, m: &Member) -> Result<Digest> {
    let digest = match rest.split_once('/') {
        Some((alg, enc)) if !enc.contains('/') => Digest::parse(&format!("{alg}:{enc}"))
            .map_err(|e| m.refuse(format!("blob name is not a digest ({})", e.message)))?,
        _ => return Err(m.refuse("files under blobs/ must be named blobs/<algorithm>/<encoded>")),
    };
    if !digest.is_verifiable() {
        return Err(m.refuse(format!(
            "oix cannot verify {} digests",
            digest.algorithm().as_str()
        )));
    }
    Ok(digest)
}

fn learn(expected: &mut HashMap<Digest, (u64, String)>, children: Vec<&Descriptor>) {
    for c in children {
        if let (Ok(d), Ok(size)) = (c.digest(), c.size()) {
            expected.entry(d).or_insert((size, c.media_type.clone()));
        }
    }
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
