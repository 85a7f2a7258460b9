//! The dashboard's lists and counts are what the task list answers for the
//! same flag, and its lines per unit are the tallies of the task list's
//! tasks of that unit: `ReadModel::dashboard` reads the cycle once and
//! tallies and picks its lists itself, `ReadModel::tasks` filters in SQL;
//! both must show the same tasks in the same order (soonest due first, then
//! by id; low confidence: least complete first), with the same counts, and
//! the same figures per unit (`figures::mean_completion` over the unit's
//! tasks), at any instant, for any mix of communes, due dates, reports,
//! confidences and evaluations.

mod common;

use common::{Scenario, ms};
use dotpha_views::{
    ReadModel,
    query::{DASHBOARD_LIST, StatusFilter, TaskFilter, TaskSummary},
};
use proptest::prelude::*;
use serde_json::json;

const ROOT: &str = "son-duong";
const SECRETARY: &str = "do-xuan-phuc";
/// The communes, their names (not in the order of their codes) and each
/// one's cadre.
const COMMUNES: [(&str, &str, &str, &str); 3] = [
    (
        "hop-thanh",
        "Xã Hợp Thành",
        "hoang-the-manh",
        "Hoàng Thế Mạnh",
    ),
    ("dai-phu", "Xã Đại Phú", "le-thi-lan", "Lê Thị Lan"),
    ("an-khang", "Xã Ân Khang", "tran-van-an", "Trần Văn An"),
];

/// One generated task: its due day of 2021 (0-364), and its reports (day,
/// value out of 10, confidence), whether it is evaluated or cancelled.
#[derive(Clone, Debug)]
struct Plan {
    commune: usize,
    due_day: u32,
    reports: Vec<(u32, u8, u8)>,
    end: u8,
}

fn day(d: u32) -> String {
    let start = dotpha_domain::Date::new(2021, 1, 1).expect("a day");
    dotpha_domain::Date::from_days_since_epoch(start.days_since_epoch() + i64::from(d)).to_string()
}

fn district(plans: &[Plan]) -> ReadModel {
    let mut s = Scenario::new();
    s.root("to-chuc-noi-vu", ROOT, "Huyện Sơn Dương", "district");
    s.cadre("to-chuc-noi-vu", SECRETARY, "Đỗ Xuân Phúc", ROOT, true);
    for (code, name, cadre, cadre_name) in COMMUNES {
        s.unit(SECRETARY, code, name, "commune", ROOT);
        s.cadre(SECRETARY, cadre, cadre_name, code, false);
    }
    s.submit(
        ROOT,
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    );
    for (i, plan) in plans.iter().enumerate() {
        s.assign(
            ROOT,
            SECRETARY,
            &format!("t-{i:03}"),
            "2021",
            COMMUNES[plan.commune].2,
            "Nhiệm vụ",
            &day(plan.due_day),
            (0.0, 10.0),
        );
    }
    // Reports in time order, all tasks interleaved: the log's time runs
    // forward.
    let mut reports: Vec<(u32, usize, u8, u8)> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.reports.iter().map(move |&(d, v, c)| (d, i, v, c)))
        .collect();
    reports.sort();
    for (d, i, value, confidence) in reports {
        let at = format!("{}T09:00:00+07:00", day(d));
        let confidence = ["low", "medium", "high"][usize::from(confidence % 3)];
        let (commune, _, cadre, _) = COMMUNES[plans[i].commune];
        s.at(&at).submit(
            commune,
            cadre,
            "progress.reported",
            json!({"task_id": format!("t-{i:03}"), "as_of": day(d),
                   "values": [{"metric": "m", "value": value}],
                   "confidence": confidence}),
        );
    }
    s.at("2021-12-31T10:00:00+07:00");
    for (i, plan) in plans.iter().enumerate() {
        let task_id = format!("t-{i:03}");
        match plan.end % 4 {
            0 => {
                s.submit(
                    ROOT,
                    SECRETARY,
                    "task.evaluated",
                    json!({"task_id": task_id, "rating": "completed", "comment": "Đạt"}),
                );
            }
            1 => {
                s.submit(
                    ROOT,
                    SECRETARY,
                    "task.cancelled",
                    json!({"task_id": task_id, "reason": "Không còn phù hợp"}),
                );
            }
            _ => {}
        }
    }
    s.read_model("read")
}

fn list(read: &ReadModel, flag: &str, now: i64) -> (Vec<TaskSummary>, u64) {
    read.tasks(
        &TaskFilter {
            cycle: Some("2021".to_owned()),
            status: StatusFilter::parse(flag),
            limit: Some(DASHBOARD_LIST),
            ..TaskFilter::default()
        },
        now,
    )
    .expect("a list")
}

/// The low-confidence list as the task list gives it: every open task of
/// the cycle whose latest report says "low", least complete first, equal
/// ones in the list's own order (soonest due, then id).
fn low_confidence(read: &ReadModel, now: i64) -> (Vec<TaskSummary>, u64) {
    let (all, _) = read
        .tasks(
            &TaskFilter {
                cycle: Some("2021".to_owned()),
                limit: Some(dotpha_views::query::MAX_LIMIT),
                ..TaskFilter::default()
            },
            now,
        )
        .expect("a list");
    let mut low: Vec<TaskSummary> = all
        .into_iter()
        .filter(|t| {
            t.confidence.as_deref() == Some("low")
                && dotpha_domain::TaskStatus::parse(&t.status).is_some_and(|s| s.is_open())
        })
        .collect();
    low.sort_by(|a, b| {
        a.percent_complete
            .partial_cmp(&b.percent_complete)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let n = low.len() as u64;
    low.truncate(DASHBOARD_LIST);
    (low, n)
}

/// Checks the dashboard's lines per unit against the cycle's task list at
/// `now`: each line's counts, cadres, share on track and mean completion
/// are those of the unit's tasks; the lines stand in the Vietnamese order
/// of names; the weakest are the lines of lowest mean.
fn check_units(
    read: &ReadModel,
    dashboard: &dotpha_views::query::Dashboard,
    now: i64,
) -> Result<(), TestCaseError> {
    use std::collections::{BTreeMap, BTreeSet};
    let (mut all, _) = read
        .tasks(
            &TaskFilter {
                cycle: Some("2021".to_owned()),
                limit: Some(dotpha_views::query::MAX_LIMIT),
                ..TaskFilter::default()
            },
            now,
        )
        .expect("a list");
    all.sort_by(|a, b| a.task_id.cmp(&b.task_id));
    let mut units: BTreeMap<&str, Vec<&TaskSummary>> = BTreeMap::new();
    for task in &all {
        units.entry(task.unit.as_str()).or_default().push(task);
    }
    prop_assert_eq!(dashboard.by_unit.len(), units.len());
    for line in &dashboard.by_unit {
        let tasks = units.get(line.unit.as_str()).expect("a unit with tasks");
        let counts = |of: &dyn Fn(&TaskSummary) -> Option<String>| {
            let mut out: BTreeMap<String, u64> = BTreeMap::new();
            for key in tasks.iter().filter_map(|t| of(t)) {
                *out.entry(key).or_default() += 1;
            }
            out
        };
        let status =
            |t: &TaskSummary| dotpha_domain::TaskStatus::parse(&t.status).expect("a status");
        let r = &line.rollup;
        prop_assert_eq!(r.tasks, tasks.len() as u64);
        prop_assert_eq!(&r.by_status.to_map(), &counts(&|t| Some(t.status.clone())));
        prop_assert_eq!(&r.by_rating.to_map(), &counts(&|t| t.rating.clone()));
        prop_assert_eq!(&r.by_kind.to_map(), &counts(&|t| Some(t.kind.clone())));
        prop_assert_eq!(&r.by_origin.to_map(), &counts(&|t| Some(t.origin.clone())));
        prop_assert_eq!(r.overdue, tasks.iter().filter(|t| t.overdue).count() as u64);
        let cadres: BTreeSet<&str> = tasks.iter().map(|t| t.assignee.as_str()).collect();
        prop_assert_eq!(r.cadres, cadres.len() as u64);
        let active: Vec<_> = tasks.iter().filter(|t| status(t).is_active()).collect();
        let on_track = active.iter().filter(|t| !t.overdue && !t.stale).count();
        prop_assert_eq!(
            r.on_track_share,
            (!active.is_empty()).then(|| on_track as f64 / active.len() as f64)
        );
        prop_assert_eq!(
            line.mean_percent,
            dotpha_domain::figures::mean_completion(
                tasks.iter().map(|t| (status(t), t.percent_complete))
            )
        );
    }
    let names: Vec<&str> = dashboard.by_unit.iter().map(|l| l.name.as_str()).collect();
    prop_assert!(
        names
            .windows(2)
            .all(|w| dotpha_domain::text::collate(w[0], w[1]) != std::cmp::Ordering::Greater),
        "in the Vietnamese order of names: {:?}",
        names
    );
    let mut weakest: Vec<_> = dashboard
        .by_unit
        .iter()
        .filter(|l| l.mean_percent.is_some())
        .collect();
    weakest.sort_by(|a, b| {
        a.mean_percent
            .partial_cmp(&b.mean_percent)
            .expect("a number")
    });
    weakest.truncate(dotpha_views::query::ATTENTION_UNITS);
    let weakest: Vec<_> = weakest.into_iter().cloned().collect();
    prop_assert_eq!(&dashboard.attention.weakest_units, &weakest);
    Ok(())
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        0..COMMUNES.len(),
        0u32..365,
        prop::collection::vec((0u32..365, 0u8..=10, 0u8..3), 0..3),
        0u8..4,
    )
        .prop_map(|(commune, due_day, reports, end)| Plan {
            commune,
            due_day,
            reports,
            end,
        })
}

proptest! {
    // Each case writes a log of a few hundred submissions.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn the_dashboards_lists_and_units_are_the_task_lists_of_the_same_flags_and_units(
        plans in prop::collection::vec(plan(), 1..130),
        nows in prop::collection::vec(0u32..420, 4),
    ) {
        let read = district(&plans);
        for d in nows {
            let now = ms(&format!("{}T12:00:00+07:00", day(d)));
            let dashboard = read.dashboard(Some("2021"), now).expect("a dashboard");
            let (overdue, overdue_n) = list(&read, "overdue", now);
            let (due_soon, due_soon_n) = list(&read, "due_soon", now);
            let (stale, stale_n) = list(&read, "stale", now);
            prop_assert_eq!(&dashboard.overdue_tasks, &overdue);
            prop_assert_eq!(dashboard.overdue, overdue_n);
            prop_assert_eq!(&dashboard.due_soon_tasks, &due_soon);
            prop_assert_eq!(dashboard.due_soon, due_soon_n);
            prop_assert_eq!(&dashboard.attention.stale_tasks, &stale);
            prop_assert_eq!(dashboard.attention.stale, stale_n);
            let (low, low_n) = low_confidence(&read, now);
            prop_assert_eq!(&dashboard.attention.low_confidence_tasks, &low);
            prop_assert_eq!(dashboard.attention.low_confidence, low_n);
            prop_assert_eq!(dashboard.tasks, plans.len() as u64);
            check_units(&read, &dashboard, now)?;
        }
    }
}
