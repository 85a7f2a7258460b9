//! JSON Schemas of the wire shapes, generated from the types that read them
//! (feature `schema`).
//!
//! The schemas state what the server enforces while reading a submission, so
//! a publisher in any language can check a submission before sending it. The
//! validated values ([`Slug`], [`Text`], [`Date`], ...) check themselves in
//! hand-written `Deserialize` impls, so their schemas are hand-written here
//! too, beside the constants the tests compare with the parsers. Where JSON
//! Schema cannot say a rule (a rule across fields, or one that needs the
//! log's state), the schema is looser and its `description` says so.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value, json};

use crate::{
    EventType, RejectionCode,
    payload::{
        AssessmentDecided, AssessmentSelfSubmitted, CadreRegistered, CycleClosed, CycleOpened,
        MilestoneCompleted, PeriodClosed, PeriodOpened, PlanSubmitted, ProductReviewed,
        ProgressReported, TaskApproved, TaskAssigned, TaskCancelled, TaskEvaluated, TaskReassigned,
        TaskRegistered, UnitMerged, UnitRegistered, WorkDelegated,
    },
    submission::{Envelope, SUBMISSION_SCHEMA},
    time::{Date, Timestamp},
    values::{MAX_TEXT_BYTES, RequiredText, Slug, Text},
    wire::{ALERT_SCHEMA, Alert, EVENT_SCHEMA, RECEIPT_SCHEMA, Receipt, RecordedEvent},
};

/// The JSON Schema dialect of every generated schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// `$id` prefix of the generated schemas. A URN, not a URL: the schemas are
/// files in the repository, not served anywhere, and no validator should try
/// to fetch them.
pub const ID_PREFIX: &str = "urn:dotpha:schema:";

/// [`Slug`]'s rule as a regular expression.
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,63}$";

/// A submission id's rule as a regular expression.
pub const SUBMISSION_ID_PATTERN: &str = "^[A-Za-z0-9_-]{8,64}$";

/// A lowercase hex SHA-256.
pub const HASH_PATTERN: &str = "^[0-9a-f]{64}$";

/// Matches text holding at least one character that Rust's `str::trim` would
/// keep: the complement of Unicode `White_Space`, spelled out so that
/// ECMA-262, Rust and Python regular expressions read it alike (their `\s`
/// differ at U+0085 and U+FEFF).
pub const NOT_BLANK_PATTERN: &str =
    r"[^\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// Year 0001 to 9999, month 01 to 12, day 01 to 31; which days a month has
/// is left to `format: date` (the pattern would be unreadable).
const DATE_PART: &str = "([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])";

/// [`Date`]'s rule as a regular expression (day-of-month aside).
pub fn date_pattern() -> String {
    format!("^{DATE_PART}$")
}

/// [`Timestamp`]'s rule as a regular expression (day-of-month aside): RFC
/// 3339 with an offset, a second of 60 for a leap second, at most nine
/// fraction digits.
pub fn timestamp_pattern() -> String {
    format!(
        "^{DATE_PART}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{{1,9}})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )
}

impl JsonSchema for Slug {
    fn schema_name() -> Cow<'static, str> {
        "Slug".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": SLUG_PATTERN,
            "description": "A lowercase ASCII identifier (unit code, cadre id, task id, cycle, metric key): letters, digits and '-', 1 to 64, not starting with '-'. Safe as a NATS subject token."
        })
    }
}

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "maxLength": MAX_TEXT_BYTES,
            "description": format!("Human text, may be empty; stored NFC-normalized. The server's limit is {MAX_TEXT_BYTES} bytes of UTF-8; JSON Schema counts characters, so `maxLength` only states the looser limit of {MAX_TEXT_BYTES} characters.")
        })
    }
}

impl JsonSchema for RequiredText {
    fn schema_name() -> Cow<'static, str> {
        "RequiredText".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TEXT_BYTES,
            "pattern": NOT_BLANK_PATTERN,
            "description": format!("Human text that says something: not empty and not only whitespace; stored NFC-normalized. The server's limit is {MAX_TEXT_BYTES} bytes of UTF-8; `maxLength` only states the looser limit of {MAX_TEXT_BYTES} characters.")
        })
    }
}

impl JsonSchema for Date {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date",
            "pattern": date_pattern(),
            "description": "A calendar date, exactly YYYY-MM-DD, years 0001 to 9999; the day must exist (2021-02-29 does not)."
        })
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": timestamp_pattern(),
            "description": "An RFC 3339 instant with an offset (Z or ±HH:MM), e.g. 2021-03-02T08:30:00+07:00; at most nine fraction digits; a second of 60 is read as 59.999. The day must exist (2021-02-29 does not), which the pattern leaves to the server. No `format: date-time`: validators that assert it refuse a leap second anywhere but 23:59:60 UTC, which the server reads."
        })
    }
}

impl JsonSchema for EventType {
    fn schema_name() -> Cow<'static, str> {
        "EventType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        json_schema!({
            "type": "string",
            "enum": names,
            "description": "A submission or event type of the contract."
        })
    }
}

impl JsonSchema for RejectionCode {
    fn schema_name() -> Cow<'static, str> {
        "RejectionCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = RejectionCode::ALL.iter().map(|c| c.as_str()).collect();
        json_schema!({
            "type": "string",
            "enum": codes,
            "description": "Why a submission was rejected."
        })
    }
}

/// `schema` of a submission: exactly [`SUBMISSION_SCHEMA`].
pub(crate) fn submission_schema_tag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "const": SUBMISSION_SCHEMA,
        "description": "The envelope's version; any other value is rejected as `unsupported_schema`."
    })
}

/// `schema` of an event object: exactly [`EVENT_SCHEMA`].
pub(crate) fn event_schema_tag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": EVENT_SCHEMA })
}

/// `schema` of an alert: exactly [`ALERT_SCHEMA`].
pub(crate) fn alert_schema_tag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": ALERT_SCHEMA })
}

/// `schema` of a receipt: exactly [`RECEIPT_SCHEMA`].
pub(crate) fn receipt_schema_tag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": RECEIPT_SCHEMA })
}

/// A slug or null, for an optional key that must still be written.
pub(crate) fn slug_or_null(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({ "anyOf": [generator.subschema_for::<Slug>(), { "type": "null" }] })
}

/// A submission id: the publisher's idempotency key.
pub(crate) fn submission_id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": SUBMISSION_ID_PATTERN,
        "description": "Chosen by the publisher (a ULID or UUID), unique forever: the idempotency key, also sent as the `Nats-Msg-Id` header."
    })
}

/// A lowercase hex SHA-256.
pub(crate) fn hash(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "pattern": HASH_PATTERN })
}

/// An event's `data`: the data of the submission of the same type.
pub(crate) fn event_data(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "The data of the accepted submission of the same `type` (see submission/<type>.json), normalized: text NFC, and `task.evaluated` always carries `rating` (derived from `score` when only a score was sent). `assessment.decided` also carries what the writer computed from the log at that moment (CONTRACT part A): `scheme` (\"nd335-2025\"), `products` ([{task_id, milestone (title or null), due, done_on (date or null), q, l, p}]), `task_points`, `total`, `ceiling` and `rating`."
    })
}

/// The data type of each submission type, as a schema (a `$ref` into the
/// generator's definitions).
fn data_schema(event_type: EventType, generator: &mut SchemaGenerator) -> Schema {
    match event_type {
        EventType::UnitRegistered => generator.subschema_for::<UnitRegistered>(),
        EventType::UnitMerged => generator.subschema_for::<UnitMerged>(),
        EventType::CadreRegistered => generator.subschema_for::<CadreRegistered>(),
        EventType::CycleOpened => generator.subschema_for::<CycleOpened>(),
        EventType::TaskRegistered => generator.subschema_for::<TaskRegistered>(),
        EventType::TaskApproved => generator.subschema_for::<TaskApproved>(),
        EventType::TaskAssigned => generator.subschema_for::<TaskAssigned>(),
        EventType::PlanSubmitted => generator.subschema_for::<PlanSubmitted>(),
        EventType::WorkDelegated => generator.subschema_for::<WorkDelegated>(),
        EventType::ProgressReported => generator.subschema_for::<ProgressReported>(),
        EventType::TaskReassigned => generator.subschema_for::<TaskReassigned>(),
        EventType::TaskCancelled => generator.subschema_for::<TaskCancelled>(),
        EventType::TaskEvaluated => generator.subschema_for::<TaskEvaluated>(),
        EventType::CycleClosed => generator.subschema_for::<CycleClosed>(),
        EventType::PeriodOpened => generator.subschema_for::<PeriodOpened>(),
        EventType::PeriodClosed => generator.subschema_for::<PeriodClosed>(),
        EventType::MilestoneCompleted => generator.subschema_for::<MilestoneCompleted>(),
        EventType::ProductReviewed => generator.subschema_for::<ProductReviewed>(),
        EventType::AssessmentSelfSubmitted => generator.subschema_for::<AssessmentSelfSubmitted>(),
        EventType::AssessmentDecided => generator.subschema_for::<AssessmentDecided>(),
    }
}

/// The name of the definition holding the whole submission of one type, in
/// `submission.v1.json`'s `$defs`: `ProgressReportedSubmission`.
fn submission_def_name(event_type: EventType) -> String {
    let camel: String = event_type
        .as_str()
        .split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}Submission")
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().into_generator()
}

/// The envelope with `type` fixed to `event_type` and `data` of its type.
fn typed_envelope(event_type: EventType, generator: &mut SchemaGenerator) -> Value {
    let data = data_schema(event_type, generator);
    let mut envelope = Envelope::json_schema(generator).to_value();
    if let Some(properties) = envelope
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        properties.insert(
            "type".to_owned(),
            json!({ "const": event_type.as_str(), "description": "The submission's type." }),
        );
        properties.insert("data".to_owned(), data.to_value());
    }
    if let Some(object) = envelope.as_object_mut() {
        object.insert(
            "title".to_owned(),
            json!(format!("dotpha {} submission, v1", event_type.as_str())),
        );
    }
    envelope
}

/// Puts `$schema`, `$id` and the definitions `body` uses (the generator's
/// and `extra`) around `body`.
fn root(
    id: &str,
    body: Value,
    generator: &mut SchemaGenerator,
    extra: Map<String, Value>,
) -> Value {
    let mut object = Map::new();
    object.insert("$schema".to_owned(), json!(DIALECT));
    object.insert("$id".to_owned(), json!(format!("{ID_PREFIX}{id}")));
    if let Value::Object(body) = body {
        object.extend(body);
    }
    let mut definitions = generator.take_definitions(true);
    definitions.extend(extra);
    let mut kept = Map::new();
    // Keep only the definitions the document reaches: building the typed
    // envelope registers some (the generic `type`) that it then replaces.
    let mut pending = Vec::new();
    collect_refs(&Value::Object(object.clone()), &mut pending);
    while let Some(name) = pending.pop() {
        if kept.contains_key(&name) {
            continue;
        }
        if let Some(definition) = definitions.get(&name) {
            collect_refs(definition, &mut pending);
            kept.insert(name, definition.clone());
        }
    }
    if !kept.is_empty() {
        object.insert("$defs".to_owned(), Value::Object(kept));
    }
    Value::Object(object)
}

/// The names of the local definitions `value` refers to (`#/$defs/<name>`).
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            out.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(item, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// The schema of a whole submission of one type (envelope and data),
/// self-contained: `submission/<type>.json`.
pub fn submission_schema(event_type: EventType) -> Value {
    let mut generator = generator();
    let body = typed_envelope(event_type, &mut generator);
    root(
        &format!("submission.v1:{}", event_type.as_str()),
        body,
        &mut generator,
        Map::new(),
    )
}

/// The schema of any submission: one of the typed submissions, told apart
/// by `type`; self-contained: `submission.v1.json`.
pub fn envelope_schema() -> Value {
    let mut generator = generator();
    let mut branches = Vec::new();
    let mut typed = Map::new();
    for event_type in EventType::ALL {
        let name = submission_def_name(event_type);
        typed.insert(name.clone(), typed_envelope(event_type, &mut generator));
        branches.push(json!({ "$ref": format!("#/$defs/{name}") }));
    }
    let mut body = Envelope::json_schema(&mut generator).to_value();
    if let Some(object) = body.as_object_mut() {
        object.insert("title".to_owned(), json!("dotpha submission, v1"));
        object.insert("oneOf".to_owned(), Value::Array(branches));
    }
    root("submission.v1", body, &mut generator, typed)
}

/// The schema of a receipt: `receipt.v1.json`. Open: receipts may gain
/// members, and readers ignore the ones they do not know.
pub fn receipt_schema() -> Value {
    let mut generator = generator();
    let body = Receipt::json_schema(&mut generator).to_value();
    root("receipt.v1", body, &mut generator, Map::new())
}

/// The schema of a reminder on `DOTPHA_ALERTS`: `alert.v1.json`. Open,
/// like the receipt.
pub fn alert_schema() -> Value {
    let mut generator = generator();
    let body = Alert::json_schema(&mut generator).to_value();
    root("alert.v1", body, &mut generator, Map::new())
}

/// The schema of an event object: `event.v1.json`. Open, like the receipt.
pub fn event_schema() -> Value {
    let mut generator = generator();
    let body = RecordedEvent::json_schema(&mut generator).to_value();
    root("event.v1", body, &mut generator, Map::new())
}

/// The body of a request on `dotpha.v1.receipt.get`, and the error it may
/// be answered with instead of a receipt: `receipt-request.v1.json`.
pub fn receipt_request_schema() -> Value {
    let mut generator = generator();
    let id = submission_id(&mut generator).to_value();
    let mut unit = generator.subschema_for::<Slug>().to_value();
    if let Some(unit) = unit.as_object_mut() {
        unit.insert(
            "description".into(),
            json!("The unit asking (optional): a receipt is private to the unit it was decided for, so the answer is this unit's own: its decision, or its refusal (already_exists, field submission_id) of an id decided for another unit. A reply going to `_INBOX_<unit>.` asks as that unit."),
        );
    }
    let body = json!({
        "title": "dotpha receipt request, v1",
        "description": "Asks the log for the receipt of a submission. The answer is a receipt (receipt.v1.json), or {\"error\": {\"code\", \"message\"}} with code `malformed` (no submission_id), `not_found` (not decided yet), `forbidden` (a unit other than the reply inbox's) or `unavailable`.",
        "type": "object",
        "properties": { "submission_id": id, "unit": unit },
        "required": ["submission_id"]
    });
    root("receipt-request.v1", body, &mut generator, Map::new())
}

/// A submission's `data` before its type is known: some object.
pub(crate) fn event_data_in(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "The data of the submission's `type`."
    })
}

/// `task.evaluated`: a rating, a score, or both (not null).
pub(crate) fn rating_or_score() -> Value {
    json!([
        { "required": ["rating"], "properties": { "rating": { "type": "string" } } },
        { "required": ["score"], "properties": { "score": { "type": "number" } } }
    ])
}

/// `task.evaluated`: when both `rating` and `score` are given, the rating is
/// the one the score earns.
pub(crate) fn rating_agrees_with_score() -> Value {
    let band = |rating: &str, range: Value| {
        json!({
            "if": { "required": ["rating", "score"], "properties": { "rating": { "const": rating } } },
            "then": { "properties": { "score": range } }
        })
    };
    json!([
        band("excellent", json!({ "minimum": 90 })),
        band("good", json!({ "minimum": 70, "exclusiveMaximum": 90 })),
        band(
            "completed",
            json!({ "minimum": 50, "exclusiveMaximum": 70 })
        ),
        band("not_completed", json!({ "exclusiveMaximum": 50 })),
    ])
}
