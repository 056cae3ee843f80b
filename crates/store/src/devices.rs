//! Familiar browsers (trusted devices): server-side records of browsers and apps allowed to skip
//! the second factor for a while, found by the hash of the token the browser holds.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A familiar browser as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    /// Internal key.
    pub id: i64,
    /// Public identifier.
    pub uid: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// The second-factor method it passed (`email`, `totp`) and may skip.
    pub method: String,
    /// Label from the User-Agent.
    pub label: String,
    /// Remembered.
    pub created_at: Timestamp,
    /// Last login that skipped the factor with it (or its creation).
    pub last_used_at: Timestamp,
    /// End.
    pub expires_at: Timestamp,
    /// Revoked by the customer, an operator or a password change.
    pub revoked_at: Option<Timestamp>,
}

/// A familiar browser to record.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// Public identifier.
    pub uid: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// The login's internal key.
    pub login_pk: i64,
    /// Method.
    pub method: String,
    /// Label.
    pub label: String,
    /// Now.
    pub now: Timestamp,
    /// End.
    pub expires_at: Timestamp,
}

/// Familiar browsers.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Records a familiar browser with its audit event.
    async fn create_device(
        &self,
        new: &NewDevice,
        audit: &NewAuditEvent,
    ) -> StoreResult<TrustedDevice>;

    /// Finds a device by token hash (revoked or expired ones included).
    async fn find_device(&self, token_hash: &str) -> StoreResult<Option<TrustedDevice>>;

    /// Records a use, only if the device belongs to `login_pk`, is not revoked and has not
    /// expired at `now` (checked in the same statement); false otherwise.
    async fn use_device(&self, id: i64, login_pk: i64, now: Timestamp) -> StoreResult<bool>;

    /// The login's devices that are neither revoked nor expired, newest first.
    async fn list_devices(&self, login_pk: i64, now: Timestamp) -> StoreResult<Vec<TrustedDevice>>;

    /// Revokes one device of the login; false if there is no such active device.
    async fn revoke_device(
        &self,
        login_pk: i64,
        uid: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Revokes every active device of the login; returns how many.
    async fn revoke_devices(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64>;
}
