//! The Merkle tree kept beside the log: written with the events, filled
//! for a log written before it existed, the same either way, and proofs
//! that verify against the roots it gives.

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Log, StoreError, StoredCheckpoint};
use dotpha_testkit::Workload;
use dotpha_tlog::{TreeError, tree};
use rusqlite::Connection;

fn at() -> Timestamp {
    Timestamp::parse("2021-03-02T01:30:00.123Z").expect("instant")
}

/// A log of at least `events` events, appended in batches of various sizes.
fn build(path: &std::path::Path, events: u64) {
    let mut workload = Workload::new("tree", 3, 4);
    let mut ledger = Ledger::open(path).expect("open");
    let read = |m: &dotpha_testkit::Message| {
        Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable")
    };
    ledger
        .submit_batch(workload.setup().iter().map(read).collect(), &at())
        .expect("setup");
    let mut n = 1;
    while ledger.log().head().position < events {
        let batch = (0..n).map(|_| read(&workload.next_report())).collect();
        ledger.submit_batch(batch, &at()).expect("reports");
        n = n % 37 + 1;
    }
}

fn nodes(path: &std::path::Path) -> Vec<(u64, Vec<u8>)> {
    let conn = Connection::open(path).expect("open");
    conn.prepare("SELECT position, hashes FROM tree_nodes ORDER BY position")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn a_log_written_before_the_tree_gets_the_same_tree_when_opened() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.sqlite");
    build(&path, 333);
    let written = nodes(&path);
    let head = Log::open_read_only(&path).expect("open").head().position;
    assert_eq!(written.len() as u64, head, "one row per event");
    // Make it a log of schema 4, as dotpha wrote it before the tree.
    {
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "DROP TRIGGER tree_nodes_no_update; DROP TRIGGER tree_nodes_no_delete;
             DROP TRIGGER tree_checkpoints_no_update; DROP TRIGGER tree_checkpoints_no_delete;
             DROP TABLE tree_nodes; DROP TABLE tree_checkpoints; DROP TABLE cosignatures;
             PRAGMA user_version = 4;",
        )
        .expect("downgrade");
    }
    let log = Log::open(&path).expect("migrates and fills");
    assert_eq!(
        nodes(&path),
        written,
        "a rebuild from the events gives the same nodes"
    );
    assert!(log.verify(None).expect("verify").ok);
}

#[test]
fn proofs_from_the_store_verify_against_its_roots() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.sqlite");
    build(&path, 250);
    let log = Log::open_read_only(&path).expect("open");
    let head = log.head().position;
    let (size, head_root) = log.head_root().expect("root");
    assert_eq!(size, head);
    assert_eq!(log.tree_root(head).expect("root"), head_root);
    for size in [1, 2, 7, 64, 65, 100, head] {
        let root = log.tree_root(size).expect("root");
        for position in [1, size / 2 + 1, size] {
            let proof = log.inclusion_proof(position, size).expect("proof");
            let event = &log.events_from(position, 1).expect("event")[0];
            assert_eq!(
                Some(tree::parse_hex(&proof.leaf_hash).expect("hex")),
                tree::event_leaf_hash(&event.hash),
                "the leaf is the event's hash"
            );
            proof.verify(root).expect("inclusion verifies");
        }
        let proof = log.consistency_proof(size, head).expect("proof");
        proof.verify(root, head_root).expect("consistency verifies");
    }
    // Beyond the log or outside a tree: an error callers can tell apart.
    for result in [
        log.inclusion_proof(1, head + 1).map(|_| ()),
        log.inclusion_proof(0, head).map(|_| ()),
        log.inclusion_proof(11, 10).map(|_| ()),
        log.consistency_proof(0, head).map(|_| ()),
        log.consistency_proof(5, head + 1).map(|_| ()),
        log.tree_root(head + 1).map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(StoreError::Tree(TreeError::OutOfRange(_)))),
            "{result:?}"
        );
    }
}

#[test]
fn checkpoints_and_cosignatures_are_kept_once() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.sqlite");
    build(&path, 20);
    let log = Log::open(&path).expect("open");
    assert_eq!(log.latest_checkpoint().expect("read"), None);
    let checkpoint = |size: u64, note: &str| StoredCheckpoint {
        tree_size: size,
        root_hash: tree::to_hex(&log.tree_root(size).expect("root")),
        note: note.to_owned(),
        signed_at: "2026-11-30T00:00:00Z".to_owned(),
    };
    log.record_checkpoint(&checkpoint(10, "ten"))
        .expect("record");
    log.record_checkpoint(&checkpoint(20, "twenty"))
        .expect("record");
    log.record_checkpoint(&checkpoint(20, "again"))
        .expect("the same size again");
    let latest = log.latest_checkpoint().expect("read").expect("one");
    assert_eq!((latest.tree_size, latest.note.as_str()), (20, "twenty"));
    assert!(
        log.record_cosignature(10, "w1", "— w1 x\n", 1, "t")
            .expect("new")
    );
    assert!(
        !log.record_cosignature(10, "w1", "— w1 y\n", 2, "t")
            .expect("kept once")
    );
    assert!(
        log.record_cosignature(10, "w2", "— w2 x\n", 1, "t")
            .expect("new")
    );
    assert_eq!(log.cosignatures(10).expect("read").len(), 2);
    let attested = log.attestations().expect("read");
    assert_eq!(attested.len(), 2, "the latest and the latest cosigned");
    assert_eq!((attested[0].tree_size, attested[0].cosigned_by), (20, 0));
    assert_eq!((attested[1].tree_size, attested[1].cosigned_by), (10, 2));
}
