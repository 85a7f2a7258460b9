//! Cosignatures: C2SP `tlog-cosignature`, type `cosignature/v1` (Ed25519).
//!
//! A cosignature is a signed-note signature line `— <witness name>
//! base64(key id ‖ timestamp ‖ signature)` where the key id is the first
//! four bytes of SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key), the timestamp is
//! 8 bytes big-endian (POSIX seconds), and the Ed25519 signature covers
//! `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note
//! body. `signed_note` has no such key type, so this module supplies its
//! signer and verifier through that crate's traits.

use base64::{Engine, prelude::BASE64_STANDARD};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, Signature, Verifier, VerifierList};

use crate::note::{NoteError, is_valid_name, split_private_key};

/// The signature type byte of a `cosignature/v1` key.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The message a `cosignature/v1` signature covers.
pub fn signed_message(body: &[u8], timestamp: u64) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

/// A witness's signing key. Stored as `PRIVATE+KEY+<name>+<key
/// id>+base64(0x04 ‖ seed)`, the layout of Go's note keys with the
/// cosignature type byte.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosigner")
            .field("vkey", &self.verifier_key())
            .finish()
    }
}

fn key_material(public: &VerifyingKey) -> Vec<u8> {
    let mut material = vec![ALG_COSIGNATURE_V1];
    material.extend_from_slice(public.as_bytes());
    material
}

impl Cosigner {
    /// A new witness key named `name`, and its private text to store.
    pub fn generate(name: &str) -> Result<(Cosigner, String), NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::Key(format!(
                "{name:?} cannot name a witness: it must be non-empty, without spaces or '+'"
            )));
        }
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let cosigner = Cosigner::new(name, key);
        let mut material = vec![ALG_COSIGNATURE_V1];
        material.extend_from_slice(cosigner.key.as_bytes());
        let private = format!(
            "PRIVATE+KEY+{name}+{:08x}+{}",
            cosigner.id,
            BASE64_STANDARD.encode(material)
        );
        Ok((cosigner, private))
    }

    fn new(name: &str, key: SigningKey) -> Cosigner {
        let id = signed_note::key_id(name, &key_material(&key.verifying_key()));
        Cosigner {
            name: name.to_owned(),
            id,
            key,
        }
    }

    /// Reads a stored private key.
    pub fn from_private(text: &str) -> Result<Cosigner, NoteError> {
        let (name, material) = split_private_key(text)?;
        if material[0] != ALG_COSIGNATURE_V1 || material.len() != 33 {
            return Err(NoteError::Key(
                "not a cosignature/v1 (type 0x04, Ed25519) key".to_owned(),
            ));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&material[1..]);
        let cosigner = Cosigner::new(&name, SigningKey::from_bytes(&seed));
        let stated = text
            .trim()
            .split('+')
            .nth(3)
            .and_then(|id| u32::from_str_radix(id, 16).ok());
        if stated != Some(cosigner.id) {
            return Err(NoteError::Key(
                "the key id does not match the key (a damaged key file?)".to_owned(),
            ));
        }
        Ok(cosigner)
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key: `<name>+<key id>+base64(0x04 ‖ public key)`.
    pub fn verifier_key(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64_STANDARD.encode(key_material(&self.key.verifying_key()))
        )
    }

    /// The cosignature of a checkpoint note `body`, made at `timestamp`
    /// (POSIX seconds), as a note signature line ending in a newline.
    pub fn cosign(&self, body: &[u8], timestamp: u64) -> String {
        let signature = self.key.sign(&signed_message(body, timestamp));
        let mut sig = timestamp.to_be_bytes().to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        let line = Signature::new(self.name.clone(), self.id, sig)
            .expect("a cosigner's name was checked when it was made")
            .to_bytes();
        String::from_utf8_lossy(&line).into_owned()
    }
}

/// Verifies one witness's cosignatures.
#[derive(Clone, Debug)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
    vkey: String,
}

impl CosignatureVerifier {
    /// From a witness's verifier key (`dotpha key --witness FILE` prints it).
    pub fn new(vkey: &str) -> Result<CosignatureVerifier, NoteError> {
        let vkey = vkey.trim();
        let bad = |why: &str| NoteError::Key(format!("{vkey:?}: {why}"));
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not <name>+<key id>+<base64 key>"));
        };
        let material = BASE64_STANDARD
            .decode(material)
            .map_err(|_| bad("the key is not base64"))?;
        if !is_valid_name(name) || id.len() != 8 {
            return Err(bad("not <name>+<key id>+<base64 key>"));
        }
        if material.len() != 33 || material[0] != ALG_COSIGNATURE_V1 {
            return Err(bad("not a cosignature/v1 (type 0x04, Ed25519) key"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("the key id is not hex"))?;
        if id != signed_note::key_id(name, &material) {
            return Err(bad("the key id does not match the key"));
        }
        let mut public = [0u8; 32];
        public.copy_from_slice(&material[1..]);
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 key"))?;
        Ok(CosignatureVerifier {
            name: name.to_owned(),
            id,
            key,
            vkey: vkey.to_owned(),
        })
    }

    /// The witness's name.
    pub fn witness(&self) -> &str {
        &self.name
    }

    /// The verifier key as given.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    /// The timestamp of a valid cosignature `line` over `body`, or `None`
    /// when the line is not this witness's or does not verify.
    pub fn check_line(&self, body: &[u8], line: &str) -> Option<u64> {
        let sig = Signature::from_bytes(line.trim_end_matches('\n').as_bytes()).ok()?;
        if sig.name() != self.name || sig.id() != self.id {
            return None;
        }
        self.verify(body, sig.signature())
            .then(|| timestamp_of(sig.signature()))
            .flatten()
    }
}

fn timestamp_of(sig: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = sig.get(..8)?.try_into().ok()?;
    let t = u64::from_be_bytes(bytes);
    (t <= i64::MAX as u64).then_some(t)
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(timestamp), Ok(signature)) = (
            timestamp_of(sig),
            ed25519_dalek::Signature::from_slice(sig.get(8..).unwrap_or_default()),
        ) else {
            return false;
        };
        self.key
            .verify(&signed_message(msg, timestamp), &signature)
            .is_ok()
    }
}

/// The witnesses among `known` whose cosignatures on `note` verify, each
/// once, with the line. Lines of unknown keys are skipped; a line of a
/// known key that does not verify is skipped too (it proves nothing).
pub fn verified_cosignatures<'a>(
    note: &[u8],
    known: &'a [CosignatureVerifier],
) -> Result<Vec<(&'a CosignatureVerifier, String)>, NoteError> {
    let parsed = Note::from_bytes(note).map_err(|e| NoteError::Malformed(e.to_string()))?;
    // Parse the lines back out of the note's encoding.
    let text = String::from_utf8_lossy(&parsed.to_bytes()).into_owned();
    let signatures = text
        .rsplit_once("\n\n")
        .map(|(_, s)| s.to_owned())
        .unwrap_or_default();
    let mut found = Vec::new();
    for verifier in known {
        for line in signatures.lines() {
            if verifier.check_line(parsed.text(), line).is_some() {
                found.push((verifier, format!("{line}\n")));
                break;
            }
        }
    }
    // Checked too through the crate's own verification path, so both agree
    // on what a valid note is.
    if !found.is_empty() {
        let list = VerifierList::new(
            found
                .iter()
                .map(|(v, _)| Box::new((*v).clone()) as Box<dyn Verifier>)
                .collect(),
        );
        parsed
            .verify(&list)
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{note::LogKey, tree::leaf_hash};

    #[test]
    fn a_cosignature_verifies_with_the_witness_key_and_nothing_else() {
        let (log, _) = LogKey::generate("log.example/a").expect("log key");
        let note = log.sign(3, leaf_hash(b"r")).expect("note");
        let body = note.split_once("\n\n").expect("body").0.to_owned() + "\n";
        let (witness, private) = Cosigner::generate("hop-thanh.example/witness").expect("key");
        let line = witness.cosign(body.as_bytes(), 1_700_000_000);
        let verifier = CosignatureVerifier::new(&witness.verifier_key()).expect("vkey");
        assert_eq!(
            verifier.check_line(body.as_bytes(), &line),
            Some(1_700_000_000)
        );
        assert_eq!(
            verifier.check_line(body.replace('3', "4").as_bytes(), &line),
            None
        );
        let cosigned = format!("{note}{line}");
        let found = verified_cosignatures(cosigned.as_bytes(), std::slice::from_ref(&verifier))
            .expect("parses");
        assert_eq!(found.len(), 1);
        assert_eq!(
            Cosigner::from_private(&private)
                .expect("reads")
                .verifier_key(),
            witness.verifier_key()
        );
        let (other, _) = Cosigner::generate("hop-thanh.example/witness").expect("key");
        let other = CosignatureVerifier::new(&other.verifier_key()).expect("vkey");
        assert_eq!(other.check_line(body.as_bytes(), &line), None);
    }

    #[test]
    fn a_log_key_is_not_a_witness_key() {
        let (log, private) = LogKey::generate("log.example/a").expect("log key");
        assert!(Cosigner::from_private(&private).is_err());
        assert!(CosignatureVerifier::new(log.verifier_key()).is_err());
    }
}
