//! Storage of the token inventory: hardware and software OTP tokens imported from seed files,
//! in stock until bound to a login by their token ID.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::Timestamp;

/// Where a token is in its life. A lock (after consecutive wrong codes) is a separate flag,
/// [`OtpToken::locked_at`], on an assigned token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Imported, bound to no login.
    InStock,
    /// Bound to a login (by an operator, or by the customer's start-of-use registration).
    Assigned,
    /// Revoked (失効): never usable again.
    Revoked,
}

impl TokenState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::InStock => "in_stock",
            TokenState::Assigned => "assigned",
            TokenState::Revoked => "revoked",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<TokenState> {
        match s {
            "in_stock" => Some(TokenState::InStock),
            "assigned" => Some(TokenState::Assigned),
            "revoked" => Some(TokenState::Revoked),
            _ => None,
        }
    }
}

/// A token as stored. The secret stays sealed here; only the server opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpToken {
    /// Internal key.
    pub id: i64,
    /// The credential ID printed on the token (canonical form); also the associated data of
    /// the sealed secret.
    pub token_id: String,
    /// HOTP or TOTP.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u32,
    /// TOTP step in seconds.
    pub period: u32,
    /// HOTP: the next counter expected.
    pub counter: i64,
    /// TOTP: the last accepted step.
    pub last_step: Option<i64>,
    /// TOTP: the token's clock drift in steps.
    pub drift: i64,
    /// The secret, sealed with the master key.
    pub secret_enc: String,
    /// In stock, assigned or revoked.
    pub state: TokenState,
    /// The login it is bound to (internal key).
    pub login_pk: Option<i64>,
    /// The login it is bound to (login ID).
    pub login_id: Option<String>,
    /// Consecutive wrong codes.
    pub failed_attempts: i64,
    /// When wrong codes locked it.
    pub locked_at: Option<Timestamp>,
    /// When it was imported.
    pub imported_at: Timestamp,
    /// The import batch (file name or label).
    pub batch: String,
    /// When it was bound to its login.
    pub assigned_at: Option<Timestamp>,
    /// When the customer completed start-of-use registration with two codes.
    pub registered_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Last accepted code.
    pub last_used_at: Option<Timestamp>,
    /// Not usable before this time (from the seed file).
    pub valid_from: Option<Timestamp>,
    /// Not usable after this time (from the seed file).
    pub valid_until: Option<Timestamp>,
    /// How many codes it may give in all (from the seed file).
    pub max_transactions: Option<i64>,
    /// Codes accepted so far.
    pub transactions: i64,
}

impl OtpToken {
    /// Whether the seed file's limits forbid using the token at `now`: before its start,
    /// after its expiry, or out of transactions.
    pub fn expired_at(&self, now: Timestamp) -> bool {
        self.valid_from.is_some_and(|f| now < f)
            || self.valid_until.is_some_and(|u| now > u)
            || self
                .max_transactions
                .is_some_and(|m| self.transactions >= m)
    }
}

/// A token to put in stock.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Canonical token ID.
    pub token_id: String,
    /// HOTP or TOTP.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Digits.
    pub digits: u32,
    /// Period (TOTP).
    pub period: u32,
    /// Next counter (HOTP).
    pub counter: i64,
    /// Starting clock drift in steps (TOTP).
    pub drift: i64,
    /// Not usable before this time.
    pub valid_from: Option<Timestamp>,
    /// Not usable after this time.
    pub valid_until: Option<Timestamp>,
    /// How many codes it may give in all.
    pub max_transactions: Option<i64>,
    /// Sealed secret (associated data naming the token ID).
    pub secret_enc: String,
}

/// What an import stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Token IDs put in stock.
    pub imported: Vec<String>,
    /// Token IDs already in the inventory, left as they were.
    pub duplicates: Vec<String>,
}

/// A search over the inventory, ordered by token ID.
#[derive(Debug, Clone, Default)]
pub struct TokenQuery {
    /// Only this state.
    pub state: Option<TokenState>,
    /// Only locked (true) or unlocked (false) tokens.
    pub locked: Option<bool>,
    /// Only tokens of this login (internal key).
    pub login_pk: Option<i64>,
    /// Only this batch.
    pub batch: Option<String>,
    /// Only token IDs after this one (the paging cursor).
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// The outcome of [`TokenStore::assign_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOutcome {
    /// Bound.
    Assigned,
    /// The token is not in stock (assigned, revoked, or gone).
    NotInStock,
    /// The login already has as many assigned tokens as allowed.
    LoginHasToken,
}

/// The token inventory.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Puts `tokens` in stock in one transaction with its audit record; token IDs already in
    /// the inventory are skipped (and reported), never overwritten.
    async fn import_tokens(
        &self,
        tokens: &[NewToken],
        batch: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ImportOutcome>;

    /// Reads a token by its canonical ID.
    async fn get_token(&self, token_id: &str) -> StoreResult<Option<OtpToken>>;

    /// Searches the inventory.
    async fn list_tokens(&self, query: &TokenQuery) -> StoreResult<Vec<OtpToken>>;

    /// The login's registered token (assigned and through start-of-use registration; the
    /// first by token ID if it has several), if any. On the validation hot path: reads of
    /// many logins are batched into one statement.
    async fn registered_token(&self, login_pk: i64) -> StoreResult<Option<OtpToken>>;

    /// Binds a token in stock to a login, if the login has fewer than `max_per_login`
    /// assigned tokens. The login's row is locked first, so concurrent assignments to one login
    /// cannot both pass the count.
    async fn assign_token(
        &self,
        token_id: &str,
        login_pk: i64,
        max_per_login: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<AssignOutcome>;

    /// Returns an assigned token to stock: unbound, unregistered, failures and lock cleared.
    /// The counter and last step stay, so codes already used stay used. False if it was not
    /// assigned.
    async fn unassign_token(
        &self,
        token_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Revokes a token in stock or assigned (失効); false if it was already revoked or is gone.
    async fn revoke_token(
        &self,
        token_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Start-of-use registration: binds a token to a login after two consecutive codes and
    /// records where they left the token (HOTP `counter` = the next counter; TOTP `last_step`
    /// and `drift`). Allowed for a token in stock, or assigned to this login by an operator and
    /// not registered yet, if it is not locked; the per-login limit is checked under the
    /// login's row lock as in [`TokenStore::assign_token`].
    #[allow(clippy::too_many_arguments)]
    async fn register_token(
        &self,
        token_id: &str,
        login_pk: i64,
        max_per_login: u32,
        counter: i64,
        last_step: Option<i64>,
        drift: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<AssignOutcome>;

    /// Records an accepted code (or resynchronising pair) atomically: HOTP moves the counter to
    /// `value` (the counter after the one used) only if it is below it; TOTP stores `value` as
    /// the last step (with `drift`) only if it is later than the stored one. Resets the failure
    /// count and counts the transaction. False if the token is locked, not assigned and
    /// registered, out of the transactions its seed file allows, or another request got there
    /// first.
    async fn accept_token_code(
        &self,
        id: i64,
        value: i64,
        drift: i64,
        now: Timestamp,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<bool>;

    /// Counts a wrong code and locks the token when the count reaches `threshold`.
    async fn fail_token(
        &self,
        id: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<crate::FailureOutcome>;

    /// Clears a token's lock and failure count; false if it was not locked.
    async fn unlock_token(
        &self,
        token_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
