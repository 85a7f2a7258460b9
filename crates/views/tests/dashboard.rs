//! The dashboard's lists and counts are what the task list answers for the
//! same flag: `ReadModel::dashboard` reads the cycle once and picks its
//! lists itself, `ReadModel::tasks` filters in SQL; both must show the same
//! tasks in the same order (soonest due first, then by id; low confidence:
//! least complete first), with the same counts, at any instant, for any mix
//! of due dates, reports, confidences and evaluations.

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
const CADRE: &str = "hoang-the-manh";

/// One generated task: its due day of 2021 (0-364), and its reports (day,
/// value out of 10, confidence), whether it is evaluated or cancelled.
#[derive(Clone, Debug)]
struct Plan {
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
    s.unit(SECRETARY, "hop-thanh", "Xã Hợp Thành", "commune", ROOT);
    s.cadre(SECRETARY, CADRE, "Hoàng Thế Mạnh", "hop-thanh", false);
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
            CADRE,
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
        s.at(&at).submit(
            "hop-thanh",
            CADRE,
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

fn plan() -> impl Strategy<Value = Plan> {
    (
        0u32..365,
        prop::collection::vec((0u32..365, 0u8..=10, 0u8..3), 0..3),
        0u8..4,
    )
        .prop_map(|(due_day, reports, end)| Plan {
            due_day,
            reports,
            end,
        })
}

proptest! {
    // Each case writes a log of a few hundred submissions.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn the_dashboards_lists_are_the_task_lists_of_the_same_flags(
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
        }
    }
}
