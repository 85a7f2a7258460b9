//! The write side over the wire: a real nats-server, the real `dotpha ingest`
//! process, publishers using the bus crate, raw publishes for bad input.

mod support;

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use dotpha_store::ReceiptStatus;
use serde_json::{Value, json};
use support::*;

/// Builds a submission the way a commune's publisher would.
fn submission(id: &str, unit: &str, actor: &str, kind: &str, data: Value) -> Message {
    Message::submission(id, unit, actor, kind, data)
}

/// The district of the article, far enough for every task step.
fn district() -> Vec<Message> {
    vec![
        submission(
            "boot-0001",
            "son-duong",
            "to-chuc-noi-vu",
            "unit.registered",
            json!({"code": "son-duong", "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
        ),
        submission(
            "boot-0002",
            "son-duong",
            "to-chuc-noi-vu",
            "cadre.registered",
            json!({"id": "do-xuan-phuc", "full_name": "Đỗ Xuân Phúc", "unit": "son-duong",
                   "position": "Thủ trưởng Cơ quan Tổ chức - Nội vụ", "party_member": true, "standing_committee": true}),
        ),
        submission(
            "boot-0003",
            "son-duong",
            "do-xuan-phuc",
            "unit.registered",
            json!({"code": "hop-thanh", "name": "Xã Hợp Thành", "kind": "commune", "parent": "son-duong"}),
        ),
        submission(
            "boot-0004",
            "son-duong",
            "do-xuan-phuc",
            "cadre.registered",
            json!({"id": "hoang-the-manh", "full_name": "Hoàng Thế Mạnh", "unit": "hop-thanh",
                   "position": "Chủ tịch UBND xã", "party_member": true, "standing_committee": false}),
        ),
        submission(
            "boot-0005",
            "son-duong",
            "do-xuan-phuc",
            "cycle.opened",
            json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_lives_its_whole_life_over_the_wire() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &nats.url(), None);
    let publisher = publisher(&nats.url()).await;

    let mut steps = district();
    steps.extend([
        submission("life-0001", "hop-thanh", "hoang-the-manh", "task.registered",
            json!({"task_id": "ndp-2021-mt", "cycle": "2021", "title": "Đạt tiêu chí 17 môi trường và an toàn thực phẩm",
                   "kind": "breakthrough", "category": "Nông thôn mới", "due": "2021-11-30",
                   "targets": [{"metric": "cam-ket", "label": "Cơ sở ký cam kết", "baseline": 0, "target": 40}]})),
        submission("life-0002", "son-duong", "do-xuan-phuc", "task.approved",
            json!({"task_id": "ndp-2021-mt", "comment": "Đồng ý"})),
        // Part C: nobody assigns a task to themself (it went to Đỗ Xuân
        // Phúc from his own hand before issue 11).
        submission("life-0003", "son-duong", "do-xuan-phuc", "task.assigned",
            json!({"task_id": "ndp-2021-dv", "cycle": "2021", "assignee": "hoang-the-manh",
                   "title": "100% trưởng thôn, tổ dân phố là đảng viên", "kind": "breakthrough",
                   "category": "Xây dựng Đảng", "due": "2021-12-15",
                   "targets": [{"metric": "truong-thon-dang-vien", "label": "Trưởng thôn là đảng viên",
                                "baseline": 388, "target": 400}], "origin": "backlog",
                   "backlog_ref": "12 trưởng thôn chưa là đảng viên"})),
        submission("life-0004", "hop-thanh", "hoang-the-manh", "plan.submitted",
            json!({"task_id": "ndp-2021-mt", "solutions": ["Ký cam kết an toàn thực phẩm", "Thí điểm thu gom rác ở thôn Đồng Diễn"],
                   "milestones": [{"title": "Thí điểm xong", "due": "2021-06-30"}]})),
        submission("life-0005", "hop-thanh", "hoang-the-manh", "work.delegated",
            json!({"task_id": "ndp-2021-mt", "delegation_id": "thu-gom-rac", "to": "hop-thanh",
                   "description": "Tổ chức thu gom rác hữu cơ", "due": "2021-06-30"})),
        submission("life-0006", "hop-thanh", "hoang-the-manh", "progress.reported",
            json!({"task_id": "ndp-2021-mt", "as_of": "2021-03-01", "values": [{"metric": "cam-ket", "value": 31}],
                   "confidence": "high", "note": "Hộ dân đồng thuận"})),
        submission("life-0007", "son-duong", "do-xuan-phuc", "task.evaluated",
            json!({"task_id": "ndp-2021-mt", "score": 92, "comment": "Hoàn thành xuất sắc"})),
        submission("life-0008", "son-duong", "do-xuan-phuc", "task.cancelled",
            json!({"task_id": "ndp-2021-dv", "reason": "Giao lại năm sau"})),
        submission("life-0009", "son-duong", "do-xuan-phuc", "cycle.closed", json!({"cycle": "2021"})),
    ]);
    let mut receipts = Vec::new();
    for step in &steps {
        let receipt = submit(&publisher, step).await;
        assert_eq!(
            receipt.status,
            ReceiptStatus::Accepted,
            "{}: {:?}",
            step.submission_id,
            receipt.error
        );
        assert!(!receipt.duplicate);
        receipts.push(receipt);
    }

    let log = writer.log();
    assert!(log.verify(None).expect("verify").ok);
    for receipt in &receipts {
        let recorded = log
            .receipt(&receipt.submission_id)
            .expect("read")
            .expect("decided");
        assert_eq!(&recorded, receipt, "the receipt is what the log recorded");
    }
    let events = log_events(&log);
    assert_eq!(
        events.len(),
        steps.len(),
        "one event per accepted submission"
    );
    let evaluated = events
        .iter()
        .find(|e| e.event_type == "task.evaluated")
        .expect("evaluated");
    assert_eq!(
        serde_json::from_str::<Value>(evaluated.data.get()).expect("json")["rating"],
        "excellent",
        "a score of 92 is rated excellent in the event"
    );

    wait_for_relay(&nats.url(), events.len() as u64, Duration::from_secs(10)).await;
    assert_stream_matches_log(&relayed_events(&nats.url()).await, &events);

    // A retry of a decided submission is answered, not decided again.
    let again = submit(&publisher, &steps[6]).await;
    assert!(again.duplicate);
    assert_eq!(again.events, receipts[6].events);
    assert_eq!(log_events(&writer.log()).len(), steps.len());
}

/// Publishes raw bytes with an optional msg id, as a broken publisher might.
async fn publish_raw(url: &str, subject: &str, msg_id: Option<&str>, body: Vec<u8>) {
    let client = async_nats::connect(url).await.expect("connects");
    let js = jetstream::new(client);
    let mut message = PublishMessage::build().payload(body.into());
    if let Some(id) = msg_id {
        message = message.message_id(id);
    }
    js.send_publish(subject.to_owned(), message)
        .await
        .expect("published")
        .await
        .expect("stored");
}

/// Asks receipt.get until the writer has decided `id`.
async fn receipt_of(publisher: &dotpha_bus::Publisher, id: &str) -> dotpha_store::Receipt {
    for _ in 0..200 {
        if let Ok(Some(receipt)) = publisher.receipt(id).await {
            return receipt;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no receipt for {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_code_is_answered_and_the_writer_keeps_going() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &nats.url(), None);
    let publisher = publisher(&nats.url()).await;
    for step in district() {
        assert_eq!(
            submit(&publisher, &step).await.status,
            ReceiptStatus::Accepted
        );
    }
    let report = |id: &str, unit: &str, actor: &str, data: Value| {
        submission(id, unit, actor, "progress.reported", data)
    };
    let mut with_schema = submission(
        "code-0002",
        "hop-thanh",
        "hoang-the-manh",
        "cycle.closed",
        json!({"cycle": "2021"}),
    );
    with_schema.body = String::from_utf8(with_schema.body)
        .expect("utf8")
        .replace("submission.v1", "submission.v9")
        .into_bytes();
    let mut unknown_type = submission(
        "code-0003",
        "hop-thanh",
        "hoang-the-manh",
        "cycle.closed",
        json!({"cycle": "2021"}),
    );
    unknown_type.body = String::from_utf8(unknown_type.body)
        .expect("utf8")
        .replace("cycle.closed", "cycle.reopened")
        .into_bytes();
    let cases: Vec<(Message, &str, Option<&str>)> = vec![
        (
            report(
                "code-0001",
                "hop-thanh",
                "hoang-the-manh",
                json!({"task_id": "x", "as_of": "2021-01-01", "values": [], "confidance": "high"}),
            ),
            "malformed",
            Some("data.confidance"),
        ),
        (with_schema, "unsupported_schema", Some("schema")),
        (unknown_type, "unknown_type", Some("type")),
        (
            submission(
                "code-0005",
                "phuc-ung",
                "hoang-the-manh",
                "cycle.closed",
                json!({"cycle": "2021"}),
            ),
            "unknown_unit",
            Some("unit"),
        ),
        (
            submission(
                "code-0006",
                "hop-thanh",
                "nobody-here",
                "cycle.closed",
                json!({"cycle": "2021"}),
            ),
            "unknown_actor",
            Some("actor"),
        ),
        (
            submission(
                "code-0007",
                "hop-thanh",
                "hoang-the-manh",
                "cycle.closed",
                json!({"cycle": "2021"}),
            ),
            "forbidden",
            Some("actor"),
        ),
        (
            report(
                "code-0008",
                "hop-thanh",
                "hoang-the-manh",
                json!({"task_id": "no-such-task", "as_of": "2021-01-01", "values": []}),
            ),
            "unknown_task",
            Some("data.task_id"),
        ),
        (
            submission(
                "code-0009",
                "son-duong",
                "do-xuan-phuc",
                "cycle.opened",
                json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
            ),
            "already_exists",
            Some("data.cycle"),
        ),
        (
            submission(
                "code-0010",
                "son-duong",
                "do-xuan-phuc",
                "task.assigned",
                json!({"task_id": "t-1", "cycle": "2021", "assignee": "hoang-the-manh", "title": "Việc mới", "kind": "new",
                   "category": "Khác", "due": "2022-01-15", "targets": [], "origin": "committee"}),
            ),
            "invalid_value",
            Some("data.due"),
        ),
    ];
    for (message, code, field) in &cases {
        let receipt = submit(&publisher, message).await;
        assert_eq!(
            receipt.status,
            ReceiptStatus::Rejected,
            "{}",
            message.submission_id
        );
        let error = receipt.error.expect("a rejection has an error");
        assert_eq!(
            error.code, *code,
            "{}: {}",
            message.submission_id, error.message
        );
        assert_eq!(error.field.as_deref(), *field, "{}", message.submission_id);
    }

    // version_conflict and invalid_state need a task.
    let assign = submission(
        "code-0011",
        "son-duong",
        "do-xuan-phuc",
        "task.assigned",
        json!({"task_id": "t-2", "cycle": "2021", "assignee": "hoang-the-manh", "title": "Việc khó", "kind": "difficult",
               "category": "Khác", "due": "2021-10-01", "targets": [], "origin": "committee"}),
    );
    assert_eq!(
        submit(&publisher, &assign).await.status,
        ReceiptStatus::Accepted
    );
    let mut stale = report(
        "code-0012",
        "hop-thanh",
        "hoang-the-manh",
        json!({"task_id": "t-2", "as_of": "2021-02-01", "values": []}),
    );
    stale.body = String::from_utf8(stale.body)
        .expect("utf8")
        .replacen('{', "{\"expected_version\": 7,", 1)
        .into_bytes();
    let receipt = submit(&publisher, &stale).await;
    assert_eq!(
        receipt.error.map(|e| e.code).as_deref(),
        Some("version_conflict")
    );
    let cancel = submission(
        "code-0013",
        "son-duong",
        "do-xuan-phuc",
        "task.cancelled",
        json!({"task_id": "t-2", "reason": "Thôi"}),
    );
    assert_eq!(
        submit(&publisher, &cancel).await.status,
        ReceiptStatus::Accepted
    );
    let late = report(
        "code-0014",
        "hop-thanh",
        "hoang-the-manh",
        json!({"task_id": "t-2", "as_of": "2021-02-01", "values": []}),
    );
    assert_eq!(
        submit(&publisher, &late)
            .await
            .error
            .map(|e| e.code)
            .as_deref(),
        Some("invalid_state")
    );

    // unit_mismatch: the envelope names another unit than the subject.
    let foreign = submission(
        "code-0015",
        "son-duong",
        "do-xuan-phuc",
        "cycle.closed",
        json!({"cycle": "2021"}),
    );
    publish_raw(
        &nats.url(),
        "dotpha.v1.submit.hop-thanh",
        Some("code-0015"),
        foreign.body,
    )
    .await;
    let receipt = receipt_of(&publisher, "code-0015").await;
    assert_eq!(
        receipt.error.map(|e| e.code).as_deref(),
        Some("unit_mismatch")
    );

    // Bytes that are not a submission, with a msg id: malformed, answered.
    publish_raw(
        &nats.url(),
        "dotpha.v1.submit.hop-thanh",
        Some("junk-0001"),
        b"\xff\xfe not utf-8".to_vec(),
    )
    .await;
    publish_raw(
        &nats.url(),
        "dotpha.v1.submit.hop-thanh",
        Some("junk-0002"),
        vec![b'x'; 300 * 1024],
    )
    .await;
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    publish_raw(
        &nats.url(),
        "dotpha.v1.submit.hop-thanh",
        Some("junk-0003"),
        deep.into_bytes(),
    )
    .await;
    for id in ["junk-0001", "junk-0002", "junk-0003"] {
        let receipt = receipt_of(&publisher, id).await;
        assert_eq!(
            receipt.error.map(|e| e.code).as_deref(),
            Some("malformed"),
            "{id}"
        );
    }
    // ... and without one: a dead letter, kept in the log and on DOTPHA_DEAD.
    publish_raw(
        &nats.url(),
        "dotpha.v1.submit.hop-thanh",
        None,
        b"hello?".to_vec(),
    )
    .await;

    // The writer is still deciding.
    let fine = report(
        "code-0016",
        "hop-thanh",
        "hoang-the-manh",
        json!({"task_id": "ndp-none", "as_of": "2021-01-01", "values": []}),
    );
    assert_eq!(
        submit(&publisher, &fine)
            .await
            .error
            .map(|e| e.code)
            .as_deref(),
        Some("unknown_task")
    );
    let dead = writer.log().dead_letters().expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].payload, b"hello?");
    assert_eq!(dead[0].subject, "dotpha.v1.submit.hop-thanh");
    let client = async_nats::connect(nats.url()).await.expect("connects");
    let mut dead_stream = jetstream::new(client)
        .get_stream("DOTPHA_DEAD")
        .await
        .expect("dead stream");
    assert_eq!(dead_stream.info().await.expect("info").state.messages, 1);
    assert!(writer.log().verify(None).expect("verify").ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_log_and_sigterm_stops_it_cleanly() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut writer = Writer::start(dir.path(), &nats.url(), None);
    let publisher = publisher(&nats.url()).await;
    let first = district();
    assert_eq!(
        submit(&publisher, &first[0]).await.status,
        ReceiptStatus::Accepted
    );

    let second = std::process::Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["ingest", "--data"])
        .arg(dir.path())
        .args(["--nats", &nats.url()])
        .output()
        .expect("runs");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another dotpha writer is running"));

    let status = writer.terminate();
    assert!(
        status.success(),
        "SIGTERM ends the writer with 0: {status:?}\n{}",
        writer.output()
    );
    assert!(writer.output().contains("writer stopped cleanly"));
}

/// The next receipt on a receipt subject.
async fn next_receipt(subscription: &mut async_nats::Subscriber) -> dotpha_store::Receipt {
    use futures::StreamExt;
    let message = tokio::time::timeout(Duration::from_secs(20), subscription.next())
        .await
        .expect("a receipt comes")
        .expect("a message");
    serde_json::from_slice(&message.payload).expect("a receipt")
}

/// CONTRACT.md part C, "one decision per id, private to its sender": an id
/// already decided for one unit, sent by another, is that unit's rejection
/// (`already_exists`, field `submission_id`), on its own receipt subject,
/// kept as its own dead letter; it learns nothing of the first decision,
/// however it asks. A repeat from the first unit stays the duplicate it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_decided_for_one_unit_is_refused_to_another_privately_on_its_own_subject() {
    use futures::StreamExt;

    let nats = NatsServer::start();
    let url = nats.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = Writer::start(dir.path(), &url, None);
    let publisher = publisher(&url).await;
    let mut workload = Workload::new("private", 2, 1);
    submit_in_order(&publisher, &workload.setup()).await;
    let (a, b) = (Workload::commune(0), Workload::commune(1));
    const ID: &str = "shared-id-0001";
    let original = report(ID, 0, 0, 5);
    let accepted = submit(&publisher, &original).await;
    assert_eq!(accepted.status, ReceiptStatus::Accepted);

    let client = async_nats::connect(&url).await.expect("connects");
    let mut on_a = client
        .subscribe(format!("dotpha.v1.receipt.{a}"))
        .await
        .expect("sub");
    let mut on_b = client
        .subscribe(format!("dotpha.v1.receipt.{b}"))
        .await
        .expect("sub");
    client.flush().await.expect("flushed");

    // B sends a report of its own under A's id, without the broker's
    // deduplication (no Nats-Msg-Id), so the writer meets it.
    let newcomer = report(ID, 1, 0, 7);
    let subject_b = format!("dotpha.v1.submit.{b}");
    publish_raw(&url, &subject_b, None, newcomer.body.clone()).await;
    let refusal = next_receipt(&mut on_b).await;
    assert_eq!(refusal.status, ReceiptStatus::Rejected);
    let error = refusal.error.clone().expect("an error");
    assert_eq!(error.code, "already_exists");
    assert_eq!(error.field.as_deref(), Some("submission_id"));
    assert_eq!(refusal.unit.as_deref(), Some(b.as_str()));
    assert!(refusal.events.is_empty() && !refusal.duplicate);
    let text = serde_json::to_string(&refusal).expect("json");
    assert!(
        !text.contains(&a) && !text.contains(&accepted.events[0].hash),
        "nothing of the first decision: {text}"
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(1), on_a.next())
            .await
            .is_err(),
        "nothing is said on the first unit's subject"
    );

    // Kept as B's own dead letter; the first decision is untouched.
    let log = writer.log();
    let kept = |log: &dotpha_store::Log| {
        log.dead_letters()
            .expect("dead letters")
            .into_iter()
            .filter(|d| d.payload == newcomer.body)
            .collect::<Vec<_>>()
    };
    let dead = kept(&log);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].subject, subject_b);
    assert!(dead[0].reason.contains("already_exists"), "{dead:?}");
    assert_eq!(log.receipt(ID).expect("read"), Some(accepted.clone()));

    // receipt.get answers each unit its own: as B, B's refusal; as A, A's
    // decision; from B's own inbox (`_INBOX_<unit>`, what `dotpha
    // nats-config` lets only B's user read) without naming a unit, B's too.
    let ask = |inbox: Option<&str>, question: Value| {
        let url = url.clone();
        let inbox = inbox.map(str::to_owned);
        async move {
            let mut options = async_nats::ConnectOptions::new();
            if let Some(inbox) = inbox {
                options = options.custom_inbox_prefix(inbox);
            }
            let client = options.connect(&url).await.expect("connects");
            let reply = client
                .request("dotpha.v1.receipt.get", question.to_string().into())
                .await
                .expect("answered");
            serde_json::from_slice::<dotpha_store::Receipt>(&reply.payload).expect("a receipt")
        }
    };
    assert_eq!(
        ask(None, json!({"submission_id": ID, "unit": b})).await,
        refusal
    );
    assert_eq!(
        ask(None, json!({"submission_id": ID, "unit": a})).await,
        accepted
    );
    let b_inbox = format!("_INBOX_{b}");
    assert_eq!(
        ask(Some(&b_inbox), json!({"submission_id": ID})).await,
        refusal
    );

    // B's repeat: its refusal again, marked duplicate, nothing more kept.
    publish_raw(&url, &subject_b, None, newcomer.body.clone()).await;
    let again = next_receipt(&mut on_b).await;
    assert!(again.duplicate);
    assert_eq!(again.recorded_at, refusal.recorded_at);
    // A's repeat: the original, as before.
    publish_raw(
        &url,
        &format!("dotpha.v1.submit.{a}"),
        None,
        original.body.clone(),
    )
    .await;
    let repeat = next_receipt(&mut on_a).await;
    assert!(repeat.duplicate && repeat.status == ReceiptStatus::Accepted);
    assert_eq!(repeat.events, accepted.events);

    // Through a publisher, with the id as Nats-Msg-Id: the broker drops the
    // publish as a repeat of the id, and B still gets its refusal. So does a
    // third unit that never sent it before: only that the id is taken.
    let via = publisher
        .submit(&b, ID, newcomer.body.clone().into())
        .await
        .expect("answered");
    assert_eq!(via, refusal);
    let root = dotpha_testkit::ROOT;
    let third = publisher
        .submit(root, ID, newcomer.body.clone().into())
        .await
        .expect("answered");
    assert_eq!(third.status, ReceiptStatus::Rejected);
    assert_eq!(third.unit.as_deref(), Some(root));
    assert_eq!(
        third.error.map(|e| (e.code, e.field)),
        Some((
            "already_exists".to_owned(),
            Some("submission_id".to_owned())
        ))
    );
    let log = writer.log();
    assert_eq!(
        kept(&log).len(),
        1,
        "what never reached the writer is not recorded"
    );
    assert_eq!(
        log_events(&log)
            .iter()
            .filter(|e| e.submission_id == ID)
            .count(),
        1
    );
    assert!(log.verify(None).expect("verify").ok);
}
