//! Blob writes: streaming into a temp file, verifying, sealing (0444, fsync) and the
//! no-clobber rename into `blobs/`.

use super::stage::Presence;
use super::{set_mode, sync_dir, Layout, BLOBS_DIR, BLOB_MODE, TEMP_PREFIX};
use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, IoContext, Kind, PathWriter, Result};
use crate::verify::{self, Expect, VerifyingReader};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

impl Layout {
    /// Stream `reader` into a new blob. With `expect`, the content must hash to that
    /// digest (and have that size); otherwise sha256 is computed. The blob becomes visible
    /// only after it verified; an existing blob is never replaced.
    pub fn write_blob(
        &self,
        reader: &mut dyn Read,
        expect: Option<(&Digest, u64)>,
    ) -> Result<(Digest, u64)> {
        self.enter_writer()?;
        let expect = match expect {
            Some((d, size)) => Some(
                Expect::blob(d, size)
                    .hint("the source is corrupt or was modified in transit")
                    .require_verifiable()?,
            ),
            None => None,
        };
        let tmp = self.temp_file()?;
        let path = tmp.path().to_path_buf();
        let mut w = io::BufWriter::with_capacity(1 << 20, PathWriter::new(tmp, &path));
        let failed = |e| verify::from_io(e, |e| Error::failure(format!("writing blob: {e}")));
        let (digest, size) = match expect {
            Some(expect) => {
                let mut r = VerifyingReader::new(reader, expect);
                io::copy(&mut r, &mut w).map_err(failed)?;
                let e = r.expect();
                (e.digest.clone(), r.seen())
            }
            None => {
                let mut hw = HashingWriter::new(&mut w, crate::digest::Hasher::sha256());
                io::copy(reader, &mut hw).map_err(failed)?;
                let (_, digest, size) = hw.finish();
                (digest, size)
            }
        };
        let tmp = w
            .into_inner()
            .map_err(|e| Error::write(&path, e.into_error()))?
            .into_inner();
        self.persist_blob(tmp, &digest, size, false)?;
        Ok((digest, size))
    }

    /// Write bytes oix created as a sha256 blob.
    pub fn write_blob_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let (d, _) = self.write_blob(&mut &bytes[..], None)?;
        Ok(d)
    }

    fn ensure_blob_dir(&self, digest: &Digest) -> Result<()> {
        self.check_blob_dirs(Some(digest.algorithm().as_str()))?;
        let dir = self.root.join(BLOBS_DIR).join(digest.algorithm().as_str());
        fs::create_dir_all(&dir).at("creating", &dir)
    }

    /// Refuse to write or delete blobs when `blobs/` (or `blobs/<alg>`) is a link: every
    /// write and every gc deletion would land outside the layout.
    pub fn check_blob_dirs(&self, alg: Option<&str>) -> Result<()> {
        let blobs = self.root.join(BLOBS_DIR);
        for dir in std::iter::once(blobs.clone()).chain(alg.map(|a| blobs.join(a))) {
            match fs::symlink_metadata(&dir) {
                Ok(m) if !m.is_dir() => {
                    return Err(Error::failure(format!(
                        "{} is not a directory (a link?); oix does not write or delete through it",
                        dir.display()
                    ))
                    .with_hint("a layout's blobs/ must be a directory inside the layout"))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A new temp file in the layout root (same filesystem as blobs/, so rename works).
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile> {
        self.materialize()?;
        tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.root)
            .at("creating a temp file in", &self.root)
    }

    /// A temp file for a blob the caller hashes while writing it (build, import), with
    /// this handle's writer fence held so gc leaves it alone. Finish with
    /// [`Layout::persist_hashed`].
    pub fn blob_temp(&self) -> Result<tempfile::NamedTempFile> {
        self.enter_writer()?;
        self.temp_file()
    }

    /// Make a temp file from [`Layout::blob_temp`] visible as blob `digest`. The caller
    /// computed `digest` and `size` over exactly the bytes it wrote (a hashing writer in
    /// the same pass); the file's length is checked against `size` before the rename,
    /// which never replaces an existing blob.
    pub fn persist_hashed(
        &self,
        tmp: tempfile::NamedTempFile,
        digest: &Digest,
        size: u64,
    ) -> Result<()> {
        let len = tmp.as_file().metadata().at("reading", tmp.path())?.len();
        if len != size {
            return Err(Error::new(
                Kind::Io,
                format!("blob {digest}: the temp file holds {len} bytes, {size} were hashed"),
            ));
        }
        self.persist_blob(tmp, digest, size, false)
    }

    /// Make a verified temp file blob `digest`, read-only (0444). An existing blob is
    /// never replaced unless it is damaged (`replace`, or found so here after a lost
    /// race): then the verified content takes its place by rename.
    fn persist_blob(
        &self,
        tmp: tempfile::NamedTempFile,
        digest: &Digest,
        size: u64,
        replace: bool,
    ) -> Result<()> {
        let tmp = self.seal_temp(tmp)?;
        self.place(tmp, digest, size, replace)
    }

    /// Give a verified temp file the blob mode and fsync it; it stays a temp file.
    pub(super) fn seal_temp(&self, tmp: tempfile::NamedTempFile) -> Result<tempfile::TempPath> {
        set_mode(tmp.as_file(), tmp.path(), BLOB_MODE)?;
        tmp.as_file().sync_all().at("syncing", tmp.path())?;
        Ok(tmp.into_temp_path())
    }

    /// Rename a sealed temp file to blob `digest` (see [`Layout::persist_blob`]).
    pub(super) fn place(
        &self,
        tmp: tempfile::TempPath,
        digest: &Digest,
        size: u64,
        replace: bool,
    ) -> Result<()> {
        self.ensure_blob_dir(digest)?;
        let dst = self.blob_path(digest);
        let result = if replace {
            tmp.persist(&dst)
        } else {
            tmp.persist_noclobber(&dst)
        };
        match result {
            Ok(()) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                // Someone else stored it first: keep theirs when it is the content.
                if let Presence::Damaged(_) = self.check_present(digest, size)? {
                    e.path
                        .persist(&dst)
                        .map_err(|e| replace_failed(&dst, e.error))?;
                }
            }
            Err(e) if replace => return Err(replace_failed(&dst, e.error)),
            Err(e) => return Err(Error::io("storing", &dst, e.error)),
        }
        sync_dir(dst.parent().unwrap_or(&self.root))
    }
}

fn replace_failed(dst: &Path, e: io::Error) -> Error {
    Error::new(
        Kind::Io,
        format!(
            "{} is not the blob its name says, and cannot be replaced: {e}",
            dst.display()
        ),
    )
    .with_hint("remove that file (it is not the content) and run the command again")
}
