//! The party's pages: inbox with filters, signature records, binding a case, and the
//! address confirmation.

use super::service::{ServiceRow, service_row};
use super::{Chrome, Ctx, FormData, FormError, PageError, is_form_error, render, see_other};
use crate::actions::recipient::{self, ConsentInput};
use crate::http::api::me::{InboxQuery, inbox_filter};
use crate::state::AppState;
use crate::store::{CaseRecord, InboxFilter, PartyRecord};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use songda_core::consent::{Channel, NOTICE, NOTICE_VERSION};
use songda_core::document::DocType;
use songda_core::ids::CaseId;
use songda_core::service::Status;
use songda_core::timefmt::court_minutes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(get_inbox))
        .route("/records", get(get_records))
        .route("/bind", get(get_bind).post(post_bind))
        .route(
            "/my/cases/{case_id}/consent",
            get(get_consent).post(post_consent),
        )
        .route("/my/cases/{case_id}/consent/withdraw", post(post_withdraw))
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub count: usize,
    pub current: bool,
}

pub struct CaseLine {
    pub id: String,
    pub case_number: String,
    pub court: String,
    pub title: String,
    pub consent: String,
    pub consented: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    tabs: Vec<Tab>,
    rows: Vec<ServiceRow>,
    cases: Vec<Opt>,
    types: Vec<Opt>,
    q: String,
    status: String,
    my_cases: Vec<CaseLine>,
    /// A filter besides the status tab is active: show the filter form open.
    filtered: bool,
}

fn case_line(c: &Chrome, case: &CaseRecord, p: &PartyRecord) -> CaseLine {
    let (consent, consented) = consent_text(c, p);
    CaseLine {
        id: case.id.to_string(),
        case_number: case.case_number.clone(),
        court: case.court_name.clone(),
        title: case.title.clone(),
        consent,
        consented,
    }
}

fn consent_text(c: &Chrome, p: &PartyRecord) -> (String, bool) {
    let l = c.l;
    match &p.consent {
        Some(k) if k.is_active() => (
            format!(
                "{}{}",
                l.t("已确认送达地址 · 版本 ", "Address confirmed · version "),
                k.version
            ),
            true,
        ),
        Some(_) => (
            l.t("已撤回电子送达同意", "Consent withdrawn").to_string(),
            false,
        ),
        None => (
            l.t("尚未确认送达地址", "Address not yet confirmed")
                .to_string(),
            false,
        ),
    }
}

async fn get_inbox(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<InboxQuery>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let user = auth.who.party().map_err(|e| ctx.err(e))?;
    let c = ctx.chrome();
    let l = c.l;
    let all_statuses = q.status.as_deref() == Some("all");
    let filter = inbox_filter(&InboxQuery {
        status: if all_statuses { None } else { q.status.clone() },
        ..q
    })
    .map_err(|e| ctx.err(e))?;
    // Pending first, and the default view.
    let status = match (all_statuses, filter.status) {
        (true, _) => None,
        (false, None) => Some(Status::Pending),
        (false, s) => s,
    };
    // One query for every status: the tab counts and the rows come from the same list.
    let all = state
        .store
        .services_of_user(
            user.id,
            &InboxFilter {
                status: None,
                ..filter.clone()
            },
        )
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let rows: Vec<ServiceRow> = all
        .iter()
        .filter(|d| status.is_none_or(|s| d.service.stage.status() == s))
        .map(|d| service_row(l, d))
        .collect();
    let count = |s: Status| all.iter().filter(|d| d.service.stage.status() == s).count();
    let keep = |status: &str| {
        let mut parts = vec![format!("status={status}")];
        if let Some(c) = filter.case_id {
            parts.push(format!("case_id={c}"));
        }
        if let Some(t) = filter.doc_type {
            parts.push(format!("doc_type={}", t.as_str()));
        }
        if let Some(q) = &filter.q {
            parts.push(format!(
                "q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ));
        }
        format!("/inbox?{}", parts.join("&"))
    };
    let tabs = vec![
        Tab {
            href: keep("pending"),
            label: l.t("待签收", "Pending"),
            count: count(Status::Pending),
            current: status == Some(Status::Pending),
        },
        Tab {
            href: keep("signed"),
            label: l.t("已签收", "Signed"),
            count: count(Status::Signed),
            current: status == Some(Status::Signed),
        },
        Tab {
            href: keep("refused"),
            label: l.t("已拒收", "Refused"),
            count: count(Status::Refused),
            current: status == Some(Status::Refused),
        },
        Tab {
            href: keep("all"),
            label: l.t("全部", "All"),
            count: all.len(),
            current: status.is_none(),
        },
    ];
    let bound = state
        .store
        .parties_of_user(user.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let cases = bound
        .iter()
        .map(|(case, _)| Opt {
            value: case.id.to_string(),
            label: case.case_number.clone(),
            selected: filter.case_id == Some(case.id),
        })
        .collect();
    let types = DocType::ALL
        .iter()
        .map(|t| Opt {
            value: t.as_str().to_string(),
            label: l.t(t.label_zh(), t.label_en()).to_string(),
            selected: filter.doc_type == Some(*t),
        })
        .collect();
    let my_cases = bound
        .iter()
        .map(|(case, p)| case_line(&c, case, p))
        .collect();
    Ok(render(&InboxPage {
        c,
        tabs,
        rows,
        cases,
        types,
        filtered: filter.case_id.is_some() || filter.doc_type.is_some() || filter.q.is_some(),
        q: filter.q.unwrap_or_default(),
        status: status.map(|s| s.as_str()).unwrap_or("all").to_string(),
        my_cases,
    }))
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    c: Chrome,
    rows: Vec<ServiceRow>,
}

async fn get_records(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let user = auth.who.party().map_err(|e| ctx.err(e))?;
    let l = ctx.l;
    let rows = state
        .store
        .services_of_user(user.id, &InboxFilter::default())
        .await
        .map_err(|e| ctx.err(e.into()))?
        .iter()
        .filter(|d| d.service.stage.status() != Status::Pending)
        .map(|d| service_row(l, d))
        .collect();
    Ok(render(&RecordsPage {
        c: ctx.chrome(),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "bind.html")]
struct BindPage {
    c: Chrome,
    case_number: String,
    code: String,
    err: FormError,
}

#[derive(serde::Deserialize)]
struct BindQuery {
    case_number: Option<String>,
}

async fn get_bind(ctx: Ctx, Query(q): Query<BindQuery>) -> Result<Response, PageError> {
    ctx.require()?;
    Ok(render(&BindPage {
        c: ctx.chrome(),
        case_number: q.case_number.unwrap_or_default(),
        code: String::new(),
        err: FormError::default(),
    }))
}

async fn post_bind(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    match recipient::bind_case(&state, &auth.who, form.get("case_number"), form.get("code")).await {
        Ok(case_id) => Ok(see_other(&format!(
            "/my/cases/{case_id}/consent?done=bound"
        ))),
        Err(e) if is_form_error(&e) => {
            let mut resp = render(&BindPage {
                c: ctx.chrome(),
                case_number: form.get("case_number").to_string(),
                code: form.get("code").to_string(),
                err: FormError::from(ctx.l, &e),
            });
            *resp.status_mut() = super::form_status(&e);
            Ok(resp)
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub struct NoticePara {
    pub heading: &'static str,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    c: Chrome,
    case: CaseLine,
    notice: Vec<NoticePara>,
    notice_version: &'static str,
    phone: String,
    email: String,
    sms: bool,
    mail: bool,
    active: bool,
    history: Vec<String>,
    err: FormError,
}

async fn consent_page(
    state: &AppState,
    ctx: &Ctx,
    case_id: CaseId,
    form: Option<&FormData>,
    err: FormError,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let party = recipient::my_party(state, &auth.who, case_id)
        .await
        .map_err(|e| ctx.err(e))?;
    let case = state
        .store
        .case(case_id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let c = ctx.chrome();
    let l = c.l;
    let line = case_line(&c, &case, &party);
    let current = party.consent.as_ref().filter(|k| k.is_active());
    let email = form
        .map(|f| f.get("email").to_string())
        .or_else(|| current.and_then(|k| k.email.clone()))
        .or_else(|| auth.who.user.email.clone())
        .or_else(|| party.email.clone())
        .unwrap_or_default();
    let (sms, mail) = match (form, current) {
        (Some(f), _) => {
            let ch = f.all("channels");
            (
                ch.iter().any(|c| c == "sms"),
                ch.iter().any(|c| c == "email"),
            )
        }
        (None, Some(k)) => (
            k.channels.contains(&Channel::Sms),
            k.channels.contains(&Channel::Email),
        ),
        (None, None) => (true, true),
    };
    let history = match &party.consent {
        Some(k) => vec![format!(
            "{} {} · {}",
            l.t("最近一次：", "Latest:"),
            court_minutes(k.recorded_at),
            line.consent
        )],
        None => vec![],
    };
    let status = err.status;
    let resp = render(&ConsentPage {
        case: line,
        notice: NOTICE
            .iter()
            .map(|p| NoticePara {
                heading: l.t(p.heading_zh, p.heading_en),
                text: l.t(p.zh, p.en),
            })
            .collect(),
        notice_version: NOTICE_VERSION,
        phone: auth.who.user.phone.clone().unwrap_or_default(),
        email,
        sms,
        mail,
        active: current.is_some(),
        history,
        err,
        c,
    });
    Ok(FormError::apply(status, resp))
}

async fn get_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let case_id: CaseId = id
        .parse()
        .map_err(|_| ctx.err(crate::error::AppError::not_found()))?;
    consent_page(&state, &ctx, case_id, None, FormError::default()).await
}

async fn post_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let case_id: CaseId = id
        .parse()
        .map_err(|_| ctx.err(crate::error::AppError::not_found()))?;
    let channels = form.all("channels");
    let input = ConsentInput {
        channels: &channels,
        email: Some(form.get("email")),
        phone: None,
        acknowledged: form.get("acknowledged") == "1",
    };
    match recipient::confirm_address(&state, &auth.who, case_id, &input).await {
        Ok(_) => Ok(see_other("/inbox?done=consent")),
        Err(e) if is_form_error(&e) => {
            consent_page(
                &state,
                &ctx,
                case_id,
                Some(&form),
                FormError::from(ctx.l, &e),
            )
            .await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

async fn post_withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let case_id: CaseId = id
        .parse()
        .map_err(|_| ctx.err(crate::error::AppError::not_found()))?;
    recipient::withdraw_consent(&state, &auth.who, case_id)
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(see_other(&format!(
        "/my/cases/{case_id}/consent?done=withdrawn"
    )))
}
