//! A fault-injecting HTTP/1.1 TCP proxy (std::net + threads) for retry tests.
//!
//! It parses each request head from the client (to know methods and body lengths) and
//! pipes responses back untouched. Faults: answer `503` once to the first request with
//! a given method on a blob upload path; answer `429` + `Retry-After: 1` to the first
//! blob HEAD; drop the connection part-way through the first (or every) request body
//! longer than a threshold; cut the first response stream longer than a threshold.
//!
//! Hostile answers (tests/hostile.rs): a manifest served under a `Docker-Content-Digest`
//! that is not its digest; manifest responses cut half-way through their body; a `500`
//! whose body never ends; blob GETs redirected to another host ([`CaptureServer`]), which
//! records what the client sends there; writes refused with `403 DENIED` and a chosen
//! message.
//!
//! Paging: distribution 2.8 sends every tag in one answer whatever `n` asks, so
//! `page_tags` makes the proxy a paginating front of the real registry: it reads the
//! whole tag list upstream and serves it `n` tags at a time, in order, after `last`,
//! with a `Link: <...>; rel="next"` header while more remain (distribution-spec
//! "Listing Tags").

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
    /// Serve every manifest GET/HEAD with a wrong `Docker-Content-Digest`.
    pub wrong_manifest_digest: bool,
    /// Cut every manifest GET response half-way through its body.
    pub cut_manifests: bool,
    /// Answer every manifest GET with a `500` whose body is this many bytes (streamed).
    pub error_body_bytes: Option<u64>,
    /// Answer every blob GET with a `307` to this base URL (`http://HOST:PORT`) + path.
    pub redirect_blobs_to: Option<String>,
    /// Never answer a blob GET: hold the connection open and silent (a stuck download).
    pub stall_blob_gets: bool,
    /// Drop the connection of the Nth PATCH (1-based) before any of its body reaches
    /// the registry.
    pub drop_nth_patch: Option<u64>,
    /// Rewrite the `Location` of every upload session the registry opens (POST) to this
    /// base URL (`http://HOST:PORT`) + path, as a misconfigured reverse proxy would.
    pub relocate_uploads_to: Option<String>,
    /// Answer every write (POST, PUT, PATCH) with `403` and a `DENIED` error carrying
    /// this message (e.g. terminal escape sequences).
    pub deny_writes_with: Option<String>,
    /// Serve tag lists in pages of this many tags with `Link` headers (see above).
    pub page_tags: Option<usize>,
    /// Answer a manifest PUT whose `Content-Type` is one of these with `400` and a
    /// `MANIFEST_INVALID` error, as registries that take only one manifest format do
    /// (TripleO's, older Quay); every other request goes to the real registry.
    pub refuse_manifest_types: Vec<&'static str>,
    /// Answer the PUT of a manifest with a `subject` with `OCI-Subject: <its digest>`,
    /// as a registry with the referrers API does (distribution-spec 1.1).
    pub oci_subject: bool,
    /// Answer the first N manifest PUTs with `400 MANIFEST_BLOB_UNKNOWN` (a registry
    /// that has not yet seen a blob another writer is putting at the same moment).
    pub blob_unknown_manifest_puts: u64,
}

#[derive(Default)]
pub struct Counters {
    pub served_503: AtomicU64,
    pub dropped: AtomicU64,
    pub requests: AtomicU64,
    pub dropped_responses: AtomicU64,
    pub served_429: AtomicU64,
    /// Hostile answers given (any of the hostile faults).
    pub hostile: AtomicU64,
    /// Bytes of the endless error body the client accepted before it hung up.
    pub error_body_sent: AtomicU64,
    /// PATCH requests seen.
    pub patches: AtomicU64,
    /// Tag-list pages served by `page_tags`.
    pub tag_pages: AtomicU64,
    /// Manifest PUTs refused by `refuse_manifest_types`.
    pub refused_manifests: AtomicU64,
    /// `OCI-Subject` headers added by `oci_subject`.
    pub oci_subjects: AtomicU64,
    /// Manifest PUTs answered `MANIFEST_BLOB_UNKNOWN` by `blob_unknown_manifest_puts`.
    pub blob_unknown_answers: AtomicU64,
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
        let manifest_get = (method == "GET" || method == "HEAD") && path.contains("/manifests/");
        if manifest_get && (f.wrong_manifest_digest || f.cut_manifests) {
            c.hostile.fetch_add(1, Ordering::Relaxed);
            let resp = fetch_upstream(upstream_port, &head)?;
            let split = find(&resp, b"\r\n\r\n").map_or(resp.len(), |i| i + 4);
            let (h, body) = resp.split_at(split);
            let mut w = client.try_clone()?;
            if f.wrong_manifest_digest {
                let wrong =
                    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
                let h: String = String::from_utf8_lossy(h)
                    .split_inclusive("\r\n")
                    .map(|l| {
                        if l.to_ascii_lowercase().starts_with("docker-content-digest:") {
                            format!("Docker-Content-Digest: {wrong}\r\n")
                        } else {
                            l.to_string()
                        }
                    })
                    .collect();
                w.write_all(h.as_bytes())?;
                w.write_all(body)?;
                continue;
            }
            let _ = w.write_all(h);
            let _ = w.write_all(&body[..body.len() / 2]);
            kill(&client);
            return Ok(());
        }
        if let (Some(n), true) = (f.error_body_bytes, method == "GET" && manifest_get) {
            c.hostile.fetch_add(1, Ordering::Relaxed);
            let mut w = client.try_clone()?;
            w.write_all(
                format!("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\r\n")
                    .as_bytes(),
            )?;
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0u64;
            while sent < n {
                let k = chunk.len().min((n - sent) as usize);
                if w.write_all(&chunk[..k]).is_err() {
                    break;
                }
                sent += k as u64;
                c.error_body_sent.store(sent, Ordering::Relaxed);
            }
            kill(&client);
            return Ok(());
        }
        if let Some(base) = &f.redirect_blobs_to {
            if method == "GET" && path.contains("/blobs/sha256:") {
                c.hostile.fetch_add(1, Ordering::Relaxed);
                let mut w = client.try_clone()?;
                w.write_all(
                    format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {base}{path}\r\nContent-Length: 0\r\n\r\n")
                        .as_bytes(),
                )?;
                continue;
            }
        }
        if f.stall_blob_gets && method == "GET" && path.contains("/blobs/sha256:") {
            c.hostile.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_secs(120));
            kill(&client);
            return Ok(());
        }
        if let (Some(n), true) = (f.page_tags, method == "GET" && path.contains("/tags/list")) {
            c.tag_pages.fetch_add(1, Ordering::Relaxed);
            let page = tag_page(upstream_port, &head, &path, n)?;
            client.try_clone()?.write_all(&page)?;
            continue;
        }
        if method == "PATCH" {
            let n = c.patches.fetch_add(1, Ordering::Relaxed) + 1;
            if f.drop_nth_patch == Some(n) {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                kill(&client);
                return Ok(());
            }
        }
        if f.oci_subject && method == "PUT" && path.contains("/manifests/") {
            let mut body = vec![0u8; len as usize];
            reader.read_exact(&mut body)?;
            let subject = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["subject"]["digest"].as_str().map(str::to_string));
            let mut resp = fetch_upstream_with(upstream_port, &head, &body)?;
            if let (Some(d), true) = (subject, resp.starts_with(b"HTTP/1.1 201")) {
                c.oci_subjects.fetch_add(1, Ordering::Relaxed);
                let at = find(&resp, b"\r\n").map_or(0, |i| i + 2);
                resp.splice(at..at, format!("OCI-Subject: {d}\r\n").into_bytes());
            }
            client.try_clone()?.write_all(&resp)?;
            continue;
        }
        if let (Some(base), true) = (
            &f.relocate_uploads_to,
            method == "POST" && path.contains("/blobs/uploads/"),
        ) {
            c.hostile.fetch_add(1, Ordering::Relaxed);
            let resp = fetch_upstream(upstream_port, &head)?;
            let text = String::from_utf8_lossy(&resp).to_string();
            let out: String = text
                .split_inclusive("\r\n")
                .map(|l| match l.split_once(':') {
                    Some((k, v)) if k.eq_ignore_ascii_case("location") => {
                        let v = v.trim();
                        let p = v.find("/v2/").map_or(v, |i| &v[i..]);
                        format!("Location: {base}{p}\r\n")
                    }
                    _ => l.to_string(),
                })
                .collect();
            client.try_clone()?.write_all(out.as_bytes())?;
            continue;
        }
        if method == "PUT" && path.contains("/manifests/") {
            let ctype = text
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default();
            if c.blob_unknown_answers.load(Ordering::Relaxed) < f.blob_unknown_manifest_puts {
                c.blob_unknown_answers.fetch_add(1, Ordering::Relaxed);
                let _ = io::copy(&mut (&mut reader).take(len), &mut io::sink());
                let body = serde_json::json!({"errors": [{"code": "MANIFEST_BLOB_UNKNOWN",
                    "message": "blob unknown to registry", "detail": "sha256:..."}]})
                .to_string();
                client.try_clone()?.write_all(
                    format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )?;
                continue;
            }
            if f.refuse_manifest_types.iter().any(|t| *t == ctype) {
                c.refused_manifests.fetch_add(1, Ordering::Relaxed);
                let _ = io::copy(&mut (&mut reader).take(len), &mut io::sink());
                let body = serde_json::json!({"errors": [{"code": "MANIFEST_INVALID",
                    "message": "manifest invalid", "detail": format!("unsupported manifest media type {ctype}")}]})
                .to_string();
                client.try_clone()?.write_all(
                    format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )?;
                continue;
            }
        }
        if let Some(msg) = &f.deny_writes_with {
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
                c.hostile.fetch_add(1, Ordering::Relaxed);
                let _ = io::copy(&mut (&mut reader).take(len), &mut io::sink());
                let body =
                    serde_json::json!({"errors": [{"code": "DENIED", "message": msg}]}).to_string();
                let mut w = client.try_clone()?;
                w.write_all(
                    format!("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )?;
                continue;
            }
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

/// One page of the tag list `path` asks for (`?n=&last=`; the proxy's page size when
/// `n` is absent or larger), read whole from the upstream registry.
fn tag_page(upstream_port: u16, head: &[u8], path: &str, size: usize) -> io::Result<Vec<u8>> {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let param = |k: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    let n = param("n")
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(size, |v| v.clamp(1, size));
    let last = param("last");
    // The same request without its query: the whole list.
    let text = String::from_utf8_lossy(head).replacen(path, base, 1);
    let resp = fetch_upstream(upstream_port, text.as_bytes())?;
    let split = find(&resp, b"\r\n\r\n").map_or(resp.len(), |i| i + 4);
    let list: serde_json::Value = serde_json::from_slice(&resp[split..]).unwrap_or_default();
    let mut tags: Vec<String> = list["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let rest: Vec<String> = tags
        .into_iter()
        .filter(|t| last.as_ref().is_none_or(|l| t > l))
        .collect();
    let page = &rest[..n.min(rest.len())];
    let body = serde_json::json!({"name": list["name"], "tags": page}).to_string();
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if rest.len() > page.len() {
        let last = page.last().cloned().unwrap_or_default();
        out.push_str(&format!(
            "Link: <{base}?n={n}&last={last}>; rel=\"next\"\r\n"
        ));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Ok(out.into_bytes())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Send a request head (no body) to the upstream on its own connection, asking it to
/// close, and read the whole response.
fn fetch_upstream(port: u16, head: &[u8]) -> io::Result<Vec<u8>> {
    fetch_upstream_with(port, head, &[])
}

/// [`fetch_upstream`] with a request body (`head` keeps its `Content-Length`).
fn fetch_upstream_with(port: u16, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
    let text = String::from_utf8_lossy(head);
    let mut req: String = text
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && *l != "\r\n")
        .collect();
    req.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(("127.0.0.1", port))?;
    up.write_all(req.as_bytes())?;
    up.write_all(body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    Ok(resp)
}

/// "Another host" for redirects: listens on `127.0.0.2`, records every request head it
/// receives, and serves it from the upstream registry with its own credentials (as a
/// storage backend with signed URLs would), so the client never needs to send any.
pub struct CaptureServer {
    pub base: String,
    pub heads: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl CaptureServer {
    pub fn start(upstream_port: u16, authorization: Option<String>) -> CaptureServer {
        let listener = TcpListener::bind("127.0.0.2:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (heads.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (h, a) = (h.clone(), authorization.clone());
                        std::thread::spawn(move || {
                            let _ = serve_captured(client, upstream_port, a.as_deref(), &h);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        CaptureServer {
            base: format!("http://127.0.0.2:{port}"),
            heads,
            stop,
        }
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_captured(
    client: TcpStream,
    upstream_port: u16,
    authorization: Option<&str>,
    heads: &std::sync::Mutex<Vec<String>>,
) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let mut reader = BufReader::new(client.try_clone()?);
    // One request per connection: the answer closes it.
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    heads.lock().unwrap().push(text.clone());
    let mut forwarded: String = text
        .split_inclusive("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("authorization:") && l != "\r\n"
        })
        .collect();
    if let Some(a) = authorization {
        forwarded.push_str(&format!("Authorization: {a}\r\n"));
    }
    forwarded.push_str("\r\n");
    let resp = fetch_upstream(upstream_port, forwarded.as_bytes())?;
    let mut w = client.try_clone()?;
    w.write_all(&resp)?;
    let _ = w.shutdown(Shutdown::Both);
    Ok(())
}
