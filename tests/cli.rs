//! The command line as an operator uses it: `dotpha verify` and `dotpha audit`
//! on a log written by the store.

use std::process::{Command, Output};

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Log};
use dotpha_testkit::Workload;

fn dotpha(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(args)
        .output()
        .expect("the dotpha binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A data directory with a small district's log: setup plus 20 reports.
fn district() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("log opens");
    let mut workload = Workload::new("cli", 2, 2);
    let mut messages = workload.setup();
    messages.extend((0..20).map(|_| workload.next_report()));
    let arrivals = messages
        .iter()
        .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("has an id"))
        .collect();
    let at = Timestamp::parse("2021-03-02T01:30:00.123Z").expect("instant");
    let receipts = ledger.submit_batch(arrivals, &at).expect("appends");
    assert!(
        receipts.iter().all(|r| r.error.is_none()),
        "the workload is valid: {receipts:?}"
    );
    dir
}

#[test]
fn verify_reports_an_intact_log_with_its_head() {
    let dir = district();
    let data = dir.path().to_str().expect("utf-8 path");
    let head = Log::open_read_only(dir.path().join("log.sqlite"))
        .expect("opens")
        .head()
        .clone();
    let out = dotpha(&["verify", "--data", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("intact: {} events, head {head}", head.position)));

    let out = dotpha(&[
        "verify",
        "--data",
        data,
        "--expect-head",
        &head.to_string(),
        "--json",
    ]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["ok"], true);
    assert_eq!(report["head_position"], head.position);
    assert_eq!(report["first_bad_position"], serde_json::Value::Null);
}

#[test]
fn verify_fails_on_a_head_the_log_no_longer_holds() {
    let dir = district();
    let data = dir.path().to_str().expect("utf-8 path");
    let head = Log::open_read_only(dir.path().join("log.sqlite"))
        .expect("opens")
        .head()
        .clone();
    let future = format!("{}:{}", head.position + 5, "ab".repeat(32));
    let out = dotpha(&["verify", "--data", data, "--expect-head", &future]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains(&format!("first bad position {}", head.position + 1)),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn verify_names_a_tampered_position() {
    let dir = district();
    let path = dir.path().join("log.sqlite");
    let conn = rusqlite_free_edit(&path);
    assert!(conn.success(), "sqlite edit ran");
    let out = dotpha(&["verify", "--data", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("first bad position 8"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("events_no_update is missing"),
        "{}",
        text(&out.stderr)
    );
}

/// Drops the update trigger and edits event 8 (a task assignment) with Python's sqlite3, as an
/// attacker with file access would.
fn rusqlite_free_edit(path: &std::path::Path) -> std::process::ExitStatus {
    Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TRIGGER events_no_update'); \
             c.execute(\"UPDATE events SET data=replace(data,'120','121') WHERE position=8\"); c.commit()",
        )
        .arg(path)
        .status()
        .expect("python3 is installed (.ci/run installs it)")
}

#[test]
fn verify_refuses_a_missing_or_foreign_log_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dotpha(&["verify", "--data", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no log here"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(
        dir.path().join("log.sqlite"),
        b"this is not a database, it is a shopping list",
    )
    .expect("write");
    let out = dotpha(&["verify", "--data", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a dotpha log"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn audit_tells_who_did_what_and_when_as_recorded() {
    let dir = district();
    let data = dir.path().to_str().expect("utf-8 path");
    let task = Workload::task(1, 0);
    let out = dotpha(&["audit", &task, "--data", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("task.assigned"), "{shown}");
    assert!(
        shown.contains("Trần Thị Mẫu 1 (dữ liệu mẫu) (chu-tich-xa-0001)"),
        "{shown}"
    );
    assert!(
        shown.contains("2021-03-02T08:30:00"),
        "occurred_at exactly as recorded: {shown}"
    );
    assert!(shown.contains("due 30/11/2021"), "{shown}");
    assert!(
        shown.contains("reported progress as of 01/03/2021"),
        "{shown}"
    );

    let out = dotpha(&["audit", &task, "--data", data, "--json"]);
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let events = history["events"].as_array().expect("events");
    assert_eq!(events[0]["type"], "task.assigned");
    assert_eq!(events[0]["schema"], "dotpha.event.v1");
    assert!(
        events
            .windows(2)
            .all(|w| w[1]["version"].as_u64() == w[0]["version"].as_u64().map(|v| v + 1))
    );

    let out = dotpha(&["audit", "no-such-task", "--data", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no task \"no-such-task\""));
}

#[test]
fn audit_into_a_reader_that_stops_early_ends_quietly() {
    let dir = district();
    let data = dir.path().to_str().expect("utf-8 path");
    let task = Workload::task(1, 0);
    for json in [false, true] {
        let mut args = vec!["audit", task.as_str(), "--data", data];
        if json {
            args.push("--json");
        }
        // `dotpha audit … | head -0`: the reader is gone before the
        // history is written.
        let mut child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dotpha runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("dotpha ends");
        let errors = text(&out.stderr);
        assert!(out.status.success(), "json {json}: {errors}");
        assert!(!errors.contains("panicked"), "json {json}: {errors}");
    }
}
