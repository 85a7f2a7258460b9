//! The relay: committed events, in log order, onto `DOTPHA_EVENTS`.
//!
//! Where it resumes is read from the stream itself (its last message's
//! `Nats-Msg-Id` is a position), so neither a crash nor a lost checkpoint
//! can make it skip or repeat; the checkpoint in the log records progress
//! for operators. Each publish also carries the stream sequence it expects
//! to follow, so the server refuses an event out of order instead of
//! storing it.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_bus::{
    lease::{LeaseError, LeaseGuard},
    subjects,
};
use dotpha_store::{Log, RecordedEvent};
use tokio::sync::watch;

use crate::{BACKOFF, IngestMetrics, MAX_BACKOFF, Part};

/// Events read from the log and published per round; all are in flight at
/// once, then their acks are awaited together.
pub const RELAY_BATCH: usize = 1024;
/// The log checkpoint recording the relay's progress.
pub const RELAY_CHECKPOINT: &str = "relay.position";

pub(crate) async fn run(
    js: jetstream::Context,
    path: PathBuf,
    head: watch::Receiver<u64>,
    metrics: IngestMetrics,
    lease: LeaseGuard,
    part: Part,
    shutdown: watch::Receiver<bool>,
) {
    if relay(js, path, head, metrics, lease, &part, shutdown).await {
        part.stopped();
    }
}

/// The relay's loop; true when it stopped because it was asked to.
async fn relay(
    js: jetstream::Context,
    path: PathBuf,
    mut head: watch::Receiver<u64>,
    metrics: IngestMetrics,
    mut lease: LeaseGuard,
    part: &Part,
    mut shutdown: watch::Receiver<bool>,
) -> bool {
    let log: Arc<Mutex<Option<Log>>> = Arc::new(Mutex::new(None));
    let mut delay = BACKOFF;
    'sync: loop {
        let last = match dotpha_bus::last_relayed(&js).await {
            Ok(last) => last,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "relay cannot read DOTPHA_EVENTS");
                part.retrying(format!("reading DOTPHA_EVENTS: {error}"));
                if sleep_or_stop(&mut shutdown, &mut delay).await {
                    return true;
                }
                continue;
            }
        };
        let (mut sequence, mut position) = (last.sequence, last.position);
        tracing::info!(position, "relay resuming after this position");
        part.running();
        // The stream's last event must be the log's event at that position
        // before anything is added after it: a log restored from a backup or
        // replaced holds other events there, and continuing would hand
        // subscribers a chain that does not link.
        let mut continues_the_log = last.hash.is_none();
        if position > *head.borrow() {
            tracing::warn!(
                relayed = position,
                log_head = *head.borrow(),
                "DOTPHA_EVENTS is ahead of the log; waiting for the log to reach it (after restoring a backup, delete the stream: dotpha restore does)"
            );
        }
        loop {
            let target = *head.borrow_and_update();
            metrics
                .relay_lag
                .set(target.saturating_sub(position) as i64);
            if !continues_the_log && target >= position {
                match same_event(&log, &path, position, last.hash.as_deref().unwrap_or("")).await {
                    Ok(()) => continues_the_log = true,
                    Err(problem) => {
                        tracing::error!(position, %problem, "relay stopped: DOTPHA_EVENTS does not continue this log");
                        part.retrying(format!(
                            "DOTPHA_EVENTS does not continue this log: {problem}"
                        ));
                        if sleep_or_stop(&mut shutdown, &mut delay).await {
                            return true;
                        }
                        continue 'sync;
                    }
                }
            }
            if position >= target {
                if *shutdown.borrow() {
                    return true;
                }
                tokio::select! {
                    _ = head.changed() => continue,
                    _ = shutdown.changed() => {
                        // Drain what the writer committed before stopping.
                        if position >= *head.borrow() { return true; }
                        continue;
                    }
                }
            }
            let events = match read(&log, &path, position + 1, RELAY_BATCH).await {
                Ok(events) if !events.is_empty() => events,
                Ok(_) => {
                    tracing::error!(
                        position,
                        target,
                        "the log has no event after the relayed position"
                    );
                    part.retrying(format!("the log has no event after position {position}"));
                    if sleep_or_stop(&mut shutdown, &mut delay).await {
                        return true;
                    }
                    continue 'sync;
                }
                Err(error) => {
                    tracing::warn!(%error, "relay cannot read the log");
                    part.retrying(format!("reading the log: {error}"));
                    if sleep_or_stop(&mut shutdown, &mut delay).await {
                        return true;
                    }
                    continue;
                }
            };
            // Events go out only under the writer's lease: a writer that lost
            // it must not add to the stream its successor continues.
            match lease.wait_valid(&mut shutdown).await {
                Ok(()) => {}
                Err(LeaseError::Stopped) => return true,
                Err(error) => {
                    tracing::error!(%error, "relay stopped: the writer's lease is gone");
                    part.failed(&error);
                    return false;
                }
            }
            match publish(&js, &events, sequence).await {
                Ok(()) => {
                    delay = BACKOFF;
                    part.running();
                    let last = events.last().map_or(position, |e| e.position);
                    sequence += events.len() as u64;
                    position = last;
                    metrics.relayed.inc_by(events.len() as u64);
                    if let Err(error) = checkpoint(&log, position).await {
                        tracing::warn!(%error, "relay checkpoint not recorded");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "relay publish failed; re-reading DOTPHA_EVENTS to resume exactly");
                    part.retrying(format!("publishing events: {error}"));
                    if sleep_or_stop(&mut shutdown, &mut delay).await {
                        return true;
                    }
                    continue 'sync;
                }
            }
        }
    }
}

/// Sleeps for the backoff; true when shutdown was asked for meanwhile.
async fn sleep_or_stop(
    shutdown: &mut watch::Receiver<bool>,
    delay: &mut std::time::Duration,
) -> bool {
    let stop = tokio::select! {
        _ = shutdown.changed() => true,
        _ = tokio::time::sleep(*delay) => *shutdown.borrow(),
    };
    *delay = (*delay * 2).min(MAX_BACKOFF);
    stop
}

/// Checks that the log's event at `position` has the hash the stream's
/// last event has.
async fn same_event(
    log: &Arc<Mutex<Option<Log>>>,
    path: &Path,
    position: u64,
    relayed: &str,
) -> Result<(), String> {
    let logged = read(log, path, position, 1).await?;
    match logged.first() {
        Some(event) if event.position == position && event.hash == relayed => Ok(()),
        Some(event) if event.position == position => Err(format!(
            "the stream holds hash {relayed} at position {position}, the log {}: the log was restored from a backup or replaced; run dotpha restore (it clears the stream) or delete DOTPHA_EVENTS, then rebuild the read models",
            event.hash
        )),
        _ => Err(format!("the log has no event at position {position}")),
    }
}

async fn read(
    log: &Arc<Mutex<Option<Log>>>,
    path: &Path,
    from: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, String> {
    let log = log.clone();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut guard = log.lock().map_err(|_| "relay reader panicked".to_owned())?;
        if guard.is_none() {
            // A writable handle: the relay records its checkpoint with it.
            *guard = Some(Log::open(&path).map_err(|e| e.to_string())?);
        }
        match guard.as_ref() {
            Some(log) => log.events_from(from, limit).map_err(|e| e.to_string()),
            None => Err("no log".to_owned()),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn checkpoint(log: &Arc<Mutex<Option<Log>>>, position: u64) -> Result<(), String> {
    let log = log.clone();
    tokio::task::spawn_blocking(move || {
        let guard = log.lock().map_err(|_| "relay reader panicked".to_owned())?;
        match guard.as_ref() {
            Some(log) => log
                .set_checkpoint(RELAY_CHECKPOINT, position)
                .map_err(|e| e.to_string()),
            None => Ok(()),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Publishes `events` with all acks in flight, each expecting the stream
/// sequence of the one before it; `after` is the stream's last sequence.
async fn publish(
    js: &jetstream::Context,
    events: &[RecordedEvent],
    after: u64,
) -> Result<(), String> {
    let mut acks = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let mut message = PublishMessage::build()
            .payload(body.into())
            .message_id(event.position.to_string());
        let expected = after + i as u64;
        if expected > 0 {
            message = message.expected_last_sequence(expected);
        }
        let ack = js
            .send_publish(subjects::event(&event.unit, &event.event_type), message)
            .await
            .map_err(|e| format!("publishing position {}: {e}", event.position))?;
        acks.push((event.position, ack));
    }
    for (position, ack) in acks {
        ack.await
            .map_err(|e| format!("position {position} not stored: {e}"))?;
    }
    Ok(())
}
