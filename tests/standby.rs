//! The replicated commit point (issue 16, first step), with real
//! processes: every committed batch reaches `DOTPHA_DECISIONS` before its
//! receipts; a standby started from an empty directory rebuilds the log
//! from that stream alone, byte for byte; a writer whose stream moved on
//! (another writer appended) is fenced and answers nothing more.

mod support;

use std::time::Duration;

use async_nats::jetstream;
use dotpha_store::{Log, ReceiptStatus};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_from_an_empty_directory_rebuilds_the_log_from_the_stream_alone() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = Writer::start(&a_dir, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("standby", 2, 2);
    let setup = workload.setup();
    let receipts = submit_in_order(&publisher, &setup).await;
    // A rejection, kept with what was received: the first setup again
    // under a new id.
    let mut again = setup[0].clone();
    let text = String::from_utf8(again.body.clone()).expect("utf-8");
    again.submission_id = "standby-again-0001".to_owned();
    again.body = text
        .replace(&setup[0].submission_id, &again.submission_id)
        .into_bytes();
    let refused = submit(&publisher, &again).await;
    assert_eq!(refused.status, ReceiptStatus::Rejected, "{refused:?}");
    // A message with no id at all: a dead letter.
    let client = async_nats::connect(&url).await.expect("connects");
    jetstream::new(client)
        .publish("dotpha.v1.submit.nobody", "not json".into())
        .await
        .expect("published")
        .await
        .expect("stored");
    let reports: Vec<_> = (0..3).map(|_| workload.next_report()).collect();
    submit_in_order(&publisher, &reports).await;
    let head = head_of(&receipts).max(1);
    assert!(head > 0);

    let mut b = Writer::start_with_args(&b_dir, &url, &["--standby"]);
    let a_log = a_dir.join("log.sqlite");
    let b_log = b_dir.join("log.sqlite");
    let started = std::time::Instant::now();
    loop {
        let a_rows = log_rows(&a_log);
        if b_log.exists() && log_rows(&b_log) == a_rows {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby catches up\n{}",
            b.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.terminate().success(), "{}", a.output());
    assert!(b.terminate().success(), "{}", b.output());
    assert_eq!(log_rows(&a_log), log_rows(&b_log));
    let (a_head, b_head) = (
        Log::open_read_only(&a_log)
            .expect("a")
            .current_head()
            .expect("head"),
        Log::open_read_only(&b_log)
            .expect("b")
            .current_head()
            .expect("head"),
    );
    assert_eq!(a_head, b_head);
    assert!(a_head.position > 0);
    let tail = |text: String| {
        text.split_once(": ")
            .map(|(_, t)| t.to_owned())
            .unwrap_or(text)
    };
    assert_eq!(tail(verify_clean(&a_dir)), tail(verify_clean(&b_dir)));
    assert!(tail(verify_clean(&b_dir)).contains(&b_head.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_whose_stream_moved_on_is_fenced_and_sends_no_receipt() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let a_dir = dir.path().join("a");
    let mut a = Writer::start(&a_dir, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("fenced", 1, 1);
    let setup = workload.setup();
    submit_in_order(&publisher, &setup).await;

    // Another writer appends, as one that took over would.
    let client = async_nats::connect(&url).await.expect("connects");
    let js = jetstream::new(client.clone());
    js.publish("dotpha.v1.decision", "{}".into())
        .await
        .expect("published")
        .await
        .expect("stored");
    let mut receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribes");
    let reports: Vec<_> = (0..1).map(|_| workload.next_report()).collect();
    for message in &reports {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message.submission_id.as_str());
        js.publish_with_headers(
            format!("dotpha.v1.submit.{}", message.unit),
            headers,
            message.body.clone().into(),
        )
        .await
        .expect("published")
        .await
        .expect("stored");
    }
    let status = tokio::task::block_in_place(|| a.wait_exit(Duration::from_secs(30)))
        .unwrap_or_else(|| panic!("the fenced writer stops by itself\n{}", a.output()));
    assert!(!status.success());
    assert!(a.output().contains("fenced"), "{}", a.output());
    let got = tokio::time::timeout(
        Duration::from_millis(500),
        futures::StreamExt::next(&mut receipts),
    )
    .await;
    assert!(got.is_err(), "no receipt after the fence: {got:?}");
    // Restarted, it refuses: its log holds a batch the stream does not.
    a.restart();
    let status = tokio::task::block_in_place(|| a.wait_exit(Duration::from_secs(30)))
        .unwrap_or_else(|| panic!("the diverged writer refuses\n{}", a.output()));
    assert!(!status.success());
    assert!(a.output().contains("diverged"), "{}", a.output());
}

/// Every message `DOTPHA_DECISIONS` holds, in order.
async fn decision_messages(url: &str) -> Vec<Vec<u8>> {
    let js = jetstream::new(async_nats::connect(url).await.expect("connects"));
    let (_, last) = dotpha_bus::decisions::last(&js).await.expect("the stream");
    let mut out = Vec::new();
    for sequence in 1..=last {
        out.push(
            dotpha_bus::decisions::record_at(&js, sequence)
                .await
                .expect("reads")
                .unwrap_or_else(|| panic!("no message {sequence}")),
        );
    }
    out
}

/// Decisions larger than the server's `max_payload` (1 MiB): a dead letter
/// of a 1,000,000-byte message, hex-encoded into a 2 MB record, and a
/// rejection keeping 256 KiB of control characters, escaped into 1.5 MiB.
/// The writer cuts their records into parts, goes on deciding, and a
/// standby following the stream joins the parts into the same log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_larger_than_max_payload_are_replicated_in_parts_and_the_writer_goes_on() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = Writer::start(&a_dir, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("oversized", 1, 1);
    let setup = workload.setup();
    submit_in_order(&publisher, &setup).await;
    // Started once A writes, so it follows A rather than take the lease.
    let mut b = Writer::start_with_args(&b_dir, &url, &["--standby"]);

    let client = async_nats::connect(&url).await.expect("connects");
    assert!(
        client.server_info().max_payload <= 1024 * 1024,
        "the server's default max_payload"
    );
    jetstream::new(client)
        .publish("dotpha.v1.submit.nobody", vec![b'x'; 1_000_000].into())
        .await
        .expect("published")
        .await
        .expect("stored");
    let unit = &setup[0].unit;
    let control = vec![1u8; 256 * 1024];
    let refused = publisher
        .submit(unit, "oversized-control-0001", control.into())
        .await
        .expect("a receipt");
    assert_eq!(refused.status, ReceiptStatus::Rejected, "{refused:?}");
    let reports: Vec<_> = (0..3).map(|_| workload.next_report()).collect();
    let after = submit_in_order(&publisher, &reports).await;
    assert!(
        after.iter().all(|r| r.status == ReceiptStatus::Accepted),
        "the writer goes on deciding: {after:?}"
    );

    let a_log = a_dir.join("log.sqlite");
    let b_log = b_dir.join("log.sqlite");
    let started = std::time::Instant::now();
    while !(b_log.exists() && log_rows(&b_log) == log_rows(&a_log)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby joins the parts and catches up\n{}",
            b.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = decision_messages(&url).await;
    let parts = messages
        .iter()
        .filter(|m| m.starts_with(dotpha_store::PART_PREFIX))
        .count();
    assert!(parts >= 5, "both records were cut into parts: {parts}");
    let largest = messages.iter().map(Vec::len).max().unwrap_or(0);
    assert!(
        largest <= dotpha_store::RECORD_TARGET_BYTES,
        "every message within {}: {largest}",
        dotpha_store::RECORD_TARGET_BYTES
    );
    let dead: i64 = rusqlite::Connection::open(&b_log)
        .expect("opens")
        .query_row(
            "SELECT length(payload) FROM dead_letters WHERE subject = 'dotpha.v1.submit.nobody'",
            [],
            |row| row.get(0),
        )
        .expect("the dead letter, whole");
    assert_eq!(dead, 1_000_000);
    assert!(a.terminate().success(), "{}", a.output());
    assert!(b.terminate().success(), "{}", b.output());
    verify_clean(&a_dir);
    verify_clean(&b_dir);
}

/// A writer killed between two parts of a record, restarted on its own
/// log with no takeover in between: its log is ahead of the stream, so it
/// sends the missing parts again before deciding anything; the standby
/// joins them into the same log, and the publisher gets its receipt (the
/// restarted writer announces its last batch again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_between_two_parts_sends_the_rest_when_it_restarts() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = Writer::start(&a_dir, &url, Some("after-first-part:1"));
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("parts-restart", 1, 1);
    let setup = workload.setup();
    submit_in_order(&publisher, &setup).await;
    let mut b = Writer::start_with_args(&b_dir, &url, &["--standby"]);
    let unit = setup[0].unit.clone();
    let submitting = tokio::spawn(async move {
        publisher
            .submit(&unit, "parts-restart-0001", vec![1u8; 256 * 1024].into())
            .await
    });
    let aborted = tokio::task::block_in_place(|| a.wait_exit(Duration::from_secs(60)));
    assert!(aborted.is_some(), "A aborted at its fault\n{}", a.output());
    a.restart();
    let refused = submitting
        .await
        .expect("the publisher ran")
        .expect("a receipt after the restart");
    assert_eq!(refused.status, ReceiptStatus::Rejected, "{refused:?}");
    // Logged before the records go out, but read from A's output through
    // a pipe that may lag behind the receipt: wait for it, within a bound.
    let logged = std::time::Instant::now();
    while !a
        .output()
        .contains("sending the last batch's records again")
    {
        assert!(
            logged.elapsed() < Duration::from_secs(30),
            "A says it sends the last batch again\n{}",
            a.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (a_log, b_log) = (a_dir.join("log.sqlite"), b_dir.join("log.sqlite"));
    let started = std::time::Instant::now();
    while !(b_log.exists() && log_rows(&b_log) == log_rows(&a_log)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby joins the parts sent before and after the restart\n{}",
            b.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.terminate().success(), "{}", a.output());
    assert!(b.terminate().success(), "{}", b.output());
    verify_clean(&a_dir);
    verify_clean(&b_dir);
}
