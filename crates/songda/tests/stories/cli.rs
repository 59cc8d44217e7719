//! The command line of API.md: `user add`, `court set-regime`, `migrate`, run as a user
//! would, against a data dir that the server then opens.

use crate::backends::Backing;
use crate::helpers::*;
use reqwest::StatusCode;
use std::process::{Command, Output};

fn songda(args: &[&str], data_dir: &std::path::Path, backing: &Backing) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("SONGDA_LOG", "warn");
    backing.apply_to(&mut cmd);
    cmd.output().expect("the songda binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn staff_accounts_and_court_settings_made_on_the_command_line_work_in_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backing = Backing::for_this_run().await;

    let o = songda(&["migrate"], &data, &backing);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("schema up to date"), "{}", text(&o));
    if !backing.is_postgres() {
        assert!(data.join("songda.db").is_file());
    }

    let o = songda(
        &[
            "user",
            "add",
            "--role",
            "clerk",
            "--name",
            "钱书记员",
            "--login",
            "qian",
            "--password",
            "short",
        ],
        &data,
        &backing,
    );
    assert!(!o.status.success());
    let o = songda(
        &[
            "user",
            "add",
            "--role",
            "clerk",
            "--name",
            "钱书记员",
            "--login",
            "qian",
            "--password",
            "long-enough-1",
        ],
        &data,
        &backing,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--court"),
        "a clerk needs a court: {}",
        text(&o)
    );
    let o = songda(
        &[
            "user",
            "add",
            "--role",
            "clerk",
            "--name",
            "钱书记员",
            "--login",
            "qian",
            "--password",
            "long-enough-1",
            "--court",
            "北京市海淀区人民法院",
        ],
        &data,
        &backing,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("北京市海淀区人民法院"));
    let again = songda(
        &[
            "user",
            "add",
            "--role",
            "admin",
            "--name",
            "某",
            "--login",
            "qian",
            "--password",
            "long-enough-1",
        ],
        &data,
        &backing,
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("taken"), "{}", text(&again));
    assert_eq!(
        text(&again).trim().lines().count(),
        1,
        "one line, no trace: {}",
        text(&again)
    );

    let o = songda(
        &[
            "court",
            "set-regime",
            "--court",
            "北京市海淀区人民法院",
            "--regime",
            "nonsense",
        ],
        &data,
        &backing,
    );
    assert!(!o.status.success());
    let o = songda(
        &[
            "court",
            "set-regime",
            "--court",
            "北京市海淀区人民法院",
            "--regime",
            "CPL2017-A87",
        ],
        &data,
        &backing,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = songda(
        &[
            "court",
            "set-email-documents",
            "--court",
            "北京市海淀区人民法院",
            "--email-documents",
            "on",
        ],
        &data,
        &backing,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("serves by email too"), "{}", text(&o));

    // The server on that data dir knows the clerk and the court's regime.
    let app = TestApp::spawn_on(backing, |s| {
        s.sms_file = data.join("sms.jsonl");
        s.data_dir = data.clone();
    })
    .await;
    let clerk = app.login("qian", "long-enough-1").await;
    let err = expect_error(
        serve_new_case(
            &clerk,
            "(2026)京0108民初77号",
            "13900000008",
            "民事裁定书",
            "ruling",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "policy_refused",
    )
    .await;
    assert_eq!(err["regime"], "CPL2017-A87");
    let court = app.state.store.courts().await.unwrap();
    assert!(
        court
            .iter()
            .any(|c| c.name == "北京市海淀区人民法院" && c.email_documents)
    );
}

#[tokio::test]
async fn the_demo_never_runs_on_a_shared_database_or_bucket() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        (
            "SONGDA_DATABASE_URL",
            "postgres://songda@127.0.0.1:1/songda",
        ),
        ("SONGDA_BLOB_URL", "s3://court-documents?region=us-east-1"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_songda"))
            .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("demo"))
            .env(var, value)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{var}: {}", text(&o));
        assert!(text(&o).contains("embedded database"), "{}", text(&o));
        assert!(!dir.path().join("demo").exists(), "nothing was created");
    }
}

fn messages(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_songda"))
        .arg("messages")
        .args(args)
        .output()
        .expect("the songda binary runs")
}

#[tokio::test]
async fn an_operator_edits_a_notification_text_and_a_mistake_is_caught_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let texts = dir.path().join("texts");
    let texts_arg = texts.to_str().unwrap();
    let o = messages(&["export", texts_arg]);
    assert!(o.status.success(), "{}", text(&o));
    let sms = texts.join("new_service.sms.txt");
    let builtin = std::fs::read_to_string(&sms).unwrap();
    assert!(builtin.contains("{case_number}"), "{builtin}");
    // Only the edited file stays; the others are the built-in ones.
    for e in std::fs::read_dir(&texts).unwrap() {
        let path = e.unwrap().path();
        if path != sms {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::write(
        &sms,
        "【{court}】请{party_name}登录 {url} 签收{case_number}案件文书。\n",
    )
    .unwrap();
    let o = messages(&["check", texts_arg]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("【北京市朝阳区人民法院】请李四登录"),
        "shown with sample values: {}",
        text(&o)
    );

    // The server sends the edited text, exactly as rendered, and keeps it as evidence.
    let app = TestApp::spawn_with(|s| s.messages_dir = Some(texts.clone())).await;
    let clerk = app.clerk().await;
    let svc = clerk
        .json_ok(
            serve_new_case(&clerk, CASE_NUMBER, "13900000031", "民事判决书", "judgment").await,
            StatusCode::CREATED,
        )
        .await;
    let sent = app.last_sms("13900000031").await;
    let url = format!("{}/services/{}", app.url, svc["id"].as_str().unwrap());
    assert_eq!(
        sent,
        format!("【北京市朝阳区人民法院】请乙登录 {url} 签收{CASE_NUMBER}案件文书。")
    );
    let cert = clerk.certificate(svc["id"].as_str().unwrap()).await;
    let notice = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ConsignmentNotification" && e["channel"] == "sms")
        .unwrap()
        .clone();
    assert_eq!(notice["note"], sent.as_str());

    // A mistake: check names the file, the line and the variables there are; the server
    // refuses to start with the same words.
    std::fs::write(&sms, "【{court}】{case_number}\n请登录 {link} 签收。\n").unwrap();
    let o = messages(&["check", texts_arg]);
    assert!(!o.status.success());
    let said = text(&o);
    assert!(
        said.contains("new_service.sms.txt")
            && said.contains("line 2")
            && said.contains("{link} is not a variable")
            && said.contains("{url}"),
        "{said}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_songda"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("SONGDA_MESSAGES_DIR", &texts)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o).contains("{link} is not a variable"),
        "{}",
        text(&o)
    );
}
