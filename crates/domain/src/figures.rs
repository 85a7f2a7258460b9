//! The figures leaders read, as pure functions: a task's completion, which
//! reported value is the latest, a set of tasks' mean completion, the
//! flags that depend on the clock (overdue, due soon, stale), the rating a
//! score earns, and the excellent quota. Read models compute what they
//! store and answer with these, and nothing else computes them.

use crate::{
    time::Date,
    vocabulary::{AlertKind, Rating, TaskStatus},
};

// ------------------------------------------------------------ completion

/// How far one target is: `clamp((latest - baseline) / (target - baseline),
/// 0, 1) * 100`, a target with nothing reported counting as its baseline
/// (CONTRACT.md). Works downwards too (`target` below `baseline`).
pub fn target_percent(baseline: f64, target: f64, latest: Option<f64>) -> f64 {
    let latest = latest.unwrap_or(baseline);
    if target == baseline {
        // The rules never accept such a target; answer without dividing by 0.
        return if latest == target { 100.0 } else { 0.0 };
    }
    ((latest - baseline) / (target - baseline)).clamp(0.0, 1.0) * 100.0
}

/// A task's completion, 0 to 100 (CONTRACT.md): the mean of
/// [`target_percent`] over its targets, given as `(baseline, target,
/// latest)`; or, for a task without targets, the latest reported
/// `percent_complete` (`None` until one is reported).
pub fn completion(
    targets: impl IntoIterator<Item = (f64, f64, Option<f64>)>,
    reported: Option<f64>,
) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for (baseline, target, latest) in targets {
        sum += target_percent(baseline, target, latest);
        n += 1;
    }
    if n == 0 {
        reported
    } else {
        Some(sum / f64::from(n))
    }
}

// ---------------------------------------------------------------- latest

/// Where a reported value stands among the others of its metric: the date
/// it describes (`as_of`) and the log position of its report.
///
/// **The latest value is the one with the greatest `as_of`; among reports
/// of the same `as_of`, the one later in the log.** Reports may arrive out
/// of order (a commune corrects March after reporting June), and the order
/// of `Reading`s is exactly this rule, so `max` is "latest" and sorting is
/// "oldest first".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reading {
    /// The date the value describes.
    pub as_of: Date,
    /// The log position of the report that carried it.
    pub position: u64,
}

impl Reading {
    /// Whether this reading replaces `other` as the latest.
    pub fn is_later_than(self, other: Reading) -> bool {
        self > other
    }
}

// ------------------------------------------------------------------ mean

/// A task's share in a mean completion: its completion when it counts (not
/// cancelled, with a completion), else `None`.
pub fn counts_in_mean(status: TaskStatus, percent: Option<f64>) -> Option<f64> {
    if status == TaskStatus::Cancelled {
        None
    } else {
        percent
    }
}

/// The mean completion of a set of tasks, given as `(status, completion)`:
/// the plain mean over the tasks that count ([`counts_in_mean`]); `None`
/// when none does. Floating-point sums depend on their order, so callers
/// pass tasks in a fixed order (by task id).
pub fn mean_completion(tasks: impl IntoIterator<Item = (TaskStatus, Option<f64>)>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u64);
    for (status, percent) in tasks {
        if let Some(p) = counts_in_mean(status, percent) {
            sum += p;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

// ------------------------------------------------------------- the clock

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// A task is due soon within this many days of its due date's end.
pub const DUE_SOON_DAYS: i64 = 14;
/// A task in progress with no check-in for this many days is stale.
pub const STALE_DAYS: i64 = 30;

/// A task's clock-dependent flags at `now_ms`, from its status, the end of
/// its due date in Vietnam (`Date::end_in_vietnam_millis`) and its last
/// check-in (or its creation, before one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// Due date passed, not evaluated or cancelled (CONTRACT.md).
    pub overdue: bool,
    /// Open, not overdue, due within [`DUE_SOON_DAYS`].
    pub due_soon: bool,
    /// Active with no check-in for [`STALE_DAYS`].
    pub stale: bool,
}

impl Flags {
    /// The flags at `now_ms`.
    pub fn at(status: TaskStatus, due_end_ms: i64, last_check_in_ms: i64, now_ms: i64) -> Flags {
        let overdue = status.is_open() && now_ms >= due_end_ms;
        Flags {
            overdue,
            due_soon: status.is_open() && !overdue && due_end_ms - now_ms <= DUE_SOON_DAYS * DAY_MS,
            stale: status.is_active() && now_ms - last_check_in_ms >= STALE_DAYS * DAY_MS,
        }
    }
}

/// Reminders warn of a due date (a task's or a milestone's) this many days
/// ahead: a week, as government task trackers do. The dashboard's `due_soon`
/// flag looks further ahead ([`DUE_SOON_DAYS`]) because a person scanning a
/// list wants more warning than a message pushed to them every day.
pub const REMINDER_DAYS: i64 = 7;

/// One reminder a task warrants at `now_ms`: its kind and, for
/// [`AlertKind::MilestoneDue`], the index of the milestone in the current
/// plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// What it warns of.
    pub kind: AlertKind,
    /// The milestone's index in the current plan's `milestones`.
    pub milestone: Option<usize>,
}

/// The reminders a task warrants at `now_ms`, from the same inputs as
/// [`Flags::at`] and the end (in Vietnam) of each open milestone's due date
/// in plan order (`None` for a milestone already completed): overdue (as
/// [`Flags::overdue`]), due soon (open, not overdue, due within
/// [`REMINDER_DAYS`]), no report (as [`Flags::stale`]), and each open
/// milestone due from today to [`REMINDER_DAYS`] ahead while the task is
/// open. Empty for a task that is done with (evaluated, cancelled).
pub fn reminders(
    status: TaskStatus,
    due_end_ms: i64,
    last_check_in_ms: i64,
    milestones_due_end_ms: &[Option<i64>],
    now_ms: i64,
) -> Vec<Reminder> {
    let flags = Flags::at(status, due_end_ms, last_check_in_ms, now_ms);
    let soon = |end_ms: i64| end_ms > now_ms && end_ms - now_ms <= REMINDER_DAYS * DAY_MS;
    let mut out = Vec::new();
    let mut push = |kind, milestone| out.push(Reminder { kind, milestone });
    if flags.overdue {
        push(AlertKind::Overdue, None);
    } else if status.is_open() && soon(due_end_ms) {
        push(AlertKind::DueSoon, None);
    }
    if flags.stale {
        push(AlertKind::NoReport, None);
    }
    if status.is_open() {
        for (i, end) in milestones_due_end_ms.iter().enumerate() {
            if end.is_some_and(soon) {
                push(AlertKind::MilestoneDue, Some(i));
            }
        }
    }
    out
}

/// Whole days left before the due date ends, at `now_ms`: 0 on the due day
/// itself (Vietnam time), 1 the day before; once it has passed, minus the
/// days late (-1 on the day after).
pub fn days_left(due_end_ms: i64, now_ms: i64) -> i64 {
    (due_end_ms - now_ms - 1).div_euclid(DAY_MS)
}

// --------------------------------------------------------------- ratings

impl Rating {
    /// The rating a 100-point score earns: at least 90 excellent, 70 to
    /// under 90 good, 50 to under 70 completed, under 50 not completed
    /// (Quy định 366-QĐ/TW, Decree 335/2025/NĐ-CP). Evaluations get their
    /// rating through [`evaluation_rating`], the one place that applies it.
    pub fn for_score(score: f64) -> Rating {
        if score >= 90.0 {
            Rating::Excellent
        } else if score >= 70.0 {
            Rating::Good
        } else if score >= 50.0 {
            Rating::Completed
        } else {
            Rating::NotCompleted
        }
    }
}

/// The rating an evaluation gives: the one stated, else the one its score
/// earns by the bands of [`Rating`]'s 100-point frameworks; `Ok(None)` when
/// it gives neither. `Err(earned)` when both are given and the score earns
/// another rating.
pub fn evaluation_rating(
    rating: Option<Rating>,
    score: Option<f64>,
) -> Result<Option<Rating>, Rating> {
    let earned = score.map(Rating::for_score);
    match (rating, earned) {
        (Some(r), Some(e)) if r != e => Err(e),
        (Some(r), _) => Ok(Some(r)),
        (None, e) => Ok(e),
    }
}

// ----------------------------------------------------------------- quota

/// Those rated excellent may be at most this percentage of those rated good
/// in the same body: Decree 335/2025/NĐ-CP (in force 1 January 2026), on
/// the rating levels of civil servants: "không vượt quá 20% tổng số công
/// chức được xếp loại Hoàn thành tốt nhiệm vụ trong phạm vi cùng một cơ
/// quan, tổ chức, đơn vị", and Regulation 366-QĐ/TW (2025) for cadres.
pub const EXCELLENT_QUOTA_PERCENT: u64 = 20;

/// The ratings counted against the excellent quota in one body (CONTRACT
/// part A: the evaluating body, the envelope `unit` of the evaluation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuotaTally {
    /// Rated excellent.
    pub excellent: u64,
    /// Rated good.
    pub good: u64,
}

impl QuotaTally {
    /// Counts one rating (only excellent and good count).
    pub fn add(&mut self, rating: Rating) {
        match rating {
            Rating::Excellent => self.excellent += 1,
            Rating::Good => self.good += 1,
            Rating::Completed | Rating::NotCompleted => {}
        }
    }

    /// The most excellent ratings the quota allows beside `good` good ones:
    /// [`EXCELLENT_QUOTA_PERCENT`] of them, rounded down.
    pub fn limit(&self) -> u64 {
        self.good * EXCELLENT_QUOTA_PERCENT / 100
    }

    /// Whether excellent ratings exceed the quota (exact: no floating point).
    pub fn exceeded(&self) -> bool {
        self.excellent * 100 > self.good * EXCELLENT_QUOTA_PERCENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_warn_a_week_ahead_once_overdue_and_of_silence() {
        let due = 100 * DAY_MS;
        let r = |status, now, last, milestones: &[Option<i64>]| {
            reminders(status, due, last, milestones, now)
                .into_iter()
                .map(|r| (r.kind, r.milestone))
                .collect::<Vec<_>>()
        };
        // Eight days ahead: nothing; seven: due soon (the dashboard's flag
        // already shows at fourteen).
        assert_eq!(
            r(TaskStatus::Planned, due - 8 * DAY_MS, due - DAY_MS * 8, &[]),
            []
        );
        assert!(Flags::at(TaskStatus::Planned, due, due, due - 8 * DAY_MS).due_soon);
        assert_eq!(
            r(TaskStatus::Planned, due - 7 * DAY_MS, due - 7 * DAY_MS, &[]),
            [(AlertKind::DueSoon, None)]
        );
        // From the end of the due date on: overdue, never also due soon.
        assert_eq!(
            r(TaskStatus::InProgress, due, due, &[]),
            [(AlertKind::Overdue, None)]
        );
        // Thirty days without a report while in progress.
        assert_eq!(
            r(
                TaskStatus::InProgress,
                due - 20 * DAY_MS,
                due - 50 * DAY_MS,
                &[]
            ),
            [(AlertKind::NoReport, None)]
        );
        // Open milestones due within the week, by their index; a completed
        // one (None) and a passed one are not reminded of.
        let now = due - 30 * DAY_MS;
        assert_eq!(
            r(
                TaskStatus::InProgress,
                now,
                now,
                &[
                    Some(now - DAY_MS),
                    None,
                    Some(now + 3 * DAY_MS),
                    Some(now + 9 * DAY_MS)
                ]
            ),
            [(AlertKind::MilestoneDue, Some(2))]
        );
        // A task done with warrants nothing.
        assert_eq!(
            r(
                TaskStatus::Evaluated,
                due + DAY_MS,
                0,
                &[Some(due + DAY_MS * 2)]
            ),
            []
        );
        assert_eq!(r(TaskStatus::Cancelled, due - DAY_MS, 0, &[]), []);
    }

    #[test]
    fn from_388_to_400_with_394_reported_is_half_way() {
        assert_eq!(completion([(388.0, 400.0, Some(394.0))], None), Some(50.0));
    }

    #[test]
    fn completion_is_clamped_and_averaged_and_works_downwards() {
        assert_eq!(
            completion([(0.0, 10.0, Some(20.0)), (0.0, 10.0, Some(-5.0))], None),
            Some(50.0)
        );
        assert_eq!(completion([(12.0, 0.0, Some(3.0))], None), Some(75.0));
        assert_eq!(completion([(5.0, 10.0, None)], Some(90.0)), Some(0.0));
        assert_eq!(completion([], Some(42.0)), Some(42.0));
        assert_eq!(completion([], None), None);
    }

    #[test]
    fn the_latest_reading_has_the_greatest_as_of_then_the_later_position() {
        let d = |t| Date::parse(t).expect("date");
        let june = Reading {
            as_of: d("2021-06-30"),
            position: 10,
        };
        let march_late = Reading {
            as_of: d("2021-03-31"),
            position: 20,
        };
        let june_again = Reading {
            as_of: d("2021-06-30"),
            position: 30,
        };
        assert!(
            june.is_later_than(march_late),
            "a later date wins over a later arrival"
        );
        assert!(
            june_again.is_later_than(june),
            "a tie goes to the later position"
        );
        let mut all = [june_again, march_late, june];
        all.sort();
        assert_eq!(all, [march_late, june, june_again]);
    }

    #[test]
    fn the_mean_leaves_out_cancelled_tasks_and_tasks_without_a_completion() {
        use TaskStatus::*;
        // One unit: a task at 100% and three cancelled; another: two at 0%.
        let tasks = [
            (Evaluated, Some(100.0)),
            (Cancelled, Some(0.0)),
            (Cancelled, Some(10.0)),
            (Cancelled, None),
            (InProgress, Some(0.0)),
            (Planned, Some(0.0)),
            (Assigned, None),
        ];
        let mean = mean_completion(tasks).expect("a mean");
        assert!((mean - 100.0 / 3.0).abs() < 1e-9, "{mean}");
        assert_eq!(mean_completion([(Cancelled, Some(50.0))]), None);
    }

    #[test]
    fn a_score_earns_its_band_and_a_stated_rating_must_agree() {
        let r = |s| evaluation_rating(None, Some(s)).expect("agrees");
        assert_eq!(r(90.0), Some(Rating::Excellent));
        assert_eq!(r(89.99), Some(Rating::Good));
        assert_eq!(r(70.0), Some(Rating::Good));
        assert_eq!(r(69.9), Some(Rating::Completed));
        assert_eq!(r(50.0), Some(Rating::Completed));
        assert_eq!(r(49.0), Some(Rating::NotCompleted));
        assert_eq!(
            evaluation_rating(Some(Rating::Good), None),
            Ok(Some(Rating::Good))
        );
        assert_eq!(evaluation_rating(None, None), Ok(None));
        assert_eq!(
            evaluation_rating(Some(Rating::Excellent), Some(75.0)),
            Err(Rating::Good)
        );
    }

    #[test]
    fn the_quota_allows_a_fifth_of_the_good_ones() {
        let tally = |excellent, good| QuotaTally { excellent, good };
        assert!(!tally(1, 5).exceeded());
        assert_eq!(tally(1, 5).limit(), 1);
        assert!(tally(1, 4).exceeded());
        assert!(tally(1, 2).exceeded());
        assert!(tally(1, 0).exceeded());
        assert!(!tally(0, 0).exceeded());
        assert!(tally(2, 7).exceeded(), "2 > 1.4");
        assert_eq!(tally(2, 7).limit(), 1);
        let mut t = QuotaTally::default();
        for r in [
            Rating::Excellent,
            Rating::Good,
            Rating::Completed,
            Rating::Good,
        ] {
            t.add(r);
        }
        assert_eq!(t, tally(1, 2));
    }

    #[test]
    fn flags_follow_the_clock_in_vietnam() {
        let due = Date::parse("2021-06-30")
            .expect("date")
            .end_in_vietnam_millis();
        let f = |status, now| Flags::at(status, due, due - 40 * DAY_MS, now);
        assert!(!f(TaskStatus::Planned, due - 1).overdue);
        assert!(f(TaskStatus::Planned, due - 1).due_soon);
        assert!(f(TaskStatus::Planned, due).overdue);
        assert!(!f(TaskStatus::Evaluated, due).overdue);
        assert!(f(TaskStatus::InProgress, due).stale);
        assert!(!f(TaskStatus::Registered, due).stale);
        assert!(!f(TaskStatus::Planned, due - 15 * DAY_MS).due_soon);
    }

    #[test]
    fn days_left_counts_whole_days_to_the_end_of_the_due_date() {
        let due = Date::parse("2021-06-30")
            .expect("date")
            .end_in_vietnam_millis();
        assert_eq!(days_left(due, due - 1), 0, "the due day itself");
        assert_eq!(days_left(due, due - DAY_MS), 0, "its first instant");
        assert_eq!(days_left(due, due - DAY_MS - 1), 1, "the day before");
        assert_eq!(days_left(due, due), -1, "the day after");
        assert_eq!(days_left(due, due + DAY_MS - 1), -1);
        assert_eq!(days_left(due, due + DAY_MS), -2);
    }
}
