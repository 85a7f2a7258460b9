//! dotpha's read models: what leaders, clerks and inspectors read, built
//! from the log's events and always traceable to a log position.
//!
//! - [`ReadModel`]: one SQLite file (`read.sqlite`); [`ReadModel::apply`]
//!   folds a batch of events in one transaction together with the position
//!   and hash it reached, so a crash never applies half a batch or an event
//!   twice.
//! - [`query`]: the questions the HTTP API asks (task lists, one task, a
//!   unit's roll-up, a cycle's dashboard, a task's history), judged at a
//!   given instant in Asia/Ho_Chi_Minh.
//! - [`evaluation`]: evaluation by period (CONTRACT part A): periods, each
//!   cadre's assessment with its products, the excellent quota per
//!   evaluating body and peer group; every figure from
//!   `dotpha_domain::evaluation`.
//!
//! Invariants: events are applied in log order without gaps (a gap is an
//! error, never skipped); each event's `prev_hash` equals the hash of the
//! last applied one, so a read database cannot silently mix two logs; an
//! event this build cannot read stops the worker with its position.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod apply;
pub mod counts;
pub mod evaluation;
pub mod query;
pub mod reminders;
mod schema;
mod upgrade;

use std::{cell::RefCell, path::Path, sync::Arc};

use dotpha_domain::{
    Event,
    wire::{GENESIS_HASH, RecordedEvent},
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use schema::SCHEMA_VERSION;

/// What can go wrong with a read model.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The events skip a position.
    #[error("gap in the events: expected position {expected}, got {found}")]
    Gap {
        /// The next position the read model needs.
        expected: u64,
        /// The position that came instead.
        found: u64,
    },
    /// The events do not continue the chain this read model has applied.
    #[error("{path} was built from another log: {reason}")]
    Foreign {
        /// The read database.
        path: String,
        /// What differs.
        reason: String,
    },
    /// An event this build cannot apply (a newer writer's type, or corrupt).
    #[error("cannot apply the event at position {position}: {reason}")]
    Undecodable {
        /// Its position.
        position: u64,
        /// Why.
        reason: String,
    },
    /// The file is not a read model of this version.
    #[error("{path} is not a dotpha read model of version {SCHEMA_VERSION}: {reason}")]
    NotAReadModel {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A read model of another schema version: rebuild it.
    #[error(
        "{path} is a read model of schema version {found}, this build writes {SCHEMA_VERSION}: rebuild it"
    )]
    OtherVersion {
        /// The file.
        path: String,
        /// Its version.
        found: i32,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// How far a read model has applied the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Position of the last applied event (0 when none).
    pub position: u64,
    /// Its hash.
    pub hash: String,
    /// Hash of the log's first event, once applied: names the log.
    pub genesis: Option<String>,
    /// The `DOTPHA_EVENTS` sequence of the last applied event, when it came
    /// from the stream.
    pub stream_sequence: Option<u64>,
}

/// An event of the log, decoded, for applying
/// ([`Span::apply`]): the event and what applying reads of
/// its record, borrowed from where it was read.
#[derive(Debug)]
pub struct Decoded<'a> {
    position: u64,
    prev_hash: &'a str,
    hash: &'a str,
    /// As the publisher wrote it (a plan's `submitted_at`, the shown
    /// report's `occurred_at`, an assessment's `decided_at`).
    occurred_at: &'a str,
    event: std::borrow::Cow<'a, Event>,
    /// The object as the log holds it, kept in `task_events` for a task
    /// event from the stream; `None` for one applied from the log beside.
    object: Option<String>,
}

impl<'a> Decoded<'a> {
    /// The event at `position` of the log beside the read model, whose
    /// object stays there ([`ReadModel::apply_logged`]): `event` is what the
    /// log's decoder ([`dotpha_domain::wire::decode_event`]) made of the
    /// record with these `prev_hash`, `hash` and `occurred_at`.
    pub fn from_log(
        position: u64,
        prev_hash: &'a str,
        hash: &'a str,
        occurred_at: &'a str,
        event: &'a Event,
    ) -> Decoded<'a> {
        Decoded {
            position,
            prev_hash,
            hash,
            occurred_at,
            event: std::borrow::Cow::Borrowed(event),
            object: None,
        }
    }

    /// Decodes `recorded`, from the stream (`keep`: a task event's object
    /// is kept) or the log beside.
    fn new(recorded: &'a RecordedEvent, keep: bool) -> Result<Decoded<'a>, ViewError> {
        let event = recorded.decode().map_err(|e| ViewError::Undecodable {
            position: recorded.position,
            reason: e.to_string(),
        })?;
        let object = match event.payload.task_id() {
            Some(_) if keep => {
                Some(
                    serde_json::to_string(recorded).map_err(|e| ViewError::Undecodable {
                        position: recorded.position,
                        reason: e.to_string(),
                    })?,
                )
            }
            _ => None,
        };
        Ok(Decoded {
            position: recorded.position,
            prev_hash: &recorded.prev_hash,
            hash: &recorded.hash,
            occurred_at: &recorded.occurred_at,
            event: std::borrow::Cow::Owned(event),
            object,
        })
    }
}

/// The rule of a batch's order: each event not yet applied is the next
/// position and follows the hash of the one before.
struct Chain {
    position: u64,
    hash: String,
}

impl Chain {
    fn from(applied: &Applied) -> Chain {
        Chain {
            position: applied.position,
            hash: applied.hash.clone(),
        }
    }

    /// Whether the event at `position`, following `prev_hash`, is the next
    /// to apply (`false`: applied already); an error when it leaves a gap
    /// or follows another hash than the last one's.
    fn follows(
        &mut self,
        path: &str,
        position: u64,
        prev_hash: &str,
        hash: &str,
    ) -> Result<bool, ViewError> {
        if position <= self.position {
            return Ok(false);
        }
        if position != self.position + 1 {
            return Err(ViewError::Gap {
                expected: self.position + 1,
                found: position,
            });
        }
        if prev_hash != self.hash {
            return Err(ViewError::Foreign {
                path: path.to_owned(),
                reason: format!(
                    "event {position} follows hash {prev_hash}, but the last applied event has hash {}",
                    self.hash
                ),
            });
        }
        self.position = position;
        hash.clone_into(&mut self.hash);
        Ok(true)
    }
}

/// A read model in one SQLite file.
pub struct ReadModel {
    conn: Connection,
    path: String,
    applied: Applied,
    cache: apply::Cache,
    /// The units (the domain's tree and their rows), read again only when
    /// a unit event has been applied since: queries never reload the whole
    /// table per call.
    units_cache: RefCell<Option<Arc<query::Units>>>,
}

/// A batch being applied in one transaction, given in parts
/// ([`ReadModel::span`]). The rows it keeps back are written at
/// [`Span::commit`]; dropped without it, the transaction is rolled back
/// and nothing is applied.
pub struct Span<'m> {
    model: &'m mut ReadModel,
    /// What the batch has reached so far.
    applied: Applied,
    chain: Chain,
    logged: bool,
    count: usize,
    ended: bool,
}

impl Span<'_> {
    /// Applies `part`, the next events in log order, and returns the span
    /// with how many of them it applied. Positions already applied are
    /// skipped. A gap, a broken chain or an event that cannot be applied is
    /// an error, and the span is gone with it: its transaction is rolled
    /// back and nothing of the batch is applied. `part` may be dropped once
    /// this returns.
    pub fn apply(mut self, part: &[Decoded<'_>]) -> Result<(Self, usize), ViewError> {
        let count = self.apply_part(part)?;
        Ok((self, count))
    }

    fn apply_part(&mut self, part: &[Decoded<'_>]) -> Result<usize, ViewError> {
        let model = &mut *self.model;
        let mut count = 0;
        let mut last = None;
        for (index, event) in part.iter().enumerate() {
            if !self
                .chain
                .follows(&model.path, event.position, event.prev_hash, event.hash)?
            {
                continue;
            }
            apply::event(&model.conn, &mut model.cache, event, index)?;
            if event.position == 1 {
                self.applied.genesis = Some(event.hash.to_owned());
            }
            last = Some(event);
            count += 1;
        }
        if let Some(last) = last {
            self.applied.position = last.position;
            last.hash.clone_into(&mut self.applied.hash);
        }
        apply::end_part(&mut model.cache, part);
        self.count += count;
        Ok(count)
    }

    /// The position of the last event applied so far (committed or not).
    pub fn position(&self) -> u64 {
        self.applied.position
    }

    /// Writes the rows the batch kept back and the position, hash and
    /// stream sequence reached (`stream_sequence`, when the events came
    /// from the stream), and commits. Returns how many events the batch
    /// applied.
    pub fn commit(mut self, stream_sequence: Option<u64>) -> Result<usize, ViewError> {
        let model = &mut *self.model;
        let conn = &model.conn;
        apply::finish_batch(conn, &mut model.cache)?;
        let applied = &mut self.applied;
        if let Some(sequence) = stream_sequence {
            applied.stream_sequence = Some(sequence);
        }
        if self.count > 0 || stream_sequence.is_some() {
            let mut put = conn.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            put.execute(params!["applied_position", applied.position.to_string()])?;
            put.execute(params!["applied_hash", applied.hash])?;
            if let Some(genesis) = &applied.genesis {
                put.execute(params!["genesis_hash", genesis])?;
            }
            if let Some(sequence) = applied.stream_sequence {
                put.execute(params!["stream_sequence", sequence.to_string()])?;
            }
            if self.count > 0 && self.logged {
                // The last event read from the log beside: a log that
                // holds it holds every one kept there ([`ReadModel::logged`]).
                put.execute(params![LOGGED_POSITION, applied.position.to_string()])?;
                put.execute(params![LOGGED_HASH, applied.hash])?;
            }
        }
        conn.execute_batch("COMMIT")?;
        self.ended = true;
        model.applied = self.applied.clone();
        Ok(self.count)
    }
}

impl Drop for Span<'_> {
    fn drop(&mut self) {
        if !self.ended {
            // Nothing of the batch stays: not its rows, nor the names and
            // inputs cached while applying it.
            let _ = self.model.conn.execute_batch("ROLLBACK");
            self.model.cache = apply::Cache::default();
        }
    }
}

impl std::fmt::Debug for ReadModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModel")
            .field("path", &self.path)
            .field("applied", &self.applied)
            .finish()
    }
}

/// The SQLite collation of names in Vietnamese order
/// ([`dotpha_domain::text::collate`]): `ORDER BY name COLLATE vi`.
pub const COLLATION: &str = "vi";

/// What every read-model connection is given besides SQLite's own: the
/// collation [`COLLATION`], `dotpha_rank(q, search_head, search)`, the
/// rank of a task's stored search texts for the query `q`
/// ([`dotpha_domain::text::Query::rank`]: 0, 1 or 2; NULL when not found),
/// and plans that do not depend on bound values.
///
/// That last is SQLite's query planner stability guarantee (QPSG). Without
/// it, a statement whose plan could depend on a bound value (an equality
/// on a column with `ANALYZE`'s samples, an `ORDER BY` after an equality,
/// a `LIKE` pattern) is compiled again every time it runs with a new one:
/// every list, count and task page the API serves, and a rebuild's search
/// texts once per task (BENCHMARKS.md, "statements compiled once").
fn register(conn: &Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::functions::FunctionFlags;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.create_collation(COLLATION, dotpha_domain::text::collate)?;
    conn.create_scalar_function(
        "dotpha_rank",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // Read once per statement: the query is the same for every row.
            let query =
                ctx.get_or_create_aux(0, |q| -> Result<_, rusqlite::types::FromSqlError> {
                    Ok(dotpha_domain::text::Query::parse(q.as_str()?))
                })?;
            let (head, all) = (ctx.get_raw(1).as_str()?, ctx.get_raw(2).as_str()?);
            Ok(query
                .as_ref()
                .as_ref()
                .and_then(|q| q.rank(head, all))
                .map(|rank| rank as i64))
        },
    )
}

/// The meta keys of the last event applied from the log beside
/// ([`ReadModel::logged`]).
const LOGGED_POSITION: &str = "logged_position";
const LOGGED_HASH: &str = "logged_hash";

/// The read model's page cache, negative = KiB (64 MiB).
const CACHE_KIB: i64 = -65_536;

/// The page cache while a rebuild fills a new file, negative = KiB (256
/// MiB): the indexes of the tables that grow per event (each task's
/// events, reports) are written in key order per batch
/// (`apply::Pending`), and fit in it at a million events, so their pages
/// are not written out and read back within a batch.
const REBUILD_CACHE_KIB: i64 = -262_144;

/// What a rebuild gathers the planner's statistics of: the tables a query
/// could read through more than one index (the tasks, by cycle, unit,
/// assignee, due day or check-in; the assessments, by period or cadre).
/// Every other table is read by its primary key alone, so its statistics
/// would choose nothing, and the tables that grow per event (each task's
/// reports and events) are most of the file: reading them all made
/// `ANALYZE` about 3% of a rebuild (BENCHMARKS.md, issue 15).
const ANALYZED: &str = "ANALYZE tasks; ANALYZE assessments;";

/// Prepared statements kept per connection: more than applying and
/// querying use together (about 65), so none is prepared again per event
/// (rusqlite keeps 16 by default).
const STATEMENT_CACHE: usize = 128;

impl ReadModel {
    /// Opens the read model at `path` for applying events, creating it when
    /// the file is new or empty.
    /// A read model of an earlier version (from
    /// `schema::OLDEST_UPGRADED` on) is upgraded in place first
    /// (`upgrade`).
    pub fn open(path: impl AsRef<Path>) -> Result<ReadModel, ViewError> {
        let path_text = path.as_ref().display().to_string();
        let mut conn = Connection::open(path.as_ref())?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        // A read model is rebuilt from the log after a power cut at worst;
        // NORMAL keeps it consistent and spares an fsync per batch.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", CACHE_KIB)?;
        let (application_id, version): (i32, i32) = (
            conn.pragma_query_value(None, "application_id", |r| r.get(0))?,
            conn.pragma_query_value(None, "user_version", |r| r.get(0))?,
        );
        match (application_id, version) {
            (0, 0) => {
                let tables: i64 =
                    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
                if tables > 0 {
                    return Err(ViewError::NotAReadModel {
                        path: path_text,
                        reason: "it is a database of something else".to_owned(),
                    });
                }
                conn.execute_batch(schema::SCHEMA)?;
                conn.execute_batch(schema::ADDED_INDEXES)?;
                conn.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
                conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            (schema::APPLICATION_ID, SCHEMA_VERSION) => {
                conn.execute_batch(schema::ADDED_INDEXES)?;
            }
            (schema::APPLICATION_ID, earlier)
                if (schema::OLDEST_UPGRADED..SCHEMA_VERSION).contains(&earlier) =>
            {
                upgrade::forward(&mut conn)?;
                conn.execute_batch(schema::ADDED_INDEXES)?;
            }
            (schema::APPLICATION_ID, other) => {
                return Err(ViewError::OtherVersion {
                    path: path_text,
                    found: other,
                });
            }
            _ => {
                return Err(ViewError::NotAReadModel {
                    path: path_text,
                    reason: "it does not carry the read model's mark".to_owned(),
                });
            }
        }
        ReadModel::with_connection(conn, path_text)
    }

    /// Opens a new read model file for a rebuild: no journal and no syncing
    /// while it fills (a rebuild that fails is thrown away, never used).
    /// Call [`ReadModel::finish_rebuild`] before anyone reads it.
    pub fn open_for_rebuild(path: impl AsRef<Path>) -> Result<ReadModel, ViewError> {
        let model = ReadModel::open(path)?;
        model
            .conn
            .pragma_update_and_check(None, "journal_mode", "OFF", |_| Ok(()))?;
        model.conn.pragma_update(None, "synchronous", "OFF")?;
        model
            .conn
            .pragma_update(None, "cache_size", REBUILD_CACHE_KIB)?;
        Ok(model)
    }

    /// Makes a rebuilt file durable and ready for readers and the worker.
    pub fn finish_rebuild(&self) -> Result<(), ViewError> {
        // Statistics let the planner pick the unit index for a commune's
        // tasks instead of walking the whole cycle.
        self.conn.execute_batch(ANALYZED)?;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.checkpoint()
    }

    /// Opens a read model for queries only.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<ReadModel, ViewError> {
        let path_text = path.as_ref().display().to_string();
        let conn = Connection::open_with_flags(path.as_ref(), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if id != schema::APPLICATION_ID || version != SCHEMA_VERSION {
            return Err(ViewError::NotAReadModel {
                path: path_text,
                reason: format!("application_id {id:#x}, schema version {version}"),
            });
        }
        ReadModel::with_connection(conn, path_text)
    }

    fn with_connection(conn: Connection, path: String) -> Result<ReadModel, ViewError> {
        register(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let applied = ReadModel::read_applied(&conn)?;
        Ok(ReadModel {
            conn,
            path,
            applied,
            cache: apply::Cache::default(),
            units_cache: RefCell::new(None),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// How far the log has been applied.
    pub fn applied(&self) -> &Applied {
        &self.applied
    }

    /// Runs `f` in one read transaction: every query it makes (and
    /// [`ReadModel::refresh`]) sees the same state of the file, even while
    /// the worker applies more events.
    pub fn snapshot<T, E: From<ViewError>>(
        &mut self,
        f: impl FnOnce(&mut ReadModel) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(ViewError::from)?;
        let outcome = f(self);
        // A read transaction has nothing to keep; ending it cannot lose work.
        let ended = self.conn.execute_batch("COMMIT");
        if ended.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let outcome = outcome?;
        ended.map_err(ViewError::from)?;
        Ok(outcome)
    }

    /// Reads the applied position again from the file: another process (the
    /// worker) may have applied more since this handle opened.
    pub fn refresh(&mut self) -> Result<&Applied, ViewError> {
        let fresh = ReadModel::read_applied(&self.conn)?;
        self.applied = fresh;
        Ok(&self.applied)
    }

    fn read_applied(conn: &Connection) -> Result<Applied, ViewError> {
        let get = |key: &str| -> Result<Option<String>, rusqlite::Error> {
            conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()
        };
        Ok(Applied {
            position: get("applied_position")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            hash: get("applied_hash")?.unwrap_or_else(|| GENESIS_HASH.to_owned()),
            genesis: get("genesis_hash")?,
            stream_sequence: get("stream_sequence")?.and_then(|v| v.parse().ok()),
        })
    }

    /// The position and hash of the last event applied from the log beside
    /// this read model ([`ReadModel::apply_logged`]), whose objects it did
    /// not keep: by the hash chain, a log that holds that event with that
    /// hash holds every one of them as applied. `None` when it applied none.
    pub fn logged(&self) -> Result<Option<(u64, String)>, ViewError> {
        let get = |key: &str| -> Result<Option<String>, rusqlite::Error> {
            self.conn
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()
        };
        let position = get(LOGGED_POSITION)?.and_then(|p| p.parse().ok());
        Ok(position.zip(get(LOGGED_HASH)?))
    }

    /// Refuses a read model built from another log than the one whose first
    /// event has hash `log_genesis`.
    pub fn check_genesis(&self, log_genesis: &str) -> Result<(), ViewError> {
        match &self.applied.genesis {
            Some(mine) if mine != log_genesis => Err(ViewError::Foreign {
                path: self.path.clone(),
                reason: format!("its first event has hash {mine}, the log's has {log_genesis}"),
            }),
            _ => Ok(()),
        }
    }

    /// Applies `events` (in log order) in one transaction, with the
    /// position, hash and stream sequence reached. Positions already applied
    /// are skipped; a gap, a broken chain or an unreadable event fails the
    /// whole batch and applies nothing. Returns how many were applied.
    /// Each task event's object is kept for its task's history.
    pub fn apply(
        &mut self,
        events: &[RecordedEvent],
        stream_sequence: Option<u64>,
    ) -> Result<usize, ViewError> {
        let decoded = self.decode(events, true)?;
        self.apply_decoded_in(&decoded, stream_sequence, false)
    }

    /// [`ReadModel::apply`] for events read from the log beside this read
    /// model: their objects are not copied, a task's history reads them
    /// from that log by position ([`query::HistoryEvent::InLog`]). A copy
    /// is most of what a rebuild writes (BENCHMARKS.md, issue 15).
    pub fn apply_logged(&mut self, events: &[RecordedEvent]) -> Result<usize, ViewError> {
        let decoded = self.decode(events, false)?;
        self.apply_decoded_in(&decoded, None, true)
    }

    /// Decodes the events of `events` not yet applied, failing at the first
    /// that does not continue the chain or cannot be read: the same error,
    /// in the same order, as applying them one by one would give.
    fn decode<'a>(
        &self,
        events: &'a [RecordedEvent],
        keep: bool,
    ) -> Result<Vec<Decoded<'a>>, ViewError> {
        let mut chain = Chain::from(&self.applied);
        let mut decoded = Vec::with_capacity(events.len());
        for event in events {
            if chain.follows(&self.path, event.position, &event.prev_hash, &event.hash)? {
                decoded.push(Decoded::new(event, keep)?);
            }
        }
        Ok(decoded)
    }

    fn apply_decoded_in(
        &mut self,
        events: &[Decoded<'_>],
        stream_sequence: Option<u64>,
        logged: bool,
    ) -> Result<usize, ViewError> {
        let (span, _) = self.span(logged)?.apply(events)?;
        span.commit(stream_sequence)
    }

    /// Begins applying a batch given in parts ([`Span::apply`]), in one
    /// transaction that [`Span::commit`] ends: a rebuild reads and decodes
    /// its events on another thread, a part at a time, and the batch's
    /// rows are written once at its end. `logged`: the events are read
    /// from the log beside this read model ([`ReadModel::apply_logged`]).
    /// A span dropped without its commit applies nothing.
    pub fn span(&mut self, logged: bool) -> Result<Span<'_>, ViewError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Span {
            chain: Chain::from(&self.applied),
            applied: self.applied.clone(),
            model: self,
            logged,
            count: 0,
            ended: false,
        })
    }

    /// Refreshes the planner's statistics when they are stale (SQLite's
    /// `PRAGMA optimize`); cheap when nothing changed much.
    pub fn optimize(&self) -> Result<(), ViewError> {
        self.conn.execute_batch("PRAGMA optimize")?;
        Ok(())
    }

    /// Moves everything from the write-ahead log into the database file, so
    /// the file alone is complete (before it is swapped in or copied).
    pub fn checkpoint(&self) -> Result<(), ViewError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled SQLite is built with the options `.cargo/config.toml`
    /// gives it: without memory statistics, whose process-wide mutex a
    /// rebuild's two threads contended for (BENCHMARKS.md, issue 15).
    #[test]
    fn sqlite_is_built_without_memory_statistics() {
        let conn = Connection::open_in_memory().expect("opens");
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .expect("prepares")
            .query_map([], |r| r.get(0))
            .expect("runs")
            .collect::<Result<_, _>>()
            .expect("reads");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "SQLite built with {options:?}"
        );
    }

    /// The kind: a statement the read side keeps is compiled once, however
    /// many times and with whatever values it runs, on the worker's
    /// connection (applying) and a reader's (a task, its history, cadre and
    /// unit, lists by cycle, assignee, unit, status and search, dashboards,
    /// the clock window), after a rebuild has gathered the planner's
    /// statistics.
    #[test]
    fn statements_are_compiled_once_whatever_values_they_run_with() {
        use crate::query::{StatusFilter, TaskFilter, Tree};
        use dotpha_testkit::sqlite::statements_compiled_again;
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut ledger =
            dotpha_store::Ledger::open(dir.path().join("log.sqlite")).expect("the log opens");
        let mut workload = dotpha_testkit::Workload::new("plan", 4, 3);
        let mut messages = workload.setup();
        messages.extend((0..120).map(|_| workload.next_report()));
        let arrivals = messages
            .iter()
            .map(|m| {
                dotpha_store::Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id))
                    .expect("an id")
            })
            .collect();
        let now = dotpha_domain::Timestamp::from_unix_millis(1_614_648_600_123);
        ledger.submit_batch(arrivals, &now).expect("decided");
        let events = ledger.log().events_from(1, usize::MAX >> 1).expect("read");
        let (first, rest) = events.split_at(events.len() - 60);

        let path = dir.path().join("read.sqlite");
        let mut rebuilt = ReadModel::open_for_rebuild(&path).expect("opens");
        rebuilt.apply(first, None).expect("applies");
        rebuilt.finish_rebuild().expect("analyzed");
        drop(rebuilt);
        let mut worker = ReadModel::open(&path).expect("opens");
        for event in rest {
            worker
                .apply(std::slice::from_ref(event), None)
                .expect("applies");
        }
        let applying = statements_compiled_again(worker.connection());

        let reader = ReadModel::open_read_only(&path).expect("opens");
        let now_ms = now.unix_millis();
        let (all, _) = reader
            .tasks(&TaskFilter::default(), now_ms)
            .expect("listed");
        assert!(all.len() >= 12, "{} tasks", all.len());
        let cycles = reader.cycles().expect("cycles");
        for task in &all {
            reader.task(&task.task_id, now_ms).expect("a task");
            reader.history(&task.task_id).expect("its history");
            reader.cadre(&task.assignee, now_ms).expect("its assignee");
            reader
                .unit(&task.unit, Tree::default(), None, now_ms)
                .expect("its unit");
            for filter in [
                TaskFilter {
                    cycle: Some(task.cycle.clone()),
                    ..TaskFilter::default()
                },
                TaskFilter {
                    assignee: Some(task.assignee.clone()),
                    limit: Some(2),
                    offset: Some(1),
                    ..TaskFilter::default()
                },
                TaskFilter {
                    unit: Some(task.unit.clone()),
                    status: StatusFilter::parse("overdue"),
                    ..TaskFilter::default()
                },
                TaskFilter {
                    q: Some(task.title.clone()),
                    ..TaskFilter::default()
                },
            ] {
                reader.tasks(&filter, now_ms).expect("listed");
            }
        }
        for (cycle, ..) in &cycles {
            reader.dashboard(Some(cycle), now_ms).expect("a dashboard");
        }
        reader.dashboard(None, now_ms).expect("a dashboard");
        for day in 0..5 {
            reader
                .clock_window(now_ms + day * 86_400_000)
                .expect("a window");
        }
        let reading = statements_compiled_again(reader.connection());
        assert_eq!((applying, reading), (vec![], vec![]));
    }

    /// What [`register`] gives, on the worker's connection and a reader's.
    #[test]
    fn every_connection_orders_by_vi_and_ranks_searches() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("read.sqlite");
        let writer = ReadModel::open(&path).expect("opens");
        let reader = ReadModel::open_read_only(&path).expect("opens");
        for model in [&writer, &reader] {
            let conn = model.connection();
            let names: Vec<String> = conn
                .prepare(&format!(
                    "SELECT column1 FROM (VALUES ('Xã Chi Thiết'), ('Ủy ban Kiểm tra'),
                        ('Xã Cấp Tiến'), ('Đội Quản lý thị trường'), ('Dân vận'), ('Xã Dương Thành'),
                        ('Xã Đông Lợi')) ORDER BY column1 COLLATE {COLLATION}"
                ))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .expect("ordered");
            assert_eq!(
                names,
                [
                    "Dân vận",
                    "Đội Quản lý thị trường",
                    "Ủy ban Kiểm tra",
                    "Xã Cấp Tiến",
                    "Xã Chi Thiết",
                    "Xã Dương Thành",
                    "Xã Đông Lợi",
                ]
            );
            let rank = |q: &str, head: &str, all: &str| -> Option<i64> {
                conn.query_row("SELECT dotpha_rank(?1, ?2, ?3)", [q, head, all], |r| {
                    r.get(0)
                })
                .expect("ranked")
            };
            assert_eq!(rank("hop thanh", "xa hop thanh", "xa hop thanh"), Some(0));
            assert_eq!(rank("hop thanh", "thanh lap to hop tac", "x"), Some(1));
            assert_eq!(rank("hop thanh", "x", "x\nhop thanh"), Some(2));
            assert_eq!(rank("hop thanh", "x", "x"), None);
            assert_eq!(rank("\"\"", "x", "x"), None, "no word finds nothing");
        }
    }
}
