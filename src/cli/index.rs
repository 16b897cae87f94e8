//! index create/add, merge, diff.

use super::output::{errln, outln};
use super::registry::TransportArgs;
use super::{output, Ctx};
use crate::authoring::{self, diff, merge, AddMode, EditOptions, Outcome, SourceSpec};
use crate::error::{ExitCode, Result};
use crate::platform::PlatformSpec;
use crate::reference::LayoutRef;
use crate::select::{AmbiguityArgs, SelectorArgs};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Create an index from images (REF moves to the new index).
    Create(CreateArgs),
    /// Add or replace entries of an index, keyed on platform; creates it when missing.
    Add(AddArgs),
    /// Remove the entries a selector chooses (with their attestations).
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The index to edit: LAYOUT:REF, or docker://HOST/REPO:TAG (only manifests and
    /// configs are read; the new index is PUT, then TAG).
    pub dest: String,
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten)]
    pub ambiguity: AmbiguityArgs,
    /// Show what would be removed without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 6 when index.json changed (or would change).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten, next_help_heading = super::select::REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = ANNOTATE_HELP)]
pub struct AnnotateArgs {
    /// LAYOUT:REF (or LAYOUT@DIGEST of a top-level entry), or docker://HOST/REPO:TAG
    /// with --platform/--where (descriptors of TAG's index entries; the new index is
    /// PUT, then TAG).
    pub reference: String,
    /// Set an annotation (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Remove an annotation (repeatable).
    #[arg(long = "unset", value_name = "KEY")]
    pub unset: Vec<String>,
    /// Edit the annotations inside the chosen manifests (their digests change, and every
    /// parent up to index.json is rewritten) instead of on their descriptors.
    #[arg(long)]
    pub manifest: bool,
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten)]
    pub ambiguity: AmbiguityArgs,
    /// Show what would change without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 6 when index.json changed (or would change).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten, next_help_heading = super::select::REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

pub const ANNOTATE_HELP: &str = "\
Where the annotations go:
  no --platform/--where    on the document REF names (its `annotations` field)
  --platform/--where       on the descriptors of the chosen entries (all matches unless
                           --on-ambiguity says otherwise)
  ... --manifest           inside the chosen manifests or indexes
Every edit gives the edited document a new digest; its parents up to index.json are
re-pointed in one transaction, and attestations follow the entry they describe.
Annotations of an index never apply to its children.
On a registry (docker://HOST/REPO:TAG) only descriptors of TAG's own entries are
edited (--platform/--where required, no --manifest); only manifests and configs
are read.";

fn edit_report(ctx: &Ctx, o: &authoring::EditReport, detailed: bool) -> i32 {
    if ctx.json {
        output::json(o);
    } else {
        outln!("{}", o.digest);
        for d in &o.removed {
            outln!("{} {d}", if o.dry_run { "would remove" } else { "removed" });
        }
        for r in &o.rewritten {
            outln!(
                "{} {} -> {}",
                if o.dry_run {
                    "would rewrite"
                } else {
                    "rewrote"
                },
                r.from,
                r.to
            );
        }
    }
    ExitCode::changed_if(detailed, o.changed).code()
}

pub fn annotate(ctx: &Ctx, a: AnnotateArgs) -> Result<i32> {
    if let Some(e) = registry_edit(ctx, &a.reference, &[], &[], None, &a.transport)? {
        if a.manifest {
            return Err(crate::Error::usage(
                "--manifest is not available on a registry: it would rewrite the manifests",
            )
            .with_hint("pull the release, annotate in the layout, push it"));
        }
        let set = authoring::parse_annotations(&a.set)?;
        let selector = a.ambiguity.apply(a.selector.to_selector()?);
        let o = authoring::annotate_store(
            e.dest.as_ref(),
            &e.tag,
            &selector,
            a.ambiguity.on_ambiguity.is_some(),
            &set,
            &a.unset,
            a.dry_run,
            a.transport.jobs,
        )?;
        return Ok(edit_report(ctx, &o, a.detailed_exitcode));
    }
    let r = LayoutRef::parse(&a.reference)?;
    let layout = ctx.open(&r.path)?;
    let set = authoring::parse_annotations(&a.set)?;
    let selector = a.selector.to_selector()?;
    let selector = a.ambiguity.apply(selector);
    let given = a.ambiguity.on_ambiguity.is_some();
    if a.manifest && a.selector.is_empty() {
        return Err(crate::Error::usage(
            "--manifest needs --platform or --where to choose the manifests",
        )
        .with_hint("without a selector, annotate already edits the document REF names"));
    }
    let o = authoring::annotate(
        &layout,
        &r,
        Some((&selector, given)),
        a.manifest,
        &set,
        &a.unset,
        a.dry_run,
    )?;
    Ok(edit_report(ctx, &o, a.detailed_exitcode))
}

/// Flags shared by the editing commands.
#[derive(Debug, Args)]
pub struct EditFlags {
    /// Set an annotation on the index (repeatable).
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it.
    #[arg(long, value_name = "TIME")]
    pub created: Option<String>,
    /// Show the resulting changes without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 6 when index.json changed (or, with --dry-run, would change).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Write a SRC=PLATFORM whose os or architecture is not a known GOOS/GOARCH value.
    #[arg(long)]
    pub allow_unknown_platform: bool,
    /// Write a SRC=PLATFORM that disagrees with the image's config.
    #[arg(long)]
    pub force_platform: bool,
    /// Do not hash blobs taken from other layouts (sizes are still checked; links still
    /// need a source file owned by you and not writable by group or others).
    #[arg(long)]
    pub trust_source: bool,
    /// Referrers of entries taken from other layouts (layout destinations).
    #[command(flatten)]
    pub referrers: super::registry::ReferrerArgs,
    /// The index written, and its children, in one format (docs/convert.md).
    #[command(flatten)]
    pub convert: super::registry::FixedConvertArgs,
}

impl EditFlags {
    /// [`EditFlags::options`] for an edit of a registry index, which writes the index
    /// as composed: `--manifest-format` is refused there.
    fn registry_options(&self, flatten: bool) -> Result<EditOptions> {
        let o = self.options(flatten)?;
        if o.convert.is_some() {
            return Err(crate::Error::usage(
                "--manifest-format converts indexes written into a layout; a registry index edit writes an OCI index",
            )
            .with_hint("edit a layout with --manifest-format, then push it, or push with --manifest-format"));
        }
        Ok(o)
    }

    fn options(&self, flatten: bool) -> Result<EditOptions> {
        let mut annotations = authoring::parse_annotations(&self.annotations)?;
        if let Some(c) = authoring::created_annotation(self.created.as_deref())? {
            annotations.insert("org.opencontainers.image.created".into(), c);
        }
        Ok(EditOptions {
            annotations,
            dry_run: self.dry_run,
            flatten,
            referrers: self.referrers.carry(),
            convert: self.convert.fixed_request("index editing")?,
        })
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The index to write: LAYOUT:REF (the layout is created if missing).
    pub dest: String,
    /// Images: LAYOUT:REF, LAYOUT@DIGEST, optionally `=os/arch[/variant]` to set the platform.
    #[arg(required = true)]
    pub sources: Vec<String>,
    /// Platform per source, in order (instead of SRC=PLATFORM).
    #[arg(long = "platform", value_name = "PLATFORM")]
    pub platforms: Vec<String>,
    /// Inline the entries of index sources instead of nesting them.
    #[arg(long)]
    pub flatten: bool,
    #[command(flatten)]
    pub edit: EditFlags,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The index to edit: LAYOUT:REF (created when missing), or docker://HOST/REPO:TAG
    /// (the registry's index; only manifests and configs are read, only what the
    /// registry lacks is uploaded).
    pub dest: String,
    /// Images to add: LAYOUT:REF, LAYOUT@DIGEST, optionally `=os/arch[/variant]`; with a
    /// registry DEST also docker://HOST/REPO:TAG (mounted when on DEST's registry).
    #[arg(required = true)]
    pub sources: Vec<String>,
    /// Platform per source, in order (instead of SRC=PLATFORM).
    #[arg(long = "platform", value_name = "PLATFORM")]
    pub platforms: Vec<String>,
    /// What to do when an entry for the same platform exists.
    #[arg(long, value_enum, default_value = "replace")]
    pub mode: AddMode,
    /// Inline the entries of index sources instead of nesting them.
    #[arg(long)]
    pub flatten: bool,
    #[command(flatten)]
    pub edit: EditFlags,
    #[command(flatten, next_help_heading = super::select::REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

/// A registry index being edited: the opened repository, TAG and the edit's sources.
struct RegistryEdit {
    dest: Box<dyn crate::publish::Destination>,
    tag: String,
    sources: Vec<authoring::remote::EditSource>,
}

/// The registry edit `dest` asks for, when it is `docker://HOST/REPO:TAG`: every store
/// goes through the one opener; registry sources on the destination's registry are
/// mounted from (`--mount-from`), layout sources parsed as in layouts.
fn registry_edit(
    ctx: &Ctx,
    dest: &str,
    texts: &[String],
    platforms: &[String],
    edit: Option<&EditFlags>,
    transport: &TransportArgs,
) -> Result<Option<RegistryEdit>> {
    use crate::reference::Reference;
    use crate::store::{Access, Store};
    if !dest.starts_with("docker://") {
        return Ok(None);
    }
    let Reference::Registry(r) = Reference::parse(dest)? else {
        return Ok(None);
    };
    let tag = match (&r.tag, &r.digest) {
        (Some(t), None) => t.clone(),
        _ => {
            return Err(crate::Error::usage(format!(
                "{dest}: the destination must name the tag to edit"
            ))
            .with_hint("write docker://HOST/REPO:TAG"))
        }
    };
    let read = crate::store::Connect {
        lock_timeout: Some(ctx.lock_timeout),
        ..transport.connect()?
    };
    let mut write = read.clone();
    let mut sources = Vec::new();
    let registry_sources = texts.iter().any(|t| t.starts_with("docker://"));
    if registry_sources && !platforms.is_empty() {
        return Err(
            crate::Error::usage("--platform per source is for layout sources only")
                .with_hint("write LAYOUT:REF=os/arch on each layout source"),
        );
    }
    for t in texts {
        if !t.starts_with("docker://") {
            // Layout sources are parsed together, so that --platform values pair up.
            continue;
        }
        let reference = Reference::parse(t)?;
        if let Reference::Registry(s) = &reference {
            if s.host == r.host && s.repo != r.repo && !write.mount_from.contains(&s.repo) {
                write.mount_from.push(s.repo.clone());
            }
        }
        let opened = crate::store::open(&reference, Access::Read, &read)?;
        let Store::Registry(store) = opened.store else {
            return Err(crate::Error::usage(format!("source {t}: not a registry")));
        };
        sources.push(Some(authoring::remote::EditSource::Store {
            text: t.clone(),
            store,
            target: opened.target,
        }));
    }
    let layout_texts: Vec<String> = texts
        .iter()
        .filter(|t| !t.starts_with("docker://"))
        .cloned()
        .collect();
    let mut layout_specs = sources_of(&layout_texts, platforms, edit)?.into_iter();
    let mut registry_opened = std::mem::take(&mut sources).into_iter();
    // In the order given: later sources win per platform.
    let sources: Vec<authoring::remote::EditSource> = texts
        .iter()
        .filter_map(|t| {
            if t.starts_with("docker://") {
                registry_opened.next().flatten()
            } else {
                layout_specs
                    .next()
                    .map(|s| authoring::remote::EditSource::Layout(Box::new(s)))
            }
        })
        .collect();
    let opened = crate::store::open(&Reference::Registry(r), Access::Write, &write)?;
    let Store::Registry(dest) = opened.store else {
        return Ok(None);
    };
    Ok(Some(RegistryEdit { dest, tag, sources }))
}

/// [`sources`] with the edit flags when the command has them.
fn sources_of(
    texts: &[String],
    platforms: &[String],
    edit: Option<&EditFlags>,
) -> Result<Vec<SourceSpec>> {
    match edit {
        Some(e) => sources(texts, platforms, e),
        None => texts.iter().map(|t| SourceSpec::parse(t)).collect(),
    }
}

fn sources(texts: &[String], platforms: &[String], edit: &EditFlags) -> Result<Vec<SourceSpec>> {
    let mut s: Vec<SourceSpec> = texts
        .iter()
        .map(|t| SourceSpec::parse(t))
        .collect::<Result<_>>()?;
    SourceSpec::apply_platform_flags(&mut s, platforms)?;
    for spec in &mut s {
        spec.allow_unknown_platform = edit.allow_unknown_platform;
        spec.force_platform = edit.force_platform;
        spec.check_platform()?;
    }
    Ok(s)
}

fn report(ctx: &Ctx, o: &Outcome, detailed: bool) -> i32 {
    if ctx.json {
        output::json(o);
    } else {
        outln!("{}", o.digest);
        let state = match (o.dry_run, o.changed || !o.diff.is_empty()) {
            (true, true) => "would change",
            (true, false) => "unchanged",
            (false, _) if o.changed => "written",
            _ => "unchanged",
        };
        outln!("{} {state}", o.ref_name);
        for l in diff::render(&o.diff) {
            outln!("{}", crate::text::escape(&l));
        }
        super::archive::print_referrers(&o.referrers, &o.referrer_warnings, o.dry_run);
        super::registry::print_converted(&o.converted, &o.dropped);
        for w in &o.warnings {
            errln!("warning: {}", crate::text::escape(w));
        }
    }
    let changed = o.changed || (o.dry_run && !o.diff.is_empty());
    ExitCode::changed_if(detailed, changed).code()
}

pub fn run(ctx: &Ctx, cmd: IndexCommand) -> Result<i32> {
    match cmd {
        IndexCommand::Create(a) => {
            let src = sources(&a.sources, &a.platforms, &a.edit)?;
            let (dest, name) = authoring::open_dest(&a.dest, ctx.lock_timeout, !a.edit.dry_run)?;
            let dest = dest.trusting_sources(a.edit.trust_source);
            let o = authoring::create(&dest, &name, &src, &a.edit.options(a.flatten)?)?;
            Ok(report(ctx, &o, a.edit.detailed_exitcode))
        }
        IndexCommand::Rm(a) => {
            if let Some(e) = registry_edit(ctx, &a.dest, &[], &[], None, &a.transport)? {
                let selector = a.ambiguity.apply(a.selector.to_selector()?);
                let o = authoring::remove_store(
                    e.dest.as_ref(),
                    &e.tag,
                    &selector,
                    a.ambiguity.on_ambiguity.is_some(),
                    a.dry_run,
                    a.transport.jobs,
                )?;
                return Ok(edit_report(ctx, &o, a.detailed_exitcode));
            }
            let r = LayoutRef::parse(&a.dest)?;
            r.require_name()?;
            let layout = ctx.open(&r.path)?;
            let selector = a.ambiguity.apply(a.selector.to_selector()?);
            let o = authoring::remove(
                &layout,
                &r,
                &selector,
                a.ambiguity.on_ambiguity.is_some(),
                a.dry_run,
            )?;
            Ok(edit_report(ctx, &o, a.detailed_exitcode))
        }
        IndexCommand::Add(a) => {
            if let Some(e) = registry_edit(
                ctx,
                &a.dest,
                &a.sources,
                &a.platforms,
                Some(&a.edit),
                &a.transport,
            )? {
                let o = authoring::add_store(
                    e.dest.as_ref(),
                    &e.tag,
                    &e.sources,
                    a.mode,
                    &a.edit.registry_options(a.flatten)?,
                    a.transport.jobs,
                )?;
                return Ok(report(ctx, &o, a.edit.detailed_exitcode));
            }
            let src = sources(&a.sources, &a.platforms, &a.edit)?;
            let (dest, name) = authoring::open_dest(&a.dest, ctx.lock_timeout, !a.edit.dry_run)?;
            let dest = dest.trusting_sources(a.edit.trust_source);
            let o = authoring::add(&dest, &name, &src, a.mode, &a.edit.options(a.flatten)?)?;
            Ok(report(ctx, &o, a.edit.detailed_exitcode))
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The index to write: LAYOUT:REF (the layout is created if missing), or
    /// docker://HOST/REPO:TAG: the registry's TAG is then the previous release (only
    /// its manifests and configs are read) and only what the registry lacks is uploaded.
    pub dest: String,
    /// Images or indexes to merge (their entries are taken one by one); with a registry
    /// DEST also docker://HOST/REPO:TAG (mounted when on DEST's registry).
    #[arg(required = true)]
    pub sources: Vec<String>,
    /// union | replace | keep-missing | require-all (see the description).
    #[arg(long, value_enum)]
    pub policy: merge::Policy,
    /// Platforms the result must hold (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "PLATFORM")]
    pub expect: Vec<String>,
    /// Take only the source entries these filters pick (the selector of `oix select`).
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten)]
    pub edit: EditFlags,
    #[command(flatten, next_help_heading = super::select::REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

pub const MERGE_HELP: &str = "\
Policies:
  union         the existing DEST:REF entries and every source's entries; later wins per platform
  replace       exactly the sources' platforms
  keep-missing  the sources' entries plus existing entries for platforms the sources lack,
                annotated dev.oix.merge.carried-from=REF@<previous index digest>
  require-all   refuse (exit 5, nothing written) when the sources lack a platform the existing
                DEST:REF has or --expect names; every missing platform is listed
Platforms are compared after normalization (arm64 = arm64/v8, x86_64 = amd64).
Attestations travel with the entry they describe. With --platform/--where, only the
source entries the selector picks are taken (the candidates of `oix select`; see
docs/selection.md).";

pub fn merge(ctx: &Ctx, a: MergeArgs) -> Result<i32> {
    if let Some(e) = registry_edit(ctx, &a.dest, &a.sources, &[], Some(&a.edit), &a.transport)? {
        let expect: Vec<PlatformSpec> = a
            .expect
            .iter()
            .map(|p| PlatformSpec::parse(p))
            .collect::<Result<_>>()?;
        let opts = a.edit.registry_options(false)?;
        let o = merge::merge_store(
            e.dest.as_ref(),
            &e.tag,
            &e.sources,
            a.policy,
            &expect,
            &opts.annotations,
            Some(&a.selector.to_selector()?),
            opts.dry_run,
            a.transport.jobs,
            &opts.referrers,
        )?;
        return Ok(report(ctx, &o, a.edit.detailed_exitcode));
    }
    let src = sources(&a.sources, &[], &a.edit)?;
    let (dest, name) = authoring::open_dest(&a.dest, ctx.lock_timeout, !a.edit.dry_run)?;
    let dest = dest.trusting_sources(a.edit.trust_source);
    let expect: Vec<PlatformSpec> = a
        .expect
        .iter()
        .map(|p| PlatformSpec::parse(p))
        .collect::<Result<_>>()?;
    let opts = a.edit.options(false)?;
    let o = merge::merge(
        &dest,
        &name,
        &src,
        a.policy,
        &expect,
        Some(&a.selector.to_selector()?),
        &opts,
    )?;
    Ok(report(ctx, &o, a.edit.detailed_exitcode))
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: LAYOUT:REF or LAYOUT@DIGEST (an index or an image), or
    /// docker://HOST/REPO[:TAG|@DIGEST] (no tag: latest). `oix diff LAYOUT:1.0
    /// docker://HOST/REPO:1.0` compares a release with what the registry serves as 1.0:
    /// what pushing it would change there. Only manifests and configs are read.
    pub a: String,
    /// The new side (any store, as A).
    pub b: String,
    /// Exit 6 when they differ.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten, next_help_heading = super::select::REGISTRY_HEADING)]
    pub transport: super::registry::TransportArgs,
}

pub fn diff(ctx: &Ctx, a: DiffArgs) -> Result<i32> {
    let x = super::select::open_read(ctx, &a.a, &a.transport)?;
    let y = super::select::open_read(ctx, &a.b, &a.transport)?;
    let d = diff::diff_stores((x.names(), &x.r), (y.names(), &y.r))?;
    if ctx.json {
        output::json(&d);
    } else {
        for l in diff::render(&d) {
            outln!("{}", crate::text::escape(&l));
        }
        if d.is_empty() {
            outln!("no differences ({} entries)", d.unchanged);
        }
    }
    Ok(ExitCode::changed_if(a.detailed_exitcode, !d.is_empty()).code())
}
