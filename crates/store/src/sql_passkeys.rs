//! The SQL implementation of [`PasskeyStore`].

use crate::passkeys::{
    Ceremony, CeremonyKind, NewCeremony, NewPasskey, PasskeyStore, PasskeyUse, StoredPasskey,
};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::{commit_audited, commit_audited_if};
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Ended ceremonies removed by one begin at most: more than one, so the table shrinks back
/// after a flood while begins go on.
const PURGE_BATCH: i64 = 100;

const PASSKEY_COLS: &str = "p.id, p.login_pk, l.login_id, p.credential_id, p.user_handle, \
     p.name, p.credential, p.sign_count, p.backup_eligible, p.backup_state, \
     p.counter_regressed_at, p.created_at, p.last_used_at \
     FROM passkeys p JOIN logins l ON l.id = p.login_pk";

fn passkey(r: &AnyRow) -> Result<StoredPasskey, sqlx::Error> {
    Ok(StoredPasskey {
        id: r.try_get("id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        credential_id: r.try_get("credential_id")?,
        user_handle: r.try_get("user_handle")?,
        name: r.try_get("name")?,
        credential: r.try_get("credential")?,
        sign_count: r.try_get("sign_count")?,
        backup_eligible: r.try_get::<i64, _>("backup_eligible")? != 0,
        backup_state: r.try_get::<i64, _>("backup_state")? != 0,
        counter_regressed_at: opt_ts(r, "counter_regressed_at")?,
        created_at: ts(r, "created_at")?,
        last_used_at: opt_ts(r, "last_used_at")?,
    })
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn create_ceremony(&self, new: &NewCeremony) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Each begin clears a bounded batch of ended ceremonies through the expiry index, so
        // a flood of unauthenticated begins neither grows the table without end nor makes one
        // begin pay for a long scan.
        sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id IN \
             (SELECT id FROM webauthn_ceremonies WHERE expires_at < $1 \
              ORDER BY expires_at LIMIT $2)",
        )
        .bind(new.now.0)
        .bind(PURGE_BATCH)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies \
             (id_hash, kind, login_pk, bound_to, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.id_hash.clone())
        .bind(new.kind.as_str())
        .bind(new.login_pk)
        .bind(new.bound_to.clone())
        .bind(new.state.clone())
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id_hash: &str,
        kind: CeremonyKind,
        now: Timestamp,
    ) -> StoreResult<Option<Ceremony>> {
        let mut tx = self.begin_write().await?;
        // One statement: the row lock (PostgreSQL) or the write lock (SQLite) lets only one of
        // concurrent finishes see the ceremony unused.
        let row = sqlx::query(
            "UPDATE webauthn_ceremonies SET used_at = $3 \
             WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 \
             RETURNING kind, login_pk, bound_to, state",
        )
        .bind(id_hash.to_owned())
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let ceremony = Ceremony {
            // The statement matched the kind asked for.
            kind,
            login_pk: r.try_get("login_pk")?,
            bound_to: r.try_get("bound_to")?,
            state: r.try_get("state")?,
        };
        tx.commit().await?;
        Ok(Some(ceremony))
    }

    async fn add_passkey(&self, new: &NewPasskey, audit: &NewAuditEvent) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO passkeys (login_pk, credential_id, user_handle, name, credential, \
             sign_count, backup_eligible, backup_state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.login_pk)
        .bind(new.credential_id.clone())
        .bind(new.user_handle.clone())
        .bind(new.name.clone())
        .bind(new.credential.clone())
        .bind(new.sign_count)
        .bind(i64::from(new.backup_eligible))
        .bind(i64::from(new.backup_state))
        .bind(new.now.0)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        commit_audited(tx, &[audit]).await?;
        Ok(id)
    }

    async fn list_passkeys(&self, login_pk: i64) -> StoreResult<Vec<StoredPasskey>> {
        let rows = sqlx::query(&format!(
            "SELECT {PASSKEY_COLS} WHERE p.login_pk = $1 ORDER BY p.id"
        ))
        .bind(login_pk)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(passkey)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>> {
        let row = sqlx::query(&format!("SELECT {PASSKEY_COLS} WHERE p.credential_id = $1"))
            .bind(credential_id.to_owned())
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| passkey(&r)).transpose()?)
    }

    async fn record_passkey_use(
        &self,
        used: &PasskeyUse,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // The counter only moves forward here, whatever two concurrent uses report.
        let done = sqlx::query(
            "UPDATE passkeys SET credential = $2, \
             sign_count = CASE WHEN sign_count > $3 THEN sign_count ELSE $3 END, \
             backup_eligible = $4, backup_state = $5, last_used_at = $6 \
             WHERE id = $1 AND counter_regressed_at IS NULL",
        )
        .bind(used.id)
        .bind(used.credential.clone())
        .bind(used.sign_count)
        .bind(i64::from(used.backup_eligible))
        .bind(i64::from(used.backup_state))
        .bind(used.now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited_if(tx, done, audit).await
    }

    async fn flag_passkey_counter(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE passkeys SET counter_regressed_at = COALESCE(counter_regressed_at, $2) \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        commit_audited_if(tx, done, audit).await
    }

    async fn rename_passkey(
        &self,
        login_pk: i64,
        id: i64,
        name: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE passkeys SET name = $3 WHERE id = $1 AND login_pk = $2")
            .bind(id)
            .bind(login_pk)
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        commit_audited_if(tx, done, audit).await
    }

    async fn remove_passkey(
        &self,
        login_pk: i64,
        id: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND login_pk = $2")
            .bind(id)
            .bind(login_pk)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        commit_audited_if(tx, done, audit).await
    }
}
