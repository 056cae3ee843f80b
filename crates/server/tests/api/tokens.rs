//! A customer's token (Shoko Chukin FX, VIP Access style): start-of-use registration with the
//! token ID and two consecutive codes, login with the token, resynchronisation, the manual's
//! error cases, the lock after 10 wrong codes and the operator's unlock.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{hotp, totp_at, totp_step, Algorithm, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

const SECRET: &[u8] = b"12345678901234567890";
const HEX_SECRET: &str = "3132333435363738393031323334353637383930";

/// A server with a TOTP token VSMT25772182 and an HOTP token HW-0001 in stock, and a login
/// that must use a token.
pub(crate) async fn setup() -> TestApp {
    setup_on(spawn_app().await).await
}

/// [`setup`] on a server already started (e.g. on PostgreSQL).
pub(crate) async fn setup_on(app: TestApp) -> TestApp {
    let csv = format!("VSMT25772182,{HEX_SECRET},totp,6,30\nHW-0001,{HEX_SECRET},hotp,6,0\n");
    let r = ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    app.create_login("fx0000001", "Passw0rd99").await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/fx0000001",
            Some(json!({ "second_factor": "token", "mfa_required": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app
}

pub(crate) fn step(app: &TestApp) -> i64 {
    totp_step(app.clock.now(), 30)
}

pub(crate) fn code(s: i64) -> String {
    totp_at(SECRET, s, OtpParams::default())
}

pub(crate) fn hcode(c: u64) -> String {
    hotp(SECRET, c, Algorithm::Sha1, 6)
}

/// The password step: a challenge (for registration or for the code).
pub(crate) async fn challenge(app: &TestApp, error: &str) -> Value {
    let r = app.login("fx0000001", "Passw0rd99").await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["error"], error, "{v}");
    assert!(v["challenge"].is_string(), "{v}");
    v
}

pub(crate) async fn register(
    app: &TestApp,
    ch: &str,
    token_id: &str,
    otp1: &str,
    otp2: &str,
) -> reqwest::Response {
    app.post(
        "/api/v1/login/token/register",
        None,
        json!({ "challenge": ch, "token_id": token_id, "otp1": otp1, "otp2": otp2 }),
    )
    .await
}

pub(crate) async fn second(app: &TestApp, ch: &str, otp: &str) -> reqwest::Response {
    app.post(
        "/api/v1/login/second-factor",
        None,
        json!({ "challenge": ch, "otp": otp }),
    )
    .await
}

#[tokio::test]
async fn register_then_log_in_with_a_totp_token() {
    let app = setup().await;
    let v = challenge(&app, "second_factor_not_initialized").await;
    assert_eq!(v["methods"], json!(["token_register"]));
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = step(&app);

    // The manual's error cases, each with its own code.
    let r = register(&app, &ch, "VSMT00000000", &code(s - 1), &code(s)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_id_invalid",
        "SKS-HWT-0013",
    )
    .await;
    let r = register(&app, &ch, "VSMT25772182", &code(s), &code(s - 1)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_codes_not_consecutive",
        "SKS-HWT-0010",
    )
    .await;
    let r = register(&app, &ch, "VSMT25772182", &code(s - 6), &code(s - 5)).await;
    let e = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_code_expired",
        "SKS-HWT-0012",
    )
    .await;
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("30秒")),
        "{e}"
    );
    let r = register(&app, &ch, "VSMT25772182", "000000", "111111").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;

    // OTP1 and OTP2 in a row, the token ID typed in lower case: registered.
    let r = register(&app, &ch, "vsmt25772182", &code(s - 1), &code(s)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["token_id"], "VSMT25772182");
    // Neither registration code logs in (the manual says so).
    let r = second(&app, &ch, &code(s)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // The next code does, once.
    app.clock.advance(30);
    let r = second(&app, &ch, &code(s + 1)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = challenge(&app, "second_factor_required").await;
    assert_eq!(
        v["token_id"], "VSMT25772182",
        "the login screen shows the bound token ID"
    );
    let ch2 = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = second(&app, &ch2, &code(s + 1)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // Inline code with the password (desktop clients).
    app.clock.advance(30);
    let r = app
        .post(
            "/api/v1/login",
            None,
            json!({ "login_id": "fx0000001", "password": "Passw0rd99", "otp": code(s + 2) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let t: Value = ok(app
        .admin(Method::GET, "/tokens/VSMT25772182", None)
        .await
        .json()
        .await);
    assert_eq!(
        (t["state"].as_str(), t["login_id"].as_str()),
        (Some("assigned"), Some("fx0000001"))
    );
    assert!(t["registered_at"].is_string());
    assert_eq!(app.count_events("fx0000001", "token_registered").await, 1);
    // A registration challenge can register only once: the token is taken now.
    let r = register(&app, &ch, "HW-0001", &hcode(0), &hcode(1)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "challenge_invalid",
        "SKS-LGN-0009",
    )
    .await;
}

/// Issue 17 item 13: a token login without its token is refused until the token is registered
/// (利用開始登録), as the seed's token service does, also when `mfa_required` is not set (it
/// used to log in with the password alone).
#[tokio::test]
async fn a_token_login_without_its_token_registers_it_first_even_without_mfa_required() {
    let app = setup().await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/fx0000001",
            Some(json!({ "mfa_required": false })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.login("fx0000001", "Passw0rd99").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = ok(r.json().await);
    assert_eq!(v["error"], "second_factor_not_initialized", "{v}");
    assert!(v.get("session_token").is_none(), "no session: {v}");
    assert_eq!(v["methods"], json!(["token_register"]));
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = step(&app);
    let r = register(&app, &ch, "VSMT25772182", &code(s - 1), &code(s)).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn hotp_token_look_ahead_resync_and_lock() {
    let app = setup().await;
    let v = challenge(&app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    // Pressed three times before registering: within the look-ahead of 10.
    let r = register(&app, &ch, "HW-0001", &hcode(3), &hcode(4)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = register(&app, &ch, "HW-0001", &hcode(3), &hcode(4)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_id_invalid",
        "SKS-HWT-0013",
    )
    .await;
    // Login: counter 5 expected; 8 is within the look-ahead and moves the counter to 9.
    let r = second(&app, &ch, &hcode(8)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = challenge(&app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = second(&app, &ch, &hcode(7)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // Pressed 50 times without logging in: outside the look-ahead...
    let r = second(&app, &ch, &hcode(60)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // ...so resynchronise with two in a row (同期ズレ補正), then log in with the next one.
    let resync = |o1: String, o2: String| {
        let app = &app;
        let ch = ch.clone();
        async move {
            app.post(
                "/api/v1/login/token/resync",
                None,
                json!({ "challenge": ch, "otp1": o1, "otp2": o2 }),
            )
            .await
        }
    };
    let r = resync(hcode(62), hcode(64)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_codes_not_consecutive",
        "SKS-HWT-0010",
    )
    .await;
    let r = resync(hcode(60), hcode(61)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = resync(hcode(60), hcode(61)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "token_code_used",
        "SKS-HWT-0011",
    )
    .await;
    assert_eq!(
        app.count_events("fx0000001", "token_resynchronised").await,
        1
    );
    let r = second(&app, &ch, &hcode(62)).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Ten consecutive wrong codes lock the token; the operator unlocks it.
    let v = challenge(&app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    for i in 0..9 {
        let r = second(&app, &ch, "000000").await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "second_factor_invalid",
            "SKS-LGN-0007",
        )
        .await;
        let _ = i;
    }
    let r = second(&app, &ch, "000000").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    let r = second(&app, &ch, &hcode(63)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    let t: Value = ok(app
        .admin(Method::GET, "/tokens/HW-0001", None)
        .await
        .json()
        .await);
    assert_eq!(t["state"], "locked");
    let v: Value = ok(app
        .admin(Method::POST, "/tokens/HW-0001/unlock", None)
        .await
        .json()
        .await);
    assert_eq!(v["was_locked"], true);
    let r = second(&app, &ch, &hcode(63)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.count_events("fx0000001", "second_factor_locked").await,
        1
    );
    assert_eq!(app.count_events("fx0000001", "token_unlocked").await, 1);
    // After a revoke (device change), the login has no token: registration again.
    let r = app
        .admin(Method::POST, "/tokens/HW-0001/revoke", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    challenge(&app, "second_factor_not_initialized").await;
}

/// The hosted pages with a token: the token ID on the second-factor page, and the
/// resynchronisation page with the manual's errors.
#[tokio::test]
async fn token_login_and_resync_on_the_hosted_pages() {
    use crate::pages::{csrf, Browser};
    let app = setup().await;
    let v = challenge(&app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = step(&app);
    let r = register(&app, &ch, "VSMT25772182", &code(s - 1), &code(s)).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, "/login").await;
    let token = csrf(&html);
    let (status, h, _) = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", "fx0000001"),
                ("password", "Passw0rd99"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/login/second-factor")
    );
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(html.contains("VSMT25772182") && html.contains("href=\"/login/token/resync\""));
    let (status, _, html) = b.get(&app, "/login/token/resync").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("VSMT25772182"));
    // Not two in a row: the manual's message.
    let (status, _, html) = b
        .post(
            &app,
            "/login/token/resync",
            &[
                ("csrf", &token),
                ("otp1", &code(s + 2)),
                ("otp2", &code(s + 1)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("SKS-HWT-0010"), "{html}");
    let (status, h, _) = b
        .post(
            &app,
            "/login/token/resync",
            &[
                ("csrf", &token),
                ("otp1", &code(s + 4)),
                ("otp2", &code(s + 5)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/login/second-factor?done=resync")
    );
    let (_, _, html) = b.get(&app, "/login/second-factor?done=resync").await;
    assert!(html.contains("再同期しました"));
    assert_eq!(
        app.count_events("fx0000001", "token_resynchronised").await,
        1
    );
}

/// A PSKC file's validity period is kept: a token past its ExpiryDate can neither be assigned
/// by an operator nor log in, with its own error (issue 18).
#[tokio::test]
async fn a_token_past_its_expiry_date_cannot_be_assigned_or_log_in() {
    let app = setup().await;
    let now = app.clock.now();
    let package = |serial: &str, expiry: sekisho_core::Timestamp| {
        format!(
            r#"<KeyPackage><DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>
<Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>
<Policy><StartDate>2020-01-01T00:00:00Z</StartDate><ExpiryDate>{}</ExpiryDate></Policy>
</Key></KeyPackage>"#,
            expiry.to_rfc3339()
        )
    };
    let xml = format!(
        r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">{}{}</KeyContainer>"#,
        package("EXP-SOON", now.plus_secs(120)),
        package("EXP-PAST", now.plus_secs(-1)),
    );
    let r = ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/pskc+xml")
        .body(xml)
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = ok(app
        .admin(Method::GET, "/tokens/EXP-SOON", None)
        .await
        .json()
        .await);
    assert_eq!(t["valid_until"], now.plus_secs(120).to_rfc3339(), "{t}");

    let r = app
        .admin(
            Method::POST,
            "/tokens/EXP-PAST/assign",
            Some(json!({ "login_id": "fx0000001" })),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "token_expired", "SKS-HWT-0008").await;

    let v = challenge(&app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = step(&app);
    let r = register(&app, &ch, "EXP-PAST", &code(s - 1), &code(s)).await;
    expect_error(r, StatusCode::FORBIDDEN, "token_expired", "SKS-HWT-0008").await;
    let r = register(&app, &ch, "EXP-SOON", &code(s - 1), &code(s)).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
    let r = second(&app, &ch, &code(s + 1)).await;
    assert_eq!(r.status(), StatusCode::OK);

    app.clock.advance(120);
    let v = challenge(&app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = second(&app, &ch, &code(step(&app))).await;
    let e = expect_error(r, StatusCode::FORBIDDEN, "token_expired", "SKS-HWT-0008").await;
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("有効期間")),
        "{e}"
    );
}
