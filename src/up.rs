//! `dotpha up`: the writer, the projection worker and the HTTP server in one
//! process, with a nats-server of its own when none answers, and the demo
//! data set loaded through the normal submission path.

use std::{
    net::{SocketAddr, TcpStream},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use dotpha_app::{Access, App, AppError, DataDir, Settings};
use dotpha_bus::{Probe, Publisher};
use dotpha_store::Log;

use crate::services::{init_tracing, runtime, shutdown_signal};

/// How long a nats-server we started may take to accept connections.
const NATS_START: Duration = Duration::from_secs(15);

/// Options of `dotpha up`.
pub(crate) struct Up {
    /// The settings of the services (tokens: the demo's, made here).
    pub(crate) settings: Settings,
    pub(crate) http: String,
    pub(crate) demo: bool,
    /// The writer is a standby of the one writing on `--nats`.
    pub(crate) standby: bool,
}

/// A nats-server this process started; stopped when dropped.
struct OwnNats(Child);

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The address the first server of a `--nats` URL names.
fn nats_address(url: &str) -> Result<SocketAddr> {
    dotpha_bus::addresses(url)
        .map_err(|e| anyhow::anyhow!("--nats {}: {e}", dotpha_bus::without_credentials(url)))?
        .into_iter()
        .next()
        .map(|(_, address)| address)
        .with_context(|| format!("--nats {}: no server", dotpha_bus::without_credentials(url)))
}

fn answers(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

/// Starts nats-server with JetStream under `DIR/nats` on `address`.
fn start_nats(address: SocketAddr, data: &DataDir) -> Result<OwnNats> {
    if !address.ip().is_loopback() {
        bail!(
            "nothing answers at {address} and dotpha only starts its own nats-server on a loopback address; start NATS there or pass --nats nats://127.0.0.1:4222"
        );
    }
    let store = data.nats_store();
    std::fs::create_dir_all(&store)
        .with_context(|| format!("cannot create {}", store.display()))?;
    let child = Command::new("nats-server")
        .args(["-a", &address.ip().to_string(), "-p", &address.port().to_string(), "-js", "-sd"])
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "nothing answers at {address} and nats-server is not on PATH ({e}); install it (apt-get install -y nats-server) or pass --nats URL"
            )
        })?;
    let own = OwnNats(child);
    let started = Instant::now();
    while !answers(address) {
        if started.elapsed() > NATS_START {
            bail!(
                "the nats-server started at {address} did not accept connections within {NATS_START:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(own)
}

/// Owner-only: the tokens file holds secrets that let their holder act.
const SECRET_MODE: u32 = 0o600;

/// Demo tokens, made once per data directory and kept owner-only in
/// `DIR/tokens.json`. A file found readable by others is made owner-only,
/// with a warning (its tokens may have been read).
fn demo_tokens(data: &DataDir) -> Result<PathBuf> {
    let path = data.tokens_path();
    // Demo tokens made before 2026-11-30 came from NUID, a sequential id
    // generator: one token gave away the others. Such a file is made anew.
    if path.exists() && guessable_demo_tokens(&path) {
        std::fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
        tracing::warn!(
            file = %path.display(),
            "the demo tokens were made by an earlier version and could be guessed from one another; new ones are made (the old ones no longer act)"
        );
    }
    if !path.exists() {
        let grants = dotpha_demo::TOKEN_HOLDERS
            .iter()
            .map(|(unit, cadre)| {
                let token = format!("demo-{}", dotpha_host::secret::secret()?);
                Ok(serde_json::json!({"token": token, "unit": unit, "cadre": cadre}))
            })
            .collect::<Result<Vec<serde_json::Value>>>()?;
        let text = serde_json::to_string_pretty(&serde_json::json!({ "tokens": grants }))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(SECRET_MODE)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mode = std::fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(SECRET_MODE))
            .with_context(|| format!("making {} owner-only", path.display()))?;
        tracing::warn!(
            file = %path.display(),
            "the tokens file was readable by others (mode {mode:o}); it is owner-only (600) now, but whoever read it may hold its tokens: delete it to get new ones"
        );
    }
    Ok(path)
}

/// The files of a data directory's first start that do not exist yet: the
/// log (with SQLite's companions), the log's keys, the demo tokens and the
/// writer's lock file.
fn first_start_files(data: &DataDir) -> Vec<PathBuf> {
    let log = data.log_path();
    let companion = |suffix: &str| {
        let mut name = log.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    [
        companion("-wal"),
        companion("-shm"),
        log.clone(),
        data.path().join(dotpha_tlog::keyfile::LOG_KEY_FILE),
        data.path()
            .join(dotpha_tlog::keyfile::LOG_VERIFIER_KEY_FILE),
        data.tokens_path(),
        data.path().join("writer.lock"),
    ]
    .into_iter()
    .filter(|path| !path.exists())
    .collect()
}

/// Whether `path` holds demo tokens not of today's form (`demo-` and a
/// random secret): an earlier version's, made by an id generator.
fn guessable_demo_tokens(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let tokens: Vec<&str> = file["tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["token"].as_str())
        .collect();
    let secret = |t: &str| {
        t.strip_prefix("demo-").is_some_and(|s| {
            s.len() == 2 * dotpha_host::secret::SECRET_BYTES
                && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    };
    // Only a demo file is replaced: an operator's own tokens stay.
    !tokens.is_empty()
        && tokens.iter().all(|t| t.starts_with("demo-"))
        && !tokens.iter().all(|t| secret(t))
}

/// The first event of `stream` in the log, when it has one.
fn first_of(log: &Log, stream: &str) -> Option<serde_json::Value> {
    let event = log.stream(stream).ok()?.into_iter().next()?;
    serde_json::from_str(event.data.get()).ok()
}

/// Prints each token with the unit and the cadre it acts as, by name.
fn print_tokens(path: &Path, tokens: &dotpha_http::Tokens, log: Option<&Log>) {
    println!(
        "tokens for acting from the page (kept owner-only in {}):",
        path.display()
    );
    for grant in tokens.grants() {
        let name = |stream: String, field: &str| {
            log.and_then(|log| first_of(log, &stream))
                .and_then(|data| data.get(field)?.as_str().map(str::to_owned))
                .unwrap_or_else(|| "not registered in this log".to_owned())
        };
        println!(
            "  {}  {} ({}), {} ({})",
            grant.token,
            name(format!("cadre-{}", grant.cadre), "full_name"),
            grant.cadre,
            name(format!("unit-{}", grant.unit), "name"),
            grant.unit,
        );
    }
}

pub(crate) fn run(up: Up, log: &str) -> Result<ExitCode> {
    init_tracing(log);
    let Up {
        mut settings,
        http,
        demo,
        standby,
    } = up;
    let data = settings.data.clone();
    data.create()
        .context("choose another data directory with --data DIR")?;
    // The files a first start makes here; a start that is refused (another
    // log on this NATS: a forgotten --data) removes those it made, so the
    // wrong directory is left as it was found.
    let made_here = first_start_files(&data);
    // First: a second `dotpha up` on this directory stops here, before it
    // serves anything.
    let lock = data.lock()?;
    let http: SocketAddr = http
        .parse()
        .with_context(|| format!("--http {http}: not an address like 127.0.0.1:8080"))?;
    // Bind first: a port in use fails before anything else starts.
    let listener = std::net::TcpListener::bind(http).with_context(|| {
        format!("cannot listen on {http}: is another dotpha running? use --http ADDR")
    })?;
    listener.set_nonblocking(true)?;
    let runtime = runtime()?;
    let address = nats_address(&settings.nats)?;
    let shown = dotpha_bus::without_credentials(&settings.nats);
    let own_nats = match runtime.block_on(dotpha_bus::probe(address)) {
        Probe::Nats => None,
        // A standby follows the NATS its active writer uses: one started
        // here would carry no log.
        Probe::Nothing(found) if standby => bail!(
            "--nats {shown}: {found}; a standby follows the active writer's NATS, so it must answer (dotpha up --standby starts no nats-server)"
        ),
        Probe::Nothing(_) => Some(start_nats(address, &data)?),
        found @ Probe::NotNats(_) => bail!(
            "--nats {shown}: {found}; point --nats at a NATS server, or at a free port for dotpha to start one there"
        ),
    };
    // A server that answers is used as given (credentials, several URLs);
    // one started here listens on the first URL's address.
    if own_nats.is_some() {
        settings.nats = format!("nats://{address}");
    }
    let tokens_path = demo_tokens(&data)?;
    settings.access = Access::Tokens(tokens_path.clone());
    let app = App::new(settings).with_standby(standby);
    let tokens = app.tokens()?;
    let started_nats = own_nats.is_some();

    let outcome = runtime.block_on(async move {
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        // Everything that keeps the writer from starting (another writer
        // on this NATS, streams carrying another log) ends `up` here, at
        // once, with its sentence.
        let running = match app.start_locked(lock, listener, shutdown.clone()).await {
            Ok(running) => running,
            // Ctrl-C while starting: nothing was started, nothing to stop.
            Err(AppError::Ingest(dotpha_ingest::IngestError::Stopped)) => {
                return Ok(ExitCode::SUCCESS);
            }
            Err(error) => {
                for file in &made_here {
                    let _ = std::fs::remove_file(file);
                }
                bail!("{error}")
            }
        };
        println!(
            // The address only: the URL may hold a password.
            "dotpha is up{}: http://{http}/  (NATS nats://{address}{})",
            if standby { " as a standby writer" } else { "" },
            if started_nats {
                ", started by dotpha"
            } else {
                ""
            }
        );
        if demo {
            load_demo(
                &running.publisher,
                &data.log_path(),
                running.head,
                shutdown.clone(),
            )
            .await?;
        }
        let log = data.log().ok();
        print_tokens(&tokens_path, &tokens, log.as_ref());
        println!("press Ctrl-C to stop");
        let mut stop = shutdown.clone();
        let _ = stop.wait_for(|s| *s).await;
        running.wait().await?;
        println!("dotpha stopped cleanly");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    });
    drop(runtime);
    drop(own_nats);
    outcome
}

/// Loads the demo data set through the normal submission path, in order,
/// with a progress line, when the log is empty (CONTRACT.md), or finishes
/// a load that was interrupted (the log then holds only demo submissions
/// and lacks some); a log holding the whole demo, or data of its own, is
/// left alone and nothing is sent.
async fn load_demo(
    publisher: &Publisher,
    log_path: &Path,
    head: u64,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    use std::io::{IsTerminal, Write};
    let submissions = dotpha_demo::demo();
    let total = submissions.len();
    let missing = if head == 0 {
        submissions
    } else {
        let path = log_path.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Vec<_>> {
            let log = Log::open_read_only(&path)?;
            let mut missing = Vec::new();
            for s in submissions {
                if !log.is_decided(&s.submission_id)? {
                    missing.push(s);
                }
            }
            Ok(missing)
        })
        .await??
    };
    let loaded = total - missing.len();
    if missing.is_empty() {
        println!("demo data: already in the log ({total} submissions); nothing sent");
        return Ok(());
    }
    if head > 0 && loaded == 0 {
        println!(
            "demo data: not loaded: the log already holds {head} events of its own, and the demo loads into an empty log only"
        );
        return Ok(());
    }
    if loaded > 0 {
        println!(
            "demo data: {loaded} of {total} already in the log; sending the other {}",
            missing.len()
        );
    }
    let terminal = std::io::stderr().is_terminal();
    let to_send = missing.len();
    let outgoing: Vec<dotpha_bus::Outgoing> = missing
        .into_iter()
        .map(|s| dotpha_bus::Outgoing {
            unit: s.unit,
            submission_id: s.submission_id,
            body: s.body.into(),
        })
        .collect();
    // In order, many in flight, as a bulk import sends: the writer decides
    // them in the order given and answers each.
    let mut shown = 0;
    let sending = publisher.submit_all(&outgoing, |done| {
        if terminal {
            let filled = done * 30 / to_send.max(1);
            eprint!(
                "\rloading demo data [{}{}] {done}/{to_send}",
                "#".repeat(filled),
                " ".repeat(30 - filled)
            );
            let _ = std::io::stderr().flush();
        } else if done >= shown + 500 || done == to_send {
            shown = done;
            eprintln!("loading demo data: {done}/{to_send}");
        }
    });
    let mut stopping = shutdown.clone();
    let receipts = tokio::select! {
        receipts = sending => receipts.context("the demo data was not delivered")?,
        _ = stopping.wait_for(|s| *s) => bail!(
            "stopped while loading the demo data; run again to finish ({loaded} of {total} were in the log before)"
        ),
    };
    let (mut accepted, mut duplicates, mut rejected) = (0, 0, 0);
    for receipt in &receipts {
        match (receipt.duplicate, receipt.status) {
            (true, _) => duplicates += 1,
            (false, dotpha_store::ReceiptStatus::Accepted) => accepted += 1,
            (false, dotpha_store::ReceiptStatus::Rejected) => {
                rejected += 1;
                tracing::warn!(submission_id = %receipt.submission_id, error = ?receipt.error, "a demo submission was rejected");
            }
        }
    }
    if terminal {
        eprintln!();
    }
    println!("demo data: {accepted} accepted, {duplicates} already loaded, {rejected} rejected");
    Ok(())
}
