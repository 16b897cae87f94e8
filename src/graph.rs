//! The one graph walk of oix: index.json → nested indexes → manifests → config, layers
//! and subject. Every command that needs "what does this reach" (ls --tree, fsck, gc,
//! export, push, copy between layouts, selection, platform subsets) starts here.
//!
//! [`walk_with`] is the walk; a [`Visitor`] decides how far it goes: each descriptor
//! reached is offered to [`Visitor::enter`], which answers [`Descend::Yes`] (check it,
//! and read and expand it when it is a manifest or index) or [`Descend::Skip`]. The walks
//! oix needs are visitors over it: [`walk`] (the whole graph, every node), [`walk_entries`]
//! (index entries only, for selection), [`entries_of`] (one index, one level) and
//! [`crate::subset`] (what `--platform`/`--where` keep, with attestations and referrers). A
//! document's children and their roles are listed in one place,
//! [`Document::children_with_roles`].
//!
//! The walk reads and verifies every index and manifest it expands (they are small), and
//! records config and layer descriptors without reading them. It never stops at the first
//! problem: each unreadable node is recorded and the walk goes on, so fsck can report
//! everything at once and gc can refuse to sweep when the graph is not fully known.

use crate::digest::Digest;
use crate::error::{Error, Kind, Result};
pub use crate::model::Role;
use crate::model::{Descriptor, Document, Index};
use crate::store::Source;
use std::collections::HashSet;

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
    /// What happened: [`Kind::NotFound`] for a missing blob, [`Kind::Corrupt`] for an
    /// invalid descriptor or document, or the kind of the error reading it.
    pub kind: Kind,
    pub message: String,
}

impl Problem {
    /// This problem as an error: `what: DIGEST (referenced from REFERRER): MESSAGE`.
    pub fn to_error(&self, what: &str) -> Error {
        Error::new(
            self.kind.as_failure(),
            format!(
                "{what}: {} (referenced from {}): {}",
                self.digest.as_deref().unwrap_or("?"),
                self.referrer,
                self.message
            ),
        )
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
pub(crate) fn walk_below(
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
        let problem = |v: &mut dyn Visitor, kind: Kind, message: String| {
            v.problem(Problem {
                severity: Severity::Error,
                digest: Some(desc.digest.clone()),
                referrer: at
                    .parent
                    .map_or_else(|| "index.json".to_string(), |p| p.digest.clone()),
                kind,
                message,
            });
            None
        };
        let digest = match desc.digest() {
            Ok(d) => d,
            Err(e) => return problem(v, e.kind, e.message),
        };
        if desc.size < 0 {
            return problem(v, Kind::Corrupt, format!("negative size {}", desc.size));
        }
        let expandable = desc.is_index() || desc.is_manifest();
        if !expandable || !self.expanded.insert(desc.digest.clone()) {
            return None;
        }
        let present = match self.src.contains(&digest) {
            Ok(p) => p,
            Err(e) => return problem(v, e.kind, e.message),
        };
        if !present {
            if at.role == Role::Subject {
                return None; // a subject may live elsewhere (referrers of remote content)
            }
            return problem(v, Kind::NotFound, format!("blob {digest} is missing"));
        }
        if at.depth >= MAX_DEPTH {
            return problem(
                v,
                Kind::Corrupt,
                format!("indexes nested deeper than {MAX_DEPTH} levels"),
            );
        }
        let parsed = self.src.read_small(desc).and_then(|bytes| {
            Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest))
        });
        match parsed {
            Ok(doc) => doc,
            Err(e) => problem(v, e.kind, e.message),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::model::media;
    use serde_json::json;

    pub(crate) fn put(l: &Layout, media_type: &str, doc: serde_json::Value) -> Descriptor {
        let bytes = serde_json::to_vec(&doc).unwrap();
        let d = l.write_blob_bytes(&bytes).unwrap();
        Descriptor::new(media_type, &d, bytes.len() as u64)
    }

    /// An image manifest for `arch` (its descriptor carries the platform), optionally a
    /// referrer of `subject`.
    pub(crate) fn image(l: &Layout, arch: &str, subject: Option<&Descriptor>) -> Descriptor {
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

    pub(crate) fn index(l: &Layout, entries: &[&Descriptor]) -> Descriptor {
        put(
            l,
            media::OCI_INDEX,
            json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries}),
        )
    }

    pub(crate) fn entries(l: &Layout, d: &Descriptor) -> Vec<String> {
        match l.read_document(d).unwrap().1 {
            Some(Document::Index(i)) => i.manifests.into_iter().map(|m| m.digest).collect(),
            _ => panic!("not an index"),
        }
    }

    pub(crate) fn arch_is(arch: &'static str) -> impl Fn(&Descriptor) -> bool {
        move |d: &Descriptor| d.platform.as_ref().is_some_and(|p| p.architecture == arch)
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
