//! The OpenID Connect authorization endpoint: the door in front of the hosted login pages. A
//! request is checked (or its pushed request taken, once), kept pending, and the browser goes
//! through the same login pages as any customer (`return_to` is the pending request's own
//! page); back here with a session, the code goes to the client in a 303 with `code`, `state`
//! and `iss` (RFC 9207). An unknown client, redirect URI or request gets a page, never a
//! redirect.

use super::account::session;
use super::i18n::scope_label;
use super::{error_page, percent_encode, query_param, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sekisho_app::oidc::consent::{self, ConsentPrompt};
use sekisho_app::oidc::grants::{self, AuthzRefusal, ClientRedirect, Next};
use sekisho_app::oidc::logout;
use sekisho_app::oidc::{LOGOUT_PATH, RESUME_PATH};
use sekisho_core::{Error, Lang};

/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
/// Where the consent page's form goes.
const CONSENT_PATH: &str = "/oidc/consent";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize).post(authorize_form))
        .route(RESUME_PATH, get(resume))
        .route(CONSENT_PATH, post(consent_answer))
        .route(LOGOUT_PATH, get(logout_get).post(logout_form))
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentPage {
    base: Base,
    client_name: String,
    login_id: String,
    scopes: Vec<String>,
    handle: String,
    action: &'static str,
}

/// The way back to the client after a form: a page of this origin that moves on at once (the
/// pages' `form-action 'self'` would stop a form's redirect to the client's origin).
#[derive(Template)]
#[template(path = "return.html")]
struct ReturnPage {
    base: Base,
    to: String,
}

fn back_to_client(state: &AppState, ctx: Ctx, r: &ClientRedirect) -> Response {
    let page = ReturnPage {
        base: ctx.base(state, "return.title"),
        to: client_url(r),
    };
    let mut res = ctx.render(StatusCode::OK, &page);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Template)]
#[template(path = "oidc_logged_out.html")]
struct LoggedOutPage {
    base: Base,
    client_name: Option<String>,
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
        Ok(Ok(Next::Login { .. } | Next::Consent(_) | Next::StepUp(_))) => {
            error_page(state, ctx, Error::OidcRequestUnusable)
        }
    }
}

async fn continue_with(state: &AppState, ctx: Ctx, handle: &str) -> Response {
    let s = session(state, &ctx).await;
    match grants::resume(state, handle, s.as_ref(), &ctx.client).await {
        Err(e) => error_page(state, ctx, e.error),
        Ok(Err(AuthzRefusal::Page(e))) => error_page(state, ctx, e),
        Ok(Err(AuthzRefusal::Redirect(r))) => see_other(&client_url(&r)),
        Ok(Ok(Next::Redirect(r))) => see_other(&client_url(&r)),
        Ok(Ok(Next::Consent(p))) => consent_page(state, ctx, p, s.map(|s| s.login_id)),
        // The operation of `authorization_details`: the step-up page, which comes back here.
        Ok(Ok(Next::StepUp(id))) => see_other(&format!("/step-up/{}", percent_encode(&id))),
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

fn consent_page(
    state: &AppState,
    ctx: Ctx,
    p: ConsentPrompt,
    login_id: Option<String>,
) -> Response {
    let tx = ctx.tx();
    let page = ConsentPage {
        base: ctx.base(state, "oc.title"),
        client_name: p.client_name,
        login_id: login_id.unwrap_or_default(),
        scopes: p.scopes.iter().map(|s| scope_label(tx, s)).collect(),
        handle: p.handle,
        action: CONSENT_PATH,
    };
    let mut res = ctx.render(StatusCode::OK, &page);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn consent_answer(State(state): State<AppState>, ctx: Ctx, body: String) -> Response {
    let form = parse(&body);
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Err(e) = ctx.check_csrf(&state.secrets, &field("csrf")) {
        return error_page(&state, ctx, e);
    }
    let handle = field("id");
    let allow = field("decision") == "allow";
    let s = session(&state, &ctx).await;
    match consent::answer(&state, &handle, s.as_ref(), allow, &ctx.client).await {
        Err(e) => error_page(&state, ctx, e.error),
        Ok(Err(AuthzRefusal::Page(e))) => error_page(&state, ctx, e),
        Ok(Err(AuthzRefusal::Redirect(r))) => back_to_client(&state, ctx, &r),
        Ok(Ok(Next::Redirect(r))) => back_to_client(&state, ctx, &r),
        // Logged out meanwhile, or asked again: the request's own page decides.
        Ok(Ok(_)) => see_other(&format!("{RESUME_PATH}?id={}", percent_encode(&handle))),
    }
}

async fn logout_get(State(state): State<AppState>, ctx: Ctx) -> Response {
    let params = parse(&ctx.query);
    end_session(&state, ctx, params).await
}

/// The form an RP posts (cross-site: the session cookie, `SameSite=Lax`, does not come with
/// it, so the `id_token_hint`'s `sid` names the session).
async fn logout_form(State(state): State<AppState>, ctx: Ctx, body: String) -> Response {
    let params = parse(&body);
    end_session(&state, ctx, params).await
}

async fn end_session(state: &AppState, mut ctx: Ctx, params: Vec<(String, String)>) -> Response {
    let s = session(state, &ctx).await;
    match logout::end_session(state, &params, s.as_ref(), &ctx.client).await {
        Err(e) => error_page(state, ctx, e.error),
        Ok(Err(e)) => error_page(state, ctx, e),
        Ok(Ok(done)) => {
            if let Some(l) = done.ui_locale.as_deref().and_then(Lang::parse) {
                ctx.follow_login(l);
            }
            if done.ended {
                ctx.set_cookie(super::clear_cookie(super::SESSION_COOKIE));
            }
            match done.redirect {
                Some(r) => ctx.finish(see_other(&client_url(&r))),
                None => {
                    let page = LoggedOutPage {
                        base: ctx.base(state, "lo.title"),
                        client_name: done.client_name,
                    };
                    ctx.render(StatusCode::OK, &page)
                }
            }
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
