//! Liveness, readiness, metrics and the OpenAPI description.

use crate::door::AppState;
use crate::extract::MetricsReader;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `/metrics` (open, or only for a [`MetricsReader`]) and `/api/openapi.json`.
pub fn ops(open: bool) -> Router<AppState> {
    let r = Router::new().route("/api/openapi.json", get(openapi));
    if open {
        r.route("/metrics", get(metrics))
    } else {
        r.route("/metrics", get(guarded_metrics))
    }
}

async fn guarded_metrics(_reader: MetricsReader, state: State<AppState>) -> impl IntoResponse {
    metrics(state).await
}

async fn healthz() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        "ok\n",
    )
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            "ready\n",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain")],
                "database unreachable\n",
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.render(&[
        (
            "sekisho_password_hash_running",
            "Argon2id hashes running now.",
            state.hashes.running() as u64,
        ),
        (
            "sekisho_password_hash_waiting",
            "Argon2id hashes waiting for a slot.",
            state.hashes.waiting() as u64,
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::OPENAPI_JSON,
    )
}
