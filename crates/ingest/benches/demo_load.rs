//! Loading the demo data set through the writer, as `dotpha up --demo`
//! does, until every submission holds its receipt: one at a time
//! (`Publisher::submit`, what the demo did before) beside in order with many
//! in flight (`Publisher::submit_all`, what it does now), each into a fresh
//! log on a fresh nats-server it starts itself.
//!
//! `cargo bench -p dotpha-ingest --bench demo_load` (rounds:
//! `DOTPHA_BENCH_ROUNDS`, default 3).

use std::time::{Duration, Instant};

use dotpha_bus::{Outgoing, Publisher, PublisherOptions};
use dotpha_domain::wire::ReceiptStatus;
use dotpha_ingest::{Config, IngestMetrics};
use dotpha_testkit::nats::NatsServer;
use tokio::sync::watch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A writer on a fresh log and a fresh nats-server; stops when dropped.
struct Writer {
    _nats: NatsServer,
    _dir: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
    url: String,
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn start_writer() -> Writer {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("dir");
    let (shutdown, receiver) = watch::channel(false);
    let config = Config {
        data_dir: dir.path().to_owned(),
        nats_url: url.clone(),
        replicas: 1,
        fault: None,
        transparency: Default::default(),
        health: dotpha_ingest::Health::default(),
        clock: dotpha_host::SystemClock::shared(),
    };
    tokio::spawn(async move {
        dotpha_ingest::run(config, IngestMetrics::default(), receiver)
            .await
            .expect("writer runs");
    });
    Writer {
        _nats: nats,
        _dir: dir,
        shutdown,
        url,
    }
}

async fn publisher(url: &str) -> Publisher {
    let connection = dotpha_bus::connect(url, "bench-demo", false)
        .await
        .expect("connect");
    Publisher::new(connection, PublisherOptions::default())
}

fn outgoing() -> Vec<Outgoing> {
    dotpha_demo::demo()
        .into_iter()
        .map(|s| Outgoing {
            unit: s.unit,
            submission_id: s.submission_id,
            body: s.body.into(),
        })
        .collect()
}

async fn one_at_a_time(items: &[Outgoing]) -> Duration {
    let writer = start_writer();
    let publisher = publisher(&writer.url).await;
    let started = Instant::now();
    for item in items {
        let receipt = publisher
            .submit(&item.unit, &item.submission_id, item.body.clone())
            .await
            .expect("a receipt");
        assert_eq!(receipt.status, ReceiptStatus::Accepted, "{receipt:?}");
    }
    started.elapsed()
}

async fn in_order_many_in_flight(items: &[Outgoing]) -> Duration {
    let writer = start_writer();
    let publisher = publisher(&writer.url).await;
    let started = Instant::now();
    let receipts = publisher.submit_all(items, |_| {}).await.expect("receipts");
    let elapsed = started.elapsed();
    assert_eq!(receipts.len(), items.len());
    let refused: Vec<_> = receipts
        .iter()
        .filter(|r| r.status != ReceiptStatus::Accepted)
        .collect();
    assert!(
        refused.is_empty(),
        "every demo submission is accepted when sent in order: {} refused, first {:?}",
        refused.len(),
        refused.first()
    );
    elapsed
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = env("DOTPHA_BENCH_ROUNDS", 3);
    let items = outgoing();
    println!(
        "demo load: {} submissions, {rounds} rounds, each into a fresh log",
        items.len()
    );
    println!("| way | round | seconds | submissions/s |");
    println!("|---|---|---|---|");
    let (mut slow, mut fast) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let d = one_at_a_time(&items).await;
        println!(
            "| one at a time (`submit`) | {round} | {:.2} | {:.0} |",
            d.as_secs_f64(),
            items.len() as f64 / d.as_secs_f64()
        );
        slow.push(d);
        let d = in_order_many_in_flight(&items).await;
        println!(
            "| in order, {} in flight (`submit_all`) | {round} | {:.2} | {:.0} |",
            dotpha_bus::IN_FLIGHT,
            d.as_secs_f64(),
            items.len() as f64 / d.as_secs_f64()
        );
        fast.push(d);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (slow, fast) = (median(slow), median(fast));
    println!(
        "median: one at a time {:.2} s, many in flight {:.2} s ({:.1}x)",
        slow.as_secs_f64(),
        fast.as_secs_f64(),
        slow.as_secs_f64() / fast.as_secs_f64()
    );
}
