//! `ReadModel::clock_window`: every answer judged at any instant of the
//! window around `now` is the answer judged at `now`. The HTTP server keeps
//! answers on the strength of it, so a window too wide would serve stale
//! flags.

mod common;

use common::{Scenario, ms};
use dotpha_views::{
    ReadModel,
    query::{Dashboard, StatusFilter, TaskFilter, TaskSummary, Tree, UnitView},
};
use serde_json::json;

const ROOT: &str = "son-duong";
const SECRETARY: &str = "do-xuan-phuc";

/// Tasks due all through the year, some reported on (stale at different
/// instants), one evaluated, one left open past its due date.
fn district() -> Scenario {
    let mut s = Scenario::new();
    s.root("to-chuc-noi-vu", ROOT, "Huyện Sơn Dương", "district");
    s.cadre("to-chuc-noi-vu", SECRETARY, "Đỗ Xuân Phúc", ROOT, true);
    s.unit(SECRETARY, "hop-thanh", "Xã Hợp Thành", "commune", ROOT);
    s.cadre(
        SECRETARY,
        "hoang-the-manh",
        "Hoàng Thế Mạnh",
        "hop-thanh",
        false,
    );
    s.submit(
        ROOT,
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    );
    for (task, due) in [
        ("t-mar", "2021-03-15"),
        ("t-jun", "2021-06-30"),
        ("t-sep", "2021-09-30"),
        ("t-dec", "2021-12-31"),
    ] {
        s.assign(
            ROOT,
            SECRETARY,
            task,
            "2021",
            "hoang-the-manh",
            "Nhiệm vụ",
            due,
            (0.0, 10.0),
        );
    }
    for (at, task, value) in [
        ("2021-02-10T09:30:00+07:00", "t-jun", 2),
        ("2021-05-20T14:05:00+07:00", "t-sep", 4),
        ("2021-08-01T07:45:00+07:00", "t-dec", 5),
    ] {
        s.at(at).submit(
            "hop-thanh",
            "hoang-the-manh",
            "progress.reported",
            json!({"task_id": task, "as_of": &at[..10], "values": [{"metric": "m", "value": value}]}),
        );
    }
    s.at("2021-07-05T08:00:00+07:00").submit(
        ROOT,
        SECRETARY,
        "task.evaluated",
        json!({"task_id": "t-jun", "rating": "completed", "comment": "Đạt"}),
    );
    s
}

#[derive(Debug, PartialEq)]
struct Answers {
    dashboard: Dashboard,
    lists: Vec<(Vec<TaskSummary>, u64)>,
    unit: Option<UnitView>,
}

fn answers(read: &ReadModel, now: i64) -> Answers {
    let lists = [None, Some("overdue"), Some("due_soon"), Some("stale")]
        .into_iter()
        .map(|status| {
            read.tasks(
                &TaskFilter {
                    status: status.and_then(StatusFilter::parse),
                    ..TaskFilter::default()
                },
                now,
            )
            .expect("a list")
        })
        .collect();
    Answers {
        dashboard: read.dashboard(Some("2021"), now).expect("a dashboard"),
        lists,
        unit: read.unit(ROOT, Tree::Today, None, now).expect("a unit"),
    }
}

#[test]
fn every_instant_of_the_window_answers_as_now_does() {
    let read = district().read_model("read");
    let start = ms("2021-01-01T00:00:00+07:00");
    let end = ms("2022-03-01T00:00:00+07:00");
    // Seven hours and a few milliseconds a step: lands at every hour of the
    // day and just before and after the instants flags change at.
    let step = 7 * 3_600_000 + 13;
    let (mut now, mut windows, mut changes) = (start, 0, 0);
    let mut last = None;
    while now < end {
        let (from, until) = read.clock_window(now).expect("a window");
        assert!(from <= now && now < until, "{from} <= {now} < {until}");
        let here = answers(&read, now);
        for probe in [from, until.saturating_sub(1), from / 2 + until / 2] {
            // Unbounded sides: look a year away.
            let probe = probe.clamp(now - 366 * 86_400_000, now + 366 * 86_400_000);
            assert_eq!(
                answers(&read, probe),
                here,
                "judged at {probe}, within [{from}, {until}) around {now}, the answers differ"
            );
        }
        if last != Some((from, until)) {
            windows += 1;
            if last.is_some() && answers(&read, from - 1) != here {
                changes += 1;
            }
        }
        last = Some((from, until));
        now += step;
    }
    // The sweep crossed many windows, and the answers did change at their
    // edges: the windows are not just one span around everything.
    assert!(windows > 8, "{windows} windows");
    assert!(changes > 4, "{changes} changes at window edges");
}

#[test]
fn an_empty_read_model_has_one_window() {
    let read = Scenario::new().read_model("empty");
    assert_eq!(
        read.clock_window(ms("2021-06-01T00:00:00Z"))
            .expect("a window"),
        (i64::MIN, i64::MAX)
    );
}
