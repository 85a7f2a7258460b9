//! Support for the end-to-end tests: a real nats-server (from testkit), the
//! real `dotpha ingest` process, publishers, and readers of what ended up
//! in the log and on `DOTPHA_EVENTS`.

#![allow(dead_code, unused_imports)]

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use async_nats::jetstream;
use dotpha_bus::{Publisher, PublisherOptions};
use dotpha_domain::Timestamp;
use dotpha_store::{Log, Receipt, ReceiptStatus, RecordedEvent};
pub use dotpha_testkit::{Message, Workload, nats::NatsServer};
use dotpha_views::{
    ReadModel,
    query::{MAX_LIMIT, TaskFilter, Tree},
};
use serde_json::{Value, json};

/// Whether the process is still running.
fn is_running(child: &mut Option<Child>) -> bool {
    matches!(child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
}

/// SIGKILL, and waits for it to end.
fn kill(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// SIGTERM, then waits for the exit status.
fn terminate(child: &mut Option<Child>) -> ExitStatus {
    let mut child = child.take().expect("the process is running");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().expect("the process exits")
}

/// Waits (up to `limit`) for the process to exit by itself; returns its
/// status.
fn wait_exit(child: &mut Option<Child>, limit: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(running) = child.as_mut()
            && let Ok(Some(status)) = running.try_wait()
        {
            *child = None;
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A `dotpha ingest` process on a data directory.
pub struct Writer {
    child: Option<Child>,
    pub data: PathBuf,
    pub nats_url: String,
    /// `--replicas`: how many NATS servers keep each stream.
    pub replicas: usize,
    /// More arguments (`--origin`, `--witness`).
    pub args: Vec<String>,
    log_file: PathBuf,
}

impl Writer {
    /// Starts `dotpha ingest`; `fault` sets `DOTPHA_FAULT`.
    pub fn start(data: &Path, nats_url: &str, fault: Option<&str>) -> Writer {
        Writer::start_replicated(data, nats_url, 1, fault)
    }

    /// Starts `dotpha ingest --replicas <replicas>`; `nats_url` may list
    /// several servers, comma-separated.
    pub fn start_replicated(
        data: &Path,
        nats_url: &str,
        replicas: usize,
        fault: Option<&str>,
    ) -> Writer {
        let log_file = data.with_extension(format!("ingest-{}.log", std::process::id()));
        let mut writer = Writer {
            child: None,
            data: data.to_owned(),
            nats_url: nats_url.to_owned(),
            replicas,
            args: Vec::new(),
            log_file,
        };
        writer.spawn(fault);
        writer
    }

    /// Starts `dotpha ingest` with more arguments and `DOTPHA_FAULT` set
    /// to `fault`.
    pub fn start_with_fault(
        data: &Path,
        nats_url: &str,
        args: &[&str],
        fault: Option<&str>,
    ) -> Writer {
        Writer::start_replicated_with(data, nats_url, 1, args, fault)
    }

    /// Starts `dotpha ingest --replicas <replicas>` with more arguments and
    /// `DOTPHA_FAULT` set to `fault`.
    pub fn start_replicated_with(
        data: &Path,
        nats_url: &str,
        replicas: usize,
        args: &[&str],
        fault: Option<&str>,
    ) -> Writer {
        let log_file = data.with_extension(format!("ingest-{}.log", std::process::id()));
        let mut writer = Writer {
            child: None,
            data: data.to_owned(),
            nats_url: nats_url.to_owned(),
            replicas,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            log_file,
        };
        writer.spawn(fault);
        writer
    }

    /// The process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends `signal` (`STOP`, `CONT`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("the writer runs");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Whether the process is stopped (SIGSTOP): its state in
    /// `/proc/<pid>/stat` is `T`.
    pub fn is_stopped(&self) -> bool {
        self.pid()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .and_then(|stat| {
                stat.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.chars().next())
            })
            .is_some_and(|state| state == 'T')
    }

    /// Starts `dotpha ingest` with more arguments.
    pub fn start_with_args(data: &Path, nats_url: &str, args: &[&str]) -> Writer {
        Writer::start_with_fault(data, nats_url, args, None)
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
            .args(["--replicas", &self.replicas.to_string()])
            .args(&self.args)
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
        self.restart_with(None);
    }

    /// Starts it again (killing it first if it runs) with `fault` set.
    pub fn restart_with(&mut self, fault: Option<&str>) {
        self.kill();
        self.spawn(fault);
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        is_running(&mut self.child)
    }

    /// SIGKILL, as a power cut would end it.
    pub fn kill(&mut self) {
        kill(&mut self.child);
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        terminate(&mut self.child)
    }

    /// Waits (up to `limit`) for the process to exit by itself, e.g. after an
    /// injected fault; returns its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, limit)
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
/// their `Nats-Msg-Id`. Read through an ephemeral pull consumer, a thousand
/// at a time (a request per message takes seconds for a long stream).
pub async fn relayed_events(url: &str) -> Vec<(String, RecordedEvent)> {
    use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
    use futures::StreamExt;

    let client = async_nats::connect(url).await.expect("connects");
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream("DOTPHA_EVENTS")
        .await
        .expect("the events stream exists");
    let state = stream.info().await.expect("info").state.clone();
    let mut out = Vec::with_capacity(state.messages as usize);
    if state.messages == 0 {
        return out;
    }
    // On a cluster that has just lost or regained a node, creating a
    // consumer can time out while the meta leader settles: retry, as any
    // client must.
    let started = Instant::now();
    let consumer: PullConsumer = loop {
        match stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                inactive_threshold: Duration::from_secs(60),
                ..Default::default()
            })
            .await
        {
            Ok(consumer) => break consumer,
            Err(error) if started.elapsed() < Duration::from_secs(60) => {
                eprintln!("creating a reader of the events stream failed ({error}); retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => panic!("a reader of the events stream: {error}"),
        }
    };
    let mut expected_sequence = state.first_sequence;
    while (out.len() as u64) < state.messages {
        let before = out.len();
        let mut batch = consumer
            .batch()
            .max_messages(1000.min((state.messages - out.len() as u64) as usize))
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .expect("pulls events");
        while let Some(message) = batch.next().await {
            let message = message.expect("an event message");
            let sequence = message.info().expect("JetStream metadata").stream_sequence;
            assert_eq!(
                sequence, expected_sequence,
                "DOTPHA_EVENTS read in stream order"
            );
            expected_sequence += 1;
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let event: RecordedEvent =
                serde_json::from_slice(&message.payload).expect("an event object");
            out.push((id, event));
        }
        assert!(
            out.len() > before,
            "reading DOTPHA_EVENTS stalled at {} of {} messages",
            out.len(),
            state.messages
        );
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

/// Submits a workload message and insists that it is accepted; returns its
/// receipt.
pub async fn submit_accepted(publisher: &Publisher, message: &Message) -> Receipt {
    let receipt = submit(publisher, message).await;
    assert_accepted(message, &receipt);
    receipt
}

/// Asserts that `receipt`, the answer to `message`, is an acceptance.
pub fn assert_accepted(message: &Message, receipt: &Receipt) {
    assert_eq!(
        receipt.status,
        ReceiptStatus::Accepted,
        "{}: {:?}",
        message.submission_id,
        receipt.error
    );
}

/// Submits `messages` one after another (each waits for the one before it
/// to be decided, as setup messages must), insisting that each is
/// accepted; returns their receipts.
pub async fn submit_in_order(publisher: &Publisher, messages: &[Message]) -> Vec<Receipt> {
    let mut receipts = Vec::with_capacity(messages.len());
    for message in messages {
        receipts.push(submit_accepted(publisher, message).await);
    }
    receipts
}

/// Decides `messages` into the log in `data` directly through the writer's
/// core (no NATS), `batch` at a time as the writer would, insisting that
/// every one is accepted; returns the log's head.
pub fn decide_in_order(data: &Path, messages: &[Message], batch: usize) -> u64 {
    let mut ledger = dotpha_app::DataDir::new(data)
        .ledger()
        .expect("the log opens");
    for (i, chunk) in messages.chunks(batch).enumerate() {
        let arrivals = chunk
            .iter()
            .map(|m| {
                dotpha_store::Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id))
                    .expect("readable")
            })
            .collect();
        let receipts = ledger
            .submit_batch(
                arrivals,
                &Timestamp::from_unix_millis(1_614_650_000_000 + i as i64),
            )
            .expect("committed");
        assert!(
            receipts.iter().all(|r| r.status == ReceiptStatus::Accepted),
            "every message is accepted"
        );
    }
    ledger.log().head().position
}

/// A workload's setup and then reports, `events` messages at least.
pub fn setup_and_reports(workload: &mut Workload, events: usize) -> Vec<Message> {
    let mut messages = workload.setup();
    while messages.len() < events {
        messages.push(workload.next_report());
    }
    messages
}

/// A progress report on task `t` of commune `i` of a [`Workload`], with one
/// value for its `households` metric.
pub fn report(submission_id: &str, i: usize, t: usize, value: i64) -> Message {
    let unit = Workload::commune(i);
    let body = serde_json::json!({
        "schema": "dotpha.submission.v1",
        "submission_id": submission_id,
        "unit": unit,
        "actor": format!("chu-tich-{unit}"),
        "occurred_at": "2021-03-02T08:30:00+07:00",
        "type": "progress.reported",
        "data": {
            "task_id": Workload::task(i, t), "as_of": "2021-03-01",
            "values": [{"metric": "households", "value": value}],
        },
    });
    Message {
        unit,
        submission_id: submission_id.to_owned(),
        body: body.to_string().into_bytes(),
    }
}

/// The task a progress report is about and the value it reports.
pub fn reported(body: &[u8]) -> (String, i64) {
    let value: serde_json::Value = serde_json::from_slice(body).expect("a JSON body");
    let data = value.get("data").unwrap_or(&value);
    (
        data["task_id"].as_str().expect("a task_id").to_owned(),
        data["values"][0]["value"].as_i64().expect("a value"),
    )
}

/// The log's events grouped by submission id, in log order.
pub fn events_by_submission(events: &[RecordedEvent]) -> HashMap<&str, Vec<&RecordedEvent>> {
    let mut out: HashMap<&str, Vec<&RecordedEvent>> = HashMap::new();
    for event in events {
        out.entry(event.submission_id.as_str())
            .or_default()
            .push(event);
    }
    out
}

/// Asserts that each message was decided exactly once and accepted with
/// exactly one event: the log holds one decision for it (its receipt, not
/// a duplicate) whose event is the only one carrying its submission id.
pub fn assert_each_accepted_once(log: &Log, events: &[RecordedEvent], messages: &[Message]) {
    let by_submission = events_by_submission(events);
    for message in messages {
        let id = message.submission_id.as_str();
        let receipt = log
            .receipt(id)
            .expect("read a receipt")
            .unwrap_or_else(|| panic!("{id} was never decided"));
        assert_eq!(
            receipt.status,
            ReceiptStatus::Accepted,
            "{id}: {:?}",
            receipt.error
        );
        assert!(
            !receipt.duplicate,
            "{id}: the log's receipt is the original"
        );
        let found = by_submission.get(id).map_or(0, Vec::len);
        assert_eq!(
            found, 1,
            "{id} has exactly one event in the log, found {found}"
        );
        assert_eq!(
            receipt.events,
            vec![by_submission[id][0].reference()],
            "{id}: the decision names the event the log holds"
        );
    }
}

/// Polls the log until `done` holds for its events (or panics after `limit`).
pub async fn wait_for_log(
    writer: &Writer,
    limit: Duration,
    done: impl Fn(&[RecordedEvent]) -> bool,
) -> Vec<RecordedEvent> {
    let (reached, events) = poll_log(writer, limit, done).await;
    assert!(
        reached,
        "the log did not reach the expected state in {limit:?}\n{}",
        writer.output()
    );
    events
}

/// Polls the log until `done` holds for its events or `limit` has passed;
/// returns whether it held, and the events last read (so a caller can say
/// what is missing or misplaced instead of just "timed out").
pub async fn poll_log(
    writer: &Writer,
    limit: Duration,
    done: impl Fn(&[RecordedEvent]) -> bool,
) -> (bool, Vec<RecordedEvent>) {
    let started = Instant::now();
    let mut events = Vec::new();
    loop {
        if let Ok(log) = Log::open_read_only(writer.data.join("log.sqlite"))
            && let Ok(read) = log.events_from(1, usize::MAX >> 1)
        {
            events = read;
            if done(&events) {
                return (true, events);
            }
        }
        if started.elapsed() >= limit {
            return (false, events);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many messages `DOTPHA_EVENTS` holds (0 when it does not exist).
pub async fn relayed_count(js: &jetstream::Context) -> u64 {
    match js.get_stream("DOTPHA_EVENTS").await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// A GET over plain HTTP/1.1; returns the status and the body.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the server listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    // The bodies here are small JSON documents sent in one chunk.
    let body = if response
        .to_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n")
            .map(|(_, rest)| {
                rest.rsplit_once("\r\n0\r\n")
                    .map_or(rest, |(b, _)| b)
                    .to_owned()
            })
            .unwrap_or(body)
    } else {
        body
    };
    (status, body)
}

/// A `dotpha project` process.
pub struct Projector {
    child: Option<Child>,
    pub data: PathBuf,
    pub nats_url: String,
    pub name: String,
    log_file: PathBuf,
}

impl Projector {
    pub fn start(data: &Path, nats_url: &str, name: &str) -> Projector {
        let log_file = data.with_extension(format!("project-{name}-{}.log", std::process::id()));
        let mut projector = Projector {
            child: None,
            data: data.to_owned(),
            nats_url: nats_url.to_owned(),
            name: name.to_owned(),
            log_file,
        };
        projector.spawn();
        projector
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .expect("open the worker's log file");
        let child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(["project", "--data"])
            .arg(&self.data)
            .args(["--nats", &self.nats_url, "--name", &self.name])
            .env("DOTPHA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dotpha project starts");
        self.child = Some(child);
    }

    /// SIGKILL, as a power cut would end it.
    pub fn kill(&mut self) {
        kill(&mut self.child);
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        terminate(&mut self.child)
    }

    /// Waits (up to `limit`) for the process to exit by itself; returns its
    /// status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, limit)
    }

    pub fn is_running(&mut self) -> bool {
        is_running(&mut self.child)
    }

    /// The read model's file (the generation link).
    pub fn read_path(&self) -> PathBuf {
        let base = dotpha_project::files::base_for(&self.name);
        dotpha_project::files::link(&self.data, &base)
    }

    /// The position its read model has committed (0 before it exists).
    pub fn position(&self) -> u64 {
        ReadModel::open_read_only(self.read_path()).map_or(0, |r| r.applied().position)
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }
}

impl Drop for Projector {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log_file);
    }
}

/// A task's history as the route answers it: the read model's copies, and
/// the events it applied from a log read there: the log beside it (in its
/// data directory), or for a read model made elsewhere, `log`, the one it
/// caught up from.
pub fn history(
    read: &ReadModel,
    log: &std::path::Path,
    task_id: &str,
) -> Option<Vec<Box<serde_json::value::RawValue>>> {
    let beside = std::path::Path::new(read.path()).with_file_name("log.sqlite");
    let log = if beside.exists() {
        beside.as_path()
    } else {
        log
    };
    dotpha_project::history(read, Some(log), task_id).expect("history")
}

/// What the queries answer, labelled (histories read as [`history`] does,
/// with `log`).
pub fn answers(
    read: &ReadModel,
    log: &std::path::Path,
    communes: usize,
    per: usize,
) -> BTreeMap<String, Value> {
    let now = Timestamp::parse("2021-07-01T00:00:00Z")
        .expect("an instant")
        .unix_millis();
    let mut out = BTreeMap::new();
    let applied = read.applied();
    out.insert(
        "applied".to_owned(),
        json!([applied.position, applied.hash, applied.genesis]),
    );
    for (label, filter) in [
        (
            "all",
            TaskFilter {
                limit: Some(MAX_LIMIT),
                ..TaskFilter::default()
            },
        ),
        (
            "commune 1",
            TaskFilter {
                unit: Some(Workload::commune(1)),
                ..TaskFilter::default()
            },
        ),
        (
            "q",
            TaskFilter {
                q: Some("xa mau 2".to_owned()),
                ..TaskFilter::default()
            },
        ),
    ] {
        out.insert(
            format!("tasks {label}"),
            json!(read.tasks(&filter, now).expect("tasks")),
        );
    }
    out.insert(
        "dashboard".to_owned(),
        json!(read.dashboard(None, now).expect("dashboard")),
    );
    for tree in [Tree::Today, Tree::AsItWas] {
        out.insert(
            format!("root {tree:?}"),
            json!(
                read.unit(dotpha_testkit::ROOT, tree, None, now)
                    .expect("unit")
            ),
        );
    }
    for i in 0..communes {
        let chair = format!("chu-tich-{}", Workload::commune(i));
        out.insert(
            format!("cadre {chair}"),
            json!(read.cadre(&chair, now).expect("cadre")),
        );
        for t in 0..per {
            let id = Workload::task(i, t);
            out.insert(
                format!("task {id}"),
                json!(read.task(&id, now).expect("task")),
            );
            let history: Option<Vec<String>> =
                history(read, log, &id).map(|h| h.iter().map(|e| e.get().to_owned()).collect());
            out.insert(format!("history {id}"), json!(history));
        }
    }
    out
}

/// Waits until every worker's read model has applied `head`; on a time-out
/// says where each stands, how far the relay got (asked of `nats_url`, a server that answers) and
/// what the workers and the writer logged.
pub async fn wait_for_workers(
    workers: &mut [&mut Projector],
    head: u64,
    writer: &Writer,
    nats_url: &str,
    limit: Duration,
) {
    let started = Instant::now();
    loop {
        let positions: Vec<u64> = workers.iter().map(|w| w.position()).collect();
        if positions.iter().all(|p| *p >= head) {
            return;
        }
        for worker in workers.iter_mut() {
            assert!(
                worker.is_running(),
                "worker {} stopped\n{}",
                worker.name,
                worker.output()
            );
        }
        if started.elapsed() >= limit {
            let relayed = match async_nats::connect(nats_url).await {
                Ok(client) => relayed_count(&async_nats::jetstream::new(client)).await,
                Err(_) => 0,
            };
            panic!(
                "the read models did not reach {head} in {limit:?}: {positions:?}; \
                 DOTPHA_EVENTS holds {relayed}\n{}--- ingest\n{}",
                workers
                    .iter()
                    .map(|w| format!("--- {}\n{}", w.name, w.output()))
                    .collect::<String>(),
                writer.output()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The last log position the receipts name.
pub fn head_of(receipts: &[Receipt]) -> u64 {
    receipts
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.position))
        .max()
        .expect("the receipts name events")
}

/// Asserts that a publisher's receipt for `message` is an acceptance naming
/// the events the log recorded for it.
pub fn assert_holds_logged_events(log: &Log, message: &Message, receipt: &Receipt) {
    assert_accepted(message, receipt);
    let recorded = log
        .receipt(&message.submission_id)
        .expect("read")
        .expect("decided");
    assert_eq!(
        receipt.events, recorded.events,
        "{}: the publisher holds the events the log recorded",
        message.submission_id
    );
}

/// Takes the writer's lease behind the running writer's back, as a writer
/// that believed it dead would: writes the lease's key (`log` in the KV
/// bucket `dotpha_writer`) with another holder, by a plain JetStream
/// publish, as any NATS client could.
pub async fn take_the_lease(url: &str) {
    let client = async_nats::connect(url).await.expect("connects");
    let intruder = json!({
        "owner": "elsewhere:/srv/dotpha#x", "session": "intruder", "host": "elsewhere",
        "pid": 1, "what": "dotpha writer of /srv/dotpha/log.sqlite", "renewals": 0,
    });
    jetstream::new(client)
        .publish("$KV.dotpha_writer.log", intruder.to_string().into())
        .await
        .expect("published")
        .await
        .expect("the lease's stream holds it");
}

/// `dotpha verify --data DIR`, which must be clean; its output.
pub fn verify_clean(dir: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["verify", "--data"])
        .arg(dir)
        .output()
        .expect("dotpha verify runs");
    assert!(
        out.status.success(),
        "verify is clean: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every row of the log's tables that replication carries, as text.
pub fn log_rows(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("opens");
    let mut all = Vec::new();
    for query in [
        "SELECT position, stream, version, type, unit, actor, occurred_at, recorded_at, submission_id, data, prev_hash, hash FROM events ORDER BY position",
        "SELECT submission_id, status, unit, first_position, last_position, error_code, error_message, error_field, submission, recorded_at FROM decisions ORDER BY rowid",
        "SELECT stream_sequence, subject, headers, hex(payload), reason, recorded_at, submission_id, unit FROM dead_letters ORDER BY rowid",
        "SELECT position, hex(hashes) FROM tree_nodes ORDER BY position",
        "SELECT name, position, tag FROM checkpoints WHERE name = 'writer.read_position'",
    ] {
        // A log being created has no tables for a moment: no rows then.
        let Ok(mut statement) = conn.prepare(query) else {
            all.push(format!("(no table yet for: {query})"));
            continue;
        };
        let columns = statement.column_count();
        let mut found = statement.query([]).expect("queries");
        while let Some(row) = found.next().expect("reads") {
            let cells: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("cell")))
                .collect();
            all.push(cells.join("|"));
        }
    }
    all
}
