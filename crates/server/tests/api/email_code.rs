//! E-mail codes at login (JTG): the code read from the test SMTP server completes the login;
//! wrong, expired and worn-out codes each have their own error; re-issue replaces the code
//! within a cool-down and a limit, without resetting the failure count. Challenges seeded in
//! bulk for the benchmark behave as mailed ones.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "kabu2026xyz";

/// A login whose second factor is the e-mail code.
pub async fn email_login(app: &TestApp, login_id: &str) -> String {
    app.create_login(login_id, PASSWORD).await;
    let r = app
        .admin(
            Method::PATCH,
            &format!("/logins/{login_id}"),
            Some(json!({ "second_factor": "email" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    format!("{login_id}@example.co.jp")
}

/// Enters the password; returns the challenge and the code from the mail.
pub async fn start(app: &TestApp, login_id: &str, address: &str) -> (String, String) {
    let r = app.login(login_id, PASSWORD).await;
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(v["methods"], json!(["email"]), "{v}");
    assert!(v["sent_to"].as_str().is_some_and(|s| s.contains("***@")));
    let challenge = v["challenge"].as_str().unwrap_or_default().to_owned();
    let mail = app.smtp.next_kind(address, "email_code", 10).await;
    (challenge, mail.code(6))
}

pub async fn answer(app: &TestApp, challenge: &str, code: &str) -> reqwest::Response {
    app.post(
        "/api/v1/login/second-factor",
        None,
        json!({ "challenge": challenge, "otp": code }),
    )
    .await
}

async fn resend(app: &TestApp, challenge: &str) -> reqwest::Response {
    ok(app
        .http
        .post(format!("{}/api/v1/login/email-code/resend", app.url))
        .header("accept-language", "ja")
        .json(&json!({ "challenge": challenge }))
        .send()
        .await)
}

fn other(code: &str) -> String {
    if code == "000000" {
        "000001".into()
    } else {
        "000000".into()
    }
}

#[tokio::test]
async fn code_from_the_mail_completes_the_login_once() {
    let app = spawn_app().await;
    let address = email_login(&app, "yamada").await;
    let r = app.login("yamada", PASSWORD).await;
    let v: Value = ok(r.json().await);
    let challenge = v["challenge"].as_str().unwrap_or_default().to_owned();
    let mail = app.smtp.next_for(&address, 10).await;
    let text = mail.text();
    assert!(text.contains("認証コード"), "{text}");
    assert!(text.contains("有効期限: 5分"), "{text}");
    assert!(
        !text.contains("http") && !mail.part("text/html").contains("href"),
        "no links"
    );
    let code = mail.code(6);
    assert_eq!(code.len(), 6);
    let r = answer(&app, &challenge, &code).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = ok(r.json().await);
    assert_eq!(s["methods"], json!(["pwd", "email"]));
    // Single use: the challenge (and with it the code) is spent.
    let r = answer(&app, &challenge, &code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "challenge_invalid",
        "SKS-LGN-0009",
    )
    .await;
    assert_eq!(app.count_events("yamada", "email_code_sent").await, 1);
    assert_eq!(app.count_events("yamada", "login_succeeded").await, 1);
    // Only the keyed hash is stored: the audit trail and the outbox list never show the code.
    let audit = serde_json::to_string(&app.audit("yamada").await).unwrap_or_default();
    assert!(!audit.contains(&code));
}

#[tokio::test]
async fn five_wrong_codes_invalidate_it_and_a_reissue_helps() {
    let app = spawn_app().await;
    let address = email_login(&app, "suzuki").await;
    let (challenge, code) = start(&app, "suzuki", &address).await;
    for _ in 0..4 {
        let r = answer(&app, &challenge, &other(&code)).await;
        let v = expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "email_code_invalid",
            "SKS-LGN-0010",
        )
        .await;
        assert_eq!(
            v["message"],
            "認証コードに誤りがあります。再度ご入力ください。"
        );
    }
    let r = answer(&app, &challenge, &other(&code)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "email_code_exhausted",
        "SKS-LGN-0012",
    )
    .await;
    // Even the right code no longer works.
    let r = answer(&app, &challenge, &code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "email_code_exhausted",
        "SKS-LGN-0012",
    )
    .await;
    assert_eq!(app.count_events("suzuki", "second_factor_failed").await, 6);
    // 認証コード再発行: a new code works; the count goes on (not reset).
    app.clock.advance(30);
    let r = resend(&app, &challenge).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(
        v["message"],
        "配信設定したメールアドレスに再発行された認証コードを送信しました。"
    );
    let fresh = app.smtp.next_for(&address, 10).await.code(6);
    let r = answer(&app, &challenge, &fresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let resent = app.audit("suzuki").await;
    assert!(resent.iter().any(|e| e["description"]
        .as_str()
        .is_some_and(|d| d.contains("failures so far: 5"))));
}

#[tokio::test]
async fn an_expired_code_is_refused_as_expired() {
    let app = spawn_app().await;
    let address = email_login(&app, "sato.k").await;
    let (challenge, code) = start(&app, "sato.k", &address).await;
    app.clock.advance(300);
    let r = answer(&app, &challenge, &code).await;
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "email_code_expired",
        "SKS-LGN-0011",
    )
    .await;
    assert!(v["message"]
        .as_str()
        .is_some_and(|m| m.contains("有効期限")));
    let r = resend(&app, &challenge).await;
    assert_eq!(r.status(), StatusCode::OK);
    let fresh = app.smtp.next_for(&address, 10).await.code(6);
    assert_eq!(
        answer(&app, &challenge, &fresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn reissue_replaces_the_old_code_with_cooldown_and_limit() {
    let app = spawn_app().await;
    let address = email_login(&app, "kato").await;
    let (challenge, old) = start(&app, "kato", &address).await;
    let r = resend(&app, &challenge).await;
    let v = expect_error(
        r,
        StatusCode::TOO_MANY_REQUESTS,
        "email_code_resend_too_soon",
        "SKS-LGN-0013",
    )
    .await;
    assert_eq!(v["retry_after_secs"], 30);
    let mut latest = old.clone();
    for _ in 0..3 {
        app.clock.advance(30);
        let r = resend(&app, &challenge).await;
        assert_eq!(r.status(), StatusCode::OK);
        latest = app.smtp.next_for(&address, 10).await.code(6);
    }
    app.clock.advance(30);
    let r = resend(&app, &challenge).await;
    expect_error(
        r,
        StatusCode::TOO_MANY_REQUESTS,
        "email_code_resend_limit",
        "SKS-LGN-0014",
    )
    .await;
    if old != latest {
        let r = answer(&app, &challenge, &old).await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "email_code_invalid",
            "SKS-LGN-0010",
        )
        .await;
    }
    assert_eq!(
        answer(&app, &challenge, &latest).await.status(),
        StatusCode::OK
    );
    let r = resend(&app, "sksc_unknown").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "challenge_invalid",
        "SKS-LGN-0009",
    )
    .await;
}

#[tokio::test]
async fn codes_go_to_the_registered_address_without_a_delivery_address() {
    let app = spawn_app().await;
    let address = email_login(&app, "ito.h").await;
    let (challenge, code) = start(&app, "ito.h", &address).await;
    assert_eq!(app.smtp.count_for("other@example.co.jp"), 0);
    assert_eq!(
        answer(&app, &challenge, &code).await.status(),
        StatusCode::OK
    );
}

/// The bench's seeding (`seed_password_logins`): the shared password hash opens every login,
/// and each seeded challenge takes the code handed back, once, with the same counting of wrong
/// codes as a mailed one; its code expires like a mailed one.
#[tokio::test]
async fn seeded_logins_take_their_password_and_their_code() {
    let app = spawn_app().await;
    let plain =
        sekisho_app::seed::seed_password_logins(app.state.app(), "pwseed", 2, PASSWORD, false)
            .await;
    let plain = plain.unwrap_or_else(|e| unreachable!("{e:?}"));
    for s in &plain {
        assert!(s.challenge.is_none());
        let r = app.login(&s.login_id, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", s.login_id);
    }
    let r = app.login(&plain[0].login_id, "kabu2026xyz0").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let seeded =
        sekisho_app::seed::seed_password_logins(app.state.app(), "emseed", 3, PASSWORD, true).await;
    let seeded = seeded.unwrap_or_else(|e| unreachable!("{e:?}"));
    let waiting: Vec<(String, String)> =
        seeded.iter().filter_map(|s| s.challenge.clone()).collect();
    assert_eq!(waiting.len(), 3);
    let (challenge, code) = &waiting[0];
    let r = answer(&app, challenge, &other(code)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "email_code_invalid",
        "SKS-LGN-0010",
    )
    .await;
    let r = answer(&app, challenge, code).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = ok(r.json().await);
    assert_eq!(s["methods"], json!(["pwd", "email"]));
    assert_eq!(s["login_id"], seeded[0].login_id.as_str());
    let r = answer(&app, challenge, code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "challenge_invalid",
        "SKS-LGN-0009",
    )
    .await;
    // Another login's code does not open this challenge (unless the two happen to be equal).
    if waiting[1].1 != waiting[2].1 {
        let r = answer(&app, &waiting[1].0, &waiting[2].1).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The seeded code lives as long as a mailed one (5 minutes).
    app.clock.advance(300);
    let r = answer(&app, &waiting[2].0, &waiting[2].1).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "email_code_expired",
        "SKS-LGN-0011",
    )
    .await;
}
