//! A publisher in another language: `examples/publish.py`, written from
//! CONTRACT.md alone with nats-py, registers the root unit of an empty log
//! through a real nats-server and the real `dotpha ingest` process.
//!
//! python3 and nats-py are required: without them this test fails, it does
//! not skip (`.ci/run` installs nats-py).

mod support;

use std::{path::Path, process::Command};

use dotpha_store::ReceiptStatus;
use support::*;

/// Fails, saying how to fix it, unless python3 can `import nats`.
fn require_nats_py() {
    let check = Command::new("python3")
        .args(["-c", "import nats"])
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is required for the interop test but could not be run: {e}")
        });
    assert!(
        check.status.success(),
        "the Python publisher needs nats-py, which python3 cannot import:\n{}\n\
         .ci/run installs it (python3 -m pip install nats-py); run that line, or .ci/run, first.",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_publisher_written_from_the_contract_gets_its_submission_accepted() {
    require_nats_py();
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &nats.url(), None);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/publish.py");
    let output = tokio::task::spawn_blocking({
        let url = nats.url();
        move || {
            Command::new("python3")
                .arg(&script)
                .arg(&url)
                .output()
                .expect("python3 runs")
        }
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "publish.py exits 0 for an accepted submission\nstdout:\n{stdout}\nstderr:\n{stderr}\nwriter:\n{}",
        writer.output()
    );

    let receipt: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("publish.py prints the receipt as JSON");
    assert_eq!(receipt["schema"], "dotpha.receipt.v1");
    assert_eq!(receipt["status"], "accepted", "{receipt}");
    assert_eq!(receipt["duplicate"], false);
    let id = receipt["submission_id"]
        .as_str()
        .expect("the receipt names its submission");

    let log = writer.log();
    let recorded = log
        .receipt(id)
        .expect("read")
        .expect("the log holds the submission's decision");
    assert_eq!(recorded.status, ReceiptStatus::Accepted);
    assert_eq!(
        serde_json::to_value(&recorded.events).expect("json"),
        receipt["events"],
        "the printed receipt names the events the log holds"
    );
    let events = log_events(&log);
    assert_eq!(events.len(), 1, "the root unit's registration, alone");
    assert_eq!(events[0].submission_id, id);
    assert_eq!(events[0].event_type, "unit.registered");
    assert_eq!(events[0].stream, "unit-son-duong");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(events[0].data.get()).expect("json")["name"],
        "Huyện Sơn Dương",
        "Vietnamese text arrives intact"
    );
    assert!(log.verify(None).expect("verify").ok);
}
