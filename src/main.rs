//! `dotpha`: one binary for every part of the system. Each subcommand only
//! parses its arguments and calls into the crates that do the work.

mod audit;
mod natsconf;
mod services;
mod up;

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dotpha_store::{Head, Log};

/// Assign, track and audit breakthrough tasks, with a permanent, verifiable log.
#[derive(Parser, Debug)]
#[command(name = "dotpha", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run everything in one process: writer, projection worker, HTTP
    /// server (and a nats-server when none answers at --nats).
    Up {
        /// The data directory (log, read model, NATS store when started here).
        #[arg(long, default_value = "./data", env = "DOTPHA_DATA")]
        data: PathBuf,
        /// NATS server URL.
        #[arg(long, default_value = DEFAULT_NATS, env = "DOTPHA_NATS")]
        nats: String,
        /// Address the HTTP server listens on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "DOTPHA_HTTP")]
        http: String,
        /// Load the demo data set (Sơn Dương, 2021) through the normal
        /// submission path; a second run adds nothing.
        #[arg(long)]
        demo: bool,
    },
    /// Run the log writer: decide submissions from NATS, commit them to the
    /// log, answer receipts, relay committed events.
    Ingest {
        /// The data directory holding log.sqlite.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// NATS server URL(s), comma-separated.
        #[arg(long, default_value = DEFAULT_NATS)]
        nats: String,
        /// How many NATS servers keep each stream: 1 for a single server,
        /// 3 for a 3-node cluster (deploy/nats/cluster).
        #[arg(long, default_value_t = 1, env = "DOTPHA_REPLICAS",
              value_parser = clap::value_parser!(u8).range(1..=5))]
        replicas: u8,
    },
    /// Run a projection worker: keep the read model in step with the log.
    Project {
        /// The data directory (read model; and the log, when it is here).
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// NATS server URL(s), comma-separated.
        #[arg(long, default_value = DEFAULT_NATS)]
        nats: String,
        /// The worker's name; several independent workers may run.
        #[arg(long, default_value = "main")]
        name: String,
    },
    /// Serve the HTTP API and the dashboard page.
    Serve {
        /// The data directory (read model; and the log, when it is here).
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// NATS server URL(s), for acting and receipts.
        #[arg(long, default_value = DEFAULT_NATS)]
        nats: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: String,
        /// Which worker's read model to serve.
        #[arg(long, default_value = "main")]
        name: String,
        /// Tokens that may act (POST), JSON: {"tokens": [{"token", "unit", "cadre"}]}.
        #[arg(long, value_name = "FILE")]
        tokens: Option<PathBuf>,
        /// Like --tokens, and every /api route then needs a token and answers
        /// only within the token's unit.
        #[arg(long, value_name = "FILE", conflicts_with = "tokens")]
        access: Option<PathBuf>,
    },
    /// Write a nats-server configuration from the unit roster: a user for
    /// dotpha's services and one per publishing unit, limited to its own
    /// subjects. Passwords are kept in DIR/nats-users.json and reused.
    NatsConfig {
        /// The data directory holding log.sqlite.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Address nats-server listens on.
        #[arg(long, default_value = "127.0.0.1:4222")]
        listen: String,
        /// JetStream store directory (default DIR/nats).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Where to write the configuration (default DIR/nats-server.conf).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rebuild the read model from the log into a new file and swap it in
    /// atomically; readers keep reading the old one meanwhile.
    Rebuild {
        /// The data directory holding log.sqlite.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Which worker's read model.
        #[arg(long, default_value = "main")]
        name: String,
    },
    /// Publish one submission, wait for its receipt and print it. Exit 0
    /// accepted, 1 rejected, 2 could not deliver.
    Submit {
        /// NATS server URL(s), comma-separated.
        #[arg(long, default_value = DEFAULT_NATS)]
        nats: String,
        /// A JSON file holding the submission, or - for standard input. A
        /// missing submission_id or occurred_at is filled in.
        file: String,
    },
    /// Check the log's hash chain and append-only invariants offline.
    Verify {
        /// The data directory holding log.sqlite.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// A head recorded earlier, POSITION:HASH; fail if the log no longer
        /// holds that event with that hash (a truncated or rewritten log).
        #[arg(long, value_name = "POSITION:HASH", value_parser = parse_head)]
        expect_head: Option<Head>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a task's full history: who did what, when (UTC+7).
    Audit {
        /// The task's id.
        task_id: String,
        /// The data directory holding log.sqlite.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Print the event objects as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Where NATS answers unless told otherwise.
const DEFAULT_NATS: &str = "nats://127.0.0.1:4222";

fn parse_head(text: &str) -> Result<Head, String> {
    Head::parse(text).ok_or_else(|| {
        format!("{text:?} is not POSITION:HASH (a number, a colon, 64 lowercase hex digits)")
    })
}

/// The log file inside a data directory.
fn log_path(data: &std::path::Path) -> PathBuf {
    data.join("log.sqlite")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Up {
            data,
            nats,
            http,
            demo,
        } => up::run(up::Up {
            data,
            nats,
            http,
            demo,
        }),
        Command::Ingest {
            data,
            nats,
            replicas,
        } => services::ingest(data, nats, replicas.into()),
        Command::Submit { nats, file } => services::submit(&nats, &file),
        Command::Project { data, nats, name } => services::project(data, nats, name),
        Command::Rebuild { data, name } => services::rebuild(&data, &name),
        Command::NatsConfig {
            data,
            listen,
            store,
            out,
        } => natsconf::run(&data, &listen, store, out),
        Command::Serve {
            data,
            nats,
            http,
            name,
            tokens,
            access,
        } => services::serve(data, nats, http, name, tokens, access),
        Command::Verify {
            data,
            expect_head,
            json,
        } => verify(&data, expect_head.as_ref(), json),
        Command::Audit {
            task_id,
            data,
            json,
        } => audit::run(&log_path(&data), &task_id, json),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dotpha: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Exit 0 when intact; 1 naming the first bad position; 2 when the log
/// cannot be read at all.
fn verify(data: &std::path::Path, expect_head: Option<&Head>, json: bool) -> Result<ExitCode> {
    let path = log_path(data);
    let log = Log::open_read_only(&path)?;
    let report = log
        .verify(expect_head)
        .with_context(|| format!("verifying {}", path.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        match (report.first_bad_position, &report.problem) {
            (Some(position), problem) => println!(
                "{}: NOT intact: first bad position {position}: {}",
                path.display(),
                problem.as_deref().unwrap_or("")
            ),
            (None, _) => println!(
                "{}: intact: {} events, head {}:{}",
                path.display(),
                report.head_position,
                report.head_position,
                report.head_hash
            ),
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
