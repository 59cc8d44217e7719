//! The whole journey, clicked through in a real headless Chromium: a clerk
//! creates a case, adds a party, uploads a PDF and serves it; the party registers,
//! verifies their phone, binds the case, confirms their address, reads the document
//! and signs for it; the record and the evidence say so.
//!
//! Everything happens through the UI. The only shortcuts are the ones a test cannot
//! avoid: the clerk's account is created as `songda user add` would, the SMS sink
//! stands in for the party's phone, and `app.drain()` delivers what the worker would.
//!
//! Screenshots of the party's pages (phone size) are saved under
//! `$CARGO_TARGET_TMPDIR/browser-journey/` for a human to look at.

use crate::helpers::*;
use crate::webdriver::{Browser, Element};
use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PHONE: &str = "13900000002";
const TITLE: &str = "张三诉李四买卖合同纠纷";
/// The case number as a party might type it: full-width parentheses.
const CASE_NUMBER_FULL_WIDTH: &str = "（2026）京0105民初12345号";

// Multi-threaded: dropping a `Browser` blocks while Chromium shuts down, and
// the app (spawned on this runtime) must keep answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_journey_in_a_real_browser() -> Result<()> {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    // Creates the clerk's account; the browser logs in through the form.
    let clerk_api = app.clerk().await;
    let shots = screenshot_dir()?;
    let pdf = songda::pdf::sample_pdf(
        "民事传票",
        &[
            "李四：",
            "本院受理张三诉李四买卖合同纠纷一案，",
            "请按时到庭。",
        ],
    );
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let files = tempfile::tempdir()?;
    let pdf_path = files.path().join("summons.pdf");
    std::fs::write(&pdf_path, &pdf)?;

    // ---- 1. The clerk creates the case, adds the party, uploads and serves.
    let clerk = Browser::start().await?;
    clerk.goto(&format!("{}/login", app.url)).await?;
    type_into(&clerk, "#login", "clerk").await?;
    type_into(&clerk, "#password", "password-123").await?;
    click(&clerk, "#login-submit").await?;
    wait_url(&clerk, "/cases").await?;

    type_into(&clerk, "#case_number", CASE_NUMBER).await?;
    type_into(&clerk, "#title", TITLE).await?;
    click(&clerk, "#create-case").await?;
    clerk.wait_for_text("h1#case-number", CASE_NUMBER).await?;
    let case_url = clerk.current_url().await?;
    let case_url = case_url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned();

    type_into(&clerk, "#p-name", "李四").await?;
    clerk
        .find("#p-role")
        .await?
        .select_by_value("defendant")
        .await?;
    type_into(&clerk, "#p-phone", PHONE).await?;
    type_into(&clerk, "#p-email", "lisi@example.com").await?;
    clerk
        .find("#p-basis")
        .await?
        .select_by_value("filing_address")
        .await?;
    click(&clerk, "#add-party").await?;
    clerk
        .wait_for_text("#parties-table tbody tr", "李四")
        .await?;

    type_into(&clerk, "#d-title", "民事传票").await?;
    clerk
        .find("#d-type")
        .await?
        .select_by_value("summons")
        .await?;
    let file = clerk.find("#d-file").await?;
    file.send_keys(pdf_path.to_str().context("temp path is not UTF-8")?)
        .await?;
    click(&clerk, "#upload").await?;
    clerk
        .wait_for_text("#documents-table tbody tr", "民事传票")
        .await?;
    // The table shows the start of the hash; the full one is in the title.
    let shown = clerk
        .find("#documents-table code.hash")
        .await?
        .attr("title")
        .await?;
    ensure!(
        shown.as_deref() == Some(sha256.as_str()),
        "uploaded hash {shown:?} != {sha256}"
    );

    let boxes = clerk.find_all("#serve-form input[type=checkbox]").await?;
    ensure!(
        boxes.len() == 2,
        "serve form: want 1 document + 1 party, got {} boxes",
        boxes.len()
    );
    for b in &boxes {
        click_el(&clerk, b).await?;
        ensure!(
            b.property("checked").await? == json!(true),
            "checkbox did not tick"
        );
    }
    click(&clerk, "#serve-check").await?;
    let preview = clerk.wait_for_text("#preview li", "可以电子送达").await?;
    ensure!(
        preview.text().await?.contains("李四"),
        "preview names the party"
    );
    click(&clerk, "#serve-confirm").await?;
    let row = clerk.wait_for_text("#board-table tbody tr", "李四").await?;
    let service_id = row
        .attr("data-service")
        .await?
        .context("board row has no data-service")?;
    ensure!(row.text().await?.contains("民事传票"));
    let badge = clerk
        .find(&format!(
            "#board-table tr[data-service=\"{service_id}\"] .badge"
        ))
        .await?;
    ensure!(
        badge
            .attr("class")
            .await?
            .unwrap_or_default()
            .split(' ')
            .any(|c| c == "pending"),
        "board badge is not pending: {:?}",
        badge.attr("class").await?
    );
    save_screenshot(&clerk, &shots, "case-board.png").await?;

    // ---- 2. The party, on their own phone.
    // The binding-code and service SMS are queued; deliver them now so that the
    // verification code is the last SMS to this phone.
    app.drain().await;
    let sms = app.sms();
    let binding_sms = sms
        .iter()
        .filter(|(to, text)| to == PHONE && text.contains("绑定码"))
        .map(|(_, text)| text.clone())
        .next_back()
        .context("no binding-code SMS to the party")?;
    let code = binding_code(&binding_sms);
    ensure!(
        sms.iter().any(|(to, t)| to == PHONE
            && t.contains("民事传票")
            && t.contains(&format!("/services/{service_id}"))),
        "no service SMS with a link to the service: {sms:?}"
    );

    let party = Browser::start().await?;
    party.goto(&format!("{}/register", app.url)).await?;
    type_into(&party, "#name", "李四").await?;
    type_into(&party, "#phone", PHONE).await?;
    type_into(&party, "#email", "lisi@example.com").await?;
    type_into(&party, "#password", "secret-pass").await?;
    click(&party, "#register-submit").await?;
    wait_url(&party, "/verify-phone").await?;

    let verification = six_digits(&app.last_sms(PHONE).await);
    type_into(&party, "#code", &verification).await?;
    click(&party, "#verify-submit").await?;
    wait_url(&party, "/login").await?;
    // The login form comes back with the phone filled in.
    let login = party.find("#login").await?.property("value").await?;
    ensure!(login == json!(PHONE), "login field holds {login}");
    type_into(&party, "#password", "secret-pass").await?;
    click(&party, "#login-submit").await?;
    wait_url(&party, "/inbox").await?;

    click(&party, "main a[href=\"/bind\"]").await?;
    wait_url(&party, "/bind").await?;
    type_into(&party, "#case_number", CASE_NUMBER_FULL_WIDTH).await?;
    type_into(&party, "#code", &code).await?;
    click(&party, "#bind-submit").await?;
    wait_url(&party, "/consent").await?;

    party.wait_for_text("main .page-head", CASE_NUMBER).await?;
    let ack = party.find("#acknowledged").await?;
    click_el(&party, &ack).await?;
    ensure!(
        ack.property("checked").await? == json!(true),
        "acknowledgement did not tick"
    );
    click(&party, "#consent-submit").await?;
    wait_url(&party, "/inbox").await?;

    let item = party
        .wait_for_text("ul#service-list li a[data-service]", "民事传票")
        .await?;
    ensure!(item.attr("data-service").await?.as_deref() == Some(service_id.as_str()));
    fits_the_phone(&party).await?;
    save_screenshot(&party, &shots, "inbox.png").await?;
    click_el(&party, &item).await?;
    wait_url(&party, &format!("/services/{service_id}")).await?;

    party.wait_for_text("h1#service-title", "民事传票").await?;
    let hash = party.find("code.doc-hash").await?.text().await?;
    ensure!(
        hash.trim() == sha256,
        "page shows hash {hash:?}, the PDF's is {sha256}"
    );
    fits_the_phone(&party).await?;
    save_screenshot(&party, &shots, "service.png").await?;
    // Pages are lazy-loaded images: bring the first into view and wait for it.
    let img = party.find("img.doc-page").await?;
    party
        .execute(
            "arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});",
            vec![img.json()],
        )
        .await?;
    let width = wait_image_loaded(&party, &img, Duration::from_secs(15)).await?;
    ensure!(
        width > 100,
        "the page image is implausibly narrow: {width} px"
    );
    save_screenshot(&party, &shots, "service-page.png").await?;

    click(&party, "#sign-link").await?;
    wait_url(&party, &format!("/services/{service_id}/sign")).await?;
    party.find("#sign-confirm").await?;
    fits_the_phone(&party).await?;
    save_screenshot(&party, &shots, "sign.png").await?;
    click(&party, "#sign-confirm").await?;
    wait_url(&party, &format!("/services/{service_id}/record")).await?;
    let signature = party.wait_for_text("#record-signature", "电子签收").await?;
    let signature = signature.text().await?;
    ensure!(signature.contains("李四"), "signature cell: {signature:?}");
    party.wait_for_text("#record h2", "送达回证").await?;
    fits_the_phone(&party).await?;
    save_screenshot(&party, &shots, "record.png").await?;

    // The clerk's board follows.
    clerk.goto(&case_url).await?;
    let badge = clerk
        .find(&format!(
            "#board-table tr[data-service=\"{service_id}\"] .badge"
        ))
        .await?;
    let class = badge.attr("class").await?.unwrap_or_default();
    ensure!(
        class.split(' ').any(|c| c == "signed"),
        "board badge after signing: {class:?}"
    );

    party.quit().await?;
    clerk.quit().await?;

    // ---- 3. The evidence: signed, with the view and the signature attributed to Chrome.
    let svc = clerk_api
        .json_ok(
            clerk_api.get(&format!("/services/{service_id}")).await,
            StatusCode::OK,
        )
        .await;
    ensure!(svc["status"] == "signed", "service: {svc}");
    ensure!(
        svc["documents"][0]["sha256"] == sha256.as_str(),
        "service: {svc}"
    );
    let kinds: Vec<&str> = svc["events"]
        .as_array()
        .context("no events")?
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    // The certificate carries the events in full, with who did what from where.
    let cert = clerk_api
        .json_ok(
            clerk_api
                .get(&format!("/services/{service_id}/certificate"))
                .await,
            StatusCode::OK,
        )
        .await;
    ensure!(cert["recipient"]["name"] == "李四", "certificate: {cert}");
    ensure!(
        cert["documents"][0]["sha256"] == sha256.as_str(),
        "certificate: {cert}"
    );
    let events = cert["events"]
        .as_array()
        .context("certificate has no events")?;
    for kind in ["ContentAccessTracking", "ConsignmentAcceptance"] {
        ensure!(
            kinds.contains(&kind),
            "no {kind} among the service's events {kinds:?}"
        );
        let e = events
            .iter()
            .find(|e| e["type"] == kind)
            .with_context(|| format!("no {kind} event in the certificate: {events:?}"))?;
        let ua = e["client"]["user_agent"].as_str().unwrap_or_default();
        ensure!(ua.contains("Chrome"), "{kind} user agent {ua:?}: {e}");
    }

    eprintln!(
        "browser journey took {:.1?}; screenshots in {}",
        started.elapsed(),
        shots.display()
    );
    Ok(())
}

/// Clicks the element matching `css`, as a user would.
async fn click(b: &Browser, css: &str) -> Result<()> {
    let el = b.find(css).await?;
    click_el(b, &el)
        .await
        .with_context(|| format!("clicking `{css}`"))
}

/// Scrolls `el` into view, then clicks it; when that fails, says what is there.
///
/// The app's stylesheet sets `scroll-behavior: smooth`. Chromedriver scrolls
/// an element into view before clicking and then clicks at once, mid-animation
/// (and headless Chromium barely animates), so it misses the element with
/// "element click intercepted". An instant scroll first avoids that.
async fn click_el(b: &Browser, el: &Element) -> Result<()> {
    b.execute(
        "arguments[0].scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});",
        vec![el.json()],
    )
    .await?;
    if let Err(e) = el.click().await {
        let there = b
            .execute(
                "const r = arguments[0].getBoundingClientRect(); \
                 const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
                 return {rect: r, there: e && e.outerHTML.slice(0, 300), scrollY: window.scrollY};",
                vec![el.json()],
            )
            .await
            .unwrap_or_default();
        let url = b.current_url().await.unwrap_or_default();
        return Err(e.context(format!("click failed on {url}: {there}")));
    }
    Ok(())
}

/// Clears the field matching `css`, types `text`, and checks the field holds it.
async fn type_into(b: &Browser, css: &str, text: &str) -> Result<()> {
    let el = b.find(css).await?;
    el.clear().await?;
    el.send_keys(text).await?;
    let got = el.property("value").await?;
    ensure!(
        got == json!(text),
        "typed {text:?} into `{css}` but it holds {got}"
    );
    Ok(())
}

/// Waits up to 10 s until the page's URL path contains `needle` (after a form
/// submission or a click on a link).
async fn wait_url(b: &Browser, needle: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = b.current_url().await?;
        let path = url.splitn(4, '/').nth(3).unwrap_or_default();
        if format!("/{path}").contains(needle) {
            return Ok(url);
        }
        if Instant::now() >= deadline {
            let body = b.page_source().await.unwrap_or_default();
            let start = body.find("<main").unwrap_or(0);
            let snippet: String = body[start..].chars().take(1500).collect();
            bail!("still at {url}, expected a URL with {needle:?}\n{snippet}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until `img` has loaded; returns its natural width.
async fn wait_image_loaded(b: &Browser, img: &Element, within: Duration) -> Result<u64> {
    let deadline = Instant::now() + within;
    loop {
        let v = b
            .execute(
                "const i = arguments[0]; return i.complete ? i.naturalWidth : 0;",
                vec![img.json()],
            )
            .await?;
        let w = v.as_u64().unwrap_or(0);
        if w > 0 {
            return Ok(w);
        }
        if Instant::now() >= deadline {
            let src = img.attr("src").await?.unwrap_or_default();
            bail!("page image {src} not loaded after {within:?} (naturalWidth {v})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Nothing on the page is wider than the phone: no sideways scrolling.
async fn fits_the_phone(b: &Browser) -> Result<()> {
    let widths = b
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    ensure!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "page is wider than the viewport ([scrollWidth, innerWidth] = {widths}) at {}",
        b.current_url().await?
    );
    Ok(())
}

fn screenshot_dir() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-journey");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn save_screenshot(b: &Browser, dir: &std::path::Path, name: &str) -> Result<()> {
    let png = b.screenshot_png().await?;
    std::fs::write(dir.join(name), png)?;
    Ok(())
}
