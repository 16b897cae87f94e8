//! What `oix publish` reads from the destination (the per-arch tags and what TAG names,
//! manifests and configs only) and the index the policy computes from it.

use super::{Destination, EntryReport, PublishOptions};
use crate::authoring::merge::apply_policy;
use crate::authoring::{compose, Member, CARRIED_FROM};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::{self, media, Descriptor, Document, ImageConfig, Index, Platform};
use crate::platform::PlatformSpec;
use crate::store::Source;
use std::collections::{BTreeMap, HashMap};

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
pub struct Platforms(HashMap<String, Option<Platform>>);

impl Platforms {
    pub fn of(&mut self, src: &dyn Source, desc: &Descriptor) -> Result<Option<Platform>> {
        if let Some(p) = self.0.get(&desc.digest) {
            return Ok(p.clone());
        }
        let p = image_platform(src, desc)?;
        self.0.insert(desc.digest.clone(), p.clone());
        Ok(p)
    }
}

/// An entry placed by reference (not from a layout), for a registry edit's sources.
pub fn view_member(d: &Descriptor, platform: Option<Platform>, origin: &str) -> Result<Member> {
    let key = platform.as_ref().map(PlatformSpec::from_platform);
    Ok(member(entry_descriptor(d, platform)?, key, origin))
}

pub(super) fn member(descriptor: Descriptor, key: Option<PlatformSpec>, origin: &str) -> Member {
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
pub(super) fn entry_descriptor(d: &Descriptor, platform: Option<Platform>) -> Result<Descriptor> {
    let mut e = Descriptor::new(&d.media_type, &d.digest()?, d.size()?);
    e.platform = platform.map(Box::new);
    Ok(e)
}

/// The per-arch truth and the current TAG, as read at one moment.
pub(super) struct View {
    pub(super) current: Option<Descriptor>,
    pub(super) existing: Vec<Member>,
    /// By platform: (per-arch tag, entry).
    pub(super) per_arch: BTreeMap<PlatformSpec, (String, Descriptor)>,
    pub(super) ignored: Vec<String>,
}

pub(super) fn read_view(
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
        Some(c) => current_members(dest, c, &opts.tag, platforms)?.0,
    };
    Ok(View {
        current,
        existing,
        per_arch,
        ignored,
    })
}

/// The entries of what TAG names now in any store: an index's entries (attestations
/// with their subjects) with the index document, or an image as one entry. Only
/// manifests and configs are read, never layers (`publish`, and `merge`/`index add`/
/// `index rm` on a registry: [`crate::authoring::remote`]).
pub fn current_members(
    src: &dyn Source,
    cur: &Descriptor,
    tag: &str,
    platforms: &mut Platforms,
) -> Result<(Vec<Member>, Option<Index>)> {
    if cur.is_manifest() {
        let p = platforms.of(src, cur)?;
        let key = p.as_ref().map(PlatformSpec::from_platform);
        return Ok((vec![member(entry_descriptor(cur, p)?, key, tag)], None));
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
    Ok((crate::authoring::attach_twins(members), Some(idx)))
}

/// The index the policy computes from a view: its document, bytes and descriptor.
pub(super) struct Desired {
    pub(super) members: Vec<Member>,
    pub(super) bytes: Vec<u8>,
    pub(super) descriptor: Descriptor,
}

pub(super) fn desired(view: &View, opts: &PublishOptions) -> Result<Desired> {
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

pub(super) fn entries_report(view: &View, d: &Desired) -> Vec<EntryReport> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authoring::merge::Policy;

    fn entry(arch: &str, n: u8) -> (PlatformSpec, Descriptor) {
        let p = Platform {
            os: "linux".into(),
            architecture: arch.into(),
            ..Default::default()
        };
        let d = Descriptor::new(
            media::OCI_MANIFEST,
            &Digest::sha256_of(&[n]),
            100 + n as u64,
        );
        (
            PlatformSpec::from_platform(&p),
            entry_descriptor(&d, Some(p)).unwrap(),
        )
    }

    fn opts(policy: Policy) -> PublishOptions {
        PublishOptions {
            tag: "rel".into(),
            arch_tag: super::super::ArchTag::new("{tag}-{arch}", "rel", None).unwrap(),
            policy,
            expect: Vec::new(),
            max_retries: 0,
            backoff: std::time::Duration::ZERO,
            jobs: 1,
            dry_run: false,
        }
    }

    /// The index bytes depend on the entries only: not on the order TAG lists them in,
    /// nor on which entries came from TAG rather than a per-arch tag.
    #[test]
    fn the_same_entries_give_the_same_bytes() {
        let all = [entry("s390x", 1), entry("amd64", 2), entry("arm64", 3)];
        let view = |existing: Vec<Member>, per_arch: &[(PlatformSpec, Descriptor)]| View {
            current: None,
            existing,
            per_arch: per_arch
                .iter()
                .map(|(k, d)| (k.clone(), (format!("rel-{}", k.architecture), d.clone())))
                .collect(),
            ignored: Vec::new(),
        };
        let members = |es: &[(PlatformSpec, Descriptor)]| -> Vec<Member> {
            es.iter()
                .map(|(k, d)| member(d.clone(), Some(k.clone()), "rel"))
                .collect()
        };
        let forward = view(members(&all[..2]), &all[2..]);
        let mut reversed_list = members(&all[..2]);
        reversed_list.reverse();
        let reversed = view(reversed_list, &all[2..]);
        let from_tags = view(Vec::new(), &all);
        let o = opts(Policy::Union);
        let a = desired(&forward, &o).unwrap();
        let b = desired(&reversed, &o).unwrap();
        let c = desired(&from_tags, &o).unwrap();
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.bytes, c.bytes);
        let archs: Vec<&str> = a
            .members
            .iter()
            .map(|m| m.key.as_ref().unwrap().architecture.as_str())
            .collect();
        assert_eq!(archs, ["amd64", "arm64", "s390x"]);
    }
}
