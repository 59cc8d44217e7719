//! Known answers, an independent implementation (ct-merkle) and a naive oracle from the
//! RFC text, and the negative cases every verifier must reject.

use super::*;
use std::cell::Cell;

// ---------------------------------------------------------------------------------------
// Known answers. Leaf inputs, node hashes and roots are transcribed from
// transparency-dev/merkle `testonly/constants.go` (LeafInputs, NodeHashes, RootHashes,
// EmptyRootHash); the proofs from `testonly/reference_test.go` (TestRefInclusionProof,
// TestRefConsistencyProof). They are the Certificate Transparency reference vectors.
// ---------------------------------------------------------------------------------------

const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees of sizes 0..=8 built from `LEAF_INPUTS`.
const ROOTS: [&str; 9] = [
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

/// Every perfect subtree of the 8-leaf tree, by level then index.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// (index, size, proof)
const INCLUSION_VECTORS: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        2,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        1,
        2,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
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
];

/// (old size, new size, proof)
const CONSISTENCY_VECTORS: &[(u64, u64, &[&str])] = &[
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
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
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
];

fn h(s: &str) -> Hash {
    s.parse().expect("test vector is a hash")
}

fn hashes(v: &[&str]) -> Vec<Hash> {
    v.iter().map(|s| h(s)).collect()
}

fn reference_tree(size: usize) -> MemoryTree {
    MemoryTree::from_leaf_hashes(
        LEAF_INPUTS[..size]
            .iter()
            .map(|s| leaf_hash(&hex::decode(s).expect("hex"))),
    )
}

#[test]
fn empty_tree_root_is_sha256_of_the_empty_string() {
    assert_eq!(empty_root(), h(ROOTS[0]));
    assert_eq!(root(&MemoryTree::new(), 0).unwrap(), h(ROOTS[0]));
}

#[test]
fn known_roots_for_sizes_0_to_8() {
    let t = reference_tree(8);
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(root(&t, size as u64).unwrap(), h(want), "size {size}");
        assert_eq!(
            root(&reference_tree(size), size as u64).unwrap(),
            h(want),
            "size {size}"
        );
    }
}

#[test]
fn known_node_hashes_are_the_stored_layout() {
    let t = reference_tree(8);
    for (level, row) in NODE_HASHES.iter().enumerate() {
        for (index, want) in row.iter().enumerate() {
            assert_eq!(t.node(level as u32, index as u64), Some(h(want)));
            let start = (index as u64) << level;
            assert_eq!(t.subtree(start, level as u32), Ok(h(want)));
        }
        assert_eq!(t.node(level as u32, row.len() as u64), None);
    }
    assert_eq!(t.node(4, 0), None);
    assert_eq!(
        t.subtree(1, 1),
        Err(MemoryTreeError::Misaligned {
            start: 1,
            size_log2: 1
        })
    );
    assert_eq!(
        t.subtree(8, 0),
        Err(MemoryTreeError::NotStored {
            start: 8,
            size_log2: 0
        })
    );
    assert!(t.subtree(0, 64).is_err());
    assert!(t.subtree(0, u32::MAX).is_err());
}

#[test]
fn known_inclusion_proofs() {
    let t = reference_tree(8);
    for &(index, size, want) in INCLUSION_VECTORS {
        let proof = inclusion_proof(&t, index, size).unwrap();
        assert_eq!(proof, hashes(want), "index {index} size {size}");
        let leaf = leaf_hash(&hex::decode(LEAF_INPUTS[index as usize]).unwrap());
        verify_inclusion(&leaf, index, size, &proof, &h(ROOTS[size as usize])).unwrap();
    }
}

#[test]
fn known_consistency_proofs() {
    let t = reference_tree(8);
    for &(old, new, want) in CONSISTENCY_VECTORS {
        let proof = consistency_proof(&t, old, new).unwrap();
        assert_eq!(proof, hashes(want), "old {old} new {new}");
        verify_consistency(
            old,
            new,
            &h(ROOTS[old as usize]),
            &h(ROOTS[new as usize]),
            &proof,
        )
        .unwrap();
    }
}

#[test]
fn hash_text_and_serde() {
    let x = h(ROOTS[1]);
    assert_eq!(x.to_string(), ROOTS[1]);
    assert_eq!(format!("{x:?}"), format!("Hash({})", ROOTS[1]));
    let json = serde_json::to_string(&x).unwrap();
    assert_eq!(json, format!("\"{}\"", ROOTS[1]));
    assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), x);
    let owned: Hash = serde_json::from_value(serde_json::Value::String(ROOTS[1].into())).unwrap();
    assert_eq!(owned, x);
    assert!(ROOTS[1].to_uppercase().parse::<Hash>().is_err());
    assert!("abc".parse::<Hash>().is_err());
    assert!(format!("{}0", ROOTS[1]).parse::<Hash>().is_err());
    assert!(format!("{}g", &ROOTS[1][..63]).parse::<Hash>().is_err());
    assert!(format!("{}é", &ROOTS[1][..62]).parse::<Hash>().is_err());
    assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
    assert!(serde_json::from_str::<Hash>("12").is_err());
    assert_eq!(Hash::from_bytes(*x.as_bytes()), x);
    assert_eq!(<[u8; 32]>::from(x), x.0);
}

// ---------------------------------------------------------------------------------------
// Randomised cross-checks.
// ---------------------------------------------------------------------------------------

/// SplitMix64: a small deterministic PRNG, good enough for test data.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n`, `n > 0`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self) -> Vec<u8> {
        let len = self.below(40) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn random_leaves(rng: &mut Prng, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|_| rng.bytes()).collect()
}

/// A naive oracle written straight from the RFC 9162 §2.1 definitions (MTH, PATH, PROOF)
/// over a slice of leaf hashes, independent of the stored-subtree machinery above.
mod rfc {
    use super::super::{Hash, empty_root, node_hash};

    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => node_hash(&mth(&d[..k(n)]), &mth(&d[k(n)..])),
        }
    }

    pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n == 1 {
            return Vec::new();
        }
        let k = k(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    pub fn proof(m: usize, d: &[Hash]) -> Vec<Hash> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }
}

type Ct = ct_merkle::mem_backed_tree::MemoryBackedTree<sha2::Sha256, Vec<u8>>;

fn ct_root(hash: &Hash, size: u64) -> ct_merkle::RootHash<sha2::Sha256> {
    ct_merkle::RootHash::new(hash.0.into(), size)
}

fn concat(proof: &[Hash]) -> Vec<u8> {
    proof.iter().flat_map(|p| p.0).collect()
}

fn split(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks(HASH_LEN)
        .map(|c| Hash(c.try_into().expect("32-byte chunk")))
        .collect()
}

/// Checks root and the inclusion proofs of `indices` for one tree size against ct-merkle
/// and the RFC oracle, verifying each proof with both verifiers.
fn cross_check_size(
    ours: &MemoryTree,
    ct: &Ct,
    data: &[Vec<u8>],
    leaves: &[Hash],
    indices: impl IntoIterator<Item = u64>,
) {
    let size = ours.size();
    assert_eq!(ct.len(), size);
    let r = root(ours, size).unwrap();
    assert_eq!(
        r.0.as_slice(),
        ct.root().as_bytes().as_slice(),
        "root {size}"
    );
    assert_eq!(r, rfc::mth(leaves), "root {size}");
    let ct_r = ct.root();
    for index in indices {
        let proof = inclusion_proof(ours, index, size).unwrap();
        let theirs = ct.prove_inclusion(index as usize);
        assert_eq!(
            concat(&proof),
            theirs.as_bytes(),
            "index {index} size {size}"
        );
        assert_eq!(proof, rfc::path(index as usize, leaves));
        // Theirs with our verifier, ours with theirs.
        verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &split(theirs.as_bytes()),
            &r,
        )
        .unwrap();
        let ours_as_ct =
            ct_merkle::InclusionProof::<sha2::Sha256>::try_from_bytes(concat(&proof)).unwrap();
        ct_r.verify_inclusion(&data[index as usize], index, &ours_as_ct)
            .unwrap();
    }
}

#[test]
fn ct_merkle_uses_rfc6962_domain_separation() {
    // The independent implementation must hash exactly like RFC 6962, or the cross-check
    // below proves nothing: a one-leaf tree's root is the leaf hash SHA-256(0x00 || d), a
    // two-leaf tree's is SHA-256(0x01 || l || r).
    let mut ct = Ct::new();
    ct.push(b"abc".to_vec());
    let mut pre = vec![0x00];
    pre.extend_from_slice(b"abc");
    let l = Hash(sha2::Sha256::digest(&pre).into());
    assert_eq!(ct.root().as_bytes().as_slice(), l.0.as_slice());
    ct.push(Vec::new());
    let r = Hash(sha2::Sha256::digest([0x00u8]).into());
    let mut pre = vec![0x01];
    pre.extend_from_slice(&l.0);
    pre.extend_from_slice(&r.0);
    assert_eq!(
        ct.root().as_bytes().as_slice(),
        sha2::Sha256::digest(&pre).as_slice()
    );
    assert_eq!(
        Ct::new().root().as_bytes().as_slice(),
        empty_root().0.as_slice()
    );
}

#[test]
fn cross_check_all_sizes_up_to_130_every_index() {
    let mut rng = Prng(0x5eed_0001);
    let data = random_leaves(&mut rng, 130);
    let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
    let mut ours = MemoryTree::new();
    let mut ct = Ct::new();
    for n in 1..=data.len() {
        ours.push(leaves[n - 1]);
        ct.push(data[n - 1].clone());
        cross_check_size(&ours, &ct, &data, &leaves[..n], 0..n as u64);
        let new_root = root(&ours, n as u64).unwrap();
        for old in 1..=n as u64 {
            check_consistency_pair(&ours, &ct, &leaves, old, n as u64, &new_root);
        }
    }
}

#[test]
fn verifiers_never_panic_on_arbitrary_input() {
    let mut rng = Prng(0x5eed_0007);
    let pool: Vec<Hash> = (0..70u8).map(|i| leaf_hash(&[i])).collect();
    let pick = |rng: &mut Prng| match rng.below(4) {
        0 => rng.below(64),
        1 => u64::MAX - rng.below(64),
        2 => 1u64 << rng.below(64),
        _ => rng.next() >> rng.below(64),
    };
    for _ in 0..20_000 {
        let (a, b) = (pick(&mut rng), pick(&mut rng));
        let len = rng.below(pool.len() as u64 + 1) as usize;
        let proof = &pool[..len];
        assert!(verify_inclusion(&pool[0], a, b, proof, &pool[1]).is_err());
        assert!(verify_consistency(a, b, &pool[0], &pool[1], proof).is_err());
    }
}

#[test]
fn cross_check_larger_random_trees() {
    let mut rng = Prng(0x5eed_0002);
    let mut sizes = vec![255, 256, 257, 1023, 1024, 1025, 2047, 2048, 2049];
    sizes.extend((0..4).map(|_| 131 + rng.below(3000)));
    for size in sizes {
        let data = random_leaves(&mut rng, size as usize);
        let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
        let ours = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        let mut ct = Ct::new();
        for d in &data {
            ct.push(d.clone());
        }
        let mut indices = vec![0, size - 1, size / 2];
        indices.extend((0..40).map(|_| rng.below(size)));
        cross_check_size(&ours, &ct, &data, &leaves, indices);
        // Consistency from random old sizes (and the edges) to this size.
        let new_root = root(&ours, size).unwrap();
        let mut olds = vec![1, size - 1, size];
        olds.extend((0..30).map(|_| 1 + rng.below(size)));
        for old in olds {
            check_consistency_pair(&ours, &ct, &leaves, old, size, &new_root);
        }
    }
}

/// One consistency pair against ct-merkle (whose tree must be exactly `new` leaves) and the
/// oracle, both directions of verifier.
fn check_consistency_pair(
    ours: &MemoryTree,
    ct: &Ct,
    leaves: &[Hash],
    old: u64,
    new: u64,
    new_root: &Hash,
) {
    let old_root = root(ours, old).unwrap();
    let proof = consistency_proof(ours, old, new).unwrap();
    assert_eq!(proof, rfc::proof(old as usize, &leaves[..new as usize]));
    let theirs = ct.prove_consistency((new - old) as usize);
    assert_eq!(concat(&proof), theirs.as_bytes(), "old {old} new {new}");
    verify_consistency(old, new, &old_root, new_root, &split(theirs.as_bytes())).unwrap();
    let ours_as_ct =
        ct_merkle::ConsistencyProof::<sha2::Sha256>::try_from_bytes(concat(&proof)).unwrap();
    ct_root(new_root, new)
        .verify_consistency(&ct_root(&old_root, old), &ours_as_ct)
        .unwrap();
}

fn flip(proof: &[Hash], at: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[at].0[at % HASH_LEN] ^= 0x01;
    p
}

#[test]
fn consistency_all_pairs_up_to_40_and_their_negatives() {
    let mut rng = Prng(0x5eed_0003);
    let data = random_leaves(&mut rng, 40);
    let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
    let mut ours = MemoryTree::new();
    let mut ct = Ct::new();
    let bogus = leaf_hash(b"not a root");
    for new in 1..=40u64 {
        ours.push(leaves[new as usize - 1]);
        ct.push(data[new as usize - 1].clone());
        let new_root = root(&ours, new).unwrap();
        for old in 1..=new {
            check_consistency_pair(&ours, &ct, &leaves, old, new, &new_root);
            let old_root = root(&ours, old).unwrap();
            let proof = consistency_proof(&ours, old, new).unwrap();
            let ok = |p: &[Hash]| verify_consistency(old, new, &old_root, &new_root, p);
            assert_eq!(ok(&proof), Ok(()));
            // Every single flipped hash breaks it.
            for at in 0..proof.len() {
                assert!(ok(&flip(&proof, at)).is_err(), "flip {at} of {old}->{new}");
            }
            // Wrong old root, wrong new root.
            assert!(verify_consistency(old, new, &bogus, &new_root, &proof).is_err());
            assert!(verify_consistency(old, new, &old_root, &bogus, &proof).is_err());
            if old != new {
                assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
                // Swapped sizes.
                assert_eq!(
                    verify_consistency(new, old, &old_root, &new_root, &proof),
                    Err(ProofError::OldSizeGreater {
                        old_size: new,
                        new_size: old
                    })
                );
                assert_eq!(
                    verify_consistency(new, old, &new_root, &old_root, &proof),
                    Err(ProofError::OldSizeGreater {
                        old_size: new,
                        new_size: old
                    })
                );
                // Too few hashes.
                assert!(matches!(
                    ok(&proof[..proof.len() - 1]),
                    Err(ProofError::WrongProofLength { .. })
                ));
                assert!(matches!(
                    ok(&proof[1..]),
                    Err(ProofError::WrongProofLength { .. })
                ));
                // A correct proof for a neighbouring new size does not do.
                if new < 40 {
                    assert!(ok(&rfc::proof(old as usize, &leaves[..new as usize + 1])).is_err());
                }
            } else {
                assert_eq!(
                    verify_consistency(old, new, &bogus, &new_root, &proof),
                    Err(ProofError::SameSizeDifferentRoots { size: old })
                );
            }
            // One hash too many, at either end.
            let mut longer = proof.clone();
            longer.push(bogus);
            assert!(matches!(
                ok(&longer),
                Err(ProofError::WrongProofLength { .. })
            ));
            let mut longer = vec![old_root];
            longer.extend_from_slice(&proof);
            assert!(matches!(
                ok(&longer),
                Err(ProofError::WrongProofLength { .. })
            ));
        }
    }
}

#[test]
fn consistency_error_variants_and_edges() {
    let t = MemoryTree::from_leaf_hashes((0..13u8).map(|i| leaf_hash(&[i])));
    let r5 = root(&t, 5).unwrap();
    let r13 = root(&t, 13).unwrap();
    let r8 = root(&t, 8).unwrap();
    let p = consistency_proof(&t, 5, 13).unwrap();
    let bogus = leaf_hash(b"x");
    assert_eq!(verify_consistency(5, 13, &r5, &r13, &p), Ok(()));
    assert_eq!(
        verify_consistency(5, 13, &bogus, &r13, &p),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(5, 13, &r5, &bogus, &p),
        Err(ProofError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(5, 13, &r5, &r13, &p[..2]),
        Err(ProofError::WrongProofLength {
            expected: p.len(),
            actual: 2
        })
    );
    // A power-of-two old tree: its root is the proof's start, not a proof element.
    let p8 = consistency_proof(&t, 8, 13).unwrap();
    assert_eq!(verify_consistency(8, 13, &r8, &r13, &p8), Ok(()));
    assert_eq!(
        verify_consistency(8, 13, &bogus, &r13, &p8),
        Err(ProofError::NewRootMismatch)
    );
    // Every tree extends the empty tree, with an empty proof.
    assert_eq!(consistency_proof(&t, 0, 13).unwrap(), Vec::<Hash>::new());
    assert_eq!(verify_consistency(0, 13, &empty_root(), &r13, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, 0, &empty_root(), &empty_root(), &[]),
        Ok(())
    );
    assert_eq!(
        verify_consistency(0, 13, &bogus, &r13, &[]),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(0, 13, &empty_root(), &r13, &[r13]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(
        verify_consistency(13, 13, &r13, &r13, &[r13]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(
        consistency_proof(&t, 14, 13),
        Err(TreeError::OldSizeGreater {
            old_size: 14,
            new_size: 13
        })
    );
    // Asking past the stored leaves surfaces the source's error.
    assert_eq!(
        consistency_proof(&t, 5, 14),
        Err(TreeError::Source(MemoryTreeError::NotStored {
            start: 12,
            size_log2: 1
        }))
    );
    // Extreme sizes: errors, never panics or overflows.
    for (old, new) in [
        (1, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (u64::MAX, u64::MAX),
        (1 << 63, u64::MAX),
        ((1 << 63) + 1, u64::MAX),
        (3, 1 << 63),
    ] {
        let _ = verify_consistency(old, new, &r5, &r13, &[]);
        let _ = verify_consistency(old, new, &r5, &r13, &p);
        let _ = verify_consistency(new, old, &r5, &r13, &p);
        match consistency_proof(&t, old, new) {
            Ok(proof) => assert!(old == new && proof.is_empty()),
            Err(e) => assert!(matches!(e, TreeError::Source(_))),
        }
    }
}

#[test]
fn inclusion_negatives_all_sizes_up_to_40() {
    let mut rng = Prng(0x5eed_0004);
    let data = random_leaves(&mut rng, 41);
    let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
    let t = MemoryTree::from_leaf_hashes(leaves.iter().copied());
    let bogus = leaf_hash(b"not a leaf");
    for size in 1..=40u64 {
        let r = root(&t, size).unwrap();
        for index in 0..size {
            let leaf = leaves[index as usize];
            let proof = inclusion_proof(&t, index, size).unwrap();
            let ok = |p: &[Hash]| verify_inclusion(&leaf, index, size, p, &r);
            assert_eq!(ok(&proof), Ok(()));
            // Wrong leaf.
            assert_eq!(
                verify_inclusion(&bogus, index, size, &proof, &r),
                Err(ProofError::RootMismatch)
            );
            // Wrong root.
            assert_eq!(
                verify_inclusion(&leaf, index, size, &proof, &bogus),
                Err(ProofError::RootMismatch)
            );
            // Wrong index, at every other position in the tree.
            for other in (0..size).filter(|&o| o != index) {
                assert!(
                    verify_inclusion(&leaf, other, size, &proof, &r).is_err(),
                    "index {index} as {other} in {size}"
                );
            }
            assert_eq!(
                verify_inclusion(&leaf, size, size, &proof, &r),
                Err(ProofError::IndexOutOfRange { index: size, size })
            );
            // Wrong size, with the root of that size.
            for other in (index + 1..=41).filter(|&s| s != size) {
                let other_root = rfc::mth(&leaves[..other as usize]);
                assert!(
                    verify_inclusion(&leaf, index, other, &proof, &other_root).is_err(),
                    "index {index}: size {size} as {other}"
                );
            }
            // Flipped hash.
            for at in 0..proof.len() {
                assert_eq!(ok(&flip(&proof, at)), Err(ProofError::RootMismatch));
            }
            // Truncated and extended.
            if !proof.is_empty() {
                assert!(matches!(
                    ok(&proof[..proof.len() - 1]),
                    Err(ProofError::WrongProofLength { .. })
                ));
            }
            let mut longer = proof.clone();
            longer.push(bogus);
            assert_eq!(
                ok(&longer),
                Err(ProofError::WrongProofLength {
                    expected: proof.len(),
                    actual: proof.len() + 1
                })
            );
        }
    }
}

#[test]
fn the_tree_head_binds_the_size_not_the_proof() {
    // RFC 9162 inclusion proofs for leaf 0 in trees of 7 and 8 leaves have the same shape
    // (three left turns), so the 8-leaf proof checks against the 8-leaf root under either
    // size. That is why a verifier must take size and root from one signed tree head.
    let t = reference_tree(8);
    let p = inclusion_proof(&t, 0, 8).unwrap();
    let leaf = leaf_hash(b"");
    assert_eq!(verify_inclusion(&leaf, 0, 7, &p, &h(ROOTS[8])), Ok(()));
    assert_eq!(
        verify_inclusion(&leaf, 0, 7, &p, &h(ROOTS[7])),
        Err(ProofError::RootMismatch)
    );
}

#[test]
fn inclusion_error_variants_and_edges() {
    let t = reference_tree(8);
    let leaf = leaf_hash(b"");
    let r = h(ROOTS[8]);
    assert_eq!(
        verify_inclusion(&leaf, 0, 0, &[], &empty_root()),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        verify_inclusion(&leaf, 0, 8, &[], &r),
        Err(ProofError::WrongProofLength {
            expected: 3,
            actual: 0
        })
    );
    assert_eq!(
        inclusion_proof(&t, 8, 8),
        Err(TreeError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        inclusion_proof(&t, 0, 0),
        Err(TreeError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert!(matches!(
        inclusion_proof(&t, 0, 9),
        Err(TreeError::Source(MemoryTreeError::NotStored { .. }))
    ));
    // Extreme sizes: errors, never panics or overflows.
    let p = inclusion_proof(&t, 5, 8).unwrap();
    for (index, size) in [
        (0, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (u64::MAX, u64::MAX),
        ((1 << 63) - 1, 1 << 63),
        (1 << 63, u64::MAX),
        (5, u64::MAX),
    ] {
        assert!(verify_inclusion(&leaf, index, size, &p, &r).is_err());
        assert!(verify_inclusion(&leaf, index, size, &[], &r).is_err());
        let long = vec![r; 64];
        assert!(verify_inclusion(&leaf, index, size, &long, &r).is_err());
    }
}

/// A node source that counts its reads.
struct Counting<'a> {
    inner: &'a MemoryTree,
    reads: Cell<usize>,
}

impl NodeSource for Counting<'_> {
    type Error = MemoryTreeError;

    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, MemoryTreeError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.subtree(start, size_log2)
    }
}

#[test]
fn proofs_read_logarithmically_many_stored_hashes() {
    let n = 3000u64;
    let t = MemoryTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_be_bytes())));
    let src = Counting {
        inner: &t,
        reads: Cell::new(0),
    };
    let mut rng = Prng(0x5eed_0005);
    for _ in 0..500 {
        let size = 1 + rng.below(n);
        let bits = (u64::BITS - size.leading_zeros()) as usize;
        src.reads.set(0);
        root(&src, size).unwrap();
        assert_eq!(src.reads.get(), size.count_ones() as usize);
        src.reads.set(0);
        inclusion_proof(&src, rng.below(size), size).unwrap();
        assert!(src.reads.get() <= 2 * bits + 1, "{} reads", src.reads.get());
        src.reads.set(0);
        consistency_proof(&src, 1 + rng.below(size), size).unwrap();
        assert!(src.reads.get() <= 2 * bits + 2, "{} reads", src.reads.get());
    }
}

#[test]
fn push_stores_the_same_subtrees_as_a_from_scratch_build() {
    let mut rng = Prng(0x5eed_0006);
    let mut t = MemoryTree::new();
    let mut leaves = Vec::new();
    for n in 1..=300usize {
        let leaf = leaf_hash(&rng.bytes());
        assert_eq!(t.push(leaf), n as u64 - 1);
        leaves.push(leaf);
        assert_eq!(t.size(), n as u64);
        // From scratch: pair up each level.
        let mut level = leaves.clone();
        let mut k = 0u32;
        while !level.is_empty() {
            for (i, want) in level.iter().enumerate() {
                assert_eq!(
                    t.node(k, i as u64),
                    Some(*want),
                    "n {n} level {k} index {i}"
                );
            }
            assert_eq!(t.node(k, level.len() as u64), None);
            level = level
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            k += 1;
        }
        assert_eq!(t.node(k, 0), None);
        assert_eq!(root(&t, n as u64).unwrap(), rfc::mth(&leaves));
    }
    assert!(MemoryTree::new().is_empty());
    assert!(!t.is_empty());
}

#[test]
fn a_frontier_gives_the_root_at_every_size_makes_every_stored_node_and_resumes_from_its_edge() {
    let mut rng = Prng(7);
    let mut tree = MemoryTree::new();
    let mut frontier = Frontier::new();
    let mut made_total = 0u64;
    for n in 1..=300u64 {
        let leaf = leaf_hash(&rng.bytes());
        tree.push(leaf);
        frontier.push(leaf, |level, index, hash| {
            assert_eq!(tree.node(level, index), Some(hash), "node {level}/{index}");
            made_total += 1;
        });
        assert_eq!(frontier.size(), n);
        assert_eq!(frontier.root(), root(&tree, n).unwrap(), "size {n}");
        // Resuming from the stored edge nodes gives the same frontier.
        let edge: Vec<Hash> = Frontier::edge(n)
            .map(|(level, index)| tree.node(level, index).unwrap())
            .collect();
        assert_eq!(Frontier::resume(n, &edge).unwrap(), frontier);
    }
    // A log of n leaves stores n + n/2 + n/4 + ... perfect subtrees.
    assert_eq!(made_total, (0..9).map(|k| 300u64 >> k).sum::<u64>());
    assert_eq!(Frontier::new().root(), empty_root());
    assert_eq!(Frontier::edge(0).count(), 0);
    assert_eq!(
        Frontier::edge(0b1011).collect::<Vec<_>>(),
        [(3, 0), (1, 4), (0, 10)]
    );
    assert!(Frontier::resume(3, &[empty_root()]).is_err());
}
