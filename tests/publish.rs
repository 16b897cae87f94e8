//! `oix publish` (issue 15 items 3 and 4): per-arch pipelines that publish at the same
//! moment converge on a release tag that lists every arch's newest image, against the
//! real CNCF registry and against a layout on shared storage. One publisher process
//! per arch, all released together by a barrier file, round after round.

mod common;
mod common_registry;

use common::{oix_cmd, tiny_image};
use common_registry::*;
use oix::store::Names;
use oix::Layout;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const ARCHES: [&str; 4] = ["amd64", "arm64", "ppc64le", "s390x"];
const TEMPLATE: &str = "{tag}-{build}-{arch}";

/// One arch's build of one round: a layout holding `img`, a tiny image whose layer is
/// round-specific. Returns the layout path and the image digest.
fn build(dir: &Path, arch: &str, round: usize) -> (PathBuf, String) {
    let path = dir.join(format!("build-{arch}-{round}"));
    let l = Layout::init(&path).unwrap().0;
    let d = tiny_image(
        &l,
        arch,
        format!("{arch} build of round {round}").as_bytes(),
    );
    l.set_names(&["img".into()], &d).unwrap();
    (path, d.digest)
}

struct Outcome {
    arch: &'static str,
    code: i32,
    json: Option<Value>,
    stderr: String,
}

/// Start one publisher per `(arch, layout)`, each waiting for a barrier file, then
/// release them together and collect their outcomes.
fn race(
    scratch: &Path,
    dest: &str,
    build_id: &str,
    builds: &[(&'static str, PathBuf)],
    extra: &[&str],
) -> Vec<Outcome> {
    let barrier = scratch.join(format!("go-{build_id}"));
    let children: Vec<(&'static str, Child)> = builds
        .iter()
        .map(|(arch, layout)| {
            let oix = oix_cmd(["--json", "publish"]);
            let mut args: Vec<String> = vec![
                format!("{}:img", layout.display()),
                dest.to_string(),
                "--arch-tag".into(),
                TEMPLATE.into(),
                "--build".into(),
                build_id.into(),
                "--plain-http".into(),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            // sh waits for the barrier, then becomes the publisher.
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(r#"while [ ! -e "$0" ]; do sleep 0.005; done; exec "$@""#)
                .arg(&barrier)
                .arg(oix.get_program())
                .args(oix.get_args())
                .args(&args)
                .envs(
                    oix.get_envs()
                        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
                )
                .env("OIX_PUBLISH_BACKOFF_MS", "20")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            for (k, v) in oix.get_envs() {
                if v.is_none() {
                    c.env_remove(k);
                }
            }
            (*arch, c.spawn().unwrap())
        })
        .collect();
    std::fs::write(&barrier, b"").unwrap();
    children
        .into_iter()
        .map(|(arch, child)| {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!stderr.contains("panicked"), "{arch}: {stderr}");
            Outcome {
                arch,
                code: out.status.code().expect("killed by a signal"),
                json: serde_json::from_slice(&out.stdout).ok(),
                stderr,
            }
        })
        .collect()
}

fn retries(outcomes: &[Outcome]) -> usize {
    outcomes
        .iter()
        .filter_map(|o| o.json.as_ref())
        .map(|j| j["retries"].as_array().map_or(0, Vec::len))
        .sum()
}

/// Every index a publisher wrote, and the one each confirmed.
fn reported_indexes(outcomes: &[Outcome]) -> Vec<String> {
    let mut v = Vec::new();
    for j in outcomes.iter().filter_map(|o| o.json.as_ref()) {
        v.push(j["digest"].as_str().unwrap().to_string());
        for w in j["written"].as_array().unwrap() {
            v.push(w.as_str().unwrap().to_string());
        }
    }
    v.sort();
    v.dedup();
    v
}

/// arch -> (digest, carried-from annotation) of an index's entries.
fn entries(index: &Value) -> BTreeMap<String, (String, Option<String>)> {
    let mut m = BTreeMap::new();
    for e in index["manifests"].as_array().unwrap() {
        let arch = e["platform"]["architecture"].as_str().unwrap().to_string();
        let carried = e["annotations"]["dev.oix.merge.carried-from"]
            .as_str()
            .map(str::to_string);
        let prev = m.insert(
            arch.clone(),
            (e["digest"].as_str().unwrap().to_string(), carried),
        );
        assert!(prev.is_none(), "two entries for {arch}: {index}");
    }
    m
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", common::sha256_hex(bytes))
}

/// What the release looks like through one kind of destination.
trait Release {
    fn dest(&self) -> String;
    /// The raw bytes TAG names now.
    fn tag_bytes(&self) -> Vec<u8>;
    /// The raw bytes of a document by digest.
    fn bytes_of(&self, digest: &str) -> Vec<u8>;
}

struct RegistryRelease<'a> {
    reg: &'a RegistryServer,
    repo: &'a str,
    tag: &'a str,
}

impl Release for RegistryRelease<'_> {
    fn dest(&self) -> String {
        format!("docker://{}/{}:{}", self.reg.host(), self.repo, self.tag)
    }
    fn tag_bytes(&self) -> Vec<u8> {
        skopeo_raw(&self.dest(), &["--tls-verify=false"])
    }
    fn bytes_of(&self, digest: &str) -> Vec<u8> {
        let r = format!("docker://{}/{}@{digest}", self.reg.host(), self.repo);
        skopeo_raw(&r, &["--tls-verify=false"])
    }
}

struct LayoutRelease {
    path: PathBuf,
    tag: &'static str,
}

impl Release for LayoutRelease {
    fn dest(&self) -> String {
        format!("{}:{}", self.path.display(), self.tag)
    }
    fn tag_bytes(&self) -> Vec<u8> {
        let l = Layout::open(&self.path).unwrap();
        let d = l.resolve_name(self.tag).unwrap().expect("TAG exists");
        common::blob(&self.path, &d.digest)
    }
    fn bytes_of(&self, digest: &str) -> Vec<u8> {
        common::blob(&self.path, digest)
    }
}

/// `rounds` rounds of 4 concurrent publishers (keep-missing), each round a new build of
/// every arch: after every round TAG lists every arch's newest digest, nothing carried.
/// Then a round where s390x fails to build: keep-missing keeps its last good entry
/// (marked carried-from); then one more where require-all --expect refuses, exit 5 from
/// every publisher, TAG unchanged; then a full round under require-all (TAG complete,
/// early finishers may exit 5). Returns the per-arch digests of that last round.
fn rounds(scratch: &Path, rel: &dyn Release, rounds: usize) -> BTreeMap<String, String> {
    let mut lost = 0;
    let mut total_retries = 0;
    let mut newest = BTreeMap::new();
    let start = Instant::now();
    for round in 0..rounds {
        let builds: Vec<(&'static str, PathBuf, String)> = ARCHES
            .iter()
            .map(|a| {
                let (p, d) = build(scratch, a, round);
                (*a, p, d)
            })
            .collect();
        let pairs: Vec<(&'static str, PathBuf)> =
            builds.iter().map(|(a, p, _)| (*a, p.clone())).collect();
        let out = race(
            scratch,
            &rel.dest(),
            &format!("r{round}"),
            &pairs,
            &["--policy", "keep-missing"],
        );
        for o in &out {
            assert_eq!(o.code, 0, "round {round} {}: {}", o.arch, o.stderr);
        }
        total_retries += retries(&out);
        for o in &out {
            // Each retry is also reported as it happens, on stderr.
            let heard = o
                .stderr
                .lines()
                .filter(|l| l.starts_with(r#"{"retry":"#))
                .count();
            assert_eq!(heard, retries(std::slice::from_ref(o)), "{}", o.stderr);
        }
        let bytes = rel.tag_bytes();
        let index: Value = serde_json::from_slice(&bytes).unwrap();
        let got = entries(&index);
        newest = builds
            .iter()
            .map(|(a, _, d)| (a.to_string(), d.clone()))
            .collect();
        for (arch, want) in &newest {
            match got.get(arch) {
                Some((d, carried)) if d == want => {
                    assert!(carried.is_none(), "round {round}: {arch} marked carried")
                }
                _ => lost += 1,
            }
        }
        // TAG is what the last publisher to check confirmed (an earlier one may have
        // confirmed an index before the last per-arch tag existed); every index a
        // publisher wrote or confirmed reads back whole.
        let tag_digest = sha256(&bytes);
        assert!(
            out.iter()
                .any(|o| o.json.as_ref().unwrap()["digest"] == tag_digest.as_str()),
            "round {round}: TAG {tag_digest} is no publisher's result"
        );
        for d in reported_indexes(&out) {
            assert_eq!(sha256(&rel.bytes_of(&d)), d, "round {round}: {d}");
        }
    }
    eprintln!(
        "{}: {rounds} rounds x 4 publishers in {:.1} s, {total_retries} retries, {lost} lost arches",
        rel.dest(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(lost, 0, "arches lost over {rounds} rounds");

    // s390x fails to build: keep-missing keeps its last good entry, marked.
    let before = sha256(&rel.tag_bytes());
    let failed = rounds;
    let pairs: Vec<(&'static str, PathBuf)> = ARCHES[..3]
        .iter()
        .map(|a| (*a, build(scratch, a, failed).0))
        .collect();
    let out = race(
        scratch,
        &rel.dest(),
        &format!("r{failed}"),
        &pairs,
        &["--policy", "keep-missing"],
    );
    for o in &out {
        assert_eq!(o.code, 0, "{}: {}", o.arch, o.stderr);
    }
    let got = entries(&serde_json::from_slice(&rel.tag_bytes()).unwrap());
    let (d, carried) = &got["s390x"];
    assert_eq!(
        d, &newest["s390x"],
        "the failed arch's last good entry is kept"
    );
    assert_eq!(
        carried.as_deref(),
        Some(format!("rel@{before}").as_str()),
        "and marked as carried from the previous release"
    );
    for a in &ARCHES[..3] {
        assert!(got[*a].1.is_none() && got[*a].0 != newest[*a], "{a} is new");
    }

    // Again with require-all: every publisher refuses, TAG stays as it was.
    let before = rel.tag_bytes();
    let failed = rounds + 1;
    let pairs: Vec<(&'static str, PathBuf)> = ARCHES[..3]
        .iter()
        .map(|a| (*a, build(scratch, a, failed).0))
        .collect();
    let out = race(
        scratch,
        &rel.dest(),
        &format!("r{failed}"),
        &pairs,
        &[
            "--policy",
            "require-all",
            "--expect",
            "linux/amd64,linux/arm64,linux/ppc64le,linux/s390x",
        ],
    );
    for o in &out {
        assert_eq!(o.code, 5, "{}: {}", o.arch, o.stderr);
        assert!(o.stderr.contains("linux/s390x"), "{}", o.stderr);
    }
    assert_eq!(sha256(&rel.tag_bytes()), sha256(&before), "TAG untouched");

    // require-all in a round where every arch builds: a publisher that looks before
    // the last per-arch tag exists refuses (exit 5, TAG untouched by it); the last one
    // sees all four and moves TAG (docs/publish.md).
    let full = rounds + 2;
    let builds: Vec<(&'static str, PathBuf, String)> = ARCHES
        .iter()
        .map(|a| {
            let (p, d) = build(scratch, a, full);
            (*a, p, d)
        })
        .collect();
    let pairs: Vec<(&'static str, PathBuf)> =
        builds.iter().map(|(a, p, _)| (*a, p.clone())).collect();
    let out = race(
        scratch,
        &rel.dest(),
        &format!("r{full}"),
        &pairs,
        &[
            "--policy",
            "require-all",
            "--expect",
            "linux/amd64,linux/arm64,linux/ppc64le,linux/s390x",
        ],
    );
    assert!(out.iter().all(|o| o.code == 0 || o.code == 5));
    assert!(
        out.iter().any(|o| o.code == 0),
        "the last publisher assembles TAG"
    );
    let got = entries(&serde_json::from_slice(&rel.tag_bytes()).unwrap());
    for (a, _, d) in &builds {
        assert_eq!(&got[*a], &(d.clone(), None), "{a}");
    }
    builds
        .into_iter()
        .map(|(a, _, d)| (a.to_string(), d))
        .collect()
}

#[test]
fn four_publishers_converge_on_the_registry_round_after_round() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let t = tempfile::tempdir().unwrap();
    let rel = RegistryRelease {
        reg: &reg,
        repo: "tripleo/nova",
        tag: "rel",
    };
    let n = common::env_or("OIX_PUBLISH_ROUNDS", 25);
    let newest = rounds(t.path(), &rel, n);

    // Publishing read manifests and configs, never a layer.
    let layers: Vec<String> = (0..n + 3)
        .flat_map(|r| ARCHES.iter().map(move |a| (r, a)))
        .map(|(r, a)| sha256(format!("{a} build of round {r}").as_bytes()))
        .collect();
    let layer_gets: Vec<String> = reg
        .requests()
        .into_iter()
        .filter(|(m, p)| m == "GET" && layers.iter().any(|l| p.ends_with(l.as_str())))
        .map(|(_, p)| p)
        .collect();
    assert!(layer_gets.is_empty(), "layers downloaded: {layer_gets:?}");
    assert!(
        reg.count(0, "GET", "/blobs/sha256:") > 0,
        "configs are read (the log works)"
    );

    // The release as a whole: skopeo copies every arch, and the copy is a clean layout.
    let l = t.path().join("copied");
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &rel.dest(),
        &format!("oci:{}:t", l.display()),
    ]));
    common::assert_fsck_clean(&l);
    let copied = entries(
        &serde_json::from_slice::<Value>(&common::blob(&l, &common::digest_of_ref(&l, "t")))
            .unwrap(),
    );
    let published = entries(&serde_json::from_slice(&rel.tag_bytes()).unwrap());
    assert_eq!(copied, published);
    assert_eq!(copied["s390x"].0, newest["s390x"]);
    assert_eq!(
        copied["amd64"].0,
        reg_tag_digest(&reg, "tripleo/nova", &format!("rel-r{}-amd64", n + 2))
    );
}

fn reg_tag_digest(reg: &RegistryServer, repo: &str, tag: &str) -> String {
    sha256(&skopeo_raw(
        &format!("docker://{}/{repo}:{tag}", reg.host()),
        &["--tls-verify=false"],
    ))
}

#[test]
fn four_publishers_converge_on_a_shared_layout() {
    let t = tempfile::tempdir().unwrap();
    let rel = LayoutRelease {
        path: t.path().join("release"),
        tag: "rel",
    };
    rounds(t.path(), &rel, 5);
    common::assert_fsck_clean(&rel.path);
}

/// A layout with a meddling neighbour: right after each write of TAG (while `times`
/// lasts), another "publisher" with an older view puts TAG back to `stale`.
struct Meddler {
    inner: Layout,
    tag: String,
    stale: oix::model::Descriptor,
    times: std::sync::atomic::AtomicU32,
}

impl oix::store::Source for Meddler {
    fn describe(&self) -> String {
        oix::store::Source::describe(&self.inner)
    }
    fn contains(&self, d: &oix::Digest) -> oix::Result<bool> {
        self.inner.contains(d)
    }
    fn open(&self, d: &oix::model::Descriptor) -> oix::Result<Box<dyn std::io::Read + Send + '_>> {
        oix::store::Source::open(&self.inner, d)
    }
    fn read_small(&self, d: &oix::model::Descriptor) -> oix::Result<Vec<u8>> {
        self.inner.read_small(d)
    }
}

impl oix::store::Sink for Meddler {
    fn describe(&self) -> String {
        oix::store::Sink::describe(&self.inner)
    }
    fn has(&self, d: &oix::model::Descriptor) -> oix::Result<bool> {
        self.inner.has(d)
    }
    fn put_blob(&self, d: &oix::model::Descriptor, r: &mut dyn std::io::Read) -> oix::Result<()> {
        self.inner.put_blob(d, r)
    }
    fn put_manifest(&self, d: &oix::model::Descriptor, b: &[u8]) -> oix::Result<()> {
        self.inner.put_manifest(d, b)
    }
}

impl Names for Meddler {
    fn list_names(&self) -> oix::Result<Vec<String>> {
        self.inner.list_names()
    }
    fn resolve_name(&self, n: &str) -> oix::Result<Option<oix::model::Descriptor>> {
        self.inner.resolve_name(n)
    }
    fn set_names(&self, names: &[String], d: &oix::model::Descriptor) -> oix::Result<()> {
        self.inner.set_names(names, d)?;
        use std::sync::atomic::Ordering::SeqCst;
        if names == [self.tag.clone()]
            && self
                .times
                .fetch_update(SeqCst, SeqCst, |t| t.checked_sub(1))
                .is_ok()
        {
            self.inner.set_names(names, &self.stale)?;
        }
        Ok(())
    }
    fn remove_names(&self, names: &[String]) -> oix::Result<()> {
        self.inner.remove_names(names)
    }
}

fn meddled(
    dir: &Path,
    times: u32,
    max_retries: u32,
) -> (oix::Result<oix::publish::PublishReport>, u32, Meddler) {
    let dest = Layout::init(dir.join("dest")).unwrap().0;
    // The stale view: an index of an old arm64 image only.
    let old = tiny_image(&dest, "arm64", b"old arm64");
    let idx = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{}","size":{},"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
        oix::model::media::OCI_INDEX,
        old.media_type,
        old.digest,
        old.size
    );
    let stale_d = dest.write_blob_bytes(idx.as_bytes()).unwrap();
    let stale =
        oix::model::Descriptor::new(oix::model::media::OCI_INDEX, &stale_d, idx.len() as u64);
    let m = Meddler {
        inner: dest,
        tag: "rel".into(),
        stale,
        times: times.into(),
    };
    let (src_path, _) = build(dir, "amd64", 0);
    let src = Layout::open(&src_path).unwrap();
    let img = src.resolve_name("img").unwrap().unwrap();
    let opts = oix::publish::PublishOptions {
        tag: "rel".into(),
        arch_tag: oix::publish::ArchTag::new("{tag}-{arch}", "rel", None).unwrap(),
        policy: oix::authoring::merge::Policy::Union,
        expect: vec![],
        max_retries,
        backoff: std::time::Duration::from_millis(1),
        jobs: 1,
        dry_run: false,
    };
    let mut heard = 0;
    let r = oix::publish::publish(&src, &img, &m, &opts, &mut |_| heard += 1);
    (r, heard, m)
}

#[test]
fn an_overwritten_write_is_detected_and_repeated_within_the_bound() {
    let t = tempfile::tempdir().unwrap();
    // Overwritten twice: two retries, then TAG holds the amd64 image (and the stale
    // arm64 entry, by union).
    let (r, heard, m) = meddled(t.path(), 2, 5);
    let r = r.unwrap();
    assert_eq!((r.retries.len(), heard, r.writes), (2, 2, 3));
    let now = m.inner.resolve_name("rel").unwrap().unwrap();
    assert_eq!(now.digest, r.digest);
    let idx: Value = serde_json::from_slice(&common::blob(m.inner.root(), &now.digest)).unwrap();
    assert_eq!(entries(&idx).len(), 2, "{idx}");
    // Overwritten every time: exit 1 after --max-retries, each retry reported.
    let t = tempfile::tempdir().unwrap();
    let (r, heard, _) = meddled(t.path(), 100, 3);
    let e = r.unwrap_err();
    assert_eq!((e.exit_code(), heard), (1, 3), "{}", e.message);
    assert!(
        e.message.contains("did not settle after 3 retries"),
        "{}",
        e.message
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let t = tempfile::tempdir().unwrap();
    let (src, _) = build(t.path(), "amd64", 0);
    let dest = t.path().join("dest");
    Layout::init(&dest).unwrap();
    let before = common::tree_hash(&dest);
    let img = format!("{}:img", src.display());
    let d = format!("{}:rel", dest.display());
    let bare = format!("{}", dest.display());
    let cases: Vec<Vec<&str>> = vec![
        vec![&img, &d, "--arch-tag", "{tag}"],
        vec![&img, &d, "--arch-tag", "{tag}-{arch}", "--build", "b1"],
        vec![&img, &d, "--arch-tag", "{tag}-{build}-{arch}"],
        vec![
            &img,
            &d,
            "--arch-tag",
            "{tag}-{build}-{arch}",
            "--build",
            "a/b",
        ],
        vec![&img, "oci-archive:x.tar:rel", "--arch-tag", "{tag}-{arch}"],
        vec![&img, &bare, "--arch-tag", "{tag}-{arch}"],
        vec![
            &img,
            &d,
            "--arch-tag",
            "{tag}-{arch}",
            "--expect",
            "linux//x/y/z",
        ],
    ];
    for args in cases {
        let mut c = oix_cmd(["publish"]);
        c.args(&args);
        let r = common::run(c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        r.assert_error_message();
    }
    // An index is not one arch's image.
    let idx_layout = t.path().join("idx");
    common::oix(&[
        "index",
        "create",
        &format!("{}:i", idx_layout.display()),
        &img,
    ])
    .ok();
    let r = common::oix(&[
        "publish",
        &format!("{}:i", idx_layout.display()),
        &d,
        "--arch-tag",
        "{tag}-{arch}",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(common::tree_hash(&dest), before, "nothing written");
    // A destination layout that does not exist is not created by a refusal.
    let r = common::oix(&[
        "publish",
        &img,
        &format!("{}/none:rel", t.path().display()),
        "--arch-tag",
        "{tag}",
    ]);
    assert_eq!(r.code, 2);
    assert!(!t.path().join("none").exists());
}

#[test]
fn dry_run_writes_nothing_and_says_what_would_be_written() {
    let t = tempfile::tempdir().unwrap();
    let (a, _) = build(t.path(), "amd64", 0);
    let (b, bd) = build(t.path(), "arm64", 0);
    let dest = t.path().join("dest");
    let d = format!("{}:rel", dest.display());
    let publish = |src: &Path, extra: &[&str]| {
        let mut args = vec![
            "publish".to_string(),
            format!("{}:img", src.display()),
            d.clone(),
        ];
        args.extend(["--arch-tag", "{tag}-{arch}"].iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        common::oix(&args)
    };
    let r = publish(&a, &[]).ok();
    assert!(
        r.stdout_str().contains(":rel-amd64 (linux/amd64)"),
        "{}",
        r.stdout_str()
    );
    assert!(r.stdout_str().contains(" written"), "{}", r.stdout_str());
    let before = common::tree_hash(&dest);
    let r = publish(&b, &["--dry-run", "--json"]).ok();
    let j = r.json();
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["changed"], false);
    assert_eq!(j["entries"].as_array().unwrap().len(), 2);
    assert!(j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["digest"] == bd.as_str()));
    assert_eq!(common::tree_hash(&dest), before, "a dry run writes nothing");
    // The real run writes exactly the index the dry run announced.
    let real = publish(&b, &["--json"]).ok().json();
    assert_eq!(real["digest"], j["digest"]);
    // Publishing the same build again changes nothing.
    let again = publish(&b, &["--json"]).ok().json();
    assert_eq!(
        (again["changed"].clone(), again["digest"].clone()),
        (Value::Bool(false), real["digest"].clone())
    );
    common::assert_fsck_clean(&dest);
}
