//! `songda audit`: recompute the whole evidence log from the stored events and check it
//! against everything stored about it, and against the documents.
//!
//! One pass over the events in order, in chunks: each event's bytes must hash to its
//! recorded leaf, the sequence must have no gap, the perfect-subtree hashes recomputed
//! from the leaves must be the stored ones (the nodes that proofs are built from), and at
//! each signed head's size the recomputed root must be the signed root (and the signature
//! must verify with a published key). Heads larger than the log mean entries were removed.
//! Each stored document is re-hashed. The report names the first bad entry: exactly, when
//! its own hash or a node covering it disagrees, or as the range between the last head
//! that holds and the first that does not, when the rewriter recomputed every hash but
//! could not re-sign the heads.

use crate::blob::BlobStore;
use crate::log::verify_head;
use crate::store::{Store, StoreError};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use songda_core::document::Sha256Hex;
use songda_core::evidence::head::TreeHead;
use songda_core::merkle::{self, Frontier, Hash};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Leaves read per query; a power of two so each chunk's nodes up to this level complete
/// inside it.
const CHUNK_LOG2: u32 = 12;
const CHUNK: u64 = 1 << CHUNK_LOG2;
/// Problems listed in full; more are counted.
const MAX_LISTED: usize = 50;

#[derive(Debug, Default)]
pub struct AuditReport {
    pub entries: u64,
    pub nodes: u64,
    pub heads: usize,
    /// RFC 3161 tokens of heads checked.
    pub timestamps: usize,
    /// Whether they were checked against a trusted authority certificate.
    pub timestamps_pinned: bool,
    pub documents: usize,
    pub problems: Vec<String>,
    pub more_problems: usize,
    /// The first entry (leaf index) known to be bad, and what is known of it.
    pub first_bad: Option<FirstBad>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct FirstBad {
    pub index: u64,
    /// Exact, or somewhere in `index..before` when only heads could tell.
    pub before: Option<u64>,
    pub what: String,
}

impl AuditReport {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < MAX_LISTED {
            self.problems.push(text);
        } else {
            self.more_problems += 1;
        }
    }

    /// Records a bad entry (exact, or somewhere in `index..before`) if it says more about
    /// the first one than what is known: an earlier exact entry, an exact entry inside the
    /// known range, or a range that ends sooner.
    fn bad_entry(&mut self, index: u64, before: Option<u64>) {
        let better = match &self.first_bad {
            None => true,
            Some(old) => {
                let old_end = old.before.unwrap_or(old.index + 1);
                let new_end = before.unwrap_or(index + 1);
                match (old.before, before) {
                    (None, None) => index < old.index,
                    (None, Some(_)) => new_end <= old.index,
                    (Some(_), None) => index < old_end,
                    (Some(_), Some(_)) => {
                        (new_end, u64::MAX - index) < (old_end, u64::MAX - old.index)
                    }
                }
            }
        };
        if better {
            self.first_bad = Some(FirstBad {
                index,
                before,
                what: String::new(),
            });
        }
    }

    pub fn to_text(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let mut out = format!(
            "entries    {} recomputed ({} stored nodes compared)\nheads      {} signed heads checked\ntimestamps {} RFC 3161 tokens checked{}\ndocuments  {} re-hashed\ntook       {:.2} s ({:.0} entries/s)\n",
            self.entries,
            self.nodes,
            self.heads,
            self.timestamps,
            if self.timestamps > 0 && !self.timestamps_pinned {
                " (their authority not pinned: pass --tsa-cert)"
            } else {
                ""
            },
            self.documents,
            secs,
            self.entries as f64 / secs.max(1e-9)
        );
        if self.clean() {
            out.push_str("\nCLEAN: the log, its heads and the documents are as recorded\n");
            return out;
        }
        out.push('\n');
        for p in &self.problems {
            out.push_str(&format!("FAILED  {p}\n"));
        }
        if self.more_problems > 0 {
            out.push_str(&format!("        and {} more\n", self.more_problems));
        }
        if let Some(b) = &self.first_bad {
            match b.before {
                None => out.push_str(&format!("\nfirst bad entry: {} {}\n", b.index, b.what)),
                Some(before) => out.push_str(&format!(
                    "\nfirst bad entry: between {} and {} (the last head that holds and the first that does not)\n",
                    b.index,
                    before - 1
                )),
            }
        }
        out
    }
}

/// Runs the audit. `blobs` re-hashes the documents too; storage errors end it.
/// `tsa_trusted` are the certificates (DER) timestamp tokens must chain to; empty: tokens
/// are checked against themselves, and the report says their authority was not pinned.
pub async fn run(
    store: &Store,
    blobs: Option<&BlobStore>,
    tsa_trusted: &[Vec<u8>],
) -> Result<AuditReport, StoreError> {
    let started = Instant::now();
    let mut report = AuditReport::default();
    let heads = check_signatures(store, &mut report).await?;
    check_timestamps(store, tsa_trusted, &mut report).await?;
    let mut next_head = 0;
    let mut last_good_head = 0u64;
    let mut frontier = Frontier::default();
    let mut upper: HashMap<(u32, u64), Hash> = HashMap::new();
    let mut n = 0u64;
    'chunks: loop {
        let rows = store.audit_events(n as i64, CHUNK as i64).await?;
        if rows.is_empty() {
            break;
        }
        let start = n;
        let mut made: Vec<Vec<(u64, Hash)>> = vec![Vec::new(); CHUNK_LOG2 as usize + 1];
        for row in &rows {
            if row.seq != n as i64 + 1 {
                report.problem(format!(
                    "the log jumps from entry {} to entry {}: entries are missing",
                    n as i64 - 1,
                    row.seq - 1
                ));
                report.bad_entry(n, None);
                break 'chunks;
            }
            let leaf = merkle::leaf_hash(row.body.as_bytes());
            let stored = |h: &Option<String>| h.as_deref().and_then(|h| h.parse::<Hash>().ok());
            if stored(&row.leaf_hash) != Some(leaf) {
                let name = event_name(store, row.seq).await?;
                report.problem(format!(
                    "entry {n} ({name}): its stored bytes do not hash to its recorded leaf"
                ));
                report.bad_entry(n, None);
            }
            report.nodes += u64::from(row.leaf_hash.is_some());
            frontier.push(leaf, |level, idx, hash| {
                if level == 0 {
                    // The leaf itself, compared above with its row.
                } else if level <= CHUNK_LOG2 {
                    made[level as usize].push((idx, hash));
                } else {
                    upper.insert((level, idx), hash);
                }
            });
            n += 1;
            while let Some(head) = heads.get(next_head)
                && head.size <= n
            {
                if head.size == n && check_head_root(head, &frontier, last_good_head, &mut report) {
                    last_good_head = n;
                }
                next_head += 1;
            }
        }
        compare_chunk_nodes(store, start, &made, &mut report).await?;
        if (rows.len() as u64) < CHUNK {
            break;
        }
    }
    report.entries = n;
    compare_upper_nodes(store, n, &upper, &mut report).await?;
    for head in &heads[next_head..] {
        if head.size > n {
            report.problem(format!(
                "the head signed at {} covers {} entries but the log holds {n}: entries were removed",
                head.timestamp, head.size
            ));
            report.bad_entry(last_good_head, Some(head.size));
        }
    }
    if let Some(bad) = report.first_bad.as_mut()
        && bad.before.is_none()
    {
        bad.what = format!("({})", event_name(store, bad.index as i64 + 1).await?);
    }
    if let Some(blobs) = blobs {
        check_documents(store, blobs, &mut report).await?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// "type id" of the event at `seq`, for a report.
async fn event_name(store: &Store, seq: i64) -> Result<String, StoreError> {
    Ok(match store.audit_event_name(seq).await? {
        Some((event_type, id)) => format!("{event_type} {id}"),
        None => "missing".into(),
    })
}

/// Every stored timestamp token must stamp its head and be signed by a timestamping
/// certificate (which authority is trusted is for the reader of a certificate to say).
async fn check_timestamps(
    store: &Store,
    trusted: &[Vec<u8>],
    report: &mut AuditReport,
) -> Result<(), StoreError> {
    report.timestamps_pinned = !trusted.is_empty();
    use base64::Engine;
    for (head, token) in store.head_timestamps().await? {
        let checked = base64::engine::general_purpose::STANDARD
            .decode(&token)
            .map_err(|_| "the token is not base64".to_string())
            .and_then(|der| {
                crate::timestamp::check(&der, &crate::timestamp::imprint(&head), trusted)
            });
        if let Err(e) = checked {
            report.problem(format!(
                "the timestamp of the head of size {} signed at {}: {e}",
                head.size, head.timestamp
            ));
        }
        report.timestamps += 1;
    }
    Ok(())
}

/// Every stored head must be signed by a published key; returns them, smallest first.
async fn check_signatures(
    store: &Store,
    report: &mut AuditReport,
) -> Result<Vec<TreeHead>, StoreError> {
    let keys = store.log_keys().await?;
    let heads = store.tree_heads().await?;
    for head in &heads {
        let checked = match keys.iter().find(|k| k.key_id == head.key_id) {
            Some(key) => verify_head(head, &key.algorithm, &key.public_key),
            None => Err(format!("key {} is not published", head.key_id)),
        };
        if let Err(e) = checked {
            report.problem(format!(
                "the head of size {} signed at {}: {e}",
                head.size, head.timestamp
            ));
        }
    }
    report.heads = heads.len();
    Ok(heads)
}

/// Whether the log's root at the head's size is the signed one.
fn check_head_root(
    head: &TreeHead,
    frontier: &Frontier,
    last_good: u64,
    report: &mut AuditReport,
) -> bool {
    if head.root.parse::<Hash>().ok() == Some(frontier.root()) {
        return true;
    }
    report.problem(format!(
        "the head signed at {} for the first {} entries does not match them: they were changed after it was signed",
        head.timestamp, head.size
    ));
    report.bad_entry(last_good, Some(head.size));
    false
}

/// The nodes made from one chunk (levels up to CHUNK_LOG2) against the stored ones.
async fn compare_chunk_nodes(
    store: &Store,
    start: u64,
    made: &[Vec<(u64, Hash)>],
    report: &mut AuditReport,
) -> Result<(), StoreError> {
    for (level, nodes) in made.iter().enumerate() {
        let (Some((lo, _)), Some((last, _))) = (nodes.first(), nodes.last()) else {
            continue;
        };
        debug_assert_eq!(*lo, start >> level);
        let stored = store.audit_nodes(level as u32, *lo, last + 1).await?;
        report.nodes += stored.len() as u64;
        let stored: HashMap<i64, &str> = stored.iter().map(|(i, h)| (*i, h.as_str())).collect();
        for (idx, hash) in nodes {
            let ok = stored
                .get(&(*idx as i64))
                .and_then(|h| h.parse::<Hash>().ok())
                == Some(*hash);
            if !ok {
                node_problem(
                    level as u32,
                    *idx,
                    stored.contains_key(&(*idx as i64)),
                    report,
                );
                break;
            }
        }
    }
    Ok(())
}

/// The few nodes above the chunk level, and node rows beyond the log.
async fn compare_upper_nodes(
    store: &Store,
    n: u64,
    upper: &HashMap<(u32, u64), Hash>,
    report: &mut AuditReport,
) -> Result<(), StoreError> {
    let stored = store.audit_nodes_above(CHUNK_LOG2).await?;
    report.nodes += stored.len() as u64;
    let mut seen = 0;
    for (level, idx, hash) in &stored {
        let key = (*level as u32, *idx as u64);
        match upper.get(&key) {
            Some(made) if hash.parse::<Hash>().ok() == Some(*made) => seen += 1,
            Some(_) => node_problem(key.0, key.1, true, report),
            None => {} // beyond the log: counted below
        }
    }
    if seen < upper.len() {
        report.problem(format!(
            "{} stored nodes above level {CHUNK_LOG2} are missing",
            upper.len() - seen
        ));
    }
    // Leaves live in the events' rows (migration 7); level-0 rows, if a node of an older
    // release wrote some, are read by nothing.
    for (level, count) in store
        .audit_node_counts()
        .await?
        .into_iter()
        .filter(|(l, _)| *l > 0)
    {
        let expected = n >> level;
        if count as u64 > expected {
            report.problem(format!(
                "the node table holds {count} nodes at level {level}, a log of {n} entries has {expected}: rows beyond the log"
            ));
        }
    }
    Ok(())
}

fn node_problem(level: u32, idx: u64, present: bool, report: &mut AuditReport) {
    let (first, last) = (idx << level, ((idx + 1) << level) - 1);
    report.problem(format!(
        "the stored hash of entries {first}..={last} (node {level}/{idx}) {}",
        if present {
            "differs from the one recomputed from the events"
        } else {
            "is missing"
        }
    ));
    if level == 0 {
        report.bad_entry(idx, None);
    } else {
        report.bad_entry(first, Some(last + 1));
    }
}

/// Each stored document must still hash to its name.
async fn check_documents(
    store: &Store,
    blobs: &BlobStore,
    report: &mut AuditReport,
) -> Result<(), StoreError> {
    for (sha, title) in store.document_hashes().await? {
        report.documents += 1;
        let Ok(name) = Sha256Hex::parse(&sha) else {
            report.problem(format!("document «{title}» has a malformed hash {sha:?}"));
            continue;
        };
        let mut stream = match blobs.stream(&name).await {
            Ok(s) => s,
            Err(e) => {
                report.problem(format!("document «{title}» ({sha}): {e}"));
                continue;
            }
        };
        let mut hasher = Sha256::new();
        let mut failed = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => hasher.update(&bytes),
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        let got = hex::encode(hasher.finalize());
        match failed {
            Some(e) => report.problem(format!("document «{title}» ({sha}): {e}")),
            None if got != sha => report.problem(format!(
                "document «{title}»: its stored bytes hash to {got}, not to {sha}: the file was changed"
            )),
            None => {}
        }
    }
    Ok(())
}
