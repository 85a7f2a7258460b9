//! Benchmarks of the projection: rebuilding a read model from the log,
//! applying events incrementally as the worker does, and the task-list and
//! dashboard queries on a read model of many tasks.
//!
//! `cargo bench -p dotpha-project --bench projection` (sizes:
//! `DOTPHA_BENCH_EVENTS`, default 1,000,000 events for the rebuild and the
//! incremental apply; `DOTPHA_BENCH_TASKS`, default 100,000 tasks for the
//! queries). `DOTPHA_BENCH_LOG_DIR`: a directory whose `log.sqlite` is
//! rebuilt from instead of a new log (made there, and kept, when it has
//! none), so runs compare on the same rows; `DOTPHA_BENCH_REBUILD_ONLY=1`
//! stops after the rebuild and the floors it is compared with: plain
//! scans of the log (one before it, one after; the faster is the floor)
//! and plain inserts of the rebuilt file's rows (in the rebuild's batches,
//! and in key order).

use std::time::{Duration, Instant};

use dotpha_domain::{Event, State, Timestamp, decide, parse_submission};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome};
use dotpha_testkit::Workload;
use dotpha_views::{
    ReadModel,
    query::{TaskFilter, Tree},
};
use serde_json::{Value, json};

fn recorded_at() -> Timestamp {
    Timestamp::from_unix_millis(1_614_648_600_123)
}

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

fn rate(n: u64, d: Duration) -> String {
    let per_second = n as f64 / d.as_secs_f64();
    // Thousands separated, for reading at a glance.
    let digits = format!("{per_second:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A log of `events` events: a workload's setup through the writer's core,
/// then progress reports decided and appended 4096 at a time (as the store's
/// benchmark builds its log).
fn workload_log(dir: &std::path::Path, events: usize) -> u64 {
    let path = dir.join("log.sqlite");
    let mut workload = Workload::new("bench", 100, 100);
    let mut ledger = Ledger::open(&path).expect("open");
    let arrivals = workload
        .setup()
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
        .collect();
    ledger
        .submit_batch(arrivals, &recorded_at())
        .expect("setup");
    drop(ledger);
    let mut log = Log::open(&path).expect("reopen");
    let mut state = log.load_state().expect("fold");
    while (log.head().position as usize) < events {
        let n = (events - log.head().position as usize).min(4096);
        let decided: Vec<Decision> = (0..n)
            .map(|_| {
                let m = workload.next_report();
                let submission = parse_submission(&m.body, Some(&m.unit)).expect("valid");
                let events: Vec<Event> = decide(&state, &submission).expect("accepted");
                for e in &events {
                    state.apply(e);
                }
                Decision {
                    submission_id: m.submission_id,
                    unit: Some(m.unit),
                    outcome: Outcome::Accepted(events),
                    submission: None,
                }
            })
            .collect();
        log.append_batch(&decided, &recorded_at()).expect("append");
    }
    log.head().position
}

/// The floor of a rebuild: the log's rows read plainly, as the store's
/// bench reads them (every text column touched, nothing decoded). Returns
/// the time and the bytes of text a row.
fn plain_scan(log: &std::path::Path, total: u64) -> (Duration, usize) {
    let raw =
        rusqlite::Connection::open_with_flags(log, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open raw");
    let start = Instant::now();
    let mut stmt = raw
        .prepare(
            "SELECT position, stream, version, type, unit, actor, occurred_at, recorded_at, \
             submission_id, data, prev_hash, hash FROM events ORDER BY position",
        )
        .expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    let (mut scanned, mut bytes) = (0u64, 0usize);
    while let Some(r) = rows.next().expect("row") {
        scanned += 1;
        for i in 1..12 {
            bytes += r.get_ref(i).expect("col").as_str().map_or(0, str::len);
        }
    }
    let scan = start.elapsed();
    assert_eq!(scanned, total);
    (scan, bytes / total.max(1) as usize)
}

/// How the read model's rows are written by [`plain_write`].
#[derive(Clone, Copy)]
enum Order {
    /// In the rebuild's transactions: a row with a `position` in the
    /// transaction of [`dotpha_project::REBUILD_BATCH`] events that holds
    /// it, the others in the first; each transaction's rows in key order,
    /// as the rebuild writes them.
    Batches,
    /// Every row in one transaction, each table in key order: the file
    /// written front to back.
    KeyOrder,
}

/// The floor of a rebuild's writing: the rows of the rebuilt read model
/// at `rebuilt` (every table but `meta`), read into memory first, then
/// inserted plainly with prepared statements into a new read model at
/// `into` opened as a rebuild opens its file (no journal, no syncing, its
/// page cache), nothing decoded or applied, each row inserted once (the
/// rebuild also updates a task's row once per batch it changes in).
/// Returns the time of the inserts, the time with the rebuild's ending
/// (`ReadModel::finish_rebuild`: statistics, sync, WAL, checkpoint), and
/// the rows.
fn plain_write(
    rebuilt: &std::path::Path,
    into: &std::path::Path,
    order: Order,
) -> (Duration, Duration, u64) {
    use rusqlite::types::Value as Sql;
    let source =
        rusqlite::Connection::open_with_flags(rebuilt, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open rebuilt");
    let names: Vec<String> = source
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'meta' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("table names");
    // (batch, table, row); a stable sort by batch keeps each table's rows
    // in the order a plain scan gives them: key order, or for a rowid
    // table the order the rebuild inserted them in.
    let mut rows: Vec<(usize, usize, Vec<Sql>)> = Vec::new();
    for (t, name) in names.iter().enumerate() {
        let mut stmt = source
            .prepare(&format!("SELECT * FROM {name}"))
            .expect("prepare");
        let position = stmt.column_index("position").ok();
        let width = stmt.column_count();
        let mut read = stmt.query([]).expect("query");
        while let Some(r) = read.next().expect("row") {
            let values: Vec<Sql> = (0..width).map(|i| r.get(i).expect("value")).collect();
            let batch = match (order, position) {
                (Order::Batches, Some(i)) => match values[i] {
                    Sql::Integer(p) => (p.max(1) as usize - 1) / dotpha_project::REBUILD_BATCH,
                    _ => 0,
                },
                _ => 0,
            };
            rows.push((batch, t, values));
        }
    }
    drop(source);
    rows.sort_by_key(|(batch, _, _)| *batch);
    drop(ReadModel::open_for_rebuild(into).expect("new read model"));
    let conn = rusqlite::Connection::open(into).expect("open new");
    conn.pragma_update_and_check(None, "journal_mode", "OFF", |_| Ok(()))
        .expect("journal");
    conn.pragma_update(None, "synchronous", "OFF")
        .expect("sync");
    conn.pragma_update(None, "cache_size", -262_144)
        .expect("cache");
    let inserts: Vec<String> = names
        .iter()
        .map(|name| {
            let width: usize = conn
                .query_row(
                    &format!("SELECT count(*) FROM pragma_table_info('{name}')"),
                    [],
                    |r| r.get(0),
                )
                .expect("width");
            format!(
                "INSERT INTO {name} VALUES ({})",
                vec!["?"; width].join(", ")
            )
        })
        .collect();
    let start = Instant::now();
    let mut i = 0;
    while i < rows.len() {
        let batch = rows[i].0;
        let tx = conn.unchecked_transaction().expect("begin");
        while i < rows.len() && rows[i].0 == batch {
            let (_, t, values) = &rows[i];
            tx.prepare_cached(&inserts[*t])
                .expect("prepare")
                .execute(rusqlite::params_from_iter(values.iter()))
                .expect("insert");
            i += 1;
        }
        tx.commit().expect("commit");
    }
    let inserted = start.elapsed();
    drop(conn);
    let model = ReadModel::open(into).expect("reopen");
    model.finish_rebuild().expect("finish");
    (inserted, start.elapsed(), rows.len() as u64)
}

/// Writes a log by deciding submissions against its state and appending
/// them 4096 at a time.
struct Writer {
    log: Log,
    state: State,
    pending: Vec<Decision>,
    sent: u64,
}

impl Writer {
    fn new(path: &std::path::Path) -> Writer {
        Writer {
            log: Log::open(path).expect("open"),
            state: State::new(),
            pending: Vec::new(),
            sent: 0,
        }
    }

    fn send(&mut self, unit: &str, actor: &str, day: i64, kind: &str, data: Value) {
        self.sent += 1;
        let id = format!("bench-{:010}", self.sent);
        let occurred = dotpha_domain::Date::from_days_since_epoch(
            dotpha_domain::Date::parse("2021-01-01")
                .expect("date")
                .days_since_epoch()
                + day,
        );
        let body = json!({
            "schema": "dotpha.submission.v1", "submission_id": id, "unit": unit, "actor": actor,
            "occurred_at": format!("{occurred}T08:00:00+07:00"), "type": kind, "data": data,
        })
        .to_string();
        let submission = parse_submission(body.as_bytes(), Some(unit)).expect("valid");
        let events = decide(&self.state, &submission)
            .unwrap_or_else(|r| panic!("{kind} {body}: {}", r.message));
        for e in &events {
            self.state.apply(e);
        }
        self.pending.push(Decision {
            submission_id: id,
            unit: Some(unit.to_owned()),
            outcome: Outcome::Accepted(events),
            submission: None,
        });
        if self.pending.len() >= 4096 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.log
            .append_batch(&self.pending, &recorded_at())
            .expect("append");
        self.pending.clear();
    }
}

const DISTRICTS: usize = 10;

/// A province of `DISTRICTS` districts, communes of 100 tasks each (about
/// `tasks` in all), tasks due all through 2021 in three kinds; about half
/// reported on, some evaluated, a few cancelled.
fn task_log(dir: &std::path::Path, tasks: usize) -> (u64, usize) {
    let mut w = Writer::new(&dir.join("log.sqlite"));
    let root = "tuyen-quang";
    w.send(
        root,
        "to-chuc",
        0,
        "unit.registered",
        json!({"code": root, "name": "Tỉnh Tuyên Quang", "kind": "province", "parent": null}),
    );
    w.send(
        root,
        "to-chuc",
        0,
        "cadre.registered",
        json!({"id": "bi-thu", "full_name": "Nguyễn Văn Mẫu", "unit": root, "position": "Bí thư",
               "party_member": true, "standing_committee": true}),
    );
    w.send(
        root,
        "bi-thu",
        0,
        "cycle.opened",
        json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    );
    let communes = tasks.div_ceil(100).max(DISTRICTS);
    for d in 0..DISTRICTS {
        w.send(
            root,
            "bi-thu",
            0,
            "unit.registered",
            json!({"code": format!("huyen-{d:02}"), "name": format!("Huyện Mẫu {d}"),
                   "kind": "district", "parent": root}),
        );
    }
    for c in 0..communes {
        let code = format!("xa-{c:04}");
        w.send(
            root,
            "bi-thu",
            0,
            "unit.registered",
            json!({"code": code, "name": format!("Xã Mẫu Sơn {c}"), "kind": "commune",
                   "parent": format!("huyen-{:02}", c % DISTRICTS)}),
        );
        w.send(
            root,
            "bi-thu",
            0,
            "cadre.registered",
            json!({"id": format!("chu-tich-{code}"), "full_name": format!("Trần Thị Dương {c}"),
                   "unit": code, "position": "Chủ tịch UBND xã", "party_member": true,
                   "standing_committee": false}),
        );
    }
    let titles = [
        "Thôn đạt tiêu chí môi trường",
        "Chuyển đổi số cấp xã",
        "Kiên cố hóa kênh mương",
        "Giảm tỷ lệ hộ nghèo",
        "Phát triển sản phẩm OCOP",
    ];
    let kinds = ["breakthrough", "new", "difficult"];
    for t in 0..tasks {
        let c = t % communes;
        let code = format!("xa-{c:04}");
        let chair = format!("chu-tich-{code}");
        let task_id = format!("ndp-{t:06}");
        let due_day = 30 + (t * 7919 % 330) as i64;
        let due = dotpha_domain::Date::from_days_since_epoch(
            dotpha_domain::Date::parse("2021-01-01")
                .expect("date")
                .days_since_epoch()
                + due_day,
        );
        w.send(
            root,
            "bi-thu",
            (t % 30) as i64,
            "task.assigned",
            json!({"task_id": task_id, "cycle": "2021", "assignee": chair,
                   "title": format!("{} {}", titles[t % titles.len()], t / communes),
                   "kind": kinds[t % 3], "category": "Nông thôn mới", "due": due.to_string(),
                   "targets": [{"metric": "ho", "label": "Hộ", "baseline": 100, "target": 400}],
                   "origin": "committee"}),
        );
        match t % 10 {
            0..=4 => w.send(
                &code,
                &chair,
                40 + (t % 60) as i64,
                "progress.reported",
                json!({"task_id": task_id, "as_of": "2021-02-10",
                       "values": [{"metric": "ho", "value": 100 + (t * 31 % 300)}],
                       "confidence": "medium"}),
            ),
            5 => w.send(
                root,
                "bi-thu",
                100,
                "task.evaluated",
                json!({"task_id": task_id, "score": 40 + (t * 13 % 61), "comment": "Đánh giá"}),
            ),
            6 if t % 20 == 6 => w.send(
                root,
                "bi-thu",
                100,
                "task.cancelled",
                json!({"task_id": task_id, "reason": "Không còn phù hợp"}),
            ),
            _ => {}
        }
    }
    w.flush();
    (w.log.head().position, communes)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let events = size("DOTPHA_BENCH_EVENTS", 1_000_000);
    let tasks = size("DOTPHA_BENCH_TASKS", 100_000);
    let dir = tempfile::tempdir().expect("temp dir");

    // (a) rebuild.
    let kept = std::env::var_os("DOTPHA_BENCH_LOG_DIR").map(std::path::PathBuf::from);
    let big = kept.clone().unwrap_or_else(|| dir.path().join("big"));
    std::fs::create_dir_all(&big).expect("dir");
    let started = Instant::now();
    let total = if big.join("log.sqlite").exists() {
        Log::open_read_only(big.join("log.sqlite"))
            .expect("kept log")
            .head()
            .position
    } else {
        workload_log(&big, events)
    };
    println!("## rebuild and incremental apply over {total} events\n");
    println!(
        "(log of a workload, 100 communes x 100 tasks, then progress reports; built or opened in {:.1} s)\n",
        started.elapsed().as_secs_f64()
    );
    println!("| what | events | seconds | events/s |");
    println!("|---|---:|---:|---:|");
    let before = plain_scan(&big.join("log.sqlite"), total);
    let started = Instant::now();
    let rebuilt = dotpha_project::rebuild(&big, "main", |_, _| {}).expect("rebuild");
    let took = started.elapsed();
    assert_eq!(rebuilt.events, total);
    println!(
        "| `rebuild` (catch up in transactions of {} events read {} at a time, checkpoint, swap) | {total} | {:.2} | {} |",
        dotpha_project::REBUILD_BATCH,
        dotpha_project::REBUILD_PART,
        took.as_secs_f64(),
        rate(total, took)
    );
    let after = plain_scan(&big.join("log.sqlite"), total);
    for (when, (scan, bytes)) in [("before", before), ("after", after)] {
        println!(
            "| plain rusqlite scan of the same rows, {when} the rebuild ({bytes} bytes of text a row) | {total} | {:.2} | {} |",
            scan.as_secs_f64(),
            rate(total, scan)
        );
    }
    // The faster of the two is the floor: a scan right after the rebuild
    // may share the disk and the page cache with the file it wrote.
    let floor = before.0.min(after.0);
    // The floor of the writing: the rebuilt file's rows inserted plainly.
    let mut written = Vec::new();
    for (order, what) in [
        (Order::Batches, "in the rebuild's transactions"),
        (Order::KeyOrder, "in key order, one transaction"),
    ] {
        let into = dir.path().join("plain-write.sqlite");
        let (inserts, whole, rows) = plain_write(&rebuilt.file, &into, order);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("plain-write.sqlite{suffix}")));
        }
        println!(
            "| plain rusqlite inserts of the rebuilt file's {rows} rows, {what}, then its ending \
             ({:.2} s of inserts; rows/s, events/s) | {total} | {:.2} | {} / {} |",
            inserts.as_secs_f64(),
            whole.as_secs_f64(),
            rate(rows, whole),
            rate(total, whole)
        );
        written.push(whole);
    }
    println!(
        "\nrebuild / plain scan (the faster): {:.1}%; rebuild / plain inserts of its rows in its transactions: {:.1}%, \
         in key order: {:.1}%\n",
        100.0 * floor.as_secs_f64() / took.as_secs_f64(),
        100.0 * written[0].as_secs_f64() / took.as_secs_f64(),
        100.0 * written[1].as_secs_f64() / took.as_secs_f64()
    );
    if std::env::var("DOTPHA_BENCH_REBUILD_ONLY").is_ok_and(|v| v == "1") {
        return;
    }

    // (b) incremental, in the worker's batches, reading excluded.
    let log = Log::open_read_only(big.join("log.sqlite")).expect("open");
    let mut read = ReadModel::open(dir.path().join("incremental.sqlite")).expect("open");
    let mut applying = Duration::ZERO;
    let mut batches = 0u64;
    let started = Instant::now();
    while read.applied().position < total {
        let batch = log
            .events_from(read.applied().position + 1, dotpha_project::MAX_BATCH)
            .expect("read");
        let start = Instant::now();
        read.apply(&batch, Some(read.applied().position + batch.len() as u64))
            .expect("apply");
        applying += start.elapsed();
        batches += 1;
    }
    let wall = started.elapsed();
    println!(
        "| `ReadModel::apply`, batches of {} ({batches} transactions), apply only | {total} | {:.2} | {} |",
        dotpha_project::MAX_BATCH,
        applying.as_secs_f64(),
        rate(total, applying)
    );
    println!(
        "| the same, with reading the batches from the log | {total} | {:.2} | {} |",
        wall.as_secs_f64(),
        rate(total, wall)
    );
    drop(read);
    drop(log);
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&big);
    }

    // (c) queries on many tasks.
    let many = dir.path().join("many");
    std::fs::create_dir_all(&many).expect("dir");
    let started = Instant::now();
    let (task_events, communes) = task_log(&many, tasks);
    let built = started.elapsed();
    let started = Instant::now();
    dotpha_project::rebuild(&many, "main", |_, _| {}).expect("rebuild");
    let rebuild_took = started.elapsed();
    let read = dotpha_project::open_for_reading(&many, "main").expect("open");
    let (_, count) = read.tasks(&TaskFilter::default(), 0).expect("tasks");
    println!(
        "\n## queries on {count} tasks ({DISTRICTS} districts, {communes} communes; {task_events} events, \
         log built in {:.1} s, rebuilt in {:.1} s = {} events/s)\n",
        built.as_secs_f64(),
        rebuild_took.as_secs_f64(),
        rate(task_events, rebuild_took)
    );
    let now = Timestamp::parse("2021-07-01T00:00:00+07:00")
        .expect("instant")
        .unix_millis();
    let cycle = || Some("2021".to_owned());
    let cases: Vec<(&str, TaskFilter)> = vec![
        (
            "cycle only, default limit (1000)",
            TaskFilter {
                cycle: cycle(),
                ..TaskFilter::default()
            },
        ),
        (
            "cycle + unit subtree (a district)",
            TaskFilter {
                cycle: cycle(),
                unit: Some("huyen-03".to_owned()),
                ..TaskFilter::default()
            },
        ),
        (
            "cycle + unit (a commune)",
            TaskFilter {
                cycle: cycle(),
                unit: Some("xa-0042".to_owned()),
                tree: Tree::Today,
                ..TaskFilter::default()
            },
        ),
        (
            "q=\"xa mau son 42\" (diacritics-free search)",
            TaskFilter {
                q: Some("xa mau son 42".to_owned()),
                ..TaskFilter::default()
            },
        ),
        (
            "q=\"chuyen doi so\", cycle",
            TaskFilter {
                cycle: cycle(),
                q: Some("chuyen doi so".to_owned()),
                ..TaskFilter::default()
            },
        ),
        (
            "cycle + status=overdue",
            TaskFilter {
                cycle: cycle(),
                status: dotpha_views::query::StatusFilter::parse("overdue"),
                ..TaskFilter::default()
            },
        ),
        (
            "cycle + status=in_progress, limit 50",
            TaskFilter {
                cycle: cycle(),
                status: dotpha_views::query::StatusFilter::parse("in_progress"),
                limit: Some(50),
                ..TaskFilter::default()
            },
        ),
    ];
    let runs = 60;
    println!("| query (`now` = 2021-07-01) | matching | returned | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for (label, filter) in &cases {
        let mut times = Vec::with_capacity(runs);
        let mut answer = (0, 0);
        for _ in 0..runs {
            let start = Instant::now();
            let (rows, total) = read.tasks(filter, now).expect("tasks");
            times.push(start.elapsed());
            answer = (total, rows.len());
        }
        times.sort();
        println!(
            "| `tasks`: {label} | {} | {} | {} | {} |",
            answer.0,
            answer.1,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
    for (label, run) in [
        (
            "`dashboard` (cycle 2021)",
            Box::new(|| {
                read.dashboard(Some("2021"), now).expect("dashboard");
            }) as Box<dyn Fn()>,
        ),
        (
            "`unit` roll-up of the province (today's tree)",
            Box::new(|| {
                read.unit("tuyen-quang", Tree::Today, Some("2021"), now)
                    .expect("unit");
            }),
        ),
        (
            "`task` (one task, whole)",
            Box::new(|| {
                read.task("ndp-004242", now).expect("task");
            }),
        ),
    ] {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            run();
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "| {label} | | | {} | {} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
}
