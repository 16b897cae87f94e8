//! `push`: plan what goes where, run the one graph copy, then set the tags.
//!
//! Push order (the tag-last rule): every blob, then every manifest and index by digest,
//! children first (all by [`crate::copy::copy_graph`]); then the per-arch tags; then
//! the tag. A failure anywhere before the final PUT leaves the tag where it was, and a
//! tag never points at an index whose children are not all in the registry.
//!
//! Platform subsets (`--platform`) rewrite the index to the matching entries (plus the
//! attestations and referrers of kept entries; nested indexes alike), by the one subset
//! of the walk ([`crate::subset::subset_index`]): each new index is a document oix
//! creates, kept in memory ([`Overlay`]) and pushed or stored like any other; never a
//! sparse index.

use super::reference::{validate_tag, RegistryRef};
use super::remote::{Registry, StatsSnapshot};
pub use crate::copy::stores::PlanStep;
use crate::copy::stores::{self, Carry, CarryOptions, CarrySummary, NamePlan, RunOptions};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::{self, Descriptor, Platform};
use crate::reference::{LayoutRef, Target};
use crate::select::Selector;
use crate::store::{Overlay, StoreRef};
use crate::{platform, resolve};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// Expand an `--arch-tags` template: `{tag}`, `{arch}`, `{variant}`, `{os}`.
pub fn expand_arch_tag(template: &str, tag: &str, p: &Platform) -> Result<String> {
    let out = template
        .replace("{tag}", tag)
        .replace("{arch}", &p.architecture)
        .replace("{variant}", p.variant.as_deref().unwrap_or(""))
        .replace("{os}", &p.os);
    validate_tag(&out)
        .map_err(|e| e.context(format!("--arch-tags {template:?} for {}", p.display())))?;
    Ok(out)
}

/// A tag to set after the copy, and the document it names.
#[derive(Debug, Clone, Serialize)]
pub struct TagPlan {
    pub tag: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `os/arch[/variant]` for per-arch tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip)]
    pub descriptor: Descriptor,
}

impl TagPlan {
    fn name_plan(&self) -> NamePlan {
        NamePlan {
            name: self.tag.clone(),
            digest: self.digest.clone(),
            media_type: self.media_type.clone(),
            platform: self.platform.clone(),
            descriptor: self.descriptor.clone(),
        }
    }
}

/// Everything a push will do, before it talks to the registry.
pub struct PushPlan<'a> {
    pub source: Overlay<'a>,
    /// Roots of the copy (each pushed by digest).
    pub roots: Vec<Descriptor>,
    /// Tags in the order they are set: per-arch tags first, the main tags last.
    pub tags: Vec<TagPlan>,
    /// `--manifest-format`: every document converted, old digest to new.
    pub converted: Vec<crate::convert::Pair>,
    /// What `--allow-lossy` let the conversion drop.
    pub dropped: Vec<crate::convert::Item>,
}

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    pub jobs: usize,
    /// Walk and check the whole graph even when the registry already has a root.
    pub force_recursive: bool,
    /// `--platform` / `--where`: push only the entries this selector picks.
    pub selector: Selector,
    pub arch_tags: Option<String>,
    pub all_refs: bool,
    /// Conversion (after the subset) and referrers.
    pub carry: CarryOptions,
    /// `--add-compression zstd`: add a zstd twin per platform after the subset, before
    /// a format conversion ([`crate::recompress::recompress_into`]).
    pub add_compression: Option<crate::compress::Compression>,
}

/// The tag a layout ref name becomes: itself, or the tag of a full `host/repo:tag` name.
fn tag_for_ref(name: &str) -> Result<String> {
    if validate_tag(name).is_ok() {
        return Ok(name.to_string());
    }
    if let (_, Some(t)) = crate::reference::split_tag(name) {
        if validate_tag(t).is_ok() {
            return Ok(t.to_string());
        }
    }
    Err(
        Error::usage(format!("ref {name:?} is not a valid registry tag"))
            .with_hint("name the tag in the destination (docker://HOST/REPO:TAG)"),
    )
}

/// The roots a push starts from, each with its tag (none when the destination names
/// a digest) and the layout ref that names it: every ref (`--all-refs`) or `src`.
fn named_roots(
    layout: &Layout,
    src: &LayoutRef,
    dest: &RegistryRef,
    all_refs: bool,
) -> Result<Vec<(Descriptor, Option<String>, LayoutRef)>> {
    if !all_refs {
        let d = resolve::resolve_one(layout, src)?.descriptor;
        let tag = match (&dest.tag, &dest.digest, &src.target) {
            (Some(t), _, _) => Some(t.clone()),
            (None, Some(_), _) => None,
            (None, None, Target::Name(n)) => Some(tag_for_ref(n)?),
            (None, None, _) => {
                return Err(Error::usage(format!(
                    "{dest}: name the tag to push to (docker://HOST/REPO:TAG)"
                )))
            }
        };
        return Ok(vec![(d, tag, src.clone())]);
    }
    if src.target != Target::Default {
        return Err(Error::usage(
            "--all-refs pushes every ref: give LAYOUT without :REF",
        ));
    }
    if dest.tag.is_some() || dest.digest.is_some() {
        return Err(Error::usage(
            "--all-refs names each tag after its ref: give docker://HOST/REPO without a tag",
        ));
    }
    let (index, _) = layout.read_index()?;
    let mut names: Vec<String> = resolve::ref_names(&index);
    names.dedup();
    if names.is_empty() {
        return Err(Error::no_match(format!(
            "{}: the layout has no named refs",
            layout.root().display()
        )));
    }
    let mut pairs = Vec::new();
    for n in names {
        let r = LayoutRef {
            path: src.path.clone(),
            target: Target::Name(n.clone()),
        };
        let d = resolve::resolve_one(layout, &r)?.descriptor;
        pairs.push((d, Some(tag_for_ref(&n)?), r));
    }
    Ok(pairs)
}

/// `root` as it will be pushed: subset by the selector, zstd twins added, converted
/// (not under `auto`: [`push`] converts only when the registry refuses); conversions
/// are added to `plan`, new documents to its source.
fn prepare_root<'a>(
    plan: &mut PushPlan<'a>,
    layout: &'a Layout,
    r: &LayoutRef,
    mut root: Descriptor,
    dest: &RegistryRef,
    opts: &PushOptions,
) -> Result<Descriptor> {
    let source = &mut plan.source;
    root.annotations.remove(model::annotation::REF_NAME);
    if opts.selector.has_filters() {
        root = stores::subset_selected(source, layout, r, &root, &opts.selector)?;
    }
    if let Some(c) = opts.add_compression {
        root = crate::recompress::add_twins(source, &root, c, crate::compress::default_jobs())?;
    }
    if let Some(to) = opts
        .carry
        .manifest_format
        .filter(|f| *f != crate::convert::Format::Auto)
    {
        let c = crate::convert::convert_into(source, &root, to, &opts.carry.allow_lossy)?;
        root = c.root;
        for p in c.pairs {
            if !plan.converted.contains(&p) {
                plan.converted.push(p);
            }
        }
        plan.dropped.extend(c.dropped);
    }
    if let Some(d) = &dest.digest {
        if d.to_string() != root.digest {
            return Err(Error::usage(format!(
                "{dest}: the content to push is {}, not the digest the destination names",
                root.digest
            )));
        }
    }
    Ok(root)
}

/// The `--arch-tags` of `root` (each image entry of an index, or the manifest itself),
/// expanded from `template` and `tag`.
fn arch_tag_plans(
    source: &dyn crate::store::Source,
    root: &Descriptor,
    template: &str,
    tag: &str,
) -> Result<Vec<TagPlan>> {
    let children: Vec<Descriptor> = if root.is_index() {
        crate::graph::entries_of(source, root)?
            .into_iter()
            .filter(|d| !d.is_attestation() && d.is_manifest())
            .collect()
    } else {
        vec![root.clone()]
    };
    let mut out = Vec::new();
    for c in children {
        let Some(p) = platform::entry_platform(source, &c) else {
            return Err(Error::failure(format!(
                "--arch-tags: entry {} has no platform (none in its descriptor or config)",
                c.digest
            )));
        };
        let t = expand_arch_tag(template, tag, &p.platform)?;
        let mut desc = c.clone();
        desc.platform = None;
        desc.annotations.clear();
        out.push(TagPlan {
            tag: t,
            digest: c.digest.clone(),
            media_type: c.media_type.clone(),
            platform: Some(p.platform.display()),
            descriptor: desc,
        });
    }
    Ok(out)
}

/// Refuse a tag that would name two different documents.
fn check_tag_clashes(tags: &[TagPlan]) -> Result<()> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for t in tags {
        if let Some(prev) = seen.insert(&t.tag, &t.digest) {
            if prev != t.digest {
                return Err(Error::usage(format!(
                    "tag {:?} would name both {prev} and {}",
                    t.tag, t.digest
                ))
                .with_hint(
                    "make --arch-tags distinguish the entries, e.g. {tag}-{os}-{arch}{variant}",
                ));
            }
        }
    }
    Ok(())
}

/// Decide roots and tags for pushing `src` of `layout` to `dest`.
pub fn plan_push<'a>(
    layout: &'a Layout,
    src: &LayoutRef,
    dest: &RegistryRef,
    opts: &PushOptions,
) -> Result<PushPlan<'a>> {
    let pairs = named_roots(layout, src, dest, opts.all_refs)?;
    let mut plan = PushPlan {
        source: Overlay::new(layout),
        roots: Vec::new(),
        tags: Vec::new(),
        converted: Vec::new(),
        dropped: Vec::new(),
    };
    let mut main_tags = Vec::new();
    for (root, tag, r) in pairs {
        let root = prepare_root(&mut plan, layout, &r, root, dest, opts)?;
        if let (Some(template), Some(tag)) = (&opts.arch_tags, &tag) {
            let arch = arch_tag_plans(&plan.source, &root, template, tag)?;
            plan.tags.extend(arch);
        }
        if let Some(t) = tag {
            main_tags.push(TagPlan {
                tag: t,
                digest: root.digest.clone(),
                media_type: root.media_type.clone(),
                platform: None,
                descriptor: root.clone(),
            });
        }
        if !plan.roots.iter().any(|r| r.digest == root.digest) {
            plan.roots.push(root);
        }
    }
    // Per-arch tags first, the main tags last.
    plan.tags.extend(main_tags);
    check_tag_clashes(&plan.tags)?;
    Ok(plan)
}

#[derive(Debug, Clone, Serialize)]
pub struct TagResult {
    pub tag: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `created`, `moved` or `unchanged`.
    pub action: &'static str,
    /// The digest a moved tag pointed at before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// The `--json` summary of a push.
#[derive(Debug, Clone, Serialize)]
pub struct PushSummary {
    pub destination: String,
    /// Digests pushed as roots (the index or manifest of each tag).
    pub digests: Vec<String>,
    pub tags: Vec<TagResult>,
    /// Blobs uploaded, skipped (already there), mounted from another repository.
    pub uploaded: u64,
    pub skipped: u64,
    pub mounted: u64,
    /// Bytes of blobs uploaded.
    pub bytes: u64,
    /// Manifests and indexes written by digest (not counting tags).
    pub manifests: u64,
    pub manifests_skipped: u64,
    /// `--manifest-format auto`: why the registry refused the stored format and what
    /// was pushed instead (the push was retried once, converted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<String>,
    /// Roots the repository already held by digest (their graphs were not walked).
    pub roots_present: u64,
    /// Requests retried after transient failures.
    pub retries: u64,
    /// Blob uploads continued from the registry's upload status / started over.
    pub resumed: u64,
    pub restarted: u64,
    pub seconds: f64,
    /// `converted`, `dropped`, `referrers` (last, where `referrers` always was).
    #[serde(flatten)]
    pub carried: CarrySummary,
    /// Listed in the source as referrers but none (not carried).
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

/// Run a planned push: the copy ([`stores::run`]), then the tags in plan order.
///
/// A root (index or manifest) the repository already holds by digest is not walked:
/// a registry accepts a manifest only once everything it references is there
/// (distribution checks blobs and child manifests on PUT), so its whole graph is
/// present. `force_recursive` checks every blob anyway (for registries that accept
/// sparse content, or after blobs were deleted).
///
/// With `--manifest-format auto`, a registry that refuses a document's format
/// ([`crate::convert::refused_format`]) gets the other format: every root is
/// converted, the tags follow the new digests, and the push runs once more.
pub fn push(plan: &PushPlan, registry: &Registry, opts: &PushOptions) -> Result<PushSummary> {
    let start = Instant::now();
    let run = |source: &dyn crate::store::Source, roots: &[Descriptor], tags: &[TagPlan]| {
        let names: Vec<NamePlan> = tags.iter().map(TagPlan::name_plan).collect();
        stores::run(
            source,
            roots,
            &names,
            StoreRef::Registry(registry),
            &RunOptions {
                jobs: opts.jobs.max(1),
                force_recursive: opts.force_recursive,
                referrers: opts.carry.referrers.clone(),
            },
        )
    };
    let mut converted = plan.converted.clone();
    let mut dropped = plan.dropped.clone();
    let mut retried = None;
    let (out, roots) = match run(&plan.source, &plan.roots, &plan.tags) {
        Ok(out) => (out, plan.roots.clone()),
        Err(e) => {
            let why = match (
                opts.carry.manifest_format,
                crate::convert::refused_format(&e),
            ) {
                (Some(crate::convert::Format::Auto), Some(why)) => why,
                _ => return Err(e),
            };
            let retry = converted_retry(&plan.source, &plan.roots, &plan.tags, opts, &why)?;
            converted.extend(retry.pairs);
            dropped.extend(retry.dropped);
            retried = Some(retry.note);
            (run(&retry.source, &retry.roots, &retry.tags)?, retry.roots)
        }
    };
    let blobs: StatsSnapshot = registry.snapshot();
    Ok(PushSummary {
        destination: registry.reference.repository(),
        digests: roots.iter().map(|r| r.digest.clone()).collect(),
        tags: out
            .names
            .into_iter()
            .map(|n| TagResult {
                tag: n.name,
                digest: n.digest,
                platform: n.platform,
                action: n.action,
                previous: n.previous,
            })
            .collect(),
        uploaded: blobs.uploaded,
        skipped: blobs.skipped,
        mounted: blobs.mounted,
        bytes: blobs.bytes,
        manifests: out.report.manifests,
        manifests_skipped: out.report.skipped.saturating_sub(blobs.skipped),
        retried,
        roots_present: out.roots_present,
        retries: registry
            .client
            .retried
            .load(std::sync::atomic::Ordering::Relaxed),
        resumed: blobs.resumed,
        restarted: blobs.restarted,
        seconds: start.elapsed().as_secs_f64(),
        carried: CarrySummary {
            converted,
            dropped,
            referrers: out.referrers,
        },
        referrer_warnings: out.referrer_warnings,
    })
}

/// A push converted after the registry refused the stored format.
struct Retry<'a> {
    source: Overlay<'a>,
    roots: Vec<Descriptor>,
    tags: Vec<TagPlan>,
    pairs: Vec<crate::convert::Pair>,
    dropped: Vec<crate::convert::Item>,
    /// For stderr and `--json` (`retried`).
    note: String,
}

/// Every root of a push converted to the format it is not in, and its tags moved to
/// the converted documents (an arch tag follows its entry's conversion).
fn converted_retry<'a>(
    source: &'a dyn crate::store::Source,
    roots: &[Descriptor],
    tags: &[TagPlan],
    opts: &PushOptions,
    why: &str,
) -> Result<Retry<'a>> {
    use crate::convert::Format;
    let mut ov = Overlay::new(source);
    let mut new_roots = Vec::new();
    let mut pairs: Vec<crate::convert::Pair> = Vec::new();
    let mut dropped = Vec::new();
    let mut formats: Vec<(&str, &str)> = Vec::new();
    for r in roots {
        let to = Format::Auto.for_root(&r.media_type);
        let from = Format::of(&r.media_type).unwrap_or(Format::Oci);
        if !formats.contains(&(from.name(), to.name())) {
            formats.push((from.name(), to.name()));
        }
        let c =
            crate::convert::convert_into(&mut ov, r, to, &opts.carry.allow_lossy).map_err(|e| {
                e.context(format!(
                    "the registry refused {} ({why}) and --manifest-format auto cannot convert it",
                    r.digest
                ))
            })?;
        for p in c.pairs {
            if !pairs.contains(&p) {
                pairs.push(p);
            }
        }
        dropped.extend(c.dropped);
        new_roots.push(c.root);
    }
    let tags = tags
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if let Some(p) = pairs.iter().find(|p| p.from == t.digest) {
                t.digest = p.to.clone();
                t.media_type = p.media_type.clone();
                t.descriptor.digest = p.to.clone();
                t.descriptor.media_type = p.media_type.clone();
                t.descriptor.size = p.size;
            }
            t
        })
        .collect();
    let shown: Vec<String> = formats.iter().map(|(f, t)| format!("{f} to {t}")).collect();
    let note = format!(
        "the registry refused the documents as stored ({why}): converted {} ({} documents) and pushed again",
        shown.join(", "),
        pairs.len()
    );
    Ok(Retry {
        source: ov,
        roots: new_roots,
        tags,
        pairs,
        dropped,
        note,
    })
}

/// What a push would do: HEADs only, nothing written.
pub fn dry_run(
    plan: &PushPlan,
    registry: &Registry,
    jobs: usize,
    referrers: &Carry,
) -> Result<Vec<PlanStep>> {
    let names: Vec<NamePlan> = plan.tags.iter().map(TagPlan::name_plan).collect();
    stores::dry_run(
        &plan.source,
        &plan.roots,
        &names,
        StoreRef::Registry(registry),
        jobs,
        referrers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Source;

    fn plat(os: &str, arch: &str, v: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: v.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn arch_tags_expand() {
        let p = plat("linux", "arm", Some("v7"));
        assert_eq!(
            expand_arch_tag("{tag}_{arch}{variant}", "1.0", &p).unwrap(),
            "1.0_armv7"
        );
        assert_eq!(
            expand_arch_tag("{tag}-{os}-{arch}", "1.0", &p).unwrap(),
            "1.0-linux-arm"
        );
        assert!(expand_arch_tag("{tag}/{arch}", "x", &p).is_err());
    }

    #[test]
    fn push_subsets_nested_indexes_too() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("l");
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nested");
        assert!(std::process::Command::new("cp")
            .arg("-a")
            .args([&fixture, &dir])
            .status()
            .unwrap()
            .success());
        let layout = Layout::open(&dir).unwrap();
        let src = LayoutRef {
            path: dir.clone(),
            target: Target::Name("latest".into()),
        };
        let dest = RegistryRef::parse("docker://localhost:5000/x/y:t").unwrap();
        let opts = PushOptions {
            selector: crate::select::Selector::new()
                .platform(crate::platform::PlatformSpec::parse("linux/arm64").unwrap()),
            ..Default::default()
        };
        // The arm64 image is inside the nested index: it used to be "no entry matches".
        let plan = plan_push(&layout, &src, &dest, &opts).unwrap();
        let read = |d: &Descriptor| -> model::Index {
            model::parse_json(&plan.source.read_small(d).unwrap(), "t").unwrap()
        };
        let outer = read(&plan.roots[0]);
        assert_eq!(outer.manifests.len(), 1, "the s390x image is dropped");
        let inner = read(&outer.manifests[0]);
        let arches: Vec<&str> = inner
            .manifests
            .iter()
            .map(|d| d.platform.as_ref().unwrap().architecture.as_str())
            .collect();
        assert_eq!(arches, ["arm64"]);
    }
}
