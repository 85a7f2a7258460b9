//! Brings a read model of the version before this one
//! ([`schema::PREVIOUS_VERSION`]) forward in place, in one transaction:
//! each table whose layout changed is made again from this version's
//! schema and its rows copied. A read model can always be rebuilt from the
//! log, but a worker that follows the stream without a log beside it has
//! nothing to rebuild from, so the step from the previous version is a
//! copy of rows instead. Older versions are still refused
//! ([`crate::ViewError::OtherVersion`]: rebuild them).

use std::collections::HashMap;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::{SCHEMA_VERSION, apply, schema};

/// The tables whose layout changed from the previous version (they became
/// `WITHOUT ROWID`, or `task_events`, whose object may now be NULL); their
/// columns did not, so rows copy as they are.
const REMADE: [&str; 6] = [
    "meta",
    "targets",
    "delegations",
    "milestone_completions",
    "reviews",
    "task_events",
];

/// Upgrades the read model on `conn` from [`schema::PREVIOUS_VERSION`];
/// does nothing when another connection did it meanwhile.
pub(crate) fn from_previous(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != schema::PREVIOUS_VERSION {
        return Ok(());
    }
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
    reports(&tx)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// Makes `reports` from version 6's `progress` and `reported_values`: a row
/// per report, its values written as applying writes them
/// (`apply::values_json`). Reads a task's values once, as its first report
/// comes (in the order of `progress`'s key, task by task).
fn reports(tx: &rusqlite::Transaction<'_>) -> Result<(), rusqlite::Error> {
    let Some(create) = schema::create_table("reports") else {
        return Err(missing("reports"));
    };
    tx.execute_batch(create)?;
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
        for table in REMADE.into_iter().chain(["reports"]) {
            let create = schema::create_table(table).expect("in the schema");
            assert!(create.starts_with(&format!("CREATE TABLE {table} (")));
            if table != "task_events" {
                assert!(create.ends_with(") WITHOUT ROWID;"), "{create}");
            }
        }
    }
}
