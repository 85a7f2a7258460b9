//! What the page's acting route (`POST /api/v1/submissions`) can no longer
//! do since CONTRACT part C, reproduced as issue 11 found it: with the demo
//! data set and its tokens, a commune's chair graded himself and the merged
//! commune of Hợp Thành took 2026 tasks; a report could describe tomorrow;
//! and after a merge across units the HTTP layer and the rules disagreed
//! about who may see what.

mod common;

use common::{App, HOP_THANH_TASK, HT_SECRETARY, SECRETARY, TU_THINH};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEMO_SECRETARY: &str = "tok-demo-bi-thu-huyen-01";
const DEMO_MANH: &str = "tok-demo-hop-thanh-00002";
const DEMO_BINH_YEN: &str = "tok-demo-binh-yen-000003";

/// The demo data set's submissions, as (unit, body).
fn demo() -> Vec<(String, Vec<u8>)> {
    dotpha_demo::demo()
        .into_iter()
        .map(|s| (s.unit, s.body))
        .collect()
}

/// The demo's party secretary of Bình Yên commune: a Standing Committee
/// member of a commune that was not merged.
fn binh_yen_secretary() -> String {
    dotpha_demo::demo()
        .iter()
        .filter_map(|s| serde_json::from_slice::<Value>(&s.body).ok())
        .find(|v| {
            v["type"] == "cadre.registered"
                && v["data"]["unit"] == "binh-yen"
                && v["data"]["standing_committee"] == true
                && v["data"]["position"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("Bí thư"))
        })
        .and_then(|v| v["data"]["id"].as_str().map(str::to_owned))
        .expect("the demo has Bình Yên's party secretary")
}

/// Today in Vietnam, `YYYY-MM-DD`, shifted by `days`.
fn day(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    dotpha_domain::Timestamp::from_unix_millis(now + days * 86_400_000)
        .date_in_vietnam()
        .to_string()
}

fn task(task_id: &str, cycle: &str) -> Value {
    json!({"task_id": task_id, "cycle": cycle, "title": "Chuyển đổi số trong sinh hoạt chi bộ",
           "kind": "new", "category": "Xây dựng Đảng", "due": format!("{cycle}-11-30"), "targets": []})
}

/// The ids of the tasks listed for `unit` in today's tree.
async fn listed(app: &App, unit: &str) -> Vec<String> {
    let (_, listed) = app
        .get_json(&format!("/api/v1/tasks?unit={unit}"), Some(SECRETARY))
        .await;
    listed["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["task_id"].as_str().map(str::to_owned))
        .collect()
}

/// Acts through the page's route and insists on a rejection with `code`
/// at `field`; returns the receipt.
async fn refuses(
    app: &App,
    token: &str,
    kind: &str,
    data: Value,
    (code, field): (&str, &str),
    what: &str,
) -> Value {
    let (status, receipt) = app.act_with(Some(token), kind, data, json!({})).await;
    refused(status, &receipt, code, field, what);
    receipt
}

#[track_caller]
fn refused(status: StatusCode, receipt: &Value, code: &str, field: &str, what: &str) {
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what} must be refused: {receipt:#}"
    );
    assert_eq!(receipt["status"], "rejected", "{what}: {receipt:#}");
    assert_eq!(receipt["error"]["code"], code, "{what}: {receipt:#}");
    assert_eq!(receipt["error"]["field"], field, "{what}: {receipt:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_demo_tokens_a_cadre_cannot_grade_himself_nor_a_merged_commune_take_new_tasks() {
    let secretary_b = binh_yen_secretary();
    let grants = [
        (DEMO_SECRETARY, dotpha_demo::ROOT, dotpha_demo::SECRETARY),
        (DEMO_MANH, dotpha_demo::HOP_THANH, dotpha_demo::MANH),
        (DEMO_BINH_YEN, "binh-yen", secretary_b.as_str()),
    ];
    let app = App::start_with(false, &grants, &demo()).await;
    app.act(
        DEMO_SECRETARY,
        "cycle.opened",
        json!({"cycle": "2027", "starts_on": "2027-01-01", "ends_on": "2027-12-31"}),
    )
    .await;

    // (The demo's own 2026 cycle is open with tasks of its own; this test
    // counts only what it gives, in a cycle of its own.)
    // Hợp Thành was merged into the new commune Sơn Dương on 2025-07-01:
    // its chair registers nothing new in it, nor gives himself a task.
    let receipt = refuses(
        &app,
        DEMO_MANH,
        "task.registered",
        task("ht-2026-01", "2027"),
        ("invalid_state", "actor"),
        "a 2026 task in Hợp Thành",
    )
    .await;
    assert!(
        receipt["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(dotpha_demo::MERGED_COMMUNE)),
        "the refusal names the successor: {receipt:#}"
    );
    let mut assigned = task("ht-2026-02", "2027");
    assigned["assignee"] = json!(dotpha_demo::MANH);
    assigned["origin"] = json!("committee");
    refuses(
        &app,
        DEMO_MANH,
        "task.assigned",
        assigned,
        ("forbidden", "data.assignee"),
        "a task to himself",
    )
    .await;

    // Bình Yên's secretary, on his commune's committee, registers a task:
    // he may; approving it himself, he may not.
    app.act(DEMO_BINH_YEN, "task.registered", task("by-2026-01", "2027"))
        .await;
    refuses(
        &app,
        DEMO_BINH_YEN,
        "task.approved",
        json!({"task_id": "by-2026-01", "comment": "Đồng ý"}),
        ("forbidden", "actor"),
        "approving his own task",
    )
    .await;
    // Nor assign himself a task.
    let mut assigned = task("by-2026-02", "2027");
    assigned["assignee"] = json!(secretary_b);
    assigned["origin"] = json!("committee");
    refuses(
        &app,
        DEMO_BINH_YEN,
        "task.assigned",
        assigned.clone(),
        ("forbidden", "data.assignee"),
        "a task to himself",
    )
    .await;
    // Nor evaluate the task the district gave him.
    let last = app.act(DEMO_SECRETARY, "task.assigned", assigned).await;
    refuses(
        &app,
        DEMO_BINH_YEN,
        "task.evaluated",
        json!({"task_id": "by-2026-02", "score": 95, "comment": "Hoàn thành xuất sắc"}),
        ("forbidden", "actor"),
        "evaluating his own task",
    )
    .await;

    // So the 2027 overview counts no excellent rating, and no task of the
    // merged commune.
    app.wait_for(last, None).await;
    let (status, dashboard) = app
        .get_json(
            &format!("/api/v1/dashboard?cycle=2027&min_position={last}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dashboard["tasks"], 2, "{dashboard:#}");
    assert_eq!(dashboard["by_rating"], json!({}), "{dashboard:#}");
    assert_eq!(dashboard["excellent_quota_exceeded"], json!([]));
    let units: Vec<&str> = dashboard["by_unit"]
        .as_array()
        .expect("by_unit")
        .iter()
        .filter_map(|l| l["unit"].as_str())
        .collect();
    assert_eq!(units, ["binh-yen"], "{dashboard:#}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_may_not_describe_a_day_after_it_is_sent() {
    let (app, _) = App::with_district(false).await;
    // A cycle around today, whatever today is.
    app.act(
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "hien-tai", "starts_on": day(-200), "ends_on": day(200)}),
    )
    .await;
    app.act(
        SECRETARY,
        "task.assigned",
        json!({"task_id": "ht-hien-tai", "cycle": "hien-tai", "assignee": "hoang-the-manh",
               "title": "Hộ phân loại rác", "kind": "new", "category": "Nông thôn mới",
               "due": day(100), "origin": "committee",
               "targets": [{"metric": "ho", "label": "Hộ", "baseline": 0, "target": 100,
                            "unit": "hộ", "min": 0}]}),
    )
    .await;
    let report = |as_of: String, value: f64| json!({"task_id": "ht-hien-tai", "as_of": as_of, "values": [{"metric": "ho", "value": value}]});
    refuses(
        &app,
        common::MANH,
        "progress.reported",
        report(day(1), 10.0),
        ("invalid_value", "data.as_of"),
        "a report of tomorrow",
    )
    .await;
    refuses(
        &app,
        common::MANH,
        "progress.reported",
        report(day(0), -1.0),
        ("invalid_value", "data.values[0].value"),
        "a count below its minimum",
    )
    .await;
    // Reports of today and of the past are taken, in whatever order; the
    // latest is the one of the greatest `as_of`, and the series is ordered
    // by it.
    app.act(common::MANH, "progress.reported", report(day(0), 40.0))
        .await;
    let last = app
        .act(common::MANH, "progress.reported", report(day(-30), 10.0))
        .await;
    let (_, task) = app
        .get_json(
            &format!("/api/v1/tasks/ht-hien-tai?min_position={last}"),
            None,
        )
        .await;
    let target = &task["targets"][0];
    assert_eq!(target["latest"], 40.0, "{task:#}");
    assert_eq!(target["latest_as_of"], json!(day(0)));
    assert_eq!(target["percent_complete"], 40.0);
    assert_eq!(target["unit"], "hộ");
    let days: Vec<&str> = target["series"]
        .as_array()
        .expect("a series")
        .iter()
        .filter_map(|p| p["as_of"].as_str())
        .collect();
    assert_eq!(days, [day(-30), day(0)]);
    assert_eq!(task["percent_complete"], 40.0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_merge_across_units_the_http_layer_agrees_with_the_rules() {
    let (app, _) = App::with_district(true).await;
    // Hợp Thành's committee gives a task to the head of its village Đồng
    // Diễn; then Đồng Diễn is merged into Tú Thịnh.
    for (id, name, unit, position, committee) in [
        (
            "bi-thu-hop-thanh",
            "Đặng Thị Mẫu",
            "hop-thanh",
            "Bí thư Đảng ủy xã",
            true,
        ),
        (
            "truong-thon-dong-dien",
            "Vi Văn Mẫu",
            "dong-dien",
            "Trưởng thôn",
            false,
        ),
    ] {
        app.act(
            SECRETARY,
            "cadre.registered",
            json!({"id": id, "full_name": format!("{name} (dữ liệu mẫu)"), "unit": unit,
                   "position": position, "party_member": true, "standing_committee": committee}),
        )
        .await;
    }
    app.act(
        HT_SECRETARY,
        "task.assigned",
        json!({"task_id": "dd-2021", "cycle": "2021", "assignee": "truong-thon-dong-dien",
               "title": "Thôn Đồng Diễn phân loại rác tại nguồn", "kind": "new",
               "category": "Nông thôn mới", "due": "2021-12-15", "origin": "committee",
               "targets": []}),
    )
    .await;
    let merged = app
        .act(
            SECRETARY,
            "unit.merged",
            json!({"into": "tu-thinh", "from": ["dong-dien"], "effective_on": "2025-07-01"}),
        )
        .await;
    app.wait_for(merged, Some(SECRETARY)).await;

    // The rules: the body that gave the task judges it, and Đồng Diễn is
    // still within Hợp Thành (its history stays where it was) as well as
    // within Tú Thịnh. So Hợp Thành's secretary sees the task and its
    // village, as Tú Thịnh's chair does.
    for token in [HT_SECRETARY, TU_THINH, SECRETARY] {
        for path in ["/api/v1/tasks/dd-2021", "/api/v1/units/dong-dien"] {
            let (status, body) = app.get_json(path, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "{token} reads {path}: {body:#}");
        }
    }
    // And judges it, through the page.
    let evaluated = app
        .act(
            HT_SECRETARY,
            "task.evaluated",
            json!({"task_id": "dd-2021", "rating": "good", "comment": "Đạt yêu cầu"}),
        )
        .await;
    app.wait_for(evaluated, Some(HT_SECRETARY)).await;
    // Today's roll-ups count the village once, in its successor.
    let tu_thinh = listed(&app, "tu-thinh").await;
    assert!(tu_thinh.contains(&"dd-2021".to_owned()), "{tu_thinh:?}");
    let hop_thanh = listed(&app, "hop-thanh").await;
    assert!(!hop_thanh.contains(&"dd-2021".to_owned()), "{hop_thanh:?}");
    assert!(
        hop_thanh.contains(&HOP_THANH_TASK.to_owned()),
        "{hop_thanh:?}"
    );
    // Phúc Ứng sees none of it.
    let (status, _) = app
        .get_json("/api/v1/tasks/dd-2021", Some(common::PHUC_UNG))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}
