//! The platform of an index entry as read from a store: the descriptor's own, or
//! derived from the image config of the manifest it points to. The only part of
//! `platform` that reads blobs; the rest is pure. It reads through
//! [`Source::read_small`] (verified, bounded), so a layout and a registry answer alike,
//! and only manifests and configs are ever read, never layers.

use super::PlatformSpec;
use crate::model::{self, Descriptor, Document, ImageConfig, Platform};
use crate::store::Source;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPlatform {
    pub platform: Platform,
    /// True when read from the image config rather than the descriptor.
    pub derived: bool,
}

impl EntryPlatform {
    pub fn display(&self) -> String {
        if self.derived {
            format!("{} (derived)", self.platform.display())
        } else {
            self.platform.display()
        }
    }
    /// The normalized form, for matching.
    pub fn spec(&self) -> PlatformSpec {
        PlatformSpec::from_platform(&self.platform)
    }
}

/// The platform of a manifest entry, from its descriptor or (derived) from its config.
/// Returns `None` for entries without either (and for indexes).
pub fn entry_platform(src: &dyn Source, desc: &Descriptor) -> Option<EntryPlatform> {
    if let Some(p) = &desc.platform {
        return Some(EntryPlatform {
            platform: (**p).clone(),
            derived: false,
        });
    }
    derived_platform(src, desc).map(|platform| EntryPlatform {
        platform,
        derived: true,
    })
}

/// The platform in the config of the manifest `desc` points to (`None` for indexes,
/// artifacts without an image config, and unreadable blobs).
pub fn derived_platform(src: &dyn Source, desc: &Descriptor) -> Option<Platform> {
    if !desc.is_manifest() {
        return None;
    }
    let bytes = src.read_small(desc).ok()?;
    let doc = Document::parse(&desc.media_type, &bytes, &format!("blob {}", desc.digest)).ok()?;
    let Some(Document::Manifest(m)) = doc else {
        return None;
    };
    config_platform(src, &m.config)
}

/// os/architecture/... of an image config blob, when it is one.
pub fn config_platform(src: &dyn Source, config: &Descriptor) -> Option<Platform> {
    if !model::media::is_image_config(&config.media_type) {
        return None;
    }
    let bytes = src.read_small(config).ok()?;
    let cfg: ImageConfig = serde_json::from_slice(&bytes).ok()?;
    cfg.platform()
}
