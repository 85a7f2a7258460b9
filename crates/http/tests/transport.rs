//! What wraps every answer (issue 14, "Exports and operations"): gzip and
//! brotli when asked, a weak `ETag` that changes with the answer and a 304
//! for a client that holds it, `Cache-Control`, and request metrics by
//! route pattern and status.

mod common;

use common::{App, HOP_THANH_TASK, MANH};
use reqwest::{StatusCode, header};
use serde_json::json;

fn text(response: &reqwest::Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_compressed_tagged_revalidated_and_counted() {
    let (app, head) = App::with_district(false).await;
    let dashboard = format!("/api/v1/dashboard?min_position={head}");

    // Compressed when the client says it can read gzip or brotli; the
    // bytes are what the encoding says.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("a client");
    for (encoding, magic) in [("gzip", &[0x1f, 0x8b][..]), ("br", &[][..])] {
        let response = raw
            .get(format!("{}{dashboard}", app.url))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(&response, header::CONTENT_ENCODING), encoding);
        let bytes = response.bytes().await.expect("a body");
        assert!(bytes.starts_with(magic), "{encoding}");
    }
    // A client that decodes reads the same JSON as ever.
    let (status, body) = app.get_json(&dashboard, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_object());

    // A weak ETag from the answer; asked again with it: 304, no body.
    let first = app.get(&dashboard, None).await;
    let tag = text(&first, header::ETAG);
    assert!(tag.starts_with("W/\""), "{tag}");
    assert_eq!(text(&first, header::CACHE_CONTROL), "no-cache");
    assert!(text(&first, header::VARY).contains("authorization"));
    let again = app
        .http
        .get(format!("{}{dashboard}", app.url))
        .header(header::IF_NONE_MATCH, &tag)
        .send()
        .await
        .expect("an answer");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(text(&again, header::ETAG), tag);
    assert!(again.bytes().await.expect("no body").is_empty());

    // A new report changes the answer, and so its tag.
    let position = app
        .act(
            MANH,
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2021-10-31",
                   "values": [{"metric": "cam-ket-attp", "value": 50}, {"metric": "ho-phan-loai-rac", "value": 360}]}),
        )
        .await;
    let changed = app
        .http
        .get(format!(
            "{}/api/v1/dashboard?min_position={position}",
            app.url
        ))
        .header(header::IF_NONE_MATCH, &tag)
        .send()
        .await
        .expect("an answer");
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(text(&changed, header::ETAG), tag);

    // A report from the future is refused; the writer counts it by code
    // and unit, beside each unit's last accepted report.
    let (_, refused) = app
        .act_with(
            Some(MANH),
            "progress.reported",
            json!({"task_id": HOP_THANH_TASK, "as_of": "2099-01-01",
                   "values": [{"metric": "cam-ket-attp", "value": 51}]}),
            json!({}),
        )
        .await;
    assert_eq!(refused["status"], "rejected", "{refused:#}");

    // Counted by route pattern and status, an unknown path as unmatched;
    // the metrics themselves are never stored.
    let task = app
        .get(&format!("/api/v1/tasks/{HOP_THANH_TASK}"), None)
        .await;
    assert_eq!(task.status(), StatusCode::OK);
    assert_eq!(
        app.get("/no/such/route", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let metrics = app.get("/metrics", None).await;
    assert_eq!(text(&metrics, header::CACHE_CONTROL), "no-store");
    let metrics = metrics.text().await.expect("metrics");
    for line in [
        r#"dotpha_http_requests_total{route="/api/v1/dashboard",method="GET",status="200"}"#,
        r#"dotpha_http_requests_total{route="/api/v1/tasks/{task_id}",method="GET",status="200"} 1"#,
        r#"dotpha_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
        r#"dotpha_http_request_duration_seconds_bucket{le="0.001",route="/api/v1/dashboard"}"#,
        r#"dotpha_rejections_total{code="invalid_value",unit="hop-thanh"} 1"#,
        r#"dotpha_last_report_timestamp_seconds{unit="hop-thanh"} "#,
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    app.stop().await;
}
