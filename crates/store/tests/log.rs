//! The log as a writer and a reader see it: receipts in the contract's shape,
//! exactly-once decisions, gapless positions, reopening, the database's own
//! refusal to update or delete, and refusing files that are not our log.

use std::path::{Path, PathBuf};

use dotpha_domain::{RejectionCode, Timestamp};
use dotpha_store::{
    Arrival, Decision, GENESIS_HASH, Head, Ledger, Log, Outcome, RECEIPT_SCHEMA, Receipt,
    ReceiptStatus, SCHEMA_VERSION, StoreError,
};
use dotpha_testkit::{Message, Workload};
use serde_json::Value;

fn recorded_at(n: u64) -> Timestamp {
    Timestamp::parse(&format!("2021-03-02T01:30:{:02}.123Z", n % 60)).expect("a valid instant")
}

fn arrival(message: &Message) -> Arrival {
    Arrival::read(
        &message.body,
        Some(&message.unit),
        Some(&message.submission_id),
    )
    .expect("a workload message carries a submission id")
}

fn arrivals(messages: &[Message]) -> Vec<Arrival> {
    messages.iter().map(arrival).collect()
}

/// The same message with its body changed by `edit`.
fn edited(message: &Message, edit: impl FnOnce(&mut Value)) -> Message {
    let mut body: Value = serde_json::from_slice(&message.body).expect("workload JSON");
    edit(&mut body);
    Message {
        body: serde_json::to_vec(&body).expect("JSON"),
        ..message.clone()
    }
}

fn log_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("log.sqlite")
}

/// A ledger holding the workload's setup (all accepted).
fn set_up(path: &Path, workload: &mut Workload) -> Ledger {
    let mut ledger = Ledger::open(path).expect("open a new log");
    let receipts = ledger
        .submit_batch(arrivals(&workload.setup()), &recorded_at(0))
        .expect("append the setup");
    assert!(
        receipts.iter().all(|r| r.status == ReceiptStatus::Accepted),
        "the workload's setup is accepted: {receipts:#?}"
    );
    ledger
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open the file with plain SQLite")
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count rows")
}

fn members(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn is_hex64(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[test]
fn an_accepted_submission_gets_a_receipt_of_the_contract_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("shape", 1, 1);
    let mut ledger = set_up(&log_path(&dir), &mut workload);
    let report = workload.next_report();
    let receipts = ledger
        .submit_batch(vec![arrival(&report)], &recorded_at(1))
        .expect("append");
    assert_eq!(receipts.len(), 1);
    let json = serde_json::to_value(&receipts[0]).expect("a receipt serializes");

    assert_eq!(json["schema"], RECEIPT_SCHEMA);
    assert_eq!(json["schema"], "dotpha.receipt.v1");
    assert_eq!(json["submission_id"], report.submission_id.as_str());
    assert_eq!(json["status"], "accepted");
    assert_eq!(json["duplicate"], false);
    assert_eq!(
        json["error"],
        Value::Null,
        "an accepted receipt has error null"
    );
    assert_eq!(json["recorded_at"], "2021-03-02T01:30:01.123Z");
    for member in [
        "schema",
        "submission_id",
        "status",
        "duplicate",
        "events",
        "error",
        "recorded_at",
    ] {
        assert!(
            json.get(member).is_some(),
            "the receipt has member {member}: {json}"
        );
    }

    let events = json["events"].as_array().expect("events is a list");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        members(event),
        ["hash", "position", "stream", "type", "version"]
    );
    let head = ledger.log().head().clone();
    assert_eq!(event["position"], head.position);
    assert_eq!(event["hash"], head.hash.as_str());
    assert!(is_hex64(event["hash"].as_str().expect("hash is text")));
    assert_eq!(event["type"], "progress.reported");
    assert_eq!(event["stream"], format!("task-{}", Workload::task(0, 0)));
    assert!(event["version"].as_u64().expect("version is a number") >= 2);

    // The receipt read back later is the same promise.
    let again = ledger
        .log()
        .receipt(&report.submission_id)
        .expect("read")
        .expect("decided");
    assert_eq!(again, receipts[0]);
}

#[test]
fn a_rejected_submission_gets_a_receipt_with_an_error_and_appends_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("reject", 1, 1);
    let mut ledger = set_up(&log_path(&dir), &mut workload);
    let head = ledger.log().head().clone();
    let state = ledger.state().clone();

    let bad_percent = edited(&workload.next_report(), |b| {
        b["data"]["percent_complete"] = 150.into();
    });
    let unknown_task = edited(&workload.next_report(), |b| {
        b["data"]["task_id"] = "no-such-task".into();
    });
    let receipts = ledger
        .submit_batch(arrivals(&[bad_percent, unknown_task]), &recorded_at(2))
        .expect("append the rejections");

    assert_eq!(ledger.log().head(), &head, "a rejection appends no event");
    assert_eq!(ledger.state(), &state, "a rejection changes no state");
    for receipt in &receipts {
        let json = serde_json::to_value(receipt).expect("serialize");
        assert_eq!(json["schema"], "dotpha.receipt.v1");
        assert_eq!(json["status"], "rejected");
        assert_eq!(json["duplicate"], false);
        assert_eq!(json["events"], Value::Array(Vec::new()));
        assert_eq!(json["recorded_at"], "2021-03-02T01:30:02.123Z");
        let error = &json["error"];
        assert!(error["code"].is_string() && error["message"].is_string());
        assert!(!error["message"].as_str().expect("text").is_empty());
    }
    let first = serde_json::to_value(&receipts[0]).expect("serialize");
    assert_eq!(first["error"]["code"], "invalid_value");
    assert_eq!(first["error"]["field"], "data.percent_complete");
    assert_eq!(
        members(&first["error"]),
        ["code", "field", "message", "message_vi"],
        "a rejection's error has code, message, field and the Vietnamese sentence"
    );
    let vi = first["error"]["message_vi"].as_str().expect("message_vi");
    assert!(
        vi.contains("Tỷ lệ hoàn thành") && vi.contains("từ 0 đến 100"),
        "the field's name and rule in Vietnamese: {vi}"
    );
    assert_eq!(
        serde_json::to_value(&receipts[1]).expect("serialize")["error"]["code"],
        "unknown_task"
    );

    // The decision is recorded: asking again answers the same rejection.
    for receipt in &receipts {
        assert!(
            ledger
                .log()
                .is_decided(&receipt.submission_id)
                .expect("read")
        );
        assert_eq!(
            ledger
                .log()
                .receipt(&receipt.submission_id)
                .expect("read")
                .as_ref(),
            Some(receipt)
        );
    }
}

#[test]
fn a_rejection_keeps_the_submission_as_received_for_inspectors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("keep", 1, 1);
    let mut ledger = set_up(&path, &mut workload);
    let message = edited(&workload.next_report(), |b| {
        b["data"]["task_id"] = "no-such-task".into();
    });
    ledger
        .submit_batch(vec![arrival(&message)], &recorded_at(3))
        .expect("append");
    drop(ledger);
    let kept: Option<String> = raw(&path)
        .query_row(
            "SELECT submission FROM decisions WHERE submission_id = ?1",
            [&message.submission_id],
            |r| r.get(0),
        )
        .expect("the decision row");
    let kept: Value = serde_json::from_str(&kept.expect("the submission is kept")).expect("JSON");
    assert_eq!(
        kept,
        serde_json::from_slice::<Value>(&message.body).expect("JSON")
    );
}

#[test]
fn a_submission_repeated_in_a_later_batch_appends_nothing_and_answers_the_original_receipt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("repeat", 1, 2);
    let mut ledger = set_up(&path, &mut workload);
    let accepted = workload.next_report();
    let rejected = edited(&workload.next_report(), |b| {
        b["data"]["task_id"] = "no-such-task".into();
    });
    let originals = ledger
        .submit_batch(
            arrivals(&[accepted.clone(), rejected.clone()]),
            &recorded_at(4),
        )
        .expect("append");
    assert_eq!(originals[0].status, ReceiptStatus::Accepted);
    assert_eq!(originals[1].status, ReceiptStatus::Rejected);
    let head = ledger.log().head().clone();
    let state = ledger.state().clone();
    let decisions = count(&raw(&path), "decisions");

    // A retry, later, even with a different body: the id alone decides.
    let retry_with_other_body = edited(&accepted, |b| {
        b["data"]["note"] = "sent again, changed".into();
    });
    let repeats = ledger
        .submit_batch(
            arrivals(&[accepted, rejected, retry_with_other_body]),
            &recorded_at(5),
        )
        .expect("append the repeats");

    assert_eq!(ledger.log().head(), &head, "a repeat appends no event");
    assert_eq!(ledger.state(), &state, "a repeat changes no state");
    assert_eq!(
        count(&raw(&path), "decisions"),
        decisions,
        "a repeat records no decision"
    );
    let expect = |original: &Receipt| Receipt {
        duplicate: true,
        ..original.clone()
    };
    assert_eq!(repeats[0], expect(&originals[0]));
    assert_eq!(repeats[1], expect(&originals[1]));
    assert_eq!(repeats[2], expect(&originals[0]));
    assert_eq!(
        repeats[0].recorded_at, "2021-03-02T01:30:04.123Z",
        "the original's time, not the repeat's"
    );
    assert_eq!(
        serde_json::to_value(&repeats[0]).expect("serialize")["duplicate"],
        true
    );

    // The same holds across a reopen: the decisions are in the file.
    drop(ledger);
    let mut ledger = Ledger::open(&path).expect("reopen");
    let after_reopen = ledger
        .submit_batch(
            arrivals(&[workload_message_by_id(&originals[0])]),
            &recorded_at(6),
        )
        .expect("append");
    assert_eq!(after_reopen[0], expect(&originals[0]));
    assert_eq!(ledger.log().head(), &head);
}

/// A message that carries only the id of `receipt`'s submission (its body
/// does not matter to a repeat).
fn workload_message_by_id(receipt: &Receipt) -> Message {
    Message {
        unit: "xa-0000".to_owned(),
        submission_id: receipt.submission_id.clone(),
        body: b"{\"not\": \"even a submission\"}".to_vec(),
    }
}

#[test]
fn a_submission_repeated_within_one_batch_is_decided_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("inbatch", 1, 2);
    let mut ledger = set_up(&path, &mut workload);
    let head = ledger.log().head().clone();
    let a = workload.next_report();
    let b = workload.next_report();
    let rejected = edited(&workload.next_report(), |body| {
        body["data"]["task_id"] = "no-such-task".into();
    });
    let receipts = ledger
        .submit_batch(
            arrivals(&[a.clone(), a.clone(), rejected.clone(), b, rejected, a]),
            &recorded_at(7),
        )
        .expect("append");

    assert_eq!(
        ledger.log().head().position,
        head.position + 2,
        "two distinct accepted submissions, one event each"
    );
    let dup = |r: &Receipt| Receipt {
        duplicate: true,
        ..r.clone()
    };
    assert!(!receipts[0].duplicate && !receipts[2].duplicate && !receipts[3].duplicate);
    assert_eq!(receipts[1], dup(&receipts[0]));
    assert_eq!(receipts[4], dup(&receipts[2]));
    assert_eq!(receipts[5], dup(&receipts[0]));
    assert_eq!(receipts[0].events[0].position, head.position + 1);
    assert_eq!(receipts[3].events[0].position, head.position + 2);
    assert_eq!(receipts[2].status, ReceiptStatus::Rejected);
    assert_eq!(
        count(&raw(&path), "decisions") as usize,
        workload_setup_len(1, 2) + 3,
        "one decision per distinct submission"
    );
    assert!(ledger.log().verify(None).expect("verify").ok);
}

fn workload_setup_len(communes: usize, tasks: usize) -> usize {
    Workload::new("count", communes, tasks).setup().len()
}

#[test]
fn positions_run_from_one_without_gaps_and_each_submissions_events_are_consecutive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("gapless", 3, 3);
    let mut ledger = Ledger::open(log_path(&dir)).expect("open");
    assert_eq!(ledger.log().head(), &Head::genesis());
    let mut messages = workload.setup();
    messages.extend((0..60).map(|_| workload.next_report()));
    // Batches of varying size, with a rejection now and then.
    let mut receipts = Vec::new();
    let mut rest = &messages[..];
    let mut size = 1;
    while !rest.is_empty() {
        let (batch, tail) = rest.split_at(size.min(rest.len()));
        let mut batch = batch.to_vec();
        if size % 3 == 0 {
            batch.push(edited(&batch[0], |b| {
                b["submission_id"] = format!("rejected-{size:04}").into();
                b["type"] = "task.teleported".into();
            }));
        }
        receipts.extend(
            ledger
                .submit_batch(arrivals(&batch), &recorded_at(size as u64))
                .expect("append"),
        );
        rest = tail;
        size = size % 17 + 1;
    }

    let mut next = 1;
    let mut hash = GENESIS_HASH.to_owned();
    for receipt in &receipts {
        assert!(!receipt.duplicate);
        match receipt.status {
            ReceiptStatus::Accepted => assert!(!receipt.events.is_empty()),
            ReceiptStatus::Rejected => {
                assert!(receipt.events.is_empty());
                let error = receipt.error.as_ref().expect("an error");
                assert_eq!(error.code, RejectionCode::UnknownType.as_str());
            }
        }
        for event in &receipt.events {
            assert_eq!(
                event.position, next,
                "{}'s events follow the previous submission's without a gap",
                receipt.submission_id
            );
            next += 1;
        }
        // The events the receipt names are the log's, in the chain.
        for event in &receipt.events {
            let stored = ledger
                .log()
                .events_from(event.position, 1)
                .expect("read")
                .pop()
                .expect("the event is in the log");
            assert_eq!(stored.reference(), *event);
            assert_eq!(stored.submission_id, receipt.submission_id);
            assert_eq!(stored.prev_hash, hash);
            assert_eq!(stored.schema, "dotpha.event.v1");
            hash = stored.hash.clone();
        }
    }
    let all = ledger.log().events_from(1, usize::MAX).expect("read all");
    assert_eq!(all.len() as u64, next - 1);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, e)| e.position == i as u64 + 1)
    );
    assert_eq!(
        ledger.log().head(),
        &Head {
            position: next - 1,
            hash
        }
    );
    // Streams read back in version order, from 1.
    let stream = ledger
        .log()
        .stream(&format!("task-{}", Workload::task(1, 2)))
        .expect("read a stream");
    assert!(stream.len() >= 2);
    assert!(
        stream
            .iter()
            .enumerate()
            .all(|(i, e)| e.version == i as u64 + 1)
    );
    let report = ledger.log().verify(None).expect("verify");
    assert!(report.ok, "{report:?}");
}

#[test]
fn reopening_the_log_restores_its_head_and_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("reopen", 2, 3);
    let mut ledger = set_up(&path, &mut workload);
    let reports: Vec<Message> = (0..40).map(|_| workload.next_report()).collect();
    for (i, batch) in reports.chunks(7).enumerate() {
        ledger
            .submit_batch(arrivals(batch), &recorded_at(10 + i as u64))
            .expect("append");
    }
    let head = ledger.log().head().clone();
    let state = ledger.state().clone();
    assert_eq!(state.events_applied(), head.position);
    drop(ledger);

    let reopened = Ledger::open(&path).expect("reopen");
    assert_eq!(reopened.log().head(), &head);
    assert_eq!(
        reopened.state(),
        &state,
        "folding the log gives the state it had"
    );
    drop(reopened);

    let read_only = Log::open_read_only(&path).expect("open read-only");
    assert_eq!(read_only.head(), &head);
    assert_eq!(
        read_only.load_state_forgetful().expect("fold"),
        state,
        "a writer's state forgets reports; folded the same way, it is the same"
    );
    let report = read_only.verify(Some(&head)).expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.head_position, head.position);
    assert_eq!(report.head_hash, head.hash);
}

#[test]
fn the_database_refuses_to_update_or_delete_events_and_decisions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("triggers", 1, 1);
    let ledger = set_up(&path, &mut workload);
    let head = ledger.log().head().clone();

    // Even while the writer holds the log open, and through plain SQLite.
    let conn = raw(&path);
    for statement in [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "UPDATE events SET hash = prev_hash",
        "DELETE FROM events WHERE position = 2",
        "DELETE FROM events",
        "UPDATE decisions SET status = 'rejected', first_position = NULL, last_position = NULL, error_code = 'forbidden'",
        "DELETE FROM decisions WHERE seq = 1",
        "DELETE FROM decisions",
    ] {
        let error = conn
            .execute(statement, [])
            .expect_err(&format!("{statement} is refused"));
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: the refusal says why: {error}"
        );
    }
    drop(conn);
    let report = ledger.log().verify(Some(&head)).expect("verify");
    assert!(report.ok && report.warnings.is_empty(), "{report:?}");
}

#[test]
fn a_batch_that_cannot_be_recorded_records_none_of_its_decisions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("atomic", 1, 1);
    drop(set_up(&path, &mut workload));
    let mut log = Log::open(&path).expect("open");
    let head = log.head().clone();
    let rejected = Decision {
        submission_id: "atomic-first-of-batch".to_owned(),
        unit: Some("xa-0000".to_owned()),
        outcome: Outcome::Rejected(dotpha_domain::Rejection::new(
            RejectionCode::Forbidden,
            "no",
        )),
        submission: None,
    };
    let broken = Decision {
        submission_id: "atomic-accepted-without-events".to_owned(),
        unit: None,
        outcome: Outcome::Accepted(Vec::new()),
        submission: None,
    };
    let error = log
        .append_batch(&[rejected, broken], &recorded_at(9))
        .expect_err("an accepted decision without events is a bug");
    assert!(
        matches!(&error, StoreError::InvalidDecision { submission_id, .. }
                 if submission_id == "atomic-accepted-without-events"),
        "{error}"
    );
    assert_eq!(log.head(), &head);
    assert!(
        !log.is_decided("atomic-first-of-batch").expect("read"),
        "the batch is one transaction: nothing of it is recorded"
    );
    drop(log);
    let reopened = Log::open(&path).expect("reopen");
    assert_eq!(reopened.head(), &head);
    assert!(!reopened.is_decided("atomic-first-of-batch").expect("read"));
}

#[test]
fn a_foreign_sqlite_database_is_refused_as_not_a_log_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inventory.sqlite");
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO patients (name) VALUES ('Lê Văn A');",
        )
        .expect("make a foreign database");
    }
    let before = std::fs::read(&path).expect("read");
    let path_text = path.display().to_string();

    for result in [
        Log::open(&path).map(drop),
        Log::open_read_only(&path).map(drop),
        Ledger::open(&path).map(drop),
    ] {
        match result {
            Err(StoreError::NotALog {
                path: named,
                reason,
            }) => {
                assert_eq!(named, path_text);
                assert!(reason.contains("patients"), "{reason}");
            }
            other => panic!("a foreign database must be refused, got {other:?}"),
        }
    }
    let message = Log::open(&path).expect_err("refused").to_string();
    assert!(
        message.contains(&path_text) && message.contains("not a dotpha log"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "the foreign file is not migrated into"
    );
    let tables: Vec<String> = raw(&path)
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(tables, ["patients"]);
}

#[test]
fn a_file_that_is_not_sqlite_at_all_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let garbage: Vec<u8> = b"Bao cao tien do quy 1\n"
        .iter()
        .copied()
        .chain((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    std::fs::write(&path, &garbage).expect("write garbage");
    let path_text = path.display().to_string();

    for result in [
        Log::open(&path).map(drop),
        Log::open_read_only(&path).map(drop),
    ] {
        let error = result.expect_err("garbage is not a log");
        assert!(
            matches!(&error, StoreError::NotALog { path, .. } if *path == path_text),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&path_text) && message.contains("not a dotpha log"),
            "{message}"
        );
    }
    assert_eq!(
        std::fs::read(&path).expect("read"),
        garbage,
        "left untouched"
    );
}

#[test]
fn a_log_from_a_newer_schema_is_refused_as_too_new() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("toonew", 1, 1);
    drop(set_up(&path, &mut workload));
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("pretend a newer build wrote it");

    for result in [
        Log::open(&path).map(drop),
        Log::open_read_only(&path).map(drop),
        Ledger::open(&path).map(drop),
    ] {
        match result {
            Err(StoreError::TooNew {
                path: named,
                found,
                supported,
            }) => {
                assert_eq!(named, path.display().to_string());
                assert_eq!(found, SCHEMA_VERSION + 1);
                assert_eq!(supported, SCHEMA_VERSION);
            }
            other => panic!("a newer log must be refused, got {other:?}"),
        }
    }
    let message = Log::open(&path).expect_err("refused").to_string();
    assert!(message.contains("upgrade dotpha"), "{message}");
}

#[test]
fn opening_read_only_where_there_is_no_log_says_it_is_missing_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data").join("log.sqlite");
    match Log::open_read_only(&path) {
        Err(StoreError::Missing { path: named }) => assert_eq!(named, path.display().to_string()),
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(!path.exists());

    // An empty file (a data directory where nothing was written) is not a log either.
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").expect("touch");
    assert!(matches!(
        Log::open_read_only(&empty),
        Err(StoreError::NotALog { .. } | StoreError::EmptyLog { .. })
    ));
}

#[test]
fn a_read_only_log_reads_what_the_writer_commits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("reader", 1, 1);
    let mut ledger = set_up(&path, &mut workload);
    let reader = Log::open_read_only(&path).expect("open read-only");
    let receipts = ledger
        .submit_batch(vec![arrival(&workload.next_report())], &recorded_at(8))
        .expect("append");
    let position = receipts[0].events[0].position;
    let seen = reader.events_from(position, 10).expect("read");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].reference(), receipts[0].events[0]);
    assert_eq!(
        reader.receipt(&receipts[0].submission_id).expect("read"),
        Some(receipts[0].clone())
    );
}

#[test]
fn head_parse_reads_position_colon_lowercase_hex_and_nothing_else() {
    let hash = "9f2c".repeat(16);
    assert_eq!(
        Head::parse(&format!("42:{hash}")),
        Some(Head {
            position: 42,
            hash: hash.clone()
        })
    );
    assert_eq!(
        Head::parse(&format!("0:{GENESIS_HASH}")),
        Some(Head::genesis())
    );
    let head = Head {
        position: 18_446_744_073_709_551_615,
        hash: hash.clone(),
    };
    assert_eq!(
        Head::parse(&head.to_string()),
        Some(head),
        "Display and parse agree"
    );

    for bad in [
        String::new(),
        "42".to_owned(),
        hash.clone(),
        format!(":{hash}"),
        "42:".to_owned(),
        format!("x:{hash}"),
        format!("-1:{hash}"),
        format!("4 2:{hash}"),
        format!(" 42:{hash}"),
        format!("42:{hash} "),
        format!("42:{}", hash.to_uppercase()),
        format!("42:{}", &hash[1..]),
        format!("42:{hash}0"),
        format!("42:{}g", &hash[1..]),
        format!("42:{hash}:7"),
        format!("42;{hash}"),
        format!("18446744073709551616:{hash}"),
    ] {
        assert_eq!(Head::parse(&bad), None, "{bad:?} is not a head");
    }
}

#[test]
fn a_message_that_is_not_json_without_a_msg_id_is_a_dead_letter() {
    let rejection = Arrival::read(b"\x00\xffnot json {", Some("xa-0000"), None)
        .expect_err("nothing to key a decision by");
    assert_eq!(rejection.code, RejectionCode::Malformed);
    // A msg id that is not a valid submission id does not help.
    let rejection =
        Arrival::read(b"not json", Some("xa-0000"), Some("short")).expect_err("unusable id");
    assert_eq!(rejection.code, RejectionCode::Malformed);
}

#[test]
fn a_message_that_is_not_json_with_a_msg_id_is_recorded_as_a_malformed_rejection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("malformed", 1, 1);
    let mut ledger = set_up(&path, &mut workload);
    let head = ledger.log().head().clone();
    let id = "01HZX3K9Q6W2V7M8N4T5R1Y0AB";

    let arrival = Arrival::read(b"progress: 50%, see attachment", Some("xa-0000"), Some(id))
        .expect("the msg id keys the decision");
    assert_eq!(arrival.submission_id, id);
    assert_eq!(
        arrival.unit.as_ref().map(|u| u.as_str()),
        Some("xa-0000"),
        "the subject's unit"
    );
    let receipt = ledger
        .submit_batch(vec![arrival], &recorded_at(11))
        .expect("append")
        .pop()
        .expect("one receipt");
    assert_eq!(receipt.submission_id, id);
    assert_eq!(receipt.status, ReceiptStatus::Rejected);
    assert!(!receipt.duplicate && receipt.events.is_empty());
    assert_eq!(receipt.error.as_ref().expect("error").code, "malformed");
    assert_eq!(receipt.unit.as_deref(), Some("xa-0000"));
    assert_eq!(ledger.log().head(), &head);

    // Redelivered: the original receipt, nothing new.
    let again = Arrival::read(b"progress: 50%, see attachment", Some("xa-0000"), Some(id))
        .expect("readable");
    let repeat = ledger
        .submit_batch(vec![again], &recorded_at(12))
        .expect("append")
        .pop()
        .expect("one receipt");
    assert_eq!(
        repeat,
        Receipt {
            duplicate: true,
            ..receipt
        }
    );
    drop(ledger);
    let kept: Option<String> = raw(&path)
        .query_row(
            "SELECT submission FROM decisions WHERE submission_id = ?1",
            [id],
            |r| r.get(0),
        )
        .expect("the decision row");
    assert_eq!(kept.as_deref(), Some("progress: 50%, see attachment"));
}

/// Every row of `events`, column by column, as text.
fn event_rows(path: &Path) -> Vec<Vec<String>> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT * FROM events ORDER BY position")
        .expect("select");
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        (0..columns)
            .map(|i| {
                r.get_ref(i)
                    .map(|v| format!("{:?}", v.data_type()) + &format!("{v:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn a_log_of_schema_5_loses_its_stream_index_and_keeps_every_row_and_guard() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = log_path(&dir);
    let mut workload = Workload::new("schema5", 3, 4);
    let mut ledger = set_up(&path, &mut workload);
    let reports: Vec<Message> = (0..200).map(|_| workload.next_report()).collect();
    for chunk in reports.chunks(17) {
        ledger
            .submit_batch(arrivals(chunk), &recorded_at(1))
            .expect("reports");
    }
    let head = ledger.log().head().clone();
    drop(ledger);
    // Make it the log a build of schema 5 wrote: `events` with its unique
    // index on (stream, version).
    raw(&path)
        .execute_batch(
            "CREATE TABLE events_5 (
                position INTEGER PRIMARY KEY CHECK (position >= 1),
                schema TEXT NOT NULL DEFAULT 'dotpha.event.v1', stream TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1), type TEXT NOT NULL,
                unit TEXT NOT NULL, actor TEXT NOT NULL, occurred_at TEXT NOT NULL,
                recorded_at TEXT NOT NULL, submission_id TEXT NOT NULL, data TEXT NOT NULL,
                prev_hash TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (stream, version));
             INSERT INTO events_5 SELECT * FROM events;
             DROP TABLE events;
             ALTER TABLE events_5 RENAME TO events;
             CREATE TRIGGER events_no_update BEFORE UPDATE ON events
             BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END;
             CREATE TRIGGER events_no_delete BEFORE DELETE ON events
             BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;
             PRAGMA user_version = 5;",
        )
        .expect("make it schema 5");
    let before = event_rows(&path);
    let indexes = |path: &Path| -> i64 {
        raw(path)
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'",
                [],
                |r| r.get(0),
            )
            .expect("count")
    };
    assert_eq!(indexes(&path), 1, "schema 5 has the unique index");

    let mut ledger = Ledger::open(&path).expect("migrates");
    assert_eq!(ledger.log().head(), &head);
    assert_eq!(event_rows(&path), before, "every row as it was");
    assert_eq!(indexes(&path), 0, "no index but the positions");
    let version: i32 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    assert!(ledger.log().verify(Some(&head)).expect("verify").ok);
    for refused in [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
    ] {
        let error = raw(&path).execute(refused, []).expect_err("append-only");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    // The log goes on, and a stream still reads back in version order.
    let more: Vec<Message> = (0..20).map(|_| workload.next_report()).collect();
    ledger
        .submit_batch(arrivals(&more), &recorded_at(2))
        .expect("appends after the migration");
    assert!(ledger.log().verify(None).expect("verify").ok);
    let stream = ledger
        .log()
        .events_from(head.position + 1, 1)
        .expect("event")[0]
        .stream
        .clone();
    let versions: Vec<u64> = ledger
        .log()
        .stream(&stream)
        .expect("stream")
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
}

/// `n` reports decided as the writer would, in order, against the state of
/// the log at `path`.
fn decided_reports(path: &Path, workload: &mut Workload, n: usize) -> Vec<Decision> {
    let mut state = Log::open_read_only(path)
        .expect("open")
        .load_state()
        .expect("fold");
    (0..n)
        .map(|_| {
            let m = workload.next_report();
            let submission =
                dotpha_domain::parse_submission(&m.body, Some(&m.unit)).expect("valid");
            let outcome = match dotpha_domain::decide(&state, &submission) {
                Ok(events) => {
                    for e in &events {
                        state.apply(e);
                    }
                    Outcome::Accepted(events)
                }
                Err(rejection) => Outcome::Rejected(rejection),
            };
            Decision {
                submission_id: m.submission_id,
                unit: Some(m.unit),
                outcome,
                submission: None,
            }
        })
        .collect()
}

/// Every row of the log's tables that an append writes, as text.
fn appended_rows(path: &Path) -> Vec<Vec<String>> {
    let conn = raw(path);
    let mut all = Vec::new();
    for query in [
        "SELECT * FROM events ORDER BY position",
        "SELECT * FROM tree_nodes ORDER BY position",
        "SELECT * FROM decisions ORDER BY seq",
    ] {
        let mut stmt = conn.prepare(query).expect("select");
        let columns = stmt.column_count();
        let rows: Vec<Vec<String>> = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| r.get_ref(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        all.extend(rows);
    }
    all
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// The kind: however a run of decisions is cut into batches (below and
    /// above the size from which a second thread prepares the events), with
    /// repeats of earlier ids within and across batches, and a broken
    /// decision that fails its whole batch, the log holds the same rows and
    /// answers the same receipts as when each decision is appended alone.
    #[test]
    fn the_log_does_not_depend_on_how_decisions_are_batched(
        cuts in proptest::collection::vec(1usize..90, 1..12),
        repeats in proptest::collection::vec((0usize..300, 0usize..300), 0..20),
        broken_at in proptest::option::of(0usize..300),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let alone = dir.path().join("alone.sqlite");
        let batched = dir.path().join("batched.sqlite");
        let mut workload = Workload::new("batched", 3, 5);
        drop(set_up(&alone, &mut workload));
        std::fs::copy(&alone, &batched).expect("copy");
        let mut decisions = decided_reports(&alone, &mut workload, 300);
        // Repeats: an earlier decision's id again, later in the run.
        for &(from, to) in &repeats {
            let (from, to) = (from.min(to), from.max(to));
            if from < to {
                let again = decisions[from].clone();
                decisions.insert(to, again);
            }
        }
        let at = recorded_at(5);

        let mut one = Log::open(&alone).expect("open");
        let mut expected = Vec::new();
        for d in &decisions {
            expected.extend(one.append_batch(std::slice::from_ref(d), &at).expect("alone"));
        }
        drop(one);

        let mut log = Log::open(&batched).expect("open");
        let mut got = Vec::new();
        let mut rest = &decisions[..];
        let mut cut = cuts.iter().cycle();
        let mut broken_batch_done = false;
        while !rest.is_empty() {
            let n = (*cut.next().expect("cycles")).min(rest.len());
            let (batch, after) = rest.split_at(n);
            if let Some(at_index) = broken_at.filter(|i| *i < n && !broken_batch_done) {
                // This batch once more with an accepted decision without
                // events: nothing of it may be recorded.
                broken_batch_done = true;
                let head = log.head().clone();
                let mut bad = batch.to_vec();
                bad.insert(at_index, Decision {
                    submission_id: "broken".to_owned(),
                    unit: None,
                    outcome: Outcome::Accepted(Vec::new()),
                    submission: None,
                });
                let failed = log.append_batch(&bad, &at);
                let refused = matches!(failed, Err(StoreError::InvalidDecision { .. }));
                proptest::prop_assert!(refused, "the broken batch is refused: {:?}", failed.map(|r| r.len()));
                proptest::prop_assert_eq!(log.head(), &head);
            }
            got.extend(log.append_batch(batch, &at).expect("batched"));
            rest = after;
        }
        drop(log);
        proptest::prop_assert_eq!(got, expected);
        proptest::prop_assert_eq!(appended_rows(&batched), appended_rows(&alone));
        proptest::prop_assert!(Log::open_read_only(&batched).expect("open").verify(None).expect("verify").ok);
    }
}
