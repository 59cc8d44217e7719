//! The public evidence log: signed tree heads that anyone can check, and the proofs that
//! tie every event to a head and every head to the next.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use songda_core::evidence::head::TreeHead;
use songda_core::merkle::{self, Hash};

fn hash(v: &Value) -> Hash {
    v.as_str().unwrap().parse().unwrap()
}

fn proof(v: &Value) -> Vec<Hash> {
    v["proof"].as_array().unwrap().iter().map(hash).collect()
}

#[tokio::test]
async fn anyone_can_check_that_every_event_is_in_a_signed_head_and_that_heads_only_grow() {
    let app = TestApp::spawn().await;
    let served = case_with_party(&app, "13900000002", Some("filing_address")).await;
    assert_eq!(served.serve().await.status(), StatusCode::CREATED);
    let anon = app.anon();

    // The head is signed by the published key, without logging in.
    let head1: TreeHead = serde_json::from_value(
        anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
            .await,
    )
    .unwrap();
    let keys = anon
        .json_ok(anon.get("/log/public-key").await, StatusCode::OK)
        .await;
    let public = keys["public_key"].as_str().unwrap();
    assert_eq!(keys["key_id"], head1.key_id.as_str());
    assert_eq!(keys["keys"][0]["public_key"], public);
    songda::log::verify_head(&head1, "ed25519", public).unwrap();
    assert_eq!(head1.size, app.state.store.log_size().await.unwrap());
    assert!(head1.size >= 3, "{head1:?}");
    // A changed head no longer verifies.
    let mut forged = head1.clone();
    forged.size -= 1;
    assert!(songda::log::verify_head(&forged, "ed25519", public).is_err());

    // Every event is a leaf of the signed tree: its canonical bytes hash to the leaf, and
    // the inclusion proof leads to the signed root.
    let root1: Hash = head1.root.parse().unwrap();
    for index in 0..head1.size {
        let v = anon
            .json_ok(
                anon.get(&format!("/log/inclusion?index={index}&size={}", head1.size))
                    .await,
                StatusCode::OK,
            )
            .await;
        let (body, leaf) = app.state.store.log_leaf(index).await.unwrap();
        assert_eq!(leaf, merkle::leaf_hash(body.as_bytes()));
        assert_eq!(hash(&v["leaf_hash"]), leaf);
        merkle::verify_inclusion(&leaf, index, head1.size, &proof(&v), &root1).unwrap();
    }

    // More work, a new head, and a proof that the old log is a prefix of the new one.
    let clerk = app.login("clerk", "password-123").await;
    let r = serve_new_case(
        &clerk,
        "(2026)京0105民初7号",
        "13900000003",
        "民事传票",
        "summons",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let head2: TreeHead = serde_json::from_value(
        anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
            .await,
    )
    .unwrap();
    assert!(head2.size > head1.size);
    songda::log::verify_head(&head2, "ed25519", public).unwrap();
    let v = anon
        .json_ok(
            anon.get(&format!(
                "/log/consistency?from={}&to={}",
                head1.size, head2.size
            ))
            .await,
            StatusCode::OK,
        )
        .await;
    merkle::verify_consistency(
        head1.size,
        head2.size,
        &root1,
        &head2.root.parse().unwrap(),
        &proof(&v),
    )
    .unwrap();

    // The same head again while nothing happened: no new signature is needed.
    let again: TreeHead = serde_json::from_value(
        anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
            .await,
    )
    .unwrap();
    assert_eq!(again, head2);
}

#[tokio::test]
async fn bad_proof_requests_are_clear_400s() {
    let app = TestApp::spawn().await;
    let served = case_with_party(&app, "13900000002", Some("filing_address")).await;
    assert_eq!(served.serve().await.status(), StatusCode::CREATED);
    let anon = app.anon();
    let size = app.state.store.log_size().await.unwrap();
    for (path, status, code) in [
        (
            "/log/inclusion?size=1".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "/log/inclusion?index=x&size=1".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            format!("/log/inclusion?index={size}&size={size}"),
            StatusCode::BAD_REQUEST,
            "out_of_range",
        ),
        (
            format!("/log/inclusion?index=0&size={}", size + 1),
            StatusCode::BAD_REQUEST,
            "out_of_range",
        ),
        (
            format!("/log/consistency?from={}&to=1", size),
            StatusCode::BAD_REQUEST,
            "out_of_range",
        ),
        (
            format!("/log/consistency?from=1&to={}", size + 5),
            StatusCode::BAD_REQUEST,
            "out_of_range",
        ),
        (
            "/log/consistency?from=-1&to=2".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
    ] {
        expect_error(anon.get(&path).await, status, code).await;
    }
}
