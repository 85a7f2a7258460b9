//! Brings a read model of the version before this one
//! ([`schema::PREVIOUS_VERSION`]) forward in place, in one transaction:
//! each table whose layout changed is made again from this version's
//! schema and its rows copied. A read model can always be rebuilt from the
//! log, but a worker that follows the stream without a log beside it has
//! nothing to rebuild from, so the step from the previous version is a
//! copy of rows instead. Older versions are still refused
//! ([`crate::ViewError::OtherVersion`]: rebuild them).

use rusqlite::{Connection, TransactionBehavior};

use crate::{SCHEMA_VERSION, schema};

/// The tables whose layout changed from the previous version (they became
/// `WITHOUT ROWID`); their columns did not, so rows copy as they are.
const REMADE: [&str; 7] = [
    "meta",
    "targets",
    "delegations",
    "reported_values",
    "progress",
    "milestone_completions",
    "reviews",
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
            // The schema's own text lacks a table it names: a build
            // error, which `tests::every_remade_table_is_in_the_schema`
            // catches first.
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERNAL),
                Some(format!("no table {table} in the read model's schema")),
            ));
        };
        tx.execute_batch(&format!(
            "ALTER TABLE {table} RENAME TO upgraded_{table};
             {create}
             INSERT INTO {table} SELECT * FROM upgraded_{table};
             DROP TABLE upgraded_{table};"
        ))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_remade_table_is_in_the_schema() {
        for table in REMADE {
            let create = schema::create_table(table).expect("in the schema");
            assert!(create.starts_with(&format!("CREATE TABLE {table} (")));
            assert!(create.ends_with(") WITHOUT ROWID;"), "{create}");
        }
    }
}
