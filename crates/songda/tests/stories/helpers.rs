//! The test harness: a real app on port 0 with a fresh data dir, an API client, and the
//! SMS sink read back as the "phone".

use crate::backends::Backing;
use reqwest::{Client, Response, StatusCode, multipart};
use serde_json::{Value, json};
use songda::app::App;
use songda::config::Settings;
use songda::state::AppState;
use songda::store::{NewUser, Role};
use std::sync::Arc;
use tempfile::TempDir;

pub struct TestApp {
    pub url: String,
    pub state: AppState,
    /// Kept so the data dir lives as long as the app.
    pub _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_on(Backing::for_this_run().await, tweak).await
    }

    /// On given backends, e.g. ones a CLI command has just prepared.
    pub async fn spawn_on(backing: Backing, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::for_tests(dir.path().join("data"));
        backing.apply(&mut settings);
        tweak(&mut settings);
        let app = App::build(settings, Arc::new(songda_core::SystemClock))
            .await
            .expect("app builds");
        let url = app.url();
        let state = app.state.clone();
        tokio::spawn(app.run(false));
        TestApp {
            url,
            state,
            _dir: dir,
        }
    }

    /// Delivers every queued notification, as the worker would.
    pub async fn drain(&self) {
        songda::jobs::outbox::drain(&self.state)
            .await
            .expect("drain");
    }

    /// Every SMS sent so far, as (to, text).
    pub fn sms(&self) -> Vec<(String, String)> {
        let path = &self.state.settings.sms_file;
        let Ok(text) = std::fs::read_to_string(path) else {
            return vec![];
        };
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("sms line is JSON");
                (
                    v["to"].as_str().unwrap().to_string(),
                    v["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The last SMS to `phone`, after draining the queue.
    pub async fn last_sms(&self, phone: &str) -> String {
        self.drain().await;
        self.sms()
            .into_iter()
            .rev()
            .find(|(to, _)| to == phone)
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("no SMS to {phone}"))
    }

    pub fn anon(&self) -> Api {
        Api {
            base: format!("{}/api/v1", self.url),
            token: None,
            client: Client::new(),
        }
    }

    /// A staff account made as `songda user add` would, logged in.
    pub async fn staff(&self, role: Role, login: &str, court: Option<&str>) -> Api {
        let now = self.state.now();
        let court = match court {
            Some(c) => Some(self.state.store.ensure_court(c, now).await.unwrap()),
            None => None,
        };
        let hash = songda::secrets::hash_password("password-123").unwrap();
        self.state
            .store
            .create_user(
                &NewUser {
                    role,
                    name: login,
                    login: Some(login),
                    phone: None,
                    email: None,
                    password_hash: &hash,
                    phone_verified_at: Some(now),
                    court_id: court.map(|c| c.id),
                },
                now,
            )
            .await
            .unwrap();
        self.login(login, "password-123").await
    }

    pub async fn clerk(&self) -> Api {
        self.staff(Role::Clerk, "clerk", Some("北京市朝阳区人民法院"))
            .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Api {
        let r = self
            .anon()
            .post("/auth/login", json!({"login": login, "password": password}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "login {login}");
        let v: Value = r.json().await.unwrap();
        Api {
            token: Some(v["token"].as_str().unwrap().to_string()),
            ..self.anon()
        }
    }

    /// Registers a party, verifies the phone with the code from the SMS sink, logs in.
    pub async fn party(&self, name: &str, phone: &str) -> Api {
        let anon = self.anon();
        let r = anon
            .post(
                "/auth/register",
                json!({"name": name, "phone": phone, "email": format!("{phone}@example.com"), "password": "secret-pass"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let code = six_digits(&self.last_sms(phone).await);
        let r = anon
            .post("/auth/verify-phone", json!({"phone": phone, "code": code}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        self.login(phone, "secret-pass").await
    }
}

/// The 6-digit code in an SMS text.
pub fn six_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(6) {
        if w.iter().all(|c| c.is_ascii_digit()) {
            return w.iter().collect();
        }
    }
    panic!("no code in {text:?}");
}

/// The binding code in a binding SMS: the 10 symbols after 绑定码为.
pub fn binding_code(text: &str) -> String {
    let start = text.find("绑定码为").expect("binding code in SMS") + "绑定码为".len();
    text[start..].chars().take(10).collect()
}

pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub client: Client,
}

impl Api {
    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }
    pub async fn get(&self, path: &str) -> Response {
        self.auth(self.client.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.auth(self.client.post(format!("{}{path}", self.base)).json(&body))
            .send()
            .await
            .unwrap()
    }
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.auth(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
        .send()
        .await
        .unwrap()
    }
    pub async fn delete_path(&self, path: &str) -> Response {
        self.auth(self.client.delete(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap()
    }
    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.auth(self.client.put(format!("{}{path}", self.base)).json(&body))
            .send()
            .await
            .unwrap()
    }
    pub async fn upload(
        &self,
        case_id: &str,
        title: &str,
        doc_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.upload_with(case_id, title, doc_type, bytes, &[]).await
    }
    /// An upload with further form fields, such as `time_limit`.
    pub async fn upload_with(
        &self,
        case_id: &str,
        title: &str,
        doc_type: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = multipart::Form::new()
            .text("title", title.to_string())
            .text("doc_type", doc_type.to_string());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let form = form.part(
            "file",
            multipart::Part::bytes(bytes)
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
        self.auth(
            self.client
                .post(format!("{}/cases/{case_id}/documents", self.base))
                .multipart(form),
        )
        .send()
        .await
        .unwrap()
    }
    /// The JSON certificate of a service.
    pub async fn certificate(&self, service_id: &str) -> Value {
        self.json_ok(
            self.get(&format!("/services/{service_id}/certificate"))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// Signs for receipt of a service, as its recipient.
    pub async fn sign(&self, service_id: &str) -> Value {
        self.json_ok(
            self.post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
            StatusCode::OK,
        )
        .await
    }

    pub async fn json_ok(&self, r: Response, want: StatusCode) -> Value {
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, want, "body: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Asserts an error answer's status and code; returns the error object.
pub async fn expect_error(r: Response, status: StatusCode, code: &str) -> Value {
    let got = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "answer: {v}");
    assert_eq!(v["error"]["code"], code, "answer: {v}");
    v["error"].clone()
}

pub fn pdf(title: &str) -> Vec<u8> {
    songda::pdf::sample_pdf(title, &["第一行", "第二行"])
}

/// A clerk with a case, a party (consent on the basis of its filing) and a document.
pub struct Served {
    pub clerk: Api,
    pub case_id: String,
    pub party_id: String,
    pub doc_id: String,
    pub binding_code: String,
}

impl Served {
    /// The party "李四" registered with `phone` and bound to the case with its code.
    pub async fn bound_party(&self, app: &TestApp, phone: &str) -> Api {
        let party = app.party("李四", phone).await;
        party
            .json_ok(
                party
                    .post(
                        "/me/cases",
                        json!({"case_number": CASE_NUMBER, "code": self.binding_code}),
                    )
                    .await,
                StatusCode::OK,
            )
            .await;
        party
    }

    /// The clerk serves the case's document on its party.
    pub async fn serve(&self) -> Response {
        self.clerk
            .post(
                &format!("/cases/{}/services", self.case_id),
                json!({"party_id": self.party_id, "document_ids": [self.doc_id]}),
            )
            .await
    }
}

pub const CASE_NUMBER: &str = "(2026)京0105民初12345号";

/// Creates a case through the API; returns its JSON.
pub async fn new_case(clerk: &Api, number: &str, title: &str) -> Value {
    clerk
        .json_ok(
            clerk
                .post("/cases", json!({"case_number": number, "title": title}))
                .await,
            StatusCode::CREATED,
        )
        .await
}

pub async fn case_with_party(app: &TestApp, phone: &str, consent_basis: Option<&str>) -> Served {
    let clerk = app.clerk().await;
    let case = new_case(&clerk, CASE_NUMBER, "张三诉李四买卖合同纠纷").await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let mut body =
        json!({"name": "李四", "role": "defendant", "phone": phone, "email": "lisi@example.com"});
    if let Some(b) = consent_basis {
        body["consent_basis"] = json!(b);
    }
    let party = clerk
        .json_ok(
            clerk.post(&format!("/cases/{case_id}/parties"), body).await,
            StatusCode::CREATED,
        )
        .await;
    let doc = clerk
        .json_ok(
            clerk
                .upload(&case_id, "民事传票", "summons", pdf("民事传票"))
                .await,
            StatusCode::CREATED,
        )
        .await;
    let code = binding_code(&app.last_sms(phone).await);
    Served {
        clerk,
        case_id,
        party_id: party["id"].as_str().unwrap().to_string(),
        doc_id: doc["id"].as_str().unwrap().to_string(),
        binding_code: code,
    }
}

/// A clerk's new case with one consenting party and one document of `doc_type`, served:
/// the answer to the serve request.
pub async fn serve_new_case(
    clerk: &Api,
    case_number: &str,
    phone: &str,
    title: &str,
    doc_type: &str,
) -> Response {
    let case = clerk
        .json_ok(
            clerk
                .post(
                    "/cases",
                    json!({"case_number": case_number, "title": "甲诉乙合同纠纷"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let case_id = case["id"].as_str().unwrap();
    let party = clerk
        .json_ok(
            clerk
                .post(&format!("/cases/{case_id}/parties"), json!({"name": "乙", "role": "defendant", "phone": phone, "consent_basis": "prior_agreement"}))
                .await,
            StatusCode::CREATED,
        )
        .await;
    let doc = clerk
        .json_ok(
            clerk.upload(case_id, title, doc_type, pdf(title)).await,
            StatusCode::CREATED,
        )
        .await;
    clerk
        .post(
            &format!("/cases/{case_id}/services"),
            json!({"party_id": party["id"], "document_ids": [doc["id"]]}),
        )
        .await
}

/// A page as the stories' clerk sees it, logged in through the form.
pub async fn clerk_page(app: &TestApp, path: &str) -> String {
    clerk_page_as(app, "clerk", path).await
}

/// A page as the staff member `login` (password-123) sees it.
pub async fn clerk_page_as(app: &TestApp, login: &str, path: &str) -> String {
    page_as(app, login, "password-123", path).await
}

/// A page as the user with this login and password sees it, logged in through the form.
pub async fn page_as(app: &TestApp, login: &str, password: &str, path: &str) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = form_urlencoded::byte_serialize(login.as_bytes()).collect::<String>();
    let r = client
        .post(format!("{}/login", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("login={login}&password={password}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "login: {}", r.status());
    let r = client
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// A clerk whose account has an email address, for alerts; logged in.
pub async fn clerk_with_email(app: &TestApp, email: &str) -> Api {
    songda::actions::staff::create_staff(
        &app.state.store,
        &songda::actions::staff::NewStaff {
            role: "clerk",
            name: "孙书记员",
            login: "sun",
            password: "password-123",
            court: Some("北京市朝阳区人民法院"),
            email: Some(email),
        },
        app.state.now(),
    )
    .await
    .unwrap();
    app.login("sun", "password-123").await
}

/// The notifications about a service, oldest first.
pub async fn notices_of(app: &TestApp, service: &str) -> Vec<songda::store::Notification> {
    app.state
        .store
        .service_notifications(service.parse().unwrap())
        .await
        .unwrap()
}

/// Uploads a document to a case and serves it on `party_id`: the service's JSON.
pub async fn upload_and_serve(
    clerk: &Api,
    case_id: &str,
    party_id: &Value,
    title: &str,
    doc_type: &str,
) -> Value {
    let doc = clerk
        .json_ok(
            clerk.upload(case_id, title, doc_type, pdf(title)).await,
            StatusCode::CREATED,
        )
        .await;
    clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/services"),
                    json!({"party_id": party_id, "document_ids": [doc["id"]]}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await
}
