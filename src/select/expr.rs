//! `--where` expressions: one condition on an annotation or on a descriptor field.
//!
//! Grammar (the first `=` splits key and value; the value may contain anything):
//!
//! | form           | holds when                                          |
//! |----------------|-----------------------------------------------------|
//! | `key=value`    | the key is present with exactly this value          |
//! | `key!=value`   | not `key=value` (the key is absent or differs)      |
//! | `key~=REGEX`   | the key is present and the regex matches its value (unanchored; use `^…$`) |
//! | `key`          | the key is present (any value, also empty)          |
//! | `!key`         | the key is absent                                   |
//!
//! `key` is an annotation key, except the four descriptor fields `ref` (the
//! `org.opencontainers.image.ref.name` annotation of the descriptor), `digest`,
//! `mediaType` and `artifactType`. An annotation whose key is one of these names is
//! written `annotation:KEY`.

use crate::error::{Error, Result};
use regex::Regex;
use std::fmt;

/// A descriptor field usable in `--where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The descriptor's `org.opencontainers.image.ref.name` annotation.
    Ref,
    Digest,
    MediaType,
    ArtifactType,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Ref => "ref",
            Field::Digest => "digest",
            Field::MediaType => "mediaType",
            Field::ArtifactType => "artifactType",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Field(Field),
    Annotation(String),
}

impl Key {
    pub fn name(&self) -> &str {
        match self {
            Key::Field(f) => f.name(),
            Key::Annotation(a) => a,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    Eq(String),
    Ne(String),
    Regex(Regex),
    Present,
    Absent,
}

/// One parsed `--where` condition.
#[derive(Debug, Clone)]
pub struct Condition {
    pub key: Key,
    pub op: Op,
    text: String,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Condition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Condition> {
        Condition::parse(s)
    }
}

impl Condition {
    pub fn parse(input: &str) -> Result<Condition> {
        let bad = |why: &str| {
            Error::usage(format!("invalid --where {input:?}: {why}")).with_hint(
                "write key=value, key!=value, key~=REGEX, key or !key; keys are annotation \
                 keys or the fields ref, digest, mediaType, artifactType",
            )
        };
        let s = input.trim();
        let (key, op) = match s.find('=') {
            None => match s.strip_prefix('!') {
                Some(k) => (k, Op::Absent),
                None => (s, Op::Present),
            },
            Some(i) => {
                let value = s[i + 1..].to_string();
                let head = &s[..i];
                if let Some(k) = head.strip_suffix('!') {
                    (k, Op::Ne(value))
                } else if let Some(k) = head.strip_suffix('~') {
                    let re = regex::RegexBuilder::new(&value)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| bad(&format!("bad regular expression: {e}")))?;
                    (k, Op::Regex(re))
                } else {
                    (head, Op::Eq(value))
                }
            }
        };
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        if key.starts_with('!') {
            return Err(bad(
                "a key cannot start with '!' (write !key alone, or key!=value)",
            ));
        }
        if key
            .chars()
            .any(|c| c.is_whitespace() || c == '~' || c == '!')
        {
            return Err(bad("keys contain no whitespace, '~' or '!'"));
        }
        let key = match key {
            "ref" => Key::Field(Field::Ref),
            "digest" => Key::Field(Field::Digest),
            "mediaType" => Key::Field(Field::MediaType),
            "artifactType" => Key::Field(Field::ArtifactType),
            k => {
                let k = k.strip_prefix("annotation:").unwrap_or(k);
                if k.is_empty() {
                    return Err(bad("empty annotation key"));
                }
                Key::Annotation(k.to_string())
            }
        };
        Ok(Condition {
            key,
            op,
            text: s.to_string(),
        })
    }

    /// True for `!=` and `!key`, which are the negations of `=` and `key`.
    pub fn is_negative(&self) -> bool {
        matches!(self.op, Op::Ne(_) | Op::Absent)
    }

    /// Whether the positive form (`=`, `~=`, present) holds for one value.
    pub fn positive_holds(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (_, None) => false,
            (Op::Eq(w) | Op::Ne(w), Some(v)) => v == w,
            (Op::Regex(re), Some(v)) => re.is_match(v),
            (Op::Present | Op::Absent, Some(_)) => true,
        }
    }

    /// Evaluate over the values a key has in the sources the scope reads (one per
    /// source; `None` where absent): the positive forms hold when they hold in any
    /// source, the negative forms when their positive form holds in none. Returns
    /// whether it holds and, for a positive form, the index of the value that made it.
    /// Whether the condition holds on one descriptor's own annotations and fields
    /// (descriptor scope, nothing inherited): for filters over indexes that are not in a
    /// layout, such as the ones push and pull subset.
    pub fn holds_on(&self, d: &crate::model::Descriptor) -> bool {
        let v = match &self.key {
            Key::Field(Field::Ref) => d.ref_name(),
            Key::Field(Field::Digest) => Some(d.digest.as_str()),
            Key::Field(Field::MediaType) => Some(d.media_type.as_str()),
            Key::Field(Field::ArtifactType) => d.artifact_type.as_deref(),
            Key::Annotation(k) => d.annotations.get(k).map(String::as_str),
        };
        self.eval(&[v]).0
    }

    pub fn eval(&self, values: &[Option<&str>]) -> (bool, Option<usize>) {
        let hit = values.iter().position(|v| self.positive_holds(*v));
        if self.is_negative() {
            (hit.is_none(), None)
        } else {
            (hit.is_some(), hit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Condition {
        Condition::parse(s).unwrap()
    }

    #[test]
    fn parses_every_form() {
        assert!(matches!(c("a.b=1").op, Op::Eq(ref v) if v == "1"));
        assert!(matches!(c("a.b!=1").op, Op::Ne(ref v) if v == "1"));
        assert!(matches!(c("a.b~=^v[0-9]+$").op, Op::Regex(_)));
        assert!(matches!(c("a.b").op, Op::Present));
        assert!(matches!(c("!a.b").op, Op::Absent));
        assert!(matches!(c("a=").op, Op::Eq(ref v) if v.is_empty()));
        // the first '=' splits; values may hold '=' and '!'
        assert!(matches!(c("a=b=c!").op, Op::Eq(ref v) if v == "b=c!"));
        assert_eq!(c("a.b=1").key, Key::Annotation("a.b".into()));
    }

    #[test]
    fn fields_and_escaped_annotations() {
        assert_eq!(c("ref=latest").key, Key::Field(Field::Ref));
        assert_eq!(c("digest~=^sha256:ab").key, Key::Field(Field::Digest));
        assert_eq!(c("mediaType=x").key, Key::Field(Field::MediaType));
        assert_eq!(c("!artifactType").key, Key::Field(Field::ArtifactType));
        assert_eq!(c("annotation:ref=x").key, Key::Annotation("ref".into()));
        // field names are case-sensitive: anything else is an annotation key
        assert_eq!(c("mediatype=x").key, Key::Annotation("mediatype".into()));
    }

    #[test]
    fn refuses_bad_expressions() {
        for bad in [
            "",
            "=x",
            "!=x",
            "~=x",
            "!a=b",
            "!",
            "a b=c",
            "a~=(",
            "annotation:=x",
        ] {
            let e = Condition::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::Kind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn evaluation_over_sources() {
        // positive: any source; negative: none
        assert_eq!(c("k=1").eval(&[None, Some("1")]), (true, Some(1)));
        assert_eq!(c("k=1").eval(&[Some("2"), None]), (false, None));
        assert_eq!(c("k!=1").eval(&[Some("2"), None]), (true, None));
        assert_eq!(c("k!=1").eval(&[None]), (true, None));
        assert_eq!(c("k!=1").eval(&[Some("1")]), (false, None));
        assert_eq!(c("k").eval(&[Some("")]), (true, Some(0)));
        assert_eq!(c("!k").eval(&[None, None]), (true, None));
        assert_eq!(c("!k").eval(&[None, Some("")]), (false, None));
        assert_eq!(c("k~=^v1\\.").eval(&[Some("v1.2")]), (true, Some(0)));
        assert_eq!(c("k~=2").eval(&[Some("v1.2")]), (true, Some(0)));
        assert_eq!(c("k~=^2").eval(&[Some("v1.2")]), (false, None));
    }
}
