//! Docker-loadable exports (`oix export --format docker-archive`): an oci-archive that
//! also carries Docker's `manifest.json` (`docker save`'s format), so `docker load` of
//! any version, `podman load`, `ctr images import` and skopeo's `docker-archive:`
//! transport read it.
//!
//! The OCI side is the ordinary export (the whole index of a multi-arch ref); the
//! index.json entry gets `io.containerd.image.name` (the full name, `docker.io/library/`
//! added to Hub short names, as containerd expects) and `org.opencontainers.image.ref.name`
//! (the tag) when a name is given, as Docker 25's `docker save` writes them.
//! `manifest.json` lists one image (`Config`, `RepoTags`, `Layers`, as paths of blobs in
//! the archive): for a multi-arch ref, the one `--platform` chooses. Layers stay as
//! stored: uncompressed and gzip layers load everywhere; zstd layers only with Docker
//! 23 and later, so they are refused unless accepted explicitly; the config must be an
//! image config (OCI or Docker). The manifest's bytes are not converted.

use crate::error::{Error, Result};
use crate::graph::{self, Role};
use crate::model::{self, media, Descriptor};
use crate::platform::{entry_platform, Fallbacks, MatchMode, PlatformSpec};
use crate::registry::reference::RegistryRef;
use crate::store::Source;

/// The containerd annotation naming an image in an archive's index.json.
pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// What makes an export docker-loadable.
#[derive(Debug, Clone, Default)]
pub struct DockerExport {
    /// `--name REPO:TAG`.
    pub name: Option<DockerName>,
    /// `--platform`: the image a multi-arch ref gives single-image consumers.
    pub platform: Option<PlatformSpec>,
    /// `--allow-zstd`: accept zstd layers (only Docker 23+ loads them).
    pub allow_zstd: bool,
}

/// An image name as `docker load` tags it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerName {
    /// As given (`RepoTags`): `app:1.0`, `registry.example:5000/team/app:1.0`.
    pub repo_tag: String,
    /// Fully qualified (`io.containerd.image.name`): `docker.io/library/app:1.0`.
    pub full: String,
    pub tag: String,
}

impl DockerName {
    /// Parse `REPO:TAG` by the registry reference grammar (a tag is required; no digest).
    pub fn parse(s: &str) -> Result<DockerName> {
        let hint = "write --name REPO:TAG, e.g. --name example.org/app:1.0 or --name app:latest";
        if s.contains("://") {
            return Err(
                Error::usage(format!("--name {s:?}: give REPO:TAG without a scheme"))
                    .with_hint(hint),
            );
        }
        let r = RegistryRef::parse(&format!("docker://{s}"))
            .map_err(|e| Error::usage(format!("--name {s:?}: {}", e.message)).with_hint(hint))?;
        if r.digest.is_some() {
            return Err(
                Error::usage(format!("--name {s:?}: a name holds no digest")).with_hint(hint),
            );
        }
        let Some(tag) = r.tag.clone() else {
            return Err(Error::usage(format!("--name {s:?} has no tag")).with_hint(hint));
        };
        Ok(DockerName {
            repo_tag: s.to_string(),
            full: format!("{}/{}:{tag}", r.host, r.repo),
            tag,
        })
    }
}

/// The index.json entry of a docker-loadable export: `root` named per `name`.
pub fn name_entry(root: &Descriptor, name: Option<&DockerName>) -> Descriptor {
    let mut d = root.clone();
    if let Some(n) = name {
        d.annotations
            .insert(CONTAINERD_IMAGE_NAME.to_string(), n.full.clone());
        d.annotations
            .insert(model::annotation::REF_NAME.to_string(), n.tag.clone());
    }
    d
}

/// The image manifest under `root` that single-image consumers get, checked to be
/// loadable by Docker (see the module docs). `layout` derives platforms of entries that
/// carry none (any store: a layout, or what a copy reads from); `src` reads documents
/// (it holds rewritten indexes too).
pub fn choose_image(
    layout: &dyn Source,
    src: &dyn Source,
    root: &Descriptor,
    opts: &DockerExport,
) -> Result<Descriptor> {
    let image = if root.is_manifest() {
        root.clone()
    } else {
        let w = graph::walk(src, std::slice::from_ref(root));
        if let Some(e) = w.first_error("cannot export") {
            return Err(e);
        }
        let images: Vec<(Descriptor, Option<String>, Option<PlatformSpec>)> = w
            .nodes
            .iter()
            .filter(|n| n.role == Role::Entry && n.descriptor.is_manifest())
            .filter(|n| !n.descriptor.is_attestation())
            .map(|n| {
                let p = entry_platform(layout, &n.descriptor);
                (
                    n.descriptor.clone(),
                    p.as_ref().map(|p| p.display()),
                    p.map(|p| p.spec()),
                )
            })
            .collect();
        let listing = || {
            let v: Vec<String> = images
                .iter()
                .map(|(d, p, _)| match (p, crate::platform::is_zstd_twin(d)) {
                    (Some(p), true) => format!("{p} (zstd twin)"),
                    (Some(p), false) => p.clone(),
                    (None, _) => "(no platform)".into(),
                })
                .collect();
            format!("platforms in {}: {}", root.digest, v.join(", "))
        };
        // A zstd twin does not compete with its platform's gzip image
        // (docs/selection.md, "Compression twins").
        let primary =
            crate::platform::without_outranked_twins(images.iter().collect(), |(d, _, p)| {
                (d, p.as_ref())
            });
        let Some(want) = &opts.platform else {
            return match primary.as_slice() {
                [(one, ..)] => check_loadable(src, one, opts),
                _ => Err(Error::usage(format!(
                    "{} is a multi-arch index; a docker-archive holds one image for docker load",
                    root.digest
                ))
                .with_hint(format!(
                    "choose it with --platform OS/ARCH ({}); the OCI side keeps the whole index",
                    listing()
                ))),
            };
        };
        let hits: Vec<&Descriptor> = primary
            .into_iter()
            .filter(|(_, _, have)| {
                have.as_ref().is_some_and(|h| {
                    want.check(h, MatchMode::Exact, Fallbacks::default())
                        .is_some()
                })
            })
            .map(|(d, ..)| d)
            .collect();
        match hits.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(Error::no_match(format!(
                    "no image of {} matches --platform {}",
                    root.digest,
                    want.short()
                ))
                .with_hint(listing()))
            }
            many => {
                return Err(Error::ambiguous(format!(
                    "{} images of {} match --platform {}",
                    many.len(),
                    root.digest,
                    want.short()
                ))
                .with_hint(listing()))
            }
        }
    };
    check_loadable(src, &image, opts)
}

fn check_loadable(src: &dyn Source, image: &Descriptor, opts: &DockerExport) -> Result<Descriptor> {
    let what = format!("image {}", image.digest);
    let bytes = src.read_small(image)?;
    let m: model::Manifest = model::parse_json(&bytes, &what)?;
    if !matches!(
        m.config.media_type.as_str(),
        media::OCI_CONFIG | media::DOCKER_CONFIG
    ) {
        return Err(Error::usage(format!(
            "{what} is not a container image (its config is {}); docker load cannot read it",
            m.config.media_type
        )));
    }
    for l in &m.layers {
        let mt = l.media_type.as_str();
        let zstd = mt.ends_with("+zstd") || mt.ends_with(".zstd");
        let tar = mt.contains(".tar") || mt.ends_with("tar");
        if zstd && !opts.allow_zstd {
            return Err(Error::usage(format!(
                "{what} has a zstd layer ({}); docker load before Docker 23 cannot read it",
                l.digest
            ))
            .with_hint("rebuild with --compression gzip, or pass --allow-zstd when every consumer is Docker 23+, podman or containerd"));
        }
        if !tar {
            return Err(Error::usage(format!(
                "{what}: layer {} is {mt}, not a filesystem layer docker load can read",
                l.digest
            )));
        }
    }
    Ok(image.clone())
}
