//! `dotpha status`: the writers of a NATS deployment as NATS alone knows
//! them (`dotpha_bus::status`), for an operator on any host.

use std::process::ExitCode;

use anyhow::{Context, Result};
use dotpha_bus::{
    lease::LEASE_TTL,
    status::{LeaseState, OBSERVE, Status},
};

use crate::services::runtime;

/// Prints who writes the log on `nats`, every writer process's role and
/// lag, and the last takeover (as JSON with `json`). Exit 0 when a valid
/// writer holds the lease, 1 when none does, 2 when NATS cannot be asked.
pub(crate) fn run(nats: &str, json: bool) -> Result<ExitCode> {
    let shown = dotpha_bus::without_credentials(nats);
    let status = runtime()?.block_on(async {
        let connection = dotpha_bus::connect(nats, "dotpha-status", false)
            .await
            .with_context(|| format!("connecting to NATS at {shown}"))?;
        dotpha_bus::status::status(&connection.jetstream())
            .await
            .with_context(|| format!("reading the writers' state from NATS at {shown}"))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&shown, &status));
    }
    Ok(if status.has_active_writer() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report for a person: the lease, the stream's end, the last
/// takeover, then a table of the writer processes.
fn render(nats: &str, status: &Status) -> String {
    let mut out = format!("NATS: {nats}\n");
    let lease = &status.lease;
    let holder = lease.holder.as_ref();
    let written = lease.written_at.as_deref().unwrap_or("?");
    let line = match (lease.state, holder) {
        (LeaseState::Active, Some(h)) => format!(
            "active: {h}, renewed {} times, last at {written} (NATS's clock)",
            h.renewals
        ),
        (LeaseState::Released, Some(h)) => format!(
            "NONE: released by {h} at {written}: the last writer stopped cleanly and nobody writes"
        ),
        (LeaseState::NotRenewing, Some(h)) => format!(
            "NONE VALID: {h} has not renewed it for {} s (last at {written}): it is dead, paused or cut off from NATS and holds its writes; a standby takes the lease once it saw no renewal for {} s",
            OBSERVE.as_secs(),
            LEASE_TTL.as_secs()
        ),
        _ => "NONE: no writer has held the writer's lease on this NATS".to_owned(),
    };
    out.push_str(&format!("writer:        {line}\n"));
    out.push_str(&format!(
        "decisions:     {}\n",
        match &status.decisions {
            Some(end) if end.last_sequence > 0 => format!(
                "DOTPHA_DECISIONS ends at record {} ({} held), stored {}",
                end.last_sequence,
                end.messages,
                end.last_at.as_deref().unwrap_or("?")
            ),
            Some(_) => "DOTPHA_DECISIONS holds no record yet".to_owned(),
            None => "DOTPHA_DECISIONS does not exist".to_owned(),
        }
    ));
    out.push_str(&format!(
        "last takeover: {}\n",
        match &status.last_takeover {
            Some(takeover) => format!(
                "{}, from {}",
                takeover.at,
                takeover.from.as_deref().unwrap_or("another writer")
            ),
            None if holder.is_some() => "none (one owner since the lease was made)".to_owned(),
            None => "none".to_owned(),
        }
    ));
    if status.writers.is_empty() {
        out.push_str("writers:       none has a record (a writer writes one every second)\n");
        return out;
    }
    let rows: Vec<[String; 8]> = status
        .writers
        .iter()
        .map(|w| {
            [
                // A process that stopped renewing its record may be gone:
                // its role is only what it last said.
                format!(
                    "{}{}{}",
                    if w.renewing { "" } else { "was " },
                    w.record.role,
                    if w.holds_lease { " *" } else { "" }
                ),
                w.record.host.clone(),
                w.record.pid.to_string(),
                w.record.applied.to_string(),
                w.lag_records.to_string(),
                w.record.log_head.to_string(),
                if w.renewing {
                    "yes".to_owned()
                } else {
                    format!("NO (last {})", w.written_at)
                },
                w.record.log.clone(),
            ]
        })
        .collect();
    let header = [
        "ROLE", "HOST", "PID", "RECORD", "LAG", "HEAD", "RENEWING", "LOG",
    ];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    out.push('\n');
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    let takeovers: Vec<String> = status
        .writers
        .iter()
        .filter_map(|w| {
            w.record.last_takeover.as_ref().map(|at| {
                format!(
                    "{} (pid {} on {}) took over at {at}",
                    w.record.role, w.record.pid, w.record.host
                )
            })
        })
        .collect();
    out.push_str(
        "\n* holds the writer's lease. \"was\": the process stopped renewing its record (stopped, dead or cut off; the record expires after a minute), so its role is what it last said. RECORD: the last record of DOTPHA_DECISIONS its log holds; LAG: records behind the stream's end (as of its last record, at most a second old); HEAD: its log's head position.\n",
    );
    for takeover in takeovers {
        out.push_str(&format!("{takeover}\n"));
    }
    out
}
