//! kill -9 of oix writers at random moments never leaves a broken layout.
//!
//! Each round starts one to three `oix tag` / `oix untag` processes on one layout and
//! SIGKILLs them after a random delay (scaled to how long a write takes here). After
//! every round: index.json parses, `oix ls` works, `oix fsck` is clean, every ref whose
//! writer reported success is there (and every ref a successful untag removed is gone),
//! and each killed multi-name transaction applied all of its names or none.
//!
//! The PRNG seed is printed; rerun a failure with `OIX_CRASH_SEED=<seed>`.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MAX_ROUNDS: usize = 150;
const MAX_TIME: Duration = Duration::from_secs(60);

fn seed() -> u64 {
    if let Some(s) = std::env::var("OIX_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (t.as_nanos() as u64 ^ std::process::id() as u64) | 1
}

enum Op {
    Tag(Vec<String>),
    Untag(Vec<String>),
}

fn spawn(dir: &Path, op: &Op) -> Child {
    let mut args = match op {
        Op::Tag(names) => {
            let mut a = vec!["tag".to_string(), at(dir, ":latest")];
            a.extend(names.iter().cloned());
            a
        }
        Op::Untag(names) => {
            let mut a = vec!["untag".to_string()];
            a.extend(names.iter().map(|n| at(dir, &format!(":{n}"))));
            a
        }
    };
    args.insert(0, "--lock-timeout=30".into());
    oix_cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oix")
}

/// How long one `oix tag` takes on this machine (to aim the kills inside it).
fn calibrate(dir: &Path) -> Duration {
    let start = Instant::now();
    for i in 0..5 {
        oix(&["tag", &at(dir, ":latest"), &format!("calibrate-{i}")]).ok();
    }
    oix(&[
        "untag".to_string(),
        at(dir, ":calibrate-0"),
        at(dir, ":calibrate-1"),
        at(dir, ":calibrate-2"),
        at(dir, ":calibrate-3"),
        at(dir, ":calibrate-4"),
    ])
    .ok();
    start.elapsed() / 6
}

#[test]
fn sigkilled_writers_never_leave_a_broken_layout() {
    let seed = seed();
    eprintln!("crash test seed: {seed} (rerun with OIX_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let (_t, dir) = copy_fixture("single");
    // Start with a few hundred refs so index.json is not trivially small.
    let initial: Vec<String> = (0..300).map(|i| format!("base-{i:03}")).collect();
    let mut args = vec!["tag".to_string(), at(&dir, ":latest")];
    args.extend(initial.iter().cloned());
    oix(&args).ok();
    let op_time = calibrate(&dir);
    eprintln!("one write takes ~{op_time:?}");

    // Refs known present (their writer said so) and known absent (untagged by a writer
    // that said so). Refs touched by killed writers are in neither.
    let mut present: BTreeSet<String> = initial.into_iter().collect();
    present.insert("latest".into());
    let mut absent: BTreeSet<String> = BTreeSet::new();
    let mut next_name = 0usize;
    let (mut killed, mut finished) = (0usize, 0usize);
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < MAX_ROUNDS && start.elapsed() < MAX_TIME {
        rounds += 1;
        // 1–3 writers with disjoint names.
        let writers = 1 + rng.below(3);
        let mut ops = Vec::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for _ in 0..writers {
            let n = 1 + rng.below(3);
            let candidates: Vec<&String> = present
                .iter()
                .filter(|r| *r != "latest" && !taken.contains(*r))
                .collect();
            if rng.below(3) == 0 && candidates.len() > n {
                let mut names = Vec::new();
                while names.len() < n {
                    let c = candidates[rng.below(candidates.len())].clone();
                    if !names.contains(&c) {
                        names.push(c);
                    }
                }
                taken.extend(names.iter().cloned());
                ops.push(Op::Untag(names));
            } else {
                let names: Vec<String> = (0..n)
                    .map(|_| {
                        next_name += 1;
                        format!("r{rounds}-n{next_name}")
                    })
                    .collect();
                ops.push(Op::Tag(names));
            }
        }
        let mut children: Vec<Child> = ops.iter().map(|op| spawn(&dir, op)).collect();
        // Kill somewhere between "just started" and "about done".
        let max = (op_time.as_micros() as u64 * 3 / 2).max(2_000);
        std::thread::sleep(Duration::from_micros(rng.below(max as usize) as u64));
        for c in &mut children {
            let _ = c.kill(); // SIGKILL; a no-op when it already exited
        }
        for (child, op) in children.into_iter().zip(&ops) {
            let out = child.wait_with_output().unwrap();
            let names = match op {
                Op::Tag(n) | Op::Untag(n) => n,
            };
            match (out.status.code(), out.status.signal()) {
                (Some(0), _) => {
                    finished += 1;
                    for n in names {
                        if matches!(op, Op::Tag(_)) {
                            present.insert(n.clone());
                        } else {
                            present.remove(n);
                            absent.insert(n.clone());
                        }
                    }
                }
                (None, Some(9)) => {
                    killed += 1;
                    // Unknown outcome, but all or nothing: check it below.
                    for n in names {
                        present.remove(n);
                    }
                }
                other => panic!(
                    "seed {seed} round {rounds}: writer ended with {other:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }

        // The layout is whole.
        let bytes = std::fs::read(dir.join("index.json")).unwrap();
        let index: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("seed {seed} round {rounds}: index.json does not parse: {e}")
        });
        assert_eq!(index["schemaVersion"], 2);
        oix(&["ls", &dir.display().to_string()]).ok();
        fsck(&dir).ok();
        let now: BTreeSet<String> = ref_names(&dir).into_iter().collect();
        for n in &present {
            assert!(
                now.contains(n),
                "seed {seed} round {rounds}: committed ref {n} lost"
            );
        }
        for n in &absent {
            assert!(
                !now.contains(n),
                "seed {seed} round {rounds}: untagged ref {n} is back"
            );
        }
        assert_eq!(
            now.len(),
            index_entries(&dir).len(),
            "seed {seed} round {rounds}: duplicate ref entries"
        );
        // Killed multi-name transactions: all names or none.
        for op in &ops {
            let names = match op {
                Op::Tag(n) | Op::Untag(n) => n,
            };
            let here = names.iter().filter(|n| now.contains(*n)).count();
            assert!(
                here == 0 || here == names.len(),
                "seed {seed} round {rounds}: half-applied transaction {names:?}"
            );
            // Learn the outcome of killed writers so later rounds can rely on it.
            for n in names {
                if now.contains(n) {
                    present.insert(n.clone());
                    absent.remove(n);
                } else {
                    absent.insert(n.clone());
                    present.remove(n);
                }
            }
        }
    }
    eprintln!(
        "{rounds} rounds in {:?}: {killed} writers killed mid-flight, {finished} finished",
        start.elapsed()
    );
    assert!(
        killed >= rounds / 10,
        "too few kills landed inside a write ({killed} in {rounds} rounds); the test is not testing"
    );
    // Writers still work after all that, and the leftovers are only stale temp files gc
    // removes.
    oix(&["tag", &at(&dir, ":latest"), "after-the-storm"]).ok();
    assert_fsck_clean(&dir);
    oix(&["gc", &dir.display().to_string()]).ok();
    let stale: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oix-tmp-"))
        .collect();
    assert!(stale.is_empty(), "gc left temp files: {stale:?}");
    assert_fsck_clean(&dir);
}
