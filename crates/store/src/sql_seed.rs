//! The SQL implementation of bulk seeding: multi-row inserts, a hundred rows a statement, in
//! one transaction per call.

use crate::seed::{SeedChallenge, SeedFactor, SeedLogin};
use crate::sql::SqlStore;
use crate::sql_audit::insert_audits;
use crate::sql_query::placeholders;
use crate::StoreResult;
use sekisho_core::audit::NewAuditEvent;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per statement (13 values an audit record, well under both backends' limit on
/// parameters). A thousand rows a statement seeded only about 1,000 logins a second on SQLite
/// through sqlx (measured on 2026-12-03); the cost grows faster than the rows.
const ROWS: usize = 100;

impl SqlStore {
    pub(crate) async fn seed(&self, seeds: &[SeedLogin]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for chunk in seeds.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO logins (login_id, display_name, email, lang, second_factor, \
                 mfa_required, created_at, updated_at, password_hash, password_changed_at) \
                 VALUES {} RETURNING id, login_id",
                placeholders(chunk.len(), 10)
            );
            let mut q = sqlx::query(&sql);
            for s in chunk {
                let l = &s.login;
                let changed = s.password_hash.as_ref().map(|_| l.now.0);
                q = q
                    .bind(l.login_id.clone())
                    .bind(l.display_name.clone())
                    .bind(l.email.clone())
                    .bind(l.lang.as_str())
                    .bind(l.second_factor.as_str())
                    .bind(i64::from(l.mfa_required))
                    .bind(l.now.0)
                    .bind(l.now.0)
                    .bind(s.password_hash.clone())
                    .bind(changed);
            }
            let mut pks = HashMap::with_capacity(chunk.len());
            for r in q.fetch_all(&mut *tx).await? {
                pks.insert(r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
            }
            let pk = |s: &SeedLogin| pks.get(&s.login.login_id).copied().unwrap_or(0);
            let apps: Vec<&SeedLogin> = chunk
                .iter()
                .filter(|s| matches!(s.factor, SeedFactor::App { .. }))
                .collect();
            if !apps.is_empty() {
                let sql = format!(
                    "INSERT INTO otp_factors (uid, login_pk, method, state, label, secret_enc, \
                     algorithm, digits, period, last_step, created_at, confirmed_at) VALUES {}",
                    placeholders(apps.len(), 12)
                );
                let mut q = sqlx::query(&sql);
                for s in apps {
                    if let SeedFactor::App {
                        uid,
                        secret_enc,
                        algorithm,
                        digits,
                        period,
                    } = &s.factor
                    {
                        q = q
                            .bind(uid.clone())
                            .bind(pk(s))
                            .bind("totp")
                            .bind("active")
                            .bind("authenticator app")
                            .bind(secret_enc.clone())
                            .bind(algorithm.as_str())
                            .bind(i64::from(*digits))
                            .bind(i64::from(*period))
                            .bind(0_i64)
                            .bind(s.login.now.0)
                            .bind(s.login.now.0);
                    }
                }
                q.execute(&mut *tx).await?;
            }
            let tokens: Vec<&SeedLogin> = chunk
                .iter()
                .filter(|s| matches!(s.factor, SeedFactor::Token(_)))
                .collect();
            if !tokens.is_empty() {
                let sql = format!(
                    "INSERT INTO tokens (token_id, kind, algorithm, digits, period, counter, \
                     drift, secret_enc, state, login_pk, imported_at, batch, assigned_at, \
                     registered_at) VALUES {}",
                    placeholders(tokens.len(), 14)
                );
                let mut q = sqlx::query(&sql);
                for s in tokens {
                    if let SeedFactor::Token(t) = &s.factor {
                        let now = s.login.now.0;
                        q = q
                            .bind(t.token_id.clone())
                            .bind(t.kind.as_str())
                            .bind(t.algorithm.as_str())
                            .bind(i64::from(t.digits))
                            .bind(i64::from(t.period))
                            .bind(t.counter)
                            .bind(t.drift)
                            .bind(t.secret_enc.clone())
                            .bind("assigned")
                            .bind(pk(s))
                            .bind(now)
                            .bind("seed")
                            .bind(now)
                            .bind(now);
                    }
                }
                q.execute(&mut *tx).await?;
            }
            let challenges: Vec<(&SeedLogin, &SeedChallenge)> = chunk
                .iter()
                .filter_map(|s| Some((s, s.challenge.as_ref()?)))
                .collect();
            if !challenges.is_empty() {
                let sql = format!(
                    "INSERT INTO login_challenges (token_hash, login_pk, methods, created_at, \
                     expires_at, code_hash, code_expires_at, code_fail_limit, code_sends, \
                     code_sent_at) VALUES {}",
                    placeholders(challenges.len(), 10)
                );
                let mut q = sqlx::query(&sql);
                for (s, c) in challenges {
                    q = q
                        .bind(c.token_hash.clone())
                        .bind(pk(s))
                        .bind(c.methods.join(","))
                        .bind(c.code.now.0)
                        .bind(c.expires_at.0)
                        .bind(c.code.hash.clone())
                        .bind(c.code.expires_at.0)
                        .bind(c.code.fail_limit)
                        .bind(1_i64)
                        .bind(c.code.now.0);
                }
                q.execute(&mut *tx).await?;
            }
            let audits: Vec<&NewAuditEvent> = chunk.iter().map(|s| &s.audit).collect();
            insert_audits(&mut tx, &audits).await?;
        }
        tx.commit().await?;
        // Fresh statistics for the planner, at once. Without them PostgreSQL plans the group
        // commit of accepted codes against the default estimates (a few dozen tokens in state
        // `assigned`) and joins the batch against every token instead of looking each one up by
        // key: after a seed of 20,000 token logins a batch of 31 codes read 620,000 rows and took
        // 300 ms, holding validation at 350-450/s until autovacuum's analyze (a minute or more
        // later) replaced the plan. A bulk load is exactly what autovacuum notices late.
        for table in ["logins", "otp_factors", "tokens", "login_challenges"] {
            sqlx::query(&format!("ANALYZE {table}"))
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }
}
