//! Storage of recovery codes: ten single-use codes per login, kept only as keyed hashes, with
//! a failure counter and lock of their own (wrong recovery codes count toward it).

use crate::{FailureOutcome, StoreResult};
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A login's set of recovery codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryStatus {
    /// When the set was generated.
    pub created_at: Timestamp,
    /// Codes not used yet.
    pub remaining: i64,
    /// Consecutive wrong recovery codes.
    pub failed_attempts: i64,
    /// When wrong codes locked the set.
    pub locked_at: Option<Timestamp>,
}

/// Recovery codes.
#[async_trait]
pub trait RecoveryStore: Send + Sync {
    /// The login's set, if one was generated.
    async fn recovery_status(&self, login_pk: i64) -> StoreResult<Option<RecoveryStatus>>;

    /// Replaces the login's set (used or not, and its failure count and lock) with new codes
    /// given by their keyed hashes, with its audit record, in one transaction.
    async fn replace_recovery_codes(
        &self,
        login_pk: i64,
        hashes: &[String],
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    /// Uses up the unused code with `hash` atomically (of concurrent uses of one code exactly
    /// one succeeds), unless the set is locked; resets the failure count and writes `audit`
    /// (its description gets the remaining count appended). The count of codes left, or `None`
    /// if no unused code has this hash (nothing is written then).
    async fn consume_recovery_code(
        &self,
        login_pk: i64,
        hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<i64>>;

    /// Counts a wrong recovery code and locks the set when the count reaches `threshold`.
    async fn fail_recovery_code(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome>;
}
