//! Support for the end-to-end tests: a real nats-server (from testkit), the
//! real `dotpha ingest` process, publishers, and readers of what ended up
//! in the log and on `DOTPHA_EVENTS`.

#![allow(dead_code, unused_imports)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use async_nats::jetstream;
use dotpha_bus::{Publisher, PublisherOptions};
use dotpha_store::{Log, Receipt, RecordedEvent};
pub use dotpha_testkit::{Message, Workload, nats::NatsServer};

/// A `dotpha ingest` process on a data directory.
pub struct Writer {
    child: Option<Child>,
    pub data: PathBuf,
    pub nats_url: String,
    log_file: PathBuf,
}

impl Writer {
    /// Starts `dotpha ingest`; `fault` sets `DOTPHA_FAULT`.
    pub fn start(data: &Path, nats_url: &str, fault: Option<&str>) -> Writer {
        let log_file = data.with_extension(format!("ingest-{}.log", std::process::id()));
        let mut writer = Writer {
            child: None,
            data: data.to_owned(),
            nats_url: nats_url.to_owned(),
            log_file,
        };
        writer.spawn(fault);
        writer
    }

    fn spawn(&mut self, fault: Option<&str>) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .expect("open the writer's log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_dotpha"));
        command
            .args(["ingest", "--data"])
            .arg(&self.data)
            .args(["--nats", &self.nats_url])
            .env("DOTPHA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        match fault {
            Some(f) => command.env("DOTPHA_FAULT", f),
            None => command.env_remove("DOTPHA_FAULT"),
        };
        self.child = Some(command.spawn().expect("dotpha ingest starts"));
    }

    /// Starts it again (after a kill or a crash), without a fault.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn(None);
    }

    /// SIGKILL, as a power cut would end it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the writer is running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("the writer exits")
    }

    /// Waits (up to `limit`) for the process to exit by itself, e.g. after an
    /// injected fault; returns its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the writer printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// The log, opened read-only.
    pub fn log(&self) -> Log {
        Log::open_read_only(self.data.join("log.sqlite")).expect("the log opens")
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log_file);
    }
}

/// A publisher connected to `url`, patient enough for restarts.
pub async fn publisher(url: &str) -> Publisher {
    let connection = dotpha_bus::connect(url, "test-publisher", true)
        .await
        .expect("connects");
    Publisher::new(
        connection,
        PublisherOptions {
            ack_timeout: Duration::from_secs(2),
            receipt_timeout: Duration::from_secs(5),
            attempts: 30,
            retry_delay: Duration::from_millis(100),
        },
    )
}

/// Submits a workload message and returns its receipt.
pub async fn submit(publisher: &Publisher, message: &Message) -> Receipt {
    publisher
        .submit(
            &message.unit,
            &message.submission_id,
            message.body.clone().into(),
        )
        .await
        .unwrap_or_else(|e| panic!("{} was not delivered: {e}", message.submission_id))
}

/// Every message on `DOTPHA_EVENTS`, in stream order, as event objects with
/// their `Nats-Msg-Id`.
pub async fn relayed_events(url: &str) -> Vec<(String, RecordedEvent)> {
    let client = async_nats::connect(url).await.expect("connects");
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream("DOTPHA_EVENTS")
        .await
        .expect("the events stream exists");
    let last = stream.info().await.expect("info").state.last_sequence;
    let mut out = Vec::new();
    for sequence in 1..=last {
        let message = stream
            .get_raw_message(sequence)
            .await
            .expect("a stored event");
        let id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let event: RecordedEvent =
            serde_json::from_slice(&message.payload).expect("an event object");
        out.push((id, event));
    }
    out
}

/// Waits until `DOTPHA_EVENTS` holds `count` messages (or panics after
/// `limit`), polling the stream's state.
pub async fn wait_for_relay(url: &str, count: u64, limit: Duration) {
    let client = async_nats::connect(url).await.expect("connects");
    let js = jetstream::new(client);
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = js.get_stream("DOTPHA_EVENTS").await
            && let Ok(info) = stream.info().await
            && info.state.messages >= count
        {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "DOTPHA_EVENTS did not reach {count} messages in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every event in the log, in order.
pub fn log_events(log: &Log) -> Vec<RecordedEvent> {
    log.events_from(1, usize::MAX >> 1).expect("events read")
}

/// Asserts that the relayed stream equals the log: every position once, in
/// order, with `Nats-Msg-Id` = position and identical content.
pub fn assert_stream_matches_log(relayed: &[(String, RecordedEvent)], log: &[RecordedEvent]) {
    assert_eq!(
        relayed.len(),
        log.len(),
        "DOTPHA_EVENTS holds each committed event once"
    );
    for ((id, on_bus), in_log) in relayed.iter().zip(log) {
        assert_eq!(
            id,
            &in_log.position.to_string(),
            "Nats-Msg-Id is the position"
        );
        assert_eq!(
            serde_json::to_value(on_bus).expect("json"),
            serde_json::to_value(in_log).expect("json"),
            "the event on the bus equals the log's at position {}",
            in_log.position
        );
    }
}
