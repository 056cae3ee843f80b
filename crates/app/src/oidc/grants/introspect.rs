//! Introspection (RFC 7662) and revocation (RFC 7009) for the client's own tokens, with client
//! authentication as at the token endpoint; and the revocation of grants that logout and
//! withdrawn consent call.
//!
//! A token of another client is `active: false` at introspection (so one client cannot learn
//! about another's tokens) and is left alone at revocation (answered 200 like an unknown
//! token); both are audited as refusals naming the client.

use super::tokens::{grant_live, revoked_event, token_login_pk, verify_access_token};
use super::*;

/// An introspection answer (RFC 7662 §2.2): `active` alone for a token that is not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    /// Whether the token is live and this client's.
    pub active: bool,
    /// The granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `DPoP` or `Bearer` for an access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The subject, as the client sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The last real authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The level reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The DPoP key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Cnf>,
    /// The operation the customer confirmed for an access token (RFC 9396 §9.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<serde_json::Value>,
}

/// What a presented token turned out to be.
enum Found {
    /// Unknown, expired, revoked, or for a disabled login.
    Nothing,
    /// Another client's.
    Foreign(String),
    /// This client's live access token.
    Access(Introspection, Option<String>),
    /// This client's live refresh token (its grant).
    Refresh(Introspection, String),
}

async fn find(state: &App, c: &Client, token: &str) -> Result<Found, AppError> {
    let now = state.clock.now();
    if token.contains('.') {
        let Some(claims) = verify_access_token(state, token).await? else {
            return Ok(Found::Nothing);
        };
        if claims.client_id != c.client_id {
            return Ok(Found::Foreign(claims.client_id));
        }
        let login_ok = match token_login_pk(state, &claims) {
            Some(pk) => state
                .store
                .login_by_pk(pk)
                .await?
                .is_some_and(|l| !l.disabled),
            None => false,
        };
        if !login_ok || !grant_live(state, &claims).await? {
            return Ok(Found::Nothing);
        }
        let gid = claims.gid.clone();
        return Ok(Found::Access(
            Introspection {
                active: true,
                scope: Some(claims.scope),
                client_id: Some(claims.client_id),
                token_type: Some(if claims.cnf.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                }),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                sub: Some(claims.sub),
                iss: Some(claims.iss),
                auth_time: Some(claims.auth_time),
                acr: Some(claims.acr),
                cnf: claims.cnf,
                authorization_details: claims.authorization_details,
            },
            gid,
        ));
    }
    let Some(rt) = state.store.get_refresh_token(&hash(token)).await? else {
        return Ok(Found::Nothing);
    };
    let g = rt.grant.grant;
    if g.client_id != c.client_id {
        return Ok(Found::Foreign(g.client_id));
    }
    let login_ok = state
        .store
        .login_by_pk(g.login_pk)
        .await?
        .is_some_and(|l| !l.disabled);
    if !login_ok
        || rt.grant.revoked_at.is_some()
        || rt.used_at.is_some()
        || now >= rt.token.expires_at
    {
        return Ok(Found::Nothing);
    }
    Ok(Found::Refresh(
        Introspection {
            active: true,
            scope: Some(g.scope.clone()),
            client_id: Some(g.client_id.clone()),
            token_type: None,
            exp: Some(rt.token.expires_at.0),
            iat: Some(rt.token.created_at.0),
            sub: Some(subject(state, c, g.login_pk)),
            iss: Some(issuer(state)),
            auth_time: Some(g.auth_time.0),
            acr: Some(g.acr.clone()),
            cnf: g.dpop_jkt.clone().map(|jkt| Cnf { jkt }),
            authorization_details: None,
        },
        g.grant_id,
    ))
}

async fn foreign(
    state: &App,
    c: &Client,
    owner: &str,
    what: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let e = OAuthError::new(
        "invalid_token",
        format!("a token of client {owner} was presented"),
    );
    refused(state, &c.client_id, None, client, what, &e).await
}

/// The preamble of introspection and revocation: the client authenticated for `purpose` (the
/// issuer or the endpoint's URL as the assertion's audience) and the one `token` parameter.
async fn client_and_token<'p>(
    state: &App,
    creds: &Credentials,
    params: &'p Params,
    url: &str,
    client: &ClientInfo,
    purpose: &str,
) -> Result<Result<(Client, &'p str), OAuthError>, AppError> {
    let iss = issuer(state);
    let c = match authenticated(state, creds, &[&iss, url], client, purpose).await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(match single(params, "token") {
        Ok(Some(t)) => Ok((c, t)),
        Ok(None) => Err(OAuthError::request("token is required")),
        Err(e) => Err(e),
    })
}

/// Introspection (RFC 7662): the client's own live tokens are `active` with their claims;
/// anything else (another client's token too) is `active: false`.
pub async fn introspect(
    state: &App,
    creds: &Credentials,
    params: &Params,
    url: &str,
    client: &ClientInfo,
) -> Result<Result<Introspection, OAuthError>, AppError> {
    let (c, token) =
        match client_and_token(state, creds, params, url, client, "introspection").await? {
            Ok((c, _)) if c.metadata.token_endpoint_auth_method == AuthMethod::None => {
                let e = OAuthError::client("a public client cannot introspect tokens");
                refused(state, &c.client_id, None, client, "introspection", &e).await?;
                return Ok(Err(e));
            }
            Ok(ct) => ct,
            Err(e) => return Ok(Err(e)),
        };
    Ok(Ok(match find(state, &c, token).await? {
        Found::Access(i, _) | Found::Refresh(i, _) => i,
        Found::Foreign(owner) => {
            foreign(state, &c, &owner, "introspection", client).await?;
            Introspection::default()
        }
        Found::Nothing => Introspection::default(),
    }))
}

/// Revocation (RFC 7009): the client's own refresh token or access token revokes its grant
/// (every token of it). Unknown tokens, and other clients' (audited), are answered the same.
pub async fn revoke(
    state: &App,
    creds: &Credentials,
    params: &Params,
    url: &str,
    client: &ClientInfo,
) -> Result<Result<(), OAuthError>, AppError> {
    let (c, token) = match client_and_token(state, creds, params, url, client, "revocation").await?
    {
        Ok(ct) => ct,
        Err(e) => return Ok(Err(e)),
    };
    let gid = match find(state, &c, token).await? {
        Found::Access(_, gid) => gid,
        Found::Refresh(_, gid) => Some(gid),
        Found::Foreign(owner) => {
            foreign(state, &c, &owner, "revocation", client).await?;
            None
        }
        Found::Nothing => None,
    };
    if let Some(gid) = gid {
        let now = state.clock.now();
        if state.store.revoke_token_grant(&gid, "revoked", now).await? {
            if let Some(g) = state.store.get_token_grant(&gid).await? {
                let login = state.store.login_by_pk(g.grant.login_pk).await?;
                let login_id = login.map(|l| l.login_id);
                revoked_event(
                    state,
                    login_id.as_deref(),
                    &g.grant,
                    "revoked by the client",
                    client,
                )
                .await?;
            }
        }
    }
    Ok(Ok(()))
}

async fn revoked_all(
    state: &App,
    grants: Vec<sekisho_store::TokenGrant>,
    why: &str,
    client: &ClientInfo,
) -> Result<usize, AppError> {
    for g in &grants {
        let login = state.store.login_by_pk(g.grant.login_pk).await?;
        let login_id = login.map(|l| l.login_id);
        revoked_event(state, login_id.as_deref(), &g.grant, why, client).await?;
    }
    Ok(grants.len())
}

/// Revokes every live grant made from the Sekisho session `session_id` (its refresh tokens,
/// and its access tokens at introspection and UserInfo), each audited as
/// `oidc_token_revoked` naming its client; how many. For logout.
pub async fn revoke_grants_for_session(
    state: &App,
    session_id: i64,
    client: &ClientInfo,
) -> Result<usize, AppError> {
    let now = state.clock.now();
    let grants = state
        .store
        .revoke_grants_for_session(session_id, "logout", now)
        .await?;
    revoked_all(state, grants, "the session ended", client).await
}

/// Revokes every live grant of the login `login_pk` to `client_id`, each audited; how many.
/// For withdrawn consent.
pub async fn revoke_grants_for_client(
    state: &App,
    login_pk: i64,
    client_id: &str,
    client: &ClientInfo,
) -> Result<usize, AppError> {
    let now = state.clock.now();
    let grants = state
        .store
        .revoke_grants_for_client(login_pk, client_id, "consent_withdrawn", now)
        .await?;
    revoked_all(state, grants, "the customer withdrew the grant", client).await
}
