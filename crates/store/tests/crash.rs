//! Crash safety: a writer killed with SIGKILL at arbitrary moments leaves a
//! log that opens, verifies, folds, and holds every submission wholly or not
//! at all, with the decided submissions exactly a prefix of what was sent.
//!
//! The test binary runs itself as the writer: `crash_child` (ignored, and a
//! no-op unless `DOTPHA_CRASH_CHILD_DIR` is set) appends batches of a fixed
//! sequence of submissions forever; the parent kills it after a pseudo-random
//! delay, checks the log, and starts the next writer on the same log, which
//! resumes where the committed decisions end.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Head, Ledger, Log};
use dotpha_testkit::{Message, Workload};

const CHILD_ENV: &str = "DOTPHA_CRASH_CHILD_DIR";
const ROUNDS: u64 = 60;
/// Rounds on one log before starting a fresh one, so that the log (and the
/// time to check it) stays small while each log still lives through several
/// crashes and recoveries.
const ROUNDS_PER_LOG: u64 = 6;
/// A writer that is never killed stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);

/// The deterministic sequence every writer sends: the workload's setup,
/// then progress reports without end.
struct Sequence {
    workload: Workload,
    setup: std::vec::IntoIter<Message>,
}

impl Sequence {
    fn new() -> Sequence {
        let mut workload = Workload::new("crash", 3, 4);
        let setup = workload.setup().into_iter();
        Sequence { workload, setup }
    }
}

impl Iterator for Sequence {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        Some(
            self.setup
                .next()
                .unwrap_or_else(|| self.workload.next_report()),
        )
    }
}

/// xorshift64*: enough randomness for delays and batch sizes, and replayable.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

fn decided_count(path: &Path) -> u64 {
    rusqlite::Connection::open(path)
        .expect("open")
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .expect("count decisions")
}

/// The writer. Does nothing in a normal test run.
#[test]
#[ignore = "the crash test's writer process, run by crash_safety_*"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let started = Instant::now();
    let path = Path::new(&dir).join("log.sqlite");
    let mut ledger = Ledger::open(&path).expect("the writer opens the log");
    // Resume after the decided prefix (the parent checks it is a prefix).
    let decided = decided_count(&path);
    let mut sequence = Sequence::new().skip(decided as usize);
    let mut rng = Rng::new(decided + 1);
    let mut millis = 1_614_648_600_000 + decided as i64;
    while started.elapsed() < CHILD_LIFETIME {
        let size = rng.between(1, 300) as usize;
        let batch: Vec<Arrival> = sequence
            .by_ref()
            .take(size)
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("ok"))
            .collect();
        millis += 1;
        ledger
            .submit_batch(batch, &Timestamp::from_unix_millis(millis))
            .expect("the writer appends");
    }
}

struct Checked {
    head: Head,
    decided: u64,
}

/// Everything a crash must not break, checked on the log at `path`.
fn check(
    path: &Path,
    expected_ids: &mut Vec<String>,
    ids: &mut Sequence,
    before: &Head,
) -> Checked {
    let log = Log::open(path).expect("the log opens after a crash");
    let head = log.head().clone();
    let report = log.verify(Some(before)).expect("verify runs");
    assert!(
        report.ok,
        "the log verifies, and still holds the head seen before this crash: {report:#?}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.events_checked, head.position);
    drop(log);

    let conn = rusqlite::Connection::open(path).expect("open");
    let decisions: Vec<(String, String, Option<u64>, Option<u64>)> = conn
        .prepare(
            "SELECT submission_id, status, first_position, last_position FROM decisions ORDER BY seq",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("decisions");
    let events: Vec<(u64, String)> = conn
        .prepare("SELECT position, submission_id FROM events ORDER BY position")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("events");
    drop(conn);

    // Positions run from 1 without gaps, up to the head.
    assert_eq!(events.len() as u64, head.position);
    for (i, (position, _)) in events.iter().enumerate() {
        assert_eq!(*position, i as u64 + 1, "no gap in positions");
    }

    // The decided submissions are exactly the first n of the sequence.
    while expected_ids.len() < decisions.len() {
        let next = ids.next().expect("endless");
        expected_ids.push(next.submission_id);
    }
    for (i, (id, ..)) in decisions.iter().enumerate() {
        assert_eq!(
            id, &expected_ids[i],
            "decision {i} is the sequence's submission {i}: no holes, no reordering"
        );
    }

    // Every accepted decision's events are there, consecutive and its own;
    // every event belongs to one; the decisions tile the log in order.
    let mut next = 1u64;
    for (id, status, first, last) in &decisions {
        assert_eq!(status, "accepted", "{id}: the sequence is all valid");
        let (first, last) = (first.expect("first"), last.expect("last"));
        assert_eq!(
            first, next,
            "{id}: its events follow the previous submission's"
        );
        assert!(last >= first, "{id}: at least one event");
        for position in first..=last {
            let (_, owner) = &events[position as usize - 1];
            assert_eq!(owner, id, "event {position} belongs to {id}");
        }
        next = last + 1;
    }
    assert_eq!(next - 1, head.position, "every event belongs to a decision");

    // The writer's start-up works: the state folds.
    let ledger = Ledger::open(path).expect("the ledger reopens after a crash");
    assert_eq!(ledger.log().head(), &head);
    assert_eq!(ledger.state().events_applied(), head.position);
    drop(ledger);

    assert!(
        head.position >= before.position,
        "nothing committed is lost"
    );
    Checked {
        head,
        decided: decisions.len() as u64,
    }
}

#[test]
fn crash_safety_a_writer_killed_at_random_moments_leaves_whole_submissions_in_a_valid_log() {
    let started = Instant::now();
    let exe = std::env::current_exe().expect("the test binary");
    let mut rng = Rng::new(0x0D07_0FA1);
    let mut dir = tempfile::tempdir().expect("temp dir");
    let mut head = Head::genesis();
    let mut expected_ids = Vec::new();
    let mut ids = Sequence::new();
    let mut rounds_that_wrote = 0;
    let mut decided = 0;
    let mut most_decided = 0;

    for round in 0..ROUNDS {
        if round > 0 && round % ROUNDS_PER_LOG == 0 {
            dir = tempfile::tempdir().expect("temp dir");
            head = Head::genesis();
            expected_ids.clear();
            ids = Sequence::new();
            decided = 0;
        }
        let path = dir.path().join("log.sqlite");
        let stderr_path = dir.path().join(format!("child-{round}.stderr"));
        let stderr = std::fs::File::create(&stderr_path).expect("create");
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--test-threads=1",
                "-q",
            ])
            .env(CHILD_ENV, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the writer");
        let delay = rng.between(20, 400);
        std::thread::sleep(Duration::from_millis(delay));
        if let Some(status) = child.try_wait().expect("poll the writer") {
            panic!(
                "round {round}: the writer stopped by itself ({status}) before being killed:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        child.kill().expect("SIGKILL the writer");
        child.wait().expect("reap the writer");

        let checked = check(&path, &mut expected_ids, &mut ids, &head);
        if checked.decided > decided {
            rounds_that_wrote += 1;
        }
        decided = checked.decided;
        most_decided = most_decided.max(decided);
        head = checked.head;
    }

    eprintln!(
        "{ROUNDS} crashes in {:?}; {rounds_that_wrote} rounds committed something; \
         largest log {most_decided} submissions",
        started.elapsed()
    );
    assert!(
        rounds_that_wrote >= ROUNDS / 4,
        "many writers must get to write before they are killed \
         ({rounds_that_wrote} of {ROUNDS} did)"
    );
    assert!(
        most_decided > Sequence::new().setup.len() as u64,
        "the writers got past the setup into the reports"
    );
}
