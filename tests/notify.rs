//! Reminders end to end (issue 14): the projection worker publishes what
//! needs attention to `DOTPHA_ALERTS` once per task, kind and day (a
//! restarted worker adds nothing), and `dotpha notify --once` mails each
//! unit with an address its digest, in Vietnamese, through a real SMTP
//! server (Python's aiosmtpd, started by the test, writing a Maildir).
//! Real processes throughout: nats-server, `dotpha ingest`, `dotpha
//! project`, `dotpha notify`.

mod support;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use async_nats::jetstream;
use dotpha_domain::{vocabulary::AlertKind, wire::Alert};
use dotpha_testkit::nats::free_port;
use futures::StreamExt;
use support::*;

/// An SMTP server on loopback that keeps every message in a Maildir.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl SmtpServer {
    fn start(maildir: &Path) -> SmtpServer {
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd starts (scripts/install-deps installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child, port }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message in the Maildir, as (To, Subject, decoded text body),
/// read by Python's own e-mail parser (not by the code that wrote it).
fn mails(maildir: &Path) -> Vec<(String, String, String)> {
    let script = r#"
import json, mailbox, sys
out = []
for message in mailbox.Maildir(sys.argv[1], create=False):
    import email, email.policy
    m = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    out.append([str(m["To"]), str(m["Subject"]), m.get_body(("plain",)).get_content()])
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(maildir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Every alert on `DOTPHA_ALERTS`.
async fn alerts(url: &str) -> Vec<Alert> {
    let client = async_nats::connect(url).await.expect("connect");
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream("DOTPHA_ALERTS").await else {
        return Vec::new();
    };
    let count = stream.info().await.expect("info").state.messages;
    if count == 0 {
        return Vec::new();
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("consumer");
    let mut messages = consumer
        .messages()
        .await
        .expect("messages")
        .take(count as usize);
    let mut out = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.expect("message");
        out.push(serde_json::from_slice(&message.payload).expect("an alert"));
    }
    out
}

fn notify(config: &Path, data: &Path, nats: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["notify", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .args(["--nats", nats, "--once"])
        .args(extra)
        .env("DOTPHA_LOG", "warn")
        .output()
        .expect("dotpha notify runs");
    assert!(
        out.status.success(),
        "dotpha notify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_are_published_once_a_day_and_mailed_as_a_digest_per_unit() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let _writer = Writer::start(&data, &nats.url(), None);
    let mut projector = Projector::start(&data, &nats.url(), "main");

    // Two communes of two tasks, due 2021-11-30 in the open 2021 cycle and
    // never reported on: today each is overdue and silent.
    let mut workload = Workload::new("notify", 2, 2);
    let publisher = publisher(&nats.url()).await;
    let receipts = submit_in_order(&publisher, &workload.setup()).await;
    let head = head_of(&receipts);

    let expected = 2 * 2 * 2; // tasks × (overdue, no report)
    let deadline = Instant::now() + Duration::from_secs(120);
    let published = loop {
        let found = alerts(&nats.url()).await;
        if found.len() >= expected {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the worker published {} of {expected} reminders: {}",
            found.len(),
            projector.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(published.len(), expected, "{published:#?}");
    let commune = Workload::commune(0);
    let first = published
        .iter()
        .find(|a| a.unit == commune && a.kind == AlertKind::Overdue)
        .expect("an overdue reminder for the first commune");
    assert_eq!(first.due.to_string(), "2021-11-30");
    assert!(first.days_left < 0);
    assert!(first.text.contains("đã quá hạn"), "{}", first.text);
    assert!(first.alert_id.starts_with(&first.day.to_string()));
    assert!(first.position >= head);

    // A worker started again the same day publishes nothing new.
    projector.terminate();
    let projector = Projector::start(&data, &nats.url(), "main");
    tokio::time::sleep(dotpha_project::alerts::MIN_SCAN_GAP + Duration::from_secs(3)).await;
    assert_eq!(
        alerts(&nats.url()).await.len(),
        expected,
        "{}",
        projector.output()
    );

    // The digest: one message per unit with an address.
    let maildir = dir.path().join("mail");
    let smtp = SmtpServer::start(&maildir);
    let config = dir.path().join("dotpha.toml");
    std::fs::write(
        &config,
        format!(
            "[notify]\nsmtp = \"smtp://127.0.0.1:{}\"\nfrom = \"dotpha <dotpha@son-duong.test>\"\n\
             [notify.addresses]\n\"{commune}\" = [\"van-phong@{commune}.test\"]\n",
            smtp.port
        ),
    )
    .expect("config");
    let said = notify(&config, &data, &nats.url(), &[]);
    assert!(said.contains(&format!("{commune}: sent")), "{said}");
    let got = mails(&maildir);
    assert_eq!(got.len(), 1, "{got:#?}");
    let (to, subject, body) = &got[0];
    assert_eq!(to, &format!("van-phong@{commune}.test"));
    assert!(subject.contains("4 việc cần chú ý"), "{subject}");
    assert!(body.contains("Quá hạn (2)"), "{body}");
    assert!(body.contains("Lâu chưa báo cáo (2)"), "{body}");
    assert!(body.contains(&first.title), "{body}");

    // Once a day: asked again, it says so and sends nothing.
    let said = notify(&config, &data, &nats.url(), &[]);
    assert!(said.contains("already sent"), "{said}");
    assert_eq!(mails(&maildir).len(), 1);
    drop(projector);
}
