//! Sessions of logins: created when a login completes, touched, listed and revoked.

use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::{commit_audited, commit_audited_if};
use crate::sql_oidc_sessions::{end_sessions, Ending};
use crate::{NewSession, StoreResult};
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const SESSION_COLS: &str = "s.id, s.login_pk, l.login_id, s.purpose, s.methods, s.created_at, \
    s.last_seen_at, s.expires_at, s.revoked_at, s.client_ip, s.user_agent";

fn session_from_row(r: &AnyRow) -> Result<Session, sqlx::Error> {
    let methods: String = r.try_get("methods")?;
    Ok(Session {
        id: r.try_get("id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        purpose: SessionPurpose::parse(&r.try_get::<String, _>("purpose")?),
        methods: methods
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        expires_at: ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
        client_ip: r.try_get("client_ip")?,
        user_agent: r.try_get("user_agent")?,
    })
}

impl SqlStore {
    pub(crate) async fn create_session(
        &self,
        new: &NewSession,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Session>> {
        let full = new.purpose == SessionPurpose::Full;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE logins SET failed_logins = 0, \
             last_login_at = CASE WHEN $2 = 1 THEN $3 ELSE last_login_at END \
             WHERE id = $1 AND locked_at IS NULL AND disabled = 0 RETURNING login_id",
        )
        .bind(new.login_pk)
        .bind(i64::from(full))
        .bind(new.now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login_id: String = row.try_get("login_id")?;
        if let Some(challenge) = new.challenge_id {
            let done = sqlx::query(
                "UPDATE login_challenges SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL",
            )
            .bind(challenge)
            .bind(new.now.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Ok(None);
            }
        }
        let row = sqlx::query(
            "INSERT INTO sessions (token_hash, login_pk, purpose, methods, created_at, last_seen_at, \
             expires_at, client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.token_hash.clone())
        .bind(new.login_pk)
        .bind(new.purpose.as_str())
        .bind(new.methods.join(","))
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .bind(new.client_ip.clone())
        .bind(new.user_agent.clone())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        commit_audited(tx, &[audit]).await?;
        Ok(Some(Session {
            id,
            login_pk: new.login_pk,
            login_id,
            purpose: new.purpose,
            methods: new.methods.clone(),
            created_at: new.now,
            last_seen_at: new.now,
            expires_at: new.expires_at,
            revoked_at: None,
            client_ip: new.client_ip.clone(),
            user_agent: new.user_agent.clone(),
        }))
    }

    pub(crate) async fn newest_session_id(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS newest FROM sessions")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("newest")?)
    }

    pub(crate) async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions s JOIN logins l ON l.id = s.login_pk WHERE s.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| session_from_row(&r)).transpose()?)
    }

    pub(crate) async fn touch_session(&self, session_id: i64, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(session_id)
            .bind(now.0)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub(crate) async fn revoke_session(
        &self,
        session_id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let n = end_sessions(&mut tx, Ending::One(session_id), now, false).await?;
        commit_audited_if(tx, n > 0, audit).await
    }

    pub(crate) async fn revoke_login_sessions(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = end_sessions(&mut tx, Ending::AllOf(login_pk), now, true).await?;
        let mut ev = audit.clone();
        ev.description = format!("{} ({n})", audit.description);
        commit_audited(tx, &[&ev]).await?;
        Ok(n)
    }

    pub(crate) async fn list_sessions(
        &self,
        login_pk: i64,
        now: Timestamp,
    ) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions s JOIN logins l ON l.id = s.login_pk \
             WHERE s.login_pk = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 ORDER BY s.id DESC"
        ))
        .bind(login_pk)
        .bind(now.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(session_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    pub(crate) async fn purge_sessions(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        // `ON DELETE CASCADE` takes the session's sign-ins to clients and its login flow along.
        Ok(sqlx::query(
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 \
             ORDER BY expires_at LIMIT $2)",
        )
        .bind(before.0)
        .bind(i64::from(limit))
        .execute(&self.write)
        .await?
        .rows_affected())
    }
}
