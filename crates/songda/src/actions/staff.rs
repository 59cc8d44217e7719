//! The platform operator's work: court staff accounts and each court's policy setting.
//! Used by the CLI (`songda user add`, `songda court set-regime`) and the admin pages, so
//! both apply the same rules. Takes the store, not the app, because the CLI runs without
//! a server.

use crate::error::{AppError, AppResult};
use crate::secrets::hash_password;
use crate::store::{Court, NewUser, Role, Store, User};
use songda_core::party::{EmailAddress, PersonName};
use songda_core::policy::Regime;
use time::OffsetDateTime;

pub struct NewStaff<'a> {
    pub role: &'a str,
    pub name: &'a str,
    pub login: &'a str,
    pub password: &'a str,
    /// The clerk's court, created if new; required for clerks.
    pub court: Option<&'a str>,
    /// Where a clerk's alerts go (failed notices, refusals); optional.
    pub email: Option<&'a str>,
}

/// Creates an admin or clerk account (and the clerk's court, if new).
pub async fn create_staff(
    store: &Store,
    s: &NewStaff<'_>,
    now: OffsetDateTime,
) -> AppResult<(User, Option<Court>)> {
    let role = match Role::parse(s.role) {
        Some(r @ (Role::Admin | Role::Clerk)) => r,
        _ => return Err(AppError::field("role", "role must be admin or clerk")),
    };
    let name = PersonName::parse(s.name).map_err(|e| AppError::field("name", e.to_string()))?;
    let login = s.login.trim();
    if login.is_empty() || login.chars().count() > 100 || login.chars().any(char::is_whitespace) {
        return Err(AppError::field(
            "login",
            "the login name must be 1 to 100 characters without spaces",
        ));
    }
    super::accounts::check_password(s.password)?;
    let email = match s.email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => {
            Some(EmailAddress::parse(e).map_err(|e| AppError::field("email", e.to_string()))?)
        }
        None => None,
    };
    let court = match (s.court.map(str::trim).filter(|c| !c.is_empty()), role) {
        (Some(c), _) => {
            if c.chars().count() > 100 {
                return Err(AppError::field(
                    "court",
                    "the court name must be at most 100 characters",
                ));
            }
            Some(store.ensure_court(c, now).await?)
        }
        (None, Role::Clerk) => return Err(AppError::field("court", "a clerk belongs to a court")),
        (None, _) => None,
    };
    let hash = hash_password(s.password)?;
    let user = store
        .create_user(
            &NewUser {
                role,
                name: name.as_str(),
                login: Some(login),
                phone: None,
                email: email.as_ref().map(|e| e.as_str()),
                password_hash: &hash,
                phone_verified_at: Some(now),
                court_id: court.as_ref().map(|c| c.id),
            },
            now,
        )
        .await?;
    Ok((user, court))
}

/// The value that means "choose the regime by the date of dispatch".
pub const BY_DISPATCH_DATE: &str = "by_dispatch_date";

/// Fixes a court to one regime, or back to choosing by dispatch date.
pub async fn set_court_regime(store: &Store, court_name: &str, regime: &str) -> AppResult<Court> {
    let regime = match regime.trim() {
        BY_DISPATCH_DATE => None,
        id => Some(
            Regime::by_id(id)
                .ok_or_else(|| {
                    AppError::field(
                        "regime",
                        "regime must be by_dispatch_date, CPL2017-A87 or CPL2021-A90",
                    )
                })?
                .id,
        ),
    };
    let court = court_named(store, court_name).await?;
    store.set_court_regime(court.id, regime).await?;
    Ok(store.court(court.id).await?)
}

/// Whether a court also serves by email: its notices to a confirmed email address then carry
/// the documents. `value` is on or off.
pub async fn set_court_email_documents(
    store: &Store,
    court_name: &str,
    value: &str,
) -> AppResult<Court> {
    let on = match value.trim() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::field("email_documents", "say on or off")),
    };
    let court = court_named(store, court_name).await?;
    store.set_court_email_documents(court.id, on).await?;
    Ok(store.court(court.id).await?)
}

async fn court_named(store: &Store, name: &str) -> AppResult<Court> {
    store
        .courts()
        .await?
        .into_iter()
        .find(|c| c.name == name.trim())
        .ok_or_else(|| AppError::field("court", "no court of this name"))
}
