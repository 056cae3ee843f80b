//! Storage of what a code exchange gives a client: the token grant (login, client, scope, what
//! the login proved, the session and the DPoP key) and its refresh tokens, kept only as hashes.
//! Revoking a grant ends its refresh tokens and, since access tokens name their grant, its
//! access tokens at introspection and UserInfo.

use crate::oidc_grants::JtiUse;
use crate::throttle::ThrottleSpend;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A token grant to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokenGrant {
    /// Random, opaque identifier (access tokens carry it).
    pub grant_id: String,
    /// The client.
    pub client_id: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// The Sekisho session the authorization came from.
    pub session_id: Option<i64>,
    /// The granted scope (space separated).
    pub scope: String,
    /// When the customer last really authenticated.
    pub auth_time: Timestamp,
    /// The level reached (`acr`).
    pub acr: String,
    /// The methods used (`amr`, space separated).
    pub amr: String,
    /// The JWK thumbprint (RFC 7638) of the DPoP key the tokens are bound to.
    pub dpop_jkt: Option<String>,
    /// SHA-256 of the authorization code exchanged (a second use of it revokes the grant).
    pub code_hash: String,
    /// Made.
    pub created_at: Timestamp,
    /// No refresh after this (the last refresh token's expiry, or the access token's).
    pub expires_at: Timestamp,
}

/// A stored token grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The grant as recorded.
    pub grant: NewTokenGrant,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// Why (`code_reuse`, `refresh_reuse`, `revoked`, `logout`, …).
    pub revoked_reason: Option<String>,
}

/// A refresh token to record (its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Its grant.
    pub grant_id: String,
    /// Issued.
    pub created_at: Timestamp,
    /// Valid until.
    pub expires_at: Timestamp,
}

/// A stored refresh token with its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The token as recorded.
    pub token: NewRefreshToken,
    /// When it was rotated (a public client's), if it was.
    pub used_at: Option<Timestamp>,
    /// Its grant.
    pub grant: TokenGrant,
}

/// Everything a successful code exchange writes, for one transaction: the client's request
/// counted, the client assertion's and DPoP proof's `jti`s, the code used, the grant with its
/// refresh token, and the audit records.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    /// The request, counted under the client's bucket.
    pub throttle: Option<&'a ThrottleSpend>,
    /// `jti`s to use once, in order.
    pub jtis: &'a [JtiUse],
    /// The grant; its `code_hash` is the code used, at its `created_at`.
    pub grant: &'a NewTokenGrant,
    /// Its first refresh token.
    pub refresh: Option<&'a NewRefreshToken>,
    /// The records of the issue.
    pub audit: &'a [&'a NewAuditEvent],
}

/// What [`OidcTokenStore::redeem_oidc_code`] did. Anything but `Done` wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// All of it, committed.
    Done,
    /// The client's bucket is spent: retry after this many milliseconds.
    Throttled {
        /// Milliseconds until a request would be allowed.
        retry_after_ms: i64,
    },
    /// The `jti` at this index of `jtis` was used before.
    Replayed(usize),
    /// The code is unknown or was used before (by a request racing this one).
    CodeUsed,
}

/// Token grants and refresh tokens.
#[async_trait]
pub trait OidcTokenStore: Send + Sync {
    /// Writes a code exchange in one transaction, checking in this order: the throttle, each
    /// `jti`, the code not used yet (it is used at the grant's `created_at`). See [`Redeemed`].
    /// Exactly one of two racing redemptions of a code succeeds.
    async fn redeem_oidc_code(&self, r: Redemption<'_>) -> StoreResult<Redeemed>;

    /// The grant with this identifier.
    async fn get_token_grant(&self, grant_id: &str) -> StoreResult<Option<TokenGrant>>;

    /// The refresh token with this hash, used or not, with its grant.
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;

    /// Rotates a refresh token: marks `old_hash` used and records `new`, in one transaction;
    /// false (nothing written) if it was used before, has expired at `now`, or its grant is
    /// revoked. Exactly one of two racing callers succeeds.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &NewRefreshToken,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Revokes a grant (and so its tokens) at `now` for `reason`; false if it was revoked
    /// already or does not exist.
    async fn revoke_token_grant(
        &self,
        grant_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Revokes the grants made by exchanging the code with this hash (a code used twice); the
    /// grants revoked by this call.
    async fn revoke_grants_for_code(
        &self,
        code_hash: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>>;

    /// Revokes every live grant made from the Sekisho session `session_id` (a logout); the
    /// grants revoked by this call.
    async fn revoke_grants_for_session(
        &self,
        session_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>>;

    /// Revokes every live grant of the login `login_pk` to the client `client_id` (consent
    /// withdrawn); the grants revoked by this call.
    async fn revoke_grants_for_client(
        &self,
        login_pk: i64,
        client_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<TokenGrant>>;

    /// Deletes up to `limit` grants and refresh tokens each that ended before `before`; how
    /// many in all.
    async fn purge_token_grants(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}
