//! The day a task was done, as the read model keeps it, is the domain's
//! (`DoneTracker`: the first report in `Reading` order that brings the
//! task's completion to 100), for any order in which reports arrive:
//! in order, late ones describing earlier days, reports that only give a
//! percentage, and whether the events are applied in one batch or one at a
//! time. The read model decides a report later than all others from the
//! latest values it holds, and replays the task's reports only for one
//! that arrives out of order; both ways must give the domain's day.

mod common;

use common::Scenario;
use proptest::prelude::*;
use serde_json::json;

const ROOT: &str = "son-duong";
const SECRETARY: &str = "do-xuan-phuc";
const CADRE: &str = "hoang-the-manh";

/// One report: the day of 2021 it describes (0-359), the values of the
/// targets `a` (out of 10) and `b` (out of 4) it gives, if any, and its
/// percentage, if any.
type Report = (u32, Option<u8>, Option<u8>, Option<u8>);

fn day(d: u32) -> String {
    let start = dotpha_domain::Date::new(2021, 1, 1).expect("a day");
    dotpha_domain::Date::from_days_since_epoch(start.days_since_epoch() + i64::from(d)).to_string()
}

fn scenario(tasks: &[Vec<Report>]) -> Scenario {
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
    for i in 0..tasks.len() {
        s.submit(
            ROOT,
            SECRETARY,
            "task.assigned",
            json!({"task_id": format!("t-{i}"), "cycle": "2021", "assignee": CADRE,
                   "title": "Nhiệm vụ", "kind": "breakthrough", "category": "Nông thôn mới",
                   "due": "2021-12-31", "origin": "committee",
                   "targets": [{"metric": "a", "label": "A", "baseline": 0, "target": 10},
                               {"metric": "b", "label": "B", "baseline": 0, "target": 4}]}),
        );
    }
    // Sent in the order generated, each describing its own day: a report
    // may describe a day before one sent earlier.
    s.at("2021-12-31T10:00:00+07:00");
    for (i, reports) in tasks.iter().enumerate() {
        for &(d, a, b, percent) in reports {
            let mut values = Vec::new();
            if let Some(a) = a {
                values.push(json!({"metric": "a", "value": a}));
            }
            if let Some(b) = b {
                values.push(json!({"metric": "b", "value": b}));
            }
            let mut data = json!({"task_id": format!("t-{i}"), "as_of": day(d), "values": values});
            if let Some(p) = percent {
                data["percent_complete"] = json!(p);
            }
            // A report the rules refuse changes nothing in either.
            s.try_submit("hop-thanh", CADRE, "progress.reported", data);
        }
    }
    s
}

/// Each task's `done_on` as the read model at `path` holds it.
fn done_days(path: &str, tasks: usize) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(path).expect("the read model opens");
    (0..tasks)
        .map(|i| {
            conn.query_row(
                "SELECT done_on FROM tasks WHERE task_id = ?1",
                [format!("t-{i}")],
                |r| r.get(0),
            )
            .expect("the task's row")
        })
        .collect()
}

fn report() -> impl Strategy<Value = Report> {
    (
        0u32..360,
        prop::option::of(0u8..=10),
        prop::option::of(0u8..=4),
        prop::option::weighted(0.3, 0u8..=100),
    )
}

proptest! {
    // Each case writes a log of a few dozen submissions, read twice.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_read_models_done_day_is_the_domains_however_reports_arrive(
        tasks in prop::collection::vec(prop::collection::vec(report(), 0..12), 1..5),
    ) {
        let s = scenario(&tasks);
        let expected: Vec<Option<String>> = (0..tasks.len())
            .map(|i| {
                s.state()
                    .task(&format!("t-{i}"))
                    .and_then(|t| t.done.done_on())
                    .map(|d| d.to_string())
            })
            .collect();
        // All at once.
        let whole = s.read_model("whole");
        prop_assert_eq!(&done_days(whole.path(), tasks.len()), &expected);
        // One event per batch, as a worker following the log applies them.
        let mut one_by_one = dotpha_views::ReadModel::open(
            std::path::Path::new(whole.path()).with_file_name("one-by-one.sqlite"),
        )
        .expect("opens");
        for event in s.events() {
            one_by_one.apply(std::slice::from_ref(&event), None).expect("applies");
        }
        prop_assert_eq!(&done_days(one_by_one.path(), tasks.len()), &expected);
    }
}
