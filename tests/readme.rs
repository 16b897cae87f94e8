//! Every command shown in README.md and docs/*.md runs (issue 12 §7, "the first hour").
//!
//! The ```console and ```sh blocks are read; lines `$ oix …` (console) or `oix …` (sh)
//! are commands, run in order, one fresh scratch directory per file, through `bash -c`
//! with the oix under test first on PATH (so pipes such as `| head -n1` work). The lines
//! under a `$` command, up to the next one, are its shown output; the actual output must
//! have the same *shape*:
//!
//! - digests (`sha256:` + hex, also abbreviated `sha256:9b87…eb89`) match any digest,
//!   sizes (`345 B`, `1.9 KiB`) any size, durations (`0.4s`) any duration;
//! - runs of spaces are one space (table columns may be wider or narrower);
//! - `…` inside a line matches any text, a line that is only `…` any number of lines;
//! - otherwise the lines are equal, and there are as many.
//!
//! Shown lines from the first `error:` on, and `warning:` lines, are compared with stderr;
//! the others with stdout. A command exits 0 unless it ends with a comment `# exit N` or is
//! followed by `$ echo $?` showing N. A command shown without output only has to exit as
//! expected.
//!
//! The scratch directory holds what the tour starts from (see [`setup`]): the demo's
//! per-arch root filesystems and single-arch builds (as `scripts/demo.sh` makes them),
//! a `.tar.xz` root filesystem and a base image for the `--base` example, the selection
//! fixture as `layout`, and `fixtures` (a link to the repository's).
//!
//! A block preceded by `<!-- not run: REASON -->` is skipped; [`NOT_RUN`] lists every
//! such block (by its first command), so the set stays small and explicit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The blocks that are not run, as (file, first command): they need a registry or
/// inputs the test cannot make (a `docker save` tarball).
const NOT_RUN: &[(&str, &str)] = &[
    ("README.md", "oix import image.docker.tar -o layout:app"),
    (
        "README.md",
        "oix push release:1.0 docker://registry.example.com/demo/app:1.0 --arch-tags '{tag}-{arch}'",
    ),
    (
        "README.md",
        "oix copy docker://registry.example.com/builds/app:40 docker://registry.example.com/release/app:1.0",
    ),
    ("README.md", "oix ls docker://registry.example.com/demo/app"),
];

/// README.md and every docs/*.md, in a stable order.
fn docs() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_string());
    names
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Cmd {
    line: usize,
    text: String,
    output: Vec<String>,
    exit: i32,
}

#[derive(Debug)]
struct Block {
    line: usize,
    not_run: Option<String>,
    /// A block preceded by `<!-- file: NAME -->`: written to NAME, in order, not run.
    file: Option<(String, String)>,
    commands: Vec<Cmd>,
}

/// A trailing `# exit N` on a command: the expected exit status.
fn exit_comment(cmd: &str) -> Option<i32> {
    let (_, c) = cmd.rsplit_once('#')?;
    let c = c.trim();
    let n = c.strip_prefix("exit ")?;
    n.split(|ch: char| !ch.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn parse_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        let console = fence == "```console";
        let marker = |prefix: &str| {
            i.checked_sub(1)
                .and_then(|p| lines[p].trim().strip_prefix(prefix))
                .map(|r| r.trim_end_matches("-->").trim().to_string())
        };
        if let (Some(name), true) = (marker("<!-- file:"), fence.starts_with("```")) {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim_start() != "```" {
                end += 1;
            }
            let mut content = lines[start..end].join("\n");
            content.push('\n');
            blocks.push(Block {
                line: i + 1,
                not_run: None,
                file: Some((name, content)),
                commands: Vec::new(),
            });
            i = end + 1;
            continue;
        }
        if !(console || fence == "```sh") {
            i += 1;
            continue;
        }
        let mut block = Block {
            line: i + 1,
            not_run: marker("<!-- not run:"),
            file: None,
            commands: Vec::new(),
        };
        i += 1;
        let mut current: Option<Cmd> = None;
        while i < lines.len() && lines[i].trim_start() != "```" {
            let l = lines[i];
            let cmd = if console {
                l.strip_prefix("$ ")
            } else {
                l.starts_with("oix ").then_some(l)
            };
            match cmd {
                Some(c) => {
                    if let Some(done) = current.take() {
                        block.commands.push(done);
                    }
                    let mut text = c.to_string();
                    let start = i + 1;
                    // Continuation lines.
                    while text.ends_with('\\') && i + 1 < lines.len() {
                        i += 1;
                        text.pop();
                        text.push(' ');
                        text.push_str(lines[i].trim());
                    }
                    current = Some(Cmd {
                        line: start,
                        exit: exit_comment(&text).unwrap_or(0),
                        text,
                        output: Vec::new(),
                    });
                }
                None if console => {
                    if let Some(c) = current.as_mut() {
                        c.output.push(l.to_string());
                    }
                }
                None => {
                    // An sh block's other lines (make, cargo, install) are not oix's.
                    if let Some(done) = current.take() {
                        block.commands.push(done);
                    }
                }
            }
            i += 1;
        }
        if let Some(done) = current.take() {
            block.commands.push(done);
        }
        // `$ echo $?` gives the previous command's status.
        for k in 1..block.commands.len() {
            if block.commands[k].text == "echo $?" {
                if let Some(n) = block.commands[k]
                    .output
                    .first()
                    .and_then(|s| s.trim().parse().ok())
                {
                    block.commands[k - 1].exit = n;
                }
            }
        }
        block.commands.retain(|c| {
            c.text == "echo $?" || c.text.starts_with("oix ") || c.text.starts_with("oix\t")
        });
        if !block.commands.is_empty() {
            blocks.push(block);
        }
        i += 1;
    }
    blocks
}

/// A line reduced to its shape: digests, sizes and durations replaced, spaces collapsed.
fn shape(line: &str) -> String {
    let digest = regex::Regex::new(r"sha(256|512):[0-9a-f]*(…[0-9a-f]*)?").unwrap();
    let size = regex::Regex::new(r"\b\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)\b").unwrap();
    let secs = regex::Regex::new(r"\b\d+(\.\d+)?s\b").unwrap();
    let s = digest.replace_all(line, "<digest>");
    let s = size.replace_all(&s, "<size>");
    let s = secs.replace_all(&s, "<secs>");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the actual line has the shape of the shown one (`…` = any text).
fn line_matches(shown: &str, actual: &str) -> bool {
    let (shown, actual) = (shape(shown), shape(actual));
    if !shown.contains('…') {
        return shown == actual;
    }
    let pattern: Vec<String> = shown.split('…').map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", pattern.join(".*")))
        .unwrap()
        .is_match(&actual)
}

/// Match shown lines against actual ones; a shown line `…` matches any number of lines.
fn lines_match(shown: &[String], actual: &[&str]) -> bool {
    match shown.split_first() {
        None => actual.is_empty(),
        Some((s, rest)) if s.trim() == "…" => {
            (0..=actual.len()).any(|k| lines_match(rest, &actual[k..]))
        }
        Some((s, rest)) => {
            !actual.is_empty() && line_matches(s, actual[0]) && lines_match(rest, &actual[1..])
        }
    }
}

/// Split the shown output into what stdout and stderr should hold.
fn split_streams(shown: &[String]) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut in_error = false;
    for l in shown {
        if l.starts_with("error:") {
            in_error = true;
        }
        if in_error || l.starts_with("warning:") {
            err.push(l.clone());
        } else {
            out.push(l.clone());
        }
    }
    (out, err)
}

fn run_sh(dir: &Path, bin: &Path, script: &str) -> (i32, String, String) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &format!("set -o pipefail\n{script}")])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("OIX_LOCK_TIMEOUT")
        .output()
        .expect("running bash");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A directory with `oix` in it, linked to the binary under test.
fn bin_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_oix"), d.path().join("oix")).unwrap();
    d
}

/// What the tour starts from (the "Inputs" steps of scripts/demo.sh, and a little more).
fn setup(dir: &Path, bin: &Path) {
    let mut script = String::from("set -e\nexport SOURCE_DATE_EPOCH=1704067200\n");
    for arch in ["amd64", "arm64", "s390x", "ppc64le"] {
        script.push_str(&format!(
            r#"mkdir -p rootfs-{arch}/etc rootfs-{arch}/usr/bin
printf 'demo image for linux/%s\n' {arch} >rootfs-{arch}/etc/motd
printf '#!/bin/sh\necho hello from %s\n' {arch} >rootfs-{arch}/usr/bin/hello
chmod 755 rootfs-{arch}/usr/bin/hello
ln -sf hello rootfs-{arch}/usr/bin/hi
"#
        ));
        // arm64 is built by the README's own first example.
        if arch != "arm64" {
            script.push_str(&format!(
                "oix build rootfs-{arch} -o build-{arch}:demo --platform linux/{arch} \
                 --cmd /usr/bin/hello --label org.example.arch={arch} >/dev/null\n"
            ));
        }
    }
    script.push_str("oix build rootfs-amd64 -o out:base --platform linux/amd64 >/dev/null\n");
    script.push_str(&format!(
        "cp -a {} layout\nln -s {} fixtures\n",
        repo().join("fixtures/select/layout").display(),
        repo().join("fixtures").display()
    ));
    let (code, out, err) = run_sh(dir, bin, &script);
    assert_eq!(code, 0, "setup failed:\n{out}\n{err}");
    // A .tar.xz root filesystem (kiwi's format), written here so no xz tool is needed.
    let file = fs::File::create(dir.join("rootfs.tar.xz")).unwrap();
    let mut tar = tar::Builder::new(liblzma::write::XzEncoder::new(file, 6));
    tar.append_dir_all(".", dir.join("rootfs-amd64")).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

fn check_doc(name: &str, blocks: &[Block], bin: &Path) -> Vec<String> {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    setup(dir, bin);
    let mut failures = Vec::new();
    let mut last_status = 0;
    for b in blocks {
        if let Some((file, content)) = &b.file {
            fs::write(dir.join(file), content).unwrap();
            continue;
        }
        if b.not_run.is_some() {
            continue;
        }
        for c in &b.commands {
            let at = format!("{name}:{}: `{}`", c.line, c.text);
            if c.text == "echo $?" {
                continue; // checked as the previous command's exit status
            }
            let (code, out, err) = run_sh(dir, bin, &c.text);
            last_status = code;
            if code != c.exit {
                failures.push(format!(
                    "{at}: exit {code}, expected {}\nstdout:\n{out}stderr:\n{err}",
                    c.exit
                ));
                continue;
            }
            if c.output.is_empty() {
                continue;
            }
            let (want_out, want_err) = split_streams(&c.output);
            let out_lines: Vec<&str> = out.lines().collect();
            if !lines_match(&want_out, &out_lines) {
                failures.push(format!(
                    "{at}: stdout does not have the shown shape\nshown:\n{}\nactual:\n{out}",
                    want_out.join("\n")
                ));
            }
            if !want_err.is_empty() {
                let err_lines: Vec<&str> = err.lines().collect();
                if !lines_match(&want_err, &err_lines) {
                    failures.push(format!(
                        "{at}: stderr does not have the shown shape\nshown:\n{}\nactual:\n{err}",
                        want_err.join("\n")
                    ));
                }
            }
        }
    }
    let _ = last_status;
    failures
}

#[test]
fn every_documented_command_runs_and_shows_what_the_docs_show() {
    let bin = bin_dir();
    let mut failures = Vec::new();
    let mut not_run = Vec::new();
    let mut commands = 0;
    for name in &docs() {
        let text = fs::read_to_string(repo().join(name)).unwrap();
        let blocks = parse_blocks(&text);
        for b in &blocks {
            if let Some(why) = &b.not_run {
                assert!(
                    !why.is_empty(),
                    "{name}:{}: say why a block is not run",
                    b.line
                );
                not_run.push((name.to_string(), b.commands[0].text.clone()));
            } else {
                commands += b.commands.len();
            }
        }
        failures.extend(check_doc(name, &blocks, bin.path()));
    }
    let expected: Vec<(String, String)> = NOT_RUN
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    if not_run != expected {
        failures.push(format!(
            "the blocks marked `<!-- not run: … -->` differ from NOT_RUN in tests/readme.rs:\n\
             marked: {not_run:#?}\nNOT_RUN: {expected:#?}"
        ));
    }
    assert!(
        commands > 30,
        "only {commands} commands found: is the parser broken?"
    );
    assert!(
        failures.is_empty(),
        "{} documented command(s) fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_shape_rules() {
    assert!(line_matches(
        "sha256:9b87…eb89 1.0 created",
        "sha256:9b8757d0164ab3b0f875ceb69e6f4a555aa5a77baad2d491606bc4aa5859eb89 1.0 created"
    ));
    assert!(line_matches(
        "demo  sha256:9b87…  image  linux/amd64  345 B",
        "demo sha256:0000000000000000000000000000000000000000000000000000000000000000 image linux/amd64 1.9 KiB"
    ));
    assert!(!line_matches(
        "demo sha256:… image linux/amd64* 345 B",
        "demo sha256:00 image linux/amd64 345 B"
    ));
    assert!(line_matches(
        "error: … nothing matches …",
        "error: x: nothing matches where y"
    ));
    let shown: Vec<String> = ["a", "…", "d"].iter().map(|s| s.to_string()).collect();
    assert!(lines_match(&shown, &["a", "b", "c", "d"]));
    assert!(lines_match(&shown, &["a", "d"]));
    assert!(!lines_match(&shown, &["a", "b"]));
    assert_eq!(
        exit_comment("oix apply x --dry-run   # exit 6: changes"),
        Some(6)
    );
    assert_eq!(exit_comment("oix ls x"), None);
}
