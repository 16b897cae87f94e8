//! `oix fold LAYOUT:REF`: turn an implicit multi-arch set (several top-level index.json
//! entries sharing one ref.name) into one explicit OCI image index.
//!
//! The new index lists the members in index.json order. Each member's descriptor is
//! copied with its ref.name annotation removed (other annotations and fields are kept
//! as they are); a member without a descriptor platform gets the platform of its image
//! config, so clients can select from the index. The index is serialized once,
//! compactly, with sorted annotation keys: the same members give the same bytes and
//! digest. In one index.json transaction, the new index takes the place of the first
//! member, named REF, and the other members' entries are removed (their blobs stay).

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{annotation, media, Descriptor, Index};
use crate::platform::{derived_platform, PlatformSpec};
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Folded {
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The index REF names afterwards.
    pub descriptor: Descriptor,
    /// Digests of the entries folded into it, in order (empty when nothing changed).
    pub members: Vec<String>,
    /// Whether index.json changed.
    pub changed: bool,
    pub warnings: Vec<String>,
}

/// Fold the entries `r` (a `LAYOUT:REF`) names into one index.
pub fn fold(layout: &Layout, r: &LayoutRef) -> Result<Folded> {
    let name = r.require_name()?.to_string();
    let (folded, _) = layout.transact(|idx| fold_in(layout, idx, r, &name))?;
    Ok(folded)
}

fn fold_in(layout: &Layout, idx: &mut Index, r: &LayoutRef, name: &str) -> Result<Folded> {
    let target = Target::Name(name.to_string());
    let members = resolve::candidates(layout, idx, &target)?;
    if members.is_empty() {
        let names = resolve::ref_names(idx);
        return Err(
            Error::no_match(format!("{r}: no top-level entry is named {name:?}")).with_hint(
                if names.is_empty() {
                    "the layout has no named refs".to_string()
                } else {
                    format!("refs in the layout: {}", names.join(", "))
                },
            ),
        );
    }
    if members.len() == 1 && members[0].descriptor.is_index() {
        return Ok(Folded {
            ref_name: name.to_string(),
            descriptor: members[0].descriptor.clone(),
            members: Vec::new(),
            changed: false,
            warnings: vec![format!("{r} already names one index; nothing to fold")],
        });
    }
    let mut warnings = Vec::new();
    let mut manifests = Vec::with_capacity(members.len());
    let mut seen: Vec<(PlatformSpec, String)> = Vec::new();
    for m in &members {
        let mut d = m.descriptor.clone();
        d.annotations.remove(annotation::REF_NAME);
        if d.platform.is_none() && !d.is_index() {
            match derived_platform(layout, &d) {
                Some(p) => d.platform = Some(Box::new(p)),
                None => warnings.push(format!(
                    "{} has no platform on its descriptor or in a readable image config; \
                     the index lists it without one",
                    d.digest
                )),
            }
        }
        if let Some(p) = d.platform.as_ref().filter(|_| !d.is_attestation()) {
            let spec = PlatformSpec::from_platform(p);
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == spec) {
                warnings.push(format!(
                    "{spec} is listed twice ({first} and {}); clients take the first",
                    d.digest
                ));
            } else {
                seen.push((spec, d.digest.clone()));
            }
        }
        manifests.push(d);
    }
    let new_index = Index {
        manifests,
        ..Index::default()
    };
    let bytes = new_index.to_bytes();
    let digest = layout.write_blob_bytes(&bytes)?;
    let mut entry = Descriptor::new(media::OCI_INDEX, &digest, bytes.len() as u64);
    // Keep the members' spelling of the name when they agree (full-name convention).
    let first_name = members[0].descriptor.ref_name().unwrap_or(name).to_string();
    let same = members
        .iter()
        .all(|m| m.descriptor.ref_name() == Some(first_name.as_str()));
    entry.annotations.insert(
        annotation::REF_NAME.into(),
        if same { first_name } else { name.to_string() },
    );
    let mut positions: Vec<usize> = members.iter().filter_map(|m| m.top_level).collect();
    positions.sort_unstable();
    let Some(&first) = positions.first() else {
        return Err(Error::failure(format!(
            "{r}: the entries to fold are not in index.json"
        )));
    };
    for &p in positions[1..].iter().rev() {
        idx.manifests.remove(p);
    }
    idx.manifests[first] = entry.clone();
    Ok(Folded {
        ref_name: name.to_string(),
        descriptor: entry,
        members: members
            .iter()
            .map(|m| m.descriptor.digest.clone())
            .collect(),
        changed: true,
        warnings,
    })
}
