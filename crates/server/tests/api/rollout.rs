//! The MFA rollout policy: reminders before the deadline, then an e-mail code to the registered
//! address or a refusal, as configured; moving the test clock across the date.

use crate::common::{expect_error, ok, spawn_with, Options, TestApp, TestClock};
use reqwest::{Method, StatusCode};
use sekisho_core::login::{AfterDeadline, MfaRollout};
use sekisho_core::{Clock, Timestamp};
use serde_json::{json, Value};
use std::sync::Arc;

const DAY: i64 = 86_400;

async fn app_with(after: AfterDeadline) -> (TestApp, Timestamp) {
    let clock = Arc::new(TestClock::at(1_780_000_000));
    let deadline = clock.now().plus_secs(10 * DAY);
    let app = spawn_with(Options {
        clock: Some(clock),
        mfa: MfaRollout {
            mandatory_from: Some(deadline),
            reminder_days: 3,
            after_deadline: after,
        },
        ..Options::default()
    })
    .await;
    app.create_login("roll0001", "abc12345").await;
    (app, deadline)
}

#[tokio::test]
async fn reminded_before_the_date_then_an_email_code_after_it() {
    let (app, deadline) = app_with(AfterDeadline::EmailCode).await;
    let r = app.login("roll0001", "abc12345").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["mfa_reminder"]["mandatory_from"], deadline.to_rfc3339());
    assert_eq!(v["mfa_reminder"]["days_left"], 10);
    assert_eq!(v["mfa_reminder"]["deadline_near"], false);
    let list: Value = ok(app
        .admin(Method::GET, "/logins?q=roll", None)
        .await
        .json()
        .await);
    assert_eq!(list["logins"][0]["flags"]["mfa_deadline_near"], false);

    app.clock.advance(8 * DAY);
    let v: Value = ok(app.login("roll0001", "abc12345").await.json().await);
    assert_eq!(v["mfa_reminder"]["days_left"], 2);
    assert_eq!(v["mfa_reminder"]["deadline_near"], true);
    let list: Value = ok(app
        .admin(Method::GET, "/logins?q=roll", None)
        .await
        .json()
        .await);
    assert_eq!(list["logins"][0]["flags"]["mfa_deadline_near"], true);
    assert_eq!(
        list["logins"][0]["flags"]["second_factor_not_registered"],
        true
    );

    // From the date on: a code to the registered address.
    app.clock.advance(2 * DAY);
    let r = app.login("roll0001", "abc12345").await;
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(v["methods"], json!(["email"]), "{v}");
    let mail = app
        .smtp
        .next_kind("roll0001@example.co.jp", "email_code", 10)
        .await;
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": v["challenge"], "otp": mail.code(6) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert!(v.get("mfa_reminder").is_none());
    let list: Value = ok(app
        .admin(Method::GET, "/logins?q=roll", None)
        .await
        .json()
        .await);
    assert_eq!(
        list["logins"][0]["flags"]["mfa_deadline_near"], false,
        "passed"
    );
}

#[tokio::test]
async fn refused_after_the_date_when_the_firm_says_so() {
    let (app, _) = app_with(AfterDeadline::Refuse).await;
    assert_eq!(
        app.login("roll0001", "abc12345").await.status(),
        StatusCode::OK
    );
    app.clock.advance(10 * DAY);
    let r = app.login("roll0001", "abc12345").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_not_initialized",
        "SKS-LGN-0005",
    )
    .await;
    // A wrong password still answers as before: the rollout comes after the password.
    let r = app.login("roll0001", "wrong1234").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
}
