//! The tree against RFC 9162's definitions: the certificate-transparency
//! test vectors (the classic eight leaves), and for every size and index
//! up to 300 an independent, naive implementation written from RFC 9162
//! §2.1 (recursive MTH, PATH, PROOF/SUBPROOF) in this file.

use std::{cell::RefCell, collections::HashMap};

use dotpha_tlog::tree::{
    self, Frontier, Hash, NodeReader, NodeRow, NodeSlot, TreeError, leaf_hash, parse_hex, to_hex,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Stored rows, as the log keeps them: one per leaf.
struct Rows(Vec<NodeRow>);

impl NodeReader for Rows {
    fn read_nodes(&self, slots: &[NodeSlot]) -> Result<Vec<Hash>, String> {
        slots
            .iter()
            .map(|s| {
                self.0
                    .get(s.leaf as usize)
                    .and_then(|row| row.0.get(usize::from(s.level)).copied())
                    .ok_or_else(|| format!("no node at {s:?}"))
            })
            .collect()
    }
}

fn build(leaves: &[Vec<u8>]) -> (Rows, Vec<Hash>) {
    let mut frontier = Frontier::empty();
    let mut rows = Vec::new();
    let mut roots = vec![frontier.root()];
    for leaf in leaves {
        rows.push(frontier.append(leaf));
        roots.push(frontier.root());
    }
    (Rows(rows), roots)
}

// ---- the naive implementation, from RFC 9162 §2.1 alone ----

struct Naive<'a> {
    leaves: &'a [Vec<u8>],
    memo: RefCell<HashMap<(usize, usize), [u8; 32]>>,
}

impl Naive<'_> {
    fn sha(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// The largest power of two smaller than n (n > 1).
    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[lo:hi]).
    fn mth(&self, lo: usize, hi: usize) -> [u8; 32] {
        if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
            return *h;
        }
        let h = match hi - lo {
            0 => Naive::sha(&[]),
            1 => Naive::sha(&[&[0], &self.leaves[lo]]),
            n => {
                let k = Naive::k(n);
                Naive::sha(&[&[1], &self.mth(lo, lo + k), &self.mth(lo + k, hi)])
            }
        };
        self.memo.borrow_mut().insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]).
    fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<[u8; 32]> {
        let n = hi - lo;
        if n == 1 {
            return vec![];
        }
        let k = Naive::k(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<[u8; 32]> {
        let n = hi - lo;
        if m == n {
            return if b { vec![] } else { vec![self.mth(lo, hi)] };
        }
        let k = Naive::k(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, b);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}

fn hexes(path: &[[u8; 32]]) -> Vec<String> {
    path.iter().map(hex::encode).collect()
}

// ---- RFC 6962/9162 test vectors (certificate-transparency's) ----

fn vector_leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| hex::decode(h).expect("hex"))
    .collect()
}

const VECTOR_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn roots_match_the_test_vectors_for_every_size() {
    let (rows, roots) = build(&vector_leaves());
    for (size, expected) in VECTOR_ROOTS.iter().enumerate() {
        assert_eq!(to_hex(&roots[size]), *expected, "frontier root of {size}");
        assert_eq!(
            to_hex(&tree::root(size as u64, &rows).expect("root")),
            *expected,
            "stored root of {size}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_test_vectors() {
    let (rows, roots) = build(&vector_leaves());
    let cases: [(u64, u64, &[&str]); 4] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
    ];
    for (index, size, expected) in cases {
        let proof = tree::inclusion_proof(index, size, &rows).expect("proof");
        assert_eq!(tree::path_hex(&proof), expected, "leaf {index} in {size}");
        let leaf = leaf_hash(&vector_leaves()[index as usize]);
        tree::verify_inclusion(&proof, index, size, leaf, roots[size as usize]).expect("verifies");
    }
}

#[test]
fn consistency_proofs_match_the_test_vectors() {
    let (rows, roots) = build(&vector_leaves());
    let cases: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (from, to, expected) in cases {
        let proof = tree::consistency_proof(from, to, &rows).expect("proof");
        assert_eq!(tree::path_hex(&proof), expected, "{from} to {to}");
        tree::verify_consistency(&proof, from, roots[from as usize], to, roots[to as usize])
            .expect("verifies");
    }
}

/// Leaves like the log's: 32-byte event hashes.
fn event_leaves(count: usize, salt: u8) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| Sha256::digest([&[salt][..], &(i as u64).to_be_bytes()].concat()).to_vec())
        .collect()
}

#[test]
#[allow(clippy::needless_range_loop)] // sizes and indexes are what the test is about
fn every_root_inclusion_and_consistency_proof_up_to_300_equals_the_naive_ones() {
    const N: usize = 300;
    let leaves = event_leaves(N, 7);
    let (rows, roots) = build(&leaves);
    let naive = Naive {
        leaves: &leaves,
        memo: RefCell::new(HashMap::new()),
    };
    for size in 1..=N {
        let root = naive.mth(0, size);
        assert_eq!(roots[size].0, root, "frontier root of {size}");
        assert_eq!(
            tree::root(size as u64, &rows).expect("root").0,
            root,
            "stored root of {size}"
        );
        for index in 0..size {
            let proof = tree::inclusion_proof(index as u64, size as u64, &rows).expect("proof");
            assert_eq!(
                tree::path_hex(&proof),
                hexes(&naive.path(index, 0, size)),
                "leaf {index} in {size}"
            );
            tree::verify_inclusion(
                &proof,
                index as u64,
                size as u64,
                leaf_hash(&leaves[index]),
                Hash(root),
            )
            .expect("verifies");
        }
        for from in 1..=size {
            let proof = tree::consistency_proof(from as u64, size as u64, &rows).expect("proof");
            assert_eq!(
                tree::path_hex(&proof),
                hexes(&naive.subproof(from, 0, size, true)),
                "{from} to {size}"
            );
            tree::verify_consistency(
                &proof,
                from as u64,
                Hash(naive.mth(0, from)),
                size as u64,
                Hash(root),
            )
            .expect("verifies");
        }
    }
}

#[test]
fn requests_outside_the_tree_are_errors_not_panics() {
    let (rows, _) = build(&event_leaves(10, 1));
    assert!(matches!(
        tree::inclusion_proof(10, 10, &rows),
        Err(TreeError::OutOfRange(_))
    ));
    assert!(matches!(
        tree::consistency_proof(0, 5, &rows),
        Err(TreeError::OutOfRange(_))
    ));
    assert!(matches!(
        tree::consistency_proof(6, 5, &rows),
        Err(TreeError::OutOfRange(_))
    ));
    // Nodes the store does not have are a read error naming them.
    assert!(matches!(
        tree::inclusion_proof(3, 20, &rows),
        Err(TreeError::Read(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random leaves, random sizes and positions: the stored tree agrees
    /// with the naive one, and any change to a proof, a leaf, an index or a
    /// root makes the check fail.
    #[test]
    fn proofs_agree_with_the_naive_tree_and_tampering_fails(
        salt in any::<u8>(),
        size in 1usize..=300,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let leaves = event_leaves(size, salt);
        let (rows, roots) = build(&leaves);
        let naive = Naive { leaves: &leaves, memo: RefCell::new(HashMap::new()) };
        let root = Hash(naive.mth(0, size));
        prop_assert_eq!(roots[size], root);

        let index = a.index(size);
        let proof = tree::inclusion_proof(index as u64, size as u64, &rows).expect("proof");
        prop_assert_eq!(tree::path_hex(&proof), hexes(&naive.path(index, 0, size)));
        let leaf = leaf_hash(&leaves[index]);
        prop_assert!(tree::verify_inclusion(&proof, index as u64, size as u64, leaf, root).is_ok());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = flip.index(bad.len());
            bad[i].0[0] ^= 1;
            prop_assert!(tree::verify_inclusion(&bad, index as u64, size as u64, leaf, root).is_err());
            prop_assert!(tree::verify_inclusion(&proof[1..], index as u64, size as u64, leaf, root).is_err());
        }
        if size > 1 {
            let other = (index + 1) % size;
            prop_assert!(tree::verify_inclusion(&proof, index as u64, size as u64, leaf_hash(&leaves[other]), root).is_err());
        }

        let from = b.index(size) + 1;
        let proof = tree::consistency_proof(from as u64, size as u64, &rows).expect("proof");
        prop_assert_eq!(tree::path_hex(&proof), hexes(&naive.subproof(from, 0, size, true)));
        let old = Hash(naive.mth(0, from));
        prop_assert!(tree::verify_consistency(&proof, from as u64, old, size as u64, root).is_ok());
        if from < size {
            let mut other_root = root;
            other_root.0[31] ^= 1;
            prop_assert!(tree::verify_consistency(&proof, from as u64, old, size as u64, other_root).is_err());
            let mut other_old = old;
            other_old.0[0] ^= 1;
            prop_assert!(tree::verify_consistency(&proof, from as u64, other_old, size as u64, root).is_err());
        }
    }

    /// A frontier read back from stored rows continues exactly as the one
    /// kept in memory (what the writer does at every start).
    #[test]
    fn a_frontier_reloaded_from_rows_continues_the_tree(size in 0usize..=300, more in 1usize..50) {
        let leaves = event_leaves(size + more, 3);
        let (rows, roots) = build(&leaves);
        let slots = Frontier::slots(size as u64);
        let nodes = rows.read_nodes(&slots).expect("nodes");
        let mut frontier = Frontier::from_nodes(size as u64, &nodes).expect("frontier");
        prop_assert_eq!(frontier.root(), roots[size]);
        for (i, leaf) in leaves[size..].iter().enumerate() {
            let row = frontier.append(leaf);
            prop_assert_eq!(&row, &rows.0[size + i]);
        }
        prop_assert_eq!(frontier.root(), roots[size + more]);
    }
}

#[test]
fn hex_round_trips_and_rejects_non_hashes() {
    let h = leaf_hash(b"x");
    assert_eq!(parse_hex(&to_hex(&h)), Some(h));
    assert_eq!(parse_hex("zz"), None);
    assert_eq!(parse_hex(&"g".repeat(64)), None);
}
