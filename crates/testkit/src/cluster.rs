//! A 3-node nats-server cluster for a test, started from the configuration
//! files committed in `deploy/nats/cluster/` (so what operators are given
//! is what the suite runs): each node's example ports are replaced by free
//! loopback ports and its `store_dir` by a temporary directory; nothing
//! else in the files is touched. Nodes are killed (SIGKILL) and restarted
//! by index, keeping their ports and stores.

use std::{
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::nats::free_port;

/// How long a node may take to accept connections after starting.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the cluster may take to elect its JetStream meta leader.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The committed node files, in node order.
pub const NODE_FILES: [&str; 3] = ["node-a.conf", "node-b.conf", "node-c.conf"];
/// The example client ports in the committed files, in node order.
pub const EXAMPLE_CLIENT_PORTS: [u16; 3] = [4222, 4223, 4224];
/// The example cluster (route) ports in the committed files, in node order.
pub const EXAMPLE_CLUSTER_PORTS: [u16; 3] = [6222, 6223, 6224];

/// Where the committed cluster configuration lives.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/cluster")
}

/// `text` (a committed node file) with every `127.0.0.1:<example port>`
/// replaced by the matching entry of `client`/`cluster`, and its
/// `store_dir` by `store`. Panics when the file does not have the shape the
/// substitution relies on (its own client and cluster `listen`, a route to
/// every node, one `store_dir`), so an edit to the committed files that
/// would leave them untested fails here instead.
pub fn rewrite(
    text: &str,
    node: usize,
    client: [u16; 3],
    cluster: [u16; 3],
    store: &Path,
) -> String {
    let own_client = format!("listen: \"127.0.0.1:{}\"", EXAMPLE_CLIENT_PORTS[node]);
    let own_cluster = format!("listen: \"127.0.0.1:{}\"", EXAMPLE_CLUSTER_PORTS[node]);
    assert!(
        text.contains(&own_client) && text.contains(&own_cluster),
        "{}: expected `{own_client}` and `{own_cluster}`",
        NODE_FILES[node]
    );
    for port in EXAMPLE_CLUSTER_PORTS {
        let route = format!("\"nats-route://127.0.0.1:{port}\"");
        assert!(
            text.contains(&route),
            "{}: expected a route {route}",
            NODE_FILES[node]
        );
    }
    let mut out = String::with_capacity(text.len());
    let mut store_dirs = 0;
    for line in text.lines() {
        if line.trim_start().starts_with("store_dir:") {
            store_dirs += 1;
            out.push_str(&format!("  store_dir: {:?}\n", store.display().to_string()));
            continue;
        }
        let mut line = line.to_owned();
        if !line.trim_start().starts_with('#') {
            for (from, to) in EXAMPLE_CLIENT_PORTS
                .iter()
                .zip(client)
                .chain(EXAMPLE_CLUSTER_PORTS.iter().zip(cluster))
            {
                line = line.replace(&format!("127.0.0.1:{from}\""), &format!("127.0.0.1:{to}\""));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    assert_eq!(store_dirs, 1, "{}: one store_dir", NODE_FILES[node]);
    out
}

/// One node: its process (when running), client port, store and the
/// rewritten configuration file.
#[derive(Debug)]
struct Node {
    child: Option<Child>,
    port: u16,
    config: PathBuf,
}

/// Three nats-servers clustered on loopback, killed on drop.
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts the three nodes from the committed files and waits until each
    /// accepts connections (not yet until JetStream is ready: see
    /// [`Cluster::wait_ready`]).
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("a temp dir for the cluster");
        let client = [free_port(), free_port(), free_port()];
        let cluster = [free_port(), free_port(), free_port()];
        let mut nodes = Vec::new();
        for (i, file) in NODE_FILES.iter().enumerate() {
            let path = deploy_dir().join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let store = dir.path().join(format!("store-{i}"));
            std::fs::create_dir_all(&store).expect("a store dir");
            let config = dir.path().join(file);
            std::fs::write(&config, rewrite(&text, i, client, cluster, &store))
                .expect("write a node's config");
            nodes.push(Node {
                child: None,
                port: client[i],
                config,
            });
        }
        let mut cluster = Cluster { nodes, _dir: dir };
        for i in 0..3 {
            cluster.spawn(i);
        }
        for i in 0..3 {
            cluster.wait_listening(i);
        }
        cluster
    }

    /// Node `i`'s client URL.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].port)
    }

    /// Every node's URL, comma-separated, as `--nats` takes them.
    pub fn urls(&self) -> String {
        (0..self.nodes.len())
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The index of the node whose `server_name` is `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        NODE_FILES
            .iter()
            .position(|f| f.strip_suffix(".conf") == Some(name))
    }

    /// Whether node `i` is running.
    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].child.is_some()
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&node.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is on PATH (.ci/run installs Debian's nats-server)");
        node.child = Some(child);
    }

    fn wait_listening(&self, i: usize) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.nodes[i].port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "node {i} did not start on port {}",
                self.nodes[i].port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILLs node `i` (no goodbye to clients or peers) and waits for it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again with its ports and store.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_listening(i);
    }

    /// Waits until every running node answers JetStream requests (the
    /// cluster has elected its meta leader), or panics after 30 s.
    pub async fn wait_ready(&self) {
        let started = Instant::now();
        for i in (0..self.nodes.len()).filter(|&i| self.is_running(i)) {
            loop {
                let last = match self.request(i, "$JS.API.INFO").await {
                    Ok(reply) if reply.get("error").is_none() => break,
                    Ok(reply) => reply.to_string(),
                    Err(e) => e,
                };
                assert!(
                    started.elapsed() < READY_TIMEOUT,
                    "JetStream on node {i} not ready after {READY_TIMEOUT:?}: {last}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// The `server_name` of the leader of stream `name` and of its
    /// replicas, asked of any running node (`$JS.API.STREAM.INFO.<name>`,
    /// field `cluster`); `None` while the stream has no leader.
    pub async fn stream_placement(&self, name: &str) -> Option<(String, Vec<String>)> {
        for i in (0..self.nodes.len()).filter(|&i| self.is_running(i)) {
            if let Ok(reply) = self
                .request(i, &format!("$JS.API.STREAM.INFO.{name}"))
                .await
            {
                let cluster = &reply["cluster"];
                let leader = cluster["leader"].as_str().filter(|l| !l.is_empty());
                if let Some(leader) = leader {
                    let replicas = cluster["replicas"]
                        .as_array()
                        .map(|r| {
                            r.iter()
                                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    return Some((leader.to_owned(), replicas));
                }
            }
        }
        None
    }

    /// The index of the node leading stream `name`, waiting up to `limit`
    /// for the stream to have a leader.
    pub async fn stream_leader(&self, name: &str, limit: Duration) -> usize {
        let started = Instant::now();
        loop {
            if let Some((leader, _)) = self.stream_placement(name).await
                && let Some(i) = self.index_of(&leader)
            {
                return i;
            }
            assert!(
                started.elapsed() < limit,
                "stream {name} has no leader after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A request to node `i` alone, its reply as JSON.
    pub async fn request(&self, i: usize, subject: &str) -> Result<serde_json::Value, String> {
        let client = async_nats::ConnectOptions::new()
            .request_timeout(Some(Duration::from_secs(2)))
            .connect(self.url(i))
            .await
            .map_err(|e| format!("connecting to node {i}: {e}"))?;
        let reply = client
            .request(subject.to_owned(), "".into())
            .await
            .map_err(|e| format!("{subject} on node {i}: {e}"))?;
        serde_json::from_slice(&reply.payload).map_err(|e| format!("{subject} reply: {e}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_files_get_the_given_ports_and_store_and_keep_everything_else() {
        let text = std::fs::read_to_string(deploy_dir().join("node-b.conf")).expect("node-b");
        let out = rewrite(
            &text,
            1,
            [14222, 14223, 14224],
            [16222, 16223, 16224],
            Path::new("/tmp/store-b"),
        );
        assert!(out.contains("listen: \"127.0.0.1:14223\""));
        assert!(out.contains("listen: \"127.0.0.1:16223\""));
        for port in [16222, 16223, 16224] {
            assert!(out.contains(&format!("\"nats-route://127.0.0.1:{port}\"")));
        }
        assert!(out.contains("store_dir: \"/tmp/store-b\""));
        assert!(out.contains("server_name: node-b"));
        for port in EXAMPLE_CLIENT_PORTS.iter().chain(&EXAMPLE_CLUSTER_PORTS) {
            assert!(
                !out.contains(&format!("127.0.0.1:{port}\"")),
                "{port} replaced"
            );
        }
        assert_eq!(text.lines().count(), out.lines().count());
    }
}
