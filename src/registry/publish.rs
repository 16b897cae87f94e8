//! The built-in distribution client behind `oix apply`'s [`crate::apply::publish::Registry`]
//! boundary: the same plan/push/pull code as `oix push` and `oix pull`.

use super::ops::{self, PushOptions};
use super::reference::RegistryRef;
use super::remote::{Registry as Remote, RegistryOptions};
use crate::apply::plan::Connection;
use crate::apply::publish::{PullSummary, PushSummary, Registry, RemoteRef};
use crate::copy::{copy_graph, CopyOptions};
use crate::error::Result;
use crate::layout::Layout;
use crate::model::Descriptor;
use crate::reference::{LayoutRef, Target};

/// The built-in client, with the parallelism of its blob transfers.
pub struct BuiltinRegistry {
    pub jobs: usize,
    /// Connect and idle timeout for every registry (`oix apply --timeout`), over the
    /// plan destinations' own `timeout`.
    pub timeout: Option<std::time::Duration>,
    /// `oix apply --cert-dir/--client-cert/--client-key`: only those fields are read.
    pub tls: super::client::TransportOptions,
}

impl Default for BuiltinRegistry {
    fn default() -> Self {
        BuiltinRegistry {
            jobs: 4,
            timeout: None,
            tls: Default::default(),
        }
    }
}

impl BuiltinRegistry {
    fn connect(&self, r: &RegistryRef, c: &Connection, push: bool) -> Result<Remote> {
        let mut o = RegistryOptions {
            jobs: self.jobs,
            push,
            ..Default::default()
        };
        o.transport.plain_http = c.plain_http;
        o.transport.ca_certs.extend(c.ca_cert.iter().cloned());
        o.transport.authfile = c.authfile.clone();
        o.transport.cert_dir = self.tls.cert_dir.clone();
        o.transport.client_cert = self.tls.client_cert.clone();
        o.transport.client_key = self.tls.client_key.clone();
        if let Some(t) = self.timeout.or(c.timeout) {
            o.transport = o.transport.with_timeout(t);
        }
        Remote::new(r, &o)
    }
}

/// The tag or digest a reference names (`latest` when it names neither).
fn wanted(r: &RegistryRef) -> String {
    match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    }
}

impl Registry for BuiltinRegistry {
    fn current_digest(&self, target: &RemoteRef) -> Result<Option<String>> {
        let r = RegistryRef::parse(&target.url)?;
        self.connect(&r, &target.connection, false)?
            .head_manifest(&wanted(&r))
    }

    fn pull(&self, source: &RemoteRef, layout: &Layout) -> Result<(Descriptor, PullSummary)> {
        let r = RegistryRef::parse(&source.url)?;
        let remote = self.connect(&r, &source.connection, false)?;
        let (root, _) = remote.get_manifest(&wanted(&r))?;
        let rep = copy_graph(
            &remote,
            layout,
            std::slice::from_ref(&root),
            &CopyOptions { jobs: self.jobs },
        )?;
        Ok((
            root,
            PullSummary {
                downloaded: rep.copied + rep.manifests,
                skipped: rep.skipped,
                bytes: rep.bytes,
            },
        ))
    }

    fn push(
        &self,
        layout: &Layout,
        ref_name: &str,
        _root: &Descriptor,
        target: &RemoteRef,
        tags: &[String],
        arch_tags: Option<&str>,
    ) -> Result<PushSummary> {
        let base = RegistryRef::parse(&target.url)?;
        let remote = self.connect(&base, &target.connection, true)?;
        let src = LayoutRef {
            path: layout.root().to_path_buf(),
            target: Target::Name(ref_name.to_string()),
        };
        let opts = PushOptions {
            jobs: self.jobs,
            arch_tags: arch_tags.map(str::to_string),
            ..Default::default()
        };
        let mut sum = PushSummary::default();
        for tag in tags {
            let plan = ops::plan_push(layout, &src, &base.with_tag(tag), &opts)?;
            let s = ops::push(&plan, &remote, &opts)?;
            sum.uploaded += s.uploaded + s.mounted;
            sum.skipped += s.skipped;
            sum.bytes += s.bytes;
            sum.tags.extend(s.tags.into_iter().map(|t| t.tag));
        }
        Ok(sum)
    }
}
