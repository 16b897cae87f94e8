//! Archives as stores: `oix import` (oci-archive, docker-archive or another layout into
//! a layout) and `oix export` (a reproducible oci-archive, optionally docker-loadable).
//!
//! Both are one [`crate::copy::copy_graph`] plus naming. Reading: the archive is
//! streamed once into a private staging layout beside the target, every blob verified
//! as it arrives ([`source::ArchiveSource`]; why a staging layout and not random access
//! is said there); the chosen entries are copied from it into the target (hard links
//! where safe), their graph is walked in the target to prove it complete, and only
//! then does one [`crate::Layout::transact`] add the refs. A failed import leaves the
//! target as it was. Writing: the graph is copied into an [`sink::ArchiveSink`], whose
//! member order makes the archive's bytes depend only on its content.

pub mod docker;
pub mod docker_export;
pub mod export;
pub mod import;
pub mod sink;
pub mod source;

use crate::error::{Error, Result};
use crate::model::{Descriptor, Index};

/// Normalize an archive member name: `./` prefixes and empty or `.` components are
/// dropped; absolute names, `..` components, non-UTF-8 names and NUL bytes are
/// refused. `None` for the archive root (`./`).
pub fn member_path(raw: &[u8]) -> std::result::Result<Option<String>, String> {
    if raw.first() == Some(&b'/') {
        return Err("absolute path".into());
    }
    let s = std::str::from_utf8(raw).map_err(|_| "name is not UTF-8".to_string())?;
    if s.contains('\0') {
        return Err("name holds a NUL byte".into());
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("`..` component".into()),
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

/// Resolve a link target inside the archive. Symlink targets are relative to the link's
/// directory, hard-link targets to the archive root; either may not leave the archive.
pub fn resolve_link(
    link_path: &str,
    target: &[u8],
    hard: bool,
) -> std::result::Result<String, String> {
    let t = std::str::from_utf8(target).map_err(|_| "link target is not UTF-8".to_string())?;
    if t.starts_with('/') {
        return Err(format!("link to absolute path {t:?} leaves the archive"));
    }
    let mut parts: Vec<&str> = Vec::new();
    if !hard {
        parts.extend(link_path.split('/'));
        parts.pop(); // the link's own name
    }
    for c in t.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("link to {t:?} leaves the archive"));
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(format!("link to {t:?} points at the archive root"));
    }
    Ok(parts.join("/"))
}

/// Which entries of an index.json to import, and under which names.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `SOURCE:REF`: the entry with this ref name (both naming conventions match).
    pub name: Option<String>,
    /// `--all`: every named entry, each under its own name.
    pub all: bool,
    /// `-o LAYOUT:REF`: the name in the target (single entry only).
    pub rename: Option<String>,
}

/// Choose `(target name, descriptor)` pairs from an index per `sel` (a name names entries
/// as in a layout: [`crate::resolve::named`]). `what` names the
/// source in messages.
pub fn select_entries(
    index: &Index,
    sel: &Selection,
    what: &str,
) -> Result<Vec<(String, Descriptor)>> {
    let names = || {
        let mut v: Vec<&str> = index
            .manifests
            .iter()
            .filter_map(|d| d.ref_name())
            .collect();
        v.dedup();
        if v.is_empty() {
            "it has no named refs".to_string()
        } else {
            format!("refs in {what}: {}", v.join(", "))
        }
    };
    if sel.all {
        if sel.rename.is_some() || sel.name.is_some() {
            return Err(Error::usage(
                "--all imports every ref under its own name; drop :REF from SOURCE and -o",
            ));
        }
        let out: Vec<(String, Descriptor)> = index
            .manifests
            .iter()
            .filter_map(|d| Some((d.ref_name()?.to_string(), d.clone())))
            .collect();
        if out.is_empty() {
            return Err(
                Error::no_match(format!("{what} has no named refs to import"))
                    .with_hint("import one entry with -o LAYOUT:REF to name it"),
            );
        }
        return Ok(out);
    }
    let chosen: Vec<&Descriptor> = match &sel.name {
        Some(want) => crate::resolve::named(index, want)
            .into_iter()
            .map(|i| &index.manifests[i])
            .collect(),
        None => index.manifests.iter().collect(),
    };
    match chosen.as_slice() {
        [] => Err(Error::no_match(match &sel.name {
            Some(n) => format!("{what} has no ref {n:?}"),
            None => format!("{what} holds no images"),
        })
        .with_hint(names())),
        [one] => {
            let name = sel
                .rename
                .clone()
                .or_else(|| one.ref_name().map(str::to_string))
                .ok_or_else(|| {
                    Error::usage(format!("the entry in {what} has no ref name"))
                        .with_hint("name it in the target with -o LAYOUT:REF")
                })?;
            Ok(vec![(name, (*one).clone())])
        }
        many => Err(Error::ambiguous(format!(
            "{what} holds {} entries{}",
            many.len(),
            sel.name
                .as_ref()
                .map(|n| format!(" named {n:?}"))
                .unwrap_or_default()
        ))
        .with_hint(format!(
            "{}; pick one with SOURCE:REF, or import them all with --all",
            names()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        assert_eq!(
            member_path(b"./blobs/sha256/").unwrap().unwrap(),
            "blobs/sha256"
        );
        assert_eq!(member_path(b"./").unwrap(), None);
        assert!(member_path(b"/etc/passwd").is_err());
        assert!(member_path(b"blobs/../../x").is_err());
        assert!(member_path(b"a\xffb").is_err());
    }

    #[test]
    fn links_stay_inside() {
        assert_eq!(
            resolve_link("abc/layer.tar", b"../x.tar", false).unwrap(),
            "x.tar"
        );
        assert!(resolve_link("abc/layer.tar", b"../../x.tar", false).is_err());
        assert!(resolve_link("a", b"/etc/passwd", false).is_err());
        assert_eq!(resolve_link("a/b", b"c/d", true).unwrap(), "c/d");
        assert!(resolve_link("a/b", b"../d", true).is_err());
    }
}
