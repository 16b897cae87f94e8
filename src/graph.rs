//! The one graph walk of oix: index.json → nested indexes → manifests → config, layers
//! and subject. Every command that needs "what does this reach" (ls --tree, fsck, gc,
//! export, push, copy between layouts, selection, platform subsets) starts here.
//!
//! [`walk_with`] is the walk; a [`Visitor`] decides how far it goes: each descriptor
//! reached is offered to [`Visitor::enter`], which answers [`Descend::Yes`] (check it,
//! and read and expand it when it is a manifest or index) or [`Descend::Skip`]. The walks
//! oix needs are visitors over it: [`walk`] (the whole graph, every node), [`walk_entries`]
//! (index entries only, for selection), [`entries_of`] (one index, one level) and
//! [`subset`] (what `--platform`/`--where` keep, with attestations and referrers). A
//! document's children and their roles are listed in one place,
//! [`Document::children_with_roles`].
//!
//! The walk reads and verifies every index and manifest it expands (they are small), and
//! records config and layer descriptors without reading them. It never stops at the first
//! problem: each unreadable node is recorded and the walk goes on, so fsck can report
//! everything at once and gc can refuse to sweep when the graph is not fully known.

use crate::digest::Digest;
use crate::error::{Error, Result};
pub use crate::model::Role;
use crate::model::{Descriptor, Document, Index};
use crate::store::Source;
use std::collections::{HashMap, HashSet};

/// Deepest nesting of indexes oix follows (index.json counts as depth 0).
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub struct Node {
    pub descriptor: Descriptor,
    pub role: Role,
    /// Number of documents between index.json and this descriptor.
    pub depth: usize,
    /// Digest of the document that lists this descriptor (`None` for index.json entries).
    pub parent: Option<String>,
    /// The parsed manifest or index, when this node is one and it was readable.
    pub document: Option<Document>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub severity: Severity,
    /// The digest string as written in the referring descriptor.
    pub digest: Option<String>,
    /// The document that holds the bad descriptor (`index.json` or a digest).
    pub referrer: String,
    pub message: String,
}

impl Problem {
    /// This problem as an error: `what: DIGEST (referenced from REFERRER): MESSAGE`.
    pub fn to_error(&self, what: &str) -> Error {
        Error::failure(format!(
            "{what}: {} (referenced from {}): {}",
            self.digest.as_deref().unwrap_or("?"),
            self.referrer,
            self.message
        ))
    }
}

#[derive(Debug, Default)]
pub struct Walk {
    /// Every descriptor reached, in depth-first document order; each digest expanded once.
    pub nodes: Vec<Node>,
    pub problems: Vec<Problem>,
    /// Indexes into `nodes` of every readable manifest and index, children before the
    /// documents that reference them (the order in which a copy must write them).
    pub documents_postorder: Vec<usize>,
}

impl Walk {
    /// The digests reached (valid ones only).
    pub fn digests(&self) -> HashSet<Digest> {
        self.nodes
            .iter()
            .filter_map(|n| n.descriptor.digest().ok())
            .collect()
    }
    /// The first error as an [`Error`] naming the blob and its referrer, prefixed with
    /// `what` failed ("cannot copy from ./src"); `None` when the graph is complete.
    pub fn first_error(&self, what: &str) -> Option<Error> {
        Some(
            self.first_problem()?
                .to_error(what)
                .with_hint("the layout is incomplete or corrupt; run `oix fsck` for a full report"),
        )
    }
    /// The first problem of severity error.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.severity == Severity::Error)
    }
    /// True when every index and manifest in the graph could be read: only then is the
    /// set of reachable blobs known (gc refuses to sweep otherwise).
    pub fn complete(&self) -> bool {
        !self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// A visitor's answer when the walk reaches a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descend {
    /// Check the descriptor (digest, size) and, when it is a manifest or an index not
    /// expanded before in this walk, read it and visit its children (a document listed
    /// twice is read once: the second time [`Visitor::leave`] gets no document).
    Yes,
    /// Skip it: not checked, not read, its children not visited.
    Skip,
}

/// Where the walk stands when it reaches a descriptor.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub descriptor: &'a Descriptor,
    pub role: Role,
    /// Number of documents between the roots' list (index.json) and this descriptor.
    pub depth: usize,
    /// Position among the children of the parent document, in the order of
    /// [`Document::children_with_roles`] (an index's entries come first, so for an entry
    /// this is its position in `manifests`); among the roots for a root.
    pub position: usize,
    /// The descriptor of the document that lists this one (`None` for the roots).
    pub parent: Option<&'a Descriptor>,
}

/// What the walk reports to: every descriptor reached, every document read, every
/// problem. Implementations decide how far the walk goes ([`Visitor::enter`]).
pub trait Visitor {
    /// A descriptor is reached; say whether to check and expand it.
    fn enter(&mut self, at: &At<'_>) -> Descend;
    /// Called once after every [`Descend::Yes`], once the children were visited: with the
    /// parsed document when it was read (a manifest or index expanded here), `None`
    /// otherwise (a blob, a document expanded before, or a problem reported).
    fn leave(&mut self, at: &At<'_>, doc: Option<Document>);
    /// Something unreadable or invalid; the walk goes on.
    fn problem(&mut self, problem: Problem);
}

/// The one recursive walk: depth first, in document order, each manifest and index read
/// (verified by `src`) and expanded at most once, nesting bounded by [`MAX_DEPTH`]. What
/// is visited, kept and built is the visitor's business.
pub fn walk_with(src: &dyn Source, roots: &[Descriptor], v: &mut dyn Visitor) {
    walk_below(src, None, roots, 0, v);
}

/// [`walk_with`] from the entries of `parent`, a document already read (they are at
/// `depth`, referenced from `parent`).
fn walk_below(
    src: &dyn Source,
    parent: Option<&Descriptor>,
    entries: &[Descriptor],
    depth: usize,
    v: &mut dyn Visitor,
) {
    let mut walker = Walker {
        src,
        expanded: parent.iter().map(|p| p.digest.clone()).collect(),
    };
    walker.children(parent, entries.iter().map(|d| (d, Role::Entry)), depth, v);
}

struct Walker<'s> {
    src: &'s dyn Source,
    expanded: HashSet<String>,
}

impl Walker<'_> {
    fn children<'a>(
        &mut self,
        parent: Option<&'a Descriptor>,
        children: impl Iterator<Item = (&'a Descriptor, Role)>,
        depth: usize,
        v: &mut dyn Visitor,
    ) {
        for (position, (descriptor, role)) in children.enumerate() {
            let at = At {
                descriptor,
                role,
                depth,
                position,
                parent,
            };
            if v.enter(&at) == Descend::Skip {
                continue;
            }
            let doc = self.expand(&at, v);
            if let Some(doc) = &doc {
                self.children(
                    Some(descriptor),
                    doc.children_with_roles().into_iter(),
                    depth + 1,
                    v,
                );
            }
            v.leave(&at, doc);
        }
    }

    /// Check `at` and read it when it is a document to expand; problems go to `v`.
    fn expand(&mut self, at: &At<'_>, v: &mut dyn Visitor) -> Option<Document> {
        let desc = at.descriptor;
        let problem = |v: &mut dyn Visitor, message: String| {
            v.problem(Problem {
                severity: Severity::Error,
                digest: Some(desc.digest.clone()),
                referrer: at
                    .parent
                    .map_or_else(|| "index.json".to_string(), |p| p.digest.clone()),
                message,
            });
            None
        };
        let digest = match desc.digest() {
            Ok(d) => d,
            Err(e) => return problem(v, e.message),
        };
        if desc.size < 0 {
            return problem(v, format!("negative size {}", desc.size));
        }
        let expandable = desc.is_index() || desc.is_manifest();
        if !expandable || !self.expanded.insert(desc.digest.clone()) {
            return None;
        }
        let present = match self.src.contains(&digest) {
            Ok(p) => p,
            Err(e) => return problem(v, e.message),
        };
        if !present {
            if at.role == Role::Subject {
                return None; // a subject may live elsewhere (referrers of remote content)
            }
            return problem(v, format!("blob {digest} is missing"));
        }
        if at.depth >= MAX_DEPTH {
            return problem(v, format!("indexes nested deeper than {MAX_DEPTH} levels"));
        }
        let parsed = self.src.read_small(desc).and_then(|bytes| {
            Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest))
        });
        match parsed {
            Ok(doc) => doc,
            Err(e) => problem(v, e.message),
        }
    }
}

/// Walk the whole graph from `roots` (normally index.json's `manifests`): every
/// descriptor, every readable document kept.
pub fn walk(layout: &dyn Source, roots: &[Descriptor]) -> Walk {
    let mut v = GraphVisitor {
        walk: Walk::default(),
        open: Vec::new(),
    };
    walk_with(layout, roots, &mut v);
    v.walk
}

/// Records every node for [`walk`].
struct GraphVisitor {
    walk: Walk,
    /// Nodes entered and not yet left.
    open: Vec<usize>,
}

impl Visitor for GraphVisitor {
    fn enter(&mut self, at: &At<'_>) -> Descend {
        self.open.push(self.walk.nodes.len());
        self.walk.nodes.push(Node {
            descriptor: at.descriptor.clone(),
            role: at.role,
            depth: at.depth,
            parent: at.parent.map(|p| p.digest.clone()),
            document: None,
        });
        Descend::Yes
    }
    fn leave(&mut self, _at: &At<'_>, doc: Option<Document>) {
        let node = self.open.pop().expect("leave follows enter");
        if let Some(doc) = doc {
            self.walk.nodes[node].document = Some(doc);
            self.walk.documents_postorder.push(node);
        }
    }
    fn problem(&mut self, problem: Problem) {
        self.walk.problems.push(problem);
    }
}

/// One entry reached by [`walk_entries`]: a descriptor listed in index.json (a root) or
/// in a nested index. Get the descriptor with [`EntryWalk::descriptor`].
#[derive(Debug, Clone)]
pub struct EntryNode {
    /// The node of the index that lists this entry; `None` for the roots.
    pub parent: Option<usize>,
    /// Position of this entry in its parent's `manifests` (in the roots, for roots).
    pub position: usize,
    /// Number of nested indexes between the roots and this entry (roots are 0).
    pub depth: usize,
    /// For an index entry that was expanded: its parsed document, in
    /// [`EntryWalk::indexes`].
    pub index: Option<usize>,
}

/// The entries of a set of roots and of every nested index below them. Descriptors are
/// not copied: roots are borrowed (or owned, see [`walk_entries`]) and nested entries
/// live in the parsed indexes.
#[derive(Debug, Default)]
pub struct EntryWalk<'r> {
    pub roots: std::borrow::Cow<'r, [Descriptor]>,
    /// Every nested index that was read, parsed.
    pub indexes: Vec<Index>,
    /// Depth-first, in document order (an index before its entries). An index listed
    /// more than once is expanded at its first occurrence only (as in [`walk`]), which
    /// bounds the walk by the size of the content.
    pub entries: Vec<EntryNode>,
    pub problems: Vec<Problem>,
}

impl EntryWalk<'_> {
    /// The descriptor of entry `node`.
    pub fn descriptor(&self, node: usize) -> &Descriptor {
        let n = &self.entries[node];
        match n.parent.and_then(|p| self.entries[p].index) {
            Some(ix) => &self.indexes[ix].manifests[n.position],
            None => &self.roots[n.position],
        }
    }
    /// The parsed index of entry `node`, when it is an index that was expanded.
    pub fn index(&self, node: usize) -> Option<&Index> {
        self.entries[node].index.map(|ix| &self.indexes[ix])
    }
    /// The nodes from the root down to `node` (inclusive).
    pub fn path(&self, node: usize) -> Vec<usize> {
        let mut path = vec![node];
        let mut cur = node;
        while let Some(p) = self.entries[cur].parent {
            path.push(p);
            cur = p;
        }
        path.reverse();
        path
    }
}

/// Walk the entries of `roots` and of the nested indexes below them, reading only index
/// documents (manifests, configs and layers are not read). This is the walk behind
/// selection: it copies no descriptor, so it stays cheap for index.json files with tens
/// of thousands of entries.
pub fn walk_entries<'r>(
    layout: &dyn Source,
    roots: impl Into<std::borrow::Cow<'r, [Descriptor]>>,
) -> EntryWalk<'r> {
    let roots = roots.into();
    let mut v = EntryVisitor {
        entries: Vec::with_capacity(roots.len()),
        ..Default::default()
    };
    walk_with(layout, &roots, &mut v);
    EntryWalk {
        roots,
        indexes: v.indexes,
        entries: v.entries,
        problems: v.problems,
    }
}

/// Records index entries only, for [`walk_entries`].
#[derive(Default)]
struct EntryVisitor {
    entries: Vec<EntryNode>,
    indexes: Vec<Index>,
    problems: Vec<Problem>,
    /// Index entries entered and not yet left.
    open: Vec<usize>,
}

impl Visitor for EntryVisitor {
    fn enter(&mut self, at: &At<'_>) -> Descend {
        if at.role != Role::Entry {
            return Descend::Skip;
        }
        let node = self.entries.len();
        self.entries.push(EntryNode {
            parent: self.open.last().copied(),
            position: at.position,
            depth: at.depth,
            index: None,
        });
        if !at.descriptor.is_index() {
            return Descend::Skip;
        }
        self.open.push(node);
        Descend::Yes
    }
    fn leave(&mut self, _at: &At<'_>, doc: Option<Document>) {
        let node = self.open.pop().expect("leave follows enter");
        if let Some(Document::Index(index)) = doc {
            self.indexes.push(index);
            self.entries[node].index = Some(self.indexes.len() - 1);
        }
    }
    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// The entries the index `desc` lists, one level down (read and verified through the
/// walk); none when `desc` is not an index. The one "children of an index" of `ls`, plan
/// checks and per-arch tags.
pub fn entries_of(src: &dyn Source, desc: &Descriptor) -> Result<Vec<Descriptor>> {
    let mut v = EntriesVisitor::default();
    walk_with(src, std::slice::from_ref(desc), &mut v);
    match v.problem {
        Some(p) => Err(Error::failure(p.message)),
        None => Ok(v.entries),
    }
}

/// Reads the root index only, for [`entries_of`].
#[derive(Default)]
struct EntriesVisitor {
    entries: Vec<Descriptor>,
    problem: Option<Problem>,
}

impl Visitor for EntriesVisitor {
    fn enter(&mut self, at: &At<'_>) -> Descend {
        match at.depth == 0 && at.descriptor.is_index() {
            true => Descend::Yes,
            false => Descend::Skip,
        }
    }
    fn leave(&mut self, _at: &At<'_>, doc: Option<Document>) {
        if let Some(Document::Index(index)) = doc {
            self.entries = index.manifests;
        }
    }
    fn problem(&mut self, problem: Problem) {
        self.problem.get_or_insert(problem);
    }
}

/// What [`subset`] keeps of a graph.
#[derive(Debug, Clone, Default)]
pub struct Subset {
    /// The descriptor to use in place of the root: the root itself when nothing was
    /// dropped, a new index when entries were; `None` when no entry is kept.
    pub kept: Option<Descriptor>,
    /// The indexes this subset created (new documents the source does not hold).
    pub created: Vec<(Digest, Vec<u8>)>,
}

/// The part of the graph under `root` whose entries `keeps` accepts: the one subset of
/// export, push and pull (`--platform`, `--where`).
///
/// A manifest (or any non-index entry) is kept when `keeps` says so; an attestation alone
/// is never kept. An index becomes a new index listing its kept entries in their original
/// order (nested indexes subset the same way, an index left with no entry is dropped),
/// plus the entries that travel with a kept entry: attestations whose subject is kept,
/// and referrers (manifests without a platform that `keeps` refuses, whose `subject` is
/// kept, read to learn it). Its other fields stay as they are and its `mediaType` is set
/// to its descriptor's. An index that loses nothing is kept as it is (same bytes), one
/// that keeps no entry is dropped. Never a sparse index.
pub fn subset(
    src: &dyn Source,
    root: &Descriptor,
    keeps: &dyn Fn(&Descriptor) -> bool,
) -> Result<Subset> {
    let mut v = SubsetVisitor::new(keeps);
    walk_with(src, std::slice::from_ref(root), &mut v);
    let kept = match v.frames.pop().and_then(|f| f.into_iter().next()) {
        Some((_, Became::Kept(d))) => Some(d),
        _ => None,
    };
    v.finish(kept)
}

/// [`subset`] of the index `root` whose document is `index`, already read (it is not
/// read again; its entries are).
pub fn subset_index(
    src: &dyn Source,
    root: &Descriptor,
    index: &Index,
    keeps: &dyn Fn(&Descriptor) -> bool,
) -> Result<Subset> {
    let mut v = SubsetVisitor::new(keeps);
    walk_below(src, Some(root), &index.manifests, 1, &mut v);
    let entries = v.frames.pop().unwrap_or_default();
    let kept = v.subset_of(root, index, entries);
    v.finish(kept)
}

/// What an entry became in a [`subset`].
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per entry of the index being decided
enum Became {
    Kept(Descriptor),
    Dropped,
    /// Refused by the filter, but a referrer of this subject: kept when its subject is.
    Refers(String),
}

/// Builds a [`Subset`] bottom up: each index is decided when the walk leaves it.
struct SubsetVisitor<'k> {
    keeps: &'k dyn Fn(&Descriptor) -> bool,
    /// Per index being expanded (the outermost: the caller's), what each of its
    /// non-attestation entries became, by position.
    frames: Vec<Vec<(usize, Became)>>,
    /// What each index (and each manifest read for its subject) became already: a
    /// document listed twice is read once.
    decided: HashMap<String, Became>,
    /// Manifests read only to learn their subject: a problem reading one drops it.
    probed: HashSet<String>,
    created: Vec<(Digest, Vec<u8>)>,
    problem: Option<Problem>,
}

impl<'k> SubsetVisitor<'k> {
    fn new(keeps: &'k dyn Fn(&Descriptor) -> bool) -> Self {
        SubsetVisitor {
            keeps,
            frames: vec![Vec::new()],
            decided: HashMap::new(),
            probed: HashSet::new(),
            created: Vec::new(),
            problem: None,
        }
    }

    fn record(&mut self, position: usize, became: Became) {
        if let Some(frame) = self.frames.last_mut() {
            frame.push((position, became));
        }
    }

    /// The first problem as the error, else the subset keeping `kept`.
    fn finish(self, kept: Option<Descriptor>) -> Result<Subset> {
        if let Some(p) = self.problem {
            return Err(p.to_error("cannot select the entries to keep").with_hint(
                "the layout is incomplete or corrupt; run `oix fsck` for a full report",
            ));
        }
        Ok(Subset {
            kept,
            created: self.created,
        })
    }

    /// What the index `desc` (document `index`) becomes, given what its entries became.
    fn subset_of(
        &mut self,
        desc: &Descriptor,
        index: &Index,
        entries: Vec<(usize, Became)>,
    ) -> Option<Descriptor> {
        let mut slots: Vec<Option<Descriptor>> = vec![None; index.manifests.len()];
        let mut changed = false;
        let mut became: HashMap<usize, Became> = entries.into_iter().collect();
        // Entries that travel with another: (position, the subject they name).
        let mut followers: Vec<(usize, Option<String>)> = Vec::new();
        for (pos, c) in index.manifests.iter().enumerate() {
            if c.is_attestation() {
                followers.push((pos, c.attestation_subject().map(str::to_string)));
                continue;
            }
            match became.remove(&pos) {
                Some(Became::Kept(k)) => {
                    changed |= k != *c;
                    slots[pos] = Some(k);
                }
                Some(Became::Refers(subject)) => followers.push((pos, Some(subject))),
                _ => changed = true,
            }
        }
        let mut kept: HashSet<String> = slots.iter().flatten().map(|k| k.digest.clone()).collect();
        if kept.is_empty() {
            return None;
        }
        // Followers of followers (a signature of an SBOM of an image) travel too.
        let mut grew = true;
        while grew {
            grew = false;
            for (pos, subject) in &followers {
                if slots[*pos].is_none() && subject.as_ref().is_some_and(|s| kept.contains(s)) {
                    slots[*pos] = Some(index.manifests[*pos].clone());
                    kept.insert(index.manifests[*pos].digest.clone());
                    grew = true;
                }
            }
        }
        changed |= followers.iter().any(|(pos, _)| slots[*pos].is_none());
        if !changed {
            return Some(desc.clone());
        }
        let mut new = index.clone();
        new.media_type = Some(desc.media_type.clone());
        new.manifests = slots.into_iter().flatten().collect();
        let bytes = new.to_bytes();
        let digest = Digest::sha256_of(&bytes);
        let mut out = desc.clone();
        out.digest = digest.to_string();
        out.size = bytes.len() as i64;
        out.data = None;
        self.created.push((digest, bytes));
        Some(out)
    }
}

impl Visitor for SubsetVisitor<'_> {
    fn enter(&mut self, at: &At<'_>) -> Descend {
        let d = at.descriptor;
        // Attestations are decided with the index that lists them (see `subset_of`).
        if self.problem.is_some() || at.role != Role::Entry || d.is_attestation() {
            return Descend::Skip;
        }
        if !d.is_index() && (self.keeps)(d) {
            self.record(at.position, Became::Kept(d.clone()));
            return Descend::Skip;
        }
        if let Some(became) = self.decided.get(&d.digest).cloned() {
            self.record(at.position, became);
            return Descend::Skip;
        }
        if d.is_index() {
            self.frames.push(Vec::new());
            return Descend::Yes;
        }
        if d.is_manifest() && d.platform.is_none() {
            // Maybe a referrer: read it for its subject.
            self.probed.insert(d.digest.clone());
            self.frames.push(Vec::new());
            return Descend::Yes;
        }
        self.record(at.position, Became::Dropped);
        Descend::Skip
    }
    fn leave(&mut self, at: &At<'_>, doc: Option<Document>) {
        let entries = self.frames.pop().unwrap_or_default();
        let became = match doc {
            Some(Document::Index(index)) => match self.subset_of(at.descriptor, &index, entries) {
                Some(kept) => Became::Kept(kept),
                None => Became::Dropped,
            },
            Some(Document::Manifest(m)) => match m.subject {
                Some(s) => Became::Refers(s.digest),
                None => Became::Dropped,
            },
            None => Became::Dropped,
        };
        self.decided
            .insert(at.descriptor.digest.clone(), became.clone());
        self.record(at.position, became);
    }
    fn problem(&mut self, problem: Problem) {
        let probed = problem
            .digest
            .as_ref()
            .is_some_and(|d| self.probed.contains(d));
        if self.problem.is_none() && problem.severity == Severity::Error && !probed {
            self.problem = Some(problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::model::media;
    use serde_json::json;

    fn put(l: &Layout, media_type: &str, doc: serde_json::Value) -> Descriptor {
        let bytes = serde_json::to_vec(&doc).unwrap();
        let d = l.write_blob_bytes(&bytes).unwrap();
        Descriptor::new(media_type, &d, bytes.len() as u64)
    }

    /// An image manifest for `arch` (its descriptor carries the platform), optionally a
    /// referrer of `subject`.
    fn image(l: &Layout, arch: &str, subject: Option<&Descriptor>) -> Descriptor {
        let config = put(
            l,
            media::OCI_CONFIG,
            json!({"architecture": arch, "os": "linux"}),
        );
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": config,
            "layers": [],
        });
        if let Some(s) = subject {
            m["subject"] = serde_json::to_value(s).unwrap();
            m["artifactType"] = json!("application/vnd.example.sbom");
        }
        let mut d = put(l, media::OCI_MANIFEST, m);
        if subject.is_none() {
            d.platform = Some(Box::new(crate::model::Platform {
                architecture: arch.into(),
                os: "linux".into(),
                ..Default::default()
            }));
        }
        d
    }

    fn index(l: &Layout, entries: &[&Descriptor]) -> Descriptor {
        put(
            l,
            media::OCI_INDEX,
            json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries}),
        )
    }

    fn entries(l: &Layout, d: &Descriptor) -> Vec<String> {
        match l.read_document(d).unwrap().1 {
            Some(Document::Index(i)) => i.manifests.into_iter().map(|m| m.digest).collect(),
            _ => panic!("not an index"),
        }
    }

    fn arch_is(arch: &'static str) -> impl Fn(&Descriptor) -> bool {
        move |d: &Descriptor| d.platform.as_ref().is_some_and(|p| p.architecture == arch)
    }

    /// Subset documents are stored so the result can be read back like the layout's.
    fn subset_stored(
        l: &Layout,
        root: &Descriptor,
        keeps: &dyn Fn(&Descriptor) -> bool,
    ) -> Option<Descriptor> {
        let s = subset(l, root, keeps).unwrap();
        for (_, bytes) in &s.created {
            l.write_blob_bytes(bytes).unwrap();
        }
        s.kept
    }

    #[test]
    fn a_rewritten_nested_index_keeps_its_place() {
        let t = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(t.path().join("l")).unwrap();
        let (amd, arm, s390) = (
            image(&l, "amd64", None),
            image(&l, "arm64", None),
            image(&l, "s390x", None),
        );
        let inner = index(&l, &[&amd, &arm]);
        let outer = index(&l, &[&inner, &s390]);
        let keeps = |d: &Descriptor| arch_is("arm64")(d) || arch_is("s390x")(d);
        let kept = subset_stored(&l, &outer, &keeps).unwrap();
        let top = entries(&l, &kept);
        assert_eq!(top.len(), 2);
        assert_eq!(top[1], s390.digest, "the nested index stays first");
        let Some(Document::Index(doc)) = l.read_document(&kept).unwrap().1 else {
            panic!("not an index")
        };
        assert_ne!(
            doc.manifests[0].digest, inner.digest,
            "the nested index is rewritten"
        );
        assert_eq!(entries(&l, &doc.manifests[0]), vec![arm.digest.clone()]);
        // Nothing dropped: the very same descriptor; nothing kept: none.
        let all = |_: &Descriptor| true;
        assert_eq!(subset(&l, &outer, &all).unwrap().kept, Some(outer.clone()));
        assert!(subset(&l, &outer, &arch_is("riscv64"))
            .unwrap()
            .kept
            .is_none());
    }

    #[test]
    fn attestations_and_referrers_travel_with_their_subjects() {
        let t = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(t.path().join("l")).unwrap();
        let (amd, arm) = (image(&l, "amd64", None), image(&l, "arm64", None));
        let sbom_arm = image(&l, "none", Some(&arm));
        let sig_of_sbom = image(&l, "none2", Some(&sbom_arm));
        let sbom_amd = image(&l, "none3", Some(&amd));
        let mut att = put(&l, media::OCI_MANIFEST, json!({"schemaVersion": 2, "n": 1}));
        att.annotations.insert(
            crate::model::annotation::DOCKER_REFERENCE_TYPE.into(),
            crate::model::annotation::ATTESTATION_MANIFEST.into(),
        );
        att.annotations.insert(
            crate::model::annotation::DOCKER_REFERENCE_DIGEST.into(),
            arm.digest.clone(),
        );
        let idx = index(&l, &[&amd, &arm, &sbom_amd, &sig_of_sbom, &sbom_arm, &att]);
        let kept = subset_stored(&l, &idx, &arch_is("arm64")).unwrap();
        assert_eq!(
            entries(&l, &kept),
            vec![
                arm.digest.clone(),
                sig_of_sbom.digest.clone(),
                sbom_arm.digest.clone(),
                att.digest.clone()
            ]
        );
        // The same through subset_index (the root already read, as push and pull have it).
        let Some(Document::Index(doc)) = l.read_document(&idx).unwrap().1 else {
            panic!()
        };
        let s = subset_index(&l, &idx, &doc, &arch_is("arm64")).unwrap();
        assert_eq!(s.kept.unwrap().digest, kept.digest);
    }

    #[test]
    fn a_missing_nested_index_is_an_error_a_missing_referrer_is_dropped() {
        let t = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(t.path().join("l")).unwrap();
        let arm = image(&l, "arm64", None);
        let ghost = |mt: &str| Descriptor::new(mt, &Digest::sha256_of(b"ghost"), 5);
        let idx = index(&l, &[&arm, &ghost(media::OCI_MANIFEST)]);
        let kept = subset_stored(&l, &idx, &arch_is("arm64")).unwrap();
        assert_eq!(entries(&l, &kept), vec![arm.digest.clone()]);
        let idx = index(&l, &[&arm, &ghost(media::OCI_INDEX)]);
        let e = subset(&l, &idx, &arch_is("arm64")).unwrap_err();
        assert!(e.message.contains("is missing"), "{}", e.message);
    }

    #[test]
    fn walk_entries_and_walk_agree_on_the_entries() {
        let t = tempfile::tempdir().unwrap();
        let (l, _) = Layout::init(t.path().join("l")).unwrap();
        let (amd, arm) = (image(&l, "amd64", None), image(&l, "arm64", None));
        let inner = index(&l, &[&amd, &arm]);
        let outer = index(&l, &[&inner, &amd, &inner]);
        let roots = vec![outer.clone(), arm.clone()];
        let ew = walk_entries(&l, &roots[..]);
        let w = walk(&l, &roots);
        let from_walk: Vec<(String, usize)> = w
            .nodes
            .iter()
            .filter(|n| n.role == Role::Entry)
            .map(|n| (n.descriptor.digest.clone(), n.depth))
            .collect();
        let from_entries: Vec<(String, usize)> = (0..ew.entries.len())
            .map(|i| (ew.descriptor(i).digest.clone(), ew.entries[i].depth))
            .collect();
        assert_eq!(from_entries, from_walk);
        // inner is listed twice and expanded once
        assert_eq!(ew.indexes.len(), 2);
        assert!(w.complete() && ew.problems.is_empty());
        assert_eq!(ew.path(3), vec![0, 1, 3]);
    }
}
