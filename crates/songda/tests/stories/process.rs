//! The real `songda serve` process: its worker delivers what requests queue, and a
//! `kill -9` in the middle of work leaves the data and the evidence log consistent.

use crate::backends::Backing;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `songda` binary on this run's backends. A short outbox lease, so that on
/// PostgreSQL (where a restart leaves other processes' claims alone) the claims of a killed
/// process come due again within the test.
pub(crate) fn songda(backing: &Backing) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
    backing.apply_to(&mut cmd);
    cmd.env("SONGDA_OUTBOX_LEASE_SECS", "3");
    cmd
}

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) async fn start(data: &Path, sms: &Path, backing: &Backing) -> Server {
        Self::start_with(data, sms, backing, |_| {}).await
    }

    /// With more settings, e.g. the shared key file of a multi-process deployment.
    pub(crate) async fn start_with(
        data: &Path,
        sms: &Path,
        backing: &Backing,
        tweak: impl FnOnce(&mut Command),
    ) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = songda(backing);
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .env("SONGDA_SMS_FILE", sms)
        .env("SONGDA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        tweak(&mut cmd);
        let child = cmd.spawn().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/healthz")).await
                && r.status() == StatusCode::OK
            {
                break;
            }
            assert!(Instant::now() < deadline, "songda serve did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, url }
    }

    pub(crate) fn api(&self, token: Option<String>) -> Api {
        Api {
            base: format!("{}/api/v1", self.url),
            token,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn login(&self, login: &str, password: &str) -> Api {
        let anon = self.api(None);
        let v = anon
            .json_ok(
                anon.post("/auth/login", json!({"login": login, "password": password}))
                    .await,
                StatusCode::OK,
            )
            .await;
        self.api(Some(v["token"].as_str().unwrap().to_string()))
    }

    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds the stories' clerk (sun / password-123, of 北京市朝阳区人民法院) with the CLI, before
/// any server runs on `data`.
pub(crate) fn add_clerk(backing: &Backing, data: &Path) {
    let o = songda(backing)
        .args([
            "user",
            "add",
            "--role",
            "clerk",
            "--name",
            "孙书记员",
            "--login",
            "sun",
        ])
        .args([
            "--password",
            "password-123",
            "--court",
            "北京市朝阳区人民法院",
        ])
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Creates the stories' case; returns its id.
pub(crate) async fn create_case(clerk: &Api) -> String {
    let case = clerk
        .json_ok(
            clerk
                .post(
                    "/cases",
                    json!({"case_number": CASE_NUMBER, "title": "张三诉李四"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    case["id"].as_str().unwrap().to_string()
}

pub(crate) fn sms_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("whole JSON lines only"))
        .collect()
}

pub(crate) async fn wait_for_sms(path: &Path, to: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = sms_lines(path)
            .into_iter()
            .rev()
            .find(|v| v["to"] == to && v["text"].as_str().unwrap().contains(needle))
        {
            return v["text"].as_str().unwrap().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no SMS to {to} containing {needle}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_server_process_delivers_notifications_and_survives_kill_minus_nine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sms = dir.path().join("sms.jsonl");
    let backing = Backing::for_this_run().await;
    add_clerk(&backing, &data);
    let server = Server::start(&data, &sms, &backing).await;
    let clerk = server.login("sun", "password-123").await;
    let case_id = create_case(&clerk).await;

    // The worker inside `serve` delivers without anyone draining the queue.
    let party = clerk
        .json_ok(
            clerk
                .post(&format!("/cases/{case_id}/parties"), json!({"name": "李四", "role": "defendant", "phone": "13900000002", "consent_basis": "filing_address"}))
                .await,
            StatusCode::CREATED,
        )
        .await;
    let binding = wait_for_sms(&sms, "13900000002", "绑定码").await;
    assert!(binding.contains(party["binding_code"].as_str().unwrap()));

    // Work in flight when the process is killed: uploads and services racing a kill -9.
    let doc = clerk
        .json_ok(
            clerk
                .upload(&case_id, "民事传票", "summons", pdf("民事传票"))
                .await,
            StatusCode::CREATED,
        )
        .await;
    // The kill comes as soon as the first service is acknowledged: the others are in
    // flight, some committed and unanswered, some not yet begun.
    let (first_tx, mut first_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = server.api(clerk.token.clone());
        let (case_id, party_id, doc_id) = (case_id.clone(), party["id"].clone(), doc["id"].clone());
        let first_tx = first_tx.clone();
        tasks.push(tokio::spawn(async move {
            let r = c
                .client
                .post(format!("{}/cases/{case_id}/services", c.base))
                .bearer_auth(c.token.unwrap())
                .json(&json!({"party_id": party_id, "document_ids": [doc_id]}))
                .send()
                .await
                .map(|r| r.status());
            let _ = first_tx.send(());
            r
        }));
    }
    tokio::time::timeout(Duration::from_secs(10), first_rx.recv())
        .await
        .expect("a service is answered");
    server.kill9();
    let answered: Vec<_> = futures_join(tasks).await;
    let created = answered
        .iter()
        .filter(|s| matches!(s, Some(s) if *s == StatusCode::CREATED))
        .count();

    // Restarted on the same data: every service that was answered 201 exists, each with
    // its acceptance and consignment evidence, and nothing half-written is visible.
    let server = Server::start(&data, &sms, &backing).await;
    let clerk = server.login("sun", "password-123").await;
    let list = clerk
        .json_ok(
            clerk.get(&format!("/cases/{case_id}/services")).await,
            StatusCode::OK,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    eprintln!(
        "{} services stored, {created} acknowledged before the kill",
        items.len()
    );
    assert!(
        created >= 1 && items.len() >= created,
        "{} stored, {created} acknowledged",
        items.len()
    );
    for s in items {
        let types: Vec<&str> = s["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            &types[..2],
            ["SubmissionAcceptance", "ContentConsignment"],
            "{s}"
        );
        assert_eq!(s["documents"][0]["sha256"], doc["sha256"]);
    }
    // Every stored service's notice reaches the phone after the restart: none was lost.
    for s in items {
        wait_for_sms(&sms, "13900000002", s["id"].as_str().unwrap()).await;
    }
    // The document is intact, byte for byte.
    let service_id = items[0]["id"].as_str().unwrap();
    let r = clerk
        .get(&format!(
            "/services/{service_id}/documents/{}",
            doc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf("民事传票"));
}

/// Waits for every task; a request cut off by the kill counts as unanswered (None).
async fn futures_join(
    tasks: Vec<tokio::task::JoinHandle<Result<StatusCode, reqwest::Error>>>,
) -> Vec<Option<StatusCode>> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.ok().and_then(|r| r.ok()));
    }
    out
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sms = dir.path().join("sms.jsonl");
    let backing = Backing::for_this_run().await;
    let _first = Server::start(&data, &sms, &backing).await;
    let o = songda(&backing)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("SONGDA_LOG", "error")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("another songda server is already using"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
