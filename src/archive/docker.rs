//! docker-archive (`docker save`, `skopeo copy … docker-archive:`) to OCI.
//!
//! The archive's `manifest.json` lists images as `{Config, RepoTags, Layers}` with paths
//! inside the archive (possibly through symlinks such as `<id>/layer.tar`). Each chosen
//! image becomes an OCI manifest that oix writes: the config bytes are kept exactly, the
//! layer bytes are kept exactly (an uncompressed layer gets
//! `application/vnd.oci.image.layer.v1.tar`, a gzip or zstd one the matching `+gzip` /
//! `+zstd` type), and an uncompressed layer must hash to its config's diff_id.
//! (Docker 25+ `docker save` output also carries an OCI index.json and is imported as an
//! oci-archive.)

use super::import::{Item, Staged};
use super::{member_path, Selection};
use crate::compress::Format;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, media, Descriptor, ImageConfig, Manifest};
use crate::reference::match_ref_name;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// Choose images of the docker-archive per `sel`, convert them to OCI manifests in
/// `target`, and return `(ref name, manifest descriptor)` pairs.
pub(crate) fn convert(
    target: &Layout,
    st: &Staged,
    sel: &Selection,
    what: &str,
) -> Result<Vec<(String, Descriptor)>> {
    let Item::Small(bytes) = st.lookup("manifest.json", what)? else {
        return Err(Error::corrupt(format!(
            "{what}: manifest.json is not a small JSON file"
        )));
    };
    let entries: Vec<DockerEntry> = model::parse_json(bytes, &format!("{what}: manifest.json"))?;
    let tags: Vec<(String, usize)> = entries
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.repo_tags.iter().flatten().map(move |t| (t.clone(), i)))
        .collect();
    let listing = || {
        if tags.is_empty() {
            "the archive's images have no RepoTags".to_string()
        } else {
            let t: Vec<&str> = tags.iter().map(|(t, _)| t.as_str()).collect();
            format!("tags in {what}: {}", t.join(", "))
        }
    };
    let picks: Vec<(String, usize)> = if sel.all {
        if sel.rename.is_some() || sel.name.is_some() {
            return Err(Error::usage(
                "--all imports every ref under its own name; drop :REF from SOURCE and -o",
            ));
        }
        if tags.is_empty() {
            return Err(Error::no_match(format!("{what} has no tagged images"))
                .with_hint("import one image with -o LAYOUT:REF to name it"));
        }
        tags.clone()
    } else if let Some(want) = &sel.name {
        let hits: Vec<(&String, usize, _)> = tags
            .iter()
            .filter_map(|(t, i)| Some((t, *i, match_ref_name(t, want)?)))
            .collect();
        let best = hits.iter().map(|h| h.2).min();
        let hits: Vec<(&String, usize)> = hits
            .into_iter()
            .filter(|h| Some(h.2) == best)
            .map(|h| (h.0, h.1))
            .collect();
        match hits.as_slice() {
            [] => {
                return Err(
                    Error::no_match(format!("{what} has no image tagged {want:?}"))
                        .with_hint(listing()),
                )
            }
            [(t, i)] => vec![(sel.rename.clone().unwrap_or_else(|| (*t).clone()), *i)],
            _ => {
                return Err(
                    Error::ambiguous(format!("{what}: {} tags match {want:?}", hits.len()))
                        .with_hint(listing()),
                )
            }
        }
    } else {
        match entries.len() {
            0 => {
                return Err(Error::no_match(format!(
                    "{what}: manifest.json lists no images"
                )))
            }
            1 => match &sel.rename {
                Some(n) => vec![(n.clone(), 0)],
                None if !tags.is_empty() => tags.clone(),
                None => {
                    return Err(Error::usage(format!("the image in {what} has no RepoTags"))
                        .with_hint("name it in the target with -o LAYOUT:REF"))
                }
            },
            n => {
                return Err(
                    Error::ambiguous(format!("{what} holds {n} images")).with_hint(format!(
                        "{}; pick one with SOURCE:TAG, or import them all with --all",
                        listing()
                    )),
                )
            }
        }
    };
    let mut converted: Vec<Option<Descriptor>> = vec![None; entries.len()];
    let mut out = Vec::new();
    for (name, i) in picks {
        if converted[i].is_none() {
            converted[i] = Some(convert_one(target, st, &entries[i], what)?);
        }
        let desc = converted[i].clone().expect("converted just above");
        out.push((name, desc));
    }
    Ok(out)
}

fn archive_path(p: &str, what: &str) -> Result<String> {
    member_path(p.as_bytes())
        .map_err(|why| Error::corrupt(format!("{what}: manifest.json names {p:?}: {why}")))?
        .ok_or_else(|| Error::corrupt(format!("{what}: manifest.json names the archive root")))
}

fn convert_one(target: &Layout, st: &Staged, e: &DockerEntry, what: &str) -> Result<Descriptor> {
    let cfg_path = archive_path(&e.config, what)?;
    let cfg_bytes = match st.lookup(&cfg_path, what)? {
        Item::Small(b) => b.clone(),
        Item::Blob { digest, size, .. } => target.read_blob(
            &Descriptor::new(media::OCI_CONFIG, digest, *size),
            model::MAX_MANIFEST_SIZE,
        )?,
        Item::Skipped => {
            return Err(Error::corrupt(format!(
                "{what}: config {cfg_path} is not a JSON file oix kept"
            )))
        }
    };
    let cfg_what = format!("{what}: {cfg_path}");
    let cfg: ImageConfig = model::parse_json(&cfg_bytes, &cfg_what)?;
    let platform = cfg
        .platform()
        .ok_or_else(|| Error::corrupt(format!("{cfg_what}: the config has no os/architecture")))?;
    let raw: serde_json::Value = model::parse_json(&cfg_bytes, &cfg_what)?;
    let diff_ids: Vec<&str> = raw
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if diff_ids.len() != e.layers.len() {
        return Err(Error::corrupt(format!(
            "{cfg_what}: the config lists {} diff_ids for {} layers",
            diff_ids.len(),
            e.layers.len()
        )));
    }
    let mut layers = Vec::new();
    for (lp, diff_id) in e.layers.iter().zip(&diff_ids) {
        let path = archive_path(lp, what)?;
        let Item::Blob {
            digest,
            size,
            format,
        } = st.lookup(&path, what)?
        else {
            return Err(Error::corrupt(format!(
                "{what}: layer {path} is not a layer tar"
            )));
        };
        // Members under blobs/ (Docker 25+, oix's docker-archive exports) were stored
        // without sniffing: look at their first bytes now.
        let format = match format {
            Format::Plain if path.starts_with("blobs/") => sniff_blob(target, digest)?,
            f => *f,
        };
        let mt = match format {
            Format::Plain => {
                if digest.to_string() != *diff_id {
                    return Err(Error::corrupt(format!(
                        "{what}: layer {path} hashes to {digest}, but the config's diff_id is {diff_id}"
                    ))
                    .with_hint("the archive is corrupt"));
                }
                media::OCI_LAYER_TAR
            }
            Format::Gzip => media::OCI_LAYER_GZIP,
            Format::Zstd => media::OCI_LAYER_ZSTD,
            Format::Xz => {
                return Err(Error::corrupt(format!(
                    "{what}: layer {path} is xz-compressed, which OCI images cannot carry"
                )))
            }
        };
        layers.push(Descriptor::new(mt, digest, *size));
    }
    let cfg_digest = target.write_blob_bytes(&cfg_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        artifact_type: None,
        config: Descriptor::new(media::OCI_CONFIG, &cfg_digest, cfg_bytes.len() as u64),
        layers,
        subject: None,
        annotations: Default::default(),
        extra: Default::default(),
    };
    let bytes = serde_json::to_vec(&manifest).expect("serializing a manifest cannot fail");
    let digest = target.write_blob_bytes(&bytes)?;
    let mut desc = Descriptor::new(media::OCI_MANIFEST, &digest, bytes.len() as u64);
    desc.platform = Some(Box::new(platform));
    Ok(desc)
}

/// The compression of a blob of `layout`, from its first bytes.
fn sniff_blob(layout: &Layout, digest: &crate::digest::Digest) -> Result<Format> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8);
    layout
        .open_blob(digest)?
        .take(8)
        .read_to_end(&mut head)
        .map_err(|e| Error::failure(format!("reading blob {digest}: {e}")))?;
    Ok(Format::sniff(&head))
}
