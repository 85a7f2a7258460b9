//! A real `nats-server` for a test: JetStream on, a free loopback port, its
//! own store in a temporary directory; killed on drop. Tests kill and restart
//! it (same port, same store) to prove recovery.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How long a server may take to accept connections after starting.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running (or stopped) nats-server owned by one test.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
    config: Option<PathBuf>,
}

/// A free TCP port on 127.0.0.1 (the OS picks it; it stays free briefly).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out a free loopback port")
}

impl NatsServer {
    /// Starts a server with JetStream on a free loopback port.
    pub fn start() -> NatsServer {
        let mut server = NatsServer {
            child: None,
            port: free_port(),
            store: tempfile::tempdir().expect("a temp dir for the JetStream store"),
            config: None,
        };
        server.restart();
        server
    }

    /// Starts a server from a configuration file (which must set JetStream,
    /// `listen` on this server's port, and `store_dir`). `write_config` is
    /// given the port and the store directory.
    pub fn start_with_config(write_config: impl FnOnce(u16, &Path) -> String) -> NatsServer {
        let store = tempfile::tempdir().expect("a temp dir for the JetStream store");
        let port = free_port();
        let text = write_config(port, store.path());
        let path = store.path().join("nats.conf");
        std::fs::write(&path, text).expect("write the nats config");
        let mut server = NatsServer {
            child: None,
            port,
            store,
            config: Some(path),
        };
        server.restart();
        server
    }

    /// The client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// Kills the server with SIGKILL (no goodbye to clients) and waits.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("nats-server");
        match &self.config {
            Some(config) => command.arg("-c").arg(config),
            None => command
                .args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-js",
                    "-sd",
                ])
                .arg(self.store.path()),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is on PATH (.ci/run installs Debian's nats-server)");
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "nats-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
