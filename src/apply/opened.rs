//! What a run reads, opened once each: layouts (with their index.json) and registry
//! repositories.

use super::publish::{self, open_store, RemoteRef, Settings, StoreAt};
use super::Run;
use crate::error::Result;
use crate::layout::Layout;
use crate::model::Descriptor;
use std::path::Path;
use std::rc::Rc;

/// A layout opened once per run, with its index.json as read then (indexed by ref name
/// and digest: many sources and tags in one layout cost O(N + k)).
pub(super) struct Opened {
    pub(super) layout: Layout,
    pub(super) names: crate::resolve::Names,
}

impl<'a> Run<'a> {
    /// The layout at `path`, opened and its index read once per run; `None` when the
    /// directory is not a layout yet (only tolerated for the working layout).
    pub(super) fn opened(&self, path: &Path) -> Result<Option<Rc<Opened>>> {
        if let Some(o) = self.layouts.borrow().get(path) {
            return Ok(Some(o.clone()));
        }
        if path == self.plan.layout && !path.join(crate::layout::OCI_LAYOUT_FILE).exists() {
            return Ok(None);
        }
        let layout = Layout::open(path)?.with_lock_timeout(self.opts.lock_timeout);
        let names = crate::resolve::Names::read(&layout)?;
        let o = Rc::new(Opened { layout, names });
        self.layouts
            .borrow_mut()
            .insert(path.to_path_buf(), o.clone());
        Ok(Some(o))
    }

    pub(super) fn remote(&self, url: &str, host: &str) -> RemoteRef {
        RemoteRef {
            url: url.to_string(),
            connection: self.plan.connection_for(host),
        }
    }

    pub(super) fn settings(&self) -> Settings {
        Settings {
            jobs: self.opts.jobs.max(1),
            timeout: self.opts.timeout,
            lock_timeout: self.opts.lock_timeout,
            tls: self.opts.tls.clone(),
        }
    }

    /// The registry repository of `remote`, opened for reading once per run.
    pub(super) fn registry(
        &self,
        remote: &RemoteRef,
    ) -> Result<std::sync::Arc<crate::store::Store>> {
        let key = publish::repository_of(&remote.url)
            .map(|(h, r)| format!("{h}/{r}"))
            .unwrap_or_else(|| remote.url.clone());
        if let Some(o) = self.registries.borrow().get(&key) {
            return Ok(o.clone());
        }
        let at = StoreAt::Registry {
            remote,
            push: false,
            mount_from: Vec::new(),
        };
        let o = std::sync::Arc::new(open_store(at, &self.settings())?);
        self.registries.borrow_mut().insert(key, o.clone());
        Ok(o)
    }

    /// What the tag or digest of `remote` names now (a HEAD; nothing downloaded).
    pub(super) fn resolve_remote(&self, remote: &RemoteRef) -> Result<Option<Descriptor>> {
        self.registry(remote)?
            .names()
            .resolve_name(&publish::wanted(&remote.url)?)
    }
}
