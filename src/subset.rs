//! The one subset of a graph: what `--platform`/`--where` keep of an image index, for
//! export, push and pull. A visitor over the one walk ([`crate::graph::walk_with`]):
//! each index is decided when the walk leaves it, from what its entries became.

use crate::digest::Digest;
use crate::error::Result;
use crate::graph::{walk_below, walk_with, At, Descend, Problem, Role, Severity, Visitor};
use crate::model::{Descriptor, Document, Index};
use crate::store::Source;
use std::collections::{HashMap, HashSet};

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
        // A kept index is kept whole (a pick of the selector can be a nested index).
        if (self.keeps)(d) {
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
    use crate::graph::tests::{arch_is, entries, image, index, put};
    use crate::layout::Layout;
    use crate::model::media;
    use serde_json::json;

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
}
