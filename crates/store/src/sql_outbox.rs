//! The lease both durable outboxes use (mail, back-channel logout): a sender claims the oldest
//! due row by moving its `next_attempt_at` to the end of a lease and counting the attempt; it
//! then marks the row sent, failed, or due again later. A sender that dies mid-attempt leaves
//! the row to come due again when its lease ends, so a delivery is retried, never lost; the
//! receiver may see it twice only when the sender died between delivering and marking it.

use crate::sql::SqlStore;
use crate::sql_audit::commit_audited;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;

/// An outbox table and the columns a claim answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outbox {
    pub table: &'static str,
    pub cols: &'static str,
}

impl Outbox {
    /// Claims the oldest due row until `lease_until`. The repeated condition makes the claim
    /// exact: of two senders that picked the same row, the second finds it no longer due and
    /// takes nothing.
    pub async fn claim(
        self,
        s: &SqlStore,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        let Outbox { table, cols } = self;
        sqlx::query(&format!(
            "UPDATE {table} SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id = (SELECT id FROM {table} WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT 1) AND state = 'pending' AND next_attempt_at <= $1 \
             RETURNING {cols}"
        ))
        .bind(now.0)
        .bind(lease_until.0)
        .fetch_optional(&s.write)
        .await
    }

    /// Marks a claimed row delivered (`also` sets more columns, e.g. clears a body), with its
    /// audit record if any, in one transaction.
    pub async fn sent(
        self,
        s: &SqlStore,
        id: i64,
        now: Timestamp,
        also: &str,
        audit: Option<&NewAuditEvent>,
    ) -> Result<(), sqlx::Error> {
        let table = self.table;
        let mut tx = s.begin_write().await?;
        let done = sqlx::query(&format!(
            "UPDATE {table} SET state = 'sent', sent_at = $2, last_error = NULL{also} \
             WHERE id = $1 AND state = 'pending'"
        ))
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited(tx, audit.filter(|_| done).as_slice()).await
    }

    /// A failed attempt to be tried again at `next_attempt_at`.
    pub async fn retry(
        self,
        s: &SqlStore,
        id: i64,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let table = self.table;
        sqlx::query(&format!(
            "UPDATE {table} SET last_error = $2, next_attempt_at = $3 \
             WHERE id = $1 AND state = 'pending'"
        ))
        .bind(id)
        .bind(error.to_owned())
        .bind(next_attempt_at.0)
        .execute(&s.write)
        .await?;
        Ok(())
    }

    /// Gives a row up, with its audit record, in one transaction.
    pub async fn failed(
        self,
        s: &SqlStore,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> Result<(), sqlx::Error> {
        let table = self.table;
        let mut tx = s.begin_write().await?;
        let done = sqlx::query(&format!(
            "UPDATE {table} SET state = 'failed', failed_at = $2, last_error = $3 \
             WHERE id = $1 AND state = 'pending'"
        ))
        .bind(id)
        .bind(now.0)
        .bind(error.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited(tx, done.then_some(audit).as_slice()).await
    }
}
