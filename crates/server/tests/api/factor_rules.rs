//! The one rule for every factor (issue 14): a replayed code is refused without counting for
//! operators as for customers, every customer lock sends the lock notice, recovery codes lock
//! at their own threshold, and an operator's unlock of a login clears every lock and says which.

use crate::common::{expect_error, ok, spawn_app, spawn_with, Options, TestApp};
use crate::console_logins::signed_in;
use crate::pages::csrf;
use crate::{operators, recovery, tokens};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn an_operators_replayed_code_is_refused_and_not_counted() {
    let app = spawn_app().await;
    let kato = operators::operator(&app, "kato", "support").await;
    app.clock.advance(30);
    let r = operators::login(&app, &kato, operators::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // The same code again, more often than ten wrong codes would allow: refused every time.
    for _ in 0..12 {
        let r = operators::login(&app, &kato, operators::PASSWORD).await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "SKS-LGN-0001",
        )
        .await;
    }
    // Not counted: the next code logs in.
    app.clock.advance(30);
    let r = operators::login(&app, &kato, operators::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let audit = |t: &str| {
        let path = format!("/audit?operator=kato&event_type={t}");
        let app = &app;
        async move {
            let v: Value = ok(app.admin(Method::GET, &path, None).await.json().await);
            v["events"].as_array().map(Vec::len).unwrap_or_default()
        }
    };
    assert_eq!(audit("operator_locked").await, 0);
    assert_eq!(audit("operator_login_failed").await, 12);
}

/// Registers the TOTP token VSMT25772182 for fx0000001 and moves to a fresh step.
async fn token_login(app: &TestApp) {
    let v = tokens::challenge(app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = tokens::step(app);
    let r = tokens::register(
        app,
        &ch,
        "VSMT25772182",
        &tokens::code(s - 1),
        &tokens::code(s),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
}

/// Ten wrong codes lock the token.
async fn lock_token(app: &TestApp) {
    let s = tokens::step(app);
    let near: Vec<String> = (s - 3..=s + 3).map(tokens::code).collect();
    let wrong = ["000000", "000001", "000002"]
        .into_iter()
        .find(|w| !near.iter().any(|c| c == w))
        .unwrap_or_default();
    let v = tokens::challenge(app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    for i in 0..10 {
        let r = tokens::second(app, &ch, wrong).await;
        let (status, error) = if i < 9 {
            (StatusCode::UNAUTHORIZED, "second_factor_invalid")
        } else {
            (StatusCode::FORBIDDEN, "second_factor_locked")
        };
        assert_eq!(r.status(), status, "attempt {i}");
        let v: Value = ok(r.json().await);
        assert_eq!(v["error"], error, "{v}");
    }
}

/// A login with the token's current code.
async fn log_in_with_token(app: &TestApp) -> reqwest::Response {
    let v = tokens::challenge(app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    tokens::second(app, &ch, &tokens::code(tokens::step(app))).await
}

#[tokio::test]
async fn a_token_lock_sends_the_customer_the_lock_notice() {
    let app = tokens::setup().await;
    token_login(&app).await;
    lock_token(&app).await;
    let mail = app
        .smtp
        .next_kind("fx0000001@example.co.jp", "locked_notice", 10)
        .await;
    assert!(
        mail.text().contains("追加認証をロックしました"),
        "{}",
        mail.text()
    );
}

#[tokio::test]
async fn recovery_codes_lock_at_their_own_threshold() {
    let app = spawn_with(Options {
        totp_lockout_threshold: 3,
        recovery_lockout_threshold: 5,
        ..Options::default()
    })
    .await;
    let session = recovery::with_app(&app, "rokuro").await;
    recovery::generate(&app, &session).await;
    let ch = recovery::challenge(&app, "rokuro").await;
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/login/second-factor",
                None,
                json!({ "challenge": ch["challenge"], "recovery_code": "2222-2222-2222" }),
            )
            .await;
        if i < 4 {
            expect_error(
                r,
                StatusCode::UNAUTHORIZED,
                "recovery_code_invalid",
                "SKS-LGN-0015",
            )
            .await;
        } else {
            expect_error(
                r,
                StatusCode::FORBIDDEN,
                "second_factor_locked",
                "SKS-LGN-0008",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn unlocking_a_login_clears_its_token_lock_and_says_so() {
    let app = tokens::setup().await;
    token_login(&app).await;
    lock_token(&app).await;
    let r = app
        .admin(Method::POST, "/logins/fx0000001/unlock", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["was_locked"], true, "{v}");
    assert_eq!(v["cleared"], json!(["token"]), "{v}");
    let r = log_in_with_token(&app).await;
    assert_eq!(r.status(), StatusCode::OK);
    let events = app.audit("fx0000001").await;
    assert!(events.iter().any(|e| e["event_type"] == "login_unlocked"
        && e["description"]
            .as_str()
            .is_some_and(|d| d.contains("token"))));

    // The console's button too, and its message names the lock it cleared.
    app.clock.advance(30);
    lock_token(&app).await;
    let mut b = signed_in(&app, "desk", "support").await;
    let (_, _, html) = b.get(&app, "/admin/logins/fx0000001").await;
    let t = csrf(&html);
    let (status, h, _) = b
        .post(&app, "/admin/logins/fx0000001/unlock", &[("csrf", &t)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = h
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(to, "/admin/logins/fx0000001?done=unlocked&cleared=token");
    let (status, _, html) = b.get(&app, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("ロックを解除しました。解除したロック：トークン"),
        "{html}"
    );
    app.clock.advance(30);
    let r = log_in_with_token(&app).await;
    assert_eq!(r.status(), StatusCode::OK);
}
