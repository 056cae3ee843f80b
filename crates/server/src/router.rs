//! The doors assembled: the JSON API, the hosted pages and the console on one router per
//! listener, with the layers every answer passes.

use crate::catalogue::DoorError;
use crate::door::AppState;
use crate::error::{localize, panic_response, ApiError};
use crate::{pages, routes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything (no `admin_listen`).
    All,
    /// Everything but the admin API (the public listener when `admin_listen` is set).
    Public,
    /// The admin API (and health) only: the `admin_listen` address.
    Admin,
}

/// The router of a listener serving `part`.
pub fn router(state: AppState, part: Part) -> Router {
    let limit = state.settings.max_body_bytes;
    let mut r = Router::new().merge(routes::health());
    // With `admin_listen`, the metrics and the API description are the internal address's
    // alone; without it, the metrics need a credential.
    match part {
        Part::All => r = r.merge(routes::ops(false)),
        Part::Admin => r = r.merge(routes::ops(true)),
        Part::Public => {}
    }
    if part != Part::Admin {
        r = r.merge(routes::public()).merge(pages::router(&state));
    }
    if part != Part::Public {
        r = r.nest("/api/admin/v1", routes::admin());
        r = r.merge(pages::console_router(&state, part == Part::Admin));
    }
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(localize))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            common_headers,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    DoorError::NotFound.into()
}

async fn method_not_allowed() -> ApiError {
    DoorError::MethodNotAllowed.into()
}

/// Headers every API response carries, and the response counter.
async fn common_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    state.metrics.http(res.status().as_u16());
    let h = res.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}
