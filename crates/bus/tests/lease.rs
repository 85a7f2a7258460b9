//! The lease against a real nats-server: one holder at a time, a live
//! holder refuses a second claimant, a dead one is replaced only after
//! `LEASE_TTL`, its own owner takes it back at once, a holder whose lease
//! was taken knows it, and one cut off from NATS lapses and recovers.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use dotpha_bus::lease::{
    Acquire, Claimant, Holder, LEASE_TTL, Lease, LeaseError, LeaseState, WRITER_KEY, lease_bucket,
};
use dotpha_testkit::nats::NatsServer;
use tokio::sync::watch;

async fn bucket(url: &str) -> async_nats::jetstream::kv::Store {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .expect("connects");
    lease_bucket(&jetstream::new(client), 1)
        .await
        .expect("the bucket is made")
}

fn claimant(owner: &str) -> Claimant {
    Claimant {
        owner: owner.to_owned(),
        what: format!("test claimant {owner}"),
        clock: dotpha_bus::lease::WallClock::system(),
    }
}

fn never() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    std::mem::forget(sender);
    receiver
}

async fn take(url: &str, owner: &str, mode: Acquire) -> Result<Lease, LeaseError> {
    Lease::acquire(
        bucket(url).await,
        WRITER_KEY,
        claimant(owner),
        mode,
        never(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_holder_refuses_a_second_claimant_and_a_released_lease_is_free_at_once() {
    let nats = NatsServer::start();
    let first = take(&nats.url(), "a", Acquire::RefuseIfHeld)
        .await
        .expect("a free lease is taken");
    assert!(first.guard().check().is_ok());

    match take(&nats.url(), "b", Acquire::RefuseIfHeld).await {
        Err(LeaseError::Held { holder, .. }) => {
            assert_eq!(holder.owner, "a");
            assert!(holder.to_string().contains("test claimant a"), "{holder}");
        }
        other => panic!("a second owner must be refused while the first renews: {other:?}"),
    }
    assert!(first.guard().check().is_ok(), "the refusal took nothing");

    let token = first.token();
    first.release().await;
    let second = take(&nats.url(), "b", Acquire::RefuseIfHeld)
        .await
        .expect("a released lease is free");
    assert!(second.token() > token, "every taking has a larger token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holder_is_replaced_only_after_the_ttl_and_its_own_owner_takes_it_back_at_once() {
    let nats = NatsServer::start();
    // A holder that stops renewing without releasing: a process killed.
    drop(
        take(&nats.url(), "a", Acquire::RefuseIfHeld)
            .await
            .expect("taken"),
    );
    let same = take(&nats.url(), "a", Acquire::RefuseIfHeld)
        .await
        .expect("the owner takes its own lease back without waiting");
    drop(same);

    let died = Instant::now();
    let other = take(&nats.url(), "b", Acquire::RefuseIfHeld)
        .await
        .expect("another owner takes it once it lapsed");
    assert!(
        died.elapsed() >= LEASE_TTL,
        "never before a whole TTL without renewals: taken after {:?}",
        died.elapsed()
    );
    assert!(other.guard().check().is_ok());
}

/// The record the key holds now.
async fn holder(url: &str) -> Holder {
    let entry = bucket(url)
        .await
        .entry(WRITER_KEY)
        .await
        .expect("read")
        .expect("a record");
    serde_json::from_slice(&entry.value).expect("a holder")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_takeover_is_stamped_by_the_new_owner_and_kept_until_the_next() {
    let nats = NatsServer::start();
    let url = nats.url();
    let first = take(&url, "a", Acquire::RefuseIfHeld).await.expect("taken");
    assert_eq!(
        holder(&url).await.taken_at,
        None,
        "a new key: no takeover yet"
    );
    // Killed (stops renewing), then replaced by another owner once it lapsed.
    drop(first);
    let before = dotpha_bus::lease::WallClock::system().now();
    let second = take(&url, "b", Acquire::Wait).await.expect("taken over");
    let stamped = holder(&url).await;
    let taken_at = stamped.taken_at.clone().expect("the takeover is stamped");
    assert!(
        taken_at >= before,
        "{taken_at} is when b took it (after {before})"
    );
    assert!(
        stamped
            .taken_from
            .as_deref()
            .is_some_and(|f| f.contains("test claimant a")),
        "{stamped:?}"
    );
    // Kept through renewals, a release, and its owner taking it again.
    let renewed = Instant::now();
    while holder(&url).await.renewals < 2 {
        assert!(renewed.elapsed() < Duration::from_secs(30), "b renews");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(holder(&url).await.taken_at.as_ref(), Some(&taken_at));
    second.release().await;
    assert!(holder(&url).await.released);
    assert_eq!(holder(&url).await.taken_at.as_ref(), Some(&taken_at));
    let again = take(&url, "b", Acquire::RefuseIfHeld)
        .await
        .expect("its own released lease");
    assert_eq!(holder(&url).await.taken_at.as_ref(), Some(&taken_at));
    // A released lease taken by another owner is a change of owner too.
    again.release().await;
    let third = take(&url, "c", Acquire::RefuseIfHeld)
        .await
        .expect("a released lease is free");
    let handed = holder(&url).await;
    assert_ne!(handed.taken_at.as_ref(), Some(&taken_at));
    assert!(
        handed
            .taken_from
            .as_deref()
            .is_some_and(|f| f.ends_with(", released")),
        "{handed:?}"
    );
    drop(third);
}

#[test]
fn a_record_written_before_the_takeover_stamp_existed_still_reads() {
    let old = r#"{"owner":"o","session":"s","host":"h","pid":7,"what":"w","renewals":3}"#;
    let holder: Holder = serde_json::from_str(old).expect("an old record reads");
    assert_eq!((holder.taken_at, holder.released), (None, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_was_taken_knows_it_is_lost() {
    let nats = NatsServer::start();
    let lease = take(&nats.url(), "a", Acquire::RefuseIfHeld)
        .await
        .expect("taken");
    let mut guard = lease.guard();
    // Someone writes the key behind the holder's back.
    let kv = bucket(&nats.url()).await;
    let intruder = Holder {
        owner: "x".into(),
        session: "x".into(),
        host: "elsewhere".into(),
        pid: 1,
        what: "an intruder".into(),
        renewals: 0,
        released: false,
        taken_at: None,
        taken_from: None,
    };
    kv.put(
        WRITER_KEY,
        serde_json::to_vec(&intruder).expect("json").into(),
    )
    .await
    .expect("written");
    let taken_by = tokio::time::timeout(Duration::from_secs(30), guard.lost())
        .await
        .expect("the holder notices at its next renewal");
    assert_eq!(taken_by.map(|h| h.owner), Some("x".to_owned()));
    assert!(matches!(guard.check(), Err(LeaseError::Lost { .. })));
    assert!(matches!(guard.state(), LeaseState::Lost(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_cut_off_from_nats_lapses_then_holds_it_again() {
    let mut nats = NatsServer::start();
    let lease = take(&nats.url(), "a", Acquire::RefuseIfHeld)
        .await
        .expect("taken");
    let mut guard = lease.guard();
    tokio::task::block_in_place(|| nats.kill());
    let started = Instant::now();
    while guard.check().is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the lease must lapse without NATS"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(guard.check(), Err(LeaseError::Lapsed(_))));
    tokio::task::block_in_place(|| nats.restart());
    let mut shutdown = never();
    tokio::time::timeout(Duration::from_secs(60), guard.wait_valid(&mut shutdown))
        .await
        .expect("renewed once NATS is back")
        .expect("nobody took it meanwhile");
    assert_eq!(guard.state(), LeaseState::Held);
}
