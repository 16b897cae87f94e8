//! `oix copy SRC DEST` between any two stores, and the run that `push` and `pull` share
//! with it: resolve the source's name, subset when filters are given (the one subset,
//! never sparse), copy the graph ([`crate::copy::copy_graph`]), then set the names
//! (tag-last: a name is set only after everything it reaches is in the store).
//!
//! Registry specifics live in the registry store and are used from here:
//! - a root the destination registry holds by digest is not walked (distribution accepts
//!   a manifest only when everything it references is present), so a retag within one
//!   repository sends only the manifest;
//! - between two repositories of one registry, the destination tries a cross-repository
//!   mount from the source repository first (added to `--mount-from`);
//! - registry to registry, blobs stream through (never touching disk), a resumed upload
//!   reading the rest with a `Range` request ([`crate::store::Source::open_at`]).

use super::{CopyOptions, CopyReport};
use crate::error::Result;
use crate::model::Descriptor;
use crate::store::{Source, StoreRef};
use serde::Serialize;
use std::collections::HashSet;

mod between;
mod dry_run;
mod request;
mod subset;

pub use between::copy;
pub use dry_run::{dry_run, PlanStep};
pub use request::{
    ArchiveWritten, CarryOptions, CarrySummary, CopyRequest, CopyResult, CopySummary,
};
pub use subset::subset_selected;

/// Parallel HEADs used to find what a registry already has.
pub(crate) const HEAD_THREADS: usize = 16;

/// A name to set after the copy, and the document it names.
#[derive(Debug, Clone, Serialize)]
pub struct NamePlan {
    pub name: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `os/arch[/variant]` for per-arch tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip)]
    pub descriptor: Descriptor,
}

impl NamePlan {
    pub fn new(name: &str, d: &Descriptor) -> NamePlan {
        NamePlan {
            name: name.to_string(),
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            platform: None,
            descriptor: d.clone(),
        }
    }
}

/// What setting a name did.
#[derive(Debug, Clone, Serialize)]
pub struct NameOutcome {
    pub name: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `created`, `moved` or `unchanged`.
    pub action: &'static str,
    /// The digest a moved name pointed at before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// How a run copies.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub jobs: usize,
    /// Walk every root even when the destination registry holds it by digest.
    pub force_recursive: bool,
    /// Which referrers travel with what is copied.
    pub referrers: Carry,
}

/// Which referrers a copy carries (docs/referrers.md): by default every referrer of
/// every manifest and index it copies, recursively; `--no-referrers` none;
/// `--referrers-type TYPE` only those of these artifact types.
#[derive(Debug, Clone)]
pub struct Carry {
    pub enabled: bool,
    pub types: Vec<String>,
}

impl Default for Carry {
    fn default() -> Self {
        Carry {
            enabled: true,
            types: Vec::new(),
        }
    }
}

impl Carry {
    pub fn none() -> Carry {
        Carry {
            enabled: false,
            types: Vec::new(),
        }
    }
}

/// The referrers to carry with `roots` from `source` to `dst` (none when `carry` says
/// so), with the warnings about listed non-referrers. A docker-archive has no place
/// for referrers (as `oix export --format docker-archive`): none are carried, and a
/// warning (`referrers_not_carried`) says how many stay behind.
pub fn carried_referrers(
    source: &dyn Source,
    roots: &[Descriptor],
    dst: StoreRef<'_>,
    carry: &Carry,
) -> Result<(
    Vec<crate::referrers::Carried>,
    Vec<crate::referrers::Warning>,
)> {
    if !carry.enabled || roots.is_empty() || matches!(dst, StoreRef::Archive(_)) {
        return Ok((Vec::new(), Vec::new()));
    }
    let filter = crate::referrers::ArtifactFilter {
        types: carry.types.clone(),
    };
    let (carried, mut warnings) = crate::referrers::carry(source, roots, Some(&filter))?;
    match dst {
        StoreRef::ArchiveFile(a) if a.is_docker() => {
            if !carried.is_empty() {
                warnings.push(crate::referrers::Warning {
                    code: "referrers_not_carried",
                    digest: None,
                    message: format!(
                        "{} referrer(s) not carried: a docker-archive has no place for them (docker load ignores them); copy to an oci-archive to keep them",
                        carried.len()
                    ),
                });
            }
            Ok((Vec::new(), warnings))
        }
        _ => Ok((carried, warnings)),
    }
}

/// `roots`, then the carried referrers that are not roots already, each once.
fn with_referrers(roots: &[Descriptor], carried: &[crate::referrers::Carried]) -> Vec<Descriptor> {
    let mut seen: HashSet<&str> = roots.iter().map(|r| r.digest.as_str()).collect();
    let mut out = roots.to_vec();
    for c in carried {
        if seen.insert(c.descriptor.digest.as_str()) {
            out.push(c.descriptor.clone());
        }
    }
    out
}

/// List carried referrers at the destination, after their content is there: in a
/// layout, one index.json transaction (docs/referrers.md); on a registry, a cosign
/// referrer under its tag, the others in the subject's fallback-tag index (unless the
/// registry offers the referrers API and lists them itself).
fn record_referrers(
    source: &dyn Source,
    dst: StoreRef<'_>,
    carried: &[crate::referrers::Carried],
) -> Result<()> {
    match dst {
        StoreRef::Layout(l) => crate::referrers::record(l, carried).map(|_| ()),
        StoreRef::Registry(r) => {
            let mut by_subject: Vec<(&str, Vec<Descriptor>)> = Vec::new();
            for c in carried {
                if c.cosign {
                    let bytes = source.read_small(&c.descriptor)?;
                    let mut d = c.descriptor.clone();
                    d.artifact_type = None;
                    r.put_manifest_at(&c.tag, &d, &bytes)?;
                    continue;
                }
                match by_subject.iter_mut().find(|(s, _)| *s == c.subject) {
                    Some((_, v)) => v.push(c.descriptor.clone()),
                    None => by_subject.push((&c.subject, vec![c.descriptor.clone()])),
                }
            }
            for (subject, list) in by_subject {
                r.list_referrers(&crate::digest::Digest::parse(subject)?, &list)?;
            }
            Ok(())
        }
        // An archive being written lists them in its index.json as `oix export` does
        // (`referrers::entries_for`: the same entries, in the same order, so the same
        // bytes): each subject's referrers index (a new document) under its fallback
        // tag, a cosign referrer under its own tag.
        StoreRef::ArchiveFile(_) => {
            let (entries, indexes) = crate::referrers::entries_for(carried)?;
            for bytes in indexes {
                let d = Descriptor::new(
                    crate::model::media::OCI_INDEX,
                    &crate::digest::Digest::sha256_of(&bytes),
                    bytes.len() as u64,
                );
                dst.sink().put_manifest(&d, &bytes)?;
            }
            for e in entries {
                let name = e.ref_name().unwrap_or_default().to_string();
                dst.names().set_names(std::slice::from_ref(&name), &e)?;
            }
            Ok(())
        }
        // An archive opened for reading is not written to.
        StoreRef::Archive(_) => Ok(()),
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub report: CopyReport,
    /// Roots the destination registry held by digest (their graphs were not walked).
    pub roots_present: u64,
    pub names: Vec<NameOutcome>,
    /// The referrers carried (listed at the destination), parents first.
    pub referrers: Vec<crate::referrers::Carried>,
    /// What the source listed as referrers but is none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

/// Copy the graphs under `roots` from `source` to `dst`, then set `names` in order,
/// then list the referrers carried with them ([`RunOptions::referrers`]; their content
/// is copied with the graphs, each after its subject).
pub fn run(
    source: &dyn Source,
    roots: &[Descriptor],
    names: &[NamePlan],
    dst: StoreRef<'_>,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let mut todo = Vec::new();
    let mut roots_present = 0;
    if let StoreRef::Registry(r) = dst {
        r.client.ping()?;
    }
    let (carried, warnings) = carried_referrers(source, roots, dst, &opts.referrers)?;
    let all_roots = with_referrers(roots, &carried);
    let roots = &all_roots[..];
    if let StoreRef::Registry(r) = dst {
        for root in roots {
            if !opts.force_recursive
                && r.head_manifest(&root.digest)?.as_deref() == Some(&root.digest)
            {
                roots_present += 1;
            } else {
                todo.push(root.clone());
            }
        }
        if !todo.is_empty() {
            let plan = super::plan(source, &todo)?;
            r.prefetch_blobs(&plan.leaves, HEAD_THREADS.max(opts.jobs))?;
        }
    } else {
        todo = roots.to_vec();
    }
    let report = if todo.is_empty() {
        CopyReport::default()
    } else {
        super::copy_graph(
            source,
            dst.sink(),
            &todo,
            &CopyOptions {
                jobs: opts.jobs.max(1),
            },
        )?
    };
    let outcomes = set_names(names, dst)?;
    record_referrers(source, dst, &carried)?;
    Ok(RunOutcome {
        report,
        roots_present,
        names: outcomes,
        referrers: carried,
        referrer_warnings: warnings,
    })
}

/// Set `names` at `dst` in order, saying what each did.
fn set_names(names: &[NamePlan], dst: StoreRef<'_>) -> Result<Vec<NameOutcome>> {
    let mut outcomes = Vec::new();
    for n in names {
        let previous = dst.names().resolve_name(&n.name)?.map(|d| d.digest);
        let action = match &previous {
            Some(p) if *p == n.digest => "unchanged",
            Some(_) => "moved",
            None => "created",
        };
        // A registry tag that already names the digest is left alone (one manifest
        // validation less); a layout entry is rewritten in place when its descriptor
        // differs (a no-op otherwise).
        if action != "unchanged" || matches!(dst, StoreRef::Layout(_)) {
            dst.names()
                .set_names(std::slice::from_ref(&n.name), &n.descriptor)?;
        }
        outcomes.push(NameOutcome {
            name: n.name.clone(),
            digest: n.digest.clone(),
            platform: n.platform.clone(),
            action,
            previous: previous.filter(|p| *p != n.digest),
        });
    }
    Ok(outcomes)
}
