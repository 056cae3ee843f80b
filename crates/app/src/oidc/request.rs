//! The authorization request (OpenID Connect Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636, RFC 9126)
//! checked against the client's registration: what may be asked, and which mistakes go back to
//! the client and which are shown on a page (an unknown client or a redirect URI that is not
//! registered is never redirected to).

use super::metadata::ClientMetadata;
use super::AcrNames;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A protocol refusal (RFC 6749 §4.1.2.1 / §5.2, RFC 9126 §2.3): the registered error code and
/// a description for the client's developers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, …
    pub error: &'static str,
    /// What was wrong (ASCII, for developers).
    pub description: String,
}

impl OAuthError {
    /// A refusal with `error` and `description`.
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn request(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }

    /// `invalid_client` (answered with 401).
    pub fn client(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_client", description)
    }

    /// `invalid_grant`.
    pub fn grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", description)
    }

    /// The HTTP status of a JSON answer carrying it (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" | "invalid_token" => 401,
            "insufficient_scope" => 403,
            _ => 400,
        }
    }
}

/// A request's parameters as sent (form or query), in order.
pub type Params = [(String, String)];

/// The one value of parameter `name`, if sent; a parameter sent twice is `invalid_request`
/// (RFC 6749 §3.1), and an empty one counts as absent.
pub fn single<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    let mut found = params.iter().filter(|(k, _)| k == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(OAuthError::request(format!("{name} is repeated")));
    }
    Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
}

/// A checked authorization request: what the customer's login must satisfy and what the code
/// is bound to. Stored (as JSON) with a pushed or pending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// The registered redirect URI the answer goes to.
    pub redirect_uri: String,
    /// The requested scope (`openid` and others the client registered), space separated.
    pub scope: String,
    /// The client's `state`, returned unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The client's `nonce`, put into the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// `prompt=none`: no page may be shown.
    #[serde(default)]
    pub prompt_none: bool,
    /// `prompt=login`: the customer must log in again, whatever the session.
    #[serde(default)]
    pub prompt_login: bool,
    /// `prompt=consent`: the consent page is shown even if the customer consented before.
    #[serde(default)]
    pub prompt_consent: bool,
    /// `max_age`: the last real authentication must be at most this old (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// `login_hint`: the login ID to fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The first of `ui_locales` the pages speak (`ja`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locale: Option<String>,
    /// The requested `acr_values` Sekisho knows, in the client's order (from `acr_values`, or
    /// from the `claims` parameter's `id_token.acr`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
    /// The `claims` parameter marked `acr` essential: a login that proves none of
    /// `acr_values` is `unmet_authentication_requirements`, never a lower level.
    #[serde(default)]
    pub acr_essential: bool,
    /// `dpop_jkt` (RFC 9449 §10): the thumbprint of the DPoP key the code is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// `authorization_details` (RFC 9396): the operation the customer is to confirm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<super::rar::Operation>,
    /// The newest Sekisho session's ID when the authorization endpoint took the request: a
    /// session with a larger ID began after it (IDs only grow), which times in seconds cannot
    /// tell for a session of the same second. Unset while the request is checked, and in
    /// requests stored before it was noted (then the times decide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_before: Option<i64>,
}

impl AuthRequest {
    /// Whether only a passkey meets the request: every level it asks for is the
    /// phishing-resistant one. The login pages then ask for a passkey first.
    pub fn wants_passkey(&self, names: &AcrNames) -> bool {
        !self.acr_values.is_empty()
            && self
                .acr_values
                .iter()
                .all(|a| *a == names.phishing_resistant)
    }
}

/// The `acr` request of the `claims` parameter (OpenID Connect Core §5.5, §5.5.1.1): the values
/// of `id_token.acr` (`value` or `values`) Sekisho knows, and whether it is essential. Other
/// claims requested there are voluntary and released by scope as usual.
fn claims_acr(claims: &str, names: &AcrNames) -> Result<(Vec<String>, bool), OAuthError> {
    let bad = || OAuthError::request("claims must be a JSON object (OpenID Connect Core 5.5)");
    let v: serde_json::Value = serde_json::from_str(claims).map_err(|_| bad())?;
    if !v.is_object() {
        return Err(bad());
    }
    let Some(acr) = v.get("id_token").and_then(|t| t.get("acr")) else {
        return Ok((Vec::new(), false));
    };
    if acr.is_null() {
        return Ok((Vec::new(), false));
    }
    let essential = acr.get("essential").and_then(|e| e.as_bool()) == Some(true);
    let mut asked: Vec<&str> = Vec::new();
    if let Some(one) = acr.get("value").and_then(|x| x.as_str()) {
        asked.push(one);
    }
    if let Some(many) = acr.get("values").and_then(|x| x.as_array()) {
        asked.extend(many.iter().filter_map(|x| x.as_str()));
    }
    let known: Vec<String> = asked
        .into_iter()
        .filter(|a| names.knows(a))
        .map(str::to_owned)
        .collect();
    if essential && known.is_empty() {
        return Err(OAuthError::new(
            "unmet_authentication_requirements",
            "the essential acr asks for no level this provider offers",
        ));
    }
    Ok((known, essential))
}

/// Where a mistake in an authorization request is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// On a page (the redirect URI is missing or not the client's): never redirected.
    RedirectUriNotRegistered,
    /// Back to the client at its redirect URI.
    ToClient(OAuthError),
}

/// Longest `state` and `nonce` accepted (OpenID Connect asks for at least 64 characters of
/// `nonce`; FAPI clients send 43).
pub const MAX_STATE_LEN: usize = 1024;

/// Whether `given` is one of `registered`: the same string, or for a native app's loopback
/// redirect (`http://127.0.0.1/…`, `http://[::1]/…`) the same URI on any port (RFC 8252 §7.3).
pub fn redirect_uri_matches(registered: &[String], given: &str) -> bool {
    registered
        .iter()
        .any(|r| r == given || loopback_match(r, given))
}

fn loopback_match(registered: &str, given: &str) -> bool {
    let (Ok(r), Ok(g)) = (url::Url::parse(registered), url::Url::parse(given)) else {
        return false;
    };
    let loopback =
        |u: &url::Url| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]"));
    loopback(&r)
        && loopback(&g)
        && r.host_str() == g.host_str()
        && r.path() == g.path()
        && r.query() == g.query()
        && g.fragment().is_none()
        && g.username().is_empty()
        && g.password().is_none()
}

/// The `S256` challenge of a PKCE verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is a well-formed PKCE verifier (43 to 128 unreserved characters) whose
/// `S256` challenge is `challenge`.
pub fn pkce_verifies(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && sekisho_core::secret_box::SecretBox::hashes_equal(&s256(verifier), challenge)
}

fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an authorization request's parameters against the client's registration (`acr`:
/// the configured level values). The redirect URI is checked first: until it is known to be
/// the client's, nothing is redirected.
pub fn check(
    client_id: &str,
    m: &ClientMetadata,
    params: &Params,
    acr: &AcrNames,
) -> Result<AuthRequest, Refusal> {
    let redirect_uri = match single(params, "redirect_uri") {
        Ok(Some(r)) if redirect_uri_matches(&m.redirect_uris, r) => r.to_owned(),
        // OpenID Connect requires the parameter; a single registered URI is not assumed.
        _ => return Err(Refusal::RedirectUriNotRegistered),
    };
    check_rest(client_id, m, params, redirect_uri, acr).map_err(Refusal::ToClient)
}

fn check_rest(
    client_id: &str,
    m: &ClientMetadata,
    params: &Params,
    redirect_uri: String,
    acr: &AcrNames,
) -> Result<AuthRequest, OAuthError> {
    let get = |name: &str| single(params, name);
    if get("request")?.is_some() {
        return Err(OAuthError::new(
            "request_not_supported",
            "request objects are not supported; push the request (PAR) instead",
        ));
    }
    match get("response_type")? {
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
        None => return Err(OAuthError::request("response_type is required")),
    }
    if let Some(mode) = get("response_mode")? {
        if mode != "query" {
            return Err(OAuthError::request("only response_mode=query is supported"));
        }
    }
    let scope = get("scope")?.unwrap_or_default();
    let registered: Vec<&str> = m.scope.split_whitespace().collect();
    let mut scopes: Vec<&str> = Vec::new();
    for s in scope.split_whitespace() {
        if s != "openid" && !registered.contains(&s) {
            return Err(OAuthError::new(
                "invalid_scope",
                format!("scope {s} is not registered for this client"),
            ));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !scopes.contains(&"openid") {
        return Err(OAuthError::new(
            "invalid_scope",
            "scope must contain openid",
        ));
    }
    match get("code_challenge_method")? {
        Some("S256") => {}
        Some("plain") => {
            return Err(OAuthError::request(
                "code_challenge_method plain is not allowed; use S256",
            ))
        }
        Some(_) => return Err(OAuthError::request("code_challenge_method must be S256")),
        None => {
            return Err(OAuthError::request(
                "PKCE is required: code_challenge with code_challenge_method=S256",
            ))
        }
    }
    let code_challenge = match get("code_challenge")? {
        Some(c) if is_challenge(c) => c.to_owned(),
        Some(_) => {
            return Err(OAuthError::request(
                "code_challenge must be 43 base64url characters",
            ))
        }
        None => return Err(OAuthError::request("code_challenge is required")),
    };
    let text = |name: &str| -> Result<Option<String>, OAuthError> {
        match get(name)? {
            Some(v) if v.len() > MAX_STATE_LEN || v.chars().any(char::is_control) => Err(
                OAuthError::request(format!("{name} is too long or holds control characters")),
            ),
            v => Ok(v.map(str::to_owned)),
        }
    };
    let state = text("state")?;
    let nonce = text("nonce")?;
    let login_hint = text("login_hint")?;
    let mut prompt_none = false;
    let mut prompt_login = false;
    let mut prompt_consent = false;
    for p in get("prompt")?.unwrap_or_default().split_whitespace() {
        match p {
            "none" => prompt_none = true,
            "login" => prompt_login = true,
            "consent" => prompt_consent = true,
            "select_account" => {}
            _ => return Err(OAuthError::request(format!("prompt {p} is not supported"))),
        }
    }
    if prompt_none && (prompt_login || prompt_consent) {
        return Err(OAuthError::request("prompt=none cannot be combined"));
    }
    let max_age = match get("max_age")? {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(OAuthError::request(
                    "max_age must be a non-negative integer",
                ))
            }
        },
    };
    let ui_locale = get("ui_locales")?.and_then(|l| {
        l.split_whitespace()
            .map(|t| t.split('-').next().unwrap_or_default())
            .find(|t| *t == "ja" || *t == "en")
            .map(str::to_owned)
    });
    // Unknown `acr_values` are ignored (they are voluntary, OpenID Connect Core §3.1.2.1); an
    // essential `acr` of the `claims` parameter takes their place.
    let mut acr_values: Vec<String> = get("acr_values")?
        .unwrap_or_default()
        .split_whitespace()
        .filter(|a| acr.knows(a))
        .map(str::to_owned)
        .collect();
    let (claimed, acr_essential) = match get("claims")? {
        Some(c) => claims_acr(c, acr)?,
        None => (Vec::new(), false),
    };
    if acr_essential || acr_values.is_empty() {
        acr_values = claimed;
    }
    let dpop_jkt = match get("dpop_jkt")? {
        Some(j) if is_challenge(j) => Some(j.to_owned()),
        Some(_) => {
            return Err(OAuthError::request(
                "dpop_jkt must be a SHA-256 JWK thumbprint (43 base64url characters)",
            ))
        }
        None => None,
    };
    let authorization_details = get("authorization_details")?
        .map(super::rar::parse)
        .transpose()?;
    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri,
        scope: scopes.join(" "),
        state,
        nonce,
        code_challenge,
        prompt_none,
        prompt_login,
        prompt_consent,
        max_age,
        login_hint,
        ui_locale,
        acr_values,
        acr_essential,
        dpop_jkt,
        authorization_details,
        sessions_before: None,
    })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
