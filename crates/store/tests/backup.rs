//! Backups and restores of the log: a backup taken while the writer holds
//! uncheckpointed commits is whole and verifies; restoring puts a verified
//! copy in place and sets the replaced log aside whole, never deleting it.

use std::path::Path;

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Log, ReceiptStatus, restore};
use dotpha_testkit::Workload;

fn recorded_at() -> Timestamp {
    Timestamp::parse("2021-03-02T01:30:00.123Z").expect("a valid instant")
}

/// A ledger holding the workload's setup and `reports` progress reports.
fn ledger(path: &Path, workload: &mut Workload, reports: usize) -> Ledger {
    let mut ledger = Ledger::open(path).expect("open a new log");
    let mut messages = workload.setup();
    messages.extend((0..reports).map(|_| workload.next_report()));
    let arrivals = messages
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable"))
        .collect();
    let receipts = ledger
        .submit_batch(arrivals, &recorded_at())
        .expect("appended");
    assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    ledger
}

fn report(ledger: &mut Ledger, workload: &mut Workload, count: usize) {
    let arrivals = (0..count)
        .map(|_| {
            let m = workload.next_report();
            Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable")
        })
        .collect();
    ledger
        .submit_batch(arrivals, &recorded_at())
        .expect("appended");
}

#[test]
fn a_backup_taken_while_the_writer_runs_holds_the_whole_chain_and_verifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("backup", 2, 3);
    let ledger = ledger(&dir.path().join("log.sqlite"), &mut workload, 20);
    let copy = ledger
        .log()
        .backup(&dir.path().join("copy.sqlite"))
        .expect("backed up");
    assert_eq!(&copy.head, ledger.log().head());
    let report = Log::open_read_only(dir.path().join("copy.sqlite"))
        .expect("a log")
        .verify(Some(ledger.log().head()))
        .expect("verifies");
    assert!(report.ok, "{report:?}");
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("backup", 1, 1);
    let ledger = ledger(&dir.path().join("log.sqlite"), &mut workload, 0);
    let existing = dir.path().join("copy.sqlite");
    std::fs::write(&existing, b"precious").expect("write");
    let error = ledger.log().backup(&existing).expect_err("refused");
    assert!(error.to_string().contains("already exists"), "{error}");
    assert_eq!(std::fs::read(&existing).expect("read"), b"precious");
}

#[test]
fn a_restore_puts_the_backup_in_place_and_sets_the_replaced_log_aside_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut workload = Workload::new("backup", 2, 2);
    let mut ledger = ledger(&path, &mut workload, 5);
    let backup = ledger
        .log()
        .backup(&dir.path().join("backup.sqlite"))
        .expect("backed up");
    report(&mut ledger, &mut workload, 5);
    let later = ledger.log().head().clone();
    drop(ledger);

    let restored = restore(&dir.path().join("backup.sqlite"), &path, "test").expect("restored");
    assert_eq!(restored.head, backup.head);
    assert_eq!(
        Ledger::open(&path).expect("opens").log().head(),
        &backup.head
    );
    let aside = restored.set_aside.expect("the replaced log was set aside");
    assert_eq!(
        Log::open_read_only(&aside).expect("opens").head(),
        &later,
        "the set-aside log holds everything it held, its WAL included"
    );
}

#[test]
fn a_backup_that_is_not_an_intact_log_is_refused_and_the_log_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let mut workload = Workload::new("backup", 1, 1);
    let head = ledger(&path, &mut workload, 2).log().head().clone();
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"not a database").expect("write");
    assert!(restore(&junk, &path, "test").is_err());
    assert!(restore(&dir.path().join("missing.sqlite"), &path, "test").is_err());
    assert_eq!(Log::open(&path).expect("opens").head(), &head);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        // log.sqlite, its -wal and -shm, junk.sqlite: nothing set aside.
        std::fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| {
                let name = e.as_ref().expect("entry").file_name();
                !name.to_string_lossy().contains("replaced")
            })
            .count()
    );
}
