//! Evaluation by period (CONTRACT part A) as read models: periods, each
//! cadre's assessment with its products, and the excellent quota per
//! evaluating body and peer group.
//!
//! Every figure is `dotpha_domain::evaluation`'s: a decided assessment
//! shows what its event carries (the writer computed it), with the
//! ceiling's reason from [`ceiling`]; a cadre not yet decided shows the
//! products as the log stands now, from [`products_in`] over the tasks the
//! cadre carries, each done on the day [`DoneTracker`] finds; the quota is
//! [`quota_groups`]. Nothing here re-spells a rule in SQL: the tables hold
//! inputs, and the domain's functions compute.

use std::collections::{BTreeMap, HashMap, HashSet};

use dotpha_domain::{
    Date, Event, Slug,
    evaluation::{
        DoneTracker, MilestoneWork, Points, Product, TaskWork, ceiling, products_in, quota_groups,
    },
    figures::Reading,
    payload::{
        AssessmentDecided, AssessmentSelfSubmitted, MetricValue, MilestoneCompleted, PeriodClosed,
        PeriodOpened, ProductReviewed, ProgressReported,
    },
    text::{collate, fold},
    values::RequiredText,
    vocabulary::{ProductStatus, Rating},
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{ReadModel, ViewError, apply::Done, query::Tree};

// ------------------------------------------------------------------ apply

pub(crate) fn period_opened(tx: &Connection, p: &PeriodOpened) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO periods (id, kind, starts_on, ends_on) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        p.period.as_str(),
        p.kind.as_str(),
        p.starts_on.to_string(),
        p.ends_on.to_string()
    ])?;
    Ok(())
}

pub(crate) fn period_closed(tx: &Connection, p: &PeriodClosed) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE periods SET closed = 1 WHERE id = ?1")?
        .execute([p.period.as_str()])?;
    Ok(())
}

pub(crate) fn milestone_completed(tx: &Connection, p: &MilestoneCompleted) -> rusqlite::Result<()> {
    // The first completion counts (the rules refuse a second one).
    tx.prepare_cached(
        "INSERT OR IGNORE INTO milestone_completions (task_id, title, completed_on) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        p.task_id.as_str(),
        p.milestone.as_str(),
        p.completed_on.to_string()
    ])?;
    Ok(())
}

/// The `milestone` key of the task's own review: a title is never blank.
const TASK_ITSELF: &str = "";

pub(crate) fn product_reviewed(tx: &Connection, p: &ProductReviewed) -> rusqlite::Result<()> {
    // The latest review of a product counts.
    tx.prepare_cached(
        "INSERT INTO reviews (task_id, milestone, major_errors) VALUES (?1, ?2, ?3)
         ON CONFLICT (task_id, milestone) DO UPDATE SET major_errors = excluded.major_errors",
    )?
    .execute(params![
        p.task_id.as_str(),
        p.milestone.as_deref().unwrap_or(TASK_ITSELF),
        p.major_errors
    ])?;
    Ok(())
}

/// Records a report and keeps the day the task was done.
///
/// The task at `slot` (none for a task the read model does not hold)
/// keeps a [`DoneTracker`] that forgot its reports
/// ([`DoneTracker::forget_reports`]): a report in order (the usual case)
/// folds into it at constant cost. The first report of a task since the
/// cache was emptied, and a report out of order, build its tracker again
/// from the task's stored reports (this one included), which is what the
/// day always is: the domain's rule over every report of the task.
pub(crate) fn progress_reported(
    tx: &Connection,
    cache: &mut crate::apply::Cache,
    slot: Option<crate::apply::Slot>,
    p: &ProgressReported,
    this: Reading,
) -> rusqlite::Result<()> {
    let task = p.task_id.as_str();
    let Some(slot) = slot else {
        // A task the read model does not hold: nothing to keep.
        return Ok(());
    };
    let task_no = cache.inputs(slot).task_no;
    cache
        .pending
        .report(task_no, this, p.percent_complete, &p.values);
    let (before, taken) = match &mut cache.inputs(slot).done {
        Done::Tracked(tracker) => {
            let before = tracker.done_on();
            (before, tracker.report(this, &p.values, p.percent_complete))
        }
        Done::Stored(stored) => (*stored, false),
    };
    let after = if taken {
        match &cache.inputs(slot).done {
            Done::Tracked(tracker) => tracker.done_on(),
            Done::Stored(stored) => *stored,
        }
    } else {
        cache.pending.write(tx)?;
        let tracker = replay(tx, task, task_no)?;
        let after = tracker.done_on();
        cache.inputs(slot).done = Done::Tracked(tracker);
        after
    };
    if before != after {
        tx.prepare_cached("UPDATE tasks SET done_on = ?2 WHERE task_no = ?1")?
            .execute(params![task_no, after.map(|d| d.to_string())])?;
    }
    Ok(())
}

/// A task's [`DoneTracker`] from its stored targets and every stored
/// report (of `task_no`, its number), in [`Reading`] order; returned
/// having forgotten them.
fn replay(tx: &Connection, task: &str, task_no: i64) -> rusqlite::Result<DoneTracker> {
    let targets: Vec<(Slug, f64, f64)> = tx
        .prepare_cached(
            "SELECT metric, baseline, target FROM targets WHERE task_id = ?1 ORDER BY ord",
        )?
        .query_map([task], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })?
        .filter_map(|row| match row {
            Ok((metric, baseline, target)) => {
                Slug::parse(&metric).map(|m| Ok((m, baseline, target)))
            }
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    let mut tracker = DoneTracker::for_targets(targets);
    let reports: Vec<(u64, String, Option<f64>, String)> = tx
        .prepare_cached(
            "SELECT position, as_of, percent, vals FROM reports WHERE task_no = ?1 ORDER BY as_of, position",
        )?
        .query_map([task_no], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (position, as_of, percent, values) in reports {
        let Some(as_of) = Date::parse(&as_of) else {
            continue;
        };
        let reported: Vec<MetricValue> = crate::apply::values_from_json(&values)
            .into_iter()
            .filter_map(|(metric, value)| {
                Slug::parse(&metric).map(|metric| MetricValue { metric, value })
            })
            .collect();
        // In order, to a tracker that keeps its reports: always taken.
        tracker.report(Reading { as_of, position }, &reported, percent);
    }
    tracker.forget_reports();
    Ok(tracker)
}

pub(crate) fn self_assessed(
    tx: &Connection,
    p: &AssessmentSelfSubmitted,
    event: &Event,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO assessments (period, cadre, self_points, self_note, version) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (period, cadre) DO UPDATE SET self_points = excluded.self_points,
             self_note = excluded.self_note, version = excluded.version",
    )?
    .execute(params![
        p.period.as_str(),
        event.actor.as_str(),
        p.general_points.hundredths(),
        p.note.as_deref(),
        event.version
    ])?;
    Ok(())
}

pub(crate) fn decided(
    tx: &Connection,
    p: &AssessmentDecided,
    event: &Event,
    recorded: &crate::Decoded<'_>,
) -> Result<(), ViewError> {
    let products = p.products.clone().unwrap_or_default();
    let reason = p
        .total
        .and_then(|total| ceiling(total, p.disqualified.is_some(), &products).1);
    let products = serde_json::to_string(&products).map_err(|e| ViewError::Undecodable {
        position: recorded.position,
        reason: e.to_string(),
    })?;
    tx.prepare_cached(
        "INSERT INTO assessments (period, cadre, evaluating_unit, peer_group, general_points,
             task_points, total, ceiling, ceiling_reason, rating, disqualified, comment, products,
             decided_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (period, cadre) DO UPDATE SET evaluating_unit = excluded.evaluating_unit,
             peer_group = excluded.peer_group, general_points = excluded.general_points,
             task_points = excluded.task_points, total = excluded.total,
             ceiling = excluded.ceiling, ceiling_reason = excluded.ceiling_reason,
             rating = excluded.rating, disqualified = excluded.disqualified,
             comment = excluded.comment, products = excluded.products,
             decided_at = excluded.decided_at, version = excluded.version",
    )?
    .execute(params![
        p.period.as_str(),
        p.cadre.as_str(),
        event.unit.as_str(),
        p.peer_group.as_str(),
        p.general_points.hundredths(),
        p.task_points.map(Points::hundredths),
        p.total.map(Points::hundredths),
        p.ceiling.map(Rating::as_str),
        reason.map(|r| r.as_str()),
        p.rating.map(Rating::as_str),
        p.disqualified.map(|d| d.as_str()),
        p.comment.as_deref(),
        products,
        recorded.occurred_at,
        event.version
    ])?;
    Ok(())
}

// ---------------------------------------------------------------- answers

/// An evaluation period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodView {
    /// Its id, e.g. "2026-q1".
    pub period: String,
    /// month, quarter or year.
    pub kind: String,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: String,
    /// Closed: it takes no more assessments.
    pub closed: bool,
}

/// A product as an assessment shows it: the domain's product (task,
/// milestone, due, done_on, q, l, p) with the task's title and whether it
/// was on time, late or not done.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProductLine {
    /// The product and its factors.
    #[serde(flatten)]
    pub product: Product,
    /// The task's title.
    pub title: String,
    /// on_time, late or not_done ([`Product::status`]).
    pub status: ProductStatus,
}

/// One cadre's assessment in one period. Members the committee has not
/// decided yet are null; `products` are then the cadre's products as the
/// log stands now, and once decided, the ones the decision was made on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssessmentLine {
    /// The period.
    pub period: String,
    /// The cadre's id.
    pub cadre: String,
    /// Full name.
    pub full_name: String,
    /// Position (chức vụ).
    pub position: String,
    /// The cadre's unit.
    pub unit: String,
    /// That unit's name.
    pub unit_name: String,
    /// The evaluating body (the decision's envelope `unit`).
    pub evaluating_unit: Option<String>,
    /// Its name.
    pub evaluating_unit_name: Option<String>,
    /// The peer group.
    pub peer_group: Option<String>,
    /// The cadre's own general points (tự chấm).
    pub self_points: Option<Points>,
    /// The committee's general points.
    pub general_points: Option<Points>,
    /// Task points.
    pub task_points: Option<Points>,
    /// General + task points.
    pub total: Option<Points>,
    /// The highest rating allowed.
    pub ceiling: Option<Rating>,
    /// Why the ceiling is below the total's band, when it is.
    pub ceiling_reason: Option<String>,
    /// The rating.
    pub rating: Option<Rating>,
    /// Why the cadre is not completed whatever the score, when set.
    pub disqualified: Option<String>,
    /// The committee's comment.
    pub comment: Option<String>,
    /// Whether the decision's group (evaluating body and peer group) has
    /// more excellent ratings than the quota allows.
    pub quota_exceeded: bool,
    /// The products.
    pub products: Vec<ProductLine>,
    /// How many are done (q = 1).
    pub products_done: u64,
    /// How many were done on time (p = 1).
    pub products_on_time: u64,
    /// The self-assessment's note.
    pub self_note: Option<String>,
}

/// One group of the excellent quota: an evaluating body and a peer group
/// in a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuotaGroup {
    /// The evaluating body.
    pub evaluating_unit: String,
    /// Its name.
    pub evaluating_unit_name: String,
    /// The peer group.
    pub peer_group: String,
    /// Rated excellent.
    pub excellent: u64,
    /// Rated good.
    pub good: u64,
    /// The most excellent ratings the quota allows.
    pub limit: u64,
    /// Whether excellent ratings exceed it.
    pub exceeded: bool,
}

/// Filters of a period's assessments; every one optional.
#[derive(Clone, Debug, Default)]
pub struct AssessmentFilter {
    /// Only cadres whose unit lies within this one.
    pub unit: Option<String>,
    /// Only cadres decided in this peer group.
    pub peer_group: Option<String>,
    /// Words that must all appear in the cadre's id, name, position or
    /// unit's name, regardless of case and diacritics.
    pub q: Option<String>,
    /// Which tree `unit` follows.
    pub tree: Tree,
}

/// A decided or self-submitted assessment as stored.
struct Row {
    cadre: String,
    self_points: Option<i64>,
    self_note: Option<String>,
    evaluating_unit: Option<String>,
    peer_group: Option<String>,
    general_points: Option<i64>,
    task_points: Option<i64>,
    total: Option<i64>,
    ceiling: Option<String>,
    ceiling_reason: Option<String>,
    rating: Option<String>,
    disqualified: Option<String>,
    comment: Option<String>,
    products: Option<String>,
}

/// A task as the products rule reads it, owned.
struct Work {
    task_id: Slug,
    assignee: String,
    title: String,
    due: Date,
    done_on: Option<Date>,
    milestones: Vec<(RequiredText, Date)>,
}

impl ReadModel {
    /// Every period, newest first: by end date, and of two ending together
    /// the longer first (the year before its last quarter).
    pub fn periods(&self) -> Result<Vec<PeriodView>, ViewError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT id, kind, starts_on, ends_on, closed FROM periods
             ORDER BY ends_on DESC, starts_on, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PeriodView {
                period: r.get(0)?,
                kind: r.get(1)?,
                starts_on: r.get(2)?,
                ends_on: r.get(3)?,
                closed: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One period.
    pub fn period(&self, id: &str) -> Result<Option<PeriodView>, ViewError> {
        Ok(self.periods()?.into_iter().find(|p| p.period == id))
    }

    /// The assessments of `period` (`None`: no such period): every cadre
    /// with a product or an assessment in it, units, then cadres, in Vietnamese order of their names.
    pub fn assessments(
        &self,
        period: &str,
        filter: &AssessmentFilter,
        now_ms: i64,
    ) -> Result<Option<Vec<AssessmentLine>>, ViewError> {
        let Some(view) = self.period(period)? else {
            return Ok(None);
        };
        // The cadres of the unit's subtree, found before any line is built,
        // so a commune's sheet costs what its own cadres cost.
        let among: Option<HashSet<String>> = match &filter.unit {
            Some(unit) => {
                let within = self.subtree(unit, filter.tree, now_ms)?;
                Some(
                    self.cadre_units()?
                        .into_iter()
                        .filter(|(_, unit)| within.contains(unit))
                        .map(|(cadre, _)| cadre)
                        .collect(),
                )
            }
            None => None,
        };
        let live = self.live_products(&view, None, among.as_ref())?;
        let rows = self.rows(period, None)?;
        let quota = self.quota_of(&rows);
        let mut cadres: Vec<String> = rows
            .keys()
            .filter(|c| among.as_ref().is_none_or(|set| set.contains(*c)))
            .cloned()
            .collect();
        cadres.extend(live.keys().filter(|c| !rows.contains_key(*c)).cloned());
        if let Some(group) = &filter.peer_group {
            // Only decided cadres have a peer group.
            cadres.retain(|c| rows.get(c).and_then(|r| r.peer_group.as_ref()) == Some(group));
        }
        let words: Vec<String> = filter
            .q
            .as_deref()
            .map(|q| {
                fold(q)
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut lines = Vec::new();
        for cadre in cadres {
            let line = self.line(&view, &cadre, rows.get(&cadre), &live, &quota)?;
            if !words.is_empty() {
                let text = fold(&format!(
                    "{} | {} | {} | {}",
                    line.cadre, line.full_name, line.position, line.unit_name
                ));
                if !words.iter().all(|w| text.contains(w.as_str())) {
                    continue;
                }
            }
            lines.push(line);
        }
        // Units, then cadres, in Vietnamese order of their names.
        lines.sort_by(|a, b| {
            collate(&a.unit_name, &b.unit_name)
                .then_with(|| a.unit.cmp(&b.unit))
                .then_with(|| collate(&a.full_name, &b.full_name))
                .then_with(|| a.cadre.cmp(&b.cadre))
        });
        Ok(Some(lines))
    }

    /// A cadre's assessments over every period in which they have a
    /// product or an assessment, newest period first (`None`: no such
    /// cadre).
    pub fn cadre_assessments(&self, cadre: &str) -> Result<Option<Vec<AssessmentLine>>, ViewError> {
        if self.cadre_row(cadre)?.is_none() {
            return Ok(None);
        }
        let mut lines = Vec::new();
        for view in self.periods()? {
            let live = self.live_products(&view, Some(cadre), None)?;
            let rows = self.rows(&view.period, Some(cadre))?;
            if !rows.contains_key(cadre) && !live.contains_key(cadre) {
                continue;
            }
            let quota = self.quota_of(&self.rows(&view.period, None)?);
            lines.push(self.line(&view, cadre, rows.get(cadre), &live, &quota)?);
        }
        Ok(Some(lines))
    }

    /// The excellent quota of `period` per evaluating body and peer group
    /// (`None`: no such period), by body and group.
    pub fn quota(&self, period: &str) -> Result<Option<Vec<QuotaGroup>>, ViewError> {
        if self.period(period)?.is_none() {
            return Ok(None);
        }
        let rows = self.rows(period, None)?;
        let mut groups = Vec::new();
        for ((unit, group), tally) in self.quota_of(&rows) {
            groups.push(QuotaGroup {
                evaluating_unit_name: self.unit_name(&unit)?,
                evaluating_unit: unit,
                peer_group: group,
                excellent: tally.excellent,
                good: tally.good,
                limit: tally.limit(),
                exceeded: tally.exceeded(),
            });
        }
        Ok(Some(groups))
    }

    fn quota_of(
        &self,
        rows: &BTreeMap<String, Row>,
    ) -> BTreeMap<(String, String), dotpha_domain::figures::QuotaTally> {
        quota_groups(rows.values().filter_map(|r| {
            Some((
                r.evaluating_unit.clone()?,
                r.peer_group.clone()?,
                Rating::parse(r.rating.as_deref()?)?,
            ))
        }))
    }

    fn unit_name(&self, code: &str) -> Result<String, ViewError> {
        Ok(self
            .connection()
            .prepare_cached("SELECT name FROM units WHERE code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| code.to_owned()))
    }

    /// Every cadre's unit, by cadre id.
    fn cadre_units(&self) -> Result<HashMap<String, String>, ViewError> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT id, unit FROM cadres")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (full name, position, unit) of a cadre.
    fn cadre_row(&self, id: &str) -> Result<Option<(String, String, String)>, ViewError> {
        Ok(self
            .connection()
            .prepare_cached("SELECT full_name, position, unit FROM cadres WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
    }

    fn rows(&self, period: &str, cadre: Option<&str>) -> Result<BTreeMap<String, Row>, ViewError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT cadre, self_points, self_note, evaluating_unit, peer_group, general_points,
                    task_points, total, ceiling, ceiling_reason, rating, disqualified, comment, products
             FROM assessments WHERE period = ?1 AND (?2 IS NULL OR cadre = ?2)",
        )?;
        let rows = stmt.query_map(params![period, cadre], |r| {
            Ok(Row {
                cadre: r.get(0)?,
                self_points: r.get(1)?,
                self_note: r.get(2)?,
                evaluating_unit: r.get(3)?,
                peer_group: r.get(4)?,
                general_points: r.get(5)?,
                task_points: r.get(6)?,
                total: r.get(7)?,
                ceiling: r.get(8)?,
                ceiling_reason: r.get(9)?,
                rating: r.get(10)?,
                disqualified: r.get(11)?,
                comment: r.get(12)?,
                products: r.get(13)?,
            })
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.cadre.clone(), row);
        }
        Ok(out)
    }

    /// Every cadre's products in `period` as the log stands now (only
    /// `cadre`'s when given, only those `among` a set when given), from the
    /// tasks each carries that are not cancelled, by task id
    /// ([`products_in`]); with each task's title.
    fn live_products(
        &self,
        period: &PeriodView,
        cadre: Option<&str>,
        among: Option<&HashSet<String>>,
    ) -> Result<HashMap<String, Vec<(Product, String)>>, ViewError> {
        let (Some(starts_on), Some(ends_on)) =
            (Date::parse(&period.starts_on), Date::parse(&period.ends_on))
        else {
            return Ok(HashMap::new());
        };
        let conn = self.connection();
        let mut stmt = conn.prepare_cached(
            "SELECT task_id, assignee, title, due, done_on, plan FROM tasks
             WHERE status != 'cancelled' AND (?1 IS NULL OR assignee = ?1) ORDER BY task_id",
        )?;
        let mut works = Vec::new();
        let mut rows = stmt.query(params![cadre])?;
        while let Some(r) = rows.next()? {
            let assignee: String = r.get(1)?;
            if among.is_some_and(|set| !set.contains(&assignee)) {
                continue;
            }
            let (Some(task_id), Some(due)) = (
                Slug::parse(&r.get::<_, String>(0)?),
                Date::parse(&r.get::<_, String>(3)?),
            ) else {
                continue;
            };
            let plan: Option<String> = r.get(5)?;
            let milestones = plan
                .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
                .and_then(|p| p["milestones"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|m| {
                    Some((
                        RequiredText::new(m["title"].as_str()?)?,
                        Date::parse(m["due"].as_str()?)?,
                    ))
                })
                .collect();
            works.push(Work {
                task_id,
                assignee,
                title: r.get(2)?,
                due,
                done_on: r.get::<_, Option<String>>(4)?.and_then(|d| Date::parse(&d)),
                milestones,
            });
        }
        let mut completions: HashMap<(String, String), Date> = HashMap::new();
        let mut reviews: HashMap<(String, String), u32> = HashMap::new();
        let ids: HashSet<&str> = works.iter().map(|w| w.task_id.as_str()).collect();
        {
            let mut stmt = conn
                .prepare_cached("SELECT task_id, title, completed_on FROM milestone_completions")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let task: String = r.get(0)?;
                if !ids.contains(task.as_str()) {
                    continue;
                }
                if let Some(on) = Date::parse(&r.get::<_, String>(2)?) {
                    completions.insert((task, r.get(1)?), on);
                }
            }
            let mut stmt =
                conn.prepare_cached("SELECT task_id, milestone, major_errors FROM reviews")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let task: String = r.get(0)?;
                if ids.contains(task.as_str()) {
                    reviews.insert((task, r.get(1)?), r.get(2)?);
                }
            }
        }
        let mut by_cadre: BTreeMap<&str, Vec<&Work>> = BTreeMap::new();
        for w in &works {
            by_cadre.entry(w.assignee.as_str()).or_default().push(w);
        }
        let mut out = HashMap::new();
        for (assignee, tasks) in by_cadre {
            let titles: HashMap<&str, &str> = tasks
                .iter()
                .map(|w| (w.task_id.as_str(), w.title.as_str()))
                .collect();
            let products = products_in(
                starts_on,
                ends_on,
                tasks.iter().map(|w| {
                    let key = |m: &str| (w.task_id.to_string(), m.to_owned());
                    TaskWork {
                        task_id: &w.task_id,
                        due: w.due,
                        done_on: w.done_on,
                        major_errors: reviews.get(&key(TASK_ITSELF)).copied().unwrap_or(0),
                        milestones: w
                            .milestones
                            .iter()
                            .map(|(title, due)| MilestoneWork {
                                title,
                                due: *due,
                                done_on: completions.get(&key(title)).copied(),
                                major_errors: reviews.get(&key(title)).copied().unwrap_or(0),
                            })
                            .collect(),
                    }
                }),
            );
            if products.is_empty() {
                continue;
            }
            let products = products
                .into_iter()
                .map(|p| {
                    let title = titles.get(p.task_id.as_str()).copied().unwrap_or_default();
                    (p, title.to_owned())
                })
                .collect();
            out.insert(assignee.to_owned(), products);
        }
        Ok(out)
    }

    fn task_title(&self, task_id: &str) -> Result<String, ViewError> {
        Ok(self
            .connection()
            .prepare_cached("SELECT title FROM tasks WHERE task_id = ?1")?
            .query_row([task_id], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    }

    fn line(
        &self,
        period: &PeriodView,
        cadre: &str,
        row: Option<&Row>,
        live: &HashMap<String, Vec<(Product, String)>>,
        quota: &BTreeMap<(String, String), dotpha_domain::figures::QuotaTally>,
    ) -> Result<AssessmentLine, ViewError> {
        let (full_name, position, unit) = self
            .cadre_row(cadre)?
            .unwrap_or_else(|| (cadre.to_owned(), String::new(), String::new()));
        let decided = row.and_then(|r| r.products.as_deref());
        let products: Vec<(Product, String)> = match decided {
            Some(json) => {
                let products: Vec<Product> =
                    serde_json::from_str(json).map_err(|e| ViewError::Undecodable {
                        position: 0,
                        reason: format!("products of {cadre} in {}: {e}", period.period),
                    })?;
                let mut out = Vec::with_capacity(products.len());
                for p in products {
                    let title = self.task_title(&p.task_id)?;
                    out.push((p, title));
                }
                out
            }
            None => live.get(cadre).cloned().unwrap_or_default(),
        };
        let evaluating_unit = row.and_then(|r| r.evaluating_unit.clone());
        let peer_group = row.and_then(|r| r.peer_group.clone());
        let quota_exceeded = match (&evaluating_unit, &peer_group) {
            (Some(u), Some(g)) => quota
                .get(&(u.clone(), g.clone()))
                .is_some_and(|t| t.exceeded()),
            _ => false,
        };
        let evaluating_unit_name = match &evaluating_unit {
            Some(u) => Some(self.unit_name(u)?),
            None => None,
        };
        let points = |h: Option<i64>| h.map(Points::from_hundredths);
        Ok(AssessmentLine {
            period: period.period.clone(),
            cadre: cadre.to_owned(),
            full_name,
            position,
            unit_name: self.unit_name(&unit)?,
            unit,
            evaluating_unit,
            evaluating_unit_name,
            peer_group,
            self_points: points(row.and_then(|r| r.self_points)),
            general_points: points(row.and_then(|r| r.general_points)),
            task_points: points(row.and_then(|r| r.task_points)),
            total: points(row.and_then(|r| r.total)),
            ceiling: row
                .and_then(|r| r.ceiling.as_deref())
                .and_then(Rating::parse),
            ceiling_reason: row.and_then(|r| r.ceiling_reason.clone()),
            rating: row
                .and_then(|r| r.rating.as_deref())
                .and_then(Rating::parse),
            disqualified: row.and_then(|r| r.disqualified.clone()),
            comment: row.and_then(|r| r.comment.clone()),
            quota_exceeded,
            products_done: products.iter().filter(|(p, _)| p.is_done()).count() as u64,
            products_on_time: products.iter().filter(|(p, _)| p.is_on_time()).count() as u64,
            products: products
                .into_iter()
                .map(|(product, title)| ProductLine {
                    status: product.status(),
                    product,
                    title,
                })
                .collect(),
            self_note: row.and_then(|r| r.self_note.clone()),
        })
    }
}
