//! Issue 17 item 3: certs.d directories, client certificates (mutual TLS), `oix login` /
//! `logout`, `--creds`, and proxies from the environment, against the real CNCF
//! distribution registry with a private CA made by openssl at test time.

mod common_registry;

use common_registry::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const ONE: &[(&str, &str, Option<&str>)] = &[("linux", "amd64", None)];

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Print a refusal (visible with --nocapture): the messages are part of the interface.
fn show(what: &str, out: &Output) {
    eprintln!(
        "--- {what} (exit {:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        text(out)
    );
}

/// A layout holding `v1` (one small image).
fn layout(work: &Path) -> String {
    let lay = work.join("src");
    build_multiarch(&lay, "v1", ONE, 2_000, 7);
    format!("{}:v1", lay.display())
}

/// A certs.d root with `HOST:PORT/` holding `files` (name, source).
fn certs_root(work: &Path, name: &str, host: &str, files: &[(&str, &Path)]) -> PathBuf {
    let root = work.join(name);
    let d = root.join(host);
    std::fs::create_dir_all(&d).unwrap();
    for (n, src) in files {
        std::fs::copy(src, d.join(n)).unwrap();
    }
    root
}

#[test]
fn private_ca_found_through_certs_d_and_cert_dir() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let reg = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    let dest = format!("docker://{h}/certs/app:v1");
    let empty = work.path().join("no-certs-d");
    std::fs::create_dir_all(&empty).unwrap();

    // Without the CA: refused, and the hint names the certs.d directory looked in.
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .args(["push", &l, &dest])
        .output()
        .unwrap();
    show("no CA", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let want = empty.join(&h).display().to_string();
    assert!(
        text(&out).contains(&want),
        "hint names {want}: {}",
        text(&out)
    );

    // The CA only in ROOT/HOST:PORT/ca.crt of a certs.d root: push and pull work.
    let root = certs_root(work.path(), "certs.d", &h, &[("ca.crt", &pki.ca)]);
    let out = oix()
        .env(
            "OIX_CERTS_D_ROOTS",
            format!("{}:{}", empty.display(), root.display()),
        )
        .args(["push", &l, &dest])
        .output()
        .unwrap();
    ok(&out, "push with certs.d");
    let pulled = work.path().join("pulled");
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .args(["pull", &dest, &format!("{}:v1", pulled.display())])
        .output()
        .unwrap();
    ok(&out, "pull with certs.d");

    // --cert-dir DIR: the files directly in DIR; the default roots are not looked at.
    let dir = root.join(&h);
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .args(["pull", &dest, &format!("{}:v2", pulled.display())])
        .arg("--cert-dir")
        .arg(&dir)
        .output()
        .unwrap();
    ok(&out, "pull with --cert-dir");

    // login to a registry that asks for no credentials: stored, with a warning.
    let auth = work.path().join("auth.json");
    let mut child = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .args(["--json", "login", &h, "-u", "anyone", "--password-stdin"])
        .arg("--authfile")
        .arg(&auth)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    let out = child.wait_with_output().unwrap();
    ok(&out, "login without auth");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], false);
    assert!(
        text(&out).contains("could not be checked"),
        "{}",
        text(&out)
    );

    // A .cert without its .key is a usage error naming both; nothing is contacted.
    std::fs::write(dir.join("client.cert"), "x").unwrap();
    let out = oix()
        .args(["pull", &dest, &format!("{}:v3", pulled.display())])
        .arg("--cert-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("client.cert has no key client.key"),
        "{}",
        text(&out)
    );
    // --cert-dir that is not a directory.
    let out = oix()
        .args(["pull", &dest, &format!("{}:v3", pulled.display())])
        .arg("--cert-dir")
        .arg(work.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn mutual_tls_with_certs_d_pair_and_client_flags() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let reg = RegistryServer::start_mtls(&pki.cert, &pki.key, &pki.ca, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let keys = work.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let l = layout(work.path());
    let dest = format!("docker://{h}/mtls/app:v1");
    let ca = pki.ca.to_str().unwrap();
    let empty = work.path().join("no-certs-d");
    std::fs::create_dir_all(&empty).unwrap();

    // No client certificate: a clear error naming the host and where to put one.
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .args(["push", &l, &dest, "--ca-cert", ca])
        .output()
        .unwrap();
    show("no client certificate", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("{h} requires a client certificate")),
        "{t}"
    );
    assert!(t.contains(&empty.join(&h).display().to_string()), "{t}");
    assert!(t.contains("--client-cert"), "{t}");

    // The CA and a client pair (PKCS#8 EC key) in certs.d: push and pull work.
    let (cert, key) = make_client_cert(&pki, &keys, "client", "pkcs8-ec");
    let root = certs_root(
        work.path(),
        "certs.d",
        &h,
        &[
            ("ca.crt", &pki.ca),
            ("client.cert", &cert),
            ("client.key", &key),
        ],
    );
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .args(["push", &l, &dest])
        .output()
        .unwrap();
    ok(&out, "push with a certs.d client pair");
    let pulled = work.path().join("pulled");
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .args(["pull", &dest, &format!("{}:a", pulled.display())])
        .output()
        .unwrap();
    ok(&out, "pull with a certs.d client pair");

    // --client-cert/--client-key, with keys as openssl writes RSA and EC keys by default.
    for kind in ["pkcs1-rsa", "sec1-ec", "pkcs8-ec"] {
        let (c, k) = make_client_cert(&pki, &keys, &format!("flag-{kind}"), kind);
        let head = std::fs::read_to_string(&k).unwrap();
        let want = match kind {
            "pkcs1-rsa" => "BEGIN RSA PRIVATE KEY",
            "sec1-ec" => "BEGIN EC PRIVATE KEY",
            _ => "BEGIN PRIVATE KEY",
        };
        assert!(head.contains(want), "{kind}: {head}");
        let out = oix()
            .env("OIX_CERTS_D_ROOTS", &empty)
            .args(["pull", &dest, &format!("{}:{kind}", pulled.display())])
            .args(["--ca-cert", ca])
            .arg("--client-cert")
            .arg(&c)
            .arg("--client-key")
            .arg(&k)
            .output()
            .unwrap();
        ok(&out, &format!("pull with --client-cert ({kind})"));
    }

    // A client certificate from another CA is refused, naming the certificate.
    let other = make_pki();
    let (oc, ok_) = make_client_cert(&other, &keys, "stranger", "pkcs8-ec");
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .args(["pull", &dest, &format!("{}:x", pulled.display())])
        .args(["--ca-cert", ca])
        .arg("--client-cert")
        .arg(&oc)
        .arg("--client-key")
        .arg(&ok_)
        .output()
        .unwrap();
    show("client certificate of another CA", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("refused the client certificate"),
        "{}",
        text(&out)
    );
    // A key that is not the certificate's.
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .args(["pull", &dest, &format!("{}:x", pulled.display())])
        .args(["--ca-cert", ca])
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&ok_)
        .output()
        .unwrap();
    show("key of another certificate", &out);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // The skopeo hand-off gets the certs.d CA and client pair through --dest-cert-dir.
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .args([
            "push",
            &l,
            &format!("docker://{h}/mtls/skopeo:v1"),
            "--via",
            "skopeo",
        ])
        .output()
        .unwrap();
    ok(&out, "push --via skopeo with a certs.d client pair");

    // oix apply: the same lookups, and --client-cert/--client-key on its command line.
    let plan = work.path().join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./src\ndestinations:\n  - url: docker://{h}/mtls/applied\n    ca_cert: {ca}\nimages:\n  - name: app\n    source: \"v1\"\n    tags: [rel]\n"
        ),
    )
    .unwrap();
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .arg("apply")
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("requires a client certificate"),
        "{}",
        text(&out)
    );
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &empty)
        .arg("apply")
        .arg(&plan)
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&key)
        .output()
        .unwrap();
    ok(&out, "apply --client-cert");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./src\ndestinations:\n  - url: docker://{h}/mtls/applied2\nimages:\n  - name: app\n    source: \"v1\"\n    tags: [rel]\n"
        ),
    )
    .unwrap();
    let out = oix()
        .env("OIX_CERTS_D_ROOTS", &root)
        .arg("apply")
        .arg(&plan)
        .output()
        .unwrap();
    ok(&out, "apply with certs.d");
}

/// A `skopeo` on PATH that records its arguments, then runs the real one.
fn recording_skopeo(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("skopeo-args.log");
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v skopeo"])
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    let script = bin.join("skopeo");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nfor a in \"$@\"; do case \"$a\" in --authfile=*) cp \"${{a#--authfile=}}\" '{}.authfile'; stat -c %a \"${{a#--authfile=}}\" > '{}.mode';; esac; done\nexec '{}' \"$@\"\n",
            log.display(),
            log.display(),
            log.display(),
            real
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

#[test]
fn login_push_logout_and_creds() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let secret = "Pa55-login-s3cr3t";
    let wrong = "n0t-the-Pa55w0rd";
    let pw = htpasswd(pki.dir.path(), "tester", secret);
    let reg = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::Htpasswd(pw));
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    let dest = format!("docker://{h}/login/app:v1");
    let ca = pki.ca.to_str().unwrap();
    let runtime = work.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let authfile = runtime.join("containers/auth.json");
    let no_secret = |out: &Output| {
        let t = text(out);
        assert!(
            !t.contains(secret) && !t.contains(wrong),
            "a password leaked: {t}"
        );
    };
    let login = |password: &str, extra: &[&str]| {
        let mut c = oix();
        c.env("XDG_RUNTIME_DIR", &runtime)
            .args([
                "login",
                &h,
                "-u",
                "tester",
                "--password-stdin",
                "--ca-cert",
                ca,
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        no_secret(&out);
        out
    };

    // An auth file with another registry and an extra key: they must survive.
    std::fs::create_dir_all(authfile.parent().unwrap()).unwrap();
    let other = r#"{"auths":{"other.example.com":{"auth":"b3RoZXI6dXNlcg=="}},"credHelpers":{"helper.example.com":"none"}}"#;
    std::fs::write(&authfile, other).unwrap();

    // A wrong password: a clear error (exit 1) and the auth file unchanged.
    let out = login(wrong, &[]);
    show("wrong password", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("refused the credentials"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&authfile).unwrap(), other);

    // The right one: stored in $XDG_RUNTIME_DIR/containers/auth.json, mode 0600.
    let out = login(secret, &["--json"]);
    ok(&out, "login");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["action"], "updated");
    assert_eq!(v["host"], h.as_str());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&authfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&authfile).unwrap()).unwrap();
    assert_eq!(
        stored["auths"]["other.example.com"]["auth"],
        "b3RoZXI6dXNlcg=="
    );
    assert_eq!(stored["credHelpers"]["helper.example.com"], "none");
    assert!(stored["auths"][h.as_str()]["auth"].is_string());
    // Logging in again changes nothing.
    let before = std::fs::read(&authfile).unwrap();
    let out = login(secret, &[]);
    ok(&out, "second login");
    assert!(text(&out).contains("already stored"), "{}", text(&out));
    assert_eq!(std::fs::read(&authfile).unwrap(), before);

    // push reads the file login wrote.
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["push", &l, &dest, "--ca-cert", ca])
        .output()
        .unwrap();
    ok(&out, "push after login");
    no_secret(&out);

    // logout removes only that entry; push is then refused; a second logout exits 3.
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["logout", &h])
        .output()
        .unwrap();
    ok(&out, "logout");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&authfile).unwrap()).unwrap();
    assert!(stored["auths"].get(h.as_str()).is_none());
    assert_eq!(
        stored["auths"]["other.example.com"]["auth"],
        "b3RoZXI6dXNlcg=="
    );
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["push", &l, &dest, "--ca-cert", ca])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["logout", &h])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    // logout --all empties auths and keeps the other keys.
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["logout", "--all"])
        .output()
        .unwrap();
    ok(&out, "logout --all");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&authfile).unwrap()).unwrap();
    assert_eq!(stored["auths"], serde_json::json!({}));
    assert_eq!(stored["credHelpers"]["helper.example.com"], "none");

    // No --password-stdin and stdin not a terminal: a usage error, nothing written.
    let out = oix()
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["login", &h, "-u", "tester", "--ca-cert", ca])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--password-stdin"), "{}", text(&out));

    // --creds for one run: works, and a wrong one is refused without showing it.
    let creds = format!("tester:{secret}");
    let out = oix()
        .args(["--json", "pull", &dest])
        .arg(format!("{}:c", work.path().join("pulled").display()))
        .args(["--ca-cert", ca, "--creds", &creds])
        .output()
        .unwrap();
    ok(&out, "pull --creds");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    let out = oix()
        .args(["--json", "pull", &dest])
        .arg(format!("{}:d", work.path().join("pulled").display()))
        .args(["--ca-cert", ca, "--creds", &format!("tester:{wrong}")])
        .output()
        .unwrap();
    show("wrong --creds", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    no_secret(&out);
    // --creds USER alone, stdin not a terminal: usage error.
    let out = oix()
        .args(["pull", &dest, "x:y", "--creds", "tester"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // The skopeo hand-off: --dry-run and --json show no password; the real run gives
    // skopeo a private auth file (mode 600), never --creds in its arguments.
    let skopeo_dest = format!("docker://{h}/login/skopeo:v1");
    for json in [false, true] {
        let mut c = oix();
        if json {
            c.arg("--json");
        }
        let out = c
            .args(["push", &l, &skopeo_dest, "--via", "skopeo", "--dry-run"])
            .args(["--ca-cert", ca, "--creds", &creds])
            .output()
            .unwrap();
        ok(&out, "push --via skopeo --dry-run --creds");
        no_secret(&out);
        assert!(text(&out).contains("--authfile="), "{}", text(&out));
    }
    let (bin, log) = recording_skopeo(work.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = oix()
        .env("PATH", path)
        .args(["push", &l, &skopeo_dest, "--via", "skopeo"])
        .args(["--ca-cert", ca, "--creds", &creds])
        .output()
        .unwrap();
    ok(&out, "push --via skopeo --creds");
    no_secret(&out);
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.contains("--authfile="), "{args}");
    assert!(
        !args.contains(secret) && !args.contains("--creds"),
        "{args}"
    );
    let handed = std::fs::read_to_string(format!("{}.authfile", log.display())).unwrap();
    assert!(handed.contains(&h), "{handed}");
    let mode = std::fs::read_to_string(format!("{}.mode", log.display())).unwrap();
    assert_eq!(mode.trim(), "600");

    // On a terminal (a pty made by script(1)), login asks for the user name and the
    // password; the password is not echoed.
    if require("script") {
        let tty_auth = work.path().join("tty-auth.json");
        let cmd = format!(
            "{} login {h} --ca-cert {ca} --authfile {}",
            env!("CARGO_BIN_EXE_oix"),
            tty_auth.display()
        );
        let mut child = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let s2 = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s2.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let wait_for = |what: &str| {
            let start = std::time::Instant::now();
            while !String::from_utf8_lossy(&seen.lock().unwrap()).contains(what) {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(30),
                    "no {what:?} prompt: {}",
                    String::from_utf8_lossy(&seen.lock().unwrap())
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        wait_for("Username: ");
        stdin.write_all(b"tester\n").unwrap();
        wait_for("Password: ");
        stdin.write_all(format!("{secret}\n").as_bytes()).unwrap();
        wait_for("logged in to");
        drop(stdin);
        let status = child.wait().unwrap();
        reader.join().unwrap();
        let screen = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        assert!(status.success(), "{screen}");
        assert!(
            !screen.contains(secret),
            "the password was echoed: {screen}"
        );
        assert!(screen.contains("tester"), "{screen}");
        assert!(tty_auth.exists());
    }
}

/// A tiny HTTP CONNECT proxy on loopback that counts the tunnels it opens and forwards
/// their bytes to the target (a test helper in front of the real registry).
struct ConnectProxy {
    port: u16,
    tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let count = count.clone();
                std::thread::spawn(move || {
                    let _ = tunnel(conn, &count);
                });
            }
        });
        ConnectProxy { port, tunnels }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn count(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

fn tunnel(client: TcpStream, count: &AtomicUsize) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let mut c = client;
        c.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    // Only loopback targets: the test never sends traffic anywhere else.
    assert!(
        target.starts_with("127.0.0.1:") || target.starts_with("localhost:"),
        "{target}"
    );
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let upstream = TcpStream::connect(target)?;
    count.fetch_add(1, Ordering::SeqCst);
    let mut c = client;
    c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    // Bytes the reader buffered beyond the header belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let mut up_w = upstream.try_clone()?;
    up_w.write_all(&buffered)?;
    let mut up_r = upstream;
    let mut c_r = reader.into_inner();
    let mut c_w = c;
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut c_w);
        let _ = c_w.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = [0u8; 16384];
    loop {
        let n = c_r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        up_w.write_all(&buf[..n])?;
    }
    let _ = up_w.shutdown(std::net::Shutdown::Write);
    let _ = t.join();
    Ok(())
}

#[test]
fn proxies_from_the_environment_and_no_proxy() {
    if !tools_present() {
        return;
    }
    let pki = make_pki();
    let reg = RegistryServer::start(Some((&pki.cert, &pki.key)), Auth::None);
    let plain = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    let dest = format!("docker://{h}/proxy/app:v1");
    let ca = pki.ca.to_str().unwrap();
    let proxy = ConnectProxy::start();
    let pulled = |n: &str| format!("{}:{n}", work.path().join("pulled").display());

    // HTTPS_PROXY: every connection to the registry goes through the proxy.
    let out = oix()
        .env("HTTPS_PROXY", proxy.url())
        .args(["push", &l, &dest, "--ca-cert", ca])
        .output()
        .unwrap();
    ok(&out, "push through HTTPS_PROXY");
    let after_push = proxy.count();
    assert!(after_push >= 1, "no tunnel was opened");
    let out = oix()
        .env("https_proxy", proxy.url())
        .args(["pull", &dest, &pulled("a"), "--ca-cert", ca])
        .output()
        .unwrap();
    ok(&out, "pull through https_proxy");
    let after_pull = proxy.count();
    assert!(after_pull > after_push);

    // NO_PROXY exempts the host: no tunnel.
    for exempt in ["127.0.0.1", "localhost,127.0.0.1", "*"] {
        let out = oix()
            .env("HTTPS_PROXY", proxy.url())
            .env("NO_PROXY", exempt)
            .args(["pull", &dest, &pulled("b"), "--ca-cert", ca])
            .output()
            .unwrap();
        ok(&out, &format!("pull with NO_PROXY={exempt}"));
        assert_eq!(
            proxy.count(),
            after_pull,
            "NO_PROXY={exempt} was not honoured"
        );
    }

    // Plain HTTP: HTTP_PROXY applies, HTTPS_PROXY does not.
    let pdest = format!("docker://{}/proxy/app:v1", plain.host());
    let out = oix()
        .env("HTTPS_PROXY", proxy.url())
        .args(["push", &l, &pdest, "--plain-http"])
        .output()
        .unwrap();
    ok(&out, "plain push with only HTTPS_PROXY");
    assert_eq!(proxy.count(), after_pull, "HTTPS_PROXY used for plain HTTP");
    let out = oix()
        .env("HTTP_PROXY", proxy.url())
        .args(["pull", &pdest, &pulled("c"), "--plain-http"])
        .output()
        .unwrap();
    ok(&out, "plain pull through HTTP_PROXY");
    assert!(proxy.count() > after_pull);

    // A proxy that is not there: a connection error naming no proxy password.
    let dead = free_port();
    let out = oix()
        .env(
            "HTTPS_PROXY",
            format!("http://user:proxy-s3cret@127.0.0.1:{dead}"),
        )
        .args([
            "pull",
            &dest,
            &pulled("d"),
            "--ca-cert",
            ca,
            "--retries",
            "0",
        ])
        .output()
        .unwrap();
    show("dead proxy", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("proxy-s3cret"), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "through the proxy 127.0.0.1:{dead} from $HTTPS_PROXY"
        )),
        "{}",
        text(&out)
    );
}

#[test]
fn login_against_a_token_service() {
    if !tools_present() {
        return;
    }
    use common_registry::token::{self, TokenServer};
    let ts = TokenServer::start("tok-user", "tok-Pa55");
    let reg = RegistryServer::start(
        None,
        Auth::Token {
            realm: ts.realm(),
            service: token::SERVICE.into(),
            issuer: token::ISSUER.into(),
            rootcertbundle: ts.cert.clone(),
        },
    );
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    let auth = work.path().join("auth.json");
    let login = |password: &str| {
        let mut child = oix()
            .args([
                "login",
                &h,
                "-u",
                "tok-user",
                "--password-stdin",
                "--plain-http",
            ])
            .arg("--authfile")
            .arg(&auth)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!text(&out).contains(password), "{}", text(&out));
        out
    };
    let out = login("wrong-Pa55");
    show("token service refuses", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!auth.exists(), "a refused login wrote the auth file");
    let out = login("tok-Pa55");
    ok(&out, "login with a token service");
    let out = oix()
        .args([
            "push",
            &l,
            &format!("docker://{h}/tok/app:v1"),
            "--plain-http",
        ])
        .arg("--authfile")
        .arg(&auth)
        .output()
        .unwrap();
    ok(&out, "push with the stored login");
}
