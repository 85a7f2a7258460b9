//! Whatever the log holds, every reader accepts (issue 10, item 1; CONTRACT.md
//! part C, "text limits hold for what is stored").
//!
//! Every text field of every submission type gets strings whose NFC form
//! (what the log stores) is longer or shorter than what was sent:
//! composition exclusions of several scripts, Vietnamese typed decomposed,
//! Hangul jamo that compose, sized around `MAX_TEXT_BYTES`. Each goes
//! through the real writer's path (parse, decide, append to a real SQLite
//! log) and then through every reader: the log reopened and verified, the
//! writer's fold at start, the projection's rebuild into a read model, the
//! read model's queries, and `dotpha audit`. Either the submission is
//! rejected with `invalid_value` at its field, or every one of them
//! succeeds.

use std::{path::Path, process::Command};

use dotpha_domain::{
    Payload, RejectionCode, Slug, Timestamp, admit::MAX_EVENT_DATA_BYTES, payload::UnitRegistered,
    text::nfc, values::MAX_TEXT_BYTES, vocabulary::UnitKind,
};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome, ReceiptStatus};
use proptest::prelude::*;
use serde_json::{Value, json};

const OCCURRED_AT: &str = "2021-03-02T08:30:00+07:00";
const ROOT: &str = "son-duong";
const COMMUNE: &str = "hop-thanh";
const OTHER_COMMUNE: &str = "phuc-ung";
const BOOTSTRAP: &str = "khoi-tao";
const DISTRICT_SC: &str = "tran-van-binh";
const CHAIR: &str = "hoang-the-manh";
const CADRE: &str = "le-van-tuan";
const REGISTERED: &str = "ht-moi-truong";
const ASSIGNED: &str = "ht-ton-dong";

fn submission(n: usize, unit: &str, actor: &str, kind: &str, data: Value) -> Value {
    json!({
        "schema": "dotpha.submission.v1",
        "submission_id": format!("readers-{n:04}"),
        "unit": unit,
        "actor": actor,
        "occurred_at": OCCURRED_AT,
        "type": kind,
        "data": data,
    })
}

fn target() -> Value {
    json!([{"metric": "ho-phan-loai", "label": "Hộ phân loại rác tại nguồn",
            "unit": "hộ", "baseline": 0, "target": 180, "min": 0}])
}

/// One submission of every type with text, in an order the rules accept:
/// each is accepted on top of the ones before it.
fn history() -> Vec<Value> {
    let s = |n, unit, actor, kind, data| submission(n, unit, actor, kind, data);
    vec![
        s(
            0,
            ROOT,
            BOOTSTRAP,
            "unit.registered",
            json!({"code": ROOT, "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
        ),
        s(
            1,
            ROOT,
            BOOTSTRAP,
            "unit.registered",
            json!({"code": COMMUNE, "name": "Xã Hợp Thành", "kind": "commune", "parent": ROOT}),
        ),
        s(
            2,
            ROOT,
            BOOTSTRAP,
            "unit.registered",
            json!({"code": OTHER_COMMUNE, "name": "Xã Phúc Ứng", "kind": "commune", "parent": ROOT}),
        ),
        s(
            3,
            ROOT,
            BOOTSTRAP,
            "cadre.registered",
            json!({"id": DISTRICT_SC, "full_name": "Trần Văn Bình", "unit": ROOT,
                 "position": "Phó Bí thư Thường trực Huyện ủy", "party_member": true,
                 "standing_committee": true}),
        ),
        s(
            4,
            ROOT,
            DISTRICT_SC,
            "cadre.registered",
            json!({"id": CHAIR, "full_name": "Hoàng Thế Mạnh", "unit": COMMUNE,
                 "position": "Chủ tịch UBND xã", "party_member": true,
                 "standing_committee": false}),
        ),
        s(
            5,
            ROOT,
            DISTRICT_SC,
            "cadre.registered",
            json!({"id": CADRE, "full_name": "Lê Văn Tuấn", "unit": COMMUNE,
                 "position": "Công chức Văn hóa – Xã hội", "party_member": true,
                 "standing_committee": false}),
        ),
        s(
            6,
            ROOT,
            DISTRICT_SC,
            "cycle.opened",
            json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
        ),
        s(
            7,
            COMMUNE,
            CHAIR,
            "task.registered",
            json!({"task_id": REGISTERED, "cycle": "2021",
                 "title": "Đạt tiêu chí số 17 – Môi trường", "kind": "breakthrough",
                 "category": "Nông thôn mới", "due": "2021-12-15", "targets": target(),
                 "description": "Thí điểm phân loại rác tại thôn Đồng Diễn"}),
        ),
        s(
            8,
            ROOT,
            DISTRICT_SC,
            "task.approved",
            json!({"task_id": REGISTERED, "comment": "Đồng ý"}),
        ),
        s(
            9,
            ROOT,
            DISTRICT_SC,
            "task.assigned",
            json!({"task_id": ASSIGNED, "cycle": "2021", "assignee": CADRE,
                 "title": "Giải quyết dứt điểm việc tồn đọng", "kind": "difficult",
                 "category": "Xây dựng Đảng", "due": "2021-11-30", "targets": target(),
                 "origin": "backlog", "backlog_ref": "Tồn đọng 2020",
                 "description": "Rà soát hồ sơ tồn đọng"}),
        ),
        s(
            10,
            COMMUNE,
            CHAIR,
            "plan.submitted",
            json!({"task_id": REGISTERED,
                 "solutions": ["Ký cam kết với các cơ sở", "Thu gom rác hữu cơ"],
                 "milestones": [{"title": "Hoàn thành ký cam kết", "due": "2021-06-30"}]}),
        ),
        s(
            11,
            COMMUNE,
            CHAIR,
            "work.delegated",
            json!({"task_id": REGISTERED, "delegation_id": "thu-gom", "to": CADRE,
                 "description": "Hướng dẫn hộ gia đình phân loại rác", "due": "2021-09-30"}),
        ),
        s(
            12,
            COMMUNE,
            CHAIR,
            "progress.reported",
            json!({"task_id": REGISTERED, "as_of": "2021-03-01",
                 "values": [{"metric": "ho-phan-loai", "value": 40}],
                 "confidence": "medium", "note": "Đúng tiến độ"}),
        ),
        s(
            13,
            ROOT,
            DISTRICT_SC,
            "task.reassigned",
            json!({"task_id": ASSIGNED, "assignee": CHAIR, "reason": "Điều động công tác"}),
        ),
        s(
            14,
            ROOT,
            DISTRICT_SC,
            "task.cancelled",
            json!({"task_id": ASSIGNED, "reason": "Không còn phù hợp"}),
        ),
        s(
            15,
            ROOT,
            DISTRICT_SC,
            "task.evaluated",
            json!({"task_id": REGISTERED, "rating": "good", "comment": "Hoàn thành tốt"}),
        ),
        s(
            16,
            ROOT,
            DISTRICT_SC,
            "unit.merged",
            json!({"into": COMMUNE, "from": [OTHER_COMMUNE], "effective_on": "2025-07-01",
                 "legal_basis": "Nghị quyết 1684/NQ-UBTVQH15"}),
        ),
    ]
}

/// Every text field of every submission type: its submission in
/// [`history`] and its path.
const TEXT_FIELDS: &[(usize, &str)] = &[
    (0, "data.name"),
    (3, "data.full_name"),
    (3, "data.position"),
    (7, "data.title"),
    (7, "data.category"),
    (7, "data.description"),
    (7, "data.targets[0].label"),
    (7, "data.targets[0].unit"),
    (8, "data.comment"),
    (9, "data.title"),
    (9, "data.category"),
    (9, "data.backlog_ref"),
    (9, "data.description"),
    (9, "data.targets[0].label"),
    (9, "data.targets[0].unit"),
    (10, "data.solutions[1]"),
    (10, "data.milestones[0].title"),
    (11, "data.description"),
    (12, "data.note"),
    (13, "data.reason"),
    (14, "data.reason"),
    (15, "data.comment"),
    (16, "data.legal_basis"),
];

/// Sets the member at a path like `data.targets[0].label`.
fn set(value: &mut Value, path: &str, text: &str) {
    let mut at = value;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = &mut at[name];
        if let Some(i) = index {
            at = &mut at[i];
        }
    }
    *at = Value::String(text.to_owned());
}

fn recorded_at() -> Timestamp {
    Timestamp::parse("2021-03-02T01:30:00.000Z").expect("instant")
}

/// Sends `history` with `text` at `field` through the writer's path, then
/// reads the log back with every reader. Panics when a reader fails.
fn run(field: (usize, &str), text: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut ledger = Ledger::open(&path).expect("a new log");
    let stored = nfc(text);
    let (target, at) = field;
    for (n, mut submission) in history().into_iter().enumerate() {
        if n == target {
            set(&mut submission, at, text);
        }
        let unit = submission["unit"].as_str().map(str::to_owned);
        let arrival =
            Arrival::read(submission.to_string().as_bytes(), unit.as_deref(), None).expect("read");
        let receipt = ledger
            .submit_batch(vec![arrival], &recorded_at())
            .expect("committed")
            .remove(0);
        if n != target {
            assert_eq!(
                receipt.status,
                ReceiptStatus::Accepted,
                "history step {n}: {receipt:?}"
            );
            continue;
        }
        if receipt.status == ReceiptStatus::Rejected {
            let error = receipt.error.expect("a rejection says why");
            assert_eq!(
                error.code,
                RejectionCode::InvalidValue.as_str(),
                "{error:?}"
            );
            assert_eq!(error.field.as_deref(), Some(at), "{error:?}");
            assert!(
                stored.len() > MAX_TEXT_BYTES,
                "{at}: {} bytes stored fit the limit, yet rejected: {error:?}",
                stored.len()
            );
            // What follows may depend on it; the log as it stands is read.
            break;
        }
        assert!(
            stored.len() <= MAX_TEXT_BYTES,
            "{at}: {} bytes stored, over the limit, yet accepted",
            stored.len()
        );
    }
    drop(ledger);
    read_back(dir.path(), Some(&stored));
}

/// Every reader of the log: verify, the writer's fold at start, the
/// projection's rebuild, the read model's queries, `dotpha audit`. When
/// `stored` is given and was accepted, the read model holds it.
fn read_back(dir: &Path, stored: Option<&str>) {
    let path = dir.join("log.sqlite");
    let log = Log::open_read_only(&path).expect("the log reopens");
    let head = log.head().position;
    let report = log.verify(None).expect("verify runs");
    assert!(report.ok, "verify: {report:?}");
    let state = log.load_state().expect("the writer's fold reads the log");
    assert_eq!(state.events_applied(), head);
    drop(log);
    // The writer reopens it as at a restart.
    let ledger = Ledger::open(&path).expect("the writer starts on this log");
    assert_eq!(ledger.log().head().position, head);
    drop(ledger);

    let rebuilt = dotpha_project::rebuild(dir, "main", |_, _| {}).expect("the projection");
    assert_eq!(rebuilt.events, head);
    let read = dotpha_project::open_for_reading(dir, "main").expect("the read model");
    assert_eq!(read.applied().position, head);
    if head > 7 {
        let now = recorded_at().unix_millis();
        let task = read
            .task(REGISTERED, now)
            .expect("query")
            .expect("the task");
        if let Some(stored) = stored
            && stored.len() <= MAX_TEXT_BYTES
            && task.summary.title.len() > 100
        {
            assert_eq!(
                task.summary.title, stored,
                "the read model holds the stored form"
            );
        }
        // Each task's history, once its first event is in the log.
        for (task_id, _) in [(REGISTERED, 7), (ASSIGNED, 9)]
            .into_iter()
            .filter(|(_, step)| head > *step)
        {
            let audit = Command::new(env!("CARGO_BIN_EXE_dotpha"))
                .args(["audit", task_id, "--data"])
                .arg(dir)
                .output()
                .expect("dotpha audit runs");
            assert!(
                audit.status.success(),
                "dotpha audit {task_id}: {}",
                String::from_utf8_lossy(&audit.stderr)
            );
        }
    }
}

/// Pieces of text whose NFC form is longer (composition exclusions) or
/// shorter (combining sequences, Hangul jamo) than what was sent.
const PIECES: &[&str] = &[
    "\u{0958}",                 // Devanagari QA: 3 bytes, 6 stored
    "\u{095F}",                 // Devanagari YYA
    "\u{09DC}",                 // Bengali RRA
    "\u{0A33}",                 // Gurmukhi LLA
    "\u{0B5C}",                 // Oriya RRA
    "\u{0F73}",                 // Tibetan II
    "\u{FB2C}",                 // Hebrew SHIN WITH DAGESH AND SHIN DOT
    "\u{FB1D}",                 // Hebrew YOD WITH HIRIQ
    "\u{2ADC}",                 // FORKING
    "\u{1D15E}",                // musical half note: 4 bytes, 8 stored
    "\u{1D160}",                // musical eighth note: 4 bytes, 12 stored
    "\u{0344}",                 // combining Greek dialytika tonos
    "e\u{0302}\u{0303}",        // Vietnamese ễ typed decomposed: 5 bytes, 3 stored
    "o\u{031B}\u{0323}",        // ợ
    "a\u{0306}\u{0301}",        // ắ
    "D\u{0323}",                // Ḍ
    "\u{1100}\u{1161}\u{11A8}", // Hangul jamo 각: 9 bytes, 3 stored
    "\u{1112}\u{1161}",         // 하
    "Đồng Diễn ",               // already NFC
    "a",
];

/// A string of `pieces` repeated so that its NFC form is within a few
/// pieces of `MAX_TEXT_BYTES` (below, at or above), plus an ASCII pad.
fn sized(pieces: &[usize], delta: i64, pad: usize) -> String {
    let unit: String = pieces.iter().map(|&i| PIECES[i]).collect();
    let stored = nfc(&unit).len().max(1);
    let times = (MAX_TEXT_BYTES / stored) as i64 + delta;
    let mut text = unit.repeat(times.max(1) as usize);
    text.push_str(&"x".repeat(pad));
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_reader_reads_what_was_accepted(
        field in 0..TEXT_FIELDS.len(),
        pieces in proptest::collection::vec(0..PIECES.len(), 1..4),
        delta in -2i64..=2,
        pad in 0usize..8,
    ) {
        run(TEXT_FIELDS[field], &sized(&pieces, delta, pad));
    }
}

/// Each text field, with a string that NFC lengthens to just under and just
/// over the limit, and one NFC shortens from over to under it.
#[test]
fn every_text_field_is_checked_on_its_stored_form() {
    let qa = |n: usize| "\u{0958}".repeat(n);
    for field in TEXT_FIELDS {
        // 6 bytes stored each: 16,380 bytes fit, 16,386 do not.
        run(*field, &qa(MAX_TEXT_BYTES / 6));
        run(*field, &qa(MAX_TEXT_BYTES / 6 + 1));
        // 5 bytes sent, 3 stored each: over the limit as sent, under it stored.
        run(*field, &"e\u{0302}\u{0303}".repeat(MAX_TEXT_BYTES / 3));
    }
}

/// Issue 10's input: `unit.registered` whose name is U+0958 × 5,461 (16,383
/// bytes as sent, 32,766 stored) is rejected at `data.name`, and the log
/// stays readable by all.
#[test]
fn the_issues_name_is_rejected_and_the_system_goes_on() {
    run((0, "data.name"), &"\u{0958}".repeat(5461));
}

/// A log written before the limits were checked on the stored form holds
/// such a name: every reader still accepts it (what the log holds, every
/// reader accepts), and the writer starts on it.
#[test]
fn a_log_already_holding_an_over_long_text_is_read_by_every_reader() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut log = Log::open(&path).expect("a new log");
    let name = nfc(&"\u{0958}".repeat(5461));
    assert_eq!(name.len(), 32_766);
    let occurred_at = Timestamp::parse(OCCURRED_AT).expect("instant");
    let root = Slug::parse(ROOT).expect("slug");
    let payload = Payload::UnitRegistered(UnitRegistered {
        code: root.clone(),
        name: dotpha_domain::values::RequiredText::new(&name).expect("not blank"),
        kind: UnitKind::District,
        parent: None,
        valid_from: None,
    });
    let actor = Slug::parse(BOOTSTRAP).expect("slug");
    let event = dotpha_domain::Event {
        stream: payload.stream(&actor).to_string(),
        version: 1,
        unit: root,
        actor,
        occurred_at,
        submission_id: "readers-old-0001".to_owned(),
        payload,
    };
    assert!(MAX_EVENT_DATA_BYTES > name.len());
    log.append_batch(
        &[Decision {
            submission_id: "readers-old-0001".to_owned(),
            unit: Some(ROOT.to_owned()),
            outcome: Outcome::Accepted(vec![event]),
            submission: None,
        }],
        &recorded_at(),
    )
    .expect("appended as an older writer did");
    drop(log);
    read_back(dir.path(), None);
    // And the writer goes on deciding on top of it.
    let mut ledger = Ledger::open(&path).expect("the writer starts");
    let next = submission(
        1,
        ROOT,
        BOOTSTRAP,
        "unit.registered",
        json!({"code": COMMUNE, "name": "Xã Hợp Thành", "kind": "commune", "parent": ROOT}),
    );
    let arrival = Arrival::read(next.to_string().as_bytes(), Some(ROOT), None).expect("read");
    let receipt = ledger
        .submit_batch(vec![arrival], &recorded_at())
        .expect("committed")
        .remove(0);
    assert_eq!(receipt.status, ReceiptStatus::Accepted, "{receipt:?}");
}

/// A log written before leap seconds were checked holds a task event at
/// `08:30:60+07:00`, a second that never was. Every reader still reads it,
/// and `dotpha audit` shows it exactly as stored and hashed, never as
/// another instant (`08:30:59`).
#[test]
fn an_instant_the_log_holds_is_shown_exactly_as_stored() {
    const NOT_A_LEAP_SECOND: &str = "2021-03-02T08:30:60+07:00";
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut log = Log::open(&path).expect("a new log");
    let mut state = dotpha_domain::State::new();
    for (n, submission) in history().into_iter().take(8).enumerate() {
        let unit = submission["unit"].as_str().map(str::to_owned);
        let parsed =
            dotpha_domain::parse_submission(submission.to_string().as_bytes(), unit.as_deref())
                .expect("reads");
        let mut events = dotpha_domain::decide(&state, &parsed).expect("accepted");
        if n == 7 {
            // What an older writer, which did not check the second, stored.
            events[0].occurred_at = Timestamp::parse(NOT_A_LEAP_SECOND).expect("grammar");
        }
        for event in &events {
            state.apply(event);
        }
        log.append_batch(
            &[Decision {
                submission_id: parsed.submission_id.clone(),
                unit: unit.clone(),
                outcome: Outcome::Accepted(events),
                submission: None,
            }],
            &recorded_at(),
        )
        .expect("appended");
    }
    drop(log);
    read_back(dir.path(), None);
    let audit = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["audit", REGISTERED, "--data"])
        .arg(dir.path())
        .output()
        .expect("dotpha audit runs");
    let shown = String::from_utf8_lossy(&audit.stdout);
    assert!(shown.contains(NOT_A_LEAP_SECOND), "{shown}");
    assert!(!shown.contains("08:30:59"), "{shown}");
}
