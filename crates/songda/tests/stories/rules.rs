//! Bad input gets a clear error and loses nothing.

use crate::helpers::*;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use songda::store::Role;
use std::path::PathBuf;

#[tokio::test]
async fn malformed_json_and_wrong_fields_answer_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    expect_error(
        clerk
            .post_raw("/cases", "application/json", b"{\"case_number\": ".to_vec())
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    let e = expect_error(
        clerk
            .post("/cases", json!({"case_number": 5, "title": "t"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "case_number");
    let e = expect_error(
        clerk
            .post("/cases", json!({"case_number": "(2026)京0105民初1号"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "title");
    let e = expect_error(
        clerk
            .post("/cases", json!({"case_number": "2026-1", "title": "t"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "case_number");
    assert!(e["message"].as_str().unwrap().contains("year"));
}

// ---------------------------------------------------------------------------------------
// Someone else's things are 404, never 403 or a hint.
// ---------------------------------------------------------------------------------------

/// A case with a party that consented on its filing, its summons served: (served, service id).
async fn served_case(app: &TestApp, phone: &str) -> (Served, String) {
    let s = case_with_party(app, phone, Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    (s, id)
}

async fn expect_not_found(r: Response, what: &str) {
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {v}");
    assert_eq!(v["error"]["code"], "not_found", "{what}: {v}");
    assert_eq!(v["error"]["message"], "not found", "{what}: no hint, {v}");
}

#[tokio::test]
async fn a_clerk_of_another_court_finds_nothing_of_ours() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let blobs_before = stored_blobs(&app).await;
    let other = app
        .staff(Role::Clerk, "clerk2", Some("上海市浦东新区人民法院"))
        .await;
    let case = &s.case_id;

    expect_not_found(other.get(&format!("/cases/{case}")).await, "case").await;
    expect_not_found(
        other
            .post(
                &format!("/cases/{case}/parties"),
                json!({"name": "王五", "role": "plaintiff", "phone": "13900000005"}),
            )
            .await,
        "add party",
    )
    .await;
    expect_not_found(
        other
            .upload(case, "民事裁定书", "ruling", pdf("民事裁定书"))
            .await,
        "upload",
    )
    .await;
    expect_not_found(
        other
            .post(
                &format!("/cases/{case}/services"),
                json!({"party_id": s.party_id, "document_ids": [s.doc_id]}),
            )
            .await,
        "serve",
    )
    .await;
    expect_not_found(
        other.get(&format!("/services/{service_id}")).await,
        "service",
    )
    .await;
    expect_not_found(
        other
            .get(&format!("/services/{service_id}/documents/{}", s.doc_id))
            .await,
        "document",
    )
    .await;
    expect_not_found(
        other
            .get(&format!("/services/{service_id}/certificate"))
            .await,
        "certificate",
    )
    .await;
    expect_not_found(
        other
            .post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
        "sign",
    )
    .await;

    // Nothing was added behind the 404s, and the other court's list stays empty.
    let own = s
        .clerk
        .json_ok(s.clerk.get(&format!("/cases/{case}")).await, StatusCode::OK)
        .await;
    assert_eq!(own["parties"].as_array().unwrap().len(), 1);
    assert_eq!(own["documents"].as_array().unwrap().len(), 1);
    let services = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/cases/{case}/services")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(services["items"].as_array().unwrap().len(), 1);
    assert_eq!(stored_blobs(&app).await, blobs_before);
    let theirs = other
        .json_ok(other.get("/cases").await, StatusCode::OK)
        .await;
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test]
async fn a_party_bound_to_nothing_sees_nothing_of_another_partys_service() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let stranger = app.party("王五", "13900000003").await;

    expect_not_found(
        stranger.get(&format!("/services/{service_id}")).await,
        "service",
    )
    .await;
    expect_not_found(
        stranger
            .get(&format!("/services/{service_id}/documents/{}", s.doc_id))
            .await,
        "document",
    )
    .await;
    expect_not_found(
        stranger
            .get(&format!(
                "/services/{service_id}/documents/{}?download=1",
                s.doc_id
            ))
            .await,
        "download",
    )
    .await;
    expect_not_found(
        stranger
            .get(&format!("/services/{service_id}/certificate"))
            .await,
        "certificate",
    )
    .await;
    expect_not_found(
        stranger
            .post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
        "sign",
    )
    .await;
    expect_not_found(
        stranger
            .post(
                &format!("/services/{service_id}/refuse"),
                json!({"reason": "not_addressee"}),
            )
            .await,
        "refuse",
    )
    .await;
    expect_not_found(
        stranger
            .get(&format!("/me/cases/{}/consent", s.case_id))
            .await,
        "consent",
    )
    .await;
    let inbox = stranger
        .json_ok(stranger.get("/me/services").await, StatusCode::OK)
        .await;
    assert_eq!(inbox["items"], json!([]));

    // Still pending and unviewed: the stranger's tries changed nothing.
    let got = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["status"], "pending");
    assert!(
        got["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] != "ContentAccessTracking" && e["type"] != "ContentHandover"),
        "{got}"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let party = app.party("李四", "13900000002").await;
    let unknown = "01900000-0000-7000-8000-000000000000";
    let case = &s.case_id;

    for path in [
        format!("/cases/{unknown}"),
        "/cases/not-an-id".to_string(),
        format!("/cases/{unknown}/documents"),
        "/cases/%27%3B--/parties".to_string(),
        format!("/services/{unknown}"),
        "/services/12345".to_string(),
        format!("/services/{unknown}/certificate"),
        format!("/services/{service_id}/documents/{unknown}"),
        format!("/services/{service_id}/documents/x"),
        format!("/services/{unknown}/documents/{}", s.doc_id),
    ] {
        expect_not_found(s.clerk.get(&path).await, &format!("clerk GET {path}")).await;
    }
    for path in [
        format!("/services/{unknown}"),
        "/services/nope".to_string(),
        format!("/services/{unknown}/certificate"),
    ] {
        expect_not_found(party.get(&path).await, &format!("party GET {path}")).await;
    }
    expect_not_found(
        party
            .post(
                &format!("/services/{unknown}/sign"),
                json!({"confirm": true}),
            )
            .await,
        "sign an unknown service",
    )
    .await;
    expect_not_found(
        party
            .post(
                &format!("/me/cases/{unknown}/consent"),
                json!({"channels": [], "acknowledged": true}),
            )
            .await,
        "consent to an unknown case",
    )
    .await;
    for (what, body) in [
        (
            "unknown party",
            json!({"party_id": unknown, "document_ids": [s.doc_id]}),
        ),
        (
            "malformed party",
            json!({"party_id": "p-1", "document_ids": [s.doc_id]}),
        ),
        (
            "unknown document",
            json!({"party_id": s.party_id, "document_ids": [unknown]}),
        ),
        (
            "malformed document",
            json!({"party_id": s.party_id, "document_ids": [s.doc_id, "../../etc/passwd"]}),
        ),
    ] {
        expect_not_found(
            s.clerk.post(&format!("/cases/{case}/services"), body).await,
            what,
        )
        .await;
    }
    expect_not_found(
        s.clerk
            .post(
                &format!("/cases/{unknown}/services"),
                json!({"party_id": s.party_id, "document_ids": [s.doc_id]}),
            )
            .await,
        "serve in an unknown case",
    )
    .await;
}

#[tokio::test]
async fn a_document_of_another_case_cannot_be_served_in_this_one() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let other_case = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    "/cases",
                    json!({"case_number": "(2026)京0105民初99999号", "title": "王五诉赵六借款合同纠纷"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let other_case = other_case["id"].as_str().unwrap();
    let foreign = s
        .clerk
        .json_ok(
            s.clerk
                .upload(other_case, "民事判决书", "judgment", pdf("民事判决书"))
                .await,
            StatusCode::CREATED,
        )
        .await;
    let foreign = foreign["id"].as_str().unwrap();
    let evidence = app.state.store.evidence_count().await.unwrap();

    for docs in [json!([foreign]), json!([s.doc_id, foreign])] {
        expect_not_found(
            s.clerk
                .post(
                    &format!("/cases/{}/services", s.case_id),
                    json!({"party_id": s.party_id, "document_ids": docs}),
                )
                .await,
            "foreign document",
        )
        .await;
    }
    let services = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/cases/{}/services", s.case_id)).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(services["items"], json!([]));
    assert_eq!(app.state.store.evidence_count().await.unwrap(), evidence);
}

// ---------------------------------------------------------------------------------------
// Uploads.
// ---------------------------------------------------------------------------------------

/// Every file in the blob folder outside `tmp/`, sorted.
async fn stored_blobs(app: &TestApp) -> Vec<String> {
    app.state.blobs.list().await.expect("list blobs")
}

/// Files left in the blob folder's `tmp/`.
fn tmp_files(app: &TestApp) -> Vec<PathBuf> {
    std::fs::read_dir(app.state.settings.data_dir.join("blobs").join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

async fn document_count(api: &Api, case_id: &str) -> usize {
    let v = api
        .json_ok(
            api.get(&format!("/cases/{case_id}/documents")).await,
            StatusCode::OK,
        )
        .await;
    v["items"].as_array().unwrap().len()
}

async fn new_case(clerk: &Api) -> String {
    let case = clerk
        .json_ok(
            clerk
                .post(
                    "/cases",
                    json!({"case_number": CASE_NUMBER, "title": "张三诉李四买卖合同纠纷"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    case["id"].as_str().unwrap().to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn files_that_are_not_pdfs_are_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case_id = new_case(&clerk).await;
    let blobs = stored_blobs(&app).await;
    assert!(blobs.is_empty());

    let whole = pdf("民事传票");
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend_from_slice(b"word/document.xml %PDF-1.7 %%EOF");
    let not_pdfs: [(&str, Vec<u8>); 5] = [
        (
            "an HTML page",
            b"<!DOCTYPE html><html><body>%PDF-1.7 not really</body></html>\n%%EOF".to_vec(),
        ),
        ("a PNG image", png),
        ("a ZIP archive", zip),
        ("a truncated PDF", truncated),
        ("text", b"just some text, no header at all".to_vec()),
    ];
    for (what, bytes) in not_pdfs {
        let e = expect_error(
            clerk.upload(&case_id, "民事传票", "summons", bytes).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_pdf",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("not a usable PDF"),
            "{what}: {e}"
        );
        assert_eq!(stored_blobs(&app).await, blobs, "{what} was stored");
        assert!(tmp_files(&app).is_empty(), "{what} left a temporary file");
    }

    // An empty file is caught before it is inspected: the form's field is at fault.
    let e = expect_error(
        clerk.upload(&case_id, "民事传票", "summons", vec![]).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "file");
    assert!(stored_blobs(&app).await.is_empty());
    assert!(tmp_files(&app).is_empty());
    assert_eq!(document_count(&clerk, &case_id).await, 0);

    // The real thing is still welcome afterwards.
    clerk
        .json_ok(
            clerk.upload(&case_id, "民事传票", "summons", whole).await,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(stored_blobs(&app).await.len(), 1);
    assert!(tmp_files(&app).is_empty());
}

#[tokio::test]
async fn an_upload_over_the_limit_answers_413_and_keeps_nothing() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 64 * 1024).await;
    let clerk = app.clerk().await;
    let case_id = new_case(&clerk).await;

    // Well over (refused on its declared length) and just over (refused while streaming).
    for size in [200 * 1024, 100 * 1024] {
        let mut big = b"%PDF-1.7\n".to_vec();
        big.resize(size, b' ');
        big.extend_from_slice(b"\n%%EOF\n");
        expect_error(
            clerk.upload(&case_id, "民事传票", "summons", big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        )
        .await;
        assert!(
            stored_blobs(&app).await.is_empty(),
            "{size} bytes were stored"
        );
        assert!(tmp_files(&app).is_empty(), "{size} bytes left in tmp/");
        assert_eq!(document_count(&clerk, &case_id).await, 0);
    }

    // Under the limit it goes through.
    let small = pdf("民事传票");
    assert!(small.len() < 64 * 1024);
    clerk
        .json_ok(
            clerk.upload(&case_id, "民事传票", "summons", small).await,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(document_count(&clerk, &case_id).await, 1);
}

#[tokio::test]
async fn the_same_content_uploaded_twice_is_two_documents_over_one_blob() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let blobs = stored_blobs(&app).await.len();
    let bytes = songda::pdf::sample_pdf("民事起诉状副本", &["原告：张三", "被告：李四"]);

    let first = s
        .clerk
        .json_ok(
            s.clerk
                .upload(&s.case_id, "起诉状副本", "complaint_copy", bytes.clone())
                .await,
            StatusCode::CREATED,
        )
        .await;
    let second = s
        .clerk
        .json_ok(
            s.clerk
                .upload(
                    &s.case_id,
                    "起诉状副本（再次上传）",
                    "complaint_copy",
                    bytes.clone(),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], sha256_hex(&bytes).as_str());
    assert_eq!(second["sha256"], first["sha256"]);
    assert_eq!(first["size"], bytes.len());
    assert_eq!(stored_blobs(&app).await.len(), blobs + 1);
    assert!(tmp_files(&app).is_empty());
    // Two rows, beside the summons the case started with.
    assert_eq!(document_count(&s.clerk, &s.case_id).await, 3);

    // Both come back byte for byte.
    let ids = [
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    ];
    let svc = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    &format!("/cases/{}/services", s.case_id),
                    json!({"party_id": s.party_id, "document_ids": ids}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let service_id = svc["id"].as_str().unwrap();
    let party = s.bound_party(&app, "13900000002").await;
    for id in ids {
        let r = party
            .get(&format!("/services/{service_id}/documents/{id}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let got = r.bytes().await.unwrap().to_vec();
        assert_eq!(sha256_hex(&got), sha256_hex(&bytes));
        assert_eq!(got, bytes);
    }
}

// ---------------------------------------------------------------------------------------
// Codes.
// ---------------------------------------------------------------------------------------

/// A code of the same shape as `code` that is certainly not it.
fn other_binding_code(code: &str, n: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let first = code.as_bytes()[0];
    let pos = ALPHABET.iter().position(|&c| c == first).unwrap();
    let swapped = ALPHABET[(pos + 1 + n) % ALPHABET.len()] as char;
    format!("{swapped}{}", &code[1..])
}

#[tokio::test]
async fn wrong_binding_codes_are_counted_and_then_even_the_right_one_waits() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let party = app.party("李四", "13900000002").await;

    for n in 0..5 {
        expect_error(
            party
                .post(
                    "/me/cases",
                    json!({"case_number": CASE_NUMBER, "code": other_binding_code(&s.binding_code, n)}),
                )
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_code",
        )
        .await;
    }
    let r = party
        .post(
            "/me/cases",
            json!({"case_number": CASE_NUMBER, "code": s.binding_code}),
        )
        .await;
    let retry_after: i64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let mine = party
        .json_ok(party.get("/me/cases").await, StatusCode::OK)
        .await;
    assert_eq!(mine["items"], json!([]));
}

#[tokio::test]
async fn a_binding_code_binds_one_account_only() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let first = s.bound_party(&app, "13900000002").await;

    let second = app.party("李四的朋友", "13900000003").await;
    expect_error(
        second
            .post(
                "/me/cases",
                json!({"case_number": CASE_NUMBER, "code": s.binding_code}),
            )
            .await,
        StatusCode::CONFLICT,
        "code_used",
    )
    .await;
    let theirs = second
        .json_ok(second.get("/me/cases").await, StatusCode::OK)
        .await;
    assert_eq!(theirs["items"], json!([]));
    expect_not_found(
        second
            .get(&format!("/me/cases/{}/consent", s.case_id))
            .await,
        "consent of a case bound by someone else",
    )
    .await;
    // The first binding stands, once.
    let mine = first
        .json_ok(first.get("/me/cases").await, StatusCode::OK)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["id"], s.case_id.as_str());
}

fn wrong_six_digits(code: &str, n: u32) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1 + n) % 1_000_000)
}

#[tokio::test]
async fn a_phone_code_locks_after_five_wrong_tries_and_cannot_be_replayed() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    let phone = "13900000004";
    anon.json_ok(
        anon.post(
            "/auth/register",
            json!({"name": "赵六", "phone": phone, "password": "secret-pass"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let code = six_digits(&app.last_sms(phone).await);

    for n in 0..5 {
        expect_error(
            anon.post(
                "/auth/verify-phone",
                json!({"phone": phone, "code": wrong_six_digits(&code, n)}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_code",
        )
        .await;
    }
    expect_error(
        anon.post("/auth/verify-phone", json!({"phone": phone, "code": code}))
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    expect_error(
        anon.post(
            "/auth/login",
            json!({"login": phone, "password": "secret-pass"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "phone_unverified",
    )
    .await;

    // A new code works once; the old one is dead, and the new one cannot be replayed.
    anon.json_ok(
        anon.post("/auth/resend-code", json!({"phone": phone}))
            .await,
        StatusCode::OK,
    )
    .await;
    let fresh = six_digits(&app.last_sms(phone).await);
    if fresh != code {
        expect_error(
            anon.post("/auth/verify-phone", json!({"phone": phone, "code": code}))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_code",
        )
        .await;
    }
    anon.json_ok(
        anon.post("/auth/verify-phone", json!({"phone": phone, "code": fresh}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        anon.post("/auth/verify-phone", json!({"phone": phone, "code": fresh}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_code",
    )
    .await;
    app.login(phone, "secret-pass").await;
}

#[tokio::test]
async fn an_unverified_phone_cannot_log_in() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    anon.json_ok(
        anon.post(
            "/auth/register",
            json!({"name": "赵六", "phone": "13900000004", "password": "secret-pass"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    for login in ["13900000004", "+86 139-0000-0004"] {
        expect_error(
            anon.post(
                "/auth/login",
                json!({"login": login, "password": "secret-pass"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "phone_unverified",
        )
        .await;
    }
    // A wrong password does not learn that the account exists unverified.
    expect_error(
        anon.post(
            "/auth/login",
            json!({"login": "13900000004", "password": "wrong-pass"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn ten_wrong_passwords_lock_that_login_out() {
    let app = TestApp::spawn().await;
    app.clerk().await;
    let anon = app.anon();
    for _ in 0..10 {
        expect_error(
            anon.post(
                "/auth/login",
                json!({"login": "clerk", "password": "not-the-password"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let r = anon
        .post(
            "/auth/login",
            json!({"login": "clerk", "password": "password-123"}),
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    // Only that login: another account on the same address still gets in.
    app.staff(Role::Clerk, "clerk2", Some("北京市朝阳区人民法院"))
        .await;
}

// ---------------------------------------------------------------------------------------
// Authentication and roles.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_valid_token_every_call_is_unauthorized() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let anon = app.anon();
    let forged = Api {
        token: Some("not-a-real-token".into()),
        ..app.anon()
    };
    for api in [&anon, &forged] {
        for path in [
            "/me".to_string(),
            "/cases".to_string(),
            format!("/cases/{}", s.case_id),
            format!("/services/{service_id}"),
            format!("/services/{service_id}/documents/{}", s.doc_id),
            format!("/services/{service_id}/certificate"),
            "/me/services".to_string(),
        ] {
            expect_error(
                api.get(&path).await,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
            .await;
        }
        expect_error(
            api.post(
                "/cases",
                json!({"case_number": "(2026)京0105民初1号", "title": "t"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        expect_error(
            api.post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    }

    // A logged-out token is no token.
    let party = app.party("李四", "13900000002").await;
    let r = party.post("/auth/logout", json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_error(
        party.get("/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_party_cannot_act_as_a_clerk_nor_a_clerk_as_the_recipient() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let party = s.bound_party(&app, "13900000002").await;

    expect_error(
        party
            .post(
                "/cases",
                json!({"case_number": "(2026)京0105民初2号", "title": "李四诉张三"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        party.get(&format!("/cases/{}", s.case_id)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The clerk of the court may see the service, but only the recipient signs or refuses.
    s.clerk
        .json_ok(
            s.clerk.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    expect_error(
        s.clerk
            .post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        s.clerk
            .post(
                &format!("/services/{service_id}/refuse"),
                json!({"reason": "not_addressee"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        s.clerk
            .post(
                "/me/cases",
                json!({"case_number": CASE_NUMBER, "code": s.binding_code}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let got = party
        .json_ok(
            party.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["status"], "pending");
}

#[tokio::test]
async fn signing_needs_an_explicit_confirm() {
    let app = TestApp::spawn().await;
    let (s, service_id) = served_case(&app, "13900000002").await;
    let party = s.bound_party(&app, "13900000002").await;
    let sign = format!("/services/{service_id}/sign");
    for body in [
        json!({"confirm": false}),
        json!({}),
        json!({"confirm": "yes"}),
    ] {
        let e = expect_error(
            party.post(&sign, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(e["field"], "confirm", "{body}");
    }
    let got = party
        .json_ok(
            party.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["status"], "pending");
    assert!(got["signed_at"].is_null(), "{got}");
    party
        .json_ok(
            party.post(&sign, json!({"confirm": true})).await,
            StatusCode::OK,
        )
        .await;
}

#[tokio::test]
async fn confirming_an_address_needs_the_acknowledgement() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let party = s.bound_party(&app, "13900000002").await;
    let consent = format!("/me/cases/{}/consent", s.case_id);
    let evidence = app.state.store.evidence_count().await.unwrap();
    for body in [
        json!({"channels": ["sms"], "acknowledged": false}),
        json!({"channels": ["sms"]}),
    ] {
        let e = expect_error(
            party.post(&consent, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(e["field"], "acknowledged", "{body}");
    }
    assert_eq!(app.state.store.evidence_count().await.unwrap(), evidence);
    // Still no consent: serving is refused as before.
    expect_error(
        s.serve().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "consent_required",
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Policy.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn under_the_old_law_a_judgment_is_refused_with_its_article_and_the_refusal_recorded() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let court = app
        .state
        .store
        .user_by_login("clerk")
        .await
        .unwrap()
        .unwrap()
        .court_id
        .unwrap();
    app.state
        .store
        .set_court_regime(court, Some("CPL2017-A87"))
        .await
        .unwrap();
    let judgment = s
        .clerk
        .json_ok(
            s.clerk
                .upload(&s.case_id, "民事判决书", "judgment", pdf("民事判决书"))
                .await,
            StatusCode::CREATED,
        )
        .await;
    let judgment = judgment["id"].as_str().unwrap();
    let before = app.state.store.evidence_count().await.unwrap();

    let e = expect_error(
        s.clerk
            .post(
                &format!("/cases/{}/services", s.case_id),
                json!({"party_id": s.party_id, "document_ids": [judgment]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "policy_refused",
    )
    .await;
    assert_eq!(e["regime"], "CPL2017-A87", "{e}");
    assert!(e["rule"].as_str().unwrap().contains("第八十七条"), "{e}");
    assert_eq!(e["reason"], "doc_type_excluded", "{e}");
    assert_eq!(app.state.store.evidence_count().await.unwrap(), before + 1);
    let services = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/cases/{}/services", s.case_id)).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(services["items"], json!([]));

    // Mixed with a summons the judgment still spoils the request; alone, the summons goes.
    expect_error(
        s.clerk
            .post(
                &format!("/cases/{}/services", s.case_id),
                json!({"party_id": s.party_id, "document_ids": [s.doc_id, judgment]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "policy_refused",
    )
    .await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    assert_eq!(svc["regime"], "CPL2017-A87");
    assert_eq!(svc["status"], "pending");
}

// ---------------------------------------------------------------------------------------
// Registration.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_phone_number_registers_one_account() {
    let app = TestApp::spawn().await;
    app.party("李四", "13900000002").await;
    let anon = app.anon();
    for phone in ["13900000002", "+86 139 0000 0002"] {
        expect_error(
            anon.post(
                "/auth/register",
                json!({"name": "冒名者", "phone": phone, "password": "another-pass"}),
            )
            .await,
            StatusCode::CONFLICT,
            "phone_taken",
        )
        .await;
    }
    // The account keeps its own password.
    app.login("13900000002", "secret-pass").await;
    expect_error(
        anon.post(
            "/auth/login",
            json!({"login": "13900000002", "password": "another-pass"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn registration_names_the_field_at_fault() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    for (body, field) in [
        (
            json!({"name": "赵六", "phone": "12345", "password": "secret-pass"}),
            "phone",
        ),
        (
            json!({"name": "赵六", "phone": "23900000004", "password": "secret-pass"}),
            "phone",
        ),
        (
            json!({"name": "赵六", "phone": "13900000004", "password": "short"}),
            "password",
        ),
        (
            json!({"name": "赵六", "phone": "13900000004", "password": "1234567"}),
            "password",
        ),
        (
            json!({"name": "", "phone": "13900000004", "password": "secret-pass"}),
            "name",
        ),
    ] {
        let e = expect_error(
            anon.post("/auth/register", body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(e["field"], field, "{body}");
    }
    // None of them made an account or sent a code.
    app.drain().await;
    assert!(app.sms().is_empty(), "{:?}", app.sms());
    assert!(
        app.state
            .store
            .user_by_phone("13900000004")
            .await
            .unwrap()
            .is_none()
    );
}
