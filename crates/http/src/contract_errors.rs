//! Every error status the server can produce carries the contract's body,
//! `{"error": {"code", "message"}}`, whoever produces it:
//!
//! - [`json_errors`], a layer around the whole router: a handler that
//!   panics is answered 500; an error an extractor or axum itself answered
//!   in plain text (a bad query string, a body of the wrong type or size,
//!   an unknown route or method) is given the contract's body, keeping its
//!   status and its words as the message.
//! - [`ContractListener`], below the router: hyper answers some requests
//!   itself before any service sees them (414 for a URI over 64 KiB, 431 for
//!   headers over its buffer, 400 for a request it cannot parse, 408 when
//!   the head does not arrive in time), always with an empty body. The
//!   listener's connections rewrite exactly those answers, a response head
//!   with an error status and `content-length: 0`, which no route sends
//!   since [`json_errors`] gives every error a body.

use std::{
    io,
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// Longest plain-text error body kept as the message, in bytes.
const MAX_MESSAGE_BYTES: usize = 4096;

/// The contract's code for an error status: `not_found`,
/// `method_not_allowed`, `uri_too_long`, ... (its reason phrase, in snake
/// case).
pub(crate) fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::LENGTH_REQUIRED => "length_required",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::EXPECTATION_FAILED => "expectation_failed",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::NOT_IMPLEMENTED => "not_implemented",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        StatusCode::HTTP_VERSION_NOT_SUPPORTED => "http_version_not_supported",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    }
}

/// The contract's body for `status` with `message`.
fn body_for(status: StatusCode, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "error": { "code": code_for(status), "message": message }
    }))
    .unwrap_or_default()
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The layer around the router (`axum::middleware::from_fn`): a panic is a
/// 500 and every error answer has the contract's JSON body.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return ApiError::internal(format!("the server failed answering: {what}"))
                .into_response();
        }
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body_for(status, &message)))
}

/// A TCP listener for [`axum::serve`] whose connections give hyper's own
/// error answers the contract's body (see the module's documentation).
pub struct ContractListener(pub tokio::net::TcpListener);

impl axum::serve::Listener for ContractListener {
    type Io = ContractIo<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (ContractIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that rewrites a bodiless error response head written by
/// hyper into one with the contract's JSON body.
pub struct ContractIo<T> {
    inner: T,
    /// Bytes still to write in place of the caller's buffer, and the length
    /// of that buffer, reported as written once they are.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ContractIo<T> {
    fn new(inner: T) -> ContractIo<T> {
        ContractIo {
            inner,
            replacing: None,
        }
    }
}

/// When `buf` is exactly a response head with an error status and
/// `content-length: 0` (what hyper writes when it answers by itself), the
/// same head with the contract's body.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if end != buf.len() {
        return None;
    }
    let status = StatusCode::from_bytes(rest.get(..3)?).ok()?;
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let head = std::str::from_utf8(&buf[..end - 2]).ok()?;
    let mut lines: Vec<&str> = head.split("\r\n").filter(|l| !l.is_empty()).collect();
    let zero = lines
        .iter()
        .position(|l| l.eq_ignore_ascii_case("content-length: 0"))?;
    let message = match status {
        StatusCode::URI_TOO_LONG => "the URL is too long (at most 65,534 bytes)",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request's headers are too large",
        StatusCode::REQUEST_TIMEOUT => "the request's head did not arrive in time",
        StatusCode::BAD_REQUEST => "the request is not valid HTTP/1.1",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    let body = body_for(status, message);
    let length = format!("content-length: {}", body.len());
    lines[zero] = &length;
    let mut out = Vec::with_capacity(end + body.len() + 40);
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

impl<T: AsyncRead + Unpin> AsyncRead for ContractIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ContractIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            match rewrite(buf) {
                Some(out) => self.replacing = Some((out, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        while let Some((out, written, _)) = this.replacing.as_mut() {
            if *written == out.len() {
                break;
            }
            match Pin::new(&mut this.inner).poll_write(cx, &out[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let claimed = this.replacing.take().map_or(0, |(_, _, claimed)| claimed);
        Poll::Ready(Ok(claimed))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each response head in one buffer,
    // which is what `rewrite` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bodiless_error_head_is_rewritten() {
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(head).expect("rewritten")).expect("text");
        let (head, body) = out.split_once("\r\n\r\n").expect("a head");
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(body["error"]["code"], "uri_too_long");
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(
            rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n{}").is_none(),
            "a head followed by body bytes is a route's answer"
        );
    }

    #[tokio::test]
    async fn a_panic_and_a_plain_text_error_become_the_contracts_body() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/panics",
                axum::routing::get(|| async {
                    if true {
                        panic!("kiểm thử");
                    }
                    "never"
                }),
            )
            .route(
                "/plain",
                axum::routing::get(|| async { (StatusCode::CONFLICT, "đã có") }),
            )
            .layer(axum::middleware::from_fn(json_errors));
        for (path, status, code, message) in [
            ("/panics", 500, "internal", "kiểm thử"),
            ("/plain", 409, "conflict", "đã có"),
        ] {
            let request = Request::builder()
                .uri(path)
                .body(Body::empty())
                .expect("request");
            let response = app.clone().oneshot(request).await.expect("answered");
            assert_eq!(response.status().as_u16(), status);
            assert!(is_json(&response));
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("body");
            let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(value["error"]["code"], code);
            assert!(
                value["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(message)),
                "{value}"
            );
        }
    }
}
