//! The figures a leader reads, built through the writer's core and judged at
//! fixed instants: completion, overdue at the end of the due date in
//! Vietnam, due soon, stale, ratings from scores, the excellent quota, and
//! search without regard to case or diacritics.

mod common;

use common::{Scenario, ms};
use dotpha_store::ReceiptStatus;
use dotpha_views::{
    ReadModel,
    query::{StatusFilter, TaskFilter, TaskSummary},
};
use serde_json::json;

const ROOT: &str = "son-duong";
const SECRETARY: &str = "do-xuan-phuc";

/// A district with two communes, three commune cadres and the 2021 cycle.
fn district() -> Scenario {
    let mut s = Scenario::new();
    s.root("to-chuc-noi-vu", ROOT, "Huyện Sơn Dương", "district");
    s.cadre("to-chuc-noi-vu", SECRETARY, "Đỗ Xuân Phúc", ROOT, true);
    s.unit(SECRETARY, "hop-thanh", "Xã Hợp Thành", "commune", ROOT);
    s.unit(SECRETARY, "phuc-ung", "Xã Phúc Ứng", "commune", ROOT);
    s.cadre(
        SECRETARY,
        "hoang-the-manh",
        "Hoàng Thế Mạnh",
        "hop-thanh",
        false,
    );
    s.cadre(SECRETARY, "ha-thi-lan", "Hà Thị Lan", "hop-thanh", false);
    s.cadre(
        SECRETARY,
        "nguyen-van-binh",
        "Nguyễn Văn Bình",
        "phuc-ung",
        false,
    );
    s.submit(
        ROOT,
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    );
    s
}

fn list(read: &ReadModel, filter: TaskFilter, now: &str) -> Vec<TaskSummary> {
    read.tasks(&filter, ms(now)).expect("lists").0
}

fn one(read: &ReadModel, task_id: &str, now: &str) -> TaskSummary {
    let found = list(read, TaskFilter::default(), now)
        .into_iter()
        .find(|t| t.task_id == task_id)
        .unwrap_or_else(|| panic!("{task_id} is listed"));
    let detail = read
        .task(task_id, ms(now))
        .expect("reads")
        .expect("the task exists");
    assert_eq!(
        detail.summary, found,
        "{task_id}: the detail carries the list's members"
    );
    found
}

fn ids(tasks: &[TaskSummary]) -> Vec<&str> {
    tasks.iter().map(|t| t.task_id.as_str()).collect()
}

fn with_status(status: &str) -> TaskFilter {
    TaskFilter {
        status: Some(StatusFilter::parse(status).expect("a status or a flag")),
        ..TaskFilter::default()
    }
}

#[test]
fn a_target_from_388_to_400_with_394_reported_is_half_complete() {
    let mut s = district();
    s.assign(
        ROOT,
        SECRETARY,
        "ndp-2021-07",
        "2021",
        "hoang-the-manh",
        "Tăng số hộ phân loại rác",
        "2021-11-30",
        (388.0, 400.0),
    );
    let now = "2021-05-01T00:00:00Z";
    assert_eq!(
        one(&s.read_model("before"), "ndp-2021-07", now).percent_complete,
        Some(0.0),
        "nothing reported: the baseline"
    );
    s.at("2021-04-01T08:00:00+07:00").submit(
        "hop-thanh",
        "hoang-the-manh",
        "progress.reported",
        json!({"task_id": "ndp-2021-07", "as_of": "2021-03-31",
               "values": [{"metric": "m", "value": 394}], "confidence": "high"}),
    );
    let read = s.read_model("after");
    let task = one(&read, "ndp-2021-07", now);
    assert_eq!(task.percent_complete, Some(50.0));
    assert_eq!(task.status, "in_progress");
    assert_eq!(task.confidence.as_deref(), Some("high"));
    let detail = read.task("ndp-2021-07", ms(now)).unwrap().unwrap();
    assert_eq!(detail.summary.percent_complete, Some(50.0));
    assert_eq!(detail.targets.len(), 1);
    assert_eq!(detail.targets[0].baseline, 388.0);
    assert_eq!(detail.targets[0].target, 400.0);
    assert_eq!(detail.targets[0].latest, Some(394.0));
    assert_eq!(detail.targets[0].series.len(), 1);
    assert_eq!(detail.targets[0].series[0].as_of, "2021-03-31");
    assert_eq!(
        detail
            .last_report
            .as_ref()
            .and_then(|r| r["values"][0]["value"].as_f64()),
        Some(394.0)
    );
}

#[test]
fn a_task_due_on_june_30_is_overdue_from_midnight_in_vietnam() {
    let mut s = district();
    for (id, assignee) in [
        ("due-open", "hoang-the-manh"),
        ("due-evaluated", "ha-thi-lan"),
        ("due-cancelled", "nguyen-van-binh"),
    ] {
        s.assign(
            ROOT,
            SECRETARY,
            id,
            "2021",
            assignee,
            "Hoàn thành đường giao thông nông thôn",
            "2021-06-30",
            (0.0, 10.0),
        );
    }
    s.submit(
        ROOT,
        SECRETARY,
        "task.evaluated",
        json!({"task_id": "due-evaluated", "score": 80, "comment": "Tốt"}),
    );
    s.submit(
        ROOT,
        SECRETARY,
        "task.cancelled",
        json!({"task_id": "due-cancelled", "reason": "Trùng nhiệm vụ"}),
    );
    let read = s.read_model("read");
    let before = "2021-06-30T16:59:59Z";
    let from = "2021-06-30T17:00:00Z";
    // 23:59:59 on June 30 in Vietnam; then midnight of July 1.
    assert!(!one(&read, "due-open", before).overdue);
    assert!(one(&read, "due-open", from).overdue);
    assert!(one(&read, "due-open", "2021-06-30T17:00:00.001Z").overdue);
    assert!(!one(&read, "due-open", "2021-06-30T23:59:59+07:00").overdue);
    assert!(one(&read, "due-open", "2021-07-01T00:00:00+07:00").overdue);
    for id in ["due-evaluated", "due-cancelled"] {
        assert!(
            !one(&read, id, from).overdue,
            "{id} is final, never overdue"
        );
        assert!(!one(&read, id, "2021-12-31T00:00:00Z").overdue);
    }
    assert!(list(&read, with_status("overdue"), before).is_empty());
    assert_eq!(
        ids(&list(&read, with_status("overdue"), from)),
        vec!["due-open"]
    );
    assert_eq!(read.dashboard(Some("2021"), ms(before)).unwrap().overdue, 0);
    let dashboard = read.dashboard(Some("2021"), ms(from)).unwrap();
    assert_eq!(dashboard.overdue, 1);
    assert_eq!(ids(&dashboard.overdue_tasks), vec!["due-open"]);
    let unit = read
        .unit("hop-thanh", Default::default(), Some("2021"), ms(from))
        .unwrap()
        .unwrap();
    assert_eq!(unit.rollup.overdue, 1);
}

#[test]
fn a_task_is_due_soon_within_fourteen_days_of_its_due_date() {
    let mut s = district();
    s.assign(
        ROOT,
        SECRETARY,
        "soon",
        "2021",
        "hoang-the-manh",
        "Kiên cố hóa kênh mương",
        "2021-06-30",
        (0.0, 10.0),
    );
    s.assign(
        ROOT,
        SECRETARY,
        "later",
        "2021",
        "ha-thi-lan",
        "Kiên cố hóa kênh mương",
        "2021-09-30",
        (0.0, 10.0),
    );
    let read = s.read_model("read");
    // The due date ends at 2021-06-30T17:00:00Z.
    let cases = [
        ("2021-06-01T00:00:00Z", false),
        ("2021-06-16T16:59:59Z", false),
        ("2021-06-16T17:00:00Z", true),
        ("2021-06-20T00:00:00Z", true),
        ("2021-06-30T16:59:59Z", true),
        ("2021-06-30T17:00:00Z", false),
    ];
    for (now, soon) in cases {
        let task = one(&read, "soon", now);
        assert_eq!(task.due_soon, soon, "due soon at {now}");
        assert!(!task.due_soon || !task.overdue);
        assert!(!one(&read, "later", now).due_soon, "later at {now}");
        let listed = list(&read, with_status("due_soon"), now);
        assert_eq!(ids(&listed), if soon { vec!["soon"] } else { vec![] });
        let dashboard = read.dashboard(Some("2021"), ms(now)).unwrap();
        assert_eq!(dashboard.due_soon, u64::from(soon), "dashboard at {now}");
        assert_eq!(ids(&dashboard.due_soon_tasks), ids(&listed));
    }
}

#[test]
fn an_active_task_without_a_check_in_for_thirty_days_is_stale() {
    let mut s = district();
    s.at("2021-03-01T08:00:00+07:00");
    for (id, assignee) in [
        ("reported", "hoang-the-manh"),
        ("silent", "ha-thi-lan"),
        ("done", "nguyen-van-binh"),
    ] {
        s.assign(
            ROOT,
            SECRETARY,
            id,
            "2021",
            assignee,
            "Xây dựng mô hình chuyển đổi số",
            "2021-12-31",
            (0.0, 10.0),
        );
    }
    s.at("2021-04-01T08:00:00+07:00").submit(
        "hop-thanh",
        "hoang-the-manh",
        "progress.reported",
        json!({"task_id": "reported", "as_of": "2021-04-01", "values": [{"metric": "m", "value": 3}]}),
    );
    s.submit(
        ROOT,
        SECRETARY,
        "task.evaluated",
        json!({"task_id": "done", "rating": "completed", "comment": "Đạt"}),
    );
    let read = s.read_model("read");
    // The silent task counts from its assignment (2021-03-01T01:00:00Z),
    // the reported one from its check-in (2021-04-01T01:00:00Z).
    let cases = [
        ("2021-03-31T00:59:59Z", false, false),
        ("2021-03-31T01:00:00Z", false, true),
        ("2021-05-01T00:59:59Z", false, true),
        ("2021-05-01T01:00:00Z", true, true),
    ];
    for (now, reported, silent) in cases {
        assert_eq!(one(&read, "reported", now).stale, reported, "{now}");
        assert_eq!(one(&read, "silent", now).stale, silent, "{now}");
        assert!(
            !one(&read, "done", now).stale,
            "an evaluated task is not stale"
        );
        let mut expected = Vec::new();
        if reported {
            expected.push("reported");
        }
        if silent {
            expected.push("silent");
        }
        assert_eq!(ids(&list(&read, with_status("stale"), now)), expected);
    }
}

#[test]
fn a_rating_is_derived_from_a_score_by_the_hundred_point_bands() {
    let mut s = district();
    let cases: [(&str, serde_json::Value, &str, Option<f64>); 8] = [
        ("s-95", json!({"score": 95}), "excellent", Some(95.0)),
        ("s-90", json!({"score": 90}), "excellent", Some(90.0)),
        ("s-89", json!({"score": 89.5}), "good", Some(89.5)),
        ("s-70", json!({"score": 70}), "good", Some(70.0)),
        ("s-69", json!({"score": 69.9}), "completed", Some(69.9)),
        ("s-50", json!({"score": 50}), "completed", Some(50.0)),
        ("s-49", json!({"score": 49}), "not_completed", Some(49.0)),
        (
            "r-good",
            json!({"rating": "good", "score": 80}),
            "good",
            Some(80.0),
        ),
    ];
    for (id, _, _, _) in &cases {
        s.assign(
            ROOT,
            SECRETARY,
            id,
            "2021",
            "hoang-the-manh",
            "Phát triển sản phẩm OCOP",
            "2021-12-31",
            (0.0, 10.0),
        );
    }
    s.assign(
        ROOT,
        SECRETARY,
        "r-only",
        "2021",
        "ha-thi-lan",
        "Phát triển sản phẩm OCOP",
        "2021-12-31",
        (0.0, 10.0),
    );
    s.assign(
        ROOT,
        SECRETARY,
        "disagree",
        "2021",
        "ha-thi-lan",
        "Phát triển sản phẩm OCOP",
        "2021-12-31",
        (0.0, 10.0),
    );
    for (id, evaluation, _, _) in &cases {
        let mut data = evaluation.clone();
        data["task_id"] = json!(id);
        data["comment"] = json!("Nhận xét");
        s.submit(ROOT, SECRETARY, "task.evaluated", data);
    }
    s.submit(
        ROOT,
        SECRETARY,
        "task.evaluated",
        json!({"task_id": "r-only", "rating": "excellent", "comment": "Xuất sắc"}),
    );
    let refused = s.try_submit(
        ROOT,
        SECRETARY,
        "task.evaluated",
        json!({"task_id": "disagree", "rating": "excellent", "score": 75, "comment": "?"}),
    );
    assert_eq!(refused.status, ReceiptStatus::Rejected);
    assert_eq!(
        refused.error.map(|e| e.code).as_deref(),
        Some("invalid_value")
    );

    let read = s.read_model("read");
    let now = "2021-12-01T00:00:00Z";
    for (id, _, rating, score) in &cases {
        let task = one(&read, id, now);
        assert_eq!(task.status, "evaluated", "{id}");
        assert_eq!(task.rating.as_deref(), Some(*rating), "{id}");
        assert_eq!(task.score, *score, "{id}");
    }
    let only = one(&read, "r-only", now);
    assert_eq!(
        (only.rating.as_deref(), only.score),
        (Some("excellent"), None)
    );
    let disagree = one(&read, "disagree", now);
    assert_eq!(
        (disagree.status.as_str(), disagree.rating),
        ("assigned", None)
    );
    let dashboard = read.dashboard(Some("2021"), ms(now)).unwrap();
    assert_eq!(dashboard.by_rating.get("excellent"), Some(3));
    assert_eq!(dashboard.by_rating.get("good"), Some(3));
    assert_eq!(dashboard.by_rating.get("completed"), Some(2));
    assert_eq!(dashboard.by_rating.get("not_completed"), Some(1));
    assert_eq!(dashboard.by_status.get("evaluated"), Some(9));
}

/// The excellent quota is counted per evaluating body, the envelope `unit`
/// of `task.evaluated` (CONTRACT part A), not per task's unit. Changed by
/// issue 11: the dashboard used to count the assignees' units.
#[test]
fn a_body_whose_excellent_ratings_exceed_a_fifth_of_its_good_ones_is_flagged() {
    let mut s = district();
    s.cadre(
        SECRETARY,
        "bi-thu-hop-thanh",
        "Bí thư Hợp Thành (dữ liệu mẫu)",
        "hop-thanh",
        true,
    );
    let evaluate =
        |s: &mut Scenario, body: &str, judge: &str, id: &str, assignee: &str, score: u32| {
            s.assign(
                body,
                judge,
                id,
                "2021",
                assignee,
                "Nhiệm vụ đột phá",
                "2021-12-31",
                (0.0, 10.0),
            );
            s.submit(
                body,
                judge,
                "task.evaluated",
                json!({"task_id": id, "score": score, "comment": "Đánh giá cuối năm"}),
            );
        };
    // The district: Phúc Ứng's chair 1 excellent and 5 good, and one task of
    // Hợp Thành excellent: 2 excellent beside 5 good (2 > 1).
    for (i, score) in [92, 85, 80, 78, 75, 71].iter().enumerate() {
        evaluate(
            &mut s,
            ROOT,
            SECRETARY,
            &format!("pu-{i}"),
            "nguyen-van-binh",
            *score,
        );
    }
    evaluate(&mut s, ROOT, SECRETARY, "ht-huyen", "ha-thi-lan", 95);
    // Hợp Thành's committee: two good ratings of the tasks it gave.
    evaluate(
        &mut s,
        "hop-thanh",
        "bi-thu-hop-thanh",
        "ht-xa-1",
        "hoang-the-manh",
        80,
    );
    evaluate(
        &mut s,
        "hop-thanh",
        "bi-thu-hop-thanh",
        "ht-xa-2",
        "hoang-the-manh",
        75,
    );

    let read = s.read_model("read");
    let dashboard = read
        .dashboard(Some("2021"), ms("2021-12-31T00:00:00Z"))
        .unwrap();
    assert_eq!(
        dashboard.excellent_quota_exceeded,
        vec![ROOT],
        "the district, which rated 2 excellent beside 5 good; not Hợp Thành, whose \
         tasks hold 1 excellent beside 2 good but whose committee rated none excellent"
    );
    assert_eq!(dashboard.by_rating.get("excellent"), Some(2));
    assert_eq!(dashboard.by_rating.get("good"), Some(7));
    assert_eq!(dashboard.tasks, 9);
    assert_eq!(dashboard.cadres, 3);

    // The same body with 1 excellent and 5 good is not flagged.
    let mut s2 = district();
    for (i, score) in [95, 80, 75, 72, 71, 70].iter().enumerate() {
        let id = format!("t-{i}");
        s2.assign(
            ROOT,
            SECRETARY,
            &id,
            "2021",
            "hoang-the-manh",
            "Nhiệm vụ đột phá",
            "2021-12-31",
            (0.0, 10.0),
        );
        s2.submit(
            ROOT,
            SECRETARY,
            "task.evaluated",
            json!({"task_id": id, "score": score, "comment": "Đánh giá"}),
        );
    }
    let dashboard = s2
        .read_model("read")
        .dashboard(Some("2021"), ms("2021-12-31T00:00:00Z"))
        .unwrap();
    assert!(
        dashboard.excellent_quota_exceeded.is_empty(),
        "1 excellent and 5 good is within the quota"
    );
}

/// Reports may arrive out of order (a late figure for March after June's).
/// The latest value is the one with the greatest `as_of`, ties going to the
/// later report; series are ordered by `as_of`.
#[test]
fn the_latest_value_has_the_greatest_as_of_whatever_order_reports_arrive_in() {
    let mut s = district();
    s.assign(
        ROOT,
        SECRETARY,
        "ndp-2021-07",
        "2021",
        "hoang-the-manh",
        "Tăng số hộ phân loại rác",
        "2021-11-30",
        (0.0, 100.0),
    );
    let report = |s: &mut Scenario, sent: &str, as_of: &str, value: f64, confidence: &str| {
        s.at(sent).submit(
            "hop-thanh",
            "hoang-the-manh",
            "progress.reported",
            json!({"task_id": "ndp-2021-07", "as_of": as_of,
                   "values": [{"metric": "m", "value": value}], "confidence": confidence}),
        );
    };
    report(
        &mut s,
        "2021-07-02T08:00:00+07:00",
        "2021-06-30",
        60.0,
        "high",
    );
    report(
        &mut s,
        "2021-07-03T08:00:00+07:00",
        "2021-03-31",
        20.0,
        "low",
    );
    let now = "2021-07-05T00:00:00Z";
    let read = s.read_model("late-march");
    let task = read.task("ndp-2021-07", ms(now)).unwrap().unwrap();
    assert_eq!(
        task.summary.percent_complete,
        Some(60.0),
        "June's value counts"
    );
    assert_eq!(task.targets[0].latest, Some(60.0));
    assert_eq!(task.summary.confidence.as_deref(), Some("high"));
    let series: Vec<(&str, f64)> = task.targets[0]
        .series
        .iter()
        .map(|p| (p.as_of.as_str(), p.value))
        .collect();
    assert_eq!(series, vec![("2021-03-31", 20.0), ("2021-06-30", 60.0)]);
    assert_eq!(
        task.last_report.as_ref().map(|r| r["as_of"].clone()),
        Some(json!("2021-06-30")),
        "the last report is the latest one, not the last to arrive"
    );
    // A correction for June replaces June's figure: same `as_of`, later.
    report(
        &mut s,
        "2021-07-04T08:00:00+07:00",
        "2021-06-30",
        50.0,
        "medium",
    );
    let read = s.read_model("corrected");
    let task = read.task("ndp-2021-07", ms(now)).unwrap().unwrap();
    assert_eq!(task.summary.percent_complete, Some(50.0));
    assert_eq!(task.targets[0].latest, Some(50.0));
    assert_eq!(task.summary.confidence.as_deref(), Some("medium"));
    let values: Vec<f64> = task.targets[0].series.iter().map(|p| p.value).collect();
    assert_eq!(values, vec![20.0, 60.0, 50.0]);
}

/// The cycle's mean completion is the plain mean over the tasks that count:
/// not cancelled, with a completion. One unit with a task at 100% and three
/// cancelled, another with two at 0%: 33.3%, not 66.7% (issue 11).
#[test]
fn the_mean_completion_counts_tasks_that_are_not_cancelled_and_have_a_completion() {
    let mut s = district();
    let task = |s: &mut Scenario, id: &str, assignee: &str| {
        s.assign(
            ROOT,
            SECRETARY,
            id,
            "2021",
            assignee,
            "Nhiệm vụ",
            "2021-12-31",
            (0.0, 10.0),
        );
    };
    task(&mut s, "ht-done", "hoang-the-manh");
    for i in 0..3 {
        let id = format!("ht-cancelled-{i}");
        task(&mut s, &id, "ha-thi-lan");
        s.submit(
            ROOT,
            SECRETARY,
            "task.cancelled",
            json!({"task_id": id, "reason": "Không còn phù hợp"}),
        );
    }
    task(&mut s, "pu-1", "nguyen-van-binh");
    task(&mut s, "pu-2", "nguyen-van-binh");
    // A task without targets and without a report has no completion.
    s.submit(
        ROOT,
        SECRETARY,
        "task.assigned",
        json!({"task_id": "pu-no-figure", "cycle": "2021", "assignee": "nguyen-van-binh",
               "title": "Nhiệm vụ không có chỉ tiêu", "kind": "new", "category": "Khác",
               "due": "2021-12-31", "targets": [], "origin": "committee"}),
    );
    s.at("2021-06-01T08:00:00+07:00").submit(
        "hop-thanh",
        "hoang-the-manh",
        "progress.reported",
        json!({"task_id": "ht-done", "as_of": "2021-05-31", "values": [{"metric": "m", "value": 10}]}),
    );
    let read = s.read_model("read");
    let d = read
        .dashboard(Some("2021"), ms("2021-06-02T00:00:00Z"))
        .unwrap();
    let mean = d.mean_percent.expect("a mean");
    assert!((mean - 100.0 / 3.0).abs() < 1e-9, "{mean}");
    let line = |unit: &str| {
        d.by_unit
            .iter()
            .find(|l| l.unit == unit)
            .unwrap_or_else(|| panic!("a line for {unit}"))
    };
    assert_eq!(line("hop-thanh").mean_percent, Some(100.0));
    assert_eq!(line("hop-thanh").rollup.tasks, 4);
    assert_eq!(line("phuc-ung").mean_percent, Some(0.0));
    assert_eq!(d.open, 4, "not rated yet: neither evaluated nor cancelled");
}

#[test]
fn search_ignores_case_and_vietnamese_diacritics() {
    let mut s = district();
    s.assign(
        ROOT,
        SECRETARY,
        "thi-tran",
        "2021",
        "hoang-the-manh",
        "Xây dựng thị trấn Sơn Dương văn minh",
        "2021-12-31",
        (0.0, 10.0),
    );
    s.assign(
        ROOT,
        SECRETARY,
        "nuoc-sach",
        "2021",
        "nguyen-van-binh",
        "Nước sạch cho Phúc Ứng",
        "2021-12-31",
        (0.0, 10.0),
    );
    // Đỗ Xuân Phúc registers a task for himself; another member of the
    // district's committee approves it (nobody judges their own work).
    s.cadre(
        SECRETARY,
        "pho-bi-thu",
        "Phó Bí thư (dữ liệu mẫu)",
        ROOT,
        true,
    );
    s.submit(
        ROOT,
        SECRETARY,
        "task.registered",
        json!({"task_id": "cai-cach", "cycle": "2021", "title": "Cải cách hành chính",
               "kind": "difficult", "category": "Hành chính", "due": "2021-10-31", "targets": []}),
    );
    s.submit(
        ROOT,
        "pho-bi-thu",
        "task.approved",
        json!({"task_id": "cai-cach"}),
    );
    let read = s.read_model("read");
    let now = "2021-06-01T00:00:00Z";
    let search = |q: &str| {
        let mut found: Vec<String> = list(
            &read,
            TaskFilter {
                q: Some(q.to_owned()),
                ..TaskFilter::default()
            },
            now,
        )
        .into_iter()
        .map(|t| t.task_id)
        .collect();
        found.sort();
        found
    };
    // "Sơn Dương" is in one title and in the name of the district, whose
    // cadre carries "cai-cach".
    for q in [
        "son duong",
        "SON DUONG",
        "Sơn Dương",
        "so\u{031b}n du\u{031b}o\u{031b}ng",
        "  sơn   dương ",
    ] {
        assert_eq!(search(q), vec!["cai-cach", "thi-tran"], "q={q:?}");
    }
    for q in ["do xuan phuc", "Đỗ Xuân Phúc", "DO XUAN PHUC", "phuc do"] {
        assert_eq!(search(q), vec!["cai-cach"], "q={q:?}");
    }
    assert_eq!(search("phuc ung"), vec!["nuoc-sach"]);
    assert_eq!(search("hop thanh"), vec!["thi-tran"]);
    assert_eq!(search("hoang the manh"), vec!["thi-tran"]);
    assert_eq!(search("cải cách"), vec!["cai-cach"]);
    assert!(search("son duong ha giang").is_empty());
    assert!(search("100%_").is_empty(), "LIKE wildcards are literal");
    let person = one(&read, "cai-cach", now);
    assert_eq!(person.assignee_name, "Đỗ Xuân Phúc");
    assert_eq!(person.unit_name, "Huyện Sơn Dương");
    assert_eq!(person.origin, "self_registered");
    assert_eq!(
        person.percent_complete, None,
        "no targets, nothing reported"
    );
}
