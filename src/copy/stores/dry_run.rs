//! `--dry-run`: what a run would do, from reads and HEADs only.

use super::{carried_referrers, with_referrers, Carry, NamePlan, HEAD_THREADS};
use crate::error::Result;
use crate::model::Descriptor;
use crate::store::{Source, StoreRef};
use rayon::prelude::*;
use serde::Serialize;

/// One line of a dry-run plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// `upload`, `skip` (blobs); `put`, `skip` (manifests); `create`, `move`, `keep`
    /// (tags); `list` (referrers: listed under `tag` at the destination).
    pub action: &'static str,
    /// `blob`, `manifest`, `tag` or `referrer`.
    pub kind: &'static str,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// For a tag that moves: the digest it points at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// Whether `dst` holds `d`, asked without writing anything (a layout not created yet
/// holds nothing).
fn holds(dst: StoreRef<'_>, d: &Descriptor) -> Result<bool> {
    match dst {
        StoreRef::Layout(l) => Ok(l.has_blob(&d.digest()?)),
        StoreRef::Registry(r) if d.is_manifest() || d.is_index() => {
            Ok(r.head_manifest(&d.digest)?.is_some())
        }
        StoreRef::Registry(r) => r.has_blob(&d.digest()?),
        StoreRef::Archive(a) => a.contains(&d.digest()?),
        StoreRef::ArchiveFile(a) => a.contains(&d.digest()?),
    }
}

/// What [`super::run`] would do: reads and HEADs only, nothing written.
pub fn dry_run(
    source: &dyn Source,
    roots: &[Descriptor],
    names: &[NamePlan],
    dst: StoreRef<'_>,
    jobs: usize,
    referrers: &Carry,
) -> Result<Vec<PlanStep>> {
    if let StoreRef::Registry(r) = dst {
        r.client.ping()?;
    }
    let (carried, _) = carried_referrers(source, roots, dst, referrers)?;
    let all_roots = with_referrers(roots, &carried);
    let cp = crate::copy::plan(source, &all_roots)?;
    let step = |d: &Descriptor, kind: &'static str, yes: &'static str| -> Result<PlanStep> {
        Ok(PlanStep {
            action: if holds(dst, d)? { "skip" } else { yes },
            kind,
            digest: d.digest.clone(),
            size: d.size,
            tag: None,
            previous: None,
        })
    };
    let mut steps: Vec<PlanStep> = crate::pool::install(HEAD_THREADS.max(jobs), || {
        cp.leaves
            .par_iter()
            .map(|d| step(d, "blob", "upload"))
            .chain(cp.documents.par_iter().map(|d| step(d, "manifest", "put")))
            .collect::<Result<Vec<_>>>()
    })??;
    for n in names {
        let now = match dst {
            StoreRef::Layout(l) if !l.root().join("index.json").exists() => None,
            _ => dst.names().resolve_name(&n.name)?.map(|d| d.digest),
        };
        let (action, previous) = match now {
            None => ("create", None),
            Some(p) if p == n.digest => ("keep", None),
            Some(p) => ("move", Some(p)),
        };
        steps.push(PlanStep {
            action,
            kind: "tag",
            digest: n.digest.clone(),
            size: n.descriptor.size,
            tag: Some(n.name.clone()),
            previous,
        });
    }
    for c in &carried {
        steps.push(PlanStep {
            action: "list",
            kind: "referrer",
            digest: c.descriptor.digest.clone(),
            size: c.descriptor.size,
            tag: Some(c.tag.clone()),
            previous: None,
        });
    }
    Ok(steps)
}
