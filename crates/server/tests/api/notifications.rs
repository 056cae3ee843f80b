//! Notices read from the SMTP listener: a mail at every login when switched on (by the customer
//! or by the firm's default), and always on factor, password and lock changes; Japanese or
//! English by the login's language, without links.

use crate::code_address::call;
use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use crate::email_code::PASSWORD;
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

/// Mails of a kind recorded for a login, from the operators' outbox list.
async fn outbox(app: &TestApp, login_id: &str, kind: &str) -> usize {
    let r = app.admin(Method::GET, "/mail?limit=500", None).await;
    let v: Value = ok(r.json().await);
    v["mails"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["login_id"] == login_id && m["kind"] == kind)
        .count()
}

fn no_link(text: &str, html: &str) {
    assert!(!text.contains("http") && !html.contains("href"), "{text}");
}

#[tokio::test]
async fn the_customer_switches_login_notices_on_and_off() {
    let app = spawn_app().await;
    app.create_login("sakai", PASSWORD).await;
    let token = app.session("sakai", PASSWORD).await;
    assert_eq!(
        outbox(&app, "sakai", "login_notice").await,
        0,
        "off by default"
    );
    let r = call(
        &app,
        Method::PUT,
        "/api/v1/me/notifications",
        &token,
        Some(json!({ "login": true })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["login"], true);
    app.session("sakai", PASSWORD).await;
    let mail = app
        .smtp
        .next_kind("sakai@example.co.jp", "login_notice", 10)
        .await;
    let text = mail.text();
    assert!(
        text.contains("ログインのお知らせ") || mail.data.contains("Subject"),
        "{text}"
    );
    assert!(text.contains("ログインがありました"), "{text}");
    assert!(text.contains("(JST)") && text.contains("(UTC)"), "{text}");
    assert!(text.contains("IPアドレス: 127.0.0.1"), "{text}");
    assert!(text.contains("sekisho-tests/1.0"), "{text}");
    assert!(text.contains("認証方法: パスワード"), "{text}");
    assert!(
        text.contains("関所証券サポートデスク(0120-000-000)"),
        "{text}"
    );
    no_link(&text, &mail.part("text/html"));
    let r = call(
        &app,
        Method::PUT,
        "/api/v1/me/notifications",
        &token,
        Some(json!({ "login": false })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.session("sakai", PASSWORD).await;
    assert_eq!(outbox(&app, "sakai", "login_notice").await, 1, "off again");
}

#[tokio::test]
async fn the_firm_default_applies_at_creation_and_operators_can_change_it() {
    let app = spawn_with(Options {
        notify_login_default: true,
        ..Options::default()
    })
    .await;
    app.create_login("tani", PASSWORD).await;
    let r = app.admin(Method::GET, "/logins/tani", None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["notify_login"], true, "{v}");
    let r = app
        .admin(Method::PATCH, "/logins/tani", Some(json!({ "lang": "en" })))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.session("tani", PASSWORD).await;
    let mail = app
        .smtp
        .next_kind("tani@example.co.jp", "login_notice", 10)
        .await;
    let text = mail.text();
    assert!(text.contains("Someone logged in to your"), "{text}");
    assert!(text.contains("Method: password"), "{text}");
    assert!(text.contains("contact 関所証券サポートデスク"), "{text}");
    let r = app
        .admin(
            Method::PATCH,
            "/logins/tani",
            Some(json!({ "notify_login": false })),
        )
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["notify_login"], false, "{v}");
    app.session("tani", PASSWORD).await;
    assert_eq!(outbox(&app, "tani", "login_notice").await, 1);
}

#[tokio::test]
async fn factor_password_and_lock_changes_are_always_notified() {
    let app = spawn_app().await;
    let address = "kubo@example.co.jp";
    app.create_login("kubo", PASSWORD).await;
    let session = app.session("kubo", PASSWORD).await;
    // Authenticator app registered, then stopped.
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": PASSWORD }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    let code = |app: &TestApp| {
        let now = app.clock.now().0;
        app.clock.advance(30 - now.rem_euclid(30));
        totp_at(
            &secret,
            totp_step(app.clock.now(), 30),
            OtpParams::default(),
        )
    };
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": code(&app) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app.smtp.next_kind(address, "factor_added_notice", 10).await;
    assert!(mail
        .text()
        .contains("認証アプリ(ワンタイムパスワード)が登録されました"));
    no_link(&mail.text(), &mail.part("text/html"));
    // Ten wrong codes lock the factor.
    let wrong = if code(&app) == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..10 {
        let r = app
            .post(
                "/api/v1/login",
                None,
                json!({ "login_id": "kubo", "password": PASSWORD, "otp": wrong }),
            )
            .await;
        assert_ne!(r.status(), StatusCode::OK);
    }
    let mail = app.smtp.next_kind(address, "locked_notice", 10).await;
    assert!(
        mail.text().contains("追加認証をロックしました"),
        "{}",
        mail.text()
    );
    let r = app.admin(Method::POST, "/logins/kubo/unlock", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = call(
        &app,
        Method::DELETE,
        "/api/v1/me/totp",
        &session,
        Some(json!({ "otp": code(&app) })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app
        .smtp
        .next_kind(address, "factor_removed_notice", 10)
        .await;
    assert!(
        mail.text().contains("利用が停止されました"),
        "{}",
        mail.text()
    );
    // Password changed by the customer, then reset by an operator.
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&session),
            json!({ "current_password": PASSWORD, "new_password": "kabu2027abc" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app
        .smtp
        .next_kind(address, "password_changed_notice", 10)
        .await;
    assert!(mail.text().contains("ログインパスワードが変更されました"));
    let r = app
        .admin(
            Method::PUT,
            "/logins/kubo/password",
            Some(json!({ "password": "kabu2028def", "temporary": false })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mail = app
        .smtp
        .next_kind(address, "password_changed_notice", 10)
        .await;
    assert!(mail.text().contains("再設定しました"));
    // Five wrong passwords lock the login.
    for _ in 0..5 {
        app.login("kubo", "wrong2026pass").await;
    }
    let mail = app.smtp.next_kind(address, "locked_notice", 10).await;
    assert!(
        mail.text().contains("ログインをロックしました"),
        "{}",
        mail.text()
    );
    assert!(mail.text().contains("ロックの解除は関所証券サポートデスク"));
    // The prompt answers a locked login like a wrong password (issue 16): the mail says so.
    assert!(mail
        .text()
        .contains("正しいパスワードを入力してもログインできず"));
}
