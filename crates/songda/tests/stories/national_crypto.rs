//! The national-crypto option: a deployment configured with `SONGDA_LOG_ALGORITHM=sm2` signs
//! its tree heads with SM2 over SM3. OpenSSL, an implementation that shares no code with
//! ours, checks those signatures and reads our key file; a key OpenSSL made signs for us; a
//! certificate verifies offline with the SM2 public key in each form we accept; and switching
//! algorithm keeps every head signed before verifiable.

use crate::backends::Backing;
use crate::helpers::*;
use crate::process::{Server, add_clerk, create_case, songda};
use reqwest::StatusCode;
use serde_json::{Value, json};
use songda::log::{Algorithm, SM2_DISTINGUISHING_ID};
use songda_core::evidence::head::TreeHead;
use std::path::Path;
use std::process::{Command, Output};

fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// OpenSSL's verdict on a head's SM2 signature, given the PEM public key.
fn openssl_checks_head(head: &TreeHead, public_pem: &Path, dir: &Path) -> Output {
    let (msg, sig) = (dir.join("head.msg"), dir.join("head.sig"));
    std::fs::write(&msg, head.signed_bytes().unwrap()).unwrap();
    std::fs::write(&sig, hex::decode(&head.signature).unwrap()).unwrap();
    let distid = format!("distid:{SM2_DISTINGUISHING_ID}");
    Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", path(public_pem)])
        .args(["-rawin", "-in", path(&msg), "-sigfile", path(&sig)])
        .args(["-digest", "sm3", "-pkeyopt", &distid])
        .output()
        .expect("openssl runs")
}

async fn head(app: &TestApp) -> TreeHead {
    let anon = app.anon();
    serde_json::from_value(
        anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
            .await,
    )
    .unwrap()
}

async fn public_keys(app: &TestApp) -> Value {
    let anon = app.anon();
    anon.json_ok(anon.get("/log/public-key").await, StatusCode::OK)
        .await
}

fn verify(cert: &Path, key: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_songda"))
        .arg("verify")
        .arg(cert)
        .arg("--public-key")
        .arg(key)
        .output()
        .expect("the songda binary runs")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn an_sm2_deployment_signs_heads_openssl_checks_and_certificates_verify_offline() {
    let app = TestApp::spawn_with(|s| s.log_algorithm = Algorithm::Sm2Sm3).await;
    let s = case_with_party(&app, "13900000031", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    let party = s.bound_party(&app, "13900000031").await;
    party.sign(&id).await;
    let cert = party.certificate(&id).await;

    let head = head(&app).await;
    assert_eq!(head.algorithm, "sm2-sm3");
    let keys = public_keys(&app).await;
    assert_eq!(keys["algorithm"], "sm2-sm3");
    assert_eq!(keys["key_id"], head.key_id.as_str());
    let raw = keys["public_key"].as_str().unwrap().to_string();
    assert_eq!(raw.len(), 130, "the uncompressed SEC1 point: {raw}");
    assert!(raw.starts_with("04"), "{raw}");
    assert_eq!(cert["proof"]["head"]["algorithm"], "sm2-sm3");
    assert_eq!(cert["proof"]["public_key"]["public_key"], raw.as_str());

    // OpenSSL reads our key file (PKCS#8 DER) and derives the same public key.
    let dir = tempfile::tempdir().unwrap();
    let key_file = app.state.settings.data_dir.join("log-signing-sm2.key");
    assert!(key_file.exists(), "the SM2 key has its own file");
    let pem = dir.path().join("public.pem");
    openssl(&[
        "pkey",
        "-inform",
        "DER",
        "-in",
        path(&key_file),
        "-pubout",
        "-out",
        path(&pem),
    ]);
    let text = openssl(&["pkey", "-pubin", "-in", path(&pem), "-noout", "-text"]);
    let text = String::from_utf8_lossy(&text.stdout).replace([' ', ':', '\n'], "");
    assert!(text.contains(&raw), "{text}");

    // OpenSSL checks the head's signature (SM2 over SM3, ID 1234567812345678) and refuses
    // a head with a changed size.
    let o = openssl_checks_head(&head, &pem, dir.path());
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("Signature Verified Successfully"));
    let mut forged = head.clone();
    forged.size += 1;
    assert!(
        !openssl_checks_head(&forged, &pem, dir.path())
            .status
            .success()
    );

    // The certificate verifies offline with the key as /log/public-key gives it, as PEM and
    // as hex; changing the head's signature makes it invalid.
    let cert_path = dir.path().join("cert.json");
    std::fs::write(&cert_path, serde_json::to_vec(&cert).unwrap()).unwrap();
    let json_keys = dir.path().join("keys.json");
    std::fs::write(&json_keys, keys.to_string()).unwrap();
    let hex_key = dir.path().join("key.hex");
    std::fs::write(&hex_key, &raw).unwrap();
    for key in [&json_keys, &pem, &hex_key] {
        let o = verify(&cert_path, key);
        assert_eq!(o.status.code(), Some(0), "{}", said(&o));
        assert!(said(&o).contains("signed by sm2-sm3 key"), "{}", said(&o));
    }
    let mut tampered = cert.clone();
    let signature = tampered["proof"]["head"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    // The last byte of s: still DER, no longer the signature.
    let flipped = format!(
        "{}{}",
        &signature[..signature.len() - 1],
        if signature.ends_with('0') { '1' } else { '0' }
    );
    tampered["proof"]["head"]["signature"] = flipped.into();
    std::fs::write(&cert_path, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let o = verify(&cert_path, &json_keys);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(
        said(&o).contains("the signature does not match the head"),
        "{}",
        said(&o)
    );
}

/// Adds a party whose consent the clerk records: one evidence event.
async fn add_party(clerk: &Api, case_id: &str, phone: &str) {
    clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": "李四", "role": "defendant", "phone": phone, "consent_basis": "filing_address"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
}

async fn served_head(api: &Api) -> TreeHead {
    serde_json::from_value(
        api.json_ok(api.get("/log/head").await, StatusCode::OK)
            .await,
    )
    .unwrap()
}

#[tokio::test]
async fn a_key_made_by_openssl_signs_and_switching_algorithm_keeps_old_heads_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sms) = (dir.path().join("data"), dir.path().join("sms.jsonl"));
    let backing = Backing::for_this_run().await;
    add_clerk(&backing, &data);

    // An Ed25519 deployment logs an event and signs a head...
    let server = Server::start(&data, &sms, &backing).await;
    let clerk = server.login("sun", "password-123").await;
    let case_id = create_case(&clerk).await;
    add_party(&clerk, &case_id, "13900000032").await;
    let old_head = served_head(&server.api(None)).await;
    assert_eq!(old_head.algorithm, "ed25519");
    server.kill9();

    // ...then moves to SM2 with a key its security office made with OpenSSL (PKCS#8 PEM).
    let key_file = dir.path().join("sm2.pem");
    openssl(&["genpkey", "-algorithm", "SM2", "-out", path(&key_file)]);
    let pem = dir.path().join("public.pem");
    openssl(&[
        "pkey",
        "-in",
        path(&key_file),
        "-pubout",
        "-out",
        path(&pem),
    ]);
    let sm2 = |cmd: &mut Command| {
        cmd.env("SONGDA_LOG_ALGORITHM", "sm2")
            .env("SONGDA_LOG_KEY_FILE", &key_file);
    };
    let server = Server::start_with(&data, &sms, &backing, sm2).await;
    let clerk = server.login("sun", "password-123").await;
    add_party(&clerk, &case_id, "13900000033").await;
    let anon = server.api(None);
    let new_head = served_head(&anon).await;
    assert_eq!(new_head.algorithm, "sm2-sm3");
    assert!(new_head.size > old_head.size);
    let o = openssl_checks_head(&new_head, &pem, dir.path());
    assert!(o.status.success(), "{}", said(&o));
    // The consistency proof from the old head holds across the change of key.
    let proof = anon
        .json_ok(
            anon.get(&format!(
                "/log/consistency?from={}&to={}",
                old_head.size, new_head.size
            ))
            .await,
            StatusCode::OK,
        )
        .await;
    assert!(!proof["proof"].as_array().unwrap().is_empty());

    // Both keys stay published, and every stored head checks out in the audit.
    let keys = anon
        .json_ok(anon.get("/log/public-key").await, StatusCode::OK)
        .await;
    let algorithms: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["algorithm"].as_str().unwrap())
        .collect();
    assert_eq!(algorithms, ["ed25519", "sm2-sm3"]);
    server.kill9();
    let o = songda(&backing)
        .args(["audit", "--data-dir"])
        .arg(&data)
        .env("SONGDA_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(said(&o).contains("CLEAN"), "{}", said(&o));

    // The Ed25519 key file given for SM2 is refused at start, saying what to do.
    let o = songda(&backing)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("SONGDA_LOG_ALGORITHM", "sm2")
        .env("SONGDA_LOG_KEY_FILE", data.join("log-signing.key"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(said(&o).contains("holds an ed25519 key"), "{}", said(&o));
}
