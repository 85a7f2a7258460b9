//! What the log says is true now: the unit tree, cadres, cycles and tasks,
//! as far as deciding the next submission needs it. `apply` folds one event
//! in and cannot fail.

use std::collections::{BTreeSet, HashMap, HashSet};

pub use crate::vocabulary::{TaskOrigin, TaskStatus};
use crate::{
    evaluation::{DoneTracker, MilestoneWork, Points, Product, TaskWork, products_in},
    figures::Reading,
    payload::{
        EventType, MetricValue, Milestone, Payload, PeriodKind, Rating, Target, TaskKind, UnitKind,
    },
    positions::Positions,
    submission::Event,
    time::Date,
    tree::UnitTree,
    values::{RequiredText, Slug},
};

/// A unit of the tree, with its validity dates.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// The unit's slug.
    pub code: Slug,
    /// Its name.
    pub name: RequiredText,
    /// Its kind.
    pub kind: UnitKind,
    /// Its parent as registered; `None` for the root.
    pub parent: Option<Slug>,
    /// First day it exists, when known.
    pub valid_from: Option<Date>,
    /// The day it closed (merged away), when it has.
    pub valid_to: Option<Date>,
    /// The unit it was merged into.
    pub successor: Option<Slug>,
    /// Version of its stream.
    pub version: u64,
}

impl Unit {
    /// Whether a merge of the unit is recorded (whatever its date).
    pub fn is_closed(&self) -> bool {
        self.valid_to.is_some()
    }

    /// Whether the unit is closed on `at`: merged away on or before it.
    pub fn is_closed_on(&self, at: Date) -> bool {
        self.valid_to.is_some_and(|to| to <= at)
    }
}

/// A cadre and the unit they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct Cadre {
    /// The cadre's id.
    pub id: Slug,
    /// Full name.
    pub full_name: RequiredText,
    /// The unit they are registered in.
    pub unit: Slug,
    /// Position.
    pub position: RequiredText,
    /// Party member.
    pub party_member: bool,
    /// On the Standing Committee of their unit.
    pub standing_committee: bool,
    /// Version of their stream.
    pub version: u64,
}

/// A yearly (or other) cycle of assignments.
#[derive(Clone, Debug, PartialEq)]
pub struct Cycle {
    /// The cycle's id.
    pub id: Slug,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// Closed: no more progress or plans.
    pub closed: bool,
    /// Version of its stream.
    pub version: u64,
}

impl Cycle {
    /// Whether `date` falls inside the cycle, both ends included.
    pub fn contains(&self, date: Date) -> bool {
        self.starts_on <= date && date <= self.ends_on
    }
}

impl TaskStatus {
    /// Whether the task still awaits an end: neither evaluated nor
    /// cancelled. An open task past its due date is overdue.
    pub fn is_open(self) -> bool {
        !self.is_final()
    }

    /// Whether the cadre can still work on it: plan, delegate, report.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TaskStatus::Assigned | TaskStatus::Planned | TaskStatus::InProgress
        )
    }

    /// Whether nothing but history may follow.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Evaluated | TaskStatus::Cancelled)
    }

    /// The status a task's first event gives it: `registered` for
    /// `task.registered`, `assigned` for `task.assigned`.
    pub fn initial(event: EventType) -> Option<TaskStatus> {
        match event {
            EventType::TaskRegistered => Some(TaskStatus::Registered),
            EventType::TaskAssigned => Some(TaskStatus::Assigned),
            _ => None,
        }
    }

    /// The status after an accepted `event` of the task: approval assigns,
    /// the first plan plans, a report puts it in progress, an evaluation or
    /// a cancellation ends it; everything else keeps it. The one home of
    /// the transitions, for the state and the read models alike.
    pub fn after(self, event: EventType) -> TaskStatus {
        match event {
            EventType::TaskApproved => TaskStatus::Assigned,
            EventType::PlanSubmitted if self == TaskStatus::Assigned => TaskStatus::Planned,
            EventType::ProgressReported => TaskStatus::InProgress,
            EventType::TaskCancelled => TaskStatus::Cancelled,
            EventType::TaskEvaluated => TaskStatus::Evaluated,
            _ => self,
        }
    }

    /// The transitions the rules allow, `from -> to`; staying put is always
    /// allowed (a plan revision keeps `planned`).
    pub fn may_become(self, to: TaskStatus) -> bool {
        use TaskStatus::*;
        self == to
            || matches!(
                (self, to),
                (Registered, Assigned)
                    | (Registered, Cancelled)
                    | (Assigned, Planned)
                    | (Assigned | Planned, InProgress)
                    | (Assigned | Planned | InProgress, Evaluated)
                    | (Assigned | Planned | InProgress, Cancelled)
            )
    }
}

/// An evaluation period (CONTRACT part A).
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    /// The period's id.
    pub id: Slug,
    /// Month, quarter or year.
    pub kind: PeriodKind,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// Closed: no more assessments.
    pub closed: bool,
    /// Version of its stream.
    pub version: u64,
}

/// What the log holds of one cadre's assessment in one period (stream
/// `assessment-<period>-<cadre>`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssessmentRecord {
    /// The general points of the cadre's latest self-assessment.
    pub self_points: Option<Points>,
    /// The latest decision's rating, evaluating body and peer group.
    pub decided: Option<Decided>,
    /// Version of its stream.
    pub version: u64,
}

/// The latest `assessment.decided` of a cadre and period.
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    /// The evaluating body (the envelope `unit`).
    pub evaluating_unit: Slug,
    /// The peer group.
    pub peer_group: Slug,
    /// The total.
    pub total: Points,
    /// The rating.
    pub rating: Rating,
}

/// A task, as far as the rules need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The task's id.
    pub id: Slug,
    /// Its cycle.
    pub cycle: Slug,
    /// Who carries it.
    pub assignee: Slug,
    /// Breakthrough, new or difficult.
    pub kind: TaskKind,
    /// Where it came from.
    pub origin: TaskOrigin,
    /// Current status.
    pub status: TaskStatus,
    /// Due date.
    pub due: Date,
    /// Its targets, in order: their metrics and ranges.
    pub targets: Vec<Target>,
    /// The body that gave the task and judges it (CONTRACT part C): the
    /// envelope `unit` of its `task.assigned`, or of the `task.approved`
    /// of a self-registered task; `None` while it awaits approval.
    pub given_by: Option<Slug>,
    /// Ids of its delegations.
    pub delegations: HashSet<Slug>,
    /// Plans submitted (the first plan is revision 1).
    pub plan_revisions: u32,
    /// The evaluation's rating, once evaluated.
    pub rating: Option<Rating>,
    /// The milestones of the current plan (the latest `plan.submitted`).
    pub milestones: Vec<Milestone>,
    /// Milestones completed, by title: the `completed_on` of the first
    /// `milestone.completed`.
    pub completed: HashMap<RequiredText, Date>,
    /// When the task itself is done, from its progress reports.
    pub done: DoneTracker,
    /// The log positions of its progress reports, in the log's order: what
    /// a writer whose trackers forgot their reports reads again when a
    /// report arrives late ([`State::forget_reports`]).
    pub report_positions: Positions,
    /// The major errors of the latest review of each product: `None` is
    /// the task itself, else a milestone's title.
    pub reviews: HashMap<Option<RequiredText>, u32>,
    /// Version of its stream.
    pub version: u64,
}

impl Task {
    /// Whether the current plan has a milestone titled `title`.
    pub fn has_milestone(&self, title: &str) -> bool {
        self.milestones.iter().any(|m| m.title.as_str() == title)
    }

    /// The task as the products rule reads it.
    pub fn work(&self) -> TaskWork<'_> {
        TaskWork {
            task_id: &self.id,
            due: self.due,
            done_on: self.done.done_on(),
            major_errors: self.reviews.get(&None).copied().unwrap_or(0),
            milestones: self
                .milestones
                .iter()
                .map(|m| MilestoneWork {
                    title: &m.title,
                    due: m.due,
                    done_on: self.completed.get(&m.title).copied(),
                    major_errors: self
                        .reviews
                        .get(&Some(m.title.clone()))
                        .copied()
                        .unwrap_or(0),
                })
                .collect(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        id: &Slug,
        cycle: &Slug,
        assignee: &Slug,
        kind: TaskKind,
        origin: TaskOrigin,
        due: Date,
        targets: &[Target],
        version: u64,
    ) -> Task {
        Task {
            id: id.clone(),
            cycle: cycle.clone(),
            assignee: assignee.clone(),
            kind,
            origin,
            status: if origin == TaskOrigin::SelfRegistered {
                TaskStatus::Registered
            } else {
                TaskStatus::Assigned
            },
            due,
            targets: targets.to_vec(),
            given_by: None,
            delegations: HashSet::new(),
            plan_revisions: 0,
            rating: None,
            milestones: Vec::new(),
            completed: HashMap::new(),
            done: DoneTracker::new(targets),
            report_positions: Positions::new(),
            reviews: HashMap::new(),
            version,
        }
    }
}

/// Everything the rules consult, folded from the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    root: Option<Slug>,
    bootstrap_actor: Option<Slug>,
    has_committee: bool,
    /// Units and tasks are boxed: a map's table is a power of two of
    /// slots, at most seven eighths full, and these values are large (a
    /// unit ~140 bytes, a task ~500), so unboxed the empty slots alone held
    /// megabytes at a province's size (BENCHMARKS.md, "Resident memory").
    units: HashMap<Slug, Box<Unit>>,
    tree: UnitTree,
    cadres: HashMap<Slug, Cadre>,
    cycles: HashMap<Slug, Cycle>,
    tasks: HashMap<Slug, Box<Task>>,
    /// Task ids by current assignee, in order: a cadre's products are
    /// found without a scan of every task.
    tasks_of: HashMap<Slug, BTreeSet<Slug>>,
    periods: HashMap<Slug, Period>,
    assessments: HashMap<(Slug, Slug), AssessmentRecord>,
    events: u64,
    /// Trackers forget their reports ([`State::forget_reports`]).
    forgetful: bool,
    /// Tasks whose forgetful tracker refused a report that came late: the
    /// caller gives their reports again ([`State::refold_done`]).
    late: Vec<Slug>,
}

impl State {
    /// The empty state of an empty log.
    pub fn new() -> State {
        State::default()
    }

    /// Whether no event has been applied.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// How many events have been applied.
    pub fn events_applied(&self) -> u64 {
        self.events
    }

    /// Makes every task's [`DoneTracker`] forget its progress reports, now
    /// and for tasks to come, so the state holds a constant amount per task
    /// instead of every report (a writer's memory: BENCHMARKS.md, resident
    /// memory after a million events). A report that arrives late, for a day
    /// before one already reported, is then not taken: the task is named by
    /// [`State::take_late_reports`] and stays as it was until the caller,
    /// who holds the log, gives all its reports to [`State::refold_done`]
    /// (their positions are [`Task::report_positions`]).
    pub fn forget_reports(&mut self) {
        self.forgetful = true;
        for task in self.tasks.values_mut() {
            task.done.forget_reports();
        }
    }

    /// The tasks that took a report late since the last call, each once,
    /// in the order they did (see [`State::forget_reports`]).
    pub fn take_late_reports(&mut self) -> Vec<Slug> {
        let mut late = std::mem::take(&mut self.late);
        let mut seen = HashSet::new();
        late.retain(|task| seen.insert(task.clone()));
        late
    }

    /// Builds `task`'s [`DoneTracker`] again from every one of its progress
    /// reports, in any order: (reading, values, percent_complete). A task
    /// that does not exist is left alone.
    pub fn refold_done(
        &mut self,
        task: &Slug,
        reports: impl IntoIterator<Item = (Reading, Vec<MetricValue>, Option<f64>)>,
    ) {
        let forgetful = self.forgetful;
        let Some(task) = self.tasks.get_mut(task) else {
            return;
        };
        let mut done = DoneTracker::new(&task.targets);
        for (reading, values, percent) in reports {
            done.report(reading, &values, percent);
        }
        if forgetful {
            done.forget_reports();
        }
        task.done = done;
    }

    /// The root unit's code.
    pub fn root(&self) -> Option<&Slug> {
        self.root.as_ref()
    }

    /// The actor of the first submission, who may register units and cadres
    /// until a Standing Committee member exists.
    pub fn bootstrap_actor(&self) -> Option<&Slug> {
        (!self.has_committee)
            .then_some(self.bootstrap_actor.as_ref())
            .flatten()
    }

    /// A unit by code.
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.get(code).map(Box::as_ref)
    }

    /// A cadre by id.
    pub fn cadre(&self, id: &str) -> Option<&Cadre> {
        self.cadres.get(id)
    }

    /// A cycle by id.
    pub fn cycle(&self, id: &str) -> Option<&Cycle> {
        self.cycles.get(id)
    }

    /// A task by id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id).map(Box::as_ref)
    }

    /// A period by id.
    pub fn period(&self, id: &str) -> Option<&Period> {
        self.periods.get(id)
    }

    /// The assessment of `cadre` in `period`, once one was submitted.
    pub fn assessment(&self, period: &str, cadre: &str) -> Option<&AssessmentRecord> {
        // Keys are owned slugs; both are slugs already when asked for.
        let key = (Slug::parse(period)?, Slug::parse(cadre)?);
        self.assessments.get(&key)
    }

    /// The tasks `cadre` currently carries, by task id.
    pub fn tasks_of<'s>(&'s self, cadre: &str) -> impl Iterator<Item = &'s Task> + 's {
        self.tasks_of
            .get(cadre)
            .into_iter()
            .flatten()
            .filter_map(|id| self.tasks.get(id).map(Box::as_ref))
    }

    /// The products of `cadre` in `period` as the log stands (CONTRACT
    /// part A): from the tasks the cadre currently carries that are not
    /// cancelled, by task id. Empty for an unknown period.
    pub fn products(&self, cadre: &str, period: &Period) -> Vec<Product> {
        products_in(
            period.starts_on,
            period.ends_on,
            self.tasks_of(cadre)
                .filter(|t| t.status != TaskStatus::Cancelled)
                .map(Task::work),
        )
    }

    /// All units, in no particular order.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values().map(Box::as_ref)
    }

    /// All cadres, in no particular order.
    pub fn cadres(&self) -> impl Iterator<Item = &Cadre> {
        self.cadres.values()
    }

    /// All tasks, in no particular order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values().map(Box::as_ref)
    }

    /// The unit tree: scope and authority questions ([`UnitTree::is_within`])
    /// and whether a unit is closed on a date.
    pub fn tree(&self) -> &UnitTree {
        &self.tree
    }

    /// Folds one decided event into the state. Never fails: an event that
    /// refers to something unknown (which `decide` never produces) changes
    /// only what it can.
    pub fn apply(&mut self, event: &Event) {
        self.events += 1;
        match &event.payload {
            Payload::UnitRegistered(p) => {
                if p.parent.is_none() && self.root.is_none() {
                    self.root = Some(p.code.clone());
                    self.bootstrap_actor = Some(event.actor.clone());
                }
                self.tree.insert(&p.code, p.parent.as_deref());
                self.units.insert(
                    p.code.clone(),
                    Box::new(Unit {
                        code: p.code.clone(),
                        name: p.name.clone(),
                        kind: p.kind,
                        parent: p.parent.clone(),
                        valid_from: p.valid_from,
                        valid_to: None,
                        successor: None,
                        version: event.version,
                    }),
                );
            }
            Payload::UnitMerged(p) => {
                for code in &p.from {
                    if let Some(u) = self.units.get_mut(code) {
                        u.valid_to = Some(p.effective_on);
                        u.successor = Some(p.into.clone());
                    }
                    self.tree.merge(code, &p.into, p.effective_on);
                }
                if let Some(u) = self.units.get_mut(&p.into) {
                    u.version = event.version;
                }
            }
            Payload::CadreRegistered(p) => {
                self.has_committee |= p.standing_committee;
                self.cadres.insert(
                    p.id.clone(),
                    Cadre {
                        id: p.id.clone(),
                        full_name: p.full_name.clone(),
                        unit: p.unit.clone(),
                        position: p.position.clone(),
                        party_member: p.party_member,
                        standing_committee: p.standing_committee,
                        version: event.version,
                    },
                );
            }
            Payload::CycleOpened(p) => {
                self.cycles.insert(
                    p.cycle.clone(),
                    Cycle {
                        id: p.cycle.clone(),
                        starts_on: p.starts_on,
                        ends_on: p.ends_on,
                        closed: false,
                        version: event.version,
                    },
                );
            }
            Payload::CycleClosed(p) => {
                if let Some(c) = self.cycles.get_mut(&p.cycle) {
                    c.closed = true;
                    c.version = event.version;
                }
            }
            Payload::TaskRegistered(p) => {
                let task = Task::new(
                    &p.task_id,
                    &p.cycle,
                    &event.actor,
                    p.kind,
                    TaskOrigin::SelfRegistered,
                    p.due,
                    &p.targets,
                    event.version,
                );
                self.insert_task(task);
            }
            Payload::TaskAssigned(p) => {
                let mut task = Task::new(
                    &p.task_id,
                    &p.cycle,
                    &p.assignee,
                    p.kind,
                    p.origin.into(),
                    p.due,
                    &p.targets,
                    event.version,
                );
                task.given_by = Some(event.unit.clone());
                self.insert_task(task);
            }
            Payload::PeriodOpened(p) => {
                self.periods.insert(
                    p.period.clone(),
                    Period {
                        id: p.period.clone(),
                        kind: p.kind,
                        starts_on: p.starts_on,
                        ends_on: p.ends_on,
                        closed: false,
                        version: event.version,
                    },
                );
            }
            Payload::PeriodClosed(p) => {
                if let Some(period) = self.periods.get_mut(&p.period) {
                    period.closed = true;
                    period.version = event.version;
                }
            }
            Payload::AssessmentSelfSubmitted(p) => {
                let record = self
                    .assessments
                    .entry((p.period.clone(), event.actor.clone()))
                    .or_default();
                record.self_points = Some(p.general_points);
                record.version = event.version;
            }
            Payload::AssessmentDecided(p) => {
                let record = self
                    .assessments
                    .entry((p.period.clone(), p.cadre.clone()))
                    .or_default();
                // An event always carries the writer's figures; one that
                // does not (never written by `decide`) changes only the
                // version.
                if let (Some(total), Some(rating)) = (p.total, p.rating) {
                    record.decided = Some(Decided {
                        evaluating_unit: event.unit.clone(),
                        peer_group: p.peer_group.clone(),
                        total,
                        rating,
                    });
                }
                record.version = event.version;
            }
            other => {
                let Some(task) = other.task_id().and_then(|id| self.tasks.get_mut(id)) else {
                    return;
                };
                task.version = event.version;
                task.status = task.status.after(other.event_type());
                let position = self.events;
                match other {
                    Payload::TaskApproved(_) => task.given_by = Some(event.unit.clone()),
                    Payload::PlanSubmitted(p) => {
                        task.plan_revisions += 1;
                        task.milestones = p.milestones.clone();
                    }
                    Payload::WorkDelegated(p) => {
                        task.delegations.insert(p.delegation_id.clone());
                    }
                    Payload::ProgressReported(p) => {
                        task.report_positions.push(position);
                        let taken = task.done.report(
                            Reading {
                                as_of: p.as_of,
                                position,
                            },
                            &p.values,
                            p.percent_complete,
                        );
                        // Only a forgetful tracker refuses, and only a
                        // report that came late.
                        if !taken {
                            self.late.push(task.id.clone());
                        }
                    }
                    Payload::MilestoneCompleted(p) => {
                        task.completed
                            .entry(p.milestone.clone())
                            .or_insert(p.completed_on);
                    }
                    Payload::ProductReviewed(p) => {
                        task.reviews.insert(p.milestone.clone(), p.major_errors);
                    }
                    Payload::TaskReassigned(p) => {
                        let (from, to) = (task.assignee.clone(), p.assignee.clone());
                        task.assignee = to.clone();
                        let id = task.id.clone();
                        if let Some(ids) = self.tasks_of.get_mut(&from) {
                            ids.remove(&id);
                        }
                        self.tasks_of.entry(to).or_default().insert(id);
                    }
                    Payload::TaskEvaluated(p) => task.rating = p.given_rating(),
                    _ => {}
                }
            }
        }
    }

    fn insert_task(&mut self, mut task: Task) {
        if self.forgetful {
            task.done.forget_reports();
        }
        self.tasks_of
            .entry(task.assignee.clone())
            .or_default()
            .insert(task.id.clone());
        self.tasks.insert(task.id.clone(), Box::new(task));
    }

    /// The current version of a stream (0 when it does not exist).
    pub fn stream_version(&self, stream: &crate::payload::StreamId) -> u64 {
        use crate::payload::StreamId;
        match stream {
            StreamId::Unit(c) => self.units.get(c).map_or(0, |u| u.version),
            StreamId::Cadre(c) => self.cadres.get(c).map_or(0, |u| u.version),
            StreamId::Cycle(c) => self.cycles.get(c).map_or(0, |u| u.version),
            StreamId::Task(c) => self.tasks.get(c).map_or(0, |u| u.version),
            StreamId::Period(c) => self.periods.get(c).map_or(0, |p| p.version),
            StreamId::Assessment { period, cadre } => self
                .assessments
                .get(&(period.clone(), cadre.clone()))
                .map_or(0, |a| a.version),
        }
    }
}
