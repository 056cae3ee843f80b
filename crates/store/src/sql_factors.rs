//! The SQL implementation of [`FactorStore`].

use crate::codes::{Accept, Used};
use crate::factors::{
    Challenge, CodeTarget, FactorState, FactorStore, IssuedCode, NewOtpFactor, OtpFactor,
};
use crate::mail::NewMail;
use crate::sql::{named, opt_ts, ts, Counter, SqlStore};
use crate::sql_audit::commit_audited;
use crate::sql_mail::insert_mail;
use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::email_code::CodeState;
use sekisho_core::otp::Algorithm;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(crate) const FACTOR_COLS: &str =
    "id, uid, login_pk, method, state, label, secret_enc, algorithm, digits, \
    period, last_step, drift, failed_attempts, locked_at, created_at, expires_at, confirmed_at, \
    last_used_at";

pub(crate) fn factor_from_row(r: &AnyRow) -> Result<OtpFactor, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(OtpFactor {
        id: r.try_get("id")?,
        uid: r.try_get("uid")?,
        login_pk: r.try_get("login_pk")?,
        method: r.try_get("method")?,
        state: if state == "active" {
            FactorState::Active
        } else {
            FactorState::Pending
        },
        label: r.try_get("label")?,
        secret_enc: r.try_get("secret_enc")?,
        algorithm: named(r, "algorithm", Algorithm::parse, Algorithm::default())?,
        digits: u32::try_from(r.try_get::<i64, _>("digits")?).unwrap_or(6),
        period: u32::try_from(r.try_get::<i64, _>("period")?).unwrap_or(30),
        last_step: r.try_get("last_step")?,
        drift: r.try_get("drift")?,
        failed_attempts: r.try_get("failed_attempts")?,
        locked_at: opt_ts(r, "locked_at")?,
        created_at: ts(r, "created_at")?,
        expires_at: opt_ts(r, "expires_at")?,
        confirmed_at: opt_ts(r, "confirmed_at")?,
        last_used_at: opt_ts(r, "last_used_at")?,
    })
}

fn challenge_from_row(r: &AnyRow) -> Result<Challenge, sqlx::Error> {
    let methods: String = r.try_get("methods")?;
    Ok(Challenge {
        id: r.try_get("id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        methods: methods
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        completed_at: opt_ts(r, "completed_at")?,
        code_hash: r.try_get("code_hash")?,
        code: match opt_ts(r, "code_expires_at")? {
            None => None,
            Some(expires_at) => Some(CodeState {
                expires_at,
                failures: r.try_get("code_failures")?,
                fail_limit: r.try_get("code_fail_limit")?,
                sends: r.try_get("code_sends")?,
                sent_at: opt_ts(r, "code_sent_at")?.unwrap_or(expires_at),
            }),
        },
    })
}

#[async_trait]
impl FactorStore for SqlStore {
    async fn otp_factors(&self, login_pk: i64) -> StoreResult<Vec<OtpFactor>> {
        let rows = sqlx::query(&format!(
            "SELECT {FACTOR_COLS} FROM otp_factors WHERE login_pk = $1 ORDER BY id"
        ))
        .bind(login_pk)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(factor_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn code_target(&self, login_id: &str) -> StoreResult<Option<CodeTarget>> {
        self.hot_code_target(login_id).await
    }

    async fn put_pending_totp(
        &self,
        new: &NewOtpFactor,
        audit: &NewAuditEvent,
    ) -> StoreResult<OtpFactor> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM otp_factors WHERE login_pk = $1 AND method = $2 AND state = 'pending'",
        )
        .bind(new.login_pk)
        .bind(new.method.clone())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "INSERT INTO otp_factors (uid, login_pk, method, state, label, secret_enc, algorithm, \
             digits, period, created_at, expires_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10) RETURNING {FACTOR_COLS}"
        ))
        .bind(new.uid.clone())
        .bind(new.login_pk)
        .bind(new.method.clone())
        .bind(new.label.clone())
        .bind(new.secret_enc.clone())
        .bind(new.algorithm.as_str())
        .bind(i64::from(new.digits))
        .bind(i64::from(new.period))
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .fetch_one(&mut *tx)
        .await?;
        let factor = factor_from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(factor)
    }

    async fn accept_otp(
        &self,
        factor_id: i64,
        step: i64,
        drift: i64,
        now: Timestamp,
        activate: bool,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<bool> {
        self.hot_accept(Accept {
            used: Used::App {
                factor_id,
                activate,
            },
            step,
            drift,
            now,
            audit: audit.cloned(),
        })
        .await
    }

    async fn fail_otp(
        &self,
        factor_id: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        self.count_failure(
            Counter::Factor,
            factor_id,
            threshold,
            now,
            audit,
            lock_audit,
        )
        .await
    }

    async fn delete_otp_factor(&self, factor_id: i64, audit: &NewAuditEvent) -> StoreResult<bool> {
        let change = sqlx::query("DELETE FROM otp_factors WHERE id = $1").bind(factor_id);
        self.change_audited(change, audit).await
    }

    async fn create_challenge(
        &self,
        token_hash: &str,
        login_pk: i64,
        methods: &[String],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO login_challenges (token_hash, login_pk, methods, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(login_pk)
        .bind(methods.join(","))
        .bind(now.0)
        .bind(expires_at.0)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("id")?)
    }

    async fn get_challenge(&self, token_hash: &str) -> StoreResult<Option<Challenge>> {
        let row = sqlx::query(
            "SELECT c.id, c.login_pk, l.login_id, c.methods, c.created_at, c.expires_at, c.completed_at, \
             c.code_hash, c.code_expires_at, c.code_failures, c.code_fail_limit, c.code_sends, c.code_sent_at \
             FROM login_challenges c JOIN logins l ON l.id = c.login_pk WHERE c.token_hash = $1",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| challenge_from_row(&r)).transpose()?)
    }

    async fn trading_password_hash(&self, login_pk: i64) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT trading_password_hash FROM logins WHERE id = $1")
            .bind(login_pk)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(r) => Ok(r.try_get("trading_password_hash")?),
            None => Ok(None),
        }
    }

    async fn set_trading_password(
        &self,
        login_pk: i64,
        hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE logins SET trading_password_hash = $2, trading_password_changed_at = $3, \
             updated_at = $3 WHERE id = $1",
        )
        .bind(login_pk)
        .bind(hash.to_owned())
        .bind(now.0);
        self.change_audited(change, audit).await
    }

    async fn create_code_challenge(
        &self,
        token_hash: &str,
        login_pk: i64,
        methods: &[String],
        expires_at: Timestamp,
        code: &IssuedCode,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO login_challenges (token_hash, login_pk, methods, created_at, expires_at, \
             code_hash, code_expires_at, code_fail_limit, code_sends, code_sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $4) RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(login_pk)
        .bind(methods.join(","))
        .bind(code.now.0)
        .bind(expires_at.0)
        .bind(code.hash.clone())
        .bind(code.expires_at.0)
        .bind(code.fail_limit)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        insert_mail(&mut tx, mail).await?;
        commit_audited(tx, &[audit]).await?;
        Ok(id)
    }

    async fn fail_email_code(&self, challenge_id: i64, audit: &NewAuditEvent) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE login_challenges SET code_failures = code_failures + 1 WHERE id = $1 \
             RETURNING code_failures",
        )
        .bind(challenge_id)
        .fetch_one(&mut *tx)
        .await?;
        let failures: i64 = row.try_get("code_failures")?;
        commit_audited(tx, &[audit]).await?;
        Ok(failures)
    }

    async fn reissue_email_code(
        &self,
        challenge_id: i64,
        expected_sends: i64,
        code: &IssuedCode,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE login_challenges SET code_hash = $3, code_expires_at = $4, code_fail_limit = $5, \
             code_sends = code_sends + 1, code_sent_at = $6, \
             expires_at = CASE WHEN expires_at < $4 THEN $4 ELSE expires_at END \
             WHERE id = $1 AND code_sends = $2 AND completed_at IS NULL",
        )
        .bind(challenge_id)
        .bind(expected_sends)
        .bind(code.hash.clone())
        .bind(code.expires_at.0)
        .bind(code.fail_limit)
        .bind(code.now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if done {
            insert_mail(&mut tx, mail).await?;
            commit_audited(tx, &[audit]).await?;
        }
        Ok(done)
    }
}
