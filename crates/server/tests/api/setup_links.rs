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

/// 保存して終了 (CQG 2.2, issue 17 item 3): after the password step the wizard may stop; the page
/// says until when the same link finishes it, and the link then opens at step 2 with the
/// password kept. A link without a password step offers no such stop and numbers no step 1.
#[tokio::test]
async fn save_and_exit_keeps_the_password_and_the_link_until_it_expires() {
    use crate::pages::Browser;
    use crate::setup_passkey::{link_for, set_password};
    let app = spawn_app().await;
    let path = link_for(&app, "tanaka01", "totp").await;
    let mut b = Browser::new();
    let html = set_password(&app, &mut b, &path).await;
    assert!(html.contains(&format!("href=\"{path}/later\"")), "{html}");
    assert!(html.contains("保存して終了") && html.contains("1. パスワードの設定(完了)"));
    let (status, _, html) = b.get(&app, &format!("{path}/later")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("パスワードを保存しました"), "{html}");
    let until = html
        .split("id=\"link-until\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default();
    assert!(
        until.ends_with(" JST"),
        "the link's end in the firm's time: {until}"
    );
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    // Later, in another browser: step 2 with the password kept.
    let mut later = Browser::new();
    let (status, _, html) = later.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("シークレットキーの登録") && !html.contains("new_password"));
    let r = app.login("tanaka01", "hana2026ko").await;
    let v: Value = ok(r.json().await);
    assert_ne!(
        v["error"], "invalid_credentials",
        "the password was kept: {v}"
    );
    // Before the password is set there is nothing to save: the later page sends back.
    let path2 = link_for(&app, "tanaka02", "totp").await;
    let (status, h, _) = b.get(&app, &format!("{path2}/later")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], path2.as_str());
    // A link for the second factor only: one step, no step 1, no 保存して終了.
    app.create_login("tanaka03", "kabu2026xyz").await;
    let r = link(
        &app,
        "tanaka03",
        json!({ "password": false, "second_factor": true }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let only = path_of(&ok(r.json().await));
    let (_, _, html) = b.get(&app, &only).await;
    assert!(
        !html.contains("パスワードの設定") && !html.contains("保存して終了"),
        "{html}"
    );
}
