//! The fuzz targets of `fuzz/` on stable Rust: each target function gets its seed
//! corpus (`fuzz/corpus/<target>/`) plus deterministic mutations of it (bit flips,
//! interesting bytes, truncation, splices, duplicated and deleted chunks, JSON and
//! grammar tokens) within a few seconds. A panic in a target is a finding.
//!
//! `OIX_FUZZ_SEED=<n>` replays one run; the seed is printed. The ignored test
//! `fuzz_campaign` is the long-running mode for hand campaigns without cargo-fuzz:
//! `OIX_FUZZ_SECONDS=600 OIX_FUZZ_TARGET=json_model cargo test --release --test fuzz_smoke -- --ignored --nocapture`.

mod common;
#[path = "../fuzz/src/lib.rs"]
mod targets;

use common::Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Tokens that matter to the grammars under test.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"1.5",
    b"\\u0000",
    b"\\ud800",
    b"\"schemaVersion\":2",
    b"\"manifests\":[",
    b"\"mediaType\":",
    b"\"digest\":",
    b"\"size\":",
    b"\"platform\":{",
    b"\"annotations\":{",
    b"\"subject\":",
    b"\"layers\":[",
    b"\"config\":",
    b"application/vnd.oci.image.index.v1+json",
    b"application/vnd.oci.image.manifest.v1+json",
    b"sha256:",
    b"sha512:",
    b"blake3:",
    b"..",
    b"/",
    b"../",
    b"@",
    b"oci:",
    b"docker://",
    b"=",
    b"!=",
    b"~=",
    b"!",
    b"+",
    b"linux/",
    b"arm64",
    b"/v8",
    b"amd64",
    b"windows",
    b":10.0.20348",
    b"local",
    b"org.opencontainers.image.ref.name",
    b"\xff",
    b"\xc3\xa9",
    b"\0",
    b"\n",
    b" ",
    b"(",
    b")",
    b"*",
    b"{1000}",
    b"\\p{L}",
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0u8, 0xff, 0x7f, 0x80, b'"', b'\\', b'9', b'a'][rng.below(8)];
            }
            2 => v.truncate(rng.below(v.len() + 1)),
            3 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(v.len() + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            4 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = (a + 1 + rng.below(64)).min(v.len());
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                for _ in 0..1 + rng.below(3) {
                    v.splice(at..at, chunk.iter().copied());
                }
            }
            5 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = (a + 1 + rng.below(32)).min(v.len());
                v.drain(a..b);
            }
            6 | 7 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(v.len() + 1);
                v.splice(at..at, t.iter().copied());
            }
            _ => {
                let at = rng.below(v.len() + 1);
                let b = (rng.next() & 0xff) as u8;
                v.insert(at, b);
            }
        }
    }
    v.truncate(64 * 1024);
    v
}

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let corpus: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!corpus.is_empty(), "{}: empty seed corpus", dir.display());
    corpus
}

fn seed() -> u64 {
    match std::env::var("OIX_FUZZ_SEED") {
        Ok(s) => s.parse().expect("OIX_FUZZ_SEED is a number"),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (t.as_nanos() as u64) | 1
        }
    }
}

/// Run `target` on its corpus, then on mutations until `budget` runs out or `max`
/// inputs were tried. A panicking input is written out and reported.
fn run_target(name: &str, f: fn(&[u8]), seed: u64, budget: Duration, max: u64) -> u64 {
    let corpus = load_corpus(name);
    let mut rng = Rng(seed ^ fxhash(name));
    let try_one = |input: &[u8]| {
        let r = std::panic::catch_unwind(|| f(input));
        if r.is_err() {
            let out = std::env::temp_dir().join(format!("oix-fuzz-crash-{name}-{seed}"));
            std::fs::write(&out, input).unwrap();
            panic!(
                "fuzz target {name} panicked (seed {seed}); input saved to {} \
                 (replay: OIX_FUZZ_SEED={seed}, or run the target on the file)",
                out.display()
            );
        }
    };
    for c in &corpus {
        try_one(c);
    }
    let start = Instant::now();
    let mut n = corpus.len() as u64;
    let mut pool = corpus.clone();
    while n < max && start.elapsed() < budget {
        let base = pool[rng.below(pool.len())].clone();
        let m = mutate(&mut rng, &base, &corpus);
        try_one(&m);
        // keep some mutants as bases so mutations stack up
        if rng.below(8) == 0 {
            if pool.len() < 512 {
                pool.push(m);
            } else {
                let i = rng.below(pool.len());
                pool[i] = m;
            }
        }
        n += 1;
    }
    n
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    let seed = seed();
    eprintln!("fuzz smoke seed: {seed} (rerun with OIX_FUZZ_SEED={seed})");
    for (name, f) in targets::TARGETS {
        // Whole-layout targets touch the filesystem: fewer, slower inputs.
        let (budget, max) = if name.starts_with("layout") || name.starts_with("archive") {
            (Duration::from_secs(4), 400)
        } else {
            (Duration::from_secs(2), 20_000)
        };
        let start = Instant::now();
        let n = run_target(name, *f, seed, budget, max);
        eprintln!("{name}: {n} inputs in {:?}", start.elapsed());
    }
}

/// Long campaign by hand: `OIX_FUZZ_SECONDS` per target (default 60), all targets or
/// `OIX_FUZZ_TARGET`.
#[test]
#[ignore]
fn fuzz_campaign() {
    let seed = seed();
    let secs: u64 = std::env::var("OIX_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let only = std::env::var("OIX_FUZZ_TARGET").ok();
    eprintln!("fuzz campaign seed: {seed}, {secs} s per target");
    for (name, f) in targets::TARGETS {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let start = Instant::now();
        let n = run_target(name, *f, seed, Duration::from_secs(secs), u64::MAX);
        eprintln!(
            "campaign {name}: {n} executions in {:.0} s, 0 crashes",
            start.elapsed().as_secs_f64()
        );
    }
}
