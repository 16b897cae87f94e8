//! `destinations:` of a plan: layout (`oci:PATH`) and registry (`docker://`) targets.

use super::{Resolver, Site};
use crate::apply::plan::{
    parse_registry_prefix, Connection, Destination, DestinationSpec, Position,
};
use crate::error::Error;
use crate::reference::Scheme;
use serde_saphyr::Spanned;

impl Resolver {
    /// Each destination checked; the valid ones, in order.
    pub(super) fn destinations(&mut self, raw: &[Spanned<DestinationSpec>]) -> Vec<Destination> {
        let mut out: Vec<Destination> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let d = &s.value;
            let position = Position::of(s);
            let site = Site {
                image: None,
                section: Some(format!(
                    "destinations[{i}] ({})",
                    crate::registry::reference::redact_reference(&d.url)
                )),
                position,
            };
            if out.iter().any(|o| o.url() == d.url) {
                self.push(
                    &site,
                    Error::failure(format!(
                        "destination {} is listed twice",
                        crate::registry::reference::redact_reference(&d.url)
                    )),
                );
                continue;
            }
            if let (Scheme::Layout, true, path) = Scheme::of(&d.url) {
                if d.plain_http.is_some()
                    || d.ca_cert.is_some()
                    || d.authfile.is_some()
                    || d.timeout.is_some()
                {
                    self.push(
                        &site,
                        Error::failure(
                            "plain_http, ca_cert, authfile and timeout apply to docker:// destinations only",
                        ),
                    );
                    continue;
                }
                if path.is_empty() || path.contains(':') || path.contains('@') {
                    self.push(
                        &site,
                        Error::failure(format!(
                            "{}: a layout destination is oci:PATH (a directory, no ref)",
                            d.url
                        )),
                    );
                    continue;
                }
                out.push(Destination::Layout {
                    url: d.url.clone(),
                    path: self.rel(path),
                    position,
                });
                continue;
            }
            let timeout = match d.timeout {
                None => None,
                Some(t) if t.is_finite() && t > 0.0 && t <= 86400.0 => {
                    Some(std::time::Duration::from_secs_f64(t))
                }
                Some(t) => {
                    self.push(
                        &site,
                        Error::failure(format!(
                            "timeout {t}: give a number of seconds above 0 and at most 86400"
                        )),
                    );
                    continue;
                }
            };
            match parse_registry_prefix(&d.url) {
                Ok((host, prefix)) => out.push(Destination::Registry {
                    url: d.url.clone(),
                    host,
                    prefix,
                    connection: Connection {
                        plain_http: d.plain_http.unwrap_or(false),
                        ca_cert: d.ca_cert.as_deref().map(|p| self.rel(p)),
                        authfile: d.authfile.as_deref().map(|p| self.rel(p)),
                        timeout,
                    },
                    position,
                }),
                Err(e) => self.push(&site, e),
            }
        }
        out
    }
}
