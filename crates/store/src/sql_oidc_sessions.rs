//! The SQL implementation of [`OidcSessionStore`], and [`end_sessions`]: the one statement pair
//! that ends customer sessions and queues their back-channel logouts.

use crate::oidc_sessions::{
    Consent, LogoutQuery, LogoutState, OidcSessionStore, OutboxLogout, SessionSignIn,
};
use crate::sql::{opt_ts, ts, SqlStore};
use crate::sql_audit::commit_audited;
use crate::sql_outbox::Outbox;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// Records a session's sign-in to a client (a later one moves `last_at`), on `conn` (a
/// transaction of the caller's: the code's, see `issue_oidc_code`).
pub(crate) async fn record_sign_in(conn: &mut AnyConnection, s: &SessionSignIn) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oidc_session_clients (session_id, client_id, login_pk, sid, first_at, \
         last_at, backchannel) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (session_id, client_id) DO UPDATE SET last_at = $6, backchannel = $7",
    )
    .bind(s.session_id)
    .bind(s.client_id.clone())
    .bind(s.login_pk)
    .bind(s.sid.clone())
    .bind(s.first_at.0)
    .bind(s.last_at.0)
    .bind(i64::from(s.backchannel))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which of a login's sessions end.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending {
    /// This session.
    One(i64),
    /// Every session of this login.
    AllOf(i64),
    /// Every session of this login (first) except one (second).
    AllBut(i64, i64),
}

impl Ending {
    fn filter(self) -> &'static str {
        match self {
            Ending::One(_) => "s.id = $2",
            Ending::AllOf(_) => "s.login_pk = $2",
            Ending::AllBut(..) => "s.login_pk = $2 AND s.id <> $3",
        }
    }

    fn bind<'q>(self, q: crate::sql::AnyQuery<'q>) -> crate::sql::AnyQuery<'q> {
        match self {
            Ending::One(id) | Ending::AllOf(id) => q.bind(id),
            Ending::AllBut(login, keep) => q.bind(login).bind(keep),
        }
    }
}

/// Ends the active sessions `which` names at `now` inside the caller's transaction (only those
/// not past their absolute end if `live_only`), queueing a back-channel logout for every client
/// they signed in to first; how many sessions ended. Every door that ends customer sessions
/// (logout, revocation, password change, erasure, disabling, deletion) reaches this function
/// through its store method.
pub(crate) async fn end_sessions(
    conn: &mut AnyConnection,
    which: Ending,
    now: Timestamp,
    live_only: bool,
) -> Result<u64, sqlx::Error> {
    let cond = which.filter();
    let live = if live_only {
        " AND s.expires_at > $1"
    } else {
        ""
    };
    let queue = format!(
        "INSERT INTO oidc_logout_outbox (client_id, login_pk, login_id, sid, state, attempts, \
         next_attempt_at, created_at) \
         SELECT c.client_id, c.login_pk, l.login_id, c.sid, 'pending', 0, $1, $1 \
         FROM oidc_session_clients c JOIN sessions s ON s.id = c.session_id \
         JOIN logins l ON l.id = c.login_pk \
         WHERE {cond} AND c.backchannel = 1 AND s.revoked_at IS NULL AND s.expires_at > $1"
    );
    which
        .bind(sqlx::query(&queue).bind(now.0))
        .execute(&mut *conn)
        .await?;
    // The grants (refresh tokens, and through them access tokens) made on these sessions end
    // with them, except those with `offline_access`, which are meant to outlive the session
    // (OpenID Connect Back-Channel Logout 1.0 §2.7).
    let grants = format!(
        "UPDATE oidc_token_grants SET revoked_at = $1, revoked_reason = 'session_ended' \
         WHERE revoked_at IS NULL AND (' ' || scope || ' ') NOT LIKE '% offline_access %' \
         AND session_id IN (SELECT s.id FROM sessions s WHERE {cond} AND s.revoked_at IS NULL{live})"
    );
    which
        .bind(sqlx::query(&grants).bind(now.0))
        .execute(&mut *conn)
        .await?;
    let end = format!(
        "UPDATE sessions SET revoked_at = $1 WHERE id IN (SELECT s.id FROM sessions s \
         WHERE {cond} AND s.revoked_at IS NULL{live})"
    );
    Ok(which
        .bind(sqlx::query(&end).bind(now.0))
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

const SIGN_IN_COLS: &str = "session_id, client_id, login_pk, sid, backchannel, first_at, last_at";

const LOGOUT_COLS: &str = "id, client_id, login_pk, login_id, sid, state, attempts, \
    next_attempt_at, last_error, created_at, sent_at, failed_at";

const LOGOUTS: Outbox = Outbox {
    table: "oidc_logout_outbox",
    cols: LOGOUT_COLS,
};

fn sign_in_row(r: &AnyRow) -> Result<SessionSignIn, sqlx::Error> {
    Ok(SessionSignIn {
        session_id: r.try_get("session_id")?,
        client_id: r.try_get("client_id")?,
        login_pk: r.try_get("login_pk")?,
        sid: r.try_get("sid")?,
        backchannel: r.try_get::<i64, _>("backchannel")? != 0,
        first_at: ts(r, "first_at")?,
        last_at: ts(r, "last_at")?,
    })
}

fn logout_row(r: &AnyRow) -> Result<OutboxLogout, sqlx::Error> {
    Ok(OutboxLogout {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        sid: r.try_get("sid")?,
        state: LogoutState::parse(&r.try_get::<String, _>("state")?)
            .unwrap_or(LogoutState::Pending),
        attempts: r.try_get("attempts")?,
        next_attempt_at: ts(r, "next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: ts(r, "created_at")?,
        sent_at: opt_ts(r, "sent_at")?,
        failed_at: opt_ts(r, "failed_at")?,
    })
}

fn consent_row(r: &AnyRow) -> Result<Consent, sqlx::Error> {
    Ok(Consent {
        login_pk: r.try_get("login_pk")?,
        client_id: r.try_get("client_id")?,
        scope: r.try_get("scope")?,
        granted_at: ts(r, "granted_at")?,
    })
}

#[async_trait]
impl OidcSessionStore for SqlStore {
    async fn record_sign_in(&self, s: &SessionSignIn) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        record_sign_in(&mut conn, s).await
    }

    async fn session_sign_ins(&self, session_id: i64) -> StoreResult<Vec<SessionSignIn>> {
        let rows = sqlx::query(&format!(
            "SELECT {SIGN_IN_COLS} FROM oidc_session_clients WHERE session_id = $1 \
             ORDER BY first_at, client_id"
        ))
        .bind(session_id)
        .fetch_all(&self.write)
        .await?;
        Ok(rows
            .iter()
            .map(sign_in_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn sign_in_by_sid(
        &self,
        sid: &str,
        client_id: Option<&str>,
    ) -> StoreResult<Option<SessionSignIn>> {
        let row = sqlx::query(&format!(
            "SELECT {SIGN_IN_COLS} FROM oidc_session_clients WHERE sid = $1 \
             AND ($2 = '' OR client_id = $2) ORDER BY first_at LIMIT 1"
        ))
        .bind(sid.to_owned())
        .bind(client_id.unwrap_or_default().to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| sign_in_row(&r)).transpose()?)
    }

    async fn claim_logout(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxLogout>> {
        let row = LOGOUTS.claim(self, now, lease_until).await?;
        Ok(row.map(|r| logout_row(&r)).transpose()?)
    }

    async fn logout_sent(&self, id: i64, now: Timestamp, audit: &NewAuditEvent) -> StoreResult<()> {
        Ok(LOGOUTS.sent(self, id, now, "", Some(audit)).await?)
    }

    async fn logout_retry(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        Ok(LOGOUTS.retry(self, id, error, next_attempt_at).await?)
    }

    async fn logout_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        Ok(LOGOUTS.failed(self, id, error, now, audit).await?)
    }

    async fn list_logouts(&self, q: &LogoutQuery) -> StoreResult<Vec<OutboxLogout>> {
        let rows = sqlx::query(&format!(
            "SELECT {LOGOUT_COLS} FROM oidc_logout_outbox WHERE ($1 = '' OR state = $1) \
             AND ($2 = '' OR client_id = $2) AND ($3 = 0 OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(q.state.map_or("", LogoutState::as_str).to_owned())
        .bind(q.client_id.clone().unwrap_or_default())
        .bind(q.before.unwrap_or(0))
        .bind(i64::from(q.limit.clamp(1, 1000)))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(logout_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn purge_logouts(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM oidc_logout_outbox WHERE id IN (SELECT id FROM oidc_logout_outbox \
             WHERE (state = 'sent' AND sent_at < $1) OR (state = 'failed' AND failed_at < $1) \
             LIMIT $2)",
        )
        .bind(before.0)
        .bind(i64::from(limit))
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    async fn get_consent(&self, login_pk: i64, client_id: &str) -> StoreResult<Option<Consent>> {
        let row = sqlx::query(
            "SELECT login_pk, client_id, scope, granted_at FROM oidc_consents \
             WHERE login_pk = $1 AND client_id = $2",
        )
        .bind(login_pk)
        .bind(client_id.to_owned())
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| consent_row(&r)).transpose()?)
    }

    async fn give_consent(&self, c: &Consent, audit: &NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO oidc_consents (login_pk, client_id, scope, granted_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (login_pk, client_id) \
             DO UPDATE SET scope = $3, granted_at = $4",
        )
        .bind(c.login_pk)
        .bind(c.client_id.clone())
        .bind(c.scope.clone())
        .bind(c.granted_at.0)
        .execute(&mut *tx)
        .await?;
        Ok(commit_audited(tx, &[audit]).await?)
    }

    async fn list_consents(&self, login_pk: i64) -> StoreResult<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT login_pk, client_id, scope, granted_at FROM oidc_consents \
             WHERE login_pk = $1 ORDER BY client_id",
        )
        .bind(login_pk)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(consent_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn revoke_consent(
        &self,
        login_pk: i64,
        client_id: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change =
            sqlx::query("DELETE FROM oidc_consents WHERE login_pk = $1 AND client_id = $2")
                .bind(login_pk)
                .bind(client_id.to_owned());
        self.change_audited(change, audit).await
    }
}
