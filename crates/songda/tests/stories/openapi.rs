//! The published OpenAPI document describes the API that is actually served.

use crate::helpers::TestApp;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// `/cases/{case_id}/parties` with every `{param}` replaced by a random UUID.
fn fill_params(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("closing brace") + open;
        out.push_str(&rest[..open]);
        out.push_str(&uuid::Uuid::new_v4().to_string());
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_published_openapi_lists_only_routes_that_exist() {
    let app = TestApp::spawn().await;
    let r = app.anon().get("/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let spec: Value = r.json().await.expect("openapi.json is JSON");
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "openapi version: {}",
        spec["openapi"]
    );
    let paths = spec["paths"].as_object().expect("paths object");
    assert!(!paths.is_empty(), "the spec documents no paths");
    let global_security = spec.get("security").cloned().unwrap_or(Value::Null);

    let base = format!("{}/api/v1", app.url);
    let client = Client::new();
    let mut checked = 0;
    for (path, item) in paths {
        let item = item.as_object().expect("path item object");
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue; // parameters, summary, ...
            }
            let url = format!("{base}{}", fill_params(path));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = client.request(m, &url).send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            let what = format!("{} {path} -> {status}: {text}", method.to_uppercase());
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}");

            // An operation that requires auth must answer 401 to an anonymous call: the
            // router's fallback would answer 404, so this proves the route matched.
            let security = op.get("security").unwrap_or(&global_security);
            let needs_auth = security.as_array().is_some_and(|reqs| {
                !reqs.is_empty()
                    && reqs
                        .iter()
                        .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            if needs_auth {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            }
            if status == StatusCode::NOT_FOUND {
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                assert!(
                    v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                    "{what}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no operations checked");
}
