//! A lease held in JetStream: at most one holder at a time, for as long as
//! it keeps renewing it.
//!
//! The lease is one key of a key-value bucket, [`LEASE_BUCKET`] (the stream
//! `KV_dotpha_writer`, made here by hand: on nats-server 2.9 async-nats
//! cannot create a bucket itself). Every change of the key is a
//! compare-and-set on its revision (`Nats-Expected-Last-Subject-Sequence`),
//! decided by the stream's leader, so two claimants can never both win.
//!
//! - **Taking it.** A free key (absent, or released by a clean stop) is
//!   taken at once. A key whose holder has the claimant's own
//!   [`Claimant::owner`] is taken back at once too: an owner names one data
//!   directory on one host, whose file lock the claimant holds, so the
//!   process that wrote the record is gone (a writer killed and restarted
//!   does not wait). Otherwise the claimant watches the key: a renewal
//!   within [`LEASE_TTL`] means the holder is alive ([`LeaseError::Held`],
//!   or keep waiting with [`Acquire::Wait`]); no renewal for [`LEASE_TTL`]
//!   means it is gone, and the claimant takes the key by compare-and-set on
//!   the revision it watched. A claimant that waits watches on through
//!   failed reads: the revision must still stay unchanged for
//!   [`LEASE_TTL`] from when it first saw it.
//! - **Holding it.** The holder renews every [`RENEW_EVERY`]. It counts its
//!   lease as valid for [`LEASE_TTL`] − [`HOLD_MARGIN`] after it *sent* its
//!   last acknowledged renewal, while a claimant waits [`LEASE_TTL`] after it
//!   *saw* that renewal: so the holder stops believing in its lease at least
//!   [`HOLD_MARGIN`] before anyone else may take it. Only durations on each
//!   host's monotonic clock are compared, never clocks of two hosts.
//! - **Lapsed and lost.** A holder that cannot renew (NATS away) lets its
//!   lease lapse: [`LeaseGuard::check`] fails and whoever writes under the
//!   lease must hold its writes. When a renewal gets through again on the
//!   revision it last wrote, nobody took the lease meanwhile and it holds it
//!   again. When the revision moved under it, someone else holds the lease:
//!   it is lost for good ([`LeaseState::Lost`]).
//!
//! [`Lease::token`] is the revision at which the lease was taken: it grows
//! with every taking, so it can fence writes elsewhere.
//!
//! The record also says when the lease last changed owner
//! ([`Holder::taken_at`], [`Holder::taken_from`]): stamped by the claimant
//! that takes it from another owner, with its [`WallClock`], and carried on
//! through every renewal, release and retaking by the same or a new owner
//! of a free lease, so `dotpha status` can tell the last takeover from NATS
//! alone. That stamp is for people; no decision about the lease reads it.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    kv::{Operation, Store, UpdateErrorKind},
    stream::{Config, DiscardPolicy, StorageType},
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::{BusError, setup::MAX_REPLICAS};

/// The bucket holding dotpha's leases; its stream is `KV_dotpha_writer`.
pub const LEASE_BUCKET: &str = "dotpha_writer";
/// The key of the log writer's lease: one log per NATS deployment, one
/// writer per log.
pub const WRITER_KEY: &str = "log";
/// How often the holder renews.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How long a claimant must see no renewal before it takes the lease: five
/// renewals missed in a row. On a 3-node cluster a stream's leader election
/// stalls writes for about 7 s (FACTS.md), so a holder may lapse for a
/// moment then; it holds its writes and resumes when it renews again.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How much sooner than [`LEASE_TTL`] the holder stops believing in its
/// lease: room for the commit and the answers it started while still valid.
pub const HOLD_MARGIN: Duration = Duration::from_secs(2);
/// The longest a read or write of the lease waits for its answer: two
/// renewals' time.
pub const LEASE_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a claimant reads the key while it waits for a renewal.
pub const WATCH_EVERY: Duration = Duration::from_millis(200);

/// Who holds (or held) a lease, as stored in the key (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The owner: what must be unique among live claimants (a writer: its
    /// host, data directory and the directory's random id).
    pub owner: String,
    /// The process's own id, new at every start: tells a renewal this
    /// process wrote from one another process wrote.
    pub session: String,
    /// The host name.
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
    /// What the holder is, for people (e.g. `dotpha ingest, log
    /// /var/lib/dotpha/log.sqlite`).
    pub what: String,
    /// Renewals since it was taken.
    pub renewals: u64,
    /// True once the holder stopped cleanly: the lease is free.
    #[serde(default)]
    pub released: bool,
    /// When the lease last passed from one owner to another (RFC 3339, UTC,
    /// by the wall clock of the claimant that took it); `None` while one
    /// owner has held it since the key was made. Absent in records written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    /// Who held it before that takeover (as [`Holder`]'s `Display` says it,
    /// with `, released` when that holder had stopped cleanly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_from: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {} on {})", self.what, self.pid, self.host)
    }
}

/// The wall clock a claimant stamps [`Holder::taken_at`] with: milliseconds
/// since the Unix epoch, UTC. A service passes its injected clock
/// (`dotpha_host::Clock`); the lease's own timing never reads it (it
/// compares monotonic durations only).
#[derive(Clone)]
pub struct WallClock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl WallClock {
    /// A clock reading `unix_millis`.
    pub fn new(unix_millis: impl Fn() -> i64 + Send + Sync + 'static) -> WallClock {
        WallClock(Arc::new(unix_millis))
    }

    /// The system's clock.
    pub fn system() -> WallClock {
        WallClock::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        })
    }

    /// Now, RFC 3339 in UTC (`…Z`).
    pub fn now(&self) -> String {
        dotpha_domain::Timestamp::from_unix_millis((self.0)())
            .as_str()
            .to_owned()
    }
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WallClock")
    }
}

/// Who wants a lease.
#[derive(Clone, Debug)]
pub struct Claimant {
    /// See [`Holder::owner`]. A claimant whose owner holds the lease takes it
    /// back at once, so the owner must name something only one live process
    /// can claim at a time (a data directory whose file lock it holds).
    pub owner: String,
    /// See [`Holder::what`].
    pub what: String,
    /// What stamps [`Holder::taken_at`] when this claimant takes the lease
    /// from another owner.
    pub clock: WallClock,
}

/// What a claimant does when someone else's lease is alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// Give up with [`LeaseError::Held`] as soon as a renewal shows the
    /// holder is alive (within about [`RENEW_EVERY`]).
    RefuseIfHeld,
    /// Wait until the holder is gone, however long (a standby).
    Wait,
}

/// Where a held lease stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseState {
    /// Renewed in time: whoever writes under the lease may write.
    Held,
    /// Not renewed in time (NATS away); nobody else has taken it (yet).
    /// Writes under the lease must wait.
    Lapsed,
    /// Someone else took it: writes under the lease must stop for good.
    Lost(Option<Holder>),
}

/// Why a lease cannot be taken or used.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another live holder has it.
    #[error(
        "{holder} holds the lease {key:?} in the NATS bucket {LEASE_BUCKET} and renewed it just now"
    )]
    Held {
        /// The key.
        key: String,
        /// Its holder.
        holder: Box<Holder>,
    },
    /// The lease was not renewed in time; it may come back.
    #[error(
        "the lease {0:?} lapsed: it could not be renewed for {LEASE_TTL:?} minus {HOLD_MARGIN:?} (is NATS reachable?)"
    )]
    Lapsed(String),
    /// Someone else took the lease.
    #[error("the lease {key:?} was taken by {}", holder.as_ref().map_or_else(|| "another process".to_owned(), |h| h.to_string()))]
    Lost {
        /// The key.
        key: String,
        /// The new holder, when known.
        holder: Option<Box<Holder>>,
    },
    /// Shutdown was asked for while waiting.
    #[error("stopped while waiting for the lease")]
    Stopped,
    /// The bucket cannot be used.
    #[error(transparent)]
    Bus(#[from] BusError),
}

fn bucket_config(replicas: usize) -> Config {
    Config {
        name: format!("KV_{LEASE_BUCKET}"),
        description: Some("dotpha: leases (one log writer per log)".to_owned()),
        subjects: vec![format!("$KV.{LEASE_BUCKET}.>")],
        // One value per key: only the last revision matters.
        max_messages_per_subject: 1,
        storage: StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        // Reads go to the stream's leader: a lagging replica answering a
        // direct get would show a claimant an old revision.
        allow_direct: false,
        discard: DiscardPolicy::New,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// Creates the lease bucket's stream (or brings it to `replicas`) and opens
/// the bucket. The stream is made by hand because async-nats's
/// `create_key_value` asks the account's limits with a request nats-server
/// 2.9 answers in a shape the client rejects.
pub async fn lease_bucket(js: &jetstream::Context, replicas: usize) -> Result<Store, BusError> {
    kv_bucket(js, LEASE_BUCKET, bucket_config(replicas)).await
}

/// Creates the stream `wanted` of the key-value bucket `bucket` by hand (or
/// brings its replicas, direct reads and age limit to `wanted`'s), checks
/// that the server kept what a bucket needs, and opens the bucket with
/// [`LEASE_REQUEST_TIMEOUT`] on its requests.
pub(crate) async fn kv_bucket(
    js: &jetstream::Context,
    bucket: &str,
    wanted: Config,
) -> Result<Store, BusError> {
    let replicas = wanted.num_replicas;
    if !(1..=MAX_REPLICAS).contains(&replicas) {
        return Err(BusError::config(format!(
            "{replicas} stream replicas: JetStream keeps 1 to {MAX_REPLICAS}"
        )));
    }
    let name = wanted.name.clone();
    let nats = |what: &str, e: crate::Source| BusError::nats(format!("{what} {name}"), e);
    let config = match js.get_stream(&name).await {
        Ok(mut stream) => {
            let current = stream
                .info()
                .await
                .map_err(|e| nats("reading", e.into()))?
                .config
                .clone();
            if current.num_replicas.max(1) != replicas
                || current.allow_direct != wanted.allow_direct
                || current.max_age != wanted.max_age
            {
                js.update_stream(wanted.clone())
                    .await
                    .map_err(|e| nats("updating", e.into()))?
                    .config
            } else {
                current
            }
        }
        Err(_) => js
            .create_stream(wanted.clone())
            .await
            .map_err(|e| nats("creating", e.into()))?
            .cached_info()
            .config
            .clone(),
    };
    let kept = config.subjects == wanted.subjects
        && config.max_messages_per_subject == 1
        && config.allow_rollup == wanted.allow_rollup
        && config.deny_delete == wanted.deny_delete
        && config.allow_direct == wanted.allow_direct
        && config.max_age == wanted.max_age
        && config.num_replicas.max(1) == replicas;
    if !kept {
        return Err(BusError::config(format!(
            "stream {name} was not configured as asked (subjects {:?}, {} per subject, rollup {}, deny delete {}, direct {}, max age {:?}, replicas {}); \
             the server may be too old or the stream was made by something else",
            config.subjects,
            config.max_messages_per_subject,
            config.allow_rollup,
            config.deny_delete,
            config.allow_direct,
            config.max_age,
            config.num_replicas
        )));
    }
    // Reads and writes of the bucket give up sooner than other requests: a
    // request left on a dead server would otherwise hold a claimant for
    // the client's whole request timeout (10 s) before it reads again.
    let mut js = js.clone();
    js.set_timeout(LEASE_REQUEST_TIMEOUT);
    js.get_key_value(bucket)
        .await
        .map_err(|e| nats("opening the bucket of", e.into()))
}

/// The host's name, for [`Holder::host`] and owners.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// What the key holds, read once.
#[derive(Clone, Debug)]
struct Seen {
    revision: u64,
    holder: Option<Holder>,
}

impl Seen {
    /// Whether nobody holds the lease: no record, a deleted or released one,
    /// or one that is not a holder at all.
    fn free(&self) -> bool {
        self.holder.as_ref().is_none_or(|h| h.released)
    }
}

async fn read(kv: &Store, key: &str) -> Result<Option<Seen>, BusError> {
    let entry = kv
        .entry(key)
        .await
        .map_err(|e| BusError::nats(format!("reading the lease {key:?}"), e))?;
    Ok(entry.map(|entry| Seen {
        revision: entry.revision,
        holder: match entry.operation {
            Operation::Put => serde_json::from_slice(&entry.value).ok(),
            Operation::Delete | Operation::Purge => None,
        },
    }))
}

/// The shared state of a held lease.
#[derive(Debug)]
struct Shared {
    key: String,
    /// Until when the holder may act (see [`HOLD_MARGIN`]).
    valid_until: Mutex<Instant>,
    state: watch::Sender<LeaseState>,
}

impl Shared {
    fn extend(&self, sent: Instant) {
        if let Ok(mut until) = self.valid_until.lock() {
            *until = (*until).max(sent + (LEASE_TTL - HOLD_MARGIN));
        }
    }

    fn valid(&self) -> bool {
        self.valid_until
            .lock()
            .map(|until| Instant::now() < *until)
            .unwrap_or(false)
    }
}

/// A view of a held lease for whoever writes under it; cheap to clone.
#[derive(Clone, Debug)]
pub struct LeaseGuard {
    shared: Arc<Shared>,
    state: watch::Receiver<LeaseState>,
}

impl LeaseGuard {
    /// Ok while the lease is held and valid: check it right before a write
    /// and again before anything is promised on the strength of it.
    pub fn check(&self) -> Result<(), LeaseError> {
        match &*self.state.borrow() {
            LeaseState::Lost(holder) => Err(LeaseError::Lost {
                key: self.shared.key.clone(),
                holder: holder.clone().map(Box::new),
            }),
            _ if self.shared.valid() => Ok(()),
            _ => Err(LeaseError::Lapsed(self.shared.key.clone())),
        }
    }

    /// The lease's state as the renewing task last saw it.
    pub fn state(&self) -> LeaseState {
        self.state.borrow().clone()
    }

    /// Waits until the lease is valid again (Ok), is lost, or `shutdown`
    /// turns true ([`LeaseError::Stopped`]).
    pub async fn wait_valid(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), LeaseError> {
        loop {
            match self.check() {
                Ok(()) => return Ok(()),
                Err(LeaseError::Lapsed(_)) => {}
                Err(error) => return Err(error),
            }
            if *shutdown.borrow() {
                return Err(LeaseError::Stopped);
            }
            tokio::select! {
                _ = self.state.changed() => {}
                _ = shutdown.changed() => {}
                // A renewal that extends validity without changing the state.
                _ = tokio::time::sleep(RENEW_EVERY / 4) => {}
            }
        }
    }

    /// Waits until the lease is lost for good; returns who took it.
    pub async fn lost(&mut self) -> Option<Holder> {
        loop {
            if let LeaseState::Lost(holder) = &*self.state.borrow_and_update() {
                return holder.clone();
            }
            if self.state.changed().await.is_err() {
                return None;
            }
        }
    }
}

/// A lease this process holds, renewed by a task of its own until
/// [`Lease::release`] or drop (a drop lets it lapse after [`LEASE_TTL`]).
#[derive(Debug)]
pub struct Lease {
    guard: LeaseGuard,
    token: u64,
    stop: watch::Sender<bool>,
    renewer: Option<tokio::task::JoinHandle<(Store, u64, Holder)>>,
}

impl Lease {
    /// Takes the lease `key` of `kv` for `claimant` (see the module's
    /// documentation for when). Returns [`LeaseError::Held`] with
    /// [`Acquire::RefuseIfHeld`] when a live holder is seen, and
    /// [`LeaseError::Stopped`] when `shutdown` turns true first.
    pub async fn acquire(
        kv: Store,
        key: &str,
        claimant: Claimant,
        mode: Acquire,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Lease, LeaseError> {
        let mut me = Holder {
            owner: claimant.owner,
            session: nuid::next().to_string(),
            host: host_name(),
            pid: std::process::id(),
            what: claimant.what,
            renewals: 0,
            released: false,
            taken_at: None,
            taken_from: None,
        };
        let clock = claimant.clock;
        let body =
            |me: &Holder| -> bytes::Bytes { serde_json::to_vec(me).unwrap_or_default().into() };
        // The revision watched and since when, while a live-looking holder
        // is being watched.
        let mut watching: Option<(u64, Instant)> = None;
        loop {
            if *shutdown.borrow() {
                return Err(LeaseError::Stopped);
            }
            let seen = match read(&kv, key).await {
                Ok(seen) => seen,
                // A claimant that waits keeps watching through a failed
                // read (a cluster electing the bucket's leader): the
                // revision it watches still has to stay unchanged for
                // LEASE_TTL from when it first saw it, so nothing is taken
                // sooner, and the time already watched is not thrown away.
                Err(error) if mode == Acquire::Wait => {
                    tracing::warn!(%error, "reading the lease failed; watching it on");
                    tokio::select! {
                        _ = tokio::time::sleep(WATCH_EVERY) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let take_at = match &seen {
                None => None,
                Some(seen) if seen.free() => Some(seen.revision),
                Some(seen) if seen.holder.as_ref().is_some_and(|h| h.owner == me.owner) => {
                    if let Some(old) = &seen.holder {
                        tracing::info!(session = %old.session, pid = old.pid, "taking back the lease this owner held before it stopped");
                    }
                    Some(seen.revision)
                }
                Some(seen) => match watching {
                    Some((revision, since)) if revision == seen.revision => {
                        (since.elapsed() >= LEASE_TTL).then_some(seen.revision)
                    }
                    Some(_) if mode == Acquire::RefuseIfHeld => {
                        if let Some(holder) = &seen.holder {
                            return Err(LeaseError::Held {
                                key: key.to_owned(),
                                holder: Box::new(holder.clone()),
                            });
                        }
                        None
                    }
                    _ => {
                        watching = Some((seen.revision, Instant::now()));
                        None
                    }
                },
            };
            let attempt = match (&seen, take_at) {
                (None, _) => {
                    stamp_takeover(&mut me, None, &clock);
                    Some(kv.create(key, body(&me)).await.map_err(|e| e.to_string()))
                }
                (Some(seen), Some(revision)) => {
                    stamp_takeover(&mut me, seen.holder.as_ref(), &clock);
                    Some(
                        kv.update(key, body(&me), revision)
                            .await
                            .map_err(|e| e.to_string()),
                    )
                }
                (Some(_), None) => None,
            };
            let sent = Instant::now();
            match attempt {
                Some(Ok(revision)) => {
                    if let Some(Seen {
                        holder: Some(old), ..
                    }) = &seen
                        && old.owner != me.owner
                        && !old.released
                    {
                        tracing::warn!(previous = %old, "took over a lease its holder stopped renewing");
                    }
                    return Ok(Lease::start(kv, key, me, revision, sent));
                }
                // Someone else changed the key first: look again.
                Some(Err(error)) => {
                    tracing::debug!(%error, "taking the lease failed; reading it again");
                    watching = None;
                }
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(WATCH_EVERY) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    fn start(kv: Store, key: &str, me: Holder, revision: u64, sent: Instant) -> Lease {
        let (state_sender, state) = watch::channel(LeaseState::Held);
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            valid_until: Mutex::new(sent + (LEASE_TTL - HOLD_MARGIN)),
            state: state_sender,
        });
        let (stop, stopped) = watch::channel(false);
        let renewer = tokio::spawn(renew(kv, shared.clone(), me, revision, stopped));
        Lease {
            guard: LeaseGuard { shared, state },
            token: revision,
            stop,
            renewer: Some(renewer),
        }
    }

    /// A guard for whoever writes under this lease.
    pub fn guard(&self) -> LeaseGuard {
        self.guard.clone()
    }

    /// The key's revision when this lease was taken: it grows with every
    /// taking (a fencing token).
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Stops renewing and marks the lease released, so the next claimant
    /// takes it at once. A release that fails (NATS away) only makes the
    /// next claimant wait [`LEASE_TTL`].
    pub async fn release(mut self) {
        let _ = self.stop.send(true);
        let Some(renewer) = self.renewer.take() else {
            return;
        };
        let Ok((kv, revision, mut me)) = renewer.await else {
            return;
        };
        if matches!(self.guard.state(), LeaseState::Lost(_)) {
            return;
        }
        me.released = true;
        let body: bytes::Bytes = serde_json::to_vec(&me).unwrap_or_default().into();
        match tokio::time::timeout(
            RENEW_EVERY * 2,
            kv.update(&self.guard.shared.key, body, revision),
        )
        .await
        {
            Ok(Ok(_)) => tracing::info!(key = %self.guard.shared.key, "lease released"),
            Ok(Err(error)) => {
                tracing::warn!(%error, "the lease could not be released; the next writer waits for it to lapse")
            }
            Err(_) => tracing::warn!(
                "releasing the lease timed out; the next writer waits for it to lapse"
            ),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Says in `me` when the lease last changed owner, before `me` takes the
/// record `old` held: a new owner stamps now (and who it took it from); the
/// same owner taking its own lease back carries the old stamp on, as does
/// anyone taking a record that is not a holder's.
fn stamp_takeover(me: &mut Holder, old: Option<&Holder>, clock: &WallClock) {
    match old {
        Some(old) if old.owner != me.owner => {
            me.taken_at = Some(clock.now());
            me.taken_from = Some(if old.released {
                format!("{old}, released")
            } else {
                old.to_string()
            });
        }
        Some(old) => {
            me.taken_at = old.taken_at.clone();
            me.taken_from = old.taken_from.clone();
        }
        None => {
            me.taken_at = None;
            me.taken_from = None;
        }
    }
}

/// The renewing task: a compare-and-set every [`RENEW_EVERY`] on the
/// revision it last wrote. Returns what a release needs.
async fn renew(
    kv: Store,
    shared: Arc<Shared>,
    mut me: Holder,
    mut revision: u64,
    mut stop: watch::Receiver<bool>,
) -> (Store, u64, Holder) {
    let key = shared.key.clone();
    let mut ticks = tokio::time::interval(RENEW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    // Failures since the last renewal that got through.
    let mut failing = 0u32;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return (kv, revision, me),
        }
        if *stop.borrow() {
            return (kv, revision, me);
        }
        me.renewals += 1;
        let body: bytes::Bytes = serde_json::to_vec(&me).unwrap_or_default().into();
        let sent = Instant::now();
        // An attempt may not outlast the cadence: a stalled request must not
        // keep the next one from being tried.
        let outcome = tokio::time::timeout(RENEW_EVERY, kv.update(&key, body, revision)).await;
        let failure = match outcome {
            Ok(Ok(next)) => {
                revision = next;
                shared.extend(sent);
                if failing > 0 {
                    tracing::info!(%key, failures = failing, "lease renewed again");
                }
                failing = 0;
                shared.state.send_if_modified(|s| {
                    let changed = *s != LeaseState::Held;
                    *s = LeaseState::Held;
                    changed
                });
                continue;
            }
            Ok(Err(error)) if error.kind() == UpdateErrorKind::WrongLastRevision => {
                // The key moved: either an earlier renewal of ours landed
                // after its answer was lost, or someone else took the lease.
                match read(&kv, &key).await {
                    Ok(Some(Seen {
                        revision: now,
                        holder: Some(holder),
                    })) if holder.session == me.session => {
                        revision = now;
                        me.renewals = holder.renewals;
                        "an earlier renewal landed unanswered".to_owned()
                    }
                    Ok(Some(Seen { holder, .. })) => {
                        tracing::error!(%key, taken_by = ?holder.as_ref().map(|h| h.to_string()), "the lease was taken by someone else: stopping everything done under it");
                        shared.state.send_replace(LeaseState::Lost(holder));
                        return (kv, revision, me);
                    }
                    Ok(None) => {
                        tracing::error!(%key, "the lease's record is gone: stopping everything done under it");
                        shared.state.send_replace(LeaseState::Lost(None));
                        return (kv, revision, me);
                    }
                    Err(error) => error.to_string(),
                }
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {RENEW_EVERY:?}"),
        };
        failing += 1;
        if failing == 1 || failing.is_multiple_of(10) {
            tracing::warn!(%key, error = %failure, failures = failing, "renewing the lease failed");
        }
        if !shared.valid() {
            let lapsed = shared.state.send_if_modified(|s| {
                let changed = *s == LeaseState::Held;
                if changed {
                    *s = LeaseState::Lapsed;
                }
                changed
            });
            if lapsed {
                tracing::error!(%key, error = %failure, "the lease lapsed: everything done under it waits until it is renewed");
            }
        }
    }
}
