//! One source of an image (`source:` or an entry of `sources:`), parsed.

use super::Resolver;
use crate::apply::plan::{parse_registry_ref, SourceRef};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::{
    shown_source, split_platform, validate_ref_name, LayoutRef, Scheme, Target,
};
use std::path::PathBuf;

impl Resolver {
    /// Parse one source text (after `{name}` expansion).
    pub(super) fn source(&self, text: &str, allow_platform: bool) -> Result<SourceRef> {
        let (body, platform) = split_platform(text)?;
        let platform = platform.map(Box::new);
        if platform.is_some() && !allow_platform {
            return Err(Error::failure(format!(
                "source {:?}: a platform override (=os/arch) applies to sources: entries",
                shown_source(text)
            )));
        }
        let (scheme, explicit, _) = Scheme::of(body);
        if matches!(scheme, Scheme::OciArchive | Scheme::DockerArchive) {
            return Err(Error::failure(format!(
                "source {text:?}: an archive is not a source; plans read layouts and registries"
            ))
            .with_hint("import it into the working layout first (oix import FILE -o LAYOUT:REF) and name that ref"));
        }
        if scheme == Scheme::Registry {
            let (host, _) = parse_registry_ref(body).map_err(|e| {
                let shown = crate::registry::reference::redact_reference(text);
                e.context(format!("source {shown:?}"))
            })?;
            return Ok(SourceRef::Registry {
                text: text.to_string(),
                url: body.to_string(),
                host,
                platform,
            });
        }
        let reference = if explicit
            || body.starts_with('/')
            || body.starts_with("./")
            || body.starts_with("../")
        {
            let r = LayoutRef::parse(body).map_err(|e| e.context(format!("source {text:?}")))?;
            LayoutRef {
                path: self.rel(&r.path.to_string_lossy()),
                target: r.target,
            }
        } else if let Some(d) = body.strip_prefix('@') {
            let digest = Digest::parse(d).map_err(|e| e.context(format!("source {text:?}")))?;
            LayoutRef {
                path: PathBuf::new(),
                target: Target::Digest(digest),
            }
        } else {
            validate_ref_name(body).map_err(|e| {
                e.context(format!("source {text:?}")).with_hint(
                    "a source is a ref in the working layout (NAME:BUILD-TAG), @DIGEST, \
                     oci:PATH:REF or ./PATH:REF for another layout, or docker://HOST/REPO:TAG",
                )
            })?;
            LayoutRef {
                path: PathBuf::new(),
                target: Target::Name(body.to_string()),
            }
        };
        Ok(SourceRef::Layout {
            text: text.to_string(),
            reference,
            platform,
        })
    }
}
