//! Secrets dotpha makes (acting tokens, NATS passwords): random bytes from
//! the operating system's generator (`getrandom`), never from an id
//! generator. NUID, which names consumers and submissions, is sequential
//! by design: two of its ids share a prefix and differ by a step, so one
//! secret made from it would give away the others.

/// Random bytes in a secret: 192 bits, beyond any guessing.
pub const SECRET_BYTES: usize = 24;

/// The operating system could not give random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct SecretError(#[source] getrandom::Error);

/// A new secret: [`SECRET_BYTES`] random bytes as lowercase hex (48
/// characters, letters and digits only, so it fits a URL, a header and a
/// nats-server configuration without quoting rules).
pub fn secret() -> Result<String, SecretError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(SecretError)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets share nothing that would let one be derived from another:
    /// no common prefix, as a sequential generator's would have.
    #[test]
    fn secrets_are_independent_of_each_other() {
        let made: Vec<String> = (0..64).map(|_| secret().expect("random bytes")).collect();
        for s in &made {
            assert_eq!(s.len(), 2 * SECRET_BYTES);
            assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        for (i, a) in made.iter().enumerate() {
            for b in &made[i + 1..] {
                assert_ne!(a[..8], b[..8], "two secrets share a prefix: {a} {b}");
            }
        }
    }
}
