//! init, ls, inspect, tag, untag.

use super::output::{errln, outln};
use super::registry::TransportArgs;
use super::select::{open_read, print_warnings, refuse_all, REGISTRY_HEADING};
use super::{output, Ctx};
use crate::error::{Error, Kind, Result};
use crate::reference::LayoutRef;
use crate::select::{self, AmbiguityArgs, PathStep, SelectorArgs};
use crate::store::Names;
use crate::{inspect as view, resolve, tags, Layout};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (or an existing layout, which is left as it is).
    pub layout: PathBuf,
}

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<i32> {
    let path = crate::reference::layout_dir(&a.layout);
    let (layout, created) = Layout::init(&path)?;
    if ctx.json {
        output::json(&serde_json::json!({"layout": layout.root(), "created": created}));
    } else if created {
        outln!("initialized {}", layout.root().display());
    } else {
        outln!("{} is already a layout", layout.root().display());
    }
    Ok(0)
}

const SELECTOR_RULES: &str = "The selection flags pick entries exactly as `oix select` does: \
see `oix select --help` (or docs/selection.md) for platform normalization, the match modes, \
scope and inheritance, attestations and the ambiguity rules. Nothing matching is exit 3.";

#[derive(Debug, Args)]
#[command(after_long_help = SELECTOR_RULES)]
pub struct LsArgs {
    /// LAYOUT (the top-level entries), LAYOUT:REF (the entries of the index REF names, or
    /// the entries sharing REF) or LAYOUT@DIGEST; docker://HOST/REPO (its tags, sorted) or
    /// docker://HOST/REPO:TAG|@DIGEST (as LAYOUT:REF). With --platform/--where, the entries
    /// (at any depth) that match; when none does but the index REF names does (its
    /// descriptor's or its own annotations), that index. A PATH column appears only when
    /// matches come from different indexes: the entry's position in index.json, then in
    /// each nested index (`0/2/1`).
    pub reference: String,
    /// Walk nested indexes, manifests, configs and layers; the referrers of each index
    /// and manifest (signatures, SBOMs, attestations) are listed under it.
    #[arg(long)]
    pub tree: bool,
    /// Count each entry's referrers (recursively) in a REFERRERS column; with --json,
    /// list them (`oix referrers` shows one subject's in full).
    #[arg(long)]
    pub referrers: bool,
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten, next_help_heading = REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

/// One `ls` row: the entry, and its path when it was found by a selector.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    entry: view::Entry,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<Vec<PathStep>>,
    /// With --referrers: the entry's referrers, recursively.
    #[serde(skip_serializing_if = "Option::is_none")]
    referrers: Option<Vec<serde_json::Value>>,
}

/// With `ls --referrers`, fill in each row's referrers.
/// The referrers a store holds: a layout's scanned; a registry's are not read yet.
fn referrer_scan(store: &dyn crate::store::Names) -> Result<crate::referrers::Scan> {
    match store.as_layout() {
        Some(l) => crate::referrers::scan(l, true),
        None => Ok(crate::referrers::Scan::default()),
    }
}

fn add_referrers(layout: &dyn crate::store::Names, rows: &mut [Row], on: bool) -> Result<()> {
    if !on {
        return Ok(());
    }
    let scan = referrer_scan(layout)?;
    let all = crate::referrers::ArtifactFilter::default();
    for r in rows {
        let found = scan.tree(&r.entry.digest, &all, true);
        r.referrers = Some(
            found
                .iter()
                .map(|f| serde_json::to_value(f).unwrap_or_default())
                .collect(),
        );
    }
    Ok(())
}

fn print_tree(out: &mut impl Write, nodes: &[view::TreeNode], indent: usize) {
    for n in nodes {
        let mut line = format!(
            "{}{} {} {} {}",
            "  ".repeat(n.depth + indent),
            n.role,
            n.digest,
            n.media_type,
            output::human_size(n.size)
        );
        if let Some(p) = &n.platform {
            line.push_str(&format!(" {}", p.label(" (derived)")));
        }
        if let Some(t) = &n.artifact_type {
            line.push_str(&format!(" artifactType={t}"));
        }
        if let Some(r) = &n.ref_name {
            line.push_str(&format!(" ref={r}"));
        }
        let _ = writeln!(out, "{}", crate::text::escape(&line));
    }
}

pub fn ls(ctx: &Ctx, a: LsArgs) -> Result<i32> {
    let o = open_read(ctx, &a.reference, &a.transport)?;
    let selector = a.selector.to_selector()?;
    if let Some(rr) = o
        .registry
        .as_ref()
        .filter(|rr| rr.tag.is_none() && rr.digest.is_none())
    {
        return ls_tags(ctx, o.names(), rr, a.tree || selector.has_filters());
    }
    let (layout, r) = (o.store.names(), o.r);
    let descriptors = match select::ls_view(layout, &r, &selector, a.tree)? {
        select::LsView::Entries {
            descriptors,
            warnings,
        } => {
            print_warnings(&warnings);
            descriptors
        }
        select::LsView::Matches(s) => {
            // Every match, at any depth; nothing matching is exit 3 with the nearest candidates.
            print_warnings(&s.warnings);
            if a.tree {
                let mut trees = Vec::new();
                let scan = referrer_scan(layout)?;
                for m in &s.matches {
                    let roots = std::slice::from_ref(&m.descriptor);
                    trees.push((m, view::tree_with_referrers(layout, roots, &scan)?));
                }
                if ctx.json {
                    let v: Vec<serde_json::Value> = trees
                        .iter()
                        .map(|(m, nodes)| serde_json::json!({"path": m.path, "nodes": nodes}))
                        .collect();
                    output::json(&v);
                } else {
                    let mut out = output::stdout();
                    for (m, nodes) in &trees {
                        let _ = writeln!(out, "{}", crate::text::escape(&m.path_display()));
                        print_tree(&mut out, nodes, 1);
                    }
                }
                return Ok(0);
            }
            let mut rows: Vec<Row> = s
                .matches
                .iter()
                .map(|m| Row {
                    entry: view::describe(layout, &m.descriptor),
                    path: Some(m.path.clone()),
                    referrers: None,
                })
                .collect();
            add_referrers(layout, &mut rows, a.referrers)?;
            print_rows(ctx, &rows);
            return Ok(0);
        }
    };
    if a.tree {
        let scan = referrer_scan(layout)?;
        let nodes = view::tree_with_referrers(layout, &descriptors, &scan)?;
        if ctx.json {
            output::json(&nodes);
        } else {
            print_tree(&mut output::stdout(), &nodes, 0);
        }
        return Ok(0);
    }
    let mut rows: Vec<Row> = descriptors
        .iter()
        .map(|d| Row {
            entry: view::describe(layout, d),
            path: None,
            referrers: None,
        })
        .collect();
    add_referrers(layout, &mut rows, a.referrers)?;
    print_rows(ctx, &rows);
    Ok(0)
}

/// `oix ls docker://HOST/REPO`: the repository's tags, sorted (one a line; `--json`:
/// `{"repository", "tags"}`, as `skopeo list-tags` shapes it).
fn ls_tags(
    ctx: &Ctx,
    store: &dyn Names,
    rr: &crate::registry::RegistryRef,
    filtered: bool,
) -> Result<i32> {
    if filtered {
        return Err(Error::usage(format!(
            "{rr} names a repository: --tree, --platform and --where need a tag or digest"
        ))
        .with_hint(format!("write {rr}:TAG (`oix ls {rr}` lists the tags)")));
    }
    let tags = store.list_names()?;
    if ctx.json {
        output::json(&serde_json::json!({"repository": rr.repository(), "tags": tags}));
    } else {
        let mut out = output::stdout();
        for t in &tags {
            let _ = writeln!(out, "{}", crate::text::escape(t));
        }
    }
    Ok(0)
}

fn print_rows(ctx: &Ctx, rows: &[Row]) {
    let entries: Vec<&view::Entry> = rows.iter().map(|r| &r.entry).collect();
    if let Some(w) = view::missing_warning(&entries) {
        output::warning(&w);
    }
    if ctx.json {
        output::json(rows);
        return;
    }
    // PATH tells rows apart only when they come from different indexes.
    let parent = |r: &Row| {
        r.path
            .as_ref()
            .map(|p| p[..p.len().saturating_sub(1)].to_vec())
    };
    let with_path = rows.iter().any(|r| r.path.is_some())
        && rows.windows(2).any(|w| parent(&w[0]) != parent(&w[1]));
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let e = &row.entry;
            let plats: Vec<String> = e
                .platforms
                .iter()
                .filter(|p| !p.attestation)
                .map(|p| p.label("*"))
                .collect();
            let kind = if crate::model::media::is_index(&e.media_type) {
                "index"
            } else if e.platforms.iter().any(|p| p.attestation) {
                "attestation"
            } else if crate::model::media::is_manifest(&e.media_type) {
                "image"
            } else {
                "artifact"
            };
            let mut cells = vec![
                e.ref_name.clone().unwrap_or_else(|| "-".into()),
                e.digest.clone(),
                kind.into(),
                if plats.is_empty() {
                    "-".into()
                } else {
                    plats.join(",")
                },
                output::human_size(e.size),
            ];
            if let Some(r) = &row.referrers {
                cells.push(r.len().to_string());
            }
            if with_path {
                cells.push(
                    row.path
                        .as_ref()
                        .map(|p| {
                            let parts: Vec<String> =
                                p.iter().map(|s| s.position.to_string()).collect();
                            parts.join("/")
                        })
                        .unwrap_or_default(),
                );
            }
            cells
        })
        .collect();
    let mut header = vec!["REF", "DIGEST", "TYPE", "PLATFORMS", "SIZE"];
    if rows.iter().any(|r| r.referrers.is_some()) {
        header.push("REFERRERS");
    }
    if with_path {
        header.push("PATH");
    }
    output::table(&header, &table);
}

#[derive(Debug, Args)]
#[command(after_long_help = SELECTOR_RULES)]
pub struct InspectArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST, or docker://HOST/REPO[:TAG|@DIGEST] (no tag:
    /// latest); with selector flags, the one entry they pick from it (e.g. one child of
    /// an index).
    pub reference: String,
    /// Print the exact stored bytes (from a registry: as served, and its
    /// Docker-Content-Digest on stderr).
    #[arg(long)]
    pub raw: bool,
    /// Show the image's config instead of its manifest.
    #[arg(long)]
    pub config: bool,
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten)]
    pub ambiguity: AmbiguityArgs,
    #[command(flatten, next_help_heading = REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

pub fn inspect(ctx: &Ctx, a: InspectArgs) -> Result<i32> {
    refuse_all(&a.ambiguity, "inspect")?;
    let o = open_read(ctx, &a.reference, &a.transport)?;
    let selector = a.ambiguity.apply(a.selector.to_selector()?);
    let (m, warnings) = selector.select_one(o.names(), &o.r)?;
    print_warnings(&warnings);
    let resolved = resolve::Resolved {
        top_level: (m.path.len() == 1).then(|| m.path[0].position),
        descriptor: m.descriptor,
    };
    let ins = view::inspect(o.names(), &resolved, a.config)?;
    if a.raw {
        if o.registry.is_some() && !a.config {
            // The registry's digest of these bytes (checked against them when read).
            errln!("Docker-Content-Digest: {}", ins.descriptor.digest);
        }
        // The exact stored bytes, for pipes; a reader that hangs up early is no error.
        let mut out = output::stdout_mode(output::Mode::Raw);
        out.write_all(&ins.raw)
            .and_then(|()| out.flush())
            .map_err(|e| Error::new(Kind::Io, format!("writing stdout: {e}")))?;
        return Ok(0);
    }
    // Pretty output is JSON text too: JSON escapes keep it valid and terminal-safe.
    let mut out = output::stdout_mode(output::Mode::Json);
    let doc: serde_json::Value = serde_json::from_slice(&ins.raw)
        .map_err(|e| Error::corrupt(format!("{}: invalid JSON: {e}", ins.descriptor.digest)))?;
    if ctx.json {
        output::json(&serde_json::json!({"descriptor": ins.descriptor, "content": doc}));
    } else {
        let _ = writeln!(out, "{}", ins.descriptor.digest);
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        );
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST, or docker://HOST/REPO[:TAG|@DIGEST] (no tag:
    /// latest). From a registry only a HEAD of the manifest is sent.
    pub reference: String,
    #[command(flatten, next_help_heading = REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

/// `oix digest REF`: the digest of the manifest or index REF names (as `inspect REF |
/// head -n1`, without reading it). `--json`: `{"reference", "digest", "mediaType", "size"}`.
pub fn digest(ctx: &Ctx, a: DigestArgs) -> Result<i32> {
    let o = open_read(ctx, &a.reference, &a.transport)?;
    let d = select::resolve(o.names(), &o.r)?.descriptor;
    if ctx.json {
        output::json(&serde_json::json!({
            "reference": o.r.to_string(),
            "digest": d.digest,
            "mediaType": d.media_type,
            "size": d.size,
        }));
    } else {
        outln!("{}", d.digest);
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The content to tag: LAYOUT, LAYOUT:REF or LAYOUT@DIGEST.
    pub source: String,
    /// New ref names in the same layout: a bare name such as `v1.2`, or LAYOUT:NAME with
    /// the source's LAYOUT (`oix tag L:1.0 L:2.0` is `oix tag L:1.0 2.0`); naming another
    /// layout is refused (copy with `oix import`, `oix index add` or `oix merge`).
    #[arg(required = true)]
    pub names: Vec<String>,
}

fn print_changes(ctx: &Ctx, changes: &[tags::TagChange]) {
    if ctx.json {
        output::json(changes);
        return;
    }
    for c in changes {
        let name = crate::text::escape(&c.ref_name);
        match (&c.previous, c.action) {
            (Some(p), "moved") => outln!("{} {name} moved (was {p})", c.digest),
            (_, action) => outln!("{} {name} {action}", c.digest),
        }
    }
}

pub fn tag(ctx: &Ctx, a: TagArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.source)?;
    let layout = ctx.open(&r.path)?;
    let resolved = resolve::resolve_one(&layout, &r)?;
    let names: Vec<String> = a
        .names
        .iter()
        .map(|n| crate::reference::new_ref_name(&r, n))
        .collect::<Result<_>>()?;
    let changes = tags::tag(&layout, &resolved.descriptor, &names)?;
    print_changes(ctx, &changes);
    Ok(0)
}

#[derive(Debug, Args)]
pub struct UntagArgs {
    /// LAYOUT:REF to remove (several may be given, all in one layout).
    #[arg(required = true)]
    pub references: Vec<String>,
    /// Do nothing (exit 0) for refs that do not exist.
    #[arg(long)]
    pub ignore_missing: bool,
}

pub fn untag(ctx: &Ctx, a: UntagArgs) -> Result<i32> {
    let mut path = None;
    let mut names = Vec::new();
    for s in &a.references {
        // Any existing name, given exactly (also one that breaks the ref grammar).
        let r = LayoutRef::parse_existing_name(s)?;
        let n = r.require_name()?.to_string();
        if path.as_ref().is_some_and(|p| *p != r.path) {
            return Err(Error::usage(
                "untag: all references must name the same layout",
            ));
        }
        path = Some(r.path);
        names.push(n);
    }
    let layout = ctx.open(path.as_deref().expect("clap requires one reference"))?;
    let changes = tags::untag(&layout, &names, a.ignore_missing)?;
    print_changes(ctx, &changes);
    Ok(0)
}
