//! A mediation document takes effect only when every party has signed for it (CPL Art.
//! 100): until then the parties and the clerk see who is still missing.

use crate::helpers::{Api, TestApp, binding_code, clerk_page, new_case, pdf};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Adds a consenting party, registers and binds their account: (party id, their API).
async fn party(
    app: &TestApp,
    clerk: &Api,
    case_id: &str,
    name: &str,
    role: &str,
    phone: &str,
) -> (Value, Api) {
    let p = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": name, "role": role, "phone": phone, "consent_basis": "prior_agreement"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let code = binding_code(&app.last_sms(phone).await);
    let api = app.party(name, phone).await;
    api.json_ok(
        api.post(
            "/me/cases",
            json!({"case_number": "(2026)京0105民初50001号", "code": code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    (p["id"].clone(), api)
}

#[tokio::test]
async fn a_mediation_document_takes_effect_when_the_last_party_signs() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初50001号", "甲诉乙民间借贷纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let (a, a_api) = party(&app, &clerk, case_id, "甲", "plaintiff", "13800138061").await;
    let (b, b_api) = party(&app, &clerk, case_id, "乙", "defendant", "13800138062").await;
    let doc = clerk
        .json_ok(
            clerk
                .upload(
                    case_id,
                    "民事调解书",
                    "mediation_document",
                    pdf("民事调解书"),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let mut services = Vec::new();
    for p in [&a, &b] {
        let s = clerk
            .json_ok(
                clerk
                    .post(
                        &format!("/cases/{case_id}/services"),
                        json!({"party_id": p, "document_ids": [doc["id"]]}),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await;
        services.push(s["id"].as_str().unwrap().to_string());
    }
    // Served on both on deposit, yet not in effect until both sign.
    let v = a_api
        .json_ok(
            a_api.get(&format!("/services/{}", services[0])).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(v["status"], "pending");
    assert_eq!(v["mediation"][0]["state"], "waiting");
    assert_eq!(v["mediation"][0]["missing"], json!(["甲", "乙"]));

    a_api.sign(&services[0]).await;
    let v = b_api
        .json_ok(
            b_api.get(&format!("/services/{}", services[1])).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(v["mediation"][0]["missing"], json!(["乙"]));
    let page = clerk_page(&app, &format!("/cases/{case_id}")).await;
    assert!(
        page.contains("尚未生效：待 乙 签收"),
        "the clerk sees who is missing"
    );

    let signed = b_api.sign(&services[1]).await;
    let v = a_api
        .json_ok(
            a_api.get(&format!("/services/{}", services[0])).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(v["mediation"][0]["state"], "effective");
    assert_eq!(v["mediation"][0]["effective_at"], signed["signed_at"]);
    let page = clerk_page(&app, &format!("/cases/{case_id}")).await;
    assert!(page.contains("已生效：全部当事人已签收"), "in effect");
}
