//! The log's Merkle tree (CONTRACT.md part B) and its signed checkpoints,
//! stored beside the events.
//!
//! `tree_nodes` holds one row per event: the hashes that appending its leaf
//! completed ([`dotpha_tlog::NodeRow`]). The writer inserts it in the
//! transaction that inserts the event, from a frontier it keeps in memory,
//! so the tree and the events never disagree and an append reads nothing.
//! A log written before the tree existed is filled from its events when
//! the writer opens it; `verify` recomputes every row from the events.
//!
//! `tree_checkpoints` keeps every checkpoint the log signed, and
//! `cosignatures` the witnesses' cosignatures it received and verified.

use dotpha_tlog::{
    Frontier, Hash, InclusionProof, NodeRow, NodeSlot, TreeError,
    tree::{self, NodeReader, path_hex, to_hex},
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Log, StoreError};

/// Events filled into the tree per transaction when an older log is
/// brought up to date (bounds the transaction, not the total).
const FILL_CHUNK: u64 = 65_536;

/// Reads stored nodes through a connection (or a transaction).
pub(crate) struct Rows<'c>(pub(crate) &'c Connection);

impl NodeReader for Rows<'_> {
    fn read_nodes(&self, slots: &[NodeSlot]) -> Result<Vec<Hash>, String> {
        // One query for all the rows a proof needs (at most 2 log₂ n).
        let mut positions: Vec<u64> = slots.iter().map(|s| s.leaf + 1).collect();
        positions.sort_unstable();
        positions.dedup();
        // Padded to a few fixed lengths, so a handful of cached statements
        // serve every proof.
        let length = positions.len().next_power_of_two().max(8);
        if let Some(&last) = positions.last() {
            positions.resize(length, last);
        }
        let placeholders = vec!["?"; positions.len()].join(", ");
        let mut stmt = self
            .0
            .prepare_cached(&format!(
                "SELECT position, hashes FROM tree_nodes WHERE position IN ({placeholders})"
            ))
            .map_err(|e| e.to_string())?;
        let mut rows: std::collections::HashMap<u64, Vec<u8>> =
            std::collections::HashMap::with_capacity(positions.len());
        let found = stmt
            .query_map(rusqlite::params_from_iter(&positions), |r| {
                Ok((r.get::<_, u64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| e.to_string())?;
        for row in found {
            let (position, bytes) = row.map_err(|e| e.to_string())?;
            rows.insert(position, bytes);
        }
        slots
            .iter()
            .map(|slot| {
                let position = slot.leaf + 1;
                let bytes = rows
                    .get(&position)
                    .ok_or_else(|| format!("the tree has no row for position {position}"))?;
                NodeRow::from_bytes(bytes)
                    .and_then(|row| row.0.get(usize::from(slot.level)).copied())
                    .ok_or_else(|| format!("the tree's row for position {position} is damaged"))
            })
            .collect()
    }
}

/// The frontier of the stored tree of `size` leaves.
pub(crate) fn load_frontier(conn: &Connection, size: u64) -> Result<Frontier, StoreError> {
    let slots = Frontier::slots(size);
    let nodes = Rows(conn).read_nodes(&slots).map_err(TreeError::Read)?;
    Ok(Frontier::from_nodes(size, &nodes)?)
}

/// How many leaves the stored tree has (rows are gapless from 1).
pub(crate) fn stored_size(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn
        .query_row("SELECT MAX(position) FROM tree_nodes", [], |r| {
            r.get::<_, Option<u64>>(0)
        })?
        .unwrap_or(0))
}

/// Adds the tree rows of events the tree does not cover yet (a log written
/// before the tree existed, or by an older dotpha), in chunks; returns the
/// frontier at the head.
pub(crate) fn fill(conn: &mut Connection, head: u64, path: &str) -> Result<Frontier, StoreError> {
    let mut size = stored_size(conn)?;
    let mut frontier = load_frontier(conn, size)?;
    while size < head {
        let tx = conn.transaction()?;
        {
            let mut events = tx.prepare(
                "SELECT position, hash FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
            )?;
            let mut insert =
                tx.prepare("INSERT INTO tree_nodes (position, hashes) VALUES (?1, ?2)")?;
            let mut rows = events.query(params![size, FILL_CHUNK])?;
            while let Some(r) = rows.next()? {
                let position: u64 = r.get(0)?;
                let hash: String = r.get(1)?;
                if position != size + 1 {
                    return Err(StoreError::Corrupt {
                        path: path.to_owned(),
                        position: size + 1,
                        reason: "missing while building the Merkle tree".to_owned(),
                    });
                }
                let leaf = tree::parse_hex(&hash).ok_or_else(|| StoreError::Corrupt {
                    path: path.to_owned(),
                    position,
                    reason: format!("hash {hash:?} is not 64 hex digits"),
                })?;
                insert.execute(params![position, frontier.append(&leaf.0).to_bytes()])?;
                size = position;
            }
        }
        tx.commit()?;
    }
    Ok(frontier)
}

/// A checkpoint the log signed, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it covers.
    pub tree_size: u64,
    /// The root (64 hex digits).
    pub root_hash: String,
    /// The signed note (the log's signature only).
    pub note: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
}

/// The checkpoint a piece of the log is best attested by.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attestation {
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// Its root (hex).
    pub root_hash: String,
    /// How many distinct witnesses cosigned it.
    pub cosigned_by: u64,
    /// Their names.
    pub witnesses: Vec<String>,
}

fn read_checkpoint(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        tree_size: r.get(0)?,
        root_hash: r.get(1)?,
        note: r.get(2)?,
        signed_at: r.get(3)?,
    })
}

impl Log {
    /// The root of the tree of the first `size` events; `size` may not
    /// exceed the head.
    pub fn tree_root(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        Ok(tree::root(size, &Rows(&self.conn))?)
    }

    /// The root of the tree at the head, from the writer's frontier (no
    /// read) when this handle keeps one.
    pub fn head_root(&self) -> Result<(u64, Hash), StoreError> {
        // The file's head: another handle (the writer's) may have appended.
        let head = self.current_head()?.position;
        match &self.frontier {
            Some(f) if f.size() == head => Ok((head, f.root())),
            _ => Ok((head, self.tree_root(head)?)),
        }
    }

    fn check_size(&self, size: u64) -> Result<(), StoreError> {
        let head = self.current_head()?.position;
        if size > head {
            return Err(
                TreeError::OutOfRange(format!("the log holds {head} events, not {size}")).into(),
            );
        }
        Ok(())
    }

    /// RFC 9162 inclusion proof of the event at `position` in the tree of
    /// `size` events.
    pub fn inclusion_proof(&self, position: u64, size: u64) -> Result<InclusionProof, StoreError> {
        if position == 0 || position > size {
            return Err(TreeError::OutOfRange(format!(
                "position {position} is not in a tree of {size} events (positions run from 1)"
            ))
            .into());
        }
        self.check_size(size)?;
        let rows = Rows(&self.conn);
        let leaf = rows
            .read_nodes(&[NodeSlot {
                leaf: position - 1,
                level: 0,
            }])
            .map_err(TreeError::Read)?;
        let proof = tree::inclusion_proof(position - 1, size, &rows)?;
        Ok(InclusionProof {
            position,
            tree_size: size,
            leaf_hash: leaf.first().map(to_hex).unwrap_or_default(),
            proof: path_hex(&proof),
        })
    }

    /// RFC 9162 consistency proof between the trees of `from` and `to`
    /// events.
    pub fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<dotpha_tlog::ConsistencyProof, StoreError> {
        self.check_size(to)?;
        let proof = tree::consistency_proof(from, to, &Rows(&self.conn))?;
        Ok(dotpha_tlog::ConsistencyProof {
            from,
            to,
            proof: path_hex(&proof),
        })
    }

    /// The inclusion proof of the event at `position` against a signed
    /// checkpoint: the one of `size`, or the latest when `size` is `None`.
    /// A size beyond the latest checkpoint is
    /// [`TreeError::BeyondCheckpoint`]: proofs are given only against trees
    /// the log has signed.
    pub fn signed_inclusion_proof(
        &self,
        position: u64,
        size: Option<u64>,
    ) -> Result<(InclusionProof, StoredCheckpoint), StoreError> {
        let latest = self.latest_checkpoint()?;
        let signed = latest.as_ref().map_or(0, |c| c.tree_size);
        // Without a size, a position the latest checkpoint does not cover
        // yet is beyond it (it will be covered within a second).
        let size = size.unwrap_or(signed.max(position));
        if size > signed || latest.is_none() {
            return Err(TreeError::BeyondCheckpoint {
                asked: size.max(position),
                signed,
            }
            .into());
        }
        let proof = self.inclusion_proof(position, size)?;
        // The checkpoint of that very size when the log signed one, so the
        // caller can check the proof against a signed root.
        let checkpoint = match self.checkpoint_at(size)? {
            Some(c) => c,
            None => latest.ok_or(TreeError::BeyondCheckpoint {
                asked: size,
                signed,
            })?,
        };
        Ok((proof, checkpoint))
    }

    /// The consistency proof between `from` and `to`, where `to` may not
    /// exceed the latest signed checkpoint.
    pub fn signed_consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<dotpha_tlog::ConsistencyProof, StoreError> {
        let signed = self.latest_checkpoint()?.map_or(0, |c| c.tree_size);
        if to > signed {
            return Err(TreeError::BeyondCheckpoint { asked: to, signed }.into());
        }
        self.consistency_proof(from, to)
    }

    /// Records a checkpoint the log signed. Signing the same size again
    /// (after a restart) keeps the first note when the roots agree.
    pub fn record_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO tree_checkpoints (tree_size, root_hash, note, signed_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tree_size) DO NOTHING",
            )?
            .execute(params![
                checkpoint.tree_size,
                checkpoint.root_hash,
                checkpoint.note,
                checkpoint.signed_at
            ])?;
        Ok(())
    }

    /// The latest checkpoint the log signed.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT tree_size, root_hash, note, signed_at FROM tree_checkpoints
                 ORDER BY tree_size DESC LIMIT 1",
            )?
            .query_row([], read_checkpoint)
            .optional()?)
    }

    /// The checkpoint the log signed for `size`, if it signed one.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT tree_size, root_hash, note, signed_at FROM tree_checkpoints
                 WHERE tree_size = ?1",
            )?
            .query_row([size], read_checkpoint)
            .optional()?)
    }

    /// Keeps a verified cosignature `line` of the checkpoint of `size` by
    /// the witness `witness` (its name); true when it is new.
    pub fn record_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        timestamp: u64,
        received_at: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO cosignatures (tree_size, witness, line, timestamp, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tree_size, witness) DO NOTHING",
            )?
            .execute(params![size, witness, line, timestamp as i64, received_at])?
            == 1)
    }

    /// The cosignature lines held for the checkpoint of `size`, by witness
    /// name.
    pub fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT witness, line FROM cosignatures WHERE tree_size = ?1 ORDER BY witness",
        )?;
        let rows = stmt.query_map([size], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest checkpoint, and the latest one a witness cosigned when
    /// that is another: what the page says an event is included in.
    pub fn attestations(&self) -> Result<Vec<Attestation>, StoreError> {
        let latest = self.latest_checkpoint()?;
        let cosigned: Option<u64> = self
            .conn
            .prepare_cached("SELECT MAX(tree_size) FROM cosignatures")?
            .query_row([], |r| r.get(0))?;
        let mut sizes: Vec<u64> = latest.iter().map(|c| c.tree_size).collect();
        if let Some(size) = cosigned
            && !sizes.contains(&size)
        {
            sizes.push(size);
        }
        let mut out = Vec::new();
        for size in sizes {
            let Some(checkpoint) = self.checkpoint_at(size)? else {
                continue;
            };
            let witnesses: Vec<String> = self
                .cosignatures(size)?
                .into_iter()
                .map(|(w, _)| w)
                .collect();
            out.push(Attestation {
                tree_size: size,
                root_hash: checkpoint.root_hash,
                cosigned_by: witnesses.len() as u64,
                witnesses,
            });
        }
        Ok(out)
    }
}

/// Whether the log has the tree's table (a log of schema 3 opened
/// read-only has not).
pub(crate) fn has_tree(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tree_nodes'")?
        .exists([])?)
}

/// `verify`'s tree check, one event at a time in position order: the row
/// stored for each event must be exactly what the events' hashes give.
#[derive(Default)]
pub(crate) struct TreeCheck {
    frontier: Frontier,
}

impl TreeCheck {
    /// Checks the next event's row; a problem for a person when it is
    /// missing or differs.
    pub(crate) fn check(&mut self, event_hash: &str, stored: Option<&[u8]>) -> Option<String> {
        let Some(leaf) = tree::parse_hex(event_hash) else {
            return Some("the event's hash is not 64 hex digits".to_owned());
        };
        let expected = self.frontier.append(&leaf.0);
        match stored {
            None => Some("the Merkle tree has no node row for this event".to_owned()),
            Some(bytes)
                if bytes.len() != 32 * expected.0.len()
                    || bytes
                        .chunks_exact(32)
                        .zip(&expected.0)
                        .any(|(stored, computed)| stored != computed.0) =>
            {
                Some(
                    "the Merkle tree's nodes for this event are not those its hash gives"
                        .to_owned(),
                )
            }
            Some(_) => None,
        }
    }
}

/// The first tree row past the last event, if any.
pub(crate) fn row_beyond(
    conn: &Connection,
    last: u64,
) -> Result<Option<(u64, String)>, StoreError> {
    let extra: Option<u64> = conn
        .query_row(
            "SELECT MIN(position) FROM tree_nodes WHERE position > ?1",
            [last],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(extra.map(|p| {
        (
            p,
            "the Merkle tree has a node row for an event the log does not hold".to_owned(),
        )
    }))
}
