//! Evaluation checked by someone else: `tests/check_evaluation.py`, written
//! in Python from CONTRACT.md part A alone, recomputes the products, task
//! points, totals, ceilings and ratings of every `assessment.decided` in a
//! log the real writer built, and the excellent quota per evaluating body
//! and peer group, and must agree with the events and with the period
//! routes; and it must name the first figure that was altered.
//!
//! python3 is required: without it these tests fail, they do not skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{App, HOP_THANH_TASK, HT_SECRETARY, MANH, PHUC, PHUC_UNG, SECRETARY, TU_THINH};
use serde_json::json;

const SIX_MONTHS: &str = "Sơ kết 6 tháng";
const YEAR_END: &str = "Tổng kết";
const PILOT: &str = "Hoàn thành thí điểm Đồng Diễn";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/check_evaluation.py")
}

fn python(args: &[&str]) -> Output {
    let script = script();
    assert!(
        script.is_file(),
        "the checker is missing: {}",
        script.display()
    );
    Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is required to check the evaluation independently \
                 (tests/check_evaluation.py), but it could not be run: {e}"
            )
        })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every rule of part A at work over the test district: four periods (a
/// quarter without products, decisions with given task points), milestones
/// done on time, late, after the period and never; a task done by a report
/// that arrived after a later one; a revised plan; reviews replaced by
/// later ones; a task reassigned and one cancelled; decisions replaced,
/// given a rating below the ceiling, disqualified; two evaluating bodies;
/// a quota exceeded; a closed period. Returns the last position.
async fn history(app: &App) -> u64 {
    app.district().await;
    app.act(
        SECRETARY,
        "cadre.registered",
        json!({"id": "bi-thu-hop-thanh", "full_name": "Đặng Thị Mẫu (dữ liệu mẫu)",
               "unit": "hop-thanh", "position": "Bí thư Đảng ủy xã", "party_member": true,
               "standing_committee": true}),
    )
    .await;
    for (period, kind, starts, ends) in [
        ("2021-q1", "quarter", "2021-01-01", "2021-03-31"),
        ("2021-q2", "quarter", "2021-04-01", "2021-06-30"),
        ("2021-q4", "quarter", "2021-10-01", "2021-12-31"),
        ("2021", "year", "2021-01-01", "2021-12-31"),
    ] {
        app.act(
            SECRETARY,
            "period.opened",
            json!({"period": period, "kind": kind, "starts_on": starts, "ends_on": ends}),
        )
        .await;
    }
    // Quarter 1: nobody has a product; the committee gives task points.
    for (cadre, group, general, task, rating) in [
        ("do-xuan-phuc", "truong-ban", 28, 65.5, None),
        ("hoang-the-manh", "chu-tich-xa", 25, 60.25, None),
        ("chu-tich-tu-thinh", "chu-tich-xa", 20, 55.5, None),
        ("chu-tich-phuc-ung", "chu-tich-xa", 29, 70.0, Some("good")),
    ] {
        let mut data = json!({"cadre": cadre, "period": "2021-q1", "peer_group": group,
                              "general_points": general, "task_points": task});
        if let Some(rating) = rating {
            data["rating"] = json!(rating);
        }
        app.act(SECRETARY, "assessment.decided", data).await;
    }
    app.act(SECRETARY, "period.closed", json!({"period": "2021-q1"}))
        .await;

    // Milestones: on time, late, after the quarter.
    for (token, task, milestone, on) in [
        (MANH, HOP_THANH_TASK, SIX_MONTHS, "2021-06-25"),
        (PHUC_UNG, "ndp-2021-05", SIX_MONTHS, "2021-06-20"),
        (TU_THINH, "ndp-2021-04", SIX_MONTHS, "2021-07-05"),
        (PHUC, "ndp-2021-01", SIX_MONTHS, "2021-07-10"),
        (PHUC_UNG, "ndp-2021-05", YEAR_END, "2021-11-20"),
    ] {
        app.act(
            token,
            "milestone.completed",
            json!({"task_id": task, "milestone": milestone, "completed_on": on}),
        )
        .await;
    }
    // Hợp Thành's plan revised: the completed milestone keeps its day.
    app.act(
        MANH,
        "plan.submitted",
        json!({"task_id": HOP_THANH_TASK, "solutions": ["Thí điểm trước, nhân rộng sau"],
               "milestones": [{"title": SIX_MONTHS, "due": "2021-06-30"},
                              {"title": PILOT, "due": "2021-09-30"},
                              {"title": YEAR_END, "due": "2021-11-30"}]}),
    )
    .await;
    app.act(
        MANH,
        "milestone.completed",
        json!({"task_id": HOP_THANH_TASK, "milestone": YEAR_END, "completed_on": "2021-12-05"}),
    )
    .await;
    // Reviews: the latest counts.
    for (task, milestone, errors) in [
        (HOP_THANH_TASK, Some(SIX_MONTHS), 2),
        (HOP_THANH_TASK, Some(SIX_MONTHS), 1),
        ("ndp-2021-05", None, 5),
        ("ndp-2021-05", Some(YEAR_END), 3),
        ("ndp-2021-01", Some(SIX_MONTHS), 0),
    ] {
        let mut data = json!({"task_id": task, "major_errors": errors});
        if let Some(m) = milestone {
            data["milestone"] = json!(m);
        }
        app.act(SECRETARY, "product.reviewed", data).await;
    }
    // Hợp Thành's task reaches its targets on 10 December; then a report
    // about 28 November arrives: the task was done on the 28th.
    for as_of in ["2021-12-10", "2021-11-28"] {
        app.act(
            MANH,
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": as_of,
                   "values": [{"metric": "cam-ket-attp", "value": 48},
                              {"metric": "ho-phan-loai-rac", "value": 350}]}),
        )
        .await;
    }
    // Products follow the current assignee and ignore cancelled tasks.
    app.act(
        SECRETARY,
        "task.reassigned",
        json!({"task_id": "ndp-2021-03", "assignee": "chu-tich-tu-thinh",
               "reason": "Điều động công tác"}),
    )
    .await;
    app.act(SECRETARY, "task.assigned", json!({
        "task_id": "ndp-2021-06", "cycle": "2021", "assignee": "chu-tich-phuc-ung",
        "title": "Sáp nhập thôn nhỏ", "kind": "difficult", "category": "Tổ chức",
        "due": "2021-11-15", "origin": "committee",
        "targets": [{"metric": "thon", "label": "Thôn sau sáp nhập", "baseline": 12, "target": 9}]}))
    .await;
    app.act(
        SECRETARY,
        "task.cancelled",
        json!({"task_id": "ndp-2021-06", "reason": "Chờ chủ trương của tỉnh"}),
    )
    .await;

    // Quarter 2: a decision replaced, one disqualified, one over the quota.
    for (cadre, general, rating, disqualified) in [
        ("hoang-the-manh", 24.0, Some("completed"), None),
        ("hoang-the-manh", 24.0, None, None),
        ("chu-tich-phuc-ung", 25.0, None, None),
        ("chu-tich-tu-thinh", 21.0, None, None),
        ("do-xuan-phuc", 30.0, None, Some("discipline")),
    ] {
        let group = if cadre == "do-xuan-phuc" {
            "truong-ban"
        } else {
            "chu-tich-xa"
        };
        let mut data = json!({"cadre": cadre, "period": "2021-q2", "peer_group": group,
                              "general_points": general});
        if let Some(rating) = rating {
            data["rating"] = json!(rating);
        }
        if let Some(d) = disqualified {
            data["disqualified"] = json!(d);
        }
        app.act(SECRETARY, "assessment.decided", data).await;
    }
    app.act(
        MANH,
        "assessment.self_submitted",
        json!({"period": "2021-q4", "general_points": 28}),
    )
    .await;
    // Quarter 4: Hợp Thành's own committee evaluates its chair.
    app.act(
        HT_SECRETARY,
        "assessment.decided",
        json!({"cadre": "hoang-the-manh", "period": "2021-q4", "peer_group": "chu-tich-xa",
               "general_points": 27.75}),
    )
    .await;
    app.act(
        SECRETARY,
        "assessment.decided",
        json!({"cadre": "chu-tich-phuc-ung", "period": "2021-q4", "peer_group": "chu-tich-xa",
               "general_points": 24.33}),
    )
    .await;
    // The year, for everyone.
    let mut last = 0;
    for (cadre, group, general) in [
        ("do-xuan-phuc", "truong-ban", 29.5),
        ("hoang-the-manh", "chu-tich-xa", 27.0),
        ("chu-tich-tu-thinh", "chu-tich-xa", 18.0),
        ("chu-tich-phuc-ung", "chu-tich-xa", 26.0),
    ] {
        last = app
            .act(
                SECRETARY,
                "assessment.decided",
                json!({"cadre": cadre, "period": "2021", "peer_group": group,
                       "general_points": general}),
            )
            .await;
    }
    last
}

/// A consistent copy of the log (the writer keeps it open in WAL mode).
fn copy_of(log: &Path, to: &Path) -> PathBuf {
    let copy = to.join("copy.sqlite");
    dotpha_store::Log::open_read_only(log)
        .expect("open the log")
        .backup(&copy)
        .expect("a copy");
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_checker_recomputes_every_decision_and_the_routes_agree() {
    let output = python(&["--self-test"]);
    assert!(
        output.status.success(),
        "self-test: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );

    let app = App::start(false).await;
    let head = history(&app).await;
    app.wait_for(head, None).await;
    let log = app.log_path();
    let output = python(&[
        "--log",
        log.to_str().expect("UTF-8 path"),
        "--url",
        &app.url,
    ]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "the independent check must pass:\n{stdout}{}",
        text(&output.stderr)
    );
    // 4 + 5 + 2 + 4 decisions, each recomputed from the log before it.
    assert!(
        stdout.contains(&format!(
            "15 decisions recomputed up to position {head}, routes agree, ok"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "2021-q2: 4 cadres decided, 2 quota groups, over the quota: \
             son-duong/chu-tich-xa (1 xuất sắc / 1 tốt, giới hạn 0)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("2021-q4: 2 cadres decided, 2 quota groups"),
        "two evaluating bodies: {stdout}"
    );

    // Altered figures are named with the event's position.
    let dir = tempfile::tempdir().expect("a temp dir");
    // Hợp Thành's chair in quarter 4: 94.83 with a late product, ceiling good.
    for (what, change) in [
        (
            "total",
            "json_set(data, '$.total', json_extract(data, '$.total') + 0.01)",
        ),
        (
            "done_on",
            "json_set(data, '$.products[0].done_on', '2021-12-31')",
        ),
        (
            "ceiling",
            "json_set(data, '$.ceiling', 'excellent', '$.rating', 'excellent')",
        ),
    ] {
        let copy = copy_of(&log, dir.path());
        let position: i64 = {
            let conn = rusqlite::Connection::open(&copy).expect("open the copy");
            let (position, data): (i64, String) = conn
                .query_row(
                    "SELECT position, data FROM events WHERE type = 'assessment.decided' \
                     AND stream = 'assessment-2021-q4-hoang-the-manh'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .expect("the decision");
            assert!(
                data.contains(r#""ceiling":"good""#) && data.contains(r#""total":94.83"#),
                "{data}"
            );
            conn.execute_batch("DROP TRIGGER events_no_update")
                .expect("drop the trigger");
            let changed = conn
                .execute(
                    &format!("UPDATE events SET data = {change} WHERE position = ?1"),
                    [position],
                )
                .expect("alter");
            assert_eq!(changed, 1);
            position
        };
        let output = python(&["--log", copy.to_str().expect("UTF-8 path")]);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{what}: {stdout}");
        assert!(
            stdout.starts_with(&format!("differs: position {position} ")) && stdout.contains(what),
            "{what} at {position}: {stdout}"
        );
        std::fs::remove_file(&copy).expect("remove the copy");
    }
    app.stop().await;
}

/// The demo's evaluation of 2026 (`crates/demo/src/periods.rs`), written
/// by the real writer's ledger and served by the real routes: the checker
/// agrees with every decision, the quota and the routes, and finds the one
/// group over the quota where the demo put it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_checker_agrees_with_every_decision_of_the_demo() {
    let demo: Vec<(String, Vec<u8>)> = dotpha_demo::demo()
        .into_iter()
        .map(|s| (s.unit, s.body))
        .collect();
    let head = demo.len() as u64;
    let app = App::start_with(false, &[], &demo).await;
    app.wait_for(head, None).await;
    let log = app.log_path();
    let output = python(&[
        "--log",
        log.to_str().expect("UTF-8 path"),
        "--url",
        &app.url,
    ]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "the independent check must pass over the demo:\n{stdout}{}",
        text(&output.stderr)
    );
    // Sixteen cadres in each of three quarters, one decision taken again.
    assert!(
        stdout.contains(&format!(
            "49 decisions recomputed up to position {head}, routes agree, ok"
        )),
        "{stdout}"
    );
    let (period, body, group) = dotpha_demo::QUOTA_EXCEEDED_2026;
    assert!(
        stdout.contains(&format!(
            "{period}: 16 cadres decided, 3 quota groups, over the quota: \
             {body}/{group} (2 xuất sắc / 7 tốt, giới hạn 1)"
        )),
        "{stdout}"
    );
    for quarter in &dotpha_demo::QUARTERS[1..3] {
        assert!(
            stdout.contains(&format!("{quarter}: 16 cadres decided, 3 quota groups\n")),
            "{quarter} keeps within the quota: {stdout}"
        );
    }
    app.stop().await;
}
