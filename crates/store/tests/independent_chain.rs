//! The hash chain checked by someone else: `tests/check_chain.py`, written
//! in Python from CONTRACT.md and RFC 8785 alone, must agree with the log on
//! every hash, including Vietnamese text, escapes and fractional numbers, and
//! must find tampering at the right position.
//!
//! python3 is required: without it these tests fail, they do not skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Head, Ledger, Log};
use dotpha_testkit::{Message, ROOT, SECRETARY, Workload};
use serde_json::{Value, json};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/check_chain.py")
}

/// Runs `python3 tests/check_chain.py ARGS`, feeding `stdin`.
fn python(args: &[&str], stdin: &[u8]) -> Output {
    let script = script();
    assert!(
        script.is_file(),
        "the independent checker is missing: {}",
        script.display()
    );
    let mut child = match Command::new("python3")
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "python3 is required to check the hash chain independently \
             (tests/check_chain.py), but it could not be run: {e}. \
             Install Python 3 and put python3 on PATH."
        ),
    };
    let mut input = child.stdin.take().expect("stdin");
    let feed = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        input.write_all(&feed).expect("feed python");
    });
    let output = child.wait_with_output().expect("python3 runs");
    writer.join().expect("fed");
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(message: &Message) -> Arrival {
    Arrival::read(
        &message.body,
        Some(&message.unit),
        Some(&message.submission_id),
    )
    .expect("readable")
}

fn submission(id: &str, unit: &str, actor: &str, kind: &str, data: Value) -> Message {
    let body = json!({
        "schema": "dotpha.submission.v1",
        "submission_id": id,
        "unit": unit,
        "actor": actor,
        "occurred_at": "2021-03-02T08:30:00.5+07:00",
        "type": kind,
        "data": data,
    });
    Message {
        unit: unit.to_owned(),
        submission_id: id.to_owned(),
        body: serde_json::to_vec(&body).expect("JSON"),
    }
}

/// A log with the workload, plus submissions whose data stresses the
/// canonical form: Vietnamese text (sent decomposed, stored NFC), quotes,
/// backslashes, newlines, control characters, emoji, U+2028, and numbers
/// that are fractional, tiny, huge, or integral.
fn write_log(path: &Path) -> Head {
    let mut workload = Workload::new("indep", 2, 2);
    let mut ledger = Ledger::open(path).expect("open");
    let mut at = 1_614_648_600_123;
    let mut submit = |ledger: &mut Ledger, messages: Vec<Message>| {
        at += 1001;
        let receipts = ledger
            .submit_batch(
                messages.iter().map(read).collect(),
                &Timestamp::from_unix_millis(at),
            )
            .expect("append");
        for r in &receipts {
            assert!(
                r.error.is_none(),
                "{} must be accepted: {:?}",
                r.submission_id,
                r.error
            );
        }
    };
    submit(&mut ledger, workload.setup());
    submit(
        &mut ledger,
        (0..10).map(|_| workload.next_report()).collect(),
    );

    let chair = "chu-tich-xa-0000";
    let odd_text =
        "Ghi chú: \"đạt\" 50% \\ kế hoạch\nDòng 2\tcó tab \u{1}\u{1f}\u{7f} \u{2028} 🎉👩‍🌾 ";
    // "Sơn Dương" with its marks as separate combining characters (NFD).
    let decomposed = "Thôn Đô\u{0300}ng Die\u{0302}\u{0303}n - So\u{031b}n Du\u{031b}o\u{031b}ng";
    submit(
        &mut ledger,
        vec![
            submission(
                "indep-extra-unit-01",
                ROOT,
                SECRETARY,
                "unit.registered",
                json!({"code": "thon-dong-dien", "name": decomposed, "kind": "village",
                       "parent": "xa-0000", "valid_from": "2021-01-01"}),
            ),
            submission(
                "indep-extra-task-01",
                ROOT,
                SECRETARY,
                "task.assigned",
                json!({
                    "task_id": "ndp-2021-so-le", "cycle": "2021", "assignee": chair,
                    "title": "Tăng tỉ lệ hộ dùng nước sạch \"hợp vệ sinh\"",
                    "kind": "difficult", "category": "Môi trường",
                    "due": "2021-12-15",
                    "targets": [
                        {"metric": "households", "label": odd_text, "baseline": 0.1, "target": 1e21},
                        {"metric": "ratio", "label": decomposed, "baseline": 1e-7, "target": 123_456_789.125},
                        {"metric": "tons", "label": "Tấn", "baseline": -2.5, "target": 394.5}
                    ],
                    "origin": "backlog", "backlog_ref": "NQ-12/2020",
                    "description": "Mô tả\r\nnhiều dòng\u{8}\u{c}"
                }),
            ),
            submission(
                "indep-extra-report-01",
                "xa-0000",
                chair,
                "progress.reported",
                json!({
                    "task_id": "ndp-2021-so-le", "as_of": "2021-02-28",
                    "values": [
                        {"metric": "households", "value": 394.5},
                        {"metric": "ratio", "value": 0.1},
                        {"metric": "tons", "value": 1e-7}
                    ],
                    "percent_complete": 33.333_333_333_333_336,
                    "confidence": "low",
                    "note": odd_text
                }),
            ),
            submission(
                "indep-extra-report-02",
                "xa-0000",
                chair,
                "progress.reported",
                json!({
                    "task_id": "ndp-2021-so-le", "as_of": "2021-03-01",
                    "values": [{"metric": "tons", "value": 4.35},
                               {"metric": "households", "value": 9_007_199_254_740_993_u64}],
                    "percent_complete": 0.000_001,
                    "note": decomposed
                }),
            ),
        ],
    );
    submit(
        &mut ledger,
        (0..5).map(|_| workload.next_report()).collect(),
    );
    let head = ledger.log().head().clone();
    let report = ledger.log().verify(Some(&head)).expect("verify");
    assert!(report.ok, "{report:#?}");

    // The stress reached the log: the stored data holds what we meant.
    let stored = ledger
        .log()
        .stream("task-ndp-2021-so-le")
        .expect("read the stream");
    let all: String = stored.iter().map(|e| e.data.get()).collect();
    for needle in [
        "394.5",
        "0.1",
        "1e+21",
        "1e-7",
        "33.333333333333336",
        "0.000001",
    ] {
        assert!(all.contains(needle), "{needle} is in the data: {all}");
    }
    assert!(all.contains("🎉") && all.contains("\\u0001") && all.contains("\u{7f}"));
    let unit = ledger
        .log()
        .stream("unit-thon-dong-dien")
        .expect("read the stream");
    assert!(
        unit[0].data.get().contains("Thôn Đồng Diễn - Sơn Dương"),
        "stored NFC: {}",
        unit[0].data.get()
    );
    head
}

#[test]
fn the_python_checker_passes_its_rfc_8785_self_test() {
    let output = python(&["--self-test"], b"");
    assert!(
        output.status.success(),
        "self-test failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert_eq!(text(&output.stdout).trim(), "self-test ok");
}

#[test]
fn the_python_checker_agrees_with_the_log_on_every_hash_and_the_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let head = write_log(&path);

    let output = python(&[path.to_str().expect("UTF-8 path")], b"");
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "the independent check must pass:\n{stdout}{}",
        text(&output.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!("{} events, chain ok, head {head}", head.position)
    );

    // It reads the log while the writer has it open, too.
    let reader = Log::open(&path).expect("open");
    let output = python(&[path.to_str().expect("UTF-8 path")], b"");
    assert!(output.status.success(), "{}", text(&output.stdout));
    drop(reader);
}

#[test]
fn the_python_checker_names_the_first_tampered_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    write_log(&path);
    let tampered: u64 = {
        let conn = rusqlite::Connection::open(&path).expect("open");
        let position: u64 = conn
            .query_row(
                "SELECT position FROM events WHERE submission_id = 'indep-extra-report-01'",
                [],
                |r| r.get(0),
            )
            .expect("the report's event");
        conn.execute_batch("DROP TRIGGER events_no_update")
            .expect("drop trigger");
        // 394.5 becomes 394.50001: one digit in the data.
        let changed = conn
            .execute(
                "UPDATE events SET data = replace(data, '394.5', '394.50001') WHERE position = ?1",
                [position],
            )
            .expect("tamper");
        assert_eq!(changed, 1);
        position
    };

    let output = python(&[path.to_str().expect("UTF-8 path")], b"");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with(&format!("bad at position {tampered}:")),
        "names position {tampered}: {stdout}"
    );
    // And the log's own verify agrees.
    let report = Log::open_read_only(&path)
        .expect("open")
        .verify(None)
        .expect("verify");
    assert_eq!(report.first_bad_position, Some(tampered));
}

#[test]
fn the_python_checker_names_a_missing_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    write_log(&path);
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch("DROP TRIGGER events_no_delete; DELETE FROM events WHERE position = 5")
        .expect("tamper");
    drop(conn);
    let output = python(&[path.to_str().expect("UTF-8 path")], b"");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("bad at position 5:"), "{stdout}");
}

#[test]
fn the_python_checker_reports_an_empty_log_as_the_genesis_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    drop(Log::open(&path).expect("create"));
    let output = python(&[path.to_str().expect("UTF-8 path")], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).trim(),
        format!("0 events, chain ok, head {}", Head::genesis())
    );
}

/// Python's canonical form and the log's canonicalizer agree on thousands
/// of numbers (random bit patterns, so every exponent range) and strings.
#[test]
fn the_python_canonical_form_equals_the_logs_on_random_numbers_and_strings() {
    let mut state = 0x005E_ED0F_D07A_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut values = Vec::new();
    for _ in 0..3000 {
        let x = f64::from_bits(next());
        if x.is_finite() {
            values.push(json!(x));
        }
        // Numbers of everyday size, with few digits.
        let y = (next() % 2_000_001) as f64 / [1.0, 10.0, 100.0, 1000.0][(next() % 4) as usize];
        values.push(json!(y));
    }
    for x in [
        0.0,
        -0.0,
        1e21,
        1e20,
        1e-6,
        1e-7,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        0.1,
        394.5,
    ] {
        values.push(json!(x));
    }
    let alphabet: Vec<char> =
        "aZ\"\\/\u{0}\u{1f}\u{7f}\u{80}\u{2028}\u{2029}\u{fffd}\u{ffff}đơĐ😀𝄞 \t\n\r\u{8}\u{c}"
            .chars()
            .collect();
    for _ in 0..500 {
        let len = (next() % 12) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let key: String = (0..3)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        values.push(json!({ key: s.clone(), "z": [s, null, true, 1.5] }));
    }

    let mut input = String::new();
    let mut expected = Vec::new();
    for value in &values {
        input.push_str(&serde_json::to_string(value).expect("JSON"));
        input.push('\n');
        expected.push(serde_json_canonicalizer::to_string(value).expect("canonical"));
    }
    let output = python(&["--canonicalize"], input.as_bytes());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let got = text(&output.stdout);
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), expected.len());
    for ((value, want), got) in values.iter().zip(&expected).zip(got) {
        assert_eq!(got, want, "canonical form of {value}");
    }
}
