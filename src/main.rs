//! `dotpha`: one binary for every part of the system. Each subcommand only
//! parses its arguments and calls into the crates that do the work.

mod audit;
mod natsconf;
mod operate;
mod services;
mod settings;
mod status;
mod transparency;
mod up;

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dotpha_store::{Head, Log};
use settings::FileSettings;

/// Assign, track and audit breakthrough tasks, with a permanent, verifiable log.
#[derive(Parser, Debug)]
#[command(name = "dotpha", version, about)]
struct Cli {
    /// A TOML configuration file (keys: data, nats, http, name, replicas,
    /// tokens, access, log, origin, witnesses). Flags and DOTPHA_* environment variables override it.
    #[arg(long, global = true, env = "DOTPHA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run everything in one process: writer, projection worker, HTTP
    /// server (and a nats-server when none answers at --nats).
    Up {
        #[command(flatten)]
        service: ServiceArgs,
        #[command(flatten)]
        http: HttpArg,
        #[command(flatten)]
        replicas: ReplicasArg,
        #[command(flatten)]
        log_identity: LogIdentity,
        /// Load the demo data set (Sơn Dương, 2021) through the normal
        /// submission path; a second run adds nothing.
        #[arg(long)]
        demo: bool,
        /// Run the writer as a standby: follow the active writer's
        /// decisions on --nats into this directory's log and take over
        /// when it is gone (reads and /healthz keep answering meanwhile).
        #[arg(long, conflicts_with = "demo")]
        standby: bool,
    },
    /// Run the log writer: decide submissions from NATS, commit them to the
    /// log, answer receipts, relay committed events.
    Ingest {
        #[command(flatten)]
        service: ServiceArgs,
        /// Run as a standby writer: follow the active writer's decisions
        /// (DOTPHA_DECISIONS) into this data directory's log, byte for
        /// byte, and take over when the writer's lease is free or lapsed;
        /// a writer fenced by another steps down and follows again.
        #[arg(long)]
        standby: bool,
        #[command(flatten)]
        replicas: ReplicasArg,
        #[command(flatten)]
        log_identity: LogIdentity,
    },
    /// Run a projection worker: keep the read model in step with the log.
    Project {
        #[command(flatten)]
        service: ServiceArgs,
        #[command(flatten)]
        name: NameArg,
    },
    /// Send each unit its daily e-mail digest of reminders (the `[notify]`
    /// table of the configuration file: SMTP server, sender, addresses per
    /// unit, hour).
    Notify {
        /// The data directory (which digests went out: DIR/notify) and NATS.
        #[command(flatten)]
        service: ServiceArgs,
        /// Send the digests of one day now and exit, instead of every
        /// morning.
        #[arg(long)]
        once: bool,
        /// With --once, the day (YYYY-MM-DD, Vietnam) [default: today].
        #[arg(long, requires = "once", value_name = "DAY")]
        day: Option<String>,
        /// With --once, send even to units whose digest of that day went
        /// out already.
        #[arg(long, requires = "once")]
        again: bool,
    },
    /// Serve the HTTP API and the dashboard page.
    Serve {
        #[command(flatten)]
        service: ServiceArgs,
        #[command(flatten)]
        http: HttpArg,
        #[command(flatten)]
        name: NameArg,
        /// Tokens that may act (POST), JSON: {"tokens": [{"token", "unit", "cadre"}]}.
        #[arg(long, value_name = "FILE", env = "DOTPHA_TOKENS")]
        tokens: Option<PathBuf>,
        /// Like --tokens, and every /api route then needs a token and answers
        /// only within the token's unit.
        #[arg(long, value_name = "FILE", env = "DOTPHA_ACCESS")]
        access: Option<PathBuf>,
    },
    /// Write a nats-server configuration from the unit roster: a user for
    /// dotpha's services and one per publishing unit, limited to its own
    /// subjects. Passwords are kept in DIR/nats-users.json and reused.
    NatsConfig {
        #[command(flatten)]
        data: DataArg,
        /// Address nats-server listens on.
        #[arg(long, default_value = "127.0.0.1:4222")]
        listen: String,
        /// JetStream store directory (default DIR/nats).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Where to write the configuration (default DIR/nats-server.conf,
        /// or DIR/leaf-UNIT.conf with --leaf).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also accept communes' leaf nodes on HOST:PORT (see
        /// deploy/README.md, "A commune on a leaf node").
        #[arg(long, value_name = "HOST:PORT")]
        leafnodes: Option<String>,
        /// Instead, write the leaf-node configuration of commune UNIT
        /// (--listen and --store are then the commune's).
        #[arg(long, value_name = "UNIT", requires = "hub")]
        leaf: Option<String>,
        /// With --leaf: the hub's leafnode address, HOST:PORT.
        #[arg(long, value_name = "HOST:PORT", requires = "leaf")]
        hub: Option<String>,
    },
    /// Make the hub's submissions stream source the outboxes of the communes
    /// that run leaf nodes (exactly these), creating each outbox through the
    /// leaf's JetStream domain when its link is up. Exit 1 when an outbox
    /// could not be reached (run again once its link is up).
    LeafSources {
        #[command(flatten)]
        nats: NatsArg,
        #[command(flatten)]
        replicas: ReplicasArg,
        /// The unit codes of the communes on leaf nodes.
        units: Vec<String>,
    },
    /// Rebuild the read model from the log into a new file and swap it in
    /// atomically; readers keep reading the old one meanwhile.
    Rebuild {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        name: NameArg,
    },
    /// Show who writes the log on this NATS, from NATS alone: the writer's
    /// lease and whether its holder renews it, where DOTPHA_DECISIONS
    /// ends, every writer process (active or standby) with its lag, and
    /// the last takeover. Exit 0 when a valid writer holds the lease, 1
    /// when none does, 2 when NATS cannot be asked.
    Status {
        #[command(flatten)]
        nats: NatsArg,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish one submission, wait for its receipt and print it. Exit 0
    /// accepted, 1 rejected, 2 could not deliver.
    Submit {
        #[command(flatten)]
        nats: NatsArg,
        /// A JSON file holding the submission, or - for standard input. A
        /// missing submission_id or occurred_at is filled in.
        file: String,
        /// Also print, with the receipt, an inclusion proof of its events
        /// against the log's latest signed checkpoint (waiting for one that
        /// covers them), checked before it is printed.
        #[arg(long)]
        prove: bool,
        /// With --prove: the log's verifier key; the checkpoint must carry
        /// its signature.
        #[arg(long, value_name = "VKEY", requires = "prove")]
        log_key: Option<String>,
    },
    /// Check the log's hash chain and append-only invariants offline.
    Verify {
        #[command(flatten)]
        data: DataArg,
        /// A head recorded earlier, POSITION:HASH; fail if the log no longer
        /// holds that event with that hash (a truncated or rewritten log).
        #[arg(long, value_name = "POSITION:HASH", value_parser = parse_head)]
        expect_head: Option<Head>,
        /// A checkpoint note (C2SP) the log signed; also check that it is
        /// signed by the log's key and that the log's tree at its size has
        /// its root.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The log's verifier key for --checkpoint [default: the one in
        /// DIR/log.vkey].
        #[arg(long, value_name = "VKEY", requires = "checkpoint")]
        log_key: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the log's signed-note verifier key (made on first use, kept
    /// owner-only in DIR/log.key); with --witness, a witness's instead.
    Key {
        #[command(flatten)]
        data: DataArg,
        /// The origin to name a new key with [default: <host>/dotpha].
        #[arg(long, env = "DOTPHA_ORIGIN")]
        origin: Option<String>,
        /// A witness's private key file: print its verifier key, making the
        /// key (owner-only) when the file does not exist.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["data", "origin"])]
        witness: Option<PathBuf>,
        /// With --witness, the name of a new witness key (e.g.
        /// hop-thanh.example.vn/witness).
        #[arg(long, requires = "witness")]
        name: Option<String>,
    },
    /// Witness the log: check each signed checkpoint against the last one
    /// accepted and cosign it; on a rollback or a fork keep both notes as
    /// evidence and exit 1.
    Witness {
        #[command(flatten)]
        nats: NatsArg,
        /// The log's verifier key (`dotpha key` prints it).
        #[arg(long, value_name = "VKEY")]
        log_key: String,
        /// The witness's private key file (`dotpha key --witness FILE
        /// --name NAME` makes one).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The witness's own directory: the last accepted checkpoint and
        /// any evidence [default: ./witness].
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Serve Prometheus metrics on ADDR (/metrics).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<String>,
    },
    /// Copy the log to FILE while the writer runs (a consistent snapshot),
    /// verify the copy and print its head.
    Backup {
        #[command(flatten)]
        data: DataArg,
        /// Where to write the copy; it must not exist.
        to: PathBuf,
    },
    /// Put a verified backup in place of the log (the writer must be
    /// stopped). The replaced log is set aside, never deleted; DOTPHA_EVENTS
    /// is cleared so the relay refills it from the restored log.
    Restore {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        nats: NatsArg,
        /// The backup file, as `dotpha backup` wrote it.
        backup: PathBuf,
    },
    /// Show a task's full history: who did what, when (each instant exactly as recorded).
    Audit {
        /// The task's id.
        task_id: String,
        #[command(flatten)]
        data: DataArg,
        /// Print the event objects as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `--data` and `--nats`: what every service is built over.
#[derive(clap::Args, Debug)]
struct ServiceArgs {
    #[command(flatten)]
    data: DataArg,
    #[command(flatten)]
    nats: NatsArg,
}

/// `--data`, shared by every subcommand that uses a data directory.
#[derive(clap::Args, Debug)]
struct DataArg {
    /// The data directory: the log (log.sqlite), the read models, the
    /// log's key [default: ./data].
    #[arg(long, env = "DOTPHA_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
}

/// `--nats`, shared by every subcommand that talks to NATS.
#[derive(clap::Args, Debug)]
struct NatsArg {
    /// NATS server URL(s), comma-separated [default: nats://127.0.0.1:4222].
    #[arg(long, env = "DOTPHA_NATS", value_name = "URL")]
    nats: Option<String>,
}

/// `--http`, the address the HTTP server listens on.
#[derive(clap::Args, Debug)]
struct HttpArg {
    /// Address the HTTP server listens on [default: 127.0.0.1:8080].
    #[arg(long, env = "DOTPHA_HTTP", value_name = "ADDR")]
    http: Option<String>,
}

/// `--replicas`, for every subcommand that sets the streams up.
#[derive(clap::Args, Debug)]
struct ReplicasArg {
    /// How many NATS servers keep each stream: 1 for a single server, 3
    /// for a 3-node cluster (deploy/nats/cluster) [default: 1].
    #[arg(long, env = "DOTPHA_REPLICAS")]
    replicas: Option<u8>,
}

/// `--name`, which projection worker (and read model).
#[derive(clap::Args, Debug)]
struct NameArg {
    /// The projection worker's name: several independent workers may run,
    /// each with its own read model [default: main].
    #[arg(long, env = "DOTPHA_NAME")]
    name: Option<String>,
}

/// The log's identity in the transparency-log sense (CONTRACT.md part B).
#[derive(clap::Args, Debug)]
struct LogIdentity {
    /// The origin line of the log's checkpoints, naming the deployment
    /// (e.g. son-duong.tuyenquang.gov.vn/dotpha); fixed for the log's life
    /// [default: the key's, or <host>/dotpha for a new key].
    #[arg(long, env = "DOTPHA_ORIGIN")]
    origin: Option<String>,
    /// A witness's verifier key whose cosignatures the log keeps
    /// (repeatable; DOTPHA_WITNESSES takes a comma-separated list).
    #[arg(
        long = "witness",
        value_name = "VKEY",
        env = "DOTPHA_WITNESSES",
        value_delimiter = ','
    )]
    witnesses: Vec<String>,
}

fn parse_head(text: &str) -> Result<Head, String> {
    Head::parse(text).ok_or_else(|| {
        format!("{text:?} is not POSITION:HASH (a number, a colon, 64 lowercase hex digits)")
    })
}

/// The log file inside a data directory.
pub(crate) fn log_path(data: &std::path::Path) -> PathBuf {
    data.join("log.sqlite")
}

/// Allocations of at least this many bytes are mapped from the system and
/// given back when freed. glibc starts at 128 KiB but raises the threshold
/// to the size of each mapped block freed (up to 32 MiB), after which large
/// short-lived buffers (compressing a kept answer, a dashboard's JSON, a
/// batch being read) stay in its heap and count in the process's memory for
/// good: `dotpha up` after a million events peaked 3-10 MB higher, and
/// unevenly (BENCHMARKS.md, "Resident memory").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: libc::c_int = 256 * 1024;

fn main() -> ExitCode {
    // A fixed threshold also stops glibc from moving it (mallopt(3)).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; called
    // first, before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
    let cli = Cli::parse();
    settings::warn_unknown_variables();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dotpha: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let file = FileSettings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Up {
            service,
            http,
            replicas,
            log_identity,
            demo,
            standby,
        } => {
            let mut settings = file.settings(service)?;
            settings.replicas = file.replicas(replicas.replicas)?;
            settings.transparency = file.transparency(log_identity.origin, log_identity.witnesses);
            up::run(
                up::Up {
                    settings,
                    http: file.http(http.http),
                    demo,
                    standby,
                },
                &file.log("info"),
            )
        }
        Command::Ingest {
            service,
            standby,
            replicas,
            log_identity,
        } => {
            let mut settings = file.settings(service)?;
            settings.replicas = file.replicas(replicas.replicas)?;
            settings.transparency = file.transparency(log_identity.origin, log_identity.witnesses);
            services::ingest(settings, standby, &file.log("info"))
        }
        Command::Submit {
            nats,
            file: input,
            prove,
            log_key,
        } => services::submit(
            &file.nats(nats.nats),
            &input,
            prove.then_some(transparency::Prove { log_key }),
            &file.log("warn"),
        ),
        Command::Status { nats, json } => {
            services::init_tracing(&file.log("warn"));
            status::run(&file.nats(nats.nats), json)
        }
        Command::Key {
            data,
            origin,
            witness,
            name,
        } => match witness {
            Some(path) => transparency::witness_key(&path, name.as_deref()),
            None => transparency::log_key(
                &file.data(data.data),
                &file.transparency(origin, Vec::new()),
            ),
        },
        Command::Witness {
            nats,
            log_key,
            key,
            data,
            metrics,
        } => transparency::witness(
            dotpha_witness::Config {
                nats_url: file.nats(nats.nats),
                log_key,
                key_file: key,
                data_dir: data.unwrap_or_else(|| PathBuf::from("./witness")),
            },
            metrics,
            &file.log("info"),
        ),
        Command::Project { service, name } => {
            let mut settings = file.settings(service)?;
            settings.name = file.name(name.name);
            services::project(settings, &file.log("info"))
        }
        Command::Notify {
            service,
            once,
            day,
            again,
        } => services::notify(
            dotpha_notify::Config {
                data_dir: file.data(service.data.data),
                nats_url: file.nats(service.nats.nats),
                settings: file.notify()?,
                clock: dotpha_host::SystemClock::shared(),
            },
            once.then_some(services::Once { day, again }),
            &file.log("info"),
        ),
        Command::Rebuild { data, name } => {
            services::rebuild(&file.data(data.data), &file.name(name.name))
        }
        Command::NatsConfig {
            data,
            listen,
            store,
            out,
            leafnodes,
            leaf,
            hub,
        } => {
            let data = file.data(data.data);
            match (leaf, hub) {
                (Some(unit), Some(hub)) => natsconf::leaf(&data, &unit, &hub, &listen, store, out),
                _ => natsconf::run(&data, &listen, store, out, leafnodes),
            }
        }
        Command::LeafSources {
            nats,
            replicas,
            units,
        } => natsconf::leaf_sources(
            &file.nats(nats.nats),
            &units,
            file.replicas(replicas.replicas)?,
        ),
        Command::Serve {
            service,
            http,
            name,
            tokens,
            access,
        } => {
            let mut settings = file.settings(service)?;
            settings.name = file.name(name.name);
            settings.access = file.access(tokens, access)?;
            services::serve(settings, &file.http(http.http), &file.log("info"))
        }
        Command::Backup { data, to } => operate::backup(&file.data(data.data), &to),
        Command::Restore { data, nats, backup } => {
            operate::restore(&file.data(data.data), &file.nats(nats.nats), &backup)
        }
        Command::Verify {
            data,
            expect_head,
            checkpoint,
            log_key,
            json,
        } => match checkpoint {
            Some(note) => transparency::verify_checkpoint(
                &file.data(data.data),
                expect_head.as_ref(),
                &note,
                log_key,
                json,
            ),
            None => verify(&file.data(data.data), expect_head.as_ref(), json),
        },
        Command::Audit {
            task_id,
            data,
            json,
        } => audit::run(&log_path(&file.data(data.data)), &task_id, json),
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
        show_report(&path, &report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `verify`'s report for a person: warnings on standard error, the verdict
/// on standard output.
pub(crate) fn show_report(path: &std::path::Path, report: &dotpha_store::VerifyReport) {
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
