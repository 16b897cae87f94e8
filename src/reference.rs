//! One reference grammar for every command:
//!
//! - `LAYOUT`: a layout directory (its only top-level entry, when it has exactly one);
//! - `LAYOUT:REF`: the top-level index.json entries whose `org.opencontainers.image.ref.name` is REF;
//! - `LAYOUT@ALG:HEX`: a descriptor anywhere in the layout's graph, by digest.
//!
//! An optional `oci:` prefix is accepted, skopeo style; the path ends at the first `:`.
//!
//! Two ref.name conventions exist in the wild: a bare tag (`latest`, written by skopeo,
//! umoci and oix) and a full image name (`registry.example.com/repo:latest`, written by
//! some exporters). A REF matches an entry whose ref.name equals it; when no entry
//! matches exactly, it also matches full names whose tag (`latest`) or `repo:tag` tail
//! equals it. oix always writes REF exactly as given (a bare tag in normal use).

use crate::digest::Digest;
use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;

/// The kind of store a reference names, told by its scheme prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `oci:PATH` or a bare path: a layout directory.
    Layout,
    /// `oci-archive:FILE`.
    OciArchive,
    /// `docker-archive:FILE`.
    DockerArchive,
    /// `docker://HOST/REPO`.
    Registry,
}

impl Scheme {
    /// The prefixes, in the order they are tried.
    const PREFIXES: [(&'static str, Scheme); 4] = [
        ("docker://", Scheme::Registry),
        ("oci-archive:", Scheme::OciArchive),
        ("docker-archive:", Scheme::DockerArchive),
        ("oci:", Scheme::Layout),
    ];

    /// The scheme of `input`, whether it was written, and the rest after the prefix.
    /// A reference without a prefix is a layout path.
    pub fn of(input: &str) -> (Scheme, bool, &str) {
        for (prefix, scheme) in Scheme::PREFIXES {
            if let Some(rest) = input.strip_prefix(prefix) {
                return (scheme, true, rest);
            }
        }
        (Scheme::Layout, false, input)
    }

    /// The prefix as written in references.
    pub fn prefix(self) -> &'static str {
        match self {
            Scheme::Layout => "oci:",
            Scheme::OciArchive => "oci-archive:",
            Scheme::DockerArchive => "docker-archive:",
            Scheme::Registry => "docker://",
        }
    }
}

/// A layout directory argument, `[oci:]PATH` (no ref): the path.
pub fn layout_dir(arg: &std::path::Path) -> PathBuf {
    match arg.to_str().map(Scheme::of) {
        Some((Scheme::Layout, true, rest)) => PathBuf::from(rest),
        _ => arg.to_path_buf(),
    }
}

/// The file an archive is written to (`export -o`): `FILE` or `oci-archive:FILE`. Other
/// schemes are refused with the command that writes there.
pub fn archive_output(arg: &std::path::Path) -> Result<PathBuf> {
    let Some(text) = arg.to_str() else {
        return Ok(arg.to_path_buf());
    };
    let refuse = |what: &str, hint: &str| {
        Err(Error::usage(format!(
            "output {:?} is {what}; export writes an oci-archive file",
            shown_source(text)
        ))
        .with_hint(hint.to_string()))
    };
    match Scheme::of(text) {
        (Scheme::Layout, false, _) => Ok(arg.to_path_buf()),
        (Scheme::OciArchive, _, "") => refuse("an empty file name", "write -o FILE or -o oci-archive:FILE"),
        (Scheme::OciArchive, _, file) => Ok(PathBuf::from(file)),
        (Scheme::DockerArchive, ..) => refuse(
            "a docker-archive",
            "write -o FILE (an oci-archive, which docker load and podman load read too)",
        ),
        (Scheme::Layout, true, _) => refuse(
            "a layout",
            "to copy into another layout use `oix import LAYOUT:REF -o OTHER:REF` or `oix index add`",
        ),
        (Scheme::Registry, ..) => refuse(
            "a registry reference",
            "to copy to a registry use `oix push LAYOUT:REF docker://HOST/REPO:TAG`",
        ),
    }
}

/// Any reference oix reads, by scheme: one parser for the command line, plan files
/// and import/export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `[oci:]PATH[:REF|@DIGEST]`.
    Layout(LayoutRef),
    /// `oci-archive:FILE[:REF]` or `docker-archive:FILE[:REF]`: the file ends at the
    /// first `:`.
    Archive {
        /// Which archive format.
        scheme: Scheme,
        /// The archive file.
        path: PathBuf,
        /// The image in it, by name.
        name: Option<String>,
    },
    /// `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`.
    Registry(crate::registry::RegistryRef),
}

impl Reference {
    /// Parse any reference (the one grammar; usage error, exit 2, when malformed).
    pub fn parse(input: &str) -> Result<Reference> {
        match Scheme::of(input) {
            (Scheme::Registry, ..) => Ok(Reference::Registry(crate::registry::RegistryRef::parse(
                input,
            )?)),
            (scheme @ (Scheme::OciArchive | Scheme::DockerArchive), _, rest) => {
                let (path, name) = Reference::split_archive(scheme, rest)?;
                Ok(Reference::Archive { scheme, path, name })
            }
            (Scheme::Layout, ..) => Ok(Reference::Layout(LayoutRef::parse(input)?)),
        }
    }

    /// An archive reference after its scheme prefix, `FILE[:REF]`, as (file, REF): the
    /// file ends at the first `:`.
    pub fn split_archive(scheme: Scheme, rest: &str) -> Result<(PathBuf, Option<String>)> {
        let (path, name) = match rest.split_once(':') {
            Some((p, n)) => (p, Some(n)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(Error::usage(format!(
                "invalid reference {:?}: empty file name",
                format!("{}{rest}", scheme.prefix())
            ))
            .with_hint(format!("write {}FILE[:REF]", scheme.prefix())));
        }
        if let Some(n) = name {
            validate_ref_name(n)?;
        }
        Ok((PathBuf::from(path), name.map(str::to_string)))
    }

    /// Its scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            Reference::Layout(_) => Scheme::Layout,
            Reference::Archive { scheme, .. } => *scheme,
            Reference::Registry(_) => Scheme::Registry,
        }
    }
}

/// What a layout reference names in its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No REF given: the layout's only top-level entry.
    Default,
    /// A ref.name.
    Name(String),
    /// A digest anywhere in the graph.
    Digest(Digest),
}

/// A reference into a layout: `[oci:]PATH[:REF|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutRef {
    /// The layout directory.
    pub path: PathBuf,
    /// The entry it names.
    pub target: Target,
}

impl fmt::Display for LayoutRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.target {
            Target::Default => write!(f, "{p}"),
            Target::Name(n) => write!(f, "{p}:{n}"),
            Target::Digest(d) => write!(f, "{p}@{d}"),
        }
    }
}

impl LayoutRef {
    /// Parse `[oci:]PATH[:REF|@DIGEST]` (usage error, exit 2, when malformed).
    pub fn parse(input: &str) -> Result<LayoutRef> {
        let usage = |why: &str| {
            Error::usage(format!("invalid reference {input:?}: {why}")).with_hint(
                "write LAYOUT, LAYOUT:REF or LAYOUT@sha256:<hex> (an `oci:` prefix is allowed)",
            )
        };
        let s = match Scheme::of(input) {
            (Scheme::Layout, _, rest) => rest,
            (Scheme::Registry, ..) => {
                return Err(Error::usage(format!(
                    "{:?} is a registry reference, not a layout; this command reads layouts",
                    crate::registry::reference::redact_reference(input)
                ))
                .with_hint("bring it in first: `oix pull docker://HOST/REPO:TAG LAYOUT:REF`, then use LAYOUT:REF"));
            }
            (_, _, rest) => {
                let file = rest.split(':').next().unwrap_or(rest);
                return Err(Error::usage(format!(
                    "{input:?} is an archive, not a layout; this command reads layouts"
                ))
                .with_hint(format!(
                    "bring it in first: `oix import {file} -o LAYOUT`, then use LAYOUT:REF"
                )));
            }
        };
        if s.is_empty() {
            return Err(usage("empty layout path"));
        }
        // LAYOUT@alg:enc — the digest form, recognized when the tail after the last '@'
        // is a valid digest.
        if let Some((path, dig)) = s.rsplit_once('@') {
            if dig.contains(':') && !path.is_empty() {
                let digest = Digest::parse(dig).map_err(|e| usage(&e.message))?;
                return Ok(LayoutRef {
                    path: PathBuf::from(path),
                    target: Target::Digest(digest),
                });
            }
        }
        match s.split_once(':') {
            None => Ok(LayoutRef {
                path: PathBuf::from(s),
                target: Target::Default,
            }),
            Some((path, name)) => {
                if path.is_empty() {
                    return Err(usage("empty layout path"));
                }
                validate_ref_name(name).map_err(|e| usage(&e.message))?;
                Ok(LayoutRef {
                    path: PathBuf::from(path),
                    target: Target::Name(name.to_string()),
                })
            }
        }
    }

    /// `LAYOUT:NAME` naming a ref that may already exist under any name, even one that
    /// breaks the grammar (written by another tool, or by an older oix): the path ends at
    /// the first `:` and the rest is the name exactly. For `untag`, which must be able to
    /// remove whatever `fsck` flags. The grammar's forms win where they apply.
    pub fn parse_existing_name(input: &str) -> Result<LayoutRef> {
        let parsed = LayoutRef::parse(input);
        let loose = || {
            let s = input.strip_prefix("oci:").unwrap_or(input);
            s.split_once(':')
                .filter(|(path, name)| !path.is_empty() && !name.is_empty())
                .map(|(path, name)| LayoutRef {
                    path: PathBuf::from(path),
                    target: Target::Name(name.to_string()),
                })
        };
        match parsed {
            Ok(r)
                if matches!(r.target, Target::Digest(_))
                    && r.path.to_string_lossy().contains(':') =>
            {
                Ok(loose().unwrap_or(r))
            }
            Ok(r) => Ok(r),
            Err(e) => loose().ok_or(e),
        }
    }

    /// The ref name, or a usage error for commands that need one.
    pub fn require_name(&self) -> Result<&str> {
        match &self.target {
            Target::Name(n) => Ok(n),
            _ => Err(
                Error::usage(format!("{self}: this command needs LAYOUT:REF"))
                    .with_hint("name the ref, e.g. ./layout:latest"),
            ),
        }
    }
}

/// A new ref name for content in the layout at `source`, as `oix tag` takes it. The
/// docker/crane habit `oix tag L:1.0 L:2.0` means "2.0 in L": a `LAYOUT:` (or
/// `oci:LAYOUT:`) prefix naming the source layout is dropped. A prefix naming another
/// layout is refused (a tag never copies content between layouts). Any other name is
/// taken as it is (`:` is a legal separator inside a ref name), then checked against
/// the grammar.
pub fn new_ref_name(source_ref: &LayoutRef, given: &str) -> Result<String> {
    let source = source_ref.path.as_path();
    let s = given.strip_prefix("oci:").unwrap_or(given);
    if let Some((prefix, rest)) = s
        .split_once(':')
        .filter(|(p, r)| !p.is_empty() && !r.is_empty())
    {
        let prefix_path = std::path::Path::new(prefix);
        let same = prefix_path == source
            || matches!(
                (prefix_path.canonicalize(), source.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            );
        if same {
            validate_ref_name(rest)?;
            return Ok(rest.to_string());
        }
        if prefix_path.join("oci-layout").is_file() {
            return Err(Error::usage(format!(
                "{given:?} names the layout {prefix}, but tag only names content in its own layout ({})",
                source.display()
            ))
            .with_hint(format!(
                "to tag inside {}, write the bare name ({rest}); to copy the content into {prefix}, use `oix import {source_ref} -o {prefix}:{rest}` (or `oix index add`, `oix merge`)",
                source.display()
            )));
        }
    }
    validate_ref_name(s)?;
    Ok(s.to_string())
}

/// How a `/`-separated name breaks a grammar of the form
/// `component ::= alnum+ (separator alnum+)*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    EmptyComponent,
    /// Neither an alphanumeric nor a separator of the grammar.
    Character(char),
    /// A component starts with a separator, or two separators meet.
    SeparatorFirst,
    /// A component ends with a separator.
    SeparatorLast,
}

/// Check `/`-separated components, each alphanumerics (`alnum`) joined by separators
/// (`separator` gives the length of the one that starts a slice, if any). The one
/// scanner of the ref name (image-spec) and repository name (distribution-spec)
/// grammars.
pub(crate) fn check_components(
    name: &str,
    alnum: impl Fn(u8) -> bool,
    separator: impl Fn(&[u8]) -> Option<usize>,
) -> std::result::Result<(), Malformed> {
    for comp in name.split('/') {
        let b = comp.as_bytes();
        if b.is_empty() {
            return Err(Malformed::EmptyComponent);
        }
        let mut i = 0;
        let mut need_alnum = true;
        while i < b.len() {
            if alnum(b[i]) {
                need_alnum = false;
                i += 1;
                continue;
            }
            let Some(n) = separator(&b[i..]) else {
                return Err(Malformed::Character(b[i] as char));
            };
            if need_alnum {
                return Err(Malformed::SeparatorFirst);
            }
            need_alnum = true;
            i += n;
        }
        if need_alnum {
            return Err(Malformed::SeparatorLast);
        }
    }
    Ok(())
}

/// Check a ref name against the image-spec grammar:
/// `component ("/" component)*`, `component ::= alphanum (separator alphanum)*`,
/// `separator ::= [-._:@+] | "--"`.
pub fn validate_ref_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::usage(format!("invalid ref name {name:?}: {why}")).with_hint(
            "ref names are alphanumerics joined by one of - . _ : @ + or --, in /-separated parts",
        )
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > 512 {
        return Err(bad("longer than 512 characters"));
    }
    let separator = |b: &[u8]| match b {
        [b'-', b'-', ..] => Some(2),
        [b'-' | b'.' | b'_' | b':' | b'@' | b'+', ..] => Some(1),
        _ => None,
    };
    check_components(name, |c| c.is_ascii_alphanumeric(), separator).map_err(|why| {
        bad(&match why {
            Malformed::EmptyComponent => "empty path component".to_string(),
            Malformed::Character(c) => format!("character {c:?} is not allowed"),
            Malformed::SeparatorFirst => "a separator must sit between alphanumerics".into(),
            Malformed::SeparatorLast => "must end with an alphanumeric".into(),
        })
    })?;
    Ok(())
}

/// Split a source argument `SRC[=os/arch[/variant]]` into the source and its platform
/// override, parsed as it will be recorded ([`crate::platform::parse_to_record`]). The
/// `=` form is recognized when what follows the last `=` holds a `/` (ref names never
/// hold `=`, digests never `/`). The one parser of the form, for `index create`,
/// `index add`, `merge` and plan files.
pub fn split_platform(text: &str) -> Result<(&str, Option<crate::model::Platform>)> {
    match text.rsplit_once('=') {
        Some((source, p)) if p.contains('/') => {
            let platform = crate::platform::parse_to_record(p)
                .map_err(|e| e.context(format!("source {:?}", shown_source(text))))?;
            Ok((source, Some(platform)))
        }
        _ => Ok((text, None)),
    }
}

/// A source argument as it may be shown: a `docker://` one with any credentials in
/// it redacted ([`crate::registry::reference::redact_reference`]).
pub fn shown_source(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with("docker://") {
        crate::registry::reference::redact_reference(text)
    } else {
        text.into()
    }
}

/// Split a full image name at its tag: the tag is after the last `:` that follows the
/// last `/` (`host:5000/repo:tag` is `("host:5000/repo", Some("tag"))`,
/// `host:5000/repo` has no tag). The one place this rule is written.
pub fn split_tag(name: &str) -> (&str, Option<&str>) {
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    }
}

/// How a ref.name matched a wanted REF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameMatch {
    /// The whole ref.name is the wanted REF.
    Exact,
    /// `host/repo:tag` matched by `tag` or `repo:tag`.
    FullName,
}

/// Does the entry's ref.name `have` match the wanted `want`?
pub fn match_ref_name(have: &str, want: &str) -> Option<NameMatch> {
    if have == want {
        return Some(NameMatch::Exact);
    }
    // Full name convention: `host/repo:tag`.
    let tag = split_tag(have).1?;
    if tag == want {
        return Some(NameMatch::FullName);
    }
    if have.len() > want.len()
        && have.ends_with(want)
        && have.as_bytes()[have.len() - want.len() - 1] == b'/'
        && want.contains(':')
    {
        return Some(NameMatch::FullName);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn one_parser_by_scheme() {
        let r = |s: &str| Reference::parse(s).unwrap();
        assert_eq!(
            r("out:1.0"),
            Reference::Layout(LayoutRef::parse("out:1.0").unwrap())
        );
        assert_eq!(r("oci:out").scheme(), Scheme::Layout);
        assert_eq!(
            r("oci-archive:rel.tar:1.0"),
            Reference::Archive {
                scheme: Scheme::OciArchive,
                path: "rel.tar".into(),
                name: Some("1.0".into())
            }
        );
        assert_eq!(r("docker-archive:d.tar").scheme(), Scheme::DockerArchive);
        let Reference::Registry(g) = r("docker://[::1]:5000/a:1") else {
            panic!()
        };
        assert_eq!(
            (g.host.as_str(), g.tag.as_deref()),
            ("[::1]:5000", Some("1"))
        );
        for bad in [
            "oci-archive:",
            "oci-archive::x",
            "docker-archive:f:bad name",
            "docker://h.io:0/a",
            "oci:",
        ] {
            assert_eq!(
                Reference::parse(bad).unwrap_err().kind,
                crate::Kind::Usage,
                "{bad}"
            );
        }
        // A layout command given another scheme says what it is, credentials unseen.
        let e = LayoutRef::parse("docker://u:pw@h.io/a:1").unwrap_err();
        assert!(e.message.contains("registry reference"), "{}", e.message);
        assert!(!e.message.contains("pw"), "{}", e.message);
        assert!(LayoutRef::parse("oci-archive:x.tar")
            .unwrap_err()
            .message
            .contains("archive"));
    }

    #[test]
    fn archive_outputs() {
        let out = |s: &str| archive_output(std::path::Path::new(s));
        assert_eq!(out("r.tar").unwrap(), PathBuf::from("r.tar"));
        assert_eq!(out("oci-archive:r.tar").unwrap(), PathBuf::from("r.tar"));
        for bad in [
            "oci-archive:",
            "docker-archive:r.tar",
            "oci:dir",
            "docker://h/r:1",
        ] {
            assert_eq!(out(bad).unwrap_err().kind, crate::Kind::Usage, "{bad}");
        }
    }

    #[test]
    fn split_tag_and_platform() {
        assert_eq!(split_tag("h:5000/r:t"), ("h:5000/r", Some("t")));
        assert_eq!(split_tag("h:5000/r"), ("h:5000/r", None));
        assert_eq!(split_tag("r:t"), ("r", Some("t")));
        assert_eq!(split_tag("a/b:c/d"), ("a/b:c/d", None));
        let (src, p) = split_platform("L:1.0=linux/arm64/v8").unwrap();
        assert_eq!(
            (src, p.unwrap().display()),
            ("L:1.0", "linux/arm64/v8".to_string())
        );
        assert_eq!(split_platform("L:a=b").unwrap(), ("L:a=b", None));
        let e = split_platform("docker://u:pw@h/r:1=linux/").unwrap_err();
        assert!(!e.message.contains("pw"), "{}", e.message);
    }

    #[test]
    fn existing_names_are_taken_exactly() {
        let name = |s: &str| {
            let r = LayoutRef::parse_existing_name(s).unwrap();
            (r.path.display().to_string(), r.target)
        };
        let n = |s: &str| Target::Name(s.into());
        assert_eq!(name("L:1.0"), ("L".into(), n("1.0")));
        assert_eq!(name("L:weird name"), ("L".into(), n("weird name")));
        assert_eq!(name("oci:L:L:2.0"), ("L".into(), n("L:2.0")));
        assert_eq!(name("L:x\x1b]0;t\x07"), ("L".into(), n("x\x1b]0;t\x07")));
        // Forms of the grammar keep their meaning.
        assert_eq!(
            name(&format!("L@{D}")).1,
            Target::Digest(Digest::parse(D).unwrap())
        );
        assert_eq!(
            name(&format!("L:a b@{D}")),
            ("L".into(), n(&format!("a b@{D}")))
        );
        assert!(LayoutRef::parse_existing_name("L:").is_err());
        assert!(LayoutRef::parse_existing_name(":x").is_err());
    }

    #[test]
    fn new_names_drop_the_source_layout_prefix() {
        let src = LayoutRef::parse("some/dir:1.0").unwrap();
        assert_eq!(new_ref_name(&src, "some/dir:2.0").unwrap(), "2.0");
        assert_eq!(new_ref_name(&src, "oci:some/dir:2.0").unwrap(), "2.0");
        assert_eq!(new_ref_name(&src, "2.0").unwrap(), "2.0");
        // Not a layout: a ref name with a colon, as the grammar allows.
        assert_eq!(new_ref_name(&src, "rc:3").unwrap(), "rc:3");
        assert_eq!(
            new_ref_name(&src, "some/dir:bad name").unwrap_err().kind,
            crate::Kind::Usage
        );
    }

    #[test]
    fn parses_the_three_forms() {
        let r = LayoutRef::parse("out").unwrap();
        assert_eq!(r.target, Target::Default);
        let r = LayoutRef::parse("oci:some/dir:v1.0").unwrap();
        assert_eq!(r.path, PathBuf::from("some/dir"));
        assert_eq!(r.target, Target::Name("v1.0".into()));
        let r = LayoutRef::parse(&format!("dir@{D}")).unwrap();
        assert_eq!(r.path, PathBuf::from("dir"));
        assert!(matches!(r.target, Target::Digest(_)));
        // skopeo style: the path ends at the first ':'
        let r = LayoutRef::parse("dir:host:5000/repo:tag").unwrap();
        assert_eq!(r.target, Target::Name("host:5000/repo:tag".into()));
    }

    #[test]
    fn refuses_bad_refs() {
        for bad in [
            "",
            "oci:",
            ":tag",
            "dir:",
            "dir:a b",
            "dir:-x",
            "dir@sha256:../x",
            "dir:a//b",
        ] {
            assert!(LayoutRef::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matches_both_ref_name_conventions() {
        assert_eq!(match_ref_name("latest", "latest"), Some(NameMatch::Exact));
        assert_eq!(
            match_ref_name("registry.example.com:5000/library/alpine:3.20", "3.20"),
            Some(NameMatch::FullName)
        );
        assert_eq!(
            match_ref_name("registry.example.com/library/alpine:3.20", "alpine:3.20"),
            Some(NameMatch::FullName)
        );
        assert_eq!(
            match_ref_name("registry.example.com:5000/alpine", "5000/alpine"),
            None
        );
        assert_eq!(match_ref_name("foo:latest", "oo:latest"), None);
        assert_eq!(match_ref_name("v1", "v2"), None);
    }
}
