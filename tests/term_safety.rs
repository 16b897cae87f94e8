//! Output is safe for terminals and pipes (issue 12, section 3), and `tag`/`untag` take
//! names the way users write them (section 7).
//!
//! - Hostile strings in ref names, annotations, platform fields and registry error
//!   bodies never reach stdout or stderr as raw control bytes, C1 controls or bidi
//!   overrides; `--json` carries them exactly (JSON escapes).
//! - A reader that hangs up (`oix … | head -c0`) neither panics oix nor undoes an edit.
//! - `fsck` warns about ref names outside the grammar; `untag` removes them.
//! - `oix tag L:1.0 L:2.0` is `oix tag L:1.0 2.0`; another layout's prefix is refused.

mod common;
mod common_registry;

use common::*;
use oix::model::{media, Descriptor, Platform};
use oix::Layout;
use std::path::Path;
use std::process::Stdio;

/// The hostile strings: an OSC title + screen clear (ESC, BEL), a C1 CSI, DEL, a bidi
/// override, and a newline that would forge a row.
const HOSTILE: &[&str] = &[
    "\x1b]0;PWNED\x07\x1b[2J",
    "\u{9b}2J",
    "\x7f",
    "\u{202e}gpj.exe",
    "\nFAKE ROW",
];

fn evil() -> String {
    HOSTILE.concat()
}

/// The first character of `text` that must not reach a terminal, if any (`\n` and `\t`
/// are the printers' own layout).
fn unsafe_char(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| c != '\n' && c != '\t' && oix::text::is_unsafe(c))
}

fn assert_terminal_safe(r: &Run) {
    let out = String::from_utf8(r.stdout.clone()).expect("stdout is UTF-8");
    for (name, text) in [("stdout", &out), ("stderr", &r.stderr)] {
        if let Some(c) = unsafe_char(text) {
            panic!("{}: raw {c:?} on {name}:\n{text:?}", r.cmdline);
        }
    }
    // A hostile newline must not forge a line either.
    assert!(
        !r.all_output().lines().any(|l| l.starts_with("FAKE ROW")),
        "{}: a ref's newline forged a line:\n{}",
        r.cmdline,
        r.all_output()
    );
}

fn platform(os: &str, arch: &str) -> Option<Box<Platform>> {
    Some(Box::new(Platform {
        os: os.into(),
        architecture: arch.into(),
        ..Default::default()
    }))
}

/// A layout with `rel-a` (a plain two-arch index), `rel-b` (the same with a hostile os
/// field, annotations and a hostile manifest) and a top-level entry whose ref name and
/// annotation are hostile. Returns the manifest digests (amd64, arm64, hostile).
fn hostile_layout(dir: &Path) -> (String, String, String) {
    let amd = arch_image(dir, "amd", "linux/amd64", "a");
    let arm = arch_image(dir, "arm", "linux/arm64", "b");
    let l = Layout::open(dir).unwrap();
    // A manifest whose own annotations are hostile (for `inspect`).
    let amd_man = blob_json(dir, &amd);
    let mut man = amd_man.clone();
    man["annotations"] = serde_json::json!({ "org.example.note": evil() });
    let man_bytes = serde_json::to_vec(&man).unwrap();
    let evil_md = l.write_blob_bytes(&man_bytes).unwrap();
    let child = |d: &str, size: usize, p| {
        let mut x = Descriptor::new(
            media::OCI_MANIFEST,
            &oix::Digest::parse(d).unwrap(),
            size as u64,
        );
        x.platform = p;
        x
    };
    let amd_size = blob(dir, &amd).len();
    let arm_size = blob(dir, &arm).len();
    let index = |children: Vec<Descriptor>, annotations: Option<String>| {
        let mut idx = oix::model::Index {
            manifests: children,
            ..Default::default()
        };
        if let Some(a) = annotations {
            idx.annotations.insert("org.example.note".into(), a);
        }
        let bytes = idx.to_bytes();
        let d = l.write_blob_bytes(&bytes).unwrap();
        Descriptor::new(media::OCI_INDEX, &d, bytes.len() as u64)
    };
    let a = index(
        vec![
            child(&amd, amd_size, platform("linux", "amd64")),
            child(&arm, arm_size, platform("linux", "arm64")),
        ],
        None,
    );
    let mut hostile_child = child(
        &evil_md.to_string(),
        man_bytes.len(),
        platform("linux", "arm64"),
    );
    hostile_child
        .annotations
        .insert("org.example.note".into(), evil());
    let b = index(
        vec![
            child(
                &amd,
                amd_size,
                platform(&format!("linux{}", evil()), "amd64"),
            ),
            hostile_child,
        ],
        Some(evil()),
    );
    oix::tags::tag(&l, &a, &["rel-a".into()]).unwrap();
    oix::tags::tag(&l, &b, &["rel-b".into()]).unwrap();
    // A name outside the grammar cannot be made with oix: write the entry directly.
    l.transact(|idx| {
        let mut d = b.clone();
        d.annotations.insert(
            oix::model::annotation::REF_NAME.into(),
            format!("bad{}", evil()),
        );
        d.annotations.insert("org.example.note".into(), evil());
        idx.manifests.push(d);
        Ok(())
    })
    .unwrap();
    // A stray file whose name is hostile (fsck and gc name it).
    std::fs::write(
        dir.join("blobs/sha256").join(format!("stray{}", evil())),
        b"x",
    )
    .unwrap();
    (amd, arm, evil_md.to_string())
}

#[test]
fn hostile_layout_strings_never_reach_the_terminal_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("L");
    let (_, _, evil_md) = hostile_layout(&dir);
    let l = |s: &str| at(&dir, s);
    // (arguments, exit status, whether the output shows a hostile string)
    let commands: Vec<(Vec<String>, i32, bool)> = vec![
        (vec!["ls".into(), l("")], 0, true),
        (vec!["ls".into(), l(":rel-b")], 0, true),
        (vec!["ls".into(), "--tree".into(), l("")], 0, true),
        (vec!["ls".into(), "--tree".into(), l(":rel-b")], 0, true),
        (
            vec![
                "ls".into(),
                l(":rel-b"),
                "--platform".into(),
                "linux/arm64".into(),
            ],
            0,
            false,
        ),
        (vec!["inspect".into(), l(":rel-b")], 0, true),
        (vec!["inspect".into(), l(&format!("@{evil_md}"))], 0, true),
        // Ambiguous: the error lists every top-level entry, the hostile name among them.
        (vec!["inspect".into(), l("")], 4, true),
        (vec!["diff".into(), l(":rel-a"), l(":rel-b")], 0, true),
        (vec!["diff".into(), l(":rel-b"), l(":rel-a")], 0, true),
        (vec!["select".into(), l(""), "--all".into()], 0, false),
        (vec!["select".into(), l(":rel-b"), "--all".into()], 0, false),
        (
            vec![
                "select".into(),
                l(""),
                "--all".into(),
                "--where".into(),
                "org.example.note".into(),
            ],
            0,
            true,
        ),
        (vec!["fsck".into(), dir.display().to_string()], 0, true),
        (
            vec!["gc".into(), "--dry-run".into(), dir.display().to_string()],
            0,
            true,
        ),
    ];
    let mut checked = 0;
    for (args, code, shows) in &commands {
        let r = oix(args).exits(*code);
        assert_terminal_safe(&r);
        // The hostile text reached the printer and is shown escaped, not dropped
        // (`inspect` prints JSON text: JSON escapes; messages quote input as Rust's
        // `{:?}` does).
        let shown = r.all_output();
        assert!(
            !shows
                || shown.contains("\\x1b]0;PWNED\\x07")
                || shown.contains("\\u001b]0;PWNED\\u0007")
                || shown.contains("\\u{1b}]0;PWNED\\u{7}"),
            "{}: hostile text not shown:\n{shown}",
            r.cmdline
        );
        checked += 1;
        // --json carries the same strings exactly, in JSON escapes only.
        let j = oix_cmd(std::iter::once("--json".to_string()).chain(args.iter().cloned()));
        let r = run(j).exits(*code);
        assert_terminal_safe(&r);
        let _ = r.json();
        checked += 1;
    }
    // Pretty `inspect` is still the document's JSON value.
    let r = oix(&["inspect".to_string(), l(&format!("@{evil_md}"))]).ok();
    let text = r.stdout_str();
    let (_, pretty) = text.split_once('\n').unwrap();
    let v: serde_json::Value = serde_json::from_str(pretty).unwrap();
    assert_eq!(v, blob_json(&dir, &evil_md));
    // The exact escaped form of a ref name in a table cell.
    let r = oix(&["ls".to_string(), l("")]).ok();
    assert!(
        r.stdout_str()
            .contains("bad\\x1b]0;PWNED\\x07\\x1b[2J\\u{009b}2J\\x7f\\u{202e}gpj.exe\\x0aFAKE ROW"),
        "{}",
        r.stdout_str()
    );
    let j = run(oix_cmd(["--json".to_string(), "ls".into(), l("")]))
        .ok()
        .json();
    let names: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["ref"].as_str())
        .collect();
    assert!(
        names.contains(&format!("bad{}", evil()).as_str()),
        "{names:?}"
    );
    eprintln!(
        "terminal safety: {} command runs ({} human + {} --json) x {} hostile strings, 0 raw control bytes",
        checked,
        checked / 2,
        checked / 2,
        HOSTILE.len()
    );
}

#[test]
fn fsck_flags_ungrammatical_ref_names_and_untag_removes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("L");
    hostile_layout(&dir);
    let l = Layout::open(&dir).unwrap();
    l.transact(|idx| {
        let mut d = idx.manifests[0].clone();
        d.annotations
            .insert(oix::model::annotation::REF_NAME.into(), "weird name".into());
        idx.manifests.push(d);
        Ok(())
    })
    .unwrap();
    // A warning: the layout stays usable (exit 0), the names are flagged.
    let r = fsck(&dir).ok();
    assert_eq!(
        r.stdout_str().matches("[invalid-ref-name]").count(),
        2,
        "{}",
        r.stdout_str()
    );
    let j = run(oix_cmd(["--json", "fsck", dir.to_str().unwrap()]))
        .ok()
        .json();
    let flagged: Vec<&serde_json::Value> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "invalid-ref-name")
        .collect();
    assert_eq!(flagged.len(), 2);
    assert!(flagged.iter().all(|p| p["severity"] == "warning"));

    // untag takes any existing name exactly.
    let r = oix(&["untag".to_string(), at(&dir, ":weird name")]).ok();
    assert_terminal_safe(&r);
    let r = oix(&["untag".to_string(), at(&dir, &format!(":bad{}", evil()))]).ok();
    assert_terminal_safe(&r);
    assert!(r.stdout_str().contains(" removed"), "{}", r.stdout_str());
    assert_eq!(ref_names(&dir), ["amd", "arm", "rel-a", "rel-b"]);
    let r = fsck(&dir).ok();
    assert!(
        !r.stdout_str().contains("invalid-ref-name"),
        "{}",
        r.stdout_str()
    );
    // A name that does not exist is still "no match", and new names are still checked.
    oix(&["untag".to_string(), at(&dir, ":weird name")]).fails_with(3);
    oix(&["tag".to_string(), at(&dir, ":amd"), "weird name".into()]).fails_with(2);
}

#[test]
fn tag_with_the_source_layout_prefix_names_a_ref_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("L");
    let other = tmp.path().join("other");
    arch_image(&dir, "1.0", "linux/amd64", "a");
    arch_image(&other, "x", "linux/amd64", "b");
    let l = |s: &str| at(&dir, s);
    // docker/crane habit: `oix tag L:1.0 L:2.0` is `oix tag L:1.0 2.0`; also with oci:,
    // and with another spelling of the same directory.
    let same = format!("{}/../L:2.2", dir.display());
    oix(&[
        "tag".to_string(),
        l(":1.0"),
        l(":2.0"),
        format!("oci:{}", l(":2.1")),
        same,
    ])
    .ok();
    assert_eq!(ref_names(&dir), ["1.0", "2.0", "2.1", "2.2"]);
    // ...so `untag L:2.0` removes what `tag L:1.0 L:2.0` made.
    oix(&["untag".to_string(), l(":2.0")]).ok();
    assert_eq!(ref_names(&dir), ["1.0", "2.1", "2.2"]);
    // Another layout: refused, nothing written, with a hint to copy instead.
    let before = tree_hash(&dir);
    let other_before = tree_hash(&other);
    oix(&["tag".to_string(), l(":1.0"), at(&other, ":2.0")])
        .fails_with(2)
        .stderr_contains("oix import");
    assert_eq!(tree_hash(&dir), before);
    assert_eq!(tree_hash(&other), other_before);
    // A name with a colon whose prefix is no layout is a plain (valid) ref name.
    oix(&["tag".to_string(), l(":1.0"), "rc:3".into()]).ok();
    assert!(ref_names(&dir).contains(&"rc:3".to_string()));
}

/// Run oix with stdout (and, when `close_stderr`, stderr) a pipe whose reader has
/// already gone, as `oix … | head -c0` ends up.
fn run_into_closed_pipe(args: &[String], close_stderr: bool) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut c = oix_cmd(args);
    c.stdout(writer.try_clone().unwrap());
    if close_stderr {
        c.stderr(writer);
    } else {
        c.stderr(Stdio::piped());
        drop(writer);
    }
    let line = args.join(" ");
    let out = c.spawn().unwrap().wait_with_output().unwrap();
    Run::from_output(format!("oix {line} | head -c0"), out)
}

#[test]
fn a_closed_pipe_ends_output_quietly_and_keeps_the_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("L");
    hostile_layout(&dir);
    let l = |s: &str| at(&dir, s);
    let d = dir.display().to_string();
    // (command, exit status documented for it, whether stderr is closed too)
    let cases: Vec<(Vec<String>, i32, bool)> = vec![
        (
            vec!["tag".into(), l(":rel-a"), "t1".into(), "t2".into()],
            0,
            false,
        ),
        (vec!["tag".into(), l(":rel-a"), "t3".into()], 0, true),
        (
            vec![
                "merge".into(),
                l(":merged"),
                l(":rel-a"),
                "--policy".into(),
                "union".into(),
            ],
            0,
            false,
        ),
        (vec!["fsck".into(), d.clone()], 0, true),
        (vec!["gc".into(), "--dry-run".into(), d.clone()], 0, false),
        (vec!["diff".into(), l(":rel-a"), l(":rel-b")], 0, false),
        (vec!["ls".into(), "--tree".into(), d.clone()], 0, true),
        (
            vec!["inspect".into(), "--raw".into(), l(":rel-a")],
            0,
            false,
        ),
        (vec!["--json".into(), "ls".into(), d.clone()], 0, false),
        (vec!["untag".into(), l(":t2")], 0, false),
        // A failure keeps its status and still does not panic on a closed stderr.
        (vec!["untag".into(), l(":nothing")], 3, true),
    ];
    for (args, code, close_stderr) in &cases {
        let r = run_into_closed_pipe(args, *close_stderr).exits(*code);
        assert!(
            !r.stderr.contains("Broken pipe"),
            "{}: {}",
            r.cmdline,
            r.stderr
        );
    }
    let names = ref_names(&dir);
    for n in ["t1", "t3", "merged"] {
        assert!(names.contains(&n.to_string()), "{n} missing: {names:?}");
    }
    assert!(!names.contains(&"t2".to_string()));
    eprintln!("closed pipe: {} commands, 0 panics", cases.len());
}

#[test]
fn registry_error_text_is_escaped() {
    use common_registry::proxy::{FaultProxy, Faults};
    if !common_registry::tools_present() {
        return;
    }
    let reg = common_registry::RegistryServer::start(None, common_registry::Auth::None);
    let proxy = FaultProxy::start(
        reg.port,
        Faults {
            deny_writes_with: Some(format!("no{}", evil())),
            ..Default::default()
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("L");
    arch_image(&dir, "1.0", "linux/amd64", "a");
    let dest = format!("docker://127.0.0.1:{}/t/app:1.0", proxy.port);
    for json in [false, true] {
        let mut args: Vec<String> = Vec::new();
        if json {
            args.push("--json".into());
        }
        args.extend([
            "push".into(),
            at(&dir, ":1.0"),
            dest.clone(),
            "--plain-http".into(),
            "--retries".into(),
            "0".into(),
        ]);
        let mut c = common_registry::oix();
        c.args(&args).env("NO_COLOR", "1");
        let r = run(c).fails_with(1).stderr_contains("DENIED");
        assert_terminal_safe(&r);
        assert!(r.stderr.contains("no\\x1b]0;PWNED\\x07"), "{}", r.stderr);
        if json {
            let v = r.json();
            // The exact words stay available to machines.
            let m = &v["error"]["details"]["registry_errors"][0];
            assert_eq!(m["code"], "DENIED");
            assert_eq!(m["message"].as_str().unwrap(), format!("no{}", evil()));
        }
    }
    assert!(
        proxy
            .counters
            .hostile
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}
