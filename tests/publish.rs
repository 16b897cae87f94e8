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
    let d = tiny_image(&l, arch, format!("{arch} build of round {round}").as_bytes());
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

/// Every index a publisher reports having written or wanted (final and retried ones).
fn reported_indexes(outcomes: &[Outcome]) -> Vec<String> {
    let mut v = Vec::new();
    for j in outcomes.iter().filter_map(|o| o.json.as_ref()) {
        v.push(j["digest"].as_str().unwrap().to_string());
        for r in j["retries"].as_array().unwrap() {
            v.push(r["wrote"].as_str().unwrap().to_string());
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
        let prev = m.insert(arch.clone(), (e["digest"].as_str().unwrap().to_string(), carried));
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
/// every publisher, TAG unchanged. Returns the per-arch digests of the last full round.
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
    assert_eq!(d, &newest["s390x"], "the failed arch's last good entry is kept");
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
    newest
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
    assert_eq!(
        copied["amd64"].0,
        reg_tag_digest(&reg, "tripleo/nova", &format!("rel-r{n}-amd64"))
    );
    assert_eq!(copied["s390x"].0, newest["s390x"]);
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
