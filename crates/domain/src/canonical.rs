//! The RFC 8785 (JCS) canonical form of a JSON value, the form an event's
//! `data` is stored, sized and hashed in (CONTRACT.md, "Hash chain").
//!
//! Written straight from a [`serde_json::Value`]: members sorted by the
//! UTF-16 code units of their names (RFC 8785 §3.2.3), every number as the
//! ECMAScript `Number.prototype.toString` of its double (§3.2.2.3, with
//! `ryu-js`), strings with only the escapes §3.2.2.2 requires. The general
//! serializer of `serde_json_canonicalizer` writes the same bytes (a
//! property test over arbitrary values holds them equal) but buffers and
//! sorts every member of every struct it walks; on the writer's path that
//! was 31% of an append (BENCHMARKS.md, "The log").

use serde_json::Value;

/// A value that has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotCanonical {
    /// A number that is not a finite double (only possible when another
    /// crate turns on `serde_json`'s `arbitrary_precision`).
    #[error("the number {0} is not a finite double, which RFC 8785 requires")]
    Number(String),
}

/// The canonical JSON text of `value`.
///
/// # Errors
/// [`NotCanonical::Number`] for a number that is not a finite double.
pub fn to_string(value: &Value) -> Result<String, NotCanonical> {
    let mut out = String::with_capacity(256);
    write(value, &mut out)?;
    Ok(out)
}

/// Appends the canonical JSON text of `value` to `out`.
///
/// # Errors
/// [`NotCanonical::Number`] for a number that is not a finite double.
pub fn write(value: &Value, out: &mut String) -> Result<(), NotCanonical> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
            Some(f) => out.push_str(ryu_js::Buffer::new().format_finite(f)),
            None => return Err(NotCanonical::Number(n.to_string())),
        },
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(name, out);
                out.push(':');
                write(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string as RFC 8785 §3.2.2.2 writes it: `"` and `\` escaped,
/// the five control characters with short escapes as such, every other
/// control character as `\u00xx` (lowercase hex), everything else as is.
pub fn string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte escaped is ASCII, so `i` is a character boundary.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn library(value: &Value) -> String {
        serde_json_canonicalizer::to_string(value).expect("the library writes it")
    }

    #[test]
    fn the_example_of_rfc_8785_section_3_2_3() {
        let value = json!({
            "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis"
        });
        assert_eq!(
            to_string(&value).expect("canonical"),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\",\
             \"\u{00f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
             \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
        assert_eq!(to_string(&value).expect("canonical"), library(&value));
    }

    #[test]
    fn numbers_are_written_as_ecmascript_does() {
        let value = json!([
            394.0,
            1e21,
            1e-7,
            -0.0,
            0.1,
            333333333.3333333,
            9007199254740993u64,
            -42,
            1.5e300
        ]);
        assert_eq!(
            to_string(&value).expect("canonical"),
            "[394,1e+21,1e-7,0,0.1,333333333.3333333,9007199254740992,-42,1.5e+300]"
        );
        assert_eq!(to_string(&value).expect("canonical"), library(&value));
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\a-zđĐồ\u{e000}-\u{e002}\u{10000}-\u{10002}]{0,12}"
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    "[\\x00-\\x1fa-zA-Z0-9_đĐồ\u{e000}-\u{e002}\u{10000}-\u{10002}]{0,8}",
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The kind: any JSON value, with names that sort differently by
        /// UTF-8 bytes and by UTF-16 units, control characters, and numbers
        /// of every size, is written exactly as the library writes it.
        #[test]
        fn any_value_is_written_exactly_as_the_library_writes_it(value in any_value()) {
            prop_assert_eq!(to_string(&value).expect("canonical"), library(&value));
        }
    }
}
