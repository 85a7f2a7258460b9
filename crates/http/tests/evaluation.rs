//! Evaluation by period (CONTRACT part A) through HTTP: periods,
//! milestones, reviews, self-assessments and decisions acted through
//! `POST /api/v1/submissions`, then read back from the part A routes with
//! their figures, filters, errors and access rules.

mod common;

use common::{App, HOP_THANH_TASK, MANH, PHUC, PHUC_UNG, SECRETARY, TU_THINH};
use reqwest::StatusCode;
use serde_json::{Value, json};

const Q2: &str = "2021-q2";
const SIX_MONTHS: &str = "Sơ kết 6 tháng";

/// The district, with Q2 and the year 2021 open; Hợp Thành's chair done on
/// time with two major errors found, self-assessed and decided good; Phúc
/// Ứng's done on time and decided excellent (beside one good: over the
/// quota); Tú Thịnh's done after the quarter. Returns the last position.
async fn evaluated(app: &App) -> u64 {
    app.district().await;
    app.act(
        SECRETARY,
        "period.opened",
        json!({"period": Q2, "kind": "quarter", "starts_on": "2021-04-01", "ends_on": "2021-06-30"}),
    )
    .await;
    app.act(
        SECRETARY,
        "period.opened",
        json!({"period": "2021", "kind": "year", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    )
    .await;
    for (token, task, on) in [
        (MANH, HOP_THANH_TASK, "2021-06-25"),
        (PHUC_UNG, "ndp-2021-05", "2021-06-20"),
        (TU_THINH, "ndp-2021-04", "2021-07-05"),
    ] {
        app.act(
            token,
            "milestone.completed",
            json!({"task_id": task, "milestone": SIX_MONTHS, "completed_on": on}),
        )
        .await;
    }
    app.act(
        SECRETARY,
        "product.reviewed",
        json!({"task_id": HOP_THANH_TASK, "milestone": SIX_MONTHS, "major_errors": 2,
               "comment": "Báo cáo sơ kết thiếu số liệu hai thôn"}),
    )
    .await;
    app.act(
        MANH,
        "assessment.self_submitted",
        json!({"period": Q2, "general_points": 27.5, "note": "Hoàn thành mốc sơ kết đúng hạn"}),
    )
    .await;
    app.act(
        SECRETARY,
        "assessment.decided",
        json!({"cadre": "hoang-the-manh", "period": Q2, "peer_group": "chu-tich-xa",
               "general_points": 26}),
    )
    .await;
    app.act(
        SECRETARY,
        "assessment.decided",
        json!({"cadre": "chu-tich-phuc-ung", "period": Q2, "peer_group": "chu-tich-xa",
               "general_points": 25}),
    )
    .await
}

fn line<'v>(answer: &'v Value, cadre: &str) -> &'v Value {
    answer["assessments"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["cadre"] == cadre))
        .unwrap_or_else(|| panic!("no line for {cadre}: {answer:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_period_routes_answer_with_the_writers_figures() {
    let app = App::start(false).await;
    let head = evaluated(&app).await;
    app.wait_for(head, None).await;

    let (status, periods) = app.get_json("/api/v1/periods", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        periods["periods"],
        json!([
            {"period": "2021", "kind": "year", "starts_on": "2021-01-01", "ends_on": "2021-12-31", "closed": false},
            {"period": Q2, "kind": "quarter", "starts_on": "2021-04-01", "ends_on": "2021-06-30", "closed": false},
        ])
    );

    let response = app
        .get(
            &format!("/api/v1/periods/{Q2}/assessments?min_position={head}"),
            None,
        )
        .await;
    assert!(response.headers().contains_key("x-dotpha-position"));
    let sheet: Value = response.json().await.expect("JSON");
    let cadres: Vec<&str> = sheet["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["cadre"].as_str())
        .collect();
    assert_eq!(cadres.len(), 4, "every cadre with a product: {cadres:?}");

    // Hợp Thành's chair: done on time, quality halved by two errors:
    // 70 × (1 + 0.5 + 1) / 3 = 58.33; 26 + 58.33 = 84.33, good.
    let manh = line(&sheet, "hoang-the-manh");
    assert_eq!(manh["self_points"], json!(27.5));
    assert_eq!(manh["general_points"], json!(26));
    assert_eq!(manh["task_points"], json!(58.33));
    assert_eq!(manh["total"], json!(84.33));
    assert_eq!(manh["ceiling"], json!("good"));
    assert_eq!(manh["rating"], json!("good"));
    assert_eq!(manh["evaluating_unit"], json!("son-duong"));
    assert_eq!(manh["peer_group"], json!("chu-tich-xa"));
    assert_eq!(manh["quota_exceeded"], json!(true));
    assert_eq!(
        (&manh["products_done"], &manh["products_on_time"]),
        (&json!(1), &json!(1))
    );
    let product = &manh["products"][0];
    assert_eq!(product["milestone"], json!(SIX_MONTHS));
    assert_eq!(product["done_on"], json!("2021-06-25"));
    assert_eq!(
        (&product["q"], &product["l"], &product["p"]),
        (&json!(1), &json!(0.5), &json!(1))
    );
    assert_eq!(product["status"], json!("on_time"));

    let phuc_ung = line(&sheet, "chu-tich-phuc-ung");
    assert_eq!(phuc_ung["rating"], json!("excellent"));
    assert_eq!(phuc_ung["total"], json!(95));

    // Not decided: the figures are null, the products the log's now.
    let tu_thinh = line(&sheet, "chu-tich-tu-thinh");
    assert_eq!(tu_thinh["general_points"], Value::Null);
    assert_eq!(tu_thinh["rating"], Value::Null);
    assert_eq!(tu_thinh["products"][0]["status"], json!("not_done"));
    assert_eq!(tu_thinh["products"][0]["done_on"], json!("2021-07-05"));
    assert_eq!(tu_thinh["products_done"], json!(0));

    // Filters.
    let (_, by_group) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?peer_group=chu-tich-xa"),
            None,
        )
        .await;
    assert_eq!(by_group["assessments"].as_array().map(Vec::len), Some(2));
    let (_, by_name) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?q=hoang%20the%20MANH"),
            None,
        )
        .await;
    assert_eq!(by_name["assessments"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_name["assessments"][0]["cadre"], json!("hoang-the-manh"));
    let (_, by_unit) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?unit=phuc-ung"),
            None,
        )
        .await;
    assert_eq!(by_unit["assessments"].as_array().map(Vec::len), Some(1));

    // The quota per evaluating body and peer group: 1 excellent beside 1
    // good is over 20%.
    let (status, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let groups = quota["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{quota:#}");
    assert_eq!(groups[0]["evaluating_unit"], json!("son-duong"));
    assert_eq!(groups[0]["peer_group"], json!("chu-tich-xa"));
    assert_eq!(
        (
            &groups[0]["excellent"],
            &groups[0]["good"],
            &groups[0]["limit"],
            &groups[0]["exceeded"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(true))
    );

    // The year: Đỗ Xuân Phúc's task reached 400 of 400 on 30 September.
    let (_, year) = app.get_json("/api/v1/periods/2021/assessments", None).await;
    let phuc = line(&year, "do-xuan-phuc");
    let task = phuc["products"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["milestone"].is_null()))
        .expect("the task itself is a product of the year");
    assert_eq!(task["done_on"], json!("2021-09-30"));
    assert_eq!(task["status"], json!("on_time"));

    // One cadre over every period, newest first.
    let (status, own) = app
        .get_json("/api/v1/cadres/hoang-the-manh/assessments", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let periods: Vec<&str> = own["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["period"].as_str())
        .collect();
    assert_eq!(periods, ["2021", Q2]);

    // Errors are JSON with a fitting status.
    for path in [
        "/api/v1/periods/2021-q9/assessments",
        "/api/v1/periods/2021-q9/quota",
        "/api/v1/cadres/khong-co/assessments",
    ] {
        let (status, body) = app.get_json(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], json!("not_found"), "{path}");
    }
    let (status, body) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments?unit=Hop"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].is_string());

    // A rating above the ceiling is refused, through HTTP as anywhere.
    let (_, receipt) = app
        .act_with(
            Some(SECRETARY),
            "assessment.decided",
            json!({"cadre": "chu-tich-tu-thinh", "period": Q2, "peer_group": "chu-tich-xa",
                   "general_points": 30, "rating": "completed"}),
            json!({}),
        )
        .await;
    assert_eq!(receipt["status"], json!("rejected"), "{receipt:#}");
    assert_eq!(receipt["error"]["field"], json!("data.rating"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_access_a_token_reads_assessments_within_its_unit() {
    let app = App::start(true).await;
    let head = evaluated(&app).await;
    app.wait_for(head, Some(SECRETARY)).await;

    let (status, _) = app.get_json("/api/v1/periods", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, sheet) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments"), Some(MANH))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cadres: Vec<&str> = sheet["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["cadre"].as_str())
        .collect();
    assert_eq!(cadres, ["hoang-the-manh"]);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?unit=phuc-ung"),
            Some(MANH),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .get_json("/api/v1/cadres/chu-tich-phuc-ung/assessments", Some(MANH))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, own) = app
        .get_json("/api/v1/cadres/hoang-the-manh/assessments", Some(MANH))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!own["assessments"].as_array().expect("a list").is_empty());

    // The district's committee is the evaluating body: a commune's token
    // sees no group, the district's sees it.
    let (_, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), Some(MANH))
        .await;
    assert_eq!(quota["groups"], json!([]));
    let (_, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), Some(SECRETARY))
        .await;
    assert_eq!(quota["groups"].as_array().map(Vec::len), Some(1));
    let (status, _) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments"), Some(PHUC))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}
