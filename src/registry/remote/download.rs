//! Blob downloads from a registry: progress reporting and resuming a dropped download
//! with a `Range` request (see [`super`]).

use super::{Progress, Registry};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::registry::client::{response_error, HttpResponse};
use std::io::{self, Read};
use std::sync::atomic::Ordering;
use ureq::http::Method;

impl Registry {
    pub(super) fn progress_reader<'r>(
        &'r self,
        inner: Box<dyn Read + Send + 'r>,
        digest: &str,
        start: u64,
    ) -> ProgressReader<'r> {
        if let Some(p) = &self.progress {
            p.blob_position(digest, start);
        }
        ProgressReader {
            inner,
            progress: self.progress.as_deref(),
            digest: digest.to_string(),
            position: start,
        }
    }

    /// GET a blob (following redirects), starting at `offset`.
    pub(super) fn get_blob(&self, d: &Digest, offset: u64) -> Result<HttpResponse> {
        let url = self.client.url(&format!("blobs/{d}"));
        let range = format!("bytes={offset}-");
        let headers: Vec<(&str, &str)> = if offset > 0 {
            vec![("Range", range.as_str())]
        } else {
            vec![]
        };
        let mut resp = self.client.send(Method::GET, &url, &headers, None)?;
        match resp.status().as_u16() {
            200 | 206 => Ok(resp),
            404 => Err(Error::not_found(format!(
                "blob {} is not in the registry",
                self.what(d)
            ))),
            _ => Err(response_error(
                &mut resp,
                &format!("GET blob {}", self.what(d)),
            )),
        }
    }
}

/// Counts bytes read and reports them.
pub(super) struct ProgressReader<'a> {
    pub(super) inner: Box<dyn Read + Send + 'a>,
    pub(super) progress: Option<&'a dyn Progress>,
    pub(super) digest: String,
    pub(super) position: u64,
}

impl Read for ProgressReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        if let Some(p) = self.progress {
            p.blob_position(&self.digest, self.position);
        }
        Ok(n)
    }
}

/// A blob download that re-requests the rest (`Range`) after a dropped connection.
pub(super) struct ResumingReader<'a> {
    pub(super) registry: &'a Registry,
    pub(super) digest: Digest,
    pub(super) size: u64,
    pub(super) position: u64,
    pub(super) inner: Option<ureq::BodyReader<'static>>,
    pub(super) failures: u32,
}

impl Read for ResumingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.position >= self.size {
                // Let the caller see any extra bytes (it verifies the size).
                return match self.inner.as_mut() {
                    Some(r) => r.read(buf),
                    None => Ok(0),
                };
            }
            if self.inner.is_none() {
                let resp = self
                    .registry
                    .get_blob(&self.digest, self.position)
                    .map_err(|e| io::Error::other(e.message))?;
                let status = resp.status().as_u16();
                let mut r = resp.into_body().into_reader();
                if status == 200 && self.position > 0 {
                    // The server ignored Range: skip what we already have.
                    io::copy(&mut (&mut r).take(self.position), &mut io::sink())?;
                }
                self.inner = Some(r);
            }
            let r = self.inner.as_mut().expect("set above");
            match r.read(buf) {
                Ok(n) if n > 0 => {
                    self.position += n as u64;
                    if let Some(p) = &self.registry.progress {
                        p.blob_position(&self.digest.to_string(), self.position);
                    }
                    return Ok(n);
                }
                Ok(_) | Err(_) if self.failures < self.registry.client.retries() => {
                    self.failures += 1;
                    self.registry.client.retried.fetch_add(1, Ordering::Relaxed);
                    self.inner = None;
                    std::thread::sleep(std::time::Duration::from_millis(
                        200 * self.failures as u64,
                    ));
                }
                Ok(n) => return Ok(n),
                Err(e) => return Err(self.explain(e)),
            }
        }
    }
}

impl ResumingReader<'_> {
    /// Say what a read that timed out was waiting for.
    fn explain(&self, e: io::Error) -> io::Error {
        let timed_out = e.kind() == io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|i| i.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if !timed_out {
            return e;
        }
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "timed out: {} sent nothing for {} s at byte {} of {} (see --timeout)",
                self.registry.reference.api_host(),
                self.registry.client.idle_timeout().as_secs_f64(),
                self.position,
                self.size
            ),
        )
    }
}
