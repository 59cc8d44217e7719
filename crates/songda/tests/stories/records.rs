//! A recipient's documents across cases and courts: found by any fragment of a Chinese
//! title, case number, court or name; filtered, sorted and paged; pinned, read and filed in
//! folders of their own.

use crate::helpers::{Api, TestApp, binding_code, expect_error, new_case, page_as};
use reqwest::StatusCode;
use serde_json::{Value, json};
use songda::store::Role;
use songda_core::timefmt::court_date;

const PHONE: &str = "13800138031";

/// Serves `docs` (title, type) one by one on 李四 in a new case of the clerk's court;
/// returns the binding code and the services' ids.
async fn case_with(
    app: &TestApp,
    clerk: &Api,
    number: &str,
    docs: &[(&str, &str)],
) -> (String, Vec<String>) {
    let case = new_case(clerk, number, "张三诉李四买卖合同纠纷").await;
    let case_id = case["id"].as_str().unwrap();
    let party = clerk
        .json_ok(
            clerk
                .post(
                    &format!("/cases/{case_id}/parties"),
                    json!({"name": "李四", "role": "defendant", "phone": PHONE, "consent_basis": "prior_agreement"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let code = binding_code(&app.last_sms(PHONE).await);
    let mut ids = Vec::new();
    for (title, doc_type) in docs {
        let s =
            crate::helpers::upload_and_serve(clerk, case_id, &party["id"], title, doc_type).await;
        ids.push(s["id"].as_str().unwrap().to_string());
    }
    (code, ids)
}

struct World {
    party: Api,
    judgment: String,
    notice: String,
    summons: String,
    ruling: String,
    court2: String,
}

async fn world(app: &TestApp) -> World {
    let clerk = app.clerk().await;
    let clerk2 = app
        .staff(Role::Clerk, "clerk2", Some("上海市浦东新区人民法院"))
        .await;
    let (code1, a) = case_with(
        app,
        &clerk,
        "(2026)京0105民初30001号",
        &[
            ("民事判决书（一审）", "judgment"),
            ("应诉通知书", "notice"),
            ("开庭传票", "summons"),
        ],
    )
    .await;
    let (code2, b) = case_with(
        app,
        &clerk2,
        "(2026)沪0115民初40002号",
        &[("民事裁定书（管辖权异议）", "ruling")],
    )
    .await;
    let party = app.party("李四", PHONE).await;
    for (number, code) in [
        ("(2026)京0105民初30001号", &code1),
        ("(2026)沪0115民初40002号", &code2),
    ] {
        party
            .json_ok(
                party
                    .post("/me/cases", json!({"case_number": number, "code": code}))
                    .await,
                StatusCode::OK,
            )
            .await;
    }
    let court2 = app
        .state
        .store
        .courts()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "上海市浦东新区人民法院")
        .unwrap()
        .id
        .to_string();
    World {
        party,
        judgment: a[0].clone(),
        notice: a[1].clone(),
        summons: a[2].clone(),
        ruling: b[0].clone(),
        court2,
    }
}

async fn list(api: &Api, query: &str) -> Value {
    api.json_ok(
        api.get(&format!("/me/services?{query}")).await,
        StatusCode::OK,
    )
    .await
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(v: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn any_fragment_of_a_chinese_title_case_number_or_court_finds_the_document() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let q = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for (term, want) in [
        // Two characters (matched without the trigram index) and three or more (with it).
        ("判决", vec![&w.judgment]),
        ("裁定书", vec![&w.ruling]),
        ("管辖权异议", vec![&w.ruling]),
        ("一审", vec![&w.judgment]),
        ("浦东新区", vec![&w.ruling]),
        ("30001", vec![&w.judgment, &w.notice, &w.summons]),
        ("传票 开庭", vec![&w.summons]),
        ("李四", vec![&w.judgment, &w.notice, &w.summons, &w.ruling]),
        ("不存在的文书", vec![]),
        ("%", vec![&w.judgment, &w.notice, &w.summons, &w.ruling]),
    ] {
        let v = list(&w.party, &format!("q={}", q(term))).await;
        assert_eq!(ids(&v), sorted(&want), "{term}");
        assert_eq!(v["total"], want.len(), "{term}");
    }
    // Filters: a court, a type, a day range in court time, a status.
    let v = list(&w.party, &format!("court_id={}", w.court2)).await;
    assert_eq!(ids(&v), sorted(&[&w.ruling]));
    let v = list(&w.party, "doc_type=notice").await;
    assert_eq!(ids(&v), sorted(&[&w.notice]));
    let today = court_date(app.state.now());
    let v = list(&w.party, &format!("from={today}&to={today}")).await;
    assert_eq!(v["total"], 4);
    let v = list(&w.party, &format!("to={}", today.previous_day().unwrap())).await;
    assert_eq!(v["total"], 0);
    let v = list(&w.party, "status=failed").await;
    assert_eq!(
        (v["total"].as_i64(), v["counts"]["pending"].as_i64()),
        (Some(0), Some(4))
    );
    for bad in [
        "status=lost",
        "from=2026-13-01",
        "limit=9999",
        "sort=random",
        "case_id=x",
    ] {
        expect_error(
            w.party.get(&format!("/me/services?{bad}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
    }

    // The page finds it too.
    let page = page_as(
        &app,
        PHONE,
        "secret-pass",
        &format!("/inbox?status=all&q={}", q("判决")),
    )
    .await;
    assert!(page.contains(&format!("data-service=\"{}\"", w.judgment)));
    assert!(!page.contains(&format!("data-service=\"{}\"", w.notice)));
}

#[tokio::test]
async fn pages_pins_unread_markers_and_folders_are_the_recipients_own() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let all = [&w.judgment, &w.notice, &w.summons, &w.ruling];

    // Two pages of two: nothing twice, nothing missed.
    let p1 = list(&w.party, "limit=2&sort=newest").await;
    let p2 = list(&w.party, "limit=2&offset=2&sort=newest").await;
    assert_eq!(
        (p1["total"].as_i64(), p2["items"].as_array().unwrap().len()),
        (Some(4), 2)
    );
    let mut both = ids(&p1);
    both.extend(ids(&p2));
    both.sort();
    assert_eq!(both, sorted(&all));

    // Unread until opened.
    assert_eq!(list(&w.party, "unread=1").await["total"], 4);
    w.party
        .json_ok(
            w.party.get(&format!("/services/{}", w.notice)).await,
            StatusCode::OK,
        )
        .await;
    let v = list(&w.party, "unread=1").await;
    assert_eq!(ids(&v), sorted(&[&w.judgment, &w.summons, &w.ruling]));
    let marks = w
        .party
        .json_ok(
            w.party
                .put(
                    &format!("/me/services/{}/marks", w.notice),
                    json!({"read": false}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    assert_eq!(marks["read_at"], Value::Null);
    assert_eq!(list(&w.party, "unread=1").await["total"], 4);

    // A pinned document comes first.
    w.party
        .json_ok(
            w.party
                .put(
                    &format!("/me/services/{}/marks", w.summons),
                    json!({"pinned": true}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    let v = list(&w.party, "").await;
    assert_eq!(v["items"][0]["id"], w.summons.as_str());
    assert_eq!(v["items"][0]["pinned"], true);
    assert_eq!(
        ids(&list(&w.party, "pinned=1").await),
        sorted(&[&w.summons])
    );

    // Folders group documents across cases.
    let f = w
        .party
        .json_ok(
            w.party.post("/me/folders", json!({"name": "需上诉"})).await,
            StatusCode::CREATED,
        )
        .await;
    let fid = f["id"].as_str().unwrap();
    expect_error(
        w.party
            .post("/me/folders", json!({"name": " 需上诉 "}))
            .await,
        StatusCode::CONFLICT,
        "folder_exists",
    )
    .await;
    expect_error(
        w.party.post("/me/folders", json!({"name": ""})).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    for s in [&w.judgment, &w.ruling] {
        let m = w
            .party
            .json_ok(
                w.party
                    .put(
                        &format!("/me/services/{s}/marks"),
                        json!({"folder_ids": [fid]}),
                    )
                    .await,
                StatusCode::OK,
            )
            .await;
        assert_eq!(m["folders"][0]["name"], "需上诉");
    }
    assert_eq!(
        ids(&list(&w.party, &format!("folder_id={fid}")).await),
        sorted(&[&w.judgment, &w.ruling])
    );
    let folders = w
        .party
        .json_ok(w.party.get("/me/folders").await, StatusCode::OK)
        .await;
    assert_eq!(folders["items"][0]["count"], 2);
    let page = page_as(
        &app,
        PHONE,
        "secret-pass",
        &format!("/inbox?status=all&folder_id={fid}"),
    )
    .await;
    assert!(page.contains("需上诉") && page.contains(&format!("data-service=\"{}\"", w.ruling)));

    // Someone else can neither mark these services nor use the folder.
    let other = app.party("王五", "13800138032").await;
    expect_error(
        other
            .put(
                &format!("/me/services/{}/marks", w.ruling),
                json!({"pinned": true}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(list(&other, &format!("folder_id={fid}")).await["total"], 0);
    expect_error(
        other.delete_path(&format!("/me/folders/{fid}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Deleting the folder keeps its documents.
    let r = w.party.delete_path(&format!("/me/folders/{fid}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(list(&w.party, "").await["total"], 4);
    assert_eq!(
        list(&w.party, "").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| !x["folders"].as_array().unwrap().is_empty())
            .count(),
        0
    );
}

#[tokio::test]
async fn a_selection_downloads_as_a_zip_whose_hashes_and_certificates_verify() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    w.party.sign(&w.judgment).await;
    app.drain().await;
    let r = w
        .party
        .post(
            "/services/bundle",
            json!({"service_ids": [w.judgment, w.ruling, w.judgment]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    zip.extract(dir.path()).unwrap();
    let root = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // Every file is listed with its hash, and the hashes hold.
    let sums = std::fs::read_to_string(root.join("SHA256SUMS")).unwrap();
    let mut listed = 0;
    for line in sums.lines() {
        let (hash, path) = line.split_once("  ").unwrap();
        let data = std::fs::read(root.join(path)).unwrap();
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data)),
            hash,
            "{path}"
        );
        listed += 1;
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let services = manifest["services"].as_array().unwrap();
    assert_eq!(
        services.len(),
        2,
        "a service selected twice is bundled once"
    );
    // Two documents, two certificates of two files each, and the manifest.
    assert_eq!(listed, 2 + 4 + 1);

    // Each certificate verifies offline against the document beside it.
    let keys = app
        .anon()
        .json_ok(app.anon().get("/log/public-key").await, StatusCode::OK)
        .await;
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    for s in services {
        let doc = root.join(s["documents"][0]["file"].as_str().unwrap());
        let cert = root.join(s["certificate"]["json"].as_str().unwrap());
        assert!(
            root.join(s["certificate"]["pdf"].as_str().unwrap())
                .exists()
        );
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_songda"))
            .arg("verify")
            .arg(&cert)
            .arg("--public-key")
            .arg(dir.path().join("keys.json"))
            .arg("--document")
            .arg(&doc)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let signed = services
        .iter()
        .find(|s| s["id"] == w.judgment.as_str())
        .unwrap();
    assert_eq!(signed["status"], "signed");
    assert_eq!(signed["deadlines"][0]["kind"], "appeal");

    // The download is recorded as the recipient's handover of the documents.
    let svc = w
        .party
        .json_ok(
            w.party.get(&format!("/services/{}", w.ruling)).await,
            StatusCode::OK,
        )
        .await;
    assert!(
        svc["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "ContentHandover"),
        "{svc}"
    );

    // Someone else's service, nothing selected, or a stranger asking: refused, nothing leaks.
    let other = app.party("王五", "13800138033").await;
    expect_error(
        other
            .post("/services/bundle", json!({"service_ids": [w.judgment]}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        w.party
            .post("/services/bundle", json!({"service_ids": []}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;

    // The list exports as CSV, the Chinese intact.
    let r = w.party.get("/me/services.csv?status=all&sort=case").await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("\u{feff}送达编号,法院,案号"));
    assert!(
        csv.contains("民事判决书（一审）") && csv.contains("上诉期限 "),
        "{csv}"
    );

    // The records page offers the same, and its CSV holds what was signed.
    let page = page_as(&app, PHONE, "secret-pass", "/records").await;
    assert!(page.contains("id=\"download-bundle\"") && page.contains("/records.csv"));
    assert!(page.contains(&format!("value=\"{}\"", w.judgment)));
}

#[tokio::test]
async fn the_clerks_board_lists_across_cases_what_failed_was_refused_or_waits_too_long() {
    // Mail cannot be delivered and is tried once: the email notice fails for good.
    let port = crate::backends::free_port();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.notify_attempts = 1;
    })
    .await;
    let s = crate::helpers::case_with_party(&app, "13800138041", Some("filing_address")).await;
    let failed = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
    let failed = failed["id"].as_str().unwrap().to_string();
    app.drain().await;
    let party = s.bound_party(&app, "13800138041").await;
    let refused = crate::helpers::upload_and_serve(
        &s.clerk,
        &s.case_id,
        &json!(s.party_id),
        "民事裁定书",
        "ruling",
    )
    .await;
    let refused = refused["id"].as_str().unwrap().to_string();
    party
        .json_ok(
            party
                .post(
                    &format!("/services/{refused}/refuse"),
                    json!({"reason": "wrong_document", "note": "不是我的"}),
                )
                .await,
            StatusCode::OK,
        )
        .await;

    let court = |q: &'static str| {
        let clerk = &s.clerk;
        async move {
            clerk
                .json_ok(
                    clerk.get(&format!("/court/services?{q}")).await,
                    StatusCode::OK,
                )
                .await
        }
    };
    assert_eq!(ids(&court("status=failed").await), vec![failed.clone()]);
    assert_eq!(ids(&court("status=refused").await), vec![refused.clone()]);
    let v = court("pending_days=0").await;
    assert_eq!(
        ids(&v),
        vec![failed.clone()],
        "pending, deposited before now"
    );
    assert_eq!(v["counts"]["failed"], 1);
    assert_eq!(court("pending_days=3").await["total"], 0);

    // Those awaiting the recipient first, newest first, then the settled; a page may span
    // both.
    let newest = crate::helpers::upload_and_serve(
        &s.clerk,
        &s.case_id,
        &json!(s.party_id),
        "举证通知书",
        "notice",
    )
    .await;
    let newest = newest["id"].as_str().unwrap().to_string();
    let in_order = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = court("").await;
    assert_eq!(
        in_order(&all),
        vec![newest.clone(), failed.clone(), refused.clone()]
    );
    assert_eq!(
        (
            all["counts"]["pending"].as_i64(),
            all["counts"]["refused"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let spanning = court("limit=2&offset=1").await;
    assert_eq!(in_order(&spanning), vec![failed.clone(), refused.clone()]);
    assert_eq!(spanning["total"], 3);
    assert_eq!(in_order(&court("offset=2").await), vec![refused.clone()]);
    assert_eq!(
        in_order(&court("status=pending&offset=1").await),
        vec![failed.clone()]
    );
    assert_eq!(
        in_order(&court("sort=oldest&limit=1").await),
        vec![failed.clone()]
    );
    // A court's search: by the trigram index (three characters or more) and by shorter
    // fragments, the stage each service has now.
    assert_eq!(in_order(&court("q=民事裁定").await), vec![refused.clone()]);
    assert_eq!(in_order(&court("q=裁定").await), vec![refused.clone()]);
    assert_eq!(in_order(&court("q=举证").await), vec![newest.clone()]);
    assert_eq!(court("q=裁定&status=pending").await["total"], 0);
    expect_error(
        party.get("/court/services").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The board page: waiting over three days by default, then the failures.
    let page = crate::helpers::clerk_page(&app, "/board").await;
    assert!(
        page.contains("没有需要跟进的送达"),
        "nothing waits three days yet"
    );
    let page = crate::helpers::clerk_page(&app, "/board?status=failed").await;
    assert!(page.contains(&format!("data-service=\"{failed}\"")));
    assert!(!page.contains(&format!("data-service=\"{refused}\"")));
    let csv = s
        .clerk
        .get("/court/services.csv?status=refused")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains("不是我的") || csv.contains("文书错误"),
        "{csv}"
    );
}

#[tokio::test]
async fn the_case_page_names_who_still_needs_another_method_and_each_deadline() {
    let app = TestApp::spawn().await;
    // No consent: the policy refuses electronic service of the summons.
    let s = crate::helpers::case_with_party(&app, "13800138051", None).await;
    expect_error(
        s.serve().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "consent_required",
    )
    .await;
    // A second party consents, is served a judgment, and refuses it objecting to
    // electronic service.
    let other = s
        .clerk
        .json_ok(
            s.clerk
                .post(
                    &format!("/cases/{}/parties", s.case_id),
                    json!({"name": "王五", "role": "third_party", "phone": "13800138052", "consent_basis": "prior_agreement"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    let code = binding_code(&app.last_sms("13800138052").await);
    let judgment = crate::helpers::upload_and_serve(
        &s.clerk,
        &s.case_id,
        &other["id"],
        "民事判决书",
        "judgment",
    )
    .await;
    let wang = app.party("王五", "13800138052").await;
    wang.json_ok(
        wang.post(
            "/me/cases",
            json!({"case_number": crate::helpers::CASE_NUMBER, "code": code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    wang.json_ok(
        wang.post(
            &format!("/services/{}/refuse", judgment["id"].as_str().unwrap()),
            json!({"reason": "objects_to_electronic_service", "note": ""}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let page = crate::helpers::clerk_page(&app, &format!("/cases/{}", s.case_id)).await;
    let another = &page[page
        .find("id=\"another-method\"")
        .expect("the list is shown")..];
    let another = &another[..another.find("</section>").unwrap()];
    assert!(
        another.contains("李四") && another.contains("民事传票"),
        "{another}"
    );
    assert!(
        another.contains("王五") && another.contains("民事判决书"),
        "{another}"
    );
    // The board shows the judgment's appeal deadline.
    let ends = judgment["deadlines"][0]["ends"].as_str().unwrap();
    let board = &page[page.find("id=\"board-table\"").unwrap()..];
    assert!(board.contains(&format!("上诉期限 {ends}")), "{board}");
}
