//! Brings a read model of an earlier version (from
//! [`schema::OLDEST_UPGRADED`]) forward in place, a version at a time, in
//! one transaction: each table whose layout changed is made again from the
//! next version's schema and its rows copied. A read model can always be
//! rebuilt from the log, but a worker that follows the stream without a log
//! beside it has nothing to rebuild from, so a step from an earlier version
//! is a copy of rows instead. Older versions are still refused
//! ([`crate::ViewError::OtherVersion`]: rebuild them).

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::{SCHEMA_VERSION, apply, schema};

/// The tables whose layout changed from version 6 to 7 (they became
/// `WITHOUT ROWID`, or `task_events`, whose object may now be NULL); their
/// columns did not, so rows copy as they are. Version 8 lays them out as 7
/// did.
const REMADE: [&str; 6] = [
    "meta",
    "targets",
    "delegations",
    "milestone_completions",
    "reviews",
    "task_events",
];

/// Version 7's table of reports, keyed by the task's text id (its
/// statement, verbatim), which the step from 6 makes and the step from 7
/// replaces.
const VERSION_7_REPORTS: &str = "CREATE TABLE reports (
    task_id  TEXT NOT NULL,
    as_of    TEXT NOT NULL,
    position INTEGER NOT NULL,
    percent  REAL,
    vals     TEXT NOT NULL,
    PRIMARY KEY (task_id, as_of, position)
) WITHOUT ROWID;";

/// Upgrades the read model on `conn` from its version (at least
/// [`schema::OLDEST_UPGRADED`]) to [`SCHEMA_VERSION`]; does nothing when
/// another connection did it meanwhile.
pub(crate) fn forward(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if !(schema::OLDEST_UPGRADED..SCHEMA_VERSION).contains(&version) {
        return Ok(());
    }
    if version == 6 {
        from_6(&tx)?;
        version = 7;
    }
    if version == 7 {
        from_7(&tx)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// From version 6 to 7: the small keyed tables `WITHOUT ROWID`, and a row
/// of `reports` per report.
fn from_6(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    for table in REMADE {
        let Some(create) = schema::create_table(table) else {
            return Err(missing(table));
        };
        tx.execute_batch(&format!(
            "ALTER TABLE {table} RENAME TO upgraded_{table};
             {create}
             INSERT INTO {table} SELECT * FROM upgraded_{table};
             DROP TABLE upgraded_{table};"
        ))?;
    }
    reports(tx)
}

/// From version 7 to 8: each task numbered (`tasks.task_no`, the rowid it
/// had, so in the order the tasks were made), with every index of `tasks`
/// (those added within version 7 too, `schema::ADDED_INDEXES`), and
/// `reports` keyed by that number. A report of a task the file does not hold has no number, and
/// no row (applying keeps none either).
fn from_7(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    let (Some(tasks), Some(reports)) = (
        schema::create_table("tasks"),
        schema::create_table("reports"),
    ) else {
        return Err(missing("tasks"));
    };
    let indexes = schema::create_indexes("tasks");
    let added = schema::ADDED_INDEXES;
    tx.execute_batch(&format!(
        "ALTER TABLE tasks RENAME TO upgraded_tasks;
         {tasks}
         INSERT INTO tasks SELECT rowid, * FROM upgraded_tasks ORDER BY rowid;
         DROP TABLE upgraded_tasks;
         {indexes}
         {added}
         ALTER TABLE reports RENAME TO upgraded_reports;
         {reports}
         INSERT INTO reports
             SELECT t.task_no, r.as_of, r.position, r.percent, r.vals
             FROM upgraded_reports r JOIN tasks t ON t.task_id = r.task_id
             ORDER BY t.task_no, r.as_of, r.position;
         DROP TABLE upgraded_reports;"
    ))?;
    // A rename leaves the planner's statistics under the old name, where
    // they would describe the new `reports`' key (led by a number, not a
    // text); those of `tasks` still hold (the same indexes, the same
    // keys).
    for stat in ["sqlite_stat1", "sqlite_stat4"] {
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [stat],
            |r| r.get(0),
        )?;
        if exists {
            tx.execute(&format!("DELETE FROM {stat} WHERE tbl = 'reports'"), [])?;
        }
    }
    Ok(())
}

/// Makes version 7's `reports` ([`VERSION_7_REPORTS`]) from version 6's
/// `progress` and `reported_values`: a row per report, its values written as applying writes them
/// (`apply::values_json`). Reads a task's values once, as its first report
/// comes (in the order of `progress`'s key, task by task).
fn reports(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    tx.execute_batch(VERSION_7_REPORTS)?;
    let mut progress = tx.prepare(
        "SELECT task_id, as_of, position, percent FROM progress ORDER BY task_id, as_of, position",
    )?;
    let mut values =
        tx.prepare("SELECT position, metric, value FROM reported_values WHERE task_id = ?1")?;
    let mut insert = tx.prepare(
        "INSERT INTO reports (task_id, as_of, position, percent, vals) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut task: Option<String> = None;
    let mut by_position: HashMap<u64, Vec<(String, f64)>> = HashMap::new();
    let mut rows = progress.query([])?;
    while let Some(row) = rows.next()? {
        let (task_id, as_of, position, percent): (String, String, u64, Option<f64>) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        if task.as_deref() != Some(task_id.as_str()) {
            by_position.clear();
            let mut found = values.query([&task_id])?;
            while let Some(v) = found.next()? {
                by_position
                    .entry(v.get(0)?)
                    .or_default()
                    .push((v.get(1)?, v.get(2)?));
            }
            task = Some(task_id.clone());
        }
        let reported = by_position.remove(&position).unwrap_or_default();
        let vals = apply::values_json(reported.iter().map(|(m, v)| (m.as_str(), *v)));
        insert.execute(params![task_id, as_of, position, percent, vals])?;
    }
    drop(rows);
    tx.execute_batch("DROP TABLE progress; DROP TABLE reported_values;")
}

/// The error of a table missing from the schema's own text: a build error,
/// which `tests::every_remade_table_is_in_the_schema` catches first.
fn missing(table: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERNAL),
        Some(format!("no table {table} in the read model's schema")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_remade_table_is_in_the_schema() {
        for table in REMADE.into_iter().chain(["reports", "tasks"]) {
            let create = schema::create_table(table).expect("in the schema");
            assert!(create.starts_with(&format!("CREATE TABLE {table} (")));
            if table != "task_events" && table != "tasks" {
                assert!(create.ends_with(") WITHOUT ROWID;"), "{create}");
            }
        }
    }

    #[test]
    fn the_tasks_indexes_are_found_in_the_schema() {
        let indexes = schema::create_indexes("tasks");
        assert_eq!(indexes.lines().count(), 5, "{indexes}");
        assert!(indexes.lines().all(|l| l.ends_with(");")), "{indexes}");
    }
}
