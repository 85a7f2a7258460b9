//! The questions the API asks of the read model. Flags that depend on the
//! clock (overdue, due soon, stale, days left; `dotpha_domain::figures`)
//! are judged at the instant the caller passes, in Asia/Ho_Chi_Minh: a task
//! due on 2021-06-30 is overdue from 2021-06-30T17:00:00Z; the unit tree is
//! read on that instant's day. [`ReadModel::clock_window`] lists the
//! instants an answer can change at; the HTTP server serves a kept answer
//! again while the clock stays between two of them, so a new
//! clock-dependent figure must add its instants there.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use dotpha_domain::{
    Date, TaskStatus, Timestamp, UnitTree,
    figures::{self, DAY_MS, DUE_SOON_DAYS, Flags, QuotaTally, STALE_DAYS},
    text::{Query, collate},
    vocabulary::{CompletionBand, Confidence, Rating, TaskFlag, TaskKind, TaskOrigin},
};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::{ReadModel, ViewError, apply::UNITS_POSITION, counts::Counts};

pub use dotpha_domain::TreeView as Tree;

/// Most tasks one list answer carries.
pub const MAX_LIMIT: usize = 10_000;
/// Tasks in one list answer unless asked otherwise.
pub const DEFAULT_LIMIT: usize = 1_000;

/// The day `now_ms` falls on in Vietnam: the date the unit tree is read at.
pub fn day_in_vietnam(now_ms: i64) -> Date {
    Timestamp::from_unix_millis(now_ms).date_in_vietnam()
}

/// A task as lists show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskSummary {
    /// Id.
    pub task_id: String,
    /// Title.
    pub title: String,
    /// Cycle.
    pub cycle: String,
    /// Assignee's id.
    pub assignee: String,
    /// Assignee's full name.
    pub assignee_name: String,
    /// Assignee's unit.
    pub unit: String,
    /// That unit's name.
    pub unit_name: String,
    /// breakthrough, new, difficult.
    pub kind: String,
    /// Category.
    pub category: String,
    /// self_registered, committee, backlog.
    pub origin: String,
    /// Status.
    pub status: String,
    /// Completion, 0 to 100, when known.
    pub percent_complete: Option<f64>,
    /// Due date.
    pub due: String,
    /// Due date passed, not evaluated or cancelled.
    pub overdue: bool,
    /// Due within [`DUE_SOON_DAYS`] and not overdue.
    pub due_soon: bool,
    /// Active with no check-in for [`STALE_DAYS`].
    pub stale: bool,
    /// Whole days left before the due date ends (0 on the due day itself,
    /// negative: days late), judged at the same instant as the flags
    /// ([`figures::days_left`]).
    pub days_left: i64,
    /// Confidence of the last check-in.
    pub confidence: Option<String>,
    /// Rating, once evaluated.
    pub rating: Option<String>,
    /// Score, when given.
    pub score: Option<f64>,
}

/// A target with its latest value and the values reported over time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetView {
    /// Metric key.
    pub metric: String,
    /// Label.
    pub label: String,
    /// Baseline.
    pub baseline: f64,
    /// Target.
    pub target: f64,
    /// The unit values are counted in, when stated.
    pub unit: Option<String>,
    /// The smallest value the metric takes, when stated.
    pub min: Option<f64>,
    /// The largest value the metric takes, when stated.
    pub max: Option<f64>,
    /// Latest reported value: the one with the greatest `as_of`, ties to
    /// the later report ([`figures::Reading`]).
    pub latest: Option<f64>,
    /// The `as_of` of the latest value.
    pub latest_as_of: Option<String>,
    /// How far the target is, 0 to 100 ([`figures::target_percent`]).
    pub percent_complete: f64,
    /// Reported values, oldest first: by `as_of`, then by log position.
    pub series: Vec<Point>,
}

/// One reported value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The report's `as_of` date.
    pub as_of: String,
    /// The value.
    pub value: f64,
    /// The report's log position.
    pub position: u64,
}

/// One event of a task's history ([`ReadModel::history`]).
#[derive(Debug)]
pub enum HistoryEvent {
    /// The event object as the log holds it, kept by this read model (it
    /// came from the stream).
    Kept(Box<RawValue>),
    /// The event at this position of the log beside this read model, which
    /// applied it from there and kept no copy.
    InLog(u64),
}

/// A delegation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelegationView {
    /// Id within the task.
    pub delegation_id: String,
    /// Unit code or cadre id.
    pub to: String,
    /// Name of that unit or cadre.
    pub to_name: String,
    /// What.
    pub description: String,
    /// When.
    pub due: String,
}

/// One task, whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskDetail {
    /// The list members.
    #[serde(flatten)]
    pub summary: TaskSummary,
    /// Description.
    pub description: Option<String>,
    /// Which backlog item, for backlog tasks.
    pub backlog_ref: Option<String>,
    /// Targets.
    pub targets: Vec<TargetView>,
    /// The current plan (`solutions`, `milestones`, `revision`).
    pub plan: Option<serde_json::Value>,
    /// Delegations.
    pub delegations: Vec<DelegationView>,
    /// The last check-in.
    pub last_report: Option<serde_json::Value>,
    /// The evaluation's comment.
    pub evaluation_comment: Option<String>,
    /// Version of the task's stream.
    pub version: u64,
}

/// Counts over a set of tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rollup {
    /// Tasks.
    pub tasks: u64,
    /// Distinct assignees.
    pub cadres: u64,
    /// Tasks by status.
    pub by_status: Counts<TaskStatus>,
    /// Evaluated tasks by rating.
    pub by_rating: Counts<Rating>,
    /// Tasks by kind.
    pub by_kind: Counts<TaskKind>,
    /// Tasks by origin.
    pub by_origin: Counts<TaskOrigin>,
    /// Overdue tasks.
    pub overdue: u64,
    /// Of the active tasks, the share neither overdue nor stale (0 to 1).
    pub on_track_share: Option<f64>,
}

/// A unit and its subtree's roll-up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Parent as registered.
    pub parent: Option<String>,
    /// First day.
    pub valid_from: Option<String>,
    /// Day it closed (merged).
    pub valid_to: Option<String>,
    /// Where it was merged.
    pub successor: Option<String>,
    /// Its children in the chosen tree.
    pub children: Vec<UnitRef>,
    /// Roll-up over its subtree in the chosen tree.
    pub rollup: Rollup,
}

/// A unit named in another answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Closed by a merge.
    pub closed: bool,
}

/// A unit's line in a cycle's dashboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitLine {
    /// Code.
    pub unit: String,
    /// Name.
    pub name: String,
    /// Its kind (`commune`, `agency`, ...), so a reader can keep to
    /// communes or agencies.
    pub kind: String,
    /// Its roll-up within the cycle.
    pub rollup: Rollup,
    /// Mean completion of its tasks ([`figures::mean_completion`]).
    pub mean_percent: Option<f64>,
}

/// A cycle at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dashboard {
    /// The cycle.
    pub cycle: Option<String>,
    /// Tasks of the cycle.
    pub tasks: u64,
    /// Tasks neither evaluated nor cancelled: not rated yet.
    pub open: u64,
    /// The cycle's mean completion over the tasks that count (not
    /// cancelled, with a completion; [`figures::mean_completion`]).
    pub mean_percent: Option<f64>,
    /// Distinct assignees of the cycle's tasks.
    pub cadres: u64,
    /// By status.
    pub by_status: Counts<TaskStatus>,
    /// By rating.
    pub by_rating: Counts<Rating>,
    /// Overdue tasks.
    pub overdue: u64,
    /// Tasks due soon.
    pub due_soon: u64,
    /// The evaluating bodies (the envelope `unit` of `task.evaluated`)
    /// whose excellent ratings in the cycle exceed
    /// [`figures::EXCELLENT_QUOTA_PERCENT`]% of their good ones
    /// ([`QuotaTally`]), in code order.
    pub excellent_quota_exceeded: Vec<String>,
    /// How many tasks fall in 0-25, 25-50, 50-75, 75-100 and 100 percent.
    pub completion: BTreeMap<String, u64>,
    /// Overdue tasks, most overdue first (at most [`DASHBOARD_LIST`]).
    pub overdue_tasks: Vec<TaskSummary>,
    /// Tasks due soon, soonest first (at most [`DASHBOARD_LIST`]).
    pub due_soon_tasks: Vec<TaskSummary>,
    /// One line per unit with tasks, in Vietnamese order of their names
    /// ([`dotpha_domain::text::collate`]).
    pub by_unit: Vec<UnitLine>,
    /// What needs a secretary's attention first.
    pub attention: Attention,
}

/// What needs attention in a cycle, weakest first: a secretary's first
/// screen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attention {
    /// Units whose mean completion is lowest (at most
    /// [`ATTENTION_UNITS`]), lowest first, ties in Vietnamese order.
    pub weakest_units: Vec<UnitLine>,
    /// Open tasks without a report for [`dotpha_domain::figures::STALE_DAYS`]
    /// days (the `stale` flag), soonest due first (at most [`DASHBOARD_LIST`]).
    pub stale_tasks: Vec<TaskSummary>,
    /// How many tasks are stale.
    pub stale: u64,
    /// Open tasks whose latest report states low confidence, least complete
    /// first, equal ones soonest due first (at most [`DASHBOARD_LIST`]).
    pub low_confidence_tasks: Vec<TaskSummary>,
    /// How many open tasks state low confidence.
    pub low_confidence: u64,
    /// Open tasks of the cycle not evaluated (in a closed cycle: those the
    /// cycle closed without evaluating).
    pub unevaluated: u64,
}

/// How many of the weakest units the attention list names.
pub const ATTENTION_UNITS: usize = 5;

/// Most tasks each of the dashboard's lists (overdue, due soon, stale, low
/// confidence) shows: a screen's worth; the counts beside them say how many
/// there are in all.
pub const DASHBOARD_LIST: usize = 50;

/// A cadre and their tasks across cycles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CadreView {
    /// Id.
    pub id: String,
    /// Full name.
    pub full_name: String,
    /// Unit.
    pub unit: String,
    /// Position.
    pub position: String,
    /// Party member.
    pub party_member: bool,
    /// On the Standing Committee.
    pub standing_committee: bool,
    /// Their tasks, newest cycle first.
    pub tasks: Vec<TaskSummary>,
}

/// What `status=` of a task list asks for: a status, or a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Tasks in this status.
    Status(TaskStatus),
    /// Tasks with this flag at the instant judged.
    Flag(TaskFlag),
}

impl StatusFilter {
    /// Reads `status=` as the vocabulary spells it.
    pub fn parse(text: &str) -> Option<StatusFilter> {
        TaskStatus::parse(text)
            .map(StatusFilter::Status)
            .or_else(|| TaskFlag::parse(text).map(StatusFilter::Flag))
    }
}

/// Filters of a task list; every one optional.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only this cycle.
    pub cycle: Option<String>,
    /// Only tasks whose unit lies within this one.
    pub unit: Option<String>,
    /// A status, or a derived flag: `overdue`, `due_soon`, `stale`.
    pub status: Option<StatusFilter>,
    /// Only this assignee.
    pub assignee: Option<String>,
    /// Only this kind.
    pub kind: Option<TaskKind>,
    /// A search ([`Query`]): words and "quoted phrases" that must all
    /// appear in the task's id, title, assignee's or unit's name,
    /// description, plan or delegations, regardless of case and
    /// diacritics; the best matches come first.
    pub q: Option<String>,
    /// Which tree `unit` follows.
    pub tree: Tree,
    /// At most this many (capped at [`MAX_LIMIT`]).
    pub limit: Option<usize>,
    /// Skip this many.
    pub offset: Option<usize>,
}

/// A task's events (the task `?1`), as (position, object or NULL): its
/// rows of `task_events`, and each of its reports applied from the log
/// beside, which keeps only its `reports` row (`apply::event`; the row
/// holds the task and the position, and the history reads the object from
/// that log, as for every event applied from there).
const TASK_EVENTS: &str = "SELECT position, event FROM task_events WHERE task_id = ?1
    UNION ALL
    SELECT r.position, NULL FROM tasks t JOIN reports r ON r.task_no = t.task_no WHERE t.task_id = ?1
        AND NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = ?1 AND e.position = r.position)";

const SUMMARY_COLUMNS: &str = "t.task_id, t.title, t.cycle, t.assignee, coalesce(c.full_name, t.assignee), t.unit,
     coalesce(u.name, t.unit), t.kind, t.category, t.origin, t.status, t.percent_complete, t.due, t.due_end_ms,
     coalesce(t.last_report_ms, t.created_ms), t.created_ms, t.last_confidence, t.rating, t.score";

const SUMMARY_FROM: &str =
    "FROM tasks t LEFT JOIN cadres c ON c.id = t.assignee LEFT JOIN units u ON u.code = t.unit";

/// A stored status (always one of the vocabulary's).
fn status_of(text: &str) -> TaskStatus {
    TaskStatus::parse(text).unwrap_or(TaskStatus::Registered)
}

fn summary(r: &rusqlite::Row<'_>, now_ms: i64) -> rusqlite::Result<TaskSummary> {
    let status: String = r.get(10)?;
    let due_end: i64 = r.get(13)?;
    let last_check_in: i64 = r.get(14)?;
    let flags = Flags::at(status_of(&status), due_end, last_check_in, now_ms);
    Ok(TaskSummary {
        task_id: r.get(0)?,
        title: r.get(1)?,
        cycle: r.get(2)?,
        assignee: r.get(3)?,
        assignee_name: r.get(4)?,
        unit: r.get(5)?,
        unit_name: r.get(6)?,
        kind: r.get(7)?,
        category: r.get(8)?,
        origin: r.get(9)?,
        percent_complete: r.get(11)?,
        due: r.get(12)?,
        overdue: flags.overdue,
        due_soon: flags.due_soon,
        stale: flags.stale,
        days_left: figures::days_left(due_end, now_ms),
        confidence: r.get(16)?,
        rating: r.get(17)?,
        score: r.get(18)?,
        status,
    })
}

/// A unit's row, for names and views. Texts are boxed (16 bytes, not a
/// `String`'s 24) and absent dates and successors allocate nothing: a
/// province of the bench's size holds 47,701 of them in every process that
/// reads (BENCHMARKS.md, "Resident memory").
#[derive(Clone, Debug)]
pub(crate) struct UnitRow {
    code: Box<str>,
    name: Box<str>,
    kind: Box<str>,
    parent: Option<Box<str>>,
    valid_from: Option<Box<str>>,
    valid_to: Option<Box<str>>,
    successor: Option<Box<str>>,
}

/// Every unit's row, in code order: found by a binary search, with no hash
/// table beside them (at 47,701 units the map of rows was 11 MB, most of it
/// the table's empty slots and its keys).
#[derive(Debug)]
pub(crate) struct UnitRows(Vec<UnitRow>);

impl UnitRows {
    fn new(mut rows: Vec<UnitRow>) -> UnitRows {
        rows.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        rows.dedup_by(|a, b| a.code == b.code);
        UnitRows(rows)
    }

    fn get(&self, code: &str) -> Option<&UnitRow> {
        self.0
            .binary_search_by(|row| (*row.code).cmp(code))
            .ok()
            .map(|i| &self.0[i])
    }

    fn iter(&self) -> impl Iterator<Item = &UnitRow> {
        self.0.iter()
    }
}

/// Every unit: the domain's tree and the rows, loaded once per change of
/// the units (the stamp is the position of the last unit event applied).
#[derive(Debug)]
pub(crate) struct Units {
    stamp: u64,
    tree: UnitTree,
    rows: UnitRows,
}

/// The units last read from each read-model file in this process, shared by
/// every handle on it; an entry is replaced when its file's units change
/// and dropped with its file.
/// A file's units: its path, its identity on disk (a file made again under
/// the same name is another file) and the units.
type SharedEntry = (String, Option<u64>, Arc<Units>);

static SHARED_UNITS: std::sync::Mutex<Vec<SharedEntry>> = std::sync::Mutex::new(Vec::new());

/// The file's identity on disk: its inode, where the platform has one.
fn file_id(path: &str) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn shared_units(path: &str, stamp: u64) -> Option<Arc<Units>> {
    let id = file_id(path)?;
    let shared = SHARED_UNITS.lock().ok()?;
    shared
        .iter()
        .find(|(p, i, units)| p == path && *i == Some(id) && units.stamp == stamp)
        .map(|(_, _, units)| units.clone())
}

fn share_units(path: &str, units: &Arc<Units>) {
    let id = file_id(path);
    if let Ok(mut shared) = SHARED_UNITS.lock() {
        shared.retain(|(p, i, _)| p != path && file_id(p) == *i && i.is_some());
        if id.is_some() {
            shared.push((path.to_owned(), id, units.clone()));
        }
    }
}

impl ReadModel {
    /// The units as of the read model's current state: the cached ones
    /// while no unit event has been applied since they were read.
    fn units(&self) -> Result<Arc<Units>, ViewError> {
        let stamp: u64 = self
            .connection()
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([UNITS_POSITION], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let Some(units) = self.units_cache.borrow().as_ref()
            && units.stamp == stamp
        {
            return Ok(units.clone());
        }
        // Another handle on the same file may have read them already: one
        // copy per file and stamp serves every handle of the process (a
        // server pools several; each holding its own copy of a province's
        // units cost tens of megabytes apiece).
        if let Some(units) = shared_units(&self.path, stamp) {
            *self.units_cache.borrow_mut() = Some(units.clone());
            return Ok(units);
        }
        let mut stmt = self.connection().prepare_cached(
            "SELECT code, name, kind, parent, valid_from, valid_to, successor FROM units",
        )?;
        let boxed = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<Box<str>> {
            Ok(text_at(r, i)?.into())
        };
        let optional = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<Option<Box<str>>> {
            Ok(optional_text_at(r, i)?.map(Box::from))
        };
        // Sized first: collecting would double its way past the count and
        // hold both copies while shrinking (12 MB at 47,701 units).
        let count: usize = self
            .connection()
            .prepare_cached("SELECT count(*) FROM units")?
            .query_row([], |r| r.get(0))?;
        let mut rows = Vec::with_capacity(count);
        let mut read = stmt.query([])?;
        while let Some(r) = read.next()? {
            rows.push(UnitRow {
                code: boxed(r, 0)?,
                name: boxed(r, 1)?,
                kind: boxed(r, 2)?,
                parent: optional(r, 3)?,
                valid_from: optional(r, 4)?,
                valid_to: optional(r, 5)?,
                successor: optional(r, 6)?,
            });
        }
        drop(read);
        let rows = UnitRows::new(rows);
        let mut tree = UnitTree::new();
        for row in rows.iter() {
            tree.insert(&row.code, row.parent.as_deref());
        }
        for row in rows.iter() {
            if let (Some(into), Some(on)) = (
                &row.successor,
                row.valid_to.as_deref().and_then(Date::parse),
            ) {
                tree.merge(&row.code, into, on);
            }
        }
        let units = Arc::new(Units { stamp, tree, rows });
        *self.units_cache.borrow_mut() = Some(units.clone());
        share_units(&self.path, &units);
        Ok(units)
    }

    /// The unit tree, the domain's own type, as the read model holds it.
    pub fn unit_tree(&self) -> Result<UnitTree, ViewError> {
        Ok(self.units()?.tree.clone())
    }

    /// A unit's code, name, kind and whether a merge closed it by the day
    /// of `now_ms`, from the units held in memory (no task is read): what
    /// access checks and `/api/v1/me` need. `None` for a unit never
    /// registered.
    pub fn unit_ref(&self, code: &str, now_ms: i64) -> Result<Option<UnitRef>, ViewError> {
        let units = self.units()?;
        Ok(units.rows.get(code).map(|u| UnitRef {
            code: code.to_owned(),
            name: u.name.to_string(),
            kind: u.kind.to_string(),
            closed: units.tree.closed_on(code, day_in_vietnam(now_ms)).is_some(),
        }))
    }

    /// Whether `code` is a registered unit without a parent: the root, whose
    /// tokens see the whole of every cycle.
    pub fn is_root(&self, code: &str) -> Result<bool, ViewError> {
        let units = self.units()?;
        Ok(units.tree.contains(code) && units.tree.parent(code).is_none())
    }

    /// The unit that took `code` over, when a merge closed it by the day of
    /// `now_ms` ([`UnitTree::closed_on`]).
    pub fn closed_on(&self, code: &str, now_ms: i64) -> Result<Option<String>, ViewError> {
        Ok(self
            .units()?
            .tree
            .closed_on(code, day_in_vietnam(now_ms))
            .map(str::to_owned))
    }

    /// Whether `unit` lies within `ancestor` on the day of `now_ms` in
    /// Vietnam ([`UnitTree::is_within`]): the question access checks ask.
    pub fn is_within(&self, unit: &str, ancestor: &str, now_ms: i64) -> Result<bool, ViewError> {
        Ok(self
            .units()?
            .tree
            .is_within(unit, ancestor, day_in_vietnam(now_ms)))
    }

    /// The codes of `root` and every unit that rolls up into it in `tree`
    /// on the day of `now_ms` ([`UnitTree::subtree`]).
    pub fn subtree(
        &self,
        root: &str,
        tree: Tree,
        now_ms: i64,
    ) -> Result<HashSet<String>, ViewError> {
        Ok(self
            .units()?
            .tree
            .subtree(root, tree, day_in_vietnam(now_ms)))
    }

    /// Tasks matching `filter`, soonest due first, and how many match in all.
    /// With `q`, the best matches first ([`Query::rank`]), then soonest due.
    pub fn tasks(
        &self,
        filter: &TaskFilter,
        now_ms: i64,
    ) -> Result<(Vec<TaskSummary>, u64), ViewError> {
        let mut clauses = Vec::new();
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if let Some(cycle) = &filter.cycle {
            args.push(Box::new(cycle.clone()));
            clauses.push(format!("t.cycle = ?{}", args.len()));
        }
        if let Some(assignee) = &filter.assignee {
            args.push(Box::new(assignee.clone()));
            clauses.push(format!("t.assignee = ?{}", args.len()));
        }
        if let Some(kind) = filter.kind {
            args.push(Box::new(kind.as_str()));
            clauses.push(format!("t.kind = ?{}", args.len()));
        }
        // Every unit lies within the root, in every view of the tree: the
        // root's subtree filters nothing, and naming its tens of thousands
        // of codes would cost more than the query.
        let unit = match &filter.unit {
            Some(unit) if !self.is_root(unit)? => Some(unit),
            _ => None,
        };
        if let Some(unit) = unit {
            let mut codes: Vec<String> = self
                .subtree(unit, filter.tree, now_ms)?
                .into_iter()
                .collect();
            codes.sort();
            args.push(Box::new(serde_json::to_string(&codes).unwrap_or_default()));
            clauses.push(format!(
                "t.unit IN (SELECT value FROM json_each(?{}))",
                args.len()
            ));
        }
        // The same tests as [`Flags::at`], over the stored `open` and
        // `active` (computed by the domain's `TaskStatus`).
        match filter.status {
            None => {}
            Some(StatusFilter::Flag(TaskFlag::Overdue)) => {
                args.push(Box::new(now_ms));
                clauses.push(format!("t.open AND t.due_end_ms <= ?{}", args.len()));
            }
            Some(StatusFilter::Flag(TaskFlag::DueSoon)) => {
                args.push(Box::new(now_ms));
                let n = args.len();
                clauses.push(format!(
                    "t.open AND t.due_end_ms > ?{n} AND t.due_end_ms - ?{n} <= {}",
                    DUE_SOON_DAYS * DAY_MS
                ));
            }
            Some(StatusFilter::Flag(TaskFlag::Stale)) => {
                args.push(Box::new(now_ms));
                clauses.push(format!(
                    "t.active AND ?{} - coalesce(t.last_report_ms, t.created_ms) >= {}",
                    args.len(),
                    STALE_DAYS * DAY_MS
                ));
            }
            Some(StatusFilter::Status(status)) => {
                args.push(Box::new(status.as_str()));
                clauses.push(format!("t.status = ?{}", args.len()));
            }
        }
        // Search (`Query`): `LIKE` keeps only the tasks holding every word
        // and phrase somewhere; `dotpha_rank` then judges them by the
        // domain's rule and orders them.
        let query = filter.q.as_deref().and_then(Query::parse);
        let mut rank_sql = String::new();
        if let Some(query) = &query {
            for needle in query.needles() {
                let escaped = needle
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                args.push(Box::new(format!("%{escaped}%")));
                clauses.push(format!("t.search LIKE ?{} ESCAPE '\\'", args.len()));
            }
            args.push(Box::new(filter.q.clone().unwrap_or_default()));
            rank_sql = format!("dotpha_rank(?{}, t.search_head, t.search)", args.len());
            clauses.push(format!("{rank_sql} IS NOT NULL"));
            rank_sql.push_str(", ");
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let params = rusqlite::params_from_iter(args.iter().map(|a| a.as_ref()));
        let total: u64 = self
            .connection()
            .prepare_cached(&format!("SELECT count(*) FROM tasks t {filter_sql}"))?
            .query_row(params, |r| r.get(0))?;
        let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        // SQLite reads an OFFSET past i64::MAX as a real and fails the
        // query; no table is that long, so the largest it takes is as good.
        let offset = filter.offset.unwrap_or(0).min(i64::MAX as usize);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM} {filter_sql} ORDER BY {rank_sql}t.due, t.task_id LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            |r| summary(r, now_ms),
        )?;
        Ok((rows.collect::<Result<_, _>>()?, total))
    }

    /// The tasks named by `ids`, whole, by id (ids the read model does not
    /// hold are left out).
    fn summaries<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String>,
        now_ms: i64,
    ) -> Result<HashMap<String, TaskSummary>, ViewError> {
        let ids: Vec<&String> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Strings always serialize.
        let list = serde_json::to_string(&ids).unwrap_or_default();
        let mut stmt = self.connection().prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE t.task_id IN (SELECT value FROM json_each(?1))"
        ))?;
        let rows = stmt.query_map([list], |r| summary(r, now_ms))?;
        rows.map(|r| r.map(|t| (t.task_id.clone(), t)).map_err(ViewError::from))
            .collect()
    }

    /// One task, whole.
    pub fn task(&self, task_id: &str, now_ms: i64) -> Result<Option<TaskDetail>, ViewError> {
        let conn = self.connection();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS}, t.description, t.backlog_ref, t.plan, t.last_report, t.evaluation_comment,
                        (SELECT count(*) FROM ({TASK_EVENTS}) e)
                 {SUMMARY_FROM} WHERE t.task_id = ?1"
            ))?
            .query_row([task_id], |r| {
                Ok((
                    summary(r, now_ms)?,
                    r.get::<_, Option<String>>(19)?,
                    r.get::<_, Option<String>>(20)?,
                    r.get::<_, Option<String>>(21)?,
                    r.get::<_, Option<String>>(22)?,
                    r.get::<_, Option<String>>(23)?,
                    r.get::<_, u64>(24)?,
                ))
            })
            .optional()?;
        let Some((
            summary,
            description,
            backlog_ref,
            plan,
            last_report,
            evaluation_comment,
            version,
        )) = row
        else {
            return Ok(None);
        };
        let mut series: HashMap<String, Vec<Point>> = HashMap::new();
        // Oldest first by the rule of "latest" (figures::Reading): `as_of`,
        // then log position.
        let mut stmt = conn.prepare_cached(
            "SELECT r.as_of, r.position, r.vals FROM tasks t JOIN reports r ON r.task_no = t.task_no
             WHERE t.task_id = ?1 ORDER BY r.as_of, r.position",
        )?;
        let reports = stmt.query_map([task_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for report in reports {
            let (as_of, position, values) = report?;
            for (metric, value) in crate::apply::values_from_json(&values) {
                series.entry(metric).or_default().push(Point {
                    as_of: as_of.clone(),
                    value,
                    position,
                });
            }
        }
        let targets = conn
            .prepare_cached(
                "SELECT metric, label, baseline, target, unit, min, max, latest, latest_as_of
                 FROM targets WHERE task_id = ?1 ORDER BY ord",
            )?
            .query_map([task_id], |r| {
                let (baseline, target, latest) = (r.get(2)?, r.get(3)?, r.get(7)?);
                Ok(TargetView {
                    metric: r.get(0)?,
                    label: r.get(1)?,
                    baseline,
                    target,
                    unit: r.get(4)?,
                    min: r.get(5)?,
                    max: r.get(6)?,
                    latest,
                    latest_as_of: r.get(8)?,
                    percent_complete: figures::target_percent(baseline, target, latest),
                    series: Vec::new(),
                })
            })?
            .map(|t| {
                t.map(|mut t| {
                    t.series = series.remove(&t.metric).unwrap_or_default();
                    t
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let delegations = conn
            .prepare_cached(
                "SELECT d.delegation_id, d.to_ref, coalesce(u.name, c.full_name, d.to_ref), d.description, d.due
                 FROM delegations d LEFT JOIN units u ON u.code = d.to_ref LEFT JOIN cadres c ON c.id = d.to_ref
                 WHERE d.task_id = ?1 ORDER BY d.due, d.delegation_id",
            )?
            .query_map([task_id], |r| {
                Ok(DelegationView {
                    delegation_id: r.get(0)?,
                    to: r.get(1)?,
                    to_name: r.get(2)?,
                    description: r.get(3)?,
                    due: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Ok(Some(TaskDetail {
            summary,
            description,
            backlog_ref,
            targets,
            plan: json(plan),
            delegations,
            last_report: json(last_report),
            evaluation_comment,
            version,
        }))
    }

    /// A task's events, oldest first: each the object the log holds, as
    /// this read model keeps it, or the position of an event it was given
    /// from the log beside it ([`ReadModel::apply_logged`]), to be read
    /// there (`dotpha_project::history`).
    pub fn history(&self, task_id: &str) -> Result<Option<Vec<HistoryEvent>>, ViewError> {
        let mut stmt = self
            .connection()
            .prepare_cached(&format!("{TASK_EVENTS} ORDER BY position"))?;
        let events: Vec<(u64, Option<String>)> = stmt
            .query_map([task_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if events.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            events
                .into_iter()
                .filter_map(|(position, event)| match event {
                    Some(text) => RawValue::from_string(text).ok().map(HistoryEvent::Kept),
                    None => Some(HistoryEvent::InLog(position)),
                })
                .collect(),
        ))
    }

    /// One pass over the tasks (of `cycle`, or all), counted per unit.
    fn scan(&self, cycle: Option<&str>, now_ms: i64) -> Result<HashMap<String, Tally>, ViewError> {
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        let mut stmt = self.connection().prepare_cached(
            "SELECT unit, assignee, status, rating, kind, origin, due_end_ms,
                    coalesce(last_report_ms, created_ms)
             FROM tasks WHERE ?1 IS NULL OR cycle = ?1",
        )?;
        let mut rows = stmt.query(params![cycle])?;
        while let Some(r) = rows.next()? {
            let tally = tallies.entry(r.get(0)?).or_default();
            let rollup = &mut tally.rollup;
            let status: String = r.get(2)?;
            let flags = Flags::at(status_of(&status), r.get(6)?, r.get(7)?, now_ms);
            rollup.tasks += 1;
            tally.cadres.insert(r.get::<_, String>(1)?);
            if status_of(&status).is_active() {
                tally.active += 1;
                tally.on_track += u64::from(!flags.overdue && !flags.stale);
            }
            rollup.by_status.add(&status);
            if let Some(rating) = optional_text_at(r, 3)? {
                rollup.by_rating.add(rating);
            }
            rollup.by_kind.add(text_at(r, 4)?);
            rollup.by_origin.add(text_at(r, 5)?);
            rollup.overdue += u64::from(flags.overdue);
        }
        Ok(tallies)
    }

    fn rollup(
        &self,
        units: Option<&HashSet<String>>,
        cycle: Option<&str>,
        now_ms: i64,
    ) -> Result<Rollup, ViewError> {
        let tallies = self.scan(cycle, now_ms)?;
        Ok(combine(
            tallies
                .iter()
                .filter(|(unit, _)| units.is_none_or(|set| set.contains(*unit)))
                .map(|(_, t)| t),
        ))
    }

    /// A unit with its subtree's roll-up (all cycles unless `cycle`).
    pub fn unit(
        &self,
        code: &str,
        tree: Tree,
        cycle: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<UnitView>, ViewError> {
        let units = self.units()?;
        let Some(row) = units.rows.get(code) else {
            return Ok(None);
        };
        let at = day_in_vietnam(now_ms);
        let set = units.tree.subtree(code, tree, at);
        let mut children: Vec<UnitRef> = units
            .tree
            .children(code, tree, at)
            .into_iter()
            .filter_map(|c| {
                let u = units.rows.get(c)?;
                Some(UnitRef {
                    code: c.to_owned(),
                    name: u.name.to_string(),
                    kind: u.kind.to_string(),
                    closed: units.tree.closed_on(c, at).is_some(),
                })
            })
            .collect();
        // Names repeat (two villages may share one), so the code settles the
        // order: the same read model always answers the same.
        children.sort_by(|a, b| {
            a.closed
                .cmp(&b.closed)
                .then_with(|| collate(&a.name, &b.name))
                .then_with(|| a.code.cmp(&b.code))
        });
        Ok(Some(UnitView {
            code: code.to_owned(),
            name: row.name.to_string(),
            kind: row.kind.to_string(),
            parent: row.parent.as_deref().map(str::to_owned),
            valid_from: row.valid_from.as_deref().map(str::to_owned),
            valid_to: row.valid_to.as_deref().map(str::to_owned),
            successor: row.successor.as_deref().map(str::to_owned),
            children,
            rollup: self.rollup(Some(&set), cycle, now_ms)?,
        }))
    }

    /// The newest cycle's id (by start date).
    pub fn latest_cycle(&self) -> Result<Option<String>, ViewError> {
        Ok(self
            .connection()
            .prepare_cached("SELECT id FROM cycles ORDER BY starts_on DESC, id DESC LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    /// Every cycle, newest first: (id, starts_on, ends_on, closed).
    pub fn cycles(&self) -> Result<Vec<(String, String, String, bool)>, ViewError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT id, starts_on, ends_on, closed FROM cycles ORDER BY starts_on DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A cycle at a glance (the newest cycle when `cycle` is `None`).
    pub fn dashboard(&self, cycle: Option<&str>, now_ms: i64) -> Result<Dashboard, ViewError> {
        let cycle = match cycle {
            Some(c) => Some(c.to_owned()),
            None => self.latest_cycle()?,
        };
        // One pass over the cycle's tasks, in a fixed order (floating-point
        // sums depend on it, and the same read model must always give the
        // same mean, whatever plan SQLite picks): the tallies, the means,
        // the bands, the quota and the keys of the listed tasks; then the
        // few listed tasks are read whole. The lists are what `tasks`
        // answers for the same flag (soonest due first), which
        // `tests/dashboard.rs` checks.
        // Boxed: a tally is ~500 bytes and the table a power of two of
        // slots, so at 4,600 units its empty slots and its growth (the old
        // table beside the new) took 12 MB, unboxed.
        let mut tallies: HashMap<String, Box<Tally>> = HashMap::new();
        let mut completion: BTreeMap<String, u64> = CompletionBand::ALL
            .iter()
            .map(|band| (band.as_str().to_owned(), 0))
            .collect();
        let mut cycle_tasks: Vec<(TaskStatus, Option<f64>)> = Vec::new();
        let mut quota: BTreeMap<String, QuotaTally> = BTreeMap::new();
        // (due, task_id) of the tasks each list may show.
        type Key = (String, String);
        let (mut overdue_keys, mut due_soon_keys, mut stale_keys) =
            (Vec::<Key>::new(), Vec::<Key>::new(), Vec::<Key>::new());
        let mut low_confidence_keys: Vec<(Option<f64>, Key)> = Vec::new();
        let mut stmt = self.connection().prepare_cached(
            "SELECT task_id, unit, assignee, status, rating, kind, origin, due, due_end_ms,
                    coalesce(last_report_ms, created_ms), percent_complete, evaluated_by,
                    last_confidence
             FROM tasks WHERE cycle = ?1 ORDER BY task_id",
        )?;
        let mut rows = stmt.query([cycle.as_deref().unwrap_or("")])?;
        // Strings are read in place and copied only into a key not yet
        // held: 9,200 rows of a ×100 province otherwise cost tens of
        // thousands of small allocations per answer.
        let text = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<String> {
            Ok(text_at(r, i)?.to_owned())
        };
        while let Some(r) = rows.next()? {
            let status = status_of(text_at(r, 3)?);
            let flags = Flags::at(status, r.get(8)?, r.get(9)?, now_ms);
            let percent: Option<f64> = r.get(10)?;
            let rating_text = optional_text_at(r, 4)?;

            let unit = text_at(r, 1)?;
            let tally = match tallies.get_mut(unit) {
                Some(tally) => tally,
                None => tallies.entry(unit.to_owned()).or_default(),
            };
            let rollup = &mut tally.rollup;
            rollup.tasks += 1;
            let assignee = text_at(r, 2)?;
            if !tally.cadres.contains(assignee) {
                tally.cadres.insert(assignee.to_owned());
            }
            if status.is_active() {
                tally.active += 1;
                tally.on_track += u64::from(!flags.overdue && !flags.stale);
            }
            rollup.by_status.add(text_at(r, 3)?);
            if let Some(rating) = rating_text {
                rollup.by_rating.add(rating);
            }
            rollup.by_kind.add(text_at(r, 5)?);
            rollup.by_origin.add(text_at(r, 6)?);
            rollup.overdue += u64::from(flags.overdue);

            tally.tasks.push((status, percent));
            cycle_tasks.push((status, percent));
            if let Some(p) = figures::counts_in_mean(status, percent) {
                *completion
                    .entry(CompletionBand::of(p).as_str().to_owned())
                    .or_default() += 1;
            }
            if let (Some(rating), Some(body)) = (
                rating_text.and_then(Rating::parse),
                optional_text_at(r, 11)?,
            ) {
                match quota.get_mut(body) {
                    Some(tally) => tally.add(rating),
                    None => quota.entry(body.to_owned()).or_default().add(rating),
                }
            }
            let key = || -> rusqlite::Result<Key> { Ok((text(r, 7)?, text(r, 0)?)) };
            if flags.overdue {
                overdue_keys.push(key()?);
            }
            if flags.due_soon {
                due_soon_keys.push(key()?);
            }
            if flags.stale {
                stale_keys.push(key()?);
            }
            if status.is_open() && optional_text_at(r, 12)? == Some(Confidence::Low.as_str()) {
                low_confidence_keys.push((percent, key()?));
            }
        }
        drop(rows);
        drop(stmt);
        let all = combine(tallies.values().map(Box::as_ref));
        // Each line's name and kind, read by its code: the dashboard does
        // not need the units held for access checks (17 MB at 47,701
        // units, loaded by the first request that needs them).
        let mut names = self
            .connection()
            .prepare_cached("SELECT name, kind FROM units WHERE code = ?1")?;
        let mut by_unit: Vec<UnitLine> = Vec::with_capacity(tallies.len());
        for (unit, tally) in tallies {
            let (name, kind) = names
                .query_row([&unit], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or_else(|| (unit.clone(), String::new()));
            by_unit.push(UnitLine {
                name,
                kind,
                mean_percent: figures::mean_completion(tally.tasks.iter().copied()),
                rollup: (*tally).into_rollup(),
                unit,
            });
        }
        drop(names);
        by_unit.sort_by(|a, b| collate(&a.name, &b.name).then_with(|| a.unit.cmp(&b.unit)));
        let mut weakest: Vec<&UnitLine> = by_unit
            .iter()
            .filter(|u| u.mean_percent.is_some())
            .collect();
        // Stable: equal means keep the Vietnamese order of names.
        weakest.sort_by(|a, b| {
            a.mean_percent
                .partial_cmp(&b.mean_percent)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let weakest_units: Vec<UnitLine> =
            weakest.into_iter().take(ATTENTION_UNITS).cloned().collect();
        let excellent_quota_exceeded = quota
            .into_iter()
            .filter(|(_, tally)| tally.exceeded())
            .map(|(body, _)| body)
            .collect();
        // Soonest due first, then by id: the order of `tasks`.
        let first = |mut keys: Vec<Key>| {
            keys.sort_unstable();
            keys.truncate(DASHBOARD_LIST);
            keys.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        };
        let (due_soon, stale) = (due_soon_keys.len() as u64, stale_keys.len() as u64);
        let overdue_ids = first(overdue_keys);
        let due_soon_ids = first(due_soon_keys);
        let stale_ids = first(stale_keys);
        // The least complete first; equal ones soonest due first.
        low_confidence_keys.sort_by(|(a, ka), (b, kb)| {
            a.partial_cmp(b)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| ka.cmp(kb))
        });
        let low_confidence = low_confidence_keys.len() as u64;
        let low_confidence_ids: Vec<String> = low_confidence_keys
            .into_iter()
            .take(DASHBOARD_LIST)
            .map(|(_, (_, id))| id)
            .collect();
        let whole = self.summaries(
            overdue_ids
                .iter()
                .chain(&due_soon_ids)
                .chain(&stale_ids)
                .chain(&low_confidence_ids),
            now_ms,
        )?;
        // A task may stand in several lists.
        let listed = |ids: Vec<String>| -> Vec<TaskSummary> {
            ids.iter().filter_map(|id| whole.get(id).cloned()).collect()
        };
        let overdue_tasks = listed(overdue_ids);
        let due_soon_tasks = listed(due_soon_ids);
        let stale_tasks = listed(stale_ids);
        let low_confidence_tasks = listed(low_confidence_ids);
        let open = all
            .by_status
            .iter()
            .filter(|(status, _)| status_of(status).is_open())
            .map(|(_, n)| n)
            .sum();
        Ok(Dashboard {
            cycle,
            tasks: all.tasks,
            open,
            mean_percent: figures::mean_completion(cycle_tasks),
            cadres: all.cadres,
            by_status: all.by_status,
            by_rating: all.by_rating,
            overdue: all.overdue,
            due_soon,
            excellent_quota_exceeded,
            completion,
            overdue_tasks,
            due_soon_tasks,
            by_unit,
            attention: Attention {
                weakest_units,
                stale_tasks,
                stale,
                low_confidence_tasks,
                low_confidence,
                unevaluated: open,
            },
        })
    }

    /// The instants `[from, until)` around `now_ms` within which every
    /// clock-dependent flag of every task (overdue, due soon, stale) keeps
    /// the value it has at `now_ms`, so every answer judged at an instant in
    /// it equals the answer judged at `now_ms`. A flag changes only when the
    /// clock reaches a task's due end, 14 days before it, or 30 days after
    /// its last check-in (its creation before one); every task counts,
    /// whatever its status, so the span is never too wide. `days_left` and
    /// the unit tree (merges take effect on a day) change at midnights in
    /// Vietnam, so with tasks or merges the span never leaves the day of
    /// `now_ms`. `i64::MIN` and `i64::MAX` stand for no bound.
    pub fn clock_window(&self, now_ms: i64) -> Result<(i64, i64), ViewError> {
        let (due_soon, stale) = (DUE_SOON_DAYS * DAY_MS, STALE_DAYS * DAY_MS);
        let bounds: [Option<i64>; 6] = self
            .connection()
            .prepare_cached(
                // Each bound is the nearest value of one indexed column
                // (`tasks_by_due_end`, `tasks_by_check_in`), found in the
                // index without reading the tasks: a new position costs
                // six index lookups, not a scan.
                "SELECT
                   (SELECT max(due_end_ms) FROM tasks WHERE due_end_ms <= ?1),
                   (SELECT min(due_end_ms) FROM tasks WHERE due_end_ms > ?1),
                   (SELECT max(due_end_ms) FROM tasks WHERE due_end_ms <= ?1 + ?2) - ?2,
                   (SELECT min(due_end_ms) FROM tasks WHERE due_end_ms > ?1 + ?2) - ?2,
                   (SELECT max(coalesce(last_report_ms, created_ms)) FROM tasks
                     WHERE coalesce(last_report_ms, created_ms) <= ?1 - ?3) + ?3,
                   (SELECT min(coalesce(last_report_ms, created_ms)) FROM tasks
                     WHERE coalesce(last_report_ms, created_ms) > ?1 - ?3) + ?3",
            )?
            .query_row(params![now_ms, due_soon, stale], |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ])
            })?;
        let from = [bounds[0], bounds[2], bounds[4]]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(i64::MIN);
        let until = [bounds[1], bounds[3], bounds[5]]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(i64::MAX);
        // `days_left` changes at every midnight in Vietnam, and the tree at
        // a merge's first day (a midnight too): while there are tasks or
        // merges, an answer holds for its day at most.
        let dated = bounds.iter().any(Option::is_some)
            || self.units()?.rows.iter().any(|u| u.valid_to.is_some());
        if !dated {
            return Ok((from, until));
        }
        let day_end = day_in_vietnam(now_ms).end_in_vietnam_millis();
        Ok((from.max(day_end - DAY_MS), until.min(day_end)))
    }

    /// A cadre and their tasks.
    pub fn cadre(&self, id: &str, now_ms: i64) -> Result<Option<CadreView>, ViewError> {
        let row = self
            .connection()
            .prepare_cached(
                "SELECT id, full_name, unit, position, party_member, standing_committee FROM cadres WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(CadreView {
                    id: r.get(0)?,
                    full_name: r.get(1)?,
                    unit: r.get(2)?,
                    position: r.get(3)?,
                    party_member: r.get(4)?,
                    standing_committee: r.get(5)?,
                    tasks: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut cadre) = row else {
            return Ok(None);
        };
        let (mut tasks, _) = self.tasks(
            &TaskFilter {
                assignee: Some(id.to_owned()),
                limit: Some(MAX_LIMIT),
                ..TaskFilter::default()
            },
            now_ms,
        )?;
        tasks.sort_by(|a, b| b.cycle.cmp(&a.cycle).then(a.due.cmp(&b.due)));
        cadre.tasks = tasks;
        Ok(Some(cadre))
    }
}

/// Counts of one unit's tasks, before combining.
#[derive(Default)]
struct Tally {
    rollup: Rollup,
    cadres: HashSet<String>,
    active: u64,
    on_track: u64,
    /// Each task's status and completion, in the order read (a mean's
    /// floating-point sum depends on it).
    tasks: Vec<(TaskStatus, Option<f64>)>,
}

impl Tally {
    /// The roll-up of this one tally: what [`combine`] gives for it alone.
    fn into_rollup(self) -> Rollup {
        let mut out = self.rollup;
        out.cadres = self.cadres.len() as u64;
        out.on_track_share = (self.active > 0).then(|| self.on_track as f64 / self.active as f64);
        out
    }
}

/// The text in column `i`, borrowed from the row (a column that is not
/// text is a conversion error naming it).
fn text_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

/// [`text_at`] for a column that may be NULL.
fn optional_text_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

fn combine<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Rollup {
    let mut out = Rollup::default();
    let mut cadres: HashSet<&str> = HashSet::new();
    let (mut active, mut on_track) = (0, 0);
    for t in tallies {
        out.tasks += t.rollup.tasks;
        out.overdue += t.rollup.overdue;
        out.by_status.merge(&t.rollup.by_status);
        out.by_rating.merge(&t.rollup.by_rating);
        out.by_kind.merge(&t.rollup.by_kind);
        out.by_origin.merge(&t.rollup.by_origin);
        cadres.extend(t.cadres.iter().map(String::as_str));
        active += t.active;
        on_track += t.on_track;
    }
    out.cadres = cadres.len() as u64;
    out.on_track_share = (active > 0).then(|| on_track as f64 / active as f64);
    out
}
