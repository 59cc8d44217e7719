//! Server-rendered pages for parties, clerks and the admin: Chinese first, English on
//! request, usable on a phone. Pages call the same actions as the JSON API; this module
//! holds what every page shares: language, the page chrome, forms with CSRF tokens, the
//! session cookie, and errors rendered as pages in the user's language.

mod account;
mod admin;
mod board;
pub mod clerk;
pub mod party;
mod service;
mod verify;

use crate::error::{AppError, Kind};
use crate::http::error::log_if_internal;
use crate::http::extract::{Auth, MaybeAuth, SESSION_COOKIE, cookie};
use crate::state::AppState;
use crate::store::Role;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(account::router())
        .merge(party::router())
        .merge(board::router())
        .merge(service::router())
        .merge(clerk::router())
        .merge(admin::router())
        .merge(verify::router())
}

/// The interface language: Chinese unless the user chose English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lang {
    pub en: bool,
}

impl Lang {
    pub const ZH: Lang = Lang { en: false };
    /// The text in the user's language; both are written side by side in templates so
    /// that no label exists in one language only.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { zh }
    }
    pub fn code(&self) -> &'static str {
        if self.en { "en" } else { "zh-CN" }
    }
    pub fn other_code(&self) -> &'static str {
        if self.en { "zh" } else { "en" }
    }
    pub fn other_label(&self) -> &'static str {
        if self.en { "中文" } else { "English" }
    }
}

pub const LANG_COOKIE: &str = "songda_lang";

fn lang_of(parts: &Parts) -> Lang {
    Lang {
        en: cookie(parts, LANG_COOKIE) == Some("en"),
    }
}

pub struct UserView {
    pub name: String,
    pub role: Role,
    pub role_label: String,
    pub phone: Option<String>,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every page shows around its content.
pub struct Chrome {
    pub l: Lang,
    pub user: Option<UserView>,
    pub csrf: String,
    /// The current path, URL-encoded, for the language switch to come back to.
    pub back: String,
    path: String,
    pub flash: Option<String>,
}

impl Chrome {
    pub fn nav(&self) -> Vec<NavItem> {
        let l = self.l;
        let items: Vec<(&'static str, &'static str)> = match self.user.as_ref().map(|u| u.role) {
            Some(Role::Party) => vec![
                ("/inbox", l.t("我的文书", "My documents")),
                ("/records", l.t("签收记录", "Records")),
                ("/bind", l.t("绑定案件", "Bind a case")),
            ],
            Some(Role::Clerk) => vec![
                ("/cases", l.t("案件", "Cases")),
                ("/board", l.t("送达看板", "Service board")),
            ],
            Some(Role::Admin) => vec![
                ("/admin/courts", l.t("法院与人员", "Courts and staff")),
                ("/admin/outbox", l.t("短信与邮件", "SMS and email")),
                ("/admin/calendar", l.t("节假日", "Holidays")),
            ],
            None => vec![],
        };
        items
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: self.path == href || self.path.starts_with(&format!("{href}/")),
            })
            .collect()
    }
}

/// The request as a page sees it: language, the user if logged in, where we are.
pub struct Ctx {
    pub l: Lang,
    pub auth: Option<Auth>,
    pub path: String,
    pub query: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let l = lang_of(parts);
        let MaybeAuth(auth) = MaybeAuth::from_request_parts(parts, state)
            .await
            .map_err(|e| PageError::Error(e, l))?;
        Ok(Ctx {
            l,
            auth,
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
        })
    }
}

impl Ctx {
    pub fn chrome(&self) -> Chrome {
        let l = self.l;
        let flash = form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == "done")
            .and_then(|(_, v)| flash_text(l, &v));
        let full = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        Chrome {
            l,
            user: self.auth.as_ref().map(|a| {
                let u = &a.who.user;
                UserView {
                    name: u.name.clone(),
                    role: u.role,
                    role_label: match u.role {
                        Role::Party => l.t("当事人", "Party"),
                        Role::Clerk => l.t("书记员", "Clerk"),
                        Role::Admin => l.t("管理员", "Administrator"),
                    }
                    .to_string(),
                    phone: u
                        .phone
                        .as_deref()
                        .and_then(|p| songda_core::party::PhoneNumber::parse(p).ok())
                        .map(|p| p.masked()),
                }
            }),
            csrf: self
                .auth
                .as_ref()
                .map(|a| a.csrf.clone())
                .unwrap_or_default(),
            back: form_urlencoded::byte_serialize(full.as_bytes()).collect(),
            path: self.path.clone(),
            flash,
        }
    }

    /// The logged-in user, or a redirect to the login page that comes back here.
    pub fn require(&self) -> Result<&Auth, PageError> {
        self.auth.as_ref().ok_or_else(|| {
            let next: String = form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
            PageError::Redirect(format!("/login?next={next}"))
        })
    }

    pub fn err(&self, e: AppError) -> PageError {
        PageError::Error(e, self.l)
    }
}

/// Success messages shown after a redirect (`?done=...`).
fn flash_text(l: Lang, code: &str) -> Option<String> {
    let s = match code {
        "signed" => l.t(
            "签收成功。送达回证已生成，可在下方查看和打印。",
            "Signed for. The service record is below and can be printed.",
        ),
        "refused" => l.t(
            "已拒收。法院将看到您的拒收理由。",
            "Refused. The court will see your reason.",
        ),
        "bound" => l.t(
            "案件已绑定。请确认送达地址。",
            "Case bound. Please confirm your service address.",
        ),
        "consent" => l.t("送达地址已确认。", "Service address confirmed."),
        "withdrawn" => l.t(
            "已撤回电子送达同意，今后的文书将不再电子送达。",
            "Consent withdrawn: future documents will not be served electronically.",
        ),
        "verified" => l.t("手机号码已验证，请登录。", "Phone verified. Please log in."),
        "served" => l.t(
            "已送达。受送达人将收到短信和邮件通知。",
            "Served. The recipient is notified by SMS and email.",
        ),
        "party" => l.t(
            "当事人已添加，绑定码已通过短信和邮件发送。",
            "Party added; the binding code was sent by SMS and email.",
        ),
        "uploaded" => l.t("文书已上传。", "Document uploaded."),
        "created" => l.t("案件已创建。", "Case created."),
        "saved" => l.t("已保存。", "Saved."),
        "paper" => l.t(
            "已申请纸质文书，法院处理后会在此显示。",
            "Paper copy requested; the court's answer will show here.",
        ),
        "closed" => l.t("申请已处理。", "Request closed."),
        "staff" => l.t("账户已创建。", "Account created."),
        _ => return None,
    };
    Some(s.to_string())
}

/// Renders a template, or a plain 500 if it cannot (which tests would catch).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A URL-encoded form, keeping repeated keys (checkboxes).
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
    /// The form's CSRF token must be the session's.
    pub fn check_csrf(&self, auth: &Auth, l: Lang) -> Result<(), PageError> {
        if self.get("csrf") == auth.csrf {
            Ok(())
        } else {
            Err(PageError::Error(
                AppError::new(Kind::Forbidden, "csrf", "missing or wrong CSRF token"),
                l,
            ))
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                PageError::Error(
                    AppError::new(Kind::TooLarge, "body_too_large", e.body_text()),
                    Lang::ZH,
                )
            })?;
        Ok(FormData(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// Why a page handler stopped early: an error shown as a page in the user's language, or
/// a redirect (to the login page), so that a handler can `?` its way out of either.
pub enum PageError {
    Error(AppError, Lang),
    Redirect(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    heading: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (e, l) = match self {
            PageError::Redirect(to) => return see_other(&to),
            PageError::Error(e, l) => (e, l),
        };
        log_if_internal(&e);
        let status = crate::http::error::status_of(e.kind);
        let heading = match e.kind {
            Kind::NotFound => l.t("页面不存在", "Not found"),
            Kind::Forbidden => l.t("无权访问", "Not allowed"),
            Kind::Internal => l.t("系统出错了", "Something went wrong"),
            _ => l.t("无法完成操作", "That did not work"),
        };
        let message = match e.kind {
            Kind::NotFound => l
                .t(
                    "您要找的内容不存在，或您无权查看。",
                    "What you asked for does not exist, or is not yours to see.",
                )
                .to_string(),
            Kind::Internal => l
                .t(
                    "请稍后再试。问题已记录。",
                    "Please try again later. The problem has been logged.",
                )
                .to_string(),
            _ => message(l, &e),
        };
        let chrome = Chrome {
            l,
            user: None,
            csrf: String::new(),
            back: "%2F".into(),
            path: String::new(),
            flash: None,
        };
        let mut resp = render(&ErrorPage {
            c: chrome,
            heading: heading.to_string(),
            message,
        });
        *resp.status_mut() = status;
        resp
    }
}

/// A field's name as the user knows it.
fn field_label(l: Lang, field: &str) -> &'static str {
    match field {
        "name" => l.t("姓名", "Name"),
        "phone" => l.t("手机号码", "Phone number"),
        "email" => l.t("电子邮箱", "Email"),
        "password" => l.t("密码", "Password"),
        "code" => l.t("验证码", "Code"),
        "login" => l.t("账号", "Login"),
        "case_number" => l.t("案号", "Case number"),
        "title" => l.t("标题", "Title"),
        "role" => l.t("诉讼地位", "Role"),
        "doc_type" => l.t("文书类型", "Document type"),
        "file" => l.t("文件", "File"),
        "document_ids" => l.t("送达文书", "Documents"),
        "party_id" => l.t("受送达人", "Recipient"),
        "acknowledged" => l.t("确认", "Acknowledgement"),
        "channels" => l.t("通知方式", "Channels"),
        "confirm" => l.t("确认", "Confirmation"),
        "reason" => l.t("拒收理由", "Reason"),
        "note" => l.t("说明", "Note"),
        "consent_basis" => l.t("同意方式", "Consent basis"),
        "court" => l.t("法院", "Court"),
        "regime" => l.t("适用规则", "Regime"),
        "address" => l.t("邮寄地址", "Postal address"),
        "outcome" => l.t("处理结果", "Outcome"),
        "calendar" => l.t("节假日数据", "Calendar data"),
        "time_limit" => l.t("期限", "Time limit"),
        "time_limit_days" => l.t("期限天数", "Days of the time limit"),
        _ => l.t("输入", "Input"),
    }
}

/// What went wrong, in the user's language, with what to do next.
pub fn message(l: Lang, e: &AppError) -> String {
    let fixed = match e.code {
        "invalid_credentials" => Some(l.t(
            "账号或密码不正确，请重新输入。",
            "Wrong login or password. Please try again.",
        )),
        "phone_unverified" => Some(l.t(
            "手机号码尚未验证，请先输入短信验证码。",
            "Your phone is not verified yet: enter the SMS code first.",
        )),
        "invalid_code" => Some(l.t(
            "验证码或绑定码不正确，请核对后重新输入。",
            "The code is wrong. Check it and try again.",
        )),
        "code_expired" => Some(l.t(
            "验证码已过期，请重新获取。",
            "The code has expired. Ask for a new one.",
        )),
        "too_many_attempts" => Some(l.t(
            "错误次数过多，请重新获取验证码。",
            "Too many wrong codes. Ask for a new code.",
        )),
        "phone_taken" => Some(l.t(
            "该手机号码已注册，请直接登录。",
            "This phone number is already registered. Please log in.",
        )),
        "login_taken" => Some(l.t("该登录名已被使用。", "This login name is taken.")),
        "email_taken" => Some(l.t(
            "该电子邮箱已被其他账户使用。",
            "This email is already used by another account.",
        )),
        "code_used" => Some(l.t(
            "该绑定码已使用过。如非本人操作，请联系法院。",
            "This binding code has been used already. If not by you, contact the court.",
        )),
        "case_exists" => Some(l.t(
            "本院已有该案号的案件。",
            "This court already has a case with this number.",
        )),
        "already_signed" => Some(l.t("该文书已签收。", "Already signed for.")),
        "already_refused" => Some(l.t("该文书已拒收。", "Already refused.")),
        "not_pdf" => Some(l.t(
            "只能上传 PDF 文件，该文件不是有效的 PDF。",
            "Only PDF files can be uploaded; this file is not a valid PDF.",
        )),
        "csrf" => Some(l.t(
            "页面已过期，请刷新后重试。",
            "The page has expired. Reload it and try again.",
        )),
        "forbidden" => Some(l.t("您无权进行此操作。", "You may not do this.")),
        "no_consent" => Some(l.t("目前没有可撤回的同意。", "There is no consent to withdraw.")),
        "malformed_verification_code" => Some(l.t(
            "核验码由 12 位字母和数字组成，例如 7KQ2-M9XD-4HRT。",
            "A verification code has 12 letters and digits, like 7KQ2-M9XD-4HRT.",
        )),
        "unknown_verification_code" => Some(l.t(
            "没有与该核验码对应的送达凭证，请核对后重新输入。",
            "No certificate has this verification code. Check it and try again.",
        )),
        _ => None,
    };
    if let Some(s) = fixed {
        return s.to_string();
    }
    match e.code {
        "rate_limited" => {
            let secs = e.retry_after.unwrap_or(60);
            if l.en {
                format!("Too many attempts. Try again in {secs} seconds.")
            } else {
                format!("尝试次数过多，请 {secs} 秒后再试。")
            }
        }
        "too_large" => e.message.clone(),
        "consent_required" | "policy_refused" if !l.en => e
            .extra
            .as_ref()
            .and_then(|x| x["rule"].as_str())
            .map(|r| format!("不能电子送达：{r}。"))
            .unwrap_or_else(|| e.message.clone()),
        "invalid_field" => {
            let label = field_label(l, e.field.as_deref().unwrap_or(""));
            if l.en {
                format!("{label}: {}", e.message)
            } else {
                format!("{label}填写有误，请检查后重新提交。（{}）", e.message)
            }
        }
        _ => e.message.clone(),
    }
}

/// The session cookie for a browser login.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let max_age = crate::actions::accounts::SESSION_TTL.whole_seconds();
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Only local paths are followed after login, never another site.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// The form-error state of a page: the message and the field at fault.
#[derive(Default)]
pub struct FormError {
    pub message: Option<String>,
    pub field: Option<String>,
    /// The status the re-rendered form answers with.
    pub status: Option<StatusCode>,
}

impl FormError {
    pub fn from(l: Lang, e: &AppError) -> Self {
        Self {
            message: Some(message(l, e)),
            field: e.field.clone(),
            status: Some(crate::http::error::status_of(e.kind)),
        }
    }

    /// Sets the response status of a page that shows this error.
    pub fn apply(status: Option<StatusCode>, mut resp: Response) -> Response {
        if let Some(s) = status {
            *resp.status_mut() = s;
        }
        resp
    }
    pub fn on(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// Whether an error belongs on the form (the user can fix it) or on an error page.
pub fn is_form_error(e: &AppError) -> bool {
    !matches!(e.kind, Kind::NotFound | Kind::Internal | Kind::Forbidden)
}

/// Status for a re-rendered form.
pub fn form_status(e: &AppError) -> StatusCode {
    crate::http::error::status_of(e.kind)
}
