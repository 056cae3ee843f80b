//! The SQL implementation of [`FlowStore`].

use crate::flows::{FlowStore, StoredFlow};
use crate::sql::{ts, SqlStore};
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

fn from_row(r: &AnyRow) -> Result<StoredFlow, sqlx::Error> {
    Ok(StoredFlow {
        id: r.try_get("id")?,
        payload: r.try_get("payload")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
    })
}

#[async_trait]
impl FlowStore for SqlStore {
    async fn create_flow(
        &self,
        token_hash: &str,
        payload: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<StoredFlow> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_flows WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "INSERT INTO login_flows (token_hash, payload, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING id, payload, created_at, expires_at",
        )
        .bind(token_hash.to_owned())
        .bind(payload.to_owned())
        .bind(now.0)
        .bind(expires_at.0)
        .fetch_one(&mut *tx)
        .await?;
        let flow = from_row(&row)?;
        tx.commit().await?;
        Ok(flow)
    }

    async fn open_flow(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<StoredFlow>> {
        // From the write pool: another instance may have made or finished it a moment ago.
        let row = sqlx::query(
            "SELECT id, payload, created_at, expires_at FROM login_flows \
             WHERE token_hash = $1 AND finished_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash.to_owned())
        .bind(now.0)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| from_row(&r)).transpose()?)
    }

    async fn finish_flow(&self, token_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE login_flows SET finished_at = $2 \
             WHERE token_hash = $1 AND finished_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash.to_owned())
        .bind(now.0)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn mark_session_fresh(&self, session_id: i64, until: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO session_reauth (session_id, fresh_until) VALUES ($1, $2) \
             ON CONFLICT (session_id) DO UPDATE SET fresh_until = excluded.fresh_until",
        )
        .bind(session_id)
        .bind(until.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn session_is_fresh(&self, session_id: i64, now: Timestamp) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM session_reauth WHERE session_id = $1 AND fresh_until > $2",
        )
        .bind(session_id)
        .bind(now.0)
        .fetch_one(&self.write)
        .await?;
        Ok(n > 0)
    }
}
