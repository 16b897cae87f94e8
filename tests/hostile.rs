//! The hostile-input corpus (fixtures/hostile/): every case is refused as documented.
//!
//! `fixtures/hostile/make.sh --all DIR` builds each case (a layout with one hostile
//! defect, sometimes with files beside it that the defect points at) and its
//! `expected.json`: commands, exit codes and error substrings. For every check this
//! test asserts: the documented exit code; a non-zero exit comes with an `error: …` line
//! naming the substring; no panic (exit 101) and no hang (60 s); nothing beside the
//! layout changed (a tree hash of the case directory); the layout itself unchanged
//! unless the case says it `mutates` (gc removing hostile garbage). It also checks that
//! the checked-in cases are what make.sh builds, and that the README lists every case.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

fn hostile_dir() -> PathBuf {
    fixtures().join("hostile")
}

/// Build every case (including the generated-only ones) into `dir`.
fn make_cases(dir: &Path) {
    let st = Command::new("bash")
        .arg(hostile_dir().join("make.sh"))
        .arg("--all")
        .arg(dir)
        .status()
        .expect("run make.sh");
    assert!(st.success(), "fixtures/hostile/make.sh failed");
}

/// Like `common::tree_hash`, but never opens FIFOs or devices (it names their type),
/// and can leave out one subtree.
fn tree_hash_except(dir: &Path, skip: Option<&Path>) -> String {
    tree_hash_with(dir, skip, true)
}

/// [`tree_hash_except`]; `modes: false` leaves permission bits out (a git checkout
/// applies the local umask, so checked-in and freshly built trees differ there).
fn tree_hash_with(dir: &Path, skip: Option<&Path>, modes: bool) -> String {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let mut listing = String::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| skip != Some(e.path()));
    for e in walk {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let meta = fs::symlink_metadata(e.path()).unwrap();
        let ft = meta.file_type();
        let name = e.file_name().to_string_lossy();
        // Empty lock files oix creates hold no content (see common::tree_hash).
        if name.starts_with(".oix-") && name.ends_with(".lock") && ft.is_file() && meta.len() == 0 {
            continue;
        }
        let what = if ft.is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else if ft.is_dir() {
            "dir".into()
        } else if ft.is_file() {
            format!("file {}", sha256_hex(&fs::read(e.path()).unwrap()))
        } else if ft.is_fifo() {
            "fifo".into()
        } else {
            "special".into()
        };
        let mode = if modes { meta.permissions().mode() } else { 0 };
        listing.push_str(&format!("{rel}\t{mode:o}\t{what}\n"));
    }
    sha256_hex(listing.as_bytes())
}

/// Run oix with a time limit; a hang is a failure. Output goes through files so a
/// chatty command cannot block on a full pipe.
fn run_limited(args: &[String], scratch: &Path) -> Run {
    let out = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let err = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let line = format!("oix {}", args.join(" "));
    let mut child = oix_cmd(args)
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .env("OIX_LOCK_TIMEOUT", "5")
        .spawn()
        .expect("spawn oix");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{line}` did not finish within {TIMEOUT:?} (hang)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: fs::read(out.path()).unwrap(),
        stderr: fs::read(err.path()).unwrap(),
    };
    Run::from_output(line, output)
}

#[derive(Debug)]
struct Check {
    args: Vec<String>,
    exit: i32,
    error: Option<String>,
}

struct Case {
    name: String,
    dir: PathBuf,
    mutates: bool,
    generated_only: bool,
    checks: Vec<Check>,
}

fn load_case(dir: &Path, dest: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = fs::read_to_string(dir.join("expected.json"))
        .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
    let layout = dir.join("layout").display().to_string();
    let dest = dest.display().to_string();
    let checks = v["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no checks"))
        .iter()
        .map(|c| Check {
            args: c["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    a.as_str()
                        .unwrap()
                        .replace("{L}", &layout)
                        .replace("{C}", &dir.display().to_string())
                        .replace("{DEST}", &dest)
                })
                .collect(),
            exit: c["exit"].as_i64().unwrap() as i32,
            error: c["error"].as_str().map(str::to_string),
        })
        .collect();
    Case {
        name,
        dir: dir.to_path_buf(),
        mutates: v["mutates"].as_bool().unwrap_or(false),
        generated_only: v["generated_only"].as_bool().unwrap_or(false),
        checks,
    }
}

/// Run every check of `case`; returns how many ran and what failed (all of it, so one
/// run shows every mismatch).
fn run_case(case: &Case, scratch: &Path, failures: &mut Vec<String>) -> usize {
    let layout = case.dir.join("layout");
    let beside = tree_hash_except(&case.dir, Some(&layout));
    let target = tree_hash_except(&layout, None);
    for check in &case.checks {
        let r = run_limited(&check.args, scratch);
        let what = format!("case {}: `{}`", case.name, r.cmdline);
        let out = r.all_output();
        let mut fail = |why: String| failures.push(format!("{what}: {why}\n{out}"));
        if r.code != check.exit {
            fail(format!("exit {} (expected {})", r.code, check.exit));
        }
        // fsck reports its findings on stdout, everything else on stderr.
        if check.exit != 0
            && !out
                .lines()
                .any(|l| l.starts_with("error: ") && l.len() > 10)
        {
            fail("no `error: …` line".into());
        }
        if let Some(needle) = &check.error {
            if !out.contains(needle.as_str()) {
                fail(format!("output lacks {needle:?}"));
            }
        }
        if tree_hash_except(&case.dir, Some(&layout)) != beside {
            fail("something beside the layout changed".into());
        }
        if !case.mutates && tree_hash_except(&layout, None) != target {
            fail("the layout changed".into());
        }
    }
    case.checks.len()
}

#[test]
fn every_hostile_case_is_refused_as_documented() {
    let tmp = tempfile::tempdir().unwrap();
    let cases_dir = tmp.path().join("cases");
    make_cases(&cases_dir);
    let listing = |d: &Path| -> Vec<_> {
        fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    };
    let cases_before = listing(&cases_dir);
    let mut names: Vec<PathBuf> = fs::read_dir(&cases_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let (mut cases, mut checks, mut generated, mut refusals, mut refused_cases) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for dir in &names {
        // {DEST}: a destination outside the case, fresh for each case.
        let dest = tmp.path().join(format!("dest-{cases}")).join("out");
        let case = load_case(dir, &dest);
        checks += run_case(&case, tmp.path(), &mut failures);
        let refusing = case.checks.iter().filter(|c| c.exit != 0).count();
        refusals += refusing;
        refused_cases += usize::from(refusing > 0);
        generated += usize::from(case.generated_only);
        cases += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} hostile checks failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        cases_before,
        listing(&cases_dir),
        "files appeared beside the cases"
    );
    eprintln!(
        "hostile inputs: {cases} cases ({} checked in, {generated} generated only), {refused_cases} \
         refused by at least one command; {checks} commands as documented: {refusals} refused \
         with a non-zero exit, {} handled with exit 0",
        cases - generated,
        checks - refusals
    );
    assert!(cases >= 40, "only {cases} cases");
}

#[test]
fn checked_in_cases_are_what_make_sh_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("cases");
    make_cases(&fresh);
    let checked_in = hostile_dir().join("cases");
    let readme = fs::read_to_string(hostile_dir().join("README.md")).unwrap();
    for e in fs::read_dir(&fresh).unwrap() {
        let dir = e.unwrap().path();
        let case = load_case(&dir, tmp.path());
        assert!(
            readme.contains(&format!("`{}`", case.name)),
            "fixtures/hostile/README.md does not list {}",
            case.name
        );
        let mine = checked_in.join(&case.name);
        if case.generated_only {
            assert!(
                !mine.exists(),
                "{}: generated-only case is checked in",
                case.name
            );
            continue;
        }
        assert!(
            mine.is_dir(),
            "{}: not checked in; run fixtures/hostile/make.sh",
            case.name
        );
        assert_eq!(
            tree_hash_with(&mine, None, false),
            tree_hash_with(&dir, None, false),
            "{}: checked-in case differs from make.sh output; rerun fixtures/hostile/make.sh",
            case.name
        );
    }
    for e in fs::read_dir(&checked_in).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            fresh.join(&name).exists(),
            "{name:?} is checked in but make.sh does not build it"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hostile registry answers, through the fault-injecting proxy of tests/common_registry
// in front of the real CNCF distribution registry (htpasswd auth).

mod common_registry;

use common_registry::proxy::{CaptureServer, FaultProxy, Faults};

struct HostileRegistry {
    _reg: common_registry::RegistryServer,
    upstream: u16,
    dir: tempfile::TempDir,
    basic: String,
}

impl HostileRegistry {
    /// A registry with fixtures/multiarch pushed as `h/app:v1`.
    fn start() -> Option<HostileRegistry> {
        if !common_registry::tools_present() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let pw = common_registry::htpasswd(dir.path(), "oix", "s3cret-pass");
        let reg = common_registry::RegistryServer::start(None, common_registry::Auth::Htpasswd(pw));
        let upstream = reg.port;
        let auth_dir = dir.path().join("auth-upstream");
        fs::create_dir_all(&auth_dir).unwrap();
        let af = common_registry::authfile(&auth_dir, &reg.host(), "oix", "s3cret-pass");
        oix(&[
            "push".to_string(),
            at(&fixtures().join("multiarch"), ":latest"),
            format!("docker://{}/h/app:v1", reg.host()),
            "--plain-http".into(),
            "--authfile".into(),
            af.display().to_string(),
        ])
        .ok();
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("oix:s3cret-pass");
        Some(HostileRegistry {
            _reg: reg,
            upstream,
            dir,
            basic: format!("Basic {basic}"),
        })
    }

    /// `oix pull` of h/app:v1 through a proxy with `faults` into a fresh layout. Returns
    /// the run, the layout, and whether its index.json is what it was before.
    fn pull(&self, name: &str, faults: Faults, extra: &[&str]) -> (Run, PathBuf, bool, FaultProxy) {
        let proxy = FaultProxy::start(self.upstream, faults);
        let host = format!("127.0.0.1:{}", proxy.port);
        let auth_dir = self.dir.path().join(format!("auth-{name}"));
        fs::create_dir_all(&auth_dir).unwrap();
        let af = common_registry::authfile(&auth_dir, &host, "oix", "s3cret-pass");
        let dest = self.dir.path().join(format!("dest-{name}"));
        oix(&["init".as_ref(), dest.as_os_str()]).ok();
        let before = fs::read(dest.join("index.json")).unwrap();
        let beside = tree_hash_except(self.dir.path(), Some(&dest));
        let mut args = vec![
            "pull".to_string(),
            format!("docker://{host}/h/app:v1"),
            at(&dest, ":v1"),
            "--plain-http".into(),
            "--authfile".into(),
            af.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let r = run_limited(&args, self.dir.path());
        assert_eq!(
            tree_hash_except(self.dir.path(), Some(&dest)),
            beside,
            "{name}: something beside the destination changed"
        );
        let unchanged = fs::read(dest.join("index.json")).unwrap() == before;
        eprintln!(
            "{name}: exit {}: {}",
            r.code,
            r.stderr.lines().next().unwrap_or("")
        );
        (r, dest, unchanged, proxy)
    }
}

#[test]
fn hostile_registry_answers_are_refused() {
    let Some(h) = HostileRegistry::start() else {
        return;
    };
    let mut refused = 0;

    // A manifest under a Docker-Content-Digest that is not its digest.
    let (r, dest, unchanged, proxy) = h.pull(
        "wrong-digest",
        Faults {
            wrong_manifest_digest: true,
            ..Default::default()
        },
        &[],
    );
    assert!(
        proxy
            .counters
            .hostile
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    let r = r.fails_with(1).stderr_contains("Docker-Content-Digest");
    assert!(unchanged, "{}: index.json changed", r.cmdline);
    assert_fsck_clean(&dest);
    refused += 1;

    // A registry that closes mid-manifest, every time.
    let (r, dest, unchanged, _p) = h.pull(
        "cut-manifest",
        Faults {
            cut_manifests: true,
            ..Default::default()
        },
        &["--retries", "1"],
    );
    r.fails_with(1);
    assert!(unchanged);
    assert_fsck_clean(&dest);
    refused += 1;

    // A 500 whose body never ends (1 GiB): read a bounded prefix, give up quickly.
    let start = Instant::now();
    let (r, dest, unchanged, proxy) = h.pull(
        "error-body",
        Faults {
            error_body_bytes: Some(1 << 30),
            ..Default::default()
        },
        &["--retries", "0"],
    );
    r.fails_with(1);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    let sent = proxy
        .counters
        .error_body_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 64 << 20,
        "oix accepted {sent} bytes of an error body"
    );
    assert!(unchanged);
    assert_fsck_clean(&dest);
    refused += 1;

    // Blob downloads redirected to another host: the content arrives (verified), and the
    // registry credentials are not sent there.
    let capture = CaptureServer::start(h.upstream, Some(h.basic.clone()));
    let (r, dest, _, proxy) = h.pull(
        "redirect",
        Faults {
            redirect_blobs_to: Some(capture.base.clone()),
            ..Default::default()
        },
        &[],
    );
    assert!(
        proxy
            .counters
            .hostile
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    let heads = capture.heads.lock().unwrap().clone();
    for head in &heads {
        assert!(
            !head.to_ascii_lowercase().contains("\nauthorization:"),
            "credentials forwarded to another host:\n{head}"
        );
    }
    if r.code == 0 {
        assert!(!heads.is_empty(), "no request reached the other host");
        assert_fsck_clean(&dest);
    } else {
        r.fails_with(1);
    }
    refused += 1;
    eprintln!("hostile registry answers: {refused} kinds handled (no credentials forwarded, {} requests at the other host)", heads.len());
}
