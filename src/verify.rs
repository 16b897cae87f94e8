//! Verification of content against its descriptor, in one place.
//!
//! Every reader of content (a layout's blobs, a registry's manifests and blobs, an
//! archive's members, fsck) checks what it read with one of two tools:
//! - [`VerifyingReader`] wraps a stream: it hashes and counts what passes through (into
//!   the caller's buffer, without a copy of its own), refuses a byte past the expected
//!   size as soon as it arrives, and at the end of the stream checks size and digest;
//!   a mismatch is an [`io::Error`] carrying a [`Mismatched`], so it travels through
//!   `io::copy`, tar writers and compressors and comes out as a clear [`Error`]
//!   ([`from_io`]);
//! - [`verify`] checks a document that is in memory already.
//!
//! Both take an [`Expect`]: the digest, the size, what is read and where (for messages)
//! and a hint for the user. A digest whose algorithm oix cannot compute is checked for
//! size only ([`Expect::require_verifiable`] refuses it where that is not enough).

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use std::fmt;
use std::io::{self, Read};

/// What content must be: its digest and size, and how to name it in messages.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The digest the content must hash to.
    pub digest: Digest,
    /// The size the descriptor says (`None`: any size, as for a blob no descriptor names).
    pub size: Option<u64>,
    /// What is read and where, for messages: `blob sha256:… in ./src (path)`.
    pub what: String,
    /// What the user can do about a mismatch.
    pub hint: Option<String>,
    /// Hash the content (else sizes only: a trusted source, or an algorithm oix lacks).
    pub hash: bool,
}

impl Expect {
    /// `digest` of `size` bytes, named `blob <digest>` in messages.
    pub fn blob(digest: &Digest, size: u64) -> Expect {
        Expect::new(digest, Some(size))
    }
    /// `digest`, of `size` bytes when given, named `blob <digest>` in messages.
    pub fn new(digest: &Digest, size: Option<u64>) -> Expect {
        Expect {
            digest: digest.clone(),
            size,
            what: format!("blob {digest}"),
            hint: None,
            hash: true,
        }
    }
    /// Name the content differently in messages (what it is and where it was read).
    pub fn named(mut self, what: impl Into<String>) -> Expect {
        self.what = what.into();
        self
    }
    /// Say what to do about a mismatch.
    pub fn hint(mut self, hint: impl Into<String>) -> Expect {
        self.hint = Some(hint.into());
        self
    }
    /// Check sizes only (a source trusted with `--trust-source`).
    pub fn sizes_only(mut self) -> Expect {
        self.hash = false;
        self
    }
    /// Refuse a digest whose algorithm oix cannot compute (writers must not store what
    /// they cannot verify).
    pub fn require_verifiable(self) -> Result<Expect> {
        if self.hash && !self.digest.is_verifiable() {
            return Err(Error::failure(format!(
                "cannot verify {}: algorithm {} is not supported",
                self.digest,
                self.digest.algorithm().as_str()
            ))
            .with_hint("oix verifies sha256 and sha512 content"));
        }
        Ok(self)
    }
}

/// What was wrong with the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The content ended after `got` bytes.
    Short { got: u64 },
    /// The content goes on past the expected size (reading stopped one byte after it).
    Long,
    /// The content hashes to `got`.
    Digest { got: Digest },
}

/// A verification that failed: the expectation and what was found.
#[derive(Debug, Clone)]
pub struct Mismatched {
    pub expect: Box<Expect>,
    pub mismatch: Mismatch,
}

impl Mismatched {
    /// What was wrong, without naming the content: `hashes to sha256:…`.
    pub fn detail(&self) -> String {
        let want = self.expect.size.unwrap_or(0);
        match &self.mismatch {
            Mismatch::Short { got } => {
                format!("is {got} bytes, not the {want} bytes its descriptor says")
            }
            Mismatch::Long => format!("is larger than the {want} bytes its descriptor says"),
            Mismatch::Digest { got } => format!("hashes to {got}"),
        }
    }
}

/// `blob sha256:… in ./src (path) hashes to sha256:…`
impl fmt::Display for Mismatched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.expect.what, self.detail())
    }
}

impl std::error::Error for Mismatched {}

impl From<Mismatched> for Error {
    fn from(m: Mismatched) -> Error {
        let mut e = Error::corrupt(m.to_string());
        e.hint = m.expect.hint.clone();
        e.source = Some(Box::new(m));
        e
    }
}

impl Mismatched {
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// The [`Mismatched`] an I/O error carries (from a [`VerifyingReader`], maybe wrapped by
/// a reader or writer stack), if any.
pub fn mismatch_in(err: &io::Error) -> Option<&Mismatched> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = err.get_ref().map(|e| e as _);
    while let Some(e) = cur {
        if let Some(m) = e.downcast_ref::<Mismatched>() {
            return Some(m);
        }
        cur = match e.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|e| e as _),
            None => e.source(),
        };
    }
    None
}

/// `err` as an oix error: a content mismatch as [`Mismatched`] says it, a failed write
/// as [`Error::write`] says it, anything else as `otherwise` says it.
pub fn from_io(err: io::Error, otherwise: impl FnOnce(io::Error) -> Error) -> Error {
    if let Some(m) = mismatch_in(&err) {
        return m.clone().into();
    }
    Error::from_io(err, otherwise)
}

/// Check bytes in memory (a manifest, an index, a config) against `expect`.
pub fn verify(bytes: &[u8], expect: &Expect) -> Result<(), Mismatched> {
    let mut r = VerifyingReader::new(bytes, expect.clone());
    r.update(bytes);
    r.check()
}

/// Reads through `inner`, hashing and counting; see the module docs.
pub struct VerifyingReader<R> {
    inner: R,
    expect: Expect,
    hasher: Option<Hasher>,
    seen: u64,
    /// The end-of-content check, once made.
    outcome: Option<Result<(), Mismatched>>,
}

impl<R> VerifyingReader<R> {
    pub fn new(inner: R, expect: Expect) -> Self {
        let hasher = expect.digest.hasher().filter(|_| expect.hash);
        VerifyingReader {
            inner,
            expect,
            hasher,
            seen: 0,
            outcome: None,
        }
    }
    /// Bytes read so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
    /// The expectation this reader checks.
    pub fn expect(&self) -> &Expect {
        &self.expect
    }
    /// Whether the stream reached its end and checked out.
    pub fn is_verified(&self) -> bool {
        matches!(self.outcome, Some(Ok(())))
    }
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.hasher {
            h.update(data);
        }
        self.seen += data.len() as u64;
    }

    fn mismatched(&self, mismatch: Mismatch) -> Mismatched {
        Mismatched {
            expect: Box::new(self.expect.clone()),
            mismatch,
        }
    }

    /// The end-of-content check: size, then digest (made once, remembered).
    fn check(&mut self) -> Result<(), Mismatched> {
        if let Some(done) = &self.outcome {
            return done.clone();
        }
        let mismatch = match self.expect.size {
            Some(want) if self.seen > want => Some(Mismatch::Long),
            Some(want) if self.seen < want => Some(Mismatch::Short { got: self.seen }),
            _ => self
                .hasher
                .take()
                .map(Hasher::finish)
                .filter(|got| *got != self.expect.digest)
                .map(|got| Mismatch::Digest { got }),
        };
        let done = match mismatch {
            Some(m) => Err(self.mismatched(m)),
            None => Ok(()),
        };
        self.outcome = Some(done.clone());
        done
    }
}

impl<R: Read> VerifyingReader<R> {
    /// Read the rest of the content (hashing it, keeping none of it; at most one byte
    /// past the expected size) and check: to verify a file, or after a consumer that
    /// stops at the size it was told (a tar writer). Returns the bytes read in all.
    pub fn finish(&mut self) -> io::Result<u64> {
        if self.outcome.is_some() {
            return self.read(&mut []).map(|_| self.seen);
        }
        let mut rest = vec![0u8; 1 << 18];
        loop {
            match self.read(&mut rest) {
                Ok(0) => return Ok(self.seen),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(done) = &self.outcome {
            return done.clone().map(|()| 0).map_err(Mismatched::into_io);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Never more than one byte past the expected size: enough to know it is too long.
        let room = match self.expect.size {
            Some(want) => (want + 1).saturating_sub(self.seen).min(buf.len() as u64) as usize,
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..room])?;
        self.update(&buf[..n]);
        if n == 0 || self.expect.size.is_some_and(|want| self.seen > want) {
            self.check().map_err(Mismatched::into_io)?;
        }
        Ok(n)
    }
}

/// Read all of `r` (at most `expect.size` bytes, else the mismatch), verified.
pub fn read_all(r: impl Read, expect: Expect) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(expect.size.unwrap_or(0).min(1 << 22) as usize);
    VerifyingReader::new(r, expect).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(content: &[u8]) -> Expect {
        Expect::blob(&Digest::sha256_of(content), content.len() as u64)
    }

    fn read(content: &[u8], e: Expect) -> io::Result<Vec<u8>> {
        read_all(content, e)
    }

    #[test]
    fn good_content_passes_through() {
        assert_eq!(read(b"hello", expect(b"hello")).unwrap(), b"hello");
        assert!(verify(b"hello", &expect(b"hello")).is_ok());
        assert!(verify(b"", &expect(b"")).is_ok());
    }

    #[test]
    fn each_mismatch_is_named() {
        let cases: [(&[u8], Mismatch, &str); 3] = [
            (
                b"hell",
                Mismatch::Short { got: 4 },
                "is 4 bytes, not the 5 bytes its",
            ),
            (b"hello!", Mismatch::Long, "is larger than the 5 bytes its"),
            (
                b"HELLO",
                Mismatch::Digest {
                    got: Digest::sha256_of(b"HELLO"),
                },
                "hashes to sha256:",
            ),
        ];
        for (content, want, text) in cases {
            let e = expect(b"hello").named("blob X in ./src").hint("run fsck");
            let m = verify(content, &e).unwrap_err();
            assert_eq!(m.mismatch, want);
            let err = read(content, e.clone()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let err = from_io(err, |e| Error::failure(e.to_string()));
            assert!(
                err.message.starts_with("blob X in ./src "),
                "{}",
                err.message
            );
            assert!(err.message.contains(text), "{}", err.message);
            assert_eq!(err.hint.as_deref(), Some("run fsck"));
        }
    }

    #[test]
    fn finish_checks_what_a_consumer_left_unread() {
        let mut r = VerifyingReader::new(&b"hello"[..], expect(b"hello"));
        let mut five = [0u8; 5];
        r.read_exact(&mut five).unwrap();
        r.finish().unwrap();
        assert!(r.is_verified());
        let mut r = VerifyingReader::new(&b"hello!"[..], expect(b"hello"));
        r.read_exact(&mut five).unwrap();
        let err = r.finish().unwrap_err();
        assert_eq!(mismatch_in(&err).unwrap().mismatch, Mismatch::Long);
    }

    #[test]
    fn an_endless_stream_stops_one_byte_past_the_size() {
        let mut r = VerifyingReader::new(io::repeat(b'x'), expect(b"hello"));
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert_eq!(mismatch_in(&err).unwrap().mismatch, Mismatch::Long);
        assert_eq!(r.seen(), 6);
    }

    #[test]
    fn sizes_only_and_unknown_algorithms_check_the_size() {
        assert!(verify(b"HELLO", &expect(b"hello").sizes_only()).is_ok());
        assert!(verify(b"HELL", &expect(b"hello").sizes_only()).is_err());
        let other = Digest::parse("blake3:abc").unwrap();
        assert!(verify(b"any", &Expect::blob(&other, 3)).is_ok());
        assert!(Expect::blob(&other, 3).require_verifiable().is_err());
    }

    #[test]
    fn no_size_means_any_size() {
        let e = Expect::new(&Digest::sha256_of(b"hello"), None);
        assert!(verify(b"hello", &e).is_ok());
        assert!(matches!(
            verify(b"hello!", &e).unwrap_err().mismatch,
            Mismatch::Digest { .. }
        ));
    }
}
