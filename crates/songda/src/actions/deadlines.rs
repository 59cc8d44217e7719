//! The time limits service starts (DOMAIN.md section 4), counted over the holiday calendar
//! in force: the built-in schedules with an administrator's local data applied over them.
//! Deadlines are computed when shown, from the service's legal time, so a change to that
//! time or to the calendar shows at once.

use crate::actions::Who;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{CalendarVersion, Role, ServiceDetail};
use songda_core::deadline::{Calendar, Deadline, TimeLimit};
use songda_core::ids::DocumentId;

/// The calendar in force and the local version it includes (0: built-in only).
pub async fn calendar(state: &AppState) -> AppResult<(Calendar, i64)> {
    let mut cal = Calendar::builtin();
    let Some(local) = state.store.calendar().await? else {
        return Ok((cal, 0));
    };
    // Saved data was checked when saved; data that no longer reads is a stored fault,
    // not a reason to show no deadlines at all.
    if let Err(e) = cal.apply(&local.body) {
        tracing::error!(
            version = local.version,
            "local calendar data unreadable: {e}"
        );
    }
    Ok((cal, local.version))
}

/// The deadline one served document starts.
#[derive(Clone, Debug)]
pub struct DocumentDeadline {
    pub document_id: DocumentId,
    pub title: String,
    pub limit: TimeLimit,
    pub deadline: Deadline,
}

/// The deadlines a service starts: one per document that sets a time limit, once the
/// service has a legal time (none before, e.g. while a court-obtained address awaits the
/// recipient's sign-off).
pub fn of_service(d: &ServiceDetail, cal: &Calendar) -> Vec<DocumentDeadline> {
    let Some(served_at) = d.service.served_at else {
        return Vec::new();
    };
    d.documents
        .iter()
        .filter_map(|doc| {
            let limit = doc.time_limit?;
            Some(DocumentDeadline {
                document_id: doc.id,
                title: doc.title.clone(),
                limit,
                deadline: limit.from_service(served_at, cal),
            })
        })
        .collect()
}

/// The deadlines of a service in one line, each kind with its last day: `上诉期限
/// 2026-12-21；答辩期限 …`, for lists and exports.
pub fn summary(d: &ServiceDetail, cal: &Calendar, en: bool) -> String {
    of_service(d, cal)
        .iter()
        .map(|x| {
            let kind = if en {
                x.limit.kind.label_en()
            } else {
                x.limit.kind.label_zh()
            };
            format!("{kind} {}", x.deadline.ends)
        })
        .collect::<Vec<_>>()
        .join(if en { "; " } else { "；" })
}

/// Saves an administrator's local calendar data after checking every line; returns the
/// new version.
pub async fn save_calendar(state: &AppState, who: &Who, body: &str) -> AppResult<i64> {
    if who.user.role != Role::Admin {
        return Err(AppError::forbidden(
            "only administrators may change the calendar",
        ));
    }
    if body.len() > 64 * 1024 {
        return Err(AppError::field(
            "calendar",
            "the calendar data is over 64 KB",
        ));
    }
    Calendar::builtin()
        .apply(body)
        .map_err(|e| AppError::field("calendar", e.to_string()))?;
    let body = body.replace("\r\n", "\n");
    Ok(state
        .store
        .save_calendar(body.trim_end(), who.user.id, state.now())
        .await?)
}

/// The local versions saved so far, newest first.
pub async fn versions(state: &AppState) -> AppResult<Vec<CalendarVersion>> {
    Ok(state.store.calendar_versions().await?)
}
