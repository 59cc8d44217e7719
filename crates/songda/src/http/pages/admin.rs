//! The admin's view of outgoing SMS and email: every queued and delivered notification
//! (one-time codes masked), and, when SMS goes to the development file sink, what that
//! "phone" received.

use super::party::Opt;
use super::{Chrome, Ctx, FormData, FormError, PageError, is_form_error, render, see_other};
use crate::actions::deadlines;
use crate::actions::staff::{self, BY_DISPATCH_DATE, NewStaff};
use crate::error::AppError;
use crate::messages::CODE_MARK;
use crate::notify::SmsTransport;
use crate::state::AppState;
use crate::store::Role;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use songda_core::deadline::Calendar;
use songda_core::policy::REGIMES;
use songda_core::timefmt::court_seconds;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(get_outbox))
        .route("/admin/courts", get(get_courts))
        .route("/admin/courts/regime", post(post_regime))
        .route("/admin/courts/email-documents", post(post_email_documents))
        .route("/admin/staff", post(post_staff))
        .route("/admin/calendar", get(get_calendar).post(post_calendar))
}

fn require_admin(ctx: &Ctx) -> Result<&crate::http::extract::Auth, PageError> {
    let auth = ctx.require()?;
    if auth.who.user.role != Role::Admin {
        return Err(ctx.err(AppError::forbidden("admins only")));
    }
    Ok(auth)
}

pub struct CourtRow {
    pub name: String,
    pub options: Vec<Opt>,
    pub clerks: usize,
    pub email_documents: bool,
}

pub struct StaffRow {
    pub name: String,
    pub login: String,
    pub role: &'static str,
    pub court: String,
}

#[derive(Template)]
#[template(path = "admin_courts.html")]
struct CourtsPage {
    c: Chrome,
    courts: Vec<CourtRow>,
    staff: Vec<StaffRow>,
    form: [String; 4],
    err: FormError,
}

async fn courts_page(
    state: &AppState,
    ctx: &Ctx,
    form: Option<&FormData>,
    err: FormError,
) -> Result<Response, PageError> {
    let l = ctx.l;
    let courts = state.store.courts().await.map_err(|e| ctx.err(e.into()))?;
    let mut staff_users = state
        .store
        .users_by_role(Role::Admin)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    staff_users.extend(
        state
            .store
            .users_by_role(Role::Clerk)
            .await
            .map_err(|e| ctx.err(e.into()))?,
    );
    let court_name = |id| {
        courts
            .iter()
            .find(|c| Some(c.id) == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let choices = |current: Option<&str>| {
        let mut v = vec![Opt {
            value: BY_DISPATCH_DATE.into(),
            label: l.t("按送达日期自动适用", "By date of dispatch").into(),
            selected: current.is_none(),
        }];
        v.extend(REGIMES.iter().map(|r| Opt {
            value: r.id.into(),
            label: format!("{} · {}", r.id, l.t(r.citation_zh, r.citation_en)),
            selected: current == Some(r.id),
        }));
        v
    };
    let rows = courts
        .iter()
        .map(|c| CourtRow {
            name: c.name.clone(),
            options: choices(c.regime.as_deref()),
            email_documents: c.email_documents,
            clerks: staff_users
                .iter()
                .filter(|u| u.court_id == Some(c.id))
                .count(),
        })
        .collect();
    let staff = staff_users
        .iter()
        .map(|u| StaffRow {
            name: u.name.clone(),
            login: u.login.clone().unwrap_or_default(),
            role: if u.role == Role::Admin {
                l.t("管理员", "Administrator")
            } else {
                l.t("书记员", "Clerk")
            },
            court: court_name(u.court_id),
        })
        .collect();
    let status = err.status;
    Ok(FormError::apply(
        status,
        render(&CourtsPage {
            c: ctx.chrome(),
            courts: rows,
            staff,
            form: form
                .map(|f| {
                    [
                        f.get("name").into(),
                        f.get("login").into(),
                        f.get("court").into(),
                        f.get("email").into(),
                    ]
                })
                .unwrap_or_default(),
            err,
        }),
    ))
}

async fn get_courts(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    courts_page(&state, &ctx, None, FormError::default()).await
}

async fn post_regime(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = require_admin(&ctx)?;
    form.check_csrf(auth, ctx.l)?;
    let saved = staff::set_court_regime(&state.store, form.get("court"), form.get("regime")).await;
    court_saved(&state, &ctx, saved).await
}

/// After a court's setting was saved: back to the courts page, or the page again with the
/// form's error.
async fn court_saved(
    state: &AppState,
    ctx: &Ctx,
    saved: Result<crate::store::Court, AppError>,
) -> Result<Response, PageError> {
    match saved {
        Ok(_) => Ok(see_other("/admin/courts?done=saved")),
        Err(e) if is_form_error(&e) => {
            courts_page(state, ctx, None, FormError::from(ctx.l, &e)).await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

async fn post_email_documents(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = require_admin(&ctx)?;
    form.check_csrf(auth, ctx.l)?;
    let saved = staff::set_court_email_documents(
        &state.store,
        form.get("court"),
        form.get("email_documents"),
    )
    .await;
    court_saved(&state, &ctx, saved).await
}

async fn post_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = require_admin(&ctx)?;
    form.check_csrf(auth, ctx.l)?;
    let new = NewStaff {
        role: form.get("role"),
        name: form.get("name"),
        login: form.get("login"),
        password: form.get("password"),
        court: Some(form.get("court")),
        email: Some(form.get("email")),
    };
    match staff::create_staff(&state.store, &new, state.now()).await {
        Ok(_) => Ok(see_other("/admin/courts?done=staff")),
        Err(e) if is_form_error(&e) => {
            courts_page(&state, &ctx, Some(&form), FormError::from(ctx.l, &e)).await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub struct CalendarLine {
    pub version: i64,
    pub saved_by: String,
    pub saved_at: String,
    pub lines: usize,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    c: Chrome,
    /// The local data in the form: the latest saved, or what was just rejected.
    body: String,
    builtin: &'static str,
    years: String,
    versions: Vec<CalendarLine>,
    err: FormError,
}

async fn calendar_page(
    state: &AppState,
    ctx: &Ctx,
    body: Option<&str>,
    err: FormError,
) -> Result<Response, PageError> {
    let versions = deadlines::versions(state).await.map_err(|e| ctx.err(e))?;
    let (cal, _) = deadlines::calendar(state).await.map_err(|e| ctx.err(e))?;
    let body = match body {
        Some(b) => b.to_string(),
        None => versions.first().map(|v| v.body.clone()).unwrap_or_default(),
    };
    let status = err.status;
    Ok(FormError::apply(
        status,
        render(&CalendarPage {
            c: ctx.chrome(),
            body,
            builtin: Calendar::BUILTIN,
            years: cal
                .years()
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(ctx.l.t("、", ", ")),
            versions: versions
                .iter()
                .map(|v| CalendarLine {
                    version: v.version,
                    saved_by: v.saved_by.clone(),
                    saved_at: court_seconds(v.saved_at),
                    lines: v.body.lines().filter(|l| !l.trim().is_empty()).count(),
                })
                .collect(),
            err,
        }),
    ))
}

async fn get_calendar(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    calendar_page(&state, &ctx, None, FormError::default()).await
}

async fn post_calendar(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = require_admin(&ctx)?;
    form.check_csrf(auth, ctx.l)?;
    match deadlines::save_calendar(&state, &auth.who, form.get("calendar")).await {
        Ok(_) => Ok(see_other("/admin/calendar?done=saved")),
        Err(e) if is_form_error(&e) => {
            calendar_page(
                &state,
                &ctx,
                Some(form.get("calendar")),
                FormError::from(ctx.l, &e),
            )
            .await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub struct OutRow {
    pub time: String,
    pub channel: String,
    pub purpose: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempts: i64,
    pub reference: String,
}

pub struct SinkLine {
    pub to: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    c: Chrome,
    rows: Vec<OutRow>,
    sink: Vec<SinkLine>,
    sink_path: String,
    /// The SMS gateway, when there is one; else the file sink is shown.
    gateway: Option<String>,
}

async fn get_outbox(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let l = ctx.l;
    let rows = state
        .store
        .recent_notifications(200)
        .await
        .map_err(|e| ctx.err(e.into()))?
        .into_iter()
        .map(|n| OutRow {
            time: court_seconds(n.created_at),
            channel: if n.channel == "sms" {
                l.t("短信", "SMS")
            } else {
                l.t("邮件", "Email")
            }
            .to_string(),
            purpose: match n.purpose.as_str() {
                "phone_code" => l.t("手机验证码", "Phone code"),
                "binding_code" => l.t("案件绑定码", "Binding code"),
                "new_service" => l.t("送达提醒", "Service notice"),
                "reminder" => l.t("签收提醒", "Reminder"),
                "escalation" => l.t("改用此方式的送达提醒", "Service notice, other channel"),
                "clerk_alert" => l.t("书记员提醒", "Clerk alert"),
                _ => l.t("其他", "Other"),
            }
            .to_string(),
            recipient: n.recipient,
            subject: n.subject.unwrap_or_default(),
            body: n.body.replace(CODE_MARK, "••••••"),
            status_class: match n.status.as_str() {
                "sent" => "signed",
                "failed" => "failed",
                _ => "pending",
            },
            status: match (n.status.as_str(), n.delivery.as_deref()) {
                ("sent", Some("DELIVRD")) => l.t("已送达", "Delivered").to_string(),
                ("sent", _) => l.t("已发送", "Sent").to_string(),
                ("failed", _) => l.t("失败", "Failed").to_string(),
                ("sending", _) => l.t("发送中", "Sending").to_string(),
                // Waiting for a retry, quiet hours or an hourly limit.
                _ if n.next_attempt_at > state.now() => format!(
                    "{} {}",
                    l.t("等待至", "Waiting until"),
                    court_seconds(n.next_attempt_at)
                ),
                _ => l.t("排队中", "Queued").to_string(),
            },
            attempts: n.attempts,
            reference: n.gateway_ref.or(n.last_error).unwrap_or_default(),
        })
        .collect();
    // The development sink is the "phone" of a machine without an SMS gateway.
    let (path, gateway) = match &state.transports.sms {
        SmsTransport::File(f) => (f.path().to_path_buf(), None),
        SmsTransport::Smpp(s) => (Default::default(), Some(s.describe())),
        SmsTransport::Http(h) => (Default::default(), Some(h.describe())),
    };
    let text = match gateway {
        None => tokio::fs::read_to_string(&path).await.unwrap_or_default(),
        Some(_) => String::new(),
    };
    let mut sink: Vec<SinkLine> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| SinkLine {
            to: v["to"].as_str().unwrap_or("").to_string(),
            text: v["text"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    sink.reverse();
    sink.truncate(50);
    Ok(render(&OutboxPage {
        c: ctx.chrome(),
        rows,
        sink,
        sink_path: path.display().to_string(),
        gateway,
    }))
}
