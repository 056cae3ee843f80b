//! The OpenID Connect provider's public documents: the discovery document and the JWK Set.
//! (The authorization, token and other endpoints come with the login state machine.)

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::Client;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sekisho_app::oidc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(oidc::DISCOVERY_PATH, get(discovery))
        .route(oidc::JWKS_PATH, get(jwks))
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
