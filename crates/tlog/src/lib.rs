//! dotpha's log as a transparency log (CONTRACT.md part B), without I/O
//! beyond key and state files:
//!
//! - [`tree`]: the RFC 9162 Merkle tree over the events' hashes: the
//!   frontier the writer extends, the nodes it stores per leaf, roots,
//!   inclusion and consistency proofs and their checks.
//! - [`note`]: the log's key and its checkpoints (C2SP tlog-checkpoint in a
//!   C2SP signed-note).
//! - [`cosign`]: witnesses' keys and cosignatures (C2SP tlog-cosignature,
//!   cosignature/v1).
//! - [`keyfile`]: owner-only key files.
//! - [`witness`]: what a witness accepts, refuses and keeps as evidence.
//!
//! The Merkle algorithms and the note format are `tlog_tiles`' and
//! `signed_note`'s (Cloudflare's ports of Go's `sumdb/tlog` and
//! `sumdb/note`); this crate adds dotpha's storage layout and rules.
//! It depends on no async runtime, socket or database.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod cosign;
pub mod keyfile;
pub mod note;
pub mod tree;
pub mod witness;

pub use cosign::{CosignatureVerifier, Cosigner};
pub use note::{Checkpoint, LogKey, LogVerifier, NoteError, SignedCheckpoint};
pub use tree::{ConsistencyProof, Frontier, Hash, InclusionProof, NodeRow, NodeSlot, TreeError};
