//! SMS to a real SMS centre: the smpp34 simulator server (PyPI) behind `smsc.py`, which
//! reassembles and decodes what it receives with Python's own codecs and sends delivery
//! receipts back over the session.

use crate::backends::free_port;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SMSC: &str = include_str!("smsc.py");
const GATEWAY: &str = include_str!("sms_gateway.py");

/// A test peer: a Python script serving on a port and writing what it saw as JSON lines.
pub struct Peer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Peer {
    fn start(script: &str, port: u16, args: &[&str]) -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("python3")
            .args(["-c", script, &port.to_string()])
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the test peer did not start; is smpp34 installed (python3 -m pip install smpp34)?"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Peer { child, port, dir }
    }

    fn lines(&self, file: &str) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join(file))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMS centre: the smpp34 simulator server behind `smsc.py`.
pub struct Smsc(Peer);

impl Smsc {
    pub fn start(args: &[&str]) -> Smsc {
        Self::start_on(free_port(), args)
    }

    pub fn start_on(port: u16, args: &[&str]) -> Smsc {
        Smsc(Peer::start(SMSC, port, args))
    }

    pub fn url(&self) -> String {
        format!(
            "smpp://songda:secret@127.0.0.1:{}?source=12368",
            self.0.port
        )
    }

    /// Whole messages, reassembled and decoded: {to, text, parts, ids}.
    pub fn messages(&self) -> Vec<Value> {
        self.0.lines("messages.jsonl")
    }

    /// Every submit_sm: {to, from, data_coding, esm_class, status, id}.
    pub fn submits(&self) -> Vec<Value> {
        self.0.lines("submits.jsonl")
    }

    /// Every receipt sent and what the ESME answered: {id, stat, answer}.
    pub fn receipts(&self) -> Vec<Value> {
        self.0.lines("receipts.jsonl")
    }

    pub fn binds(&self) -> Vec<Value> {
        self.0.lines("binds.jsonl")
    }
}

/// Waits until `check` holds, draining the outbox meanwhile, for up to 30 s.
pub async fn until(app: &TestApp, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        app.drain().await;
        if check() {
            return;
        }
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An app whose SMS go to `smsc`, with the worker's receipt recorder running.
async fn app_on(url: String) -> TestApp {
    let app = TestApp::spawn_with(|s| s.sms_url = Some(url)).await;
    tokio::spawn(songda::jobs::receipts::run(app.state.clone()));
    app
}

/// A served case whose party (phone `phone`) gets a binding code and a notice by SMS.
async fn serve(app: &TestApp, phone: &str) -> (Api, String) {
    let clerk = app.clerk().await;
    let svc = clerk
        .json_ok(
            serve_new_case(&clerk, CASE_NUMBER, phone, "民事判决书", "judgment").await,
            StatusCode::CREATED,
        )
        .await;
    (clerk, svc["id"].as_str().unwrap().to_string())
}

async fn events(clerk: &Api, service: &str) -> Vec<Value> {
    let cert = clerk.certificate(service).await;
    cert["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn chinese_notices_reach_a_real_smsc_long_ones_in_parts_and_receipts_become_evidence() {
    let smsc = Smsc::start(&[]);
    let app = app_on(smsc.url()).await;
    let phone = "13800138001";
    let (clerk, service) = serve(&app, phone).await;
    until(&app, "two messages at the SMSC", || {
        smsc.messages().len() == 2
    })
    .await;

    // What arrived is exactly what the outbox rendered, in Chinese, from the court's number.
    let sent = app.state.store.recent_notifications(10).await.unwrap();
    for m in smsc.messages() {
        assert_eq!(m["to"], phone);
        let text = m["text"].as_str().unwrap();
        let n = sent
            .iter()
            .find(|n| {
                n.channel == "sms"
                    && text.starts_with(&n.body[..n.body.find("{{").unwrap_or(n.body.len())])
            })
            .unwrap_or_else(|| panic!("no outbox message for {text}"));
        assert_eq!(n.status, "sent");
        if n.secret.is_none() && !n.body.contains("{{") {
            assert_eq!(text, n.body);
        }
    }
    let notice = smsc
        .messages()
        .into_iter()
        .find(|m| m["text"].as_str().unwrap().contains("民事判决书"))
        .expect("the service notice");
    let text = notice["text"].as_str().unwrap();
    assert!(text.contains(CASE_NUMBER), "{text}");
    assert!(text.contains(&format!("/services/{service}")), "{text}");
    let parts = notice["parts"].as_u64().unwrap();
    assert!(
        parts >= 2,
        "a notice longer than 70 characters goes in parts: {notice}"
    );
    for s in smsc.submits() {
        assert_eq!(s["from"], "12368");
        assert_eq!(s["data_coding"], 8, "UCS-2");
        assert_eq!(s["status"], "accepted");
    }

    // Each part's receipt is recorded as delivery evidence, with the SMSC's id and words.
    let ids: Vec<String> = notice["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let reports = loop {
        let reports: Vec<Value> = events(&clerk, &service)
            .await
            .into_iter()
            .filter(|e| !e["gateway"]["delivery_report"].is_null())
            .collect();
        if reports.len() == ids.len() {
            break reports;
        }
        assert!(
            Instant::now() < deadline,
            "receipts not recorded: {reports:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut reported: Vec<&str> = reports
        .iter()
        .map(|r| r["gateway"]["message_id"].as_str().unwrap())
        .collect();
    reported.sort();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(reported, expected, "one report per part");
    for r in &reports {
        let id = r["gateway"]["message_id"].as_str().unwrap();
        assert_eq!(r["type"], "ConsignmentNotification");
        assert_eq!(r["channel"], "sms");
        assert_eq!(r["address"], phone);
        assert_eq!(r["gateway"]["delivery_report"]["state"], "DELIVRD");
        assert!(
            r["gateway"]["delivery_report"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("id:{id} ")),
            "{r}"
        );
    }
    // The acceptance evidence names the SMSC's ids too, and every receipt was answered OK.
    let accepted = events(&clerk, &service)
        .await
        .into_iter()
        .find(|e| {
            e["type"] == "ConsignmentNotification" && e["gateway"]["delivery_report"].is_null()
        })
        .unwrap();
    assert_eq!(accepted["gateway"]["message_id"], ids.join(","));
    // Each receipt was answered OK in the end. One that overtook the recording of its
    // message's acceptance was answered "temporary error" (100, ESME_RX_T_APPN) and the
    // SMSC delivered it again.
    let receipts = smsc.receipts();
    for id in smsc.submits().iter().map(|s| s["id"].as_str().unwrap()) {
        let answers: Vec<&Value> = receipts
            .iter()
            .filter(|r| r["id"] == id)
            .map(|r| &r["answer"])
            .collect();
        assert_eq!(answers.last(), Some(&&Value::from(0)), "{id}: {receipts:?}");
        assert!(
            answers[..answers.len() - 1].iter().all(|a| **a == 100),
            "{receipts:?}"
        );
    }
    let n = notices_of(&app, &service).await;
    assert_eq!(n[0].delivery.as_deref(), Some("DELIVRD"));
}

#[tokio::test]
async fn a_throttling_smsc_is_answered_with_backoff_and_each_message_arrives_once() {
    let smsc = Smsc::start(&["--throttle", "4"]);
    let app = app_on(smsc.url()).await;
    let (_clerk, _service) = serve(&app, "13800138002").await;
    until(&app, "two messages at the SMSC", || {
        smsc.messages().len() == 2
    })
    .await;
    let submits = smsc.submits();
    let throttled = submits
        .iter()
        .filter(|s| s["status"] == "throttled")
        .count();
    assert_eq!(throttled, 4, "{submits:#?}");
    // The pauses happened inside the attempts: no message needed a second one, none
    // arrived twice.
    for n in app.state.store.recent_notifications(10).await.unwrap() {
        assert_eq!((n.status.as_str(), n.attempts), ("sent", 1), "{n:?}");
    }
    assert_eq!(smsc.messages().len(), 2);
}

#[tokio::test]
async fn an_undeliverable_number_fails_the_notice_for_good_and_the_clerk_sees_it() {
    let phone = "13800138003";
    let smsc = Smsc::start(&["--undeliverable", phone]);
    let app = app_on(smsc.url()).await;
    let (clerk, service) = serve(&app, phone).await;
    until(&app, "two messages at the SMSC", || {
        smsc.messages().len() == 2
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let failure = loop {
        if let Some(e) = events(&clerk, &service)
            .await
            .into_iter()
            .find(|e| e["type"] == "ConsignmentNotificationFailure")
        {
            break e;
        }
        assert!(Instant::now() < deadline, "no failure recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failure["gateway"]["final"], true);
    assert_eq!(failure["gateway"]["delivery_report"]["state"], "UNDELIV");
    assert!(
        failure["gateway"]["error"]
            .as_str()
            .unwrap()
            .contains("UNDELIV"),
        "{failure}"
    );
    let n = notices_of(&app, &service).await;
    assert_eq!(n[0].status, "failed");
    let case_id = clerk.get(&format!("/services/{service}")).await;
    let case_id = clerk.json_ok(case_id, StatusCode::OK).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let board = clerk_page(&app, &format!("/cases/{case_id}")).await;
    assert!(board.contains("UNDELIV"), "the clerk sees why");
    // A receipt repeated by the SMSC adds nothing.
    let before = events(&clerk, &service).await.len();
    let report = songda::notify::smpp::pdu::Receipt {
        message_id: failure["gateway"]["message_id"].as_str().unwrap().into(),
        state: songda::notify::smpp::pdu::MessageState::Undeliverable,
        error: Some("001".into()),
        done_date: None,
        text: "stat:UNDELIV".into(),
    };
    let again = songda::jobs::receipts::record(&app.state, "smpp", &report)
        .await
        .unwrap();
    assert_eq!(again, songda::jobs::receipts::Recorded::Repeated);
    // Nor does a later report of another state: the first final one stands.
    for state in [
        songda::notify::smpp::pdu::MessageState::Enroute,
        songda::notify::smpp::pdu::MessageState::Delivered,
    ] {
        let late = songda::notify::smpp::pdu::Receipt {
            state,
            ..report.clone()
        };
        let r = songda::jobs::receipts::record(&app.state, "smpp", &late)
            .await
            .unwrap();
        assert_eq!(r, songda::jobs::receipts::Recorded::Repeated);
    }
    assert_eq!(events(&clerk, &service).await.len(), before);
}

#[tokio::test]
async fn an_smsc_down_then_up_then_restarted_gets_every_message_once() {
    let port = free_port();
    let app = app_on(format!(
        "smpp://songda:secret@127.0.0.1:{port}?source=12368"
    ))
    .await;
    let (clerk, service) = serve(&app, "13800138004").await;
    app.drain().await;
    // Down: the attempts fail and are queued for retry, each one evidence.
    let n = app.state.store.recent_notifications(10).await.unwrap();
    assert!(
        n.iter()
            .all(|n| n.status == "queued" && n.last_error.is_some()),
        "{n:?}"
    );
    let failure = events(&clerk, &service)
        .await
        .into_iter()
        .find(|e| e["type"] == "ConsignmentNotificationFailure")
        .expect("the failed attempt is evidence");
    assert_eq!(failure["gateway"]["final"], false);

    // Up: the session binds and the queue empties, each message once.
    let smsc = Smsc::start_on(port, &[]);
    until(&app, "both messages", || smsc.messages().len() == 2).await;
    drop(smsc);

    // Restarted: the session notices, binds again, and later messages arrive.
    let smsc = Smsc::start_on(port, &[]);
    let (_clerk, _service) = serve_second(&app).await;
    until(&app, "the next two messages", || smsc.messages().len() == 2).await;
    assert_eq!(smsc.binds().len(), 1);
    for n in app.state.store.recent_notifications(10).await.unwrap() {
        assert_eq!(n.status, "sent", "{n:?}");
    }
}

async fn serve_second(app: &TestApp) -> (Api, String) {
    let clerk = app.login("clerk", "password-123").await;
    let svc = clerk
        .json_ok(
            serve_new_case(
                &clerk,
                "(2026)京0105民初99999号",
                "13800138005",
                "传票",
                "summons",
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    (clerk, svc["id"].as_str().unwrap().to_string())
}

const SECRET: &str = "a-secret-shared-with-the-gateway";

/// An HTTP SMS gateway: `sms_gateway.py`, which checks our signatures with Python's hmac
/// and posts signed delivery reports back.
struct Gateway(Peer);

impl Gateway {
    fn start(args: &[&str]) -> Gateway {
        let mut all = vec![SECRET];
        all.extend_from_slice(args);
        Gateway(Peer::start(GATEWAY, free_port(), &all))
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/send", self.0.port)
    }

    /// {body: {id, to, text, callback}, verified}
    fn requests(&self) -> Vec<Value> {
        self.0.lines("requests.jsonl")
    }

    /// {message_id, status, answer}
    fn reports(&self) -> Vec<Value> {
        self.0.lines("reports.jsonl")
    }
}

async fn app_with_gateway(gateway: &Gateway) -> TestApp {
    let url = gateway.url();
    TestApp::spawn_with(|s| {
        s.sms_url = Some(url);
        s.sms_secret = Some(SECRET.into());
    })
    .await
}

#[tokio::test]
async fn an_http_gateway_gets_signed_requests_and_its_signed_reports_become_evidence() {
    let gateway = Gateway::start(&[]);
    let app = app_with_gateway(&gateway).await;
    let phone = "13800138006";
    let (clerk, service) = serve(&app, phone).await;
    until(&app, "two requests", || gateway.requests().len() == 2).await;
    for r in gateway.requests() {
        assert_eq!(
            r["verified"], true,
            "the gateway checked our signature: {r}"
        );
        assert_eq!(r["body"]["to"], phone);
        assert_eq!(
            r["body"]["callback"],
            format!("{}/api/v1/sms/reports", app.url)
        );
    }
    let notice = gateway
        .requests()
        .into_iter()
        .find(|r| r["body"]["text"].as_str().unwrap().contains("民事判决书"))
        .unwrap();
    let n = notices_of(&app, &service).await;
    assert_eq!(
        notice["body"]["id"],
        n[0].id.to_string(),
        "the id a gateway deduplicates by"
    );
    assert_eq!(notice["body"]["text"], n[0].body.as_str());

    // The report is recorded as evidence of delivery to the phone.
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        if let Some(e) = events(&clerk, &service)
            .await
            .into_iter()
            .find(|e| !e["gateway"]["delivery_report"].is_null())
        {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "no report recorded: {:?}",
            gateway.reports()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(report["type"], "ConsignmentNotification");
    assert_eq!(report["gateway"]["delivery_report"]["gateway"], "http");
    assert_eq!(report["gateway"]["delivery_report"]["state"], "DELIVRD");
    let accepted = events(&clerk, &service)
        .await
        .into_iter()
        .find(|e| {
            e["type"] == "ConsignmentNotification" && e["gateway"]["delivery_report"].is_null()
        })
        .unwrap();
    assert_eq!(
        accepted["gateway"]["message_id"],
        report["gateway"]["message_id"]
    );
    assert!(
        accepted["gateway"]["reply"]
            .as_str()
            .unwrap()
            .contains("HTTP 200")
    );
    let answers: Vec<Value> = gateway
        .reports()
        .iter()
        .map(|r| r["answer"].clone())
        .collect();
    assert!(
        answers.iter().all(|a| *a == 200 || *a == 404),
        "{answers:?}"
    );
}

#[tokio::test]
async fn reports_need_the_shared_secret_a_fresh_time_and_a_known_message() {
    let gateway = Gateway::start(&[]);
    let app = app_with_gateway(&gateway).await;
    let url = format!("{}/api/v1/sms/reports", app.url);
    let http = reqwest::Client::new();
    let post = |body: &'static str, ts: i64, secret: &'static str| {
        let sig = songda::notify::sms_http::signature(secret.as_bytes(), ts, body.as_bytes());
        http.post(&url)
            .header("x-songda-timestamp", ts.to_string())
            .header("x-songda-signature", sig)
            .body(body)
            .send()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let good = r#"{"message_id": "g-unknown", "status": "delivered"}"#;
    expect_error(
        post(good, now, "another-secret-of-some-length")
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    expect_error(
        post(good, now - 3600, SECRET).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    expect_error(
        http.post(&url).body(good).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    expect_error(
        post("{\"message_id\": 1", now, SECRET).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "bad_report",
    )
    .await;
    expect_error(
        post(
            r#"{"message_id": "g1", "status": "lost-in-space"}"#,
            now,
            SECRET,
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_report",
    )
    .await;
    expect_error(
        post(good, now, SECRET).await.unwrap(),
        StatusCode::NOT_FOUND,
        "unknown_message",
    )
    .await;

    // Without an HTTP gateway nobody may report.
    let plain = TestApp::spawn().await;
    let r = http
        .post(format!("{}/api/v1/sms/reports", plain.url))
        .body(good)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_gateway_that_is_unavailable_is_retried_and_one_that_refuses_fails_the_notice() {
    let gateway = Gateway::start(&["--unavailable", "2"]);
    let app = app_with_gateway(&gateway).await;
    let (_clerk, _service) = serve(&app, "13800138007").await;
    until(&app, "both messages accepted", || {
        gateway.requests().len() == 4
    })
    .await;
    for n in app.state.store.recent_notifications(10).await.unwrap() {
        assert_eq!((n.status.as_str(), n.attempts), ("sent", 2), "{n:?}");
    }

    let refusing = Gateway::start(&["--refuse"]);
    let app = app_with_gateway(&refusing).await;
    let (clerk, service) = serve(&app, "13800138008").await;
    app.drain().await;
    let n = notices_of(&app, &service).await;
    assert_eq!((n[0].status.as_str(), n[0].attempts), ("failed", 1));
    let failure = events(&clerk, &service)
        .await
        .into_iter()
        .find(|e| e["type"] == "ConsignmentNotificationFailure")
        .unwrap();
    assert_eq!(failure["gateway"]["final"], true);
    assert!(
        failure["gateway"]["error"]
            .as_str()
            .unwrap()
            .contains("400"),
        "{failure}"
    );
}

/// The last SMS the SMSC received for `phone`, after draining the outbox.
async fn last_text(app: &TestApp, smsc: &Smsc, phone: &str, needle: &str) -> String {
    let mut found = None;
    until(app, "the SMS", || {
        found = smsc
            .messages()
            .into_iter()
            .rev()
            .find(|m| m["to"] == phone && m["text"].as_str().unwrap().contains(needle))
            .map(|m| m["text"].as_str().unwrap().to_string());
        found.is_some()
    })
    .await;
    found.unwrap()
}

#[tokio::test]
async fn an_sms_the_carrier_cannot_deliver_is_followed_by_an_email_and_the_clerk_is_alerted() {
    use crate::email::{SmtpServer, body_text, parse_mail};
    let phone = "13800138009";
    let smsc = Smsc::start(&["--undeliverable", phone]);
    let smtp = SmtpServer::start();
    let (sms_url, smtp_url) = (smsc.url(), format!("smtp://127.0.0.1:{}", smtp.port));
    let app = TestApp::spawn_with(|s| {
        s.sms_url = Some(sms_url);
        s.smtp_url = Some(smtp_url);
    })
    .await;
    tokio::spawn(songda::jobs::receipts::run(app.state.clone()));
    let clerk = clerk_with_email(&app, "sun@court.example").await;
    // The court knows the party's email; the party confirms SMS as the only channel.
    let case = new_case(&clerk, CASE_NUMBER, "张三诉李四").await;
    let case_id = case["id"].as_str().unwrap();
    let party = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": "李四", "role": "defendant", "phone": phone, "email": "lisi@example.com"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let binding = binding_code(&last_text(&app, &smsc, phone, "绑定码").await);
    let anon = app.anon();
    let r = anon
        .post("/auth/register", json!({"name": "李四", "phone": phone, "email": "lisi@example.com", "password": "secret-pass"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = six_digits(&last_text(&app, &smsc, phone, "验证码").await);
    let r = anon
        .post("/auth/verify-phone", json!({"phone": phone, "code": code}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me = app.login(phone, "secret-pass").await;
    me.json_ok(
        me.post(
            "/me/cases",
            json!({"case_number": CASE_NUMBER, "code": binding}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    me.json_ok(
        me.post(
            &format!("/me/cases/{case_id}/consent"),
            json!({"channels": ["sms"], "phone": phone, "acknowledged": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let svc = upload_and_serve(&clerk, case_id, &party["id"], "民事判决书", "judgment").await;
    let service = svc["id"].as_str().unwrap();

    // The carrier reports the notice undeliverable: the party is told by email instead,
    // and the clerk gets an alert saying so.
    let mut mails = Vec::new();
    until(&app, "the escalation and the alert", || {
        mails = smtp.messages();
        mails.len() >= 3 // the binding code by email, the notice instead of the SMS, the alert
    })
    .await;
    let to = |m: &&String, who: &str| parse_mail(m)["plain"].is_string() && m.contains(who);
    let notice = mails
        .iter()
        .find(|m| to(m, "lisi@example.com") && body_text(m).contains("查看并签收"))
        .expect("the notice by email");
    assert!(body_text(notice).contains(&format!("/services/{service}")));
    let alert = mails
        .iter()
        .find(|m| to(m, "sun@court.example"))
        .expect("the clerk's alert");
    let alert_text = body_text(alert);
    assert!(
        alert_text.contains("送达提醒发送失败")
            && alert_text.contains(phone)
            && alert_text.contains("UNDELIV")
            && alert_text.contains("已改用电子邮件通知"),
        "{alert_text}"
    );
    assert!(alert_text.contains(&format!("/cases/{case_id}")));

    // The evidence says so, and the clerk's board too.
    let cert = clerk.certificate(service).await;
    let events = cert["events"].as_array().unwrap();
    let failure = events
        .iter()
        .find(|e| e["type"] == "ConsignmentNotificationFailure")
        .unwrap();
    assert_eq!(failure["gateway"]["escalated_to"], "email");
    assert_eq!(failure["gateway"]["purpose"], "new_service");
    assert!(
        events.iter().any(|e| e["type"] == "ConsignmentNotification"
            && e["channel"] == "email"
            && e["gateway"]["purpose"] == "escalation"),
        "{cert}"
    );
    let board = clerk_page_as(&app, "sun", &format!("/cases/{case_id}")).await;
    assert!(board.contains("已改用"), "{board}");
    assert!(board.contains("UNDELIV"));
    // The printable certificate tells the story: the carrier's report, the email instead.
    let r = clerk
        .get(&format!("/services/{service}/certificate.pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, r.bytes().await.unwrap()).unwrap();
    let text = crate::certificate::poppler("pdftotext", &[], &pdf, &["-"]);
    let text: String = text.split_whitespace().collect();
    assert!(text.contains("运营商回执：未送达UNDELIV"), "{text}");
    assert!(text.contains("已改用电子邮件"), "{text}");
    assert!(text.contains("改用此方式通知"), "{text}");
}

#[tokio::test]
async fn after_the_configured_number_of_attempts_a_notice_fails_for_good() {
    let port = free_port();
    let app = TestApp::spawn_with(|s| {
        s.sms_url = Some(format!(
            "smpp://songda:secret@127.0.0.1:{port}?source=12368"
        ));
        s.notify_attempts = 2;
    })
    .await;
    let (clerk, service) = serve(&app, "13800138010").await;
    app.drain().await;
    assert_eq!(notices_of(&app, &service).await[0].status, "queued");
    // The second attempt, due within 3 s, is the last.
    let deadline = Instant::now() + Duration::from_secs(15);
    while notices_of(&app, &service).await[0].status != "failed" {
        assert!(
            Instant::now() < deadline,
            "the notice did not fail for good"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        app.drain().await;
    }
    let failures: Vec<Value> = events(&clerk, &service)
        .await
        .into_iter()
        .filter(|e| e["type"] == "ConsignmentNotificationFailure")
        .collect();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert_eq!(failures[0]["gateway"]["final"], false);
    assert_eq!(failures[1]["gateway"]["final"], true);
    assert_eq!(failures[1]["gateway"]["attempt"], 2);
}
