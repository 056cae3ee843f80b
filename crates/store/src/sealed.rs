//! Every value sealed with the master key, by column, for a master-key rotation: read the values
//! not yet under a key id in batches, and replace each one only if it is still what was read, so
//! a value a server wrote in between is never overwritten. Also the keys Sekisho keeps sealed in
//! the database (the MAC key of code hashes).

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::Timestamp;

/// A column holding values sealed with the master key, with the column its associated data
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// Authenticator-app secrets (`otp_factors.secret_enc`, bound to `uid`).
    OtpFactorSecret,
    /// Hardware/software token seeds (`tokens.secret_enc`, bound to `token_id`).
    TokenSecret,
    /// Operators' authenticator-app secrets (`operators.totp_secret_enc`, bound to `id`).
    OperatorTotp,
    /// Operators' app secrets being set up (`operators.totp_pending_enc`, bound to `id`).
    OperatorTotpPending,
    /// Private signing keys (`signing_keys.private_sealed`, bound to `kid`).
    SigningKey,
    /// Queued mail bodies (`mail_outbox.body_enc`, bound to `uid`).
    MailBody,
    /// Hosted pages' logins in progress (`login_flows.payload`, bound to `token_hash`).
    LoginFlow,
    /// Signed step-up proofs not yet taken (`step_up_requests.proof_sealed`, bound to `id_hash`).
    StepUpProof,
    /// Keys kept in the database (`sealed_keys.sealed`, bound to `name`).
    KeptKey,
}

impl SealedColumn {
    /// Every sealed column, in the order a rotation walks them.
    pub const ALL: &'static [SealedColumn] = &[
        SealedColumn::KeptKey,
        SealedColumn::SigningKey,
        SealedColumn::OtpFactorSecret,
        SealedColumn::TokenSecret,
        SealedColumn::OperatorTotp,
        SealedColumn::OperatorTotpPending,
        SealedColumn::MailBody,
        SealedColumn::LoginFlow,
        SealedColumn::StepUpProof,
    ];

    /// The table, the sealed column and the column the associated data names.
    pub fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SealedColumn::OtpFactorSecret => ("otp_factors", "secret_enc", "uid"),
            SealedColumn::TokenSecret => ("tokens", "secret_enc", "token_id"),
            SealedColumn::OperatorTotp => ("operators", "totp_secret_enc", "id"),
            SealedColumn::OperatorTotpPending => ("operators", "totp_pending_enc", "id"),
            SealedColumn::SigningKey => ("signing_keys", "private_sealed", "kid"),
            SealedColumn::MailBody => ("mail_outbox", "body_enc", "uid"),
            SealedColumn::LoginFlow => ("login_flows", "payload", "token_hash"),
            SealedColumn::StepUpProof => ("step_up_requests", "proof_sealed", "id_hash"),
            SealedColumn::KeptKey => ("sealed_keys", "sealed", "name"),
        }
    }

    /// `table.column`, for reports.
    pub fn name(self) -> String {
        let (t, c, _) = self.sql();
        format!("{t}.{c}")
    }
}

/// One sealed value as read for re-sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The row's internal key (the walk's cursor).
    pub id: i64,
    /// What the associated data names (the `uid`, `kid`, …; the `id` as text for operators).
    pub binding: String,
    /// The sealed value.
    pub sealed: String,
}

/// A replacement: the value read and the value to put in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseal {
    /// The row's internal key.
    pub id: i64,
    /// The value as read; the row changes only if it still holds it.
    pub old: String,
    /// The re-sealed value.
    pub new: String,
}

/// The sealed values of every table, for a master-key rotation.
#[async_trait]
pub trait SealedStore: Send + Sync {
    /// Up to `limit` values of `column` in rows after `after` (by internal key) whose key id is
    /// not `key_id` (the text before the first `:`), in key order. Empty values (a sent mail's
    /// body) and NULLs are no sealed values.
    async fn sealed_not_under(
        &self,
        column: SealedColumn,
        key_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>>;

    /// Replaces each value that is still exactly as read, in one transaction; answers how many
    /// were replaced (the others changed in between, written by a server).
    async fn replace_sealed(&self, column: SealedColumn, changes: &[Reseal]) -> StoreResult<u64>;

    /// How many values of `column` are not under `key_id` (empty values and NULLs left out).
    async fn count_not_under(&self, column: SealedColumn, key_id: &str) -> StoreResult<u64>;

    /// The sealed key kept under `name`, if any.
    async fn kept_key(&self, name: &str) -> StoreResult<Option<String>>;

    /// Keeps `sealed` under `name` unless a key is already kept there (another instance made it
    /// first); answers the one kept.
    async fn keep_key(&self, name: &str, sealed: &str, now: Timestamp) -> StoreResult<String>;
}
