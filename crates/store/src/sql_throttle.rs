//! The SQL implementation of [`ThrottleStore`]: the same statements on SQLite and PostgreSQL.

use crate::sql::SqlStore;
use crate::throttle::{ThrottleAnswer, ThrottleSpend, ThrottleStore};
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::Row;

/// The GCRA check as one upsert. `$2` now, `$3` interval, `$4` tolerance. In `DO UPDATE SET`
/// every `throttle.` column is the row before the change, so `allowed` and `tat_ms` are
/// decided on the same old values; the row lock (PostgreSQL) or the write lock (SQLite) makes
/// concurrent checks of one bucket take turns.
const CHECK: &str = "INSERT INTO throttle (bucket, tat_ms, hold_until_ms, allowed) \
     VALUES ($1, $2 + $3, 0, 1) \
     ON CONFLICT (bucket) DO UPDATE SET \
       tat_ms = CASE \
         WHEN throttle.hold_until_ms <= $2 \
          AND (CASE WHEN throttle.tat_ms > $2 THEN throttle.tat_ms ELSE $2 END) - $2 <= $4 \
         THEN (CASE WHEN throttle.tat_ms > $2 THEN throttle.tat_ms ELSE $2 END) + $3 \
         ELSE throttle.tat_ms END, \
       allowed = CASE \
         WHEN throttle.hold_until_ms <= $2 \
          AND (CASE WHEN throttle.tat_ms > $2 THEN throttle.tat_ms ELSE $2 END) - $2 <= $4 \
         THEN 1 ELSE 0 END \
     RETURNING tat_ms, hold_until_ms, allowed";

/// Counts `s` with [`CHECK`] on `e` (the pool, or a transaction that counts its request with
/// its other writes).
pub(crate) async fn spend<'c, E>(e: E, s: &ThrottleSpend) -> Result<ThrottleAnswer, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(CHECK)
        .bind(s.bucket.clone())
        .bind(s.now_ms)
        .bind(s.interval_ms)
        .bind(s.tolerance_ms)
        .fetch_one(e)
        .await?;
    let allowed = row.try_get::<i64, _>("allowed")? != 0;
    let retry_after_ms = if allowed {
        0
    } else {
        let hold: i64 = row.try_get("hold_until_ms")?;
        let tat: i64 = row.try_get("tat_ms")?;
        if hold > s.now_ms {
            hold - s.now_ms
        } else {
            (tat - s.tolerance_ms - s.now_ms).max(1)
        }
    };
    Ok(ThrottleAnswer {
        allowed,
        retry_after_ms,
    })
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn throttle(
        &self,
        bucket: &str,
        now_ms: i64,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> StoreResult<ThrottleAnswer> {
        let s = ThrottleSpend {
            bucket: bucket.to_owned(),
            now_ms,
            interval_ms,
            tolerance_ms,
        };
        Ok(spend(&self.write, &s).await?)
    }

    async fn throttle_peek(
        &self,
        bucket: &str,
        now_ms: i64,
        tolerance_ms: i64,
    ) -> StoreResult<ThrottleAnswer> {
        let row = sqlx::query("SELECT tat_ms, hold_until_ms FROM throttle WHERE bucket = $1")
            .bind(bucket.to_owned())
            .fetch_optional(&self.read)
            .await?;
        let (tat, hold): (i64, i64) = match row {
            Some(r) => (r.try_get("tat_ms")?, r.try_get("hold_until_ms")?),
            None => (0, 0),
        };
        // The rule of `CHECK`, read only.
        let retry_after_ms = if hold > now_ms {
            hold - now_ms
        } else if tat.max(now_ms) - now_ms > tolerance_ms {
            (tat - tolerance_ms - now_ms).max(1)
        } else {
            0
        };
        Ok(ThrottleAnswer {
            allowed: retry_after_ms == 0,
            retry_after_ms,
        })
    }

    async fn throttle_hold(&self, bucket: &str, until_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO throttle (bucket, tat_ms, hold_until_ms, allowed) VALUES ($1, 0, $2, 1) \
             ON CONFLICT (bucket) DO UPDATE SET hold_until_ms = CASE \
               WHEN throttle.hold_until_ms > $2 THEN throttle.hold_until_ms ELSE $2 END",
        )
        .bind(bucket.to_owned())
        .bind(until_ms)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn throttle_fail(&self, bucket: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO throttle (bucket, tat_ms, hold_until_ms, allowed, failures) \
             VALUES ($1, 0, 0, 1, 1) \
             ON CONFLICT (bucket) DO UPDATE SET failures = throttle.failures + 1 \
             RETURNING failures",
        )
        .bind(bucket.to_owned())
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("failures")?)
    }

    async fn throttle_forgive(&self, bucket: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE throttle SET failures = 0, hold_until_ms = 0 \
             WHERE bucket = $1 AND (failures > 0 OR hold_until_ms > 0)",
        )
        .bind(bucket.to_owned())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn purge_throttle(&self, now_ms: i64, retain_ms: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM throttle WHERE tat_ms <= $1 AND hold_until_ms <= $2")
                .bind(now_ms)
                .bind(now_ms.saturating_sub(retain_ms))
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }

    async fn lift_password_lock(
        &self,
        login_pk: i64,
        locked_before: Timestamp,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE logins SET failed_logins = 0, locked_at = NULL, updated_at = $3 \
             WHERE id = $1 AND locked_at IS NOT NULL AND locked_at <= $2",
        )
        .bind(login_pk)
        .bind(locked_before.0)
        .bind(now.0);
        self.change_audited(change, audit).await
    }
}
