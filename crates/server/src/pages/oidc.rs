//! The OpenID Connect authorization endpoint: the door in front of the hosted login pages. A
//! request is checked (or its pushed request taken, once), kept pending, and the browser goes
//! through the same login pages as any customer (`return_to` is the pending request's own
//! page); back here with a session, the code goes to the client in a 303 with `code`, `state`
//! and `iss` (RFC 9207). An unknown client, redirect URI or request gets a page, never a
//! redirect.

use super::account::session;
use super::{error_page, percent_encode, query_param, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sekisho_app::oidc::grants::{self, AuthzRefusal, ClientRedirect, Next};
use sekisho_core::Error;

/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
/// Where a pending request continues after the login pages.
const RESUME_PATH: &str = "/oidc/authorize/resume";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize).post(authorize_form))
        .route(RESUME_PATH, get(resume))
}

/// Whether `r` is a pending request's own page (the login may return there).
pub fn is_own_page(r: &str) -> bool {
    r.strip_prefix(RESUME_PATH)
        .and_then(|q| q.strip_prefix("?id="))
        .is_some_and(|id| {
            id.starts_with("skar_")
                && id.len() <= 80
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// The handle of the pending request a login returns to, when that request asks only for the
/// phishing-resistant level: the login pages then ask for a passkey (and say how to register
/// one when the login has none).
pub async fn passkey_request(state: &AppState, return_to: Option<&str>) -> Option<String> {
    let handle = return_to
        .filter(|r| is_own_page(r))?
        .strip_prefix(RESUME_PATH)?
        .strip_prefix("?id=")?;
    grants::wants_passkey(state, handle)
        .await
        .then(|| handle.to_owned())
}

#[derive(Template)]
#[template(path = "oidc_passkey_required.html")]
struct PasskeyRequiredPage {
    base: Base,
    error: Shown,
    /// Back to the app, which learns that the login did not happen.
    cancel: String,
}

/// The app asked for a passkey and the login has none: what to do, with the code of the
/// refusal, a way to the passkey settings, and a way back to the app.
pub fn passkey_required_page(state: &AppState, ctx: Ctx, handle: &str) -> Response {
    let e = Error::OidcPasskeyRequired;
    let page = PasskeyRequiredPage {
        base: ctx.base(state, "pk.oidc_title"),
        error: Shown::new(&e, ctx.lang),
        cancel: format!("{RESUME_PATH}?id={}&cancel=1", percent_encode(handle)),
    };
    ctx.render(status_of(&e), &page)
}

/// The client's redirect URI with the answer added to its query.
pub fn client_url(r: &ClientRedirect) -> String {
    let mut url = r.redirect_uri.clone();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in &r.params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&percent_encode(v));
        sep = '&';
    }
    url
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn parse(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

async fn authorize(State(state): State<AppState>, ctx: Ctx) -> Response {
    let params = parse(&ctx.query);
    begin(&state, ctx, params).await
}

async fn authorize_form(State(state): State<AppState>, ctx: Ctx, body: String) -> Response {
    let params = parse(&body);
    begin(&state, ctx, params).await
}

async fn begin(state: &AppState, ctx: Ctx, params: Vec<(String, String)>) -> Response {
    match grants::start(state, &params, &ctx.client).await {
        Err(e) => error_page(state, ctx, e.error),
        Ok(Err(AuthzRefusal::Page(e))) => error_page(state, ctx, e),
        Ok(Err(AuthzRefusal::Redirect(r))) => see_other(&client_url(&r)),
        Ok(Ok(handle)) => continue_with(state, ctx, &handle).await,
    }
}

async fn resume(State(state): State<AppState>, ctx: Ctx) -> Response {
    let handle = query_param(&ctx.query, "id").unwrap_or_default();
    if query_param(&ctx.query, "cancel").as_deref() == Some("1") {
        return cancel(&state, ctx, &handle).await;
    }
    continue_with(&state, ctx, &handle).await
}

/// "Back to the app" without logging in: the request ends and the client learns why
/// (`access_denied`, or `unmet_authentication_requirements` for an essential level). A link,
/// not a form: a form's answer may not redirect to another origin (`form-action 'self'`), and
/// the request's handle is known only to this browser.
async fn cancel(state: &AppState, ctx: Ctx, handle: &str) -> Response {
    match grants::cancel(state, handle, &ctx.client).await {
        Err(e) => error_page(state, ctx, e.error),
        Ok(Err(AuthzRefusal::Page(e))) => error_page(state, ctx, e),
        Ok(Err(AuthzRefusal::Redirect(r))) | Ok(Ok(Next::Redirect(r))) => {
            see_other(&client_url(&r))
        }
        Ok(Ok(Next::Login { .. })) => error_page(state, ctx, Error::OidcRequestUnusable),
    }
}

async fn continue_with(state: &AppState, ctx: Ctx, handle: &str) -> Response {
    let s = session(state, &ctx).await;
    match grants::resume(state, handle, s.as_ref(), &ctx.client).await {
        Err(e) => error_page(state, ctx, e.error),
        Ok(Err(AuthzRefusal::Page(e))) => error_page(state, ctx, e),
        Ok(Err(AuthzRefusal::Redirect(r))) => see_other(&client_url(&r)),
        Ok(Ok(Next::Redirect(r))) => see_other(&client_url(&r)),
        // A request for a passkey is seen again by the login pages from the pending request
        // itself (`passkey_request`), so nothing in this URL can turn it off.
        Ok(Ok(Next::Login {
            login_hint,
            ui_locale,
            passkey: _,
        })) => {
            let back = format!("{RESUME_PATH}?id={handle}");
            let mut to = format!("/login?return_to={}", percent_encode(&back));
            if let Some(l) = login_hint {
                to.push_str(&format!("&login_hint={}", percent_encode(&l)));
            }
            if let Some(l) = ui_locale {
                to.push_str(&format!("&lang={l}"));
            }
            see_other(&to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pending_requests_page_is_own() {
        assert!(is_own_page("/oidc/authorize/resume?id=skar_abc-DEF_1"));
        assert!(!is_own_page("/oidc/authorize/resume?id=skac_abc"));
        assert!(!is_own_page("/oidc/authorize/resume?id=skar_a&x=1"));
        assert!(!is_own_page("/oidc/authorize/resume?id=skar_a/../x"));
        assert!(!is_own_page(
            "https://evil.example/oidc/authorize/resume?id=skar_a"
        ));
    }

    #[test]
    fn the_answer_is_added_to_the_redirect_uris_query() {
        let r = ClientRedirect {
            redirect_uri: "https://trade.example.co.jp/cb?x=1".into(),
            params: vec![("code", "skac_1".into()), ("state", "a b&c".into())],
        };
        assert_eq!(
            client_url(&r),
            "https://trade.example.co.jp/cb?x=1&code=skac_1&state=a%20b%26c"
        );
    }
}
