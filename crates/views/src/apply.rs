//! Folding one event into the read tables. Pure SQL over what the event
//! says: applying the same events always gives the same tables.

use std::collections::HashMap;

use dotpha_domain::{
    Payload, Rating, TaskStatus, Timestamp,
    payload::{AssignedOrigin, Target},
    text::fold,
    wire::RecordedEvent,
};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::ViewError;

/// What applying needs to know besides the event, kept in memory so a task
/// event does not look it up row by row: names for the search text, and
/// each task's targets and last reported percentage for its completion.
#[derive(Default)]
pub(crate) struct Cache {
    cadres: HashMap<String, (String, String)>,
    units: HashMap<String, String>,
    completion: HashMap<String, Completion>,
}

/// A task's completion inputs: (metric, baseline, target, latest) per
/// target, in order, and the last reported percentage.
#[derive(Clone, Default)]
pub(crate) struct Completion {
    targets: Vec<(String, f64, f64, Option<f64>)>,
    reported: Option<f64>,
}

impl Completion {
    fn percent(&self) -> Option<f64> {
        let targets: Vec<(f64, f64, Option<f64>)> =
            self.targets.iter().map(|t| (t.1, t.2, t.3)).collect();
        percent_complete(&targets, self.reported)
    }
}

impl Cache {
    fn cadre(
        &mut self,
        tx: &Transaction<'_>,
        id: &str,
    ) -> Result<(String, String), rusqlite::Error> {
        if let Some(found) = self.cadres.get(id) {
            return Ok(found.clone());
        }
        let found: (String, String) = tx
            .query_row(
                "SELECT full_name, unit FROM cadres WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or_else(|| (id.to_owned(), String::new()));
        self.cadres.insert(id.to_owned(), found.clone());
        Ok(found)
    }

    fn unit_name(&mut self, tx: &Transaction<'_>, code: &str) -> Result<String, rusqlite::Error> {
        if let Some(found) = self.units.get(code) {
            return Ok(found.clone());
        }
        let found: String = tx
            .query_row("SELECT name FROM units WHERE code = ?1", [code], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or_else(|| code.to_owned());
        self.units.insert(code.to_owned(), found.clone());
        Ok(found)
    }

    fn completion(
        &mut self,
        tx: &Transaction<'_>,
        task_id: &str,
    ) -> Result<&mut Completion, rusqlite::Error> {
        if !self.completion.contains_key(task_id) {
            let targets = tx
                .prepare_cached("SELECT metric, baseline, target, latest FROM targets WHERE task_id = ?1 ORDER BY ord")?
                .query_map([task_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?;
            let reported: Option<f64> = tx
                .prepare_cached("SELECT reported_percent FROM tasks WHERE task_id = ?1")?
                .query_row([task_id], |r| r.get(0))
                .optional()?
                .flatten();
            self.completion
                .insert(task_id.to_owned(), Completion { targets, reported });
        }
        Ok(self.completion.entry(task_id.to_owned()).or_default())
    }

    /// The folded text `q` searches: task id, title, assignee and unit names.
    fn search(
        &mut self,
        tx: &Transaction<'_>,
        task_id: &str,
        title: &str,
        assignee: &str,
    ) -> Result<(String, String), rusqlite::Error> {
        let (name, unit) = self.cadre(tx, assignee)?;
        let unit_name = self.unit_name(tx, &unit)?;
        Ok((
            unit,
            fold(&format!("{task_id} | {title} | {name} | {unit_name}")),
        ))
    }
}

fn millis(text: &str) -> i64 {
    Timestamp::parse(text).map_or(0, |t| t.unix_millis())
}

/// The contract's completion: the mean over the targets of
/// `clamp((latest - baseline) / (target - baseline), 0, 1) * 100` (a target
/// with nothing reported counts as its baseline), or the last reported
/// `percent_complete` when the task has no targets.
pub(crate) fn percent_complete(
    targets: &[(f64, f64, Option<f64>)],
    reported: Option<f64>,
) -> Option<f64> {
    if targets.is_empty() {
        return reported;
    }
    let sum: f64 = targets
        .iter()
        .map(|&(baseline, target, latest)| {
            let latest = latest.unwrap_or(baseline);
            ((latest - baseline) / (target - baseline)).clamp(0.0, 1.0)
        })
        .sum();
    Some(sum / targets.len() as f64 * 100.0)
}

fn insert_targets(
    tx: &Transaction<'_>,
    cache: &mut Cache,
    task_id: &str,
    targets: &[Target],
) -> Result<(), rusqlite::Error> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO targets (task_id, ord, metric, label, baseline, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, t) in targets.iter().enumerate() {
        insert.execute(params![
            task_id,
            i as i64,
            t.metric.as_str(),
            t.label.as_str(),
            t.baseline,
            t.target
        ])?;
    }
    let completion = Completion {
        targets: targets
            .iter()
            .map(|t| (t.metric.to_string(), t.baseline, t.target, None))
            .collect(),
        reported: None,
    };
    tx.prepare_cached("UPDATE tasks SET percent_complete = ?2 WHERE task_id = ?1")?
        .execute(params![task_id, completion.percent()])?;
    cache.completion.insert(task_id.to_owned(), completion);
    Ok(())
}

pub(crate) fn event(
    tx: &Transaction<'_>,
    cache: &mut Cache,
    recorded: &RecordedEvent,
) -> Result<(), ViewError> {
    let event = recorded.decode().map_err(|reason| ViewError::Undecodable {
        position: recorded.position,
        reason,
    })?;
    let at = millis(&recorded.occurred_at);
    match &event.payload {
        Payload::UnitRegistered(p) => {
            tx.prepare_cached(
                "INSERT INTO units (code, name, folded, kind, parent, valid_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                p.code.as_str(),
                p.name.as_str(),
                fold(&p.name),
                serde_json::to_value(p.kind).ok().and_then(|v| v.as_str().map(str::to_owned)),
                p.parent.as_ref().map(|s| s.as_str()),
                p.valid_from.map(|d| d.to_string()),
            ])?;
            cache.units.insert(p.code.to_string(), p.name.to_string());
        }
        Payload::UnitMerged(p) => {
            let mut close = tx.prepare_cached(
                "UPDATE units SET valid_to = ?2, successor = ?3, legal_basis = ?4 WHERE code = ?1",
            )?;
            for code in &p.from {
                close.execute(params![
                    code.as_str(),
                    p.effective_on.to_string(),
                    p.into.as_str(),
                    p.legal_basis.as_ref().map(|t| t.as_str())
                ])?;
            }
        }
        Payload::CadreRegistered(p) => {
            tx.prepare_cached(
                "INSERT INTO cadres (id, full_name, folded, unit, position, party_member, standing_committee)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                p.id.as_str(),
                p.full_name.as_str(),
                fold(&p.full_name),
                p.unit.as_str(),
                p.position.as_str(),
                p.party_member,
                p.standing_committee
            ])?;
            cache.cadres.insert(
                p.id.to_string(),
                (p.full_name.to_string(), p.unit.to_string()),
            );
        }
        Payload::CycleOpened(p) => {
            tx.prepare_cached("INSERT INTO cycles (id, starts_on, ends_on) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    p.cycle.as_str(),
                    p.starts_on.to_string(),
                    p.ends_on.to_string()
                ])?;
        }
        Payload::CycleClosed(p) => {
            tx.prepare_cached("UPDATE cycles SET closed = 1 WHERE id = ?1")?
                .execute([p.cycle.as_str()])?;
        }
        Payload::TaskRegistered(p) => {
            let (unit, search) = cache.search(tx, &p.task_id, &p.title, &event.actor)?;
            insert_task(
                tx,
                NewTask {
                    task_id: &p.task_id,
                    cycle: &p.cycle,
                    title: &p.title,
                    kind: kind_text(p.kind),
                    category: &p.category,
                    origin: "self_registered",
                    backlog_ref: None,
                    description: p.description.as_deref(),
                    assignee: &event.actor,
                    unit: &unit,
                    status: TaskStatus::Registered,
                    due: p.due,
                    created_ms: at,
                    search: &search,
                },
            )?;
            insert_targets(tx, cache, &p.task_id, &p.targets)?;
        }
        Payload::TaskAssigned(p) => {
            let (unit, search) = cache.search(tx, &p.task_id, &p.title, &p.assignee)?;
            insert_task(
                tx,
                NewTask {
                    task_id: &p.task_id,
                    cycle: &p.cycle,
                    title: &p.title,
                    kind: kind_text(p.kind),
                    category: &p.category,
                    origin: match p.origin {
                        AssignedOrigin::Committee => "committee",
                        AssignedOrigin::Backlog => "backlog",
                    },
                    backlog_ref: p.backlog_ref.as_deref(),
                    description: p.description.as_deref(),
                    assignee: &p.assignee,
                    unit: &unit,
                    status: TaskStatus::Assigned,
                    due: p.due,
                    created_ms: at,
                    search: &search,
                },
            )?;
            insert_targets(tx, cache, &p.task_id, &p.targets)?;
        }
        Payload::TaskApproved(p) => set_status(tx, &p.task_id, TaskStatus::Assigned)?,
        Payload::PlanSubmitted(p) => {
            let revisions: i64 = tx
                .prepare_cached("SELECT plan_revisions FROM tasks WHERE task_id = ?1")?
                .query_row([p.task_id.as_str()], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let plan = json!({
                "solutions": p.solutions.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "milestones": p.milestones.iter().map(|m| json!({"title": m.title.as_str(), "due": m.due.to_string()})).collect::<Vec<_>>(),
                "revision": revisions + 1,
                "submitted_at": recorded.occurred_at,
            });
            tx.prepare_cached(
                "UPDATE tasks SET plan = ?2, plan_revisions = plan_revisions + 1,
                        status = CASE status WHEN 'assigned' THEN 'planned' ELSE status END
                 WHERE task_id = ?1",
            )?
            .execute(params![p.task_id.as_str(), plan.to_string()])?;
        }
        Payload::WorkDelegated(p) => {
            tx.prepare_cached(
                "INSERT INTO delegations (task_id, delegation_id, to_ref, description, due) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                p.task_id.as_str(),
                p.delegation_id.as_str(),
                p.to.as_str(),
                p.description.as_str(),
                p.due.to_string()
            ])?;
        }
        Payload::ProgressReported(p) => {
            let mut value = tx.prepare_cached(
                "INSERT INTO reported_values (task_id, metric, position, as_of, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut latest = tx.prepare_cached(
                "UPDATE targets SET latest = ?3 WHERE task_id = ?1 AND metric = ?2",
            )?;
            for v in &p.values {
                value.execute(params![
                    p.task_id.as_str(),
                    v.metric.as_str(),
                    recorded.position,
                    p.as_of.to_string(),
                    v.value
                ])?;
                latest.execute(params![p.task_id.as_str(), v.metric.as_str(), v.value])?;
            }
            let report = json!({
                "as_of": p.as_of.to_string(),
                "values": p.values.iter().map(|v| json!({"metric": v.metric.as_str(), "value": v.value})).collect::<Vec<_>>(),
                "percent_complete": p.percent_complete,
                "confidence": p.confidence,
                "note": p.note.as_deref(),
                "reported_by": event.actor.as_str(),
                "occurred_at": recorded.occurred_at,
            });
            let completion = cache.completion(tx, &p.task_id)?;
            for v in &p.values {
                if let Some(t) = completion
                    .targets
                    .iter_mut()
                    .find(|t| t.0 == v.metric.as_str())
                {
                    t.3 = Some(v.value);
                }
            }
            if p.percent_complete.is_some() {
                completion.reported = p.percent_complete;
            }
            let percent = completion.percent();
            let confidence = p
                .confidence
                .and_then(|c| serde_json::to_value(c).ok())
                .and_then(|v| v.as_str().map(str::to_owned));
            tx.prepare_cached(
                "UPDATE tasks SET last_report = ?2, last_report_ms = ?3, last_confidence = ?4,
                        reported_percent = coalesce(?5, reported_percent), status = 'in_progress',
                        percent_complete = ?6
                 WHERE task_id = ?1",
            )?
            .execute(params![
                p.task_id.as_str(),
                report.to_string(),
                at,
                confidence,
                p.percent_complete,
                percent
            ])?;
        }
        Payload::TaskReassigned(p) => {
            let title: Option<String> = tx
                .prepare_cached("SELECT title FROM tasks WHERE task_id = ?1")?
                .query_row([p.task_id.as_str()], |r| r.get(0))
                .optional()?;
            let (unit, search) =
                cache.search(tx, &p.task_id, title.as_deref().unwrap_or(""), &p.assignee)?;
            tx.prepare_cached(
                "UPDATE tasks SET assignee = ?2, unit = ?3, search = ?4 WHERE task_id = ?1",
            )?
            .execute(params![
                p.task_id.as_str(),
                p.assignee.as_str(),
                unit,
                search
            ])?;
        }
        Payload::TaskCancelled(p) => set_status(tx, &p.task_id, TaskStatus::Cancelled)?,
        Payload::TaskEvaluated(p) => {
            let rating = p.given_rating().map(Rating::as_str);
            tx.prepare_cached(
                "UPDATE tasks SET status = 'evaluated', rating = ?2, score = ?3, evaluation_comment = ?4 WHERE task_id = ?1",
            )?
            .execute(params![p.task_id.as_str(), rating, p.score, p.comment.as_str()])?;
        }
    }
    if let Some(task_id) = event.payload.task_id() {
        let object = serde_json::to_string(recorded).map_err(|e| ViewError::Undecodable {
            position: recorded.position,
            reason: e.to_string(),
        })?;
        tx.prepare_cached(
            "INSERT INTO task_events (task_id, position, event) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![task_id.as_str(), recorded.position, object])?;
    }
    Ok(())
}

fn kind_text(kind: dotpha_domain::payload::TaskKind) -> &'static str {
    match kind {
        dotpha_domain::payload::TaskKind::Breakthrough => "breakthrough",
        dotpha_domain::payload::TaskKind::New => "new",
        dotpha_domain::payload::TaskKind::Difficult => "difficult",
    }
}

fn set_status(
    tx: &Transaction<'_>,
    task_id: &str,
    status: TaskStatus,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached("UPDATE tasks SET status = ?2 WHERE task_id = ?1")?
        .execute(params![task_id, status.as_str()])?;
    Ok(())
}

struct NewTask<'a> {
    task_id: &'a str,
    cycle: &'a str,
    title: &'a str,
    kind: &'a str,
    category: &'a str,
    origin: &'a str,
    backlog_ref: Option<&'a str>,
    description: Option<&'a str>,
    assignee: &'a str,
    unit: &'a str,
    status: TaskStatus,
    due: dotpha_domain::Date,
    created_ms: i64,
    search: &'a str,
}

fn insert_task(tx: &Transaction<'_>, t: NewTask<'_>) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO tasks (task_id, cycle, title, kind, category, origin, backlog_ref, description, assignee, unit,
                            status, due, due_end_ms, created_ms, search)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        t.task_id,
        t.cycle,
        t.title,
        t.kind,
        t.category,
        t.origin,
        t.backlog_ref,
        t.description,
        t.assignee,
        t.unit,
        t.status.as_str(),
        t.due.to_string(),
        t.due.end_in_vietnam_millis(),
        t.created_ms,
        t.search
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::percent_complete;

    #[test]
    fn from_388_to_400_with_394_reported_is_half_way() {
        assert_eq!(
            percent_complete(&[(388.0, 400.0, Some(394.0))], None),
            Some(50.0)
        );
    }

    #[test]
    fn completion_is_clamped_and_averaged_and_works_downwards() {
        assert_eq!(
            percent_complete(&[(0.0, 10.0, Some(20.0)), (0.0, 10.0, Some(-5.0))], None),
            Some(50.0)
        );
        assert_eq!(
            percent_complete(&[(12.0, 0.0, Some(3.0))], None),
            Some(75.0),
            "a decrease from 12 to 0"
        );
        assert_eq!(
            percent_complete(&[(5.0, 10.0, None)], Some(90.0)),
            Some(0.0),
            "nothing reported yet"
        );
        assert_eq!(
            percent_complete(&[], Some(42.0)),
            Some(42.0),
            "no targets: the reported percentage"
        );
        assert_eq!(percent_complete(&[], None), None);
    }
}
