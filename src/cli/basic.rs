//! init, ls, inspect, tag, untag.

use super::{output, Ctx};
use crate::error::{Error, Result};
use crate::reference::{LayoutRef, Target};
use crate::{inspect as view, resolve, tags, Layout};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (or an existing layout, which is left as it is).
    pub layout: PathBuf,
}

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<i32> {
    let path = a
        .layout
        .to_str()
        .and_then(|s| s.strip_prefix("oci:"))
        .map(PathBuf::from);
    let path = path.unwrap_or(a.layout);
    let (layout, created) = Layout::init(&path)?;
    if ctx.json {
        output::json(&serde_json::json!({"layout": layout.root(), "created": created}));
    } else if created {
        println!("initialized {}", layout.root().display());
    } else {
        println!("{} is already a layout", layout.root().display());
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// LAYOUT (every top-level entry) or LAYOUT:REF / LAYOUT@DIGEST (that entry).
    pub reference: String,
    /// Walk nested indexes, manifests, configs and layers.
    #[arg(long)]
    pub tree: bool,
}

pub fn ls(ctx: &Ctx, a: LsArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.reference)?;
    let layout = ctx.open(&r.path)?;
    let roots = match &r.target {
        Target::Default => layout.read_index()?.0.manifests,
        _ => vec![resolve::resolve_one(&layout, &r)?.descriptor],
    };
    if a.tree {
        let nodes = view::tree(&layout, &roots)?;
        if ctx.json {
            output::json(&nodes);
        } else {
            let mut out = std::io::stdout().lock();
            for n in &nodes {
                let mut line = format!(
                    "{}{} {} {} {}",
                    "  ".repeat(n.depth),
                    n.role,
                    n.digest,
                    n.media_type,
                    output::human_size(n.size)
                );
                if let Some(p) = &n.platform {
                    line.push_str(&format!(
                        " {}{}",
                        p.platform,
                        if p.derived { " (derived)" } else { "" }
                    ));
                }
                if let Some(r) = &n.ref_name {
                    line.push_str(&format!(" ref={r}"));
                }
                let _ = writeln!(out, "{line}");
            }
        }
        return Ok(0);
    }
    let entries: Vec<view::Entry> = roots.iter().map(|d| view::describe(&layout, d)).collect();
    if ctx.json {
        output::json(&entries);
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let plats: Vec<String> = e
                .platforms
                .iter()
                .filter(|p| !p.attestation)
                .map(|p| format!("{}{}", p.platform, if p.derived { "*" } else { "" }))
                .collect();
            let kind = if crate::model::media::is_index(&e.media_type) {
                "index"
            } else if crate::model::media::is_manifest(&e.media_type) {
                "image"
            } else {
                "artifact"
            };
            vec![
                e.ref_name.clone().unwrap_or_else(|| "-".into()),
                e.digest.clone(),
                kind.into(),
                if plats.is_empty() {
                    "-".into()
                } else {
                    plats.join(",")
                },
                output::human_size(e.size),
            ]
        })
        .collect();
    output::table(&["REF", "DIGEST", "TYPE", "PLATFORMS", "SIZE"], &rows);
    Ok(0)
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST.
    pub reference: String,
    /// Print the exact stored bytes.
    #[arg(long)]
    pub raw: bool,
    /// Show the image's config instead of its manifest.
    #[arg(long)]
    pub config: bool,
}

pub fn inspect(ctx: &Ctx, a: InspectArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.reference)?;
    let layout = ctx.open(&r.path)?;
    let resolved = resolve::resolve_one(&layout, &r)?;
    let ins = view::inspect(&layout, &resolved, a.config)?;
    let mut out = std::io::stdout().lock();
    if a.raw {
        out.write_all(&ins.raw)
            .map_err(|e| Error::failure(format!("writing stdout: {e}")))?;
        return Ok(0);
    }
    let doc: serde_json::Value = serde_json::from_slice(&ins.raw)
        .map_err(|e| Error::failure(format!("{}: invalid JSON: {e}", ins.descriptor.digest)))?;
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
pub struct TagArgs {
    /// The content to tag: LAYOUT, LAYOUT:REF or LAYOUT@DIGEST.
    pub source: String,
    /// New ref names in the same layout (a bare name such as `v1.2`).
    #[arg(required = true)]
    pub names: Vec<String>,
}

fn print_changes(ctx: &Ctx, changes: &[tags::TagChange]) {
    if ctx.json {
        output::json(changes);
        return;
    }
    for c in changes {
        match (&c.previous, c.action) {
            (Some(p), "moved") => println!("{} {} moved (was {p})", c.digest, c.ref_name),
            (_, action) => println!("{} {} {action}", c.digest, c.ref_name),
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
        .map(|n| n.strip_prefix("oci:").unwrap_or(n).to_string())
        .collect();
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
        let r = LayoutRef::parse(s)?;
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
