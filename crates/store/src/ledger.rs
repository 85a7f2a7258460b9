//! The writer's core: the log plus the domain state folded from it. It reads
//! arrivals, decides each against the state, and records all decisions of a
//! batch in one transaction.

use std::collections::HashSet;

use dotpha_domain::{
    Rejection, Slug, State, Submission, Timestamp, decide, parse_submission,
    submission::MAX_SUBMISSION_BYTES, values::is_submission_id,
};

use crate::{DeadLetter, Decision, Log, Outcome, Receipt, StoreError};

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
    Fresh(usize),
    Repeat(String),
}

impl Ledger {
    /// Opens (or creates) the log and folds it into state.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Ledger, StoreError> {
        let log = Log::open(path)?;
        let state = log.load_state()?;
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
        let Batch {
            arrivals,
            dead_letters,
            read_position,
            read_tag,
        } = batch;
        let mut decisions = Vec::with_capacity(arrivals.len());
        let mut slots = Vec::with_capacity(arrivals.len());
        let mut in_batch = HashSet::new();
        for arrival in arrivals {
            if in_batch.contains(&arrival.submission_id)
                || self.log.is_decided(&arrival.submission_id)?
            {
                slots.push(Slot::Repeat(arrival.submission_id));
                continue;
            }
            in_batch.insert(arrival.submission_id.clone());
            let outcome = match arrival.body.and_then(|s| decide(&self.state, &s)) {
                Ok(events) => {
                    for event in &events {
                        self.state.apply(event);
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
                    self.state = self.log.load_state()?;
                    return Err(e);
                }
            };
        let mut receipts = Vec::with_capacity(slots.len());
        for slot in slots {
            let receipt = match slot {
                Slot::Fresh(i) => fresh[i].take(),
                Slot::Repeat(id) => self.log.receipt(&id)?.map(|mut r| {
                    r.duplicate = true;
                    r
                }),
            };
            receipts.push(receipt.ok_or_else(|| StoreError::InvalidDecision {
                submission_id: String::new(),
                reason: "a receipt went missing between commit and answer".to_owned(),
            })?);
        }
        Ok(receipts)
    }
}
