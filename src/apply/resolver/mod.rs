//! The second step of reading a plan: [`Resolver`] turns the file as written
//! ([`PlanFile`]) into a [`Plan`]: defaults applied, `{name}` expanded in sources, paths
//! made relative to the plan file, and names, tags, platforms, templates and URLs
//! checked, every problem collected with its place.

use super::plan::{
    policy_name, Destination, Image, ImageDefaults, ImageSpec, Plan, PlanFile, Position, Problem,
    Sources,
};
use super::{names, upstream};
use crate::authoring::merge::Policy;
use crate::error::{Error, Result};
use crate::platform::PlatformSpec;
use crate::reference::validate_ref_name;
use crate::registry::reference::RegistryRef;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod destinations;
mod source;

pub(super) struct Resolver {
    file: String,
    dir: PathBuf,
    problems: Vec<Problem>,
}

/// Where a problem is: an image entry or a section, at a position.
#[derive(Clone)]
struct Site {
    image: Option<String>,
    section: Option<String>,
    position: Position,
}

impl Resolver {
    pub(super) fn new(file: String, dir: PathBuf) -> Resolver {
        Resolver {
            file,
            dir,
            problems: Vec::new(),
        }
    }

    fn push(&mut self, site: &Site, e: Error) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: site.position.line,
            column: site.position.column,
            image: site.image.clone(),
            section: site.section.clone(),
            message: e.message,
            hint: e.hint,
        });
    }

    pub(super) fn resolve(
        mut self,
        path: &Path,
        raw: PlanFile,
    ) -> std::result::Result<Plan, Vec<Problem>> {
        let top = Site {
            image: None,
            section: Some("version".into()),
            position: Position::of(&raw.version),
        };
        if raw.version.value != 1 {
            self.push(
                &top,
                Error::failure(format!(
                    "version {} is not supported; this oix reads version 1",
                    raw.version.value
                ))
                .with_hint("write `version: 1`"),
            );
        }
        let layout = self.dir.join(&raw.layout);
        if raw.layout.trim().is_empty() {
            self.push(
                &Site {
                    section: Some("layout".into()),
                    ..top.clone()
                },
                Error::failure("layout is empty")
                    .with_hint("name the working layout directory, e.g. `layout: ./out`"),
            );
        }
        let destinations = self.destinations(&raw.destinations);
        let defaults = raw
            .defaults
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default();
        let defaults_site = Site {
            image: None,
            section: Some("defaults".into()),
            position: raw.defaults.as_ref().map(Position::of).unwrap_or_default(),
        };
        if let Some(t) = &defaults.arch_tags {
            if let Err(e) = names::validate_arch_tag_template(t) {
                self.push(&defaults_site, e);
            }
        }
        let mut images = Vec::new();
        for (i, s) in raw.images.iter().enumerate() {
            if let Some(img) = self.image(i, s, &defaults, &destinations) {
                images.push(img);
            }
        }
        // A release tag belongs to one image.
        let mut seen: BTreeMap<String, &Image> = BTreeMap::new();
        let mut dups = Vec::new();
        for img in &images {
            for t in &img.tags {
                let r = img.ref_name(t);
                match seen.get(&r) {
                    Some(other) => dups.push((img.clone(), r.clone(), other.index)),
                    None => {
                        seen.insert(r, img);
                    }
                }
            }
        }
        for (img, r, other) in dups {
            self.push(
                &site_of(&img.name, img.index, img.position),
                Error::failure(format!(
                    "the release tag {r} is also declared by images[{other}]"
                ))
                .with_hint("each NAME:TAG may be declared once"),
            );
        }
        if self.problems.is_empty() {
            Ok(Plan {
                path: path.to_path_buf(),
                dir: self.dir,
                layout,
                destinations,
                images,
            })
        } else {
            Err(self.problems)
        }
    }

    fn rel(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }

    fn image(
        &mut self,
        index: usize,
        s: &Spanned<ImageSpec>,
        defaults: &ImageDefaults,
        destinations: &[Destination],
    ) -> Option<Image> {
        let spec = &s.value;
        let position = Position::of(s);
        let site = site_of(&spec.name, index, position);
        let before = self.problems.len();
        let name = spec.name.clone();
        self.check_image_name(&site, &name, destinations);
        let sources = self.image_sources(&site, spec, defaults);
        let tags = spec
            .tags
            .clone()
            .or_else(|| defaults.tags.clone())
            .unwrap_or_default();
        self.check_tags(&site, &name, &tags);
        let platforms = self.image_platforms(
            &site,
            spec.platforms
                .clone()
                .or_else(|| defaults.platforms.clone())
                .unwrap_or_default(),
        );
        let policy = spec
            .policy
            .or(defaults.policy)
            .unwrap_or(Policy::RequireAll);
        if matches!(sources, Some(Sources::One(_)))
            && matches!(policy, Policy::Union | Policy::KeepMissing)
        {
            self.push(
                &site,
                Error::failure(format!(
                    "policy {} assembles an index, but the image has a single source",
                    policy_name(policy)
                ))
                .with_hint("list the parts under sources:, or use require-all or replace"),
            );
        }
        let arch_tags = spec
            .arch_tags
            .clone()
            .or_else(|| defaults.arch_tags.clone());
        if let Some(t) = &spec.arch_tags {
            if let Err(e) = names::validate_arch_tag_template(t) {
                self.push(&site, e);
            }
        }
        let src_ref = spec.src_ref.clone().or_else(|| defaults.src_ref.clone());
        let annotations = self.image_annotations(&site, spec, defaults, src_ref.as_deref());
        let force = spec.force.or(defaults.force).unwrap_or(false);
        let layers = spec.layers.or(defaults.layers).unwrap_or_default();
        let referrers = match spec.referrers.as_ref().or(defaults.referrers.as_ref()) {
            None => Default::default(),
            Some(r) => r.carry().unwrap_or_else(|e| {
                self.push(&site, e);
                Default::default()
            }),
        };
        if self.problems.len() > before {
            return None;
        }
        let targets = RegistryTargets {
            name: &name,
            tags: &tags,
            arch_tags: arch_tags.as_deref(),
            platforms: &platforms,
        };
        if let Err(e) = targets.check(destinations) {
            self.push(&site, e);
            return None;
        }
        Some(Image {
            index,
            position,
            name,
            sources: sources?,
            tags,
            platforms,
            policy,
            arch_tags,
            src_ref,
            annotations,
            force,
            layers,
            referrers,
        })
    }

    /// The image name is a repository name, short enough at every registry destination.
    fn check_image_name(&mut self, site: &Site, name: &str, destinations: &[Destination]) {
        if let Err(e) = names::validate_repo(name) {
            self.push(
                site,
                e.with_hint("an image name is a repository name: lowercase, digits, . _ - and /"),
            );
        }
        for d in destinations {
            let repo = d.repository(name);
            if let Destination::Registry { host, .. } = d {
                if host.len() + 1 + repo.len() > 255 {
                    self.push(
                        site,
                        Error::failure(format!("{}/{repo} is longer than 255 characters", host)),
                    );
                }
            }
        }
    }

    /// `source:` or `sources:` (the image's own pair wins over the defaults' pair), with
    /// `{name}` expanded; `None` after a problem that leaves no sources to speak of.
    fn image_sources(
        &mut self,
        site: &Site,
        spec: &ImageSpec,
        defaults: &ImageDefaults,
    ) -> Option<Sources> {
        let (source, sources) = if spec.source.is_some() || spec.sources.is_some() {
            (spec.source.clone(), spec.sources.clone())
        } else {
            (defaults.source.clone(), defaults.sources.clone())
        };
        let expand = |t: &str| t.replace("{name}", &spec.name);
        match (source, sources) {
            (Some(_), Some(_)) => {
                self.push(
                    site,
                    Error::failure("both source and sources are given").with_hint(
                        "source promotes one image or index; sources assembles an index",
                    ),
                );
                None
            }
            (None, None) => {
                self.push(
                    site,
                    Error::failure("neither source nor sources is given").with_hint(
                        "name what to release: source: NAME:BUILD-TAG, or sources: [...] to assemble an index",
                    ),
                );
                None
            }
            (Some(one), None) => match self.source(&expand(&one), false) {
                Ok(r) => Some(Sources::One(r)),
                Err(e) => {
                    self.push(site, e);
                    None
                }
            },
            (None, Some(list)) => {
                if list.is_empty() {
                    self.push(site, Error::failure("sources is empty"));
                }
                let mut out = Vec::new();
                for t in &list {
                    match self.source(&expand(t), true) {
                        Ok(r) => out.push(r),
                        Err(e) => self.push(site, e),
                    }
                }
                Some(Sources::Assemble(out))
            }
        }
    }

    /// The release tags: at least one, none twice, each a valid tag and, joined to the
    /// image name, a valid layout ref name.
    fn check_tags(&mut self, site: &Site, name: &str, tags: &[String]) {
        if tags.is_empty() {
            self.push(
                site,
                Error::failure("no tags").with_hint("list the release tags: tags: [stx.4.0-v2.2]"),
            );
        }
        for (i, t) in tags.iter().enumerate() {
            if tags[..i].contains(t) {
                self.push(site, Error::failure(format!("tag {t:?} is listed twice")));
                continue;
            }
            match names::validate_tag(t) {
                Err(e) => self.push(site, e),
                Ok(()) => {
                    if let Err(e) = validate_ref_name(&format!("{name}:{t}")) {
                        self.push(
                            site,
                            Error::failure(format!(
                                "{name}:{t} cannot be a layout ref: {}",
                                e.message
                            ))
                            .with_hint(
                                "ref names join alphanumerics with one of - . _ : @ + or --",
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The expected platforms, parsed, without duplicates; `local` is refused (a plan
    /// must not depend on the machine running it).
    fn image_platforms(&mut self, site: &Site, written: Vec<String>) -> Vec<PlatformSpec> {
        let mut platforms = Vec::new();
        for p in written {
            if p.trim().eq_ignore_ascii_case("local") {
                self.push(
                    site,
                    Error::failure("platform `local` depends on the machine running oix")
                        .with_hint("a release plan names platforms as os/arch[/variant]"),
                );
                continue;
            }
            match PlatformSpec::parse(&p) {
                Ok(ps) if !platforms.contains(&ps) => platforms.push(ps),
                Ok(_) => self.push(
                    site,
                    Error::failure(format!("platform {p} is listed twice")),
                ),
                Err(e) => self.push(site, e),
            }
        }
        platforms
    }

    /// The annotations to set: the defaults' overlaid by the image's, plus those
    /// `src_ref` stands for (which must not contradict the written ones).
    fn image_annotations(
        &mut self,
        site: &Site,
        spec: &ImageSpec,
        defaults: &ImageDefaults,
        src_ref: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut annotations = defaults.annotations.clone().unwrap_or_default();
        annotations.extend(spec.annotations.clone().unwrap_or_default());
        for k in annotations.keys() {
            if k.is_empty() {
                self.push(site, Error::failure("an annotation key is empty"));
            } else if k == crate::model::annotation::REF_NAME {
                self.push(
                    site,
                    Error::failure(format!(
                        "annotation {k} is set by oix on index.json entries"
                    ))
                    .with_hint("release tags are given under tags:"),
                );
            }
        }
        if let Some(r) = src_ref {
            match upstream::annotations(r) {
                Ok(extra) => {
                    for (k, v) in extra {
                        match annotations.get(&k) {
                            Some(w) if *w != v => self.push(
                                site,
                                Error::failure(format!(
                                    "src_ref gives {k}={v:?}, but annotations set it to {w:?}"
                                ))
                                .with_hint("drop one of them"),
                            ),
                            _ => {
                                annotations.insert(k, v);
                            }
                        }
                    }
                }
                Err(e) => self.push(site, e),
            }
        }
        annotations
    }
}

fn site_of(name: &str, index: usize, position: Position) -> Site {
    Site {
        image: Some(format!("{name:?} (images[{index}])")),
        section: None,
        position,
    }
}

/// The tags an image is published under at registry destinations.
struct RegistryTargets<'a> {
    name: &'a str,
    tags: &'a [String],
    arch_tags: Option<&'a str>,
    platforms: &'a [PlatformSpec],
}

impl RegistryTargets<'_> {
    /// Every registry target of the image, through the parser `push` and publishing
    /// use: a plan accepted here is not refused there for its host, name or tag.
    /// Per-arch tags too, expanded for the listed platforms (or a sample one), as
    /// publishing expands them. The first problem found is returned.
    fn check(&self, destinations: &[Destination]) -> Result<()> {
        let mut all_tags = self.tags.to_vec();
        if let Some(template) = self.arch_tags {
            let samples = if self.platforms.is_empty() {
                vec![crate::model::Platform {
                    os: "linux".into(),
                    architecture: "arm64".into(),
                    variant: Some("v8".into()),
                    ..Default::default()
                }]
            } else {
                self.platforms
                    .iter()
                    .map(PlatformSpec::to_platform)
                    .collect()
            };
            for t in self.tags {
                for p in &samples {
                    all_tags.push(names::expand_arch_tag(template, t, p)?);
                }
            }
        }
        for d in destinations {
            if let Destination::Registry { .. } = d {
                for t in &all_tags {
                    RegistryRef::parse(&d.target(self.name, t))?;
                }
            }
        }
        Ok(())
    }
}
