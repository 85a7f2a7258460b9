//! The witness's rules, apart from how checkpoints reach it: it accepts a
//! checkpoint only when the log's key signed it and it extends the last one
//! it accepted (checked by a consistency proof); it refuses a rollback (a
//! smaller tree) and a fork (another root for a size it knows, or a proof
//! that fails), keeping both notes as evidence.
//!
//! Its state is one file in its own directory: the last checkpoint note it
//! accepted, replaced atomically (write, sync, rename, sync the directory)
//! *before* a cosignature for it is published, so a cosignature never
//! vouches for a checkpoint the witness could forget after a crash.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::{
    cosign::Cosigner,
    note::{LogVerifier, NoteError, SignedCheckpoint},
    tree::{ConsistencyProof, TreeError, to_hex},
};

/// The file holding the last accepted checkpoint note.
pub const STATE_FILE: &str = "checkpoint";
/// The lock file that keeps two witnesses off one directory.
pub const LOCK_FILE: &str = "witness.lock";

/// What the witness does with an offered checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The first checkpoint it sees (trust on first use): cosign it.
    First(SignedCheckpoint),
    /// The checkpoint it accepted last, offered again: its cosignature may
    /// be published again (the log may not have kept the first).
    Again(SignedCheckpoint),
    /// A larger tree: cosign it once the consistency proof from the last
    /// accepted size verifies ([`Witness::check_proof`]).
    NeedsProof {
        /// The offered checkpoint.
        checkpoint: SignedCheckpoint,
        /// The size of the last accepted tree.
        from: u64,
    },
}

/// Why a checkpoint is not cosigned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// Not the log's (bad signature, another key, another origin, not a
    /// checkpoint). Proves nothing against the log: the witness goes on.
    #[error("not a checkpoint of this log: {0}")]
    NotTheLogs(NoteError),
    /// The log signed a smaller tree than one it signed before.
    #[error(
        "ROLLBACK: the log signed a tree of {offered} events after one of {accepted}; a log never shrinks"
    )]
    Rollback {
        /// The accepted size.
        accepted: u64,
        /// The offered size.
        offered: u64,
    },
    /// The log signed two different roots for one size.
    #[error(
        "FORK: the log signed two different trees of {size} events (roots {accepted} and {offered})"
    )]
    Fork {
        /// The size.
        size: u64,
        /// The accepted root (hex).
        accepted: String,
        /// The offered root (hex).
        offered: String,
    },
    /// The offered tree does not extend the accepted one.
    #[error(
        "FORK: the log's tree of {to} events does not extend its tree of {from} events that this witness cosigned: {reason}"
    )]
    Inconsistent {
        /// The accepted size.
        from: u64,
        /// The offered size.
        to: u64,
        /// What the proof check said.
        reason: String,
    },
}

impl Refusal {
    /// Whether the refusal proves the log misbehaved (two notes the log
    /// signed that cannot both be true): the witness keeps them and stops.
    pub fn is_evidence(&self) -> bool {
        !matches!(self, Refusal::NotTheLogs(_))
    }
}

/// What can go wrong with the witness's own files.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The state file does not hold a checkpoint of this log.
    #[error(
        "{path} holds no checkpoint of this log ({source}); it belongs to another log or was damaged: use another --data directory"
    )]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        source: NoteError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A witness of one log.
#[derive(Debug)]
pub struct Witness {
    log: LogVerifier,
    cosigner: Cosigner,
    dir: PathBuf,
    last: Option<SignedCheckpoint>,
}

impl Witness {
    /// Opens (creating) the witness's directory and reads the last
    /// accepted checkpoint, which must be the log's.
    pub fn open(dir: &Path, log: LogVerifier, cosigner: Cosigner) -> Result<Witness, WitnessError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(STATE_FILE);
        let last = match std::fs::read(&path) {
            Ok(note) => Some(log.open(&note).map_err(|source| WitnessError::State {
                path: path.clone(),
                source,
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(Witness {
            log,
            cosigner,
            dir: dir.to_owned(),
            last,
        })
    }

    /// The last accepted checkpoint.
    pub fn last(&self) -> Option<&SignedCheckpoint> {
        self.last.as_ref()
    }

    /// The witness's key.
    pub fn cosigner(&self) -> &Cosigner {
        &self.cosigner
    }

    /// Judges an offered checkpoint note.
    pub fn check(&self, note: &[u8]) -> Result<Verdict, Refusal> {
        let offered = self.log.open(note).map_err(Refusal::NotTheLogs)?;
        let Some(last) = &self.last else {
            return Ok(Verdict::First(offered));
        };
        let (accepted, new) = (&last.checkpoint, &offered.checkpoint);
        if new.size < accepted.size {
            return Err(Refusal::Rollback {
                accepted: accepted.size,
                offered: new.size,
            });
        }
        if new.size == accepted.size {
            if new.root == accepted.root {
                return Ok(Verdict::Again(offered));
            }
            return Err(Refusal::Fork {
                size: new.size,
                accepted: to_hex(&accepted.root),
                offered: to_hex(&new.root),
            });
        }
        if accepted.size == 0 {
            // Every tree extends the empty one.
            return Ok(Verdict::First(offered));
        }
        Ok(Verdict::NeedsProof {
            from: accepted.size,
            checkpoint: offered,
        })
    }

    /// Checks the consistency proof between the last accepted checkpoint
    /// and `offered`.
    pub fn check_proof(
        &self,
        offered: &SignedCheckpoint,
        proof: &ConsistencyProof,
    ) -> Result<(), Refusal> {
        let Some(last) = &self.last else {
            return Ok(());
        };
        let (from, to) = (last.checkpoint.size, offered.checkpoint.size);
        if proof.from != from || proof.to != to {
            return Err(Refusal::Inconsistent {
                from,
                to,
                reason: format!(
                    "the proof is between {} and {}, not {from} and {to}",
                    proof.from, proof.to
                ),
            });
        }
        proof
            .verify(last.checkpoint.root, offered.checkpoint.root)
            .map_err(|e: TreeError| Refusal::Inconsistent {
                from,
                to,
                reason: e.to_string(),
            })
    }

    /// Records `checkpoint` as the last accepted (durably) and returns the
    /// note with this witness's cosignature, made at `timestamp` (POSIX
    /// seconds), appended.
    pub fn accept(
        &mut self,
        checkpoint: SignedCheckpoint,
        timestamp: u64,
    ) -> Result<String, WitnessError> {
        let path = self.dir.join(STATE_FILE);
        let temporary = self.dir.join(format!("{STATE_FILE}.new"));
        {
            let mut file = std::fs::File::create(&temporary).map_err(io(&temporary))?;
            file.write_all(checkpoint.note().as_bytes())
                .map_err(io(&temporary))?;
            file.sync_all().map_err(io(&temporary))?;
        }
        std::fs::rename(&temporary, &path).map_err(io(&path))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        let line = self.cosigner.cosign(checkpoint.body.as_bytes(), timestamp);
        let cosigned = checkpoint.note_with(&[line]);
        self.last = Some(checkpoint);
        Ok(cosigned)
    }

    /// Keeps the evidence of a refusal in a new directory
    /// `evidence-<timestamp>-<size>/`: the accepted note, the offered one,
    /// the proof when there was one, and what was wrong. Returns it.
    pub fn keep_evidence(
        &self,
        offered: &[u8],
        refusal: &Refusal,
        proof: Option<&ConsistencyProof>,
        timestamp: u64,
    ) -> Result<PathBuf, WitnessError> {
        let size = self.last.as_ref().map_or(0, |l| l.checkpoint.size);
        let mut dir = self.dir.join(format!("evidence-{timestamp}-{size}"));
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = self.dir.join(format!("evidence-{timestamp}-{size}-{n}"));
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let write = |name: &str, bytes: &[u8]| -> Result<(), WitnessError> {
            let path = dir.join(name);
            let mut file = std::fs::File::create(&path).map_err(io(&path))?;
            file.write_all(bytes).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))
        };
        if let Some(last) = &self.last {
            write("accepted.note", last.note().as_bytes())?;
        }
        write("offered.note", offered)?;
        if let Some(proof) = proof {
            let text = format!(
                "{{\"from\": {}, \"to\": {}, \"proof\": [{}]}}\n",
                proof.from,
                proof.to,
                proof
                    .proof
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            write("proof.json", text.as_bytes())?;
        }
        write(
            "README.txt",
            format!(
                "{refusal}\n\nBoth notes carry the log's signature ({}).\nCheck them with any C2SP signed-note verifier.\n",
                self.log.verifier_key()
            )
            .as_bytes(),
        )?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        Ok(dir)
    }
}
