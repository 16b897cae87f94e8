//! Test harness for the registry tests: the real CNCF distribution registry
//! (`docker-registry serve CONFIG.yml`) on a free loopback port, test inputs built with
//! umoci and assembled with the oix library, a self-signed CA made with openssl, a
//! bearer-token endpoint, and a fault-injecting TCP proxy.

#![allow(dead_code)]

pub mod proxy;
pub mod token;

// Each helper module includes the one gate; a test crate may include several helpers.
#[allow(clippy::duplicate_mod)]
#[path = "../gate/mod.rs"]
mod gate;

#[allow(clippy::duplicate_mod)]
#[path = "../common/bin.rs"]
mod bin;

use oix::model::{annotation, media, Descriptor, Index, Platform};
use oix::Layout;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// Whether `tool` is installed. Missing tools fail the test under CI and print `SKIP`
/// locally (tests/gate).
pub fn require(tool: &str) -> bool {
    gate::find(tool).is_some()
}

pub fn tools_present() -> bool {
    ["docker-registry", "skopeo", "umoci", "openssl"]
        .iter()
        .all(|t| require(t))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How a test registry authenticates.
pub enum Auth {
    None,
    /// htpasswd file with bcrypt entries.
    Htpasswd(PathBuf),
    /// distribution's token auth.
    Token {
        realm: String,
        service: String,
        issuer: String,
        rootcertbundle: PathBuf,
    },
}

pub struct RegistryServer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub tls: bool,
}

impl RegistryServer {
    /// Start `docker-registry serve` with a temp storage dir and wait for it to listen.
    pub fn start(tls: Option<(&Path, &Path)>, auth: Auth) -> RegistryServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: oix-test-secret\n",
            dir.path().join("data").display()
        );
        if let Some((cert, key)) = tls {
            cfg.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        match &auth {
            Auth::None => {}
            Auth::Htpasswd(p) => cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: oix-test\n    path: {}\n",
                p.display()
            )),
            Auth::Token {
                realm,
                service,
                issuer,
                rootcertbundle,
            } => cfg.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                rootcertbundle.display()
            )),
        }
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let access = std::fs::File::create(dir.path().join("access.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdout(access)
            .stderr(log)
            .spawn()
            .expect("starting docker-registry");
        let server = RegistryServer {
            child,
            port,
            dir,
            tls: tls.is_some(),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                if self.tls {
                    return; // listening; TLS answers are checked by the tests
                }
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: x\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") {
                    return;
                }
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "docker-registry did not start: {}",
                    std::fs::read_to_string(self.dir.path().join("registry.log"))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Every request the registry served so far, from its access log, as
    /// `(method, path)` in order (the path without its query).
    pub fn requests(&self) -> Vec<(String, String)> {
        // The log is written as requests finish; give the last line a moment.
        std::thread::sleep(Duration::from_millis(100));
        let text = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let req = l.split('"').nth(1)?;
                let mut parts = req.split(' ');
                let method = parts.next()?.to_string();
                let path = parts.next()?;
                Some((method, path.split('?').next().unwrap_or(path).to_string()))
            })
            .collect()
    }

    /// [`RegistryServer::requests`] with each path's query kept (`?mount=...&from=...`).
    pub fn requests_with_query(&self) -> Vec<(String, String)> {
        std::thread::sleep(Duration::from_millis(100));
        let text = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let req = l.split('"').nth(1)?;
                let mut parts = req.split(' ');
                Some((parts.next()?.to_string(), parts.next()?.to_string()))
            })
            .collect()
    }

    /// How many requests since `since` (a [`RegistryServer::requests`] length) match
    /// `method` and a path containing `part` (e.g. `("GET", "/blobs/sha256:")`).
    pub fn count(&self, since: usize, method: &str, part: &str) -> usize {
        self.requests()[since..]
            .iter()
            .filter(|(m, p)| m == method && p.contains(part))
            .count()
    }

    /// Blob digests linked into a repository (the registry's storage view).
    pub fn repo_layers(&self, repo: &str) -> Vec<String> {
        let p = self
            .dir
            .path()
            .join("data/docker/registry/v2/repositories")
            .join(repo)
            .join("_layers/sha256");
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .map(|e| format!("sha256:{}", e.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Manifest revisions linked into a repository.
    pub fn repo_manifests(&self, repo: &str) -> Vec<String> {
        let p = self
            .dir
            .path()
            .join("data/docker/registry/v2/repositories")
            .join(repo)
            .join("_manifests/revisions/sha256");
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .map(|e| format!("sha256:{}", e.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1/localhost, made with openssl.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
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
            "/CN=oix-test-ca",
            "-keyout",
        ])
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-CAcreateserial")
        .arg("-out")
        .arg(p("server.pem"))
        .arg("-extfile")
        .arg(p("ext.cnf")));
    Pki {
        ca: p("ca.pem"),
        cert: p("server.pem"),
        key: p("server.key"),
        dir,
    }
}

/// An htpasswd file (bcrypt) with one user.
pub fn htpasswd(dir: &Path, user: &str, password: &str) -> PathBuf {
    let hash = bcrypt::hash(password, 5).unwrap();
    let p = dir.join("htpasswd");
    std::fs::write(&p, format!("{user}:{hash}\n")).unwrap();
    p
}

/// A containers auth.json with user:password for `host`.
pub fn authfile(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let p = dir.join("auth.json");
    std::fs::write(
        &p,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    p
}

/// Deterministic pseudo-random bytes (xorshift), so each arch gets distinct layers.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Build a multi-arch layout: one umoci image per platform (a random file of
/// `layer_bytes` in each), assembled into an OCI index tagged `tag` through the oix
/// library. Returns the index descriptor.
pub fn build_multiarch(
    layout_dir: &Path,
    tag: &str,
    platforms: &[(&str, &str, Option<&str>)],
    layer_bytes: usize,
    seed: u64,
) -> Descriptor {
    let scratch = tempfile::tempdir().unwrap();
    if !layout_dir.join("oci-layout").exists() {
        run(Command::new("umoci")
            .arg("init")
            .arg("--layout")
            .arg(layout_dir));
    }
    let mut entries = Vec::new();
    for (i, (os, arch, variant)) in platforms.iter().enumerate() {
        let tmp = format!("tmp-{tag}-{i}");
        let image = format!("{}:{tmp}", layout_dir.display());
        run(Command::new("umoci").args(["new", "--image", &image]));
        run(Command::new("umoci").args([
            "config",
            "--image",
            &image,
            "--os",
            os,
            "--architecture",
            arch,
        ]));
        let root = scratch.path().join(format!("root{i}"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("payload.bin"),
            random_bytes(seed * 1000 + i as u64, layer_bytes),
        )
        .unwrap();
        run(Command::new("umoci")
            .args(["insert", "--image", &image])
            .arg(&root)
            .arg("/data"));
        let layout = Layout::open(layout_dir).unwrap();
        let (idx, _) = layout.read_index().unwrap();
        let mut d = idx
            .manifests
            .iter()
            .find(|d| d.ref_name() == Some(tmp.as_str()))
            .unwrap()
            .clone();
        d.annotations.clear();
        d.platform = Some(Box::new(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: variant.map(str::to_string),
            ..Default::default()
        }));
        entries.push((tmp, d));
    }
    let layout = Layout::open(layout_dir).unwrap();
    let index = Index {
        manifests: entries.iter().map(|(_, d)| d.clone()).collect(),
        ..Default::default()
    };
    let bytes = index.to_bytes();
    let digest = layout.write_blob_bytes(&bytes).unwrap();
    let desc = Descriptor::new(media::OCI_INDEX, &digest, bytes.len() as u64);
    layout
        .transact(|idx| {
            idx.manifests
                .retain(|d| !d.ref_name().is_some_and(|n| n.starts_with("tmp-")));
            oix::tags::set_ref(idx, &desc, tag)?;
            Ok(())
        })
        .unwrap();
    let _ = annotation::REF_NAME;
    desc
}

/// `skopeo inspect --raw` of a registry reference.
pub fn skopeo_raw(reference: &str, extra: &[&str]) -> Vec<u8> {
    run(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .args(extra)
        .arg(reference))
    .stdout
}

/// The oix binary (tests/common/bin.rs), for `.args(…)`.
pub fn oix() -> Command {
    bin::oix_cmd(std::iter::empty::<&str>())
}

/// Run oix with `--json`, expect success, parse stdout.
pub fn oix_json(args: &[&str]) -> serde_json::Value {
    let out = oix().arg("--json").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "oix {args:?} failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "oix {args:?}: bad JSON {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Every blob digest under `roots` of a layout (graph walk).
pub fn graph_digests(layout_dir: &Path) -> Vec<String> {
    let layout = Layout::open(layout_dir).unwrap();
    let (idx, _) = layout.read_index().unwrap();
    let w = oix::graph::walk(&layout, &idx.manifests);
    assert!(w.complete(), "{:?}", w.problems);
    let mut v: Vec<String> = w
        .nodes
        .iter()
        .map(|n| n.descriptor.digest.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}
