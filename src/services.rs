//! The long-running and networked subcommands: `ingest` and `submit`.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context, Result, bail};
use dotpha_app::{App, Settings};
use dotpha_bus::{Publisher, PublisherOptions};
use dotpha_domain::{Timestamp, values::is_submission_id};
use dotpha_ingest::Fault;
use dotpha_store::ReceiptStatus;
use tokio::sync::watch;

/// Logs go to standard error, filtered by the `log` setting. The NATS
/// client's own event lines ("event: IO error" at INFO, without the server)
/// are left out unless the setting names `async_nats`: dotpha logs each
/// such event itself, at WARN, naming the server.
pub(crate) fn init_tracing(filter: &str) {
    let filter = if filter.contains("async_nats") {
        filter.to_owned()
    } else {
        format!("{filter},async_nats=warn")
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A receiver that turns true on Ctrl-C or SIGTERM.
pub(crate) fn shutdown_signal() -> Result<watch::Receiver<bool>> {
    let (sender, receiver) = watch::channel(false);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: finishing the batch in hand, then stopping"),
            _ = terminate.recv() => tracing::info!("SIGTERM: finishing the batch in hand, then stopping"),
        }
        let _ = sender.send(true);
    });
    Ok(receiver)
}

pub(crate) fn ingest(settings: Settings, standby: bool, log: &str) -> Result<ExitCode> {
    init_tracing(log);
    let fault = match std::env::var("DOTPHA_FAULT") {
        Ok(text) => Some(Fault::parse(&text).with_context(|| {
            format!("DOTPHA_FAULT={text:?} is not after-commit:N, before-commit:N, stop-after-commit:N, after-append:N or after-first-part:N")
        })?),
        Err(_) => None,
    };
    let app = App::new(settings).with_fault(fault);
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        if standby {
            match app.standby(shutdown).await {
                Ok(()) | Err(dotpha_ingest::IngestError::Stopped) => {
                    tracing::info!("standby stopped cleanly");
                }
                Err(error) => return Err(error.into()),
            }
            return Ok(ExitCode::SUCCESS);
        }
        match app.ingest(shutdown).await {
            Ok(()) => tracing::info!("writer stopped cleanly"),
            Err(dotpha_ingest::IngestError::Stopped) => {
                tracing::info!("stopped before the writer started");
            }
            Err(error) => return Err(error.into()),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Exit codes of `dotpha submit`, as the contract fixes them.
const REJECTED: u8 = 1;
const UNDELIVERED: u8 = 2;

pub(crate) fn submit(
    nats: &str,
    file: &str,
    prove: Option<crate::transparency::Prove>,
    log: &str,
) -> Result<ExitCode> {
    init_tracing(log);
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("reading the submission from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    let mut submission: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{file} is not JSON"))?;
    let Some(object) = submission.as_object_mut() else {
        bail!("{file}: a submission is a JSON object");
    };
    if !object.contains_key("submission_id") {
        object.insert("submission_id".into(), nuid::next().to_string().into());
    }
    if !object.contains_key("occurred_at") {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        object.insert(
            "occurred_at".into(),
            Timestamp::in_vietnam_from_unix_millis(millis)
                .as_str()
                .into(),
        );
    }
    let Some(unit) = object
        .get("unit")
        .and_then(|u| u.as_str())
        .map(str::to_owned)
    else {
        bail!("{file}: the submission has no \"unit\": it names the subject it is published on");
    };
    let Some(id) = object
        .get("submission_id")
        .and_then(|u| u.as_str())
        .map(str::to_owned)
    else {
        bail!("{file}: submission_id must be a string");
    };
    if !is_submission_id(&id) {
        bail!("{file}: submission_id {id:?} is not 8 to 64 of A-Z, a-z, 0-9, '_' and '-'");
    }
    let body = serde_json::to_vec(&submission)?;
    runtime()?.block_on(async move {
        let connection = match dotpha_bus::connect(nats, "dotpha-submit", false).await {
            Ok(c) => c,
            Err(error) => {
                eprintln!("dotpha: could not deliver: {error}");
                return Ok(ExitCode::from(UNDELIVERED));
            }
        };
        let client = connection.client.clone();
        let publisher = Publisher::new(
            connection,
            PublisherOptions {
                receipt_timeout: Duration::from_secs(10),
                ..PublisherOptions::default()
            },
        );
        match publisher.submit(&unit, &id, body.into()).await {
            Ok(receipt) => {
                let mut shown = serde_json::to_value(&receipt)?;
                if let Some(prove) = &prove {
                    shown["proof"] = crate::transparency::prove(&client, &receipt, prove).await?;
                }
                println!("{}", serde_json::to_string_pretty(&shown)?);
                Ok(match receipt.status {
                    ReceiptStatus::Accepted => ExitCode::SUCCESS,
                    ReceiptStatus::Rejected => ExitCode::from(REJECTED),
                })
            }
            Err(error) => {
                eprintln!("dotpha: could not deliver {id}: {error}");
                Ok(ExitCode::from(UNDELIVERED))
            }
        }
    })
}

pub(crate) fn project(settings: Settings, log: &str) -> Result<ExitCode> {
    init_tracing(log);
    let app = App::new(settings);
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        app.project(shutdown).await?;
        tracing::info!("projection worker stopped cleanly");
        Ok(ExitCode::SUCCESS)
    })
}

/// `dotpha notify --once`: which day, and whether to send again.
pub(crate) struct Once {
    pub(crate) day: Option<String>,
    pub(crate) again: bool,
}

/// `dotpha notify`: every morning, or one day's digests now (`--once`).
pub(crate) fn notify(
    config: dotpha_notify::Config,
    once: Option<Once>,
    log: &str,
) -> Result<ExitCode> {
    init_tracing(log);
    let mailer = dotpha_notify::check(&config.settings)?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        let Some(once) = once else {
            dotpha_notify::run(config, shutdown).await?;
            tracing::info!("notify stopped cleanly");
            return Ok(ExitCode::SUCCESS);
        };
        let day = match &once.day {
            Some(text) => dotpha_domain::Date::parse(text)
                .with_context(|| format!("--day {text:?} is not a date (YYYY-MM-DD)"))?,
            None => dotpha_domain::Timestamp::from_unix_millis(config.clock.unix_millis())
                .date_in_vietnam(),
        };
        let mut waiting = shutdown.clone();
        dotpha_bus::wait_for_nats(&config.nats_url, &mut waiting).await?;
        let connection = dotpha_bus::connect(&config.nats_url, "dotpha-notify", true).await?;
        let js = async_nats::jetstream::new(connection.client.clone());
        let sent = dotpha_notify::send_day(&js, &mailer, &config.data_dir, day, once.again).await?;
        for unit in &sent.sent {
            println!("{day} {unit}: sent");
        }
        for unit in &sent.already {
            println!("{day} {unit}: already sent (--again sends it again)");
        }
        for unit in &sent.nothing {
            println!("{day} {unit}: nothing needs attention");
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn rebuild(data: &std::path::Path, name: &str) -> Result<ExitCode> {
    use std::io::{IsTerminal, Write};
    let started = std::time::Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let mut shown = 0u64;
    let rebuilt = dotpha_project::rebuild(data, name, |applied, head| {
        let percent = (applied * 100).checked_div(head).unwrap_or(100);
        if terminal {
            let filled = (percent / 5) as usize;
            eprint!(
                "\rrebuilding [{}{}] {applied}/{head} events ({percent}%)",
                "#".repeat(filled),
                " ".repeat(20 - filled)
            );
            let _ = std::io::stderr().flush();
        } else if percent >= shown + 10 || applied == head {
            shown = percent;
            eprintln!("rebuilding: {applied}/{head} events ({percent}%)");
        }
    })?;
    if terminal {
        eprintln!();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rebuilt {} from {} events in {seconds:.1} s ({:.0} events/s); it is now the current read model",
        rebuilt.file.display(),
        rebuilt.events,
        rebuilt.events as f64 / seconds.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

/// `dotpha serve` on `http`.
pub(crate) fn serve(settings: Settings, http: &str, log: &str) -> Result<ExitCode> {
    init_tracing(log);
    let app = App::new(settings);
    // A bad tokens file fails before anything listens.
    app.tokens()?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(http)
            .await
            .with_context(|| format!("cannot listen on {http} (in use? use --http ADDR)"))?;
        tracing::info!("serving on http://{http}/");
        app.serve(listener, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}
