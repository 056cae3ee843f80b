//! The SQL implementation of [`OperatorStore`].

use crate::operators::{Operator, OperatorFailure, OperatorSession, OperatorStore};
use crate::replay::advances;
use crate::sql::{named, opt_ts, ts, Counter, SqlStore};
use crate::sql_audit::commit_audited;
use crate::{FailureOutcome, StoreError, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::operator::OperatorRole;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const OPERATOR_COLS: &str = "id, name, role, password_hash, totp_secret_enc, totp_pending_enc, \
    totp_last_step, failed_logins, failed_codes, locked_at, disabled, setup_expires_at, \
    created_at, updated_at, last_login_at";

fn operator_from_row(r: &AnyRow) -> Result<Operator, sqlx::Error> {
    Ok(Operator {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: role(r)?,
        password_hash: r.try_get("password_hash")?,
        totp_secret_enc: r.try_get("totp_secret_enc")?,
        totp_pending_enc: r.try_get("totp_pending_enc")?,
        totp_last_step: r.try_get("totp_last_step")?,
        failed_logins: r.try_get("failed_logins")?,
        failed_codes: r.try_get("failed_codes")?,
        locked_at: opt_ts(r, "locked_at")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        setup_expires_at: opt_ts(r, "setup_expires_at")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_login_at: opt_ts(r, "last_login_at")?,
    })
}

/// An unknown stored role grants no more than the support desk's, as before roles were typed.
fn role(r: &AnyRow) -> Result<OperatorRole, sqlx::Error> {
    named(r, "role", OperatorRole::parse, OperatorRole::Support)
}

const SESSION_COLS: &str = "s.id, s.operator_pk, o.name, o.role, o.disabled, s.created_at, \
    s.last_seen_at, s.expires_at, s.revoked_at";

fn session_from_row(r: &AnyRow) -> Result<OperatorSession, sqlx::Error> {
    Ok(OperatorSession {
        id: r.try_get("id")?,
        operator_pk: r.try_get("operator_pk")?,
        name: r.try_get("name")?,
        role: role(r)?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        expires_at: ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

#[async_trait]
impl OperatorStore for SqlStore {
    async fn create_operator(
        &self,
        name: &str,
        role: OperatorRole,
        setup_hash: &str,
        setup_expires_at: Timestamp,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Operator> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO operators (name, role, setup_hash, setup_expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {OPERATOR_COLS}"
        ))
        .bind(name.to_owned())
        .bind(role.as_str())
        .bind(setup_hash.to_owned())
        .bind(setup_expires_at.0)
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let op = operator_from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(op)
    }

    async fn get_operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        let row = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators WHERE name = $1"
        ))
        .bind(name.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| operator_from_row(&r)).transpose()?)
    }

    async fn list_operators(&self) -> StoreResult<Vec<Operator>> {
        let rows = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators ORDER BY name"
        ))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(operator_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn find_operator_setup(
        &self,
        setup_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Operator>> {
        let row = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators \
             WHERE setup_hash = $1 AND setup_expires_at > $2 AND disabled = 0"
        ))
        .bind(setup_hash.to_owned())
        .bind(now.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| operator_from_row(&r)).transpose()?)
    }

    async fn set_operator_credentials(
        &self,
        id: i64,
        setup_hash: &str,
        password_hash: &str,
        totp_pending_enc: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE operators SET password_hash = $3, totp_pending_enc = $4, updated_at = $5 \
             WHERE id = $1 AND setup_hash = $2 AND setup_expires_at > $5",
        )
        .bind(id)
        .bind(setup_hash.to_owned())
        .bind(password_hash.to_owned())
        .bind(totp_pending_enc.to_owned())
        .bind(now.0)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    async fn complete_operator_setup(
        &self,
        id: i64,
        setup_hash: &str,
        step: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE operators SET totp_secret_enc = totp_pending_enc, totp_pending_enc = NULL, \
             totp_last_step = $3, setup_hash = NULL, setup_expires_at = NULL, failed_logins = 0, \
             failed_codes = 0, locked_at = NULL, updated_at = $4 \
             WHERE id = $1 AND setup_hash = $2 AND setup_expires_at > $4 \
             AND password_hash IS NOT NULL AND totp_pending_enc IS NOT NULL",
        )
        .bind(id)
        .bind(setup_hash.to_owned())
        .bind(step)
        .bind(now.0);
        self.change_audited(change, audit).await
    }

    async fn reset_operator_setup(
        &self,
        id: i64,
        setup_hash: &str,
        setup_expires_at: Timestamp,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE operators SET setup_hash = $2, setup_expires_at = $3, password_hash = NULL, \
             totp_secret_enc = NULL, totp_pending_enc = NULL, failed_logins = 0, failed_codes = 0, \
             locked_at = NULL, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(setup_hash.to_owned())
        .bind(setup_expires_at.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE operator_sessions SET revoked_at = $2 WHERE operator_pk = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    async fn update_operator(
        &self,
        id: i64,
        role: Option<OperatorRole>,
        disabled: Option<bool>,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE operators SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), \
             updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(role.map(OperatorRole::as_str))
        .bind(disabled.map(i64::from))
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        if disabled == Some(true) {
            sqlx::query(
                "UPDATE operator_sessions SET revoked_at = $2 WHERE operator_pk = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    async fn delete_operator(&self, id: i64, audit: &NewAuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM operator_sessions WHERE operator_pk = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM operators WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    async fn unlock_operator(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT locked_at FROM operators WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::Conflict)?;
        let was_locked = opt_ts(&row, "locked_at")?.is_some();
        sqlx::query(
            "UPDATE operators SET failed_logins = 0, failed_codes = 0, locked_at = NULL, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[audit]).await?;
        Ok(was_locked)
    }

    async fn record_operator_failure(
        &self,
        id: i64,
        kind: OperatorFailure,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        let counter = match kind {
            OperatorFailure::Password => Counter::OperatorPassword,
            OperatorFailure::Code => Counter::OperatorCode,
        };
        self.count_failure(counter, id, threshold, now, audit, lock_audit)
            .await
    }

    async fn create_operator_session(
        &self,
        id: i64,
        token_hash: &str,
        step: i64,
        now: Timestamp,
        expires_at: Timestamp,
        client_ip: Option<&str>,
        user_agent: Option<&str>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<OperatorSession>> {
        let mut tx = self.begin_write().await?;
        // The replay rule (crate::replay): each code's step opens one session.
        let n = sqlx::query(concat!(
            "UPDATE operators SET failed_logins = 0, failed_codes = 0, last_login_at = $2, \
             totp_last_step = $3 WHERE id = $1 AND locked_at IS NULL AND disabled = 0 AND ",
            advances!("totp_last_step", "$3")
        ))
        .bind(id)
        .bind(now.0)
        .bind(step)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "INSERT INTO operator_sessions (token_hash, operator_pk, created_at, last_seen_at, \
             expires_at, client_ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(id)
        .bind(now.0)
        .bind(expires_at.0)
        .bind(client_ip.map(str::to_owned))
        .bind(user_agent.map(str::to_owned))
        .fetch_one(&mut *tx)
        .await?;
        let sid: i64 = row.try_get("id")?;
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM operator_sessions s JOIN operators o ON o.id = s.operator_pk \
             WHERE s.id = $1"
        ))
        .bind(sid)
        .fetch_one(&mut *tx)
        .await?;
        let session = session_from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(Some(session))
    }

    async fn get_operator_session(&self, token_hash: &str) -> StoreResult<Option<OperatorSession>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM operator_sessions s JOIN operators o ON o.id = s.operator_pk \
             WHERE s.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| session_from_row(&r)).transpose()?)
    }

    async fn touch_operator_session(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE operator_sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2",
        )
        .bind(id)
        .bind(now.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn revoke_operator_session(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE operator_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now.0);
        self.change_audited(change, audit).await
    }
}
