//! Extractors: JSON bodies with our errors, the client's address, and the two kinds of bearer
//! credential (API tokens for apps and operators' scripts, session tokens for customers).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use sekisho_core::audit::{Actor, ClientInfo};
use sekisho_core::session::Session;
use sekisho_core::{token, Error};
use sekisho_store::ApiToken;
use std::net::SocketAddr;

/// A JSON body; malformed, oversize or mistyped bodies become our 4xx errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// Query parameters with our errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters with our errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Where the request came from, for the audit trail.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Client(ClientInfo {
            ip: forwarded.or(peer),
            user_agent,
        }))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A caller holding a valid API token of any scope.
pub struct ApiCaller(pub ApiToken);

impl ApiCaller {
    /// The audit actor for this token.
    pub fn actor(&self) -> Actor {
        Actor::ApiToken(format!("{}:{}", self.0.id, self.0.name))
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let t = bearer(parts).ok_or(Error::Unauthorized)?;
        let hash = token::hash(t);
        let now = state.clock.now();
        if let Some(found) = state.api_tokens.get(&hash, now) {
            return Ok(ApiCaller(found));
        }
        let found = state
            .store
            .find_api_token(&hash)
            .await?
            .ok_or(Error::Unauthorized)?;
        state.api_tokens.put(hash, found.clone(), now);
        Ok(ApiCaller(found))
    }
}

/// A caller holding an API token with the `admin` scope.
pub struct Admin(pub ApiCaller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        if caller.0.scope != "admin" {
            return Err(Error::InsufficientScope.into());
        }
        Ok(Admin(caller))
    }
}

/// A caller allowed the support desk's work (search, view, unlock, revoke): for now the same as
/// [`Admin`].
pub struct Staff(#[allow(dead_code)] pub ApiCaller);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Admin::from_request_parts(parts, state)
            .await
            .map(|Admin(c)| Staff(c))
    }
}

/// A customer holding an active session token (of any purpose: handlers that need a full
/// session check [`Session::purpose`]).
pub struct Customer(pub Session);

impl FromRequestParts<AppState> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let t = bearer(parts).ok_or(Error::Unauthorized)?;
        let now = state.clock.now();
        let session = state
            .store
            .get_session(&token::hash(t))
            .await?
            .filter(|s| s.is_active(&state.settings.session, now))
            .ok_or(Error::SessionInvalid)?;
        // Moving the idle deadline costs a write; ten seconds of precision saves most of them.
        if now.0 - session.last_seen_at.0 >= 10 {
            state.store.touch_session(session.id, now).await?;
        }
        Ok(Customer(session))
    }
}
