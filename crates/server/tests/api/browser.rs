//! The hosted pages in a real browser: Debian's chromium driven by playwright-core
//! (`tests/browser/journeys.mjs`). The test starts the real server with its test clock and SMTP
//! listener, creates the logins through the admin API, and serves the script a small control
//! endpoint that exists only in this harness (the server's time, moving the clock, the last
//! mail to an address). Screenshots land in `target/browser-screenshots/`.
//!
//! Without node, chromium or `tests/browser/node_modules` the test says why and passes, unless
//! `SEKISHO_REQUIRE_BROWSER=1` (as `.ci/run` sets it), when it fails.

use crate::common::{ok, spawn_app, TestApp};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Router;
use reqwest::{Method, StatusCode};
use sekisho_core::Clock;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser journeys cannot run here, if they cannot.
fn missing() -> Option<String> {
    if !std::path::Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} not found (apt-get install -y chromium)"
        ));
    }
    let modules = repo_root().join("tests/browser/node_modules/playwright-core");
    if !modules.exists() {
        return Some("tests/browser/node_modules missing (cd tests/browser && npm ci)".into());
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node not found".into());
    }
    let oath = std::process::Command::new("oathtool")
        .arg("--version")
        .output();
    if !oath.is_ok_and(|o| o.status.success()) {
        return Some("oathtool not found".into());
    }
    None
}

#[derive(Deserialize)]
struct Advance {
    secs: i64,
}

#[derive(Deserialize)]
struct MailQuery {
    to: String,
    kind: String,
}

/// The harness's control endpoint (never part of the product).
fn control(app: Arc<TestApp>) -> Router {
    Router::new()
        .route(
            "/now",
            get(|State(app): State<Arc<TestApp>>| async move { app.clock.now().0.to_string() }),
        )
        .route(
            "/advance",
            post(
                |State(app): State<Arc<TestApp>>, Query(a): Query<Advance>| async move {
                    app.clock.advance(a.secs);
                    app.clock.now().0.to_string()
                },
            ),
        )
        .route(
            "/mail",
            get(
                |State(app): State<Arc<TestApp>>, Query(q): Query<MailQuery>| async move {
                    let m = app.smtp.next_kind(&q.to, &q.kind, 15).await;
                    axum::Json(json!({ "code": m.code(6), "text": m.text() }))
                },
            ),
        )
        .with_state(app)
}

pub async fn create(app: &TestApp, login_id: &str, password: &str, temporary: bool, second: &str) {
    let r = app
        .admin(
            Method::POST,
            "/logins",
            Some(json!({
                "login_id": login_id,
                "email": format!("{login_id}@example.co.jp"),
                "display_name": "山田 太郎",
                "password": password,
                "temporary": temporary,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    if second != "none" {
        let r = app
            .admin(
                Method::PATCH,
                &format!("/logins/{login_id}"),
                Some(json!({ "second_factor": second })),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
}

/// Whether the browser tests can run here; when they cannot, says why and, unless
/// `SEKISHO_REQUIRE_BROWSER=1`, lets the test pass.
pub fn browser_available() -> bool {
    if let Some(why) = missing() {
        if std::env::var("SEKISHO_REQUIRE_BROWSER").as_deref() == Ok("1") {
            unreachable!("browser journeys required but cannot run: {why}");
        }
        eprintln!("browser journeys skipped: {why}");
        return false;
    }
    true
}

/// Runs one journey script from `tests/browser/` against `app`, with the harness's control
/// endpoint and any extra environment, and fails the test with its output if the script fails.
pub async fn run_script(app: Arc<TestApp>, script: &str, env: &[(&str, &str)]) {
    let listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let control_url = format!("http://{}", ok(listener.local_addr()));
    let router = control(app.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let root = repo_root();
    let shots = root.join("target/browser-screenshots");
    ok(std::fs::create_dir_all(&shots));
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(root.join("tests/browser").join(script))
        .env("SEKISHO_URL", &app.url)
        .env("SEKISHO_CONTROL_URL", &control_url)
        .env("SEKISHO_CHROMIUM", CHROMIUM)
        .env("SEKISHO_SCREENSHOTS", &shots)
        .current_dir(root.join("tests/browser"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = ok(cmd.output().await);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    // The newcomer: no password yet, the authenticator app as second factor, a setup link.
    let setup_path = app
        .newcomer(
            "tanaka",
            "totp",
            "ja",
            json!({ "password": true, "second_factor": true }),
        )
        .await;
    // A temporary password from the firm: the forced change, then the app from the settings.
    create(&app, "sato", "Temp2026ab", true, "none").await;
    // E-mail code logins (Japanese and English journeys).
    create(&app, "suzuki", "kabu2026xyz", false, "email").await;
    create(&app, "smith", "kabu2026xyz", false, "email").await;
    run_script(
        app.clone(),
        "journeys.mjs",
        &[("SEKISHO_SETUP_PATH", &setup_path)],
    )
    .await;
    // What the pages did is in the audit trail like any other login.
    assert_eq!(app.count_events("tanaka", "setup_link_used").await, 1);
    assert!(app.count_events("tanaka", "second_factor_added").await >= 1);
    assert!(app.count_events("tanaka", "login_succeeded").await >= 1);
    assert!(app.count_events("sato", "second_factor_added").await >= 1);
    assert!(app.count_events("sato", "login_succeeded").await >= 2);
    assert!(app.count_events("suzuki", "login_succeeded").await >= 1);
    assert!(app.count_events("smith", "login_succeeded").await >= 1);
}
