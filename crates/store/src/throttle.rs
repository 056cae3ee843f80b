//! The throttle's buckets (issue 16 item 2), shared by every instance: one row per key, changed
//! by one atomic statement per check (see `sekisho_core::throttle` for the rule).

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;

/// One check's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleAnswer {
    /// The request may go on (and was counted).
    pub allowed: bool,
    /// When refused: milliseconds until one would be allowed.
    pub retry_after_ms: i64,
}

/// One request to count under a bucket, as [`ThrottleStore::throttle`] counts it: for a write
/// that counts its request in its own transaction (the token endpoint's code exchange).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleSpend {
    /// The bucket.
    pub bucket: String,
    /// Now, in milliseconds.
    pub now_ms: i64,
    /// How far an allowed request moves the bucket's arrival time.
    pub interval_ms: i64,
    /// How far ahead of now the arrival time may be.
    pub tolerance_ms: i64,
}

/// Rate-limit buckets and the growing delay's holds.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Checks and, if allowed, counts one request under `bucket` at `now_ms`, in one atomic
    /// statement: allowed when the bucket is not held and its arrival time is at most
    /// `tolerance_ms` ahead of now; an allowed request moves it `interval_ms` on.
    async fn throttle(
        &self,
        bucket: &str,
        now_ms: i64,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> StoreResult<ThrottleAnswer>;

    /// What [`ThrottleStore::throttle`] would answer for `bucket` at `now_ms`, without counting
    /// anything (a read): for a door that counts only failures and checks before it tries.
    async fn throttle_peek(
        &self,
        bucket: &str,
        now_ms: i64,
        tolerance_ms: i64,
    ) -> StoreResult<ThrottleAnswer>;

    /// Holds `bucket` until `until_ms` (never shortens a longer hold).
    async fn throttle_hold(&self, bucket: &str, until_ms: i64) -> StoreResult<()>;

    /// Counts one consecutive failure under `bucket` (atomically); the count after it.
    async fn throttle_fail(&self, bucket: &str) -> StoreResult<i64>;

    /// Clears `bucket`'s failures and hold (after a success); writes only if there were any.
    async fn throttle_forgive(&self, bucket: &str) -> StoreResult<()>;

    /// Deletes the buckets that are full again at `now_ms` and whose last hold ended
    /// `retain_ms` before it (so a failure count outlives its wait); how many.
    async fn purge_throttle(&self, now_ms: i64, retain_ms: i64) -> StoreResult<u64>;

    /// Lifts a password lock set at or before `locked_before` (a timed lock whose duration
    /// passed), resetting the failure count, with its audit record, in one transaction; false
    /// when the login was not locked so (unlocked already, by another instance or an operator,
    /// or locked again later).
    async fn lift_password_lock(
        &self,
        login_pk: i64,
        locked_before: Timestamp,
        now: Timestamp,
        audit: &sekisho_core::audit::NewAuditEvent,
    ) -> StoreResult<bool>;
}
