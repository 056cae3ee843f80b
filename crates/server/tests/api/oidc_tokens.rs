//! Tokens over HTTP: DPoP-bound codes and tokens (RFC 9449) for a FAPI 2 client and every
//! refusal of a proof (another key, method or URL, a replayed `jti`, an old `iat`, none at
//! all, a server nonce), refresh tokens (kept by confidential clients, rotated for public ones
//! with reuse detection), a code used twice revoking what it issued, introspection (RFC 7662)
//! and revocation (RFC 7009) by the client and by another. The throttle and the refusals for a
//! disabled client or login are in `oidc_token_rules.rs`.

use crate::common::{ok, postgres, spawn_app, spawn_with, Options, TestApp};
use crate::oidc_flow::{
    assertion, authorize_url, enc, location, param, through_pages, CHALLENGE, CRM_CB, ISS,
    TRADE_CB, VERIFIER,
};
use crate::pages::Browser;
use crate::step_up::{stepper, Stepper};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sekisho_core::Clock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) static JTI: AtomicU64 = AtomicU64::new(1);

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A client's DPoP key (Ed25519 from a seed).
pub(crate) struct Dpop {
    key: Ed25519KeyPair,
    x: String,
}

impl Dpop {
    pub(crate) fn new(seed: u8) -> Dpop {
        let key = ok(Ed25519KeyPair::from_seed_unchecked(&[seed; 32]));
        let x = b64(key.public_key().as_ref());
        Dpop { key, x }
    }

    /// The key's RFC 7638 thumbprint.
    pub(crate) fn jkt(&self) -> String {
        let canonical = format!(
            "{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
            self.x
        );
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// A proof with these claims (a fresh `jti` unless given).
    pub(crate) fn sign(&self, claims: Value) -> String {
        let header = json!({
            "typ": "dpop+jwt", "alg": "EdDSA",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": self.x},
        });
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.as_ref()))
    }

    fn claims(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Value {
        let mut c = json!({
            "jti": format!("dp-{}", JTI.fetch_add(1, Ordering::Relaxed)),
            "htm": method,
            "htu": format!("{ISS}{path}"),
            "iat": app.clock.now().0,
        });
        if let Some(t) = token {
            c["ath"] = json!(b64(&Sha256::digest(t.as_bytes())));
        }
        c
    }

    /// A proof for `method` at `path` (and the access token, at a resource).
    pub(crate) fn proof(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> String {
        self.sign(Dpop::claims(app, method, path, token))
    }
}

/// A form POST with an optional Basic client and DPoP proof; status, JSON body and headers.
pub(crate) async fn form_post_dpop(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    proof: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let (s, v, _) = post_full(app, path, basic, proof, form).await;
    (s, v)
}

async fn post_full(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    proof: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app.http.post(format!("{}{path}", app.url)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(enc(id), Some(enc(secret)));
    }
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let r = ok(req.send().await);
    let status = r.status();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn register(app: &TestApp, body: Value) -> (String, String) {
    let r = app.admin(Method::POST, "/oidc/clients", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("client_id"), s("client_secret"))
}

/// A `fapi2` client with refresh tokens (private_key_jwt with the seed-5 key of oidc_flow).
pub(crate) async fn fapi(app: &TestApp) -> String {
    let x = Ed25519KeyPair::from_seed_unchecked(&[5; 32])
        .map(|k| b64(k.public_key().as_ref()))
        .unwrap_or_default();
    register(
        app,
        json!({
            "client_name": "トレードアプリ",
            "redirect_uris": [TRADE_CB],
            "id_token_signed_response_alg": "EdDSA",
            "grant_types": ["authorization_code", "refresh_token"],
            "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "t1"}]},
            "first_party": true,
        }),
    )
    .await
    .0
}

/// A `basic` confidential client with refresh tokens.
pub(crate) async fn basic(app: &TestApp, name: &str) -> (String, String) {
    register(
        app,
        json!({
            "client_name": name,
            "profile": "basic",
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": [CRM_CB],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid email profile login_id",
            "first_party": true,
        }),
    )
    .await
}

/// A public (native) client with refresh tokens.
async fn public(app: &TestApp) -> String {
    register(
        app,
        json!({
            "client_name": "スマホアプリ",
            "profile": "basic",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [CRM_CB],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile offline_access",
            "first_party": true,
        }),
    )
    .await
    .0
}

pub(crate) fn client_jwt<'a>(id: &'a str, a: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("client_id", id),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", a),
    ]
}

/// The fapi2 client's code through PAR (with `extra` pushed parameters) and the pages, or by
/// single sign-on when the browser has a session.
pub(crate) async fn fapi_code(
    app: &TestApp,
    b: &mut Browser,
    id: &str,
    s: &Stepper,
    login: &str,
    first: bool,
    extra: &[(&str, &str)],
) -> String {
    let a = assertion(
        app,
        id,
        &format!("par-{}", JTI.fetch_add(1, Ordering::Relaxed)),
    );
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", TRADE_CB),
        ("scope", "openid"),
        ("nonce", "n-9"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    form.extend(client_jwt(id, &a));
    form.extend_from_slice(extra);
    let (status, p) = form_post_dpop(app, "/oidc/par", None, None, &form).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let start = format!(
        "/oidc/authorize?client_id={id}&request_uri={}",
        enc(p["request_uri"].as_str().unwrap_or_default())
    );
    // The request_uri is used once: the first time through the pages, then single sign-on.
    let back = if first {
        through_pages(app, b, &start, login, s).await
    } else {
        let (status, h, _) = b.get(app, &start).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        location(&h)
    };
    param(&back, "code").unwrap_or_else(|| unreachable!("no code in {back}"))
}

pub(crate) async fn fapi_token(
    app: &TestApp,
    id: &str,
    proof: Option<&str>,
    grant: &[(&str, &str)],
) -> (StatusCode, Value) {
    let a = assertion(
        app,
        id,
        &format!("tok-{}", JTI.fetch_add(1, Ordering::Relaxed)),
    );
    let mut form: Vec<(&str, &str)> = client_jwt(id, &a).to_vec();
    form.extend_from_slice(grant);
    form_post_dpop(app, "/oidc/token", None, proof, &form).await
}

/// A JWT's claims, unverified (the flow tests verify signatures).
pub(crate) fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    ok(serde_json::from_slice(&ok(URL_SAFE_NO_PAD.decode(payload))))
}

async fn userinfo(
    app: &TestApp,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (StatusCode, String) {
    let mut r = app
        .http
        .get(format!("{}/oidc/userinfo", app.url))
        .header("Authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        r = r.header("DPoP", p);
    }
    let r = ok(r.send().await);
    let status = r.status();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge)
}

#[tokio::test]
async fn a_fapi2_clients_code_and_tokens_are_bound_to_its_dpop_key() {
    let app = spawn_app().await;
    let id = fapi(&app).await;
    let s = stepper(&app, "otk01").await;
    let mut b = Browser::new();
    let key = Dpop::new(21);
    let other = Dpop::new(22);
    let code = fapi_code(
        &app,
        &mut b,
        &id,
        &s,
        "otk01",
        true,
        &[("dpop_jkt", &key.jkt())],
    )
    .await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", TRADE_CB),
        ("code_verifier", VERIFIER),
    ];
    let refused = |e: &Value, why: &str| {
        assert_eq!(e["error"], "invalid_dpop_proof", "{e}");
        assert!(
            e["error_description"]
                .as_str()
                .is_some_and(|d| d.contains(why)),
            "{why}: {e}"
        );
    };
    // No proof at all: a fapi2 client must send one (and the code is not spent).
    let (status, e) = fapi_token(&app, &id, None, &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(&e, "DPoP-bound");
    // A proof for another URL, another method, made too long ago.
    let p = key.proof(&app, "POST", "/oidc/par", None);
    refused(&fapi_token(&app, &id, Some(&p), &grant).await.1, "htu");
    let p = key.proof(&app, "GET", "/oidc/token", None);
    refused(&fapi_token(&app, &id, Some(&p), &grant).await.1, "htm");
    let mut c = Dpop::claims(&app, "POST", "/oidc/token", None);
    c["iat"] = json!(app.clock.now().0 - 61);
    refused(
        &fapi_token(&app, &id, Some(&key.sign(c)), &grant).await.1,
        "iat",
    );

    // The right proof: DPoP-bound tokens and a refresh token.
    let proof = key.proof(&app, "POST", "/oidc/token", None);
    let (status, t) = fapi_token(&app, &id, Some(&proof), &grant).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(claims_of(&access)["cnf"]["jkt"], key.jkt());
    let refresh = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    assert!(refresh.starts_with("skrt_"), "{t}");

    // The same proof again: a replay, refused whatever the request.
    let again = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    refused(
        &fapi_token(&app, &id, Some(&proof), &again).await.1,
        "replay",
    );

    // UserInfo: only with the DPoP scheme and a proof of the key for this token.
    let (status, ch) = userinfo(&app, "Bearer", &access, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(ch.contains("invalid_token"), "{ch}");
    let no_ath = key.proof(&app, "GET", "/oidc/userinfo", None);
    let (status, ch) = userinfo(&app, "DPoP", &access, Some(&no_ath)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(ch.starts_with("DPoP error=\"invalid_dpop_proof\""), "{ch}");
    let foreign = other.proof(&app, "GET", "/oidc/userinfo", Some(&access));
    let (status, _) = userinfo(&app, "DPoP", &access, Some(&foreign)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let good = key.proof(&app, "GET", "/oidc/userinfo", Some(&access));
    let (status, ch) = userinfo(&app, "DPoP", &access, Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "{ch}");

    // Refresh: another key is refused; the key of the grant gets new tokens, and a
    // confidential client keeps its refresh token.
    let p = other.proof(&app, "POST", "/oidc/token", None);
    let (status, e) = fapi_token(&app, &id, Some(&p), &again).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant", "{e}");
    let p = key.proof(&app, "POST", "/oidc/token", None);
    let (status, t) = fapi_token(&app, &id, Some(&p), &again).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    assert!(t.get("refresh_token").is_none(), "{t}");
    assert_eq!(app.count_events("otk01", "oidc_token_refreshed").await, 1);

    // A code bound to one key, exchanged with a proof of another: refused.
    let code = fapi_code(
        &app,
        &mut b,
        &id,
        &s,
        "otk01",
        false,
        &[("dpop_jkt", &key.jkt())],
    )
    .await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", TRADE_CB),
        ("code_verifier", VERIFIER),
    ];
    let p = other.proof(&app, "POST", "/oidc/token", None);
    let (status, e) = fapi_token(&app, &id, Some(&p), &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("dpop_jkt")),
        "{e}"
    );
    // Every refusal is audited naming the client.
    let audit = app.audit("otk01").await;
    assert!(
        audit.iter().any(|e| e["event_type"] == "oidc_refused"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains(&id) && d.contains("dpop_jkt"))),
        "{audit:?}"
    );
}

#[tokio::test]
async fn server_nonces_are_asked_for_and_accepted() {
    let app = spawn_with(Options {
        settings: vec![("oidc.dpop_nonce", true.into())],
        ..Options::default()
    })
    .await;
    let id = fapi(&app).await;
    let key = Dpop::new(23);
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "skrt_unknown"),
    ];
    let a = assertion(&app, &id, "n-1");
    let mut form: Vec<(&str, &str)> = client_jwt(&id, &a).to_vec();
    form.extend_from_slice(&grant);
    let p = key.proof(&app, "POST", "/oidc/token", None);
    let (status, e, h) = post_full(&app, "/oidc/token", None, Some(&p), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "use_dpop_nonce", "{e}");
    let nonce = h
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(!nonce.is_empty());
    // With the nonce the proof passes (the refresh token itself is unknown).
    let mut c = Dpop::claims(&app, "POST", "/oidc/token", None);
    c["nonce"] = json!(nonce);
    let (status, e) = fapi_token(&app, &id, Some(&key.sign(c)), &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant", "{e}");
    // A stale nonce (two windows later) is asked again.
    app.clock.advance(601);
    let mut c = Dpop::claims(&app, "POST", "/oidc/token", None);
    c["nonce"] = json!(nonce);
    let (_, e) = fapi_token(&app, &id, Some(&key.sign(c)), &grant).await;
    assert_eq!(e["error"], "use_dpop_nonce", "{e}");
}

/// The basic client's code through the pages (or single sign-on).
pub(crate) async fn crm_code(
    app: &TestApp,
    b: &mut Browser,
    id: &str,
    s: &Stepper,
    login: &str,
    scope: &str,
) -> String {
    let start = authorize_url(id, CRM_CB, "").replace(
        "scope=openid%20email%20profile%20login_id",
        &format!("scope={}", enc(scope)),
    );
    let (status, h, _) = b.get(app, &start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = location(&h);
    let back = if to.starts_with("/login") {
        through_pages(app, b, &start, login, s).await
    } else {
        to
    };
    param(&back, "code").unwrap_or_else(|| unreachable!("no code in {back}"))
}

pub(crate) fn exchange(code: &str) -> [(&'static str, &str); 4] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CRM_CB),
        ("code_verifier", VERIFIER),
    ]
}

#[tokio::test]
async fn a_public_clients_refresh_token_rotates_and_a_reuse_revokes_the_grant() {
    rotation(spawn_app().await).await;
}

#[tokio::test]
async fn a_public_clients_refresh_token_rotates_and_a_reuse_revokes_the_grant_postgres() {
    let Some(url) = postgres("api_oidc_tokens_rotation").await else {
        return;
    };
    rotation(
        spawn_with(Options {
            database_url: Some(url),
            ..Options::default()
        })
        .await,
    )
    .await;
}

async fn rotation(app: TestApp) {
    let id = public(&app).await;
    let s = stepper(&app, "otk02").await;
    let mut b = Browser::new();
    let code = crm_code(&app, &mut b, &id, &s, "otk02", "openid offline_access").await;
    let mut form = vec![("client_id", id.as_str())];
    form.extend(exchange(&code));
    let (status, t) = form_post_dpop(&app, "/oidc/token", None, None, &form).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    let r1 = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    let refresh = |rt: String| {
        let id = id.clone();
        let app = &app;
        async move {
            form_post_dpop(
                app,
                "/oidc/token",
                None,
                None,
                &[
                    ("client_id", &id),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    // Rotated: a new refresh token each time.
    let (status, t) = refresh(r1.clone()).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let r2 = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    assert!(r2.starts_with("skrt_") && r2 != r1, "{t}");
    // The old one again: refused, and the whole grant with it.
    let (status, e) = refresh(r1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    let (status, e) = refresh(r2).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("revoked")),
        "{e}"
    );
    assert_eq!(app.count_events("otk02", "oidc_token_refreshed").await, 1);
    let audit = app.audit("otk02").await;
    assert!(
        audit.iter().any(|e| e["event_type"] == "oidc_token_revoked"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains(&id) && d.contains("reused"))),
        "{audit:?}"
    );
}

pub(crate) async fn introspect(app: &TestApp, who: (&str, &str), token: &str) -> Value {
    let (status, v) = form_post_dpop(
        app,
        "/oidc/introspect",
        Some(who),
        None,
        &[("token", token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn a_code_used_twice_revokes_the_refresh_token_it_gave() {
    let app = spawn_app().await;
    let (id, secret) = basic(&app, "CRM ポータル").await;
    let s = stepper(&app, "otk03").await;
    let mut b = Browser::new();
    let code = crm_code(&app, &mut b, &id, &s, "otk03", "openid email").await;
    let (status, t) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &exchange(&code),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let rt = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    let access = t["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(introspect(&app, (&id, &secret), &rt).await["active"], true);
    // The code again: refused, and what the first use issued is revoked.
    let (status, e) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &exchange(&code),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    let (status, e) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(
        introspect(&app, (&id, &secret), &access).await,
        json!({"active": false})
    );
    assert_eq!(
        app.get("/oidc/userinfo", Some(&access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let audit = app.audit("otk03").await;
    assert!(
        audit.iter().any(|e| e["event_type"] == "oidc_token_revoked"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains(&id) && d.contains("code used twice"))),
        "{audit:?}"
    );
}

#[tokio::test]
async fn introspection_and_revocation_answer_only_the_clients_own_tokens() {
    let app = spawn_app().await;
    let (id, secret) = basic(&app, "CRM ポータル").await;
    let (other, other_secret) = basic(&app, "別の会社").await;
    let s = stepper(&app, "otk04").await;
    let mut b = Browser::new();
    let code = crm_code(&app, &mut b, &id, &s, "otk04", "openid email").await;
    let (_, t) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &exchange(&code),
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap_or_default().to_owned();
    let access = t["access_token"].as_str().unwrap_or_default().to_owned();

    let i = introspect(&app, (&id, &secret), &access).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["client_id"], id.as_str());
    assert_eq!(i["scope"], "openid email");
    assert_eq!(i["token_type"], "Bearer");
    assert_eq!(i["iss"], ISS);
    assert!(i["sub"].as_str().is_some_and(|s| !s.is_empty()));
    let i = introspect(&app, (&id, &secret), &rt).await;
    assert_eq!(i["active"], true, "{i}");
    // Another client learns nothing about them, and cannot revoke them.
    for tok in [&access, &rt] {
        assert_eq!(
            introspect(&app, (&other, &other_secret), tok).await,
            json!({"active": false})
        );
        let (status, _) = form_post_dpop(
            &app,
            "/oidc/revoke",
            Some((&other, &other_secret)),
            None,
            &[("token", tok)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(introspect(&app, (&id, &secret), &rt).await["active"], true);
    // Wrong credentials are invalid_client; a public client may not introspect.
    let (status, e) = form_post_dpop(
        &app,
        "/oidc/introspect",
        Some((&id, "skcs_wrong")),
        None,
        &[("token", &rt)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(e["error"], "invalid_client");
    let public = public(&app).await;
    let (status, _) = form_post_dpop(
        &app,
        "/oidc/introspect",
        None,
        None,
        &[("client_id", &public), ("token", &rt)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The client revokes its refresh token: the grant ends, refresh and access token alike.
    let (status, _) = form_post_dpop(
        &app,
        "/oidc/revoke",
        Some((&id, &secret)),
        None,
        &[("token", &rt)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e) = form_post_dpop(
        &app,
        "/oidc/token",
        Some((&id, &secret)),
        None,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(
        introspect(&app, (&id, &secret), &access).await,
        json!({"active": false})
    );
    // Unknown tokens are answered the same.
    let (status, _) = form_post_dpop(
        &app,
        "/oidc/revoke",
        Some((&id, &secret)),
        None,
        &[("token", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count_events("otk04", "oidc_token_revoked").await, 1);
    // The other client's attempts are refusals naming it.
    let r = app
        .admin(
            Method::GET,
            "/audit?event_type=oidc_refused&limit=100",
            None,
        )
        .await;
    let v: Value = ok(r.json().await);
    let named = v["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e["description"]
                .as_str()
                .is_some_and(|d| d.contains(&other))
        })
        .count();
    assert_eq!(named, 4, "{v}");
}
