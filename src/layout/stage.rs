//! Blobs from other layouts: verify, stage (hard link, reflink or copy) and commit, and
//! the presence check writers run before they skip a blob.

use super::{Layout, Transfer, BLOB_MODE, TEMP_PREFIX};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Kind, Result};
use crate::model::Descriptor;
use crate::verify::{self, Expect, VerifyingReader};
use std::fs::{self, File};
use std::io::{self, Seek};
use std::path::Path;

/// What [`Layout::stage_blob`] made of a blob from another layout.
#[derive(Debug)]
pub enum Staged {
    /// Intact here already.
    Present,
    Pending(Pending),
}

/// A verified blob in a temp file of the layout (a hard link or a sealed copy), not yet
/// visible; dropping it removes the temp file.
#[derive(Debug)]
pub struct Pending {
    tmp: tempfile::TempPath,
    digest: Digest,
    size: u64,
    replace: bool,
    how: Transfer,
}

/// What [`Layout::check_present`] found under a blob's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Absent,
    /// The blob is there with its size, and its content hashes to its name (or it
    /// carries oix's seal).
    Intact,
    /// A file is there but is not the content (why, naming the file): writers replace it.
    Damaged(String),
}

impl Layout {
    /// Bring the blob `desc` from another layout: [`Layout::stage_blob`], then
    /// [`Layout::commit_staged`].
    pub fn import_blob(&self, src: &Layout, desc: &Descriptor) -> Result<Transfer> {
        match self.stage_blob(src, desc)? {
            Staged::Present => Ok(Transfer::Present),
            Staged::Pending(p) => self.commit_staged(p),
        }
    }

    /// Verify the blob `desc` of another layout and stage it in a temp file of this
    /// layout, not yet visible; [`Layout::commit_staged`] renames it into place. A copy
    /// stages every blob before it commits any, so a corrupt source changes nothing here.
    /// Nothing from the source is trusted blindly (unless this handle was told so with
    /// [`Layout::trusting_sources`]):
    /// - the source file's size is always checked, and its content is hashed once, from
    ///   the open file, before anything is staged;
    /// - a hard link is made only when it cannot be used to change this layout's content
    ///   later: the source inode belongs to this process's user and is not writable by
    ///   group or others (and is still the inode that was hashed when the link lands);
    /// - otherwise the blob is reflinked (`FICLONE`, where the filesystem offers it) or
    ///   copied into a temp file, verified and made read-only (0444).
    ///
    /// A blob already here is kept only when [`Layout::check_present`] finds it intact;
    /// a wrong one is replaced by the verified copy. On a digest mismatch the error names
    /// the source file with both digests.
    pub fn stage_blob(&self, src: &Layout, desc: &Descriptor) -> Result<Staged> {
        let digest = desc.digest()?;
        let size = desc.size()?;
        // The fence first: a blob found present must still be here when it is referenced.
        self.enter_writer()?;
        let replace = match self.check_present(&digest, size)? {
            Presence::Intact => return Ok(Staged::Present),
            Presence::Absent => false,
            Presence::Damaged(_) => true,
        };
        let pending = |tmp: tempfile::TempPath, how: Transfer| {
            Ok(Staged::Pending(Pending {
                tmp,
                digest: digest.clone(),
                size,
                replace,
                how,
            }))
        };
        let src_path = src.blob_path(&digest);
        let mut src_file = src.open_blob(&digest)?;
        let src_meta = src_file.metadata().at("reading", &src_path)?;
        if src_meta.len() != size {
            return Err(Error::corrupt(format!(
                "blob {digest} in {} is {} bytes, the descriptor says {size} ({})",
                src.root.display(),
                src_meta.len(),
                src_path.display()
            ))
            .with_hint(format!(
                "the source layout is corrupt; run `oix fsck {}`",
                src.root.display()
            )));
        }
        // A digest oix cannot compute (fsck warns about those) is size-checked only.
        let mut expect = Expect::blob(&digest, size)
            .named(format!(
                "blob {digest} in {} ({})",
                src.root.display(),
                src_path.display()
            ))
            .hint(format!(
                "the source layout is corrupt or was modified (nothing was written to {}); run `oix fsck {}`",
                self.root.display(),
                src.root.display()
            ));
        if self.trust_sources {
            expect = expect.sizes_only();
        }
        let verify = expect.hash && digest.is_verifiable();
        let check = |r: &mut File, path: &Path| -> Result<()> {
            VerifyingReader::new(r, expect.clone())
                .finish()
                .map_err(|e| verify::from_io(e, |e| Error::io("reading", path, e)))?;
            Ok(())
        };
        if linkable(&src_meta) {
            if verify {
                check(&mut src_file, &src_path)?;
            }
            let canon = fs::canonicalize(&src_path).at("resolving", &src_path)?;
            if let Some(tmp) = self.link_verified(&canon, &src_meta)? {
                return pending(tmp, Transfer::HardLink);
            }
        }
        // Not linkable (or another filesystem): a private copy, verified before it is
        // staged. A reflink snapshots the source first, so the bytes hashed are the
        // bytes kept; the byte copy hashes while it writes. Each reads the content once.
        // A linkable source was hashed above and then could not be linked (another
        // filesystem): read it again from the start.
        src_file
            .seek(io::SeekFrom::Start(0))
            .at("reading", &src_path)?;
        let tmp = self.temp_file()?;
        if rustix::fs::ioctl_ficlone(tmp.as_file(), &src_file).is_ok() {
            if verify {
                let mut clone = File::open(tmp.path()).at("reading", tmp.path())?;
                check(&mut clone, tmp.path())?;
            }
            return pending(self.seal_temp(tmp)?, Transfer::Copy);
        }
        let tmp_path = tmp.path().to_path_buf();
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp);
        io::copy(&mut VerifyingReader::new(&mut src_file, expect), &mut w).map_err(|e| {
            verify::from_io(e, |e| {
                if crate::error::is_no_space(&e) {
                    Error::write(&tmp_path, e)
                } else {
                    Error::new(Kind::Io, format!("copying {}: {e}", src_path.display()))
                }
            })
        })?;
        let tmp = w
            .into_inner()
            .map_err(|e| Error::write(&tmp_path, e.into_error()))?;
        pending(self.seal_temp(tmp)?, Transfer::Copy)
    }

    /// Make a staged blob visible (see [`Layout::stage_blob`]).
    pub fn commit_staged(&self, p: Pending) -> Result<Transfer> {
        self.place(p.tmp, &p.digest, p.size, p.replace)?;
        Ok(p.how)
    }

    /// Hard-link `src` (whose metadata, taken from the file that was verified, is
    /// `verified`) to a temp name in this layout, if it is still the verified inode.
    /// `None`: linking is not possible here (another filesystem, or the source was
    /// swapped), copy instead.
    fn link_verified(
        &self,
        src: &Path,
        verified: &fs::Metadata,
    ) -> Result<Option<tempfile::TempPath>> {
        use std::os::unix::fs::MetadataExt;
        let linked = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .make_in(&self.root, |p| fs::hard_link(src, p));
        let Ok(tmp) = linked else {
            return Ok(None);
        };
        let tmp = tmp.into_temp_path();
        let meta = fs::symlink_metadata(&tmp).at("reading", &tmp)?;
        if meta.dev() != verified.dev() || meta.ino() != verified.ino() {
            return Ok(None); // dropping `tmp` removes the stray link
        }
        Ok(Some(tmp))
    }

    /// Whether blob `digest` is here and intact for a descriptor of `size` bytes: writers
    /// call this before they skip a blob, so a file that merely has the right name
    /// (truncated, replaced, another user's) is never taken for the content.
    /// The size is always checked. The content is hashed unless the file carries oix's
    /// seal: a regular file owned by this process's user with mode 0444, which oix gives
    /// only to blobs it verified while writing them (see the module docs); such a file
    /// can only have been changed by this user (or root), who can change index.json too.
    pub fn check_present(&self, digest: &Digest, size: u64) -> Result<Presence> {
        let path = self.blob_path(digest);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Presence::Absent),
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        let is_link = meta.file_type().is_symlink();
        let meta = if is_link {
            if let Err(e) = self.check_symlink_inside(&path) {
                return Ok(Presence::Damaged(e.message));
            }
            fs::metadata(&path).at("reading", &path)?
        } else {
            meta
        };
        if !meta.is_file() {
            return Ok(Presence::Damaged(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        if meta.len() != size {
            return Ok(Presence::Damaged(format!(
                "{} is {} bytes, the descriptor says {size}",
                path.display(),
                meta.len()
            )));
        }
        // A link is never sealed: its target's seal says nothing about the link.
        if (!is_link && sealed(&meta)) || !digest.is_verifiable() {
            return Ok(Presence::Intact);
        }
        let f = File::open(&path).at("opening", &path)?;
        let expect = Expect::blob(digest, size).named(path.display().to_string());
        match VerifyingReader::new(f, expect).finish() {
            Ok(_) => Ok(Presence::Intact),
            Err(e) => match verify::mismatch_in(&e) {
                Some(m) => Ok(Presence::Damaged(m.to_string())),
                None => Err(Error::io("reading", &path, e)),
            },
        }
    }

    /// Trust the blobs of other layouts this handle copies from (`--trust-source`):
    /// sizes are still checked, content is not hashed. Links still need a safe owner and
    /// mode.
    pub fn trusting_sources(mut self, yes: bool) -> Layout {
        self.trust_sources = yes;
        self
    }
}

/// The effective user of this process.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A source blob may be hard-linked into a layout only when nobody but this user (and
/// root) can change the shared inode afterwards.
fn linkable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.is_file() && meta.uid() == euid() && meta.mode() & 0o022 == 0
}

/// oix's seal on a blob it verified and wrote: see [`Layout::check_present`].
fn sealed(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.file_type().is_file() && meta.uid() == euid() && meta.mode() & 0o7777 == BLOB_MODE
}
