//! `index rm` and `annotate`: edits of the entries a selector picks inside an index,
//! through the document rewriter ([`super::rewrite`]).

use super::rewrite;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::Index;
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use std::collections::BTreeMap;

/// The result of `index rm` or `annotate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EditReport {
    /// The top-level entry edited (its ref name, or its digest when unnamed).
    pub target: String,
    /// Its digest after the edit.
    pub digest: String,
    pub changed: bool,
    pub dry_run: bool,
    /// Entries removed (`index rm`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Entries annotated (`annotate` with a selector): the selector's picks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotated: Vec<String>,
    /// Every document rewritten, innermost last.
    pub rewritten: Vec<rewrite::Rewritten>,
}

/// Group matches by the document that lists them: (container path, positions).
fn by_container(matches: &[crate::select::Match]) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    let mut seen: std::collections::HashSet<Vec<usize>> = std::collections::HashSet::new();
    for m in matches {
        if m.path.is_empty() {
            return Err(Error::usage(format!(
                "{} is not an index entry",
                m.descriptor.digest
            )));
        }
        let pos: Vec<usize> = m.path.iter().map(|s| s.position).collect();
        let (last, container) = pos.split_last().expect("non-empty");
        let last = *last;
        let container = container.to_vec();
        if seen.insert(pos) {
            groups.entry(container).or_default().push(last);
        }
    }
    // Deepest containers first: editing inside never moves the positions above.
    let mut v: Vec<_> = groups.into_iter().collect();
    v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(v)
}

fn default_all(selector: &crate::select::Selector, given: bool) -> crate::select::Selector {
    if given {
        selector.clone()
    } else {
        selector
            .clone()
            .on_ambiguity(crate::select::OnAmbiguity::All)
    }
}

/// An edit of index.json (and the documents below it): returns what it rewrote and the
/// digests it removed; `write` false computes without storing (dry run).
type EditFn<'a> = dyn Fn(&mut Index, bool) -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> + 'a;

/// Run `edit` on index.json: under the lock, or on a copy for a dry run.
fn run_edit(
    layout: &Layout,
    dry_run: bool,
    edit: &EditFn,
) -> Result<(Index, Vec<rewrite::Rewritten>, Vec<String>, bool)> {
    if dry_run {
        let (mut idx, _) = layout.read_index()?;
        let (rw, removed) = edit(&mut idx, false)?;
        return Ok((idx, rw, removed, false));
    }
    let ((idx, rw, removed), changed) = layout.transact(|idx| {
        let (rw, removed) = edit(idx, true)?;
        Ok((idx.clone(), rw, removed))
    })?;
    Ok((idx, rw, removed, changed))
}

fn report(
    target: &LayoutRef,
    idx: &Index,
    top: Option<usize>,
    rw: Vec<rewrite::Rewritten>,
    removed: Vec<String>,
    changed: bool,
    dry_run: bool,
) -> EditReport {
    let digest = top
        .and_then(|p| idx.manifests.get(p))
        .map(|d| d.digest.clone())
        .unwrap_or_default();
    let name = match &target.target {
        Target::Name(n) => n.clone(),
        _ => digest.clone(),
    };
    EditReport {
        target: name,
        digest,
        changed: changed || (dry_run && !rw.is_empty()),
        dry_run,
        removed,
        annotated: Vec::new(),
        rewritten: rw,
    }
}

/// `oix index rm LAYOUT:REF SELECTOR…`: remove the chosen entries (all matches unless
/// `--on-ambiguity` says otherwise) with their attestations.
pub fn remove(
    layout: &Layout,
    r: &LayoutRef,
    selector: &crate::select::Selector,
    ambiguity_given: bool,
    dry_run: bool,
) -> Result<EditReport> {
    if !selector.has_filters() {
        return Err(
            Error::usage("index rm needs a selector (--platform or --where)")
                .with_hint("to drop the whole ref use `oix untag`"),
        );
    }
    let sel = default_all(selector, ambiguity_given);
    let edit = |idx: &mut Index, write: bool| -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> {
        let found = sel.select(layout, r)?;
        let removed: Vec<String> = found
            .matches
            .iter()
            .map(|m| m.descriptor.digest.clone())
            .collect();
        let mut all = Vec::new();
        let mut pending = rewrite::Pending::new();
        for (container, positions) in by_container(&found.matches)? {
            if container.is_empty() {
                return Err(Error::usage(format!(
                    "{r} names top-level entries; index rm removes entries of an index"
                ))
                .with_hint("remove top-level refs with `oix untag`"));
            }
            all.extend(rewrite::rewrite_with(
                layout,
                idx,
                &container,
                &rewrite::Change::RemoveEntries { positions },
                write,
                &mut pending,
            )?);
        }
        Ok((all, removed))
    };
    let top = top_position(layout, r)?;
    let (idx, rw, removed, changed) = run_edit(layout, dry_run, &edit)?;
    Ok(report(r, &idx, top, rw, removed, changed, dry_run))
}

/// The index.json position of the top-level entry `r` names, when it names one.
fn top_position(layout: &Layout, r: &LayoutRef) -> Result<Option<usize>> {
    let (idx, _) = layout.read_index()?;
    let c = resolve::candidates(layout, &idx, &r.target)?;
    Ok(match c.as_slice() {
        [one] => one.top_level,
        _ => None,
    })
}

/// `oix annotate`: without a selector, the document REF names; with one, the chosen
/// descriptors; with `manifest`, inside the chosen documents.
pub fn annotate(
    layout: &Layout,
    r: &LayoutRef,
    selector: Option<(&crate::select::Selector, bool)>,
    manifest: bool,
    set: &BTreeMap<String, String>,
    unset: &[String],
    dry_run: bool,
) -> Result<EditReport> {
    if set.is_empty() && unset.is_empty() {
        return Err(Error::usage(
            "annotate needs --set KEY=VALUE or --unset KEY",
        ));
    }
    let top = top_position(layout, r)?;
    let edit = |idx: &mut Index, write: bool| -> Result<(Vec<rewrite::Rewritten>, Vec<String>)> {
        let mut all = Vec::new();
        let mut picked = Vec::new();
        let mut pending = rewrite::Pending::new();
        match selector.filter(|(s, _)| s.has_filters()) {
            None => {
                let pos = top.ok_or_else(|| {
                    Error::usage(format!("{r} does not name one top-level entry")).with_hint(
                        "name a ref (LAYOUT:REF), or select entries with --platform/--where",
                    )
                })?;
                let change = rewrite::Change::Annotate {
                    set: set.clone(),
                    unset: unset.to_vec(),
                };
                all.extend(rewrite::rewrite(layout, idx, &[pos], &change, write)?);
            }
            Some((s, given)) => {
                let found = default_all(s, given).select(layout, r)?;
                picked.extend(found.matches.iter().map(|m| m.descriptor.digest.clone()));
                if manifest {
                    let mut paths: Vec<Vec<usize>> = found
                        .matches
                        .iter()
                        .map(|m| m.path.iter().map(|s| s.position).collect())
                        .collect();
                    paths.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
                    paths.dedup();
                    for p in paths {
                        let change = rewrite::Change::Annotate {
                            set: set.clone(),
                            unset: unset.to_vec(),
                        };
                        all.extend(rewrite::rewrite_with(
                            layout,
                            idx,
                            &p,
                            &change,
                            write,
                            &mut pending,
                        )?);
                    }
                } else {
                    for (container, positions) in by_container(&found.matches)? {
                        let change = rewrite::Change::AnnotateEntries {
                            positions,
                            set: set.clone(),
                            unset: unset.to_vec(),
                        };
                        all.extend(rewrite::rewrite_with(
                            layout,
                            idx,
                            &container,
                            &change,
                            write,
                            &mut pending,
                        )?);
                    }
                }
            }
        }
        Ok((all, picked))
    };
    let (idx, rw, picked, changed) = run_edit(layout, dry_run, &edit)?;
    let mut rep = report(r, &idx, top, rw, Vec::new(), changed, dry_run);
    rep.annotated = picked;
    Ok(rep)
}

/// The entries of TAG's index in `dest` that `selector` chooses (all matches unless
/// the ambiguity policy was given), as TAG's index lists them. Only TAG's own entries
/// can be chosen: a registry edit rewrites that one index.
fn chosen_in_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    selector: &crate::select::Selector,
    ambiguity_given: bool,
    what: &str,
) -> Result<Vec<crate::model::Descriptor>> {
    let name = crate::store::Source::describe(dest);
    let r = LayoutRef {
        path: name.clone().into(),
        target: Target::Name(tag.to_string()),
    };
    let found = default_all(selector, ambiguity_given).select(dest, &r)?;
    found
        .matches
        .into_iter()
        .map(|m| {
            if m.path.len() == 2 {
                Ok(m.descriptor)
            } else {
                Err(Error::usage(format!(
                    "{name}:{tag}: {} is not an entry of the index {tag} names",
                    m.descriptor.digest
                ))
                .with_hint(format!(
                    "on a registry, {what} edits entries of TAG's own index; edit nested \
                     indexes or a single image in a layout"
                )))
            }
        })
        .collect()
}

/// Run a registry edit of TAG's entries and report it as the layout edits do.
fn edit_in_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    dry_run: bool,
    jobs: usize,
    build: &super::remote::StoreBuildFn,
) -> Result<EditReport> {
    let o = super::remote::edit_store(
        dest,
        tag,
        &BTreeMap::new(),
        dry_run,
        &[],
        &[],
        build,
        true,
        jobs,
        &crate::copy::stores::Carry::none(),
    )?;
    let before = o.previous.clone();
    let rewritten = match before {
        Some(from) if from != o.digest => vec![rewrite::Rewritten {
            path: Vec::new(),
            from,
            to: o.digest.clone(),
        }],
        _ => Vec::new(),
    };
    Ok(EditReport {
        target: tag.to_string(),
        digest: o.digest,
        changed: o.changed || (dry_run && !rewritten.is_empty()),
        dry_run,
        removed: Vec::new(),
        annotated: Vec::new(),
        rewritten,
    })
}

/// `oix index rm docker://HOST/REPO:TAG SELECTOR…`: remove the entries of TAG's index
/// that the selector chooses (with their attestations), reading manifests and configs
/// only, and PUT the new index ([`super::remote`]). Entries of nested indexes are not
/// reached: on a registry only TAG's own entries are removed.
pub fn remove_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    selector: &crate::select::Selector,
    ambiguity_given: bool,
    dry_run: bool,
    jobs: usize,
) -> Result<EditReport> {
    if !selector.has_filters() {
        return Err(
            Error::usage("index rm needs a selector (--platform or --where)")
                .with_hint("to drop the whole tag use `oix untag`"),
        );
    }
    let chosen = chosen_in_store(dest, tag, selector, ambiguity_given, "index rm")?;
    let build = |existing: Vec<super::Member>,
                 _: Option<&crate::model::Descriptor>|
     -> Result<Vec<super::Member>> {
        Ok(existing
            .into_iter()
            .filter(|m| !chosen.contains(&m.descriptor))
            .collect())
    };
    let mut rep = edit_in_store(dest, tag, dry_run, jobs, &build)?;
    rep.removed = chosen.iter().map(|d| d.digest.clone()).collect();
    Ok(rep)
}

/// `oix annotate docker://HOST/REPO:TAG SELECTOR… --set/--unset`: edit the annotations
/// on the descriptors of the entries of TAG's index that the selector chooses (the
/// manifests themselves are not touched, so their digests stay), and PUT the new index.
#[allow(clippy::too_many_arguments)] // the CLI's flags, one each
pub fn annotate_store(
    dest: &dyn crate::publish::Destination,
    tag: &str,
    selector: &crate::select::Selector,
    ambiguity_given: bool,
    set: &BTreeMap<String, String>,
    unset: &[String],
    dry_run: bool,
    jobs: usize,
) -> Result<EditReport> {
    if set.is_empty() && unset.is_empty() {
        return Err(Error::usage(
            "annotate needs --set KEY=VALUE or --unset KEY",
        ));
    }
    if !selector.has_filters() {
        return Err(Error::usage(format!(
            "annotate on a registry edits entry descriptors of {tag}: it needs --platform or --where"
        ))
        .with_hint("to edit the annotations of the index document itself, pull it, annotate in the layout and push"));
    }
    let chosen = chosen_in_store(dest, tag, selector, ambiguity_given, "annotate")?;
    let build = |existing: Vec<super::Member>,
                 _: Option<&crate::model::Descriptor>|
     -> Result<Vec<super::Member>> {
        Ok(existing
            .into_iter()
            .map(|mut m| {
                if chosen.contains(&m.descriptor) {
                    for k in unset {
                        m.descriptor.annotations.remove(k);
                    }
                    for (k, v) in set {
                        m.descriptor.annotations.insert(k.clone(), v.clone());
                    }
                }
                m
            })
            .collect())
    };
    let mut rep = edit_in_store(dest, tag, dry_run, jobs, &build)?;
    rep.annotated = chosen.iter().map(|d| d.digest.clone()).collect();
    Ok(rep)
}
