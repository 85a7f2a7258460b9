//! Why a submission was not accepted, in the contract's words.

pub use crate::vocabulary::RejectionCode;

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
