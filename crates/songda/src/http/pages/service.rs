//! One service: the document view (page images, for phones), sign for receipt or refuse
//! through a confirmation step, and the printable signature record (送达回证).

use super::{Chrome, Ctx, FormData, FormError, Lang, PageError, is_form_error, render, see_other};
use crate::actions::deadlines::{self, DocumentDeadline};
use crate::actions::mediation;
use crate::actions::{paper, recipient, records};
use crate::error::AppError;
use crate::http::files;
use crate::state::AppState;
use crate::store::{Listed, ServiceDetail};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use songda_core::evidence::Event;
use songda_core::ids::{DocumentId, ServiceId};
use songda_core::policy::Regime;
use songda_core::service::{RefusalReason, Stage};
use songda_core::timefmt::{court_minutes, court_seconds, parse_rfc3339, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/{id}", get(get_service))
        .route("/services/{id}/sign", get(get_sign).post(post_sign))
        .route("/services/{id}/refuse", get(get_refuse).post(post_refuse))
        .route("/services/{id}/record", get(get_record))
        .route("/services/{id}/paper", axum::routing::post(post_paper))
        .route("/services/{id}/documents/{doc}", get(get_document))
        .route("/services/{id}/documents/{doc}/pages/{page}", get(get_page))
}

/// A service as one line of a list.
pub struct ServiceRow {
    pub id: String,
    pub court: String,
    pub case_number: String,
    pub recipient: String,
    pub titles: String,
    pub types: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub unread: bool,
    pub pinned: bool,
    /// The listing user's folders it is filed in.
    pub folders: Vec<String>,
    pub time: String,
    pub time_iso: String,
    pub served: String,
}

pub fn stage_label(l: Lang, stage: Stage) -> (&'static str, &'static str) {
    match stage {
        Stage::Deposited => ("pending", l.t("待签收", "Pending")),
        Stage::Viewed => ("viewed", l.t("已查阅，待签收", "Viewed, pending")),
        Stage::Signed => ("signed", l.t("已签收", "Signed")),
        Stage::Refused => ("refused", l.t("已拒收", "Refused")),
    }
}

pub fn service_row(l: Lang, d: &ServiceDetail) -> ServiceRow {
    let (status, status_label) = stage_label(l, d.service.stage);
    ServiceRow {
        id: d.service.id.to_string(),
        court: d.case.court_name.clone(),
        case_number: d.case.case_number.clone(),
        recipient: d.party.name.clone(),
        titles: d
            .documents
            .iter()
            .map(|x| x.title.as_str())
            .collect::<Vec<_>>()
            .join(l.t("、", ", ")),
        types: d
            .documents
            .iter()
            .map(|x| l.t(x.doc_type.label_zh(), x.doc_type.label_en()))
            .collect::<Vec<_>>()
            .join(l.t("、", ", ")),
        status,
        status_label,
        unread: d.service.stage == Stage::Deposited,
        pinned: false,
        folders: Vec::new(),
        time: court_minutes(d.service.deposited_at),
        time_iso: rfc3339(d.service.deposited_at),
        served: d
            .service
            .served_at
            .map(court_minutes)
            .unwrap_or_else(|| l.t("尚未送达", "Not yet served").to_string()),
    }
}

/// A row of a recipient's list: unread until they opened it, with their pin and folders.
pub fn listed_row(l: Lang, x: &Listed) -> ServiceRow {
    ServiceRow {
        unread: x.read_at.is_none(),
        pinned: x.pinned,
        folders: x.folders.iter().map(|f| f.name.clone()).collect(),
        ..service_row(l, &x.detail)
    }
}

pub struct DocView {
    pub id: String,
    /// How this document stands among corrected versions, if it is one.
    pub version_note: Option<String>,
    pub title: String,
    pub type_label: &'static str,
    pub sha256: String,
    pub size: String,
    pub pages: Vec<u32>,
    pub page_count: u32,
}

pub struct TimelineItem {
    pub time: String,
    pub time_iso: String,
    pub label: &'static str,
    pub detail: String,
    pub class: &'static str,
}

fn timeline(l: Lang, events: &[Event]) -> Vec<TimelineItem> {
    use songda_core::evidence::EventType::*;
    events
        .iter()
        .map(|e| {
            let at = parse_rfc3339(&e.at);
            let class = match e.event_type {
                ConsignmentAcceptance => "signed",
                ConsignmentRejection | SubmissionRejection | ConsignmentNotificationFailure => {
                    "refused"
                }
                _ => "done",
            };
            let detail = match e.event_type {
                ConsignmentNotification | ConsignmentNotificationFailure => format!(
                    "{} → {}{}",
                    e.channel.map(|c| c.as_str()).unwrap_or(""),
                    e.address.clone().unwrap_or_default(),
                    crate::notify::attempt_note(e.gateway.as_ref(), l.en)
                ),
                ConsignmentRejection => e
                    .reason_code
                    .as_deref()
                    .and_then(RefusalReason::parse)
                    .map(|r| l.t(r.label_zh(), r.label_en()).to_string())
                    .unwrap_or_default(),
                ContentAccessTracking | ContentHandover | ConsignmentAcceptance => e
                    .client
                    .as_ref()
                    .map(|c| format!("IP {}", c.ip))
                    .unwrap_or_default(),
                _ => e.actor.name.clone(),
            };
            TimelineItem {
                time: at.map(court_seconds).unwrap_or_else(|| e.at.clone()),
                time_iso: e.at.clone(),
                label: l.t(e.event_type.label_zh(), e.event_type.label_en()),
                detail,
                class,
            }
        })
        .collect()
}

fn doc_views(l: Lang, d: &ServiceDetail) -> Vec<DocView> {
    d.documents
        .iter()
        .map(|x| DocView {
            version_note: x.corrects.map(|_| {
                format!(
                    "{}{}{}",
                    l.t("更正版本：第 ", "Corrected version "),
                    x.version,
                    l.t(
                        " 版，取代此前送达的版本",
                        ", replacing the version served before"
                    )
                )
            }),
            id: x.id.to_string(),
            title: x.title.clone(),
            type_label: l.t(x.doc_type.label_zh(), x.doc_type.label_en()),
            sha256: x.sha256.to_string(),
            size: format!("{:.1} KB", x.size as f64 / 1024.0),
            pages: (1..=x.page_count.clamp(0, 200) as u32).collect(),
            page_count: x.page_count as u32,
        })
        .collect()
}

/// A deadline as the service pages show it.
pub struct DeadlineLine {
    pub label: String,
    /// The last day, `YYYY-MM-DD`.
    pub ends: String,
    pub detail: String,
}

pub fn deadline_lines(l: Lang, list: &[DocumentDeadline]) -> Vec<DeadlineLine> {
    list.iter()
        .map(|x| {
            let (kind, days) = (x.limit.kind, x.limit.days);
            let mut detail = if l.en {
                format!(
                    "{days} days from the day after service ({}; CPL Art. 85)",
                    kind.basis()
                )
            } else {
                format!("{days} 日，自送达次日起算（{}；CPL Art. 85）", kind.basis())
            };
            if x.deadline.moved() {
                detail.push_str(&if l.en {
                    format!(
                        "; the last day, {}, is a rest day, so the time limit ends on the next working day",
                        x.deadline.nominal
                    )
                } else {
                    format!(
                        "；届满日 {} 为节假日或休息日，顺延至其后第一个工作日",
                        x.deadline.nominal
                    )
                });
            }
            DeadlineLine {
                label: format!("{} · {}", l.t(kind.label_zh(), kind.label_en()), x.title),
                ends: x.deadline.ends.to_string(),
                detail,
            }
        })
        .collect()
}

/// Everything the service and record pages show.
pub struct ServiceView {
    pub row: ServiceRow,
    pub case_title: String,
    pub recipient_role: &'static str,
    pub docs: Vec<DocView>,
    pub open: bool,
    pub is_recipient: bool,
    pub regime: String,
    pub rule_text: String,
    /// When the email carrying the documents was accepted (a court that serves by email).
    pub email_arrived: Option<String>,
    pub consent_basis: &'static str,
    pub provenance: &'static str,
    pub deposited: String,
    pub signed: Option<String>,
    pub refused: Option<String>,
    pub refusal: Option<String>,
    pub timeline: Vec<TimelineItem>,
    /// The time limits service started, once it took effect.
    pub deadlines: Vec<DeadlineLine>,
    /// (title, effect) of each mediation document served here: in effect only once every
    /// party signed.
    pub mediation: Vec<(String, String)>,
    /// The clerk who served (送达人).
    pub served_by: String,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
) -> Result<(ServiceView, ServiceDetail), PageError> {
    let auth = ctx.require()?;
    let id: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let d = recipient::visible_service(state, &auth.who, id)
        .await
        .map_err(|e| ctx.err(e))?;
    let events = state
        .store
        .service_events(id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let l = ctx.l;
    let s = &d.service;
    let regime = Regime::by_id(&s.regime);
    let (cal, _) = deadlines::calendar(state).await.map_err(|e| ctx.err(e))?;
    let mediation = if d
        .documents
        .iter()
        .any(|x| x.doc_type == songda_core::document::DocType::MediationDocument)
    {
        mediation::of_case_id(state, d.case.id)
            .await
            .map_err(|e| ctx.err(e))?
            .iter()
            .filter(|m| d.documents.iter().any(|x| x.id == m.document.id))
            .map(|m| (m.document.title.clone(), m.text(l.en)))
            .collect()
    } else {
        Vec::new()
    };
    let v = ServiceView {
        row: service_row(l, &d),
        case_title: d.case.title.clone(),
        recipient_role: l.t(d.party.role.label_zh(), d.party.role.as_str()),
        docs: doc_views(l, &d),
        open: matches!(s.stage, Stage::Deposited | Stage::Viewed),
        is_recipient: recipient::is_recipient(&d, &auth.who),
        regime: regime
            .map(|r| format!("{} ({})", l.t(r.citation_zh, r.citation_en), r.id))
            .unwrap_or_else(|| s.regime.clone()),
        rule_text: match (s.service_rule, regime) {
            (Some(rule), Some(r)) => {
                if l.en {
                    rule.explain_en(r)
                } else {
                    rule.explain_zh(r)
                }
            }
            _ => l
                .t("尚未发生送达效力", "Service has not taken effect yet")
                .to_string(),
        },
        email_arrived: s.email_arrived_at.map(court_seconds),
        consent_basis: l.t(s.consent_basis.label_zh(), s.consent_basis.label_en()),
        provenance: match s.provenance {
            songda_core::consent::Provenance::Confirmed => {
                l.t("受送达人确认的地址", "Address confirmed by the recipient")
            }
            songda_core::consent::Provenance::CourtObtained => {
                l.t("法院获取的地址", "Address obtained by the court")
            }
        },
        deposited: court_seconds(s.deposited_at),
        signed: s.signed_at.map(court_seconds),
        refused: s.refused_at.map(court_seconds),
        refusal: s.refusal_reason.map(|r| {
            let label = l.t(r.label_zh(), r.label_en());
            match &s.refusal_note {
                Some(n) => format!("{label}：{n}"),
                None => label.to_string(),
            }
        }),
        timeline: timeline(l, &events),
        deadlines: deadline_lines(l, &deadlines::of_service(&d, &cal)),
        mediation,
        served_by: events
            .iter()
            .find(|e| e.event_type == songda_core::evidence::EventType::SubmissionAcceptance)
            .map(|e| e.actor.name.clone())
            .unwrap_or_default(),
    };
    let mut v = v;
    for (view, doc) in v.docs.iter_mut().zip(&d.documents) {
        let newer = state
            .store
            .corrections_of(doc.id)
            .await
            .map_err(|e| ctx.err(e.into()))?;
        if let Some(n) = newer.first() {
            view.version_note = Some(format!(
                "{}{}{}{}{}",
                l.t(
                    "此文书已更正：更正版本为第 ",
                    "This document was corrected: version "
                ),
                n.version,
                l.t(" 版《", " is “"),
                n.title,
                l.t("》，将另行送达", "”, served separately")
            ));
        }
    }
    Ok((v, d))
}

/// A document of which the recipient may ask for a paper copy, and their request if made.
pub struct PaperLine {
    pub document_id: String,
    pub title: String,
    pub request: Option<String>,
}

/// The recipient's own organisation of a service: pinned, and the folders it is in.
pub struct Organise {
    pub pinned: bool,
    /// (id, name, whether this service is in it)
    pub folders: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage {
    c: Chrome,
    v: ServiceView,
    organise: Option<Organise>,
    paper: Vec<PaperLine>,
}

async fn get_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (mut v, d) = view(&state, &ctx, &id).await?;
    let mut organise = None;
    let mut paper = Vec::new();
    if v.is_recipient {
        let requests = state
            .store
            .paper_requests_of_service(d.service.id)
            .await
            .map_err(|e| ctx.err(e.into()))?;
        paper = d
            .documents
            .iter()
            .filter(|x| paper::available(&d, x.id))
            .map(|x| PaperLine {
                document_id: x.id.to_string(),
                title: x.title.clone(),
                request: requests.iter().find(|r| r.document_id == x.id).map(|r| {
                    format!(
                        "{} {} · {}",
                        ctx.l.t("已申请", "Requested"),
                        court_minutes(r.requested_at),
                        paper::describe(r, ctx.l.en)
                    )
                }),
            })
            .collect();
        let auth = ctx.require()?;
        recipient::record_access(&state, &auth.who, &d, None, false)
            .await
            .map_err(|e| ctx.err(e))?;
        records::mark_read(&state, &auth.who, d.service.id)
            .await
            .map_err(|e| ctx.err(e))?;
        let events = state
            .store
            .service_events(d.service.id)
            .await
            .map_err(|e| ctx.err(e.into()))?;
        v.timeline = timeline(ctx.l, &events);
        let marks = state
            .store
            .marks(auth.who.user.id, d.service.id)
            .await
            .map_err(|e| ctx.err(e.into()))?;
        let folders = records::folders(&state, &auth.who)
            .await
            .map_err(|e| ctx.err(e))?;
        organise = Some(Organise {
            pinned: marks.pinned,
            folders: folders
                .into_iter()
                .map(|(f, _)| {
                    let on = marks.folders.iter().any(|m| m.id == f.id);
                    (f.id.to_string(), f.name, on)
                })
                .collect(),
        });
    }
    Ok(render(&ServicePage {
        c: ctx.chrome(),
        v,
        organise,
        paper,
    }))
}

#[derive(Template)]
#[template(path = "sign.html")]
struct SignPage {
    c: Chrome,
    v: ServiceView,
    err: FormError,
}

async fn get_sign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (v, _) = view(&state, &ctx, &id).await?;
    if !v.is_recipient {
        return Err(ctx.err(AppError::forbidden(
            "only the recipient can sign for receipt",
        )));
    }
    Ok(render(&SignPage {
        c: ctx.chrome(),
        v,
        err: FormError::default(),
    }))
}

async fn post_sign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let sid: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    match recipient::sign(&state, &auth.who, sid, form.get("confirm") == "1").await {
        Ok(_) => Ok(see_other(&format!("/services/{sid}/record?done=signed"))),
        Err(e) if is_form_error(&e) => {
            let (v, _) = view(&state, &ctx, &id).await?;
            let mut resp = render(&SignPage {
                c: ctx.chrome(),
                v,
                err: FormError::from(ctx.l, &e),
            });
            *resp.status_mut() = super::form_status(&e);
            Ok(resp)
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub struct ReasonOpt {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "refuse.html")]
struct RefusePage {
    c: Chrome,
    v: ServiceView,
    reasons: Vec<ReasonOpt>,
    note: String,
    err: FormError,
}

fn reasons(l: Lang, chosen: &str) -> Vec<ReasonOpt> {
    RefusalReason::ALL
        .iter()
        .map(|r| ReasonOpt {
            value: r.as_str(),
            label: l.t(r.label_zh(), r.label_en()),
            checked: r.as_str() == chosen,
        })
        .collect()
}

async fn get_refuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (v, _) = view(&state, &ctx, &id).await?;
    if !v.is_recipient {
        return Err(ctx.err(AppError::forbidden("only the recipient can refuse")));
    }
    Ok(render(&RefusePage {
        c: ctx.chrome(),
        v,
        reasons: reasons(ctx.l, ""),
        note: String::new(),
        err: FormError::default(),
    }))
}

async fn post_refuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let sid: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    match recipient::refuse(
        &state,
        &auth.who,
        sid,
        form.get("reason"),
        Some(form.get("note")),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/services/{sid}/record?done=refused"))),
        Err(e) if is_form_error(&e) => {
            let (v, _) = view(&state, &ctx, &id).await?;
            let mut resp = render(&RefusePage {
                c: ctx.chrome(),
                v,
                reasons: reasons(ctx.l, form.get("reason")),
                note: form.get("note").to_string(),
                err: FormError::from(ctx.l, &e),
            });
            *resp.status_mut() = super::form_status(&e);
            Ok(resp)
        }
        Err(e) => Err(ctx.err(e)),
    }
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    c: Chrome,
    v: ServiceView,
    issued: String,
    doc_summary: String,
}

async fn get_record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (v, d) = view(&state, &ctx, &id).await?;
    let l = ctx.l;
    let doc_summary = d
        .documents
        .iter()
        .map(|x| format!("{} {}", x.title, l.t("1 件", "(1)")))
        .collect::<Vec<_>>()
        .join(l.t("；", "; "));
    Ok(render(&RecordPage {
        c: ctx.chrome(),
        v,
        issued: court_minutes(state.now()),
        doc_summary,
    }))
}

#[derive(serde::Deserialize)]
struct DownloadQuery {
    download: Option<String>,
}

async fn get_document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, doc)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<DownloadQuery>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let sid: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let did: DocumentId = doc.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    files::serve_document(&state, &auth.who, sid, did, q.download.is_some())
        .await
        .map_err(|e| ctx.err(e))
}

async fn get_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, doc, page)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let nf = || ctx.err(AppError::not_found());
    let sid: ServiceId = id.parse().map_err(|_| nf())?;
    let did: DocumentId = doc.parse().map_err(|_| nf())?;
    let n: u32 = page.trim_end_matches(".png").parse().map_err(|_| nf())?;
    files::page_image(&state, &auth.who, sid, did, n)
        .await
        .map_err(|e| ctx.err(e))
}

/// The recipient asks for a paper copy from the service page.
async fn post_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let id: ServiceId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let doc: DocumentId = form
        .get("document")
        .parse()
        .map_err(|_| ctx.err(AppError::not_found()))?;
    paper::request(
        &state,
        &auth.who,
        id,
        doc,
        form.get("address"),
        form.get("note"),
    )
    .await
    .map_err(|e| ctx.err(e))?;
    Ok(see_other(&format!("/services/{id}?done=paper#paper")))
}
