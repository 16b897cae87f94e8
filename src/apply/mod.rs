//! `oix apply PLAN`: a reviewed YAML release plan, carried out idempotently.
//!
//! For each image of the plan (see [`plan`] and docs/plan.md):
//! 1. **Prepare** (pure reads): resolve the source(s); compute the released document —
//!    the source as it is, the source with the plan's annotations set (new bytes, new
//!    digest), or an index assembled from `sources:` under the image's merge policy
//!    against the previous release (what the first `docker://` destination's tags hold
//!    now, read without layers; else the working layout's);
//!    check the expected platforms and the policy; compare every release tag
//!    `NAME:TAG` in the working layout and at every destination with the document's
//!    digest. A tag that exists with other content is a conflict, refused unless
//!    `--force` (or `force: true` on the image). Nothing is written in this phase, and
//!    `--dry-run` stops after it.
//! 2. **Carry out**: per image, fetch `docker://` sources that the layout lacks
//!    (documents and configs; layers only with `layers: local`), copy content from
//!    other layouts and store the new document (blobs only); then set the release tags
//!    of all these images in one [`Layout::transact`], each image all or nothing after
//!    checking that none of its tags moved since step 1; then publish each image to
//!    its destinations through the one store ([`publish`]): copy the graph, set the
//!    names.
//!
//! Images are independent: one refused or failed image does not stop the others
//! (unless `fail_fast`). A second run over the same inputs finds every digest equal and
//! writes nothing: index.json is not rewritten, nothing is pushed.

pub mod annotate;
mod check;
mod compute;
pub mod names;
mod opened;
pub mod plan;
mod platforms;
mod previous;
pub mod publish;
mod referrers_key;
mod release_tags;
pub mod report;
mod resolver;
pub mod upstream;
mod would_carry;

use crate::authoring::{self, Member};
use crate::copy::stores::Carry;
use crate::error::{Error, Kind, Result};
use crate::layout::Layout;
use crate::model::Descriptor;
use opened::Opened;
use plan::{Destination, Image, Plan};
use publish::{open_store, RemoteRef, StoreAt};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

pub use check::{check, CheckReport};
pub use plan::load;
pub use platforms::platforms_of;
pub use report::{ErrorInfo, ImageOutcome, ImageReport, Report, Step, Summary};

/// How to run a plan.
pub struct Options {
    /// Stop after computing the plan.
    pub dry_run: bool,
    /// Only these images (by name); empty = all.
    pub only: Vec<String>,
    /// Leave these images out.
    pub skip: Vec<String>,
    /// Move tags that exist with other content (in the layout and at destinations).
    pub force: bool,
    /// Stop at the first refused or failed image.
    pub fail_fast: bool,
    /// Do not contact or change destinations.
    pub no_push: bool,
    pub lock_timeout: Duration,
    /// Parallel blob transfers to and from registries.
    pub jobs: usize,
    /// Connect and idle timeout for every registry (`oix apply --timeout`), over the
    /// plan destinations' own `timeout`.
    pub timeout: Option<Duration>,
    /// Certificate files for every registry (`--cert-dir`, `--client-cert`, `--client-key`).
    pub tls: crate::store::TlsFiles,
    /// Which referrers travel with the images apply copies (pulls of `docker://`
    /// sources, content from other layouts, pushes to destinations), for every image
    /// (`--no-referrers`, `--referrers-type`); `None`: each image's plan key
    /// `referrers:` decides (all by default).
    pub referrers: Option<crate::copy::stores::Carry>,
}

/// What carrying out one image needs.
#[derive(Debug, Clone)]
struct Work {
    /// The released document's descriptor (no ref.name).
    root: Descriptor,
    /// Bytes of a document oix makes (annotated or assembled), to store.
    new_doc: Option<Vec<u8>>,
    /// Graphs to copy from other layouts first.
    copy_from: Vec<(PathBuf, Descriptor)>,
    /// Members of an assembled index, imported like `oix merge` does.
    members: Vec<Member>,
    /// The registries the release's layers stay in (`docker://` sources with
    /// `layers: remote`): destinations read from them what the layout lacks.
    remotes: Vec<RemoteRef>,
    /// Entries carried over from a published release, whose documents are in the run's
    /// document cache: stored in the working layout with the index.
    carried: Vec<Descriptor>,
}

/// An image after the prepare phase.
struct Prepared {
    report: ImageReport,
    work: Option<Work>,
    /// Remote sources to pull before the image can be computed.
    pulls: Vec<(String, RemoteRef)>,
}

/// A run of a plan: [`Run::prepare`] then [`Run::carry_out`].
///
/// Each layout a run reads (the working layout, layouts sources name) is opened and
/// its index.json parsed once; nothing is written before [`Run::carry_out`], which
/// re-checks under the index lock that no release tag moved in between.
pub struct Run<'a> {
    plan: &'a Plan,
    opts: &'a Options,
    prepared: Vec<Prepared>,
    layouts: RefCell<BTreeMap<PathBuf, Rc<Opened>>>,
    /// A handle on the working layout holding the gc fence from the first write to the
    /// end of the run (see [`Run::writable`]).
    writer: RefCell<Option<Layout>>,
    /// Registry repositories read this run (sources, destinations' tags), by
    /// `HOST/REPO`: one connection (and token) each.
    registries: RefCell<BTreeMap<String, std::sync::Arc<crate::store::Store>>>,
    /// Documents and configs read from registries (published releases), in a layout
    /// in a temporary directory: planning writes nothing to the working layout.
    cache: std::cell::OnceCell<(tempfile::TempDir, Layout)>,
}

impl<'a> Run<'a> {
    /// Compute every selected image's plan (no writes).
    pub fn prepare(plan: &'a Plan, opts: &'a Options) -> Result<Run<'a>> {
        for n in opts.only.iter().chain(&opts.skip) {
            if !plan.images.iter().any(|i| &i.name == n) {
                let names: Vec<&str> = plan.images.iter().map(|i| i.name.as_str()).collect();
                return Err(Error::usage(format!(
                    "no image named {n:?} in {}",
                    plan.path.display()
                ))
                .with_hint(format!("images in the plan: {}", names.join(", "))));
            }
        }
        let mut run = Run {
            plan,
            opts,
            prepared: Vec::new(),
            layouts: RefCell::new(BTreeMap::new()),
            writer: RefCell::new(None),
            registries: RefCell::new(BTreeMap::new()),
            cache: std::cell::OnceCell::new(),
        };
        let pulled = BTreeMap::new();
        let mut prepared = Vec::new();
        for img in plan.images.iter().filter(|i| {
            (opts.only.is_empty() || opts.only.contains(&i.name)) && !opts.skip.contains(&i.name)
        }) {
            prepared.push(run.prepare_image(img, &pulled));
        }
        run.prepared = prepared;
        Ok(run)
    }

    /// The plan as computed (before anything was carried out).
    pub fn planned(&self) -> Vec<&ImageReport> {
        self.prepared.iter().map(|p| &p.report).collect()
    }

    /// Carry the plan out (or, with `dry_run`, only report it):
    /// 1. per image: pull what the layout lacks, copy and store its content (blobs only:
    ///    nothing is visible yet);
    /// 2. one index.json transaction sets the release tags of every image that got
    ///    here — each image all or nothing, after checking its tags did not move;
    /// 3. per image: push to the destinations.
    pub fn carry_out(mut self) -> Report {
        let prepared = std::mem::take(&mut self.prepared);
        let opts = self.opts;
        let mut reports: Vec<ImageReport> = Vec::new();
        let mut ready: Vec<(usize, Work)> = Vec::new();
        // With --fail-fast, a refusal found while planning stops the run before it writes.
        let mut stop = opts.fail_fast
            && prepared.iter().any(|p| {
                matches!(
                    p.report.outcome,
                    ImageOutcome::Refused | ImageOutcome::Failed
                )
            });
        for mut p in prepared {
            let slot = reports.len();
            if matches!(
                p.report.outcome,
                ImageOutcome::Refused | ImageOutcome::Failed
            ) {
                reports.push(p.report);
                continue;
            }
            if stop {
                p.report.outcome = ImageOutcome::Skipped;
                reports.push(p.report);
                continue;
            }
            let has_changes = p.report.has_changes() || !p.pulls.is_empty();
            if opts.dry_run && has_changes {
                match self.would_carry(&p) {
                    Ok((carried, warnings)) => {
                        p.report.referrers = carried;
                        p.report.referrer_warnings = warnings;
                    }
                    Err(e) => {
                        p.report.fail(&e);
                        reports.push(p.report);
                        continue;
                    }
                }
            }
            if opts.dry_run || !has_changes {
                p.report.outcome = if has_changes {
                    ImageOutcome::WouldChange
                } else {
                    ImageOutcome::Unchanged
                };
                reports.push(p.report);
                continue;
            }
            match self.materialize(p) {
                Ok((report, work)) => {
                    reports.push(report);
                    ready.push((slot, work));
                }
                Err(report) => {
                    stop = opts.fail_fast;
                    reports.push(*report);
                }
            }
        }
        if !ready.is_empty() {
            self.set_tags(&ready, &mut reports);
        }
        let mut stop_push = false;
        for (slot, work) in &ready {
            let r = &mut reports[*slot];
            if r.outcome == ImageOutcome::Failed {
                continue;
            }
            if stop_push {
                r.outcome = ImageOutcome::Skipped;
                r.error = Some(ErrorInfo {
                    message: "not pushed: --fail-fast stopped after an earlier failure (its layout tags are set; run again to push)".into(),
                    hint: None,
                    exit_code: Kind::Failure.exit_code(),
                    kind: Kind::Failure,
                });
                continue;
            }
            match self.push(work, r) {
                Ok(()) => r.outcome = ImageOutcome::Changed,
                Err(e) => {
                    r.fail(&e);
                    stop_push = opts.fail_fast;
                }
            }
        }
        let mut r = Report {
            plan: self.plan.path.display().to_string(),
            layout: self.plan.layout.display().to_string(),
            dry_run: opts.dry_run,
            images: reports,
            summary: Summary::default(),
        };
        r.tally();
        r
    }

    /// Fetch a `docker://` source into the working layout, verified, not named: its
    /// documents and configs, and with `layers: local` its layers.
    fn pull(
        &self,
        remote: &RemoteRef,
        layout: &Layout,
        layers: plan::Layers,
        carry: &Carry,
    ) -> Result<Descriptor> {
        let reg = self.registry(remote)?;
        let root = reg
            .names()
            .resolve_name(&publish::wanted(&remote.url)?)?
            .ok_or_else(|| {
                Error::no_match(format!("source {}: the tag does not exist", remote.url))
            })?;
        let opts = crate::copy::CopyOptions {
            jobs: self.settings().jobs,
        };
        let roots = std::slice::from_ref(&root);
        // The source's referrers come along whole (small artifacts: signatures, SBOMs),
        // listed in the working layout so that pushes carry them on.
        let (carried, _) = self.carry(reg.source(), roots, carry)?;
        match layers {
            plan::Layers::Local => crate::copy::copy_graph(reg.source(), layout, roots, &opts)?,
            plan::Layers::Remote => {
                crate::copy::copy_documents(reg.source(), layout, roots, &opts)?
            }
        };
        self.copy_referrers(reg.source(), layout, &carried)?;
        Ok(root)
    }

    /// Which referrers travel with image `index`: [`Options::referrers`] when the run
    /// sets it, else the image's plan key `referrers:`.
    fn carry_of(&self, index: usize) -> Result<Carry> {
        match &self.opts.referrers {
            Some(c) => Ok(c.clone()),
            None => Ok(self.image(index)?.referrers.clone()),
        }
    }

    /// The referrers of the graphs under `roots` in `src` to carry as `c` says.
    fn carry(
        &self,
        src: &dyn crate::store::Source,
        roots: &[Descriptor],
        c: &Carry,
    ) -> Result<(
        Vec<crate::referrers::Carried>,
        Vec<crate::referrers::Warning>,
    )> {
        let filter = crate::referrers::ArtifactFilter {
            types: c.types.clone(),
        };
        crate::referrers::carry(src, roots, c.enabled.then_some(&filter))
    }

    /// Copy carried referrers (whole graphs) from `src` into `layout` and list them there.
    fn copy_referrers(
        &self,
        src: &dyn crate::store::Source,
        layout: &Layout,
        carried: &[crate::referrers::Carried],
    ) -> Result<()> {
        if carried.is_empty() {
            return Ok(());
        }
        let roots = crate::referrers::with_carried(&[], carried);
        let opts = crate::copy::CopyOptions {
            jobs: self.settings().jobs,
        };
        crate::copy::copy_graph(src, layout, &roots, &opts)?;
        crate::referrers::record(layout, carried)?;
        Ok(())
    }

    /// The run's document cache (see [`Run::cache`]'s field), created on first use.
    fn cache(&self) -> Result<&Layout> {
        if self.cache.get().is_none() {
            let dir = tempfile::Builder::new()
                .prefix("oix-apply-")
                .tempdir()
                .map_err(|e| Error::failure(format!("creating a temporary directory: {e}")))?;
            let layout = Layout::init(dir.path().join("documents"))?.0;
            let _ = self.cache.set((dir, layout));
        }
        Ok(&self.cache.get().expect("set above").1)
    }

    /// The working layout for writing (created when missing).
    fn writable(&self) -> Result<Layout> {
        let (l, created) = Layout::init(&self.plan.layout)?;
        if created {
            self.layouts.borrow_mut().remove(&self.plan.layout);
        }
        let l = l.with_lock_timeout(self.opts.lock_timeout);
        // Blobs stored in phase 1 are referenced only by the phase 2 transaction, made
        // through another handle: one handle keeps the gc fence from the first write to
        // the end of the run, so a gc in between cannot delete them.
        if self.writer.borrow().is_none() {
            let w = Layout::open(&self.plan.layout)?.with_lock_timeout(self.opts.lock_timeout);
            w.enter_writer()?;
            *self.writer.borrow_mut() = Some(w);
        }
        Ok(l)
    }

    /// Phase 1 for one image: pull (then plan it again from the pulled content), copy
    /// and store its content. Nothing becomes visible in index.json here.
    fn materialize(
        &self,
        p: Prepared,
    ) -> std::result::Result<(ImageReport, Work), Box<ImageReport>> {
        let Prepared {
            report,
            work,
            pulls,
        } = p;
        let fallback = report.clone();
        let result = (|| -> Result<(ImageReport, Work)> {
            let (work, report) = if pulls.is_empty() {
                (work, report)
            } else {
                let layout = self.writable()?;
                let layers = self.image(report.index)?.layers;
                let carry = self.carry_of(report.index)?;
                let mut pulled = BTreeMap::new();
                let mut steps = Vec::new();
                for (text, remote) in &pulls {
                    let root = self.pull(remote, &layout, layers, &carry)?;
                    steps.push(Step {
                        kind: "pull",
                        action: "pull",
                        target: remote.url.clone(),
                        digest: Some(root.digest.clone()),
                        previous: None,
                        conflict: false,
                        summary: None,
                    });
                    pulled.insert(text.clone(), root);
                }
                let img = self.image(report.index)?;
                let mut again = self.prepare_image(img, &pulled);
                steps.append(&mut again.report.steps);
                again.report.steps = steps;
                if let Some(e) = &again.report.error {
                    let mut err = Error::new(e.kind, e.message.clone());
                    err.hint = e.hint.clone();
                    return Err(err);
                }
                (again.work, again.report)
            };
            let work = work.ok_or_else(|| Error::failure("internal: nothing to carry out"))?;
            self.store(&work, &self.carry_of(report.index)?)?;
            Ok((report, work))
        })();
        result.map_err(|e| {
            let mut r = fallback;
            r.fail(&e);
            Box::new(r)
        })
    }

    fn image(&self, index: usize) -> Result<&Image> {
        self.plan
            .images
            .iter()
            .find(|i| i.index == index)
            .ok_or_else(|| Error::failure("internal: image vanished from the plan"))
    }

    /// Copy content from other layouts and store the new document.
    fn store(&self, work: &Work, carry: &Carry) -> Result<()> {
        let layout = self.writable()?;
        // Before any "already present" check below: gc must not delete what we reuse.
        layout.enter_writer()?;
        for (path, d) in &work.copy_from {
            let src = Layout::open(path)?;
            let roots = std::slice::from_ref(d);
            let (carried, _) = self.carry(&src, roots, carry)?;
            crate::copy::copy_graph(&src, &layout, roots, &Default::default())?;
            self.copy_referrers(&src, &layout, &carried)?;
        }
        if !work.members.is_empty() {
            let (carried, _) = authoring::member_referrers(&layout, &work.members, carry)?;
            authoring::import_members_with(&layout, &work.members, &carried)?;
            let all: Vec<_> = carried.into_values().flatten().collect();
            crate::referrers::record(&layout, &all)?;
        }
        if !work.carried.is_empty() {
            let opts = crate::copy::CopyOptions {
                jobs: self.settings().jobs,
            };
            crate::copy::copy_documents(self.cache()?, &layout, &work.carried, &opts)?;
        }
        if let Some(bytes) = &work.new_doc {
            let want = work.root.digest()?;
            if !layout.has_blob(&want) {
                let got = layout.write_blob_bytes(bytes)?;
                if got != want {
                    return Err(Error::failure(format!(
                        "internal: wrote {got}, planned {want}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Push to every destination the tags it lacks (or, forced, has with other content):
    /// open the destination store, copy the release's graph, set the names.
    fn push(&self, work: &Work, report: &mut ImageReport) -> Result<()> {
        if self.opts.no_push || self.plan.destinations.is_empty() {
            return Ok(());
        }
        let img = self.image(report.index)?;
        let carry = self.carry_of(report.index)?;
        let layout = self.writable()?;
        let settings = self.settings();
        let remotes = work
            .remotes
            .iter()
            .map(|r| self.registry(r))
            .collect::<Result<Vec<_>>>()?;
        let with_remotes = publish::WithRemotes {
            layout: &layout,
            remotes,
        };
        let src: &dyn crate::store::Source = if with_remotes.remotes.is_empty() {
            &layout
        } else {
            &with_remotes
        };
        for d in &self.plan.destinations {
            let wanted = tags_to_push(d, &img.name, &img.tags, report);
            if wanted.is_empty() {
                continue;
            }
            let first = d.target(&img.name, &wanted[0]);
            let repo = d.repository(&img.name);
            let (dst, names) = match d {
                Destination::Layout { path, .. } => {
                    let name = |t: &str| format!("{repo}:{t}");
                    let names = publish::names_for(
                        &layout,
                        &work.root,
                        &wanted,
                        img.arch_tags.as_deref(),
                        &name,
                    )?;
                    (open_store(StoreAt::Layout(path), &settings)?, names)
                }
                Destination::Registry { connection, .. } => {
                    let name = |t: &str| t.to_string();
                    let names = publish::names_for(
                        &layout,
                        &work.root,
                        &wanted,
                        img.arch_tags.as_deref(),
                        &name,
                    )?;
                    let target = RemoteRef {
                        url: first.clone(),
                        connection: connection.clone(),
                    };
                    // Blobs of sources on the same registry are mounted, not copied.
                    let host = publish::repository_of(&first).map(|(h, _)| h);
                    let mount_from = work
                        .remotes
                        .iter()
                        .filter_map(|r| publish::repository_of(&r.url))
                        .filter(|(h, r)| Some(h) == host.as_ref() && *r != repo)
                        .map(|(_, r)| r)
                        .collect();
                    let at = StoreAt::Registry {
                        remote: &target,
                        push: true,
                        mount_from,
                    };
                    (open_store(at, &settings)?, names)
                }
            };
            let summary = publish::publish(src, &work.root, &dst, &names, settings.jobs, &carry)?;
            // The summary goes with the first push step of this destination.
            if let Some(s) = report
                .steps
                .iter_mut()
                .find(|s| s.kind == "push" && s.target == first)
            {
                s.summary = Some(summary);
            }
        }
        Ok(())
    }
}

/// The tags of image `name` the plan pushes to `d`: those whose push step in `report`
/// is a change.
fn tags_to_push(d: &Destination, name: &str, tags: &[String], report: &ImageReport) -> Vec<String> {
    tags.iter()
        .filter(|t| {
            let target = d.target(name, t);
            report
                .steps
                .iter()
                .any(|s| s.kind == "push" && s.target == target && s.is_change())
        })
        .cloned()
        .collect()
}
