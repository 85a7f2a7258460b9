//! The checkpointer: signs a checkpoint of the log's Merkle tree within
//! [`CHECKPOINT_INTERVAL`] of any commit and at most once per interval,
//! records it in the log, and publishes it to `DOTPHA_CHECKPOINTS` on
//! `dotpha.v1.checkpoint` with `Nats-Msg-Id: <tree size>`.
//!
//! It reads the tree from the log file, up to the head the writer
//! announces once `DOTPHA_DECISIONS` holds it, so a crash between a commit
//! and its checkpoint loses nothing: at the next start the head is past
//! the latest checkpoint and it signs at once. Publishing
//! is retried until the broker holds the note; a restart publishes the
//! latest stored note again (the broker drops the repeat by its id).

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_bus::subjects::CHECKPOINT;
use dotpha_store::StoredCheckpoint;
use dotpha_tlog::{LogKey, tree::to_hex};
use tokio::{sync::watch, time::Instant};

use dotpha_host::SharedClock;

use crate::{BACKOFF, IngestMetrics, MAX_BACKOFF, logfile::SharedLog};

/// The least time between two checkpoints, and the most between a commit
/// and the checkpoint that covers it.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Signs the tree of the first `size` events, records the note and
/// returns it (or the latest stored one, when `size` is not past it).
/// `size` is the head the writer announced once `DOTPHA_DECISIONS` held
/// it, never the file's head: a batch committed locally but refused by
/// the stream (a writer fenced by a takeover) is never signed, so no
/// checkpoint shows a tree the new writer's log does not continue.
async fn sign(
    log: &SharedLog,
    key: &LogKey,
    clock: &SharedClock,
    size: u64,
) -> Result<StoredCheckpoint, String> {
    let key = key.clone();
    let signed_at = clock.now();
    log.call(move |log| {
        let root = log.tree_root(size)?;
        if let Some(latest) = log.latest_checkpoint()?
            && latest.tree_size >= size
        {
            return Ok(latest);
        }
        let note = key
            .sign(size, root)
            .map_err(|e| dotpha_store::StoreError::InvalidDecision {
                submission_id: String::new(),
                reason: format!("signing the checkpoint: {e}"),
            })?;
        let checkpoint = StoredCheckpoint {
            tree_size: size,
            root_hash: to_hex(&root),
            note,
            signed_at: signed_at.as_str().to_owned(),
        };
        log.record_checkpoint(&checkpoint)?;
        Ok(checkpoint)
    })
    .await
    .map_err(|e| e.to_string())
}

async fn publish(js: &jetstream::Context, checkpoint: &StoredCheckpoint) -> Result<(), String> {
    let message = PublishMessage::build()
        .payload(checkpoint.note.clone().into_bytes().into())
        .message_id(checkpoint.tree_size.to_string());
    js.send_publish(CHECKPOINT, message)
        .await
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Runs until `shutdown` turns true, which the caller does only once the
/// writer has stopped; then signs and publishes what is still uncovered.
pub(crate) async fn run(
    js: jetstream::Context,
    log: SharedLog,
    key: LogKey,
    mut head: watch::Receiver<u64>,
    metrics: IngestMetrics,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) {
    // The latest stored note goes out again first: it may not have reached
    // the broker before the last stop.
    let mut unpublished = match log.call(|log| log.latest_checkpoint()).await {
        Ok(latest) => latest,
        Err(error) => {
            tracing::error!(%error, "the checkpointer cannot read the log; no checkpoints will be signed");
            return;
        }
    };
    let mut signed = unpublished.as_ref().map(|c| c.tree_size);
    let mut last_signing: Option<Instant> = None;
    let mut delay = BACKOFF;
    loop {
        if let Some(checkpoint) = &unpublished {
            match publish(&js, checkpoint).await {
                Ok(()) => {
                    tracing::debug!(tree_size = checkpoint.tree_size, "checkpoint published");
                    unpublished = None;
                    delay = BACKOFF;
                }
                Err(error) => {
                    tracing::warn!(%error, tree_size = checkpoint.tree_size, retry_in = ?delay, "publishing a checkpoint failed");
                    tokio::select! {
                        _ = shutdown.changed() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        let target = *head.borrow_and_update();
        let stopping = *shutdown.borrow();
        if signed.is_none_or(|size| size < target) {
            // At most one checkpoint per interval; the first right away.
            if let Some(at) = last_signing
                && !stopping
            {
                let due = at + CHECKPOINT_INTERVAL;
                if Instant::now() < due {
                    tokio::select! {
                        _ = shutdown.changed() => {}
                        _ = tokio::time::sleep_until(due) => {}
                    }
                }
            }
            // The head may have moved while it waited for the interval.
            let target = *head.borrow_and_update();
            match sign(&log, &key, &clock, target).await {
                Ok(checkpoint) => {
                    last_signing = Some(Instant::now());
                    if signed != Some(checkpoint.tree_size) {
                        metrics.checkpoints_signed.inc();
                        metrics.checkpoint_size.set(checkpoint.tree_size as i64);
                        tracing::debug!(tree_size = checkpoint.tree_size, root = %checkpoint.root_hash, "checkpoint signed");
                    }
                    signed = Some(checkpoint.tree_size);
                    unpublished = Some(checkpoint);
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, retry_in = ?delay, "signing a checkpoint failed");
                    tokio::select! {
                        _ = shutdown.changed() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        if stopping {
            // Everything committed is signed and published.
            return;
        }
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    // The writer is gone: nothing more will be committed.
                    let _ = shutdown.wait_for(|stop| *stop).await;
                }
            }
            _ = shutdown.changed() => {}
        }
    }
}
