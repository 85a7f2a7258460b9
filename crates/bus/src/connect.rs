//! Connecting, with the connection's events turned into something a caller
//! can wait on: NATS reports a refused publish only through the connection's
//! event callback, never through the publish call.

use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use tokio::sync::watch;

use crate::setup::BusError;

/// A client and what its connection has reported.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The last permission violation the server reported, if any.
    pub permission_errors: watch::Receiver<Option<String>>,
    /// How many times the connection was (re)established. It changes when
    /// the client moved to another server (its server died): whatever was
    /// pending there, such as a pull request, may be gone.
    pub connects: watch::Receiver<u64>,
}

impl Connection {
    /// A JetStream context on this connection.
    pub fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.client.clone())
    }
}

/// How long a request to the server (stream info, consumer create) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` (comma-separated for several servers) as `name`. With
/// `wait_for_server`, the first connection is retried too (a service started
/// before its NATS waits for it); without, an absent server is an error at
/// once (a command-line publisher should say so, not hang).
pub async fn connect(url: &str, name: &str, wait_for_server: bool) -> Result<Connection, BusError> {
    connect_with_inbox(url, name, wait_for_server, None).await
}

/// [`connect`], with replies to this client's requests coming to
/// `inbox_prefix` (when given) instead of the user's own prefix.
pub(crate) async fn connect_with_inbox(
    url: &str,
    name: &str,
    wait_for_server: bool,
    inbox_prefix: Option<String>,
) -> Result<Connection, BusError> {
    let (sender, permission_errors) = watch::channel(None);
    let (connected, connects) = watch::channel(0u64);
    let servers = url
        .split(',')
        .map(|s| s.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BusError::Config(format!("NATS URL {url:?}: {e}")))?;
    let mut options = ConnectOptions::new().name(name);
    // A commune's user may subscribe only under its own inbox prefix (so it
    // cannot read other communes' replies): `_INBOX_<user>`, as
    // `dotpha nats-config` grants it.
    if let Some(user) = servers.first().and_then(|s| s.username())
        && dotpha_domain::Slug::parse(user).is_some()
    {
        options = options.custom_inbox_prefix(format!("_INBOX_{user}"));
    }
    if let Some(prefix) = inbox_prefix {
        options = options.custom_inbox_prefix(prefix);
    }
    // async-nats does not take credentials from the URL by itself.
    if let Some(server) = servers.first()
        && let (Some(user), Some(password)) = (server.username(), server.password())
    {
        options = options.user_and_password(user.to_owned(), password.to_owned());
    }
    if wait_for_server {
        options = options.retry_on_initial_connect();
    }
    let client = options
        .request_timeout(Some(REQUEST_TIMEOUT))
        .event_callback(move |event| {
            let sender = sender.clone();
            let connected = connected.clone();
            async move {
                match &event {
                    Event::ServerError(error) => {
                        let text = error.to_string();
                        if text.to_lowercase().contains("permissions violation") {
                            let _ = sender.send(Some(text.clone()));
                        }
                        tracing::warn!(%text, "NATS server error");
                    }
                    Event::Disconnected => tracing::warn!("NATS disconnected; reconnecting"),
                    Event::Connected => {
                        connected.send_modify(|n| *n += 1);
                        tracing::info!("NATS connected");
                    }
                    other => tracing::debug!(event = %other, "NATS event"),
                }
            }
        })
        .connect(servers)
        .await
        .map_err(|e| BusError::Nats(format!("connecting to {url}: {e}")))?;
    Ok(Connection {
        client,
        permission_errors,
        connects,
    })
}
