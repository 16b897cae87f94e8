//! Writing an archive file atomically, and the archive file as a copy destination.

use super::{ArchiveSink, DockerImage, Written};
use crate::compress::CompressOptions;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layout::Transfer;
use crate::model::{annotation, Descriptor};
use crate::store::{Names, Sink, Source};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The kind of [`crate::layout::owned_temp_prefix`] an archive's temp file has (export
/// and copy write archives the same way).
pub const ARCHIVE_TEMP: &str = "export";

/// The buffered writer of an archive's temp file ([`write_atomically`]).
pub type TempOut<'a> = io::BufWriter<crate::error::PathWriter<&'a File>>;

/// Write `path` atomically: `write` fills a temp file beside it (same directory, so
/// same filesystem), which is synced, made 0644 and renamed over `path`. An error or a
/// crash before the rename leaves no partial `path` (an existing one is untouched);
/// temp files of earlier writers into the same directory that were killed are removed
/// first ([`crate::layout::remove_stale_temps`]). `write` is given the directory too
/// (to spool into).
pub fn write_atomically<T>(
    path: &Path,
    write: impl for<'a> FnOnce(TempOut<'a>, &Path) -> Result<(T, TempOut<'a>)>,
) -> Result<T> {
    use crate::layout::{owned_temp_prefix, remove_stale_temps};
    let dir = parent_dir(path);
    remove_stale_temps(dir, ARCHIVE_TEMP);
    let tmp = tempfile::Builder::new()
        .prefix(&owned_temp_prefix(ARCHIVE_TEMP))
        .tempfile_in(dir)
        .at("creating a temp file in", dir)?;
    tmp.as_file().lock().at("locking", tmp.path())?;
    let w = io::BufWriter::with_capacity(
        1 << 20,
        crate::error::PathWriter::new(tmp.as_file(), tmp.path()),
    );
    let (value, w) = write(w, dir)?;
    w.into_inner()
        .map_err(|e| Error::write(tmp.path(), e.into_error()))?;
    tmp.as_file().sync_all().at("syncing", tmp.path())?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .at("setting permissions of", tmp.path())?;
    }
    tmp.persist(path)
        .map_err(|e| Error::io("writing", path, e.error))?;
    // The rename is durable once the directory is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(value)
}

/// The directory a file is written in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// An archive file as a copy destination (`oix copy SRC oci-archive:FILE[:NAME]`,
/// `docker-archive:FILE[:REPO:TAG]`): an [`ArchiveSink`] the copy fills and names, and
/// [`ArchiveFile::finish`], the step that writes the file ([`write_atomically`]).
/// Nothing is written before it: a failed or dry-run copy leaves no file. The bytes are
/// the ones `oix export` writes for the same content, names and options (one sink, one
/// `finish`).
pub struct ArchiveFile {
    sink: ArchiveSink,
    path: PathBuf,
    compress: CompressOptions,
    /// A docker-loadable archive: how its one image is chosen and named.
    docker: Option<super::super::docker_export::DockerExport>,
    image: Mutex<Option<Descriptor>>,
}

impl ArchiveFile {
    /// An archive to be written to `path`, compressed as its name says (`.tar.gz`,
    /// `.tar.zst`, else none, as `oix export` decides); docker-loadable when `docker`
    /// is given. Refused at once (usage error) when `path` is a directory or its
    /// directory does not exist, before anything is copied.
    pub fn create(
        path: &Path,
        docker: Option<super::super::docker_export::DockerExport>,
    ) -> Result<ArchiveFile> {
        let dir = parent_dir(path);
        let shown = path.display();
        if path.is_dir() {
            return Err(
                Error::usage(format!("{shown} is a directory, not an archive file"))
                    .with_hint("name a file to write, e.g. DIR/image.tar"),
            );
        }
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "{shown}: directory {} does not exist",
                dir.display()
            ))
            .with_hint("create the directory first"));
        }
        let compression = crate::compress::Compression::from_file_name(&path.to_string_lossy())
            .unwrap_or(crate::compress::Compression::None);
        Ok(ArchiveFile {
            sink: ArchiveSink::new(shown.to_string(), dir),
            path: path.to_path_buf(),
            compress: CompressOptions::new(compression),
            docker,
            image: Mutex::new(None),
        })
    }

    /// The file this archive is written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is a docker-loadable archive.
    pub fn is_docker(&self) -> bool {
        self.docker.is_some()
    }

    /// A docker-archive: `--platform` chooses the image single-image consumers get
    /// (instead of subsetting), as in `oix export --format docker-archive`.
    pub fn choose_platform(&mut self, p: crate::platform::PlatformSpec) {
        if let Some(d) = &mut self.docker {
            d.platform = Some(p);
        }
    }

    /// A docker-archive: choose and check the image of `root` (read from `src`) that
    /// `manifest.json` lists, before anything is copied (the rules of `oix export
    /// --format docker-archive`: [`super::super::docker_export::choose_image`]).
    pub fn prepare(&self, src: &dyn Source, root: &Descriptor) -> Result<()> {
        if let Some(dx) = &self.docker {
            let image = super::super::docker_export::choose_image(src, src, root, dx)?;
            *self.image.lock().expect("not poisoned") = Some(image);
        }
        Ok(())
    }

    /// Write the file (see [`write_atomically`]); what the sink holds must be complete.
    pub fn finish(self) -> Result<Written> {
        let ArchiveFile {
            sink,
            path,
            compress,
            docker,
            image,
        } = self;
        if docker.is_some() {
            let entries = sink.entries.lock().expect("not poisoned").len();
            if entries != 1 {
                return Err(Error::usage(format!(
                    "a docker-archive holds one image; {entries} were named"
                )));
            }
            let Some(manifest) = image.into_inner().expect("not poisoned") else {
                return Err(Error::failure(
                    "a docker-archive's image was not chosen before the copy",
                ));
            };
            let name = docker.as_ref().and_then(|d| d.name.as_ref());
            sink.add_docker_image(DockerImage {
                manifest,
                repo_tags: name.iter().map(|n| n.repo_tag.clone()).collect(),
            });
        }
        write_atomically(&path, |w, _| sink.finish(w, &compress))
    }
}

impl Source for ArchiveFile {
    fn describe(&self) -> String {
        Source::describe(&self.sink)
    }
    fn contains(&self, digest: &Digest) -> Result<bool> {
        self.sink.contains(digest)
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        Source::open(&self.sink, desc)
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        self.sink.read_small(desc)
    }
}

impl Sink for ArchiveFile {
    fn describe(&self) -> String {
        Sink::describe(&self.sink)
    }
    fn has(&self, desc: &Descriptor) -> Result<bool> {
        self.sink.has(desc)
    }
    fn put_blob(&self, desc: &Descriptor, reader: &mut dyn Read) -> Result<()> {
        self.sink.put_blob(desc, reader)
    }
    fn put_manifest(&self, desc: &Descriptor, bytes: &[u8]) -> Result<()> {
        self.sink.put_manifest(desc, bytes)
    }
    fn transfer(&self, src: &dyn Source, desc: &Descriptor) -> Result<Transfer> {
        self.sink.transfer(src, desc)
    }
}

/// Naming is the archive's index.json; a docker-archive named `REPO:TAG` lists its entry
/// as `oix export --name` does ([`super::super::docker_export::name_entry`]).
impl Names for ArchiveFile {
    fn list_names(&self) -> Result<Vec<String>> {
        self.sink.list_names()
    }
    fn resolve_name(&self, name: &str) -> Result<Option<Descriptor>> {
        self.sink.resolve_name(name)
    }
    fn set_names(&self, names: &[String], desc: &Descriptor) -> Result<()> {
        match self.docker.as_ref().and_then(|d| d.name.as_ref()) {
            Some(n) => {
                self.sink.remove_names(std::slice::from_ref(&n.tag))?;
                let mut d = desc.clone();
                d.annotations.remove(annotation::REF_NAME);
                self.sink
                    .add_entry(&super::super::docker_export::name_entry(&d, Some(n)));
                Ok(())
            }
            None => self.sink.set_names(names, desc),
        }
    }
    fn remove_names(&self, names: &[String]) -> Result<()> {
        self.sink.remove_names(names)
    }
}
