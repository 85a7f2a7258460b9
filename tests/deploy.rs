//! deploy/: the systemd units and the example configuration are what runs.
//! Each unit's `ExecStart` is run as written (with this build's binary in
//! place of /usr/local/bin/dotpha) against the committed `deploy/dotpha.toml`,
//! the three parts together decide, project and serve a workload, and each
//! stops cleanly on the unit's `KillSignal` within its `TimeoutStopSec`.

mod support;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use dotpha_testkit::{Workload, nats::free_port};
use support::{NatsServer, head_of, http_get, publisher, submit_in_order};

const INSTALLED_BINARY: &str = "/usr/local/bin/dotpha";
const INSTALLED_CONFIG: &str = "/etc/dotpha/dotpha.toml";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// A unit file's `[Service]` settings (the last value of each key).
fn service_section(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).expect("read the unit");
    let mut section = String::new();
    let mut settings = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section == "[Service]" {
            let (key, value) = line.split_once('=').expect("key=value");
            settings.insert(key.to_owned(), value.to_owned());
        }
    }
    settings
}

/// The commune's witness: its own user, key and directory, no configuration
/// file (it is not a part of the district's system).
const WITNESS_UNIT: &str = "dotpha-witness.service";

/// The three units of the district's system, by the subcommand they run.
fn units() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut units = BTreeMap::new();
    for entry in std::fs::read_dir(deploy().join("systemd")).expect("deploy/systemd") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == WITNESS_UNIT) {
            continue;
        }
        if path.extension().is_some_and(|e| e == "service") {
            let service = service_section(&path);
            let exec: Vec<&str> = service["ExecStart"].split_whitespace().collect();
            assert_eq!(exec[0], INSTALLED_BINARY, "{}", path.display());
            assert_eq!(
                exec[2..],
                ["--config", INSTALLED_CONFIG],
                "{}: every part reads the one configuration file",
                path.display()
            );
            assert_eq!(
                path.file_name().and_then(|n| n.to_str()),
                Some(format!("dotpha-{}.service", exec[1]).as_str())
            );
            units.insert(exec[1].to_owned(), service);
        }
    }
    units
}

#[test]
fn there_is_a_unit_for_each_part_and_each_keeps_its_data_where_the_config_says() {
    let units = units();
    assert_eq!(
        units.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ingest", "project", "serve"]
    );
    let config = std::fs::read_to_string(deploy().join("dotpha.toml")).expect("config");
    assert!(
        config.contains("data = \"/var/lib/dotpha\""),
        "the example config keeps data in the units' StateDirectory"
    );
    for (part, service) in &units {
        assert_eq!(service["StateDirectory"], "dotpha", "{part}");
        assert_eq!(service["ConfigurationDirectory"], "dotpha", "{part}");
        assert_eq!(
            service["KillSignal"], "SIGTERM",
            "{part} stops gracefully on SIGTERM"
        );
        assert_eq!(service["User"], "dotpha", "{part}");
    }
}

#[test]
fn systemd_accepts_the_units_without_a_warning() {
    let Ok(status) = Command::new("systemd-analyze")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
    else {
        // The parse and run checks above and below still hold the units to
        // account; this one needs systemd's own parser.
        eprintln!("systemd-analyze is not installed here; the units were not checked by systemd");
        return;
    };
    assert!(status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(deploy().join("systemd")).expect("deploy/systemd") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        // `verify` checks that the binary exists; point it at this build.
        let copy = dir.path().join(path.file_name().expect("name"));
        std::fs::write(
            &copy,
            text.replace(INSTALLED_BINARY, env!("CARGO_BIN_EXE_dotpha")),
        )
        .expect("write");
        files.push(copy);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&files)
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Unknown keys and bad values are only warnings to systemd: hold the
    // units to none at all.
    assert!(stderr.trim().is_empty(), "systemd warns: {stderr}");
}

/// The witness key's name in the test.
const WITNESS_NAME: &str = "deploy.test/witness";

/// The witness's unit, checked for what the README promises of it.
fn witness_unit() -> BTreeMap<String, String> {
    let unit = service_section(&deploy().join("systemd").join(WITNESS_UNIT));
    assert_eq!(unit["KillSignal"], "SIGTERM");
    assert_eq!(
        unit["RestartPreventExitStatus"], "1",
        "a fork (exit 1) waits for a person, it is not restarted over"
    );
    assert_eq!(unit["StateDirectoryMode"], "0700", "the key is owner-only");
    unit
}

/// The origin the example configuration gives the log, or the default.
fn deploy_origin() -> String {
    let config = std::fs::read_to_string(deploy().join("dotpha.toml")).expect("config");
    config
        .lines()
        .find_map(|line| line.strip_prefix("origin = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map_or_else(dotpha_ingest::default_origin, str::to_owned)
}

/// Runs `dotpha ARGS` to completion and returns its standard output's
/// first line.
fn dotpha(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(args)
        .output()
        .expect("dotpha runs");
    assert!(
        out.status.success(),
        "dotpha {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// One part, started from its unit's `ExecStart`.
struct Part {
    name: String,
    child: Child,
    stop_timeout: Duration,
    stderr: PathBuf,
}

impl Part {
    fn start(
        name: &str,
        service: &BTreeMap<String, String>,
        env: &[(&str, String)],
        logs: &Path,
    ) -> Part {
        Part::start_with(name, service, env, &[], logs)
    }

    /// Starts the unit with `words` of its `ExecStart` replaced as systemd
    /// would (`${VAR}` from its EnvironmentFile) or as the host's paths are.
    fn start_with(
        name: &str,
        service: &BTreeMap<String, String>,
        env: &[(&str, String)],
        words: &[(&str, String)],
        logs: &Path,
    ) -> Part {
        let exec: Vec<String> = service["ExecStart"]
            .split_whitespace()
            .map(|word| match word {
                INSTALLED_BINARY => env!("CARGO_BIN_EXE_dotpha").to_owned(),
                INSTALLED_CONFIG => deploy().join("dotpha.toml").display().to_string(),
                other => words
                    .iter()
                    .find_map(|(from, to)| {
                        other.strip_prefix(from).map(|rest| format!("{to}{rest}"))
                    })
                    .unwrap_or_else(|| other.to_owned()),
            })
            .collect();
        let stderr = logs.join(format!("{name}.log"));
        let mut command = Command::new(&exec[0]);
        command
            .args(&exec[1..])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("log file"));
        for (key, value) in env {
            command.env(key, value);
        }
        let seconds: u64 = service["TimeoutStopSec"].parse().expect("seconds");
        Part {
            name: name.to_owned(),
            child: command.spawn().expect("the part starts"),
            stop_timeout: Duration::from_secs(seconds),
            stderr,
        }
    }

    /// Sends the unit's KillSignal and waits as long as systemd would.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + self.stop_timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                assert!(
                    status.success(),
                    "{} exits 0 on SIGTERM, got {status}: {log}",
                    self.name
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within TimeoutStopSec",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_units_run_the_whole_system_from_the_example_config_and_stop_cleanly() {
    let units = units();
    let nats = NatsServer::start();
    let data = tempfile::tempdir().expect("data dir");
    let http_port = free_port();
    // The example config unchanged; the environment points it at this
    // test's data directory, NATS and port, as an operator's override would.
    let env = [
        ("DOTPHA_DATA", data.path().display().to_string()),
        ("DOTPHA_NATS", nats.url()),
        ("DOTPHA_HTTP", format!("127.0.0.1:{http_port}")),
        ("DOTPHA_LOG", "warn".to_owned()),
    ];
    let logs = tempfile::tempdir().expect("log dir");
    // A commune's witness, with the key its unit file expects; the district
    // keeps its cosignatures (the `witnesses` setting, here from the
    // environment).
    let witness_dir = tempfile::tempdir().expect("witness dir");
    let witness_key = dotpha(&[
        "key",
        "--witness",
        &witness_dir.path().join("key").display().to_string(),
        "--name",
        WITNESS_NAME,
    ]);
    let mut ingest_env = env.to_vec();
    ingest_env.push(("DOTPHA_WITNESSES", witness_key));
    let ingest = Part::start("ingest", &units["ingest"], &ingest_env, logs.path());
    let project = Part::start("project", &units["project"], &env, logs.path());
    let serve = Part::start("serve", &units["serve"], &env, logs.path());

    let mut workload = Workload::new("deploy", 2, 3);
    let publisher = publisher(&nats.url()).await;
    let head = head_of(&submit_in_order(&publisher, &workload.setup()).await);

    let answer = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", http_port)) {
                drop(stream);
                return http_get(http_port, &format!("/api/v1/tasks?min_position={head}"));
            }
            assert!(Instant::now() < deadline, "serve never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .expect("the request ran");
    assert_eq!(answer.0, 200, "{}", answer.1);
    let tasks: serde_json::Value = serde_json::from_str(&answer.1).expect("JSON");
    assert_eq!(
        tasks["tasks"].as_array().map(Vec::len),
        Some(workload.tasks()),
        "every task registered through NATS is served"
    );

    // The log's key exists once the writer started; the witness unit runs
    // from its ExecStart with the operator's EnvironmentFile values.
    let log_key = dotpha(&[
        "key",
        "--config",
        &deploy().join("dotpha.toml").display().to_string(),
        "--data",
        &data.path().display().to_string(),
    ]);
    let witness = Part::start_with(
        "witness",
        &witness_unit(),
        &[
            ("DOTPHA_NATS", nats.url()),
            ("DOTPHA_LOG", "warn".to_owned()),
        ],
        &[
            ("${DOTPHA_LOG_KEY}", log_key),
            (
                "/var/lib/dotpha-witness",
                witness_dir.path().display().to_string(),
            ),
        ],
        logs.path(),
    );
    let cosigned = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, note) = http_get(http_port, "/api/v1/log/checkpoint");
            if status == 200 && note.contains(&format!("\u{2014} {WITNESS_NAME} ")) {
                return note;
            }
            assert!(
                Instant::now() < deadline,
                "the witness unit never cosigned a checkpoint: {status} {note}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .expect("the request ran");
    assert!(
        cosigned.starts_with(&format!("{}\n", deploy_origin())),
        "{cosigned}"
    );

    witness.stop();
    serve.stop();
    project.stop();
    ingest.stop();
    assert!(
        data.path().join("log.sqlite").exists(),
        "the log is where the configuration's data setting (overridden) says"
    );
}
