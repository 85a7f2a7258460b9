//! `dotpha status --nats URL` (issue 16), with real processes on a real
//! `nats-server`: it names the active writer and lists the standby with
//! its lag; after the active writer is killed and the standby took over,
//! it names the new holder and the time of the takeover; with no writer,
//! or only one that stopped, it says so and exits 1; with no NATS, 2.

mod support;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use serde_json::Value;
use support::*;

/// The longest a state may take to show (a takeover waits
/// `dotpha_bus::lease::LEASE_TTL` for the lease to lapse).
const LIMIT: Duration = Duration::from_secs(120);

/// `dotpha status --nats url` with `args`: its exit code and standard
/// output.
fn status(url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["status", "--nats", url])
        .args(args)
        .env_remove("DOTPHA_CONFIG")
        .output()
        .expect("dotpha status runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `dotpha status --json`, parsed, with its exit code.
fn status_json(url: &str) -> (i32, Value) {
    let (code, text) = status(url, &["--json"]);
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status --json prints JSON ({e}):\n{text}"));
    (code, json)
}

/// Runs `status --json` until `done` holds of it; panics with the last
/// answer and `output()` after [`LIMIT`].
async fn status_until(
    url: &str,
    what: &str,
    done: impl Fn(i32, &Value) -> bool,
    output: impl Fn() -> String,
) -> (i32, Value) {
    let started = Instant::now();
    loop {
        let (code, json) = tokio::task::block_in_place(|| status_json(url));
        if done(code, &json) {
            return (code, json);
        }
        assert!(
            started.elapsed() < LIMIT,
            "{what}: status said (exit {code})\n{json:#}\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The writer process of `status --json` whose process id is `pid`.
fn writer(json: &Value, pid: u32) -> Option<&Value> {
    json["writers"]
        .as_array()?
        .iter()
        .find(|w| w["pid"].as_u64() == Some(u64::from(pid)))
}

fn log_of(dir: &Path) -> String {
    dir.join("log.sqlite").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_the_writer_and_the_standby_with_its_lag_then_the_new_holder_and_the_takeover()
{
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = Writer::start(&a_dir, &url, None);
    let mut workload = Workload::new("status", 2, 2);
    let setup = workload.setup();
    submit_in_order(&publisher(&url).await, &setup).await;
    std::fs::create_dir_all(&b_dir).expect("B's directory");
    std::fs::copy(a_dir.join("log.key"), b_dir.join("log.key")).expect("the log's key copied");
    let mut b = Writer::start_with_args(&b_dir, &url, &["--standby"]);
    let (a_pid, b_pid) = (a.pid().expect("A runs"), b.pid().expect("B runs"));
    let both = |a: &Writer, b: &Writer| format!("A:\n{}\nB:\n{}", a.output(), b.output());

    // The standby caught up: it holds the stream's last record.
    let (code, json) = status_until(
        &url,
        "A active, B a standby that caught up",
        |_, json| {
            json["lease"]["state"] == "active"
                && writer(json, b_pid).is_some_and(|b| {
                    b["role"] == "standby"
                        && b["renewing"] == true
                        && b["lag_records"] == 0
                        && b["applied"] == json["decisions"]["last_sequence"]
                })
        },
        || both(&a, &b),
    )
    .await;
    assert_eq!(code, 0, "a valid writer: exit 0\n{json:#}");
    assert_eq!(json["lease"]["holder"]["pid"], a_pid, "{json:#}");
    assert!(
        json["decisions"]["last_sequence"].as_u64() > Some(0),
        "{json:#}"
    );
    assert_eq!(json["last_takeover"], Value::Null, "{json:#}");
    let a_row = writer(&json, a_pid).expect("A has a record");
    assert_eq!(a_row["role"], "active");
    assert_eq!(a_row["holds_lease"], true);
    assert_eq!(a_row["log"], log_of(&a_dir));
    let b_row = writer(&json, b_pid).expect("B has a record");
    assert_eq!(b_row["holds_lease"], false);
    assert_eq!(b_row["log"], log_of(&b_dir));
    assert_eq!(b_row["log_head"], a_row["log_head"], "{json:#}");
    let (code, text) = tokio::task::block_in_place(|| status(&url, &[]));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("writer:        active:") && text.contains(&log_of(&a_dir)),
        "{text}"
    );
    assert!(
        text.contains("standby") && text.contains(&log_of(&b_dir)),
        "{text}"
    );
    assert!(text.contains("last takeover: none"), "{text}");

    // A dies; B takes the lease once it lapses.
    a.kill();
    let (code, json) = status_until(
        &url,
        "B holding the lease after the takeover",
        |code, json| code == 0 && json["lease"]["holder"]["pid"] == b_pid,
        || both(&a, &b),
    )
    .await;
    assert_eq!(code, 0);
    let takeover = &json["last_takeover"];
    assert!(
        takeover["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "the takeover's time, RFC 3339 in UTC\n{json:#}"
    );
    assert!(
        takeover["from"]
            .as_str()
            .is_some_and(|from| from.contains(&log_of(&a_dir))),
        "it names the writer it took over from\n{json:#}"
    );
    // B says it is active once it writes its next record; A's record, if
    // still kept, is not renewed.
    let (_, json) = status_until(
        &url,
        "B's record saying it is active",
        |_, json| writer(json, b_pid).is_some_and(|b| b["role"] == "active"),
        || both(&a, &b),
    )
    .await;
    let b_row = writer(&json, b_pid).expect("B has a record");
    assert_eq!(b_row["holds_lease"], true, "{json:#}");
    assert!(b_row["last_takeover"].is_string(), "{json:#}");
    let a_listed = writer(&json, a_pid).is_some();
    if let Some(a_row) = writer(&json, a_pid) {
        assert_eq!(a_row["renewing"], false, "a dead writer renews nothing");
        assert_eq!(a_row["holds_lease"], false);
    }
    let (code, text) = tokio::task::block_in_place(|| status(&url, &[]));
    assert_eq!(code, 0, "{text}");
    if a_listed {
        // Its record lives a minute after its last write, far longer than
        // this test: the table says what it last was, not what it is.
        assert!(
            text.lines()
                .any(|l| l.starts_with("was active") && l.contains(&format!(" {a_pid} "))),
            "the dead writer's row says it was active\n{text}"
        );
    }
    assert!(text.contains(&format!("pid {b_pid} ")), "{text}");
    assert!(
        text.contains(&format!(
            "last takeover: {}",
            takeover["at"].as_str().unwrap_or("?")
        )),
        "{text}"
    );
    assert!(b.terminate().success(), "{}", b.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_a_writer_says_so_and_exits_1() {
    let nats = NatsServer::start();
    let url = nats.url();
    let (code, text) = tokio::task::block_in_place(|| status(&url, &[]));
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("no writer has held the writer's lease"),
        "{text}"
    );
    let (code, json) = tokio::task::block_in_place(|| status_json(&url));
    assert_eq!((code, &json["lease"]["state"]), (1, &Value::from("none")));
    assert_eq!(json["writers"], Value::Array(Vec::new()));

    // A writer that stopped cleanly released the lease and withdrew its
    // record: nobody writes.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut a = Writer::start(&dir.path().join("a"), &url, None);
    status_until(
        &url,
        "the writer running",
        |code, _| code == 0,
        || a.output(),
    )
    .await;
    assert!(a.terminate().success(), "{}", a.output());
    let (code, json) = tokio::task::block_in_place(|| status_json(&url));
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["lease"]["state"], "released", "{json:#}");
    assert_eq!(json["writers"], Value::Array(Vec::new()), "{json:#}");
    let (code, text) = tokio::task::block_in_place(|| status(&url, &[]));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("NONE: released by"), "{text}");
}

#[test]
fn status_without_nats_exits_2() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (code, text) = status(&format!("nats://127.0.0.1:{port}"), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("connecting to NATS"), "{text}");
}
