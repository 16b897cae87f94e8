//! The fuzz targets of oix, as plain functions over bytes.
//!
//! Each function is one target: it must never panic on any input (a panic is a
//! finding), and where oix promises a property (a parsed model serializes and parses back
//! equal, a digest prints as it was written, a platform's display parses back to the same
//! platform) it asserts it. The files in `fuzz_targets/` hand them to libFuzzer under
//! `cargo fuzz`; `tests/fuzz_smoke.rs` (in the oix package, which includes this file with
//! `#[path]`) feeds them the seed corpus plus deterministic mutations on stable Rust.
//!
//! Keep this file free of dependencies beyond what oix itself depends on.

#![allow(dead_code)] // the smoke test and each fuzz binary use different subsets

use oix::model::{self, media, Descriptor, Document, ImageConfig, Index, Manifest, Platform};
use oix::platform::{Fallbacks, MatchMode, PlatformSpec};
use oix::reference::{self, LayoutRef, Target};
use oix::select::Condition;
use oix::{Digest, Layout};
use std::path::{Component, Path, PathBuf};

/// A fuzz target: bytes in, panics on a finding.
pub type TargetFn = fn(&[u8]);

/// Every target by name, for the smoke test and the long-running campaign.
pub const TARGETS: &[(&str, TargetFn)] = &[
    ("json_model", json_model),
    ("reference", reference),
    ("digest", digest),
    ("platform", platform),
    ("where_expr", where_expr),
    ("layout_index", layout_index),
    ("plan", plan),
    ("archive_import", archive_import),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

// ---------------------------------------------------------------------------------------
// JSON documents and the lenient model

/// parse → serialize → parse gives the same value, and serializing is idempotent.
fn round_trip<T>(data: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let Ok(v) = model::parse_json::<T>(data, "fuzz input") else {
        return;
    };
    let bytes = serde_json::to_vec(&v).expect("a parsed model serializes");
    let again: T = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{}: serialized form does not parse back: {e}\n{}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(
        v,
        again,
        "{} round trip changed the value",
        std::any::type_name::<T>()
    );
    let twice = serde_json::to_vec(&again).expect("serializes");
    assert_eq!(bytes, twice, "serialization is not deterministic");
}

/// index/manifest/config/descriptor/platform JSON: parse, round trip, classify.
pub fn json_model(data: &[u8]) {
    round_trip::<Index>(data);
    round_trip::<Manifest>(data);
    round_trip::<ImageConfig>(data);
    round_trip::<Descriptor>(data);
    round_trip::<Platform>(data);
    if let Ok(idx) = model::parse_json::<Index>(data, "fuzz input") {
        // What oix writes for index.json is what it reads back.
        let bytes = idx.to_bytes();
        let back: Index = model::parse_json(&bytes, "re-read").expect("to_bytes parses");
        assert_eq!(back, idx);
    }
    if let Ok(cfg) = model::parse_json::<ImageConfig>(data, "fuzz input") {
        if let Some(p) = cfg.platform() {
            let _ = PlatformSpec::from_platform(&p).to_string();
        }
    }
    for mt in [
        media::OCI_INDEX,
        media::OCI_MANIFEST,
        media::DOCKER_LIST,
        media::DOCKER_MANIFEST,
        media::OCI_CONFIG,
    ] {
        let Ok(Some(doc)) = Document::parse(mt, data, "fuzz input") else {
            continue;
        };
        for child in doc.children() {
            descriptor_accessors(child);
        }
        if let Document::Index(i) = &doc {
            let _ = oix::resolve::ref_names(i);
        }
    }
}

fn descriptor_accessors(d: &Descriptor) {
    if let Ok(digest) = d.digest() {
        assert_eq!(digest.to_string(), d.digest);
    }
    if let Ok(size) = d.size() {
        assert_eq!(size as i64, d.size);
    }
    let _ = (
        d.ref_name(),
        d.is_index(),
        d.is_manifest(),
        d.is_attestation(),
    );
    let _ = d.attestation_subject();
    if let Some(p) = &d.platform {
        let spec = PlatformSpec::from_platform(p);
        let _ = p.display();
        let _ = spec.matches(&spec, MatchMode::Compatible, Fallbacks::default());
    }
}

// ---------------------------------------------------------------------------------------
// References, digests, platforms, --where expressions

/// `LayoutRef::parse` and the other argument grammars (sources, annotations, --created).
pub fn reference(data: &[u8]) {
    let s = text(data);
    if let Ok(r) = LayoutRef::parse(&s) {
        assert!(!r.path.as_os_str().is_empty(), "{s:?}: empty path accepted");
        match &r.target {
            Target::Name(n) => {
                reference::validate_ref_name(n).expect("a parsed ref name is valid");
                assert_eq!(r.require_name().ok(), Some(n.as_str()));
            }
            Target::Digest(d) => {
                assert_eq!(Digest::parse(&d.to_string()).as_ref().ok(), Some(d));
            }
            Target::Default => assert!(r.require_name().is_err()),
        }
        // What oix prints as a reference reads back as the same reference.
        let shown = format!("oci:{r}");
        let back = LayoutRef::parse(&shown)
            .unwrap_or_else(|e| panic!("{s:?} prints as {shown:?}, which fails: {e}"));
        assert_eq!(
            back, r,
            "{s:?} prints as {shown:?}, which reads differently"
        );
    }
    if reference::validate_ref_name(&s).is_ok() {
        assert!(!s.is_empty() && s.len() <= 512);
        assert!(!s.contains(char::is_whitespace));
    }
    // match_ref_name on both halves of the input, either way round.
    let mid = s
        .char_indices()
        .nth(s.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let (a, b) = s.split_at(mid);
    let _ = reference::match_ref_name(a, b);
    let _ = reference::match_ref_name(b, a);
    assert!(reference::match_ref_name(&s, &s).is_some());
    if let Ok(spec) = oix::authoring::SourceSpec::parse(&s) {
        let _ = spec.reference.to_string();
    }
    let _ = oix::authoring::parse_annotations(std::slice::from_ref(&s));
    let _ = oix::authoring::created_annotation(Some(&s));
    // docker://HOST[:PORT]/REPO[:TAG|@DIGEST]: what it prints parses back the same.
    for text in [s.clone(), format!("docker://{s}")] {
        if let Ok(r) = oix::registry::reference::RegistryRef::parse(&text) {
            let shown = r.to_string();
            let back = oix::registry::reference::RegistryRef::parse(&shown)
                .unwrap_or_else(|e| panic!("{text:?} prints as {shown:?}, which fails: {e}"));
            assert_eq!(
                back, r,
                "{text:?} prints as {shown:?}, which reads differently"
            );
            let _ = (r.repository(), r.api_host());
            if let Some(t) = &r.tag {
                oix::registry::reference::validate_tag(t).expect("a parsed tag is valid");
            }
        }
    }
    let _ = oix::registry::reference::validate_tag(&s);
    let _ = oix::registry::reference::validate_repo(&s);
}

/// `Digest::parse`: strict, prints back as written, and only ever names a path inside
/// blobs/.
pub fn digest(data: &[u8]) {
    let s = text(data);
    let Ok(d) = Digest::parse(&s) else {
        return;
    };
    assert_eq!(d.to_string(), s, "a digest prints as it was written");
    assert_eq!(Digest::parse(&d.to_string()).ok().as_ref(), Some(&d));
    assert!(d.short().len() <= s.len());
    let root = Path::new("/layout");
    let layout_path = root.join("blobs");
    let p = layout_path.join(d.algorithm().as_str()).join(d.encoded());
    let rel = p.strip_prefix(&layout_path).expect("under blobs/");
    let comps: Vec<Component> = rel.components().collect();
    assert_eq!(comps.len(), 2, "{s:?} names {}", p.display());
    assert!(
        comps.iter().all(|c| matches!(c, Component::Normal(_))),
        "{s:?} names {}",
        p.display()
    );
    if let Some(mut h) = d.hasher() {
        h.update(data);
        let got = h.finish();
        assert_eq!(got.algorithm(), d.algorithm());
        assert_eq!(got.encoded().len(), d.encoded().len());
    }
}

/// `PlatformSpec::parse`: what it displays parses back to the same spec, and a platform
/// matches itself.
pub fn platform(data: &[u8]) {
    let s = text(data);
    let Ok(p) = PlatformSpec::parse(&s) else {
        return;
    };
    let shown = p.to_string();
    let back = PlatformSpec::parse(&shown)
        .unwrap_or_else(|e| panic!("{s:?} displays as {shown:?}, which fails: {e}"));
    assert_eq!(
        back, p,
        "{s:?} displays as {shown:?}, which parses differently"
    );
    assert!(
        p.matches(&p, MatchMode::Exact, Fallbacks::default())
            .is_ok(),
        "{s:?} does not match itself exactly"
    );
    assert!(
        p.matches(&p, MatchMode::Compatible, Fallbacks::default())
            .is_ok(),
        "{s:?} does not run on itself"
    );
    let plat = p.to_platform();
    assert_eq!(PlatformSpec::from_platform(&plat), p);
    // Against a few well-known platforms, in both modes, with every fallback.
    for other in [
        "linux/amd64",
        "linux/arm/v7",
        "linux/arm64/v8",
        "windows/amd64:10.0.20348",
    ] {
        let o = PlatformSpec::parse(other).expect("known platform");
        for mode in [MatchMode::Exact, MatchMode::Compatible] {
            let fb = Fallbacks {
                i386: true,
                arm: true,
            };
            let _ = p.matches(&o, mode, fb);
            let _ = o.matches(&p, mode, fb);
        }
    }
}

/// `select::Condition::parse` (`--where`): prints back as written, parses back equal, and
/// evaluates any value.
pub fn where_expr(data: &[u8]) {
    let s = text(data);
    let Ok(c) = Condition::parse(&s) else {
        return;
    };
    let shown = c.to_string();
    let back = Condition::parse(&shown)
        .unwrap_or_else(|e| panic!("{s:?} prints as {shown:?}, which fails: {e}"));
    assert_eq!(back, c);
    assert_eq!(back.is_negative(), c.is_negative());
    let (neg, _) = c.eval(&[None]);
    let _ = neg;
    let _ = c.eval(&[Some(&s), None, Some("")]);
    let _ = oix::select::Selector::new().where_expr(&s);
}

// ---------------------------------------------------------------------------------------
// A whole layout whose index.json is the input

/// Where the checked-in fixtures are, from the fuzz crate or from the oix package.
pub fn fixtures_dir() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for c in [here.join("fixtures"), here.join("../fixtures")] {
        if c.join("multiarch").is_dir() {
            return c;
        }
    }
    panic!("fixtures/ not found from {}", here.display())
}

/// Copy a directory tree (files and directories only; the fixtures used have no links).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read fixture") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

struct Scratch {
    _dir: tempfile::TempDir,
    layout: PathBuf,
}

thread_local! {
    static SCRATCH: Scratch = {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = dir.path().join("layout");
        // multiarch and nested share no blobs; together they give indexes, manifests,
        // configs and layers to point at.
        copy_dir(&fixtures_dir().join("multiarch"), &layout);
        copy_dir(&fixtures_dir().join("nested").join("blobs"), &layout.join("blobs"));
        Scratch { _dir: dir, layout }
    };
}

/// The input becomes index.json of a layout holding the multiarch and nested fixtures'
/// blobs; every read path and the tag/untag writers run on it. Nothing may panic, and a
/// successful write leaves an index.json that parses with the change in it.
pub fn layout_index(data: &[u8]) {
    SCRATCH.with(|s| run_layout_index(&s.layout, data))
}

fn run_layout_index(root: &Path, data: &[u8]) {
    std::fs::write(root.join("index.json"), data).expect("write index.json");
    let Ok(layout) = Layout::open(root) else {
        return;
    };
    let layout = layout.with_lock_timeout(std::time::Duration::from_secs(5));
    let Ok((index, _)) = layout.read_index() else {
        // every reader must refuse the same way
        assert!(oix::inspect::list(&layout).is_err());
        return;
    };
    let walk = oix::graph::walk(&layout, &index.manifests);
    let _ = walk.first_error("fuzz");
    let _ = oix::inspect::list(&layout);
    let _ = oix::inspect::tree(&layout, &index.manifests);
    let opts = oix::fsck::Options {
        quick: true,
        jobs: 1,
    };
    let report = oix::fsck::fsck(&layout, &opts).expect("fsck reports, it does not fail");
    if walk.complete() && report.clean {
        // A clean layout resolves every name it lists.
        for name in oix::resolve::ref_names(&index) {
            if reference::validate_ref_name(&name).is_ok() {
                let r = LayoutRef {
                    path: root.to_path_buf(),
                    target: Target::Name(name.clone()),
                };
                let found = oix::resolve::candidates(&layout, &index, &r.target)
                    .expect("candidates of a clean layout");
                assert!(!found.is_empty(), "ref {name} listed but not resolved");
            }
        }
    }
    let targets = [
        Target::Default,
        Target::Name("latest".into()),
        Target::Digest(
            Digest::parse(
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )
            .expect("digest"),
        ),
    ];
    for t in &targets {
        let r = LayoutRef {
            path: root.to_path_buf(),
            target: t.clone(),
        };
        let _ = oix::resolve::resolve_one(&layout, &r);
        let linux = PlatformSpec::parse("linux/arm64").expect("platform");
        let sel = oix::select::Selector::new().platform(linux);
        let _ = sel.find(&layout, &r);
        let _ = sel.select(&layout, &r);
        let _ = oix::select::Selector::new().select(&layout, &r);
        let _ = oix::select::members(&layout, &r);
    }
    let _ = oix::gc::gc(&layout, true);
    // Writers: a tag of the first entry, then its untag.
    if let Some(first) = index.manifests.first() {
        if let Ok(changes) = oix::tags::tag(&layout, first, &["fuzz-tag".to_string()]) {
            assert_eq!(changes.len(), 1);
            let (after, _) = layout.read_index().expect("index.json after a tag parses");
            assert!(
                after
                    .manifests
                    .iter()
                    .any(|d| d.ref_name() == Some("fuzz-tag")),
                "tag reported success but is not in index.json"
            );
            oix::tags::untag(&layout, &["fuzz-tag".to_string()], false)
                .expect("untag of a tag just written");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Release plans (`oix apply`)

/// A plan file (YAML): parsing and resolving never panic, and what resolves is
/// self-consistent (every image has a name, every tag a valid ref name).
pub fn plan(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-fuzz-dir/plan.yaml");
    match oix::apply::plan::parse(path, text) {
        Ok(plan) => {
            let dbg = format!("{plan:?}");
            assert!(!dbg.is_empty());
        }
        Err(problems) => {
            assert!(
                !problems.is_empty(),
                "a refused plan names at least one problem"
            );
            let e = oix::apply::plan::problems_error(&problems);
            assert!(!e.message.is_empty());
        }
    }
    let _ = oix::apply::names::validate_host(text);
    let _ = oix::apply::names::validate_arch_tag_template(text);
    let _ = oix::apply::plan::parse_registry_prefix(text);
    let _ = oix::apply::plan::parse_registry_ref(text);
}

// ---------------------------------------------------------------------------------------
// Archives: `oix import` and `oix build` from a tarball (structured)

/// One member of an archive under construction.
#[derive(Clone)]
struct Member {
    name: Vec<u8>,
    kind: tar::EntryType,
    data: Vec<u8>,
    link: Vec<u8>,
    /// Declared size when it differs from the data (the stream then lies).
    size: Option<u64>,
}

/// The image of fixtures/single as a docker-archive (`docker save` layout): manifest.json,
/// the config, and the layer as an uncompressed tar.
fn docker_members() -> Vec<Member> {
    use std::io::Read;
    let root = fixtures_dir().join("single").join("blobs/sha256");
    let config = std::fs::read(
        root.join("932b18fb23b197c8a8d8cb6f9431e4728459b130b3df3fc76e0f6b2a0567ef22"),
    )
    .expect("fixture config");
    let gz = std::fs::read(
        root.join("3a6192a9b6f09f8a3bf23003d6f0764bffdef678c5d54e3ea6cb7cb0bfeb09f5"),
    )
    .expect("fixture layer");
    let mut layer = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut layer)
        .expect("fixture layer is gzip");
    let file = |name: &str, data: Vec<u8>| Member {
        name: name.as_bytes().to_vec(),
        kind: tar::EntryType::Regular,
        data,
        link: Vec::new(),
        size: None,
    };
    vec![
        file(
            "manifest.json",
            br#"[{"Config":"config.json","RepoTags":["fuzz:latest"],"Layers":["layer/layer.tar"]}]"#
                .to_vec(),
        ),
        file("config.json", config),
        Member {
            name: b"layer".to_vec(),
            kind: tar::EntryType::Directory,
            data: Vec::new(),
            link: Vec::new(),
            size: None,
        },
        file("layer/layer.tar", layer),
    ]
}

fn fixture_members() -> Vec<Member> {
    let root = fixtures_dir().join("single");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for f in ["oci-layout", "index.json"] {
        files.push(root.join(f));
    }
    let mut blobs: Vec<PathBuf> = std::fs::read_dir(root.join("blobs/sha256"))
        .expect("fixture blobs")
        .map(|e| e.expect("entry").path())
        .collect();
    blobs.sort();
    files.extend(blobs);
    for dir in ["blobs", "blobs/sha256"] {
        out.push(Member {
            name: dir.as_bytes().to_vec(),
            kind: tar::EntryType::Directory,
            data: Vec::new(),
            link: Vec::new(),
            size: None,
        });
    }
    for f in files {
        let rel = f.strip_prefix(&root).expect("under root");
        out.push(Member {
            name: rel.to_string_lossy().as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            data: std::fs::read(&f).expect("fixture file"),
            link: Vec::new(),
            size: None,
        });
    }
    out
}

const HOSTILE_NAMES: &[&[u8]] = &[
    b"../escape",
    b"/oix-fuzz-absolute-escape",
    b"blobs/sha256/../../../escape",
    b"index.json",
    b"oci-layout",
    b"manifest.json",
    b"",
    b".",
    b"./blobs/sha256/",
    b"blobs/sha256/E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    b"blobs/sha512/00",
    b"blobs/md5/d41d8cd98f00b204e9800998ecf8427e",
    b"blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    b"layer.tar",
    b"a\0b",
    b"\xff\xfe",
];

const HOSTILE_LINKS: &[&[u8]] = &[
    b"../../escape",
    b"/etc/passwd",
    b"index.json",
    b"blobs",
    b"..",
    b".",
    b"",
    b"blobs/sha256/73f914d729b5b8eef475e27c8a51554d06d22c841a0f00143c9d9e69046211ad",
];

const KINDS: &[tar::EntryType] = &[
    tar::EntryType::Regular,
    tar::EntryType::Directory,
    tar::EntryType::Symlink,
    tar::EntryType::Link,
    tar::EntryType::Fifo,
    tar::EntryType::Char,
    tar::EntryType::Block,
    tar::EntryType::Continuous,
    tar::EntryType::GNULongName,
    tar::EntryType::XHeader,
    tar::EntryType::XGlobalHeader,
];

/// Reads bytes of the fuzz input as decisions.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn below(&mut self, n: usize) -> usize {
        let b = self.byte().unwrap_or(0) as usize | ((self.byte().unwrap_or(0) as usize) << 8);
        b % n.max(1)
    }
    fn rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0).to_vec()
    }
}

/// Apply the mutations the input asks for to a valid archive's members.
fn mutate_members(members: &mut Vec<Member>, input: &mut Input) {
    let mut steps = 0;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 16 || members.is_empty() {
            break;
        }
        let i = input.below(members.len());
        match op % 12 {
            0 => {
                let m = &mut members[i];
                if !m.data.is_empty() {
                    let p = input.below(m.data.len());
                    m.data[p] ^= input.byte().unwrap_or(1) | 1;
                }
            }
            1 => members[i].name = HOSTILE_NAMES[input.below(HOSTILE_NAMES.len())].to_vec(),
            2 => {
                members[i].kind = KINDS[input.below(KINDS.len())];
                members[i].link = HOSTILE_LINKS[input.below(HOSTILE_LINKS.len())].to_vec();
            }
            3 => {
                let m = members[i].clone();
                let at = input.below(members.len() + 1);
                members.insert(at, m);
            }
            4 => {
                members.remove(i);
            }
            5 => {
                let n = input.below(members[i].data.len() + 1);
                members[i].data.truncate(n);
            }
            6 => members[i].size = Some(input.below(1 << 16) as u64),
            7 => {
                let m = members.remove(i);
                members.insert(0, m);
            }
            8 => {
                let b = input.byte().unwrap_or(0);
                let n = input.below(4096);
                members[i].data.extend(std::iter::repeat_n(b, n));
            }
            9 => {
                // Index-like content from the input itself.
                members[i].data = input.rest();
            }
            10 => {
                let name = format!(
                    "blobs/sha256/{}",
                    oix::Digest::sha256_of(&members[i].data).encoded()
                );
                members[i].name = name.into_bytes();
            }
            _ => {
                let mut name = members[i].name.clone();
                name.extend_from_slice(b"/x");
                members.push(Member {
                    name,
                    kind: tar::EntryType::Regular,
                    data: b"{}".to_vec(),
                    link: Vec::new(),
                    size: None,
                });
            }
        }
    }
}

/// Write members as a tar stream with raw headers (names and links as given, no checks).
fn write_tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut h = tar::Header::new_gnu();
        {
            let raw = h.as_old_mut();
            let n = m.name.len().min(100);
            raw.name[..n].copy_from_slice(&m.name[..n]);
            let l = m.link.len().min(100);
            raw.linkname[..l].copy_from_slice(&m.link[..l]);
        }
        h.set_entry_type(m.kind);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        let body: &[u8] =
            if m.kind == tar::EntryType::Regular || m.kind == tar::EntryType::Continuous {
                &m.data
            } else {
                &[]
            };
        h.set_size(m.size.unwrap_or(body.len() as u64));
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(body);
        let pad = (512 - body.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// Encode the tar: plain, gzip, zstd or xz, maybe as two concatenated streams, maybe cut.
fn encode(tar: Vec<u8>, input: &mut Input) -> Vec<u8> {
    let how = input.byte().unwrap_or(0);
    let compress = |d: &[u8]| -> Vec<u8> {
        match how % 4 {
            0 => d.to_vec(),
            1 => gzip(d),
            2 => zstd::encode_all(d, 1).expect("zstd"),
            _ => {
                let mut out = Vec::new();
                let mut e = liblzma::write::XzEncoder::new(&mut out, 1);
                std::io::Write::write_all(&mut e, d).expect("xz");
                e.finish().expect("xz");
                out
            }
        }
    };
    let mut out = if how & 0x10 != 0 && tar.len() > 1 {
        let half = tar.len() / 2;
        let mut a = compress(&tar[..half]);
        a.extend(compress(&tar[half..]));
        a
    } else {
        compress(&tar)
    };
    if how & 0x20 != 0 && !out.is_empty() {
        let n = input.below(out.len());
        out.truncate(n);
    }
    out
}

/// Where scratch layouts go: tmpfs when there is one (layouts fsync a lot).
fn scratch_root() -> Option<PathBuf> {
    let shm = Path::new("/dev/shm");
    shm.is_dir().then(|| shm.to_path_buf())
}

fn listing(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("read scratch")
        .map(|e| e.expect("entry").file_name())
        .collect();
    v.sort();
    v
}

/// A valid oci-archive (or docker-archive) of fixtures/single, mutated by the input (names, types, links,
/// contents, sizes, order, duplicates), encoded (plain/gzip/zstd/xz, concatenated, cut),
/// then imported into a fresh layout — or, when the first byte says so, used as the
/// root filesystem of `oix build`. Never a panic, never a file outside the layout, and a
/// successful import leaves a complete graph behind its refs.
pub fn archive_import(data: &[u8]) {
    let mut input = Input(data);
    let first = input.byte().unwrap_or(0);
    let build = first % 4 == 3;
    // No mutation, plain tar: a good archive, which must import (or build).
    let pristine = data.len() <= 1;
    let mut members = if !build && first & 4 != 0 {
        docker_members()
    } else {
        fixture_members()
    };
    mutate_members(&mut members, &mut input);
    let bytes = encode(write_tar(&members), &mut input);

    let tmp = scratch_root()
        .and_then(|r| tempfile::tempdir_in(r).ok())
        .unwrap_or_else(|| tempfile::tempdir().expect("tempdir"));
    let archive = tmp.path().join("archive");
    std::fs::write(&archive, &bytes).expect("write archive");
    let (layout, _) = Layout::init(tmp.path().join("layout")).expect("init layout");
    let before = listing(tmp.path());
    let limits = oix::compress::Limits {
        max_ratio: 100,
        slack: 1 << 20,
        max_total: 64 << 20,
    };
    if build {
        let opts = oix::build::BuildOptions {
            layers: vec![oix::build::source::LayerSource::Tarball(archive.clone())],
            platform: Some(Platform {
                architecture: "amd64".into(),
                os: "linux".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = oix::build::build(&layout, "built", &opts);
        assert!(
            !pristine || r.is_ok(),
            "a good tarball did not build: {:?}",
            r.err()
        );
        if r.is_ok() {
            let (idx, _) = layout.read_index().expect("index.json after build");
            let walk = oix::graph::walk(&layout, &idx.manifests);
            assert!(
                walk.complete(),
                "build left an incomplete graph: {:?}",
                walk.problems
            );
        }
    } else {
        let source = oix::archive::import::ImportSource::Archive(archive.clone());
        let sel = oix::archive::Selection {
            rename: Some("imported".into()),
            ..Default::default()
        };
        let r = oix::archive::import::import(&layout, &source, &sel, limits, &Default::default());
        assert!(
            !pristine || r.is_ok(),
            "a good archive did not import: {:?}",
            r.err()
        );
        let (idx, _) = layout.read_index().expect("index.json after import");
        if r.is_ok() {
            let walk = oix::graph::walk(&layout, &idx.manifests);
            assert!(
                walk.complete(),
                "import left an incomplete graph: {:?}",
                walk.problems
            );
            assert!(idx
                .manifests
                .iter()
                .any(|d| d.ref_name() == Some("imported")));
        } else {
            assert!(idx.manifests.is_empty(), "a failed import added refs");
        }
    }
    assert_eq!(
        listing(tmp.path()),
        before,
        "something was written beside the layout"
    );
    assert!(
        !Path::new("/oix-fuzz-absolute-escape").exists(),
        "an absolute member name was written"
    );
}
