//! Reading untrusted compressed streams: [`Format`] detection by magic bytes,
//! [`decompress`] for gzip/zstd/xz/plain, and the [`BombGuard`] that stops a stream
//! whose output outgrows its input by more than a ratio, or a total size.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// A compressed (or plain) stream format, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Gzip,
    Zstd,
    Xz,
}

impl Format {
    pub fn sniff(head: &[u8]) -> Format {
        if head.starts_with(&[0x1f, 0x8b]) {
            Format::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Format::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Format::Xz
        } else {
            Format::Plain
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "uncompressed",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Xz => "xz",
        }
    }
}

/// Bounds on decompressing untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Output may exceed `max_ratio` × input consumed, plus [`Limits::slack`], never.
    pub max_ratio: u64,
    /// Bytes of output tolerated regardless of the ratio (small inputs compress well).
    pub slack: u64,
    /// Total output bytes.
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ratio: 100,
            slack: 16 << 20,
            max_total: 1 << 40,
        }
    }
}

/// Counts the bytes read from the raw (compressed) input.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Stops a decompressed stream that outgrows [`Limits`]. The reason is kept in
/// [`BombGuard::tripped`] so a caller can report it even when a parser (tar) wraps the
/// I/O error in its own message.
pub struct BombGuard<R> {
    inner: R,
    input: Arc<AtomicU64>,
    output: u64,
    limits: Limits,
    check_ratio: bool,
    tripped: Arc<OnceLock<String>>,
}

impl<R: Read> Read for BombGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.output += n as u64;
        let input = self.input.load(Ordering::Relaxed);
        let why = if self.output > self.limits.max_total {
            Some(format!(
                "the stream expands beyond the limit of {} bytes",
                self.limits.max_total
            ))
        } else if self.check_ratio
            && self.output
                > input
                    .saturating_mul(self.limits.max_ratio)
                    .saturating_add(self.limits.slack)
        {
            Some(format!(
                "decompression bomb: {input} compressed bytes expanded to more than {} bytes (limit: {}x)",
                self.output, self.limits.max_ratio
            ))
        } else {
            None
        };
        if let Some(why) = why {
            let _ = self.tripped.set(why.clone());
            return Err(io::Error::other(why));
        }
        Ok(n)
    }
}

/// A reader of the decompressed content of `raw`, whose format is detected from its
/// first bytes, and a handle that says why the guard stopped it (if it did).
pub struct Decompressed<'a> {
    pub reader: Box<dyn Read + Send + 'a>,
    pub format: Format,
    pub tripped: Arc<OnceLock<String>>,
}

/// Detect the compression of `raw` and decompress it under `limits`. Concatenated gzip,
/// zstd and xz streams are all read (kiwi and pigz write several).
pub fn decompress<'a, R: Read + Send + 'a>(raw: R, limits: Limits) -> io::Result<Decompressed<'a>> {
    let count = Arc::new(AtomicU64::new(0));
    let mut br = io::BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: raw,
            count: Arc::clone(&count),
        },
    );
    let format = Format::sniff(br.fill_buf()?);
    let reader: Box<dyn Read + Send + 'a> = match format {
        Format::Plain => Box::new(br),
        Format::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
        Format::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(br)?),
        Format::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(br)),
    };
    let tripped = Arc::new(OnceLock::new());
    Ok(Decompressed {
        reader: Box::new(BombGuard {
            inner: reader,
            input: count,
            output: 0,
            limits,
            check_ratio: format != Format::Plain,
            tripped: Arc::clone(&tripped),
        }),
        format,
        tripped,
    })
}
