//! The SQL implementation of [`TokenStore`].

use crate::codes::{Accept, Used};
use crate::sql::{named, opt_ts, ts, Counter, SqlStore};
use crate::sql_audit::{commit_audited, commit_audited_if};
use crate::sql_query::{bind_all, Conditions, Val};
use crate::tokens::{
    AssignOutcome, ImportOutcome, NewToken, OtpToken, TokenQuery, TokenState, TokenStore,
};
use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The one statement body that records an accepted token code, in two parts:
/// `token_accepted!(set: value, drift, now)` is the `SET` list and `token_accepted!(when: value)`
/// the condition, with the placeholders (or columns) given. The replay rule of
/// [`crate::replay`] makes each counter or step usable once across all instances: of two
/// requests with the same code, the database lets exactly one update through. HOTP: `value` is
/// the accepted counter + 1, the new `counter`. The batched commit ([`crate::codes`]) and the
/// SQLite hot path ([`crate::sqlite_hot`]) both expand it, so the rule is written once.
macro_rules! token_accepted {
    (set: $value:literal, $drift:literal, $now:literal) => {
        concat!(
            "failed_attempts = 0, last_used_at = ",
            $now,
            ", transactions = transactions + 1, \
             counter = CASE WHEN kind = 'hotp' THEN ",
            $value,
            " ELSE counter END, \
             last_step = CASE WHEN kind = 'totp' THEN ",
            $value,
            " ELSE last_step END, \
             drift = CASE WHEN kind = 'totp' THEN ",
            $drift,
            " ELSE drift END"
        )
    };
    (when: $value:literal) => {
        concat!(
            "locked_at IS NULL AND state = 'assigned' AND registered_at IS NOT NULL \
             AND (max_transactions IS NULL OR transactions < max_transactions) AND \
             ((kind = 'hotp' AND ",
            $crate::replay::advances!("counter", $value),
            ") OR (kind = 'totp' AND ",
            $crate::replay::advances!("last_step", $value),
            "))"
        )
    };
}

pub(crate) use token_accepted;

pub(crate) const TOKEN_COLS: &str =
    "t.id, t.token_id, t.kind, t.algorithm, t.digits, t.period, t.counter, \
    t.last_step, t.drift, t.secret_enc, t.state, t.login_pk, l.login_id, t.failed_attempts, \
    t.locked_at, t.imported_at, t.batch, t.assigned_at, t.registered_at, t.revoked_at, \
    t.last_used_at, t.valid_from, t.valid_until, t.max_transactions, t.transactions";

pub(crate) const FROM: &str = "tokens t LEFT JOIN logins l ON l.id = t.login_pk";

pub(crate) fn token_from_row(r: &AnyRow) -> Result<OtpToken, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(OtpToken {
        id: r.try_get("id")?,
        token_id: r.try_get("token_id")?,
        kind: named(r, "kind", OtpKind::parse, OtpKind::Totp)?,
        algorithm: named(r, "algorithm", Algorithm::parse, Algorithm::default())?,
        digits: u32::try_from(r.try_get::<i64, _>("digits")?).unwrap_or(6),
        period: u32::try_from(r.try_get::<i64, _>("period")?).unwrap_or(30),
        counter: r.try_get("counter")?,
        last_step: r.try_get("last_step")?,
        drift: r.try_get("drift")?,
        secret_enc: r.try_get("secret_enc")?,
        // An unknown state (a newer version's row) is treated as revoked: unusable.
        state: TokenState::parse(&state).unwrap_or(TokenState::Revoked),
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        failed_attempts: r.try_get("failed_attempts")?,
        locked_at: opt_ts(r, "locked_at")?,
        imported_at: ts(r, "imported_at")?,
        batch: r.try_get("batch")?,
        assigned_at: opt_ts(r, "assigned_at")?,
        registered_at: opt_ts(r, "registered_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
        last_used_at: opt_ts(r, "last_used_at")?,
        valid_from: opt_ts(r, "valid_from")?,
        valid_until: opt_ts(r, "valid_until")?,
        max_transactions: r.try_get("max_transactions")?,
        transactions: r.try_get("transactions")?,
    })
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn import_tokens(
        &self,
        tokens: &[NewToken],
        batch: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ImportOutcome> {
        let mut out = ImportOutcome::default();
        let mut tx = self.begin_write().await?;
        for t in tokens {
            let inserted = sqlx::query(
                "INSERT INTO tokens (token_id, kind, algorithm, digits, period, counter, \
                 secret_enc, state, imported_at, batch, drift, valid_from, valid_until, \
                 max_transactions) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_stock', $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (token_id) DO NOTHING",
            )
            .bind(t.token_id.clone())
            .bind(t.kind.as_str())
            .bind(t.algorithm.as_str())
            .bind(i64::from(t.digits))
            .bind(i64::from(t.period))
            .bind(t.counter)
            .bind(t.secret_enc.clone())
            .bind(now.0)
            .bind(batch.to_owned())
            .bind(t.drift)
            .bind(t.valid_from.map(|v| v.0))
            .bind(t.valid_until.map(|v| v.0))
            .bind(t.max_transactions)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                out.imported.push(t.token_id.clone());
            } else {
                out.duplicates.push(t.token_id.clone());
            }
        }
        let mut audit = audit.clone();
        audit.description = format!(
            "{}: {} imported, {} duplicates skipped",
            audit.description,
            out.imported.len(),
            out.duplicates.len()
        );
        commit_audited(tx, &[&audit]).await?;
        Ok(out)
    }

    async fn get_token(&self, token_id: &str) -> StoreResult<Option<OtpToken>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM {FROM} WHERE t.token_id = $1"
        ))
        .bind(token_id.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| token_from_row(&r)).transpose()?)
    }

    async fn list_tokens(&self, query: &TokenQuery) -> StoreResult<Vec<OtpToken>> {
        let mut c = Conditions::default();
        if let Some(s) = query.state {
            c.push("t.state = {}", Val::S(s.as_str().into()));
        }
        match query.locked {
            Some(true) => c.push_plain("t.locked_at IS NOT NULL"),
            Some(false) => c.push_plain("t.locked_at IS NULL"),
            None => {}
        }
        if let Some(pk) = query.login_pk {
            c.push("t.login_pk = {}", Val::I(pk));
        }
        if let Some(b) = &query.batch {
            c.push("t.batch = {}", Val::S(b.clone()));
        }
        if let Some(after) = &query.after {
            c.push("t.token_id > {}", Val::S(after.clone()));
        }
        let limit = c.next_placeholder();
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM {FROM}{} ORDER BY t.token_id LIMIT {limit}",
            c.where_clause()
        );
        let rows = bind_all(sqlx::query(&sql), c.vals)
            .bind(i64::from(query.limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await?;
        Ok(rows
            .iter()
            .map(token_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn registered_token(&self, login_pk: i64) -> StoreResult<Option<OtpToken>> {
        self.hot_registered_token(login_pk).await
    }

    async fn assign_token(
        &self,
        token_id: &str,
        login_pk: i64,
        max_per_login: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<AssignOutcome> {
        let mut tx = self.begin_write().await?;
        // Takes the login's row lock (PostgreSQL; SQLite has one writer anyway), so two
        // assignments to one login are counted one after the other.
        sqlx::query("UPDATE logins SET updated_at = updated_at WHERE id = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        let held: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM tokens WHERE login_pk = $1 AND state = 'assigned'",
        )
        .bind(login_pk)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if held >= i64::from(max_per_login) {
            return Ok(AssignOutcome::LoginHasToken);
        }
        let done = sqlx::query(
            "UPDATE tokens SET state = 'assigned', login_pk = $2, assigned_at = $3, \
             registered_at = NULL, failed_attempts = 0, locked_at = NULL \
             WHERE token_id = $1 AND state = 'in_stock'",
        )
        .bind(token_id.to_owned())
        .bind(login_pk)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        Ok(if commit_audited_if(tx, done, audit).await? {
            AssignOutcome::Assigned
        } else {
            AssignOutcome::NotInStock
        })
    }

    async fn register_token(
        &self,
        token_id: &str,
        login_pk: i64,
        max_per_login: u32,
        counter: i64,
        last_step: Option<i64>,
        drift: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<AssignOutcome> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE logins SET updated_at = updated_at WHERE id = $1")
            .bind(login_pk)
            .execute(&mut *tx)
            .await?;
        let held: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM tokens \
             WHERE login_pk = $1 AND state = 'assigned' AND token_id <> $2",
        )
        .bind(login_pk)
        .bind(token_id.to_owned())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if held >= i64::from(max_per_login) {
            return Ok(AssignOutcome::LoginHasToken);
        }
        let done = sqlx::query(
            "UPDATE tokens SET state = 'assigned', login_pk = $2, \
             assigned_at = COALESCE(assigned_at, $3), registered_at = $3, last_used_at = $3, \
             counter = $4, last_step = $5, drift = $6, failed_attempts = 0 \
             WHERE token_id = $1 AND locked_at IS NULL AND (state = 'in_stock' \
             OR (state = 'assigned' AND login_pk = $2 AND registered_at IS NULL))",
        )
        .bind(token_id.to_owned())
        .bind(login_pk)
        .bind(now.0)
        .bind(counter)
        .bind(last_step)
        .bind(drift)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        Ok(if commit_audited_if(tx, done, audit).await? {
            AssignOutcome::Assigned
        } else {
            AssignOutcome::NotInStock
        })
    }

    async fn accept_token_code(
        &self,
        id: i64,
        value: i64,
        drift: i64,
        now: Timestamp,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<bool> {
        // Batched with the authenticator apps' codes: see crate::codes.
        self.hot_accept(Accept {
            used: Used::Token(id),
            step: value,
            drift,
            now,
            audit: audit.cloned(),
        })
        .await
    }

    async fn fail_token(
        &self,
        id: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        self.count_failure(Counter::Token, id, threshold, now, audit, lock_audit)
            .await
    }

    async fn unassign_token(
        &self,
        token_id: &str,
        _now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE tokens SET state = 'in_stock', login_pk = NULL, assigned_at = NULL, \
             registered_at = NULL, failed_attempts = 0, locked_at = NULL \
             WHERE token_id = $1 AND state = 'assigned'",
        )
        .bind(token_id.to_owned());
        self.change_audited(change, audit).await
    }

    async fn revoke_token(
        &self,
        token_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE tokens SET state = 'revoked', revoked_at = $2 \
             WHERE token_id = $1 AND state <> 'revoked'",
        )
        .bind(token_id.to_owned())
        .bind(now.0);
        self.change_audited(change, audit).await
    }

    async fn unlock_token(
        &self,
        token_id: &str,
        _now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE tokens SET locked_at = NULL, failed_attempts = 0 \
             WHERE token_id = $1 AND locked_at IS NOT NULL AND state <> 'revoked'",
        )
        .bind(token_id.to_owned());
        self.change_audited(change, audit).await
    }
}
