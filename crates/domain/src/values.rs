//! Validated values that arrive in submissions: slugs, texts, dates, instants.
//!
//! Each one checks its grammar while being deserialized (a slug's letters, a
//! date that exists, an instant's RFC 3339 form) and normalizes text to NFC:
//! rules that never change, so the same check serves submissions and the log
//! read back. A value that is well-typed JSON but breaks its rule fails with a
//! message starting with [`INVALID_VALUE`], which the parser turns into the
//! `invalid_value` code; every other serde failure is `malformed`.
//!
//! Write-time limits (a text's length, an event's size, a leap second that
//! exists) are not here: they are the admission step's ([`crate::admit`]),
//! run at decide time on what will be stored, and never re-applied to what
//! the log holds.

use std::{borrow::Borrow, fmt, ops::Deref, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use unicode_normalization::{IsNormalized, is_nfc_quick};

use crate::{
    text::nfc,
    time::{Date, Timestamp},
};

/// Start of every message of a value that breaks its rule; serde's own
/// out-of-range errors ("invalid value: integer `-1`...") share it on purpose.
pub const INVALID_VALUE: &str = "invalid value: ";

/// Longest string a submission may store in one field, in bytes of its NFC
/// form (what the log holds). A title or a note is a few hundred bytes; this
/// only stops a runaway publisher from filling the log. A write-time rule,
/// checked by [`crate::admit`]: readers of the log never apply it.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

fn invalid<E: de::Error>(message: impl fmt::Display) -> E {
    E::custom(format_args!("{INVALID_VALUE}{message}"))
}

/// A lowercase ASCII identifier, `^[a-z0-9][a-z0-9-]{0,63}$`: unit codes,
/// cadre ids, task ids, cycles and metric keys. Safe as a NATS subject token.
///
/// Shared, not copied, when cloned: a writer's state holds each unit's code
/// as a map key, in the unit and in the tasks and cadres that name it, and
/// at a province's size one copy each was megabytes (BENCHMARKS.md,
/// "Resident memory").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(Arc<str>);

impl Slug {
    /// Checks `text` against the slug rule.
    pub fn parse(text: &str) -> Option<Slug> {
        Slug::is_slug(text).then(|| Slug(Arc::from(text)))
    }

    fn is_slug(text: &str) -> bool {
        let b = text.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && matches!(b[0], b'a'..=b'z' | b'0'..=b'9')
            && b.iter()
                .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-'))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Slug {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Slug, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Slug;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Slug, E> {
                Slug::parse(text).ok_or_else(|| {
                    invalid(format_args!(
                        "{text:?} is not a slug (lowercase ASCII letters, digits and '-', 1 to 64, not starting with '-')"
                    ))
                })
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Checks a submission id: `^[A-Za-z0-9_-]{8,64}$`.
pub fn is_submission_id(text: &str) -> bool {
    (8..=64).contains(&text.len())
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Human text, NFC-normalized; may be empty.
///
/// Reading a `Text` only normalizes it, so whatever the log holds reads back.
/// The length limit ([`MAX_TEXT_BYTES`]) is a write-time rule: the admission
/// step ([`crate::admit`]) checks it on the NFC form, at decide time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Text(String);

impl Text {
    /// Normalizes `text` to NFC.
    pub fn new(text: &str) -> Text {
        Text(nfc(text))
    }

    /// Normalizes an owned `text`, reusing it when it is already NFC (the
    /// usual case, and always the case when reading the log back).
    pub fn from_string(text: String) -> Text {
        match is_nfc_quick(text.chars()) {
            IsNormalized::Yes => Text(text),
            _ => Text(nfc(&text)),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        String::deserialize(d).map(Text::from_string)
    }
}

/// Human text that must say something: not empty, not only whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequiredText(Text);

impl RequiredText {
    /// Normalizes `text`; `None` when it is blank.
    pub fn new(text: &str) -> Option<RequiredText> {
        let text = Text::new(text);
        (!text.trim().is_empty()).then_some(RequiredText(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for RequiredText {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for RequiredText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RequiredText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RequiredText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RequiredText, D::Error> {
        let text = Text::deserialize(d)?;
        if text.trim().is_empty() {
            return Err(invalid("must not be empty"));
        }
        Ok(RequiredText(text))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text)
            .ok_or_else(|| invalid(format_args!("{text:?} is not a date (YYYY-MM-DD)")))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).ok_or_else(|| {
            invalid(format_args!(
                "{text:?} is not an RFC 3339 instant with an offset"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_contract() {
        assert!(Slug::parse("hop-thanh").is_some());
        assert!(Slug::parse("2021").is_some());
        assert!(Slug::parse("-hop").is_none());
        assert!(Slug::parse("Hop").is_none());
        assert!(Slug::parse("hợp").is_none());
        assert!(Slug::parse("").is_none());
        assert!(Slug::parse(&"a".repeat(64)).is_some());
        assert!(Slug::parse(&"a".repeat(65)).is_none());
        assert!(
            Slug::parse("a.b").is_none(),
            "a dot would split a NATS subject"
        );
    }

    #[test]
    fn submission_ids_follow_the_contract() {
        assert!(is_submission_id("01HZX3K9Q6W2V7M8N4T5R1Y0AB"));
        assert!(is_submission_id("a1b2c3d4-e5f6_7890"));
        assert!(!is_submission_id("short"));
        assert!(!is_submission_id("has space 123"));
        assert!(!is_submission_id(&"x".repeat(65)));
    }
}
