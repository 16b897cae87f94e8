//! oix: build, merge and edit multi-arch OCI image indexes inside local OCI image
//! layouts, and sync them to registries.
//!
//! The library holds all behaviour; the `oix` binary only parses arguments, calls into
//! these modules and prints.

pub mod digest;
pub mod error;
pub mod graph;
pub mod layout;
pub mod model;
pub mod reference;
pub mod resolve;

pub use digest::Digest;
pub use error::{Error, ExitCode, Kind, Result};
pub use layout::Layout;
pub use reference::LayoutRef;
pub mod apply;
pub mod archive;
pub mod authoring;
pub mod build;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compress;
pub mod convert;
pub mod copy;
pub mod fsck;
pub mod gc;
pub mod inspect;
pub mod platform;
pub mod pool;
pub mod publish;
pub mod reach;
pub mod referrers;
pub mod registry;
pub mod select;
pub mod store;
pub mod subset;
pub mod tags;
pub mod text;
pub mod verify;
