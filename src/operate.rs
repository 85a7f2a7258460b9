//! `dotpha backup` and `dotpha restore`: copying the log out while the writer
//! runs, and putting a copy back when the log is lost.

use std::{path::Path, process::ExitCode};

use anyhow::{Context, Result};
use dotpha_bus::subjects::EVENTS_STREAM;
use dotpha_store::{Log, VerifiedBackup};

use crate::{log_path, services::runtime};

/// Writes a consistent, verified copy of `DIR/log.sqlite` to `to` and prints
/// its head, for recording where the log's host cannot write.
pub(crate) fn backup(data: &Path, to: &Path) -> Result<ExitCode> {
    let log = Log::open_read_only(log_path(data))?;
    let copy = log
        .backup(to)
        .with_context(|| format!("backing up {}", log.path()))?;
    println!(
        "backed up {} events to {}; head {}:{}",
        copy.head.position,
        to.display(),
        copy.head.position,
        copy.head.hash
    );
    println!(
        "record the head elsewhere; `dotpha verify --expect-head {}:{}` later proves the log still holds it",
        copy.head.position, copy.head.hash
    );
    Ok(ExitCode::SUCCESS)
}

/// Puts a verified backup in place of `DIR/log.sqlite` while no writer runs,
/// setting the replaced log aside, and deletes `DOTPHA_EVENTS` so the relay
/// refills it from the restored log (it holds events the restored log does
/// not, or holds differently).
pub(crate) fn restore(data: &Path, nats: &str, backup: &Path) -> Result<ExitCode> {
    // The writer's own lock: a restore under a running writer is refused.
    let lock = dotpha_ingest::lock_data_dir(data).context("stop dotpha ingest (or up) first")?;
    // Verified once, before anything changes: a bad backup leaves the log
    // and the stream as they are.
    let verified = VerifiedBackup::open(backup)
        .with_context(|| format!("{}: not restoring it", backup.display()))?;
    let shown = dotpha_bus::without_credentials(nats);
    runtime()?.block_on(async {
        let connection = dotpha_bus::connect(nats, "dotpha-restore", false)
            .await
            .with_context(|| format!("the restore clears {EVENTS_STREAM} on NATS at {shown}"))?;
        let js = connection.jetstream();
        // The stream belongs to the writer holding the lease: a live writer
        // of this NATS, on any machine, keeps the restore from clearing it.
        let (_keep, not_stopping) = tokio::sync::watch::channel(false);
        let lease = dotpha_ingest::fence(
            &lock,
            &js,
            format!("dotpha restore of {}", log_path(data).display()),
            not_stopping,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("stop that writer before restoring")?;
        // DOTPHA_DECISIONS holds decisions the restored log no longer has:
        // the writer starts it afresh from the restored head.
        let cleared = match dotpha_bus::decisions::delete(&js)
            .await
            .context("clearing DOTPHA_DECISIONS")
        {
            Ok(_) => dotpha_bus::delete_events_stream(&js)
                .await
                .with_context(|| format!("clearing {EVENTS_STREAM}")),
            Err(error) => Err(error),
        };
        if let Some(lease) = lease {
            lease.release().await;
        }
        cleared
    })?;
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    let restored = verified.restore_to(&log_path(data), &suffix)?;
    println!(
        "restored {} events from {}; head {}:{}",
        restored.head.position,
        backup.display(),
        restored.head.position,
        restored.head.hash
    );
    if let Some(aside) = &restored.set_aside {
        println!("the replaced log is kept at {}", aside.display());
    }
    println!(
        "next: start dotpha ingest; it decides again the submissions {} still holds after the backup's read position, and refills {EVENTS_STREAM}. Then run dotpha rebuild for every projection worker and restart them.",
        dotpha_bus::subjects::SUBMISSIONS_STREAM
    );
    Ok(ExitCode::SUCCESS)
}
