//! Trusted time: with `SONGDA_TSA_URL`, signed heads are timestamped by a real RFC 3161
//! authority (OpenSSL's `openssl ts -reply`, see `tsa.rs`). OpenSSL agrees with our reading
//! of the tokens; a certificate carries its head's token and `songda verify` checks it,
//! catching every change; an authority that is down delays nothing and the next head is
//! stamped when it returns; the audit checks every stored token.

use crate::backends::free_port;
use crate::helpers::*;
use crate::tsa::{Issuer, TestTsa, TsaKey, run};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use songda::log::{Algorithm, LogSigner};
use songda::timestamp::{self, Authority};
use songda_core::evidence::head::TreeHead;
use std::path::Path;
use std::process::{Command, Output};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn a_signed_head(dir: &Path) -> TreeHead {
    let signer = LogSigner::load_or_create(&dir.join("log.key"), Algorithm::Ed25519).unwrap();
    let now = songda_core::timefmt::rfc3339(time::OffsetDateTime::now_utc());
    signer.sign(42, "ab".repeat(32), now).unwrap()
}

/// OpenSSL's own verdict on a token, given the imprint it should stamp and the CA.
fn openssl_verifies(token: &[u8], imprint: &[u8], ca: &Path, dir: &Path) -> Output {
    let path = dir.join("token.der");
    std::fs::write(&path, token).unwrap();
    Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(&path)
        .args(["-digest", &hex::encode(imprint), "-CAfile"])
        .arg(ca)
        .output()
        .unwrap()
}

/// The position of the TSTInfo's genTime digits in a token.
fn gen_time_at(token: &[u8]) -> usize {
    token
        .windows(4)
        .position(|w| w[0] == 0x18 && w[1] >= 15 && &w[2..] == b"20")
        .expect("a GeneralizedTime")
        + 2
}

#[tokio::test]
async fn tokens_from_openssl_ts_check_out_openssl_agrees_and_changes_are_caught() {
    let other = TestTsa::start(TsaKey::EcP256).await;
    for key in [TsaKey::Rsa, TsaKey::EcP256] {
        let tsa = TestTsa::start(key).await;
        let dir = tempfile::tempdir().unwrap();
        let head = a_signed_head(dir.path());
        let ca = timestamp::read_certificates(&std::fs::read(tsa.ca_cert()).unwrap()).unwrap();
        let authority = Authority::new(&tsa.url, ca.clone()).unwrap();
        let token = authority.stamp(&head).await.unwrap();
        let imprint = timestamp::imprint(&head);

        let stamp = timestamp::check(&token, &imprint, &ca).unwrap();
        assert!(stamp.trusted, "{key:?}");
        assert_eq!(stamp.authority, "Songda Test TSA, Songda Tests");
        assert_eq!(stamp.policy, "1.2.3.4.1");
        let stamped = time::OffsetDateTime::parse(
            &stamp.gen_time,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!((time::OffsetDateTime::now_utc() - stamped).abs() < time::Duration::minutes(1));
        // Without a trusted certificate the token still checks, and says it is unpinned.
        assert!(!timestamp::check(&token, &imprint, &[]).unwrap().trusted);

        // OpenSSL verifies the token for the same imprint against the same CA.
        let o = openssl_verifies(&token, &imprint, &tsa.ca_cert(), dir.path());
        assert!(
            said(&o).contains("Verification: OK"),
            "{key:?}: {}",
            said(&o)
        );

        // Another head, a changed time, a changed signature, another CA: each refused.
        let mut moved = head.clone();
        moved.size += 1;
        let err = timestamp::check(&token, &timestamp::imprint(&moved), &ca).unwrap_err();
        assert!(err.contains("another digest"), "{err}");
        let mut later = token.clone();
        let at = gen_time_at(&later);
        later[at + 3] = if later[at + 3] == b'9' { b'8' } else { b'9' };
        let err = timestamp::check(&later, &imprint, &ca).unwrap_err();
        assert!(
            err.contains("the signed digest is not the TSTInfo's"),
            "{err}"
        );
        let mut forged = token.clone();
        let last = forged.len() - 1;
        forged[last] ^= 0x01;
        let err = timestamp::check(&forged, &imprint, &ca).unwrap_err();
        assert!(err.contains("signature"), "{key:?}: {err}");
        let foreign =
            timestamp::read_certificates(&std::fs::read(other.ca_cert()).unwrap()).unwrap();
        let err = timestamp::check(&token, &imprint, &foreign).unwrap_err();
        assert!(err.contains("does not chain"), "{err}");
        // The authority's own certificate is as good a trust anchor as its CA.
        let own = timestamp::read_certificates(&std::fs::read(tsa.tsa_cert()).unwrap()).unwrap();
        assert!(timestamp::check(&token, &imprint, &own).unwrap().trusted);
        // Truncated or garbage tokens are refused with a reason, not a panic.
        for cut in [0, 1, token.len() / 2, token.len() - 1] {
            assert!(timestamp::check(&token[..cut], &imprint, &ca).is_err());
        }
    }
}

#[tokio::test]
async fn a_chain_counts_only_through_certification_authorities() {
    let dir = tempfile::tempdir().unwrap();
    let head = a_signed_head(dir.path());
    let imprint = timestamp::imprint(&head);
    for (issuer, counts) in [(Issuer::IntermediateCa, true), (Issuer::NotACa, false)] {
        let tsa = TestTsa::start_with(TsaKey::EcP256, issuer).await;
        let root = timestamp::read_certificates(&std::fs::read(tsa.ca_cert()).unwrap()).unwrap();
        let token = Authority::new(&tsa.url, vec![])
            .unwrap()
            .stamp(&head)
            .await
            .unwrap();
        let checked = timestamp::check(&token, &imprint, &root);
        // OpenSSL, given the root and the certificates the token carries, agrees.
        let o = openssl_verifies(&token, &imprint, &tsa.ca_cert(), dir.path());
        assert_eq!(
            said(&o).contains("Verification: OK"),
            counts,
            "{issuer:?}: {}",
            said(&o)
        );
        match checked {
            Ok(stamp) => assert!(counts && stamp.trusted, "{issuer:?}"),
            Err(e) => {
                assert!(!counts, "{issuer:?}: {e}");
                assert!(e.contains("does not chain"), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn an_authority_that_refuses_or_is_unreachable_is_an_error_that_says_so() {
    let tsa = TestTsa::start(TsaKey::EcP256).await;
    let dir = tempfile::tempdir().unwrap();
    let head = a_signed_head(dir.path());
    tsa.set_down(true);
    let err = Authority::new(&tsa.url, vec![])
        .unwrap()
        .stamp(&head)
        .await
        .unwrap_err();
    assert!(err.contains("HTTP 503"), "{err}");
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let err = Authority::new(&closed, vec![])
        .unwrap()
        .stamp(&head)
        .await
        .unwrap_err();
    assert!(err.contains("did not answer"), "{err}");
    // OpenSSL answers a query for an unsupported digest with a refusal (status 2).
    let reply = dir.path().join("r.tsr");
    let query = dir.path().join("q.tsq");
    std::fs::write(dir.path().join("m"), b"x").unwrap();
    run(
        dir.path(),
        &[
            "ts",
            "-query",
            "-data",
            "m",
            "-sha1",
            "-cert",
            "-out",
            query.to_str().unwrap(),
        ],
    );
    let tsa_dir = tsa.ca_cert().parent().unwrap().to_path_buf();
    run(
        &tsa_dir,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            query.to_str().unwrap(),
            "-out",
            reply.to_str().unwrap(),
        ],
    );
    let err = timestamp::granted_token(&std::fs::read(&reply).unwrap()).unwrap_err();
    assert!(err.contains("refused (status 2)"), "{err}");
    assert!(Authority::new("ftp://example.org/", vec![]).is_err());
    // A server is not started with an authority whose tokens it could not judge.
    let data = tempfile::tempdir().unwrap();
    let mut settings = songda::config::Settings::for_tests(data.path().join("data"));
    settings.tsa_url = Some(tsa.url.clone());
    let err = songda::app::App::build(settings, std::sync::Arc::new(songda_core::SystemClock))
        .await
        .err()
        .expect("refused without SONGDA_TSA_CERT");
    assert!(
        format!("{err:#}").contains("needs SONGDA_TSA_CERT"),
        "{err:#}"
    );
}

/// A served and signed service on an app with a timestamp authority.
async fn served_with(tsa: &TestTsa) -> (TestApp, Api, String) {
    let (url, ca) = (tsa.url.clone(), tsa.ca_cert());
    let app = TestApp::spawn_with(|s| {
        s.tsa_url = Some(url);
        s.tsa_cert = Some(ca);
    })
    .await;
    let s = case_with_party(&app, "13900000041", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    let party = s.bound_party(&app, "13900000041").await;
    party.sign(&id).await;
    (app, party, id)
}

fn verify(cert: &Value, dir: &Path, extra: &[&str]) -> Output {
    let path = dir.join("cert.json");
    std::fs::write(&path, serde_json::to_vec(cert).unwrap()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_songda"))
        .arg("verify")
        .arg(&path)
        .arg("--public-key")
        .arg(dir.join("keys.json"))
        .args(extra)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_certificate_carries_its_heads_timestamp_and_verify_checks_it_offline() {
    let tsa = TestTsa::start(TsaKey::Rsa).await;
    let other = TestTsa::start(TsaKey::Rsa).await;
    let (app, party, id) = served_with(&tsa).await;
    let cert = party.certificate(&id).await;
    let stamp = &cert["proof"]["timestamp"];
    assert_eq!(stamp["format"], "rfc3161");
    assert_eq!(stamp["authority"], "Songda Test TSA, Songda Tests");
    let head: TreeHead = serde_json::from_value(cert["proof"]["head"].clone()).unwrap();
    let imprint = timestamp::imprint(&head);
    assert_eq!(stamp["imprint"], hex::encode(imprint));
    let token = unb64(stamp["token"].as_str().unwrap());

    let dir = tempfile::tempdir().unwrap();
    let o = openssl_verifies(&token, &imprint, &tsa.ca_cert(), dir.path());
    assert!(said(&o).contains("Verification: OK"), "{}", said(&o));
    let anon = app.anon();
    let keys = anon
        .json_ok(anon.get("/log/public-key").await, StatusCode::OK)
        .await;
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    // The printable certificate names the authority's time.
    let r = party.get(&format!("/services/{id}/certificate.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, r.bytes().await.unwrap()).unwrap();
    let text = crate::certificate::poppler("pdftotext", &[], &pdf, &["-"]);
    assert!(text.contains("可信时间戳"), "{text}");
    assert!(text.contains("Songda Test TSA"), "{text}");
    // The public verification page checks the token against the configured authority.
    let code = cert["verification_code"].as_str().unwrap();
    let page = reqwest::get(format!("{}/verify?code={code}", app.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("the tree head was timestamped at"), "{page}");
    assert!(!page.contains("pass --tsa-cert"), "{page}");
    drop(app);

    // Offline, with the authority's CA: valid, the time named, no warning.
    let ca = tsa.ca_cert().to_str().unwrap().to_string();
    let o = verify(&cert, dir.path(), &["--tsa-cert", &ca]);
    let text = said(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("the tree head was timestamped at"), "{text}");
    assert!(text.contains("log head timestamped at"), "{text}");
    assert!(!text.contains("warning"), "{text}");
    // Without it: still valid, with a warning naming what to pass.
    let o = verify(&cert, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(said(&o).contains("pass --tsa-cert"), "{}", said(&o));

    // Another authority's CA, a changed readable time, a changed token, a token moved to
    // another head: each is invalid, with the reason.
    let foreign = other.ca_cert().to_str().unwrap().to_string();
    let o = verify(&cert, dir.path(), &["--tsa-cert", &foreign]);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(said(&o).contains("does not chain"), "{}", said(&o));

    let mut edited = cert.clone();
    edited["proof"]["timestamp"]["gen_time"] = "2020-01-01T00:00:00Z".into();
    let o = verify(&edited, dir.path(), &["--tsa-cert", &ca]);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(said(&o).contains("its token says"), "{}", said(&o));

    let mut changed = token.clone();
    let at = gen_time_at(&changed);
    changed[at] = if changed[at] == b'2' { b'1' } else { b'2' };
    let mut edited = cert.clone();
    edited["proof"]["timestamp"]["token"] = b64(&changed).into();
    let o = verify(&edited, dir.path(), &["--tsa-cert", &ca]);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(said(&o).contains("RFC 3161 timestamp"), "{}", said(&o));

    let mut edited = cert.clone();
    let other_head = a_signed_head(dir.path());
    edited["proof"]["timestamp"]["imprint"] = hex::encode(timestamp::imprint(&other_head)).into();
    let o = verify(&edited, dir.path(), &["--tsa-cert", &ca]);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(said(&o).contains("not this head's"), "{}", said(&o));

    // A timestamp removed is no longer claimed: the certificate stays valid without it.
    let mut stripped = cert.clone();
    stripped["proof"]
        .as_object_mut()
        .unwrap()
        .remove("timestamp");
    let o = verify(&stripped, dir.path(), &["--tsa-cert", &ca]);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(!said(&o).contains("timestamped"), "{}", said(&o));
}

#[tokio::test]
async fn an_authority_that_is_down_delays_nothing_and_the_next_head_is_stamped_when_it_returns() {
    let tsa = TestTsa::start(TsaKey::EcP256).await;
    tsa.set_down(true);
    let (app, party, id) = served_with(&tsa).await;
    // The authority is down: the certificate comes without a timestamp, and is valid.
    let cert = party.certificate(&id).await;
    assert!(
        cert["proof"].get("timestamp").is_none(),
        "{}",
        cert["proof"]
    );
    let head_without: TreeHead = serde_json::from_value(cert["proof"]["head"].clone()).unwrap();
    assert_eq!(tsa.answered(), 0);

    // Back up: the background task stamps the newest head within seconds (after the
    // pause that follows a failure), and certificates carry the token from then on.
    tsa.set_down(false);
    tokio::spawn(songda::log::run_timestamper(app.state.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if app
            .state
            .store
            .head_timestamp(&head_without)
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the head was never stamped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let cert = party.certificate(&id).await;
    assert_eq!(cert["proof"]["head"]["size"], head_without.size);
    assert_eq!(
        cert["proof"]["timestamp"]["authority"],
        "Songda Test TSA, Songda Tests"
    );

    // The audit checks every stored token, and catches one that was changed.
    let audit = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
        cmd.arg("audit")
            .arg("--data-dir")
            .arg(&app.state.settings.data_dir)
            .arg("--tsa-cert")
            .arg(tsa.ca_cert())
            .env("SONGDA_LOG", "warn");
        if let Some(url) = &app.state.settings.database_url {
            cmd.arg("--database-url").arg(url);
        }
        if let Some(url) = &app.state.settings.blob_url {
            cmd.arg("--blob-url").arg(url);
        }
        cmd.output().unwrap()
    };
    let o = audit();
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(
        said(&o).contains("timestamps 1 RFC 3161 tokens checked"),
        "{}",
        said(&o)
    );
    let mut token = unb64(cert["proof"]["timestamp"]["token"].as_str().unwrap());
    let at = gen_time_at(&token);
    token[at + 3] = if token[at + 3] == b'9' { b'8' } else { b'9' };
    set_stored_token(&app, &head_without, &b64(&token)).await;
    let o = audit();
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    assert!(
        said(&o).contains(&format!(
            "the timestamp of the head of size {}",
            head_without.size
        )),
        "{}",
        said(&o)
    );
}

/// Overwrites a head's stored token, as a rogue operator with database access would.
async fn set_stored_token(app: &TestApp, head: &TreeHead, token: &str) {
    use sqlx::Connection;
    let url = match &app.state.settings.database_url {
        Some(u) => u.clone(),
        None => format!(
            "sqlite://{}",
            app.state.settings.data_dir.join("songda.db").display()
        ),
    };
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE tree_heads SET tsa_token = $1 WHERE size = $2 AND key_id = $3")
        .bind(token)
        .bind(head.size as i64)
        .bind(&head.key_id)
        .execute(&mut conn)
        .await
        .unwrap();
}
