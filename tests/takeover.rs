//! Automatic takeover (issue 16), with real processes, on one
//! `nats-server` with JetStream (quick), and once on the 3-node cluster of
//! `deploy/nats/cluster` with the node leading `DOTPHA_DECISIONS` killed
//! with the writer: two `dotpha ingest --standby` processes on two data
//! directories, the first of which takes the free lease and writes while
//! the second follows `DOTPHA_DECISIONS`.
//!
//! - The writer SIGKILLed while publishers wait for receipts: the standby
//!   takes the lease once it lapses, applies every record, and writes on;
//!   every submission is decided once, every receipt names the event the
//!   new log holds, both logs agree up to the old writer's last receipt,
//!   and `DOTPHA_EVENTS` carries the new log; on the cluster, with a NATS
//!   node dying at the same moment.
//! - The writer frozen (SIGSTOP) after a commit and before its append, for
//!   longer than the lease, then thawed: the standby took over meanwhile;
//!   the thawed writer answers nothing of what it committed, publishes
//!   nothing that conflicts, sets its diverged log aside and follows as a
//!   standby until its log equals the new writer's.

mod support;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use dotpha_domain::wire::Receipt;
use dotpha_store::Log;
use futures::StreamExt;
use support::*;

/// Publishers, each sending one commune's reports one after another and
/// waiting for each receipt.
const PUBLISHERS: usize = 4;
/// Reports each publisher sends unless `DOTPHA_TAKEOVER_SUBMISSIONS` says
/// otherwise: enough for the writer to die mid-load, few enough for CI.
/// The figure is 2,000 each:
///
///     DOTPHA_TAKEOVER_SUBMISSIONS=2000 cargo test --release --test takeover -- --nocapture killed_mid_load
const PER_PUBLISHER: usize = 300;

/// Reports each publisher sends: `DOTPHA_TAKEOVER_SUBMISSIONS`, else
/// [`PER_PUBLISHER`].
fn per_publisher() -> usize {
    std::env::var("DOTPHA_TAKEOVER_SUBMISSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(PER_PUBLISHER)
}

/// Receipts held before the writer is killed (or the thief steals): a
/// sixth of the load (200 at 4 × 300), so the fault comes mid-load at any
/// size.
fn fault_after() -> usize {
    (PUBLISHERS * per_publisher() / 6).max(1)
}
/// The longest any phase may take before the test gives up (a takeover
/// waits [`dotpha_bus::lease::LEASE_TTL`] for the lease to lapse).
const LIMIT: Duration = Duration::from_secs(120);

/// Two pairs of writers on two cores at once would measure the machine:
/// the tests of this file take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every receipt published on `dotpha.v1.receipt.>` from now on.
async fn listen_to_receipts(url: &str) -> (Arc<Mutex<Vec<Receipt>>>, tokio::task::JoinHandle<()>) {
    let client = async_nats::connect(url).await.expect("a listener connects");
    let mut receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribes to receipts");
    client.flush().await.expect("the subscription is in place");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let into = heard.clone();
    let task = tokio::spawn(async move {
        let _client = client;
        while let Some(message) = receipts.next().await {
            if let Ok(receipt) = serde_json::from_slice::<Receipt>(&message.payload) {
                into.lock().expect("not poisoned").push(receipt);
            }
        }
    });
    (heard, task)
}

/// Waits until `done` holds, polling; panics with `what` and `output()`
/// after [`LIMIT`].
async fn wait_until(what: &str, mut done: impl FnMut() -> bool, output: impl Fn() -> String) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < LIMIT,
            "{what} did not happen\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The writer A (a `--standby` process that finds the lease free and takes
/// it), the setup decided by it, then the standby B, given the log's key
/// (a standby that takes over signs the log's checkpoints) and caught up.
struct Pair {
    _dir: tempfile::TempDir,
    a_dir: PathBuf,
    b_dir: PathBuf,
    a: Writer,
    b: Writer,
    workload: Workload,
    setup: Vec<Message>,
}

async fn pair(url: &str, prefix: &str, a_fault: Option<&str>) -> Pair {
    pair_on(url, 1, prefix, a_fault).await
}

/// [`pair`] with streams kept by `replicas` servers of `url`.
async fn pair_on(url: &str, replicas: usize, prefix: &str, a_fault: Option<&str>) -> Pair {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let a = Writer::start_replicated_with(&a_dir, url, replicas, &["--standby"], a_fault);
    let mut workload = Workload::new(prefix, PUBLISHERS, 2);
    let setup = workload.setup();
    submit_in_order(&publisher(url).await, &setup).await;
    assert!(
        a.output().contains("it is the writer now"),
        "A took the free lease\n{}",
        a.output()
    );
    std::fs::create_dir_all(&b_dir).expect("B's directory");
    std::fs::copy(a_dir.join("log.key"), b_dir.join("log.key")).expect("the log's key copied");
    let b = Writer::start_replicated_with(&b_dir, url, replicas, &["--standby"], None);
    let head = a.log().current_head().expect("head");
    let b_log = b_dir.join("log.sqlite");
    wait_until(
        "B following A",
        || {
            Log::open_read_only(&b_log)
                .ok()
                .and_then(|l| l.current_head().ok())
                == Some(head.clone())
        },
        || b.output(),
    )
    .await;
    Pair {
        _dir: dir,
        a_dir,
        b_dir,
        a,
        b,
        workload,
        setup,
    }
}

/// Publishers under way: each sends its commune's reports, one at a time,
/// each waiting for its receipt.
struct Load {
    reports: Vec<Message>,
    answered: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(Message, Receipt, Instant)>>>,
}

fn start_load(url: &str, workload: &mut Workload) -> Load {
    let reports: Vec<Message> = (0..PUBLISHERS * per_publisher())
        .map(|_| workload.next_report())
        .collect();
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks = (0..PUBLISHERS)
        .map(|i| {
            let unit = Workload::commune(i);
            let mine: Vec<Message> = reports.iter().filter(|m| m.unit == unit).cloned().collect();
            let (url, answered) = (url.to_owned(), answered.clone());
            tokio::spawn(async move {
                let publisher = publisher(&url).await;
                let mut held = Vec::with_capacity(mine.len());
                for message in mine {
                    let receipt = submit(&publisher, &message).await;
                    answered.fetch_add(1, Ordering::Relaxed);
                    held.push((message, receipt, Instant::now()));
                }
                held
            })
        })
        .collect();
    Load {
        reports,
        answered,
        tasks,
    }
}

impl Load {
    fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    async fn finish(self, output: impl Fn() -> String) -> Vec<(Message, Receipt, Instant)> {
        let mut held = Vec::new();
        for task in self.tasks {
            let run = tokio::time::timeout(LIMIT, task)
                .await
                .unwrap_or_else(|_| panic!("the publishers did not finish\n{}", output()));
            held.extend(run.expect("a publisher finished"));
        }
        held
    }
}

/// What every run must end with, on the new writer's log `log`: each
/// publisher holds a receipt for each of its submissions naming the event
/// the log holds, each submission decided once, every receipt heard on the
/// wire names the logged event, `DOTPHA_EVENTS` carries exactly the log.
async fn assert_decided_once(
    url: &str,
    log: &Log,
    everything: &[Message],
    held: &[(Message, Receipt, Instant)],
    heard: &[Receipt],
) -> Vec<dotpha_store::RecordedEvent> {
    for (message, receipt, _) in held {
        assert_eq!(receipt.submission_id, message.submission_id);
        assert_holds_logged_events(log, message, receipt);
    }
    let events = log_events(log);
    assert_each_accepted_once(log, &events, everything);
    assert_eq!(
        events.len(),
        everything.len(),
        "one event per submission, none else"
    );
    for receipt in heard {
        let decided = log
            .receipt(&receipt.submission_id)
            .expect("read")
            .unwrap_or_else(|| panic!("{} was receipted, so decided", receipt.submission_id));
        assert_eq!(
            receipt.events, decided.events,
            "{}: every receipt on the wire names the event the new log holds",
            receipt.submission_id
        );
    }
    wait_for_relay(url, events.len() as u64, LIMIT).await;
    assert_stream_matches_log(&relayed_events(url).await, &events);
    events
}

/// The lines of a process's output at WARN or ERROR, and those that say
/// it took over.
fn warnings(output: &str) -> String {
    output
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("writer now"))
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest time without a receipt from `from` on, and the time to the
/// first receipt after it.
fn gaps(held: &[(Message, Receipt, Instant)], from: Instant) -> (Duration, Duration) {
    let mut times: Vec<Instant> = held
        .iter()
        .map(|(_, _, t)| *t)
        .filter(|t| *t >= from)
        .collect();
    times.sort();
    let first = times.first().map_or_else(Duration::default, |t| *t - from);
    let longest = std::iter::once(from)
        .chain(times.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    (longest, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_killed_mid_load_the_standby_takes_over_and_each_submission_is_decided_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    let mut pair = pair(&url, "takeover-kill", None).await;
    let (heard, listener) = listen_to_receipts(&url).await;
    let started = Instant::now();
    let load = start_load(&url, &mut pair.workload);
    wait_until(
        "the load getting under way",
        || load.answered() >= fault_after(),
        || pair.a.output(),
    )
    .await;
    let killed_at = Instant::now();
    pair.a.kill();
    let at_kill = load.answered();
    let everything: Vec<Message> = pair.setup.iter().chain(&load.reports).cloned().collect();
    let b = &pair.b;
    let held = load.finish(|| b.output()).await;
    let took = started.elapsed();
    assert!(
        at_kill < everything.len() - pair.setup.len(),
        "A died mid-load"
    );
    assert!(
        b.output().contains("it is the writer now"),
        "B took over\n{}",
        b.output()
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();
    let heard = std::mem::take(&mut *heard.lock().expect("not poisoned"));
    let b_log = b.log();
    let events = assert_decided_once(&url, &b_log, &everything, &held, &heard).await;

    // Both logs agree up to the last receipt A gave.
    let last_of_a = held
        .iter()
        .filter(|(_, _, t)| *t < killed_at)
        .flat_map(|(_, r, _)| r.events.iter().map(|e| e.position))
        .max()
        .expect("A answered before it died") as usize;
    let a_events = log_events(&pair.a.log());
    assert!(a_events.len() >= last_of_a);
    let hashes = |events: &[dotpha_store::RecordedEvent]| -> Vec<String> {
        events.iter().map(|e| e.hash.clone()).collect()
    };
    assert_eq!(hashes(&a_events[..last_of_a]), hashes(&events[..last_of_a]));

    let (longest, first) = gaps(&held, killed_at);
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.b_dir);
    eprintln!(
        "{PUBLISHERS} publishers x {} submissions, all receipted in {took:?}; \
         A killed at {at_kill} receipts; first receipt after the kill {first:?}, longest time without one {longest:?}; \
         A's last receipt at position {last_of_a}, B's head {}\nB:\n{}",
        per_publisher(),
        events.len(),
        warnings(&pair.b.output())
    );
}

/// The batch after which A freezes, counted from its start: past the
/// setup (one batch per submission, sent one at a time) and a few dozen
/// batches of the load.
fn freeze_at(setup: usize) -> usize {
    setup + 40
}

/// The diverged logs set aside in `dir`.
fn set_aside(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("reads the directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("log.diverged-") && n.ends_with(".sqlite"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_frozen_past_its_lease_answers_nothing_sets_its_log_aside_and_follows() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    // The setup's size is the workload's, known before A starts.
    let setup_len = Workload::new("takeover-freeze", PUBLISHERS, 2)
        .setup()
        .len();
    let fault = format!("stop-after-commit:{}", freeze_at(setup_len));
    let mut pair = pair(&url, "takeover-freeze", Some(&fault)).await;
    let (heard, listener) = listen_to_receipts(&url).await;
    let load = start_load(&url, &mut pair.workload);
    wait_until("A freezing", || pair.a.is_stopped(), || pair.a.output()).await;
    let frozen = Log::open_read_only(pair.a_dir.join("log.sqlite"))
        .expect("A's log")
        .current_head()
        .expect("head");
    let at_freeze = load.answered();
    wait_until(
        "B taking over",
        || pair.b.output().contains("it is the writer now"),
        || pair.b.output(),
    )
    .await;
    wait_until(
        "B answering",
        || load.answered() >= at_freeze + 100,
        || pair.b.output(),
    )
    .await;
    pair.a.signal("CONT");
    wait_until(
        "A stepping down",
        || pair.a.output().contains("stepped down"),
        || pair.a.output(),
    )
    .await;
    let everything: Vec<Message> = pair.setup.iter().chain(&load.reports).cloned().collect();
    let b = &pair.b;
    let held = load.finish(|| b.output()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();
    let heard = std::mem::take(&mut *heard.lock().expect("not poisoned"));
    let b_log = pair.b.log();
    // No receipt A gave names anything but the new log's events, and
    // DOTPHA_EVENTS is the new log: A published nothing conflicting.
    let events = assert_decided_once(&url, &b_log, &everything, &held, &heard).await;

    // A set its log aside whole: it holds the batch A committed before it
    // froze, which the new log decided otherwise.
    let aside = set_aside(&pair.a_dir);
    assert_eq!(aside.len(), 1, "{aside:?}\n{}", pair.a.output());
    let old = Log::open_read_only(&aside[0]).expect("the diverged log opens");
    assert_eq!(old.current_head().expect("head"), frozen);
    assert!(old.verify(None).expect("verify").ok, "set aside intact");
    let old_events = log_events(&old);
    let common = old_events
        .iter()
        .zip(&events)
        .take_while(|(a, b)| a.hash == b.hash)
        .count();
    assert!(
        common < old_events.len(),
        "the frozen batch diverged from the new log"
    );
    assert!(
        pair.a
            .output()
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("stepped down") && l.contains("set_aside")),
        "logged at ERROR with the positions\n{}",
        pair.a.output()
    );
    for event in &old_events[common..] {
        assert!(
            heard
                .iter()
                .chain(held.iter().map(|(_, r, _)| r))
                .all(|r| r.events.iter().all(|e| e.hash != event.hash)),
            "no receipt names the diverged event at {}",
            event.position
        );
    }

    // A follows as a standby: its fresh log becomes the new writer's.
    let (a_log, b_path) = (pair.a_dir.join("log.sqlite"), pair.b_dir.join("log.sqlite"));
    wait_until(
        "A's new log catching up with B's",
        || a_log.exists() && log_rows(&a_log) == log_rows(&b_path),
        || pair.a.output(),
    )
    .await;
    assert!(pair.a.is_running(), "{}", pair.a.output());
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    assert!(pair.a.terminate().success(), "{}", pair.a.output());
    verify_clean(&pair.b_dir);
    verify_clean(&pair.a_dir);
    eprintln!(
        "A froze at head {} after {at_freeze} receipts; {} of its events diverged; B's head {}\nA:\n{}\nB:\n{}",
        frozen.position,
        old_events.len() - common,
        events.len(),
        warnings(&pair.a.output()),
        warnings(&pair.b.output())
    );
}

/// What a writer frozen past its lease can do once thawed: its client's
/// pending pull request reaches the writer's consumer (one durable name,
/// made anew by whoever writes) and takes messages it will never decide
/// nor ack. Here a plain client does it while the load runs. The writer
/// sees its batch skip past its read position, decides nothing of it and
/// makes the consumer anew from there, so every submission is still
/// decided, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_pulled_away_from_the_writers_consumer_are_still_decided_once() {
    use async_nats::jetstream::consumer::PullConsumer;
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &url, None);
    let mut workload = Workload::new("takeover-thief", PUBLISHERS, 2);
    let setup = workload.setup();
    submit_in_order(&publisher(&url).await, &setup).await;
    let load = start_load(&url, &mut workload);
    wait_until(
        "the load getting under way",
        || load.answered() >= fault_after(),
        || writer.output(),
    )
    .await;
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("connects"));
    let mut stolen = Vec::new();
    while stolen.is_empty() && load.answered() < PUBLISHERS * per_publisher() {
        let consumer: PullConsumer = js
            .get_consumer_from_stream("dotpha-writer", "DOTPHA_SUBMISSIONS")
            .await
            .expect("the writer's consumer");
        let Ok(mut batch) = consumer
            .fetch()
            .max_messages(8)
            .expires(Duration::from_millis(500))
            .messages()
            .await
        else {
            continue;
        };
        while let Some(Ok(message)) = batch.next().await {
            stolen.push(message.info().expect("metadata").stream_sequence);
        }
    }
    assert!(!stolen.is_empty(), "the thief took some submissions");
    let everything: Vec<Message> = setup.iter().chain(&load.reports).cloned().collect();
    let held = load
        .finish(|| {
            format!(
                "stole {stolen:?}; the log's read position {:?}\n{}",
                writer.log().checkpoint("writer.read_position"),
                writer.output()
            )
        })
        .await;
    let log = writer.log();
    for (message, receipt, _) in &held {
        assert_holds_logged_events(&log, message, receipt);
    }
    let events = log_events(&log);
    assert_each_accepted_once(&log, &events, &everything);
    assert_eq!(events.len(), everything.len());
    eprintln!("stole {stolen:?}\n{}", warnings(&writer.output()));
}

/// Seconds since midnight (UTC) of a log line's leading timestamp
/// (`2026-11-30T07:15:06.215716Z ...`).
fn logged_at(line: &str) -> Option<f64> {
    let time = line.split_once('T')?.1.split_once('Z')?.0;
    let mut parts = time.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    Some(h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

/// Seconds since midnight (UTC), now.
fn now_of_day() -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    (now.as_secs() % 86_400) as f64 + f64::from(now.subsec_micros()) / 1e6
}

/// The takeover gap over several runs (`DOTPHA_TAKEOVER_RUNS`, 5 by
/// default): the writer SIGKILLed while 4 publishers wait for receipts;
/// prints, per run, the time from the kill to the standby taking the
/// lease, to it deciding as the writer, and to the first receipt a
/// publisher holds afterwards (one the dead writer sent just before may
/// come first: the longest time without a receipt from the kill on is the
/// gap). With `DOTPHA_TAKEOVER_CLUSTER=1`, each run on a fresh 3-node
/// cluster of `deploy/nats/cluster` (every stream at R3), the writer alone
/// killed. A measurement, not a check:
///
///     cargo test --release --test takeover -- --ignored --nocapture takeover_gap
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it by name"]
async fn takeover_gap() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let runs: usize = std::env::var("DOTPHA_TAKEOVER_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let on_cluster = std::env::var("DOTPHA_TAKEOVER_CLUSTER").is_ok_and(|v| v == "1");
    let mut figures = Vec::new();
    for run in 0..runs {
        // Kept to the end of the run: dropping either stops its servers.
        let (_nats, _cluster, url, replicas) = if on_cluster {
            let cluster = tokio::task::block_in_place(dotpha_testkit::cluster::Cluster::start);
            cluster.wait_ready().await;
            let urls = cluster.urls();
            (None, Some(cluster), urls, 3)
        } else {
            let nats = NatsServer::start();
            let url = nats.url();
            (Some(nats), None, url, 1)
        };
        let mut pair = pair_on(&url, replicas, &format!("gap-{run}"), None).await;
        let load = start_load(&url, &mut pair.workload);
        wait_until(
            "the load getting under way",
            || load.answered() >= fault_after(),
            || pair.a.output(),
        )
        .await;
        let killed_at = Instant::now();
        let killed_of_day = now_of_day();
        pair.a.kill();
        let b = &pair.b;
        let held = load.finish(|| b.output()).await;
        let output = pair.b.output();
        let since_kill = |needle: &str| {
            output
                .lines()
                .find(|l| l.contains(needle))
                .and_then(logged_at)
                .map(|t| t - killed_of_day)
                .unwrap_or(f64::NAN)
        };
        let leased = since_kill("took the writer's lease");
        let writing = since_kill("it is the writer now");
        let (longest, first) = gaps(&held, killed_at);
        eprintln!(
            "run {run}: kill -> lease taken {leased:.3} s, -> writing {writing:.3} s, -> first receipt {:.3} s (longest without one {:.3} s)",
            first.as_secs_f64(),
            longest.as_secs_f64()
        );
        figures.push((leased, writing, longest.as_secs_f64()));
        assert!(pair.b.terminate().success(), "{}", pair.b.output());
    }
    let summary = |pick: fn(&(f64, f64, f64)) -> f64| {
        let mut values: Vec<f64> = figures.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        format!(
            "min {:.3} / median {:.3} / max {:.3} s",
            values[0],
            values[values.len() / 2],
            values[values.len() - 1]
        )
    };
    eprintln!(
        "{runs} runs{}: kill -> lease taken {}; -> writing {}; longest time without a receipt from the kill on {}",
        if on_cluster {
            " on a 3-node cluster"
        } else {
            ""
        },
        summary(|f| f.0),
        summary(|f| f.1),
        summary(|f| f.2)
    );
}

/// A writer killed between a commit and its append, restarted as a
/// standby after the other took over: its log holds a batch the stream
/// never took and the stream went on without it, so it sets that log aside
/// and rebuilds it from the stream instead of stopping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_before_its_append_comes_back_as_a_standby_and_sets_its_log_aside() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    let setup_len = Workload::new("takeover-ahead", PUBLISHERS, 2).setup().len();
    let fault = format!("after-commit:{}", freeze_at(setup_len));
    let mut pair = pair(&url, "takeover-ahead", Some(&fault)).await;
    let load = start_load(&url, &mut pair.workload);
    let a_done = tokio::task::block_in_place(|| pair.a.wait_exit(LIMIT));
    assert!(
        a_done.is_some(),
        "A aborted at its fault\n{}",
        pair.a.output()
    );
    let everything: Vec<Message> = pair.setup.iter().chain(&load.reports).cloned().collect();
    let b = &pair.b;
    let held = load.finish(|| b.output()).await;
    let b_log = pair.b.log();
    for (message, receipt, _) in &held {
        assert_holds_logged_events(&b_log, message, receipt);
    }
    assert_each_accepted_once(&b_log, &log_events(&b_log), &everything);

    pair.a.restart();
    let (a_log, b_path) = (pair.a_dir.join("log.sqlite"), pair.b_dir.join("log.sqlite"));
    wait_until(
        "A's rebuilt log catching up with B's",
        || a_log.exists() && log_rows(&a_log) == log_rows(&b_path),
        || pair.a.output(),
    )
    .await;
    assert_eq!(set_aside(&pair.a_dir).len(), 1, "{}", pair.a.output());
    assert!(pair.a.is_running(), "{}", pair.a.output());
    assert!(pair.a.terminate().success(), "{}", pair.a.output());
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.a_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_and_the_decisions_leader_node_killed_on_a_3_node_cluster_the_standby_takes_over()
 {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = tokio::task::block_in_place(dotpha_testkit::cluster::Cluster::start);
    cluster.wait_ready().await;
    let urls = cluster.urls();
    let mut pair = pair_on(&urls, 3, "takeover-cluster", None).await;
    // The node leading DOTPHA_DECISIONS dies with the writer: the standby's
    // catch-up and its first appends wait for the survivors' election.
    let doomed = cluster
        .stream_leader("DOTPHA_DECISIONS", Duration::from_secs(10))
        .await;
    let survivor_url = cluster.url((doomed + 1) % 3);
    let (heard, listener) = listen_to_receipts(&survivor_url).await;
    let load = start_load(&urls, &mut pair.workload);
    wait_until(
        "the load getting under way",
        || load.answered() >= fault_after(),
        || pair.a.output(),
    )
    .await;
    let killed_at = Instant::now();
    pair.a.kill();
    tokio::task::block_in_place(|| cluster.kill(doomed));
    let everything: Vec<Message> = pair.setup.iter().chain(&load.reports).cloned().collect();
    let b = &pair.b;
    let held = load.finish(|| b.output()).await;
    let (longest, _) = gaps(&held, killed_at);
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();
    let heard = std::mem::take(&mut *heard.lock().expect("not poisoned"));
    // A reader's ephemeral consumer has one replica, which the cluster may
    // place on the dead node: bring it back before reading the streams.
    tokio::task::block_in_place(|| cluster.restart(doomed));
    let b_log = pair.b.log();
    let events = assert_decided_once(&survivor_url, &b_log, &everything, &held, &heard).await;
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.b_dir);
    eprintln!(
        "cluster: writer and node {doomed} killed; longest time without a receipt {longest:?}; B's head {}\nB:\n{}",
        events.len(),
        warnings(&pair.b.output())
    );
}

/// A writer killed between two parts of a record cut into parts (a
/// rejection keeping 256 KiB of control characters, escaped into 1.5 MiB):
/// the stream ends with a record cut short. The standby takes over, passes
/// over it (nothing of it was answered), decides the submission again and
/// answers it; the old writer, back as a standby, finds its log holds the
/// whole batch the stream passed over, sets it aside and rebuilds it equal
/// to the new writer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_between_two_parts_of_a_record_the_standby_passes_over_them() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    let mut pair = pair(&url, "takeover-parts", Some("after-first-part:1")).await;
    let publisher = publisher(&url).await;
    let unit = Workload::commune(0);
    let refused = publisher
        .submit(&unit, "cut-short-0001", vec![1u8; 256 * 1024].into())
        .await
        .expect("a receipt, from the standby once it took over");
    assert_eq!(
        refused.status,
        dotpha_store::ReceiptStatus::Rejected,
        "{refused:?}"
    );
    assert!(
        tokio::task::block_in_place(|| pair.a.wait_exit(LIMIT)).is_some(),
        "A aborted at its fault\n{}",
        pair.a.output()
    );
    let b_output = pair.b.output();
    assert!(b_output.contains("it is the writer now"), "{b_output}");
    assert!(
        b_output.contains("passing over it"),
        "B passed over the record cut short\n{b_output}"
    );
    let reports: Vec<Message> = (0..3).map(|_| pair.workload.next_report()).collect();
    submit_in_order(&publisher, &reports).await;
    let b_log = pair.b.log();
    let decided = b_log
        .receipt("cut-short-0001")
        .expect("reads")
        .expect("decided by B");
    assert_eq!(decided.events, refused.events);
    assert_eq!(decided.status, refused.status);

    pair.a.restart_with(None);
    let (a_log, b_path) = (pair.a_dir.join("log.sqlite"), pair.b_dir.join("log.sqlite"));
    wait_until(
        "A's rebuilt log catching up with B's",
        || a_log.exists() && log_rows(&a_log) == log_rows(&b_path),
        || pair.a.output(),
    )
    .await;
    assert_eq!(set_aside(&pair.a_dir).len(), 1, "{}", pair.a.output());
    assert!(pair.a.is_running(), "{}", pair.a.output());
    assert!(pair.a.terminate().success(), "{}", pair.a.output());
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.a_dir);
    verify_clean(&pair.b_dir);
}

/// A writer killed after appending a batch to `DOTPHA_DECISIONS` and
/// before answering it: nobody decides those submissions again (the stream
/// holds the batch, the read position is past them), so the standby that
/// takes over announces its log's last batch's receipts again, marked
/// duplicate as a redelivery's answer is. A publisher that published once
/// and only listens gets its receipt, naming the event the new log holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_appended_but_never_answered_is_announced_by_the_standby_that_takes_over() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    // The setup is decided one submission per batch; the next batch is the
    // report below.
    let setup_len = Workload::new("takeover-unanswered", PUBLISHERS, 2)
        .setup()
        .len();
    let fault = format!("after-append:{}", setup_len + 1);
    let mut pair = pair(&url, "takeover-unanswered", Some(&fault)).await;
    let report = pair.workload.next_report();
    let client = async_nats::connect(&url).await.expect("connects");
    let mut receipts = client
        .subscribe(format!("dotpha.v1.receipt.{}", report.unit))
        .await
        .expect("subscribes");
    client.flush().await.expect("flushed");
    // Published once, never again: only an announcement can answer it.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", report.submission_id.as_str());
    async_nats::jetstream::new(client.clone())
        .publish_with_headers(
            format!("dotpha.v1.submit.{}", report.unit),
            headers,
            report.body.clone().into(),
        )
        .await
        .expect("published")
        .await
        .expect("stored");
    assert!(
        tokio::task::block_in_place(|| pair.a.wait_exit(LIMIT)).is_some(),
        "A aborted after its append\n{}",
        pair.a.output()
    );
    let receipt = loop {
        let message = tokio::time::timeout(LIMIT, receipts.next())
            .await
            .unwrap_or_else(|_| panic!("no receipt came\n{}", pair.b.output()))
            .expect("the subscription holds");
        let receipt: Receipt = serde_json::from_slice(&message.payload).expect("a receipt");
        if receipt.submission_id == report.submission_id {
            break receipt;
        }
    };
    assert!(
        receipt.duplicate,
        "announced as a repeat's answer: {receipt:?}"
    );
    let b_log = pair.b.log();
    assert_holds_logged_events(&b_log, &report, &receipt);
    assert_each_accepted_once(&b_log, &log_events(&b_log), std::slice::from_ref(&report));
    // B logs the announcement once every receipt of it is published, so the
    // receipt can arrive before the line is written: wait for it.
    wait_until(
        "B logging its announcement",
        || {
            pair.b
                .output()
                .contains("announced the log's last batch's receipts again")
        },
        || pair.b.output(),
    )
    .await;
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.b_dir);
}

/// Two writers die in turn, each between two parts of a record: A after
/// the first part of its record; then B, which took over and passed over
/// it, after the first part of its own. A, back as a standby, takes the
/// lease with a log ahead of the stream and different from it where both
/// hold a message: it releases the lease, sets its log aside, rebuilds it
/// from the stream, takes the lease again and decides the submission,
/// which nobody answered before. B, back, does the same as a standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_killed_in_turn_between_two_parts_the_first_back_rebuilds_and_writes() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let nats = NatsServer::start();
    let url = nats.url();
    let mut pair = pair(&url, "takeover-twice", Some("after-first-part:1")).await;
    // B dies the same way once it writes.
    pair.b.restart_with(Some("after-first-part:1"));
    let publisher = publisher(&url).await;
    let unit = Workload::commune(0);
    let submitting = tokio::spawn(async move {
        publisher
            .submit(&unit, "twice-cut-0001", vec![1u8; 256 * 1024].into())
            .await
    });
    for (name, writer) in [("A", &mut pair.a), ("B", &mut pair.b)] {
        assert!(
            tokio::task::block_in_place(|| writer.wait_exit(LIMIT)).is_some(),
            "{name} aborted after the first part of its record\n{}",
            writer.output()
        );
    }
    pair.a.restart_with(None);
    let refused = tokio::time::timeout(LIMIT, submitting)
        .await
        .unwrap_or_else(|_| panic!("no receipt\n{}", pair.a.output()))
        .expect("the publisher ran")
        .expect("a receipt from A, back");
    assert_eq!(
        refused.status,
        dotpha_store::ReceiptStatus::Rejected,
        "{refused:?}"
    );
    let a_output = pair.a.output();
    assert_eq!(set_aside(&pair.a_dir).len(), 1, "{a_output}");
    assert!(
        a_output.lines().any(|l| l.contains("ERROR")
            && l.contains("stepped down")
            && l.contains("is not the one the log")),
        "A found its log diverged once it held the lease, and stepped down\n{a_output}"
    );
    let decided = pair
        .a
        .log()
        .receipt("twice-cut-0001")
        .expect("reads")
        .expect("decided by A");
    assert_eq!(decided.status, refused.status);

    pair.b.restart_with(None);
    let (a_log, b_log) = (pair.a_dir.join("log.sqlite"), pair.b_dir.join("log.sqlite"));
    wait_until(
        "B's rebuilt log catching up with A's",
        || b_log.exists() && log_rows(&b_log) == log_rows(&a_log),
        || pair.b.output(),
    )
    .await;
    assert_eq!(set_aside(&pair.b_dir).len(), 1, "{}", pair.b.output());
    assert!(pair.a.terminate().success(), "{}", pair.a.output());
    assert!(pair.b.terminate().success(), "{}", pair.b.output());
    verify_clean(&pair.a_dir);
    verify_clean(&pair.b_dir);
}
