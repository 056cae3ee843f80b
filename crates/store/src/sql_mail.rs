//! The SQL implementation of [`MailStore`].

use crate::mail::{MailState, MailStore, NewMail, OutboxMail};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const MAIL_COLS: &str = "id, uid, login_id, recipient, kind, subject, body_enc, state, attempts, \
    next_attempt_at, last_error, created_at, sent_at, failed_at";

fn mail_from_row(r: &AnyRow) -> Result<OutboxMail, sqlx::Error> {
    Ok(OutboxMail {
        id: r.try_get("id")?,
        uid: r.try_get("uid")?,
        login_id: r.try_get("login_id")?,
        recipient: r.try_get("recipient")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        body_enc: r.try_get("body_enc")?,
        state: MailState::parse(&r.try_get::<String, _>("state")?).unwrap_or(MailState::Pending),
        attempts: r.try_get("attempts")?,
        next_attempt_at: ts(r, "next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: ts(r, "created_at")?,
        sent_at: opt_ts(r, "sent_at")?,
        failed_at: opt_ts(r, "failed_at")?,
    })
}

/// Records a mail inside a caller's transaction, so it exists exactly when the change does.
pub(crate) async fn insert_mail(conn: &mut AnyConnection, m: &NewMail) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mail_outbox (uid, login_id, recipient, kind, subject, body_enc, state, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
    )
    .bind(m.uid.clone())
    .bind(m.login_id.clone())
    .bind(m.recipient.clone())
    .bind(m.kind.clone())
    .bind(m.subject.clone())
    .bind(m.body_enc.clone())
    .bind(m.now.0)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl MailStore for SqlStore {
    async fn enqueue_mail(&self, mail: &NewMail) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        Ok(insert_mail(&mut conn, mail).await?)
    }

    async fn claim_mail(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxMail>> {
        // The repeated condition makes the claim exact: of two senders that picked the same
        // mail, the second finds it no longer due and takes nothing.
        let row = sqlx::query(&format!(
            "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id = (SELECT id FROM mail_outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT 1) AND state = 'pending' AND next_attempt_at <= $1 \
             RETURNING {MAIL_COLS}"
        ))
        .bind(now.0)
        .bind(lease_until.0)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| mail_from_row(&r)).transpose()?)
    }

    async fn mail_sent(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET state = 'sent', sent_at = $2, body_enc = '', last_error = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn mail_retry(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET last_error = $2, next_attempt_at = $3 \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(error.to_owned())
        .bind(next_attempt_at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        let change = sqlx::query(
            "UPDATE mail_outbox SET state = 'failed', failed_at = $2, last_error = $3 \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(now.0)
        .bind(error.to_owned());
        let mut tx = self.begin_write().await?;
        let done = change.execute(&mut *tx).await?.rows_affected() > 0;
        Ok(commit_audited(tx, done.then_some(audit).as_slice()).await?)
    }

    async fn list_mail(
        &self,
        state: Option<MailState>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMail>> {
        let limit = i64::from(limit.clamp(1, 1000));
        let with_state = format!(
            "SELECT {MAIL_COLS} FROM mail_outbox WHERE state = $1 ORDER BY id DESC LIMIT $2"
        );
        let all = format!("SELECT {MAIL_COLS} FROM mail_outbox ORDER BY id DESC LIMIT $1");
        let rows = match state {
            Some(s) => sqlx::query(&with_state).bind(s.as_str()).bind(limit),
            None => sqlx::query(&all).bind(limit),
        }
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(mail_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }
}
