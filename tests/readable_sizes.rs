//! Issue 13 item 9: every source file stays under ~600 lines of non-test code and every
//! function under ~100 lines, all of src/.

use std::path::{Path, PathBuf};

/// Files, or directories whose .rs files are all checked: the whole library and CLI.
const CHECKED: &[&str] = &["src"];
const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 100;

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if p.extension().is_some_and(|x| x == "rs") {
        out.push(p.to_path_buf());
    }
}

/// The lines before the test module.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect()
}

/// (name, first line, length) of each `fn`: from its signature to the line that closes
/// it at the signature's indentation.
fn functions(lines: &[&str]) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let body = l.trim_start();
        let indent = &l[..l.len() - body.len()];
        let rest = body
            .strip_prefix("pub(crate) ")
            .or_else(|| body.strip_prefix("pub(super) "))
            .or_else(|| body.strip_prefix("pub "))
            .unwrap_or(body);
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        let name: String = sig
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|x| *x == close) {
            found.push((name, i + 1, end + 2));
        }
    }
    found
}

#[test]
fn checked_files_and_functions_stay_readable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for p in CHECKED {
        let p = root.join(p);
        assert!(p.exists(), "{} is gone: update CHECKED", p.display());
        rust_files(&p, &mut files);
    }
    let mut over = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines = code_lines(&text);
        let rel = f.strip_prefix(root).unwrap().display();
        if lines.len() > MAX_FILE_LINES {
            over.push(format!("{rel}: {} lines of code", lines.len()));
        }
        for (name, at, len) in functions(&lines) {
            if len > MAX_FN_LINES {
                over.push(format!("{rel}:{at}: fn {name} is {len} lines"));
            }
        }
    }
    assert!(
        over.is_empty(),
        "over the limits ({MAX_FILE_LINES} lines a file, {MAX_FN_LINES} a function); split by concern:\n{}",
        over.join("\n")
    );
}

#[test]
fn the_measure_sees_functions_and_stops_at_tests() {
    let text = "fn a() {\n    x;\n}\n    pub(super) fn b(\n        y: u8,\n    ) {\n    }\n#[cfg(test)]\nfn t() {\n}\n";
    let lines = code_lines(text);
    assert_eq!(lines.len(), 7);
    assert_eq!(
        functions(&lines),
        vec![("a".to_string(), 1, 3), ("b".to_string(), 4, 4)]
    );
}
