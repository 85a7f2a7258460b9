//! Projection workers end to end: a real nats-server, the real `dotpha
//! ingest` and `dotpha project` processes. A worker killed with SIGKILL
//! while applying, and started again, applies nothing twice; two workers on
//! one data directory, and a third with no log beside it that follows
//! `DOTPHA_EVENTS` alone, reach the same read model.

mod support;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use dotpha_domain::Timestamp;
use dotpha_store::{Log, ReceiptStatus};
use dotpha_views::ReadModel;
use futures::StreamExt;
use support::*;

/// Fills a fresh log in `dir` through the writer's core: the workload's
/// setup and reports up to `events` events.
fn prepopulate(dir: &Path, workload: &mut Workload, events: usize) -> u64 {
    decide_in_order(dir, &setup_and_reports(workload, events), 512)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_applies_nothing_twice_and_independent_workers_agree() {
    const COMMUNES: usize = 6;
    const PER: usize = 10;
    const BACKLOG: usize = 10_000;
    const LIVE: usize = 1_200;

    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).expect("a data dir without a log");

    // A backlog in the log; the writer relays it to DOTPHA_EVENTS.
    let mut workload = Workload::new("projection", COMMUNES, PER);
    let backlog = tokio::task::block_in_place(|| prepopulate(&data, &mut workload, BACKLOG));
    let writer = Writer::start(&data, &url, None);

    // Two workers on the log's data directory.
    let mut audit = Projector::start(&data, &url, "audit");
    let mut main = Projector::start(&data, &url, "main");

    // Killed while catching up from the log, as soon as it has committed
    // its first batch (of 4096): it is inside the next.
    let started = Instant::now();
    while main.position() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "main applied nothing\n{}",
            main.output()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    main.kill();
    let first_kill = main.position();
    assert!(
        first_kill > 0 && first_kill < backlog,
        "main was killed mid-way: at {first_kill} of {backlog}"
    );
    main.restart();
    wait_for_workers(
        &mut [&mut main, &mut audit],
        backlog,
        &writer,
        &writer.nats_url,
        Duration::from_secs(120),
    )
    .await;

    // A worker with no log beside it follows DOTPHA_EVENTS alone (its own
    // name: the name is its durable consumer's). Killed mid-way too.
    let mut solo = Projector::start(&alone, &url, "solo");
    let started = Instant::now();
    while solo.position() < 3000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "solo did not follow the stream: at {}\n{}",
            solo.position(),
            solo.output()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    solo.kill();
    let solo_kill = solo.position();
    solo.restart();

    // Live reports over the wire, many at once, while both workers follow
    // the stream; main is killed once it has applied some of them.
    let live: Vec<Message> = (0..LIVE).map(|_| workload.next_report()).collect();
    let publisher = publisher(&url).await;
    let sender = tokio::spawn(async move {
        futures::stream::iter(live)
            .map(|message| {
                let publisher = publisher.clone();
                async move { submit(&publisher, &message).await }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await
    });
    let started = Instant::now();
    while main.position() <= backlog + (LIVE as u64) / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "main did not follow the live reports: at {}\n{}\n{}",
            main.position(),
            main.output(),
            writer.output()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    main.kill();
    let second_kill = main.position();
    main.restart();
    let receipts = sender.await.expect("the publishers finished");
    assert!(
        receipts.iter().all(|r| r.status == ReceiptStatus::Accepted),
        "every live report is accepted"
    );

    let log = Log::open_read_only(data.join("log.sqlite")).expect("the log opens");
    let head = log.current_head().expect("head");
    assert_eq!(head.position, backlog + LIVE as u64);
    wait_for_workers(
        &mut [&mut main, &mut audit, &mut solo],
        head.position,
        &writer,
        &writer.nats_url,
        Duration::from_secs(120),
    )
    .await;
    eprintln!(
        "main killed at {first_kill} (catching up {backlog} from the log) and at {second_kill} \
         (following live reports); solo killed at {solo_kill}; head {}",
        head.position
    );

    // Nothing applied twice: every task's history and reported values hold
    // exactly its stream's events.
    let reference = {
        let mut read = ReadModel::open(dir.path().join("reference.sqlite")).expect("opens");
        dotpha_project::catch_up(&mut read, &log, |_, _| {}).expect("catches up");
        read
    };
    let expected = answers(&reference, std::path::Path::new(log.path()), COMMUNES, PER);
    let now = Timestamp::parse("2021-07-01T00:00:00Z")
        .expect("an instant")
        .unix_millis();
    for worker in [&main, &audit, &solo] {
        let read = ReadModel::open_read_only(worker.read_path()).expect("opens");
        assert_eq!(read.applied().position, head.position, "{}", worker.name);
        assert_eq!(read.applied().hash, head.hash, "{}", worker.name);
        for i in 0..COMMUNES {
            for t in 0..PER {
                let id = Workload::task(i, t);
                let stream = log.stream(&format!("task-{id}")).expect("stream");
                let history =
                    support::history(&read, std::path::Path::new(log.path()), &id).expect("events");
                assert_eq!(
                    history.len(),
                    stream.len(),
                    "{}: {id} has each of its events once",
                    worker.name
                );
                let reports = stream
                    .iter()
                    .filter(|e| e.event_type == "progress.reported")
                    .count();
                let detail = read.task(&id, now).expect("task").expect("exists");
                assert_eq!(
                    detail.targets[0].series.len(),
                    reports,
                    "{}: {id}",
                    worker.name
                );
                assert_eq!(detail.version, stream.len() as u64, "{}: {id}", worker.name);
            }
        }
        let got = answers(&read, std::path::Path::new(log.path()), COMMUNES, PER);
        for (key, value) in &expected {
            assert_eq!(got.get(key), Some(value), "{}: {key}", worker.name);
        }
        assert_eq!(got.len(), expected.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_of_one_name_on_separate_hosts_each_follow_and_one_name_twice_on_a_host_is_refused()
{
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, web1, web2) = (
        dir.path().join("data"),
        dir.path().join("web1"),
        dir.path().join("web2"),
    );
    for d in [&data, &web1, &web2] {
        std::fs::create_dir_all(d).expect("data dir");
    }
    let writer = Writer::start(&data, &url, None);
    // Two web hosts, each with the default name, each with its own read
    // model and no log: each must follow the stream without taking the
    // other's consumer.
    let mut first = Projector::start(&web1, &url, "main");
    let mut second = Projector::start(&web2, &url, "main");

    // A second worker of that name on the same host would write the same
    // read model: it refuses, saying why, and the first keeps running.
    let started = Instant::now();
    while !first.output().contains("read model open") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            first.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut twin = Projector::start(&web1, &url, "main");
    let status = twin
        .wait_exit(Duration::from_secs(20))
        .expect("the twin stops by itself");
    assert!(!status.success());
    assert!(
        twin.output()
            .contains("another projection worker named \"main\" is running"),
        "{}",
        twin.output()
    );

    let mut workload = Workload::new("same-name", 3, 4);
    let mut messages = workload.setup();
    messages.extend((0..300).map(|_| workload.next_report()));
    let publisher = publisher(&url).await;
    submit_and_follow(
        &publisher,
        &messages,
        &mut [&mut first, &mut second],
        &writer,
    )
    .await;

    // Each has a consumer of its own: starting (or starting over) one
    // deletes only its own, never the other's.
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("connects"));
    let mut stream = js.get_stream("DOTPHA_EVENTS").await.expect("the stream");
    assert_eq!(stream.info().await.expect("info").state.consumer_count, 2);
    let opened = first.output().matches("read model open").count();
    assert!(second.terminate().success(), "{}", second.output());
    second.restart();
    let more: Vec<Message> = (0..100).map(|_| workload.next_report()).collect();
    submit_and_follow(&publisher, &more, &mut [&mut first, &mut second], &writer).await;
    assert_eq!(
        first.output().matches("read model open").count(),
        opened,
        "the first worker did not have to start over when the second did: {}",
        first.output()
    );

    // A clean stop leaves no consumer behind.
    assert!(first.terminate().success(), "{}", first.output());
    assert!(second.terminate().success(), "{}", second.output());
    let consumers = stream.info().await.expect("info").state.consumer_count;
    assert_eq!(consumers, 0, "the workers removed their consumers");
}

/// Submits `messages` in order and waits until every worker has applied
/// their events.
async fn submit_and_follow(
    publisher: &dotpha_bus::Publisher,
    messages: &[Message],
    workers: &mut [&mut Projector],
    writer: &Writer,
) {
    let head = head_of(&submit_in_order(publisher, messages).await);
    wait_for_workers(
        workers,
        head,
        writer,
        &writer.nats_url,
        Duration::from_secs(60),
    )
    .await;
}
