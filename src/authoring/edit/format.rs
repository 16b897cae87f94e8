//! `--manifest-format` of `index create` and `merge`: the composed index as written, in
//! the format asked for, planned (and refused) before anything is copied into DEST.

use super::Member;
use crate::error::Result;
use crate::layout::Layout;
use crate::model::{media, Descriptor, Index};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The index an edit writes, in its final format: the documents to write (children
/// first, the root last) and what [`super::Outcome`] reports of it.
pub(super) struct Written {
    pub(super) root: Descriptor,
    pub(super) docs: Vec<Vec<u8>>,
    pub(super) manifests: Vec<Descriptor>,
    pub(super) annotations: BTreeMap<String, String>,
    pub(super) converted: Vec<crate::convert::Pair>,
    pub(super) dropped: Vec<crate::convert::Item>,
}

/// `new` as written: the composed OCI index, or with `conv` that index converted (its
/// children too; docs/convert.md). `src` reads the members' documents.
pub(super) fn finish(
    src: &dyn crate::store::Source,
    new: &Index,
    conv: Option<&crate::convert::Request>,
) -> Result<Written> {
    let bytes = new.to_bytes();
    let desc = Descriptor::new(
        media::OCI_INDEX,
        &crate::Digest::sha256_of(&bytes),
        bytes.len() as u64,
    );
    let plain = |bytes: Vec<u8>| Written {
        root: desc.clone(),
        docs: vec![bytes],
        manifests: new.manifests.clone(),
        annotations: new.annotations.clone(),
        converted: Vec::new(),
        dropped: Vec::new(),
    };
    let Some(req) = conv else {
        return Ok(plain(bytes));
    };
    let mut ov = crate::store::Overlay::new(src);
    ov.add(bytes.clone());
    let c = crate::convert::plan(&ov, &desc, req.to, &req.allow_lossy)?;
    if c.root.digest == desc.digest {
        return Ok(plain(bytes));
    }
    let root_bytes = c
        .created
        .last()
        .expect("a changed root is a created document");
    let idx: Index = crate::model::parse_json(root_bytes, &c.root.digest)?;
    Ok(Written {
        root: c.root,
        docs: c.created,
        manifests: idx.manifests,
        annotations: idx.annotations,
        converted: c.pairs,
        dropped: c.dropped,
    })
}

/// Reads documents from DEST first, then from the layouts the members come from: a
/// conversion is planned (and refused) before anything is copied into DEST.
struct MemberDocs<'a> {
    dest: &'a Layout,
    others: Vec<Layout>,
}

impl MemberDocs<'_> {
    fn holder(&self, digest: &str) -> Result<&Layout> {
        if let Ok(d) = crate::Digest::parse(digest) {
            for l in std::iter::once(self.dest).chain(&self.others) {
                if crate::store::Source::contains(l, &d)? {
                    return Ok(l);
                }
            }
        }
        Ok(self.dest)
    }
}

impl crate::store::Source for MemberDocs<'_> {
    fn describe(&self) -> String {
        self.dest.describe()
    }
    fn contains(&self, digest: &crate::Digest) -> Result<bool> {
        self.holder(&digest.to_string())?.contains(digest)
    }
    fn open(&self, desc: &Descriptor) -> Result<Box<dyn std::io::Read + Send + '_>> {
        self.holder(&desc.digest)?.open(desc)
    }
    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>> {
        self.holder(&desc.digest)?.read_small(desc)
    }
}

/// `planned` as written into `dest` in the format `conv` asks for, its members'
/// documents read from `dest` and the layouts of `import`. (Only a conversion reads
/// them: without one, nothing is opened.)
pub(super) fn plan_written(
    dest: &Layout,
    import: &[Member],
    planned: &Index,
    conv: Option<&crate::convert::Request>,
) -> Result<Written> {
    let others = if conv.is_none() {
        Vec::new()
    } else {
        let mut seen: Vec<&PathBuf> = Vec::new();
        for m in import {
            if m.layout.as_path() != dest.root() && !seen.contains(&&m.layout) {
                seen.push(&m.layout);
            }
        }
        seen.into_iter()
            .map(Layout::open)
            .collect::<Result<Vec<_>>>()?
    };
    finish(&MemberDocs { dest, others }, planned, conv)
}
