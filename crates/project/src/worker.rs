//! The worker loop: catch up from the log, follow `DOTPHA_EVENTS`.

use std::{path::PathBuf, time::Instant};

use async_nats::jetstream;
use dotpha_bus::{Flow, PullLoop, Puller, Setup, subjects::EVENTS_STREAM};
use dotpha_domain::wire::RecordedEvent;
use dotpha_host::DataDir;
use dotpha_store::Log;
use dotpha_views::{ReadModel, ViewError};
use tokio::sync::watch;

use crate::{
    Config, Health, MAX_BATCH, ProjectError, ProjectMetrics, catch_up, files, files_error,
    local_log,
};

/// Longest a batch waits for more messages after its first.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);
/// Pause after a NATS failure before trying again.
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);
/// The idle heartbeat a worker's pulls ask the server for. A pull lost in a
/// cluster's change of leaders (its node killed, the consumer moved) is
/// noticed after two missed heartbeats, 4 s, and pulled anew; without one
/// the worker sat idle until the pull expired (30 s) while events waited.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

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
    let _lock = DataDir::new(&config.data_dir).lock_worker(&config.name)?;
    let outcome = follow(&config, &metrics, &health, shutdown).await;
    if let Err(error) = &outcome {
        tracing::error!(%error, "projection worker stopped");
        health.fail(error.to_string());
    }
    outcome
}

/// How a worker pulls: batches of up to [`MAX_BATCH`] gathered for at most
/// [`LINGER`], [`HEARTBEAT`] while idle, [`BACKOFF`] between attempts.
const PULL: PullLoop = PullLoop {
    max_batch: MAX_BATCH,
    linger: LINGER,
    heartbeat: Some(HEARTBEAT),
    backoff: BACKOFF,
    max_backoff: BACKOFF,
};

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
    let mut follower = Follower {
        config,
        metrics,
        health,
        js,
        // One consumer per process: workers of the same name on other
        // hosts (each with its own read model) must not delete each
        // other's consumer, which this one does whenever it starts over.
        consumer_name: format!("dotpha-projector-{}-{}", config.name, nuid::next()),
        local: None,
        resumed_after_gap: None,
    };
    let outcome = PULL
        .run(&mut follower, connection.connects.clone(), shutdown)
        .await;
    // A clean stop leaves no consumer behind (a crash leaves one that the
    // server drops after `PROJECTOR_IDLE`).
    dotpha_bus::delete_projector_consumer(&follower.js, &follower.consumer_name).await;
    outcome
}

/// A worker's part of the pull loop: it opens its read model (catching up
/// from the log when it is here) at every start, and applies each batch.
struct Follower<'a> {
    config: &'a Config,
    metrics: &'a ProjectMetrics,
    health: &'a Health,
    js: jetstream::Context,
    consumer_name: String,
    /// The read model; `None` before the first start and while a blocking
    /// task applies a batch.
    local: Option<Local>,
    /// The position a gap was last met at, when the worker pulled anew
    /// because of it.
    resumed_after_gap: Option<u64>,
}

impl Puller for Follower<'_> {
    type Error = ProjectError;

    fn what(&self) -> &'static str {
        EVENTS_STREAM
    }

    /// Opens the current generation, catches up from the log if it is here,
    /// and follows the stream from the first event the read model lacks.
    async fn consumer(&mut self) -> Result<Setup, ProjectError> {
        self.local = None;
        let config = self.config.clone();
        let local = blocking(move || {
            let mut local = open_local(&config)?;
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
        self.metrics.applied.set(applied.position as i64);
        self.health.observe(applied.position, applied.position);
        tracing::info!(file = %local.file.display(), position = applied.position, "read model open");
        self.local = Some(local);
        match dotpha_bus::projector_consumer(
            &self.js,
            &self.consumer_name,
            applied.position,
            applied.stream_sequence,
        )
        .await
        {
            Ok(consumer) => Ok(Setup::Ready(Box::new(consumer))),
            Err(error) => Ok(Setup::Retry(format!(
                "cannot follow {EVENTS_STREAM} yet: {error}"
            ))),
        }
    }

    fn retrying(&mut self, why: &str) {
        self.health.retrying(why.to_owned());
    }

    async fn batch(&mut self, batch: Vec<jetstream::Message>) -> Result<Flow, ProjectError> {
        let mut events = Vec::with_capacity(batch.len());
        let mut last_sequence = None;
        for message in &batch {
            let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            let event: RecordedEvent =
                serde_json::from_slice(&message.payload).map_err(|e| ProjectError::NotAnEvent {
                    sequence,
                    reason: e.to_string(),
                })?;
            events.push(event);
            last_sequence = Some(sequence);
        }
        let Some(mut local) = self.local.take() else {
            return Ok(Flow::Restart);
        };
        // A rebuild may have swapped in a new generation meanwhile.
        let base = files::base_for(&self.config.name);
        let now_current = files::current(&self.config.data_dir, &base)
            .map_err(|e| files_error(&self.config.data_dir, e))?;
        if now_current != local.file {
            tracing::info!(file = %now_current.display(), "a rebuilt read model was swapped in; switching to it");
            return Ok(Flow::Restart);
        }
        let head = events.last().map(|e| e.position);
        let started = Instant::now();
        let (local, outcome) = blocking(move || {
            let outcome = apply_with_gaps(&mut local, &events, last_sequence);
            (local, outcome)
        })
        .await?;
        let position = local.read.applied().position;
        self.local = Some(local);
        let applied_now = match outcome {
            Err(ProjectError::View(ViewError::Gap { expected, found }))
                if self.resumed_after_gap != Some(expected) =>
            {
                // Messages lost on their way (their server died with them
                // in flight) leave a gap the stream does not have: pulling
                // anew from the read model fills it. Only a gap met again
                // from there is the stream's own.
                tracing::warn!(
                    expected,
                    found,
                    "gap on DOTPHA_EVENTS; pulling anew from the read model"
                );
                self.resumed_after_gap = Some(expected);
                return Ok(Flow::Restart);
            }
            other => other?,
        };
        self.metrics
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.events.inc_by(applied_now);
        if let Some(last) = batch.last()
            && let Err(error) = last.ack().await
        {
            tracing::warn!(%error, "ack failed; the events come back and are skipped");
        }
        let head = head.unwrap_or(position);
        self.metrics.applied.set(position as i64);
        self.metrics.lag.set(head.saturating_sub(position) as i64);
        self.health.observe(position, head);
        Ok(Flow::Next)
    }
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
