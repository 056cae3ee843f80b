//! The SQL implementation of [`SetupStore`].

use crate::setup::{NewSetupLink, SetupLink, SetupStore};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str = "s.id, s.login_pk, l.login_id, s.set_password, s.set_second_factor, \
                    s.created_by, s.created_at, s.expires_at, s.used_at, s.revoked_at";

fn from_row(r: &AnyRow) -> Result<SetupLink, sqlx::Error> {
    Ok(SetupLink {
        id: r.try_get("id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        set_password: r.try_get::<i64, _>("set_password")? != 0,
        set_second_factor: r.try_get::<i64, _>("set_second_factor")? != 0,
        created_by: r.try_get("created_by")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        used_at: opt_ts(r, "used_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

#[async_trait]
impl SetupStore for SqlStore {
    async fn create_setup_link(
        &self,
        new: &NewSetupLink,
        audit: &NewAuditEvent,
    ) -> StoreResult<SetupLink> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE setup_links SET revoked_at = $2 \
             WHERE login_pk = $1 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(new.login_pk)
        .bind(new.now.0)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO setup_links (token_hash, login_pk, set_password, set_second_factor, \
             created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id",
        )
        .bind(new.token_hash.clone())
        .bind(new.login_pk)
        .bind(i64::from(new.set_password))
        .bind(i64::from(new.set_second_factor))
        .bind(new.created_by.clone())
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .fetch_one(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM setup_links s JOIN logins l ON l.id = s.login_pk WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let link = from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(link)
    }

    async fn find_setup_link(&self, token_hash: &str) -> StoreResult<Option<SetupLink>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM setup_links s JOIN logins l ON l.id = s.login_pk \
             WHERE s.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| from_row(&r)).transpose()?)
    }

    async fn finish_setup_link(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE setup_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        commit_audited(tx, done.then_some(audit).as_slice()).await?;
        Ok(done)
    }

    async fn latest_setup_links(&self, login_pks: &[i64]) -> StoreResult<Vec<SetupLink>> {
        if login_pks.is_empty() {
            return Ok(Vec::new());
        }
        let ph: Vec<String> = (1..=login_pks.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {COLS} FROM setup_links s JOIN logins l ON l.id = s.login_pk \
             WHERE s.login_pk IN ({}) AND s.id = \
             (SELECT MAX(n.id) FROM setup_links n WHERE n.login_pk = s.login_pk)",
            ph.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for pk in login_pks {
            q = q.bind(*pk);
        }
        let rows = q.fetch_all(&self.read).await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }
}
