//! The committed schemas say what the server reads: every demo submission
//! and every example of the contract validates, and on the same inputs the
//! schemas and the server (`parse_submission`, then `decide` for the rules
//! it checks without the log's state) accept and refuse alike.
//!
//! Where the schema is knowingly looser than the server, a table row says
//! so, and why.

use std::{collections::BTreeMap, fs, path::Path};

use dotpha_demo::{DemoSubmission, demo};
use dotpha_domain::{EventType, RejectionCode, State, decide, parse_submission};
use dotpha_interop::{
    EVENT_PATH, RECEIPT_PATH, RECEIPT_REQUEST_PATH, SUBMISSION_PATH, submission_path,
};
use jsonschema::Validator;
use proptest::prelude::*;
use serde_json::{Value, json};

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// A validator of a committed schema, with `format` asserted (dates that do
/// not exist are refused, as the server refuses them).
fn committed(path: &str) -> Validator {
    let schema = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(path),
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path} is a valid JSON Schema: {e}"))
}

fn problems(validator: &Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect::<Vec<_>>()
        .join("; ")
}

struct Schemas {
    envelope: Validator,
    by_type: BTreeMap<EventType, Validator>,
}

impl Schemas {
    fn load() -> Schemas {
        Schemas {
            envelope: committed(SUBMISSION_PATH),
            by_type: EventType::ALL
                .into_iter()
                .map(|t| (t, committed(&submission_path(t))))
                .collect(),
        }
    }

    /// Whether the envelope schema accepts `submission`; when it has a known
    /// `type`, the type's own schema must say the same.
    fn accepts(&self, submission: &Value) -> bool {
        let verdict = self.envelope.is_valid(submission);
        if let Some(t) = submission["type"].as_str().and_then(EventType::parse) {
            assert_eq!(
                self.by_type[&t].is_valid(submission),
                verdict,
                "submission.v1.json and {} disagree on {submission}",
                submission_path(t)
            );
        }
        verdict
    }
}

fn body(s: &DemoSubmission) -> Value {
    serde_json::from_slice(&s.body).expect("demo bodies are JSON")
}

#[test]
fn every_demo_submission_validates_against_the_envelope_and_exactly_its_own_type() {
    let schemas = Schemas::load();
    let demo = demo();
    assert_eq!(demo.len(), 2025, "the whole demo data set");
    let mut seen = BTreeMap::new();
    for s in &demo {
        let value = body(s);
        let t = value["type"]
            .as_str()
            .and_then(EventType::parse)
            .expect("a contract type");
        *seen.entry(t).or_insert(0) += 1;
        assert!(
            schemas.envelope.is_valid(&value),
            "{}: {}",
            s.submission_id,
            problems(&schemas.envelope, &value)
        );
        for (other, validator) in &schemas.by_type {
            assert_eq!(
                validator.is_valid(&value),
                *other == t,
                "{} ({t}) against {}: {}",
                s.submission_id,
                submission_path(*other),
                problems(validator, &value)
            );
        }
    }
    // The demo is Sơn Dương's 2021 cycle, before evaluation by period
    // (CONTRACT part A); the contract's examples stand in for part A's
    // types (`the_contract_examples_validate`).
    let examples = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contract-examples.json"),
    );
    let exemplified: Vec<EventType> = examples["submissions"]
        .as_array()
        .expect("a list of examples")
        .iter()
        .filter_map(|s| s["type"].as_str().and_then(EventType::parse))
        .collect();
    for t in EventType::ALL {
        assert!(
            seen.contains_key(&t) || exemplified.contains(&t),
            "the demo or the contract's examples exercise {t}: {seen:?}"
        );
    }
}

#[test]
fn the_contract_examples_validate() {
    let examples = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contract-examples.json"),
    );
    let schemas = Schemas::load();
    for (group, validator) in [
        ("receipts", committed(RECEIPT_PATH)),
        ("events", committed(EVENT_PATH)),
        ("receipt_requests", committed(RECEIPT_REQUEST_PATH)),
    ] {
        let items = examples[group].as_array().expect("a list of examples");
        assert!(!items.is_empty());
        for item in items {
            assert!(
                validator.is_valid(item),
                "{group}: {item}: {}",
                problems(&validator, item)
            );
            // What the system emits may gain members; readers ignore them.
            let mut grown = item.clone();
            grown["added_in_a_later_release"] = json!(true);
            assert!(validator.is_valid(&grown), "{group} stays open: {grown}");
        }
    }
    for submission in examples["submissions"]
        .as_array()
        .expect("a list of examples")
    {
        assert!(
            schemas.accepts(submission),
            "{}",
            problems(&schemas.envelope, submission)
        );
        let unit = submission["unit"].as_str();
        assert!(parse_submission(submission.to_string().as_bytes(), unit).is_ok());
    }
}

/// The contract's example submission.
fn example() -> Value {
    json!({
        "schema": "dotpha.submission.v1",
        "submission_id": "01HZX3K9Q6W2V7M8N4T5R1Y0AB",
        "unit": "hop-thanh",
        "actor": "hoang-the-manh",
        "occurred_at": "2021-03-02T08:30:00+07:00",
        "type": "progress.reported",
        "expected_version": 3,
        "data": {"task_id": "ndp-2021-07", "as_of": "2021-03-01",
                 "values": [{"metric": "heads", "value": 394}], "percent_complete": 50,
                 "confidence": "high", "note": "Đồng Diễn"}
    })
}

/// Follows a path of object keys and array indexes into `value`.
fn at<'v>(value: &'v mut Value, path: &[&str]) -> &'v mut Value {
    path.iter()
        .fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) => &mut v[i],
            Err(_) => &mut v[*key],
        })
}

fn remove(value: &mut Value, path: &[&str]) {
    let (last, parent) = path.split_last().expect("a path");
    at(value, parent)
        .as_object_mut()
        .expect("an object")
        .remove(*last);
}

/// The server's verdict on a submission that reaches it on its unit's
/// subject: the rejection code, or `None` when it reads.
fn parse_verdict(submission: &Value) -> Option<RejectionCode> {
    let unit = submission["unit"].as_str().unwrap_or("hop-thanh");
    let parsed = match parse_submission(submission.to_string().as_bytes(), Some(unit)) {
        Ok(parsed) => parsed,
        Err(e) => return Some(e.rejection.code),
    };
    // The write-time limits that need no state: the admission step `decide`
    // ends with, on the stored (NFC) form.
    dotpha_domain::admit::admit_instant(&parsed.occurred_at, "occurred_at")
        .and_then(|()| dotpha_domain::admit::admit_data(&parsed.payload.to_data()))
        .err()
        .map(|r| r.code)
}

#[test]
fn unknown_fields_bad_values_and_missing_fields_are_refused_by_schema_and_server_alike() {
    use RejectionCode::*;
    let schemas = Schemas::load();
    type Change = fn(&mut Value);
    let table: &[(&str, Change, RejectionCode)] = &[
        (
            "unknown envelope field",
            |v| v["extra"] = json!(1),
            Malformed,
        ),
        (
            "unknown data field",
            |v| v["data"]["confidance"] = json!("high"),
            Malformed,
        ),
        (
            "unknown field in a list item",
            |v| v["data"]["values"][0]["unit"] = json!("head"),
            Malformed,
        ),
        (
            "bad slug: uppercase",
            |v| v["unit"] = json!("Hop-Thanh"),
            InvalidValue,
        ),
        (
            "bad slug: leading dash",
            |v| v["data"]["task_id"] = json!("-ndp"),
            InvalidValue,
        ),
        (
            "bad slug: a dot",
            |v| v["actor"] = json!("hoang.manh"),
            InvalidValue,
        ),
        (
            "bad slug: 65 characters",
            |v| v["data"]["values"][0]["metric"] = json!("a".repeat(65)),
            InvalidValue,
        ),
        ("bad slug: a number", |v| v["actor"] = json!(7), Malformed),
        (
            "missing envelope field",
            |v| remove(v, &["actor"]),
            Malformed,
        ),
        (
            "missing data field",
            |v| remove(v, &["data", "as_of"]),
            Malformed,
        ),
        ("missing schema", |v| remove(v, &["schema"]), Malformed),
        ("missing type", |v| remove(v, &["type"]), Malformed),
        ("missing data", |v| remove(v, &["data"]), Malformed),
        (
            "other schema",
            |v| v["schema"] = json!("dotpha.submission.v2"),
            UnsupportedSchema,
        ),
        (
            "unknown type",
            |v| v["type"] = json!("progress.reportd"),
            UnknownType,
        ),
        (
            "short submission id",
            |v| v["submission_id"] = json!("short"),
            Malformed,
        ),
        (
            "submission id with a space",
            |v| v["submission_id"] = json!("has space 123"),
            Malformed,
        ),
        (
            "date that does not exist",
            |v| v["data"]["as_of"] = json!("2021-02-29"),
            InvalidValue,
        ),
        (
            "date without zero padding",
            |v| v["data"]["as_of"] = json!("2021-3-1"),
            InvalidValue,
        ),
        (
            "instant without offset",
            |v| v["occurred_at"] = json!("2021-03-02T08:30:00"),
            InvalidValue,
        ),
        (
            "instant with a space",
            |v| v["occurred_at"] = json!("2021-03-02 08:30:00Z"),
            InvalidValue,
        ),
        (
            "negative expected version",
            |v| v["expected_version"] = json!(-1),
            InvalidValue,
        ),
        (
            "number as a string",
            |v| v["data"]["values"][0]["value"] = json!("394"),
            Malformed,
        ),
        (
            "enum value not in the list",
            |v| v["data"]["confidence"] = json!("certain"),
            Malformed,
        ),
        (
            "text too long",
            |v| v["data"]["note"] = json!("x".repeat(16 * 1024 + 1)),
            InvalidValue,
        ),
        (
            "data of another type",
            |v| v["data"] = json!({"cycle": "2021"}),
            Malformed,
        ),
        ("data not an object", |v| v["data"] = json!([]), Malformed),
    ];
    assert!(schemas.accepts(&example()), "the base case is valid");
    assert_eq!(parse_verdict(&example()), None);
    for (name, change, code) in table {
        let mut v = example();
        change(&mut v);
        assert!(!schemas.accepts(&v), "{name}: the schema accepts {v}");
        assert_eq!(parse_verdict(&v), Some(*code), "{name}: the server");
    }

    // A required text: empty or blank is refused, Unicode spaces included.
    let mut v = example();
    v["type"] = json!("task.cancelled");
    v["data"] = json!({"task_id": "ndp-2021-07", "reason": "Chuyển công tác"});
    assert!(schemas.accepts(&v));
    for blank in ["", " ", "\t\n", "\u{a0}\u{3000}", "\u{85}"] {
        v["data"]["reason"] = json!(blank);
        assert!(!schemas.accepts(&v), "{blank:?} is blank to the schema");
        assert_eq!(parse_verdict(&v), Some(InvalidValue), "{blank:?} is blank");
    }
    // U+FEFF is not White_Space: it is (odd, but) text to both.
    v["data"]["reason"] = json!("\u{feff}");
    assert!(schemas.accepts(&v));
    assert_eq!(parse_verdict(&v), None);

    // Edges of dates and instants: both sides read them alike.
    for instant in [
        "2016-12-31T23:59:60Z",
        "2017-01-01T06:59:60+07:00",
        "2021-03-02t08:30:00z",
        "2021-03-02T08:30:00.123456789-05:30",
        "2021-03-02T08:30:00.1234567891Z",
        "2021-03-02T08:30:00.Z",
        "2020-02-29T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2021-03-02T24:00:00Z",
        "2021-03-02T08:30:00+24:00",
        "2021-03-02T08:30:00+0700",
    ] {
        let mut v = example();
        v["occurred_at"] = json!(instant);
        assert_eq!(
            schemas.accepts(&v),
            parse_verdict(&v).is_none(),
            "{instant}: {}",
            problems(&schemas.envelope, &v)
        );
    }
    for date in [
        "2020-02-29",
        "2100-02-29",
        "2000-02-29",
        "0000-01-01",
        "0001-01-01",
        "9999-12-31",
        "2021-04-31",
        "2021-13-01",
    ] {
        let mut v = example();
        v["data"]["as_of"] = json!(date);
        assert_eq!(
            schemas.accepts(&v),
            parse_verdict(&v).is_none(),
            "{date}: {}",
            problems(&schemas.envelope, &v)
        );
    }

    // `parent` must be written, even when null.
    let mut v = example();
    v["type"] = json!("unit.registered");
    v["data"] =
        json!({"code": "dong-dien", "name": "Thôn Đồng Diễn", "kind": "village", "parent": null});
    assert!(schemas.accepts(&v));
    assert_eq!(parse_verdict(&v), None);
    remove(&mut v, &["data", "parent"]);
    assert!(!schemas.accepts(&v));
    assert_eq!(parse_verdict(&v), Some(Malformed));
}

/// Where the schema is knowingly looser than the server: JSON Schema counts
/// characters where the server counts UTF-8 bytes of the stored NFC form, an
/// instant's day and leap second are checked by pattern only (`format:
/// date-time` would refuse the leap seconds that happened), and JSON Schema calls 3.0 an integer where serde does not
/// read it as one. A publisher that passes the schema
/// can still be refused here; one that fails it is always refused.
#[test]
fn the_schema_is_looser_only_where_json_schema_cannot_say_the_rule() {
    let schemas = Schemas::load();
    let mut v = example();
    v["data"]["note"] = json!("ễ".repeat(16 * 1024));
    assert!(schemas.accepts(&v), "16384 characters pass the schema");
    assert_eq!(
        parse_verdict(&v),
        Some(RejectionCode::InvalidValue),
        "but 49152 bytes exceed the server's limit"
    );

    // Second 60 is a leap second only where the IERS inserted one; the
    // pattern cannot know where.
    let mut v = example();
    v["occurred_at"] = json!("2021-03-02T08:30:60+07:00");
    assert!(
        schemas.accepts(&v),
        "the instant's pattern allows second 60"
    );
    assert_eq!(parse_verdict(&v), Some(RejectionCode::InvalidValue));

    let mut v = example();
    v["occurred_at"] = json!("2021-02-29T08:30:00+07:00");
    assert!(
        schemas.accepts(&v),
        "the instant's pattern does not know month lengths"
    );
    assert_eq!(parse_verdict(&v), Some(RejectionCode::InvalidValue));

    let mut v = example();
    v["expected_version"] = json!(3.0);
    assert!(schemas.accepts(&v));
    assert_eq!(parse_verdict(&v), Some(RejectionCode::Malformed));
}

/// The demo, folded: for each demo submission, the state it was decided in.
fn demo_with_states() -> Vec<(DemoSubmission, State)> {
    let mut state = State::new();
    let mut out = Vec::new();
    for s in demo() {
        let submission = parse_submission(&s.body, Some(&s.unit)).expect("demo reads");
        let events = decide(&state, &submission).expect("demo is accepted");
        out.push((s, state.clone()));
        for event in &events {
            state.apply(event);
        }
    }
    out
}

/// Rules the server checks in `decide` without needing the log's state
/// (ranges, non-empty lists, score and rating agreeing), which the schema
/// states: the server refuses with `invalid_value` and so does the schema;
/// untouched, both accept.
#[test]
fn stateless_rules_of_decide_are_in_the_schema_too() {
    let schemas = Schemas::load();
    let demo = demo_with_states();
    type Change = fn(&mut Value) -> bool;
    let table: &[(&str, &str, Change)] = &[
        ("percent above 100", "progress.reported", |v| {
            v["data"]["percent_complete"] = json!(100.5);
            true
        }),
        ("percent below 0", "progress.reported", |v| {
            v["data"]["percent_complete"] = json!(-1);
            true
        }),
        ("score above 100", "task.evaluated", |v| {
            v["data"]["score"] = json!(101);
            v["data"].as_object_mut().map(|d| d.remove("rating"));
            true
        }),
        ("neither rating nor score", "task.evaluated", |v| {
            let d = v["data"].as_object_mut().expect("data");
            d.remove("rating");
            d.remove("score");
            true
        }),
        ("rating and score null", "task.evaluated", |v| {
            v["data"]["rating"] = Value::Null;
            v["data"]["score"] = Value::Null;
            true
        }),
        ("rating the score does not earn", "task.evaluated", |v| {
            let Some(score) = v["data"]["score"].as_f64() else {
                return false;
            };
            v["data"]["rating"] = json!(if score >= 90.0 { "good" } else { "excellent" });
            true
        }),
        ("plan without solutions", "plan.submitted", |v| {
            v["data"]["solutions"] = json!([]);
            true
        }),
        ("merge of no units", "unit.merged", |v| {
            v["data"]["from"] = json!([]);
            true
        }),
    ];
    for (name, event_type, change) in table {
        let mut checked = 0;
        for (s, state) in demo.iter().filter(|(s, _)| body(s)["type"] == *event_type) {
            let mut v = body(s);
            assert!(schemas.accepts(&v), "{}", s.submission_id);
            if !change(&mut v) {
                continue;
            }
            checked += 1;
            assert!(!schemas.accepts(&v), "{name}: the schema accepts {v}");
            let verdict = parse_submission(v.to_string().as_bytes(), Some(&s.unit))
                .map_err(|e| e.rejection)
                .and_then(|submission| decide(state, &submission));
            assert_eq!(
                verdict.err().map(|r| r.code),
                Some(RejectionCode::InvalidValue),
                "{name}: the server, on {}",
                s.submission_id
            );
        }
        assert!(checked > 0, "{name}: the demo has a {event_type} to change");
    }
}

/// Text that is sometimes a slug, a date, an instant, an id or blank, and
/// often almost one.
fn near_miss() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{0,66}",
        "[A-Za-z0-9_. -]{0,12}",
        "[A-Za-z0-9_-]{6,66}",
        "[0-9]{4}-[0-1][0-9]-[0-3][0-9]",
        "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}",
        "[0-9]{4}-[0-1][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,10})?([Zz]|[+-][0-2][0-9]:[0-6][0-9])?",
        "[ \t\n\u{a0}\u{85}\u{2028}\u{3000}\u{feff}]{0,3}",
        "\\PC{0,8}",
    ]
}

/// The string fields a mutation may hit, in three base submissions that
/// between them hold every kind of validated string.
fn targets() -> Vec<(Value, Vec<&'static str>)> {
    let mut cadre = example();
    cadre["type"] = json!("cadre.registered");
    cadre["data"] = json!({"id": "nguyen-van-a", "full_name": "Nguyễn Văn A", "unit": "hop-thanh",
                           "position": "Chủ tịch UBND xã", "party_member": true, "standing_committee": false});
    let mut plan = example();
    plan["type"] = json!("plan.submitted");
    plan["data"] = json!({"task_id": "ndp-2021-07", "solutions": ["Họp dân"],
                          "milestones": [{"title": "Xong", "due": "2021-06-30"}]});
    vec![
        (
            example(),
            vec![
                "unit",
                "actor",
                "occurred_at",
                "submission_id",
                "data.task_id",
                "data.as_of",
                "data.note",
                "data.values.0.metric",
                "data.confidence",
            ],
        ),
        (
            cadre,
            vec!["data.id", "data.full_name", "data.position", "data.unit"],
        ),
        (
            plan,
            vec![
                "data.solutions.0",
                "data.milestones.0.title",
                "data.milestones.0.due",
            ],
        ),
    ]
}

/// Why the schema accepts a string the server refuses, when the schema says
/// so itself (see `the_schema_is_looser_only_where_json_schema_cannot_say_the_rule`):
/// an instant naming second 60 (whether a leap second was inserted then is
/// in the IERS table, which no pattern holds) or an instant whose day does
/// not exist (the instant's pattern does not know month lengths).
fn knowingly_looser(text: &str) -> Option<&'static str> {
    let pattern = matches_pattern(&dotpha_domain::schema::timestamp_pattern());
    if !pattern(text) {
        return None;
    }
    if text.get(17..19) == Some("60") {
        return Some("second 60 names a leap second only on the dates of the IERS table");
    }
    if dotpha_domain::Date::parse(&text[..10]).is_none() {
        return Some("the instant's day does not exist");
    }
    None
}

/// Whether `text` matches `pattern`, by the same engine the schemas are
/// checked with (a one-property schema), so the test and the committed
/// schema cannot read the pattern differently.
fn matches_pattern(pattern: &str) -> impl Fn(&str) -> bool + use<> {
    let validator = jsonschema::options()
        .build(&json!({"type": "string", "pattern": pattern}))
        .expect("the timestamp pattern compiles");
    move |text| validator.is_valid(&json!(text))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any string in any validated field: the schema accepts exactly when
    /// the server reads the submission.
    #[test]
    fn schema_and_parser_agree_on_any_string_in_any_field(
        base in 0usize..3,
        field in 0usize..16,
        text in near_miss(),
    ) {
        thread_local! {
            static SCHEMAS: Schemas = Schemas::load();
        }
        let targets = targets();
        let (mut v, fields) = targets[base].clone();
        let path: Vec<&str> = fields[field % fields.len()].split('.').collect();
        *at(&mut v, &path) = json!(text);
        let server = parse_verdict(&v);
        let schema = SCHEMAS.with(|s| s.accepts(&v));
        let why = SCHEMAS.with(|s| problems(&s.envelope, &v));
        if schema && server.is_some() {
            // The schema may be looser, but only by a rule it documents.
            prop_assert!(
                knowingly_looser(&text).is_some(),
                "{:?} in {}: the schema accepts what the server refuses ({:?}) with no documented reason",
                text, path.join("."), server
            );
        } else {
            prop_assert_eq!(schema, server.is_none(), "{:?} in {}: server {:?}, schema: {}", text, path.join("."), server, why);
        }
    }
}
