//! Benchmarks of evaluation by period (CONTRACT part A, issue 12): deciding
//! `assessment.decided` for many cadres through the writer's core, beside
//! progress reports through the same core; `decide` alone, early in the log
//! and at its end (a decision costs O(the cadre's products), not O(log));
//! and the period's read-model queries (the sheet, one commune's, the quota,
//! one cadre's) before and after the decisions.
//!
//! `cargo bench -p dotpha-project --bench evaluation` (sizes:
//! `DOTPHA_BENCH_CADRES`, default 10,000 cadres, each with 2 tasks of 3
//! milestones due in the quarter: 8 products; `DOTPHA_BENCH_RUNS`, default
//! 20 runs of each query).

use std::time::{Duration, Instant};

use dotpha_domain::{Date, Event, State, Timestamp, decide, parse_submission};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome};
use dotpha_views::evaluation::AssessmentFilter;
use serde_json::{Value, json};

const ROOT: &str = "tuyen-quang";
const SECRETARY: &str = "bi-thu";
const PERIOD: &str = "2026-q1";
const CADRES_PER_COMMUNE: usize = 100;
const BATCH: usize = 512;

fn recorded_at() -> Timestamp {
    Timestamp::from_unix_millis(1_775_000_000_000)
}

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

fn day(text: &str, plus: i64) -> String {
    Date::from_days_since_epoch(Date::parse(text).expect("date").days_since_epoch() + plus)
        .to_string()
}

fn body(id: &str, unit: &str, actor: &str, on: &str, kind: &str, data: Value) -> String {
    json!({
        "schema": "dotpha.submission.v1", "submission_id": id, "unit": unit, "actor": actor,
        "occurred_at": format!("{on}T08:00:00+07:00"), "type": kind, "data": data,
    })
    .to_string()
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
    fn send(&mut self, unit: &str, actor: &str, kind: &str, data: Value) {
        self.sent += 1;
        let id = format!("bench-{:010}", self.sent);
        let text = body(&id, unit, actor, "2026-04-05", kind, data);
        let submission = parse_submission(text.as_bytes(), Some(unit)).expect("valid");
        let events: Vec<Event> = decide(&self.state, &submission)
            .unwrap_or_else(|r| panic!("{kind} {text}: {}", r.message));
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

fn commune(c: usize) -> String {
    format!("xa-{:04}", c / CADRES_PER_COMMUNE)
}

fn cadre(c: usize) -> String {
    format!("can-bo-{c:06}")
}

/// A province whose `cadres` cadres (100 per commune) each carry two tasks
/// due in the first quarter of 2026 with three milestones each: 8 products.
/// Milestones are completed on time, late or not at all; two tasks in three
/// reach their target; one cadre in five has a review with a major error.
fn evaluation_log(path: &std::path::Path, cadres: usize) -> Writer {
    let mut w = Writer {
        log: Log::open(path).expect("open"),
        state: State::new(),
        pending: Vec::new(),
        sent: 0,
    };
    w.send(
        ROOT,
        "to-chuc",
        "unit.registered",
        json!({"code": ROOT, "name": "Tỉnh Tuyên Quang", "kind": "province", "parent": null}),
    );
    w.send(
        ROOT,
        "to-chuc",
        "cadre.registered",
        json!({"id": SECRETARY, "full_name": "Nguyễn Văn Mẫu", "unit": ROOT, "position": "Bí thư",
               "party_member": true, "standing_committee": true}),
    );
    w.send(
        ROOT,
        SECRETARY,
        "cycle.opened",
        json!({"cycle": "2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
    );
    w.send(
        ROOT,
        SECRETARY,
        "period.opened",
        json!({"period": PERIOD, "kind": "quarter", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}),
    );
    for k in 0..cadres.div_ceil(CADRES_PER_COMMUNE) {
        w.send(
            ROOT,
            SECRETARY,
            "unit.registered",
            json!({"code": commune(k * CADRES_PER_COMMUNE), "name": format!("Xã Mẫu {k}"),
                   "kind": "commune", "parent": ROOT}),
        );
    }
    let milestones = [
        ("Mốc 1", "2026-01-31"),
        ("Mốc 2", "2026-02-28"),
        ("Mốc 3", "2026-03-20"),
    ];
    for c in 0..cadres {
        let (unit, id) = (commune(c), cadre(c));
        w.send(
            ROOT,
            SECRETARY,
            "cadre.registered",
            json!({"id": id, "full_name": format!("Trần Thị Mẫu {c}"), "unit": unit,
                   "position": "Chủ tịch UBND xã", "party_member": true, "standing_committee": false}),
        );
        for j in 0..2 {
            let task = format!("t-{c:06}-{j}");
            let due = ["2026-03-15", "2026-03-31"][j];
            w.send(
                ROOT,
                SECRETARY,
                "task.assigned",
                json!({"task_id": task, "cycle": "2026", "assignee": id,
                       "title": format!("Chuyển đổi số cấp xã {c}.{j}"), "kind": "breakthrough",
                       "category": "Chuyển đổi số", "due": due,
                       "targets": [{"metric": "m", "label": "Chỉ tiêu", "baseline": 0, "target": 10}],
                       "origin": "committee"}),
            );
            w.send(
                &unit,
                &id,
                "plan.submitted",
                json!({"task_id": task, "solutions": ["Triển khai theo kế hoạch"],
                       "milestones": milestones.iter().map(|(t, d)| json!({"title": t, "due": d})).collect::<Vec<_>>()}),
            );
            for (m, (title, due)) in milestones.iter().enumerate() {
                let on = match (c + j + m) % 4 {
                    0 | 2 => day(due, -2),
                    1 => day(due, 5),
                    _ => continue,
                };
                w.send(
                    &unit,
                    &id,
                    "milestone.completed",
                    json!({"task_id": task, "milestone": title, "completed_on": on}),
                );
            }
            let value = if (c + j) % 3 == 0 { 6 } else { 10 };
            w.send(
                &unit,
                &id,
                "progress.reported",
                json!({"task_id": task, "as_of": "2026-03-10", "values": [{"metric": "m", "value": value}]}),
            );
            if c % 5 == 0 && j == 0 {
                w.send(
                    ROOT,
                    SECRETARY,
                    "product.reviewed",
                    json!({"task_id": task, "major_errors": 1, "comment": "Thiếu số liệu"}),
                );
            }
        }
    }
    w.flush();
    w
}

fn decision(c: usize) -> (String, String) {
    let id = format!("decide-{c:08}");
    let text = body(
        &id,
        ROOT,
        SECRETARY,
        "2026-04-10",
        "assessment.decided",
        json!({"cadre": cadre(c), "period": PERIOD, "peer_group": format!("nhom-{}", c % 10),
               "general_points": 20 + (c % 11)}),
    );
    (id, text)
}

fn report(c: usize, n: usize) -> (String, String) {
    let id = format!("report-{c:08}");
    let text = body(
        &id,
        &commune(c),
        &cadre(c),
        "2026-04-10",
        "progress.reported",
        json!({"task_id": format!("t-{c:06}-1"), "as_of": "2026-04-01",
               "values": [{"metric": "m", "value": 10 + n}]}),
    );
    (id, text)
}

/// Submits `bodies` through the writer's core in batches; returns the time.
fn through_ledger(
    ledger: &mut Ledger,
    unit_of: impl Fn(usize) -> String,
    bodies: &[(String, String)],
) -> Duration {
    let started = Instant::now();
    for (b, chunk) in bodies.chunks(BATCH).enumerate() {
        let arrivals = chunk
            .iter()
            .enumerate()
            .map(|(i, (id, text))| {
                Arrival::read(text.as_bytes(), Some(&unit_of(b * BATCH + i)), Some(id)).expect("id")
            })
            .collect();
        let receipts = ledger
            .submit_batch(arrivals, &recorded_at())
            .expect("commit");
        for r in receipts {
            assert!(r.error.is_none(), "{}: {:?}", r.submission_id, r.error);
        }
    }
    started.elapsed()
}

fn per_second(n: usize, d: Duration) -> String {
    format!("{:.0}", n as f64 / d.as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Runs `query` `runs` times; prints a row with p50 and p99.
fn timed<T>(what: &str, runs: usize, mut query: impl FnMut() -> T, count: impl Fn(&T) -> usize) {
    let mut times = Vec::with_capacity(runs);
    let mut n = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let answer = query();
        times.push(started.elapsed());
        n = count(&answer);
    }
    times.sort();
    println!(
        "| {what} | {n} | {} | {} |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
}

fn queries(dir: &std::path::Path, runs: usize, when: &str) {
    let rm = dotpha_project::open_for_reading(dir, "main").expect("open the read model");
    let now = Date::parse("2026-04-15")
        .expect("date")
        .end_in_vietnam_millis();
    let all = AssessmentFilter::default();
    let one = AssessmentFilter {
        unit: Some(commune(0)),
        ..AssessmentFilter::default()
    };
    timed(
        &format!("`assessments` of the period, {when}"),
        runs,
        || {
            rm.assessments(PERIOD, &all, now)
                .expect("query")
                .expect("period")
        },
        Vec::len,
    );
    timed(
        &format!("`assessments`, one commune (100 cadres), {when}"),
        runs,
        || {
            rm.assessments(PERIOD, &one, now)
                .expect("query")
                .expect("period")
        },
        Vec::len,
    );
    timed(
        &format!("`quota` of the period, {when}"),
        runs,
        || rm.quota(PERIOD).expect("query").expect("period"),
        Vec::len,
    );
    timed(
        &format!("`cadre_assessments` (one cadre), {when}"),
        runs,
        || {
            rm.cadre_assessments(&cadre(42))
                .expect("query")
                .expect("cadre")
        },
        Vec::len,
    );
}

fn main() {
    let cadres = size("DOTPHA_BENCH_CADRES", 10_000);
    let runs = size("DOTPHA_BENCH_RUNS", 20);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");

    let started = Instant::now();
    let writer = evaluation_log(&path, cadres);
    let built = writer.log.head().position;
    println!(
        "## {cadres} cadres x 8 products: a log of {built} events, built in {:.1} s\n",
        started.elapsed().as_secs_f64()
    );

    // decide alone, against the state of the whole log: early cadres and
    // late ones cost the same, whatever the log's length.
    let state = writer.state;
    drop(writer.log);
    let sample = cadres.min(2000);
    let decide_only = |range: std::ops::Range<usize>| {
        let started = Instant::now();
        for c in range.clone() {
            let (_, text) = decision(c);
            let submission = parse_submission(text.as_bytes(), Some(ROOT)).expect("valid");
            let events = decide(&state, &submission).expect("accepted");
            assert_eq!(events.len(), 1);
        }
        (range.len(), started.elapsed())
    };
    let (n_first, first) = decide_only(0..sample);
    let (n_last, last) = decide_only(cadres - sample..cadres);
    drop(state);

    // Through the writer's core (parse, duplicate check, decide, apply,
    // append in one transaction per batch): progress reports first, as
    // the layer underneath, then the decisions.
    let mut ledger = Ledger::open(&path).expect("open the ledger");
    let reports: Vec<(String, String)> = (0..cadres).map(|c| report(c, c % 3)).collect();
    let report_time = through_ledger(&mut ledger, commune, &reports);
    drop(ledger);

    // The read model before any decision: live products for everyone.
    dotpha_project::rebuild(dir.path(), "main", |_, _| {}).expect("rebuild");
    let mut ledger = Ledger::open(&path).expect("open the ledger");
    let decisions: Vec<(String, String)> = (0..cadres).map(decision).collect();
    let decide_time = through_ledger(&mut ledger, |_| ROOT.to_owned(), &decisions);
    let head = ledger.log().head().position;
    drop(ledger);

    println!("| what | submissions | seconds | per second |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `decide` alone, `assessment.decided` of the first {n_first} cadres | {n_first} | {:.3} | {} |",
        first.as_secs_f64(),
        per_second(n_first, first)
    );
    println!(
        "| `decide` alone, `assessment.decided` of the last {n_last} cadres | {n_last} | {:.3} | {} |",
        last.as_secs_f64(),
        per_second(n_last, last)
    );
    println!(
        "| writer's core, `progress.reported` (the layer underneath), batches of {BATCH} | {cadres} | {:.2} | {} |",
        report_time.as_secs_f64(),
        per_second(cadres, report_time)
    );
    println!(
        "| writer's core, `assessment.decided` (8 products each), batches of {BATCH} | {cadres} | {:.2} | {} |",
        decide_time.as_secs_f64(),
        per_second(cadres, decide_time)
    );

    println!("\n| query (read model, `now` = 2026-04-15) | lines | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    queries(dir.path(), runs, "nobody decided (live products)");
    let started = Instant::now();
    dotpha_project::rebuild(dir.path(), "main", |_, _| {}).expect("rebuild");
    let rebuilt = started.elapsed();
    queries(dir.path(), runs, "all decided");
    println!(
        "\n(read model rebuilt over {head} events in {:.1} s)",
        rebuilt.as_secs_f64()
    );
}
