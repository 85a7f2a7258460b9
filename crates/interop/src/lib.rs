//! The wire contract for publishers and readers written in other languages:
//! JSON Schemas of the submissions, receipts and events, and an AsyncAPI
//! document of the NATS subjects, all generated from the types and subject
//! names the services themselves use.
//!
//! The generated files are committed under `schemas/` at the repository
//! root; `tests/committed.rs` fails when they differ from what [`documents`]
//! makes (regenerate with `DOTPHA_BLESS=1 cargo test -p dotpha-interop
//! --test committed`), and `tests/validate.rs` checks the demo data set and
//! the contract's examples against them.
//!
//! - [`documents`]: every committed file, by path under `schemas/`.
//! - [`asyncapi`]: the AsyncAPI 3.0 document.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod asyncapi;

use dotpha_domain::{EventType, schema};
use serde_json::{Map, Value};

pub use asyncapi::asyncapi;

/// One generated file.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Path under `schemas/`, with `/` as separator.
    pub path: String,
    /// The document.
    pub value: Value,
}

impl Document {
    fn new(path: impl Into<String>, value: Value) -> Document {
        Document {
            path: path.into(),
            value,
        }
    }

    /// The file's text: pretty JSON with keys sorted, ending in a newline,
    /// so the same code always writes the same bytes (whether or not some
    /// crate in the build turns on serde_json's `preserve_order`).
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(&sorted(&self.value))
            .unwrap_or_else(|_| String::from("null"));
        text.push('\n');
        text
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&object[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Where the schema of one submission type lives, under `schemas/`.
pub fn submission_path(event_type: EventType) -> String {
    format!("submission/{}.json", event_type.as_str())
}

/// Path of the schema of any submission.
pub const SUBMISSION_PATH: &str = "submission.v1.json";
/// Path of the receipt's schema.
pub const RECEIPT_PATH: &str = "receipt.v1.json";
/// Path of the schema of a `dotpha.v1.receipt.get` request.
pub const RECEIPT_REQUEST_PATH: &str = "receipt-request.v1.json";
/// Path of the event object's schema.
pub const EVENT_PATH: &str = "event.v1.json";
/// Path of the reminder's schema (`DOTPHA_ALERTS`).
pub const ALERT_PATH: &str = "alert.v1.json";
/// Path of the AsyncAPI document.
pub const ASYNCAPI_PATH: &str = "asyncapi.json";

/// Every file under `schemas/` that is generated, in a fixed order.
pub fn documents() -> Vec<Document> {
    let mut documents = vec![Document::new(SUBMISSION_PATH, schema::envelope_schema())];
    for event_type in EventType::ALL {
        documents.push(Document::new(
            submission_path(event_type),
            schema::submission_schema(event_type),
        ));
    }
    documents.push(Document::new(RECEIPT_PATH, schema::receipt_schema()));
    documents.push(Document::new(
        RECEIPT_REQUEST_PATH,
        schema::receipt_request_schema(),
    ));
    documents.push(Document::new(EVENT_PATH, schema::event_schema()));
    documents.push(Document::new(ALERT_PATH, schema::alert_schema()));
    documents.push(Document::new(ASYNCAPI_PATH, asyncapi()));
    documents
}
