//! Phase 2 of a run: the release tags of every ready image set in one index.json
//! transaction, each image all or nothing; and the tag steps a report lists.

use super::{ImageReport, Run, Step, Work};
use crate::error::{Error, Result};
use crate::model::{Descriptor, Index};

impl<'a> Run<'a> {
    /// Phase 2: the release tags of every ready image in one index.json transaction.
    /// Each image's tags must still be as planned (else that image fails and sets none);
    /// the others are set all together.
    pub(super) fn set_tags(&self, ready: &[(usize, Work)], reports: &mut [ImageReport]) {
        let layout = match self.writable() {
            Ok(l) => l,
            Err(e) => {
                for (slot, _) in ready.iter() {
                    reports[*slot].fail(&e);
                }
                return;
            }
        };
        let plan: Vec<(usize, Descriptor, Vec<Step>)> = ready
            .iter()
            .map(|(slot, w)| {
                let steps = reports[*slot]
                    .steps
                    .iter()
                    .filter(|s| s.kind == "tag")
                    .cloned()
                    .collect();
                (*slot, w.root.clone(), steps)
            })
            .collect();
        let result = layout.transact(|idx| {
            let mut moved: Vec<(usize, Error)> = Vec::new();
            for (slot, root, steps) in &plan {
                if !steps.iter().any(Step::is_change) {
                    continue;
                }
                if let Err(e) = check_unmoved(idx, steps) {
                    moved.push((*slot, e));
                    continue;
                }
                for s in steps.iter().filter(|s| s.is_change()) {
                    if let Err(e) = crate::tags::set_ref(idx, root, &s.target) {
                        // set_ref only fails on an invalid name, which planning refused.
                        moved.push((*slot, e));
                        break;
                    }
                }
            }
            Ok(moved)
        });
        match result {
            Ok((moved, _)) => {
                for (slot, e) in moved {
                    reports[slot].fail(&e);
                }
            }
            Err(e) => {
                for (slot, _) in ready.iter() {
                    reports[*slot].fail(&e);
                }
            }
        }
    }
}

/// Every tag step of an image still finds index.json as planned.
fn check_unmoved(idx: &Index, steps: &[Step]) -> Result<()> {
    for s in steps {
        let now: Vec<String> = idx
            .manifests
            .iter()
            .filter(|d| d.ref_name() == Some(s.target.as_str()))
            .map(|d| d.digest.clone())
            .collect();
        let expected: Vec<String> = match s.action {
            "create" => Vec::new(),
            "unchanged" => s.digest.iter().cloned().collect(),
            _ => s.previous.iter().cloned().collect(),
        };
        if now != expected {
            let show = |v: &[String]| {
                if v.is_empty() {
                    "absent".to_string()
                } else {
                    v.join(", ")
                }
            };
            return Err(Error::failure(format!(
                "{} changed while applying (planned from {}, now {}); no tag of this image was set",
                s.target,
                show(&expected),
                show(&now)
            ))
            .with_hint("another process edits this layout; run oix apply again"));
        }
    }
    Ok(())
}

/// The step for one tag: `create` when absent, `unchanged` when it names `digest`,
/// else `move` (a conflict unless forced).
pub(super) fn tag_step(
    kind: &'static str,
    target: String,
    digest: &str,
    now: Option<String>,
    force: bool,
) -> Step {
    let (action, previous, conflict) = match now {
        None => ("create", None, false),
        Some(d) if d == digest => ("unchanged", None, false),
        Some(d) => ("move", Some(d), !force),
    };
    Step {
        kind,
        action,
        target,
        digest: Some(digest.to_string()),
        previous,
        conflict,
        summary: None,
    }
}
