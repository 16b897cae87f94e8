//! A bearer-token endpoint for distribution's `auth: token:` mode.
//!
//! It checks Basic credentials, grants every scope asked for, and signs an RS256 JWT
//! with a key whose self-signed certificate is the registry's `rootcertbundle`; the
//! certificate travels in the JWT header's `x5c`. Signing runs `openssl dgst -sign`,
//! so the tests need no crypto crate. Every requested scope is recorded.

use super::run;
use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SERVICE: &str = "oix-test-registry";
pub const ISSUER: &str = "oix-test-issuer";

pub struct TokenServer {
    pub port: u16,
    pub cert: PathBuf,
    pub scopes: Arc<Mutex<Vec<String>>>,
    pub refused: Arc<Mutex<u32>>,
    stop: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

impl TokenServer {
    pub fn start(user: &str, password: &str) -> TokenServer {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("token.key");
        let cert = dir.path().join("token.pem");
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=oix-token-signer",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert));
        let der = run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert))
        .stdout;
        let x5c = base64::engine::general_purpose::STANDARD.encode(der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let scopes = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let (s, sc, rf, k) = (stop.clone(), scopes.clone(), refused.clone(), key.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = serve(conn, &expected, &x5c, &k, &sc, &rf);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TokenServer {
            port,
            cert,
            scopes,
            refused,
            stop,
            _dir: dir,
        }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(
    conn: TcpStream,
    expected: &str,
    x5c: &str,
    key: &PathBuf,
    seen: &Mutex<Vec<String>>,
    refused: &Mutex<u32>,
) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 || l == "\r\n" {
            break;
        }
        lines.push(l.trim_end().to_string());
    }
    let target = lines
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let auth = lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    let mut w = conn;
    if auth.as_deref() != Some(expected) {
        *refused.lock().unwrap() += 1;
        w.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut access = Vec::new();
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        if k != "scope" {
            continue;
        }
        let scope = unescape(v);
        seen.lock().unwrap().push(scope.clone());
        // type:name:actions — the name may hold ':' (a port), so split at both ends.
        if let (Some((typ, rest)), true) = (scope.split_once(':'), scope.matches(':').count() >= 2)
        {
            if let Some((name, actions)) = rest.rsplit_once(':') {
                access.push(serde_json::json!({
                    "type": typ, "name": name,
                    "actions": actions.split(',').collect::<Vec<_>>()
                }));
            }
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "tester", "aud": SERVICE,
        "exp": now + 600, "nbf": now - 10, "iat": now, "jti": format!("j{now}"),
        "access": access
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(input.as_bytes())?;
    let sig = child.wait_with_output()?.stdout;
    let token = format!("{input}.{}", b64url(&sig));
    let body = serde_json::json!({"token": token, "expires_in": 600}).to_string();
    write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    Ok(())
}
