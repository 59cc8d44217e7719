//! The service certificate as evidence: downloaded from a running server, it verifies with
//! `songda verify` after the server is gone, given only the log's public key; and every
//! change to it, to its events or to the document is caught, with the reason printed.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A signed service's certificate, the log's public keys and the served PDF, saved in a
/// folder after the server that issued them stopped.
struct Downloaded {
    dir: tempfile::TempDir,
    cert: Value,
}

impl Downloaded {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a variant of the certificate and returns its path.
    fn variant(&self, name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
        let mut cert = self.cert.clone();
        change(&mut cert);
        let path = self.path(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&cert).unwrap()).unwrap();
        path
    }
}

async fn download_a_signed_certificate() -> Downloaded {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    let party = s.bound_party(&app, "13900000002").await;
    let doc = party
        .get(&format!("/services/{id}/documents/{}", s.doc_id))
        .await;
    assert_eq!(doc.status(), StatusCode::OK);
    party.sign(&id).await;
    app.drain().await;
    let cert = party.certificate(&id).await;
    let keys = app
        .anon()
        .json_ok(app.anon().get("/log/public-key").await, StatusCode::OK)
        .await;
    drop(app);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cert.json"),
        serde_json::to_vec_pretty(&cert).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("keys.json"),
        serde_json::to_vec(&keys).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("summons.pdf"), pdf("民事传票")).unwrap();
    Downloaded { dir, cert }
}

fn verify(cert: &Path, extra: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
    cmd.arg("verify").arg(cert).args(extra);
    cmd.output().expect("the songda binary runs")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs verify and checks its exit code and that it names the reason.
fn expect(o: Output, code: i32, says: &str) {
    let text = said(&o);
    assert_eq!(o.status.code(), Some(code), "{text}");
    assert!(text.contains(says), "expected {says:?} in:\n{text}");
}

#[tokio::test]
async fn a_downloaded_certificate_verifies_offline_with_the_public_key_and_the_document() {
    let d = download_a_signed_certificate().await;
    let cert = &d.cert;
    assert_eq!(cert["certificate_version"], 2);
    let code = cert["verification_code"].as_str().unwrap();
    assert_eq!(code.len(), 14, "{code}");
    assert!(cert["verify_url"].as_str().unwrap().ends_with(code));
    // The proof covers the consent (the clerk's record of the filing address) and every
    // event of the service, the sign-off included.
    let types: Vec<&str> = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"AddressConfirmation"), "{types:?}");
    for t in [
        "SubmissionAcceptance",
        "ContentConsignment",
        "ContentAccessTracking",
        "ConsignmentAcceptance",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    assert_eq!(
        cert["proof"]["entries"].as_array().unwrap().len(),
        types.len()
    );

    let (json, keys, doc) = (
        d.path("cert.json"),
        d.path("keys.json"),
        d.path("summons.pdf"),
    );
    let o = verify(
        &json,
        &[
            Path::new("--public-key"),
            &keys,
            Path::new("--document"),
            &doc,
        ],
    );
    let text = said(&o);
    expect(o, 0, "VALID");
    assert!(
        text.contains("byte-identical to the served document «民事传票»"),
        "{text}"
    );
    assert!(text.contains(CASE_NUMBER), "{text}");
    assert!(!text.contains("warning"), "{text}");

    // Without a key of its own the verifier uses the certificate's, and says so.
    expect(
        verify(&json, &[]),
        0,
        "warning the public key was taken from the certificate",
    );

    // The report as JSON, for machines.
    let o = verify(&json, &[Path::new("--json")]);
    assert_eq!(o.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(
        report["proven"]["service_rule"],
        "inbox_deposit_confirmed_address"
    );
    assert_eq!(report["proven"]["documents"][0]["title"], "民事传票");
}

#[tokio::test]
async fn every_change_to_the_certificate_its_events_or_the_document_is_caught() {
    let d = download_a_signed_certificate().await;
    let keys = d.path("keys.json");
    let with_key = |cert: &Path| verify(cert, &[Path::new("--public-key"), &keys]);

    // A later service time in the readable part: the events say otherwise.
    let p = d.variant("later.json", |c| {
        c["served_at"] = json!("2027-01-01T00:00:00.000000Z")
    });
    expect(with_key(&p), 1, "legal time of service");
    // Another rule.
    let p = d.variant("rule.json", |c| {
        c["service_rule"] = json!("recipient_sign_off")
    });
    expect(with_key(&p), 1, "service rule");
    // Another document hash.
    let p = d.variant("hash.json", |c| {
        c["documents"][0]["sha256"] = json!("0".repeat(64))
    });
    expect(with_key(&p), 1, "SHA-256");
    // Another recipient.
    let p = d.variant("name.json", |c| c["recipient"]["name"] = json!("王五"));
    expect(with_key(&p), 1, "recipient name");
    // One byte of one proven event.
    let p = d.variant("event.json", |c| {
        let entry = &mut c["proof"]["entries"][2]["event"];
        let text = entry.as_str().unwrap().replacen("\"v\":1", "\"v\":2", 1);
        *entry = json!(text);
    });
    expect(with_key(&p), 1, "the event was changed");
    // An event re-hashed to match, but then not in the signed tree.
    let p = d.variant("rehashed.json", |c| {
        let entry = &mut c["proof"]["entries"][2];
        let text = entry["event"]
            .as_str()
            .unwrap()
            .replacen("\"v\":1", "\"v\":2", 1);
        entry["leaf_hash"] = json!(songda_core::merkle::leaf_hash(text.as_bytes()).to_string());
        entry["event"] = json!(text);
    });
    expect(with_key(&p), 1, "not included in the signed tree head");
    // A dropped event: the readable list no longer matches what is proven.
    let p = d.variant("dropped.json", |c| {
        c["proof"]["entries"].as_array_mut().unwrap().pop();
    });
    expect(with_key(&p), 1, "lists");
    // A forged head.
    let p = d.variant("head.json", |c| {
        let size = c["proof"]["head"]["size"].as_u64().unwrap();
        c["proof"]["head"]["size"] = json!(size + 1);
    });
    expect(with_key(&p), 1, "tree head signature");
    // A head signed by a key of the forger's own, carried in the certificate: caught
    // when the verifier is given the real key.
    let p = d.variant("otherkey.json", |c| {
        c["proof"]["head"]["key_id"] = json!("0123456789abcdef")
    });
    expect(with_key(&p), 1, "not among the given public keys");
    // A file that is not the served document.
    let other = d.path("other.pdf");
    std::fs::write(&other, pdf("另一份文书")).unwrap();
    expect(
        verify(
            &d.path("cert.json"),
            &[
                Path::new("--public-key"),
                &keys,
                Path::new("--document"),
                &other,
            ],
        ),
        1,
        "is not a document of this service",
    );
}

#[tokio::test]
async fn input_that_is_not_a_certificate_is_unusable_not_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"%PDF-1.7 not json").unwrap();
    expect(verify(&junk, &[]), 2, "not JSON");
    let other = dir.path().join("other.json");
    std::fs::write(&other, br#"{"hello": "world"}"#).unwrap();
    expect(verify(&other, &[]), 2, "not a Songda service certificate");
    expect(
        verify(&dir.path().join("missing.json"), &[]),
        2,
        "cannot read",
    );
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, br#"{"certificate_version": 99}"#).unwrap();
    expect(verify(&newer, &[]), 2, "newer than this verifier");
    // A version 1 certificate is readable but proves nothing.
    let old = dir.path().join("old.json");
    std::fs::write(&old, br#"{"certificate_version": 1, "proof": null}"#).unwrap();
    expect(verify(&old, &[]), 1, "carries no proof");
    let key = dir.path().join("key.txt");
    std::fs::write(&key, b"not a key").unwrap();
    expect(
        verify(&old, &[Path::new("--public-key"), &key]),
        2,
        "neither JSON, PEM nor hex",
    );
}

/// The public page, with no session: a plain HTTP client.
async fn verify_page(app_url: &str, form: reqwest::multipart::Form) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .post(format!("{app_url}/verify"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn file(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes).file_name(name.to_string())
}

#[tokio::test]
async fn anyone_checks_a_certificate_by_its_code_or_its_file_and_a_document_on_the_verify_page() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap();
    let cert = s.clerk.certificate(id).await;
    let code = cert["verification_code"].as_str().unwrap().to_string();
    let sha = cert["documents"][0]["sha256"].as_str().unwrap();

    // The QR code's link: the result at once, the recipient's name masked.
    let r = reqwest::get(cert["verify_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for says in [
        "凭证有效",
        CASE_NUMBER,
        "北京市朝阳区人民法院",
        "李*",
        sha,
        "确认地址",
    ] {
        assert!(html.contains(says), "{says} missing from the page");
    }
    assert!(!html.contains("李四"), "the name must be masked");

    // The code typed in lower case with spaces, and the served document: it matches.
    let form = reqwest::multipart::Form::new()
        .text("code", code.to_lowercase().replace('-', " "))
        .part("document", file("传票.pdf", pdf("民事传票")));
    let (status, html) = verify_page(&app.url, form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("凭证有效") && html.contains("与上传的文件一致：传票.pdf"));
    // Another document: the page says the check failed, and why.
    let form = reqwest::multipart::Form::new()
        .text("code", code.clone())
        .part("document", file("other.pdf", pdf("另一份")));
    let (status, html) = verify_page(&app.url, form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("凭证无效") && html.contains("is not a document of this service"));

    // The certificate file itself, as a party would upload it; and a doctored one.
    let form = reqwest::multipart::Form::new().part(
        "certificate",
        file("cert.json", serde_json::to_vec(&cert).unwrap()),
    );
    let (_, html) = verify_page(&app.url, form).await;
    assert!(html.contains("凭证有效") && html.contains("李四"));
    let mut doctored = cert.clone();
    doctored["served_at"] = json!("2030-01-01T00:00:00.000000Z");
    let form = reqwest::multipart::Form::new().part(
        "certificate",
        file("cert.json", serde_json::to_vec(&doctored).unwrap()),
    );
    let (_, html) = verify_page(&app.url, form).await;
    assert!(html.contains("凭证无效") && html.contains("legal time of service"));

    // Mistakes get a clear answer on the form.
    let form = reqwest::multipart::Form::new().text("code", "0000-0000-0000");
    let (status, html) = verify_page(&app.url, form).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("没有与该核验码对应的送达凭证"));
    let form = reqwest::multipart::Form::new().text("code", "12345");
    let (status, html) = verify_page(&app.url, form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("核验码由 12 位字母和数字组成"));
    let form = reqwest::multipart::Form::new()
        .part("certificate", file("cert.json", b"%PDF-1.7".to_vec()));
    let (status, _) = verify_page(&app.url, form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = verify_page(&app.url, reqwest::multipart::Form::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn guessing_verification_codes_is_rate_limited() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..32 {
        let r = client
            .get(format!("{}/verify?code=0000-0000-{i:04}", app.url))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::NOT_FOUND),
        "{statuses:?}"
    );
    assert_eq!(statuses[31], StatusCode::TOO_MANY_REQUESTS);
}

/// Runs a poppler tool on a PDF and returns what it printed.
pub(crate) fn poppler(tool: &str, args: &[&str], pdf: &Path, after: &[&str]) -> String {
    let o = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(after)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs (poppler-utils, installed by scripts/test): {e}"));
    assert!(
        o.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The QR codes on a page, read from poppler's greyscale rendering (PGM) of it.
fn qr_codes(pdf: &Path, page: u32) -> Vec<String> {
    let page = page.to_string();
    let o = Command::new("pdftoppm")
        .args(["-gray", "-r", "150", "-f", &page, "-l", &page])
        .arg(pdf)
        .output()
        .expect("pdftoppm runs");
    assert!(o.status.success());
    // "P5\n<w> <h>\n255\n" then one byte per pixel.
    let header: Vec<&[u8]> = o.stdout.splitn(4, |b| b.is_ascii_whitespace()).collect();
    let (w, h): (usize, usize) = (
        std::str::from_utf8(header[1]).unwrap().parse().unwrap(),
        std::str::from_utf8(header[2]).unwrap().parse().unwrap(),
    );
    let pixels = &header[3][header[3].len() - w * h..];
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

#[tokio::test]
async fn the_printable_certificate_is_in_chinese_embeds_its_font_and_its_qr_code_opens_the_verification()
 {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap();
    let r = s
        .clerk
        .get(&format!("/services/{id}/certificate.pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, &bytes).unwrap();

    let cert = s.clerk.certificate(id).await;
    let code = cert["verification_code"].as_str().unwrap();
    let text = poppler("pdftotext", &["-layout"], &path, &["-"]);
    for says in [
        "电子送达凭证",
        "北京市朝阳区人民法院",
        CASE_NUMBER,
        "民事传票",
        "李四",
        cert["documents"][0]["sha256"].as_str().unwrap(),
        code,
        "受送达人签名或盖章",
        "送达时间",
    ] {
        assert!(text.contains(says), "{says} missing from:\n{text}");
    }
    // Every font is embedded, as a subset.
    let fonts = poppler("pdffonts", &[], &path, &[]);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        // name type encoding emb sub uni object ID
        assert_eq!((cols[n - 5], cols[n - 4]), ("yes", "yes"), "{fonts}");
    }
    // The QR code is the verification link, and the link proves the certificate.
    let links = qr_codes(&path, 1)
        .into_iter()
        .chain(qr_codes(&path, 2))
        .collect::<Vec<_>>();
    assert_eq!(links, [cert["verify_url"].as_str().unwrap()]);
    let page = reqwest::get(&links[0]).await.unwrap().text().await.unwrap();
    assert!(page.contains("凭证有效"), "{page}");

    // Someone else's service: no certificate, and no hint that it exists.
    let other = app.party("王五", "13900000009").await;
    let r = other.get(&format!("/services/{id}/certificate.pdf")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_chinese_font_the_printable_certificate_says_what_the_operator_must_install() {
    let app = TestApp::spawn_with(|s| {
        s.certificate_font = Some("/nonexistent/NotoSerifCJK.ttc".into());
    })
    .await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap();
    let body = expect_error(
        s.clerk
            .get(&format!("/services/{id}/certificate.pdf"))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "certificate_font_missing",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("fonts-noto-cjk"));
    // The JSON certificate does not need the font.
    let r = s.clerk.get(&format!("/services/{id}/certificate")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_certificate_read_across_a_signing_is_built_again_and_verifies() {
    let app = TestApp::spawn().await;
    let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
    let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let id = svc["id"].as_str().unwrap().to_string();
    let party = s.bound_party(&app, "13900000002").await;
    // The service as a download read it, just before the recipient signed: the readable
    // part says unsigned, the log already holds the signature.
    let stale = app.state.store.service(id.parse().unwrap()).await.unwrap();
    party.sign(&id).await;
    let cert = songda::actions::certificate::build(&app.state, &stale)
        .await
        .unwrap();
    assert!(cert["signature"]["signed_at"].is_string(), "{cert}");
    let keys = songda::actions::certificate::published_keys(&app.state)
        .await
        .unwrap();
    let report =
        songda::verify::verify(&serde_json::to_vec(&cert).unwrap(), &[], Some(&keys)).unwrap();
    assert!(report.valid, "{}", report.to_text());
}
