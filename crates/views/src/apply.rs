//! Folding one event into the read tables. Pure SQL over what the event
//! says: applying the same events always gives the same tables. Every
//! word stored comes from the domain's vocabulary (`as_str`), and every
//! figure from its functions (`dotpha_domain::figures`).

use std::collections::HashMap;

use dotpha_domain::{
    Date, Payload, TaskStatus, Timestamp,
    evaluation::DoneTracker,
    figures::{self, Reading},
    payload::{MetricValue, Target},
    state::TaskOrigin,
    text::{fold, join_searchable, searchable},
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::{Decoded, ViewError};

/// The meta key holding the position of the last unit event applied: the
/// unit tree's stamp, which readers compare to know when their cached tree
/// is stale.
pub(crate) const UNITS_POSITION: &str = "units_position";

/// The maps of [`Cache`], looked up by id once per event: with `foldhash`
/// (seeded per process) hashing a short id costs a fraction of the
/// standard library's SipHash, which was 3% of a rebuild.
type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// A task's place in [`Cache::slots`], found by its id once per event
/// ([`Cache::task`]) and then passed along: a report was six lookups of
/// its task's id, 12% of a rebuild's applying thread (BENCHMARKS.md,
/// issue 15).
pub(crate) type Slot = usize;

/// What applying needs to know besides the event, kept in memory so a task
/// event does not look it up row by row: names for the search text, and
/// each task's status and completion inputs.
#[derive(Default)]
pub(crate) struct Cache {
    cadres: Map<(String, String)>,
    units: Map<String>,
    /// Each held task's place in `slots`.
    tasks: Map<Slot>,
    /// The tasks' inputs, in the order they were first needed.
    slots: Vec<TaskInputs>,
    /// Tasks whose search texts changed in the batch being applied: they
    /// are written once, at its end ([`finish_batch`]), however many of
    /// the batch's events touched them (a rebuild registers, plans and
    /// delegates a task in one batch).
    search_dirty: std::collections::BTreeSet<String>,
    /// Rows of the append-only tables not yet written ([`Pending`]).
    pub(crate) pending: Pending,
    /// Tasks whose report columns the batch changed
    /// ([`TaskInputs::written`]).
    reported: Vec<Slot>,
}

/// Rows of the tables that only grow (each task's events and reports),
/// kept until the batch ends ([`finish_batch`]) and then written in the
/// order of their keys: each page of their B-trees is then visited once
/// per batch instead of once per row, where rows in log order jump from
/// task to task. Nothing reads these tables while applying except
/// `evaluation::replay`, which writes them first.
#[derive(Default)]
pub(crate) struct Pending {
    /// (task_id, position, the recorded event as JSON when it is kept).
    task_events: Vec<(String, u64, Option<String>)>,
    /// (task_no, as_of, position, percent, values as [`values_json`]).
    reports: Vec<(i64, Date, u64, Option<f64>, String)>,
}

impl Pending {
    /// Writes every pending row, sorted by its table's primary key, and
    /// empties the lists.
    pub(crate) fn write(&mut self, tx: &Connection) -> Result<(), rusqlite::Error> {
        let mut rows = std::mem::take(&mut self.task_events);
        rows.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut insert = tx.prepare_cached(
            "INSERT INTO task_events (task_id, position, event) VALUES (?1, ?2, ?3)",
        )?;
        for (task_id, position, event) in &rows {
            insert.execute(params![task_id, position, event])?;
        }
        let mut rows = std::mem::take(&mut self.reports);
        // Dates in order are their texts in order (years 0001 to 9999).
        rows.sort_unstable_by_key(|row| (row.0, row.1, row.2));
        let mut insert = tx.prepare_cached(
            "INSERT INTO reports (task_no, as_of, position, percent, vals) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (task_no, as_of, position, percent, values) in &rows {
            let as_of = DateText::of(*as_of);
            insert.execute(params![task_no, as_of.as_str(), position, percent, values])?;
        }
        Ok(())
    }

    /// Keeps a report's row for [`Pending::write`], of the task numbered
    /// `task_no` (`tasks.task_no`).
    pub(crate) fn report(
        &mut self,
        task_no: i64,
        reading: Reading,
        percent: Option<f64>,
        values: &[MetricValue],
    ) {
        self.reports.push((
            task_no,
            reading.as_of,
            reading.position,
            percent,
            values_json(values.iter().map(|v| (v.metric.as_str(), v.value))),
        ));
    }
}

/// A date's text, `YYYY-MM-DD` (what its `Display` writes), made without
/// the formatting machinery: a rebuild writes one or more per report.
pub(crate) struct DateText([u8; 10]);

impl DateText {
    pub(crate) fn of(date: Date) -> DateText {
        // A `Date` has a year from 1 to 9999, so four digits always do.
        let year = date.year().clamp(0, 9999) as u32;
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let (month, day) = (u32::from(date.month()), u32::from(date.day()));
        DateText([
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ])
    }

    pub(crate) fn as_str(&self) -> &str {
        // ASCII digits and dashes only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A report's values as stored (`reports.vals`): a JSON array of
/// `[metric, value]` pairs in the order of their metrics, so the same
/// values are always the same text (`serde_json` writes each number so
/// that it reads back as the same `f64`).
pub(crate) fn values_json<'a>(values: impl Iterator<Item = (&'a str, f64)>) -> String {
    let mut pairs: Vec<(&str, f64)> = values.collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    // Pairs of a string and a number always serialize.
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// A report's values read back from [`values_json`]'s text (none when the
/// text is not that).
pub(crate) fn values_from_json(text: &str) -> Vec<(String, f64)> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A value with the reading it was reported in.
type Reported = Option<(Reading, f64)>;

/// A task's status and its completion inputs: per target, in order,
/// (metric, baseline, target, latest reported value); and the latest
/// reported percentage.
#[derive(Clone)]
pub(crate) struct TaskInputs {
    task_id: String,
    /// The task's number in this file (`tasks.task_no`).
    pub(crate) task_no: i64,
    status: TaskStatus,
    targets: Vec<(String, f64, f64, Reported)>,
    reported: Reported,
    /// The reading of the report shown as the last one (`last_report`).
    shown: Option<Reading>,
    /// What the batch's reports changed and [`finish_batch`] writes
    /// (`None` when they changed nothing yet).
    written: Option<ReportColumns>,
    /// The day the task was done (`evaluation::progress_reported`).
    pub(crate) done: Done,
}

/// What a [`TaskInputs`] knows of the day its task was done.
#[derive(Clone)]
pub(crate) enum Done {
    /// The day as stored (`tasks.done_on`), before any report was applied
    /// since the task's inputs were read.
    Stored(Option<Date>),
    /// Tracked without the task's reports (`DoneTracker::forget_reports`).
    Tracked(DoneTracker),
}

/// A task's columns that reports change, as the batch left them: written
/// once per task at its end ([`write_reports`]) instead of once per report.
#[derive(Clone, Default)]
struct ReportColumns {
    /// The shown report, when it changed (a rebuild's reports are each
    /// shown in turn: its JSON is made at the end of each part in which it
    /// changed, and written once, at the batch's end).
    shown: Option<Shown>,
    /// The latest instant a check-in was sent at (`last_report_ms`).
    sent_ms: Option<i64>,
    /// The indexes of the targets whose latest value changed, each once
    /// (a task has a few).
    targets: Vec<usize>,
}

/// The report a task shows as its last one, as [`ReportColumns`] keeps it.
#[derive(Clone)]
enum Shown {
    /// The index of its event in the part of the batch being applied.
    At(usize),
    /// Its JSON and its confidence ([`shown_report`]), made when the part
    /// ended ([`end_part`]): the part's events may be gone by the batch's
    /// end.
    Made(Option<(String, Option<&'static str>)>),
}

impl TaskInputs {
    fn percent(&self) -> Option<f64> {
        figures::completion(
            self.targets.iter().map(|t| (t.1, t.2, t.3.map(|(_, v)| v))),
            self.reported.map(|(_, v)| v),
        )
    }
}

/// Keeps `value` as `slot`'s latest when its reading is later (the rule of
/// [`Reading`]); returns whether it did.
fn keep_latest(slot: &mut Reported, reading: Reading, value: f64) -> bool {
    if slot.is_none_or(|(seen, _)| reading.is_later_than(seen)) {
        *slot = Some((reading, value));
        true
    } else {
        false
    }
}

fn reading(as_of: Option<String>, position: Option<u64>) -> Option<Reading> {
    Some(Reading {
        as_of: Date::parse(&as_of?)?,
        position: position?,
    })
}

impl Cache {
    fn cadre(&mut self, tx: &Connection, id: &str) -> Result<(String, String), rusqlite::Error> {
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

    fn unit_name(&mut self, tx: &Connection, code: &str) -> Result<String, rusqlite::Error> {
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

    /// The task's place in [`Cache::slots`], its inputs read from the
    /// tables the first time (`None` for a task the read model does not
    /// hold).
    pub(crate) fn task(
        &mut self,
        tx: &Connection,
        task_id: &str,
    ) -> Result<Option<Slot>, rusqlite::Error> {
        if let Some(&slot) = self.tasks.get(task_id) {
            return Ok(Some(slot));
        }
        let row = tx
            .prepare_cached(
                "SELECT status, reported_percent, reported_as_of, reported_pos,
                        last_report_as_of, last_report_pos, done_on, task_no
                 FROM tasks WHERE task_id = ?1",
            )?
            .query_row([task_id], |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<f64>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<u64>>(3)?,
                    ),
                    reading(r.get(4)?, r.get(5)?),
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .optional()?;
        let Some(((status, percent, as_of, position), shown, done_on, task_no)) = row else {
            return Ok(None);
        };
        let targets = tx
            .prepare_cached(
                "SELECT metric, baseline, target, latest, latest_as_of, latest_pos
                 FROM targets WHERE task_id = ?1 ORDER BY ord",
            )?
            .query_map([task_id], |r| {
                let latest: Option<f64> = r.get(3)?;
                let at = reading(r.get(4)?, r.get(5)?);
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, at.zip(latest)))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(self.hold(TaskInputs {
            task_id: task_id.to_owned(),
            task_no,
            status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Registered),
            targets,
            reported: reading(as_of, position).zip(percent),
            shown,
            written: None,
            done: Done::Stored(done_on.as_deref().and_then(Date::parse)),
        })))
    }

    /// Keeps a task's inputs, in place of any held before.
    fn hold(&mut self, inputs: TaskInputs) -> Slot {
        if let Some(&slot) = self.tasks.get(&inputs.task_id) {
            self.slots[slot] = inputs;
            return slot;
        }
        let slot = self.slots.len();
        self.tasks.insert(inputs.task_id.clone(), slot);
        self.slots.push(inputs);
        slot
    }

    /// The inputs of the task at `slot`.
    pub(crate) fn inputs(&mut self, slot: Slot) -> &mut TaskInputs {
        &mut self.slots[slot]
    }

    /// The assignee's unit, which a task is counted under.
    fn unit_of(&mut self, tx: &Connection, assignee: &str) -> Result<String, rusqlite::Error> {
        Ok(self.cadre(tx, assignee)?.1)
    }
}

/// Ends a part of a batch (the events given to one
/// [`crate::Span::apply`]): makes the JSON of each report shown that one
/// of `part`'s events became, so the part's events may be dropped before
/// the batch ends.
pub(crate) fn end_part(cache: &mut Cache, part: &[Decoded<'_>]) {
    for &slot in &cache.reported {
        if let Some(written) = &mut cache.slots[slot].written
            && let Some(Shown::At(index)) = written.shown
        {
            written.shown = Some(Shown::Made(shown_report(part, index)));
        }
    }
}

/// Ends a batch, in its transaction, after its last part ([`end_part`]):
/// writes the rows kept back ([`Pending`]), what its reports changed in
/// the tasks' rows ([`write_reports`]), then the search texts of every
/// task the batch touched ([`Cache::search_dirty`]), once each.
pub(crate) fn finish_batch(tx: &Connection, cache: &mut Cache) -> Result<(), ViewError> {
    cache.pending.write(tx)?;
    write_reports(tx, cache)?;
    let dirty = std::mem::take(&mut cache.search_dirty);
    for task_id in &dirty {
        index_search(tx, cache, task_id)?;
    }
    Ok(())
}

/// Stores the texts `q` searches for a task (`dotpha_domain::text::Query`):
/// `search_head`, its id, title, assignee's and unit's names; `search`,
/// those and its description, current plan (solutions, milestone titles)
/// and delegations (what, and to whom). Run whenever one of them changes.
fn index_search(tx: &Connection, cache: &mut Cache, task_id: &str) -> Result<(), rusqlite::Error> {
    let row: Option<(String, String, Option<String>, Option<String>)> = tx
        .prepare_cached("SELECT title, assignee, description, plan FROM tasks WHERE task_id = ?1")?
        .query_row([task_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((title, assignee, description, plan)) = row else {
        return Ok(());
    };
    let (name, unit) = cache.cadre(tx, &assignee)?;
    let unit_name = cache.unit_name(tx, &unit)?;
    let head = searchable([task_id, &title, &name, &unit_name]);
    let mut rest: Vec<String> = description.into_iter().collect();
    if let Some(plan) = plan.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok()) {
        let texts = plan["solutions"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                plan["milestones"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| &m["title"]),
            )
            .filter_map(|t| t.as_str().map(str::to_owned));
        rest.extend(texts);
    }
    let mut delegations = tx.prepare_cached(
        "SELECT d.description, coalesce(u.name, c.full_name, d.to_ref)
         FROM delegations d LEFT JOIN units u ON u.code = d.to_ref LEFT JOIN cadres c ON c.id = d.to_ref
         WHERE d.task_id = ?1 ORDER BY d.delegation_id",
    )?;
    for row in delegations.query_map([task_id], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (what, to): (String, String) = row?;
        rest.push(what);
        rest.push(to);
    }
    let all = join_searchable(&head, &searchable(rest.iter().map(String::as_str)));
    tx.prepare_cached("UPDATE tasks SET search_head = ?2, search = ?3 WHERE task_id = ?1")?
        .execute(params![task_id, head, all])?;
    Ok(())
}

fn millis(text: &str) -> i64 {
    Timestamp::parse(text).map_or(0, |t| t.unix_millis())
}

fn insert_targets(
    tx: &Connection,
    cache: &mut Cache,
    (task_id, task_no): (&str, i64),
    status: TaskStatus,
    targets: &[Target],
) -> Result<(), rusqlite::Error> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO targets (task_id, ord, metric, label, baseline, target, unit, min, max)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (i, t) in targets.iter().enumerate() {
        insert.execute(params![
            task_id,
            i as i64,
            t.metric.as_str(),
            t.label.as_str(),
            t.baseline,
            t.target,
            t.unit.as_ref().map(|u| u.as_str()),
            t.min,
            t.max
        ])?;
    }
    // A new task has no report yet: its tracker starts empty, without
    // reading the tables.
    let mut done = DoneTracker::new(targets);
    done.forget_reports();
    let inputs = TaskInputs {
        task_id: task_id.to_owned(),
        task_no,
        status,
        targets: targets
            .iter()
            .map(|t| (t.metric.to_string(), t.baseline, t.target, None))
            .collect(),
        reported: None,
        shown: None,
        written: None,
        done: Done::Tracked(done),
    };
    tx.prepare_cached("UPDATE tasks SET percent_complete = ?2 WHERE task_no = ?1")?
        .execute(params![task_no, inputs.percent()])?;
    cache.hold(inputs);
    Ok(())
}

/// Applies `recorded`, the event at `index` in the part of the batch
/// being applied ([`crate::Span::apply`]).
pub(crate) fn event(
    tx: &Connection,
    cache: &mut Cache,
    recorded: &Decoded<'_>,
    index: usize,
) -> Result<(), ViewError> {
    let event = &recorded.event;
    let at = millis(recorded.occurred_at);
    // The task a later event is about, found once (a new task's event
    // makes it, below).
    let task = match event.payload.task_id() {
        Some(task_id) if TaskStatus::initial(event.event_type()).is_none() => {
            cache.task(tx, task_id)?
        }
        _ => None,
    };
    match &event.payload {
        Payload::UnitRegistered(p) => {
            tx.prepare_cached(
                "INSERT INTO units (code, name, folded, kind, parent, valid_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                p.code.as_str(),
                p.name.as_str(),
                fold(&p.name),
                p.kind.as_str(),
                p.parent.as_ref().map(|s| s.as_str()),
                p.valid_from.map(|d| d.to_string()),
            ])?;
            cache.units.insert(p.code.to_string(), p.name.to_string());
            units_changed(tx, recorded.position)?;
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
            units_changed(tx, recorded.position)?;
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
            let unit = cache.unit_of(tx, &event.actor)?;
            let task = NewTask {
                task_id: &p.task_id,
                cycle: &p.cycle,
                title: &p.title,
                kind: p.kind.as_str(),
                category: &p.category,
                origin: TaskOrigin::SelfRegistered,
                backlog_ref: None,
                description: p.description.as_deref(),
                assignee: &event.actor,
                unit: &unit,
                status: TaskStatus::Registered,
                given_by: None,
                due: p.due,
                created_ms: at,
            };
            insert_task(tx, cache, task, &p.targets)?;
            cache.search_dirty.insert(p.task_id.to_string());
        }
        Payload::TaskAssigned(p) => {
            let unit = cache.unit_of(tx, &p.assignee)?;
            let task = NewTask {
                task_id: &p.task_id,
                cycle: &p.cycle,
                title: &p.title,
                kind: p.kind.as_str(),
                category: &p.category,
                origin: p.origin.into(),
                backlog_ref: p.backlog_ref.as_deref(),
                description: p.description.as_deref(),
                assignee: &p.assignee,
                unit: &unit,
                status: TaskStatus::Assigned,
                given_by: Some(&event.unit),
                due: p.due,
                created_ms: at,
            };
            insert_task(tx, cache, task, &p.targets)?;
            cache.search_dirty.insert(p.task_id.to_string());
        }
        Payload::TaskApproved(p) => {
            tx.prepare_cached("UPDATE tasks SET given_by = ?2 WHERE task_id = ?1")?
                .execute(params![p.task_id.as_str(), event.unit.as_str()])?;
        }
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
                "UPDATE tasks SET plan = ?2, plan_revisions = plan_revisions + 1 WHERE task_id = ?1",
            )?
            .execute(params![p.task_id.as_str(), plan.to_string()])?;
            cache.search_dirty.insert(p.task_id.to_string());
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
            cache.search_dirty.insert(p.task_id.to_string());
        }
        Payload::ProgressReported(p) => {
            let this = Reading {
                as_of: p.as_of,
                position: recorded.position,
            };
            if let Some(slot) = task {
                report(cache, slot, p, this, index, at);
            }
            crate::evaluation::progress_reported(tx, cache, task, p, this)?;
        }
        Payload::TaskReassigned(p) => {
            let unit = cache.unit_of(tx, &p.assignee)?;
            tx.prepare_cached("UPDATE tasks SET assignee = ?2, unit = ?3 WHERE task_id = ?1")?
                .execute(params![p.task_id.as_str(), p.assignee.as_str(), unit])?;
            cache.search_dirty.insert(p.task_id.to_string());
        }
        Payload::TaskCancelled(_) => {}
        Payload::MilestoneCompleted(p) => crate::evaluation::milestone_completed(tx, p)?,
        Payload::ProductReviewed(p) => crate::evaluation::product_reviewed(tx, p)?,
        Payload::PeriodOpened(p) => crate::evaluation::period_opened(tx, p)?,
        Payload::PeriodClosed(p) => crate::evaluation::period_closed(tx, p)?,
        Payload::AssessmentSelfSubmitted(p) => crate::evaluation::self_assessed(tx, p, event)?,
        Payload::AssessmentDecided(p) => crate::evaluation::decided(tx, p, event, recorded)?,
        Payload::TaskEvaluated(p) => {
            tx.prepare_cached(
                "UPDATE tasks SET rating = ?2, score = ?3, evaluation_comment = ?4, evaluated_by = ?5
                 WHERE task_id = ?1",
            )?
            .execute(params![
                p.task_id.as_str(),
                p.given_rating().map(|r| r.as_str()),
                p.score,
                p.comment.as_str(),
                event.unit.as_str()
            ])?;
        }
    }
    if let Some(task_id) = event.payload.task_id() {
        if let Some(slot) = task {
            advance_status(tx, cache, slot, &event.payload)?;
        }
        // A report applied from the log beside keeps no row here: its
        // `reports` row holds the task and the position, which is all this
        // row would (`query::TASK_EVENTS`), and a row less per report is
        // about a sixth of a rebuild (BENCHMARKS.md, issue 15).
        let in_reports =
            recorded.object.is_none() && matches!(event.payload, Payload::ProgressReported(_));
        if !in_reports {
            cache.pending.task_events.push((
                task_id.to_string(),
                recorded.position,
                recorded.object.clone(),
            ));
        }
    }
    Ok(())
}

/// Folds a check-in into its task, in memory: each value becomes its
/// target's latest when its reading is later (see [`Reading`]), the same
/// for a reported percentage and for the report shown as the last one.
/// What changed is written at the batch's end ([`write_reports`]).
fn report(
    cache: &mut Cache,
    slot: Slot,
    p: &dotpha_domain::payload::ProgressReported,
    this: Reading,
    index: usize,
    at: i64,
) {
    let inputs = &mut cache.slots[slot];
    if inputs.written.is_none() {
        // The task's first report of the batch.
        cache.reported.push(slot);
    }
    let written = inputs.written.get_or_insert_with(ReportColumns::default);
    for v in &p.values {
        if let Some(i) = inputs.targets.iter().position(|t| t.0 == v.metric.as_str())
            && keep_latest(&mut inputs.targets[i].3, this, v.value)
            && !written.targets.contains(&i)
        {
            written.targets.push(i);
        }
    }
    if let Some(percent) = p.percent_complete {
        keep_latest(&mut inputs.reported, this, percent);
    }
    // The last report shown is the latest one by the same rule.
    if inputs.shown.is_none_or(|shown| this.is_later_than(shown)) {
        inputs.shown = Some(this);
        written.shown = Some(Shown::At(index));
    }
    // A check-in is a check-in whenever it describes: the clock of
    // "stale" runs from the most recent one sent.
    written.sent_ms = Some(written.sent_ms.map_or(at, |ms| ms.max(at)));
}

/// The report shown as a task's last one (`tasks.last_report`), as JSON.
/// Its members are in the order of their names: the text is the one a
/// `serde_json::Value` object of the same members gives (an earlier build
/// wrote it that way, and the stored texts stay comparable).
#[derive(serde::Serialize)]
struct ShownReport<'a> {
    as_of: String,
    confidence: Option<&'a str>,
    note: Option<&'a str>,
    occurred_at: &'a str,
    percent_complete: Option<f64>,
    reported_by: &'a str,
    values: Vec<ShownValue<'a>>,
}

/// One value of a [`ShownReport`].
#[derive(serde::Serialize)]
struct ShownValue<'a> {
    metric: &'a str,
    value: f64,
}

/// The report at `index` in `batch` as the task shows its last one: its
/// JSON ([`ShownReport`]) and its confidence.
fn shown_report(batch: &[Decoded<'_>], index: usize) -> Option<(String, Option<&'static str>)> {
    let recorded = batch.get(index)?;
    let event = &recorded.event;
    let Payload::ProgressReported(p) = &event.payload else {
        return None;
    };
    let shown = ShownReport {
        as_of: p.as_of.to_string(),
        confidence: p.confidence.map(|c| c.as_str()),
        note: p.note.as_deref(),
        occurred_at: recorded.occurred_at,
        percent_complete: p.percent_complete,
        reported_by: &event.actor,
        values: p
            .values
            .iter()
            .map(|v| ShownValue {
                metric: v.metric.as_str(),
                value: v.value,
            })
            .collect(),
    };
    // Plain fields of strings and numbers always serialize.
    let json = serde_json::to_string(&shown).unwrap_or_default();
    Some((json, p.confidence.map(|c| c.as_str())))
}

/// Writes what the batch's reports changed ([`ReportColumns`]), one
/// statement per task and one per target whose latest value changed. The
/// values written are the ones kept in memory, which equal the row's
/// (read from it, or written with it).
fn write_reports(tx: &Connection, cache: &mut Cache) -> Result<(), ViewError> {
    let mut reported = std::mem::take(&mut cache.reported);
    // In the order of the tasks' rows (`task_no`).
    reported.sort_unstable_by_key(|slot| cache.slots[*slot].task_no);
    let mut task = tx.prepare_cached(
        "UPDATE tasks SET reported_percent = ?2, reported_as_of = ?3, reported_pos = ?4,
                last_report = CASE WHEN ?5 THEN ?6 ELSE last_report END,
                last_confidence = CASE WHEN ?5 THEN ?7 ELSE last_confidence END,
                last_report_as_of = CASE WHEN ?5 THEN ?8 ELSE last_report_as_of END,
                last_report_pos = CASE WHEN ?5 THEN ?9 ELSE last_report_pos END,
                last_report_ms = max(coalesce(last_report_ms, ?10), ?10),
                percent_complete = ?11
         WHERE task_no = ?1",
    )?;
    let mut latest = tx.prepare_cached(
        "UPDATE targets SET latest = ?3, latest_as_of = ?4, latest_pos = ?5
         WHERE task_id = ?1 AND metric = ?2",
    )?;
    for &slot in &reported {
        let inputs = &mut cache.slots[slot];
        let task_id = inputs.task_id.as_str();
        let Some(written) = inputs.written.take() else {
            continue;
        };
        for &i in &written.targets {
            let (metric, _, _, value) = &inputs.targets[i];
            if let Some((at, value)) = value {
                latest.execute(params![
                    task_id,
                    metric,
                    value,
                    DateText::of(at.as_of).as_str(),
                    at.position
                ])?;
            }
        }
        let reported_as_of = inputs.reported.map(|(at, _)| DateText::of(at.as_of));
        let (reported_percent, reported_pos) = match inputs.reported {
            Some((at, value)) => (Some(value), Some(at.position)),
            None => (None, None),
        };
        let shown_at = inputs.shown;
        // Every part of the batch has ended ([`end_part`]): a report
        // shown is made.
        let shown = match written.shown {
            Some(Shown::Made(made)) => made,
            Some(Shown::At(_)) | None => None,
        };
        let (shown, confidence) = match shown {
            Some((json, confidence)) => (Some(json), confidence),
            None => (None, None),
        };
        let shown_as_of = shown_at.map(|at| DateText::of(at.as_of));
        task.execute(params![
            inputs.task_no,
            reported_percent,
            reported_as_of.as_ref().map(DateText::as_str),
            reported_pos,
            shown.is_some(),
            shown,
            confidence,
            shown_as_of.as_ref().map(DateText::as_str),
            shown_at.map(|at| at.position),
            written.sent_ms,
            inputs.percent()
        ])?;
    }
    Ok(())
}

/// Moves a task's status by the domain's transition for `payload`, storing
/// with it what queries filter on: whether it is open and active.
fn advance_status(
    tx: &Connection,
    cache: &mut Cache,
    slot: Slot,
    payload: &Payload,
) -> Result<(), rusqlite::Error> {
    let inputs = &mut cache.slots[slot];
    let next = inputs.status.after(payload.event_type());
    if next != inputs.status {
        inputs.status = next;
        set_status(tx, inputs.task_no, next)?;
    }
    Ok(())
}

/// Stores the status of the task numbered `task_no` (`tasks.task_no`).
fn set_status(tx: &Connection, task_no: i64, status: TaskStatus) -> Result<(), rusqlite::Error> {
    tx.prepare_cached("UPDATE tasks SET status = ?2, open = ?3, active = ?4 WHERE task_no = ?1")?
        .execute(params![
            task_no,
            status.as_str(),
            status.is_open(),
            status.is_active()
        ])?;
    Ok(())
}

fn units_changed(tx: &Connection, position: u64) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![UNITS_POSITION, position.to_string()])?;
    Ok(())
}

struct NewTask<'a> {
    task_id: &'a str,
    cycle: &'a str,
    title: &'a str,
    kind: &'a str,
    category: &'a str,
    origin: TaskOrigin,
    backlog_ref: Option<&'a str>,
    description: Option<&'a str>,
    assignee: &'a str,
    unit: &'a str,
    status: TaskStatus,
    given_by: Option<&'a str>,
    due: Date,
    created_ms: i64,
}

fn insert_task(
    tx: &Connection,
    cache: &mut Cache,
    t: NewTask<'_>,
    targets: &[Target],
) -> Result<(), rusqlite::Error> {
    let status = t.status;
    tx.prepare_cached(
        "INSERT INTO tasks (task_id, cycle, title, kind, category, origin, backlog_ref, description, assignee, unit,
                            status, open, active, given_by, due, due_end_ms, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        t.task_id,
        t.cycle,
        t.title,
        t.kind,
        t.category,
        t.origin.as_str(),
        t.backlog_ref,
        t.description,
        t.assignee,
        t.unit,
        status.as_str(),
        status.is_open(),
        status.is_active(),
        t.given_by,
        t.due.to_string(),
        t.due.end_in_vietnam_millis(),
        t.created_ms
    ])?;
    let task_no = tx.last_insert_rowid();
    insert_targets(tx, cache, (t.task_id, task_no), status, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A date's text is the one its `Display` writes.
        #[test]
        fn a_date_text_is_its_display(days in -719_162i64..2_932_896) {
            let date = Date::from_days_since_epoch(days);
            let text = DateText::of(date);
            prop_assert_eq!(text.as_str(), date.to_string());
        }

        /// A report's values read back from their stored text are the
        /// same numbers, bit for bit, in the order of their metrics.
        #[test]
        fn stored_values_read_back_the_same(
            values in prop::collection::btree_map("[a-z0-9\\-]{1,8}", any::<f64>().prop_filter("finite", |v| v.is_finite()), 0..4),
        ) {
            let mut given: Vec<(&str, f64)> = values.iter().map(|(m, v)| (m.as_str(), *v)).collect();
            given.reverse();
            let read = values_from_json(&values_json(given.into_iter()));
            let expected: Vec<(String, u64)> = values.iter().map(|(m, v)| (m.clone(), v.to_bits())).collect();
            let got: Vec<(String, u64)> = read.into_iter().map(|(m, v)| (m, v.to_bits())).collect();
            prop_assert_eq!(got, expected);
        }

        /// The shown report's text is the one the `json!` object of the
        /// same members gives (what earlier builds stored).
        #[test]
        fn the_shown_report_is_written_as_a_json_object_of_its_members(
            as_of in "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
            confidence in prop::option::of(prop::sample::select(vec!["low", "medium", "high"])),
            note in prop::option::of("\\PC{0,12}"),
            occurred_at in "\\PC{0,30}",
            percent in prop::option::of(prop_oneof![any::<f64>(), (0u8..=100).prop_map(f64::from)]),
            by in "[a-z\\-\"\\\\]{0,12}",
            values in prop::collection::vec(("[a-z0-9\\-]{1,8}", any::<f64>()), 0..4),
        ) {
            let ours = serde_json::to_string(&ShownReport {
                as_of: as_of.clone(),
                confidence,
                note: note.as_deref(),
                occurred_at: &occurred_at,
                percent_complete: percent,
                reported_by: &by,
                values: values.iter().map(|(m, v)| ShownValue { metric: m, value: *v }).collect(),
            })
            .expect("serializes");
            let theirs = json!({
                "as_of": as_of,
                "values": values.iter().map(|(m, v)| json!({"metric": m, "value": v})).collect::<Vec<_>>(),
                "percent_complete": percent,
                "confidence": confidence,
                "note": note,
                "reported_by": by,
                "occurred_at": occurred_at,
            })
            .to_string();
            prop_assert_eq!(ours, theirs);
        }
    }
}
