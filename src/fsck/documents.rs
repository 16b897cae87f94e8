//! The documents: ref names in index.json, the structure problems the walk found, and
//! image configs.

use super::{Ctx, Finding, Level};
use crate::error::Kind;
use crate::graph::{self, Severity};
use crate::layout::Layout;
use crate::model::{self, Document, ImageConfig};
use std::collections::HashSet;

/// Ref names that break the image-spec grammar (`invalid-ref-name`, a warning: the
/// layout stays usable, and `oix untag` removes any existing name given exactly). Such
/// names cannot be pushed as tags and may carry terminal escapes.
pub(super) fn check_ref_names(roots: &[model::Descriptor], cx: &mut Ctx) {
    for (i, d) in roots.iter().enumerate() {
        let Some(name) = d.ref_name() else { continue };
        if let Err(e) = crate::reference::validate_ref_name(name) {
            cx.findings.push(Finding {
                severity: Level::Warning,
                code: "invalid-ref-name",
                digest: Some(d.digest.clone()),
                path: None,
                referrer: Some("index.json".into()),
                message: format!(
                    "index.json entry {i}: {}; remove it with `oix untag LAYOUT:NAME` (the name exactly)",
                    e.message
                ),
            });
        }
    }
}

/// Structure problems the walk found (`invalid-document`), for blobs that are
/// themselves intact.
pub(super) fn report_walk_problems(walk: &graph::Walk, bad: &HashSet<String>, cx: &mut Ctx) {
    for p in &walk.problems {
        let ds = p.digest.as_deref().unwrap_or("");
        // A missing blob is reported once, by the blob check.
        if bad.contains(ds) || p.kind == Kind::NotFound {
            continue;
        }
        let sev = if p.severity == Severity::Error {
            Level::Error
        } else {
            Level::Warning
        };
        cx.add(
            sev,
            "invalid-document",
            p.digest.as_deref(),
            Some(&p.referrer),
            p.message.clone(),
        );
    }
}

/// Image configs parse, have os/architecture/rootfs, and agree with the entry platform.
pub(super) fn check_configs(
    layout: &Layout,
    walk: &graph::Walk,
    bad: &HashSet<String>,
    cx: &mut Ctx,
) {
    for n in &walk.nodes {
        let Some(Document::Manifest(m)) = &n.document else {
            continue;
        };
        let cfg = &m.config;
        if !model::media::is_image_config(&cfg.media_type) || bad.contains(&cfg.digest) {
            continue;
        }
        let Some(config) = read_config(layout, cfg, &n.descriptor.digest, cx) else {
            continue;
        };
        if let (Some(p), Some(c)) = (&n.descriptor.platform, config.platform()) {
            if let Some(why) = crate::platform::config_disagreement(p, &c) {
                cx.add(
                    Level::Warning,
                    "platform-mismatch",
                    Some(&n.descriptor.digest),
                    n.parent.as_deref().or(Some("index.json")),
                    why,
                );
            }
        }
    }
}

/// Read, parse and check the required fields of the config `cfg` of `manifest`;
/// `None` (with an `invalid-config` finding) when it fails.
fn read_config(
    layout: &Layout,
    cfg: &model::Descriptor,
    manifest: &str,
    cx: &mut Ctx,
) -> Option<ImageConfig> {
    let bytes = match layout.read_blob(cfg, model::MAX_MANIFEST_SIZE) {
        Ok(b) => b,
        Err(e) => {
            cx.add(
                Level::Error,
                "invalid-config",
                Some(&cfg.digest),
                Some(manifest),
                e.message,
            );
            return None;
        }
    };
    let parsed: std::result::Result<ImageConfig, _> = serde_json::from_slice(&bytes);
    let config = match parsed {
        Ok(c) => c,
        Err(e) => {
            cx.add(
                Level::Error,
                "invalid-config",
                Some(&cfg.digest),
                Some(manifest),
                format!("config {} is not valid JSON: {e}", cfg.digest),
            );
            return None;
        }
    };
    if !has_required_fields(&config, &bytes) {
        cx.add(
            Level::Error,
            "invalid-config",
            Some(&cfg.digest),
            Some(manifest),
            format!(
                "config {} lacks a required field (os, architecture, rootfs.type=layers)",
                cfg.digest
            ),
        );
        return None;
    }
    Some(config)
}

/// os, architecture and rootfs.type=layers are there.
fn has_required_fields(config: &ImageConfig, bytes: &[u8]) -> bool {
    let rootfs_ok = config
        .extra
        .get("rootfs")
        .and_then(|r| r.get("type"))
        .and_then(|t| t.as_str())
        == Some("layers");
    // Required means present: cosign's signature configs carry `"os":""` and
    // `"architecture":""`, which the image-spec allows (a referrer has no platform).
    let present = |k: &str| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .is_some_and(|v| v.get(k).is_some_and(|x| x.is_string()))
    };
    let named = |v: &str, k: &str| !v.is_empty() || present(k);
    named(&config.os, "os") && named(&config.architecture, "architecture") && rootfs_ok
}
