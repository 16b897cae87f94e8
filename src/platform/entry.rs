//! The platform of an index entry as read from a layout: the descriptor's own, or
//! derived from the image config of the manifest it points to. The only part of
//! `platform` that reads blobs; the rest is pure.

use super::PlatformSpec;
use crate::layout::Layout;
use crate::model::{self, Descriptor, Document, ImageConfig, Platform};

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
pub fn entry_platform(layout: &Layout, desc: &Descriptor) -> Option<EntryPlatform> {
    if let Some(p) = &desc.platform {
        return Some(EntryPlatform {
            platform: (**p).clone(),
            derived: false,
        });
    }
    derived_platform(layout, desc).map(|platform| EntryPlatform {
        platform,
        derived: true,
    })
}

/// The platform in the config of the manifest `desc` points to (`None` for indexes,
/// artifacts without an image config, and unreadable blobs).
pub fn derived_platform(layout: &Layout, desc: &Descriptor) -> Option<Platform> {
    if !desc.is_manifest() {
        return None;
    }
    let (_, doc) = layout.read_document(desc).ok()?;
    let Some(Document::Manifest(m)) = doc else {
        return None;
    };
    config_platform(layout, &m.config)
}

/// os/architecture/... of an image config blob, when it is one.
pub fn config_platform(layout: &Layout, config: &Descriptor) -> Option<Platform> {
    if !model::media::is_image_config(&config.media_type) {
        return None;
    }
    let bytes = layout.read_blob(config, model::MAX_MANIFEST_SIZE).ok()?;
    let cfg: ImageConfig = serde_json::from_slice(&bytes).ok()?;
    cfg.platform()
}
