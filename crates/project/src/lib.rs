//! The projection worker: keeps a read model ([`dotpha_views::ReadModel`])
//! in step with the log.
//!
//! Beside the log (same data directory) it catches up straight from
//! `log.sqlite`, which is fastest, then follows `DOTPHA_EVENTS`. Every batch
//! commits with the position, hash and stream sequence it reached; a restart
//! resumes exactly there. A gap is filled from the log when there is one
//! and is otherwise an error; an event it cannot apply stops it with the
//! position. It never skips.
//!
//! [`rebuild`] writes a fresh generation of the read model from the log and
//! swaps it in atomically (see [`files`]); a running worker notices the swap
//! and continues on the new generation.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod alerts;
pub use dotpha_host::files;
mod health;
mod worker;

use std::path::{Path, PathBuf};

use dotpha_store::{EventRows, Log};
use dotpha_views::{Decoded, ReadModel, ViewError, query::HistoryEvent};
use serde_json::value::RawValue;

pub use health::{Health, HealthReport, ProjectMetrics, STUCK_LIMIT};
pub use worker::run;

/// Events read from the log per transaction when catching up.
pub const CATCH_UP_BATCH: usize = 4096;

/// How a catch-up reads the log and applies it: a second thread reads and
/// decodes the log's rows a part at a time, up to `ahead` parts before the
/// one being applied, and `parts` parts are applied in one transaction.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    /// Events read and decoded at a time.
    pub part: usize,
    /// Parts applied in one transaction.
    pub parts: usize,
    /// Parts read and waiting, besides the one being read and the one
    /// being applied.
    pub ahead: usize,
}

/// A catch-up: each part its own transaction, and the reader hands a part
/// over when the applier takes the next one, which keeps both threads
/// busy.
const CATCH_UP: Batching = Batching {
    part: CATCH_UP_BATCH,
    parts: 1,
    ahead: 0,
};

/// Events a rebuild reads and decodes at a time, on the reader thread.
pub const REBUILD_PART: usize = 16_384;
/// Events per transaction in a rebuild, which writes a file nobody reads
/// yet: [`REBUILD_PART`]s applied in turn. What a transaction writes once
/// per task (the columns its reports change, its search texts) and the
/// pages its commit writes again shrink with fewer, larger transactions.
/// What it keeps until its end is the rows of its reports and task
/// events, about 100 bytes a report (BENCHMARKS.md, issue 15).
pub const REBUILD_BATCH: usize = 16 * REBUILD_PART;
/// A rebuild: while a transaction ends (its rows written, its commit), the
/// reader reads on, up to six parts ahead. Eight parts are in memory at
/// most, about 1 KB an event: 131,072 events, as many as the two batches
/// of 65,536 that a rebuild held when each was its own transaction (at a
/// million events the process peaked at 293 MB then and 301-308 MB now;
/// two batches of 131,072 took 541 MB). A rebuild runs in `dotpha up` on a
/// small machine too.
const REBUILD: Batching = Batching {
    part: REBUILD_PART,
    parts: REBUILD_BATCH / REBUILD_PART,
    ahead: 6,
};
/// Most stream messages applied in one transaction.
pub const MAX_BATCH: usize = 1024;

/// How to run a worker.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (read model; and the log, when it is here).
    pub data_dir: PathBuf,
    /// NATS server URL(s).
    pub nats_url: String,
    /// The worker's name: its durable consumer is `dotpha-projector-<name>`
    /// and its read model `read.sqlite` for `main`, `read-<name>.sqlite`
    /// otherwise.
    pub name: String,
    /// What time it is: the day reminders are judged on.
    pub clock: dotpha_host::SharedClock,
}

/// What stops a worker or a rebuild.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The read model refused the events (gap without a log to fill it,
    /// another log's events, an event this build cannot apply).
    #[error(transparent)]
    View(#[from] ViewError),
    /// The log failed.
    #[error(transparent)]
    Store(#[from] dotpha_store::StoreError),
    /// NATS failed in a way waiting will not fix.
    #[error(transparent)]
    Bus(#[from] dotpha_bus::BusError),
    /// A message on `DOTPHA_EVENTS` is not an event object.
    #[error("message {sequence} of DOTPHA_EVENTS is not an event: {reason}")]
    NotAnEvent {
        /// Its stream sequence.
        sequence: u64,
        /// Why.
        reason: String,
    },
    /// The data directory cannot be used.
    #[error("{path}: {reason}")]
    Files {
        /// Which file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The worker's name cannot name a consumer and a file.
    #[error("worker name {0:?} must be a slug (lowercase letters, digits, '-')")]
    BadName(String),
    /// The data directory cannot be used, or another worker with this
    /// name runs on it ([`dotpha_host::DataDirErrorKind::Locked`]).
    #[error(transparent)]
    DataDir(#[from] dotpha_host::DataDirError),
    /// A blocking task died.
    #[error("internal task failed: {0}")]
    Task(String),
    /// Part of a task's history is in the log beside the read model, and
    /// that log is not there or no longer holds what the read model applied.
    #[error("the history of task {task} is in the log beside the read model, which {reason}")]
    HistoryNotInLog {
        /// The task.
        task: String,
        /// What is wrong with the log.
        reason: String,
    },
}

fn files_error(path: &Path, e: std::io::Error) -> ProjectError {
    ProjectError::Files {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The log beside the read model, when there is one.
pub(crate) fn local_log(data_dir: &Path) -> Result<Option<Log>, ProjectError> {
    let path = dotpha_host::DataDir::new(data_dir).log_path();
    if !path.exists() {
        return Ok(None);
    }
    // A writer starting beside us may be creating the file right now; give
    // it a moment before calling the file foreign.
    let deadline = std::time::Instant::now() + LOG_CREATION_GRACE;
    loop {
        match Log::open_read_only(&path) {
            Ok(log) => return Ok(Some(log)),
            // A log file the writer created but has not yet written to.
            Err(dotpha_store::StoreError::EmptyLog { .. }) => {
                return Ok(None);
            }
            Err(dotpha_store::StoreError::NotALog { .. })
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long a log file that does not (yet) read as a log is given to become
/// one: the time a starting writer needs to create its schema.
const LOG_CREATION_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The hash of the log's first event, if it has one.
pub(crate) fn log_genesis(log: &Log) -> Result<Option<String>, ProjectError> {
    Ok(log.events_from(1, 1)?.into_iter().next().map(|e| e.hash))
}

/// Applies the log's events after the read model's position, in batches,
/// calling `progress(applied, head)` after each. Returns how many it applied.
pub fn catch_up(
    read: &mut ReadModel,
    log: &Log,
    progress: impl FnMut(u64, u64),
) -> Result<u64, ProjectError> {
    catch_up_in(read, log, CATCH_UP, progress)
}

/// [`catch_up`] as `batching` says: for [`rebuild`] and for tests, whose
/// logs fit in one batch of [`CATCH_UP_BATCH`] and would not cross a
/// batch's end. `progress` is called after each transaction. An error
/// rolls back the transaction it happened in; those before it stay.
#[doc(hidden)]
pub fn catch_up_in(
    read: &mut ReadModel,
    log: &Log,
    batching: Batching,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, ProjectError> {
    // A part of no events would read nothing, and a transaction of no
    // parts would never end.
    let (part, parts) = (batching.part.max(1), batching.parts.max(1));
    if let Some(genesis) = log_genesis(log)? {
        read.check_genesis(&genesis)?;
    }
    let head = log.current_head()?.position;
    let from = read.applied().position + 1;
    if from > head {
        return Ok(0);
    }
    // Reading the rows and decoding them is about a third of a rebuild
    // (BENCHMARKS.md, issue 15): a second handle on the log does both on
    // its own thread while this one applies the part before. Each part
    // goes back to the reader, which frees its events and fills its rows
    // again: memory freed by another thread than the one that took it
    // costs glibc's allocator more than the reading did.
    let reader = Log::open_read_only(log.path())?;
    let (sender, batches) = std::sync::mpsc::sync_channel(batching.ahead);
    let mut applied = 0;
    std::thread::scope(|scope| {
        let (spent, refill) = std::sync::mpsc::channel();
        scope.spawn(move || read_ahead(&reader, from, head, part, &sender, &refill));
        let mut batches = batches.into_iter();
        // A transaction begins with a part in hand: none is left open
        // waiting for the reader, nor begun after the last.
        while let Some(first) = batches.next() {
            let mut read_batch: ReadBatch = first?;
            let mut span = read.span(true)?;
            let mut taken = 0;
            let failed = loop {
                taken += 1;
                let decoded: Vec<Decoded<'_>> = read_batch
                    .rows
                    .iter()
                    .zip(&read_batch.events)
                    .map(|(row, event)| {
                        Decoded::from_log(
                            row.position,
                            row.prev_hash,
                            row.hash,
                            row.occurred_at,
                            event,
                        )
                    })
                    .collect();
                let (more, count) = span.apply(&decoded)?;
                span = more;
                applied += count as u64;
                drop(decoded);
                let failed = read_batch.failed.take();
                // The reader may have stopped (an error it sent).
                let _ = spent.send(read_batch);
                if failed.is_some() || taken == parts {
                    break failed;
                }
                match batches.next() {
                    Some(next) => read_batch = next?,
                    None => break None,
                }
            };
            span.commit(None)?;
            progress(read.applied().position, head);
            // The events before one that cannot be read are applied, so
            // the error is the one applying them in turn would give.
            if let Some(e) = failed {
                return Err(e.into());
            }
        }
        Ok::<(), ProjectError>(())
    })?;
    if applied > 0 {
        read.optimize()?;
    }
    Ok(applied)
}

/// A batch as the reader thread hands it over: its rows, the events
/// decoded from them, in order, and the error of the row after the last
/// event, when that row could not be decoded.
#[derive(Default)]
struct ReadBatch {
    rows: EventRows,
    events: Vec<dotpha_domain::Event>,
    failed: Option<ViewError>,
}

/// Reads the log's events from position `from` until it has read `head`,
/// `batch` at a time, decodes them and sends each batch, filling again
/// those given back (`spent`, whose events it frees); stops at the first
/// error, which it sends, or when nobody receives any more.
fn read_ahead(
    log: &Log,
    mut from: u64,
    head: u64,
    batch: usize,
    sender: &std::sync::mpsc::SyncSender<Result<ReadBatch, ProjectError>>,
    spent: &std::sync::mpsc::Receiver<ReadBatch>,
) {
    while from <= head {
        let mut next = spent.try_recv().unwrap_or_default();
        next.events.clear();
        next.failed = None;
        if let Err(e) = log.read_rows(from, batch, &mut next.rows) {
            let _ = sender.send(Err(e.into()));
            return;
        }
        let Some(last) = next.rows.last_position() else {
            return;
        };
        from = last + 1;
        for row in next.rows.iter() {
            match row.decode() {
                Ok(event) => next.events.push(event),
                Err(e) => {
                    next.failed = Some(ViewError::Undecodable {
                        position: row.position,
                        reason: e.to_string(),
                    });
                    break;
                }
            }
        }
        let stop = next.failed.is_some();
        if sender.send(Ok(next)).is_err() || stop {
            return;
        }
    }
}

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebuilt {
    /// The new generation's file.
    pub file: PathBuf,
    /// Events applied.
    pub events: u64,
}

/// Builds a fresh read model from the log into a new generation and swaps it
/// in atomically; readers of the old generation keep reading it. The
/// `progress` callback sees (applied, head) after each batch.
pub fn rebuild(
    data_dir: &Path,
    name: &str,
    progress: impl FnMut(u64, u64),
) -> Result<Rebuilt, ProjectError> {
    let base = files::base_for(name);
    let log = local_log(data_dir)?.ok_or_else(|| ProjectError::Files {
        path: dotpha_host::DataDir::new(data_dir)
            .log_path()
            .display()
            .to_string(),
        reason: "no log to rebuild from".to_owned(),
    })?;
    let generation =
        files::next_generation(data_dir, &base).map_err(|e| files_error(data_dir, e))?;
    let file_name = files::generation_name(&base, generation);
    let file = data_dir.join(&file_name);
    let mut read = ReadModel::open_for_rebuild(&file)?;
    let events = catch_up_in(&mut read, &log, REBUILD, progress)?;
    read.finish_rebuild()?;
    drop(read);
    files::swap(data_dir, &base, &file_name).map_err(|e| files_error(&file, e))?;
    files::prune(data_dir, &base, generation).map_err(|e| files_error(data_dir, e))?;
    Ok(Rebuilt { file, events })
}

/// A task's events, oldest first, as the log holds them (what `GET
/// /api/v1/tasks/{id}/history` lists): the objects the read model keeps
/// (events from the stream), and those it applied from the log beside it
/// read by position from the log at `log` (opened only then, read-only;
/// `None` when there is none). The log must still hold the last event the
/// read model applied from it, with the same hash ([`ReadModel::logged`]):
/// by the hash chain it then holds every earlier event as applied (a log
/// restored from an older backup, or another log, does not, and is
/// refused rather than read).
pub fn history(
    read: &ReadModel,
    log: Option<&Path>,
    task_id: &str,
) -> Result<Option<Vec<Box<RawValue>>>, ProjectError> {
    let Some(events) = read.history(task_id)? else {
        return Ok(None);
    };
    let refused = |reason: String| ProjectError::HistoryNotInLog {
        task: task_id.to_owned(),
        reason,
    };
    let in_log = events
        .iter()
        .any(|event| matches!(event, HistoryEvent::InLog(_)));
    let log = match log.filter(|path| path.exists()) {
        _ if !in_log => None,
        None => return Err(refused("is not there".to_owned())),
        Some(path) => {
            let log = Log::open_read_only(path)?;
            let Some((position, hash)) = read.logged()? else {
                return Err(refused("was never read".to_owned()));
            };
            let last = log.events_from(position, 1)?.into_iter().next();
            if !last.is_some_and(|e| e.position == position && e.hash == hash) {
                return Err(refused(format!(
                    "does not hold the last event read from it (position {position}, hash {hash}): rebuild the read model"
                )));
            }
            Some(log)
        }
    };
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let position = match event {
            HistoryEvent::Kept(object) => {
                out.push(object);
                continue;
            }
            HistoryEvent::InLog(position) => position,
        };
        let recorded = match &log {
            Some(log) => log
                .events_from(position, 1)?
                .into_iter()
                .next()
                .filter(|e| e.position == position),
            None => None,
        };
        let Some(recorded) = recorded else {
            return Err(refused(format!("has no event at position {position}")));
        };
        let text = serde_json::to_string(&recorded)
            .map_err(|e| refused(format!("gave an event that does not serialize: {e}")))?;
        out.push(RawValue::from_string(text).map_err(|e| refused(e.to_string()))?);
    }
    Ok(Some(out))
}

/// Opens the worker's current read model for queries.
pub fn open_for_reading(data_dir: &Path, name: &str) -> Result<ReadModel, ProjectError> {
    let base = files::base_for(name);
    let file = files::current(data_dir, &base).map_err(|e| files_error(data_dir, e))?;
    Ok(ReadModel::open_read_only(file)?)
}
