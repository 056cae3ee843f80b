//! Logins: creating, reading, searching, changing and deleting them, their passwords, password
//! failures and the operator's unlock.

use crate::sql::{opt_ts, ts, Counter, SqlStore};
use crate::sql_audit::commit_audited;
use crate::sql_oidc_sessions::{end_sessions, Ending};
use crate::sql_query::{bind_all, Conditions, Val};
use crate::{FailureOutcome, LoginPatch, LoginQuery, NewLogin, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::{Lang, Timestamp};
use sqlx::any::AnyRow;
use sqlx::Row;

const LOGIN_COLS: &str =
    "id, login_id, display_name, email, code_email, notify_login, lang, second_factor, mfa_required, \
    disabled, failed_logins, locked_at, password_hash, password_changed_at, password_temporary, \
    created_at, updated_at, last_login_at";

fn flag(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<i64, _>(col).map(|v| v != 0)
}

fn login_from_row(r: &AnyRow) -> Result<Login, sqlx::Error> {
    Ok(Login {
        id: r.try_get("id")?,
        login_id: r.try_get("login_id")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        code_email: r.try_get("code_email")?,
        notify_login: r.try_get::<Option<i64>, _>("notify_login")?.map(|v| v != 0),
        lang: Lang::parse(&r.try_get::<String, _>("lang")?).unwrap_or_default(),
        second_factor: SecondFactor::parse(&r.try_get::<String, _>("second_factor")?)
            .unwrap_or_default(),
        mfa_required: flag(r, "mfa_required")?,
        disabled: flag(r, "disabled")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_at: opt_ts(r, "locked_at")?,
        password_hash: r.try_get("password_hash")?,
        password_changed_at: opt_ts(r, "password_changed_at")?,
        password_temporary: flag(r, "password_temporary")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_login_at: opt_ts(r, "last_login_at")?,
    })
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl SqlStore {
    pub(crate) async fn create_login(
        &self,
        new: &NewLogin,
        audit: &NewAuditEvent,
    ) -> StoreResult<Login> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO logins (login_id, display_name, email, lang, second_factor, mfa_required, \
             created_at, updated_at, notify_login) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) \
             RETURNING {LOGIN_COLS}"
        ))
        .bind(new.login_id.clone())
        .bind(new.display_name.clone())
        .bind(new.email.clone())
        .bind(new.lang.as_str())
        .bind(new.second_factor.as_str())
        .bind(i64::from(new.mfa_required))
        .bind(new.now.0)
        .bind(new.notify_login.map(i64::from))
        .fetch_one(&mut *tx)
        .await?;
        let login = login_from_row(&row)?;
        commit_audited(tx, &[audit]).await?;
        Ok(login)
    }

    pub(crate) async fn get_login(&self, login_id: &str) -> StoreResult<Option<Login>> {
        let row = sqlx::query(&format!(
            "SELECT {LOGIN_COLS} FROM logins WHERE login_id = $1"
        ))
        .bind(login_id.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| login_from_row(&r)).transpose()?)
    }

    /// The login with this internal key (OpenID Connect grants keep the key, since a login ID
    /// can change).
    pub(crate) async fn get_login_by_pk(&self, login_pk: i64) -> StoreResult<Option<Login>> {
        let row = sqlx::query(&format!("SELECT {LOGIN_COLS} FROM logins WHERE id = $1"))
            .bind(login_pk)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| login_from_row(&r)).transpose()?)
    }

    pub(crate) async fn list_logins(&self, query: &LoginQuery) -> StoreResult<Vec<Login>> {
        let mut c = Conditions::default();
        if let Some(q) = query.q.as_deref().filter(|q| !q.is_empty()) {
            c.push(
                "(lower(login_id) LIKE {} ESCAPE '\\' OR lower(display_name) LIKE {} ESCAPE '\\' \
                 OR lower(email) LIKE {} ESCAPE '\\')",
                Val::S(like_pattern(q)),
            );
        }
        match query.locked {
            Some(true) => c.push_plain("locked_at IS NOT NULL"),
            Some(false) => c.push_plain("locked_at IS NULL"),
            None => {}
        }
        if let Some(after) = &query.after {
            c.push("login_id > {}", Val::S(after.clone()));
        }
        let limit = c.next_placeholder();
        let sql = format!(
            "SELECT {LOGIN_COLS} FROM logins{} ORDER BY login_id LIMIT {limit}",
            c.where_clause()
        );
        let rows = bind_all(sqlx::query(&sql), c.vals)
            .bind(i64::from(query.limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await?;
        Ok(rows
            .iter()
            .map(login_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    pub(crate) async fn update_login(
        &self,
        login_id: &str,
        patch: &LoginPatch,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Login>> {
        let mut sets: Vec<String> = Vec::new();
        let mut vals: Vec<Val> = Vec::new();
        let mut set = |col: &str, v: Val| {
            vals.push(v);
            sets.push(format!("{col} = ${}", vals.len()));
        };
        if let Some(v) = &patch.display_name {
            set("display_name", Val::S(v.clone()));
        }
        if let Some(v) = &patch.email {
            set("email", Val::S(v.clone()));
        }
        if let Some(v) = patch.lang {
            set("lang", Val::S(v.as_str().into()));
        }
        if let Some(v) = patch.second_factor {
            set("second_factor", Val::S(v.as_str().into()));
        }
        if let Some(v) = patch.mfa_required {
            set("mfa_required", Val::I(i64::from(v)));
        }
        if let Some(v) = patch.disabled {
            set("disabled", Val::I(i64::from(v)));
        }
        if let Some(v) = patch.notify_login {
            set("notify_login", Val::I(i64::from(v)));
        }
        set("updated_at", Val::I(now.0));
        let n = vals.len() + 1;
        let sql = format!(
            "UPDATE logins SET {} WHERE login_id = ${n} RETURNING {LOGIN_COLS}",
            sets.join(", ")
        );
        let mut tx = self.begin_write().await?;
        let row = bind_all(sqlx::query(&sql), vals)
            .bind(login_id.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login = login_from_row(&row)?;
        if patch.disabled == Some(true) {
            end_sessions(&mut tx, Ending::AllOf(login.id), now, false).await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(Some(login))
    }

    pub(crate) async fn delete_login(
        &self,
        login_id: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        // Its sessions end (and their clients are told) before they go with the login.
        let mut tx = self.begin_write().await?;
        let pk: Option<i64> = sqlx::query_scalar("SELECT id FROM logins WHERE login_id = $1")
            .bind(login_id.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(pk) = pk else {
            return Ok(false);
        };
        end_sessions(&mut tx, Ending::AllOf(pk), audit.time, true).await?;
        sqlx::query("DELETE FROM logins WHERE id = $1")
            .bind(pk)
            .execute(&mut *tx)
            .await?;
        commit_audited(tx, &[audit]).await?;
        Ok(true)
    }

    pub(crate) async fn password_history(
        &self,
        login_pk: i64,
        n: usize,
    ) -> StoreResult<Vec<String>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT password_hash FROM password_history WHERE login_pk = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(login_pk)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>("password_hash"))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    pub(crate) async fn set_password(
        &self,
        login_pk: i64,
        password_hash: &str,
        temporary: bool,
        now: Timestamp,
        keep_session: Option<i64>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE logins SET password_hash = $2, password_changed_at = $3, \
             password_temporary = $4, updated_at = $3 WHERE id = $1",
        )
        .bind(login_pk)
        .bind(password_hash.to_owned())
        .bind(now.0)
        .bind(i64::from(temporary))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO password_history (login_pk, password_hash, set_at) VALUES ($1, $2, $3)",
        )
        .bind(login_pk)
        .bind(password_hash.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        // Keep a bounded history: enough for any sensible "last N" rule.
        sqlx::query(
            "DELETE FROM password_history WHERE login_pk = $1 AND id NOT IN \
             (SELECT id FROM password_history WHERE login_pk = $1 ORDER BY id DESC LIMIT 24)",
        )
        .bind(login_pk)
        .execute(&mut *tx)
        .await?;
        let keep = keep_session.unwrap_or(-1);
        end_sessions(&mut tx, Ending::AllBut(login_pk, keep), now, false).await?;
        crate::sql_devices::revoke_all(&mut tx, login_pk, now).await?;
        Ok(commit_audited(tx, &[audit]).await?)
    }

    pub(crate) async fn record_password_failure(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        self.count_failure(
            Counter::Password,
            login_pk,
            threshold,
            now,
            audit,
            lock_audit,
        )
        .await
    }

    pub(crate) async fn unlock_login(
        &self,
        login_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT locked_at FROM logins WHERE login_id = $1")
            .bind(login_id.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut was_locked = opt_ts(&row, "locked_at")?.is_some();
        sqlx::query(
            "UPDATE logins SET failed_logins = 0, locked_at = NULL, updated_at = $2 WHERE login_id = $1",
        )
        .bind(login_id.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let login_pk_of = "(SELECT id FROM logins WHERE login_id = $1)";
        was_locked |= sqlx::query(&format!(
            "UPDATE otp_factors SET locked_at = NULL WHERE login_pk = {login_pk_of} AND locked_at IS NOT NULL"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        was_locked |= sqlx::query(&format!(
            "UPDATE recovery_code_sets SET locked_at = NULL, failed_attempts = 0 \
             WHERE id = {login_pk_of} AND locked_at IS NOT NULL"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        // The login's tokens too: an unlock that left the token locked would tell the support
        // desk the customer can log in while the token still refuses every code.
        was_locked |= sqlx::query(&format!(
            "UPDATE tokens SET locked_at = NULL, failed_attempts = 0 \
             WHERE login_pk = {login_pk_of} AND locked_at IS NOT NULL AND state <> 'revoked'"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        for table in ["otp_factors", "tokens"] {
            sqlx::query(&format!(
                "UPDATE {table} SET failed_attempts = 0 WHERE login_pk = {login_pk_of} AND failed_attempts > 0"
            ))
            .bind(login_id.to_owned())
            .execute(&mut *tx)
            .await?;
        }
        commit_audited(tx, &[audit]).await?;
        Ok(Some(was_locked))
    }
}
