//! Per-unit NATS users from `dotpha nats-config`: a commune publishes and
//! hears only for itself; another commune's subject is refused, and a forged
//! `unit` field appends nothing for the other commune.

mod support;

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_bus::{PublishError, Publisher, PublisherOptions};
use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, ReceiptStatus};
use support::*;

fn passwords(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("nats-users.json")).expect("passwords file"),
    )
    .expect("json")
}

async fn publisher_as(port: u16, user: &str, password: &str) -> Publisher {
    let url = format!("nats://{user}:{password}@127.0.0.1:{port}");
    let connection = dotpha_bus::connect(&url, user, false)
        .await
        .expect("connects");
    Publisher::new(
        connection,
        PublisherOptions {
            ack_timeout: Duration::from_secs(2),
            receipt_timeout: Duration::from_secs(5),
            attempts: 2,
            retry_delay: Duration::from_millis(100),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commune_acts_only_for_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A district with two communes, xa-0000 and xa-0001, already in the log.
    let mut workload = Workload::new("perm", 2, 1);
    {
        let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("log");
        let arrivals = workload
            .setup()
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        let at = Timestamp::parse("2021-03-02T01:30:00Z").expect("instant");
        let receipts = ledger.submit_batch(arrivals, &at).expect("setup");
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    }
    let data = dir.path().to_owned();
    let nats = NatsServer::start_with_config(|port, store| {
        let out = data.join("generated.conf");
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(["nats-config", "--data"])
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--store"])
            .arg(store)
            .arg("--out")
            .arg(&out)
            .status()
            .expect("dotpha nats-config runs");
        assert!(status.success());
        std::fs::read_to_string(&out).expect("the generated configuration")
    });
    let port = nats.port();
    let secrets = passwords(dir.path());
    let service = format!(
        "nats://dotpha-service:{}@127.0.0.1:{port}",
        secrets["service"].as_str().expect("service password")
    );
    assert!(secrets["units"]["xa-0000"].is_string() && secrets["units"]["xa-0001"].is_string());
    assert!(
        secrets["units"]["son-duong"].is_string(),
        "the district publishes too"
    );
    let _writer = Writer::start(dir.path(), &service, None);

    let a = publisher_as(
        port,
        "xa-0000",
        secrets["units"]["xa-0000"].as_str().expect("password"),
    )
    .await;
    // Its own commune: published, decided, answered.
    let own = workload.next_report();
    assert_eq!(own.unit, "xa-0000");
    let receipt = a
        .submit(&own.unit, &own.submission_id, own.body.clone().into())
        .await
        .expect("delivered");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Accepted,
        "{:?}",
        receipt.error
    );

    // Another commune's subject: refused by the server, said plainly.
    let theirs = workload.next_report();
    assert_eq!(theirs.unit, "xa-0001");
    match a
        .submit(
            &theirs.unit,
            &theirs.submission_id,
            theirs.body.clone().into(),
        )
        .await
    {
        Err(PublishError::Permission(message)) => {
            assert!(
                message.to_lowercase().contains("permissions violation"),
                "{message}"
            )
        }
        other => panic!("expected a permission error, got {other:?}"),
    }

    // A forged `unit` on its own subject: rejected, nothing appended for the
    // other commune, and the answer comes back to the publisher's own unit.
    let mut forged = workload.next_report();
    forged.body = String::from_utf8(forged.body)
        .expect("utf8")
        .replace("\"unit\":\"xa-0000\"", "\"unit\":\"xa-0001\"")
        .into_bytes();
    let client = async_nats::ConnectOptions::new()
        .custom_inbox_prefix("_INBOX_xa-0000")
        .user_and_password(
            "xa-0000".to_owned(),
            secrets["units"]["xa-0000"]
                .as_str()
                .expect("password")
                .to_owned(),
        )
        .connect(format!("nats://127.0.0.1:{port}"))
        .await
        .expect("connects");
    let js = jetstream::new(client);
    let message = PublishMessage::build()
        .payload(forged.body.clone().into())
        .message_id(&forged.submission_id);
    js.send_publish("dotpha.v1.submit.xa-0000", message)
        .await
        .expect("published")
        .await
        .expect("stored");
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(Some(r)) = a.receipt(&forged.submission_id).await {
            answer = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.expect("the forged submission is decided");
    assert_eq!(
        answer.error.as_ref().map(|e| e.code.as_str()),
        Some("unit_mismatch")
    );
    assert_eq!(
        answer.unit.as_deref(),
        Some("xa-0000"),
        "the answer goes to the publisher's own unit"
    );
    let log = dotpha_store::Log::open_read_only(dir.path().join("log.sqlite")).expect("log");
    assert!(
        log.receipt(&theirs.submission_id).expect("read").is_none(),
        "the refused publish never reached the log"
    );
    let events = log_events(&log);
    assert!(
        events
            .iter()
            .all(|e| e.submission_id != forged.submission_id
                && e.submission_id != theirs.submission_id),
        "nothing was appended for the other commune"
    );
}

/// The passwords `dotpha nats-config` makes are independent secrets: none
/// can be worked out from another (an id generator's would share a prefix
/// and step by a constant), and a passwords file made by an earlier version
/// with such guessable passwords is made anew, with a warning.
#[test]
fn the_passwords_give_nothing_away_about_each_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workload = Workload::new("secret", 6, 1);
    {
        let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("log");
        let arrivals = workload
            .setup()
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        let at = Timestamp::parse("2021-03-02T01:30:00Z").expect("instant");
        ledger.submit_batch(arrivals, &at).expect("setup");
    }
    // An earlier version's file: NUID-made, sequential.
    std::fs::write(
        dir.path().join("nats-users.json"),
        r#"{"service": "NowbfSiKp4wsAAAAAAAA01NowbfSiKp4wsAAAAAAAA02", "units": {"xa-0000": "NowbfSiKp4wsAAAAAAAA03NowbfSiKp4wsAAAAAAAA04"}}"#,
    )
    .expect("old passwords");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["nats-config", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("generated.conf"))
        .output()
        .expect("dotpha nats-config runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("replaced 2 password(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secrets = passwords(dir.path());
    let mut all: Vec<String> = vec![secrets["service"].as_str().expect("service").to_owned()];
    for (_, p) in secrets["units"].as_object().expect("units") {
        all.push(p.as_str().expect("a password").to_owned());
    }
    assert!(all.len() >= 7, "the service and every commune: {all:?}");
    for p in &all {
        assert_eq!(p.len(), 48, "{p}");
        assert!(
            !p.starts_with("NowbfSiKp4ws"),
            "the old password was replaced"
        );
    }
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a[..8], b[..8], "two passwords share a prefix: {a} {b}");
        }
    }
}
