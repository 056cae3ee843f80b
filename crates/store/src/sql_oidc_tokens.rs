//! The SQL implementation of [`OidcTokenStore`].

use crate::oidc_tokens::{
    NewRefreshToken, NewTokenGrant, OidcTokenStore, Redeemed, Redemption, RefreshToken, TokenGrant,
};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const GRANT_RETURNING: &str = "grant_id, client_id, login_pk, session_id, scope, auth_time, \
                               acr, amr, dpop_jkt, code_hash, created_at, expires_at, revoked_at, \
                               revoked_reason";

const GRANT_COLS: &str = "g.grant_id, g.client_id, g.login_pk, g.session_id, g.scope, \
                          g.auth_time, g.acr, g.amr, g.dpop_jkt, g.code_hash, g.created_at, \
                          g.expires_at, g.revoked_at, g.revoked_reason";

fn grant_row(r: &AnyRow) -> Result<TokenGrant, sqlx::Error> {
    Ok(TokenGrant {
        grant: NewTokenGrant {
            grant_id: r.try_get("grant_id")?,
            client_id: r.try_get("client_id")?,
            login_pk: r.try_get("login_pk")?,
            session_id: r.try_get("session_id")?,
            scope: r.try_get("scope")?,
            auth_time: ts(r, "auth_time")?,
            acr: r.try_get("acr")?,
            amr: r.try_get("amr")?,
            dpop_jkt: r.try_get("dpop_jkt")?,
            code_hash: r.try_get("code_hash")?,
            created_at: ts(r, "created_at")?,
            expires_at: ts(r, "expires_at")?,
        },
        revoked_at: opt_ts(r, "revoked_at")?,
        revoked_reason: r.try_get("revoked_reason")?,
    })
}

async fn insert_grant<'c, E>(e: E, g: &NewTokenGrant) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO oidc_token_grants (grant_id, client_id, login_pk, session_id, scope, \
         auth_time, acr, amr, dpop_jkt, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(g.grant_id.clone())
    .bind(g.client_id.clone())
    .bind(g.login_pk)
    .bind(g.session_id)
    .bind(g.scope.clone())
    .bind(g.auth_time.0)
    .bind(g.acr.clone())
    .bind(g.amr.clone())
    .bind(g.dpop_jkt.clone())
    .bind(g.code_hash.clone())
    .bind(g.created_at.0)
    .bind(g.expires_at.0)
    .execute(e)
    .await?;
    Ok(())
}

async fn insert_refresh<'c, E>(e: E, t: &NewRefreshToken) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(t.token_hash.clone())
    .bind(t.grant_id.clone())
    .bind(t.created_at.0)
    .bind(t.expires_at.0)
    .execute(e)
    .await?;
    Ok(())
}

impl SqlStore {
    /// Revokes the live grants `filter` selects (binding `$3`, `$4`… as `binds`), returning them.
    async fn revoke_where(
        &self,
        filter: &str,
        binds: Vec<BindValue>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>> {
        let sql = format!(
            "UPDATE oidc_token_grants SET revoked_at = $1, revoked_reason = $2 \
             WHERE revoked_at IS NULL AND {filter} RETURNING {GRANT_RETURNING}"
        );
        let mut q = sqlx::query(&sql).bind(now.0).bind(reason.to_owned());
        for b in binds {
            q = match b {
                BindValue::Int(i) => q.bind(i),
                BindValue::Text(s) => q.bind(s),
            };
        }
        let rows = q.fetch_all(&self.write).await?;
        Ok(rows.iter().map(grant_row).collect::<Result<_, _>>()?)
    }
}

enum BindValue {
    Int(i64),
    Text(String),
}

#[async_trait]
impl OidcTokenStore for SqlStore {
    async fn redeem_oidc_code(&self, r: Redemption<'_>) -> StoreResult<Redeemed> {
        let mut tx = self.begin_write().await?;
        if let Some(t) = r.throttle {
            let answer = crate::sql_throttle::spend(&mut *tx, t).await?;
            if !answer.allowed {
                return Ok(Redeemed::Throttled {
                    retry_after_ms: answer.retry_after_ms,
                });
            }
        }
        let now = r.grant.created_at;
        for (i, u) in r.jtis.iter().enumerate() {
            if !crate::sql_oidc_grants::use_jti(&mut *tx, u, now).await? {
                return Ok(Redeemed::Replayed(i));
            }
        }
        let used = sqlx::query(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(r.grant.code_hash.clone())
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !used {
            return Ok(Redeemed::CodeUsed);
        }
        insert_grant(&mut *tx, r.grant).await?;
        if let Some(t) = r.refresh {
            insert_refresh(&mut *tx, t).await?;
        }
        commit_audited(tx, r.audit).await?;
        Ok(Redeemed::Done)
    }

    async fn get_token_grant(&self, grant_id: &str) -> StoreResult<Option<TokenGrant>> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLS} FROM oidc_token_grants AS g WHERE g.grant_id = $1"
        ))
        .bind(grant_id.to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| grant_row(&r)).transpose()?)
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = sqlx::query(&format!(
            "SELECT t.token_hash, t.created_at AS t_created_at, t.expires_at AS t_expires_at, \
             t.used_at, {GRANT_COLS} FROM oidc_refresh_tokens AS t \
             JOIN oidc_token_grants AS g ON g.grant_id = t.grant_id WHERE t.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.write)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let grant = grant_row(&r)?;
        Ok(Some(RefreshToken {
            token: NewRefreshToken {
                token_hash: r.try_get("token_hash")?,
                grant_id: grant.grant.grant_id.clone(),
                created_at: ts(&r, "t_created_at")?,
                expires_at: ts(&r, "t_expires_at")?,
            },
            used_at: opt_ts(&r, "used_at")?,
            grant,
        }))
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &NewRefreshToken,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE oidc_refresh_tokens SET used_at = $2 WHERE token_hash = $1 \
             AND used_at IS NULL AND expires_at > $2 AND grant_id = $3 AND grant_id IN \
             (SELECT grant_id FROM oidc_token_grants WHERE revoked_at IS NULL)",
        )
        .bind(old_hash.to_owned())
        .bind(now.0)
        .bind(new.grant_id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !used {
            return Ok(false);
        }
        insert_refresh(&mut *tx, new).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_token_grant(
        &self,
        grant_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = self
            .revoke_where(
                "grant_id = $3",
                vec![BindValue::Text(grant_id.to_owned())],
                reason,
                now,
            )
            .await?;
        Ok(!done.is_empty())
    }

    async fn revoke_grants_for_code(
        &self,
        code_hash: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>> {
        self.revoke_where(
            "code_hash = $3",
            vec![BindValue::Text(code_hash.to_owned())],
            reason,
            now,
        )
        .await
    }

    async fn revoke_grants_for_session(
        &self,
        session_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>> {
        self.revoke_where(
            "session_id = $3",
            vec![BindValue::Int(session_id)],
            reason,
            now,
        )
        .await
    }

    async fn revoke_grants_for_client(
        &self,
        login_pk: i64,
        client_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>> {
        self.revoke_where(
            "login_pk = $3 AND client_id = $4",
            vec![
                BindValue::Int(login_pk),
                BindValue::Text(client_id.to_owned()),
            ],
            reason,
            now,
        )
        .await
    }

    async fn purge_token_grants(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for table in ["oidc_refresh_tokens", "oidc_token_grants"] {
            n += sqlx::query(&format!(
                "DELETE FROM {table} WHERE id IN \
                 (SELECT id FROM {table} WHERE expires_at < $1 LIMIT $2)"
            ))
            .bind(before.0)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }
}
