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
mod compute;
pub mod names;
pub mod plan;
pub mod publish;
pub mod report;
mod resolver;
pub mod srcref;

use crate::authoring::{self, Member};
use crate::error::{Error, Kind, Result};
use crate::layout::Layout;
use crate::model::{Descriptor, Index};
use crate::platform::{entry_platform, Fallbacks, MatchMode, PlatformSpec};
use crate::reference::LayoutRef;
use crate::resolve;
use plan::{Destination, Image, Plan, SourceRef, Sources};
use publish::{open_store, RemoteRef, Settings, StoreAt};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

pub use plan::load;
pub use report::{ErrorInfo, ImageReport, Outcome, Report, Step, Summary};

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
    /// sources, content from other layouts, pushes to destinations); by default all.
    pub referrers: crate::copy::stores::Carry,
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

/// A layout opened once per run, with its index.json as read then (indexed by ref name
/// and digest: many sources and tags in one layout cost O(N + k)).
struct Opened {
    layout: Layout,
    names: crate::resolve::Names,
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
            && prepared
                .iter()
                .any(|p| matches!(p.report.outcome, Outcome::Refused | Outcome::Failed));
        for mut p in prepared {
            let slot = reports.len();
            if matches!(p.report.outcome, Outcome::Refused | Outcome::Failed) {
                reports.push(p.report);
                continue;
            }
            if stop {
                p.report.outcome = Outcome::Skipped;
                reports.push(p.report);
                continue;
            }
            let has_changes = p.report.has_changes() || !p.pulls.is_empty();
            if opts.dry_run || !has_changes {
                p.report.outcome = if has_changes {
                    Outcome::WouldChange
                } else {
                    Outcome::Unchanged
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
            if r.outcome == Outcome::Failed {
                continue;
            }
            if stop_push {
                r.outcome = Outcome::Skipped;
                r.error = Some(ErrorInfo {
                    message: "not pushed: --fail-fast stopped after an earlier failure (its layout tags are set; run again to push)".into(),
                    hint: None,
                    exit_code: Kind::Failure.exit_code(),
                    kind: Kind::Failure,
                });
                continue;
            }
            match self.push(work, r) {
                Ok(()) => r.outcome = Outcome::Changed,
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

    /// The layout at `path`, opened and its index read once per run; `None` when the
    /// directory is not a layout yet (only tolerated for the working layout).
    fn opened(&self, path: &Path) -> Result<Option<Rc<Opened>>> {
        if let Some(o) = self.layouts.borrow().get(path) {
            return Ok(Some(o.clone()));
        }
        if path == self.plan.layout && !path.join(crate::layout::OCI_LAYOUT_FILE).exists() {
            return Ok(None);
        }
        let layout = Layout::open(path)?.with_lock_timeout(self.opts.lock_timeout);
        let names = crate::resolve::Names::read(&layout)?;
        let o = Rc::new(Opened { layout, names });
        self.layouts
            .borrow_mut()
            .insert(path.to_path_buf(), o.clone());
        Ok(Some(o))
    }

    fn remote(&self, url: &str, host: &str) -> RemoteRef {
        RemoteRef {
            url: url.to_string(),
            connection: self.plan.connection_for(host),
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            jobs: self.opts.jobs.max(1),
            timeout: self.opts.timeout,
            lock_timeout: self.opts.lock_timeout,
            tls: self.opts.tls.clone(),
        }
    }

    /// The registry repository of `remote`, opened for reading once per run.
    fn registry(&self, remote: &RemoteRef) -> Result<std::sync::Arc<crate::store::Store>> {
        let key = publish::repository_of(&remote.url)
            .map(|(h, r)| format!("{h}/{r}"))
            .unwrap_or_else(|| remote.url.clone());
        if let Some(o) = self.registries.borrow().get(&key) {
            return Ok(o.clone());
        }
        let at = StoreAt::Registry {
            remote,
            push: false,
            mount_from: Vec::new(),
        };
        let o = std::sync::Arc::new(open_store(at, &self.settings())?);
        self.registries.borrow_mut().insert(key, o.clone());
        Ok(o)
    }

    /// What the tag or digest of `remote` names now (a HEAD; nothing downloaded).
    fn resolve_remote(&self, remote: &RemoteRef) -> Result<Option<Descriptor>> {
        self.registry(remote)?
            .names()
            .resolve_name(&publish::wanted(&remote.url)?)
    }

    /// Fetch a `docker://` source into the working layout, verified, not named: its
    /// documents and configs, and with `layers: local` its layers.
    fn pull(
        &self,
        remote: &RemoteRef,
        layout: &Layout,
        layers: plan::Layers,
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
        let (carried, _) = self.carry(reg.source(), roots)?;
        match layers {
            plan::Layers::Local => crate::copy::copy_graph(reg.source(), layout, roots, &opts)?,
            plan::Layers::Remote => {
                crate::copy::copy_documents(reg.source(), layout, roots, &opts)?
            }
        };
        self.copy_referrers(reg.source(), layout, &carried)?;
        Ok(root)
    }

    /// The referrers of the graphs under `roots` in `src` to carry ([`Options::referrers`]).
    fn carry(
        &self,
        src: &dyn crate::store::Source,
        roots: &[Descriptor],
    ) -> Result<(
        Vec<crate::referrers::Carried>,
        Vec<crate::referrers::Warning>,
    )> {
        let c = &self.opts.referrers;
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
                let mut pulled = BTreeMap::new();
                let mut steps = Vec::new();
                for (text, remote) in &pulls {
                    let root = self.pull(remote, &layout, layers)?;
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
            self.store(&work)?;
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
    fn store(&self, work: &Work) -> Result<()> {
        let layout = self.writable()?;
        // Before any "already present" check below: gc must not delete what we reuse.
        layout.enter_writer()?;
        for (path, d) in &work.copy_from {
            let src = Layout::open(path)?;
            let roots = std::slice::from_ref(d);
            let (carried, _) = self.carry(&src, roots)?;
            crate::copy::copy_graph(&src, &layout, roots, &Default::default())?;
            self.copy_referrers(&src, &layout, &carried)?;
        }
        if !work.members.is_empty() {
            let (carried, _) =
                authoring::member_referrers(&layout, &work.members, &self.opts.referrers)?;
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

    /// Phase 2: the release tags of every ready image in one index.json transaction.
    /// Each image's tags must still be as planned (else that image fails and sets none);
    /// the others are set all together.
    fn set_tags(&self, ready: &[(usize, Work)], reports: &mut [ImageReport]) {
        let layout = match self.writable() {
            Ok(l) => l,
            Err(e) => {
                for (slot, _) in ready.iter() {
                    reports[*slot].fail(&e);
                }
                return;
            }
        };
        let plan: Vec<(usize, Descriptor, Vec<Step>)> = ready
            .iter()
            .map(|(slot, w)| {
                let steps = reports[*slot]
                    .steps
                    .iter()
                    .filter(|s| s.kind == "tag")
                    .cloned()
                    .collect();
                (*slot, w.root.clone(), steps)
            })
            .collect();
        let result = layout.transact(|idx| {
            let mut moved: Vec<(usize, Error)> = Vec::new();
            for (slot, root, steps) in &plan {
                if !steps.iter().any(Step::is_change) {
                    continue;
                }
                if let Err(e) = check_unmoved(idx, steps) {
                    moved.push((*slot, e));
                    continue;
                }
                for s in steps.iter().filter(|s| s.is_change()) {
                    if let Err(e) = crate::tags::set_ref(idx, root, &s.target) {
                        // set_ref only fails on an invalid name, which planning refused.
                        moved.push((*slot, e));
                        break;
                    }
                }
            }
            Ok(moved)
        });
        match result {
            Ok((moved, _)) => {
                for (slot, e) in moved {
                    reports[slot].fail(&e);
                }
            }
            Err(e) => {
                for (slot, _) in ready.iter() {
                    reports[*slot].fail(&e);
                }
            }
        }
    }

    /// Push to every destination the tags it lacks (or, forced, has with other content):
    /// open the destination store, copy the release's graph, set the names.
    fn push(&self, work: &Work, report: &mut ImageReport) -> Result<()> {
        if self.opts.no_push || self.plan.destinations.is_empty() {
            return Ok(());
        }
        let img = self.image(report.index)?;
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
            let wanted: Vec<String> = img
                .tags
                .iter()
                .filter(|t| {
                    let target = d.target(&img.name, t);
                    report
                        .steps
                        .iter()
                        .any(|s| s.kind == "push" && s.target == target && s.is_change())
                })
                .cloned()
                .collect();
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
            let summary = publish::publish(
                src,
                &work.root,
                &dst,
                &names,
                settings.jobs,
                &self.opts.referrers,
            )?;
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

/// Every tag step of an image still finds index.json as planned.
fn check_unmoved(idx: &Index, steps: &[Step]) -> Result<()> {
    for s in steps {
        let now: Vec<String> = idx
            .manifests
            .iter()
            .filter(|d| d.ref_name() == Some(s.target.as_str()))
            .map(|d| d.digest.clone())
            .collect();
        let expected: Vec<String> = match s.action {
            "create" => Vec::new(),
            "unchanged" => s.digest.iter().cloned().collect(),
            _ => s.previous.iter().cloned().collect(),
        };
        if now != expected {
            let show = |v: &[String]| {
                if v.is_empty() {
                    "absent".to_string()
                } else {
                    v.join(", ")
                }
            };
            return Err(Error::failure(format!(
                "{} changed while applying (planned from {}, now {}); no tag of this image was set",
                s.target,
                show(&expected),
                show(&now)
            ))
            .with_hint("another process edits this layout; run oix apply again"));
        }
    }
    Ok(())
}

/// The step for one tag: `create` when absent, `unchanged` when it names `digest`,
/// else `move` (a conflict unless forced).
fn tag_step(
    kind: &'static str,
    target: String,
    digest: &str,
    now: Option<String>,
    force: bool,
) -> Step {
    let (action, previous, conflict) = match now {
        None => ("create", None, false),
        Some(d) if d == digest => ("unchanged", None, false),
        Some(d) => ("move", Some(d), !force),
    };
    Step {
        kind,
        action,
        target,
        digest: Some(digest.to_string()),
        previous,
        conflict,
        summary: None,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn contains(have: &[PlatformSpec], want: &PlatformSpec) -> bool {
    have.iter().any(|h| {
        want.check(h, MatchMode::Exact, Fallbacks::default())
            .is_some()
    })
}

/// The platforms of an image (one) or of an index's runnable entries.
pub fn platforms_of(layout: &Layout, d: &Descriptor) -> Vec<PlatformSpec> {
    if d.is_manifest() {
        return entry_platform(layout, d)
            .map(|p| vec![p.spec()])
            .unwrap_or_default();
    }
    let Ok(entries) = crate::graph::entries_of(layout, d) else {
        return Vec::new();
    };
    let mut out: Vec<PlatformSpec> = Vec::new();
    for c in entries.iter().filter(|c| !c.is_attestation()) {
        if let Some(p) = entry_platform(layout, c) {
            let s = p.spec();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// The result of `oix plan check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub plan: String,
    pub ok: bool,
    pub images: usize,
    /// Release tags declared (NAME:TAG pairs).
    pub tags: usize,
    pub destinations: usize,
    /// Layout sources resolved to exactly one image or index.
    pub sources_checked: usize,
    /// Source layout directories that do not exist (yet): the plan is checked, these
    /// sources are not; they are resolved when the layout exists.
    pub layouts_absent: Vec<String>,
    pub problems: Vec<plan::Problem>,
}

/// `oix plan check PLAN`: the file against the schema and the grammars, and the files
/// the destinations name present; then, for each layout source whose layout directory
/// exists, that the source resolves to exactly one image or index. A layout that does not
/// exist yet (the plan is checked before the builds ran) is listed in `layouts_absent`,
/// not a problem. Registries are not contacted.
pub fn check(path: &Path) -> Result<CheckReport> {
    let text = {
        let bytes = crate::layout::read_limited(path, plan::MAX_PLAN_SIZE)
            .map_err(|e| e.with_hint("give the path of a plan file (YAML, see docs/plan.md)"))?;
        String::from_utf8(bytes).map_err(|_| {
            Error::failure(format!("{}: the plan is not UTF-8 text", path.display()))
        })?
    };
    let file = path.display().to_string();
    let p = match plan::parse(path, &text) {
        Ok(p) => p,
        Err(problems) => {
            return Ok(CheckReport {
                plan: file,
                ok: false,
                images: 0,
                tags: 0,
                destinations: 0,
                sources_checked: 0,
                layouts_absent: Vec::new(),
                problems,
            })
        }
    };
    let mut problems = Vec::new();
    let mut sources_checked = 0;
    let mut layouts_absent: Vec<String> = Vec::new();
    let problem =
        |line: u64, column: u64, image: Option<String>, section: Option<String>, e: Error| {
            plan::Problem {
                file: file.clone(),
                line,
                column,
                image,
                section,
                message: e.message,
                hint: e.hint,
            }
        };
    for (i, d) in p.destinations.iter().enumerate() {
        if let Destination::Registry {
            connection,
            position,
            url,
            ..
        } = d
        {
            for (key, f) in [
                ("ca_cert", &connection.ca_cert),
                ("authfile", &connection.authfile),
            ] {
                if let Some(f) = f {
                    if !f.is_file() {
                        problems.push(problem(
                            position.line,
                            position.column,
                            None,
                            Some(format!("destinations[{i}] ({url})")),
                            Error::failure(format!("{key} {} is not a file", f.display())),
                        ));
                    }
                }
            }
        }
    }
    for img in &p.images {
        let list: Vec<&SourceRef> = match &img.sources {
            Sources::One(s) => vec![s],
            Sources::Assemble(v) => v.iter().collect(),
        };
        for s in list {
            let SourceRef::Layout {
                text, reference, ..
            } = s
            else {
                continue;
            };
            let path = if reference.path.as_os_str().is_empty() {
                p.layout.clone()
            } else {
                reference.path.clone()
            };
            if !path.exists() && path.symlink_metadata().is_err() {
                let shown = path.display().to_string();
                if !layouts_absent.contains(&shown) {
                    layouts_absent.push(shown);
                }
                continue;
            }
            sources_checked += 1;
            let r = Layout::open(&path).and_then(|l| {
                let found = resolve::resolve_one(
                    &l,
                    &LayoutRef {
                        path: path.clone(),
                        target: reference.target.clone(),
                    },
                )?;
                let d = found.descriptor;
                if d.is_manifest() || d.is_index() {
                    Ok(())
                } else {
                    Err(Error::failure(format!(
                        "{} is a {}, not an image or index",
                        d.digest, d.media_type
                    )))
                }
            });
            if let Err(e) = r {
                problems.push(problem(
                    img.position.line,
                    img.position.column,
                    Some(format!("{:?} (images[{}])", img.name, img.index)),
                    None,
                    e.context(format!("source {text}")),
                ));
            }
        }
    }
    Ok(CheckReport {
        plan: file,
        ok: problems.is_empty(),
        images: p.images.len(),
        tags: p.images.iter().map(|i| i.tags.len()).sum(),
        destinations: p.destinations.len(),
        sources_checked,
        layouts_absent,
        problems,
    })
}
