//! The OpenID Connect authorization code flow over HTTP: a client's request (pushed or not), the
//! customer through the hosted pages (password, then the app's code), the code back to the
//! client with `state` and `iss`, the code exchanged once with PKCE for an ID token (verified
//! with the published keys alone) and an access token that UserInfo takes; and the refusals.

use crate::common::{ok, postgres, spawn_app, spawn_with, Options, TestApp};
use crate::pages::{csrf, Browser};
use crate::step_up::{stepper, Stepper};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, EncodingKey, Header, Validation};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sekisho_core::otp::{totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

pub(crate) const ISS: &str = "http://sekisho.test";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(crate) const CRM_CB: &str = "https://crm.example.co.jp/callback";
pub(crate) const TRADE_CB: &str = "https://trade.example.co.jp/callback";
const SEED: [u8; 32] = [5; 32];

pub(crate) fn location(h: &HeaderMap) -> String {
    h.get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A `basic` client with a secret (`client_secret_basic`); answers its ID and secret.
pub(crate) async fn crm(app: &TestApp) -> (String, String) {
    let r = app
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": "CRM ポータル",
                "profile": "basic",
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": [CRM_CB],
                "scope": "openid email profile login_id",
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("client_id"), s("client_secret"))
}

/// A `fapi2` client (`private_key_jwt` with an Ed25519 key, PAR required); answers its ID.
pub(crate) async fn trade(app: &TestApp) -> String {
    let x = Ed25519KeyPair::from_seed_unchecked(&SEED)
        .map(|k| URL_SAFE_NO_PAD.encode(k.public_key().as_ref()))
        .unwrap_or_default();
    let r = app
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": "トレードWeb",
                "redirect_uris": [TRADE_CB],
                "id_token_signed_response_alg": "EdDSA",
                "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "t1"}]},
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    v["client_id"].as_str().unwrap_or_default().to_owned()
}

/// A `private_key_jwt` assertion of the trade client (RFC 7523), with `jti`.
pub(crate) fn assertion(app: &TestApp, client_id: &str, jti: &str) -> String {
    assertion_by(app, client_id, jti, &SEED, "t1")
}

/// A `private_key_jwt` assertion signed with the Ed25519 key of `seed`, named `kid`.
pub(crate) fn assertion_by(
    app: &TestApp,
    client_id: &str,
    jti: &str,
    seed: &[u8; 32],
    kid: &str,
) -> String {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    let key = EncodingKey::from_ed_der(&der);
    let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
    h.kid = Some(kid.into());
    let now = app.clock.now().0;
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": ISS, "jti": jti,
        "iat": now, "exp": now + 60,
    });
    ok(jsonwebtoken::encode(&h, &claims, &key))
}

pub(crate) async fn form_post(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = app.http.post(format!("{}{path}", app.url)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(enc(id), Some(enc(secret)));
    }
    let r = ok(req.send().await);
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) fn code(app: &TestApp, secret: &[u8]) -> String {
    totp_at(secret, totp_step(app.clock.now(), 30), OtpParams::default())
}

/// Through the hosted pages from an authorization URL: password, then the app's code, back to
/// the authorization endpoint; answers where it sends the browser in the end.
pub(crate) async fn through_pages(
    app: &TestApp,
    b: &mut Browser,
    start: &str,
    login_id: &str,
    s: &Stepper,
) -> String {
    let (status, h, body) = b.get(app, start).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let to_login = location(&h);
    assert!(
        to_login.starts_with("/login?return_to=%2Foidc%2Fauthorize%2Fresume%3Fid%3Dskar_"),
        "{to_login}"
    );
    let back = param(&to_login, "return_to").unwrap_or_default();
    let (status, _, html) = b.get(app, &to_login).await;
    assert_eq!(status, StatusCode::OK);
    let (status, h, _) = b
        .post(
            app,
            "/login",
            &[
                ("csrf", &csrf(&html)),
                ("login_id", login_id),
                ("password", "abc12345"),
                ("return_to", &back),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), "/login/second-factor");
    let (_, _, html) = b.get(app, "/login/second-factor").await;
    let otp = code(app, &s.secret);
    let (status, h, body) = b
        .post(
            app,
            "/login/second-factor",
            &[("csrf", &csrf(&html)), ("otp", &otp), ("method", "totp")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    app.clock.advance(30);
    // The same-origin hop, then the pending request's page.
    let hop = location(&h);
    assert_eq!(
        hop,
        format!("/login/return?to={}", enc(&back).replace('+', "%20"))
    );
    let (status, _, html) = b.get(app, &hop).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("url={back}")), "{html}");
    let (status, h, body) = b.get(app, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    location(&h)
}

pub(crate) fn authorize_url(client_id: &str, redirect_uri: &str, extra: &str) -> String {
    format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid%20email%20profile%20login_id&state=st-1&nonce=n-1\
         &code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(redirect_uri)
    )
}

pub(crate) async fn verify_id_token(app: &TestApp, jwt: &str, aud: &str) -> Value {
    let set: JwkSet = ok(app.get("/oidc/jwks", None).await.json().await);
    let header = ok(decode_header(jwt));
    let jwk = set.find(header.kid.as_deref().unwrap_or_default());
    let key = ok(DecodingKey::from_jwk(
        jwk.unwrap_or_else(|| unreachable!("kid published")),
    ));
    let mut v = Validation::new(header.alg);
    v.set_audience(&[aud]);
    v.set_issuer(&[ISS]);
    // The test clock is not the real time; `exp` is checked against it below.
    v.validate_exp = false;
    ok(decode::<Value>(jwt, &key, &v)).claims
}

#[tokio::test]
async fn a_basic_client_gets_a_code_through_the_pages_and_exchanges_it_once() {
    let app = spawn_app().await;
    let (id, secret) = crm(&app).await;
    let s = stepper(&app, "oidc01").await;
    let mut b = Browser::new();
    let back = through_pages(&app, &mut b, &authorize_url(&id, CRM_CB, ""), "oidc01", &s).await;
    assert!(back.starts_with(&format!("{CRM_CB}?code=skac_")), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&back, "iss").as_deref(), Some(ISS));
    let code = param(&back, "code").unwrap_or_default();

    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CRM_CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, t) = form_post(&app, "/oidc/token", Some((&id, &secret)), &exchange).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid email profile login_id");
    let claims = verify_id_token(&app, t["id_token"].as_str().unwrap_or_default(), &id).await;
    let now = app.clock.now().0;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["azp"], id.as_str());
    assert_eq!(
        claims["acr"],
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
    );
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert!(claims["auth_time"]
        .as_i64()
        .is_some_and(|t| t <= now && t > now - 120));
    assert!(claims["exp"].as_i64().is_some_and(|e| e > now));
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
    assert!(
        !sub.is_empty() && sub != "oidc01",
        "sub is not the login ID"
    );

    // UserInfo with the access token.
    let access = t["access_token"].as_str().unwrap_or_default();
    let header = ok(decode_header(access));
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let r = app.get("/oidc/userinfo", Some(access)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = ok(r.json().await);
    assert_eq!(u["sub"], sub.as_str());
    assert_eq!(u["login_id"], "oidc01");
    assert_eq!(u["email_verified"], true);
    let r = app.get("/oidc/userinfo", Some("not-a-token")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The code is used once.
    let (status, e) = form_post(&app, "/oidc/token", Some((&id, &secret)), &exchange).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    // A wrong secret is invalid_client.
    let (status, e) = form_post(&app, "/oidc/token", Some((&id, "skcs_wrong")), &exchange).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(e["error"], "invalid_client");

    // Single sign-on: the session answers the next request without a page.
    let (status, h, _) = b.get(&app, &authorize_url(&id, CRM_CB, "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).starts_with(&format!("{CRM_CB}?code=skac_")));
    // prompt=login asks for the password again.
    let (status, h, _) = b
        .get(&app, &authorize_url(&id, CRM_CB, "&prompt=login"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).starts_with("/login?return_to="));

    // Every authorization, issue and refusal is audited with the client named.
    assert_eq!(app.count_events("oidc01", "oidc_authorized").await, 2);
    assert_eq!(app.count_events("oidc01", "oidc_token_issued").await, 1);
    let refused = app.audit("oidc01").await;
    assert!(
        refused.iter().any(|e| e["event_type"] == "oidc_refused"
            && e["description"].as_str().is_some_and(|d| d.contains(&id))),
        "{refused:?}"
    );
}

/// `prompt=login` in the very second the customer's session began: the times in seconds tie,
/// but the session is older than the request (before, the tie counted as a login made for the
/// request and the code came without one).
#[tokio::test]
async fn prompt_login_asks_again_within_the_sessions_second() {
    let app = spawn_app().await;
    let (id, _) = crm(&app).await;
    app.create_login("oidc09", "abc12345").await;
    let session = app.session("oidc09", "abc12345").await;
    let mut b = Browser::new();
    b.set_cookie("__Host-sekisho_session", &session);
    let (status, h, _) = b.get(&app, &authorize_url(&id, CRM_CB, "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).starts_with(&format!("{CRM_CB}?code=skac_")));
    let (status, h, _) = b
        .get(&app, &authorize_url(&id, CRM_CB, "&prompt=login"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).starts_with("/login?return_to="), "{h:?}");
}

#[tokio::test]
async fn refusals_of_the_authorization_request() {
    let app = spawn_app().await;
    let (id, _) = crm(&app).await;
    let trade = trade(&app).await;
    let mut b = Browser::new();
    // Unknown client, unregistered redirect URI: a page with the code, never a redirect.
    let (status, h, html) = b.get(&app, &authorize_url("skc_nobody", CRM_CB, "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(h.get(LOCATION).is_none());
    assert!(html.contains("SKS-OIC-0005"), "{html}");
    let (status, h, html) = b
        .get(&app, &authorize_url(&id, "https://evil.example/cb", ""))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(h.get(LOCATION).is_none());
    assert!(html.contains("SKS-OIC-0006"), "{html}");
    // plain PKCE goes back to the client as invalid_request.
    let plain = authorize_url(&id, CRM_CB, "")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let (status, h, _) = b.get(&app, &plain).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = location(&h);
    assert!(to.starts_with(CRM_CB), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&to, "iss").as_deref(), Some(ISS));
    // A fapi2 client without PAR: refused before any login form.
    let (status, h, _) = b.get(&app, &authorize_url(&trade, TRADE_CB, "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = location(&h);
    assert!(to.starts_with(TRADE_CB), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert!(
        param(&to, "error_description").is_some_and(|d| d.contains("PAR")),
        "{to}"
    );
    // Each refusal is audited naming the client.
    let r = app
        .admin(
            Method::GET,
            "/audit?event_type=oidc_refused&limit=100",
            None,
        )
        .await;
    let v: Value = ok(r.json().await);
    let described: Vec<String> = v["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["description"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(described.len(), 4, "{described:?}");
    assert!(
        described.iter().any(|d| d.contains(&trade)),
        "{described:?}"
    );
    assert!(described.iter().any(|d| d.contains(&id)), "{described:?}");
}

const MFA: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
const PHR: &str = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant";

/// The `claims` parameter asking for `acr` (essential or not), URL-encoded for a query.
fn claims_acr(value: &str, essential: bool) -> String {
    let c = json!({"id_token": {"acr": {"essential": essential, "value": value}}});
    format!("&claims={}", enc(&c.to_string()))
}

/// The link of the page with `id="{id}"`, as the browser follows it.
fn href(html: &str, id: &str) -> String {
    html.split(&format!("id=\"{id}\""))
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// An essential level is met or refused, never downgraded; a request for the phishing-resistant
/// level asks for a passkey even with a session from a code, and a customer without one is told
/// how to register one and can go back to the app, which learns why.
#[tokio::test]
async fn an_essential_level_is_never_downgraded_and_a_passkey_is_asked_for() {
    let app = spawn_app().await;
    let (id, _) = crm(&app).await;
    let s = stepper(&app, "oidc05").await;
    let mut b = Browser::new();
    let back = through_pages(&app, &mut b, &authorize_url(&id, CRM_CB, ""), "oidc05", &s).await;
    assert!(back.contains("code=skac_"), "{back}");

    // The session from a code meets an essential multi-factor level: single sign-on.
    let (status, h, _) = b
        .get(&app, &authorize_url(&id, CRM_CB, &claims_acr(MFA, true)))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).contains("code=skac_"), "{}", location(&h));
    // An essential level Sekisho does not offer is refused at once.
    let (_, h, _) = b
        .get(
            &app,
            &authorize_url(&id, CRM_CB, &claims_acr("urn:example:gold", true)),
        )
        .await;
    let to = location(&h);
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{to}"
    );
    // A claims parameter that is not a JSON object is invalid_request.
    let (_, h, _) = b
        .get(&app, &authorize_url(&id, CRM_CB, "&claims=%5B1%5D"))
        .await;
    assert_eq!(
        param(&location(&h), "error").as_deref(),
        Some("invalid_request")
    );

    for (extra, cancelled) in [
        (claims_acr(PHR, true), "unmet_authentication_requirements"),
        (format!("&acr_values={}", enc(PHR)), "access_denied"),
    ] {
        // The session came from a code: the phishing-resistant level sends the browser to
        // the login page, which says that the app needs a passkey.
        let (status, h, _) = b.get(&app, &authorize_url(&id, CRM_CB, &extra)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to_login = location(&h);
        assert!(to_login.starts_with("/login?return_to="), "{to_login}");
        let return_to = param(&to_login, "return_to").unwrap_or_default();
        let (_, _, html) = b.get(&app, &to_login).await;
        assert!(html.contains("パスキーが必要です"), "{html}");
        // The customer has no passkey: after the password, how to register one (with the
        // error's code), and a way back to the app.
        let (status, _, html) = b
            .post(
                &app,
                "/login",
                &[
                    ("csrf", &csrf(&html)),
                    ("login_id", "oidc05"),
                    ("password", "abc12345"),
                    ("return_to", &return_to),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        assert!(html.contains("SKS-OIC-0008"), "{html}");
        assert!(html.contains("href=\"/account/passkeys\""), "{html}");
        let cancel = href(&html, "back-to-app");
        assert!(
            cancel.starts_with("/oidc/authorize/resume?id=skar_"),
            "{cancel}"
        );
        assert!(cancel.ends_with("&cancel=1"), "{cancel}");
        let (status, h, _) = b.get(&app, &cancel).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = location(&h);
        assert!(to.starts_with(CRM_CB), "{to}");
        assert_eq!(param(&to, "error").as_deref(), Some(cancelled), "{to}");
        assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
        assert_eq!(param(&to, "iss").as_deref(), Some(ISS));
        // The request is over: going back to it is a page, not a second answer.
        let (status, h, html) = b.get(&app, &cancel).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(h.get(LOCATION).is_none());
        assert!(html.contains("SKS-OIC-0007"), "{html}");
    }
}

#[tokio::test]
async fn pushed_requests_private_key_jwt_and_the_code_rules() {
    let app = spawn_app().await;
    par_flow(&app, &app).await;
}

/// Two instances on one PostgreSQL database: PAR and token at one, the authorization request
/// and the hosted pages at the other.
#[tokio::test]
async fn par_at_one_instance_authorization_at_another_postgres() {
    let Some(url) = postgres("api_oidc_flow").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(a.clock.clone()),
        ..Options::default()
    })
    .await;
    par_flow(&a, &b).await;
}

/// PAR, client assertions and the code rules: requests pushed to and tokens asked of `app`,
/// the browser sent to `other` (the same instance, or another on the same database).
async fn par_flow(app: &TestApp, other: &TestApp) {
    let trade = trade(app).await;
    let s = stepper(app, "oidc02").await;
    let push = |jti: &'static str, redirect: &'static str| {
        let a = assertion(app, &trade, jti);
        let trade = trade.clone();
        async move {
            form_post(
                app,
                "/oidc/par",
                None,
                &[
                    ("client_id", &trade),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                    ("response_type", "code"),
                    ("redirect_uri", redirect),
                    ("scope", "openid"),
                    ("state", "st-2"),
                    ("nonce", "n-2"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await
        }
    };
    // A redirect URI that is not registered is refused at PAR already.
    let (status, e) = push("j0", "https://evil.example/cb").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"], "invalid_request");
    let (status, p) = push("j1", TRADE_CB).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert!(p["expires_in"].as_i64().is_some_and(|e| e > 0 && e < 600));
    let request_uri = p["request_uri"].as_str().unwrap_or_default().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    // The same assertion again: its jti is refused.
    let (status, e) = push("j1", TRADE_CB).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(e["error"], "invalid_client");

    let start = format!(
        "/oidc/authorize?client_id={trade}&request_uri={}",
        enc(&request_uri)
    );
    let mut b = Browser::new();
    let back = through_pages(other, &mut b, &start, "oidc02", &s).await;
    assert!(back.starts_with(&format!("{TRADE_CB}?code=")), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-2"));
    let code = param(&back, "code").unwrap_or_default();
    // The request_uri was used: a replay gets a page.
    let (status, _, html) = b.get(other, &start).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-OIC-0007"), "{html}");

    let exchange = |jti: &'static str, verifier: &'static str, code: String| {
        let a = assertion(app, &trade, jti);
        let trade = trade.clone();
        // fapi2 clients get DPoP-bound tokens: every exchange carries a proof.
        let proof = crate::oidc_tokens::Dpop::new(1).proof(app, "POST", "/oidc/token", None);
        async move {
            crate::oidc_tokens::form_post_dpop(
                app,
                "/oidc/token",
                None,
                Some(&proof),
                &[
                    ("client_id", &trade),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", TRADE_CB),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    // A wrong verifier: refused, and the code is spent.
    let wrong = "wrongwrongwrongwrongwrongwrongwrongwrongwrong";
    let (status, e) = exchange("j2", wrong, code.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"], "invalid_grant");
    let (status, e) = exchange("j3", VERIFIER, code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"], "invalid_grant");

    // A new request with the session (single sign-on), and its code after 60 s: expired.
    let (_, p) = push("j4", TRADE_CB).await;
    let start = format!(
        "/oidc/authorize?client_id={trade}&request_uri={}",
        enc(p["request_uri"].as_str().unwrap_or_default())
    );
    let (status, h, _) = b.get(other, &start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let code = param(&location(&h), "code").unwrap_or_default();
    app.clock.advance(61);
    let (status, e) = exchange("j5", VERIFIER, code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"], "invalid_grant");

    // And in time, with the right verifier: tokens, the ID token signed with EdDSA.
    let (_, p) = push("j6", TRADE_CB).await;
    let start = format!(
        "/oidc/authorize?client_id={trade}&request_uri={}",
        enc(p["request_uri"].as_str().unwrap_or_default())
    );
    let (_, h, _) = b.get(other, &start).await;
    let code = param(&location(&h), "code").unwrap_or_default();
    let (status, t) = exchange("j7", VERIFIER, code).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let id_token = t["id_token"].as_str().unwrap_or_default();
    assert_eq!(
        ok(decode_header(id_token)).alg,
        jsonwebtoken::Algorithm::EdDSA
    );
    let claims = verify_id_token(app, id_token, &trade).await;
    assert_eq!(claims["nonce"], "n-2");
    assert_eq!(app.count_events("oidc02", "oidc_token_issued").await, 1);
}
