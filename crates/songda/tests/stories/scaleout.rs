//! Scale-out: many processes on one PostgreSQL and one bucket, and the faults they meet.
//!
//! These stories always run on PostgreSQL and S3 (whatever `SONGDA_TEST_BACKEND` says):
//! they are about those backends.

use crate::backends::{
    Backing, PrivatePostgres, create_bucket, delete_bucket, free_port, s3_endpoint,
};
use crate::helpers::*;
use crate::process::{Server, sms_lines, songda};
use reqwest::StatusCode;
use serde_json::json;
use songda::store::{Location, Store};
use std::collections::HashMap;
use std::process::Output;
use std::time::{Duration, Instant};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_share_one_database_and_bucket_under_concurrent_load() {
    let backing = Backing::scale_out().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("deployment.key");
    let o = songda(&backing)
        .args([
            "user",
            "add",
            "--role",
            "clerk",
            "--name",
            "周书记员",
            "--login",
            "zhou",
            "--password",
            "password-123",
            "--court",
            "北京市朝阳区人民法院",
            "--data-dir",
        ])
        .arg(dir.path().join("cli"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // Two nodes: their own data dirs and SMS files, one database, one bucket, one key.
    let mut nodes = Vec::new();
    for n in 0..2 {
        let data = dir.path().join(format!("node{n}"));
        let sms = dir.path().join(format!("sms{n}.jsonl"));
        let key = key.clone();
        let server = Server::start_with(&data, &sms, &backing, move |c| {
            // The default lease: no process dies here, so a message is never re-claimed
            // however slowly a loaded machine sends it.
            c.env("SONGDA_SECRET_KEY_FILE", &key)
                .env("SONGDA_OUTBOX_LEASE_SECS", "120");
        })
        .await;
        nodes.push((server, sms));
    }

    // A token from one node works on the other: sessions live in the shared database.
    let on_a = nodes[0].0.login("zhou", "password-123").await;
    let on_b = nodes[1].0.api(on_a.token.clone());
    let case = new_case(&on_a, CASE_NUMBER, "张三诉李四").await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let doc = on_b
        .json_ok(
            on_b.upload(&case_id, "民事传票", "summons", pdf("民事传票"))
                .await,
            StatusCode::CREATED,
        )
        .await;

    // Parties added through both nodes at once, then served through both at once.
    const PARTIES: usize = 12;
    const ROUNDS: usize = 4;
    let mut tasks = Vec::new();
    for i in 0..PARTIES {
        let api = if i % 2 == 0 { &on_a } else { &on_b };
        let api = Api {
            base: api.base.clone(),
            token: api.token.clone(),
            client: reqwest::Client::new(),
        };
        let case_id = case_id.clone();
        tasks.push(tokio::spawn(async move {
            let r = api
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": format!("当事人{i}"), "role": "defendant",
                           "phone": format!("139000{i:05}"), "consent_basis": "filing_address"}),
                )
                .await;
            api.json_ok(r, StatusCode::CREATED).await["id"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut parties = Vec::new();
    for t in tasks {
        parties.push(t.await.unwrap());
    }
    let mut tasks = Vec::new();
    for round in 0..ROUNDS {
        for (i, party) in parties.iter().enumerate() {
            let api = if (i + round) % 2 == 0 { &on_a } else { &on_b };
            let api = Api {
                base: api.base.clone(),
                token: api.token.clone(),
                client: reqwest::Client::new(),
            };
            let (case_id, party, doc_id) = (case_id.clone(), party.clone(), doc["id"].clone());
            tasks.push(tokio::spawn(async move {
                let r = api
                    .post(
                        &format!("/cases/{case_id}/services"),
                        json!({"party_id": party, "document_ids": [doc_id]}),
                    )
                    .await;
                api.json_ok(r, StatusCode::CREATED).await["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }));
        }
    }
    let mut services = Vec::new();
    for t in tasks {
        services.push(t.await.unwrap());
    }
    assert_eq!(services.len(), PARTIES * ROUNDS);

    // Nothing lost: every service is there, seen alike from both nodes.
    let list_a = on_a
        .json_ok(
            on_a.get(&format!("/cases/{case_id}/services")).await,
            StatusCode::OK,
        )
        .await;
    let list_b = on_b
        .json_ok(
            on_b.get(&format!("/cases/{case_id}/services")).await,
            StatusCode::OK,
        )
        .await;
    // (The workers are adding delivery events meanwhile, so compare the services, not
    // their event lists.)
    let ids = |list: &serde_json::Value| {
        let mut ids: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut created = services.clone();
    created.sort();
    assert_eq!(ids(&list_a), created);
    assert_eq!(ids(&list_b), created);

    // Nothing doubled: the two workers together send each notice exactly once, and every
    // party's binding code exactly once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let counts = loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let lines: Vec<_> = nodes.iter().flat_map(|(_, sms)| sms_lines(sms)).collect();
        for line in &lines {
            let t = line["text"].as_str().unwrap();
            for s in &services {
                if t.contains(s.as_str()) {
                    *counts.entry(s.clone()).or_default() += 1;
                }
            }
        }
        let binding = lines
            .iter()
            .filter(|l| l["text"].as_str().unwrap().contains("绑定码"))
            .count();
        if counts.len() == services.len() && binding >= PARTIES {
            assert_eq!(binding, PARTIES, "binding codes sent more than once");
            break counts;
        }
        assert!(
            Instant::now() < deadline,
            "notices missing: {} of {}",
            counts.len(),
            services.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        counts.values().all(|&n| n == 1),
        "a notice went out twice: {counts:?}"
    );
    // Both workers took part (claims are shared out, not serialised through one node).
    let busy = nodes
        .iter()
        .filter(|(_, sms)| !sms_lines(sms).is_empty())
        .count();
    eprintln!("notices sent by {busy} of 2 nodes");

    // One evidence log in one total order: numbers 1..=n without gaps, each service's
    // acceptance before its consignment.
    let store = Store::connect(&Location::Postgres(backing.database_url.clone().unwrap()))
        .await
        .unwrap();
    // The SMS sink has a line as soon as the transport took it; its evidence is recorded a
    // moment later, in the transaction that marks it sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = store.all_events().await.unwrap();
        let notified = events
            .iter()
            .filter(|(_, e)| e.event_type.as_str() == "ConsignmentNotification")
            .count();
        if notified >= services.len() || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seqs: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    for s in &services {
        let types: Vec<&str> = events
            .iter()
            .filter(|(_, e)| e.service_id.is_some_and(|id| id.to_string() == *s))
            .map(|(_, e)| e.event_type.as_str())
            .collect();
        assert_eq!(
            &types[..2],
            ["SubmissionAcceptance", "ContentConsignment"],
            "{s}"
        );
        assert_eq!(
            types
                .iter()
                .filter(|t| **t == "ConsignmentNotification")
                .count(),
            1,
            "{s}: {types:?}"
        );
    }
    store.close().await;
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_at_start_is_one_clear_line_and_a_failed_exit() {
    let dead = format!(
        "postgres://songda:secret-pw@127.0.0.1:{}/songda",
        free_port()
    );
    let dir = tempfile::tempdir().unwrap();
    for args in [&["migrate"][..], &["serve", "--listen", "127.0.0.1:0"][..]] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_songda"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env("SONGDA_DATABASE_URL", &dead)
            .env("SONGDA_LOG", "error")
            .output()
            .unwrap();
        let err = text(&o);
        assert!(!o.status.success(), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line, no trace: {err}"
        );
        assert!(err.contains("cannot connect to the database"), "{err}");
        assert!(
            !err.contains("secret-pw"),
            "the password never prints: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_answers_503_changes_nothing_and_recovers_when_it_returns() {
    let pg = PrivatePostgres::start();
    let backing = Backing {
        database_url: Some(pg.url()),
        blob_url: Some(crate::backends::fresh_bucket().await),
    };
    let app = TestApp::spawn_on(backing, |_| {}).await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, CASE_NUMBER, "张三诉李四").await;
    let health = format!("{}/healthz", app.url);
    assert_eq!(
        reqwest::get(&health).await.unwrap().status(),
        StatusCode::OK
    );

    pg.stop_server();
    // A read, a write and the health check: 503 with Retry-After and the machine code.
    let r = clerk
        .get(&format!("/cases/{}", case["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let r = clerk
        .post(
            "/cases",
            json!({"case_number": "(2026)京0105民初2号", "title": "停库时"}),
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    let body = expect_error(r, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed")
    );
    assert_eq!(
        reqwest::get(&health).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The pages say so too, in a page rather than a stack trace.
    let page = reqwest::get(format!("{}/login", app.url)).await.unwrap();
    assert!(page.status().is_success() || page.status() == StatusCode::SERVICE_UNAVAILABLE);

    pg.start_server();
    // The same process recovers by itself once the database is back.
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(&health).await.unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "the app did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let list = clerk
        .json_ok(clerk.get("/cases").await, StatusCode::OK)
        .await;
    let numbers: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_number"].as_str().unwrap())
        .collect();
    // What was written before is there; what was refused during the outage is not.
    assert_eq!(numbers, [CASE_NUMBER]);
    new_case(&clerk, "(2026)京0105民初2号", "恢复后").await;
}

#[tokio::test]
async fn a_bucket_that_refuses_writes_fails_the_upload_clearly_and_no_row_points_at_nothing() {
    let endpoint = s3_endpoint();
    let bucket = format!("songda-{}", uuid::Uuid::new_v4().simple());
    create_bucket(&endpoint, &bucket).await;
    let backing = Backing {
        database_url: Some(crate::backends::fresh_postgres_database().await),
        blob_url: Some(format!(
            "s3://{bucket}?endpoint={endpoint}&region=us-east-1"
        )),
    };
    let app = TestApp::spawn_on(backing.clone(), |_| {}).await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, CASE_NUMBER, "张三诉李四").await;
    let case_id = case["id"].as_str().unwrap();

    // The bucket goes away under the running server.
    delete_bucket(&endpoint, &bucket).await;
    let r = clerk
        .upload(case_id, "民事传票", "summons", pdf("民事传票"))
        .await;
    assert!(r.headers().contains_key("retry-after"));
    let body = expect_error(r, StatusCode::SERVICE_UNAVAILABLE, "blob_store_unavailable").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing was stored")
    );
    let docs = app
        .state
        .store
        .documents_of_case(case_id.parse().unwrap())
        .await
        .unwrap();
    assert!(docs.is_empty(), "a document row without its blob: {docs:?}");
    assert_eq!(
        std::fs::read_dir(app.state.settings.data_dir.join("blobs/tmp"))
            .unwrap()
            .count(),
        0,
        "the temporary upload is cleaned up"
    );

    // A server started on a missing bucket says so at once.
    let dir = tempfile::tempdir().unwrap();
    let o = songda(&backing)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SONGDA_LOG", "error")
        .output()
        .unwrap();
    let err = text(&o);
    assert!(!o.status.success());
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&bucket), "{err}");

    // Once the bucket is back, the same upload works.
    create_bucket(&endpoint, &bucket).await;
    clerk
        .json_ok(
            clerk
                .upload(case_id, "民事传票", "summons", pdf("民事传票"))
                .await,
            StatusCode::CREATED,
        )
        .await;
}

#[tokio::test]
async fn a_large_document_streams_from_either_blob_store_in_small_chunks() {
    use futures_util::StreamExt;
    use sha2::{Digest, Sha256};
    use songda::blob::BlobStore;
    use songda_core::document::Sha256Hex;
    let dir = tempfile::tempdir().unwrap();
    // 24 MiB of varied bytes.
    let data: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha = Sha256Hex::from_bytes(&Sha256::digest(&data).into());
    let bucket = crate::backends::fresh_bucket().await;
    for (name, url) in [("local", None), ("s3", Some(bucket.as_str()))] {
        let blobs = BlobStore::open(&dir.path().join(name), url).unwrap();
        blobs.check().await.unwrap();
        let tmp = blobs.tmp_path();
        std::fs::write(&tmp, &data).unwrap();
        blobs.commit(&tmp, &sha).await.unwrap();
        assert_eq!(blobs.list().await.unwrap(), [sha.to_string()], "{name}");
        // Read back chunk by chunk: never the whole file at once, and byte for byte.
        let mut stream = blobs.stream(&sha).await.unwrap();
        let (mut chunks, mut largest, mut hasher) = (0, 0, Sha256::new());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            chunks += 1;
            largest = largest.max(chunk.len());
            hasher.update(&chunk);
        }
        assert_eq!(
            Sha256Hex::from_bytes(&hasher.finalize().into()),
            sha,
            "{name}"
        );
        assert!(chunks > 16, "{name}: {chunks} chunks");
        assert!(largest <= 4 << 20, "{name}: a chunk of {largest} bytes");
    }
}
