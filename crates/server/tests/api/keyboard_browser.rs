//! The password fields' helpers in a real browser (`tests/browser/keyboard.mjs`, issue 17
//! items 1 and 2): the software keyboard (shuffled keys, Shift, 確定 / キャンセル, the keyboard
//! alone, a phone, English) and 「パスワードを表示する」 on passwords and one-time passwords;
//! and the pages' language (item 6): choice, the login's language, Accept-Language.

use crate::browser::{browser_available, create, run_script};
use crate::common::{ok, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// A login whose language is English, without a password yet; the path of its setup link.
async fn english_newcomer(app: &TestApp, login_id: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/logins",
            Some(json!({
                "login_id": login_id,
                "email": format!("{login_id}@example.co.jp"),
                "display_name": "John Smith",
                "lang": "en",
                "second_factor": "totp",
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let r = app
        .admin(
            Method::POST,
            &format!("/logins/{login_id}/setup-link"),
            Some(json!({ "password": true, "second_factor": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = ok(r.json().await);
    let url = v["url"].as_str().unwrap_or_default();
    url.strip_prefix("http://sekisho.test")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn software_keyboard_and_show_password_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    create(&app, "kbuser", "Kabu#2026Xy", false, "none").await;
    create(&app, "kbmail", "kabu2026xyz", false, "email").await;
    create(&app, "kbtemp", "Temp2026ab", true, "none").await;
    let en_setup = english_newcomer(&app, "kben").await;
    run_script(
        app.clone(),
        "keyboard.mjs",
        &[("SEKISHO_EN_SETUP", &en_setup)],
    )
    .await;
    assert!(app.count_events("kbuser", "login_succeeded").await >= 1);
    assert!(app.count_events("kbmail", "login_succeeded").await >= 1);
}
