//! Offline check of the whole log: the hash chain, gapless positions,
//! consecutive stream versions, that every event belongs to exactly one
//! accepted decision whose events are consecutive, and that every event
//! decodes with the decoder the services use
//! ([`dotpha_domain::wire::decode_event`]), so verify never calls intact a
//! log the services cannot read.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::{
    FOLD_CHUNK, FOLD_CHUNKS_IN_FLIGHT, Head, RawChunk, StoreError,
    chain::Hashed,
    records::{EVENT_SCHEMA, GENESIS_HASH},
};

/// The outcome of [`crate::Log::verify`], also the body of
/// `GET /api/v1/log/verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// True when nothing is wrong.
    pub ok: bool,
    /// Position of the last event in the log.
    pub head_position: u64,
    /// Hash of the last event ([`GENESIS_HASH`] when empty).
    pub head_hash: String,
    /// The first position at which the log is wrong.
    pub first_bad_position: Option<u64>,
    /// What is wrong there, for a person.
    pub problem: Option<String>,
    /// How many events were checked before stopping.
    pub events_checked: u64,
    /// Things that do not make the log wrong but that an inspector should
    /// know, such as a missing append-only trigger.
    pub warnings: Vec<String>,
}

const TRIGGERS: [&str; 10] = [
    "events_no_update",
    "events_no_delete",
    "decisions_no_update",
    "decisions_no_delete",
    "dead_letters_no_update",
    "dead_letters_no_delete",
    "tree_nodes_no_update",
    "tree_nodes_no_delete",
    "tree_checkpoints_no_update",
    "tree_checkpoints_no_delete",
];

struct Finding {
    position: u64,
    problem: String,
}

fn earliest(found: &mut Option<Finding>, position: u64, problem: String) {
    if found.as_ref().is_none_or(|f| position < f.position) {
        *found = Some(Finding { position, problem });
    }
}

pub(crate) fn verify(
    conn: &Connection,
    expect_head: Option<&Head>,
) -> Result<VerifyReport, StoreError> {
    let mut found: Option<Finding> = None;
    let mut checked = 0u64;
    let mut head = Head::genesis();

    // Accepted decisions in the order they were made; their position ranges
    // must tile the event log exactly, in the same order.
    let mut decisions_stmt = conn.prepare(
        "SELECT submission_id, first_position, last_position FROM decisions
         WHERE status = 'accepted' ORDER BY seq",
    )?;
    let mut decisions = decisions_stmt.query([])?;
    let mut decision: Option<(String, u64, u64)> = None;

    let has_tree = crate::tree::has_tree(conn)?;
    // Decoding costs about what the checks do, so a second thread decodes
    // the rows that passed them while this one goes on.
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let (chunks, received) = std::sync::mpsc::sync_channel::<RawChunk>(FOLD_CHUNKS_IN_FLIGHT);
        let decoder = scope.spawn(move || {
            for chunk in received {
                for row in chunk.rows() {
                    if let Err(e) = chunk.decode(row) {
                        return Some(Finding {
                            position: row.position,
                            problem: format!("the services cannot read this event: {e}"),
                        });
                    }
                }
            }
            None
        });
        let mut chunk = RawChunk::default();
        // The Merkle tree's rows are checked in the same pass (a log not yet
        // migrated, opened read-only, has none).
        let mut events_stmt = conn.prepare(if has_tree {
            "SELECT e.position, e.stream, e.version, e.type, e.unit, e.actor, e.occurred_at, e.recorded_at,
                    e.submission_id, e.data, e.prev_hash, e.hash, e.schema, t.hashes
             FROM events e LEFT JOIN tree_nodes t ON t.position = e.position ORDER BY e.position"
        } else {
            "SELECT position, stream, version, type, unit, actor, occurred_at, recorded_at,
                    submission_id, data, prev_hash, hash, schema, NULL
             FROM events ORDER BY position"
        })?;
        let mut tree = crate::tree::TreeCheck::default();
        let mut rows = events_stmt.query([])?;
        let mut versions: HashMap<String, u64> = HashMap::new();
        let mut buffer = Vec::with_capacity(1024);
        let mut expected = 1u64;
        while let Some(r) = rows.next()? {
            let position: u64 = r.get(0)?;
            let text = |i: usize| r.get_ref(i).map(|v| v.as_str().unwrap_or("\u{0}not text"));
            let hashed = Hashed {
                position,
                stream: text(1)?,
                version: r.get(2)?,
                event_type: text(3)?,
                unit: text(4)?,
                actor: text(5)?,
                occurred_at: text(6)?,
                recorded_at: text(7)?,
                submission_id: text(8)?,
                data: text(9)?,
                prev_hash: text(10)?,
            };
            let stored_hash = text(11)?;
            if position != expected {
                earliest(
                    &mut found,
                    expected,
                    format!("position {expected} is missing (the next event is at {position})"),
                );
                break;
            }
            if text(12)? != EVENT_SCHEMA {
                earliest(
                    &mut found,
                    position,
                    format!("schema is not {EVENT_SCHEMA}"),
                );
                break;
            }
            if hashed.prev_hash != head.hash {
                earliest(
                    &mut found,
                    position,
                    format!(
                        "prev_hash does not equal the hash of position {}",
                        position - 1
                    ),
                );
                break;
            }
            if hashed.hash(&mut buffer) != stored_hash
                && hashed.hash_recanonicalized(&mut buffer).as_deref() != Some(stored_hash)
            {
                earliest(
                    &mut found,
                    position,
                    "the hash does not match the event's contents".to_owned(),
                );
                break;
            }
            if has_tree
                && let Some(problem) =
                    tree.check(stored_hash, r.get_ref(13)?.as_blob_or_null().ok().flatten())
            {
                earliest(&mut found, position, problem);
                break;
            }
            let last = match versions.get_mut(hashed.stream) {
                Some(v) => std::mem::replace(v, hashed.version),
                None => {
                    versions.insert(hashed.stream.to_owned(), hashed.version);
                    0
                }
            };
            if hashed.version != last + 1 {
                earliest(
                    &mut found,
                    position,
                    format!(
                        "stream {} goes from version {last} to {}",
                        hashed.stream, hashed.version
                    ),
                );
                break;
            }
            // Advance to the decision that should hold this position.
            while decision.as_ref().is_none_or(|d| d.2 < position) {
                match decisions.next()? {
                    Some(d) => decision = Some((d.get(0)?, d.get(1)?, d.get(2)?)),
                    None => {
                        decision = None;
                        break;
                    }
                }
            }
            match &decision {
                Some((id, first, last)) if *first <= position && position <= *last => {
                    if id != hashed.submission_id {
                        earliest(
                            &mut found,
                            position,
                            format!(
                                "the event says submission {} but the decision for it is {id}",
                                hashed.submission_id
                            ),
                        );
                        break;
                    }
                }
                _ => {
                    earliest(
                        &mut found,
                        position,
                        format!(
                            "no accepted decision of submission {} covers this event",
                            hashed.submission_id
                        ),
                    );
                    break;
                }
            }
            // Every check passed: the decoder thread reads it as the services
            // would.
            chunk.push_parts(
                position,
                hashed.version,
                [
                    hashed.stream,
                    hashed.event_type,
                    hashed.unit,
                    hashed.actor,
                    hashed.occurred_at,
                    hashed.submission_id,
                    hashed.data,
                ],
            );
            if chunk.len() == FOLD_CHUNK && chunks.send(std::mem::take(&mut chunk)).is_err() {
                // The decoder stopped at an event it cannot read.
                break;
            }
            head = Head {
                position,
                hash: stored_hash.to_owned(),
            };
            checked += 1;
            expected += 1;
        }
        drop(rows);
        let _ = chunks.send(chunk);
        drop(chunks);
        let undecodable = decoder.join().unwrap_or_else(|_| {
            Some(Finding {
                position: expected,
                problem: "the decoder stopped without an answer".to_owned(),
            })
        });
        if let Some(Finding { position, problem }) = undecodable {
            checked = checked.min(position - 1);
            earliest(&mut found, position, problem);
        }
        Ok(())
    })?;

    if found.is_none() {
        // Every event is accounted for; now no accepted decision may point
        // past the end (a truncated tail whose decisions were left behind).
        let beyond =
            decision.as_ref().is_some_and(|d| d.2 > head.position) || decisions.next()?.is_some();
        if beyond {
            earliest(
                &mut found,
                head.position + 1,
                format!(
                    "an accepted decision names position {} or later, which the log does not hold",
                    head.position + 1
                ),
            );
        }
    }
    drop(decisions);

    // And it has no row past the events.
    if has_tree && let Some((position, problem)) = crate::tree::row_beyond(conn, head.position)? {
        earliest(&mut found, position, problem);
    }

    let (last_position, last_hash): (u64, String) = conn
        .query_row(
            "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or((0, GENESIS_HASH.to_owned()));

    if let Some(expected_head) = expect_head {
        let held: Option<String> = conn
            .query_row(
                "SELECT hash FROM events WHERE position = ?1",
                [expected_head.position],
                |r| r.get(0),
            )
            .ok();
        match held {
            _ if expected_head.position == 0 => {}
            None => earliest(
                &mut found,
                last_position + 1,
                format!(
                    "the log ends at position {last_position} but was known to hold position {}: it was truncated",
                    expected_head.position
                ),
            ),
            Some(hash) if hash != expected_head.hash => earliest(
                &mut found,
                expected_head.position,
                format!(
                    "position {} no longer has hash {}: the log was rewritten",
                    expected_head.position, expected_head.hash
                ),
            ),
            Some(_) => {}
        }
    }

    let mut warnings = Vec::new();
    for trigger in TRIGGERS {
        // A log not yet migrated (opened read-only) has no tree tables to
        // guard.
        let table = trigger
            .trim_end_matches("_no_update")
            .trim_end_matches("_no_delete");
        let has_table: bool = conn
            .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
            .exists([table])?;
        if !has_table {
            continue;
        }
        let present: bool = conn
            .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?1")?
            .exists([trigger])?;
        if !present {
            warnings.push(format!(
                "trigger {trigger} is missing: the database no longer enforces append-only"
            ));
        }
    }

    Ok(VerifyReport {
        ok: found.is_none(),
        head_position: last_position,
        head_hash: last_hash,
        first_bad_position: found.as_ref().map(|f| f.position),
        problem: found.map(|f| f.problem),
        events_checked: checked,
        warnings,
    })
}
