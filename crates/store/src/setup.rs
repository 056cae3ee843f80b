//! Setup links: the single-use, expiring links an operator hands a newcomer to set a password
//! and register a second factor on the hosted pages. Only a keyed hash of the token is kept.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A setup link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLink {
    /// Internal key.
    pub id: i64,
    /// The login's internal key.
    pub login_pk: i64,
    /// The login ID.
    pub login_id: String,
    /// The wizard sets the password.
    pub set_password: bool,
    /// The wizard registers the login's second factor.
    pub set_second_factor: bool,
    /// Who made it (the audit actor).
    pub created_by: String,
    /// Made.
    pub created_at: Timestamp,
    /// Ends.
    pub expires_at: Timestamp,
    /// Finished with (single use).
    pub used_at: Option<Timestamp>,
    /// Replaced by a newer link.
    pub revoked_at: Option<Timestamp>,
}

impl SetupLink {
    /// Still usable at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A setup link to record.
#[derive(Debug, Clone)]
pub struct NewSetupLink {
    /// Keyed hash of the token.
    pub token_hash: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// The wizard sets the password.
    pub set_password: bool,
    /// The wizard registers the second factor.
    pub set_second_factor: bool,
    /// Who makes it.
    pub created_by: String,
    /// Now.
    pub now: Timestamp,
    /// End.
    pub expires_at: Timestamp,
}

/// Setup links.
#[async_trait]
pub trait SetupStore: Send + Sync {
    /// Records a link with its audit event, revoking the login's older unused links in the
    /// same transaction.
    async fn create_setup_link(
        &self,
        new: &NewSetupLink,
        audit: &NewAuditEvent,
    ) -> StoreResult<SetupLink>;

    /// Finds a link by its token hash (used, revoked and expired ones included).
    async fn find_setup_link(&self, token_hash: &str) -> StoreResult<Option<SetupLink>>;

    /// Marks the link used, only if it is still open at `now` (checked in the same statement),
    /// with its audit event; false otherwise.
    async fn finish_setup_link(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// The newest link of each of these logins (used, revoked and expired ones included), for
    /// the console's "setup link pending / expired" flags; logins without a link are absent.
    async fn latest_setup_links(&self, login_pks: &[i64]) -> StoreResult<Vec<SetupLink>>;
}
