//! A catch-up whose transactions span several parts read ahead by another
//! thread (`dotpha_project::catch_up_in`, as a rebuild reads the log), when
//! an event of the log cannot be read: wherever it falls in a part and in a
//! transaction, the events before it are applied and committed, the error
//! names its position, nothing after it is applied, and the read model then
//! answers as one that applied exactly those events.

use dotpha_domain::Timestamp;
use dotpha_project::{Batching, ProjectError};
use dotpha_store::{Arrival, Ledger, Log, ReceiptStatus};
use dotpha_testkit::Workload;
use dotpha_views::{ReadModel, ViewError, query::TaskFilter};

/// A log of a small workload's setup and `reports` reports; returns its
/// directory and how many events it holds.
fn log(reports: usize) -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("opens");
    let mut workload = Workload::new("c", 2, 2);
    let mut messages = workload.setup();
    messages.extend((0..reports).map(|_| workload.next_report()));
    for (i, chunk) in messages.chunks(7).enumerate() {
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
    let head = ledger.log().current_head().expect("head").position;
    (dir, head)
}

/// A copy of the log at `from` whose event at `bad` has a type no build
/// knows (as a newer writer's event would), its chain intact.
fn with_unknown_event(from: &std::path::Path, bad: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    std::fs::copy(from, &path).expect("copies");
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conn.execute_batch("DROP TRIGGER IF EXISTS events_no_update")
        .expect("drops the guard");
    conn.execute(
        "UPDATE events SET type = 'TaskTeleported' WHERE position = ?1",
        [bad],
    )
    .expect("changes the type");
    dir
}

/// What the read model answers: its position and every task as listed.
fn answers(read: &ReadModel) -> (u64, String) {
    let (tasks, _) = read.tasks(&TaskFilter::default(), 0).expect("tasks");
    (
        read.applied().position,
        serde_json::to_string(&tasks).expect("serializes"),
    )
}

#[test]
fn an_unreadable_event_in_a_transaction_of_parts_keeps_what_came_before_it() {
    let (good, head) = log(20);
    let good_log = Log::open_read_only(good.path().join("log.sqlite")).expect("opens");
    let batchings = [(1, 1, 0), (2, 3, 0), (3, 4, 2), (5, 2, 1), (4, 16, 6)];
    for bad in 1..=head {
        let broken = with_unknown_event(&good.path().join("log.sqlite"), bad);
        let broken_log = Log::open_read_only(broken.path().join("log.sqlite")).expect("opens");
        // What applying the events before it one batch at a time leaves.
        let scratch = tempfile::tempdir().expect("temp dir");
        let mut expected = ReadModel::open(scratch.path().join("expected.sqlite")).expect("opens");
        if bad > 1 {
            expected
                .apply_logged(&good_log.events_from(1, bad as usize - 1).expect("events"))
                .expect("applies");
        }
        for (part, parts, ahead) in batchings {
            let mut read = ReadModel::open(
                scratch
                    .path()
                    .join(format!("{part}-{parts}-{ahead}.sqlite")),
            )
            .expect("opens");
            let mut commits = Vec::new();
            let outcome = dotpha_project::catch_up_in(
                &mut read,
                &broken_log,
                Batching { part, parts, ahead },
                |applied, _| commits.push(applied),
            );
            let context =
                format!("event {bad} of {head} unreadable, {part} x {parts}, {ahead} ahead");
            match outcome {
                Err(ProjectError::View(ViewError::Undecodable { position, .. })) => {
                    assert_eq!(position, bad, "{context}")
                }
                other => panic!("{context}: expected the event to be named, got {other:?}"),
            }
            assert_eq!(commits.last().copied(), Some(bad - 1), "{context}");
            assert_eq!(answers(&read), answers(&expected), "{context}");
            // Opened again, the file holds the same.
            drop(read);
            let read = ReadModel::open(
                scratch
                    .path()
                    .join(format!("{part}-{parts}-{ahead}.sqlite")),
            )
            .expect("opens");
            assert_eq!(answers(&read), answers(&expected), "{context}");
        }
    }
}
