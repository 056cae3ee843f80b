//! The rules around the token endpoint: the throttle per client and per address (failed client
//! authentications only), replays refused at the code exchange (whose writes are one
//! transaction), refresh refused for a disabled client or login, and a token signed with a key
//! another instance made verified at once.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use crate::oidc_flow::{assertion, TRADE_CB, VERIFIER};
use crate::oidc_tokens::{
    basic, client_jwt, crm_code, exchange, fapi, fapi_code, form_post_dpop, introspect, Dpop,
};
use crate::pages::Browser;
use crate::step_up::stepper;
use reqwest::{Method, StatusCode};
use sekisho_core::Clock;
use serde_json::json;

/// A token request of the CRM client with an unknown refresh token: authenticated, then
/// refused as `invalid_grant` (400) unless a throttle answers first.
async fn unknown_refresh(app: &TestApp, id: &str, secret: &str) -> reqwest::Response {
    let form = [("grant_type", "refresh_token"), ("refresh_token", "skrt_x")];
    ok(app
        .http
        .post(format!("{}/oidc/token", app.url))
        .basic_auth(id, Some(secret))
        .form(&form)
        .send()
        .await)
}

#[tokio::test]
async fn the_token_endpoint_is_throttled_per_client() {
    let app = spawn_with(Options {
        settings: vec![
            ("oidc.client_rate_per_minute", 1.into()),
            ("oidc.client_rate_burst", 2.into()),
        ],
        ..Options::default()
    })
    .await;
    let (id, secret) = basic(&app, "CRM ポータル").await;
    for _ in 0..2 {
        let r = unknown_refresh(&app, &id, &secret).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = unknown_refresh(&app, &id, &secret).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    // A minute later it answers again.
    app.clock.advance(61);
    let r = unknown_refresh(&app, &id, &secret).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A relying party's back end sends every customer's exchanges from one address: its
/// successful client authentications never spend the address's bucket (they did before: 120 a
/// minute per address throttled a broker's web app at the market's open). Failed ones do, and
/// once they are spent the address is refused before its credentials are looked at, the right
/// ones too, at the token endpoint and at introspection alike.
#[tokio::test]
async fn only_failed_client_authentications_spend_an_address() {
    let app = spawn_with(Options {
        settings: vec![
            ("oidc.address_failures_per_minute", 1.into()),
            ("oidc.address_failures_burst", 2.into()),
        ],
        ..Options::default()
    })
    .await;
    let (id, secret) = basic(&app, "CRM ポータル").await;
    for _ in 0..10 {
        let r = unknown_refresh(&app, &id, &secret).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    // Two wrong secrets spend the address's failures.
    for _ in 0..2 {
        let r = unknown_refresh(&app, &id, "wrong-secret").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = unknown_refresh(&app, &id, "wrong-secret").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    // Now the right secret is refused too, before it is checked, here and at introspection.
    let r = unknown_refresh(&app, &id, &secret).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = ok(app
        .http
        .post(format!("{}/oidc/introspect", app.url))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", "skrt_x")])
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // A minute later the address may try again, and the right secret works.
    app.clock.advance(61);
    let r = unknown_refresh(&app, &id, &secret).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A successful code exchange writes its assertion's and its proof's `jti` with the code and
/// the grant, in one transaction; any other answer writes them first. Either way each is used
/// once: a replayed assertion or proof is refused and costs the code nothing, and those of an
/// exchange that got tokens are spent.
#[tokio::test]
async fn replays_at_the_code_exchange_are_refused_and_cost_the_code_nothing() {
    let owned = spawn_app().await;
    let app = &owned;
    let id = fapi(app).await;
    let s = stepper(app, "otk07").await;
    let mut b = Browser::new();
    let key = Dpop::new(31);
    let jkt = key.jkt();
    let code = fapi_code(app, &mut b, &id, &s, "otk07", true, &[("dpop_jkt", &jkt)]).await;
    let post = |jti: &'static str, proof: String, code: String| {
        let a = assertion(app, &id, jti);
        let id = id.clone();
        async move {
            let mut form: Vec<(&str, &str)> = client_jwt(&id, &a).to_vec();
            form.extend([
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", TRADE_CB),
                ("code_verifier", VERIFIER),
            ]);
            form_post_dpop(app, "/oidc/token", None, Some(&proof), &form).await
        }
    };
    let token_proof = || key.proof(app, "POST", "/oidc/token", None);
    let error = |r: &(StatusCode, serde_json::Value)| r.1["error"].as_str().map(str::to_owned);

    // An unknown code: refused, and its assertion and proof are used all the same.
    let (a1, p1) = ("rp-a1", token_proof());
    let r = post(a1, p1.clone(), "nosuchcode".into()).await;
    assert_eq!(error(&r).as_deref(), Some("invalid_grant"), "{r:?}");
    // Each again, with the real code: refused, and the code is not spent.
    let r = post(a1, token_proof(), code.clone()).await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(error(&r).as_deref(), Some("invalid_client"));
    let r = post("rp-a2", p1, code.clone()).await;
    assert_eq!(error(&r).as_deref(), Some("invalid_dpop_proof"), "{r:?}");
    // Fresh ones: the tokens.
    let p3 = token_proof();
    let r = post("rp-a3", p3.clone(), code.clone()).await;
    assert_eq!(r.0, StatusCode::OK, "{r:?}");
    // What that exchange used is spent: its assertion, and its proof.
    let other = fapi_code(app, &mut b, &id, &s, "otk07", false, &[("dpop_jkt", &jkt)]).await;
    let r = post("rp-a3", token_proof(), other.clone()).await;
    assert_eq!(error(&r).as_deref(), Some("invalid_client"), "{r:?}");
    let r = post("rp-a4", p3, other.clone()).await;
    assert_eq!(error(&r).as_deref(), Some("invalid_dpop_proof"), "{r:?}");
    let r = post("rp-a5", token_proof(), other).await;
    assert_eq!(r.0, StatusCode::OK, "{r:?}");
    assert_eq!(app.count_events("otk07", "oidc_token_issued").await, 2);
}

#[tokio::test]
async fn refresh_is_refused_for_a_disabled_client_or_login() {
    let app = spawn_app().await;
    let (id, secret) = basic(&app, "CRM ポータル").await;
    let s = stepper(&app, "otk05").await;
    let mut b = Browser::new();
    let code = crm_code(&app, &mut b, &id, &s, "otk05", "openid").await;
    let (_, t) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &exchange(&code),
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    // A disabled client cannot authenticate; enabled again, its refresh token works.
    let path = format!("/oidc/clients/{id}");
    let r = app
        .admin(Method::POST, &format!("{path}/disable"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, e) =
        form_post_dpop(&app, "/oidc/token", Some((&id, &secret)), None, &refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(e["error"], "invalid_client");
    let r = app
        .admin(Method::POST, &format!("{path}/enable"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, t) =
        form_post_dpop(&app, "/oidc/token", Some((&id, &secret)), None, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    // A disabled login gets nothing more, and its tokens are no longer active.
    let r = app
        .admin(
            Method::PATCH,
            "/logins/otk05",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, e) =
        form_post_dpop(&app, "/oidc/token", Some((&id, &secret)), None, &refresh).await;
    // Disabling ends the login's sessions, and with them the grants made on them (this one has
    // no offline_access); a grant that outlived its session is refused for the disabled login.
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    assert!(
        e["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("revoked") || d.contains("disabled")),
        "{e}"
    );
    assert_eq!(
        introspect(&app, (&id, &secret), &rt).await,
        json!({"active": false})
    );
}

/// Each instance keeps the list of signing keys it read for a few seconds: a token another
/// instance signed with a key made since (here by `sekisho keys rotate`'s function) is still
/// verified at once, the unknown `kid` being looked up in the database.
#[tokio::test]
async fn a_token_signed_with_a_key_made_elsewhere_verifies_at_once() {
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    let one = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let r = one
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": "CRM ポータル",
                "profile": "basic",
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": [crate::oidc_flow::CRM_CB],
                "grant_types": ["authorization_code", "refresh_token"],
                "id_token_signed_response_alg": "EdDSA",
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = ok(r.json().await);
    let (id, secret) = (
        v["client_id"].as_str().unwrap_or_default().to_owned(),
        v["client_secret"].as_str().unwrap_or_default().to_owned(),
    );
    let s = stepper(&one, "otk08").await;
    let mut b = Browser::new();
    let code = crm_code(&one, &mut b, &id, &s, "otk08", "openid").await;
    let (status, t) = form_post_dpop(
        &one,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &exchange(&code),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let kid = |jwt: &str| ok(jsonwebtoken::decode_header(jwt)).kid.unwrap_or_default();
    let first = kid(t["access_token"].as_str().unwrap_or_default());

    // A new EdDSA key, made as `sekisho keys rotate` makes it, on the same database.
    let store = ok(sekisho_store::connect(&sekisho_store::ConnectOptions {
        url: url.clone(),
        max_connections: 2,
        sqlite_synchronous: Default::default(),
    })
    .await);
    let made = ok(sekisho_app::keys::create_key(
        store.as_ref(),
        &sekisho_core::secret_box::SecretBox::new("k1", &[7; 32]),
        &sekisho_app::system::OsRandom,
        one.clock.now(),
        sekisho_core::audit::Actor::System,
        &Default::default(),
        sekisho_app::keys::Alg::EdDSA,
    )
    .await);
    // Another instance (on the same clock), which reads the keys now, refreshes with it.
    let two = spawn_with(Options {
        database_url: Some(url),
        clock: Some(one.clock.clone()),
        ..Options::default()
    })
    .await;
    let rt = t["refresh_token"].as_str().unwrap_or_default();
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", rt)];
    let (status, t) =
        form_post_dpop(&two, "/oidc/token", Some((&id, &secret)), None, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().unwrap_or_default();
    assert_eq!(kid(access), made.kid);
    assert_ne!(kid(access), first);
    // The first instance, whose list is younger than 5 s, verifies it.
    let v = introspect(&one, (&id, &secret), access).await;
    assert_eq!(v["active"], true, "{v}");
}
