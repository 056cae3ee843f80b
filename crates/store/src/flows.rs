//! The hosted pages' state shared by every instance: logins in progress ("login flows") and the
//! recent re-authentication of a session. Only the hash of a flow's cookie is kept; its payload
//! is sealed by the server before it reaches the store.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;

/// A login in progress as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFlow {
    /// Internal key.
    pub id: i64,
    /// The sealed payload (opaque to the store).
    pub payload: String,
    /// Made.
    pub created_at: Timestamp,
    /// Ends.
    pub expires_at: Timestamp,
}

/// Logins in progress and fresh re-authentications.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Records a flow under the hash of its cookie, purging flows that ended before `now`.
    async fn create_flow(
        &self,
        token_hash: &str,
        payload: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<StoredFlow>;

    /// The flow with this hash if it is neither finished nor expired at `now`.
    async fn open_flow(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<StoredFlow>>;

    /// Finishes the flow, only if it is still open at `now` (checked in the same statement):
    /// true for exactly one caller, so a finished flow cannot be replayed.
    async fn finish_flow(&self, token_hash: &str, now: Timestamp) -> StoreResult<bool>;

    /// Marks a session as re-authenticated until `until` (replacing an earlier mark).
    async fn mark_session_fresh(&self, session_id: i64, until: Timestamp) -> StoreResult<()>;

    /// Whether the session's re-authentication is still fresh at `now`.
    async fn session_is_fresh(&self, session_id: i64, now: Timestamp) -> StoreResult<bool>;
}
