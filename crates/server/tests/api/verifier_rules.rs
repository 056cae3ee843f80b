//! Issue 14 item 3, the rest: operators lock at their configured thresholds, and a recovery
//! code used once counts like a wrong code when it comes again.

use crate::common::{expect_error, ok, spawn_with, Options};
use crate::{operators, recovery};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn operators_lock_at_the_configured_thresholds() {
    let app = spawn_with(Options {
        settings: vec![
            ("operators.lockout_threshold", 2.into()),
            ("operators.code_lockout_threshold", 3.into()),
        ],
        ..Options::default()
    })
    .await;
    let kato = operators::operator(&app, "kato", "support").await;
    let sato = operators::operator(&app, "sato", "support").await;
    // A locked operator answers the right password and code like wrong ones (no oracle).
    let locked = |r: reqwest::Response| {
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "SKS-LGN-0001",
        )
    };

    // Two wrong passwords lock (the preset alone would allow five).
    for _ in 0..2 {
        let r = operators::login(&app, &kato, "wrong-pass-1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(30);
    locked(operators::login(&app, &kato, operators::PASSWORD).await).await;

    // Three wrong codes lock (the old fixed threshold was ten).
    for _ in 0..3 {
        let r = app
            .post(
                "/api/admin/v1/session",
                None,
                json!({ "name": "sato", "password": operators::PASSWORD, "otp": "000000" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(30);
    locked(operators::login(&app, &sato, operators::PASSWORD).await).await;
}

/// A used recovery code typed again counts toward the recovery codes' lock like a wrong one
/// (unlike a replayed TOTP code, it can only come from a copy of the sheet).
#[tokio::test]
async fn a_reused_recovery_code_counts_like_a_wrong_one() {
    let app = spawn_with(Options {
        recovery_lockout_threshold: 2,
        ..Options::default()
    })
    .await;
    let session = recovery::with_app(&app, "rokuya").await;
    let codes = recovery::generate(&app, &session).await;
    let answer = |code: String| {
        let app = &app;
        async move {
            let ch = recovery::challenge(app, "rokuya").await;
            app.post(
                "/api/v1/login/second-factor",
                None,
                json!({ "challenge": ch["challenge"], "recovery_code": code }),
            )
            .await
        }
    };
    let r = answer(codes[0].clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = answer(codes[0].clone()).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "recovery_code_invalid",
        "SKS-LGN-0015",
    )
    .await;
    // The second refusal reaches the threshold of 2: the reuse above was counted.
    let r = answer(codes[0].clone()).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    // Locked: even an unused code is refused now.
    let r = answer(codes[1].clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let _ = ok(r.text().await);
}
