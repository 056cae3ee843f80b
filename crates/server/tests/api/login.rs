use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn password_login_session_me_logout() {
    let app = spawn_app().await;
    app.create_login("Tanaka01", "abc12345").await;
    let r = app.login("TANAKA01", "abc12345").await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "login IDs compare case-insensitively"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = ok(r.json().await);
    let token = v["session_token"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("skss_") && token.len() > 40);
    assert_eq!(v["login_id"], "tanaka01");
    assert!(v["expires_at"].as_str().is_some());

    let me: Value = ok(app.get("/api/v1/me", Some(&token)).await.json().await);
    assert_eq!(me["login_id"], "tanaka01");
    assert_eq!(me["display_name"], "山田 太郎");
    assert_eq!(me["session"]["methods"], json!(["pwd"]));

    let intro = |t: String| {
        let app = &app;
        async move {
            let r = ok(app
                .http
                .post(format!("{}/api/v1/introspect", app.url))
                .bearer_auth(&app.admin_token)
                .json(&json!({ "token": t }))
                .send()
                .await);
            assert_eq!(r.status(), StatusCode::OK);
            ok(r.json::<Value>().await)
        }
    };
    let i = intro(token.clone()).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["login_id"], "tanaka01");
    assert_eq!(intro("skss_forged".into()).await["active"], false);

    // Introspection needs an API token; a session token is not one.
    let r = app
        .post(
            "/api/v1/introspect",
            Some(&token),
            json!({ "token": token }),
        )
        .await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;

    let r = app.post("/api/v1/logout", Some(&token), json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
    assert_eq!(intro(token).await["active"], false);

    let events = app.audit("tanaka01").await;
    let types: Vec<_> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types[..2], ["session_revoked", "login_succeeded"]);
    let login_ev = &events[1];
    assert_eq!(login_ev["actor"]["kind"], "self");
    assert_eq!(login_ev["client_ip"], "127.0.0.1");
    assert_eq!(login_ev["user_agent"], "sekisho-tests/1.0");
    assert_eq!(login_ev["event_group"], "login");
}

/// An unknown login and a wrong password get the same answer and cost the same work (one hash).
#[tokio::test]
async fn unknown_login_and_wrong_password_are_indistinguishable() {
    let app = spawn_app().await;
    app.create_login("sato0001", "abc12345").await;
    let hashes = || app.metric("sekisho_password_hash_seconds_count");

    let before = hashes().await;
    let unknown = app.login("nobody01", "abc12345").await;
    let after_unknown = hashes().await;
    let wrong = app.login("sato0001", "abc99999").await;
    let after_wrong = hashes().await;
    let malformed = app.login("x", "abc12345").await;
    let after_malformed = hashes().await;

    assert_eq!(after_unknown - before, 1.0);
    assert_eq!(after_wrong - after_unknown, 1.0);
    assert_eq!(after_malformed - after_wrong, 1.0);
    let a = expect_error(
        unknown,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let b = expect_error(
        wrong,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let c = expect_error(
        malformed,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert!(
        a["message"].as_str().unwrap_or("").contains("ログインID"),
        "Japanese by default"
    );
    // Both are audited with their real reason.
    let unknown_ev = app.audit("nobody01").await;
    assert_eq!(unknown_ev[0]["description"], "unknown login ID");
    assert_eq!(
        app.audit("sato0001").await[0]["description"],
        "wrong password"
    );
}

#[tokio::test]
async fn english_messages_on_request() {
    let app = spawn_app().await;
    let r = ok(app
        .http
        .post(format!("{}/api/v1/login", app.url))
        .header("accept-language", "en-US,en;q=0.9,ja;q=0.5")
        .json(&json!({ "login_id": "nobody01", "password": "x" }))
        .send()
        .await);
    assert_eq!(r.headers()["content-language"], "en");
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    assert_eq!(
        v["message"],
        "The login ID or password is incorrect. Repeated failures lock the login."
    );
}

#[tokio::test]
async fn disabled_login_is_refused_only_with_the_right_password() {
    let app = spawn_app().await;
    app.create_login("kato0001", "abc12345").await;
    let token = app.session("kato0001", "abc12345").await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/kato0001",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
    let r = app.login("kato0001", "wrong1234").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let r = app.login("kato0001", "abc12345").await;
    expect_error(r, StatusCode::FORBIDDEN, "login_disabled", "SKS-LGN-0003").await;
    app.admin(
        Method::PATCH,
        "/logins/kato0001",
        Some(json!({ "disabled": false })),
    )
    .await;
    assert_eq!(
        app.login("kato0001", "abc12345").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn mandatory_mfa_without_a_factor_is_not_initialized() {
    let app = spawn_app().await;
    app.create_login("ito00001", "abc12345").await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/ito00001",
            Some(json!({ "second_factor": "totp", "mfa_required": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.login("ito00001", "abc12345").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_not_initialized",
        "SKS-LGN-0005",
    )
    .await;
}

/// Issue 16 item 8: a login ID typed in full width by a Japanese IME is the same ID, as a
/// password typed so is the same password.
#[tokio::test]
async fn a_login_id_typed_in_full_width_is_the_same_id() {
    let app = spawn_app().await;
    app.create_login("9999000123", "abc12345").await;
    let r = app.login("９９９９０００１２３", "abc12345").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["login_id"], "9999000123");
    let r = app
        .login("\u{3000}９９９９０００１２３ ", "ａｂｃ１２３４５")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "full-width spaces around it too"
    );
}
