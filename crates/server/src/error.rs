//! The one mapping from errors (a use case's or the doors' own) to HTTP: status from the error
//! kind, and a JSON body `{"error","code","message"}` localised by the `localize` middleware,
//! which is the only place that knows the request's `Accept-Language`.

use crate::catalogue::{DoorError, Failure};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sekisho_app::flow::LoginStep;
use sekisho_app::login::Issued;
use sekisho_app::{AppError, ErrorContext};
use sekisho_core::error::ErrorKind;
use sekisho_core::{Error, Lang};
use sekisho_store::StoreError;
use serde_json::{Map, Value};
use std::sync::Arc;

/// An error on its way to the client, with optional extra fields for the body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The error.
    pub error: Failure,
    /// Extra JSON fields (e.g. the password-change token).
    pub extra: Map<String, Value>,
}

impl ApiError {
    /// Adds an extra field to the body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.extra.insert(key.to_owned(), value.into());
        self
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            error: Failure::App(error),
            extra: Map::new(),
        }
    }
}

impl From<DoorError> for ApiError {
    fn from(error: DoorError) -> Self {
        ApiError {
            error: Failure::Door(error),
            extra: Map::new(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let mut api = ApiError::from(e.error);
        if let Some(context) = e.context {
            context_fields(*context, &mut api.extra);
        }
        api
    }
}

/// The fields an application error's context adds to the body (the body's keys are sorted, so
/// the order here does not show).
fn context_fields(context: ErrorContext, extra: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        extra.insert(k.to_owned(), v);
    };
    match context {
        ErrorContext::SetupLinkPending { expires_at, hint } => {
            put("setup_link_pending", true.into());
            put("setup_link_expires_at", expires_at.to_rfc3339().into());
            put("hint", hint.into());
        }
        ErrorContext::RetryAfter(secs) => put("retry_after_secs", secs.into()),
        ErrorContext::TriesLeft(n) => put("tries_left", n.into()),
        ErrorContext::ImportRejected(report) => {
            put("report", serde_json::to_value(&*report).unwrap_or_default());
        }
    }
}

/// The answer of a login that is not done yet: the doors' catalogue's name, code and message
/// for the step (what clients have always been told) and the fields that let them take it.
pub(crate) fn pending_login(step: LoginStep) -> Result<Issued, ApiError> {
    let mut extra = Map::new();
    let mut put = |k: &str, v: Value| {
        extra.insert(k.to_owned(), v);
    };
    let error: Failure = match step {
        LoginStep::Done(issued) => return Ok(*issued),
        LoginStep::SecondFactor(o) => {
            put("challenge", o.challenge.clone().into());
            put("methods", names(&o.methods));
            put("second_factor_url", SECOND_FACTOR_URL.into());
            if o.passkey() {
                put("passkey_url", "/api/v1/login/passkey/begin".into());
            }
            put("expires_at", o.expires_at.to_rfc3339().into());
            if let Some(id) = o.token_id {
                put("token_id", id.into());
                put("resync_url", "/api/v1/login/token/resync".into());
            }
            DoorError::SecondFactorRequired.into()
        }
        LoginStep::EmailCodeSent(o) => {
            put("challenge", o.challenge.into());
            put("methods", names(&o.methods));
            put("second_factor_url", SECOND_FACTOR_URL.into());
            put("resend_url", "/api/v1/login/email-code/resend".into());
            put("sent_to", o.sent_to.into());
            put("code_expires_at", o.code_expires_at.to_rfc3339().into());
            put("expires_at", o.expires_at.to_rfc3339().into());
            DoorError::SecondFactorRequired.into()
        }
        LoginStep::PasswordChangeRequired(o) => {
            put("reason", o.reason.as_str().into());
            put("password_change_token", o.token.into());
            put("password_change_url", "/api/v1/me/password".into());
            put("expires_at", o.expires_at.to_rfc3339().into());
            DoorError::PasswordChangeRequired.into()
        }
        LoginStep::TokenRegistrationRequired(o) => {
            put("challenge", o.challenge.into());
            put("methods", names(&o.methods));
            put("register_url", "/api/v1/login/token/register".into());
            put("expires_at", o.expires_at.to_rfc3339().into());
            Error::SecondFactorNotInitialized.into()
        }
    };
    Err(ApiError { error, extra })
}

const SECOND_FACTOR_URL: &str = "/api/v1/login/second-factor";

/// The factors offered, by their wire names (`totp`, `token`, `passkey`, …).
fn names(methods: &[sekisho_core::flow::Factor]) -> Value {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .into()
}

impl From<StoreError> for ApiError {
    /// The application layer's one mapping (an unreachable database is 503, anything else
    /// 500, logged).
    fn from(e: StoreError) -> Self {
        sekisho_app::error::AppError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => DoorError::PayloadTooLarge.into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => DoorError::UnsupportedMediaType.into(),
            _ => Error::InvalidRequest(crate::rejection::json(&r)).into(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Error::InvalidRequest(crate::rejection::query(&r)).into()
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Error::InvalidRequest(crate::rejection::path(&r)).into()
    }
}

/// The HTTP status of `kind`, for the JSON API and the pages alike.
pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[derive(Clone)]
struct Pending(Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = status(self.error.kind()).into_response();
        res.extensions_mut().insert(Pending(Arc::new(self)));
        res
    }
}

/// Renders the body of any error response in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut res = next.run(req).await;
    render(&mut res, lang);
    res
}

/// Writes the JSON body of an error response (one carrying an [`ApiError`], or the framework's
/// bodiless 404 and 405) in `lang`; other responses are left as they are.
pub(crate) fn render(res: &mut Response, lang: Lang) {
    // Errors raised by the framework itself (unknown route, wrong method) arrive bodiless.
    let pending = res
        .extensions_mut()
        .remove::<Pending>()
        .map(|p| p.0)
        .or_else(|| match res.status() {
            StatusCode::NOT_FOUND if res.headers().get(header::CONTENT_TYPE).is_none() => {
                Some(Arc::new(DoorError::NotFound.into()))
            }
            StatusCode::METHOD_NOT_ALLOWED => Some(Arc::new(DoorError::MethodNotAllowed.into())),
            _ => None,
        });
    let Some(err) = pending else {
        return;
    };
    let mut body = Map::new();
    body.insert("error".into(), err.error.name().into());
    body.insert("code".into(), err.error.code().into());
    body.insert("message".into(), err.error.message(lang).into());
    if let Some(d) = err.error.detail() {
        body.insert("detail".into(), d.into());
    }
    for (k, v) in &err.extra {
        body.insert(k.clone(), v.clone());
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    *res.body_mut() = Body::from(bytes);
    let h = res.headers_mut();
    h.remove(header::CONTENT_LENGTH);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match err.error.kind() {
        ErrorKind::Unauthorized => {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ErrorKind::Unavailable => {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        // The throttle and the e-mail code's cooldown say how long to wait.
        ErrorKind::TooManyRequests => {
            if let Some(secs) = err.extra.get("retry_after_secs").and_then(Value::as_i64) {
                h.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
        }
        _ => {}
    }
}

/// The response for a panic in a handler: a plain internal error, never the panic text.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::from(Error::Internal).into_response()
}
