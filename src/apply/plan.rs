//! The plan file: YAML, `version: 1`, documented in docs/plan.md with a JSON Schema in
//! docs/plan.schema.json.
//!
//! Parsing happens in two steps. [`PlanFile`] is the file as written (serde, every
//! mapping `deny_unknown_fields`, positions of image and destination entries kept).
//! [`load`] then resolves it into a [`Plan`]: defaults applied, `{name}` expanded in
//! sources, paths made relative to the plan file, names, tags, platforms, templates and
//! URLs checked. Every problem found is reported with `FILE:LINE:COLUMN` and the image
//! entry it belongs to; a plan with any problem is not applied at all.

pub use super::referrers_key::ReferrersSpec;
use super::resolver::Resolver;
use crate::authoring::merge::Policy;
use crate::copy::stores::Carry;
use crate::error::{Error, Result};
use crate::model::Platform;
use crate::platform::PlatformSpec;
use crate::reference::{split_tag, LayoutRef};
use crate::registry::reference::{names_a_host, validate_host, validate_repo, RegistryRef};
use serde::Deserialize;
use serde_saphyr::{MessageFormatter, Spanned};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Largest plan file read (a plan with thousands of images fits easily).
pub const MAX_PLAN_SIZE: u64 = 16 * 1024 * 1024;

/// The plan file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub version: Spanned<u64>,
    pub layout: String,
    #[serde(default)]
    pub defaults: Option<Spanned<ImageDefaults>>,
    #[serde(default)]
    pub destinations: Vec<Spanned<DestinationSpec>>,
    pub images: Vec<Spanned<ImageSpec>>,
}

/// One entry of `images:` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    pub name: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub sources: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub arch_tags: Option<String>,
    #[serde(default)]
    pub src_ref: Option<String>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub force: Option<bool>,
    #[serde(default)]
    pub layers: Option<Layers>,
    #[serde(default)]
    pub referrers: Option<ReferrersSpec>,
}

/// `defaults:`: any image key but `name`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDefaults {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub sources: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub arch_tags: Option<String>,
    #[serde(default)]
    pub src_ref: Option<String>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub force: Option<bool>,
    #[serde(default)]
    pub layers: Option<Layers>,
    #[serde(default)]
    pub referrers: Option<ReferrersSpec>,
}

/// One entry of `destinations:` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    pub url: String,
    #[serde(default)]
    pub plain_http: Option<bool>,
    #[serde(default)]
    pub ca_cert: Option<String>,
    #[serde(default)]
    pub authfile: Option<String>,
    /// Seconds without progress before a request gives up.
    #[serde(default)]
    pub timeout: Option<f64>,
}

/// Where in the plan file something is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    pub(super) fn of<T>(s: &Spanned<T>) -> Position {
        Position {
            line: s.referenced.line(),
            column: s.referenced.column(),
        }
    }
}

/// One problem in a plan file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The image entry's `name` (or `images[N]` when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The section of the file when not an image (`defaults`, `destinations[0]`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(i) = &self.image {
            write!(f, "image {i}: ")?;
        } else if let Some(s) = &self.section {
            write!(f, "{s}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Many problems as one error (exit 1): one line each, the first hint as the hint.
pub fn problems_error(problems: &[Problem]) -> Error {
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let mut e = Error::failure(if lines.len() == 1 {
        lines[0].clone()
    } else {
        format!(
            "{} problems in the plan:\n  {}",
            lines.len(),
            lines.join("\n  ")
        )
    });
    let hint = problems
        .iter()
        .find_map(|p| p.hint.clone())
        .unwrap_or_else(|| "see docs/plan.md for every key of the plan file".into());
    e.hint = Some(hint);
    e
}

/// A source of an image, resolved against the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    /// A ref or digest in a layout: the working layout (bare `REF`, `@DIGEST`) or
    /// another one (`oci:PATH:REF`, `./PATH:REF`, `/PATH@DIGEST`).
    Layout {
        text: String,
        reference: LayoutRef,
        /// `=os/arch[/variant]`, as it will be recorded.
        platform: Option<Box<Platform>>,
    },
    /// `docker://HOST/REPO:TAG` or `@DIGEST`, pulled into the working layout.
    Registry {
        text: String,
        url: String,
        host: String,
        /// `=os/arch[/variant]`, as it will be recorded.
        platform: Option<Box<Platform>>,
    },
}

impl SourceRef {
    pub fn text(&self) -> &str {
        match self {
            SourceRef::Layout { text, .. } | SourceRef::Registry { text, .. } => text,
        }
    }
    pub fn platform(&self) -> Option<&Platform> {
        match self {
            SourceRef::Layout { platform, .. } | SourceRef::Registry { platform, .. } => {
                platform.as_deref()
            }
        }
    }
}

/// What an image is built from.
#[derive(Debug, Clone)]
pub enum Sources {
    /// `source:` — promoted as it is (annotated when the plan asks).
    One(SourceRef),
    /// `sources:` — assembled into an index under the image's policy.
    Assemble(Vec<SourceRef>),
}

/// Connection settings of a registry (from the destination with that host).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Connection {
    pub plain_http: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authfile: Option<PathBuf>,
    /// The destination's `timeout` (connect and idle), when it sets one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "seconds",
        rename = "timeout"
    )]
    pub timeout: Option<std::time::Duration>,
}

fn seconds<S: serde::Serializer>(
    d: &Option<std::time::Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Where images are published besides the working layout.
#[derive(Debug, Clone)]
pub enum Destination {
    /// `docker://HOST[:PORT][/PREFIX]`: repository `PREFIX/NAME`.
    Registry {
        url: String,
        host: String,
        prefix: String,
        connection: Connection,
        position: Position,
    },
    /// `oci:PATH`: another layout, where the image is tagged `NAME:TAG`.
    Layout {
        url: String,
        path: PathBuf,
        position: Position,
    },
}

impl Destination {
    pub fn url(&self) -> &str {
        match self {
            Destination::Registry { url, .. } | Destination::Layout { url, .. } => url,
        }
    }
    /// The repository an image named `name` goes to (`PREFIX/NAME`, or `NAME`).
    pub fn repository(&self, name: &str) -> String {
        match self {
            Destination::Registry { prefix, .. } if !prefix.is_empty() => {
                format!("{prefix}/{name}")
            }
            _ => name.to_string(),
        }
    }
    /// `docker://HOST/PREFIX/NAME:TAG`, or `oci:PATH:NAME:TAG`.
    pub fn target(&self, name: &str, tag: &str) -> String {
        match self {
            Destination::Registry { host, .. } => {
                format!("docker://{host}/{}:{tag}", self.repository(name))
            }
            Destination::Layout { url, .. } => format!("{url}:{name}:{tag}"),
        }
    }
}

/// One image of a resolved plan.
#[derive(Debug, Clone)]
pub struct Image {
    /// Position in `images:` (0-based).
    pub index: usize,
    pub position: Position,
    pub name: String,
    pub sources: Sources,
    pub tags: Vec<String>,
    /// The expected platform set (empty: none given).
    pub platforms: Vec<PlatformSpec>,
    pub policy: Policy,
    pub arch_tags: Option<String>,
    pub src_ref: Option<String>,
    /// Everything set on the released document: defaults, the image's own, and the
    /// `src_ref` annotations.
    pub annotations: BTreeMap<String, String>,
    pub force: bool,
    /// Where the layers of `docker://` sources go (see [`Layers`]).
    pub layers: Layers,
    /// Which referrers travel with this image (`referrers:`; all by default);
    /// `oix apply --no-referrers`/`--referrers-type` override it for the run.
    pub referrers: Carry,
}

/// `layers:` — whether the layers of a `docker://` source are fetched into the working
/// layout. Sources in layouts are not affected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layers {
    /// Only the documents (index, manifests, configs) come to the working layout: enough
    /// to compute and record the release; destinations get the layers from the source
    /// registry (mounted on the same registry, streamed through otherwise).
    #[default]
    Remote,
    /// The whole graph is pulled into the working layout (a self-contained layout).
    Local,
}

impl Image {
    /// The layout ref of a release tag: `NAME:TAG`.
    pub fn ref_name(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name)
    }
}

/// A loaded, checked plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path: PathBuf,
    /// The directory relative paths in the plan are resolved against.
    pub dir: PathBuf,
    pub layout: PathBuf,
    pub destinations: Vec<Destination>,
    pub images: Vec<Image>,
}

impl Plan {
    /// The connection settings for a registry host: those of the first destination on
    /// that host, else the defaults (HTTPS with the system roots, default credentials).
    pub fn connection_for(&self, host: &str) -> Connection {
        self.destinations
            .iter()
            .find_map(|d| match d {
                Destination::Registry {
                    host: h,
                    connection,
                    ..
                } if h == host => Some(connection.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// Read and resolve a plan file.
pub fn load(path: &Path) -> Result<Plan> {
    let text = read_plan(path)?;
    parse(path, &text).map_err(|problems| problems_error(&problems))
}

fn read_plan(path: &Path) -> Result<String> {
    let bytes = crate::layout::read_limited(path, MAX_PLAN_SIZE)
        .map_err(|e| e.with_hint("give the path of a plan file (YAML, see docs/plan.md)"))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::failure(format!("{}: the plan is not UTF-8 text", path.display())))
}

/// Parse plan text; `path` names the file in messages and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> std::result::Result<Plan, Vec<Problem>> {
    let file = path.display().to_string();
    let raw: PlanFile = match serde_saphyr::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![syntax_problem(&file, text, &e)]),
    };
    let dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Resolver::new(file, dir).resolve(path, raw)
}

/// A YAML or schema error, placed in its image entry or section.
fn syntax_problem(file: &str, text: &str, e: &serde_saphyr::Error) -> Problem {
    let message: String = serde_saphyr::DefaultMessageFormatter
        .format_message(e)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let (image, section) = locate(text, line, column);
    Problem {
        file: file.to_string(),
        line,
        column,
        image,
        section,
        message,
        hint: Some("see docs/plan.md for every key of the plan file".into()),
    }
}

/// Which image entry (by name) or top-level section a position falls in. Image entries
/// come from a lenient second parse; sections from the top-level keys of block YAML.
fn locate(text: &str, line: u64, column: u64) -> (Option<String>, Option<String>) {
    if line == 0 {
        return (None, None);
    }
    // Top-level keys: lines that start with a key at column 1.
    let mut section: Option<(u64, String)> = None;
    for (i, l) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if n > line {
            break;
        }
        let first = l.chars().next();
        if matches!(first, Some(c) if !c.is_whitespace() && c != '#' && c != '-') {
            if let Some((k, _)) = l.split_once(':') {
                section = Some((n, k.trim().trim_matches(['"', '\'']).to_string()));
            }
        }
    }
    let Some((_, name)) = section else {
        return (None, None);
    };
    if name != "images" {
        return (None, Some(name));
    }
    #[derive(Deserialize)]
    struct Loose {
        #[serde(default)]
        images: Vec<Spanned<LooseImage>>,
    }
    #[derive(Deserialize)]
    struct LooseImage {
        #[serde(default, deserialize_with = "lenient_string")]
        name: Option<String>,
    }
    let Ok(loose) = serde_saphyr::from_str::<Loose>(text) else {
        return (None, Some("images".into()));
    };
    let at = (line, column);
    let found = loose
        .images
        .iter()
        .enumerate()
        .rfind(|(_, s)| (s.referenced.line(), s.referenced.column()) <= at);
    match found {
        Some((i, s)) => (
            Some(
                s.value
                    .name
                    .as_ref()
                    .map(|n| format!("{n:?} (images[{i}])"))
                    .unwrap_or_else(|| format!("images[{i}]")),
            ),
            None,
        ),
        None => (None, Some("images".into())),
    }
}

/// A string scalar, or `None` for anything else (never an error).
fn lenient_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("anything")
        }
        fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut a: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            while a
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// The policy as written in plans and on the command line.
pub fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::Union => "union",
        Policy::Replace => "replace",
        Policy::KeepMissing => "keep-missing",
        Policy::RequireAll => "require-all",
    }
}

/// `docker://HOST[:PORT][/PREFIX]` → (host, prefix). No tag or digest.
pub fn parse_registry_prefix(url: &str) -> Result<(String, String)> {
    crate::registry::reference::refuse_userinfo(url)?;
    let bad = |why: &str| {
        Error::failure(format!("destination {url:?}: {why}")).with_hint(
            "write docker://HOST[:PORT][/PREFIX] (the image name is appended) or oci:PATH",
        )
    };
    let rest = url
        .strip_prefix("docker://")
        .ok_or_else(|| bad("it must start with docker:// or oci:"))?;
    let rest = rest.trim_end_matches('/');
    let (host, prefix) = match rest.split_once('/') {
        Some((h, p)) => (h, p),
        None => (rest, ""),
    };
    validate_host(host).map_err(|e| bad(&e.message))?;
    if rest.contains('@') {
        return Err(bad("a destination names no digest"));
    }
    if !prefix.is_empty() {
        let last = prefix.rsplit('/').next().unwrap_or(prefix);
        if last.contains(':') {
            return Err(bad("a destination names no tag; tags come from each image"));
        }
        validate_repo(prefix).map_err(|e| bad(&e.message))?;
    }
    Ok((host.to_string(), prefix.to_string()))
}

/// `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]` → (host, repository): the reference
/// [`RegistryRef::parse`] takes, with the host written explicitly (containing `.` or
/// `:`, or `localhost`) and a tag or digest named.
pub fn parse_registry_ref(url: &str) -> Result<(String, String)> {
    let r = RegistryRef::parse(url)?;
    let bad = |why: String| {
        Error::failure(format!("invalid registry reference {url:?}: {why}"))
            .with_hint("write docker://HOST[:PORT]/REPO:TAG or docker://HOST/REPO@sha256:<hex>")
    };
    if r.tag.is_none() && r.digest.is_none() {
        return Err(bad("name the tag or digest to pull".into()));
    }
    let written = url.strip_prefix("docker://").unwrap_or(url);
    let name = split_tag(written.rsplit_once('@').map_or(written, |(n, _)| n)).0;
    match name.split_once('/') {
        None => Err(bad("no repository after the host".into())),
        Some((host, _)) if !names_a_host(host) => Err(bad(format!(
            "{host:?} is not a registry host; write the host explicitly (docker.io/{name})"
        ))),
        Some(_) => Ok((r.host, r.repo)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> std::result::Result<Plan, Vec<Problem>> {
        parse(Path::new("/plans/p.yaml"), text)
    }

    #[test]
    fn defaults_and_templates() {
        let p = parse_str(
            "version: 1\nlayout: ./out\ndefaults:\n  sources: ['{name}:b-amd64', '{name}:b-arm64=linux/arm64/v8']\n  tags: ['40', latest]\n  annotations: {a: '1'}\nimages:\n  - name: fedora\n    annotations: {b: '2'}\n  - name: toolbox\n    source: toolbox:x\n    policy: replace\n",
        )
        .unwrap();
        assert_eq!(p.layout, Path::new("/plans/./out"));
        let f = &p.images[0];
        assert_eq!(f.tags, vec!["40", "latest"]);
        assert_eq!(f.policy, Policy::RequireAll);
        assert_eq!(f.annotations.len(), 2);
        let Sources::Assemble(s) = &f.sources else {
            panic!()
        };
        assert_eq!(s[0].text(), "fedora:b-amd64");
        // Recorded as written, as `oix index create SRC=linux/arm64/v8` records it.
        assert_eq!(s[1].platform().unwrap().display(), "linux/arm64/v8");
        assert!(matches!(p.images[1].sources, Sources::One(_)));
    }

    #[test]
    fn unknown_keys_name_the_image_and_position() {
        let e = parse_str("version: 1\nlayout: x\nimages:\n  - name: a\n    tags: [t]\n    source: a:b\n  - name: b\n    tagz: [t]\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].line, e[0].column), (8, 5));
        assert_eq!(e[0].image.as_deref(), Some("\"b\" (images[1])"));
        assert!(e[0].message.contains("tagz"), "{}", e[0].message);
        let e =
            parse_str("version: 1\nlayout: x\ndefaults:\n  bogus: 1\nimages: []\n").unwrap_err();
        assert_eq!(e[0].section.as_deref(), Some("defaults"));
        assert_eq!((e[0].line, e[0].column), (4, 3));
    }

    #[test]
    fn semantic_problems_are_all_reported() {
        let e = parse_str(
            "version: 2\nlayout: x\nimages:\n  - name: Bad\n    source: a:b\n    tags: ['-x', ok]\n    platforms: [local]\n  - name: ok\n    sources: [a]\n    source: b\n    tags: [t]\n    arch_tags: '{tag}'\n  - name: u\n    source: u:1\n    policy: union\n    tags: [t]\n",
        )
        .unwrap_err();
        let text: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        let all = text.join("\n");
        assert!(all.contains("p.yaml:1:10: version: version 2"), "{all}");
        assert!(
            all.contains(":4:5: image \"Bad\" (images[0]): invalid repository"),
            "{all}"
        );
        assert!(all.contains("invalid tag \"-x\""), "{all}");
        assert!(all.contains("both source and sources"), "{all}");
        assert!(all.contains("{arch} is missing"), "{all}");
        assert!(all.contains("policy union assembles"), "{all}");
        assert!(all.contains("platform `local`"), "{all}");
    }

    #[test]
    fn sources_and_destinations() {
        let p = parse_str(
            "version: 1\nlayout: out\ndestinations:\n  - url: docker://localhost:5000/stx\n    plain_http: true\n  - url: oci:../release\nimages:\n  - name: a\n    source: docker://localhost:5000/b/c:1\n    tags: [t]\n  - name: b\n    source: oci:../x:v1\n    tags: [t]\n  - name: c\n    source: '@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n    tags: [t]\n",
        )
        .unwrap();
        assert_eq!(p.destinations.len(), 2);
        assert_eq!(
            p.destinations[0].target("a", "t"),
            "docker://localhost:5000/stx/a:t"
        );
        assert!(p.connection_for("localhost:5000").plain_http);
        assert!(!p.connection_for("elsewhere.io").plain_http);
        let Sources::One(SourceRef::Layout { reference, .. }) = &p.images[1].sources else {
            panic!()
        };
        assert_eq!(reference.path, Path::new("/plans/../x"));
        for bad in [
            "docker://registry.example.com/stx:tag",
            "docker://registry.example.com/Stx",
            "docker://bad_host/x",
            "https://x/y",
        ] {
            assert!(parse_registry_prefix(bad).is_err(), "{bad}");
        }
        for bad in ["docker://alpine:3", "docker://h.io/r", "docker://h.io/R:1"] {
            assert!(parse_registry_ref(bad).is_err(), "{bad}");
        }
    }
}
