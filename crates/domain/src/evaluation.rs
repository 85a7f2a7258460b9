//! Evaluating cadres by period (CONTRACT.md part A; Decree 335/2025/NĐ-CP,
//! Regulation 366-QĐ/TW): the one home of its figures.
//!
//! - [`Points`]: points in exact hundredths (no float drift: 70 × 11/12 is
//!   64.17 wherever it is computed).
//! - [`Factor`]: a product's quantity, quality and progress, in exact
//!   quarters; [`Product::new`] computes them.
//! - [`task_points`]: T = 70 × Σ(q + l + p) / (3 × n), rounded half away
//!   from zero to two decimals with integers only.
//! - [`ceiling`]: the highest rating the total and the conditions allow
//!   (rules 1 to 5), with the reason when it is below the band.
//! - [`Assessment::decide`]: what the writer computes for an
//!   `assessment.decided` and puts in its event.
//! - [`DoneTracker`]: the day a task is done (the first report, in
//!   [`Reading`] order, that brings its completion to 100).
//!
//! The excellent quota is [`crate::figures::QuotaTally`], the same rule as
//! the task dashboard's: counted here per evaluating body and peer group.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{
    figures::{QuotaTally, Reading, completion},
    payload::{MetricValue, Target},
    time::Date,
    values::{INVALID_VALUE, RequiredText, Slug},
    vocabulary::{CeilingReason, ProductStatus, Rating},
};

/// The scheme the figures of this module follow, written into every
/// `assessment.decided` event. Another law later means another scheme;
/// old events keep theirs.
pub const SCHEME: &str = "nd335-2025";

/// Most general-criteria points (tiêu chí chung), Decree 335/2025/NĐ-CP.
pub const MAX_GENERAL_POINTS: Points = Points::whole(30);
/// Most task-result points (kết quả thực hiện nhiệm vụ).
pub const MAX_TASK_POINTS: Points = Points::whole(70);
/// Of the products, at least this percentage must be done for `completed`
/// (rule 4).
pub const COMPLETED_DONE_PERCENT: u64 = 80;

// ---------------------------------------------------------------- points

/// Points, in exact hundredths: `Points::from_hundredths(6417)` is 64.17.
///
/// On the wire a JSON number with at most two decimals (`64.17`, `30`);
/// more decimals are `invalid_value`. Written back as the shortest number
/// (`64.17`, `70`), so a reader in any language gets the same value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

/// Largest magnitude a point value may have on the wire, in hundredths:
/// far beyond any score, small enough that no sum of a period's figures
/// can overflow.
const MAX_WIRE_HUNDREDTHS: i64 = 1_000_000_000_000;

impl Points {
    /// Zero points.
    pub const ZERO: Points = Points(0);

    /// `n` whole points.
    pub const fn whole(n: i64) -> Points {
        Points(n * 100)
    }

    /// Points from hundredths.
    pub const fn from_hundredths(hundredths: i64) -> Points {
        Points(hundredths)
    }

    /// The value in hundredths.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// The value as a float, for formatting and for the score bands
    /// (exact for the bands: every hundredth is on the right side of 50,
    /// 70 and 90 once divided by 100).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Reads a number with at most two decimals; `None` for more decimals,
    /// a value too large, or not a finite number. Exact: the decision is
    /// made on the number's shortest decimal form, the one JSON wrote.
    pub fn from_f64(value: f64) -> Option<Points> {
        if !value.is_finite() {
            return None;
        }
        // Rust prints the shortest decimal that reads back as this float,
        // never in exponent form.
        let text = format!("{value}");
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if fraction.len() > 2 || whole.len() > 12 {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let mut cents: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().ok()?
        };
        if fraction.len() == 1 {
            cents *= 10;
        }
        let hundredths = whole.checked_mul(100)?.checked_add(cents)?;
        if hundredths > MAX_WIRE_HUNDREDTHS {
            return None;
        }
        Some(Points(if negative { -hundredths } else { hundredths }))
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, other: Points) -> Points {
        Points(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Points {
    /// `64.17`, `64.1`, `70`: the shortest decimal, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, cents) = (self.0.unsigned_abs() / 100, self.0.unsigned_abs() % 100);
        match cents {
            0 => write!(f, "{sign}{whole}"),
            c if c % 10 == 0 => write!(f, "{sign}{whole}.{}", c / 10),
            c => write!(f, "{sign}{whole}.{c:02}"),
        }
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            // The nearest double to h/100, whose shortest form is the
            // decimal itself (h has far fewer than 15 digits).
            s.serialize_f64(self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Points, D::Error> {
        let value = f64::deserialize(d)?;
        Points::from_f64(value).ok_or_else(|| {
            de::Error::custom(format_args!(
                "{INVALID_VALUE}{value} is not a number of points with at most two decimals"
            ))
        })
    }
}

// --------------------------------------------------------------- factors

/// One factor of a product (quantity `q`, quality `l`, progress `p`),
/// 0 to 1 in exact quarters: on the wire `0`, `0.25`, `0.5`, `0.75`, `1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Factor(u8);

impl Factor {
    /// 0.
    pub const ZERO: Factor = Factor(0);
    /// 1.
    pub const ONE: Factor = Factor(4);
    /// 0.75: the progress of a product done after its own due date.
    pub const LATE: Factor = Factor(3);

    /// The factor of `quarters` quarters; `None` above 4.
    pub const fn from_quarters(quarters: u8) -> Option<Factor> {
        if quarters <= 4 {
            Some(Factor(quarters))
        } else {
            None
        }
    }

    /// The factor in quarters, 0 to 4.
    pub const fn quarters(self) -> u8 {
        self.0
    }

    /// The factor as a number, 0 to 1 (exact: quarters are binary fractions).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 4.0
    }
}

impl Serialize for Factor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            0 => s.serialize_u64(0),
            4 => s.serialize_u64(1),
            _ => s.serialize_f64(self.as_f64()),
        }
    }
}

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Factor, D::Error> {
        let value = f64::deserialize(d)?;
        let quarters = value * 4.0;
        if quarters.fract() == 0.0 && (0.0..=4.0).contains(&quarters) {
            Ok(Factor(quarters as u8))
        } else {
            Err(de::Error::custom(format_args!(
                "{INVALID_VALUE}{value} is not a factor (0, 0.25, 0.5, 0.75 or 1)"
            )))
        }
    }
}

// -------------------------------------------------------------- products

/// A work product of a cadre in a period: a task due in it, or a milestone
/// of a task's current plan due in it, with its factors (CONTRACT part A).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The task.
    pub task_id: Slug,
    /// The milestone's title; null for the task itself.
    #[serde(deserialize_with = "Option::deserialize")]
    #[cfg_attr(feature = "schema", schemars(required))]
    pub milestone: Option<RequiredText>,
    /// Its own due date.
    pub due: Date,
    /// The day it was done; null when it is not (yet).
    #[serde(deserialize_with = "Option::deserialize")]
    #[cfg_attr(feature = "schema", schemars(required))]
    pub done_on: Option<Date>,
    /// Quantity: 1 when done by the period's end, else 0.
    #[cfg_attr(feature = "schema", schemars(with = "f64", range(min = 0, max = 1)))]
    pub q: Factor,
    /// Quality: `q` × max(0, 1 − 0.25 × major errors of its latest review).
    #[cfg_attr(feature = "schema", schemars(with = "f64", range(min = 0, max = 1)))]
    pub l: Factor,
    /// Progress: `q` when done by its own due date, else 0.75 × `q`.
    #[cfg_attr(feature = "schema", schemars(with = "f64", range(min = 0, max = 1)))]
    pub p: Factor,
}

impl Product {
    /// A product and its factors, judged at the end of a period that ends
    /// on `period_ends_on`: `major_errors` is that of its latest review (0
    /// without one).
    pub fn new(
        task_id: Slug,
        milestone: Option<RequiredText>,
        due: Date,
        done_on: Option<Date>,
        major_errors: u32,
        period_ends_on: Date,
    ) -> Product {
        let done = done_on.is_some_and(|d| d <= period_ends_on);
        let (q, l, p) = if done {
            let on_time = done_on.is_some_and(|d| d <= due);
            // 1 − 0.25 × errors, in quarters, at least 0.
            let quality = 4u32.saturating_sub(major_errors) as u8;
            (
                Factor::ONE,
                Factor(quality),
                if on_time { Factor::ONE } else { Factor::LATE },
            )
        } else {
            (Factor::ZERO, Factor::ZERO, Factor::ZERO)
        };
        Product {
            task_id,
            milestone,
            due,
            done_on,
            q,
            l,
            p,
        }
    }

    /// Whether it counts as done in the period (`q` = 1).
    pub fn is_done(&self) -> bool {
        self.q == Factor::ONE
    }

    /// Whether it was done by its own due date (`p` = 1).
    pub fn is_on_time(&self) -> bool {
        self.p == Factor::ONE
    }

    /// On time, late or not done, from its factors.
    pub fn status(&self) -> ProductStatus {
        if !self.is_done() {
            ProductStatus::NotDone
        } else if self.is_on_time() {
            ProductStatus::OnTime
        } else {
            ProductStatus::Late
        }
    }
}

/// A task as the products rule reads it: its own due date and done day,
/// the major errors of its latest review, and its current plan's
/// milestones.
#[derive(Clone, Debug)]
pub struct TaskWork<'a> {
    /// The task.
    pub task_id: &'a Slug,
    /// Its due date.
    pub due: Date,
    /// The day it was done ([`DoneTracker`]).
    pub done_on: Option<Date>,
    /// Major errors of the task's latest review (0 without one).
    pub major_errors: u32,
    /// The milestones of its current plan, in the plan's order.
    pub milestones: Vec<MilestoneWork<'a>>,
}

/// A milestone of a task's current plan, as the products rule reads it.
#[derive(Clone, Debug)]
pub struct MilestoneWork<'a> {
    /// Its title (NFC).
    pub title: &'a RequiredText,
    /// Its due date.
    pub due: Date,
    /// The `completed_on` of its first `milestone.completed`.
    pub done_on: Option<Date>,
    /// Major errors of its latest review (0 without one).
    pub major_errors: u32,
}

/// A cadre's products in the period `starts_on..=ends_on` (CONTRACT part
/// A), from `tasks`: the tasks whose current assignee is the cadre and
/// which are not cancelled (the caller's to choose). Each task whose due
/// date falls in the period is a product, and so is each milestone of its
/// current plan whose due date does; in the order given, each task before
/// its milestones.
pub fn products_in<'a>(
    starts_on: Date,
    ends_on: Date,
    tasks: impl IntoIterator<Item = TaskWork<'a>>,
) -> Vec<Product> {
    let within = |due: Date| starts_on <= due && due <= ends_on;
    let mut products = Vec::new();
    for task in tasks {
        if within(task.due) {
            products.push(Product::new(
                task.task_id.clone(),
                None,
                task.due,
                task.done_on,
                task.major_errors,
                ends_on,
            ));
        }
        for m in task.milestones.iter().filter(|m| within(m.due)) {
            products.push(Product::new(
                task.task_id.clone(),
                Some(m.title.clone()),
                m.due,
                m.done_on,
                m.major_errors,
                ends_on,
            ));
        }
    }
    products
}

/// Task points T = 70 × Σ(q + l + p) / (3 × n) over the `products`, rounded
/// half away from zero to two decimals, in integers only; `None` without a
/// product (the decision must then give them).
pub fn task_points(products: &[Product]) -> Option<Points> {
    if products.is_empty() {
        return None;
    }
    // Σ(q + l + p) in quarters; T = 70 × S / (4 × 3 × n) points, i.e.
    // 7000 × S / (12 × n) hundredths. Every term is ≥ 0, so half away
    // from zero is half up: ⌊(2a + b) / 2b⌋.
    let sum: u64 = products
        .iter()
        .map(|p| u64::from(p.q.0) + u64::from(p.l.0) + u64::from(p.p.0))
        .sum();
    let a = u128::from(MAX_TASK_POINTS.0 as u64) * u128::from(sum);
    let b = 12 * products.len() as u128;
    Some(Points(((2 * a + b) / (2 * b)) as i64))
}

// -------------------------------------------------------------- ceilings

impl Rating {
    /// Whether this rating is better than `other` (excellent is above good).
    pub fn is_above(self, other: Rating) -> bool {
        // The vocabulary lists ratings best first.
        self < other
    }
}

/// The rating's ceiling: the highest rating the `total` and the conditions
/// allow (CONTRACT part A), and why it is below the band the total earns
/// (`None` when it is not):
/// 1. `not_completed` when the total is under 50 or `disqualified`;
/// 2. else `excellent` when at least 90 and every product has `p` = 1;
/// 3. else `good` when at least 70 and every product has `q` = 1;
/// 4. else `completed` when at least 50 and at least 80% have `q` = 1;
/// 5. else `not_completed`.
///
/// With no product only the score bands apply.
pub fn ceiling(
    total: Points,
    disqualified: bool,
    products: &[Product],
) -> (Rating, Option<CeilingReason>) {
    let band = Rating::for_score(total.as_f64());
    if disqualified {
        let reason = (band != Rating::NotCompleted).then_some(CeilingReason::Disqualified);
        return (Rating::NotCompleted, reason);
    }
    let n = products.len() as u64;
    let done = products.iter().filter(|p| p.is_done()).count() as u64;
    let mut rating = band;
    let mut reason = None;
    if rating == Rating::Excellent && !products.iter().all(Product::is_on_time) {
        rating = Rating::Good;
        reason = Some(CeilingReason::LateProduct);
    }
    if rating == Rating::Good && done < n {
        rating = Rating::Completed;
        reason = Some(CeilingReason::UndoneProduct);
    }
    if rating == Rating::Completed && done * 100 < COMPLETED_DONE_PERCENT * n {
        rating = Rating::NotCompleted;
        reason = Some(CeilingReason::TooFewDone);
    }
    (rating, reason)
}

// ------------------------------------------------------------ assessment

/// What the writer computes for an `assessment.decided` from the log at
/// that moment (CONTRACT part A): it goes into the event beside the
/// submission's data, so the event alone says how the rating was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// The cadre's products in the period.
    pub products: Vec<Product>,
    /// Task points: computed from the products, or as given without one.
    pub task_points: Points,
    /// General points + task points.
    pub total: Points,
    /// The highest rating allowed.
    pub ceiling: Rating,
    /// Why the ceiling is below the total's band, when it is.
    pub ceiling_reason: Option<CeilingReason>,
    /// The rating: the one given, else the ceiling.
    pub rating: Rating,
}

/// Why an assessment cannot be computed as asked; the writer answers each
/// with `invalid_value` at the field named by [`AssessmentError::field`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentError {
    /// `task_points` was given though the cadre has products.
    #[error(
        "task points are computed from the cadre's {0} products in the period; do not give them"
    )]
    TaskPointsWithProducts(usize),
    /// The cadre has no product and no `task_points` was given.
    #[error("the cadre has no product in the period: give task_points (0 to 70)")]
    TaskPointsMissing,
    /// The rating given is above the ceiling.
    #[error("{given} is above the ceiling {ceiling} (total {total}{reason})")]
    AboveCeiling {
        /// The rating given.
        given: Rating,
        /// The ceiling.
        ceiling: Rating,
        /// The total.
        total: Points,
        /// ", " and why the ceiling is lower than the band, or "".
        reason: String,
    },
}

impl AssessmentError {
    /// The submission field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            AssessmentError::TaskPointsWithProducts(_) | AssessmentError::TaskPointsMissing => {
                "data.task_points"
            }
            AssessmentError::AboveCeiling { .. } => "data.rating",
        }
    }
}

impl Assessment {
    /// Computes an assessment: task points from `products` (or
    /// `given_task_points` when there is none), the total, the ceiling, and
    /// the rating (`given_rating`, which must not be above the ceiling, or
    /// the ceiling).
    pub fn decide(
        products: Vec<Product>,
        general_points: Points,
        given_task_points: Option<Points>,
        disqualified: bool,
        given_rating: Option<Rating>,
    ) -> Result<Assessment, AssessmentError> {
        let task_points = match (task_points(&products), given_task_points) {
            (Some(_), Some(_)) => {
                return Err(AssessmentError::TaskPointsWithProducts(products.len()));
            }
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => return Err(AssessmentError::TaskPointsMissing),
        };
        let total = general_points + task_points;
        let (ceiling, ceiling_reason) = ceiling(total, disqualified, &products);
        let rating = match given_rating {
            Some(given) if given.is_above(ceiling) => {
                return Err(AssessmentError::AboveCeiling {
                    given,
                    ceiling,
                    total,
                    reason: ceiling_reason
                        .map(|r| format!(", {}", r.label(crate::vocabulary::Lang::En)))
                        .unwrap_or_default(),
                });
            }
            Some(given) => given,
            None => ceiling,
        };
        Ok(Assessment {
            products,
            task_points,
            total,
            ceiling,
            ceiling_reason,
            rating,
        })
    }
}

// ----------------------------------------------------------------- quota

/// The excellent quota of a period, counted per evaluating body and peer
/// group (CONTRACT part A) with [`QuotaTally`], the one quota rule: from
/// each cadre's latest decision as (evaluating unit, peer group, rating).
/// Keyed and ordered by (evaluating unit, peer group).
pub fn quota_groups<U: AsRef<str>, G: AsRef<str>>(
    decisions: impl IntoIterator<Item = (U, G, Rating)>,
) -> BTreeMap<(String, String), QuotaTally> {
    let mut groups: BTreeMap<(String, String), QuotaTally> = BTreeMap::new();
    for (unit, group, rating) in decisions {
        groups
            .entry((unit.as_ref().to_owned(), group.as_ref().to_owned()))
            .or_default()
            .add(rating);
    }
    groups
}

// ------------------------------------------------------------------ done

/// The progress reports a [`DoneTracker`] keeps, in [`Reading`] order, in
/// columns: a writer holds every report of every task (a late report may
/// move the day a task was done), so a report costs no allocation of its
/// own, about 50 bytes with one value instead of about 115 (BENCHMARKS.md,
/// resident memory after a million events).
#[derive(Clone, Debug, Default, PartialEq)]
struct Reports {
    readings: Vec<Reading>,
    percents: Vec<Option<f64>>,
    /// Where each report's values start in `values`; they end where the
    /// next report's start.
    starts: Vec<u32>,
    /// (index of the target, value) of every report, report after report.
    values: Vec<(u32, f64)>,
}

impl Reports {
    fn clear(&mut self) {
        self.readings.clear();
        self.percents.clear();
        self.starts.clear();
        self.values.clear();
    }

    fn len(&self) -> usize {
        self.readings.len()
    }

    fn last_reading(&self) -> Option<Reading> {
        self.readings.last().copied()
    }

    /// The `i`th report: its reading, its values, its percentage.
    fn get(&self, i: usize) -> (Reading, &[(u32, f64)], Option<f64>) {
        let start = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.values.len(), |&e| e as usize);
        (self.readings[i], &self.values[start..end], self.percents[i])
    }

    /// Puts a report at index `at`, moving the later ones up.
    fn insert(&mut self, at: usize, reading: Reading, values: &[(u32, f64)], percent: Option<f64>) {
        let start = self
            .starts
            .get(at)
            .map_or(self.values.len(), |&s| s as usize);
        self.readings.insert(at, reading);
        self.percents.insert(at, percent);
        self.starts.insert(at, start as u32);
        for later in &mut self.starts[at + 1..] {
            *later += values.len() as u32;
        }
        self.values.splice(start..start, values.iter().copied());
    }
}

/// The day a task is done: the `as_of` of the first progress report, in
/// [`Reading`] order (as_of, then log position), that brings its
/// completion ([`completion`]) to 100. Once done it stays done, whatever
/// later reports say; a report that arrives late but describes an earlier
/// day is put in its place and the day found again.
///
/// A caller that keeps the reports elsewhere (the read model's tables) can
/// make a tracker forget them ([`DoneTracker::forget_reports`]): it then
/// holds a constant amount per task and takes only reports in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DoneTracker {
    /// (metric, baseline, target), in the task's order.
    targets: Vec<(Slug, f64, f64)>,
    /// Reports in [`Reading`] order; only the last one once forgetful.
    reports: Reports,
    /// Keeps only the last report, and refuses one out of order.
    forgetful: bool,
    /// The latest value of each target and the latest percentage, after
    /// every report (kept for reports arriving in order).
    latest: Vec<Option<f64>>,
    latest_percent: Option<f64>,
    done_on: Option<Date>,
}

impl DoneTracker {
    /// A tracker for a task with these targets.
    pub fn new(targets: &[Target]) -> DoneTracker {
        DoneTracker::for_targets(
            targets
                .iter()
                .map(|t| (t.metric.clone(), t.baseline, t.target)),
        )
    }

    /// A tracker for a task whose targets are (metric, baseline, target),
    /// in the task's order.
    pub fn for_targets(targets: impl IntoIterator<Item = (Slug, f64, f64)>) -> DoneTracker {
        let targets: Vec<(Slug, f64, f64)> = targets.into_iter().collect();
        DoneTracker {
            latest: vec![None; targets.len()],
            targets,
            ..DoneTracker::default()
        }
    }

    /// The day the task was done, if it is.
    pub fn done_on(&self) -> Option<Date> {
        self.done_on
    }

    /// Forgets the reports taken in so far, keeping what they made (each
    /// target's latest value, the latest percentage, the day done) and
    /// the last one's reading. From then on the tracker keeps no more than
    /// the last report and takes only a report that comes after every
    /// one it has seen; [`DoneTracker::report`] refuses any other, and
    /// the caller builds a tracker again from all the reports.
    pub fn forget_reports(&mut self) {
        self.forgetful = true;
        let mut kept = Reports::default();
        if let Some(last) = self.reports.len().checked_sub(1) {
            let (reading, values, percent) = self.reports.get(last);
            kept.insert(0, reading, values, percent);
        }
        self.reports = kept;
    }

    /// Takes a report in: its reading, its values (metrics the task does
    /// not have are ignored) and its `percent_complete`. Returns false,
    /// taking nothing, only for a report out of order given to a tracker
    /// that forgot its reports ([`DoneTracker::forget_reports`]).
    pub fn report(
        &mut self,
        reading: Reading,
        values: &[MetricValue],
        percent: Option<f64>,
    ) -> bool {
        let in_order = self
            .reports
            .last_reading()
            .is_none_or(|last| reading.is_later_than(last));
        if self.forgetful && !in_order {
            return false;
        }
        // Values usually come in the targets' order: the target at the
        // value's own index is compared first, the others only if it is
        // not that one.
        let values: Vec<(u32, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(k, v)| {
                let at = |i: usize| self.targets.get(i).is_some_and(|t| t.0 == v.metric);
                let i = if at(k) {
                    Some(k)
                } else {
                    self.targets.iter().position(|t| t.0 == v.metric)
                };
                i.map(|i| (i as u32, v.value))
            })
            .collect();
        if in_order {
            self.fold(reading, &values, percent);
            if self.forgetful {
                // Emptied, not replaced: the columns keep their one slot.
                self.reports.clear();
            }
            self.reports
                .insert(self.reports.len(), reading, &values, percent);
        } else {
            let at = self.reports.readings.partition_point(|r| *r < reading);
            self.reports.insert(at, reading, &values, percent);
            self.replay();
        }
        true
    }

    fn fold(&mut self, reading: Reading, values: &[(u32, f64)], percent: Option<f64>) {
        for &(i, value) in values {
            self.latest[i as usize] = Some(value);
        }
        if percent.is_some() {
            self.latest_percent = percent;
        }
        if self.done_on.is_none() {
            let percent = completion(
                self.targets
                    .iter()
                    .zip(&self.latest)
                    .map(|(t, latest)| (t.1, t.2, *latest)),
                self.latest_percent,
            );
            if percent.is_some_and(|p| p >= 100.0) {
                self.done_on = Some(reading.as_of);
            }
        }
    }

    fn replay(&mut self) {
        self.latest = vec![None; self.targets.len()];
        self.latest_percent = None;
        self.done_on = None;
        let reports = std::mem::take(&mut self.reports);
        for i in 0..reports.len() {
            let (reading, values, percent) = reports.get(i);
            self.fold(reading, values, percent);
        }
        self.reports = reports;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Date {
        Date::parse(text).expect("date")
    }

    fn slug(text: &str) -> Slug {
        Slug::parse(text).expect("slug")
    }

    /// A product of a period ending 2026-03-31, due 2026-03-15.
    fn product(done_on: Option<&str>, errors: u32) -> Product {
        Product::new(
            slug("t"),
            None,
            d("2026-03-15"),
            done_on.map(d),
            errors,
            d("2026-03-31"),
        )
    }

    fn points(text: &str) -> Points {
        Points::from_f64(text.parse().expect("number")).expect("two decimals")
    }

    #[test]
    fn points_have_at_most_two_decimals() {
        assert_eq!(points("64.17"), Points::from_hundredths(6417));
        assert_eq!(points("30"), Points::whole(30));
        assert_eq!(points("0.1"), Points::from_hundredths(10));
        assert_eq!(points("64.170"), Points::from_hundredths(6417));
        assert_eq!(points("-1.5"), Points::from_hundredths(-150));
        assert_eq!(Points::from_f64(64.171), None);
        assert_eq!(Points::from_f64(0.001), None);
        assert_eq!(Points::from_f64(f64::NAN), None);
        assert_eq!(Points::from_f64(1e300), None);
        for (h, text) in [(6417, "64.17"), (7000, "70"), (6410, "64.1"), (5, "0.05")] {
            let p = Points::from_hundredths(h);
            assert_eq!(p.to_string(), text);
            assert_eq!(serde_json::to_string(&p).expect("json"), text);
            assert_eq!(serde_json::from_str::<Points>(text).expect("reads"), p);
        }
        let e = serde_json::from_str::<Points>("12.345").expect_err("three decimals");
        assert!(e.to_string().starts_with(INVALID_VALUE), "{e}");
    }

    #[test]
    fn factors_are_quarters() {
        for (q, text) in [(0, "0"), (1, "0.25"), (2, "0.5"), (3, "0.75"), (4, "1")] {
            let f = Factor::from_quarters(q).expect("factor");
            assert_eq!(serde_json::to_string(&f).expect("json"), text);
            assert_eq!(serde_json::from_str::<Factor>(text).expect("reads"), f);
        }
        assert!(serde_json::from_str::<Factor>("0.3").is_err());
        assert!(serde_json::from_str::<Factor>("1.25").is_err());
        assert_eq!(Factor::from_quarters(5), None);
    }

    #[test]
    fn a_product_done_on_time_scores_one_on_each_factor() {
        let p = product(Some("2026-03-10"), 0);
        assert_eq!((p.q, p.l, p.p), (Factor::ONE, Factor::ONE, Factor::ONE));
        assert_eq!(task_points(&[p]), Some(Points::whole(70)));
    }

    #[test]
    fn a_product_done_late_gets_three_quarters_progress() {
        let p = product(Some("2026-03-20"), 0);
        assert_eq!((p.q, p.l, p.p), (Factor::ONE, Factor::ONE, Factor::LATE));
        // 70 × 2.75 / 3 = 64.1666… → 64.17
        assert_eq!(task_points(&[p]), Some(Points::from_hundredths(6417)));
    }

    #[test]
    fn a_product_not_done_by_the_periods_end_scores_nothing() {
        for done in [None, Some("2026-04-01")] {
            let p = product(done, 0);
            assert_eq!((p.q, p.l, p.p), (Factor::ZERO, Factor::ZERO, Factor::ZERO));
            assert!(!p.is_done());
        }
    }

    #[test]
    fn each_major_error_takes_a_quarter_of_quality() {
        let l = |errors| product(Some("2026-03-10"), errors).l;
        assert_eq!(l(1), Factor::LATE);
        assert_eq!(l(2), Factor::from_quarters(2).expect("half"), "halved");
        assert_eq!(l(4), Factor::ZERO);
        assert_eq!(l(u32::MAX), Factor::ZERO);
    }

    #[test]
    fn task_points_round_half_away_from_zero() {
        assert_eq!(task_points(&[]), None);
        // Two products: S = 12 + 11 = 23 quarters: 70 × 23 / 24 = 67.083…
        let ps = [
            product(Some("2026-03-01"), 0),
            product(Some("2026-03-20"), 0),
        ];
        assert_eq!(task_points(&ps), Some(Points::from_hundredths(6708)));
        // Undone (0) and late with three errors (1 + 0.25 + 0.75): S = 8
        // quarters, 70 × 8 / 24 = 23.333… → 23.33.
        let ps = [product(None, 0), product(Some("2026-03-20"), 3)];
        assert_eq!(task_points(&ps), Some(Points::from_hundredths(2333)));
        // A tie: S = 12 + 7 + 8 + 0 = 27 of n = 4: 70 × 27 / 48 = 39.375
        // → 39.38, away from zero.
        let ps = [
            product(Some("2026-03-01"), 0),
            product(Some("2026-03-20"), 4),
            product(Some("2026-03-01"), 4),
            product(None, 0),
        ];
        assert_eq!(task_points(&ps), Some(Points::from_hundredths(3938)));
    }

    #[test]
    fn the_ceiling_follows_rules_one_to_five() {
        let on_time = product(Some("2026-03-10"), 0);
        let late = product(Some("2026-03-20"), 0);
        let undone = product(None, 0);
        let c = |total: i64, dq, ps: &[Product]| ceiling(Points::whole(total), dq, ps);
        use CeilingReason::*;
        use Rating::*;
        assert_eq!(c(49, false, &[]), (NotCompleted, None));
        assert_eq!(c(95, true, &[]), (NotCompleted, Some(Disqualified)));
        assert_eq!(
            c(92, false, std::slice::from_ref(&on_time)),
            (Excellent, None)
        );
        assert_eq!(
            c(92, false, &[on_time.clone(), late.clone()]),
            (Good, Some(LateProduct))
        );
        let mut five = vec![on_time.clone(); 4];
        five.push(undone.clone());
        assert_eq!(c(75, false, &five), (Completed, Some(UndoneProduct)));
        assert_eq!(
            c(75, false, &[on_time.clone(), undone.clone()]),
            (NotCompleted, Some(TooFewDone))
        );
        assert_eq!(c(60, false, &five), (Completed, None));
        assert_eq!(c(95, false, &[]), (Excellent, None), "bands only");
    }

    #[test]
    fn an_assessment_needs_task_points_exactly_when_there_is_no_product() {
        let on_time = product(Some("2026-03-10"), 0);
        let a = Assessment::decide(vec![on_time.clone()], Points::whole(25), None, false, None)
            .expect("computed");
        assert_eq!(
            (a.task_points, a.total, a.rating),
            (Points::whole(70), Points::whole(95), Rating::Excellent)
        );
        assert_eq!(
            Assessment::decide(
                vec![on_time],
                Points::whole(25),
                Some(Points::whole(60)),
                false,
                None
            ),
            Err(AssessmentError::TaskPointsWithProducts(1))
        );
        assert_eq!(
            Assessment::decide(vec![], Points::whole(25), None, false, None),
            Err(AssessmentError::TaskPointsMissing)
        );
        let a = Assessment::decide(
            vec![],
            Points::whole(25),
            Some(Points::whole(50)),
            false,
            Some(Rating::Completed),
        )
        .expect("computed");
        assert_eq!((a.ceiling, a.rating), (Rating::Good, Rating::Completed));
        let e = Assessment::decide(
            vec![],
            Points::whole(20),
            Some(Points::whole(50)),
            false,
            Some(Rating::Excellent),
        )
        .expect_err("above");
        assert_eq!(e.field(), "data.rating");
    }

    fn target(metric: &str, baseline: f64, target: f64) -> Target {
        Target {
            metric: slug(metric),
            label: RequiredText::new("x").expect("text"),
            baseline,
            target,
            unit: None,
            min: None,
            max: None,
        }
    }

    fn value(metric: &str, value: f64) -> MetricValue {
        MetricValue {
            metric: slug(metric),
            value,
        }
    }

    fn at(as_of: &str, position: u64) -> Reading {
        Reading {
            as_of: d(as_of),
            position,
        }
    }

    #[test]
    fn a_task_is_done_on_the_day_its_completion_first_reaches_100() {
        let mut t = DoneTracker::new(&[target("a", 0.0, 10.0), target("b", 5.0, 0.0)]);
        t.report(at("2026-02-01", 1), &[value("a", 10.0)], None);
        assert_eq!(t.done_on(), None, "b still at its baseline");
        t.report(at("2026-03-01", 2), &[value("b", 0.0)], None);
        assert_eq!(t.done_on(), Some(d("2026-03-01")));
        t.report(at("2026-04-01", 3), &[value("a", 3.0)], None);
        assert_eq!(t.done_on(), Some(d("2026-03-01")), "it stays done");
        // A late report about February completes b earlier.
        t.report(at("2026-02-15", 4), &[value("b", -1.0)], None);
        assert_eq!(t.done_on(), Some(d("2026-02-15")));
    }

    #[test]
    fn a_task_without_targets_is_done_by_its_reported_percentage() {
        let mut t = DoneTracker::new(&[]);
        t.report(at("2026-02-01", 1), &[], Some(60.0));
        t.report(at("2026-02-10", 2), &[], None);
        assert_eq!(t.done_on(), None);
        t.report(at("2026-03-01", 3), &[], Some(100.0));
        assert_eq!(t.done_on(), Some(d("2026-03-01")));
        // Same day, earlier in the log, lower: the later position is the latest.
        let mut t = DoneTracker::new(&[]);
        t.report(at("2026-03-01", 5), &[], Some(100.0));
        t.report(at("2026-03-01", 4), &[], Some(50.0));
        assert_eq!(t.done_on(), Some(d("2026-03-01")));
    }

    fn any_product() -> impl Strategy<Value = Product> {
        (
            proptest::option::of(0i64..120),
            0i64..90,
            0u32..6,
            prop::bool::ANY,
        )
            .prop_map(|(done, due, errors, milestone)| {
                let base = d("2026-01-01").days_since_epoch();
                Product::new(
                    slug("t"),
                    milestone.then(|| RequiredText::new("m").expect("text")),
                    Date::from_days_since_epoch(base + due),
                    done.map(|x| Date::from_days_since_epoch(base + x)),
                    errors,
                    d("2026-03-31"),
                )
            })
    }

    proptest! {
        #[test]
        fn task_points_lie_within_0_and_70_and_are_the_exact_rounding(
            products in prop::collection::vec(any_product(), 1..40)
        ) {
            let t = task_points(&products).expect("products").hundredths();
            prop_assert!((0..=7000).contains(&t));
            // Against rational arithmetic: T is the integer nearest to
            // 7000 × S / (12 n), ties up: (2T − 1)·b ≤ 2a < (2T + 1)·b.
            let s: i128 = products.iter().map(|p| i128::from(p.q.quarters() + p.l.quarters() + p.p.quarters())).sum();
            let (a, b) = (7000 * s, 12 * products.len() as i128);
            let t = i128::from(t);
            prop_assert!((2 * t - 1) * b <= 2 * a && 2 * a < (2 * t + 1) * b);
        }

        #[test]
        fn factors_lie_within_0_and_1_and_quality_and_progress_need_quantity(p in any_product()) {
            prop_assert!(p.q <= Factor::ONE && p.l <= Factor::ONE && p.p <= Factor::ONE);
            prop_assert!(p.l <= p.q && p.p <= p.q);
            prop_assert!(p.p == p.q || p.p == Factor::LATE);
        }

        #[test]
        fn the_ceiling_never_rises_with_a_lower_total_or_a_worse_product(
            products in prop::collection::vec(any_product(), 0..10),
            total in 0i64..10_000,
            less in 0i64..10_000,
            dq in prop::bool::ANY,
            worse in 0usize..10,
        ) {
            let (high, _) = ceiling(Points::from_hundredths(total), dq, &products);
            let (low, _) = ceiling(Points::from_hundredths((total - less).max(0)), dq, &products);
            prop_assert!(!low.is_above(high));
            let (with_dq, _) = ceiling(Points::from_hundredths(total), true, &products);
            prop_assert_eq!(with_dq, Rating::NotCompleted);
            prop_assert!(!high.is_above(Rating::for_score(Points::from_hundredths(total).as_f64())));
            if !products.is_empty() {
                let mut spoiled = products.clone();
                let i = worse % spoiled.len();
                spoiled[i] = product(None, 0);
                let (after, _) = ceiling(Points::from_hundredths(total), dq, &spoiled);
                prop_assert!(!after.is_above(high));
            }
        }

        #[test]
        fn points_read_back_what_they_write(h in -1_000_000_000i64..1_000_000_000) {
            let p = Points::from_hundredths(h);
            let json = serde_json::to_string(&p).expect("json");
            prop_assert_eq!(serde_json::from_str::<Points>(&json).expect("reads"), p);
            prop_assert_eq!(json, p.to_string());
        }

        #[test]
        fn done_on_does_not_depend_on_arrival_order(
            reports in prop::collection::vec((0i64..60, 0.0f64..=12.0), 1..12),
            seed in any::<u64>(),
        ) {
            let base = d("2026-01-01").days_since_epoch();
            let readings: Vec<(Reading, f64)> = reports.iter().enumerate().map(|(i, (day, v))| (
                Reading { as_of: Date::from_days_since_epoch(base + day), position: i as u64 + 1 },
                v.round(),
            )).collect();
            let mut in_order = readings.clone();
            in_order.sort_by_key(|r| r.0);
            let mut shuffled = readings.clone();
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let track = |rs: &[(Reading, f64)]| {
                let mut t = DoneTracker::new(&[target("a", 0.0, 10.0)]);
                for (r, v) in rs {
                    t.report(*r, &[value("a", *v)], None);
                }
                t.done_on()
            };
            let expected = in_order.iter().find(|(_, v)| *v >= 10.0).map(|(r, _)| r.as_of);
            prop_assert_eq!(track(&in_order), expected);
            prop_assert_eq!(track(&shuffled), expected);
            // A tracker that forgets its reports after each one, built
            // again from all of them when one comes out of order, finds
            // the same day at every step as one that keeps them.
            let mut keeping = DoneTracker::new(&[target("a", 0.0, 10.0)]);
            let mut forgetting = keeping.clone();
            forgetting.forget_reports();
            for (i, (r, v)) in shuffled.iter().enumerate() {
                prop_assert!(keeping.report(*r, &[value("a", *v)], None));
                if !forgetting.report(*r, &[value("a", *v)], None) {
                    forgetting = DoneTracker::new(&[target("a", 0.0, 10.0)]);
                    for (r, v) in &shuffled[..=i] {
                        prop_assert!(forgetting.report(*r, &[value("a", *v)], None));
                    }
                    forgetting.forget_reports();
                }
                prop_assert_eq!(forgetting.done_on(), keeping.done_on());
                prop_assert!(forgetting.reports.len() <= 1, "at most the last report kept");
            }
        }

        /// Reports of two targets, each giving any of them, in the
        /// targets' order or not, and maybe a percentage, in any order of
        /// arrival: the tracker's day is the first, in reading order, at
        /// which the latest values complete the task, as a plain fold over
        /// the sorted reports finds it.
        #[test]
        fn done_on_with_several_values_and_percentages_does_not_depend_on_arrival_order(
            reports in prop::collection::vec(
                (0i64..60, prop::option::of(0u8..=10), prop::option::of(0u8..=4),
                 prop::option::weighted(0.3, 0u8..=100), prop::bool::ANY),
                1..16,
            ),
            seed in any::<u64>(),
        ) {
            let base = d("2026-01-01").days_since_epoch();
            type Sent = (Reading, Vec<MetricValue>, Option<f64>);
            let sent: Vec<Sent> = reports.iter().enumerate().map(|(i, (day, a, b, p, reversed))| {
                let mut values = Vec::new();
                if let Some(a) = a { values.push(value("a", f64::from(*a))); }
                if let Some(b) = b { values.push(value("b", f64::from(*b))); }
                if *reversed { values.reverse(); }
                (
                    Reading { as_of: Date::from_days_since_epoch(base + day), position: i as u64 + 1 },
                    values,
                    p.map(f64::from),
                )
            }).collect();
            let targets = [target("a", 0.0, 10.0), target("b", 0.0, 4.0)];
            let mut sorted = sent.clone();
            sorted.sort_by_key(|r| r.0);
            let (mut a, mut b, mut percent, mut expected) = (None, None, None, None);
            for (reading, values, p) in &sorted {
                for v in values {
                    if v.metric.as_str() == "a" { a = Some(v.value); } else { b = Some(v.value); }
                }
                if p.is_some() { percent = *p; }
                let done = completion([(0.0, 10.0, a), (0.0, 4.0, b)], percent)
                    .is_some_and(|c| c >= 100.0);
                if done && expected.is_none() { expected = Some(reading.as_of); }
            }
            let mut shuffled = sent.clone();
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for order in [&sent, &sorted, &shuffled] {
                let mut t = DoneTracker::new(&targets);
                for (reading, values, p) in order {
                    t.report(*reading, values, *p);
                }
                prop_assert_eq!(t.done_on(), expected);
            }
        }
    }
}
