//! The bus's error: what went wrong, as a kind callers can match
//! ([`BusError::kind`]), what dotpha was doing, and the error the client or
//! the system gave, kept as the [`std::error::Error::source`] (in the manner
//! of async-nats's own `Error<Kind>`).

use std::fmt;

/// A boxed error from below (async-nats, the resolver, serde).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure a [`BusError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusErrorKind {
    /// A setting is wrong (a URL, a replica count), or the server did not
    /// keep what was asked: waiting will not fix it.
    Config,
    /// The server or the connection failed: trying again may.
    Nats,
    /// Shutdown was asked for while waiting.
    Stopped,
}

impl fmt::Display for BusErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BusErrorKind::Config => "NATS configuration",
            BusErrorKind::Nats | BusErrorKind::Stopped => "NATS",
        })
    }
}

/// What can go wrong on the bus: `"<kind>: <what dotpha was doing>: <the
/// source>"`.
#[derive(Debug)]
pub struct BusError {
    kind: BusErrorKind,
    context: String,
    source: Option<Source>,
}

impl BusError {
    /// An error of `kind` while doing `context`, caused by `source`.
    pub fn with_source(
        kind: BusErrorKind,
        context: impl Into<String>,
        source: impl Into<Source>,
    ) -> BusError {
        BusError {
            kind,
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// An error of `kind`, fully said by `context`.
    pub fn new(kind: BusErrorKind, context: impl Into<String>) -> BusError {
        BusError {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// A wrong setting, or one the server did not keep.
    pub fn config(context: impl Into<String>) -> BusError {
        BusError::new(BusErrorKind::Config, context)
    }

    /// The server or the connection failed while doing `context`.
    pub fn nats(context: impl Into<String>, source: impl Into<Source>) -> BusError {
        BusError::with_source(BusErrorKind::Nats, context, source)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> BusErrorKind {
        self.kind
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.context)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| source.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_kept_and_said() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = BusError::nats("connecting to nats://127.0.0.1:4222", io);
        assert_eq!(error.kind(), BusErrorKind::Nats);
        assert_eq!(
            error.to_string(),
            "NATS: connecting to nats://127.0.0.1:4222: refused"
        );
        let source = std::error::Error::source(&error).expect("kept");
        assert_eq!(
            source
                .downcast_ref::<std::io::Error>()
                .expect("the io error")
                .kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        let config = BusError::config("3 stream replicas on one server");
        assert_eq!(config.kind(), BusErrorKind::Config);
        assert!(std::error::Error::source(&config).is_none());
    }
}
