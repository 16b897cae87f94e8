//! The prepare phase of a run, per image: resolve the sources, compute the released
//! document (the source as is, annotated, or an index assembled from `sources:`), check
//! platforms and policy, and compare every release tag with what it names now. Reads
//! only; [`Run::carry_out`](super::Run::carry_out) does the writing.

use super::opened::Opened;
use super::plan::{self, Destination, Image, SourceRef, Sources};
use super::platforms::{contains, platforms_of};
use super::previous::{require_all_against_tags, tags_now, Previous, TagsNow};
use super::publish::{open_store, RemoteRef, StoreAt};
use super::release_tags::tag_step;
use super::{annotate, ImageReport, Prepared, Run, Step, Work};
use crate::authoring::{self, merge, Current, Expand, Member, SourceSpec};
use crate::error::{Error, Kind, Result};
use crate::layout::Layout;
use crate::model::{annotation, media, Descriptor};
use crate::platform::PlatformSpec;
use crate::reference::{LayoutRef, Target};
use crate::resolve;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

impl<'a> Run<'a> {
    pub(super) fn prepare_image(
        &self,
        img: &Image,
        pulled: &BTreeMap<String, Descriptor>,
    ) -> Prepared {
        let mut report = ImageReport::new(img);
        let mut pulls = Vec::new();
        let work = match self.compute(img, pulled, &mut report, &mut pulls) {
            Ok(w) => w,
            Err(e) => {
                report.fail(&e);
                None
            }
        };
        Prepared {
            report,
            work,
            pulls,
        }
    }

    /// A source as a [`SourceSpec`] with its layout path resolved, and its descriptor
    /// when already known. A remote source is the local digest it names when the
    /// working layout has it; otherwise it is queued for pulling (`None`).
    pub(super) fn local_spec(
        &self,
        src: &SourceRef,
        working: Option<&Opened>,
        pulled: &BTreeMap<String, Descriptor>,
        layers: plan::Layers,
        report: &mut ImageReport,
        pulls: &mut Vec<(String, RemoteRef)>,
    ) -> Result<Option<(SourceSpec, Option<Descriptor>)>> {
        match src {
            SourceRef::Layout {
                text,
                reference,
                platform,
            } => {
                let path = if reference.path.as_os_str().is_empty() {
                    self.plan.layout.clone()
                } else {
                    reference.path.clone()
                };
                let spec = SourceSpec {
                    text: text.clone(),
                    reference: LayoutRef {
                        path,
                        target: reference.target.clone(),
                    },
                    platform: platform.as_deref().cloned(),
                    // Plans are checked by `oix plan check`; apply keeps its behaviour.
                    allow_unknown_platform: true,
                    force_platform: true,
                };
                Ok(Some((spec, None)))
            }
            SourceRef::Registry {
                text,
                url,
                host,
                platform,
            } => {
                let known = match pulled.get(text) {
                    Some(d) => Some(d.clone()),
                    None => {
                        let remote = self.remote(url, host);
                        let d = self.remote_digest(url, &remote)?;
                        let local = stored_whole(working, &d, url, layers)?;
                        if local.is_none() {
                            report.steps.push(Step {
                                kind: "pull",
                                action: "pull",
                                target: url.clone(),
                                digest: Some(d),
                                previous: None,
                                conflict: false,
                                summary: None,
                            });
                            pulls.push((text.clone(), remote));
                            return Ok(None);
                        }
                        local
                    }
                };
                let Some(d) = known else { return Ok(None) };
                let spec = SourceSpec {
                    text: text.clone(),
                    reference: LayoutRef {
                        path: self.plan.layout.clone(),
                        target: Target::Digest(d.digest()?),
                    },
                    platform: platform.as_deref().cloned(),
                    // Plans are checked by `oix plan check`; apply keeps its behaviour.
                    allow_unknown_platform: true,
                    force_platform: true,
                };
                Ok(Some((spec, Some(d))))
            }
        }
    }

    /// The digest a `docker://` source names: the one it is pinned to, else what its tag
    /// names at the registry now (a HEAD).
    fn remote_digest(&self, url: &str, remote: &RemoteRef) -> Result<String> {
        // A digest-pinned source the layout holds needs no registry.
        let pinned = crate::registry::RegistryRef::parse(url)
            .ok()
            .and_then(|r| r.digest)
            .map(|d| d.to_string());
        Ok(match pinned {
            Some(d) => d,
            None => {
                self.resolve_remote(remote)?
                    .ok_or_else(|| {
                        Error::no_match(format!("source {url}: the tag does not exist"))
                    })?
                    .digest
            }
        })
    }

    /// Resolve a source in its (cached) layout, unless its descriptor is known.
    pub(super) fn resolve(
        &self,
        spec: &SourceSpec,
        known: Option<Descriptor>,
    ) -> Result<(Rc<Opened>, Descriptor)> {
        let ctx = |e: Error| e.context(format!("source {}", spec.text));
        let opened = self
            .opened(&spec.reference.path)
            .map_err(ctx)?
            .ok_or_else(|| {
                ctx(Error::no_match(format!(
                    "{} is not an OCI image layout yet",
                    spec.reference.path.display()
                )))
            })?;
        let d = match known {
            Some(d) => d,
            None => {
                opened
                    .names
                    .resolve(&opened.layout, &spec.reference)
                    .map_err(ctx)?
                    .descriptor
            }
        };
        Ok((opened, d))
    }

    pub(super) fn compute(
        &self,
        img: &Image,
        pulled: &BTreeMap<String, Descriptor>,
        report: &mut ImageReport,
        pulls: &mut Vec<(String, RemoteRef)>,
    ) -> Result<Option<Work>> {
        let working = self.opened(&self.plan.layout)?;
        let w = working.as_deref();
        let current = tags_now(img, w)?;
        // The previous release the policy compares with: what the tags hold at the
        // first docker:// destination when it holds any (the registry wins), else in
        // the working layout (docs/plan.md, "The previous release").
        let published = self.published(img)?;
        let previous = match &published {
            Some((tags, cache)) => Some(Previous {
                layout: cache,
                tags: tags.as_slice(),
                published: true,
            }),
            None => w.map(|o| Previous {
                layout: &o.layout,
                tags: current.as_slice(),
                published: false,
            }),
        };
        let mut work = match &img.sources {
            Sources::One(src) => {
                let Some((spec, known)) =
                    self.local_spec(src, w, pulled, img.layers, report, pulls)?
                else {
                    return Ok(None);
                };
                self.single(img, &spec, known, w, previous.as_ref(), report)?
            }
            Sources::Assemble(list) => {
                let mut specs = Vec::new();
                for s in list {
                    if let Some(x) = self.local_spec(s, w, pulled, img.layers, report, pulls)? {
                        specs.push(x);
                    }
                }
                if !pulls.is_empty() {
                    return Ok(None);
                }
                self.assemble(img, specs, previous.as_ref(), report)?
            }
        };
        if img.layers == plan::Layers::Remote {
            work.remotes = self.remote_sources(img);
        }
        report.digest = Some(work.root.digest.clone());
        report.media_type = Some(work.root.media_type.clone());
        self.compare_tags(img, &work, w, &current, report)?;
        Ok(Some(work))
    }

    /// The registries a `layers: remote` image's sources are in.
    fn remote_sources(&self, img: &Image) -> Vec<RemoteRef> {
        let list: Vec<&SourceRef> = match &img.sources {
            Sources::One(s) => vec![s],
            Sources::Assemble(v) => v.iter().collect(),
        };
        list.into_iter()
            .filter_map(|s| match s {
                SourceRef::Registry { url, host, .. } => Some(self.remote(url, host)),
                SourceRef::Layout { .. } => None,
            })
            .collect()
    }

    /// The steps of the report that write: the new document (when not stored yet), every
    /// release tag in the working layout and at every destination. A tag that names
    /// other content is a conflict, refused unless forced.
    fn compare_tags(
        &self,
        img: &Image,
        work: &Work,
        w: Option<&Opened>,
        current: &TagsNow,
        report: &mut ImageReport,
    ) -> Result<()> {
        let force = self.opts.force || img.force;
        let mut conflicts = Vec::new();
        let stored = w.is_some_and(|o| work.root.digest().is_ok_and(|d| o.layout.has_blob(&d)));
        if work.new_doc.is_some() && !stored {
            report.steps.push(Step {
                kind: "write",
                action: "write",
                target: report.document.unwrap_or("document").to_string(),
                digest: Some(work.root.digest.clone()),
                previous: report.from.clone(),
                conflict: false,
                summary: None,
            });
        }
        for (r, cur) in current {
            let prev = cur.as_ref().map(|c| c.entry.digest.clone());
            let step = tag_step("tag", r.clone(), &work.root.digest, prev, force);
            record_step(step, &mut conflicts, report);
        }
        if !self.opts.no_push {
            for d in &self.plan.destinations {
                for t in &img.tags {
                    let target = d.target(&img.name, t);
                    let now = match d {
                        Destination::Layout { path, .. } => {
                            let repo = d.repository(&img.name);
                            open_store(StoreAt::Layout(path), &self.settings())?
                                .names()
                                .resolve_name(&format!("{repo}:{t}"))?
                        }
                        Destination::Registry { connection, .. } => {
                            self.resolve_remote(&RemoteRef {
                                url: target.clone(),
                                connection: connection.clone(),
                            })?
                        }
                    }
                    .map(|d| d.digest);
                    let step = tag_step("push", target.clone(), &work.root.digest, now, force);
                    record_step(step, &mut conflicts, report);
                }
            }
        }
        if !conflicts.is_empty() {
            return Err(Error::refused(format!(
                "{} tag(s) exist with other content: {}",
                conflicts.len(),
                conflicts.join("; ")
            ))
            .with_hint(
                "release tags do not move by default; pass --force (or set force: true on the image) to move them",
            ));
        }
        Ok(())
    }

    /// `source:`: the document as it is, or with the plan's annotations set.
    pub(super) fn single(
        &self,
        img: &Image,
        spec: &SourceSpec,
        known: Option<Descriptor>,
        working: Option<&Opened>,
        previous: Option<&Previous<'_>>,
        report: &mut ImageReport,
    ) -> Result<Work> {
        let ctx = |e: Error| e.context(format!("source {}", spec.text));
        let (opened, d) = self.resolve(spec, known)?;
        let layout = &opened.layout;
        if !(d.is_manifest() || d.is_index()) {
            return Err(ctx(Error::failure(format!(
                "{} is a {}, not an image or index",
                d.digest, d.media_type
            ))));
        }
        let have = platforms_of(layout, &d);
        report.platforms = have.iter().map(PlatformSpec::short).collect();
        let missing: Vec<String> = img
            .platforms
            .iter()
            .filter(|p| !contains(&have, p))
            .map(PlatformSpec::short)
            .collect();
        if !missing.is_empty() {
            return Err(Error::refused(format!(
                "source {} ({}) lacks expected platform(s): {}",
                spec.text,
                d.digest,
                missing.join(", ")
            ))
            .with_hint("nothing was written; build the missing platforms or change platforms:"));
        }
        let (bytes, _) = layout.read_document(&d).map_err(ctx)?;
        let mut root = d.clone();
        root.annotations.remove(annotation::REF_NAME);
        let mut new_doc = None;
        report.document = Some("as-is");
        if let Some(b) =
            annotate::set_annotations(&bytes, &img.annotations, &format!("blob {}", d.digest))?
        {
            let digest = crate::Digest::sha256_of(&b);
            root.digest = digest.to_string();
            root.size = b.len() as i64;
            new_doc = Some(b);
            report.document = Some("annotated");
            report.from = Some(d.digest.clone());
        }
        if img.policy == merge::Policy::RequireAll {
            if let Some(p) = previous {
                require_all_against_tags(p.layout, &root.digest, &have, p.tags)?;
            }
        }
        let same_layout = spec.reference.path == self.plan.layout
            || working.is_some_and(|w| same_dir(w.layout.root(), layout.root()));
        Ok(Work {
            root,
            new_doc,
            copy_from: if same_layout {
                Vec::new()
            } else {
                vec![(layout.root().to_path_buf(), d)]
            },
            members: Vec::new(),
            remotes: Vec::new(),
            carried: Vec::new(),
        })
    }

    /// `sources:`: an index assembled under the image's merge policy.
    pub(super) fn assemble(
        &self,
        img: &Image,
        specs: Vec<(SourceSpec, Option<Descriptor>)>,
        previous: Option<&Previous<'_>>,
        report: &mut ImageReport,
    ) -> Result<Work> {
        let mut list = authoring::MemberList::new();
        for (s, known) in specs {
            match self.resolve(&s, known) {
                Ok((opened, d)) => {
                    for m in authoring::members_of(&opened.layout, &s, &d, Expand::Flatten)? {
                        list.upsert(m, authoring::AddMode::Replace)?;
                    }
                }
                Err(e) if e.kind == Kind::NoMatch => report.absent.push(s.text.clone()),
                Err(e) => return Err(e),
            }
        }
        let incoming: Vec<Member> = list.into_vec();
        if !report.absent.is_empty()
            && matches!(
                img.policy,
                merge::Policy::RequireAll | merge::Policy::Replace
            )
        {
            return Err(Error::refused(format!(
                "{}: source(s) absent: {}",
                plan::policy_name(img.policy),
                report.absent.join(", ")
            ))
            .with_hint(
                "nothing was written; build the missing parts, or use policy keep-missing to keep the previous ones",
            ));
        }
        // The previous release: the first tag that exists.
        let base = previous.and_then(|p| {
            p.tags
                .iter()
                .find_map(|(r, c)| Some((r, c.as_ref()?, p.layout)))
        });
        let (existing, from) = match base {
            Some((r, c, l)) => (members_now(r, c, l)?, format!("{r}@{}", c.entry.digest)),
            None => (Vec::new(), String::new()),
        };
        let members = merge::apply_policy(img.policy, existing, &incoming, &img.platforms, &from)?;
        if img.policy == merge::Policy::RequireAll {
            if let Some(p) = previous {
                // The other release tags must not lose a platform either.
                for (r, c) in p.tags.iter().skip(1) {
                    if let Some(c) = c {
                        merge::apply_policy(
                            merge::Policy::RequireAll,
                            members_now(r, c, p.layout)?,
                            &incoming,
                            &[],
                            "",
                        )
                        .map_err(|e| e.context(format!("compared with {r}")))?;
                    }
                }
            }
        }
        let carried = carried_entries(&members, &incoming, previous);
        let idx = authoring::compose(None, &members, &img.annotations);
        let bytes = idx.to_bytes();
        let digest = crate::Digest::sha256_of(&bytes);
        report.document = Some("assembled");
        report.platforms = members
            .iter()
            .filter_map(|m| m.key.as_ref().map(PlatformSpec::short))
            .collect();
        Ok(Work {
            root: Descriptor::new(media::OCI_INDEX, &digest, bytes.len() as u64),
            new_doc: Some(bytes),
            copy_from: Vec::new(),
            members: incoming,
            remotes: Vec::new(),
            carried,
        })
    }
}

/// Whether every blob of the graph under `d` is in `layout`.
fn whole(layout: &Layout, d: &Descriptor) -> bool {
    crate::copy::plan(layout, std::slice::from_ref(d)).is_ok_and(|p| {
        p.leaves
            .iter()
            .all(|l| l.digest().is_ok_and(|x| layout.has_blob(&x)))
    })
}

/// Add a tag or push step to the report; a conflicting one is also named in `conflicts`.
fn record_step(step: Step, conflicts: &mut Vec<String>, report: &mut ImageReport) {
    if step.conflict {
        conflicts.push(format!(
            "{} names {}; the plan makes it {}",
            step.target,
            step.previous.as_deref().unwrap_or("?"),
            step.digest.as_deref().unwrap_or("?")
        ));
    }
    report.steps.push(step);
}

/// The document `digest` names in the working layout, when stored there and usable: with
/// `layers: local` its graph must be whole (a run with `layers: remote` may have brought
/// the documents only).
fn stored_whole(
    working: Option<&Opened>,
    digest: &str,
    url: &str,
    layers: plan::Layers,
) -> Result<Option<Descriptor>> {
    let digest = crate::Digest::parse(digest)
        .map_err(|e| e.context(format!("source {url}: the registry's digest")))?;
    Ok(working.and_then(|w| {
        resolve::stored_document(&w.layout, &digest)
            .filter(|d| layers == plan::Layers::Remote || whole(&w.layout, d))
    }))
}

/// The members of the release `r` names now (entry `c`, in layout `l`).
fn members_now(r: &str, c: &Current, l: &Layout) -> Result<Vec<Member>> {
    authoring::current_members(
        l,
        &Some(Current {
            entry: c.entry.clone(),
            index: c.index.clone(),
        }),
        r,
    )
}

/// Entries carried from a published release whose documents are not in the working
/// layout yet: stored with the index (documents and configs only).
fn carried_entries(
    members: &[Member],
    incoming: &[Member],
    previous: Option<&Previous<'_>>,
) -> Vec<Descriptor> {
    members
        .iter()
        .filter(|m| previous.is_some_and(|p| p.published && m.layout.as_path() == p.layout.root()))
        .filter(|m| {
            !incoming
                .iter()
                .any(|i| i.descriptor.digest == m.descriptor.digest)
        })
        .flat_map(|m| std::iter::once(m.descriptor.clone()).chain(m.attestations.clone()))
        .collect()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
