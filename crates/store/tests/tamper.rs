//! Tampering with the log behind dotpha's back, through plain SQLite with the
//! append-only triggers dropped, and what `verify` says about it: the first
//! bad position, exactly, and why.
//!
//! Every case builds its own log of 200 events (the same log every time: the
//! workload and the recorded times are fixed), records its head, tampers,
//! and verifies. The forger is thorough: after editing events, they also
//! recompute the Merkle tree's nodes from the edited events (`retree`), so
//! each case shows what the chain alone catches; the cases at the end
//! tamper with the tree itself.

use std::path::{Path, PathBuf};

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, GENESIS_HASH, Head, Ledger, Log, VerifyReport};
use dotpha_testkit::Workload;
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const EVENTS: u64 = 200;
const TRIGGERS: [&str; 6] = [
    "events_no_update",
    "events_no_delete",
    "decisions_no_update",
    "decisions_no_delete",
    "tree_nodes_no_update",
    "tree_nodes_no_delete",
];

struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The head as recorded (say, by an auditor) before the tampering.
    head: Head,
}

/// A log of exactly [`EVENTS`] events, one per submission, all accepted.
fn build() -> Built {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut workload = Workload::new("tamper", 4, 5);
    let mut ledger = Ledger::open(&path).expect("open");
    let at = Timestamp::parse("2021-03-02T01:30:00.123Z").expect("instant");
    let read = |m: &dotpha_testkit::Message| {
        Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable")
    };
    ledger
        .submit_batch(workload.setup().iter().map(read).collect(), &at)
        .expect("setup");
    while ledger.log().head().position < EVENTS {
        let n = (EVENTS - ledger.log().head().position).min(13);
        let batch = (0..n).map(|_| read(&workload.next_report())).collect();
        ledger.submit_batch(batch, &at).expect("reports");
    }
    let head = ledger.log().head().clone();
    assert_eq!(head.position, EVENTS, "one event per submission");
    drop(ledger);
    Built {
        _dir: dir,
        path,
        head,
    }
}

/// Plain SQLite on the file, with the append-only triggers dropped, as an
/// attacker with write access to the file would do.
fn tamper(path: &Path, sql: &str) {
    let conn = Connection::open(path).expect("open with plain SQLite");
    for trigger in TRIGGERS {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .expect("drop trigger");
    }
    conn.execute_batch(sql).expect("tamper");
}

fn verify(path: &Path, expect_head: Option<&Head>) -> VerifyReport {
    retree(path);
    verify_as_is(path, expect_head)
}

/// Verifies without recomputing the tree first.
fn verify_as_is(path: &Path, expect_head: Option<&Head>) -> VerifyReport {
    Log::open_read_only(path)
        .expect("the tampered file still opens")
        .verify(expect_head)
        .expect("verify runs")
}

/// Asserts the report fails first at `position` with a problem containing
/// `why`.
fn assert_fails_at(report: &VerifyReport, position: u64, why: &str) {
    assert!(!report.ok, "tampering must be found: {report:#?}");
    assert_eq!(report.first_bad_position, Some(position), "{report:#?}");
    let problem = report.problem.as_deref().expect("a problem is named");
    assert!(
        problem.contains(why),
        "the problem {problem:?} should say {why:?}"
    );
}

/// The contract's hash, computed here from the contract's paragraph alone:
/// SHA-256 of the JCS form of the event object without `hash`.
fn contract_hash(conn: &Connection, position: u64) -> String {
    let object = conn
        .query_row(
            "SELECT schema, stream, version, type, unit, actor, occurred_at, recorded_at,
                    submission_id, data, prev_hash FROM events WHERE position = ?1",
            [position],
            |r| {
                let data: String = r.get(9)?;
                Ok(json!({
                    "schema": r.get::<_, String>(0)?,
                    "position": position,
                    "stream": r.get::<_, String>(1)?,
                    "version": r.get::<_, u64>(2)?,
                    "type": r.get::<_, String>(3)?,
                    "unit": r.get::<_, String>(4)?,
                    "actor": r.get::<_, String>(5)?,
                    "occurred_at": r.get::<_, String>(6)?,
                    "recorded_at": r.get::<_, String>(7)?,
                    "submission_id": r.get::<_, String>(8)?,
                    "data": serde_json::from_str::<Value>(&data).expect("data is JSON"),
                    "prev_hash": r.get::<_, String>(10)?,
                }))
            },
        )
        .expect("the event");
    let canonical = serde_json_canonicalizer::to_string(&object).expect("canonical");
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn stored_hash(conn: &Connection, position: u64) -> String {
    conn.query_row(
        "SELECT hash FROM events WHERE position = ?1",
        [position],
        |r| r.get(0),
    )
    .expect("the event")
}

/// Rewrites the chain from `from` to the end so that every `prev_hash` and
/// `hash` is right again: what a careful forger does after editing.
fn rechain_from(path: &Path, from: u64) {
    let conn = Connection::open(path).expect("open");
    let last: u64 = conn
        .query_row("SELECT max(position) FROM events", [], |r| r.get(0))
        .expect("max");
    for position in from..=last {
        let prev = if position == 1 {
            GENESIS_HASH.to_owned()
        } else {
            stored_hash(&conn, position - 1)
        };
        conn.execute(
            "UPDATE events SET prev_hash = ?1 WHERE position = ?2",
            params![prev, position],
        )
        .expect("set prev_hash");
        let hash = contract_hash(&conn, position);
        conn.execute(
            "UPDATE events SET hash = ?1 WHERE position = ?2",
            params![hash, position],
        )
        .expect("set hash");
    }
}

#[test]
fn an_intact_log_passes_with_no_bad_position_and_no_warnings() {
    let log = build();
    let report = verify_as_is(&log.path, None);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.first_bad_position, None);
    assert_eq!(report.problem, None);
    assert_eq!(report.events_checked, EVENTS);
    assert_eq!(report.head_position, log.head.position);
    assert_eq!(report.head_hash, log.head.hash);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn an_intact_log_passes_with_its_recorded_head_and_with_any_earlier_head() {
    let log = build();
    assert!(verify(&log.path, Some(&log.head)).ok);
    let conn = Connection::open(&log.path).expect("open");
    let earlier = Head {
        position: 120,
        hash: stored_hash(&conn, 120),
    };
    assert!(
        verify(&log.path, Some(&earlier)).ok,
        "a log that grew since still holds the head"
    );
    assert!(verify(&log.path, Some(&Head::genesis())).ok);
}

#[test]
fn the_stored_hashes_are_the_contracts_hashes() {
    let log = build();
    let conn = Connection::open(&log.path).expect("open");
    for position in 1..=EVENTS {
        assert_eq!(
            contract_hash(&conn, position),
            stored_hash(&conn, position),
            "position {position}"
        );
    }
}

#[test]
fn an_expected_head_with_another_hash_fails_at_that_position() {
    let log = build();
    let wrong = Head {
        position: 120,
        hash: "ab".repeat(32),
    };
    assert_fails_at(&verify(&log.path, Some(&wrong)), 120, "rewritten");
}

#[test]
fn dropping_the_triggers_leaves_the_chain_intact_but_warns_naming_each_trigger() {
    let log = build();
    tamper(&log.path, "");
    let report = verify(&log.path, Some(&log.head));
    assert!(report.ok, "dropping triggers changes no event: {report:#?}");
    assert_eq!(report.first_bad_position, None);
    assert_eq!(
        report.warnings.len(),
        TRIGGERS.len(),
        "{:?}",
        report.warnings
    );
    for trigger in TRIGGERS {
        assert!(
            report.warnings.iter().any(|w| w.contains(trigger)),
            "a warning names {trigger}: {:?}",
            report.warnings
        );
    }
}

#[test]
fn editing_one_events_data_fails_at_that_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE events SET data = json_set(data, '$.task_id', 'ndp-2021-9999-000') WHERE position = 57",
    );
    assert_fails_at(&verify(&log.path, None), 57, "hash does not match");
    assert_fails_at(
        &verify(&log.path, Some(&log.head)),
        57,
        "hash does not match",
    );
}

#[test]
fn editing_one_events_recorded_time_fails_at_that_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE events SET recorded_at = '2021-03-02T01:30:00.124Z' WHERE position = 3",
    );
    assert_fails_at(&verify(&log.path, None), 3, "hash does not match");
}

#[test]
fn re_serializing_an_events_data_without_changing_it_is_not_tampering() {
    let log = build();
    let conn = Connection::open(&log.path).expect("open");
    let data: String = conn
        .query_row("SELECT data FROM events WHERE position = 57", [], |r| {
            r.get(0)
        })
        .expect("data");
    let value: Value = serde_json::from_str(&data).expect("JSON");
    let pretty = serde_json::to_string_pretty(&value).expect("JSON");
    assert_ne!(pretty, data);
    drop(conn);
    tamper(
        &log.path,
        &format!(
            "UPDATE events SET data = '{}' WHERE position = 57",
            pretty.replace('\'', "''")
        ),
    );
    let report = verify(&log.path, Some(&log.head));
    assert!(
        report.ok,
        "the same JSON value hashes the same: {report:#?}"
    );
}

#[test]
fn deleting_one_event_fails_at_its_position() {
    let log = build();
    tamper(&log.path, "DELETE FROM events WHERE position = 80");
    assert_fails_at(&verify(&log.path, None), 80, "position 80 is missing");
}

#[test]
fn swapping_two_events_contents_fails_at_the_earlier_one() {
    let log = build();
    tamper(
        &log.path,
        "CREATE TEMP TABLE moved AS SELECT * FROM events WHERE position IN (30, 40);
         DELETE FROM events WHERE position IN (30, 40);
         INSERT INTO events SELECT CASE position WHEN 30 THEN 40 ELSE 30 END,
             schema, stream, version, type, unit, actor, occurred_at, recorded_at,
             submission_id, data, prev_hash, hash FROM moved;",
    );
    // Position 30 now holds 40's event, whose prev_hash is 39's hash, not 29's.
    assert_fails_at(
        &verify(&log.path, None),
        30,
        "prev_hash does not equal the hash of position 29",
    );
}

#[test]
fn truncating_the_tail_with_its_decisions_passes_alone_but_fails_against_the_recorded_head() {
    let log = build();
    tamper(
        &log.path,
        "DELETE FROM events WHERE position > 150;
         DELETE FROM decisions WHERE seq > (SELECT seq FROM decisions WHERE last_position = 150);",
    );
    // The chain cannot see a clean cut: what is left is a valid, shorter log.
    let alone = verify(&log.path, None);
    assert!(alone.ok, "{alone:#?}");
    assert_eq!(alone.head_position, 150);
    // The recorded head can.
    assert_fails_at(&verify(&log.path, Some(&log.head)), 151, "it was truncated");
}

#[test]
fn truncating_the_tail_but_leaving_its_decisions_fails_at_the_first_missing_position() {
    let log = build();
    tamper(&log.path, "DELETE FROM events WHERE position > 150");
    assert_fails_at(
        &verify(&log.path, None),
        151,
        "an accepted decision names position 151",
    );
}

#[test]
fn editing_an_event_and_its_stored_hash_fails_at_that_event() {
    let log = build();
    // The forger edits event 100 and writes some other hash over it without
    // computing it: 100's stored hash is not the hash of its contents.
    tamper(
        &log.path,
        &format!(
            "UPDATE events SET data = json_set(data, '$.note', 'sửa'), hash = '{}' WHERE position = 100",
            "7e".repeat(32)
        ),
    );
    assert_fails_at(&verify(&log.path, None), 100, "hash does not match");
}

#[test]
fn editing_an_event_and_recomputing_its_hash_fails_at_the_next_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE events SET data = json_set(data, '$.note', 'sửa') WHERE position = 100",
    );
    // The forger computes 100's hash right, from the contract: 100 is now
    // a valid link, but 101 still points at the hash 100 had.
    rehash(&log.path, 100);
    assert_fails_at(
        &verify(&log.path, None),
        101,
        "prev_hash does not equal the hash of position 100",
    );
}

#[test]
fn rewriting_the_chain_consistently_passes_alone_but_fails_against_the_recorded_head() {
    let log = build();
    let conn = Connection::open(&log.path).expect("open");
    let before_edit = Head {
        position: 99,
        hash: stored_hash(&conn, 99),
    };
    drop(conn);
    tamper(
        &log.path,
        "UPDATE events SET data = json_set(data, '$.note', 'sửa') WHERE position = 100",
    );
    rechain_from(&log.path, 100);
    // Every link is right again: the chain alone cannot tell.
    let alone = verify(&log.path, None);
    assert!(alone.ok, "{alone:#?}");
    assert_ne!(alone.head_hash, log.head.hash);
    // A head recorded before the rewrite can, at the head's position.
    assert_fails_at(&verify(&log.path, Some(&log.head)), EVENTS, "rewritten");
    // A head from before the edited event is still held.
    assert!(verify(&log.path, Some(&before_edit)).ok);
}

#[test]
fn an_event_the_services_cannot_read_fails_at_its_position_even_when_chained() {
    // Chained and hashed right, in a decision's range: only decoding it as
    // the services do tells that no reader can fold it.
    for (position, sql, why) in [
        (
            130,
            "UPDATE events SET data = json_set(data, '$.values', 'nhiều') WHERE position = 130",
            "data of progress.reported cannot be read",
        ),
        (
            140,
            "UPDATE events SET type = 'task.archived' WHERE position = 140",
            "unknown event type",
        ),
        (
            150,
            "UPDATE events SET occurred_at = '2021-03-02 08:30' WHERE position = 150",
            "occurred_at",
        ),
    ] {
        let log = build();
        tamper(&log.path, sql);
        rechain_from(&log.path, position);
        let report = verify(&log.path, None);
        assert_fails_at(&report, position, "the services cannot read this event");
        assert_fails_at(&report, position, why);
        assert_eq!(report.events_checked, position - 1);
        let fold = Log::open_read_only(&log.path)
            .expect("opens")
            .load_state()
            .expect_err("the services cannot fold it either");
        assert!(
            matches!(fold, dotpha_store::StoreError::Undecodable { position: p, .. } if p == position),
            "{fold}"
        );
    }
}

#[test]
fn skipping_a_stream_version_fails_at_that_event_even_when_rechained() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE events SET version = version + 5 WHERE position = 120",
    );
    rechain_from(&log.path, 120);
    assert_fails_at(&verify(&log.path, None), 120, "goes from version");
}

#[test]
fn changing_a_decisions_submission_fails_at_its_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE decisions SET submission_id = 'forged-submission-0001' WHERE last_position = 120",
    );
    assert_fails_at(
        &verify(&log.path, None),
        120,
        "the decision for it is forged-submission-0001",
    );
}

#[test]
fn deleting_a_decision_fails_at_the_event_it_covered() {
    let log = build();
    tamper(&log.path, "DELETE FROM decisions WHERE last_position = 130");
    assert_fails_at(&verify(&log.path, None), 130, "no accepted decision");
}

#[test]
fn turning_an_acceptance_into_a_rejection_fails_at_the_event_it_covered() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE decisions SET status = 'rejected', first_position = NULL, last_position = NULL,
                              error_code = 'forbidden', error_message = 'no'
         WHERE last_position = 130",
    );
    assert_fails_at(&verify(&log.path, None), 130, "no accepted decision");
}

#[test]
fn an_event_appended_behind_dotphas_back_fails_at_its_position_even_when_chained() {
    let log = build();
    tamper(
        &log.path,
        &format!(
            "INSERT INTO events (position, stream, version, type, unit, actor, occurred_at,
                                 recorded_at, submission_id, data, prev_hash, hash)
             SELECT position + 1, stream, version + 1, type, unit, actor, occurred_at,
                    recorded_at, 'forged-submission-0002', data, hash, '{}'
             FROM events WHERE position = {EVENTS}",
            "00".repeat(32)
        ),
    );
    rechain_from(&log.path, EVENTS + 1);
    assert_fails_at(
        &verify(&log.path, None),
        EVENTS + 1,
        "no accepted decision of submission forged-submission-0002",
    );
    // The recorded head is still held; the decisions are what give it away.
    assert_fails_at(
        &verify(&log.path, Some(&log.head)),
        EVENTS + 1,
        "no accepted decision",
    );
}

/// Recomputes the stored hash of one event from its (edited) contents.
fn rehash(path: &Path, position: u64) {
    let conn = Connection::open(path).expect("open");
    let hash = contract_hash(&conn, position);
    conn.execute(
        "UPDATE events SET hash = ?1 WHERE position = ?2",
        params![hash, position],
    )
    .expect("set hash");
}

/// What a thorough forger does after editing events: recompute every node
/// of the Merkle tree from the events as they now are.
fn retree(path: &Path) {
    let conn = Connection::open(path).expect("open");
    for trigger in TRIGGERS {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .expect("drop trigger");
    }
    conn.execute_batch("DELETE FROM tree_nodes").expect("clear");
    let mut frontier = dotpha_tlog::Frontier::empty();
    let rows: Vec<(u64, String)> = conn
        .prepare("SELECT position, hash FROM events ORDER BY position")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (position, hash) in rows {
        let bytes = hex::decode(&hash).unwrap_or_else(|_| vec![0; 32]);
        conn.execute(
            "INSERT INTO tree_nodes (position, hashes) VALUES (?1, ?2)",
            params![position, frontier.append(&bytes).to_bytes()],
        )
        .expect("insert node");
    }
}

#[test]
fn editing_an_event_without_recomputing_the_tree_fails_at_that_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE events SET data = json_set(data, '$.note', 'sửa') WHERE position = 100",
    );
    rechain_from(&log.path, 100);
    // The chain links again, but the tree still holds the old leaf.
    assert_fails_at(
        &verify_as_is(&log.path, None),
        100,
        "the Merkle tree's nodes for this event",
    );
}

#[test]
fn editing_a_tree_node_fails_at_its_event() {
    let log = build();
    tamper(
        &log.path,
        "UPDATE tree_nodes SET hashes = zeroblob(length(hashes)) WHERE position = 64",
    );
    assert_fails_at(
        &verify_as_is(&log.path, None),
        64,
        "the Merkle tree's nodes for this event",
    );
    tamper(&log.path, "DELETE FROM tree_nodes WHERE position = 170");
    assert_fails_at(&verify_as_is(&log.path, None), 64, "Merkle tree");
}

#[test]
fn a_tree_node_beyond_the_events_fails_at_its_position() {
    let log = build();
    tamper(
        &log.path,
        &format!(
            "INSERT INTO tree_nodes (position, hashes) VALUES ({}, zeroblob(32))",
            EVENTS + 1
        ),
    );
    assert_fails_at(
        &verify_as_is(&log.path, None),
        EVENTS + 1,
        "an event the log does not hold",
    );
}
