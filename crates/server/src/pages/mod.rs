//! The hosted customer pages: server-rendered (askama) login, second factor, forced password
//! change and security settings, in Japanese by default with English one click away. They call
//! the same domain functions as the JSON API (`auth`, `email_code`, `factors`); this module only
//! adds what browsers need: cookies, form tokens (CSRF), the login in progress ("login flow",
//! which an OpenID Connect authorization request can wrap later), rate limits, strict headers.

mod account;
mod account_app;
pub mod console;
mod console_credentials;
mod console_history;
mod console_logins;
mod console_logouts;
mod console_passkeys;
mod i18n;
mod keyboard;
mod login;
mod oidc;
mod passkey;
mod policy;
mod security_actions;
mod settings;
mod setup;
mod setup_passkey;
mod setup_second;
mod step_up;
mod token_login;

use crate::catalogue::{DoorError, Failure};
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::Client;
pub use crate::web::{percent_encode, return_to_allowed};
use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sekisho_app::flow::flow_aad;
use sekisho_app::throttle::{self, Subject};
use sekisho_app::AppError;
use sekisho_core::audit::ClientInfo;
use sekisho_core::clock::random_bytes;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{token, Error, Lang, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use i18n::Tx;

/// The session cookie of the pages (an opaque session token of the sessions table).
pub const SESSION_COOKIE: &str = "__Host-sekisho_session";
/// The login in progress.
const FLOW_COOKIE: &str = "__Host-sekisho_flow";
/// The random value the form tokens are bound to (signed double submit).
const FORM_COOKIE: &str = "__Host-sekisho_form";
/// The chosen language.
const LANG_COOKIE: &str = "__Host-sekisho_lang";

/// The pages' router: page routes and their two static files.
pub fn router(state: &AppState) -> Router<AppState> {
    with_assets(
        state,
        Router::new()
            .route("/", get(way_in))
            .merge(login::router())
            .merge(passkey::router())
            .merge(account::router())
            .merge(setup::router())
            .merge(step_up::router())
            .merge(oidc::router()),
    )
}

/// The operator console's router (`/admin`), for the listener that serves the admin API; with
/// the static files when the customer pages are not on the same listener.
pub fn console_router(state: &AppState, with_static: bool) -> Router<AppState> {
    if with_static {
        with_assets(state, console::router().route("/", get(console_way_in)))
    } else {
        let csp = page_csp(state);
        console::router().route_layer(middleware::from_fn_with_state(csp, page_headers))
    }
}

/// `/`: a person who types the bare address is sent to the login page (the customers' way in,
/// as the seeds' sites open on their login screen; operators have `/admin`, which the start-up
/// log names too). The query (`?lang=en`, `?return_to=`) goes along.
async fn way_in(uri: axum::http::Uri) -> Redirect {
    Redirect::to(&with_query("/login", &uri))
}

/// `/` on the listener that serves only the admin API and the console.
async fn console_way_in(uri: axum::http::Uri) -> Redirect {
    Redirect::to(&with_query("/admin", &uri))
}

fn with_query(path: &str, uri: &axum::http::Uri) -> String {
    match uri.query() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

fn page_csp(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&csp(&state.settings.branding.logo_url))
        .unwrap_or(HeaderValue::from_static("default-src 'none'"))
}

fn with_assets(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let csp = page_csp(state);
    r.route("/assets/pages.css", get(css))
        .route("/assets/pages.js", get(js))
        .route("/assets/password.js", get(password_js))
        .route("/assets/common-passwords.txt", get(common_passwords))
        .route("/assets/brand.css", get(brand_css))
        .route_layer(middleware::from_fn_with_state(csp, page_headers))
}

/// The pages' Content-Security-Policy; an https logo's origin is the only other origin allowed.
fn csp(logo_url: &str) -> String {
    let logo_origin = logo_url
        .strip_prefix("https://")
        .and_then(|r| r.split('/').next())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        })
        .map(|h| format!(" https://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:{logo_origin}; \
         script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Headers of every page: a strict Content-Security-Policy, no framing, no referrer, no caching.
async fn page_headers(
    axum::extract::State(csp): axum::extract::State<HeaderValue>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/pages.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/pages.js"),
    )
}

async fn password_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/password.js"),
    )
}

/// The common-password list the server refuses (nist-800-63b-4), for the rules box's live check.
async fn common_passwords() -> Response {
    asset(
        "text/plain; charset=utf-8",
        sekisho_core::password::common_passwords(),
    )
}

/// The firm's colour as a stylesheet (inline styles are refused by the CSP).
async fn brand_css(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let c = &state.settings.branding.primary_color;
    let color = if is_hex_color(c) {
        c.as_str()
    } else {
        "#1f4e79"
    };
    asset(
        "text/css; charset=utf-8",
        &format!(":root {{ --brand: {color}; }}\n"),
    )
}

/// `#rrggbb` (the only form the colour setting takes).
pub fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())
}

fn asset(content_type: &'static str, body: &str) -> Response {
    let mut res = body.to_owned().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// A login in progress on the pages, found by the hash of the flow cookie. It carries where the
/// customer goes back to, so an OpenID Connect authorization request can wrap it later. Stored
/// sealed (it holds the challenge or the restricted session token).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flow {
    /// The login ID typed.
    pub login_id: String,
    /// Where to send the customer after the login (already checked against the allow-list).
    pub return_to: Option<String>,
    /// The step the login waits at.
    pub step: Step,
    /// The flow ends then.
    pub expires_at: Timestamp,
}

/// The step a login in progress waits at.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The second factor, answering `challenge`.
    SecondFactor {
        challenge: String,
        methods: Vec<sekisho_core::flow::Factor>,
        token_id: Option<String>,
        sent_to: Option<String>,
        /// The code went to the separate delivery address (flows sealed before this field
        /// read as the registered address).
        #[serde(default)]
        to_delivery_address: bool,
    },
    /// The forced password change with the restricted session `token`.
    PasswordChange { token: String, reason: String },
}

/// Records a new flow in the database (sealed); answers the cookie value.
async fn put_flow(state: &AppState, flow: &Flow) -> Result<String, Error> {
    let t = token::generate("sksf", state.rng.as_ref());
    let hash = token::hash(&t);
    let json = serde_json::to_vec(flow).map_err(|_| Error::Internal)?;
    let sealed = state
        .secrets
        .seal(&json, &flow_aad(&hash), random_bytes(state.rng.as_ref()))
        .ok_or(Error::Internal)?;
    state
        .store
        .create_flow(&hash, &sealed, state.clock.now(), flow.expires_at)
        .await
        .map_err(|_| Error::Internal)?;
    Ok(t)
}

/// The open (unfinished, unexpired) flow of this cookie, whichever instance made it.
async fn get_flow(state: &AppState, cookie: Option<&str>) -> Option<Flow> {
    let hash = token::hash(cookie?);
    let now = state.clock.now();
    let stored = state.store.open_flow(&hash, now).await.ok()??;
    let json = state.secrets.open(&stored.payload, &flow_aad(&hash))?;
    serde_json::from_slice::<Flow>(&json)
        .ok()
        .filter(|f| f.expires_at > now)
}

/// Finishes the flow: true for exactly one caller (a finished flow cannot be replayed).
async fn end_flow(state: &AppState, cookie: Option<&str>) -> bool {
    match cookie {
        Some(c) => state
            .store
            .finish_flow(&token::hash(c), state.clock.now())
            .await
            .unwrap_or(false),
        None => false,
    }
}

/// Marks a session as freshly re-authenticated until `until` (shared by every instance).
async fn mark_fresh(state: &AppState, session_id: i64, until: Timestamp) -> Result<(), Error> {
    state
        .store
        .mark_session_fresh(session_id, until)
        .await
        .map_err(|_| Error::Internal)
}

/// Whether the session re-authenticated recently.
async fn is_fresh(state: &AppState, session_id: i64, now: Timestamp) -> bool {
    state
        .store
        .session_is_fresh(session_id, now)
        .await
        .unwrap_or(false)
}

/// A page request: language, cookies, client, and the form token.
pub struct Ctx {
    pub lang: Lang,
    /// The customer chose the language (`?lang=` or its cookie): nothing overrides it.
    chosen: bool,
    pub client: ClientInfo,
    cookies: HashMap<String, String>,
    form_binding: String,
    set_cookies: Vec<String>,
    /// The path and query of this request (for the language switch).
    path: String,
    query: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, ApiError> {
        let Client(client) = Client::from_request_parts(parts, state).await?;
        let cookies = parse_cookies(&parts.headers);
        let query = parts.uri.query().unwrap_or("").to_owned();
        // The language, in this order: the customer's choice (`?lang=`, then its cookie), the
        // login's own language once a page knows the login (`Ctx::follow_login`), the
        // browser's `Accept-Language`, Japanese.
        let asked = query_param(&query, "lang").and_then(|l| Lang::parse(&l));
        let chosen = asked.or_else(|| cookies.get(LANG_COOKIE).and_then(|l| Lang::parse(l)));
        let lang = chosen.unwrap_or_else(|| {
            Lang::from_accept_language(
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
        let mut set_cookies = Vec::new();
        if let Some(l) = asked {
            set_cookies.push(cookie(LANG_COOKIE, l.as_str(), Some(365 * 86400)));
        }
        let form_binding = match cookies.get(FORM_COOKIE).filter(|v| v.len() >= 16) {
            Some(v) => v.clone(),
            None => {
                let v = token::generate("sksb", state.rng.as_ref());
                set_cookies.push(cookie(FORM_COOKIE, &v, None));
                v
            }
        };
        Ok(Ctx {
            lang,
            chosen: chosen.is_some(),
            client,
            cookies,
            form_binding,
            set_cookies,
            path: parts.uri.path().to_owned(),
            query,
        })
    }
}

impl Ctx {
    /// Speaks the login's language from now on, unless the customer chose one.
    pub fn follow_login(&mut self, lang: Lang) {
        if !self.chosen {
            self.lang = lang;
        }
    }

    /// The texts in this request's language.
    pub fn tx(&self) -> Tx {
        Tx(self.lang)
    }

    /// A cookie of the request.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The form token for this browser.
    pub fn csrf(&self, secrets: &SecretBox) -> String {
        secrets.code_hash("sekisho-pages-form", &self.form_binding)
    }

    /// Checks a submitted form token (the form cookie must have come with the request).
    pub fn check_csrf(&self, secrets: &SecretBox, given: &str) -> Result<(), DoorError> {
        let had_cookie = self.cookies.contains_key(FORM_COOKIE);
        if had_cookie && SecretBox::hashes_equal(&self.csrf(secrets), given) {
            Ok(())
        } else {
            Err(DoorError::FormExpired)
        }
    }

    /// Adds a `Set-Cookie` to the response.
    pub fn set_cookie(&mut self, value: String) {
        self.set_cookies.push(value);
    }

    /// The shared parts of every page.
    pub fn base(&self, state: &AppState, title_key: &str) -> Base {
        let p = &state.settings.branding;
        let firm = if p.firm_name.is_empty() {
            state.settings.mail.firm_name.clone()
        } else {
            p.firm_name.clone()
        };
        let other = match self.lang {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        };
        // The same page in the other language, keeping the query (return_to) but its `lang`.
        let mut q: Vec<String> = self
            .query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .map(str::to_owned)
            .collect();
        q.push(format!("lang={}", other.as_str()));
        Base {
            lang: self.lang.as_str(),
            tx: self.tx(),
            title: self.tx().t(title_key),
            firm_name: firm,
            logo_url: p.logo_url.clone(),
            switch_href: format!("{}?{}", self.path, q.join("&")),
            switch_lang: other.as_str(),
            support: state.settings.mail.support_contact.clone(),
            csrf: self.csrf(&state.secrets),
            keyboard: keyboard::Keyboard::new(
                state.settings.pages.software_keyboard(),
                &state.settings.password_policy,
            ),
        }
    }

    /// Finishes a response: the cookies this request set.
    pub fn finish(self, mut res: Response) -> Response {
        for c in self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        res
    }

    /// Renders a template with `status`.
    pub fn render(self, status: StatusCode, page: &impl Template) -> Response {
        let res = match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "page rendering failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
        let lang = self.lang;
        let mut res = self.finish(res);
        res.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.as_str()),
        );
        res
    }

    /// A 303 redirect (after a form).
    pub fn redirect(self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }

    /// Counts a form submission from this client (and for `login_id`, if given) with the one
    /// throttle every door that checks a secret calls (shared by every instance); refuses when
    /// either spent its bucket or the login ID waits after wrong passwords.
    pub async fn rate_limit(
        &self,
        state: &AppState,
        login_id: Option<&str>,
    ) -> Result<(), AppError> {
        let who = login_id.map_or(Subject::Anyone, Subject::Login);
        throttle::attempt(state, &self.client, who).await
    }
}

/// What the layout shows on every page.
pub struct Base {
    pub lang: &'static str,
    pub tx: Tx,
    pub title: &'static str,
    pub firm_name: String,
    pub logo_url: String,
    pub switch_href: String,
    pub switch_lang: &'static str,
    pub support: String,
    pub csrf: String,
    /// The software keyboard beside password fields, if the firm offers it.
    pub keyboard: keyboard::Keyboard,
}

/// An error (a use case's or the doors' own) as a page shows it: the localized message and the
/// stable code.
pub struct Shown {
    pub message: String,
    pub code: &'static str,
}

impl Shown {
    pub fn new(e: impl Into<Failure>, lang: Lang) -> Shown {
        let e = e.into();
        Shown {
            message: e.message(lang),
            code: e.code(),
        }
    }
}

/// The HTTP status of a page that shows `e`: the JSON API's, from the error's kind.
pub fn status_of(e: impl Into<Failure>) -> StatusCode {
    crate::error::status(e.into().kind())
}

/// A full-page error with a way back to the login page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub base: Base,
    pub error: Shown,
}

/// Renders `e` as a page of its own.
pub fn error_page(state: &AppState, ctx: Ctx, e: impl Into<Failure>) -> Response {
    let e = e.into();
    let page = ErrorPage {
        base: ctx.base(state, "error.title"),
        error: Shown::new(&e, ctx.lang),
    };
    ctx.render(status_of(&e), &page)
}

/// A `Set-Cookie` value for the pages: host-only, secure, not readable by scripts.
pub fn cookie(name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={}", a.max(0)));
    }
    c
}

/// A `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str) -> String {
    cookie(name, "", Some(0))
}

fn parse_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// One decoded query parameter.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Whether the hosted login may send the customer to `r` when it is done: an allow-listed app
/// address, or Sekisho's own step-up confirmation page (the relative `/step-up/{id}`), where a
/// customer who was not signed in comes back to.
pub fn login_return_allowed(state: &AppState, r: &str) -> bool {
    return_to_allowed(r, &state.settings.pages.return_to_allowlist)
        || step_up::is_own_page(r)
        || oidc::is_own_page(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_match_an_entry_at_a_boundary() {
        let list = vec![
            "https://trade.example.co.jp/".to_owned(),
            "https://app.example.co.jp/web".to_owned(),
        ];
        assert!(return_to_allowed("https://trade.example.co.jp/", &list));
        assert!(return_to_allowed(
            "https://trade.example.co.jp/home?x=1",
            &list
        ));
        assert!(return_to_allowed("https://app.example.co.jp/web", &list));
        assert!(return_to_allowed("https://app.example.co.jp/web/a", &list));
        assert!(return_to_allowed(
            "https://app.example.co.jp/web?a=1",
            &list
        ));
        assert!(!return_to_allowed(
            "https://app.example.co.jp/webevil",
            &list
        ));
        assert!(!return_to_allowed(
            "https://trade.example.co.jp.evil.jp/",
            &list
        ));
        assert!(!return_to_allowed(
            "https://evil.jp/?https://trade.example.co.jp/",
            &list
        ));
        assert!(!return_to_allowed(
            "https://trade.example.co.jp/\\evil",
            &list
        ));
        assert!(!return_to_allowed("javascript:alert(1)", &list));
        assert!(!return_to_allowed("https://trade.example.co.jp/", &[]));
    }

    #[test]
    fn query_values_are_decoded_and_encoded() {
        assert_eq!(
            query_param("a=1&return_to=https%3A%2F%2Fx.jp%2Fa%3Fb%3D1", "return_to").as_deref(),
            Some("https://x.jp/a?b=1")
        );
        assert_eq!(
            percent_encode("https://x.jp/a?b=1"),
            "https%3A%2F%2Fx.jp%2Fa%3Fb%3D1"
        );
        assert_eq!(query_param("x=%zz%", "x").as_deref(), Some("%zz%"));
    }

    #[test]
    fn colours_are_hex_only() {
        assert!(is_hex_color("#1f4e79"));
        assert!(!is_hex_color("red;}body{"));
        assert!(!is_hex_color("#12345"));
    }
}
