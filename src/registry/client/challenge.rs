//! Authentication: a request answering at most two 401 challenges, the Basic or Bearer
//! answer (a token fetched from the realm for all the job's scopes), shared by the
//! parallel workers through the client's auth state.

use super::Client;
use super::{drain, redact_url, response_error, transient_status, FResult, Fail, HttpResponse};
use crate::error::Error;
use crate::registry::auth::{self, Challenge, Credentials};
use ureq::http::Method;

impl Client {
    /// One attempt (plus at most two auth rounds); transient statuses are `Fail::Retry`.
    pub(crate) fn send_authed(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> FResult<HttpResponse> {
        let mut rounds = 0;
        loop {
            let (mut resp, generation) = match body {
                Some(bytes) => {
                    let mut r = bytes;
                    self.send_once(
                        method.clone(),
                        url,
                        headers,
                        Some((&mut r, bytes.len() as u64)),
                    )?
                }
                None => self.send_once(method.clone(), url, headers, None)?,
            };
            let status = resp.status().as_u16();
            let what = format!("{method} {}", redact_url(url));
            if let Some(e) = self.foreign_refusal(&resp, url, &what) {
                drain(&mut resp);
                return Err(Fail::Fatal(e));
            }
            if status == 401 && rounds < 2 && self.same_origin(url) {
                rounds += 1;
                drain(&mut resp);
                self.answer_challenge(&resp, generation)?;
                continue;
            }
            if let Some(after) = transient_status(&resp) {
                let e = response_error(&mut resp, &what);
                return Err(Fail::Retry(e, after));
            }
            return Ok(resp);
        }
    }

    /// Handle a 401: set a new `Authorization` header from the challenge, unless another
    /// worker already did since `generation`.
    pub(crate) fn answer_challenge(&self, resp: &HttpResponse, generation: u64) -> FResult<()> {
        let mut st = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        if st.generation != generation {
            return Ok(()); // someone else refreshed; just retry
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge);
        let hint_creds = || {
            match self.credential_origin() {
            Some(o) => format!("credentials from {o} were refused; check them (or log in again)"),
            None => format!(
                "no credentials for {} were found; log in (oix login HOST, or skopeo/docker login), pass --authfile, or --creds USER",
                self.host
            ),
        }
        };
        let Some(ch) = challenge else {
            return Err(Fail::Fatal(
                Error::remote(format!(
                    "{}: 401 Unauthorized without a challenge",
                    self.base
                ))
                .with_hint(hint_creds()),
            ));
        };
        let header = match ch.scheme.as_str() {
            "basic" => {
                let Some(h) = self.creds.as_ref().and_then(|f| f.basic_header()) else {
                    return Err(Fail::Fatal(
                        Error::remote(format!("{}: authentication required (Basic)", self.host))
                            .with_hint(hint_creds()),
                    ));
                };
                if st.header.as_deref() == Some(h.as_str()) {
                    return Err(Fail::Fatal(
                        Error::remote(format!(
                            "{}: the registry refused the credentials",
                            self.host
                        ))
                        .with_hint(hint_creds()),
                    ));
                }
                h
            }
            "bearer" => {
                if let Some(Credentials::RegistryToken(t)) =
                    self.creds.as_ref().map(|f| &f.credentials)
                {
                    format!("Bearer {t}")
                } else {
                    let token = self.fetch_token(&ch)?;
                    let h = format!("Bearer {token}");
                    if st.header.as_deref() == Some(h.as_str()) {
                        return Err(Fail::Fatal(
                            Error::remote(format!(
                                "{}: access to {} denied with the token the realm issued",
                                self.host, self.repo
                            ))
                            .with_hint(hint_creds()),
                        ));
                    }
                    h
                }
            }
            other => {
                return Err(Fail::Fatal(Error::remote(format!(
                    "{}: unsupported authentication scheme {other:?}",
                    self.host
                ))))
            }
        };
        st.header = Some(header);
        st.generation += 1;
        Ok(())
    }

    /// Fetch a bearer token from the challenge's realm for all our scopes.
    fn fetch_token(&self, ch: &Challenge) -> FResult<String> {
        let realm = ch.param("realm").ok_or_else(|| {
            Fail::Fatal(Error::remote(format!(
                "{}: bearer challenge without a realm",
                self.host
            )))
        })?;
        if !(realm.starts_with("https://") || (realm.starts_with("http://") && self.plain_http)) {
            return Err(Fail::Fatal(
                Error::remote(format!("{}: token realm {realm:?} is not HTTPS", self.host))
                    .with_hint(
                        "oix sends credentials only over HTTPS unless --plain-http is given",
                    ),
            ));
        }
        let mut scopes: Vec<String> = self.scopes.clone();
        if let Some(s) = ch.param("scope") {
            for one in s.split(' ').filter(|x| !x.is_empty()) {
                if !scopes.iter().any(|x| x == one) {
                    scopes.push(one.to_string());
                }
            }
        }
        let service = ch.param("service");
        let what = format!("token request to {realm}");
        let resp = match self.creds.as_ref().map(|f| &f.credentials) {
            Some(Credentials::IdentityToken(t)) => {
                let mut form: Vec<(&str, String)> = vec![
                    ("grant_type", "refresh_token".into()),
                    ("client_id", "oix".into()),
                    ("refresh_token", t.clone()),
                    ("scope", scopes.join(" ")),
                ];
                if let Some(s) = service {
                    form.push(("service", s.to_string()));
                }
                self.agent
                    .post(realm)
                    .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
            }
            other => {
                let mut req = self.agent.get(realm);
                if let Some(s) = service {
                    req = req.query("service", s);
                }
                for s in &scopes {
                    req = req.query("scope", s);
                }
                if let Some(h) = other.and_then(|c| c.basic_header()) {
                    req = req.header("Authorization", h);
                }
                req.call()
            }
        };
        let mut resp = resp.map_err(|e| self.transport_error(&what, realm, e))?;
        if let Some(after) = transient_status(&resp) {
            return Err(Fail::Retry(response_error(&mut resp, &what), after));
        }
        if !resp.status().is_success() {
            let mut e = response_error(&mut resp, &what);
            if matches!(resp.status().as_u16(), 401 | 403) {
                e = e.with_hint(match self.credential_origin() {
                    Some(o) => format!("the token service refused the credentials from {o}"),
                    None => format!(
                        "no credentials for {} were found; log in (oix login HOST), pass --authfile, or --creds USER",
                        self.host
                    ),
                });
            }
            return Err(Fail::Fatal(e));
        }
        let raw = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| Fail::Fatal(Error::remote(format!("{what}: unreadable answer: {e}"))))?;
        let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
            Fail::Fatal(Error::remote(format!(
                "{what}: the answer is not JSON: {e}"
            )))
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Fail::Fatal(Error::remote(format!("{what}: the answer holds no token"))))
    }
}
