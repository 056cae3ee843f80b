//! The token endpoint (code exchange with PKCE and client authentication, the ID token and
//! the access token) and UserInfo: the half of the flow a relying party's back end calls.

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

#[derive(Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    exp: i64,
    iat: i64,
    jti: String,
    auth_time: i64,
    acr: String,
    /// The login's internal key, sealed: what UserInfo reads (never shown in clear).
    sks: String,
}

fn login_aad(client_id: &str) -> Vec<u8> {
    format!("oidc-access-token:{client_id}").into_bytes()
}

/// The token endpoint: authenticates the client and exchanges an authorization code (once,
/// within [`CODE_SECS`], by the client it was issued to, for the same redirect URI, with the
/// PKCE verifier). `token_url` is this endpoint's URL (an accepted assertion audience).
pub async fn token(
    state: &App,
    creds: &Credentials,
    params: &Params,
    token_url: &str,
    client: &ClientInfo,
) -> Result<Result<Tokens, OAuthError>, AppError> {
    let iss = issuer(state);
    let c = match authenticated(state, creds, &[&iss, token_url], client, "token").await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    match exchange(state, &c, params, client).await? {
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

async fn exchange(
    state: &App,
    c: &Client,
    params: &Params,
    client: &ClientInfo,
) -> Result<Result<Tokens, Refused>, AppError> {
    let now = state.clock.now();
    let get = |n: &str| single(params, n).map_err(|e| (None, e));
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            }
        };
    }
    match tri!(get("grant_type")) {
        Some("authorization_code") => {}
        Some(_) => {
            return Ok(Err((
                None,
                OAuthError::new("unsupported_grant_type", "only authorization_code"),
            )))
        }
        None => return Ok(Err((None, OAuthError::request("grant_type is required")))),
    }
    if !c
        .metadata
        .grant_types
        .contains(&GrantType::AuthorizationCode)
    {
        return Ok(Err((
            None,
            OAuthError::new(
                "unauthorized_client",
                "authorization_code is not registered",
            ),
        )));
    }
    let code = tri!(get("code")).unwrap_or_default();
    let code = match state.store.take_oidc_code(&hash(code), now).await? {
        CodeTake::Unknown => return Ok(Err((None, OAuthError::grant("unknown code")))),
        CodeTake::Reused(used) => {
            let login = state.store.login_by_pk(used.code.login_pk).await?;
            let e = OAuthError::grant("the code was used before");
            return Ok(Err((login.map(|l| l.login_id), e)));
        }
        CodeTake::First(code) => code.code,
    };
    let login = state.store.login_by_pk(code.login_pk).await?;
    let login_id = login.as_ref().map(|l| l.login_id.clone());
    let fail = |why: &str| Ok(Err((login_id.clone(), OAuthError::grant(why))));
    if code.client_id != c.client_id {
        return fail("the code was issued to another client");
    }
    if now >= code.expires_at {
        return fail("the code has expired");
    }
    if tri!(get("redirect_uri")) != Some(code.redirect_uri.as_str()) {
        return fail("redirect_uri differs from the authorization request's");
    }
    let verifier = tri!(get("code_verifier")).unwrap_or_default();
    if !request::pkce_verifies(verifier, &code.code_challenge) {
        return fail("code_verifier does not match the code_challenge");
    }
    let Some(login) = login.filter(|l| !l.disabled) else {
        return fail("the login no longer exists or is disabled");
    };
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
        auth_time: code.auth_time.0,
        nonce: code.nonce.as_deref(),
        acr: &code.acr,
        amr: code.amr.split_whitespace().collect(),
        sid: code.session_id.map(|id| sid(state, id)),
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
    let access = AccessClaims {
        iss: iss.clone(),
        sub: sub.clone(),
        aud: iss.clone(),
        client_id: c.client_id.clone(),
        scope: code.scope.clone(),
        exp: now.0 + ACCESS_TOKEN_SECS,
        iat: now.0,
        jti: token::generate("skat", state.rng.as_ref()),
        auth_time: code.auth_time.0,
        acr: code.acr.clone(),
        sks: sealed,
    };
    let access_token = keys::sign(state, client, alg, "at+jwt", &access).await?;
    let ev = state.event(
        EventType::OidcTokenIssued,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "client {}: tokens issued (scope {})",
            c.client_id, code.scope
        ),
    );
    state.store.append_audit(&ev).await?;
    Ok(Ok(Tokens {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECS,
        id_token,
        scope: code.scope,
    }))
}

/// Verifies one of Sekisho's access tokens at `now` (signature with a published key, `typ`,
/// issuer, expiry); answers its claims.
async fn verify_access_token(state: &App, jwt: &str) -> Result<Option<AccessClaims>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        return Ok(None);
    };
    if header.typ.as_deref() != Some("at+jwt") {
        return Ok(None);
    }
    let Some(kid) = header.kid else {
        return Ok(None);
    };
    let key = state
        .store
        .signing_keys()
        .await?
        .into_iter()
        .find(|k| k.kid == kid && k.retired_at.is_none());
    let Some(key) = key else {
        return Ok(None);
    };
    let Some(alg) = Alg::parse(&key.algorithm) else {
        return Ok(None);
    };
    let Ok(jwk) = serde_json::from_str::<keys::PublicJwk>(&key.public_jwk) else {
        return Ok(None);
    };
    let decoding = match alg {
        Alg::EdDSA => jwk
            .x
            .as_deref()
            .and_then(|x| jsonwebtoken::DecodingKey::from_ed_components(x).ok()),
        Alg::ES256 => jwk
            .x
            .as_deref()
            .zip(jwk.y.as_deref())
            .and_then(|(x, y)| jsonwebtoken::DecodingKey::from_ec_components(x, y).ok()),
        Alg::PS256 | Alg::RS256 => jwk
            .n
            .as_deref()
            .zip(jwk.e.as_deref())
            .and_then(|(n, e)| jsonwebtoken::DecodingKey::from_rsa_components(n, e).ok()),
    };
    let Some(decoding) = decoding else {
        return Ok(None);
    };
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let Ok(data) = jsonwebtoken::decode::<AccessClaims>(jwt, &decoding, &v) else {
        return Ok(None);
    };
    let c = data.claims;
    if c.iss != issuer(state) || state.clock.now().0 >= c.exp {
        return Ok(None);
    }
    Ok(Some(c))
}

/// UserInfo (OpenID Connect Core §5.3) for a bearer access token: the claims its scope
/// releases. A bad, expired or foreign token is `invalid_token`.
pub async fn userinfo(
    state: &App,
    access_token: &str,
) -> Result<Result<UserInfo, OAuthError>, AppError> {
    let invalid = || {
        Ok(Err(OAuthError::new(
            "invalid_token",
            "the access token is not valid",
        )))
    };
    let Some(c) = verify_access_token(state, access_token).await? else {
        return invalid();
    };
    let pk = state
        .secrets
        .open(&c.sks, &login_aad(&c.client_id))
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok());
    let Some(pk) = pk else {
        return invalid();
    };
    let Some(login) = state.store.login_by_pk(pk).await?.filter(|l| !l.disabled) else {
        return invalid();
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
