//! The SQL implementation of [`DeviceStore`].

use crate::devices::{DeviceStore, NewDevice, TrustedDevice};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const DEVICE_COLS: &str =
    "id, uid, login_pk, method, label, created_at, last_used_at, expires_at, revoked_at";

fn device_from_row(r: &AnyRow) -> Result<TrustedDevice, sqlx::Error> {
    Ok(TrustedDevice {
        id: r.try_get("id")?,
        uid: r.try_get("uid")?,
        login_pk: r.try_get("login_pk")?,
        method: r.try_get("method")?,
        label: r.try_get("label")?,
        created_at: ts(r, "created_at")?,
        last_used_at: ts(r, "last_used_at")?,
        expires_at: ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

/// Revokes every active device of a login inside a caller's transaction (a password change).
pub(crate) async fn revoke_all(
    conn: &mut AnyConnection,
    login_pk: i64,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE trusted_devices SET revoked_at = $2 WHERE login_pk = $1 AND revoked_at IS NULL",
    )
    .bind(login_pk)
    .bind(now.0)
    .execute(conn)
    .await?
    .rows_affected())
}

#[async_trait]
impl DeviceStore for SqlStore {
    async fn create_device(
        &self,
        new: &NewDevice,
        audit: &NewAuditEvent,
    ) -> StoreResult<TrustedDevice> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO trusted_devices (uid, token_hash, login_pk, method, label, created_at, \
             last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING {DEVICE_COLS}"
        ))
        .bind(new.uid.clone())
        .bind(new.token_hash.clone())
        .bind(new.login_pk)
        .bind(new.method.clone())
        .bind(new.label.clone())
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .fetch_one(&mut *tx)
        .await?;
        let device = device_from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(device)
    }

    async fn find_device(&self, token_hash: &str) -> StoreResult<Option<TrustedDevice>> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLS} FROM trusted_devices WHERE token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| device_from_row(&r)).transpose()?)
    }

    async fn use_device(&self, id: i64, login_pk: i64, now: Timestamp) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE trusted_devices SET last_used_at = $3 WHERE id = $1 AND login_pk = $2 \
             AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(id)
        .bind(login_pk)
        .bind(now.0)
        .execute(&self.write)
        .await?
        .rows_affected()
            > 0)
    }

    async fn list_devices(&self, login_pk: i64, now: Timestamp) -> StoreResult<Vec<TrustedDevice>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLS} FROM trusted_devices WHERE login_pk = $1 \
             AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC"
        ))
        .bind(login_pk)
        .bind(now.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(device_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn revoke_device(
        &self,
        login_pk: i64,
        uid: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change = sqlx::query(
            "UPDATE trusted_devices SET revoked_at = $3 WHERE login_pk = $1 AND uid = $2 \
             AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(login_pk)
        .bind(uid.to_owned())
        .bind(now.0);
        self.change_audited(change, audit).await
    }

    async fn revoke_devices(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = revoke_all(&mut tx, login_pk, now).await?;
        let mut ev = audit.clone();
        ev.description = format!("{} ({n})", audit.description);
        commit_audited(tx, &[&ev]).await?;
        Ok(n)
    }
}
