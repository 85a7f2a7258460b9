//! The first stage of an append: each accepted decision's events made ready
//! to insert (the data's canonical text, the hash chain, the tree's node),
//! on a second thread while the first inserts the rows already made.
//!
//! Both stages go through the decisions in the log's order, so the chain
//! and the tree come out exactly as one thread would make them; the second
//! thread only takes the hashing and serializing off the thread that holds
//! the transaction (BENCHMARKS.md, "The log": they were half an append's
//! time).

use std::sync::mpsc;

use dotpha_tlog::Frontier;

use crate::chain::{self, Hashed};
use crate::{Decision, Head, Outcome, StoreError};

/// Events in a batch from which the preparing runs on a second thread;
/// below it, starting the thread costs more than it saves.
pub(crate) const PIPELINE_MIN_EVENTS: usize = 32;

/// Chunks prepared ahead of the inserting thread (bounds the memory of a
/// large batch, not its speed).
const PIPELINE_DEPTH: usize = 16;

/// Decisions handed over at a time, at most: one wake-up of the inserting
/// thread per chunk instead of one per decision. The first chunk holds one
/// decision and each next one twice as many up to this, so the inserting
/// thread starts as soon as one decision is ready.
const PIPELINE_CHUNK: usize = 16;

/// One event ready to insert.
pub(crate) struct PreparedEvent {
    /// The data member's canonical text.
    pub(crate) data: String,
    /// The event's hash, lowercase hex.
    pub(crate) hash: String,
    /// The tree's node row for it, when the tree is kept.
    pub(crate) node: Option<Vec<u8>>,
}

/// The end of the chain as the preparing stage extends it.
pub(crate) struct Chain {
    /// The last event prepared.
    pub(crate) head: Head,
    /// The tree's frontier after it.
    pub(crate) frontier: Frontier,
    /// Whether tree nodes are made.
    pub(crate) maintain_tree: bool,
    /// Reused for each event's canonical text.
    pub(crate) buffer: Vec<u8>,
}

impl Chain {
    /// The events of an accepted `decision`, chained after the head.
    ///
    /// # Errors
    /// [`StoreError::InvalidDecision`] for an acceptance without events or
    /// data with no canonical form.
    pub(crate) fn prepare(
        &mut self,
        decision: &Decision,
        recorded_at: &str,
    ) -> Result<Vec<PreparedEvent>, StoreError> {
        let Outcome::Accepted(events) = &decision.outcome else {
            return Ok(Vec::new());
        };
        if events.is_empty() {
            return Err(StoreError::InvalidDecision {
                submission_id: decision.submission_id.clone(),
                reason: "accepted without events".to_owned(),
            });
        }
        let mut prepared = Vec::with_capacity(events.len());
        for event in events {
            let data = chain::canonical_data(&event.payload.to_data()).map_err(|e| {
                StoreError::InvalidDecision {
                    submission_id: decision.submission_id.clone(),
                    reason: format!("data cannot be canonicalized: {e}"),
                }
            })?;
            let position = self.head.position + 1;
            let digest = Hashed {
                position,
                stream: &event.stream,
                version: event.version,
                event_type: event.event_type().as_str(),
                unit: &event.unit,
                actor: &event.actor,
                occurred_at: event.occurred_at.as_str(),
                recorded_at,
                submission_id: &event.submission_id,
                data: &data,
                prev_hash: &self.head.hash,
            }
            .digest(&mut self.buffer);
            let hash = chain::hex_of(&digest);
            let node = self
                .maintain_tree
                .then(|| self.frontier.append(&digest).to_bytes());
            self.head = Head {
                position,
                hash: hash.clone(),
            };
            prepared.push(PreparedEvent { data, hash, node });
        }
        Ok(prepared)
    }
}

/// Calls `consume` with a source of the prepared events of `accepted`
/// (each call gives the next decision's), then returns what it returned and
/// the chain after the last one. With at least [`PIPELINE_MIN_EVENTS`]
/// events the preparing runs on a second thread, handing over chunks of
/// 1, 2, 4, ... decisions up to [`PIPELINE_CHUNK`], [`PIPELINE_DEPTH`]
/// chunks ahead at most.
///
/// # Errors
/// What `consume` or the preparing returns; a preparing thread that
/// panicked is [`StoreError::InvalidDecision`].
pub(crate) fn pipelined<R>(
    mut chain: Chain,
    accepted: &[&Decision],
    recorded_at: &str,
    consume: impl FnOnce(
        &mut dyn FnMut() -> Result<Vec<PreparedEvent>, StoreError>,
    ) -> Result<R, StoreError>,
) -> Result<(R, Chain), StoreError> {
    let events: usize = accepted
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Accepted(events) => events.len(),
            Outcome::Rejected(_) => 0,
        })
        .sum();
    if events < PIPELINE_MIN_EVENTS {
        let mut next = accepted.iter();
        let result = consume(&mut || match next.next() {
            Some(decision) => chain.prepare(decision, recorded_at),
            None => Err(gone()),
        })?;
        return Ok((result, chain));
    }
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel::<Vec<Prepared>>(PIPELINE_DEPTH);
        let worker = scope.spawn(move || {
            let mut rest = accepted;
            let mut size = 1;
            while !rest.is_empty() {
                let (decisions, after) = rest.split_at(size.min(rest.len()));
                rest = after;
                size = (size * 2).min(PIPELINE_CHUNK);
                let mut chunk = Vec::with_capacity(decisions.len());
                let mut failed = false;
                for decision in decisions {
                    let prepared = chain.prepare(decision, recorded_at);
                    failed = prepared.is_err();
                    chunk.push(prepared);
                    if failed {
                        break;
                    }
                }
                // A closed channel: the inserting stage stopped with an error.
                if send.send(chunk).is_err() || failed {
                    break;
                }
            }
            chain
        });
        let mut ready = std::collections::VecDeque::new();
        let result = consume(&mut || {
            if ready.is_empty() {
                ready.extend(receive.recv().map_err(|_| gone())?);
            }
            ready.pop_front().ok_or_else(gone).and_then(|r| r)
        });
        drop(receive);
        let chain = worker.join().map_err(|_| StoreError::InvalidDecision {
            submission_id: String::new(),
            reason: "the thread preparing the batch's events stopped".to_owned(),
        })?;
        Ok((result?, chain))
    })
}

/// One decision's events made ready, or why they could not be.
type Prepared = Result<Vec<PreparedEvent>, StoreError>;

/// Asked for more prepared decisions than there are accepted ones.
fn gone() -> StoreError {
    StoreError::InvalidDecision {
        submission_id: String::new(),
        reason: "no prepared events are left for an accepted decision".to_owned(),
    }
}
