//! The core service flow, end to end through the JSON API.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_clerk_serves_a_pdf_and_the_party_views_and_signs_for_it() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;

    // Served before the party even has an account: the address came from their filing.
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let service_id = svc["id"].as_str().unwrap().to_string();
    assert_eq!(svc["status"], "pending");
    assert_eq!(svc["service_rule"], "inbox_deposit_confirmed_address");
    assert_eq!(svc["regime"], "CPL2021-A90");
    assert_eq!(svc["served_at"], svc["deposited_at"]);
    let types: Vec<_> = svc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["SubmissionAcceptance", "ContentConsignment"]);

    // The party is told by SMS, with the case number and a link but not the document.
    let sms = app.last_sms("13900000002").await;
    assert!(
        sms.contains(CASE_NUMBER) && sms.contains("民事传票") && sms.contains("/services/"),
        "{sms}"
    );

    let party = app.party("李四", "13900000002").await;
    let bound = party
        .json_ok(
            party
                .post(
                    "/me/cases",
                    json!({"case_number": "（2026）京0105民初12345号", "code": s.binding_code}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(bound["case_id"], s.case_id);
    party
        .json_ok(
            party
                .post(&format!("/me/cases/{}/consent", s.case_id), json!({"channels": ["sms", "email"], "email": "lisi@example.com", "phone": "13900000002", "acknowledged": true}))
                .await,
            StatusCode::CREATED,
        )
        .await;

    let inbox = party
        .json_ok(
            party.get("/me/services?status=pending").await,
            StatusCode::OK,
        )
        .await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], service_id.as_str());
    assert_eq!(items[0]["documents"][0]["title"], "民事传票");

    // The document comes back byte-identical, and the view is recorded.
    let r = party
        .get(&format!("/services/{service_id}/documents/{}", s.doc_id))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf("民事传票"));

    let signed = party
        .json_ok(
            party
                .post(
                    &format!("/services/{service_id}/sign"),
                    json!({"confirm": true}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(signed["status"], "signed");
    assert!(signed["signed_at"].is_string());

    let got = s
        .clerk
        .json_ok(
            s.clerk.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["status"], "signed");
    let types: Vec<_> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "SubmissionAcceptance",
            "ContentConsignment",
            "ConsignmentNotification",
            "ConsignmentNotification",
            "ContentAccessTracking",
            "ConsignmentAcceptance"
        ]
    );

    let cert = party
        .json_ok(
            party
                .get(&format!("/services/{service_id}/certificate"))
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(cert["case"]["case_number"], CASE_NUMBER);
    assert_eq!(cert["court"]["name"], "北京市朝阳区人民法院");
    assert_eq!(cert["recipient"]["name"], "李四");
    assert_eq!(cert["address"]["provenance"], "confirmed");
    assert_eq!(cert["address"]["consent_basis"], "filing_address");
    assert_eq!(cert["regime"]["id"], "CPL2021-A90");
    assert_eq!(cert["service_rule"], "inbox_deposit_confirmed_address");
    assert_eq!(cert["served_at"], got["served_at"]);
    assert_eq!(
        cert["documents"][0]["sha256"],
        got["documents"][0]["sha256"]
    );
    assert!(cert["signature"]["signed_at"].is_string());
    assert!(cert.get("proof").is_some());
    let view = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ContentAccessTracking")
        .unwrap();
    assert_eq!(view["client"]["ip"], "127.0.0.1");
    assert_eq!(
        view["documents"][0]["sha256"],
        got["documents"][0]["sha256"]
    );

    // Signing twice is a conflict, and changes nothing.
    expect_error(
        party
            .post(
                &format!("/services/{service_id}/sign"),
                json!({"confirm": true}),
            )
            .await,
        StatusCode::CONFLICT,
        "already_signed",
    )
    .await;
}

#[tokio::test]
async fn without_consent_service_is_refused_and_the_refusal_is_recorded() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", None).await;
    let err = expect_error(
        s.serve().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "consent_required",
    )
    .await;
    assert_eq!(err["regime"], "CPL2021-A90");
    assert!(err["rule"].as_str().unwrap().contains("第九十条"));
    let before = app.state.store.evidence_count().await.unwrap();

    // Once the party confirms the address, the same request succeeds.
    let party = s.bound_party(&app, "13900000002").await;
    party
        .json_ok(
            party
                .post(
                    &format!("/me/cases/{}/consent", s.case_id),
                    json!({"channels": ["sms"], "acknowledged": true}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    assert_eq!(svc["status"], "pending");
    assert!(app.state.store.evidence_count().await.unwrap() > before);

    // Withdrawal works for the future only.
    party
        .json_ok(
            party
                .post(
                    &format!("/me/cases/{}/consent/withdraw", s.case_id),
                    json!({}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    expect_error(
        s.serve().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "consent_required",
    )
    .await;
    let earlier = party
        .json_ok(
            party
                .get(&format!("/services/{}", svc["id"].as_str().unwrap()))
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(earlier["status"], "pending");
}

#[tokio::test]
async fn a_party_refuses_with_a_reason_and_the_legal_time_stays_at_deposit() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("prior_agreement")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap();
    let party = s.bound_party(&app, "13900000002").await;
    expect_error(
        party
            .post(
                &format!("/services/{id}/refuse"),
                json!({"reason": "bored"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    let refused = party
        .json_ok(
            party
                .post(
                    &format!("/services/{id}/refuse"),
                    json!({"reason": "wrong_document", "note": "缺页"}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["served_at"], svc["served_at"]);
    let cert = party
        .json_ok(
            party.get(&format!("/services/{id}/certificate")).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(cert["signature"]["refusal_reason"], "wrong_document");
    let last = cert["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "ConsignmentRejection");
    assert_eq!(last["reason_code"], "wrong_document");
    expect_error(
        party
            .post(&format!("/services/{id}/sign"), json!({"confirm": true}))
            .await,
        StatusCode::CONFLICT,
        "already_refused",
    )
    .await;
}
