//! What the writer's lease costs and how fast it moves, against a real
//! nats-server it starts itself, beside what JetStream does underneath in
//! the same run:
//!
//! (a) a renewal: one compare-and-set on the key's revision, acknowledged;
//!     beside a plain JetStream publish with ack of the same bytes, and a
//!     read of the key;
//! (b) a second claimant refused while the holder renews;
//! (c) the same owner taking its lease back after its holder died;
//! (d) another owner taking over after the holder died (SIGKILL-like: it
//!     stops renewing without releasing).
//!
//! `cargo bench -p dotpha-bus --bench lease` (renewals:
//! `DOTPHA_BENCH_RENEWALS`, default 2,000; takeovers:
//! `DOTPHA_BENCH_TAKEOVERS`, default 5).

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use dotpha_bus::lease::{
    Acquire, Claimant, Holder, LEASE_TTL, Lease, LeaseError, RENEW_EVERY, WRITER_KEY, lease_bucket,
};
use dotpha_testkit::nats::NatsServer;
use tokio::sync::watch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn claimant(owner: &str) -> Claimant {
    Claimant {
        owner: owner.to_owned(),
        what: format!("bench claimant {owner}"),
        clock: dotpha_bus::lease::WallClock::system(),
    }
}

fn never() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    std::mem::forget(sender);
    receiver
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    format!(
        "min {}, median {}, max {}",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let renewals = env("DOTPHA_BENCH_RENEWALS", 2000);
    let takeovers = env("DOTPHA_BENCH_TAKEOVERS", 5);
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connects");
    let js = jetstream::new(client);
    let kv = lease_bucket(&js, 1).await.expect("bucket");
    let holder = Holder {
        owner: "bench:/data#x".into(),
        session: "bench".into(),
        host: "bench".into(),
        pid: 1,
        what: "dotpha writer of /var/lib/dotpha/log.sqlite (its event 1 has hash 0000000000000000000000000000000000000000000000000000000000000000)".into(),
        renewals: 0,
        released: false,
        taken_at: None,
        taken_from: None,
    };
    let body: bytes::Bytes = serde_json::to_vec(&holder).expect("json").into();

    // (a) renewals, one at a time as the renewing task does them.
    let mut revision = kv.put("bench", body.clone()).await.expect("put");
    let started = Instant::now();
    for _ in 0..renewals {
        revision = kv
            .update("bench", body.clone(), revision)
            .await
            .expect("renewed");
    }
    let cas = started.elapsed();
    js.create_stream(stream::Config {
        name: "BENCH_PLAIN".into(),
        subjects: vec!["bench.plain".into()],
        max_messages_per_subject: 1,
        ..Default::default()
    })
    .await
    .expect("stream");
    let started = Instant::now();
    for _ in 0..renewals {
        js.publish("bench.plain", body.clone())
            .await
            .expect("published")
            .await
            .expect("acked");
    }
    let plain = started.elapsed();
    let started = Instant::now();
    for _ in 0..renewals {
        kv.entry("bench").await.expect("read").expect("an entry");
    }
    let read = started.elapsed();
    println!("## The writer's lease");
    println!();
    println!(
        "(a) {renewals} operations, one at a time, {} bytes",
        body.len()
    );
    println!();
    println!("| what | µs each | per second of holding (one renewal every {RENEW_EVERY:?}) |");
    println!("|---|---:|---:|");
    println!(
        "| renewal: compare-and-set on the revision, acked | {:.0} | {:.2} ms of round trip |",
        micros(cas, renewals),
        micros(cas, renewals) / 1e3
    );
    println!(
        "| plain JetStream publish with ack, same bytes | {:.0} | |",
        micros(plain, renewals)
    );
    println!(
        "| reading the key (what a waiting claimant does every 200 ms) | {:.0} | |",
        micros(read, renewals)
    );
    println!();

    // (b), (c), (d): takeovers of the real key.
    let mut refused = Vec::new();
    let mut same_owner = Vec::new();
    let mut other_owner = Vec::new();
    for round in 0..takeovers {
        let a = Lease::acquire(
            kv.clone(),
            WRITER_KEY,
            claimant("a"),
            Acquire::RefuseIfHeld,
            never(),
        )
        .await
        .expect("a takes it");
        let started = Instant::now();
        match Lease::acquire(
            kv.clone(),
            WRITER_KEY,
            claimant(&format!("b{round}")),
            Acquire::RefuseIfHeld,
            never(),
        )
        .await
        {
            Err(LeaseError::Held { .. }) => refused.push(started.elapsed()),
            other => panic!("b must be refused: {other:?}"),
        }
        drop(a);
        let started = Instant::now();
        let again = Lease::acquire(
            kv.clone(),
            WRITER_KEY,
            claimant("a"),
            Acquire::RefuseIfHeld,
            never(),
        )
        .await
        .expect("a takes it back");
        same_owner.push(started.elapsed());
        drop(again);
        let died = Instant::now();
        let b = Lease::acquire(
            kv.clone(),
            WRITER_KEY,
            claimant(&format!("b{round}")),
            Acquire::RefuseIfHeld,
            never(),
        )
        .await
        .expect("b takes over");
        other_owner.push(died.elapsed());
        b.release().await;
    }
    println!("(b)-(d) {takeovers} rounds; LEASE_TTL {LEASE_TTL:?}");
    println!();
    println!("| what | time |");
    println!("|---|---|");
    println!(
        "| (b) a second owner refused while the holder renews | {} |",
        summary(refused)
    );
    println!(
        "| (c) the same owner takes its lease back after its holder died | {} |",
        summary(same_owner)
    );
    println!(
        "| (d) another owner takes over after the holder died | {} |",
        summary(other_owner)
    );
}
