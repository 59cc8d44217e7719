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
