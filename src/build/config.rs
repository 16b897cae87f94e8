//! The image config `oix build` writes: a new document, serialized once, compactly, with
//! a fixed key order; or, with `--base`, the base config's JSON (its key order kept)
//! with the platform, runtime settings, diff_ids and history updated.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::Platform;
use serde_json::{json, Map, Value};

/// Runtime settings from the command line (the config's `config` object).
#[derive(Debug, Clone, Default)]
pub struct ImageSettings {
    /// `KEY=VALUE`; a key already present is replaced in place.
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub labels: Vec<(String, String)>,
    /// `PORT[/PROTO]` (tcp when no protocol is given).
    pub expose: Vec<String>,
    pub stop_signal: Option<String>,
    /// A JSON object of runtime-config fields (`Env`, `Cmd`, `Labels`, …) applied
    /// before the flags; each top-level key replaces the one in the config.
    pub fragment: Option<Map<String, Value>>,
}

/// `1970-01-01T00:00:00Z` for a Unix time.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn set_platform(cfg: &mut Map<String, Value>, p: &Platform) {
    cfg.insert("architecture".into(), json!(p.architecture));
    cfg.insert("os".into(), json!(p.os));
    match &p.os_version {
        Some(v) => {
            cfg.insert("os.version".into(), json!(v));
        }
        None => {
            cfg.shift_remove("os.version");
        }
    }
    match &p.os_features {
        Some(v) => {
            cfg.insert("os.features".into(), json!(v));
        }
        None => {
            cfg.shift_remove("os.features");
        }
    }
    match &p.variant {
        Some(v) => {
            cfg.insert("variant".into(), json!(v));
        }
        None => {
            cfg.shift_remove("variant");
        }
    }
}

fn apply_settings(rc: &mut Map<String, Value>, s: &ImageSettings) -> Result<()> {
    if let Some(frag) = &s.fragment {
        for (k, v) in frag {
            rc.insert(k.clone(), v.clone());
        }
    }
    if !s.env.is_empty() {
        let mut env: Vec<Value> = match rc.get("Env") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        for kv in &s.env {
            let Some((k, _)) = kv.split_once('=') else {
                return Err(Error::usage(format!("--env {kv:?}: expected KEY=VALUE")));
            };
            if k.is_empty() {
                return Err(Error::usage(format!("--env {kv:?}: empty variable name")));
            }
            let prefix = format!("{k}=");
            match env
                .iter()
                .position(|v| v.as_str().is_some_and(|s| s.starts_with(&prefix)))
            {
                Some(i) => env[i] = json!(kv),
                None => env.push(json!(kv)),
            }
        }
        rc.insert("Env".into(), Value::Array(env));
    }
    for (key, val) in [("Entrypoint", &s.entrypoint), ("Cmd", &s.cmd)] {
        match val {
            Some(v) if v.is_empty() => {
                rc.shift_remove(key);
            }
            Some(v) => {
                rc.insert(key.into(), json!(v));
            }
            None => {}
        }
    }
    for (key, val) in [
        ("WorkingDir", &s.workdir),
        ("User", &s.user),
        ("StopSignal", &s.stop_signal),
    ] {
        if let Some(v) = val {
            rc.insert(key.into(), json!(v));
        }
    }
    if !s.labels.is_empty() {
        let mut labels = match rc.get("Labels") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        for (k, v) in &s.labels {
            labels.insert(k.clone(), json!(v));
        }
        rc.insert("Labels".into(), Value::Object(labels));
    }
    if !s.expose.is_empty() {
        let mut ports = match rc.get("ExposedPorts") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        for p in &s.expose {
            let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            if num.parse::<u16>().is_err() || !matches!(proto, "tcp" | "udp" | "sctp") {
                return Err(Error::usage(format!(
                    "--expose {p:?}: expected PORT or PORT/tcp|udp|sctp"
                )));
            }
            ports.insert(format!("{num}/{proto}"), json!({}));
        }
        rc.insert("ExposedPorts".into(), Value::Object(ports));
    }
    Ok(())
}

/// The config bytes for an image of `diff_ids` (new layers) on top of `base` (the base
/// image's config bytes, if any). `created` is an RFC 3339 time, or `None` to leave it
/// out (builds without a source date epoch stay reproducible).
pub fn make_config(
    base: Option<&[u8]>,
    platform: &Platform,
    settings: &ImageSettings,
    diff_ids: &[Digest],
    created: Option<&str>,
) -> Result<Vec<u8>> {
    let mut cfg: Map<String, Value> = match base {
        Some(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(Error::corrupt(
                    "the base image's config is not a JSON object",
                ))
            }
        },
        None => Map::new(),
    };
    if let Some(c) = created {
        cfg.insert("created".into(), json!(c));
    }
    set_platform(&mut cfg, platform);
    let mut rc = match cfg.get("config") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    apply_settings(&mut rc, settings)?;
    cfg.insert("config".into(), Value::Object(rc));
    let mut ids: Vec<Value> = match cfg.get("rootfs").and_then(|r| r.get("diff_ids")) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    ids.extend(diff_ids.iter().map(|d| json!(d.to_string())));
    cfg.insert("rootfs".into(), json!({"type": "layers", "diff_ids": ids}));
    let mut history: Vec<Value> = match cfg.get("history") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    for _ in diff_ids {
        let mut h = Map::new();
        if let Some(c) = created {
            h.insert("created".into(), json!(c));
        }
        h.insert("created_by".into(), json!("oix build"));
        history.push(Value::Object(h));
    }
    cfg.insert("history".into(), Value::Array(history));
    Ok(serde_json::to_vec(&Value::Object(cfg)).expect("serializing JSON values cannot fail"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn base_config_keeps_order_and_appends() {
        let base = br#"{"architecture":"amd64","zzz":1,"os":"linux","config":{"Env":["A=1","B=2"]},"rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]},"history":[{"created_by":"base"}]}"#;
        let p = Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let s = ImageSettings {
            env: vec!["A=9".into(), "C=3".into()],
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        };
        let d = Digest::sha256_of(b"x");
        let out = make_config(Some(base), &p, &s, std::slice::from_ref(&d), None).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["architecture", "zzz", "os", "config", "rootfs", "history"]
        );
        assert_eq!(v["config"]["Env"], json!(["A=9", "B=2", "C=3"]));
        assert_eq!(v["rootfs"]["diff_ids"][1], json!(d.to_string()));
        assert_eq!(v["history"].as_array().unwrap().len(), 2);
    }
}
