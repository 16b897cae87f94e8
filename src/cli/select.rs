//! select, fold.

use super::output::outln;
use super::registry::TransportArgs;
use super::{output, Ctx};
use crate::error::{Error, Result};
use crate::reference::{LayoutRef, Reference, Scheme};
use crate::registry::RegistryRef;
use crate::select::{fold, AmbiguityArgs, Match, OnAmbiguity, SelectorArgs};
use crate::store::{Access, Connect, Names, Store};
use clap::Args;
use std::io::Write;

pub const SELECT_LONG_ABOUT: &str = "\
Print the descriptor(s) a selector picks out of a layout: the digest on the first line, \
then the media type, platform, path through nested indexes, why it matched and the \
attestations that travel with it. `ls`, `inspect` and every command that picks entries use \
the same selector engine and the same rules, described here and in docs/selection.md.

SEARCH SPACE
  LAYOUT:REF names the top-level index.json entries whose ref.name is REF. Several such \
entries form one candidate set (implicit multi-arch; a warning says so, and `oix fold` \
turns them into one index). LAYOUT alone means all of index.json; LAYOUT@DIGEST the \
top-level entry with that digest, else its first occurrence depth-first. Without --platform or --where, the named entries themselves are \
selected. With filters, the candidates are the named entries and every entry of every \
index below them, searched depth-first in document order, except that a named entry which \
is an index is not a candidate itself: its entries are (LAYOUT:REF naming an index filters \
that index's entries; naming one image, that image). Each match reports its path \
(index.json[2] > sha256:…[1]). index rm, annotate, export, push and merge pick with the \
same candidates.

PLATFORMS
  --platform os/arch[/variant][:os.version][+feature...], or `local` (this machine's \
os/arch; amd64 means v1). Case-insensitive. Normalization (both sides):
    x86_64, x86-64       -> amd64      amd64/v1 = amd64 (v2..v4 kept)
    aarch64              -> arm64      arm64/v8 = arm64/8 = arm64/v8.0 = arm64
    arm64/9, 9.0, v9.0   -> arm64/v9   i386 -> 386 (variant dropped)
    armhf -> arm/v7      armel -> arm/v6
    arm, arm/7 -> arm/v7               arm/5, 6, 8 -> arm/v5, v6, v8
    macos -> darwin      an empty os -> this machine's
  An entry's platform is its descriptor's `platform`, else the one in its image config \
(shown as derived). Attestation entries (vnd.docker.reference.type=attestation-manifest, or \
unknown/unknown) never match a platform; they travel with the entry their \
vnd.docker.reference.digest names.

MATCH MODES (--match)
  exact (default): os, architecture and variant equal after normalization; os.version \
(component-wise: 10.0.17763 = 10.0.17763.*) and os.features (as sets) only when both sides \
give them.
  compatible: the entry runs on the given platform. Same os; same architecture with a variant \
at or below: arm/v7 runs v6, v5 (not v8); amd64/v3 runs v2, v1; arm64/v8.x runs v8.y<=x; \
arm64/v9.x runs v9.y<=x and v8.y<=min(x+5,9); ppc64le/powerN and riscv64/rvaNNu64 likewise. \
Windows os.version by build: below 20348 the builds must be equal; from 20348 (ltsc2022) the \
entry's build must lie between the newest LTSC build (20348, 26100) at or below the host's \
and the host's build. Given os.features must include the entry's. Opt-in (--fallback): 386 \
(amd64 runs 386) and arm (arm64 runs arm/v8..v5; many arm64 CPUs cannot). No fallback \
across operating systems.

WHERE AND SCOPE
  --where key=value | key!=value | key~=REGEX | key | !key (repeatable, all must hold). \
!= and !key are the negations of = and key (they hold when the key is absent). Regexes are \
unanchored. key is an annotation key, or one of the fields ref (the descriptor's ref.name), \
digest, mediaType, artifactType; write annotation:KEY for an annotation with such a name.
  --scope descriptor (default) reads the annotations on the entry's descriptor; manifest \
reads those inside the manifest or index it points to; any reads either (a positive \
condition holds if it holds in either, a negative one if it holds in both).
  Annotations of an index are NEVER inherited by its children, unless --inherit: then an \
entry without the key sees the value of the nearest index above it.

AMBIGUITY (--on-ambiguity)
  error (default): several matches fail with exit 4, listing each candidate's digest, \
platform, matched annotations and why it matched. first: the first match in depth-first \
document order (the image-spec's SHOULD). best: the uniquely highest-ranked match under \
compatible matching (the default mode with best): an earlier --platform over a later one, \
then same variant over an older one over a cross-architecture fallback, then the higher \
variant, then the closest os.version, then more os.features; a tie fails with exit 4. \
all (or --all): every match. Matches that are all one digest are not ambiguous. Nothing \
matching fails with exit 3 and lists the nearest candidates.";

pub const SELECT_EXAMPLES: &str = "\
EXAMPLES
  oix select ./out:latest --platform linux/arm64
  oix select ./out:latest --platform linux/arm/v7 --match compatible --on-ambiguity best
  oix select ./out:latest --all --where org.opencontainers.image.version~=^1\\.
  oix select ./out --where ref=latest --platform local
  IMAGE := $(firstword $(shell oix select ./out:latest --platform linux/amd64))";

#[derive(Debug, Args)]
#[command(after_long_help = SELECT_EXAMPLES)]
pub struct SelectArgs {
    /// LAYOUT, LAYOUT:REF or LAYOUT@DIGEST to select from, or a registry's
    /// docker://HOST/REPO[:TAG|@DIGEST] (no tag: latest).
    pub reference: String,
    #[command(flatten)]
    pub selector: SelectorArgs,
    #[command(flatten)]
    pub ambiguity: AmbiguityArgs,
    /// Print every match (same as --on-ambiguity all).
    #[arg(long, conflicts_with = "on_ambiguity")]
    pub all: bool,
    /// Print only the digests, one a line.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten, next_help_heading = REGISTRY_HEADING)]
    pub transport: TransportArgs,
}

/// The help heading of the registry flags of the read commands.
pub(super) const REGISTRY_HEADING: &str = "Registry (for docker:// references)";

/// The store a read command (ls, inspect, select, digest, diff) reads, and what the
/// reference names in it.
pub(super) struct Opened {
    pub store: Store,
    pub r: LayoutRef,
    /// The reference as given, when it names a registry.
    pub registry: Option<RegistryRef>,
}

impl Opened {
    pub fn names(&self) -> &dyn Names {
        self.store.names()
    }
}

/// Open a layout (`[oci:]PATH[:REF|@DIGEST]`) or a registry
/// (`docker://HOST/REPO[:TAG|@DIGEST]`) to read, through the one store opener.
pub(super) fn open_read(ctx: &Ctx, text: &str, transport: &TransportArgs) -> Result<Opened> {
    let reference = match Scheme::of(text).0 {
        // Archives are not stores yet: the layout parser's error says how to import one.
        Scheme::OciArchive | Scheme::DockerArchive => Reference::Layout(LayoutRef::parse(text)?),
        _ => Reference::parse(text)?,
    };
    let connect = Connect {
        lock_timeout: Some(ctx.lock_timeout),
        ..transport.connect()
    };
    let opened = crate::store::open(&reference, Access::Read, &connect)?;
    let (r, registry) = match reference {
        Reference::Layout(l) => (l, None),
        Reference::Registry(rr) => (crate::select::registry_ref(&rr), Some(rr)),
        Reference::Archive { .. } => {
            return Err(Error::usage(format!("{text}: archives are not read here")))
        }
    };
    Ok(Opened {
        store: opened.store,
        r,
        registry,
    })
}

/// Print warnings from the selector on stderr.
pub fn print_warnings(warnings: &[String]) {
    for w in warnings {
        output::warning(w);
    }
}

fn print_match(out: &mut impl Write, m: &Match) {
    let _ = writeln!(out, "{}", m.descriptor.digest);
    let _ = writeln!(out, "  mediaType: {}", m.descriptor.media_type);
    let _ = writeln!(out, "  size: {}", m.descriptor.size);
    let _ = writeln!(
        out,
        "  platform: {}",
        crate::text::escape(&m.platform_display())
    );
    let _ = writeln!(out, "  path: {}", crate::text::escape(&m.path_display()));
    for w in &m.why {
        let _ = writeln!(out, "  why: {}", crate::text::escape(w));
    }
    for a in &m.attestations {
        let _ = writeln!(out, "  attestation: {}", a.digest);
    }
}

pub fn select(ctx: &Ctx, a: SelectArgs) -> Result<i32> {
    let o = open_read(ctx, &a.reference, &a.transport)?;
    let mut selector = a.ambiguity.apply(a.selector.to_selector()?);
    if a.all {
        selector = selector.on_ambiguity(OnAmbiguity::All);
    }
    let s = selector.select(o.names(), &o.r)?;
    print_warnings(&s.warnings);
    if ctx.json {
        output::json(&serde_json::json!({
            "matches": s.matches,
            "warnings": s.warnings,
        }));
        return Ok(0);
    }
    let mut out = output::stdout();
    for m in &s.matches {
        if a.quiet {
            let _ = writeln!(out, "{}", m.descriptor.digest);
        } else {
            print_match(&mut out, m);
        }
    }
    Ok(0)
}

pub const FOLD_LONG_ABOUT: &str = "\
Turn an implicit multi-arch set (several top-level index.json entries that share one \
ref.name) into one explicit OCI image index named REF.

The new index lists the entries in index.json order; each descriptor is copied with its \
ref.name removed, and an entry without a descriptor platform gets the one from its image \
config. The index is written once, deterministically (the same entries give the same \
digest), and index.json is changed in one locked transaction: the index takes the place of \
the first entry and the others are removed (their blobs stay). Folding a REF that already \
names one index changes nothing.";

#[derive(Debug, Args)]
pub struct FoldArgs {
    /// LAYOUT:REF naming the entries to fold.
    pub reference: String,
}

pub fn fold(ctx: &Ctx, a: FoldArgs) -> Result<i32> {
    let r = LayoutRef::parse(&a.reference)?;
    r.require_name()?;
    let layout = ctx.open(&r.path)?;
    let f = fold::fold(&layout, &r)?;
    print_warnings(&f.warnings);
    if ctx.json {
        output::json(&f);
        return Ok(0);
    }
    outln!("{}", f.descriptor.digest);
    if f.changed {
        outln!(
            "folded {} entries into one index named {}",
            f.members.len(),
            f.ref_name
        );
    }
    Ok(0)
}

/// For `inspect`: refuse `--on-ambiguity all` (it shows one document).
pub fn refuse_all(a: &AmbiguityArgs, what: &str) -> Result<()> {
    if a.on_ambiguity == Some(OnAmbiguity::All) {
        return Err(Error::usage(format!(
            "{what} shows one entry; --on-ambiguity all does not apply"
        ))
        .with_hint("use `oix select --all` to list every match"));
    }
    Ok(())
}
