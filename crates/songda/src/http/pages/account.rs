//! Start page, login, logout, registration, phone verification, language switch.

use super::{Chrome, Ctx, FormData, FormError, PageError, render, safe_next, see_other};
use crate::actions::accounts::{self, Registration};
use crate::http::extract::Client;
use crate::state::AppState;
use crate::store::Role;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(get_home))
        .route("/login", get(get_login).post(post_login))
        .route("/logout", axum::routing::post(post_logout))
        .route("/register", get(get_register).post(post_register))
        .route(
            "/verify-phone",
            get(get_verify_phone).post(post_verify_phone),
        )
        .route("/lang", get(get_lang))
}

async fn get_home(ctx: Ctx) -> Result<Response, PageError> {
    let auth = ctx.require()?;
    Ok(see_other(match auth.who.user.role {
        Role::Party => "/inbox",
        Role::Clerk => "/cases",
        Role::Admin => "/admin/outbox",
    }))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    login: String,
    next: String,
    err: FormError,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    phone: Option<String>,
}

async fn get_login(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage {
        c: ctx.chrome(),
        login: q.phone.unwrap_or_default(),
        next: safe_next(q.next.as_deref().unwrap_or("/")).to_string(),
        err: FormError::default(),
    })
}

async fn post_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next")).to_string();
    match accounts::login(
        &state,
        form.get("login"),
        form.get("password"),
        "browser",
        &client,
    )
    .await
    {
        Ok(li) => {
            let mut resp = see_other(&next);
            resp.headers_mut()
                .append(header::SET_COOKIE, super::session_cookie(&state, &li.token));
            resp
        }
        Err(e) if e.code == "phone_unverified" => {
            let phone: String =
                form_urlencoded::byte_serialize(form.get("login").as_bytes()).collect();
            see_other(&format!("/verify-phone?phone={phone}"))
        }
        Err(e) => {
            let mut resp = render(&LoginPage {
                c: ctx.chrome(),
                login: form.get("login").to_string(),
                next,
                err: FormError::from(ctx.l, &e),
            });
            *resp.status_mut() = super::form_status(&e);
            resp
        }
    }
}

async fn post_logout(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormData,
) -> Result<Response, PageError> {
    if let Some(auth) = &ctx.auth {
        form.check_csrf(auth, ctx.l)?;
        accounts::logout(&state, &auth.token, &auth.who.user, &auth.who.client)
            .await
            .map_err(|e| ctx.err(e))?;
    }
    let mut resp = see_other("/login");
    resp.headers_mut()
        .append(header::SET_COOKIE, super::clear_session_cookie());
    Ok(resp)
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    c: Chrome,
    name: String,
    phone: String,
    email: String,
    err: FormError,
}

async fn get_register(ctx: Ctx) -> Response {
    render(&RegisterPage {
        c: ctx.chrome(),
        name: String::new(),
        phone: String::new(),
        email: String::new(),
        err: FormError::default(),
    })
}

async fn post_register(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    form: FormData,
) -> Response {
    let r = Registration {
        name: form.get("name"),
        phone: form.get("phone"),
        email: form.get("email"),
        password: form.get("password"),
    };
    match accounts::register(&state, &r, &client).await {
        Ok(user) => {
            let phone: String =
                form_urlencoded::byte_serialize(user.phone.unwrap_or_default().as_bytes())
                    .collect();
            see_other(&format!("/verify-phone?phone={phone}"))
        }
        Err(e) => {
            let mut resp = render(&RegisterPage {
                c: ctx.chrome(),
                name: r.name.to_string(),
                phone: r.phone.to_string(),
                email: r.email.to_string(),
                err: FormError::from(ctx.l, &e),
            });
            *resp.status_mut() = super::form_status(&e);
            resp
        }
    }
}

#[derive(Template)]
#[template(path = "verify_phone.html")]
struct VerifyPage {
    c: Chrome,
    phone: String,
    masked: String,
    resent: bool,
    err: FormError,
}

fn verify_phone_page(ctx: &Ctx, phone: &str, resent: bool, err: FormError) -> Response {
    let masked = songda_core::party::PhoneNumber::parse(phone)
        .map(|p| p.masked())
        .unwrap_or_else(|_| phone.to_string());
    render(&VerifyPage {
        c: ctx.chrome(),
        phone: phone.to_string(),
        masked,
        resent,
        err,
    })
}

async fn get_verify_phone(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    verify_phone_page(
        &ctx,
        q.phone.as_deref().unwrap_or(""),
        false,
        FormError::default(),
    )
}

async fn post_verify_phone(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    form: FormData,
) -> Response {
    let phone = form.get("phone");
    let result = if form.has("resend") {
        accounts::resend_code(&state, phone, &client)
            .await
            .map(|()| true)
    } else {
        accounts::verify_phone(&state, phone, form.get("code"), &client)
            .await
            .map(|()| false)
    };
    match result {
        Ok(true) => verify_phone_page(&ctx, phone, true, FormError::default()),
        Ok(false) => {
            let p: String = form_urlencoded::byte_serialize(phone.as_bytes()).collect();
            see_other(&format!("/login?phone={p}&done=verified"))
        }
        Err(e) => {
            let mut resp = verify_phone_page(&ctx, phone, false, FormError::from(ctx.l, &e));
            *resp.status_mut() = super::form_status(&e);
            resp
        }
    }
}

#[derive(Deserialize)]
struct LangQuery {
    to: Option<String>,
    back: Option<String>,
}

async fn get_lang(Query(q): Query<LangQuery>) -> Response {
    let en = q.to.as_deref() == Some("en");
    let mut resp = see_other(safe_next(q.back.as_deref().unwrap_or("/")));
    let value = format!(
        "{}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        super::LANG_COOKIE,
        if en { "en" } else { "zh" }
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.into_response()
}
