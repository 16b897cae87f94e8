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

mod template;
mod view;

pub use template::ArchTag;
pub use view::{current_members, image_platform, view_member, Platforms};

use crate::authoring::merge::Policy;
use crate::copy::{copy_graph, CopyOptions, CopyReport};
use crate::error::{Error, Result};
use crate::model::{media, Descriptor, Platform};
use crate::platform::PlatformSpec;
use crate::store::{Names, Sink, Source};
use serde::Serialize;
use std::time::Duration;
use view::{desired, entries_report, entry_descriptor, read_view, Desired, View};

/// A store that can be published into: it names content and takes content.
pub trait Destination: Names + Sink {}
impl<T: Names + Sink> Destination for T {}

/// Open the destination of a publish, `docker://HOST/REPO:TAG` or `[oci:]PATH:TAG`,
/// through the one opener, and return it with TAG. A layout is created on its first
/// write.
pub fn open_destination(
    text: &str,
    connect: &crate::store::Connect,
) -> Result<(Box<dyn Destination>, String)> {
    use crate::reference::{Reference, Target};
    use crate::store::{Access, Store};
    let reference = Reference::parse(text)?;
    if let Reference::Archive { .. } = reference {
        return Err(
            Error::usage(format!("{text}: an archive cannot be published into")).with_hint(
                "publish into a registry (docker://HOST/REPO:TAG) or a layout (PATH:TAG)",
            ),
        );
    }
    let hint = match reference {
        Reference::Registry(_) => "write docker://HOST/REPO:TAG",
        _ => "write LAYOUT:TAG (or oci:PATH:TAG)",
    };
    // The tag is checked before anything is opened (a layout is not created for a bad one).
    let tag = match &reference {
        Reference::Registry(r) if r.digest.is_none() => r.tag.clone(),
        Reference::Layout(l) => match &l.target {
            Target::Name(t) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    };
    let Some(tag) = tag else {
        return Err(
            Error::usage(format!("{text}: the destination must name the release tag"))
                .with_hint(hint),
        );
    };
    crate::registry::reference::validate_tag(&tag)?;
    let dest: Box<dyn Destination> =
        match crate::store::open(&reference, Access::Write, connect)?.store {
            Store::Layout(l) => Box::new(l),
            Store::Registry(r) => r,
            Store::Archive(_) => unreachable!("archives are refused above"),
        };
    Ok((dest, tag))
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
    let mut platforms = Platforms::default();
    let (platform, arch_tag) = platform_and_arch_tag(src, image, opts, &mut platforms)?;
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
    write_until_settled(dest, opts, &mut platforms, &mut report, on_retry)?;
    Ok(report)
}

/// The image's platform (from its config) and the per-arch tag it expands to; refused
/// when `image` is not an image manifest, names no platform, or the per-arch tag is
/// the release tag.
fn platform_and_arch_tag(
    src: &dyn Source,
    image: &Descriptor,
    opts: &PublishOptions,
    platforms: &mut Platforms,
) -> Result<(Platform, String)> {
    if !image.is_manifest() {
        return Err(Error::usage(format!(
            "{}: {} is a {}, not an image",
            src.describe(),
            image.digest,
            image.media_type
        ))
        .with_hint("publish one image per arch; name it with LAYOUT:REF or LAYOUT@DIGEST"));
    }
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
    Ok((platform, arch_tag))
}

/// Read the per-arch tags and write TAG from them until a read finds TAG naming what
/// they say. When TAG differs although we wrote, another publisher wrote after us (from
/// an older view), or a per-arch tag came: pause, re-read, write again.
fn write_until_settled(
    dest: &dyn Destination,
    opts: &PublishOptions,
    platforms: &mut Platforms,
    report: &mut PublishReport,
    on_retry: &mut dyn FnMut(&Retry),
) -> Result<()> {
    let mut wrote: Option<Descriptor> = None;
    loop {
        let view = read_view(dest, opts, platforms)?;
        if report.writes == 0 {
            report.previous = view.current.as_ref().map(|c| c.digest.clone());
        }
        let d = desired(&view, opts)?;
        let found = view.current.as_ref().map(|c| c.digest.clone());
        if found.as_deref() == Some(d.descriptor.digest.as_str()) {
            finish(report, &view, &d);
            return Ok(());
        }
        if let Some(w) = wrote.take() {
            // Re-read after the pause, then write what is wanted then.
            let delay = record_retry(dest, opts, report, &w, found, &d, on_retry)?;
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

/// Record one more retry (and tell `on_retry`) and return the pause before it; an
/// error once `opts.max_retries` are used up.
fn record_retry(
    dest: &dyn Destination,
    opts: &PublishOptions,
    report: &mut PublishReport,
    wrote: &Descriptor,
    found: Option<String>,
    d: &Desired,
    on_retry: &mut dyn FnMut(&Retry),
) -> Result<Duration> {
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
        wrote: wrote.digest.clone(),
        found,
        wanted: d.descriptor.digest.clone(),
        delay_ms: delay.as_millis() as u64,
    };
    on_retry(&r);
    report.retries.push(r);
    Ok(delay)
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

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let base = Duration::from_millis(100);
        for a in 0..20 {
            let d = backoff(base, a);
            assert!(d >= base / 2 && d < base * 48, "{d:?}");
        }
    }
}
