//! The token endpoint (code exchange with PKCE, DPoP and client authentication; refresh; the
//! ID token and the access token) and UserInfo: the half of the flow a relying party's back
//! end calls.

use super::*;

/// The subject a client sees for a login: stable and never reused (from the login's internal
/// key, never its login ID); `pairwise` clients get one of their own that other clients cannot
/// link.
pub fn subject(state: &App, c: &Client, login_pk: i64) -> String {
    match c.metadata.subject_type {
        SubjectType::Public => {
            let d = Sha256::digest(format!("sekisho-sub\0{}\0{login_pk}", issuer(state)));
            URL_SAFE_NO_PAD.encode(&d[..18])
        }
        SubjectType::Pairwise => {
            let h = state.secrets.code_hash(
                &format!("oidc-pairwise\0{}", c.client_id),
                &login_pk.to_string(),
            );
            URL_SAFE_NO_PAD.encode(hex::decode(&h[..36]).unwrap_or_default())
        }
    }
}

/// The ID token's `sid`: the session, opaque.
pub(crate) fn sid(state: &App, session_id: i64) -> String {
    let h = state.secrets.code_hash("oidc-sid", &session_id.to_string());
    h[..32].to_owned()
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'a str,
    amr: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// `cnf` of a DPoP-bound access token (RFC 9449 §6.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cnf {
    /// The thumbprint of the DPoP key.
    pub jkt: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct AccessClaims {
    pub(super) iss: String,
    pub(super) sub: String,
    pub(super) aud: String,
    pub(super) client_id: String,
    pub(super) scope: String,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) jti: String,
    pub(super) auth_time: i64,
    pub(super) acr: String,
    /// The DPoP key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) cnf: Option<Cnf>,
    /// The grant it belongs to (revoking the grant ends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) gid: Option<String>,
    /// The operation the customer confirmed (RFC 9396 §9.1), for a code exchange's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) authorization_details: Option<serde_json::Value>,
    /// The login's internal key, sealed: what UserInfo reads (never shown in clear).
    pub(super) sks: String,
}

fn login_aad(client_id: &str) -> Vec<u8> {
    format!("oidc-access-token:{client_id}").into_bytes()
}

/// The token endpoint: authenticates the client, checks its DPoP proof (`dpop`: the `DPoP`
/// header; required for clients with DPoP-bound tokens) and exchanges an authorization code
/// (once, within [`CODE_SECS`], by the client it was issued to, for the same redirect URI,
/// with the PKCE verifier and the DPoP key it is bound to) or a refresh token. `token_url` is
/// this endpoint's URL (an accepted assertion audience and the proof's `htu`).
///
/// What it checks but need not write at once (the client's request counted, the assertion's
/// and the proof's `jti`s) waits in an [`Unwritten`]: a successful code exchange writes it with
/// the code, the grant and its audit record in one transaction; any other answer writes it
/// first, one write at a time.
pub async fn token(
    state: &App,
    creds: &Credentials,
    params: &Params,
    dpop: Option<&str>,
    token_url: &str,
    client: &ClientInfo,
) -> Result<Result<Tokens, OAuthError>, AppError> {
    let iss = issuer(state);
    let audiences = [iss.as_str(), token_url];
    let (c, client_jti) =
        match authenticated_unrecorded(state, creds, &audiences, client, "token").await? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
    let mut w = Unwritten {
        count: true,
        client_jti,
        proof_jti: None,
    };
    let answer = match exchange(state, &c, &mut w, params, dpop, token_url, client).await? {
        // The answer of a request whose assertion or proof was used before is that refusal.
        Err(refusal) => Err(w.settle(state, &c, client).await?.err().unwrap_or(refusal)),
        Ok(t) => Ok(t),
    };
    debug_assert!(w.is_empty(), "a token request left writes undone");
    match answer {
        Ok(t) => Ok(Ok(t)),
        Err((login_id, e)) => {
            refused(
                state,
                &c.client_id,
                login_id.as_deref(),
                client,
                "token",
                &e,
            )
            .await?;
            Ok(Err(e))
        }
    }
}

type Refused = (Option<String>, OAuthError);

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

mod code;

/// What a token request checked but has not written yet (see [`token`]).
#[derive(Debug, Clone, Default)]
struct Unwritten {
    /// The request is still to be counted under the client's bucket.
    count: bool,
    /// The client assertion's `jti`.
    client_jti: Option<JtiUse>,
    /// The DPoP proof's `jti`.
    proof_jti: Option<JtiUse>,
}

impl Unwritten {
    fn is_empty(&self) -> bool {
        !self.count && self.client_jti.is_none() && self.proof_jti.is_none()
    }

    /// Writes what is left one at a time, as the other doors do: the request counted (a spent
    /// bucket is `too_many_attempts`), then each `jti` (one used before is the request's
    /// refusal: a replayed assertion also counts as a failed client authentication).
    async fn settle(
        &mut self,
        state: &App,
        c: &Client,
        client: &ClientInfo,
    ) -> Result<Result<(), Refused>, AppError> {
        if std::mem::take(&mut self.count) {
            crate::throttle::oidc_client(state, &c.client_id).await?;
        }
        if let Some(jti) = self.client_jti.take() {
            if !client_auth::record_jti(state, &jti).await? {
                self.proof_jti = None;
                crate::throttle::oidc_auth_failed(state, client).await?;
                return Ok(Err((None, client_auth::replayed())));
            }
        }
        if let Some(jti) = self.proof_jti.take() {
            if !dpop::record_jti(state, &jti).await? {
                return Ok(Err((None, dpop::replayed())));
            }
        }
        Ok(Ok(()))
    }
}

async fn exchange(
    state: &App,
    c: &Client,
    w: &mut Unwritten,
    params: &Params,
    dpop: Option<&str>,
    token_url: &str,
    client: &ClientInfo,
) -> Result<Result<Tokens, Refused>, AppError> {
    let get = |n: &str| single(params, n).map_err(|e| (None, e));
    let grant = match tri!(get("grant_type")) {
        Some("authorization_code") => GrantType::AuthorizationCode,
        Some("refresh_token") => GrantType::RefreshToken,
        Some(_) => {
            return Ok(Err((
                None,
                OAuthError::new(
                    "unsupported_grant_type",
                    "only authorization_code and refresh_token",
                ),
            )))
        }
        None => return Ok(Err((None, OAuthError::request("grant_type is required")))),
    };
    if !c.metadata.grant_types.contains(&grant) {
        return Ok(Err((
            None,
            OAuthError::new(
                "unauthorized_client",
                format!("{} is not registered", grant.as_str()),
            ),
        )));
    }
    // The proof is checked before the code or refresh token is touched, so a proof refused
    // (or asked again with a nonce) costs the client nothing.
    let jkt = match dpop {
        Some(p) => {
            let expect = dpop::Expect {
                method: "POST",
                url: token_url,
                access_token: None,
            };
            let (jkt, jti) = tri!(dpop::check_unrecorded(state, p, expect).map_err(|e| (None, e)));
            w.proof_jti = Some(jti);
            Some(jkt)
        }
        None if dpop::required(c) => {
            return Ok(Err((
                None,
                OAuthError::new(
                    dpop::INVALID,
                    "this client's tokens are DPoP-bound: send a DPoP proof",
                ),
            )))
        }
        None => None,
    };
    match grant {
        GrantType::RefreshToken => {
            tri!(w.settle(state, c, client).await?);
            refresh(state, c, params, jkt, client).await
        }
        GrantType::AuthorizationCode => code::exchange(state, c, w, params, jkt, client).await,
    }
}

/// Records the revocation of a grant, naming its client.
pub(super) async fn revoked_event(
    state: &App,
    login_id: Option<&str>,
    g: &NewTokenGrant,
    why: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let ev = state.event(
        EventType::OidcTokenRevoked,
        login_id,
        Actor::SelfService,
        client,
        format!("client {}: tokens revoked ({why})", g.client_id),
    );
    state.store.append_audit(&ev).await?;
    Ok(())
}

/// The refresh token grant: the token must be this client's, live, unused (a public client's
/// rotated token used again revokes the whole grant), presented with the grant's DPoP key, for
/// an enabled login. Public clients (`none`) get a new refresh token each time; the others
/// keep theirs.
async fn refresh(
    state: &App,
    c: &Client,
    params: &Params,
    jkt: Option<String>,
    client: &ClientInfo,
) -> Result<Result<Tokens, Refused>, AppError> {
    let now = state.clock.now();
    let presented = tri!(single(params, "refresh_token").map_err(|e| (None, e)));
    let old_hash = hash(presented.unwrap_or_default());
    let Some(rt) = state.store.get_refresh_token(&old_hash).await? else {
        return Ok(Err((None, OAuthError::grant("unknown refresh token"))));
    };
    let g = &rt.grant.grant;
    let login = state.store.login_by_pk(g.login_pk).await?;
    let login_id = login.as_ref().map(|l| l.login_id.clone());
    let fail = |why: &str| Ok(Err((login_id.clone(), OAuthError::grant(why))));
    if g.client_id != c.client_id {
        return fail("the refresh token was issued to another client");
    }
    if rt.grant.revoked_at.is_some() {
        return fail("the grant was revoked");
    }
    if rt.used_at.is_some() {
        // A rotated token came back: whoever holds either copy may be an attacker.
        if state
            .store
            .revoke_token_grant(&g.grant_id, "refresh_reuse", now)
            .await?
        {
            revoked_event(
                state,
                login_id.as_deref(),
                g,
                "refresh token reused",
                client,
            )
            .await?;
        }
        return fail("the refresh token was used before; the grant is revoked");
    }
    if now >= rt.token.expires_at {
        return fail("the refresh token has expired");
    }
    if g.dpop_jkt.is_some() && g.dpop_jkt != jkt {
        return fail("the refresh token is bound to another DPoP key");
    }
    let Some(login) = login.filter(|l| !l.disabled) else {
        return fail("the login no longer exists or is disabled");
    };
    // A narrower scope may be asked for (RFC 6749 §6).
    let granted: Vec<&str> = g.scope.split_whitespace().collect();
    let scope = match tri!(single(params, "scope").map_err(|e| (None, e))) {
        None => g.scope.clone(),
        Some(s) if s.split_whitespace().all(|x| granted.contains(&x)) => {
            s.split_whitespace().collect::<Vec<_>>().join(" ")
        }
        Some(_) => {
            return Ok(Err((
                login_id,
                OAuthError::new("invalid_scope", "more scope than was granted"),
            )))
        }
    };
    let mut refresh_token = None;
    if c.metadata.token_endpoint_auth_method == AuthMethod::None {
        let fresh = token::generate("skrt", state.rng.as_ref());
        let new = NewRefreshToken {
            token_hash: hash(&fresh),
            grant_id: g.grant_id.clone(),
            created_at: now,
            expires_at: rt.token.expires_at,
        };
        if !state
            .store
            .rotate_refresh_token(&old_hash, &new, now)
            .await?
        {
            // Another request rotated it first: one of the two is a replay.
            if state
                .store
                .revoke_token_grant(&g.grant_id, "refresh_reuse", now)
                .await?
            {
                revoked_event(
                    state,
                    login_id.as_deref(),
                    g,
                    "refresh token reused",
                    client,
                )
                .await?;
            }
            return fail("the refresh token was used before; the grant is revoked");
        }
        refresh_token = Some(fresh);
    }
    let mut narrowed = g.clone();
    narrowed.scope = scope;
    // The access token is bound to the key that proved possession now (the grant's, if any).
    narrowed.dpop_jkt = jkt;
    let tokens = issue(state, c, &narrowed, &login, None, refresh_token, client).await?;
    let ev = state.event(
        EventType::OidcTokenRefreshed,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "client {}: tokens refreshed (scope {}{})",
            c.client_id,
            narrowed.scope,
            if tokens.refresh_token.is_some() {
                ", refresh token rotated"
            } else {
                ""
            }
        ),
    );
    state.store.append_audit(&ev).await?;
    Ok(Ok(tokens))
}

/// `, operation withdrawal 1500000 JPY` for an audit record of tokens carrying an operation.
fn operation_words(details: Option<&serde_json::Value>) -> String {
    let Some(op) = details.and_then(|d| d.get(0)) else {
        return String::new();
    };
    let word = |k: &str| op.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    format!(
        ", operation {} {} {}",
        word("kind"),
        word("amount"),
        word("currency")
    )
    .trim_end()
    .to_owned()
}

/// Signs the ID token and the access token of a grant: from a code exchange (`code`: its
/// `nonce` and its confirmed `authorization_details`, RFC 9396) or a refresh (`None`). The
/// operation confirmed for a code is in that exchange's tokens only: it approved one operation,
/// and a refreshed access token is no new confirmation.
async fn issue(
    state: &App,
    c: &Client,
    g: &NewTokenGrant,
    login: &sekisho_core::login::Login,
    code: Option<&sekisho_store::NewOidcCode>,
    refresh_token: Option<String>,
    client: &ClientInfo,
) -> Result<Tokens, AppError> {
    let nonce = code.and_then(|c| c.nonce.as_deref());
    let authorization_details: Option<serde_json::Value> = code
        .and_then(|c| c.authorization_details.as_deref())
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| Error::Internal)?;
    let now = state.clock.now();
    let iss = issuer(state);
    let sub = subject(state, c, login.id);
    let alg = c.metadata.id_token_signed_response_alg;
    let id_claims = IdClaims {
        iss: &iss,
        sub: &sub,
        aud: &c.client_id,
        azp: &c.client_id,
        exp: now.0 + ACCESS_TOKEN_SECS,
        iat: now.0,
        auth_time: g.auth_time.0,
        nonce,
        acr: &g.acr,
        amr: g.amr.split_whitespace().collect(),
        sid: g.session_id.map(|id| sid(state, id)),
    };
    let id_token = keys::sign(state, client, alg, "JWT", &id_claims).await?;
    let sealed = state
        .secrets
        .seal(
            login.id.to_string().as_bytes(),
            &login_aad(&c.client_id),
            sekisho_core::clock::random_bytes(state.rng.as_ref()),
        )
        .ok_or(Error::Internal)?;
    let cnf = g.dpop_jkt.clone().map(|jkt| Cnf { jkt });
    let bound = cnf.is_some();
    let access = AccessClaims {
        iss: iss.clone(),
        sub,
        aud: iss,
        client_id: c.client_id.clone(),
        scope: g.scope.clone(),
        exp: now.0 + ACCESS_TOKEN_SECS,
        iat: now.0,
        jti: token::generate("skat", state.rng.as_ref()),
        auth_time: g.auth_time.0,
        acr: g.acr.clone(),
        cnf,
        gid: Some(g.grant_id.clone()),
        authorization_details: authorization_details.clone(),
        sks: sealed,
    };
    let access_token = keys::sign(state, client, alg, "at+jwt", &access).await?;
    Ok(Tokens {
        access_token,
        token_type: if bound { "DPoP" } else { "Bearer" },
        expires_in: ACCESS_TOKEN_SECS,
        id_token,
        refresh_token,
        scope: g.scope.clone(),
        authorization_details,
    })
}

/// Verifies one of Sekisho's access tokens at `now` (signature with a published key, `typ`,
/// issuer, expiry); answers its claims.
pub(super) async fn verify_access_token(
    state: &App,
    jwt: &str,
) -> Result<Option<AccessClaims>, AppError> {
    let Some(c) = keys::verify_own::<AccessClaims>(state, jwt, "at+jwt").await? else {
        return Ok(None);
    };
    if c.iss != issuer(state) || state.clock.now().0 >= c.exp {
        return Ok(None);
    }
    Ok(Some(c))
}

/// How an access token was presented at a resource.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// The token.
    pub token: &'a str,
    /// With the `DPoP` scheme (else `Bearer`).
    pub dpop_scheme: bool,
    /// The `DPoP` header.
    pub proof: Option<&'a str>,
    /// The request's method.
    pub method: &'a str,
    /// The resource's public URL.
    pub url: &'a str,
}

/// Whether an access token's grant is still live (tokens without one predate grants).
pub(super) async fn grant_live(state: &App, c: &AccessClaims) -> Result<bool, AppError> {
    let Some(gid) = &c.gid else {
        return Ok(true);
    };
    Ok(state
        .store
        .get_token_grant(gid)
        .await?
        .is_some_and(|g| g.revoked_at.is_none()))
}

/// UserInfo (OpenID Connect Core §5.3) for an access token: the claims its scope releases. A
/// bad, expired, revoked or foreign token is `invalid_token`; a DPoP-bound token must come with
/// the `DPoP` scheme and a proof of its key for this request and token (`ath`), never as a
/// bearer token.
pub async fn userinfo(
    state: &App,
    p: Presented<'_>,
) -> Result<Result<UserInfo, OAuthError>, AppError> {
    let invalid = |why: &str| Ok(Err(OAuthError::new("invalid_token", why)));
    let Some(c) = verify_access_token(state, p.token).await? else {
        return invalid("the access token is not valid");
    };
    match (&c.cnf, p.dpop_scheme) {
        (Some(cnf), true) => {
            let Some(proof) = p.proof else {
                return Ok(Err(OAuthError::new(dpop::INVALID, "DPoP proof: missing")));
            };
            let expect = dpop::Expect {
                method: p.method,
                url: p.url,
                access_token: Some(p.token),
            };
            match dpop::check(state, proof, expect).await? {
                Ok(jkt) if jkt == cnf.jkt => {}
                Ok(_) => {
                    return Ok(Err(OAuthError::new(
                        dpop::INVALID,
                        "DPoP proof: the token is bound to another key",
                    )))
                }
                Err(e) => return Ok(Err(e)),
            }
        }
        (Some(_), false) => return invalid("the access token is DPoP-bound: use the DPoP scheme"),
        (None, true) => return invalid("the access token is not DPoP-bound: use Bearer"),
        (None, false) => {}
    }
    if !grant_live(state, &c).await? {
        return invalid("the access token was revoked");
    }
    let pk = state
        .secrets
        .open(&c.sks, &login_aad(&c.client_id))
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok());
    let Some(pk) = pk else {
        return invalid("the access token is not valid");
    };
    let Some(login) = state.store.login_by_pk(pk).await?.filter(|l| !l.disabled) else {
        return invalid("the access token is not valid");
    };
    let scopes: Vec<&str> = c.scope.split_whitespace().collect();
    let profile = scopes.contains(&"profile");
    let email = scopes.contains(&"email");
    Ok(Ok(UserInfo {
        sub: c.sub,
        name: profile.then(|| login.display_name.clone()),
        locale: profile.then(|| login.lang.as_str().to_owned()),
        email: email.then(|| login.email.clone()),
        email_verified: email.then_some(true),
        login_id: scopes.contains(&"login_id").then(|| login.login_id.clone()),
    }))
}

/// The login an access token names (sealed in it), for introspection.
pub(super) fn token_login_pk(state: &App, c: &AccessClaims) -> Option<i64> {
    state
        .secrets
        .open(&c.sks, &login_aad(&c.client_id))
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok())
}
