//! What needs attention today: each open task's reminders, judged by
//! [`dotpha_domain::figures::reminders`] over what the read model holds.

use dotpha_domain::{
    Date,
    figures::{self, Reminder},
    vocabulary::{AlertKind, TaskStatus},
};

use crate::{ReadModel, ViewError};

/// One reminder a task warrants now, with the names a person reads.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingReminder {
    /// What it warns of.
    pub kind: AlertKind,
    /// The task.
    pub task_id: String,
    /// Its title.
    pub title: String,
    /// The assignee's unit.
    pub unit: String,
    /// That unit's name.
    pub unit_name: String,
    /// The assignee's cadre id.
    pub assignee: String,
    /// The assignee's full name.
    pub assignee_name: String,
    /// For [`AlertKind::MilestoneDue`]: the milestone's number in the
    /// current plan (from 1) and its title.
    pub milestone: Option<(usize, String)>,
    /// The due date warned of (the milestone's, or the task's).
    pub due: Date,
    /// Whole days left before that date ends ([`figures::days_left`]).
    pub days_left: i64,
    /// For [`AlertKind::NoReport`]: the day (Vietnam) of the last check-in.
    pub last_report_on: Option<Date>,
}

/// A milestone of a stored plan (`{"title", "due"}`).
#[derive(serde::Deserialize)]
struct StoredMilestone {
    title: String,
    due: String,
}

#[derive(serde::Deserialize)]
struct StoredPlan {
    #[serde(default)]
    milestones: Vec<StoredMilestone>,
}

impl ReadModel {
    /// Every reminder the open tasks of open cycles warrant at `now_ms`, by
    /// unit, then task, then kind (a closed cycle's unfinished tasks are
    /// history, not something to remind anyone of). Judged at the instant given, against what the read model
    /// has applied ([`ReadModel::applied`]).
    pub fn reminders(&self, now_ms: i64) -> Result<Vec<PendingReminder>, ViewError> {
        let mut statement = self.connection().prepare_cached(
            "SELECT t.task_id, t.title, t.unit, coalesce(u.name, t.unit), t.assignee,
                    coalesce(c.full_name, t.assignee), t.status, t.due, t.due_end_ms,
                    coalesce(t.last_report_ms, t.created_ms), t.plan
             FROM tasks t LEFT JOIN cadres c ON c.id = t.assignee LEFT JOIN units u ON u.code = t.unit
                  LEFT JOIN cycles cy ON cy.id = t.cycle
             WHERE t.open AND NOT coalesce(cy.closed, 0)
             ORDER BY t.unit, t.task_id",
        )?;
        let mut rows = statement.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let status =
                TaskStatus::parse(&r.get::<_, String>(6)?).unwrap_or(TaskStatus::Registered);
            let due_text: String = r.get(7)?;
            let Some(due) = Date::parse(&due_text) else {
                continue;
            };
            let due_end_ms: i64 = r.get(8)?;
            let last_check_in_ms: i64 = r.get(9)?;
            let plan: Option<String> = r.get(10)?;
            let milestones: Vec<(String, Date)> = plan
                .and_then(|p| serde_json::from_str::<StoredPlan>(&p).ok())
                .map(|p| {
                    p.milestones
                        .into_iter()
                        .filter_map(|m| Date::parse(&m.due).map(|d| (m.title, d)))
                        .collect()
                })
                .unwrap_or_default();
            let ends: Vec<Option<i64>> = milestones
                .iter()
                .map(|(_, d)| Some(d.end_in_vietnam_millis()))
                .collect();
            let found = figures::reminders(status, due_end_ms, last_check_in_ms, &ends, now_ms);
            for Reminder { kind, milestone } in found {
                let (due, milestone) =
                    match milestone.and_then(|i| milestones.get(i).map(|m| (i, m))) {
                        Some((i, (title, date))) => (*date, Some((i + 1, title.clone()))),
                        None => (due, None),
                    };
                out.push(PendingReminder {
                    kind,
                    task_id: r.get(0)?,
                    title: r.get(1)?,
                    unit: r.get(2)?,
                    unit_name: r.get(3)?,
                    assignee: r.get(4)?,
                    assignee_name: r.get(5)?,
                    days_left: figures::days_left(due.end_in_vietnam_millis(), now_ms),
                    last_report_on: (kind == AlertKind::NoReport)
                        .then(|| crate::query::day_in_vietnam(last_check_in_ms)),
                    milestone,
                    due,
                });
            }
        }
        Ok(out)
    }
}
