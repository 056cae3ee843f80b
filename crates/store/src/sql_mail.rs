//! The SQL implementation of [`MailStore`].

use crate::mail::{MailState, MailStore, NewMail, OutboxMail};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_outbox::Outbox;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const MAIL_COLS: &str = "id, uid, login_id, recipient, kind, subject, body_enc, state, attempts, \
    next_attempt_at, last_error, created_at, sent_at, failed_at";

const MAIL: Outbox = Outbox {
    table: "mail_outbox",
    cols: MAIL_COLS,
};

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
        let row = MAIL.claim(self, now, lease_until).await?;
        Ok(row.map(|r| mail_from_row(&r)).transpose()?)
    }

    async fn mail_sent(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        // The body is no longer needed once delivered.
        Ok(MAIL.sent(self, id, now, ", body_enc = ''", None).await?)
    }

    async fn mail_retry(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        Ok(MAIL.retry(self, id, error, next_attempt_at).await?)
    }

    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        Ok(MAIL.failed(self, id, error, now, audit).await?)
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
