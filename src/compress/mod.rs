//! Layer and archive compression: gzip, zstd or none on the way out; gzip, zstd, xz or
//! none (detected by magic bytes) on the way in.
//!
//! Output bytes depend only on the input, the format and the level, never on the number
//! of threads, so builds and exports are reproducible on any machine:
//! - gzip is compressed in parallel, pigz style: the input is cut into fixed 512 KiB
//!   blocks, each deflated as a task on the pool of `jobs` threads ([`crate::pool`])
//!   with the previous 32 KiB as its dictionary and ended with a sync flush; the blocks
//!   are concatenated in order, followed by an empty final block and the gzip trailer
//!   (CRC-32 combined from the per-block CRCs).
//! - zstd always runs in libzstd's multithreaded mode (at least one worker) with a fixed
//!   job size; its output is the same for any worker count (single-threaded mode would
//!   differ). Its workers are libzstd's own threads, not the pool's.
//!
//! Memory stays bounded: at most `4 × jobs + 4` gzip blocks (512 KiB each) are in flight.
//!
//! Decompression of untrusted input goes through [`BombGuard`], which stops a stream
//! whose output outgrows its input by more than a ratio, or a total size.
//!
//! # Files
//! This file chooses and starts an encoder ([`Compression`], [`CompressOptions`],
//! [`Encoder`]); `pipeline` overlaps producing and compressing ([`pipelined`]); `gzip`
//! holds the parallel gzip writer ([`ParGzip`]); `decompress` reads (format detection,
//! [`BombGuard`]).

mod decompress;
mod gzip;
mod pipeline;

pub use decompress::*;
pub use gzip::*;
pub use pipeline::*;

use crate::error::{Error, Result};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn parse(s: &str) -> Result<Compression> {
        match s {
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            "none" | "tar" => Ok(Compression::None),
            _ => Err(Error::usage(format!(
                "unknown compression {s:?}; choose gzip, zstd or none"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The OCI layer media type for a tar compressed this way.
    pub fn layer_media_type(self) -> &'static str {
        use crate::model::media;
        match self {
            Compression::None => media::OCI_LAYER_TAR,
            Compression::Gzip => media::OCI_LAYER_GZIP,
            Compression::Zstd => media::OCI_LAYER_ZSTD,
        }
    }

    /// The level used when none is given. gzip's is 4, chosen by measurement
    /// (`bench/build.sh`): on /usr/share, /usr/bin and /usr/include, level 4 is the
    /// fastest zlib-rs level whose layer is no larger than `umoci insert`'s (1.3–1.8%
    /// smaller); level 3 is 2.5% larger than umoci's on source text (/usr/include), and
    /// level 6 costs ~30% more CPU for a layer ~1.2% smaller than level 4's.
    pub fn default_level(self) -> i32 {
        match self {
            Compression::None => 0,
            Compression::Gzip => GZIP_DEFAULT_LEVEL,
            Compression::Zstd => 3,
        }
    }

    /// Compression implied by a file name (`.tar.gz`, `.tgz`, `.tar.zst`, `.tar`).
    pub fn from_file_name(name: &str) -> Option<Compression> {
        let n = name.to_ascii_lowercase();
        if n.ends_with(".gz") || n.ends_with(".tgz") {
            Some(Compression::Gzip)
        } else if n.ends_with(".zst") || n.ends_with(".tzst") {
            Some(Compression::Zstd)
        } else if n.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }
}

/// How to compress: format, level (`None` = the format's default) and worker threads.
#[derive(Debug, Clone, Copy)]
pub struct CompressOptions {
    pub compression: Compression,
    pub level: Option<i32>,
    pub jobs: usize,
}

impl CompressOptions {
    pub fn new(compression: Compression) -> CompressOptions {
        CompressOptions {
            compression,
            level: None,
            jobs: default_jobs(),
        }
    }

    /// The effective level, checked against the format's range.
    pub fn level(&self) -> Result<i32> {
        let level = self
            .level
            .unwrap_or_else(|| self.compression.default_level());
        let (lo, hi) = match self.compression {
            Compression::None => (0, 0),
            Compression::Gzip => (0, 9),
            Compression::Zstd => (1, 19),
        };
        if level < lo || level > hi {
            return Err(Error::usage(format!(
                "--level {level} is out of range for {}: use {lo}..={hi}",
                self.compression.name()
            )));
        }
        Ok(level)
    }
}

/// Worker threads for compression: the machine's cores.
pub fn default_jobs() -> usize {
    crate::pool::default_jobs()
}

/// A compressing writer; [`Encoder::finish`] flushes the trailer and returns the inner writer.
pub enum Encoder<W: Write> {
    Plain(W),
    Gzip(ParGzip<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    pub fn new(inner: W, opts: &CompressOptions) -> Result<Encoder<W>> {
        let level = opts.level()?;
        let jobs = opts.jobs.max(1);
        Ok(match opts.compression {
            Compression::None => Encoder::Plain(inner),
            Compression::Gzip => Encoder::Gzip(
                ParGzip::new(inner, level as u32, jobs)
                    .map_err(|e| Error::failure(format!("starting gzip: {e}")))?,
            ),
            Compression::Zstd => {
                let zerr = |e: io::Error| Error::failure(format!("starting zstd: {e}"));
                let mut enc = zstd::stream::write::Encoder::new(inner, level).map_err(zerr)?;
                // Pinned to multithreaded mode: identical bytes for any worker count.
                enc.multithread(jobs as u32).map_err(zerr)?;
                enc.include_checksum(true).map_err(zerr)?;
                // 4 MiB jobs instead of libzstd's 8 MiB default at level 3: RSS 57 MB
                // instead of 95 MB on 2 cores, output 0.5% larger. Pinned, since the job
                // size shapes the bytes.
                enc.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB_SIZE))
                    .map_err(zerr)?;
                Encoder::Zstd(enc)
            }
        })
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Encoder::Gzip(g) => g.finish(),
            Encoder::Zstd(z) => z.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(g) => g.write(buf),
            Encoder::Zstd(z) => z.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            // Flushing mid-stream would change the bytes; blocks go out as they fill.
            Encoder::Gzip(_) | Encoder::Zstd(_) => Ok(()),
        }
    }
}

/// See [`Compression::default_level`].
pub const GZIP_DEFAULT_LEVEL: i32 = 4;
const ZSTD_JOB_SIZE: u32 = 4 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        let mut x: u32 = 12345;
        while v.len() < n {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            // Text-like data with repeats, so the dictionary matters.
            let word = ["alpha ", "beta ", "gamma\n", "delta ", "epsilon "][(x >> 16) as usize % 5];
            v.extend_from_slice(word.as_bytes());
            if x.is_multiple_of(7) {
                v.push((x >> 8) as u8);
            }
        }
        v.truncate(n);
        v
    }

    fn compress(data: &[u8], c: Compression, jobs: usize, chunk: usize) -> Vec<u8> {
        let mut o = CompressOptions::new(c);
        o.jobs = jobs;
        let mut e = Encoder::new(Vec::new(), &o).unwrap();
        for part in data.chunks(chunk.max(1)) {
            e.write_all(part).unwrap();
        }
        e.finish().unwrap()
    }

    #[test]
    fn gzip_is_valid_and_independent_of_threads_and_write_sizes() {
        for n in [
            0,
            1,
            GZ_BLOCK - 1,
            GZ_BLOCK,
            GZ_BLOCK + 1,
            3 * GZ_BLOCK + 777,
        ] {
            let data = sample(n);
            let a = compress(&data, Compression::Gzip, 1, 4096);
            for jobs in [2, 3, 4] {
                let b = compress(&data, Compression::Gzip, jobs, 100_000);
                assert_eq!(a, b, "n={n} jobs={jobs}");
            }
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&a[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, data, "n={n}");
        }
    }

    /// Text after a run of zeros, the shape that exposed compressor-state leaks between
    /// blocks (see `deflate_block`): blocks compressed in any order match in-order ones.
    #[test]
    fn gzip_blocks_do_not_depend_on_what_was_compressed_before() {
        let mut data = vec![0u8; 13824];
        for i in 0..200_000u32 {
            data.extend_from_slice(format!("line {i} of a largish text file\n").as_bytes());
        }
        let blocks: Vec<&[u8]> = data.chunks(GZ_BLOCK).collect();
        let dict = |i: usize| match i {
            0 => &[][..],
            _ => &blocks[i - 1][GZ_BLOCK - GZ_DICT..],
        };
        let in_order: Vec<Vec<u8>> = (0..blocks.len())
            .map(|i| deflate_block(6, blocks[i], dict(i)).unwrap())
            .collect();
        for k in 0..blocks.len() {
            deflate_block(6, blocks[k], dict(k)).unwrap();
            let t = (k + 2) % blocks.len();
            assert_eq!(deflate_block(6, blocks[t], dict(t)).unwrap(), in_order[t]);
        }
        let reference = compress(&data, Compression::Gzip, 1, 1 << 16);
        for jobs in [2, 3, 5] {
            assert_eq!(
                compress(&data, Compression::Gzip, jobs, 77_777),
                reference,
                "jobs={jobs}"
            );
        }
    }

    /// The blocks are deflated as tasks on the shared pool (issue 13): the bytes are the
    /// same for 1, 2 and 7 threads, also with more blocks than may be in flight (so the
    /// writer waits on the pool), and when the writer itself runs on a worker of the
    /// pool its blocks wait in (it helps run them instead of waiting forever).
    #[test]
    fn gzip_on_the_pool_is_the_same_for_1_2_and_7_jobs() {
        // 4 × 7 + 4 blocks may be in flight with 7 jobs; go well past that.
        let data = sample(40 * GZ_BLOCK + 12_345);
        let one = compress(&data, Compression::Gzip, 1, 1 << 20);
        for jobs in [2, 7] {
            assert_eq!(
                compress(&data, Compression::Gzip, jobs, 300_001),
                one,
                "jobs={jobs}"
            );
        }
        for jobs in [1, 2] {
            let on_worker =
                crate::pool::install(jobs, || compress(&data, Compression::Gzip, jobs, 1 << 20))
                    .unwrap();
            assert_eq!(on_worker, one, "written from a worker of the {jobs}-pool");
        }
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&one[..])
            .read_to_end(&mut out)
            .unwrap();
        assert!(out == data, "round trip");
    }

    #[test]
    fn pipelined_passes_bytes_and_errors_through() {
        let data = sample(3 << 20);
        let (n, out) = pipelined(Vec::new(), |w| {
            for part in data.chunks(1000) {
                w.write_all(part).unwrap();
            }
            Ok(7)
        })
        .unwrap();
        assert_eq!((n, out), (7, data.clone()));
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = pipelined(Full, |w| {
            for part in data.chunks(1000) {
                w.write_all(part)
                    .map_err(|e| Error::failure(e.to_string()))?;
            }
            Ok(())
        })
        .err()
        .expect("a failing sink fails the pipeline");
        assert!(err.message.contains("disk full"), "{}", err.message);
        let err = pipelined(Vec::new(), |_| -> Result<()> {
            Err(Error::usage("bad input"))
        })
        .unwrap_err();
        assert_eq!(err.message, "bad input");
    }

    #[test]
    fn zstd_is_independent_of_threads() {
        let data = sample(3 << 20);
        let a = compress(&data, Compression::Zstd, 1, 5000);
        let b = compress(&data, Compression::Zstd, 2, 1 << 20);
        assert_eq!(a, b);
        let d = decompress(&a[..], Limits::default()).unwrap();
        assert_eq!(d.format, Format::Zstd);
        let mut out = Vec::new();
        { d.reader }.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn concatenated_xz_streams_are_read_whole() {
        let mut all = Vec::new();
        for part in [&b"first stream\n"[..], b"second stream\n"] {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(part).unwrap();
            all.extend(e.finish().unwrap());
        }
        let d = decompress(&all[..], Limits::default()).unwrap();
        assert_eq!(d.format, Format::Xz);
        let mut out = Vec::new();
        { d.reader }.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"first stream\nsecond stream\n");
    }

    #[test]
    fn bomb_guard_stops_runaway_expansion() {
        let zeros = vec![0u8; 64 << 20];
        let gz = compress(&zeros, Compression::Gzip, 2, 1 << 20);
        let limits = Limits {
            max_ratio: 100,
            slack: 1 << 20,
            max_total: 1 << 40,
        };
        let d = decompress(&gz[..], limits).unwrap();
        let err = std::io::copy(&mut { d.reader }, &mut std::io::sink()).unwrap_err();
        assert!(err.to_string().contains("decompression bomb"), "{err}");
        assert!(d.tripped.get().is_some());
    }
}
