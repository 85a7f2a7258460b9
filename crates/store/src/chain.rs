//! The hash chain, exactly as CONTRACT.md defines it: `hash` is the lowercase
//! hex SHA-256 of the RFC 8785 (JCS) canonical JSON of the event object
//! without its `hash` member; `prev_hash` is inside what is hashed.

use sha2::{Digest, Sha256};

use crate::records::EVENT_SCHEMA;

/// The members of an event that the hash covers, borrowed from wherever they
/// live (a new event, or a row being verified).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hashed<'a> {
    pub(crate) position: u64,
    pub(crate) stream: &'a str,
    pub(crate) version: u64,
    pub(crate) event_type: &'a str,
    pub(crate) unit: &'a str,
    pub(crate) actor: &'a str,
    pub(crate) occurred_at: &'a str,
    pub(crate) recorded_at: &'a str,
    pub(crate) submission_id: &'a str,
    /// The data member's JSON text.
    pub(crate) data: &'a str,
    pub(crate) prev_hash: &'a str,
}

impl Hashed<'_> {
    /// The canonical JSON of the object, assuming `data` is already
    /// canonical. The members are written in JCS order (sorted by UTF-16 code
    /// units, which for these ASCII names is byte order), and strings are
    /// escaped as JCS requires, which is exactly how serde_json escapes them.
    pub(crate) fn canonical_json(&self, out: &mut Vec<u8>) {
        fn string(out: &mut Vec<u8>, s: &str) {
            // Writing a str to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }
        out.clear();
        out.extend_from_slice(b"{\"actor\":");
        string(out, self.actor);
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(self.data.as_bytes());
        out.extend_from_slice(b",\"occurred_at\":");
        string(out, self.occurred_at);
        out.extend_from_slice(b",\"position\":");
        out.extend_from_slice(self.position.to_string().as_bytes());
        out.extend_from_slice(b",\"prev_hash\":");
        string(out, self.prev_hash);
        out.extend_from_slice(b",\"recorded_at\":");
        string(out, self.recorded_at);
        out.extend_from_slice(b",\"schema\":\"");
        out.extend_from_slice(EVENT_SCHEMA.as_bytes());
        out.extend_from_slice(b"\",\"stream\":");
        string(out, self.stream);
        out.extend_from_slice(b",\"submission_id\":");
        string(out, self.submission_id);
        out.extend_from_slice(b",\"type\":");
        string(out, self.event_type);
        out.extend_from_slice(b",\"unit\":");
        string(out, self.unit);
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(self.version.to_string().as_bytes());
        out.push(b'}');
    }

    /// The event's hash, reusing `buffer` for the canonical text.
    pub(crate) fn hash(&self, buffer: &mut Vec<u8>) -> String {
        hex_of(&self.digest(buffer))
    }

    /// The event's hash as bytes (the Merkle tree's leaf takes them as
    /// they are), reusing `buffer` for the canonical text.
    pub(crate) fn digest(&self, buffer: &mut Vec<u8>) -> [u8; 32] {
        self.canonical_json(buffer);
        Sha256::digest(buffer.as_slice()).into()
    }

    /// The hash computed the slow, general way: re-canonicalize `data`
    /// whatever form it is stored in. Used when the fast path disagrees, so a
    /// row whose data was merely re-serialized is not called tampered.
    pub(crate) fn hash_recanonicalized(&self, buffer: &mut Vec<u8>) -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(self.data).ok()?;
        let data = dotpha_domain::canonical::to_string(&value).ok()?;
        Some(
            Hashed {
                data: &data,
                ..*self
            }
            .hash(buffer),
        )
    }
}

/// A hash as the log writes it: 64 lowercase hex digits. (`hex::encode`
/// collects the digits one `char` at a time: a tenth of preparing an
/// event.)
pub(crate) fn hex_of(digest: &[u8; 32]) -> String {
    let mut digits = [0u8; 64];
    // 32 bytes always fit 64 digits.
    let _ = hex::encode_to_slice(digest, &mut digits);
    let mut text = String::with_capacity(digits.len());
    text.extend(digits.iter().map(|&d| char::from(d)));
    text
}

/// The canonical JSON text of an event's data value.
pub(crate) fn canonical_data(
    value: &serde_json::Value,
) -> Result<String, dotpha_domain::canonical::NotCanonical> {
    dotpha_domain::canonical::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample<'a>(data: &'a str) -> Hashed<'a> {
        Hashed {
            position: 42,
            stream: "task-ndp-2021-07",
            version: 4,
            event_type: "progress.reported",
            unit: "hop-thanh",
            actor: "hoang-the-manh",
            occurred_at: "2021-03-02T08:30:00+07:00",
            recorded_at: "2021-03-02T01:30:00.123Z",
            submission_id: "01HZX3K9Q6W2V7M8N4T5R1Y0AB",
            data,
            prev_hash: "ab\"\\\u{1}Đồng",
        }
    }

    #[test]
    fn the_fast_canonical_form_equals_the_general_one() {
        let data = canonical_data(&json!({"note": "Thôn Đồng Diễn\n\t\"x\"", "values": [{"value": 394.0, "metric": "heads"}], "b": 1e21}))
            .expect("canonical");
        let h = sample(&data);
        let mut fast = Vec::new();
        h.canonical_json(&mut fast);
        let object = json!({
            "schema": EVENT_SCHEMA, "position": 42, "stream": h.stream, "version": 4,
            "type": h.event_type, "unit": h.unit, "actor": h.actor, "occurred_at": h.occurred_at,
            "recorded_at": h.recorded_at, "submission_id": h.submission_id,
            "data": serde_json::from_str::<serde_json::Value>(&data).expect("json"),
            "prev_hash": h.prev_hash,
        });
        let general = serde_json_canonicalizer::to_string(&object).expect("canonical");
        assert_eq!(String::from_utf8(fast).expect("utf8"), general);
    }

    #[test]
    fn a_re_serialized_data_member_hashes_the_same_the_slow_way() {
        let canonical = canonical_data(&json!({"a": 1, "b": [1.5, "x"]})).expect("canonical");
        let mut buffer = Vec::new();
        let expected = sample(&canonical).hash(&mut buffer);
        let reordered = "{ \"b\": [1.50, \"x\"], \"a\": 1.0 }";
        assert_ne!(sample(reordered).hash(&mut buffer), expected);
        assert_eq!(
            sample(reordered).hash_recanonicalized(&mut buffer),
            Some(expected)
        );
    }
}
