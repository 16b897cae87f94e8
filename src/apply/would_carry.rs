//! `oix apply --dry-run`: the referrers each image would carry (docs/referrers.md), found
//! the way the run finds them, reading only: those of `docker://` sources still to pull
//! (asked of the source registry), of content taken from other layouts, and of what the
//! working layout already holds for the release (its pushes carry those on). A document
//! oix makes (annotated, assembled) is new content: it has none of its own.

use super::{Prepared, Run};
use crate::error::{Error, Result};
use crate::model::Descriptor;
use crate::referrers::{Carried, Warning};
use std::collections::HashSet;

impl<'a> Run<'a> {
    /// The referrers image `p` would carry, each (subject, referrer) once, with the
    /// warnings about listed non-referrers.
    pub(super) fn would_carry(&self, p: &Prepared) -> Result<(Vec<Carried>, Vec<Warning>)> {
        let carry = self.carry_of(p.report.index)?;
        let mut out = Collected::default();
        if !carry.enabled {
            return Ok((out.carried, out.warnings));
        }
        for (_, remote) in &p.pulls {
            let reg = self.registry(remote)?;
            let root = reg
                .names()
                .resolve_name(&super::publish::wanted(&remote.url)?)?
                .ok_or_else(|| {
                    Error::no_match(format!("source {}: the tag does not exist", remote.url))
                })?;
            out.add(self.carry(reg.source(), &[root], &carry)?);
        }
        let Some(work) = &p.work else {
            return Ok((out.carried, out.warnings));
        };
        for (path, d) in &work.copy_from {
            let src = crate::layout::Layout::open(path)?;
            out.add(self.carry(&src, std::slice::from_ref(d), &carry)?);
        }
        let working = self.opened(&self.plan.layout)?;
        let mut here: Vec<Descriptor> = Vec::new();
        if let Some(w) = &working {
            if w.layout.has_blob(&work.root.digest()?) {
                here.push(work.root.clone());
            }
            for m in &work.members {
                if m.layout.as_path() == w.layout.root() {
                    here.push(m.descriptor.clone());
                    here.extend(m.attestations.iter().cloned());
                }
            }
            out.add(self.carry(&w.layout, &here, &carry)?);
        }
        // Members from other layouts (each source layout read once).
        let others: Vec<_> = work
            .members
            .iter()
            .filter(|m| {
                working
                    .as_ref()
                    .is_none_or(|w| m.layout.as_path() != w.layout.root())
            })
            .cloned()
            .collect();
        if !others.is_empty() {
            let mut by_layout: std::collections::BTreeMap<_, Vec<Descriptor>> = Default::default();
            for m in &others {
                let e = by_layout.entry(m.layout.clone()).or_default();
                e.push(m.descriptor.clone());
                e.extend(m.attestations.iter().cloned());
            }
            for (path, roots) in by_layout {
                let src = crate::layout::Layout::open(&path)?;
                out.add(self.carry(&src, &roots, &carry)?);
            }
        }
        Ok((out.carried, out.warnings))
    }
}

/// Referrers found so far, each (subject, referrer) once.
#[derive(Default)]
struct Collected {
    seen: HashSet<(String, String)>,
    carried: Vec<Carried>,
    warnings: Vec<Warning>,
}

impl Collected {
    fn add(&mut self, (carried, warnings): (Vec<Carried>, Vec<Warning>)) {
        for c in carried {
            if self
                .seen
                .insert((c.subject.clone(), c.descriptor.digest.clone()))
            {
                self.carried.push(c);
            }
        }
        self.warnings.extend(warnings);
    }
}
