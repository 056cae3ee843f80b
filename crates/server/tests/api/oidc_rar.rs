//! Rich Authorization Requests (RFC 9396) over HTTP: a FAPI 2 client pushes a withdrawal in
//! `authorization_details`, the customer logs in and confirms it on the step-up page, and the
//! confirmed operation comes back in the token response, the DPoP-bound access token and
//! introspection (not in a refreshed token); the refusals: an unknown type or field, a refused
//! confirmation, `prompt=none`, and a kind only a passkey confirms (with the way back to the
//! app for a customer without one), and the same kind confirmed with a passkey.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use crate::oidc_flow::{assertion, enc, location, param, through_pages, TRADE_CB, VERIFIER};
use crate::oidc_flow::{code as totp_code, CHALLENGE};
use crate::oidc_tokens::{claims_of, client_jwt, fapi, fapi_token, form_post_dpop, Dpop, JTI};
use crate::pages::{csrf, Browser};
use crate::step_up::{stepper, Stepper};
use crate::stepup_passkey::{begin, finish, real_clock, register};
use reqwest::StatusCode;
use sekisho_core::step_up::OperationKind;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

const WITHDRAWAL: &str = r#"[{"type":"sekisho_operation","kind":"withdrawal","description":"出金 1,500,000円 → みずほ銀行 本店 普通 1234567","amount":"1500000","currency":"JPY"}]"#;

/// Pushes the client's request with `extra` parameters; answers the status and body.
async fn push(app: &TestApp, id: &str, extra: &[(&str, &str)]) -> (StatusCode, Value) {
    let a = assertion(
        app,
        id,
        &format!("rar-{}", JTI.fetch_add(1, Ordering::Relaxed)),
    );
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", TRADE_CB),
        ("scope", "openid"),
        ("nonce", "n-rar"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    form.extend(client_jwt(id, &a));
    form.extend_from_slice(extra);
    form_post_dpop(app, "/oidc/par", None, None, &form).await
}

fn start(id: &str, pushed: &Value) -> String {
    format!(
        "/oidc/authorize?client_id={id}&request_uri={}",
        enc(pushed["request_uri"].as_str().unwrap_or_default())
    )
}

/// Through the login pages to the step-up page the authorization request sends the customer
/// to; answers its path.
async fn to_step_up(
    app: &TestApp,
    b: &mut Browser,
    id: &str,
    s: &Stepper,
    login: &str,
    key: &Dpop,
) -> String {
    let (status, p) = push(
        app,
        id,
        &[
            ("authorization_details", WITHDRAWAL),
            ("dpop_jkt", &key.jkt()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let to = through_pages(app, b, &start(id, &p), login, s).await;
    assert!(to.starts_with("/step-up/sksu_"), "{to}");
    to
}

/// The step-up page's answer (confirm or refuse) leads back to the pending request; answers
/// where that sends the browser.
async fn back_to_request(app: &TestApp, b: &mut Browser, answer: &str) -> String {
    let inner = param(answer, "to").unwrap_or_default();
    assert!(
        inner.starts_with("/oidc/authorize/resume?id=skar_"),
        "{answer}"
    );
    let (status, h, body) = b.get(app, &inner).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    location(&h)
}

/// Exchanges the code of the client's redirect `back` with the DPoP key and the PKCE verifier;
/// answers the token response, which must be 200.
async fn redeem(app: &TestApp, id: &str, key: &Dpop, back: &str) -> Value {
    let code = param(back, "code").unwrap_or_default();
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", TRADE_CB),
        ("code_verifier", VERIFIER),
    ];
    let proof = key.proof(app, "POST", "/oidc/token", None);
    let (status, t) = fapi_token(app, id, Some(&proof), &grant).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

#[tokio::test]
async fn a_withdrawal_confirmed_in_the_flow_comes_back_in_one_dpop_bound_token() {
    let app = spawn_app().await;
    let id = fapi(&app).await;
    let s = stepper(&app, "rar01").await;
    let key = Dpop::new(31);

    // Discovery names the type.
    let r = ok(app
        .http
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .send()
        .await);
    let d: Value = ok(r.json().await);
    assert_eq!(
        d["authorization_details_types_supported"],
        json!(["sekisho_operation"])
    );

    // The customer logs in, then sees the operation on the step-up page, naming the app.
    let mut b = Browser::new();
    let page = to_step_up(&app, &mut b, &id, &s, "rar01", &key).await;
    let (status, _, html) = b.get(&app, &page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for shown in [
        "出金",
        "1,500,000 JPY",
        "みずほ銀行 本店 普通 1234567",
        "トレードアプリ",
    ] {
        assert!(html.contains(shown), "{shown} not on the page");
    }
    // Confirmed with a fresh code of the app.
    let otp = totp_code(&app, &s.secret);
    let (status, h, body) = b
        .post(
            &app,
            &format!("{page}/confirm"),
            &[("csrf", &csrf(&html)), ("method", "totp"), ("otp", &otp)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let back = back_to_request(&app, &mut b, &location(&h)).await;
    assert!(back.starts_with(TRADE_CB), "{back}");

    // The token response and the access token carry the operation as confirmed.
    let t = redeem(&app, &id, &key, &back).await;
    let details = &t["authorization_details"];
    assert_eq!(details[0]["type"], "sekisho_operation", "{t}");
    assert_eq!(details[0]["kind"], "withdrawal");
    assert_eq!(details[0]["amount"], "1500000");
    assert_eq!(details[0]["currency"], "JPY");
    assert_eq!(details[0]["method"], "totp");
    let access = t["access_token"].as_str().unwrap_or_default().to_owned();
    let claims = claims_of(&access);
    assert_eq!(&claims["authorization_details"], details);
    assert_eq!(claims["cnf"]["jkt"], key.jkt());

    // Introspection says the same to the client.
    let a = assertion(
        &app,
        &id,
        &format!("in-{}", JTI.fetch_add(1, Ordering::Relaxed)),
    );
    let mut form: Vec<(&str, &str)> = client_jwt(&id, &a).to_vec();
    form.push(("token", &access));
    let (status, v) = form_post_dpop(&app, "/oidc/introspect", None, None, &form).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["active"], true);
    assert_eq!(&v["authorization_details"], details);

    // A refreshed access token is no new confirmation: it carries no operation.
    let refresh = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    let proof = key.proof(&app, "POST", "/oidc/token", None);
    let again = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, t2) = fapi_token(&app, &id, Some(&proof), &again).await;
    assert_eq!(status, StatusCode::OK, "{t2}");
    assert!(t2.get("authorization_details").is_none(), "{t2}");
    let refreshed = t2["access_token"].as_str().unwrap_or_default();
    assert!(claims_of(refreshed).get("authorization_details").is_none());

    // Audited, naming the client and the operation.
    let audit = app.audit("rar01").await;
    let said = |event: &str, words: &[&str]| {
        audit.iter().any(|e| {
            e["event_type"] == event
                && words
                    .iter()
                    .all(|w| e["description"].as_str().is_some_and(|d| d.contains(w)))
        })
    };
    assert!(said("step_up_requested", &[&id, "withdrawal"]), "{audit:?}");
    assert!(
        said("step_up_confirmed", &["withdrawal", "totp"]),
        "{audit:?}"
    );
    assert!(
        said(
            "oidc_authorized",
            &[&id, "operation withdrawal 1,500,000 JPY"]
        ),
        "{audit:?}"
    );
    assert!(
        said(
            "oidc_token_issued",
            &[&id, "operation withdrawal 1500000 JPY"]
        ),
        "{audit:?}"
    );
}

#[tokio::test]
async fn authorization_details_of_another_type_or_shape_are_refused_at_par() {
    let app = spawn_app().await;
    let id = fapi(&app).await;
    for (details, why) in [
        (
            r#"[{"type":"payment_initiation","kind":"withdrawal","description":"x"}]"#,
            "unknown authorization_details type",
        ),
        (
            r#"[{"type":"sekisho_operation","kind":"withdrawal","description":"x","locations":["https://bank"]}]"#,
            "unknown field locations",
        ),
        (
            r#"[{"type":"sekisho_operation","kind":"transfer","description":"x"}]"#,
            "kind must be",
        ),
        (
            r#"[{"type":"sekisho_operation","kind":"withdrawal","description":"x","amount":"10"}]"#,
            "go together",
        ),
        (r#"{"type":"sekisho_operation"}"#, "JSON array"),
    ] {
        let (status, e) = push(&app, &id, &[("authorization_details", details)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{details}");
        assert_eq!(e["error"], "invalid_authorization_details", "{e}");
        assert!(
            e["error_description"]
                .as_str()
                .is_some_and(|d| d.contains(why)),
            "{why}: {e}"
        );
    }
}

#[tokio::test]
async fn a_refused_operation_or_prompt_none_sends_no_code() {
    let app = spawn_app().await;
    let id = fapi(&app).await;
    let s = stepper(&app, "rar02").await;
    let key = Dpop::new(32);
    let mut b = Browser::new();
    let page = to_step_up(&app, &mut b, &id, &s, "rar02", &key).await;
    let (_, _, html) = b.get(&app, &page).await;
    let (status, h, _) = b
        .post(&app, &format!("{page}/refuse"), &[("csrf", &csrf(&html))])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let back = back_to_request(&app, &mut b, &location(&h)).await;
    assert!(back.starts_with(TRADE_CB), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert!(param(&back, "code").is_none());
    assert_eq!(app.count_events("rar02", "step_up_refused").await, 1);

    // With a session but prompt=none: the operation needs the customer, so no page and no code.
    let (status, p) = push(
        &app,
        &id,
        &[("authorization_details", WITHDRAWAL), ("prompt", "none")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, h, _) = b.get(&app, &start(&id, &p)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let back = location(&h);
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("interaction_required"),
        "{back}"
    );
}

#[tokio::test]
async fn a_kind_only_a_passkey_confirms_refuses_the_apps_code() {
    let app = spawn_with(Options {
        step_up_passkey_kinds: vec![OperationKind::Withdrawal],
        ..Options::default()
    })
    .await;
    let id = fapi(&app).await;
    let s = stepper(&app, "rar03").await;
    let key = Dpop::new(33);
    let mut b = Browser::new();
    let page = to_step_up(&app, &mut b, &id, &s, "rar03", &key).await;
    // The customer has no passkey: the step-up page says how to register one (SKS-STP-0006),
    // and no code of the app confirms.
    let (status, _, html) = b.get(&app, &page).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("SKS-STP-0006"), "{html}");
    let otp = totp_code(&app, &s.secret);
    let (status, _, html) = b
        .post(
            &app,
            &format!("{page}/confirm"),
            &[("csrf", "x"), ("method", "totp"), ("otp", &otp)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert_eq!(app.count_events("rar03", "step_up_confirmed").await, 0);
    // The page also leads back to the app, which hears at once that the operation was not
    // confirmed (before, the customer had no way back and the app waited for the request to
    // expire).
    let (_, _, html) = b.get(&app, &page).await;
    assert!(html.contains(&format!("{page}/refuse")), "{html}");
    let (status, h, _) = b
        .post(&app, &format!("{page}/refuse"), &[("csrf", &csrf(&html))])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let back = back_to_request(&app, &mut b, &location(&h)).await;
    assert!(back.starts_with(TRADE_CB), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(app.count_events("rar03", "step_up_refused").await, 1);
}

/// A kind only a passkey confirms, confirmed with one inside the flow: the operation comes
/// back with `method` `passkey` in the token response and the access token.
#[tokio::test]
async fn a_withdrawal_confirmed_with_a_passkey_comes_back_as_such() {
    let app = spawn_with(Options {
        clock: Some(real_clock()),
        step_up_passkey_kinds: vec![OperationKind::Withdrawal],
        ..Options::default()
    })
    .await;
    let id = fapi(&app).await;
    let s = stepper(&app, "rar04").await;
    let key = Dpop::new(34);
    let mut b = Browser::new();
    let page = to_step_up(&app, &mut b, &id, &s, "rar04", &key).await;
    // Logged in with the app's code; the passkey is registered meanwhile (another device).
    let mut passkey = register(&app, &s).await;
    let (status, _, html) = b.get(&app, &page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"confirm-passkey\""), "{html}");
    let (status, begun) = begin(&app, &mut b, &page, &html).await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let assertion = passkey.get(&begun["options"]);
    let (status, to, body) =
        finish(&app, &mut b, &page, &html, &begun["ceremony"], &assertion).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let back = back_to_request(&app, &mut b, &to).await;
    assert!(back.starts_with(TRADE_CB), "{back}");
    let t = redeem(&app, &id, &key, &back).await;
    let details = &t["authorization_details"];
    assert_eq!(details[0]["kind"], "withdrawal", "{t}");
    assert_eq!(details[0]["method"], "passkey", "{t}");
    let access = t["access_token"].as_str().unwrap_or_default();
    assert_eq!(&claims_of(access)["authorization_details"], details);
    assert_eq!(app.count_events("rar04", "step_up_confirmed").await, 1);
}
