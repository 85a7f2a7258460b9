//! What SQLite did with a connection's statements, for tests of how the
//! log and the read models use it.

use rusqlite::{Connection, ffi};

/// The statements of `conn` (each as its SQL, with runs of whitespace made
/// one space) that SQLite compiled again after preparing them, with how
/// many times: a statement kept in rusqlite's cache should be compiled
/// once, however many times and with whatever values it runs. SQLite
/// compiles one again when the schema changes under it (an `ANALYZE`, a
/// migration) and, unless the query planner stability guarantee is on,
/// whenever a newly bound value might choose a better plan.
pub fn statements_compiled_again(conn: &Connection) -> Vec<(String, i32)> {
    let mut found = Vec::new();
    // SAFETY: `handle` is the live connection `conn` borrows for this whole
    // call, on this thread; `sqlite3_next_stmt` walks that connection's own
    // list of statements, none of which is finalized while it is borrowed,
    // and `sqlite3_sql` of one of them is its NUL-terminated SQL, owned by
    // the statement and copied out here before the next step.
    unsafe {
        let db = conn.handle();
        let mut statement = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !statement.is_null() {
            let again = ffi::sqlite3_stmt_status(statement, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            let sql = ffi::sqlite3_sql(statement);
            if again > 0 && !sql.is_null() {
                let text = std::ffi::CStr::from_ptr(sql).to_string_lossy();
                found.push((text.split_whitespace().collect::<Vec<_>>().join(" "), again));
            }
            statement = ffi::sqlite3_next_stmt(db, statement);
        }
    }
    found
}
