//! Storage of what OpenID Connect adds to Sekisho sessions: the clients each session signed in
//! to, the back-channel logout outbox filled whenever sessions end, and the consents customers
//! gave to clients that are not first party.
//!
//! Every statement that ends customer sessions goes through one function
//! ([`crate::sql_oidc_sessions::end_sessions`]), which queues a logout for each client those
//! sessions signed in to in the same transaction: no door can end a session and forget to tell
//! the clients.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A client a session signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSignIn {
    /// The Sekisho session.
    pub session_id: i64,
    /// The client.
    pub client_id: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// The `sid` the client's ID tokens carry for this session.
    pub sid: String,
    /// The client had a back-channel logout URI at sign-in: the session's end is queued for it.
    pub backchannel: bool,
    /// First code issued to the client in this session.
    pub first_at: Timestamp,
    /// Latest code issued to the client in this session.
    pub last_at: Timestamp,
}

/// Where a back-channel logout is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutState {
    /// Waiting for (another) attempt.
    Pending,
    /// The client answered 200 or 204.
    Sent,
    /// Given up after the last attempt (or the client has no back-channel logout URI).
    Failed,
}

impl LogoutState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogoutState::Pending => "pending",
            LogoutState::Sent => "sent",
            LogoutState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<LogoutState> {
        Some(match s {
            "pending" => LogoutState::Pending,
            "sent" => LogoutState::Sent,
            "failed" => LogoutState::Failed,
            _ => return None,
        })
    }
}

/// A back-channel logout in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxLogout {
    /// Internal key.
    pub id: i64,
    /// The client to tell.
    pub client_id: String,
    /// The login's internal key (the `sub`).
    pub login_pk: i64,
    /// The login ID (for the audit record).
    pub login_id: String,
    /// The ended session's `sid`.
    pub sid: String,
    /// Delivery state.
    pub state: LogoutState,
    /// Attempts made (counted when an attempt starts).
    pub attempts: i64,
    /// When the next attempt is due (or, while one runs, when it may be retried elsewhere).
    pub next_attempt_at: Timestamp,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Queued.
    pub created_at: Timestamp,
    /// Delivered.
    pub sent_at: Option<Timestamp>,
    /// Given up.
    pub failed_at: Option<Timestamp>,
}

/// Which logouts a listing shows, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutQuery {
    /// Only those in this state.
    pub state: Option<LogoutState>,
    /// Only those for this client.
    pub client_id: Option<String>,
    /// Only those queued before this one (the next page).
    pub before: Option<i64>,
    /// At most this many (1 to 1,000).
    pub limit: u32,
}

impl LogoutQuery {
    /// The newest `limit` logouts, whatever their state or client.
    pub fn newest(limit: u32) -> LogoutQuery {
        LogoutQuery {
            limit,
            ..LogoutQuery::default()
        }
    }
}

/// A consent a customer gave to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The login's internal key.
    pub login_pk: i64,
    /// The client.
    pub client_id: String,
    /// The scope granted (space separated).
    pub scope: String,
    /// When it was (last) given.
    pub granted_at: Timestamp,
}

/// OpenID Connect sessions, logouts and consents.
#[async_trait]
pub trait OidcSessionStore: Send + Sync {
    /// Records that a session signed in to a client (before its code is issued, so that no
    /// client holds a code of a session whose end it would not hear of); a later sign-in of the
    /// same session to the same client moves `last_at`.
    async fn record_sign_in(&self, sign_in: &SessionSignIn) -> StoreResult<()>;

    /// The clients a session signed in to (oldest first).
    async fn session_sign_ins(&self, session_id: i64) -> StoreResult<Vec<SessionSignIn>>;

    /// The sign-in whose `sid` this is (at `client_id`, if given).
    async fn sign_in_by_sid(
        &self,
        sid: &str,
        client_id: Option<&str>,
    ) -> StoreResult<Option<SessionSignIn>>;

    /// Takes the oldest due pending logout for an attempt: counts the attempt and moves its due
    /// time to `lease_until`. `None` if nothing is due.
    async fn claim_logout(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxLogout>>;

    /// Marks a logout delivered, with its audit record.
    async fn logout_sent(&self, id: i64, now: Timestamp, audit: &NewAuditEvent) -> StoreResult<()>;

    /// Records a failed attempt and when to try again.
    async fn logout_retry(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()>;

    /// Gives a logout up, with its audit record.
    async fn logout_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    /// Logouts, newest first, as `query` narrows them.
    async fn list_logouts(&self, query: &LogoutQuery) -> StoreResult<Vec<OutboxLogout>>;

    /// Deletes up to `limit` logouts delivered or given up before `before` (pending ones stay,
    /// whatever their age); how many.
    async fn purge_logouts(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;

    /// The consent of a login to a client.
    async fn get_consent(&self, login_pk: i64, client_id: &str) -> StoreResult<Option<Consent>>;

    /// Records (or widens) a consent, with its audit record.
    async fn give_consent(&self, consent: &Consent, audit: &NewAuditEvent) -> StoreResult<()>;

    /// A login's consents, by client ID.
    async fn list_consents(&self, login_pk: i64) -> StoreResult<Vec<Consent>>;

    /// Removes a consent, with its audit record; false (nothing written) if there was none.
    async fn revoke_consent(
        &self,
        login_pk: i64,
        client_id: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
