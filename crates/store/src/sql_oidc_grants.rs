//! The SQL implementation of [`OidcGrantStore`].

use crate::oidc_grants::{
    CodeTake, JtiUse, NewOidcCode, NewOidcRequest, OidcCode, OidcGrantStore, OidcRequest,
    RequestKind,
};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::sql_query::placeholders;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Codes per statement when seeding (15 values each, under both backends' parameter limits).
const SEED_ROWS: usize = 100;

const REQUEST_COLS: &str = "handle_hash, kind, client_id, params, created_at, expires_at, used_at";

const CODE_COLS: &str = "code_hash, client_id, redirect_uri, code_challenge, nonce, scope, \
                         login_pk, session_id, auth_time, acr, amr, dpop_jkt, authorization_details, \
                         created_at, expires_at, used_at";

fn request_row(r: &AnyRow) -> Result<OidcRequest, sqlx::Error> {
    Ok(OidcRequest {
        request: NewOidcRequest {
            handle_hash: r.try_get("handle_hash")?,
            kind: RequestKind::parse(&r.try_get::<String, _>("kind")?),
            client_id: r.try_get("client_id")?,
            params: r.try_get("params")?,
            created_at: ts(r, "created_at")?,
            expires_at: ts(r, "expires_at")?,
        },
        used_at: opt_ts(r, "used_at")?,
    })
}

fn code_row(r: &AnyRow) -> Result<OidcCode, sqlx::Error> {
    Ok(OidcCode {
        code: NewOidcCode {
            code_hash: r.try_get("code_hash")?,
            client_id: r.try_get("client_id")?,
            redirect_uri: r.try_get("redirect_uri")?,
            code_challenge: r.try_get("code_challenge")?,
            nonce: r.try_get("nonce")?,
            scope: r.try_get("scope")?,
            login_pk: r.try_get("login_pk")?,
            session_id: r.try_get("session_id")?,
            auth_time: ts(r, "auth_time")?,
            acr: r.try_get("acr")?,
            amr: r.try_get("amr")?,
            dpop_jkt: r.try_get("dpop_jkt")?,
            authorization_details: r.try_get("authorization_details")?,
            created_at: ts(r, "created_at")?,
            expires_at: ts(r, "expires_at")?,
        },
        used_at: opt_ts(r, "used_at")?,
    })
}

#[async_trait]
impl OidcGrantStore for SqlStore {
    async fn create_oidc_request(&self, n: &NewOidcRequest) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oidc_requests (handle_hash, kind, client_id, params, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(n.handle_hash.clone())
        .bind(n.kind.as_str())
        .bind(n.client_id.clone())
        .bind(n.params.clone())
        .bind(n.created_at.0)
        .bind(n.expires_at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn get_oidc_request(
        &self,
        handle_hash: &str,
        kind: RequestKind,
    ) -> StoreResult<Option<OidcRequest>> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLS} FROM oidc_requests WHERE handle_hash = $1 AND kind = $2"
        ))
        .bind(handle_hash.to_owned())
        .bind(kind.as_str())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| request_row(&r)).transpose()?)
    }

    async fn take_oidc_request(
        &self,
        handle_hash: &str,
        kind: RequestKind,
        now: Timestamp,
    ) -> StoreResult<Option<NewOidcRequest>> {
        let row = sqlx::query(&format!(
            "UPDATE oidc_requests SET used_at = $3 WHERE handle_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3 RETURNING {REQUEST_COLS}"
        ))
        .bind(handle_hash.to_owned())
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| request_row(&r)).transpose()?.map(|r| r.request))
    }

    async fn issue_oidc_code(
        &self,
        handle_hash: &str,
        c: &NewOidcCode,
        sign_in: Option<&crate::SessionSignIn>,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE oidc_requests SET used_at = $3 WHERE handle_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(handle_hash.to_owned())
        .bind(RequestKind::Pending.as_str())
        .bind(c.created_at.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !used {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, code_challenge, nonce, \
             scope, login_pk, session_id, auth_time, acr, amr, created_at, expires_at, \
             dpop_jkt, authorization_details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(c.code_hash.clone())
        .bind(c.client_id.clone())
        .bind(c.redirect_uri.clone())
        .bind(c.code_challenge.clone())
        .bind(c.nonce.clone())
        .bind(c.scope.clone())
        .bind(c.login_pk)
        .bind(c.session_id)
        .bind(c.auth_time.0)
        .bind(c.acr.clone())
        .bind(c.amr.clone())
        .bind(c.created_at.0)
        .bind(c.expires_at.0)
        .bind(c.dpop_jkt.clone())
        .bind(c.authorization_details.clone())
        .execute(&mut *tx)
        .await?;
        if let Some(si) = sign_in {
            crate::sql_oidc_sessions::record_sign_in(&mut tx, si).await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    async fn seed_oidc_codes(&self, codes: &[NewOidcCode]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for chunk in codes.chunks(SEED_ROWS) {
            let sql = format!(
                "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, code_challenge, \
                 nonce, scope, login_pk, session_id, auth_time, acr, amr, created_at, \
                 expires_at, dpop_jkt, authorization_details) VALUES {}",
                placeholders(chunk.len(), 15)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(c.code_hash.clone())
                    .bind(c.client_id.clone())
                    .bind(c.redirect_uri.clone())
                    .bind(c.code_challenge.clone())
                    .bind(c.nonce.clone())
                    .bind(c.scope.clone())
                    .bind(c.login_pk)
                    .bind(c.session_id)
                    .bind(c.auth_time.0)
                    .bind(c.acr.clone())
                    .bind(c.amr.clone())
                    .bind(c.created_at.0)
                    .bind(c.expires_at.0)
                    .bind(c.dpop_jkt.clone())
                    .bind(c.authorization_details.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn take_oidc_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeTake> {
        let row = sqlx::query(&format!(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
             RETURNING {CODE_COLS}"
        ))
        .bind(code_hash.to_owned())
        .bind(now.0)
        .fetch_optional(&self.write)
        .await?;
        if let Some(r) = row {
            return Ok(CodeTake::First(code_row(&r)?));
        }
        let row = sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM oidc_codes WHERE code_hash = $1"
        ))
        .bind(code_hash.to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(match row {
            Some(r) => CodeTake::Reused(code_row(&r)?),
            None => CodeTake::Unknown,
        })
    }

    async fn use_client_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let u = JtiUse {
            key: client_id.to_owned(),
            jti: jti.to_owned(),
            expires_at,
        };
        Ok(use_jti(&self.write, &u, now).await?)
    }

    async fn get_oidc_code(&self, code_hash: &str) -> StoreResult<Option<OidcCode>> {
        let row = sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM oidc_codes WHERE code_hash = $1"
        ))
        .bind(code_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| code_row(&r)).transpose()?)
    }

    async fn login_by_pk(&self, login_pk: i64) -> StoreResult<Option<sekisho_core::login::Login>> {
        self.get_login_by_pk(login_pk).await
    }

    async fn purge_oidc_grants(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for (table, key, cols) in [
            ("oidc_requests", "id", "id"),
            ("oidc_codes", "id", "id"),
            ("oidc_jtis", "(client_id, jti)", "client_id, jti"),
        ] {
            n += sqlx::query(&format!(
                "DELETE FROM {table} WHERE {key} IN \
                 (SELECT {cols} FROM {table} WHERE expires_at < $1 LIMIT $2)"
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

/// Records `u` with one statement on `e`: false if its `jti` was seen before under its key and
/// has not expired at `now` (a replay). An expired record of it is taken over.
pub(crate) async fn use_jti<'c, E>(e: E, u: &JtiUse, now: Timestamp) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query(
        "INSERT INTO oidc_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE oidc_jtis.expires_at <= $4",
    )
    .bind(u.key.clone())
    .bind(u.jti.clone())
    .bind(u.expires_at.0)
    .bind(now.0)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}
