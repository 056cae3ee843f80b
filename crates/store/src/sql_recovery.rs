//! The SQL implementation of [`RecoveryStore`].

use crate::recovery::{RecoveryStatus, RecoveryStore};
use crate::sql::{opt_ts, ts, Counter, SqlStore};
use crate::sql_audit::commit_audited;
use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::Row;

#[async_trait]
impl RecoveryStore for SqlStore {
    async fn recovery_status(&self, login_pk: i64) -> StoreResult<Option<RecoveryStatus>> {
        let row = sqlx::query(
            "SELECT s.created_at, s.failed_attempts, s.locked_at, \
             (SELECT COUNT(*) FROM recovery_codes c WHERE c.login_pk = s.id AND c.used_at IS NULL) \
             AS remaining FROM recovery_code_sets s WHERE s.id = $1",
        )
        .bind(login_pk)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(RecoveryStatus {
            created_at: ts(&r, "created_at")?,
            remaining: r.try_get("remaining")?,
            failed_attempts: r.try_get("failed_attempts")?,
            locked_at: opt_ts(&r, "locked_at")?,
        }))
    }

    async fn replace_recovery_codes(
        &self,
        login_pk: i64,
        hashes: &[String],
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE login_pk = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_code_sets WHERE id = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO recovery_code_sets (id, created_at) VALUES ($1, $2)")
            .bind(login_pk)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (login_pk, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(login_pk)
            .bind(h.clone())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(())
    }

    async fn consume_recovery_code(
        &self,
        login_pk: i64,
        hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        // One statement: the row lock (PostgreSQL) or the write lock (SQLite) lets only one of
        // concurrent uses find the code unused.
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE login_pk = $1 AND code_hash = $2 AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM recovery_code_sets s WHERE s.id = $1 AND s.locked_at IS NULL)",
        )
        .bind(login_pk)
        .bind(hash.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !used {
            return Ok(None);
        }
        sqlx::query("UPDATE recovery_code_sets SET failed_attempts = 0 WHERE id = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS remaining FROM recovery_codes WHERE login_pk = $1 AND used_at IS NULL",
        )
        .bind(login_pk)
        .fetch_one(&mut *tx)
        .await?;
        let remaining: i64 = row.try_get("remaining")?;
        let mut ev = audit.clone();
        ev.description = format!("{} ({remaining} left)", ev.description);
        commit_audited(tx, &[&ev]).await?;
        Ok(Some(remaining))
    }

    async fn fail_recovery_code(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        self.count_failure(
            Counter::Recovery,
            login_pk,
            threshold,
            now,
            audit,
            lock_audit,
        )
        .await
    }
}
