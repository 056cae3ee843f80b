//! OpenID Connect provider: the discovery document, the signing keys published as a JWK Set,
//! the clients that operators register, PAR, the authorization and token endpoints (codes,
//! refresh tokens, DPoP), UserInfo, introspection and revocation. The discovery document names
//! only endpoints that answer and capabilities that work.

pub mod backchannel;
pub mod client_auth;
pub mod client_keys;
pub mod clients;
pub mod consent;
pub mod dpop;
pub mod grants;
pub mod jwks_uri;
pub mod logout;
pub mod metadata;
pub mod outbox;
pub mod rar;
pub mod request;

use crate::error::AppError;
use crate::keys::{self, Alg, JwkSet};
use crate::state::App;
use sekisho_core::audit::ClientInfo;
use serde::Serialize;

/// `oidc.*`: the OpenID Connect provider.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcSettings {
    /// The issuer; empty: the public URL.
    pub issuer: String,
    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §8).
    pub dpop_nonce: bool,
    /// How far a DPoP proof's `iat` may be from now, either way (seconds).
    pub dpop_iat_window_secs: i64,
    /// Lifetime of refresh tokens (days).
    pub refresh_token_days: i64,
    /// Requests per minute to PAR and the token endpoint, per authenticated client.
    pub client_rate_per_minute: u32,
    /// Requests allowed at once to PAR and the token endpoint, per authenticated client.
    pub client_rate_burst: u32,
    /// Failed client authentications per minute at PAR and the token endpoint, per address.
    pub address_failures_per_minute: u32,
    /// Failed client authentications allowed at once, per address.
    pub address_failures_burst: u32,
    /// Seconds a client's back-channel logout URI has to answer.
    pub backchannel_timeout_secs: u64,
    /// Delivery attempts of a back-channel logout before it is given up (and audited).
    pub backchannel_max_attempts: u32,
    /// Wait before the second attempt; doubled after each further failure.
    pub backchannel_retry_base_secs: i64,
    /// Longest wait between attempts.
    pub backchannel_retry_max_secs: i64,
    /// How often the sender looks for due logouts.
    pub backchannel_poll_interval_ms: u64,
    /// Days a delivered or given-up logout stays in the outbox (its audit records stay).
    pub logout_retain_days: i64,
    /// A PEM file of CA certificates trusted for clients' back-channel logout URIs besides the
    /// public roots (a firm's private CA); empty: the public roots only.
    pub backchannel_ca_file: String,
    /// The `acr` value of each authentication level.
    pub acr_values: AcrNames,
    /// How long a key set fetched from a client's `jwks_uri` is used before it is fetched again.
    pub jwks_cache_secs: i64,
    /// How long fetching a client's `jwks_uri` may take.
    pub jwks_timeout_secs: u64,
}

/// `oidc.acr_values.*`: the `acr` value apps ask for and read for each level (defaults:
/// [`ACR_VALUES`]). Set them before clients rely on them: an app compares them exactly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcrNames {
    /// A password (or a password and a familiar browser).
    pub password: String,
    /// A second factor.
    pub multi_factor: String,
    /// A passkey.
    pub phishing_resistant: String,
}

impl Default for AcrNames {
    fn default() -> Self {
        AcrNames {
            password: ACR_VALUES[0].into(),
            multi_factor: ACR_VALUES[1].into(),
            phishing_resistant: ACR_VALUES[2].into(),
        }
    }
}

impl AcrNames {
    /// The value of a level.
    pub fn of(&self, acr: sekisho_core::flow::Acr) -> &str {
        use sekisho_core::flow::Acr;
        match acr {
            Acr::Password => &self.password,
            Acr::MultiFactor => &self.multi_factor,
            Acr::PhishingResistant => &self.phishing_resistant,
        }
    }

    /// The three values, weakest first.
    pub fn all(&self) -> [&str; 3] {
        [&self.password, &self.multi_factor, &self.phishing_resistant]
    }

    /// Whether `a` is one of the three values.
    pub fn knows(&self, a: &str) -> bool {
        self.all().contains(&a)
    }

    /// Each value non-empty, without spaces (`acr_values` is space separated), and distinct.
    fn check(&self) -> Result<(), String> {
        let all = self.all();
        let bad = all.iter().any(|a| {
            a.is_empty() || a.len() > 255 || a.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        if bad || all[0] == all[1] || all[1] == all[2] || all[0] == all[2] {
            return Err("oidc.acr_values.* must be three distinct values without spaces".into());
        }
        Ok(())
    }
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer: String::new(),
            dpop_nonce: false,
            dpop_iat_window_secs: 60,
            refresh_token_days: 30,
            client_rate_per_minute: 60_000,
            client_rate_burst: 2_000,
            address_failures_per_minute: 60,
            address_failures_burst: 20,
            backchannel_timeout_secs: 5,
            backchannel_max_attempts: 6,
            backchannel_retry_base_secs: 10,
            backchannel_retry_max_secs: 600,
            backchannel_poll_interval_ms: 1000,
            logout_retain_days: 30,
            backchannel_ca_file: String::new(),
            acr_values: AcrNames::default(),
            jwks_cache_secs: 300,
            jwks_timeout_secs: 5,
        }
    }
}

impl OidcSettings {
    /// An issuer given explicitly must be an http(s) URL without a trailing `/`, query or
    /// fragment (OpenID Connect Discovery §3); it is trimmed.
    pub fn check(&mut self) -> Result<(), String> {
        self.issuer = self.issuer.trim().to_owned();
        let i = &self.issuer;
        if !i.is_empty() {
            let rest = i
                .strip_prefix("https://")
                .or_else(|| i.strip_prefix("http://"));
            let ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
                && !i.ends_with('/')
                && !i.contains(['?', '#']);
            if !ok {
                return Err(format!(
                    "oidc.issuer must be an https URL without a trailing /, query or fragment, not {i:?}"
                ));
            }
        }
        if !(1..=600).contains(&self.dpop_iat_window_secs) {
            return Err("oidc.dpop_iat_window_secs must be between 1 and 600".into());
        }
        if !(1..=3650).contains(&self.logout_retain_days) {
            return Err("oidc.logout_retain_days must be between 1 and 3650".into());
        }
        if !(1..=3650).contains(&self.refresh_token_days) {
            return Err("oidc.refresh_token_days must be between 1 and 3650".into());
        }
        if [
            self.client_rate_per_minute,
            self.client_rate_burst,
            self.address_failures_per_minute,
            self.address_failures_burst,
        ]
        .contains(&0)
        {
            return Err("oidc.client_rate_per_minute, oidc.client_rate_burst, oidc.address_failures_per_minute and oidc.address_failures_burst must be at least 1".into());
        }
        if self.backchannel_max_attempts == 0
            || self.backchannel_retry_base_secs < 1
            || self.backchannel_retry_max_secs < self.backchannel_retry_base_secs
        {
            return Err("oidc.backchannel_max_attempts must be at least 1 and 1 <= oidc.backchannel_retry_base_secs <= oidc.backchannel_retry_max_secs".into());
        }
        self.acr_values.check()?;
        if !(10..=86_400).contains(&self.jwks_cache_secs)
            || !(1..=60).contains(&self.jwks_timeout_secs)
        {
            return Err(
                "oidc.jwks_cache_secs must be 10 to 86400 and oidc.jwks_timeout_secs 1 to 60"
                    .into(),
            );
        }
        if self.backchannel_timeout_secs == 0 || self.backchannel_poll_interval_ms == 0 {
            return Err(
                "oidc.backchannel_timeout_secs and oidc.backchannel_poll_interval_ms must be positive"
                    .into(),
            );
        }
        Ok(())
    }

    /// The rate of PAR and token requests per authenticated client.
    pub fn client_rate(&self) -> sekisho_core::throttle::Rate {
        sekisho_core::throttle::Rate {
            per_minute: self.client_rate_per_minute,
            burst: self.client_rate_burst,
        }
    }

    /// The rate of failed client authentications per client address.
    pub fn address_failures(&self) -> sekisho_core::throttle::Rate {
        sekisho_core::throttle::Rate {
            per_minute: self.address_failures_per_minute,
            burst: self.address_failures_burst,
        }
    }
}

/// Where the JWK Set is served (relative to the public URL).
pub const JWKS_PATH: &str = "/oidc/jwks";
/// Where the discovery document is served.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The authorization endpoint (a page door).
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
/// Where a pending authorization request continues after the login and step-up pages.
pub const RESUME_PATH: &str = "/oidc/authorize/resume";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oidc/token";
/// The pushed authorization request endpoint (RFC 9126).
pub const PAR_PATH: &str = "/oidc/par";
/// The UserInfo endpoint.
pub const USERINFO_PATH: &str = "/oidc/userinfo";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECT_PATH: &str = "/oidc/introspect";
/// The revocation endpoint (RFC 7009).
pub const REVOKE_PATH: &str = "/oidc/revoke";
/// The end-session endpoint (RP-initiated logout; a page door).
pub const LOGOUT_PATH: &str = "/oidc/logout";

/// The scopes a client may register and request: the OpenID Connect ones and `login_id`, which
/// releases the customer's login ID (never the `sub`, since a login ID can change).
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access", "login_id"];

/// The claims ID tokens and UserInfo will carry.
pub const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "azp",
    "name",
    "email",
    "email_verified",
    "locale",
    "login_id",
];

/// The default `acr` values of the authentication levels apps ask for and read: password only,
/// multi-factor and phishing-resistant (a passkey), weakest first (`oidc.acr_values.*`).
pub const ACR_VALUES: &[&str] = &[
    "urn:sekisho:acr:password",
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
    "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant",
];

/// Algorithms clients may use to sign what they send (`private_key_jwt` assertions, DPoP
/// proofs): the FAPI 2.0 ones.
pub const CLIENT_SIGNING_ALGS: &[Alg] = &[Alg::EdDSA, Alg::ES256, Alg::PS256];

/// The issuer identifier: `oidc.issuer`, else the public URL without a trailing `/`.
pub fn issuer(state: &App) -> String {
    let s = &state.settings;
    if s.oidc.issuer.is_empty() {
        s.public_url.trim_end_matches('/').to_owned()
    } else {
        s.oidc.issuer.clone()
    }
}

/// The OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): only endpoints
/// that answer today, and only capabilities that work today (a relying party acts on what is
/// advertised: DPoP, refresh tokens, the `claims` parameter and back-channel logout appear here
/// when they are built).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub pushed_authorization_request_endpoint: String,
    pub userinfo_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub end_session_endpoint: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub require_pushed_authorization_requests: bool,
    pub authorization_response_iss_parameter_supported: bool,
    pub claims_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub acr_values_supported: Vec<String>,
    pub ui_locales_supported: Vec<&'static str>,
    pub claims_locales_supported: Vec<&'static str>,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub authorization_details_types_supported: Vec<&'static str>,
}

/// The discovery document of this provider.
pub fn discovery(state: &App) -> Discovery {
    let base = state.settings.public_url.trim_end_matches('/');
    let names = |algs: &[Alg]| algs.iter().map(|a| a.as_str()).collect::<Vec<_>>();
    let methods: Vec<&'static str> = metadata::AuthMethod::ALL
        .iter()
        .map(|m| m.as_str())
        .collect();
    // A resource server authenticates itself: `none` is no authentication.
    let confidential: Vec<&'static str> =
        methods.iter().copied().filter(|m| *m != "none").collect();
    Discovery {
        issuer: issuer(state),
        jwks_uri: format!("{base}{JWKS_PATH}"),
        authorization_endpoint: format!("{base}{AUTHORIZE_PATH}"),
        token_endpoint: format!("{base}{TOKEN_PATH}"),
        pushed_authorization_request_endpoint: format!("{base}{PAR_PATH}"),
        userinfo_endpoint: format!("{base}{USERINFO_PATH}"),
        introspection_endpoint: format!("{base}{INTROSPECT_PATH}"),
        revocation_endpoint: format!("{base}{REVOKE_PATH}"),
        end_session_endpoint: format!("{base}{LOGOUT_PATH}"),
        scopes_supported: SCOPES.to_vec(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec![
            metadata::GrantType::AuthorizationCode.as_str(),
            metadata::GrantType::RefreshToken.as_str(),
        ],
        subject_types_supported: vec!["public", "pairwise"],
        id_token_signing_alg_values_supported: names(&Alg::ALL),
        token_endpoint_auth_methods_supported: methods.clone(),
        token_endpoint_auth_signing_alg_values_supported: names(CLIENT_SIGNING_ALGS),
        introspection_endpoint_auth_methods_supported: confidential.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: names(CLIENT_SIGNING_ALGS),
        // Public clients revoke their own tokens (RFC 7009 §2.1).
        revocation_endpoint_auth_methods_supported: methods,
        revocation_endpoint_auth_signing_alg_values_supported: names(CLIENT_SIGNING_ALGS),
        dpop_signing_alg_values_supported: dpop::ALGS.to_vec(),
        code_challenge_methods_supported: vec!["S256"],
        // Per client instead: `fapi2` clients and those registered with it must use PAR.
        require_pushed_authorization_requests: false,
        authorization_response_iss_parameter_supported: true,
        claims_supported: CLAIMS.to_vec(),
        // `claims` (its essential `acr`) is not read yet.
        claims_parameter_supported: true,
        acr_values_supported: (state.settings.oidc.acr_values.all().iter())
            .map(|a| a.to_string())
            .collect(),
        ui_locales_supported: vec!["ja", "en"],
        claims_locales_supported: vec!["ja", "en"],
        // Logout tokens always carry `sid` as well as `sub`.
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        authorization_details_types_supported: vec![rar::OPERATION_TYPE],
    }
}

/// The JWK Set of the provider: a key of every algorithm (made on first need), with every
/// other key not retired (older keys until they are retired, the step-up keys).
pub async fn jwks(state: &App, client: &ClientInfo) -> Result<JwkSet, AppError> {
    keys::jwks(state, client, &Alg::ALL).await
}
