//! Blob uploads to a registry: cross-repository mounts, monolithic and chunked uploads,
//! and resuming a chunked upload after a dropped connection (see [`super`]).

use super::{header, parse_range_end, with_query, Registry};
use crate::digest::Digest;
use crate::error::{Error, RegistryCode, Result};
use crate::model::Descriptor;
use crate::registry::client::{
    drain, redact_url, response_error, transient_status, FResult, Fail, HttpResponse,
};
use std::io::Read;
use std::sync::atomic::Ordering;
use ureq::http::Method;

/// An upload session: where to send the next request and how much the registry has.
#[derive(Debug, Clone)]
pub(super) struct Session {
    location: String,
    offset: u64,
    /// A request failed part-way: ask the registry where it stands before going on.
    uncertain: bool,
    /// The session went on from a status query (a resume).
    resumed: bool,
}

impl Registry {
    /// Try a cross-repository mount. `Ok(Ok(()))` when mounted; `Ok(Err(location))`
    /// when the registry opened an upload session instead.
    pub(super) fn try_mount(
        &self,
        d: &Digest,
        from: &str,
    ) -> Result<std::result::Result<(), Option<String>>> {
        let url = self
            .client
            .url(&format!("blobs/uploads/?mount={d}&from={from}"));
        let mut resp = self.client.send(Method::POST, &url, &[], None)?;
        let status = resp.status().as_u16();
        let loc = header(&resp, "location").map(str::to_string);
        drain(&mut resp);
        match status {
            201 => Ok(Ok(())),
            202 => Ok(Err(loc)),
            _ => Err(response_error(&mut resp, &format!("mount {d} from {from}"))),
        }
    }

    /// POST a new upload session.
    pub(super) fn start_upload(&self) -> FResult<Session> {
        let url = self.client.url("blobs/uploads/");
        let mut resp = self.client.send_authed(Method::POST, &url, &[], None)?;
        let status = resp.status().as_u16();
        let loc = header(&resp, "location").map(str::to_string);
        if status != 202 {
            return Err(Fail::Fatal(response_error(
                &mut resp,
                &format!("starting an upload to {}", self.reference.repository()),
            )));
        }
        drain(&mut resp);
        let loc = loc.ok_or_else(|| {
            Fail::Fatal(Error::remote(
                "the registry opened an upload without a Location",
            ))
        })?;
        Ok(Session {
            location: self.client.resolve_location(&loc)?,
            offset: 0,
            uncertain: false,
            resumed: false,
        })
    }

    /// Ask an upload session how much it holds (GET → 204 + Range).
    pub(super) fn upload_status(&self, s: &Session) -> FResult<Option<Session>> {
        let mut resp = self
            .client
            .send_authed(Method::GET, &s.location, &[], None)?;
        let status = resp.status().as_u16();
        let range = header(&resp, "range").map(str::to_string);
        let loc = header(&resp, "location").map(str::to_string);
        drain(&mut resp);
        if status != 204 {
            return Ok(None); // gone or invalid: start over
        }
        // The offset the registry last confirmed is a floor (see parse_range_end).
        let offset = match range {
            Some(r) => parse_range_end(&r, s.offset).unwrap_or(0),
            None => 0,
        };
        Ok(Some(Session {
            location: match loc {
                Some(l) => self.client.resolve_location(&l)?,
                None => s.location.clone(),
            },
            offset,
            uncertain: false,
            resumed: true,
        }))
    }

    /// Upload a blob, reading it through `open(offset)`; retries and resumes.
    pub(super) fn upload<'s>(
        &self,
        desc: &Descriptor,
        open: &dyn Fn(u64) -> Result<Box<dyn Read + Send + 's>>,
        first: Option<String>,
    ) -> Result<()> {
        let d = desc.digest()?;
        let size = desc.size()?;
        let ds = d.to_string();
        if let Some(p) = &self.progress {
            p.blob_start(&ds, size);
        }
        let mut session: Option<Session> = match first {
            Some(l) => Some(Session {
                location: self.client.resolve_location(&l)?,
                offset: 0,
                uncertain: false,
                resumed: false,
            }),
            None => None,
        };
        let r = self.client.with_retries(|attempt| {
            let s = match session.take() {
                Some(s) if s.uncertain => match self.upload_status(&s)? {
                    Some(s) => {
                        self.stats.resumed.fetch_add(1, Ordering::Relaxed);
                        s
                    }
                    None => {
                        self.stats.restarted.fetch_add(1, Ordering::Relaxed);
                        self.start_upload()?
                    }
                },
                Some(s) => s,
                None => {
                    if attempt > 0 {
                        self.stats.restarted.fetch_add(1, Ordering::Relaxed);
                    }
                    self.start_upload()?
                }
            };
            self.upload_from(&d, size, s, open, &mut session)
        });
        if let Some(p) = &self.progress {
            p.blob_done(&ds);
        }
        r
    }

    /// Send the rest of the blob in session `s`. On a transient failure, leaves in
    /// `keep` the session to go on with (or `None` to start over).
    pub(super) fn upload_from<'s>(
        &self,
        d: &Digest,
        size: u64,
        mut s: Session,
        open: &dyn Fn(u64) -> Result<Box<dyn Read + Send + 's>>,
        keep: &mut Option<Session>,
    ) -> FResult<()> {
        let ds = d.to_string();
        let monolithic = size <= self.chunk_size && s.offset == 0;
        if !monolithic {
            while s.offset < size {
                self.send_chunk(&ds, size, &mut s, open, keep)?;
            }
        }
        self.close_upload(d, size, s, monolithic, open, keep)
    }

    /// PATCH the next chunk (at most `chunk_size` bytes from `s.offset`) and move `s`
    /// on to what the registry now holds. On a failure the session to go on with is
    /// left in `keep`.
    fn send_chunk<'s>(
        &self,
        ds: &str,
        size: u64,
        s: &mut Session,
        open: &dyn Fn(u64) -> Result<Box<dyn Read + Send + 's>>,
        keep: &mut Option<Session>,
    ) -> FResult<()> {
        let len = (size - s.offset).min(self.chunk_size);
        let range = format!("{}-{}", s.offset, s.offset + len - 1);
        let mut body = self.progress_reader(open(s.offset)?, ds, s.offset);
        let mut limited = (&mut body).take(len);
        let sent = self.client.send_once(
            Method::PATCH,
            &s.location,
            &[OCTET_STREAM, ("Content-Range", range.as_str())],
            Some((&mut limited, len)),
        );
        let (mut resp, generation) = match sent {
            Ok(r) => r,
            Err(f) => {
                s.uncertain = true;
                *keep = Some(s.clone());
                return Err(f);
            }
        };
        match resp.status().as_u16() {
            202 => {
                let loc = header(&resp, "location").map(str::to_string);
                let sent_to = s.offset + len;
                let held = header(&resp, "range").and_then(|r| parse_range_end(r, sent_to));
                drain(&mut resp);
                if let Some(l) = loc {
                    s.location = self.client.resolve_location(&l)?;
                }
                s.offset = held.unwrap_or(sent_to);
                Ok(())
            }
            401 => {
                let what = format!("PATCH {}", redact_url(&s.location));
                if let Some(e) = self.client.foreign_refusal(&resp, &s.location, &what) {
                    drain(&mut resp);
                    return Err(Fail::Fatal(e));
                }
                drain(&mut resp);
                self.client.answer_challenge(&resp, generation)?;
                *keep = Some(s.clone());
                Err(auth_expired())
            }
            416 => {
                drain(&mut resp);
                s.uncertain = true;
                *keep = Some(s.clone());
                Err(Fail::Retry(
                    Error::remote(format!(
                        "upload of {ds}: the registry refused range {range} (416)"
                    )),
                    None,
                ))
            }
            _ => {
                let what = format!("PATCH {}", redact_url(&s.location));
                if let Some(e) = self.client.foreign_refusal(&resp, &s.location, &what) {
                    drain(&mut resp);
                    return Err(Fail::Fatal(e));
                }
                if let Some(after) = transient_status(&resp) {
                    s.uncertain = true;
                    *keep = Some(s.clone());
                    return Err(Fail::Retry(response_error(&mut resp, &what), after));
                }
                Err(Fail::Fatal(response_error(&mut resp, &what)))
            }
        }
    }

    /// The closing PUT: with the whole body (monolithic) or empty (chunked), then the
    /// registry's answer checked.
    fn close_upload<'s>(
        &self,
        d: &Digest,
        size: u64,
        mut s: Session,
        monolithic: bool,
        open: &dyn Fn(u64) -> Result<Box<dyn Read + Send + 's>>,
        keep: &mut Option<Session>,
    ) -> FResult<()> {
        let ds = d.to_string();
        let url = with_query(&s.location, &format!("digest={d}"));
        let sent = if monolithic {
            let mut body = self.progress_reader(open(0)?, &ds, 0);
            let mut limited = (&mut body).take(size);
            self.client.send_once(
                Method::PUT,
                &url,
                &[OCTET_STREAM],
                Some((&mut limited, size)),
            )
        } else {
            self.client.send_once(
                Method::PUT,
                &url,
                &[OCTET_STREAM, ("Content-Length", "0")],
                None,
            )
        };
        let (resp, generation) = match sent {
            Ok(r) => r,
            Err(f) => {
                // A monolithic session cannot resume; a chunked one may.
                if !monolithic {
                    s.uncertain = true;
                    *keep = Some(s);
                }
                return Err(f);
            }
        };
        self.check_closing_answer(resp, generation, &url, &ds, s.resumed)
    }

    /// The registry's answer to the closing PUT of `ds`: 201 with the same digest, or
    /// what to do next (answer a challenge and retry, start over, give up).
    fn check_closing_answer(
        &self,
        mut resp: HttpResponse,
        generation: u64,
        url: &str,
        ds: &str,
        resumed: bool,
    ) -> FResult<()> {
        let status = resp.status().as_u16();
        let what = format!("PUT {}", redact_url(url));
        if let Some(e) = self.client.foreign_refusal(&resp, url, &what) {
            drain(&mut resp);
            return Err(Fail::Fatal(e));
        }
        if status == 401 {
            drain(&mut resp);
            self.client.answer_challenge(&resp, generation)?;
            return Err(auth_expired());
        }
        if status != 201 {
            if let Some(after) = transient_status(&resp) {
                return Err(Fail::Retry(response_error(&mut resp, &what), after));
            }
            let mut e = response_error(&mut resp, &what);
            let digest_invalid = e.has_registry_code(&RegistryCode::DigestInvalid);
            if digest_invalid && resumed {
                // The registry's idea of a resumed upload was wrong: start over.
                return Err(Fail::Retry(e, None));
            }
            if digest_invalid {
                e = e.with_hint("the local blob does not match its digest; run `oix fsck`");
            }
            return Err(Fail::Fatal(e));
        }
        let claimed = header(&resp, "docker-content-digest").map(str::to_string);
        drain(&mut resp);
        if let Some(c) = claimed {
            if c != ds {
                return Err(Fail::Fatal(Error::remote(format!(
                    "upload of {ds}: the registry stored {c}"
                ))));
            }
        }
        Ok(())
    }
}

/// The Content-Type of blob bytes.
const OCTET_STREAM: (&str, &str) = ("Content-Type", "application/octet-stream");

/// A 401 in the middle of an upload: the token expired; retry at once with a new one.
fn auth_expired() -> Fail {
    Fail::Retry(
        Error::remote("authentication expired during an upload"),
        Some(std::time::Duration::ZERO),
    )
}
