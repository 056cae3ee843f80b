//! Authenticator-app (TOTP) enrolment, login, replay, drift, lock, validation, and secrets at rest.

use crate::common::*;
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

/// An enrolled customer: login ID, password, session, and the secret from the enrolment.
struct Enrolled {
    login_id: String,
    password: String,
    session: String,
    secret: Vec<u8>,
}

impl TestApp {
    fn code(&self, secret: &[u8], offset_steps: i64) -> String {
        let step = totp_step(self.clock.now(), 30) + offset_steps;
        totp_at(secret, step, OtpParams::default())
    }

    /// Moves the clock to the start of the next 30-second step, so each test code is fresh.
    fn next_step(&self) {
        let now = self.clock.now().0;
        self.clock.advance(30 - now.rem_euclid(30));
    }

    async fn enrol(&self, login_id: &str) -> Enrolled {
        let password = "abc12345".to_owned();
        self.create_login(login_id, &password).await;
        let session = self.session(login_id, &password).await;
        let r = self
            .post(
                "/api/v1/me/totp",
                Some(&session),
                json!({ "password": password }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = ok(r.json().await);
        assert_eq!(v["state"], "pending");
        let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
        assert_eq!(secret.len(), 20, "160-bit secret");
        let uri = v["otpauth_uri"].as_str().unwrap_or("");
        assert!(
            uri.starts_with(&format!("otpauth://totp/Sekisho:{login_id}?secret=")),
            "{uri}"
        );
        assert!(
            uri.contains("algorithm=SHA1") && uri.contains("digits=6") && uri.contains("period=30")
        );
        assert!(v["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")));
        self.next_step();
        let code = self.code(&secret, 0);
        let r = self
            .post(
                "/api/v1/me/totp/confirm",
                Some(&session),
                json!({ "otp": code }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
        self.next_step();
        Enrolled {
            login_id: login_id.into(),
            password,
            session,
            secret,
        }
    }

    async fn login_otp(&self, e: &Enrolled, otp: &str) -> reqwest::Response {
        self.post(
            "/api/v1/login",
            None,
            json!({ "login_id": e.login_id, "password": e.password, "otp": otp }),
        )
        .await
    }
}

#[tokio::test]
async fn enrol_confirm_and_log_in_with_a_code() {
    let app = spawn_app().await;
    let e = app.enrol("totp0001").await;
    let f: Value = ok(app
        .get("/api/v1/me/factors", Some(&e.session))
        .await
        .json()
        .await);
    assert_eq!(f["factors"][1]["method"], "totp");
    assert_eq!(f["factors"][1]["state"], "active");

    // Two-step: password, then the code against the challenge.
    let r = app.login(&e.login_id, &e.password).await;
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(v["methods"], json!(["totp"]));
    let challenge = v["challenge"].as_str().unwrap_or("").to_owned();
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": challenge, "otp": "000000" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    let code = app.code(&e.secret, 0);
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": challenge, "otp": code }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["methods"], json!(["pwd", "otp"]));
    // The challenge is spent.
    app.next_step();
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": challenge, "otp": app.code(&e.secret, 0) }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "challenge_invalid",
        "SKS-LGN-0009",
    )
    .await;

    // One-shot (desktop clients): ID, password and code together; each code once.
    let code = app.code(&e.secret, 0);
    assert_eq!(app.login_otp(&e, &code).await.status(), StatusCode::OK);
    let r = app.login_otp(&e, &code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // An earlier step than the last one used is refused too.
    let r = app.login_otp(&e, &app.code(&e.secret, -1)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // Full-width digits as a Japanese IME types them.
    app.next_step();
    let fw: String = app
        .code(&e.secret, 0)
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
        .collect();
    assert_eq!(app.login_otp(&e, &fw).await.status(), StatusCode::OK);
    // A wrong password never reaches the code check.
    let r = app
        .post(
            "/api/v1/login",
            None,
            json!({ "login_id": e.login_id, "password": "wrong1234", "otp": "123456" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let ok_events = app.count_events(&e.login_id, "login_succeeded").await;
    assert_eq!(
        ok_events, 4,
        "password-only login at enrolment + three with a code"
    );
}

#[tokio::test]
async fn drift_is_learnt_and_applied() {
    let app = spawn_app().await;
    let e = app.enrol("drift001").await;
    app.next_step();
    // The phone runs one step behind: the previous code is accepted (window ±1)...
    assert_eq!(
        app.login_otp(&e, &app.code(&e.secret, -1)).await.status(),
        StatusCode::OK
    );
    // ...and remembered: two steps later, a code two behind is accepted (drift −1, window ±1).
    app.next_step();
    app.next_step();
    assert_eq!(
        app.login_otp(&e, &app.code(&e.secret, -2)).await.status(),
        StatusCode::OK
    );
    // Three steps off the learnt drift is too far.
    app.next_step();
    let r = app.login_otp(&e, &app.code(&e.secret, 2)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
}

#[tokio::test]
async fn ten_wrong_codes_lock_the_factor_until_unlock() {
    let app = spawn_app().await;
    let e = app.enrol("lockotp1").await;
    for i in 0..9 {
        let r = app.login_otp(&e, &format!("{:06}", 111_111 + i)).await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "second_factor_invalid",
            "SKS-LGN-0007",
        )
        .await;
    }
    let r = app.login_otp(&e, "999999").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    // Even the right code is refused now, with its own error.
    let r = app.login_otp(&e, &app.code(&e.secret, 0)).await;
    let v = expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_locked",
        "SKS-LGN-0008",
    )
    .await;
    assert!(v["message"].as_str().unwrap_or("").contains("ロック"));
    assert_eq!(
        app.count_events(&e.login_id, "second_factor_locked").await,
        1
    );

    let r = app
        .admin(
            Method::POST,
            &format!("/logins/{}/unlock", e.login_id),
            None,
        )
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["was_locked"], true);
    assert_eq!(
        app.login_otp(&e, &app.code(&e.secret, 0)).await.status(),
        StatusCode::OK
    );
    // A success resets the count: 9 more failures do not lock.
    for i in 0..9 {
        app.login_otp(&e, &format!("{:06}", 222_222 + i)).await;
    }
    app.next_step();
    assert_eq!(
        app.login_otp(&e, &app.code(&e.secret, 0)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn reveal_again_and_stop_using() {
    let app = spawn_app().await;
    let e = app.enrol("reveal01").await;
    let r = app
        .post(
            "/api/v1/me/totp/reveal",
            Some(&e.session),
            json!({ "otp": "000000" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    let r = app
        .post(
            "/api/v1/me/totp/reveal",
            Some(&e.session),
            json!({ "otp": app.code(&e.secret, 0) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(
        base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default(),
        e.secret,
        "the same secret for a second device"
    );
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&e.session),
            json!({ "password": e.password }),
        )
        .await;
    expect_error(
        r,
        StatusCode::CONFLICT,
        "second_factor_already_registered",
        "SKS-FAC-0001",
    )
    .await;

    app.next_step();
    let r = ok(app
        .http
        .delete(format!("{}/api/v1/me/totp", app.url))
        .bearer_auth(&e.session)
        .json(&json!({ "otp": app.code(&e.secret, 0) }))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let f: Value = ok(app
        .get("/api/v1/me/factors", Some(&e.session))
        .await
        .json()
        .await);
    assert_eq!(f["factors"][1]["state"], "not_registered");
    assert_eq!(
        app.login(&e.login_id, &e.password).await.status(),
        StatusCode::OK,
        "back to the password alone"
    );
    let types: Vec<String> = app
        .audit(&e.login_id)
        .await
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or("").to_owned())
        .collect();
    for t in [
        "second_factor_enrolment_started",
        "second_factor_added",
        "second_factor_revealed",
        "second_factor_removed",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} audited");
    }
}

#[tokio::test]
async fn enrolment_needs_the_password_and_expires() {
    let app = spawn_app().await;
    app.create_login("expire01", "abc12345").await;
    let s = app.session("expire01", "abc12345").await;
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&s),
            json!({ "password": "wrong999" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&s),
            json!({ "password": "abc12345" }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    app.clock.advance(601);
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&s),
            json!({ "otp": app.code(&secret, 0) }),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "enrolment_expired",
        "SKS-FAC-0003",
    )
    .await;
    // An unconfirmed factor never guards the login.
    assert_eq!(
        app.login("expire01", "abc12345").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn mandatory_totp() {
    let app = spawn_app().await;
    app.create_login("mand0001", "abc12345").await;
    app.admin(
        Method::PATCH,
        "/logins/mand0001",
        Some(json!({ "second_factor": "totp" })),
    )
    .await;
    assert_eq!(
        app.login("mand0001", "abc12345").await.status(),
        StatusCode::OK,
        "opt-in period: password alone until registered"
    );
    app.admin(
        Method::PATCH,
        "/logins/mand0001",
        Some(json!({ "mfa_required": true })),
    )
    .await;
    let r = app.login("mand0001", "abc12345").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_not_initialized",
        "SKS-LGN-0005",
    )
    .await;
}

#[tokio::test]
async fn validate_endpoint_for_other_systems() {
    let app = spawn_app().await;
    let e = app.enrol("valid001").await;
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "vpn", "scope": "validate" })),
        )
        .await;
    let v: Value = ok(r.json().await);
    let tok = v["token"].as_str().unwrap_or("").to_owned();
    let validate = |login: &str, otp: String| {
        let (app, tok, login) = (&app, tok.clone(), login.to_owned());
        async move {
            app.post(
                "/api/v1/validate",
                Some(&tok),
                json!({ "login_id": login, "otp": otp }),
            )
            .await
        }
    };
    let code = app.code(&e.secret, 0);
    let r = validate("valid001", code.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["valid"], true);
    let r = validate("valid001", code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    let r = validate("nobody99", "123456".into()).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    app.create_login("nototp01", "abc12345").await;
    let r = validate("nototp01", "123456".into()).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "second_factor_not_initialized",
        "SKS-LGN-0005",
    )
    .await;
    let r = app
        .post(
            "/api/v1/validate",
            Some(&e.session),
            json!({ "login_id": "valid001", "otp": "123456" }),
        )
        .await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let ev = app.audit("valid001").await;
    assert!(ev
        .iter()
        .any(|e| e["event_type"] == "otp_validated" && e["actor"]["kind"] == "api_token"));
}

async fn same_code_twenty_times(apps: &[TestApp], e: &Enrolled) {
    let code = apps[0].code(&e.secret, 0);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let app = &apps[i % apps.len()];
        let (http, url) = (app.http.clone(), app.url.clone());
        let body = json!({ "login_id": e.login_id, "password": e.password, "otp": code });
        tasks.push(tokio::spawn(async move {
            ok(http
                .post(format!("{url}/api/v1/login"))
                .json(&body)
                .send()
                .await)
            .status()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        let status = ok(t.await);
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
        accepted += usize::from(status == StatusCode::OK);
    }
    assert_eq!(
        accepted, 1,
        "exactly one of 20 concurrent submissions of one code succeeds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_works_once_under_concurrency_sqlite() {
    let app = spawn_app().await;
    let e = app.enrol("race0001").await;
    same_code_twenty_times(&[app], &e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_works_once_across_two_instances_postgres() {
    let Some(url) = postgres("api_totp_two_instances").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url.clone()),
        clock: Some(a.clock.clone()),
        ..Default::default()
    })
    .await;
    let e = a.enrol("race0002").await;
    same_code_twenty_times(&[a, b], &e).await;
}

fn assert_no_secret(raw: &[u8], secret: &[u8], what: &str) {
    let b32 = sekisho_core::otp::base32_encode(secret);
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(!has(secret), "raw secret bytes in {what}");
    assert!(!has(b32.as_bytes()), "base32 secret in {what}");
    assert!(!has(hex.as_bytes()), "hex secret in {what}");
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_sqlite() {
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    let app = spawn_with(Options {
        database_url: Some(url),
        ..Default::default()
    })
    .await;
    let e = app.enrol("atrest01").await;
    let mut raw = Vec::new();
    for f in ["sekisho.db", "sekisho.db-wal"] {
        raw.extend(std::fs::read(dir.path().join(f)).unwrap_or_default());
    }
    assert!(raw.len() > 4096);
    assert_no_secret(&raw, &e.secret, "the SQLite files");
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_postgres() {
    let Some(url) = postgres("api_totp_at_rest").await else {
        return;
    };
    let app = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let e = app.enrol("atrest02").await;
    let out = std::process::Command::new("pg_dump")
        .args(["--data-only", &url])
        .output();
    let out = ok(out);
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("otp_factors"));
    assert_no_secret(&out.stdout, &e.secret, "the PostgreSQL dump");
}

/// With several instances behind a load balancer: a page login started on instance A (password)
/// is finished on instance B (the code), the flow cannot be replayed on A afterwards, and the
/// re-authentication made on B counts on A.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_login_started_on_one_instance_finishes_on_another_postgres() {
    use crate::pages::{csrf, Browser};
    let Some(url) = postgres("api_pages_two_instances").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url.clone()),
        clock: Some(a.clock.clone()),
        ..Default::default()
    })
    .await;
    let e = a.enrol("flow0001").await;
    let mut br = Browser::new();
    let (_, _, html) = br.get(&a, "/login").await;
    let token = csrf(&html);
    let (status, h, _) = br
        .post(
            &a,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", &e.login_id),
                ("password", &e.password),
                ("return_to", "https://trade.example.co.jp/home"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/login/second-factor")
    );
    // Instance B knows the flow.
    let (status, _, html) = br.get(&b, "/login/second-factor").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let token = csrf(&html);
    let flow_cookie = br.cookie("__Host-sekisho_flow");
    assert!(flow_cookie.is_some());
    a.next_step();
    let code = a.code(&e.secret, 0);
    let (status, h, _) = br
        .post(
            &b,
            "/login/second-factor",
            &[("csrf", &token), ("otp", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/login/return?to=https%3A%2F%2Ftrade.example.co.jp%2Fhome")
    );
    assert!(br.cookie("__Host-sekisho_session").is_some());
    // The finished flow cannot be replayed on A, even with its cookie put back.
    br.set_cookie("__Host-sekisho_flow", flow_cookie.as_deref().unwrap_or(""));
    a.next_step();
    let code = a.code(&e.secret, 0);
    let (status, _, html) = br
        .post(
            &a,
            "/login/second-factor",
            &[("csrf", &token), ("otp", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert!(html.contains("SKS-WEB-0004"), "{html}");
    // Re-authenticated on B: the settings on A need no proof for five minutes.
    let (_, _, html) = br.get(&b, "/account/security").await;
    let token = csrf(&html);
    let (status, _, _) = br
        .post(
            &b,
            "/account/reauth",
            &[("csrf", &token), ("password", &e.password)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = br.get(&a, "/account/security").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("action=\"/account/reauth\""), "{html}");
    a.clock.advance(301);
    let (_, _, html) = br.get(&a, "/account/security").await;
    assert!(html.contains("action=\"/account/reauth\""), "{html}");
}

#[tokio::test]
async fn wrong_codes_at_validate_spend_the_login_ids_bucket_and_right_ones_do_not() {
    // Issue 16 item 2: only failures take from the bucket (the hot path pays one read).
    let app = spawn_with(crate::throttle::tight(&[
        ("throttle.validate_failures_per_minute", 1),
        ("throttle.validate_failures_burst", 3),
    ]))
    .await;
    let e = app.enrol("valid002").await;
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "vpn", "scope": "validate" })),
        )
        .await;
    let v: Value = ok(r.json().await);
    let tok = v["token"].as_str().unwrap_or("").to_owned();
    let validate = |otp: String| {
        let (app, tok) = (&app, tok.clone());
        async move {
            app.post(
                "/api/v1/validate",
                Some(&tok),
                json!({ "login_id": "valid002", "otp": otp }),
            )
            .await
        }
    };
    // Right codes cost nothing.
    for _ in 0..5 {
        app.next_step();
        let r = validate(app.code(&e.secret, 0)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    for _ in 0..3 {
        let r = validate("000000".into()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Spent: even the right code waits, without being used up.
    app.next_step();
    let wait = crate::throttle::refused(validate(app.code(&e.secret, 0)).await).await;
    assert!((1..=60).contains(&wait), "{wait}");
    app.clock.advance(wait);
    app.next_step();
    let r = validate(app.code(&e.secret, 0)).await;
    assert_eq!(r.status(), StatusCode::OK);
}
