//! Issue 13 §4: one selector. The same references and filters run through every command
//! that picks entries — `select`, `ls`, `inspect`, `index rm --dry-run`, `annotate
//! --dry-run`, `export`, `push --dry-run` (against the real registry) and `merge
//! --dry-run` — and the test checks that they pick the same entries, or all refuse with
//! the same exit code. The candidate rule is docs/selection.md, section 1.

mod common;
mod common_registry;

use common::*;
use common_registry::{require, Auth, RegistryServer};
use std::collections::BTreeMap;
use std::path::Path;

/// What a command does with a row.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// These entries (by fixture name), in any order.
    Picks(Vec<&'static str>),
    /// Exit code, nothing picked.
    Refuses(i32),
}

use Want::*;

struct Row {
    /// `:rel`, `:img`, or `@rel` (the rel index by digest).
    reference: &'static str,
    filters: &'static [&'static str],
    /// What every command does.
    want: Want,
    /// `ls` only: its fallback to the named index itself (docs/selection.md, "ls").
    ls: Option<Want>,
    /// `index rm` only: it removes entries of an index, never top-level ones.
    index_rm: Option<Want>,
}

fn rows() -> Vec<Row> {
    let row = |reference, filters, want| Row {
        reference,
        filters,
        want,
        ls: None,
        index_rm: None,
    };
    vec![
        row(":rel", &["--platform", "linux/arm64"], Picks(vec!["arm64"])),
        row(
            ":rel",
            &["--platform", "linux/arm64", "--platform", "linux/amd64"],
            Picks(vec!["amd64", "arm64"]),
        ),
        row(
            ":rel",
            &["--where", "org.example.flavor=slim"],
            Picks(vec!["amd64"]),
        ),
        row(
            ":rel",
            &["--where", "org.example.flavor"],
            Picks(vec!["amd64", "arm64"]),
        ),
        // The case of issue 13: both entries carry the annotation, the index does not.
        // Before, select and annotate picked the index itself, index rm refused with
        // "names top-level entries" and export said nothing matches.
        row(":rel", &["--where", "!org.example.flavor"], Refuses(3)),
        row(":rel", &["--platform", "linux/s390x"], Refuses(3)),
        row(
            ":rel",
            &[
                "--platform",
                "linux/arm64",
                "--where",
                "org.example.flavor=slim",
            ],
            Refuses(3),
        ),
        // Only the index carries the version (in its document): ls alone falls back to it.
        Row {
            ls: Some(Picks(vec!["rel"])),
            ..row(
                ":rel",
                &["--where", "org.opencontainers.image.version"],
                Refuses(3),
            )
        },
        // (index rm edits a named index: it takes LAYOUT:REF only, a usage error here.)
        Row {
            index_rm: Some(Refuses(2)),
            ..row(
                "@rel",
                &["--where", "org.example.flavor=full"],
                Picks(vec!["arm64"]),
            )
        },
        // A ref naming one image: with a filter, that image is the candidate.
        Row {
            index_rm: Some(Refuses(2)),
            ..row(":img", &["--platform", "linux/s390x"], Picks(vec!["img"]))
        },
        row(":img", &["--platform", "linux/amd64"], Refuses(3)),
    ]
}

/// The fixture: `rel` is an index of an amd64 image (flavor=slim) and an arm64 image
/// (flavor=full) whose own document says version=1.0; `img` is one s390x image.
fn fixture(dir: &Path) -> (std::path::PathBuf, BTreeMap<String, &'static str>) {
    let imgs = dir.join("imgs");
    let l = dir.join("L");
    let mut names = BTreeMap::new();
    names.insert(arch_image(&imgs, "amd64", "linux/amd64", "a"), "amd64");
    names.insert(arch_image(&imgs, "arm64", "linux/arm64", "a"), "arm64");
    names.insert(arch_image(&l, "img", "linux/s390x", "b"), "img");
    oix(&[
        "merge",
        &at(&l, ":rel"),
        &at(&imgs, ":amd64"),
        &at(&imgs, ":arm64"),
        "--policy",
        "union",
        "--annotation",
        "org.opencontainers.image.version=1.0",
    ])
    .ok();
    for (p, f) in [("linux/amd64", "slim"), ("linux/arm64", "full")] {
        oix(&[
            "annotate",
            &at(&l, ":rel"),
            "--platform",
            p,
            "--set",
            &format!("org.example.flavor={f}"),
        ])
        .ok();
    }
    names.insert(digest_of_ref(&l, "rel"), "rel");
    (l, names)
}

/// Names of the fixture entries among `digests`, sorted.
fn named(names: &BTreeMap<String, &'static str>, digests: &[String]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = digests
        .iter()
        .filter_map(|d| names.get(d).copied())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_command_picks_what_select_picks() {
    if !require("docker-registry") {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let t = tempfile::tempdir().unwrap();
    let (l, names) = fixture(t.path());
    let rel_digest = digest_of_ref(&l, "rel");
    let merged = t.path().join("M");
    oix(&["init", &merged.display().to_string()]).ok();
    let before = tree_hash(&l);
    let mut failures = Vec::new();
    for (n, row) in rows().into_iter().enumerate() {
        let reference = match row.reference {
            "@rel" => at(&l, &format!("@{rel_digest}")),
            r => at(&l, r),
        };
        let f = row.filters;
        let with = |pre: &[&str], post: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = ["--json"]
                .iter()
                .chain(pre)
                .map(|s| s.to_string())
                .collect();
            v.extend(f.iter().map(|s| s.to_string()));
            v.extend(post.iter().map(|s| s.to_string()));
            v
        };
        // Each command: its answer as picks (fixture names) or a refusal.
        // (export and push also carry the index above the picks: only images count.)
        let answer = |args: Vec<String>, picks: &dyn Fn(&Run) -> Vec<String>| -> Want {
            let r = oix(&args);
            r.assert_no_panic();
            match r.code {
                0 => Picks(named(&names, &picks(&r))),
                c => Refuses(c),
            }
        };
        let images = |args: Vec<String>, picks: &dyn Fn(&Run) -> Vec<String>| -> Want {
            match answer(args, picks) {
                Picks(p) => Picks(p.into_iter().filter(|n| *n != "rel").collect()),
                w => w,
            }
        };
        let archive = t.path().join(format!("row{n}.tar"));
        let archive_s = archive.display().to_string();
        let dest = format!("docker://{}/sel/row{n}:t", reg.host());
        let mut got: Vec<(&str, Want)> = vec![
            (
                "select",
                answer(with(&["select", &reference, "--all"], &[]), &|r| {
                    strings(&r.json()["matches"], "digest")
                }),
            ),
            (
                "ls",
                answer(with(&["ls", &reference], &[]), &|r| {
                    strings(&r.json(), "digest")
                }),
            ),
            (
                "index rm",
                answer(with(&["index", "rm", &reference], &["--dry-run"]), &|r| {
                    r.json()["removed"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_str().unwrap().to_string())
                        .collect()
                }),
            ),
            (
                "annotate",
                answer(
                    with(&["annotate", &reference], &["--set", "x=y", "--dry-run"]),
                    &|r| {
                        r.json()["annotated"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|d| d.as_str().unwrap().to_string())
                            .collect()
                    },
                ),
            ),
            (
                "export",
                images(with(&["export", &reference], &["-o", &archive_s]), &|_| {
                    let out = std::process::Command::new("tar")
                        .arg("-tf")
                        .arg(&archive)
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "tar -tf {archive_s}");
                    String::from_utf8(out.stdout)
                        .unwrap()
                        .lines()
                        .filter_map(|m| m.strip_prefix("blobs/sha256/"))
                        .filter(|h| !h.is_empty())
                        .map(|h| format!("sha256:{h}"))
                        .collect()
                }),
            ),
            (
                "push",
                images(
                    with(&["push", &reference, &dest], &["--plain-http", "--dry-run"]),
                    &|r| {
                        r.json()["steps"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|s| s["kind"] == "manifest")
                            .map(|s| s["digest"].as_str().unwrap().to_string())
                            .collect()
                    },
                ),
            ),
            (
                "merge",
                answer(
                    with(
                        &["merge", &at(&merged, ":out"), &reference],
                        &["--policy", "union", "--dry-run"],
                    ),
                    &|r| strings(&r.json()["diff"]["added"], "digest"),
                ),
            ),
        ];
        // inspect shows one document: one pick is shown, several are exit 4 listing them.
        let r = oix(&with(&["inspect", &reference], &[]));
        got.push((
            "inspect",
            match r.code {
                0 => Picks(named(
                    &names,
                    &[r.json()["descriptor"]["digest"]
                        .as_str()
                        .unwrap()
                        .to_string()],
                )),
                4 => Picks(named(
                    &names,
                    &strings(&r.json()["error"]["details"]["candidates"], "digest"),
                )),
                c => Refuses(c),
            },
        ));
        for (cmd, answer) in got {
            let mut want = match (cmd, &row.ls, &row.index_rm) {
                ("ls", Some(w), _) | ("index rm", _, Some(w)) => w.clone(),
                _ => row.want.clone(),
            };
            if let Picks(p) = &mut want {
                p.sort();
            }
            if answer != want {
                failures.push(format!(
                    "row {n} `{} {}`: {cmd} gave {answer:?}, want {want:?}",
                    row.reference,
                    f.join(" ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(tree_hash(&l), before, "a dry run changed the layout");
}
