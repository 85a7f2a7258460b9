//! The rules: whether a submission is accepted, and which events it makes.
//!
//! Checks run in a fixed order, so the same submission against the same state
//! always gets the same answer: the envelope's unit and actor exist; the
//! actor may act for that unit; the things the submission names exist; the
//! actor has the authority the contract gives; `expected_version`; the
//! target's state; finally the values, and last the admission step
//! ([`crate::admit`]): the write-time limits, on the events as they will be
//! stored.
//!
//! Dates are judged at the submission's own date: the day of its
//! `occurred_at` in Vietnam (UTC+7). The unit tree is read as it stands on
//! that day ([`UnitTree::is_within`](crate::tree::UnitTree::is_within)), a
//! unit is closed from its merge's `effective_on`, and a report may not
//! describe a later day.
//!
//! Part C of the contract, where it lives here:
//! - nobody judges their own work, and the body that gave a task judges it:
//!   `Rules::judge`, the one check of every judging submission;
//!   `task.assigned` naming its own actor: `Rules::task_assigned`;
//! - closed units take nothing new: `Rules::open_on`;
//! - reports are not from the future: `Rules::not_after_sending`;
//! - targets' ranges: `Rules::new_task` and `Rules::progress_reported`.
//!
//! Part A (evaluation by period): `Rules::period_opened`,
//! `Rules::milestone_completed`, `Rules::product_reviewed` (a judging
//! submission: `Rules::judge` over the body that gave the task),
//! `Rules::self_assessed` and `Rules::assessment_decided`, which computes
//! the decision's figures with [`crate::evaluation::Assessment::decide`]
//! from the cadre's products at that moment (`State::products`).

use crate::{
    admit::admit,
    evaluation::{Assessment, MAX_GENERAL_POINTS, MAX_TASK_POINTS, Points, SCHEME},
    figures::evaluation_rating,
    payload::*,
    rejection::{Rejection, RejectionCode as Code},
    state::{Cadre, Cycle, Period, State, Task, TaskStatus},
    submission::{Event, Submission},
    time::Date,
    tree::UnitTree,
    values::Slug,
};

/// Decides `submission` against `state`: the events to append, or why not.
pub fn decide(state: &State, submission: &Submission) -> Result<Vec<Event>, Rejection> {
    let payload = if state.is_empty() {
        genesis(submission)?
    } else {
        let at = submission.occurred_at.date_in_vietnam();
        let actor = Actor::resolve(state, submission, at)?;
        let rules = Rules {
            state,
            tree: state.tree(),
            submission,
            actor,
            at,
        };
        rules.check()?
    };
    let stream = payload.stream(&submission.actor);
    let version = state.stream_version(&stream) + 1;
    let events = vec![Event {
        stream: stream.to_string(),
        version,
        unit: submission.unit.clone(),
        actor: submission.actor.clone(),
        occurred_at: submission.occurred_at.clone(),
        submission_id: submission.submission_id.clone(),
        payload,
    }];
    admit(submission, &events)?;
    Ok(events)
}

/// The first submission of an empty log must register the root unit; its
/// actor becomes the bootstrap actor.
fn genesis(submission: &Submission) -> Result<Payload, Rejection> {
    let Payload::UnitRegistered(unit) = &submission.payload else {
        return Err(Rejection::at(
            Code::InvalidState,
            "type",
            "the log is empty: its first submission must register the root unit (unit.registered with parent null)",
        ));
    };
    if unit.parent.is_some() {
        return Err(Rejection::at(
            Code::InvalidValue,
            "data.parent",
            "the log is empty: the first unit is the root, so its parent must be null",
        ));
    }
    if unit.code != submission.unit {
        return Err(Rejection::at(
            Code::Forbidden,
            "unit",
            format!(
                "the root unit {} must be registered by a submission for itself, not for {}",
                unit.code, submission.unit
            ),
        ));
    }
    check_version(submission, 0)?;
    Ok(submission.payload.clone())
}

/// Who is acting: a registered cadre, the bootstrap actor, or both (the
/// bootstrap actor may register themself as a cadre).
#[derive(Clone, Copy)]
struct Actor<'a> {
    cadre: Option<&'a Cadre>,
    bootstrap: bool,
}

impl<'a> Actor<'a> {
    fn resolve(state: &'a State, s: &Submission, at: Date) -> Result<Actor<'a>, Rejection> {
        if state.unit(&s.unit).is_none() {
            return Err(Rejection::at(
                Code::UnknownUnit,
                "unit",
                format!("no unit {} is registered", s.unit),
            ));
        }
        let actor = Actor {
            cadre: state.cadre(&s.actor),
            bootstrap: state.bootstrap_actor() == Some(&s.actor),
        };
        if actor.cadre.is_none() && !actor.bootstrap {
            return Err(Rejection::at(
                Code::UnknownActor,
                "actor",
                format!("no cadre {} is registered", s.actor),
            ));
        }
        // A publisher acts for its own unit or one below it, never for a
        // neighbour or for the level above. The bootstrap actor stands at the
        // root, above every unit.
        if let Some(c) = actor.cadre
            && !actor.bootstrap
            && !state.tree().is_within(&c.unit, &s.unit, at)
        {
            return Err(Rejection::at(
                Code::Forbidden,
                "actor",
                format!(
                    "{} belongs to unit {}, which is not {} or below it",
                    c.id, c.unit, s.unit
                ),
            ));
        }
        Ok(actor)
    }
}

struct Rules<'a> {
    state: &'a State,
    tree: &'a UnitTree,
    submission: &'a Submission,
    actor: Actor<'a>,
    /// The submission's date in Vietnam: what "now" is for its rules.
    at: Date,
}

fn check_version(s: &Submission, current: u64) -> Result<(), Rejection> {
    match s.expected_version {
        Some(expected) if expected != current => Err(Rejection::at(
            Code::VersionConflict,
            "expected_version",
            format!(
                "stream {} is at version {current}, not {expected}",
                s.target_stream()
            ),
        )),
        _ => Ok(()),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection::at(Code::InvalidValue, field, message)
}

fn forbidden(field: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection::at(Code::Forbidden, field, message)
}

impl<'a> Rules<'a> {
    fn check(&self) -> Result<Payload, Rejection> {
        let s = self.submission;
        match &s.payload {
            Payload::UnitRegistered(p) => self.unit_registered(p),
            Payload::UnitMerged(p) => self.unit_merged(p),
            Payload::CadreRegistered(p) => self.cadre_registered(p),
            Payload::CycleOpened(p) => self.cycle_opened(p),
            Payload::CycleClosed(p) => self.cycle_closed(p),
            Payload::TaskRegistered(p) => self.task_registered(p),
            Payload::TaskAssigned(p) => self.task_assigned(p),
            Payload::TaskApproved(p) => {
                let (task, _) = self.task(&p.task_id, Authority::Approver)?;
                self.open_cycle(task, "data.task_id")?;
                if task.status != TaskStatus::Registered {
                    return Err(self.bad_state(task, "only a registered task awaits approval"));
                }
                // Approving gives the task: the assignee's unit must be open.
                if let Some(assignee) = self.state.cadre(&task.assignee) {
                    self.open_on(&assignee.unit, "data.task_id")?;
                }
                Ok(s.payload.clone())
            }
            Payload::PlanSubmitted(p) => {
                let (task, cycle) = self.task(&p.task_id, Authority::Assignee)?;
                self.workable(task)?;
                if p.solutions.is_empty() {
                    return Err(invalid(
                        "data.solutions",
                        "a plan needs at least one solution",
                    ));
                }
                for (i, m) in p.milestones.iter().enumerate() {
                    in_cycle(cycle, m.due, &format!("data.milestones[{i}].due"))?;
                }
                Ok(s.payload.clone())
            }
            Payload::WorkDelegated(p) => self.work_delegated(p),
            Payload::ProgressReported(p) => self.progress_reported(p),
            Payload::TaskReassigned(p) => {
                let (task, _) = self.task(&p.task_id, Authority::Judge)?;
                let new = self.state.cadre(&p.assignee).ok_or_else(|| {
                    Rejection::at(
                        Code::UnknownActor,
                        "data.assignee",
                        format!("no cadre {} is registered", p.assignee),
                    )
                })?;
                self.committee_over(new, "data.assignee")?;
                self.in_scope(&new.unit, "data.assignee")?;
                self.not_to_themself(&p.assignee)?;
                if task.status.is_final() {
                    return Err(self.bad_state(task, "a final task cannot be reassigned"));
                }
                self.open_cycle(task, "data.task_id")?;
                self.open_on(&new.unit, "data.assignee")?;
                if new.id == task.assignee {
                    return Err(invalid(
                        "data.assignee",
                        format!("{} already carries task {}", new.id, task.id),
                    ));
                }
                Ok(s.payload.clone())
            }
            Payload::TaskCancelled(p) => {
                let (task, _) = self.task(&p.task_id, Authority::Judge)?;
                if task.status.is_final() {
                    return Err(self.bad_state(task, "a final task cannot be cancelled"));
                }
                Ok(s.payload.clone())
            }
            Payload::TaskEvaluated(p) => self.task_evaluated(p),
            Payload::PeriodOpened(p) => self.period_opened(p),
            Payload::PeriodClosed(p) => self.period_closed(p),
            Payload::MilestoneCompleted(p) => self.milestone_completed(p),
            Payload::ProductReviewed(p) => self.product_reviewed(p),
            Payload::AssessmentSelfSubmitted(p) => self.self_assessed(p),
            Payload::AssessmentDecided(p) => self.assessment_decided(p),
        }
    }

    /// The submitter must be a Standing Committee member of `unit` or a unit
    /// above it, or the bootstrap actor where `bootstrap_allowed`.
    fn committee_of(
        &self,
        unit: &str,
        field: &str,
        bootstrap_allowed: bool,
    ) -> Result<(), Rejection> {
        if bootstrap_allowed && self.actor.bootstrap {
            return Ok(());
        }
        match self.actor.cadre {
            Some(c) if c.standing_committee && self.tree.is_within(unit, &c.unit, self.at) => {
                Ok(())
            }
            Some(c) if c.standing_committee => Err(forbidden(
                field,
                format!(
                    "{} sits on the Standing Committee of {}, which is not above {unit}",
                    c.id, c.unit
                ),
            )),
            _ => Err(forbidden(
                field,
                format!(
                    "only a Standing Committee member of {unit} or a unit above it may do this; {} is not one",
                    self.submission.actor
                ),
            )),
        }
    }

    fn committee_over(&self, cadre: &Cadre, field: &str) -> Result<(), Rejection> {
        self.committee_of(&cadre.unit, field, false)
    }

    /// What the submission touches must lie within the envelope's unit.
    fn in_scope(&self, unit: &str, field: &str) -> Result<(), Rejection> {
        if self.tree.is_within(unit, &self.submission.unit, self.at) {
            Ok(())
        } else {
            Err(forbidden(
                field,
                format!(
                    "{unit} is outside unit {}, which this submission was sent for",
                    self.submission.unit
                ),
            ))
        }
    }

    fn known_unit(&self, code: &Slug, field: &str) -> Result<&'a crate::state::Unit, Rejection> {
        self.state.unit(code).ok_or_else(|| {
            Rejection::at(
                Code::UnknownUnit,
                field,
                format!("no unit {code} is registered"),
            )
        })
    }

    /// Part C, closed units take nothing new: `code` must not be closed on
    /// the submission's date (merged away on or before it); the rejection
    /// names the successor. History already recorded stays where it is.
    fn open_on(&self, code: &str, field: &str) -> Result<(), Rejection> {
        match self.tree.closed_on(code, self.at) {
            Some(into) => Err(Rejection::at(
                Code::InvalidState,
                field,
                format!(
                    "unit {code} was merged into {into} and is closed since {}; it takes nothing new: use {into}",
                    self.tree.merge_of(code).map_or(self.at, |(_, on)| on)
                ),
            )),
            None => Ok(()),
        }
    }

    /// A unit that a merge already names (whatever its date) neither merges
    /// again nor absorbs others.
    fn not_merged(&self, unit: &crate::state::Unit, field: &str) -> Result<(), Rejection> {
        match (&unit.valid_to, &unit.successor) {
            (Some(to), Some(into)) => Err(Rejection::at(
                Code::InvalidState,
                field,
                format!(
                    "unit {} was merged into {into} on {to}; use {into}",
                    unit.code
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The slug must not be taken by a unit or a cadre: `work.delegated`
    /// names either by the same field, so the two share one namespace.
    fn fresh_slug(&self, slug: &Slug, field: &str) -> Result<(), Rejection> {
        if self.state.unit(slug).is_some() {
            return Err(Rejection::at(
                Code::AlreadyExists,
                field,
                format!("{slug} is already a unit's code"),
            ));
        }
        if self.state.cadre(slug).is_some() {
            return Err(Rejection::at(
                Code::AlreadyExists,
                field,
                format!("{slug} is already a cadre's id"),
            ));
        }
        Ok(())
    }

    fn unit_registered(&self, p: &UnitRegistered) -> Result<Payload, Rejection> {
        let Some(parent) = &p.parent else {
            let root = self.state.root().map_or("", |r| r.as_str());
            return Err(invalid(
                "data.parent",
                format!("the log already has its root unit {root}; a new unit needs a parent"),
            ));
        };
        self.known_unit(parent, "data.parent")?;
        self.committee_of(parent, "data.parent", true)?;
        self.in_scope(parent, "data.parent")?;
        check_version(
            self.submission,
            self.state.stream_version(&StreamId::Unit(p.code.clone())),
        )?;
        self.fresh_slug(&p.code, "data.code")?;
        self.open_on(parent, "data.parent")?;
        Ok(self.submission.payload.clone())
    }

    fn unit_merged(&self, p: &UnitMerged) -> Result<Payload, Rejection> {
        let into = self.known_unit(&p.into, "data.into")?;
        let mut from = Vec::with_capacity(p.from.len());
        for (i, code) in p.from.iter().enumerate() {
            from.push(self.known_unit(code, &format!("data.from[{i}]"))?);
        }
        // A committee of `into` itself may absorb units; otherwise the actor
        // must sit above every unit involved.
        let actor_is_of_into = self
            .actor
            .cadre
            .is_some_and(|c| c.standing_committee && c.unit == p.into);
        if !actor_is_of_into {
            self.committee_of(&p.into, "data.into", false)?;
            for (i, code) in p.from.iter().enumerate() {
                self.committee_of(code, &format!("data.from[{i}]"), false)?;
            }
        }
        self.in_scope(&p.into, "data.into")?;
        for (i, code) in p.from.iter().enumerate() {
            self.in_scope(code, &format!("data.from[{i}]"))?;
        }
        check_version(self.submission, into.version)?;
        self.not_merged(into, "data.into")?;
        for (i, unit) in from.iter().enumerate() {
            self.not_merged(unit, &format!("data.from[{i}]"))?;
        }
        if p.from.is_empty() {
            return Err(invalid("data.from", "name at least one unit to merge"));
        }
        for (i, unit) in from.iter().enumerate() {
            let field = format!("data.from[{i}]");
            if unit.code == p.into {
                return Err(invalid(
                    field,
                    format!("{} cannot be merged into itself", unit.code),
                ));
            }
            if p.from[..i].contains(&unit.code) {
                return Err(invalid(field, format!("{} is named twice", unit.code)));
            }
            if self.tree.is_ever_within(&p.into, &unit.code) {
                return Err(invalid(
                    field,
                    format!(
                        "{} lies above {}; it cannot be merged into it",
                        unit.code, p.into
                    ),
                ));
            }
            if unit.valid_from.is_some_and(|from| p.effective_on < from) {
                return Err(invalid(
                    "data.effective_on",
                    format!("{} did not exist yet on {}", unit.code, p.effective_on),
                ));
            }
        }
        Ok(self.submission.payload.clone())
    }

    fn cadre_registered(&self, p: &CadreRegistered) -> Result<Payload, Rejection> {
        self.known_unit(&p.unit, "data.unit")?;
        self.committee_of(&p.unit, "data.unit", true)?;
        self.in_scope(&p.unit, "data.unit")?;
        check_version(
            self.submission,
            self.state.stream_version(&StreamId::Cadre(p.id.clone())),
        )?;
        self.fresh_slug(&p.id, "data.id")?;
        self.open_on(&p.unit, "data.unit")?;
        Ok(self.submission.payload.clone())
    }

    fn root_committee(&self) -> Result<(), Rejection> {
        let root = self.state.root().map_or("", |r| r.as_str());
        match self.actor.cadre {
            Some(c) if c.standing_committee && c.unit.as_str() == root => Ok(()),
            _ => Err(forbidden(
                "actor",
                format!(
                    "only a Standing Committee member of the root unit {root} may open or close a cycle or an evaluation period"
                ),
            )),
        }
    }

    fn cycle_opened(&self, p: &CycleOpened) -> Result<Payload, Rejection> {
        self.root_committee()?;
        check_version(
            self.submission,
            self.state.stream_version(&StreamId::Cycle(p.cycle.clone())),
        )?;
        if self.state.cycle(&p.cycle).is_some() {
            return Err(Rejection::at(
                Code::AlreadyExists,
                "data.cycle",
                format!("cycle {} is already open", p.cycle),
            ));
        }
        if p.ends_on < p.starts_on {
            return Err(invalid(
                "data.ends_on",
                format!(
                    "the cycle ends ({}) before it starts ({})",
                    p.ends_on, p.starts_on
                ),
            ));
        }
        Ok(self.submission.payload.clone())
    }

    fn cycle_closed(&self, p: &CycleClosed) -> Result<Payload, Rejection> {
        self.root_committee()?;
        let cycle = self.known_cycle(&p.cycle)?;
        check_version(self.submission, cycle.version)?;
        if cycle.closed {
            return Err(Rejection::at(
                Code::InvalidState,
                "data.cycle",
                format!("cycle {} is already closed", p.cycle),
            ));
        }
        Ok(self.submission.payload.clone())
    }

    fn known_cycle(&self, id: &Slug) -> Result<&'a Cycle, Rejection> {
        self.state
            .cycle(id)
            .ok_or_else(|| invalid("data.cycle", format!("no cycle {id} has been opened")))
    }

    /// Checks shared by `task.registered` and `task.assigned`; `carrier`
    /// is the assignee's unit and the field that names the assignee.
    fn new_task(
        &self,
        task_id: &Slug,
        cycle: &Slug,
        due: Date,
        targets: &[Target],
        carrier: (&str, &str),
    ) -> Result<(), Rejection> {
        let cycle = self.known_cycle(cycle)?;
        check_version(
            self.submission,
            self.state.stream_version(&StreamId::Task(task_id.clone())),
        )?;
        self.open_on(carrier.0, carrier.1)?;
        if self.state.task(task_id).is_some() {
            return Err(Rejection::at(
                Code::AlreadyExists,
                "data.task_id",
                format!("task {task_id} already exists"),
            ));
        }
        if cycle.closed {
            return Err(Rejection::at(
                Code::InvalidState,
                "data.cycle",
                format!("cycle {} is closed", cycle.id),
            ));
        }
        in_cycle(cycle, due, "data.due")?;
        for (i, t) in targets.iter().enumerate() {
            if targets[..i].iter().any(|o| o.metric == t.metric) {
                return Err(invalid(
                    format!("data.targets[{i}].metric"),
                    format!("metric {} is named twice", t.metric),
                ));
            }
            if t.baseline == t.target {
                return Err(invalid(
                    format!("data.targets[{i}].target"),
                    format!(
                        "the target equals the baseline ({}), so progress cannot be measured",
                        t.target
                    ),
                ));
            }
            target_range(i, t)?;
        }
        Ok(())
    }

    fn task_registered(&self, p: &TaskRegistered) -> Result<Payload, Rejection> {
        let Some(cadre) = self.actor.cadre else {
            return Err(forbidden(
                "actor",
                "only a registered cadre may register a task for themself",
            ));
        };
        self.new_task(
            &p.task_id,
            &p.cycle,
            p.due,
            &p.targets,
            (&cadre.unit, "actor"),
        )?;
        Ok(self.submission.payload.clone())
    }

    fn task_assigned(&self, p: &TaskAssigned) -> Result<Payload, Rejection> {
        let assignee = self.state.cadre(&p.assignee).ok_or_else(|| {
            Rejection::at(
                Code::UnknownActor,
                "data.assignee",
                format!("no cadre {} is registered", p.assignee),
            )
        })?;
        self.committee_over(assignee, "data.assignee")?;
        self.in_scope(&assignee.unit, "data.assignee")?;
        self.not_to_themself(&p.assignee)?;
        self.new_task(
            &p.task_id,
            &p.cycle,
            p.due,
            &p.targets,
            (&assignee.unit, "data.assignee"),
        )?;
        if p.backlog_ref.is_some() && p.origin != AssignedOrigin::Backlog {
            return Err(invalid(
                "data.backlog_ref",
                "a backlog reference needs origin \"backlog\"",
            ));
        }
        Ok(self.submission.payload.clone())
    }

    /// Looks a task up and checks that the actor has `authority` over it and
    /// that it lies within the envelope's unit.
    fn task(&self, id: &Slug, authority: Authority) -> Result<(&'a Task, &'a Cycle), Rejection> {
        let task = self.state.task(id).ok_or_else(|| {
            Rejection::at(
                Code::UnknownTask,
                "data.task_id",
                format!("no task {id} is registered"),
            )
        })?;
        let assignee = self.state.cadre(&task.assignee);
        let assignee_unit = assignee.map_or("", |a| a.unit.as_str());
        match authority {
            Authority::Approver => self.judge(&task.assignee, assignee_unit)?,
            Authority::Judge => {
                let body = task.given_by.as_deref().unwrap_or(assignee_unit);
                self.judge(&task.assignee, body)?
            }
            Authority::Assignee => {
                if self.submission.actor != task.assignee {
                    return Err(forbidden(
                        "actor",
                        format!("only the assignee {} may do this", task.assignee),
                    ));
                }
            }
            Authority::AssigneeUnit => {
                let same_unit = self
                    .actor
                    .cadre
                    .is_some_and(|c| c.unit.as_str() == assignee_unit);
                if self.submission.actor != task.assignee && !same_unit {
                    return Err(forbidden(
                        "actor",
                        format!(
                            "only the assignee {} or a cadre of unit {assignee_unit} may do this",
                            task.assignee
                        ),
                    ));
                }
            }
        }
        self.in_scope(assignee_unit, "data.task_id")?;
        let cycle = self.state.cycle(&task.cycle).ok_or_else(|| {
            Rejection::at(
                Code::InvalidState,
                "data.task_id",
                format!("task {id} belongs to unknown cycle {}", task.cycle),
            )
        })?;
        check_version(self.submission, task.version)?;
        Ok((task, cycle))
    }

    /// Part C, for every submission that judges a cadre's work (approving,
    /// reassigning, cancelling or evaluating a task; reviewing a product
    /// and deciding an assessment reuse it): the actor is not `judged`,
    /// whose work it is (nobody judges their own work), and sits on the
    /// Standing Committee of `body` or of a unit above it (the body that
    /// gave a task judges it). Both refusals are `forbidden` at `actor`.
    fn judge(&self, judged: &str, body: &str) -> Result<(), Rejection> {
        if self.submission.actor.as_str() == judged {
            return Err(forbidden(
                "actor",
                format!("nobody judges their own work, and this work is {judged}'s"),
            ));
        }
        self.committee_of(body, "actor", false)
    }

    /// Part C: a committee member does not hand a task to themself
    /// (`task.assigned`, `task.reassigned`).
    fn not_to_themself(&self, assignee: &Slug) -> Result<(), Rejection> {
        if *assignee == self.submission.actor {
            return Err(forbidden(
                "data.assignee",
                format!(
                    "{assignee} cannot give a task to themself: the body that gives a task judges it"
                ),
            ));
        }
        Ok(())
    }

    /// Part C, reports are not from the future: `date` (what a report
    /// describes) is not later than the day it was sent, in UTC+7.
    fn not_after_sending(&self, date: Date, field: &str) -> Result<(), Rejection> {
        if date > self.at {
            return Err(invalid(
                field,
                format!(
                    "{date} is later than the day this was sent ({}, Vietnam time): a report describes what has happened",
                    self.at
                ),
            ));
        }
        Ok(())
    }

    fn open_cycle(&self, task: &Task, field: &str) -> Result<(), Rejection> {
        match self.state.cycle(&task.cycle) {
            Some(c) if c.closed => Err(Rejection::at(
                Code::InvalidState,
                field,
                format!("cycle {} of task {} is closed", c.id, task.id),
            )),
            _ => Ok(()),
        }
    }

    fn bad_state(&self, task: &Task, why: &str) -> Rejection {
        Rejection::at(
            Code::InvalidState,
            "data.task_id",
            format!("task {} is {}: {why}", task.id, task.status.as_str()),
        )
    }

    /// The task takes plans, delegations and progress: approved, not final,
    /// its cycle open.
    fn workable(&self, task: &Task) -> Result<(), Rejection> {
        if !task.status.is_active() {
            let why = match task.status {
                TaskStatus::Registered => "it awaits the Standing Committee's approval",
                _ => "nothing but history may follow",
            };
            return Err(self.bad_state(task, why));
        }
        self.open_cycle(task, "data.task_id")
    }

    fn work_delegated(&self, p: &WorkDelegated) -> Result<Payload, Rejection> {
        let (task, cycle) = self.task(&p.task_id, Authority::AssigneeUnit)?;
        let to_unit = match (self.state.unit(&p.to), self.state.cadre(&p.to)) {
            (Some(u), _) => u.code.as_str(),
            (None, Some(c)) => c.unit.as_str(),
            (None, None) => {
                return Err(invalid(
                    "data.to",
                    format!("no unit or cadre is registered as {}", p.to),
                ));
            }
        };
        self.in_scope(to_unit, "data.to")?;
        self.workable(task)?;
        self.open_on(to_unit, "data.to")?;
        if task.delegations.contains(&p.delegation_id) {
            return Err(Rejection::at(
                Code::AlreadyExists,
                "data.delegation_id",
                format!(
                    "task {} already has delegation {}",
                    task.id, p.delegation_id
                ),
            ));
        }
        in_cycle(cycle, p.due, "data.due")?;
        Ok(self.submission.payload.clone())
    }

    fn progress_reported(&self, p: &ProgressReported) -> Result<Payload, Rejection> {
        let (task, cycle) = self.task(&p.task_id, Authority::AssigneeUnit)?;
        self.workable(task)?;
        in_cycle(cycle, p.as_of, "data.as_of")?;
        self.not_after_sending(p.as_of, "data.as_of")?;
        for (i, v) in p.values.iter().enumerate() {
            let Some(target) = task.targets.iter().find(|t| t.metric == v.metric) else {
                return Err(invalid(
                    format!("data.values[{i}].metric"),
                    format!("task {} has no target with metric {}", task.id, v.metric),
                ));
            };
            if p.values[..i].iter().any(|o| o.metric == v.metric) {
                return Err(invalid(
                    format!("data.values[{i}].metric"),
                    format!("metric {} is reported twice", v.metric),
                ));
            }
            if !target.admits(v.value) {
                return Err(invalid(
                    format!("data.values[{i}].value"),
                    format!(
                        "{} is outside the range of metric {} ({})",
                        v.value,
                        v.metric,
                        range_text(target)
                    ),
                ));
            }
        }
        if let Some(percent) = p.percent_complete
            && !(0.0..=100.0).contains(&percent)
        {
            return Err(invalid(
                "data.percent_complete",
                format!("{percent} is not a percentage from 0 to 100"),
            ));
        }
        Ok(self.submission.payload.clone())
    }

    fn task_evaluated(&self, p: &TaskEvaluated) -> Result<Payload, Rejection> {
        let (task, _) = self.task(&p.task_id, Authority::Judge)?;
        if !task.status.is_active() {
            let why = match task.status {
                TaskStatus::Registered => "it was never approved",
                TaskStatus::Evaluated => "an evaluation is final",
                _ => "a cancelled task is not evaluated",
            };
            return Err(self.bad_state(task, why));
        }
        if let Some(score) = p.score
            && !(0.0..=100.0).contains(&score)
        {
            return Err(invalid(
                "data.score",
                format!("{score} is not a score from 0 to 100"),
            ));
        }
        let rating = match evaluation_rating(p.rating, p.score) {
            Ok(Some(rating)) => rating,
            Ok(None) => return Err(invalid("data.rating", "give a rating, a score, or both")),
            Err(earned) => {
                return Err(invalid(
                    "data.rating",
                    format!(
                        "a score of {} earns {earned}, not {}",
                        p.score.unwrap_or_default(),
                        p.rating.map_or("", Rating::as_str)
                    ),
                ));
            }
        };
        Ok(Payload::TaskEvaluated(TaskEvaluated {
            rating: Some(rating),
            ..p.clone()
        }))
    }

    // ------------------------------------------------ part A: evaluation

    fn period_opened(&self, p: &PeriodOpened) -> Result<Payload, Rejection> {
        self.root_committee()?;
        check_version(
            self.submission,
            self.state
                .stream_version(&StreamId::Period(p.period.clone())),
        )?;
        if self.state.period(&p.period).is_some() {
            return Err(Rejection::at(
                Code::AlreadyExists,
                "data.period",
                format!("period {} is already open", p.period),
            ));
        }
        if p.ends_on < p.starts_on {
            return Err(invalid(
                "data.ends_on",
                format!(
                    "the period ends ({}) before it starts ({})",
                    p.ends_on, p.starts_on
                ),
            ));
        }
        Ok(self.submission.payload.clone())
    }

    fn known_period(&self, id: &Slug) -> Result<&'a Period, Rejection> {
        self.state.period(id).ok_or_else(|| {
            invalid(
                "data.period",
                format!("no evaluation period {id} has been opened"),
            )
        })
    }

    fn period_closed(&self, p: &PeriodClosed) -> Result<Payload, Rejection> {
        self.root_committee()?;
        let period = self.known_period(&p.period)?;
        check_version(self.submission, period.version)?;
        if period.closed {
            return Err(Rejection::at(
                Code::InvalidState,
                "data.period",
                format!("period {} is already closed", p.period),
            ));
        }
        Ok(self.submission.payload.clone())
    }

    /// A milestone named by a submission is in the task's current plan.
    fn planned_milestone(&self, task: &Task, title: &str) -> Result<(), Rejection> {
        if task.has_milestone(title) {
            return Ok(());
        }
        // A rejection is kept forever: name the plan's milestones, each cut
        // to a readable length, not whatever size the texts have.
        let titles: Vec<String> = task
            .milestones
            .iter()
            .take(MILESTONES_NAMED)
            .map(|m| excerpt(m.title.as_str()))
            .collect();
        let more = task.milestones.len().saturating_sub(MILESTONES_NAMED);
        Err(invalid(
            "data.milestone",
            if titles.is_empty() {
                format!("task {} has no milestone in its current plan", task.id)
            } else {
                format!(
                    "task {} has no milestone {:?} in its current plan; its milestones are {titles:?}{}",
                    task.id,
                    excerpt(title),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            },
        ))
    }

    /// The task's work products can be completed and reviewed: it was
    /// given (not awaiting approval) and not cancelled. An evaluated task
    /// still takes them: a milestone's completion and a product's review
    /// record what was done, the history a period's evaluation reads.
    fn has_products(&self, task: &Task) -> Result<(), Rejection> {
        match task.status {
            TaskStatus::Registered => {
                Err(self.bad_state(task, "it awaits the Standing Committee's approval"))
            }
            TaskStatus::Cancelled => Err(self.bad_state(task, "a cancelled task has no products")),
            _ => Ok(()),
        }
    }

    fn milestone_completed(&self, p: &MilestoneCompleted) -> Result<Payload, Rejection> {
        let (task, _) = self.task(&p.task_id, Authority::AssigneeUnit)?;
        self.has_products(task)?;
        self.planned_milestone(task, &p.milestone)?;
        if let Some(on) = task.completed.get(&p.milestone) {
            return Err(Rejection::at(
                Code::AlreadyExists,
                "data.milestone",
                format!(
                    "milestone {:?} of task {} was already completed on {on}",
                    p.milestone.as_str(),
                    task.id
                ),
            ));
        }
        self.not_after_sending(p.completed_on, "data.completed_on")?;
        Ok(self.submission.payload.clone())
    }

    fn product_reviewed(&self, p: &ProductReviewed) -> Result<Payload, Rejection> {
        let (task, _) = self.task(&p.task_id, Authority::Judge)?;
        self.has_products(task)?;
        if let Some(title) = &p.milestone {
            self.planned_milestone(task, title)?;
        }
        Ok(self.submission.payload.clone())
    }

    /// The period takes assessments: it exists and is open.
    fn open_period(&self, id: &Slug) -> Result<&'a Period, Rejection> {
        let period = self.known_period(id)?;
        check_version(self.submission, self.submission_stream_version())?;
        if period.closed {
            return Err(Rejection::at(
                Code::InvalidState,
                "data.period",
                format!(
                    "period {} is closed: it takes no more assessments",
                    period.id
                ),
            ));
        }
        Ok(period)
    }

    fn submission_stream_version(&self) -> u64 {
        self.state.stream_version(&self.submission.target_stream())
    }

    fn self_assessed(&self, p: &AssessmentSelfSubmitted) -> Result<Payload, Rejection> {
        if self.actor.cadre.is_none() {
            return Err(forbidden(
                "actor",
                "only a registered cadre assesses themself",
            ));
        }
        self.open_period(&p.period)?;
        points_within(p.general_points, MAX_GENERAL_POINTS, "data.general_points")?;
        Ok(self.submission.payload.clone())
    }

    fn assessment_decided(&self, p: &AssessmentDecided) -> Result<Payload, Rejection> {
        let cadre = self.state.cadre(&p.cadre).ok_or_else(|| {
            Rejection::at(
                Code::UnknownActor,
                "data.cadre",
                format!("no cadre {} is registered", p.cadre),
            )
        })?;
        self.judge(&p.cadre, &cadre.unit)?;
        self.in_scope(&cadre.unit, "data.cadre")?;
        let period = self.open_period(&p.period)?;
        points_within(p.general_points, MAX_GENERAL_POINTS, "data.general_points")?;
        if let Some(t) = p.task_points {
            points_within(t, MAX_TASK_POINTS, "data.task_points")?;
        }
        let products = self.state.products(&p.cadre, period);
        let assessment = Assessment::decide(
            products,
            p.general_points,
            p.task_points,
            p.disqualified.is_some(),
            p.rating,
        )
        .map_err(|e| invalid(e.field(), e.to_string()))?;
        Ok(Payload::AssessmentDecided(AssessmentDecided {
            task_points: Some(assessment.task_points),
            rating: Some(assessment.rating),
            scheme: Slug::parse(SCHEME),
            products: Some(assessment.products),
            total: Some(assessment.total),
            ceiling: Some(assessment.ceiling),
            ..p.clone()
        }))
    }
}

/// `points` lie within 0 and `max` (both included), else `invalid_value`
/// at `field`.
fn points_within(points: Points, max: Points, field: &str) -> Result<(), Rejection> {
    if points < Points::ZERO || points > max {
        return Err(invalid(
            field,
            format!("{points} is not within 0 and {max} points"),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Authority {
    /// Approving a registered task: a Standing Committee member of the
    /// assignee's unit or above, not the assignee ([`Rules::judge`]).
    Approver,
    /// Reassigning, cancelling, evaluating: a Standing Committee member of
    /// the body that gave the task or above, not the assignee
    /// ([`Rules::judge`]).
    Judge,
    /// The assignee themself.
    Assignee,
    /// The assignee or a cadre of the assignee's unit.
    AssigneeUnit,
}

fn in_cycle(cycle: &Cycle, date: Date, field: &str) -> Result<(), Rejection> {
    if cycle.contains(date) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{date} is outside cycle {} ({} to {})",
                cycle.id, cycle.starts_on, cycle.ends_on
            ),
        ))
    }
}

/// A target's range as text, for messages: "0 to 100", "at least 0".
fn range_text(t: &Target) -> String {
    match (t.min, t.max) {
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => "any value".to_owned(),
    }
}

/// A target's `min` and `max` agree with each other and hold its baseline
/// and its target (see [`Target`]).
fn target_range(i: usize, t: &Target) -> Result<(), Rejection> {
    if let (Some(min), Some(max)) = (t.min, t.max)
        && min > max
    {
        return Err(invalid(
            format!("data.targets[{i}].max"),
            format!("the maximum {max} is below the minimum {min}"),
        ));
    }
    for (member, value) in [("baseline", t.baseline), ("target", t.target)] {
        if !t.admits(value) {
            return Err(invalid(
                format!("data.targets[{i}].{member}"),
                format!(
                    "the {member} {value} is outside the metric's range ({})",
                    range_text(t)
                ),
            ));
        }
    }
    Ok(())
}

/// How many of a plan's milestones a rejection names.
const MILESTONES_NAMED: usize = 10;
/// How many characters of a text a rejection's message quotes.
const EXCERPT_CHARS: usize = 80;

/// `text` cut to [`EXCERPT_CHARS`] characters, with "…" when cut.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The submission types a cadre may send at all, as this module's rules
/// give them, by where the cadre stands: any cadre registers a task for
/// themself and plans, delegates and reports on their tasks (or their
/// unit's); a Standing Committee member also assigns, approves,
/// reassigns, cancels and evaluates (within their unit, never their own
/// work: [`decide`] judges each submission); one of the root unit's also
/// opens and closes cycles. What a form offers a token's holder
/// (`GET /api/v1/me`); the order is the contract's.
pub fn may_send(standing_committee: bool, at_root: bool) -> Vec<crate::EventType> {
    use crate::EventType as T;
    crate::EventType::ALL
        .into_iter()
        .filter(|t| match t {
            T::TaskRegistered
            | T::PlanSubmitted
            | T::WorkDelegated
            | T::ProgressReported
            | T::MilestoneCompleted
            | T::AssessmentSelfSubmitted => true,
            T::TaskAssigned
            | T::TaskApproved
            | T::TaskReassigned
            | T::TaskCancelled
            | T::TaskEvaluated
            | T::ProductReviewed
            | T::AssessmentDecided
            | T::CadreRegistered
            | T::UnitRegistered => standing_committee,
            T::CycleOpened | T::CycleClosed | T::PeriodOpened | T::PeriodClosed | T::UnitMerged => {
                standing_committee && at_root
            }
        })
        .collect()
}
