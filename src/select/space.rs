//! The search space: the entries a reference names and the walk below them, and which
//! of them are candidates ([`Candidates`]).

use super::PathStep;
use crate::error::{Error, Result};
use crate::graph::{self, EntryWalk};
use crate::model::{Descriptor, Index};
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use crate::store::Names;

/// The entries a reference names and the walk below them.
pub(super) struct Space<'a> {
    pub(super) walk: EntryWalk<'a>,
    /// Nodes of `walk` that are candidates: a contiguous pre-order range.
    pub(super) range: std::ops::Range<usize>,
    /// Depth (in `walk`) of the named entries.
    pub(super) root_depth: usize,
    /// Position in index.json of each walk root; `None` when the roots are all of
    /// index.json in order.
    pub(super) top_positions: Option<Vec<usize>>,
    /// The one candidate is not an index entry (a config or layer named by digest).
    pub(super) not_an_entry: bool,
    /// The reference names entries (`:REF`, `@DIGEST`), not all of index.json: a named
    /// entry that is an index stands for its entries (see [`Candidates::Entries`]).
    pub(super) named: bool,
    pub(super) implicit: bool,
    pub(super) warnings: Vec<String>,
}

/// Which nodes of a [`Space`] a filtered search evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Candidates {
    /// The rule of every command that picks entries (docs/selection.md, section 1): every
    /// entry at and below the named entries, except that a named entry which is an index
    /// is not a candidate itself (its entries are). `LAYOUT` alone names index.json,
    /// whose entries are all candidates.
    Entries,
    /// Only the named entries themselves (the fallback of `oix ls`).
    Named,
}

impl<'a> Space<'a> {
    /// With `expand`, the walk reads every nested index below the named entries (needed
    /// by filters); without, it holds only the named entries.
    pub(super) fn resolve(
        store: &dyn Names,
        index: &'a Index,
        r: &LayoutRef,
        expand: bool,
    ) -> Result<Space<'a>> {
        let walk_roots = |roots: std::borrow::Cow<'a, [Descriptor]>| {
            if expand {
                graph::walk_entries(store, roots)
            } else {
                EntryWalk {
                    entries: (0..roots.len())
                        .map(|i| graph::EntryNode {
                            parent: None,
                            position: i,
                            depth: 0,
                            index: None,
                        })
                        .collect(),
                    roots,
                    ..Default::default()
                }
            }
        };
        let space = |walk: EntryWalk<'a>, top_positions, implicit, warnings| Space {
            range: 0..walk.entries.len(),
            walk,
            root_depth: 0,
            top_positions,
            not_an_entry: false,
            named: r.target != Target::Default,
            implicit,
            warnings,
        };
        match &r.target {
            Target::Default => {
                if index.manifests.is_empty() {
                    return Err(Error::no_match(format!("{r}: the layout is empty"))
                        .with_hint("index.json lists no entries; check the layout path"));
                }
                let walk = walk_roots(index.manifests[..].into());
                Ok(space(walk, None, false, Vec::new()))
            }
            Target::Name(_) => {
                let named = resolve::candidates(store, index, &r.target)?;
                if named.is_empty() {
                    // resolve_in words the "no such ref" error (exit 3) with the refs list
                    return Err(resolve::resolve_in(store, index, r)
                        .err()
                        .unwrap_or_else(|| Error::no_match(format!("{r}: nothing named"))));
                }
                let implicit = named.len() > 1;
                let mut warnings = Vec::new();
                if implicit {
                    warnings.push(format!(
                        "{r}: {} top-level entries share this ref (implicit multi-arch); they \
                         are searched as one set; `oix fold {r}` makes them one index",
                        named.len()
                    ));
                }
                let (pos, roots): (Vec<usize>, Vec<Descriptor>) = named
                    .into_iter()
                    .map(|x| (x.top_level.unwrap_or(0), x.descriptor))
                    .unzip();
                let walk = walk_roots(roots.into());
                Ok(space(walk, Some(pos), implicit, warnings))
            }
            Target::Digest(d) => {
                let want = d.to_string();
                let walk = graph::walk_entries(store, &index.manifests[..]);
                // A top-level occurrence first (as `resolve` does), else the first one
                // depth-first.
                let hit = |k: &usize| walk.descriptor(*k).digest == want;
                let top = (0..walk.entries.len()).filter(|&k| walk.entries[k].depth == 0);
                if let Some(k) = top
                    .into_iter()
                    .find(hit)
                    .or_else(|| (0..walk.entries.len()).find(hit))
                {
                    let depth = walk.entries[k].depth;
                    let end = (k + 1..walk.entries.len())
                        .find(|&j| walk.entries[j].depth <= depth)
                        .unwrap_or(walk.entries.len());
                    let mut sp = space(walk, None, false, Vec::new());
                    sp.range = k..end;
                    sp.root_depth = depth;
                    return Ok(sp);
                }
                // Not an index entry: a config, layer or subject somewhere in the graph.
                let found = resolve::resolve_in(store, index, r)?;
                let walk = graph::walk_entries(store, vec![found.descriptor]);
                let mut sp = space(walk, Some(vec![0]), false, Vec::new());
                sp.range = 0..1;
                sp.not_an_entry = true;
                Ok(sp)
            }
        }
    }

    /// The named entries themselves.
    pub(super) fn root_nodes(&self) -> Vec<usize> {
        self.range
            .clone()
            .filter(|&i| self.walk.entries[i].depth == self.root_depth)
            .collect()
    }

    pub(super) fn path_of(&self, node: usize) -> Vec<PathStep> {
        if self.not_an_entry {
            return Vec::new();
        }
        self.walk
            .path(node)
            .into_iter()
            .map(|i| {
                let n = &self.walk.entries[i];
                PathStep {
                    digest: self.walk.descriptor(i).digest.clone(),
                    position: match (&self.top_positions, n.parent) {
                        (Some(tp), None) => tp[n.position],
                        _ => n.position,
                    },
                }
            })
            .collect()
    }
}
