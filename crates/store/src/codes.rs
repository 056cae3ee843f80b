//! The hot path of code validation, batched (see [`crate::batch`]): reading a login with its
//! authenticator app, and the group commit of accepted codes.
//!
//! Every accepted code is durably recorded before its answer leaves: the committing task
//! answers only after its transaction commits. The database stays the only authority: the
//! `UPDATE` lets a step through only under the replay rule of [`crate::replay`] and only while
//! the factor is not locked, so two instances (each with its own queue) still accept a code exactly
//! once. Within one batch a factor appears at most once; a second code for the same factor waits
//! for the next batch and is judged against the first one's step.

use crate::batch::Batcher;
use crate::factors::CodeTarget;
use crate::replay::advances;
use crate::sql_audit::commit_audited;
use crate::sql_factors::{factor_from_row, FACTOR_COLS};
use crate::sql_query::placeholders;
use crate::sql_tokens::{token_accepted, token_from_row, FROM, TOKEN_COLS};
use crate::tokens::OtpToken;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::{AnyPool, Row};
use std::collections::{HashMap, HashSet};

/// The most codes one commit carries (at most 5 bound values each, and 10 per audit record: well under
/// every backend's limit on parameters).
const MAX_COMMIT: usize = 256;

/// The most logins one read asks for.
const MAX_READ: usize = 256;

/// What an accepted code was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Used {
    /// An authenticator app (`otp_factors`); `activate` confirms a pending enrolment.
    App { factor_id: i64, activate: bool },
    /// A hardware or software token (`tokens`).
    Token(i64),
}

impl Used {
    /// The row the code is recorded in: two codes for one row never share a batch.
    pub(crate) fn row(self) -> (bool, i64) {
        match self {
            Used::App { factor_id, .. } => (false, factor_id),
            Used::Token(id) => (true, id),
        }
    }
}

/// One accepted code to record.
pub(crate) struct Accept {
    pub used: Used,
    /// TOTP: the accepted step; HOTP: the accepted counter + 1 (the next one expected).
    pub step: i64,
    pub drift: i64,
    pub now: Timestamp,
    pub audit: Option<NewAuditEvent>,
}

/// Accepted codes, committed in groups; answers whether the database let each one through.
pub(crate) type CodeCommitter = Batcher<Accept, bool>;

/// Code-target reads, in groups.
pub(crate) type TargetReader = Batcher<String, Option<CodeTarget>>;

/// Reads of logins' registered tokens (by the login's key), in groups.
pub(crate) type TokenReader = Batcher<i64, Option<OtpToken>>;

/// The condition of a registered token (assigned, through start-of-use registration).
pub(crate) const REGISTERED: &str = "t.state = 'assigned' AND t.registered_at IS NOT NULL";

/// Starts the reading task of registered tokens on `pool` (the readers).
pub(crate) fn start_token_reader(pool: AnyPool) -> TokenReader {
    Batcher::start(
        MAX_READ,
        |_: &i64| None::<()>,
        move |pks: Vec<i64>| {
            let pool = pool.clone();
            async move {
                let list: Vec<String> = (1..=pks.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT {TOKEN_COLS} FROM {FROM} WHERE t.login_pk IN ({}) AND {REGISTERED} \
                     ORDER BY t.token_id",
                    list.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for pk in &pks {
                    query = query.bind(*pk);
                }
                let mut found: HashMap<i64, OtpToken> = HashMap::new();
                for r in query.fetch_all(&pool).await? {
                    let t = token_from_row(&r)?;
                    if let Some(pk) = t.login_pk {
                        // Ordered by token ID: the first one stays.
                        found.entry(pk).or_insert(t);
                    }
                }
                Ok(pks.iter().map(|pk| found.get(pk).cloned()).collect())
            }
        },
    )
}

/// Starts the committing task on `pool` (the writer); PostgreSQL has its own, with the same
/// conditions on arrays ([`crate::pg_hot`]).
pub(crate) fn start_committer(pool: AnyPool) -> CodeCommitter {
    Batcher::start(
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
    )
}

/// Starts the reading task on `pool` (the readers).
pub(crate) fn start_reader(pool: AnyPool) -> TargetReader {
    Batcher::start(
        MAX_READ,
        |_: &String| None::<()>,
        move |ids: Vec<String>| {
            let pool = pool.clone();
            async move {
                let mut found = read(&pool, &ids).await?;
                Ok(ids.iter().map(|id| found.remove(id)).collect())
            }
        },
    )
}

/// Commits one batch (at most one code per factor or token); returns the rows whose code was
/// taken.
async fn commit(pool: &AnyPool, accepts: &[Accept]) -> Result<HashSet<(bool, i64)>, sqlx::Error> {
    let (apps, tokens): (Vec<&Accept>, Vec<&Accept>) = accepts
        .iter()
        .partition(|a| matches!(a.used, Used::App { .. }));
    let mut tx = pool.begin().await?;
    let mut taken = HashSet::new();
    if !apps.is_empty() {
        let values = placeholders(apps.len(), 5);
        // Both backends name the columns of a VALUES list column1, column2, …
        let sql = format!(
            "UPDATE otp_factors SET last_step = v.step, drift = v.drift, failed_attempts = 0, \
             last_used_at = v.at, \
             state = CASE WHEN v.activate = 1 THEN 'active' ELSE otp_factors.state END, \
             confirmed_at = CASE WHEN v.activate = 1 THEN v.at ELSE otp_factors.confirmed_at END, \
             expires_at = CASE WHEN v.activate = 1 THEN NULL ELSE otp_factors.expires_at END \
             FROM (SELECT column1 AS fid, column2 AS step, column3 AS drift, column4 AS at, \
             column5 AS activate FROM (VALUES {values}) AS vals) AS v \
             WHERE otp_factors.id = v.fid AND otp_factors.locked_at IS NULL \
             AND {fresh} RETURNING otp_factors.id",
            fresh = advances!("otp_factors.last_step", "v.step"),
        );
        let mut query = sqlx::query(&sql);
        for a in &apps {
            let (id, activate) = match a.used {
                Used::App {
                    factor_id,
                    activate,
                } => (factor_id, activate),
                Used::Token(id) => (id, false),
            };
            query = query
                .bind(id)
                .bind(a.step)
                .bind(a.drift)
                .bind(a.now.0)
                .bind(i64::from(activate));
        }
        for r in query.fetch_all(&mut *tx).await? {
            taken.insert((false, r.try_get::<i64, _>(0)?));
        }
    }
    if !tokens.is_empty() {
        let values = placeholders(tokens.len(), 4);
        let sql = format!(
            "UPDATE tokens SET {set} \
             FROM (SELECT column1 AS fid, column2 AS value, column3 AS vdrift, column4 AS at \
             FROM (VALUES {values}) AS vals) AS v \
             WHERE tokens.id = v.fid AND {when} RETURNING tokens.id",
            set = token_accepted!(set: "v.value", "v.vdrift", "v.at"),
            when = token_accepted!(when: "v.value"),
        );
        let mut query = sqlx::query(&sql);
        for a in &tokens {
            let id = a.used.row().1;
            query = query.bind(id).bind(a.step).bind(a.drift).bind(a.now.0);
        }
        for r in query.fetch_all(&mut *tx).await? {
            taken.insert((true, r.try_get::<i64, _>(0)?));
        }
    }
    let audits: Vec<&NewAuditEvent> = accepts
        .iter()
        .filter(|a| taken.contains(&a.used.row()))
        .filter_map(|a| a.audit.as_ref())
        .collect();
    commit_audited(tx, &audits).await?;
    Ok(taken)
}

/// Reads the logins `ids` (canonical login IDs) with their active authenticator apps.
async fn read(pool: &AnyPool, ids: &[String]) -> Result<HashMap<String, CodeTarget>, sqlx::Error> {
    let cols: Vec<String> = FACTOR_COLS
        .split(',')
        .map(|c| format!("f.{}", c.trim()))
        .collect();
    let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT l.id AS target_pk, l.login_id AS target_login_id, \
         l.disabled AS target_disabled, t.tat_ms AS target_validate_tat, {} \
         FROM logins l LEFT JOIN otp_factors f \
         ON f.login_pk = l.id AND f.method = 'totp' AND f.state = 'active' \
         LEFT JOIN throttle t ON t.bucket = 'validate:' || l.login_id \
         WHERE l.login_id IN ({})",
        cols.join(", "),
        list.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id.clone());
    }
    let mut found = HashMap::new();
    for r in query.fetch_all(pool).await? {
        let factor_id: Option<i64> = r.try_get("id")?;
        let target = CodeTarget {
            login_pk: r.try_get("target_pk")?,
            login_id: r.try_get("target_login_id")?,
            disabled: r.try_get::<i64, _>("target_disabled")? != 0,
            totp: factor_id.map(|_| factor_from_row(&r)).transpose()?,
            validate_tat_ms: r.try_get("target_validate_tat")?,
        };
        found.insert(target.login_id.clone(), target);
    }
    Ok(found)
}
