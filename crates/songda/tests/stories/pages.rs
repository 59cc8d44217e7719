//! The HTML side, driven as a browser would drive it: forms posted with the session
//! cookie and the page's CSRF token, redirects read rather than followed, pages checked
//! for what the user must see.

use crate::helpers::*;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, multipart};
use serde_json::{Value, json};
use songda::store::Role;

// ---------------------------------------------------------------------------------------
// A browser: cookies kept, redirects not followed.
// ---------------------------------------------------------------------------------------

struct Browser {
    base: String,
    client: Client,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.url.clone(),
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A browser logged in through the login form.
    async fn logged_in(app: &TestApp, login: &str, password: &str) -> Browser {
        let b = Browser::new(app);
        let r = b
            .post_form("/login", &[("login", login), ("password", password)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {login}");
        b
    }

    async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// The page at `path`, which must answer 200.
    async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
        text
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn post_multipart(&self, path: &str, form: multipart::Form) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The session's CSRF token, from the logout form every page carries.
    async fn csrf(&self) -> String {
        csrf_in(&self.page("/login").await)
    }
}

fn location(r: &Response) -> String {
    r.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location in a {} answer", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Asserts a 303 and returns where it goes.
fn see_other(r: &Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "expected a redirect");
    location(r)
}

/// The answer's status and body.
async fn answer(r: Response) -> (StatusCode, String) {
    let status = r.status();
    (status, r.text().await.unwrap())
}

fn csrf_in(html: &str) -> String {
    let values = input_values(html, "csrf");
    let token = values.first().expect("a csrf field on the page").clone();
    assert!(!token.is_empty(), "the csrf field is empty");
    token
}

/// The values of every `<input name="{name}" value="...">` on a page, in order.
fn input_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" value=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// How many services a page lists.
fn services_listed(html: &str) -> usize {
    html.matches("data-service=\"").count()
}

/// Whether the form field whose label is `for="{id}"` is marked invalid.
fn field_invalid(html: &str, id: &str) -> bool {
    let label = html
        .find(&format!("for=\"{id}\""))
        .unwrap_or_else(|| panic!("no label for {id}"));
    let wrapper = html[..label]
        .rfind("class=\"field")
        .unwrap_or_else(|| panic!("no field around {id}"));
    html[wrapper..].starts_with("class=\"field invalid\"")
}

/// The text between two markers (or to the end).
fn section<'a>(html: &'a str, from: &str, to: Option<&str>) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from} on the page"));
    let rest = &html[start..];
    match to.and_then(|t| rest.find(t)) {
        Some(end) => &rest[..end],
        None => rest,
    }
}

async fn service_status(api: &Api, service_id: &str) -> Value {
    let v = api
        .json_ok(
            api.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    v["status"].clone()
}

async fn serve_api(s: &Served, party_id: &str, doc_id: &str) -> String {
    let v = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    &format!("/cases/{}/services", s.case_id),
                    json!({"party_id": party_id, "document_ids": [doc_id]}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    v["id"].as_str().unwrap().to_string()
}

async fn bind_api(party: &Api, case_number: &str, code: &str) {
    party
        .json_ok(
            party
                .post(
                    "/me/cases",
                    json!({"case_number": case_number, "code": code}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
}

/// A case whose party consented on its filing, its summons served, and the party
/// registered and bound to it: (served, service id, the party's API client).
async fn served_and_bound(app: &TestApp, phone: &str) -> (Served, String, Api) {
    let s = case_with_party(app, phone, Some("filing_address")).await;
    let service_id = serve_api(&s, &s.party_id, &s.doc_id).await;
    let party = app.party("李四", phone).await;
    bind_api(&party, CASE_NUMBER, &s.binding_code).await;
    (s, service_id, party)
}

const PARTY_PASSWORD: &str = "secret-pass";
const STAFF_PASSWORD: &str = "password-123";

// ---------------------------------------------------------------------------------------
// 1. Login.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn logging_in_through_the_form_sets_a_locked_down_session_cookie() {
    let app = TestApp::spawn().await;
    app.party("李四", "13900000002").await;
    let b = Browser::new(&app);

    let r = b
        .post_form(
            "/login",
            &[
                ("login", "13900000002"),
                ("password", PARTY_PASSWORD),
                ("next", "/records"),
            ],
        )
        .await;
    assert_eq!(see_other(&r), "/records");
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("songda_session="))
        .expect("a session cookie");
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attrs[0].len() > "songda_session=".len(), "{cookie}");
    for want in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(attrs.contains(&want), "{want} missing from {cookie}");
    }

    // The cookie is the session: the start page now knows who we are.
    assert_eq!(see_other(&b.get("/").await), "/inbox");
    b.page("/records").await;

    // Logging out clears it.
    let csrf = b.csrf().await;
    let r = b.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(see_other(&r), "/login");
    assert_eq!(see_other(&b.get("/inbox").await), "/login?next=%2Finbox");
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_page_again_with_401_and_no_cookie() {
    let app = TestApp::spawn().await;
    app.party("李四", "13900000002").await;
    let b = Browser::new(&app);

    let r = b
        .post_form(
            "/login",
            &[("login", "13900000002"), ("password", "wrong-pass")],
        )
        .await;
    assert!(
        r.headers().get(SET_COOKIE).is_none(),
        "no cookie on failure"
    );
    let (status, html) = answer(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("账号或密码不正确"), "{html}");
    assert!(
        html.contains("id=\"login-submit\""),
        "the form is shown again"
    );
    assert!(html.contains("value=\"13900000002\""), "the login is kept");
    assert_eq!(see_other(&b.get("/inbox").await), "/login?next=%2Finbox");
}

#[tokio::test]
async fn after_login_only_local_next_paths_are_followed() {
    let app = TestApp::spawn().await;
    app.party("李四", "13900000002").await;

    for (next, lands) in [
        ("/records", "/records"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ] {
        let b = Browser::new(&app);
        let r = b
            .post_form(
                "/login",
                &[
                    ("login", "13900000002"),
                    ("password", PARTY_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(see_other(&r), lands, "next={next}");
    }

    // The login page does not even carry an off-site `next` into its form.
    let html = Browser::new(&app)
        .page("/login?next=%2F%2Fevil.example")
        .await;
    assert_eq!(input_values(&html, "next"), ["/"]);
}

// ---------------------------------------------------------------------------------------
// 2. Anonymous visitors are sent to the login page, and come back after it.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn anonymous_visitors_are_sent_to_log_in_and_brought_back() {
    let app = TestApp::spawn().await;
    let (_s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let b = Browser::new(&app);

    assert_eq!(see_other(&b.get("/").await), "/login?next=%2F");
    assert_eq!(see_other(&b.get("/inbox").await), "/login?next=%2Finbox");
    assert_eq!(see_other(&b.get("/cases").await), "/login?next=%2Fcases");
    assert_eq!(
        see_other(&b.get(&format!("/services/{service_id}")).await),
        format!("/login?next=%2Fservices%2F{service_id}")
    );

    let r = b
        .post_form(
            "/login",
            &[
                ("login", "13900000002"),
                ("password", PARTY_PASSWORD),
                ("next", &format!("/services/{service_id}")),
            ],
        )
        .await;
    assert_eq!(see_other(&r), format!("/services/{service_id}"));
    let html = b.page(&format!("/services/{service_id}")).await;
    assert!(html.contains("民事传票"), "{html}");
}

// ---------------------------------------------------------------------------------------
// 3. CSRF.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let party = app.party("李四", "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    // Binding a case.
    for csrf in [None, Some("wrong"), Some("")] {
        let mut fields = vec![("case_number", CASE_NUMBER), ("code", &s.binding_code)];
        if let Some(c) = csrf {
            fields.push(("csrf", c));
        }
        let (status, html) = answer(b.post_form("/bind", &fields).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert!(html.contains("页面已过期"), "{html}");
    }
    let mine = party
        .json_ok(party.get("/me/cases").await, StatusCode::OK)
        .await;
    assert_eq!(mine["items"], json!([]), "not bound behind a 403");

    // With the token the same form works: the token was all that was missing.
    let csrf = b.csrf().await;
    let r = b
        .post_form(
            "/bind",
            &[
                ("csrf", &csrf),
                ("case_number", CASE_NUMBER),
                ("code", &s.binding_code),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Creating a case and uploading a document, as a clerk.
    let clerk = Browser::logged_in(&app, "clerk", STAFF_PASSWORD).await;
    let r = clerk
        .post_form(
            "/cases",
            &[
                ("case_number", "(2026)京0105民初2号"),
                ("title", "王五诉赵六借款合同纠纷"),
                ("csrf", "0000"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = clerk
        .post_form(
            "/cases",
            &[
                ("case_number", "(2026)京0105民初2号"),
                ("title", "王五诉赵六借款合同纠纷"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let cases = s
        .clerk
        .json_ok(s.clerk.get("/cases").await, StatusCode::OK)
        .await;
    assert_eq!(cases["items"].as_array().unwrap().len(), 1, "{cases}");

    let form = multipart::Form::new()
        .text("title", "民事裁定书")
        .text("doc_type", "ruling")
        .part(
            "file",
            multipart::Part::bytes(pdf("民事裁定书"))
                .file_name("ruling.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = clerk
        .post_multipart(&format!("/cases/{}/documents", s.case_id), form)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let case = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/cases/{}", s.case_id)).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(case["documents"].as_array().unwrap().len(), 1, "{case}");
}

#[tokio::test]
async fn the_sign_form_needs_the_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    let (s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;
    let action = format!("/services/{service_id}/sign");

    for fields in [
        vec![("confirm", "1")],
        vec![("confirm", "1"), ("csrf", "not-the-token")],
    ] {
        let (status, html) = answer(b.post_form(&action, &fields).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(html.contains("页面已过期"), "{html}");
        assert_eq!(service_status(&s.clerk, &service_id).await, "pending");
    }
    let csrf = b.csrf().await;
    let r = b
        .post_form(&action, &[("confirm", "1"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(service_status(&s.clerk, &service_id).await, "signed");
}

#[tokio::test]
async fn the_json_api_used_with_the_session_cookie_needs_the_csrf_header_to_sign() {
    let app = TestApp::spawn().await;
    let (s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    // Reading is fine with the cookie alone; changing state needs the header.
    let me = b.get("/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK, "GET by cookie works");
    let sign = format!("{}/api/v1/services/{service_id}/sign", b.base);
    let r = b
        .client
        .post(&sign)
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "csrf").await;
    let r = b
        .client
        .post(&sign)
        .header("X-CSRF-Token", "not-the-token")
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "csrf").await;
    assert_eq!(service_status(&s.clerk, &service_id).await, "pending");

    let csrf = b.csrf().await;
    let r = b
        .client
        .post(&sign)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    let v = s.clerk.json_ok(r, StatusCode::OK).await;
    assert_eq!(v["status"], "signed");
    assert_eq!(service_status(&s.clerk, &service_id).await, "signed");
}

// ---------------------------------------------------------------------------------------
// 4. Registration and phone verification.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_bad_phone_number_shows_the_registration_form_again_with_the_field_marked() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    b.page("/register").await;

    let (status, html) = answer(
        b.post_form(
            "/register",
            &[
                ("name", "李四"),
                ("phone", "12345"),
                ("email", "lisi@example.com"),
                ("password", PARTY_PASSWORD),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_invalid(&html, "phone"), "{html}");
    assert!(!field_invalid(&html, "name"), "only the phone is at fault");
    assert!(html.contains("手机号码填写有误"), "{html}");
    assert!(html.contains("value=\"李四\""), "what was typed is kept");
    assert!(app.sms().is_empty(), "no code sent");
}

#[tokio::test]
async fn registering_through_the_pages_verifies_the_phone_with_the_sms_code() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let phone = "13900000007";

    let r = b
        .post_form(
            "/register",
            &[
                ("name", "王五"),
                ("phone", phone),
                ("email", ""),
                ("password", PARTY_PASSWORD),
            ],
        )
        .await;
    let verify = see_other(&r);
    assert_eq!(verify, format!("/verify-phone?phone={phone}"));
    let html = b.page(&verify).await;
    assert!(
        html.contains("139****0007"),
        "the phone is shown masked: {html}"
    );
    let code = six_digits(&app.last_sms(phone).await);

    // A wrong code is refused, and the form comes back.
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (status, html) = answer(
        b.post_form("/verify-phone", &[("phone", phone), ("code", &wrong)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("验证码或绑定码不正确"), "{html}");
    assert!(html.contains("id=\"verify-submit\""));

    // Before verifying, login sends the user back to verify.
    let r = b
        .post_form("/login", &[("login", phone), ("password", PARTY_PASSWORD)])
        .await;
    assert_eq!(see_other(&r), format!("/verify-phone?phone={phone}"));

    let r = b
        .post_form("/verify-phone", &[("phone", phone), ("code", &code)])
        .await;
    let login = see_other(&r);
    assert!(login.starts_with("/login?"), "{login}");
    assert!(login.contains("done=verified"), "{login}");
    let html = b.page(&login).await;
    assert!(html.contains("手机号码已验证"), "{html}");

    let r = b
        .post_form("/login", &[("login", phone), ("password", PARTY_PASSWORD)])
        .await;
    assert_eq!(see_other(&r), "/");
    assert_eq!(see_other(&b.get("/").await), "/inbox");
}

// ---------------------------------------------------------------------------------------
// 5. The party's pages.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn binding_through_the_form_leads_to_the_consent_page_which_needs_the_tick() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    app.party("李四", "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    let csrf = csrf_in(&b.page("/bind").await);
    let r = b
        .post_form(
            "/bind",
            &[
                ("csrf", &csrf),
                ("case_number", "（2026）京0105民初12345号"),
                ("code", &s.binding_code),
            ],
        )
        .await;
    let consent = see_other(&r);
    assert_eq!(
        consent,
        format!("/my/cases/{}/consent?done=bound", s.case_id)
    );
    let html = b.page(&consent).await;
    assert!(html.contains("案件已绑定"), "{html}");
    assert!(html.contains("尚未确认送达地址"), "{html}");

    // Without the acknowledgement: the form again, with the error, and nothing recorded.
    let action = format!("/my/cases/{}/consent", s.case_id);
    let (status, html) = answer(
        b.post_form(
            &action,
            &[
                ("csrf", &csrf),
                ("channels", "sms"),
                ("channels", "email"),
                ("email", "lisi@example.com"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(
        html.contains("check boxed invalid"),
        "the tick is marked: {html}"
    );
    assert!(html.contains("id=\"consent-submit\""));
    expect_error(
        s.serve().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "consent_required",
    )
    .await;

    // With it: to the inbox of that case, and the court may now serve.
    let r = b
        .post_form(
            &action,
            &[
                ("csrf", &csrf),
                ("channels", "sms"),
                ("email", "lisi@example.com"),
                ("acknowledged", "1"),
            ],
        )
        .await;
    let inbox = see_other(&r);
    assert!(inbox.starts_with("/inbox"), "{inbox}");
    assert!(inbox.contains("done=consent"), "{inbox}");
    let html = b.page(&inbox).await;
    assert!(html.contains("送达地址已确认"), "{html}");
    let service_id = serve_api(&s, &s.party_id, &s.doc_id).await;
    let html = b.page("/inbox").await;
    assert_eq!(services_listed(&html), 1);
    assert!(html.contains(&format!("data-service=\"{service_id}\"")));
}

const CASE_NUMBER_2: &str = "(2026)京0105民初12346号";

/// One party with four services over two cases: (clerk side, second case id, service ids
/// in order summons 1, complaint copy (signed), notice, summons 2).
async fn four_services(app: &TestApp, phone: &str) -> (Served, String, [String; 4]) {
    let s = case_with_party(app, phone, Some("filing_address")).await;
    let upload = |case: String, title: &'static str, doc_type: &'static str| {
        let clerk = &s.clerk;
        async move {
            let v = clerk
                .json_ok(
                    clerk.upload(&case, title, doc_type, pdf(title)).await,
                    StatusCode::CREATED,
                )
                .await;
            v["id"].as_str().unwrap().to_string()
        }
    };
    let complaint = upload(s.case_id.clone(), "起诉状副本", "complaint_copy").await;
    let notice = upload(s.case_id.clone(), "举证通知书", "notice").await;

    let case2 = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    "/cases",
                    json!({"case_number": CASE_NUMBER_2, "title": "王五诉李四借款合同纠纷"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let case2 = case2["id"].as_str().unwrap().to_string();
    let party2 = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    &format!("/cases/{case2}/parties"),
                    json!({"name": "李四", "role": "defendant", "phone": phone, "consent_basis": "filing_address"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let party2 = party2["id"].as_str().unwrap().to_string();
    let code2 = binding_code(&app.last_sms(phone).await);
    let summons2 = upload(case2.clone(), "开庭传票", "summons").await;

    let svc1 = serve_api(&s, &s.party_id, &s.doc_id).await;
    let svc2 = serve_api(&s, &s.party_id, &complaint).await;
    let svc3 = serve_api(&s, &s.party_id, &notice).await;
    let svc4 = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    &format!("/cases/{case2}/services"),
                    json!({"party_id": party2, "document_ids": [summons2]}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let svc4 = svc4["id"].as_str().unwrap().to_string();

    let party = app.party("李四", phone).await;
    bind_api(&party, CASE_NUMBER, &s.binding_code).await;
    bind_api(&party, CASE_NUMBER_2, &code2).await;
    party
        .json_ok(
            party
                .post(&format!("/services/{svc2}/sign"), json!({"confirm": true}))
                .await,
            StatusCode::OK,
        )
        .await;
    (s, case2, [svc1, svc2, svc3, svc4])
}

#[tokio::test]
async fn the_inbox_shows_pending_documents_first_and_filters_by_status_type_case_and_words() {
    let app = TestApp::spawn().await;
    let (s, case2, [svc1, svc2, svc3, svc4]) = four_services(&app, "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    let listed = |html: &str| -> Vec<String> {
        let mut ids: Vec<String> = [&svc1, &svc2, &svc3, &svc4]
            .iter()
            .filter(|id| html.contains(&format!("data-service=\"{id}\"")))
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        ids
    };
    let want = |ids: &[&String]| -> Vec<String> {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };

    // Pending is the default tab.
    let html = b.page("/inbox").await;
    assert_eq!(services_listed(&html), 3, "{html}");
    assert_eq!(listed(&html), want(&[&svc1, &svc3, &svc4]));
    let tabs = section(&html, "class=\"tabs\"", Some("</nav>"));
    let current = section(tabs, "aria-current", Some("</a>"));
    assert!(
        current.contains("待签收"),
        "pending is the current tab: {tabs}"
    );

    let cases: [(&str, &[&String]); 9] = [
        ("/inbox?status=pending", &[&svc1, &svc3, &svc4]),
        ("/inbox?status=all", &[&svc1, &svc2, &svc3, &svc4]),
        ("/inbox?status=signed", &[&svc2]),
        ("/inbox?status=refused", &[]),
        ("/inbox?doc_type=summons", &[&svc1, &svc4]),
        ("/inbox?status=all&doc_type=complaint_copy", &[&svc2]),
        ("/inbox?q=传票", &[&svc1, &svc4]),
        ("/inbox?status=all&q=起诉状", &[&svc2]),
        (
            "/inbox?status=all&doc_type=&case_id=&q=",
            &[&svc1, &svc2, &svc3, &svc4],
        ),
    ];
    for (url, ids) in cases {
        let html = b.page(url).await;
        assert_eq!(services_listed(&html), ids.len(), "{url}");
        assert_eq!(listed(&html), want(ids), "{url}");
    }
    let html = b.page(&format!("/inbox?case_id={case2}")).await;
    assert_eq!(listed(&html), want(&[&svc4]), "case 2");
    let html = b
        .page(&format!("/inbox?status=all&case_id={}", s.case_id))
        .await;
    assert_eq!(listed(&html), want(&[&svc1, &svc2, &svc3]), "case 1");
    let html = b
        .page(&format!("/inbox?case_id={}&doc_type=summons", s.case_id))
        .await;
    assert_eq!(listed(&html), want(&[&svc1]), "case 1 summons");
    let html = b.page("/inbox?q=%E4%BC%A0%E7%A5%A8").await;
    assert_eq!(listed(&html), want(&[&svc1, &svc4]), "percent-encoded 传票");

    // The signature records list only what was signed or refused.
    let html = b.page("/records").await;
    assert!(html.contains(&format!("/services/{svc2}/record")), "{html}");
    assert!(
        !html.contains(&format!("/services/{svc1}/record")),
        "{html}"
    );
}

#[tokio::test]
async fn another_partys_service_page_is_a_404_page() {
    let app = TestApp::spawn().await;
    let (_s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    app.party("王五", "13900000003").await;
    let stranger = Browser::logged_in(&app, "13900000003", PARTY_PASSWORD).await;

    for path in [
        format!("/services/{service_id}"),
        format!("/services/{service_id}/sign"),
        format!("/services/{service_id}/refuse"),
        format!("/services/{service_id}/record"),
    ] {
        let r = stranger.get(&path).await;
        assert!(
            r.headers().get(LOCATION).is_none(),
            "{path}: not a redirect"
        );
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        let (status, html) = answer(r).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(html.contains("页面不存在"), "{path}: {html}");
        assert!(!html.contains("民事传票"), "{path}: nothing of it shows");
    }
    let r = stranger
        .post_form(
            &format!("/services/{service_id}/sign"),
            &[("csrf", &stranger.csrf().await), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signing_through_the_confirmation_page_leads_to_the_service_record() {
    let app = TestApp::spawn().await;
    let (s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    let html = b.page(&format!("/services/{service_id}")).await;
    assert!(html.contains("id=\"sign-link\""), "{html}");
    let html = b.page(&format!("/services/{service_id}/sign")).await;
    assert!(html.contains("id=\"sign-confirm\""), "{html}");
    let csrf = csrf_in(&html);
    assert_eq!(input_values(&html, "confirm"), ["1"]);

    let r = b
        .post_form(
            &format!("/services/{service_id}/sign"),
            &[("csrf", &csrf), ("confirm", "1")],
        )
        .await;
    let record = see_other(&r);
    assert_eq!(record, format!("/services/{service_id}/record?done=signed"));
    let html = b.page(&record).await;
    assert!(html.contains("签收成功"), "{html}");
    let sig = section(&html, "id=\"record-signature\"", Some("</td>"));
    assert!(sig.contains("电子签收"), "{sig}");
    assert!(sig.contains("李四"), "{sig}");
    assert_eq!(service_status(&s.clerk, &service_id).await, "signed");

    // Signed: no more sign or refuse buttons.
    let html = b.page(&format!("/services/{service_id}")).await;
    assert!(!html.contains("id=\"sign-link\""), "{html}");
}

#[tokio::test]
async fn refusing_without_a_reason_shows_the_refusal_page_again_with_400() {
    let app = TestApp::spawn().await;
    let (s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let b = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;

    let html = b.page(&format!("/services/{service_id}/refuse")).await;
    let csrf = csrf_in(&html);
    let (status, html) = answer(
        b.post_form(
            &format!("/services/{service_id}/refuse"),
            &[("csrf", &csrf), ("note", "")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("拒收理由填写有误"), "{html}");
    assert!(
        html.contains("id=\"refuse-confirm\""),
        "the form is shown again"
    );
    assert!(html.contains("class=\"field invalid\""), "{html}");
    assert_eq!(service_status(&s.clerk, &service_id).await, "pending");

    let r = b
        .post_form(
            &format!("/services/{service_id}/refuse"),
            &[("csrf", &csrf), ("reason", "not_addressee"), ("note", "")],
        )
        .await;
    assert_eq!(
        see_other(&r),
        format!("/services/{service_id}/record?done=refused")
    );
    assert_eq!(service_status(&s.clerk, &service_id).await, "refused");
}

// ---------------------------------------------------------------------------------------
// 6. The clerk's pages.
// ---------------------------------------------------------------------------------------

/// The id in `/cases/{id}?...`.
fn case_id_of(location: &str) -> String {
    let rest = location.strip_prefix("/cases/").expect(location);
    rest[..rest.find(['?', '#']).unwrap_or(rest.len())].to_string()
}

#[tokio::test]
async fn a_clerk_creates_a_case_adds_parties_uploads_and_serves_only_where_the_law_allows() {
    let app = TestApp::spawn().await;
    app.clerk().await;
    let b = Browser::logged_in(&app, "clerk", STAFF_PASSWORD).await;
    let csrf = csrf_in(&b.page("/cases").await);

    // A bad case number: the form again, the field marked.
    let (status, html) = answer(
        b.post_form(
            "/cases",
            &[
                ("csrf", &csrf),
                ("case_number", "2026-1"),
                ("title", "张三诉李四买卖合同纠纷"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("案号填写有误"), "{html}");
    assert!(field_invalid(&html, "case_number"), "{html}");
    assert!(!field_invalid(&html, "title"));
    assert!(html.contains("value=\"张三诉李四买卖合同纠纷\""), "kept");

    let r = b
        .post_form(
            "/cases",
            &[
                ("csrf", &csrf),
                ("case_number", CASE_NUMBER),
                ("title", "张三诉李四买卖合同纠纷"),
            ],
        )
        .await;
    let to = see_other(&r);
    assert!(to.ends_with("?done=created"), "{to}");
    let case_id = case_id_of(&to);
    let html = b.page(&to).await;
    assert!(html.contains("案件已创建"), "{html}");
    assert!(b.page("/cases").await.contains(CASE_NUMBER));

    // Two parties: one whose filing gave consent, one who has not consented.
    for (name, role, phone, basis) in [
        ("李四", "defendant", "13900000002", "filing_address"),
        ("王五", "third_party", "13900000003", ""),
    ] {
        let r = b
            .post_form(
                &format!("/cases/{case_id}/parties"),
                &[
                    ("csrf", &csrf),
                    ("name", name),
                    ("role", role),
                    ("phone", phone),
                    ("email", ""),
                    ("consent_basis", basis),
                ],
            )
            .await;
        let to = see_other(&r);
        assert!(to.contains("done=party"), "{name}: {to}");
    }
    assert!(app.last_sms("13900000003").await.contains("绑定码为"));

    let form = multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("title", "民事传票")
        .text("doc_type", "summons")
        .part(
            "file",
            multipart::Part::bytes(pdf("民事传票"))
                .file_name("summons.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = b
        .post_multipart(&format!("/cases/{case_id}/documents"), form)
        .await;
    let to = see_other(&r);
    assert!(to.contains("done=uploaded"), "{to}");

    // The policy check before serving.
    let html = b.page(&format!("/cases/{case_id}")).await;
    let serve_form = section(&html, "id=\"serve-form\"", Some("</form>"));
    let docs = input_values(serve_form, "document_ids");
    let parties = input_values(serve_form, "party_ids");
    assert_eq!((docs.len(), parties.len()), (1, 2), "{serve_form}");
    let mut fields = vec![("csrf", csrf.as_str()), ("document_ids", docs[0].as_str())];
    fields.extend(parties.iter().map(|p| ("party_ids", p.as_str())));
    let (status, html) = answer(
        b.post_form(&format!("/cases/{case_id}/serve"), &fields)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let preview = section(&html, "id=\"preview\"", Some("</ul>"));
    let line = |name: &str| {
        preview
            .split("<li>")
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not in the preview: {preview}"))
            .to_string()
    };
    let lisi = line("李四");
    let wangwu = line("王五");
    assert!(lisi.contains("可以电子送达"), "{lisi}");
    assert!(!lisi.contains("不能电子送达"), "{lisi}");
    assert!(wangwu.contains("不能电子送达"), "{wangwu}");
    assert!(wangwu.contains("第九十条"), "the rule is named: {wangwu}");
    let confirm_form = section(&html, "id=\"serve-confirm-form\"", Some("</form>"));
    assert_eq!(input_values(confirm_form, "party_ids").len(), 1);

    // Confirming serves the permitted party only.
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), csrf_in(confirm_form)),
        ("confirm".into(), "1".into()),
    ];
    for name in ["document_ids", "party_ids"] {
        for v in input_values(confirm_form, name) {
            fields.push((name.into(), v));
        }
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = b
        .post_form(&format!("/cases/{case_id}/serve"), &fields)
        .await;
    let to = see_other(&r);
    assert!(to.contains("done=served"), "{to}");
    let html = b.page(&format!("/cases/{case_id}")).await;
    assert_eq!(services_listed(&html), 1, "one service on the board");
    let board = section(&html, "id=\"board\"", Some("id=\"serve\""));
    assert!(board.contains("李四") && !board.contains("王五"), "{board}");
    assert!(
        app.last_sms("13900000002").await.contains("民事传票"),
        "李四 is told"
    );

    // Another court's clerk does not find the case.
    app.staff(Role::Clerk, "clerk2", Some("上海市浦东新区人民法院"))
        .await;
    let other = Browser::logged_in(&app, "clerk2", STAFF_PASSWORD).await;
    let r = other.get(&format!("/cases/{case_id}")).await;
    assert!(r.headers().get(LOCATION).is_none());
    let (status, html) = answer(r).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("页面不存在"), "{html}");
    assert!(!html.contains("张三诉李四买卖合同纠纷"), "{html}");
    let list = other.page("/cases").await;
    assert!(list.contains("没有案件"), "{list}");
    assert!(!list.contains(&format!("/cases/{case_id}")), "{list}");
}

#[tokio::test]
async fn uploading_a_file_that_is_not_a_pdf_through_the_form_answers_415() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let b = Browser::logged_in(&app, "clerk", STAFF_PASSWORD).await;
    let csrf = csrf_in(&b.page(&format!("/cases/{}", s.case_id)).await);

    let form = multipart::Form::new()
        .text("csrf", csrf)
        .text("title", "起诉状副本")
        .text("doc_type", "complaint_copy")
        .part(
            "file",
            multipart::Part::bytes(b"this is plain text, not a PDF".to_vec())
                .file_name("complaint.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let (status, html) = answer(
        b.post_multipart(&format!("/cases/{}/documents", s.case_id), form)
            .await,
    )
    .await;
    assert!(html.contains("只能上传 PDF"), "{html}");
    assert!(html.contains("id=\"upload-form\""), "the case page again");
    let case = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/cases/{}", s.case_id)).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        case["documents"].as_array().unwrap().len(),
        1,
        "nothing added"
    );
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

// ---------------------------------------------------------------------------------------
// 7. The admin's outbox.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_admin_outbox_masks_codes_in_the_log_but_shows_the_development_sms_inbox() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    app.party("李四", "13900000002").await;
    let phone_code = app
        .sms()
        .iter()
        .rev()
        .find(|(_, t)| t.contains("验证码为"))
        .map(|(_, t)| six_digits(t))
        .expect("a phone code SMS");
    app.staff(Role::Admin, "admin", None).await;
    let admin = Browser::logged_in(&app, "admin", STAFF_PASSWORD).await;

    let html = admin.page("/admin/outbox").await;
    let sink = section(&html, "id=\"sink\"", Some("id=\"outbox-table\""));
    let log = section(&html, "id=\"outbox-table\"", None);
    assert!(sink.contains(&format!("验证码为{phone_code}")), "{sink}");
    assert!(
        sink.contains(&format!("绑定码为{}", s.binding_code)),
        "{sink}"
    );
    assert!(
        log.contains("手机验证码") && log.contains("案件绑定码"),
        "{log}"
    );
    assert!(log.contains("验证码为••••••"), "{log}");
    assert!(
        !log.contains(&phone_code),
        "the phone code is masked: {log}"
    );
    assert!(!log.contains(&s.binding_code), "the binding code is masked");

    // Nobody else sees it.
    let party = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;
    let clerk = Browser::logged_in(&app, "clerk", STAFF_PASSWORD).await;
    for (who, b) in [("party", party), ("clerk", clerk)] {
        let (status, html) = answer(b.get("/admin/outbox").await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(html.contains("无权访问"), "{who}: {html}");
        assert!(!html.contains(&phone_code), "{who}: {html}");
    }
    assert_eq!(
        see_other(&Browser::new(&app).get("/admin/outbox").await),
        "/login?next=%2Fadmin%2Foutbox"
    );
}

// ---------------------------------------------------------------------------------------
// 8. Language.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_language_switch_sets_a_cookie_and_comes_back_only_to_local_pages() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);

    let html = b.page("/login").await;
    assert!(html.contains("<html lang=\"zh-CN\""), "Chinese first");
    assert!(html.contains("登录"));

    let r = b.get("/lang?to=en&back=/login").await;
    assert_eq!(see_other(&r), "/login");
    let cookies: Vec<String> = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("songda_lang=en;")),
        "{cookies:?}"
    );
    let html = b.page("/login").await;
    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains("Log in"), "{html}");
    assert!(!html.contains("账号或密码"), "no Chinese form text");

    // Errors speak English too.
    let (status, html) = answer(
        b.post_form("/login", &[("login", "nobody"), ("password", "wrong-pass")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Wrong login or password"), "{html}");

    let r = b.get("/lang?to=zh&back=%2Flogin").await;
    assert_eq!(see_other(&r), "/login");
    let html = b.page("/login").await;
    assert!(html.contains("<html lang=\"zh-CN\""), "{html}");
    assert!(html.contains("登录"));

    for back in [
        "https://evil.example",
        "//evil.example",
        "https%3A%2F%2Fevil.example%2Flogin",
        "%2F%2Fevil.example",
    ] {
        let r = b.get(&format!("/lang?to=en&back={back}")).await;
        assert_eq!(see_other(&r), "/", "back={back}");
    }
}

// ---------------------------------------------------------------------------------------
// 9. Every page renders, for phones, in a declared language.
// ---------------------------------------------------------------------------------------

fn assert_page_basics(path: &str, html: &str) {
    assert!(html.starts_with("<!doctype html>"), "{path}");
    assert!(
        html.contains("<meta name=\"viewport\""),
        "{path}: no viewport"
    );
    assert!(html.contains("<html lang=\"zh-CN\""), "{path}: no lang");
    assert!(html.contains("</html>"), "{path}: cut short");
}

#[tokio::test]
async fn every_page_a_party_or_clerk_can_reach_renders_with_viewport_and_language() {
    let app = TestApp::spawn().await;
    let (s, service_id, _party) = served_and_bound(&app, "13900000002").await;
    let anon = Browser::new(&app);
    let party = Browser::logged_in(&app, "13900000002", PARTY_PASSWORD).await;
    let clerk = Browser::logged_in(&app, "clerk", STAFF_PASSWORD).await;
    app.staff(Role::Admin, "admin", None).await;
    let admin = Browser::logged_in(&app, "admin", STAFF_PASSWORD).await;
    let (case, svc) = (&s.case_id, &service_id);

    let anon_pages = [
        "/login".to_string(),
        "/login?next=%2Finbox".into(),
        "/register".into(),
        "/verify-phone?phone=13900000009".into(),
        "/verify".into(),
    ];
    let party_pages = [
        "/inbox".to_string(),
        "/inbox?status=all".into(),
        "/inbox?status=signed".into(),
        format!("/inbox?case_id={case}&doc_type=summons&q=传票"),
        "/records".into(),
        "/bind".into(),
        format!("/bind?case_number={CASE_NUMBER}"),
        format!("/my/cases/{case}/consent"),
        format!("/services/{svc}"),
        format!("/services/{svc}/sign"),
        format!("/services/{svc}/refuse"),
        format!("/services/{svc}/record"),
    ];
    let clerk_pages = [
        "/cases".to_string(),
        "/cases?q=12345".into(),
        format!("/cases/{case}"),
        format!("/services/{svc}"),
        format!("/services/{svc}/record"),
    ];
    let admin_pages = ["/admin/outbox".to_string()];

    let mut seen = 0;
    for (b, pages) in [
        (&anon, &anon_pages[..]),
        (&party, &party_pages[..]),
        (&clerk, &clerk_pages[..]),
        (&admin, &admin_pages[..]),
    ] {
        for path in pages {
            let r = b.get(path).await;
            let ct = r
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let (status, html) = answer(r).await;
            assert_eq!(status, StatusCode::OK, "{path}: {html}");
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
            assert_page_basics(path, &html);
            seen += 1;
        }
    }
    assert_eq!(seen, 23);

    // The error page is a page too.
    let (status, html) = answer(party.get("/services/not-an-id").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_page_basics("/services/not-an-id", &html);
}

#[tokio::test]
async fn an_admin_adds_a_clerk_and_fixes_a_court_to_the_old_regime_through_the_pages() {
    let app = TestApp::spawn().await;
    app.staff(Role::Admin, "root", None).await;
    let admin = Browser::logged_in(&app, "root", "password-123").await;
    let csrf = admin.csrf().await;

    // A clerk without a court is refused, naming the field; with one, the court is created.
    let (status, html) = answer(
        admin
            .post_form(
                "/admin/staff",
                &[
                    ("csrf", &csrf),
                    ("role", "clerk"),
                    ("name", "赵书记员"),
                    ("login", "zhao"),
                    ("password", "password-123"),
                    ("court", ""),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_invalid(&html, "s-court"), "{html}");
    let r = admin
        .post_form(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("role", "clerk"),
                ("name", "赵书记员"),
                ("login", "zhao"),
                ("password", "password-123"),
                ("court", "上海市浦东新区人民法院"),
            ],
        )
        .await;
    assert_eq!(see_other(&r), "/admin/courts?done=staff");
    let page = admin.page("/admin/courts").await;
    assert!(
        page.contains("上海市浦东新区人民法院") && page.contains("zhao"),
        "{page}"
    );
    let (status, _) = answer(
        admin
            .post_form(
                "/admin/staff",
                &[
                    ("csrf", &csrf),
                    ("role", "clerk"),
                    ("name", "又一个"),
                    ("login", "zhao"),
                    ("password", "password-123"),
                    ("court", "上海市浦东新区人民法院"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a login is taken once");

    // The court is fixed to CPL2017-A87: the new clerk cannot serve a judgment there.
    let (status, _) = answer(
        admin
            .post_form(
                "/admin/courts/regime",
                &[
                    ("csrf", &csrf),
                    ("court", "上海市浦东新区人民法院"),
                    ("regime", "CPL1999"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let r = admin
        .post_form(
            "/admin/courts/regime",
            &[
                ("csrf", &csrf),
                ("court", "上海市浦东新区人民法院"),
                ("regime", "CPL2017-A87"),
            ],
        )
        .await;
    assert_eq!(see_other(&r), "/admin/courts?done=saved");
    assert!(
        admin
            .page("/admin/courts")
            .await
            .contains("value=\"CPL2017-A87\" selected")
    );

    let clerk = app.login("zhao", "password-123").await;
    let err = expect_error(
        serve_new_case(
            &clerk,
            "(2026)沪0115民初8号",
            "13900000009",
            "民事判决书",
            "judgment",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "policy_refused",
    )
    .await;
    assert_eq!(err["regime"], "CPL2017-A87");

    // Other roles do not reach these pages.
    let clerk_page = Browser::logged_in(&app, "zhao", "password-123").await;
    assert_eq!(
        clerk_page.get("/admin/courts").await.status(),
        StatusCode::FORBIDDEN
    );
}
