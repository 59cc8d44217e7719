//! The evidence log in storage: events appended in the transaction of the fact they record,
//! in one total order (`seq`), each a leaf of the Merkle log (`songda_core::merkle`) whose
//! perfect-subtree hashes are stored with it, so roots and proofs cost O(log n) reads.
//!
//! Leaf `i` is the event of `seq = i + 1`; its hash (the level-0 node) is kept once, in
//! `evidence.leaf_hash`. `log_nodes` holds the subtrees of two leaves and more (level ≥ 1).

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

/// Rows per multi-row INSERT. Only the bodies are bound: SQLite looks each parameter up by a
/// linear scan, so a statement of p parameters costs O(p²) and small statements win.
const EVENT_ROWS: usize = 50;
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
        frontier.push(leaf, |level, idx, hash| {
            if level > 0 {
                nodes.push((level, idx, hash));
            }
        });
        rows.push((seq, e, body, leaf));
    }
    for chunk in rows.chunks(EVENT_ROWS) {
        // Everything but the body is ours (a number, ids, an event type, a time we wrote,
        // hex digits) and written in as literals; the body is bound. Such a text is used
        // once, so it is not kept as a prepared statement.
        let mut sql = String::with_capacity(100 + chunk.len() * 260);
        sql.push_str(
            "INSERT INTO evidence (seq, id, event_type, at, case_id, service_id, body, leaf_hash) VALUES ",
        );
        for (i, (seq, e, _, leaf)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let optional = |v: Option<String>| {
                v.as_deref()
                    .map(literal)
                    .transpose()
                    .map(|l| l.unwrap_or_else(|| "NULL".to_string()))
            };
            sql.push_str(&format!(
                "({seq}, {}, {}, {}, {}, {}, ${}, '{leaf}')",
                literal(&e.id.to_string())?,
                literal(e.event_type.as_str())?,
                literal(&e.at)?,
                optional(e.case.as_ref().map(|c| c.id.to_string()))?,
                optional(e.service_id.map(|s| s.to_string()))?,
                i + 1
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for (_, _, body, _) in chunk {
            q = q.bind(body);
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

/// A value the platform made (an id, an event type, a time) as an SQL string literal. Such
/// values are letters, digits and `-:.+`; anything else is refused rather than quoted, so
/// no text that needs escaping ever reaches a statement this way.
fn literal(text: &str) -> Result<String> {
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b))
    {
        Ok(format!("'{text}'"))
    } else {
        Err(StoreError::Corrupt(format!(
            "{text:?} is not an id, event type or time of the platform's making"
        )))
    }
}

/// The frontier of a log of `size` leaves, from its stored edge nodes (one query).
async fn right_edge(tx: &mut Tx<'_>, size: u64) -> Result<Frontier> {
    let edge: Vec<(u32, u64)> = Frontier::edge(size).collect();
    if edge.is_empty() {
        return Ok(Frontier::new());
    }
    let found = read_nodes(tx, &edge).await?;
    let mut hashes = Vec::with_capacity(edge.len());
    for key in &edge {
        let hash = found.get(key).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "log node {}/{} of the right edge is missing",
                key.0, key.1
            ))
        })?;
        hashes.push(*hash);
    }
    Frontier::resume(size, &hashes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The stored nodes `(level, idx)` asked for, wherever they are kept: leaves in `evidence`,
/// the rest in `log_nodes`. Two queries at most; missing nodes are left out.
async fn read_nodes(
    db: &mut sqlx::AnyConnection,
    keys: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Hash>> {
    let mut found = HashMap::with_capacity(keys.len());
    let (leaves, nodes): (Vec<_>, Vec<_>) = keys.iter().partition(|(level, _)| *level == 0);
    for chunk in leaves.chunks(64) {
        // Numbers of our own making, written in.
        let list = chunk
            .iter()
            .map(|(_, idx)| (idx + 1).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT seq, leaf_hash FROM evidence WHERE seq IN ({list})");
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .fetch_all(&mut *db)
            .await?;
        for (seq, hash) in rows {
            if let Some(hash) = hash {
                found.insert((0, seq as u64 - 1), parse_hash(&hash)?);
            }
        }
    }
    for chunk in nodes.chunks(64) {
        let condition = chunk
            .iter()
            .map(|(level, idx)| format!("(level = {level} AND idx = {idx})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!("SELECT level, idx, hash FROM log_nodes WHERE {condition}");
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .fetch_all(&mut *db)
            .await?;
        for (level, idx, hash) in rows {
            found.insert((level as u32, idx as u64), parse_hash(&hash)?);
        }
    }
    Ok(found)
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
    let sealed = store.log_size().await?;
    let mut frontier = right_edge(&mut tx, sealed).await?;
    for (seq, body) in &rows {
        if *seq as u64 != frontier.size() + 1 {
            return Err(StoreError::Corrupt(format!(
                "event {seq} is not sealed but follows a gap or sealed events"
            )));
        }
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
        let mut nodes = Vec::new();
        frontier.push(leaf, |level, idx, hash| {
            if level > 0 {
                nodes.push((level, idx, hash));
            }
        });
        for (level, idx, hash) in nodes {
            sqlx::query("INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)")
                .bind(i64::from(level))
                .bind(idx as i64)
                .bind(hash.to_string())
                .execute(&mut *tx)
                .await?;
        }
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
        // Leaves are numbered 0..n without gaps, and only events stored before the log
        // existed (a prefix, sealed at start) lack a leaf hash: the last event with one,
        // found from the end of the primary key, gives the size without counting.
        let last: Option<(i64,)> = sqlx::query_as(
            "SELECT seq FROM evidence WHERE leaf_hash IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(self.reader())
        .await?;
        Ok(last.map_or(0, |(seq,)| seq as u64))
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

    /// The stored subtrees a computation asked for, in one or two queries.
    async fn fetch_nodes(&self, wanted: Wanted) -> Result<Fetched> {
        let mut keys: Vec<(u32, u64)> = wanted
            .0
            .into_inner()
            .into_iter()
            .map(|(start, size_log2)| (size_log2, start >> size_log2))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut conn = self.reader().acquire().await?;
        let found = read_nodes(&mut conn, &keys).await?;
        Ok(Fetched(
            found
                .into_iter()
                .map(|((level, idx), hash)| ((idx << level, level), hash))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn only_values_of_the_platforms_making_become_literals() {
        assert_eq!(
            literal("2026-11-29T08:00:00.000000Z").unwrap(),
            "'2026-11-29T08:00:00.000000Z'"
        );
        assert_eq!(
            literal("ContentConsignment").unwrap(),
            "'ContentConsignment'"
        );
        for bad in ["a'b", "x\\y", "a b", "\0", "案"] {
            assert!(literal(bad).is_err(), "{bad:?}");
        }
    }
}
