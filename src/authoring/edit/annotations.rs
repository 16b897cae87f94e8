//! The annotation flags `index create`, `index add` and `merge` share.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Parse `key=value` annotation arguments.
pub fn parse_annotations(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in args {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            Error::usage(format!("annotation {a:?} is not key=value"))
                .with_hint("write --annotation org.opencontainers.image.version=1.2")
        })?;
        if k.is_empty() {
            return Err(Error::usage(format!("annotation {a:?} has an empty key")));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// The `org.opencontainers.image.created` value to write, if any: `--created TIME`
/// (RFC 3339, or `now`), else SOURCE_DATE_EPOCH, else none (reproducible by default).
pub fn created_annotation(flag: Option<&str>) -> Result<Option<String>> {
    let from_epoch = |secs: i64| rfc3339_utc(secs);
    match flag {
        Some("now") => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok(Some(from_epoch(secs)))
        }
        Some(t) => {
            let ok = t.len() >= 20
                && t.as_bytes()[4] == b'-'
                && t.as_bytes()[7] == b'-'
                && matches!(t.as_bytes()[10], b'T' | b't')
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'.' | b'+'));
            if !ok {
                return Err(
                    Error::usage(format!("--created {t:?} is not an RFC 3339 time"))
                        .with_hint("write e.g. 2024-05-01T12:00:00Z, or `now`"),
                );
            }
            Ok(Some(t.to_string()))
        }
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.trim().is_empty() => {
                let secs: i64 = v.trim().parse().map_err(|_| {
                    Error::usage(format!(
                        "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
                    ))
                })?;
                Ok(Some(from_epoch(secs)))
            }
            _ => Ok(None),
        },
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the one implementation lives with
/// the build's config writer).
pub fn rfc3339_utc(secs: i64) -> String {
    crate::build::config::rfc3339(secs)
}
