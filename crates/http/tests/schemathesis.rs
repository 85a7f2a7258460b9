//! schemathesis (property-based API testing, from PyPI) against the served
//! OpenAPI document: whatever it sends, no answer is a 5xx.
//!
//! The whole app runs (real NATS, the writer, the projection worker, the
//! server) with the small test district and access control on; schemathesis
//! carries the district secretary's token, so it reaches every read route
//! and acts through `POST /api/v1/submissions` too. `/api/v1/live` (an
//! endless event stream) is left out.
//!
//! A configuration file gives it the district's real task ids, unit codes,
//! cadre ids, submission ids and filter values as dictionaries, drawn about
//! half the time: random strings alone mostly meet 404s and 400s and never
//! reach the roll-ups.
//!
//! It fails, never skips, when schemathesis is missing:
//! `scripts/install-deps` installs it. The run is bounded
//! (`DOTPHA_SCHEMATHESIS_MAX_EXAMPLES` cases per operation, default 40;
//! `DOTPHA_SCHEMATHESIS_MAX_TIME` seconds, default 60); set
//! `DOTPHA_SCHEMATHESIS_SEED` to replay a run and
//! `DOTPHA_SCHEMATHESIS_CHECKS=all` to see what the other checks say.

mod common;

use std::{process::Stdio, time::Duration};

use common::{App, HOP_THANH_TASK, SECRETARY};
use serde_json::Value;

const TASKS: [&str; 5] = [
    "ndp-2021-01",
    HOP_THANH_TASK,
    "ndp-2021-03",
    "ndp-2021-04",
    "ndp-2021-05",
];
const UNITS: [&str; 6] = [
    "son-duong",
    "ban-to-chuc",
    "hop-thanh",
    "tu-thinh",
    "phuc-ung",
    "dong-dien",
];
const CADRES: [&str; 5] = [
    "bi-thu-huyen",
    "do-xuan-phuc",
    "hoang-the-manh",
    "chu-tich-tu-thinh",
    "chu-tich-phuc-ung",
];
const TYPES: [&str; 10] = [
    "unit.registered",
    "cadre.registered",
    "cycle.opened",
    "task.assigned",
    "task.registered",
    "task.approved",
    "plan.submitted",
    "progress.reported",
    "work.delegated",
    "task.evaluated",
];

/// A TOML array of strings.
fn array<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> String {
    let quoted: Vec<String> = values
        .into_iter()
        .map(|v| Value::String(v.as_ref().to_owned()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// schemathesis.toml: the district's values as dictionaries, each bound to
/// the parameters it fits.
fn config(submission_ids: &[String]) -> String {
    let mut ids: Vec<String> = CADRES.iter().map(|c| (*c).to_owned()).collect();
    ids.extend(submission_ids.iter().cloned());
    let dictionaries = [
        ("tasks", array(TASKS)),
        ("units", array(UNITS)),
        ("ids", array(&ids)),
        ("submissions", array(submission_ids)),
        ("cadres", array(CADRES)),
        ("cycles", array(["2021", "2022"])),
        (
            "files",
            array(["2021.csv", "2021.xlsx", "2022.csv", "2021.pdf"]),
        ),
        (
            "statuses",
            array([
                "registered",
                "assigned",
                "planned",
                "in_progress",
                "evaluated",
                "cancelled",
                "overdue",
                "due_soon",
                "stale",
            ]),
        ),
        ("kinds", array(["breakthrough", "new", "difficult"])),
        ("views", array(["today", "as_was"])),
        (
            "words",
            array([
                "hop thanh",
                "Sơn Dương",
                "đảng viên",
                "ndp-2021",
                "MÔI TRƯỜNG",
            ]),
        ),
        ("types", array(TYPES)),
    ];
    let mut text = String::new();
    for (name, values) in dictionaries {
        text.push_str(&format!("[dictionaries.{name}]\nvalues = {values}\n"));
    }
    text.push_str("\n[parameters]\n");
    for (parameter, dictionary, probability) in [
        ("path.task_id", "tasks", 0.6),
        ("path.code", "units", 0.6),
        ("path.id", "ids", 0.6),
        ("path.file", "files", 0.6),
        ("query.cycle", "cycles", 0.6),
        ("query.unit", "units", 0.5),
        ("query.assignee", "cadres", 0.5),
        ("query.status", "statuses", 0.6),
        ("query.kind", "kinds", 0.6),
        ("query.view", "views", 0.6),
        ("query.q", "words", 0.4),
        ("body.type", "types", 0.6),
        ("body.unit", "units", 0.5),
        ("body.submission_id", "submissions", 0.2),
    ] {
        text.push_str(&format!(
            "\"{parameter}\" = {{ dictionary = \"{dictionary}\", probability = {probability} }}\n"
        ));
    }
    text
}

/// The ids of the district's submissions, from its tasks' histories.
async fn submission_ids(app: &App) -> Vec<String> {
    let mut ids = Vec::new();
    for task in TASKS {
        let (_, history) = app
            .get_json(&format!("/api/v1/tasks/{task}/history"), Some(SECRETARY))
            .await;
        for event in history["events"].as_array().into_iter().flatten() {
            if let Some(id) = event["submission_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The Python interpreter that has schemathesis (`PYTHON` overrides).
fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Panics, naming the installer, unless `python3 -m schemathesis.cli` runs.
fn require_schemathesis() -> String {
    let probe = std::process::Command::new(python())
        .args(["-c", "import schemathesis; print(schemathesis.__version__)"])
        .output();
    match probe {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!(
            "schemathesis is not installed for {}: run scripts/install-deps, which installs it \
             (python3 -m pip install schemathesis)\n{}",
            python(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "{} does not run ({e}): run scripts/install-deps, which installs Python 3 and schemathesis",
            python()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error() {
    let version = require_schemathesis();
    let (app, _) = App::with_district(true).await;
    let max_examples = setting("DOTPHA_SCHEMATHESIS_MAX_EXAMPLES", 40);
    let max_time = setting("DOTPHA_SCHEMATHESIS_MAX_TIME", 60);
    // Other checks (`all`, `response_schema_conformance`, ...) for a look;
    // the test holds the API to not_a_server_error.
    let checks = std::env::var("DOTPHA_SCHEMATHESIS_CHECKS")
        .unwrap_or_else(|_| "not_a_server_error".to_owned());
    // Its own working directory: schemathesis reads a schemathesis.toml
    // there and hypothesis would leave a .hypothesis/ behind.
    let work = tempfile::tempdir().expect("a temp dir for schemathesis");
    let ids = submission_ids(&app).await;
    assert!(
        ids.len() >= 5,
        "the district's histories name its submissions"
    );
    let config_file = work.path().join("schemathesis.toml");
    std::fs::write(&config_file, config(&ids)).expect("write schemathesis.toml");
    let schema = format!("{}/api/v1/openapi.json", app.url);
    let mut command = tokio::process::Command::new(python());
    command
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(&config_file)
        .args(["run", &schema])
        .args(["--url", &app.url])
        .args(["--checks", &checks])
        .args(["--exclude-path", "/api/v1/live"])
        .args(["--header", &format!("Authorization: Bearer {SECRETARY}")])
        .args(["--max-examples", &max_examples.to_string()])
        .args(["--max-time", &max_time.to_string()])
        .args(["--request-timeout", "20"])
        .args(["--workers", "2"])
        .args(["--generation-database", "none"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .arg("--no-color")
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Ok(seed) = std::env::var("DOTPHA_SCHEMATHESIS_SEED") {
        command.args(["--seed", seed.trim()]);
    }
    eprintln!("schemathesis {version} against {schema}: {command:?}");
    // The run's own budget plus room for the phases that do not count
    // against it; past this it is stuck.
    let limit = Duration::from_secs(max_time * 3 + 120);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran for over {limit:?}"))
        .expect("start schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    app.stop().await;
    assert!(
        output.status.success(),
        "schemathesis found server errors (exit {:?}):\n{stdout}\n{stderr}",
        output.status.code()
    );
}

/// Inputs schemathesis seldom draws that once answered 500 or a plain-text
/// 400: every answer is JSON, and an error a fitting 4xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_inputs_answer_json_and_never_5xx() {
    let (app, _) = App::with_district(true).await;
    for (path, expected) in [
        // SQLite read an OFFSET past i64::MAX as a real: 500.
        ("/api/v1/tasks?offset=9223372036854775808", 200),
        ("/api/v1/tasks?offset=18446744073709551615", 200),
        ("/api/v1/tasks?offset=18446744073709551616", 400),
        ("/api/v1/tasks?limit=18446744073709551615", 200),
        // A path segment that is not UTF-8 once decoded: plain text.
        ("/api/v1/tasks/%FF", 400),
        ("/api/v1/tasks/%C3%28/history", 400),
        ("/api/v1/units/%FF", 400),
        ("/api/v1/cadres/%FF", 400),
        ("/api/v1/submissions/%FF", 400),
        ("/api/v1/export/%FF.csv", 400),
        ("/api/v1/tasks?q=%25%5F%5C", 200),
        ("/api/v1/dashboard?at=9999-12-31T23:59:59.999-23:59", 200),
        ("/api/v1/dashboard?at=0001-01-01T00:00:00%2B23:59", 200),
    ] {
        let (status, body) = app.get_json(path, Some(SECRETARY)).await;
        assert_eq!(status.as_u16(), expected, "GET {path}: {body}");
        if !status.is_success() {
            assert!(body["error"]["code"].is_string(), "GET {path}: {body}");
        }
    }
    app.stop().await;
}
