//! Eight processes editing one layout at once, with every kind of edit, lose nothing.
//!
//! Each of 8 workers runs oix processes back to back for a bounded time
//! (`OIX_MIXED_SECONDS`, default 20), choosing at random: `tag` (a new ref), `index add`
//! to its own ref and to a shared ref (each worker adds its own platform, imported from
//! another layout), `untag` of its own ref (making its blobs garbage for gc), `annotate`
//! of the shared index (each worker its own key, a rising sequence number), `apply` of
//! a release plan (stores a new index, then tags it) and `gc`.
//! The only error allowed is the documented lock timeout. At the end: every worker's
//! last successful edit is visible (tags, its own ref exactly, its platform and its
//! annotation on the shared ref), and `oix fsck` is clean.
//!
//! A second test holds blobs written with `Layout::write_blob` (not yet referenced)
//! while `oix gc` runs, then references them: gc must never delete them; then races gc
//! against `index add` from another layout and `import` of an archive.

mod common;

use common::*;
use oix::model::{media, Descriptor};
use oix::Layout;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WORKERS: usize = 8;

/// Ends a background loop when the test body finishes, also when it panics (else the
/// scope would wait for the loop forever).
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn platform_of(entry: &Value) -> String {
    let p = &entry["platform"];
    let mut s = format!(
        "{}/{}",
        p["os"].as_str().unwrap_or(""),
        p["architecture"].as_str().unwrap_or("")
    );
    if let Some(v) = p["variant"].as_str().filter(|v| !v.is_empty()) {
        s.push('/');
        s.push_str(v);
    }
    s
}

/// `Some(true)` ok, `Some(false)` the documented lock timeout, panics on anything else.
fn run_edit(args: &[String]) -> bool {
    let mut full = vec!["--lock-timeout=20".to_string()];
    full.extend(args.iter().cloned());
    let out = oix_cmd(&full)
        .stdin(Stdio::null())
        .output()
        .expect("run oix");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => true,
        Some(1) if stderr.contains("timed out after") => false,
        other => panic!(
            "`oix {}` failed with {other:?} (only the lock timeout is allowed):\n{stderr}",
            args.join(" ")
        ),
    }
}

/// What one worker knows it did (its last successful edits).
#[derive(Default, Debug)]
struct Ledger {
    tags: Vec<String>,
    /// Its own ref: platform → digest, exactly (None: untagged).
    own: Option<BTreeMap<String, String>>,
    /// Its platform on the shared ref, once added.
    shared_added: bool,
    /// Last annotation value it set on the shared index.
    shared_seq: Option<u64>,
    /// Release tags its `oix apply` runs set.
    applied: Vec<String>,
    edits: usize,
    timeouts: usize,
    gcs: usize,
    /// Per kind of edit: (succeeded, lock timeouts).
    by_kind: BTreeMap<&'static str, (usize, usize)>,
}

struct Setup {
    dst: PathBuf,
    src: PathBuf,
    /// (digest, platform) of the source images.
    images: Vec<(String, String)>,
}

fn worker(w: usize, s: &Setup, until: Instant, seed: u64) -> Ledger {
    let mut rng = Rng((seed ^ (w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
    let mut l = Ledger::default();
    let d = |suffix: &str| at(&s.dst, suffix);
    let own_ref = format!("own-{w}");
    let (my_digest, my_platform) = s.images[w % s.images.len()].clone();
    let source =
        |digest: &str, platform: &str| format!("{}={platform}", at(&s.src, &format!("@{digest}")));
    let mut seq = 0u64;
    while Instant::now() < until {
        let roll = rng.below(100);
        let (args, kind): (Vec<String>, &'static str) = match roll {
            0..=14 => {
                let name = format!("w{w}-t{}", l.tags.len() + l.timeouts);
                (vec!["tag".into(), d(":latest"), name], "tag")
            }
            15..=34 => {
                let (dg, p) = s.images[rng.below(s.images.len())].clone();
                (
                    vec![
                        "index".into(),
                        "add".into(),
                        d(&format!(":{own_ref}")),
                        source(&dg, &p),
                    ],
                    "add-own",
                )
            }
            35..=44 if l.own.is_some() => {
                (vec!["untag".into(), d(&format!(":{own_ref}"))], "untag-own")
            }
            45..=59 => (
                vec![
                    "index".into(),
                    "add".into(),
                    d(":shared"),
                    source(&my_digest, &my_platform),
                ],
                "add-shared",
            ),
            75..=89 => {
                // A release plan assembling two imported images into a new index (a new
                // document each run): stored in one phase, tagged in the next.
                seq += 1;
                let plan = s.dst.parent().unwrap().join(format!("plan-{w}.yaml"));
                let (d1, p1) = &s.images[rng.below(s.images.len())];
                let (d2, p2) = &s.images[(w + 1) % s.images.len()];
                let mut sources = vec![format!("./src@{d1}={p1}")];
                if p2 != p1 {
                    sources.push(format!("./src@{d2}={p2}"));
                }
                let text = format!(
                    "version: 1\nlayout: ./dst\nimages:\n  - name: app{w}\n    sources: {sources:?}\n    policy: replace\n    tags: [r{seq}]\n    annotations:\n      dev.oix.run: \"{seq}\"\n"
                );
                std::fs::write(&plan, text).unwrap();
                (vec!["apply".into(), plan.display().to_string()], "apply")
            }
            60..=74 => {
                seq += 1;
                (
                    vec![
                        "annotate".into(),
                        d(":shared"),
                        "--set".into(),
                        format!("dev.oix.worker{w}={seq}"),
                    ],
                    "annotate-shared",
                )
            }
            _ => (vec!["gc".into(), s.dst.display().to_string()], "gc"),
        };
        let stat = l.by_kind.entry(kind).or_default();
        if !run_edit(&args) {
            stat.1 += 1;
            l.timeouts += 1;
            continue;
        }
        stat.0 += 1;
        l.edits += 1;
        match kind {
            "tag" => l.tags.push(args[2].clone()),
            "add-own" => {
                let (dg, p) = args[3]
                    .rsplit_once('=')
                    .map(|(r, p)| (r.rsplit_once('@').unwrap().1.to_string(), p.to_string()))
                    .unwrap();
                l.own.get_or_insert_with(BTreeMap::new).insert(p, dg);
            }
            "untag-own" => l.own = None,
            "add-shared" => l.shared_added = true,
            "annotate-shared" => l.shared_seq = Some(seq),
            "apply" => l.applied.push(format!("app{w}:r{seq}")),
            _ => l.gcs += 1,
        }
    }
    l
}

#[test]
fn eight_processes_mixed_edits_lose_nothing() {
    let seed: u64 = env_or("OIX_MIXED_SEED", {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        t.as_nanos() as u64 | 1
    });
    let secs: u64 = env_or("OIX_MIXED_SECONDS", 20);
    eprintln!("concurrency_mixed seed: {seed} (OIX_MIXED_SEED={seed}), {secs} s");
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let src = tmp.path().join("src");
    // The destination starts with one amd64 image; the others are imported (hard
    // links) from src by `index add`, become garbage on untag, and gc races the imports.
    copy_tree(&fixtures().join("single"), &dst);
    copy_tree(&fixtures().join("multiarch"), &src);
    let idx = digest_of_ref(&src, "latest");
    let images: Vec<(String, String)> = blob_json(&src, &idx)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["digest"].as_str().unwrap().to_string(), platform_of(c)))
        .collect();
    let (d0, p0) = &images[0];
    oix(&[
        "index".to_string(),
        "add".into(),
        at(&dst, ":shared"),
        format!("{}={p0}", at(&src, &format!("@{d0}"))),
    ])
    .ok();
    let setup = Setup {
        dst: dst.clone(),
        src,
        images: images.clone(),
    };
    let until = Instant::now() + Duration::from_secs(secs);
    let ledgers: Vec<Ledger> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let setup = &setup;
                sc.spawn(move || worker(w, setup, until, seed))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });

    // Every last successful edit is visible.
    let names: BTreeSet<String> = ref_names(&dst).into_iter().collect();
    let shared = blob_json(&dst, &digest_of_ref(&dst, "shared"));
    let shared_entries: BTreeMap<String, String> = shared["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (platform_of(c), c["digest"].as_str().unwrap().to_string()))
        .collect();
    let mut checked = 0usize;
    for (w, l) in ledgers.iter().enumerate() {
        for t in l.tags.iter().chain(&l.applied) {
            assert!(names.contains(t), "worker {w}: ref {t} lost");
            checked += 1;
        }
        match &l.own {
            None => assert!(
                !names.contains(&format!("own-{w}")),
                "worker {w}: untag undone"
            ),
            Some(want) => {
                let own = blob_json(&dst, &digest_of_ref(&dst, &format!("own-{w}")));
                let have: BTreeMap<String, String> = own["manifests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (platform_of(c), c["digest"].as_str().unwrap().to_string()))
                    .collect();
                assert_eq!(
                    &have, want,
                    "worker {w}: own ref differs from its last edits"
                );
            }
        }
        checked += 1;
        if l.shared_added {
            let (dg, p) = &images[w % images.len()];
            assert_eq!(
                shared_entries.get(p),
                Some(dg),
                "worker {w}: its {p} entry on the shared ref was lost"
            );
            checked += 1;
        }
        if let Some(seq) = l.shared_seq {
            assert_eq!(
                shared["annotations"][format!("dev.oix.worker{w}")],
                seq.to_string(),
                "worker {w}: its last annotation on the shared ref was lost"
            );
            checked += 1;
        }
    }
    assert_fsck_clean(&dst);
    if let Some(sk) = tool("skopeo") {
        skopeo(
            &sk,
            &["inspect", "--raw", &format!("oci:{}:shared", dst.display())],
        )
        .ok();
    }
    let edits: usize = ledgers.iter().map(|l| l.edits).sum();
    let timeouts: usize = ledgers.iter().map(|l| l.timeouts).sum();
    let gcs: usize = ledgers.iter().map(|l| l.gcs).sum();
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for l in &ledgers {
        for (kind, (ok, timeouts)) in &l.by_kind {
            let e = by_kind.entry(kind).or_default();
            e.0 += ok;
            e.1 += timeouts;
        }
    }
    eprintln!(
        "concurrency_mixed: {WORKERS} processes, {secs} s, {edits} successful edits ({gcs} gc runs), \
         {timeouts} lock timeouts, {checked} last edits checked visible, fsck clean"
    );
    eprintln!("concurrency_mixed per kind (succeeded, lock timeouts): {by_kind:?}");
    assert!(edits >= WORKERS * 10, "too few edits ran ({edits})");
}

/// gc while a writer holds blobs it has written but not yet referenced: gc waits for
/// the writer (or times out) and never deletes them.
#[test]
fn gc_never_deletes_blobs_a_writer_is_about_to_reference() {
    let (_t, dir) = copy_fixture("single");
    let writer = Layout::open(&dir).unwrap();
    // A new image: a config and a manifest, written but referenced by nothing yet.
    let config =
        br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cfg = writer.write_blob_bytes(config).unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{cfg}","size":{}}},"layers":[]}}"#,
        media::OCI_MANIFEST,
        media::OCI_CONFIG,
        config.len()
    );
    let man = writer.write_blob_bytes(manifest.as_bytes()).unwrap();
    let blob_path = |d: &oix::Digest| dir.join("blobs/sha256").join(d.encoded());

    // 1. A gc with a short lock timeout cannot get in while the writer holds its blobs.
    let r = oix(&["--lock-timeout=0.5", "gc", &dir.display().to_string()]);
    assert_eq!(r.code, 1, "gc must wait for the writer: {}", r.all_output());
    assert!(r.stderr.contains("timed out after"), "{}", r.stderr);
    assert!(blob_path(&cfg).exists() && blob_path(&man).exists());

    // 2. A gc with a long timeout starts while the writer is mid-import; the writer then
    //    references its blobs and finishes; gc runs after it and keeps them.
    let gc_out: Mutex<Option<Run>> = Mutex::new(None);
    std::thread::scope(|sc| {
        let dir = &dir;
        let gc_out = &gc_out;
        sc.spawn(move || {
            *gc_out.lock().unwrap() = Some(oix(&[
                "--lock-timeout=30",
                "gc",
                &dir.display().to_string(),
            ]));
        });
        std::thread::sleep(Duration::from_millis(500));
        let desc = Descriptor::new(media::OCI_MANIFEST, &man, manifest.len() as u64);
        oix::tags::tag(&writer, &desc, &["arm".to_string()]).unwrap();
        drop(writer); // releases the writer fence
    });
    let r = gc_out.into_inner().unwrap().expect("gc ran");
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        blob_path(&cfg).exists(),
        "gc deleted the config the writer referenced"
    );
    assert!(
        blob_path(&man).exists(),
        "gc deleted the manifest the writer referenced"
    );
    assert_fsck_clean(&dir);
    assert_eq!(digest_of_ref(&dir, "arm"), man.to_string());

    // 3. Same race through the CLI: `index add` from another layout while gc loops.
    let gc_runs = std::sync::atomic::AtomicUsize::new(0);
    let (mut adds, mut imports) = (0usize, 0usize);
    let (_t2, src) = copy_fixture("multiarch");
    let idx = digest_of_ref(&src, "latest");
    let children: Vec<(String, String)> = blob_json(&src, &idx)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["digest"].as_str().unwrap().to_string(), platform_of(c)))
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|sc| {
        let (dir, stop, gc_runs) = (&dir, &stop, &gc_runs);
        sc.spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                oix(&["--lock-timeout=30", "gc", &dir.display().to_string()]).ok();
                gc_runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let _stop = StopOnDrop(stop);
        for _round in 0..10 {
            for (d, p) in &children {
                oix(&[
                    "--lock-timeout=30".to_string(),
                    "index".into(),
                    "add".into(),
                    at(dir, ":racing"),
                    format!("{}={p}", at(&src, &format!("@{d}"))),
                ])
                .ok();
                adds += 1;
            }
            assert_fsck_clean(dir);
            // Make everything garbage again for the next round.
            oix(&[
                "--lock-timeout=30".to_string(),
                "untag".into(),
                at(dir, ":racing"),
            ])
            .ok();
        }
    });
    assert_fsck_clean(&dir);

    // 4. And `import` of an archive whose blobs are garbage in the target (found present,
    //    so not written again) while gc loops: every import succeeds, nothing goes missing.
    let archive = dir.parent().unwrap().join("multiarch.tar");
    oix(&[
        "export".to_string(),
        at(&src, ":latest"),
        "-o".into(),
        archive.display().to_string(),
    ])
    .ok();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|sc| {
        let (dir, stop, gc_runs) = (&dir, &stop, &gc_runs);
        sc.spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                oix(&["--lock-timeout=30", "gc", &dir.display().to_string()]).ok();
                gc_runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let _stop = StopOnDrop(stop);
        for _ in 0..15 {
            oix(&[
                "--lock-timeout=30".to_string(),
                "import".into(),
                archive.display().to_string(),
                "-o".into(),
                at(dir, ":imported"),
            ])
            .ok();
            imports += 1;
            assert_fsck_clean(dir);
            oix(&[
                "--lock-timeout=30".to_string(),
                "untag".into(),
                at(dir, ":imported"),
            ])
            .ok();
        }
    });
    assert_fsck_clean(&dir);
    eprintln!(
        "gc racing writers: 2 blobs held through 2 gc runs, {adds} index adds from another layout \
         and {imports} imports succeeded while {} gc runs looped; fsck clean after each",
        gc_runs.load(std::sync::atomic::Ordering::Relaxed)
    );
}
