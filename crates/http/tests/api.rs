//! The HTTP API against the whole app: real NATS, the writer, the
//! projection worker and the server, driven only through HTTP.

mod common;

use common::{App, HOP_THANH_TASK, MANH, PHUC_UNG, SECRETARY, TU_THINH};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn has_members(value: &Value, members: &[&str], what: &str) {
    for member in members {
        assert!(
            value.get(member).is_some(),
            "{what} lacks {member:?}: {value:#}"
        );
    }
}

fn position_header(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("x-dotpha-position")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{} has no X-Dotpha-Position", response.url()))
}

const TASK_MEMBERS: &[&str] = &[
    "task_id",
    "title",
    "cycle",
    "assignee",
    "assignee_name",
    "unit",
    "kind",
    "category",
    "origin",
    "status",
    "percent_complete",
    "due",
    "overdue",
    "rating",
    "score",
];

/// The members `schema` of the OpenAPI document lists (following `allOf`).
fn schema_members(doc: &Value, schema: &str) -> Vec<String> {
    let s = &doc["components"]["schemas"][schema];
    let mut out: Vec<String> = s["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in s["allOf"].as_array().into_iter().flatten() {
        match part["$ref"].as_str() {
            Some(r) => out.extend(schema_members(
                doc,
                r.trim_start_matches("#/components/schemas/"),
            )),
            None => out.extend(
                part["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
        }
    }
    out
}

/// Every member of `answer` is documented in the OpenAPI `schema`.
#[track_caller]
fn documented(answer: &Value, schema: &str) {
    let doc: Value = serde_json::from_str(include_str!("../src/openapi.json")).expect("JSON");
    let members = schema_members(&doc, schema);
    assert!(!members.is_empty(), "no schema {schema}");
    for key in answer.as_object().expect("an object").keys() {
        assert!(
            members.contains(key),
            "{key} is answered but not documented in openapi.json's {schema}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_route_answers_with_its_members() {
    let (app, head) = App::with_district(false).await;

    // Read-model answers carry the position they reflect.
    for path in [
        "/api/v1/dashboard?cycle=2021",
        "/api/v1/tasks",
        "/api/v1/tasks/ndp-2021-01",
        "/api/v1/tasks/ndp-2021-01/history",
        "/api/v1/units/son-duong",
        "/api/v1/cadres/hoang-the-manh",
        "/api/v1/cycles",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(position_header(&response) >= head, "{path}");
    }

    let (_, dashboard) = app.get_json("/api/v1/dashboard?cycle=2021", None).await;
    has_members(
        &dashboard,
        &[
            "cycle",
            "tasks",
            "cadres",
            "by_status",
            "by_rating",
            "overdue",
            "excellent_quota_exceeded",
        ],
        "the dashboard",
    );
    assert_eq!(dashboard["cycle"], "2021");
    assert_eq!(dashboard["tasks"], 5);
    assert_eq!(dashboard["cadres"], 4);
    assert_eq!(dashboard["by_rating"]["excellent"], 1);
    // The district's committee rated one excellent beside two good: over
    // the quota, counted per evaluating body (CONTRACT part A; until issue
    // 11 it was counted per assignee's unit and named ban-to-chuc).
    assert_eq!(dashboard["excellent_quota_exceeded"], json!(["son-duong"]));
    // Every figure the overview shows is in the answer, computed by the
    // domain: the mean over the tasks that count, the tasks not rated yet.
    let percents: Vec<f64> = {
        let (_, list) = app.get_json("/api/v1/tasks?cycle=2021", None).await;
        list["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["status"] != "cancelled")
            .filter_map(|t| t["percent_complete"].as_f64())
            .collect()
    };
    let mean = dashboard["mean_percent"].as_f64().expect("a mean");
    assert!(
        (mean - percents.iter().sum::<f64>() / percents.len() as f64).abs() < 1e-9,
        "{mean} is the mean of {percents:?}"
    );
    assert_eq!(dashboard["open"], 2, "two tasks not rated yet");
    documented(&dashboard, "Dashboard");

    let (_, list) = app.get_json("/api/v1/tasks?cycle=2021", None).await;
    let tasks = list["tasks"].as_array().expect("a tasks list");
    assert_eq!(tasks.len(), 5);
    for task in tasks {
        has_members(task, TASK_MEMBERS, "a listed task");
        documented(task, "TaskSummary");
    }
    let origins: Vec<&str> = tasks.iter().filter_map(|t| t["origin"].as_str()).collect();
    assert!(origins.contains(&"self_registered") && origins.contains(&"backlog"));

    // Search ignores case and diacritics.
    let (_, found) = app.get_json("/api/v1/tasks?q=hop%20thanh", None).await;
    let titles: Vec<&str> = found["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert!(
        titles.iter().any(|t| t.contains("Hợp Thành")),
        "q=hop thanh finds Hợp Thành: {titles:?}"
    );
    let (_, none) = app.get_json("/api/v1/tasks?q=khong-co-dau", None).await;
    assert_eq!(none["tasks"], json!([]));

    let (_, task) = app
        .get_json(&format!("/api/v1/tasks/{HOP_THANH_TASK}"), None)
        .await;
    has_members(&task, TASK_MEMBERS, "a task");
    documented(&task, "Task");
    for target in task["targets"].as_array().expect("targets") {
        documented(target, "Target");
    }
    has_members(
        &task,
        &[
            "description",
            "targets",
            "plan",
            "delegations",
            "last_report",
        ],
        "a task",
    );
    for target in task["targets"].as_array().expect("targets") {
        has_members(
            target,
            &["metric", "label", "baseline", "target", "latest", "series"],
            "a target",
        );
    }
    has_members(
        &task["plan"],
        &["solutions", "milestones", "revision"],
        "a plan",
    );
    assert_eq!(task["delegations"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        task["targets"][1]["series"].as_array().map(Vec::len),
        Some(2)
    );

    let (_, history) = app
        .get_json(&format!("/api/v1/tasks/{HOP_THANH_TASK}/history"), None)
        .await;
    let events = history["events"].as_array().expect("events");
    assert_eq!(events[0]["type"], "task.assigned");
    for event in events {
        has_members(
            event,
            &[
                "schema",
                "position",
                "stream",
                "version",
                "type",
                "unit",
                "actor",
                "occurred_at",
                "recorded_at",
                "submission_id",
                "data",
                "prev_hash",
                "hash",
            ],
            "an event",
        );
    }

    let (_, unit) = app.get_json("/api/v1/units/son-duong", None).await;
    has_members(
        &unit,
        &[
            "code",
            "name",
            "kind",
            "parent",
            "valid_from",
            "valid_to",
            "successor",
            "rollup",
        ],
        "a unit",
    );
    has_members(
        &unit["rollup"],
        &["tasks", "cadres", "by_status", "by_rating"],
        "a roll-up",
    );
    assert_eq!(unit["rollup"]["tasks"], 5);
    let (status, as_was) = app
        .get_json("/api/v1/units/hop-thanh?view=as_was", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(as_was["children"][0]["code"], "dong-dien");

    let (_, cadre) = app.get_json("/api/v1/cadres/hoang-the-manh", None).await;
    assert_eq!(cadre["full_name"], "Hoàng Thế Mạnh");
    let (_, cycles) = app.get_json("/api/v1/cycles", None).await;
    assert_eq!(cycles["cycles"][0]["cycle"], "2021");

    let (status, verify) = app.get_json("/api/v1/log/verify", None).await;
    assert_eq!(status, StatusCode::OK);
    has_members(
        &verify,
        &["ok", "head_position", "head_hash", "first_bad_position"],
        "the verification",
    );
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["head_position"], head);

    let submission = events[0]["submission_id"].as_str().expect("an id");
    let (status, receipt) = app
        .get_json(&format!("/api/v1/submissions/{submission}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    has_members(
        &receipt,
        &[
            "schema",
            "submission_id",
            "status",
            "duplicate",
            "events",
            "error",
            "recorded_at",
        ],
        "a receipt",
    );

    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let page = app.get("/", None).await;
    assert!(
        page.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("the page");
    assert!(html.contains("data-testid=\"view\""));
    let without_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_svg_namespace.contains("http://") && !without_svg_namespace.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_position_waits_and_live_announces_positions() {
    let (app, head) = App::with_district(false).await;

    // The live stream names the read model's position first thing.
    let mut live = app.get("/api/v1/live", None).await;
    assert_eq!(live.status(), StatusCode::OK);
    assert!(
        live.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    let first = next_position(&mut live).await;
    assert_eq!(first, head);

    let position = app
        .act(
            MANH,
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                   "values": [{"metric": "cam-ket-attp", "value": 48}, {"metric": "ho-phan-loai-rac", "value": 350}]}),
        )
        .await;
    assert!(position > head);
    // Asked right after the receipt, with min_position the answer already
    // shows the report.
    let response = app
        .get(
            &format!("/api/v1/tasks/{HOP_THANH_TASK}?min_position={position}"),
            None,
        )
        .await;
    assert!(position_header(&response) >= position);
    let task: Value = response.json().await.expect("JSON");
    assert_eq!(task["percent_complete"], 100.0);
    // And the stream announces it.
    let mut announced = first;
    while announced < position {
        announced = next_position(&mut live).await;
    }
    assert_eq!(announced, position);
    // An open event stream would hold the server's graceful shutdown.
    drop(live);
    app.stop().await;
}

/// Reads SSE chunks until a `position` event and returns its number.
async fn next_position(live: &mut reqwest::Response) -> u64 {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, live.chunk())
            .await
            .expect("a live event within 10 s")
            .expect("the stream stays open")
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(at) = text.find("event: position\ndata: ") {
            let rest = &text[at + "event: position\ndata: ".len()..];
            if let Some(end) = rest.find('\n') {
                return rest[..end].trim().parse().expect("a position");
            }
        }
    }
}

fn assert_json_error(status: StatusCode, body: &Value, expected: StatusCode, what: &str) {
    assert_eq!(status, expected, "{what}: {body:#}");
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: {body:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_fitting_status() {
    let (app, _) = App::with_district(false).await;
    for (path, expected) in [
        ("/api/v1/nope", StatusCode::NOT_FOUND),
        ("/nope", StatusCode::NOT_FOUND),
        ("/api/v1/tasks/ndp-2099-99", StatusCode::NOT_FOUND),
        ("/api/v1/units/khong-co", StatusCode::NOT_FOUND),
        ("/api/v1/tasks?status=nope", StatusCode::BAD_REQUEST),
        ("/api/v1/tasks?kind=easy", StatusCode::BAD_REQUEST),
        ("/api/v1/tasks?unit=Not%20A%20Code", StatusCode::BAD_REQUEST),
        ("/api/v1/tasks?min_position=soon", StatusCode::BAD_REQUEST),
        ("/api/v1/tasks?limit=-1", StatusCode::BAD_REQUEST),
        (
            "/api/v1/units/son-duong?view=yesterday",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/dashboard?at=tomorrow", StatusCode::BAD_REQUEST),
        ("/api/v1/submissions/bad!", StatusCode::BAD_REQUEST),
        ("/api/v1/export/2099.csv", StatusCode::NOT_FOUND),
        ("/api/v1/export/2021.pdf", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = app.get_json(path, None).await;
        assert_json_error(status, &body, expected, path);
    }

    // Acting needs a valid token.
    let progress = json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30", "values": []});
    let (status, body) = app
        .act_with(None, "progress.reported", progress.clone(), json!({}))
        .await;
    assert_json_error(status, &body, StatusCode::UNAUTHORIZED, "no token");
    let (status, body) = app
        .act_with(
            Some("not-a-token-at-all-000"),
            "progress.reported",
            progress.clone(),
            json!({}),
        )
        .await;
    assert_json_error(status, &body, StatusCode::UNAUTHORIZED, "a wrong token");

    // A body over 256 KiB is refused as such.
    let note = "x".repeat(300 * 1024);
    let (status, body) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30", "values": [], "note": note}),
            json!({}),
        )
        .await;
    assert_json_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a 300 KiB body",
    );

    // Not JSON at all.
    let response = app
        .http
        .post(format!("{}/api/v1/submissions", app.url))
        .bearer_auth(MANH)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error");
    assert_json_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "a body that is not JSON",
    );

    // A method the route does not take.
    let response = app
        .http
        .delete(format!("{}/api/v1/tasks", app.url))
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error");
    assert_json_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "DELETE");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_form_names_its_field() {
    let (app, _) = App::with_district(false).await;
    // What a form sends when the first value box holds text, not a number.
    let (status, receipt) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                   "values": [{"metric": "cam-ket-attp", "value": "ba mươi"}]}),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{receipt:#}");
    assert_eq!(receipt["status"], "rejected");
    assert_eq!(receipt["error"]["code"], "malformed");
    assert_eq!(receipt["error"]["field"], "data.values[0].value");
    assert!(receipt["error"]["message"].is_string());

    // A value for a metric the task does not have.
    let (status, receipt) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                   "values": [{"metric": "cam-ket-attp", "value": 31}, {"metric": "km", "value": 1}]}),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(receipt["error"]["field"], "data.values[1].metric");

    // A date outside the cycle.
    let (status, receipt) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2022-01-05", "values": []}),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(receipt["error"]["code"], "invalid_value");
    assert_eq!(receipt["error"]["field"], "data.as_of");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_access_control_a_token_sees_and_acts_only_within_its_unit() {
    let (app, head) = App::with_district(true).await;

    // Without a token, or with a wrong one: 401 on every /api route.
    for path in [
        "/api/v1/tasks",
        "/api/v1/dashboard",
        "/api/v1/units/son-duong",
        "/api/v1/log/verify",
        "/api/v1/export/2021.csv",
    ] {
        let (status, body) = app.get_json(path, None).await;
        assert_json_error(status, &body, StatusCode::UNAUTHORIZED, path);
        let (status, body) = app.get_json(path, Some("wrong-token-0000000000")).await;
        assert_json_error(status, &body, StatusCode::UNAUTHORIZED, path);
    }

    // The district's secretary sees everything.
    let (status, all) = app.get_json("/api/v1/tasks", Some(SECRETARY)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["tasks"].as_array().map(Vec::len), Some(5));
    let (status, _) = app
        .get_json("/api/v1/dashboard?cycle=2021", Some(SECRETARY))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Tú Thịnh sees its own task only ...
    let (status, own) = app.get_json("/api/v1/tasks", Some(TU_THINH)).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = own["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["task_id"].as_str())
        .collect();
    assert_eq!(ids, ["ndp-2021-04"]);
    let (status, _) = app
        .get_json("/api/v1/tasks/ndp-2021-04", Some(TU_THINH))
        .await;
    assert_eq!(status, StatusCode::OK);
    // ... and none of Hợp Thành's.
    for path in [
        format!("/api/v1/tasks/{HOP_THANH_TASK}"),
        format!("/api/v1/tasks/{HOP_THANH_TASK}/history"),
        "/api/v1/tasks?unit=hop-thanh".to_owned(),
        "/api/v1/units/hop-thanh".to_owned(),
        "/api/v1/units/son-duong".to_owned(),
        "/api/v1/cadres/hoang-the-manh".to_owned(),
        "/api/v1/dashboard?cycle=2021".to_owned(),
    ] {
        let (status, body) = app.get_json(&path, Some(TU_THINH)).await;
        assert_json_error(status, &body, StatusCode::FORBIDDEN, &path);
    }
    // Its export holds its own task and no other commune's.
    let csv = app
        .get("/api/v1/export/2021.csv", Some(TU_THINH))
        .await
        .text()
        .await
        .expect("a CSV");
    assert!(csv.contains("ndp-2021-04") && !csv.contains("Hợp Thành"));

    // Nor may it write for Hợp Thành: naming the unit is refused at the
    // door, and acting on its task for its own unit is rejected by the log.
    let report = json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                        "values": [{"metric": "cam-ket-attp", "value": 40}]});
    let (status, body) = app
        .act_with(
            Some(TU_THINH),
            "progress.reported",
            report.clone(),
            json!({"unit": "hop-thanh"}),
        )
        .await;
    assert_json_error(status, &body, StatusCode::FORBIDDEN, "acting for hop-thanh");
    let (status, receipt) = app
        .act_with(
            Some(TU_THINH),
            "progress.reported",
            report.clone(),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{receipt:#}");
    assert_eq!(receipt["error"]["code"], "forbidden");
    // Phúc Ứng cannot either; Hợp Thành's own chair can.
    let (status, _) = app
        .act_with(
            Some(PHUC_UNG),
            "progress.reported",
            report.clone(),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let position = app.act(MANH, "progress.reported", report).await;
    assert!(position > head);
    app.wait_for(position, Some(MANH)).await;
    let (status, task) = app
        .get_json(
            &format!("/api/v1/tasks/{HOP_THANH_TASK}?min_position={position}"),
            Some(MANH),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(task["targets"][0]["latest"], 40.0);
    app.stop().await;
}

/// CONTRACT.md part C, "one decision per id, private to its sender", as the
/// page and the receipt route see it: a commune acting under an id another
/// commune used is refused on the id, and asking for that id it is shown
/// its own refusal, never the other commune's receipt; the district above
/// both sees the decision; naming a unit outside the token's subtree is
/// forbidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_id_is_private_to_the_unit_it_was_decided_for() {
    let (app, _) = App::with_district(true).await;
    let id = "shared-submission-0001";
    let mine = json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                      "values": [{"metric": "cam-ket-attp", "value": 41}]});
    let (status, accepted) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            mine,
            json!({"submission_id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted:#}");
    let hash = accepted["events"][0]["hash"]
        .as_str()
        .expect("a hash")
        .to_owned();

    let theirs = json!({"task_id": "ndp-2021-04", "as_of": "2021-09-30", "values": []});
    let (status, refused) = app
        .act_with(
            Some(TU_THINH),
            "progress.reported",
            theirs,
            json!({"submission_id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused:#}");
    assert_eq!(refused["error"]["code"], "already_exists");
    assert_eq!(refused["error"]["field"], "submission_id");
    assert_eq!(refused["unit"], "tu-thinh");
    assert_eq!(refused["events"], json!([]));

    let path = format!("/api/v1/submissions/{id}");
    for token in [TU_THINH, PHUC_UNG] {
        let (status, seen) = app.get_json(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{seen:#}");
        assert_eq!(seen["status"], "rejected", "{seen:#}");
        assert_eq!(seen["error"]["code"], "already_exists");
        let text = seen.to_string();
        assert!(
            !text.contains("hop-thanh") && !text.contains(&hash),
            "nothing of Hợp Thành's receipt: {text}"
        );
    }
    for token in [MANH, SECRETARY] {
        let (status, seen) = app.get_json(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(seen["status"], "accepted", "{seen:#}");
        assert_eq!(seen["events"][0]["hash"], hash.as_str());
    }
    let (status, seen) = app
        .get_json(&format!("{path}?unit=tu-thinh"), Some(SECRETARY))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        seen["status"], "rejected",
        "the district asks as Tú Thịnh: {seen:#}"
    );
    let (status, body) = app
        .get_json(&format!("{path}?unit=hop-thanh"), Some(TU_THINH))
        .await;
    assert_json_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "asking as another unit",
    );
    app.stop().await;
}

/// The ids `GET /api/v1/tasks?q=` lists, in order.
/// The ids a search finds, in order, from a read model at `min_position`
/// at least (what a client that must see its own write asks: without it an
/// answer may be one kept a moment before, `MAX_STALE`).
async fn search(app: &App, q: &str, min_position: u64) -> Vec<String> {
    let min = min_position.to_string();
    let url = reqwest::Url::parse_with_params(
        "http://x/api/v1/tasks",
        [("q", q), ("min_position", min.as_str())],
    )
    .expect("a URL");
    let (status, list) = app
        .get_json(
            &format!("/api/v1/tasks?{}", url.query().unwrap_or("")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}: {list}");
    list["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["task_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_names_first_reads_phrases_and_plans() {
    let (app, _) = App::with_district(false).await;
    // A cooperative task in Tú Thịnh, due before Hợp Thành's own.
    let head = app
        .act(
            SECRETARY,
            "task.assigned",
            json!({"task_id": "hop-tac-xa", "cycle": "2021", "assignee": "chu-tich-tu-thinh",
                   "title": "Thành lập tổ hợp tác, hợp tác xã do hội viên nông dân làm nòng cốt",
                   "kind": "new", "category": "Kinh tế", "due": "2021-03-31", "origin": "committee",
                   "targets": [{"metric": "htx", "label": "Hợp tác xã", "baseline": 0, "target": 2}]}),
        )
        .await;
    app.wait_for(head, None).await;
    let found = search(&app, "hop thanh", head).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some(HOP_THANH_TASK),
        "Hợp Thành's task first: {found:?}"
    );
    assert!(found.contains(&"hop-tac-xa".to_owned()), "{found:?}");
    assert_eq!(search(&app, "\"to hop tac\"", head).await, ["hop-tac-xa"]);
    assert_eq!(
        search(&app, "\"Tổ hợp tác\" NÔNG dân", head).await,
        ["hop-tac-xa"]
    );
    assert!(search(&app, "\"hop thanh tac\"", head).await.is_empty());
    // Words only in a plan's solution or a delegation find their task.
    assert_eq!(search(&app, "huu co vo co", head).await, [HOP_THANH_TASK]);
    assert_eq!(
        search(&app, "\"ho gia dinh\"", head).await,
        [HOP_THANH_TASK]
    );
    // A milestone's title: every plan of the district has "Sơ kết 6 tháng".
    let milestone = search(&app, "so ket 6 thang", head).await;
    assert_eq!(
        milestone.len(),
        4,
        "the four tasks with a plan: {milestone:?}"
    );
    // A word only in a revised plan's milestone.
    let head = app
        .act(
            MANH,
            "plan.submitted",
            json!({"task_id": HOP_THANH_TASK,
                   "solutions": ["Hướng dẫn hộ gia đình phân loại rác tại nhà"],
                   "milestones": [{"title": "Nghiệm thu lò đốt rác Khuôn Thần", "due": "2021-10-31"}]}),
        )
        .await;
    app.wait_for(head, None).await;
    assert_eq!(search(&app, "khuon than", head).await, [HOP_THANH_TASK]);
    assert_eq!(
        search(&app, "so ket 6 thang", head).await.len(),
        3,
        "the old plan is gone"
    );
    app.stop().await;
}
