//! Checkpoints: a C2SP `tlog-checkpoint` (origin line, tree size in decimal,
//! base64 root hash) in a C2SP `signed-note`, signed with the log's Ed25519
//! key. Parsing, signing and verifying are `signed_note`'s and
//! `tlog_tiles`' (ports of Go's `sumdb/note` and `sumdb/tlog`); this module
//! only ties them to dotpha's key and origin.

use base64::{Engine, prelude::BASE64_STANDARD};
use signed_note::{Note, Signer, StandardSigner, StandardVerifier, VerifierList};

use crate::tree::Hash;

/// The signature type byte of an Ed25519 signed-note key (C2SP signed-note).
pub const ALG_ED25519: u8 = 0x01;

/// What is wrong with a checkpoint, a key, or a note.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// The text is not a signed note or its body not a checkpoint.
    #[error("not a C2SP checkpoint note: {0}")]
    Malformed(String),
    /// The log's signature is there but does not verify: the note was
    /// altered or forged.
    #[error("the log's signature on the checkpoint does not verify (altered or forged)")]
    BadSignature,
    /// No signature of the log's key is on the note.
    #[error("the checkpoint is not signed by the log's key {0}")]
    NotSigned(String),
    /// The checkpoint names another log.
    #[error("the checkpoint's origin is {found:?}, the log's is {expected:?}")]
    WrongOrigin {
        /// The log's origin (its key's name).
        expected: String,
        /// The checkpoint's.
        found: String,
    },
    /// A key cannot be read.
    #[error("not a usable key: {0}")]
    Key(String),
}

/// A tree head: the log's origin, the tree size and the root hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The origin line: the name of the deployment.
    pub origin: String,
    /// How many leaves (events) the tree has.
    pub size: u64,
    /// The tree's root.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> Result<String, NoteError> {
        let checkpoint = tlog_tiles::Checkpoint::new(&self.origin, self.size, self.root, "")
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
        String::from_utf8(checkpoint.to_bytes()).map_err(|e| NoteError::Malformed(e.to_string()))
    }

    /// Reads a note body (extension lines are allowed and ignored).
    pub fn parse_body(body: &[u8]) -> Result<Checkpoint, NoteError> {
        let parsed = tlog_tiles::Checkpoint::from_bytes(body)
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
        Ok(Checkpoint {
            origin: parsed.origin().to_owned(),
            size: parsed.size(),
            root: *parsed.hash(),
        })
    }
}

/// The log's signing key, in Go's note format (`PRIVATE+KEY+<name>+<key
/// id>+base64(0x01 ‖ seed)`); its name is the log's origin.
#[derive(Clone)]
pub struct LogKey {
    signer: StandardSigner,
    name: String,
    vkey: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private half.
        f.debug_struct("LogKey").field("vkey", &self.vkey).finish()
    }
}

/// Whether `name` may name a key and so an origin: non-empty, no Unicode
/// space, no `+` (C2SP signed-note).
pub fn is_valid_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name)
}

/// Splits `PRIVATE+KEY+<name>+<id>+<base64>` into the name and the decoded
/// key material (type byte first).
pub(crate) fn split_private_key(text: &str) -> Result<(String, Vec<u8>), NoteError> {
    let bad = || NoteError::Key("not PRIVATE+KEY+<name>+<key id>+<base64 key>".to_owned());
    let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
    let (name, rest) = rest.split_once('+').ok_or_else(bad)?;
    let (_id, key) = rest.split_once('+').ok_or_else(bad)?;
    let key = BASE64_STANDARD.decode(key).map_err(|_| bad())?;
    if !is_valid_name(name) || key.is_empty() {
        return Err(bad());
    }
    Ok((name.to_owned(), key))
}

impl LogKey {
    /// A new key named `origin`, and its private text to store.
    pub fn generate(origin: &str) -> Result<(LogKey, String), NoteError> {
        if !is_valid_name(origin) {
            return Err(NoteError::Key(format!(
                "{origin:?} cannot name a log: it must be non-empty, without spaces or '+'"
            )));
        }
        let (skey, _) = signed_note::generate_key(&mut rand_core::OsRng, origin);
        Ok((LogKey::from_private(&skey)?, skey))
    }

    /// Reads a stored private key.
    pub fn from_private(text: &str) -> Result<LogKey, NoteError> {
        let (name, key) = split_private_key(text)?;
        if key[0] != ALG_ED25519 || key.len() != 33 {
            return Err(NoteError::Key("not an Ed25519 note key".to_owned()));
        }
        let signer = StandardSigner::new(text.trim()).map_err(|e| NoteError::Key(e.to_string()))?;
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&key[1..]);
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let vkey = signed_note::new_ed25519_verifier_key(&name, &public);
        Ok(LogKey { signer, name, vkey })
    }

    /// The key's name: the log's origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signed-note verifier key: `<name>+<key id>+base64(0x01 ‖
    /// public key)`, what `dotpha key` prints.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    /// The signed checkpoint note for a tree of `size` with `root`.
    pub fn sign(&self, size: u64, root: Hash) -> Result<String, NoteError> {
        let body = Checkpoint {
            origin: self.name.clone(),
            size,
            root,
        }
        .body()?;
        let mut note =
            Note::new(body.as_bytes(), &[]).map_err(|e| NoteError::Malformed(e.to_string()))?;
        note.add_sigs(&[&self.signer as &dyn Signer])
            .map_err(|e| NoteError::Key(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| NoteError::Malformed(e.to_string()))
    }
}

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedCheckpoint {
    /// What it says.
    pub checkpoint: Checkpoint,
    /// The note body (the signed text).
    pub body: String,
    /// The log's signature line.
    pub log_signature: String,
    /// Every other signature line on the note (cosignatures), as given,
    /// each ending in a newline.
    pub other_signatures: Vec<String>,
}

impl SignedCheckpoint {
    /// The note with the log's signature only.
    pub fn note(&self) -> String {
        format!("{}\n{}", self.body, self.log_signature)
    }

    /// The note with the log's signature and `cosignatures` (lines).
    pub fn note_with(&self, cosignatures: &[String]) -> String {
        let mut text = self.note();
        for line in cosignatures {
            text.push_str(line);
            if !line.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }
}

/// Verifies checkpoints against the log's verifier key.
#[derive(Clone)]
pub struct LogVerifier {
    inner: StandardVerifier,
    vkey: String,
}

impl std::fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogVerifier")
            .field("vkey", &self.vkey)
            .finish()
    }
}

impl LogVerifier {
    /// From a verifier key as `dotpha key` prints it.
    pub fn new(vkey: &str) -> Result<LogVerifier, NoteError> {
        let inner = StandardVerifier::new(vkey.trim()).map_err(|e| {
            NoteError::Key(format!(
                "{:?} is not an Ed25519 signed-note verifier key: {e}",
                vkey.trim()
            ))
        })?;
        Ok(LogVerifier {
            inner,
            vkey: vkey.trim().to_owned(),
        })
    }

    /// The key's name (the log's origin).
    pub fn name(&self) -> &str {
        signed_note::Verifier::name(&self.inner)
    }

    /// The verifier key.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    /// Parses `note` and checks the log's signature on it and that its
    /// origin is the key's name.
    pub fn open(&self, note: &[u8]) -> Result<SignedCheckpoint, NoteError> {
        let parsed = Note::from_bytes(note).map_err(|e| NoteError::Malformed(e.to_string()))?;
        let known = VerifierList::new(vec![Box::new(self.inner.clone())]);
        let (verified, others) = match parsed.verify(&known) {
            Ok(found) => found,
            Err(signed_note::NoteError::InvalidSignature { .. }) => {
                return Err(NoteError::BadSignature);
            }
            Err(signed_note::NoteError::UnverifiedNote) => {
                return Err(NoteError::NotSigned(self.vkey.clone()));
            }
            Err(e) => return Err(NoteError::Malformed(e.to_string())),
        };
        let body = String::from_utf8(parsed.text().to_vec())
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
        let checkpoint = Checkpoint::parse_body(body.as_bytes())?;
        if checkpoint.origin != self.name() {
            return Err(NoteError::WrongOrigin {
                expected: self.name().to_owned(),
                found: checkpoint.origin,
            });
        }
        let line = |s: &signed_note::Signature| String::from_utf8_lossy(&s.to_bytes()).into_owned();
        Ok(SignedCheckpoint {
            checkpoint,
            body,
            log_signature: verified.first().map(line).unwrap_or_default(),
            other_signatures: others.iter().map(line).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::leaf_hash;

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_says_what_was_signed() {
        let (key, private) = LogKey::generate("son-duong.example/dotpha").expect("key");
        let note = key.sign(42, leaf_hash(b"x")).expect("signed");
        let verifier = LogVerifier::new(key.verifier_key()).expect("vkey");
        let opened = verifier.open(note.as_bytes()).expect("verifies");
        assert_eq!(opened.checkpoint.size, 42);
        assert_eq!(opened.checkpoint.root, leaf_hash(b"x"));
        assert_eq!(opened.note(), note);
        assert!(opened.other_signatures.is_empty());
        // The stored private text gives the same key back.
        let again = LogKey::from_private(&private).expect("reads");
        assert_eq!(again.verifier_key(), key.verifier_key());
        assert!(!format!("{again:?}").contains("PRIVATE"));
    }

    #[test]
    fn an_altered_or_foreign_checkpoint_is_refused() {
        let (key, _) = LogKey::generate("a.example/log").expect("key");
        let verifier = LogVerifier::new(key.verifier_key()).expect("vkey");
        let note = key.sign(7, leaf_hash(b"x")).expect("signed");
        let altered = note.replacen("\n7\n", "\n8\n", 1);
        assert_eq!(
            verifier.open(altered.as_bytes()),
            Err(NoteError::BadSignature)
        );
        let (other, _) = LogKey::generate("a.example/log").expect("key");
        let foreign = other.sign(7, leaf_hash(b"x")).expect("signed");
        assert!(matches!(
            verifier.open(foreign.as_bytes()),
            Err(NoteError::NotSigned(_))
        ));
        assert!(matches!(
            verifier.open(b"not a note"),
            Err(NoteError::Malformed(_))
        ));
    }
}
