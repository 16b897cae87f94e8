//! Archives as read stores: an oci-archive or docker-archive as a [`Source`] with
//! [`Names`].
//!
//! Design: an archive is a stream (often compressed: gzip, zstd, xz), so it has no
//! random access; an index of member offsets would work only for plain tars and would
//! still have to read everything once to verify it. So the archive is read once, in one
//! streaming pass ([`super::import::ingest`]: every member checked, every blob verified
//! as it arrives), into a private staging layout in a temp directory beside the
//! destination (on the same filesystem), and from then on the archive *is* that layout:
//! [`Source::as_layout`] lets [`crate::copy::copy_graph`] bring blobs into the
//! destination by the layout's verified staging (hard links where safe). A
//! docker-archive's images are converted to OCI manifests in the staging layout when
//! they are chosen ([`ArchiveSource::pick`]). The temp directory is removed when the
//! source drops; one a killed process left is removed by the next open in the same
//! directory.
//!
//! Names are the archive's: an oci-archive's index.json ref names, a docker-archive's
//! `RepoTags`. The store is read-only: setting or removing names is refused.

use super::import::{ingest, oci_index, oci_picks, Staged};
use super::{docker, Selection};
use crate::compress::{Format, Limits};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layout::{owned_temp_prefix, remove_stale_temps, Layout};
use crate::model::Descriptor;
use crate::store::{Names, Sink, Source};
use std::io::Read;
use std::path::Path;

/// The kind of [`owned_temp_prefix`] of a staging directory.
const STAGE_TEMP: &str = "archive-stage";

/// Which kind of archive a source turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// An OCI image layout in a tar (also Docker 25+ `docker save` output).
    Oci,
    /// `docker save`'s `manifest.json` format.
    Docker,
}

impl ArchiveKind {
    pub fn name(self) -> &'static str {
        match self {
            ArchiveKind::Oci => "oci-archive",
            ArchiveKind::Docker => "docker-archive",
        }
    }
}

/// An archive read into a private staging layout (see the module docs).
pub struct ArchiveSource {
    what: String,
    kind: ArchiveKind,
    compression: Format,
    staged: Staged,
    // Field order: the layout handle drops before its directory is removed.
    staging: Layout,
    _lock: std::fs::File,
    _dir: tempfile::TempDir,
}

impl ArchiveSource {
    /// Read the archive `raw` (named `what` in messages) into a staging layout in a temp
    /// directory created in `stage_in` (put it on the destination's filesystem). An
    /// archive that is both (Docker 25+ `docker save`) is read as `prefer` says, else as
    /// an oci-archive.
    pub fn read<R: Read + Send>(
        raw: R,
        what: &str,
        stage_in: &Path,
        limits: Limits,
        prefer: Option<ArchiveKind>,
    ) -> Result<ArchiveSource> {
        remove_stale_temps(stage_in, STAGE_TEMP);
        let dir = tempfile::Builder::new()
            .prefix(&owned_temp_prefix(STAGE_TEMP))
            .tempdir_in(stage_in)
            .at("creating a staging directory in", stage_in)?;
        let lock = std::fs::File::open(dir.path()).at("opening", dir.path())?;
        lock.lock().at("locking", dir.path())?;
        let (staging, _) = Layout::init(dir.path().join("layout"))?;
        let (staged, compression) = ingest(&staging, raw, limits, what)?;
        let kind = if prefer == Some(ArchiveKind::Docker) && staged.has("manifest.json") {
            ArchiveKind::Docker
        } else if staged.has("index.json") {
            ArchiveKind::Oci
        } else if staged.has("manifest.json") {
            ArchiveKind::Docker
        } else {
            return Err(Error::corrupt(format!(
                "{what} is neither an oci-archive (no index.json) nor a docker-archive (no manifest.json)"
            )));
        };
        Ok(ArchiveSource {
            what: what.to_string(),
            kind,
            compression,
            staged,
            staging,
            _lock: lock,
            _dir: dir,
        })
    }

    /// What kind of archive this is.
    pub fn kind(&self) -> ArchiveKind {
        self.kind
    }

    /// The compression of the archive stream.
    pub fn compression(&self) -> Format {
        self.compression
    }

    /// Blobs read from the archive and their bytes.
    pub fn counts(&self) -> (u64, u64) {
        self.staged.counts()
    }

    /// Make the staging layout's index.json the archive's: an oci-archive's entries as
    /// they are, a docker-archive's tagged images (converted) under their `RepoTags`. Then
    /// the staging layout is the archive as a layout, for whatever reads a store's
    /// index.json through [`Source::as_layout`] (the selector, `copy --platform`).
    pub fn mirror_index(&self) -> Result<()> {
        let entries: Vec<Descriptor> = match self.kind {
            ArchiveKind::Oci => oci_index(&self.staged, &self.what)?.manifests,
            ArchiveKind::Docker => {
                let all = Selection {
                    all: true,
                    ..Selection::default()
                };
                match self.pick(&all) {
                    Ok(picks) => picks
                        .into_iter()
                        .map(|(n, mut d)| {
                            d.annotations
                                .insert(crate::model::annotation::REF_NAME.to_string(), n);
                            d
                        })
                        .collect(),
                    Err(e) if e.kind == crate::error::Kind::NoMatch => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
        };
        // A listed document the archive lacks is the archive's fault: say so before the
        // staging index.json transaction refuses it in the layout's words.
        for d in &entries {
            let present = crate::digest::Digest::parse(&d.digest)
                .map(|dg| self.staging.has_blob(&dg))
                .unwrap_or(false);
            if !present {
                return Err(crate::error::Error::corrupt(format!(
                    "{}: index.json names {} ({}), which the archive does not hold: the blob is missing",
                    self.what, d.digest, d.media_type
                ))
                .with_hint("the archive is incomplete: export it again"));
            }
        }
        self.staging.transact(|idx| {
            idx.manifests = entries;
            Ok(())
        })?;
        Ok(())
    }

    /// Choose `(name, descriptor)` pairs per `sel` (a docker-archive's chosen images are
    /// converted to OCI manifests in the staging layout here).
    pub fn pick(&self, sel: &Selection) -> Result<Vec<(String, Descriptor)>> {
        match self.kind {
            ArchiveKind::Oci => oci_picks(&self.staged, sel, &self.what),
            ArchiveKind::Docker => docker::convert(&self.staging, &self.staged, sel, &self.what),
        }
    }
}

impl Source for ArchiveSource {
    fn describe(&self) -> String {
        self.what.clone()
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        self.staging.contains(digest)
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        Source::open(&self.staging, desc)
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        self.staging.read_small(desc)
    }
    fn as_layout(&self) -> Option<&Layout> {
        Some(&self.staging)
    }
}

impl Names for ArchiveSource {
    fn list_names(&self) -> Result<Vec<String>> {
        let sel = Selection {
            all: true,
            ..Selection::default()
        };
        match self.pick(&sel) {
            Ok(p) => Ok(p.into_iter().map(|(n, _)| n).collect()),
            Err(e) if e.kind == crate::error::Kind::NoMatch => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>> {
        if let Ok(d) = Digest::parse(name) {
            return Ok(crate::resolve::stored_document(&self.staging, &d));
        }
        let sel = Selection {
            name: Some(name.to_string()),
            ..Selection::default()
        };
        match self.pick(&sel) {
            Ok(p) => Ok(p.into_iter().next().map(|(_, mut d)| {
                d.annotations.remove(crate::model::annotation::REF_NAME);
                d
            })),
            Err(e) if e.kind == crate::error::Kind::NoMatch => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn set_names(&self, _names: &[String], _desc: &Descriptor) -> Result<()> {
        Err(self.read_only())
    }
    fn remove_names(&self, _names: &[String]) -> Result<()> {
        Err(self.read_only())
    }
}

/// An archive read as a source takes no writes (archives are written by `oix export`
/// and by `oix copy` through [`super::sink::ArchiveFile`]).
impl Sink for ArchiveSource {
    fn describe(&self) -> String {
        self.what.clone()
    }
    fn has(&self, desc: &Descriptor) -> Result<bool> {
        self.contains(&desc.digest()?)
    }
    fn put_blob(&self, _desc: &Descriptor, _reader: &mut dyn Read) -> Result<()> {
        Err(self.read_only())
    }
    fn put_manifest(&self, _desc: &Descriptor, _bytes: &[u8]) -> Result<()> {
        Err(self.read_only())
    }
}

impl ArchiveSource {
    fn read_only(&self) -> Error {
        Error::usage(format!(
            "{}: an archive read as a source is read-only",
            self.what
        ))
        .with_hint("write archives with `oix export` or `oix copy SRC oci-archive:FILE`")
    }
}

/// Open the archive at `path` (`None`: standard input) as a read store, staged in a temp
/// directory in `stage_in`. `scheme` is what the reference said (`oci-archive:` or
/// `docker-archive:`); the content decides, and a mismatch is refused.
pub fn open_source(
    path: Option<&Path>,
    scheme: crate::reference::Scheme,
    stage_in: &Path,
    limits: Limits,
) -> Result<ArchiveSource> {
    let said = match scheme {
        crate::reference::Scheme::DockerArchive => Some(ArchiveKind::Docker),
        crate::reference::Scheme::OciArchive => Some(ArchiveKind::Oci),
        _ => None,
    };
    let src = match path {
        Some(p) => {
            if !p.exists() {
                return Err(Error::usage(format!(
                    "{}{}: no such file",
                    scheme.prefix(),
                    p.display()
                ))
                .with_hint("give an existing archive file (oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG])"));
            }
            let f = std::fs::File::open(p).at("opening", p)?;
            ArchiveSource::read(f, &p.display().to_string(), stage_in, limits, said)?
        }
        None => ArchiveSource::read(std::io::stdin(), "stdin", stage_in, limits, said)?,
    };
    src.mirror_index()?;
    // Docker 25+ archives are both (read as the scheme says); an oci-archive named
    // docker-archive: is read as OCI.
    if said == Some(ArchiveKind::Oci) && src.kind == ArchiveKind::Docker {
        return Err(Error::usage(format!(
            "{} is a docker-archive, not an oci-archive",
            src.what
        ))
        .with_hint("name it docker-archive:FILE"));
    }
    Ok(src)
}
