//! Mail delivery: through real SMTP to the test server, retried with backoff when the server is
//! down, and given up visibly (operators' list, audit trail) after the last attempt.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

async fn mails(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.admin(Method::GET, &format!("/mail{query}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    v["mails"].as_array().cloned().unwrap_or_default()
}

/// Polls the operators' mail list until `done` holds for the newest mail (bounded wait for the
/// asynchronous sender).
pub async fn wait_mail(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..250 {
        if let Some(m) = mails(app, "").await.into_iter().next().filter(|m| done(m)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!(
        "mail never reached the expected state: {:?}",
        mails(app, "").await
    )
}

#[tokio::test]
async fn test_mail_is_delivered_over_smtp_and_listed_as_sent() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/mail/test",
            Some(json!({ "to": "ops@example.co.jp", "lang": "ja" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let m = app.smtp.next_for("ops@example.co.jp", 10).await;
    assert!(m.text().contains("テストメール"), "{}", m.text());
    assert!(m.text().contains("関所証券"));
    assert!(m.part("text/html").contains("<p>"));
    assert!(m.data.contains("From: =?utf-8?") || m.data.contains("From:"));
    let sent = wait_mail(&app, |m| m["state"] == "sent").await;
    assert_eq!(sent["attempts"], 1);
    assert_eq!(sent["kind"], "test");
    assert!(sent.get("body").is_none(), "operators never see bodies");
    assert_eq!(mails(&app, "?state=failed").await.len(), 0);
    let r = app.admin(Method::GET, "/mail?state=lost", None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn smtp_down_retries_with_backoff_then_fails_visibly() {
    let app = spawn_with(Options {
        smtp_down: true,
        mail_max_attempts: 3,
        ..Options::default()
    })
    .await;
    let r = app
        .admin(
            Method::POST,
            "/mail/test",
            Some(json!({ "to": "ops@example.co.jp" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let m = wait_mail(&app, |m| m["attempts"] == 1 && !m["last_error"].is_null()).await;
    assert_eq!(m["state"], "pending", "{m}");
    // Not retried before the backoff (30 s) has passed...
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails(&app, "").await[0]["attempts"], 1);
    // ...then retried, and the wait doubles (60 s).
    app.clock.advance(30);
    wait_mail(&app, |m| m["attempts"] == 2 && !m["last_error"].is_null()).await;
    app.clock.advance(30);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails(&app, "").await[0]["attempts"], 2);
    app.clock.advance(30);
    let failed = wait_mail(&app, |m| m["state"] == "failed").await;
    assert_eq!(failed["attempts"], 3);
    assert!(failed["failed_at"].is_string());
    let listed = mails(&app, "?state=failed").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["recipient"], "ops@example.co.jp");
    let r = app
        .admin(Method::GET, "/audit?event_type=mail_failed", None)
        .await;
    let v: Value = ok(r.json().await);
    let events = v["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{v}");
    assert_eq!(events[0]["event_group"], "mail");
    // A failed mail is not retried any more.
    app.clock.advance(3600);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails(&app, "").await[0]["attempts"], 3);
}
