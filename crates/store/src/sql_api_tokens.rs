//! API tokens (stored by hash) for the systems that call the admin, validate and step-up APIs.

use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::{ApiToken, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::token::ApiScope;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A scope this version does not know grants nothing: the token cannot be read, so it is refused.
fn scope(r: &AnyRow) -> Result<ApiScope, sqlx::Error> {
    let name: &str = r.try_get("scope")?;
    ApiScope::parse(name)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown API token scope {name:?}").into()))
}

fn token_from_row(r: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scope: scope(r)?,
        created_at: ts(r, "created_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

impl SqlStore {
    pub(crate) async fn create_api_token(
        &self,
        name: &str,
        scope: ApiScope,
        token_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, scope, created_at, revoked_at",
        )
        .bind(name.to_owned())
        .bind(scope.as_str())
        .bind(token_hash.to_owned())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let token = token_from_row(&row)?;
        let mut ev = audit.clone();
        ev.description = format!("{} (id {})", audit.description, token.id);
        commit_audited(tx, &[&ev]).await?;
        Ok(token)
    }

    pub(crate) async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let row = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| token_from_row(&r)).transpose()?)
    }

    pub(crate) async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(token_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    pub(crate) async fn revoke_api_token(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited(tx, done.then_some(audit).as_slice()).await?;
        Ok(Some(done))
    }
}
