//! Benchmarks of the Merkle tree kept beside the log (CONTRACT.md part B),
//! each beside what it adds to or sits on, in the same run:
//!
//! - appending with the tree maintained versus the same appends without it
//!   (two logs, batches interleaved so both see the same machine load);
//! - inclusion and consistency proofs at the head of a large log (latency
//!   percentiles), beside a point read of one row by primary key;
//! - signing checkpoints: the signature alone, and the writer's whole step
//!   (root at the head, sign, record), beside verifying a note.
//!
//! `cargo bench -p dotpha-store --bench tree`. Settings:
//! `DOTPHA_BENCH_APPEND` (submissions per append run, default 100,000),
//! `DOTPHA_BENCH_TREE_EVENTS` (the large log, default 1,000,000),
//! `DOTPHA_BENCH_PROOFS` (proofs sampled, default 20,000),
//! `DOTPHA_BENCH_SIGNATURES` (checkpoints signed, default 2,000).

use std::time::{Duration, Instant};

use dotpha_domain::{Event, State, Timestamp, decide, parse_submission};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome, StoredCheckpoint};
use dotpha_testkit::Workload;
use dotpha_tlog::{LogKey, LogVerifier, tree::to_hex};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn recorded_at() -> Timestamp {
    Timestamp::from_unix_millis(1_614_648_600_123)
}

/// A log holding the workload's setup, reopened as a bare log and its state.
fn prepared(path: &std::path::Path, workload: &mut Workload) -> (Log, State) {
    let mut ledger = Ledger::open(path).expect("open");
    let arrivals = workload
        .setup()
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
        .collect();
    ledger
        .submit_batch(arrivals, &recorded_at())
        .expect("setup");
    drop(ledger);
    let log = Log::open(path).expect("reopen");
    let state = log.load_state().expect("fold");
    (log, state)
}

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

fn rate(n: u64, d: Duration) -> String {
    format!("{:.0}", n as f64 / d.as_secs_f64())
}

/// (p50, p99, max) in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.99), at(1.0))
}

/// A small, fixed pseudo-random sequence (xorshift), so runs compare.
struct Sequence(u64);

impl Sequence {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn append_with_and_without(dir: &std::path::Path, n: usize) {
    println!(
        "## append_batch with the Merkle tree maintained versus without (WAL, synchronous=FULL)\n"
    );
    println!(
        "| batch | submissions | with tree, submissions/s | without, submissions/s | with / without |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for batch in [1usize, 64, 256] {
        let n = if batch == 1 { n.min(2_000) } else { n };
        let mut workload = Workload::new("tree", 100, 10);
        let sub = dir.join(format!("append-{batch}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let (mut with, mut state) = prepared(&sub.join("with.sqlite"), &mut workload);
        let mut twin = Workload::new("tree", 100, 10);
        let (mut without, _) = prepared(&sub.join("without.sqlite"), &mut twin);
        without.without_tree_for_benchmarks();
        let decided = decisions(&mut workload, &mut state, n);
        let (mut took_with, mut took_without) = (Duration::ZERO, Duration::ZERO);
        // Interleaved, alternating which goes first, so both see the same
        // machine.
        for (i, chunk) in decided.chunks(batch).enumerate() {
            let run = |log: &mut Log| {
                let started = Instant::now();
                log.append_batch(chunk, &recorded_at()).expect("append");
                started.elapsed()
            };
            if i % 2 == 0 {
                took_with += run(&mut with);
                took_without += run(&mut without);
            } else {
                took_without += run(&mut without);
                took_with += run(&mut with);
            }
        }
        assert!(with.verify(None).expect("verify").ok, "the tree is right");
        println!(
            "| {batch} | {n} | {} | {} | {:.1}% |",
            rate(n as u64, took_with),
            rate(n as u64, took_without),
            100.0 * took_with.as_secs_f64() / took_without.as_secs_f64()
        );
    }
}

fn main() {
    let append = setting("DOTPHA_BENCH_APPEND", 100_000);
    let events = setting("DOTPHA_BENCH_TREE_EVENTS", 1_000_000);
    let samples = setting("DOTPHA_BENCH_PROOFS", 20_000);
    let signatures = setting("DOTPHA_BENCH_SIGNATURES", 2_000);
    let dir = tempfile::tempdir().expect("temp dir");

    append_with_and_without(dir.path(), append);

    // ---- a large log
    let path = dir.path().join("big.sqlite");
    let mut workload = Workload::new("big", 100, 100);
    let (mut log, mut state) = prepared(&path, &mut workload);
    let build = Instant::now();
    while (log.head().position as usize) < events {
        let n = (events - log.head().position as usize).min(4096);
        let decided = decisions(&mut workload, &mut state, n);
        log.append_batch(&decided, &recorded_at()).expect("append");
    }
    let size = log.head().position;
    println!(
        "\n## proofs over a log of {size} events\n\n(built in {:.1} s through decide + append_batch at batch 4096)\n",
        build.elapsed().as_secs_f64()
    );
    let (key, _) = LogKey::generate("bench.example/dotpha").expect("key");
    let (_, root) = log.head_root().expect("root");
    log.record_checkpoint(&StoredCheckpoint {
        tree_size: size,
        root_hash: to_hex(&root),
        note: key.sign(size, root).expect("sign"),
        signed_at: recorded_at().as_str().to_owned(),
    })
    .expect("record");
    drop(log);

    let log = Log::open_read_only(&path).expect("open");
    let raw = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("raw");
    let mut sequence = Sequence(0x9e37_79b9_7f4a_7c15);
    // Warm the page cache first: a server answers from a warm file.
    for _ in 0..samples.min(5_000) {
        let position = sequence.below(size) + 1;
        std::hint::black_box(log.inclusion_proof(position, size).expect("inclusion"));
    }
    let (mut inclusion, mut signed, mut consistency, mut point) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut hashes = 0usize;
    for _ in 0..samples {
        let position = sequence.below(size) + 1;
        let started = Instant::now();
        let proof = log.inclusion_proof(position, size).expect("inclusion");
        inclusion.push(started.elapsed());
        hashes += proof.proof.len();
        if inclusion.len() <= 5 {
            proof.verify(root).expect("verifies");
        }

        let started = Instant::now();
        let (proof, _) = log
            .signed_inclusion_proof(position, None)
            .expect("signed inclusion");
        signed.push(started.elapsed());
        debug_assert_eq!(proof.tree_size, size);

        let from = sequence.below(size) + 1;
        let started = Instant::now();
        let proof = log.consistency_proof(from, size).expect("consistency");
        consistency.push(started.elapsed());
        if consistency.len() <= 5 {
            proof
                .verify(log.tree_root(from).expect("root"), root)
                .expect("verifies");
        }

        let started = Instant::now();
        let row: Option<Vec<u8>> = raw
            .prepare_cached("SELECT hashes FROM tree_nodes WHERE position = ?1")
            .expect("prepare")
            .query_row([position], |r| r.get(0))
            .optional()
            .expect("row");
        point.push(started.elapsed());
        assert!(row.is_some());
    }
    println!("| what | samples | p50 µs | p99 µs | max µs |");
    println!("|---|---:|---:|---:|---:|");
    for (what, taken) in [
        (
            "inclusion proof, random position, tree at the head",
            inclusion,
        ),
        (
            "the same against the latest signed checkpoint (what the routes call)",
            signed,
        ),
        ("consistency proof, random size to the head", consistency),
        ("floor: one tree row read by primary key", point),
    ] {
        let (p50, p99, max) = percentiles(taken);
        println!("| {what} | {samples} | {p50:.1} | {p99:.1} | {max:.1} |");
    }
    println!(
        "\n(an inclusion proof here has {:.1} hashes on average)",
        hashes as f64 / samples.max(1) as f64
    );

    // ---- verify, which now also recomputes every tree row
    println!("\n## verify over {size} events (chain, versions, decisions and the tree's rows)\n");
    println!("| what | events | seconds | events/s |");
    println!("|---|---:|---:|---:|");
    let started = Instant::now();
    let report = log.verify(None).expect("verify");
    let took = started.elapsed();
    assert!(report.ok, "{report:?}");
    println!(
        "| verify | {size} | {:.2} | {} |",
        took.as_secs_f64(),
        rate(size, took)
    );
    let started = Instant::now();
    let mut stmt = raw
        .prepare(
            "SELECT e.position, e.stream, e.version, e.type, e.unit, e.actor, e.occurred_at, e.recorded_at,
                    e.submission_id, e.data, e.prev_hash, e.hash, t.hashes
             FROM events e LEFT JOIN tree_nodes t ON t.position = e.position ORDER BY e.position",
        )
        .expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    let mut bytes = 0usize;
    while let Some(r) = rows.next().expect("row") {
        for i in 1..13 {
            bytes += r
                .get_ref(i)
                .expect("column")
                .as_bytes()
                .map_or(0, <[u8]>::len);
        }
    }
    let took = started.elapsed();
    println!(
        "| floor: raw rusqlite scan of the same rows and tree rows ({} bytes each) | {size} | {:.2} | {} |",
        bytes / size.max(1) as usize,
        took.as_secs_f64(),
        rate(size, took)
    );
    drop(rows);
    drop(stmt);

    // ---- signing checkpoints
    println!("\n## signing checkpoints\n");
    println!("| what | count | per second |");
    println!("|---|---:|---:|");
    let started = Instant::now();
    let mut note = String::new();
    for i in 0..signatures {
        note = key.sign(size + i as u64, root).expect("sign");
    }
    let took = started.elapsed();
    println!(
        "| sign a checkpoint note (Ed25519) | {signatures} | {} |",
        rate(signatures as u64, took)
    );
    let writable = Log::open(&path).expect("open");
    let started = Instant::now();
    for _ in 0..signatures {
        let (at, root) = writable.head_root().expect("root");
        let note = key.sign(at, root).expect("sign");
        std::hint::black_box(note);
        std::hint::black_box(writable.latest_checkpoint().expect("latest"));
    }
    let took = started.elapsed();
    println!(
        "| the checkpointer's step at the head of {size} events (read the root, sign, look up the latest) | {signatures} | {} |",
        rate(signatures as u64, took)
    );
    let verifier = LogVerifier::new(key.verifier_key()).expect("vkey");
    let started = Instant::now();
    for _ in 0..signatures {
        std::hint::black_box(verifier.open(note.as_bytes()).expect("verifies"));
    }
    let took = started.elapsed();
    println!(
        "| beside it: parse and verify a note | {signatures} | {} |",
        rate(signatures as u64, took)
    );
    println!("\n(the writer signs at most one checkpoint a second)");
}
