//! Bad input gets a clear error and loses nothing.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

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
