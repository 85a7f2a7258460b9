//! What a read model refuses, and that a refused batch applies nothing: a
//! gap, another log's events, an event this build cannot read. Applying
//! what it already holds changes nothing.

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, ReceiptStatus, RecordedEvent};
use dotpha_testkit::Workload;
use dotpha_views::{
    ReadModel, ViewError,
    query::{HistoryEvent, TaskFilter},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_625_097_600_000; // 2021-07-01T00:00:00Z

/// A log of a small workload: its setup and some reports (21 events).
/// `prefix` makes the submission ids, and so every hash, its own.
fn log(prefix: &str) -> (tempfile::TempDir, Vec<RecordedEvent>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("opens");
    let mut workload = Workload::new(prefix, 2, 2);
    let mut messages = workload.setup();
    messages.extend((0..6).map(|_| workload.next_report()));
    for (i, chunk) in messages.chunks(5).enumerate() {
        let arrivals = chunk
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        let receipts = ledger
            .submit_batch(
                arrivals,
                &Timestamp::from_unix_millis(1_614_650_000_000 + i as i64),
            )
            .expect("committed");
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    }
    let events = ledger.log().events_from(1, 1000).expect("read");
    assert_eq!(events.len(), 21);
    (dir, events)
}

fn fresh(dir: &tempfile::TempDir, name: &str) -> ReadModel {
    ReadModel::open(dir.path().join(format!("{name}.sqlite"))).expect("opens")
}

/// Everything the queries answer, as JSON, to compare before and after.
fn snapshot(read: &ReadModel) -> Value {
    let (tasks, total) = read
        .tasks(
            &TaskFilter {
                limit: Some(10_000),
                ..TaskFilter::default()
            },
            NOW,
        )
        .expect("lists");
    let details: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({
                "detail": read.task(&t.task_id, NOW).expect("task"),
                "history": read.history(&t.task_id).expect("history").map(|events| texts(&events)),
            })
        })
        .collect();
    json!({
        "position": read.applied().position,
        "hash": read.applied().hash,
        "genesis": read.applied().genesis,
        "tasks": tasks,
        "total": total,
        "details": details,
        "dashboard": read.dashboard(None, NOW).expect("dashboard"),
        "root": read.unit(dotpha_testkit::ROOT, Default::default(), None, NOW).expect("unit"),
        "cadre": read.cadre("chu-tich-xa-0000", NOW).expect("cadre"),
        "cycles": read.cycles().expect("cycles"),
    })
}

/// The hash the contract defines: SHA-256 of the JCS form without `hash`.
fn contract_hash(event: &Value) -> String {
    let mut object = event.clone();
    object.as_object_mut().expect("an object").remove("hash");
    let canonical = serde_json_canonicalizer::to_vec(&object).expect("canonical");
    hex::encode(Sha256::digest(&canonical))
}

/// An event continuing the chain after `previous`, of any type and data,
/// hashed as the contract says.
fn crafted(previous: &RecordedEvent, event_type: &str, data: Value) -> RecordedEvent {
    let mut object = json!({
        "schema": "dotpha.event.v1",
        "position": previous.position + 1,
        "stream": "task-ndp-2021-0000-000",
        "version": 99,
        "type": event_type,
        "unit": "xa-0000",
        "actor": "chu-tich-xa-0000",
        "occurred_at": "2021-03-02T08:30:00+07:00",
        "recorded_at": "2021-03-02T01:30:00.123Z",
        "submission_id": "teleport-0001",
        "data": data,
        "prev_hash": previous.hash,
    });
    object["hash"] = json!(contract_hash(&object));
    serde_json::from_str(&object.to_string()).expect("an event object")
}

#[test]
fn the_crafted_hash_is_the_logs_hash() {
    let (_dir, events) = log("hash");
    for event in &events {
        let value = serde_json::to_value(event).expect("json");
        assert_eq!(
            contract_hash(&value),
            event.hash,
            "position {}",
            event.position
        );
    }
}

#[test]
fn a_batch_that_skips_a_position_fails_and_applies_nothing() {
    let (dir, events) = log("gap");
    let mut read = fresh(&dir, "read");
    assert_eq!(read.apply(&events[..10], None).expect("applies"), 10);
    let before = snapshot(&read);
    let applied = read.applied().clone();

    // Positions 12 to 15: 11 is missing.
    match read.apply(&events[11..15], Some(40)) {
        Err(ViewError::Gap { expected, found }) => assert_eq!((expected, found), (11, 12)),
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(read.applied(), &applied);
    assert_eq!(snapshot(&read), before);

    // 11 then 13: the gap comes after a good event, which is not kept either.
    let holed = vec![events[10].clone(), events[12].clone()];
    match read.apply(&holed, Some(41)) {
        Err(ViewError::Gap { expected, found }) => assert_eq!((expected, found), (12, 13)),
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(read.applied(), &applied, "the batch applied nothing");
    assert_eq!(snapshot(&read), before);
    drop(read);
    let mut read = ReadModel::open(dir.path().join("read.sqlite")).expect("reopens");
    assert_eq!(read.applied(), &applied, "nothing of it was committed");
    assert_eq!(snapshot(&read), before);

    // The missing events, then the rest, apply.
    assert_eq!(read.apply(&events[10..], None).expect("applies"), 11);
    assert_eq!(read.applied().position, 21);
    assert_eq!(
        snapshot(&read),
        snapshot(&{
            let mut all = fresh(&dir, "all");
            all.apply(&events, None).expect("applies");
            all
        })
    );
}

#[test]
fn applying_events_already_applied_changes_nothing() {
    let (dir, events) = log("again");
    let mut read = fresh(&dir, "read");
    assert_eq!(read.apply(&events, None).expect("applies"), 21);
    let whole = snapshot(&read);
    assert_eq!(read.apply(&events, None).expect("a no-op"), 0);
    assert_eq!(read.apply(&events[3..9], None).expect("a no-op"), 0);
    assert_eq!(read.apply(&[], None).expect("a no-op"), 0);
    assert_eq!(snapshot(&read), whole);
    // A redelivered stream batch moves only the stream sequence.
    assert_eq!(read.apply(&events[18..], Some(77)).expect("a no-op"), 0);
    assert_eq!(read.applied().position, 21);
    assert_eq!(read.applied().stream_sequence, Some(77));
    assert_eq!(snapshot(&read), whole);

    // Overlapping batches, as a redelivery after a crash brings them.
    let mut overlapping = fresh(&dir, "overlapping");
    let mut reached = 0;
    for (from, to) in [
        (0, 4),
        (0, 10),
        (5, 12),
        (11, 12),
        (2, 17),
        (16, 21),
        (0, 21),
    ] {
        let applied = overlapping.apply(&events[from..to], None).expect("applies");
        assert_eq!(applied, to.max(reached) - reached);
        reached = reached.max(to);
        assert_eq!(overlapping.applied().position, reached as u64);
    }
    assert_eq!(snapshot(&overlapping), whole);
    for task in 0..2 {
        let id = Workload::task(0, task);
        let history = overlapping.history(&id).expect("history").expect("events");
        let in_log = events
            .iter()
            .filter(|e| e.stream == format!("task-{id}"))
            .count();
        assert_eq!(history.len(), in_log, "{id}: each event once");
    }
}

#[test]
fn events_of_another_log_are_refused() {
    let (dir, mine) = log("mine");
    let (_other_dir, theirs) = log("theirs");
    assert_ne!(mine[0].hash, theirs[0].hash, "two logs, two geneses");

    let mut read = fresh(&dir, "read");
    read.apply(&mine[..10], None).expect("applies");
    let before = snapshot(&read);
    match read.apply(&theirs, None) {
        Err(ViewError::Foreign { reason, .. }) => {
            assert!(reason.contains("event 11"), "{reason}")
        }
        other => panic!("expected another log's events to be refused, got {other:?}"),
    }
    assert_eq!(snapshot(&read), before);
    let mixed = vec![mine[10].clone(), theirs[11].clone()];
    assert!(matches!(
        read.apply(&mixed, None),
        Err(ViewError::Foreign { .. })
    ));
    assert_eq!(snapshot(&read), before, "the good event before is not kept");

    // A read model names its log by the first event's hash.
    let genesis = mine[0].hash.clone();
    assert_eq!(read.applied().genesis.as_deref(), Some(genesis.as_str()));
    read.check_genesis(&genesis).expect("its own log");
    assert!(matches!(
        read.check_genesis(&theirs[0].hash),
        Err(ViewError::Foreign { .. })
    ));
    drop(read);
    let reopened = ReadModel::open_read_only(dir.path().join("read.sqlite")).expect("opens");
    match reopened.check_genesis(&theirs[0].hash) {
        Err(ViewError::Foreign { path, reason }) => {
            assert!(path.ends_with("read.sqlite"));
            assert!(reason.contains(&genesis), "{reason}");
        }
        other => panic!("expected a foreign read model, got {other:?}"),
    }
    // An empty read model belongs to no log yet.
    fresh(&dir, "empty")
        .check_genesis(&theirs[0].hash)
        .expect("an empty read model may start on any log");
}

#[test]
fn an_event_of_an_unknown_type_fails_naming_its_position_and_applies_nothing() {
    let (dir, events) = log("teleport");
    let mut read = fresh(&dir, "read");
    read.apply(&events[..10], None).expect("applies");
    let before = snapshot(&read);
    let applied = read.applied().clone();

    let teleported = crafted(
        &events[11],
        "task.teleported",
        json!({"task_id": "ndp-2021-0000-000", "to": "mars"}),
    );
    assert_eq!(teleported.position, 13);
    let batch = vec![events[10].clone(), events[11].clone(), teleported.clone()];
    match read.apply(&batch, Some(50)) {
        Err(ViewError::Undecodable { position, reason }) => {
            assert_eq!(position, 13);
            assert!(reason.contains("task.teleported"), "{reason}");
        }
        other => panic!("expected an undecodable event, got {other:?}"),
    }
    assert_eq!(read.applied(), &applied);
    assert_eq!(snapshot(&read), before);
    let error = read.apply(&batch, None).unwrap_err().to_string();
    assert!(error.contains("position 13"), "{error}");

    // A known type whose data cannot be read is refused the same way.
    let corrupt = crafted(
        &events[11],
        "progress.reported",
        json!({"task": "ndp-2021-0000-000"}),
    );
    match read.apply(&[events[10].clone(), events[11].clone(), corrupt], None) {
        Err(ViewError::Undecodable { position, .. }) => assert_eq!(position, 13),
        other => panic!("expected an undecodable event, got {other:?}"),
    }
    assert_eq!(snapshot(&read), before);

    // What comes before it still applies; it still stops there.
    assert_eq!(read.apply(&events[10..12], None).expect("applies"), 2);
    assert!(matches!(
        read.apply(std::slice::from_ref(&teleported), None),
        Err(ViewError::Undecodable { position: 13, .. })
    ));
    assert_eq!(read.applied().position, 12);
    assert_eq!(read.apply(&events[12..], None).expect("applies"), 9);
    let mut all = fresh(&dir, "all");
    all.apply(&events, None).expect("applies");
    assert_eq!(snapshot(&read), snapshot(&all));
}

/// A history's event objects (every one kept: these read models apply
/// with `apply`).
fn texts(events: &[HistoryEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            HistoryEvent::Kept(object) => object.get().to_owned(),
            HistoryEvent::InLog(position) => panic!("{position} not kept"),
        })
        .collect()
}
