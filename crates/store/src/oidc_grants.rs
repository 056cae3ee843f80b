//! Storage of OpenID Connect grants: authorization requests (pushed with PAR or waiting for the
//! customer's login), authorization codes and the `jti`s of client assertions. Each request and
//! each code is used once, decided by one conditional statement, so two instances racing on the
//! same value cannot both succeed.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// What an authorization request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Pushed by the client (RFC 9126); its handle is the `request_uri`.
    Pushed,
    /// Accepted at the authorization endpoint, waiting for the customer's login.
    Pending,
}

impl RequestKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Pushed => "par",
            RequestKind::Pending => "pending",
        }
    }

    pub(crate) fn parse(s: &str) -> RequestKind {
        if s == "par" {
            RequestKind::Pushed
        } else {
            RequestKind::Pending
        }
    }
}

/// An authorization request to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOidcRequest {
    /// SHA-256 of the handle (`request_uri` or pending-request ID).
    pub handle_hash: String,
    /// Pushed or pending.
    pub kind: RequestKind,
    /// The client that made it.
    pub client_id: String,
    /// The validated request parameters (JSON text, opaque to the store).
    pub params: String,
    /// Now.
    pub created_at: Timestamp,
    /// It can no longer be used from then on.
    pub expires_at: Timestamp,
}

/// A stored authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcRequest {
    /// The request as recorded.
    pub request: NewOidcRequest,
    /// When it was used, if it was.
    pub used_at: Option<Timestamp>,
}

/// An authorization code to record (its hash), with what the login proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOidcCode {
    /// SHA-256 of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was sent to (the token request must name it again).
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The client's `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// The granted scope (space separated).
    pub scope: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// The Sekisho session the authorization came from (the ID token's `sid`).
    pub session_id: Option<i64>,
    /// When the customer last really authenticated.
    pub auth_time: Timestamp,
    /// The level reached (`acr`).
    pub acr: String,
    /// The methods used (`amr`, space separated).
    pub amr: String,
    /// The JWK thumbprint of the DPoP key the code is bound to (`dpop_jkt`, RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    /// The granted `authorization_details` (RFC 9396) as JSON text, if the request had any.
    pub authorization_details: Option<String>,
    /// Issued.
    pub created_at: Timestamp,
    /// Valid until.
    pub expires_at: Timestamp,
}

/// A stored code, as taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcCode {
    /// The code as recorded.
    pub code: NewOidcCode,
    /// When it was first used.
    pub used_at: Option<Timestamp>,
}

/// A `jti` to use once: a client assertion's (under its client ID) or a DPoP proof's (under
/// `dpop:` and the key's thumbprint), kept until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JtiUse {
    /// Whose `jti` it is.
    pub key: String,
    /// The `jti`.
    pub jti: String,
    /// Kept until (no token carrying it is accepted after this).
    pub expires_at: Timestamp,
}

/// What taking a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTake {
    /// No such code.
    Unknown,
    /// This call used it (whether it has expired is the caller's rule: `expires_at`).
    First(OidcCode),
    /// It had been used before (at `used_at`): a replay.
    Reused(OidcCode),
}

/// OpenID Connect grants.
#[async_trait]
pub trait OidcGrantStore: Send + Sync {
    /// Records an authorization request; [`crate::StoreError::Conflict`] if the handle exists.
    async fn create_oidc_request(&self, new: &NewOidcRequest) -> StoreResult<()>;

    /// The request with this handle hash and kind, used or not (expiry is the caller's rule).
    async fn get_oidc_request(
        &self,
        handle_hash: &str,
        kind: RequestKind,
    ) -> StoreResult<Option<OidcRequest>>;

    /// Uses an unused, unexpired request of this kind: exactly one caller gets it; later
    /// callers, or any caller at or after `expires_at`, get `None`.
    async fn take_oidc_request(
        &self,
        handle_hash: &str,
        kind: RequestKind,
        now: Timestamp,
    ) -> StoreResult<Option<NewOidcRequest>>;

    /// Uses the pending request `handle_hash` and records the code issued for it, the session's
    /// sign-in to the client (so that the client hears of the session's end: see
    /// [`crate::OidcSessionStore::record_sign_in`]) and the audit record of the authorization,
    /// in one transaction; false (nothing written) if the request was used already or has
    /// expired at `code.created_at`.
    async fn issue_oidc_code(
        &self,
        handle_hash: &str,
        code: &NewOidcCode,
        sign_in: Option<&crate::SessionSignIn>,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Records codes in bulk, in one transaction, without their requests, sign-ins or audit
    /// records: only for seeding a benchmark of the token endpoint (`sekisho-bench oidc`), never
    /// for the flow, which issues each code with [`OidcGrantStore::issue_oidc_code`]. A code hash
    /// that exists already is [`crate::StoreError::Conflict`] and nothing is written.
    async fn seed_oidc_codes(&self, codes: &[NewOidcCode]) -> StoreResult<()>;

    /// The code with this hash, used or not, without using it (a read).
    async fn get_oidc_code(&self, code_hash: &str) -> StoreResult<Option<OidcCode>>;

    /// Uses a code: see [`CodeTake`].
    async fn take_oidc_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeTake>;

    /// Records a client assertion's `jti` until `expires_at`; false if this client's `jti` was
    /// seen before and has not expired (a replay). Expired `jti`s are forgotten on the way.
    async fn use_client_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// The login with this internal key, as grants name it.
    async fn login_by_pk(&self, login_pk: i64) -> StoreResult<Option<sekisho_core::login::Login>>;

    /// Deletes up to `limit` rows of each table (requests, codes, `jti`s) that ended before
    /// `before`; how many in all. Bounded, so that it can run on the way of a request.
    async fn purge_oidc_grants(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}
