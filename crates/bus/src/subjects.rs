//! Subject and stream names, as CONTRACT.md fixes them.

/// The stream capturing submissions.
pub const SUBMISSIONS_STREAM: &str = "DOTPHA_SUBMISSIONS";
/// Subjects of [`SUBMISSIONS_STREAM`].
pub const SUBMISSIONS_SUBJECTS: &str = "dotpha.v1.submit.>";
/// The stream carrying committed events.
pub const EVENTS_STREAM: &str = "DOTPHA_EVENTS";
/// Subjects of [`EVENTS_STREAM`].
pub const EVENTS_SUBJECTS: &str = "dotpha.v1.event.>";
/// The stream keeping dead letters: messages that could not be answered.
pub const DEAD_STREAM: &str = "DOTPHA_DEAD";
/// Subjects of [`DEAD_STREAM`].
pub const DEAD_SUBJECTS: &str = "dotpha.v1.dead.>";
/// Where a receipt is asked for by submission id.
/// The stream of committed decisions a standby writer follows (issue 16):
/// one message per record of a committed batch, in log order.
pub const DECISIONS_STREAM: &str = "DOTPHA_DECISIONS";
/// Its one subject.
pub const DECISION: &str = "dotpha.v1.decision";
/// Request subject for a receipt.
pub const RECEIPT_GET: &str = "dotpha.v1.receipt.get";
/// The writer's durable consumer on [`SUBMISSIONS_STREAM`].
pub const WRITER_CONSUMER: &str = "dotpha-writer";
/// The header naming a message for JetStream's deduplication.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The stream keeping the log's signed checkpoints (CONTRACT.md part B).
pub const CHECKPOINTS_STREAM: &str = "DOTPHA_CHECKPOINTS";
/// Where the writer publishes each checkpoint note, with `Nats-Msg-Id:
/// <tree size>`.
pub const CHECKPOINT: &str = "dotpha.v1.checkpoint";
/// The stream keeping witnesses' cosignatures until the log has them.
pub const COSIGNATURES_STREAM: &str = "DOTPHA_COSIGNATURES";
/// Subjects of [`COSIGNATURES_STREAM`].
pub const COSIGNATURES_SUBJECTS: &str = "dotpha.v1.cosignature.>";
/// Where an inclusion proof is asked for: `{"position": P, "size": N}`.
pub const PROOF_INCLUSION: &str = "dotpha.v1.proof.inclusion";
/// Where a consistency proof is asked for: `{"from": M, "to": N}`.
pub const PROOF_CONSISTENCY: &str = "dotpha.v1.proof.consistency";

/// The stream keeping reminders (`dotpha.alert.v1`), a commune's feed of
/// what needs attention.
pub const ALERTS_STREAM: &str = "DOTPHA_ALERTS";
/// Subjects of [`ALERTS_STREAM`].
pub const ALERTS_SUBJECTS: &str = "dotpha.v1.alert.>";

/// Where a unit's reminders are published.
pub fn alert(unit: &str) -> String {
    format!("dotpha.v1.alert.{unit}")
}

/// Where the witness named `witness` publishes its cosigned notes.
pub fn cosignature(witness: &str) -> String {
    format!("dotpha.v1.cosignature.{witness}")
}

/// Whether `name` can stand in a subject: no spaces, wildcards or empty
/// tokens (a witness's name may hold dots and slashes).
pub fn is_subject_safe(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['*', '>'])
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        && name.split('.').all(|token| !token.is_empty())
}

/// Where a unit's submissions are published.
pub fn submit(unit: &str) -> String {
    format!("dotpha.v1.submit.{unit}")
}

/// Where a unit's receipts are published.
pub fn receipt(unit: &str) -> String {
    format!("dotpha.v1.receipt.{unit}")
}

/// Where an event is published.
pub fn event(unit: &str, event_type: &str) -> String {
    format!("dotpha.v1.event.{unit}.{event_type}")
}

/// Where a dead letter that arrived on `subject` is kept.
pub fn dead(subject: &str) -> String {
    let unit = unit_of(subject)
        .filter(|u| !u.is_empty())
        .unwrap_or("unknown");
    format!("dotpha.v1.dead.{unit}")
}

/// The unit a submission subject names: its last token.
pub fn unit_of(subject: &str) -> Option<&str> {
    subject
        .strip_prefix("dotpha.v1.submit.")
        .filter(|rest| !rest.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_contract() {
        assert_eq!(submit("hop-thanh"), "dotpha.v1.submit.hop-thanh");
        assert_eq!(receipt("hop-thanh"), "dotpha.v1.receipt.hop-thanh");
        assert_eq!(
            event("hop-thanh", "progress.reported"),
            "dotpha.v1.event.hop-thanh.progress.reported"
        );
        assert_eq!(unit_of("dotpha.v1.submit.hop-thanh"), Some("hop-thanh"));
        assert_eq!(unit_of("dotpha.v1.submit.a.b"), None, "a unit is one token");
        assert_eq!(dead("dotpha.v1.submit.a.b"), "dotpha.v1.dead.unknown");
        assert_eq!(
            cosignature("hop-thanh.example/witness"),
            "dotpha.v1.cosignature.hop-thanh.example/witness"
        );
        assert!(is_subject_safe("hop-thanh.example/witness"));
        assert!(!is_subject_safe("a..b"));
        assert!(!is_subject_safe("a.*"));
    }
}
