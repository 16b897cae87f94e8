//! Terminal-safe text: the one escaping rule for every human-readable line oix prints.
//!
//! Ref names, annotations, platform fields, file names and registry error bodies come
//! from outside the trust boundary. Printed raw, `\e]0;TITLE\a` sets a terminal's title,
//! `\e[2J` clears it and OSC 52 writes the clipboard; U+202E reorders what the reader
//! sees. So human output shows every such character as an escape, the way skopeo quotes
//! strings: C0 controls and DEL as `\xNN` (`\e` is `\x1b`, `\a` is `\x07`), C1 controls
//! and the bidi overrides/isolates (U+202A–U+202E, U+2066–U+2069) as `\u{NNNN}`, bytes
//! that are not UTF-8 as `\xNN`. Printable Unicode stays as it is.
//!
//! `--json` output is JSON: [`escape_json`] turns the characters JSON leaves raw (DEL,
//! C1, bidi) into `\uNNNN` escapes, which keeps the document and every value it carries
//! identical for a parser. `inspect --raw` prints exact bytes by design and is not
//! escaped.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` may hold an unsafe character: a byte scan (C0, DEL, and the lead bytes
/// 0xC2 of C1 controls and 0xE2 of the bidi controls), so clean text costs no decoding.
fn may_be_unsafe(s: &str) -> bool {
    s.bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2)
}

/// `s` with every unsafe character escaped (newlines and tabs too: one value, one line).
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_except(s, &[])
}

/// `s` with every unsafe character escaped except those in `keep` (a printer keeps the
/// `\n` that ends its own lines).
pub fn escape_except<'a>(s: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !may_be_unsafe(s) || !s.chars().any(|c| is_unsafe(c) && !keep.contains(&c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) && !keep.contains(&c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes that may not be UTF-8: valid runs escaped as [`escape_except`] does, every
/// invalid byte as `\xNN`.
pub fn escape_bytes_except<'a>(bytes: &'a [u8], keep: &[char]) -> Cow<'a, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return escape_except(s, keep);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_except(chunk.valid(), keep));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(out)
}

/// JSON text with the characters serde_json leaves raw inside strings (DEL, C1
/// controls, bidi overrides) written as `\uNNNN`: the same JSON value, safe to show.
/// Raw C0 controls other than the whitespace between tokens cannot occur in valid JSON
/// text; any that do are escaped the same way.
pub fn escape_json(s: &str) -> Cow<'_, str> {
    let keep = |c: char| matches!(c, '\n' | '\t' | '\r');
    if !may_be_unsafe(s) || !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) && !keep(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escape(out: &mut String, c: char) {
    let n = c as u32;
    if n < 0x80 {
        out.push_str(&format!("\\x{n:02x}"));
    } else {
        out.push_str(&format!("\\u{{{n:04x}}}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_keeps_printable_unicode() {
        assert_eq!(
            escape("a\x1b]0;PWNED\x07\x1b[2Jb"),
            "a\\x1b]0;PWNED\\x07\\x1b[2Jb"
        );
        assert_eq!(
            escape("tab\there\nnl\r\x7f"),
            "tab\\x09here\\x0anl\\x0d\\x7f"
        );
        assert_eq!(
            escape("\u{85}\u{9b}\u{202e}\u{2066}x"),
            "\\u{0085}\\u{009b}\\u{202e}\\u{2066}x"
        );
        assert!(matches!(escape("größe: 日本 ✓ ü"), Cow::Borrowed(_)));
        assert_eq!(escape_except("a\nb\x1b", &['\n']), "a\nb\\x1b");
        assert_eq!(
            escape_bytes_except(b"ok\xff\x1b\n", &['\n']),
            "ok\\xff\\x1b\n"
        );
    }

    #[test]
    fn json_escaping_keeps_the_value() {
        let v = serde_json::json!({"k": "a\x1b\x7f\u{9b}\u{202e}b"});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let safe = escape_json(&text);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }
}
