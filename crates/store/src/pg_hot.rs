//! The group commit of accepted codes on PostgreSQL (see [`crate::codes`] for the batching and
//! the rule), on sqlx's native PostgreSQL driver.
//!
//! Every statement has constant text and takes the batch as arrays (`unnest($1::bigint[], …)`),
//! so each is parsed and planned once per connection and then only executed, whatever the
//! batch's size; the `Any` driver cannot bind arrays, and a `VALUES` list of one row per code
//! is a new statement for every batch size (up to 256 texts per statement, more than the
//! connection's statement cache holds). The audit records of a batch go in with the head's
//! update in one statement. Round trips per batch: `BEGIN`, the codes' `UPDATE` (one per kind
//! present), the head's lock, the records with the new head, `COMMIT`.
//!
//! The `UPDATE`s carry the same conditions as everywhere else ([`advances!`],
//! [`token_accepted!`]): the database stays the only authority, so two instances still accept
//! a code exactly once. The head of the audit chain is locked after the codes' rows, as every
//! other audited write does, so the lock order is the same everywhere.

use crate::codes::{Accept, CodeCommitter, Used};
use crate::replay::advances;
use crate::sql_audit::chain_rows;
use crate::sql_tokens::token_accepted;
use crate::{StoreError, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;
use std::collections::HashSet;
use std::time::Duration;

/// The most codes one commit carries.
const MAX_COMMIT: usize = 512;

const ACCEPT_APPS: &str = concat!(
    "UPDATE otp_factors SET last_step = v.step, drift = v.drift, failed_attempts = 0, \
     last_used_at = v.at, \
     state = CASE WHEN v.activate = 1 THEN 'active' ELSE otp_factors.state END, \
     confirmed_at = CASE WHEN v.activate = 1 THEN v.at ELSE otp_factors.confirmed_at END, \
     expires_at = CASE WHEN v.activate = 1 THEN NULL ELSE otp_factors.expires_at END \
     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) \
     AS v(fid, step, drift, at, activate) \
     WHERE otp_factors.id = v.fid AND otp_factors.locked_at IS NULL AND ",
    advances!("otp_factors.last_step", "v.step"),
    " RETURNING otp_factors.id"
);

const ACCEPT_TOKENS: &str = concat!(
    "UPDATE tokens SET ",
    token_accepted!(set: "v.value", "v.vdrift", "v.at"),
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
     AS v(fid, value, vdrift, at) WHERE tokens.id = v.fid AND ",
    token_accepted!(when: "v.value"),
    " RETURNING tokens.id"
);

const LOCK_HEAD: &str =
    "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash";

const APPEND_AUDITS: &str = "WITH appended AS (INSERT INTO audit_events (id, time, login_id, \
     actor_kind, actor_id, event_group, event_type, description, error_code, client_ip, \
     user_agent, chain_version, chain_hash) \
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], \
     $13::text[])) \
     UPDATE audit_head SET last_id = $14, last_hash = $15 WHERE id = 1";

/// Opens the committing task's own connections (native driver) to `url`.
pub(crate) async fn start_committer(url: &str) -> StoreResult<CodeCommitter> {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await?;
    Ok(crate::batch::Batcher::start(
        MAX_COMMIT,
        |a: &Accept| Some(a.used.row()),
        move |accepts: Vec<Accept>| {
            let pool = pool.clone();
            async move {
                let taken = commit(&pool, &accepts).await?;
                Ok(accepts
                    .iter()
                    .map(|a| taken.contains(&a.used.row()))
                    .collect())
            }
        },
    ))
}

/// Commits one batch (at most one code per factor or token); returns the rows whose code was
/// taken.
async fn commit(pool: &PgPool, accepts: &[Accept]) -> Result<HashSet<(bool, i64)>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut taken = HashSet::new();
    let apps: Vec<(&Accept, i64, bool)> = accepts
        .iter()
        .filter_map(|a| match a.used {
            Used::App {
                factor_id,
                activate,
            } => Some((a, factor_id, activate)),
            Used::Token(_) => None,
        })
        .collect();
    if !apps.is_empty() {
        let rows = sqlx::query(ACCEPT_APPS)
            .bind(apps.iter().map(|(_, id, _)| *id).collect::<Vec<i64>>())
            .bind(apps.iter().map(|(a, _, _)| a.step).collect::<Vec<i64>>())
            .bind(apps.iter().map(|(a, _, _)| a.drift).collect::<Vec<i64>>())
            .bind(apps.iter().map(|(a, _, _)| a.now.0).collect::<Vec<i64>>())
            .bind(
                apps.iter()
                    .map(|(_, _, on)| i64::from(*on))
                    .collect::<Vec<i64>>(),
            )
            .fetch_all(&mut *tx)
            .await?;
        for r in rows {
            taken.insert((false, r.try_get::<i64, _>(0)?));
        }
    }
    let tokens: Vec<(&Accept, i64)> = accepts
        .iter()
        .filter_map(|a| match a.used {
            Used::Token(id) => Some((a, id)),
            Used::App { .. } => None,
        })
        .collect();
    if !tokens.is_empty() {
        let rows = sqlx::query(ACCEPT_TOKENS)
            .bind(tokens.iter().map(|(_, id)| *id).collect::<Vec<i64>>())
            .bind(tokens.iter().map(|(a, _)| a.step).collect::<Vec<i64>>())
            .bind(tokens.iter().map(|(a, _)| a.drift).collect::<Vec<i64>>())
            .bind(tokens.iter().map(|(a, _)| a.now.0).collect::<Vec<i64>>())
            .fetch_all(&mut *tx)
            .await?;
        for r in rows {
            taken.insert((true, r.try_get::<i64, _>(0)?));
        }
    }
    let audits: Vec<&NewAuditEvent> = accepts
        .iter()
        .filter(|a| taken.contains(&a.used.row()))
        .filter_map(|a| a.audit.as_ref())
        .collect();
    if !audits.is_empty() {
        let head = sqlx::query(LOCK_HEAD).fetch_one(&mut *tx).await?;
        let (ids, hashes) = chain_rows(head.try_get(0)?, head.try_get(1)?, &audits);
        let (last_id, last_hash) = match (ids.last(), hashes.last()) {
            (Some(id), Some(hash)) => (*id, hash.clone()),
            _ => return Err(StoreError::Backend("an empty audit chain segment".into())),
        };
        let texts = |f: fn(&NewAuditEvent) -> Option<String>| -> Vec<Option<String>> {
            audits.iter().map(|e| f(e)).collect()
        };
        sqlx::query(APPEND_AUDITS)
            .bind(ids)
            .bind(audits.iter().map(|e| e.time.0).collect::<Vec<i64>>())
            .bind(texts(|e| e.login_id.clone()))
            .bind(texts(|e| Some(e.actor.parts().0.to_owned())))
            .bind(texts(|e| Some(e.actor.parts().1.to_owned())))
            .bind(texts(|e| Some(e.event_type.group().to_owned())))
            .bind(texts(|e| Some(e.event_type.as_str().to_owned())))
            .bind(texts(|e| Some(e.description.clone())))
            .bind(texts(|e| e.error_code.clone()))
            .bind(texts(|e| e.client_ip.clone()))
            .bind(texts(|e| e.user_agent.clone()))
            .bind(vec![sekisho_core::audit::CHAIN_VERSION; audits.len()])
            .bind(hashes)
            .bind(last_id)
            .bind(last_hash)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(taken)
}
