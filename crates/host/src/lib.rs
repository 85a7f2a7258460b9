//! What a dotpha service is given by the machine it runs on: its data
//! directory ([`DataDir`]: every file's path and how each is opened, in one
//! place) and the time ([`Clock`]).
//!
//! A data directory holds:
//!
//! | file | what | who writes it |
//! |---|---|---|
//! | `log.sqlite` | the log | the writer (`dotpha ingest`) |
//! | `writer.lock`, `writer.id` | the writer's lock and its lease owner id | the writer |
//! | `read.sqlite` → `read.<n>.sqlite` | the `main` worker's read model ([`files`]) | the projection worker |
//! | `read-<name>.sqlite` → … | worker `name`'s read model | that worker |
//! | `project-<name>.lock` | a worker's lock | that worker |
//! | `log.key`, `log.vkey` | the log's signing key and its public half | the writer |
//! | `tokens.json` | the demo's tokens | `dotpha up` |
//! | `nats/` | the JetStream store of a nats-server `dotpha up` started | nats-server |

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod clock;
pub mod files;
pub mod secret;

use std::{
    fmt,
    fs::File,
    path::{Path, PathBuf},
};

pub use clock::{Clock, FixedClock, ManualClock, SharedClock, SystemClock};
use dotpha_store::{Ledger, Log, StoreError};
use dotpha_views::{ReadModel, ViewError};

/// The default worker's name.
pub const MAIN: &str = "main";

/// A data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

/// What kind of failure a [`DataDirError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataDirErrorKind {
    /// Another process holds the lock asked for.
    Locked,
    /// A file or the directory cannot be made, read or written.
    Io,
    /// The log refused to open.
    Log,
    /// The read model refused to open.
    ReadModel,
}

/// A data directory that cannot be used: its kind, the message, and the
/// error below kept as the source.
#[derive(Debug)]
pub struct DataDirError {
    kind: DataDirErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DataDirError {
    fn io(path: &Path, doing: &str, source: std::io::Error) -> DataDirError {
        DataDirError {
            kind: DataDirErrorKind::Io,
            message: format!("{}: {doing}", path.display()),
            source: Some(Box::new(source)),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> DataDirErrorKind {
        self.kind
    }
}

impl fmt::Display for DataDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (&self.source, self.kind) {
            (Some(source), DataDirErrorKind::Io) => write!(f, ": {source}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for DataDirError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| source.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<StoreError> for DataDirError {
    fn from(error: StoreError) -> DataDirError {
        DataDirError {
            kind: DataDirErrorKind::Log,
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

impl From<ViewError> for DataDirError {
    fn from(error: ViewError) -> DataDirError {
        DataDirError {
            kind: DataDirErrorKind::ReadModel,
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

impl DataDir {
    /// The data directory at `root` (nothing is made or opened yet).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Makes the directory when it is missing and checks that this process
    /// may write in it.
    pub fn create(&self) -> Result<(), DataDirError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| DataDirError::io(&self.root, "cannot create the data directory", e))?;
        let probe = self.root.join(".write-test");
        std::fs::write(&probe, b"")
            .map_err(|e| DataDirError::io(&self.root, "the data directory is not writable", e))?;
        let _ = std::fs::remove_file(&probe);
        Ok(())
    }

    /// `DIR/log.sqlite`.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("log.sqlite")
    }

    /// The log, read-only (readers, `verify`, `audit`, `backup`).
    pub fn log(&self) -> Result<Log, DataDirError> {
        Ok(Log::open_read_only(self.log_path())?)
    }

    /// The log with its state, for writing (the writer; made when missing).
    pub fn ledger(&self) -> Result<Ledger, DataDirError> {
        Ok(Ledger::open(self.log_path())?)
    }

    /// The link to worker `name`'s current read model (`read.sqlite` for
    /// `main`).
    pub fn read_model_link(&self, name: &str) -> PathBuf {
        files::link(&self.root, &files::base_for(name))
    }

    /// The generation file worker `name`'s read model is now (made, empty,
    /// when there is none yet).
    pub fn read_model_file(&self, name: &str) -> Result<PathBuf, DataDirError> {
        files::current(&self.root, &files::base_for(name)).map_err(|e| {
            DataDirError::io(&self.read_model_link(name), "cannot find the read model", e)
        })
    }

    /// Worker `name`'s current read model, read-only (the HTTP server).
    pub fn read_model(&self, name: &str) -> Result<ReadModel, DataDirError> {
        Ok(ReadModel::open_read_only(self.read_model_file(name)?)?)
    }

    /// The writer's lock on this directory, held for as long as the
    /// returned value lives: a second writer on the same log refuses to
    /// start ([`DataDirErrorKind::Locked`]).
    pub fn lock(&self) -> Result<DataDirLock, DataDirError> {
        let file = self.try_lock(
            "writer.lock",
            format!(
                "another dotpha writer is running on {} (its lock file is held); only one writer may own a log",
                self.root.display()
            ),
        )?;
        Ok(DataDirLock {
            _file: file,
            dir: self.clone(),
        })
    }

    /// Worker `name`'s lock (`DIR/project-<name>.lock`), held for as long
    /// as the returned file lives: two workers of one name on one data
    /// directory would write one read model.
    pub fn lock_worker(&self, name: &str) -> Result<File, DataDirError> {
        self.try_lock(
            &format!("project-{name}.lock"),
            format!(
                "another projection worker named {name:?} is running on {}; give each worker on a data directory its own --name",
                self.root.display()
            ),
        )
    }

    fn try_lock(&self, file_name: &str, held: String) -> Result<File, DataDirError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| DataDirError::io(&self.root, "cannot create it", e))?;
        let path = self.root.join(file_name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| DataDirError::io(&path, "cannot open it", e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError {
                kind: DataDirErrorKind::Locked,
                message: held,
                source: None,
            }),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(DataDirError::io(&path, "cannot lock it", e))
            }
        }
    }

    /// `DIR/tokens.json`, the demo's tokens.
    pub fn tokens_path(&self) -> PathBuf {
        self.root.join("tokens.json")
    }

    /// `DIR/nats`, the store of a nats-server started by `dotpha up`.
    pub fn nats_store(&self) -> PathBuf {
        self.root.join("nats")
    }
}

/// The writer's lock on a data directory ([`DataDir::lock`]).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    dir: DataDir,
}

impl DataDirLock {
    /// The directory locked.
    pub fn dir(&self) -> &DataDir {
        &self.dir
    }

    /// The id of the writer of this directory, kept in `DIR/writer.id`
    /// (made once): only the holder of this lock may use it, so a lease
    /// held under it by another process belongs to a process that is gone.
    pub fn writer_id(&self) -> Result<String, DataDirError> {
        let path = self.dir.root.join("writer.id");
        match std::fs::read_to_string(&path) {
            Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
            _ => {
                let id = nuid::next().to_string();
                std::fs::write(&path, &id)
                    .map_err(|e| DataDirError::io(&path, "cannot write it", e))?;
                Ok(id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_lock_is_refused_and_the_first_released_on_drop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::new(dir.path().join("data"));
        let first = data.lock().expect("the first takes it");
        let second = data.lock().expect_err("refused");
        assert_eq!(second.kind(), DataDirErrorKind::Locked);
        assert!(
            second.to_string().contains("another dotpha writer"),
            "{second}"
        );
        let id = first.writer_id().expect("made");
        assert_eq!(first.writer_id().expect("kept"), id);
        drop(first);
        data.lock().expect("free again");
    }

    #[test]
    fn an_unusable_directory_keeps_the_io_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").expect("write");
        let error = DataDir::new(file.join("below"))
            .create()
            .expect_err("not a dir");
        assert_eq!(error.kind(), DataDirErrorKind::Io);
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn read_models_are_named_by_their_worker() {
        let data = DataDir::new("/d");
        assert_eq!(data.read_model_link(MAIN), Path::new("/d/read.sqlite"));
        assert_eq!(data.read_model_link("web"), Path::new("/d/read-web.sqlite"));
        assert_eq!(data.log_path(), Path::new("/d/log.sqlite"));
    }
}
