//! API latency at a fixed rate: the task list, a search and the dashboard
//! of a read model holding the demo district 100 times over.
//!
//! `cargo bench -p dotpha-http --bench api` (`DOTPHA_BENCH_COPIES`, default
//! 100 copies of the demo district; `DOTPHA_BENCH_RATE`, default 1,000
//! requests/s; `DOTPHA_BENCH_SECONDS`, default 10 s per route;
//! `DOTPHA_BENCH_REPORTS`, default 0: progress reports per second decided
//! into the log and applied to the read model while the routes are loaded,
//! so the read model moves to a new position at every one, as it does while
//! communes report; `DOTPHA_BENCH_ROUTES`, a comma-separated choice of
//! list, search, dashboard, scoped-list, scoped-task; `DOTPHA_BENCH_EVENTS`,
//! default 0: after the copies, progress reports on their tasks until the
//! log holds that many events, as a province's log grows; `DOTPHA_BENCH_DATA`,
//! a directory to build the data in, or to reuse it from when it holds a
//! log).
//!
//! Reads need a token (`--access`): the unscoped routes are asked with the
//! district Party Secretary's (the root's: the whole province), the scoped
//! ones with the token of one copy's commune chair, who sees that commune
//! only.
//!
//! The data: `dotpha_demo::demo()` (2,025 submissions, 108 tasks) repeated,
//! every unit code, cadre id, task id, delegation id and submission id of
//! copy NN prefixed `cNN-`; the root unit, the district's Party Secretary
//! and cycle 2021 are shared, so one cycle holds 92 × copies tasks. The
//! copies are interleaved submission by submission (time runs forward for
//! all of them) and decided through `dotpha_store::Ledger` straight into a
//! log; `dotpha_project::rebuild` makes the read model. No NATS: the server
//! runs with no publisher, as a read replica would.
//!
//! The load is open-loop: a dedicated thread schedules one request every
//! 1/rate seconds and hands it to the client runtime (reqwest, HTTP/1.1
//! keep-alive, as many connections as are in flight); latency runs from the
//! scheduled instant to the last byte of the body, so a server that falls
//! behind is charged for the queue it causes. Beside the latency, each
//! answer's age: how long before its last byte the read model had moved
//! past the position it shows (`X-Dotpha-Position`), zero for an answer
//! that was still the newest, so an answer kept while reports arrive is
//! charged for how outdated it is.

use std::{
    collections::HashSet,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, ReceiptStatus};
use serde_json::Value;

fn size(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// Rewrites every string naming a per-copy thing (`slugs`) to its copy's.
fn rewrite(value: &mut Value, slugs: &HashSet<String>, prefix: &str) {
    match value {
        Value::String(s) if slugs.contains(s.as_str()) => *s = format!("{prefix}{s}"),
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, slugs, prefix)),
        Value::Object(members) => members.values_mut().for_each(|v| rewrite(v, slugs, prefix)),
        _ => {}
    }
}

/// What a submission registers or names that must differ per copy.
fn per_copy_slugs(demo: &[(String, Value)]) -> HashSet<String> {
    let mut slugs = HashSet::new();
    for (_, body) in demo {
        let data = &body["data"];
        let named = match body["type"].as_str() {
            Some("unit.registered") => &data["code"],
            Some("cadre.registered") => &data["id"],
            Some("task.assigned" | "task.registered") => &data["task_id"],
            Some("work.delegated") => &data["delegation_id"],
            _ => &Value::Null,
        };
        if let Some(slug) = named.as_str() {
            slugs.insert(slug.to_owned());
        }
    }
    slugs.remove(dotpha_demo::ROOT);
    slugs.remove(dotpha_demo::SECRETARY);
    slugs
}

/// Whether a demo submission sets up what all copies share: the root, the
/// secretary, the opening and closing of cycles and evaluation periods.
fn shared(body: &Value) -> bool {
    let data = &body["data"];
    match body["type"].as_str() {
        Some("unit.registered") => data["code"] == dotpha_demo::ROOT,
        Some("cadre.registered") => data["id"] == dotpha_demo::SECRETARY,
        Some(kind) => kind.starts_with("cycle.") || kind.starts_with("period."),
        None => false,
    }
}

/// Decides `copies` copies of the demo into `dir/log.sqlite`, then progress
/// reports until the log holds at least `events` events, and rebuilds the
/// read model; returns (submissions, events).
fn build(dir: &Path, copies: usize, events: u64) -> (usize, u64) {
    let demo: Vec<(String, Value)> = dotpha_demo::demo()
        .into_iter()
        .map(|s| {
            let body = serde_json::from_slice(&s.body).expect("demo submissions are JSON");
            (s.unit, body)
        })
        .collect();
    let slugs = per_copy_slugs(&demo);
    let mut ledger = Ledger::open(dir.join("log.sqlite")).expect("open the log");
    let recorded_at = Timestamp::from_unix_millis(1_735_689_600_000);
    let mut batch = Vec::new();
    let mut submitted = 0;
    let mut commit = |batch: &mut Vec<Arrival>| {
        let receipts = ledger
            .submit_batch(std::mem::take(batch), &recorded_at)
            .expect("commit a batch");
        for r in &receipts {
            assert!(
                r.status == ReceiptStatus::Accepted,
                "a copy was rejected: {}",
                serde_json::to_string(r).unwrap_or_default()
            );
        }
        receipts.len()
    };
    for (unit, body) in &demo {
        let copies_of_this = if shared(body) { 1 } else { copies };
        for copy in 0..copies_of_this {
            let prefix = format!("c{copy:02}-");
            let mut body = body.clone();
            rewrite(&mut body, &slugs, &prefix);
            let id = format!("{prefix}{}", body["submission_id"].as_str().unwrap_or(""));
            body["submission_id"] = Value::String(id.clone());
            let unit = if slugs.contains(unit) {
                format!("{prefix}{unit}")
            } else {
                unit.clone()
            };
            let bytes = serde_json::to_vec(&body).expect("JSON");
            batch.push(Arrival::read(&bytes, Some(&unit), Some(&id)).expect("an id"));
            if batch.len() == 4096 {
                submitted += commit(&mut batch);
            }
        }
    }
    submitted += commit(&mut batch);
    // Then progress reports until the log holds `events` events, as a
    // province's log grows: reports on the same tasks, each task's in the
    // order of the days they describe (its latest report's day, again and
    // again), as reports mostly arrive.
    let mut latest: std::collections::BTreeMap<String, (String, Value)> = Default::default();
    for (unit, body) in report_templates(&ledger, &demo, copies) {
        let task = body["data"]["task_id"].as_str().unwrap_or("").to_owned();
        let as_of = |b: &Value| b["data"]["as_of"].as_str().unwrap_or("").to_owned();
        if latest
            .get(&task)
            .is_none_or(|(_, kept)| as_of(kept) <= as_of(&body))
        {
            latest.insert(task, (unit, body));
        }
    }
    let templates: Vec<(String, Value)> = latest.into_values().collect();
    let mut held = ledger.log().head().position;
    let mut n = 0usize;
    while held < events {
        let mut batch = Vec::with_capacity(4096);
        for _ in 0..4096 {
            let (unit, template) = &templates[n % templates.len()];
            let mut body = template.clone();
            let id = format!("fill-{n:09}");
            body["submission_id"] = Value::String(id.clone());
            let bytes = serde_json::to_vec(&body).expect("JSON");
            batch.push(Arrival::read(&bytes, Some(unit), Some(&id)).expect("an id"));
            n += 1;
        }
        submitted += ledger
            .submit_batch(batch, &recorded_at)
            .expect("commit a batch of reports")
            .len();
        let now = ledger.log().head().position;
        assert!(now > held, "no report of a batch was accepted");
        held = now;
    }
    drop(ledger);
    let rebuilt = dotpha_project::rebuild(dir, "main", |_, _| {}).expect("rebuild");
    (submitted, rebuilt.events)
}

/// The unit, the cadre and a task of copy `prefix` of the demo: the first
/// commune-level progress report's, with the copy's prefix.
fn demo_reporter(prefix: &str) -> (String, String, String) {
    for s in dotpha_demo::demo() {
        let body: Value = serde_json::from_slice(&s.body).expect("demo submissions are JSON");
        if body["type"] == "progress.reported" && s.unit != dotpha_demo::ROOT {
            let field = |v: &Value| format!("{prefix}{}", v.as_str().unwrap_or(""));
            return (
                format!("{prefix}{}", s.unit),
                field(&body["actor"]),
                field(&body["data"]["task_id"]),
            );
        }
    }
    panic!("the demo has no commune's progress report");
}

/// Each position the read model moved to while reports arrived, with the
/// instant it got there, in order: how old an answer is comes from it.
type Moves = Arc<Mutex<Vec<(u64, Instant)>>>;

/// How long before `at` the answer showing `position` stopped being the
/// newest: zero if the read model had not moved past it by then.
fn age(moves: &Moves, position: u64, at: Instant) -> Duration {
    let Ok(moves) = moves.lock() else {
        return Duration::ZERO;
    };
    let next = moves.partition_point(|(p, _)| *p <= position);
    moves.get(next).map_or(Duration::ZERO, |(_, moved)| {
        at.saturating_duration_since(*moved)
    })
}

/// The demo's progress reports, for the tasks of every copy that still
/// take reports (active, in an open cycle), each with its copy's unit and
/// without `expected_version`, to be sent again under new ids.
fn report_templates(
    ledger: &Ledger,
    demo: &[(String, Value)],
    copies: usize,
) -> Vec<(String, Value)> {
    let slugs = per_copy_slugs(demo);
    let mut templates = Vec::new();
    for copy in 0..copies {
        let prefix = format!("c{copy:02}-");
        for (unit, body) in demo
            .iter()
            .filter(|(_, b)| b["type"] == "progress.reported")
        {
            let mut body = body.clone();
            rewrite(&mut body, &slugs, &prefix);
            let takes_reports = body["data"]["task_id"]
                .as_str()
                .and_then(|id| ledger.state().task(id))
                .is_some_and(|t| {
                    t.status.is_active()
                        && ledger
                            .state()
                            .cycle(t.cycle.as_str())
                            .is_some_and(|c| !c.closed)
                });
            if takes_reports {
                if let Some(data) = body["data"].as_object_mut() {
                    data.remove("expected_version");
                }
                templates.push((format!("{prefix}{unit}"), body));
            }
        }
    }
    templates
}

/// What the reporting thread did.
struct Arrived {
    decided: u64,
    accepted: u64,
    positions: u64,
    /// Per report: deciding, committing and applying it to the read model.
    took: Vec<Duration>,
}

impl Arrived {
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.took.len() as f64 * p) as usize).min(self.took.len().saturating_sub(1));
        self.took.get(i).copied().unwrap_or_default()
    }
}

/// Decides `per_second` progress reports a second into the log, each in
/// its own commit, and applies each to the read model at once (as the
/// projection worker does at this rate), until `stop` is dropped. The
/// reports are the demo's own, for the tasks of every copy that still take
/// reports, sent again under new submission ids.
fn report_steadily(
    dir: &Path,
    copies: usize,
    per_second: u64,
    stop: &std::sync::mpsc::Receiver<()>,
    moves: &Moves,
) -> Arrived {
    let demo: Vec<(String, Value)> = dotpha_demo::demo()
        .into_iter()
        .map(|s| {
            (
                s.unit.clone(),
                serde_json::from_slice(&s.body).expect("JSON"),
            )
        })
        .collect();
    let mut ledger = Ledger::open(dir.join("log.sqlite")).expect("open the log");
    let templates = report_templates(&ledger, &demo, copies);
    assert!(!templates.is_empty(), "no demo task takes reports");
    let read_file = dotpha_project::files::current(dir, &dotpha_project::files::base_for("main"))
        .expect("the read model's file");
    let mut read = dotpha_views::ReadModel::open(&read_file).expect("open the read model");
    let interval = Duration::from_secs_f64(1.0 / per_second as f64);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let start = Instant::now();
    let mut out = Arrived {
        decided: 0,
        accepted: 0,
        positions: 0,
        took: Vec::new(),
    };
    for i in 0u64.. {
        let at = start + interval * i as u32;
        let now = Instant::now();
        if at > now {
            match stop.recv_timeout(at - now) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        }
        let (unit, template) = &templates[i as usize % templates.len()];
        let mut body = template.clone();
        // New ids at every run: a data directory kept between runs already
        // holds the last run's, which would only be answered again.
        let id = format!("bench-report-{run}-{i:08}");
        body["submission_id"] = Value::String(id.clone());
        let bytes = serde_json::to_vec(&body).expect("JSON");
        let arrival = Arrival::read(&bytes, Some(unit), Some(&id)).expect("an id");
        let started = Instant::now();
        let recorded_at = Timestamp::from_unix_millis(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        );
        let receipts = ledger
            .submit_batch(vec![arrival], &recorded_at)
            .expect("commit a report");
        // As the projection worker applies what arrives: the new events,
        // in one transaction.
        let events = ledger
            .log()
            .events_from(read.applied().position + 1, 1024)
            .expect("read the new events");
        let applied = read.apply(&events, None).expect("apply to the read model");
        out.took.push(started.elapsed());
        if applied > 0
            && let Ok(mut moves) = moves.lock()
        {
            moves.push((read.applied().position, Instant::now()));
        }
        out.decided += 1;
        out.accepted += receipts
            .iter()
            .filter(|r| r.status == ReceiptStatus::Accepted)
            .count() as u64;
        out.positions += u64::from(applied > 0);
    }
    out.took.sort();
    out
}

struct Run {
    latencies: Vec<Duration>,
    /// Per answer, how long it had no longer been the newest ([`age`]).
    ages: Vec<Duration>,
    failures: usize,
    bytes: usize,
    first: Duration,
    alone: Duration,
}

/// Requests sent one at a time before the load.
const ALONE: usize = 20;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Sends `GET url` at `rate` per second for `seconds`, open-loop, after one
/// second of the same load that is not counted (connections, caches).
fn load(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    url: &str,
    token: &str,
    rate: u64,
    seconds: u64,
    moves: &Moves,
) -> Run {
    // One at a time first: what a request costs with nothing queued.
    let mut alone: Vec<Duration> = (0..ALONE)
        .map(|_| {
            let started = Instant::now();
            let (status, _, _) = runtime.block_on(get(client, url, token));
            if status != 200 {
                eprintln!("GET {url}: {status}");
            }
            started.elapsed()
        })
        .collect();
    let first = alone[0];
    alone.sort();
    let alone = alone[alone.len() / 2];
    type Result = (Duration, u16, usize, Duration);
    let results: Arc<Mutex<Vec<Result>>> = Arc::new(Mutex::new(Vec::new()));
    let warmup = rate;
    let total = warmup + rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now() + Duration::from_millis(20);
    let mut handles = Vec::with_capacity(total as usize);
    for i in 0..total {
        let at = start + interval * i as u32;
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let (client, url, results) = (client.clone(), url.to_owned(), results.clone());
        let (token, moves) = (token.to_owned(), moves.clone());
        let counted = i >= warmup;
        handles.push(runtime.spawn(async move {
            let (status, len, position) = get(&client, &url, &token).await;
            let done = Instant::now();
            let latency = done.duration_since(at);
            let age = position.map_or(Duration::ZERO, |p| age(&moves, p, done));
            if counted && let Ok(mut r) = results.lock() {
                r.push((latency, status, len, age));
            }
        }));
    }
    runtime.block_on(async {
        for h in handles {
            let _ = h.await;
        }
    });
    let results = std::mem::take(&mut *results.lock().expect("results"));
    let failures = results.iter().filter(|(_, s, _, _)| *s != 200).count();
    let bytes = results.iter().map(|(_, _, b, _)| b).sum::<usize>() / results.len().max(1);
    let mut latencies: Vec<Duration> = results.iter().map(|(l, _, _, _)| *l).collect();
    latencies.sort();
    let mut ages: Vec<Duration> = results.iter().map(|(_, _, _, a)| *a).collect();
    ages.sort();
    Run {
        latencies,
        ages,
        failures,
        bytes,
        first,
        alone,
    }
}

/// `GET url`: the status, the bytes of the body and the position the
/// answer shows (`X-Dotpha-Position`).
async fn get(client: &reqwest::Client, url: &str, token: &str) -> (u16, usize, Option<u64>) {
    match client.get(url).bearer_auth(token).send().await {
        Ok(mut response) => {
            // To the last byte, counted, not gathered: the client's work
            // shares the machine with the server's.
            let status = response.status().as_u16();
            let position = response
                .headers()
                .get("x-dotpha-position")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let mut len = 0;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => len += chunk.len(),
                    Ok(None) => break,
                    Err(_) => return (0, len, position),
                }
            }
            (status, len, position)
        }
        Err(_) => (0, 0, None),
    }
}

/// The read model's queries one at a time, each answer computed (no kept
/// answers, no HTTP), median of `runs` tasks spread over the first page of
/// the cycle's list, beside plain rusqlite reading one task's row by its
/// key on the same file (the layer below). Nothing writes meanwhile, so
/// SQLite's page cache stays warm: a lower bound of what a request costs
/// when the read model has moved since the last one.
fn queries_one_at_a_time(dir: &Path, runs: usize) {
    use dotpha_views::query::TaskFilter;
    let path = dir.join("read.sqlite");
    let read = dotpha_views::ReadModel::open_read_only(&path).expect("open the read model");
    let now = dotpha_domain::Timestamp::from_unix_millis(1_640_995_200_000).unix_millis();
    let cycle = TaskFilter {
        cycle: Some("2021".to_owned()),
        ..TaskFilter::default()
    };
    let (tasks, _) = read.tasks(&cycle, now).expect("the cycle's tasks");
    let sample: Vec<_> = tasks
        .iter()
        .step_by((tasks.len() / runs).max(1))
        .take(runs)
        .collect();
    let median = |mut took: Vec<Duration>| {
        took.sort_unstable();
        took[took.len() / 2]
    };
    let time = |f: &mut dyn FnMut(usize)| {
        median(
            (0..sample.len())
                .map(|i| {
                    let start = Instant::now();
                    f(i);
                    start.elapsed()
                })
                .collect(),
        )
    };
    let plain =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the file");
    let mut row = plain
        .prepare("SELECT * FROM tasks WHERE task_id = ?1")
        .expect("prepare");
    let floor = time(&mut |i| {
        row.query_row([&sample[i].task_id], |_| Ok(()))
            .expect("the row");
    });
    let rows: [(&str, Duration); 5] = [
        (
            "a task's page (`task`)",
            time(&mut |i| {
                read.task(&sample[i].task_id, now).expect("a task");
            }),
        ),
        (
            "a task's history (`history`)",
            time(&mut |i| {
                read.history(&sample[i].task_id).expect("a history");
            }),
        ),
        (
            "a cadre's tasks (`tasks`, assignee)",
            time(&mut |i| {
                let filter = TaskFilter {
                    assignee: Some(sample[i].assignee.clone()),
                    ..TaskFilter::default()
                };
                read.tasks(&filter, now).expect("a list");
            }),
        ),
        (
            "a cadre (`cadre`)",
            time(&mut |i| {
                read.cadre(&sample[i].assignee, now).expect("a cadre");
            }),
        ),
        (
            "the cycle's first page (`tasks`, cycle)",
            time(&mut |_| {
                read.tasks(&cycle, now).expect("a list");
            }),
        ),
    ];
    println!(
        "\n### the read model's queries one at a time, computed, median of {}\n",
        sample.len()
    );
    println!("| query | median | against one row by its key (plain rusqlite) |");
    println!("|---|---:|---:|");
    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    for (label, took) in rows {
        println!(
            "| {label} | {} | {:.0}× |",
            us(took),
            took.as_secs_f64() / floor.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "| one task's row by its key, plain rusqlite | {} | 1× |",
        us(floor)
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // and wants a quick check that it runs.
    let quick = !std::env::args().any(|a| a == "--bench");
    let copies = size("DOTPHA_BENCH_COPIES", if quick { 2 } else { 100 }) as usize;
    let rate = size("DOTPHA_BENCH_RATE", if quick { 100 } else { 1000 });
    let seconds = size("DOTPHA_BENCH_SECONDS", if quick { 1 } else { 10 });

    // DOTPHA_BENCH_DATA=DIR builds into DIR (when it holds no log yet) and
    // keeps it, for looking at the read model afterwards.
    let temp = tempfile::tempdir().expect("a temp dir");
    let dir = std::env::var_os("DOTPHA_BENCH_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_owned());
    let reused = dir.join("log.sqlite").exists();
    if reused {
        eprintln!("reusing the data in {}", dir.display());
    } else {
        std::fs::create_dir_all(&dir).expect("create the data dir");
        let started = Instant::now();
        let (submissions, events) = build(&dir, copies, size("DOTPHA_BENCH_EVENTS", 0));
        eprintln!(
            "built {copies} copies of the demo: {submissions} submissions, {events} events, in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    queries_one_at_a_time(&dir, if quick { 5 } else { 50 });

    // The server, as `dotpha serve` runs it, on its own runtime.
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the server's runtime");
    // One copy's commune chair: the scoped routes' reader.
    let copy = format!("c{:02}-", copies / 2);
    let (commune, chair, commune_task) = demo_reporter(&copy);
    let root_token = "bench-root-token-000000000001";
    let commune_token = "bench-commune-token-0000000002";
    let tokens = dotpha_http::Tokens::parse(
        &serde_json::json!({"tokens": [
            {"token": root_token, "unit": dotpha_demo::ROOT, "cadre": dotpha_demo::SECRETARY},
            {"token": commune_token, "unit": commune, "cadre": chair},
        ]})
        .to_string(),
        true,
    )
    .expect("the bench's tokens");
    let state = dotpha_http::AppState::new(
        dir.clone(),
        "main".to_owned(),
        None,
        prometheus_client::registry::Registry::default(),
        None,
        tokens,
    );
    let listener = server
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let serving = server.spawn(dotpha_http::serve(listener, state, shutdown));

    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the client's runtime");
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");

    let total = client_runtime.block_on(async {
        let answer: Value = client
            .get(format!("{base}/api/v1/tasks?cycle=2021&limit=0"))
            .bearer_auth(root_token)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("JSON");
        answer["total"].as_u64().unwrap_or(0)
    });
    let scoped_task = format!("/api/v1/tasks/{commune_task}");
    let routes = [
        ("list", "/api/v1/tasks?cycle=2021", root_token),
        (
            "search",
            "/api/v1/tasks?cycle=2021&q=hop%20thanh",
            root_token,
        ),
        ("dashboard", "/api/v1/dashboard?cycle=2021", root_token),
        ("scoped-list", "/api/v1/tasks?cycle=2021", commune_token),
        ("scoped-task", scoped_task.as_str(), commune_token),
    ];
    // Reports arriving while the routes are loaded.
    let reports = size("DOTPHA_BENCH_REPORTS", 0);
    let moves: Moves = Arc::default();
    let (arriving, arrivals) = if reports > 0 {
        let (stop_reports, stopped) = std::sync::mpsc::channel::<()>();
        let (dir, moves) = (dir.clone(), moves.clone());
        let thread =
            std::thread::spawn(move || report_steadily(&dir, copies, reports, &stopped, &moves));
        // Let the first reports land before the first route is measured.
        std::thread::sleep(Duration::from_secs(1));
        (Some(stop_reports), Some(thread))
    } else {
        (None, None)
    };
    // DOTPHA_BENCH_ROUTES=list,search,dashboard picks some.
    let only = std::env::var("DOTPHA_BENCH_ROUTES").unwrap_or_default();
    let mut rows = Vec::new();
    for (name, path, token) in routes {
        if !only.is_empty() && !only.split(',').any(|r| name == r.trim()) {
            continue;
        }
        let run = load(
            &client_runtime,
            &client,
            &format!("{base}{path}"),
            token,
            rate,
            seconds,
            &moves,
        );
        let pct = |of: &[Duration], p: f64| of[((of.len() as f64 * p) as usize).min(of.len() - 1)];
        let row = format!(
            "| {name} `GET {path}` | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} |",
            run.latencies.len(),
            run.bytes,
            ms(run.first),
            ms(run.alone),
            ms(pct(&run.latencies, 0.50)),
            ms(pct(&run.latencies, 0.99)),
            ms(run.latencies.last().copied().unwrap_or_default()),
            run.failures,
            ms(pct(&run.ages, 0.50)),
            ms(pct(&run.ages, 0.99)),
            ms(run.ages.last().copied().unwrap_or_default()),
        );
        eprintln!("{row}");
        rows.push(row);
    }
    drop(arriving);
    let arrived = arrivals.map(|t| t.join().expect("the reporting thread"));
    let _ = stop.send(true);
    let _ = server.block_on(serving);

    println!(
        "\n{copies} copies of the demo district ({total} tasks in cycle 2021), {rate} requests/s for {seconds} s per route"
    );
    if let Some(arrived) = arrived {
        println!(
            "while {reports} reports/s arrived: {} decided ({} accepted), the read model moved {} times; deciding, committing and applying one took p50 {} / p99 {} / max {}",
            arrived.decided,
            arrived.accepted,
            arrived.positions,
            ms(arrived.pct(0.5)),
            ms(arrived.pct(0.99)),
            ms(arrived.pct(1.0)),
        );
    }
    println!();
    println!(
        "| route | requests | bytes | first request | one at a time, median of {ALONE} | p50 at {rate}/s | p99 | max | not 200 | answer's age p50 / p99 / max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
    // The process's resident memory: the server's, with the client's and
    // the reporting thread's on top (an upper bound of the server's).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.trim_start_matches(name).trim().to_owned())
                .unwrap_or_default()
        };
        println!(
            "\nresident memory of this process (server, client and reporter): now {}, peak {}{}",
            field("VmRSS:"),
            field("VmHWM:"),
            if reused {
                ""
            } else {
                " (the peak includes building the log and the read model)"
            }
        );
    }
}
