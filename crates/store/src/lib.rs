//! Sekisho's storage: the [`Store`] trait and one SQL implementation that runs the same
//! statements on SQLite (embedded default, WAL) and PostgreSQL (shared by several instances).
//!
//! Every method that changes security state takes the audit event(s) describing the change and
//! writes them in the same transaction. Counters and locks change in single atomic statements, so
//! concurrent requests on any number of instances leave them exact.

mod account;
mod batch;
mod codes;
mod devices;
mod factors;
mod flows;
mod mail;
mod oidc_clients;
mod oidc_grants;
mod oidc_sessions;
mod oidc_tokens;
mod operators;
mod passkeys;
mod pg_hot;
mod pg_reach;
mod recovery;
mod replay;
mod sealed;
mod seed;
mod setup;
mod sql;
mod sql_account;
mod sql_api_tokens;
mod sql_audit;
mod sql_audit_archive;
mod sql_audit_seed;
mod sql_credentials;
mod sql_devices;
mod sql_factors;
mod sql_flows;
mod sql_logins;
mod sql_mail;
mod sql_oidc_clients;
mod sql_oidc_grants;
mod sql_oidc_sessions;
mod sql_oidc_tokens;
mod sql_operators;
mod sql_outbox;
mod sql_passkeys;
mod sql_query;
mod sql_recovery;
mod sql_rehash;
mod sql_sealed;
mod sql_seed;
mod sql_sessions;
mod sql_setup;
mod sql_step_up;
mod sql_throttle;
mod sql_tokens;
mod sqlite_files;
mod sqlite_hot;
mod step_up;
pub mod testing;
mod throttle;
mod tokens;

use async_trait::async_trait;
use sekisho_core::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use sekisho_core::audit_chain::{ChainPoint, ChainedRecord};
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::token::ApiScope;
use sekisho_core::{Lang, Timestamp};

pub use account::{AccountStore, PendingAddress};
pub use devices::{DeviceStore, NewDevice, TrustedDevice};
pub use factors::{
    Challenge, CodeTarget, FactorState, FactorStore, IssuedCode, NewOtpFactor, OtpFactor,
};
pub use flows::{FlowStore, StoredFlow};
pub use mail::{MailState, MailStore, NewMail, OutboxMail};
pub use oidc_clients::{ClientRecord, OidcClientStore, StoredClient};
pub use oidc_grants::{
    CodeTake, JtiUse, NewOidcCode, NewOidcRequest, OidcCode, OidcGrantStore, OidcRequest,
    RequestKind,
};
pub use oidc_sessions::{
    Consent, LogoutQuery, LogoutState, OidcSessionStore, OutboxLogout, SessionSignIn,
};
pub use oidc_tokens::{
    NewRefreshToken, NewTokenGrant, OidcTokenStore, Redeemed, Redemption, RefreshToken, TokenGrant,
};
pub use operators::{Operator, OperatorFailure, OperatorSession, OperatorStore};
pub use passkeys::{
    Ceremony, CeremonyKind, NewCeremony, NewPasskey, PasskeyStore, PasskeyUse, StoredPasskey,
};
pub use recovery::{RecoveryStatus, RecoveryStore};
pub use sealed::{Reseal, SealedColumn, SealedStore, SealedValue};
pub use seed::{SeedChallenge, SeedFactor, SeedLogin};
pub use setup::{NewSetupLink, SetupLink, SetupStore};
pub use sql::{connect, ConnectOptions};
pub use sqlite_hot::{file_of as sqlite_file_of, SqliteSynchronous};
pub use step_up::{NewStepUp, SigningKey, StepUpAnswer, StepUpRequest, StepUpStore};
pub use throttle::{ThrottleAnswer, ThrottleSpend, ThrottleStore};
pub use tokens::{
    AssignOutcome, ImportOutcome, NewToken, OtpToken, TokenQuery, TokenState, TokenStore,
};

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the change (e.g. the login ID exists).
    #[error("conflict")]
    Conflict,
    /// The database cannot be reached for now (refused or lost connection, a server shutting
    /// down or starting, no connection free within the pool's wait): nothing was committed by
    /// this call, and trying again later may succeed. The detail is for the log only.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database failed; the detail is for the log only.
    #[error("database: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    /// A unique violation is a [`StoreError::Conflict`] the caller answers; a lost or refused
    /// connection is [`StoreError::Unavailable`]; anything else is a failure whose text is only
    /// for the log.
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            _ if connection_lost(&e) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Whether `e` says the database is out of reach rather than that the statement failed:
/// I/O and TLS errors, the pool's timeout, and PostgreSQL's connection exceptions (SQLSTATE
/// class 08) and shutdown or start-up refusals (57P01–57P03).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<rusqlite::Error> for StoreError {
    /// The SQLite hot path reports every failure as a backend failure: its statements have no
    /// unique constraint a caller could answer.
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database is behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a local file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A login to create.
#[derive(Debug, Clone)]
pub struct NewLogin {
    /// Canonical login ID.
    pub login_id: String,
    /// Display name.
    pub display_name: String,
    /// Registered e-mail address.
    pub email: String,
    /// Language.
    pub lang: Lang,
    /// Second factor.
    pub second_factor: SecondFactor,
    /// MFA mandatory.
    pub mfa_required: bool,
    /// Login notifications (`None`: the firm's default at the time of each login).
    pub notify_login: Option<bool>,
    /// Creation time.
    pub now: Timestamp,
}

/// Changes to a login; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LoginPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// New language.
    pub lang: Option<Lang>,
    /// New second factor.
    pub second_factor: Option<SecondFactor>,
    /// New MFA requirement.
    pub mfa_required: Option<bool>,
    /// Disable (true) or enable (false). Disabling also revokes the login's sessions.
    pub disabled: Option<bool>,
    /// Switch login notifications on or off.
    pub notify_login: Option<bool>,
}

/// A search over logins, ordered by login ID.
#[derive(Debug, Clone, Default)]
pub struct LoginQuery {
    /// Substring of the login ID, display name or e-mail (case-insensitive).
    pub q: Option<String>,
    /// Only locked (true) or only unlocked (false) logins.
    pub locked: Option<bool>,
    /// Only logins whose ID sorts after this one (the paging cursor).
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Login's internal key.
    pub login_pk: i64,
    /// Purpose.
    pub purpose: SessionPurpose,
    /// Methods used (e.g. `pwd`).
    pub methods: Vec<String>,
    /// Now.
    pub now: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Client IP.
    pub client_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// The login challenge this session completes; it is marked used in the same transaction,
    /// so a challenge yields at most one session.
    pub challenge_id: Option<i64>,
}

/// An API token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// ID.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// What it may call.
    pub scope: ApiScope,
    /// Created.
    pub created_at: Timestamp,
    /// Revoked.
    pub revoked_at: Option<Timestamp>,
}

/// Whose password hash [`Store::rehash_password`] replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordOwner {
    /// A customer's login (its key).
    Login(i64),
    /// An operator (its key).
    Operator(i64),
}

/// What a recorded password failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureOutcome {
    /// Consecutive failures after this one.
    pub failed_logins: i64,
    /// This failure locked the login.
    pub newly_locked: bool,
}

/// A login's second factors at a glance (the admin logins list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactorSummary {
    /// The login's internal key.
    pub login_pk: i64,
    /// An authenticator app is registered (confirmed).
    pub totp_active: bool,
    /// The app factor is locked by wrong codes.
    pub totp_locked: bool,
    /// Tokens assigned to the login.
    pub tokens_assigned: u32,
    /// Of them, registered (start-of-use done).
    pub tokens_registered: u32,
    /// Of them, locked by wrong codes.
    pub tokens_locked: u32,
    /// Passkeys registered (usable or not).
    pub passkeys: u32,
    /// Of them, suspended because their signature counter went backwards (a cloned
    /// authenticator is possible).
    pub passkeys_regressed: u32,
}

/// What erasing credentials removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasedCredentials {
    /// The password was erased.
    pub password: bool,
    /// Authenticator-app factors removed.
    pub factors: u64,
    /// Tokens unassigned (back in stock).
    pub tokens: u64,
    /// Recovery codes removed (used or not).
    pub recovery_codes: u64,
    /// Passkeys removed.
    pub passkeys: u64,
    /// Sessions revoked.
    pub sessions: u64,
}

/// The result of walking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// ID of the first chained record; records below it predate the chain.
    pub chain_start: i64,
    /// Records written before the chain existed (not verifiable).
    pub unchained: u64,
    /// The point the walk started after: the checkpoint given, else the archived head or the
    /// point before the first chained record.
    pub from: ChainPoint,
    /// The last record verified (a checkpoint for the next walk when nothing is broken).
    pub last: ChainPoint,
    /// Chained records verified before the first break (all of them if none).
    pub verified: u64,
    /// The first broken record, if any.
    pub broken: Option<ChainBreak>,
}

/// The audit chain's head row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// ID of the first chained record.
    pub chain_start: i64,
    /// The newest record.
    pub last: ChainPoint,
    /// The last record archived and removed, if any: the remaining trail links to it.
    pub archived: Option<ChainPoint>,
}

/// Where and why the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// Event ID of the first record that does not verify.
    pub id: i64,
    /// Its time, when the record exists.
    pub time: Option<Timestamp>,
    /// What is wrong.
    pub reason: String,
}

/// Everything Sekisho keeps. One implementation serves SQLite and PostgreSQL.
#[async_trait]
pub trait Store:
    FactorStore
    + MailStore
    + AccountStore
    + DeviceStore
    + TokenStore
    + OperatorStore
    + SetupStore
    + RecoveryStore
    + PasskeyStore
    + FlowStore
    + StepUpStore
    + OidcClientStore
    + OidcGrantStore
    + OidcTokenStore
    + OidcSessionStore
    + ThrottleStore
    + SealedStore
    + Send
    + Sync
{
    /// The backend in use.
    fn backend(&self) -> Backend;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Writes a consistent copy of the whole database to `path` (an absent or empty file) while
    /// instances keep serving: SQLite's `VACUUM INTO` on a reader, which sees one snapshot and
    /// holds no lock writers wait for. A PostgreSQL database is backed up with `pg_dump`
    /// instead ([`StoreError::Backend`] says so).
    async fn backup_into(&self, path: &std::path::Path) -> StoreResult<()>;

    /// Creates a login; [`StoreError::Conflict`] if the ID is taken.
    async fn create_login(&self, new: &NewLogin, audit: &NewAuditEvent) -> StoreResult<Login>;

    /// Reads a login by its canonical ID.
    async fn get_login(&self, login_id: &str) -> StoreResult<Option<Login>>;

    /// Searches logins.
    async fn list_logins(&self, query: &LoginQuery) -> StoreResult<Vec<Login>>;

    /// Applies a patch; `None` if there is no such login.
    async fn update_login(
        &self,
        login_id: &str,
        patch: &LoginPatch,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Login>>;

    /// Deletes a login with its sessions and password history; false if there was none. The
    /// audit trail keeps the login ID.
    async fn delete_login(&self, login_id: &str, audit: &NewAuditEvent) -> StoreResult<bool>;

    /// The newest `n` password hashes of a login (the current one first).
    async fn password_history(&self, login_pk: i64, n: usize) -> StoreResult<Vec<String>>;

    /// Replaces a password hash made with outdated parameters by `new_hash`, a hash of the same
    /// password, if the stored one is still `old_hash`; whether it was replaced. The password
    /// does not change (nor its age or history), so nothing is revoked or audited.
    async fn rehash_password(
        &self,
        owner: PasswordOwner,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool>;

    /// Sets a new password hash (and records it in the history), revoking the login's sessions
    /// except `keep_session` and all its familiar browsers.
    async fn set_password(
        &self,
        login_pk: i64,
        password_hash: &str,
        temporary: bool,
        now: Timestamp,
        keep_session: Option<i64>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    /// Counts one password failure atomically and locks the login when the count reaches
    /// `threshold`; `lock_audit` is written only by the failure that locks it.
    async fn record_password_failure(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome>;

    /// Clears the password lock, the failure count and every factor lock of the login (app,
    /// assigned tokens, recovery codes) with their counts; `None` if there is no such login,
    /// otherwise whether anything was locked.
    async fn unlock_login(
        &self,
        login_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>>;

    /// After a correct password (and second factor): resets the failure count and creates a
    /// session, unless the login was locked or disabled meanwhile or the challenge was already
    /// used (then `None` and nothing changes).
    async fn create_session(
        &self,
        new: &NewSession,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Session>>;

    /// The largest session ID so far (0 when there is none): sessions created later get larger
    /// ones, on every instance.
    async fn newest_session_id(&self) -> StoreResult<i64>;

    /// Reads a session by token hash (revoked or not).
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;

    /// Records use of a session (moves the idle deadline).
    async fn touch_session(&self, session_id: i64, now: Timestamp) -> StoreResult<()>;

    /// Revokes one session; false if it was already revoked.
    async fn revoke_session(
        &self,
        session_id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Revokes every active session of a login; returns how many.
    async fn revoke_login_sessions(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64>;

    /// Lists a login's sessions that are not revoked and not past their absolute end.
    async fn list_sessions(&self, login_pk: i64, now: Timestamp) -> StoreResult<Vec<Session>>;

    /// Deletes up to `limit` sessions whose absolute end is before `before`, and with them the
    /// clients they signed in to (their audit records stay); how many.
    async fn purge_sessions(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;

    /// Stores a new API token by hash.
    async fn create_api_token(
        &self,
        name: &str,
        scope: ApiScope,
        token_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ApiToken>;

    /// Finds a token that is not revoked.
    async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;

    /// All tokens, revoked ones included.
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;

    /// Revokes a token; `None` if there is none with this ID, else whether it was active.
    async fn revoke_api_token(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>>;

    /// Appends an audit event on its own (for events that change nothing else).
    async fn append_audit(&self, event: &NewAuditEvent) -> StoreResult<()>;

    /// Reads the audit trail, newest first.
    async fn query_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;

    /// Second-factor summaries of these logins (one per key, in key order).
    async fn factor_summaries(&self, login_pks: &[i64]) -> StoreResult<Vec<FactorSummary>>;

    /// Erases a login's password (it can no longer be used; the customer needs a new one) and/or
    /// its second factors (app factors, passkeys and recovery codes removed, tokens unassigned), revoking its sessions and
    /// familiar browsers, with the audit record, in one transaction.
    async fn erase_credentials(
        &self,
        login_pk: i64,
        password: bool,
        second_factor: bool,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ErasedCredentials>;

    /// Creates logins in bulk, each with its password (if any), its active second factor, its
    /// pending e-mail-code challenge (if any) and its audit record, in one transaction
    /// ([`StoreError::Conflict`] and nothing created if a login ID, factor, token ID or
    /// challenge token is taken). For benchmarks and load tests.
    async fn seed_logins(&self, seeds: &[SeedLogin]) -> StoreResult<()>;

    /// Walks the whole audit chain in ID order, `page` records per query, and reports the first
    /// broken record.
    async fn verify_audit_chain(&self, page: u32) -> StoreResult<ChainReport> {
        self.verify_audit_chain_from(None, page).await
    }

    /// Walks the audit chain from a checkpoint (the ID and hash of the last record verified
    /// before; the record must still match it) or, with `None`, from the start of what the
    /// table holds (the archived head, or the first chained record), to the head.
    async fn verify_audit_chain_from(
        &self,
        from: Option<&ChainPoint>,
        page: u32,
    ) -> StoreResult<ChainReport>;

    /// The audit chain's head row.
    async fn audit_head(&self) -> StoreResult<AuditHead>;

    /// Stored records with IDs in `after + 1 ..= through`, in ID order, at most `limit`.
    async fn audit_records(
        &self,
        after: i64,
        through: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedRecord>>;

    /// The ID of the first record after ID `after` (in ID order) whose time is at or after
    /// `time`, if any.
    async fn first_audit_since(&self, after: i64, time: Timestamp) -> StoreResult<Option<i64>>;

    /// Removes the records after `from` through `through` (already written to an archive) and
    /// makes `through` the archived head the remaining trail verifies from, with `audit` (the
    /// archiving itself), in one transaction. `from` must be the current archived head (or the
    /// point before the first chained record) and `through` a stored record with that hash,
    /// else [`StoreError::Conflict`] and nothing changes. Says how many records went.
    async fn drop_archived_audit(
        &self,
        from: &ChainPoint,
        through: &ChainPoint,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64>;

    /// Appends audit records in bulk, chained to the head, in one transaction (multi-row
    /// inserts on SQLite, `COPY` on PostgreSQL). For benchmarks.
    async fn seed_audit(&self, events: &[NewAuditEvent]) -> StoreResult<()>;
}
