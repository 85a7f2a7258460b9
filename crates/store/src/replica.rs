//! The log's decisions as the replicated stream carries them
//! (`DOTPHA_DECISIONS`, issue 16): each committed batch becomes one or more
//! [`BatchRecord`]s holding exactly the rows the log stored (events with
//! their hashes, decisions including rejections, dead letters, the writer's
//! read position), so another log applying them in order is the same log,
//! byte for byte. [`Log::apply_record`] is how a standby applies one: it
//! recomputes every hash over its own chain and refuses a record that does
//! not extend its head.

use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::{Head, Log, StoreError, chain::Hashed, tree};

/// The checkpoint holding the stream sequence of the last record this log
/// holds; its tag keeps the last batch's records (a JSON array of their
/// texts), so a writer that died before the stream acknowledged them sends
/// them again at its next start.
pub const REPLICA_SEQUENCE: &str = "replica.sequence";

/// A batch is cut into records of about this many bytes of JSON, at
/// decision boundaries, so each fits the server's `max_payload` (1 MiB by
/// default) with room for headers. One decision larger than the server's
/// `max_payload` cannot be replicated and stops the writer after its local
/// commit, before any receipt.
pub const RECORD_TARGET_BYTES: usize = 512 * 1024;

/// One event row as the log stores it (`recorded_at` and `prev_hash` come
/// from the record and the chain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// Its position.
    pub position: u64,
    /// Its stream.
    pub stream: String,
    /// Its version in the stream.
    pub version: u64,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Its unit.
    pub unit: String,
    /// Its actor.
    pub actor: String,
    /// When it happened, as the publisher said.
    pub occurred_at: String,
    /// The submission it came from.
    pub submission_id: String,
    /// The data member's canonical JSON text.
    pub data: String,
    /// Its hash, checked by whoever applies it.
    pub hash: String,
}

/// One decision row as the log stores it, with its events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// The submission id.
    pub submission_id: String,
    /// `accepted` or `rejected`.
    pub status: String,
    /// The unit, when known.
    pub unit: Option<String>,
    /// A rejection's code.
    pub error_code: Option<String>,
    /// A rejection's message.
    pub error_message: Option<String>,
    /// A rejection's field.
    pub error_field: Option<String>,
    /// The submission as received, kept with a rejection.
    pub submission: Option<String>,
    /// An accepted decision's events, consecutive.
    pub events: Vec<EventRow>,
}

/// One dead letter row as the log stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterRow {
    /// Its sequence in the submissions stream.
    pub stream_sequence: Option<u64>,
    /// Its subject.
    pub subject: String,
    /// Its headers, one per line.
    pub headers: String,
    /// Its bytes, in lower-case hex.
    pub payload: String,
    /// Why it was not decided.
    pub reason: String,
    /// The id it was refused under.
    pub submission_id: Option<String>,
    /// The unit that sent it.
    pub unit: Option<String>,
}

/// A named checkpoint committed with a batch (the writer's read position).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    /// Its name.
    pub name: String,
    /// Its position.
    pub position: u64,
    /// What is there.
    pub tag: Option<String>,
}

/// What one message of `DOTPHA_DECISIONS` carries: part (or all) of one
/// committed batch, applied in one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// The head it extends: position…
    pub after_position: u64,
    /// …and hash.
    pub after_hash: String,
    /// The batch's `recorded_at`.
    pub recorded_at: String,
    /// The decisions, in log order.
    pub decisions: Vec<DecisionRow>,
    /// The dead letters (with the batch's last record).
    pub dead_letters: Vec<DeadLetterRow>,
    /// The checkpoint committed with the batch (with its last record).
    pub checkpoint: Option<CheckpointRow>,
}

impl BatchRecord {
    /// The head after this record.
    pub fn head(&self) -> Head {
        self.decisions
            .iter()
            .flat_map(|d| d.events.last())
            .next_back()
            .map_or_else(
                || Head {
                    position: self.after_position,
                    hash: self.after_hash.clone(),
                },
                |e| Head {
                    position: e.position,
                    hash: e.hash.clone(),
                },
            )
    }

    /// Cuts a batch into records of about [`RECORD_TARGET_BYTES`] each, at
    /// decision boundaries; the dead letters and the checkpoint go with the
    /// last. Returns their JSON texts.
    pub(crate) fn split(self) -> Result<Vec<String>, StoreError> {
        let encode = |record: &BatchRecord| {
            serde_json::to_string(record).map_err(|e| StoreError::InvalidDecision {
                submission_id: String::new(),
                reason: format!("a batch record cannot be encoded: {e}"),
            })
        };
        let whole = encode(&self)?;
        if whole.len() <= RECORD_TARGET_BYTES {
            return Ok(vec![whole]);
        }
        let BatchRecord {
            after_position,
            after_hash,
            recorded_at,
            decisions,
            dead_letters,
            checkpoint,
        } = self;
        let mut parts = Vec::new();
        let mut current = BatchRecord {
            after_position,
            after_hash,
            recorded_at,
            decisions: Vec::new(),
            dead_letters: Vec::new(),
            checkpoint: None,
        };
        let mut size = 0;
        for decision in decisions {
            let bytes = serde_json::to_string(&decision).map_or(0, |s| s.len());
            if size + bytes > RECORD_TARGET_BYTES && !current.decisions.is_empty() {
                let head = current.head();
                let next = BatchRecord {
                    after_position: head.position,
                    after_hash: head.hash,
                    recorded_at: current.recorded_at.clone(),
                    decisions: Vec::new(),
                    dead_letters: Vec::new(),
                    checkpoint: None,
                };
                parts.push(encode(&std::mem::replace(&mut current, next))?);
                size = 0;
            }
            size += bytes;
            current.decisions.push(decision);
        }
        current.dead_letters = dead_letters;
        current.checkpoint = checkpoint;
        parts.push(encode(&current)?);
        Ok(parts)
    }
}

/// What a committed batch gives the replicated stream: its records, the
/// first of which must land at stream sequence `first_sequence`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replicated {
    /// The stream sequence the first record must get (the one before it is
    /// the expected last sequence).
    pub first_sequence: u64,
    /// The records' JSON texts, in order.
    pub records: Vec<String>,
}

impl Replicated {
    /// The stream sequence of the last record.
    pub fn last_sequence(&self) -> u64 {
        self.first_sequence + self.records.len() as u64 - 1
    }
}

/// Why a record cannot be applied.
fn diverged(path: &str, why: String) -> StoreError {
    StoreError::Diverged {
        path: path.to_owned(),
        reason: why,
    }
}

impl Log {
    /// Turns replication on for this handle: every append from now on also
    /// gives its batch's records ([`Log::take_replicated`]) and keeps them,
    /// with their stream sequence, in the [`REPLICA_SEQUENCE`] checkpoint of
    /// the same transaction.
    pub fn replicate(&mut self) -> Result<(), StoreError> {
        self.replica = Some(self.checkpoint(REPLICA_SEQUENCE)?.unwrap_or(0));
        Ok(())
    }

    /// The stream sequence of the last record this log holds, and the last
    /// batch's records (what a restart may have to send again).
    pub fn replica_position(&self) -> Result<Replicated, StoreError> {
        let (last, tag) = self.checkpoint_tag(REPLICA_SEQUENCE)?.unwrap_or((0, None));
        let records: Vec<String> = match tag {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| diverged(&self.path, format!("{REPLICA_SEQUENCE} unreadable: {e}")))?,
            None => Vec::new(),
        };
        Ok(Replicated {
            first_sequence: last + 1 - records.len() as u64,
            records,
        })
    }

    /// Starts the replicated stream afresh at this log's head (the stream
    /// is new or was reset): the next batch's record gets sequence 1.
    pub fn restart_replication(&mut self) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO checkpoints (name, position, tag) VALUES (?1, 0, NULL)
                 ON CONFLICT (name) DO UPDATE SET position = 0, tag = NULL",
            )?
            .execute([REPLICA_SEQUENCE])?;
        if self.replica.is_some() {
            self.replica = Some(0);
        }
        Ok(())
    }

    /// The records of the last append, when replication is on.
    pub fn take_replicated(&mut self) -> Option<Replicated> {
        self.replicated.take()
    }

    /// Applies the record at stream sequence `sequence` (a standby
    /// following `DOTPHA_DECISIONS`): in one transaction, its events (each
    /// hash recomputed over this log's chain and compared with the
    /// record's; tree rows as every append writes them), decisions, dead
    /// letters and checkpoint, and [`REPLICA_SEQUENCE`] = `sequence`.
    ///
    /// Refused with [`StoreError::Diverged`] when the record does not
    /// extend this log's head, comes out of order, or a hash differs.
    pub fn apply_record(&mut self, record: &BatchRecord, sequence: u64) -> Result<(), StoreError> {
        let held = self.checkpoint(REPLICA_SEQUENCE)?.unwrap_or(0);
        if sequence != held + 1 {
            return Err(diverged(
                &self.path,
                format!("record {sequence} does not follow record {held}, the last this log holds"),
            ));
        }
        if record.after_position != self.head.position || record.after_hash != self.head.hash {
            return Err(diverged(
                &self.path,
                format!(
                    "record {sequence} extends {}:{}, but this log's head is {}",
                    record.after_position, record.after_hash, self.head
                ),
            ));
        }
        let recorded = record.recorded_at.as_str();
        let mut head = self.head.clone();
        let mut frontier = match self.frontier.take() {
            Some(f) if f.size() == head.position => f,
            _ => tree::load_frontier(&self.conn, head.position)?,
        };
        self.frontier = Some(frontier.clone());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert_event = tx.prepare_cached(crate::INSERT_EVENT)?;
            let mut insert_node = tx.prepare_cached(crate::INSERT_NODE)?;
            let mut insert_decision = tx.prepare_cached(crate::INSERT_DECISION)?;
            for decision in &record.decisions {
                let first = decision.events.first().map(|e| e.position);
                for event in &decision.events {
                    let hashed = Hashed {
                        position: head.position + 1,
                        stream: &event.stream,
                        version: event.version,
                        event_type: &event.event_type,
                        unit: &event.unit,
                        actor: &event.actor,
                        occurred_at: &event.occurred_at,
                        recorded_at: recorded,
                        submission_id: &event.submission_id,
                        data: &event.data,
                        prev_hash: &head.hash,
                    };
                    let hash = hashed.hash(&mut self.buffer);
                    if event.position != hashed.position || hash != event.hash {
                        return Err(diverged(
                            &self.path,
                            format!(
                                "record {sequence}: event {} (hash {}) is not the event this log's chain gives at {} (hash {hash})",
                                event.position, event.hash, hashed.position
                            ),
                        ));
                    }
                    insert_event.execute(params![
                        hashed.position,
                        hashed.stream,
                        hashed.version,
                        hashed.event_type,
                        hashed.unit,
                        hashed.actor,
                        hashed.occurred_at,
                        recorded,
                        hashed.submission_id,
                        hashed.data,
                        hashed.prev_hash,
                        hash,
                    ])?;
                    if self.maintain_tree {
                        let leaf = dotpha_tlog::tree::parse_hex(&hash).ok_or_else(|| {
                            diverged(&self.path, "an event hash is not 64 hex digits".to_owned())
                        })?;
                        insert_node.execute(params![
                            hashed.position,
                            frontier.append(&leaf.0).to_bytes()
                        ])?;
                    }
                    head = Head {
                        position: hashed.position,
                        hash,
                    };
                }
                let last = first.map(|_| head.position);
                insert_decision.execute(params![
                    decision.submission_id,
                    decision.status,
                    decision.unit,
                    first,
                    last,
                    decision.error_code,
                    decision.error_message,
                    decision.error_field,
                    decision.submission,
                    recorded,
                ])?;
            }
            if !record.dead_letters.is_empty() {
                let mut insert = tx.prepare_cached(crate::INSERT_DEAD_LETTER)?;
                for d in &record.dead_letters {
                    let payload = hex::decode(&d.payload).map_err(|e| {
                        diverged(
                            &self.path,
                            format!("a dead letter's payload is not hex: {e}"),
                        )
                    })?;
                    insert.execute(params![
                        d.stream_sequence,
                        d.subject,
                        d.headers,
                        payload,
                        d.reason,
                        recorded,
                        d.submission_id,
                        d.unit
                    ])?;
                }
            }
            let mut checkpoint = tx.prepare_cached(crate::UPSERT_CHECKPOINT)?;
            if let Some(c) = &record.checkpoint {
                checkpoint.execute(params![c.name, c.position, c.tag])?;
            }
            checkpoint.execute(params![REPLICA_SEQUENCE, sequence, None::<String>])?;
        }
        tx.commit()?;
        self.head = head;
        self.frontier = Some(frontier);
        Ok(())
    }
}
