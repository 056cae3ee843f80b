use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn login_administration() {
    let app = spawn_app().await;
    let create = |body: Value| app.admin(Method::POST, "/logins", Some(body));
    let r =
        create(json!({ "login_id": "ab", "email": "a@example.com", "display_name": "A" })).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_login_id",
        "SKS-ACC-0001",
    )
    .await;
    let r =
        create(json!({ "login_id": "abcd", "email": "not-an-address", "display_name": "A" })).await;
    expect_error(r, StatusCode::BAD_REQUEST, "invalid_email", "SKS-ACC-0002").await;
    let r =
        create(json!({ "login_id": "abcd", "email": "a@example.com", "display_name": " " })).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_display_name",
        "SKS-ACC-0003",
    )
    .await;
    let r = create(json!({ "login_id": "abcd", "email": "a@example.com", "display_name": "A", "second_factor": "sms" })).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;

    for i in 0..5 {
        let r = create(
            json!({ "login_id": format!("cust{i:03}"), "email": format!("c{i}@Example.COM"),
            "display_name": format!("顧客{i}"), "lang": "en", "second_factor": "email" }),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = create(json!({ "login_id": "CUST000", "email": "x@example.com", "display_name": "X" }))
        .await;
    expect_error(r, StatusCode::CONFLICT, "login_exists", "SKS-ACC-0004").await;

    let l: Value = ok(app
        .admin(Method::GET, "/logins/cust001", None)
        .await
        .json()
        .await);
    assert_eq!(l["email"], "c1@example.com");
    assert_eq!(l["lang"], "en");
    assert_eq!(l["second_factor"], "email");
    assert_eq!(l["password_set"], false);

    let page: Value = ok(app
        .admin(Method::GET, "/logins?limit=2", None)
        .await
        .json()
        .await);
    assert_eq!(page["logins"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["next_after"], "cust001");
    let page: Value = ok(app
        .admin(Method::GET, "/logins?limit=2&after=cust003", None)
        .await
        .json()
        .await);
    assert_eq!(page["logins"][0]["login_id"], "cust004");
    assert_eq!(page["next_after"], Value::Null);
    let found: Value = ok(app
        .admin(Method::GET, "/logins?q=%E9%A1%A7%E5%AE%A23", None)
        .await
        .json()
        .await);
    assert_eq!(
        found["logins"].as_array().map(Vec::len),
        Some(1),
        "search by display name 顧客3"
    );

    let r = app.admin(Method::PATCH, "/logins/cust002", Some(json!({ "display_name": "新しい名前", "second_factor": "any", "mfa_required": true }))).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["display_name"], "新しい名前");
    assert_eq!(v["second_factor"], "any");
    assert_eq!(v["mfa_required"], true);
    let r = app
        .admin(
            Method::PATCH,
            "/logins/cust002",
            Some(json!({ "email": "bad" })),
        )
        .await;
    expect_error(r, StatusCode::BAD_REQUEST, "invalid_email", "SKS-ACC-0002").await;
    let upd = app.audit("cust002").await;
    assert_eq!(upd[0]["event_type"], "login_updated");
    assert!(upd[0]["description"]
        .as_str()
        .unwrap_or("")
        .contains("mfa_required=true"));

    let r = app.admin(Method::DELETE, "/logins/cust002", None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.admin(Method::GET, "/logins/cust002", None).await;
    expect_error(r, StatusCode::NOT_FOUND, "login_not_found", "SKS-ACC-0005").await;
    assert_eq!(
        app.count_events("cust002", "login_deleted").await,
        1,
        "the trail outlives the login"
    );
}

#[tokio::test]
async fn audit_filters_and_paging() {
    let app = spawn_app().await;
    app.create_login("aud00001", "abc12345").await;
    let t0 = app.clock_rfc3339();
    app.clock.advance(3600);
    app.login("aud00001", "wrong1234").await;
    app.login("aud00001", "abc12345").await;
    let get = |q: String| {
        let app = &app;
        async move {
            let v: Value = ok(app
                .admin(Method::GET, &format!("/audit?{q}"), None)
                .await
                .json()
                .await);
            v
        }
    };
    let v = get("login_id=aud00001&event_type=login_failed".into()).await;
    assert_eq!(v["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["events"][0]["error_code"], "SKS-LGN-0001");
    let v = get(format!("login_id=aud00001&until={t0}")).await;
    let types: Vec<_> = v["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        types,
        ["password_set", "login_created"],
        "before the clock moved"
    );
    let v = get("login_id=aud00001&limit=1".into()).await;
    let before = v["next_before"].as_i64().unwrap_or_default();
    assert!(before > 0);
    let v2 = get(format!("login_id=aud00001&limit=10&before={before}")).await;
    assert_eq!(v2["events"].as_array().map(Vec::len), Some(3));
    let v = get("actor_kind=api_token".into()).await;
    assert!(v["events"].as_array().is_some_and(|e| e.len() == 2));
    let r = app
        .admin(Method::GET, "/audit?event_type=teleported", None)
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
}

#[tokio::test]
async fn api_tokens_and_scopes() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "otp-gateway", "scope": "validate" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let secret = v["token"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("sksa_"));
    let id = v["id"].as_i64().unwrap_or_default();

    let r = app.get("/api/admin/v1/logins", Some(&secret)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "SKS-AUT-0002",
    )
    .await;
    let list: Value = ok(app
        .admin(Method::GET, "/api-tokens", None)
        .await
        .json()
        .await);
    let listed = list["api_tokens"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2);
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "x", "scope": "root" })),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;

    let r = app
        .admin(Method::DELETE, &format!("/api-tokens/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get("/api/admin/v1/logins", Some(&secret)).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let r = app.admin(Method::DELETE, "/api-tokens/424242", None).await;
    expect_error(
        r,
        StatusCode::NOT_FOUND,
        "api_token_not_found",
        "SKS-TOK-0001",
    )
    .await;
}

impl TestApp {
    fn clock_rfc3339(&self) -> String {
        use sekisho_core::Clock;
        let t = self.clock.now();
        sekisho_core::Timestamp(t.0 + 1).to_rfc3339()
    }
}

/// An instance trusts a checked API token for `api_token_cache_secs` (5 s in the tests): a
/// revocation on another instance reaches it within that time, one on itself at once.
#[tokio::test]
async fn revoked_api_tokens_stop_working_on_every_instance() {
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let clock = a.clock.clone();
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let r = a
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "otp-gateway", "scope": "admin" })),
        )
        .await;
    let v: Value = ok(r.json().await);
    let (secret, id) = (
        v["token"].as_str().unwrap_or_default().to_owned(),
        v["id"].as_i64().unwrap_or_default(),
    );
    for app in [&a, &b] {
        let r = app.get("/api/admin/v1/logins", Some(&secret)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = a
        .admin(Method::DELETE, &format!("/api-tokens/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = a.get("/api/admin/v1/logins", Some(&secret)).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    // b checked it a moment ago and still trusts it, for at most 5 seconds.
    let r = b.get("/api/admin/v1/logins", Some(&secret)).await;
    assert_eq!(r.status(), StatusCode::OK);
    clock.advance(5);
    let r = b.get("/api/admin/v1/logins", Some(&secret)).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
}
