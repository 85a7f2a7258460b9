//! The standby writer (`dotpha ingest --standby`, issue 16): follows
//! `DOTPHA_DECISIONS` into its own log, record by record, so its log is the
//! active writer's, byte for byte (same positions, hashes, decisions
//! including rejections, dead letters, read position), while it waits for
//! the writer's lease.
//!
//! - **Taking over.** When the lease is free or its holder stopped renewing
//!   it ([`Acquire::Wait`]: a compare-and-set on the revision it watched),
//!   the standby takes it, applies every record the stream holds up to its
//!   last sequence, and runs as the writer over its own log
//!   ([`crate::promote`], [`crate::serve`]): the same writer loop, relay,
//!   checkpointer and receipt service an active writer runs, its appends
//!   guarded by the last record it holds.
//! - **Stepping down.** A writer that loses the lease, or whose append is
//!   refused because the stream moved on, answers nothing of the batch in
//!   hand and becomes a standby again. A log holding a batch the stream
//!   does not hold has diverged: it is set aside whole (renamed
//!   `log.diverged-<UTC time>.sqlite`, with its `-wal` and `-shm`, never
//!   edited) and a fresh log is rebuilt from the stream's first record.

use std::path::{Path, PathBuf};

use async_nats::jetstream::{self, consumer::DeliverPolicy, kv::Store};
use dotpha_bus::{
    lease::{Acquire, Claimant, Lease, LeaseError},
    subjects::{DECISION, DECISIONS_STREAM},
};
use dotpha_store::{Assembled, Assembler, Head, Log, REPLICA_SEQUENCE, StoreError};
use futures::StreamExt;
use tokio::sync::watch;

use crate::{
    BACKOFF, Config, DataDirLock, Health, IngestError, IngestMetrics, MAX_BACKOFF, Part,
    ROLE_ACTIVE_NAME, ROLE_STANDBY_NAME, RoleReport, log_path, retry_until,
};

/// The longest a read of `DOTPHA_DECISIONS` waits for its answer while a
/// standby that holds the lease catches up: a request left on a NATS node
/// that died with the writer would otherwise hold the takeover for the
/// client's whole request timeout (10 s) before it is sent again.
pub const CATCH_UP_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Tells `health` this process's role now, keeping the time of its last
/// takeover unless `took_over` gives a new one.
fn report_role(health: &Health, role: &str, lag_records: u64, took_over: Option<String>) {
    let last_takeover = took_over.or_else(|| health.role().and_then(|r| r.last_takeover));
    health.set_role(RoleReport {
        role: role.to_owned(),
        lag_records,
        last_takeover,
    });
}

/// Runs a standby over `config.data_dir` until shutdown: follows
/// `DOTPHA_DECISIONS` from the record after the last one its log holds,
/// takes over as the writer when the writer's lease is free or lapsed, and
/// steps down to a standby again when fenced. Stops with
/// [`IngestError::Replica`] when a record does not extend its log (another
/// log's directory).
pub async fn standby(
    config: Config,
    lock: DataDirLock,
    metrics: IngestMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let part = config.health.part("standby");
    let path = log_path(&config.data_dir);
    // The key it would sign checkpoints with once it takes over: a key that
    // cannot be used stops it now, not at the takeover.
    crate::transparency::load(&config.data_dir, &config.transparency)?;
    let mut waiting = shutdown.clone();
    if let Err(error) = dotpha_bus::wait_for_nats(&config.nats_url, &mut waiting).await {
        return Err(if *shutdown.borrow() {
            IngestError::Stopped
        } else {
            error.into()
        });
    }
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-standby", true).await?;
    let js = jetstream::new(connection.client.clone());
    retry_until(&shutdown, &part, "setting up streams", || {
        dotpha_bus::ensure_streams(&js, config.replicas)
    })
    .await?;
    let kv = retry_until(&shutdown, &part, "setting up the lease bucket", || {
        dotpha_bus::lease::lease_bucket(&js, config.replicas)
    })
    .await?;
    let claimant = Claimant {
        owner: crate::owner(&lock)?,
        what: format!(
            "dotpha writer of {} (a standby that took over)",
            path.display()
        ),
        clock: crate::wall_clock(&config.clock),
    };
    let id: String = lock
        .writer_id()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let follower = Follower {
        js: js.clone(),
        kv,
        claimant,
        name: format!("dotpha-standby-{id}"),
        path,
        part: part.clone(),
        health: config.health.clone(),
        metrics: metrics.clone(),
    };
    metrics.replica_record.set(0);
    let (stop_announcing, announcing_stop) = watch::channel(false);
    let announcing = tokio::spawn(
        crate::announce::Announcer {
            js: js.clone(),
            replicas: config.replicas,
            key: dotpha_bus::roles::role_key(&id),
            log: follower.path.display().to_string(),
            health: config.health.clone(),
        }
        .run(metrics.clone(), announcing_stop),
    );
    let outcome: Result<(), IngestError> = async {
        loop {
            metrics.role.set(crate::metrics::ROLE_STANDBY);
            report_role(&config.health, ROLE_STANDBY_NAME, 0, None);
            let lease = match follower.until_promoted(&shutdown).await {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    part.stopped();
                    return Ok(());
                }
                // A log this directory's writer committed beyond the stream
                // (killed between its commit and its append, then restarted
                // here while another writer went on): set aside, rebuilt.
                Err(error @ IngestError::Replica(_)) => {
                    let why = error.to_string();
                    if step_down(&config, &js, &part, &why, &shutdown).await? {
                        continue;
                    }
                    return Err(error);
                }
                Err(error) => return Err(error),
            };
            part.running();
            metrics.role.set(crate::metrics::ROLE_ACTIVE);
            metrics.standby_lag.set(0);
            metrics.takeovers.inc();
            metrics
                .last_takeover
                .set(i64::try_from(config.clock.unix_seconds()).unwrap_or(i64::MAX));
            report_role(
                &config.health,
                ROLE_ACTIVE_NAME,
                0,
                Some(config.clock.now().as_str().to_owned()),
            );
            let prepared = match crate::promote(config.clone(), lease, &shutdown).await {
                Ok(prepared) => prepared,
                // Its log holds a batch the stream took only in part (its
                // writer died between two records) while the writer after
                // it appended something else, fewer messages than the rest
                // of that batch, and died too: nothing of the batch was
                // answered. Set aside and rebuilt; it stands by again and
                // takes the lease it released.
                Err(error @ IngestError::Diverged(_)) => {
                    let why = error.to_string();
                    config.health.remove("writer");
                    if step_down(&config, &js, &part, &why, &shutdown).await? {
                        continue;
                    }
                    return Err(error);
                }
                Err(error) => return Err(error),
            };
            match crate::serve(prepared, metrics.clone(), shutdown.clone()).await {
                Ok(()) => {
                    part.stopped();
                    return Ok(());
                }
                Err(IngestError::LeaseLost(why)) => {
                    step_down(&config, &js, &part, &why, &shutdown).await?;
                    // What ran as the writer runs no more.
                    for gone in ["writer", "relay", "receipts"] {
                        config.health.remove(gone);
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }
    .await;
    let _ = stop_announcing.send(true);
    let _ = announcing.await;
    outcome
}

/// What following needs, kept across the standby's turns.
struct Follower {
    js: jetstream::Context,
    kv: Store,
    claimant: Claimant,
    /// The standby's consumer on `DOTPHA_DECISIONS`.
    name: String,
    path: PathBuf,
    part: Part,
    health: Health,
    metrics: IngestMetrics,
}

/// Aborts a task when dropped: the lease claimant of a standby that stops
/// by an error.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How following ended.
enum Followed {
    /// Shutdown was asked for.
    Stopped,
    /// The writer's lease is this standby's now.
    Promoted,
}

impl Follower {
    /// Follows the stream while claiming the writer's lease; once it holds
    /// the lease, applies every record up to the stream's last and returns
    /// the lease (`None` on shutdown).
    async fn until_promoted(
        &self,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Option<Lease>, IngestError> {
        let mut log = Some({
            let path = self.path.clone();
            tokio::task::spawn_blocking(move || Log::open(path))
                .await
                .map_err(|e| IngestError::Task(e.to_string()))??
        });
        let (taken_sender, mut taken) = watch::channel(false);
        let mut claiming = AbortOnDrop(tokio::spawn(claim(
            self.kv.clone(),
            self.claimant.clone(),
            taken_sender,
            shutdown.clone(),
        )));
        let mut stop = shutdown.clone();
        let mut backoff = BACKOFF;
        loop {
            if *stop.borrow() {
                return Ok(None);
            }
            let held = held(&log)?;
            self.metrics
                .replica_record
                .set(i64::try_from(held).unwrap_or(i64::MAX));
            if let Some(log) = &log {
                self.metrics.log_head.set(log.head().position as i64);
            }
            match self.follow(held, &mut log, &mut stop, &mut taken).await {
                Ok(Followed::Stopped) => return Ok(None),
                Ok(Followed::Promoted) => break,
                Err(
                    error
                    @ (IngestError::Store(_) | IngestError::Replica(_) | IngestError::Task(_)),
                ) => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "following DOTPHA_DECISIONS failed; starting again from the log's place");
                    self.part.retrying(&error);
                    if *taken.borrow() {
                        break;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                        _ = taken.changed() => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let lease = match (&mut claiming.0).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return Ok(None),
            Err(error) => return Err(IngestError::Task(error.to_string())),
        };
        tracing::warn!(
            token = lease.token(),
            held = held(&log)?,
            "took the writer's lease: its holder stopped renewing it (or released it); applying every record of DOTPHA_DECISIONS before deciding anything"
        );
        self.catch_up(&mut log, shutdown).await?;
        Ok(Some(lease))
    }

    /// Follows the stream from `held + 1` until shutdown, the lease taken,
    /// or an error.
    async fn follow(
        &self,
        held: u64,
        log: &mut Option<Log>,
        stop: &mut watch::Receiver<bool>,
        taken: &mut watch::Receiver<bool>,
    ) -> Result<Followed, IngestError> {
        let consumer = dotpha_bus::follower(
            &self.js,
            DECISIONS_STREAM,
            DECISION,
            &self.name,
            DeliverPolicy::ByStartSequence {
                start_sequence: held + 1,
            },
        )
        .await?;
        let mut messages = consumer.messages().await.map_err(|e| {
            IngestError::Bus(dotpha_bus::BusError::nats("following DOTPHA_DECISIONS", e))
        })?;
        tracing::info!(from = held + 1, "standby following DOTPHA_DECISIONS");
        self.part.running();
        let mut assembler = Assembler::new(held);
        loop {
            if *taken.borrow() {
                return Ok(Followed::Promoted);
            }
            let message = tokio::select! {
                message = messages.next() => message,
                _ = stop.changed() => return Ok(Followed::Stopped),
                // The claimant ends without the lease only at shutdown.
                changed = taken.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return Ok(Followed::Stopped),
                },
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    return Err(IngestError::Bus(dotpha_bus::BusError::nats(
                        "following DOTPHA_DECISIONS",
                        error,
                    )));
                }
                None => {
                    return Err(IngestError::Bus(dotpha_bus::BusError::nats(
                        "following DOTPHA_DECISIONS",
                        std::io::Error::other("the message stream ended"),
                    )));
                }
            };
            let info = message.info().map_err(|e| {
                IngestError::Task(format!("a record without JetStream metadata: {e}"))
            })?;
            let (sequence, pending) = (info.stream_sequence, info.pending);
            let applied = apply(log, &mut assembler, &message.payload, sequence).await?;
            if let Err(error) = message.ack().await {
                tracing::debug!(%error, "ack of a record failed; the log keeps its own place");
            }
            let Some(head) = applied else {
                // A part of a record; the log holds it once the last comes.
                continue;
            };
            self.metrics.standby_lag.set(pending as i64);
            self.metrics
                .replica_record
                .set(i64::try_from(sequence).unwrap_or(i64::MAX));
            report_role(&self.health, ROLE_STANDBY_NAME, pending, None);
            self.metrics.log_head.set(head.position as i64);
            tracing::debug!(sequence, head = head.position, "applied a record");
        }
    }

    /// Applies every record from the one after the log's last to the
    /// stream's last sequence, read one by one from the stream.
    async fn catch_up(
        &self,
        log: &mut Option<Log>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<(), IngestError> {
        let mut quick = self.js.clone();
        quick.set_timeout(CATCH_UP_REQUEST_TIMEOUT);
        let js = &quick;
        let (_, last) = retry_until(shutdown, &self.part, "reading DOTPHA_DECISIONS", || {
            dotpha_bus::decisions::last(js)
        })
        .await?;
        let from = held(log)?;
        let mut assembler = Assembler::new(from);
        let mut sequence = from;
        while sequence < last {
            sequence += 1;
            let record = retry_until(shutdown, &self.part, "reading DOTPHA_DECISIONS", || {
                dotpha_bus::decisions::record_at(js, sequence)
            })
            .await?
            .ok_or_else(|| {
                IngestError::Replica(format!(
                    "DOTPHA_DECISIONS holds no record {sequence} though it ends at {last}: the stream lost decisions"
                ))
            })?;
            let Some(head) = apply(log, &mut assembler, &record, sequence).await? else {
                continue;
            };
            let lag = last.saturating_sub(sequence);
            self.metrics.standby_lag.set(lag as i64);
            self.metrics
                .replica_record
                .set(i64::try_from(sequence).unwrap_or(i64::MAX));
            self.metrics.log_head.set(head.position as i64);
            report_role(&self.health, ROLE_STANDBY_NAME, lag, None);
        }
        if let Some((first, end)) = assembler.pending() {
            // The writer that appended these died or was fenced before its
            // record's last part: nothing of that batch was answered, and
            // its submissions are decided again from the read position.
            tracing::warn!(
                from = first,
                to = end,
                "DOTPHA_DECISIONS ends with a record cut short (its writer stopped between two parts, before any receipt of it); passing over it"
            );
            pass_over(log, first, end).await?;
        }
        tracing::info!(
            from = from + 1,
            to = last,
            "caught up with DOTPHA_DECISIONS"
        );
        Ok(())
    }
}

/// Claims the writer's lease, waiting for as long as a live holder renews
/// it; tells `taken` when it holds it. `None` on shutdown.
async fn claim(
    kv: Store,
    claimant: Claimant,
    taken: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) -> Option<Lease> {
    let mut delay = BACKOFF;
    loop {
        match Lease::acquire(
            kv.clone(),
            dotpha_bus::lease::WRITER_KEY,
            claimant.clone(),
            Acquire::Wait,
            shutdown.clone(),
        )
        .await
        {
            Ok(lease) => {
                let _ = taken.send(true);
                return Some(lease);
            }
            Err(LeaseError::Bus(error)) => {
                tracing::warn!(%error, retry_in = ?delay, "watching the writer's lease failed");
                let mut stop = shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => {}
                }
                delay = (delay * 2).min(MAX_BACKOFF);
            }
            Err(_) => return None,
        }
    }
}

/// The stream sequence of the last record the log holds.
fn held(log: &Option<Log>) -> Result<u64, IngestError> {
    Ok(log
        .as_ref()
        .map(|l| l.checkpoint(REPLICA_SEQUENCE))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// Takes the message `payload` at stream sequence `sequence` and applies
/// the record it completes to the log; the log's head after it, or `None`
/// when the message is a part of a record still to come.
async fn apply(
    log: &mut Option<Log>,
    assembler: &mut Assembler,
    payload: &[u8],
    sequence: u64,
) -> Result<Option<Head>, IngestError> {
    let Some(Assembled {
        record,
        from,
        to,
        passed_over,
    }) = assembler
        .push(sequence, payload)
        .map_err(|why| IngestError::Replica(format!("the standby's log cannot follow: {why}")))?
    else {
        return Ok(None);
    };
    if let Some((first, last)) = passed_over {
        tracing::warn!(
            from = first,
            to = last,
            "passed over the parts of a record cut short (its writer stopped between two parts, before any receipt of it)"
        );
    }
    let head = on_log(log, move |handle| handle.apply_record(&record, from, to)).await?;
    assembler.applied(to);
    Ok(Some(head))
}

/// Passes over the messages `from..=to` (the first parts of a record cut
/// short at the stream's tail).
async fn pass_over(log: &mut Option<Log>, from: u64, to: u64) -> Result<Head, IngestError> {
    on_log(log, move |handle| handle.pass_over(from, to)).await
}

/// Runs `change` on the log off the async threads; the log's head after
/// it.
async fn on_log(
    log: &mut Option<Log>,
    change: impl FnOnce(&mut Log) -> Result<(), StoreError> + Send + 'static,
) -> Result<Head, IngestError> {
    let mut handle = log
        .take()
        .ok_or_else(|| IngestError::Task("the standby's log was lost".to_owned()))?;
    let (handle, applied) = tokio::task::spawn_blocking(move || {
        let applied = change(&mut handle);
        (handle, applied)
    })
    .await
    .map_err(|e| IngestError::Task(e.to_string()))?;
    let head = handle.head().clone();
    *log = Some(handle);
    match applied {
        Ok(()) => Ok(head),
        Err(StoreError::Diverged { reason, .. }) => Err(IngestError::Replica(format!(
            "the standby's log cannot follow DOTPHA_DECISIONS: {reason}"
        ))),
        Err(error) => Err(error.into()),
    }
}

/// A writer that lost its lease or was fenced becomes a standby again. Its
/// log is kept when the stream holds everything it holds (it only follows
/// on); otherwise it diverged (it committed a batch the stream refused or
/// never got) and is set aside whole, so the standby rebuilds the log from
/// the stream's first record. True when it was set aside.
async fn step_down(
    config: &Config,
    js: &jetstream::Context,
    part: &Part,
    why: &str,
    shutdown: &watch::Receiver<bool>,
) -> Result<bool, IngestError> {
    let path = log_path(&config.data_dir);
    let (head, held) = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let log = Log::open(path)?;
            let head = log.current_head()?;
            let held = log.replica_position()?;
            Ok::<_, StoreError>((head, held))
        })
        .await
        .map_err(|e| IngestError::Task(e.to_string()))??
    };
    let (_, last) = retry_until(shutdown, part, "reading DOTPHA_DECISIONS", || {
        dotpha_bus::decisions::last(js)
    })
    .await?;
    let local = held.last_sequence();
    let diverged = if local > last {
        true
    } else if let Some(ours) = held.records.last() {
        let theirs = retry_until(shutdown, part, "reading DOTPHA_DECISIONS", || {
            dotpha_bus::decisions::record_at(js, local)
        })
        .await?;
        theirs.as_deref() != Some(ours.as_bytes())
    } else {
        // Only records applied from the stream: a prefix of it.
        false
    };
    if !diverged {
        tracing::warn!(
            %why,
            log_head = head.position,
            record = local,
            stream_last = last,
            "stepped down: this writer no longer holds the writer's lease; the stream holds everything its log holds, so it follows on as a standby"
        );
        return Ok(false);
    }
    let stamp = config
        .clock
        .now()
        .as_str()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect::<String>();
    let aside = set_aside(&path, &stamp)?;
    tracing::error!(
        %why,
        log_head = head.position,
        log_head_hash = %head.hash,
        record = local,
        stream_last = last,
        set_aside = %aside.display(),
        "stepped down: this writer's log holds decisions DOTPHA_DECISIONS does not (another writer took over and decided them its own way); nothing of them was answered. The log is set aside whole and rebuilt from the stream as a standby"
    );
    Ok(true)
}

/// Renames the log and its `-wal` and `-shm` to
/// `log.diverged-<stamp>.sqlite…` beside it, without opening it: the
/// write-ahead files first, so a crash in between never leaves a new log
/// beside the old log's write-ahead log.
fn set_aside(path: &Path, stamp: &str) -> Result<PathBuf, IngestError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let aside = dir.join(format!("log.diverged-{stamp}.sqlite"));
    let io = |path: &Path, source: std::io::Error| {
        IngestError::Store(StoreError::Io {
            path: path.display().to_string(),
            action: "setting aside the diverged log".to_owned(),
            source,
        })
    };
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        }
    }
    std::fs::rename(path, &aside).map_err(|e| io(path, e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))?;
    Ok(aside)
}
