//! [`pipelined`]: a producer on this thread feeding a sink (usually a compressor) on a
//! second thread through a bounded chunk queue, so reading and compressing overlap.

use crate::error::{Error, Result};
use std::io::{self, Write};
use std::sync::mpsc;

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
