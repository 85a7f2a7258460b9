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
/// default) with room for headers. A record still larger than this (one
/// decision bigger than it: a dead letter of a message near `max_payload`,
/// hex-encoded; a rejection keeping 256 KiB of control characters, each
/// escaped to six bytes) is cut further into [`RecordPart`]s of at most
/// this many bytes each, one stream message per part.
pub const RECORD_TARGET_BYTES: usize = 512 * 1024;

/// How every [`RecordPart`]'s JSON begins (serde writes the members in
/// their declared order), and no [`BatchRecord`]'s does (`{"after_position":`):
/// how a reader of `DOTPHA_DECISIONS` tells them apart without parsing
/// twice.
pub const PART_PREFIX: &[u8] = b"{\"part\":";

/// Room a part's JSON takes besides its text: the members' names, the two
/// numbers (at most 10 digits each) and the quotes.
const PART_OVERHEAD_BYTES: usize = 64;

/// One piece of a record too large for one message of `DOTPHA_DECISIONS`:
/// the record's JSON text cut at character boundaries into `parts` pieces,
/// appended as consecutive messages, part 1 first. A reader joins the
/// texts of parts 1..=`parts` found at consecutive sequences and applies
/// the record they make at the sequence of the last. A group cut short (its
/// writer died or was fenced between two parts; nothing of it was
/// answered, since receipts wait for every part) is followed by another
/// message, or is the stream's tail when a standby takes over: it is
/// passed over, never applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPart {
    /// Its number, from 1.
    pub part: u32,
    /// How many parts the record has (at least 2).
    pub parts: u32,
    /// Its piece of the record's JSON text.
    pub text: String,
}

/// One message of `DOTPHA_DECISIONS`, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaMessage {
    /// A whole record.
    Whole(Box<BatchRecord>),
    /// A piece of one.
    Part(RecordPart),
}

impl ReplicaMessage {
    /// Reads one message's payload.
    ///
    /// # Errors
    /// The JSON reader's message, when it is neither.
    pub fn parse(payload: &[u8]) -> Result<ReplicaMessage, String> {
        if payload.starts_with(PART_PREFIX) {
            serde_json::from_slice(payload)
                .map(ReplicaMessage::Part)
                .map_err(|e| e.to_string())
        } else {
            serde_json::from_slice(payload)
                .map(|r| ReplicaMessage::Whole(Box::new(r)))
                .map_err(|e| e.to_string())
        }
    }
}

/// The bytes `c` takes inside a JSON string as serde_json writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Cuts `text` (a record's JSON) into [`RecordPart`]s whose JSON is each at
/// most `limit` bytes; returns their JSON texts, in order.
fn cut_into_parts(text: &str, limit: usize) -> Result<Vec<String>, StoreError> {
    let budget = limit.saturating_sub(PART_OVERHEAD_BYTES).max(6);
    let mut pieces = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (at, c) in text.char_indices() {
        let cost = escaped_len(c);
        if size + cost > budget && at > start {
            pieces.push(&text[start..at]);
            (start, size) = (at, 0);
        }
        size += cost;
    }
    pieces.push(&text[start..]);
    let parts = u32::try_from(pieces.len()).map_err(|_| StoreError::InvalidDecision {
        submission_id: String::new(),
        reason: "a batch record has too many parts".to_owned(),
    })?;
    pieces
        .into_iter()
        .zip(1..)
        .map(|(piece, part)| {
            serde_json::to_string(&RecordPart {
                part,
                parts,
                text: piece.to_owned(),
            })
            .map_err(|e| StoreError::InvalidDecision {
                submission_id: String::new(),
                reason: format!("a record part cannot be encoded: {e}"),
            })
        })
        .collect()
}

/// What a reader of `DOTPHA_DECISIONS` can apply once it has read up to a
/// record's last message.
#[derive(Debug)]
pub struct Assembled {
    /// The record.
    pub record: BatchRecord,
    /// The first stream sequence it accounts for: the one after the last
    /// record applied (a group cut short before it is passed over).
    pub from: u64,
    /// The sequence of its last message, which the log holds afterwards.
    pub to: u64,
    /// The sequences of a group cut short that it passes over.
    pub passed_over: Option<(u64, u64)>,
}

/// Joins the messages of `DOTPHA_DECISIONS`, read in order from the one
/// after the last record a log holds, into records ([`RecordPart`]).
#[derive(Debug)]
pub struct Assembler {
    /// The first sequence not yet accounted for by an applied record.
    from: u64,
    /// The next sequence expected.
    next: u64,
    /// The group being joined: its number of parts, the parts' texts so
    /// far, and how many.
    pending: Option<(u32, String, u32)>,
}

impl Assembler {
    /// Reads on from the record after `held`, the last one a log holds.
    pub fn new(held: u64) -> Assembler {
        Assembler {
            from: held + 1,
            next: held + 1,
            pending: None,
        }
    }

    /// The sequences of the group being joined, when one is: at the
    /// stream's tail when a standby takes over, a group cut short.
    pub fn pending(&self) -> Option<(u64, u64)> {
        self.pending.as_ref().map(|_| (self.from, self.next - 1))
    }

    /// Takes the message `payload` at `sequence`; gives the record it
    /// completes, if any. Call [`Assembler::applied`] once it is applied.
    ///
    /// # Errors
    /// A message out of order, one that reads as neither a record nor a
    /// part, a part that continues no group this reader holds (its first
    /// parts were passed over: this log diverged from the stream), or
    /// parts that do not make a record.
    pub fn push(&mut self, sequence: u64, payload: &[u8]) -> Result<Option<Assembled>, String> {
        if sequence != self.next {
            return Err(format!(
                "message {sequence} of DOTPHA_DECISIONS came where {} was expected",
                self.next
            ));
        }
        let message = ReplicaMessage::parse(payload)
            .map_err(|e| format!("record {sequence} of DOTPHA_DECISIONS cannot be read: {e}"))?;
        self.next = sequence + 1;
        let record = match message {
            ReplicaMessage::Whole(record) => *record,
            ReplicaMessage::Part(part) if part.part == 1 => {
                if part.parts < 2 {
                    return Err(format!(
                        "record {sequence} of DOTPHA_DECISIONS is part 1 of {}",
                        part.parts
                    ));
                }
                // A group cut short before this one is passed over with it.
                self.pending = Some((part.parts, part.text, 1));
                return Ok(None);
            }
            ReplicaMessage::Part(part) => {
                let Some((parts, text, got)) = self.pending.as_mut() else {
                    return Err(format!(
                        "record {sequence} of DOTPHA_DECISIONS is part {} of {} of a record whose first part this log passed over (it was the stream's tail when this log took over, and its writer appended more afterwards)",
                        part.part, part.parts
                    ));
                };
                if part.parts != *parts || part.part != *got + 1 {
                    return Err(format!(
                        "record {sequence} of DOTPHA_DECISIONS is part {} of {} where part {} of {parts} was expected",
                        part.part,
                        part.parts,
                        *got + 1
                    ));
                }
                text.push_str(&part.text);
                *got += 1;
                if *got < *parts {
                    return Ok(None);
                }
                let (_, text, _) = self.pending.take().unwrap_or_default();
                let first = sequence + 1 - u64::from(part.parts);
                let record = serde_json::from_str(&text).map_err(|e| {
                    format!(
                        "records {first}..{sequence} of DOTPHA_DECISIONS do not make a record: {e}"
                    )
                })?;
                return Ok(Some(self.assembled(record, first, sequence)));
            }
        };
        Ok(Some(self.assembled(record, sequence, sequence)))
    }

    /// The record ending at `to` whose messages begin at `first`.
    fn assembled(&mut self, record: BatchRecord, first: u64, to: u64) -> Assembled {
        let passed_over = (first > self.from).then(|| (self.from, first - 1));
        self.pending = None;
        Assembled {
            record,
            from: self.from,
            to,
            passed_over,
        }
    }

    /// The record last given was applied: read on after it.
    pub fn applied(&mut self, to: u64) {
        self.from = to + 1;
    }
}

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
    /// last; a record still larger is cut into [`RecordPart`]s of at most
    /// [`RECORD_TARGET_BYTES`]. Returns the messages' JSON texts, in order.
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
        // One decision (or the dead letters) larger than a record: cut into
        // parts, one message each.
        let mut messages = Vec::with_capacity(parts.len());
        for text in parts {
            if text.len() <= RECORD_TARGET_BYTES {
                messages.push(text);
            } else {
                messages.extend(cut_into_parts(&text, RECORD_TARGET_BYTES)?);
            }
        }
        Ok(messages)
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
    /// Passes over the messages `from..=to` of `DOTPHA_DECISIONS` without
    /// applying anything: the first parts of a record cut short at the
    /// stream's tail when this log's standby takes over (its writer died or
    /// was fenced between two parts, before any receipt of it). The log
    /// then holds [`REPLICA_SEQUENCE`] = `to`, so its writer's first append
    /// follows them.
    ///
    /// Refused with [`StoreError::Diverged`] when `from` is not the
    /// sequence after the last this log holds.
    pub fn pass_over(&mut self, from: u64, to: u64) -> Result<(), StoreError> {
        let held = self.checkpoint(REPLICA_SEQUENCE)?.unwrap_or(0);
        if from != held + 1 || to < from {
            return Err(diverged(
                &self.path,
                format!(
                    "records {from}..{to} do not follow record {held}, the last this log holds"
                ),
            ));
        }
        self.conn
            .prepare_cached(crate::UPSERT_CHECKPOINT)?
            .execute(params![REPLICA_SEQUENCE, to, None::<String>])?;
        if self.replica.is_some() {
            self.replica = Some(to);
        }
        Ok(())
    }

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

    /// Applies the record whose last message is at stream sequence
    /// `sequence` and which accounts for the messages from `from` on (one
    /// message, or its [`RecordPart`]s, after a group cut short it passes
    /// over; see [`Assembler`]), as a standby following `DOTPHA_DECISIONS`
    /// does: in one transaction, its events (each hash recomputed over this
    /// log's chain and compared with the record's; tree rows as every
    /// append writes them), decisions, dead letters and checkpoint, and
    /// [`REPLICA_SEQUENCE`] = `sequence`.
    ///
    /// Refused with [`StoreError::Diverged`] when the record does not
    /// extend this log's head, comes out of order (`from` is not the
    /// sequence after the last this log holds), or a hash differs.
    pub fn apply_record(
        &mut self,
        record: &BatchRecord,
        from: u64,
        sequence: u64,
    ) -> Result<(), StoreError> {
        let held = self.checkpoint(REPLICA_SEQUENCE)?.unwrap_or(0);
        if from != held + 1 || sequence < from {
            return Err(diverged(
                &self.path,
                format!(
                    "records {from}..{sequence} do not follow record {held}, the last this log holds"
                ),
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
        self.note_decided(record.decisions.iter().map(|d| d.submission_id.as_str()));
        self.head = head;
        self.frontier = Some(frontier);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch whose one rejection keeps `submission`.
    fn batch_keeping(submission: String) -> BatchRecord {
        BatchRecord {
            after_position: 7,
            after_hash: "ab".repeat(32),
            recorded_at: "2026-11-30T10:00:00.000Z".to_owned(),
            decisions: vec![DecisionRow {
                submission_id: "oversized-0001".to_owned(),
                status: "rejected".to_owned(),
                unit: Some("hop-thanh".to_owned()),
                error_code: Some("malformed".to_owned()),
                error_message: Some("not JSON".to_owned()),
                error_field: None,
                submission: Some(submission),
                events: Vec::new(),
            }],
            dead_letters: vec![DeadLetterRow {
                stream_sequence: Some(9),
                subject: "dotpha.v1.submit.nobody".to_owned(),
                headers: String::new(),
                payload: "00".repeat(300 * 1024),
                reason: "not JSON".to_owned(),
                submission_id: None,
                unit: None,
            }],
            checkpoint: Some(CheckpointRow {
                name: "writer.read_position".to_owned(),
                position: 9,
                tag: Some("x".to_owned()),
            }),
        }
    }

    /// What an [`Assembler`] reading `messages` from sequence 1 applies.
    fn assemble(messages: &[String]) -> Result<Vec<Assembled>, String> {
        let mut assembler = Assembler::new(0);
        let mut out = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            if let Some(done) = assembler.push(i as u64 + 1, message.as_bytes())? {
                assembler.applied(done.to);
                out.push(done);
            }
        }
        Ok(out)
    }

    #[test]
    fn a_decision_larger_than_a_record_is_cut_into_parts_that_join_back() {
        // 256 KiB of control characters, six bytes each once escaped, and
        // quotes and backslashes, whose escapes double again inside a part.
        let text: String = "\u{1}\"\\é".repeat(64 * 1024);
        let batch = batch_keeping(text);
        let messages = batch.clone().split().expect("splits");
        assert!(messages.len() > 3, "{} messages", messages.len());
        for message in &messages {
            assert!(message.len() <= RECORD_TARGET_BYTES, "{}", message.len());
        }
        let parts: Vec<RecordPart> = messages
            .iter()
            .map(
                |m| match ReplicaMessage::parse(m.as_bytes()).expect("reads") {
                    ReplicaMessage::Part(part) => part,
                    ReplicaMessage::Whole(_) => panic!("a part"),
                },
            )
            .collect();
        assert!(parts.iter().zip(1..).all(|(p, n)| p.part == n));
        let joined = assemble(&messages).expect("joins");
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].record, batch);
        assert_eq!((joined[0].from, joined[0].to), (1, messages.len() as u64));
        assert_eq!(joined[0].passed_over, None);
    }

    #[test]
    fn a_group_cut_short_is_passed_over_by_the_next_record_and_pending_at_the_tail() {
        let big = batch_keeping("\u{1}".repeat(200 * 1024))
            .split()
            .expect("splits");
        assert!(big.len() >= 3);
        let small = serde_json::to_string(&BatchRecord {
            decisions: Vec::new(),
            dead_letters: Vec::new(),
            ..batch_keeping(String::new())
        })
        .expect("encodes");
        // Two parts of a cut-short record, then another writer's record.
        let stream = vec![big[0].clone(), big[1].clone(), small.clone()];
        let joined = assemble(&stream).expect("reads");
        assert_eq!(joined.len(), 1);
        assert_eq!((joined[0].from, joined[0].to), (1, 3));
        assert_eq!(joined[0].passed_over, Some((1, 2)));
        // At the tail: pending, for a standby taking over to pass over.
        let mut assembler = Assembler::new(4);
        assert!(
            assembler
                .push(5, big[0].as_bytes())
                .expect("reads")
                .is_none()
        );
        assert!(
            assembler
                .push(6, big[1].as_bytes())
                .expect("reads")
                .is_none()
        );
        assert_eq!(assembler.pending(), Some((5, 6)));
        // A part whose first part this reader never saw.
        let mut assembler = Assembler::new(6);
        let orphan = assembler.push(7, big[2].as_bytes()).expect_err("refused");
        assert!(orphan.contains("passed over"), "{orphan}");
        // Out of order.
        let mut assembler = Assembler::new(0);
        assert!(assembler.push(2, small.as_bytes()).is_err());
    }
}
