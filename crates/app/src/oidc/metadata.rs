//! Client metadata (RFC 7591 §2, with OpenID Connect's and Sekisho's own fields): the document
//! an operator submits, parsed strictly, checked against the rules, and completed with
//! the defaults of the client's profile. Every refusal names the field first in its detail.

use super::client_keys::{check_jwks, ClientJwks};
use super::SCOPES;
use crate::keys::Alg;
use sekisho_core::Error;
use serde::{Deserialize, Deserializer, Serialize};

/// Sekisho's profile of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The FAPI 2.0 Security Profile: `private_key_jwt`, PAR, DPoP, no RS256.
    Fapi2,
    /// OpenID Connect with PKCE: client secrets and public native apps allowed.
    Basic,
}

impl Profile {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Fapi2 => "fapi2",
            Profile::Basic => "basic",
        }
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A JWT signed with the client's key (RFC 7523).
    PrivateKeyJwt,
    /// The client secret in the `Authorization: Basic` header.
    ClientSecretBasic,
    /// The client secret in the form body.
    ClientSecretPost,
    /// None: a public native app (PKCE alone binds the code).
    None,
}

impl AuthMethod {
    /// Every method, as the discovery document lists them.
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::PrivateKeyJwt,
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];

    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    fn parse(s: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the client holds a secret issued by Sekisho.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
}

/// A grant type a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// The authorization code (always registered).
    AuthorizationCode,
    /// Refresh tokens.
    RefreshToken,
}

impl GrantType {
    /// Every grant type.
    pub const ALL: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }
}

/// Whose `sub` a client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// The same `sub` for every client.
    Public,
    /// A `sub` of its own for this client.
    Pairwise,
}

/// A client's metadata as registered: validated and complete (every default filled in), as
/// stored and as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<ClientJwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<String>,
    pub scope: String,
    pub id_token_signed_response_alg: Alg,
    pub dpop_bound_access_tokens: bool,
    pub require_pushed_authorization_requests: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub subject_type: SubjectType,
    pub profile: Profile,
    pub first_party: bool,
}

/// A field of a submitted document: absent (`None`), `null` (`Some(None)`) or a value. At
/// registration absent and `null` both mean the default; in a change, absent keeps the
/// registered value and `null` goes back to the default.
pub type Field<T> = Option<Option<T>>;

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Field<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A client metadata document as submitted (registration or change). Values stay loosely
/// typed (text), so that a wrong one is refused by [`validate`] naming its field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataInput {
    #[serde(default, deserialize_with = "present")]
    pub client_name: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub redirect_uris: Field<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub post_logout_redirect_uris: Field<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub token_endpoint_auth_method: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub jwks: Field<ClientJwks>,
    #[serde(default, deserialize_with = "present")]
    pub jwks_uri: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub grant_types: Field<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub response_types: Field<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub scope: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub id_token_signed_response_alg: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub dpop_bound_access_tokens: Field<bool>,
    #[serde(default, deserialize_with = "present")]
    pub require_pushed_authorization_requests: Field<bool>,
    #[serde(default, deserialize_with = "present")]
    pub backchannel_logout_uri: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub backchannel_logout_session_required: Field<bool>,
    #[serde(default, deserialize_with = "present")]
    pub subject_type: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub profile: Field<String>,
    #[serde(default, deserialize_with = "present")]
    pub first_party: Field<bool>,
}

/// Parses a submitted document (JSON text). A field this server does not know, or a value of
/// the wrong JSON type, is `invalid_client_metadata` naming the field.
pub fn parse(json: &str) -> Result<MetadataInput, Error> {
    serde_json::from_str(json).map_err(|e| {
        let msg = e.to_string();
        // serde names an unknown field as "unknown field `x`, expected …".
        let field = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
            .map(|f| format!("{f}: unknown field"));
        Error::InvalidClientMetadata(
            field.unwrap_or_else(|| msg.split(" at line ").next().unwrap_or_default().to_owned()),
        )
    })
}

impl MetadataInput {
    /// The submitted fields laid over `base` (a registered client's metadata): what a change
    /// asks for, to be validated as a whole.
    pub fn over(self, base: &ClientMetadata) -> MetadataInput {
        fn keep<T>(new: Field<T>, old: T) -> Field<T> {
            new.or(Some(Some(old)))
        }
        fn keep_opt<T>(new: Field<T>, old: Option<T>) -> Field<T> {
            new.or(Some(old))
        }
        let b = base.clone();
        MetadataInput {
            client_name: keep(self.client_name, b.client_name),
            redirect_uris: keep(self.redirect_uris, b.redirect_uris),
            post_logout_redirect_uris: keep(
                self.post_logout_redirect_uris,
                b.post_logout_redirect_uris,
            ),
            token_endpoint_auth_method: keep(
                self.token_endpoint_auth_method,
                b.token_endpoint_auth_method.as_str().into(),
            ),
            jwks: keep_opt(self.jwks, b.jwks),
            jwks_uri: keep_opt(self.jwks_uri, b.jwks_uri),
            grant_types: keep(
                self.grant_types,
                b.grant_types.iter().map(|g| g.as_str().into()).collect(),
            ),
            response_types: keep(self.response_types, b.response_types),
            scope: keep(self.scope, b.scope),
            id_token_signed_response_alg: keep(
                self.id_token_signed_response_alg,
                b.id_token_signed_response_alg.as_str().into(),
            ),
            dpop_bound_access_tokens: keep(
                self.dpop_bound_access_tokens,
                b.dpop_bound_access_tokens,
            ),
            require_pushed_authorization_requests: keep(
                self.require_pushed_authorization_requests,
                b.require_pushed_authorization_requests,
            ),
            backchannel_logout_uri: keep_opt(self.backchannel_logout_uri, b.backchannel_logout_uri),
            backchannel_logout_session_required: keep(
                self.backchannel_logout_session_required,
                b.backchannel_logout_session_required,
            ),
            subject_type: keep(
                self.subject_type,
                match b.subject_type {
                    SubjectType::Public => "public".into(),
                    SubjectType::Pairwise => "pairwise".into(),
                },
            ),
            profile: keep(self.profile, b.profile.as_str().into()),
            first_party: keep(self.first_party, b.first_party),
        }
    }
}

fn meta(field: &str, why: impl std::fmt::Display) -> Error {
    Error::InvalidClientMetadata(format!("{field}: {why}"))
}

/// Where a URI may point.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allow {
    /// https only.
    Https,
    /// https, or http on the loopback address (native apps, RFC 8252 §7.3; local receivers).
    HttpsOrLoopback,
}

/// Checks an absolute URI: no fragment, no wildcard, no user information, https (or http on
/// 127.0.0.1 / [::1] where allowed). `Err` says why, for the caller's error.
fn check_uri(uri: &str, allow: Allow) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("longer than 2000 characters".into());
    }
    if uri.contains('#') {
        return Err("a fragment is not allowed".into());
    }
    if uri.contains('*') {
        return Err("a wildcard is not allowed".into());
    }
    let u = url::Url::parse(uri).map_err(|_| "not an absolute URI".to_owned())?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err("user information is not allowed".into());
    }
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.octets() == [127, 0, 0, 1],
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        _ => false,
    };
    match (u.scheme(), allow) {
        ("https", _) if u.host().is_some() => Ok(()),
        ("http", Allow::HttpsOrLoopback) if loopback => Ok(()),
        ("http", Allow::Https) if loopback => {
            Err("http is allowed only for native apps (token_endpoint_auth_method none)".into())
        }
        ("http", _) => Err(
            "http is allowed only on the loopback address 127.0.0.1 or [::1] of a native app"
                .into(),
        ),
        _ => Err("only https URIs are allowed".into()),
    }
}

fn redirect_uris(field: &str, uris: &[String], allow: Allow) -> Result<(), Error> {
    if uris.len() > 20 {
        return Err(meta(field, "at most 20 URIs"));
    }
    for u in uris {
        check_uri(u, allow)
            .map_err(|why| Error::InvalidRedirectUri(format!("{field}: {u}: {why}")))?;
    }
    Ok(())
}

fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, Error> {
    let Some(v) = v else { return Ok(None) };
    let v = v.trim().to_owned();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(meta(
            field,
            format!("1 to {max} characters without control characters"),
        ));
    }
    Ok(Some(v))
}

/// Validates a submitted document (a registration, or a change laid [`over`](MetadataInput::over)
/// the registered metadata) and fills in the defaults of its profile.
pub fn validate(input: MetadataInput) -> Result<ClientMetadata, Error> {
    let flat = |f: Field<String>| f.flatten();
    let profile = match flat(input.profile).as_deref() {
        None | Some("fapi2") => Profile::Fapi2,
        Some("basic") => Profile::Basic,
        Some(p) => return Err(meta("profile", format!("{p:?} is not fapi2 or basic"))),
    };
    let fapi = profile == Profile::Fapi2;
    let method = match flat(input.token_endpoint_auth_method) {
        None if fapi => AuthMethod::PrivateKeyJwt,
        None => AuthMethod::ClientSecretBasic,
        Some(m) => AuthMethod::parse(&m).ok_or_else(|| {
            meta(
                "token_endpoint_auth_method",
                format!(
                    "{m:?} is not private_key_jwt, client_secret_basic, client_secret_post or none"
                ),
            )
        })?,
    };
    if fapi && method != AuthMethod::PrivateKeyJwt {
        return Err(meta(
            "token_endpoint_auth_method",
            "a fapi2 client authenticates with private_key_jwt",
        ));
    }
    let client_name = text("client_name", flat(input.client_name), 100)?
        .ok_or_else(|| meta("client_name", "required"))?;

    let native = method == AuthMethod::None;
    let allow = if native {
        Allow::HttpsOrLoopback
    } else {
        Allow::Https
    };
    let redirects = input.redirect_uris.flatten().unwrap_or_default();
    if redirects.is_empty() {
        return Err(meta(
            "redirect_uris",
            "at least one redirect URI is required",
        ));
    }
    redirect_uris("redirect_uris", &redirects, allow)?;
    let post_logout = input
        .post_logout_redirect_uris
        .flatten()
        .unwrap_or_default();
    redirect_uris("post_logout_redirect_uris", &post_logout, allow)?;

    let jwks = input.jwks.flatten();
    let jwks_uri = flat(input.jwks_uri);
    if jwks.is_some() && jwks_uri.is_some() {
        return Err(meta("jwks_uri", "give jwks or jwks_uri, not both"));
    }
    if let Some(u) = &jwks_uri {
        check_uri(u, Allow::Https).map_err(|why| meta("jwks_uri", why))?;
    }
    if let Some(set) = &jwks {
        check_jwks(set, fapi).map_err(|why| meta("jwks", why))?;
    }
    if method == AuthMethod::PrivateKeyJwt && jwks.is_none() && jwks_uri.is_none() {
        return Err(meta(
            "jwks",
            "private_key_jwt needs the client's keys: jwks or jwks_uri",
        ));
    }

    let mut grant_types = Vec::new();
    for g in input
        .grant_types
        .flatten()
        .unwrap_or_else(|| vec!["authorization_code".into()])
    {
        let g = GrantType::ALL
            .into_iter()
            .find(|t| t.as_str() == g)
            .ok_or_else(|| {
                meta(
                    "grant_types",
                    format!("{g:?} is not authorization_code or refresh_token"),
                )
            })?;
        if !grant_types.contains(&g) {
            grant_types.push(g);
        }
    }
    if !grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(meta("grant_types", "authorization_code is required"));
    }
    let response_types = input
        .response_types
        .flatten()
        .unwrap_or_else(|| vec!["code".into()]);
    if response_types != ["code"] {
        return Err(meta("response_types", "only \"code\" is supported"));
    }

    let scope = flat(input.scope).unwrap_or_else(|| "openid".into());
    let mut scopes: Vec<&str> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !SCOPES.contains(&s) {
            return Err(meta(
                "scope",
                format!("{s:?} is not one of {}", SCOPES.join(", ")),
            ));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !scopes.contains(&"openid") {
        return Err(meta("scope", "openid is required"));
    }

    let alg = match flat(input.id_token_signed_response_alg) {
        None if fapi => Alg::ES256,
        None => Alg::RS256,
        Some(a) => Alg::parse(&a).ok_or_else(|| {
            meta(
                "id_token_signed_response_alg",
                format!("{a:?} is not EdDSA, ES256, PS256 or RS256"),
            )
        })?,
    };
    if fapi && !alg.fapi() {
        return Err(meta(
            "id_token_signed_response_alg",
            "RS256 is not allowed for fapi2 clients (ES256, EdDSA or PS256)",
        ));
    }
    let dpop = input.dpop_bound_access_tokens.flatten().unwrap_or(fapi);
    if fapi && !dpop {
        return Err(meta(
            "dpop_bound_access_tokens",
            "fapi2 clients get DPoP-bound tokens",
        ));
    }
    let par = input
        .require_pushed_authorization_requests
        .flatten()
        .unwrap_or(fapi);
    if fapi && !par {
        return Err(meta(
            "require_pushed_authorization_requests",
            "fapi2 clients must push their authorization requests (PAR)",
        ));
    }

    let backchannel = flat(input.backchannel_logout_uri);
    if let Some(u) = &backchannel {
        check_uri(u, Allow::HttpsOrLoopback).map_err(|why| meta("backchannel_logout_uri", why))?;
    }
    let subject_type = match flat(input.subject_type).as_deref() {
        None | Some("public") => SubjectType::Public,
        Some("pairwise") => SubjectType::Pairwise,
        Some(s) => {
            return Err(meta(
                "subject_type",
                format!("{s:?} is not public or pairwise"),
            ))
        }
    };
    if subject_type == SubjectType::Pairwise {
        // Without a sector_identifier_uri, the sector is the one host of the redirect URIs.
        let hosts: std::collections::BTreeSet<_> = redirects
            .iter()
            .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_owned))
            .collect();
        if hosts.len() > 1 {
            return Err(meta(
                "subject_type",
                "a pairwise client's redirect URIs must share one host",
            ));
        }
    }

    Ok(ClientMetadata {
        client_name,
        redirect_uris: redirects,
        post_logout_redirect_uris: post_logout,
        token_endpoint_auth_method: method,
        jwks,
        jwks_uri,
        grant_types,
        response_types,
        scope: scopes.join(" "),
        id_token_signed_response_alg: alg,
        dpop_bound_access_tokens: dpop,
        require_pushed_authorization_requests: par,
        backchannel_logout_uri: backchannel,
        backchannel_logout_session_required: input
            .backchannel_logout_session_required
            .flatten()
            .unwrap_or(false),
        subject_type,
        profile,
        first_party: input.first_party.flatten().unwrap_or(false),
    })
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
