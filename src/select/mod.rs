//! The selector engine: the one place in oix that decides which index entries a command
//! acts on. `select`, `ls`, `inspect` and every later command that picks entries
//! (`index rm`, `annotate`, `export`, `push`, `merge`) call [`Selector::find`] or
//! [`Selector::select`]. The rules are written for users in docs/selection.md and in
//! `oix select --help`; this comment is the short form.
//!
//! **Stores.** The engine searches any [`Names`] store through [`crate::store::Source`]:
//! a layout (its index.json lists the top-level entries) or a registry (the one entry a
//! tag or digest resolves to, see [`top_level`]). It reads indexes, manifests and image
//! configs, never layers.
//!
//! **Search space.** `LAYOUT:REF` names top-level entries of index.json. Several entries
//! sharing one ref.name form one candidate set (implicit multi-arch; a warning says so).
//! `LAYOUT` alone means all of index.json; `LAYOUT@DIGEST` that digest's top-level entry,
//! else its first occurrence depth-first. A selector without filters selects those named entries
//! themselves. With filters, the candidates are the named entries and every entry of
//! every index below them, searched depth-first in document order (an index before its
//! entries), except that a named entry which is an index is not a candidate itself (its
//! entries are); each match reports its path. This is the one candidate rule: `export`,
//! `push` and `merge` keep what [`Selector::find`] picks, `index rm` and `annotate` edit
//! it (tests/selector_agreement.rs).
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

#[cfg(feature = "cli")]
pub mod args;
mod engine;
mod expr;
pub mod filters;
pub mod fold;
mod found;
mod listing;
mod ls_view;
mod space;

#[cfg(feature = "cli")]
pub use args::{AmbiguityArgs, SelectorArgs};
pub use expr::{Condition, Field, Key, Op};
pub use filters::{subset_selector, Filters, Parsed};
pub use found::{Container, Found, Match, Miss, PathStep};
pub use listing::{members, ListedEntry, Listing};
pub use ls_view::{ls_view, LsView};

use engine::Engine;
use space::Candidates;

use crate::error::{Error, Result};
use crate::model::Index;
use crate::platform::{Fallbacks, MatchMode, PlatformSpec};
use crate::reference::{LayoutRef, Target};
use crate::store::Names;
use serde::Serialize;

/// `--scope`: which annotations an annotation condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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

/// What to select. Build it in code with the builder methods, or from filter strings
/// with [`Filters::parse`].
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

/// The twin rule of one-result selections ([`crate::platform::twin`]): a matched zstd
/// twin drops out when a matched entry of the same index with the same platform is not a
/// twin; that entry says so in its `why`.
fn prefer_over_twins(found: &mut Found) {
    use crate::platform::is_zstd_twin;
    let key = |m: &Match| m.platform.as_ref().map(|p| p.spec());
    let mut dropped = vec![false; found.matches.len()];
    let mut notes: Vec<(usize, String)> = Vec::new();
    for (i, m) in found.matches.iter().enumerate() {
        if !is_zstd_twin(&m.descriptor) || key(m).is_none() {
            continue;
        }
        let primary = found.matches.iter().position(|p| {
            !is_zstd_twin(&p.descriptor) && p.container() == m.container() && key(p) == key(m)
        });
        if let Some(p) = primary {
            dropped[i] = true;
            notes.push((
                p,
                format!(
                    "preferred over its zstd twin {} (a twin is a variant of its platform; \
                     --where '{}' selects the twin)",
                    m.descriptor.digest,
                    crate::platform::ZSTD_TWIN
                ),
            ));
        }
    }
    for (p, why) in notes {
        found.matches[p].why.push(why);
    }
    let mut k = dropped.into_iter();
    found.matches.retain(|_| !k.next().unwrap_or(false));
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
    pub fn find(&self, store: &dyn Names, r: &LayoutRef) -> Result<Found> {
        self.find_among(store, r, Candidates::Entries)
    }

    fn find_among(&self, store: &dyn Names, r: &LayoutRef, c: Candidates) -> Result<Found> {
        self.validate()?;
        let index = top_level(store, r)?;
        Engine::new(self, store, &index, r, c)?.run()
    }

    /// [`Selector::find`], then the ambiguity policy: exit 3 when nothing matches (with
    /// the nearest candidates), exit 4 when several match and the policy cannot choose.
    pub fn select(&self, store: &dyn Names, r: &LayoutRef) -> Result<Found> {
        let found = self.find(store, r)?;
        self.choose(found, r)
    }

    /// What `oix ls REF` lists with filters: the selector's candidates, every match
    /// (docs/selection.md, "ls"). One addition, for `ls` only: when nothing matches, the
    /// filter has no negative condition (`!=`, `!key`) and a named index itself matches,
    /// its own annotations read from its descriptor *and* its document (where `merge
    /// --annotation` writes them), the result is that index. Nothing matching is exit 3
    /// with the nearest candidates.
    pub fn select_entries(&self, store: &dyn Names, r: &LayoutRef) -> Result<Found> {
        let mut found = self.find(store, r)?;
        let positive = self.conditions.iter().all(|c| !c.is_negative());
        if found.matches.is_empty() && positive && r.target != Target::Default {
            let itself = self
                .clone()
                .scope(Scope::Any)
                .find_among(store, r, Candidates::Named)?;
            let named: Vec<Match> = itself
                .matches
                .into_iter()
                .filter(|m| m.descriptor.is_index())
                .map(|mut m| {
                    m.why
                        .push("the index itself matches; none of its entries does".into());
                    m
                })
                .collect();
            if !named.is_empty() {
                found.matches = named;
            }
        }
        self.clone().on_ambiguity(OnAmbiguity::All).choose(found, r)
    }

    /// Exactly one match (`all` is treated as `error`).
    pub fn select_one(&self, store: &dyn Names, r: &LayoutRef) -> Result<(Match, Vec<String>)> {
        let mut sel = self.clone();
        if sel.on_ambiguity == OnAmbiguity::All {
            sel.on_ambiguity = OnAmbiguity::Error;
        }
        let mut s = sel.select(store, r)?;
        Ok((s.matches.remove(0), s.warnings))
    }

    /// Apply the ambiguity policy to a found selection.
    pub fn choose(&self, mut found: Found, r: &LayoutRef) -> Result<Found> {
        let n = found.matches.len();
        if n == 0 {
            return Err(self.no_match_error(&found, r));
        }
        if n == 1 || self.on_ambiguity == OnAmbiguity::All {
            return Ok(found);
        }
        if !self.names_twin_key() {
            prefer_over_twins(&mut found);
        }
        let n = found.matches.len();
        if n == 1 {
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

    /// Whether a `--where` condition reads the zstd twin annotation: then the user is
    /// choosing between compressions and twins compete like any entry.
    fn names_twin_key(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.key == expr::Key::Annotation(crate::platform::ZSTD_TWIN.into()))
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
            // One line each: layout strings escaped (crate::text).
            let line = format!(
                "{}  {}  {}  {}",
                m.descriptor.ref_name().unwrap_or("-"),
                m.descriptor.digest,
                m.platform_display(),
                m.path_display()
            );
            msg.push_str(&format!("\n  {}", crate::text::escape(&line)));
            if !m.matched.is_empty() {
                let kv: Vec<String> = m.matched.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let kv = kv.join(", ");
                msg.push_str(&format!("\n      matched: {}", crate::text::escape(&kv)));
            }
            let why = m.why.join("; ");
            msg.push_str(&format!("\n      why: {}", crate::text::escape(&why)));
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

    fn no_match_error(&self, found: &Found, r: &LayoutRef) -> Error {
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

/// What a registry reference names, in the terms the engine searches with: the store's
/// name (`docker://host/repo`, shown in messages) and the tag or digest (a digest wins
/// over a tag written with it; neither is `latest`, as for pull, skopeo and docker).
pub fn registry_ref(r: &crate::registry::RegistryRef) -> LayoutRef {
    let target = match crate::store::open::registry_target(r) {
        Target::Default => Target::Name("latest".into()),
        t => t,
    };
    LayoutRef {
        path: r.repository().into(),
        target,
    }
}

/// The one descriptor a reference names, without reading content where the store can
/// say it otherwise (a registry answers a HEAD): what `oix digest` prints.
pub fn resolve(store: &dyn Names, r: &LayoutRef) -> Result<crate::resolve::Resolved> {
    let top = top_level(store, r)?;
    crate::resolve::resolve_in(store, &top, r)
}

/// The top-level entries a search starts from. A layout lists them in index.json. A
/// store without an index.json (a registry) offers the one entry the reference names:
/// what its name (or digest) resolves to now, under that name, so `docker://H/R:TAG` is
/// searched exactly as a layout whose index.json holds one entry named TAG.
/// [`LayoutRef::path`] is then the store's name (`docker://host/repo`), for messages.
pub fn top_level(store: &dyn Names, r: &LayoutRef) -> Result<Index> {
    if let Some(layout) = store.as_layout() {
        return Ok(layout.read_index()?.0);
    }
    let (name, tag) = match &r.target {
        Target::Name(n) => (n.clone(), Some(n)),
        Target::Digest(d) => (d.to_string(), None),
        Target::Default => {
            return Err(
                Error::usage(format!("{r}: name a tag or digest of {}", store.describe()))
                    .with_hint(format!("`oix ls {}` lists the tags", store.describe())),
            )
        }
    };
    let Some(mut entry) = store.resolve_name(&name)? else {
        let what = match tag {
            Some(t) => format!("no tag {t:?}"),
            None => format!("no manifest {name}"),
        };
        return Err(Error::no_match(format!("{r}: {what}"))
            .with_hint(format!("`oix ls {}` lists the tags", store.describe())));
    };
    if let Some(t) = tag {
        entry
            .annotations
            .insert(crate::model::annotation::REF_NAME.into(), t.clone());
    }
    Ok(Index {
        manifests: vec![entry],
        ..Index::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{media, Descriptor};
    use crate::Layout;

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

    fn digests(s: &Found) -> Vec<String> {
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
        // the child's own value wins over the inherited one (the named index itself is
        // not a candidate: its entries are)
        assert_eq!(digests(&sel("k=parent", true)), [other.digest]);
        assert_eq!(digests(&sel("k=child", true)), vec![child.digest.clone()]);
        // without inheritance no entry has k=parent (only the index itself has)
        assert!(digests(&sel("k=parent", false)).is_empty());
        let s = sel("k=parent", true);
        assert!(
            s.matches[0].why[0].contains("inherited from index"),
            "{:?}",
            s.matches[0].why
        );
        assert_eq!(
            s.matches[0].matched.get("k").map(String::as_str),
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
    fn registry_references_name_a_tag_or_digest() {
        let r = |s: &str| registry_ref(&crate::registry::RegistryRef::parse(s).unwrap());
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            r("docker://h.io/a/b:1.0").target,
            Target::Name("1.0".into())
        );
        assert_eq!(r("docker://h.io/a/b").target, Target::Name("latest".into()));
        let both = r(&format!("docker://h.io/a/b:1.0@{d}"));
        assert_eq!(
            both.target,
            Target::Digest(crate::Digest::parse(&d).unwrap())
        );
        // Messages name the store as users write it.
        assert_eq!(
            r("docker://h.io/a/b:1.0").to_string(),
            "docker://h.io/a/b:1.0"
        );
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
