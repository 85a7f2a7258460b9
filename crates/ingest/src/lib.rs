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

mod checkpoints;
mod cosignatures;
mod logfile;
mod metrics;
pub mod proofs;
mod receipts;
mod relay;
mod transparency;
mod writer;

use std::{
    fs::File,
    path::{Path, PathBuf},
    time::Duration,
};

use async_nats::jetstream;
use tokio::sync::watch;

pub use checkpoints::CHECKPOINT_INTERVAL;
pub use cosignatures::COSIGNATURES_READ;
pub use metrics::IngestMetrics;
pub use relay::{RELAY_BATCH, RELAY_CHECKPOINT};
pub use transparency::{Transparency, default_origin, log_key};
pub use writer::Fault;

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
}

/// What stops the write side.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Another writer holds the data directory.
    #[error(
        "another dotpha writer is running on {0} (its lock file is held); only one writer may own a log"
    )]
    Locked(String),
    /// The data directory cannot be used.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The log failed.
    #[error(transparent)]
    Store(#[from] dotpha_store::StoreError),
    /// NATS failed in a way waiting will not fix.
    #[error(transparent)]
    Bus(#[from] dotpha_bus::BusError),
    /// A blocking task died.
    #[error("internal task failed: {0}")]
    Task(String),
    /// The log's key or a witness's key cannot be used.
    #[error(transparent)]
    Key(#[from] transparency::KeyError),
}

/// The log file in a data directory.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("log.sqlite")
}

/// Takes the data directory's writer lock for as long as the returned file
/// lives: a second writer on the same log refuses to start.
pub fn lock_data_dir(data_dir: &Path) -> Result<File, IngestError> {
    let dir_error = |reason: String| IngestError::DataDir {
        path: data_dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(data_dir).map_err(|e| dir_error(format!("cannot create it: {e}")))?;
    let path = data_dir.join("writer.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| dir_error(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(IngestError::Locked(data_dir.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(dir_error(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// Runs the writer, the relay and the receipt service until `shutdown`
/// turns true; then finishes the batch in hand (commit, ack, receipts),
/// flushes, and returns.
pub async fn run(
    config: Config,
    metrics: IngestMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let _lock = lock_data_dir(&config.data_dir)?;
    let path = log_path(&config.data_dir);
    let ledger = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || dotpha_store::Ledger::open(path))
            .await
            .map_err(|e| IngestError::Task(e.to_string()))??
    };
    tracing::info!(log = %path.display(), head = ledger.log().head().position, "log opened");
    let (key, witnesses) = transparency::load(&config.data_dir, &config.transparency)?;
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-ingest", true).await?;
    let js = jetstream::new(connection.client.clone());
    retry_until(&shutdown, "setting up streams", || {
        dotpha_bus::ensure_streams(&js, config.replicas)
    })
    .await?;

    let (head_sender, head) = watch::channel(ledger.log().head().position);
    let relay = tokio::spawn(relay::run(
        js.clone(),
        path.clone(),
        head,
        metrics.clone(),
        shutdown.clone(),
    ));
    let receipts = tokio::spawn(receipts::serve(
        connection.client.clone(),
        path.clone(),
        shutdown.clone(),
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
        },
        shutdown.clone(),
    ));
    let proofs = tokio::spawn(proofs::serve(
        connection.client.clone(),
        logfile::SharedLog::new(path.clone(), false),
        shutdown.clone(),
    ));

    let (read_position, read_tag) = ledger.read_position_tag()?;
    let mut connects = connection.connects.clone();
    connects.mark_unchanged();
    let outcome = writer::run(writer::Writer {
        ledger: Some(ledger),
        read_position,
        read_tag,
        js,
        client: connection.client.clone(),
        head: head_sender,
        metrics,
        fault: config.fault,
        shutdown,
        connects,
    })
    .await;
    // The writer has stopped; the relay drains what it committed and the
    // checkpointer signs it.
    let _ = stop_checkpoints.send(true);
    let _ = relay.await;
    let _ = checkpoints.await;
    let _ = receipts.await;
    let _ = collector.await;
    let _ = proofs.await;
    let _ = connection.client.flush().await;
    outcome
}

/// Retries `attempt` with capped backoff until it succeeds or shutdown is
/// asked for (which returns the last error).
pub(crate) async fn retry_until<T, E, F, Fut>(
    shutdown: &watch::Receiver<bool>,
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
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}
