//! The SQL implementation of [`AccountStore`].

use crate::account::{AccountStore, PendingAddress};
use crate::mail::NewMail;
use crate::sql::{ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::sql_mail::insert_mail;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::Row;

#[async_trait]
impl AccountStore for SqlStore {
    async fn request_code_address(
        &self,
        login_pk: i64,
        p: &PendingAddress,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM code_address_changes WHERE login_pk = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO code_address_changes (login_pk, address, code_hash, failures, created_at, \
             expires_at) VALUES ($1, $2, $3, 0, $4, $5)",
        )
        .bind(login_pk)
        .bind(p.address.clone())
        .bind(p.code_hash.clone())
        .bind(p.created_at.0)
        .bind(p.expires_at.0)
        .execute(&mut *tx)
        .await?;
        insert_mail(&mut tx, mail).await?;
        Ok(commit_audited(tx, &[audit]).await?)
    }

    async fn pending_code_address(&self, login_pk: i64) -> StoreResult<Option<PendingAddress>> {
        let row = sqlx::query(
            "SELECT address, code_hash, failures, created_at, expires_at \
             FROM code_address_changes WHERE login_pk = $1",
        )
        .bind(login_pk)
        .fetch_optional(&self.read)
        .await?;
        Ok(row
            .map(|r| -> Result<PendingAddress, sqlx::Error> {
                Ok(PendingAddress {
                    address: r.try_get("address")?,
                    code_hash: r.try_get("code_hash")?,
                    failures: r.try_get("failures")?,
                    created_at: ts(&r, "created_at")?,
                    expires_at: ts(&r, "expires_at")?,
                })
            })
            .transpose()?)
    }

    async fn fail_code_address(&self, login_pk: i64, audit: &NewAuditEvent) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE code_address_changes SET failures = failures + 1 WHERE login_pk = $1 \
             RETURNING failures",
        )
        .bind(login_pk)
        .fetch_optional(&mut *tx)
        .await?;
        let failures = match row {
            Some(r) => r.try_get("failures")?,
            None => 0,
        };
        commit_audited(tx, &[audit]).await?;
        Ok(failures)
    }

    async fn confirm_code_address(
        &self,
        login_pk: i64,
        code_hash: &str,
        max_failures: i64,
        now: Timestamp,
        mails: &[NewMail],
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        // The conditions make the code single use and bound by its tries and time, on every
        // instance: of two confirmations, one deletes the row and the other finds none.
        let row = sqlx::query(
            "DELETE FROM code_address_changes WHERE login_pk = $1 AND code_hash = $2 \
             AND failures < $3 AND expires_at > $4 RETURNING address",
        )
        .bind(login_pk)
        .bind(code_hash.to_owned())
        .bind(max_failures)
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let address: String = row.try_get("address")?;
        sqlx::query("UPDATE logins SET code_email = $2, updated_at = $3 WHERE id = $1")
            .bind(login_pk)
            .bind(address.clone())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        for m in mails {
            insert_mail(&mut tx, m).await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(Some(address))
    }

    async fn clear_code_address(
        &self,
        login_pk: i64,
        now: Timestamp,
        mails: &[NewMail],
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM code_address_changes WHERE login_pk = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "UPDATE logins SET code_email = NULL, updated_at = $2 \
             WHERE id = $1 AND code_email IS NOT NULL",
        )
        .bind(login_pk)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if done {
            for m in mails {
                insert_mail(&mut tx, m).await?;
            }
        }
        commit_audited(tx, done.then_some(audit).as_slice()).await?;
        Ok(done)
    }
}
