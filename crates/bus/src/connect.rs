//! Connecting, with the connection's events turned into something a caller
//! can wait on: NATS reports a refused publish only through the connection's
//! event callback, never through the publish call.

use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use tokio::{io::AsyncReadExt, sync::watch};

use crate::BusError;

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
    let shown = without_credentials(url);
    let (sender, permission_errors) = watch::channel(None);
    let (connected, connects) = watch::channel(0u64);
    let servers = url
        .split(',')
        .map(|s| s.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BusError::config(format!("NATS URL {url:?}: {e}")))?;
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
            let nats = shown.clone();
            async move {
                match &event {
                    Event::ServerError(error) => {
                        let text = error.to_string();
                        if text.to_lowercase().contains("permissions violation") {
                            let _ = sender.send(Some(text.clone()));
                        }
                        tracing::warn!(%nats, %text, "NATS server error");
                    }
                    Event::Disconnected => tracing::warn!(%nats, "NATS disconnected; reconnecting"),
                    Event::Connected => {
                        connected.send_modify(|n| *n += 1);
                        tracing::info!(%nats, "NATS connected");
                    }
                    Event::ClientError(error) => {
                        tracing::warn!(%nats, %error, "NATS client error");
                    }
                    other => tracing::debug!(%nats, event = %other, "NATS event"),
                }
            }
        })
        .connect(servers)
        .await
        .map_err(|e| BusError::nats(format!("connecting to {}", without_credentials(url)), e))?;
    Ok(Connection {
        client,
        permission_errors,
        connects,
    })
}

/// How long a probe waits for a server's greeting. A NATS server sends its
/// `INFO` line as soon as a client connects.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What answers at a NATS server address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A NATS server (it greeted with `INFO`).
    Nats,
    /// Nothing accepts connections there (the reason, e.g. "connection
    /// refused").
    Nothing(String),
    /// Something accepts connections but is not a NATS server: what it
    /// said, or that it said nothing.
    NotNats(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Nats => f.write_str("a NATS server answers"),
            Probe::Nothing(why) => write!(f, "nothing answers ({why})"),
            Probe::NotNats(said) => write!(
                f,
                "something answers but it is not a NATS server ({said}: an HTTP port?)"
            ),
        }
    }
}

/// Connects to `address` and reads its greeting: tells a NATS server from
/// nothing at all and from something else (an HTTP server, which waits for
/// a request and says nothing, or answers garbage with an error).
pub async fn probe(address: std::net::SocketAddr) -> Probe {
    let connected =
        tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(address)).await;
    let mut stream = match connected {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Probe::Nothing(error.to_string()),
        Err(_) => return Probe::Nothing(format!("no connection within {PROBE_TIMEOUT:?}")),
    };
    let mut greeting = vec![0u8; 256];
    let mut read = 0;
    let deadline = tokio::time::Instant::now() + PROBE_TIMEOUT;
    while read < 5 {
        match tokio::time::timeout_at(deadline, stream.read(&mut greeting[read..])).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => read += n,
            Ok(Err(error)) => return Probe::NotNats(format!("the connection failed: {error}")),
        }
    }
    let said = String::from_utf8_lossy(&greeting[..read]);
    if said.starts_with("INFO ") || said.starts_with("INFO\t") {
        return Probe::Nats;
    }
    let first_line: String = said
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    Probe::NotNats(if first_line.is_empty() {
        format!("it sent no greeting within {PROBE_TIMEOUT:?}, and a NATS server greets at once")
    } else {
        format!("it greeted with {first_line:?}")
    })
}

/// The servers `url` lists (`nats://host:port`, comma-separated; the port
/// defaults to 4222), each as its URL without credentials and its socket
/// address.
pub fn addresses(url: &str) -> Result<Vec<(String, std::net::SocketAddr)>, BusError> {
    use std::net::ToSocketAddrs;
    let mut out = Vec::new();
    for one in url.split(',') {
        let one = one.trim();
        let host_port = one.split_once("://").map_or(one, |(_, rest)| rest);
        let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
        let host_port = host_port.split('/').next().unwrap_or(host_port);
        let with_port = if host_port
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host_port.to_owned()
        } else {
            format!("{host_port}:4222")
        };
        let address = with_port
            .to_socket_addrs()
            .map_err(|e| {
                BusError::config(format!("NATS URL {url:?}: cannot resolve {with_port}: {e}"))
            })?
            .next()
            .ok_or_else(|| {
                BusError::config(format!("NATS URL {url:?}: {with_port} has no address"))
            })?;
        let scheme = one.split_once("://").map_or("nats", |(scheme, _)| scheme);
        out.push((format!("{scheme}://{with_port}"), address));
    }
    Ok(out)
}

/// Waits until a NATS server answers at one of `url`'s addresses, saying at
/// warning level what is there instead (naming the address) and retrying
/// with capped backoff; `Err` when `shutdown` turns true first. A service
/// started before its NATS waits here, and says so, instead of retrying
/// silently inside the client.
pub async fn wait_for_nats(
    url: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), BusError> {
    let servers = addresses(url)?;
    let mut delay = Duration::from_millis(200);
    let mut said = None;
    loop {
        let mut seen = Vec::new();
        for (name, address) in &servers {
            match probe(*address).await {
                Probe::Nats => {
                    if said.is_some() {
                        tracing::info!(nats = %name, "a NATS server answers now");
                    }
                    return Ok(());
                }
                other => seen.push(format!("{name}: {other}")),
            }
        }
        let now = seen.join("; ");
        if *shutdown.borrow() {
            return Err(BusError::new(
                crate::BusErrorKind::Stopped,
                format!("stopped while waiting for NATS: {now}"),
            ));
        }
        // Said once per change, then every so often, not at every retry.
        if said.as_deref() != Some(now.as_str()) || delay >= Duration::from_secs(5) {
            tracing::warn!(nats = %now, retry_in = ?delay, "waiting for NATS");
            said = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// `url` (comma-separated servers) without user names and passwords, for
/// messages and logs.
pub fn without_credentials(url: &str) -> String {
    url.split(',')
        .map(|one| {
            let one = one.trim();
            match (one.split_once("://"), one.rsplit_once('@')) {
                (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{host}"),
                (None, Some((_, host))) => host.to_owned(),
                _ => one.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
