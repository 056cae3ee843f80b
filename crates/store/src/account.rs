//! A customer's own settings that take effect only after a confirmation: the code delivery
//! address (JTG's 認証コード受信用メールアドレス), which changes only once the code sent to the
//! new address comes back.

use crate::mail::NewMail;
use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A requested change of the code delivery address, waiting for its confirmation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAddress {
    /// The new address.
    pub address: String,
    /// Keyed hash of the confirmation code.
    pub code_hash: String,
    /// Wrong codes entered so far.
    pub failures: i64,
    /// Requested.
    pub created_at: Timestamp,
    /// The code's end.
    pub expires_at: Timestamp,
}

/// Code delivery addresses.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Records a requested change (replacing an earlier one) with the mail that carries its code
    /// and its audit event, in one transaction.
    async fn request_code_address(
        &self,
        login_pk: i64,
        pending: &PendingAddress,
        mail: &NewMail,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    /// The change waiting for confirmation, if any (expired ones included).
    async fn pending_code_address(&self, login_pk: i64) -> StoreResult<Option<PendingAddress>>;

    /// Counts a wrong confirmation code; returns the count after it.
    async fn fail_code_address(&self, login_pk: i64, audit: &NewAuditEvent) -> StoreResult<i64>;

    /// Makes the pending address the delivery address, only if the pending change is still the
    /// one whose code was checked (`code_hash`), unexpired at `now` and with fewer than
    /// `max_failures` wrong codes; records `mails` (the notice to the old address) and the audit
    /// event with it. Returns the new address, or `None` if nothing changed.
    async fn confirm_code_address(
        &self,
        login_pk: i64,
        code_hash: &str,
        max_failures: i64,
        now: Timestamp,
        mails: &[NewMail],
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<String>>;

    /// Removes the delivery address (codes go to the registered address again) and any pending
    /// change, with `mails` and the audit event; false (and nothing written) if none was set.
    async fn clear_code_address(
        &self,
        login_pk: i64,
        now: Timestamp,
        mails: &[NewMail],
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
