//! Extractors: JSON bodies with our errors, the client's address, and the two kinds of bearer
//! credential (API tokens for apps and operators' scripts, session tokens for customers).

use crate::door::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use sekisho_app::client_addr::client_ip;
use sekisho_app::operators::OPERATOR_SESSION_PREFIX;
use sekisho_app::staff::StaffCaller;
use sekisho_core::audit::{Actor, ClientInfo};
use sekisho_core::session::Session;
use sekisho_core::{token, Error};
use sekisho_store::{ApiToken, OperatorSession};
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
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client_ip(
            peer,
            &forwarded,
            state.settings.trust_forwarded_for,
            &state.settings.trusted_proxies,
        );
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Client(ClientInfo {
            ip: ip.map(|ip| ip.to_string()),
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

/// An API token of the `validate` (or `admin`) scope: checked from the head, before the body
/// is read, so a token of another scope is refused as such whatever it sends.
pub struct ValidateCaller(pub ApiCaller);

/// An API token of the `step_up` (or `admin`) scope, checked before the body is read.
pub struct StepUpCaller(pub ApiCaller);

async fn scoped(
    parts: &mut Parts,
    state: &AppState,
    scopes: &[&str],
) -> Result<ApiCaller, ApiError> {
    let caller = ApiCaller::from_request_parts(parts, state).await?;
    if scopes.contains(&caller.0.scope.as_str()) {
        Ok(caller)
    } else {
        Err(Error::InsufficientScope.into())
    }
}

impl FromRequestParts<AppState> for ValidateCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        scoped(parts, state, &["validate", "admin"])
            .await
            .map(ValidateCaller)
    }
}

impl FromRequestParts<AppState> for StepUpCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        scoped(parts, state, &["step_up", "admin"])
            .await
            .map(StepUpCaller)
    }
}

/// Who calls the admin API: an API token with the `admin` scope, or an operator session.
pub enum AdminCaller {
    /// An API token with the `admin` scope (scripts, the CRM): every admin operation.
    Token(ApiToken),
    /// A logged-in operator: what the operator's role allows.
    Operator(OperatorSession),
}

impl AdminCaller {
    /// The audit actor for this caller.
    pub fn actor(&self) -> Actor {
        match self {
            AdminCaller::Token(t) => Actor::ApiToken(format!("{}:{}", t.id, t.name)),
            AdminCaller::Operator(s) => Actor::Operator(s.name.clone()),
        }
    }

    /// The caller as the application's use cases take it.
    pub fn staff(&self) -> StaffCaller {
        StaffCaller {
            actor: self.actor(),
            admin: self.is_admin(),
        }
    }

    /// Whether the caller may do everything (policy, operators, API tokens, login lifecycle).
    pub fn is_admin(&self) -> bool {
        match self {
            AdminCaller::Token(_) => true,
            AdminCaller::Operator(s) => s.role == sekisho_core::operator::OperatorRole::Admin,
        }
    }
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let t = bearer(parts).ok_or(Error::Unauthorized)?;
        if t.starts_with(OPERATOR_SESSION_PREFIX) && t.as_bytes().get(4) == Some(&b'_') {
            let s = crate::operators::session_for_token(state, t)
                .await?
                .ok_or(Error::Unauthorized)?;
            return Ok(AdminCaller::Operator(s));
        }
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        if caller.0.scope != sekisho_core::token::ApiScope::Admin {
            return Err(Error::InsufficientScope.into());
        }
        Ok(AdminCaller::Token(caller.0))
    }
}

/// A caller allowed every admin operation: an `admin` API token or an operator with the
/// `admin` role (a `support` operator gets `admin_role_required`).
pub struct Admin(pub AdminCaller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = AdminCaller::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(Error::AdminRoleRequired.into());
        }
        Ok(Admin(caller))
    }
}

/// A caller allowed the support desk's work (search and view logins and the activity history,
/// unlock, revoke sessions and browsers): an `admin` API token or an operator of either role.
pub struct Staff(pub AdminCaller);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        AdminCaller::from_request_parts(parts, state)
            .await
            .map(Staff)
    }
}

/// Who may read `/metrics` on a listener that also serves customers: an API token with the
/// `metrics` (a Prometheus scraper) or `admin` scope, or an operator session of either role.
pub struct MetricsReader;

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let t = bearer(parts).ok_or(Error::Unauthorized)?;
        if t.starts_with(OPERATOR_SESSION_PREFIX) && t.as_bytes().get(4) == Some(&b'_') {
            crate::operators::session_for_token(state, t)
                .await?
                .ok_or(Error::Unauthorized)?;
            return Ok(MetricsReader);
        }
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        match caller.0.scope {
            token::ApiScope::Metrics | token::ApiScope::Admin => Ok(MetricsReader),
            _ => Err(Error::InsufficientScope.into()),
        }
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
            .filter(|s| s.is_active(&state.settings.session.policy(), now))
            .ok_or(Error::SessionInvalid)?;
        // Moving the idle deadline costs a write; ten seconds of precision saves most of them.
        if now.0 - session.last_seen_at.0 >= 10 {
            state.store.touch_session(session.id, now).await?;
        }
        Ok(Customer(session))
    }
}
