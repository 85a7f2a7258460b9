//! The README's first command, `./quickstart`, exactly as written (it
//! installs what is missing, builds the release binary and runs `dotpha up
//! --demo`): one process with its own nats-server, the demo data loaded
//! through the submission path, the API answering; a second run adds
//! nothing. And `dotpha up`'s one-line refusals of bad input.

mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use dotpha_testkit::nats::free_port;
use support::http_get as get;

/// Starts the README's `./quickstart` (arguments go to `dotpha up --demo`)
/// and returns it with a receiver of its stdout lines. The script ends by
/// `exec`ing the binary, so the child is `dotpha up` itself once it runs.
fn up(data: &std::path::Path, nats: u16, http: u16) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart"))
        .arg("--data")
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
        // The first run builds the release binary (minutes on two cores).
        let line = lines
            .recv_timeout(Duration::from_secs(900))
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

/// Runs `dotpha up` expecting it to refuse; returns its standard error.
fn refused(args: &[&str], path: Option<&std::path::Path>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dotpha"));
    command.arg("up").args(args).env_remove("DOTPHA_LOG");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let out = command.output().expect("runs");
    assert!(!out.status.success(), "dotpha up {args:?} must fail");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn a_data_dir_that_cannot_be_written_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A path under a regular file can be created by nobody, root included.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").expect("write");
    let data = file.join("data");
    let (nats, http) = (free_port(), free_port());
    let stderr = refused(
        &[
            "--data",
            data.to_str().expect("utf-8 path"),
            "--nats",
            &format!("nats://127.0.0.1:{nats}"),
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        None,
    );
    assert!(
        stderr.contains("cannot create the data directory") && stderr.contains("--data DIR"),
        "{stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "no nats-server was started"
    );
}

#[test]
fn no_nats_server_anywhere_is_a_one_line_error_saying_what_to_install() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty_path = tempfile::tempdir().expect("an empty PATH directory");
    let (nats, http) = (free_port(), free_port());
    let stderr = refused(
        &[
            "--data",
            dir.path().to_str().expect("utf-8 path"),
            "--nats",
            &format!("nats://127.0.0.1:{nats}"),
            "--http",
            &format!("127.0.0.1:{http}"),
        ],
        Some(empty_path.path()),
    );
    assert!(
        stderr.contains("nats-server is not on PATH")
            && stderr.contains("apt-get install -y nats-server"),
        "{stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", http)).is_err(),
        "the HTTP port was released"
    );
}

#[test]
fn a_typo_in_the_configuration_file_is_a_one_line_error_naming_line_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("dotpha.toml");
    let (nats, http) = (free_port(), free_port());
    std::fs::write(
        &config,
        format!(
            "data = \"state\"\nnats = \"nats://127.0.0.1:{nats}\"\nhtpp = \"127.0.0.1:{http}\"\n"
        ),
    )
    .expect("write");
    let stderr = refused(&["--config", config.to_str().expect("utf-8 path")], None);
    assert!(
        stderr.contains("line 3: unknown setting `htpp` (did you mean `http`?)"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("state").exists(),
        "nothing was started, not even the data directory"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "no nats-server was started"
    );
}

#[test]
fn settings_come_from_the_file_and_the_environment_overrides_it() {
    // A file naming a data directory under a regular file makes `up` fail
    // early, saying which directory it tried: that shows which setting won
    // without starting anything.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a-file"), b"").expect("write");
    let config = dir.path().join("dotpha.toml");
    std::fs::write(&config, "data = \"a-file/from-file\"\n").expect("write");
    let run = |env: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dotpha"));
        command
            .args(["up", "--config"])
            .arg(&config)
            .args(["--http", &format!("127.0.0.1:{}", free_port())]);
        match env {
            Some(value) => command.env("DOTPHA_DATA", value),
            None => command.env_remove("DOTPHA_DATA"),
        };
        String::from_utf8_lossy(&command.output().expect("runs").stderr).into_owned()
    };
    let from_file = run(None);
    assert!(
        from_file.contains(&format!(
            "{}",
            dir.path().join("a-file/from-file").display()
        )),
        "the file's path, relative to the file: {from_file}"
    );
    let overridden = dir.path().join("a-file/from-env");
    let from_env = run(Some(overridden.to_str().expect("utf-8 path")));
    assert!(
        from_env.contains("a-file/from-env"),
        "DOTPHA_DATA wins over the file: {from_env}"
    );
}
