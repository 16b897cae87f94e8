//! Content digests: strict parsing and streaming verification.
//!
//! A [`Digest`] can only be made by [`Digest::parse`] (or by hashing), which enforces the
//! image-spec grammar `algorithm ":" encoded` plus the per-algorithm encoding rules. Only a
//! parsed digest can be turned into a blob path, so a string such as
//! `sha256:../../etc/passwd` is refused before any path exists.

use crate::error::{Error, Result};
use sha2::Digest as _;
use std::fmt;
use std::str::FromStr;

/// A digest algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the algorithm oix writes.
    Sha256,
    /// SHA-512, verified when read.
    Sha512,
    /// A grammatical algorithm oix cannot verify (tolerated, reported as unverifiable).
    Other(String),
}

impl Algorithm {
    /// The algorithm as a digest spells it (`sha256`).
    pub fn as_str(&self) -> &str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Other(s) => s,
        }
    }
}

/// A content digest `algorithm:encoded`, parsed strictly (OCI image-spec grammar).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    encoded: String,
}

fn is_alg_component(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Digest {
    /// Parse and validate `alg:encoded`.
    pub fn parse(s: &str) -> Result<Digest> {
        let bad = |why: &str| {
            Error::failure(format!("invalid digest {s:?}: {why}"))
                .with_hint("a digest looks like sha256:<64 lowercase hex digits>")
        };
        if s.len() > 256 {
            return Err(bad("too long"));
        }
        let (alg, enc) = s.split_once(':').ok_or_else(|| bad("missing ':'"))?;
        // algorithm ::= component (separator component)*, separator ::= [+._-]
        if alg
            .split(['+', '.', '_', '-'])
            .any(|c| !is_alg_component(c))
        {
            return Err(bad("algorithm must match [a-z0-9]+([+._-][a-z0-9]+)*"));
        }
        if enc.is_empty()
            || !enc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'_' || b == b'-')
        {
            return Err(bad("encoded part must match [a-zA-Z0-9=_-]+"));
        }
        let algorithm = match alg {
            "sha256" => {
                if !is_lower_hex(enc, 64) {
                    return Err(bad("sha256 needs exactly 64 lowercase hex digits"));
                }
                Algorithm::Sha256
            }
            "sha512" => {
                if !is_lower_hex(enc, 128) {
                    return Err(bad("sha512 needs exactly 128 lowercase hex digits"));
                }
                Algorithm::Sha512
            }
            other => Algorithm::Other(other.to_string()),
        };
        Ok(Digest {
            algorithm,
            encoded: enc.to_string(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        let mut h = Hasher::sha256();
        h.update(bytes);
        h.finish()
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }
    /// The encoded (hex) part.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
    /// Whether oix can verify content against this digest.
    pub fn is_verifiable(&self) -> bool {
        !matches!(self.algorithm, Algorithm::Other(_))
    }
    /// A hasher for this digest's algorithm, if oix implements it.
    pub fn hasher(&self) -> Option<Hasher> {
        match self.algorithm {
            Algorithm::Sha256 => Some(Hasher::sha256()),
            Algorithm::Sha512 => Some(Hasher::Sha512(sha2::Sha512::new())),
            Algorithm::Other(_) => None,
        }
    }
    /// A short form for tables: `sha256:0123456789ab`.
    pub fn short(&self) -> String {
        let n = self.encoded.len().min(12);
        format!("{}:{}", self.algorithm.as_str(), &self.encoded[..n])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.encoded)
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

/// Incremental hashing for the algorithms oix can verify.
#[derive(Clone)]
pub enum Hasher {
    /// A SHA-256 state.
    Sha256(sha2::Sha256),
    /// A SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh SHA-256 hasher.
    pub fn sha256() -> Hasher {
        Hasher::Sha256(sha2::Sha256::new())
    }
    /// Hash more bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    /// The digest of everything hashed.
    pub fn finish(self) -> Digest {
        fn hex(bytes: &[u8]) -> String {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(bytes.len() * 2);
            for b in bytes {
                s.push(HEX[(b >> 4) as usize] as char);
                s.push(HEX[(b & 15) as usize] as char);
            }
            s
        }
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                encoded: hex(&h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                encoded: hex(&h.finalize()),
            },
        }
    }
}

/// A writer adapter that hashes and counts everything written through it.
pub struct HashingWriter<W> {
    /// The writer the bytes go on to.
    pub inner: W,
    hasher: Hasher,
    written: u64,
}

impl<W: std::io::Write> HashingWriter<W> {
    /// Hash with `hasher` everything written to `inner`.
    pub fn new(inner: W, hasher: Hasher) -> Self {
        HashingWriter {
            inner,
            hasher,
            written: 0,
        }
    }
    /// The inner writer, the digest and the number of bytes written.
    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.hasher.finish(), self.written)
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_valid_digests() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.algorithm(), &Algorithm::Sha256);
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(Digest::sha256_of(b""), d);
        let other = Digest::parse("blake3+x.y_z-w:AbC=_-").unwrap();
        assert!(!other.is_verifiable());
    }

    #[test]
    fn rejects_path_tricks_and_bad_encodings() {
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:/etc/passwd",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0",
            "sha512:e3b0",
            "SHA256:abc",
            "sha256",
            ":abc",
            "sha256:",
            "a..b:abc",
            "-a:abc",
            "a/b:abc",
            "x:a.b",
            "x:a/b",
            "x:..",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
