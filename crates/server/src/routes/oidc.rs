//! The OpenID Connect provider's JSON doors: the discovery document, the JWK Set, PAR, the token
//! endpoint and UserInfo. (The authorization endpoint is a page door: `pages::oidc`.)

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::Client;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sekisho_app::oidc;
use sekisho_app::oidc::client_auth::Credentials;
use sekisho_app::oidc::grants;
use sekisho_app::oidc::request::OAuthError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(oidc::DISCOVERY_PATH, get(discovery))
        .route(oidc::JWKS_PATH, get(jwks))
        .merge(grant_router())
}

/// Both documents may be cached briefly: after a key rotation the new key signs at once, and a
/// verifier that meets an unknown `kid` fetches the set again.
fn cacheable(mut res: Response, content_type: &'static str) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Browser-based relying parties read both cross-origin (they are public).
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

async fn discovery(State(state): State<AppState>) -> Response {
    cacheable(
        axum::Json(oidc::discovery(&state)).into_response(),
        "application/json",
    )
}

async fn jwks(State(state): State<AppState>, Client(client): Client) -> Result<Response, ApiError> {
    let set = oidc::jwks(&state, &client).await?;
    Ok(cacheable(
        axum::Json(set).into_response(),
        "application/jwk-set+json",
    ))
}

/// The pushed authorization request endpoint (RFC 9126).
pub const PAR_PATH: &str = "/oidc/par";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oidc/token";
/// The UserInfo endpoint.
pub const USERINFO_PATH: &str = "/oidc/userinfo";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECT_PATH: &str = oidc::INTROSPECT_PATH;
/// The revocation endpoint (RFC 7009).
pub const REVOKE_PATH: &str = oidc::REVOKE_PATH;

/// The grant endpoints (PAR, token, UserInfo, introspection, revocation).
pub fn grant_router() -> Router<AppState> {
    Router::new()
        .route(PAR_PATH, axum::routing::post(par))
        .route(TOKEN_PATH, axum::routing::post(token))
        .route(USERINFO_PATH, get(userinfo).post(userinfo))
        .route(INTROSPECT_PATH, axum::routing::post(introspect))
        .route(REVOKE_PATH, axum::routing::post(revoke))
}

/// The `DPoP` header: `None` when absent; a request with two is given an empty proof, which
/// is refused.
fn dpop_header(headers: &axum::http::HeaderMap) -> Option<String> {
    let mut all = headers.get_all("dpop").iter();
    let first = all.next()?;
    if all.next().is_some() {
        return Some(String::new());
    }
    Some(first.to_str().unwrap_or_default().trim().to_owned())
}

/// Adds the current server nonce (`DPoP-Nonce`, RFC 9449 §8) when nonces are required.
fn with_nonce(state: &AppState, mut res: Response) -> Response {
    if let Some(n) = sekisho_app::oidc::dpop::nonce(state) {
        if let Ok(v) = HeaderValue::from_str(&n) {
            res.headers_mut().insert("dpop-nonce", v);
        }
    }
    res
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The credentials a request brings: `Authorization: Basic` (RFC 6749 §2.3.1: both parts
/// form-encoded) and the body's client fields.
fn credentials(headers: &axum::http::HeaderMap, params: &[(String, String)]) -> Credentials {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let dec = |x: &str| -> String {
                url::form_urlencoded::parse(format!("v={x}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((dec(id), dec(secret)))
        });
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Credentials {
        basic,
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        assertion_type: get("client_assertion_type"),
        assertion: get("client_assertion"),
    }
}

fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A protocol refusal as JSON (RFC 6749 §5.2); `invalid_client` and `invalid_token` are 401
/// with their challenge.
fn refusal(e: &OAuthError, scheme: &'static str) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"error": e.error, "error_description": e.description});
    let mut res = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if scheme == "Bearer" || scheme == "DPoP" {
            format!("{scheme} error=\"{}\"", e.error)
        } else {
            scheme.to_owned()
        };
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    no_store(res)
}

fn endpoint(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.settings.public_url.trim_end_matches('/'))
}

async fn par(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let params = form(&body);
    let creds = credentials(&headers, &params);
    let url = endpoint(&state, PAR_PATH);
    let proof = dpop_header(&headers);
    let res = match grants::push(&state, &creds, &params, proof.as_deref(), &url, &client).await? {
        Ok(p) => no_store((StatusCode::CREATED, axum::Json(p)).into_response()),
        Err(e) => refusal(&e, "Basic"),
    };
    Ok(with_nonce(&state, res))
}

async fn token(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let params = form(&body);
    let creds = credentials(&headers, &params);
    let url = endpoint(&state, TOKEN_PATH);
    let proof = dpop_header(&headers);
    let res = match grants::token(&state, &creds, &params, proof.as_deref(), &url, &client).await? {
        Ok(t) => no_store(axum::Json(t).into_response()),
        Err(e) => refusal(&e, "Basic"),
    };
    Ok(with_nonce(&state, res))
}

async fn introspect(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let params = form(&body);
    let creds = credentials(&headers, &params);
    let url = endpoint(&state, INTROSPECT_PATH);
    Ok(
        match grants::introspect(&state, &creds, &params, &url, &client).await? {
            Ok(i) => no_store(axum::Json(i).into_response()),
            Err(e) => refusal(&e, "Basic"),
        },
    )
}

async fn revoke(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let params = form(&body);
    let creds = credentials(&headers, &params);
    let url = endpoint(&state, REVOKE_PATH);
    Ok(
        match grants::revoke(&state, &creds, &params, &url, &client).await? {
            Ok(()) => no_store(StatusCode::OK.into_response()),
            Err(e) => refusal(&e, "Basic"),
        },
    )
}

async fn userinfo(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (dpop_scheme, token) = match auth.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("DPoP") => (true, t.trim()),
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("Bearer") => (false, t.trim()),
        _ => (false, ""),
    };
    let proof = dpop_header(&headers);
    let url = endpoint(&state, USERINFO_PATH);
    let presented = grants::Presented {
        token,
        dpop_scheme,
        proof: proof.as_deref(),
        method: method.as_str(),
        url: &url,
    };
    let res = match grants::userinfo(&state, presented).await? {
        Ok(u) => no_store(axum::Json(u).into_response()),
        // A resource answers every proof problem with 401 and the DPoP challenge (RFC 9449 §7.1).
        Err(e) if e.error == oidc::dpop::INVALID || e.error == oidc::dpop::USE_NONCE => {
            let mut res = refusal(&e, "DPoP");
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            let challenge = format!(
                "DPoP error=\"{}\", algs=\"{}\"",
                e.error,
                oidc::dpop::ALGS.join(" ")
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            res
        }
        Err(e) => refusal(&e, if dpop_scheme { "DPoP" } else { "Bearer" }),
    };
    Ok(with_nonce(&state, res))
}
