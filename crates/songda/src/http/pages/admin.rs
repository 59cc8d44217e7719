//! The admin's view of outgoing SMS and email: every queued and delivered notification
//! (one-time codes masked), and, when SMS goes to the development file sink, what that
//! "phone" received.

use super::{Chrome, Ctx, PageError, render};
use crate::error::AppError;
use crate::messages::CODE_MARK;
use crate::state::AppState;
use crate::store::Role;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use songda_core::timefmt::court_seconds;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/outbox", get(get_outbox))
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
}

async fn get_outbox(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    if auth.who.user.role != Role::Admin {
        return Err(ctx.err(AppError::forbidden("admins only")));
    }
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
            status: match n.status.as_str() {
                "sent" => l.t("已发送", "Sent"),
                "failed" => l.t("失败", "Failed"),
                "sending" => l.t("发送中", "Sending"),
                _ => l.t("排队中", "Queued"),
            }
            .to_string(),
            attempts: n.attempts,
            reference: n.gateway_ref.or(n.last_error).unwrap_or_default(),
        })
        .collect();
    // The development sink is the "phone" of a machine without an SMS gateway.
    let path = state.transports.sms.path().to_path_buf();
    let text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
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
    }))
}
