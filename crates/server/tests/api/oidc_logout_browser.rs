//! Consent and logout in a real browser (`tests/browser/oidc_logout.mjs`): a partner's app asks
//! for the customer's data, the customer allows it on the consent page (ja and en, desktop and
//! 390 px) and later sees the "logged out" page of the end-session endpoint.

use crate::browser::{browser_available, run_script};
use crate::common::{ok, spawn_app, TestApp};
use crate::step_up::stepper;
use reqwest::{Method, StatusCode};
use sekisho_core::otp::base32_encode;
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_and_logout_pages_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app: Arc<TestApp> = Arc::new(spawn_app().await);
    let s = stepper(&app, "kondo").await;
    let r = app
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": "パートナー資産管理",
                "profile": "basic",
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": ["https://trade.example.co.jp/callback"],
                "scope": "openid email profile",
                "first_party": false,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let id = v["client_id"].as_str().unwrap_or_default().to_owned();
    run_script(
        app.clone(),
        "oidc_logout.mjs",
        &[
            ("SEKISHO_TOTP_KEY", &base32_encode(&s.secret)),
            ("SEKISHO_LOGIN", "kondo"),
            ("SEKISHO_CLIENT_ID", &id),
        ],
    )
    .await;
    assert_eq!(app.count_events("kondo", "oidc_consent_given").await, 3);
    assert_eq!(app.count_events("kondo", "oidc_logout").await, 3);
}
