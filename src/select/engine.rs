//! The search behind every selection: [`Space`](super::space::Space) is what a reference
//! names (the named entries and the walk below them); [`Engine`] evaluates platforms and conditions on
//! each candidate and explains every match and near miss.

use super::found::short_digest;
use super::space::{Candidates, Space};
use super::{Condition, Field, Found, Key, Match, Miss, Op, Scope, Selector};
use crate::error::{Error, Result};
use crate::graph;
use crate::model::{annotation, Descriptor, Document, Index, Platform};
use crate::platform::{
    derived_platform, EntryPlatform, Fallbacks, MatchMode, PlatformMatch, PlatformSpec, Rank,
};
use crate::reference::LayoutRef;
use crate::store::Names;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

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

pub(super) struct Engine<'a> {
    sel: &'a Selector,
    store: &'a dyn Names,
    index: &'a Index,
    r: &'a LayoutRef,
    space: Space<'a>,
    candidates: Candidates,
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
    pub(super) fn new(
        sel: &'a Selector,
        store: &'a dyn Names,
        index: &'a Index,
        r: &'a LayoutRef,
        candidates: Candidates,
    ) -> Result<Engine<'a>> {
        let space = Space::resolve(store, index, r, sel.has_filters())?;
        Ok(Engine {
            sel,
            store,
            index,
            r,
            space,
            candidates,
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

    pub(super) fn run(self) -> Result<Found> {
        let mut sel = Found {
            implicit: self.space.implicit,
            warnings: self.space.warnings.clone(),
            ..Default::default()
        };
        if !self.sel.has_filters() {
            self.named_entries(&mut sel);
            return Ok(sel);
        }
        self.refuse_incomplete()?;
        let with_platform = !self.sel.platforms.is_empty();
        let mut misses: Vec<(u32, usize)> = Vec::new();
        let mut matched_nodes: Vec<usize> = Vec::new();
        let mut no_platform = 0usize;
        for i in self.space.range.clone() {
            let d = self.desc(i);
            if with_platform && d.is_attestation() || !self.is_candidate(i) {
                continue;
            }
            sel.searched += 1;
            let ev = self.evaluate(i);
            // Artifacts legitimately have no platform; an image whose manifest is not in
            // the store (an external blob store) cannot say, which is worth a warning.
            if ev.no_platform
                && !d.is_index()
                && d.digest()
                    .is_ok_and(|dg| !self.store.contains(&dg).unwrap_or(false))
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
        self.drop_attestations_of_matches(&mut sel, &matched_nodes);
        if sel.matches.is_empty() {
            // Highest score first, then document order.
            misses.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            sel.nearest = misses.iter().take(5).map(|&(_, i)| self.miss(i)).collect();
        }
        Ok(sel)
    }

    /// Without a filter: the named entries themselves.
    fn named_entries(&self, sel: &mut Found) {
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
    }

    /// With filters, every entry below must be known: refuse an incomplete search.
    fn refuse_incomplete(&self) -> Result<()> {
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
        Ok(())
    }

    /// Attestations whose subject also matched travel with it instead (`matched_nodes`
    /// are the nodes of `sel.matches`, in order).
    fn drop_attestations_of_matches(&self, sel: &mut Found, matched_nodes: &[usize]) {
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
    }

    /// Whether node `i` is a candidate of a filtered search ([`Candidates`]).
    fn is_candidate(&self, i: usize) -> bool {
        let named = !self.space.not_an_entry
            && self.space.named
            && self.space.walk.entries[i].depth == self.space.root_depth;
        match self.candidates {
            Candidates::Entries => !(named && self.desc(i).is_index()),
            Candidates::Named => named,
        }
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
            .or_insert_with(|| derived_platform(self.store, d))
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
        let ann = cache.entry(i).or_insert_with(|| {
            let bytes = self.store.read_small(d).ok()?;
            match Document::parse(&d.media_type, &bytes, &format!("blob {}", d.digest)) {
                Ok(Some(Document::Manifest(m))) => Some(m.annotations),
                _ => None,
            }
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
