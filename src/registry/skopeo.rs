//! `--via skopeo`: hand a push to skopeo instead of the built-in client.
//!
//! The main copy is `skopeo copy --all --preserve-digests oci:LAYOUT:REF docker://…`
//! (the list and every instance byte for byte, or an error). Per-arch tags are
//! registry-to-registry copies of each child by digest, run after the main copy has put
//! the children there. Auth and TLS options pass through: `--authfile` (for `--creds`,
//! a private temp auth file: credentials never appear in skopeo's arguments),
//! `--dest-cert-dir` (a private temp directory holding the `--ca-cert` and certs.d CA
//! files and the client certificate pair), `--dest-tls-verify=false` for `--insecure`
//! and `--plain-http`.

use super::client::certs::HostTls;
use super::client::TransportOptions;
use super::push::{PushPlan, TagPlan};
use super::reference::RegistryRef;
use crate::error::{Error, Kind, Result};
use crate::layout::Layout;
use crate::model::Index;
use crate::reference::{LayoutRef, Target};
use std::path::Path;
use std::process::{Command, Stdio};

/// The Debian/Ubuntu/Fedora package that ships skopeo.
pub const SKOPEO_PACKAGE: &str = "skopeo";

/// The skopeo command lines for a planned push. `cert_dir` is where the CA files are
/// (or will be) for `--dest-cert-dir`.
pub fn commands(
    layout: &Path,
    ref_names: &[(String, String)],
    plan: &PushPlan,
    dest: &RegistryRef,
    transport: &TransportOptions,
    cert_dir: Option<&Path>,
) -> Vec<Vec<String>> {
    let mut common: Vec<String> = Vec::new();
    if let Some(a) = &transport.authfile {
        common.push(format!("--authfile={}", a.display()));
    }
    let tls = |side: &str, v: &mut Vec<String>| {
        if let Some(d) = cert_dir {
            v.push(format!("--{side}-cert-dir={}", d.display()));
        }
        if transport.insecure || transport.plain_http {
            v.push(format!("--{side}-tls-verify=false"));
        }
    };
    let mut out = Vec::new();
    // Main copies: one per (layout ref, tag).
    for (ref_name, tag) in ref_names {
        let mut c: Vec<String> = vec!["skopeo".into(), "copy".into()];
        c.extend(common.iter().cloned());
        tls("dest", &mut c);
        c.push("--all".into());
        c.push("--preserve-digests".into());
        c.push(format!("oci:{}:{ref_name}", layout.display()));
        c.push(dest.with_tag(tag).to_string());
        out.push(c);
    }
    // Per-arch tags: copy each child, by digest, within the registry.
    for t in plan.tags.iter().filter(|t| t.platform.is_some()) {
        let mut c: Vec<String> = vec!["skopeo".into(), "copy".into()];
        c.extend(common.iter().cloned());
        tls("src", &mut c);
        tls("dest", &mut c);
        c.push("--preserve-digests".into());
        c.push(format!("{}@{}", dest.repository(), t.digest));
        c.push(dest.with_tag(&t.tag).to_string());
        out.push(c);
    }
    out
}

/// A private directory (mode 0700) laid out as skopeo's `--*-cert-dir` wants it: the CA
/// files (`--ca-cert`, certs.d `*.crt`) as `ca-N.crt`, the client pair as
/// `client.cert`/`client.key`.
pub fn make_cert_dir(tls: &HostTls) -> Result<Option<tempfile::TempDir>> {
    if tls.ca_files.is_empty() && tls.client.is_none() {
        return Ok(None);
    }
    let dir = tempfile::Builder::new()
        .prefix("oix-certs-")
        .tempdir()
        .map_err(|e| Error::new(Kind::Io, format!("creating a temp directory: {e}")))?;
    let copy = |from: &Path, to: &str| {
        std::fs::copy(from, dir.path().join(to))
            .map(|_| ())
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", from.display())))
    };
    for (i, f) in tls.ca_files.iter().enumerate() {
        copy(f, &format!("ca-{i}.crt"))?;
    }
    if let Some((c, k)) = &tls.client {
        copy(c, "client.cert")?;
        copy(k, "client.key")?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            dir.path().join("client.key"),
            std::fs::Permissions::from_mode(0o600),
        );
    }
    Ok(Some(dir))
}

/// The `(ref name in the layout, tag at the registry)` pairs of a push via skopeo:
/// skopeo's `oci:` transport names an index.json entry by its ref name, so the source
/// must be `LAYOUT:REF` (or every ref with `all_refs`); each pair's tag is the plan's
/// main tag for that entry, else the ref name itself.
pub fn ref_pairs(
    layout: &Layout,
    src: &LayoutRef,
    dest: &RegistryRef,
    plan: &PushPlan,
    all_refs: bool,
) -> Result<Vec<(String, String)>> {
    if dest.digest.is_some() {
        return Err(Error::usage("--via skopeo needs a tag in the destination"));
    }
    let index = if all_refs {
        Some(layout.read_index()?.0)
    } else {
        None
    };
    pairs(index.as_ref(), &src.target, &plan.tags)
}

/// [`ref_pairs`] over index.json as read (`Some` for every ref, `None` for the one
/// `target` names).
fn pairs(
    index: Option<&Index>,
    target: &Target,
    tags: &[TagPlan],
) -> Result<Vec<(String, String)>> {
    let main: Vec<&TagPlan> = tags.iter().filter(|t| t.platform.is_none()).collect();
    let Some(index) = index else {
        let Target::Name(n) = target else {
            return Err(Error::usage(
                "--via skopeo needs LAYOUT:REF (skopeo's oci: transport selects entries by ref name)",
            ));
        };
        let tag = main.first().map_or_else(|| n.clone(), |t| t.tag.clone());
        return Ok(vec![(n.clone(), tag)]);
    };
    Ok(crate::resolve::ref_names(index)
        .into_iter()
        .map(|n| {
            let tag = main
                .iter()
                .find(|t| {
                    index
                        .manifests
                        .iter()
                        .any(|m| m.ref_name() == Some(n.as_str()) && m.digest == t.digest)
                })
                .map_or_else(|| n.clone(), |t| t.tag.clone());
            (n, tag)
        })
        .collect())
}

/// Run each command; stop at the first failure with skopeo's own words.
pub fn run(commands: &[Vec<String>]) -> Result<()> {
    for c in commands {
        let mut cmd = Command::new(&c[0]);
        cmd.args(&c[1..])
            .stdin(Stdio::null())
            // skopeo's progress goes to our stderr: stdout stays for --json.
            .stdout(Stdio::from(std::io::stderr()))
            .stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::not_found("skopeo is not installed (not found on PATH)").with_hint(format!(
                    "install the `{SKOPEO_PACKAGE}` package (apt-get install {SKOPEO_PACKAGE}), or push with the built-in client (drop --via)"
                ))
            } else {
                Error::failure(format!("cannot run skopeo: {e}"))
            }
        })?;
        let out = child
            .wait_with_output()
            .map_err(|e| Error::failure(format!("waiting for skopeo: {e}")))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // skopeo quotes what it prints, but its lines pass through the same escaping as
        // ours; a closed stderr is not an error.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            crate::text::escape_except(&stderr, &['\n', '\t']).as_bytes(),
        );
        if !out.status.success() {
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(Error::failure(format!(
                "skopeo failed ({}): {}\n  command: {}",
                out.status,
                if tail.is_empty() {
                    "no message".to_string()
                } else {
                    tail.join("\n  ")
                },
                shell_line(c)
            ))
            .with_hint("the tag was not moved by oix; see skopeo's message above"));
        }
    }
    Ok(())
}

/// A command line as a shell would take it (single-quoting what needs it).
pub fn shell_line(c: &[String]) -> String {
    c.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Descriptor;

    fn entry(digest: &str, name: &str) -> Descriptor {
        let mut d = Descriptor::new("", &crate::digest::Digest::sha256_of(b""), 0);
        d.digest = digest.into();
        d.annotations
            .insert(crate::model::annotation::REF_NAME.into(), name.into());
        d
    }

    fn tag(tag: &str, digest: &str, platform: Option<&str>) -> TagPlan {
        TagPlan {
            tag: tag.into(),
            digest: digest.into(),
            media_type: String::new(),
            platform: platform.map(String::from),
            descriptor: entry(digest, tag),
        }
    }

    #[test]
    fn one_ref_takes_the_main_tag_else_its_own_name() {
        let target = Target::Name("v1".into());
        let tags = [
            tag("v1-amd64", "sha256:a", Some("linux/amd64")),
            tag("stable", "sha256:i", None),
        ];
        assert_eq!(
            pairs(None, &target, &tags).unwrap(),
            [("v1".to_string(), "stable".to_string())]
        );
        assert_eq!(
            pairs(None, &target, &tags[..1]).unwrap(),
            [("v1".to_string(), "v1".to_string())]
        );
    }

    #[test]
    fn one_ref_needs_a_name() {
        for t in [
            Target::Default,
            Target::Digest(crate::digest::Digest::sha256_of(b"x")),
        ] {
            let e = pairs(None, &t, &[]).unwrap_err();
            assert_eq!(e.kind, Kind::Usage);
            assert!(e.message.contains("LAYOUT:REF"), "{}", e.message);
        }
    }

    #[test]
    fn all_refs_pair_each_ref_with_the_tag_of_its_digest() {
        let index = Index {
            manifests: vec![
                entry("sha256:a", "a"),
                entry("sha256:b", "b"),
                entry("sha256:a2", "a"),
            ],
            ..Index::default()
        };
        let tags = [tag("latest", "sha256:b", None)];
        let got = pairs(Some(&index), &Target::Default, &tags).unwrap();
        assert_eq!(
            got,
            [
                ("a".to_string(), "a".to_string()),
                ("b".to_string(), "latest".to_string())
            ]
        );
    }
}
