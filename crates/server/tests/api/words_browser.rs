//! What the pages say, in a real browser (`tests/browser/words.mjs`, issue 17 items 5 and 12):
//! the password rules box checks as the customer types exactly what the server will refuse
//! (the verdicts handed to the script come from the server's own `PasswordPolicy::check`), for
//! both presets, on the customer's and the operator's setup, in Japanese and English; and the
//! Japanese of the second step, the token registration, the forced change and the history.

use crate::browser::{browser_available, create, run_script};
use crate::code_address::{call, email_session};
use crate::common::{spawn_app, spawn_with, Options};
use reqwest::{Method, StatusCode};
use sekisho_core::password::{PasswordPolicy, Preset};
use sekisho_core::Error;
use serde_json::{json, Value};
use std::sync::Arc;

/// The server's verdict on each password for `login_id`: accepted, or the rule it breaks.
fn samples(preset: Preset, login_id: &str, has_second_factor: bool, typed: &[&str]) -> String {
    let policy = PasswordPolicy::preset(preset);
    let all: Vec<Value> = typed
        .iter()
        .map(|t| {
            let verdict = policy.check(&PasswordPolicy::normalize(t), login_id, has_second_factor);
            match verdict {
                Ok(()) => json!({ "typed": t, "ok": true }),
                Err(Error::PasswordPolicy(v)) => {
                    json!({ "typed": t, "ok": false, "rule": v.rule_id() })
                }
                Err(e) => unreachable!("{e:?}"),
            }
        })
        .collect();
    Value::Array(all).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_rules_and_the_pages_words_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    let setup = app
        .newcomer(
            "nakamura",
            "totp",
            "ja",
            json!({ "password": true, "second_factor": true }),
        )
        .await;
    let setup_en = app
        .newcomer(
            "nakano",
            "totp",
            "en",
            json!({ "password": true, "second_factor": true }),
        )
        .await;
    let typed = [
        "Nakamura2026",
        "ＮＡＫＡＭＵＲＡ１",
        "abc12345",
        "ａｂｃ１２３４５",
        "abc 12345",
        "abcdefgh",
        "12345678",
        "abc1234",
        "abcd1234abcd12345",
        "パスワード1234a",
        "㍻1234567a",
        "Kabu#2026Xy",
    ];
    let samples = samples(Preset::JpBroker, "nakamura", true, &typed);
    let operator = crate::console::create(&app, "yoshida", "admin").await;
    // E-mail codes to a separate delivery address.
    create(&app, "moriya", "kabu2026xyz", false, "email").await;
    let token = email_session(&app, "moriya", "moriya@example.co.jp").await;
    let phone = "moriya.phone@example.ne.jp";
    let body = json!({ "address": phone, "current_password": "kabu2026xyz" });
    let r = call(
        &app,
        Method::PUT,
        "/api/v1/me/code-address",
        &token,
        Some(body),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = app.smtp.next_for(phone, 10).await.code(6);
    let body = json!({ "code": code });
    let r = call(
        &app,
        Method::POST,
        "/api/v1/me/code-address/confirm",
        &token,
        Some(body),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A token login without its token, and a temporary password.
    create(&app, "fx0000011", "fxtrade2026c", false, "token").await;
    create(&app, "sato5", "Temp2026ab", true, "none").await;
    run_script(
        app.clone(),
        "words.mjs",
        &[
            ("SEKISHO_PRESET", "jp-broker"),
            ("SEKISHO_SAMPLES", &samples),
            ("SEKISHO_SETUP", &setup),
            ("SEKISHO_SETUP_EN", &setup_en),
            (
                "SEKISHO_OPERATOR_SETUP",
                &format!("/admin/setup/{operator}"),
            ),
        ],
    )
    .await;
    assert_eq!(app.count_events("nakamura", "password_set").await, 1);
    assert!(app.count_events("moriya", "second_factor_failed").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nist_rules_box_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(
        spawn_with(Options {
            preset: Preset::Nist80063b4,
            ..Default::default()
        })
        .await,
    );
    let setup = app
        .newcomer(
            "nist0003",
            "none",
            "ja",
            json!({ "password": true, "second_factor": false }),
        )
        .await;
    let setup_en = app
        .newcomer(
            "nist0004",
            "none",
            "en",
            json!({ "password": true, "second_factor": false }),
        )
        .await;
    let typed = [
        "correct horse battery",
        "short but ok",
        "1qaz2wsx3edc4rfv",
        "１ｑａｚ２ｗｓｘ３ｅｄｃ４ｒｆｖ",
        "my name is NIST0003 ok",
        "すごく長い日本語のパスワードです",
        "password12345678",
    ];
    let samples = samples(Preset::Nist80063b4, "nist0003", false, &typed);
    run_script(
        app.clone(),
        "words.mjs",
        &[
            ("SEKISHO_PRESET", "nist-800-63b-4"),
            ("SEKISHO_SAMPLES", &samples),
            ("SEKISHO_SETUP", &setup),
            ("SEKISHO_SETUP_EN", &setup_en),
        ],
    )
    .await;
}
