use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn idle_and_absolute_lifetimes_follow_the_clock() {
    let app = spawn_app().await;
    app.create_login("hayashi1", "abc12345").await;
    let token = app.session("hayashi1", "abc12345").await;
    // Used every 20 minutes, the session lives until its absolute end (12 h).
    for _ in 0..35 {
        app.clock.advance(20 * 60);
        assert_eq!(
            app.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::OK
        );
    }
    app.clock.advance(20 * 60 + 1);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;

    let token = app.session("hayashi1", "abc12345").await;
    app.clock.advance(30 * 60);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
}

#[tokio::test]
async fn operator_revokes_sessions_and_password_reset_ends_them() {
    let app = spawn_app().await;
    app.create_login("endo0001", "abc12345").await;
    let a = app.session("endo0001", "abc12345").await;
    let b = app.session("endo0001", "abc12345").await;
    let list: Value = ok(app
        .admin(Method::GET, "/logins/endo0001/sessions", None)
        .await
        .json()
        .await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(2));
    let r = app
        .admin(Method::DELETE, "/logins/endo0001/sessions", None)
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["revoked"], 2);
    for t in [&a, &b] {
        assert_eq!(
            app.get("/api/v1/me", Some(t)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let c = app.session("endo0001", "abc12345").await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/endo0001/password",
            Some(serde_json::json!({ "password": "reset999", "temporary": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", Some(&c)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app.login("endo0001", "reset999").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "password_change_required",
        "SKS-LGN-0004",
    )
    .await;
}
