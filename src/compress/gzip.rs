//! [`ParGzip`]: the parallel, deterministic gzip writer (pigz style; see the module docs
//! of `compress`): fixed blocks deflated as tasks on the shared pool ([`crate::pool`])
//! with a preset dictionary, written in order.

use flate2::{Compress, Crc, FlushCompress};
use rayon::ThreadPool;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;

pub(super) const GZ_BLOCK: usize = 512 * 1024;
pub(super) const GZ_DICT: usize = 32 * 1024;
/// gzip header: no name, mtime 0, no extra flags, OS "unknown" (host-independent).
const GZ_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

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
    /// The pool the blocks are deflated on; each task sends its block back on `done`.
    pool: Arc<ThreadPool>,
    level: u32,
    done: mpsc::Sender<Done>,
    results: mpsc::Receiver<Done>,
    in_flight: usize,
    max_in_flight: usize,
    crc: Crc,
    spare: Vec<Vec<u8>>,
}

impl<W: Write> ParGzip<W> {
    pub fn new(mut inner: W, level: u32, jobs: usize) -> io::Result<ParGzip<W>> {
        let pool = crate::pool::get(jobs).map_err(|e| io::Error::other(e.message))?;
        inner.write_all(&GZ_HEADER)?;
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        Ok(ParGzip {
            inner: Some(inner),
            buf: Vec::with_capacity(GZ_BLOCK),
            dict: Vec::new(),
            next_seq: 0,
            next_write: 0,
            pending: BTreeMap::new(),
            pool,
            level,
            done: done_tx,
            results: done_rx,
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
        let (seq, level, done) = (self.next_seq, self.level, self.done.clone());
        self.pool.spawn(move || {
            let mut crc = Crc::new();
            crc.update(&data);
            // A panic would abort the process from a pool task: make it this block's error.
            let out = catch_unwind(AssertUnwindSafe(|| deflate_block(level, &data, &dict)))
                .unwrap_or_else(|_| Err(io::Error::other("compressing a gzip block panicked")));
            // The writer is gone (an error, or dropped): nobody wants the block.
            let _ = done.send(Done {
                seq,
                out,
                crc,
                data,
            });
        });
        self.next_seq += 1;
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
        let d = if self.pool.current_thread_index().is_some() {
            // This thread is a worker of the pool the blocks wait in: run them rather
            // than sleep (with one thread, sleeping would wait forever).
            loop {
                match self.results.try_recv() {
                    Ok(d) => break d,
                    Err(mpsc::TryRecvError::Empty) => {
                        if rayon::yield_now() != Some(rayon::Yield::Executed) {
                            std::thread::yield_now();
                        }
                    }
                    Err(mpsc::TryRecvError::Disconnected) => {
                        return Err(io::Error::other("a gzip block was lost"))
                    }
                }
            }
        } else {
            self.results
                .recv()
                .map_err(|_| io::Error::other("a gzip block was lost"))?
        };
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
        self.inner
            .take()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
    }

    fn out(&mut self) -> io::Result<&mut W> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
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

/// Deflate one block with a preset dictionary, ending in a sync flush (byte aligned,
/// not final), so blocks can be concatenated.
///
/// A fresh compressor per block, on purpose: a zlib-rs compressor reused through
/// `reset()` + `set_dictionary()` can emit different (valid) bytes for the same block
/// depending on what it compressed before, which would make the output depend on how
/// blocks were spread over threads. Measured here: a history of block 8 changed block 10
/// of a 6.9 MB tar.
pub(super) fn deflate_block(level: u32, data: &[u8], dict: &[u8]) -> io::Result<Vec<u8>> {
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
