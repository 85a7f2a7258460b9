//! The data of every submission type, exactly as CONTRACT.md writes it.
//!
//! An accepted submission becomes an event of the same type whose `data` is
//! the submission's data, normalized (NFC text; a rating derived from a bare
//! score). Reading is strict: every struct denies unknown fields, so a typo in
//! a commune's publisher is a `malformed` rejection instead of a silent loss.

use serde::{Deserialize, Serialize};

use crate::{
    evaluation::{Points, Product},
    time::Date,
    values::{RequiredText, Slug, Text},
};

pub use crate::vocabulary::{
    AssignedOrigin, Confidence, Disqualification, EventType, PeriodKind, Rating, TaskKind, UnitKind,
};

/// A key result: a metric with a baseline and a target ("from 388 to 400"),
/// optionally with the unit it is counted in and the range its values can
/// take (CONTRACT part C).
///
/// When `min` or `max` is given, `min` is at most `max`, the baseline and
/// the target lie within them (a target outside could never be reached),
/// and every reported value must too; each breach is `invalid_value` at
/// the offending member (`data.targets[i].max`, `.baseline`, `.target`;
/// `data.values[i].value` for a report).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Key of the metric, unique within the task.
    pub metric: Slug,
    /// What is counted, for a person.
    pub label: RequiredText,
    /// Value at the start.
    pub baseline: f64,
    /// Value to reach; may be below the baseline for a decrease.
    pub target: f64,
    /// The unit values are counted in, for a person ("%", "hộ", "thôn").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<RequiredText>,
    /// The smallest value the metric can take (0 for a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest value the metric can take (100 for a percentage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Target {
    /// Whether `value` lies within the target's range (both ends included).
    pub fn admits(&self, value: f64) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

/// A dated step of a plan.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    /// What is done by then.
    pub title: RequiredText,
    /// When.
    pub due: Date,
}

/// One reported value of a metric.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricValue {
    /// Key of one of the task's targets.
    pub metric: Slug,
    /// The value as of the report's date.
    pub value: f64,
}

/// `unit.registered`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRegistered {
    /// The system's own slug for the unit (official codes are reissued).
    pub code: Slug,
    /// Name, e.g. "Xã Hợp Thành".
    pub name: RequiredText,
    /// Kind of unit.
    pub kind: UnitKind,
    /// Parent unit; null only for the root. The key itself is required.
    #[serde(deserialize_with = "Option::deserialize")]
    #[cfg_attr(
        feature = "schema",
        schemars(required, schema_with = "crate::schema::slug_or_null")
    )]
    pub parent: Option<Slug>,
    /// First day the unit exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Date>,
}

/// `unit.merged`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitMerged {
    /// The successor unit.
    pub into: Slug,
    /// The units that close and roll up into `into`; at least one.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub from: Vec<Slug>,
    /// The day the merge takes effect; the `from` units close on it.
    pub effective_on: Date,
    /// The act that ordered it, e.g. "Nghị quyết 1684/NQ-UBTVQH15".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<Text>,
}

/// `cadre.registered`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CadreRegistered {
    /// The cadre's id.
    pub id: Slug,
    /// Full name.
    pub full_name: RequiredText,
    /// The unit the cadre belongs to.
    pub unit: Slug,
    /// Position, free text ("Chủ tịch UBND xã").
    pub position: RequiredText,
    /// Whether the cadre is a party member.
    pub party_member: bool,
    /// Whether the cadre sits on the unit's Standing Committee.
    pub standing_committee: bool,
}

/// `cycle.opened`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleOpened {
    /// The cycle's id, e.g. "2021".
    pub cycle: Slug,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
}

/// `task.registered`: a cadre registers a task for themself.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRegistered {
    /// The task's id.
    pub task_id: Slug,
    /// The cycle it belongs to.
    pub cycle: Slug,
    /// Title.
    pub title: RequiredText,
    /// Breakthrough, new or difficult.
    pub kind: TaskKind,
    /// Category, e.g. "Nông thôn mới".
    pub category: RequiredText,
    /// Due date, inside the cycle.
    pub due: Date,
    /// Key results; may be empty.
    pub targets: Vec<Target>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// `task.approved`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskApproved {
    /// The task.
    pub task_id: Slug,
    /// The committee's remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
}

/// `task.assigned`: the Standing Committee assigns a task.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskAssigned {
    /// The task's id.
    pub task_id: Slug,
    /// The cycle it belongs to.
    pub cycle: Slug,
    /// The cadre who carries it.
    pub assignee: Slug,
    /// Title.
    pub title: RequiredText,
    /// Breakthrough, new or difficult.
    pub kind: TaskKind,
    /// Category.
    pub category: RequiredText,
    /// Due date, inside the cycle.
    pub due: Date,
    /// Key results; may be empty.
    pub targets: Vec<Target>,
    /// Committee's choice or the unit's backlog.
    pub origin: AssignedOrigin,
    /// Which backlog item, when `origin` is backlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog_ref: Option<Text>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// `plan.submitted`: a plan, or a revision of it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSubmitted {
    /// The task.
    pub task_id: Slug,
    /// The solutions (giải pháp); at least one.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub solutions: Vec<RequiredText>,
    /// Dated steps.
    pub milestones: Vec<Milestone>,
}

/// `work.delegated`: part of the task handed to a unit or a cadre.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkDelegated {
    /// The task.
    pub task_id: Slug,
    /// Id of the delegation, unique within the task.
    pub delegation_id: Slug,
    /// A unit code or a cadre id.
    pub to: Slug,
    /// What is delegated.
    pub description: RequiredText,
    /// When it is due.
    pub due: Date,
}

/// `progress.reported`: a check-in.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressReported {
    /// The task.
    pub task_id: Slug,
    /// The date the values describe.
    pub as_of: Date,
    /// Values of the task's metrics.
    pub values: Vec<MetricValue>,
    /// Overall completion, 0 to 100, for tasks without targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 100)))]
    pub percent_complete: Option<f64>,
    /// How sure the cadre is of reaching the targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// `task.reassigned`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskReassigned {
    /// The task.
    pub task_id: Slug,
    /// The new assignee.
    pub assignee: Slug,
    /// Why.
    pub reason: RequiredText,
}

/// `task.cancelled`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCancelled {
    /// The task.
    pub task_id: Slug,
    /// Why.
    pub reason: RequiredText,
}

/// `task.evaluated`: the year-end evaluation. Final.
///
/// At least one of `rating` and `score`; when both are given, the rating is
/// the one the score earns (at least 90 excellent, 70 to under 90 good, 50 to
/// under 70 completed, under 50 not completed), else `invalid_value`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(extend(
        "anyOf" = crate::schema::rating_or_score(),
        "allOf" = crate::schema::rating_agrees_with_score()
    ))
)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskEvaluated {
    /// The task.
    pub task_id: Slug,
    /// The rating; in the event it is always present (derived from the score
    /// when only a score was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// The 100-point score, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 100)))]
    pub score: Option<f64>,
    /// The committee's assessment.
    pub comment: RequiredText,
}

impl TaskEvaluated {
    /// The rating this evaluation gives: the one stated (always, in an
    /// event), else the one its score earns.
    pub fn given_rating(&self) -> Option<Rating> {
        crate::figures::evaluation_rating(self.rating, self.score).unwrap_or(self.rating)
    }
}

/// `cycle.closed`
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleClosed {
    /// The cycle.
    pub cycle: Slug,
}

/// `period.opened`: an evaluation period (CONTRACT part A). Periods may
/// overlap (a year and its quarters).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodOpened {
    /// The period's id, e.g. "2026-q1".
    pub period: Slug,
    /// Month, quarter or year.
    pub kind: PeriodKind,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
}

/// `period.closed`: afterwards no assessment of the period is accepted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodClosed {
    /// The period.
    pub period: Slug,
}

/// `milestone.completed`: a milestone of the task's current plan is done.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneCompleted {
    /// The task.
    pub task_id: Slug,
    /// The milestone's title exactly as in the task's current plan (after
    /// NFC).
    pub milestone: RequiredText,
    /// The day it was done; not later than the day this is sent (UTC+7).
    pub completed_on: Date,
    /// Remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// `product.reviewed`: the committee's review of a work product; the
/// latest review of a product counts.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductReviewed {
    /// The task.
    pub task_id: Slug,
    /// The milestone reviewed (its title in the current plan); absent: the
    /// task itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<RequiredText>,
    /// Major errors found; each takes a quarter of the product's quality.
    pub major_errors: u32,
    /// The committee's remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
}

/// `assessment.self_submitted`: the cadre's own assessment (tự đánh giá);
/// the cadre is the actor.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentSelfSubmitted {
    /// The period.
    pub period: Slug,
    /// General-criteria points the cadre gives themself, 0 to 30, at most
    /// two decimals.
    #[cfg_attr(feature = "schema", schemars(with = "f64", range(min = 0, max = 30)))]
    pub general_points: Points,
    /// Remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// `assessment.decided`: the competent committee's decision on a cadre for
/// a period; the envelope `unit` is the evaluating body.
///
/// A submission sends the first members only. In the event the writer adds
/// what it computed from the log at that moment (CONTRACT part A):
/// `scheme`, `products`, `task_points` (computed, or the one given when the
/// cadre has no product), `total`, `ceiling` and `rating` (the one given,
/// or the ceiling). A submission that sends a computed member is
/// `malformed`, like any unknown member.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDecided {
    /// The cadre assessed.
    pub cadre: Slug,
    /// The period.
    pub period: Slug,
    /// The group of cadres with comparable duties (nhóm có nhiệm vụ tương
    /// đồng), e.g. "chu-tich-xa": the excellent quota is counted per
    /// evaluating body and peer group.
    pub peer_group: Slug,
    /// General-criteria points, 0 to 30, at most two decimals.
    #[cfg_attr(feature = "schema", schemars(with = "f64", range(min = 0, max = 30)))]
    pub general_points: Points,
    /// Task points, 0 to 70: only when the cadre has no product in the
    /// period (`invalid_value` otherwise). Always present in the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<f64>", range(min = 0, max = 70))
    )]
    pub task_points: Option<Points>,
    /// The rating; must not be above the ceiling. Without one the ceiling
    /// is the rating. Always present in the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// Set when the cadre is not completed whatever the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualified: Option<Disqualification>,
    /// The committee's remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
    /// The writer's: the scheme of the figures ([`crate::evaluation::SCHEME`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub scheme: Option<Slug>,
    /// The writer's: the cadre's products in the period, with their factors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub products: Option<Vec<Product>>,
    /// The writer's: general points + task points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub total: Option<Points>,
    /// The writer's: the highest rating the total and the conditions allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub ceiling: Option<Rating>,
}

impl AssessmentDecided {
    /// The members only the writer computes, by name, when a submission
    /// sends one (they are `malformed` there).
    pub fn writer_member(&self) -> Option<&'static str> {
        if self.scheme.is_some() {
            Some("scheme")
        } else if self.products.is_some() {
            Some("products")
        } else if self.total.is_some() {
            Some("total")
        } else if self.ceiling.is_some() {
            Some("ceiling")
        } else {
            None
        }
    }
}

/// The data of a submission or event, by type.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// `unit.registered`
    UnitRegistered(UnitRegistered),
    /// `unit.merged`
    UnitMerged(UnitMerged),
    /// `cadre.registered`
    CadreRegistered(CadreRegistered),
    /// `cycle.opened`
    CycleOpened(CycleOpened),
    /// `task.registered`
    TaskRegistered(TaskRegistered),
    /// `task.approved`
    TaskApproved(TaskApproved),
    /// `task.assigned`
    TaskAssigned(TaskAssigned),
    /// `plan.submitted`
    PlanSubmitted(PlanSubmitted),
    /// `work.delegated`
    WorkDelegated(WorkDelegated),
    /// `progress.reported`
    ProgressReported(ProgressReported),
    /// `task.reassigned`
    TaskReassigned(TaskReassigned),
    /// `task.cancelled`
    TaskCancelled(TaskCancelled),
    /// `task.evaluated`
    TaskEvaluated(TaskEvaluated),
    /// `cycle.closed`
    CycleClosed(CycleClosed),
    /// `period.opened`
    PeriodOpened(PeriodOpened),
    /// `period.closed`
    PeriodClosed(PeriodClosed),
    /// `milestone.completed`
    MilestoneCompleted(MilestoneCompleted),
    /// `product.reviewed`
    ProductReviewed(ProductReviewed),
    /// `assessment.self_submitted`
    AssessmentSelfSubmitted(AssessmentSelfSubmitted),
    /// `assessment.decided`
    AssessmentDecided(AssessmentDecided),
}

macro_rules! for_each_payload {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Payload::UnitRegistered($p) => $body,
            Payload::UnitMerged($p) => $body,
            Payload::CadreRegistered($p) => $body,
            Payload::CycleOpened($p) => $body,
            Payload::TaskRegistered($p) => $body,
            Payload::TaskApproved($p) => $body,
            Payload::TaskAssigned($p) => $body,
            Payload::PlanSubmitted($p) => $body,
            Payload::WorkDelegated($p) => $body,
            Payload::ProgressReported($p) => $body,
            Payload::TaskReassigned($p) => $body,
            Payload::TaskCancelled($p) => $body,
            Payload::TaskEvaluated($p) => $body,
            Payload::CycleClosed($p) => $body,
            Payload::PeriodOpened($p) => $body,
            Payload::PeriodClosed($p) => $body,
            Payload::MilestoneCompleted($p) => $body,
            Payload::ProductReviewed($p) => $body,
            Payload::AssessmentSelfSubmitted($p) => $body,
            Payload::AssessmentDecided($p) => $body,
        }
    };
}

/// A payload serializes as its `data` member alone (the type travels
/// beside it, in the envelope or the event).
impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        for_each_payload!(self, p => p.serialize(serializer))
    }
}

impl Payload {
    /// The payload's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Payload::UnitRegistered(_) => EventType::UnitRegistered,
            Payload::UnitMerged(_) => EventType::UnitMerged,
            Payload::CadreRegistered(_) => EventType::CadreRegistered,
            Payload::CycleOpened(_) => EventType::CycleOpened,
            Payload::TaskRegistered(_) => EventType::TaskRegistered,
            Payload::TaskApproved(_) => EventType::TaskApproved,
            Payload::TaskAssigned(_) => EventType::TaskAssigned,
            Payload::PlanSubmitted(_) => EventType::PlanSubmitted,
            Payload::WorkDelegated(_) => EventType::WorkDelegated,
            Payload::ProgressReported(_) => EventType::ProgressReported,
            Payload::TaskReassigned(_) => EventType::TaskReassigned,
            Payload::TaskCancelled(_) => EventType::TaskCancelled,
            Payload::TaskEvaluated(_) => EventType::TaskEvaluated,
            Payload::CycleClosed(_) => EventType::CycleClosed,
            Payload::PeriodOpened(_) => EventType::PeriodOpened,
            Payload::PeriodClosed(_) => EventType::PeriodClosed,
            Payload::MilestoneCompleted(_) => EventType::MilestoneCompleted,
            Payload::ProductReviewed(_) => EventType::ProductReviewed,
            Payload::AssessmentSelfSubmitted(_) => EventType::AssessmentSelfSubmitted,
            Payload::AssessmentDecided(_) => EventType::AssessmentDecided,
        }
    }

    /// Reads the `data` of a submission or event of type `event_type`.
    pub fn from_data<'de, D: serde::Deserializer<'de>>(
        event_type: EventType,
        data: D,
    ) -> Result<Payload, D::Error> {
        Ok(match event_type {
            EventType::UnitRegistered => Payload::UnitRegistered(Deserialize::deserialize(data)?),
            EventType::UnitMerged => Payload::UnitMerged(Deserialize::deserialize(data)?),
            EventType::CadreRegistered => Payload::CadreRegistered(Deserialize::deserialize(data)?),
            EventType::CycleOpened => Payload::CycleOpened(Deserialize::deserialize(data)?),
            EventType::TaskRegistered => Payload::TaskRegistered(Deserialize::deserialize(data)?),
            EventType::TaskApproved => Payload::TaskApproved(Deserialize::deserialize(data)?),
            EventType::TaskAssigned => Payload::TaskAssigned(Deserialize::deserialize(data)?),
            EventType::PlanSubmitted => Payload::PlanSubmitted(Deserialize::deserialize(data)?),
            EventType::WorkDelegated => Payload::WorkDelegated(Deserialize::deserialize(data)?),
            EventType::ProgressReported => {
                Payload::ProgressReported(Deserialize::deserialize(data)?)
            }
            EventType::TaskReassigned => Payload::TaskReassigned(Deserialize::deserialize(data)?),
            EventType::TaskCancelled => Payload::TaskCancelled(Deserialize::deserialize(data)?),
            EventType::TaskEvaluated => Payload::TaskEvaluated(Deserialize::deserialize(data)?),
            EventType::CycleClosed => Payload::CycleClosed(Deserialize::deserialize(data)?),
            EventType::PeriodOpened => Payload::PeriodOpened(Deserialize::deserialize(data)?),
            EventType::PeriodClosed => Payload::PeriodClosed(Deserialize::deserialize(data)?),
            EventType::MilestoneCompleted => {
                Payload::MilestoneCompleted(Deserialize::deserialize(data)?)
            }
            EventType::ProductReviewed => Payload::ProductReviewed(Deserialize::deserialize(data)?),
            EventType::AssessmentSelfSubmitted => {
                Payload::AssessmentSelfSubmitted(Deserialize::deserialize(data)?)
            }
            EventType::AssessmentDecided => {
                Payload::AssessmentDecided(Deserialize::deserialize(data)?)
            }
        })
    }

    /// The payload as the JSON `data` member.
    pub fn to_data(&self) -> serde_json::Value {
        // Serializing these plain structs cannot fail: every key is a string
        // and every number is finite (JSON has no other kind).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The task a task-level payload is about.
    pub fn task_id(&self) -> Option<&Slug> {
        match self {
            Payload::TaskRegistered(p) => Some(&p.task_id),
            Payload::TaskApproved(p) => Some(&p.task_id),
            Payload::TaskAssigned(p) => Some(&p.task_id),
            Payload::PlanSubmitted(p) => Some(&p.task_id),
            Payload::WorkDelegated(p) => Some(&p.task_id),
            Payload::ProgressReported(p) => Some(&p.task_id),
            Payload::TaskReassigned(p) => Some(&p.task_id),
            Payload::TaskCancelled(p) => Some(&p.task_id),
            Payload::TaskEvaluated(p) => Some(&p.task_id),
            Payload::MilestoneCompleted(p) => Some(&p.task_id),
            Payload::ProductReviewed(p) => Some(&p.task_id),
            _ => None,
        }
    }

    /// The stream this payload's event belongs to when `actor` sends it:
    /// `unit-<code>`, `cadre-<id>`, `cycle-<cycle>`, `task-<task_id>`,
    /// `period-<period>` or `assessment-<period>-<cadre>` (the actor's own
    /// for a self-assessment).
    pub fn stream(&self, actor: &Slug) -> StreamId {
        match self {
            Payload::UnitRegistered(p) => StreamId::Unit(p.code.clone()),
            Payload::UnitMerged(p) => StreamId::Unit(p.into.clone()),
            Payload::CadreRegistered(p) => StreamId::Cadre(p.id.clone()),
            Payload::CycleOpened(p) => StreamId::Cycle(p.cycle.clone()),
            Payload::CycleClosed(p) => StreamId::Cycle(p.cycle.clone()),
            Payload::TaskRegistered(p) => StreamId::Task(p.task_id.clone()),
            Payload::TaskApproved(p) => StreamId::Task(p.task_id.clone()),
            Payload::TaskAssigned(p) => StreamId::Task(p.task_id.clone()),
            Payload::PlanSubmitted(p) => StreamId::Task(p.task_id.clone()),
            Payload::WorkDelegated(p) => StreamId::Task(p.task_id.clone()),
            Payload::ProgressReported(p) => StreamId::Task(p.task_id.clone()),
            Payload::TaskReassigned(p) => StreamId::Task(p.task_id.clone()),
            Payload::TaskCancelled(p) => StreamId::Task(p.task_id.clone()),
            Payload::TaskEvaluated(p) => StreamId::Task(p.task_id.clone()),
            Payload::MilestoneCompleted(p) => StreamId::Task(p.task_id.clone()),
            Payload::ProductReviewed(p) => StreamId::Task(p.task_id.clone()),
            Payload::PeriodOpened(p) => StreamId::Period(p.period.clone()),
            Payload::PeriodClosed(p) => StreamId::Period(p.period.clone()),
            Payload::AssessmentSelfSubmitted(p) => StreamId::Assessment {
                period: p.period.clone(),
                cadre: actor.clone(),
            },
            Payload::AssessmentDecided(p) => StreamId::Assessment {
                period: p.period.clone(),
                cadre: p.cadre.clone(),
            },
        }
    }
}

/// The stream of an event: the entity whose history it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StreamId {
    /// `unit-<code>`
    Unit(Slug),
    /// `cadre-<id>`
    Cadre(Slug),
    /// `cycle-<cycle>`
    Cycle(Slug),
    /// `task-<task_id>`
    Task(Slug),
    /// `period-<period>`
    Period(Slug),
    /// `assessment-<period>-<cadre>`
    Assessment {
        /// The period.
        period: Slug,
        /// The cadre assessed.
        cadre: Slug,
    },
}

impl StreamId {
    /// The task stream's name for `task_id`.
    pub fn task_stream(task_id: &str) -> String {
        format!("task-{task_id}")
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamId::Unit(s) => write!(f, "unit-{s}"),
            StreamId::Cadre(s) => write!(f, "cadre-{s}"),
            StreamId::Cycle(s) => write!(f, "cycle-{s}"),
            StreamId::Task(s) => write!(f, "task-{s}"),
            StreamId::Period(s) => write!(f, "period-{s}"),
            StreamId::Assessment { period, cadre } => write!(f, "assessment-{period}-{cadre}"),
        }
    }
}
