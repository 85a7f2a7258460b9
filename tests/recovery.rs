//! Recovery over the wire: a real nats-server and the real `dotpha ingest`
//! process, crashed (injected faults, SIGKILL) and restarted, and NATS
//! itself killed and restarted mid-load. After every crash the log holds
//! each submission decided exactly once, in the order its publisher sent
//! it, the hash chain verifies, and `DOTPHA_EVENTS` holds each position
//! once, in log order.

mod support;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_store::{Receipt, ReceiptStatus};
use support::*;

/// How long a crashed writer may take to die by itself.
const EXIT_LIMIT: Duration = Duration::from_secs(30);

/// Waits (without stalling the runtime's other tasks) for the writer to
/// exit by itself, asserts it died of its injected fault, not cleanly.
fn expect_injected_crash(writer: &mut Writer) {
    let status = tokio::task::block_in_place(|| writer.wait_exit(EXIT_LIMIT))
        .unwrap_or_else(|| panic!("the writer did not crash by itself\n{}", writer.output()));
    assert!(
        !status.success(),
        "an injected fault aborts the process: {status:?}"
    );
    assert!(
        writer.output().contains("injected fault"),
        "the writer says why it aborted:\n{}",
        writer.output()
    );
}

/// Splits reports by the commune that sends them (in workload order), so
/// each publisher owns one commune's reports.
fn by_commune(reports: &[Message], communes: usize) -> Vec<Vec<Message>> {
    (0..communes)
        .map(|i| {
            let unit = Workload::commune(i);
            reports.iter().filter(|m| m.unit == unit).cloned().collect()
        })
        .collect()
}

/// For each task, the submission ids of its progress reports in the order
/// they were sent (`sent` is in sending order per task).
fn sent_order(sent: &[Message]) -> HashMap<String, Vec<(String, i64)>> {
    let mut order: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for message in sent {
        let (task, value) = reported(&message.body);
        order
            .entry(format!("task-{task}"))
            .or_default()
            .push((message.submission_id.clone(), value));
    }
    order
}

/// Asserts that each task stream's progress reports appear in the log in
/// exactly the order they were sent, with the values sent.
fn assert_reports_in_sent_order(events: &[dotpha_store::RecordedEvent], sent: &[Message]) {
    let mut logged: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for event in events
        .iter()
        .filter(|e| e.event_type == "progress.reported")
    {
        let (_, value) = reported(event.data.get().as_bytes());
        logged
            .entry(event.stream.clone())
            .or_default()
            .push((event.submission_id.clone(), value));
    }
    let sent = sent_order(sent);
    assert_eq!(
        logged.len(),
        sent.len(),
        "reports landed on the tasks they were sent for"
    );
    for (stream, expected) in &sent {
        let got = logged.get(stream).map(Vec::as_slice).unwrap_or_default();
        if got != expected.as_slice() {
            let first = got
                .iter()
                .zip(expected)
                .position(|(g, e)| g != e)
                .unwrap_or(got.len().min(expected.len()));
            panic!(
                "{stream}: reports out of the order they were sent ({} logged, {} sent); first difference at \
                 report {first}: logged {:?}, sent {:?}",
                got.len(),
                expected.len(),
                got.get(first),
                expected.get(first)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_ack_leaves_every_redelivered_submission_decided_once() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut writer = Writer::start(dir.path(), &url, None);
    let communes = 4;
    let mut workload = Workload::new("redeliver", communes, 2);
    let setup = workload.setup();
    let first = publisher(&url).await;
    // Each setup message depends on the ones before it: one at a time.
    submit_in_order(&first, &setup).await;

    // The writer that crashes after its third commit, holding decided
    // submissions that are neither acked nor answered. The fault counts the
    // batches of one process, and setup took one batch per message, so this
    // writer starts after it: its third batch holds concurrent reports.
    writer.restart_with(Some("after-commit:3"));
    let reports: Vec<Message> = (0..200).map(|_| workload.next_report()).collect();
    let mut publishers = Vec::new();
    for mine in by_commune(&reports, communes) {
        let url = url.clone();
        publishers.push(tokio::spawn(async move {
            let publisher = publisher(&url).await;
            let mut receipts = Vec::with_capacity(mine.len());
            for message in &mine {
                receipts.push((message.clone(), submit(&publisher, message).await));
            }
            receipts
        }));
    }
    expect_injected_crash(&mut writer);
    let decided = log_events(&writer.log()).len() - setup.len();
    assert!(
        (3..reports.len()).contains(&decided),
        "the crash came after three commits of reports, mid-load: {decided} decided"
    );
    writer.restart();
    let mut answered: Vec<(Message, Receipt)> = Vec::new();
    for publisher in publishers {
        answered.extend(publisher.await.expect("a publisher finished"));
    }

    assert_eq!(answered.len(), reports.len());
    let log = writer.log();
    for (message, receipt) in &answered {
        assert_holds_logged_events(&log, message, receipt);
    }
    let events = log_events(&log);
    let everything: Vec<Message> = setup.iter().chain(&reports).cloned().collect();
    assert_each_accepted_once(&log, &events, &everything);
    assert_eq!(
        events.len(),
        everything.len(),
        "nothing but these submissions' events"
    );
    let report = log.verify(None).expect("verify");
    assert!(report.ok, "the chain verifies: {report:?}");

    // Publishing a decided submission again is answered, not decided again.
    for message in [
        &setup[0],
        &reports[0],
        &reports[reports.len() / 2],
        &reports[reports.len() - 1],
    ] {
        let again = submit(&first, message).await;
        assert!(again.duplicate, "{} is a duplicate", message.submission_id);
        let original = log
            .receipt(&message.submission_id)
            .expect("read")
            .expect("decided");
        assert_eq!(again.status, ReceiptStatus::Accepted);
        assert_eq!(
            again.events, original.events,
            "a duplicate answers the original events"
        );
    }
    assert_eq!(log_events(&writer.log()).len(), everything.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_keep_their_order_when_the_writer_crashes_holding_an_undecided_batch() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut writer = Writer::start(dir.path(), &url, None);
    let mut workload = Workload::new("order", 1, 1);
    let publisher = publisher(&url).await;
    submit_in_order(&publisher, &workload.setup()).await;

    // This writer aborts when it fetches its second batch, before deciding it.
    writer.restart_with(Some("before-commit:2"));
    const REPORTS: i64 = 300;
    let reports: Vec<Message> = (0..REPORTS)
        .map(|k| report(&format!("order-report-{k:06}"), 0, 0, 121 + k))
        .collect();
    // The first report alone, receipt awaited: the writer's first batch.
    // The rest go out with PubAcks only, each awaited before the next, so
    // the broker's order is the sending order; they make the second batch
    // (the one the writer dies holding) and everything after it.
    submit_in_order(&publisher, &reports[..1]).await;
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));
    for message in &reports[1..] {
        let publish = PublishMessage::build()
            .payload(message.body.clone().into())
            .message_id(message.submission_id.as_str());
        js.send_publish(format!("dotpha.v1.submit.{}", message.unit), publish)
            .await
            .expect("published")
            .await
            .expect("the broker holds it");
    }
    expect_injected_crash(&mut writer);
    let held = log_events(&writer.log())
        .iter()
        .filter(|e| e.event_type == "progress.reported")
        .count();
    assert_eq!(held, 1, "only the first batch was decided before the crash");

    writer.restart();
    let stream = format!("task-{}", Workload::task(0, 0));
    // Waits longer than the consumer's ack_wait: a writer that resumed from
    // the broker's ack state would get the held batch back only then, behind
    // later reports (or, acking all, never), and the checks below, not a
    // time-out, must say so.
    let limit = dotpha_bus::WRITER_ACK_WAIT * 2 + Duration::from_secs(10);
    let (_, events) = poll_log(&writer, limit, |events| {
        events
            .iter()
            .filter(|e| e.stream == stream && e.event_type == "progress.reported")
            .count()
            >= REPORTS as usize
    })
    .await;
    let values: Vec<i64> = events
        .iter()
        .filter(|e| e.stream == stream && e.event_type == "progress.reported")
        .map(|e| reported(e.data.get().as_bytes()).1)
        .collect();
    if let Some(k) = values.windows(2).position(|w| w[0] >= w[1]) {
        panic!(
            "report {} (value {}) landed after report {} (value {}): the order was lost",
            values[k + 1] - 121,
            values[k + 1],
            values[k] - 121,
            values[k]
        );
    }
    let missing: Vec<i64> = (121..121 + REPORTS)
        .filter(|v| !values.contains(v))
        .collect();
    assert!(
        missing.is_empty(),
        "{} reports were never decided within {limit:?}, values {missing:?}\n{}",
        missing.len(),
        writer.output()
    );
    let expected: Vec<i64> = (121..121 + REPORTS).collect();
    assert_eq!(values, expected, "every report once, in sending order");
    let log = writer.log();
    assert_each_accepted_once(&log, &events, &reports);
    assert_reports_in_sent_order(&events, &reports);
    let report = log.verify(None).expect("verify");
    assert!(report.ok, "the chain verifies: {report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_and_restarted_mid_load_loses_doubles_and_reorders_nothing() {
    const SUBMISSIONS: usize = 10_000;
    const KILL_AFTER: usize = 3_000;
    const PUBLISHERS: usize = 4;
    let started = Instant::now();
    let mut nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &url, None);
    let mut workload = Workload::new("outage", PUBLISHERS, 2);
    let setup = workload.setup();
    submit_in_order(&publisher(&url).await, &setup).await;
    let reports: Vec<Message> = (0..SUBMISSIONS - setup.len())
        .map(|_| workload.next_report())
        .collect();

    // Each publisher owns one commune's reports and sends them one after
    // another, waiting for each receipt.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut publishers = Vec::new();
    for mine in by_commune(&reports, PUBLISHERS) {
        let url = url.clone();
        let answered = answered.clone();
        publishers.push(tokio::spawn(async move {
            let publisher = publisher(&url).await;
            for message in &mine {
                submit_accepted(&publisher, message).await;
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let wait = Instant::now();
    while answered.load(Ordering::Relaxed) + setup.len() < KILL_AFTER {
        assert!(
            wait.elapsed() < Duration::from_secs(120),
            "only {} receipts after {:?}",
            answered.load(Ordering::Relaxed),
            wait.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_kill = answered.load(Ordering::Relaxed) + setup.len();
    tokio::task::block_in_place(|| nats.kill());
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| nats.restart());
    let restarted = started.elapsed();
    for publisher in publishers {
        publisher.await.expect("a publisher finished");
    }
    let all_answered = started.elapsed();
    assert!(
        at_kill < SUBMISSIONS,
        "NATS died mid-load ({at_kill} receipts of {SUBMISSIONS})"
    );

    let log = writer.log();
    let events = log_events(&log);
    let everything: Vec<Message> = setup.iter().chain(&reports).cloned().collect();
    assert_eq!(everything.len(), SUBMISSIONS);
    assert_each_accepted_once(&log, &events, &everything);
    assert_eq!(
        events.len(),
        SUBMISSIONS,
        "one event per submission, none else"
    );
    assert_reports_in_sent_order(&events, &reports);
    let report = log.verify(None).expect("verify");
    assert!(report.ok, "the chain verifies: {report:?}");

    wait_for_relay(&url, events.len() as u64, Duration::from_secs(60)).await;
    assert_stream_matches_log(&relayed_events(&url).await, &events);
    eprintln!(
        "NATS killed at {at_kill} receipts, back at {restarted:?}; all {SUBMISSIONS} answered at \
         {all_answered:?}; relay checked at {:?}",
        started.elapsed()
    );
}

/// Fills a fresh log in `dir` directly (no NATS): a workload's setup and
/// enough reports for `events` events in all.
fn prepopulate(dir: &std::path::Path, events: usize) -> usize {
    let messages = setup_and_reports(&mut Workload::new("backlog", 4, 5), events);
    decide_in_order(dir, &messages, 512) as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_killed_mid_backlog_resumes_exactly_and_a_lost_events_stream_is_rebuilt_from_the_log()
 {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let total = tokio::task::block_in_place(|| prepopulate(dir.path(), 8_000)) as u64;
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));

    // The writer starts with a backlog for the relay; SIGKILL it as soon as
    // the relay has published some of it.
    let mut writer = Writer::start(dir.path(), &url, None);
    let started = Instant::now();
    while relayed_count(&js).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the relay published nothing\n{}",
            writer.output()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    writer.kill();
    let midway = relayed_count(&js).await;
    assert!(
        midway > 0 && midway < total,
        "the relay was killed mid-way: {midway} of {total} published"
    );

    writer.restart();
    wait_for_relay(&url, total, Duration::from_secs(60)).await;
    let events = log_events(&writer.log());
    assert_eq!(events.len() as u64, total);
    assert_stream_matches_log(&relayed_events(&url).await, &events);

    // The events stream is lost: a restarted writer rebuilds it from the log.
    js.delete_stream("DOTPHA_EVENTS")
        .await
        .expect("the events stream is deleted");
    assert_eq!(relayed_count(&js).await, 0);
    writer.restart();
    wait_for_relay(&url, total, Duration::from_secs(60)).await;
    assert_stream_matches_log(&relayed_events(&url).await, &events);
}

/// A NATS store lost (power cut, new disk) and refilled with new messages
/// under the same sequence numbers before the writer comes back: the writer
/// recognises that the message where it stopped reading is not the one it
/// read, and reads the new stream from its start instead of skipping the
/// new submissions that took the old sequence numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submissions_stream_lost_and_refilled_is_read_from_its_start() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut writer = Writer::start(dir.path(), &nats.url(), None);
    let publisher = publisher(&nats.url()).await;
    let mut workload = Workload::new("refill", 1, 2);
    let setup = workload.setup();
    submit_in_order(&publisher, &setup).await;
    assert!(writer.terminate().success());

    let client = async_nats::connect(nats.url()).await.expect("connects");
    let js = jetstream::new(client);
    js.delete_stream("DOTPHA_SUBMISSIONS")
        .await
        .expect("the stream is lost");
    dotpha_bus::ensure_streams(&js, 1)
        .await
        .expect("a new, empty stream");
    let reports: Vec<Message> = (0..setup.len() * 2)
        .map(|_| workload.next_report())
        .collect();
    for m in &reports {
        let message = PublishMessage::build()
            .payload(m.body.clone().into())
            .message_id(&m.submission_id);
        js.send_publish(format!("dotpha.v1.submit.{}", m.unit), message)
            .await
            .expect("published")
            .await
            .expect("stored");
    }

    writer.restart();
    let total = setup.len() + reports.len();
    let events = wait_for_log(&writer, Duration::from_secs(30), |events| {
        events.len() >= total
    })
    .await;
    let log = writer.log();
    assert_each_accepted_once(&log, &events, &setup);
    assert_each_accepted_once(&log, &events, &reports);
    assert!(log.verify(None).expect("verify").ok);
}
