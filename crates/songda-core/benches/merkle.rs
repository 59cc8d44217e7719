//! Figures for the evidence log's math, on one core (issue 4 targets in brackets):
//! inclusion-proof verification [100,000/s], consistency-proof verification, building the
//! tree leaf by leaf as an audit does [1,000,000 leaves/s], and proof generation from the
//! stored subtrees.
//!
//! Run: `cargo bench -p songda-core --bench merkle` (release build; prints, asserts nothing).

use songda_core::merkle::{self, Hash, MemoryTree};
use std::hint::black_box;
use std::time::Instant;

const LEAVES: u64 = 1 << 20;

fn main() {
    // Leaves as an audit meets them: the hash of about 400 bytes of event per leaf.
    let event = vec![b'x'; 400];
    let start = Instant::now();
    let mut tree = MemoryTree::new();
    for i in 0..LEAVES {
        let mut bytes = event.clone();
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        tree.push(merkle::leaf_hash(&bytes));
    }
    let secs = start.elapsed().as_secs_f64();
    report(
        "audit: hash 400-byte events and build the tree",
        LEAVES,
        secs,
        "leaves",
    );

    let size = LEAVES;
    let root = merkle::root(&tree, size).expect("root");
    let indices: Vec<u64> = (0..10_000u64).map(|i| (i * 2_654_435_761) % size).collect();
    let start = Instant::now();
    let proofs: Vec<(u64, Hash, Vec<Hash>)> = indices
        .iter()
        .map(|&i| {
            let leaf = tree.node(0, i).expect("leaf");
            (
                i,
                leaf,
                merkle::inclusion_proof(&tree, i, size).expect("proof"),
            )
        })
        .collect();
    report(
        "inclusion proofs generated (in memory)",
        proofs.len() as u64,
        start.elapsed().as_secs_f64(),
        "proofs",
    );

    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        for (i, leaf, proof) in &proofs {
            merkle::verify_inclusion(black_box(leaf), *i, size, proof, &root).expect("verifies");
        }
    }
    report(
        "inclusion proofs verified",
        rounds * proofs.len() as u64,
        start.elapsed().as_secs_f64(),
        "verifications",
    );

    let pairs: Vec<(u64, Hash, Vec<Hash>)> = (1..=2_000u64)
        .map(|k| {
            let old = (k * 524_287) % size + 1;
            let old_root = merkle::root(&tree, old).expect("root");
            (
                old,
                old_root,
                merkle::consistency_proof(&tree, old, size).expect("proof"),
            )
        })
        .collect();
    let start = Instant::now();
    for _ in 0..rounds {
        for (old, old_root, proof) in &pairs {
            merkle::verify_consistency(*old, size, old_root, &root, black_box(proof))
                .expect("verifies");
        }
    }
    report(
        "consistency proofs verified",
        rounds * pairs.len() as u64,
        start.elapsed().as_secs_f64(),
        "verifications",
    );
}

fn report(what: &str, n: u64, secs: f64, unit: &str) {
    println!(
        "{what}: {n} in {secs:.3} s = {:.0} {unit}/s",
        n as f64 / secs
    );
}
