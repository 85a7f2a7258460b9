//! The write side of dotpha, as one service: the **writer** takes
//! submissions from `DOTPHA_SUBMISSIONS`, decides them and commits the
//! decisions to the log; the **relay** publishes committed events to
//! `DOTPHA_EVENTS` in log order; the **receipt service** answers
//! `dotpha.v1.receipt.get`.
//!
//! The broker's ack is a buffer, never the promise. A message is acked only
//! after its decision is committed with `synchronous=FULL`, and the writer's
//! read position commits in the same transaction, so a crash at any moment
//! neither loses nor reorders nor doubles a submission.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod announce;
mod checkpoints;
mod cosignatures;
mod logfile;
mod metrics;
pub mod proofs;
mod receipts;
mod relay;
mod standby;
mod transparency;
mod writer;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use async_nats::jetstream;
use dotpha_bus::lease::{Acquire, Claimant, Lease, LeaseError};
pub use dotpha_health::{Health, Part, RoleReport};
pub use dotpha_host::DataDirLock;
use dotpha_host::{DataDir, DataDirError, SharedClock};
use tokio::sync::watch;

pub use checkpoints::CHECKPOINT_INTERVAL;
pub use cosignatures::COSIGNATURES_READ;
pub use metrics::{IngestMetrics, ROLE_ACTIVE, ROLE_STANDBY};
pub use relay::{RELAY_BATCH, RELAY_CHECKPOINT};
pub use standby::{CATCH_UP_REQUEST_TIMEOUT, standby};
pub use transparency::{Transparency, default_origin, log_key};
pub use writer::Fault;

/// The role of a process that writes the log, as `/healthz` and `dotpha
/// status` say it.
pub const ROLE_ACTIVE_NAME: &str = dotpha_bus::roles::ROLE_ACTIVE;
/// The role of a standby following `DOTPHA_DECISIONS`.
pub const ROLE_STANDBY_NAME: &str = dotpha_bus::roles::ROLE_STANDBY;

/// Most messages decided in one transaction. Big enough that a commit's
/// fsync is shared by hundreds of submissions under load.
pub const MAX_BATCH: usize = 512;
/// Longest a batch waits for more messages after its first one arrived:
/// the price a lone submission pays for batching.
pub const LINGER: Duration = Duration::from_millis(2);
/// First pause after a failure (NATS away, a failed commit); doubled up to
/// [`MAX_BACKOFF`].
pub const BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How to run the write side.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory; the log is `log.sqlite` inside it.
    pub data_dir: PathBuf,
    /// NATS server URL(s), comma-separated.
    pub nats_url: String,
    /// How many servers keep each stream: 1 on a single server, 3 on a
    /// 3-node cluster (so a dead node loses nothing).
    pub replicas: usize,
    /// A fault to inject (tests only).
    pub fault: Option<Fault>,
    /// The log's origin and the witnesses it keeps cosignatures of.
    pub transparency: Transparency,
    /// Where the writer, the relay and the receipt service report how they
    /// are (`/healthz` in `dotpha up`).
    pub health: Health,
    /// The clock `recorded_at` and checkpoints are stamped by.
    pub clock: SharedClock,
}

/// What stops the write side.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The data directory cannot be used, or another writer holds it
    /// ([`dotpha_host::DataDirErrorKind::Locked`]).
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// Another writer holds the writer's lease on this NATS.
    #[error(
        "another dotpha writer is running on this NATS ({nats}): {holder}; only one writer may write a log, so this one does not start (to follow it and take over when it is gone, start this one with --standby; this is the way back for a writer whose standby took over; to replace it, stop that one first)"
    )]
    LeaseHeld {
        /// The NATS URL, without credentials.
        nats: String,
        /// Who holds the lease.
        holder: String,
    },
    /// `DOTPHA_EVENTS` carries another log's events.
    #[error("{0}")]
    ForeignLog(String),
    /// Someone else took the lease while this writer ran.
    #[error(
        "this writer lost its lease: {0}; it stopped writing and answered nothing it decided after that"
    )]
    LeaseLost(String),
    /// The lease lapsed (NATS away): the batch in hand waits for it.
    #[error("{0}")]
    LeaseLapsed(String),
    /// Shutdown was asked for before the writer started.
    #[error("stopped before the writer started")]
    Stopped,
    /// The log failed.
    #[error(transparent)]
    Store(#[from] dotpha_store::StoreError),
    /// NATS failed in a way waiting will not fix.
    #[error(transparent)]
    Bus(#[from] dotpha_bus::BusError),
    /// The log and `DOTPHA_DECISIONS` disagree in a way this writer does
    /// not repair by itself.
    #[error("{0}")]
    Replica(String),
    /// `DOTPHA_DECISIONS` holds another record than the log where both
    /// should hold the log's own: another writer went on from an earlier
    /// place, and this log holds a batch that writer never took (it was
    /// never answered). A standby sets such a log aside and rebuilds it.
    #[error("{0}")]
    Diverged(String),
    /// A blocking task died.
    #[error("internal task failed: {0}")]
    Task(String),
    /// The log's key or a witness's key cannot be used.
    #[error(transparent)]
    Key(#[from] transparency::KeyError),
}

impl From<LeaseError> for IngestError {
    fn from(error: LeaseError) -> IngestError {
        match error {
            LeaseError::Held { holder, .. } => IngestError::LeaseHeld {
                nats: String::new(),
                holder: holder.to_string(),
            },
            LeaseError::Lost { .. } => IngestError::LeaseLost(error.to_string()),
            LeaseError::Lapsed(_) => IngestError::LeaseLapsed(error.to_string()),
            LeaseError::Stopped => IngestError::Stopped,
            LeaseError::Bus(error) => IngestError::Bus(error),
        }
    }
}

/// The log file in a data directory.
pub fn log_path(data_dir: &Path) -> PathBuf {
    DataDir::new(data_dir).log_path()
}

/// Takes the data directory's writer lock for as long as the returned value
/// lives: a second writer on the same log refuses to start.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, IngestError> {
    Ok(DataDir::new(data_dir).lock()?)
}

/// The lease owner a data directory stands for: its host, its full path
/// and the id kept in `DIR/writer.id`. Only the holder of the directory's
/// lock can claim it, so a lease held under this owner by another process
/// belongs to a process that is gone.
fn owner(lock: &DataDirLock) -> Result<String, IngestError> {
    let id = lock.writer_id()?;
    let dir = lock.dir().path();
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    Ok(format!(
        "{}:{}#{id}",
        dotpha_bus::lease::host_name(),
        dir.display()
    ))
}

/// The process's clock as the lease stamps a takeover with it.
fn wall_clock(clock: &SharedClock) -> dotpha_bus::lease::WallClock {
    let clock = clock.clone();
    dotpha_bus::lease::WallClock::new(move || clock.unix_millis())
}

/// Takes the writer's lease for an operation that must not run beside a
/// live writer of this NATS (`dotpha restore` clears `DOTPHA_EVENTS`):
/// refused with [`IngestError::LeaseHeld`] while another writer holds it.
/// `None` when no writer ever ran on this NATS (there is no lease bucket).
/// Release the lease when done.
pub async fn fence(
    lock: &DataDirLock,
    js: &jetstream::Context,
    what: String,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<Lease>, IngestError> {
    let Ok(kv) = js.get_key_value(dotpha_bus::lease::LEASE_BUCKET).await else {
        return Ok(None);
    };
    let claimant = Claimant {
        owner: owner(lock)?,
        what,
        clock: dotpha_bus::lease::WallClock::system(),
    };
    let lease = Lease::acquire(
        kv,
        dotpha_bus::lease::WRITER_KEY,
        claimant,
        Acquire::RefuseIfHeld,
        shutdown,
    )
    .await?;
    Ok(Some(lease))
}

/// A writer ready to run: its data directory locked, its log open, its
/// streams set up, checked to carry this log's events, and the writer's
/// lease held. Made by [`prepare`], run by [`serve`].
pub struct Prepared {
    config: Config,
    /// The data directory's lock, unless a standby holding it promoted
    /// itself ([`promote`]) and keeps it across its roles.
    _lock: Option<DataDirLock>,
    ledger: dotpha_store::Ledger,
    path: PathBuf,
    connection: dotpha_bus::Connection,
    js: jetstream::Context,
    lease: Lease,
    part: Part,
    key: dotpha_tlog::LogKey,
    witnesses: Vec<dotpha_tlog::CosignatureVerifier>,
    /// Who says this writer's role in NATS while it serves; `None` for a
    /// standby that promoted itself (it announces across its roles).
    announcer: Option<announce::Announcer>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("log", &self.path)
            .field("head", &self.head())
            .finish()
    }
}

impl Prepared {
    /// The log's head position.
    pub fn head(&self) -> u64 {
        self.ledger.log().head().position
    }
}

/// Opens the log, connects, sets the streams up, checks that
/// `DOTPHA_EVENTS` carries this log's events, and takes the writer's lease
/// (refusing when another live writer holds it). Everything that can stop a
/// writer from starting fails here, before [`serve`].
pub async fn prepare(
    config: Config,
    lock: DataDirLock,
    shutdown: watch::Receiver<bool>,
) -> Result<Prepared, IngestError> {
    let part = config.health.part("writer");
    let path = log_path(&config.data_dir);
    // A key or witness list that cannot be used stops the writer here, not
    // after it took the lease.
    let (key, witnesses) = transparency::load(&config.data_dir, &config.transparency)?;
    let ledger = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || dotpha_store::Ledger::open(path))
            .await
            .map_err(|e| IngestError::Task(e.to_string()))??
    };
    tracing::info!(log = %path.display(), head = ledger.log().head().position, "log opened");
    let mut waiting = shutdown.clone();
    if let Err(error) = dotpha_bus::wait_for_nats(&config.nats_url, &mut waiting).await {
        return Err(if *shutdown.borrow() {
            IngestError::Stopped
        } else {
            error.into()
        });
    }
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-ingest", true).await?;
    let js = jetstream::new(connection.client.clone());
    retry_until(&shutdown, &part, "setting up streams", || {
        dotpha_bus::ensure_streams(&js, config.replicas)
    })
    .await?;
    let kv = retry_until(&shutdown, &part, "setting up the lease bucket", || {
        dotpha_bus::lease::lease_bucket(&js, config.replicas)
    })
    .await?;
    let first = retry_until(&shutdown, &part, "reading DOTPHA_EVENTS", || {
        dotpha_bus::first_relayed(&js)
    })
    .await?;
    let (ledger, identity) = check_identity(ledger, first, &config.nats_url).await?;
    let claimant = Claimant {
        owner: owner(&lock)?,
        what: format!("dotpha writer of {} ({identity})", path.display()),
        clock: wall_clock(&config.clock),
    };
    let lease = retry_until(&shutdown, &part, "taking the writer's lease", || {
        let attempt = Lease::acquire(
            kv.clone(),
            dotpha_bus::lease::WRITER_KEY,
            claimant.clone(),
            Acquire::RefuseIfHeld,
            shutdown.clone(),
        );
        async move {
            match attempt.await {
                // NATS failed under the attempt (a cluster electing a
                // leader): try again; anything else is the answer.
                Err(LeaseError::Bus(error)) => Err(error),
                answer => Ok(answer),
            }
        }
    })
    .await?
    .map_err(|error| match IngestError::from(error) {
        IngestError::LeaseHeld { holder, .. } => IngestError::LeaseHeld {
            nats: dotpha_bus::without_credentials(&config.nats_url),
            holder,
        },
        other => other,
    })?;
    tracing::info!(token = lease.token(), "holding the writer's lease");
    config.health.set_role(RoleReport {
        role: ROLE_ACTIVE_NAME.to_owned(),
        lag_records: 0,
        last_takeover: None,
    });
    let mut ledger = ledger;
    sync_replica(&mut ledger, &js, &shutdown, &part).await?;
    let announcer = announce::Announcer {
        js: js.clone(),
        replicas: config.replicas,
        key: dotpha_bus::roles::role_key(&lock.writer_id()?),
        log: path.display().to_string(),
        health: config.health.clone(),
    };
    Ok(Prepared {
        config,
        _lock: Some(lock),
        ledger,
        path,
        connection,
        js,
        lease,
        part,
        key,
        witnesses,
        announcer: Some(announcer),
    })
}

/// A standby that took the writer's lease and holds every record of
/// `DOTPHA_DECISIONS` becomes the writer: opens its log as the writer's
/// (folding it into state), checks it against `DOTPHA_EVENTS` and the
/// replicated stream as [`prepare`] does, and gives what [`serve`] runs.
/// The standby keeps the data directory's lock itself.
pub(crate) async fn promote(
    config: Config,
    lease: Lease,
    shutdown: &watch::Receiver<bool>,
) -> Result<Prepared, IngestError> {
    let part = config.health.part("writer");
    let path = log_path(&config.data_dir);
    let (key, witnesses) = transparency::load(&config.data_dir, &config.transparency)?;
    let ledger = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || dotpha_store::Ledger::open(path))
            .await
            .map_err(|e| IngestError::Task(e.to_string()))??
    };
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-ingest", true).await?;
    let js = jetstream::new(connection.client.clone());
    // The checks are retried rather than waited for, as the catch-up's
    // reads are (a NATS node may have died with the writer).
    let mut quick = js.clone();
    quick.set_timeout(standby::CATCH_UP_REQUEST_TIMEOUT);
    let first = retry_until(shutdown, &part, "reading DOTPHA_EVENTS", || {
        dotpha_bus::first_relayed(&quick)
    })
    .await?;
    let (mut ledger, _) = check_identity(ledger, first, &config.nats_url).await?;
    if let Err(error) = sync_replica(&mut ledger, &quick, shutdown, &part).await {
        if let IngestError::Diverged(_) = error {
            // The standby sets its log aside and claims the lease again
            // once rebuilt: released now, that takes no lease time.
            lease.release().await;
        }
        return Err(error);
    }
    tracing::info!(
        token = lease.token(),
        head = ledger.log().head().position,
        "the standby holds every decision of DOTPHA_DECISIONS and the writer's lease: it is the writer now"
    );
    Ok(Prepared {
        config,
        _lock: None,
        ledger,
        path,
        connection,
        js,
        lease,
        part,
        key,
        witnesses,
        announcer: None,
    })
}

/// Brings `DOTPHA_DECISIONS` level with the log before the writer
/// decides anything: the log ahead (it committed, then died before the
/// stream acknowledged) sends its last batch's records again; a new stream
/// starts replication at the log's head; the log behind the stream (another
/// writer went on) is refused: that is a standby's job.
async fn sync_replica(
    ledger: &mut dotpha_store::Ledger,
    js: &jetstream::Context,
    shutdown: &watch::Receiver<bool>,
    part: &Part,
) -> Result<(), IngestError> {
    ledger.log_mut().replicate()?;
    let held = ledger.log().replica_position()?;
    let local = held.last_sequence();
    let (messages, last) = retry_until(shutdown, part, "reading DOTPHA_DECISIONS", || {
        dotpha_bus::decisions::last(js)
    })
    .await?;
    // What the stream holds at the last record both should have must be
    // this log's own record: otherwise another writer went on from an
    // earlier place, and this log diverged.
    let shared = last.min(local);
    if shared >= held.first_sequence && shared > 0 {
        let ours = held.records[(shared - held.first_sequence) as usize].as_bytes();
        let theirs = retry_until(shutdown, part, "reading DOTPHA_DECISIONS", || {
            dotpha_bus::decisions::record_at(js, shared)
        })
        .await?;
        if theirs.as_deref() != Some(ours) {
            return Err(IngestError::Diverged(format!(
                "record {shared} of DOTPHA_DECISIONS is not the one the log {} committed: another writer decided after this log's last acknowledged batch, so this log diverged; set it aside and start a standby from an empty directory",
                ledger.log().path()
            )));
        }
    }
    if last == local {
        return Ok(());
    }
    if messages == 0 && last == 0 {
        tracing::warn!(
            head = ledger.log().head().position,
            "DOTPHA_DECISIONS is new: replication starts at the log's head (a standby can follow from here on, not from an empty directory)"
        );
        return Ok(ledger.log_mut().restart_replication()?);
    }
    if last > local {
        return Err(IngestError::Replica(format!(
            "the log {} holds decisions up to record {local} of DOTPHA_DECISIONS, but the stream holds {last}: another writer decided after this log stopped. Start this directory with --standby to catch up (or restore it); it does not write",
            ledger.log().path()
        )));
    }
    if last + 1 < held.first_sequence {
        return Err(IngestError::Replica(format!(
            "DOTPHA_DECISIONS ends at record {last}, but the log {} holds up to {local} and keeps only the last batch's records ({}..{local}): the stream lost decisions; restore or recreate it",
            ledger.log().path(),
            held.first_sequence
        )));
    }
    let missing = held.records[(last + 1 - held.first_sequence) as usize..].to_vec();
    tracing::warn!(
        from = last + 1,
        to = local,
        "the log is ahead of DOTPHA_DECISIONS (committed, then stopped before the stream acknowledged): sending the last batch's records again"
    );
    let replicated = dotpha_store::Replicated {
        first_sequence: last + 1,
        records: missing,
    };
    writer::append_records(js, &replicated, None).await
}

/// Publishes again `receipts`, the log's last batch's
/// ([`dotpha_store::Log::last_batch_receipts`]), before the writer decides
/// anything: a writer that died after appending a batch to
/// `DOTPHA_DECISIONS` and before answering it left its publishers waiting,
/// and neither it restarted nor a standby taking over decides those
/// submissions again (the read position is past them). Each is the stored
/// receipt marked `duplicate: true`, as a redelivery's answer is (CONTRACT:
/// a repeat answers the original receipt so marked), so the wire never
/// carries two originals of one decision; published under the lease on the
/// unit's subject. A publisher that already holds it ignores it, as it
/// ignores any receipt it does not wait for.
async fn announce_last_batch(
    client: &async_nats::Client,
    receipts: Vec<dotpha_store::Receipt>,
    lease: &Lease,
) -> Result<(), IngestError> {
    if receipts.is_empty() {
        return Ok(());
    }
    lease.guard().check()?;
    let mut sent = 0usize;
    for receipt in &receipts {
        let receipt = &dotpha_store::Receipt {
            duplicate: true,
            ..receipt.clone()
        };
        let Some(unit) = receipt
            .unit
            .as_deref()
            .filter(|u| dotpha_domain::Slug::parse(u).is_some())
        else {
            continue;
        };
        let body = match serde_json::to_vec(receipt) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "a receipt could not be encoded");
                continue;
            }
        };
        match client
            .publish(dotpha_bus::subjects::receipt(unit), body.into())
            .await
        {
            Ok(()) => sent += 1,
            Err(error) => {
                tracing::warn!(%error, "announcing a receipt again failed; receipt.get still answers it");
            }
        }
    }
    tracing::info!(
        receipts = sent,
        recorded_at = receipts.first().map_or("", |r| r.recorded_at.as_str()),
        "announced the log's last batch's receipts again, marked duplicate (its writer may have stopped before sending them)"
    );
    Ok(())
}

/// How a log is named in messages: its first event's hash, or "empty".
fn identity_of(first: Option<&dotpha_store::RecordedEvent>) -> String {
    match first {
        Some(event) => format!("its event 1 has hash {}", event.hash),
        None => "an empty log".to_owned(),
    }
}

/// Refuses a log that is not the one whose events `DOTPHA_EVENTS` carries:
/// the stream's first event must be the log's event at that position. An
/// empty log facing a stream with events is a data directory that is not
/// this deployment's (a forgotten `--data`): deciding the whole submission
/// history again into it would fork the log.
async fn check_identity(
    ledger: dotpha_store::Ledger,
    first: Option<dotpha_bus::RelayedEvent>,
    nats_url: &str,
) -> Result<(dotpha_store::Ledger, String), IngestError> {
    let at = first.as_ref().map_or(1, |f| f.position);
    let (ledger, logged, log_first) = tokio::task::spawn_blocking(move || {
        let logged = ledger.log().events_from(at, 1);
        let log_first = ledger.log().events_from(1, 1);
        (ledger, logged, log_first)
    })
    .await
    .map_err(|e| IngestError::Task(e.to_string()))?;
    let (logged, log_first) = (logged?, log_first?);
    let identity = identity_of(log_first.first());
    let Some(first) = first else {
        return Ok((ledger, identity));
    };
    let path = ledger.log().path().to_owned();
    let theirs = format!(
        "DOTPHA_EVENTS on {} carries another log's events: its event {} has hash {} ({})",
        dotpha_bus::without_credentials(nats_url),
        first.position,
        first.hash,
        first.summary
    );
    match logged.first() {
        Some(event) if event.position == first.position && event.hash == first.hash => {
            Ok((ledger, identity))
        }
        Some(event) if event.position == first.position => Err(IngestError::ForeignLog(format!(
            "{theirs}, this log {path} has hash {} there: two logs cannot share one NATS, so this writer does not start (give this log its own NATS with --nats)",
            event.hash
        ))),
        _ if ledger.log().head().position == 0 => Err(IngestError::ForeignLog(format!(
            "{theirs}, and this log {path} is empty: is --data pointing at this deployment's data directory? This writer does not start, since deciding every submission again into a new log would fork it"
        ))),
        _ => {
            tracing::warn!(
                stream_first = first.position,
                log_head = ledger.log().head().position,
                "DOTPHA_EVENTS begins after this log's head; the relay checks the log against it once the log reaches it"
            );
            Ok((ledger, identity))
        }
    }
}

/// Runs the writer, the relay and the receipt service until `shutdown`
/// turns true; then finishes the batch in hand (commit, ack, receipts),
/// flushes, releases the lease, and returns. Fails when the writer stops
/// by an error (the lease was taken, the log failed): the relay and the
/// receipt service stop with it, and the error is logged when it happens.
pub async fn serve(
    prepared: Prepared,
    metrics: IngestMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let Prepared {
        config,
        _lock,
        ledger,
        path,
        connection,
        js,
        lease,
        part: writer_part,
        key,
        witnesses,
        announcer,
    } = prepared;
    let last_batch = ledger.log().last_batch_receipts(MAX_BATCH)?;
    announce_last_batch(&connection.client, last_batch, &lease).await?;
    let health = config.health.clone();
    metrics.role.set(metrics::ROLE_ACTIVE);
    metrics.standby_lag.set(0);
    metrics.log_head.set(ledger.log().head().position as i64);
    metrics.replica_record.set(
        ledger
            .log()
            .checkpoint(dotpha_store::REPLICA_SEQUENCE)?
            .map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX)),
    );
    // The relay and the receipt service stop when asked, and when the
    // writer stops by itself.
    let (stop_parts, parts_shutdown) = watch::channel(false);
    let forward = {
        let mut shutdown = shutdown.clone();
        let stop_parts = stop_parts.clone();
        tokio::spawn(async move {
            let _ = shutdown.wait_for(|s| *s).await;
            let _ = stop_parts.send(true);
        })
    };
    let (head_sender, head) = watch::channel(ledger.log().head().position);
    let relay = tokio::spawn(relay::run(
        js.clone(),
        path.clone(),
        head,
        metrics.clone(),
        lease.guard(),
        health.part("relay"),
        parts_shutdown.clone(),
    ));
    let receipts = tokio::spawn(receipts::serve(
        connection.client.clone(),
        path.clone(),
        lease.guard(),
        health.part("receipts"),
        config.clock.clone(),
        parts_shutdown.clone(),
    ));
    // The checkpointer stops only after the writer (its own signal), so the
    // last commit is signed before the process ends.
    let (stop_checkpoints, checkpoints_stop) = watch::channel(false);
    let checkpoints = tokio::spawn(checkpoints::run(
        js.clone(),
        logfile::SharedLog::new(path.clone(), true),
        key.clone(),
        head_sender.subscribe(),
        metrics.clone(),
        config.clock.clone(),
        checkpoints_stop,
    ));
    let collector = tokio::spawn(cosignatures::run(
        cosignatures::Collector {
            js: js.clone(),
            log: logfile::SharedLog::new(path.clone(), true),
            verifier: dotpha_tlog::LogVerifier::new(key.verifier_key())
                .map_err(transparency::KeyError::Note)?,
            witnesses,
            metrics: metrics.clone(),
            clock: config.clock.clone(),
        },
        parts_shutdown.clone(),
    ));
    let proofs = tokio::spawn(proofs::serve(
        connection.client.clone(),
        logfile::SharedLog::new(path.clone(), false),
        parts_shutdown.clone(),
    ));
    let announcing =
        announcer.map(|announcer| tokio::spawn(announcer.run(metrics.clone(), parts_shutdown)));

    let (read_position, read_tag) = ledger.read_position_tag()?;
    let outcome = writer::run(
        writer::Writer {
            ledger: Some(ledger),
            read_position,
            read_tag,
            js,
            client: connection.client.clone(),
            head: head_sender,
            metrics,
            fault: config.fault,
            shutdown,
            batches: 0,
            part_groups: 0,
            lease: lease.guard(),
            part: writer_part.clone(),
            clock: config.clock.clone(),
        },
        connection.connects.clone(),
    )
    .await;
    match &outcome {
        Ok(()) => writer_part.stopped(),
        Err(error) => {
            tracing::error!(%error, "the writer stopped");
            writer_part.failed(error);
        }
    }
    let _ = stop_parts.send(true);
    forward.abort();
    // The writer has stopped; the relay drains what it committed and the
    // checkpointer signs it.
    let _ = stop_checkpoints.send(true);
    let _ = relay.await;
    let _ = checkpoints.await;
    let _ = receipts.await;
    let _ = collector.await;
    let _ = proofs.await;
    if let Some(announcing) = announcing {
        let _ = announcing.await;
    }
    let _ = connection.client.flush().await;
    if outcome.is_ok() {
        lease.release().await;
    }
    outcome
}

/// [`lock_data_dir`], [`prepare`] and [`serve`]: `dotpha ingest`.
pub async fn run(
    config: Config,
    metrics: IngestMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let lock = lock_data_dir(&config.data_dir)?;
    let prepared = prepare(config, lock, shutdown.clone()).await?;
    serve(prepared, metrics, shutdown).await
}

/// Retries `attempt` with capped backoff until it succeeds or shutdown is
/// asked for (which returns the last error), reporting each failure to
/// `part`.
pub(crate) async fn retry_until<T, E, F, Fut>(
    shutdown: &watch::Receiver<bool>,
    part: &Part,
    what: &str,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut delay = BACKOFF;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                if *shutdown.borrow() {
                    return Err(error);
                }
                tracing::warn!(%error, retry_in = ?delay, "{what} failed");
                part.retrying(format!("{what}: {error}"));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}
