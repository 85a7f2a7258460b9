//! The writer's core: the log plus the domain state folded from it. It reads
//! arrivals, decides each against the state, and records all decisions of a
//! batch in one transaction.

use std::collections::HashMap;

use dotpha_domain::{
    Rejection, RejectionCode, Slug, State, Submission, Timestamp, decide, parse_submission,
    submission::MAX_SUBMISSION_BYTES, values::is_submission_id,
};

use crate::{
    DeadLetter, Decision, ErrorBody, Log, Outcome, RECEIPT_SCHEMA, Receipt, ReceiptStatus,
    StoreError,
};

/// What the refusal of a repeated id from another unit says. It names
/// nothing of the original decision: not its unit, its time or its outcome.
pub const REFUSED_REPEAT_MESSAGE: &str =
    "this submission_id was already used for another submission; a new submission needs a new id";

/// The refusal `unit` receives for sending `submission_id` after it was
/// decided for another unit (CONTRACT.md part C, "one decision per id,
/// private to its sender"): rejected `already_exists` on the field
/// `submission_id`, recorded at `recorded_at`, addressed to `unit`.
pub fn refused_repeat(submission_id: &str, unit: &str, recorded_at: &str) -> Receipt {
    Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        submission_id: submission_id.to_owned(),
        status: ReceiptStatus::Rejected,
        duplicate: false,
        events: Vec::new(),
        error: Some(ErrorBody::new(
            RejectionCode::AlreadyExists.as_str(),
            REFUSED_REPEAT_MESSAGE.to_owned(),
            Some("submission_id".to_owned()),
        )),
        recorded_at: recorded_at.to_owned(),
        unit: Some(unit.to_owned()),
    }
}

/// What [`Ledger::commit_batch`] committed.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    /// A receipt per arrival, in order.
    pub receipts: Vec<Receipt>,
    /// The dead letters recorded for arrivals refused as repeats of an id
    /// decided for another unit (beside the batch's own dead letters).
    pub refusals: Vec<DeadLetter>,
    /// With replication on ([`crate::Log::replicate`]): the batch's records
    /// for `DOTPHA_DECISIONS`.
    pub replicated: Option<crate::Replicated>,
}

/// The checkpoint holding the writer's read position in the submissions
/// stream.
pub const READ_POSITION: &str = "writer.read_position";

/// What one step of the writer commits at once.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Messages that carry a submission id, in stream order.
    pub arrivals: Vec<Arrival>,
    /// Messages that do not.
    pub dead_letters: Vec<DeadLetter>,
    /// The stream sequence of the last message taken, committed with the
    /// decisions so a restart resumes exactly after it.
    pub read_position: Option<u64>,
    /// What is at the read position (the message's `Nats-Msg-Id`), so a
    /// stream refilled under the same sequence numbers is recognised.
    pub read_tag: Option<String>,
}

/// A message as it arrived, read as far as it can be: it always has the
/// submission id its decision will be recorded under.
#[derive(Clone, Debug)]
pub struct Arrival {
    /// The idempotency key: the envelope's, or the `Nats-Msg-Id` header's
    /// when the envelope cannot be read.
    pub submission_id: String,
    /// The unit it was sent for, when known.
    pub unit: Option<Slug>,
    /// The submission, or why it cannot be read.
    pub body: Result<Submission, Rejection>,
    /// The bytes as text, kept with a rejection for inspectors (empty
    /// when the submission did not arrive as bytes).
    pub raw: String,
}

impl Arrival {
    /// Reads a message published on the subject whose last token is
    /// `subject_unit`, with the `Nats-Msg-Id` header `msg_id`.
    ///
    /// Returns the rejection alone when the message carries no usable
    /// submission id at all: such a message cannot be answered or
    /// deduplicated, so the caller keeps it as a dead letter.
    pub fn read(
        bytes: &[u8],
        subject_unit: Option<&str>,
        msg_id: Option<&str>,
    ) -> Result<Arrival, Rejection> {
        let raw = || {
            String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_SUBMISSION_BYTES)]).into_owned()
        };
        match parse_submission(bytes, subject_unit) {
            Ok(submission) => Ok(Arrival {
                submission_id: submission.submission_id.clone(),
                unit: Some(submission.unit.clone()),
                body: Ok(submission),
                // Kept too: the domain may still reject it, and a rejection
                // keeps what was received.
                raw: raw(),
            }),
            Err(unreadable) => {
                let id = unreadable
                    .submission_id
                    .or_else(|| msg_id.filter(|id| is_submission_id(id)).map(str::to_owned));
                // The answer goes where the publisher listens: the unit of the
                // subject it published on, not a unit its envelope claims
                // (a forged or mistaken `unit` must not reach another unit).
                let unit = subject_unit.and_then(Slug::parse).or(unreadable.unit);
                match id {
                    Some(submission_id) => Ok(Arrival {
                        submission_id,
                        unit,
                        body: Err(unreadable.rejection),
                        raw: raw(),
                    }),
                    None => Err(unreadable.rejection),
                }
            }
        }
    }

    /// An arrival of an already parsed submission.
    pub fn parsed(submission: Submission) -> Arrival {
        Arrival {
            submission_id: submission.submission_id.clone(),
            unit: Some(submission.unit.clone()),
            body: Ok(submission),
            raw: String::new(),
        }
    }
}

/// The log and the state folded from it, kept in step: the state holds
/// exactly the committed events.
#[derive(Debug)]
pub struct Ledger {
    log: Log,
    state: State,
}

enum Slot {
    /// Decided now: the decision at this index.
    Fresh(usize),
    /// A repeat from the unit the id was decided for: the original receipt.
    Repeat(String),
    /// A repeat of an id decided for another unit, refused now: the refusal
    /// at this index.
    Refused(usize),
    /// A repeat of an earlier refusal of this unit: that refusal again.
    RefusedAgain(String, String),
}

impl Ledger {
    /// Opens (or creates) the log and folds it into state.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Ledger, StoreError> {
        let log = Log::open(path)?;
        // A writer keeps no task's reports in memory: a late one is read
        // again from the log (`Log::refold_late`).
        let state = log.load_state_forgetful()?;
        Ok(Ledger { log, state })
    }

    /// The read position committed with the last batch: the stream sequence
    /// of the last message decided (0 before any).
    pub fn read_position(&self) -> Result<u64, StoreError> {
        Ok(self.log.checkpoint(READ_POSITION)?.unwrap_or(0))
    }

    /// The read position and the `Nats-Msg-Id` of the message there.
    pub fn read_position_tag(&self) -> Result<(u64, Option<String>), StoreError> {
        Ok(self.log.checkpoint_tag(READ_POSITION)?.unwrap_or((0, None)))
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The log, for replication's bookkeeping ([`Log::replicate`],
    /// [`Log::restart_replication`]); nothing appended through it reaches
    /// the state.
    pub fn log_mut(&mut self) -> &mut Log {
        &mut self.log
    }

    /// The state after every committed event.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Decides every arrival in order (each sees the effects of those before
    /// it) and records all decisions in one transaction; returns a receipt
    /// per arrival, in order. An arrival already decided is not decided
    /// again: its receipt is the original, marked `duplicate`.
    pub fn submit_batch(
        &mut self,
        arrivals: Vec<Arrival>,
        recorded_at: &Timestamp,
    ) -> Result<Vec<Receipt>, StoreError> {
        self.commit(
            Batch {
                arrivals,
                ..Batch::default()
            },
            recorded_at,
        )
    }

    /// [`Ledger::submit_batch`] for what a reader of a message stream took
    /// in one go: the arrivals, the dead letters among the messages, and the
    /// read position to commit with them.
    pub fn commit(
        &mut self,
        batch: Batch,
        recorded_at: &Timestamp,
    ) -> Result<Vec<Receipt>, StoreError> {
        Ok(self.commit_batch(batch, recorded_at)?.receipts)
    }

    /// [`Ledger::commit`], also returning the dead letters it recorded for
    /// refused repeats, so the caller can announce them with the batch's.
    ///
    /// An id is decided once, for the unit that sent it first. The same id
    /// again from that unit (a retry, a redelivery) is a repeat: it gets the
    /// original receipt, marked `duplicate`. The same id from another unit
    /// is not that unit's to repeat: it is refused `already_exists` (field
    /// `submission_id`), recorded as the sender's own dead letter, and the
    /// refusal learns nothing of the original; that unit's repeats get the
    /// refusal again, marked `duplicate`.
    pub fn commit_batch(
        &mut self,
        batch: Batch,
        recorded_at: &Timestamp,
    ) -> Result<Committed, StoreError> {
        let Batch {
            arrivals,
            mut dead_letters,
            read_position,
            read_tag,
        } = batch;
        let recorded = recorded_at.as_str().to_owned();
        let mut decisions = Vec::with_capacity(arrivals.len());
        let mut slots = Vec::with_capacity(arrivals.len());
        // The unit each id of this batch was decided for.
        let mut in_batch: HashMap<String, Option<String>> = HashMap::new();
        let mut refusals: Vec<DeadLetter> = Vec::new();
        // This batch's progress reports, by position, until it is in the log.
        let mut pending: HashMap<u64, crate::PendingReport> = HashMap::new();
        for arrival in arrivals {
            let unit = arrival.unit.as_ref().map(|u| u.as_str().to_owned());
            let decided_for = match in_batch.get(&arrival.submission_id) {
                Some(unit) => Some(unit.clone()),
                None => self.log.decided_for(&arrival.submission_id)?,
            };
            if let Some(decided_for) = decided_for {
                let slot = match unit {
                    _ if decided_for == unit => Slot::Repeat(arrival.submission_id),
                    // Without a readable unit there is no receipt subject to
                    // answer on, and nobody to keep a refusal for.
                    None => Slot::Repeat(arrival.submission_id),
                    Some(unit) => {
                        let earlier = refusals.iter().any(|r| {
                            r.submission_id.as_deref() == Some(arrival.submission_id.as_str())
                                && r.unit.as_deref() == Some(unit.as_str())
                        });
                        if earlier || self.log.refusal(&arrival.submission_id, &unit)?.is_some() {
                            Slot::RefusedAgain(arrival.submission_id, unit)
                        } else {
                            refusals.push(DeadLetter {
                                // An arrival does not carry its own sequence.
                                stream_sequence: None,
                                subject: format!("dotpha.v1.submit.{unit}"),
                                headers: String::new(),
                                payload: arrival.raw.into_bytes(),
                                reason: format!(
                                    "already_exists (submission_id): {} was already decided for another unit; refused, nothing decided",
                                    arrival.submission_id
                                ),
                                submission_id: Some(arrival.submission_id),
                                unit: Some(unit),
                            });
                            Slot::Refused(refusals.len() - 1)
                        }
                    }
                };
                slots.push(slot);
                continue;
            }
            in_batch.insert(arrival.submission_id.clone(), unit);
            let outcome = match arrival.body.and_then(|s| decide(&self.state, &s)) {
                Ok(events) => {
                    for event in &events {
                        self.state.apply(event);
                        let position = self.state.events_applied();
                        if let Some(report) = crate::progress_report(event, position) {
                            pending.insert(position, report);
                        }
                    }
                    if let Err(e) = self.log.refold_late(&mut self.state, &pending) {
                        self.state = self.log.load_state_forgetful()?;
                        return Err(e);
                    }
                    Outcome::Accepted(events)
                }
                Err(rejection) => Outcome::Rejected(rejection),
            };
            let submission = (matches!(outcome, Outcome::Rejected(_)) && !arrival.raw.is_empty())
                .then_some(arrival.raw);
            slots.push(Slot::Fresh(decisions.len()));
            decisions.push(Decision {
                submission_id: arrival.submission_id,
                unit: arrival.unit.map(|u| u.as_str().to_owned()),
                outcome,
                submission,
            });
        }
        dead_letters.extend(refusals.iter().cloned());
        let checkpoint = read_position.map(|p| (READ_POSITION, p, read_tag.as_deref()));
        let mut fresh =
            match self
                .log
                .append_checked(&decisions, &dead_letters, checkpoint, recorded_at, false)
            {
                Ok(receipts) => receipts.into_iter().map(Some).collect::<Vec<_>>(),
                Err(e) => {
                    // The state already holds this batch's events, which were
                    // not committed: fold it again from what the log holds.
                    self.state = self.log.load_state_forgetful()?;
                    return Err(e);
                }
            };
        let mut receipts = Vec::with_capacity(slots.len());
        let again = |mut r: Receipt| {
            r.duplicate = true;
            r
        };
        for slot in slots {
            let receipt = match slot {
                Slot::Fresh(i) => fresh[i].take(),
                Slot::Repeat(id) => self.log.receipt(&id)?.map(again),
                Slot::Refused(i) => refusals[i]
                    .submission_id
                    .as_deref()
                    .zip(refusals[i].unit.as_deref())
                    .map(|(id, unit)| refused_repeat(id, unit, &recorded)),
                Slot::RefusedAgain(id, unit) => self.log.refusal(&id, &unit)?.map(again),
            };
            receipts.push(receipt.ok_or_else(|| StoreError::InvalidDecision {
                submission_id: String::new(),
                reason: "a receipt went missing between commit and answer".to_owned(),
            })?);
        }
        Ok(Committed {
            receipts,
            refusals,
            replicated: self.log.take_replicated(),
        })
    }
}
