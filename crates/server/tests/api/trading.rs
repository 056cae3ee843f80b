//! The trading password (取引パスワード): set by operators or customers, asked for before
//! sensitive changes where the firm turns it on, never the same as the login password.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, bearer: &str, body: Value) -> reqwest::Response {
    ok(app
        .http
        .put(format!("{}{path}", app.url))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await)
}

#[tokio::test]
async fn enrolment_asks_for_the_trading_password_where_the_firm_enables_it() {
    let app = spawn_with(Options {
        trading_password_reauth: true,
        ..Options::default()
    })
    .await;
    app.create_login("trade001", "abc12345").await;
    let session = app.session("trade001", "abc12345").await;
    let enrol = |body: Value| app.post("/api/v1/me/totp", Some(&session), body);

    // No trading password yet: the login password is the proof.
    let f: Value = ok(app
        .get("/api/v1/me/factors", Some(&session))
        .await
        .json()
        .await);
    assert_eq!(
        (&f["trading_password_set"], &f["reauthentication"]),
        (&json!(false), &json!("password"))
    );
    let r = app
        .admin(
            Method::PUT,
            "/logins/trade001/trading-password",
            Some(json!({ "trading_password": "abc12345" })),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "trading_password_same_as_login",
        "SKS-PWD-0011",
    )
    .await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/trade001/trading-password",
            Some(json!({ "trading_password": "short1" })),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "password_too_short",
        "SKS-PWD-0001",
    )
    .await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/trade001/trading-password",
            Some(json!({ "trading_password": "trade9876" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let f: Value = ok(app
        .get("/api/v1/me/factors", Some(&session))
        .await
        .json()
        .await);
    assert_eq!(f["reauthentication"], "trading_password");

    // Now the login password alone is not enough, and a wrong trading password is refused
    // (in Japanese by default) and counted toward the password lock.
    let r = enrol(json!({ "password": "abc12345" })).await;
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "trading_password_required",
        "SKS-PWD-0009",
    )
    .await;
    assert!(v["message"]
        .as_str()
        .is_some_and(|m| m.contains("取引パスワード")));
    let r = enrol(json!({ "trading_password": "wrong9876" })).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "trading_password_invalid",
        "SKS-PWD-0010",
    )
    .await;
    assert_eq!(app.count_events("trade001", "step_up_failed").await, 1);
    let r = enrol(json!({ "trading_password": "trade9876" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.count_events("trade001", "trading_password_set").await,
        1
    );
}

#[tokio::test]
async fn wrong_trading_passwords_lock_the_login_like_wrong_passwords() {
    let app = spawn_with(Options {
        trading_password_reauth: true,
        ..Options::default()
    })
    .await;
    app.create_login("trade002", "abc12345").await;
    let session = app.session("trade002", "abc12345").await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/trade002/trading-password",
            Some(json!({ "trading_password": "trade9876" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // jp-broker: the 5th consecutive password failure locks the login.
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/me/totp",
                Some(&session),
                json!({ "trading_password": "wrong9876" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.count_events("trade002", "login_locked").await, 1);
    // Locked: even the right password answers like a wrong one (issue 16).
    let r = app.login("trade002", "abc12345").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
}

#[tokio::test]
async fn customers_change_their_trading_password() {
    // The firm's re-authentication setting is off: changes need the login password, but the
    // trading password itself is changed only with the current one.
    let app = spawn_app().await;
    app.create_login("trade003", "abc12345").await;
    let session = app.session("trade003", "abc12345").await;
    let path = "/api/v1/me/trading-password";
    let r = put(
        &app,
        path,
        &session,
        json!({ "password": "wrong123", "new_trading_password": "trade9876" }),
    )
    .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    let r = put(
        &app,
        path,
        &session,
        json!({ "password": "abc12345", "new_trading_password": "trade9876" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Once set, the login password no longer changes it.
    let r = put(
        &app,
        path,
        &session,
        json!({ "password": "abc12345", "new_trading_password": "trade5432" }),
    )
    .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "trading_password_required",
        "SKS-PWD-0009",
    )
    .await;
    let r = put(
        &app,
        path,
        &session,
        json!({ "current_trading_password": "trade9876", "new_trading_password": "abc12345" }),
    )
    .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "trading_password_same_as_login",
        "SKS-PWD-0011",
    )
    .await;
    let r = put(
        &app,
        path,
        &session,
        json!({ "current_trading_password": "trade9876", "new_trading_password": "trade5432" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.count_events("trade003", "trading_password_changed")
            .await,
        2
    );
    // With the setting off, enrolment still takes the login password.
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": "abc12345" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The hash is not in any answer.
    let f: Value = ok(app
        .get("/api/v1/me/factors", Some(&session))
        .await
        .json()
        .await);
    assert_eq!(f["trading_password_set"], true);
    assert!(!f.to_string().contains("argon2"));
}

#[tokio::test]
async fn the_delivery_address_changes_only_with_the_trading_password_where_asked() {
    // JTG: 認証コード受信用メールアドレス changes with the trading password.
    let app = spawn_with(Options {
        trading_password_reauth: true,
        ..Options::default()
    })
    .await;
    app.create_login("trade004", "abc12345").await;
    let session = app.session("trade004", "abc12345").await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/trade004/trading-password",
            Some(json!({ "trading_password": "trade9876" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let path = "/api/v1/me/code-address";
    let address = "codes@example.jp";
    let r = put(
        &app,
        path,
        &session,
        json!({ "address": address, "current_password": "abc12345" }),
    )
    .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "trading_password_required",
        "SKS-PWD-0009",
    )
    .await;
    let r = put(
        &app,
        path,
        &session,
        json!({ "address": address, "trading_password": "trade9876" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}
