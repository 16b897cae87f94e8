//! Setting annotations on a manifest or index that oix did not create.
//!
//! Only the document's top-level `annotations` object changes: the JSON is parsed with
//! key order preserved, existing annotations keep their order (with new values where the
//! plan sets them), keys the document lacked are appended in sorted order, and every
//! other field is written back as it was parsed (compact JSON). The same input bytes
//! and annotations always give the same output bytes, so re-running a plan finds the
//! same digest. When the document already carries every annotation with the planned
//! value, its bytes are kept untouched.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The new bytes of `doc` with `annotations` set, or `None` when nothing changes.
pub fn set_annotations(
    doc: &[u8],
    annotations: &BTreeMap<String, String>,
    what: &str,
) -> Result<Option<Vec<u8>>> {
    if annotations.is_empty() {
        return Ok(None);
    }
    let mut v: Value = serde_json::from_slice(doc)
        .map_err(|e| Error::corrupt(format!("{what}: invalid JSON: {e}")))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| Error::corrupt(format!("{what}: not a JSON object")))?;
    let current = match obj.get("annotations") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Error::corrupt(format!(
                "{what}: its \"annotations\" field is not an object"
            )))
        }
    };
    let unchanged = annotations
        .iter()
        .all(|(k, v)| current.get(k).and_then(Value::as_str) == Some(v.as_str()));
    if unchanged {
        return Ok(None);
    }
    let mut next = Map::new();
    for (k, old) in &current {
        let val = match annotations.get(k) {
            Some(new) => Value::String(new.clone()),
            None => old.clone(),
        };
        next.insert(k.clone(), val);
    }
    for (k, new) in annotations {
        if !current.contains_key(k) {
            next.insert(k.clone(), Value::String(new.clone()));
        }
    }
    match obj.get_mut("annotations") {
        // Replace the value in place: the field keeps its position in the document.
        Some(slot) => *slot = Value::Object(next),
        None => {
            obj.insert("annotations".to_string(), Value::Object(next));
        }
    }
    let bytes =
        serde_json::to_vec(&v).map_err(|e| Error::failure(format!("{what}: serializing: {e}")))?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_annotations_change_and_order_is_kept() {
        let doc = br#"{"schemaVersion":2,"zeta":{"b":1,"a":2},"annotations":{"z":"1","a":"2"},"config":{"digest":"x"},"layers":[]}"#;
        let out = set_annotations(doc, &ann(&[("a", "new"), ("m", "3"), ("b", "4")]), "t")
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"schemaVersion":2,"zeta":{"b":1,"a":2},"annotations":{"z":"1","a":"new","b":"4","m":"3"},"config":{"digest":"x"},"layers":[]}"#
        );
        // Deterministic, and a no-op once set.
        let again = set_annotations(doc, &ann(&[("a", "new"), ("m", "3"), ("b", "4")]), "t")
            .unwrap()
            .unwrap();
        assert_eq!(out, again);
        assert!(set_annotations(&out, &ann(&[("m", "3")]), "t")
            .unwrap()
            .is_none());
    }

    #[test]
    fn adds_the_field_at_the_end() {
        let doc = br#"{"schemaVersion":2,"manifests":[]}"#;
        let out = set_annotations(doc, &ann(&[("k", "v")]), "t")
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            br#"{"schemaVersion":2,"manifests":[],"annotations":{"k":"v"}}"#.to_vec()
        );
        assert!(set_annotations(br#"{"annotations":[]}"#, &ann(&[("k", "v")]), "t").is_err());
        assert!(set_annotations(b"[1]", &ann(&[("k", "v")]), "t").is_err());
    }
}
