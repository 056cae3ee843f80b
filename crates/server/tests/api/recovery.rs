//! Recovery codes: generation after re-authentication, shown once, used once in place of the
//! second factor (two steps or one shot), notified and audited, locked by wrong codes.

use crate::common::*;
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

pub(crate) const PASSWORD: &str = "abc12345";

/// A login with an active authenticator app; returns a session.
pub(crate) async fn with_app(app: &TestApp, login_id: &str) -> String {
    app.create_login(login_id, PASSWORD).await;
    let session = app.session(login_id, PASSWORD).await;
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": PASSWORD }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    let code = totp_at(
        &secret,
        totp_step(app.clock.now(), 30),
        OtpParams::default(),
    );
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": code }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    session
}

pub(crate) async fn generate(app: &TestApp, session: &str) -> Vec<String> {
    let r = app
        .post(
            "/api/v1/me/recovery-codes",
            Some(session),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    v["codes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) async fn challenge(app: &TestApp, login_id: &str) -> Value {
    let r = app.login(login_id, PASSWORD).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await
}

async fn remaining(app: &TestApp, session: &str) -> Value {
    let r = app.get("/api/v1/me/factors", Some(session)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    v["recovery_codes"].clone()
}

#[tokio::test]
async fn recovery_codes_are_shown_once_and_each_works_once() {
    let app = spawn_app().await;
    let session = with_app(&app, "rikuo").await;
    assert_eq!(remaining(&app, &session).await["state"], "not_registered");

    // Re-authentication first.
    let r = app
        .post("/api/v1/me/recovery-codes", Some(&session), json!({}))
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = app
        .post(
            "/api/v1/me/recovery-codes",
            Some(&session),
            json!({ "password": "wrong9999" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;

    let first = generate(&app, &session).await;
    let codes = generate(&app, &session).await;
    assert_eq!(codes.len(), 10);
    for c in &codes {
        assert_eq!(c.len(), 14, "{c}");
        assert!(!first.contains(c));
    }
    let rc = remaining(&app, &session).await;
    assert_eq!(
        (rc["state"].clone(), rc["remaining"].clone()),
        (json!("active"), json!(10))
    );
    assert_eq!(
        app.count_events("rikuo", "recovery_codes_generated").await,
        2
    );

    // The old set no longer works (and the wrong code is audited).
    let ch = challenge(&app, "rikuo").await;
    let methods = ch["methods"].as_array().cloned().unwrap_or_default();
    assert!(methods.contains(&json!("recovery_code")), "{ch}");
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": first[0] }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "recovery_code_invalid",
        "SKS-LGN-0015",
    )
    .await;

    // A new code completes the challenge, typed in upper case with spaces.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": typed }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["methods"], json!(["pwd", "recovery_code"]));
    let mail = app
        .smtp
        .next_kind("rikuo@example.co.jp", "recovery_code_used_notice", 10)
        .await;
    assert!(mail.text().contains("9"), "{}", mail.text());

    // Used once: the same code again is refused.
    let ch = challenge(&app, "rikuo").await;
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": codes[0] }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "recovery_code_invalid",
        "SKS-LGN-0015",
    )
    .await;

    // One shot: with the password.
    let r = app
        .post(
            "/api/v1/login",
            None,
            json!({ "login_id": "rikuo", "password": PASSWORD, "recovery_code": codes[1] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(remaining(&app, &session).await["remaining"], 8);
    assert_eq!(app.count_events("rikuo", "recovery_code_used").await, 2);
    let used = app.audit("rikuo").await;
    assert!(used.iter().any(|e| e["event_type"] == "recovery_code_used"
        && e["description"]
            .as_str()
            .is_some_and(|d| d.contains("8 left"))));
    // Neither the codes nor their hashes are in the audit trail.
    let trail = serde_json::to_string(&used).unwrap_or_default();
    assert!(!trail.contains(&codes[2]));

    // Both fields at once is malformed.
    let ch = challenge(&app, "rikuo").await;
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": codes[2], "otp": "123456" }),
        )
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
async fn wrong_recovery_codes_lock_until_unlocked() {
    let app = spawn_app().await;
    let session = with_app(&app, "rokuro").await;
    let codes = generate(&app, &session).await;
    let ch = challenge(&app, "rokuro").await;
    for i in 0..10 {
        let r = app
            .post(
                "/api/v1/login/second-factor",
                None,
                json!({ "challenge": ch["challenge"], "recovery_code": "2222-2222-2222" }),
            )
            .await;
        if i < 9 {
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
    app.smtp
        .next_kind("rokuro@example.co.jp", "locked_notice", 10)
        .await;
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": codes[0] }),
        )
        .await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    assert_eq!(remaining(&app, &session).await["locked"], true);
    let r = app
        .admin(Method::POST, "/logins/rokuro/unlock", Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": ch["challenge"], "recovery_code": codes[0] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn concurrent_uses_of_one_code_open_one_session() {
    let app = std::sync::Arc::new(spawn_app().await);
    let session = with_app(&app, "renji").await;
    let codes = generate(&app, &session).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let app = app.clone();
        let code = codes[3].clone();
        tasks.push(tokio::spawn(async move {
            app.post(
                "/api/v1/login",
                None,
                json!({ "login_id": "renji", "password": PASSWORD, "recovery_code": code }),
            )
            .await
            .status()
        }));
    }
    let mut oks = 0;
    for t in tasks {
        if ok(t.await) == StatusCode::OK {
            oks += 1;
        }
    }
    assert_eq!(oks, 1);
    assert_eq!(remaining(&app, &session).await["remaining"], 9);
}
