//! The one graph walk of oix: index.json → nested indexes → manifests → config, layers
//! and subject. Every command that needs "what does this reach" (ls --tree, fsck, gc,
//! export, push, copy between layouts) starts here.
//!
//! The walk reads and verifies every index and manifest it expands (they are small), and
//! records config and layer descriptors without reading them. It never stops at the first
//! problem: each unreadable node is recorded and the walk goes on, so fsck can report
//! everything at once and gc can refuse to sweep when the graph is not fully known.

use crate::digest::Digest;
use crate::error::Error;
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
            Error::failure(format!(
                "{what}: {} (referenced from {}): {}",
                p.digest.as_deref().unwrap_or("?"),
                p.referrer,
                p.message
            ))
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
    let problem = |w: &mut Walk, sev: Severity, msg: String| {
        w.problems.push(Problem {
            severity: sev,
            digest: Some(desc.digest.clone()),
            referrer: referrer.to_string(),
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
        Err(e) => return problem(w, Severity::Error, e.message),
    };
    if desc.size < 0 {
        return problem(w, Severity::Error, format!("negative size {}", desc.size));
    }
    let expandable = desc.is_index() || desc.is_manifest();
    if !expandable || !expanded.insert(desc.digest.clone()) {
        return;
    }
    let present = match layout.contains(&digest) {
        Ok(p) => p,
        Err(e) => return problem(w, Severity::Error, e.message),
    };
    if !present {
        if role == Role::Subject {
            return; // a subject may live elsewhere (referrers of remote content)
        }
        return problem(w, Severity::Error, format!("blob {digest} is missing"));
    }
    if depth >= MAX_DEPTH {
        return problem(
            w,
            Severity::Error,
            format!("indexes nested deeper than {MAX_DEPTH} levels"),
        );
    }
    let parsed = layout.read_small(desc).and_then(|bytes| {
        Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest))
    });
    let doc = match parsed {
        Ok(Some(doc)) => doc,
        Ok(None) => return,
        Err(e) => return problem(w, Severity::Error, e.message),
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
