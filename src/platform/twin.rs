//! Compression twins: one platform published twice in one index, once with gzip layers
//! and once with zstd layers, the zstd entry's descriptor marked with
//! [`ZSTD_TWIN`]` = "true"` (what `podman manifest push --add-compression zstd` and
//! containers/image write).
//!
//! A twin is a *variant* of its platform, not a second platform. Everything in oix that
//! keys entries by platform follows one rule, written for users in docs/selection.md
//! ("Compression twins"):
//! - selecting one entry (`--on-ambiguity error|first|best`): a twin does not compete
//!   with a non-twin entry of the same platform in the same index; the non-twin (gzip)
//!   entry wins, because every client can read it (old Docker cannot read zstd), and
//!   containers/image prefers it too unless zstd is asked for. A `--where` naming the
//!   twin annotation selects the twin. `--on-ambiguity all` lists both.
//! - index edits (`merge`, `index add`, `index create`): a twin travels with the entry
//!   of its platform, like an attestation with its subject: replaced with it, carried
//!   over with it (`keep-missing`), never counted as a platform of its own.
//! - `diff` keys a twin as `PLATFORM (zstd twin)`, a variant of the platform.

use super::PlatformSpec;
use crate::model::Descriptor;

/// The descriptor annotation that marks an index entry as the zstd variant of a platform.
pub const ZSTD_TWIN: &str = "io.github.containers.compression.zstd";

/// Whether `d` is marked as a zstd twin (`"true"`, as containers/image requires).
pub fn is_zstd_twin(d: &Descriptor) -> bool {
    d.annotations.get(ZSTD_TWIN).is_some_and(|v| v == "true")
}

/// The one-result rule over `candidates` (each seen through `key` as its descriptor
/// and platform): a zstd twin drops out when a non-twin candidate has its platform (the
/// gzip entry wins, as every client can read it). Order is kept.
pub fn without_outranked_twins<T>(
    candidates: Vec<T>,
    key: impl Fn(&T) -> (&Descriptor, Option<&PlatformSpec>),
) -> Vec<T> {
    let primaries: Vec<PlatformSpec> = candidates
        .iter()
        .map(&key)
        .filter(|(d, _)| !is_zstd_twin(d))
        .filter_map(|(_, p)| p.cloned())
        .collect();
    candidates
        .into_iter()
        .filter(|c| {
            let (d, p) = key(c);
            !(is_zstd_twin(d) && p.is_some_and(|p| primaries.contains(p)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn desc(n: u8, twin: bool) -> Descriptor {
        let mut d = Descriptor::new(
            crate::model::media::OCI_MANIFEST,
            &Digest::sha256_of(&[n]),
            1,
        );
        if twin {
            d.annotations.insert(ZSTD_TWIN.into(), "true".into());
        }
        d
    }

    #[test]
    fn a_twin_drops_out_only_beside_a_non_twin_of_its_platform() {
        let amd = PlatformSpec::parse("linux/amd64").unwrap();
        let arm = PlatformSpec::parse("linux/arm64").unwrap();
        let c = [
            (desc(1, false), Some(amd.clone())),
            (desc(2, true), Some(amd.clone())),
            (desc(3, true), Some(arm)),
            (desc(4, true), None),
        ];
        let kept = without_outranked_twins(c.iter().collect(), |(d, p)| (d, p.as_ref()));
        let kept: Vec<&str> = kept.iter().map(|(d, _)| d.digest.as_str()).collect();
        assert_eq!(kept, [&c[0].0.digest, &c[2].0.digest, &c[3].0.digest]);
        // A twin is never the only candidate dropped: twins alone stay.
        let twins = [(desc(5, true), Some(amd))];
        assert_eq!(
            without_outranked_twins(twins.iter().collect(), |(d, p)| (d, p.as_ref())).len(),
            1
        );
    }
}
