//! Setup links: the admin API makes them; the hosted wizard opens only the newest, unused,
//! unexpired one (the whole wizard runs in the browser journeys, `browser.rs`).

use crate::common::{expect_error, ok, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn link(app: &TestApp, login_id: &str, body: Value) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/logins/{login_id}/setup-link"),
        Some(body),
    )
    .await
}

fn path_of(v: &Value) -> String {
    v["url"]
        .as_str()
        .and_then(|u| u.strip_prefix("http://sekisho.test"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn setup_links_are_made_checked_replaced_and_expire() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/logins",
            Some(json!({
                "login_id": "newbie",
                "email": "newbie@example.co.jp",
                "display_name": "新人 一郎",
                "second_factor": "totp",
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = link(&app, "newbie", json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = ok(r.json().await);
    let first_path = path_of(&first);
    assert!(first_path.starts_with("/setup/skst_"), "{first}");
    assert_eq!(first["password"], true);
    assert_eq!(first["second_factor"], true);
    assert_eq!(first["expires_at"], "2026-06-04T20:26:40Z");
    // Checks.
    let r = link(
        &app,
        "newbie",
        json!({ "password": false, "second_factor": false }),
    )
    .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = link(&app, "newbie", json!({ "expires_in_secs": 10 })).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = link(&app, "nobody", json!({})).await;
    expect_error(r, StatusCode::NOT_FOUND, "login_not_found", "SKS-ACC-0005").await;
    // The first link opens the wizard at the password step.
    let r = app.get(&first_path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(ok(r.text().await).contains("1. パスワードの設定"));
    // A newer link replaces it.
    let r = link(&app, "newbie", json!({ "expires_in_secs": 3600 })).await;
    let second: Value = ok(r.json().await);
    let r = app.get(&first_path, None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = ok(r.text().await);
    assert!(
        html.contains("SKS-WEB-0005") && html.contains("0120-000-000"),
        "{html}"
    );
    let r = app.get(&path_of(&second), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    // It expires.
    app.clock.advance(3600);
    let r = app.get(&path_of(&second), None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get("/setup/skst_unknown", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count_events("newbie", "setup_link_created").await, 2);
}

#[tokio::test]
async fn the_wizard_enforces_the_password_policy_on_the_server() {
    let app = spawn_app().await;
    app.admin(
        Method::POST,
        "/logins",
        Some(json!({
            "login_id": "newbie",
            "email": "newbie@example.co.jp",
            "display_name": "新人 一郎",
        })),
    )
    .await;
    let r = link(&app, "newbie", json!({ "second_factor": false })).await;
    let v: Value = ok(r.json().await);
    let path = path_of(&v);
    let http = ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build());
    let r = ok(http.get(format!("{}{path}", app.url)).send().await);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let html = ok(r.text().await);
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let post = |pw: &'static str| {
        http.post(format!("{}{path}/password", app.url))
            .header("cookie", cookie.clone())
            .form(&[
                ("csrf", csrf.as_str()),
                ("new_password", pw),
                ("confirm_password", pw),
            ])
            .send()
    };
    // Digits only: the jp-broker preset wants letters and digits.
    let r = ok(post("12345678").await);
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(ok(r.text().await).contains("SKS-PWD-"));
    let r = ok(post("abcd1234").await);
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Password only: the wizard is finished, and the link is used up.
    let r = ok(http
        .get(format!("{}{path}", app.url))
        .header("cookie", cookie.clone())
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(ok(r.text().await).contains("初期設定が完了しました"));
    assert_eq!(app.count_events("newbie", "setup_link_used").await, 1);
    assert_eq!(app.count_events("newbie", "password_set").await, 1);
    let r = app.login("newbie", "abcd1234").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get(&path, None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
