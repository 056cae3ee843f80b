//! The SQL implementation of [`StepUpStore`].

use crate::sql::{named, opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::step_up::{NewStepUp, SigningKey, StepUpAnswer, StepUpRequest, StepUpStore};
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::step_up::{ConfirmMethod, OperationKind, StepUpState};
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, id_hash, login_pk, login_id, kind, description, amount, currency, \
     api_token_id, audience, return_to, created_at, expires_at, state, method, answered_at, \
     proof_sealed, proof_taken_at";

fn request(r: &AnyRow) -> Result<StepUpRequest, sqlx::Error> {
    Ok(StepUpRequest {
        id: r.try_get("id")?,
        id_hash: r.try_get("id_hash")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        kind: named(r, "kind", OperationKind::parse, OperationKind::Other)?,
        description: r.try_get("description")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        api_token_id: r.try_get("api_token_id")?,
        audience: r.try_get("audience")?,
        return_to: r.try_get("return_to")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        state: StepUpState::parse(r.try_get::<String, _>("state")?.as_str()),
        method: r
            .try_get::<Option<&str>, _>("method")?
            .and_then(ConfirmMethod::parse),
        answered_at: opt_ts(r, "answered_at")?,
        proof_sealed: r.try_get("proof_sealed")?,
        proof_taken_at: opt_ts(r, "proof_taken_at")?,
    })
}

fn key(r: &AnyRow) -> Result<SigningKey, sqlx::Error> {
    Ok(SigningKey {
        kid: r.try_get("kid")?,
        algorithm: r.try_get("algorithm")?,
        private_sealed: r.try_get("private_sealed")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: ts(r, "created_at")?,
        retired_at: opt_ts(r, "retired_at")?,
    })
}

#[async_trait]
impl StepUpStore for SqlStore {
    async fn create_step_up(
        &self,
        new: &NewStepUp,
        audit: &NewAuditEvent,
    ) -> StoreResult<StepUpRequest> {
        let (amount, currency) = match &new.amount {
            Some((a, c)) => (Some(a.clone()), Some(c.clone())),
            None => (None, None),
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO step_up_requests (id_hash, login_pk, login_id, kind, description, amount, \
             currency, api_token_id, audience, return_to, created_at, expires_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending') \
             RETURNING {COLUMNS}"
        ))
        .bind(new.id_hash.clone())
        .bind(new.login_pk)
        .bind(new.login_id.clone())
        .bind(new.kind.as_str())
        .bind(new.description.clone())
        .bind(amount)
        .bind(currency)
        .bind(new.api_token_id)
        .bind(new.audience.clone())
        .bind(new.return_to.clone())
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .fetch_one(&mut *tx)
        .await?;
        let req = request(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(req)
    }

    async fn get_step_up(&self, id_hash: &str) -> StoreResult<Option<StepUpRequest>> {
        // From the write pool: another instance may have answered it a moment ago.
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM step_up_requests WHERE id_hash = $1"
        ))
        .bind(id_hash.to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.as_ref().map(request).transpose()?)
    }

    async fn answer_step_up(
        &self,
        id_hash: &str,
        answer: &StepUpAnswer,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let (state, method, proof) = match answer {
            StepUpAnswer::Confirmed {
                method,
                proof_sealed,
            } => (
                "confirmed",
                Some(method.as_str()),
                Some(proof_sealed.clone()),
            ),
            StepUpAnswer::Refused => ("refused", None, None),
        };
        let mut tx = self.begin_write().await?;
        // One conditional statement: the row lock (PostgreSQL) or the write lock (SQLite) lets
        // only one of concurrent answers find the request pending.
        let changed = sqlx::query(
            "UPDATE step_up_requests SET state = $2, method = $3, proof_sealed = $4, \
             answered_at = $5 WHERE id_hash = $1 AND state = 'pending' AND expires_at > $5",
        )
        .bind(id_hash.to_owned())
        .bind(state)
        .bind(method)
        .bind(proof)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !changed {
            return Ok(false);
        }
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    async fn take_step_up_proof(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT proof_sealed FROM step_up_requests \
             WHERE id_hash = $1 AND state = 'confirmed' AND proof_taken_at IS NULL",
        )
        .bind(id_hash.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(proof) = row
            .map(|r| r.try_get::<Option<String>, _>("proof_sealed"))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        // Conditional again: of two concurrent takers on PostgreSQL, the second re-checks the
        // row after the first commits and changes nothing.
        let taken = sqlx::query(
            "UPDATE step_up_requests SET proof_taken_at = $2, proof_sealed = NULL \
             WHERE id_hash = $1 AND state = 'confirmed' AND proof_taken_at IS NULL",
        )
        .bind(id_hash.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !taken {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(proof))
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_sealed, public_jwk, created_at, retired_at \
             FROM signing_keys ORDER BY id",
        )
        .fetch_all(&self.write)
        .await?;
        Ok(rows.iter().map(key).collect::<Result<_, sqlx::Error>>()?)
    }

    async fn add_signing_key(&self, k: &SigningKey, audit: &NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_jwk, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(k.kid.clone())
        .bind(k.algorithm.clone())
        .bind(k.private_sealed.clone())
        .bind(k.public_jwk.clone())
        .bind(k.created_at.0)
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[audit]).await?;
        Ok(())
    }

    async fn retire_signing_key(
        &self,
        kid: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT kid FROM signing_keys WHERE kid = $1")
            .bind(kid.to_owned())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let retired = sqlx::query(
            "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL",
        )
        .bind(kid.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited(tx, retired.then_some(audit).as_slice()).await?;
        Ok(Some(retired))
    }
}
