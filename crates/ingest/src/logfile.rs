//! A log handle a task of the write side keeps for itself (the checkpointer,
//! the cosignature collector, the proof service), opened on first use and
//! used on blocking threads one call at a time.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use dotpha_store::{Log, StoreError};

/// One task's own connection to the log file.
#[derive(Clone)]
pub(crate) struct SharedLog {
    path: PathBuf,
    log: Arc<Mutex<Option<Log>>>,
    writable: bool,
}

/// Why a call on the log failed.
#[derive(Debug)]
pub(crate) enum Failed {
    /// The store said no (a bad request, a size beyond the log, SQLite).
    Store(StoreError),
    /// The handle or the blocking task failed.
    Task(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Store(e) => write!(f, "{e}"),
            Failed::Task(e) => write!(f, "{e}"),
        }
    }
}

impl SharedLog {
    /// A handle on the log at `path`, writable or read-only.
    pub(crate) fn new(path: PathBuf, writable: bool) -> SharedLog {
        SharedLog {
            path,
            log: Arc::new(Mutex::new(None)),
            writable,
        }
    }

    /// Runs `f` with the log on a blocking thread.
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Log) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Failed> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = this
                .log
                .lock()
                .map_err(|_| Failed::Task("a log handle was poisoned".to_owned()))?;
            if guard.is_none() {
                let opened = if this.writable {
                    Log::open(&this.path)
                } else {
                    Log::open_read_only(&this.path)
                };
                *guard = Some(opened.map_err(Failed::Store)?);
            }
            match guard.as_ref() {
                Some(log) => f(log).map_err(Failed::Store),
                None => Err(Failed::Task("no log".to_owned())),
            }
        })
        .await
        .map_err(|e| Failed::Task(e.to_string()))?
    }
}
