//! A fault-injecting HTTP/1.1 TCP proxy (std::net + threads) for retry tests.
//!
//! It parses each request head from the client (to know methods and body lengths) and
//! pipes responses back untouched. Faults: answer `503` once to the first request with
//! a given method on a blob upload path; answer `429` + `Retry-After: 1` to the first
//! blob HEAD; drop the connection part-way through the first (or every) request body
//! longer than a threshold; cut the first response stream longer than a threshold.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Faults {
    /// Answer 503 (Retry-After: 0) to the first request with this method on `/blobs/uploads/`.
    pub fail_503_once: Option<&'static str>,
    /// Drop the connection after forwarding half of a request body longer than this.
    pub drop_body_over: Option<u64>,
    /// Apply `drop_body_over` to every such request, not only the first.
    pub drop_always: bool,
    /// Cut the first connection whose responses exceed this many bytes, at that point.
    pub drop_response_after: Option<u64>,
    /// Answer `429 Too Many Requests` with `Retry-After: 1` to the first HEAD of a blob.
    pub throttle_first_head: bool,
}

#[derive(Default)]
pub struct Counters {
    pub served_503: AtomicU64,
    pub dropped: AtomicU64,
    pub requests: AtomicU64,
    pub dropped_responses: AtomicU64,
    pub served_429: AtomicU64,
    throttle_used: AtomicBool,
    drop_used: AtomicBool,
    fail_used: AtomicBool,
    resp_drop_used: AtomicBool,
}

pub struct FaultProxy {
    pub port: u16,
    pub counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(upstream_port: u16, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counters.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (c, f) = (c.clone(), faults.clone());
                        std::thread::spawn(move || {
                            let _ = handle(client, upstream_port, &f, &c);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        FaultProxy {
            port,
            counters,
            stop,
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn handle(client: TcpStream, upstream_port: u16, f: &Faults, c: &Arc<Counters>) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    let mut up_w = upstream.try_clone()?;
    let mut back_r = upstream.try_clone()?;
    let mut back_w = client.try_clone()?;
    let (limit, counters) = (f.drop_response_after, c.clone());
    std::thread::spawn(move || {
        let mut sent = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match back_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(l) = limit {
                if sent + n as u64 > l && !counters.resp_drop_used.swap(true, Ordering::SeqCst) {
                    let keep = (l - sent.min(l)) as usize;
                    let _ = back_w.write_all(&buf[..keep]);
                    counters.dropped_responses.fetch_add(1, Ordering::Relaxed);
                    let _ = back_w.shutdown(Shutdown::Both);
                    let _ = back_r.shutdown(Shutdown::Both);
                    return;
                }
            }
            if back_w.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n as u64;
        }
        let _ = back_w.shutdown(Shutdown::Write);
    });
    let mut reader = BufReader::new(client.try_clone()?);
    let kill = |c: &TcpStream| {
        let _ = c.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
    };
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                let _ = up_w.shutdown(Shutdown::Write);
                return Ok(());
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" || line == b"\n" {
                break;
            }
        }
        c.requests.fetch_add(1, Ordering::Relaxed);
        let text = String::from_utf8_lossy(&head).to_string();
        let mut first = text.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        let len: u64 = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        if let Some(m) = f.fail_503_once {
            if method == m
                && path.contains("/blobs/uploads/")
                && !c.fail_used.swap(true, Ordering::SeqCst)
            {
                c.served_503.fetch_add(1, Ordering::Relaxed);
                let mut w = client.try_clone()?;
                let _ = w.write_all(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                // Swallow the body so the client sees the answer, then close.
                let _ = io::copy(&mut (&mut reader).take(len), &mut io::sink());
                kill(&client);
                return Ok(());
            }
        }
        if f.throttle_first_head
            && method == "HEAD"
            && path.contains("/blobs/")
            && !c.throttle_used.swap(true, Ordering::SeqCst)
        {
            c.served_429.fetch_add(1, Ordering::Relaxed);
            let mut w = client.try_clone()?;
            let _ = w.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            kill(&client);
            return Ok(());
        }
        up_w.write_all(&head)?;
        if let Some(limit) = f.drop_body_over {
            if len > limit && (f.drop_always || !c.drop_used.swap(true, Ordering::SeqCst)) {
                io::copy(&mut (&mut reader).take(len / 2), &mut up_w)?;
                up_w.flush()?;
                std::thread::sleep(Duration::from_millis(50));
                c.dropped.fetch_add(1, Ordering::Relaxed);
                kill(&client);
                return Ok(());
            }
        }
        io::copy(&mut (&mut reader).take(len), &mut up_w)?;
    }
}
