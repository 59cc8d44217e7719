//! The evidence log in storage: events appended in the transaction of the fact they record,
//! in one total order (`seq`), each a leaf of the Merkle log (`songda_core::merkle`) whose
//! perfect-subtree hashes are stored with it, so roots and proofs cost O(log n) reads.

use super::{Backend, Result, Store, StoreError, Tx};
use songda_core::evidence::Event;
use songda_core::ids::ServiceId;
use songda_core::merkle::{self, Frontier, Hash, NodeSource, TreeError};
use std::cell::RefCell;
use std::collections::HashMap;

/// Any fixed number, the same in every process: the key of the sequencer lock.
const SEQUENCER_LOCK: i64 = 0x536f_6e67_6461_0002;

/// Appends an event as the next entry of the log, inside the caller's transaction.
pub(crate) async fn append(tx: &mut Tx<'_>, backend: Backend, e: &Event) -> Result<()> {
    append_all(tx, backend, std::slice::from_ref(e)).await
}

/// Rows per multi-row INSERT. Events are bound: SQLite looks each parameter up by a linear
/// scan, so a statement of p parameters costs O(p²) and small statements win.
const EVENT_ROWS: usize = 25;
const NODE_ROWS: usize = 2000;

/// Appends events as the next entries of the log, in order, inside the caller's
/// transaction.
///
/// The log has one total order, and an entry's number must never be taken by a
/// transaction that commits after a later one (a reader would see a gap fill in). SQLite
/// has one writer, so this holds by construction. On PostgreSQL the first append of a
/// transaction takes a transaction-scoped advisory lock, held until commit: appenders take
/// turns, and the next number is read after the previous appender committed.
///
/// The new leaves and the perfect subtrees they complete are computed in memory from the
/// log's right edge (at most 64 stored nodes, read in one query) and written with the
/// events in multi-row statements: a batch costs a handful of statements, not several per
/// event.
pub(crate) async fn append_all(tx: &mut Tx<'_>, backend: Backend, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    take_sequencer(tx, backend).await?;
    let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM evidence")
        .fetch_one(&mut **tx)
        .await?;
    let mut frontier = right_edge(tx, last as u64).await?;
    let mut rows = Vec::with_capacity(events.len());
    let mut nodes = Vec::with_capacity(events.len() * 2);
    for e in events {
        let body = e
            .canonical_bytes()
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let body = String::from_utf8(body).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let leaf = merkle::leaf_hash(body.as_bytes());
        let seq = frontier.size() as i64 + 1;
        frontier.push(leaf, |level, idx, hash| nodes.push((level, idx, hash)));
        rows.push((seq, e, body, leaf));
    }
    for chunk in rows.chunks(EVENT_ROWS) {
        // seq and the leaf hash are ours (a number, hex digits) and written in; the rest
        // is bound. Such a text is used once, so it is not kept as a prepared statement.
        let mut sql = String::from(
            "INSERT INTO evidence (seq, id, event_type, at, case_id, service_id, body, leaf_hash) VALUES ",
        );
        for (i, (seq, _, _, leaf)) in chunk.iter().enumerate() {
            let p = i * 6;
            sql.push_str(&format!(
                "{}({seq}, ${}, ${}, ${}, ${}, ${}, ${}, '{leaf}')",
                if i == 0 { "" } else { ", " },
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for (_, e, body, _) in chunk {
            q = q
                .bind(e.id.to_string())
                .bind(e.event_type.as_str())
                .bind(&e.at)
                .bind(e.case.as_ref().map(|c| c.id.to_string()))
                .bind(e.service_id.map(|s| s.to_string()))
                .bind(body);
        }
        q.execute(&mut **tx).await?;
    }
    // Node rows are numbers and hex digits of our own making, written into the statement
    // rather than bound: thousands of them cost one statement and no parameter lookups.
    // Each such text is unique, so it is not kept as a prepared statement.
    for chunk in nodes.chunks(NODE_ROWS) {
        let mut sql = String::with_capacity(40 + chunk.len() * 90);
        sql.push_str("INSERT INTO log_nodes (level, idx, hash) VALUES ");
        for (i, (level, idx, hash)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("({level}, {idx}, '{hash}')"));
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The frontier of a log of `size` leaves, from its stored edge nodes (one query).
async fn right_edge(tx: &mut Tx<'_>, size: u64) -> Result<Frontier> {
    let edge: Vec<(u32, u64)> = Frontier::edge(size).collect();
    if edge.is_empty() {
        return Ok(Frontier::new());
    }
    let mut sql = String::from("SELECT level, idx, hash FROM log_nodes WHERE ");
    for i in 0..edge.len() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str(&format!(
            "(level = ${} AND idx = ${})",
            2 * i + 1,
            2 * i + 2
        ));
    }
    let mut q = sqlx::query_as::<_, (i64, i64, String)>(sqlx::AssertSqlSafe(sql));
    for (level, idx) in &edge {
        q = q.bind(*level as i64).bind(*idx as i64);
    }
    let found: HashMap<(i64, i64), String> = q
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(l, i, h)| ((l, i), h))
        .collect();
    let mut hashes = Vec::with_capacity(edge.len());
    for (level, idx) in &edge {
        let hash = found.get(&(*level as i64, *idx as i64)).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "log node {level}/{idx} of the right edge is missing"
            ))
        })?;
        hashes.push(parse_hash(hash)?);
    }
    Frontier::resume(size, &hashes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn take_sequencer(tx: &mut Tx<'_>, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SEQUENCER_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Stores leaf `index` and the perfect subtrees it completes: while the node just made is
/// a right child, its parent is complete too (see `songda_core::merkle`). Used when
/// sealing events stored before the log, one at a time.
async fn add_leaf(tx: &mut Tx<'_>, index: i64, leaf: Hash) -> Result<()> {
    put_node(tx, 0, index, &leaf).await?;
    let (mut level, mut idx, mut hash) = (0i64, index, leaf);
    while idx & 1 == 1 {
        let (left,): (String,) =
            sqlx::query_as("SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2")
                .bind(level)
                .bind(idx - 1)
                .fetch_one(&mut **tx)
                .await?;
        hash = merkle::node_hash(&parse_hash(&left)?, &hash);
        level += 1;
        idx >>= 1;
        put_node(tx, level, idx, &hash).await?;
    }
    Ok(())
}

async fn put_node(tx: &mut Tx<'_>, level: i64, idx: i64, hash: &Hash) -> Result<()> {
    sqlx::query("INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)")
        .bind(level)
        .bind(idx)
        .bind(hash.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn parse_hash(s: &str) -> Result<Hash> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad hash {s:?} in the log")))
}

/// Events stored before the log existed (migration 3) are sealed once, in order: their
/// body rewritten in canonical form and their hashes added. Returns how many.
pub(crate) async fn seal_unsealed(store: &Store) -> Result<usize> {
    // The usual start: every event is a leaf already. Two look-ups on primary keys answer
    // that without scanning the log.
    let (events,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM evidence")
        .fetch_one(store.reader())
        .await?;
    if events as u64 == store.log_size().await? {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    take_sequencer(&mut tx, store.backend).await?;
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, body FROM evidence WHERE leaf_hash IS NULL ORDER BY seq")
            .fetch_all(&mut *tx)
            .await?;
    for (seq, body) in &rows {
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let canonical = songda_core::evidence::canonical::to_canonical(&value)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let canonical =
            String::from_utf8(canonical).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let leaf = merkle::leaf_hash(canonical.as_bytes());
        sqlx::query("UPDATE evidence SET body = $1, leaf_hash = $2 WHERE seq = $3")
            .bind(&canonical)
            .bind(leaf.to_string())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        add_leaf(&mut tx, seq - 1, leaf).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Records which stored subtrees a tree computation asks for (the requests depend only on
/// the sizes, never on the hashes), so they can be fetched in one query.
#[derive(Default)]
struct Wanted(RefCell<Vec<(u64, u32)>>);

impl NodeSource for Wanted {
    type Error = std::convert::Infallible;
    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, Self::Error> {
        self.0.borrow_mut().push((start, size_log2));
        Ok(Hash::from_bytes([0; 32]))
    }
}

/// The fetched subtrees, answering the second, real computation.
struct Fetched(HashMap<(u64, u32), Hash>);

impl NodeSource for Fetched {
    type Error = StoreError;
    fn subtree(&self, start: u64, size_log2: u32) -> Result<Hash, StoreError> {
        self.0.get(&(start, size_log2)).copied().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "log node ({size_log2}, {}) missing",
                start >> size_log2
            ))
        })
    }
}

fn tree_error<E: Into<StoreError> + std::error::Error + 'static>(e: TreeError<E>) -> StoreError {
    match e {
        TreeError::Source(e) => e.into(),
        other => StoreError::OutOfRange(other.to_string()),
    }
}

impl From<std::convert::Infallible> for StoreError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

impl Store {
    /// The events of one service in log order.
    pub async fn service_events(&self, service: ServiceId) -> Result<Vec<Event>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM evidence WHERE service_id = $1 ORDER BY seq")
                .bind(service.to_string())
                .fetch_all(self.reader())
                .await?;
        rows.into_iter()
            .map(|(b,)| serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// The whole log in order, as (seq, event); for audits and tests.
    pub async fn all_events(&self) -> Result<Vec<(i64, Event)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM evidence ORDER BY seq")
                .fetch_all(self.reader())
                .await?;
        rows.into_iter()
            .map(|(seq, b)| {
                serde_json::from_str(&b)
                    .map(|e| (seq, e))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// How many events the log holds.
    pub async fn evidence_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evidence")
            .fetch_one(self.reader())
            .await?;
        Ok(n)
    }

    /// Appends a standalone event (one not tied to another state change).
    pub async fn append_event(&self, e: &Event) -> Result<()> {
        self.append_events(std::slice::from_ref(e)).await
    }

    /// Appends events in one transaction, in order: all of them or none.
    pub async fn append_events(&self, events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        append_all(&mut tx, self.backend, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many leaves the log has.
    pub async fn log_size(&self) -> Result<u64> {
        // Leaves are numbered 0..n without gaps: the last one, found on the primary key,
        // gives the size without counting every leaf.
        let (n,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_nodes WHERE level = 0")
                .fetch_one(self.reader())
                .await?;
        Ok(n as u64)
    }

    /// Leaf `index`: its canonical bytes and leaf hash.
    pub async fn log_leaf(&self, index: u64) -> Result<(String, Hash)> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT body, leaf_hash FROM evidence WHERE seq = $1")
                .bind(index as i64 + 1)
                .fetch_optional(self.reader())
                .await?;
        match row {
            Some((body, Some(leaf))) => Ok((body, parse_hash(&leaf)?)),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn check_size(&self, size: u64) -> Result<()> {
        let have = self.log_size().await?;
        if size > have {
            return Err(StoreError::OutOfRange(format!(
                "the log has {have} leaves, not {size}"
            )));
        }
        Ok(())
    }

    /// The root of the first `size` leaves.
    pub async fn log_root(&self, size: u64) -> Result<Hash> {
        self.check_size(size).await?;
        let wanted = Wanted::default();
        merkle::root(&wanted, size).map_err(tree_error)?;
        let fetched = self.fetch_nodes(wanted).await?;
        merkle::root(&fetched, size).map_err(tree_error)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3).
    pub async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size).await?;
        let wanted = Wanted::default();
        merkle::inclusion_proof(&wanted, index, size).map_err(tree_error)?;
        let fetched = self.fetch_nodes(wanted).await?;
        merkle::inclusion_proof(&fetched, index, size).map_err(tree_error)
    }

    /// The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
    /// leaves (RFC 9162 2.1.4).
    pub async fn log_consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        self.check_size(new_size).await?;
        let wanted = Wanted::default();
        merkle::consistency_proof(&wanted, old_size, new_size).map_err(tree_error)?;
        let fetched = self.fetch_nodes(wanted).await?;
        merkle::consistency_proof(&fetched, old_size, new_size).map_err(tree_error)
    }

    /// The stored subtrees a computation asked for, in one query.
    async fn fetch_nodes(&self, wanted: Wanted) -> Result<Fetched> {
        let mut keys = wanted.0.into_inner();
        keys.sort_unstable();
        keys.dedup();
        let mut fetched = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(64) {
            let condition = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("SELECT level, idx, hash FROM log_nodes WHERE {condition}");
            let mut query = sqlx::query_as::<_, (i64, i64, String)>(sqlx::AssertSqlSafe(sql));
            for &(start, size_log2) in chunk {
                query = query
                    .bind(i64::from(size_log2))
                    .bind((start >> size_log2) as i64);
            }
            for (level, idx, hash) in query.fetch_all(self.reader()).await? {
                let level = level as u32;
                fetched.insert(((idx as u64) << level, level), parse_hash(&hash)?);
            }
        }
        Ok(Fetched(fetched))
    }
}
