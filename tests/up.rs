//! The README's first command, `./quickstart`, exactly as written (it
//! installs what is missing, builds the release binary and runs `dotpha up
//! --demo`): one process with its own nats-server, the demo data loaded
//! through the submission path, the API answering; a second run sends
//! nothing. And `dotpha up` failing fast and saying why: its one-line
//! refusals of bad input, a second `up` on one data directory, a `--nats`
//! that is not NATS; `/healthz` naming every part, and a writer that dies
//! making `up` unhealthy at once.

mod support;

use std::{
    io::{BufRead, BufReader},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use dotpha_testkit::nats::free_port;
use support::http_get as get;

/// A file's permission bits.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o777
}

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
        .stderr(Stdio::piped())
        .spawn()
        .expect("dotpha up starts");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, lines) = mpsc::channel();
    // Standard error comes through the same channel, marked, so a build or
    // a start that fails says why (a needle is only ever on stdout).
    let errors = sender.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = errors.send(format!("stderr: {line}"));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    (child, lines)
}

fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    loop {
        // The first run builds the release binary (minutes on two cores).
        let Ok(line) = lines.recv_timeout(Duration::from_secs(900)) else {
            let tail = seen[seen.len().saturating_sub(40)..].join("\n");
            panic!("dotpha up never printed {needle:?}; its last lines:\n{tail}");
        };
        if !line.starts_with("stderr: ") && line.contains(needle) {
            return line;
        }
        seen.push(line);
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
        loaded.contains("2025 accepted, 0 already loaded, 0 rejected"),
        "{loaded}"
    );
    // Each token with the cadre it acts as and the unit, by name; the file
    // holding them is owner-only.
    let manh = wait_for(&lines, "(hoang-the-manh)");
    assert!(
        manh.contains("Hoàng Thế Mạnh (hoang-the-manh)") && manh.contains("(hop-thanh)"),
        "{manh}"
    );
    assert_eq!(mode(&dir.path().join("tokens.json")), 0o600);

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

    // The demo loads into an empty log only: a second run sends nothing.
    let (mut again, lines) = up(dir.path(), nats, http);
    let loaded = wait_for(&lines, "demo data:");
    assert!(
        loaded.contains("already in the log (2025 submissions); nothing sent"),
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

/// How long a process that must stop by itself may take: far more than it
/// needs, so a slow machine is no failure.
const LIMIT: Duration = Duration::from_secs(30);

/// `dotpha up` (the test build) with its output lines on a channel and its
/// standard error in a file.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
    _stderr_dir: tempfile::TempDir,
}

impl Running {
    fn start(command: &str, args: &[&str]) -> Running {
        let stderr_dir = tempfile::tempdir().expect("temp dir");
        let stderr = stderr_dir.path().join("stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
            .arg(command)
            .args(args)
            .env("DOTPHA_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("dotpha starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Running {
            child,
            lines,
            stderr,
            _stderr_dir: stderr_dir,
        }
    }

    fn up(data: &Path, nats: u16, http: u16, more: &[&str]) -> Running {
        let mut args = vec![
            "--data".to_owned(),
            data.display().to_string(),
            "--nats".to_owned(),
            format!("nats://127.0.0.1:{nats}"),
            "--http".to_owned(),
            format!("127.0.0.1:{http}"),
        ];
        args.extend(more.iter().map(|a| (*a).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Running::start("up", &args)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The next output line holding `needle`.
    fn line(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let left = LIMIT.saturating_sub(started.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("never printed {needle:?}\n{}", self.stderr()),
            }
        }
    }

    /// Waits until standard error has a line holding every one of `needles`.
    fn logged(&self, needles: &[&str]) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .stderr()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return line.to_owned();
            }
            assert!(
                started.elapsed() < LIMIT,
                "never logged {needles:?}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for it to exit by itself.
    fn exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if started.elapsed() > LIMIT {
                let _ = self.child.kill();
                panic!("it did not stop by itself\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn terminate(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("it exits")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.running() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `/healthz` once it answers 200 with every part running.
fn healthy(http: u16) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, body) = get(http, "/healthz");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let running = health["parts"]
            .as_object()
            .is_some_and(|parts| parts.values().all(|p| p["state"] == "running"));
        if status == 200 && running {
            return health;
        }
        assert!(
            started.elapsed() < LIMIT,
            "/healthz never said every part runs: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Its one-line error.
fn one_line(stderr: &str) -> String {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dotpha: "))
        .collect();
    assert_eq!(errors.len(), 1, "one line saying why: {stderr}");
    errors[0].to_owned()
}

#[test]
fn a_second_up_on_one_data_directory_stops_at_once_and_healthz_names_every_part() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (nats, http, other_http) = (free_port(), free_port(), free_port());
    let mut first = Running::up(dir.path(), nats, http, &[]);
    first.line("dotpha is up");

    let mut second = Running::up(dir.path(), nats, other_http, &[]);
    let status = second.exit();
    assert!(!status.success(), "{status:?}");
    let said = one_line(&second.stderr());
    assert!(
        said.contains("another dotpha writer is running on")
            && said.contains(&dir.path().display().to_string()),
        "{said}"
    );
    assert!(
        !second.lines.try_iter().any(|l| l.contains("dotpha is up")),
        "the second never claims to be up"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", other_http)).is_err(),
        "nor serves anything"
    );
    assert!(first.running());
    let health = healthy(http);
    for part in ["writer", "relay", "receipts", "projector", "http"] {
        assert_eq!(
            health["parts"][part]["state"], "running",
            "{part}: {health:#}"
        );
    }
    assert!(first.terminate().success(), "{}", first.stderr());
}

/// A forgotten `--data`: a second `up` on an empty directory against the
/// first one's NATS stops at once, naming the other log, and leaves the
/// directory as it found it (no log, key or tokens of a log that never was).
#[test]
fn a_second_up_on_a_forgotten_data_directory_stops_and_leaves_it_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let forgotten = tempfile::tempdir().expect("temp dir");
    let (nats, http, other_http) = (free_port(), free_port(), free_port());
    let mut first = Running::up(dir.path(), nats, http, &["--demo"]);
    first.line("dotpha is up");
    first.line("demo data:");

    let mut second = Running::up(forgotten.path(), nats, other_http, &["--demo"]);
    let status = second.exit();
    assert!(!status.success(), "{status:?}");
    let said = one_line(&second.stderr());
    assert!(said.contains("carries another log's events"), "{said}");
    let left: Vec<String> = std::fs::read_dir(forgotten.path())
        .expect("the directory")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(first.running());
    assert!(first.terminate().success(), "{}", first.stderr());
}

#[test]
fn a_nats_url_where_nats_is_not_is_named_and_up_fails_within_seconds() {
    // Something that accepts connections and says nothing, as an HTTP
    // server does until it gets a request.
    let impostor = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = impostor.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in impostor.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("nats://127.0.0.1:{port}");
    let mut up = Running::up(dir.path(), port, free_port(), &[]);
    let status = up.exit();
    assert!(!status.success());
    let said = one_line(&up.stderr());
    assert!(
        said.contains(&url) && said.contains("not a NATS server"),
        "{said}"
    );

    // The separate writer waits for its NATS, saying at WARN what is at
    // the URL, and stops cleanly when asked.
    let data = dir.path().to_str().expect("utf-8 path");
    let mut ingest = Running::start("ingest", &["--data", data, "--nats", &url]);
    ingest.logged(&["WARN", &url, "not a NATS server"]);
    assert!(ingest.terminate().success(), "{}", ingest.stderr());
    let nothing = format!("nats://127.0.0.1:{}", free_port());
    let mut ingest = Running::start("ingest", &["--data", data, "--nats", &nothing]);
    ingest.logged(&["WARN", &nothing, "nothing answers"]);
    assert!(ingest.terminate().success(), "{}", ingest.stderr());
    assert!(
        !ingest
            .stderr()
            .lines()
            .any(|l| l.contains("IO error") && !l.contains(&nothing)),
        "no line about the connection without the URL:\n{}",
        ingest.stderr()
    );
}

#[test]
fn a_tokens_file_readable_by_others_is_made_owner_only_and_each_token_is_printed_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens.json");
    std::fs::write(
        &tokens,
        r#"{"tokens": [{"token": "tok-hop-thanh-000000001", "unit": "hop-thanh", "cadre": "hoang-the-manh"}]}"#,
    )
    .expect("write");
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (nats, http) = (free_port(), free_port());
    let mut up = Running::up(dir.path(), nats, http, &[]);
    up.line("dotpha is up");
    let printed = up.line("tok-hop-thanh-000000001");
    assert!(
        printed.contains("(hoang-the-manh)") && printed.contains("(hop-thanh)"),
        "{printed}"
    );
    assert_eq!(mode(&tokens), 0o600);
    up.logged(&["WARN", "readable by others"]);
    assert!(up.terminate().success(), "{}", up.stderr());
}

/// Demo tokens are independent random secrets; a demo tokens file made by
/// an earlier version (sequential, from an id generator: one token gave
/// away the others) is made anew, with a warning.
#[test]
fn guessable_demo_tokens_are_replaced_by_random_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens.json");
    let old = "demo-DcAgnBvgsJ7aVqmKfYqS1y";
    std::fs::write(
        &tokens,
        format!(r#"{{"tokens": [{{"token": "{old}", "unit": "hop-thanh", "cadre": "hoang-the-manh"}}]}}"#),
    )
    .expect("write");
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (nats, http) = (free_port(), free_port());
    let mut up = Running::up(dir.path(), nats, http, &["--demo"]);
    up.line("dotpha is up");
    up.logged(&["WARN", "could be guessed"]);
    // Stopping during the load would (rightly) exit non-zero.
    up.line("demo data:");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tokens).expect("tokens")).expect("json");
    let made: Vec<&str> = file["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|g| g["token"].as_str())
        .collect();
    assert!(made.len() > 1 && !made.contains(&old), "{made:?}");
    for (i, a) in made.iter().enumerate() {
        let secret = a.strip_prefix("demo-").expect("a demo token");
        assert_eq!(secret.len(), 48, "{a}");
        for b in &made[i + 1..] {
            assert_ne!(a[..13], b[..13], "two tokens share a prefix: {a} {b}");
        }
    }
    assert_eq!(mode(&tokens), 0o600);
    assert!(up.terminate().success(), "{}", up.stderr());
}

#[test]
fn a_writer_that_dies_makes_up_unhealthy_at_once_and_is_logged_at_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (nats, http) = (free_port(), free_port());
    let mut up = Running::up(dir.path(), nats, http, &[]);
    up.line("dotpha is up");
    healthy(http);

    // Someone else takes the writer's lease: the writer stops.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(support::take_the_lease(&format!("nats://127.0.0.1:{nats}")));
    let started = Instant::now();
    let health = loop {
        let (status, body) = get(http, "/healthz");
        if status == 503 {
            break serde_json::from_str::<serde_json::Value>(&body).expect("json");
        }
        assert!(
            started.elapsed() < LIMIT,
            "/healthz stayed {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(health["status"], "unhealthy");
    assert_eq!(health["parts"]["writer"]["state"], "failed", "{health:#}");
    assert!(
        health["parts"]["writer"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("lost its lease")),
        "{health:#}"
    );
    assert_eq!(health["parts"]["http"]["state"], "running");
    // Logged at ERROR when it happened, while up still runs.
    up.logged(&["ERROR", "the writer stopped", "lost its lease"]);
    assert!(up.running(), "up keeps serving reads, unhealthy");
    assert!(
        !up.terminate().success(),
        "and says at exit that its writer failed"
    );
}

#[test]
fn the_demo_loads_into_an_empty_log_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (nats, http) = (free_port(), free_port());
    let mut up = Running::up(dir.path(), nats, http, &[]);
    up.line("dotpha is up");
    let submission = r#"{"schema": "dotpha.submission.v1", "unit": "xa-khac", "actor": "quan-tri",
        "type": "unit.registered",
        "data": {"code": "xa-khac", "name": "Xã Khác", "kind": "commune", "parent": null}}"#;
    let mut submit = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["submit", "--nats", &format!("nats://127.0.0.1:{nats}"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("dotpha submit runs");
    std::io::Write::write_all(
        &mut submit.stdin.take().expect("stdin"),
        submission.as_bytes(),
    )
    .expect("written");
    assert!(submit.wait().expect("exits").success(), "accepted");
    assert!(up.terminate().success(), "{}", up.stderr());

    let mut demo = Running::up(dir.path(), nats, http, &["--demo"]);
    let said = demo.line("demo data:");
    assert!(
        said.contains("not loaded") && said.contains("empty log only"),
        "{said}"
    );
    assert!(demo.terminate().success(), "{}", demo.stderr());
    let head = dotpha_store::Log::open_read_only(dir.path().join("log.sqlite"))
        .expect("log")
        .current_head()
        .expect("head");
    assert_eq!(head.position, 1, "the log holds its own submission only");
}

#[test]
fn a_standby_up_says_its_role_and_takes_over_when_the_writer_stops() {
    let nats = dotpha_testkit::nats::NatsServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let (a_http, b_http) = (free_port(), free_port());
    let mut a = Running::up(&a_dir, nats.port(), a_http, &[]);
    a.line("dotpha is up");
    let health = healthy(a_http);
    assert_eq!(health["role"]["role"], "active", "{health:#}");
    assert_eq!(health["role"]["last_takeover"], serde_json::Value::Null);

    // The standby signs with the log's key once it takes over.
    std::fs::create_dir_all(&b_dir).expect("B's directory");
    std::fs::copy(a_dir.join("log.key"), b_dir.join("log.key")).expect("the key copied");
    let mut b = Running::up(&b_dir, nats.port(), b_http, &["--standby"]);
    b.line("dotpha is up as a standby writer");
    let health = healthy(b_http);
    assert_eq!(health["role"]["role"], "standby", "{health:#}");
    assert_eq!(health["role"]["lag_records"], 0, "{health:#}");
    assert_eq!(health["parts"]["standby"]["state"], "running");
    assert!(health["parts"].get("writer").is_none(), "{health:#}");
    let (_, metrics) = get(b_http, "/metrics");
    assert!(metrics.contains("dotpha_writer_role 0"), "{metrics}");

    // The writer stops cleanly (its lease released): the standby takes
    // over at once and says so.
    assert!(a.terminate().success(), "{}", a.stderr());
    b.logged(&["it is the writer now"]);
    let started = Instant::now();
    let health = loop {
        let health = healthy(b_http);
        if health["role"]["role"] == "active" && health["parts"].get("writer").is_some() {
            break health;
        }
        assert!(started.elapsed() < LIMIT, "{health:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        health["role"]["last_takeover"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{health:#}"
    );
    let (_, metrics) = get(b_http, "/metrics");
    assert!(metrics.contains("dotpha_writer_role 1"), "{metrics}");
    assert!(metrics.contains("dotpha_takeovers_total 1"), "{metrics}");
    assert!(b.terminate().success(), "{}", b.stderr());
}
