//! One writer per log, fenced in NATS: real `dotpha ingest` processes
//! against a real nats-server. A second writer is refused at once while the
//! first renews the writer's lease, and takes over only once the first is
//! gone (killed with SIGKILL) and the lease has lapsed; the killed writer,
//! restarted, is then refused in turn. A writer whose lease is taken stops
//! at once. A writer whose log is not the one whose events `DOTPHA_EVENTS`
//! carries (a forgotten `--data`, another deployment's log) refuses to
//! start and names the other log.

mod support;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use async_nats::jetstream;
use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, ReceiptStatus};
use support::*;

/// How long a refused or fenced writer may take to exit by itself: far more
/// than it needs (about one lease renewal), so a slow machine is no failure.
const EXIT_LIMIT: Duration = Duration::from_secs(30);

/// Waits for the writer to exit by itself, asserts it failed, and returns
/// its one-line error (`dotpha: ...`).
fn refusal(writer: &mut Writer) -> String {
    let status = tokio::task::block_in_place(|| writer.wait_exit(EXIT_LIMIT))
        .unwrap_or_else(|| panic!("the writer did not stop by itself\n{}", writer.output()));
    assert!(!status.success(), "it exits non-zero: {status:?}");
    let output = writer.output();
    let errors: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("dotpha: "))
        .collect();
    assert!(!errors.is_empty(), "it says why in one line:\n{output}");
    errors[errors.len() - 1].to_owned()
}

/// Waits until the writer's output (kept across its restarts) holds
/// `needle` more than `before` times.
async fn wait_output(writer: &Writer, needle: &str, before: usize) {
    let started = Instant::now();
    while writer.output().matches(needle).count() <= before {
        assert!(
            started.elapsed() < EXIT_LIMIT,
            "the writer never said {needle:?}\n{}",
            writer.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn log_file(dir: &Path) -> String {
    dir.join("log.sqlite").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_is_refused_while_the_first_lives_and_takes_over_once_it_is_killed() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&b_dir).expect("b's data dir");
    let mut a = Writer::start(&a_dir, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("lease", 2, 2);
    let setup = workload.setup();
    submit_in_order(&publisher, &setup).await;

    // B holds a copy of A's log (the same log, as a machine standing by
    // would): the copy passes the log identity check, so only the lease
    // keeps B from writing while A lives.
    assert!(a.terminate().success(), "{}", a.output());
    let copied = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["backup", "--data"])
        .arg(&a_dir)
        .arg(b_dir.join("log.sqlite"))
        .output()
        .expect("dotpha backup runs");
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );

    // A runs again (it pulls only once it holds the lease); B is refused.
    const PULLING: &str = "writer pulling submissions";
    let before = a.output().matches(PULLING).count();
    a.restart();
    wait_output(&a, PULLING, before).await;
    let mut b = Writer::start(&b_dir, &url, None);
    let said = refusal(&mut b);
    assert!(
        said.contains("another dotpha writer is running on this NATS")
            && said.contains(&log_file(&a_dir)),
        "B names the writer that holds the lease: {said}"
    );
    assert!(a.is_running(), "A goes on\n{}", a.output());
    assert_eq!(
        log_events(&b.log()).len(),
        log_events(&a.log()).len(),
        "B decided nothing"
    );

    // Nor may a restore on B's machine clear the stream A writes to.
    let backup = dir.path().join("backup.sqlite");
    let dotpha = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(args)
            .env("DOTPHA_LOG", "warn")
            .output()
            .expect("dotpha runs")
    };
    let copied = dotpha(&[
        "backup".as_ref(),
        "--data".as_ref(),
        a_dir.as_ref(),
        backup.as_ref(),
    ]);
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));
    let relayed = relayed_count(&js).await;
    let restore = dotpha(&[
        "restore".as_ref(),
        "--data".as_ref(),
        b_dir.as_ref(),
        "--nats".as_ref(),
        url.as_ref(),
        backup.as_ref(),
    ]);
    let said = String::from_utf8_lossy(&restore.stderr);
    assert!(
        !restore.status.success() && said.contains("another dotpha writer is running on this NATS"),
        "{said}"
    );
    assert_eq!(relayed_count(&js).await, relayed, "DOTPHA_EVENTS untouched");

    // A writer killed and restarted at once takes its own lease back.
    a.kill();
    let restarted = Instant::now();
    let before = a.output().matches(PULLING).count();
    a.restart();
    wait_output(&a, "taking back the lease this owner held", 0).await;
    wait_output(&a, PULLING, before).await;
    eprintln!(
        "figure: a writer killed and restarted at once pulls again after {:?}",
        restarted.elapsed()
    );

    // A dies without a word; B, started right after, takes the lease once
    // it has lapsed and decides what comes next.
    a.kill();
    let killed = Instant::now();
    b.restart();
    let next = workload.next_report();
    let receipt = submit(&publisher, &next).await;
    eprintln!(
        "figure: first receipt from the new writer {:?} after SIGKILL of the old one",
        killed.elapsed()
    );
    assert_holds_logged_events(&b.log(), &next, &receipt);
    assert!(
        !a.log()
            .is_decided(&next.submission_id)
            .expect("read A's log"),
        "the killed writer decided nothing after its death"
    );
    assert!(
        b.output()
            .contains("took over a lease its holder stopped renewing"),
        "{}",
        b.output()
    );

    // The lease follows B now: A, restarted, is refused and names B.
    a.restart();
    let said = refusal(&mut a);
    assert!(
        said.contains("another dotpha writer is running on this NATS")
            && said.contains(&log_file(&b_dir)),
        "A names B: {said}"
    );

    // One log on the bus: DOTPHA_EVENTS is B's log, which continues A's.
    let events = log_events(&b.log());
    wait_for_relay(&url, events.len() as u64, EXIT_LIMIT).await;
    assert_stream_matches_log(&relayed_events(&url).await, &events);
    assert!(b.log().verify(None).expect("verify").ok);
    assert!(b.terminate().success(), "{}", b.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_whose_lease_is_taken_stops_at_once_and_decides_nothing_more() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut writer = Writer::start(dir.path(), &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("fenced", 1, 1);
    submit_in_order(&publisher, &workload.setup()).await;
    let head = writer.log().current_head().expect("head");

    // Someone takes the lease behind the writer's back, as a writer that
    // believed it dead would.
    take_the_lease(&url).await;

    let said = refusal(&mut writer);
    assert!(
        said.contains("lost its lease") && said.contains("/srv/dotpha/log.sqlite"),
        "{said}"
    );
    assert!(
        writer
            .output()
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("the writer stopped")),
        "logged at ERROR when it happened:\n{}",
        writer.output()
    );
    // Nothing decided after that: a new report reaches the broker but no
    // writer answers it, and the log is as it was.
    let next = workload.next_report();
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));
    js.publish(
        format!("dotpha.v1.submit.{}", next.unit),
        next.body.clone().into(),
    )
    .await
    .expect("published")
    .await
    .expect("stored by the broker");
    assert_eq!(writer.log().current_head().expect("head"), head);
}

/// Fills a fresh log in `dir` with another deployment's district.
fn another_log(dir: &Path) -> String {
    let mut workload = Workload::new("elsewhere", 1, 1);
    let mut ledger = Ledger::open(dir.join("log.sqlite")).expect("the log opens");
    let arrivals = workload
        .setup()
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable"))
        .collect();
    let receipts = ledger
        .submit_batch(arrivals, &Timestamp::from_unix_millis(1_614_650_000_000))
        .expect("committed");
    assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    log_events(ledger.log())[0].hash.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_whose_log_is_not_the_one_on_the_bus_refuses_and_names_it() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut writer = Writer::start(&data, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("identity", 1, 1);
    submit_in_order(&publisher, &workload.setup()).await;
    let events = log_events(&writer.log());
    wait_for_relay(&url, events.len() as u64, EXIT_LIMIT).await;
    let ours = events[0].hash.clone();
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));

    // A forgotten --data: an empty data directory, while the writer runs
    // and after it stopped (when the lease is free).
    let forgotten = dir.path().join("forgotten");
    let mut stray = Writer::start(&forgotten, &url, None);
    let said = refusal(&mut stray);
    for needle in [
        "carries another log's events",
        ours.as_str(),
        "is empty",
        "--data",
    ] {
        assert!(said.contains(needle), "{needle:?} in: {said}");
    }
    assert!(writer.terminate().success(), "{}", writer.output());
    stray.restart();
    let said = refusal(&mut stray);
    assert!(
        said.contains("carries another log's events") && said.contains(&ours),
        "refused by the log's identity, not only by the lease: {said}"
    );

    // Another deployment's log: refused, naming both logs' first events.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).expect("dir");
    let theirs = another_log(&foreign);
    let mut other = Writer::start(&foreign, &url, None);
    let said = refusal(&mut other);
    assert!(
        said.contains(&ours) && said.contains(&theirs) && said.contains(&log_file(&foreign)),
        "{said}"
    );

    // Nothing reached the bus from them, and the empty directory still
    // holds no decision.
    assert_eq!(relayed_count(&js).await, events.len() as u64);
    if let Ok(log) = dotpha_store::Log::open_read_only(forgotten.join("log.sqlite")) {
        assert_eq!(log.current_head().expect("head").position, 0);
    }
    // The right writer starts again as before.
    writer.restart();
    let next = workload.next_report();
    let receipt = submit(&publisher, &next).await;
    assert_holds_logged_events(&writer.log(), &next, &receipt);
}
