//! Storage of second factors with shared secrets (TOTP now, tokens later) and of login
//! challenges (a login between its password and its second factor).

use crate::mail::NewMail;
use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::email_code::CodeState;
use sekisho_core::otp::Algorithm;
use sekisho_core::Timestamp;

/// Whether a factor is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorState {
    /// Enrolled but not yet confirmed with a code; expires.
    Pending,
    /// Confirmed and in use (利用中).
    Active,
}

impl FactorState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FactorState::Pending => "pending",
            FactorState::Active => "active",
        }
    }
}

/// A shared-secret factor as stored. The secret stays encrypted here; only the server opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpFactor {
    /// Internal key.
    pub id: i64,
    /// Public identifier (also the associated data of the encrypted secret).
    pub uid: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// `totp`.
    pub method: String,
    /// Pending or active.
    pub state: FactorState,
    /// Label shown to the customer.
    pub label: String,
    /// The secret, sealed with the master key.
    pub secret_enc: String,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u32,
    /// TOTP step in seconds.
    pub period: u32,
    /// The last accepted step; this and earlier steps are refused.
    pub last_step: Option<i64>,
    /// Clock drift of the device in steps, learnt from accepted codes.
    pub drift: i64,
    /// Consecutive wrong codes.
    pub failed_attempts: i64,
    /// When the factor was locked by wrong codes.
    pub locked_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
    /// A pending enrolment's end.
    pub expires_at: Option<Timestamp>,
    /// Confirmed.
    pub confirmed_at: Option<Timestamp>,
    /// Last accepted code.
    pub last_used_at: Option<Timestamp>,
}

/// A factor to enrol (pending until confirmed).
#[derive(Debug, Clone)]
pub struct NewOtpFactor {
    /// Public identifier.
    pub uid: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// `totp`.
    pub method: String,
    /// Label.
    pub label: String,
    /// Sealed secret.
    pub secret_enc: String,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Digits.
    pub digits: u32,
    /// Period.
    pub period: u32,
    /// Now.
    pub now: Timestamp,
    /// End of the pending enrolment.
    pub expires_at: Timestamp,
}

/// A login waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Internal key.
    pub id: i64,
    /// The login's internal key.
    pub login_pk: i64,
    /// The login ID.
    pub login_id: String,
    /// Methods that can complete it.
    pub methods: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// End.
    pub expires_at: Timestamp,
    /// When a session was made from it.
    pub completed_at: Option<Timestamp>,
    /// The keyed hash of its e-mail code, if one was sent.
    pub code_hash: Option<String>,
    /// The e-mail code's state, if one was sent.
    pub code: Option<CodeState>,
}

/// An e-mail code to store with a challenge (by its keyed hash only).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Keyed hash of the code.
    pub hash: String,
    /// The code's end.
    pub expires_at: Timestamp,
    /// The failure count at which the code stops working.
    pub fail_limit: i64,
    /// Now (when it is sent).
    pub now: Timestamp,
}

/// A login as code validation needs it: whether it may use a code, and its active
/// authenticator app. Read in one query, because validation is the hot path.
#[derive(Debug, Clone)]
pub struct CodeTarget {
    /// Internal key of the login.
    pub login_pk: i64,
    /// The login ID.
    pub login_id: String,
    /// Disabled by an operator.
    pub disabled: bool,
    /// The active authenticator app, if one is registered.
    pub totp: Option<OtpFactor>,
    /// The arrival time of the login's bucket of wrong codes at `/api/v1/validate` (the
    /// throttle's `validate:{login_id}` row), read in the same statement; `None` if it has none.
    pub validate_tat_ms: Option<i64>,
}

/// Second factors and login challenges.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// The login's shared-secret factors (pending ones included).
    async fn otp_factors(&self, login_pk: i64) -> StoreResult<Vec<OtpFactor>>;

    /// The login `login_id` (canonical form) with its active authenticator app, in one read.
    async fn code_target(&self, login_id: &str) -> StoreResult<Option<CodeTarget>>;

    /// Stores a pending TOTP enrolment, replacing an earlier pending one;
    /// [`crate::StoreError::Conflict`] if an active TOTP exists.
    async fn put_pending_totp(
        &self,
        new: &NewOtpFactor,
        audit: &NewAuditEvent,
    ) -> StoreResult<OtpFactor>;

    /// Records an accepted code atomically: only if `step` is later than the last accepted step
    /// and the factor is not locked. Resets the failure count, stores the drift, and with
    /// `activate` makes a pending factor active. False if another request got there first.
    /// The record (and `audit`, written with it) is committed before this returns; concurrent
    /// calls share one commit.
    async fn accept_otp(
        &self,
        factor_id: i64,
        step: i64,
        drift: i64,
        now: Timestamp,
        activate: bool,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<bool>;

    /// Counts a wrong code and locks the factor when the count reaches `threshold`.
    async fn fail_otp(
        &self,
        factor_id: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome>;

    /// Removes a factor; false if it was already gone.
    async fn delete_otp_factor(&self, factor_id: i64, audit: &NewAuditEvent) -> StoreResult<bool>;

    /// Opens a challenge for a login whose password was right; returns its internal key.
    async fn create_challenge(
        &self,
        token_hash: &str,
        login_pk: i64,
        methods: &[String],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<i64>;

    /// Reads a challenge by token hash.
    async fn get_challenge(&self, token_hash: &str) -> StoreResult<Option<Challenge>>;

    /// The login's trading password hash (Argon2id PHC string), if one is set.
    async fn trading_password_hash(&self, login_pk: i64) -> StoreResult<Option<String>>;

    /// Sets (or replaces) the login's trading password hash, with its audit record; false if
    /// the login is gone.
    async fn set_trading_password(
        &self,
        login_pk: i64,
        hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Opens a challenge answered by an e-mail code, recording the code's hash, the mail that
    /// carries it and its audit event in one transaction; returns the challenge's key.
    #[allow(clippy::too_many_arguments)]
    async fn create_code_challenge(
        &self,
        token_hash: &str,
        login_pk: i64,
        methods: &[String],
        expires_at: Timestamp,
        code: &IssuedCode,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<i64>;

    /// Counts a wrong e-mail code of a challenge; returns the count after it.
    async fn fail_email_code(&self, challenge_id: i64, audit: &NewAuditEvent) -> StoreResult<i64>;

    /// Replaces the challenge's code with a new one (and its mail), only if no other code was
    /// sent since `expected_sends` were counted; the failure count is kept, and the challenge
    /// lives at least as long as the new code. False if another re-issue got there first.
    async fn reissue_email_code(
        &self,
        challenge_id: i64,
        expected_sends: i64,
        code: &IssuedCode,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
