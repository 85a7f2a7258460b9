//! The worker loop: catch up from the log, follow `DOTPHA_EVENTS`.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, pull},
};
use dotpha_bus::subjects::{EVENTS_STREAM, EVENTS_SUBJECTS};
use dotpha_domain::wire::RecordedEvent;
use dotpha_store::Log;
use dotpha_views::{ReadModel, ViewError};
use futures::StreamExt;
use tokio::sync::watch;

use crate::{
    Config, Health, MAX_BATCH, ProjectError, ProjectMetrics, catch_up, files, files_error,
    local_log,
};

/// Longest a batch waits for more messages after its first.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);
/// Pause after a NATS failure before trying again.
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

/// What the blocking side owns: the read model and, when it is here, the log.
struct Local {
    read: ReadModel,
    file: PathBuf,
    log: Option<Log>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ProjectError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ProjectError::Task(e.to_string()))
}

fn open_local(config: &Config) -> Result<Local, ProjectError> {
    let base = files::base_for(&config.name);
    let file =
        files::current(&config.data_dir, &base).map_err(|e| files_error(&config.data_dir, e))?;
    let read = ReadModel::open(&file)?;
    let log = local_log(&config.data_dir)?;
    Ok(Local { read, file, log })
}

/// Takes `DIR/project-<name>.lock` for as long as the returned file lives:
/// two workers with one name on one data directory would write one read
/// model.
fn lock_worker(config: &Config) -> Result<std::fs::File, ProjectError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| files_error(&config.data_dir, e))?;
    let path = config
        .data_dir
        .join(format!("project-{}.lock", config.name));
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| files_error(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ProjectError::Locked {
            path: config.data_dir.display().to_string(),
            name: config.name.clone(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(files_error(&path, e)),
    }
}

/// Aborts a task when dropped: a part that lives exactly as long as the
/// scope that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the worker until `shutdown` turns true or an event cannot be applied.
pub async fn run(
    config: Config,
    metrics: ProjectMetrics,
    health: Health,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectError> {
    if dotpha_domain::Slug::parse(&config.name).is_none() {
        return Err(ProjectError::BadName(config.name));
    }
    let _lock = lock_worker(&config)?;
    let outcome = follow(&config, &metrics, &health, shutdown).await;
    if let Err(error) = &outcome {
        tracing::error!(%error, "projection worker stopped");
        health.fail(error.to_string());
    }
    outcome
}

async fn follow(
    config: &Config,
    metrics: &ProjectMetrics,
    health: &Health,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectError> {
    // Say what is at the URL while waiting, instead of retrying silently.
    if let Err(error) = dotpha_bus::wait_for_nats(&config.nats_url, &mut shutdown).await {
        if *shutdown.borrow() {
            return Ok(());
        }
        return Err(error.into());
    }
    let connection = dotpha_bus::connect(
        &config.nats_url,
        &format!("dotpha-projector-{}", config.name),
        true,
    )
    .await?;
    let js = jetstream::new(connection.client.clone());
    // Reminders are published from what this worker applied; they stop
    // with it.
    let _alerts = AbortOnDrop(tokio::spawn(crate::alerts::run(
        js.clone(),
        config.clone(),
        health.clone(),
        shutdown.clone(),
    )));
    let mut connects = connection.connects.clone();
    connects.mark_unchanged();
    // One consumer per process: workers of the same name on other hosts
    // (each with its own read model) must not delete each other's consumer,
    // which this one does whenever it starts over. A consumer left by a
    // process that died goes away by itself (`CONSUMER_IDLE`).
    let consumer_name = format!("dotpha-projector-{}-{}", config.name, nuid::next());
    // The position a gap was last met at, when the worker pulled anew
    // because of it.
    let mut resumed_after_gap: Option<u64> = None;
    let outcome: Result<(), ProjectError> = async {
        'restart: loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // Open the current generation and catch up from the log if it is here.
            let config_copy = config.clone();
            let mut local = blocking(move || {
                let mut local = open_local(&config_copy)?;
                if let Some(log) = &local.log {
                    let started = Instant::now();
                    let applied = catch_up(&mut local.read, log, |_, _| {})?;
                    if applied > 0 {
                        tracing::info!(
                            applied,
                            seconds = started.elapsed().as_secs_f64(),
                            "caught up from the log"
                        );
                    }
                }
                Ok::<_, ProjectError>(local)
            })
            .await??;
            let applied = local.read.applied().clone();
            metrics.applied.set(applied.position as i64);
            health.observe(applied.position, applied.position);
            tracing::info!(file = %local.file.display(), position = applied.position, "read model open");

            // Where on the stream the next event is.
            let start = match start_sequence(&js, &applied).await {
                Ok(s) => s,
                Err(error) => {
                    tracing::warn!(%error, "cannot read DOTPHA_EVENTS yet; retrying");
                    health.retrying(format!("cannot read DOTPHA_EVENTS yet: {error}"));
                    pause(&mut shutdown).await;
                    continue 'restart;
                }
            };
            let consumer = match make_consumer(&js, &consumer_name, start).await {
                Ok(c) => c,
                Err(error) => {
                    tracing::warn!(%error, "cannot create the projection consumer; retrying");
                    health.retrying(format!("cannot create the projection consumer: {error}"));
                    pause(&mut shutdown).await;
                    continue 'restart;
                }
            };
            let mut messages = match consumer
                .stream()
                .max_messages_per_batch(MAX_BATCH)
                .messages()
                .await
            {
                Ok(m) => m,
                Err(error) => {
                    tracing::warn!(%error, "cannot follow DOTPHA_EVENTS; retrying");
                    health.retrying(format!("cannot follow DOTPHA_EVENTS: {error}"));
                    pause(&mut shutdown).await;
                    continue 'restart;
                }
            };
            loop {
                let first = tokio::select! {
                    biased;
                    _ = shutdown.changed() => return Ok(()),
                    Ok(()) = connects.changed() => {
                        if *connects.borrow_and_update() <= 1 {
                            // The first connection's event, come late.
                            continue;
                        }
                        // Reconnected, possibly to another server of a cluster
                        // after its own died: a pull left pending there may
                        // hang without an error, and what it had in flight is
                        // lost. Pull anew from what the read model committed.
                        tracing::warn!("NATS reconnected; pulling anew from the read model");
                        continue 'restart;
                    }
                    next = messages.next() => next,
                };
                let first = match first {
                    Some(Ok(m)) => m,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "following DOTPHA_EVENTS failed; resuming from the read model");
                    health.retrying(format!("following DOTPHA_EVENTS failed: {error}"));
                        pause(&mut shutdown).await;
                        continue 'restart;
                    }
                    None => continue 'restart,
                };
                let mut batch = vec![first];
                let deadline = tokio::time::Instant::now() + LINGER;
                while batch.len() < MAX_BATCH {
                    match tokio::time::timeout_at(deadline, messages.next()).await {
                        Ok(Some(Ok(m))) => batch.push(m),
                        _ => break,
                    }
                }
                let mut events = Vec::with_capacity(batch.len());
                let mut last_sequence = None;
                for message in &batch {
                    let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                    let event: RecordedEvent =
                        serde_json::from_slice(&message.payload).map_err(|e| {
                            ProjectError::NotAnEvent {
                                sequence,
                                reason: e.to_string(),
                            }
                        })?;
                    events.push(event);
                    last_sequence = Some(sequence);
                }
                // A rebuild may have swapped in a new generation meanwhile.
                let base = files::base_for(&config.name);
                let now_current = files::current(&config.data_dir, &base)
                    .map_err(|e| files_error(&config.data_dir, e))?;
                if now_current != local.file {
                    tracing::info!(file = %now_current.display(), "a rebuilt read model was swapped in; switching to it");
                    continue 'restart;
                }
                let started = Instant::now();
                let (returned, outcome) = blocking(move || {
                    let outcome = apply_with_gaps(&mut local, &events, last_sequence);
                    (local, outcome)
                })
                .await?;
                local = returned;
                let applied_now = match outcome {
                    Err(ProjectError::View(ViewError::Gap { expected, found }))
                        if resumed_after_gap != Some(expected) =>
                    {
                        // Messages lost on their way (their server died with
                        // them in flight) leave a gap the stream does not have:
                        // pulling anew from the read model fills it. Only a gap
                        // met again from there is the stream's own.
                        tracing::warn!(
                            expected,
                            found,
                            "gap on DOTPHA_EVENTS; pulling anew from the read model"
                        );
                        resumed_after_gap = Some(expected);
                        continue 'restart;
                    }
                    other => other?,
                };
                metrics
                    .batch_seconds
                    .observe(started.elapsed().as_secs_f64());
                metrics.events.inc_by(applied_now);
                if let Some(last) = batch.last()
                    && let Err(error) = last.ack().await
                {
                    tracing::warn!(%error, "ack failed; the events come back and are skipped");
                }
                let position = local.read.applied().position;
                let head = batch
                    .last()
                    .and_then(|m| serde_json::from_slice::<RecordedEvent>(&m.payload).ok())
                    .map_or(position, |e| e.position);
                metrics.applied.set(position as i64);
                metrics.lag.set(head.saturating_sub(position) as i64);
                health.observe(position, head);
            }
        }
    }
    .await;
    // A clean stop leaves no consumer behind (a crash leaves one that the
    // server drops after `CONSUMER_IDLE`).
    if let Ok(stream) = js.get_stream(EVENTS_STREAM).await {
        let _ = stream.delete_consumer(&consumer_name).await;
    }
    outcome
}

/// Applies a batch from the stream; a gap before it is filled from the log
/// when the log is here, and is an error otherwise (which the caller believes
/// only once pulling anew from the read model meets it again).
fn apply_with_gaps(
    local: &mut Local,
    events: &[RecordedEvent],
    sequence: Option<u64>,
) -> Result<u64, ProjectError> {
    match local.read.apply(events, sequence) {
        Ok(n) => Ok(n as u64),
        Err(ViewError::Gap { expected, found }) => {
            let Some(log) = &local.log else {
                return Err(ViewError::Gap { expected, found }.into());
            };
            tracing::warn!(
                expected,
                found,
                "gap on DOTPHA_EVENTS; filling it from the log"
            );
            let filled = catch_up(&mut local.read, log, |_, _| {})?;
            Ok(filled + local.read.apply(events, sequence)? as u64)
        }
        Err(e) => Err(e.into()),
    }
}

/// The stream sequence of the first event the read model lacks.
async fn start_sequence(
    js: &jetstream::Context,
    applied: &dotpha_views::Applied,
) -> Result<u64, ProjectError> {
    if let Some(sequence) = applied.stream_sequence {
        return Ok(sequence + 1);
    }
    // The relay publishes position p at sequence p + offset; the stream's
    // last message gives the offset.
    let last = dotpha_bus::last_relayed(js).await?;
    let (last_sequence, last_position) = (last.sequence, last.position);
    if applied.position >= last_position {
        return Ok(last_sequence + 1);
    }
    Ok(last_sequence
        .saturating_sub(last_position - (applied.position + 1))
        .max(1))
}

/// How long the server keeps a projection consumer nobody pulls from (its
/// worker died without deleting it).
const CONSUMER_IDLE: Duration = Duration::from_secs(300);

async fn make_consumer(
    js: &jetstream::Context,
    name: &str,
    start_sequence: u64,
) -> Result<jetstream::consumer::PullConsumer, ProjectError> {
    let stream = js
        .get_stream(EVENTS_STREAM)
        .await
        .map_err(|e| dotpha_bus::BusError::Nats(format!("{EVENTS_STREAM}: {e}")))?;
    // The read model, not the broker, knows where it stopped (it commits its
    // stream sequence with each batch), so the consumer starts there anew.
    let _ = stream.delete_consumer(name).await;
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            description: Some("dotpha: a projection worker".to_owned()),
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence },
            ack_policy: AckPolicy::All,
            filter_subject: EVENTS_SUBJECTS.to_owned(),
            max_ack_pending: 4096,
            inactive_threshold: CONSUMER_IDLE,
            ..Default::default()
        })
        .await
        .map_err(|e| dotpha_bus::BusError::Nats(format!("creating consumer {name}: {e}")))?;
    Ok(consumer)
}

async fn pause(shutdown: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = shutdown.changed() => {}
        _ = tokio::time::sleep(BACKOFF) => {}
    }
}
