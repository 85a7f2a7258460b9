//! Events as the log holds them, read in bulk without a `String` per
//! column ([`Log::read_rows`]): what a reader that decodes every event (a
//! read model's rebuild) needs, where [`Log::events_from`] gives records
//! to keep.

use dotpha_domain::{Event, wire::DecodeError};
use rusqlite::params;

use crate::{Log, StoreError};

/// Texts of a row, in the order of [`SELECT_ROWS`] after its position and
/// version.
const TEXTS: usize = 9;

const SELECT_ROWS: &str = "SELECT position, version, stream, type, unit, actor, occurred_at,
        submission_id, data, prev_hash, hash
     FROM events WHERE position >= ?1 ORDER BY position LIMIT ?2";

/// Consecutive events of the log, not yet decoded: every text of every row
/// in one buffer, filled again in place by [`Log::read_rows`], so reading
/// allocates nothing once the buffer has grown, and the rows travel to
/// another thread, or back, as one value.
#[derive(Debug, Default)]
pub struct EventRows {
    text: String,
    rows: Vec<Row>,
}

/// One row of [`EventRows`]: its text `i` is `text[ends[i]..ends[i + 1]]`.
#[derive(Debug)]
struct Row {
    position: u64,
    version: u64,
    ends: [usize; TEXTS + 1],
}

/// One event of [`EventRows`], its columns borrowed.
#[derive(Clone, Copy, Debug)]
pub struct RawEvent<'a> {
    /// Place in the log.
    pub position: u64,
    /// Version within its stream.
    pub version: u64,
    /// Its stream.
    pub stream: &'a str,
    /// Its type.
    pub event_type: &'a str,
    /// The unit the submission was sent for.
    pub unit: &'a str,
    /// Who acted.
    pub actor: &'a str,
    /// When it happened, as the publisher said.
    pub occurred_at: &'a str,
    /// The submission it came from.
    pub submission_id: &'a str,
    /// Its data, in canonical form.
    pub data: &'a str,
    /// The hash of the event before.
    pub prev_hash: &'a str,
    /// Its hash.
    pub hash: &'a str,
}

impl RawEvent<'_> {
    /// The event, by the decoder every reader of the log uses
    /// ([`dotpha_domain::wire::decode_event`]).
    pub fn decode(&self) -> Result<Event, DecodeError> {
        dotpha_domain::wire::decode_event(
            self.stream,
            self.version,
            self.event_type,
            self.unit,
            self.actor,
            self.occurred_at,
            self.submission_id,
            self.data,
        )
    }
}

impl EventRows {
    /// How many rows it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, in log order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RawEvent<'_>> {
        self.rows.iter().map(|row| {
            let text = |i: usize| &self.text[row.ends[i]..row.ends[i + 1]];
            RawEvent {
                position: row.position,
                version: row.version,
                stream: text(0),
                event_type: text(1),
                unit: text(2),
                actor: text(3),
                occurred_at: text(4),
                submission_id: text(5),
                data: text(6),
                prev_hash: text(7),
                hash: text(8),
            }
        })
    }

    /// The last row's position.
    pub fn last_position(&self) -> Option<u64> {
        self.rows.last().map(|row| row.position)
    }

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }
}

impl Log {
    /// Reads up to `limit` events from position `from` on, in log order,
    /// into `rows` (emptied first; its buffers are kept). Returns how many
    /// it read.
    pub fn read_rows(
        &self,
        from: u64,
        limit: usize,
        rows: &mut EventRows,
    ) -> Result<usize, StoreError> {
        rows.clear();
        let mut stmt = self.conn.prepare_cached(SELECT_ROWS)?;
        let mut found = stmt.query(params![from, i64::try_from(limit).unwrap_or(i64::MAX)])?;
        while let Some(r) = found.next()? {
            let position: u64 = r.get(0)?;
            let mut ends = [0; TEXTS + 1];
            ends[0] = rows.text.len();
            for i in 0..TEXTS {
                let column = i + 2;
                let text = r
                    .get_ref(column)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt {
                        path: self.path.clone(),
                        position,
                        reason: format!("column {column} is not text: {e}"),
                    })?;
                rows.text.push_str(text);
                ends[i + 1] = rows.text.len();
            }
            rows.rows.push(Row {
                position,
                version: r.get(1)?,
                ends,
            });
        }
        Ok(rows.rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arrival, Ledger};

    /// The kind: a statement the log keeps is compiled once, however many
    /// times and with whatever values it runs (reading the log by chunks
    /// from any position, a stream, the last batch's receipts), on the
    /// writer's connection and a reader's.
    #[test]
    fn statements_are_compiled_once_whatever_values_they_run_with() {
        use dotpha_testkit::sqlite::statements_compiled_again;
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("log.sqlite");
        let mut ledger = Ledger::open(&path).expect("the log opens");
        let mut workload = dotpha_testkit::Workload::new("plan", 3, 2);
        let mut messages = workload.setup();
        messages.extend((0..40).map(|_| workload.next_report()));
        let now = dotpha_domain::Timestamp::from_unix_millis(1_614_648_600_123);
        for chunk in messages.chunks(7) {
            let arrivals = chunk
                .iter()
                .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
                .collect();
            ledger.submit_batch(arrivals, &now).expect("decided");
        }
        let reader = Log::open_read_only(&path).expect("opens");
        for log in [ledger.log(), &reader] {
            let head = log.head().position;
            let mut rows = EventRows::default();
            let mut streams = std::collections::BTreeSet::new();
            for from in 1..=head {
                for limit in [1, 3, 64] {
                    log.read_rows(from, limit, &mut rows).expect("rows");
                    for event in log.events_from(from, limit).expect("events") {
                        streams.insert(event.stream);
                    }
                }
            }
            for stream in &streams {
                log.stream(stream).expect("a stream");
            }
            for at_most in [1, 5, 100] {
                log.last_batch_receipts(at_most).expect("receipts");
            }
            assert_eq!(statements_compiled_again(&log.conn), []);
        }
    }
}
