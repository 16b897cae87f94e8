//! Referrers travel with their images, the rest of issue 16 item 3: `oix copy` to an
//! oci-archive carries them exactly as `oix export` does (same index.json listing, same
//! archive bytes), a docker-archive carries none and says so; registry-destination
//! index edits (`oix index add`/`merge docker://…`) carry the referrers of the entries
//! they copy; the apply plan key `referrers:`; `oix apply --dry-run` lists the
//! referrers it would carry. Against the real CNCF distribution registry on loopback
//! (2.8: no referrers API, so the fallback tag `sha256-<hex>` and cosign's `.sig`).

mod common_registry;
mod referrer_kit;

use common_registry::*;
use oix::digest::Digest;
use referrer_kit::*;
use serde_json::Value;
use std::path::Path;

const SBOM: &str = "application/spdx+json";
const PROV: &str = "application/vnd.example.provenance.v1+json";

/// The image with a cosign signature, an SBOM and the SBOM's provenance in the layout
/// `dir`: (subject, every referrer sorted, sbom, prov).
fn signed_release(dir: &Path) -> (String, Vec<String>, String, String) {
    let subject = image(dir);
    let ls = dir.to_str().unwrap();
    let sbom = attach(
        dir,
        &format!("{ls}:v1"),
        SBOM,
        "sbom.json",
        r#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    let prov = attach(
        dir,
        &format!("{ls}@{sbom}"),
        PROV,
        "prov.json",
        r#"{"builder":"t"}"#,
    );
    let sig = cosign_sig(dir, &subject);
    let all = sorted(vec![sbom.clone(), prov.clone(), sig]);
    (subject, all, sbom, prov)
}

fn sha256_file(p: &Path) -> String {
    Digest::sha256_of(&std::fs::read(p).unwrap()).to_string()
}

/// `oix copy SRC oci-archive:FILE` carries the referrers as `oix export` does: the same
/// index.json listing and the same archive bytes, with referrers, with
/// `--referrers-type` and with `--no-referrers`; `--dry-run` lists them and writes
/// nothing; a registry source's referrers arrive in the archive too; a docker-archive
/// carries none and says so (a warning, `referrer_warnings` in `--json`).
#[test]
fn copy_to_an_oci_archive_carries_referrers_as_export_does() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("src");
    let (subject, all, sbom, _prov) = signed_release(&l);
    let ls = l.to_str().unwrap().to_string();
    let file = |n: &str| work.path().join(n);

    let cases: [&[&str]; 3] = [&[], &["--referrers-type", SBOM], &["--no-referrers"]];
    for extra in cases {
        let (copied, exported) = (file("copied.tar"), file("exported.tar"));
        let mut args = vec![
            "copy".to_string(),
            format!("{ls}:v1"),
            format!("oci-archive:{}:v1", copied.display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = oix_json(&a);
        let mut args = vec![
            "export".to_string(),
            format!("{ls}:v1"),
            "-o".to_string(),
            exported.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = oix_json(&a);
        let want = match extra.first() {
            None => all.clone(),
            Some(&"--referrers-type") => vec![sbom.clone()],
            Some(_) => Vec::new(),
        };
        assert_eq!(carried(&v), want, "copy {extra:?}: {v}");
        assert_eq!(carried(&e), want, "export {extra:?}: {e}");
        assert_eq!(
            archive_names(&copied),
            archive_names(&exported),
            "{extra:?}"
        );
        assert_eq!(
            sha256_file(&copied),
            sha256_file(&exported),
            "copy and export of {extra:?} differ"
        );
    }
    // With every referrer, the listing is the layout's convention.
    let copied = file("copied.tar");
    oix_json(&[
        "copy",
        &format!("{ls}:v1"),
        &format!("oci-archive:{}:v1", copied.display()),
    ]);
    assert_eq!(
        archive_names(&copied),
        sorted(vec![
            "v1".to_string(),
            fallback(&subject),
            fallback(&sbom),
            format!("{}.sig", fallback(&subject)),
        ])
    );
    // Every referrer's bytes are in the archive, byte-identical.
    for d in &all {
        let dg = Digest::parse(d).unwrap();
        let b = tar_member(&copied, &format!("blobs/sha256/{}", dg.encoded()));
        assert_eq!(Digest::sha256_of(&b), dg);
    }

    // --dry-run lists the referrers it would carry and writes nothing.
    let dry_file = file("dry.tar");
    let dry = oix_json(&[
        "copy",
        &format!("{ls}:v1"),
        &format!("oci-archive:{}:v1", dry_file.display()),
        "--dry-run",
    ]);
    let listed: Vec<String> = sorted(
        dry["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "referrer")
            .map(|s| s["digest"].as_str().unwrap().to_string())
            .collect(),
    );
    assert_eq!(listed, all, "{dry}");
    assert!(!dry_file.exists());

    // A registry source: what it lists arrives in the archive, listed the same way.
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    oix_json(&[
        "push",
        &format!("{ls}:v1"),
        &format!("docker://{h}/app:v1"),
        "--plain-http",
    ]);
    let from_reg = file("from-registry.tar");
    let v = oix_json(&[
        "copy",
        &format!("docker://{h}/app:v1"),
        &format!("oci-archive:{}:v1", from_reg.display()),
        "--plain-http",
    ]);
    assert_eq!(carried(&v), all, "{v}");
    assert_eq!(archive_names(&from_reg), archive_names(&copied));
    let imp = file("imported");
    let v = oix_json(&[
        "import",
        &format!("{}:v1", from_reg.display()),
        "-o",
        &format!("{}:v1", imp.display()),
    ]);
    assert_eq!(carried(&v), all, "{v}");
    let fsck = oix()
        .args(["fsck", imp.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(fsck.status.success() && fsck.stderr.is_empty(), "{fsck:?}");

    // A docker-archive has no place for referrers: none carried, and it says so.
    let dock = file("docker.tar");
    let v = oix_json(&[
        "copy",
        &format!("{ls}:v1"),
        &format!("docker-archive:{}:app:1", dock.display()),
    ]);
    assert!(carried(&v).is_empty(), "{v}");
    let w = v["referrer_warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w["code"] == "referrers_not_carried"
            && w["message"].as_str().unwrap().starts_with("3 referrer(s)")),
        "{v}"
    );
    let out = oix()
        .args([
            "copy",
            &format!("{ls}:v1"),
            &format!("docker-archive:{}:app:1", dock.display()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 referrer(s) not carried"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The digests the fallback-tag index of `subject` lists on the registry (none when
/// the tag does not exist).
fn fallback_listed(reg: &RegistryServer, repo: &str, subject: &str) -> Vec<String> {
    let host = reg.host();
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{host}/{repo}:{}", fallback(subject)),
        ])
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    sorted(
        v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap().to_string())
            .collect(),
    )
}

/// Registry-destination index edits carry the referrers of the entries they copy in,
/// as layout-destination edits do: `oix index add docker://…` and `oix merge
/// docker://…` from a layout source, and from a registry source; `--dry-run` lists
/// them and writes nothing; `--no-referrers`, `--referrers-type` narrow it.
#[test]
fn registry_index_edits_carry_referrers() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("src");
    let (subject, all, sbom, prov) = signed_release(&l);
    let ls = l.to_str().unwrap().to_string();
    let sig_tag = format!("{}.sig", fallback(&subject));

    // --dry-run: listed, nothing written.
    let dry = oix_json(&[
        "index",
        "add",
        &format!("docker://{h}/rel:1"),
        &format!("{ls}:v1"),
        "--plain-http",
        "--dry-run",
    ]);
    assert_eq!(carried(&dry), all, "{dry}");
    assert!(reg.repo_manifests("rel").is_empty());

    let v = oix_json(&[
        "index",
        "add",
        &format!("docker://{h}/rel:1"),
        &format!("{ls}:v1"),
        "--plain-http",
    ]);
    assert_eq!(carried(&v), all, "{v}");
    for d in all.iter().chain([&subject]) {
        skopeo_reads(&h, "rel", d);
    }
    assert_eq!(fallback_listed(&reg, "rel", &subject), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&reg, "rel", &sbom), vec![prov.clone()]);
    let sig = skopeo_raw(
        &format!("docker://{h}/rel:{sig_tag}"),
        &["--tls-verify=false"],
    );
    assert!(all.contains(&Digest::sha256_of(&sig).to_string()));

    // merge from a registry source into another repository carries them on.
    let v = oix_json(&[
        "merge",
        &format!("docker://{h}/mirror:1"),
        &format!("docker://{h}/rel:1"),
        "--policy",
        "union",
        "--plain-http",
    ]);
    assert_eq!(carried(&v), all, "{v}");
    assert_eq!(
        fallback_listed(&reg, "mirror", &subject),
        vec![sbom.clone()]
    );
    assert_eq!(fallback_listed(&reg, "mirror", &sbom), vec![prov.clone()]);

    // --referrers-type: only the SBOM; --no-referrers: none.
    let v = oix_json(&[
        "merge",
        &format!("docker://{h}/sboms:1"),
        &format!("{ls}:v1"),
        "--policy",
        "union",
        "--plain-http",
        "--referrers-type",
        SBOM,
    ]);
    assert_eq!(carried(&v), vec![sbom.clone()], "{v}");
    assert_eq!(fallback_listed(&reg, "sboms", &subject), vec![sbom.clone()]);
    assert!(fallback_listed(&reg, "sboms", &sbom).is_empty());
    let v = oix_json(&[
        "index",
        "add",
        &format!("docker://{h}/bare:1"),
        &format!("{ls}:v1"),
        "--plain-http",
        "--no-referrers",
    ]);
    assert!(carried(&v).is_empty(), "{v}");
    assert!(fallback_listed(&reg, "bare", &subject).is_empty());
    let mut want = vec![subject.clone()];
    want.push(v["digest"].as_str().unwrap().to_string());
    assert_eq!(sorted(reg.repo_manifests("bare")), sorted(want));
}

/// Write `plan.yaml` in `dir` releasing images from the layout `./builds` to the
/// registry `host`: `images` is the YAML of the `images:` list, `defaults` of the
/// `defaults:` mapping (or empty).
fn write_plan(dir: &Path, name: &str, host: &str, defaults: &str, images: &str) -> String {
    let p = dir.join(name);
    let defaults = if defaults.is_empty() {
        String::new()
    } else {
        format!("defaults:\n{defaults}")
    };
    std::fs::write(
        &p,
        format!(
            "version: 1\nlayout: ./out-{name}\ndestinations:\n  - url: docker://{host}\n    plain_http: true\n{defaults}images:\n{images}"
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

fn apply_ok(args: &[&str]) -> std::process::Output {
    let out = oix().arg("apply").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "oix apply {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The plan key `referrers:` (`all` | `none` | artifact types), per image and in
/// `defaults:`, decides what each image carries; `--no-referrers`/`--referrers-type`
/// override it for the run; `oix plan check` refuses a bad value with its position.
#[test]
fn plan_key_referrers_per_image_and_in_defaults() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("builds");
    let (subject, all, sbom, prov) = signed_release(&l);

    // defaults: SBOMs only; `bare` says none, `full` says all.
    let plan = write_plan(
        work.path(),
        "plan.yaml",
        &h,
        &format!("  referrers: [{SBOM}]\n"),
        "  - name: sboms\n    source: ./builds:v1\n    tags: ['1']\n  - name: bare\n    source: ./builds:v1\n    tags: ['1']\n    referrers: none\n  - name: full\n    source: ./builds:v1\n    tags: ['1']\n    referrers: all\n",
    );
    let check = oix().args(["plan", "check", &plan]).output().unwrap();
    assert!(check.status.success(), "{check:?}");
    apply_ok(&[&plan]);
    // Which referrers a repository holds (its other manifests: the image and the
    // fallback-tag referrers indexes).
    let held = |repo: &str| -> Vec<String> {
        let m = reg.repo_manifests(repo);
        all.iter().filter(|d| m.contains(d)).cloned().collect()
    };
    assert_eq!(held("sboms"), vec![sbom.clone()]);
    assert_eq!(fallback_listed(&reg, "sboms", &subject), vec![sbom.clone()]);
    assert_eq!(reg.repo_manifests("bare"), vec![subject.clone()]);
    assert_eq!(held("full"), all);
    assert_eq!(fallback_listed(&reg, "full", &sbom), vec![prov.clone()]);

    // The CLI flags override the plan for the run: `referrers: none` in the plan,
    // `--referrers-type SBOM` on the command line carries the SBOM.
    let plan2 = write_plan(
        work.path(),
        "override.yaml",
        &h,
        "",
        "  - name: over\n    source: ./builds:v1\n    tags: ['1']\n    referrers: none\n",
    );
    apply_ok(&[&plan2, "--referrers-type", SBOM]);
    assert_eq!(held("over"), vec![sbom.clone()]);

    // Bad values: refused by `plan check` (and apply) with the image's position,
    // nothing written.
    for (bad, needle) in [
        ("some", "`some` is not `all`, `none`"),
        ("[]", "an empty list"),
        ("['not a type']", "is not an artifact type"),
        (
            "{a: b}",
            "referrers: `all`, `none` or a list of artifact types",
        ),
    ] {
        let p = write_plan(
            work.path(),
            "bad.yaml",
            &h,
            "",
            &format!("  - name: badref\n    source: ./builds:v1\n    tags: ['1']\n    referrers: {bad}\n"),
        );
        let out = oix().args(["plan", "check", &p]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(
            err.contains(needle) && err.contains("bad.yaml:"),
            "{bad}: {err}"
        );
        let out = oix().args(["apply", &p]).output().unwrap();
        assert!(!out.status.success(), "{bad}");
        assert!(reg.repo_manifests("badref").is_empty());
    }
}

/// `oix apply --dry-run` lists the referrers each image would carry (human report and
/// `--json`), as the plan key and the flags say, and writes nothing: from a layout
/// source and from a `docker://` source still to pull.
#[test]
fn apply_dry_run_lists_the_referrers_it_would_carry() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let h = reg.host();
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("builds");
    let (subject, all, sbom, _prov) = signed_release(&l);
    let plan = write_plan(
        work.path(),
        "plan.yaml",
        &h,
        "",
        "  - name: app\n    source: ./builds:v1\n    tags: ['1']\n  - name: sboms\n    source: ./builds:v1\n    tags: ['1']\n    referrers: [application/spdx+json]\n",
    );
    let v = oix_json(&["apply", &plan, "--dry-run"]);
    let images = v["images"].as_array().unwrap();
    assert_eq!(carried(&images[0]), all, "{v}");
    assert_eq!(carried(&images[1]), vec![sbom.clone()], "{v}");
    let subjects: Vec<&str> = images[0]["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&subject.as_str()));
    assert!(!work.path().join("out-plan.yaml").exists());
    assert!(reg.repo_manifests("app").is_empty());
    // --no-referrers: none listed.
    let v = oix_json(&["apply", &plan, "--dry-run", "--no-referrers"]);
    assert!(v["images"][0].get("referrers").is_none(), "{v}");
    // The human report lists them too.
    let out = apply_ok(&[&plan, "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for d in &all {
        assert!(
            text.contains(&format!("would carry referrer {d} of ")),
            "{text}"
        );
    }

    // A docker:// source still to pull: its registry's referrers are listed.
    oix_json(&[
        "push",
        &format!("{}:v1", l.display()),
        &format!("docker://{h}/src:v1"),
        "--plain-http",
    ]);
    let plan2 = write_plan(
        work.path(),
        "promote.yaml",
        &h,
        "",
        &format!("  - name: promoted\n    source: docker://{h}/src:v1\n    tags: ['1']\n"),
    );
    let v = oix_json(&["apply", &plan2, "--dry-run"]);
    assert_eq!(carried(&v["images"][0]), all, "{v}");
    assert!(reg.repo_manifests("promoted").is_empty());
    assert!(!work.path().join("out-promote.yaml").exists());
}
