//! `dotpha audit TASK_ID`: a task's history for a person (or as JSON).

use std::{io::Write, path::Path, process::ExitCode};

use anyhow::{Context, Result, bail};
use dotpha_domain::{Payload, State, payload::Target, time::Date};
use dotpha_store::{Log, RecordedEvent};

pub(crate) fn run(path: &Path, task_id: &str, json: bool) -> Result<ExitCode> {
    let log = Log::open_read_only(path)?;
    let stream = format!("task-{task_id}");
    let events = log
        .stream(&stream)
        .with_context(|| format!("reading {stream} from {}", path.display()))?;
    if events.is_empty() {
        bail!("{}: no task {task_id:?} in the log", path.display());
    }
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "events": events }))?;
        return shown(writeln!(out, "{text}"));
    }
    // Names live in other streams; fold the log once to show people, not
    // ids (forgetting progress reports, which are not shown from the state).
    let state = log.load_state_forgetful()?;
    let mut text = format!(
        "Task {task_id}: {} events (instants as recorded, RFC 3339)\n",
        events.len()
    );
    for event in &events {
        text.push_str(&line(&state, event)?);
        text.push('\n');
    }
    shown(out.write_all(text.as_bytes()))
}

/// The history written out; a reader that went away first (`audit | head`)
/// is not an error.
fn shown(written: std::io::Result<()>) -> Result<ExitCode> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the history to standard output")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn name(state: &State, id: &str) -> String {
    match state.cadre(id) {
        Some(c) => format!("{} ({id})", c.full_name),
        None => id.to_owned(),
    }
}

fn date(d: Date) -> String {
    let s = d.to_string();
    format!("{}/{}/{}", &s[8..10], &s[5..7], &s[0..4])
}

fn targets(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| format!("{} {} -> {}", t.label, t.baseline, t.target))
        .collect::<Vec<_>>()
        .join("; ")
}

fn line(state: &State, event: &RecordedEvent) -> Result<String> {
    let domain = event
        .decode()
        .map_err(|reason| anyhow::anyhow!("event at position {}: {reason}", event.position))?;
    // Every instant is shown exactly as the log holds it (and as it was
    // hashed): re-rendering could turn a stored `08:30:60` into another
    // instant.
    let when = &event.occurred_at;
    let what = match &domain.payload {
        Payload::TaskRegistered(p) => format!(
            "registered \"{}\" ({:?}, {}), due {}; targets: {}",
            p.title,
            p.kind,
            p.category,
            date(p.due),
            targets(&p.targets)
        ),
        Payload::TaskAssigned(p) => format!(
            "assigned \"{}\" to {} ({:?}, {:?}), due {}; targets: {}",
            p.title,
            name(state, &p.assignee),
            p.kind,
            p.origin,
            date(p.due),
            targets(&p.targets)
        ),
        Payload::TaskApproved(p) => format!(
            "approved{}",
            p.comment
                .as_ref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ),
        Payload::PlanSubmitted(p) => format!(
            "submitted a plan: {} solutions ({}), {} milestones",
            p.solutions.len(),
            p.solutions
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            p.milestones.len()
        ),
        Payload::WorkDelegated(p) => format!(
            "delegated {} to {}: {}, due {}",
            p.delegation_id,
            p.to,
            p.description,
            date(p.due)
        ),
        Payload::ProgressReported(p) => {
            let mut parts: Vec<String> = p
                .values
                .iter()
                .map(|v| format!("{} = {}", v.metric, v.value))
                .collect();
            if let Some(percent) = p.percent_complete {
                parts.push(format!("{percent}% complete"));
            }
            if let Some(c) = p.confidence {
                parts.push(format!("confidence {c:?}").to_lowercase());
            }
            if let Some(note) = &p.note {
                parts.push(format!("\"{note}\""));
            }
            format!(
                "reported progress as of {}: {}",
                date(p.as_of),
                parts.join(", ")
            )
        }
        Payload::TaskReassigned(p) => {
            format!("reassigned to {}: {}", name(state, &p.assignee), p.reason)
        }
        Payload::TaskCancelled(p) => format!("cancelled: {}", p.reason),
        Payload::TaskEvaluated(p) => format!(
            "evaluated: {}{}: {}",
            p.rating.map(|r| r.as_str()).unwrap_or("-"),
            p.score.map(|s| format!(" (score {s})")).unwrap_or_default(),
            p.comment
        ),
        other => format!("{}", other.event_type()),
    };
    Ok(format!(
        "{when}  v{:<3} #{:<7} {:<18} by {} for {}: {what}\n    recorded {}, hash {}",
        event.version,
        event.position,
        event.event_type,
        name(state, &event.actor),
        event.unit,
        event.recorded_at,
        event.hash
    ))
}
