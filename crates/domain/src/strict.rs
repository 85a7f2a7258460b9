//! JSON read strictly all the way down (CONTRACT.md part C): an object with
//! a repeated member name, at any depth, is refused, naming its path.
//!
//! serde_json keeps the last of repeated names without a word, so
//! `{"metric": "m", "value": 31, "value": 5}` would silently report 5. This
//! reads the text into a [`Value`] in one pass, as `serde_json::from_str`
//! does (same numbers, same depth limit), and stops at the first repeat.
//! Only submissions are read this way: the log's events were written by
//! dotpha in canonical form and are read as they are.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why the text was refused.
#[derive(Debug)]
pub(crate) enum StrictError {
    /// Not JSON at all (or nested too deep).
    Syntax(serde_json::Error),
    /// A member name repeated within one object.
    Repeated {
        /// The repeated member's path, e.g. `data.values[0].value`.
        path: String,
    },
}

/// Reads `text` as one JSON value, refusing repeated member names.
pub(crate) fn from_str(text: &str) -> Result<Value, StrictError> {
    let mut repeated = None;
    let mut path = String::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Strict {
        path: &mut path,
        repeated: &mut repeated,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (read, repeated) {
        (_, Some(path)) => Err(StrictError::Repeated { path }),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(StrictError::Syntax(e)),
    }
}

/// Builds a [`Value`] while keeping the path it is at; on a repeated name
/// it records the path in `repeated` and fails.
struct Strict<'a> {
    path: &'a mut String,
    repeated: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let at = self.path.len();
        let mut items = Vec::new();
        loop {
            self.path.truncate(at);
            self.path.push_str(&format!("[{}]", items.len()));
            let item = seq.next_element_seed(Strict {
                path: self.path,
                repeated: self.repeated,
            })?;
            match item {
                Some(item) => items.push(item),
                None => break,
            }
        }
        self.path.truncate(at);
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let at = self.path.len();
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            self.path.truncate(at);
            if at > 0 {
                self.path.push('.');
            }
            self.path.push_str(&name);
            let value = map.next_value_seed(Strict {
                path: self.path,
                repeated: self.repeated,
            })?;
            if members.insert(name, value).is_some() {
                *self.repeated = Some(self.path.clone());
                return Err(de::Error::custom("repeated member name"));
            }
        }
        self.path.truncate(at);
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeated(text: &str) -> Option<String> {
        match from_str(text) {
            Err(StrictError::Repeated { path }) => Some(path),
            _ => None,
        }
    }

    #[test]
    fn a_repeat_is_named_by_its_path_at_any_depth() {
        assert_eq!(repeated(r#"{"a": 1, "a": 2}"#).as_deref(), Some("a"));
        assert_eq!(
            repeated(r#"{"data": {"values": [{"metric": "m", "value": 31, "value": 5}]}}"#)
                .as_deref(),
            Some("data.values[0].value")
        );
        assert_eq!(
            repeated(r#"[{"x": [1, {"y": {}, "y": null}]}]"#).as_deref(),
            Some("[0].x[1].y")
        );
    }

    #[test]
    fn without_repeats_it_reads_as_serde_json_does() {
        for text in [
            r#"{"a": 1, "b": [1.5, -2, 18446744073709551615, "x", null, true], "c": {"a": 1}}"#,
            r#"[]"#,
            r#""é""#,
            r#"{"a": {"a": {"a": 1}}}"#,
            "1e400",
        ] {
            let ours = from_str(text).ok();
            let theirs = serde_json::from_str::<Value>(text).ok();
            assert_eq!(ours, theirs, "{text}");
        }
        assert!(matches!(
            from_str(r#"{"a": 1} trailing"#),
            Err(StrictError::Syntax(_))
        ));
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(from_str(&deep), Err(StrictError::Syntax(_))));
    }

    /// A JSON tree with distinct member names in each object.
    #[derive(Clone, Debug)]
    enum Tree {
        Leaf(i64),
        Array(Vec<Tree>),
        Object(Vec<(String, Tree)>),
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Tree> {
        use proptest::prelude::*;
        let leaf = any::<i64>().prop_map(Tree::Leaf);
        leaf.prop_recursive(5, 48, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::Array),
                proptest::collection::btree_map("[a-zA-Zđơ_]{1,6}", inner, 0..4)
                    .prop_map(|m| Tree::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Writes `tree` as JSON text; the `target`-th non-empty object (in
    /// document order) gets its first member written twice, and the path of
    /// that member is returned.
    fn render(tree: &Tree, path: &str, target: &mut i64, out: &mut String) -> Option<String> {
        let mut found = None;
        match tree {
            Tree::Leaf(n) => out.push_str(&n.to_string()),
            Tree::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    found = found.or(render(item, &format!("{path}[{i}]"), target, out));
                }
                out.push(']');
            }
            Tree::Object(members) => {
                let twice = !members.is_empty() && *target == 0;
                if !members.is_empty() {
                    *target -= 1;
                }
                out.push('{');
                for (i, (name, member)) in members.iter().enumerate() {
                    let at = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(name).expect("a string"));
                    out.push(':');
                    found = found.or(render(member, &at, target, out));
                    if i == 0 && twice {
                        out.push(',');
                        out.push_str(&serde_json::to_string(name).expect("a string"));
                        out.push_str(":0");
                        found = Some(at);
                    }
                }
                out.push('}');
            }
        }
        found
    }

    proptest::proptest! {
        #[test]
        fn any_repeat_at_any_depth_is_found_at_its_path(tree in tree(), target in 0i64..8) {
            let mut plain = String::new();
            render(&tree, "", &mut -1, &mut plain);
            proptest::prop_assert_eq!(
                from_str(&plain).ok(),
                serde_json::from_str::<Value>(&plain).ok()
            );
            let mut text = String::new();
            let mut countdown = target;
            match render(&tree, "", &mut countdown, &mut text) {
                Some(path) => proptest::prop_assert_eq!(repeated(&text), Some(path)),
                None => proptest::prop_assert!(from_str(&text).is_ok()),
            }
        }
    }
}
