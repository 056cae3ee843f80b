//! Bulk loading of audit records for benchmarks (`sekisho-bench audit-seed`): the same chain as
//! every other write (head taken, records hashed in ID order, head moved, one transaction), but
//! written around sqlx's per-statement overhead: one prepared insert on a connection of its own
//! on SQLite, `COPY … FROM STDIN` on PostgreSQL.

use crate::sql::SqlStore;
use crate::sql_audit::insert_audits;
use crate::{sqlite_hot, Backend, Store, StoreError, StoreResult};
use sekisho_core::audit::{chain_hash, ChainFields, NewAuditEvent, CHAIN_VERSION};
use sqlx::{Connection, Row};

const COLUMNS: &str = "id, time, login_id, actor_kind, actor_id, event_group, event_type, \
                       description, error_code, client_ip, user_agent, chain_version, chain_hash";

impl SqlStore {
    pub(crate) async fn seed_audit_bulk(&self, events: &[NewAuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        match (Store::backend(self), sqlite_hot::file_of(&self.url)) {
            (Backend::Postgres, _) => self.copy_audit(events).await,
            (Backend::Sqlite, Some(path)) => {
                let events = events.to_vec();
                tokio::task::spawn_blocking(move || sqlite_load(&path, &events))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))?
                    .map_err(|e| StoreError::Backend(e.to_string()))
            }
            // In-memory SQLite: the ordinary multi-row inserts.
            (Backend::Sqlite, None) => {
                let mut tx = self.begin_write().await?;
                for chunk in events.chunks(100) {
                    let refs: Vec<&NewAuditEvent> = chunk.iter().collect();
                    insert_audits(&mut tx, &refs).await?;
                }
                Ok(tx.commit().await?)
            }
        }
    }

    async fn copy_audit(&self, events: &[NewAuditEvent]) -> StoreResult<()> {
        let mut conn = sqlx::postgres::PgConnection::connect(&self.url).await?;
        let mut tx = conn.begin().await?;
        let head = sqlx::query(
            "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut id: i64 = head.try_get("last_id")?;
        let mut prev: String = head.try_get("last_hash")?;
        let mut buf = Vec::with_capacity(events.len() * 256);
        for ev in events {
            id += 1;
            prev = chain_hash(&prev, &ChainFields::of(id, ev));
            copy_line(&mut buf, id, ev, &prev);
        }
        let mut copy = tx
            .copy_in_raw(&format!("COPY audit_events ({COLUMNS}) FROM STDIN"))
            .await?;
        copy.send(buf).await?;
        copy.finish().await?;
        sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
            .bind(id)
            .bind(prev)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One row of `COPY`'s text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_line(out: &mut Vec<u8>, id: i64, ev: &NewAuditEvent, hash: &str) {
    fn cell(out: &mut Vec<u8>, v: Option<&str>) {
        match v {
            None => out.extend_from_slice(b"\\N"),
            Some(s) => {
                for b in s.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }
    let (kind, actor_id) = ev.actor.parts();
    let cells = [
        Some(id.to_string()),
        Some(ev.time.0.to_string()),
        ev.login_id.clone(),
        Some(kind.to_owned()),
        Some(actor_id.to_owned()),
        Some(ev.event_type.group().to_owned()),
        Some(ev.event_type.as_str().to_owned()),
        Some(ev.description.clone()),
        ev.error_code.clone(),
        ev.client_ip.clone(),
        ev.user_agent.clone(),
        Some(CHAIN_VERSION.to_string()),
        Some(hash.to_owned()),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        cell(out, c.as_deref());
    }
    out.push(b'\n');
}

/// The SQLite load: one transaction on a connection of its own, one prepared insert reused.
fn sqlite_load(path: &str, events: &[NewAuditEvent]) -> rusqlite::Result<()> {
    let mut conn = sqlite_hot::open(path, sqlite_hot::SqliteSynchronous::Normal)?;
    // The indexes on login and time take records in no order of theirs: with SQLite's default
    // 2 MiB page cache, every insert read index pages from the file (a million records took 18 s
    // at first, 38 s by the second million).
    conn.pragma_update(None, "cache_size", -524_288)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (mut id, mut prev): (i64, String) = tx.query_row(
        "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO audit_events ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ))?;
        for ev in events {
            id += 1;
            prev = chain_hash(&prev, &ChainFields::of(id, ev));
            let (kind, actor_id) = ev.actor.parts();
            insert.execute(rusqlite::params![
                id,
                ev.time.0,
                ev.login_id,
                kind,
                actor_id,
                ev.event_type.group(),
                ev.event_type.as_str(),
                ev.description,
                ev.error_code,
                ev.client_ip,
                ev.user_agent,
                CHAIN_VERSION,
                prev,
            ])?;
        }
    }
    tx.execute(
        "UPDATE audit_head SET last_id = ?1, last_hash = ?2 WHERE id = 1",
        rusqlite::params![id, prev],
    )?;
    tx.commit()
}
