//! The previous release an image's merge policy compares with: what its release tags
//! hold now, at the first `docker://` destination when they exist there (documents read
//! into the run's cache, never layers), else in the working layout (docs/plan.md, "The
//! previous release").

use super::opened::Opened;
use super::plan::{Destination, Image};
use super::platforms::{contains, platforms_of};
use super::publish::RemoteRef;
use super::Run;
use crate::authoring::{self, Current};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::platform::PlatformSpec;

/// What each release tag `NAME:TAG` of an image names now.
pub(super) type TagsNow = Vec<(String, Option<Current>)>;

/// The previous release of an image: what each release tag (`NAME:TAG`) holds now, and
/// the layout holding those documents (the working layout, or the run's copy of a
/// registry's documents).
pub(super) struct Previous<'l> {
    pub layout: &'l Layout,
    pub tags: &'l [(String, Option<Current>)],
    /// Read from a registry (the documents are in the run's cache, not in the working
    /// layout).
    pub published: bool,
}

impl<'a> Run<'a> {
    /// The release tags of `img` at the first `docker://` destination, read from the
    /// registry (a HEAD per tag; the documents and configs of those that exist, never
    /// layers, into the run's document cache); `None` when there is no such
    /// destination, with `--no-push`, or when none of the tags exists there.
    pub(super) fn published(&self, img: &Image) -> Result<Option<(TagsNow, &Layout)>> {
        if self.opts.no_push {
            return Ok(None);
        }
        let Some((d, connection)) = self.plan.destinations.iter().find_map(|d| match d {
            Destination::Registry { connection, .. } => Some((d, connection)),
            Destination::Layout { .. } => None,
        }) else {
            return Ok(None);
        };
        let mut tags = Vec::new();
        let mut any = false;
        for t in &img.tags {
            let remote = RemoteRef {
                url: d.target(&img.name, t),
                connection: connection.clone(),
            };
            let cur = match self.resolve_remote(&remote)? {
                None => None,
                Some(desc) => {
                    any = true;
                    let cache = self.cache()?;
                    let reg = self.registry(&remote)?;
                    // Content is named by digest: what the working layout holds of it
                    // already is read from there, the rest from the registry.
                    let working = self.opened(&self.plan.layout)?;
                    let local;
                    let src: &dyn crate::store::Source = match &working {
                        Some(w) => {
                            local = super::publish::WithRemotes {
                                layout: &w.layout,
                                remotes: vec![reg.clone()],
                            };
                            &local
                        }
                        None => reg.source(),
                    };
                    crate::copy::copy_documents(
                        src,
                        cache,
                        std::slice::from_ref(&desc),
                        &crate::copy::CopyOptions {
                            jobs: self.settings().jobs,
                        },
                    )
                    .map_err(|e| e.context(format!("reading the published {}", remote.url)))?;
                    let index = match cache.read_document(&desc)? {
                        (_, Some(crate::model::Document::Index(i))) => Some(i),
                        _ => None,
                    };
                    Some(Current { entry: desc, index })
                }
            };
            tags.push((img.ref_name(t), cur));
        }
        Ok(any.then(|| (tags, self.cache().expect("opened above"))))
    }
}

/// What each release tag `NAME:TAG` of `img` names now in the working layout.
pub(super) fn tags_now(img: &Image, working: Option<&Opened>) -> Result<TagsNow> {
    let mut current: TagsNow = Vec::new();
    for t in &img.tags {
        let r = img.ref_name(t);
        let cur = match working {
            Some(o) => authoring::current_in(&o.layout, &o.names, &r)?,
            None => None,
        };
        current.push((r, cur));
    }
    Ok(current)
}

/// require-all: moving a tag must not drop a platform that tag has now.
pub(super) fn require_all_against_tags(
    working: &Layout,
    digest: &str,
    have: &[PlatformSpec],
    current: &[(String, Option<Current>)],
) -> Result<()> {
    let mut lost: Vec<String> = Vec::new();
    for (r, cur) in current {
        let Some(c) = cur else { continue };
        if c.entry.digest == digest {
            continue;
        }
        for p in platforms_of(working, &c.entry) {
            if !contains(have, &p) {
                lost.push(format!("{} (in {r})", p.short()));
            }
        }
    }
    if lost.is_empty() {
        Ok(())
    } else {
        Err(Error::refused(format!(
            "require-all: the release lacks {} platform(s) that the tags hold now: {}",
            lost.len(),
            lost.join(", ")
        ))
        .with_hint("nothing was written; build the missing platforms, or use policy keep-missing"))
    }
}
