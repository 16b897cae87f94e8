//! Layer and archive compression: gzip, zstd or none on the way out; gzip, zstd, xz or
//! none (detected by magic bytes) on the way in.
//!
//! Output bytes depend only on the input, the format and the level, never on the number
//! of threads, so builds and exports are reproducible on any machine:
//! - gzip is compressed in parallel, pigz style: the input is cut into fixed 512 KiB
//!   blocks, each deflated by a worker with the previous 32 KiB as its dictionary and
//!   ended with a sync flush; the blocks are concatenated in order, followed by an empty
//!   final block and the gzip trailer (CRC-32 combined from the per-block CRCs).
//! - zstd always runs in libzstd's multithreaded mode (at least one worker) with a fixed
//!   job size; its output is the same for any worker count (single-threaded mode would
//!   differ).
//!
//! Memory stays bounded: at most `4 × jobs + 4` gzip blocks (512 KiB each) are in flight.
//!
//! Decompression of untrusted input goes through [`BombGuard`], which stops a stream
//! whose output outgrows its input by more than a ratio, or a total size.

use crate::error::{Error, Result};
use flate2::{Compress, Crc, FlushCompress};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

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
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
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

/// Run `produce` on this thread and hand what it writes, in 1 MiB chunks through a
/// bounded queue (8 chunks), to `sink` on a second thread. The producer (walking a tree,
/// reading files, writing tar headers) then never waits while the compressor waits for
/// its workers, and the compressor never waits while the producer is in a syscall: on
/// 2 cores this is what lets reading and compressing overlap. Returns the producer's
/// value and the sink.
pub fn pipelined<W, T>(sink: W, produce: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<(T, W)>
where
    W: Write + Send,
{
    const CHUNK: usize = 1 << 20;
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(8);
    std::thread::scope(|s| {
        let consumer = s.spawn(move || -> io::Result<W> {
            let mut sink = sink;
            for chunk in rx {
                sink.write_all(&chunk)?;
            }
            Ok(sink)
        });
        let mut w = ChunkSender {
            tx: Some(tx),
            buf: Vec::with_capacity(CHUNK),
            chunk: CHUNK,
        };
        let produced = produce(&mut w).and_then(|v| {
            w.send_buf()
                .map_err(|e| Error::failure(format!("writing: {e}")))?;
            Ok(v)
        });
        w.tx = None; // end of stream
        let consumed = consumer
            .join()
            .map_err(|_| Error::failure("the writer thread panicked"))?;
        match (produced, consumed) {
            (Ok(v), Ok(sink)) => Ok((v, sink)),
            // The writer's own error explains a producer that saw the queue close.
            (_, Err(e)) => Err(Error::from_io(e, |e| {
                Error::failure(format!("writing: {e}"))
            })),
            (Err(e), Ok(_)) => Err(e),
        }
    })
}

struct ChunkSender {
    tx: Option<mpsc::SyncSender<Vec<u8>>>,
    buf: Vec<u8>,
    chunk: usize,
}

impl ChunkSender {
    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(self.chunk));
        self.tx
            .as_ref()
            .ok_or_else(|| io::Error::other("stream already ended"))?
            .send(full)
            .map_err(|_| io::Error::other("the writer thread stopped"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.chunk - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == self.chunk {
            self.send_buf()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// See [`Compression::default_level`].
pub const GZIP_DEFAULT_LEVEL: i32 = 4;
const ZSTD_JOB_SIZE: u32 = 4 << 20;
const GZ_BLOCK: usize = 512 * 1024;
const GZ_DICT: usize = 32 * 1024;
/// gzip header: no name, mtime 0, no extra flags, OS "unknown" (host-independent).
const GZ_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

struct Job {
    seq: u64,
    data: Vec<u8>,
    dict: Vec<u8>,
}

struct Done {
    seq: u64,
    out: io::Result<Vec<u8>>,
    crc: Crc,
    data: Vec<u8>,
}

/// Parallel, deterministic gzip (see the module docs).
pub struct ParGzip<W: Write> {
    /// Always `Some` until [`ParGzip::finish`] hands it back.
    inner: Option<W>,
    buf: Vec<u8>,
    dict: Vec<u8>,
    next_seq: u64,
    next_write: u64,
    pending: BTreeMap<u64, Done>,
    jobs: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    in_flight: usize,
    max_in_flight: usize,
    crc: Crc,
    spare: Vec<Vec<u8>>,
}

impl<W: Write> ParGzip<W> {
    pub fn new(mut inner: W, level: u32, jobs: usize) -> io::Result<ParGzip<W>> {
        inner.write_all(&GZ_HEADER)?;
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut workers = Vec::new();
        for i in 0..jobs.max(1) {
            let rx = Arc::clone(&job_rx);
            let tx = done_tx.clone();
            let h = std::thread::Builder::new()
                .name(format!("oix-gzip-{i}"))
                .spawn(move || gzip_worker(rx, tx, level))?;
            workers.push(h);
        }
        Ok(ParGzip {
            inner: Some(inner),
            buf: Vec::with_capacity(GZ_BLOCK),
            dict: Vec::new(),
            next_seq: 0,
            next_write: 0,
            pending: BTreeMap::new(),
            jobs: Some(job_tx),
            results: done_rx,
            workers,
            in_flight: 0,
            max_in_flight: 4 * jobs.max(1) + 4,
            crc: Crc::new(),
            spare: Vec::new(),
        })
    }

    fn dispatch(&mut self) -> io::Result<()> {
        let next = self
            .spare
            .pop()
            .map(|mut v| {
                v.clear();
                v
            })
            .unwrap_or_else(|| Vec::with_capacity(GZ_BLOCK));
        let data = std::mem::replace(&mut self.buf, next);
        let tail = &data[data.len().saturating_sub(GZ_DICT)..];
        let dict = std::mem::replace(&mut self.dict, tail.to_vec());
        let job = Job {
            seq: self.next_seq,
            data,
            dict,
        };
        self.next_seq += 1;
        self.jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))?
            .send(job)
            .map_err(|_| io::Error::other("a gzip worker stopped"))?;
        self.in_flight += 1;
        while let Ok(d) = self.results.try_recv() {
            self.pending.insert(d.seq, d);
        }
        self.write_ready()?;
        while self.in_flight >= self.max_in_flight {
            self.wait_one()?;
        }
        Ok(())
    }

    fn wait_one(&mut self) -> io::Result<()> {
        let d = self
            .results
            .recv()
            .map_err(|_| io::Error::other("a gzip worker stopped"))?;
        self.pending.insert(d.seq, d);
        self.write_ready()
    }

    fn write_ready(&mut self) -> io::Result<()> {
        while let Some(d) = self.pending.remove(&self.next_write) {
            let out = d.out?;
            self.out()?.write_all(&out)?;
            self.crc.combine(&d.crc);
            if self.spare.len() < 4 {
                self.spare.push(d.data);
            }
            self.next_write += 1;
            self.in_flight -= 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() {
            self.dispatch()?;
        }
        while self.in_flight > 0 {
            self.wait_one()?;
        }
        // An empty final block (BFINAL, fixed Huffman, end-of-block), then the trailer.
        let trailer = [
            self.crc.sum().to_le_bytes(),
            self.crc.amount().to_le_bytes(),
        ];
        let w = self.out()?;
        w.write_all(&[0x03, 0x00])?;
        w.write_all(&trailer.concat())?;
        w.flush()?;
        self.stop_workers();
        self.inner
            .take()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
    }

    fn out(&mut self) -> io::Result<&mut W> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
    }

    fn stop_workers(&mut self) {
        self.jobs = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

impl<W: Write> Drop for ParGzip<W> {
    fn drop(&mut self) {
        self.stop_workers();
    }
}

impl<W: Write> Write for ParGzip<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let total = data.len();
        while !data.is_empty() {
            let room = GZ_BLOCK - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() == GZ_BLOCK {
                self.dispatch()?;
            }
        }
        Ok(total)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn gzip_worker(jobs: Arc<Mutex<mpsc::Receiver<Job>>>, done: mpsc::Sender<Done>, level: u32) {
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        let mut crc = Crc::new();
        crc.update(&job.data);
        let out = deflate_block(level, &job.data, &job.dict);
        if done
            .send(Done {
                seq: job.seq,
                out,
                crc,
                data: job.data,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Deflate one block with a preset dictionary, ending in a sync flush (byte aligned,
/// not final), so blocks can be concatenated.
///
/// A fresh compressor per block, on purpose: a zlib-rs compressor reused through
/// `reset()` + `set_dictionary()` can emit different (valid) bytes for the same block
/// depending on what it compressed before, which would make the output depend on how
/// blocks were spread over threads. Measured here: a history of block 8 changed block 10
/// of a 6.9 MB tar.
fn deflate_block(level: u32, data: &[u8], dict: &[u8]) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(flate2::Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 16 + 1024);
    let start = c.total_in();
    loop {
        let consumed = (c.total_in() - start) as usize;
        c.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
            .map_err(io::Error::other)?;
        let consumed = (c.total_in() - start) as usize;
        if consumed == data.len() && out.len() < out.capacity() {
            return Ok(out);
        }
        out.reserve(64 * 1024);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
