//! The AsyncAPI document covers every subject and submission type the code
//! uses, and every reference in it resolves (the committed files are checked
//! against the code by `committed.rs`; a full validation was run once with
//! `asyncapi validate schemas/asyncapi.json`, see schemas/README.md).

use std::path::Path;

use dotpha_bus::subjects;
use dotpha_domain::EventType;
use dotpha_interop::{asyncapi, submission_path};
use serde_json::Value;

fn refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => refs(item, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[test]
fn every_subject_and_type_is_in_the_document() {
    let document = asyncapi();
    assert_eq!(document["asyncapi"], "3.0.0");
    let addresses: Vec<&str> = document["channels"]
        .as_object()
        .expect("channels")
        .values()
        .filter_map(|c| c["address"].as_str())
        .collect();
    for subject in [
        subjects::submit("{unit}"),
        subjects::receipt("{unit}"),
        subjects::RECEIPT_GET.to_owned(),
        subjects::event("{unit}", "{type}"),
        subjects::CHECKPOINT.to_owned(),
        subjects::cosignature("{witness}"),
        subjects::PROOF_INCLUSION.to_owned(),
        subjects::PROOF_CONSISTENCY.to_owned(),
    ] {
        assert!(
            addresses.contains(&subject.as_str()),
            "{subject} in {addresses:?}"
        );
    }
    let text = document.to_string();
    for name in [
        subjects::SUBMISSIONS_STREAM,
        subjects::EVENTS_STREAM,
        subjects::CHECKPOINTS_STREAM,
        subjects::COSIGNATURES_STREAM,
        subjects::MSG_ID,
    ] {
        assert!(text.contains(name), "{name} is mentioned");
    }
    let submit = document["operations"]["submit"]["messages"]
        .as_array()
        .expect("submit's messages");
    assert_eq!(submit.len(), EventType::ALL.len());
    for event_type in EventType::ALL {
        let payload = format!("./{}", submission_path(event_type));
        assert!(
            text.contains(&payload),
            "{event_type} has a message with {payload}"
        );
    }
}

#[test]
fn every_reference_resolves() {
    let document = asyncapi();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        match target.strip_prefix('#') {
            Some(pointer) => assert!(
                document.pointer(pointer).is_some(),
                "{target} points into the document"
            ),
            None => assert!(dir.join(target).is_file(), "{target} is a committed file"),
        }
    }
}
