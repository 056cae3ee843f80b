//! Archiving the audit trail: where an archive ends (the first record at a date), and the removal
//! of the archived records, which leaves the archived head for the remaining trail to link to.

use crate::sql::SqlStore;
use crate::sql_audit::commit_audited;
use crate::{StoreError, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::audit_chain::ChainPoint;
use sekisho_core::Timestamp;
use sqlx::Row;

impl SqlStore {
    pub(crate) async fn first_audit_since(
        &self,
        after: i64,
        time: Timestamp,
    ) -> StoreResult<Option<i64>> {
        // In ID order through the primary key: the walk stops at the first record of `time`,
        // having passed only the records an archive is about to read anyway.
        let row = sqlx::query(
            "SELECT id FROM audit_events WHERE id > $1 AND time >= $2 ORDER BY id LIMIT 1",
        )
        .bind(after)
        .bind(time.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("id")).transpose()?)
    }

    pub(crate) async fn drop_archived_audit(
        &self,
        from: &ChainPoint,
        through: &ChainPoint,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        // The head row, locked (PostgreSQL) for the rest of the transaction: two archivings
        // cannot both start from the same point.
        let head = sqlx::query(
            "UPDATE audit_head SET last_id = last_id WHERE id = 1 \
             RETURNING chain_start, archived_id, archived_hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        let chain_start: i64 = head.try_get("chain_start")?;
        let archived_id: Option<i64> = head.try_get("archived_id")?;
        let archived_hash: Option<String> = head.try_get("archived_hash")?;
        let base = archived_id
            .zip(archived_hash)
            .map(|(id, hash)| ChainPoint { id, hash })
            .unwrap_or_else(|| ChainPoint::genesis(chain_start));
        if base != *from || through.id <= from.id {
            return Err(StoreError::Conflict);
        }
        let stored: Option<Option<String>> =
            sqlx::query("SELECT chain_hash FROM audit_events WHERE id = $1")
                .bind(through.id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("chain_hash"))
                .transpose()?;
        if stored.flatten().as_deref() != Some(through.hash.as_str()) {
            return Err(StoreError::Conflict);
        }
        // The head moves first: the append-only trigger lets go only of records at or below it.
        sqlx::query("UPDATE audit_head SET archived_id = $1, archived_hash = $2 WHERE id = 1")
            .bind(through.id)
            .bind(through.hash.clone())
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM audit_events WHERE id > $1 AND id <= $2")
            .bind(from.id)
            .bind(through.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        commit_audited(tx, &[audit]).await?;
        Ok(removed)
    }
}
