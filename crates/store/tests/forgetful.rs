//! A writer's state keeps no task's progress reports in memory
//! (`State::forget_reports`); a report that arrives late, for a day before
//! one already reported, is placed by reading the task's reports again
//! from the log and the batch. The kind: whatever the order of the days,
//! the batches and the reopenings, the writer's day each task was done is
//! the day a state keeping every report finds.

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Log, ReceiptStatus};
use dotpha_testkit::{Message, Workload};
use proptest::prelude::*;
use serde_json::json;

const COMMUNES: usize = 2;
const TASKS: usize = 3;

fn at() -> Timestamp {
    Timestamp::parse("2021-06-01T01:30:00.123Z").expect("instant")
}

fn arrival(m: &Message) -> Arrival {
    Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("readable")
}

/// A progress report on task `task` for day `day` of 2021-02 (values
/// from the baseline 120 to past the target 400), or a percentage only.
fn report(n: usize, task: usize, day: u32, value: i64) -> Message {
    let (i, t) = (task / TASKS, task % TASKS);
    let code = Workload::commune(i);
    Message::submission(
        &format!("late-report-{n:06}"),
        &code,
        &format!("chu-tich-{code}"),
        "progress.reported",
        json!({"task_id": Workload::task(i, t), "as_of": format!("2021-02-{day:02}"),
               "values": [{"metric": "households", "value": value}]}),
    )
}

fn done_days(state: &dotpha_domain::State) -> Vec<(String, Option<String>, usize)> {
    let mut days: Vec<_> = state
        .tasks()
        .map(|t| {
            (
                t.id.to_string(),
                t.done.done_on().map(|d| d.to_string()),
                t.report_positions.len(),
            )
        })
        .collect();
    days.sort();
    days
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_day_a_task_is_done_does_not_depend_on_the_writer_forgetting_reports(
        reports in proptest::collection::vec((0..COMMUNES * TASKS, 1u32..29, 120i64..430), 1..80),
        cuts in proptest::collection::vec(1usize..12, 1..8),
        reopen_every in 1usize..5,
    ) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("log.sqlite");
        let mut workload = Workload::new("late", COMMUNES, TASKS);
        let mut ledger = Ledger::open(&path).expect("open");
        let setup: Vec<Arrival> = workload.setup().iter().map(arrival).collect();
        ledger.submit_batch(setup, &at()).expect("setup");
        let messages: Vec<Message> = reports
            .iter()
            .enumerate()
            .map(|(n, &(task, day, value))| report(n, task, day, value))
            .collect();
        let mut rest = &messages[..];
        let mut cut = cuts.iter().cycle();
        let mut batches = 0;
        while !rest.is_empty() {
            let n = (*cut.next().expect("cycles")).min(rest.len());
            let (batch, after) = rest.split_at(n);
            let receipts = ledger
                .submit_batch(batch.iter().map(arrival).collect(), &at())
                .expect("reports");
            prop_assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Accepted), "{receipts:#?}");
            // What a state keeping every report finds, from the same log.
            let keeping = Log::open_read_only(&path).expect("open").load_state().expect("fold");
            prop_assert_eq!(done_days(ledger.state()), done_days(&keeping));
            batches += 1;
            if batches % reopen_every == 0 {
                drop(ledger);
                ledger = Ledger::open(&path).expect("reopen");
                prop_assert_eq!(done_days(ledger.state()), done_days(&keeping));
            }
            rest = after;
        }
    }
}
