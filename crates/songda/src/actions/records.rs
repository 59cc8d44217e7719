//! Finding and organising served documents: lists from request parameters (a recipient's
//! documents, a court's services), and the recipient's own markers and folders.

use super::Who;
use super::recipient::visible_service;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{
    Folder, MAX_PAGE, Scope, ServicePage, ServiceQuery, Sort, StatusCounts, StatusFilter,
};
use serde::Deserialize;
use songda_core::document::DocType;
use songda_core::ids::{FolderId, ServiceId};
use songda_core::timefmt::COURT_OFFSET;
use time::{Date, Duration, OffsetDateTime, Time};

/// A list's parameters as a query string gives them; empty values mean "any".
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListParams {
    pub case_id: Option<String>,
    pub court_id: Option<String>,
    pub doc_type: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    /// First day deposited, `YYYY-MM-DD` in court time.
    pub from: Option<String>,
    /// Last day deposited, inclusive.
    pub to: Option<String>,
    pub folder_id: Option<String>,
    pub pinned: Option<String>,
    pub unread: Option<String>,
    /// Awaiting the recipient for more than this many days.
    pub pending_days: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn flag(s: &Option<String>) -> bool {
    matches!(nonempty(s), Some("1" | "true" | "on" | "yes"))
}

fn id<T: std::str::FromStr>(s: &Option<String>, field: &str, what: &str) -> AppResult<Option<T>> {
    nonempty(s)
        .map(|v| {
            v.parse()
                .map_err(|_| AppError::field(field, format!("unknown {what}")))
        })
        .transpose()
}

fn number(s: &Option<String>, field: &str, max: u32) -> AppResult<Option<u32>> {
    nonempty(s)
        .map(|v| {
            v.parse::<u32>().ok().filter(|n| *n <= max).ok_or_else(|| {
                AppError::field(field, format!("{field} must be a whole number up to {max}"))
            })
        })
        .transpose()
}

/// The start of a court day, as a UTC instant.
fn day_start(field: &str, s: &str) -> AppResult<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(s, &format)
        .map_err(|_| AppError::field(field, format!("{field} must be a date, YYYY-MM-DD")))?;
    Ok(day.with_time(Time::MIDNIGHT).assume_offset(COURT_OFFSET))
}

impl ListParams {
    /// The store query these parameters ask for, `default_limit` rows a page unless they
    /// say.
    pub fn query(&self, now: OffsetDateTime, default_limit: u32) -> AppResult<ServiceQuery> {
        let from = nonempty(&self.from)
            .map(|d| day_start("from", d))
            .transpose()?;
        let until = nonempty(&self.to)
            .map(|d| day_start("to", d).map(|t| t + Duration::days(1)))
            .transpose()?;
        if let (Some(a), Some(b)) = (from, until)
            && b <= a
        {
            return Err(AppError::field("to", "the last day is before the first"));
        }
        Ok(ServiceQuery {
            case_id: id(&self.case_id, "case_id", "case")?,
            court_id: id(&self.court_id, "court_id", "court")?,
            doc_type: nonempty(&self.doc_type)
                .map(|t| {
                    DocType::parse(t)
                        .ok_or_else(|| AppError::field("doc_type", "unknown document type"))
                })
                .transpose()?,
            status: nonempty(&self.status)
                .filter(|s| *s != "all")
                .map(|s| {
                    StatusFilter::parse(s).ok_or_else(|| {
                        AppError::field(
                            "status",
                            "status must be pending, signed, refused, done, failed or all",
                        )
                    })
                })
                .transpose()?,
            from,
            until,
            pending_since: number(&self.pending_days, "pending_days", 3650)?
                .map(|d| now - Duration::days(d.into())),
            q: nonempty(&self.q).map(|q| q.chars().take(100).collect()),
            folder: id(&self.folder_id, "folder_id", "folder")?,
            pinned: flag(&self.pinned),
            unread: flag(&self.unread),
            sort: nonempty(&self.sort)
                .map(|s| {
                    Sort::parse(s).ok_or_else(|| {
                        AppError::field("sort", "sort must be default, newest, oldest or case")
                    })
                })
                .transpose()?
                .unwrap_or_default(),
            limit: number(&self.limit, "limit", MAX_PAGE)?
                .unwrap_or(default_limit)
                .max(1),
            offset: number(&self.offset, "offset", 1_000_000)?.unwrap_or(0),
        })
    }
}

/// Whose services a user lists: a party's own, a clerk's court's.
pub fn scope_of(who: &Who) -> AppResult<Scope> {
    match (who.user.role, who.user.court_id) {
        (crate::store::Role::Party, _) => Ok(Scope::User(who.user.id)),
        (crate::store::Role::Clerk, Some(court)) => Ok(Scope::Court(court)),
        _ => Err(AppError::forbidden(
            "only parties and clerks have services to list",
        )),
    }
}

/// One page of the services a user may list, and the counts by status.
pub async fn list(
    state: &AppState,
    who: &Who,
    q: &ServiceQuery,
) -> AppResult<(ServicePage, StatusCounts)> {
    let scope = scope_of(who)?;
    if let (Scope::Court(_), Some(_)) = (scope, q.folder) {
        return Err(AppError::field("folder_id", "folders are the recipient's"));
    }
    Ok(state.store.list_services(scope, q).await?)
}

/// What a recipient changes about how a service is kept.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MarksInput {
    pub pinned: Option<bool>,
    pub read: Option<bool>,
    pub folder_ids: Option<Vec<String>>,
}

/// Pins, marks read or unread, or files a service in folders: the recipient's own
/// organisation, never evidence.
pub async fn set_marks(
    state: &AppState,
    who: &Who,
    id: ServiceId,
    m: &MarksInput,
) -> AppResult<()> {
    let user = who.party()?;
    visible_service(state, who, id).await?;
    if let Some(p) = m.pinned {
        state.store.set_pinned(user.id, id, p).await?;
    }
    if let Some(r) = m.read {
        state
            .store
            .set_read(user.id, id, r.then(|| state.now()))
            .await?;
    }
    if let Some(ids) = &m.folder_ids {
        let ids = ids
            .iter()
            .map(|f| {
                f.parse()
                    .map_err(|_| AppError::field("folder_ids", "unknown folder"))
            })
            .collect::<AppResult<Vec<FolderId>>>()?;
        state
            .store
            .file_service(user.id, id, &ids, state.now())
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound => {
                    AppError::field("folder_ids", "unknown folder")
                }
                e => e.into(),
            })?;
    }
    Ok(())
}

/// Records that the recipient opened a service (it is no longer unread).
pub async fn mark_read(state: &AppState, who: &Who, id: ServiceId) -> AppResult<()> {
    let user = who.party()?;
    state.store.set_read(user.id, id, Some(state.now())).await?;
    Ok(())
}

pub async fn folders(state: &AppState, who: &Who) -> AppResult<Vec<(Folder, i64)>> {
    Ok(state.store.folders(who.party()?.id).await?)
}

/// A new folder; its name is 1 to 40 characters, unique among the user's folders.
pub async fn create_folder(state: &AppState, who: &Who, name: &str) -> AppResult<Folder> {
    let user = who.party()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(AppError::field(
            "name",
            "a folder name is 1 to 40 characters",
        ));
    }
    if state.store.folders(user.id).await?.len() >= 200 {
        return Err(AppError::conflict(
            "too_many_folders",
            "a user may keep 200 folders",
        ));
    }
    state
        .store
        .create_folder(user.id, name, state.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                AppError::conflict("folder_exists", "you already have a folder of that name")
            }
            e => e.into(),
        })
}

pub async fn delete_folder(state: &AppState, who: &Who, id: FolderId) -> AppResult<()> {
    Ok(state.store.delete_folder(who.party()?.id, id).await?)
}
