//! The 3-node NATS cluster of `deploy/nats/cluster/`, run from those very
//! files on loopback ports: one node is SIGKILLed while the real
//! `dotpha ingest --replicas 3` decides a few thousand submissions from
//! several publishers, each connected to all three nodes. Every submission
//! still gets exactly one receipt.
//!
//! "Exactly one receipt" means, for every submission:
//! - its publisher ends up holding one receipt, for that submission,
//!   accepted;
//! - the log decided it once: one decision (not a duplicate) with one event
//!   carrying its submission id, and the receipt the publisher holds names
//!   that same event;
//! - on the wire, the writer published at most one original receipt for it
//!   (`duplicate: false`); any further receipt is an answer to a retry
//!   (`duplicate: true`), and names the same event as the original.
//!
//! And the hash chain verifies, and `DOTPHA_EVENTS` holds every event once,
//! in log order (the relay republished across the node's death without
//! gaps or doubles).

mod support;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use dotpha_domain::wire::Receipt;
use dotpha_store::ReceiptStatus;
use dotpha_testkit::cluster::Cluster;
use dotpha_views::ReadModel;
use futures::StreamExt;
use support::*;

/// Submissions in each run, setup included.
const SUBMISSIONS: usize = 2_000;
/// Receipts held before the node is killed.
const KILL_AFTER: usize = 600;
/// Publishers, each sending one commune's reports one after another.
const PUBLISHERS: usize = 6;
/// The longest a run may take before the test gives up.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Two clusters and two writers on two cores at once would measure the
/// machine, not the cluster: the tests of this file take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Which node dies.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Victim {
    /// The leader of `DOTPHA_SUBMISSIONS`: publishes stall until the
    /// survivors elect a new one.
    SubmissionsLeader,
    /// A node that leads neither stream nor the writer's consumer (their
    /// leaders are moved off it first): a replica only.
    Follower,
}

/// Every receipt published on `dotpha.v1.receipt.>` while the load runs,
/// heard on `url` (a node that is not killed).
async fn listen_to_receipts(url: &str) -> (Arc<Mutex<Vec<Receipt>>>, tokio::task::JoinHandle<()>) {
    let client = async_nats::connect(url).await.expect("a listener connects");
    let mut receipts = client
        .subscribe("dotpha.v1.receipt.>")
        .await
        .expect("subscribes to receipts");
    client.flush().await.expect("the subscription is in place");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let into = heard.clone();
    let task = tokio::spawn(async move {
        let _client = client;
        while let Some(message) = receipts.next().await {
            if let Ok(receipt) = serde_json::from_slice::<Receipt>(&message.payload) {
                into.lock().expect("not poisoned").push(receipt);
            }
        }
    });
    (heard, task)
}

/// The streams and the writer's consumer, as `$JS.API` names them.
const LED: [&str; 3] = [
    "STREAM.%.DOTPHA_SUBMISSIONS",
    "STREAM.%.DOTPHA_EVENTS",
    "CONSUMER.%.DOTPHA_SUBMISSIONS.dotpha-writer",
];

/// Asks whatever node `doomed` leads (of `led`, e.g. [`LED`]) to step down
/// until another node leads it, so that `doomed` is a follower of them all.
async fn move_leaders_off(cluster: &Cluster, doomed: usize, led: &[&str]) {
    let other = (doomed + 1) % 3;
    for what in led {
        let mut moved = false;
        for _ in 0..20 {
            let info = cluster
                .request(other, &format!("$JS.API.{}", what.replace('%', "INFO")))
                .await
                .expect("info");
            let leader = info["cluster"]["leader"].as_str().unwrap_or_default();
            if !leader.is_empty() && cluster.index_of(leader) != Some(doomed) {
                moved = true;
                break;
            }
            let _ = cluster
                .request(
                    other,
                    &format!("$JS.API.{}", what.replace('%', "LEADER.STEPDOWN")),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(moved, "{what}: its leader did not move off node {doomed}");
    }
}

/// Runs the load, kills `victim` once `KILL_AFTER` receipts are held, and
/// checks everything the file's header promises. Returns the longest time
/// no publisher got a receipt, from the kill on.
async fn kill_a_node_mid_load(victim: Victim) -> Duration {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = tokio::task::block_in_place(Cluster::start);
    cluster.wait_ready().await;
    let urls = cluster.urls();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start_replicated(dir.path(), &urls, 3, None);

    let mut workload = Workload::new("cluster", PUBLISHERS, 2);
    let setup = workload.setup();
    submit_in_order(&publisher(&urls).await, &setup).await;

    // The streams exist now, each on all three nodes.
    for stream in ["DOTPHA_SUBMISSIONS", "DOTPHA_EVENTS", "DOTPHA_DEAD"] {
        let (leader, replicas) = cluster
            .stream_placement(stream)
            .await
            .unwrap_or_else(|| panic!("{stream} has a leader"));
        assert_eq!(
            replicas.len(),
            2,
            "{stream} is kept by its leader {leader} and two replicas: {replicas:?}"
        );
    }
    // The writer's consumer sets no replica count of its own: it inherits
    // the stream's three (a consumer with one replica would die with its
    // node, and the writer with it until the node came back).
    let consumer = cluster
        .request(0, "$JS.API.CONSUMER.INFO.DOTPHA_SUBMISSIONS.dotpha-writer")
        .await
        .expect("consumer info");
    assert_eq!(
        consumer["cluster"]["replicas"].as_array().map(Vec::len),
        Some(2),
        "the writer's consumer has a leader and two replicas: {consumer}"
    );

    let submissions_leader = cluster
        .stream_leader("DOTPHA_SUBMISSIONS", Duration::from_secs(10))
        .await;
    let events_leader = cluster
        .stream_leader("DOTPHA_EVENTS", Duration::from_secs(10))
        .await;
    let doomed = match victim {
        Victim::SubmissionsLeader => submissions_leader,
        Victim::Follower => {
            let doomed = (0..3)
                .find(|&i| i != submissions_leader && i != events_leader)
                .unwrap_or((submissions_leader + 1) % 3);
            move_leaders_off(&cluster, doomed, &LED).await;
            doomed
        }
    };
    let survivor = (0..3).find(|&i| i != doomed).expect("another node");
    let survivor_url = cluster.url(survivor);
    let (heard, listener) = listen_to_receipts(&survivor_url).await;

    let reports: Vec<Message> = (0..SUBMISSIONS - setup.len())
        .map(|_| workload.next_report())
        .collect();
    let answered = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut publishers = Vec::new();
    for i in 0..PUBLISHERS {
        let unit = Workload::commune(i);
        let mine: Vec<Message> = reports.iter().filter(|m| m.unit == unit).cloned().collect();
        let urls = urls.clone();
        let answered = answered.clone();
        publishers.push(tokio::spawn(async move {
            let publisher = publisher(&urls).await;
            let mut held = Vec::with_capacity(mine.len());
            for message in mine {
                let receipt = submit(&publisher, &message).await;
                answered.fetch_add(1, Ordering::Relaxed);
                held.push((message, receipt, Instant::now()));
            }
            held
        }));
    }
    while answered.load(Ordering::Relaxed) + setup.len() < KILL_AFTER {
        assert!(
            started.elapsed() < RUN_LIMIT,
            "only {} receipts after {:?}\n{}",
            answered.load(Ordering::Relaxed),
            started.elapsed(),
            writer.output()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = Instant::now();
    tokio::task::block_in_place(|| cluster.kill(doomed));
    let at_kill = answered.load(Ordering::Relaxed) + setup.len();

    let mut held: Vec<(Message, Receipt, Instant)> = Vec::new();
    for publisher in publishers {
        let run = tokio::time::timeout(RUN_LIMIT, publisher)
            .await
            .unwrap_or_else(|_| panic!("the publishers did not finish\n{}", writer.output()));
        held.extend(run.expect("a publisher finished"));
    }
    let load = started.elapsed();
    assert!(
        at_kill < SUBMISSIONS,
        "the node died mid-load ({at_kill} receipts of {SUBMISSIONS})"
    );

    // The publishers: one receipt each, for its own submission, accepted.
    assert_eq!(
        held.len(),
        reports.len(),
        "every publisher got every receipt"
    );
    let log = writer.log();
    for (message, receipt, _) in &held {
        assert_eq!(
            receipt.submission_id, message.submission_id,
            "a receipt is for its own submission"
        );
        assert_holds_logged_events(&log, message, receipt);
    }
    let duplicates_held = held.iter().filter(|(_, r, _)| r.duplicate).count();

    // The log: each decided once, nothing else, the chain intact.
    let events = log_events(&log);
    let everything: Vec<Message> = setup.iter().chain(&reports).cloned().collect();
    assert_each_accepted_once(&log, &events, &everything);
    assert_eq!(
        events.len(),
        SUBMISSIONS,
        "one event per submission, none else"
    );
    let report = log.verify(None).expect("verify");
    assert!(report.ok, "the chain verifies: {report:?}");

    // The wire: at most one original receipt per submission; duplicates
    // name the original's event. (A receipt published by the writer into
    // the dying node is lost; its publisher asked `receipt.get` instead.)
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();
    let heard = std::mem::take(&mut *heard.lock().expect("not poisoned"));
    let mut originals: HashMap<&str, usize> = HashMap::new();
    for receipt in &heard {
        let decided = log
            .receipt(&receipt.submission_id)
            .expect("read")
            .unwrap_or_else(|| panic!("{} was receipted, so decided", receipt.submission_id));
        assert_eq!(
            receipt.events, decided.events,
            "{}: every receipt on the wire names the logged event",
            receipt.submission_id
        );
        if !receipt.duplicate {
            *originals.entry(receipt.submission_id.as_str()).or_default() += 1;
        }
    }
    if let Some((id, n)) = originals.iter().find(|(_, n)| **n > 1) {
        panic!("{id} was answered as decided {n} times");
    }
    let originals_seen = originals.len();
    let duplicates_seen = heard.iter().filter(|r| r.duplicate).count();

    // The relay got every event into DOTPHA_EVENTS while the node was
    // down (what it holds is compared with the log below, once the node is
    // back: a reader's ephemeral consumer has one replica, and the cluster
    // may place it on the dead node, where creating it times out).
    wait_for_relay(&survivor_url, events.len() as u64, Duration::from_secs(30)).await;

    // The longest time without any receipt, from the kill on.
    let mut times: Vec<Instant> = held
        .iter()
        .map(|(_, _, t)| *t)
        .filter(|t| *t >= killed_at)
        .collect();
    times.sort();
    let stall = std::iter::once(killed_at)
        .chain(times.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();

    // The dead node comes back and catches up: all three replicas of both
    // streams current.
    tokio::task::block_in_place(|| cluster.restart(doomed));
    let back = Instant::now();
    for stream in ["DOTPHA_SUBMISSIONS", "DOTPHA_EVENTS"] {
        loop {
            let current = cluster
                .request(survivor, &format!("$JS.API.STREAM.INFO.{stream}"))
                .await
                .ok()
                .and_then(|info| {
                    info["cluster"]["replicas"].as_array().map(|replicas| {
                        replicas.len() == 2
                            && replicas
                                .iter()
                                .all(|r| r["current"].as_bool() == Some(true))
                    })
                });
            if current == Some(true) {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(30),
                "the restarted node did not catch up with {stream}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let caught_up = back.elapsed();

    // The relay: every event on DOTPHA_EVENTS once, in log order.
    assert_stream_matches_log(&relayed_events(&survivor_url).await, &events);

    eprintln!(
        "{victim:?} (node {doomed}) killed at {at_kill} receipts; {SUBMISSIONS} submissions from \
         {PUBLISHERS} publishers answered in {load:?}; longest time without a receipt after the kill: \
         {stall:?}; duplicates answered to publishers: {duplicates_held}; receipts heard on the wire: \
         {originals_seen} originals, {duplicates_seen} duplicates; the node caught up {caught_up:?} after its restart\n{}",
        writer
            .output()
            .lines()
            .filter(|l| l.contains("WARN"))
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
    stall
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submissions_stream_leader_killed_mid_load_every_submission_gets_exactly_one_receipt() {
    let stall = kill_a_node_mid_load(Victim::SubmissionsLeader).await;
    // Publishes stall while the survivors elect a new leader (about 7 s on
    // nats-server 2.9): bounded, not zero.
    assert!(
        stall < Duration::from_secs(20),
        "receipts stopped for {stall:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_killed_mid_load_every_submission_gets_exactly_one_receipt() {
    let stall = kill_a_node_mid_load(Victim::Follower).await;
    // The survivors hold a quorum of every stream and consumer; publishers
    // and the writer connected to the dead node reconnect to another.
    assert!(
        stall < Duration::from_secs(20),
        "receipts stopped for {stall:?}"
    );
}

/// Reports sent while the projection workers follow `DOTPHA_EVENTS`.
const WORKER_REPORTS: usize = 1_500;
/// Events the workers apply live before their node is killed.
const WORKER_KILL_AFTER: u64 = 300;
/// How long after the load the workers may take to reach the log's head:
/// a bound that stops a stuck test, not a target (the test prints how long
/// they took). A worker whose pull was lost with the node notices it after
/// two missed heartbeats (`dotpha_project`'s `HEARTBEAT`), but on a loaded
/// machine the cluster's leader elections alone have taken over 10 s.
const FOLLOW_LIMIT: Duration = Duration::from_secs(60);

/// Two real `dotpha project` workers follow `DOTPHA_EVENTS` through one
/// node (they are given only its URL and learn the others from the
/// cluster, as NATS clients do) while reports flow: `main` beside the log,
/// `solo` with no log to fill gaps from. Their node is SIGKILLed. They
/// reconnect to another node within milliseconds, but a pull left pending
/// on the dead node hangs without an error; so each must pull anew from
/// what its read model committed. Both reach the log's head within
/// [`FOLLOW_LIMIT`] of the load's end, and then equal a rebuild from the
/// log.
///
/// The node killed leads neither stream nor the writer's consumer, so
/// the writer and the relay go on at once: only the workers' connections
/// die with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_whose_node_is_killed_keep_following_and_equal_a_rebuild() {
    const COMMUNES: usize = 3;
    const PER: usize = 2;
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = tokio::task::block_in_place(Cluster::start);
    cluster.wait_ready().await;
    let urls = cluster.urls();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let alone = dir.path().join("alone");
    for d in [&data, &alone] {
        std::fs::create_dir_all(d).expect("a data dir");
    }
    let writer = Writer::start_replicated(&data, &urls, 3, None);
    let mut workload = Workload::new("cluster-workers", COMMUNES, PER);
    let setup = workload.setup();
    submit_in_order(&publisher(&urls).await, &setup).await;

    let submissions_leader = cluster
        .stream_leader("DOTPHA_SUBMISSIONS", Duration::from_secs(10))
        .await;
    let events_leader = cluster
        .stream_leader("DOTPHA_EVENTS", Duration::from_secs(10))
        .await;
    let doomed = (0..3)
        .find(|&i| i != submissions_leader && i != events_leader)
        .unwrap_or((events_leader + 1) % 3);
    move_leaders_off(&cluster, doomed, &LED).await;
    let survivor_url = cluster.url((doomed + 1) % 3);
    let doomed_url = cluster.url(doomed);

    let mut main = Projector::start(&data, &doomed_url, "main");
    let mut solo = Projector::start(&alone, &doomed_url, "solo");
    let setup_head = writer.log().current_head().expect("head").position;
    wait_for_workers(
        &mut [&mut main, &mut solo],
        setup_head,
        &writer,
        &survivor_url,
        Duration::from_secs(30),
    )
    .await;

    // Reports, many at once, while the workers follow them live.
    let reports: Vec<Message> = (0..WORKER_REPORTS)
        .map(|_| workload.next_report())
        .collect();
    let load = tokio::spawn({
        let urls = urls.clone();
        async move {
            let publisher = publisher(&urls).await;
            futures::stream::iter(reports)
                .map(|message| {
                    let publisher = publisher.clone();
                    async move { submit(&publisher, &message).await }
                })
                .buffer_unordered(16)
                .collect::<Vec<_>>()
                .await
        }
    });
    wait_for_workers(
        &mut [&mut main, &mut solo],
        setup_head + WORKER_KILL_AFTER,
        &writer,
        &survivor_url,
        Duration::from_secs(30),
    )
    .await;
    let killed_at = Instant::now();
    tokio::task::block_in_place(|| cluster.kill(doomed));
    let at_kill = [main.position(), solo.position()];
    // How long each worker applies nothing new after the kill (the load
    // goes on meanwhile).
    let mut resumed = [None, None];
    while resumed.iter().any(Option::is_none) && killed_at.elapsed() < FOLLOW_LIMIT {
        for (i, worker) in [&main, &solo].iter().enumerate() {
            if resumed[i].is_none() && worker.position() > at_kill[i] {
                resumed[i] = Some(killed_at.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let receipts = tokio::time::timeout(RUN_LIMIT, load)
        .await
        .unwrap_or_else(|_| panic!("the load did not finish\n{}", writer.output()))
        .expect("the publishers finished");
    let load_done = killed_at.elapsed();
    assert!(
        receipts.iter().all(|r| r.status == ReceiptStatus::Accepted),
        "every report is accepted"
    );
    let log = writer.log();
    let head = log.current_head().expect("head");
    assert_eq!(head.position, setup_head + WORKER_REPORTS as u64);
    assert!(
        at_kill.iter().all(|p| *p < head.position),
        "the node died while the workers were following: at {at_kill:?} of {}",
        head.position
    );
    wait_for_workers(
        &mut [&mut main, &mut solo],
        head.position,
        &writer,
        &survivor_url,
        FOLLOW_LIMIT,
    )
    .await;
    let followed = killed_at.elapsed();

    // They did move to another node.
    for worker in [&main, &solo] {
        assert!(
            worker.output().matches("NATS connected").count() >= 2,
            "{} reconnected after its node died\n{}",
            worker.name,
            worker.output()
        );
    }

    // Each equals a rebuild from the log.
    let reference = {
        let mut read = ReadModel::open(dir.path().join("reference.sqlite")).expect("opens");
        dotpha_project::catch_up(&mut read, &log, |_, _| {}).expect("catches up");
        read
    };
    let expected = answers(&reference, std::path::Path::new(log.path()), COMMUNES, PER);
    for worker in [&main, &solo] {
        let read = ReadModel::open_read_only(worker.read_path()).expect("opens");
        assert_eq!(read.applied().position, head.position, "{}", worker.name);
        assert_eq!(read.applied().hash, head.hash, "{}", worker.name);
        assert_eq!(
            answers(&read, std::path::Path::new(log.path()), COMMUNES, PER),
            expected,
            "{} answers as a rebuild does",
            worker.name
        );
    }
    eprintln!(
        "node {doomed} killed with the workers at {at_kill:?}; they applied more {resumed:?} \
         after the kill; load done {load_done:?} and both \
         workers at the head ({}) {followed:?} after the kill\n{}",
        head.position,
        [&main, &solo]
            .iter()
            .flat_map(|w| {
                w.output()
                    .lines()
                    .filter(|l| l.contains("WARN"))
                    .map(|l| format!("{}: {l}", w.name))
                    .collect::<Vec<_>>()
            })
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
