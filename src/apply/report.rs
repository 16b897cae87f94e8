//! What `oix apply` reports: per image, the steps it planned or took and how each
//! ended, and a summary; the `--json` shapes of `oix apply` are these types.

use super::plan::{Image, Sources};
use super::publish::PushSummary;
use crate::error::{Error, ExitCode, Kind};
use serde::Serialize;

/// One step of an image's plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// `pull`, `write`, `tag` (in the working layout) or `push` (to a destination).
    pub kind: &'static str,
    /// `pull`, `write`, `create`, `move`, `unchanged`.
    pub action: &'static str,
    /// What the step acts on: a source, `NAME:TAG`, or the destination reference.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// For `move`: what the tag names now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// A `move` that neither `--force` nor the image's `force: true` allows.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub conflict: bool,
    /// After a push: what it transferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<PushSummary>,
}

impl Step {
    /// Whether carrying the step out changes something.
    pub fn is_change(&self) -> bool {
        self.action != "unchanged"
    }
}

/// How an image ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageOutcome {
    /// Everything already matched; nothing was written.
    Unchanged,
    /// Changes were made.
    Changed,
    /// `--dry-run`: changes would be made.
    WouldChange,
    /// A policy or a conflict refused the image; nothing of it was written.
    Refused,
    Failed,
    /// Not attempted (`--fail-fast` after another image stopped).
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub exit_code: i32,
    /// What happened (its exit code is `exit_code`).
    #[serde(skip)]
    pub kind: Kind,
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        ErrorInfo {
            message: e.message.clone(),
            hint: e.hint.clone(),
            exit_code: e.exit_code(),
            kind: e.kind,
        }
    }
}

/// The plan and outcome of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub name: String,
    /// Position in `images:` and in the file.
    pub index: usize,
    pub line: u64,
    /// The source(s) as written (after `{name}` expansion).
    pub sources: Vec<String>,
    /// `as-is`, `annotated` or `assembled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<&'static str>,
    /// The released document (unknown until a pending pull ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The source document the release was made from, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Platforms of the released document.
    pub platforms: Vec<String>,
    /// `sources:` entries that do not exist (tolerated by keep-missing and union).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    pub steps: Vec<Step>,
    pub outcome: ImageOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// `--dry-run`: the referrers the image would carry (docs/referrers.md) and the
    /// name each would be listed under.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<crate::referrers::Carried>,
    /// `--dry-run`: what a source lists as referrers but is none (not carried).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrer_warnings: Vec<crate::referrers::Warning>,
}

impl ImageReport {
    pub(super) fn new(img: &Image) -> ImageReport {
        ImageReport {
            name: img.name.clone(),
            index: img.index,
            line: img.position.line,
            sources: match &img.sources {
                Sources::One(s) => vec![s.text().to_string()],
                Sources::Assemble(v) => v.iter().map(|s| s.text().to_string()).collect(),
            },
            document: None,
            digest: None,
            media_type: None,
            from: None,
            platforms: Vec::new(),
            absent: Vec::new(),
            steps: Vec::new(),
            outcome: ImageOutcome::Unchanged,
            error: None,
            referrers: Vec::new(),
            referrer_warnings: Vec::new(),
        }
    }
    pub(super) fn fail(&mut self, e: &Error) {
        self.outcome = if e.kind == Kind::Refused {
            ImageOutcome::Refused
        } else {
            ImageOutcome::Failed
        };
        self.error = Some(e.into());
    }
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(Step::is_change)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub unchanged: usize,
    pub changed: usize,
    pub would_change: usize,
    pub refused: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Everything `oix apply` did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plan: String,
    pub layout: String,
    pub dry_run: bool,
    pub images: Vec<ImageReport>,
    pub summary: Summary,
}

impl Report {
    pub(super) fn tally(&mut self) {
        let mut s = Summary::default();
        for i in &self.images {
            match i.outcome {
                ImageOutcome::Unchanged => s.unchanged += 1,
                ImageOutcome::Changed => s.changed += 1,
                ImageOutcome::WouldChange => s.would_change += 1,
                ImageOutcome::Refused => s.refused += 1,
                ImageOutcome::Failed => s.failed += 1,
                ImageOutcome::Skipped => s.skipped += 1,
            }
        }
        self.summary = s;
    }

    /// Whether changes were made (or, with `--dry-run`, would be).
    pub fn changed(&self) -> bool {
        self.summary.changed + self.summary.would_change > 0
    }

    /// 1 when an image failed, else 5 when one was refused, else 6 when `detailed`
    /// and changes were (or would be) made, else 0.
    pub fn exit_code(&self, detailed: bool) -> i32 {
        if self.summary.failed > 0 {
            ExitCode::Failure.code()
        } else if self.summary.refused > 0 {
            ExitCode::Refused.code()
        } else {
            ExitCode::changed_if(detailed, self.changed()).code()
        }
    }
}
