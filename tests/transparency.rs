//! CONTRACT.md part B end to end, with real processes (`dotpha ingest`,
//! `dotpha serve`, `dotpha witness`), a real nats-server and real SQLite:
//! checkpoints follow every commit and an outsider's independent check
//! (`tests/check_tlog.py`) accepts them and the proofs; a crash between a
//! commit and its checkpoint is covered by the next checkpoint; a witness
//! cosigns, refuses a note with a bad signature, catches up after being
//! offline through one consistency proof, and refuses a fork (a restored
//! older backup that then appends other events), keeping both notes and
//! exiting non-zero.

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_store::{Log, StoredCheckpoint};
use dotpha_testkit::nats::free_port;
use dotpha_tlog::{InclusionProof, LogKey, LogVerifier};
use serde_json::Value;
use support::*;

const ORIGIN: &str = "son-duong.test/dotpha";
const WITNESS: &str = "hop-thanh.test/witness";

fn dotpha(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(args)
        .env("DOTPHA_LOG", "warn")
        .output()
        .expect("dotpha runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A child process, killed when dropped.
struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    fn start(args: &[&str], log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(args)
            .env("DOTPHA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("dotpha starts");
        Process {
            child: Some(child),
            log,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGTERM, then the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok()?.code()
    }

    /// Waits up to `limit` for it to exit by itself.
    fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `dotpha serve` on a free port, answering.
fn serve(data: &Path, url: &str, logs: &Path) -> (Process, u16) {
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let process = Process::start(
        &[
            "serve",
            "--data",
            arg(data),
            "--nats",
            url,
            "--http",
            &address,
        ],
        logs.join("serve.log"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "serve never listened: {}",
            process.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (process, port)
}

fn latest(data: &Path) -> Option<StoredCheckpoint> {
    Log::open_read_only(data.join("log.sqlite"))
        .ok()?
        .latest_checkpoint()
        .ok()?
}

/// Waits until a signed checkpoint covers `size` events.
async fn checkpoint_covering(data: &Path, size: u64) -> StoredCheckpoint {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(c) = latest(data).filter(|c| c.tree_size >= size) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covers {size} events: latest {:?}",
            latest(data).map(|c| c.tree_size)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the log holds a cosignature of the checkpoint of `size`.
async fn cosigned(data: &Path, size: u64, witness: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let held = Log::open_read_only(data.join("log.sqlite"))
            .expect("log")
            .cosignatures(size)
            .expect("read");
        if !held.is_empty() {
            assert_eq!(held[0].0, WITNESS);
            return;
        }
        assert!(
            Instant::now() < deadline && witness.is_running(),
            "the checkpoint of {size} was not cosigned: {}",
            witness.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn head(data: &Path) -> u64 {
    Log::open_read_only(data.join("log.sqlite"))
        .expect("log")
        .head()
        .position
}

fn log_key(data: &Path) -> String {
    let out = dotpha(&["key", "--data", arg(data)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_follow_every_commit_and_an_outsider_can_check_them() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let _writer = Writer::start_with_args(&data, &url, &["--origin", ORIGIN]);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("tlog", 3, 3);
    let mut messages = workload.setup();
    messages.extend((0..60).map(|_| workload.next_report()));
    // In three bursts, so several checkpoints are signed.
    for chunk in messages.chunks(messages.len() / 3 + 1) {
        submit_in_order(&publisher, chunk).await;
        checkpoint_covering(&data, head(&data)).await;
    }
    let size = head(&data);
    let checkpoint = checkpoint_covering(&data, size).await;
    assert_eq!(
        checkpoint.tree_size, size,
        "the latest checkpoint covers the head"
    );

    // The key: made on first start, owner-only, and what `dotpha key` prints.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("log.key"))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is owner-only");
    let vkey = log_key(&data);
    assert!(vkey.starts_with(&format!("{ORIGIN}+")), "{vkey}");
    let verifier = LogVerifier::new(&vkey).expect("a verifier key");
    let opened = verifier
        .open(checkpoint.note.as_bytes())
        .expect("signed by the key");
    assert_eq!(opened.checkpoint.size, size);

    // At most one checkpoint a second, by the times the writer recorded.
    let times: Vec<i64> = {
        let conn = rusqlite::Connection::open(data.join("log.sqlite")).expect("open");
        let mut stmt = conn
            .prepare("SELECT signed_at FROM tree_checkpoints ORDER BY tree_size")
            .expect("select");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .map(|t| {
                dotpha_domain::Timestamp::parse(&t.expect("row"))
                    .expect("an instant")
                    .unix_millis()
            })
            .collect()
    };
    assert!(
        times.len() >= 3,
        "a checkpoint per burst at least: {times:?}"
    );
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 990,
            "two checkpoints within a second: {times:?}"
        );
    }

    // The outsider's check, written from the contract alone.
    let (_serve, port) = serve(&data, &url, dir.path());
    let check = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_tlog.py"))
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--log", arg(&data.join("log.sqlite"))])
        .args(["--key", &vkey])
        .output()
        .expect("python3 runs (scripts/install-deps installs it with cryptography)");
    assert!(
        check.status.success(),
        "check_tlog.py: {}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    assert!(
        text(&check.stdout).ends_with("ok\n"),
        "{}",
        text(&check.stdout)
    );

    // verify --checkpoint: the note as served is the log's; an altered
    // note, a note from another key and a note for a size the log does not
    // hold are not.
    let (status, note) = http_get(port, "/api/v1/log/checkpoint");
    assert_eq!(status, 200);
    let note_file = dir.path().join("checkpoint.note");
    std::fs::write(&note_file, &note).expect("write");
    let out = dotpha(&[
        "verify",
        "--data",
        arg(&data),
        "--checkpoint",
        arg(&note_file),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let altered = note.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1);
    std::fs::write(&note_file, &altered).expect("write");
    let out = dotpha(&[
        "verify",
        "--data",
        arg(&data),
        "--checkpoint",
        arg(&note_file),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("does not verify"),
        "{}",
        text(&out.stdout)
    );
    let (other, _) = LogKey::generate(ORIGIN).expect("another key");
    let forged = other
        .sign(size, opened.checkpoint.root)
        .expect("signed by another key");
    std::fs::write(&note_file, &forged).expect("write");
    let out = dotpha(&[
        "verify",
        "--data",
        arg(&data),
        "--checkpoint",
        arg(&note_file),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let (own, private) = LogKey::generate(ORIGIN).expect("a key");
    let _ = own;
    let beyond = LogKey::from_private(&private)
        .expect("key")
        .sign(size + 5, opened.checkpoint.root)
        .expect("signed");
    std::fs::write(&note_file, &beyond).expect("write");
    let out = dotpha(&[
        "verify",
        "--data",
        arg(&data),
        "--checkpoint",
        arg(&note_file),
        "--log-key",
        LogKey::from_private(&private).expect("key").verifier_key(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("truncated or rolled back"),
        "{}",
        text(&out.stdout)
    );

    // A receipt that proves: from the CLI, checked against the signed root.
    let submission = workload.next_report();
    let file = dir.path().join("report.json");
    std::fs::write(&file, &submission.body).expect("write");
    let out = dotpha(&[
        "submit",
        "--nats",
        &url,
        "--prove",
        "--log-key",
        &vkey,
        arg(&file),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let proof = &shown["proof"];
    assert_eq!(proof["signature_checked"], true);
    let signed = verifier
        .open(proof["checkpoint"].as_str().expect("note").as_bytes())
        .expect("the log's checkpoint");
    let events = shown["events"].as_array().expect("events");
    let inclusion = proof["inclusion"].as_array().expect("proofs");
    assert_eq!(inclusion.len(), events.len());
    for (event, proof) in events.iter().zip(inclusion) {
        let proof: InclusionProof = serde_json::from_value(proof.clone()).expect("a proof");
        assert_eq!(Some(proof.position), event["position"].as_u64());
        proof.verify(signed.checkpoint.root).expect("verifies");
    }

    // And over HTTP.
    let (status, body) = http_get(
        port,
        &format!("/api/v1/submissions/{}?proof=1", submission.submission_id),
    );
    assert_eq!(status, 200, "{body}");
    let shown: Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        shown["proof"]["tree_size"].as_u64() >= events.last().and_then(|e| e["position"].as_u64())
    );
    let (status, body) = http_get(port, "/api/v1/log/proof/consistency?from=3&to=999999");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("beyond_checkpoint"), "{body}");
    let (status, body) = http_get(port, "/api/v1/log/key");
    assert_eq!((status, body.trim()), (200, vkey.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_a_commit_and_its_checkpoint_is_covered_by_the_next_checkpoint() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let mut writer = Writer::start(&data, &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("crash", 2, 2);
    submit_in_order(&publisher, &workload.setup()).await;
    let before = checkpoint_covering(&data, head(&data)).await;

    // The next commit aborts the writer before anything else sees it: the
    // checkpointer, idle since every commit was signed, never hears of it.
    writer.restart_with(Some("after-commit:1"));
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));
    let report = workload.next_report();
    js.send_publish(
        format!("dotpha.v1.submit.{}", report.unit),
        PublishMessage::build()
            .payload(report.body.clone().into())
            .message_id(report.submission_id.clone()),
    )
    .await
    .expect("published")
    .await
    .expect("held");
    assert!(
        writer.wait_exit(Duration::from_secs(30)).is_some(),
        "the fault ends the writer"
    );
    let committed = head(&data);
    assert!(committed > before.tree_size, "the report was committed");
    let uncovered = latest(&data).expect("a checkpoint");
    assert!(
        uncovered.tree_size < committed,
        "no checkpoint covers the crashed batch yet: {} of {committed}",
        uncovered.tree_size
    );

    // At the next start, the checkpointer signs what is uncovered.
    writer.restart();
    let after = checkpoint_covering(&data, committed).await;
    assert_eq!(after.tree_size, committed);
    let log = Log::open_read_only(data.join("log.sqlite")).expect("log");
    assert_eq!(
        dotpha_tlog::tree::to_hex(&log.tree_root(committed).expect("root")),
        after.root_hash
    );
    assert!(
        log.verify(None).expect("verify").ok,
        "the tree agrees with the events"
    );
    let out = dotpha(&[
        "verify",
        "--data",
        arg(&data),
        "--checkpoint",
        arg(&{
            let f = dir.path().join("after.note");
            std::fs::write(&f, &after.note).expect("write");
            f
        }),
    ]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_refuses_bad_notes_catches_up_and_refuses_a_fork() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let witness_key = dir.path().join("witness.key");
    let witness_dir = dir.path().join("witness");

    // A commune makes its witness key; the district adds its verifier key.
    let out = dotpha(&["key", "--witness", arg(&witness_key), "--name", WITNESS]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let witness_vkey = text(&out.stdout).trim().to_owned();
    let mut writer = Writer::start_with_args(
        &data,
        &url,
        &["--origin", ORIGIN, "--witness", &witness_vkey],
    );
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("witness", 2, 2);
    submit_in_order(&publisher, &workload.setup()).await;
    let first = checkpoint_covering(&data, head(&data)).await;
    let vkey = log_key(&data);
    let witness_args = [
        "witness",
        "--nats",
        &url,
        "--log-key",
        &vkey,
        "--key",
        arg(&witness_key),
        "--data",
        arg(&witness_dir),
    ];
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let first_args: Vec<&str> = witness_args
        .iter()
        .copied()
        .chain(["--metrics", &metrics_addr])
        .collect();
    let mut witness = Process::start(&first_args, dir.path().join("witness-1.log"));
    cosigned(&data, first.tree_size, &mut witness).await;
    let (status, metrics) = http_get(metrics_port, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("dotpha_witness_cosigned_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("dotpha_witness_tree_size {}", first.tree_size)),
        "{metrics}"
    );

    // Notes that are not the log's are refused, and the witness goes on.
    let js = jetstream::new(async_nats::connect(&url).await.expect("connects"));
    let altered = first.note.replacen(
        &format!("\n{}\n", first.tree_size),
        &format!("\n{}\n", first.tree_size + 1000),
        1,
    );
    let (impostor, _) = LogKey::generate(ORIGIN).expect("another key");
    let forged = impostor
        .sign(first.tree_size + 2000, dotpha_tlog::tree::leaf_hash(b"x"))
        .expect("signed");
    for (note, id) in [(altered, "bad-1"), (forged, "bad-2")] {
        js.send_publish(
            "dotpha.v1.checkpoint",
            PublishMessage::build()
                .payload(note.into_bytes().into())
                .message_id(id),
        )
        .await
        .expect("published")
        .await
        .expect("held");
    }
    let backup = dir.path().join("backup.sqlite");
    let out = dotpha(&["backup", "--data", arg(&data), arg(&backup)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reports: Vec<Message> = (0..10).map(|_| workload.next_report()).collect();
    submit_in_order(&publisher, &reports).await;
    let second = checkpoint_covering(&data, head(&data)).await;
    cosigned(&data, second.tree_size, &mut witness).await;
    let said = witness.output();
    assert!(said.contains("refused a checkpoint"), "{said}");
    assert!(witness.is_running(), "a bad note does not stop the witness");

    // Offline: several checkpoints go by; back online, the witness checks
    // the latest against the last it accepted with one consistency proof.
    assert_eq!(witness.terminate(), Some(0), "SIGTERM stops it cleanly");
    let mut missed = Vec::new();
    for _ in 0..3 {
        let reports: Vec<Message> = (0..8).map(|_| workload.next_report()).collect();
        submit_in_order(&publisher, &reports).await;
        missed.push(checkpoint_covering(&data, head(&data)).await.tree_size);
    }
    let mut witness = Process::start(&witness_args, dir.path().join("witness-2.log"));
    let caught_up = *missed.last().expect("checkpoints");
    cosigned(&data, caught_up, &mut witness).await;
    let log = Log::open_read_only(data.join("log.sqlite")).expect("log");
    for size in &missed[..missed.len() - 1] {
        assert!(
            log.cosignatures(*size).expect("read").is_empty(),
            "the witness went straight to the latest, not through {size}"
        );
    }
    drop(log);
    let state = std::fs::read_to_string(witness_dir.join("checkpoint")).expect("state");
    assert_eq!(
        LogVerifier::new(&vkey)
            .expect("vkey")
            .open(state.as_bytes())
            .expect("the log's")
            .checkpoint
            .size,
        caught_up
    );

    // A fork: the log is restored from the older backup and appends other
    // events (the later submissions decided again at other times, and new
    // ones). The witness refuses, keeps both notes, and exits non-zero.
    writer.terminate();
    let out = dotpha(&[
        "restore",
        "--data",
        arg(&data),
        "--nats",
        &url,
        arg(&backup),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    writer.restart();
    let reports: Vec<Message> = (0..40).map(|_| workload.next_report()).collect();
    let publisher = support::publisher(&url).await;
    submit_in_order(&publisher, &reports).await;
    let code = witness.wait_exit(Duration::from_secs(60));
    assert_eq!(
        code,
        Some(1),
        "the witness stops non-zero: {}",
        witness.output()
    );
    let said = witness.output();
    assert!(said.contains("ERROR"), "{said}");
    assert!(said.contains("ROLLBACK") || said.contains("FORK"), "{said}");
    let evidence: Vec<PathBuf> = std::fs::read_dir(&witness_dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("evidence-"))
        })
        .collect();
    assert_eq!(evidence.len(), 1, "one evidence directory: {evidence:?}");
    let verifier = LogVerifier::new(&vkey).expect("vkey");
    let accepted = verifier
        .open(&std::fs::read(evidence[0].join("accepted.note")).expect("accepted note"))
        .expect("signed by the log");
    let offered = verifier
        .open(&std::fs::read(evidence[0].join("offered.note")).expect("offered note"))
        .expect("signed by the log");
    assert_eq!(accepted.checkpoint.size, caught_up);
    assert_ne!(accepted.checkpoint, offered.checkpoint);
    // Nothing was cosigned after the accepted checkpoint.
    let state = std::fs::read_to_string(witness_dir.join("checkpoint")).expect("state");
    assert_eq!(state, accepted.note());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commune_witnesses_and_proves_with_its_own_nats_credentials() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let mut workload = Workload::new("perm", 2, 1);
    {
        let mut ledger = dotpha_store::Ledger::open(data.join("log.sqlite")).expect("log");
        let arrivals = workload
            .setup()
            .iter()
            .map(|m| {
                dotpha_store::Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id))
                    .expect("id")
            })
            .collect();
        let at = dotpha_domain::Timestamp::parse("2021-03-02T01:30:00Z").expect("instant");
        ledger.submit_batch(arrivals, &at).expect("setup");
    }
    let config_dir = data.clone();
    let nats = NatsServer::start_with_config(|port, store| {
        let out = config_dir.join("generated.conf");
        let status = Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .args(["nats-config", "--data", arg(&config_dir)])
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--store",
                arg(store),
            ])
            .args(["--out", arg(&out)])
            .status()
            .expect("dotpha nats-config runs");
        assert!(status.success());
        std::fs::read_to_string(&out).expect("the generated configuration")
    });
    let secrets: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("nats-users.json")).expect("passwords"),
    )
    .expect("JSON");
    let port = nats.port();
    let service = format!(
        "nats://dotpha-service:{}@127.0.0.1:{port}",
        secrets["service"].as_str().expect("service password")
    );
    let commune = format!(
        "nats://xa-0000:{}@127.0.0.1:{port}",
        secrets["units"]["xa-0000"].as_str().expect("password")
    );
    let witness_key = dir.path().join("witness.key");
    let out = dotpha(&["key", "--witness", arg(&witness_key), "--name", WITNESS]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let witness_vkey = text(&out.stdout).trim().to_owned();
    let _writer = Writer::start_with_args(&data, &service, &["--witness", &witness_vkey]);
    let first = checkpoint_covering(&data, head(&data)).await;
    let vkey = log_key(&data);

    let mut witness = Process::start(
        &[
            "witness",
            "--nats",
            &commune,
            "--log-key",
            &vkey,
            "--key",
            arg(&witness_key),
            "--data",
            arg(&dir.path().join("witness")),
        ],
        dir.path().join("witness.log"),
    );
    cosigned(&data, first.tree_size, &mut witness).await;

    let report = workload.next_report();
    assert_eq!(report.unit, "xa-0000");
    let file = dir.path().join("report.json");
    std::fs::write(&file, &report.body).expect("write");
    let out = dotpha(&[
        "submit",
        "--nats",
        &commune,
        "--prove",
        "--log-key",
        &vkey,
        arg(&file),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let size = shown["proof"]["tree_size"].as_u64().expect("a proof");
    // The witness follows with the commune's credentials too.
    cosigned(&data, size, &mut witness).await;
    assert!(
        !witness.output().contains("Permissions Violation"),
        "{}",
        witness.output()
    );
}

/// A key setting that cannot be used stops the writer before it waits for
/// NATS or takes the lease: the operator learns it at once, not after the
/// writer held the log's lease (here nothing answers at `--nats`, so a
/// writer that got as far as NATS would wait there).
#[test]
fn a_bad_witness_key_stops_the_writer_before_anything_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let nowhere = format!("nats://127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args([
            "ingest",
            "--data",
            arg(&data),
            "--nats",
            &nowhere,
            "--origin",
            ORIGIN,
            "--witness",
            "not-a-verifier-key",
        ])
        .env("DOTPHA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dotpha starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the writer kept running with an unusable witness key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not-a-verifier-key"), "{stderr}");
}
