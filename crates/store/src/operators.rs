//! Storage of operators (the firm's staff) and their sessions.

use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::operator::OperatorRole;
use sekisho_core::Timestamp;

/// An operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Internal key.
    pub id: i64,
    /// Name (unique, the audit actor).
    pub name: String,
    /// Admin or support.
    pub role: OperatorRole,
    /// Argon2id hash; `None` until setup.
    pub password_hash: Option<String>,
    /// Authenticator-app secret, sealed; `None` until setup is confirmed.
    pub totp_secret_enc: Option<String>,
    /// Authenticator-app secret of a setup in progress, sealed.
    pub totp_pending_enc: Option<String>,
    /// Last accepted TOTP step (each code once).
    pub totp_last_step: Option<i64>,
    /// Consecutive wrong passwords.
    pub failed_logins: i64,
    /// Consecutive wrong codes.
    pub failed_codes: i64,
    /// Locked since.
    pub locked_at: Option<Timestamp>,
    /// Disabled by an administrator.
    pub disabled: bool,
    /// A setup link is pending until then.
    pub setup_expires_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Last successful login.
    pub last_login_at: Option<Timestamp>,
}

/// An operator session (with its operator's current role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// ID.
    pub id: i64,
    /// The operator's internal key.
    pub operator_pk: i64,
    /// The operator's name.
    pub name: String,
    /// The operator's role now.
    pub role: OperatorRole,
    /// The operator is disabled now.
    pub disabled: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last used.
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Revoked (logout).
    pub revoked_at: Option<Timestamp>,
}

/// Which of an operator's counters a failure counts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorFailure {
    /// A wrong password.
    Password,
    /// A wrong one-time code.
    Code,
}

/// Operators and their sessions. Every change writes its audit record in the same transaction.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Creates an operator with a pending setup link (stored as its keyed hash);
    /// [`crate::StoreError::Conflict`] if the name is taken.
    async fn create_operator(
        &self,
        name: &str,
        role: OperatorRole,
        setup_hash: &str,
        setup_expires_at: Timestamp,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Operator>;

    /// Reads an operator by name.
    async fn get_operator(&self, name: &str) -> StoreResult<Option<Operator>>;

    /// All operators by name.
    async fn list_operators(&self) -> StoreResult<Vec<Operator>>;

    /// The operator whose setup link has this hash and has not expired at `now`.
    async fn find_operator_setup(
        &self,
        setup_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Operator>>;

    /// First setup step: sets the password and the pending authenticator secret, while the
    /// link is still pending; false if it was used or expired meanwhile.
    async fn set_operator_credentials(
        &self,
        id: i64,
        setup_hash: &str,
        password_hash: &str,
        totp_pending_enc: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Second setup step: activates the pending secret at `step` and uses up the link; false if
    /// it was used or expired meanwhile.
    async fn complete_operator_setup(
        &self,
        id: i64,
        setup_hash: &str,
        step: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Replaces the setup link (and clears password and factor: the operator sets them again).
    async fn reset_operator_setup(
        &self,
        id: i64,
        setup_hash: &str,
        setup_expires_at: Timestamp,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Changes role and/or the disabled flag; disabling revokes the operator's sessions.
    /// `None` if there is no such operator.
    async fn update_operator(
        &self,
        id: i64,
        role: Option<OperatorRole>,
        disabled: Option<bool>,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Deletes an operator and its sessions; the audit trail keeps the name.
    async fn delete_operator(&self, id: i64, audit: &NewAuditEvent) -> StoreResult<bool>;

    /// Clears the lock and both failure counts; whether it was locked.
    async fn unlock_operator(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Counts one failure and locks at `threshold`; `lock_audit` is written only by the failure
    /// that locks.
    async fn record_operator_failure(
        &self,
        id: i64,
        kind: OperatorFailure,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome>;

    /// After a correct password and code: records the code's step (which must be after the last
    /// one), resets the counters and opens a session, unless the operator was locked or
    /// disabled or the step used meanwhile (then `None`).
    #[allow(clippy::too_many_arguments)]
    async fn create_operator_session(
        &self,
        id: i64,
        token_hash: &str,
        step: i64,
        now: Timestamp,
        expires_at: Timestamp,
        client_ip: Option<&str>,
        user_agent: Option<&str>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<OperatorSession>>;

    /// Reads a session by token hash, with its operator's current role.
    async fn get_operator_session(&self, token_hash: &str) -> StoreResult<Option<OperatorSession>>;

    /// Records use of a session.
    async fn touch_operator_session(&self, id: i64, now: Timestamp) -> StoreResult<()>;

    /// Revokes a session; false if it was already revoked.
    async fn revoke_operator_session(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
