//! [`EntryFilter`]: the subset filter `pull` still uses on a remote index. The selector
//! engine ([`super::Selector`]) now searches any [`crate::store::Names`] store, a
//! registry included, so this filter goes once pull picks through the engine (the store
//! copy); every other command that picks entries uses the engine.

use super::Condition;
use crate::error::Result;
use crate::model::Descriptor;
use crate::platform::{Fallbacks, MatchMode, PlatformSpec};

/// The entry filter of `pull` (one remote index, no layout to search): an entry is kept when any `--platform` matches its
/// platform (exact mode, normalized) — or none was given — and every `--where` holds on
/// its descriptor. Attestations are never kept by the filter itself; they follow the
/// entry they describe.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub platforms: Vec<PlatformSpec>,
    pub wheres: Vec<Condition>,
}

impl EntryFilter {
    pub fn parse(platforms: &[String], wheres: &[String]) -> Result<EntryFilter> {
        Ok(EntryFilter {
            platforms: platforms
                .iter()
                .map(|p| PlatformSpec::parse(p))
                .collect::<Result<_>>()?,
            wheres: wheres
                .iter()
                .map(|w| Condition::parse(w))
                .collect::<Result<_>>()?,
        })
    }
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.wheres.is_empty()
    }
    /// Warnings for `--platform` values naming an unknown os or architecture (a typo
    /// such as `linux/amd65` would silently match nothing).
    pub fn warnings(&self) -> Vec<String> {
        self.platforms
            .iter()
            .filter_map(PlatformSpec::unknown_warning)
            .collect()
    }
    /// Whether the entry `d`, whose platform is `platform`, is kept.
    pub fn keeps(&self, d: &Descriptor, platform: Option<&crate::model::Platform>) -> bool {
        if d.is_attestation() {
            return false;
        }
        let platform_ok = self.platforms.is_empty()
            || platform.is_some_and(|p| {
                let have = PlatformSpec::from_platform(p);
                self.platforms.iter().any(|w| {
                    w.matches(&have, MatchMode::Exact, Fallbacks::default())
                        .is_ok()
                })
            });
        platform_ok && self.wheres.iter().all(|c| c.holds_on(d))
    }
    /// `--platform linux/arm64 --where k=v`, for messages.
    pub fn describe(&self) -> String {
        self.platforms
            .iter()
            .map(|p| format!("--platform {p}"))
            .chain(self.wheres.iter().map(|c| format!("--where {c}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
