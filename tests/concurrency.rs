//! Many oix processes editing one layout at once never lose each other's edits.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::thread;

const WORKERS: usize = 8;
const TAGS_PER_WORKER: usize = 50;

/// Run `f(worker)` on WORKERS threads, each starting its own oix processes.
fn in_parallel(f: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..WORKERS).map(|w| s.spawn(move || f(w))).collect();
        for h in handles {
            h.join().expect("worker failed");
        }
    });
}

fn name(w: usize, i: usize) -> String {
    format!("w{w}-t{i:02}")
}

#[test]
fn eight_processes_times_fifty_tags_lose_nothing() {
    let (_t, dir) = copy_fixture("multiarch");
    let idx = digest_of_ref(&dir, "latest");
    let children: Vec<String> = blob_json(&dir, &idx)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .collect();
    let dir: &Path = &dir;
    // Each worker runs 50 `oix tag` processes one after the other, all 8 at once; the
    // sources vary (by ref, by the index digest, by a child digest) so entries differ.
    in_parallel(|w| {
        for i in 0..TAGS_PER_WORKER {
            let source = match i % 3 {
                0 => at(dir, ":latest"),
                1 => at(dir, &format!("@{idx}")),
                _ => at(dir, &format!("@{}", children[(w + i) % children.len()])),
            };
            oix(&["tag", &source, &name(w, i)]).ok();
        }
    });
    let names: BTreeSet<String> = ref_names(dir).into_iter().collect();
    assert_eq!(names.len(), WORKERS * TAGS_PER_WORKER + 1, "refs lost");
    for w in 0..WORKERS {
        for i in 0..TAGS_PER_WORKER {
            assert!(names.contains(&name(w, i)), "{} missing", name(w, i));
            let want = match i % 3 {
                0 | 1 => idx.clone(),
                _ => children[(w + i) % children.len()].clone(),
            };
            assert_eq!(digest_of_ref(dir, &name(w, i)), want, "{}", name(w, i));
        }
    }
    // No duplicate entries either (one entry per name).
    assert_eq!(index_entries(dir).len(), WORKERS * TAGS_PER_WORKER + 1);
    assert_fsck_clean(dir);

    // skopeo reads a sample of them: one per worker, by ref.
    if let Some(sk) = tool("skopeo") {
        for w in 0..WORKERS {
            let n = name(w, (w * 7) % TAGS_PER_WORKER);
            let raw = skopeo(
                &sk,
                &["inspect", "--raw", &format!("oci:{}:{n}", dir.display())],
            )
            .ok();
            assert_eq!(raw.stdout, blob(dir, &digest_of_ref(dir, &n)), "{n}");
        }
    }

    // Concurrent untags (each worker removes its odd tags) with concurrent tags (each
    // adds new ones): exactly the expected set remains.
    in_parallel(|w| {
        for i in (1..TAGS_PER_WORKER).step_by(2) {
            oix(&["untag", &at(dir, &format!(":{}", name(w, i)))]).ok();
            oix(&["tag", &at(dir, ":latest"), &format!("again-{w}-{i}")]).ok();
        }
    });
    let names: BTreeSet<String> = ref_names(dir).into_iter().collect();
    let mut want: BTreeSet<String> = BTreeSet::from(["latest".to_string()]);
    for w in 0..WORKERS {
        for i in 0..TAGS_PER_WORKER {
            if i % 2 == 0 {
                want.insert(name(w, i));
            } else {
                want.insert(format!("again-{w}-{i}"));
            }
        }
    }
    assert_eq!(names, want);
    assert_fsck_clean(dir);
}
