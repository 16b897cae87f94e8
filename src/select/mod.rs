//! The selector engine: the one place in oix that decides which index entries a command
//! acts on. `select`, `ls`, `inspect` and every later command that picks entries
//! (`index rm`, `annotate`, `export`, `push`, `merge`) call [`Selector::find`] or
//! [`Selector::select`]. The rules are written for users in docs/selection.md and in
//! `oix select --help`; this comment is the short form.
//!
//! **Search space.** `LAYOUT:REF` names top-level entries of index.json. Several entries
//! sharing one ref.name form one candidate set (implicit multi-arch; a warning says so).
//! `LAYOUT` alone means all of index.json; `LAYOUT@DIGEST` that digest's top-level entry,
//! else its first occurrence depth-first. A selector without filters selects those named entries
//! themselves. With filters, the candidates are the named entries and every entry of
//! every index below them, searched depth-first in document order (an index before its
//! entries); each match reports its path.
//!
//! **Filters.** Every `--where` must hold; at least one `--platform` must match (see
//! [`crate::platform`] for normalization and the two match modes). The platform of an
//! entry is its descriptor's, else the one in its image config (shown as derived). An
//! index has no platform unless its descriptor gives one.
//!
//! **Scope.** Annotation conditions read the descriptor's annotations (`descriptor`,
//! the default), the annotations inside the manifest or index it points to
//! (`manifest`), or either (`any`: a positive condition holds if it holds in either, a
//! negative one if its positive form holds in neither). Annotations of an index are
//! never inherited by its children unless [`Selector::inherit`] is set; then an entry
//! without the key sees the value of the nearest index above it (for `descriptor`: the
//! descriptors that point to those indexes; for `manifest`: the index documents, up to
//! index.json).
//!
//! **Attestations** (`vnd.docker.reference.type: attestation-manifest`, or platform
//! unknown/unknown) never match a platform filter. They travel with the entry their
//! `vnd.docker.reference.digest` names: each match lists the attestations of its
//! index that refer to it. An attestation matched by `--where` alone is reported on its
//! own only when the entry it refers to is not itself a match.
//!
//! **Ambiguity.** [`OnAmbiguity`]: `error` (exit 4, listing every candidate with digest,
//! platform, matched annotations and why), `first` (first in depth-first document
//! order), `best` (the uniquely highest-ranked under compatible matching, else exit 4
//! listing the tie), `all`. Nothing matching is exit 3 with the nearest candidates.
//! Matches that are all the same digest are not ambiguous (the first is used).

pub mod args;
mod expr;
pub mod fold;

pub use args::{AmbiguityArgs, SelectorArgs};
pub use expr::{Condition, Field, Key, Op};

use crate::error::{Error, Result};
use crate::graph::{self, EntryWalk};
use crate::layout::Layout;
use crate::model::Platform;
use crate::model::{annotation, Descriptor, Document, Index};
use crate::platform::{
    derived_platform, EntryPlatform, Fallbacks, MatchMode, PlatformMatch, PlatformSpec, Rank,
};
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// `--scope`: which annotations an annotation condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The annotations on the descriptor (the entry in its index).
    #[default]
    Descriptor,
    /// The annotations inside the manifest or index the descriptor points to.
    Manifest,
    /// Either of the two.
    Any,
}

/// `--on-ambiguity`: what a command that needs one result does with several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnAmbiguity {
    /// Fail with exit code 4, listing every candidate.
    #[default]
    Error,
    /// The first match in depth-first document order (the image-spec's SHOULD).
    First,
    /// The uniquely highest-ranked match under compatible matching, else exit 4.
    Best,
    /// Every match.
    All,
}

/// What to select. Build it in code with the builder methods, or from command-line flags
/// with [`SelectorArgs::to_selector`].
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Any may match; an entry matching an earlier one ranks higher under `best`.
    pub platforms: Vec<PlatformSpec>,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// `None`: exact, except compatible when `on_ambiguity` is `best`.
    pub mode: Option<MatchMode>,
    pub fallbacks: Fallbacks,
    pub scope: Scope,
    pub inherit: bool,
    pub on_ambiguity: OnAmbiguity,
}

/// One step of a match's path: the descriptor taken and its position in the index that
/// lists it (the first step is in index.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub digest: String,
    pub position: usize,
}

/// One selected entry.
#[derive(Debug, Clone)]
pub struct Match {
    pub descriptor: Descriptor,
    /// From index.json down to this entry (inclusive). Empty when the entry is not an
    /// index entry (a config or layer named by digest).
    pub path: Vec<Step>,
    /// Its platform, and whether it was derived from the config.
    pub platform: Option<EntryPlatform>,
    /// The keys whose values made positive conditions hold (annotations and fields).
    pub matched: BTreeMap<String, String>,
    /// Why it matched, one line per filter.
    pub why: Vec<String>,
    /// Attestation entries of the same index that refer to this entry.
    pub attestations: Vec<Descriptor>,
    /// Position of the platform filter that matched, and how well.
    pub rank: Option<(usize, Rank)>,
}

/// Where a match is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container<'a> {
    IndexJson,
    /// A nested index, by digest.
    Index(&'a str),
    /// Not an index entry (a config or layer named by digest).
    Unknown,
}

impl Match {
    /// The document that lists this entry.
    pub fn container(&self) -> Container<'_> {
        match self.path.len() {
            0 => Container::Unknown,
            1 => Container::IndexJson,
            n => Container::Index(&self.path[n - 2].digest),
        }
    }
    /// Position in its container's `manifests`.
    pub fn position(&self) -> Option<usize> {
        self.path.last().map(|s| s.position)
    }
    /// `index.json[2] > sha256:0123456789ab…[1]`
    pub fn path_display(&self) -> String {
        if self.path.is_empty() {
            return "(not an index entry)".into();
        }
        let mut s = format!("index.json[{}]", self.path[0].position);
        for w in self.path.windows(2) {
            s.push_str(&format!(
                " > {}[{}]",
                short_digest(&w[0].digest),
                w[1].position
            ));
        }
        s
    }
    pub fn platform_display(&self) -> String {
        match &self.platform {
            Some(p) => p.display(),
            None if self.descriptor.is_index() => "(index)".into(),
            None => "-".into(),
        }
    }
}

impl Serialize for Match {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            digest: &'a str,
            descriptor: &'a Descriptor,
            path: &'a [Step],
            platform: Option<&'a crate::model::Platform>,
            #[serde(rename = "platformDerived")]
            platform_derived: bool,
            matched: &'a BTreeMap<String, String>,
            why: &'a [String],
            attestations: &'a [Descriptor],
        }
        Out {
            digest: &self.descriptor.digest,
            descriptor: &self.descriptor,
            path: &self.path,
            platform: self.platform.as_ref().map(|p| &p.platform),
            platform_derived: self.platform.as_ref().is_some_and(|p| p.derived),
            matched: &self.matched,
            why: &self.why,
            attestations: &self.attestations,
        }
        .serialize(s)
    }
}

/// A candidate that did not match, for the "nearest candidates" of a failed selection.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub digest: String,
    pub path: Vec<Step>,
    pub platform: Option<String>,
    /// Why it did not match.
    pub reasons: Vec<String>,
}

/// The result of a search.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub matches: Vec<Match>,
    /// Things the user should know (implicit multi-arch, entries without a platform, a
    /// duplicate chosen); the CLI prints them as `warning:` lines.
    pub warnings: Vec<String>,
    /// The REF named several top-level entries.
    pub implicit: bool,
    /// Number of entries examined.
    pub searched: usize,
    /// The closest non-matching candidates (filled when nothing matched).
    pub nearest: Vec<Miss>,
}

fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d.to_string(),
    }
}

impl Selector {
    pub fn new() -> Selector {
        Selector::default()
    }
    pub fn platform(mut self, p: PlatformSpec) -> Selector {
        self.platforms.push(p);
        self
    }
    pub fn condition(mut self, c: Condition) -> Selector {
        self.conditions.push(c);
        self
    }
    /// Add a parsed `--where` expression.
    pub fn where_expr(self, expr: &str) -> Result<Selector> {
        Ok(self.condition(Condition::parse(expr)?))
    }
    pub fn match_mode(mut self, m: MatchMode) -> Selector {
        self.mode = Some(m);
        self
    }
    pub fn fallbacks(mut self, f: Fallbacks) -> Selector {
        self.fallbacks = f;
        self
    }
    pub fn scope(mut self, s: Scope) -> Selector {
        self.scope = s;
        self
    }
    pub fn inherit(mut self, yes: bool) -> Selector {
        self.inherit = yes;
        self
    }
    pub fn on_ambiguity(mut self, a: OnAmbiguity) -> Selector {
        self.on_ambiguity = a;
        self
    }

    /// True when the selector filters (any `--platform` or `--where`).
    pub fn has_filters(&self) -> bool {
        !self.platforms.is_empty() || !self.conditions.is_empty()
    }

    /// The match mode in effect: as set, else compatible for `best`, else exact.
    pub fn effective_mode(&self) -> MatchMode {
        self.mode
            .unwrap_or(if self.on_ambiguity == OnAmbiguity::Best {
                MatchMode::Compatible
            } else {
                MatchMode::Exact
            })
    }

    /// Check option combinations (usage errors).
    pub fn validate(&self) -> Result<()> {
        if self.fallbacks.any() && self.effective_mode() != MatchMode::Compatible {
            return Err(
                Error::usage("--fallback applies only to compatible matching")
                    .with_hint("add --match compatible (or --on-ambiguity best)"),
            );
        }
        if self.fallbacks.any() && self.platforms.is_empty() {
            return Err(Error::usage("--fallback needs a --platform"));
        }
        Ok(())
    }

    /// The filters in words, for messages: `platform linux/arm64 (exact), where a=b`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.platforms.is_empty() {
            let ps: Vec<String> = self.platforms.iter().map(|p| p.to_string()).collect();
            let mode = match self.effective_mode() {
                MatchMode::Exact => "exact",
                MatchMode::Compatible => "compatible",
            };
            parts.push(format!("platform {} ({mode})", ps.join(" or ")));
        }
        if !self.conditions.is_empty() {
            let cs: Vec<String> = self.conditions.iter().map(|c| c.to_string()).collect();
            let mut s = format!("where {}", cs.join(", "));
            if self.scope != Scope::Descriptor {
                s.push_str(&format!(
                    " (scope {})",
                    match self.scope {
                        Scope::Manifest => "manifest",
                        _ => "any",
                    }
                ));
            }
            if self.inherit {
                s.push_str(" (inherited)");
            }
            parts.push(s);
        }
        if parts.is_empty() {
            "no filter".into()
        } else {
            parts.join(", ")
        }
    }

    /// Every entry the selector matches, in depth-first document order. No ambiguity
    /// policy is applied and finding nothing is not an error (see `nearest`). Fails when
    /// the reference names nothing (exit 3) or a nested index cannot be read (exit 1).
    pub fn find(&self, layout: &Layout, r: &LayoutRef) -> Result<Selection> {
        self.validate()?;
        let (index, _) = layout.read_index()?;
        Engine::new(self, layout, &index, r)?.run()
    }

    /// [`Selector::find`], then the ambiguity policy: exit 3 when nothing matches (with
    /// the nearest candidates), exit 4 when several match and the policy cannot choose.
    pub fn select(&self, layout: &Layout, r: &LayoutRef) -> Result<Selection> {
        let found = self.find(layout, r)?;
        self.choose(found, r)
    }

    /// Exactly one match (`all` is treated as `error`).
    pub fn select_one(&self, layout: &Layout, r: &LayoutRef) -> Result<(Match, Vec<String>)> {
        let mut sel = self.clone();
        if sel.on_ambiguity == OnAmbiguity::All {
            sel.on_ambiguity = OnAmbiguity::Error;
        }
        let mut s = sel.select(layout, r)?;
        Ok((s.matches.remove(0), s.warnings))
    }

    /// Apply the ambiguity policy to a found selection.
    pub fn choose(&self, mut found: Selection, r: &LayoutRef) -> Result<Selection> {
        let n = found.matches.len();
        if n == 0 {
            return Err(self.no_match_error(&found, r));
        }
        if n == 1 || self.on_ambiguity == OnAmbiguity::All {
            return Ok(found);
        }
        let first_digest = found.matches[0].descriptor.digest.clone();
        if found
            .matches
            .iter()
            .all(|m| m.descriptor.digest == first_digest)
        {
            found.warnings.push(format!(
                "{first_digest} is listed {n} times; using the first ({})",
                found.matches[0].path_display()
            ));
            found.matches.truncate(1);
            return Ok(found);
        }
        match self.on_ambiguity {
            OnAmbiguity::All => Ok(found),
            OnAmbiguity::First => {
                found.matches.truncate(1);
                found.matches[0].why.push(format!(
                    "first of {n} matches in index order (--on-ambiguity first)"
                ));
                Ok(found)
            }
            OnAmbiguity::Best => {
                let best = found.matches.iter().filter_map(|m| m.rank).min();
                let tied: Vec<usize> = (0..n)
                    .filter(|&i| best.is_some() && found.matches[i].rank == best)
                    .collect();
                // A tie between listings of one digest is no tie.
                let one_digest = tied.iter().all(|&i| {
                    found.matches[i].descriptor.digest == found.matches[tied[0]].descriptor.digest
                });
                if !tied.is_empty() && one_digest {
                    let mut m = found.matches.swap_remove(tied[0]);
                    m.why
                        .push(format!("ranked best of {n} matches (--on-ambiguity best)"));
                    found.matches = vec![m];
                    return Ok(found);
                }
                let candidates: Vec<Match> = if tied.is_empty() {
                    found.matches
                } else {
                    tied.iter().map(|&i| found.matches[i].clone()).collect()
                };
                let why = if best.is_none() {
                    "nothing to rank them by (best ranks platform matches)".to_string()
                } else {
                    format!("{} tie for best", candidates.len())
                };
                Err(self.ambiguous_error(&candidates, n, r, found.implicit, &why))
            }
            OnAmbiguity::Error => {
                Err(self.ambiguous_error(&found.matches, n, r, found.implicit, ""))
            }
        }
    }

    fn ambiguous_error(
        &self,
        candidates: &[Match],
        n: usize,
        r: &LayoutRef,
        implicit: bool,
        why: &str,
    ) -> Error {
        let mut msg = if self.has_filters() {
            format!("{r}: {n} entries match {}", self.describe())
        } else if r.target == Target::Default {
            format!("{r}: the layout holds {n} top-level entries; name one (LAYOUT:REF) or filter")
        } else {
            format!("{r}: {n} top-level entries share this ref")
        };
        if !why.is_empty() {
            msg.push_str(&format!(" ({why})"));
        }
        msg.push(':');
        for m in candidates {
            msg.push_str(&format!(
                "\n  {}  {}  {}  {}",
                m.descriptor.ref_name().unwrap_or("-"),
                m.descriptor.digest,
                m.platform_display(),
                m.path_display()
            ));
            if !m.matched.is_empty() {
                let kv: Vec<String> = m.matched.iter().map(|(k, v)| format!("{k}={v}")).collect();
                msg.push_str(&format!("\n      matched: {}", kv.join(", ")));
            }
            msg.push_str(&format!("\n      why: {}", m.why.join("; ")));
        }
        let mut hint = "narrow the selector (--where, a more specific --platform), choose with \
                        --on-ambiguity first|best|all, or name one entry as LAYOUT@DIGEST"
            .to_string();
        if implicit {
            hint.push_str(&format!(
                "; `oix fold {}:{}` turns the implicit multi-arch set into one index",
                r.path.display(),
                match &r.target {
                    Target::Name(n) => n.as_str(),
                    _ => "REF",
                }
            ));
        }
        Error::ambiguous(msg)
            .with_hint(hint)
            .with_details(serde_json::json!({ "candidates": candidates }))
    }

    fn no_match_error(&self, found: &Selection, r: &LayoutRef) -> Error {
        let mut msg = format!(
            "{r}: nothing matches {} among {} entries",
            self.describe(),
            found.searched
        );
        if !found.nearest.is_empty() {
            msg.push_str("; nearest candidates:");
            for m in &found.nearest {
                msg.push_str(&format!(
                    "\n  {}  {}  {}",
                    m.digest,
                    m.platform.as_deref().unwrap_or("-"),
                    m.reasons.join("; ")
                ));
            }
        }
        let hint = if found
            .nearest
            .iter()
            .any(|m| m.reasons.iter().any(|r| r.contains("--match compatible")))
        {
            "an entry would match with --match compatible (it runs on the wanted platform)"
                .to_string()
        } else if found
            .nearest
            .iter()
            .any(|m| m.reasons.iter().any(|r| r.contains("--fallback")))
        {
            "an entry would match with an opt-in --fallback (see `oix select --help`)".to_string()
        } else {
            format!("list the entries with `oix ls {r} --tree`")
        };
        Error::no_match(msg)
            .with_hint(hint)
            .with_details(serde_json::json!({ "nearest": found.nearest }))
    }
}

/// One entry of [`members`], with its path.
#[derive(Debug, Clone)]
pub struct Member {
    pub descriptor: Descriptor,
    pub path: Vec<Step>,
}

/// The result of [`members`].
#[derive(Debug, Clone, Default)]
pub struct Members {
    pub entries: Vec<Member>,
    pub warnings: Vec<String>,
}

/// What `oix ls LAYOUT:REF` lists without filters: the entries of the index REF names
/// (the members of an implicit multi-arch set, or the one image REF names); for `LAYOUT`
/// alone, the entries of index.json.
pub fn members(layout: &Layout, r: &LayoutRef) -> Result<Members> {
    let (index, _) = layout.read_index()?;
    if r.target == Target::Default {
        let entries = index
            .manifests
            .into_iter()
            .enumerate()
            .map(|(i, d)| Member {
                path: vec![Step {
                    digest: d.digest.clone(),
                    position: i,
                }],
                descriptor: d,
            })
            .collect();
        return Ok(Members {
            entries,
            warnings: Vec::new(),
        });
    }
    let space = Space::resolve(layout, &index, r, false)?;
    let warnings = space.warnings.clone();
    let roots = space.root_nodes();
    if r.target != Target::Default && roots.len() == 1 && space.walk.descriptor(roots[0]).is_index()
    {
        let prefix = space.path_of(roots[0]);
        let idx = match space.walk.index(roots[0]) {
            Some(idx) => idx.clone(),
            None => match layout.read_document(space.walk.descriptor(roots[0]))? {
                (_, Some(Document::Index(idx))) => idx,
                _ => Index::default(),
            },
        };
        let out = idx
            .manifests
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let mut p = prefix.clone();
                p.push(Step {
                    digest: d.digest.clone(),
                    position: i,
                });
                Member {
                    descriptor: d,
                    path: p,
                }
            })
            .collect();
        return Ok(Members {
            entries: out,
            warnings,
        });
    }
    let out = roots
        .iter()
        .map(|&i| Member {
            descriptor: space.walk.descriptor(i).clone(),
            path: space.path_of(i),
        })
        .collect();
    Ok(Members {
        entries: out,
        warnings,
    })
}

// ---------------------------------------------------------------------------------------
// The search

/// The entries a reference names and the walk below them.
struct Space<'a> {
    walk: EntryWalk<'a>,
    /// Nodes of `walk` that are candidates: a contiguous pre-order range.
    range: std::ops::Range<usize>,
    /// Depth (in `walk`) of the named entries.
    root_depth: usize,
    /// Position in index.json of each walk root; `None` when the roots are all of
    /// index.json in order.
    top_positions: Option<Vec<usize>>,
    /// The one candidate is not an index entry (a config or layer named by digest).
    not_an_entry: bool,
    implicit: bool,
    warnings: Vec<String>,
}

impl<'a> Space<'a> {
    /// With `expand`, the walk reads every nested index below the named entries (needed
    /// by filters); without, it holds only the named entries.
    fn resolve(
        layout: &Layout,
        index: &'a Index,
        r: &LayoutRef,
        expand: bool,
    ) -> Result<Space<'a>> {
        let walk_roots = |roots: std::borrow::Cow<'a, [Descriptor]>| {
            if expand {
                graph::walk_entries(layout, roots)
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
                let named = resolve::candidates(layout, index, &r.target)?;
                if named.is_empty() {
                    // resolve_one words the "no such ref" error (exit 3) with the refs list
                    return Err(resolve::resolve_one(layout, r)
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
                let walk = graph::walk_entries(layout, &index.manifests[..]);
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
                let found = resolve::resolve_one(layout, r)?;
                let walk = graph::walk_entries(layout, vec![found.descriptor]);
                let mut sp = space(walk, Some(vec![0]), false, Vec::new());
                sp.range = 0..1;
                sp.not_an_entry = true;
                Ok(sp)
            }
        }
    }

    /// The named entries themselves.
    fn root_nodes(&self) -> Vec<usize> {
        self.range
            .clone()
            .filter(|&i| self.walk.entries[i].depth == self.root_depth)
            .collect()
    }

    fn path_of(&self, node: usize) -> Vec<Step> {
        if self.not_an_entry {
            return Vec::new();
        }
        self.walk
            .path(node)
            .into_iter()
            .map(|i| {
                let n = &self.walk.entries[i];
                Step {
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

/// Where an annotation value came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Descriptor,
    Document,
    /// Inherited from the descriptor of the index node `usize`.
    InheritedDescriptor(usize),
    /// Inherited from the document of the index node `usize`.
    InheritedDocument(usize),
    InheritedIndexJson,
}

struct Engine<'a> {
    sel: &'a Selector,
    layout: &'a Layout,
    index: &'a Index,
    r: &'a LayoutRef,
    space: Space<'a>,
    mode: MatchMode,
    /// Annotations inside each manifest node's document (read on demand).
    doc_annotations: RefCell<HashMap<usize, Option<BTreeMap<String, String>>>>,
    /// Platforms derived from configs (read on demand).
    derived: RefCell<HashMap<usize, Option<Platform>>>,
    /// Per container (`None` = index.json): attestation entries by subject digest.
    attestations: RefCell<HashMap<Option<usize>, BySubject>>,
}

/// Attestation entries by the digest they refer to.
type BySubject = HashMap<String, Vec<Descriptor>>;

/// The outcome of evaluating one candidate.
struct Eval {
    matched: bool,
    /// The first (by --platform order, then rank) platform that matched.
    platform: Option<(usize, PlatformMatch)>,
    /// The entry has no platform at all.
    no_platform: bool,
    /// Per condition: whether it holds.
    holds: Vec<bool>,
    /// For nearest-candidate ordering.
    score: u32,
}

impl<'a> Engine<'a> {
    fn new(
        sel: &'a Selector,
        layout: &'a Layout,
        index: &'a Index,
        r: &'a LayoutRef,
    ) -> Result<Engine<'a>> {
        let space = Space::resolve(layout, index, r, sel.has_filters())?;
        Ok(Engine {
            sel,
            layout,
            index,
            r,
            space,
            mode: sel.effective_mode(),
            doc_annotations: RefCell::new(HashMap::new()),
            derived: RefCell::new(HashMap::new()),
            attestations: RefCell::new(HashMap::new()),
        })
    }

    fn desc(&self, i: usize) -> &Descriptor {
        self.space.walk.descriptor(i)
    }

    fn parent(&self, i: usize) -> Option<usize> {
        self.space.walk.entries[i].parent
    }

    fn run(self) -> Result<Selection> {
        let mut sel = Selection {
            implicit: self.space.implicit,
            warnings: self.space.warnings.clone(),
            ..Default::default()
        };
        if !self.sel.has_filters() {
            // No filter: the named entries themselves.
            for i in self.space.root_nodes() {
                let why = if self.space.implicit {
                    format!("named by {} (one of an implicit multi-arch set)", self.r)
                } else {
                    format!("named by {}", self.r)
                };
                sel.matches
                    .push(self.make_match(i, None, vec![why], BTreeMap::new()));
            }
            sel.searched = sel.matches.len();
            return Ok(sel);
        }
        // With filters, every entry below must be known: refuse an incomplete search.
        if let Some(p) = self
            .space
            .walk
            .problems
            .iter()
            .find(|p| p.severity == graph::Severity::Error)
        {
            return Err(Error::failure(format!(
                "cannot search {} (listed in {}): {}",
                p.digest.as_deref().unwrap_or("?"),
                p.referrer,
                p.message
            ))
            .with_hint("the selection would be incomplete; run `oix fsck` on the layout"));
        }
        let with_platform = !self.sel.platforms.is_empty();
        let mut misses: Vec<(u32, usize)> = Vec::new();
        let mut matched_nodes: Vec<usize> = Vec::new();
        let mut no_platform = 0usize;
        for i in self.space.range.clone() {
            let d = self.desc(i);
            if with_platform && d.is_attestation() {
                continue;
            }
            sel.searched += 1;
            let ev = self.evaluate(i);
            // Artifacts legitimately have no platform; an image whose manifest is not in
            // the layout (an external blob store) cannot say, which is worth a warning.
            if ev.no_platform
                && !d.is_index()
                && d.digest().is_ok_and(|dg| !self.layout.has_blob(&dg))
            {
                no_platform += 1;
            }
            if !ev.matched {
                // An index never matches a platform: not worth naming as "nearest".
                if !(with_platform && ev.no_platform && d.is_index()) {
                    misses.push((ev.score, i));
                }
                continue;
            }
            let mut why = Vec::new();
            if let Some((k, pm)) = &ev.platform {
                why.push(format!(
                    "platform {} matches {} ({})",
                    self.platform_display(i),
                    self.sel.platforms[*k],
                    pm.how
                ));
            }
            let mut matched = BTreeMap::new();
            for c in &self.sel.conditions {
                let (_, text, kv) = self.explain_condition(i, c);
                why.push(text);
                if let Some((k, v)) = kv {
                    matched.insert(k, v);
                }
            }
            let rank = ev.platform.as_ref().map(|(k, pm)| (*k, pm.rank));
            matched_nodes.push(i);
            sel.matches.push(self.make_match(i, rank, why, matched));
        }
        if no_platform > 0 {
            sel.warnings.push(format!(
                "{no_platform} entries have no descriptor platform and their manifests are \
                 not in the layout; no --platform can match them"
            ));
        }
        // Attestations whose subject also matched travel with it instead.
        let keep: Vec<bool> = matched_nodes
            .iter()
            .map(|&i| {
                let d = self.desc(i);
                !(d.is_attestation()
                    && d.attestation_subject().is_some_and(|s| {
                        matched_nodes
                            .iter()
                            .any(|&j| self.parent(j) == self.parent(i) && self.desc(j).digest == s)
                    }))
            })
            .collect();
        let mut k = keep.into_iter();
        sel.matches.retain(|_| k.next().unwrap_or(true));
        if sel.matches.is_empty() {
            // Highest score first, then document order.
            misses.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            sel.nearest = misses.iter().take(5).map(|&(_, i)| self.miss(i)).collect();
        }
        Ok(sel)
    }

    /// The entry's platform as found: the descriptor's, else the config's (derived).
    fn raw_platform(&self, i: usize) -> Option<(Platform, bool)> {
        let d = self.desc(i);
        if let Some(p) = &d.platform {
            return Some(((**p).clone(), false));
        }
        let mut cache = self.derived.borrow_mut();
        cache
            .entry(i)
            .or_insert_with(|| derived_platform(self.layout, d))
            .clone()
            .map(|p| (p, true))
    }

    fn entry_platform(&self, i: usize) -> Option<EntryPlatform> {
        self.raw_platform(i)
            .map(|(platform, derived)| EntryPlatform { platform, derived })
    }

    fn platform_display(&self, i: usize) -> String {
        self.entry_platform(i)
            .map(|p| p.display())
            .unwrap_or_else(|| "-".into())
    }

    /// The normalized platform of entry `i`, if it has one.
    fn spec(&self, i: usize) -> Option<PlatformSpec> {
        match &self.desc(i).platform {
            Some(p) => Some(PlatformSpec::from_platform(p)),
            None => self
                .raw_platform(i)
                .map(|(p, _)| PlatformSpec::from_platform(&p)),
        }
    }

    fn evaluate(&self, i: usize) -> Eval {
        let mut score = 0;
        let mut platform: Option<(usize, PlatformMatch)> = None;
        let mut no_platform = false;
        let mut ok = true;
        if !self.sel.platforms.is_empty() {
            match self.spec(i) {
                None => no_platform = true,
                Some(have) => {
                    for (k, want) in self.sel.platforms.iter().enumerate() {
                        match want.check(&have, self.mode, self.sel.fallbacks) {
                            Some(pm) => {
                                if platform
                                    .as_ref()
                                    .is_none_or(|(bk, b)| (k, pm.rank) < (*bk, b.rank))
                                {
                                    platform = Some((k, pm));
                                }
                            }
                            None => score = score.max(closeness(want, &have)),
                        }
                    }
                }
            }
            if platform.is_some() {
                score = 8;
            } else {
                ok = false;
            }
        }
        let mut holds = Vec::with_capacity(self.sel.conditions.len());
        for c in &self.sel.conditions {
            let h = self.condition_holds(i, c);
            if h {
                score += 16;
            } else {
                ok = false;
            }
            holds.push(h);
        }
        Eval {
            matched: ok,
            platform,
            no_platform,
            holds,
            score,
        }
    }

    /// The values `key` has for node `i` under the scope (with inheritance), with
    /// where each came from: one value per source the scope reads.
    fn annotation_values(&self, i: usize, key: &str) -> Vec<(Option<String>, Source)> {
        let mut out = Vec::with_capacity(2);
        if matches!(self.sel.scope, Scope::Descriptor | Scope::Any) {
            out.push(self.descriptor_value(i, key));
        }
        if matches!(self.sel.scope, Scope::Manifest | Scope::Any) {
            out.push(self.document_value(i, key));
        }
        out
    }

    fn descriptor_value(&self, i: usize, key: &str) -> (Option<String>, Source) {
        if let Some(v) = self.desc(i).annotations.get(key) {
            return (Some(v.clone()), Source::Descriptor);
        }
        if self.sel.inherit {
            let mut cur = self.parent(i);
            while let Some(p) = cur {
                if let Some(v) = self.desc(p).annotations.get(key) {
                    return (Some(v.clone()), Source::InheritedDescriptor(p));
                }
                cur = self.parent(p);
            }
        }
        (None, Source::Descriptor)
    }

    fn document_value(&self, i: usize, key: &str) -> (Option<String>, Source) {
        if let Some(v) = self.own_document_annotation(i, key) {
            return (Some(v), Source::Document);
        }
        if self.sel.inherit {
            let mut cur = self.parent(i);
            while let Some(p) = cur {
                if let Some(v) = self
                    .space
                    .walk
                    .index(p)
                    .and_then(|idx| idx.annotations.get(key))
                {
                    return (Some(v.clone()), Source::InheritedDocument(p));
                }
                cur = self.parent(p);
            }
            if let Some(v) = self.index.annotations.get(key) {
                return (Some(v.clone()), Source::InheritedIndexJson);
            }
        }
        (None, Source::Document)
    }

    fn own_document_annotation(&self, i: usize, key: &str) -> Option<String> {
        if let Some(idx) = self.space.walk.index(i) {
            return idx.annotations.get(key).cloned();
        }
        let d = self.desc(i);
        if !d.is_manifest() {
            return None;
        }
        let mut cache = self.doc_annotations.borrow_mut();
        let ann = cache
            .entry(i)
            .or_insert_with(|| match self.layout.read_document(d) {
                Ok((_, Some(Document::Manifest(m)))) => Some(m.annotations),
                _ => None,
            });
        ann.as_ref().and_then(|a| a.get(key).cloned())
    }

    fn source_text(&self, i: usize, s: Source) -> String {
        match s {
            Source::Descriptor => "descriptor".into(),
            Source::Document if self.desc(i).is_index() => "index".into(),
            Source::Document => "manifest".into(),
            Source::InheritedDescriptor(p) => format!(
                "inherited from the descriptor of {}",
                short_digest(&self.desc(p).digest)
            ),
            Source::InheritedDocument(p) => {
                format!(
                    "inherited from index {}",
                    short_digest(&self.desc(p).digest)
                )
            }
            Source::InheritedIndexJson => "inherited from index.json".into(),
        }
    }

    /// The values a condition reads for node `i`.
    fn condition_values(&self, i: usize, c: &Condition) -> Vec<(Option<String>, Source)> {
        let d = self.desc(i);
        match &c.key {
            Key::Annotation(k) => self.annotation_values(i, k),
            Key::Field(Field::Ref) => vec![self.descriptor_value(i, annotation::REF_NAME)],
            Key::Field(Field::Digest) => vec![(Some(d.digest.clone()), Source::Descriptor)],
            Key::Field(Field::MediaType) => {
                vec![(Some(d.media_type.clone()), Source::Descriptor)]
            }
            Key::Field(Field::ArtifactType) => {
                vec![(d.artifact_type.clone(), Source::Descriptor)]
            }
        }
    }

    /// The fast path: does condition `c` hold for node `i`?
    fn condition_holds(&self, i: usize, c: &Condition) -> bool {
        let d = self.desc(i);
        // Fields and the common descriptor-only case need no allocation.
        let direct = match &c.key {
            Key::Field(Field::Digest) => Some(Some(d.digest.as_str())),
            Key::Field(Field::MediaType) => Some(Some(d.media_type.as_str())),
            Key::Field(Field::ArtifactType) => Some(d.artifact_type.as_deref()),
            Key::Field(Field::Ref) if !self.sel.inherit => Some(d.ref_name()),
            Key::Annotation(k) if !self.sel.inherit && self.sel.scope == Scope::Descriptor => {
                Some(d.annotations.get(k).map(String::as_str))
            }
            _ => None,
        };
        if let Some(v) = direct {
            return c.eval(&[v]).0;
        }
        let values = self.condition_values(i, c);
        let refs: Vec<Option<&str>> = values.iter().map(|(v, _)| v.as_deref()).collect();
        c.eval(&refs).0
    }

    /// (holds, one line of why / why not, the key=value that made a positive one hold)
    fn explain_condition(
        &self,
        i: usize,
        c: &Condition,
    ) -> (bool, String, Option<(String, String)>) {
        let values = self.condition_values(i, c);
        let refs: Vec<Option<&str>> = values.iter().map(|(v, _)| v.as_deref()).collect();
        let (holds, hit) = c.eval(&refs);
        let name = c.key.name();
        let shown = |v: &Option<String>, s: Source| match v {
            Some(v) => format!("{name}={v} ({})", self.source_text(i, s)),
            None => format!("{name} absent ({})", self.source_text(i, s)),
        };
        let text = match hit {
            // `k=v` matched: the value says it all
            Some(h) if matches!(c.op, Op::Eq(_)) => shown(&values[h].0, values[h].1),
            Some(h) => format!("{c}: {}", shown(&values[h].0, values[h].1)),
            None => {
                let parts: Vec<String> = values.iter().map(|(v, s)| shown(v, *s)).collect();
                format!("{c}: {}", parts.join(", "))
            }
        };
        let text = if holds { text } else { format!("not {text}") };
        let kv = hit.and_then(|h| values[h].0.clone().map(|v| (name.to_string(), v)));
        (holds, text, kv)
    }

    fn make_match(
        &self,
        i: usize,
        rank: Option<(usize, Rank)>,
        why: Vec<String>,
        matched: BTreeMap<String, String>,
    ) -> Match {
        Match {
            descriptor: self.desc(i).clone(),
            path: self.space.path_of(i),
            platform: self.entry_platform(i),
            matched,
            why,
            attestations: self.attestations_of(i),
            rank,
        }
    }

    /// Attestation entries listed next to node `i` that refer to it.
    fn attestations_of(&self, i: usize) -> Vec<Descriptor> {
        if self.space.not_an_entry {
            return Vec::new();
        }
        let parent = self.parent(i);
        let mut cache = self.attestations.borrow_mut();
        // Index each container's attestations by subject once: `--all` over a large
        // index stays linear.
        let by_subject = cache.entry(parent).or_insert_with(|| {
            let siblings: &[Descriptor] = match parent {
                Some(p) => match self.space.walk.index(p) {
                    Some(idx) => &idx.manifests,
                    None => &[],
                },
                None => &self.index.manifests,
            };
            let mut map: HashMap<String, Vec<Descriptor>> = HashMap::new();
            for s in siblings.iter().filter(|s| s.is_attestation()) {
                if let Some(subject) = s.attestation_subject() {
                    map.entry(subject.to_string()).or_default().push(s.clone());
                }
            }
            map
        });
        by_subject
            .get(self.desc(i).digest.as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// Why candidate `i` did not match, in words.
    fn miss(&self, i: usize) -> Miss {
        let ev = self.evaluate(i);
        let mut reasons = Vec::new();
        if ev.platform.is_none() && !self.sel.platforms.is_empty() {
            match self.spec(i) {
                None if self.desc(i).is_index() => reasons.push("an index has no platform".into()),
                None => reasons
                    .push("no platform (none on the descriptor, no readable image config)".into()),
                Some(have) => {
                    for want in &self.sel.platforms {
                        if let Err(mut why) = want.matches(&have, self.mode, self.sel.fallbacks) {
                            if self.mode == MatchMode::Exact
                                && want
                                    .check(&have, MatchMode::Compatible, self.sel.fallbacks)
                                    .is_some()
                            {
                                why.push_str(" (would match with --match compatible)");
                            }
                            reasons.push(why);
                        }
                    }
                }
            }
        }
        for (c, holds) in self.sel.conditions.iter().zip(&ev.holds) {
            if !holds {
                reasons.push(self.explain_condition(i, c).1);
            }
        }
        Miss {
            digest: self.desc(i).digest.clone(),
            path: self.space.path_of(i),
            platform: self.entry_platform(i).map(|p| p.display()),
            reasons,
        }
    }
}

/// How close a non-matching platform is to the wanted one (0..=7).
fn closeness(want: &PlatformSpec, have: &PlatformSpec) -> u32 {
    let all = Fallbacks {
        i386: true,
        arm: true,
    };
    if want.check(have, MatchMode::Compatible, all).is_some() {
        return 7;
    }
    let mut s = 0;
    if want.os == have.os {
        s += 2;
    }
    if want.architecture == have.architecture {
        s += 3;
        if want.variant == have.variant {
            s += 1;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::media;

    /// A layout built in code: returns it and a helper to add documents.
    fn layout() -> (tempfile::TempDir, Layout) {
        let tmp = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(tmp.path().join("l")).unwrap();
        (tmp, l)
    }

    fn put(l: &Layout, mt: &str, v: serde_json::Value) -> Descriptor {
        let bytes = serde_json::to_vec(&v).unwrap();
        let d = l.write_blob_bytes(&bytes).unwrap();
        Descriptor::new(mt, &d, bytes.len() as u64)
    }

    fn image(l: &Layout, arch: &str, ann: serde_json::Value) -> Descriptor {
        let cfg = put(
            l,
            media::OCI_CONFIG,
            serde_json::json!({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}),
        );
        put(
            l,
            media::OCI_MANIFEST,
            serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
                "config": cfg, "layers": [], "annotations": ann}),
        )
    }

    fn index(l: &Layout, children: &[Descriptor], ann: serde_json::Value) -> Descriptor {
        put(
            l,
            media::OCI_INDEX,
            serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX,
                "manifests": children, "annotations": ann}),
        )
    }

    fn name(l: &Layout, d: &Descriptor, n: &str) -> LayoutRef {
        crate::tags::tag(l, d, &[n.to_string()]).unwrap();
        LayoutRef::parse(&format!("{}:{n}", l.root().display())).unwrap()
    }

    fn digests(s: &Selection) -> Vec<String> {
        s.matches
            .iter()
            .map(|m| m.descriptor.digest.clone())
            .collect()
    }

    #[test]
    fn inherited_values_are_overridden_by_nearer_ones() {
        let (_t, l) = layout();
        let child = image(&l, "amd64", serde_json::json!({"k": "child"}));
        let other = image(&l, "arm64", serde_json::json!({}));
        let idx = index(
            &l,
            &[child.clone(), other.clone()],
            serde_json::json!({"k": "parent"}),
        );
        let r = name(&l, &idx, "x");
        let sel = |w: &str, inherit: bool| {
            Selector::new()
                .where_expr(w)
                .unwrap()
                .scope(Scope::Manifest)
                .inherit(inherit)
                .find(&l, &r)
                .unwrap()
        };
        // the child's own value wins over the inherited one
        assert_eq!(
            digests(&sel("k=parent", true)),
            [idx.digest.clone(), other.digest.clone()]
        );
        assert_eq!(digests(&sel("k=child", true)), vec![child.digest.clone()]);
        // without inheritance only the index itself has k=parent
        assert_eq!(digests(&sel("k=parent", false)), vec![idx.digest.clone()]);
        let s = sel("k=parent", true);
        assert!(
            s.matches[1].why[0].contains("inherited from index"),
            "{:?}",
            s.matches[1].why
        );
        assert_eq!(
            s.matches[1].matched.get("k").map(String::as_str),
            Some("parent")
        );
    }

    #[test]
    fn scope_any_negations_need_both_sources() {
        let (_t, l) = layout();
        let mut only_doc = image(&l, "amd64", serde_json::json!({"k": "v"}));
        let mut only_desc = image(&l, "arm64", serde_json::json!({}));
        only_desc.annotations.insert("k".into(), "v".into());
        let neither = image(&l, "s390x", serde_json::json!({}));
        only_doc.annotations.insert("other".into(), "1".into());
        let idx = index(
            &l,
            &[only_doc.clone(), only_desc.clone(), neither.clone()],
            serde_json::json!({}),
        );
        let r = name(&l, &idx, "x");
        let find = |w: &str, scope: Scope| {
            let mut d = digests(
                &Selector::new()
                    .where_expr(w)
                    .unwrap()
                    .scope(scope)
                    .find(&l, &r)
                    .unwrap(),
            );
            d.retain(|x| *x != idx.digest);
            d
        };
        assert_eq!(
            find("k=v", Scope::Any),
            [only_doc.digest.clone(), only_desc.digest.clone()]
        );
        assert_eq!(find("!k", Scope::Any), vec![neither.digest.clone()]);
        assert_eq!(find("k!=v", Scope::Any), vec![neither.digest.clone()]);
        assert_eq!(
            find("k=v", Scope::Descriptor),
            vec![only_desc.digest.clone()]
        );
        assert_eq!(find("k=v", Scope::Manifest), vec![only_doc.digest.clone()]);
        assert_eq!(
            find("!k", Scope::Descriptor),
            [only_doc.digest.clone(), neither.digest.clone()]
        );
    }

    #[test]
    fn a_missing_nested_index_fails_a_filtered_search() {
        let (_t, l) = layout();
        let img = image(&l, "amd64", serde_json::json!({}));
        let mut ghost = img.clone();
        ghost.media_type = media::OCI_INDEX.into();
        ghost.digest = format!("sha256:{}", "0".repeat(64));
        let idx = index(&l, &[img.clone(), ghost], serde_json::json!({}));
        let r = name(&l, &idx, "x");
        let sel = Selector::new().platform(PlatformSpec::parse("linux/amd64").unwrap());
        let e = sel.find(&l, &r).unwrap_err();
        assert_eq!(e.kind, crate::Kind::Failure);
        assert!(e.message.contains("cannot search"), "{}", e.message);
        // without filters the named entry itself is selected
        let s = Selector::new().select(&l, &r).unwrap();
        assert_eq!(digests(&s), vec![idx.digest.clone()]);
    }

    #[test]
    fn match_accessors_and_select_one() {
        let (_t, l) = layout();
        let a = image(&l, "amd64", serde_json::json!({}));
        let b = image(&l, "arm64", serde_json::json!({}));
        let inner = index(&l, &[a.clone(), b.clone()], serde_json::json!({}));
        let outer = index(&l, std::slice::from_ref(&inner), serde_json::json!({}));
        let r = name(&l, &outer, "x");
        let sel = Selector::new().platform(PlatformSpec::parse("linux/arm64").unwrap());
        let (m, warnings) = sel.select_one(&l, &r).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(m.descriptor.digest, b.digest);
        assert_eq!(m.container(), Container::Index(&inner.digest));
        assert_eq!(m.position(), Some(1));
        assert_eq!(m.path.len(), 3);
        assert_eq!(m.path[0].digest, outer.digest);
        assert!(m.path_display().starts_with("index.json[0] > sha256:"));
        // derived platform (no descriptor platform in these indexes)
        assert!(m.platform.as_ref().unwrap().derived);
        // `all` never returns several from select_one
        let any = Selector::new()
            .where_expr("mediaType~=manifest")
            .unwrap()
            .on_ambiguity(OnAmbiguity::All);
        assert_eq!(
            any.select_one(&l, &r).unwrap_err().kind,
            crate::Kind::Ambiguous
        );
        // best without a platform has nothing to rank by
        let best = Selector::new()
            .where_expr("mediaType~=manifest")
            .unwrap()
            .on_ambiguity(OnAmbiguity::Best);
        let e = best.select(&l, &r).unwrap_err();
        assert!(e.message.contains("nothing to rank"), "{}", e.message);
        // the top-level entry itself
        let top = Selector::new().select(&l, &r).unwrap();
        assert_eq!(top.matches[0].container(), Container::IndexJson);
    }

    #[test]
    fn describe_says_what_was_asked() {
        let s = Selector::new()
            .platform(PlatformSpec::parse("linux/arm64").unwrap())
            .platform(PlatformSpec::parse("linux/amd64").unwrap())
            .where_expr("a=b")
            .unwrap()
            .scope(Scope::Any)
            .inherit(true);
        assert_eq!(
            s.describe(),
            "platform linux/arm64 or linux/amd64 (exact), where a=b (scope any) (inherited)"
        );
        assert_eq!(
            s.clone().on_ambiguity(OnAmbiguity::Best).effective_mode(),
            MatchMode::Compatible
        );
        assert_eq!(
            s.on_ambiguity(OnAmbiguity::Best)
                .match_mode(MatchMode::Exact)
                .effective_mode(),
            MatchMode::Exact
        );
        assert_eq!(Selector::new().describe(), "no filter");
    }
}

/// The entry filter of commands that take a subset of an index without a layout-wide
/// search (export, push, pull): an entry is kept when any `--platform` matches its
/// platform (exact mode, normalized) — or none was given — and every `--where` holds on
/// its descriptor. Attestations are never kept by the filter itself; they follow the
/// entry they describe.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub platforms: Vec<PlatformSpec>,
    pub wheres: Vec<Condition>,
}

impl EntryFilter {
    pub fn parse(platforms: &[String], wheres: &[String]) -> Result<EntryFilter> {
        Ok(EntryFilter {
            platforms: platforms
                .iter()
                .map(|p| PlatformSpec::parse(p))
                .collect::<Result<_>>()?,
            wheres: wheres
                .iter()
                .map(|w| Condition::parse(w))
                .collect::<Result<_>>()?,
        })
    }
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.wheres.is_empty()
    }
    /// Whether the entry `d`, whose platform is `platform`, is kept.
    pub fn keeps(&self, d: &Descriptor, platform: Option<&crate::model::Platform>) -> bool {
        if d.is_attestation() {
            return false;
        }
        let platform_ok = self.platforms.is_empty()
            || platform.is_some_and(|p| {
                let have = PlatformSpec::from_platform(p);
                self.platforms.iter().any(|w| {
                    w.matches(&have, MatchMode::Exact, Fallbacks::default())
                        .is_ok()
                })
            });
        platform_ok && self.wheres.iter().all(|c| c.holds_on(d))
    }
    /// `--platform linux/arm64 --where k=v`, for messages.
    pub fn describe(&self) -> String {
        self.platforms
            .iter()
            .map(|p| format!("--platform {p}"))
            .chain(self.wheres.iter().map(|c| format!("--where {c}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
