//! Why a submission was not accepted, in the contract's words.

use std::fmt;

/// The contract's rejection codes. Publishers branch on these, so the set and
/// the spelling are part of the wire contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectionCode {
    /// Not a JSON object of the right shape: a missing, unknown or mistyped field.
    Malformed,
    /// `schema` is not `dotpha.submission.v1`.
    UnsupportedSchema,
    /// `type` is not one of the contract's submission types.
    UnknownType,
    /// The envelope's `unit` differs from the subject it was published on.
    UnitMismatch,
    /// A unit code that is not registered.
    UnknownUnit,
    /// An actor or cadre id that is not registered.
    UnknownActor,
    /// The actor may not do this, or not for this unit.
    Forbidden,
    /// A `task_id` that is not registered.
    UnknownTask,
    /// The thing to create exists already.
    AlreadyExists,
    /// The target is in a state that does not allow this.
    InvalidState,
    /// `expected_version` differs from the target stream's version.
    VersionConflict,
    /// A well-formed field holds a value the rules do not allow.
    InvalidValue,
}

impl RejectionCode {
    /// Every code, in the contract's order.
    pub const ALL: [RejectionCode; 12] = [
        RejectionCode::Malformed,
        RejectionCode::UnsupportedSchema,
        RejectionCode::UnknownType,
        RejectionCode::UnitMismatch,
        RejectionCode::UnknownUnit,
        RejectionCode::UnknownActor,
        RejectionCode::Forbidden,
        RejectionCode::UnknownTask,
        RejectionCode::AlreadyExists,
        RejectionCode::InvalidState,
        RejectionCode::VersionConflict,
        RejectionCode::InvalidValue,
    ];

    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Malformed => "malformed",
            RejectionCode::UnsupportedSchema => "unsupported_schema",
            RejectionCode::UnknownType => "unknown_type",
            RejectionCode::UnitMismatch => "unit_mismatch",
            RejectionCode::UnknownUnit => "unknown_unit",
            RejectionCode::UnknownActor => "unknown_actor",
            RejectionCode::Forbidden => "forbidden",
            RejectionCode::UnknownTask => "unknown_task",
            RejectionCode::AlreadyExists => "already_exists",
            RejectionCode::InvalidState => "invalid_state",
            RejectionCode::VersionConflict => "version_conflict",
            RejectionCode::InvalidValue => "invalid_value",
        }
    }

    /// Reads a code as written on the wire.
    pub fn parse(text: &str) -> Option<RejectionCode> {
        RejectionCode::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision not to accept a submission: a code, a sentence for a person,
/// and the path of the offending field when there is one
/// (`data.values[0].value`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The contract's code.
    pub code: RejectionCode,
    /// What is wrong, for a person.
    pub message: String,
    /// The offending field's path in the submission, when there is one.
    pub field: Option<String>,
}

impl Rejection {
    /// A rejection without a field.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A rejection naming the offending field.
    pub fn at(
        code: RejectionCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Rejection {
        Rejection {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }
}
