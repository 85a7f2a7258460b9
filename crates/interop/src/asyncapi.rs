//! The AsyncAPI 3.0 document of dotpha's NATS interface, built from the
//! subject and stream names `dotpha-bus` uses, so the document cannot name a
//! subject the services do not.

use dotpha_bus::subjects;
use dotpha_domain::{
    EventType,
    schema::{SLUG_PATTERN, SUBMISSION_ID_PATTERN},
    submission::SUBMISSION_SCHEMA,
    wire::{EVENT_SCHEMA, RECEIPT_SCHEMA},
};
use serde_json::{Map, Value, json};

use crate::{EVENT_PATH, RECEIPT_PATH, RECEIPT_REQUEST_PATH, SUBMISSION_PATH, submission_path};

/// Message id of the submission of one type: `submit.progress.reported`.
fn submit_message_id(event_type: EventType) -> String {
    format!("submit.{}", event_type.as_str())
}

fn reference(path: &str) -> Value {
    json!({ "$ref": path })
}

/// The AsyncAPI 3.0 document: channels, operations and messages of
/// CONTRACT.md, whose payloads are the committed JSON Schemas (referenced
/// by path relative to the document).
pub fn asyncapi() -> Value {
    let unit_parameter = json!({
        "description": format!("A unit code, a slug ({SLUG_PATTERN}); one subject token."),
        "examples": ["hop-thanh"]
    });
    let types: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();

    let mut messages = Map::new();
    let mut submit_messages = Map::new();
    for event_type in EventType::ALL {
        let id = submit_message_id(event_type);
        messages.insert(
            id.clone(),
            json!({
                "name": event_type.as_str(),
                "title": format!("{} submission", event_type.as_str()),
                "summary": format!("A `{}` submission ({SUBMISSION_SCHEMA}).", event_type.as_str()),
                "contentType": "application/json",
                "headers": { "$ref": "#/components/schemas/submissionHeaders" },
                "payload": reference(&format!("./{}", submission_path(event_type)))
            }),
        );
        submit_messages.insert(
            id.clone(),
            reference(&format!("#/components/messages/{id}")),
        );
    }
    messages.insert(
        "receipt".to_owned(),
        json!({
            "name": "receipt",
            "title": "Receipt",
            "summary": format!("The decision on a submission, committed to the log ({RECEIPT_SCHEMA})."),
            "contentType": "application/json",
            "payload": reference(&format!("./{RECEIPT_PATH}"))
        }),
    );
    messages.insert(
        "receiptRequest".to_owned(),
        json!({
            "name": "receiptRequest",
            "title": "Receipt request",
            "summary": "Asks for the receipt of a submission by its id.",
            "contentType": "application/json",
            "payload": reference(&format!("./{RECEIPT_REQUEST_PATH}"))
        }),
    );
    messages.insert(
        "receiptRequestError".to_owned(),
        json!({
            "name": "receiptRequestError",
            "title": "Receipt request error",
            "summary": "The answer to a receipt request that has no receipt to give.",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "string", "enum": ["malformed", "not_found", "unavailable"] },
                            "message": { "type": "string" }
                        }
                    }
                }
            }
        }),
    );
    messages.insert(
        "event".to_owned(),
        json!({
            "name": "event",
            "title": "Committed event",
            "summary": format!("An accepted event, in log order ({EVENT_SCHEMA})."),
            "contentType": "application/json",
            "headers": { "$ref": "#/components/schemas/eventHeaders" },
            "payload": reference(&format!("./{EVENT_PATH}"))
        }),
    );

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "dotpha",
            "version": "1",
            "description": format!(
                "The NATS interface of dotpha, wire contract version 1. A publisher sends one submission ({SUBMISSION_SCHEMA}, schema ./{SUBMISSION_PATH}) per message and waits for its receipt: the JetStream PubAck only says the broker holds it. Without a receipt it publishes the same submission again (same submission_id) until it has one; the submission is decided exactly once. Receipts and events may gain members: readers ignore members they do not know. Submissions are read strictly: an unknown member is rejected as `malformed`."
            )
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The default of `dotpha up --nats`; deployments name their own."
            }
        },
        "channels": {
            "submit": {
                "address": subjects::submit("{unit}"),
                "title": "Submissions",
                "description": format!(
                    "Captured by the JetStream stream {} (subjects `{}`). `unit` must equal the envelope's `unit` (else `unit_mismatch`). Publish with the header `{}: <submission_id>` and wait for the PubAck.",
                    subjects::SUBMISSIONS_STREAM, subjects::SUBMISSIONS_SUBJECTS, subjects::MSG_ID
                ),
                "parameters": { "unit": unit_parameter.clone() },
                "messages": submit_messages
            },
            "receipt": {
                "address": subjects::receipt("{unit}"),
                "title": "Receipts",
                "description": "Core NATS (not JetStream): each decision's receipt, once it is committed to the log, on the subject of the submission's unit. A publisher that missed it asks on receiptGet.",
                "parameters": { "unit": unit_parameter.clone() },
                "messages": { "receipt": reference("#/components/messages/receipt") }
            },
            "receiptGet": {
                "address": subjects::RECEIPT_GET,
                "title": "Receipt requests",
                "description": "Core NATS request/reply: send {\"submission_id\": \"...\"} and get the receipt, or an error object, on the reply subject.",
                "messages": { "receiptRequest": reference("#/components/messages/receiptRequest") }
            },
            "receiptReply": {
                "address": null,
                "title": "Receipt replies",
                "description": "The requester's reply subject (a NATS inbox).",
                "messages": {
                    "receipt": reference("#/components/messages/receipt"),
                    "receiptRequestError": reference("#/components/messages/receiptRequestError")
                }
            },
            "event": {
                "address": subjects::event("{unit}", "{type}"),
                "title": "Committed events",
                "description": format!(
                    "JetStream stream {} (subjects `{}`): every accepted event, in log order, with the header `{}: <position>`. `type` contains a dot, so it spans two subject tokens (`dotpha.v1.event.hop-thanh.progress.reported`); subscribe to `dotpha.v1.event.<unit>.>` for one unit.",
                    subjects::EVENTS_STREAM, subjects::EVENTS_SUBJECTS, subjects::MSG_ID
                ),
                "parameters": {
                    "unit": unit_parameter,
                    "type": {
                        "description": "The event's type.",
                        "enum": types
                    }
                },
                "messages": { "event": reference("#/components/messages/event") }
            }
        },
        "operations": {
            "submit": {
                "action": "send",
                "title": "Submit",
                "summary": "Publish a submission to JetStream.",
                "channel": reference("#/channels/submit"),
                "messages": EventType::ALL
                    .iter()
                    .map(|t| reference(&format!("#/channels/submit/messages/{}", submit_message_id(*t))))
                    .collect::<Vec<_>>()
            },
            "receiveReceipt": {
                "action": "receive",
                "title": "Receive receipts",
                "channel": reference("#/channels/receipt"),
                "messages": [reference("#/channels/receipt/messages/receipt")]
            },
            "getReceipt": {
                "action": "send",
                "title": "Ask for a receipt",
                "channel": reference("#/channels/receiptGet"),
                "messages": [reference("#/channels/receiptGet/messages/receiptRequest")],
                "reply": {
                    "channel": reference("#/channels/receiptReply"),
                    "messages": [
                        reference("#/channels/receiptReply/messages/receipt"),
                        reference("#/channels/receiptReply/messages/receiptRequestError")
                    ]
                }
            },
            "receiveEvents": {
                "action": "receive",
                "title": "Receive committed events",
                "channel": reference("#/channels/event"),
                "messages": [reference("#/channels/event/messages/event")]
            }
        },
        "components": {
            "schemas": {
                "submissionHeaders": {
                    "type": "object",
                    "required": [subjects::MSG_ID],
                    "properties": {
                        (subjects::MSG_ID): {
                            "type": "string",
                            "pattern": SUBMISSION_ID_PATTERN,
                            "description": "The envelope's submission_id: JetStream drops a repeat within its duplicate window, and the log answers any later repeat with the original receipt."
                        }
                    }
                },
                "eventHeaders": {
                    "type": "object",
                    "required": [subjects::MSG_ID],
                    "properties": {
                        (subjects::MSG_ID): {
                            "type": "string",
                            "pattern": "^[1-9][0-9]*$",
                            "description": "The event's log position."
                        }
                    }
                }
            },
            "messages": messages
        }
    })
}
