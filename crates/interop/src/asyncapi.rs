//! The AsyncAPI 3.0 document of dotpha's NATS interface, built from the
//! subject and stream names `dotpha-bus` uses, so the document cannot name a
//! subject the services do not.

use dotpha_bus::subjects;
use dotpha_domain::{
    EventType,
    schema::{SLUG_PATTERN, SUBMISSION_ID_PATTERN},
    submission::SUBMISSION_SCHEMA,
    wire::{ALERT_SCHEMA, EVENT_SCHEMA, RECEIPT_SCHEMA},
};
use serde_json::{Map, Value, json};

use crate::{
    ALERT_PATH, EVENT_PATH, RECEIPT_PATH, RECEIPT_REQUEST_PATH, SUBMISSION_PATH, submission_path,
};

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
    messages.insert(
        "alert".to_owned(),
        json!({
            "name": "alert",
            "title": "Reminder",
            "summary": format!("What needs attention about one task on one day ({ALERT_SCHEMA}): due soon, overdue, no recent report, a milestone due."),
            "contentType": "application/json",
            "headers": { "$ref": "#/components/schemas/alertHeaders" },
            "payload": reference(&format!("./{ALERT_PATH}"))
        }),
    );
    let hex_hashes =
        json!({ "type": "array", "items": { "type": "string", "pattern": "^[0-9a-f]{64}$" } });
    let proof_error = json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string", "enum": ["malformed", "out_of_range", "beyond_checkpoint", "unavailable"] },
                    "message": { "type": "string" }
                }
            }
        }
    });
    messages.insert(
        "checkpoint".to_owned(),
        json!({
            "name": "checkpoint",
            "title": "Signed checkpoint",
            "summary": "A C2SP tlog-checkpoint (origin line, tree size in decimal, base64 root hash of the RFC 9162 tree whose leaf i is the 32 bytes of the hash of the event at position i + 1) in a C2SP signed-note, signed with the log's Ed25519 key (its verifier key: `dotpha key`, GET /api/v1/log/key).",
            "contentType": "text/plain",
            "headers": { "$ref": "#/components/schemas/checkpointHeaders" },
            "payload": { "type": "string" }
        }),
    );
    messages.insert(
        "cosignedCheckpoint".to_owned(),
        json!({
            "name": "cosignedCheckpoint",
            "title": "Cosigned checkpoint",
            "summary": "The checkpoint note with the witness's C2SP tlog-cosignature line (cosignature/v1, Ed25519) appended. The log keeps the cosignatures of the witnesses in its `witnesses` setting and serves them with the checkpoint.",
            "contentType": "text/plain",
            "payload": { "type": "string" }
        }),
    );
    messages.insert(
        "inclusionRequest".to_owned(),
        json!({
            "name": "inclusionRequest",
            "title": "Inclusion proof request",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "additionalProperties": false,
                "required": ["position"],
                "properties": {
                    "position": { "type": "integer", "minimum": 1 },
                    "size": { "type": "integer", "minimum": 1, "description": "The tree size, up to the latest checkpoint's; absent: the latest checkpoint's." }
                }
            }
        }),
    );
    messages.insert(
        "consistencyRequest".to_owned(),
        json!({
            "name": "consistencyRequest",
            "title": "Consistency proof request",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "additionalProperties": false,
                "required": ["from", "to"],
                "properties": {
                    "from": { "type": "integer", "minimum": 1 },
                    "to": { "type": "integer", "minimum": 1, "description": "Up to the latest checkpoint's size." }
                }
            }
        }),
    );
    messages.insert(
        "inclusionProof".to_owned(),
        json!({
            "name": "inclusionProof",
            "title": "Inclusion proof",
            "summary": "RFC 9162 §2.1.3, as GET /api/v1/log/proof/inclusion answers it, plus the checkpoint note of that size (or the latest).",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["position", "tree_size", "leaf_hash", "proof"],
                "properties": {
                    "position": { "type": "integer" },
                    "tree_size": { "type": "integer" },
                    "leaf_hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                    "proof": hex_hashes.clone(),
                    "checkpoint": { "type": "string" }
                }
            }
        }),
    );
    messages.insert(
        "consistencyProof".to_owned(),
        json!({
            "name": "consistencyProof",
            "title": "Consistency proof",
            "summary": "RFC 9162 §2.1.4, as GET /api/v1/log/proof/consistency answers it.",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["from", "to", "proof"],
                "properties": {
                    "from": { "type": "integer" },
                    "to": { "type": "integer" },
                    "proof": hex_hashes
                }
            }
        }),
    );
    messages.insert(
        "proofError".to_owned(),
        json!({
            "name": "proofError",
            "title": "Proof request error",
            "contentType": "application/json",
            "payload": proof_error
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
            },
            "alert": {
                "address": subjects::alert("{unit}"),
                "title": "Reminders",
                "description": format!(
                    "JetStream stream {} (subjects `{}`): each task's reminders of the day (Vietnam), once per task, kind (and milestone) and day, on the subject of the assignee's unit, with the header `{}: <alert_id>`. A unit's user may subscribe to its own subject.",
                    subjects::ALERTS_STREAM, subjects::ALERTS_SUBJECTS, subjects::MSG_ID
                ),
                "parameters": { "unit": unit_parameter.clone() },
                "messages": { "alert": reference("#/components/messages/alert") }
            },
            "checkpoint": {
                "address": subjects::CHECKPOINT,
                "title": "Signed checkpoints",
                "description": format!(
                    "JetStream stream {} (the newest {} kept): the writer signs a checkpoint within a second of any commit and at most one a second, with the header `{}: <tree size>`. A witness follows it from the latest message.",
                    subjects::CHECKPOINTS_STREAM, dotpha_bus::CHECKPOINTS_KEPT, subjects::MSG_ID
                ),
                "messages": { "checkpoint": reference("#/components/messages/checkpoint") }
            },
            "cosignature": {
                "address": subjects::cosignature("{witness}"),
                "title": "Cosignatures",
                "description": format!(
                    "JetStream stream {} (subjects `{}`): a witness publishes each checkpoint it checked (signature, and consistency with the last one it accepted) with its cosignature appended.",
                    subjects::COSIGNATURES_STREAM, subjects::COSIGNATURES_SUBJECTS
                ),
                "parameters": {
                    "witness": {
                        "description": "The witness's key name (e.g. hop-thanh.example.vn/witness); it may contain dots, so it may span several subject tokens.",
                        "examples": ["hop-thanh.example.vn/witness"]
                    }
                },
                "messages": { "cosignedCheckpoint": reference("#/components/messages/cosignedCheckpoint") }
            },
            "proofInclusion": {
                "address": subjects::PROOF_INCLUSION,
                "title": "Inclusion proof requests",
                "description": "Core NATS request/reply, answered by the writer's host from the log.",
                "messages": { "inclusionRequest": reference("#/components/messages/inclusionRequest") }
            },
            "proofConsistency": {
                "address": subjects::PROOF_CONSISTENCY,
                "title": "Consistency proof requests",
                "description": "Core NATS request/reply, answered by the writer's host from the log; what a witness asks before it cosigns.",
                "messages": { "consistencyRequest": reference("#/components/messages/consistencyRequest") }
            },
            "proofReply": {
                "address": null,
                "title": "Proof replies",
                "description": "The requester's reply subject (a NATS inbox).",
                "messages": {
                    "inclusionProof": reference("#/components/messages/inclusionProof"),
                    "consistencyProof": reference("#/components/messages/consistencyProof"),
                    "proofError": reference("#/components/messages/proofError")
                }
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
            },
            "receiveAlerts": {
                "action": "receive",
                "title": "Receive reminders",
                "channel": reference("#/channels/alert"),
                "messages": [reference("#/channels/alert/messages/alert")]
            },
            "receiveCheckpoints": {
                "action": "receive",
                "title": "Receive signed checkpoints",
                "channel": reference("#/channels/checkpoint"),
                "messages": [reference("#/channels/checkpoint/messages/checkpoint")]
            },
            "cosign": {
                "action": "send",
                "title": "Publish a cosignature",
                "channel": reference("#/channels/cosignature"),
                "messages": [reference("#/channels/cosignature/messages/cosignedCheckpoint")]
            },
            "getInclusionProof": {
                "action": "send",
                "title": "Ask for an inclusion proof",
                "channel": reference("#/channels/proofInclusion"),
                "messages": [reference("#/channels/proofInclusion/messages/inclusionRequest")],
                "reply": {
                    "channel": reference("#/channels/proofReply"),
                    "messages": [
                        reference("#/channels/proofReply/messages/inclusionProof"),
                        reference("#/channels/proofReply/messages/proofError")
                    ]
                }
            },
            "getConsistencyProof": {
                "action": "send",
                "title": "Ask for a consistency proof",
                "channel": reference("#/channels/proofConsistency"),
                "messages": [reference("#/channels/proofConsistency/messages/consistencyRequest")],
                "reply": {
                    "channel": reference("#/channels/proofReply"),
                    "messages": [
                        reference("#/channels/proofReply/messages/consistencyProof"),
                        reference("#/channels/proofReply/messages/proofError")
                    ]
                }
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
                "checkpointHeaders": {
                    "type": "object",
                    "required": [subjects::MSG_ID],
                    "properties": {
                        (subjects::MSG_ID): {
                            "type": "string",
                            "pattern": "^(0|[1-9][0-9]*)$",
                            "description": "The checkpoint's tree size."
                        }
                    }
                },
                "alertHeaders": {
                    "type": "object",
                    "required": [subjects::MSG_ID],
                    "properties": {
                        (subjects::MSG_ID): {
                            "type": "string",
                            "description": "The alert's alert_id (<day>.<task_id>.<kind>[.<milestone number>]): JetStream drops a repeat within the stream's duplicate window, so each alert is published once a day."
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
