//! Every error status the server or its layers can produce carries the
//! contract's body, `{"error": {"code", "message"}}` (issue 10, item 4):
//! hyper's own answers below the router (a 70 KB URL, headers too large, a
//! request that is not HTTP), axum's (an unknown route or method, a bad
//! query string, a body of the wrong type or size) and the routes'. Sent as
//! raw bytes over TCP to a real server, so nothing in between tidies them.

use std::time::Duration;

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::watch,
};

/// A server over an empty data directory (no read model, no NATS): enough
/// for every error path below the routes.
struct Server {
    addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dotpha_http::Tokens::parse(
        r#"{"tokens": [{"token": "bi-mat-thu-nghiem", "unit": "son-duong", "cadre": "tran-van-binh"}]}"#,
        false,
    )
    .expect("tokens");
    let state = dotpha_http::AppState::new(
        dir.path().to_owned(),
        "main".to_owned(),
        None,
        prometheus_client::registry::Registry::default(),
        None,
        tokens,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        let _ = dotpha_http::serve(listener, state, shutdown).await;
    });
    Server {
        addr,
        stop,
        _dir: dir,
    }
}

/// Sends `request` as is; returns the status, the headers (lowercase) and
/// the body.
async fn raw(server: &Server, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // The server may answer and close before it has read all of a huge
    // request; what it answered is what counts.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// Asserts the answer is `status` with the contract's error body.
fn assert_contract_error(what: &str, (status, head, body): &(u16, String, String), want: u16) {
    assert_eq!(*status, want, "{what}: {head}\n{body}");
    assert!(
        head.contains("content-type: application/json"),
        "{what}: {head}"
    );
    let value: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{what}: the body is not JSON ({e}): {body:?}"));
    let code = value["error"]["code"].as_str().unwrap_or_default();
    let message = value["error"]["message"].as_str().unwrap_or_default();
    assert!(!code.is_empty() && !message.is_empty(), "{what}: {value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_status_has_the_contracts_body() {
    let server = start().await;
    let long_url = format!(
        "GET /api/v1/tasks?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let answer = raw(&server, long_url.as_bytes()).await;
    assert_contract_error("a 70 KB URL", &answer, 414);
    assert!(answer.2.contains("uri_too_long"), "{}", answer.2);

    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    assert_contract_error(
        "a 1 MB header",
        &raw(&server, big_header.as_bytes()).await,
        431,
    );
    assert_contract_error(
        "not HTTP",
        &raw(&server, b"\x16\x03\x01 hello\r\n\r\n").await,
        400,
    );
    let cases: &[(&str, &[u8], u16)] = &[
        (
            "an unknown route",
            b"GET /khong-co HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            404,
        ),
        (
            "a method the route does not take",
            b"DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            405,
        ),
        (
            "a query string that does not decode",
            b"GET /api/v1/log/proof/inclusion?index=%zz&size=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "a form that is not JSON",
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bi-mat-thu-nghiem\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
            415,
        ),
    ];
    for (what, request, status) in cases {
        assert_contract_error(what, &raw(&server, request).await, *status);
    }
    let body = "x".repeat(2 * 1024 * 1024);
    let too_big = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bi-mat-thu-nghiem\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert_contract_error(
        "a body over the limit",
        &raw(&server, too_big.as_bytes()).await,
        413,
    );

    // Keep-alive still works: two requests on one connection, both answered.
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /khong-co HTTP/1.1\r\nHost: x\r\n\r\nGET /khong-co HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await;
    assert_eq!(answer.matches("HTTP/1.1 404").count(), 2, "{answer}");
    let _ = server.stop.send(true);
}
