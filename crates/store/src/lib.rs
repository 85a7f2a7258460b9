//! The log of dotpha: an append-only, hash-chained record of every decision,
//! in one SQLite file.
//!
//! - [`Log`]: open (creating or migrating), append a batch of decisions in
//!   one transaction, read events, receipts and the head, [`Log::verify`].
//! - [`Ledger`]: the log plus the domain state folded from it; takes
//!   submissions, decides them and appends the decisions (the writer's core).
//! - [`records`]: the event object and the receipt, in the contract's shapes.
//!
//! Invariants, enforced here and checked by `verify`: positions run from 1
//! without gaps; each stream's versions run from 1 without gaps; each event's
//! `prev_hash` is the previous event's `hash`; every submission is decided
//! once, and an accepted one's events are consecutive. Nothing is updated or
//! deleted: the API has no such call and the database's triggers abort one.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod backup;
mod chain;
mod decided;
mod ledger;
mod prepare;
mod replica;
mod rows;
mod schema;
mod tree;
mod verify;

use std::collections::HashMap;
use std::path::Path;

use dotpha_domain::{Event, Rejection, State, Timestamp, wire::DecodeError};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::value::RawValue;

pub use backup::{Copied, VerifiedBackup, restore};
pub use dotpha_domain::wire as records;
pub use ledger::{
    Arrival, Batch, Committed, Ledger, READ_POSITION, REFUSED_REPEAT_MESSAGE, refused_repeat,
};
pub use records::{
    EVENT_SCHEMA, ErrorBody, EventRef, GENESIS_HASH, RECEIPT_SCHEMA, Receipt, ReceiptStatus,
    RecordedEvent,
};
pub use replica::{
    Assembled, Assembler, BatchRecord, CheckpointRow, DeadLetterRow, DecisionRow, EventRow,
    PART_PREFIX, RECORD_TARGET_BYTES, REPLICA_SEQUENCE, RecordPart, ReplicaMessage, Replicated,
};
pub use rows::{EventRows, RawEvent};
pub use schema::SCHEMA_VERSION;
pub use tree::{Attestation, StoredCheckpoint};
pub use verify::VerifyReport;

/// SQLite's page cache for the writer, negative = KiB (64 MiB).
const CACHE_KIB: i64 = -65_536;

/// How long a reader waits for the writer's lock before giving up. The
/// writer's transactions last milliseconds; this only rides out a checkpoint.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not a dotpha log.
    #[error("{path} is not a dotpha log: {reason}")]
    NotALog {
        /// The file.
        path: String,
        /// Why it is not one.
        reason: String,
    },
    /// The file exists but holds nothing yet (a writer starting beside the
    /// reader may be creating it right now).
    #[error("{path} is not a dotpha log: it is empty")]
    EmptyLog {
        /// The file.
        path: String,
    },
    /// The log was written by a newer dotpha.
    #[error(
        "{path} has schema version {found}, newer than this build's {supported}: upgrade dotpha"
    )]
    TooNew {
        /// The file.
        path: String,
        /// Its schema version.
        found: i32,
        /// The newest this build reads.
        supported: i32,
    },
    /// There is no log at the path.
    #[error("{path}: no log here (nothing has been written to this data directory yet)")]
    Missing {
        /// The file.
        path: String,
    },
    /// A stored event cannot be read back.
    #[error("{path} is corrupt at position {position}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// The event's position.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// A stored event the domain's decoder cannot read (a newer writer's
    /// type, or damaged data). Never a write-time limit: readers of the log
    /// apply none.
    #[error("{path}: the event at position {position} cannot be read: {source}")]
    Undecodable {
        /// The file.
        path: String,
        /// The event's position.
        position: u64,
        /// What the decoder found.
        #[source]
        source: DecodeError,
    },
    /// A decision that cannot be recorded (a caller's bug, not bad input).
    #[error("decision for {submission_id} cannot be recorded: {reason}")]
    InvalidDecision {
        /// The submission.
        submission_id: String,
        /// Why.
        reason: String,
    },
    /// A tree or proof that cannot be given (a size beyond the log, a
    /// position outside the tree) or whose nodes cannot be read.
    #[error(transparent)]
    Tree(#[from] dotpha_tlog::TreeError),
    /// A replicated record does not extend this log (a standby that is not
    /// following the same log, or records out of order).
    #[error("{path} cannot follow the replicated decisions: {reason}")]
    Diverged {
        /// The file.
        path: String,
        /// What does not match.
        reason: String,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file operation on the log failed (backup, restore).
    #[error("{action} {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What was being done, e.g. "backing up to".
        action: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The last event of the log: its position (0 for an empty log) and hash
/// ([`GENESIS_HASH`] for an empty log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// Position of the last event.
    pub position: u64,
    /// Its hash.
    pub hash: String,
}

impl Head {
    /// The head of an empty log.
    pub fn genesis() -> Head {
        Head {
            position: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }

    /// Reads `POSITION:HASH`, the form `verify --expect-head` takes.
    pub fn parse(text: &str) -> Option<Head> {
        let (position, hash) = text.split_once(':')?;
        let hash_ok =
            hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        Some(Head {
            position: position
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| position.parse().ok())
                .flatten()?,
            hash: hash_ok.then(|| hash.to_owned())?,
        })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.position, self.hash)
    }
}

/// What was decided for one submission.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Append these events (at least one).
    Accepted(Vec<Event>),
    /// Record the rejection.
    Rejected(Rejection),
}

/// One submission's decision, ready to be recorded.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The submission's idempotency key.
    pub submission_id: String,
    /// The unit it was sent for, when known.
    pub unit: Option<String>,
    /// Accepted with events, or rejected.
    pub outcome: Outcome,
    /// The submission as received, kept with a rejection so an inspector
    /// can see what was refused.
    pub submission: Option<String>,
}

/// A message that could not be answered at all (not a submission, and no
/// `Nats-Msg-Id` to key a rejection by): kept whole, never dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its sequence in the submissions stream, when it came from one.
    pub stream_sequence: Option<u64>,
    /// The subject it was published on.
    pub subject: String,
    /// Its headers, one `Name: value` per line.
    pub headers: String,
    /// The raw bytes.
    pub payload: Vec<u8>,
    /// Why it could not be read.
    pub reason: String,
    /// The submission id it was refused under, when it is a refused repeat
    /// of an id decided for another unit (see [`refused_repeat`]).
    pub submission_id: Option<String>,
    /// The unit that sent it, with [`DeadLetter::submission_id`].
    pub unit: Option<String>,
}

/// What a unit may learn of a submission id: see [`Log::receipt_for`].
// One is made per question about an id, and it is mostly the receipt:
// boxing it would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForUnit {
    /// Its own receipt: the decision made for it, or its recorded refusal.
    Receipt(Receipt),
    /// Decided for another unit, and nothing from this unit was recorded
    /// under the id: whatever it sends with this id is refused.
    TakenElsewhere,
    /// Not decided at all (yet).
    NotDecided,
}

/// The log, in one SQLite file.
pub struct Log {
    conn: Connection,
    path: String,
    head: Head,
    buffer: Vec<u8>,
    /// The ids decided, in front of the index: built on a handle that
    /// writes (another process may write behind a reader's back) when it
    /// first looks an id up, so handles that never do (the relay's, the
    /// checkpointer's) hold none; `None` inside when it could not be built.
    decided: std::cell::OnceCell<Option<decided::Decided>>,
    /// Opened for writing ([`Log::open`]).
    writable: bool,
    /// The Merkle tree's right edge at `head` (the writer's handle), so an
    /// append extends the tree without reading it.
    frontier: Option<dotpha_tlog::Frontier>,
    /// False only in the benchmark that measures what the tree costs.
    maintain_tree: bool,
    /// With replication on ([`Log::replicate`]): the stream sequence of the
    /// last record this log holds.
    replica: Option<u64>,
    /// The records of the last append, until taken.
    replicated: Option<Replicated>,
}

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (position, stream, version, type, unit, actor, occurred_at, recorded_at,
                     submission_id, data, prev_hash, hash)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
pub(crate) const IS_DECIDED: &str = "SELECT 1 FROM decisions WHERE submission_id = ?1";
pub(crate) const INSERT_NODE: &str = "INSERT INTO tree_nodes (position, hashes) VALUES (?1, ?2)";
pub(crate) const INSERT_DECISION: &str =
    "INSERT INTO decisions (submission_id, status, unit, first_position, last_position,
                        error_code, error_message, error_field, submission, recorded_at)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
pub(crate) const INSERT_DEAD_LETTER: &str =
    "INSERT INTO dead_letters (stream_sequence, subject, headers, payload, reason, recorded_at,
                           submission_id, unit)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
pub(crate) const UPSERT_CHECKPOINT: &str =
    "INSERT INTO checkpoints (name, position, tag) VALUES (?1, ?2, ?3)
 ON CONFLICT (name) DO UPDATE SET position = excluded.position, tag = excluded.tag";

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("path", &self.path)
            .field("head", &self.head)
            .finish()
    }
}

impl Log {
    /// Opens the log at `path` for writing, creating or migrating it.
    /// Refuses a file that is not a dotpha log or is newer than this build.
    pub fn open(path: impl AsRef<Path>) -> Result<Log, StoreError> {
        let path_text = path.as_ref().display().to_string();
        let mut conn = Connection::open(path.as_ref())?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        schema::check(&conn, &path_text)?;
        // Durability is the point of the log: a receipt promises the decision
        // survives power loss, so every commit waits for the disk.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // The unique index on decisions' submission ids takes inserts
        // wherever senders' ids fall; a page cache keeps those pages in
        // memory.
        conn.pragma_update(None, "cache_size", CACHE_KIB)?;
        schema::migrate(&mut conn, &path_text)?;
        let mut log = Log::with_connection(conn, path_text)?;
        log.writable = true;
        // A log written before the tree existed gets its tree now.
        log.frontier = Some(tree::fill(&mut log.conn, log.head.position, &log.path)?);
        Ok(log)
    }

    /// Opens an existing log read-only (verify, audit, readers). Does not
    /// create or migrate anything.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Log, StoreError> {
        let path_text = path.as_ref().display().to_string();
        if !path.as_ref().exists() {
            return Err(StoreError::Missing { path: path_text });
        }
        let conn = Connection::open_with_flags(
            path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if schema::check(&conn, &path_text)? == 0 {
            return Err(StoreError::EmptyLog { path: path_text });
        }
        Log::with_connection(conn, path_text)
    }

    fn with_connection(conn: Connection, path: String) -> Result<Log, StoreError> {
        // Plans that do not depend on bound values (SQLite's query planner
        // stability guarantee): without it, reading the log from a position
        // compiled its statement again at every chunk, the value of `LIMIT`
        // or of an equality being one a plan may depend on.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        let head = conn
            .query_row(
                "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
                [],
                |r| {
                    Ok(Head {
                        position: r.get(0)?,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_else(Head::genesis);
        Ok(Log {
            conn,
            path,
            head,
            buffer: Vec::with_capacity(1024),
            frontier: None,
            maintain_tree: true,
            replica: None,
            replicated: None,
            decided: std::cell::OnceCell::new(),
            writable: false,
        })
    }

    /// Stops this handle from adding the Merkle tree's nodes as it appends,
    /// leaving a log whose tree `verify` reports as incomplete. Only for the
    /// benchmark that compares appends with and without the tree.
    #[doc(hidden)]
    pub fn without_tree_for_benchmarks(&mut self) {
        self.maintain_tree = false;
    }

    /// The file's path, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The last event's position and hash, as this handle last wrote or
    /// opened it.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// The last event's position and hash as the file holds them now (a
    /// reader's handle sees what the writer appended since).
    pub fn current_head(&self) -> Result<Head, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")?
            .query_row([], |r| {
                Ok(Head {
                    position: r.get(0)?,
                    hash: r.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_else(Head::genesis))
    }

    /// Records `decisions` in one transaction (group commit) and returns
    /// their receipts, in order. Each accepted submission's events get
    /// consecutive positions and extend the hash chain. A submission already
    /// decided (before, or earlier in this batch) appends nothing: its
    /// receipt is the original one, marked `duplicate`.
    pub fn append_batch(
        &mut self,
        decisions: &[Decision],
        recorded_at: &Timestamp,
    ) -> Result<Vec<Receipt>, StoreError> {
        self.append(decisions, &[], None, recorded_at)
    }

    /// [`Log::append_batch`], plus in the same transaction the batch's dead
    /// letters and a checkpoint `(name, position)`, so a reader's position
    /// and the decisions it read commit together or not at all.
    pub fn append(
        &mut self,
        decisions: &[Decision],
        dead_letters: &[DeadLetter],
        checkpoint: Option<(&str, u64, Option<&str>)>,
        recorded_at: &Timestamp,
    ) -> Result<Vec<Receipt>, StoreError> {
        self.append_checked(decisions, dead_letters, checkpoint, recorded_at, true)
    }

    /// [`Log::append`]; with `check_duplicates` false the caller vouches
    /// that no decision is already recorded (the ledger has just looked),
    /// which saves a lookup per submission. The unique index on
    /// `decisions.submission_id` still refuses a duplicate that slips by.
    pub(crate) fn append_checked(
        &mut self,
        decisions: &[Decision],
        dead_letters: &[DeadLetter],
        checkpoint: Option<(&str, u64, Option<&str>)>,
        recorded_at: &Timestamp,
        check_duplicates: bool,
    ) -> Result<Vec<Receipt>, StoreError> {
        let recorded = recorded_at.as_str();
        let frontier = match self.frontier.take() {
            Some(f) if f.size() == self.head.position => f,
            _ if !self.maintain_tree => dotpha_tlog::Frontier::empty(),
            _ => tree::load_frontier(&self.conn, self.head.position)?,
        };
        // Kept until the commit succeeds; a failed one leaves it as it was.
        self.frontier = Some(frontier.clone());
        let before = self.head.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // A submission already decided, before or earlier in this batch,
        // appends nothing; the rest are decided here, in order.
        let mut repeated = vec![false; decisions.len()];
        if check_duplicates {
            let filter = decided_filter(&self.decided, self.writable, &self.path);
            let mut seen = std::collections::HashSet::with_capacity(decisions.len());
            let mut lookup = tx.prepare_cached(IS_DECIDED)?;
            for (decision, repeated) in decisions.iter().zip(repeated.iter_mut()) {
                let id = decision.submission_id.as_str();
                *repeated = !seen.insert(id)
                    || (filter.is_none_or(|d| d.may_hold(id)) && lookup.exists([id])?);
            }
        }
        let accepted: Vec<&Decision> = decisions
            .iter()
            .zip(&repeated)
            .filter(|(d, repeated)| !**repeated && matches!(d.outcome, Outcome::Accepted(_)))
            .map(|(d, _)| d)
            .collect();
        let chain = prepare::Chain {
            head: before.clone(),
            frontier,
            maintain_tree: self.maintain_tree,
            buffer: std::mem::take(&mut self.buffer),
        };
        let replicating = self.replica.is_some();
        let ((receipts, rows), chain) =
            prepare::pipelined(chain, &accepted, recorded, |next_prepared| {
                insert_decisions(
                    &tx,
                    decisions,
                    &repeated,
                    &before,
                    recorded,
                    replicating,
                    next_prepared,
                )
            })?;
        let prepare::Chain {
            head,
            frontier,
            buffer,
            ..
        } = chain;
        self.buffer = buffer;
        if !dead_letters.is_empty() {
            let mut insert = tx.prepare_cached(INSERT_DEAD_LETTER)?;
            for d in dead_letters {
                insert.execute(params![
                    d.stream_sequence,
                    d.subject,
                    d.headers,
                    d.payload,
                    d.reason,
                    recorded,
                    d.submission_id,
                    d.unit
                ])?;
            }
        }
        if let Some((name, position, tag)) = checkpoint {
            tx.prepare_cached(UPSERT_CHECKPOINT)?
                .execute(params![name, position, tag])?;
        }
        let replicated = match (rows, self.replica) {
            (Some(rows), Some(last)) => {
                let record = BatchRecord {
                    after_position: before.position,
                    after_hash: before.hash,
                    recorded_at: recorded.to_owned(),
                    decisions: rows,
                    dead_letters: dead_letters
                        .iter()
                        .map(|d| DeadLetterRow {
                            stream_sequence: d.stream_sequence,
                            subject: d.subject.clone(),
                            headers: d.headers.clone(),
                            payload: hex::encode(&d.payload),
                            reason: d.reason.clone(),
                            submission_id: d.submission_id.clone(),
                            unit: d.unit.clone(),
                        })
                        .collect(),
                    checkpoint: checkpoint.map(|(name, position, tag)| CheckpointRow {
                        name: name.to_owned(),
                        position,
                        tag: tag.map(str::to_owned),
                    }),
                };
                let replicated = Replicated {
                    first_sequence: last + 1,
                    records: record.split()?,
                };
                let kept = serde_json::to_string(&replicated.records).map_err(|e| {
                    StoreError::InvalidDecision {
                        submission_id: String::new(),
                        reason: format!("batch records cannot be kept: {e}"),
                    }
                })?;
                tx.prepare_cached(UPSERT_CHECKPOINT)?.execute(params![
                    REPLICA_SEQUENCE,
                    replicated.last_sequence(),
                    kept
                ])?;
                Some(replicated)
            }
            _ => None,
        };
        tx.commit()?;
        self.note_decided(
            decisions
                .iter()
                .zip(&repeated)
                .filter(|(_, repeated)| !**repeated)
                .map(|(d, _)| d.submission_id.as_str()),
        );
        self.head = head;
        self.frontier = Some(frontier);
        if let Some(replicated) = replicated {
            self.replica = Some(replicated.last_sequence());
            self.replicated = Some(replicated);
        }
        Ok(receipts)
    }

    /// A named checkpoint (a reader's position), if one was recorded.
    pub fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT position FROM checkpoints WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    /// A named checkpoint with its tag (what it points at), if recorded.
    pub fn checkpoint_tag(&self, name: &str) -> Result<Option<(u64, Option<String>)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT position, tag FROM checkpoints WHERE name = ?1")?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Records a named checkpoint on its own (the relay's progress).
    pub fn set_checkpoint(&self, name: &str, position: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO checkpoints (name, position) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            )?
            .execute(params![name, position])?;
        Ok(())
    }

    /// The dead letters kept so far, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT stream_sequence, subject, headers, payload, reason, submission_id, unit
             FROM dead_letters ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeadLetter {
                stream_sequence: r.get(0)?,
                subject: r.get(1)?,
                headers: r.get(2)?,
                payload: r.get(3)?,
                reason: r.get(4)?,
                submission_id: r.get(5)?,
                unit: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `submission_id` has been decided.
    pub fn is_decided(&self, submission_id: &str) -> Result<bool, StoreError> {
        if !self.may_be_decided(submission_id) {
            return Ok(false);
        }
        Ok(self
            .conn
            .prepare_cached(IS_DECIDED)?
            .exists([submission_id])?)
    }

    /// The unit `submission_id` was decided for: `None` when it is not
    /// decided, `Some(None)` when it was decided without a readable unit.
    pub fn decided_for(&self, submission_id: &str) -> Result<Option<Option<String>>, StoreError> {
        if !self.may_be_decided(submission_id) {
            return Ok(None);
        }
        Ok(self
            .conn
            .prepare_cached("SELECT unit FROM decisions WHERE submission_id = ?1")?
            .query_row([submission_id], |r| r.get(0))
            .optional()?)
    }

    /// False only for an id this handle knows was never decided.
    fn may_be_decided(&self, submission_id: &str) -> bool {
        decided_filter(&self.decided, self.writable, &self.path)
            .is_none_or(|d| d.may_hold(submission_id))
    }

    /// Adds ids just committed to the filter of decided ids. One past its
    /// capacity is built again from the table; if that fails, the handle
    /// goes on without one (every lookup asks the index).
    pub(crate) fn note_decided<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        // Not built yet: when it is, it reads these from the table.
        let Some(Some(decided)) = self.decided.get_mut() else {
            return;
        };
        for id in ids {
            decided.insert(id);
        }
        if decided.is_full() {
            self.decided = std::cell::OnceCell::from(decided::Decided::load(&self.path).ok());
        }
    }

    /// The receipt of a decided submission (not marked duplicate), whatever
    /// unit it was decided for: an operator's or a trusted reader's view.
    /// A unit asking after its own submission uses [`Log::receipt_for`].
    pub fn receipt(&self, submission_id: &str) -> Result<Option<Receipt>, StoreError> {
        read_receipt(&self.conn, submission_id)
    }

    /// The receipts of the decisions of the log's last batch (the newest
    /// decisions sharing the last `recorded_at`, at most `at_most`), in log
    /// order, as stored (not marked duplicate): what a writer announces
    /// again when it starts, since the writer before it (itself before a
    /// crash, or the active writer a standby took over from) may have died
    /// after that batch's commit and append and before its receipts. Every
    /// earlier batch's receipts reached the server before the next batch's
    /// append was acknowledged (one connection, in order).
    pub fn last_batch_receipts(&self, at_most: usize) -> Result<Vec<Receipt>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT submission_id, recorded_at FROM decisions ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([i64::try_from(at_most).unwrap_or(i64::MAX)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut ids = Vec::new();
        let mut batch: Option<String> = None;
        for row in rows {
            let (id, recorded_at) = row?;
            match &batch {
                Some(last) if *last != recorded_at => break,
                Some(_) => {}
                None => batch = Some(recorded_at),
            }
            ids.push(id);
        }
        ids.reverse();
        let mut receipts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(receipt) = read_receipt(&self.conn, &id)? {
                receipts.push(receipt);
            }
        }
        Ok(receipts)
    }

    /// What `unit` may learn of `submission_id` (CONTRACT.md part C: one
    /// decision per id, private to its sender): the decision when it was
    /// made for `unit`; the refusal recorded when `unit` sent an id already
    /// decided for another unit; otherwise nothing of the other unit's
    /// decision, only that the id is taken ([`ForUnit::TakenElsewhere`]).
    pub fn receipt_for(&self, submission_id: &str, unit: &str) -> Result<ForUnit, StoreError> {
        let Some(decided_for) = self.decided_for(submission_id)? else {
            return Ok(ForUnit::NotDecided);
        };
        if decided_for.as_deref() == Some(unit) {
            return Ok(read_receipt(&self.conn, submission_id)?
                .map_or(ForUnit::NotDecided, ForUnit::Receipt));
        }
        Ok(match self.refusal(submission_id, unit)? {
            Some(refusal) => ForUnit::Receipt(refusal),
            None => ForUnit::TakenElsewhere,
        })
    }

    /// The receipt `unit` is answered when it asks after `submission_id`
    /// (`receipt.get`, `GET /api/v1/submissions/{id}?unit=`): its own
    /// decision or recorded refusal; for an id decided for another unit and
    /// nothing recorded from `unit` (the broker dropped its publish as a
    /// repeat of the id), the same refusal, stamped `now`: whatever `unit`
    /// sends with that id is refused, and that is all it learns.
    pub fn answer_for(
        &self,
        submission_id: &str,
        unit: &str,
        now: &str,
    ) -> Result<Option<Receipt>, StoreError> {
        Ok(match self.receipt_for(submission_id, unit)? {
            ForUnit::Receipt(receipt) => Some(receipt),
            ForUnit::TakenElsewhere => Some(ledger::refused_repeat(submission_id, unit, now)),
            ForUnit::NotDecided => None,
        })
    }

    /// The refusal recorded when `unit` sent `submission_id` after it was
    /// decided for another unit.
    pub fn refusal(&self, submission_id: &str, unit: &str) -> Result<Option<Receipt>, StoreError> {
        let recorded_at: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT recorded_at FROM dead_letters WHERE submission_id = ?1 AND unit = ?2
                 ORDER BY seq LIMIT 1",
            )?
            .query_row([submission_id, unit], |r| r.get(0))
            .optional()?;
        Ok(recorded_at.map(|at| ledger::refused_repeat(submission_id, unit, &at)))
    }

    /// Every event of `stream`, oldest first.
    pub fn stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_EVENT} WHERE stream = ?1 ORDER BY version"
        ))?;
        let rows = stmt.query_map([stream], read_event)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Up to `limit` events from position `from` on, in log order.
    pub fn events_from(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_EVENT} WHERE position >= ?1 ORDER BY position LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![from, limit as i64], read_event)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Folds every event into a fresh [`State`]: the writer's start-up.
    ///
    /// Reading rows and decoding them cost about the same, so a second
    /// thread with its own read connection reads while this one decodes and
    /// applies; the fold runs at the speed of the slower half.
    pub fn load_state(&self) -> Result<State, StoreError> {
        self.fold(false)
    }

    /// [`Log::load_state`] with trackers that forget their progress
    /// reports ([`State::forget_reports`]), a writer's state: a task whose
    /// report came late gets its reports again from the log, by position.
    pub fn load_state_forgetful(&self) -> Result<State, StoreError> {
        self.fold(true)
    }

    /// Gives each task that took a report late ([`State::take_late_reports`])
    /// all its progress reports again: from `pending` (reports of the batch
    /// being decided, not yet in the log, by position) or else from the log.
    pub(crate) fn refold_late(
        &self,
        state: &mut State,
        pending: &HashMap<u64, PendingReport>,
    ) -> Result<(), StoreError> {
        for task in state.take_late_reports() {
            let positions = state
                .task(&task)
                .map(|t| t.report_positions.iter().collect::<Vec<u64>>())
                .unwrap_or_default();
            let mut reports = Vec::with_capacity(positions.len());
            let mut read = self.conn.prepare_cached(
                "SELECT stream, version, type, unit, actor, occurred_at, submission_id, data
                   FROM events WHERE position = ?1",
            )?;
            for position in positions {
                if let Some(report) = pending.get(&position) {
                    reports.push(report.clone());
                    continue;
                }
                let event = read
                    .query_row([position], |r| {
                        Ok(dotpha_domain::wire::decode_event(
                            r.get_ref(0)?.as_str()?,
                            r.get(1)?,
                            r.get_ref(2)?.as_str()?,
                            r.get_ref(3)?.as_str()?,
                            r.get_ref(4)?.as_str()?,
                            r.get_ref(5)?.as_str()?,
                            r.get_ref(6)?.as_str()?,
                            r.get_ref(7)?.as_str()?,
                        ))
                    })
                    .optional()?
                    .ok_or_else(|| StoreError::Corrupt {
                        path: self.path.clone(),
                        position,
                        reason: format!("the progress report of {task} at {position} is missing"),
                    })?
                    .map_err(|source| StoreError::Undecodable {
                        path: self.path.clone(),
                        position,
                        source,
                    })?;
                match progress_report(&event, position) {
                    Some(report) => reports.push(report),
                    None => {
                        return Err(StoreError::Corrupt {
                            path: self.path.clone(),
                            position,
                            reason: format!("{task} has no progress report at {position}"),
                        });
                    }
                }
            }
            state.refold_done(&task, reports);
        }
        Ok(())
    }

    fn fold(&self, forgetful: bool) -> Result<State, StoreError> {
        let mut state = State::new();
        if forgetful {
            state.forget_reports();
        }
        let none = HashMap::new();
        if self.head.position == 0 {
            return Ok(state);
        }
        let reader = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        reader.busy_timeout(BUSY_TIMEOUT)?;
        let last = self.head.position;
        let path = self.path.as_str();
        let (sender, chunks) =
            std::sync::mpsc::sync_channel::<Result<RawChunk, StoreError>>(FOLD_CHUNKS_IN_FLIGHT);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let read = || -> Result<(), StoreError> {
                    let mut stmt = reader.prepare(
                        "SELECT position, stream, version, type, unit, actor, occurred_at, submission_id, data
                         FROM events WHERE position <= ?1 ORDER BY position",
                    )?;
                    let mut rows = stmt.query([last])?;
                    let mut chunk = RawChunk::default();
                    while let Some(r) = rows.next()? {
                        chunk.push(r, path)?;
                        if chunk.len() == FOLD_CHUNK && sender.send(Ok(std::mem::take(&mut chunk))).is_err() {
                            // The decoder stopped (it found a corrupt event).
                            return Ok(());
                        }
                    }
                    let _ = sender.send(Ok(chunk));
                    Ok(())
                };
                if let Err(e) = read() {
                    let _ = sender.send(Err(e));
                }
            });
            for chunk in chunks {
                let chunk = chunk?;
                for row in chunk.rows() {
                    let event = chunk
                        .decode(row)
                        .map_err(|source| StoreError::Undecodable {
                            path: self.path.clone(),
                            position: row.position,
                            source,
                        })?;
                    state.apply(&event);
                    if forgetful {
                        self.refold_late(&mut state, &none)?;
                    }
                }
            }
            Ok::<(), StoreError>(())
        })?;
        if state.events_applied() != last {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                position: state.events_applied() + 1,
                reason: format!(
                    "the log's head is {last} but only {} events could be read",
                    state.events_applied()
                ),
            });
        }
        Ok(state)
    }

    /// Checks the whole log; see [`VerifyReport`]. With `expect_head`, also
    /// fails when the log no longer holds that event with that hash.
    pub fn verify(&self, expect_head: Option<&Head>) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.conn, expect_head)
    }
}

/// A progress report as a task's [`dotpha_domain::evaluation::DoneTracker`]
/// takes it: its reading, values and percentage.
pub(crate) type PendingReport = (
    dotpha_domain::figures::Reading,
    Vec<dotpha_domain::payload::MetricValue>,
    Option<f64>,
);

/// The progress report `event` carries, if it is one, at `position`.
pub(crate) fn progress_report(event: &Event, position: u64) -> Option<PendingReport> {
    match &event.payload {
        dotpha_domain::Payload::ProgressReported(p) => Some((
            dotpha_domain::figures::Reading {
                as_of: p.as_of,
                position,
            },
            p.values.clone(),
            p.percent_complete,
        )),
        _ => None,
    }
}

/// Rows per chunk handed from the fold's reader thread to its decoder.
pub(crate) const FOLD_CHUNK: usize = 4096;
/// Chunks the reader may run ahead of the decoder (bounds memory).
pub(crate) const FOLD_CHUNKS_IN_FLIGHT: usize = 4;

/// Event rows as read, before decoding: every text column of every row in
/// one buffer, so handing a chunk to another thread is one allocation, not
/// nine per row.
#[derive(Default)]
pub(crate) struct RawChunk {
    text: String,
    rows: Vec<RawRow>,
}

/// One row of a [`RawChunk`]: stream, type, unit, actor, occurred_at,
/// submission_id and data as ranges of the chunk's text.
pub(crate) struct RawRow {
    pub(crate) position: u64,
    version: u64,
    texts: [std::ops::Range<usize>; 7],
}

impl RawChunk {
    /// Appends a row of `SELECT position, stream, version, type, unit,
    /// actor, occurred_at, submission_id, data`.
    fn push(&mut self, r: &rusqlite::Row<'_>, path: &str) -> Result<(), StoreError> {
        let position: u64 = r.get(0)?;
        let mut texts: [&str; 7] = Default::default();
        for (slot, column) in texts.iter_mut().zip([1, 3, 4, 5, 6, 7, 8]) {
            *slot = r
                .get_ref(column)?
                .as_str()
                .map_err(|e| StoreError::Corrupt {
                    path: path.to_owned(),
                    position,
                    reason: format!("column {column} is not text: {e}"),
                })?;
        }
        self.push_parts(position, r.get(2)?, texts);
        Ok(())
    }

    /// Appends a row from its parts: stream, type, unit, actor,
    /// occurred_at, submission_id and data.
    pub(crate) fn push_parts(&mut self, position: u64, version: u64, parts: [&str; 7]) {
        let mut texts: [std::ops::Range<usize>; 7] = Default::default();
        for (slot, value) in texts.iter_mut().zip(parts) {
            let start = self.text.len();
            self.text.push_str(value);
            *slot = start..self.text.len();
        }
        self.rows.push(RawRow {
            position,
            version,
            texts,
        });
    }

    /// Rows held.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows, to decode one by one.
    pub(crate) fn rows(&self) -> &[RawRow] {
        &self.rows
    }

    /// Decodes `row` (one of this chunk's) with the decoder every reader of
    /// the log uses, [`dotpha_domain::wire::decode_event`].
    pub(crate) fn decode(&self, row: &RawRow) -> Result<dotpha_domain::Event, DecodeError> {
        let text = |i: usize| &self.text[row.texts[i].clone()];
        dotpha_domain::wire::decode_event(
            text(0),
            row.version,
            text(1),
            text(2),
            text(3),
            text(4),
            text(5),
            text(6),
        )
    }
}

const SELECT_EVENT: &str =
    "SELECT position, stream, version, type, unit, actor, occurred_at, recorded_at,
                                   submission_id, data, prev_hash, hash, schema FROM events";

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordedEvent> {
    let data: String = r.get(9)?;
    let data = RawValue::from_string(data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(RecordedEvent {
        schema: r.get(12)?,
        position: r.get(0)?,
        stream: r.get(1)?,
        version: r.get(2)?,
        event_type: r.get(3)?,
        unit: r.get(4)?,
        actor: r.get(5)?,
        occurred_at: r.get(6)?,
        recorded_at: r.get(7)?,
        submission_id: r.get(8)?,
        data,
        prev_hash: r.get(10)?,
        hash: r.get(11)?,
    })
}

/// The filter of decided ids of a handle, built on first use when it
/// writes; `None` for a reader or when it could not be built (then every
/// lookup asks the index).
fn decided_filter<'a>(
    cell: &'a std::cell::OnceCell<Option<decided::Decided>>,
    writable: bool,
    path: &str,
) -> Option<&'a decided::Decided> {
    if !writable {
        return None;
    }
    cell.get_or_init(|| decided::Decided::load(path).ok())
        .as_ref()
}

/// The second stage of an append: every decision's rows inserted in the
/// log's order, from the events `next_prepared` made ready, with their
/// receipts and, when `replicating`, the rows as stored.
fn insert_decisions(
    tx: &Connection,
    decisions: &[Decision],
    repeated: &[bool],
    before: &Head,
    recorded: &str,
    replicating: bool,
    next_prepared: &mut dyn FnMut() -> Result<Vec<prepare::PreparedEvent>, StoreError>,
) -> Result<(Vec<Receipt>, Option<Vec<DecisionRow>>), StoreError> {
    let mut receipts = Vec::with_capacity(decisions.len());
    let mut rows: Option<Vec<DecisionRow>> = replicating.then(Vec::new);
    let mut insert_event = tx.prepare_cached(INSERT_EVENT)?;
    let mut insert_node = tx.prepare_cached(INSERT_NODE)?;
    let mut insert_decision = tx.prepare_cached(INSERT_DECISION)?;
    let mut position = before.position;
    let mut prev_hash = before.hash.clone();
    for (decision, &repeated) in decisions.iter().zip(repeated) {
        if repeated {
            let mut original = read_receipt(tx, &decision.submission_id)?.ok_or_else(|| {
                StoreError::InvalidDecision {
                    submission_id: decision.submission_id.clone(),
                    reason: "a submission decided before has no receipt".to_owned(),
                }
            })?;
            original.duplicate = true;
            receipts.push(original);
            continue;
        }
        let mut receipt = Receipt {
            schema: RECEIPT_SCHEMA.to_owned(),
            submission_id: decision.submission_id.clone(),
            status: ReceiptStatus::Accepted,
            duplicate: false,
            events: Vec::new(),
            error: None,
            recorded_at: recorded.to_owned(),
            unit: decision.unit.clone(),
        };
        let mut row = replicating.then(|| DecisionRow {
            submission_id: decision.submission_id.clone(),
            status: "accepted".to_owned(),
            unit: decision.unit.clone(),
            error_code: None,
            error_message: None,
            error_field: None,
            submission: None,
            events: Vec::new(),
        });
        match &decision.outcome {
            Outcome::Accepted(events) => {
                let prepared = next_prepared()?;
                if prepared.len() != events.len() {
                    return Err(StoreError::InvalidDecision {
                        submission_id: decision.submission_id.clone(),
                        reason: format!(
                            "{} events were prepared for {} accepted",
                            prepared.len(),
                            events.len()
                        ),
                    });
                }
                for (event, ready) in events.iter().zip(prepared) {
                    position += 1;
                    let event_type = event.event_type().as_str();
                    insert_event.execute(params![
                        position,
                        event.stream,
                        event.version,
                        event_type,
                        event.unit.as_str(),
                        event.actor.as_str(),
                        event.occurred_at.as_str(),
                        recorded,
                        event.submission_id,
                        ready.data,
                        prev_hash,
                        ready.hash,
                    ])?;
                    if let Some(node) = &ready.node {
                        insert_node.execute(params![position, node])?;
                    }
                    receipt.events.push(EventRef {
                        position,
                        stream: event.stream.clone(),
                        version: event.version,
                        event_type: event_type.to_owned(),
                        hash: ready.hash.clone(),
                    });
                    if let Some(row) = row.as_mut() {
                        row.events.push(EventRow {
                            position,
                            stream: event.stream.clone(),
                            version: event.version,
                            event_type: event_type.to_owned(),
                            unit: event.unit.as_str().to_owned(),
                            actor: event.actor.as_str().to_owned(),
                            occurred_at: event.occurred_at.as_str().to_owned(),
                            submission_id: event.submission_id.clone(),
                            data: ready.data,
                            hash: ready.hash.clone(),
                        });
                    }
                    prev_hash = ready.hash;
                }
                let first = receipt.events.first().map(|e| e.position);
                insert_decision.execute(params![
                    decision.submission_id,
                    "accepted",
                    decision.unit,
                    first,
                    position,
                    None::<String>,
                    None::<String>,
                    None::<String>,
                    None::<String>,
                    recorded,
                ])?;
            }
            Outcome::Rejected(rejection) => {
                insert_decision.execute(params![
                    decision.submission_id,
                    "rejected",
                    decision.unit,
                    None::<u64>,
                    None::<u64>,
                    rejection.code.as_str(),
                    rejection.message,
                    rejection.field,
                    decision.submission,
                    recorded,
                ])?;
                if let Some(row) = row.as_mut() {
                    row.status = "rejected".to_owned();
                    row.error_code = Some(rejection.code.as_str().to_owned());
                    row.error_message = Some(rejection.message.clone());
                    row.error_field = rejection.field.clone();
                    row.submission = decision.submission.clone();
                }
                receipt.status = ReceiptStatus::Rejected;
                receipt.error = Some(ErrorBody::new(
                    rejection.code.as_str(),
                    rejection.message.clone(),
                    rejection.field.clone(),
                ));
            }
        }
        if let (Some(rows), Some(row)) = (rows.as_mut(), row) {
            rows.push(row);
        }
        receipts.push(receipt);
    }
    Ok((receipts, rows))
}

fn read_receipt(conn: &Connection, submission_id: &str) -> Result<Option<Receipt>, StoreError> {
    type Row = (
        String,
        Option<String>,
        Option<u64>,
        Option<u64>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT status, unit, first_position, last_position, error_code, error_message, error_field, recorded_at
             FROM decisions WHERE submission_id = ?1",
        )?
        .query_row([submission_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .optional()?;
    let Some((status, unit, first, last, code, message, field, recorded_at)) = row else {
        return Ok(None);
    };
    let mut receipt = Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        submission_id: submission_id.to_owned(),
        status: if status == "accepted" {
            ReceiptStatus::Accepted
        } else {
            ReceiptStatus::Rejected
        },
        duplicate: false,
        events: Vec::new(),
        error: None,
        recorded_at,
        unit,
    };
    if let (Some(first), Some(last)) = (first, last) {
        let mut stmt = conn.prepare_cached(
            "SELECT position, stream, version, type, hash FROM events WHERE position BETWEEN ?1 AND ?2 ORDER BY position",
        )?;
        let refs = stmt.query_map([first, last], |r| {
            Ok(EventRef {
                position: r.get(0)?,
                stream: r.get(1)?,
                version: r.get(2)?,
                event_type: r.get(3)?,
                hash: r.get(4)?,
            })
        })?;
        receipt.events = refs.collect::<Result<_, _>>()?;
    }
    if let Some(code) = code {
        receipt.error = Some(ErrorBody::new(&code, message.unwrap_or_default(), field));
    }
    Ok(Some(receipt))
}
