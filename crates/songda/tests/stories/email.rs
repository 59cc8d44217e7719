//! Email goes over SMTP to a real mail server (aiosmtpd, started here) when
//! `SONGDA_SMTP_URL` is set.

use crate::backends::free_port;
use crate::helpers::*;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A local SMTP server that stores each message as a file in a maildir; killed on drop.
pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
    maildir: tempfile::TempDir,
}

/// A handler that answers every recipient with `reply` (e.g. `550 5.1.1 ...`): a server
/// that refuses, permanently or for now.
const REFUSING_HANDLER: &str = "
class Refuse:
    def __init__(self, reply):
        self.reply = reply

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(' '.join(args))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply
";

impl SmtpServer {
    pub(crate) fn start() -> SmtpServer {
        Self::start_on(free_port())
    }

    /// A server that keeps every message, on `port`.
    fn start_on(port: u16) -> SmtpServer {
        Self::spawn(port, &["-c", "aiosmtpd.handlers.Mailbox"], None)
    }

    /// A server that keeps every message and speaks TLS with `cert` and `key`: STARTTLS, or
    /// from the first byte when `implicit`.
    fn start_tls(cert: &Path, key: &Path, implicit: bool) -> SmtpServer {
        let (c, k) = if implicit {
            ("--smtpscert", "--smtpskey")
        } else {
            ("--tlscert", "--tlskey")
        };
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        Self::spawn(
            free_port(),
            &[c, cert, k, key, "-c", "aiosmtpd.handlers.Mailbox"],
            None,
        )
    }

    /// A server that keeps every message from a client logged in as `court` with password
    /// `p@ss:word` (AUTH PLAIN or LOGIN), only after STARTTLS with `cert` and `key`.
    fn requiring_login(cert: &Path, key: &Path) -> SmtpServer {
        const SERVER: &str = "
import ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

def check(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b'court' \\
        and auth_data.password == b'p@ss:word'
    return AuthResult(success=ok)

tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(sys.argv[3], sys.argv[4])
c = Controller(Mailbox(sys.argv[2]), hostname='127.0.0.1', port=int(sys.argv[1]),
               authenticator=check, auth_required=True, tls_context=tls,
               require_starttls=True)
c.start()
while True:
    time.sleep(3600)
";
        let port = free_port();
        let maildir = Self::maildir();
        let child = Command::new("python3")
            .args(["-c", SERVER, &port.to_string()])
            .arg(maildir.path())
            .args([cert, key])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Self::wait_listening(port);
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// A server that answers every recipient with `reply`.
    fn refusing(reply: &str) -> SmtpServer {
        Self::spawn(
            free_port(),
            &["-c", "songda_refuse.Refuse", reply],
            Some(REFUSING_HANDLER),
        )
    }

    fn spawn(port: u16, handler: &[&str], module: Option<&str>) -> SmtpServer {
        let maildir = Self::maildir();
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        match module {
            Some(source) => {
                std::fs::write(maildir.path().join("songda_refuse.py"), source).unwrap();
                cmd.env("PYTHONPATH", maildir.path()).args(handler);
            }
            None => {
                cmd.args(handler).arg(maildir.path());
            }
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        Self::wait_listening(port);
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    fn wait_listening(port: u16) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start; is it installed (python3 -m pip install aiosmtpd)?"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A maildir for a server to keep messages in.
    fn maildir() -> tempfile::TempDir {
        let maildir = tempfile::tempdir().unwrap();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(maildir.path().join(sub)).unwrap();
        }
        maildir
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.path().join("new"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a message with Python's standard email parser, an implementation that shares
/// nothing with lettre: its content type, decoded subject, and plain and HTML parts.
pub(crate) fn parse_mail(raw: &str) -> serde_json::Value {
    const PARSE: &str = "
import sys, json, email
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
plain, html = m.get_body(('plain',)), m.get_body(('html',))
import hashlib
files = [{'filename': a.get_filename(), 'type': a.get_content_type(),
          'sha256': hashlib.sha256(a.get_payload(decode=True)).hexdigest()}
         for a in m.iter_attachments()]
print(json.dumps({'type': m.get_content_type(), 'subject': str(m['subject']),
    'plain': plain.get_content() if plain else '', 'html': html.get_content() if html else '',
    'attachments': files}))
";
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python could not parse the message");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The plain-text part of a message.
pub(crate) fn body_text(raw: &str) -> String {
    parse_mail(raw)["plain"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn binding_codes_and_service_notices_reach_a_real_smtp_server() {
    let smtp = SmtpServer::start();
    let app =
        TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port))).await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    app.drain().await;

    let mails = smtp.messages();
    assert_eq!(
        mails.len(),
        2,
        "binding code and service notice: {mails:#?}"
    );
    let binding = mails
        .iter()
        .find(|m| body_text(m).contains("案件绑定码"))
        .expect("binding mail");
    assert!(binding.contains("lisi@example.com"));
    assert!(
        body_text(binding).contains(&s.binding_code),
        "the code is filled in at send time"
    );
    let notice = mails
        .iter()
        .find(|m| body_text(m).contains("待签收") || body_text(m).contains("查看并签收"))
        .expect("service mail");
    let text = body_text(notice);
    assert!(
        text.contains(CASE_NUMBER) && text.contains("民事传票"),
        "{text}"
    );
    assert!(text.contains(&format!("/services/{}", svc["id"].as_str().unwrap())));
    assert!(!text.contains("%PDF"), "notices never carry the document");
    // Text and HTML alternatives, the subject in Chinese.
    let parsed = parse_mail(notice);
    assert_eq!(parsed["type"], "multipart/alternative");
    let html = parsed["html"].as_str().unwrap();
    assert!(html.contains(CASE_NUMBER) && html.contains("<p>"), "{html}");
    assert!(
        parsed["subject"]
            .as_str()
            .unwrap()
            .contains("诉讼文书待签收"),
        "{parsed}"
    );

    // The server's acceptance is recorded with the notification, and as evidence.
    let cert = s
        .clerk
        .json_ok(
            s.clerk
                .get(&format!(
                    "/services/{}/certificate",
                    svc["id"].as_str().unwrap()
                ))
                .await,
            StatusCode::OK,
        )
        .await;
    let email = cert["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["channel"] == "email")
        .unwrap()
        .clone();
    assert_eq!(email["status"], "sent");
    assert!(
        email["reference"].as_str().unwrap().starts_with("250"),
        "{email}"
    );
    let evidence = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ConsignmentNotification" && e["channel"] == "email")
        .expect("delivery evidence")
        .clone();
    let message_id = evidence["gateway"]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        notice.contains(&message_id),
        "the Message-ID in evidence is the one sent"
    );
}

#[tokio::test]
async fn a_mail_server_that_is_down_leaves_the_message_queued_for_retry() {
    let port = free_port();
    let app = TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let _s = case_with_party(&app, "13900000002", None).await;
    app.drain().await;
    let outbox = app.state.store.recent_notifications(10).await.unwrap();
    let email = outbox.iter().find(|n| n.channel == "email").unwrap();
    assert_eq!(email.status, "queued", "retried later, not lost");
    assert_eq!(email.attempts, 1);
    assert!(email.last_error.is_some());
    let sms = outbox.iter().find(|n| n.channel == "sms").unwrap();
    assert_eq!(
        sms.status, "sent",
        "one channel's failure does not hold up another"
    );
}

/// The service's notification evidence for one channel, oldest first.
fn notification_events(cert: &serde_json::Value, channel: &str) -> Vec<serde_json::Value> {
    cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["channel"] == channel
                && matches!(
                    e["type"].as_str(),
                    Some("ConsignmentNotification" | "ConsignmentNotificationFailure")
                )
        })
        .cloned()
        .collect()
}

/// Serves a document on a party with an email address, the app's mail going to `port`,
/// and makes the first attempt; returns the app, the case, the service id and the one
/// notification event of the email channel, which must be a failure.
async fn first_email_attempt(port: u16) -> (TestApp, Served, String, serde_json::Value) {
    let app = TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    app.drain().await;
    let cert = s.clerk.certificate(&id).await;
    let mut events = notification_events(&cert, "email");
    assert_eq!(events.len(), 1, "{events:#?}");
    let failed = events.remove(0);
    assert_eq!(failed["type"], "ConsignmentNotificationFailure", "{failed}");
    (app, s, id, failed)
}

#[tokio::test]
async fn each_attempt_is_evidence_and_a_server_down_then_up_gets_the_notice_exactly_once() {
    let port = free_port();
    let (app, s, id, failed) = first_email_attempt(port).await;
    // Nobody listens: the first attempt failed, and that is evidence, with the retry time.
    let failed = &failed;
    assert_eq!(failed["gateway"]["attempt"], 1);
    assert_eq!(failed["gateway"]["final"], false);
    assert!(failed["gateway"]["retry_at"].is_string(), "{failed}");
    assert!(failed["gateway"]["error"].is_string(), "{failed}");
    assert_eq!(failed["address"], "lisi@example.com");
    // The printable certificate says the attempt was not the end of it.
    let r = s
        .clerk
        .get(&format!("/services/{id}/certificate.pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, r.bytes().await.unwrap()).unwrap();
    let text = crate::certificate::poppler("pdftotext", &[], &pdf, &["-"]);
    assert!(text.contains("将重试"), "{text}");

    // The server comes up; the retry (due within 3 s) delivers the notice once.
    let smtp = SmtpServer::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    let service_mail = |smtp: &SmtpServer| {
        smtp.messages()
            .into_iter()
            .filter(|m| body_text(m).contains("查看并签收"))
            .count()
    };
    while service_mail(&smtp) == 0 {
        assert!(Instant::now() < deadline, "the notice was never retried");
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.drain().await;
    }
    // Draining on finds nothing more to send: exactly once.
    tokio::time::sleep(Duration::from_secs(4)).await;
    app.drain().await;
    assert_eq!(service_mail(&smtp), 1);
    let cert = s.clerk.certificate(&id).await;
    let events = notification_events(&cert, "email");
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["ConsignmentNotificationFailure", "ConsignmentNotification"]
    );
    assert_eq!(events[1]["gateway"]["attempt"], 2);
    assert!(
        events[1]["gateway"]["reply"]
            .as_str()
            .unwrap()
            .starts_with("250"),
        "{}",
        events[1]
    );
    // The certificate, failed attempt included, verifies.
    let report = songda::verify::verify(&serde_json::to_vec(&cert).unwrap(), &[], None).unwrap();
    assert!(report.valid, "{}", report.to_text());
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_with_the_servers_words_as_evidence_and_a_temporary_one_is_retried()
 {
    for (reply, permanent) in [
        ("550 5.1.1 <lisi@example.com>: mailbox unavailable", true),
        ("451 4.3.0 try again later", false),
    ] {
        let smtp = SmtpServer::refusing(reply);
        let (app, s, id, failed) = first_email_attempt(smtp.port).await;
        let failed = &failed;
        assert_eq!(failed["gateway"]["final"], permanent, "{reply}: {failed}");
        let error = failed["gateway"]["error"].as_str().unwrap();
        let code = &reply[..3];
        assert!(
            error.contains(code),
            "{reply}: the reply code is kept: {error}"
        );
        let outbox = app
            .state
            .store
            .service_notifications(id.parse().unwrap())
            .await
            .unwrap();
        let email = outbox.iter().find(|n| n.channel == "email").unwrap();
        assert_eq!(
            email.status,
            if permanent { "failed" } else { "queued" },
            "{reply}"
        );
        // The SMS is not held up by the mail server.
        let sms = outbox.iter().find(|n| n.channel == "sms").unwrap();
        assert_eq!(sms.status, "sent");

        // The clerk's board says so, per recipient and channel, with the server's words.
        let board = clerk_page(&app, &format!("/cases/{}", s.case_id)).await;
        if permanent {
            assert!(board.contains("邮件 失败"), "{board}");
            assert!(
                board.contains("通知发送失败：email → lisi@example.com"),
                "{board}"
            );
            assert!(board.contains("mailbox unavailable"), "{board}");
        } else {
            assert!(board.contains("邮件 重试中"), "{board}");
        }
    }
}

/// A private CA and a certificate for `localhost` and 127.0.0.1 it issued, as a court's own
/// relay would have; (dir, CA certificate, server certificate, server key).
fn private_ca() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = |words: &str, more: &[&str]| crate::tsa::openssl_words(d, words, more);
    openssl(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
        &["-subj", "/CN=Court Mail Test CA"],
    );
    openssl(
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mail.key -out mail.csr",
        &["-subj", "/CN=localhost"],
    );
    std::fs::write(
        d.join("mail.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        "x509 -req -in mail.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile mail.ext -out mail.crt",
        &[],
    );
    let (ca, cert, key) = (d.join("ca.crt"), d.join("mail.crt"), d.join("mail.key"));
    (dir, ca, cert, key)
}

#[tokio::test]
async fn mail_goes_over_starttls_or_implicit_tls_to_a_relay_with_a_private_ca_and_not_without_it() {
    let (_dir, ca, cert, key) = private_ca();
    for implicit in [false, true] {
        let smtp = SmtpServer::start_tls(&cert, &key, implicit);
        let url = if implicit {
            format!("smtps://localhost:{}", smtp.port)
        } else {
            format!("smtp://localhost:{}?tls=starttls", smtp.port)
        };
        // Trusting the court's CA: the binding code arrives, over TLS.
        let app = TestApp::spawn_with(|s| {
            s.smtp_url = Some(url.clone());
            s.smtp_ca_file = Some(ca.clone());
        })
        .await;
        let s = case_with_party(&app, "13900000002", None).await;
        app.drain().await;
        let mails = smtp.messages();
        assert_eq!(mails.len(), 1, "{url}: {mails:#?}");
        assert!(body_text(&mails[0]).contains(&s.binding_code), "{url}");
        drop(app);

        // Without it the server's certificate is unknown: nothing is sent in clear, the
        // message waits with the reason.
        let app = TestApp::spawn_with(|s| s.smtp_url = Some(url.clone())).await;
        let _s = case_with_party(&app, "13900000003", None).await;
        app.drain().await;
        assert_eq!(smtp.messages().len(), 1, "{url}: nothing more arrived");
        let outbox = app.state.store.recent_notifications(10).await.unwrap();
        let email = outbox.iter().find(|n| n.channel == "email").unwrap();
        assert_ne!(email.status, "sent", "{url}");
        let error = email
            .last_error
            .as_deref()
            .unwrap_or_default()
            .to_lowercase();
        assert!(
            error.contains("certificate") || error.contains("tls"),
            "{url}: {error}"
        );
    }
}

#[tokio::test]
async fn a_relay_that_requires_a_login_gets_the_percent_encoded_credentials_over_tls() {
    let (_dir, ca, cert, key) = private_ca();
    let smtp = SmtpServer::requiring_login(&cert, &key);
    let url = format!(
        "smtp://court:p%40ss%3Aword@localhost:{}?tls=starttls",
        smtp.port
    );
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(url);
        s.smtp_ca_file = Some(ca);
    })
    .await;
    let s = case_with_party(&app, "13900000002", None).await;
    app.drain().await;
    let outbox = app.state.store.recent_notifications(10).await.unwrap();
    let email = outbox.iter().find(|n| n.channel == "email").unwrap();
    assert_eq!(email.status, "sent", "{:?}", email.last_error);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert!(body_text(&mails[0]).contains(&s.binding_code));
}

/// A handler that keeps every message like the Mailbox but takes `delay` seconds over each,
/// so that a batch is still being sent when the test kills the worker.
const SLOW_HANDLER: &str = "
import asyncio, sys
from aiosmtpd.handlers import Mailbox

class Slow(Mailbox):
    def __init__(self, delay, maildir):
        super().__init__(maildir)
        self.delay = float(delay)

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)
";

/// The Message-ID header of a raw message.
fn message_id(raw: &str) -> String {
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_string())
        })
        .expect("a Message-ID header")
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_no_message_and_repeats_at_most_the_one_in_flight() {
    use crate::backends::Backing;
    use crate::process::{Server, add_clerk, create_case};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sms = dir.path().join("sms.jsonl");
    let backing = Backing::for_this_run().await;
    add_clerk(&backing, &data);
    let port = free_port();
    let smtp = SmtpServer::slow(port, "0.15");
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let with_smtp = |cmd: &mut std::process::Command| {
        cmd.env("SONGDA_SMTP_URL", &smtp_url);
    };
    let server = Server::start_with(&data, &sms, &backing, with_smtp).await;
    let clerk = server.login("sun", "password-123").await;
    let case_id = create_case(&clerk).await;
    // Twenty parties with an email address: twenty binding-code mails, queued as each is
    // added, sent by the worker one after another at 0.15 s each.
    const PARTIES: usize = 20;
    for i in 0..PARTIES {
        clerk
            .json_ok(
                clerk
                    .post(
                        &format!("/cases/{case_id}/parties"),
                        serde_json::json!({"name": format!("当事人{i}"), "role": "defendant",
                            "phone": format!("1390000{i:04}"), "email": format!("party{i}@example.com")}),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.messages().len() < 3 {
        assert!(Instant::now() < deadline, "the worker sent nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    let before = smtp.messages().len();
    assert!(
        before < PARTIES,
        "killed mid-batch: {before} of {PARTIES} sent"
    );

    // Restarted: every message arrives, and a repeat is at most the one whose acceptance
    // was not yet recorded when the process died.
    let server = Server::start_with(&data, &sms, &backing, with_smtp).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let ids = loop {
        let ids: Vec<String> = smtp.messages().iter().map(|m| message_id(m)).collect();
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() == PARTIES {
            break ids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {PARTIES} arrived",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    let repeats = ids.len() - distinct.len();
    eprintln!("{before} sent before the kill, {repeats} sent twice");
    assert!(
        repeats <= 1,
        "{repeats} repeated: more than the one in flight"
    );
    drop(server);
}

impl SmtpServer {
    /// A Mailbox server that takes `delay` seconds over each message.
    fn slow(port: u16, delay: &str) -> SmtpServer {
        let maildir = Self::maildir();
        std::fs::write(maildir.path().join("songda_slow.py"), SLOW_HANDLER).unwrap();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "songda_slow.Slow", delay])
            .arg(maildir.path())
            .env("PYTHONPATH", maildir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        Self::wait_listening(port);
        SmtpServer {
            child,
            port,
            maildir,
        }
    }
}

#[tokio::test]
async fn a_refusal_reaches_the_clerk_by_email_with_the_reason() {
    let smtp = SmtpServer::start();
    let app =
        TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port))).await;
    let clerk = clerk_with_email(&app, "sun@court.example").await;
    let case = new_case(&clerk, CASE_NUMBER, "张三诉李四").await;
    let case_id = case["id"].as_str().unwrap();
    let phone = "13900000051";
    let party = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    serde_json::json!({"name": "李四", "role": "defendant", "phone": phone, "consent_basis": "filing_address"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let code = binding_code(&app.last_sms(phone).await);
    let svc = upload_and_serve(&clerk, case_id, &party["id"], "民事传票", "summons").await;
    let me = app.party("李四", phone).await;
    me.json_ok(
        me.post(
            "/me/cases",
            serde_json::json!({"case_number": CASE_NUMBER, "code": code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    me.json_ok(
        me.post(
            &format!("/services/{}/refuse", svc["id"].as_str().unwrap()),
            serde_json::json!({"reason": "unreadable", "note": "第3页空白"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.drain().await;
    let alerts: Vec<String> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.contains("sun@court.example"))
        .collect();
    assert_eq!(alerts.len(), 1, "one alert");
    let text = body_text(&alerts[0]);
    assert!(
        text.contains("受送达人拒收")
            && text.contains("文书无法打开或无法阅读")
            && text.contains("第3页空白"),
        "{text}"
    );
    assert!(
        parse_mail(&alerts[0])["subject"]
            .as_str()
            .unwrap()
            .contains(CASE_NUMBER)
    );
}

#[tokio::test]
async fn a_court_that_serves_by_email_sends_the_documents_and_the_evidence_names_them() {
    let smtp = SmtpServer::start();
    let app =
        TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port))).await;
    let (s, id) = served_by_email(&app, "13900000061").await;
    let id = id.as_str();
    let cert = s.clerk.certificate(id).await;
    let sha256 = cert["documents"][0]["sha256"].as_str().unwrap().to_string();

    // The email carries the document, byte for byte, and says it serves.
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| body_text(m).contains("附于本邮件"))
        .expect("the service email");
    let parsed = parse_mail(&mail);
    assert_eq!(parsed["type"], "multipart/mixed");
    let files = parsed["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{parsed}");
    assert_eq!(files[0]["filename"], "民事传票.pdf");
    assert_eq!(files[0]["type"], "application/pdf");
    assert_eq!(files[0]["sha256"], sha256.as_str());
    assert!(body_text(&mail).contains(CASE_NUMBER));

    // The evidence of its acceptance names what was attached.
    let accepted = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ConsignmentNotification" && e["channel"] == "email")
        .unwrap()
        .clone();
    let attached = &accepted["gateway"]["documents_attached"];
    assert_eq!(attached[0]["sha256"], sha256.as_str(), "{accepted}");
    assert_eq!(attached[0]["title"], "民事传票");

    // Both channels completed; the platform's came first and fixed the time. The
    // certificate says so, and its offline check replays it from the events.
    let cert = s.clerk.certificate(id).await;
    let completions = cert["completions"].as_array().unwrap();
    assert_eq!(completions.len(), 2, "{cert}");
    assert_eq!(
        (&completions[0]["channel"], &completions[0]["fixed"]),
        (&serde_json::json!("platform"), &serde_json::json!(true))
    );
    assert_eq!(completions[0]["completed_at"], cert["served_at"]);
    assert_eq!(
        (
            &completions[1]["channel"],
            &completions[1]["counts"],
            &completions[1]["fixed"]
        ),
        (
            &serde_json::json!("email"),
            &serde_json::json!(true),
            &serde_json::json!(false)
        )
    );
    assert_eq!(completions[1]["completed_at"], accepted["at"]);
    assert_eq!(cert["service_rule"], "inbox_deposit_confirmed_address");
    let report = songda::verify::verify(&serde_json::to_vec(&cert).unwrap(), &[], None).unwrap();
    assert!(report.valid, "{}", report.to_text());
    let mut forged = cert.clone();
    forged["completions"][1]["completed_at"] = forged["completions"][0]["completed_at"].clone();
    let report = songda::verify::verify(&serde_json::to_vec(&forged).unwrap(), &[], None).unwrap();
    assert!(!report.valid, "an edited arrival is caught");
    // The printable certificate lists both arrivals.
    let r = s
        .clerk
        .get(&format!("/services/{id}/certificate.pdf"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, r.bytes().await.unwrap()).unwrap();
    let text: String = crate::certificate::poppler("pdftotext", &[], &pdf, &["-"])
        .split_whitespace()
        .collect();
    assert!(text.contains("（最先完成，确定送达时间）"), "{text}");
    assert!(
        text.contains("电子邮件（附文书）由收件服务器接收"),
        "{text}"
    );

    // A court that does not serve by email sends a notice only.
    songda::actions::staff::set_court_email_documents(
        &app.state.store,
        "北京市朝阳区人民法院",
        "off",
    )
    .await
    .unwrap();
    let again = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    app.drain().await;
    let notice = smtp
        .messages()
        .into_iter()
        .find(|m| body_text(m).contains(&format!("/services/{}", again["id"].as_str().unwrap())))
        .unwrap();
    assert!(
        parse_mail(&notice)["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(body_text(&notice).contains("不附带文书内容"));
}

/// A case whose party (`phone`) confirmed an email address (the one in their filing), at a
/// court that serves by email, served and drained: the clerk's case and the service's id.
async fn served_by_email(app: &TestApp, phone: &str) -> (Served, String) {
    let s = case_with_party(app, phone, Some("filing_address")).await;
    songda::actions::staff::set_court_email_documents(
        &app.state.store,
        "北京市朝阳区人民法院",
        "on",
    )
    .await
    .unwrap();
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    app.drain().await;
    (s, svc["id"].as_str().unwrap().to_string())
}

/// A Mailbox that refuses, as too large, any message with attachments.
const NO_ATTACHMENTS_HANDLER: &str = "
from aiosmtpd.handlers import Mailbox

class NoAttachments(Mailbox):
    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        if b'multipart/mixed' in envelope.content:
            return '552 5.3.4 Message size exceeds fixed maximum message size'
        return await super().handle_DATA(server, session, envelope)
";

#[tokio::test]
async fn an_email_too_large_for_the_server_is_followed_by_the_notice_without_documents() {
    let port = free_port();
    let maildir = SmtpServer::maildir();
    std::fs::write(
        maildir.path().join("songda_small.py"),
        NO_ATTACHMENTS_HANDLER,
    )
    .unwrap();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "songda_small.NoAttachments"])
        .arg(maildir.path())
        .env("PYTHONPATH", maildir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    SmtpServer::wait_listening(port);
    let smtp = SmtpServer {
        child,
        port,
        maildir,
    };
    let app = TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (s, id) = served_by_email(&app, "13900000062").await;
    let id = id.as_str();
    // The refusal is kept; the notice that only tells went to the same address.
    let notes = notices_of(&app, id).await;
    let with_documents = notes.iter().find(|n| n.attach_documents).unwrap();
    assert_eq!(with_documents.status, "failed");
    assert!(
        with_documents
            .last_error
            .as_deref()
            .unwrap()
            .contains("552")
    );
    let mails: Vec<String> = smtp
        .messages()
        .into_iter()
        .filter(|m| body_text(m).contains(&format!("/services/{id}")))
        .collect();
    assert_eq!(mails.len(), 1, "the plain notice");
    assert!(body_text(&mails[0]).contains("不附带文书内容"));
    assert!(
        parse_mail(&mails[0])["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // No email arrived with the documents: the certificate lists the platform alone.
    let cert = s.clerk.certificate(id).await;
    assert_eq!(cert["completions"].as_array().unwrap().len(), 1, "{cert}");
}
