//! The party's pages: inbox with filters, signature records, binding a case, and the
//! address confirmation.

use super::service::{ServiceRow, listed_row};
use super::{Chrome, Ctx, FormData, FormError, PageError, is_form_error, render, see_other};
use crate::actions::recipient::{self, ConsentInput};
use crate::actions::records::{self, ListParams, MarksInput};
use crate::actions::{bundle, progress};
use crate::error::AppError;
use crate::http::api::me::csv_response;
use crate::http::api::services::zip_response;
use crate::state::AppState;
use crate::store::{CaseRecord, PartyRecord, ServiceQuery, StatusFilter};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use songda_core::consent::{Channel, NOTICE, NOTICE_VERSION};
use songda_core::document::DocType;
use songda_core::ids::{CaseId, ServiceId};
use songda_core::timefmt::court_minutes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(get_inbox))
        .route("/records", get(get_records))
        .route("/my/cases/{case_id}/progress", get(get_progress))
        .route("/records.csv", get(get_records_csv))
        .route("/records/bundle", post(post_bundle))
        .route("/services/{id}/marks", post(post_marks))
        .route("/folders", post(post_folder))
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
    courts: Vec<Opt>,
    types: Vec<Opt>,
    sorts: Vec<Opt>,
    folders: Vec<FolderLink>,
    pager: Pager,
    q: String,
    from: String,
    to: String,
    status: String,
    pinned_href: String,
    pinned: bool,
    unread_href: String,
    unread: bool,
    all_href: String,
    in_folder: bool,
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

/// The link to a list with the current parameters and some changed; a changed filter
/// goes back to the first page.
pub struct ListLink {
    base: &'static str,
    params: Vec<(&'static str, String)>,
}

impl ListLink {
    pub fn new(base: &'static str, p: &ListParams) -> Self {
        let fields: [(&'static str, &Option<String>); 12] = [
            ("status", &p.status),
            ("case_id", &p.case_id),
            ("court_id", &p.court_id),
            ("doc_type", &p.doc_type),
            ("q", &p.q),
            ("from", &p.from),
            ("to", &p.to),
            ("folder_id", &p.folder_id),
            ("pinned", &p.pinned),
            ("unread", &p.unread),
            ("pending_days", &p.pending_days),
            ("sort", &p.sort),
        ];
        Self {
            base,
            params: fields
                .into_iter()
                .filter_map(|(k, v)| {
                    v.as_deref()
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| (k, v.to_string()))
                })
                .collect(),
        }
    }

    /// This list with `key` set to `value` (removed when empty) and `offset` as given.
    pub fn with(&self, changes: &[(&'static str, &str)], offset: u32) -> String {
        let mut params: Vec<(&str, String)> = self
            .params
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .cloned()
            .collect();
        params.extend(
            changes
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.to_string())),
        );
        if offset > 0 {
            params.push(("offset", offset.to_string()));
        }
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            ser.append_pair(k, v);
        }
        let query = ser.finish();
        if query.is_empty() {
            self.base.to_string()
        } else {
            format!("{}?{query}", self.base)
        }
    }
}

/// Where a page of a list is, and the links to its neighbours.
pub struct Pager {
    pub first: i64,
    pub last: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub fn pager(link: &ListLink, q: &ServiceQuery, shown: usize, total: i64) -> Pager {
    let (offset, limit) = (q.offset, q.limit);
    Pager {
        first: if shown == 0 { 0 } else { i64::from(offset) + 1 },
        last: i64::from(offset) + shown as i64,
        total,
        prev: (offset > 0).then(|| link.with(&[], offset.saturating_sub(limit))),
        next: (i64::from(offset) + (shown as i64) < total).then(|| link.with(&[], offset + limit)),
    }
}

pub struct FolderLink {
    pub id: String,
    pub name: String,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

async fn get_inbox(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut p): Query<ListParams>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let user = auth.who.party().map_err(|e| ctx.err(e))?;
    let c = ctx.chrome();
    let l = c.l;
    // Pending is the default view; `all` lists every status.
    if p.status.as_deref().is_none_or(|s| s.trim().is_empty()) {
        p.status = Some("pending".into());
    }
    let q = p.query(state.now(), 20).map_err(|e| ctx.err(e))?;
    let (page, counts) = records::list(&state, &auth.who, &q)
        .await
        .map_err(|e| ctx.err(e))?;
    let link = ListLink::new("/inbox", &p);
    let status = q.status;
    let tab = |s: &'static str, label, count, current| Tab {
        href: link.with(&[("status", s)], 0),
        label,
        count: count as usize,
        current,
    };
    let tabs = vec![
        tab(
            "pending",
            l.t("待签收", "Pending"),
            counts.pending,
            status == Some(StatusFilter::Pending),
        ),
        tab(
            "signed",
            l.t("已签收", "Signed"),
            counts.signed,
            status == Some(StatusFilter::Signed),
        ),
        tab(
            "refused",
            l.t("已拒收", "Refused"),
            counts.refused,
            status == Some(StatusFilter::Refused),
        ),
        tab("all", l.t("全部", "All"), counts.all(), status.is_none()),
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
            selected: q.case_id == Some(case.id),
        })
        .collect();
    let mut courts: Vec<Opt> = Vec::new();
    for (case, _) in &bound {
        if !courts.iter().any(|o| o.value == case.court_id.to_string()) {
            courts.push(Opt {
                value: case.court_id.to_string(),
                label: case.court_name.clone(),
                selected: q.court_id == Some(case.court_id),
            });
        }
    }
    let types = DocType::ALL
        .iter()
        .map(|t| Opt {
            value: t.as_str().to_string(),
            label: l.t(t.label_zh(), t.label_en()).to_string(),
            selected: q.doc_type == Some(*t),
        })
        .collect();
    let sorts = [
        (
            "default",
            l.t("置顶和待签收在前", "Pinned and pending first"),
        ),
        ("newest", l.t("最新在前", "Newest first")),
        ("oldest", l.t("最早在前", "Oldest first")),
        ("case", l.t("按案号", "By case number")),
    ]
    .into_iter()
    .map(|(v, label)| Opt {
        value: v.into(),
        label: label.into(),
        selected: q.sort.as_str() == v,
    })
    .collect();
    let folders = records::folders(&state, &auth.who)
        .await
        .map_err(|e| ctx.err(e))?
        .into_iter()
        .map(|(f, n)| FolderLink {
            href: link.with(&[("folder_id", &f.id.to_string()), ("status", "all")], 0),
            current: q.folder == Some(f.id),
            id: f.id.to_string(),
            name: f.name,
            count: n,
        })
        .collect();
    let my_cases = bound
        .iter()
        .map(|(case, party)| case_line(&c, case, party))
        .collect();
    let rows: Vec<ServiceRow> = page.items.iter().map(|x| listed_row(l, x)).collect();
    let pager = pager(&link, &q, rows.len(), page.total);
    Ok(render(&InboxPage {
        c,
        tabs,
        rows,
        cases,
        courts,
        types,
        sorts,
        folders,
        pager,
        filtered: q.case_id.is_some()
            || q.court_id.is_some()
            || q.doc_type.is_some()
            || q.q.is_some()
            || q.from.is_some()
            || q.until.is_some()
            || q.sort != Default::default(),
        q: q.q.clone().unwrap_or_default(),
        from: p.from.clone().unwrap_or_default(),
        to: p.to.clone().unwrap_or_default(),
        status: status.map(|s| s.as_str()).unwrap_or("all").to_string(),
        pinned_href: link.with(
            &[
                ("pinned", if q.pinned { "" } else { "1" }),
                ("status", "all"),
            ],
            0,
        ),
        pinned: q.pinned,
        unread_href: link.with(
            &[
                ("unread", if q.unread { "" } else { "1" }),
                ("status", "all"),
            ],
            0,
        ),
        unread: q.unread,
        all_href: link.with(&[("folder_id", ""), ("pinned", ""), ("unread", "")], 0),
        in_folder: q.folder.is_some(),
        my_cases,
    }))
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    c: Chrome,
    rows: Vec<ServiceRow>,
    pager: Pager,
    tabs: Vec<Tab>,
    q: String,
    csv_href: String,
}

async fn get_records(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut p): Query<ListParams>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    auth.who.party().map_err(|e| ctx.err(e))?;
    let l = ctx.l;
    if !matches!(p.status.as_deref(), Some("signed" | "refused")) {
        p.status = Some("done".into());
    }
    let q = p.query(state.now(), 50).map_err(|e| ctx.err(e))?;
    let (page, counts) = records::list(&state, &auth.who, &q)
        .await
        .map_err(|e| ctx.err(e))?;
    let link = ListLink::new("/records", &p);
    let tab = |s: &'static str, label, count: i64, current| Tab {
        href: link.with(&[("status", s)], 0),
        label,
        count: count as usize,
        current,
    };
    let tabs = vec![
        tab(
            "done",
            l.t("全部", "All"),
            counts.signed + counts.refused,
            q.status == Some(StatusFilter::Done),
        ),
        tab(
            "signed",
            l.t("已签收", "Signed"),
            counts.signed,
            q.status == Some(StatusFilter::Signed),
        ),
        tab(
            "refused",
            l.t("已拒收", "Refused"),
            counts.refused,
            q.status == Some(StatusFilter::Refused),
        ),
    ];
    let rows: Vec<ServiceRow> = page.items.iter().map(|x| listed_row(l, x)).collect();
    let pager = pager(&link, &q, rows.len(), page.total);
    let csv_href = ListLink::new("/records.csv", &p).with(&[], 0);
    Ok(render(&RecordsPage {
        c: ctx.chrome(),
        rows,
        pager,
        tabs,
        q: q.q.unwrap_or_default(),
        csv_href,
    }))
}

async fn get_records_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut p): Query<ListParams>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    auth.who.party().map_err(|e| ctx.err(e))?;
    if p.status.as_deref().is_none_or(|s| s.trim().is_empty()) {
        p.status = Some("done".into());
    }
    let q = p.query(state.now(), 50).map_err(|e| ctx.err(e))?;
    let csv = bundle::list_csv(&state, &auth.who, &q, ctx.l.en)
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(csv_response(csv, "records.csv"))
}

async fn post_bundle(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let ids = form
        .all("service")
        .iter()
        .map(|s| s.parse().map_err(|_| AppError::not_found()))
        .collect::<Result<Vec<ServiceId>, _>>()
        .map_err(|e| ctx.err(e))?;
    let zip = bundle::bundle(&state, &auth.who, &ids)
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(zip_response(zip))
}

/// Pins or unpins, marks unread, or files a service in folders, from its page.
async fn post_marks(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let id: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let input = match form.get("action") {
        "pin" => MarksInput {
            pinned: Some(true),
            ..Default::default()
        },
        "unpin" => MarksInput {
            pinned: Some(false),
            ..Default::default()
        },
        "unread" => MarksInput {
            read: Some(false),
            ..Default::default()
        },
        _ => MarksInput {
            folder_ids: Some(form.all("folder")),
            ..Default::default()
        },
    };
    records::set_marks(&state, &auth.who, id, &input)
        .await
        .map_err(|e| ctx.err(e))?;
    if form.get("action") == "unread" {
        return Ok(see_other("/inbox?done=saved"));
    }
    Ok(see_other(&format!("/services/{id}?done=saved#organise")))
}

/// A new folder, from a service's page: the service is filed in it at once.
async fn post_folder(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let folder = records::create_folder(&state, &auth.who, form.get("name"))
        .await
        .map_err(|e| ctx.err(e))?;
    let service = form.get("service");
    if let Ok(id) = service.parse::<ServiceId>() {
        let mut folders = state
            .store
            .marks(auth.who.user.id, id)
            .await
            .map_err(|e| ctx.err(e.into()))?
            .folders
            .into_iter()
            .map(|f| f.id.to_string())
            .collect::<Vec<_>>();
        folders.push(folder.id.to_string());
        let input = MarksInput {
            folder_ids: Some(folders),
            ..Default::default()
        };
        records::set_marks(&state, &auth.who, id, &input)
            .await
            .map_err(|e| ctx.err(e))?;
        return Ok(see_other(&format!("/services/{id}?done=saved#organise")));
    }
    Ok(see_other("/inbox?done=saved"))
}

pub struct ProgressLine {
    pub when: String,
    pub at_iso: String,
    pub kind: &'static str,
    pub label: String,
    pub href: Option<String>,
    pub future: bool,
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    c: Chrome,
    case: CaseRecord,
    steps: Vec<ProgressLine>,
}

async fn get_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(case_id): Path<String>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let case_id: CaseId = case_id
        .parse()
        .map_err(|_| ctx.err(AppError::not_found()))?;
    let steps = progress::of_case(&state, &auth.who, case_id, ctx.l.en)
        .await
        .map_err(|e| ctx.err(e))?;
    let case = state
        .store
        .case(case_id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let now = state.now();
    Ok(render(&ProgressPage {
        c: ctx.chrome(),
        case,
        steps: steps
            .iter()
            .map(|s| ProgressLine {
                when: s.when(),
                at_iso: songda_core::timefmt::rfc3339(s.at),
                kind: s.kind,
                label: s.label.clone(),
                href: s.service.map(|id| format!("/services/{id}")),
                future: s.at > now,
            })
            .collect(),
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
