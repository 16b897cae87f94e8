//! `oix apply` and `oix plan check` (issue 7): the StarlingX and Fedora scenarios of
//! docs/use-cases.md §5 and §2 as fixture plans (fixtures/plans/), idempotence,
//! conflicts, dry runs, plan errors with positions, layout destinations, and the plan
//! schema (docs/plan.schema.json) against the parser's structs and the fixtures.

mod common;
mod common_registry;

use common::*;
use common_registry::{Auth, RegistryServer};
use oix::apply::plan::{SourceRef, Sources};
use oix::model::{media, Descriptor};
use oix::reference::Target;
use oix::Layout;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

const SOURCE: &str = "org.opencontainers.image.source";
const REVISION: &str = "org.opencontainers.image.revision";

fn fixture_plan(name: &str) -> PathBuf {
    fixtures().join("plans").join(name)
}

/// Copy a fixture plan into a scratch dir.
fn scratch_plan(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(name);
    fs::copy(fixture_plan(name), &p).unwrap();
    (tmp, p)
}

/// `oix apply PLAN ARGS…`
fn apply(plan: &Path, args: &[&str]) -> Run {
    let mut a: Vec<String> = vec!["apply".into(), plan.display().to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    oix(&a)
}

/// Build the StarlingX working layout: every image's build tag, as the plan names it.
fn stx_setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, plan) = scratch_plan("starlingx.yaml");
    let p = oix::apply::load(&plan).unwrap();
    for img in &p.images {
        let Sources::One(SourceRef::Layout { reference, .. }) = &img.sources else {
            panic!("the StarlingX plan promotes single layout sources")
        };
        let Target::Name(build) = &reference.target else {
            panic!("a build tag")
        };
        arch_image(&p.layout, build, "linux/amd64", &img.name);
    }
    (tmp, plan, p.layout)
}

fn entry_map(dir: &Path) -> std::collections::BTreeMap<String, Value> {
    index_entries(dir)
        .into_iter()
        .map(|e| {
            (
                e["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                e,
            )
        })
        .collect()
}

fn without_annotations(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("annotations");
    v
}

#[test]
fn starlingx_first_apply_creates_release_tags_and_second_is_a_no_op() {
    let (_tmp, plan, out) = stx_setup();
    let before = entry_map(&out);
    let r = apply(&plan, &["--no-push", "--detailed-exitcode"]).exits(6);
    let text = r.stdout_str();
    assert!(
        text.contains("+ tag     k8s-cni-sriov:stx.4.0-v2.2"),
        "{text}"
    );
    assert!(text.contains("7 changed"), "{text}");
    let after = entry_map(&out);
    assert_eq!(after.len(), before.len() + 7, "{after:#?}");
    // The build tags are untouched.
    for (k, v) in &before {
        assert_eq!(&after[k], v, "{k} changed");
    }
    let p = oix::apply::load(&plan).unwrap();
    for img in &p.images {
        for t in &img.tags {
            let release = digest_of_ref(&out, &format!("{}:{t}", img.name));
            let Sources::One(src) = &img.sources else {
                panic!()
            };
            let build = digest_of_ref(&out, src.text());
            assert_ne!(release, build, "{}: annotated, so a new digest", img.name);
            let rel = blob_json(&out, &release);
            let orig = blob_json(&out, &build);
            // Only the annotations differ.
            assert_eq!(
                without_annotations(rel.clone()),
                without_annotations(orig),
                "{}",
                img.name
            );
            let src_ref = img.src_ref.as_deref().unwrap();
            let (repo, sha) = src_ref.split_once("/commit/").unwrap();
            assert_eq!(rel["annotations"][SOURCE], repo);
            assert_eq!(rel["annotations"][REVISION], sha);
        }
    }
    assert_fsck_clean(&out);
    // skopeo reads a release tag and sees the annotations.
    if let Some(sk) = tool("skopeo") {
        let raw = skopeo(
            &sk,
            &[
                "inspect",
                "--raw",
                &format!("oci:{}:k8s-cni-sriov:stx.4.0-v2.2", out.display()),
            ],
        )
        .ok();
        let v: Value = serde_json::from_slice(&raw.stdout).unwrap();
        assert_eq!(
            v["annotations"][REVISION],
            "dac417bd31ed36d455e94db4aabe5916367654d4"
        );
    }

    // Second run: nothing to do, nothing written, never 6.
    let index_before = fs::read(out.join("index.json")).unwrap();
    let tree_before = tree_hash(&out);
    let r = apply(&plan, &["--no-push", "--detailed-exitcode"]).exits(0);
    assert!(
        r.stdout_str()
            .contains("nothing to do: 7 image(s) already match"),
        "{}",
        r.stdout_str()
    );
    assert!(!r.stdout_str().contains("+ "), "{}", r.stdout_str());
    assert_eq!(fs::read(out.join("index.json")).unwrap(), index_before);
    assert_eq!(tree_hash(&out), tree_before);
    let j = apply(&plan, &["--no-push", "--json", "--detailed-exitcode"])
        .exits(0)
        .json();
    assert_eq!(j["summary"]["unchanged"], 7);
    for i in j["images"].as_array().unwrap() {
        assert_eq!(i["outcome"], "unchanged", "{i}");
        assert!(i["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["action"] == "unchanged"));
    }
    assert_eq!(tree_hash(&out), tree_before);
}

#[test]
fn changing_one_entry_changes_exactly_one_tag() {
    let (_tmp, plan, out) = stx_setup();
    apply(&plan, &["--no-push"]).ok();
    let before = entry_map(&out);

    // A new release tag for one image: exactly one ref added, everything else identical.
    let text = fs::read_to_string(&plan).unwrap();
    fs::write(
        &plan,
        text.replacen("tags: [stx.4.0-v3.1]", "tags: [stx.4.0-v3.2]", 1),
    )
    .unwrap();
    apply(&plan, &["--no-push", "--detailed-exitcode"]).exits(6);
    let after = entry_map(&out);
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(added, vec!["k8s-plugins-sriov-network-device:stx.4.0-v3.2"]);
    for (k, v) in &before {
        assert_eq!(&after[k], v, "{k} changed");
    }
    assert_eq!(
        after["k8s-plugins-sriov-network-device:stx.4.0-v3.2"]["digest"],
        before["k8s-plugins-sriov-network-device:stx.4.0-v3.1"]["digest"]
    );

    // A changed src_ref would move an existing release tag: refused, naming both
    // digests, and nothing is written; the other images are unchanged (exit 5).
    let old = digest_of_ref(&out, "k8s-cni-sriov:stx.4.0-v2.2");
    let text = fs::read_to_string(&plan).unwrap();
    let edited = text.replacen(
        "integ/commit/dac417bd31ed36d455e94db4aabe5916367654d4\n    # Tag",
        "integ/commit/0000000000000000000000000000000000000001\n    # Tag",
        1,
    );
    assert_ne!(edited, text);
    fs::write(&plan, edited).unwrap();
    let tree = tree_hash(&out);
    let r = apply(&plan, &["--no-push", "--json"]).exits(5);
    let j = r.json();
    let img = j["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "k8s-cni-sriov")
        .unwrap()
        .clone();
    assert_eq!(img["outcome"], "refused");
    let msg = img["error"]["message"].as_str().unwrap();
    let new = img["digest"].as_str().unwrap();
    assert!(msg.contains(&old) && msg.contains(new), "{msg}");
    assert!(r.stderr.contains(&old), "{}", r.stderr);
    assert_eq!(j["summary"]["unchanged"], 6);
    assert_eq!(tree_hash(&out), tree, "a refusal writes nothing");

    // With --force exactly that tag moves.
    let before = entry_map(&out);
    apply(&plan, &["--no-push", "--force", "--detailed-exitcode"]).exits(6);
    let after = entry_map(&out);
    let changed: Vec<&String> = after.keys().filter(|k| after[*k] != before[*k]).collect();
    assert_eq!(changed, vec!["k8s-cni-sriov:stx.4.0-v2.2"]);
    assert_eq!(digest_of_ref(&out, "k8s-cni-sriov:stx.4.0-v2.2"), new);
    assert_eq!(after.len(), before.len());
    assert_fsck_clean(&out);
}

#[test]
fn dry_run_writes_nothing() {
    let (tmp, plan, _out) = stx_setup();
    let tree = tree_hash(tmp.path());
    let r = apply(&plan, &["--dry-run", "--no-push", "--detailed-exitcode"]).exits(6);
    assert!(r.stdout_str().contains("(dry run)"), "{}", r.stdout_str());
    assert!(
        r.stdout_str().contains("7 would change"),
        "{}",
        r.stdout_str()
    );
    let j = apply(&plan, &["--dry-run", "--no-push", "--json"])
        .exits(0)
        .json();
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["summary"]["would_change"], 7);
    let img = &j["images"][0];
    assert_eq!(img["document"], "annotated");
    let steps: Vec<&str> = img["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(steps, vec!["write", "tag"]);
    assert_eq!(tree_hash(tmp.path()), tree);
    // The digest the dry run announces is the one the real run writes.
    let announced = img["digest"].as_str().unwrap().to_string();
    apply(&plan, &["--no-push"]).ok();
    assert_eq!(
        digest_of_ref(&_out, "k8s-cni-sriov:stx.4.0-v2.2"),
        announced
    );
}

/// The Fedora compose layout: every image per arch, except the arches left out.
fn fedora_setup(missing: &[(&str, &str)], salt: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, plan) = scratch_plan("fedora.yaml");
    let compose = tmp.path().join("compose");
    build_compose(&compose, missing, salt);
    (tmp, plan, compose)
}

fn build_compose(compose: &Path, missing: &[(&str, &str)], salt: &str) {
    for name in ["fedora", "fedora-minimal", "fedora-toolbox"] {
        for (arch, plat) in [
            ("x86_64", "linux/amd64"),
            ("aarch64", "linux/arm64"),
            ("ppc64le", "linux/ppc64le"),
            ("s390x", "linux/s390x"),
        ] {
            if missing.contains(&(name, arch)) {
                continue;
            }
            arch_image(
                compose,
                &format!("{name}:40-{arch}"),
                plat,
                &format!("{name} {salt}"),
            );
        }
    }
}

fn platforms_of(dir: &Path, r: &str) -> Vec<String> {
    let idx = blob_json(dir, &digest_of_ref(dir, r));
    idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn fedora_require_all_refuses_the_image_missing_an_arch_and_publishes_the_others() {
    let (_tmp, plan, compose) = fedora_setup(&[("fedora-toolbox", "s390x")], "compose-1");
    let r = apply(&plan, &["--no-push", "--json"]).exits(5);
    let j = r.json();
    let outcome = |n: &str| {
        j["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("fedora")["outcome"], "changed");
    assert_eq!(outcome("fedora-minimal")["outcome"], "changed");
    let tb = outcome("fedora-toolbox");
    assert_eq!(tb["outcome"], "refused");
    assert_eq!(tb["error"]["exit_code"], 5);
    assert!(
        tb["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fedora-toolbox:40-s390x"),
        "{tb}"
    );
    assert!(r.stderr.contains("fedora-toolbox"), "{}", r.stderr);
    let refs = ref_names(&compose);
    for t in ["40", "latest"] {
        assert!(refs.contains(&format!("fedora:{t}")));
        assert!(refs.contains(&format!("fedora-minimal:{t}")));
        assert!(!refs.contains(&format!("fedora-toolbox:{t}")), "{refs:?}");
    }
    assert_eq!(
        platforms_of(&compose, "fedora:40"),
        vec!["linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"]
    );
    assert_eq!(
        digest_of_ref(&compose, "fedora:40"),
        digest_of_ref(&compose, "fedora:latest")
    );
    let idx = blob_json(&compose, &digest_of_ref(&compose, "fedora:40"));
    assert_eq!(idx["annotations"]["org.opencontainers.image.version"], "40");
    let tb_idx_src = blob_json(&compose, &digest_of_ref(&compose, "fedora-minimal:40"));
    assert!(tb_idx_src["annotations"].get(SOURCE).is_none());
    assert_fsck_clean(&compose);

    // The missing build arrives: toolbox is published, the others stay as they are.
    let fedora40 = digest_of_ref(&compose, "fedora:40");
    arch_image(
        &compose,
        "fedora-toolbox:40-s390x",
        "linux/s390x",
        "fedora-toolbox compose-1",
    );
    let j = apply(&plan, &["--no-push", "--json", "--detailed-exitcode"])
        .exits(6)
        .json();
    assert_eq!(j["summary"]["changed"], 1);
    assert_eq!(j["summary"]["unchanged"], 2);
    assert_eq!(digest_of_ref(&compose, "fedora:40"), fedora40);
    let tb = blob_json(&compose, &digest_of_ref(&compose, "fedora-toolbox:latest"));
    assert_eq!(
        tb["annotations"][SOURCE], "https://pagure.io/fedora-kickstarts",
        "a src_ref that is not a commit URL is the source only"
    );
    assert!(tb["annotations"].get(REVISION).is_none());

    // The next compose loses aarch64 for fedora: fedora keeps its previous release
    // (refused, exit 5), the rebuilt others move (force: true in the plan's defaults).
    let minimal_before = digest_of_ref(&compose, "fedora-minimal:40");
    oix(&[
        "untag".to_string(),
        format!("{}:fedora:40-aarch64", compose.display()),
    ])
    .ok();
    for (name, arch, plat) in [
        ("fedora", "x86_64", "linux/amd64"),
        ("fedora-minimal", "x86_64", "linux/amd64"),
    ] {
        arch_image(&compose, &format!("{name}:40-{arch}"), plat, "compose-2");
    }
    let r = apply(&plan, &["--no-push", "--json"]).exits(5);
    let j = r.json();
    assert_eq!(j["summary"]["refused"], 1);
    assert_eq!(j["summary"]["changed"], 1);
    assert_eq!(digest_of_ref(&compose, "fedora:40"), fedora40);
    assert_ne!(digest_of_ref(&compose, "fedora-minimal:40"), minimal_before);
    assert_eq!(
        platforms_of(&compose, "fedora-minimal:latest").len(),
        4,
        "the moved index still has every arch"
    );
    assert_fsck_clean(&compose);
}

#[test]
fn keep_missing_carries_the_previous_entry_and_is_idempotent() {
    let (tmp, plan) = scratch_plan("fedora.yaml");
    let compose = tmp.path().join("compose");
    build_compose(&compose, &[], "c1");
    let text = fs::read_to_string(&plan)
        .unwrap()
        .replace("policy: require-all", "policy: keep-missing")
        .replace(
            "platforms: [linux/amd64, linux/arm64, linux/ppc64le, linux/s390x]",
            "",
        );
    fs::write(&plan, text).unwrap();
    apply(&plan, &["--no-push", "--only", "fedora"]).ok();
    let first = digest_of_ref(&compose, "fedora:40");
    oix(&[
        "untag".to_string(),
        format!("{}:fedora:40-s390x", compose.display()),
    ])
    .ok();
    arch_image(&compose, "fedora:40-x86_64", "linux/amd64", "c2");
    let r = apply(&plan, &["--no-push", "--only", "fedora", "--json"]).ok();
    let j = r.json();
    assert_eq!(j["images"][0]["absent"][0], "fedora:40-s390x");
    let idx = blob_json(&compose, &digest_of_ref(&compose, "fedora:40"));
    let carried: Vec<&Value> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["platform"]["architecture"] == "s390x")
        .collect();
    assert_eq!(carried.len(), 1);
    assert_eq!(
        carried[0]["annotations"]["dev.oix.merge.carried-from"],
        format!("fedora:40@{first}")
    );
    // Same inputs again: nothing changes.
    let index = fs::read(compose.join("index.json")).unwrap();
    apply(
        &plan,
        &["--no-push", "--only", "fedora", "--detailed-exitcode"],
    )
    .exits(0);
    assert_eq!(fs::read(compose.join("index.json")).unwrap(), index);
}

#[test]
fn a_failing_image_does_not_stop_the_others_unless_fail_fast() {
    let (_tmp, plan, out) = stx_setup();
    oix(&[
        "untag".to_string(),
        format!(
            "{}:intel-gpu-plugin:master-distroless-stable-20191203T153530Z.0",
            out.display()
        ),
    ])
    .ok();
    let tree = tree_hash(&out);
    // --fail-fast: the failure is found while planning, so nothing is written.
    let j = apply(&plan, &["--no-push", "--fail-fast", "--json"])
        .exits(1)
        .json();
    assert_eq!(j["summary"]["failed"], 1);
    assert_eq!(j["summary"]["skipped"], 6);
    assert_eq!(tree_hash(&out), tree);
    // Without it the six others are released; the summary names each outcome.
    let r = apply(&plan, &["--no-push"]).exits(1);
    let text = r.stdout_str();
    assert!(text.contains("intel-gpu-plugin failed"), "{text}");
    assert!(text.contains("6 changed"), "{text}");
    assert!(
        r.stderr.starts_with("error: image intel-gpu-plugin"),
        "{}",
        r.stderr
    );
    assert!(ref_names(&out).contains(&"intel-qat-plugin:stx.4.0-v0.11.0-109-gc48c502".into()));
    assert!(!ref_names(&out).contains(&"intel-gpu-plugin:stx.4.0-v0.11.0-103-g4f28657".into()));
    // --only picks images; an unknown name is a usage error.
    apply(&plan, &["--no-push", "--only", "intel-gpu-plugin"]).exits(1);
    apply(
        &plan,
        &["--no-push", "--only", "k8s-cni-sriov,intel-qat-plugin"],
    )
    .exits(0);
    apply(
        &plan,
        &[
            "--no-push",
            "--skip",
            "intel-gpu-plugin",
            "--detailed-exitcode",
        ],
    )
    .exits(0);
    apply(&plan, &["--no-push", "--only", "nope"])
        .fails_with(2)
        .stderr_contains("k8s-cni-sriov");
}

#[test]
fn unknown_keys_and_bad_values_are_reported_with_position_and_image() {
    let (tmp, plan, out) = stx_setup();
    let text = fs::read_to_string(&plan).unwrap();
    // The third image gets a misspelt key.
    let bad = text.replacen(
        "    tags: [stx.4.0-v0.11.0-103-g4f28657]\n",
        "    tag: [stx.4.0-v0.11.0-103-g4f28657]\n",
        1,
    );
    fs::write(&plan, &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("    tag: "))
        .unwrap()
        + 1;
    let tree = tree_hash(tmp.path());
    let want = format!(
        "{}:{line}:5: image \"intel-fpga-admissionwebhook\" (images[2]): unknown field `tag`",
        plan.display()
    );
    apply(&plan, &["--no-push"])
        .fails_with(1)
        .stderr_contains(&want);
    oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .fails_with(1)
    .stderr_contains(&want);
    assert_eq!(tree_hash(tmp.path()), tree);

    // Semantic problems: all of them, each with its image.
    fs::write(
        &plan,
        text.replacen("tags: [stx.4.0-v2.2]", "tags: [-v2.2]", 1)
            .replacen("- name: intel-qat-plugin", "- name: Intel-QAT", 1)
            .replacen("version: 1", "version: 1\nbogus: true", 1),
    )
    .unwrap();
    let r = oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .fails_with(1);
    assert!(r.stderr.contains("unknown field `bogus`"), "{}", r.stderr);
    fs::write(
        &plan,
        text.replacen("tags: [stx.4.0-v2.2]", "tags: [-v2.2]", 1)
            .replacen("- name: intel-qat-plugin", "- name: Intel-QAT", 1),
    )
    .unwrap();
    let j = oix(&[
        "plan".to_string(),
        "check".to_string(),
        "--json".to_string(),
        plan.display().to_string(),
    ])
    .exits(1)
    .json();
    let problems = j["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0]["image"], "\"k8s-cni-sriov\" (images[0])");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("invalid tag \"-v2.2\""));
    assert_eq!(problems[1]["image"], "\"Intel-QAT\" (images[6])");
    assert!(problems[1]["line"].as_u64().unwrap() > 40);
    let _ = out;
}

#[test]
fn plan_check_resolves_layout_sources() {
    let (_tmp, plan) = scratch_plan("starlingx.yaml");
    // No layout yet (the plan is reviewed before the builds ran): the plan itself is
    // checked and valid; the sources are listed as not checked, not as errors.
    let check = |plan: &Path| {
        oix(&[
            "plan".to_string(),
            "check".to_string(),
            "--json".to_string(),
            plan.display().to_string(),
        ])
    };
    let j = check(&plan).ok().json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["sources_checked"], 0);
    assert_eq!(j["layouts_absent"].as_array().unwrap().len(), 1, "{j:#}");
    let human = oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .ok();
    assert!(
        human
            .stdout_str()
            .contains("does not exist: its sources are checked when it does"),
        "{}",
        human.stdout_str()
    );
    // A directory that exists but is not a layout is a problem for every source in it.
    fs::create_dir_all(plan.parent().unwrap().join("out/junk")).unwrap();
    let j = check(&plan).exits(1).json();
    assert_eq!(j["problems"].as_array().unwrap().len(), 7);
    assert_eq!(j["problems"][0]["image"], "\"k8s-cni-sriov\" (images[0])");
    let (_tmp, plan, _out) = stx_setup();
    let r = oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .ok();
    assert!(
        r.stdout_str()
            .contains("ok: 7 image(s), 7 release tag(s), 1 destination(s)"),
        "{}",
        r.stdout_str()
    );
    // The Fedora plan is valid once its compose exists.
    let (_tmp2, plan, _compose) = fedora_setup(&[], "x");
    oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .ok();
}

#[test]
fn layout_destination_gets_tags_and_arch_tags_and_reapply_copies_nothing() {
    let (tmp, plan, compose) = fedora_setup(&[], "d1");
    let text = fs::read_to_string(&plan).unwrap().replace(
        "  - url: docker://registry.fedoraproject.org",
        "  - url: oci:./release",
    );
    fs::write(&plan, text).unwrap();
    let release = tmp.path().join("release");
    let j = apply(&plan, &["--json", "--only", "fedora"]).ok().json();
    let steps = j["images"][0]["steps"].as_array().unwrap();
    let pushed: Vec<&Value> = steps.iter().filter(|s| s["kind"] == "push").collect();
    assert_eq!(pushed.len(), 2);
    assert_eq!(pushed[0]["target"], "oci:./release:fedora:40");
    assert_eq!(
        pushed[0]["summary"]["uploaded"], 8,
        "4 configs and 4 layers"
    );
    let refs = ref_names(&release);
    for t in ["40", "latest"] {
        assert_eq!(
            digest_of_ref(&release, &format!("fedora:{t}")),
            digest_of_ref(&compose, &format!("fedora:{t}"))
        );
        for a in ["amd64", "arm64", "ppc64le", "s390x"] {
            assert!(refs.contains(&format!("fedora:{t}-{a}")), "{refs:?}");
        }
    }
    assert_fsck_clean(&release);
    // Re-apply: nothing to copy or tag anywhere.
    let tree = tree_hash(tmp.path());
    apply(&plan, &["--only", "fedora", "--detailed-exitcode"]).exits(0);
    assert_eq!(tree_hash(tmp.path()), tree);

    // The destination's tag was moved by someone else: a conflict at the destination
    // (not forced: --only fedora with force: false), then --force moves it back.
    let text = fs::read_to_string(&plan)
        .unwrap()
        .replace("  force: true\n", "");
    fs::write(&plan, text).unwrap();
    let other = digest_of_ref(&release, "fedora:40-amd64");
    oix(&[
        "tag".to_string(),
        format!("{}:fedora:40-amd64", release.display()),
        "fedora:40".to_string(),
    ])
    .ok();
    let want = digest_of_ref(&compose, "fedora:40");
    let tree = tree_hash(tmp.path());
    let r = apply(&plan, &["--only", "fedora"]).exits(5);
    assert!(
        r.stderr.contains(&other) && r.stderr.contains(&want),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout_str().contains("oci:./release:fedora:40"),
        "{}",
        r.stdout_str()
    );
    assert_eq!(tree_hash(tmp.path()), tree);
    apply(&plan, &["--only", "fedora", "--force"]).ok();
    assert_eq!(digest_of_ref(&release, "fedora:40"), want);
}

#[test]
fn docker_destinations_fail_cleanly_without_touching_the_layout() {
    let (tmp, plan, out) = stx_setup();
    let text = fs::read_to_string(&plan).unwrap().replace(
        "docker://docker.io/starlingx",
        "docker://127.0.0.1:9/starlingx",
    );
    fs::write(&plan, text).unwrap();
    let tree = tree_hash(tmp.path());
    let j = apply(&plan, &["--json", "--only", "k8s-cni-sriov"])
        .exits(1)
        .json();
    assert_eq!(j["images"][0]["outcome"], "failed");
    assert_eq!(tree_hash(tmp.path()), tree);
    // --no-push carries out the layout part alone.
    apply(&plan, &["--no-push", "--only", "k8s-cni-sriov"]).ok();
    assert!(ref_names(&out).contains(&"k8s-cni-sriov:stx.4.0-v2.2".into()));
}

#[test]
fn sources_from_other_layouts_are_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let builds = tmp.path().join("builds");
    arch_image(&builds, "app:amd64", "linux/amd64", "a");
    arch_image(&builds, "app:arm64", "linux/arm64", "b");
    let single = tmp.path().join("single");
    let d = arch_image(&single, "v1", "linux/amd64", "s");
    let plan = tmp.path().join("plan.yaml");
    fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./out\nimages:\n  - name: app\n    sources: ['oci:./builds:app:amd64', './builds:app:arm64']\n    tags: ['1.0']\n    arch_tags: '{{tag}}-{{arch}}'\n  - name: tool\n    source: ./single@{d}\n    tags: ['2.0']\n"
        ),
    )
    .unwrap();
    oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .ok();
    apply(&plan, &["--detailed-exitcode"]).exits(6);
    let out = tmp.path().join("out");
    assert_eq!(
        digest_of_ref(&out, "tool:2.0"),
        d,
        "no annotations: as it is"
    );
    assert_eq!(
        platforms_of(&out, "app:1.0"),
        vec!["linux/amd64", "linux/arm64"]
    );
    assert_fsck_clean(&out);
    apply(&plan, &["--detailed-exitcode"]).exits(0);
}

// ---- The schema file against the parser and the fixtures ----

/// The field names serde derives for `T` (what `deserialize_struct` is told).
fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    #[derive(Debug)]
    struct Fields(Vec<&'static str>);
    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl std::error::Error for Fields {}
    impl serde::de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Fields(Vec::new())
        }
    }
    struct Probe;
    impl<'de> serde::Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(Vec::new()))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields.to_vec()))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Fields(f)) => f,
        Ok(_) => panic!("not a struct"),
    }
}

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan.schema.json");
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// Resolve a local `$ref` (`#/a/b/c`).
fn deref<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut v = root;
            for part in r.trim_start_matches("#/").split('/') {
                v = &v[part];
            }
            deref(root, v)
        }
        None => s,
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn sorted(f: Vec<&'static str>) -> Vec<String> {
    let mut v: Vec<String> = f.into_iter().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn schema_properties_match_the_parser() {
    use oix::apply::plan::{DestinationSpec, ImageDefaults, ImageSpec, PlanFile};
    let s = schema();
    let d = &s["$defs"];
    assert_eq!(keys(&s["properties"]), sorted(serde_fields::<PlanFile>()));
    assert_eq!(
        keys(&d["image"]["properties"]),
        sorted(serde_fields::<ImageSpec>())
    );
    assert_eq!(
        keys(&d["imageKeys"]["properties"]),
        sorted(serde_fields::<ImageDefaults>())
    );
    assert_eq!(
        keys(&d["destination"]["properties"]),
        sorted(serde_fields::<DestinationSpec>())
    );
    // Required keys are exactly the non-optional fields.
    let req = |v: &Value| {
        let mut r: Vec<String> = v["required"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        r.sort();
        r
    };
    assert_eq!(req(&s), vec!["images", "layout", "version"]);
    assert_eq!(req(&d["image"]), vec!["name"]);
    assert_eq!(req(&d["destination"]), vec!["url"]);
    for obj in [&s, &d["image"], &d["imageKeys"], &d["destination"]] {
        assert_eq!(obj["additionalProperties"], false);
    }
    // The policy enum matches the parser's.
    let policies: Vec<String> = d["imageKeys"]["properties"]["policy"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    for p in &policies {
        let y = format!("version: 1\nlayout: x\nimages:\n  - name: a\n    sources: [a:b]\n    tags: [t]\n    policy: {p}\n");
        oix::apply::plan::parse(Path::new("p.yaml"), &y).unwrap();
    }
    assert_eq!(policies.len(), 4);
}

/// Validate `v` against the subset of JSON Schema the plan schema uses.
fn validate(root: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let s = deref(root, schema);
    if let Some(c) = s.get("const") {
        if c != v {
            errors.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    let ty = s.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("boolean") => v.is_boolean(),
        Some("integer") => v.is_i64() || v.is_u64(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: {v} is not of type {}", ty.unwrap_or("?")));
        return;
    }
    if let (Some(p), Some(x)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !regex::Regex::new(p).unwrap().is_match(x) {
            errors.push(format!("{at}: {x:?} does not match {p}"));
        }
    }
    if let Some(n) = s.get("minLength").and_then(Value::as_u64) {
        if v.as_str().is_some_and(|x| (x.len() as u64) < n) {
            errors.push(format!("{at}: too short"));
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < n {
                errors.push(format!("{at}: fewer than {n} items"));
            }
        }
        if let Some(items) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                validate(root, items, x, &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(o) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !o.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{at}: required key {r} is missing"));
            }
        }
        let props = s.get("properties");
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(root, ps, x, &format!("{at}.{k}"), errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{at}: unknown key {k}")),
                    Some(extra @ Value::Object(_)) => {
                        validate(root, extra, x, &format!("{at}.{k}"), errors)
                    }
                    _ => {}
                },
            }
        }
    }
}

#[test]
fn fixture_plans_validate_against_the_schema() {
    let root = schema();
    let mut n = 0;
    for e in fs::read_dir(fixtures().join("plans")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue;
        }
        n += 1;
        let text = fs::read_to_string(&path).unwrap();
        let v: Value = serde_saphyr::from_str(&text).unwrap();
        let mut errors = Vec::new();
        validate(&root, &root, &v, "$", &mut errors);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        // And the parser accepts it.
        oix::apply::plan::parse(&path, &text).unwrap();
    }
    assert!(
        n >= 2,
        "fixtures/plans holds the StarlingX and Fedora plans"
    );
    // The validator is not vacuous: it finds an unknown key, a bad tag and a missing key.
    let bad: Value = serde_json::json!({
        "version": 1, "layout": "x",
        "images": [{"name": "a", "tagz": ["t"]}, {"name": "b", "tags": ["-x"]}],
        "destinations": [{"plain_http": true}]
    });
    let mut errors = Vec::new();
    validate(&root, &root, &bad, "$", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn a_tag_moved_between_planning_and_writing_fails_that_image_alone() {
    let (_tmp, plan, out) = stx_setup();
    let p = oix::apply::load(&plan).unwrap();
    let opts = oix::apply::Options {
        dry_run: false,
        only: Vec::new(),
        skip: Vec::new(),
        force: false,
        fail_fast: false,
        no_push: true,
        lock_timeout: std::time::Duration::from_secs(10),
        jobs: 4,
        timeout: None,
        tls: Default::default(),
        referrers: Default::default(),
    };
    let run = oix::apply::Run::prepare(&p, &opts).unwrap();
    assert_eq!(run.planned().len(), 7);
    // Another process creates one release tag after the plan was computed.
    let layout = Layout::open(&out).unwrap();
    let build = digest_of_ref(
        &out,
        "intel-qat-plugin:master-distroless-stable-20191203T153530Z.0",
    );
    let d = Descriptor::new(
        media::OCI_MANIFEST,
        &oix::Digest::parse(&build).unwrap(),
        blob(&out, &build).len() as u64,
    );
    oix::tags::tag(
        &layout,
        &d,
        &["intel-qat-plugin:stx.4.0-v0.11.0-109-gc48c502".into()],
    )
    .unwrap();
    let report = run.carry_out();
    assert_eq!(report.summary.changed, 6);
    assert_eq!(report.summary.failed, 1);
    let qat = report
        .images
        .iter()
        .find(|i| i.name == "intel-qat-plugin")
        .unwrap();
    let msg = &qat.error.as_ref().unwrap().message;
    assert!(msg.contains("changed while applying"), "{msg}");
    // The other process's tag stands; the six others are released.
    assert_eq!(
        digest_of_ref(&out, "intel-qat-plugin:stx.4.0-v0.11.0-109-gc48c502"),
        build
    );
    assert!(ref_names(&out).contains(&"k8s-cni-sriov:stx.4.0-v2.2".to_string()));
    assert_eq!(report.exit_code(true), 1);
    assert_fsck_clean(&out);
}

#[test]
fn a_digest_pinned_registry_source_already_in_the_layout_needs_no_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let d = arch_image(&out, "mirror:build", "linux/arm64", "pinned");
    let plan = tmp.path().join("plan.yaml");
    fs::write(
        &plan,
        format!("version: 1\nlayout: ./out\nimages:\n  - name: mirror\n    source: docker://registry.example.com/upstream/mirror@{d}\n    tags: [v1]\n    platforms: [linux/arm64]\n"),
    )
    .unwrap();
    apply(&plan, &["--detailed-exitcode"]).exits(6);
    assert_eq!(digest_of_ref(&out, "mirror:v1"), d);
    apply(&plan, &["--detailed-exitcode"]).exits(0);
    // A tag (not pinned) has to ask the registry, which does not answer (loopback only).
    fs::write(
        &plan,
        "version: 1\nlayout: ./out\nimages:\n  - name: mirror\n    source: docker://127.0.0.1:9/upstream/mirror:1\n    tags: [v2]\n",
    )
    .unwrap();
    let j = apply(&plan, &["--json"]).exits(1).json();
    assert_eq!(j["images"][0]["outcome"], "failed");
}

// ---- Against the real registry (issue 14 item 3, issue 15 item 2) ----

/// A registry for these tests; `None` (SKIP locally, a failure under CI) without the
/// registry or skopeo.
fn registry() -> Option<RegistryServer> {
    if !(common_registry::require("docker-registry") && common_registry::require("skopeo")) {
        return None;
    }
    Some(RegistryServer::start(None, Auth::None))
}

/// `oix push LAYOUT:REF docker://URL --plain-http`.
fn push(layout: &Path, r: &str, url: &str) {
    oix(&[
        "push".to_string(),
        format!("{}:{r}", layout.display()),
        url.to_string(),
        "--plain-http".to_string(),
    ])
    .ok();
}

/// The layer digests of the graph under a layout ref.
fn layer_digests(dir: &Path, r: &str) -> Vec<String> {
    let l = Layout::open(dir).unwrap();
    let root = Descriptor::new(
        media::OCI_MANIFEST,
        &oix::Digest::parse(&digest_of_ref(dir, r)).unwrap(),
        blob(dir, &digest_of_ref(dir, r)).len() as u64,
    );
    let root = if blob_json(dir, &root.digest)["manifests"].is_array() {
        Descriptor::new(media::OCI_INDEX, &root.digest().unwrap(), root.size as u64)
    } else {
        root
    };
    oix::graph::walk(&l, &[root])
        .nodes
        .iter()
        .filter(|n| n.role == oix::model::Role::Layer)
        .map(|n| n.descriptor.digest.clone())
        .collect()
}

/// GETs of any of `digests` as blobs since request `since`.
fn blob_gets(reg: &RegistryServer, since: usize, digests: &[String]) -> usize {
    reg.requests()[since..]
        .iter()
        .filter(|(m, p)| m == "GET" && digests.iter().any(|d| p.ends_with(&format!("/blobs/{d}"))))
        .count()
}

/// The digest `skopeo inspect --raw` sees at a registry reference.
fn registry_digest(url: &str) -> String {
    let raw = common_registry::skopeo_raw(url, &["--tls-verify=false"]);
    oix::Digest::sha256_of(&raw).to_string()
}

/// Issue 14 item 3: the StarlingX plan with its build tags in a registry promotes them
/// registry to registry: the release tags appear, every blob is mounted from the build
/// repository (no upload), no layer is downloaded, and the working layout holds the
/// documents that record the release (not the layers). A second run changes nothing.
#[test]
fn starlingx_promotes_registry_to_registry_without_downloading_layers() {
    let Some(reg) = registry() else { return };
    let h = reg.host();
    let (tmp, plan, out) = stx_setup();
    let p = oix::apply::load(&plan).unwrap();
    let mut layers = Vec::new();
    for img in &p.images {
        let Sources::One(src) = &img.sources else {
            panic!("single sources")
        };
        let build = src.text().to_string();
        layers.extend(layer_digests(&out, &build));
        let tag = build.split_once(':').unwrap().1;
        push(
            &out,
            &build,
            &format!("docker://{h}/stx-build/{}:{tag}", img.name),
        );
    }
    // A fresh machine: no working layout; sources and destination in the registry.
    fs::remove_dir_all(&out).unwrap();
    let text = fs::read_to_string(&plan)
        .unwrap()
        .replace(
            "    source: ",
            &format!("    source: docker://{h}/stx-build/"),
        )
        .replace(
            "  - url: docker://docker.io/starlingx\n",
            &format!("  - url: docker://{h}/starlingx\n    plain_http: true\n"),
        );
    fs::write(&plan, text).unwrap();
    oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .ok();
    let since = reg.requests().len();
    let j = apply(&plan, &["--json", "--detailed-exitcode"])
        .exits(6)
        .json();
    assert_eq!(j["summary"]["changed"], 7, "{j}");
    for img in &p.images {
        let t = &img.tags[0];
        let release = digest_of_ref(&out, &format!("{}:{t}", img.name));
        assert_eq!(
            registry_digest(&format!("docker://{h}/starlingx/{}:{t}", img.name)),
            release,
            "{}",
            img.name
        );
        let rel = blob_json(&out, &release);
        assert!(rel["annotations"][REVISION].is_string(), "{rel}");
    }
    let reqs = reg.requests()[since..].to_vec();
    let of = |m: &str| reqs.iter().filter(|(x, _)| x == m).count();
    eprintln!(
        "StarlingX promotion, 7 images: {} requests (HEAD {}, GET {}, POST {}, PUT {}), {} layers mounted",
        reqs.len(),
        of("HEAD"),
        of("GET"),
        of("POST"),
        of("PUT"),
        layers.len()
    );
    assert_eq!(blob_gets(&reg, since, &layers), 0, "no layer downloaded");
    assert_eq!(
        reg.count(since, "PUT", "/blobs/uploads/"),
        0,
        "nothing uploaded"
    );
    assert_eq!(
        reg.count(since, "PATCH", "/blobs/uploads/"),
        0,
        "nothing uploaded"
    );
    assert!(
        reg.count(since, "POST", "/blobs/uploads/") >= layers.len(),
        "mounted"
    );
    // The working layout records the release: documents and configs, no layers.
    for l in &layers {
        let hex = l.strip_prefix("sha256:").unwrap();
        assert!(
            !out.join("blobs/sha256").join(hex).exists(),
            "{l} came to the layout"
        );
    }
    // Again: nothing to do, nothing sent but HEADs.
    let since = reg.requests().len();
    apply(&plan, &["--detailed-exitcode"]).exits(0);
    assert_eq!(reg.count(since, "PUT", "/"), 0);
    assert_eq!(reg.count(since, "GET", "/blobs/"), 0);
    // `layers: local` asks for a self-contained working layout: what the documents-only
    // runs left out is pulled.
    let text = fs::read_to_string(&plan).unwrap().replace(
        "destinations:\n",
        "defaults:\n  layers: local\ndestinations:\n",
    );
    fs::write(&plan, text).unwrap();
    let since = reg.requests().len();
    apply(&plan, &["--detailed-exitcode"]).exits(6);
    assert_eq!(blob_gets(&reg, since, &layers), layers.len());
    assert_eq!(reg.count(since, "PUT", "/"), 0, "the registry had it all");
    assert_fsck_clean(&out);
    drop(tmp);
}

/// Promotion within one repository sends only the tag (an image released as it is);
/// to another registry the layers stream through from the source registry, not via the
/// working layout.
#[test]
fn promotion_within_a_repository_and_across_registries() {
    let Some(src) = registry() else { return };
    let dst = RegistryServer::start(None, Auth::None);
    let (hs, hd) = (src.host(), dst.host());
    let tmp = tempfile::tempdir().unwrap();
    let builds = tmp.path().join("builds");
    arch_image(&builds, "app:b1", "linux/arm64", "across");
    let layers = layer_digests(&builds, "app:b1");
    push(&builds, "app:b1", &format!("docker://{hs}/app:b1"));
    let plan = tmp.path().join("plan.yaml");
    fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./out\ndestinations:\n  - url: docker://{hs}\n    plain_http: true\n  - url: docker://{hd}/mirror\n    plain_http: true\nimages:\n  - name: app\n    source: docker://{hs}/app:b1\n    tags: ['1.0']\n    arch_tags: '{{tag}}-{{arch}}'\n"
        ),
    )
    .unwrap();
    let (s0, d0) = (src.requests().len(), dst.requests().len());
    apply(&plan, &["--detailed-exitcode"]).exits(6);
    let want = digest_of_ref(&builds, "app:b1");
    assert_eq!(registry_digest(&format!("docker://{hs}/app:1.0")), want);
    assert_eq!(
        registry_digest(&format!("docker://{hs}/app:1.0-arm64")),
        want
    );
    assert_eq!(
        registry_digest(&format!("docker://{hd}/mirror/app:1.0")),
        want
    );
    // The source repository: the tags, no blob written; the layer was read once, to
    // stream it to the other registry.
    assert_eq!(src.count(s0, "POST", "/blobs/uploads/"), 0);
    assert_eq!(src.count(s0, "PUT", "/manifests/"), 2, "1.0 and 1.0-arm64");
    assert_eq!(blob_gets(&src, s0, &layers), 1);
    assert_eq!(
        dst.count(d0, "PUT", "/blobs/uploads/"),
        2,
        "config and layer"
    );
    let out = tmp.path().join("out");
    for l in &layers {
        let hex = l.strip_prefix("sha256:").unwrap();
        assert!(!out.join("blobs/sha256").join(hex).exists());
    }
}

/// A Fedora-style plan for `fedora-toolbox:40` publishing to `docker://HOST/fedora`,
/// assembled from the per-arch builds `arches` of the compose under `policy`.
fn fedora_registry_plan(dir: &Path, host: &str, arches: &[&str], policy: &str) -> PathBuf {
    let sources: Vec<String> = arches
        .iter()
        .map(|a| format!("\"{{name}}:40-{a}\""))
        .collect();
    let plan = dir.join("fedora.yaml");
    fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./compose\ndefaults:\n  sources: [{}]\n  policy: {policy}\n  tags: [\"40\"]\n  arch_tags: \"{{tag}}-{{arch}}\"\n  force: true\ndestinations:\n  - url: docker://{host}/fedora\n    plain_http: true\nimages:\n  - name: fedora-toolbox\n",
            sources.join(", ")
        ),
    )
    .unwrap();
    plan
}

const ARCHES: [(&str, &str); 4] = [
    ("x86_64", "linux/amd64"),
    ("aarch64", "linux/arm64"),
    ("ppc64le", "linux/ppc64le"),
    ("s390x", "linux/s390x"),
];

/// Issue 15 item 2: apply compares with the published release. Published: a 4-arch
/// `fedora-toolbox:40`. On a fresh machine whose compose built 3 arches, require-all
/// refuses (exit 5, naming s390x) and nothing at the registry changes; keep-missing
/// publishes a hybrid whose s390x entry is the published one, with its provenance. No
/// layer of the published release is downloaded.
#[test]
fn fedora_on_a_fresh_machine_compares_with_the_published_release() {
    let Some(reg) = registry() else { return };
    let h = reg.host();
    // Machine A published all four arches last time.
    let a = tempfile::tempdir().unwrap();
    let compose_a = a.path().join("compose");
    let mut old_layers = Vec::new();
    for (arch, plat) in ARCHES {
        let r = format!("fedora-toolbox:40-{arch}");
        arch_image(&compose_a, &r, plat, "day1");
        old_layers.extend(layer_digests(&compose_a, &r));
    }
    let all: Vec<&str> = ARCHES.iter().map(|(a, _)| *a).collect();
    let plan_a = fedora_registry_plan(a.path(), &h, &all, "require-all");
    apply(&plan_a, &["--detailed-exitcode"]).exits(6);
    let url = format!("docker://{h}/fedora/fedora-toolbox:40");
    let published = registry_digest(&url);
    assert_eq!(published, digest_of_ref(&compose_a, "fedora-toolbox:40"));
    let old_s390x = digest_of_ref(&compose_a, "fedora-toolbox:40-s390x");

    // Machine B: a fresh compose where s390x failed to build.
    let b = tempfile::tempdir().unwrap();
    let compose_b = b.path().join("compose");
    for (arch, plat) in &ARCHES[..3] {
        arch_image(
            &compose_b,
            &format!("fedora-toolbox:40-{arch}"),
            plat,
            "day2",
        );
    }
    let three = &all[..3];
    let plan_b = fedora_registry_plan(b.path(), &h, three, "require-all");
    let since = reg.requests().len();
    let tree = tree_hash(b.path());
    for args in [&["--dry-run", "--json"][..], &["--json"][..]] {
        let r = apply(&plan_b, args).exits(5);
        let j = r.json();
        assert_eq!(j["images"][0]["outcome"], "refused", "{j}");
        let msg = j["images"][0]["error"]["message"].as_str().unwrap();
        assert!(msg.contains("linux/s390x"), "{msg}");
        assert!(r.stderr.contains("linux/s390x"), "{}", r.stderr);
        assert_eq!(tree_hash(b.path()), tree, "{args:?}: nothing written");
    }
    assert_eq!(registry_digest(&url), published, "the release is unchanged");
    assert_eq!(reg.count(since, "PUT", "/"), 0);
    assert_eq!(reg.count(since, "POST", "/"), 0);
    assert_eq!(blob_gets(&reg, since, &old_layers), 0);

    // keep-missing: a hybrid; s390x is the published entry, with its provenance.
    let plan_b = fedora_registry_plan(b.path(), &h, three, "keep-missing");
    let since = reg.requests().len();
    apply(&plan_b, &["--detailed-exitcode"]).exits(6);
    let hybrid = registry_digest(&url);
    assert_ne!(hybrid, published);
    assert_eq!(hybrid, digest_of_ref(&compose_b, "fedora-toolbox:40"));
    let raw = common_registry::skopeo_raw(&url, &["--tls-verify=false"]);
    let idx: Value = serde_json::from_slice(&raw).unwrap();
    let entries = idx["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{idx}");
    let s390x = entries
        .iter()
        .find(|e| e["platform"]["architecture"] == "s390x")
        .expect("s390x kept");
    assert_eq!(s390x["digest"], old_s390x.as_str());
    assert_eq!(
        s390x["annotations"]["dev.oix.merge.carried-from"],
        format!("fedora-toolbox:40@{published}")
    );
    for (arch, _) in &ARCHES[..3] {
        let new = digest_of_ref(&compose_b, &format!("fedora-toolbox:40-{arch}"));
        assert!(
            entries.iter().any(|e| e["digest"] == new.as_str()),
            "{arch}"
        );
    }
    assert_eq!(
        registry_digest(&format!("docker://{h}/fedora/fedora-toolbox:40-s390x")),
        old_s390x
    );
    assert_eq!(blob_gets(&reg, since, &old_layers), 0, "no old layer read");
    // Applied again: the same hybrid, nothing to do.
    let since = reg.requests().len();
    apply(&plan_b, &["--detailed-exitcode"]).exits(0);
    assert_eq!(reg.count(since, "PUT", "/"), 0);
    assert_eq!(registry_digest(&url), hybrid);
}
