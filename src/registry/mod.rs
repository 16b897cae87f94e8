//! The built-in OCI distribution client and the skopeo hand-off.
//!
//! - [`reference`]: parsing `docker://HOST:PORT/REPO:TAG` and `docker://HOST/REPO@DIGEST`.
//! - [`auth`]: credentials (auth files, docker config, credential helpers) and challenges.
//! - [`client`]: HTTP transport (TLS rules), authentication, retries with backoff.
//! - [`remote`]: [`Registry`], a store ([`crate::store::Source`] + [`crate::store::Sink`]).
//! - [`push`], [`pull`]: push and pull planned and run on top of the store copy
//!   ([`crate::copy::stores::run`]).
//! - [`skopeo`]: `--via skopeo`.

pub mod auth;
pub mod client;
pub mod pull;
pub mod push;
pub mod reference;
pub mod remote;
pub mod skopeo;
mod tls;

pub use client::TransportOptions;
pub use reference::RegistryRef;
pub use remote::{Progress, Registry, RegistryOptions};
