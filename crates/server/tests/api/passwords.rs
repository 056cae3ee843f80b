use crate::common::*;
use reqwest::{Method, StatusCode};
use sekisho_core::password::Preset;
use serde_json::{json, Value};

async fn set_password(app: &TestApp, login: &str, pw: &str, temporary: bool) -> reqwest::Response {
    app.admin(
        Method::PUT,
        &format!("/logins/{login}/password"),
        Some(json!({ "password": pw, "temporary": temporary })),
    )
    .await
}

#[tokio::test]
async fn temporary_password_must_be_changed_at_first_login() {
    let app = spawn_app().await;
    let r = app.admin(Method::POST, "/logins", Some(json!({
        "login_id": "9999000001", "email": "c@example.co.jp", "display_name": "顧客", "password": "init1234"
    }))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert_eq!(
        v["password_temporary"], true,
        "an initial password is temporary by default"
    );

    let r = app.login("9999000001", "init1234").await;
    let v = expect_error(
        r,
        StatusCode::FORBIDDEN,
        "password_change_required",
        "SKS-LGN-0004",
    )
    .await;
    assert_eq!(v["reason"], "temporary");
    assert_eq!(v["password_change_url"], "/api/v1/me/password");
    let change = v["password_change_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The restricted token opens nothing but the password change.
    let r = app.get("/api/v1/me", Some(&change)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "password_change_required",
        "SKS-LGN-0004",
    )
    .await;
    let i: Value = ok(ok(app
        .http
        .post(format!("{}/api/v1/introspect", app.url))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "token": change }))
        .send()
        .await)
    .json()
    .await);
    assert_eq!(
        i["active"], false,
        "relying apps never see a restricted token as a login"
    );

    let r = app
        .post(
            "/api/v1/me/password",
            Some(&change),
            json!({ "current_password": "init1234", "new_password": "short1" }),
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
        .post(
            "/api/v1/me/password",
            Some(&change),
            json!({ "current_password": "init1234", "new_password": "init1234" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "password_reused",
        "SKS-PWD-0006",
    )
    .await;
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&change),
            json!({ "current_password": "init1234", "new_password": "Fresh2026" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["login_required"], true);
    let r = app.get("/api/v1/me", Some(&change)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;

    assert_eq!(
        app.login("9999000001", "Fresh2026").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("9999000001", "init1234").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.count_events("9999000001", "password_changed").await, 1);
}

#[tokio::test]
async fn password_expires_after_90_days() {
    let app = spawn_app().await;
    app.create_login("mori0001", "abc12345").await;
    app.clock.advance(89 * 86_400);
    assert_eq!(
        app.login("mori0001", "abc12345").await.status(),
        StatusCode::OK
    );
    app.clock.advance(86_400);
    let r = app.login("mori0001", "abc12345").await;
    let v = expect_error(
        r,
        StatusCode::FORBIDDEN,
        "password_change_required",
        "SKS-LGN-0004",
    )
    .await;
    assert_eq!(v["reason"], "expired");
    let l: Value = ok(app
        .admin(Method::GET, "/logins/mori0001", None)
        .await
        .json()
        .await);
    assert_eq!(l["password_expired"], true);
}

#[tokio::test]
async fn jp_broker_policy_as_in_the_seeds() {
    let app = spawn_app().await;
    app.create_login("ogawa001", "abc12345").await;
    let cases = [
        ("abc1234", "password_too_short", "SKS-PWD-0001"),
        ("abcd1234abcd12345", "password_too_long", "SKS-PWD-0002"),
        ("abcdefgh", "password_composition", "SKS-PWD-0003"),
        (
            "パスワード12345",
            "password_invalid_characters",
            "SKS-PWD-0004",
        ),
        ("xOgawa0019", "password_contains_login_id", "SKS-PWD-0005"),
    ];
    for (pw, err, code) in cases {
        let r = set_password(&app, "ogawa001", pw, false).await;
        expect_error(r, StatusCode::BAD_REQUEST, err, code).await;
    }
    let r = ok(app
        .http
        .put(format!("{}/api/admin/v1/logins/ogawa001/password", app.url))
        .bearer_auth(&app.admin_token)
        .header("accept-language", "en")
        .json(&json!({ "password": "abc1234", "temporary": false }))
        .send()
        .await);
    let v = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "password_too_short",
        "SKS-PWD-0001",
    )
    .await;
    assert_eq!(
        v["message"],
        "The password must be at least 8 characters long."
    );

    // History: the last 2 passwords (current included) are refused, the 3rd back is allowed.
    let token = app.session("ogawa001", "abc12345").await;
    let change = |cur: &'static str, new: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.post(
                "/api/v1/me/password",
                Some(&token),
                json!({ "current_password": cur, "new_password": new }),
            )
            .await
        }
    };
    assert_eq!(
        change("abc12345", "second22").await.status(),
        StatusCode::OK
    );
    expect_error(
        change("second22", "abc12345").await,
        StatusCode::BAD_REQUEST,
        "password_reused",
        "SKS-PWD-0006",
    )
    .await;
    expect_error(
        change("second22", "second22").await,
        StatusCode::BAD_REQUEST,
        "password_reused",
        "SKS-PWD-0006",
    )
    .await;
    assert_eq!(
        change("second22", "third333").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        change("third333", "abc12345").await.status(),
        StatusCode::OK,
        "3 generations back is allowed"
    );
    // The session that changed the password stays valid.
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );
    // A wrong current password is refused and counts toward the lock.
    let r = change("nope1234", "fourth44").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    let l: Value = ok(app
        .admin(Method::GET, "/logins/ogawa001", None)
        .await
        .json()
        .await);
    assert_eq!(l["failed_logins"], 1);
}

#[tokio::test]
async fn nist_preset_blocklist_and_lengths() {
    let app = spawn_with(Options {
        preset: Preset::Nist80063b4,
        ..Default::default()
    })
    .await;
    let create =
        |id: &'static str, pw: &'static str, mfa: bool| {
            let app = &app;
            async move {
                app.admin(Method::POST, "/logins", Some(json!({
                "login_id": id, "email": "n@example.com", "display_name": "N", "password": pw,
                "temporary": false, "mfa_required": mfa,
            }))).await
            }
        };
    expect_error(
        create("nist0001", "1qaz2wsx3edc4rfv", false).await,
        StatusCode::BAD_REQUEST,
        "password_common",
        "SKS-PWD-0007",
    )
    .await;
    expect_error(
        create("nist0001", "tiny but fine", false).await,
        StatusCode::BAD_REQUEST,
        "password_too_short",
        "SKS-PWD-0001",
    )
    .await;
    assert!(
        app.admin(Method::GET, "/logins/nist0001", None)
            .await
            .status()
            == StatusCode::NOT_FOUND,
        "a refused password creates nothing"
    );
    assert_eq!(
        create("nist0002", "tiny but fine", true).await.status(),
        StatusCode::CREATED,
        "8 is enough with MFA"
    );
    assert_eq!(
        create("nist0001", "すべて日本語のながいパスフレーズです", false)
            .await
            .status(),
        StatusCode::CREATED
    );
    // No expiry in this preset.
    app.clock.advance(400 * 86_400);
    assert_eq!(
        app.login("nist0001", "すべて日本語のながいパスフレーズです")
            .await
            .status(),
        StatusCode::OK
    );
}
