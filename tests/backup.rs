//! Backing up the log while the writer runs, and restoring it after the log
//! is lost: the submissions decided after the backup are decided again from
//! `DOTPHA_SUBMISSIONS`, each once; the relay refills `DOTPHA_EVENTS` from
//! the restored log; and a log swapped in by hand, behind what
//! `DOTPHA_DECISIONS` (the commit point) holds, is refused by the writer and
//! never continued on the bus.

mod support;

use std::{process::Command, time::Duration};

use dotpha_store::Log;
use support::*;

fn dotpha(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(args)
        .env("DOTPHA_LOG", "warn")
        .output()
        .expect("dotpha runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_decides_the_later_submissions_again_and_the_bus_follows_it() {
    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let data_arg = data.to_str().expect("utf-8 path");
    let mut writer = Writer::start(&data, &url, None);
    let mut workload = Workload::new("restore", 2, 2);
    let mut sent = workload.setup();
    let early: Vec<Message> = (0..30).map(|_| workload.next_report()).collect();
    sent.extend(early);
    let publisher = publisher(&url).await;
    submit_in_order(&publisher, &sent).await;

    // A backup while the writer runs.
    let backup = dir.path().join("backup.sqlite");
    let out = dotpha(&[
        "backup",
        "--data",
        data_arg,
        backup.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let backed_up = Log::open_read_only(&backup).expect("a log").head().clone();
    assert!(
        text(&out.stdout).contains(&format!("{}:{}", backed_up.position, backed_up.hash)),
        "the head is printed for recording: {}",
        text(&out.stdout)
    );

    let late: Vec<Message> = (0..30).map(|_| workload.next_report()).collect();
    submit_in_order(&publisher, &late).await;
    sent.extend(late);
    let before = log_events(&writer.log());
    wait_for_relay(&url, before.len() as u64, Duration::from_secs(20)).await;

    // `dotpha restore` refuses while the writer runs.
    let refused = dotpha(&[
        "restore",
        "--data",
        data_arg,
        "--nats",
        &url,
        backup.to_str().expect("utf-8"),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("stop dotpha ingest"),
        "{}",
        text(&refused.stderr)
    );
    assert!(writer.terminate().success(), "{}", writer.output());

    // The log is lost and the backup copied in by hand: `DOTPHA_DECISIONS`
    // (the commit point) holds decisions this log lacks, so the writer
    // refuses to decide the later submissions again into it, and the bus
    // keeps what it had.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("log.sqlite{suffix}")));
    }
    std::fs::copy(&backup, data.join("log.sqlite")).expect("copy by hand");
    writer.restart();
    let status = writer
        .wait_exit(Duration::from_secs(30))
        .expect("the writer stops on a log behind the commit point");
    assert!(!status.success(), "{}", writer.output());
    assert!(
        writer
            .output()
            .contains("Start this directory with --standby"),
        "the writer says why it does not write: {}",
        writer.output()
    );
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("connects"));
    assert_eq!(
        relayed_count(&js).await,
        before.len() as u64,
        "nothing was added to a bus whose events the log no longer holds"
    );

    // `dotpha restore` does it right: it sets the log aside and clears the
    // streams that hold what the restored log no longer has.
    let out = dotpha(&[
        "restore",
        "--data",
        data_arg,
        "--nats",
        &url,
        backup.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        Log::open_read_only(data.join("log.sqlite"))
            .expect("a log")
            .head(),
        &backed_up
    );
    let set_aside = std::fs::read_dir(&data)
        .expect("data dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .count();
    assert_eq!(set_aside, 1, "the replaced log is kept, not deleted");

    writer.restart();
    let events = wait_for_log(&writer, Duration::from_secs(20), |events| {
        events.len() == before.len()
    })
    .await;
    let log = writer.log();
    assert!(log.verify(None).expect("verifies").ok);
    assert_each_accepted_once(&log, &events, &sent);
    wait_for_relay(&url, events.len() as u64, Duration::from_secs(20)).await;
    let relayed = relayed_events(&url).await;
    assert_stream_matches_log(&relayed, &events);
    assert!(writer.terminate().success(), "{}", writer.output());
}
