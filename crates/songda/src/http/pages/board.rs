//! The clerk's board across the court's cases: what needs another look (awaiting the
//! recipient for more than N days, a notification that failed, a refusal), searchable,
//! paged and exported as CSV.

use super::clerk::PaperItem;
use super::party::{ListLink, Pager, Tab, pager};
use super::service::{ServiceRow, service_row};
use super::{Chrome, Ctx, PageError, render};
use crate::actions::records::{self, ListParams};
use crate::actions::{bundle, deadlines, paper};
use crate::http::api::me::csv_response;
use crate::state::AppState;
use crate::store::StatusFilter;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/board", get(get_board))
        .route("/board.csv", get(get_board_csv))
}

/// A board row: the service, its case, and when its first time limit ends.
pub struct BoardLine {
    pub row: ServiceRow,
    pub case_id: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    c: Chrome,
    tabs: Vec<Tab>,
    lines: Vec<BoardLine>,
    pager: Pager,
    q: String,
    status: String,
    pending_days: String,
    csv_href: String,
    paper_requests: Vec<PaperItem>,
}

/// The board's view: unless told otherwise, what has waited over three days.
fn board_params(mut p: ListParams) -> ListParams {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&p.status) && blank(&p.pending_days) {
        p.pending_days = Some("3".into());
    }
    if blank(&p.sort) {
        p.sort = Some("oldest".into());
    }
    p
}

async fn get_board(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    auth.who.clerk().map_err(|e| ctx.err(e))?;
    let c = ctx.chrome();
    let l = c.l;
    let p = board_params(p);
    let q = p.query(state.now(), 50).map_err(|e| ctx.err(e))?;
    let (page, counts) = records::list(&state, &auth.who, &q)
        .await
        .map_err(|e| ctx.err(e))?;
    let (cal, _) = deadlines::calendar(&state).await.map_err(|e| ctx.err(e))?;
    let link = ListLink::new("/board", &p);
    let waiting = q.pending_since.is_some();
    let days = p.pending_days.clone().unwrap_or_default();
    let tab = |href: String, label: &'static str, count: i64, current: bool| Tab {
        href,
        label,
        count: count as usize,
        current,
    };
    let tabs = vec![
        tab(
            link.with(&[("pending_days", "3"), ("status", "")], 0),
            l.t("待签收超过3天", "Pending over 3 days"),
            if waiting { counts.pending } else { 0 },
            waiting && q.status.is_none(),
        ),
        tab(
            link.with(&[("pending_days", ""), ("status", "failed")], 0),
            l.t("通知失败", "Notification failed"),
            counts.failed,
            q.status == Some(StatusFilter::Failed),
        ),
        tab(
            link.with(&[("pending_days", ""), ("status", "refused")], 0),
            l.t("已拒收", "Refused"),
            counts.refused,
            q.status == Some(StatusFilter::Refused),
        ),
        tab(
            link.with(&[("pending_days", ""), ("status", "pending")], 0),
            l.t("全部待签收", "All pending"),
            counts.pending,
            !waiting && q.status == Some(StatusFilter::Pending),
        ),
    ];
    let lines: Vec<BoardLine> = page
        .items
        .iter()
        .map(|x| BoardLine {
            row: service_row(l, &x.detail),
            case_id: x.detail.case.id.to_string(),
            deadline: deadlines::summary(&x.detail, &cal, l.en),
        })
        .collect();
    let pager = pager(&link, &q, lines.len(), page.total);
    let paper_requests = paper::open_of_court(&state, &auth.who)
        .await
        .map_err(|e| ctx.err(e))?
        .iter()
        .map(|r| PaperItem::of(r, l))
        .collect();
    Ok(render(&BoardPage {
        c,
        tabs,
        lines,
        pager,
        q: q.q.clone().unwrap_or_default(),
        status: p.status.clone().unwrap_or_default(),
        pending_days: days,
        csv_href: ListLink::new("/board.csv", &p).with(&[], 0),
        paper_requests,
    }))
}

async fn get_board_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    auth.who.clerk().map_err(|e| ctx.err(e))?;
    let q = board_params(p)
        .query(state.now(), 50)
        .map_err(|e| ctx.err(e))?;
    let csv = bundle::list_csv(&state, &auth.who, &q, ctx.l.en)
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(csv_response(csv, "board.csv"))
}
