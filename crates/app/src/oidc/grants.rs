//! The authorization code flow over the one login: pushed requests (PAR), the authorization
//! request waiting for the customer's login on the hosted pages, the code issued from what the
//! Sekisho session proves, the token endpoint (code exchange with PKCE and client
//! authentication, ID token and access token) and UserInfo. Every authorization, token issue
//! and refusal is an audit record naming the client.
//!
//! Access tokens are JWTs (RFC 9068, `typ` `at+jwt`) signed with the client's ID token
//! algorithm: the trading back end verifies them offline with the JWK Set, and UserInfo needs no
//! table of its own. They live [`ACCESS_TOKEN_SECS`]; revocation and refresh come later.

use super::client_auth::{self, Credentials};
use super::clients::{self, Client};
use super::dpop;
use super::metadata::{AuthMethod, GrantType, Profile, SubjectType};
use super::request::{self, single, AuthRequest, OAuthError, Params, Refusal};
use super::{issuer, rar, AcrNames};
use crate::error::AppError;
use crate::keys;
use crate::state::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::flow::{Acr, Amr};
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::{
    CodeTake, JtiUse, NewOidcCode, NewOidcRequest, NewRefreshToken, NewTokenGrant, OidcCode,
    Redeemed, Redemption, RequestKind, SessionSignIn,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod introspect;
mod tokens;
pub use introspect::{
    introspect, revoke, revoke_grants_for_client, revoke_grants_for_session, Introspection,
};
pub(crate) use tokens::sid;
pub use tokens::{subject, token, userinfo, Cnf, Presented};

/// Lifetime of a pushed request (`expires_in` of PAR; RFC 9126 asks for less than 600 s).
pub const PAR_SECS: i64 = 90;
/// How long an authorization request may wait for the customer's login.
pub const PENDING_SECS: i64 = 600;
/// Lifetime of an authorization code (FAPI 2.0: at most 60 s).
pub const CODE_SECS: i64 = 60;
/// Lifetime of access tokens and ID tokens.
pub const ACCESS_TOKEN_SECS: i64 = 300;
/// Ended requests, codes and `jti`s deleted (per table, at most) on the way of each pushed
/// request and each authorization request.
pub const PURGE_BATCH: u32 = 100;
/// The `request_uri` prefix of RFC 9126.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// An answer sent to the client's redirect URI (the door builds the URL: `redirect_uri` with
/// `params` added to its query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRedirect {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// `code`, `state`, `iss`, or `error`, `error_description`, `state`, `iss`.
    pub params: Vec<(&'static str, String)>,
}

/// A refused authorization request: shown on a page, or sent back to the client.
#[derive(Debug, Clone)]
pub enum AuthzRefusal {
    /// A page with this error (unknown client, redirect URI, used or expired request).
    Page(Error),
    /// Back to the client.
    Redirect(ClientRedirect),
}

/// A pushed request's answer (RFC 9126 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    /// Where the authorization request refers to it.
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: i64,
}

/// What the authorization endpoint does next with a pending request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The customer must log in (again) on the hosted pages, then come back.
    Login {
        /// The login ID to fill in (`login_hint`).
        login_hint: Option<String>,
        /// The language the client asked for (`ja`, `en`).
        ui_locale: Option<String>,
        /// Only a passkey meets the request (it asks for the phishing-resistant level only):
        /// the pages ask for a passkey first, and say how to register one.
        passkey: bool,
    },
    /// Done: 303 to the client.
    Redirect(ClientRedirect),
    /// The customer must consent first (a client that is not first party).
    Consent(super::consent::ConsentPrompt),
    /// The customer must confirm the requested operation (`authorization_details`) on the
    /// step-up page of this request ID, which comes back.
    StepUp(String),
}

/// The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    /// The access token (a JWT, RFC 9068).
    pub access_token: String,
    /// `DPoP` for a DPoP-bound access token, else `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The ID token.
    pub id_token: String,
    /// The refresh token (clients registered with the `refresh_token` grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope.
    pub scope: String,
    /// The operation the customer confirmed (RFC 9396 §7), as granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<serde_json::Value>,
}

/// The claims UserInfo answers (OpenID Connect Core §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The subject, as in the ID token.
    pub sub: String,
    /// `profile`: the display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `profile`: the login's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `email`: the registered address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email`: whether the firm verified it (operators register it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// `login_id`: the login ID (it can change; `sub` does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
}

pub(crate) fn hash(handle: &str) -> String {
    token::hash(handle)
}

/// Records a refusal naming the client (and the login, when known).
pub(crate) async fn refused(
    state: &App,
    client_id: &str,
    login_id: Option<&str>,
    client: &ClientInfo,
    what: &str,
    e: &OAuthError,
) -> Result<(), AppError> {
    let ev = state.event(
        EventType::OidcRefused,
        login_id,
        Actor::SelfService,
        client,
        format!(
            "client {client_id}: {what} refused: {} ({})",
            e.error, e.description
        ),
    );
    state.store.append_audit(&ev).await?;
    Ok(())
}

pub(crate) fn to_client(r: &AuthRequest, e: &OAuthError, iss: String) -> ClientRedirect {
    let mut params = vec![
        ("error", e.error.to_owned()),
        ("error_description", e.description.clone()),
    ];
    if let Some(s) = &r.state {
        params.push(("state", s.clone()));
    }
    params.push(("iss", iss));
    ClientRedirect {
        redirect_uri: r.redirect_uri.clone(),
        params,
    }
}

/// Where a refusal of an unchecked request goes: `redirect_uri` (known to be the client's),
/// with the request's `state` if it sent one.
fn answer_to(c: &Client, params: &Params, redirect_uri: &str) -> AuthRequest {
    AuthRequest {
        client_id: c.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: String::new(),
        state: single(params, "state").ok().flatten().map(str::to_owned),
        nonce: None,
        code_challenge: String::new(),
        prompt_none: false,
        prompt_login: false,
        prompt_consent: false,
        max_age: None,
        login_hint: None,
        ui_locale: None,
        acr_values: Vec::new(),
        acr_essential: false,
        dpop_jkt: None,
        authorization_details: None,
        sessions_before: None,
    }
}

/// Whether the client must push its requests (FAPI 2.0 clients always).
fn requires_par(c: &Client) -> bool {
    c.metadata.profile == Profile::Fapi2 || c.metadata.require_pushed_authorization_requests
}

/// Authenticates the client at a back-channel endpoint (`audiences`: the issuer and the
/// endpoint's URL); a refusal is audited under the client ID the request named. Every door
/// that authenticates clients (PAR, token, introspection, revocation) comes through here, so
/// an address that spent its failures is refused before its credentials are looked at, and
/// each failure counts (`crate::throttle::oidc_address_may_try`).
async fn authenticated(
    state: &App,
    creds: &Credentials,
    audiences: &[&str],
    client: &ClientInfo,
    what: &str,
) -> Result<Result<Client, OAuthError>, AppError> {
    let (c, jti) = match authenticated_unrecorded(state, creds, audiences, client, what).await? {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(jti) = jti {
        if !client_auth::record_jti(state, &jti).await? {
            let e = client_auth::replayed();
            auth_refused(state, creds, client, what, &e).await?;
            return Ok(Err(e));
        }
    }
    Ok(Ok(c))
}

/// [`authenticated`] but the assertion's `jti`, which comes back to be used with the request's
/// other writes (see [`client_auth::authenticate`]).
async fn authenticated_unrecorded(
    state: &App,
    creds: &Credentials,
    audiences: &[&str],
    client: &ClientInfo,
    what: &str,
) -> Result<Result<(Client, Option<JtiUse>), OAuthError>, AppError> {
    crate::throttle::oidc_address_may_try(state, client).await?;
    match client_auth::authenticate(state, creds, audiences).await? {
        Ok(v) => Ok(Ok(v)),
        Err(e) => {
            auth_refused(state, creds, client, what, &e).await?;
            Ok(Err(e))
        }
    }
}

/// A failed client authentication: counted against the address, and recorded.
async fn auth_refused(
    state: &App,
    creds: &Credentials,
    client: &ClientInfo,
    what: &str,
    e: &OAuthError,
) -> Result<(), AppError> {
    crate::throttle::oidc_auth_failed(state, client).await?;
    let named = creds
        .client_id
        .clone()
        .or_else(|| creds.basic.as_ref().map(|(id, _)| id.clone()))
        .unwrap_or_default();
    refused(state, &named, None, client, what, e).await
}

/// PAR (RFC 9126): authenticates the client, checks the request and keeps it for
/// [`PAR_SECS`]; `par_url` is this endpoint's URL (an accepted assertion audience).
pub async fn push(
    state: &App,
    creds: &Credentials,
    params: &Params,
    dpop_proof: Option<&str>,
    par_url: &str,
    client: &ClientInfo,
) -> Result<Result<Pushed, OAuthError>, AppError> {
    let iss = issuer(state);
    let c = match authenticated(state, creds, &[&iss, par_url], client, "pushed request").await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    crate::throttle::oidc_client(state, &c.client_id).await?;
    let checked = match single(params, "request_uri") {
        Err(e) => Err(e),
        Ok(Some(_)) => Err(OAuthError::request("request_uri cannot be pushed")),
        Ok(None) => match request::check(
            &c.client_id,
            &c.metadata,
            params,
            &state.settings.oidc.acr_values,
        ) {
            Ok(r) => Ok(r),
            Err(Refusal::RedirectUriNotRegistered) => Err(OAuthError::request(
                "redirect_uri is missing or not registered for this client",
            )),
            Err(Refusal::ToClient(e)) => Err(e),
        },
    };
    // A DPoP proof at PAR binds the code to its key (RFC 9449 §10.1), like `dpop_jkt`.
    let checked = match (checked, dpop_proof) {
        (Ok(mut r), Some(p)) => {
            let expect = dpop::Expect {
                method: "POST",
                url: par_url,
                access_token: None,
            };
            match dpop::check(state, p, expect).await? {
                Ok(jkt) if r.dpop_jkt.as_ref().is_none_or(|j| *j == jkt) => {
                    r.dpop_jkt = Some(jkt);
                    Ok(r)
                }
                Ok(_) => Err(OAuthError::new(
                    dpop::INVALID,
                    "DPoP proof: its key is not dpop_jkt",
                )),
                Err(e) => Err(e),
            }
        }
        (checked, _) => checked,
    };
    let r = match checked {
        Ok(r) => r,
        Err(e) => {
            refused(state, &c.client_id, None, client, "pushed request", &e).await?;
            return Ok(Err(e));
        }
    };
    let now = state.clock.now();
    state.store.purge_oidc_grants(now, PURGE_BATCH).await?;
    state.store.purge_token_grants(now, PURGE_BATCH).await?;
    let request_uri = format!(
        "{REQUEST_URI_PREFIX}{}",
        token::generate("skpr", state.rng.as_ref())
    );
    state
        .store
        .create_oidc_request(&NewOidcRequest {
            handle_hash: hash(&request_uri),
            kind: RequestKind::Pushed,
            client_id: c.client_id.clone(),
            params: serde_json::to_string(&r).map_err(|_| Error::Internal)?,
            created_at: now,
            expires_at: now.plus_secs(PAR_SECS),
        })
        .await?;
    Ok(Ok(Pushed {
        request_uri,
        expires_in: PAR_SECS,
    }))
}

/// The authorization endpoint: checks the request (or takes the pushed one it names, once) and
/// keeps it, pending, for the customer's login; answers the pending request's handle, which the
/// door carries through the hosted pages and gives to [`resume`].
pub async fn start(
    state: &App,
    params: &Params,
    client: &ClientInfo,
) -> Result<Result<String, AuthzRefusal>, AppError> {
    let page = |e: Error| Ok(Err(AuthzRefusal::Page(e)));
    let client_id = single(params, "client_id")
        .ok()
        .flatten()
        .unwrap_or_default();
    let known = match clients::get(state, client_id).await {
        Ok(c) if !c.disabled => Some(c),
        Ok(_) => None,
        Err(e) if e.error == Error::OidcClientNotFound => None,
        Err(e) => return Err(e),
    };
    let Some(c) = known else {
        let e = OAuthError::new("invalid_client", "unknown or disabled client");
        let named: String = client_id.chars().take(64).collect();
        refused(state, &named, None, client, "authorization", &e).await?;
        return page(Error::OidcClientUnknown);
    };
    let now = state.clock.now();
    state.store.purge_oidc_grants(now, PURGE_BATCH).await?;
    state.store.purge_token_grants(now, PURGE_BATCH).await?;
    let r = match single(params, "request_uri") {
        Ok(Some(uri)) => {
            let taken = state
                .store
                .take_oidc_request(&hash(uri), RequestKind::Pushed, now)
                .await?;
            let Some(taken) = taken.filter(|t| t.client_id == c.client_id) else {
                let e = OAuthError::new("invalid_request_uri", "unknown, used or expired");
                refused(state, &c.client_id, None, client, "authorization", &e).await?;
                return page(Error::OidcRequestUnusable);
            };
            serde_json::from_str::<AuthRequest>(&taken.params).map_err(|_| Error::Internal)?
        }
        // A client that must push its requests is refused before anything else is read
        // (and before any login form): back to it if the redirect URI is its own.
        Ok(None) if requires_par(&c) => {
            let e = OAuthError::request("this client must push its requests (PAR)");
            refused(state, &c.client_id, None, client, "authorization", &e).await?;
            let own = single(params, "redirect_uri")
                .ok()
                .flatten()
                .filter(|r| request::redirect_uri_matches(&c.metadata.redirect_uris, r));
            return Ok(Err(match own {
                Some(r) => {
                    AuthzRefusal::Redirect(to_client(&answer_to(&c, params, r), &e, issuer(state)))
                }
                None => AuthzRefusal::Page(Error::OidcRedirectUriUnregistered),
            }));
        }
        Ok(None) => match request::check(
            &c.client_id,
            &c.metadata,
            params,
            &state.settings.oidc.acr_values,
        ) {
            Err(Refusal::RedirectUriNotRegistered) => {
                let e = OAuthError::request("redirect_uri not registered");
                refused(state, &c.client_id, None, client, "authorization", &e).await?;
                return page(Error::OidcRedirectUriUnregistered);
            }
            Err(Refusal::ToClient(e)) => {
                refused(state, &c.client_id, None, client, "authorization", &e).await?;
                // The redirect URI was found to be the client's before this refusal.
                let r = single(params, "redirect_uri")
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let back = answer_to(&c, params, r);
                return Ok(Err(AuthzRefusal::Redirect(to_client(
                    &back,
                    &e,
                    issuer(state),
                ))));
            }
            Ok(r) => r,
        },
        Err(e) => {
            refused(state, &c.client_id, None, client, "authorization", &e).await?;
            return page(Error::OidcRequestUnusable);
        }
    };
    let r = AuthRequest {
        sessions_before: Some(state.store.newest_session_id().await?),
        ..r
    };
    let handle = token::generate("skar", state.rng.as_ref());
    state
        .store
        .create_oidc_request(&NewOidcRequest {
            handle_hash: hash(&handle),
            kind: RequestKind::Pending,
            client_id: c.client_id.clone(),
            params: serde_json::to_string(&r).map_err(|_| Error::Internal)?,
            created_at: now,
            expires_at: now.plus_secs(PENDING_SECS),
        })
        .await?;
    Ok(Ok(handle))
}

/// The level and methods a session proves, from the methods it stored at login
/// ([`sekisho_core::flow::Done::session_methods`]): a familiar browser (`device`) proves no
/// second factor.
pub fn proven(methods: &[String]) -> (Acr, Vec<Amr>) {
    let has = |m: &str| methods.iter().any(|x| x == m);
    let mut amr = Vec::new();
    if has("pwd") {
        amr.push(Amr::Pwd);
    }
    let acr = if has("passkey") {
        amr.extend([Amr::Hwk, Amr::User]);
        Acr::PhishingResistant
    } else if has("otp") || has("email") || has("recovery_code") {
        amr.push(Amr::Otp);
        Acr::MultiFactor
    } else {
        Acr::Password
    };
    if acr != Acr::Password {
        amr.push(Amr::Mfa);
    }
    (acr, amr)
}

/// The `acr` value a relying party reads for a level (`oidc.acr_values.*`).
pub fn acr_value(names: &AcrNames, acr: Acr) -> &str {
    names.of(acr)
}

/// Whether the session may answer the request without a new login.
fn satisfies(
    names: &AcrNames,
    r: &AuthRequest,
    created_at: Timestamp,
    s: &Session,
    now: Timestamp,
) -> bool {
    if s.purpose != SessionPurpose::Full || s.revoked_at.is_some() || now >= s.expires_at {
        return false;
    }
    if r.prompt_login && !began_after(r, created_at, s) {
        return false;
    }
    if r.max_age.is_some_and(|m| now.0 - s.created_at.0 > m) {
        return false;
    }
    // Voluntary levels: one new login is asked for when the session proves none of them; what
    // that login proves is then what the ID token says. An essential level must be proven.
    if !proves_level(names, r, s) && (r.acr_essential || !began_after(r, created_at, s)) {
        return false;
    }
    true
}

/// Whether session `s` began after the request (made at `created_at`): by session ID when the
/// request noted the newest one ([`AuthRequest::sessions_before`]), else by time, where a
/// session of the same second counts as after.
fn began_after(r: &AuthRequest, created_at: Timestamp, s: &Session) -> bool {
    match r.sessions_before {
        Some(last) => s.id > last,
        None => s.created_at >= created_at,
    }
}

/// Whether the session proves one of the levels the request asks for (any, if it asks none).
fn proves_level(names: &AcrNames, r: &AuthRequest, s: &Session) -> bool {
    let (acr, _) = proven(&s.methods);
    r.acr_values.is_empty() || r.acr_values.iter().any(|a| a == acr_value(names, acr))
}

/// The refusal of a request whose essential level the customer's login did not prove.
fn unmet() -> OAuthError {
    OAuthError::new(
        "unmet_authentication_requirements",
        "the customer did not authenticate at the essential acr level",
    )
}

/// Continues a pending request with the customer's Sekisho session (if the browser has one):
/// asks for a login when there is none or it does not satisfy the request (`prompt=login`,
/// `max_age`, `acr_values`), else issues the code (once) and answers the client's redirect.
pub async fn resume(
    state: &App,
    handle: &str,
    session: Option<&Session>,
    client: &ClientInfo,
) -> Result<Result<Next, AuthzRefusal>, AppError> {
    resume_with(state, handle, session, client, false).await
}

/// [`resume`]; `consented`: the customer has just consented on the consent page.
pub(crate) async fn resume_with(
    state: &App,
    handle: &str,
    session: Option<&Session>,
    client: &ClientInfo,
    consented: bool,
) -> Result<Result<Next, AuthzRefusal>, AppError> {
    let now = state.clock.now();
    let stored = state
        .store
        .get_oidc_request(&hash(handle), RequestKind::Pending)
        .await?;
    let Some(stored) = stored.filter(|s| s.used_at.is_none() && now < s.request.expires_at) else {
        return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
    };
    let r: AuthRequest =
        serde_json::from_str(&stored.request.params).map_err(|_| Error::Internal)?;
    let iss = issuer(state);
    let created = stored.request.created_at;
    let names = &state.settings.oidc.acr_values;
    let Some(s) = session.filter(|s| satisfies(names, &r, created, s, now)) else {
        // The customer logged in for this request and still proves no essential level: told
        // to the client, never a lower level and never a loop of login pages.
        let logged_in_for_it = session.filter(|s| {
            began_after(&r, created, s)
                && satisfies(
                    names,
                    &AuthRequest {
                        acr_essential: false,
                        ..r.clone()
                    },
                    created,
                    s,
                    now,
                )
        });
        if let Some(s) = logged_in_for_it.filter(|s| !proves_level(names, &r, s)) {
            return end_refused(state, handle, &r, Some(&s.login_id), client, unmet()).await;
        }
        if r.prompt_none {
            let e = OAuthError::new("login_required", "the customer must log in");
            refused(state, &r.client_id, None, client, "authorization", &e).await?;
            return Ok(Err(AuthzRefusal::Redirect(to_client(&r, &e, iss))));
        }
        return Ok(Ok(Next::Login {
            login_hint: r.login_hint.clone(),
            ui_locale: r.ui_locale.clone(),
            passkey: r.wants_passkey(names),
        }));
    };
    let c = match clients::get(state, &r.client_id).await {
        Ok(c) if !c.disabled => c,
        Ok(_) => return Ok(Err(AuthzRefusal::Page(Error::OidcClientUnknown))),
        Err(e) if e.error == Error::OidcClientNotFound => {
            return Ok(Err(AuthzRefusal::Page(Error::OidcClientUnknown)))
        }
        Err(e) => return Err(e),
    };
    if !consented && super::consent::needed(state, &c, &r, s.login_pk).await? {
        if r.prompt_none {
            let e = OAuthError::new("consent_required", "the customer must consent");
            refused(
                state,
                &r.client_id,
                Some(&s.login_id),
                client,
                "authorization",
                &e,
            )
            .await?;
            return Ok(Err(AuthzRefusal::Redirect(to_client(&r, &e, iss))));
        }
        return Ok(Ok(Next::Consent(super::consent::prompt(&c, &r, handle))));
    }
    // The operation (RFC 9396) is confirmed on the step-up page, after the login and consent.
    let granted = match &r.authorization_details {
        None => None,
        Some(op) => match rar::confirmation(state, handle, &r, op, s, &c, client).await? {
            rar::Confirmation::Ask(_) if r.prompt_none => {
                let e = OAuthError::new(
                    "interaction_required",
                    "the customer must confirm the operation of authorization_details",
                );
                return end_refused(state, handle, &r, Some(&s.login_id), client, e).await;
            }
            rar::Confirmation::Ask(id) => return Ok(Ok(Next::StepUp(id))),
            rar::Confirmation::Refused => {
                let e = OAuthError::new(
                    "access_denied",
                    "the customer did not confirm the operation",
                );
                return end_refused(state, handle, &r, Some(&s.login_id), client, e).await;
            }
            rar::Confirmation::Confirmed(method, at) => {
                Some((op.granted(method, at), op.summary(), method))
            }
        },
    };
    // Recorded with the code, so that no client holds a code of a session whose end it would
    // not hear of, and no sign-in is recorded for a code that was never issued.
    let sign_in = SessionSignIn {
        session_id: s.id,
        client_id: c.client_id.clone(),
        login_pk: s.login_pk,
        sid: sid(state, s.id),
        backchannel: c.metadata.backchannel_logout_uri.is_some(),
        first_at: now,
        last_at: now,
    };
    let (acr, amr) = proven(&s.methods);
    let code = token::generate("skac", state.rng.as_ref());
    let new = NewOidcCode {
        code_hash: hash(&code),
        client_id: r.client_id.clone(),
        redirect_uri: r.redirect_uri.clone(),
        code_challenge: r.code_challenge.clone(),
        nonce: r.nonce.clone(),
        scope: r.scope.clone(),
        login_pk: s.login_pk,
        session_id: Some(s.id),
        auth_time: s.created_at,
        acr: acr_value(names, acr).to_owned(),
        amr: amr.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" "),
        dpop_jkt: r.dpop_jkt.clone(),
        authorization_details: granted.as_ref().map(|(g, _, _)| g.to_string()),
        created_at: now,
        expires_at: now.plus_secs(CODE_SECS),
    };
    let ev = state.event(
        EventType::OidcAuthorized,
        Some(&s.login_id),
        Actor::SelfService,
        client,
        format!(
            "client {}: authorized ({}, scope {}{})",
            r.client_id,
            acr_value(names, acr),
            r.scope,
            granted
                .as_ref()
                .map(|(_, op, m)| format!(", operation {op} confirmed with {}", m.as_str()))
                .unwrap_or_default()
        ),
    );
    if !state
        .store
        .issue_oidc_code(&hash(handle), &new, Some(&sign_in), &ev)
        .await?
    {
        return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
    }
    let mut params = vec![("code", code)];
    if let Some(st) = &r.state {
        params.push(("state", st.clone()));
    }
    params.push(("iss", iss));
    Ok(Ok(Next::Redirect(ClientRedirect {
        redirect_uri: r.redirect_uri,
        params,
    })))
}

/// Whether the pending request behind `handle` asks only for the phishing-resistant level:
/// the login pages then ask for a passkey, skip no second factor for a familiar browser, and
/// offer no codes instead. False for an unknown, used or expired request (the resume page
/// says so itself).
pub async fn wants_passkey(state: &App, handle: &str) -> bool {
    let now = state.clock.now();
    let Ok(Some(stored)) = state
        .store
        .get_oidc_request(&hash(handle), RequestKind::Pending)
        .await
    else {
        return false;
    };
    stored.used_at.is_none()
        && now < stored.request.expires_at
        && serde_json::from_str::<AuthRequest>(&stored.request.params)
            .is_ok_and(|r| r.wants_passkey(&state.settings.oidc.acr_values))
}

/// The customer gave up on the login pages ("back to the app"): the pending request is used
/// and the client learns `access_denied`, or `unmet_authentication_requirements` when it asked
/// for an essential level.
pub async fn cancel(
    state: &App,
    handle: &str,
    client: &ClientInfo,
) -> Result<Result<Next, AuthzRefusal>, AppError> {
    let now = state.clock.now();
    let Some(stored) = state
        .store
        .get_oidc_request(&hash(handle), RequestKind::Pending)
        .await?
        .filter(|s| s.used_at.is_none() && now < s.request.expires_at)
    else {
        return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
    };
    let r: AuthRequest =
        serde_json::from_str(&stored.request.params).map_err(|_| Error::Internal)?;
    let e = if r.acr_essential {
        unmet()
    } else {
        OAuthError::new("access_denied", "the customer cancelled the login")
    };
    end_refused(state, handle, &r, None, client, e).await
}

/// Uses the pending request and sends `e` to the client (audited).
async fn end_refused(
    state: &App,
    handle: &str,
    r: &AuthRequest,
    login_id: Option<&str>,
    client: &ClientInfo,
    e: OAuthError,
) -> Result<Result<Next, AuthzRefusal>, AppError> {
    let now = state.clock.now();
    if state
        .store
        .take_oidc_request(&hash(handle), RequestKind::Pending, now)
        .await?
        .is_none()
    {
        return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
    }
    refused(state, &r.client_id, login_id, client, "authorization", &e).await?;
    Ok(Err(AuthzRefusal::Redirect(to_client(r, &e, issuer(state)))))
}

#[cfg(test)]
#[path = "grants_tests.rs"]
mod tests;
