//! The composition root: every service of dotpha built from one
//! [`Settings`] over one [`DataDir`], with one injected [`Clock`]. The
//! binary's subcommands (`up`, `ingest`, `project`, `serve`) and the
//! integration tests build the system here and nowhere else, so a service
//! is wired the same way wherever it runs.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

use std::path::PathBuf;

use dotpha_bus::{BusError, Publisher, PublisherOptions};
pub use dotpha_host::{
    Clock, DataDir, DataDirError, DataDirLock, FixedClock, MAIN, ManualClock, SharedClock,
    SystemClock,
};
use dotpha_http::{AppState, Tokens, TokensError};
use dotpha_ingest::{Fault, IngestError, IngestMetrics, Transparency};
use dotpha_project::{ProjectError, ProjectMetrics};
use prometheus_client::registry::Registry;
use tokio::{sync::watch, task::JoinHandle};

/// Who may act through HTTP, and whether reads need a token too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Nobody acts; reads are open.
    #[default]
    Open,
    /// The tokens in this file may act; reads are open (`--tokens`).
    Tokens(PathBuf),
    /// The tokens in this file may act, and every `/api` route needs one
    /// and answers within its unit (`--access`).
    Closed(PathBuf),
}

/// Every setting of a dotpha process, resolved (flag, `DOTPHA_*`, the
/// configuration file, default: the binary's `settings.rs`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The data directory.
    pub data: DataDir,
    /// NATS server URL(s), comma-separated.
    pub nats: String,
    /// The projection worker's name (and the read model `serve` reads).
    pub name: String,
    /// How many NATS servers keep each stream.
    pub replicas: usize,
    /// The log's origin and the witnesses it keeps cosignatures of.
    pub transparency: Transparency,
    /// Who may act through HTTP.
    pub access: Access,
}

impl Settings {
    /// Settings over `data` and `nats`, everything else at its default
    /// (worker `main`, one replica, no witnesses, nobody acts).
    pub fn new(data: impl Into<PathBuf>, nats: impl Into<String>) -> Settings {
        Settings {
            data: DataDir::new(data),
            nats: nats.into(),
            name: MAIN.to_owned(),
            replicas: 1,
            transparency: Transparency::default(),
            access: Access::Open,
        }
    }
}

/// What keeps the system from being built or running.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The writer refused to start or stopped.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The projection worker stopped.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// NATS failed.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The data directory cannot be used.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The tokens file cannot be read.
    #[error("reading {}: {source}", path.display())]
    ReadTokens {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The tokens file is not valid.
    #[error("{}: {source}", path.display())]
    Tokens {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: TokensError,
    },
    /// The HTTP server failed.
    #[error("serving HTTP: {0}")]
    Http(#[source] std::io::Error),
    /// A service's task panicked or was cancelled.
    #[error("the {what} task failed: {source}")]
    Task {
        /// Which service.
        what: &'static str,
        /// Why.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// The system, ready to be started as one process or as its parts.
#[derive(Clone, Debug)]
pub struct App {
    settings: Settings,
    clock: SharedClock,
    fault: Option<Fault>,
    standby: bool,
}

impl App {
    /// The system over `settings`, on the system's clock.
    pub fn new(settings: Settings) -> App {
        App {
            settings,
            clock: SystemClock::shared(),
            fault: None,
            standby: false,
        }
    }

    /// The same, reading the time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> App {
        self.clock = clock;
        self
    }

    /// The same, with a fault injected into the writer (tests of recovery).
    pub fn with_fault(mut self, fault: Option<Fault>) -> App {
        self.fault = fault;
        self
    }

    /// The same, its writer a standby (`up --standby`): it follows the
    /// active writer's decisions and takes over when that one is gone.
    pub fn with_standby(mut self, standby: bool) -> App {
        self.standby = standby;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The clock every service reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The writer's configuration, reporting to `health`.
    pub fn ingest_config(&self, health: dotpha_ingest::Health) -> dotpha_ingest::Config {
        dotpha_ingest::Config {
            data_dir: self.settings.data.path().to_owned(),
            nats_url: self.settings.nats.clone(),
            replicas: self.settings.replicas,
            fault: self.fault,
            transparency: self.settings.transparency.clone(),
            health,
            clock: self.clock.clone(),
        }
    }

    /// The projection worker's configuration.
    pub fn project_config(&self) -> dotpha_project::Config {
        dotpha_project::Config {
            data_dir: self.settings.data.path().to_owned(),
            nats_url: self.settings.nats.clone(),
            name: self.settings.name.clone(),
            clock: self.clock.clone(),
        }
    }

    /// `dotpha ingest`: the writer, the relay and the receipt service until
    /// `shutdown`.
    pub async fn ingest(&self, shutdown: watch::Receiver<bool>) -> Result<(), IngestError> {
        dotpha_ingest::run(
            self.ingest_config(dotpha_ingest::Health::default()),
            IngestMetrics::default(),
            shutdown,
        )
        .await
    }

    /// `dotpha ingest --standby`: a standby writer following
    /// `DOTPHA_DECISIONS` into this data directory's log until `shutdown`.
    pub async fn standby(&self, shutdown: watch::Receiver<bool>) -> Result<(), IngestError> {
        let config = self.ingest_config(dotpha_ingest::Health::default());
        let lock = dotpha_ingest::lock_data_dir(&config.data_dir)?;
        dotpha_ingest::standby(config, lock, IngestMetrics::default(), shutdown).await
    }

    /// `dotpha project`: the projection worker until `shutdown`.
    pub async fn project(&self, shutdown: watch::Receiver<bool>) -> Result<(), ProjectError> {
        dotpha_project::run(
            self.project_config(),
            ProjectMetrics::default(),
            dotpha_project::Health::default(),
            shutdown,
        )
        .await
    }

    /// The tokens the settings name (none when nobody acts).
    pub fn tokens(&self) -> Result<Tokens, AppError> {
        let (path, closed) = match &self.settings.access {
            Access::Open => return Ok(Tokens::default()),
            Access::Tokens(path) => (path, false),
            Access::Closed(path) => (path, true),
        };
        let text = std::fs::read_to_string(path).map_err(|source| AppError::ReadTokens {
            path: path.clone(),
            source,
        })?;
        Tokens::parse(&text, closed).map_err(|source| AppError::Tokens {
            path: path.clone(),
            source,
        })
    }

    /// A publisher on the settings' NATS, as `client` (waiting for the
    /// server when it is not up yet).
    pub async fn publisher(&self, client: &str) -> Result<Publisher, BusError> {
        let connection = dotpha_bus::connect(&self.settings.nats, client, true).await?;
        Ok(Publisher::new(connection, PublisherOptions::default()))
    }

    /// The HTTP server's state over this data directory.
    pub fn http_state(
        &self,
        publisher: Option<Publisher>,
        registry: Registry,
        health: Option<dotpha_project::Health>,
        tokens: Tokens,
    ) -> AppState {
        AppState::new(
            self.settings.data.path().to_owned(),
            self.settings.name.clone(),
            publisher,
            registry,
            health,
            tokens,
        )
        .with_clock(self.clock.clone())
    }

    /// `dotpha serve`: the HTTP API and the page on `listener` until
    /// `shutdown`.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), AppError> {
        let tokens = self.tokens()?;
        let publisher = self.publisher("dotpha-serve").await?;
        let state = self.http_state(Some(publisher), Registry::default(), None, tokens);
        dotpha_http::serve(listener, state, shutdown)
            .await
            .map_err(AppError::Http)
    }

    /// Everything in one process (`dotpha up`, and the tests of the whole
    /// system): takes the data directory's writer lock, then [`App::start_locked`].
    pub async fn start(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Running, AppError> {
        let lock = self.settings.data.lock()?;
        self.start_locked(lock, listener, shutdown).await
    }

    /// Everything in one process, under a lock already taken: prepares the
    /// writer (what keeps it from starting fails here, before anything
    /// runs: another writer on this NATS, streams carrying another log,
    /// shutdown asked for meanwhile), then runs the writer, the projection
    /// worker `main` beside it, and the HTTP server on `listener`, each
    /// reporting to `/healthz`.
    pub async fn start_locked(
        &self,
        lock: DataDirLock,
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Running, AppError> {
        let mut registry = Registry::default();
        let ingest_metrics = IngestMetrics::default();
        ingest_metrics.register(&mut registry);
        let project_metrics = ProjectMetrics::default();
        project_metrics.register(&mut registry);
        let health = dotpha_project::Health::default();
        let parts = dotpha_ingest::Health::default();
        let http_part = parts.part("http");
        let (head, writer) = if self.standby {
            // A standby has nothing to refuse before it runs: it waits for
            // the lease however long, and says its role on /healthz.
            let head = self
                .settings
                .data
                .log()
                .map_or(0, |log| log.head().position);
            let standby = dotpha_ingest::standby(
                self.ingest_config(parts.clone()),
                lock,
                ingest_metrics,
                shutdown.clone(),
            );
            (head, tokio::spawn(standby))
        } else {
            let prepared =
                dotpha_ingest::prepare(self.ingest_config(parts.clone()), lock, shutdown.clone())
                    .await?;
            let head = prepared.head();
            let serve = dotpha_ingest::serve(prepared, ingest_metrics, shutdown.clone());
            (head, tokio::spawn(serve))
        };
        let projector = tokio::spawn(dotpha_project::run(
            self.project_config(),
            project_metrics,
            health.clone(),
            shutdown.clone(),
        ));
        let publisher = self.publisher("dotpha-up").await?;
        let state = self
            .http_state(
                Some(publisher.clone()),
                registry,
                Some(health),
                self.tokens()?,
            )
            .with_parts(parts);
        let server = tokio::spawn(async move {
            http_part.running();
            let served = dotpha_http::serve(listener, state, shutdown).await;
            match &served {
                Ok(()) => http_part.stopped(),
                Err(error) => {
                    tracing::error!(%error, "the HTTP server stopped");
                    http_part.failed(error);
                }
            }
            served
        });
        Ok(Running {
            head,
            publisher,
            writer,
            projector,
            server,
        })
    }
}

/// The system running in this process ([`App::start`]).
#[derive(Debug)]
pub struct Running {
    /// The log's head when the writer started.
    pub head: u64,
    /// A publisher on the system's NATS.
    pub publisher: Publisher,
    writer: JoinHandle<Result<(), IngestError>>,
    projector: JoinHandle<Result<(), ProjectError>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Waits for the writer, the worker and the HTTP server to stop (after
    /// shutdown), and says the first that failed.
    pub async fn wait(self) -> Result<(), AppError> {
        let task = |what| move |source| AppError::Task { what, source };
        let (writer, projector, server) = tokio::join!(self.writer, self.projector, self.server);
        writer.map_err(task("writer"))??;
        projector.map_err(task("projection"))??;
        server.map_err(task("HTTP"))?.map_err(AppError::Http)?;
        Ok(())
    }
}
