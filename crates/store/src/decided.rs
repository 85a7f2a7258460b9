//! The submission ids a writable log has decided, as a Bloom filter in
//! front of the unique index on `decisions.submission_id`.
//!
//! Nearly every id a writer looks up is new; the filter says so without a
//! B-tree search (the lookup was 18% of the writer's core, BENCHMARKS.md
//! "The log"). It can only err towards "maybe decided", after which the
//! index answers, so what is decided never changes. Built from the table
//! when the log is opened for writing; every commit of this handle adds its
//! ids (appends and replicated records alike), and a filter past its
//! capacity is built again, twice as large, from the table.

use fastbloom::BloomFilter;
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// The share of new ids the filter calls "maybe decided" (each then costs
/// the index lookup it saves for the others). About 9.6 bits an id.
const FALSE_POSITIVE_RATE: f64 = 0.01;

/// The smallest capacity, in ids: a new log's filter is a few kilobytes
/// and is not rebuilt for its first batches.
const MIN_CAPACITY: usize = 65_536;

/// A filter of every id a log decided.
pub(crate) struct Decided {
    filter: BloomFilter,
    items: usize,
    capacity: usize,
}

impl Decided {
    /// The filter of every id in the decisions of the log at `path`, read
    /// through a connection of its own (the scan would otherwise fill the
    /// writer's page cache with pages it never needs again), with room for
    /// as many again.
    pub(crate) fn load(path: &str) -> Result<Decided, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(crate::BUSY_TIMEOUT)?;
        Decided::load_from(&conn)
    }

    /// [`Decided::load`] through `conn`.
    fn load_from(conn: &Connection) -> Result<Decided, StoreError> {
        let count: i64 = conn.query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))?;
        let items = usize::try_from(count).unwrap_or(0);
        let capacity = (items * 2).max(MIN_CAPACITY);
        let mut decided = Decided {
            filter: BloomFilter::with_false_pos(FALSE_POSITIVE_RATE).expected_items(capacity),
            items: 0,
            capacity,
        };
        let mut stmt = conn.prepare("SELECT submission_id FROM decisions")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: &str = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            decided.insert(id);
        }
        Ok(decided)
    }

    /// False only for an id never decided.
    pub(crate) fn may_hold(&self, submission_id: &str) -> bool {
        self.filter.contains(submission_id)
    }

    /// Adds an id just committed.
    pub(crate) fn insert(&mut self, submission_id: &str) {
        self.filter.insert(submission_id);
        self.items += 1;
    }

    /// Holding more ids than it was built for (its false positives grow).
    pub(crate) fn is_full(&self) -> bool {
        self.items > self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ids: impl IntoIterator<Item = String>) -> Connection {
        let conn = Connection::open_in_memory().expect("memory");
        conn.execute_batch("CREATE TABLE decisions (submission_id TEXT NOT NULL UNIQUE)")
            .expect("table");
        let mut insert = conn
            .prepare("INSERT INTO decisions VALUES (?1)")
            .expect("insert");
        for id in ids {
            insert.execute([id]).expect("row");
        }
        drop(insert);
        conn
    }

    #[test]
    fn every_id_decided_is_held_before_and_after_growing_past_capacity() {
        let conn = table((0..1_000).map(|i| format!("before-{i}")));
        let mut decided = Decided::load_from(&conn).expect("load");
        assert_eq!(decided.capacity, MIN_CAPACITY);
        let later: Vec<String> = (0..MIN_CAPACITY).map(|i| format!("later-{i}")).collect();
        for id in &later {
            conn.execute("INSERT INTO decisions VALUES (?1)", [id])
                .expect("row");
            decided.insert(id);
        }
        assert!(decided.is_full(), "{} ids", decided.items);
        let grown = Decided::load_from(&conn).expect("load again");
        assert!(!grown.is_full());
        assert_eq!(grown.capacity, 2 * (MIN_CAPACITY + 1_000));
        for filter in [&decided, &grown] {
            assert!((0..1_000).all(|i| filter.may_hold(&format!("before-{i}"))));
            assert!(later.iter().all(|id| filter.may_hold(id)));
        }
        let strangers = (0..10_000)
            .filter(|i| grown.may_hold(&format!("never-{i}")))
            .count();
        assert!(
            strangers < 500,
            "{strangers} of 10,000 new ids called maybe decided"
        );
    }
}
