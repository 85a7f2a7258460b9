//! Issue 14's people, end to end: `dotpha up --demo` from nothing, the
//! tokens it prints, and the page in headless Chromium
//! (`crates/http/tests/browser/personas.mjs`, playwright-core) as the
//! commune clerk and the district secretary would use it. The clerk's
//! refused form (31/02/2026) sends nothing, so the log records no
//! rejection; their corrected report is accepted.
//!
//! Fails, never skips, when node, Chromium or playwright-core is missing
//! (`.ci/run` installs them; `npm ci` in `crates/http/tests/browser`).
//! With `DOTPHA_SCREENSHOTS_TO_DOCS=1` the README's persona screenshots are
//! copied to `docs/screenshots/`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use dotpha_testkit::nats::free_port;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(600))
            .unwrap_or_else(|_| panic!("dotpha up never printed {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

/// The token printed for `cadre`: `  <token>  <name> (<cadre>), <unit> (<code>)`.
fn token_of(printed: &[String], cadre: &str) -> String {
    printed
        .iter()
        .find(|l| l.contains(&format!("({cadre})")))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token printed for {cadre}: {printed:#?}"))
        .to_owned()
}

fn browser(url: &str, token: &str, mode: &str) {
    let dir = workspace().join("crates/http/tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci` in {}",
        dir.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(Path::new(&chromium).exists(), "no Chromium at {chromium}");
    let shots = workspace().join("target/screenshots");
    let out = Command::new("node")
        .arg("personas.mjs")
        .args([url, token])
        .arg(&shots)
        .env("MODE", mode)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .output()
        .expect("node runs (apt-get install -y nodejs)");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the {mode}'s walk failed:\n{stdout}\n{stderr}"
    );
}

/// Decisions recorded in the log, by status.
fn decisions(data: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("log.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the log opens");
    let count = |status: &str| {
        conn.query_row(
            "SELECT count(*) FROM decisions WHERE status = ?1",
            [status],
            |r| r.get(0),
        )
        .expect("count")
    };
    (count("accepted"), count("rejected"))
}

#[test]
fn the_clerk_and_the_secretary_walk_their_paths_on_a_fresh_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (nats, http) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dotpha"))
        .args(["up", "--demo", "--data"])
        .arg(dir.path())
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
    let _up = Up(child);
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let loaded = wait_for(&lines, "demo data:");
    assert!(loaded.contains(" 0 rejected"), "{loaded}");
    wait_for(&lines, "tokens for acting from the page");
    let printed: Vec<String> = (0..dotpha_demo::TOKEN_HOLDERS.len())
        .map(|_| {
            lines
                .recv_timeout(Duration::from_secs(60))
                .expect("a token line")
        })
        .collect();
    let clerk = token_of(&printed, dotpha_demo::CURRENT_CHAIR);
    let secretary = token_of(&printed, dotpha_demo::SECRETARY);
    let url = format!("http://127.0.0.1:{http}");
    // The read model has the whole demo before anyone looks.
    let (accepted, rejected) = decisions(dir.path());
    assert_eq!(rejected, 0);
    wait_until_projected(http, accepted);

    browser(&url, &clerk, "clerk");
    let (after, rejected) = decisions(dir.path());
    assert_eq!(
        rejected, 0,
        "the refused form sent nothing: no rejection in the log"
    );
    assert_eq!(after, accepted + 1, "the corrected report is accepted");

    browser(&url, &secretary, "secretary");

    if std::env::var("DOTPHA_SCREENSHOTS_TO_DOCS").is_ok_and(|v| v == "1") {
        let (shots, docs) = (
            workspace().join("target/screenshots"),
            workspace().join("docs/screenshots"),
        );
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
        for name in [
            "secretary-overview.png",
            "clerk-my-tasks.png",
            "clerk-refused.png",
            "clerk-task.png",
        ] {
            std::fs::copy(shots.join(name), docs.join(name)).expect("copy a screenshot");
        }
    }
}

/// Waits until the API has applied the log's `accepted` events' decisions
/// (one event per demo submission).
fn wait_until_projected(http: u16, events: i64) {
    for _ in 0..600 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", http)) {
            use std::io::{Read, Write};
            let _ = write!(
                s,
                "GET /api/v1/cycles?min_position={events} HTTP/1.0\r\nHost: x\r\n\r\n"
            );
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if let Some(p) = out
                .lines()
                .find_map(|l| l.strip_prefix("x-dotpha-position: "))
                .and_then(|p| p.trim().parse::<i64>().ok())
                && p >= events
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the read model never reached position {events}");
}
