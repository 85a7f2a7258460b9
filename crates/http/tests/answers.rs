//! Kept answers (the dashboard, task lists, unit roll-ups are served again
//! while the read model and the clock's window stay put) never outlive what
//! they show: a new event, another token or another instant gets its own.

mod common;

use common::{App, HOP_THANH_TASK, MANH, SECRETARY};
use serde_json::{Value, json};

async fn get(app: &App, path: &str, token: Option<&str>) -> (u64, String) {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let position = response
        .headers()
        .get("x-dotpha-position")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a position");
    (position, response.text().await.expect("a body"))
}

/// `member` of Hợp Thành's task in a task list.
fn member(list: &str, member: &str) -> Value {
    let list: Value = serde_json::from_str(list).expect("JSON");
    list["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["task_id"] == HOP_THANH_TASK))
        .map(|t| t[member].clone())
        .unwrap_or_else(|| panic!("{HOP_THANH_TASK} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_answer_gives_way_to_the_next_event() {
    let (app, head) = App::with_district(false).await;
    let list = "/api/v1/tasks?cycle=2021";
    let (at, before) = get(&app, list, None).await;
    assert!(at >= head);
    assert_eq!(get(&app, list, None).await, (at, before.clone()));

    let reported = app
        .act(
            MANH,
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                   "values": [{"metric": "cam-ket-attp", "value": 48}, {"metric": "ho-phan-loai-rac", "value": 350}]}),
        )
        .await;
    let (after_at, after) = get(&app, &format!("{list}&min_position={reported}"), None).await;
    assert!(after_at >= reported);
    assert_ne!(
        member(&before, "percent_complete"),
        member(&after, "percent_complete")
    );
    assert_eq!(member(&after, "percent_complete"), json!(100.0));
    // Without min_position: the same answer, kept.
    assert_eq!(get(&app, list, None).await, (after_at, after));

    // Many at once: one computes, all get the same.
    let dashboard = "/api/v1/dashboard?cycle=2021";
    let answers = futures::future::join_all((0..24).map(|_| get(&app, dashboard, None))).await;
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_token_and_each_instant_has_its_own_answer() {
    let (app, _) = App::with_district(true).await;
    let list = "/api/v1/tasks?cycle=2021";
    let count = |body: &str| {
        serde_json::from_str::<Value>(body).expect("JSON")["tasks"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let (_, mine) = get(&app, list, Some(MANH)).await;
    let (_, all) = get(&app, list, Some(SECRETARY)).await;
    let (_, mine_again) = get(&app, list, Some(MANH)).await;
    assert_eq!(count(&all), 5);
    assert_eq!(count(&mine), 2, "Hợp Thành's own tasks: {mine}");
    assert_eq!(mine, mine_again);

    // Hợp Thành's task is due on 2021-11-30: overdue from 17:00 UTC.
    let (_, before) = get(
        &app,
        &format!("{list}&at=2021-11-30T16:59:59.999Z"),
        Some(SECRETARY),
    )
    .await;
    let (_, after) = get(
        &app,
        &format!("{list}&at=2021-11-30T17:00:00Z"),
        Some(SECRETARY),
    )
    .await;
    assert_eq!(member(&before, "overdue"), json!(false));
    assert_eq!(member(&after, "overdue"), json!(true));
    app.stop().await;
}

/// While the read model moves on under many readers, an answer may be one
/// kept from a moment before (answers.rs, `MAX_STALE`), but it always says
/// which position it shows: two answers labelled with one position are the
/// same answer; an answer asked with `min_position` is at least there; and
/// a reader alone, once the reports stop and the kept answers are
/// `MAX_STALE` old, gets the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_given_while_the_read_model_moves_say_which_position_they_show() {
    let (app, _) = App::with_district(false).await;
    let list = "/api/v1/tasks?cycle=2021";
    let app = std::sync::Arc::new(app);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Readers: each asks again as soon as it has its answer, half of them
    // with the position of the newest report they know of.
    let newest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let (app, stopped, newest) = (app.clone(), stopped.clone(), newest.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !*stopped.borrow() {
                    let min = newest.load(std::sync::atomic::Ordering::SeqCst);
                    let path = if i % 2 == 0 {
                        format!("{list}&min_position={min}")
                    } else {
                        list.to_owned()
                    };
                    let (position, body) = get(&app, &path, None).await;
                    if i % 2 == 0 {
                        assert!(position >= min, "asked for {min}, got {position}");
                    }
                    seen.push((position, body));
                }
                seen
            })
        })
        .collect();
    let mut last = 0;
    for value in 0..30 {
        last = app
            .act(
                MANH,
                "progress.reported",
                json!({"task_id": HOP_THANH_TASK, "as_of": "2021-09-30",
                       "values": [{"metric": "cam-ket-attp", "value": value}]}),
            )
            .await;
        newest.store(last, std::sync::atomic::Ordering::SeqCst);
    }
    let _ = stop.send(true);
    let mut by_position: std::collections::BTreeMap<u64, String> = Default::default();
    for reader in readers {
        for (position, body) in reader.await.expect("a reader") {
            let first = by_position.entry(position).or_insert_with(|| body.clone());
            assert_eq!(*first, body, "two answers labelled {position} differ");
        }
    }
    assert!(by_position.len() > 1, "the readers saw the read model move");
    app.wait_for(last, None).await;
    // Once every kept answer is older than MAX_STALE, none serves while
    // another is computed: a reader alone gets the newest.
    tokio::time::sleep(dotpha_http::MAX_STALE + std::time::Duration::from_millis(50)).await;
    let (position, _) = get(&app, list, None).await;
    assert_eq!(position, last, "a reader alone gets the newest answer");
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the readers still hold the app"),
    }
}
