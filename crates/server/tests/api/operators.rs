//! Operators: setup by the one-time link, login with password and code, roles, lockout, and
//! the operator named as actor in the activity history.

use crate::common::{expect_error, ok, postgres, spawn_app, spawn_with, Options, TestApp};
use reqwest::{Method, Response, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

pub(crate) const PASSWORD: &str = "Opr-pass-2026x";

pub(crate) struct Op {
    name: String,
    secret: Vec<u8>,
}

impl Op {
    fn code(&self, app: &TestApp) -> String {
        let p = OtpParams::default();
        totp_at(&self.secret, totp_step(app.clock.now(), p.period), p)
    }
}

async fn json_of(r: Response) -> Value {
    ok(r.json().await)
}

/// Creates an operator through the API and completes its setup.
pub(crate) async fn operator(app: &TestApp, name: &str, role: &str) -> Op {
    let r = app
        .admin(
            Method::POST,
            "/operators",
            Some(json!({ "name": name, "role": role })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = json_of(r).await;
    assert_eq!(v["setup_pending"], true);
    let url = v["setup_url"].as_str().unwrap_or_default().to_owned();
    assert!(
        url.starts_with("http://sekisho.test/admin/setup/skst_"),
        "{url}"
    );
    let token = url.rsplit('/').next().unwrap_or_default().to_owned();
    let r = app
        .post(
            &format!("/api/admin/v1/operator-setup/{token}"),
            None,
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert!(v["otpauth_uri"]
        .as_str()
        .is_some_and(|u| u.starts_with("otpauth://totp/")));
    assert!(v["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")));
    let op = Op {
        name: name.into(),
        secret: base32_decode(v["secret"].as_str().unwrap_or_default()).unwrap_or_default(),
    };
    let r = app
        .post(
            &format!("/api/admin/v1/operator-setup/{token}/confirm"),
            None,
            json!({ "otp": op.code(app) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The link works once.
    let r = app
        .post(
            &format!("/api/admin/v1/operator-setup/{token}"),
            None,
            json!({ "password": PASSWORD }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "operator_setup_invalid",
        "SKS-OPR-0004",
    )
    .await;
    op
}

pub(crate) async fn login(app: &TestApp, op: &Op, password: &str) -> Response {
    app.post(
        "/api/admin/v1/session",
        None,
        json!({ "name": op.name, "password": password, "otp": op.code(app) }),
    )
    .await
}

async fn session(app: &TestApp, op: &Op) -> String {
    app.clock.advance(30);
    let r = login(app, op, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    json_of(r).await["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn call(app: &TestApp, token: &str, m: Method, path: &str, body: Option<Value>) -> Response {
    let mut r = app
        .http
        .request(m, format!("{}/api/admin/v1{path}", app.url))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    ok(r.send().await)
}

#[tokio::test]
async fn roles_decide_what_an_operator_may_do_and_the_operator_is_the_actor() {
    roles(spawn_app().await).await;
}

#[tokio::test]
async fn roles_decide_what_an_operator_may_do_postgres() {
    let Some(url) = postgres("api_operator_roles").await else {
        return;
    };
    roles(
        spawn_with(Options {
            database_url: Some(url),
            ..Options::default()
        })
        .await,
    )
    .await;
}

async fn roles(app: TestApp) {
    let sato = operator(&app, "sato", "admin").await;
    let suzuki = operator(&app, "suzuki", "support").await;
    let admin = session(&app, &sato).await;
    let support = session(&app, &suzuki).await;
    assert!(admin.starts_with("skso_"));

    let me = json_of(call(&app, &support, Method::GET, "/session", None).await).await;
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("suzuki"), Some("support"))
    );

    // The admin operator creates a login; the activity history names the operator.
    let body = json!({ "login_id": "opr00001", "email": "o@example.co.jp", "display_name": "O", "password": "abc12345", "temporary": false });
    let r = call(&app, &admin, Method::POST, "/logins", Some(body.clone())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = json_of(
        call(
            &app,
            &support,
            Method::GET,
            "/audit?login_id=opr00001&event_type=login_created",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        v["events"][0]["actor"],
        json!({ "kind": "operator", "id": "sato" })
    );
    let v = json_of(
        call(
            &app,
            &admin,
            Method::GET,
            "/audit?operator=sato&event_group=account",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(v["events"].as_array().map(Vec::len), Some(1));

    // Support: search, view, unlock, revoke sessions; not create, not operators, not tokens.
    for (m, path) in [
        (Method::GET, "/logins?q=opr"),
        (Method::GET, "/logins/opr00001"),
        (Method::POST, "/logins/opr00001/unlock"),
        (Method::DELETE, "/logins/opr00001/sessions"),
        (Method::GET, "/audit"),
    ] {
        let r = call(&app, &support, m.clone(), path, None).await;
        assert!(r.status().is_success(), "{m} {path}: {}", r.status());
    }
    let r = call(&app, &support, Method::POST, "/logins", Some(body)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "admin_role_required",
        "SKS-OPR-0001",
    )
    .await;
    for (m, path) in [
        (Method::GET, "/operators"),
        (Method::GET, "/api-tokens"),
        (Method::DELETE, "/logins/opr00001"),
    ] {
        let r = call(&app, &support, m.clone(), path, None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{m} {path}");
    }
    let v = json_of(call(&app, &admin, Method::GET, "/operators", None).await).await;
    assert_eq!(v["operators"].as_array().map(Vec::len), Some(2));

    // Promotion shows at once; logout ends the session.
    let r = call(
        &app,
        &admin,
        Method::PATCH,
        "/operators/suzuki",
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        call(&app, &support, Method::GET, "/operators", None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &support, Method::DELETE, "/session", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = call(&app, &support, Method::GET, "/logins", None).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;

    // Disabling ends the sessions of the operator too.
    let r = call(
        &app,
        &admin,
        Method::PATCH,
        "/operators/suzuki",
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
    let r = login(&app, &suzuki, PASSWORD).await;
    expect_error(r, StatusCode::FORBIDDEN, "login_disabled", "SKS-LGN-0003").await;

    // The last active admin cannot demote, disable or delete itself.
    let r = call(
        &app,
        &admin,
        Method::PATCH,
        "/operators/sato",
        Some(json!({ "role": "support" })),
    )
    .await;
    expect_error(r, StatusCode::CONFLICT, "last_admin", "SKS-OPR-0006").await;
    let r = call(&app, &admin, Method::DELETE, "/operators/sato", None).await;
    expect_error(r, StatusCode::CONFLICT, "last_admin", "SKS-OPR-0006").await;
    assert_eq!(
        call(&app, &admin, Method::DELETE, "/operators/suzuki", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = call(&app, &admin, Method::GET, "/operators/suzuki", None).await;
    expect_error(
        r,
        StatusCode::NOT_FOUND,
        "operator_not_found",
        "SKS-OPR-0002",
    )
    .await;
}

#[tokio::test]
async fn wrong_passwords_and_codes_lock_an_operator_until_an_admin_unlocks() {
    let app = spawn_app().await;
    let sato = operator(&app, "sato", "admin").await;
    let kato = operator(&app, "kato", "support").await;
    let admin = session(&app, &sato).await;

    // jp-broker: five wrong passwords lock.
    for _ in 0..5 {
        let r = login(&app, &kato, "wrong-pass-1").await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "SKS-LGN-0001",
        )
        .await;
    }
    // Locked: the right password answers like a wrong one and counts nothing (issue 16).
    app.clock.advance(30);
    let r = login(&app, &kato, PASSWORD).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let v = json_of(call(&app, &admin, Method::GET, "/operators/kato", None).await).await;
    assert_eq!(v["locked"], true);
    let v = json_of(call(&app, &admin, Method::POST, "/operators/kato/unlock", None).await).await;
    assert_eq!(v["was_locked"], true);
    let token = session(&app, &kato).await;
    assert!(token.starts_with("skso_"));

    // Ten wrong codes lock as well; a code is good once.
    app.clock.advance(30);
    let r = login(&app, &kato, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = login(&app, &kato, PASSWORD).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    // The replayed code above did not count (issue 14): ten wrong ones lock.
    for _ in 0..10 {
        let r = app
            .post(
                "/api/admin/v1/session",
                None,
                json!({ "name": "kato", "password": PASSWORD, "otp": "000000" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(30);
    let r = login(&app, &kato, PASSWORD).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;

    // Unknown operators get the same answer as a wrong password; all of it is in the history.
    let r = app
        .post(
            "/api/admin/v1/session",
            None,
            json!({ "name": "nobody", "password": PASSWORD, "otp": "123456" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let v = json_of(
        call(
            &app,
            &admin,
            Method::GET,
            "/audit?operator=kato&event_type=operator_locked",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(v["events"].as_array().map(Vec::len), Some(2));
}

/// Issue 16: a locked operator told the right password apart (`login_locked` 403 against
/// `invalid_credentials` 401) and kept counting failures. Now every password gets the same
/// answer and nothing more is counted; the history says what happened.
#[tokio::test]
async fn a_locked_operator_answers_every_password_alike_and_counts_no_more() {
    let app = spawn_app().await;
    let sato = operator(&app, "sato", "admin").await;
    let kato = operator(&app, "kato", "support").await;
    let admin = session(&app, &sato).await;
    for _ in 0..5 {
        login(&app, &kato, "wrong-pass-1").await;
    }
    let v = json_of(call(&app, &admin, Method::GET, "/operators/kato", None).await).await;
    assert_eq!(
        (v["locked"].clone(), v["failed_logins"].clone()),
        (json!(true), json!(5))
    );
    let mut answers = Vec::new();
    for password in [PASSWORD, "wrong-pass-1", PASSWORD, "other-pass-2"] {
        app.clock.advance(30);
        let r = login(&app, &kato, password).await;
        let status = r.status();
        let v = json_of(r).await;
        answers.push((
            status,
            v["error"].clone(),
            v["code"].clone(),
            v["message"].clone(),
        ));
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "every password gets the same answer: {answers:?}"
    );
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1, "invalid_credentials");
    let v = json_of(call(&app, &admin, Method::GET, "/operators/kato", None).await).await;
    assert_eq!(
        v["failed_logins"], 5,
        "failures past the lock are not counted: {v}"
    );
    let v = json_of(
        call(
            &app,
            &admin,
            Method::GET,
            "/audit?operator=kato&event_type=operator_login_failed&limit=100",
            None,
        )
        .await,
    )
    .await;
    let locked = v["events"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter(|e| {
                    e["description"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("operator locked"))
                        && e["error_code"] == "SKS-LGN-0002"
                })
                .count()
        })
        .unwrap_or_default();
    assert_eq!(locked, 4, "each refusal is in the history: {v}");
}

/// Issue 16 item 8: an operator name typed in full width is the operator's name.
#[tokio::test]
async fn an_operator_name_typed_in_full_width_signs_in() {
    let app = spawn_app().await;
    let op = operator(&app, "desk01", "support").await;
    app.clock.advance(30);
    let r = app
        .post(
            "/api/admin/v1/session",
            None,
            json!({ "name": "ｄｅｓｋ０１", "password": PASSWORD, "otp": op.code(&app) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
