//! `oix plan check PLAN`: a plan checked without running it (no registry contacted,
//! nothing written).

use super::plan::{self, Destination, Plan, Problem, SourceRef, Sources};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::reference::LayoutRef;
use crate::resolve;
use serde::Serialize;
use std::path::Path;

/// The result of `oix plan check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub plan: String,
    pub ok: bool,
    pub images: usize,
    /// Release tags declared (NAME:TAG pairs).
    pub tags: usize,
    pub destinations: usize,
    /// Layout sources resolved to exactly one image or index.
    pub sources_checked: usize,
    /// Source layout directories that do not exist (yet): the plan is checked, these
    /// sources are not; they are resolved when the layout exists.
    pub layouts_absent: Vec<String>,
    pub problems: Vec<plan::Problem>,
}

/// `oix plan check PLAN`: the file against the schema and the grammars, and the files
/// the destinations name present; then, for each layout source whose layout directory
/// exists, that the source resolves to exactly one image or index. A layout that does not
/// exist yet (the plan is checked before the builds ran) is listed in `layouts_absent`,
/// not a problem. Registries are not contacted.
pub fn check(path: &Path) -> Result<CheckReport> {
    let text = {
        let bytes = crate::layout::read_limited(path, plan::MAX_PLAN_SIZE)
            .map_err(|e| e.with_hint("give the path of a plan file (YAML, see docs/plan.md)"))?;
        String::from_utf8(bytes).map_err(|_| {
            Error::failure(format!("{}: the plan is not UTF-8 text", path.display()))
        })?
    };
    let file = path.display().to_string();
    let p = match plan::parse(path, &text) {
        Ok(p) => p,
        Err(problems) => {
            return Ok(CheckReport {
                plan: file,
                ok: false,
                images: 0,
                tags: 0,
                destinations: 0,
                sources_checked: 0,
                layouts_absent: Vec::new(),
                problems,
            })
        }
    };
    let mut checker = Checker {
        file: file.clone(),
        problems: Vec::new(),
        sources_checked: 0,
        layouts_absent: Vec::new(),
    };
    checker.destination_files(&p);
    checker.layout_sources(&p);
    Ok(CheckReport {
        plan: file,
        ok: checker.problems.is_empty(),
        images: p.images.len(),
        tags: p.images.iter().map(|i| i.tags.len()).sum(),
        destinations: p.destinations.len(),
        sources_checked: checker.sources_checked,
        layouts_absent: checker.layouts_absent,
        problems: checker.problems,
    })
}

/// What the checks of a parsed plan found.
struct Checker {
    file: String,
    problems: Vec<Problem>,
    sources_checked: usize,
    layouts_absent: Vec<String>,
}

impl Checker {
    fn problem(
        &mut self,
        line: u64,
        column: u64,
        image: Option<String>,
        section: Option<String>,
        e: Error,
    ) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            image,
            section,
            message: e.message,
            hint: e.hint,
        });
    }

    /// The files registry destinations name (`ca_cert`, `authfile`) exist.
    fn destination_files(&mut self, p: &Plan) {
        for (i, d) in p.destinations.iter().enumerate() {
            if let Destination::Registry {
                connection,
                position,
                url,
                ..
            } = d
            {
                for (key, f) in [
                    ("ca_cert", &connection.ca_cert),
                    ("authfile", &connection.authfile),
                ] {
                    if let Some(f) = f {
                        if !f.is_file() {
                            self.problem(
                                position.line,
                                position.column,
                                None,
                                Some(format!("destinations[{i}] ({url})")),
                                Error::failure(format!("{key} {} is not a file", f.display())),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Each layout source whose layout exists resolves to one image or index; the
    /// layouts that do not exist yet are listed.
    fn layout_sources(&mut self, p: &Plan) {
        for img in &p.images {
            let list: Vec<&SourceRef> = match &img.sources {
                Sources::One(s) => vec![s],
                Sources::Assemble(v) => v.iter().collect(),
            };
            for s in list {
                let SourceRef::Layout {
                    text, reference, ..
                } = s
                else {
                    continue;
                };
                let path = if reference.path.as_os_str().is_empty() {
                    p.layout.clone()
                } else {
                    reference.path.clone()
                };
                if !path.exists() && path.symlink_metadata().is_err() {
                    let shown = path.display().to_string();
                    if !self.layouts_absent.contains(&shown) {
                        self.layouts_absent.push(shown);
                    }
                    continue;
                }
                self.sources_checked += 1;
                let r = LayoutRef {
                    path,
                    target: reference.target.clone(),
                };
                if let Err(e) = image_or_index(&r) {
                    self.problem(
                        img.position.line,
                        img.position.column,
                        Some(format!("{:?} (images[{}])", img.name, img.index)),
                        None,
                        e.context(format!("source {text}")),
                    );
                }
            }
        }
    }
}

/// `r` resolves to exactly one image or index.
fn image_or_index(r: &LayoutRef) -> Result<()> {
    let l = Layout::open(&r.path)?;
    let d = resolve::resolve_one(&l, r)?.descriptor;
    if d.is_manifest() || d.is_index() {
        Ok(())
    } else {
        Err(Error::failure(format!(
            "{} is a {}, not an image or index",
            d.digest, d.media_type
        )))
    }
}
