//! `oix publish`: one per-arch pipeline's step. Push this arch's image under its per-arch
//! tag, then bring the release tag to the index the policy computes from what the
//! destination holds, and keep it there against concurrent publishers of other arches.
//!
//! A registry has no compare-and-swap on tags, so several pipelines that read the
//! release index, add their arch and PUT it back lose each other's arches (the last
//! PUT wins). Here the per-arch tags are the source of truth instead:
//!
//! 1. copy the image's graph ([`crate::copy::copy_graph`]) and set its per-arch tag
//!    (`--arch-tag '{tag}-{arch}'`, the template of `oix push --arch-tags`);
//! 2. read the per-arch tags that exist for TAG (list the names, keep those the
//!    template could have made, check each against its image's config) and TAG itself;
//! 3. compute the index by the policy ([`crate::authoring::merge::apply_policy`], the
//!    one policy engine): the per-arch entries win, `keep-missing` carries TAG's entries
//!    for arches without a per-arch tag, `require-all` refuses when one is missing;
//! 4. when TAG already is that index, stop; else write it (by digest, then the tag) and
//!    go back to 2. A write that another publisher overwrote with an older view shows
//!    up at the re-read as "TAG is not what the per-arch tags say", and is repeated
//!    after a jittered backoff, at most `max_retries` times.
//!
//! The index bytes depend only on the entries (sorted by platform, no timestamps), so
//! publishers that see the same per-arch tags write the same bytes and a "lost" PUT is
//! harmless. Why this converges, and what it assumes of the store (read-your-writes on
//! tags), is argued in docs/publish.md. Everything goes through [`Names`] and [`Sink`],
//! so a layout destination behaves the same (its index.json transactions are locked).

use crate::authoring::merge::{apply_policy, Policy};
use crate::authoring::{compose, Member, CARRIED_FROM};
use crate::copy::{copy_graph, CopyOptions, CopyReport};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::{self, media, Descriptor, Document, ImageConfig, Index, Platform};
use crate::platform::PlatformSpec;
use crate::store::{Names, Sink, Source};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A store that can be published into: it names content and takes content.
pub trait Destination: Names + Sink {}
impl<T: Names + Sink> Destination for T {}

/// Open the destination of a publish, `docker://HOST/REPO:TAG` or `[oci:]PATH:TAG`, and
/// return it with TAG. A layout is created on its first write.
pub fn open_destination(
    text: &str,
    transport: &crate::registry::TransportOptions,
    jobs: usize,
    lock_timeout: Duration,
) -> Result<(Box<dyn Destination>, String)> {
    use crate::reference::{Reference, Target};
    match Reference::parse(text)? {
        Reference::Registry(r) => {
            let tag = match (&r.tag, &r.digest) {
                (Some(t), None) => t.clone(),
                _ => {
                    return Err(Error::usage(format!(
                        "{text}: the destination must name the release tag"
                    ))
                    .with_hint("write docker://HOST/REPO:TAG"))
                }
            };
            let opts = crate::registry::RegistryOptions {
                transport: transport.clone(),
                jobs,
                push: true,
                ..Default::default()
            };
            let reg = crate::registry::Registry::new(&r, &opts)?;
            Ok((Box::new(reg), tag))
        }
        Reference::Layout(l) => {
            let Target::Name(tag) = &l.target else {
                return Err(Error::usage(format!(
                    "{text}: the destination must name the release tag"
                ))
                .with_hint("write LAYOUT:TAG (or oci:PATH:TAG)"));
            };
            crate::registry::reference::validate_tag(tag)?;
            let layout =
                crate::layout::Layout::open_or_create(&l.path)?.with_lock_timeout(lock_timeout);
            Ok((Box::new(layout), tag.clone()))
        }
        Reference::Archive { .. } => Err(Error::usage(format!(
            "{text}: an archive cannot be published into"
        ))
        .with_hint("publish into a registry (docker://HOST/REPO:TAG) or a layout (PATH:TAG)")),
    }
}

/// The per-arch tag template with TAG (and the build id) filled in.
#[derive(Debug, Clone)]
pub struct ArchTag {
    /// `{tag}` and `{build}` replaced; `{arch}`, `{variant}`, `{os}` left.
    template: String,
    tag: String,
}

const PLACEHOLDERS: [&str; 3] = ["{arch}", "{variant}", "{os}"];

impl ArchTag {
    /// `template` as given to `--arch-tag`; `{build}` needs `build` (and `build` needs
    /// `{build}`: per-arch tags of one build must not collide with another's).
    pub fn new(template: &str, tag: &str, build: Option<&str>) -> Result<ArchTag> {
        let usage = |m: String| Error::usage(format!("--arch-tag {template:?}: {m}"));
        if !template.contains("{arch}") {
            return Err(usage("it must contain {arch}".into())
                .with_hint("write e.g. '{tag}-{arch}' or '{tag}-{arch}{variant}'"));
        }
        let t = match (template.contains("{build}"), build) {
            (true, Some(b)) => {
                crate::registry::reference::validate_tag(b)
                    .map_err(|e| e.context(format!("--build {b:?}")))?;
                template.replace("{build}", b)
            }
            (true, None) => {
                return Err(usage("it contains {build} but no --build was given".into()))
            }
            (false, Some(_)) => {
                return Err(
                    usage("--build is given but the template has no {build}".into())
                        .with_hint("write e.g. '{tag}-{build}-{arch}'"),
                )
            }
            (false, None) => template.to_string(),
        };
        Ok(ArchTag {
            template: t.replace("{tag}", tag),
            tag: tag.to_string(),
        })
    }

    /// The per-arch tag of an image of platform `p`.
    pub fn expand(&self, p: &Platform) -> Result<String> {
        crate::registry::ops::expand_arch_tag(&self.template, &self.tag, p)
    }

    /// Whether `name` could be an expansion (a cheap filter before reading its image):
    /// the placeholders match any text.
    pub fn may_match(&self, name: &str) -> bool {
        let mut pieces: Vec<&str> = Vec::new();
        let mut rest = self.template.as_str();
        loop {
            let next = PLACEHOLDERS
                .iter()
                .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
                .min();
            match next {
                Some((i, len)) => {
                    pieces.push(&rest[..i]);
                    rest = &rest[i + len..];
                }
                None => {
                    pieces.push(rest);
                    break;
                }
            }
        }
        glob(&pieces, name)
    }
}

/// `name` = pieces[0] * pieces[1] * ... * pieces[n] (each `*` any text).
fn glob(pieces: &[&str], name: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return name.is_empty();
    };
    let Some(mut s) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return s.is_empty();
    };
    for p in middle {
        match s.find(p) {
            Some(i) => s = &s[i + p.len()..],
            None => return false,
        }
    }
    s.len() >= last.len() && s.ends_with(last)
}

#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The release tag.
    pub tag: String,
    pub arch_tag: ArchTag,
    pub policy: Policy,
    pub expect: Vec<PlatformSpec>,
    /// Writes of TAG after the first one, when a re-read shows it was overwritten.
    pub max_retries: u32,
    /// Base delay before a retry (doubled each time, jittered, at most 32x).
    pub backoff: Duration,
    pub jobs: usize,
    pub dry_run: bool,
}

/// One retry: after our write, TAG was not what the per-arch tags say.
#[derive(Debug, Clone, Serialize)]
pub struct Retry {
    /// 1 for the first retry.
    pub retry: u32,
    pub max_retries: u32,
    /// What we wrote last.
    pub wrote: String,
    /// What TAG names at the re-read.
    pub found: Option<String>,
    /// What the per-arch tags (and TAG) say now.
    pub wanted: String,
    pub delay_ms: u64,
}

/// One entry of the resulting index.
#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub platform: Option<String>,
    pub digest: String,
    /// `per-arch` (from a per-arch tag), `carried` (keep-missing) or `kept` (union).
    pub from: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch_tag: Option<String>,
    /// For a carried entry: the release it was carried from (`TAG@DIGEST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    pub destination: String,
    pub tag: String,
    /// This publisher's image and per-arch tag.
    pub image: String,
    pub platform: String,
    pub arch_tag: String,
    /// The index TAG names at the end (would name, with --dry-run).
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub size: u64,
    /// What TAG named before this publisher's first write.
    pub previous: Option<String>,
    /// Whether this publisher wrote TAG (always false with --dry-run).
    pub changed: bool,
    pub dry_run: bool,
    /// Writes of TAG by this publisher.
    pub writes: u32,
    /// The index digests this publisher wrote, in order.
    pub written: Vec<String>,
    pub retries: Vec<Retry>,
    pub entries: Vec<EntryReport>,
    /// Per-arch-looking tags that were not used (their image's platform does not
    /// expand to their name, or they name no image).
    pub ignored: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyReport>,
}

/// The platform of an image, from its config (the only source both the publisher and
/// every reader of the per-arch tags agree on); `None` for an index, an artifact or a
/// config that names none.
pub fn image_platform(src: &dyn Source, desc: &Descriptor) -> Result<Option<Platform>> {
    if !desc.is_manifest() {
        return Ok(None);
    }
    let bytes = src.read_small(desc)?;
    let Some(Document::Manifest(m)) = Document::parse(&desc.media_type, &bytes, &desc.digest)?
    else {
        return Ok(None);
    };
    if !media::is_image_config(&m.config.media_type) {
        return Ok(None);
    }
    let cfg: ImageConfig = model::parse_json(&src.read_small(&m.config)?, &m.config.digest)?;
    Ok(cfg.platform())
}

/// Platforms of images by digest: content is immutable, so each is read once.
#[derive(Default)]
struct Platforms(HashMap<String, Option<Platform>>);

impl Platforms {
    fn of(&mut self, src: &dyn Source, desc: &Descriptor) -> Result<Option<Platform>> {
        if let Some(p) = self.0.get(&desc.digest) {
            return Ok(p.clone());
        }
        let p = image_platform(src, desc)?;
        self.0.insert(desc.digest.clone(), p.clone());
        Ok(p)
    }
}

fn member(descriptor: Descriptor, key: Option<PlatformSpec>, origin: &str) -> Member {
    Member {
        descriptor,
        key,
        attestations: Vec::new(),
        origin: origin.to_string(),
        // Not from a layout: publish places members by reference, it never imports them.
        layout: Default::default(),
    }
}

/// A descriptor of exactly (type, digest, size) with `platform`: what a per-arch entry
/// is written as, the same whoever writes it.
fn entry_descriptor(d: &Descriptor, platform: Option<Platform>) -> Result<Descriptor> {
    let mut e = Descriptor::new(&d.media_type, &d.digest()?, d.size()?);
    e.platform = platform.map(Box::new);
    Ok(e)
}

/// The per-arch truth and the current TAG, as read at one moment.
struct View {
    current: Option<Descriptor>,
    existing: Vec<Member>,
    /// By platform: (per-arch tag, entry).
    per_arch: BTreeMap<PlatformSpec, (String, Descriptor)>,
    ignored: Vec<String>,
}

fn read_view(
    dest: &dyn Destination,
    opts: &PublishOptions,
    platforms: &mut Platforms,
) -> Result<View> {
    let mut per_arch = BTreeMap::new();
    let mut ignored = Vec::new();
    let mut names = dest.list_names()?;
    names.sort();
    for n in names {
        if n == opts.tag || !opts.arch_tag.may_match(&n) {
            continue;
        }
        let Some(d) = dest.resolve_name(&n)? else {
            continue; // removed since the listing
        };
        let p = match platforms.of(dest, &d)? {
            Some(p) if opts.arch_tag.expand(&p).ok().as_deref() == Some(n.as_str()) => p,
            _ => {
                ignored.push(n);
                continue;
            }
        };
        let key = PlatformSpec::from_platform(&p);
        if per_arch.contains_key(&key) {
            ignored.push(n); // a second tag for one platform ('{arch}{variant}' forms)
            continue;
        }
        per_arch.insert(key, (n, entry_descriptor(&d, Some(p))?));
    }
    let current = dest.resolve_name(&opts.tag)?;
    let existing = match &current {
        None => Vec::new(),
        Some(c) => current_members(dest, c, &opts.tag, platforms)?,
    };
    Ok(View {
        current,
        existing,
        per_arch,
        ignored,
    })
}

/// The entries of what TAG names now: an index's entries (attestations with their
/// subjects), or an image as one entry. Only manifests and configs are read.
fn current_members(
    src: &dyn Source,
    cur: &Descriptor,
    tag: &str,
    platforms: &mut Platforms,
) -> Result<Vec<Member>> {
    if cur.is_manifest() {
        let p = platforms.of(src, cur)?;
        let key = p.as_ref().map(PlatformSpec::from_platform);
        return Ok(vec![member(entry_descriptor(cur, p)?, key, tag)]);
    }
    if !cur.is_index() {
        return Err(Error::failure(format!(
            "{}:{tag} names {} ({}), which is neither an image nor an index",
            Source::describe(src),
            cur.digest,
            cur.media_type
        )));
    }
    let bytes = src.read_small(cur)?;
    let Some(Document::Index(idx)) = Document::parse(&cur.media_type, &bytes, &cur.digest)? else {
        return Err(Error::corrupt(format!(
            "{tag}: {} is not an index",
            cur.digest
        )));
    };
    let mut members: Vec<Member> = Vec::new();
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut attestations = Vec::new();
    for c in &idx.manifests {
        if c.is_attestation() {
            attestations.push(c.clone());
            continue;
        }
        let key = match &c.platform {
            Some(p) => Some(PlatformSpec::from_platform(p)),
            None if c.is_manifest() => platforms
                .of(src, c)?
                .as_ref()
                .map(PlatformSpec::from_platform),
            None => None,
        };
        first.entry(c.digest.clone()).or_insert(members.len());
        members.push(member(c.clone(), key, tag));
    }
    for a in attestations {
        match a.attestation_subject().and_then(|s| first.get(s)) {
            Some(&i) => members[i].attestations.push(a),
            None => members.push(member(a, None, tag)),
        }
    }
    Ok(members)
}

/// The index the policy computes from a view: its document, bytes and descriptor.
struct Desired {
    members: Vec<Member>,
    bytes: Vec<u8>,
    descriptor: Descriptor,
}

fn desired(view: &View, opts: &PublishOptions) -> Result<Desired> {
    let incoming: Vec<Member> = view
        .per_arch
        .iter()
        .map(|(k, (tag, d))| member(d.clone(), Some(k.clone()), tag))
        .collect();
    let from = view
        .current
        .as_ref()
        .map(|c| format!("{}@{}", opts.tag, c.digest))
        .unwrap_or_default();
    let mut members = apply_policy(
        opts.policy,
        view.existing.clone(),
        &incoming,
        &opts.expect,
        &from,
    )
    .map_err(|e| {
        let refused = e.kind == crate::error::Kind::Refused;
        let e = e.context(format!("{} (the sources are its per-arch tags)", opts.tag));
        if refused {
            e.with_hint(format!(
                "{} was not changed (this arch's per-arch tag is set); publish the missing \
                 platforms, or use --policy keep-missing to carry their last entries",
                opts.tag
            ))
        } else {
            e
        }
    })?;
    // The bytes depend on the set of entries only: platforms in order, then unkeyed
    // entries by digest.
    members.sort_by(|a, b| match (&a.key, &b.key) {
        (Some(x), Some(y)) => x
            .cmp(y)
            .then_with(|| a.descriptor.digest.cmp(&b.descriptor.digest)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.descriptor.digest.cmp(&b.descriptor.digest),
    });
    let index: Index = compose(None, &members, &BTreeMap::new());
    let bytes = index.to_bytes();
    let descriptor = Descriptor::new(
        media::OCI_INDEX,
        &Digest::sha256_of(&bytes),
        bytes.len() as u64,
    );
    Ok(Desired {
        members,
        bytes,
        descriptor,
    })
}

fn entries_report(view: &View, d: &Desired) -> Vec<EntryReport> {
    let by_digest: HashMap<&str, &str> = view
        .per_arch
        .values()
        .map(|(t, e)| (e.digest.as_str(), t.as_str()))
        .collect();
    d.members
        .iter()
        .map(|m| {
            let tag = by_digest.get(m.descriptor.digest.as_str());
            EntryReport {
                platform: m.key.as_ref().map(|k| k.short()),
                digest: m.descriptor.digest.clone(),
                from: match tag {
                    Some(_) => "per-arch",
                    None if m.descriptor.annotations.contains_key(CARRIED_FROM) => "carried",
                    None => "kept",
                },
                arch_tag: tag.map(|t| t.to_string()),
                carried_from: tag
                    .is_none()
                    .then(|| m.descriptor.annotations.get(CARRIED_FROM).cloned())
                    .flatten(),
            }
        })
        .collect()
}

/// A delay of about `base * 2^attempt` (at most 32x), times a random factor in
/// [0.5, 1.5) so that publishers that collided once do not collide again in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let jitter = 0.5 + (h.finish() % 1000) as f64 / 1000.0;
    base.mul_f64(f64::from(1u32 << attempt.min(5)) * jitter)
}

/// Publish `image` (an image manifest in `src`) into `dest`: see the module docs.
/// `on_retry` hears of each retry as it happens.
pub fn publish(
    src: &dyn Source,
    image: &Descriptor,
    dest: &dyn Destination,
    opts: &PublishOptions,
    on_retry: &mut dyn FnMut(&Retry),
) -> Result<PublishReport> {
    if !image.is_manifest() {
        return Err(Error::usage(format!(
            "{}: {} is a {}, not an image",
            src.describe(),
            image.digest,
            image.media_type
        ))
        .with_hint("publish one image per arch; name it with LAYOUT:REF or LAYOUT@DIGEST"));
    }
    let mut platforms = Platforms::default();
    let platform = platforms.of(src, image)?.ok_or_else(|| {
        Error::usage(format!(
            "{}: the config of {} names no platform",
            src.describe(),
            image.digest
        ))
        .with_hint(
            "the per-arch tag and the index entry are made from the config's os/architecture",
        )
    })?;
    let arch_tag = opts.arch_tag.expand(&platform)?;
    if arch_tag == opts.tag {
        return Err(Error::usage(format!(
            "the per-arch tag {arch_tag:?} is the release tag itself"
        ))
        .with_hint("the template must make a different tag, e.g. '{tag}-{arch}'"));
    }
    let entry = entry_descriptor(image, Some(platform.clone()))?;
    let mut report = PublishReport {
        destination: Source::describe(dest),
        tag: opts.tag.clone(),
        image: image.digest.clone(),
        platform: platform.display(),
        arch_tag: arch_tag.clone(),
        digest: String::new(),
        media_type: media::OCI_INDEX.to_string(),
        size: 0,
        previous: None,
        changed: false,
        dry_run: opts.dry_run,
        writes: 0,
        written: Vec::new(),
        retries: Vec::new(),
        entries: Vec::new(),
        ignored: Vec::new(),
        copy: None,
    };
    if opts.dry_run {
        // What would be written if our per-arch tag were set now.
        let mut view = read_view(dest, opts, &mut platforms)?;
        view.per_arch.insert(
            PlatformSpec::from_platform(&platform),
            (arch_tag.clone(), entry.clone()),
        );
        let d = desired(&view, opts)?;
        finish(&mut report, &view, &d);
        return Ok(report);
    }
    let copy = copy_graph(
        src,
        dest,
        std::slice::from_ref(image),
        &CopyOptions {
            jobs: opts.jobs.max(1),
        },
    )?;
    report.copy = Some(copy);
    // The per-arch tag first: from here on every publisher that reads sees it.
    dest.set_names(std::slice::from_ref(&arch_tag), &entry)?;
    let mut wrote: Option<Descriptor> = None;
    loop {
        let view = read_view(dest, opts, &mut platforms)?;
        if report.writes == 0 {
            report.previous = view.current.as_ref().map(|c| c.digest.clone());
        }
        let d = desired(&view, opts)?;
        let found = view.current.as_ref().map(|c| c.digest.clone());
        if found.as_deref() == Some(d.descriptor.digest.as_str()) {
            finish(&mut report, &view, &d);
            return Ok(report);
        }
        if let Some(w) = &wrote {
            // TAG is not what the per-arch tags say although we wrote: another
            // publisher wrote after us (from an older view), or a per-arch tag came.
            let n = report.retries.len() as u32 + 1;
            if n > opts.max_retries {
                return Err(Error::failure(format!(
                    "{}: {} did not settle after {} retries: it names {}, the per-arch tags say {}",
                    Source::describe(dest),
                    opts.tag,
                    opts.max_retries,
                    found.as_deref().unwrap_or("nothing"),
                    d.descriptor.digest
                ))
                .with_hint("other publishers keep writing it; run `oix publish` again (it is idempotent) or raise --max-retries")
                .with_details(serde_json::json!({"retries": report.retries})));
            }
            let delay = backoff(opts.backoff, n - 1);
            let r = Retry {
                retry: n,
                max_retries: opts.max_retries,
                wrote: w.digest.clone(),
                found,
                wanted: d.descriptor.digest.clone(),
                delay_ms: delay.as_millis() as u64,
            };
            on_retry(&r);
            report.retries.push(r);
            wrote = None; // re-read after the pause, then write what is wanted then
            std::thread::sleep(delay);
            continue;
        }
        dest.put_manifest(&d.descriptor, &d.bytes)?;
        dest.set_names(std::slice::from_ref(&opts.tag), &d.descriptor)?;
        report.writes += 1;
        report.written.push(d.descriptor.digest.clone());
        report.changed = true;
        wrote = Some(d.descriptor);
    }
}

fn finish(report: &mut PublishReport, view: &View, d: &Desired) {
    report.digest = d.descriptor.digest.clone();
    report.size = d.bytes.len() as u64;
    report.entries = entries_report(view, d);
    report.ignored = view.ignored.clone();
    if report.previous.is_none() && report.writes == 0 {
        report.previous = view.current.as_ref().map(|c| c.digest.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn templates_expand_and_match() {
        let t = ArchTag::new("{tag}-{arch}{variant}", "40", None).unwrap();
        assert_eq!(
            t.expand(&p("linux", "arm", Some("v7"))).unwrap(),
            "40-armv7"
        );
        assert!(t.may_match("40-amd64"));
        assert!(t.may_match("40-"));
        assert!(!t.may_match("41-amd64"));
        assert!(!t.may_match("40"));
        let b = ArchTag::new("{tag}-{build}-{os}-{arch}", "40", Some("r7")).unwrap();
        assert_eq!(
            b.expand(&p("linux", "s390x", None)).unwrap(),
            "40-r7-linux-s390x"
        );
        assert!(b.may_match("40-r7-linux-s390x"));
        assert!(!b.may_match("40-r6-linux-s390x"));
        assert!(ArchTag::new("{tag}", "40", None).is_err());
        assert!(ArchTag::new("{tag}-{build}-{arch}", "40", None).is_err());
        assert!(ArchTag::new("{tag}-{arch}", "40", Some("r1")).is_err());
        assert!(ArchTag::new("{tag}-{build}-{arch}", "40", Some("bad/id")).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob(&["a", "b", "c"], "aXbYc"));
        assert!(glob(&["a", "b", "c"], "abc"));
        assert!(!glob(&["a", "b", "c"], "ac"));
        assert!(glob(&["", ""], "anything"));
        assert!(glob(&["x"], "x"));
        assert!(!glob(&["x"], "xy"));
        assert!(!glob(&["ab", "ba"], "aba"));
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let base = Duration::from_millis(100);
        for a in 0..20 {
            let d = backoff(base, a);
            assert!(d >= base / 2 && d < base * 48, "{d:?}");
        }
    }
}
