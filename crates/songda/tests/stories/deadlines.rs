//! Time limits that service starts (DOMAIN.md section 4): set per document at upload (the
//! law's default for its type, or the clerk's), counted from the legal time of service
//! over the holiday calendar, and recounted when an administrator changes the calendar.

use crate::helpers::{TestApp, expect_error, new_case, page_as, pdf};
use reqwest::StatusCode;
use serde_json::{Value, json};
use songda::store::Role;
use songda_core::deadline::{Calendar, Deadline};
use songda_core::timefmt::{court_date, parse_rfc3339};

/// A case with a consenting defendant and documents uploaded with these form fields; the
/// service of all of them.
/// A document to upload: title, type, and further form fields.
type Upload<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

async fn serve_documents(app: &TestApp, docs: &[Upload<'_>]) -> Value {
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初20001号", "甲诉乙借款合同纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let party = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": "乙", "role": "defendant", "phone": "13800138021", "consent_basis": "prior_agreement"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let mut ids = Vec::new();
    for (title, doc_type, fields) in docs {
        let doc = clerk
            .json_ok(
                clerk
                    .upload_with(case_id, title, doc_type, pdf(title), fields)
                    .await,
                StatusCode::CREATED,
            )
            .await;
        ids.push(doc["id"].clone());
    }
    clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/services"),
                    json!({"party_id": party["id"], "document_ids": ids}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await
}

fn served_on(service: &Value) -> time::Date {
    court_date(parse_rfc3339(service["served_at"].as_str().unwrap()).unwrap())
}

#[tokio::test]
async fn judgments_start_an_appeal_period_rulings_may_not_and_evidence_periods_are_the_courts() {
    let app = TestApp::spawn().await;
    let s = serve_documents(
        &app,
        &[
            ("民事判决书", "judgment", &[]),
            ("民事裁定书（驳回管辖权异议）", "ruling", &[]),
            (
                "民事裁定书（准许撤诉）",
                "ruling",
                &[("time_limit", "none")],
            ),
            (
                "举证通知书",
                "notice",
                &[("time_limit", "evidence"), ("time_limit_days", "30")],
            ),
            ("民事传票", "summons", &[]),
        ],
    )
    .await;
    let docs = s["documents"].as_array().unwrap();
    assert_eq!(docs[0]["time_limit"], json!({"kind": "appeal", "days": 15}));
    assert_eq!(docs[2]["time_limit"], Value::Null);
    assert_eq!(docs[4]["time_limit"], Value::Null);

    let day = served_on(&s);
    let cal = Calendar::builtin();
    let got: Vec<_> = s["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["document_id"].clone(),
                d["kind"].as_str().unwrap().to_string(),
                d["days"].as_u64().unwrap(),
                d["ends"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = |i: usize, kind: &str, days: u32| {
        (
            docs[i]["id"].clone(),
            kind.to_string(),
            u64::from(days),
            Deadline::counted(day, days, &cal).ends.to_string(),
        )
    };
    assert_eq!(
        got,
        [
            want(0, "appeal", 15),
            want(1, "appeal", 10),
            want(3, "evidence", 30)
        ]
    );
    assert_eq!(s["deadlines"][0]["basis"], "CPL Art. 171");
}

#[tokio::test]
async fn an_upload_with_an_unclear_time_limit_is_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let clerk = app.clerk().await;
    let case = new_case(&clerk, "(2026)京0105民初20002号", "甲诉乙借款合同纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    for (doc_type, fields, field) in [
        (
            "notice",
            &[("time_limit", "evidence")][..],
            "time_limit_days",
        ),
        ("notice", &[("time_limit_days", "15")][..], "time_limit"),
        (
            "judgment",
            &[("time_limit_days", "0")][..],
            "time_limit_days",
        ),
        (
            "judgment",
            &[("time_limit_days", "15天")][..],
            "time_limit_days",
        ),
        (
            "judgment",
            &[("time_limit_days", "367")][..],
            "time_limit_days",
        ),
        (
            "ruling",
            &[("time_limit", "none"), ("time_limit_days", "10")][..],
            "time_limit_days",
        ),
        ("ruling", &[("time_limit", "forever")][..], "time_limit"),
    ] {
        let e = expect_error(
            clerk
                .upload_with(case_id, "文书", doc_type, pdf("文书"), fields)
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(e["field"], field, "{doc_type} {fields:?}: {e}");
    }
    // A party with no domicile in China has 30 days to appeal.
    let doc = clerk
        .json_ok(
            clerk
                .upload_with(
                    case_id,
                    "民事判决书",
                    "judgment",
                    pdf("判决"),
                    &[("time_limit_days", "30")],
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(doc["time_limit"], json!({"kind": "appeal", "days": 30}));
    let docs = app
        .state
        .store
        .documents_of_case(case_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(docs.len(), 1, "refused uploads keep nothing");
}

#[tokio::test]
async fn a_holiday_the_admin_adds_moves_a_deadline_and_a_bad_line_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = serve_documents(&app, &[("民事判决书", "judgment", &[])]).await;
    let id = s["id"].as_str().unwrap();
    let day = served_on(&s);
    let before = Deadline::counted(day, 15, &Calendar::builtin());
    assert_eq!(s["deadlines"][0]["ends"], before.ends.to_string());

    let admin = app.staff(Role::Admin, "admin", None).await;
    // Every day from the last one through the next week is declared a holiday.
    let last = before.ends;
    let body = format!(
        "# 地方性安排（测试）\nholiday {last}..{}\n",
        last + time::Duration::days(6)
    );
    let cal = admin
        .json_ok(
            admin.put("/calendar", json!({"local": body})).await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(cal["version"], 1);
    let mut moved = Calendar::builtin();
    moved.apply(&body).unwrap();
    let after = Deadline::counted(day, 15, &moved);
    assert!(after.ends > last + time::Duration::days(6));

    let clerk = app.login("clerk", "password-123").await;
    let now = clerk
        .json_ok(clerk.get(&format!("/services/{id}")).await, StatusCode::OK)
        .await;
    assert_eq!(now["deadlines"][0]["ends"], after.ends.to_string());
    assert_eq!(now["deadlines"][0]["moved"], true);

    // A broken line is named, and the calendar stays as it was.
    let e = expect_error(
        admin
            .put(
                "/calendar",
                json!({"local": "holiday 2027-01-01\nholiday 2027-02-30"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("line 2"), "{e}");
    expect_error(
        clerk.put("/calendar", json!({"local": ""})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let cal = clerk
        .json_ok(clerk.get("/calendar").await, StatusCode::OK)
        .await;
    assert_eq!(
        (cal["version"].as_i64(), cal["saved_by"].as_str()),
        (Some(1), Some("admin"))
    );

    // The admin's page shows the saved data; the clerk's service page the moved deadline.
    let page = page_as(&app, "admin", "password-123", "/admin/calendar").await;
    assert!(page.contains(&format!("holiday {last}..")), "admin page");
    let page = page_as(&app, "clerk", "password-123", &format!("/services/{id}")).await;
    let section = &page[page.find("id=\"deadlines\"").expect("deadline card")..];
    assert!(section.contains(&after.ends.to_string()), "service page");
    assert!(
        section.contains(&format!("届满日 {last}")),
        "the move is explained"
    );
}
