//! SIGKILL at random moments of every oix writer never tears a layout or loses an edit.
//!
//! Each round starts one to three writers on one layout — `tag`, `index add` (to a new
//! ref, and to a shared ref every add extends), `merge`, `annotate` (descriptors, and
//! `--manifest`), `index rm`, `gc`, `import` (an oci-archive of content the layout lacks)
//! and `build` (a 2 MiB root filesystem) — and SIGKILLs them after a random delay aimed
//! inside the write (calibrated per operation on this machine). After every round:
//! - index.json parses, `oix fsck` (full) is clean;
//! - skopeo (`skopeo inspect oci:DIR:REF`) reads a ref picked at random;
//! - every operation that reported success (in this or an earlier round) is visible;
//! - every killed operation applied all of its change or none of it (learned, then
//!   checked like a success from then on).
//!
//! Bounded to `OIX_CRASH_SECONDS` (default 60) and `OIX_CRASH_ROUNDS` (default 400). The
//! PRNG seed is printed; replay with `OIX_CRASH_SEED=<seed>`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    env_or(
        "OIX_CRASH_SEED",
        (t.as_nanos() as u64 ^ std::process::id() as u64) | 1,
    )
}

/// One image of the source layout: its descriptor digest and `os/arch[/variant]`.
#[derive(Clone, Debug)]
struct Image {
    digest: String,
    platform: String,
}

/// What a writer promises once it reported success.
#[derive(Clone, Debug)]
enum Expect {
    /// REF names exactly this digest.
    Ref { name: String, digest: String },
    /// REF is an index with these (platform, digest) entries (and maybe others).
    Entries {
        name: String,
        entries: Vec<(String, String)>,
    },
    /// REF's entry for PLATFORM carries annotation KEY=VALUE on its descriptor.
    DescAnnotation {
        name: String,
        platform: String,
        key: String,
        value: String,
    },
    /// REF's entry for PLATFORM points at a manifest carrying KEY=VALUE.
    ManifestAnnotation {
        name: String,
        platform: String,
        key: String,
        value: String,
    },
    /// REF's index has no entry for PLATFORM.
    NoPlatform { name: String, platform: String },
}

impl Expect {
    fn name(&self) -> &str {
        match self {
            Expect::Ref { name, .. }
            | Expect::Entries { name, .. }
            | Expect::DescAnnotation { name, .. }
            | Expect::ManifestAnnotation { name, .. }
            | Expect::NoPlatform { name, .. } => name,
        }
    }
}

#[derive(Clone, Debug)]
struct Op {
    kind: &'static str,
    args: Vec<String>,
    /// What success means (none for gc: its promise is a clean fsck).
    expect: Option<Expect>,
    /// For an edit of an existing ref: its digest before, so a killed edit can be
    /// checked to be all or nothing.
    before: Option<(String, String)>,
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

fn ref_digest(dir: &Path, name: &str) -> Option<String> {
    index_entries(dir)
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .and_then(|d| d["digest"].as_str().map(str::to_string))
}

fn index_children(dir: &Path, digest: &str) -> Vec<Value> {
    blob_json(dir, digest)["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Does `e` hold in `dir` now? Err says why not.
fn holds(dir: &Path, e: &Expect) -> Result<(), String> {
    let name = e.name();
    let digest = ref_digest(dir, name).ok_or_else(|| format!("ref {name} is missing"))?;
    let entry_for = |platform: &str| -> Result<Value, String> {
        index_children(dir, &digest)
            .into_iter()
            .find(|c| platform_of(c) == platform)
            .ok_or_else(|| format!("{name}: no {platform} entry"))
    };
    match e {
        Expect::Ref { digest: want, .. } => (digest == *want)
            .then_some(())
            .ok_or(format!("{name} is {digest}, not {want}")),
        Expect::Entries { entries, .. } => {
            for (p, d) in entries {
                let c = entry_for(p)?;
                if c["digest"] != d.as_str() {
                    return Err(format!("{name}: {p} is {}, not {d}", c["digest"]));
                }
            }
            Ok(())
        }
        Expect::DescAnnotation {
            platform,
            key,
            value,
            ..
        } => {
            let c = entry_for(platform)?;
            (c["annotations"][key] == value.as_str())
                .then_some(())
                .ok_or(format!("{name}: {platform} descriptor lacks {key}={value}"))
        }
        Expect::ManifestAnnotation {
            platform,
            key,
            value,
            ..
        } => {
            let c = entry_for(platform)?;
            let m = blob_json(dir, c["digest"].as_str().unwrap());
            (m["annotations"][key] == value.as_str())
                .then_some(())
                .ok_or(format!("{name}: {platform} manifest lacks {key}={value}"))
        }
        Expect::NoPlatform { platform, .. } => match entry_for(platform) {
            Ok(_) => Err(format!("{name} still has {platform}")),
            Err(_) => Ok(()),
        },
    }
}

struct World {
    dst: PathBuf,
    src: PathBuf,
    images: Vec<Image>,
    /// The multiarch index every pool ref starts at.
    base: String,
    pool: Vec<String>,
    next: usize,
    /// An oci-archive of fixtures/nested (blobs dst does not have) and its index digest.
    archive: PathBuf,
    archive_digest: String,
    /// A root filesystem directory for `oix build`, and the digest it builds to.
    rootfs: PathBuf,
    built_digest: String,
}

impl World {
    /// Tag 100 more refs for the annotate / rm writers to consume, one each.
    fn refill_pool(&mut self) {
        let names: Vec<String> = (0..100).map(|_| self.fresh("pool")).collect();
        let mut args = vec!["tag".to_string(), at(&self.dst, ":latest")];
        args.extend(names.iter().cloned());
        oix(&args).ok();
        self.pool.extend(names);
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }

    fn op(&mut self, kind: &'static str, rng: &mut Rng) -> Option<Op> {
        let (dst, src) = (self.dst.clone(), self.src.clone());
        let d = |s: &str| at(&dst, s);
        let img = self.images[rng.below(self.images.len())].clone();
        let src_img = |i: &Image| format!("{}={}", at(&src, &format!("@{}", i.digest)), i.platform);
        Some(match kind {
            "tag" => {
                let name = self.fresh("tag");
                Op {
                    kind,
                    args: vec!["tag".into(), d(":latest"), name.clone()],
                    expect: Some(Expect::Ref {
                        name,
                        digest: self.base.clone(),
                    }),
                    before: None,
                }
            }
            "index-add-new" => {
                let name = self.fresh("add");
                let other = self.images[rng.below(self.images.len())].clone();
                let mut args = vec![
                    "index".into(),
                    "add".into(),
                    d(&format!(":{name}")),
                    src_img(&img),
                ];
                let mut entries = vec![(img.platform.clone(), img.digest.clone())];
                if other.platform != img.platform {
                    args.push(src_img(&other));
                    entries.push((other.platform.clone(), other.digest.clone()));
                }
                Op {
                    kind,
                    args,
                    expect: Some(Expect::Entries { name, entries }),
                    before: None,
                }
            }
            "index-add-shared" => Op {
                // Every add extends one shared ref (keyed on platform, same digest for a
                // platform every time): a lost update would drop a platform.
                kind,
                args: vec!["index".into(), "add".into(), d(":shared"), src_img(&img)],
                expect: Some(Expect::Entries {
                    name: "shared".into(),
                    entries: vec![(img.platform.clone(), img.digest.clone())],
                }),
                before: None,
            },
            "merge" => {
                let name = self.fresh("merged");
                Op {
                    kind,
                    args: vec![
                        "merge".into(),
                        "--policy".into(),
                        "union".into(),
                        d(&format!(":{name}")),
                        at(&src, ":latest"),
                    ],
                    expect: Some(Expect::Entries {
                        name,
                        entries: self
                            .images
                            .iter()
                            .map(|i| (i.platform.clone(), i.digest.clone()))
                            .collect(),
                    }),
                    before: None,
                }
            }
            "annotate" | "annotate-manifest" | "index-rm" => {
                let name = self.pool.pop()?;
                let value = format!("v{}", rng.next() % 1_000_000);
                let (args, expect) = match kind {
                    "annotate" => (
                        vec![
                            "annotate".into(),
                            d(&format!(":{name}")),
                            "--platform".into(),
                            img.platform.clone(),
                            "--set".into(),
                            format!("dev.oix.crash={value}"),
                        ],
                        Expect::DescAnnotation {
                            name: name.clone(),
                            platform: img.platform.clone(),
                            key: "dev.oix.crash".into(),
                            value,
                        },
                    ),
                    "annotate-manifest" => (
                        vec![
                            "annotate".into(),
                            d(&format!(":{name}")),
                            "--platform".into(),
                            img.platform.clone(),
                            "--manifest".into(),
                            "--set".into(),
                            format!("dev.oix.crash={value}"),
                        ],
                        Expect::ManifestAnnotation {
                            name: name.clone(),
                            platform: img.platform.clone(),
                            key: "dev.oix.crash".into(),
                            value,
                        },
                    ),
                    _ => (
                        vec![
                            "index".into(),
                            "rm".into(),
                            d(&format!(":{name}")),
                            "--platform".into(),
                            img.platform.clone(),
                        ],
                        Expect::NoPlatform {
                            name: name.clone(),
                            platform: img.platform.clone(),
                        },
                    ),
                };
                Op {
                    kind,
                    args,
                    expect: Some(expect),
                    before: Some((name, self.base.clone())),
                }
            }
            "gc" => Op {
                kind,
                args: vec!["gc".into(), self.dst.display().to_string()],
                expect: None,
                before: None,
            },
            "import" => {
                let name = self.fresh("imported");
                Op {
                    kind,
                    args: vec![
                        "import".into(),
                        self.archive.display().to_string(),
                        "-o".into(),
                        d(&format!(":{name}")),
                    ],
                    expect: Some(Expect::Ref {
                        name,
                        digest: self.archive_digest.clone(),
                    }),
                    before: None,
                }
            }
            "build" => {
                let name = self.fresh("built");
                Op {
                    kind,
                    args: vec![
                        "build".into(),
                        self.rootfs.display().to_string(),
                        "-o".into(),
                        d(&format!(":{name}")),
                        "--platform".into(),
                        "linux/amd64".into(),
                    ],
                    expect: Some(Expect::Ref {
                        name,
                        digest: self.built_digest.clone(),
                    }),
                    before: None,
                }
            }
            _ => unreachable!("unknown op {kind}"),
        })
    }
}

const KINDS: &[&str] = &[
    "tag",
    "index-add-new",
    "index-add-shared",
    "merge",
    "annotate",
    "annotate-manifest",
    "index-rm",
    "gc",
    "import",
    "build",
];

/// `skopeo inspect oci:DIR:REF` (config and all); for an index, the platform of its
/// first entry is chosen with --override-* (skopeo would pick the host's, which an index
/// may not have).
fn skopeo_inspect(sk: &Path, dir: &Path, name: &str) {
    let digest = ref_digest(dir, name).expect("ref exists");
    let doc = blob_json(dir, &digest);
    let mut args: Vec<String> = Vec::new();
    let mut raw = false;
    if let Some(children) = doc["manifests"].as_array() {
        match children.first() {
            Some(c) => {
                let p = &c["platform"];
                for (flag, key) in [
                    ("--override-os", "os"),
                    ("--override-arch", "architecture"),
                    ("--override-variant", "variant"),
                ] {
                    if let Some(v) = p[key].as_str() {
                        args.push(flag.into());
                        args.push(v.into());
                    }
                }
            }
            None => raw = true,
        }
    }
    args.push("inspect".into());
    if raw {
        args.push("--raw".into());
    }
    args.push(format!("oci:{}:{name}", dir.display()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    skopeo(sk, &args).ok();
}

fn spawn(op: &Op) -> Child {
    let mut args = vec!["--lock-timeout=30".to_string()];
    args.extend(op.args.iter().cloned());
    oix_cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oix")
}

#[test]
fn sigkilled_writes_of_every_kind_never_tear_or_lose() {
    let seed = seed();
    let max_time = Duration::from_secs(env_or("OIX_CRASH_SECONDS", 60));
    let max_rounds: usize = env_or("OIX_CRASH_ROUNDS", 400);
    eprintln!("crash_ops seed: {seed} (rerun with OIX_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let sk = tool("skopeo");

    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    copy_tree(&fixtures().join("multiarch"), &src);
    copy_tree(&fixtures().join("multiarch"), &dst);
    let base = digest_of_ref(&dst, "latest");
    let images: Vec<Image> = index_children(&src, &base)
        .iter()
        .map(|c| Image {
            digest: c["digest"].as_str().unwrap().to_string(),
            platform: platform_of(c),
        })
        .collect();
    // An archive of content dst does not hold yet, and a root filesystem to build.
    let archive = tmp.path().join("nested.tar");
    oix(&[
        "export".to_string(),
        at(&fixtures().join("nested"), ":latest"),
        "-o".into(),
        archive.display().to_string(),
    ])
    .ok();
    let archive_digest = digest_of_ref(&fixtures().join("nested"), "latest");
    let rootfs = tmp.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/motd"), "built by crash_ops\n").unwrap();
    let mut x = seed | 1;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(rootfs.join("noise.bin"), noise).unwrap();
    let probe = tmp.path().join("probe");
    oix(&[
        "build".to_string(),
        rootfs.display().to_string(),
        "-o".into(),
        at(&probe, ":b"),
        "--platform".into(),
        "linux/amd64".into(),
    ])
    .ok();
    let built_digest = digest_of_ref(&probe, "b");
    let mut world = World {
        dst: dst.clone(),
        src,
        images,
        base,
        pool: Vec::new(),
        next: 0,
        archive,
        archive_digest,
        rootfs,
        built_digest,
    };
    world.refill_pool();

    // How long each kind takes here, to aim the kills inside it.
    let mut took: BTreeMap<&str, Duration> = BTreeMap::new();
    for kind in KINDS {
        let op = world.op(kind, &mut rng).unwrap();
        let start = Instant::now();
        oix(&op.args).ok();
        took.insert(kind, start.elapsed());
    }
    eprintln!("calibration: {took:?}");

    let mut expects: Vec<Expect> = Vec::new();
    let (mut killed, mut finished, mut rounds, mut skopeo_reads) = (0usize, 0usize, 0usize, 0usize);
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let start = Instant::now();
    while rounds < max_rounds && start.elapsed() < max_time {
        rounds += 1;
        // Keep index.json small on long runs: retire the oldest refs (and their
        // expectations), and give the annotate / rm writers fresh refs.
        if expects.len() > 300 {
            let old: Vec<Expect> = expects.drain(..100).collect();
            let mut names: Vec<String> = old
                .iter()
                .map(|e| e.name().to_string())
                .filter(|n| n != "shared")
                .collect();
            names.sort();
            names.dedup();
            expects.retain(|e| !names.iter().any(|n| n == e.name()));
            let mut args = vec!["untag".to_string(), "--ignore-missing".into()];
            args.extend(names.iter().map(|n| at(&dst, &format!(":{n}"))));
            oix(&args).ok();
        }
        if world.pool.len() < 6 {
            world.refill_pool();
        }
        let n = 1 + rng.below(3);
        let mut ops = Vec::new();
        for _ in 0..n {
            let kind = KINDS[rng.below(KINDS.len())];
            if let Some(op) = world.op(kind, &mut rng) {
                ops.push(op);
            }
        }
        let aim = ops.iter().map(|o| took[o.kind]).max().unwrap_or_default();
        let mut children: Vec<Child> = ops.iter().map(spawn).collect();
        let max = (aim.as_micros() as u64 * 3 / 2).max(2_000);
        std::thread::sleep(Duration::from_micros(rng.next() % max));
        for c in &mut children {
            let _ = c.kill(); // SIGKILL; a no-op when it already exited
        }
        for (child, op) in children.into_iter().zip(&ops) {
            let out = child.wait_with_output().unwrap();
            let stat = by_kind.entry(op.kind).or_default();
            match (out.status.code(), out.status.signal()) {
                (Some(0), _) => {
                    finished += 1;
                    stat.0 += 1;
                    if let Some(e) = &op.expect {
                        if let Err(why) = holds(&dst, e) {
                            panic!(
                                "seed {seed} round {rounds}: `{}` succeeded but {why}",
                                op.args.join(" ")
                            );
                        }
                        expects.push(e.clone());
                    }
                }
                (None, Some(9)) => {
                    killed += 1;
                    stat.1 += 1;
                    // All or nothing: learn which, then hold it to that.
                    let Some(e) = &op.expect else { continue };
                    match (holds(&dst, e), &op.before) {
                        (Ok(()), _) => expects.push(e.clone()),
                        (Err(_), Some((name, digest))) => {
                            let now = ref_digest(&dst, name);
                            assert_eq!(
                                now.as_deref(),
                                Some(digest.as_str()),
                                "seed {seed} round {rounds}: killed `{}` left {name} half-changed",
                                op.args.join(" ")
                            );
                        }
                        (Err(_), None) => {
                            // A new ref: absent, or (for the shared ref) without this platform.
                        }
                    }
                }
                other => panic!(
                    "seed {seed} round {rounds}: `{}` ended with {other:?}: {}",
                    op.args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }

        // The layout is whole and nothing that succeeded was lost.
        let bytes = std::fs::read(dst.join("index.json")).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
            panic!("seed {seed} round {rounds}: index.json does not parse: {e}")
        });
        let f = fsck(&dst);
        assert_eq!(
            f.code,
            0,
            "seed {seed} round {rounds}: fsck is not clean:\n{}",
            f.all_output()
        );
        for e in &expects {
            if let Err(why) = holds(&dst, e) {
                panic!("seed {seed} round {rounds}: lost an edit that succeeded: {why}");
            }
        }
        if let Some(sk) = &sk {
            let names = ref_names(&dst);
            // One ref per round (skopeo takes ~50 ms); every ref over a run.
            let n = &names[rng.below(names.len())];
            skopeo_inspect(sk, &dst, n);
            skopeo_reads += 1;
        }
    }
    eprintln!(
        "crash_ops: {rounds} rounds in {:.1?}: {killed} writers killed mid-flight, {finished} finished; \
         {} successful edits checked after every round; {skopeo_reads} skopeo reads; per kind (finished, killed): {by_kind:?}",
        start.elapsed(),
        expects.len()
    );
    assert!(
        killed >= rounds / 5,
        "too few kills landed ({killed} in {rounds} rounds): the test is not testing"
    );
    // Writers still work, and gc leaves no temp files and a clean layout.
    oix(&["gc", &dst.display().to_string()]).ok();
    let stale: Vec<_> = std::fs::read_dir(&dst)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".oix-tmp-"))
        .collect();
    assert!(stale.is_empty(), "gc left temp files: {stale:?}");
    assert_fsck_clean(&dst);
    for e in &expects {
        holds(&dst, e).unwrap_or_else(|why| panic!("seed {seed}: after gc: {why}"));
    }
}
