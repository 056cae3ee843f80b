//! The SQL implementation of [`OidcClientStore`].

use crate::oidc_clients::{ClientRecord, OidcClientStore, StoredClient};
use crate::sql::{ts, SqlStore};
use crate::sql_audit::{commit_audited, commit_audited_if};
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str = "id, client_id, client_name, profile, token_endpoint_auth_method, first_party, \
                    metadata, secret_hash, disabled, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<StoredClient, sqlx::Error> {
    Ok(StoredClient {
        id: r.try_get("id")?,
        record: ClientRecord {
            client_id: r.try_get("client_id")?,
            client_name: r.try_get("client_name")?,
            profile: r.try_get("profile")?,
            token_endpoint_auth_method: r.try_get("token_endpoint_auth_method")?,
            first_party: r.try_get::<i64, _>("first_party")? != 0,
            metadata: r.try_get("metadata")?,
            secret_hash: r.try_get("secret_hash")?,
        },
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

#[async_trait]
impl OidcClientStore for SqlStore {
    async fn create_oidc_client(
        &self,
        c: &ClientRecord,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<StoredClient> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO oidc_clients (client_id, client_name, profile, token_endpoint_auth_method, \
             first_party, metadata, secret_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLS}"
        ))
        .bind(c.client_id.clone())
        .bind(c.client_name.clone())
        .bind(c.profile.clone())
        .bind(c.token_endpoint_auth_method.clone())
        .bind(i64::from(c.first_party))
        .bind(c.metadata.clone())
        .bind(c.secret_hash.clone())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let stored = from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(stored)
    }

    async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<StoredClient>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM oidc_clients WHERE client_id = $1"
        ))
        .bind(client_id.to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| from_row(&r)).transpose()?)
    }

    async fn list_oidc_clients(&self) -> StoreResult<Vec<StoredClient>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM oidc_clients ORDER BY id"))
            .fetch_all(&self.write)
            .await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn update_oidc_client(
        &self,
        c: &ClientRecord,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<StoredClient>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE oidc_clients SET client_name = $2, profile = $3, \
             token_endpoint_auth_method = $4, first_party = $5, metadata = $6, secret_hash = $7, \
             updated_at = $8 WHERE client_id = $1 RETURNING {COLS}"
        ))
        .bind(c.client_id.clone())
        .bind(c.client_name.clone())
        .bind(c.profile.clone())
        .bind(c.token_endpoint_auth_method.clone())
        .bind(i64::from(c.first_party))
        .bind(c.metadata.clone())
        .bind(c.secret_hash.clone())
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored = from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(Some(stored))
    }

    async fn set_oidc_client_secret(
        &self,
        client_id: &str,
        secret_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        self.change_audited(
            sqlx::query(
                "UPDATE oidc_clients SET secret_hash = $2, updated_at = $3 \
                 WHERE client_id = $1 AND secret_hash IS NOT NULL",
            )
            .bind(client_id.to_owned())
            .bind(secret_hash.to_owned())
            .bind(now.0),
            audit,
        )
        .await
    }

    async fn set_oidc_client_disabled(
        &self,
        client_id: &str,
        disabled: bool,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM oidc_clients WHERE client_id = $1")
            .bind(client_id.to_owned())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let changed = sqlx::query(
            "UPDATE oidc_clients SET disabled = $2, updated_at = $3 \
             WHERE client_id = $1 AND disabled <> $2",
        )
        .bind(client_id.to_owned())
        .bind(i64::from(disabled))
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        Ok(Some(commit_audited_if(tx, changed, audit).await?))
    }

    async fn delete_oidc_client(
        &self,
        client_id: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        self.change_audited(
            sqlx::query("DELETE FROM oidc_clients WHERE client_id = $1").bind(client_id.to_owned()),
            audit,
        )
        .await
    }
}
