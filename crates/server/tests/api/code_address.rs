//! The code delivery address (JTG): a new address needs the current password and the code mailed
//! to it; once confirmed, login codes go there and the old address is told; removing it falls
//! back to the registered address.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use crate::email_code::{answer, email_login, start, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A customer request with a session token.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = app
        .http
        .request(method, format!("{}{path}", app.url))
        .bearer_auth(bearer);
    if let Some(b) = body {
        r = r.json(&b);
    }
    ok(r.send().await)
}

/// Logs in with the code mailed to `address`; returns the session token.
pub async fn email_session(app: &TestApp, login_id: &str, address: &str) -> String {
    let (challenge, code) = start(app, login_id, address).await;
    let r = answer(app, &challenge, &code).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    v["session_token"].as_str().unwrap_or_default().to_owned()
}

async fn set(app: &TestApp, token: &str, address: &str, password: &str) -> reqwest::Response {
    call(
        app,
        Method::PUT,
        "/api/v1/me/code-address",
        token,
        Some(json!({ "address": address, "current_password": password })),
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        "/api/v1/me/code-address/confirm",
        token,
        Some(json!({ "code": code })),
    )
    .await
}

#[tokio::test]
async fn codes_go_to_the_new_address_after_confirmation_and_back_when_removed() {
    let app = spawn_app().await;
    let registered = email_login(&app, "mori").await;
    let token = email_session(&app, "mori", &registered).await;
    let phone = "mori.phone@example.ne.jp";
    let r = set(&app, &token, phone, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["pending"]["address"], phone, "{v}");
    assert_eq!(v["delivers_to"], registered.as_str(), "not yet effective");
    let mail = app.smtp.next_for(phone, 10).await;
    assert!(mail.text().contains("確認コード"), "{}", mail.text());
    let r = confirm(&app, &token, &mail.code(6)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["code_email"], phone, "{v}");
    assert_eq!(v["delivers_to"], phone);
    assert_eq!(v["pending"], Value::Null);
    // The old address is told, without a link.
    let notice = app.smtp.next_for(&registered, 10).await;
    let text = notice.text();
    assert!(
        text.contains("配信先が mo***@example.ne.jp に変更"),
        "{text}"
    );
    assert!(!text.contains("http"));
    assert_eq!(app.count_events("mori", "code_address_changed").await, 1);
    // Login codes now go to the new address.
    let (challenge, code) = start(&app, "mori", phone).await;
    assert_eq!(
        answer(&app, &challenge, &code).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.smtp.count_for(&registered), 0);

    // Removing it needs the password too, and falls back to the registered address.
    let r = call(
        &app,
        Method::DELETE,
        "/api/v1/me/code-address",
        &token,
        Some(json!({ "current_password": "wrong-password1" })),
    )
    .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    assert_eq!(app.count_events("mori", "step_up_failed").await, 1);
    let r = call(
        &app,
        Method::DELETE,
        "/api/v1/me/code-address",
        &token,
        Some(json!({ "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["code_email"], Value::Null);
    assert_eq!(v["delivers_to"], registered.as_str());
    let notice = app.smtp.next_for(phone, 10).await;
    assert!(notice
        .text()
        .contains("ご登録のメールアドレスに戻されました"));
    let (challenge, code) = start(&app, "mori", &registered).await;
    assert_eq!(
        answer(&app, &challenge, &code).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_confirmation_code_changes_nothing() {
    let app = spawn_app().await;
    let registered = email_login(&app, "ueda").await;
    let token = email_session(&app, "ueda", &registered).await;
    let r = set(&app, &token, "ueda@example.org", "Wrong2026pass").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    assert_eq!(app.smtp.count_for("ueda@example.org"), 0);
    let r = set(&app, &token, "ueda@example.org", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = app.smtp.next_for("ueda@example.org", 10).await.code(6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for left in (0..5).rev() {
        let r = confirm(&app, &token, wrong).await;
        let v = expect_error(
            r,
            StatusCode::BAD_REQUEST,
            "confirmation_code_invalid",
            "SKS-ACC-0006",
        )
        .await;
        assert_eq!(v["tries_left"], left, "{v}");
    }
    // Worn out: even the right code no longer works.
    let r = confirm(&app, &token, &code).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "confirmation_code_invalid",
        "SKS-ACC-0006",
    )
    .await;
    let r = call(&app, Method::GET, "/api/v1/me/code-address", &token, None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["code_email"], Value::Null, "{v}");
    assert_eq!(v["pending"], Value::Null, "{v}");
    assert_eq!(
        app.count_events("ueda", "code_address_confirmation_failed")
            .await,
        6
    );
    // An expired code is refused too.
    let r = set(&app, &token, "ueda@example.org", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = app.smtp.next_for("ueda@example.org", 10).await.code(6);
    app.clock.advance(300);
    let r = confirm(&app, &token, &code).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "confirmation_code_invalid",
        "SKS-ACC-0006",
    )
    .await;
    let (challenge, code) = start(&app, "ueda", &registered).await;
    assert_eq!(
        answer(&app, &challenge, &code).await.status(),
        StatusCode::OK
    );
}
