//! Generated documentation stays in step with the clap definition.
//!
//! `man/` holds one man page per command (`oix.1`, `oix-ls.1`, and for nested
//! subcommands `oix-index-create.1`), `completions/` the bash, zsh and fish
//! completions. Both are rendered here from `oix::cli::command()` and compared with the
//! checked-in files; the test fails when they differ. `make docs` (which sets
//! `OIX_UPDATE_DOCS=1`) rewrites them instead.
//!
//! The same file also checks the promises the README makes about the two set-up
//! commands (`make demo`, `make test`) and that CI runs exactly `make test`.

#[path = "gate/mod.rs"]
mod gate;

use clap_complete::Shell;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var_os("OIX_UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The exit-code table of `cli::EXIT_CODES` as (code, meaning) pairs.
fn exit_codes() -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = oix::cli::EXIT_CODES
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (code, text) = l.split_once(char::is_whitespace)?;
            code.parse::<u8>()
                .ok()
                .map(|_| (code.to_string(), text.trim().to_string()))
        })
        .collect();
    assert!(
        rows.len() >= 3,
        "cli::EXIT_CODES no longer parses as `  CODE  meaning` lines: {:?}",
        oix::cli::EXIT_CODES
    );
    rows
}

/// An EXIT STATUS section, as a tagged paragraph per code (clap_mangen would render
/// after_long_help as one reflowed paragraph under "EXTRA", which garbles the table).
fn exit_status_section(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    for (code, text) in exit_codes() {
        roff.control("TP", []);
        roff.text([bold(code)]);
        roff.text([roman(text)]);
    }
    // Prose after the table (how a closed pipe ends a command), as one paragraph.
    let prose: Vec<&str> = oix::cli::EXIT_CODES
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| {
            l.split_once(char::is_whitespace)
                .is_none_or(|(c, _)| c.parse::<u8>().is_err())
        })
        .collect();
    if !prose.is_empty() {
        roff.control("PP", []);
        roff.text([roman(prose.join(" "))]);
    }
}

/// Any after_long_help text besides the exit-code table, kept as written (no fill).
fn notes_section(roff: &mut Roff, cmd: &clap::Command) {
    let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) else {
        return;
    };
    let text = after.to_string().replace(oix::cli::EXIT_CODES, "");
    if text.trim().is_empty() {
        return;
    }
    roff.control("SH", ["NOTES"]);
    roff.control("nf", []);
    for line in text.trim_matches('\n').lines() {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
}

fn render_man(cmd: &clap::Command) -> Vec<u8> {
    // Footer "oix 0.1.0" on every page (clap_mangen would put "ls 0.1.0" on oix-ls.1).
    let man = Man::new(cmd.clone()).source(format!("oix {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    let has_args = cmd.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = cmd.get_subcommands().any(|s| !s.is_hide_set());
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    if has_args {
        man.render_options_section(&mut out).unwrap();
    }
    if has_subcommands {
        man.render_subcommands_section(&mut out).unwrap();
    }
    let mut roff = Roff::default();
    notes_section(&mut roff, cmd);
    exit_status_section(&mut roff);
    roff.to_writer(&mut out).unwrap();
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out).unwrap();
    }
    out
}

/// One page per visible command, recursing into nested subcommands: `oix.1`,
/// `oix-ls.1`, `oix-index-create.1`, …
fn man_pages(cmd: &clap::Command, out: &mut BTreeMap<String, Vec<u8>>) {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    out.insert(format!("{name}.1"), render_man(cmd));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        man_pages(sub, out);
    }
}

fn completion(shell: Shell) -> (String, Vec<u8>) {
    let mut cmd = oix::cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "oix", &mut out);
    let file = match shell {
        Shell::Bash => "oix.bash".to_string(),
        Shell::Zsh => "_oix".to_string(),
        Shell::Fish => "oix.fish".to_string(),
        other => panic!("no file name for {other:?}"),
    };
    (file, out)
}

/// The built command tree; `build()` fills in display names such as `oix-ls`.
fn built_command() -> clap::Command {
    let mut cmd = oix::cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Compare `expected` with the files in `dir` (or rewrite them when updating).
/// Returns one line per difference.
fn check_dir(dir: &Path, expected: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    if updating() {
        fs::create_dir_all(dir).unwrap();
    }
    for (name, want) in expected {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(have) if have == *want => {}
            Ok(_) | Err(_) if updating() => {
                fs::write(&path, want).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
            }
            Ok(_) => problems.push(format!("{} is stale", path.display())),
            Err(e) => problems.push(format!("{} is missing ({e})", path.display())),
        }
    }
    // Pages and completions for commands that no longer exist.
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if expected.contains_key(&name) || name.starts_with('.') {
                continue;
            }
            if updating() {
                fs::remove_file(entry.path()).unwrap();
            } else {
                problems.push(format!(
                    "{} is not generated by any command",
                    entry.path().display()
                ));
            }
        }
    }
    problems
}

fn fail_if(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "generated docs differ from the clap definition:\n  {}\nrun `make docs` \
         (OIX_UPDATE_DOCS=1 cargo test --test docs) and commit the result",
        problems.join("\n  ")
    );
}

#[test]
fn man_pages_are_current() {
    let mut pages = BTreeMap::new();
    man_pages(&built_command(), &mut pages);
    fail_if(check_dir(&root().join("man"), &pages));
}

#[test]
fn completions_are_current() {
    let files: BTreeMap<String, Vec<u8>> = [Shell::Bash, Shell::Zsh, Shell::Fish]
        .into_iter()
        .map(completion)
        .collect();
    fail_if(check_dir(&root().join("completions"), &files));
}

#[test]
fn every_command_gets_a_page_recursively() {
    // A nested subcommand (as `oix index create` will be) gets `oix-index-create.1`.
    let mut cmd = clap::Command::new("oix")
        .disable_help_subcommand(true)
        .subcommand(clap::Command::new("ls").about("list"))
        .subcommand(
            clap::Command::new("index")
                .about("index ops")
                .subcommand(clap::Command::new("create").about("create an index")),
        );
    cmd.build();
    let mut pages = BTreeMap::new();
    man_pages(&cmd, &mut pages);
    let names: Vec<&str> = pages.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["oix-index-create.1", "oix-index.1", "oix-ls.1", "oix.1"]
    );
    let create = String::from_utf8(pages["oix-index-create.1"].clone()).unwrap();
    assert!(create.contains("oix\\-index\\-create"), "{create}");

    // And the real tree: one page per visible subcommand of `oix`.
    let real = built_command();
    let mut pages = BTreeMap::new();
    man_pages(&real, &mut pages);
    for sub in real.get_subcommands().filter(|s| !s.is_hide_set()) {
        let file = format!("oix-{}.1", sub.get_name());
        assert!(pages.contains_key(&file), "no page {file}");
    }
}

#[test]
fn man_pages_document_exit_codes() {
    let mut pages = BTreeMap::new();
    man_pages(&built_command(), &mut pages);
    let codes = exit_codes();
    assert!(codes.iter().any(|(c, _)| c == "6"), "{codes:?}");
    for (name, page) in &pages {
        let page = String::from_utf8_lossy(page);
        assert!(
            page.contains(".SH \"EXIT STATUS\""),
            "{name} lacks EXIT STATUS"
        );
        for (code, text) in &codes {
            let first_word = text.split_whitespace().next().unwrap();
            assert!(
                page.contains(&format!(".TP\n\\fB{code}\\fR\n{first_word}")),
                "{name}: exit code {code} ({text}) not rendered:\n{page}"
            );
        }
        assert!(
            !page.contains(".SH EXTRA"),
            "{name}: the table leaked into EXTRA"
        );
    }
}

#[test]
fn man_page_renders_with_man() {
    // When man(1) is present, the top page must format and show the exit-code table.
    // The page goes in on stdin: man-db drops privileges when run as root and could not
    // read a file in a private temp dir.
    use std::io::Write;
    let page = render_man(&built_command());
    // The one tool rule (tests/gate): a missing man(1) fails under CI, skips locally.
    let Some(man) = gate::find("man") else {
        return; // the roff checks above still ran
    };
    let child = std::process::Command::new(man)
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        // The one tool rule of tests/gate: a missing tool fails under CI, skips locally.
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
        assert!(
            !ci,
            "man(1) is required under CI; install man-db (scripts/install-test-deps.sh)"
        );
        eprintln!("SKIP: man not found; the roff checks above still ran");
        return;
    };
    child.stdin.take().unwrap().write_all(&page).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "man -l failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("EXIT STATUS"), "{text}");
    let section = text
        .split("EXIT STATUS")
        .nth(1)
        .expect("EXIT STATUS heading");
    let lines: Vec<String> = section
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    for (code, meaning) in exit_codes() {
        // `.TP` puts a short tag and its text on one line: "0 success".
        let want = meaning.split_whitespace().collect::<Vec<_>>().join(" ");
        let first_part = want.chars().take(20).collect::<String>();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{code} {first_part}"))),
            "exit code {code} ({meaning}) not rendered as a row:\n{section}"
        );
    }
}

#[test]
fn readme_names_the_two_setup_commands() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md exists");
    for cmd in ["make demo", "make test"] {
        assert!(readme.contains(cmd), "README.md must mention `{cmd}`");
    }
}

#[test]
fn ci_runs_make_test() {
    let ci = fs::read_to_string(root().join(".ci/run")).expect(".ci/run exists");
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("set "))
        .collect();
    assert!(
        commands
            .iter()
            .any(|l| *l == "make test" || *l == "exec make test"),
        ".ci/run must call exactly `make test`; it runs: {commands:?}"
    );
    let makefile = fs::read_to_string(root().join("Makefile")).expect("Makefile exists");
    for target in ["demo:", "test:", "docs:", "bench:", "release:"] {
        assert!(
            makefile.lines().any(|l| l.starts_with(target)),
            "Makefile lacks the `{target}` target"
        );
    }
}
