//! Registry edge cases (issue 12, sections 2 and 5): nothing hangs forever (connect and
//! idle timeouts, credential helpers, DNS failures, the gc fence after a stuck pull),
//! and the registry answers oix used to misread (distribution's `Range: 0-0`, 401s from
//! another host, `auths` entries holding a token beside the password, self-signed
//! certificates, credentials written into a reference). Real registry, real processes;
//! see tests/common_registry for the harness.

mod common_registry;

use common_registry::proxy::{FaultProxy, Faults};
use common_registry::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small single-arch layout (`L:1`, a few hundred bytes of blobs) built by oix itself.
fn small_layout(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("hello"), "hello from oix\n").unwrap();
    let lay = dir.join("L");
    let out = oix()
        .arg("build")
        .arg(&root)
        .arg("-o")
        .arg(format!("{}:1", lay.display()))
        .args(["--platform", "linux/amd64"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    lay
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run oix, expect exit `code`; returns the output text and how long it took.
fn expect_exit(cmd: &mut Command, code: i32) -> (String, Duration) {
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let took = start.elapsed();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(code), "{cmd:?}: {all}");
    assert!(!all.contains("panicked"), "{all}");
    (all, took)
}

/// A TCP listener that accepts every connection and never says a word.
struct SilentServer {
    port: u16,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let a = accepted.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                a.lock().unwrap().push(c); // keep it open, answer nothing
            }
        });
        SilentServer { port, accepted }
    }
}

/// A second host (127.0.0.2) that answers every request `401` with a Basic challenge
/// and records the request heads it got.
struct RefusingServer {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl RefusingServer {
    fn start() -> RefusingServer {
        let l = TcpListener::bind("127.0.0.2:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let h = heads.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let h = h.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(c.try_clone().unwrap());
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push_str(&line);
                        if line == "\r\n" {
                            break;
                        }
                    }
                    h.lock().unwrap().push(head);
                    let mut w = c;
                    let _ = w.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"elsewhere\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                });
            }
        });
        RefusingServer {
            base: format!("http://127.0.0.2:{port}"),
            heads,
        }
    }
}

#[test]
fn a_silent_registry_times_out_with_the_host_named() {
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let silent = SilentServer::start();
    let host = format!("127.0.0.1:{}", silent.port);
    let dest = format!("docker://{host}/t/app:1");
    let mut scenarios = 0;
    let mut slowest = Duration::ZERO;
    // TLS: the handshake never comes (the connect timeout); plain HTTP: the answer never
    // comes (the idle timeout); and a pull.
    for (args, want) in [
        (
            vec!["push", "--retries", "0", "--timeout", "2", &l, &dest],
            "timed out connecting to",
        ),
        (
            vec![
                "push",
                "--retries",
                "0",
                "--timeout",
                "2",
                "--plain-http",
                &l,
                &dest,
            ],
            "sent nothing for 2 s",
        ),
        (
            vec![
                "pull",
                "--retries",
                "0",
                "--timeout",
                "2",
                "--plain-http",
                &dest,
                &l,
            ],
            "sent nothing for 2 s",
        ),
    ] {
        let (all, took) = expect_exit(oix().args(&args), 1);
        assert!(all.contains("timed out"), "{all}");
        assert!(all.contains(want), "{args:?}: {all}");
        assert!(all.contains(&host), "the host is named: {all}");
        assert!(all.contains("--timeout"), "the hint names the flag: {all}");
        assert!(took < Duration::from_secs(15), "{args:?} took {took:?}");
        scenarios += 1;
        slowest = slowest.max(took);
    }
    // One retry: two attempts, each bounded.
    let (all, took) = expect_exit(
        oix().args([
            "push",
            "--retries",
            "1",
            "--timeout",
            "1",
            "--plain-http",
            &l,
            &dest,
        ]),
        1,
    );
    assert!(all.contains("gave up after 2 attempts"), "{all}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    scenarios += 1;
    slowest = slowest.max(took);
    assert!(!silent.accepted.lock().unwrap().is_empty());
    // skopeo has timeouts of its own: --timeout is not silently dropped.
    let (all, _) = expect_exit(
        oix().args(["push", "--via", "skopeo", "--timeout", "2", &l, &dest]),
        2,
    );
    assert!(all.contains("--via skopeo takes no --timeout"), "{all}");
    eprintln!("hang scenarios: {scenarios}, each failed within {slowest:?} (--timeout 2 or 1)");
}

#[test]
fn a_stuck_credential_helper_is_stopped_and_named() {
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-stuck");
    std::fs::write(&helper, "#!/bin/sh\nexec sleep 60\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let silent = SilentServer::start();
    let host = format!("127.0.0.1:{}", silent.port);
    let auth = work.path().join("config.json");
    std::fs::write(&auth, format!(r#"{{"credHelpers":{{"{host}":"stuck"}}}}"#)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (all, took) = expect_exit(
        oix().env("PATH", path).args([
            "push",
            "--retries",
            "0",
            "--timeout",
            "2",
            "--authfile",
            auth.to_str().unwrap(),
            &format!("{}:1", lay.display()),
            &format!("docker://{host}/t/app:1"),
        ]),
        1,
    );
    assert!(
        all.contains("credential helper docker-credential-stuck did not answer within 2 s"),
        "{all}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    eprintln!("stuck credential helper stopped after {took:?} (--timeout 2)");
}

#[test]
fn a_plain_http_server_asked_for_tls_gets_the_plain_http_hint() {
    // An HTTP server (no TLS): its answer to a ClientHello is not a TLS record.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let work = tempfile::tempdir().unwrap();
    let (all, _) = expect_exit(
        oix().args([
            "pull",
            "--retries",
            "0",
            &format!("docker://127.0.0.1:{port}/t/app:1"),
            &format!("{}:1", work.path().join("L").display()),
        ]),
        1,
    );
    assert!(all.contains("does not speak TLS"), "{all}");
    assert!(all.contains("--plain-http"), "{all}");
}

#[test]
fn a_host_that_does_not_resolve_fails_at_once() {
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    // A 64-character label is refused by the system resolver before any query is sent,
    // so this sends no traffic at all (a plain `nonexistent.invalid` would still be
    // asked of the configured DNS server); `.invalid` keeps it unresolvable anyway.
    let host = format!("{}.invalid", "a".repeat(64));
    // With 5 retries at a 1 s backoff base, retrying would take over 30 s.
    let (all, took) = expect_exit(
        oix().env("OIX_RETRY_BACKOFF_MS", "1000").args([
            "push",
            "--retries",
            "5",
            &format!("{}:1", lay.display()),
            &format!("docker://{host}/t/app:1"),
        ]),
        1,
    );
    assert!(all.contains("cannot resolve the host name"), "{all}");
    assert!(all.contains("DNS"), "{all}");
    assert!(!all.contains("gave up after"), "not retried: {all}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    eprintln!("unresolvable host failed after {took:?} without retries");
}

#[test]
fn a_stuck_blob_download_times_out_and_gc_runs_after_it() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let h = reg.host();
    let s = oix_json(&[
        "push",
        "--plain-http",
        &format!("{}:1", lay.display()),
        &format!("docker://{h}/t/app:1"),
    ]);
    assert!(s["uploaded"].as_u64().unwrap() >= 2, "{s}");
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            stall_blob_gets: true,
            ..Default::default()
        },
    );
    let dst = work.path().join("pulled");
    // An existing layout: a failed pull into a new one removes it again (issue 12 §4),
    // and gc must have a layout to run on afterwards.
    expect_exit(oix().arg("init").arg(&dst), 0);
    let start = Instant::now();
    let pull = oix()
        .args([
            "pull",
            "--plain-http",
            "--retries",
            "0",
            "--timeout",
            "4",
            &format!("docker://127.0.0.1:{}/t/app:1", proxy.port),
            &format!("{}:app", dst.display()),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the download is stuck, the pull holds the gc fence.
    while proxy.counters.hostile.load(Ordering::Relaxed) == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no blob GET");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (held, _) = expect_exit(oix().args(["--lock-timeout", "0", "gc"]).arg(&dst), 1);
    assert!(held.contains("lock"), "{held}");
    let out = pull.wait_with_output().unwrap();
    let took = start.elapsed();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("timed out"), "{all}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // The fence is free: gc does not wait for a lock.
    let (gc, _) = expect_exit(oix().args(["--lock-timeout", "0", "gc"]).arg(&dst), 0);
    let (fsck, _) = expect_exit(oix().arg("fsck").arg(&dst), 0);
    eprintln!("stuck pull failed after {took:?}; gc: {gc}; fsck: {fsck}");
}

#[test]
fn chunk_size_one_pushes_every_blob() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let h = reg.host();
    // Every blob in 1-byte PATCHes (distribution answers `Range: 0-0` after the first).
    let s = oix_json(&[
        "push",
        "--plain-http",
        "--chunk-size",
        "1",
        &l,
        &format!("docker://{h}/t/one:1"),
    ]);
    assert_eq!(s["uploaded"].as_u64(), Some(2), "{s}");
    assert!(s["bytes"].as_u64().unwrap() < 2000, "keep it small: {s}");
    assert_skopeo_matches(&lay, &format!("docker://{h}/t/one:1"));
}

#[test]
fn an_upload_resumes_after_exactly_one_byte() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let h = reg.host();
    // One blob at a time in 1-byte PATCHes; the second PATCH is dropped before its byte
    // arrives: the upload holds exactly one byte, and the status query answers `0-0`
    // (as it does for an empty upload). It goes on from byte 1.
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            drop_nth_patch: Some(2),
            ..Default::default()
        },
    );
    let s = oix_json(&[
        "push",
        "--plain-http",
        "--chunk-size",
        "1",
        "--jobs",
        "1",
        &l,
        &format!("docker://127.0.0.1:{}/t/resumed:1", proxy.port),
    ]);
    assert_eq!(proxy.counters.dropped.load(Ordering::Relaxed), 1);
    assert_eq!(s["resumed"].as_u64(), Some(1), "{s}");
    assert_eq!(s["restarted"].as_u64(), Some(0), "{s}");
    assert_skopeo_matches(&lay, &format!("docker://{h}/t/resumed:1"));
}

/// A registry that answers a manifest PUT with MANIFEST_BLOB_UNKNOWN just after the copy
/// checked every blob (distribution 2.8 does so while another writer puts the same blob)
/// is asked twice more, then believed: a transient answer does not fail the push, a
/// lasting one fails it after three attempts with the hint.
#[test]
fn a_manifest_put_answered_blob_unknown_is_asked_again_twice() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let transient = FaultProxy::start(
        reg.port,
        Faults {
            blob_unknown_manifest_puts: 2,
            ..Default::default()
        },
    );
    oix_json(&[
        "push",
        "--plain-http",
        &l,
        &format!("docker://127.0.0.1:{}/t/raced:1", transient.port),
    ]);
    let answered = &transient.counters.blob_unknown_answers;
    assert_eq!(answered.load(Ordering::Relaxed), 2);
    assert_skopeo_matches(&lay, &format!("docker://{}/t/raced:1", reg.host()));

    let lasting = FaultProxy::start(
        reg.port,
        Faults {
            blob_unknown_manifest_puts: 100,
            ..Default::default()
        },
    );
    let out = oix()
        .args(["push", "--plain-http", &l])
        .arg(format!("docker://127.0.0.1:{}/t/missing:1", lasting.port))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("misses a blob"), "{err}");
    assert_eq!(
        lasting
            .counters
            .blob_unknown_answers
            .load(Ordering::Relaxed),
        3
    );
}

/// skopeo copies the pushed image back into a layout with the same manifest digest.
fn assert_skopeo_matches(lay: &Path, reference: &str) {
    let raw = skopeo_raw(reference, &["--tls-verify=false"]);
    let want = oix::Layout::open(lay).unwrap();
    let (idx, _) = want.read_index().unwrap();
    let d = idx
        .manifests
        .iter()
        .find(|d| d.ref_name() == Some("1"))
        .unwrap();
    assert_eq!(
        oix::digest::Digest::sha256_of(&raw).to_string(),
        d.digest,
        "{reference}"
    );
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", reference])
        .arg(format!("oci:{}:x", dir.path().join("copy").display())));
}

#[test]
fn a_401_from_another_host_is_not_blamed_on_the_credentials() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let secret = "s3cr3t-Pa55";
    let pw = htpasswd(work.path(), "tester", secret);
    let reg = RegistryServer::start(None, Auth::Htpasswd(pw));
    let lay = small_layout(work.path());
    let refuser = RefusingServer::start();
    // A reverse proxy that hands out upload locations on another host.
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            relocate_uploads_to: Some(refuser.base.clone()),
            ..Default::default()
        },
    );
    let ph = format!("127.0.0.1:{}", proxy.port);
    let auth = authfile(work.path(), &ph, "tester", secret);
    let (all, _) = expect_exit(
        oix().args([
            "push",
            "--plain-http",
            "--retries",
            "0",
            "--authfile",
            auth.to_str().unwrap(),
            &format!("{}:1", lay.display()),
            &format!("docker://{ph}/t/app:1"),
        ]),
        1,
    );
    let other = refuser.base.trim_start_matches("http://");
    assert!(
        all.contains(&format!("{other} refused the request (401)")),
        "{all}"
    );
    assert!(
        all.contains("does not send the registry's credentials to another host"),
        "{all}"
    );
    assert!(
        !all.contains("were refused"),
        "not the user's credentials: {all}"
    );
    assert!(!all.contains(secret), "{all}");
    let heads = refuser.heads.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the upload went to the other host");
    for h in &heads {
        assert!(
            !h.to_ascii_lowercase().contains("authorization:"),
            "credentials were forwarded: {h}"
        );
    }
    eprintln!(
        "401 from another host: {} requests there, none with credentials",
        heads.len()
    );
}

#[test]
fn an_auths_entry_with_a_token_beside_the_password_answers_basic() {
    if !tools_present() {
        return;
    }
    use base64::Engine;
    let work = tempfile::tempdir().unwrap();
    let secret = "s3cr3t-Pa55";
    let pw = htpasswd(work.path(), "tester", secret);
    let reg = RegistryServer::start(None, Auth::Htpasswd(pw));
    let h = reg.host();
    let lay = small_layout(work.path());
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("tester:{secret}"));
    let auth = work.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(r#"{{"auths":{{"{h}":{{"auth":"{b64}","identitytoken":"a-refresh-token"}}}}}}"#),
    )
    .unwrap();
    let a = auth.to_str().unwrap();
    let s = oix_json(&[
        "push",
        "--plain-http",
        "--authfile",
        a,
        &format!("{}:1", lay.display()),
        &format!("docker://{h}/t/app:1"),
    ]);
    assert_eq!(s["uploaded"].as_u64(), Some(2), "{s}");
    // skopeo reads the same file the same way.
    run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--authfile", a])
        .arg(format!("docker://{h}/t/app:1")));
    let dst = work.path().join("back");
    oix_json(&[
        "pull",
        "--plain-http",
        "--authfile",
        a,
        &format!("docker://{h}/t/app:1"),
        &format!("{}:app", dst.display()),
    ]);
}

#[test]
fn credentials_in_a_reference_are_never_echoed() {
    let work = tempfile::tempdir().unwrap();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let secret = "hunter2-Pa55";
    let bad = format!("docker://tester:{secret}@127.0.0.1:9/t/app:1");
    for args in [
        vec!["push", l.as_str(), bad.as_str()],
        vec!["pull", bad.as_str(), l.as_str()],
        vec!["push", "--via", "skopeo", l.as_str(), bad.as_str()],
    ] {
        let (all, _) = expect_exit(oix().args(&args), 2);
        assert!(!all.contains(secret), "{args:?}: {all}");
        assert!(all.contains("***@127.0.0.1:9"), "{args:?}: {all}");
        assert!(all.contains("--authfile"), "{args:?}: {all}");
    }
    // A plan: its destinations and sources.
    let plan = work.path().join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./L\ndestinations:\n  - url: docker://tester:{secret}@127.0.0.1:9/rel\nimages:\n  - name: app\n    source: docker://tester:{secret}@127.0.0.1:9/t/app:1\n    tags: [\"1\"]\n"
        ),
    )
    .unwrap();
    let out = oix().args(["plan", "check"]).arg(&plan).output().unwrap();
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("***@127.0.0.1:9"), "{all}");
}

/// `openssl req -x509` as a user would run it: a self-signed certificate that says
/// `CA:TRUE` (openssl's default), for `san`.
fn self_signed(dir: &Path, name: &str, san: &str) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            san,
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

#[test]
fn a_self_signed_server_certificate_given_with_ca_cert_is_accepted() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(work.path(), "server", "subjectAltName=IP:127.0.0.1");
    let reg = RegistryServer::start(Some((&cert, &key)), Auth::None);
    let h = reg.host();
    let lay = small_layout(work.path());
    let l = format!("{}:1", lay.display());
    let dest = format!("docker://{h}/t/pinned:1");
    let c = cert.to_str().unwrap();

    // Without it: refused, and the hint says what to pass.
    let (all, _) = expect_exit(oix().args(["push", "--retries", "0", &l, &dest]), 1);
    assert!(all.contains("--ca-cert"), "{all}");
    assert!(all.contains("self-signed"), "{all}");

    // With it: pushed, pulled back, and skopeo (trusting it as a cert dir) agrees.
    let s = oix_json(&["push", "--ca-cert", c, &l, &dest]);
    assert_eq!(s["uploaded"].as_u64(), Some(2), "{s}");
    let back = work.path().join("back");
    oix_json(&[
        "pull",
        "--ca-cert",
        c,
        &dest,
        &format!("{}:app", back.display()),
    ]);
    let certs = work.path().join("certs.d");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&cert, certs.join("server.crt")).unwrap();
    skopeo_raw(&dest, &["--cert-dir", certs.to_str().unwrap()]);

    // Another self-signed certificate is no key to this server.
    let (other, _) = self_signed(work.path(), "other", "subjectAltName=IP:127.0.0.1");
    let (all, _) = expect_exit(
        oix().args([
            "push",
            "--retries",
            "0",
            "--ca-cert",
            other.to_str().unwrap(),
            &l,
            &dest,
        ]),
        1,
    );
    assert!(all.contains("certificate"), "{all}");
    // The pinned certificate still has to name the host asked for.
    let by_name = format!("docker://localhost:{}/t/pinned:1", reg.port);
    let (all, _) = expect_exit(
        oix().args(["push", "--retries", "0", "--ca-cert", c, &l, &by_name]),
        1,
    );
    assert!(all.contains("certificate"), "{all}");
    // The connector that accepts pinned certificates keeps the connect timeout.
    let silent = SilentServer::start();
    let (all, took) = expect_exit(
        oix().args([
            "push",
            "--retries",
            "0",
            "--timeout",
            "2",
            "--ca-cert",
            c,
            &l,
            &format!("docker://127.0.0.1:{}/t/pinned:1", silent.port),
        ]),
        1,
    );
    assert!(all.contains("timed out connecting to"), "{all}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn plan_destinations_take_a_timeout() {
    let work = tempfile::tempdir().unwrap();
    small_layout(work.path());
    let silent = SilentServer::start();
    let host = format!("127.0.0.1:{}", silent.port);
    let plan = work.path().join("plan.yaml");
    let write = |dest: &str| {
        std::fs::write(
            &plan,
            format!(
                "version: 1\nlayout: ./L\ndestinations:\n{dest}images:\n  - name: app\n    source: \"1\"\n    tags: [v1]\n"
            ),
        )
        .unwrap()
    };
    // Checked: a positive number of seconds, for registries only.
    write("  - url: oci:./mirror\n    timeout: 5\n");
    let (all, _) = expect_exit(oix().args(["plan", "check"]).arg(&plan), 1);
    assert!(all.contains("docker:// destinations only"), "{all}");
    write(&format!(
        "  - url: docker://{host}/rel\n    plain_http: true\n    timeout: -1\n"
    ));
    let (all, _) = expect_exit(oix().args(["plan", "check"]).arg(&plan), 1);
    assert!(all.contains("timeout -1"), "{all}");
    // A silent registry: the push of the image fails, bounded by the plan's timeout.
    write(&format!(
        "  - url: docker://{host}/rel\n    plain_http: true\n    timeout: 0.5\n"
    ));
    let (all, took) = expect_exit(oix().arg("apply").arg(&plan), 1);
    assert!(all.contains("timed out"), "{all}");
    assert!(all.contains(&host), "{all}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    eprintln!("apply against a silent registry (timeout: 0.5) failed after {took:?}");
}
