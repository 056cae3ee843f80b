//! Per-login second-factor summaries (for the admin logins list) and erasing credentials.

use crate::sql::SqlStore;
use crate::sql_audit::commit_audited;
use crate::sql_oidc_sessions::Ending;
use crate::{ErasedCredentials, FactorSummary, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::Row;
use std::collections::HashMap;

impl SqlStore {
    pub(crate) async fn factor_summaries(
        &self,
        login_pks: &[i64],
    ) -> StoreResult<Vec<FactorSummary>> {
        if login_pks.is_empty() {
            return Ok(Vec::new());
        }
        let ph: Vec<String> = (1..=login_pks.len()).map(|i| format!("${i}")).collect();
        let ph = ph.join(", ");
        let mut out: HashMap<i64, FactorSummary> = login_pks
            .iter()
            .map(|&pk| {
                (
                    pk,
                    FactorSummary {
                        login_pk: pk,
                        ..FactorSummary::default()
                    },
                )
            })
            .collect();
        let sql = format!(
            "SELECT login_pk, state, locked_at FROM otp_factors \
             WHERE method = 'totp' AND login_pk IN ({ph})"
        );
        let mut query = sqlx::query(&sql);
        for pk in login_pks {
            query = query.bind(*pk);
        }
        for r in query.fetch_all(&self.read).await? {
            let pk: i64 = r.try_get("login_pk")?;
            let state: String = r.try_get("state")?;
            let locked: Option<i64> = r.try_get("locked_at")?;
            if let Some(s) = out.get_mut(&pk) {
                s.totp_active |= state == "active";
                s.totp_locked |= locked.is_some();
            }
        }
        let sql = format!(
            "SELECT login_pk, registered_at, locked_at FROM tokens \
             WHERE state = 'assigned' AND login_pk IN ({ph})"
        );
        let mut query = sqlx::query(&sql);
        for pk in login_pks {
            query = query.bind(*pk);
        }
        for r in query.fetch_all(&self.read).await? {
            let pk: i64 = r.try_get("login_pk")?;
            let registered: Option<i64> = r.try_get("registered_at")?;
            let locked: Option<i64> = r.try_get("locked_at")?;
            if let Some(s) = out.get_mut(&pk) {
                s.tokens_assigned += 1;
                s.tokens_registered += u32::from(registered.is_some());
                s.tokens_locked += u32::from(locked.is_some());
            }
        }
        let sql =
            format!("SELECT login_pk, counter_regressed_at FROM passkeys WHERE login_pk IN ({ph})");
        let mut query = sqlx::query(&sql);
        for pk in login_pks {
            query = query.bind(*pk);
        }
        for r in query.fetch_all(&self.read).await? {
            let pk: i64 = r.try_get("login_pk")?;
            let regressed: Option<i64> = r.try_get("counter_regressed_at")?;
            if let Some(s) = out.get_mut(&pk) {
                s.passkeys += 1;
                s.passkeys_regressed += u32::from(regressed.is_some());
            }
        }
        let mut v: Vec<FactorSummary> = out.into_values().collect();
        v.sort_by_key(|s| s.login_pk);
        Ok(v)
    }

    pub(crate) async fn erase(
        &self,
        login_pk: i64,
        password: bool,
        second_factor: bool,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ErasedCredentials> {
        let mut tx = self.begin_write().await?;
        let mut out = ErasedCredentials::default();
        if password {
            out.password = sqlx::query(
                "UPDATE logins SET password_hash = NULL, password_temporary = 0, \
                 failed_logins = 0, locked_at = NULL, updated_at = $2 \
                 WHERE id = $1 AND password_hash IS NOT NULL",
            )
            .bind(login_pk)
            .bind(now.0)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
        }
        if second_factor {
            out.factors = sqlx::query("DELETE FROM otp_factors WHERE login_pk = $1")
                .bind(login_pk)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            out.tokens = sqlx::query(
                "UPDATE tokens SET state = 'in_stock', login_pk = NULL, assigned_at = NULL, \
                 registered_at = NULL, failed_attempts = 0, locked_at = NULL \
                 WHERE login_pk = $1 AND state = 'assigned'",
            )
            .bind(login_pk)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            out.recovery_codes = sqlx::query("DELETE FROM recovery_codes WHERE login_pk = $1")
                .bind(login_pk)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            out.passkeys = sqlx::query("DELETE FROM passkeys WHERE login_pk = $1")
                .bind(login_pk)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM recovery_code_sets WHERE id = $1")
                .bind(login_pk)
                .execute(&mut *tx)
                .await?;
        }
        out.sessions =
            crate::sql_oidc_sessions::end_sessions(&mut tx, Ending::AllOf(login_pk), now, false)
                .await?;
        crate::sql_devices::revoke_all(&mut tx, login_pk, now).await?;
        let mut ev = audit.clone();
        ev.description = format!(
            "{} (password {}, {} app factor(s) removed, {} token(s) unassigned, \
             {} recovery code(s) removed, {} passkey(s) removed, {} session(s) revoked)",
            audit.description,
            if out.password { "erased" } else { "kept" },
            out.factors,
            out.tokens,
            out.recovery_codes,
            out.passkeys,
            out.sessions
        );
        commit_audited(tx, &[&ev]).await?;
        Ok(out)
    }
}
