//! Placing members into an index's member list: one entry per platform slot, or as
//! [`AddMode`] says when a slot is taken.

use super::super::{Member, Slot};
use crate::error::{Error, Result};
use std::collections::HashMap;

/// What `index add` does when an entry for the same platform exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum AddMode {
    /// Replace the existing entry (and its attestations) in place.
    Replace,
    /// Keep both.
    Append,
    /// Refuse (exit 5).
    Fail,
}

/// A member list with the first member of each slot indexed, so that placing k members
/// into a list of M costs O(M + k), not O(M·k).
#[derive(Debug, Clone, Default)]
pub struct MemberList {
    list: Vec<Member>,
    first: HashMap<Slot, usize>,
}

impl MemberList {
    pub fn new() -> MemberList {
        MemberList::default()
    }

    /// The members in order.
    pub fn members(&self) -> &[Member] {
        &self.list
    }

    pub fn into_vec(self) -> Vec<Member> {
        self.list
    }

    /// Whether a member takes the slot of `m` (same platform key, or same digest).
    pub fn has_slot_of(&self, m: &Member) -> bool {
        self.first.contains_key(&m.slot())
    }

    /// Append `m` whatever the list holds.
    pub fn push(&mut self, m: Member) {
        self.first.entry(m.slot()).or_insert(self.list.len());
        self.list.push(m);
    }

    /// Place `m` per `mode`: it replaces the first member of its slot in place (Replace),
    /// is refused when that member differs (Fail), or is appended (Append, or a new
    /// slot). Never two members for one slot unless Append.
    pub fn upsert(&mut self, m: Member, mode: AddMode) -> Result<()> {
        if mode != AddMode::Append {
            if let Some(&i) = self.first.get(&m.slot()) {
                if mode == AddMode::Fail && self.list[i].descriptor != m.descriptor {
                    return Err(Error::refused(format!(
                        "an entry for {} already exists ({}); --mode fail refuses to replace it with {} from {}",
                        m.label(),
                        self.list[i].descriptor.digest,
                        m.descriptor.digest,
                        m.origin
                    ))
                    .with_hint("use --mode replace to replace it or --mode append to keep both"));
                }
                // Same slot: the index stays valid.
                self.list[i] = m;
                return Ok(());
            }
        }
        self.push(m);
        Ok(())
    }
}

impl From<Vec<Member>> for MemberList {
    fn from(members: Vec<Member>) -> MemberList {
        let mut l = MemberList {
            list: Vec::with_capacity(members.len()),
            first: HashMap::with_capacity(members.len()),
        };
        for m in members {
            l.push(m);
        }
        l
    }
}
