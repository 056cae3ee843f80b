//! Mail delivery: through real SMTP to the test server, retried with backoff when the server is
//! down, and given up visibly (operators' list, audit trail) after the last attempt.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use reqwest::{Method, StatusCode};
use sekisho_core::Clock;
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

/// Issue 16 item 12: the SMTP server down for a minute, then back. Every queued mail is
/// delivered exactly once, none is given up, and nothing is sent again later.
#[tokio::test]
async fn smtp_down_for_a_minute_then_every_queued_mail_arrives_once() {
    let app = spawn_with(Options {
        smtp_down: true,
        ..Options::default()
    })
    .await;
    let to: Vec<String> = (0..12)
        .map(|i| format!("desk{i:02}@example.co.jp"))
        .collect();
    for address in &to {
        let r = app
            .admin(Method::POST, "/mail/test", Some(json!({ "to": address })))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let all_at = |n: i64| {
        move |list: &[Value]| {
            list.len() == 12
                && list
                    .iter()
                    .all(|m| m["attempts"] == n && !m["last_error"].is_null())
        }
    };
    wait_all(&app, all_at(1)).await;
    // A minute of outage: the first retry (after 30 s) fails too.
    app.clock.advance(30);
    wait_all(&app, all_at(2)).await;
    app.clock.advance(30);
    app.smtp.up().await;
    // The next retry comes 60 s after the second attempt.
    app.clock.advance(30);
    let sent = wait_all(&app, |list| list.iter().all(|m| m["state"] == "sent")).await;
    assert!(sent.iter().all(|m| m["attempts"] == 3), "{sent:?}");
    for address in &to {
        let m = app.smtp.next_for(address, 10).await;
        assert!(m.text().contains("テストメール"));
    }
    // Nothing more: no mail is sent twice, however long the sender keeps looking.
    app.clock.advance(3600);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for address in &to {
        assert_eq!(
            app.smtp.count_for(address),
            0,
            "{address} got a second copy"
        );
    }
    assert!(mails(&app, "?state=failed").await.is_empty());
}

/// A sender that claimed a mail and died (before or after handing it to SMTP) holds it for its
/// lease only (`mail.timeout_secs` + 60 s): then any sender delivers it. So a crash between
/// delivering and marking the mail sent costs at most one extra copy of that one mail, with the
/// same `Message-ID`; a crash before delivering costs a delay, never the mail.
#[tokio::test]
async fn a_mail_claimed_by_a_sender_that_died_is_sent_when_its_lease_ends() {
    let app = spawn_with(Options {
        smtp_down: true,
        ..Options::default()
    })
    .await;
    let r = app
        .admin(
            Method::POST,
            "/mail/test",
            Some(json!({ "to": "lease@example.co.jp" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    wait_mail(&app, |m| m["attempts"] == 1 && !m["last_error"].is_null()).await;
    app.smtp.up().await;
    // Another instance's sender claims it the moment it comes due (30 s on), then dies.
    let store = &app.state.app().store;
    let due = app.clock.now().plus_secs(30);
    let lease = i64::try_from(app.state.app().settings.mail.timeout_secs).unwrap_or(0) + 60;
    let claimed = ok(store.claim_mail(due, due.plus_secs(lease)).await);
    assert!(claimed.is_some(), "the mail was due");
    app.clock.advance(30);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.smtp.count_for("lease@example.co.jp"),
        0,
        "the lease keeps other senders off"
    );
    app.clock.advance(lease - 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.count_for("lease@example.co.jp"), 0);
    app.clock.advance(1);
    let first = app.smtp.next_for("lease@example.co.jp", 10).await;
    let m = wait_mail(&app, |m| m["state"] == "sent").await;
    assert_eq!(m["attempts"], 3, "the dead sender's attempt counts");
    let id = m["id"].as_str().unwrap_or("?");
    assert!(
        first.data.contains(&format!("Message-ID: <{id}@")),
        "the same Message-ID on every attempt: {}",
        first.data
    );
    app.clock.advance(3600);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.count_for("lease@example.co.jp"), 0, "sent once");
}

/// Polls the operators' mail list until `done` holds for the whole list.
async fn wait_all(app: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..250 {
        let list = mails(app, "").await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!(
        "the mails never reached the expected state: {:?}",
        mails(app, "").await
    )
}
