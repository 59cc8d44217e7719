//! Lists of services: a recipient's documents and a court's records, filtered, searched,
//! sorted and paginated; and each user's own markers on what was served on them (pinned,
//! read) and folders.
//!
//! Search works on one text per service (`service_search`: case number, case title,
//! court, recipient, document titles). Chinese has no spaces between words, so the index
//! is of trigrams: on SQLite an FTS5 trigram index answers a court's search for terms of
//! three or more characters, and an index of the text's two-character pairs answers terms
//! of two letters or digits (two-character names and words are the commonest searches).
//! Other terms, a user's own services (a few thousand at most, faster matched one by one
//! than probed against the platform's matches), and every term on PostgreSQL (where
//! `pg_trgm` indexes LIKE) are matched with LIKE.
//!
//! A user's lists read `services` through its `(party_id, stage, created_at, id)` index. A
//! court's run to tens of thousands of rows, so they read `service_search` alone, which
//! carries the court, case, stage and times of each service (see migration 13).

use super::services::{COLUMNS, Row};
use super::{Backend, Result, ServiceDetail, Store, StoreError, conflict_on_unique, parse_id, ts};
use songda_core::document::DocType;
use songda_core::ids::{CaseId, CourtId, FolderId, ServiceId, UserId};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Whose services a list is drawn from.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Served on the parties a user is bound to.
    User(UserId),
    /// Served by a court.
    Court(CourtId),
}

/// The status filter of a list. `Failed` is a service still awaiting the recipient about
/// which a notification could not be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    Pending,
    Signed,
    Refused,
    Failed,
    /// Signed or refused.
    Done,
}

impl StatusFilter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "signed" => Self::Signed,
            "refused" => Self::Refused,
            "failed" => Self::Failed,
            "done" => Self::Done,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signed => "signed",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Done => "done",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Pinned first (a user's list), then awaiting the recipient, then newest.
    #[default]
    Default,
    Newest,
    Oldest,
    /// By case number, then newest.
    CaseNumber,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default" => Self::Default,
            "newest" => Self::Newest,
            "oldest" => Self::Oldest,
            "case" => Self::CaseNumber,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::CaseNumber => "case",
        }
    }
}

/// What a list shows. Every filter is optional; `limit` is capped at [`MAX_PAGE`].
#[derive(Clone, Debug, Default)]
pub struct ServiceQuery {
    pub case_id: Option<CaseId>,
    pub court_id: Option<CourtId>,
    pub doc_type: Option<DocType>,
    pub status: Option<StatusFilter>,
    /// Deposited at or after.
    pub from: Option<OffsetDateTime>,
    /// Deposited before.
    pub until: Option<OffsetDateTime>,
    /// Still awaiting the recipient, deposited before this time.
    pub pending_since: Option<OffsetDateTime>,
    pub q: Option<String>,
    /// In this folder of the listing user.
    pub folder: Option<FolderId>,
    pub pinned: bool,
    pub unread: bool,
    pub sort: Sort,
    pub limit: u32,
    pub offset: u32,
}

/// The most rows one page holds.
pub const MAX_PAGE: u32 = 500;

/// A listed service with the listing user's markers.
#[derive(Clone, Debug)]
pub struct Listed {
    pub detail: ServiceDetail,
    pub pinned: bool,
    pub read_at: Option<OffsetDateTime>,
    pub folders: Vec<Folder>,
}

/// One page of a list and how many services match in all.
#[derive(Clone, Debug)]
pub struct ServicePage {
    pub items: Vec<Listed>,
    pub total: i64,
}

/// How many services match, by status, with every filter but the status applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: i64,
    pub signed: i64,
    pub refused: i64,
    pub failed: i64,
}

impl StatusCounts {
    pub fn all(&self) -> i64 {
        self.pending + self.signed + self.refused
    }
}

/// A user's markers on one service.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    pub pinned: bool,
    pub read_at: Option<OffsetDateTime>,
    pub folders: Vec<Folder>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub id: FolderId,
    pub name: String,
}

/// The search terms of a query: words split at spaces, wildcards and quotes dropped, at
/// most five.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split_whitespace()
        .map(|t| t.replace(['%', '_', '\\', '"'], ""))
        .filter(|t| !t.is_empty())
        .take(5)
        .collect()
}

/// A WHERE clause with its bound values, numbered as they are added.
struct Where {
    parts: Vec<String>,
    binds: Vec<String>,
}

impl Where {
    fn arg(&mut self, v: impl Into<String>) -> String {
        self.binds.push(v.into());
        format!("${}", self.binds.len())
    }

    fn and(&mut self, part: String) {
        self.parts.push(part);
    }

    fn sql(&self) -> String {
        if self.parts.is_empty() {
            "1 = 1".into()
        } else {
            self.parts.join(" AND ")
        }
    }

    fn query_as<'q, T>(
        &'q self,
        sql: String,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for b in &self.binds {
            q = q.bind(b.as_str());
        }
        q
    }
}

/// How many of `counts` a status filter lists.
fn total_of(status: Option<StatusFilter>, counts: &StatusCounts) -> i64 {
    match status {
        None => counts.all(),
        Some(StatusFilter::Pending) => counts.pending,
        Some(StatusFilter::Signed) => counts.signed,
        Some(StatusFilter::Refused) => counts.refused,
        Some(StatusFilter::Failed) => counts.failed,
        Some(StatusFilter::Done) => counts.signed + counts.refused,
    }
}

const PENDING: &str = "s.stage IN ('deposited', 'viewed')";

/// The distinct pairs of adjacent characters of a search row's text, space-separated: what
/// `service_search_pairs` indexes under the row's number (SQLite; the same expression
/// indexed the existing rows in migration 13).
pub(super) const PAIRS: &str = "COALESCE((
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < length(service_search.body))
    SELECT group_concat(p, ' ') FROM (SELECT DISTINCT substr(service_search.body, i, 2) AS p FROM n)), '')";

/// Whether `term` is found through the index of pairs: two characters, each one the
/// index's tokenizer keeps in a word. Only ASCII letters and digits and CJK ideographs are
/// taken for sure; any other term is matched with LIKE.
fn is_pair(term: &str) -> bool {
    fn word(c: char) -> bool {
        c.is_ascii_alphanumeric()
            || matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}')
    }
    let mut chars = term.chars();
    matches!(
        (chars.next(), chars.next(), chars.next()),
        (Some(a), Some(b), None) if word(a) && word(b)
    )
}

/// The table a list in `scope` reads as `s`, and the expression of the service's id in it.
fn source(scope: Scope) -> (&'static str, &'static str) {
    match scope {
        Scope::User(_) => ("services", "s.id"),
        Scope::Court(_) => ("service_search", "s.service_id"),
    }
}

/// With a notification that could not be delivered.
fn notice_failed(scope: Scope) -> String {
    let (_, id) = source(scope);
    format!("{id} IN (SELECT o.service_id FROM outbox o WHERE o.status = 'failed')")
}

/// Still awaiting the recipient, with a notification that could not be delivered.
fn failed(scope: Scope) -> String {
    format!("{PENDING} AND {}", notice_failed(scope))
}

/// The condition a status filter puts on `s`.
fn status_hit(scope: Scope, status: Option<StatusFilter>) -> String {
    match status {
        None => "1 = 1".into(),
        Some(StatusFilter::Pending) => PENDING.into(),
        Some(StatusFilter::Signed) => "s.stage = 'signed'".into(),
        Some(StatusFilter::Refused) => "s.stage = 'refused'".into(),
        Some(StatusFilter::Failed) => failed(scope),
        Some(StatusFilter::Done) => "s.stage IN ('signed', 'refused')".into(),
    }
}

/// The sums by status over every row of `s` that matches, as window expressions.
fn status_windows(scope: Scope) -> String {
    format!(
        "SUM(CASE WHEN {PENDING} THEN 1 ELSE 0 END) OVER () AS n_pending,
         SUM(CASE WHEN s.stage = 'signed' THEN 1 ELSE 0 END) OVER () AS n_signed,
         SUM(CASE WHEN s.stage = 'refused' THEN 1 ELSE 0 END) OVER () AS n_refused,
         SUM(CASE WHEN {} THEN 1 ELSE 0 END) OVER () AS n_failed",
        failed(scope)
    )
}

/// A court's list, newest first (the service id breaks ties).
const COURT_NEWEST: &str = "s.created_at DESC, s.service_id";

impl Store {
    fn filter(&self, scope: Scope, q: &ServiceQuery) -> Where {
        let mut w = Where {
            parts: Vec::new(),
            binds: Vec::new(),
        };
        match scope {
            Scope::User(u) => {
                let u = w.arg(u.to_string());
                w.and(format!(
                    "s.party_id IN (SELECT p.id FROM parties p WHERE p.bound_user_id = {u})"
                ));
                if let Some(f) = q.folder {
                    let f = w.arg(f.to_string());
                    w.and(format!(
                        "s.id IN (SELECT fs.service_id FROM folder_services fs JOIN folders f ON f.id = fs.folder_id
                                  WHERE fs.folder_id = {f} AND f.user_id = {u})"
                    ));
                }
                if q.pinned {
                    w.and(format!(
                        "EXISTS (SELECT 1 FROM service_marks m WHERE m.user_id = {u} AND m.service_id = s.id AND m.pinned = 1)"
                    ));
                }
                if q.unread {
                    w.and(format!(
                        "NOT EXISTS (SELECT 1 FROM service_marks m WHERE m.user_id = {u} AND m.service_id = s.id AND m.read_at IS NOT NULL)"
                    ));
                }
            }
            Scope::Court(c) => {
                let c = w.arg(c.to_string());
                w.and(format!("s.court_id = {c}"));
            }
        }
        let (_, id) = source(scope);
        if let Some(c) = q.case_id {
            let c = w.arg(c.to_string());
            w.and(format!("s.case_id = {c}"));
        }
        if let Some(c) = q.court_id {
            let c = w.arg(c.to_string());
            w.and(match scope {
                Scope::User(_) => {
                    format!("s.case_id IN (SELECT c.id FROM cases c WHERE c.court_id = {c})")
                }
                Scope::Court(_) => format!("s.court_id = {c}"),
            });
        }
        if let Some(t) = q.doc_type {
            let t = w.arg(t.as_str());
            w.and(format!(
                "EXISTS (SELECT 1 FROM service_documents sd JOIN documents d ON d.id = sd.document_id
                         WHERE sd.service_id = {id} AND d.doc_type = {t})"
            ));
        }
        if let Some(t) = q.from {
            let t = w.arg(ts(t));
            w.and(format!("s.deposited_at >= {t}"));
        }
        if let Some(t) = q.until {
            let t = w.arg(ts(t));
            w.and(format!("s.deposited_at < {t}"));
        }
        if let Some(t) = q.pending_since {
            let t = w.arg(ts(t));
            w.and(format!("{PENDING} AND s.deposited_at < {t}"));
        }
        let terms = q.q.as_deref().map(search_terms).unwrap_or_default();
        let (mut long, mut pairs, mut short) = (Vec::new(), Vec::new(), Vec::new());
        for t in &terms {
            match (self.backend, scope) {
                // FTS5 indexes answer a court's search. A user's own services are few
                // enough that matching each of them is faster than probing matches from
                // the whole platform.
                (Backend::Sqlite, Scope::Court(_)) if t.chars().count() >= 3 => long.push(t),
                (Backend::Sqlite, Scope::Court(_)) if is_pair(t) => pairs.push(t),
                _ => short.push(t),
            }
        }
        for (index, terms) in [
            ("service_search_fts", long),
            ("service_search_pairs", pairs),
        ] {
            if terms.is_empty() {
                continue;
            }
            let phrases = terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" ");
            let m = w.arg(phrases);
            // The matches' row numbers are the search rows' own: each is read by rowid.
            w.and(format!(
                "s.id IN (SELECT rowid FROM {index} WHERE {index} MATCH {m})"
            ));
        }
        let like = self.like();
        for t in short {
            let p = w.arg(format!("%{t}%"));
            w.and(match scope {
                Scope::User(_) => format!(
                    "EXISTS (SELECT 1 FROM service_search ss WHERE ss.service_id = s.id AND ss.body {like} {p})"
                ),
                Scope::Court(_) => format!("s.body {like} {p}"),
            });
        }
        w
    }

    /// One page of services in `scope` matching `q`, the total that match, and the counts
    /// by status (every filter but the status applied).
    ///
    /// A user's: one pass over the candidates, from the covering index on `(party_id,
    /// stage, created_at, id)`: window sums count them by status while the page's ids are
    /// sorted out. A court's: see `list_court`. Then only the page's rows are read.
    pub async fn list_services(
        &self,
        scope: Scope,
        q: &ServiceQuery,
    ) -> Result<(ServicePage, StatusCounts)> {
        let mut w = self.filter(scope, q);
        let hit = status_hit(scope, q.status);
        let pin = match (q.sort, scope) {
            (Sort::Default, Scope::User(u)) => {
                let u = w.arg(u.to_string());
                format!(
                    "(SELECT COALESCE(MAX(m.pinned), 0) FROM service_marks m WHERE m.user_id = {u} AND m.service_id = s.id)"
                )
            }
            _ => "0".into(),
        };
        let case_number = match q.sort {
            Sort::CaseNumber => "(SELECT c.case_number FROM cases c WHERE c.id = s.case_id)",
            _ => "''",
        };
        let order = match q.sort {
            Sort::Default => "t.pin DESC, t.settled, t.created_at DESC, t.id",
            Sort::Newest => "t.created_at DESC, t.id",
            Sort::Oldest => "t.created_at, t.id",
            Sort::CaseNumber => "t.case_number, t.created_at DESC, t.id",
        };
        let limit = q.limit.clamp(1, MAX_PAGE);
        if let Scope::Court(_) = scope {
            return self.list_court(scope, q, w, &hit, limit).await;
        }
        let sums = status_windows(scope);
        let ids: Vec<(String, i64, i64, i64, i64)> = w
            .query_as(format!(
                "SELECT t.id, t.n_pending, t.n_signed, t.n_refused, t.n_failed FROM (
                   SELECT s.id, s.created_at, {pin} AS pin, {case_number} AS case_number,
                          CASE WHEN {PENDING} THEN 0 ELSE 1 END AS settled,
                          CASE WHEN {hit} THEN 1 ELSE 0 END AS hit, {sums}
                   FROM services s WHERE {}
                 ) t
                 WHERE t.hit = 1 ORDER BY {order} LIMIT {limit} OFFSET {}",
                w.sql(),
                q.offset
            ))
            .fetch_all(self.reader())
            .await?;
        let counts = match ids.first() {
            Some(&(_, pending, signed, refused, failed)) => StatusCounts {
                pending,
                signed,
                refused,
                failed,
            },
            // An empty page: the counts are asked for on their own.
            None => self.count_services(scope, q).await?,
        };
        let total = total_of(q.status, &counts);
        if ids.is_empty() {
            let page = ServicePage {
                items: Vec::new(),
                total,
            };
            return Ok((page, counts));
        }
        let ids: Vec<String> = ids.into_iter().map(|(id, ..)| id).collect();
        let items = self.page_items(scope, &ids).await?;
        Ok((ServicePage { items, total }, counts))
    }

    /// A court's list: its candidates run to the court's every service, too many for a
    /// window over them all, so the counts and the page are two passes over
    /// `service_search` (its indexes or the full-text matches).
    async fn list_court(
        &self,
        scope: Scope,
        q: &ServiceQuery,
        w: Where,
        hit: &str,
        limit: u32,
    ) -> Result<(ServicePage, StatusCounts)> {
        let counts = self.count_services(scope, q).await?;
        let total = total_of(q.status, &counts);
        let offset = i64::from(q.offset);
        if total == 0 || offset >= total {
            let page = ServicePage {
                items: Vec::new(),
                total,
            };
            return Ok((page, counts));
        }
        let page = |part: String, order: &'static str, offset: i64, limit: i64| {
            let w = &w;
            async move {
                let ids: Vec<(String,)> = w
                    .query_as(format!(
                        "SELECT s.service_id FROM service_search s WHERE {} AND {part}
                         ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                        w.sql()
                    ))
                    .fetch_all(self.reader())
                    .await?;
                Ok::<_, StoreError>(ids.into_iter().map(|(id,)| id).collect::<Vec<_>>())
            }
        };
        let limit = i64::from(limit);
        let ids = match q.sort {
            // Those awaiting the recipient first: each part sorted on its own (from the
            // index, or the search matches), the counts telling where the first ends.
            Sort::Default => {
                let awaiting = match q.status {
                    None | Some(StatusFilter::Pending) => counts.pending,
                    Some(StatusFilter::Failed) => counts.failed,
                    Some(_) => 0,
                };
                let mut ids = Vec::new();
                if offset < awaiting {
                    let part = format!("{hit} AND {PENDING}");
                    ids = page(part, COURT_NEWEST, offset, limit).await?;
                }
                let rest = limit - ids.len() as i64;
                if rest > 0 && offset + limit > awaiting {
                    let part = format!("{hit} AND NOT ({PENDING})");
                    let from = (offset - awaiting).max(0);
                    ids.extend(page(part, COURT_NEWEST, from, rest).await?);
                }
                ids
            }
            Sort::Newest => page(hit.into(), COURT_NEWEST, offset, limit).await?,
            Sort::Oldest => page(hit.into(), "s.created_at, s.service_id", offset, limit).await?,
            Sort::CaseNumber => {
                let order = "(SELECT c.case_number FROM cases c WHERE c.id = s.case_id), s.created_at DESC, s.service_id";
                page(hit.into(), order, offset, limit).await?
            }
        };
        let items = self.page_items(scope, &ids).await?;
        Ok((ServicePage { items, total }, counts))
    }

    /// The page's services, in the order of `ids`, with the listing user's markers.
    async fn page_items(&self, scope: Scope, ids: &[String]) -> Result<Vec<Listed>> {
        let mut by_id = Where {
            parts: Vec::new(),
            binds: Vec::new(),
        };
        let list = ids
            .iter()
            .map(|id| by_id.arg(id.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut rows: Vec<Row> = by_id
            .query_as(format!(
                "SELECT {COLUMNS} FROM services s WHERE s.id IN ({list})"
            ))
            .fetch_all(self.reader())
            .await?;
        // Back in the page's order.
        let position: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        rows.sort_by_key(|r| position.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
        let details = self.details(rows).await?;
        let items = match scope {
            Scope::User(u) => self.with_marks(u, details).await?,
            Scope::Court(_) => details
                .into_iter()
                .map(|detail| Listed {
                    detail,
                    pinned: false,
                    read_at: None,
                    folders: Vec::new(),
                })
                .collect(),
        };
        Ok(items)
    }

    /// How many services in `scope` match `q` (its status aside), by status: one pass.
    pub async fn count_services(&self, scope: Scope, q: &ServiceQuery) -> Result<StatusCounts> {
        let w = self.filter(scope, q);
        let (table, _) = source(scope);
        // By stage, in the order of the indexes that lead with it.
        let rows: Vec<(String, i64, i64)> = w
            .query_as(format!(
                "SELECT s.stage, COUNT(*), COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0)
                 FROM {table} s WHERE {} GROUP BY s.stage",
                notice_failed(scope),
                w.sql()
            ))
            .fetch_all(self.reader())
            .await?;
        let mut counts = StatusCounts::default();
        for (stage, n, failed) in rows {
            match stage.as_str() {
                "deposited" | "viewed" => {
                    counts.pending += n;
                    counts.failed += failed;
                }
                "signed" => counts.signed += n,
                "refused" => counts.refused += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    async fn with_marks(&self, user: UserId, details: Vec<ServiceDetail>) -> Result<Vec<Listed>> {
        if details.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = Where {
            parts: Vec::new(),
            binds: Vec::new(),
        };
        let u = w.arg(user.to_string());
        let ids = details
            .iter()
            .map(|d| w.arg(d.service.id.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        let marks: Vec<(String, i64, Option<String>)> = w
            .query_as(format!(
                "SELECT service_id, pinned, read_at FROM service_marks WHERE user_id = {u} AND service_id IN ({ids})"
            ))
            .fetch_all(self.reader())
            .await?;
        let mut marks: HashMap<String, (bool, Option<OffsetDateTime>)> = marks
            .into_iter()
            .map(|(id, pinned, read)| Ok((id, (pinned != 0, super::parse_opt_time(read)?))))
            .collect::<Result<_>>()?;
        let filed: Vec<(String, String, String)> = w
            .query_as(format!(
                "SELECT fs.service_id, f.id, f.name FROM folder_services fs JOIN folders f ON f.id = fs.folder_id
                 WHERE f.user_id = {u} AND fs.service_id IN ({ids}) ORDER BY f.name"
            ))
            .fetch_all(self.reader())
            .await?;
        let mut folders: HashMap<String, Vec<Folder>> = HashMap::new();
        for (service, id, name) in filed {
            folders.entry(service).or_default().push(Folder {
                id: parse_id(&id)?,
                name,
            });
        }
        Ok(details
            .into_iter()
            .map(|detail| {
                let id = detail.service.id.to_string();
                let (pinned, read_at) = marks.remove(&id).unwrap_or_default();
                Listed {
                    pinned,
                    read_at,
                    folders: folders.remove(&id).unwrap_or_default(),
                    detail,
                }
            })
            .collect())
    }

    /// A user's markers on one service.
    pub async fn marks(&self, user: UserId, service: ServiceId) -> Result<Marks> {
        let row: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT pinned, read_at FROM service_marks WHERE user_id = $1 AND service_id = $2",
        )
        .bind(user.to_string())
        .bind(service.to_string())
        .fetch_optional(self.reader())
        .await?;
        let (pinned, read_at) = row.unwrap_or_default();
        let folders: Vec<(String, String)> = sqlx::query_as(
            "SELECT f.id, f.name FROM folder_services fs JOIN folders f ON f.id = fs.folder_id
             WHERE f.user_id = $1 AND fs.service_id = $2 ORDER BY f.name",
        )
        .bind(user.to_string())
        .bind(service.to_string())
        .fetch_all(self.reader())
        .await?;
        Ok(Marks {
            pinned: pinned != 0,
            read_at: super::parse_opt_time(read_at)?,
            folders: folders
                .into_iter()
                .map(|(id, name)| {
                    Ok(Folder {
                        id: parse_id(&id)?,
                        name,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    /// Pins a service to the top of a user's list, or unpins it.
    pub async fn set_pinned(&self, user: UserId, service: ServiceId, pinned: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO service_marks (user_id, service_id, pinned) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, service_id) DO UPDATE SET pinned = excluded.pinned",
        )
        .bind(user.to_string())
        .bind(service.to_string())
        .bind(i64::from(pinned))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks a service read by a user (the first time counts), or unread again.
    pub async fn set_read(
        &self,
        user: UserId,
        service: ServiceId,
        read: Option<OffsetDateTime>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO service_marks (user_id, service_id, read_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, service_id) DO UPDATE SET
               read_at = CASE WHEN excluded.read_at IS NULL THEN NULL
                              ELSE COALESCE(service_marks.read_at, excluded.read_at) END",
        )
        .bind(user.to_string())
        .bind(service.to_string())
        .bind(read.map(ts))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A user's folders with how many services each holds, by name.
    pub async fn folders(&self, user: UserId) -> Result<Vec<(Folder, i64)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT f.id, f.name, (SELECT COUNT(*) FROM folder_services fs WHERE fs.folder_id = f.id)
             FROM folders f WHERE f.user_id = $1 ORDER BY f.name",
        )
        .bind(user.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(id, name, n)| {
                Ok((
                    Folder {
                        id: parse_id(&id)?,
                        name,
                    },
                    n,
                ))
            })
            .collect()
    }

    /// A new folder; `Conflict("folder_exists")` if the user has one of that name.
    pub async fn create_folder(
        &self,
        user: UserId,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Folder> {
        let id = FolderId::new();
        sqlx::query("INSERT INTO folders (id, user_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(name)
            .bind(ts(now))
            .execute(&self.writer)
            .await
            .map_err(conflict_on_unique("folder_exists"))?;
        Ok(Folder {
            id,
            name: name.to_string(),
        })
    }

    /// Deletes a user's folder; the services in it stay where they were. `NotFound` if
    /// the user has no such folder.
    pub async fn delete_folder(&self, user: UserId, folder: FolderId) -> Result<()> {
        let mut tx = self.begin().await?;
        let owned: Option<(String,)> =
            sqlx::query_as("SELECT id FROM folders WHERE id = $1 AND user_id = $2")
                .bind(folder.to_string())
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM folder_services WHERE folder_id = $1")
            .bind(folder.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM folders WHERE id = $1")
            .bind(folder.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Files services in a user's folders, replacing where they were filed: `folders`
    /// must all be the user's (`NotFound` otherwise).
    pub async fn file_service(
        &self,
        user: UserId,
        service: ServiceId,
        folders: &[FolderId],
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for f in folders {
            let owned: Option<(String,)> =
                sqlx::query_as("SELECT id FROM folders WHERE id = $1 AND user_id = $2")
                    .bind(f.to_string())
                    .bind(user.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            if owned.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        sqlx::query(
            "DELETE FROM folder_services WHERE service_id = $1
               AND folder_id IN (SELECT id FROM folders WHERE user_id = $2)",
        )
        .bind(service.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
        for f in folders {
            sqlx::query(
                "INSERT INTO folder_services (folder_id, service_id, added_at) VALUES ($1, $2, $3)
                 ON CONFLICT (folder_id, service_id) DO NOTHING",
            )
            .bind(f.to_string())
            .bind(service.to_string())
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_letters_digits_or_ideographs_go_through_the_index_of_pairs() {
        for term in ["李四", "判决", "A1", "0号", "𠀀字"] {
            assert!(is_pair(term), "{term}");
        }
        // Too short or too long, or with a character the tokenizer splits words at (or
        // may): matched with LIKE.
        for term in ["李", "李四五", "-3", "3)", "（一", "é1", "कि"] {
            assert!(!is_pair(term), "{term}");
        }
    }
}
