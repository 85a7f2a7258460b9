//! `dotpha up`: the writer, the projection worker and the HTTP server in one
//! process, with a nats-server of its own when none answers, and the demo
//! data set loaded through the normal submission path.

use std::{
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use dotpha_bus::{Publisher, PublisherOptions};
use prometheus_client::registry::Registry;

use crate::services::{init_tracing, runtime, shutdown_signal};

/// How long a nats-server we started may take to accept connections.
const NATS_START: Duration = Duration::from_secs(15);

/// Options of `dotpha up`.
pub(crate) struct Up {
    pub(crate) data: PathBuf,
    pub(crate) nats: String,
    pub(crate) http: String,
    pub(crate) replicas: usize,
    pub(crate) transparency: dotpha_ingest::Transparency,
    pub(crate) demo: bool,
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

/// The address a `nats://host:port` URL names (the first one of a list).
fn nats_address(url: &str) -> Result<SocketAddr> {
    let first = url.split(',').next().unwrap_or(url).trim();
    let host_port = first.strip_prefix("nats://").unwrap_or(first);
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:4222")
    };
    with_port
        .to_socket_addrs()
        .with_context(|| format!("--nats {url}: cannot resolve {with_port}"))?
        .next()
        .with_context(|| format!("--nats {url}: no address"))
}

fn answers(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

/// Starts nats-server with JetStream under `DIR/nats` on `address`.
fn start_nats(address: SocketAddr, data: &Path) -> Result<OwnNats> {
    if !address.ip().is_loopback() {
        bail!(
            "nothing answers at {address} and dotpha only starts its own nats-server on a loopback address; start NATS there or pass --nats nats://127.0.0.1:4222"
        );
    }
    let store = data.join("nats");
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

/// Demo tokens, made once per data directory and kept in `DIR/tokens.json`.
fn demo_tokens(data: &Path) -> Result<(PathBuf, String)> {
    let path = data.join("tokens.json");
    if !path.exists() {
        let grants: Vec<serde_json::Value> = dotpha_demo::TOKEN_HOLDERS
            .iter()
            .map(|(unit, cadre)| serde_json::json!({"token": format!("demo-{}", nuid::next()), "unit": unit, "cadre": cadre}))
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({ "tokens": grants }))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path, text))
}

pub(crate) fn run(up: Up, log: &str) -> Result<ExitCode> {
    init_tracing(log);
    std::fs::create_dir_all(&up.data).with_context(|| {
        format!(
            "cannot create the data directory {} (choose another with --data DIR)",
            up.data.display()
        )
    })?;
    let probe = up.data.join(".write-test");
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "the data directory {} is not writable (fix its permissions or choose another with --data DIR)",
            up.data.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    let http: SocketAddr = up
        .http
        .parse()
        .with_context(|| format!("--http {}: not an address like 127.0.0.1:8080", up.http))?;
    // Bind first: a port in use fails before anything else starts.
    let listener = std::net::TcpListener::bind(http).with_context(|| {
        format!("cannot listen on {http}: is another dotpha running? use --http ADDR")
    })?;
    listener.set_nonblocking(true)?;
    let address = nats_address(&up.nats)?;
    let own_nats = if answers(address) {
        None
    } else {
        Some(start_nats(address, &up.data)?)
    };
    // A server that answers is used as given (credentials, several URLs);
    // one started here listens on the first URL's address.
    let nats_url = if own_nats.is_some() {
        format!("nats://{address}")
    } else {
        up.nats.clone()
    };
    let (tokens_path, tokens_text) = demo_tokens(&up.data)?;
    let tokens = dotpha_http::Tokens::parse(&tokens_text, false)
        .map_err(|e| anyhow::anyhow!("{}: {e}", tokens_path.display()))?;
    let started_nats = own_nats.is_some();

    let outcome = runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        let mut registry = Registry::default();
        let ingest_metrics = dotpha_ingest::IngestMetrics::default();
        ingest_metrics.register(&mut registry);
        let project_metrics = dotpha_project::ProjectMetrics::default();
        project_metrics.register(&mut registry);
        let health = dotpha_project::Health::default();

        let writer = tokio::spawn(dotpha_ingest::run(
            dotpha_ingest::Config {
                data_dir: up.data.clone(),
                nats_url: nats_url.clone(),
                replicas: up.replicas,
                fault: None,
                transparency: up.transparency.clone(),
            },
            ingest_metrics,
            shutdown.clone(),
        ));
        let projector = tokio::spawn(dotpha_project::run(
            dotpha_project::Config {
                data_dir: up.data.clone(),
                nats_url: nats_url.clone(),
                name: "main".to_owned(),
            },
            project_metrics,
            health.clone(),
            shutdown.clone(),
        ));
        let connection = dotpha_bus::connect(&nats_url, "dotpha-up", true).await?;
        let publisher = Publisher::new(connection, PublisherOptions::default());
        let state = dotpha_http::AppState::new(
            up.data.clone(),
            "main".to_owned(),
            Some(publisher.clone()),
            registry,
            Some(health),
            tokens,
        );
        let server = tokio::spawn(dotpha_http::serve(
            tokio::net::TcpListener::from_std(listener)?,
            state,
            shutdown.clone(),
        ));

        println!(
            // The address only: the URL may hold a password.
            "dotpha is up: http://{http}/  (NATS nats://{address}{})",
            if started_nats {
                ", started by dotpha"
            } else {
                ""
            }
        );
        println!("tokens for acting from the page: {}", tokens_path.display());
        for line in tokens_text
            .lines()
            .filter(|l| l.contains("\"token\"") || l.contains("\"cadre\""))
        {
            println!("  {}", line.trim());
        }
        if up.demo {
            load_demo(&publisher, shutdown.clone()).await?;
        }
        println!("press Ctrl-C to stop");
        let mut stop = shutdown.clone();
        let _ = stop.wait_for(|s| *s).await;
        let (w, p, s) = tokio::join!(writer, projector, server);
        w.context("the writer task")??;
        p.context("the projection task")??;
        s.context("the HTTP task")?.context("serving HTTP")?;
        println!("dotpha stopped cleanly");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    });
    drop(own_nats);
    outcome
}

/// Loads the demo data set through the normal submission path, in order,
/// with a progress line; a second run finds every submission decided
/// (duplicates) and adds nothing.
async fn load_demo(
    publisher: &Publisher,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    use std::io::{IsTerminal, Write};
    let submissions = dotpha_demo::demo();
    let total = submissions.len();
    let terminal = std::io::stderr().is_terminal();
    let (mut accepted, mut duplicates, mut rejected) = (0, 0, 0);
    for (i, s) in submissions.into_iter().enumerate() {
        if *shutdown.borrow() {
            bail!(
                "stopped while loading the demo data ({i} of {total} loaded); run again to finish"
            );
        }
        let receipt = publisher
            .submit(&s.unit, &s.submission_id, s.body.into())
            .await
            .with_context(|| format!("demo submission {} was not delivered", s.submission_id))?;
        match (receipt.duplicate, receipt.status) {
            (true, _) => duplicates += 1,
            (false, dotpha_store::ReceiptStatus::Accepted) => accepted += 1,
            (false, dotpha_store::ReceiptStatus::Rejected) => {
                rejected += 1;
                tracing::warn!(submission_id = %s.submission_id, error = ?receipt.error, "a demo submission was rejected");
            }
        }
        let done = i + 1;
        if terminal {
            let filled = done * 30 / total.max(1);
            eprint!(
                "\rloading demo data [{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(30 - filled)
            );
            let _ = std::io::stderr().flush();
        } else if done % 500 == 0 || done == total {
            eprintln!("loading demo data: {done}/{total}");
        }
    }
    if terminal {
        eprintln!();
    }
    println!("demo data: {accepted} accepted, {duplicates} already loaded, {rejected} rejected");
    Ok(())
}
