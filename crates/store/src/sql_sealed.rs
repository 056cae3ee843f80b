//! The SQL implementation of [`SealedStore`]. Key ids are letters and digits, so comparing the
//! first characters of a value with `"<key_id>:"` finds the values under another key on both
//! backends (`substr` exists in both; `LIKE` would ignore case on SQLite).

use crate::sealed::{Reseal, SealedColumn, SealedStore, SealedValue};
use crate::sql::SqlStore;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;
use sqlx::Row;

/// `col IS NOT NULL AND col <> '' AND substr(col, 1, n) <> $k` for the prefix `"<key_id>:"`
/// bound as `$k` (an empty value is no sealed value: a sent mail's body is emptied).
fn not_under(col: &str, key_id: &str, k: usize) -> (String, String) {
    let prefix = format!("{key_id}:");
    (
        format!(
            "{col} IS NOT NULL AND {col} <> '' AND substr({col}, 1, {}) <> ${k}",
            prefix.chars().count()
        ),
        prefix,
    )
}

#[async_trait]
impl SealedStore for SqlStore {
    async fn sealed_not_under(
        &self,
        column: SealedColumn,
        key_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        let (table, col, binding) = column.sql();
        let (cond, prefix) = not_under(col, key_id, 1);
        // The binding as text on both backends (the operators' is their integer key).
        let sql = format!(
            "SELECT id, CAST({binding} AS TEXT) AS binding, {col} AS sealed FROM {table} \
             WHERE {cond} AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(prefix)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SealedValue {
                    id: r.try_get("id")?,
                    binding: r.try_get("binding")?,
                    sealed: r.try_get("sealed")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn replace_sealed(&self, column: SealedColumn, changes: &[Reseal]) -> StoreResult<u64> {
        let (table, col, _) = column.sql();
        let sql = format!("UPDATE {table} SET {col} = $3 WHERE id = $1 AND {col} = $2");
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for c in changes {
            n += sqlx::query(&sql)
                .bind(c.id)
                .bind(c.old.clone())
                .bind(c.new.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn count_not_under(&self, column: SealedColumn, key_id: &str) -> StoreResult<u64> {
        let (table, col, _) = column.sql();
        let (cond, prefix) = not_under(col, key_id, 1);
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {cond}"))
            .bind(prefix)
            .fetch_one(&self.write)
            .await?
            .try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn kept_key(&self, name: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT sealed FROM sealed_keys WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| r.try_get("sealed")).transpose()?)
    }

    async fn keep_key(&self, name: &str, sealed: &str, now: Timestamp) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO sealed_keys (name, sealed, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_owned())
        .bind(sealed.to_owned())
        .bind(now.0)
        .execute(&self.write)
        .await?;
        self.kept_key(name)
            .await?
            .ok_or_else(|| crate::StoreError::Backend(format!("kept key {name} vanished")))
    }
}
