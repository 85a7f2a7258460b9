//! Backing up and restoring the log file.
//!
//! A backup is a consistent snapshot taken while the writer runs (SQLite's
//! `VACUUM INTO` reads inside one transaction), checked by `verify` before it
//! is called a backup. Restoring never deletes: the log it replaces is set
//! aside beside it, whole (its write-ahead log folded in first).

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::{Head, Log, StoreError};

/// What a backup or a restore leaves behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    /// The copy's last event.
    pub head: Head,
    /// Where the log that was replaced now lies (restore only).
    pub set_aside: Option<PathBuf>,
}

fn io(path: &Path, action: &str, error: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        action: action.to_owned(),
        source: error,
    }
}

/// Checks a copy: it must be a dotpha log whose chain verifies.
fn verified(path: &Path) -> Result<Head, StoreError> {
    let log = Log::open_read_only(path)?;
    let report = log.verify(None)?;
    if !report.ok {
        return Err(StoreError::NotALog {
            path: path.display().to_string(),
            reason: format!(
                "its chain breaks at position {}: {}",
                report.first_bad_position.unwrap_or(0),
                report.problem.unwrap_or_default()
            ),
        });
    }
    Ok(Head {
        position: report.head_position,
        hash: report.head_hash,
    })
}

impl Log {
    /// Writes a consistent copy of the log to `destination` (which must not
    /// exist) and verifies it. Safe while the writer runs.
    pub fn backup(&self, destination: &Path) -> Result<Copied, StoreError> {
        if destination.exists() {
            return Err(io(
                destination,
                "backing up to",
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it already exists"),
            ));
        }
        let target = destination.to_str().ok_or_else(|| {
            io(
                destination,
                "backing up to",
                std::io::Error::other("the path is not UTF-8"),
            )
        })?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        let head = verified(destination)?;
        Ok(Copied {
            head,
            set_aside: None,
        })
    }
}

/// A backup file whose chain has been verified: what [`VerifiedBackup::restore_to`]
/// puts in place, checked once.
#[derive(Clone, Debug)]
pub struct VerifiedBackup {
    path: PathBuf,
    head: Head,
}

impl VerifiedBackup {
    /// Opens `path` and verifies its whole chain.
    pub fn open(path: &Path) -> Result<VerifiedBackup, StoreError> {
        Ok(VerifiedBackup {
            path: path.to_owned(),
            head: verified(path)?,
        })
    }

    /// The backup's last event.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Replaces the log at `log` with this backup. The log it replaces (if
    /// any) is first folded into one file and renamed to
    /// `log.sqlite.replaced-<suffix>`; nothing is deleted. The caller must
    /// hold the data directory's writer lock.
    pub fn restore_to(&self, log: &Path, suffix: &str) -> Result<Copied, StoreError> {
        restore_verified(&self.path, &self.head, log, suffix)
    }
}

/// [`VerifiedBackup::open`], then [`VerifiedBackup::restore_to`].
pub fn restore(backup: &Path, log: &Path, suffix: &str) -> Result<Copied, StoreError> {
    VerifiedBackup::open(backup)?.restore_to(log, suffix)
}

fn restore_verified(
    backup: &Path,
    head: &Head,
    log: &Path,
    suffix: &str,
) -> Result<Copied, StoreError> {
    let mut set_aside = None;
    if log.exists() {
        // Fold the write-ahead log into the file, so the renamed file holds
        // everything the replaced log held.
        let conn = Connection::open(log)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        drop(conn);
        let aside = log.with_file_name(format!(
            "{}.replaced-{suffix}",
            log.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("log.sqlite")
        ));
        std::fs::rename(log, &aside).map_err(|e| io(log, "setting aside", e))?;
        set_aside = Some(aside);
    }
    let partial = log.with_extension("sqlite.restoring");
    std::fs::copy(backup, &partial).map_err(|e| io(&partial, "copying the backup to", e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&partial, "syncing", e))?;
    std::fs::rename(&partial, log).map_err(|e| io(log, "putting the backup in place as", e))?;
    // A byte-for-byte copy of a verified file: its head is enough to show
    // the right file landed.
    let restored = Log::open_read_only(log)?.head().clone();
    if &restored != head {
        return Err(StoreError::NotALog {
            path: log.display().to_string(),
            reason: format!(
                "the restored copy ends at {}:{}, the backup at {}:{}",
                restored.position, restored.hash, head.position, head.hash
            ),
        });
    }
    Ok(Copied {
        head: restored,
        set_aside,
    })
}
