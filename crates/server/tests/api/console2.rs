//! Operators and passkeys (issues 7 and 8): the console's passkeys section (counter, backup
//! flags, a red flag when the counter went backwards), removal for admins only (console and
//! API), the logins list's flag, the recovery codes' state; the per-IP limit on passwordless
//! begins; and what still keeps a passwordless login out (locks, disabled logins).

use crate::common::{expect_error, ok, spawn_app, TestApp};
use crate::console_logins::signed_in;
use crate::pages::csrf;
use crate::passkeys::{customer, json_of, passwordless, register, SoftPasskey};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn list_flags(app: &TestApp, login_id: &str) -> Value {
    let v = json_of(
        app.admin(Method::GET, &format!("/logins?q={login_id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    v["logins"][0]["flags"].clone()
}

async fn passkey_count(app: &TestApp, login_id: &str) -> usize {
    let v = json_of(
        app.admin(Method::GET, &format!("/logins/{login_id}/passkeys"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    v["passkeys"].as_array().map_or(0, Vec::len)
}

/// A customer whose passkey answered with counter 11, then with a lagging copy at 5.
pub(crate) async fn regressed(app: &TestApp, login_id: &str) -> (SoftPasskey, i64) {
    let session = customer(app, login_id).await;
    let (mut key, done) = register(app, app, &session, "iPhone 15").await;
    key.counter = 10;
    json_of(passwordless(app, app, &mut key).await, StatusCode::OK).await;
    key.counter = 4;
    expect_error(
        passwordless(app, app, &mut key).await,
        StatusCode::FORBIDDEN,
        "passkey_counter_regressed",
        "SKS-PKY-0004",
    )
    .await;
    (key, done["id"].as_i64().unwrap_or_default())
}

#[tokio::test]
async fn the_console_shows_a_regressed_passkey_in_red_and_only_an_admin_removes_it() {
    let app = spawn_app().await;
    let (_, id) = regressed(&app, "pkc0001").await;
    // A healthy passkey on another login raises no flag, and counts as a second factor.
    let s2 = customer(&app, "pkc0002").await;
    register(&app, &app, &s2, "YubiKey").await;
    let f = list_flags(&app, "pkc0001").await;
    assert_eq!(f["passkey_counter_regressed"], true, "{f}");
    assert_eq!(
        f["second_factor_not_registered"], true,
        "a suspended passkey does not count"
    );
    let f = list_flags(&app, "pkc0002").await;
    assert_eq!(f["passkey_counter_regressed"], false, "{f}");
    assert_eq!(f["second_factor_not_registered"], false, "{f}");

    // The support desk sees it at a glance on the list and in the detail…
    let mut desk = signed_in(&app, "desk", "support").await;
    let (status, _, html) = desk.get(&app, "/admin/logins?q=pkc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("パスキーの署名カウンター逆行(複製の疑い)"),
        "{html}"
    );
    let (status, _, html) = desk.get(&app, "/admin/logins/pkc0001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("iPhone 15"), "{html}");
    assert!(html.contains("class=\"regressed\""), "{html}");
    assert!(html.contains("<td class=\"num\">11</td>"), "{html}");
    assert!(html.contains("署名カウンターが逆行しました"), "{html}");
    assert!(html.contains("<dd id=\"recovery\">未発行</dd>"), "{html}");
    // …but may not remove it (a credential change), on the console or through the API.
    let t = csrf(&html);
    let path = format!("/admin/logins/pkc0001/passkeys/{id}/remove");
    let (status, _, html) = desk.post(&app, &path, &[("csrf", &t)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-OPR-0001"), "{html}");
    assert_eq!(passkey_count(&app, "pkc0001").await, 1);

    // An admin removes it: audited with the operator as actor, the flag is gone.
    let mut sato = signed_in(&app, "sato", "admin").await;
    let (_, _, html) = sato.get(&app, "/admin/logins/pkc0001").await;
    let t = csrf(&html);
    let (status, h, _) = sato.post(&app, &path, &[("csrf", &t)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/logins/pkc0001?done=passkey_removed")
    );
    assert_eq!(passkey_count(&app, "pkc0001").await, 0);
    let events = app.audit("pkc0001").await;
    assert!(
        events.iter().any(|e| e["event_type"] == "passkey_removed"
            && e["actor"]["kind"] == "operator"
            && e["actor"]["id"] == "sato"),
        "{events:?}"
    );
    assert_eq!(
        list_flags(&app, "pkc0001").await["passkey_counter_regressed"],
        false
    );
    let (_, _, html) = sato
        .get(&app, "/admin/logins/pkc0001?done=passkey_removed")
        .await;
    assert!(html.contains("パスキーを削除しました。"), "{html}");
    // Removing it again: not found.
    let (status, _, html) = sato.post(&app, &path, &[("csrf", &t)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("SKS-PKY-0003"), "{html}");
}

#[tokio::test]
async fn a_support_operator_session_cannot_remove_a_passkey_through_the_api() {
    let app = spawn_app().await;
    let (_, id) = regressed(&app, "pkc0003").await;
    let tok = crate::console::create(&app, "desk2", "support").await;
    let mut b = crate::pages::Browser::new();
    let secret = crate::console::setup(&app, &mut b, &tok).await;
    app.clock.advance(30);
    let otp = crate::console::code(&app, &secret);
    let v = json_of(
        app.post(
            "/api/admin/v1/session",
            None,
            json!({ "name": "desk2", "password": crate::console::PASSWORD, "otp": otp }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let op = v["token"].as_str().unwrap_or_default().to_owned();
    assert!(op.starts_with("skso_"), "{v}");
    let url = format!(
        "{}/api/admin/v1/logins/pkc0003/passkeys/{id}",
        app.admin_url
    );
    // Looking is the desk's work; removing is not.
    let r = ok(app
        .http
        .get(format!(
            "{}/api/admin/v1/logins/pkc0003/passkeys",
            app.admin_url
        ))
        .bearer_auth(&op)
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(app.http.delete(&url).bearer_auth(&op).send().await);
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "admin_role_required",
        "SKS-OPR-0001",
    )
    .await;
    assert_eq!(passkey_count(&app, "pkc0003").await, 1);
    let r = app
        .admin(
            Method::DELETE,
            &format!("/logins/pkc0003/passkeys/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn passwordless_begins_are_limited_per_ip_with_a_localized_429() {
    let app = crate::common::spawn_with(crate::throttle::tight(&[
        ("throttle.per_address_per_minute", 60),
        ("throttle.per_address_burst", 60),
    ]))
    .await;
    for _ in 0..60 {
        let r = app
            .post("/api/v1/login/passkey/begin", None, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post("/api/v1/login/passkey/begin", None, json!({}))
        .await;
    let v = expect_error(
        r,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "SKS-WEB-0002",
    )
    .await;
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_ascii()),
        "Japanese by default: {v}"
    );
    let r = ok(app
        .http
        .post(format!("{}/api/v1/login/passkey/begin", app.url))
        .header("accept-language", "en")
        .json(&json!({}))
        .send()
        .await);
    let v = expect_error(
        r,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "SKS-WEB-0002",
    )
    .await;
    assert!(v["message"].as_str().is_some_and(|m| m.is_ascii()), "{v}");
    // A second later (one interval at 60 a minute) one more, not a new window's worth.
    app.clock.advance(1);
    let r = app
        .post("/api/v1/login/passkey/begin", None, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post("/api/v1/login/passkey/begin", None, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// With `password.lockout_mode = "timed"` a passwordless login waits out the lock like a
/// password does, and goes through once it lifted by itself.
#[tokio::test]
async fn a_timed_lock_holds_passwordless_logins_until_it_lifts() {
    let app = crate::common::spawn_with(crate::common::Options {
        settings: vec![
            ("password.lockout_mode", "timed".into()),
            ("password.lockout_duration_secs", 600.into()),
        ],
        ..Default::default()
    })
    .await;
    let session = customer(&app, "pkc0009").await;
    let (mut key, _) = register(&app, &app, &session, "Pixel").await;
    for _ in 0..5 {
        app.login("pkc0009", "wrong999").await;
    }
    assert_eq!(list_flags(&app, "pkc0009").await["locked_password"], true);
    app.clock.advance(599);
    expect_error(
        passwordless(&app, &app, &mut key).await,
        StatusCode::FORBIDDEN,
        "login_locked",
        "SKS-LGN-0002",
    )
    .await;
    app.clock.advance(1);
    json_of(passwordless(&app, &app, &mut key).await, StatusCode::OK).await;
    assert_eq!(app.count_events("pkc0009", "login_unlocked").await, 1);
}

/// A passkey does not walk around what keeps a login out: wrong passwords' lock and an
/// operator's disabling; a temporary password set by an operator does not block it.
#[tokio::test]
async fn passwordless_logins_honour_locks_and_disabling_but_not_a_temporary_password() {
    let app = spawn_app().await;
    let session = customer(&app, "pkc0004").await;
    let (mut key, _) = register(&app, &app, &session, "Pixel").await;
    for _ in 0..5 {
        app.login("pkc0004", "wrong999").await;
    }
    assert_eq!(list_flags(&app, "pkc0004").await["locked_password"], true);
    expect_error(
        passwordless(&app, &app, &mut key).await,
        StatusCode::FORBIDDEN,
        "login_locked",
        "SKS-LGN-0002",
    )
    .await;
    let r = app
        .admin(Method::POST, "/logins/pkc0004/unlock", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    json_of(passwordless(&app, &app, &mut key).await, StatusCode::OK).await;

    let r = app
        .admin(
            Method::PATCH,
            "/logins/pkc0004",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = passwordless(&app, &app, &mut key).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = ok(r.json().await);
    assert_eq!(v["error"], "login_disabled", "{v}");
    // Each refusal is in the history with its code.
    let events = app.audit("pkc0004").await;
    for code in ["SKS-LGN-0002", "SKS-LGN-0003"] {
        assert!(
            events.iter().any(|e| e["event_type"] == "login_failed"
                && e["error_code"] == code
                && e["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("passkey"))),
            "{code}: {events:?}"
        );
    }
    let r = app
        .admin(
            Method::PATCH,
            "/logins/pkc0004",
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The desk reset the password (temporary): the passkey still opens a full session.
    let r = app
        .admin(
            Method::PUT,
            "/logins/pkc0004/password",
            Some(json!({ "password": "temp5678", "temporary": true })),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let v = json_of(passwordless(&app, &app, &mut key).await, StatusCode::OK).await;
    assert!(v["session_token"].is_string(), "{v}");
}
