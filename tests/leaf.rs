//! A commune on a leaf node (deploy/nats/leaf/, "A commune on a leaf node"
//! in deploy/README.md): its publisher talks only to the commune's own
//! nats-server. While the link to the hub is down, the commune's broker
//! holds every submission (the PubAck comes from its outbox); when the link
//! is back, the hub sources them, each is decided exactly once, and the
//! commune hears a receipt for each.
//!
//! Both servers run the configurations `dotpha nats-config` writes: the
//! hub's with `--leafnodes`, the commune's with `--leaf` from the committed
//! template `deploy/nats/leaf/leaf.conf`; only ports and directories are
//! the test's.

mod support;

use std::{
    collections::HashMap,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_bus::{Publisher, PublisherOptions, leaf::OUTBOX_STREAM};
use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Receipt, ReceiptStatus};
use dotpha_testkit::nats::free_port;
use futures::StreamExt;
use support::*;

const COMMUNE: &str = "xa-0000";

fn dotpha(args: &[&str], paths: &[(&str, &Path)]) -> std::process::ExitStatus {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dotpha"));
    command.args(args);
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    command.status().expect("dotpha runs")
}

fn password(data: &Path, unit: Option<&str>) -> String {
    let secrets: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("nats-users.json")).expect("passwords file"),
    )
    .expect("json");
    let value = match unit {
        Some(unit) => &secrets["units"][unit],
        None => &secrets["service"],
    };
    value.as_str().expect("a password").to_owned()
}

/// The commune's own client on its leaf node, as its unit's user.
async fn commune_client(port: u16, password: &str) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .custom_inbox_prefix(format!("_INBOX_{COMMUNE}"))
        .user_and_password(COMMUNE.to_owned(), password.to_owned())
        .connect(format!("nats://127.0.0.1:{port}"))
        .await
        .expect("connects to the leaf node")
}

async fn commune_publisher(port: u16, password: &str) -> Publisher {
    let url = format!("nats://{COMMUNE}:{password}@127.0.0.1:{port}");
    let connection = dotpha_bus::connect(&url, COMMUNE, true)
        .await
        .expect("connects to the leaf node");
    Publisher::new(
        connection,
        PublisherOptions {
            ack_timeout: Duration::from_secs(2),
            receipt_timeout: Duration::from_secs(5),
            attempts: 10,
            retry_delay: Duration::from_millis(200),
        },
    )
}

/// Runs `dotpha leaf-sources` on the hub until the commune's outbox was
/// reached (its leaf node links within a second or two of starting).
fn leaf_sources(service_url: &str) {
    let started = Instant::now();
    loop {
        let status = dotpha(&["leaf-sources", "--nats", service_url, COMMUNE], &[]);
        if status.success() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the commune's outbox was never reached: {status}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commune_keeps_submitting_while_its_link_is_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_owned();
    // A district with one commune, xa-0000, already in the log.
    let mut workload = Workload::new("leaf", 1, 1);
    {
        let mut ledger = Ledger::open(data.join("log.sqlite")).expect("log");
        let arrivals = workload
            .setup()
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        let at = Timestamp::parse("2021-03-02T01:30:00Z").expect("instant");
        let receipts = ledger.submit_batch(arrivals, &at).expect("setup");
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    }

    // The hub: the generated configuration, accepting leaf nodes.
    let leafnodes = format!("127.0.0.1:{}", free_port());
    let mut hub = NatsServer::start_with_config(|port, store| {
        let out = data.join("hub.conf");
        let listen = format!("127.0.0.1:{port}");
        let status = dotpha(
            &[
                "nats-config",
                "--listen",
                &listen,
                "--leafnodes",
                &leafnodes,
            ],
            &[("--data", &data), ("--store", store), ("--out", &out)],
        );
        assert!(status.success());
        std::fs::read_to_string(&out).expect("the hub's configuration")
    });
    // The commune: its leaf node, from the committed template.
    let leaf = NatsServer::start_with_config(|port, store| {
        let out = data.join("leaf.conf");
        let listen = format!("127.0.0.1:{port}");
        let status = dotpha(
            &[
                "nats-config",
                "--leaf",
                COMMUNE,
                "--hub",
                &leafnodes,
                "--listen",
                &listen,
            ],
            &[("--data", &data), ("--store", store), ("--out", &out)],
        );
        assert!(status.success());
        std::fs::read_to_string(&out).expect("the leaf's configuration")
    });
    let service_url = format!(
        "nats://dotpha-service:{}@127.0.0.1:{}",
        password(&data, None),
        hub.port()
    );
    let commune_password = password(&data, Some(COMMUNE));
    let writer = Writer::start(&data, &service_url, None);
    leaf_sources(&service_url);

    // (a) Link up: the commune's publisher, on its own server, is answered.
    let publisher = commune_publisher(leaf.port(), &commune_password).await;
    let first = workload.next_report();
    let receipt = submit(&publisher, &first).await;
    assert_eq!(
        receipt.status,
        ReceiptStatus::Accepted,
        "{:?}",
        receipt.error
    );
    assert!(!receipt.duplicate);

    // (b) Link down: the hub is gone. The commune keeps publishing; each
    // PubAck comes from its own outbox, in its own domain.
    hub.kill();
    let client = commune_client(leaf.port(), &commune_password).await;
    let mut receipts = client
        .subscribe(format!("dotpha.v1.receipt.{COMMUNE}"))
        .await
        .expect("listens for its receipts");
    let js = jetstream::new(client.clone());
    let held: Vec<Message> = (0..20).map(|_| workload.next_report()).collect();
    for message in &held {
        let ack = js
            .send_publish(
                format!("dotpha.v1.submit.{COMMUNE}"),
                PublishMessage::build()
                    .payload(message.body.clone().into())
                    .message_id(&message.submission_id),
            )
            .await
            .expect("published")
            .await
            .expect("the commune's broker holds it while the hub is down");
        assert_eq!(ack.stream, OUTBOX_STREAM, "one path: the local outbox");
        assert_eq!(ack.domain, COMMUNE);
    }
    let log = writer.log();
    assert!(
        held.iter()
            .all(|m| log.receipt(&m.submission_id).expect("read").is_none()),
        "nothing held at the commune was decided while the link was down"
    );

    // Link back: every held submission is sourced, decided, and answered.
    hub.restart();
    let mut heard: HashMap<String, Receipt> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while heard.len() < held.len() {
        match tokio::time::timeout_at(deadline, receipts.next()).await {
            Ok(Some(message)) => {
                if let Ok(receipt) = serde_json::from_slice::<Receipt>(&message.payload) {
                    heard.insert(receipt.submission_id.clone(), receipt);
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // The contract's promise does not rest on hearing the published receipt:
    // a publisher without one submits again, same id, until it has one.
    for message in &held {
        let receipt = match heard.get(&message.submission_id) {
            Some(receipt) => receipt.clone(),
            None => submit(&publisher, message).await,
        };
        assert_eq!(
            receipt.status,
            ReceiptStatus::Accepted,
            "{}: {:?}",
            message.submission_id,
            receipt.error
        );
    }
    let events = wait_for_log(&writer, Duration::from_secs(30), |events| {
        let ids: std::collections::HashSet<&str> =
            events.iter().map(|e| e.submission_id.as_str()).collect();
        held.iter().all(|m| ids.contains(m.submission_id.as_str()))
    })
    .await;
    let mut decided = held.clone();
    decided.push(first.clone());
    assert_each_accepted_once(&writer.log(), &events, &decided);
    eprintln!(
        "{} of {} receipts heard as published once the link was back",
        heard.len(),
        held.len()
    );
    assert!(
        heard.len() == held.len(),
        "every held submission's receipt reached the commune by itself (heard {} of {})",
        heard.len(),
        held.len()
    );

    // A resubmission after the fact appends nothing and answers the original.
    let again = submit(&publisher, &held[0]).await;
    assert!(again.duplicate);
    assert_eq!(again.events, heard[&held[0].submission_id].events);
    assert_each_accepted_once(&writer.log(), &log_events(&writer.log()), &decided);
}
