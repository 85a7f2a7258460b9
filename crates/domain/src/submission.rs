//! Submissions as they arrive, and events as the domain decides them.

use serde::Deserialize;
use serde_json::Value;

use crate::{
    payload::{EventType, Payload, StreamId},
    rejection::{Rejection, RejectionCode},
    time::Timestamp,
    values::{INVALID_VALUE, Slug, is_submission_id},
};

/// The only submission schema this version reads.
pub const SUBMISSION_SCHEMA: &str = "dotpha.submission.v1";

/// Largest submission accepted, in bytes. A plan with a hundred solutions is a
/// few tens of KiB; anything bigger is a broken publisher, not a plan.
pub const MAX_SUBMISSION_BYTES: usize = 256 * 1024;

/// A submission that passed the envelope's checks: who acts for which unit,
/// when, and what they ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// The publisher's idempotency key.
    pub submission_id: String,
    /// The unit the submission is sent for (the subject's last token).
    pub unit: Slug,
    /// The acting cadre (or, during bootstrap, the bootstrap actor).
    pub actor: Slug,
    /// When it happened, as the publisher says.
    pub occurred_at: Timestamp,
    /// The version the target stream must be at, when the publisher cares.
    pub expected_version: Option<u64>,
    /// What is asked for.
    pub payload: Payload,
}

/// An accepted change, before the log gives it a position and a hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Stream, e.g. `task-ndp-2021-07`.
    pub stream: String,
    /// Version within the stream, from 1.
    pub version: u64,
    /// The unit the submission was sent for.
    pub unit: Slug,
    /// Who did it.
    pub actor: Slug,
    /// When, as the publisher said.
    pub occurred_at: Timestamp,
    /// The submission it came from.
    pub submission_id: String,
    /// What happened.
    pub payload: Payload,
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// The event's stream, from its payload and actor.
    pub fn stream_id(&self) -> StreamId {
        self.payload.stream(&self.actor)
    }
}

/// A submission that could not be read, with whatever could be read of it so
/// the rejection can still be recorded and answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    /// The envelope's `submission_id`, when it is present and valid.
    pub submission_id: Option<String>,
    /// The envelope's `unit`, when it is present and a valid slug.
    pub unit: Option<Slug>,
    /// Why it was rejected.
    pub rejection: Rejection,
}

/// A submission as a publisher sends it on `dotpha.v1.submit.<unit>`.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct Envelope {
    /// Always `dotpha.submission.v1`.
    #[allow(dead_code)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::submission_schema_tag")
    )]
    schema: String,
    /// The publisher's idempotency key.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::submission_id")
    )]
    submission_id: String,
    /// The unit acted for; must equal the last token of the subject it is
    /// published on, else `unit_mismatch`.
    unit: Slug,
    /// The acting cadre.
    actor: Slug,
    /// When it happened, as the publisher says.
    occurred_at: Timestamp,
    /// What is asked for; decides the shape of `data`.
    #[serde(rename = "type")]
    #[allow(dead_code)]
    #[cfg_attr(feature = "schema", schemars(with = "crate::EventType"))]
    kind: String,
    /// When present, the submission is rejected with `version_conflict`
    /// unless the target stream is at this version (0: it does not exist).
    #[serde(default)]
    expected_version: Option<u64>,
    /// The data of the submission's type.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::event_data_in")
    )]
    data: Value,
}

/// Reads a submission from the bytes a publisher sent on the subject whose
/// last token is `subject_unit` (`None` when it did not come over NATS).
///
/// Reading is strict: an unknown or missing field is `malformed`, a
/// well-typed value that breaks its rule is `invalid_value`, each with the
/// field's path.
pub fn parse_submission(
    bytes: &[u8],
    subject_unit: Option<&str>,
) -> Result<Submission, Unreadable> {
    let fail = |rejection| Unreadable {
        submission_id: None,
        unit: None,
        rejection,
    };
    if bytes.len() > MAX_SUBMISSION_BYTES {
        return Err(fail(Rejection::new(
            RejectionCode::Malformed,
            format!(
                "submission is {} bytes; the limit is {MAX_SUBMISSION_BYTES}",
                bytes.len()
            ),
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        fail(Rejection::new(
            RejectionCode::Malformed,
            format!("not UTF-8: {e}"),
        ))
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        fail(Rejection::new(
            RejectionCode::Malformed,
            format!("not JSON: {e}"),
        ))
    })?;
    let Value::Object(object) = &value else {
        return Err(fail(Rejection::new(
            RejectionCode::Malformed,
            "a submission is a JSON object",
        )));
    };
    let known = |key: &str| object.get(key).and_then(Value::as_str);
    let fail = |rejection| Unreadable {
        submission_id: known("submission_id")
            .filter(|id| is_submission_id(id))
            .map(str::to_owned),
        unit: known("unit").and_then(Slug::parse),
        rejection,
    };

    match object.get("schema") {
        None => {
            return Err(fail(Rejection::at(
                RejectionCode::Malformed,
                "schema",
                "missing field `schema`",
            )));
        }
        Some(Value::String(s)) if s == SUBMISSION_SCHEMA => {}
        Some(other) => {
            return Err(fail(Rejection::at(
                RejectionCode::UnsupportedSchema,
                "schema",
                format!("schema {other} is not supported; this log reads {SUBMISSION_SCHEMA:?}"),
            )));
        }
    }
    let event_type = match object.get("type") {
        None => {
            return Err(fail(Rejection::at(
                RejectionCode::Malformed,
                "type",
                "missing field `type`",
            )));
        }
        Some(Value::String(s)) => EventType::parse(s).ok_or_else(|| {
            fail(Rejection::at(
                RejectionCode::UnknownType,
                "type",
                format!("unknown submission type {s:?}"),
            ))
        })?,
        Some(_) => {
            return Err(fail(Rejection::at(
                RejectionCode::Malformed,
                "type",
                "`type` must be a string",
            )));
        }
    };
    match object.get("submission_id") {
        Some(Value::String(id)) if is_submission_id(id) => {}
        Some(Value::String(id)) => {
            return Err(fail(Rejection::at(
                RejectionCode::Malformed,
                "submission_id",
                format!("{id:?} is not a submission id (8 to 64 of A-Z, a-z, 0-9, '_' and '-')"),
            )));
        }
        _ => {
            return Err(fail(Rejection::at(
                RejectionCode::Malformed,
                "submission_id",
                "missing or non-string field `submission_id`",
            )));
        }
    }

    let envelope: Envelope = serde_path_to_error::deserialize(&value)
        .map_err(|e| fail(serde_rejection("", &e.path().clone(), e.inner())))?;
    if let Some(subject_unit) = subject_unit
        && subject_unit != envelope.unit.as_str()
    {
        return Err(fail(Rejection::at(
            RejectionCode::UnitMismatch,
            "unit",
            format!(
                "the envelope says unit {:?} but it was published for {subject_unit:?}",
                envelope.unit.as_str()
            ),
        )));
    }
    let payload = read_payload(event_type, &envelope.data).map_err(fail)?;
    Ok(Submission {
        submission_id: envelope.submission_id,
        unit: envelope.unit,
        actor: envelope.actor,
        occurred_at: envelope.occurred_at,
        expected_version: envelope.expected_version,
        payload,
    })
}

/// Reads a submission's `data` as the payload of `event_type`, naming the
/// failing field. What only the writer computes (the outcome members of
/// `assessment.decided`) is `malformed` here, like any unknown member.
pub fn read_payload(event_type: EventType, data: &Value) -> Result<Payload, Rejection> {
    let payload = read_event_data(event_type, data)?;
    if let Payload::AssessmentDecided(p) = &payload
        && let Some(member) = p.writer_member()
    {
        return Err(Rejection::at(
            RejectionCode::Malformed,
            format!("data.{member}"),
            format!("unknown field `{member}`: the writer computes it and puts it in the event"),
        ));
    }
    Ok(payload)
}

/// Reads an event's `data` (a submission's data plus what the writer
/// computed) as the payload of `event_type`, naming the failing field.
pub fn read_event_data(event_type: EventType, data: &Value) -> Result<Payload, Rejection> {
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(data, &mut track);
    Payload::from_data(event_type, deserializer)
        .map_err(|e| serde_rejection("data", &track.path(), &e))
}

/// Turns a serde failure into a rejection: a value that broke its rule is
/// `invalid_value`, anything else (missing, unknown or mistyped field) is
/// `malformed`. The path points at the field, including a missing one, which
/// serde reports on the enclosing object.
fn serde_rejection(
    prefix: &str,
    path: &serde_path_to_error::Path,
    error: &serde_json::Error,
) -> Rejection {
    let message = error.to_string();
    let mut field = prefix.to_owned();
    for segment in path.iter() {
        use serde_path_to_error::Segment;
        match segment {
            Segment::Seq { index } => field.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    // serde_json appends " at line L column C", which means nothing for a
    // value that was already parsed.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let code = if message.starts_with(INVALID_VALUE) {
        RejectionCode::InvalidValue
    } else {
        RejectionCode::Malformed
    };
    Rejection {
        code,
        message,
        field: (!field.is_empty()).then_some(field),
    }
}

impl Submission {
    /// The name of the stream this submission targets, whose version
    /// `expected_version` is compared with.
    pub fn target_stream(&self) -> StreamId {
        self.payload.stream(&self.actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(data: Value) -> Value {
        json!({
            "schema": "dotpha.submission.v1",
            "submission_id": "01HZX3K9Q6W2V7M8N4T5R1Y0AB",
            "unit": "hop-thanh",
            "actor": "hoang-the-manh",
            "occurred_at": "2021-03-02T08:30:00+07:00",
            "type": "progress.reported",
            "expected_version": 3,
            "data": data
        })
    }

    fn read(value: &Value) -> Result<Submission, Unreadable> {
        parse_submission(value.to_string().as_bytes(), Some("hop-thanh"))
    }

    fn report() -> Value {
        json!({"task_id": "ndp-2021-07", "as_of": "2021-03-01",
               "values": [{"metric": "heads", "value": 394}], "percent_complete": 50})
    }

    #[test]
    fn the_contract_example_reads() {
        let s = read(&envelope(report())).expect("valid");
        assert_eq!(s.submission_id, "01HZX3K9Q6W2V7M8N4T5R1Y0AB");
        assert_eq!(s.expected_version, Some(3));
        assert_eq!(s.target_stream().to_string(), "task-ndp-2021-07");
    }

    #[test]
    fn an_unknown_data_field_is_malformed_and_named() {
        let mut data = report();
        data["confidance"] = json!("high");
        let e = read(&envelope(data)).expect_err("typo");
        assert_eq!(e.rejection.code, RejectionCode::Malformed);
        assert_eq!(e.rejection.field.as_deref(), Some("data.confidance"));
        assert_eq!(
            e.submission_id.as_deref(),
            Some("01HZX3K9Q6W2V7M8N4T5R1Y0AB")
        );
    }

    #[test]
    fn a_mistyped_value_is_malformed_at_its_path() {
        let mut data = report();
        data["values"][0]["value"] = json!("394");
        let e = read(&envelope(data)).expect_err("string for number");
        assert_eq!(e.rejection.code, RejectionCode::Malformed);
        assert_eq!(e.rejection.field.as_deref(), Some("data.values[0].value"));
    }

    #[test]
    fn a_bad_date_is_an_invalid_value() {
        let mut data = report();
        data["as_of"] = json!("2021-02-30");
        let e = read(&envelope(data)).expect_err("no such day");
        assert_eq!(e.rejection.code, RejectionCode::InvalidValue);
        assert_eq!(e.rejection.field.as_deref(), Some("data.as_of"));
    }

    #[test]
    fn a_missing_field_is_named() {
        let mut data = report();
        data.as_object_mut().map(|o| o.remove("as_of"));
        let e = read(&envelope(data)).expect_err("missing");
        assert_eq!(e.rejection.code, RejectionCode::Malformed);
        assert_eq!(e.rejection.field.as_deref(), Some("data.as_of"));
    }

    #[test]
    fn envelope_failures_have_their_codes() {
        let mut v = envelope(report());
        v["schema"] = json!("dotpha.submission.v2");
        assert_eq!(
            read(&v).expect_err("v2").rejection.code,
            RejectionCode::UnsupportedSchema
        );

        let mut v = envelope(report());
        v["type"] = json!("progress.reportd");
        assert_eq!(
            read(&v).expect_err("typo").rejection.code,
            RejectionCode::UnknownType
        );

        let mut v = envelope(report());
        v["unit"] = json!("phuc-ung");
        let e = read(&v).expect_err("other unit");
        assert_eq!(e.rejection.code, RejectionCode::UnitMismatch);
        assert_eq!(e.unit.as_ref().map(Slug::as_str), Some("phuc-ung"));

        let mut v = envelope(report());
        v["extra"] = json!(1);
        assert_eq!(
            read(&v).expect_err("extra").rejection.field.as_deref(),
            Some("extra")
        );

        let mut v = envelope(report());
        v["occurred_at"] = json!("2021-03-02 08:30");
        assert_eq!(
            read(&v).expect_err("no offset").rejection.code,
            RejectionCode::InvalidValue
        );

        let mut v = envelope(report());
        v["submission_id"] = json!("short");
        let e = read(&v).expect_err("bad id");
        assert_eq!(e.rejection.code, RejectionCode::Malformed);
        assert_eq!(e.submission_id, None);
    }

    #[test]
    fn garbage_is_malformed_without_an_id() {
        for bytes in [&b"\xff\xfe"[..], b"not json", b"[1,2]", b"{\"schema\": 1"] {
            let e = parse_submission(bytes, None).expect_err("garbage");
            assert_eq!(e.rejection.code, RejectionCode::Malformed);
        }
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            parse_submission(deep.as_bytes(), None)
                .expect_err("deep")
                .rejection
                .code,
            RejectionCode::Malformed
        );
        let huge = vec![b' '; MAX_SUBMISSION_BYTES + 1];
        assert_eq!(
            parse_submission(&huge, None)
                .expect_err("huge")
                .rejection
                .code,
            RejectionCode::Malformed
        );
    }

    #[test]
    fn parent_null_is_required_to_be_written() {
        let mut v =
            envelope(json!({"code": "son-duong", "name": "Huyện Sơn Dương", "kind": "district"}));
        v["type"] = json!("unit.registered");
        let e = read(&v).expect_err("parent missing");
        assert_eq!(e.rejection.field.as_deref(), Some("data.parent"));
    }

    #[test]
    fn text_is_stored_nfc() {
        let mut v = envelope(
            json!({"code": "dong-dien", "name": "Tho\u{302}n \u{110}o\u{302}\u{300}ng Die\u{302}\u{303}n",
                                    "kind": "village", "parent": "hop-thanh"}),
        );
        v["type"] = json!("unit.registered");
        let s = read(&v).expect("valid");
        let Payload::UnitRegistered(u) = s.payload else {
            panic!("wrong type")
        };
        assert_eq!(u.name.as_str(), "Thôn Đồng Diễn");
    }
}
