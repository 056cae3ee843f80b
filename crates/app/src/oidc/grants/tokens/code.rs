//! The code exchange: the code is read and checked, then the request's writes (the client's
//! request counted, the assertion's and the proof's `jti`s, the code used, the grant with its
//! refresh token and the audit record) go to the database in one transaction. On SQLite every
//! write transaction waits for the one writer, so one per exchange instead of six is what the
//! endpoint's rate rests on (docs/benchmarks.md).

use super::*;

/// Exchanges an authorization code for tokens (see [`token`]).
pub(super) async fn exchange(
    state: &App,
    c: &Client,
    w: &mut Unwritten,
    params: &Params,
    jkt: Option<String>,
    client: &ClientInfo,
) -> Result<Result<Tokens, Refused>, AppError> {
    let now = state.clock.now();
    let get = |n: &str| single(params, n).map_err(|e| (None, e));
    let code_hash = hash(tri!(get("code")).unwrap_or_default());
    let Some(found) = state.store.get_oidc_code(&code_hash).await? else {
        return Ok(Err((None, OAuthError::grant("unknown code"))));
    };
    if found.used_at.is_some() {
        tri!(w.settle(state, c, client).await?);
        return reused(state, &code_hash, &found, now, client).await;
    }
    let code = found.code;
    let login = state.store.login_by_pk(code.login_pk).await?;
    let login_id = login.as_ref().map(|l| l.login_id.clone());
    let verifier = tri!(get("code_verifier")).unwrap_or_default();
    let why = if code.client_id != c.client_id {
        Some("the code was issued to another client")
    } else if now >= code.expires_at {
        Some("the code has expired")
    } else if tri!(get("redirect_uri")) != Some(code.redirect_uri.as_str()) {
        Some("redirect_uri differs from the authorization request's")
    } else if !request::pkce_verifies(verifier, &code.code_challenge) {
        Some("code_verifier does not match the code_challenge")
    } else if code.dpop_jkt.is_some() && code.dpop_jkt != jkt {
        Some("the code is bound to another DPoP key (dpop_jkt)")
    } else if login.as_ref().is_none_or(|l| l.disabled) {
        Some("the login no longer exists or is disabled")
    } else {
        None
    };
    let (Some(login), None) = (login, why) else {
        // Refused: the request's writes first (a replayed assertion or proof is the answer, and
        // costs the code nothing), then the code is spent all the same.
        tri!(w.settle(state, c, client).await?);
        if let CodeTake::Reused(used) = state.store.take_oidc_code(&code_hash, now).await? {
            return reused(state, &code_hash, &used, now, client).await;
        }
        let why = why.unwrap_or("the login no longer exists or is disabled");
        return Ok(Err((login_id, OAuthError::grant(why))));
    };
    let scopes: Vec<&str> = code.scope.split_whitespace().collect();
    let with_refresh = c.metadata.grant_types.contains(&GrantType::RefreshToken)
        && (c.metadata.first_party || scopes.contains(&"offline_access"));
    let refresh_secs = state
        .settings
        .oidc
        .refresh_token_days
        .saturating_mul(86_400);
    let grant = NewTokenGrant {
        grant_id: token::generate("skgr", state.rng.as_ref()),
        client_id: c.client_id.clone(),
        login_pk: login.id,
        session_id: code.session_id,
        scope: code.scope.clone(),
        auth_time: code.auth_time,
        acr: code.acr.clone(),
        amr: code.amr.clone(),
        dpop_jkt: jkt.clone(),
        code_hash: code_hash.clone(),
        created_at: now,
        expires_at: now.plus_secs(if with_refresh {
            refresh_secs
        } else {
            ACCESS_TOKEN_SECS
        }),
    };
    let refresh_token = with_refresh.then(|| token::generate("skrt", state.rng.as_ref()));
    let stored = refresh_token.as_ref().map(|t| NewRefreshToken {
        token_hash: hash(t),
        grant_id: grant.grant_id.clone(),
        created_at: now,
        expires_at: now.plus_secs(refresh_secs),
    });
    let details: Option<serde_json::Value> = code
        .authorization_details
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| Error::Internal)?;
    let ev = state.event(
        EventType::OidcTokenIssued,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "client {}: tokens issued (scope {}{}{}{})",
            c.client_id,
            code.scope,
            operation_words(details.as_ref()),
            if with_refresh { ", refresh token" } else { "" },
            if jkt.is_some() { ", DPoP-bound" } else { "" },
        ),
    );
    let mut pending = std::mem::take(w);
    let spend = crate::throttle::oidc_client_spend(state, &c.client_id);
    let jtis: Vec<JtiUse> = pending
        .client_jti
        .iter()
        .chain(pending.proof_jti.iter())
        .cloned()
        .collect();
    let redemption = Redemption {
        throttle: pending.count.then_some(&spend),
        jtis: &jtis,
        grant: &grant,
        refresh: stored.as_ref(),
        audit: &[&ev],
    };
    match state.store.redeem_oidc_code(redemption).await? {
        Redeemed::Done => {}
        Redeemed::Throttled { retry_after_ms } => {
            return Err(crate::throttle::oidc_client_spent(state, retry_after_ms))
        }
        Redeemed::Replayed(_) | Redeemed::CodeUsed => {
            // Nothing was written. The writes one at a time, as for any other answer (a replay
            // is refused there), then the code alone: a racing request may have used it.
            tri!(pending.settle(state, c, client).await?);
            let alone = Redemption {
                throttle: None,
                jtis: &[],
                ..redemption
            };
            if state.store.redeem_oidc_code(alone).await? != Redeemed::Done {
                return match state.store.take_oidc_code(&code_hash, now).await? {
                    CodeTake::Reused(used) => reused(state, &code_hash, &used, now, client).await,
                    _ => Ok(Err((login_id, OAuthError::grant("unknown code")))),
                };
            }
        }
    }
    let tokens = issue(state, c, &grant, &login, Some(&code), refresh_token, client).await?;
    Ok(Ok(tokens))
}

/// A code used before: what its first use issued is revoked (RFC 6749 §4.1.2).
async fn reused(
    state: &App,
    code_hash: &str,
    used: &OidcCode,
    now: Timestamp,
    client: &ClientInfo,
) -> Result<Result<Tokens, Refused>, AppError> {
    let login = state.store.login_by_pk(used.code.login_pk).await?;
    let login_id = login.map(|l| l.login_id);
    let revoked = state
        .store
        .revoke_grants_for_code(code_hash, "code_reuse", now)
        .await?;
    for g in &revoked {
        revoked_event(
            state,
            login_id.as_deref(),
            &g.grant,
            "code used twice",
            client,
        )
        .await?;
    }
    let e = OAuthError::grant("the code was used before; what it issued is revoked");
    Ok(Err((login_id, e)))
}
