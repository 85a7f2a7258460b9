//! Benchmarks of the log, each beside raw rusqlite doing the same rows in the
//! same run, so the figures compare on whatever machine runs them.
//!
//! `cargo bench -p dotpha-store --bench log` (sizes: `DOTPHA_BENCH_EVENTS`,
//! default 1,000,000 for verify and fold; `DOTPHA_BENCH_APPEND_ONLY=1` stops
//! after the appends; `DOTPHA_BENCH_ROUNDS`, default 1, repeats each batch's
//! append and its raw inserts in turn, each append into a fresh copy of the
//! same log with the same decisions, so a ratio is read from pairs run
//! side by side).

use std::time::{Duration, Instant};

use dotpha_domain::{Event, State, Timestamp, decide, parse_submission};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome};
use dotpha_testkit::Workload;
use rusqlite::{Connection, params};

fn recorded_at() -> Timestamp {
    Timestamp::from_unix_millis(1_614_648_600_123)
}

/// A log with the workload's setup, reopened as a bare log plus its state.
fn prepared(dir: &std::path::Path, workload: &mut Workload) -> (Log, State) {
    let path = dir.join("log.sqlite");
    let mut ledger = Ledger::open(&path).expect("open");
    let arrivals = workload
        .setup()
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
        .collect();
    ledger
        .submit_batch(arrivals, &recorded_at())
        .expect("setup");
    drop(ledger);
    let log = Log::open(&path).expect("reopen");
    let state = log.load_state().expect("fold");
    (log, state)
}

/// Decides `n` reports against `state`, as the writer would.
fn decisions(workload: &mut Workload, state: &mut State, n: usize) -> Vec<Decision> {
    (0..n)
        .map(|_| {
            let m = workload.next_report();
            let submission = parse_submission(&m.body, Some(&m.unit)).expect("valid");
            let events: Vec<Event> = decide(state, &submission).expect("accepted");
            for e in &events {
                state.apply(e);
            }
            Decision {
                submission_id: m.submission_id,
                unit: Some(m.unit),
                outcome: Outcome::Accepted(events),
                submission: None,
            }
        })
        .collect()
}

type EventRow = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
);

/// What a raw insert leaves out of the rows `append_batch` writes, to price
/// each part of them (the issue's "ask of each column and index what it is
/// for").
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    /// Every row and index `append_batch` writes: the event, its tree node,
    /// its decision.
    Same,
    /// With the unique index on `(stream, version)` that logs of schema 5
    /// and older have.
    WithStreamIndex,
    /// Without the tree node row.
    NoTree,
    /// Without the unique index on the decision's `submission_id` (which
    /// finds a duplicate submission).
    NoSubmissionIndex,
}

/// The rows `log` holds after `after`: event, tree node.
fn stored_rows(log_path: &std::path::Path, after: u64) -> Vec<EventRow> {
    let source = Connection::open(log_path).expect("open source");
    source
        .prepare(
            "SELECT e.position, stream, version, type, unit, actor, occurred_at, recorded_at, submission_id, data,
                    prev_hash, hash, n.hashes FROM events e JOIN tree_nodes n ON n.position = e.position
              WHERE e.position > ?1 ORDER BY e.position",
        )
        .expect("prepare")
        .query_map([after], |r| {
            Ok((
                r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?,
                r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A fresh WAL database at `synchronous=FULL` with the log's page cache.
fn raw_database(path: &std::path::Path) -> Connection {
    let _ = std::fs::remove_file(path);
    let conn = Connection::open(path).expect("open raw");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.pragma_update(None, "cache_size", -65_536)
        .expect("cache");
    conn
}

/// Inserts `rows` into a fresh database with the log's schema (less what
/// `rows_kind` leaves out), `batch` submissions per FULL-synchronous
/// transaction, with plain rusqlite: no hashing, canonical JSON or
/// duplicate check.
fn raw_inserts(rows: &[EventRow], batch: usize, dir: &std::path::Path, kind: Rows) -> Duration {
    let mut conn = raw_database(&dir.join(format!("raw-{batch}.sqlite")));
    let unique = if kind == Rows::WithStreamIndex {
        ", UNIQUE (stream, version)"
    } else {
        ""
    };
    let submission_unique = if kind == Rows::NoSubmissionIndex {
        ""
    } else {
        " UNIQUE"
    };
    conn.execute_batch(&format!(
        "CREATE TABLE events (position INTEGER PRIMARY KEY, schema TEXT NOT NULL DEFAULT 'dotpha.event.v1',
           stream TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, unit TEXT NOT NULL,
           actor TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
           submission_id TEXT NOT NULL, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL{unique});
         CREATE TABLE tree_nodes (position INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
         CREATE TABLE decisions (seq INTEGER PRIMARY KEY, submission_id TEXT NOT NULL{submission_unique},
           status TEXT NOT NULL, unit TEXT, first_position INTEGER, last_position INTEGER,
           error_code TEXT, error_message TEXT, error_field TEXT, submission TEXT, recorded_at TEXT NOT NULL);",
    ))
    .expect("schema");
    let start = Instant::now();
    for chunk in rows.chunks(batch) {
        let tx = conn.transaction().expect("tx");
        {
            let mut event = tx
                .prepare_cached(
                    "INSERT INTO events (position, stream, version, type, unit, actor, occurred_at,
                                 recorded_at, submission_id, data, prev_hash, hash)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .expect("prepare");
            let mut node = tx
                .prepare_cached("INSERT INTO tree_nodes (position, hashes) VALUES (?1, ?2)")
                .expect("prepare");
            let mut decision = tx
                .prepare_cached("INSERT INTO decisions (submission_id, status, unit, first_position, last_position,
                                 recorded_at) VALUES (?1, 'accepted', ?2, ?3, ?3, ?4)")
                .expect("prepare");
            for r in chunk {
                event
                    .execute(params![
                        r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11
                    ])
                    .expect("insert");
                if kind != Rows::NoTree {
                    node.execute(params![r.0, r.12]).expect("insert");
                }
                decision
                    .execute(params![r.8, r.4, r.0, r.7])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    start.elapsed()
}

/// Plain rusqlite inserting one small row per event (the peer's row: an
/// aggregate, a sequence, a type, a version, a ~10-byte payload and its
/// metadata, primary key on the first three), same pragmas and batches.
fn small_rows(n: usize, batch: usize, dir: &std::path::Path) -> Duration {
    small_rows_padded(n, batch, dir, 0)
}

/// The bytes of text and blob one submission's rows hold (event, tree
/// node, decision), on average over `rows`.
fn row_bytes(rows: &[EventRow]) -> usize {
    let each = |r: &EventRow| {
        [&r.1, &r.3, &r.4, &r.5, &r.6, &r.7, &r.8, &r.9, &r.10, &r.11]
            .iter()
            .map(|t| t.len())
            .sum::<usize>()
            + r.12.len()
            // The decision: its submission id, unit and instant again.
            + r.8.len()
            + r.4.len()
            + r.7.len()
    };
    rows.iter().map(each).sum::<usize>() / rows.len().max(1)
}

/// The bytes of text one small row holds ([`small_rows`]): its aggregate,
/// id, type, version, payload (`{"pct":NN}`) and metadata.
const SMALL_ROW_BYTES: usize = 4 + 6 + 8 + 3 + 10 + 24;

/// What `,"pad":""` adds to a padded small row's payload, besides the
/// padding ([`small_rows_padded`]).
const PAD_MEMBER_BYTES: usize = 9;

/// [`small_rows`] whose payload is `padding` bytes longer: the peer's row
/// holding as many bytes as dotpha's rows do, to tell what the bytes cost
/// from what the rows and indexes cost.
fn small_rows_padded(n: usize, batch: usize, dir: &std::path::Path, padding: usize) -> Duration {
    // The pad member only when padding, so the unpadded row is the peer's.
    let pad = if padding > 0 {
        format!(",\"pad\":\"{}\"", "x".repeat(padding))
    } else {
        String::new()
    };
    let mut conn = raw_database(&dir.join(format!("small-{batch}.sqlite")));
    conn.execute_batch(
        "CREATE TABLE events (aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL,
           sequence INTEGER NOT NULL, event_type TEXT NOT NULL, event_version TEXT NOT NULL,
           payload TEXT NOT NULL, metadata TEXT NOT NULL,
           PRIMARY KEY (aggregate_type, aggregate_id, sequence));",
    )
    .expect("schema");
    let start = Instant::now();
    let mut done = 0;
    while done < n {
        let take = batch.min(n - done);
        let tx = conn.transaction().expect("tx");
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO events VALUES ('Task', 'task-1', ?1, 'Progress', '1.0', ?2, ?3)",
                )
                .expect("prepare");
            for i in done..done + take {
                st.execute(params![
                    (i + 1) as i64,
                    format!("{{\"pct\":{}{pad}}}", i % 100),
                    "{\"correlation_id\":\"c-1\"}"
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
        done += take;
    }
    start.elapsed()
}

/// The canonical text of each event's data (what the log stores and
/// hashes), as the append makes it (through a `serde_json::Value`), beside
/// `serde_json::to_string` of the same payload: plain JSON, members in
/// declaration order (the layer below).
fn canonical_data() {
    const EVENTS: usize = 100_000;
    let mut workload = Workload::new("bench", 100, 10);
    let mut state = State::new();
    for m in workload.setup() {
        let submission = parse_submission(&m.body, Some(&m.unit)).expect("valid");
        for e in decide(&state, &submission).expect("accepted") {
            state.apply(&e);
        }
    }
    let events: Vec<Event> = decisions(&mut workload, &mut state, EVENTS)
        .into_iter()
        .flat_map(|d| match d.outcome {
            Outcome::Accepted(events) => events,
            Outcome::Rejected(_) => Vec::new(),
        })
        .collect();
    println!(
        "\n### an event's data in canonical form ({} reports)\n",
        events.len()
    );
    println!("| made | events/s | bytes | against plain serde_json |");
    println!("|---|---:|---:|---:|");
    let time = |make: &dyn Fn(&Event) -> String| {
        let start = Instant::now();
        let bytes: usize = events.iter().map(|e| make(e).len()).sum();
        (start.elapsed(), bytes)
    };
    let (plain, plain_bytes) = time(&|e| serde_json::to_string(&e.payload).expect("plain JSON"));
    let (took, bytes) =
        time(&|e| dotpha_domain::canonical::to_string(&e.payload.to_data()).expect("canonical"));
    println!(
        "| canonical (RFC 8785), through a serde_json::Value, as the append | {} | {bytes} | {:.0}% |",
        rate(events.len() as u64, took),
        100.0 * plain.as_secs_f64() / took.as_secs_f64()
    );
    println!(
        "| plain serde_json::to_string, members in declaration order | {} | {plain_bytes} | 100% |",
        rate(events.len() as u64, plain)
    );
}

fn rate(n: u64, d: Duration) -> String {
    format!("{:.0}", n as f64 / d.as_secs_f64())
}

fn main() {
    let events: usize = std::env::var("DOTPHA_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    println!("## append_batch (WAL, synchronous=FULL), one event per submission\n");
    println!(
        "\"raw inserts\": the rows append_batch wrote (event, tree node, decision; same schema, indexes, \
         pragmas and batches) inserted by plain rusqlite. \"small rows\": one small row per event, the \
         peer's row (../shared/peers/sqlite-es), same pragmas and batches.\n"
    );
    let rounds: usize = std::env::var("DOTPHA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    println!(
        "| round | batch | submissions | append_batch /s | raw inserts of the same rows /s | ratio | \
         one small row per event /s | raw rows / small rows |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut priced = None;
    for batch in [1usize, 64, 256, 1024] {
        let n = (batch * 400).min(100_000);
        let sub = dir.path().join(format!("append-{batch}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let mut workload = Workload::new("bench", 100, 10);
        let (log, mut state) = prepared(&sub, &mut workload);
        let after = log.head().position;
        let decided = decisions(&mut workload, &mut state, n);
        // Closed, so the copies below hold the whole setup (no WAL left).
        drop(log);
        let template = sub.join("log.sqlite");
        let mut rows = Vec::new();
        for round in 1..=rounds {
            let path = sub.join(format!("round-{round}.sqlite"));
            std::fs::copy(&template, &path).expect("copy the set-up log");
            let mut log = Log::open(&path).expect("open the copy");
            let start = Instant::now();
            for chunk in decided.chunks(batch) {
                log.append_batch(chunk, &recorded_at()).expect("append");
            }
            let ours = start.elapsed();
            drop(log);
            if rows.is_empty() {
                rows = stored_rows(&path, after);
            }
            let raw = raw_inserts(&rows, batch, &sub, Rows::Same);
            let small = small_rows(n, batch, &sub);
            println!(
                "| {round} | {batch} | {n} | {} | {} | {:.0}% | {} | {:.0}% |",
                rate(n as u64, ours),
                rate(n as u64, raw),
                100.0 * raw.as_secs_f64() / ours.as_secs_f64(),
                rate(n as u64, small),
                100.0 * small.as_secs_f64() / raw.as_secs_f64(),
            );
            if batch == 256 && round == rounds {
                priced = Some((std::mem::take(&mut rows), sub.clone(), raw));
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    if let Some((rows, sub, all)) = priced {
        println!("\n### what each part of the rows costs (raw inserts, batch 256)\n");
        println!("| rows | submissions/s | against all of them |");
        println!("|---|---:|---:|");
        let n = rows.len() as u64;
        println!(
            "| all (event, tree node, decision) | {} | 100% |",
            rate(n, all)
        );
        for (label, kind) in [
            (
                "with the unique (stream, version) index of schema 5",
                Rows::WithStreamIndex,
            ),
            ("without the tree node", Rows::NoTree),
            (
                "without the unique index on the decision's submission id",
                Rows::NoSubmissionIndex,
            ),
        ] {
            let took = raw_inserts(&rows, 256, &sub, kind);
            println!(
                "| {label} | {} | {:.0}% |",
                rate(n, took),
                100.0 * all.as_secs_f64() / took.as_secs_f64()
            );
        }
        // The small row, then the small row holding as many bytes as
        // dotpha's rows: what is left between the last and "all" is what
        // dotpha's rows and indexes cost beyond their bytes.
        let bytes = row_bytes(&rows);
        let small = small_rows(rows.len(), 256, &sub);
        let padded = small_rows_padded(
            rows.len(),
            256,
            &sub,
            bytes.saturating_sub(SMALL_ROW_BYTES + PAD_MEMBER_BYTES),
        );
        println!(
            "| one small row per event (the peer's, {SMALL_ROW_BYTES} bytes) | {} | {:.0}% |",
            rate(n, small),
            100.0 * all.as_secs_f64() / small.as_secs_f64()
        );
        println!(
            "| one small row per event padded to dotpha's {bytes} bytes | {} | {:.0}% |",
            rate(n, padded),
            100.0 * all.as_secs_f64() / padded.as_secs_f64()
        );
    }
    canonical_data();
    if std::env::var_os("DOTPHA_BENCH_APPEND_ONLY").is_some() {
        return;
    }

    println!(
        "\n## the writer's core: Ledger::submit_batch (parse + dedupe + decide + apply + append)\n"
    );
    println!("| batch | submissions | submissions/s |");
    println!("|---:|---:|---:|");
    for batch in [64usize, 512] {
        let sub = dir.path().join(format!("ledger-{batch}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let mut ledger = Ledger::open(sub.join("log.sqlite")).expect("open");
        let mut workload = Workload::new("ledger", 100, 10);
        let setup: Vec<Arrival> = workload
            .setup()
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        ledger.submit_batch(setup, &recorded_at()).expect("setup");
        let n = 100_000;
        let messages: Vec<_> = (0..n).map(|_| workload.next_report()).collect();
        let started = Instant::now();
        for chunk in messages.chunks(batch) {
            let arrivals = chunk
                .iter()
                .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
                .collect();
            ledger
                .submit_batch(arrivals, &recorded_at())
                .expect("submit");
        }
        let took = started.elapsed();
        println!("| {batch} | {n} | {} |", rate(n as u64, took));
    }

    println!("\n## verify and fold over {events} events\n");
    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).expect("dir");
    let mut workload = Workload::new("big", 100, 100);
    let (mut log, mut state) = prepared(&big, &mut workload);
    let build = Instant::now();
    while (log.head().position as usize) < events {
        let n = (events - log.head().position as usize).min(4096);
        let decided = decisions(&mut workload, &mut state, n);
        log.append_batch(&decided, &recorded_at()).expect("append");
    }
    let total = log.head().position;
    println!(
        "(built in {:.1} s through decide + append_batch at batch 4096)\n",
        build.elapsed().as_secs_f64()
    );
    drop(log);
    let log = Log::open_read_only(big.join("log.sqlite")).expect("open");

    println!("| what | events | seconds | events/s |");
    println!("|---|---:|---:|---:|");
    let start = Instant::now();
    let report = log.verify(None).expect("verify");
    let took = start.elapsed();
    assert!(report.ok, "{report:?}");
    println!(
        "| verify (chain, versions, decisions) | {total} | {:.2} | {} |",
        took.as_secs_f64(),
        rate(total, took)
    );

    let start = Instant::now();
    let forgetful = log.load_state_forgetful().expect("fold");
    let took = start.elapsed();
    assert_eq!(forgetful.events_applied(), total);
    println!(
        "| fold into a writer's state, reports forgotten (load_state_forgetful) | {total} | {:.2} | {} |",
        took.as_secs_f64(),
        rate(total, took)
    );
    drop(forgetful);
    let start = Instant::now();
    let folded = log.load_state().expect("fold");
    let took = start.elapsed();
    assert_eq!(folded.events_applied(), total);
    println!(
        "| fold into state, every report kept (load_state) | {total} | {:.2} | {} |",
        took.as_secs_f64(),
        rate(total, took)
    );
    drop(folded);

    // The same rows read raw, with no hashing or decoding: the floor.
    let conn = Connection::open(big.join("log.sqlite")).expect("open raw");
    let start = Instant::now();
    let mut stmt = conn
        .prepare("SELECT position, stream, version, type, unit, actor, occurred_at, recorded_at, submission_id, data, prev_hash, hash FROM events ORDER BY position")
        .expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    let mut bytes = 0usize;
    while let Some(r) = rows.next().expect("row") {
        for i in 1..12 {
            bytes += r.get_ref(i).expect("col").as_str().map_or(0, str::len);
        }
    }
    let took = start.elapsed();
    println!(
        "| raw rusqlite scan of the same rows | {total} | {:.2} | {} |",
        took.as_secs_f64(),
        rate(total, took)
    );
    println!(
        "\n(average row: {} bytes of text)",
        bytes / total.max(1) as usize
    );
}
