//! The clerk's desk: cases, a case page with parties, documents, serving (with the policy
//! decision shown before confirming) and the service board.

use super::party::Opt;
use super::service::stage_label;
use super::{Chrome, Ctx, FormData, FormError, Lang, PageError, is_form_error, render, see_other};
use crate::actions::cases::{self, NewPartyInput, UploadInput};
use crate::actions::{clerk_case, deadlines, mediation, paper, serve};
use crate::error::AppError;
use crate::http::upload;
use crate::state::AppState;
use crate::store::{CaseRecord, DocumentRecord, PartyRecord, PolicyDecisionRecord, ServiceDetail};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use songda_core::consent::{Channel, ConsentBasis};
use songda_core::document::DocType;
use songda_core::ids::{CaseId, DocumentId, PartyId};
use songda_core::party::PartyRole;
use songda_core::policy::Decision;
use songda_core::service::{RefusalReason, Stage};
use songda_core::timefmt::court_minutes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(get_cases).post(post_case))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/parties", post(post_party))
        .route(
            "/cases/{id}/documents",
            post(post_document).layer(DefaultBodyLimit::disable()),
        )
        .route("/cases/{id}/serve", post(post_serve))
        .route("/paper-requests/{id}/close", post(post_paper_close))
}

pub struct CaseItem {
    pub id: String,
    pub case_number: String,
    pub title: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    c: Chrome,
    cases: Vec<CaseItem>,
    q: String,
    case_number: String,
    title: String,
    err: FormError,
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn cases_page(
    state: &AppState,
    ctx: &Ctx,
    q: &str,
    form: Option<&FormData>,
    err: FormError,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let clerk = auth.who.clerk().map_err(|e| ctx.err(e))?;
    let court = clerk
        .court_id
        .ok_or_else(|| ctx.err(AppError::not_found()))?;
    let list = state
        .store
        .cases_of_court(court, Some(q).filter(|q| !q.is_empty()))
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let status = err.status;
    let resp = render(&CasesPage {
        c: ctx.chrome(),
        cases: list
            .iter()
            .map(|c| CaseItem {
                id: c.id.to_string(),
                case_number: c.case_number.clone(),
                title: c.title.clone(),
                created: court_minutes(c.created_at),
            })
            .collect(),
        q: q.to_string(),
        case_number: form
            .map(|f| f.get("case_number").to_string())
            .unwrap_or_default(),
        title: form.map(|f| f.get("title").to_string()).unwrap_or_default(),
        err,
    });
    Ok(FormError::apply(status, resp))
}

async fn get_cases(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    cases_page(
        &state,
        &ctx,
        q.q.as_deref().unwrap_or("").trim(),
        None,
        FormError::default(),
    )
    .await
}

async fn post_case(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    match cases::create_case(
        &state,
        &auth.who,
        form.get("case_number"),
        form.get("title"),
    )
    .await
    {
        Ok(case) => Ok(see_other(&format!("/cases/{}?done=created", case.id))),
        Err(e) if is_form_error(&e) => {
            cases_page(&state, &ctx, "", Some(&form), FormError::from(ctx.l, &e)).await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

pub struct PartyView {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub phone: String,
    pub email: String,
    pub bound: bool,
    pub consent: String,
    pub consented: bool,
}

pub struct DocItem {
    pub id: String,
    pub title: String,
    pub type_label: &'static str,
    pub pages: i64,
    pub sha_short: String,
    pub sha256: String,
    pub uploaded: String,
    pub time_limit: String,
    /// "v2, corrects …" for a corrected version; empty for an original.
    pub version: String,
}

pub struct BoardRow {
    pub id: String,
    pub party: String,
    pub titles: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub served: String,
    pub rule: String,
    pub channels: String,
    pub problem: Option<String>,
    pub deadline: String,
}

/// A request for a paper copy as the clerk's pages list it.
pub struct PaperItem {
    pub id: String,
    pub case_id: String,
    pub case_number: String,
    pub party: String,
    pub document: String,
    pub requested: String,
    pub address: String,
    pub note: String,
    pub open: bool,
    pub status: String,
}

impl PaperItem {
    pub fn of(r: &crate::store::PaperRequest, l: Lang) -> Self {
        Self {
            id: r.id.clone(),
            case_id: r.case_id.to_string(),
            case_number: r.case_number.clone(),
            party: r.party_name.clone(),
            document: r.document_title.clone(),
            requested: court_minutes(r.requested_at),
            address: r.address.clone(),
            note: r.note.clone().unwrap_or_default(),
            open: r.closed_at.is_none(),
            status: paper::describe(r, l.en),
        }
    }
}

async fn post_paper_close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let id = id
        .parse::<uuid::Uuid>()
        .map_err(|_| ctx.err(AppError::not_found()))?
        .to_string();
    paper::close(
        &state,
        &auth.who,
        &id,
        form.get("outcome"),
        form.get("note"),
    )
    .await
    .map_err(|e| ctx.err(e))?;
    let r = state
        .store
        .paper_request(&id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    Ok(see_other(&format!(
        "/cases/{}?done=closed#paper-requests",
        r.case_id
    )))
}

/// A party a document has not reached electronically, and why: the court must serve it
/// another way (CPL Art. 87 ff.).
pub struct AnotherMethod {
    pub party: String,
    pub document: String,
    pub why: String,
}

/// Who still needs another method of service, by document: a party for whom the policy
/// refused electronic service of it and no later service of it took place, or who refused
/// the service objecting to electronic service or as not the addressee.
fn another_method(
    l: Lang,
    parties: &[PartyRecord],
    docs: &[DocumentRecord],
    services: &[ServiceDetail],
    decisions: &[PolicyDecisionRecord],
) -> Vec<AnotherMethod> {
    let served = |party: PartyId, doc: DocumentId| {
        services.iter().any(|d| {
            d.party.id == party
                && d.documents.iter().any(|x| x.id == doc)
                && d.service.stage != Stage::Refused
        })
    };
    let name = |id: PartyId| {
        parties
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<AnotherMethod> = Vec::new();
    for x in decisions.iter().filter(|x| !x.permitted) {
        for doc in docs.iter().filter(|d| x.document_ids.contains(&d.id)) {
            if served(x.party_id, doc.id)
                || out
                    .iter()
                    .any(|o| o.party == name(x.party_id) && o.document == doc.title)
            {
                continue;
            }
            out.push(AnotherMethod {
                party: name(x.party_id),
                document: doc.title.clone(),
                why: x.explanation.clone(),
            });
        }
    }
    for d in services {
        let Some(reason) = d.service.refusal_reason else {
            continue;
        };
        if !matches!(
            reason,
            RefusalReason::ObjectsToElectronicService | RefusalReason::NotAddressee
        ) {
            continue;
        }
        for doc in &d.documents {
            if !services.iter().any(|o| {
                o.party.id == d.party.id
                    && o.service.id != d.service.id
                    && o.service.created_at > d.service.created_at
                    && o.documents.iter().any(|x| x.id == doc.id)
            }) {
                out.push(AnotherMethod {
                    party: d.party.name.clone(),
                    document: doc.title.clone(),
                    why: format!(
                        "{}{}",
                        l.t("受送达人拒收：", "Refused by the recipient: "),
                        l.t(reason.label_zh(), reason.label_en())
                    ),
                });
            }
        }
    }
    out
}

pub struct Preview {
    pub party_id: String,
    pub party: String,
    pub permitted: bool,
    pub explanation: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    case: CaseRecord,
    parties: Vec<PartyView>,
    docs: Vec<DocItem>,
    board: Vec<BoardRow>,
    another: Vec<AnotherMethod>,
    /// (document title, its effect) of each served mediation document.
    mediation: Vec<(String, String)>,
    paper_requests: Vec<PaperItem>,
    problems: Vec<String>,
    refusals: Vec<String>,
    roles: Vec<Opt>,
    types: Vec<Opt>,
    bases: Vec<Opt>,
    preview: Vec<Preview>,
    preview_docs: Vec<String>,
    party_form: [String; 3],
    err: FormError,
    err_where: &'static str,
}

fn party_view(ctx: &Ctx, p: &PartyRecord) -> PartyView {
    let l = ctx.l;
    let (consent, consented) = match &p.consent {
        Some(k) if k.is_active() => {
            let basis = k
                .basis
                .map(|b| l.t(b.label_zh(), b.label_en()))
                .unwrap_or("");
            let ch: Vec<&str> = k
                .channels
                .iter()
                .filter(|c| **c != Channel::Platform)
                .map(|c| match c {
                    Channel::Sms => l.t("短信", "SMS"),
                    Channel::Email => l.t("邮件", "email"),
                    Channel::Platform => "",
                })
                .collect();
            (format!("{basis}（{}）", ch.join("、")), true)
        }
        Some(_) => (l.t("已撤回同意", "Consent withdrawn").to_string(), false),
        None => (l.t("未同意电子送达", "No consent yet").to_string(), false),
    };
    PartyView {
        id: p.id.to_string(),
        name: p.name.clone(),
        role: l.t(p.role.label_zh(), p.role.as_str()),
        phone: p.phone.clone(),
        email: p.email.clone().unwrap_or_default(),
        bound: p.bound_user_id.is_some(),
        consent,
        consented,
    }
}

#[derive(Default)]
struct Extra {
    preview: Vec<Preview>,
    preview_docs: Vec<String>,
    party_form: [String; 3],
    err: FormError,
    err_where: &'static str,
}

async fn case_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    extra: Extra,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let l = ctx.l;
    let case_id: CaseId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let case = clerk_case(state, &auth.who, case_id)
        .await
        .map_err(|e| ctx.err(e))?;
    let parties = state
        .store
        .parties_of_case(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let docs = state
        .store
        .documents_of_case(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let services = state
        .store
        .services_of_case(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let decisions = state
        .store
        .policy_decisions_of_case(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let mut notices = state
        .store
        .case_notifications(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?;
    let (cal, _) = deadlines::calendar(state).await.map_err(|e| ctx.err(e))?;
    let mut board = Vec::new();
    let mut problems = Vec::new();
    for d in &services {
        let (status, status_label) = stage_label(l, d.service.stage);
        let notes = notices.remove(&d.service.id).unwrap_or_default();
        let channels = notes
            .iter()
            .map(|n| {
                let st = match (n.status.as_str(), n.delivery.as_deref()) {
                    ("sent", Some("DELIVRD")) => l.t("已送达", "delivered"),
                    ("sent", _) => l.t("已发送", "sent"),
                    ("failed", _) => l.t("失败", "failed"),
                    ("queued", _) if n.attempts > 0 => l.t("重试中", "retrying"),
                    _ => l.t("发送中", "queued"),
                };
                let what = match n.purpose.as_str() {
                    "reminder" => l.t("提醒", " reminder"),
                    "escalation" => l.t("（改用）", " (instead)"),
                    _ => "",
                };
                format!(
                    "{}{what} {st}",
                    if n.channel == "sms" {
                        l.t("短信", "SMS")
                    } else {
                        l.t("邮件", "Email")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(" · ");
        // The first notice that failed for good, with the server's words (shortened), and
        // the channel the recipient was told on instead.
        let escalated = notes.iter().find(|n| n.purpose == "escalation");
        let failed = notes.iter().find(|n| n.status == "failed").map(|n| {
            let error: String = n
                .last_error
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect();
            let instead = match escalated {
                Some(e) if e.id != n.id => format!(
                    "{}{}",
                    l.t("；已改用", "; told instead by "),
                    if e.channel == "sms" {
                        l.t("短信", "SMS")
                    } else {
                        l.t("邮件", "email")
                    }
                ),
                _ => String::new(),
            };
            format!("{} → {}: {error}{instead}", n.channel, n.recipient)
        });
        let titles = d.titles().join("、");
        let problem = match (d.service.refusal_reason, failed) {
            (Some(r), _) => Some(format!(
                "{}{}",
                l.t("拒收：", "Refused: "),
                l.t(r.label_zh(), r.label_en())
            )),
            (None, Some(failure)) => Some(format!(
                "{}{failure}",
                l.t("通知发送失败：", "Notification failed: ")
            )),
            (None, None) => None,
        };
        if let Some(p) = &problem {
            problems.push(format!("{} · {} · {p}", d.party.name, titles));
        }
        board.push(BoardRow {
            id: d.service.id.to_string(),
            party: d.party.name.clone(),
            titles,
            status,
            status_label,
            served: d
                .service
                .served_at
                .map(court_minutes)
                .unwrap_or_else(|| "—".into()),
            rule: d
                .service
                .service_rule
                .map(|r| l.t(r.label_zh(), r.label_en()).to_string())
                .unwrap_or_default(),
            channels,
            problem,
            deadline: deadlines::summary(d, &cal, l.en),
        });
    }
    let another = another_method(l, &parties, &docs, &services, &decisions);
    let paper_requests = state
        .store
        .paper_requests_of_case(case.id)
        .await
        .map_err(|e| ctx.err(e.into()))?
        .iter()
        .map(|r| PaperItem::of(r, l))
        .collect();
    let mediation = mediation::of_case(&parties, &docs, &services)
        .iter()
        .map(|m| (m.document.title.clone(), m.text(l.en)))
        .collect();
    let refusals = decisions
        .iter()
        .filter(|x| !x.permitted)
        .map(|x| {
            let who = parties
                .iter()
                .find(|p| p.id == x.party_id)
                .map(|p| p.name.as_str())
                .unwrap_or("");
            format!(
                "{} · {} · {}",
                court_minutes(x.decided_at),
                who,
                x.explanation
            )
        })
        .collect();
    let roles = PartyRole::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: l.t(r.label_zh(), r.as_str()).into(),
            selected: false,
        })
        .collect();
    let types = DocType::ALL
        .iter()
        .map(|t| Opt {
            value: t.as_str().into(),
            label: l.t(t.label_zh(), t.label_en()).into(),
            selected: false,
        })
        .collect();
    let bases = [ConsentBasis::FilingAddress, ConsentBasis::PriorAgreement]
        .iter()
        .map(|b| Opt {
            value: b.as_str().into(),
            label: l.t(b.label_zh(), b.label_en()).into(),
            selected: false,
        })
        .collect();
    let status = extra.err.status;
    let resp = render(&CasePage {
        c: ctx.chrome(),
        parties: parties.iter().map(|p| party_view(ctx, p)).collect(),
        docs: docs
            .iter()
            .map(|x| DocItem {
                id: x.id.to_string(),
                title: x.title.clone(),
                type_label: l.t(x.doc_type.label_zh(), x.doc_type.label_en()),
                pages: x.page_count,
                sha_short: x.sha256.as_str()[..12].to_string(),
                sha256: x.sha256.to_string(),
                uploaded: court_minutes(x.uploaded_at),
                version: match x.corrects {
                    Some(old) => format!(
                        "{}{}{}{}{}",
                        l.t("第", "v"),
                        x.version,
                        l.t("版，更正《", ", corrects “"),
                        docs.iter()
                            .find(|d| d.id == old)
                            .map(|d| d.title.as_str())
                            .unwrap_or(""),
                        l.t("》", "”")
                    ),
                    None => String::new(),
                },
                time_limit: x
                    .time_limit
                    .map(|t| {
                        format!(
                            "{} {}{}",
                            l.t(t.kind.label_zh(), t.kind.label_en()),
                            t.days,
                            l.t("日", " days")
                        )
                    })
                    .unwrap_or_else(|| l.t("无", "None").to_string()),
            })
            .collect(),
        case,
        board,
        another,
        mediation,
        paper_requests,
        problems,
        refusals,
        roles,
        types,
        bases,
        preview: extra.preview,
        preview_docs: extra.preview_docs,
        party_form: extra.party_form,
        err: extra.err,
        err_where: extra.err_where,
    });
    Ok(FormError::apply(status, resp))
}

async fn get_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    case_page(&state, &ctx, &id, Extra::default()).await
}

async fn post_party(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let case_id: CaseId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let input = NewPartyInput {
        name: form.get("name"),
        role: form.get("role"),
        phone: form.get("phone"),
        email: Some(form.get("email")),
        consent_basis: Some(form.get("consent_basis")),
    };
    match cases::add_party(&state, &auth.who, case_id, &input).await {
        Ok(_) => Ok(see_other(&format!("/cases/{case_id}?done=party#parties"))),
        Err(e) if is_form_error(&e) => {
            let extra = Extra {
                party_form: [
                    form.get("name").into(),
                    form.get("phone").into(),
                    form.get("email").into(),
                ],
                err: FormError::from(ctx.l, &e),
                err_where: "party",
                ..Extra::default()
            };
            case_page(&state, &ctx, &id, extra).await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

async fn post_document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    let case_id: CaseId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    clerk_case(&state, &auth.who, case_id)
        .await
        .map_err(|e| ctx.err(e))?;
    let result = async {
        let multipart = multipart.map_err(|e| AppError::field("file", e.body_text()))?;
        let up = upload::receive(&state, multipart).await?;
        if up.field("csrf") != auth.csrf {
            let _ = tokio::fs::remove_file(&up.tmp).await;
            return Err(AppError::new(
                crate::error::Kind::Forbidden,
                "csrf",
                "missing or wrong CSRF token",
            ));
        }
        cases::add_document(
            &state,
            &auth.who,
            case_id,
            UploadInput {
                title: up.field("title"),
                doc_type: up.field("doc_type"),
                tmp: &up.tmp,
                sha256: up.sha256.clone(),
                size: up.size,
                time_limit: up.field("time_limit"),
                time_limit_days: up.field("time_limit_days"),
                corrects: up.field("corrects"),
            },
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/cases/{case_id}?done=uploaded#documents"
        ))),
        Err(e) if is_form_error(&e) => {
            let extra = Extra {
                err: FormError::from(ctx.l, &e),
                err_where: "upload",
                ..Extra::default()
            };
            case_page(&state, &ctx, &id, extra).await
        }
        Err(e) => Err(ctx.err(e)),
    }
}

/// Serving is two steps: the first shows the policy decision for each chosen party; the
/// second (`confirm`) serves those the policy permits.
async fn post_serve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    form.check_csrf(auth, ctx.l)?;
    let case_id: CaseId = id.parse().map_err(|_| ctx.err(AppError::not_found()))?;
    let nf = || ctx.err(AppError::not_found());
    let doc_ids = form
        .all("document_ids")
        .iter()
        .map(|d| d.parse::<DocumentId>().map_err(|_| nf()))
        .collect::<Result<Vec<_>, _>>()?;
    let party_ids = form
        .all("party_ids")
        .iter()
        .map(|p| p.parse::<PartyId>().map_err(|_| nf()))
        .collect::<Result<Vec<_>, _>>()?;
    let input_error = if party_ids.is_empty() {
        Some(AppError::field("party_id", "choose at least one recipient"))
    } else if doc_ids.is_empty() {
        Some(AppError::field(
            "document_ids",
            "choose at least one document",
        ))
    } else {
        None
    };
    if let Some(e) = input_error {
        let extra = Extra {
            err: FormError::from(ctx.l, &e),
            err_where: "serve",
            ..Extra::default()
        };
        return case_page(&state, &ctx, &id, extra).await;
    }
    if form.get("confirm") == "1" {
        let mut last_err = None;
        for p in &party_ids {
            if let Err(e) = serve::serve(&state, &auth.who, case_id, *p, &doc_ids).await {
                if !is_form_error(&e) {
                    return Err(ctx.err(e));
                }
                last_err = Some(e);
            }
        }
        return match last_err {
            None => Ok(see_other(&format!("/cases/{case_id}?done=served"))),
            Some(e) => {
                let extra = Extra {
                    err: FormError::from(ctx.l, &e),
                    err_where: "serve",
                    ..Extra::default()
                };
                case_page(&state, &ctx, &id, extra).await
            }
        };
    }
    let mut preview = Vec::new();
    for p in &party_ids {
        let (case, party, docs) = serve::load_request(&state, &auth.who, case_id, *p, &doc_ids)
            .await
            .map_err(|e| ctx.err(e))?;
        let decision = serve::preview(&state, &case, &party, &docs)
            .await
            .map_err(|e| ctx.err(e))?;
        preview.push(Preview {
            party_id: party.id.to_string(),
            party: party.name.clone(),
            permitted: matches!(decision, Decision::Permitted { .. }),
            explanation: if ctx.l.en {
                decision.explain_en()
            } else {
                decision.explain_zh()
            },
        });
    }
    let extra = Extra {
        preview,
        preview_docs: doc_ids.iter().map(|d| d.to_string()).collect(),
        ..Extra::default()
    };
    case_page(&state, &ctx, &id, extra).await
}
