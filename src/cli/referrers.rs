//! referrers, attach.

use super::output::outln;
use super::{output, Ctx};
use crate::error::Result;
use crate::reference::LayoutRef;
use crate::referrers::{self, ArtifactFilter, Attach, AttachFile};
use crate::resolve;
use clap::Args;

pub const REFERRERS_HELP: &str = "\
Referrers are found however the layout lists them: a referrers index under the \
fallback tag `<alg>-<hex>` of the subject's digest (what regctl and `oix attach` \
write), an index.json entry whose document has a `subject` (what oras writes), a \
cosign tag `<alg>-<hex>.sig|.att|.sbom`, or a manifest in blobs/ that nothing lists but \
whose subject is in the layout. FOUND says which. Each referrer's artifactType and \
annotations are those of its document (a manifest without artifactType shows its \
config's media type), as the registry referrers API answers. See docs/referrers.md.";

#[derive(Debug, Args)]
#[command(after_long_help = REFERRERS_HELP)]
pub struct ReferrersArgs {
    /// The subject: LAYOUT:REF or LAYOUT@DIGEST (a manifest or index).
    pub reference: String,
    /// List only referrers of this artifactType (repeatable: any of them).
    #[arg(long = "artifact-type", value_name = "TYPE")]
    pub artifact_types: Vec<String>,
    /// Also list the referrers of referrers (a signature of an SBOM), indented under
    /// their subject; each once, a cycle ends.
    #[arg(long, short = 'r')]
    pub recursive: bool,
}

fn annotations_cell(a: &std::collections::BTreeMap<String, String>) -> String {
    if a.is_empty() {
        return "-".into();
    }
    a.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn referrers(ctx: &Ctx, a: ReferrersArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.reference)?;
    let layout = ctx.open(&r.path)?;
    let subject = resolve::resolve_one(&layout, &r)?.descriptor;
    let scan = referrers::scan(&layout, true)?;
    let filter = ArtifactFilter {
        types: a.artifact_types.clone(),
    };
    let rows = scan.tree(&subject.digest, &filter, a.recursive);
    if ctx.json {
        output::json(&serde_json::json!({"subject": subject, "referrers": rows}));
        return Ok(0);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let d = &row.referrer.descriptor;
            vec![
                format!("{}{}", "  ".repeat(row.depth), d.digest),
                d.artifact_type.clone().unwrap_or_else(|| "-".into()),
                output::human_size(d.size),
                row.referrer.found.name().into(),
                annotations_cell(&d.annotations),
            ]
        })
        .collect();
    output::table(
        &["DIGEST", "ARTIFACT TYPE", "SIZE", "FOUND", "ANNOTATIONS"],
        &table,
    );
    Ok(0)
}

pub const ATTACH_HELP: &str = "\
The artifact is an image-spec 1.1 manifest: config is the empty descriptor \
(application/vnd.oci.empty.v1+json, `{}`), `artifactType` is TYPE, `subject` is \
SUBJECT's descriptor, and each FILE is a layer of its MEDIATYPE (default \
application/octet-stream) titled with the file's base name \
(org.opencontainers.image.title). It is listed in SUBJECT's referrers index, tagged \
`<alg>-<hex>` after SUBJECT's digest in index.json (created or extended), in one \
index.json transaction. The bytes are reproducible: no timestamp is written unless \
given with --annotation org.opencontainers.image.created=TIME. Attaching the same \
thing again changes nothing. See docs/referrers.md.";

#[derive(Debug, Args)]
#[command(after_long_help = ATTACH_HELP)]
pub struct AttachArgs {
    /// The subject: LAYOUT:REF or LAYOUT@DIGEST (a manifest or index; a referrer too).
    pub subject: String,
    /// The artifact's type, e.g. application/spdx+json (a media type).
    #[arg(long = "artifact-type", value_name = "TYPE", required = true)]
    pub artifact_type: String,
    /// Files to attach, each FILE or FILE:MEDIATYPE.
    #[arg(required = true, value_name = "FILE[:MEDIATYPE]")]
    pub files: Vec<String>,
    /// An annotation on the artifact manifest, KEY=VALUE (repeatable).
    #[arg(long = "annotation", value_name = "K=V")]
    pub annotations: Vec<String>,
}

pub fn attach(ctx: &Ctx, a: AttachArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.subject)?;
    let annotations = crate::authoring::parse_annotations(&a.annotations)?;
    let layout = ctx.open(&r.path)?;
    let subject = resolve::resolve_one(&layout, &r)?.descriptor;
    let spec = Attach {
        artifact_type: a.artifact_type,
        files: a.files.iter().map(|f| AttachFile::parse(f)).collect(),
        annotations,
    };
    let done = referrers::attach(&layout, &subject, &spec)?;
    if ctx.json {
        output::json(&done.descriptor);
    } else {
        outln!(
            "{} {} to {} ({})",
            done.descriptor.digest,
            if done.changed {
                "attached"
            } else {
                "already attached"
            },
            done.subject,
            crate::text::escape(&done.tag)
        );
    }
    Ok(0)
}
