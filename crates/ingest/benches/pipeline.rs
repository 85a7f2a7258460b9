//! The ingest pipeline against a real nats-server it starts itself, each
//! figure beside what the parts underneath can do in the same run:
//!
//! (a) raw JetStream publish with acks, 1024 in flight;
//! (b) a bare pull -> SQLite FULL commit -> ack loop, no domain logic;
//! (c) dotpha's full pipeline (publish -> decide -> commit -> receipt) with
//!     concurrent publishers;
//! (d) publish -> receipt latency at a fixed 1,000 submissions/s.
//!
//! With `DOTPHA_BENCH_CLUSTER=1`, (c) and (d) run again, in the same run,
//! on a local 3-node cluster started from `deploy/nats/cluster` with every
//! stream at 3 replicas (the replicated commit point, `DOTPHA_DECISIONS`
//! at R3, issue 16), and the two are printed side by side with what the
//! writer's metrics say a batch cost: its local commit
//! (`dotpha_commit_seconds`) and its append to `DOTPHA_DECISIONS`
//! (`dotpha_replicate_seconds`).
//!
//! `cargo bench -p dotpha-ingest --bench pipeline` (size: `DOTPHA_BENCH_MESSAGES`,
//! default 50,000; publishers: `DOTPHA_BENCH_PUBLISHERS`, default 4).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, consumer::pull, message::PublishMessage, stream};
use dotpha_ingest::{Config, IngestMetrics};
use dotpha_testkit::{Message, Workload, cluster::Cluster, nats::NatsServer};
use futures::StreamExt;
use tokio::sync::watch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rate(n: usize, d: Duration) -> String {
    format!("{:.0}", n as f64 / d.as_secs_f64())
}

/// A ~300-byte submission-like body.
fn body(i: usize) -> Vec<u8> {
    format!(
        "{{\"schema\":\"dotpha.submission.v1\",\"submission_id\":\"raw-{i:012}\",\"unit\":\"xa-0001\",\
         \"actor\":\"chu-tich-xa-0001\",\"occurred_at\":\"2021-03-02T08:30:00+07:00\",\"type\":\"progress.reported\",\
         \"data\":{{\"task_id\":\"ndp-2021-0001-001\",\"as_of\":\"2021-03-01\",\"values\":[{{\"metric\":\"households\",\
         \"value\":{i}}}],\"note\":\"Đã họp thôn\"}}}}"
    )
    .into_bytes()
}

async fn raw_publish(js: &jetstream::Context, n: usize) -> Duration {
    js.create_stream(stream::Config {
        name: "BENCH_RAW".into(),
        subjects: vec!["bench.raw.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream");
    let started = Instant::now();
    let mut in_flight = std::collections::VecDeque::new();
    for i in 0..n {
        let message = PublishMessage::build()
            .payload(body(i).into())
            .message_id(format!("raw-{i}"));
        in_flight.push_back(
            js.send_publish("bench.raw.x", message)
                .await
                .expect("publish"),
        );
        if in_flight.len() >= 1024 {
            in_flight.pop_front().expect("one").await.expect("ack");
        }
    }
    for ack in in_flight {
        ack.await.expect("ack");
    }
    started.elapsed()
}

/// Pulls BENCH_RAW in batches of 256, inserts each batch in one FULL
/// transaction, commits, acks each message.
/// What (b) does, and with `send` also what dotpha sends per
/// submission besides: a receipt (a core message, to a subscriber) and
/// the event relayed to a stream of its own (a JetStream publish, the
/// batch's acks awaited together), so the floor under (c') includes the
/// messaging its design asks of the server.
async fn bare_loop(
    js: &jetstream::Context,
    n: usize,
    dir: &std::path::Path,
    send: bool,
) -> Duration {
    let name = if send { "bare-messages" } else { "bare" };
    let client = js.client();
    let receipts = if send {
        js.create_stream(stream::Config {
            name: "BENCH_EVENTS".into(),
            subjects: vec!["bench.event.>".into()],
            ..Default::default()
        })
        .await
        .expect("events stream");
        let mut subscriber = client
            .subscribe("bench.receipt.>")
            .await
            .expect("subscribe");
        client.flush().await.expect("flush");
        Some(tokio::spawn(async move {
            let mut got = 0usize;
            while got < n && subscriber.next().await.is_some() {
                got += 1;
            }
        }))
    } else {
        None
    };
    // As dotpha's relay: one task, after the commit, in order, each
    // batch's acks awaited together.
    let (relay, relayed) = if send {
        let (relay, mut batches) = tokio::sync::mpsc::channel::<Vec<(usize, Vec<u8>)>>(4);
        let js = js.clone();
        let task = tokio::spawn(async move {
            while let Some(events) = batches.recv().await {
                let mut acks = Vec::with_capacity(events.len());
                for (seq, event) in events {
                    acks.push(
                        js.send_publish(
                            format!("bench.event.{}", seq % 100),
                            PublishMessage::build()
                                .payload(event.into())
                                .message_id(seq.to_string()),
                        )
                        .await
                        .expect("relay"),
                    );
                }
                for ack in acks {
                    ack.await.expect("relay ack");
                }
            }
        });
        (Some(relay), Some(task))
    } else {
        (None, None)
    };
    let stream = js.get_stream("BENCH_RAW").await.expect("stream");
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(name.into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_ack_pending: 4096,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let conn = rusqlite::Connection::open(dir.join(format!("{name}.sqlite"))).expect("open");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch("CREATE TABLE m (seq INTEGER PRIMARY KEY, subject TEXT, body BLOB)")
        .expect("table");
    let conn = Arc::new(Mutex::new(conn));
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(1000)
        .messages()
        .await
        .expect("messages");
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let mut batch = Vec::with_capacity(256);
        while batch.len() < 256 && done + batch.len() < n {
            match tokio::time::timeout(Duration::from_millis(2), messages.next()).await {
                Ok(Some(Ok(m))) => batch.push(m),
                _ if batch.is_empty() => continue,
                _ => break,
            }
        }
        let rows: Vec<(u64, String, Vec<u8>)> = batch
            .iter()
            .map(|m| {
                (
                    m.info().expect("info").stream_sequence,
                    m.subject.to_string(),
                    m.payload.to_vec(),
                )
            })
            .collect();
        let conn = conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().expect("lock");
            let tx = conn.transaction().expect("tx");
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO m VALUES (?1, ?2, ?3)")
                    .expect("prepare");
                for (seq, subject, body) in &rows {
                    insert
                        .execute(rusqlite::params![seq, subject, body])
                        .expect("insert");
                }
            }
            tx.commit().expect("commit");
        })
        .await
        .expect("blocking");
        for m in &batch {
            m.ack().await.expect("ack");
        }
        if let Some(relay) = &relay {
            let mut events = Vec::with_capacity(batch.len());
            for (i, m) in batch.iter().enumerate() {
                let seq = done + i;
                // A receipt's size, to the unit's subject.
                let receipt = format!(
                    "{{\"schema\":\"dotpha.receipt.v1\",\"submission_id\":\"raw-{seq:012}\",\"status\":\"accepted\",\
                     \"duplicate\":false,\"events\":[{{\"position\":{seq},\"stream\":\"task-ndp-2021-0001-001\",\
                     \"version\":{seq},\"type\":\"progress.reported\",\"hash\":\"{:064}\"}}],\
                     \"error\":null,\"recorded_at\":\"2021-03-02T01:30:00.123Z\"}}",
                    0
                );
                client
                    .publish(format!("bench.receipt.{}", seq % 100), receipt.into())
                    .await
                    .expect("receipt");
                // The event as the relay publishes it: the row, with its hash.
                let mut event = m.payload.to_vec();
                event.extend_from_slice(
                    format!(",\"prev_hash\":\"{:064}\",\"hash\":\"{:064}\"", 0, 0).as_bytes(),
                );
                events.push((seq, event));
            }
            relay.send(events).await.expect("relay");
        }
        done += batch.len();
    }
    drop(relay);
    if let Some(relayed) = relayed {
        relayed.await.expect("relay");
    }
    if let Some(receipts) = receipts {
        receipts.await.expect("receipts");
    }
    started.elapsed()
}

struct Pipeline {
    _dir: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    metrics: IngestMetrics,
}

impl Pipeline {
    /// Stops the writer; returns what its metrics say a batch cost.
    async fn stop(self) -> Costs {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        Costs::of(&self.metrics)
    }
}

/// What the writer's histograms say of its batches: how many, their mean
/// size, the mean local commit (decide + append + fsync) and the mean
/// append to `DOTPHA_DECISIONS` (the commit point's round trip).
#[derive(Clone, Copy, Debug, Default)]
struct Costs {
    batches: f64,
    mean_batch: f64,
    commit_ms: f64,
    replicate_ms: f64,
}

impl Costs {
    fn of(metrics: &IngestMetrics) -> Costs {
        let mut registry = prometheus_client::registry::Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("metrics encode");
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let mean = |name: &str| {
            let count = value(&format!("{name}_count"));
            if count > 0.0 {
                value(&format!("{name}_sum")) / count
            } else {
                0.0
            }
        };
        Costs {
            batches: value("dotpha_batch_size_count"),
            mean_batch: mean("dotpha_batch_size"),
            commit_ms: mean("dotpha_commit_seconds") * 1e3,
            replicate_ms: mean("dotpha_replicate_seconds") * 1e3,
        }
    }
}

async fn start_writer(url: &str, replicas: usize) -> Pipeline {
    let dir = tempfile::tempdir().expect("dir");
    let (shutdown, receiver) = watch::channel(false);
    let config = Config {
        data_dir: dir.path().to_owned(),
        nats_url: url.to_owned(),
        replicas,
        fault: None,
        transparency: Default::default(),
        health: dotpha_ingest::Health::default(),
        clock: dotpha_host::SystemClock::shared(),
    };
    let metrics = IngestMetrics::default();
    let task = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            dotpha_ingest::run(config, metrics, receiver)
                .await
                .expect("writer runs");
        })
    };
    Pipeline {
        _dir: dir,
        shutdown,
        task,
        metrics,
    }
}

/// Publishes `messages` with up to `window` PubAcks in flight.
async fn publish_all(
    js: &jetstream::Context,
    messages: Vec<Message>,
    window: usize,
    sent: Option<Arc<Mutex<HashMap<String, Instant>>>>,
    every: Option<Duration>,
) {
    let mut in_flight = std::collections::VecDeque::new();
    let mut ticker = every.map(tokio::time::interval);
    for m in messages {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        if let Some(sent) = &sent {
            sent.lock()
                .expect("lock")
                .insert(m.submission_id.clone(), Instant::now());
        }
        let message = PublishMessage::build()
            .payload(m.body.into())
            .message_id(&m.submission_id);
        in_flight.push_back(
            js.send_publish(format!("dotpha.v1.submit.{}", m.unit), message)
                .await
                .expect("publish"),
        );
        if in_flight.len() >= window {
            in_flight.pop_front().expect("one").await.expect("ack");
        }
    }
    for ack in in_flight {
        ack.await.expect("ack");
    }
}

/// Counts receipts (all accepted) until `n`, noting each one's arrival.
async fn await_receipts(
    mut receipts: async_nats::Subscriber,
    n: usize,
    arrived: Option<Arc<Mutex<HashMap<String, Instant>>>>,
) {
    let mut count = 0;
    while count < n {
        let message = tokio::time::timeout(Duration::from_secs(60), receipts.next())
            .await
            .expect("receipts keep coming")
            .expect("subscription open");
        let receipt: dotpha_store::Receipt =
            serde_json::from_slice(&message.payload).expect("a receipt");
        assert!(receipt.error.is_none(), "{:?}", receipt.error);
        if let Some(arrived) = &arrived {
            arrived
                .lock()
                .expect("lock")
                .insert(receipt.submission_id, Instant::now());
        }
        count += 1;
    }
}

async fn setup(
    js: &jetstream::Context,
    client: &async_nats::Client,
    workload: &mut Workload,
    replicas: usize,
) {
    // The writer creates the streams too; doing it here first means the
    // first publish cannot race it.
    dotpha_bus::ensure_streams(js, replicas)
        .await
        .expect("streams");
    let messages = workload.setup();
    let n = messages.len();
    let receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    for m in messages {
        // Setup steps depend on each other: one at a time.
        let message = PublishMessage::build()
            .payload(m.body.into())
            .message_id(&m.submission_id);
        js.send_publish(format!("dotpha.v1.submit.{}", m.unit), message)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    await_receipts(receipts, n, None).await;
}

/// (c): the full pipeline with `publishers` concurrent publishers, each
/// keeping 256 PubAcks in flight, until every receipt is in: (submissions,
/// time, what a batch cost). The writer talks to `url`; the bench's client
/// is `client`.
async fn full_pipeline(
    url: &str,
    client: &async_nats::Client,
    replicas: usize,
    publishers: usize,
    n: usize,
) -> (usize, Duration, Costs) {
    let js = jetstream::new(client.clone());
    let pipeline = start_writer(url, replicas).await;
    let mut workload = Workload::new("c", publishers, 25);
    setup(&js, client, &mut workload, replicas).await;
    let per = n / publishers;
    let mut batches: Vec<Vec<Message>> = vec![Vec::new(); publishers];
    for i in 0..per * publishers {
        batches[i % publishers].push(workload.next_report());
    }
    let receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for messages in batches {
        let js = js.clone();
        tasks.push(tokio::spawn(async move {
            publish_all(&js, messages, 256, None, None).await
        }));
    }
    await_receipts(receipts, per * publishers, None).await;
    let elapsed = started.elapsed();
    for t in tasks {
        t.await.expect("publisher");
    }
    (per * publishers, elapsed, pipeline.stop().await)
}

/// (d): publish -> receipt latency at a fixed 1,000 submissions/s on a
/// fresh log (`url` must carry no earlier submissions: a new log would
/// decide them again): the sorted latencies and what a batch cost.
async fn latency(
    url: &str,
    client: &async_nats::Client,
    replicas: usize,
    n: usize,
) -> (Vec<Duration>, Costs) {
    let js = jetstream::new(client.clone());
    let pipeline = start_writer(url, replicas).await;
    let mut workload = Workload::new("d", 4, 25);
    setup(&js, client, &mut workload, replicas).await;
    let count = (n / 10).clamp(1000, 10_000);
    let messages: Vec<Message> = (0..count).map(|_| workload.next_report()).collect();
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let arrived = Arc::new(Mutex::new(HashMap::new()));
    let receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let waiter = tokio::spawn(await_receipts(receipts, count, Some(arrived.clone())));
    publish_all(
        &js,
        messages,
        1024,
        Some(sent.clone()),
        Some(Duration::from_millis(1)),
    )
    .await;
    waiter.await.expect("receipts");
    let costs = pipeline.stop().await;
    let sent = sent.lock().expect("lock");
    let arrived = arrived.lock().expect("lock");
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, at)| arrived.get(id).map(|r| r.duration_since(*at)))
        .collect();
    latencies.sort();
    (latencies, costs)
}

/// The `p` quantile of sorted `latencies`, in milliseconds.
fn quantile_ms(latencies: &[Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1e3
}

/// A 3-node cluster from `deploy/nats/cluster`, ready for JetStream, and a
/// client of its first node.
async fn cluster() -> (Cluster, async_nats::Client) {
    let cluster = Cluster::start();
    cluster.wait_ready().await;
    let client = async_nats::connect(cluster.url(0))
        .await
        .expect("connect to the cluster");
    (cluster, client)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env("DOTPHA_BENCH_MESSAGES", 50_000);
    let publishers = env("DOTPHA_BENCH_PUBLISHERS", 4).max(1);
    let on_cluster = env("DOTPHA_BENCH_CLUSTER", 0) == 1;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = jetstream::new(client.clone());
    let dir = tempfile::tempdir().expect("dir");

    let a = raw_publish(&js, n).await;
    let b = bare_loop(&js, n, dir.path(), false).await;
    let b_messages = bare_loop(&js, n, dir.path(), true).await;

    // (c) the full pipeline.
    let (c_count, c, c_costs) = full_pipeline(&nats.url(), &client, 1, publishers, n).await;

    // (c') the same pipeline draining a stream filled beforehand: the
    // writer alone, as (b) measures the bare loop alone.
    drop(nats);
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = jetstream::new(client.clone());
    dotpha_bus::ensure_streams(&js, 1).await.expect("streams");
    let mut workload = Workload::new("e", 4, 25);
    let mut messages = workload.setup();
    let setup_count = messages.len();
    messages.extend((0..n).map(|_| workload.next_report()));
    publish_all(&js, messages, 1024, None, None).await;
    let receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let started = Instant::now();
    let pipeline = start_writer(&nats.url(), 1).await;
    await_receipts(receipts, setup_count + n, None).await;
    let drained = started.elapsed();
    pipeline.stop().await;

    // (d) latency at a fixed rate, on a fresh log and a fresh server (the
    // old submissions stream would be read again by a new log).
    drop(nats);
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let (latencies, d_costs) = latency(&nats.url(), &client, 1, n).await;
    drop(nats);
    let count = latencies.len();

    println!("| what | messages | seconds | per second |");
    println!("|---|---:|---:|---:|");
    println!(
        "| (a) JetStream publish with acks, 1024 in flight, Msg-Id | {n} | {:.2} | {} |",
        a.as_secs_f64(),
        rate(n, a)
    );
    println!(
        "| (b) pull -> 256 rows in one FULL transaction -> commit -> ack | {n} | {:.2} | {} |",
        b.as_secs_f64(),
        rate(n, b)
    );
    println!(
        "| (b') the same, also sending what dotpha sends: a receipt and the relayed event per message | {n} | {:.2} | {} |",
        b_messages.as_secs_f64(),
        rate(n, b_messages)
    );
    println!(
        "| (c) dotpha: publish -> decide -> commit -> receipt, {publishers} publishers | {c_count} | {:.2} | {} |",
        c.as_secs_f64(),
        rate(c_count, c)
    );
    println!(
        "| (c') dotpha draining a pre-filled stream: decide -> commit -> ack -> receipt | {} | {:.2} | {} |",
        setup_count + n,
        drained.as_secs_f64(),
        rate(setup_count + n, drained)
    );
    let per_second = |count: usize, took: Duration| count as f64 / took.as_secs_f64();
    println!(
        "\n(c) / (b) = {:.0}%, (c') / (b) = {:.0}%, (c') / (b') = {:.0}%\n",
        100.0 * per_second(c_count, c) / per_second(n, b),
        100.0 * per_second(setup_count + n, drained) / per_second(n, b),
        100.0 * per_second(setup_count + n, drained) / per_second(n, b_messages)
    );
    println!("| (d) publish -> receipt at 1,000/s | p50 | p99 | max |");
    println!("|---|---:|---:|---:|");
    println!(
        "| {count} submissions | {:.2} ms | {:.2} ms | {:.2} ms |",
        quantile_ms(&latencies, 0.50),
        quantile_ms(&latencies, 0.99),
        quantile_ms(&latencies, 1.0)
    );

    if !on_cluster {
        return;
    }
    // (c) and (d) again on a 3-node cluster, every stream at R3: the
    // replicated commit point as a province would run it. A fresh cluster
    // for each, as a fresh server above.
    let (nodes, cluster_client) = cluster().await;
    let (cc_count, cc, cc_costs) =
        full_pipeline(&nodes.urls(), &cluster_client, 3, publishers, n).await;
    drop(cluster_client);
    drop(nodes);
    let (nodes, cluster_client) = cluster().await;
    let (cluster_latencies, cd_costs) = latency(&nodes.urls(), &cluster_client, 3, n).await;
    drop(cluster_client);
    drop(nodes);

    println!("\n| same run | one server, streams R1 | 3-node cluster, streams R3 |");
    println!("|---|---:|---:|");
    println!(
        "| (c) submissions/s, {publishers} publishers ({c_count} / {cc_count}) | {} | {} |",
        rate(c_count, c),
        rate(cc_count, cc)
    );
    for (label, p) in [("p50", 0.50), ("p99", 0.99), ("max", 1.0)] {
        println!(
            "| (d) publish -> receipt {label} at 1,000/s ({count} / {}) | {:.2} ms | {:.2} ms |",
            cluster_latencies.len(),
            quantile_ms(&latencies, p),
            quantile_ms(&cluster_latencies, p)
        );
    }
    for (what, one, three) in [("(c)", c_costs, cc_costs), ("(d)", d_costs, cd_costs)] {
        println!(
            "| {what} batches, mean submissions per batch | {:.0}, {:.1} | {:.0}, {:.1} |",
            one.batches, one.mean_batch, three.batches, three.mean_batch
        );
        println!(
            "| {what} mean local commit per batch (decide + append + fsync) | {:.2} ms | {:.2} ms |",
            one.commit_ms, three.commit_ms
        );
        println!(
            "| {what} mean append to DOTPHA_DECISIONS per batch (the commit point) | {:.2} ms | {:.2} ms |",
            one.replicate_ms, three.replicate_ms
        );
    }
}
