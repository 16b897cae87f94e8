//! The one graph walk of oix: index.json → nested indexes → manifests → config, layers
//! and subject. Every command that needs "what does this reach" (ls --tree, fsck, gc,
//! export, push, copy between layouts) starts here.
//!
//! The walk reads and verifies every index and manifest it expands (they are small), and
//! records config and layer descriptors without reading them. It never stops at the first
//! problem: each unreadable node is recorded and the walk goes on, so fsck can report
//! everything at once and gc can refuse to sweep when the graph is not fully known.

use crate::digest::Digest;
use crate::error::{Error, Kind};
use crate::model::{Descriptor, Document};
use crate::store::Source;
use std::collections::HashSet;

/// Deepest nesting of indexes oix follows (index.json counts as depth 0).
pub const MAX_DEPTH: usize = 32;

/// Why a descriptor is in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An entry of index.json or of a nested index.
    Entry,
    Config,
    Layer,
    /// The `subject` of a manifest or index (may legitimately be absent from the layout).
    Subject,
}

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
        let p = self
            .problems
            .iter()
            .find(|p| p.severity == Severity::Error)?;
        Some(
            Error::new(
                p.kind.as_failure(),
                format!(
                    "{what}: {} (referenced from {}): {}",
                    p.digest.as_deref().unwrap_or("?"),
                    p.referrer,
                    p.message
                ),
            )
            .with_hint("the layout is incomplete or corrupt; run `oix fsck` for a full report"),
        )
    }
    /// True when every index and manifest in the graph could be read: only then is the
    /// set of reachable blobs known (gc refuses to sweep otherwise).
    pub fn complete(&self) -> bool {
        !self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Walk from `roots` (normally index.json's `manifests`).
pub fn walk(layout: &dyn Source, roots: &[Descriptor]) -> Walk {
    let mut w = Walk::default();
    let mut expanded = HashSet::new();
    for d in roots {
        visit(
            layout,
            d,
            Role::Entry,
            0,
            None,
            "index.json",
            &mut expanded,
            &mut w,
        );
    }
    w
}

#[allow(clippy::too_many_arguments)]
fn visit(
    layout: &dyn Source,
    desc: &Descriptor,
    role: Role,
    depth: usize,
    parent: Option<&str>,
    referrer: &str,
    expanded: &mut HashSet<String>,
    w: &mut Walk,
) {
    let problem = |w: &mut Walk, sev: Severity, kind: Kind, msg: String| {
        w.problems.push(Problem {
            severity: sev,
            digest: Some(desc.digest.clone()),
            referrer: referrer.to_string(),
            kind,
            message: msg,
        })
    };
    let node_index = w.nodes.len();
    w.nodes.push(Node {
        descriptor: desc.clone(),
        role,
        depth,
        parent: parent.map(str::to_string),
        document: None,
    });
    let digest = match desc.digest() {
        Ok(d) => d,
        Err(e) => return problem(w, Severity::Error, e.kind, e.message),
    };
    if desc.size < 0 {
        let msg = format!("negative size {}", desc.size);
        return problem(w, Severity::Error, Kind::Corrupt, msg);
    }
    let expandable = desc.is_index() || desc.is_manifest();
    if !expandable || !expanded.insert(desc.digest.clone()) {
        return;
    }
    let present = match layout.contains(&digest) {
        Ok(p) => p,
        Err(e) => return problem(w, Severity::Error, e.kind, e.message),
    };
    if !present {
        if role == Role::Subject {
            return; // a subject may live elsewhere (referrers of remote content)
        }
        let msg = format!("blob {digest} is missing");
        return problem(w, Severity::Error, Kind::NotFound, msg);
    }
    if depth >= MAX_DEPTH {
        return problem(
            w,
            Severity::Error,
            Kind::Corrupt,
            format!("indexes nested deeper than {MAX_DEPTH} levels"),
        );
    }
    let parsed = layout.read_small(desc).and_then(|bytes| {
        Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest))
    });
    let doc = match parsed {
        Ok(Some(doc)) => doc,
        Ok(None) => return,
        Err(e) => return problem(w, Severity::Error, e.kind, e.message),
    };
    let me = desc.digest.clone();
    for (child, child_role) in children_with_roles(&doc) {
        visit(
            layout,
            child,
            child_role,
            depth + 1,
            Some(&me),
            &me,
            expanded,
            w,
        );
    }
    w.nodes[node_index].document = Some(doc);
    w.documents_postorder.push(node_index);
}

/// A document's children with the role each plays.
pub fn children_with_roles(doc: &Document) -> Vec<(&Descriptor, Role)> {
    match doc {
        Document::Index(i) => i
            .manifests
            .iter()
            .map(|d| (d, Role::Entry))
            .chain(i.subject.iter().map(|d| (d, Role::Subject)))
            .collect(),
        Document::Manifest(m) => std::iter::once((&m.config, Role::Config))
            .chain(m.layers.iter().map(|d| (d, Role::Layer)))
            .chain(m.subject.iter().map(|d| (d, Role::Subject)))
            .collect(),
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
    pub indexes: Vec<crate::model::Index>,
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
    pub fn index(&self, node: usize) -> Option<&crate::model::Index> {
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
    layout: &crate::layout::Layout,
    roots: impl Into<std::borrow::Cow<'r, [Descriptor]>>,
) -> EntryWalk<'r> {
    let mut w = EntryWalk {
        roots: roots.into(),
        ..Default::default()
    };
    w.entries.reserve(w.roots.len());
    let mut expanded = HashSet::new();
    for i in 0..w.roots.len() {
        visit_entry(layout, None, i, 0, &mut expanded, &mut w);
    }
    w
}

fn visit_entry(
    layout: &crate::layout::Layout,
    parent: Option<usize>,
    position: usize,
    depth: usize,
    expanded: &mut HashSet<String>,
    w: &mut EntryWalk<'_>,
) {
    let me = w.entries.len();
    w.entries.push(EntryNode {
        parent,
        position,
        depth,
        index: None,
    });
    let desc = w.descriptor(me);
    if !desc.is_index() || !expanded.insert(desc.digest.clone()) {
        return;
    }
    let referrer = match parent {
        Some(p) => w.descriptor(p).digest.clone(),
        None => "index.json".to_string(),
    };
    let problem = |kind: Kind, msg: String| Problem {
        severity: Severity::Error,
        digest: Some(desc.digest.clone()),
        referrer,
        kind,
        message: msg,
    };
    if depth + 1 >= MAX_DEPTH {
        let p = problem(
            Kind::Corrupt,
            format!("indexes nested deeper than {MAX_DEPTH} levels"),
        );
        w.problems.push(p);
        return;
    }
    let index = match layout.read_document(desc) {
        Ok((_, Some(Document::Index(idx)))) => idx,
        Ok(_) => return,
        Err(e) => {
            let p = problem(e.kind, e.message);
            w.problems.push(p);
            return;
        }
    };
    let children = index.manifests.len();
    w.indexes.push(index);
    w.entries[me].index = Some(w.indexes.len() - 1);
    for i in 0..children {
        visit_entry(layout, Some(me), i, depth + 1, expanded, w);
    }
}
