//! The witness's rules on their own: what it accepts, what it refuses, what
//! it keeps, and that its state survives a restart.

use dotpha_tlog::{
    ConsistencyProof, CosignatureVerifier, Cosigner, Frontier, LogKey, LogVerifier,
    tree::{self, Hash, NodeReader, NodeRow, NodeSlot, path_hex},
    witness::{Refusal, STATE_FILE, Verdict, Witness},
};

struct Rows(Vec<NodeRow>);

impl NodeReader for Rows {
    fn read_nodes(&self, slots: &[NodeSlot]) -> Result<Vec<Hash>, String> {
        Ok(slots
            .iter()
            .map(|s| self.0[s.leaf as usize].0[usize::from(s.level)])
            .collect())
    }
}

/// A log of `n` leaves made from `seed`; its rows and roots by size.
fn log(n: usize, seed: u8) -> (Rows, Vec<Hash>) {
    let mut frontier = Frontier::empty();
    let mut rows = Vec::new();
    let mut roots = vec![frontier.root()];
    for i in 0..n {
        let leaf = [seed, (i % 251) as u8, (i / 251) as u8];
        rows.push(frontier.append(&leaf));
        roots.push(frontier.root());
    }
    (Rows(rows), roots)
}

struct Setup {
    dir: tempfile::TempDir,
    key: LogKey,
    cosigner: Cosigner,
}

impl Setup {
    fn new() -> Setup {
        let (key, _) = LogKey::generate("son-duong.test/dotpha").expect("log key");
        let (cosigner, _) = Cosigner::generate("hop-thanh.test/witness").expect("witness key");
        Setup {
            dir: tempfile::tempdir().expect("dir"),
            key,
            cosigner,
        }
    }

    fn witness(&self) -> Witness {
        Witness::open(
            self.dir.path(),
            LogVerifier::new(self.key.verifier_key()).expect("vkey"),
            self.cosigner.clone(),
        )
        .expect("opens")
    }
}

fn proof(rows: &Rows, from: u64, to: u64) -> ConsistencyProof {
    ConsistencyProof {
        from,
        to,
        proof: path_hex(&tree::consistency_proof(from, to, rows).expect("proof")),
    }
}

#[test]
fn a_witness_accepts_the_first_then_only_consistent_growth_and_remembers_it() {
    let setup = Setup::new();
    let (rows, roots) = log(50, 1);
    let mut witness = setup.witness();
    let first = setup.key.sign(10, roots[10]).expect("note");
    let Ok(Verdict::First(checkpoint)) = witness.check(first.as_bytes()) else {
        panic!("the first checkpoint is taken on trust");
    };
    let cosigned = witness.accept(checkpoint, 1_700_000_000).expect("accepted");
    let verifier = CosignatureVerifier::new(&setup.cosigner.verifier_key()).expect("vkey");
    let found = dotpha_tlog::cosign::verified_cosignatures(
        cosigned.as_bytes(),
        std::slice::from_ref(&verifier),
    )
    .expect("parses");
    assert_eq!(
        found.len(),
        1,
        "the cosigned note carries a valid cosignature"
    );

    // The same one again: cosigned again, nothing else.
    assert!(matches!(
        witness.check(first.as_bytes()),
        Ok(Verdict::Again(_))
    ));

    // Growth needs a proof from the accepted size.
    let next = setup.key.sign(40, roots[40]).expect("note");
    let Ok(Verdict::NeedsProof { checkpoint, from }) = witness.check(next.as_bytes()) else {
        panic!("a larger tree needs a proof");
    };
    assert_eq!(from, 10);
    witness
        .check_proof(&checkpoint, &proof(&rows, 10, 40))
        .expect("consistent");
    witness.accept(checkpoint, 1_700_000_001).expect("accepted");

    // A restart remembers the last accepted.
    drop(witness);
    let witness = setup.witness();
    assert_eq!(witness.last().map(|c| c.checkpoint.size), Some(40));
    assert!(setup.dir.path().join(STATE_FILE).exists());
}

#[test]
fn rollbacks_forks_and_inconsistent_trees_are_evidence_bad_signatures_are_not() {
    let setup = Setup::new();
    let (rows, roots) = log(60, 1);
    let (other_rows, other_roots) = log(60, 2);
    let mut witness = setup.witness();
    let accepted = setup.key.sign(30, roots[30]).expect("note");
    let Ok(Verdict::First(c)) = witness.check(accepted.as_bytes()) else {
        panic!("first");
    };
    witness.accept(c, 1).expect("accepted");

    let smaller = setup.key.sign(20, roots[20]).expect("note");
    let refusal = witness.check(smaller.as_bytes()).expect_err("a rollback");
    assert!(matches!(
        refusal,
        Refusal::Rollback {
            accepted: 30,
            offered: 20
        }
    ));
    assert!(refusal.is_evidence());

    let same_size = setup.key.sign(30, other_roots[30]).expect("note");
    let refusal = witness.check(same_size.as_bytes()).expect_err("a fork");
    assert!(matches!(refusal, Refusal::Fork { size: 30, .. }));

    let forked = setup.key.sign(50, other_roots[50]).expect("note");
    let Ok(Verdict::NeedsProof { checkpoint, .. }) = witness.check(forked.as_bytes()) else {
        panic!("needs a proof");
    };
    // Neither the forked log's own proof nor the honest log's proves it.
    for rows in [&other_rows, &rows] {
        let refusal = witness
            .check_proof(&checkpoint, &proof(rows, 30, 50))
            .expect_err("inconsistent");
        assert!(matches!(
            refusal,
            Refusal::Inconsistent {
                from: 30,
                to: 50,
                ..
            }
        ));
    }
    let refusal = witness
        .check_proof(&checkpoint, &proof(&other_rows, 30, 50))
        .expect_err("inconsistent");
    let evidence = witness
        .keep_evidence(
            forked.as_bytes(),
            &refusal,
            Some(&proof(&other_rows, 30, 50)),
            7,
        )
        .expect("kept");
    let verifier = LogVerifier::new(setup.key.verifier_key()).expect("vkey");
    let kept_accepted = std::fs::read(evidence.join("accepted.note")).expect("accepted");
    let kept_offered = std::fs::read(evidence.join("offered.note")).expect("offered");
    assert_eq!(
        verifier
            .open(&kept_accepted)
            .expect("the log's")
            .checkpoint
            .size,
        30
    );
    assert_eq!(
        verifier
            .open(&kept_offered)
            .expect("the log's")
            .checkpoint
            .size,
        50
    );
    assert!(evidence.join("proof.json").exists());
    assert!(
        std::fs::read_to_string(evidence.join("README.txt"))
            .expect("readme")
            .contains("FORK")
    );

    // A note the log did not sign proves nothing against it.
    let altered = accepted.replacen("\n30\n", "\n31\n", 1);
    let refusal = witness
        .check(altered.as_bytes())
        .expect_err("bad signature");
    assert!(matches!(refusal, Refusal::NotTheLogs(_)));
    assert!(!refusal.is_evidence());
    let (impostor, _) = LogKey::generate("son-duong.test/dotpha").expect("key");
    let forged = impostor.sign(55, roots[55]).expect("note");
    assert!(matches!(
        witness.check(forged.as_bytes()),
        Err(Refusal::NotTheLogs(_))
    ));
    // And the state is untouched by all of it.
    assert_eq!(witness.last().map(|c| c.checkpoint.size), Some(30));
}

#[test]
fn a_state_file_of_another_log_is_refused() {
    let setup = Setup::new();
    let (_, roots) = log(5, 1);
    let (other, _) = LogKey::generate("other.test/dotpha").expect("key");
    std::fs::write(
        setup.dir.path().join(STATE_FILE),
        other.sign(5, roots[5]).expect("note"),
    )
    .expect("write");
    assert!(
        Witness::open(
            setup.dir.path(),
            LogVerifier::new(setup.key.verifier_key()).expect("vkey"),
            setup.cosigner.clone(),
        )
        .is_err()
    );
}
