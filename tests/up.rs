//! `dotpha up --demo`, as the README's quick start runs it: one process with
//! its own nats-server, the demo data loaded through the submission path,
//! the API answering; a second run adds nothing.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use dotpha_testkit::nats::free_port;

/// A GET over plain HTTP/1.1; returns the status and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    // The bodies here are small JSON documents sent in one chunk.
    let body = if response
        .to_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n")
            .map(|(_, rest)| {
                rest.rsplit_once("\r\n0\r\n")
                    .map_or(rest, |(b, _)| b)
                    .to_owned()
            })
            .unwrap_or(body)
    } else {
        body
    };
    (status, body)
}

/// Starts `dotpha up --demo` and returns it with a receiver of its stdout lines.
fn up(data: &std::path::Path, nats: u16, http: u16) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["up", "--demo", "--data"])
        .arg(data)
        .args([
            "--nats",
            &format!("nats://127.0.0.1:{nats}"),
            "--http",
            &format!("127.0.0.1:{http}"),
        ])
        .env("DOTPHA_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dotpha up starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    (child, lines)
}

fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(180))
            .unwrap_or_else(|_| panic!("dotpha up never printed {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    child.wait().expect("dotpha up exits")
}

#[test]
fn the_demo_comes_up_with_the_article_and_a_second_run_adds_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (nats, http) = (free_port(), free_port());
    let (mut child, lines) = up(dir.path(), nats, http);
    assert!(
        wait_for(&lines, "dotpha is up").contains("started by dotpha"),
        "it starts its own nats-server"
    );
    let loaded = wait_for(&lines, "demo data:");
    assert!(
        loaded.contains("1740 accepted, 0 already loaded, 0 rejected"),
        "{loaded}"
    );

    let head = dotpha_store::Log::open_read_only(dir.path().join("log.sqlite"))
        .expect("log")
        .current_head()
        .expect("head");
    let (status, body) = get(
        http,
        &format!(
            "/api/v1/dashboard?cycle=2021&min_position={}",
            head.position
        ),
    );
    assert_eq!(status, 200, "{body}");
    let dashboard: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(dashboard["cadres"], 92, "the demo's 92 cadres");
    assert_eq!(dashboard["tasks"], 92);

    let (_, body) = get(http, "/api/v1/tasks/ndp-2021-07");
    let phuc: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(phuc["assignee_name"], "Đỗ Xuân Phúc");
    assert_eq!(phuc["targets"][0]["baseline"], 388.0);
    assert_eq!(phuc["targets"][0]["target"], 400.0);
    let (_, body) = get(http, "/api/v1/tasks/ndp-2021-67");
    let manh: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(manh["assignee_name"], "Hoàng Thế Mạnh");
    assert!(
        body.contains("Đồng Diễn"),
        "the pilot in Đồng Diễn village: {body}"
    );
    let (_, body) = get(http, "/api/v1/tasks?q=hop%20thanh");
    assert!(body.contains("Hợp Thành"), "search ignores diacritics");

    assert!(
        interrupt(&mut child).success(),
        "Ctrl-C stops everything cleanly"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "the nats-server dotpha started is stopped with it"
    );

    let (mut again, lines) = up(dir.path(), nats, http);
    let loaded = wait_for(&lines, "demo data:");
    assert!(
        loaded.contains("0 accepted, 1740 already loaded, 0 rejected"),
        "{loaded}"
    );
    assert!(interrupt(&mut again).success());
    let after = dotpha_store::Log::open_read_only(dir.path().join("log.sqlite"))
        .expect("log")
        .current_head()
        .expect("head");
    assert_eq!(after, head, "a second run adds nothing to the log");
}

#[test]
fn a_port_in_use_is_a_one_line_error_and_nothing_is_left_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let nats = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["up", "--data"])
        .arg(dir.path())
        .args([
            "--nats",
            &format!("nats://127.0.0.1:{nats}"),
            "--http",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "no nats-server was left running"
    );
}
