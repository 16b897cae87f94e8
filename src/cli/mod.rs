//! The command-line layer: clap definitions, and for each command a function that
//! parses, calls the library and prints. No behaviour lives here.
//!
//! The clap definition is also the source of the man pages and shell completions
//! (`tests/docs.rs` regenerates them and fails when `man/` or `completions/` are stale).

mod apply;
mod archive;
mod build;
mod copy;
mod entries;
mod fsck_gc;
mod index;
mod login;
pub mod output;
mod publish;
mod pull;
mod push;
mod recompress;
mod referrers;
mod registry;
mod select;

use crate::error::{Error, ExitCode, Result};
use clap::{CommandFactory, Parser, Subcommand};
use std::time::Duration;

pub const EXIT_CODES: &str = "\
EXIT STATUS:
  0  success
  1  failure (I/O, invalid content, fsck found problems, lock timeout)
  2  usage error (bad arguments or references)
  3  no match (a reference or selector matched nothing)
  4  ambiguous (several entries matched where one was needed)
  5  refused by a policy (nothing was written)
  6  changes made (only where --detailed-exitcode asks for it)
A closed standard output (`oix ... | head`) is not an error: oix stops printing,
finishes the command and exits with its status above, so an edit whose report
could not be printed was made and exits 0.";

#[derive(Debug, Parser)]
#[command(
    name = "oix",
    version,
    about = "Build, merge and edit multi-arch OCI image indexes inside local OCI image layouts",
    long_about = "oix builds, merges and edits multi-arch OCI image indexes inside local \
OCI image-layout directories (oci-layout + index.json + blobs/), offline.\n\n\
References: LAYOUT, LAYOUT:REF (the index.json entry whose \
org.opencontainers.image.ref.name is REF) or LAYOUT@sha256:HEX (anywhere in the graph); \
an `oci:` prefix is accepted and the path ends at the first ':'.",
    after_long_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Seconds to wait for another oix process's lock on a layout.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        env = "OIX_LOCK_TIMEOUT",
        default_value = "60"
    )]
    pub lock_timeout: f64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty OCI image layout (no-op on an existing layout).
    Init(entries::InitArgs),
    /// List the top-level entries of a layout, or the entries of the index a ref names.
    Ls(entries::LsArgs),
    /// Show a manifest, index or config, pretty or as the exact stored bytes.
    Inspect(entries::InspectArgs),
    /// Print the digest of the manifest or index a reference names (a registry: one HEAD).
    Digest(entries::DigestArgs),
    /// Point one or more new refs at the content a reference names.
    Tag(entries::TagArgs),
    /// Remove refs from index.json (content stays until gc).
    Untag(entries::UntagArgs),
    /// Verify a layout: every referenced blob present, sized and hashed right; documents valid.
    Fsck(fsck_gc::FsckArgs),
    /// Remove blobs that nothing in index.json reaches, referrers of subjects that are gone, and stale temp files.
    Gc(fsck_gc::GcArgs),
    /// Create and edit multi-arch indexes inside a layout.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Merge images and indexes into DEST:REF under a release policy.
    #[command(after_long_help = index::MERGE_HELP)]
    Merge(index::MergeArgs),
    /// Show entries added, removed and changed (per platform) between two refs.
    Diff(index::DiffArgs),
    /// Set or remove annotations on an index, on chosen entries, or inside chosen manifests.
    Annotate(index::AnnotateArgs),
    /// Print the entries a platform/annotation selector picks (digest first).
    #[command(long_about = select::SELECT_LONG_ABOUT)]
    Select(select::SelectArgs),
    /// Turn several top-level entries sharing one ref into one explicit index.
    #[command(long_about = select::FOLD_LONG_ABOUT)]
    Fold(select::FoldArgs),
    /// Copy an image or index between any two stores (layouts, registries, archives).
    #[command(long_about = copy::COPY_LONG_ABOUT)]
    Copy(copy::CopyArgs),
    /// Push a layout's image or index to a registry (docker://HOST/REPO[:TAG]).
    Push(push::PushArgs),
    /// Pull an image or index from a registry into a layout.
    Pull(pull::PullArgs),
    /// Check credentials against a registry and store them in the containers auth file.
    #[command(after_long_help = login::LOGIN_HELP)]
    Login(login::LoginArgs),
    /// Remove stored credentials for a registry (or all of them) from the auth file.
    #[command(after_long_help = login::LOGOUT_HELP)]
    Logout(login::LogoutArgs),
    /// Push this arch's image under its per-arch tag, then converge the release tag.
    #[command(after_long_help = publish::PUBLISH_HELP)]
    Publish(publish::PublishArgs),
    /// Carry out a release plan: create release tags, annotate, assemble, push; idempotent.
    #[command(after_long_help = apply::APPLY_HELP)]
    Apply(apply::ApplyArgs),
    /// Work with release plan files.
    #[command(subcommand)]
    Plan(apply::PlanCommand),
    /// Build an image from root filesystem directories or tarballs, reproducibly.
    Build(Box<build::BuildArgs>),
    /// Import an oci-archive, a docker-archive or another layout's refs, verified.
    Import(archive::ImportArgs),
    /// Rewrite an image's or index's layers as zstd or gzip, in place or as zstd twins.
    #[command(after_long_help = recompress::RECOMPRESS_HELP)]
    Recompress(recompress::RecompressArgs),
    /// Export refs as a reproducible oci-archive holding only the blobs they reach.
    Export(archive::ExportArgs),
    /// List the referrers of an image or index (signatures, SBOMs, attestations).
    Referrers(referrers::ReferrersArgs),
    /// Attach files to an image or index as an OCI 1.1 artifact (a referrer).
    Attach(referrers::AttachArgs),
}

/// Global settings every command receives.
pub struct Ctx {
    pub json: bool,
    pub lock_timeout: Duration,
}

impl Ctx {
    /// Open a layout with the global lock timeout applied.
    pub fn open(&self, path: &std::path::Path) -> Result<crate::Layout> {
        Ok(crate::Layout::open(path)?.with_lock_timeout(self.lock_timeout))
    }
}

/// The clap command tree (for man pages and completions).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse arguments, run, print; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
            let _ = e.print();
            return code.code();
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, json);
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    if !(cli.lock_timeout.is_finite() && cli.lock_timeout >= 0.0) {
        return Err(Error::usage(
            "--lock-timeout must be a non-negative number of seconds",
        ));
    }
    let ctx = Ctx {
        json: cli.json,
        lock_timeout: Duration::from_secs_f64(cli.lock_timeout),
    };
    match cli.command {
        Command::Init(a) => entries::init(&ctx, a),
        Command::Ls(a) => entries::ls(&ctx, a),
        Command::Inspect(a) => entries::inspect(&ctx, a),
        Command::Digest(a) => entries::digest(&ctx, a),
        Command::Tag(a) => entries::tag(&ctx, a),
        Command::Untag(a) => entries::untag(&ctx, a),
        Command::Fsck(a) => fsck_gc::fsck(&ctx, a),
        Command::Gc(a) => fsck_gc::gc(&ctx, a),
        Command::Index(c) => index::run(&ctx, c),
        Command::Merge(a) => index::merge(&ctx, a),
        Command::Diff(a) => index::diff(&ctx, a),
        Command::Annotate(a) => index::annotate(&ctx, a),
        Command::Select(a) => select::select(&ctx, a),
        Command::Fold(a) => select::fold(&ctx, a),
        Command::Copy(a) => copy::copy(&ctx, a),
        Command::Push(a) => push::push(&ctx, a),
        Command::Pull(a) => pull::pull(&ctx, a),
        Command::Login(a) => login::login(&ctx, a),
        Command::Logout(a) => login::logout(&ctx, a),
        Command::Publish(a) => publish::publish(&ctx, a),
        Command::Apply(a) => apply::apply(&ctx, a),
        Command::Plan(c) => apply::plan(&ctx, c),
        Command::Build(a) => build::build(&ctx, *a),
        Command::Import(a) => archive::import_cmd(&ctx, a),
        Command::Export(a) => archive::export_cmd(&ctx, a),
        Command::Recompress(a) => recompress::recompress(&ctx, a),
        Command::Referrers(a) => referrers::referrers(&ctx, a),
        Command::Attach(a) => referrers::attach(&ctx, a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EXIT STATUS text (the man pages' table) lists every [`ExitCode`] as it means.
    #[test]
    fn exit_status_text_lists_every_exit_code() {
        let lines: Vec<&str> = EXIT_CODES
            .lines()
            .skip(1)
            .take(ExitCode::ALL.len())
            .collect();
        for (c, line) in ExitCode::ALL.iter().zip(lines) {
            assert_eq!(line, format!("  {}  {}", c.code(), c.meaning()));
        }
    }
}
