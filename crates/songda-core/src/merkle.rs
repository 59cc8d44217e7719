//! Merkle log math for the evidence log (RFC 6962 §2.1, RFC 9162 §2.1).
//!
//! # What the log is for
//!
//! Every evidence event (see [`crate::evidence`]) is one leaf of an append-only Merkle tree, in
//! the order of its `seq`. The tree head — the tree size and its root hash — is signed
//! elsewhere; this module only does the math: the root of any prefix of the log, an
//! *inclusion proof* that an event is leaf `index` of the tree of `size` leaves, and a
//! *consistency proof* that the tree of `old_size` leaves is a prefix of the tree of
//! `new_size` leaves, i.e. that nothing written before was changed or dropped. Anyone holding
//! a signed tree head can check both kinds of proof with [`verify_inclusion`] and
//! [`verify_consistency`], which need nothing but the hashes they are given.
//!
//! # Hashing
//!
//! Hashes are SHA-256, with the RFC 6962 domain separation between leaves and inner nodes:
//!
//! - leaf: `SHA-256(0x00 || data)` ([`leaf_hash`]);
//! - inner node: `SHA-256(0x01 || left || right)` ([`node_hash`]);
//! - the Merkle Tree Hash of `n > 1` leaves splits them at `k`, the largest power of two
//!   smaller than `n`: `MTH(D[0:n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`;
//! - the root of the empty tree is `SHA-256("")` ([`empty_root`]).
//!
//! The trees, roots and proofs are exactly those of Certificate Transparency, so any RFC 6962
//! or RFC 9162 verifier can check them.
//!
//! # Stored subtrees
//!
//! A log server does not keep the whole tree of every size. It keeps the hashes of the
//! *perfect subtrees*: the complete, power-of-two-sized, aligned subtrees
//!
//! ```text
//! level k, index i  =  MTH(D[i·2^k : (i+1)·2^k])      (start = i << k, i = start >> k)
//! ```
//!
//! Level 0 holds the leaf hashes (index = leaf index); node `(k + 1, i)` is
//! `node_hash((k, 2i), (k, 2i + 1))`. A log of `n` leaves has `n >> k` nodes at level `k`,
//! and they never change once written. When leaf `n` (0-based) is appended, the nodes that
//! become complete are `(k, n >> k)` for `k = 1 ..= n.trailing_ones()`: each one is
//! `node_hash` of its left child `(k - 1, (n >> (k - 1)) - 1)`, stored earlier, and its right
//! child `(k - 1, n >> (k - 1))`, completed just before it. That is what
//! [`MemoryTree::push`] does, and what a server mirrors in SQL as rows `(level, index, hash)`
//! keyed by `(level, index)`, written in the same transaction as the leaf.
//!
//! Every node of the tree of any size `n` is either such a perfect subtree or the right-hand
//! spine of a non-power-of-two range, whose hash is folded from the perfect subtrees of the
//! binary decomposition of its width (e.g. 7 = 4 + 2 + 1 gives
//! `node_hash((2,0), node_hash((1,2), (0,6)))`). So [`root`], [`inclusion_proof`] and
//! [`consistency_proof`] read only O(log n) stored hashes through a [`NodeSource`], whatever
//! the storage behind it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Length in bytes of a [`Hash`](struct@Hash).
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash of a leaf, an inner node or a tree.
///
/// Shown, parsed and serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// Wraps raw hash bytes.
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw hash bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }
}

impl From<Hash> for [u8; HASH_LEN] {
    fn from(h: Hash) -> Self {
        h.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 2 * HASH_LEN];
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// A string that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 hash: expected 64 lowercase hex digits")]
pub struct HashParseError;

impl FromStr for Hash {
    type Err = HashParseError;

    fn from_str(s: &str) -> Result<Self, HashParseError> {
        if s.len() != 2 * HASH_LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(HashParseError);
        }
        let mut out = [0u8; HASH_LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError)?;
        Ok(Self(out))
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;

        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = Hash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hash as 64 lowercase hex digits")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hash, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

/// The hash of a leaf: `SHA-256(0x00 || data)` (RFC 6962 §2.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00u8]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an inner node: `SHA-256(0x01 || left || right)` (RFC 6962 §2.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_LEN];
    buf[0] = 0x01;
    buf[1..1 + HASH_LEN].copy_from_slice(&left.0);
    buf[1 + HASH_LEN..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest(b"").into())
}

/// Where the stored perfect-subtree hashes come from (memory, SQL, ...).
///
/// See the module documentation for the layout: `subtree(start, k)` is node `(level k,
/// index start >> k)`.
pub trait NodeSource {
    /// Why a stored hash could not be read.
    type Error;

    /// The hash of the complete subtree of leaves `[start, start + 2^size_log2)`.
    ///
    /// `start` is a multiple of `2^size_log2`; for `size_log2 == 0` this is the leaf hash of
    /// leaf `start`. The functions of this module only ask for subtrees that lie inside the
    /// tree size they were given.
    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, Self::Error>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    type Error = T::Error;

    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, Self::Error> {
        (**self).subtree(start, size_log2)
    }
}

/// Why a root or proof could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError<E> {
    /// An inclusion proof was asked for a leaf that is not in the tree.
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeGreater {
        /// The old tree size asked for.
        old_size: u64,
        /// The new tree size asked for.
        new_size: u64,
    },
    /// The node source failed to give a stored subtree hash.
    #[error("reading a stored subtree hash failed: {0}")]
    Source(#[source] E),
}

/// Why a proof did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size (always the case for the empty tree).
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf index claimed.
        index: u64,
        /// The tree size claimed.
        size: u64,
    },
    /// The old tree size is larger than the new one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeGreater {
        /// The old tree size claimed.
        old_size: u64,
        /// The new tree size claimed.
        new_size: u64,
    },
    /// The proof does not have the number of hashes that the sizes (and index) require.
    #[error("proof has {actual} hashes, the tree sizes require {expected}")]
    WrongProofLength {
        /// The number of hashes the claimed sizes require.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// The inclusion proof leads from the leaf to another root than the one given.
    #[error("inclusion proof does not lead to the given root")]
    RootMismatch,
    /// The consistency proof does not rebuild the given old root.
    #[error("consistency proof does not rebuild the old root")]
    OldRootMismatch,
    /// The consistency proof does not rebuild the given new root. When the old size is a power
    /// of two, the old root is where the proof starts, so a wrong old root shows here too.
    #[error("consistency proof does not rebuild the new root")]
    NewRootMismatch,
    /// The two tree sizes are equal but the two roots are not.
    #[error("trees of the same size {size} have different roots")]
    SameSizeDifferentRoots {
        /// The tree size claimed for both.
        size: u64,
    },
}

/// The largest power of two strictly smaller than `n`, for `n >= 2`.
fn split_point(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH of the leaves `[lo, hi)`, which must be a node of some tree (so `lo` is aligned to the
/// power of two at or above `hi - lo`): the perfect subtrees of the binary decomposition of the
/// width, folded right to left. Reads `popcount(hi - lo)` stored hashes.
fn range_root<S: NodeSource + ?Sized>(src: &S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let mut width = hi.saturating_sub(lo);
    if width == 0 {
        // Never asked by the functions below; the empty range has the empty root.
        return Ok(empty_root());
    }
    let k = width.trailing_zeros();
    let mut end = hi - (1 << k);
    let mut acc = src.subtree(end, k)?;
    width &= width - 1;
    while width != 0 {
        let k = width.trailing_zeros();
        end -= 1 << k;
        acc = node_hash(&src.subtree(end, k)?, &acc);
        width &= width - 1;
    }
    Ok(acc)
}

/// The root (MTH) of the tree of the first `size` leaves; [`empty_root`] for `size == 0`.
///
/// Reads `popcount(size)` stored hashes.
pub fn root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, TreeError<S::Error>> {
    range_root(src, 0, size).map_err(TreeError::Source)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves: RFC 9162 §2.1.3.1
/// `PATH(index, D[0:size])`, sibling hashes ordered from the leaf up to the root.
///
/// Reads at most `2 * log2(size) + 1` stored hashes.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(inclusion_proof_len(index, size));
    // Walk down from the root, collecting siblings top-down; reversed at the end.
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index - lo < k {
            proof.push(range_root(src, lo + k, hi).map_err(TreeError::Source)?);
            hi = lo + k;
        } else {
            proof.push(
                src.subtree(lo, k.trailing_zeros())
                    .map_err(TreeError::Source)?,
            );
            lo += k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves:
/// RFC 9162 §2.1.4.1 `PROOF(old_size, D[0:new_size])`, i.e. RFC 6962 `SUBPROOF` started with
/// `b = true`.
///
/// Empty when `old_size == new_size` or `old_size == 0` (every tree extends the empty tree).
/// Reads at most `2 * log2(new_size) + 2` stored hashes.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if old_size > new_size {
        return Err(TreeError::OldSizeGreater { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut proof = Vec::with_capacity(consistency_proof_len(old_size, new_size));
    // SUBPROOF(m, D[lo:hi], b) with m = old_size - lo, collected top-down.
    let (mut lo, mut hi, mut b) = (0u64, new_size, true);
    loop {
        let n = hi - lo;
        let m = old_size - lo;
        if m == n {
            if !b {
                proof.push(range_root(src, lo, hi).map_err(TreeError::Source)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(range_root(src, lo + k, hi).map_err(TreeError::Source)?);
            hi = lo + k;
        } else {
            proof.push(
                src.subtree(lo, k.trailing_zeros())
                    .map_err(TreeError::Source)?,
            );
            lo += k;
            b = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The number of hashes in `PATH(index, D[0:size])`, for `index < size`.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Below the level where the paths to `index` and to the last leaf part, every level has a
    // sibling; above it, only the levels where `index` is a right child do.
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The number of hashes in `PROOF(old_size, D[0:new_size])`, for `0 < old_size < new_size`.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (mut m, mut n, mut b, mut len) = (old_size, new_size, true, 0usize);
    while m < n {
        let k = split_point(n);
        len += 1;
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            b = false;
        }
    }
    if b { len } else { len + 1 }
}

/// Checks that `leaf` (a [`leaf_hash`]) is leaf `index` of the tree of `size` leaves whose root
/// is `root`, given the inclusion `proof` (RFC 9162 §2.1.3.2).
///
/// Allocation-free; never panics. The proof binds the leaf to the root; the size is bound to
/// the root by the signed tree head, so pass the size from the same tree head as the root.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    let wrong_len = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_len);
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(wrong_len);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_len);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root`, given the consistency `proof` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. An old size of 0 needs an empty proof and
/// the [`empty_root`] as old root. Allocation-free; never panics.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeGreater { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::SameSizeDifferentRoots { size: old_size });
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        return Ok(());
    }
    // 0 < old_size < new_size.
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_len = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_len);
    }
    // A power-of-two old tree is a node of the new tree: its root starts the proof.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(wrong_len),
        }
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if snode == 0 {
            return Err(wrong_len);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_len);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// A subtree that a [`MemoryTree`] does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemoryTreeError {
    /// `start` is not a multiple of `2^size_log2`, so no such node exists.
    #[error("subtree start {start} is not aligned to 2^{size_log2}")]
    Misaligned {
        /// The first leaf asked for.
        start: u64,
        /// The log2 of the subtree size asked for.
        size_log2: u32,
    },
    /// The subtree reaches past the last leaf.
    #[error("subtree of 2^{size_log2} leaves at {start} is not complete in this tree")]
    NotStored {
        /// The first leaf asked for.
        start: u64,
        /// The log2 of the subtree size asked for.
        size_log2: u32,
    },
}

/// An append-only tree in memory holding every perfect subtree, in the layout of the module
/// documentation: `levels[k][i]` is node `(level k, index i)`, the hash of leaves
/// `[i << k, (i + 1) << k)`, and `levels[k].len() == size >> k`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Self::new();
        for leaf in leaves {
            t.push(leaf);
        }
        t
    }

    /// Appends a leaf hash (a [`leaf_hash`]) and stores the perfect subtrees it completes:
    /// `(k, n >> k)` for `k = 1 ..= n.trailing_ones()` where `n` is the new leaf's index.
    /// O(log n) hashes. Returns the new leaf's index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut level = 0usize;
        let mut i = index;
        let mut node = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            // Invariant: row.len() == i, since level `level` holds `index >> level` nodes.
            let left = if i & 1 == 1 {
                row.last().copied()
            } else {
                None
            };
            row.push(node);
            match left {
                Some(left) => {
                    node = node_hash(&left, &node);
                    level += 1;
                    i >>= 1;
                }
                None => break,
            }
        }
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Node `(level, index)`: the hash of leaves `[index << level, (index + 1) << level)`, if
    /// that subtree is complete.
    pub fn node(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}

impl NodeSource for MemoryTree {
    type Error = MemoryTreeError;

    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, MemoryTreeError> {
        if size_log2 >= u64::BITS {
            // No tree of at most u64::MAX leaves holds a complete subtree of 2^64 of them.
            return Err(MemoryTreeError::NotStored { start, size_log2 });
        }
        let index = start >> size_log2;
        if index << size_log2 != start {
            return Err(MemoryTreeError::Misaligned { start, size_log2 });
        }
        self.node(size_log2, index)
            .ok_or(MemoryTreeError::NotStored { start, size_log2 })
    }
}

/// The right edge of a log being appended to: the roots of the perfect subtrees that make
/// up its first `size` leaves, largest first (one per set bit of `size`). It is all an
/// appender needs to compute every new node and the root without reading the rest of the
/// tree, and all an auditor needs to recompute a log in one pass with O(log n) memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, index, hash), largest subtree first.
    nodes: Vec<(u32, u64, Hash)>,
}

/// A frontier whose hashes do not fit its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a log of {size} leaves has {expected} edge subtrees, not {given}")]
pub struct FrontierError {
    /// The log size.
    pub size: u64,
    /// Its number of edge subtrees.
    pub expected: u32,
    /// The number of hashes given.
    pub given: usize,
}

impl Frontier {
    /// The frontier of the empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The positions `(level, index)` of the edge subtrees of a log of `size` leaves,
    /// largest first: the nodes to read to resume appending at `size`.
    pub fn edge(size: u64) -> impl Iterator<Item = (u32, u64)> {
        let mut start = 0u64;
        (0..u64::BITS)
            .rev()
            .filter(move |level| size >> level & 1 == 1)
            .map(move |level| {
                let at = (level, start >> level);
                start += 1 << level;
                at
            })
    }

    /// Resumes a log of `size` leaves from the hashes of its [`Frontier::edge`] nodes, in
    /// the same order.
    pub fn resume(size: u64, hashes: &[Hash]) -> Result<Self, FrontierError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(FrontierError {
                size,
                expected: size.count_ones(),
                given: hashes.len(),
            });
        }
        let nodes = Self::edge(size)
            .zip(hashes)
            .map(|((level, index), hash)| (level, index, *hash))
            .collect();
        Ok(Self { size, nodes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; `made(level, index, hash)` is called for the leaf (level 0) and
    /// for each perfect subtree it completes, smallest first: the rows a stored log adds.
    pub fn push(&mut self, leaf: Hash, mut made: impl FnMut(u32, u64, Hash)) {
        let index = self.size;
        self.size += 1;
        made(0, index, leaf);
        self.nodes.push((0, index, leaf));
        while let [.., (l1, _, left), (l2, i2, right)] = self.nodes[..]
            && l1 == l2
        {
            let node = (l1 + 1, i2 >> 1, node_hash(&left, &right));
            self.nodes.truncate(self.nodes.len() - 2);
            made(node.0, node.1, node.2);
            self.nodes.push(node);
        }
    }

    /// The RFC 6962 root of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some((_, _, last)) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, (_, _, left)| node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests;
