//! The dashboard in a real browser: Debian's headless Chromium driven by
//! `tests/browser/dashboard.mjs` (playwright-core) against the whole app.
//! It fails, never skips, when node, chromium or the script's packages are
//! missing: `.ci/run` installs them.
//!
//! Screenshots land in `target/screenshots/`. The README's come from the
//! persona walk on the demo (`tests/personas.rs`).

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use common::{App, MANH, SECRETARY, evaluated};
use serde_json::json;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the browser script against `app` with `token`; `mode` is passed as
/// `MODE`. Panics with the script's output when it fails.
async fn run_script(app: &App, token: &str, mode: &str) -> PathBuf {
    run("dashboard.mjs", app, token, mode, &[]).await
}

/// Runs `script` (in `tests/browser`) against `app` with `token`, `mode` as
/// `MODE` and `env` besides.
async fn run(script: &str, app: &App, token: &str, mode: &str, env: &[(&str, &str)]) -> PathBuf {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Command::new("node").arg("--version").output().is_ok(),
        "node is not on PATH: .ci/run installs nodejs (apt-get install -y nodejs npm)"
    );
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: .ci/run installs it (apt-get install -y chromium)"
    );
    assert!(
        script_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci` in {}",
        script_dir.display()
    );

    let shots = workspace().join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("create target/screenshots");
    let started = Instant::now();
    let (url, shots_arg, token, mode_arg, script) = (
        app.url.clone(),
        shots.clone(),
        token.to_owned(),
        mode.to_owned(),
        script.to_owned(),
    );
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .arg(&url)
            .arg(&token)
            .arg(&shots_arg)
            .env("CHROMIUM", &chromium)
            .env("MODE", &mode_arg)
            .envs(env)
            .current_dir(&script_dir)
            .output()
            .expect("node runs")
    })
    .await
    .expect("the browser run finishes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser test ({mode}) failed after {:.1} s:\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    shots
}

/// The 2020 cycle, whose overview the script checks against the API: in
/// Hợp Thành one task at 100% and three cancelled, in Tú Thịnh two at 0%
/// (a mean of 33.3%, which the page used to show as 66.7%), and a task
/// whose reports arrive out of order.
async fn figures_cycle(app: &App) -> u64 {
    app.act(
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "2020", "starts_on": "2020-01-01", "ends_on": "2020-12-31"}),
    )
    .await;
    let assign = |id: &str, assignee: &str| {
        json!({"task_id": id, "cycle": "2020", "assignee": assignee,
               "title": format!("Nhiệm vụ {id}"), "kind": "new", "category": "Nông thôn mới",
               "due": "2020-12-15", "origin": "committee",
               "targets": [{"metric": "m", "label": "Chỉ tiêu", "baseline": 0, "target": 10}]})
    };
    app.act(
        SECRETARY,
        "task.assigned",
        assign("ht-2020-bao-cao", "hoang-the-manh"),
    )
    .await;
    for (as_of, value) in [("2020-06-30", 10), ("2020-03-31", 4)] {
        app.act(
            MANH,
            "progress.reported",
            json!({"task_id": "ht-2020-bao-cao", "as_of": as_of,
                   "values": [{"metric": "m", "value": value}]}),
        )
        .await;
    }
    for i in 1..=3 {
        let id = format!("ht-2020-huy-{i}");
        app.act(SECRETARY, "task.assigned", assign(&id, "hoang-the-manh"))
            .await;
        app.act(
            SECRETARY,
            "task.cancelled",
            json!({"task_id": id, "reason": "Không còn phù hợp"}),
        )
        .await;
    }
    let mut last = 0;
    for id in ["tt-2020-1", "tt-2020-2"] {
        last = app
            .act(SECRETARY, "task.assigned", assign(id, "chu-tich-tu-thinh"))
            .await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_browser() {
    let (app, _) = App::with_district(false).await;
    let last = figures_cycle(&app).await;
    app.wait_for(last, None).await;
    let shots = run_script(&app, MANH, "open").await;
    for name in ["overview.png", "task.png", "phone-overview.png"] {
        assert!(shots.join(name).exists(), "no screenshot {name}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_access_control_the_page_carries_the_token_everywhere() {
    let (app, _) = App::with_district(true).await;
    run_script(&app, MANH, "access").await;
    app.stop().await;
}

/// The period view: the sheet, the quota and each cadre's products as the
/// API answers them, and part A's four forms acted through the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_period_view_shows_the_apis_figures_and_acts() {
    let app = App::start(false).await;
    let head = evaluated(&app).await;
    app.wait_for(head, None).await;
    let shots = run(
        "periods.mjs",
        &app,
        MANH,
        "open",
        &[("COMMITTEE_TOKEN", SECRETARY)],
    )
    .await;
    assert!(
        shots.join("period.png").exists(),
        "no screenshot period.png"
    );
    app.stop().await;
}
