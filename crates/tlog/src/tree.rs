//! The log as a Merkle tree, exactly as RFC 9162 §2.1 defines it: leaf `i`
//! (from 0) is the 32 bytes of the hash of the event at position `i + 1`;
//! a leaf hash is SHA-256(0x00 ‖ leaf), an interior node SHA-256(0x01 ‖
//! left ‖ right).
//!
//! The algorithms are `tlog_tiles`' (a port of Go's `sumdb/tlog`, the code
//! behind Go's checksum database). It numbers every node the tree ever
//! completes in one dense sequence, the *stored hash index*: appending leaf
//! `i` completes `1 + t` nodes, where `t` is the number of trailing one
//! bits of `i` (about two on average), namely leaf `i` itself and the
//! subtrees it closes on levels `1..=t`. dotpha keeps those hashes as one
//! row per leaf ([`NodeRow`]), written in the transaction that appends the
//! event, so a root, an inclusion proof or a consistency proof for any size
//! reads at most `2 log₂ n` rows.

use serde::{Deserialize, Serialize};
pub use tlog_tiles::{EMPTY_HASH, Hash, HashReader, node_hash};
use tlog_tiles::{
    prove_record, prove_tree, record_hash, split_stored_hash_index, stored_hash_index,
    stored_hashes_for_record_hash, tree_hash,
};

/// Longest proof accepted from outside: a tree of 2⁶⁴ leaves needs at most
/// 64 hashes for an inclusion proof, 65 for a consistency proof.
pub const MAX_PROOF_HASHES: usize = 65;

/// What is wrong with a request for a tree, a proof, or a proof itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    /// The sizes or index asked for do not make sense (a leaf beyond the
    /// tree, a consistency proof from a larger tree to a smaller one, from
    /// an empty tree).
    #[error("{0}")]
    OutOfRange(String),
    /// A tree larger than the latest signed checkpoint: proofs are given
    /// only against trees the log has signed.
    #[error(
        "the latest signed checkpoint covers {signed} events, not {asked}: ask for a size up to it (a new checkpoint follows any commit within a second)"
    )]
    BeyondCheckpoint {
        /// The size asked for.
        asked: u64,
        /// The latest checkpoint's size (0 when none is signed yet).
        signed: u64,
    },
    /// A proof does not prove what it claims.
    #[error("the proof does not verify: {0}")]
    InvalidProof(String),
    /// The stored nodes could not be read (the caller has the cause).
    #[error("the tree's nodes could not be read: {0}")]
    Read(String),
}

/// The hash of leaf data: SHA-256(0x00 ‖ data). For dotpha's log the data
/// is the 32 bytes of an event's `hash`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    record_hash(data)
}

/// The leaf hash of the event whose `hash` member is `event_hash` (64
/// lowercase hex digits); `None` when it is not such a string.
pub fn event_leaf_hash(event_hash: &str) -> Option<Hash> {
    let bytes = parse_hex(event_hash)?;
    Some(leaf_hash(&bytes.0))
}

/// Reads 64 hex digits as a hash.
pub fn parse_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(Hash(out))
}

/// A hash as 64 lowercase hex digits (the JSON form of the proof routes).
pub fn to_hex(hash: &Hash) -> String {
    hex::encode(hash.0)
}

/// Where a stored node lives: in the row of the leaf whose append completed
/// it, at `level` (the node's height; 0 is the leaf hash itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeSlot {
    /// The leaf (from 0) whose row holds the node.
    pub leaf: u64,
    /// The node's level, which is also its place in that row.
    pub level: u8,
}

/// The slot of the node with stored hash index `index`.
pub fn locate(index: u64) -> NodeSlot {
    let (level, n) = split_stored_hash_index(index);
    // The node (level, n) covers leaves [n·2^level, (n+1)·2^level); the
    // append of its last leaf completes it.
    NodeSlot {
        leaf: ((n + 1) << level) - 1,
        level,
    }
}

/// The hashes one leaf's append completes, in level order: the leaf hash,
/// then each subtree it closes. Stored as one row, `32 × len` bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRow(pub Vec<Hash>);

impl NodeRow {
    /// The row as stored: the hashes back to back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 * self.0.len());
        for h in &self.0 {
            out.extend_from_slice(&h.0);
        }
        out
    }

    /// Reads a stored row; `None` when its length is not a whole number of
    /// hashes or is zero.
    pub fn from_bytes(bytes: &[u8]) -> Option<NodeRow> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(32) {
            return None;
        }
        Some(NodeRow(
            bytes
                .chunks_exact(32)
                .map(|c| {
                    let mut h = [0u8; 32];
                    h.copy_from_slice(c);
                    Hash(h)
                })
                .collect(),
        ))
    }

    /// How many hashes the row of leaf `leaf` holds: one plus the number of
    /// trailing one bits of `leaf`.
    pub fn len_for(leaf: u64) -> usize {
        1 + (leaf + 1).trailing_zeros() as usize
    }
}

/// The right edge of a tree: the roots of its maximal complete subtrees,
/// one per set bit of its size. That is all an append needs, so the writer
/// keeps it in memory and reads nothing to extend the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Frontier {
    size: u64,
    /// `roots[level]` is set exactly when bit `level` of `size` is.
    roots: [Option<Hash>; 64],
}

impl Default for Frontier {
    fn default() -> Frontier {
        Frontier::empty()
    }
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn empty() -> Frontier {
        Frontier {
            size: 0,
            roots: [None; 64],
        }
    }

    /// The tree's size (number of leaves).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The nodes a frontier of `size` is made of, as slots to read, from
    /// the highest level down (the order [`Frontier::from_nodes`] takes).
    pub fn slots(size: u64) -> Vec<NodeSlot> {
        (0..64u8)
            .rev()
            .filter(|level| size >> level & 1 == 1)
            .map(|level| locate(stored_hash_index(level, (size >> level) - 1)))
            .collect()
    }

    /// The frontier of a tree of `size` from the hashes of its
    /// [`Frontier::slots`], in that order.
    pub fn from_nodes(size: u64, nodes: &[Hash]) -> Result<Frontier, TreeError> {
        let slots = Frontier::slots(size);
        if slots.len() != nodes.len() {
            return Err(TreeError::Read(format!(
                "a frontier of size {size} has {} nodes, {} were given",
                slots.len(),
                nodes.len()
            )));
        }
        let mut roots = [None; 64];
        for (slot, hash) in slots.iter().zip(nodes) {
            roots[usize::from(slot.level)] = Some(*hash);
        }
        Ok(Frontier { size, roots })
    }

    /// Appends the leaf `data` (an event's 32 hash bytes) and returns the
    /// row of hashes the append completed, to be stored for leaf
    /// `size - 1` of the grown tree.
    pub fn append(&mut self, data: &[u8]) -> NodeRow {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// [`Frontier::append`] of a leaf already hashed.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> NodeRow {
        let n = self.size;
        let hashes = stored_hashes_for_record_hash(n, leaf, &*self)
            .expect("a frontier holds every node an append reads");
        // Leaf n closes the subtrees of its trailing one bits; the last
        // hash is the new complete subtree at that level.
        let closed = hashes.len() - 1;
        for level in 0..closed {
            self.roots[level] = None;
        }
        self.roots[closed] = hashes.last().copied();
        self.size = n + 1;
        NodeRow(hashes)
    }

    /// The root of the tree (RFC 9162's MTH); the empty tree's is the hash
    /// of the empty string.
    pub fn root(&self) -> Hash {
        tree_hash(self.size, self).expect("a frontier holds every node of its root")
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                let (level, n) = split_stored_hash_index(index);
                let on_edge = self.size >> level & 1 == 1 && n == (self.size >> level) - 1;
                match self.roots[usize::from(level)] {
                    Some(h) if on_edge => Ok(h),
                    _ => Err(tlog_tiles::Error::IndexesNotInTree),
                }
            })
            .collect()
    }
}

/// Reads stored nodes by slot: what the store implements over its rows.
pub trait NodeReader {
    /// The hashes at `slots`, in order.
    fn read_nodes(&self, slots: &[NodeSlot]) -> Result<Vec<Hash>, String>;
}

/// Adapts a [`NodeReader`] to `tlog_tiles`' index-based reader, keeping the
/// reader's own error (the crate's error type cannot carry it).
struct Adapter<'a, R: NodeReader> {
    reader: &'a R,
    failure: std::cell::RefCell<Option<String>>,
}

impl<R: NodeReader> HashReader for Adapter<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let slots: Vec<NodeSlot> = indexes.iter().map(|&i| locate(i)).collect();
        match self.reader.read_nodes(&slots) {
            Ok(hashes) if hashes.len() == slots.len() => Ok(hashes),
            Ok(hashes) => {
                *self.failure.borrow_mut() = Some(format!(
                    "asked for {} nodes, got {}",
                    slots.len(),
                    hashes.len()
                ));
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
            Err(e) => {
                *self.failure.borrow_mut() = Some(e);
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
        }
    }
}

fn adapt<R: NodeReader, T>(
    reader: &R,
    f: impl FnOnce(&Adapter<'_, R>) -> Result<T, tlog_tiles::Error>,
) -> Result<T, TreeError> {
    let adapter = Adapter {
        reader,
        failure: std::cell::RefCell::new(None),
    };
    f(&adapter).map_err(|e| match adapter.failure.take() {
        Some(failure) => TreeError::Read(failure),
        None => TreeError::Read(e.to_string()),
    })
}

/// The root of the tree of `size` leaves, from stored nodes.
pub fn root<R: NodeReader>(size: u64, reader: &R) -> Result<Hash, TreeError> {
    adapt(reader, |r| tree_hash(size, r))
}

/// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` (from 0) in the
/// tree of `size` leaves, nearest sibling first.
pub fn inclusion_proof<R: NodeReader>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    adapt(reader, |r| prove_record(size, index, r))
}

/// RFC 9162 §2.1.4.1: the consistency proof between the trees of `from`
/// and `to` leaves (`1 ≤ from ≤ to`).
pub fn consistency_proof<R: NodeReader>(
    from: u64,
    to: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError> {
    if from == 0 || from > to {
        return Err(TreeError::OutOfRange(format!(
            "a consistency proof needs 1 ≤ from ≤ to (from {from}, to {to})"
        )));
    }
    adapt(reader, |r| prove_tree(to, from, r))
}

/// RFC 9162 §2.1.3.2: checks that `proof` shows leaf `index` with hash
/// `leaf` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf: Hash,
    root: Hash,
) -> Result<(), TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TreeError::InvalidProof(format!(
            "{} hashes, more than any tree needs",
            proof.len()
        )));
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf).map_err(|_| {
        TreeError::InvalidProof(format!(
            "leaf {index} with hash {} is not shown in the tree of {size} with root {}",
            to_hex(&leaf),
            to_hex(&root)
        ))
    })
}

/// RFC 9162 §2.1.4.2: checks that `proof` shows the tree of `from` leaves
/// with root `from_root` to be a prefix of the tree of `to` leaves with
/// root `to_root`.
pub fn verify_consistency(
    proof: &[Hash],
    from: u64,
    from_root: Hash,
    to: u64,
    to_root: Hash,
) -> Result<(), TreeError> {
    if from == 0 || from > to {
        return Err(TreeError::OutOfRange(format!(
            "a consistency proof needs 1 ≤ from ≤ to (from {from}, to {to})"
        )));
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TreeError::InvalidProof(format!(
            "{} hashes, more than any tree needs",
            proof.len()
        )));
    }
    tlog_tiles::check_tree(&proof.to_vec(), to, to_root, from, from_root).map_err(|_| {
        TreeError::InvalidProof(format!(
            "the tree of {from} with root {} is not shown to be a prefix of the tree of {to} with root {}",
            to_hex(&from_root),
            to_hex(&to_root)
        ))
    })
}

/// `GET /api/v1/log/proof/inclusion` and its NATS twin: CONTRACT.md part B's
/// shape, hashes in lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The event's position (leaf index + 1).
    pub position: u64,
    /// The tree's size.
    pub tree_size: u64,
    /// SHA-256(0x00 ‖ the event's 32 hash bytes).
    pub leaf_hash: String,
    /// The audit path, nearest sibling first.
    pub proof: Vec<String>,
}

/// `GET /api/v1/log/proof/consistency` and its NATS twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The smaller tree's size.
    pub from: u64,
    /// The larger tree's size.
    pub to: u64,
    /// RFC 9162's consistency path.
    pub proof: Vec<String>,
}

/// Reads a list of hex hashes from the wire.
pub fn parse_path(hashes: &[String]) -> Result<Vec<Hash>, TreeError> {
    if hashes.len() > MAX_PROOF_HASHES {
        return Err(TreeError::InvalidProof(format!(
            "{} hashes, more than any tree needs",
            hashes.len()
        )));
    }
    hashes
        .iter()
        .map(|h| {
            parse_hex(h).ok_or_else(|| {
                TreeError::InvalidProof(format!("{h:?} is not 64 lowercase hex digits"))
            })
        })
        .collect()
}

impl InclusionProof {
    /// Checks the proof against `root`, the root of the tree of
    /// `tree_size` that a checkpoint vouches for.
    pub fn verify(&self, root: Hash) -> Result<(), TreeError> {
        let leaf = parse_hex(&self.leaf_hash).ok_or_else(|| {
            TreeError::InvalidProof(format!("leaf_hash {:?} is not a hash", self.leaf_hash))
        })?;
        if self.position == 0 {
            return Err(TreeError::OutOfRange("positions start at 1".to_owned()));
        }
        verify_inclusion(
            &parse_path(&self.proof)?,
            self.position - 1,
            self.tree_size,
            leaf,
            root,
        )
    }
}

impl ConsistencyProof {
    /// Checks the proof between two roots the caller trusts for `from` and
    /// `to`.
    pub fn verify(&self, from_root: Hash, to_root: Hash) -> Result<(), TreeError> {
        verify_consistency(
            &parse_path(&self.proof)?,
            self.from,
            from_root,
            self.to,
            to_root,
        )
    }
}

/// Hex form of a path.
pub fn path_hex(path: &[Hash]) -> Vec<String> {
    path.iter().map(to_hex).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_node_has_one_slot_inside_its_leafs_row() {
        let mut seen = std::collections::HashSet::new();
        let mut frontier = Frontier::empty();
        let mut rows = Vec::new();
        for i in 0..200u64 {
            let row = frontier.append(&i.to_be_bytes());
            assert_eq!(row.0.len(), NodeRow::len_for(i));
            rows.push(row);
        }
        // Stored indexes run densely; each maps to a distinct slot whose
        // row holds exactly the hash tlog_tiles stored there.
        let count = tlog_tiles::stored_hash_count(200);
        for index in 0..count {
            let slot = locate(index);
            assert!(seen.insert((slot.leaf, slot.level)));
            assert!(usize::from(slot.level) < rows[slot.leaf as usize].0.len());
            assert_eq!(
                stored_hash_index(0, slot.leaf) + u64::from(slot.level),
                index
            );
        }
    }

    #[test]
    fn a_row_reads_back_as_written() {
        let row = NodeRow(vec![leaf_hash(b"a"), leaf_hash(b"b")]);
        assert_eq!(NodeRow::from_bytes(&row.to_bytes()), Some(row));
        assert_eq!(NodeRow::from_bytes(&[0; 31]), None);
        assert_eq!(NodeRow::from_bytes(&[]), None);
    }
}
