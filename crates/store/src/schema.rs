//! The log database's schema and its migrations, versioned by
//! `PRAGMA user_version` and marked as ours by `PRAGMA application_id`.

use rusqlite::{Connection, OptionalExtension};

use crate::StoreError;

/// Marks a SQLite file as a dotpha log ("dotp" in ASCII), so a foreign
/// database is refused instead of being migrated into.
pub(crate) const APPLICATION_ID: i32 = 0x646f_7470;

/// Migrations, in order; migration `i` brings `user_version` to `i + 1`.
/// Never edit one that has shipped: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the event log and the decisions, both append-only.
    r#"
    CREATE TABLE events (
        position      INTEGER PRIMARY KEY CHECK (position >= 1),
        schema        TEXT    NOT NULL DEFAULT 'dotpha.event.v1',
        stream        TEXT    NOT NULL,
        version       INTEGER NOT NULL CHECK (version >= 1),
        type          TEXT    NOT NULL,
        unit          TEXT    NOT NULL,
        actor         TEXT    NOT NULL,
        occurred_at   TEXT    NOT NULL,
        recorded_at   TEXT    NOT NULL,
        submission_id TEXT    NOT NULL,
        data          TEXT    NOT NULL,
        prev_hash     TEXT    NOT NULL,
        hash          TEXT    NOT NULL,
        UNIQUE (stream, version)
    );

    CREATE TABLE decisions (
        seq            INTEGER PRIMARY KEY,
        submission_id  TEXT    NOT NULL UNIQUE,
        status         TEXT    NOT NULL CHECK (status IN ('accepted', 'rejected')),
        unit           TEXT,
        first_position INTEGER,
        last_position  INTEGER,
        error_code     TEXT,
        error_message  TEXT,
        error_field    TEXT,
        submission     TEXT,
        recorded_at    TEXT    NOT NULL,
        CHECK ((status = 'accepted') = (first_position IS NOT NULL AND last_position IS NOT NULL
                                        AND error_code IS NULL))
    );

    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;
    CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only: they cannot be updated'); END;
    CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only: they cannot be deleted'); END;
    "#,
    // 2: what the log's readers need to resume exactly: named checkpoints
    // (mutable, outside the chain) and dead letters (append-only).
    r#"
    CREATE TABLE checkpoints (
        name     TEXT    PRIMARY KEY,
        position INTEGER NOT NULL
    );
    CREATE TABLE dead_letters (
        seq             INTEGER PRIMARY KEY,
        stream_sequence INTEGER,
        subject         TEXT NOT NULL,
        headers         TEXT NOT NULL,
        payload         BLOB NOT NULL,
        reason          TEXT NOT NULL,
        recorded_at     TEXT NOT NULL
    );
    CREATE TRIGGER dead_letters_no_update BEFORE UPDATE ON dead_letters
    BEGIN SELECT RAISE(ABORT, 'dead letters are append-only: they cannot be updated'); END;
    CREATE TRIGGER dead_letters_no_delete BEFORE DELETE ON dead_letters
    BEGIN SELECT RAISE(ABORT, 'dead letters are append-only: they cannot be deleted'); END;
    "#,
    // 3: a checkpoint may name what it points at (the writer keeps the
    // Nats-Msg-Id of the last message it read, to recognise a stream that
    // was lost and refilled under the same sequence numbers).
    r#"
    ALTER TABLE checkpoints ADD COLUMN tag TEXT;
    "#,
    // 4: a submission refused because its id was already decided for another
    // unit is kept as a dead letter of its own sender, found again by id and
    // unit (CONTRACT.md part C: one decision per id, private to its sender).
    r#"
    ALTER TABLE dead_letters ADD COLUMN submission_id TEXT;
    ALTER TABLE dead_letters ADD COLUMN unit TEXT;
    CREATE INDEX dead_letters_by_submission ON dead_letters (submission_id, unit)
        WHERE submission_id IS NOT NULL;
    "#,
    // 5: the log as an RFC 9162 Merkle tree (CONTRACT.md part B): per event,
    // the node hashes its leaf completes (32 bytes each, leaf hash first),
    // written with the event; the checkpoints the log signed; the witnesses'
    // cosignatures it received. The tree of an older log is filled from its
    // events when the writer opens it (`tree::fill`).
    r#"
    CREATE TABLE tree_nodes (
        position INTEGER PRIMARY KEY CHECK (position >= 1),
        hashes   BLOB    NOT NULL CHECK (length(hashes) >= 32 AND length(hashes) % 32 = 0)
    );
    CREATE TABLE tree_checkpoints (
        tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
        root_hash TEXT    NOT NULL,
        note      TEXT    NOT NULL,
        signed_at TEXT    NOT NULL
    );
    CREATE TABLE cosignatures (
        tree_size   INTEGER NOT NULL,
        witness     TEXT    NOT NULL,
        line        TEXT    NOT NULL,
        timestamp   INTEGER NOT NULL,
        received_at TEXT    NOT NULL,
        PRIMARY KEY (tree_size, witness)
    );
    CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
    BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: nodes cannot be updated'); END;
    CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
    BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: nodes cannot be deleted'); END;
    CREATE TRIGGER tree_checkpoints_no_update BEFORE UPDATE ON tree_checkpoints
    BEGIN SELECT RAISE(ABORT, 'signed checkpoints are append-only: they cannot be updated'); END;
    CREATE TRIGGER tree_checkpoints_no_delete BEFORE DELETE ON tree_checkpoints
    BEGIN SELECT RAISE(ABORT, 'signed checkpoints are append-only: they cannot be deleted'); END;
    "#,
    // 6: `events` without its unique index on (stream, version). Streams
    // interleave, so that index took each batch's inserts all over its
    // pages: 60% of the cost of writing a submission's rows (BENCHMARKS.md,
    // "what each part of the rows costs"). What it guarded is kept where it
    // is checked anyway: the writer gives each event its stream's next
    // version from its state (a domain property test checks it against
    // versions counted apart), and `verify` refuses a log whose stream
    // skips or repeats a version. Reading one stream (`dotpha audit`) scans
    // the log instead. SQLite cannot drop the index of a UNIQUE constraint,
    // so the table is copied once, rows and triggers unchanged.
    r#"
    CREATE TABLE events_without_stream_index (
        position      INTEGER PRIMARY KEY CHECK (position >= 1),
        schema        TEXT    NOT NULL DEFAULT 'dotpha.event.v1',
        stream        TEXT    NOT NULL,
        version       INTEGER NOT NULL CHECK (version >= 1),
        type          TEXT    NOT NULL,
        unit          TEXT    NOT NULL,
        actor         TEXT    NOT NULL,
        occurred_at   TEXT    NOT NULL,
        recorded_at   TEXT    NOT NULL,
        submission_id TEXT    NOT NULL,
        data          TEXT    NOT NULL,
        prev_hash     TEXT    NOT NULL,
        hash          TEXT    NOT NULL
    );
    INSERT INTO events_without_stream_index
        (position, schema, stream, version, type, unit, actor, occurred_at, recorded_at,
         submission_id, data, prev_hash, hash)
        SELECT position, schema, stream, version, type, unit, actor, occurred_at, recorded_at,
               submission_id, data, prev_hash, hash
          FROM events ORDER BY position;
    DROP TABLE events;
    ALTER TABLE events_without_stream_index RENAME TO events;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings a writable database to [`SCHEMA_VERSION`], creating it when empty.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version = check(conn, path)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i32 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

/// Checks that the database is ours (or empty) and not newer than this
/// build; returns its schema version (0 for an empty database).
pub(crate) fn check(conn: &Connection, path: &str) -> Result<i32, StoreError> {
    let read = |e: rusqlite::Error| StoreError::NotALog {
        path: path.to_owned(),
        reason: format!("cannot be read as SQLite: {e}"),
    };
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(read)?;
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(read)?;
    if application_id == 0 && version == 0 {
        let any_table: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(read)?;
        return match any_table {
            None => Ok(0),
            Some(table) => Err(StoreError::NotALog {
                path: path.to_owned(),
                reason: format!(
                    "it is a SQLite database of something else (it has a table {table:?} and no dotpha mark)"
                ),
            }),
        };
    }
    if application_id != APPLICATION_ID {
        return Err(StoreError::NotALog {
            path: path.to_owned(),
            reason: format!(
                "its application_id is {application_id:#x}, not dotpha's {APPLICATION_ID:#x}"
            ),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}
