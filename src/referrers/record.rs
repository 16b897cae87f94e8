//! Recording referrers the way docs/referrers.md says: in the subject's referrers index
//! under its fallback tag, a cosign one under its own tag; in a layout's index.json or
//! in the entries of a store written from scratch.

use super::{fallback_tag, Carried};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, annotation, media, Descriptor, Document, Index};

pub(super) fn check_tag_free(index: &Index, tag: &str) -> Result<()> {
    if let Some(e) = index
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(tag) && !d.is_index())
    {
        return Err(Error::refused(format!(
            "the referrers tag {tag} names {} ({}), not a referrers index",
            e.digest, e.media_type
        ))
        .with_hint(format!(
            "that name is reserved for the subject's referrers index; untag it (`oix untag LAYOUT:{tag}`) first"
        )));
    }
    Ok(())
}

/// Add `descriptor` to the referrers index of `subject` (its fallback tag) in the
/// index.json being edited: created or extended (existing entries and unknown fields
/// kept, the new one appended), nothing done when it is listed already. A name under
/// the fallback tag that is not an index is refused.
pub(super) fn list_in_fallback(
    layout: &Layout,
    idx: &mut Index,
    subject: &Digest,
    descriptor: &Descriptor,
) -> Result<()> {
    let tag = fallback_tag(subject);
    check_tag_free(idx, &tag)?;
    let existing = idx
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some(tag.as_str()))
        .cloned();
    let mut list = match existing {
        Some(e) => match layout.read_document(&e)? {
            (_, Some(Document::Index(i))) => i,
            _ => unreachable!("check_tag_free: the entry is an index"),
        },
        None => Index::default(),
    };
    if list.manifests.iter().any(|d| d.digest == descriptor.digest) {
        return Ok(());
    }
    list.manifests.push(descriptor.clone());
    let bytes = list.to_bytes();
    if bytes.len() as u64 > model::MAX_MANIFEST_SIZE {
        return Err(Error::refused(format!(
            "the referrers index of {subject} would exceed {} bytes",
            model::MAX_MANIFEST_SIZE
        )));
    }
    let d = layout.write_blob_bytes(&bytes)?;
    let mt = list.media_type.as_deref().unwrap_or(media::OCI_INDEX);
    crate::tags::set_ref(idx, &Descriptor::new(mt, &d, bytes.len() as u64), &tag)?;
    Ok(())
}

/// Record carried referrers (their content already in `layout`) the way
/// docs/referrers.md says, in one index.json transaction: each in its subject's
/// referrers index, a cosign one under its own tag. Returns whether index.json changed.
pub fn record(layout: &Layout, carried: &[Carried]) -> Result<bool> {
    if carried.is_empty() {
        return Ok(false);
    }
    let (_, changed) = layout.transact(|idx| record_into(layout, idx, carried))?;
    Ok(changed)
}

/// [`record`] inside an index.json transaction already open (`idx` is the index.json
/// being edited), so that an import adds its refs and lists their referrers at once.
pub fn record_into(layout: &Layout, idx: &mut Index, carried: &[Carried]) -> Result<()> {
    for c in carried {
        if c.cosign {
            crate::tags::set_ref(idx, &cosign_entry(c), &c.tag)?;
        } else {
            let subject = Digest::parse(&c.subject)?;
            list_in_fallback(layout, idx, &subject, &c.descriptor)?;
        }
    }
    Ok(())
}

/// The index.json descriptor of a cosign referrer (no pulled-up fields: as a layout
/// lists an image).
fn cosign_entry(c: &Carried) -> Descriptor {
    let mut d = c.descriptor.clone();
    d.artifact_type = None;
    d.annotations.clear();
    d
}

/// The index.json entries that list `carried` in a store written from scratch (an
/// oci-archive), the way [`record`] lists them in an empty layout: per subject one
/// referrers index under its fallback tag (in the order carried), a cosign referrer
/// under its own tag. Returns the entries (ref names set) and the referrers indexes'
/// bytes (new documents, to be stored with them).
pub fn entries_for(carried: &[Carried]) -> Result<(Vec<Descriptor>, Vec<Vec<u8>>)> {
    let mut lists: Vec<(String, Index)> = Vec::new();
    let mut entries: Vec<(String, Descriptor)> = Vec::new();
    for c in carried {
        if c.cosign {
            if !entries.iter().any(|(t, _)| *t == c.tag) {
                entries.push((c.tag.clone(), cosign_entry(c)));
            }
            continue;
        }
        let i = match lists.iter().position(|(s, _)| *s == c.subject) {
            Some(i) => i,
            None => {
                lists.push((c.subject.clone(), Index::default()));
                lists.len() - 1
            }
        };
        let list = &mut lists[i].1;
        if !list
            .manifests
            .iter()
            .any(|d| d.digest == c.descriptor.digest)
        {
            list.manifests.push(c.descriptor.clone());
        }
    }
    let mut docs = Vec::new();
    let mut out = Vec::new();
    for (subject, list) in lists {
        let bytes = list.to_bytes();
        if bytes.len() as u64 > model::MAX_MANIFEST_SIZE {
            return Err(Error::refused(format!(
                "the referrers index of {subject} would exceed {} bytes",
                model::MAX_MANIFEST_SIZE
            )));
        }
        let mut d = Descriptor::new(
            media::OCI_INDEX,
            &Digest::sha256_of(&bytes),
            bytes.len() as u64,
        );
        d.annotations.insert(
            annotation::REF_NAME.to_string(),
            fallback_tag(&Digest::parse(&subject)?),
        );
        out.push(d);
        docs.push(bytes);
    }
    for (tag, mut d) in entries {
        d.annotations.insert(annotation::REF_NAME.to_string(), tag);
        out.push(d);
    }
    Ok((out, docs))
}
