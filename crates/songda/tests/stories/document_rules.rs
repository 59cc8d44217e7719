//! Rules by document type (DOMAIN.md section 4): a mediation document takes effect only
//! when every party has signed for it (CPL Art. 100), and until then the parties and the
//! clerk see who is still missing; a party may ask for a paper judgment, ruling or
//! mediation document (CPL2021-A90); a correction is a new version served again, the
//! first kept as served.

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

#[tokio::test]
async fn a_party_asks_for_a_paper_judgment_and_the_clerk_closes_the_request() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初50001号", "甲诉乙民间借贷纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let (b, b_api) = party(&app, &clerk, case_id, "乙", "defendant", "13800138071").await;
    let judgment =
        crate::helpers::upload_and_serve(&clerk, case_id, &b, "民事判决书", "judgment").await;
    let summons = crate::helpers::upload_and_serve(&clerk, case_id, &b, "传票", "summons").await;
    let (sid, did) = (
        judgment["id"].as_str().unwrap(),
        judgment["documents"][0]["id"].as_str().unwrap(),
    );
    let ask = |service: &str, doc: &str, address: &str| {
        let (api, path) = (&b_api, format!("/services/{service}/paper-copy"));
        let body = json!({"document_id": doc, "address": address, "note": "请邮寄"});
        async move { api.post(&path, body).await }
    };
    let address = "北京市朝阳区建国路1号";
    crate::helpers::expect_error(
        ask(sid, did, "短").await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    crate::helpers::expect_error(
        ask(
            summons["id"].as_str().unwrap(),
            summons["documents"][0]["id"].as_str().unwrap(),
            address,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "paper_not_available",
    )
    .await;
    let r = b_api
        .json_ok(ask(sid, did, address).await, StatusCode::CREATED)
        .await;
    assert_eq!(r["status"], "open");
    crate::helpers::expect_error(
        ask(sid, did, address).await,
        StatusCode::CONFLICT,
        "paper_requested",
    )
    .await;
    let stranger = app.party("丙", "13800138072").await;
    crate::helpers::expect_error(
        stranger
            .post(
                &format!("/services/{sid}/paper-copy"),
                json!({"document_id": did, "address": address}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The clerk sees it on the board and closes it; a clerk of another court cannot.
    let open = clerk
        .json_ok(clerk.get("/court/paper-requests").await, StatusCode::OK)
        .await;
    assert_eq!(open["items"][0]["address"], address);
    let page = clerk_page(&app, "/board").await;
    assert!(page.contains("id=\"paper-requests\"") && page.contains(address));
    let rid = r["id"].as_str().unwrap();
    let other = app
        .staff(
            songda::store::Role::Clerk,
            "clerk9",
            Some("上海市黄浦区人民法院"),
        )
        .await;
    crate::helpers::expect_error(
        other
            .post(
                &format!("/paper-requests/{rid}/close"),
                json!({"outcome": "mailed"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    crate::helpers::expect_error(
        clerk
            .post(
                &format!("/paper-requests/{rid}/close"),
                json!({"outcome": "declined"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    let closed = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/paper-requests/{rid}/close"),
                    json!({"outcome": "mailed", "note": "EMS 1234567890"}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (closed["status"].as_str(), closed["outcome"].as_str()),
        (Some("closed"), Some("mailed"))
    );
    crate::helpers::expect_error(
        clerk
            .post(
                &format!("/paper-requests/{rid}/close"),
                json!({"outcome": "mailed"}),
            )
            .await,
        StatusCode::CONFLICT,
        "paper_closed",
    )
    .await;
    let open = clerk
        .json_ok(clerk.get("/court/paper-requests").await, StatusCode::OK)
        .await;
    assert_eq!(open["items"], json!([]));
    // The party sees what was done.
    let page = crate::helpers::page_as(
        &app,
        "13800138071",
        "secret-pass",
        &format!("/services/{sid}"),
    )
    .await;
    assert!(
        page.contains("已邮寄") && page.contains("EMS 1234567890"),
        "the party sees it"
    );
}

#[tokio::test]
async fn a_correction_is_a_new_version_served_again_and_the_first_stays_as_served() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初50001号", "甲诉乙民间借贷纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let (b, _b_api) = party(&app, &clerk, case_id, "乙", "defendant", "13800138081").await;
    let first =
        crate::helpers::upload_and_serve(&clerk, case_id, &b, "民事判决书", "judgment").await;
    let v1 = first["documents"][0].clone();
    let v1_id = v1["id"].as_str().unwrap();
    let upload = |corrects: String, title: &'static str| {
        let clerk = &clerk;
        async move {
            clerk
                .upload_with(
                    case_id,
                    title,
                    "judgment",
                    pdf(title),
                    &[("corrects", corrects.as_str())],
                )
                .await
        }
    };
    let v2 = clerk
        .json_ok(
            upload(v1_id.to_string(), "民事判决书（更正）").await,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(
        (v2["version"].as_i64(), v2["corrects"].as_str()),
        (Some(2), Some(v1_id))
    );
    crate::helpers::expect_error(
        upload(v1_id.to_string(), "另一个更正").await,
        StatusCode::CONFLICT,
        "already_corrected",
    )
    .await;
    let elsewhere = new_case(&clerk, "(2026)京0105民初50002号", "另案").await;
    let other_doc = clerk
        .json_ok(
            clerk
                .upload(
                    elsewhere["id"].as_str().unwrap(),
                    "他案文书",
                    "other",
                    pdf("他案"),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    crate::helpers::expect_error(
        upload(other_doc["id"].as_str().unwrap().to_string(), "跨案更正").await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    let second = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/services"),
                    json!({"party_id": b, "document_ids": [v2["id"]]}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(second["documents"][0]["version"], 2);

    // Both versions are kept: the first service still holds the first version's bytes.
    let r = clerk
        .get(&format!(
            "/services/{}/documents/{v1_id}",
            first["id"].as_str().unwrap()
        ))
        .await;
    let bytes = r.bytes().await.unwrap();
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        v1["sha256"].as_str().unwrap()
    );
    let page = crate::helpers::page_as(
        &app,
        "13800138081",
        "secret-pass",
        &format!("/services/{}", first["id"].as_str().unwrap()),
    )
    .await;
    assert!(
        page.contains("此文书已更正：更正版本为第 2 版"),
        "the first service points to the correction"
    );
    let page = clerk_page(&app, &format!("/cases/{case_id}")).await;
    assert!(page.contains("第2版，更正《民事判决书》"));
}

#[tokio::test]
async fn a_party_follows_the_case_on_a_timeline_of_what_concerns_them() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初50001号", "甲诉乙民间借贷纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let (a, a_api) = party(&app, &clerk, case_id, "甲", "plaintiff", "13800138091").await;
    let (b, _b_api) = party(&app, &clerk, case_id, "乙", "defendant", "13800138092").await;
    let judgment =
        crate::helpers::upload_and_serve(&clerk, case_id, &a, "民事判决书", "judgment").await;
    crate::helpers::upload_and_serve(&clerk, case_id, &b, "仅送乙的通知书", "notice").await;
    a_api.sign(judgment["id"].as_str().unwrap()).await;

    let v = a_api
        .json_ok(
            a_api.get(&format!("/me/cases/{case_id}/progress")).await,
            StatusCode::OK,
        )
        .await;
    let kinds: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bound", "deposited", "signed", "deadline"], "{v}");
    assert!(
        !v.to_string().contains("仅送乙"),
        "another party's service is not theirs to see"
    );
    let page = crate::helpers::page_as(
        &app,
        "13800138091",
        "secret-pass",
        &format!("/my/cases/{case_id}/progress"),
    )
    .await;
    assert!(page.contains("上诉期限届满（民事判决书）") && page.contains("尚未届满"));
    // Not bound to the case: 404, as for anyone's case.
    let stranger = app.party("丙", "13800138093").await;
    crate::helpers::expect_error(
        stranger.get(&format!("/me/cases/{case_id}/progress")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
