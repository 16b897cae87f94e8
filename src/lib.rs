#![warn(missing_docs)]
//! oix: build, merge and edit multi-arch OCI image indexes inside local OCI image
//! layouts, and sync them to registries.
//!
//! The library holds all behaviour; the `oix` binary only parses arguments, calls into
//! these modules and prints. A Rust program uses it without the command line:
//!
//! ```toml
//! [dependencies]
//! oix = { version = "0.1", default-features = false }   # no clap, no progress bars
//! ```
//!
//! The API is what this page re-exports and the modules listed as public below
//! ([`digest`], [`error`], [`reference`](mod@reference), [`store`]); the other modules are public only
//! for the `oix` binary and the project's own tests (hidden from these docs, not a
//! stable API). Errors carry a [`Kind`] that says what happened and maps to the
//! command's [`ExitCode`]; no library function prints (warnings are returned as data).
//!
//! # Open a layout and write a blob
//!
//! ```
//! use oix::{Digest, Layout};
//!
//! let dir = tempfile::tempdir()?;
//! let (layout, created) = Layout::init(dir.path().join("images"))?;
//! assert!(created);
//! let digest: Digest = layout.write_blob_bytes(b"hello")?; // verified, then renamed in place
//! assert_eq!(digest, Digest::sha256_of(b"hello"));
//!
//! let again = Layout::open(layout.root())?;
//! let d = oix::Descriptor::new("text/plain", &digest, 5);
//! assert_eq!(again.read_blob(&d, 1024)?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Merge per-arch images under a policy
//!
//! Two images, each tagged in its own layout, become one index in a third; the policy
//! says what happens to entries of a previous index under the same name.
//!
//! ```
//! use oix::{merge, Layout, Policy, SourceSpec};
//! # use oix::{model::media, Descriptor};
//! # fn put(l: &Layout, media_type: &str, v: serde_json::Value) -> oix::Result<Descriptor> {
//! #     let bytes = serde_json::to_vec(&v).unwrap();
//! #     Ok(Descriptor::new(media_type, &l.write_blob_bytes(&bytes)?, bytes.len() as u64))
//! # }
//! /// A minimal image for `arch`, tagged `v1` in a new layout at `dir`.
//! fn image(dir: &std::path::Path, arch: &str) -> oix::Result<()> {
//!     let (l, _) = Layout::init(dir)?;
//!     # let config = put(&l, media::OCI_CONFIG, serde_json::json!({"architecture": arch,
//!     #     "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}))?;
//!     # let manifest = put(&l, media::OCI_MANIFEST, serde_json::json!({"schemaVersion": 2,
//!     #     "mediaType": media::OCI_MANIFEST, "config": config, "layers": []}))?;
//!     // ... write a config and a manifest with `l.write_blob_bytes`, then name it:
//!     oix::tag(&l, &manifest, &["v1".to_string()])?;
//!     Ok(())
//! }
//!
//! let tmp = tempfile::tempdir()?;
//! image(&tmp.path().join("amd64"), "amd64")?;
//! image(&tmp.path().join("arm64"), "arm64")?;
//! let sources = [
//!     SourceSpec::parse(&format!("{}:v1", tmp.path().join("amd64").display()))?,
//!     SourceSpec::parse(&format!("{}:v1", tmp.path().join("arm64").display()))?,
//! ];
//! let release = Layout::open_or_create(tmp.path().join("release"))?;
//! let options = oix::authoring::EditOptions::default(); // annotations, dry run, format, referrers
//! let outcome = merge(&release, "v1", &sources, Policy::Union, &[], None, &options)?;
//! assert!(outcome.changed);
//! assert_eq!(outcome.diff.added.len(), 2); // linux/amd64 and linux/arm64
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Select by platform
//!
//! The one selector engine behind `oix select`, `ls`, `inspect`, `export`, `push` and
//! every edit (docs/selection.md).
//!
//! ```
//! use oix::{Layout, LayoutRef, OnAmbiguity, PlatformSpec, Selector};
//! # use oix::{merge, Policy, SourceSpec, model::media, Descriptor};
//! # fn put(l: &Layout, media_type: &str, v: serde_json::Value) -> oix::Result<Descriptor> {
//! #     let bytes = serde_json::to_vec(&v).unwrap();
//! #     Ok(Descriptor::new(media_type, &l.write_blob_bytes(&bytes)?, bytes.len() as u64))
//! # }
//! # let tmp = tempfile::tempdir()?;
//! # let (l, _) = Layout::init(tmp.path().join("release"))?;
//! # let mut entries = Vec::new();
//! # for arch in ["amd64", "arm64"] {
//! #     let config = put(&l, media::OCI_CONFIG, serde_json::json!({"architecture": arch,
//! #         "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}))?;
//! #     entries.push(put(&l, media::OCI_MANIFEST, serde_json::json!({"schemaVersion": 2,
//! #         "mediaType": media::OCI_MANIFEST, "config": config, "layers": []}))?);
//! # }
//! # let index = put(&l, media::OCI_INDEX, serde_json::json!({"schemaVersion": 2,
//! #     "mediaType": media::OCI_INDEX, "manifests": entries}))?;
//! # oix::tags::tag(&l, &index, &["v1".to_string()])?;
//! // `release` holds an index tagged v1 with linux/amd64 and linux/arm64 images.
//! let layout = Layout::open(tmp.path().join("release"))?;
//! let at = LayoutRef::parse(&format!("{}:v1", layout.root().display()))?;
//! let found = Selector::new()
//!     .platform(PlatformSpec::parse("linux/aarch64")?) // normalized to linux/arm64
//!     .on_ambiguity(OnAmbiguity::Error)
//!     .select(&layout, &at)?;
//! assert_eq!(found.matches.len(), 1);
//! // The entry carries no platform: it is read from the image config ("derived").
//! assert_eq!(found.matches[0].platform_display(), "linux/arm64 (derived)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Copy to a registry
//!
//! One graph copy between any two stores (layout, archive, registry): blobs first,
//! verified, then documents, the name last. This example needs a registry on
//! `localhost:5000`, so it is compiled but not run.
//!
//! ```no_run
//! use oix::{copy, Connect, CopyRequest, CopyResult, Reference};
//!
//! let from = Reference::parse("./release:v1")?;
//! let to = Reference::parse("docker://localhost:5000/app:v1")?;
//! let connect = Connect { plain_http: true, ..Connect::default() };
//! let request = CopyRequest {
//!     platforms: vec!["linux/arm64".into()], // only this entry (the index is rewritten)
//!     ..CopyRequest::default()
//! };
//! match copy(&from, &to, &connect, None, &request)? {
//!     CopyResult::Done(summary) => println!("{} bytes, {}", summary.bytes, summary.digest),
//!     CopyResult::DryRun { .. } => unreachable!("not a dry run"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod digest;
pub mod error;
pub mod reference;
pub mod store;

pub use authoring::merge::{merge, Policy};
pub use authoring::SourceSpec;
pub use copy::stores::{copy, CopyRequest, CopyResult, CopySummary};
pub use digest::Digest;
pub use error::{Error, ExitCode, Kind, Result};
pub use layout::Layout;
pub use model::Descriptor;
pub use platform::PlatformSpec;
pub use reference::{LayoutRef, Reference, Target};
pub use registry::RegistryRef;
pub use select::{Filters, Found, OnAmbiguity, Selector};
pub use store::{open, Access, Connect, Opened, Store};
pub use tags::tag;

// Not API: public for the `oix` binary and tests/ (integration tests), hidden from the
// docs. A module moves above, documented, when a program needs it.
#[doc(hidden)]
pub mod apply;
#[doc(hidden)]
pub mod archive;
#[doc(hidden)]
pub mod authoring;
#[doc(hidden)]
pub mod build;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod compress;
#[doc(hidden)]
pub mod convert;
#[doc(hidden)]
pub mod copy;
#[doc(hidden)]
pub mod fsck;
#[doc(hidden)]
pub mod gc;
#[doc(hidden)]
pub mod graph;
#[doc(hidden)]
pub mod inspect;
#[doc(hidden)]
pub mod layout;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod platform;
#[doc(hidden)]
pub mod pool;
#[doc(hidden)]
pub mod publish;
#[doc(hidden)]
pub mod reach;
#[doc(hidden)]
pub mod recompress;
#[doc(hidden)]
pub mod referrers;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod resolve;
#[doc(hidden)]
pub mod select;
#[doc(hidden)]
pub mod subset;
#[doc(hidden)]
pub mod tags;
#[doc(hidden)]
pub mod text;
#[doc(hidden)]
pub mod verify;
