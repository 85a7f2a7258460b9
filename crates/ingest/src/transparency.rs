//! The write side's part of CONTRACT.md part B: which log it is (its origin
//! and key) and which witnesses' cosignatures it keeps.

use std::path::Path;

use dotpha_tlog::{CosignatureVerifier, LogKey, NoteError, keyfile::KeyFileError};

/// The origin and witnesses settings.
#[derive(Clone, Debug, Default)]
pub struct Transparency {
    /// The checkpoints' origin line, naming the deployment (e.g.
    /// `son-duong.tuyenquang.gov.vn/dotpha`). Unset: the existing key's
    /// name, or [`default_origin`] for a new key.
    pub origin: Option<String>,
    /// Verifier keys of the witnesses whose cosignatures the log keeps.
    pub witnesses: Vec<String>,
}

/// What is wrong with the keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The log's key file.
    #[error(transparent)]
    File(#[from] KeyFileError),
    /// A key given in the settings.
    #[error("{0}")]
    Note(NoteError),
}

/// The origin of a log whose operator set none: `<host name>/dotpha`.
pub fn default_origin() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };
    format!("{host}/dotpha")
}

/// The log's key in `data_dir`, made (owner-only) on first use.
pub fn log_key(data_dir: &Path, transparency: &Transparency) -> Result<LogKey, KeyError> {
    if let Some(origin) = &transparency.origin
        && !dotpha_tlog::note::is_valid_name(origin)
    {
        return Err(KeyError::Note(NoteError::Key(format!(
            "origin {origin:?}: an origin is non-empty, without spaces or '+'"
        ))));
    }
    let (key, made) =
        dotpha_tlog::keyfile::log_key(data_dir, transparency.origin.as_deref(), &default_origin())?;
    if made {
        tracing::info!(
            origin = key.name(),
            verifier_key = key.verifier_key(),
            "made the log's signing key ({}); give its verifier key to witnesses and inspectors",
            data_dir.join(dotpha_tlog::keyfile::LOG_KEY_FILE).display()
        );
    }
    Ok(key)
}

/// The log's key and the witnesses' verifiers, checked before anything
/// starts.
pub(crate) fn load(
    data_dir: &Path,
    transparency: &Transparency,
) -> Result<(LogKey, Vec<CosignatureVerifier>), KeyError> {
    let key = log_key(data_dir, transparency)?;
    let witnesses = transparency
        .witnesses
        .iter()
        .map(|vkey| CosignatureVerifier::new(vkey).map_err(KeyError::Note))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((key, witnesses))
}
