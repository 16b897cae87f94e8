//! `oix merge DEST:REF SRC… --policy P [--expect P…]`: the release-pipeline policies.
//!
//! - `union`: the existing DEST:REF entries, then every source's entries; later wins
//!   per platform.
//! - `replace`: exactly the sources' platforms (later source wins per platform).
//! - `keep-missing`: the sources' entries, plus the existing entries for platforms the
//!   sources lack (a "hybrid" index); each carried entry, and each zstd twin carried
//!   with it, is annotated with [`super::CARRIED_FROM`] = `REF@<previous index digest>`
//!   (attestations carried with an entry are not).
//! - `require-all`: like `replace`, but refuses (exit 5, nothing written) when the
//!   sources lack a platform that the existing DEST:REF has or that `--expect` names;
//!   the refusal lists every missing platform.
//!
//! With any policy, `--expect` platforms must all be in the result, or the merge is
//! refused. Platforms compare after normalization (exact match mode).

use super::{
    current_members, edit_index_as, resolve_sources, AddMode, Current, Expand, Member, MemberList,
    Outcome, SourceSpec, CARRIED_FROM,
};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::platform::{Fallbacks, MatchMode, PlatformSpec};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    Union,
    Replace,
    KeepMissing,
    RequireAll,
}

fn has_platform(members: &[Member], p: &PlatformSpec) -> bool {
    members
        .iter()
        .filter_map(|m| m.key.as_ref())
        .any(|k| p.matches(k, MatchMode::Exact, Fallbacks::default()).is_ok())
}

/// The merged member list for `policy`, given the existing and the incoming members.
pub fn apply_policy(
    policy: Policy,
    existing: Vec<Member>,
    incoming: &[Member],
    expect: &[PlatformSpec],
    carried_from: &str,
) -> Result<Vec<Member>> {
    let mut result = match policy {
        Policy::Union => {
            let mut r = MemberList::from(existing);
            for m in incoming {
                r.upsert(m.clone(), AddMode::Replace)?;
            }
            r.into_vec()
        }
        Policy::Replace => incoming.to_vec(),
        Policy::KeepMissing => {
            let mut r = MemberList::from(incoming.to_vec());
            for mut e in existing {
                if !r.has_slot_of(&e) {
                    // The entry and its zstd twins (entries of its platform) are
                    // marked; its attestations travel as they are.
                    let twins = e
                        .attestations
                        .iter_mut()
                        .filter(|d| crate::platform::is_zstd_twin(d));
                    for d in std::iter::once(&mut e.descriptor).chain(twins) {
                        d.annotations
                            .entry(CARRIED_FROM.to_string())
                            .or_insert_with(|| carried_from.to_string());
                    }
                    r.push(e);
                }
            }
            r.into_vec()
        }
        Policy::RequireAll => {
            let mut missing: Vec<String> = Vec::new();
            for e in &existing {
                let lacking = match &e.key {
                    Some(k) => !has_platform(incoming, k),
                    None => !incoming.iter().any(|m| m.slot() == e.slot()),
                };
                if lacking && !missing.contains(&e.label()) {
                    missing.push(e.label());
                }
            }
            for p in expect {
                if !has_platform(incoming, p) && !missing.contains(&p.short()) {
                    missing.push(p.short());
                }
            }
            if !missing.is_empty() {
                return Err(Error::refused(format!(
                    "require-all: the sources lack {} platform(s): {}",
                    missing.len(),
                    missing.join(", ")
                ))
                .with_hint("nothing was written; publish per-arch tags, build the missing platforms, or use --policy keep-missing"));
            }
            incoming.to_vec()
        }
    };
    let absent: Vec<String> = expect
        .iter()
        .filter(|p| !has_platform(&result, p))
        .map(|p| p.short())
        .collect();
    if !absent.is_empty() {
        return Err(Error::refused(format!(
            "the result lacks expected platform(s): {}",
            absent.join(", ")
        ))
        .with_hint("nothing was written"));
    }
    // Deterministic and never two entries for one platform.
    let mut dedup = MemberList::new();
    for m in result.drain(..) {
        dedup.upsert(m, AddMode::Replace)?;
    }
    Ok(dedup.into_vec())
}

/// The sources' members, one per platform (later wins), picked by `selector`.
fn incoming(
    sources: &[SourceSpec],
    selector: Option<&crate::select::Selector>,
) -> Result<Vec<Member>> {
    let mut list = MemberList::new();
    let members = match selector.filter(|s| s.has_filters()) {
        Some(s) => super::select_sources(sources, s)?,
        None => resolve_sources(sources, Expand::Flatten)?,
    };
    for m in members {
        list.upsert(m, AddMode::Replace)?;
    }
    Ok(list.into_vec())
}

/// Run a merge into DEST:REF; with a `selector` that filters, only the source entries
/// it picks are merged ([`super::select_sources`]). `opts` are the edit's options
/// (annotations, dry run, `--manifest-format`, referrers); a merge always flattens.
pub fn merge(
    dest: &Layout,
    name: &str,
    sources: &[SourceSpec],
    policy: Policy,
    expect: &[PlatformSpec],
    selector: Option<&crate::select::Selector>,
    opts: &super::EditOptions,
) -> Result<Outcome> {
    let incoming = incoming(sources, selector)?;
    let build = |layout: &Layout, cur: Option<&Current>| -> Result<Vec<Member>> {
        let cur_owned = cur.map(|c| Current {
            entry: c.entry.clone(),
            index: c.index.clone(),
        });
        let existing = current_members(layout, &cur_owned, name)?;
        let from = cur
            .map(|c| format!("{name}@{}", c.entry.digest))
            .unwrap_or_default();
        apply_policy(policy, existing, &incoming, expect, &from)
    };
    let opts = super::EditOptions {
        flatten: true,
        ..opts.clone()
    };
    edit_index_as(dest, name, &opts, &incoming, &build, true)
}

/// [`merge`] into TAG of a store that is not a layout (a registry): the previous release
/// is what TAG names there now; only manifests and configs of it are read, and only the
/// sources' images the registry lacks are uploaded ([`super::remote`]).
#[allow(clippy::too_many_arguments)] // the CLI's flags, one each
pub fn merge_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    sources: &[super::remote::EditSource],
    policy: Policy,
    expect: &[PlatformSpec],
    annotations: &BTreeMap<String, String>,
    selector: Option<&crate::select::Selector>,
    dry_run: bool,
    jobs: usize,
    referrers: &crate::copy::stores::Carry,
) -> Result<Outcome> {
    use super::remote::EditSource;
    let (incoming, stores) = match selector.filter(|s| s.has_filters()) {
        Some(_) => {
            let specs: Vec<SourceSpec> = sources
                .iter()
                .map(|s| match s {
                    EditSource::Layout(spec) => Ok((**spec).clone()),
                    EditSource::Store { text, .. } => Err(Error::usage(format!(
                        "source {text}: --platform/--where pick entries of layout sources only"
                    ))
                    .with_hint("name the registry source's entries by tag or digest instead")),
                })
                .collect::<Result<_>>()?;
            (incoming(&specs, selector)?, Vec::new())
        }
        None => {
            let (members, stores) = super::remote::resolve_edit_sources(sources, Expand::Flatten)?;
            let mut list = MemberList::new();
            for m in members {
                list.upsert(m, AddMode::Replace)?;
            }
            (list.into_vec(), stores)
        }
    };
    let build = |existing: Vec<Member>, cur: Option<&crate::model::Descriptor>| {
        let from = cur
            .map(|c| format!("{tag}@{}", c.digest))
            .unwrap_or_default();
        apply_policy(policy, existing, &incoming, expect, &from)
    };
    super::remote::edit_store(
        dest,
        tag,
        annotations,
        dry_run,
        &incoming,
        &stores,
        &build,
        true,
        jobs,
        referrers,
    )
}
