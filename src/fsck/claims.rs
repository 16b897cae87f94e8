//! What the descriptors of the reachable graph claim about each blob (its size, who
//! references it, whether it may be absent), and the checks on those claims alone.

use super::{Ctx, Level};
use crate::digest::Digest;
use crate::graph::Role;
use crate::layout::Layout;
use crate::reach::Reach;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Every reachable digest with the sizes its descriptors claim.
pub(super) struct Claims {
    /// Digest → (claimed size, referencing document) per descriptor, in walk order.
    pub(super) sizes: BTreeMap<String, Vec<(i64, String)>>,
    /// Digest → true when every descriptor of it may name a blob that lives elsewhere.
    optional: HashMap<String, bool>,
}

impl Claims {
    pub(super) fn collect(reach: &Reach) -> Claims {
        let mut sizes: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        let mut optional: HashMap<String, bool> = HashMap::new();
        for n in &reach.walk.nodes {
            let referrer = n.parent.clone().unwrap_or_else(|| {
                match reach.referrers.get(&n.descriptor.digest) {
                    Some(subject) => format!("referrer of {subject}"),
                    None => "index.json".into(),
                }
            });
            sizes
                .entry(n.descriptor.digest.clone())
                .or_default()
                .push((n.descriptor.size, referrer));
            // A subject, or a non-distributable layer with urls, may live elsewhere.
            let may_be_absent =
                n.role == Role::Subject || (n.role == Role::Layer && n.descriptor.urls.is_some());
            let e = optional.entry(n.descriptor.digest.clone()).or_insert(true);
            *e &= may_be_absent;
        }
        Claims { sizes, optional }
    }

    /// The first document that references `digest`, named in findings about it.
    pub(super) fn first_referrer(&self, digest: &str) -> Option<String> {
        self.sizes.get(digest).map(|c| c[0].1.clone())
    }

    /// Check the claims themselves (digest grammar, sign and agreement of sizes,
    /// verifiability) and return the blobs to check on disk with their claimed sizes.
    /// Digests whose claims are unusable go into `bad`.
    pub(super) fn check(
        &self,
        layout: &Layout,
        bad: &mut HashSet<String>,
        cx: &mut Ctx,
    ) -> Vec<(Digest, u64)> {
        let mut to_check: Vec<(Digest, u64)> = Vec::new();
        for (digest_str, claims) in &self.sizes {
            let referrer = claims[0].1.as_str();
            let digest = match Digest::parse(digest_str) {
                Ok(d) => d,
                Err(e) => {
                    cx.add(
                        Level::Error,
                        "invalid-digest",
                        Some(digest_str),
                        Some(referrer),
                        e.message,
                    );
                    bad.insert(digest_str.clone());
                    continue;
                }
            };
            if claims.iter().any(|(s, _)| *s < 0) {
                cx.add(
                    Level::Error,
                    "invalid-size",
                    Some(digest_str),
                    Some(referrer),
                    format!("descriptor of {digest_str} has a negative size"),
                );
                bad.insert(digest_str.clone());
                continue;
            }
            report_size_conflict(digest_str, claims, cx);
            if !digest.is_verifiable() {
                cx.add(
                    Level::Warning,
                    "unverifiable-digest",
                    Some(digest_str),
                    Some(referrer),
                    format!(
                        "{digest_str}: algorithm {} cannot be verified by oix",
                        digest.algorithm().as_str()
                    ),
                );
            }
            let optional = self.optional.get(digest_str).copied().unwrap_or(false);
            if optional && !layout.has_blob(&digest) {
                continue;
            }
            to_check.push((digest, claims[0].0 as u64));
        }
        to_check
    }
}

/// Descriptors of one digest that disagree on its size (`size-conflict`).
fn report_size_conflict(digest: &str, claims: &[(i64, String)], cx: &mut Ctx) {
    if claims.iter().all(|(s, _)| *s == claims[0].0) {
        return;
    }
    let list: Vec<String> = claims
        .iter()
        .map(|(s, r)| format!("{s} (in {r})"))
        .collect();
    cx.add(
        Level::Error,
        "size-conflict",
        Some(digest),
        Some(&claims[0].1),
        format!(
            "descriptors of {digest} disagree on its size: {}",
            list.join(", ")
        ),
    );
}
