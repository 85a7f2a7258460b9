//! A task's history when the read model was filled from the log beside it
//! (a rebuild, a catch-up): it keeps no copy of those events and reads
//! them from that log, which must still hold what it applied.

use dotpha_domain::Timestamp;
use dotpha_project::ProjectError;
use dotpha_store::{Arrival, Ledger, Log, ReceiptStatus};
use dotpha_testkit::Workload;
use dotpha_views::ReadModel;

/// A data directory whose log holds a small workload's setup and `reports`
/// reports, the first `same` of them committed as in every such log and
/// the rest at another instant (so with other hashes).
fn data_dir(reports: usize, same: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(dir.path().join("log.sqlite")).expect("opens");
    let mut workload = Workload::new("h", 2, 2);
    let mut submit = |messages: Vec<dotpha_testkit::Message>, millis: i64| {
        let arrivals = messages
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        let receipts = ledger
            .submit_batch(arrivals, &Timestamp::from_unix_millis(millis))
            .expect("committed");
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted));
    };
    submit(workload.setup(), 1_614_650_000_000);
    for i in 0..reports {
        let millis = if i < same {
            1_614_650_001_000
        } else {
            1_614_660_000_000
        };
        submit(vec![workload.next_report()], millis + i as i64);
    }
    dir
}

fn history(
    read: &ReadModel,
    log: Option<&std::path::Path>,
    task: &str,
) -> Result<Vec<String>, ProjectError> {
    Ok(dotpha_project::history(read, log, task)?
        .expect("the task has events")
        .iter()
        .map(|e| e.get().to_owned())
        .collect())
}

#[test]
fn a_rebuilt_read_model_reads_history_from_its_log_and_only_from_that_log() {
    let data = data_dir(8, 8);
    let log_path = data.path().join("log.sqlite");
    dotpha_project::rebuild(data.path(), "main", |_, _| {}).expect("rebuilds");
    let read = dotpha_project::open_for_reading(data.path(), "main").expect("opens");
    let log = Log::open_read_only(&log_path).expect("opens");
    let task = Workload::task(0, 0);

    // What the route lists: the task's events as the log holds them.
    let expected: Vec<String> = log
        .stream(&format!("task-{task}"))
        .expect("stream")
        .iter()
        .map(|e| serde_json::to_string(e).expect("serializes"))
        .collect();
    assert!(expected.len() > 2);
    assert_eq!(
        history(&read, Some(&log_path), &task).expect("history"),
        expected
    );
    // The same as a read model that kept a copy of every event.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let mut kept = ReadModel::open(elsewhere.path().join("read.sqlite")).expect("opens");
    kept.apply(&log.events_from(1, 1000).expect("events"), None)
        .expect("applies");
    assert_eq!(history(&kept, None, &task).expect("history"), expected);

    // Without the log, the history is refused, not cut short.
    let missing = elsewhere.path().join("nowhere.sqlite");
    for log in [None, Some(missing.as_path())] {
        assert!(matches!(
            history(&read, log, &task),
            Err(ProjectError::HistoryNotInLog { .. })
        ));
    }

    // A log that does not hold the read model's last event as applied (one
    // restored from an older backup, or one that went on otherwise from
    // there) is refused rather than read.
    for (reports, same) in [(5, 5), (8, 5)] {
        let other = data_dir(reports, same);
        let refused = history(&read, Some(&other.path().join("log.sqlite")), &task);
        assert!(
            matches!(refused, Err(ProjectError::HistoryNotInLog { .. })),
            "{reports} reports, {same} the same: {refused:?}"
        );
    }
    // One that holds it (and more after it) is read.
    let longer = data_dir(10, 10);
    assert_eq!(
        history(&read, Some(&longer.path().join("log.sqlite")), &task).expect("history"),
        expected
    );
}
