//! Private key files: made once, owner-only (mode 0600), never rewritten.
//! A key file others may read is refused rather than used, since whoever
//! reads it can sign as the log (or the witness).

use std::{
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use crate::{
    cosign::Cosigner,
    note::{LogKey, NoteError},
};

/// The log's key file inside a data directory.
pub const LOG_KEY_FILE: &str = "log.key";
/// The log's verifier key (public), beside it, for whoever serves it.
pub const LOG_VERIFIER_KEY_FILE: &str = "log.vkey";

/// What can go wrong with a key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Group or others may read or write the key.
    #[error(
        "{path} may be read by others (mode {mode:o}); a private key must be owner-only: chmod 600 {path}"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a key of the expected kind.
    #[error("{path}: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: NoteError,
    },
    /// The log's key is named for another origin than the setting says.
    #[error(
        "{path} is the key of origin {key:?} but the origin setting is {setting:?}: a log keeps its origin for life (witnesses know it by it); remove the origin setting or set it to {key:?}"
    )]
    OriginMismatch {
        /// The key file.
        path: PathBuf,
        /// The key's name.
        key: String,
        /// The setting.
        setting: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads an owner-only file.
pub fn read_private(path: &Path) -> Result<String, KeyFileError> {
    let metadata = std::fs::metadata(path).map_err(io(path))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    std::fs::read_to_string(path).map_err(io(path))
}

/// Writes a new owner-only file (never replacing one), and makes it
/// durable before returning.
pub fn write_private(path: &Path, text: &str) -> Result<(), KeyFileError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))?;
    file.write_all(b"\n").map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// Writes the verifier key file beside the key when it is missing or says
/// something else.
fn publish_verifier_key(data_dir: &Path, key: &LogKey) -> Result<(), KeyFileError> {
    let path = data_dir.join(LOG_VERIFIER_KEY_FILE);
    let line = format!("{}\n", key.verifier_key());
    if std::fs::read_to_string(&path).ok().as_deref() == Some(line.as_str()) {
        return Ok(());
    }
    let temporary = data_dir.join(format!("{LOG_VERIFIER_KEY_FILE}.new"));
    std::fs::write(&temporary, &line).map_err(io(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io(&path))
}

/// The log's verifier key as `log_key` left it in `data_dir` (for a
/// server that must not read the private key); `None` before the first
/// start.
pub fn read_verifier_key(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join(LOG_VERIFIER_KEY_FILE))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The log's key in `data_dir`, made on first use and named `origin`
/// (or, when no origin is set, `default_origin`). An existing key whose
/// name is not the set origin is an error. Returns the key and whether it
/// was made now.
pub fn log_key(
    data_dir: &Path,
    origin: Option<&str>,
    default_origin: &str,
) -> Result<(LogKey, bool), KeyFileError> {
    let path = data_dir.join(LOG_KEY_FILE);
    let malformed = |source| KeyFileError::Malformed {
        path: path.clone(),
        source,
    };
    if path.exists() {
        let key = LogKey::from_private(&read_private(&path)?).map_err(malformed)?;
        if let Some(origin) = origin
            && origin != key.name()
        {
            return Err(KeyFileError::OriginMismatch {
                path,
                key: key.name().to_owned(),
                setting: origin.to_owned(),
            });
        }
        publish_verifier_key(data_dir, &key)?;
        return Ok((key, false));
    }
    let (key, private) = LogKey::generate(origin.unwrap_or(default_origin)).map_err(malformed)?;
    write_private(&path, &private)?;
    publish_verifier_key(data_dir, &key)?;
    Ok((key, true))
}

/// A witness's key from `path`; made and named `name` when the file does
/// not exist and a name is given.
pub fn witness_key(path: &Path, name: Option<&str>) -> Result<(Cosigner, bool), KeyFileError> {
    let malformed = |source| KeyFileError::Malformed {
        path: path.to_owned(),
        source,
    };
    if path.exists() || name.is_none() {
        let key = Cosigner::from_private(&read_private(path)?).map_err(malformed)?;
        return Ok((key, false));
    }
    let (key, private) = Cosigner::generate(name.unwrap_or_default()).map_err(malformed)?;
    write_private(path, &private)?;
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_key_is_made_once_owner_only_and_keeps_its_origin() {
        let dir = tempfile::tempdir().expect("dir");
        let (key, made) = log_key(dir.path(), None, "default.example/log").expect("made");
        assert!(made);
        assert_eq!(key.name(), "default.example/log");
        let mode = std::fs::metadata(dir.path().join(LOG_KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, made) = log_key(dir.path(), Some("default.example/log"), "x").expect("read");
        assert!(!made);
        assert_eq!(again.verifier_key(), key.verifier_key());
        assert_eq!(
            read_verifier_key(dir.path()).as_deref(),
            Some(key.verifier_key())
        );
        assert!(matches!(
            log_key(dir.path(), Some("other.example/log"), "x"),
            Err(KeyFileError::OriginMismatch { .. })
        ));
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        log_key(dir.path(), None, "a.example/log").expect("made");
        let path = dir.path().join(LOG_KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            log_key(dir.path(), None, "a.example/log"),
            Err(KeyFileError::Exposed { .. })
        ));
    }
}
