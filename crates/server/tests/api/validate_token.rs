//! `POST /api/v1/validate` with a login's hardware token (HOTP): the same look-ahead, replay,
//! lock and audit as the token at login, on SQLite and on two instances sharing PostgreSQL.

use crate::common::{expect_error, ok, postgres, spawn_app, spawn_with, Options, TestApp};
use crate::tokens::{challenge, hcode, register, setup_on};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn validate(app: &TestApp, tok: &str, otp: &str) -> reqwest::Response {
    app.post(
        "/api/v1/validate",
        Some(tok),
        json!({ "login_id": "fx0000001", "otp": otp }),
    )
    .await
}

async fn validate_token(app: &TestApp) -> String {
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "vpn", "scope": "validate" })),
        )
        .await;
    let v: Value = ok(r.json().await);
    v["token"].as_str().unwrap_or_default().to_owned()
}

/// `a` has the HOTP token HW-0001 in stock and fx0000001 must use a token; `b` is the same
/// server or a second instance on the same database, with the same clock.
async fn scenario(a: &TestApp, b: &TestApp) {
    let v = challenge(a, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = register(a, &ch, "HW-0001", &hcode(3), &hcode(4)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (ta, tb) = (validate_token(a).await, validate_token(b).await);

    // The next code, then one further on within the look-ahead: both accepted, by the token.
    let r = validate(a, &ta, &hcode(5)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(
        v,
        json!({ "valid": true, "login_id": "fx0000001", "method": "token" })
    );
    let r = validate(b, &tb, &hcode(8)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Used or skipped codes are refused at either instance, without counting toward the lock.
    for (app, tok, c) in [(a, &ta, 5), (b, &tb, 8), (a, &ta, 7)] {
        let r = validate(app, tok, &hcode(c)).await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "second_factor_invalid",
            "SKS-LGN-0007",
        )
        .await;
    }
    // Many codes in a row, alternating instances, each accepted once.
    for c in 9..30_u64 {
        let (app, tok) = if c.is_multiple_of(2) {
            (a, &ta)
        } else {
            (b, &tb)
        };
        let r = validate(app, tok, &hcode(c)).await;
        assert_eq!(r.status(), StatusCode::OK, "code {c}");
    }
    // The same code at both instances at once: exactly one is accepted.
    let c30 = hcode(30);
    let (x, y) = tokio::join!(validate(a, &ta, &c30), validate(b, &tb, &c30));
    let accepted = [x.status(), y.status()]
        .iter()
        .filter(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(accepted, 1);
    assert_eq!(a.count_events("fx0000001", "otp_validated").await, 24);
    let t: Value = ok(a
        .admin(Method::GET, "/tokens/HW-0001", None)
        .await
        .json()
        .await);
    assert_eq!(t["failed_attempts"], 0, "{t}");

    // Ten wrong codes lock the token for the login flow as well (after the throttle's bucket
    // of wrong codes at /api/v1/validate, which the replays above took from, has refilled).
    a.clock.advance(120);
    for i in 1..=10 {
        let r = validate(a, &ta, "000000").await;
        let want = if i < 10 {
            (StatusCode::UNAUTHORIZED, "second_factor_invalid")
        } else {
            (StatusCode::FORBIDDEN, "second_factor_locked")
        };
        let status = r.status();
        let v: Value = ok(r.json().await);
        assert_eq!(
            (status, v["error"].as_str().unwrap_or_default()),
            want,
            "{i}: {v}"
        );
    }
    let v = challenge(a, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = crate::tokens::second(a, &ch, &hcode(31)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
}

#[tokio::test]
async fn hotp_token_codes_validate_once_sqlite() {
    let app = setup_on(spawn_app().await).await;
    scenario(&app, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hotp_token_codes_validate_once_two_instances_postgres() {
    let Some(url) = postgres("api_validate_token").await else {
        return;
    };
    let a = setup_on(
        spawn_with(Options {
            database_url: Some(url.clone()),
            ..Default::default()
        })
        .await,
    )
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(a.clock.clone()),
        ..Default::default()
    })
    .await;
    scenario(&a, &b).await;
}
