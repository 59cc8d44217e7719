//! Reminders to recipients who have not signed, quiet hours, and the hourly limit of
//! messages to one number.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use songda::jobs::reminders::queue_due;
use time::Duration;

/// The SMS sent to `phone` so far.
fn sms_to(app: &TestApp, phone: &str) -> Vec<String> {
    app.sms()
        .into_iter()
        .filter(|(to, _)| to == phone)
        .map(|(_, text)| text)
        .collect()
}

/// Queues the reminders due (one service's, once: a second pass queues nothing), sends
/// them, and counts the reminders `phone` has had.
async fn remind_and_count(app: &TestApp, phone: &str) -> usize {
    assert_eq!(queue_due(&app.state).await.unwrap(), 1);
    assert_eq!(queue_due(&app.state).await.unwrap(), 0, "queued once");
    app.drain().await;
    sms_to(app, phone)
        .iter()
        .filter(|t| t.contains("尚未签收"))
        .count()
}

#[tokio::test]
async fn an_unsigned_service_is_reminded_once_per_threshold_and_a_signed_one_never() {
    let app = TestApp::spawn_with(|s| {
        s.remind_after = vec![Duration::ZERO, Duration::seconds(2)];
    })
    .await;
    // One party signs at once; another does nothing.
    let signer = case_with_party(&app, "13900000041", Some("filing_address")).await;
    let signed = signer
        .clerk
        .json_ok(signer.serve().await, StatusCode::CREATED)
        .await;
    let party = signer.bound_party(&app, "13900000041").await;
    party.sign(signed["id"].as_str().unwrap()).await;
    let idle = signer
        .clerk
        .json_ok(
            serve_new_case(
                &signer.clerk,
                "(2026)京0105民初22222号",
                "13900000042",
                "民事裁定书",
                "ruling",
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    app.drain().await;
    let before_signer = sms_to(&app, "13900000041").len();

    // The first threshold has passed: one reminder, to the one who has not signed.
    assert_eq!(queue_due(&app.state).await.unwrap(), 1);
    assert_eq!(queue_due(&app.state).await.unwrap(), 0, "queued once");
    app.drain().await;
    let idle_sms = sms_to(&app, "13900000042");
    let reminder = idle_sms.last().unwrap();
    assert!(
        reminder.contains("尚未签收") && reminder.contains("民事裁定书"),
        "{reminder}"
    );
    let today = songda_core::timefmt::court_date(time::OffsetDateTime::now_utc());
    assert!(
        reminder.contains(&format!("{}月{}日", u8::from(today.month()), today.day())),
        "the date of service: {reminder}"
    );
    assert!(reminder.contains(&format!("/services/{}", idle["id"].as_str().unwrap())));

    // The second threshold: a second reminder, then nothing more.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(remind_and_count(&app, "13900000042").await, 2);
    assert_eq!(
        sms_to(&app, "13900000041").len(),
        before_signer,
        "the signer is left alone"
    );

    // Each reminder sent is evidence of the service, with its text.
    let cert = signer.clerk.certificate(idle["id"].as_str().unwrap()).await;
    let reminded: Vec<_> = cert["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["type"] == "ConsignmentNotification"
                && e["note"].as_str().is_some_and(|n| n.contains("尚未签收"))
        })
        .collect();
    assert_eq!(reminded.len(), 2, "{cert}");
}

#[tokio::test]
async fn a_service_found_past_both_thresholds_gets_one_reminder_not_two() {
    let app = TestApp::spawn_with(|s| {
        s.remind_after = vec![Duration::ZERO, Duration::ZERO + Duration::milliseconds(1)];
    })
    .await;
    let clerk = app.clerk().await;
    clerk
        .json_ok(
            serve_new_case(&clerk, CASE_NUMBER, "13900000043", "传票", "summons").await,
            StatusCode::CREATED,
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    assert_eq!(remind_and_count(&app, "13900000043").await, 1);
}

#[tokio::test]
async fn reminders_wait_out_quiet_hours_while_codes_and_notices_go_at_once() {
    // Quiet from an hour ago until an hour from now, court time.
    let now = time::OffsetDateTime::now_utc().to_offset(songda_core::timefmt::COURT_OFFSET);
    let window = format!(
        "{}-{}",
        (now - Duration::hours(1))
            .time()
            .format(&time::macros::format_description!("[hour]:[minute]"))
            .unwrap(),
        (now + Duration::hours(1))
            .time()
            .format(&time::macros::format_description!("[hour]:[minute]"))
            .unwrap(),
    );
    let quiet = songda::config::QuietHours::parse(&window).unwrap();
    let app = TestApp::spawn_with(|s| {
        s.remind_after = vec![Duration::ZERO];
        s.quiet_hours = quiet;
    })
    .await;
    let clerk = app.clerk().await;
    clerk
        .json_ok(
            serve_new_case(&clerk, CASE_NUMBER, "13900000044", "传票", "summons").await,
            StatusCode::CREATED,
        )
        .await;
    app.drain().await;
    // The binding code and the notice went at once.
    assert_eq!(sms_to(&app, "13900000044").len(), 2);
    // A sign-up code goes at once too.
    let r = app
        .anon()
        .post(
            "/auth/register",
            json!({"name": "王五", "phone": "13900000045", "email": "", "password": "secret-pass"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.drain().await;
    assert_eq!(sms_to(&app, "13900000045").len(), 1);

    // The reminder waits until the window ends, unsent and with no attempt counted.
    assert_eq!(queue_due(&app.state).await.unwrap(), 1);
    app.drain().await;
    assert_eq!(sms_to(&app, "13900000044").len(), 2);
    let held = app
        .state
        .store
        .recent_notifications(20)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.purpose == "reminder")
        .unwrap();
    assert_eq!((held.status.as_str(), held.attempts), ("queued", 0));
    let due = held.next_attempt_at;
    let expected = quiet
        .unwrap()
        .ends_after(time::OffsetDateTime::now_utc())
        .unwrap();
    assert!(
        (due - expected).abs() < Duration::seconds(1),
        "{due} vs {expected}"
    );
    // The operator sees it waiting, and until when.
    app.staff(songda::store::Role::Admin, "admin", None).await;
    let page = clerk_page_as(&app, "admin", "/admin/outbox").await;
    assert!(
        page.contains(&format!(
            "等待至 {}",
            songda_core::timefmt::court_seconds(due)
        )),
        "{page}"
    );
    assert!(page.contains("签收提醒"));
}

#[tokio::test]
async fn a_number_gets_at_most_the_hourly_limit_of_codes_and_a_courts_notice_still_goes() {
    let app = TestApp::spawn_with(|s| s.sms_per_number_per_hour = 2).await;
    let clerk = app.clerk().await;
    let phone = "13900000046";
    // The same person is a party in three cases: three binding codes.
    for i in 0..3 {
        let case = new_case(&clerk, &format!("(2026)京0105民初3000{i}号"), "甲诉乙").await;
        clerk
            .json_ok(
                clerk
                    .post(
                        &format!("/cases/{}/parties", case["id"].as_str().unwrap()),
                        json!({"name": "乙", "role": "defendant", "phone": phone}),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await;
    }
    app.drain().await;
    assert_eq!(sms_to(&app, phone).len(), 2, "two now, the third held");
    let held = app
        .state
        .store
        .recent_notifications(20)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.status == "queued")
        .expect("the third binding code waits");
    assert_eq!((held.purpose.as_str(), held.attempts), ("binding_code", 0));

    // A service is the court's act: its notice goes at once, limit or not.
    clerk
        .json_ok(
            serve_new_case(&clerk, "(2026)京0105民初30009号", phone, "传票", "summons").await,
            StatusCode::CREATED,
        )
        .await;
    app.drain().await;
    let texts = sms_to(&app, phone);
    assert_eq!(texts.len(), 3);
    assert!(texts[2].contains("待签收"), "{}", texts[2]);
}
