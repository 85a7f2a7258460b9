//! The standby writer (`dotpha ingest --standby`, issue 16, first step):
//! follows `DOTPHA_DECISIONS` into its own log, record by record, so its
//! log is the active writer's, byte for byte (same positions, hashes,
//! decisions including rejections, dead letters, read position). It takes
//! no lease and decides nothing; taking over is not built yet.

use async_nats::jetstream::{self, consumer::DeliverPolicy};
use dotpha_bus::subjects::{DECISION, DECISIONS_STREAM};
use dotpha_store::{BatchRecord, Log, REPLICA_SEQUENCE, StoreError};
use futures::StreamExt;
use tokio::sync::watch;

use crate::{BACKOFF, Config, DataDirLock, IngestError, MAX_BACKOFF, log_path, retry_until};

/// Runs a standby over `config.data_dir` until shutdown: follows
/// `DOTPHA_DECISIONS` from the record after the last one its log holds.
/// Stops with [`IngestError::Replica`] when a record does not extend its
/// log (another log's directory, or a diverged one).
pub async fn standby(
    config: Config,
    lock: DataDirLock,
    shutdown: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let part = config.health.part("standby");
    let path = log_path(&config.data_dir);
    let mut log = Some({
        let path = path.clone();
        tokio::task::spawn_blocking(move || Log::open(path))
            .await
            .map_err(|e| IngestError::Task(e.to_string()))??
    });
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
    let id: String = lock
        .writer_id()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let name = format!("dotpha-standby-{id}");
    let mut backoff = BACKOFF;
    let mut stop = shutdown.clone();
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let held = log
            .as_ref()
            .map(|l| l.checkpoint(REPLICA_SEQUENCE))
            .transpose()?
            .flatten()
            .unwrap_or(0);
        let following = follow(&js, &name, held, &mut log, &mut stop, &part).await;
        match following {
            Ok(()) => return Ok(()),
            Err(
                error @ (IngestError::Store(_) | IngestError::Replica(_) | IngestError::Task(_)),
            ) => {
                return Err(error);
            }
            Err(error) => {
                tracing::warn!(%error, "following DOTPHA_DECISIONS failed; starting again from the log's place");
                part.retrying(&error);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Follows the stream from `held + 1` until shutdown (`Ok`) or an error.
async fn follow(
    js: &jetstream::Context,
    name: &str,
    held: u64,
    log: &mut Option<Log>,
    stop: &mut watch::Receiver<bool>,
    part: &crate::Part,
) -> Result<(), IngestError> {
    let consumer = dotpha_bus::follower(
        js,
        DECISIONS_STREAM,
        DECISION,
        name,
        DeliverPolicy::ByStartSequence {
            start_sequence: held + 1,
        },
    )
    .await?;
    let mut messages = consumer.messages().await.map_err(|e| {
        IngestError::Bus(dotpha_bus::BusError::nats("following DOTPHA_DECISIONS", e))
    })?;
    tracing::info!(from = held + 1, "standby following DOTPHA_DECISIONS");
    part.running();
    loop {
        let message = tokio::select! {
            message = messages.next() => message,
            _ = stop.changed() => return Ok(()),
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
        let sequence = message
            .info()
            .map_err(|e| IngestError::Task(format!("a record without JetStream metadata: {e}")))?
            .stream_sequence;
        let record: BatchRecord = serde_json::from_slice(&message.payload).map_err(|e| {
            IngestError::Replica(format!(
                "record {sequence} of DOTPHA_DECISIONS cannot be read: {e}"
            ))
        })?;
        let mut handle = log
            .take()
            .ok_or_else(|| IngestError::Task("the standby's log was lost".to_owned()))?;
        let (handle, applied) = tokio::task::spawn_blocking(move || {
            let applied = handle.apply_record(&record, sequence);
            (handle, applied)
        })
        .await
        .map_err(|e| IngestError::Task(e.to_string()))?;
        let head = handle.head().clone();
        *log = Some(handle);
        match applied {
            Ok(()) => {}
            Err(StoreError::Diverged { reason, .. }) => {
                return Err(IngestError::Replica(format!(
                    "the standby's log cannot follow DOTPHA_DECISIONS: {reason}"
                )));
            }
            Err(error) => return Err(error.into()),
        }
        tracing::debug!(sequence, head = head.position, "applied a record");
        if let Err(error) = message.ack().await {
            tracing::debug!(%error, "ack of a record failed; the log keeps its own place");
        }
    }
}
