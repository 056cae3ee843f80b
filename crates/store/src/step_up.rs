//! Storage of step-up requests (one operation confirmed by the customer, answered once, its
//! proof handed out once) and of the keys that sign the proofs.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::step_up::{ConfirmMethod, OperationKind, StepUpState};
use sekisho_core::Timestamp;

/// A step-up request to record.
#[derive(Debug, Clone)]
pub struct NewStepUp {
    /// SHA-256 of the request ID.
    pub id_hash: String,
    /// The login that must confirm.
    pub login_pk: i64,
    /// Its canonical login ID.
    pub login_id: String,
    /// The operation kind.
    pub kind: OperationKind,
    /// What the customer is shown and confirms.
    pub description: String,
    /// Amount as decimal text, with its currency.
    pub amount: Option<(String, String)>,
    /// The API token that asked (only it may read the answer).
    pub api_token_id: i64,
    /// The proof's audience (the requesting app's name).
    pub audience: String,
    /// Where the customer goes back to.
    pub return_to: String,
    /// Now.
    pub now: Timestamp,
    /// The request ends then.
    pub expires_at: Timestamp,
}

/// A stored step-up request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpRequest {
    /// Internal key.
    pub id: i64,
    /// SHA-256 of the request ID.
    pub id_hash: String,
    /// The login that must confirm.
    pub login_pk: i64,
    /// Its canonical login ID.
    pub login_id: String,
    /// Operation kind.
    pub kind: OperationKind,
    /// Operation description.
    pub description: String,
    /// Amount as decimal text.
    pub amount: Option<String>,
    /// Currency of the amount.
    pub currency: Option<String>,
    /// The API token that asked.
    pub api_token_id: i64,
    /// The proof's audience.
    pub audience: String,
    /// Where the customer goes back to.
    pub return_to: String,
    /// Created.
    pub created_at: Timestamp,
    /// Ends.
    pub expires_at: Timestamp,
    /// Stored state (a pending request past `expires_at` is expired: see [`StepUpRequest::state_at`]).
    pub state: StepUpState,
    /// The confirming method, once confirmed.
    pub method: Option<ConfirmMethod>,
    /// When it was confirmed or refused.
    pub answered_at: Option<Timestamp>,
    /// The sealed proof, until it is taken.
    pub proof_sealed: Option<String>,
    /// When the proof was taken.
    pub proof_taken_at: Option<Timestamp>,
}

impl StepUpRequest {
    /// The state at `now`: a pending request past its end is expired.
    pub fn state_at(&self, now: Timestamp) -> StepUpState {
        if self.state == StepUpState::Pending && now >= self.expires_at {
            StepUpState::Expired
        } else {
            self.state
        }
    }
}

/// How a pending request is answered.
#[derive(Debug, Clone)]
pub enum StepUpAnswer {
    /// Confirmed with `method`; the signed proof, sealed.
    Confirmed {
        /// The confirming method.
        method: ConfirmMethod,
        /// The proof, sealed with the master key.
        proof_sealed: String,
    },
    /// Refused by the customer.
    Refused,
}

/// A key that signs step-up proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key ID (`kid`).
    pub kid: String,
    /// JWS algorithm (`EdDSA`).
    pub algorithm: String,
    /// The private key, sealed with the master key.
    pub private_sealed: String,
    /// The public key as a JWK (JSON text).
    pub public_jwk: String,
    /// Created.
    pub created_at: Timestamp,
    /// Retired: no longer signs nor published.
    pub retired_at: Option<Timestamp>,
}

/// Step-up requests and signing keys.
#[async_trait]
pub trait StepUpStore: Send + Sync {
    /// Records a new pending request with its audit record.
    async fn create_step_up(
        &self,
        new: &NewStepUp,
        audit: &NewAuditEvent,
    ) -> StoreResult<StepUpRequest>;

    /// The request with this ID hash, whatever its state.
    async fn get_step_up(&self, id_hash: &str) -> StoreResult<Option<StepUpRequest>>;

    /// Answers a pending, unexpired request atomically (of concurrent answers exactly one
    /// succeeds) with its audit record; false (nothing written) if it was not pending or has
    /// expired at `now`.
    async fn answer_step_up(
        &self,
        id_hash: &str,
        answer: &StepUpAnswer,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Takes the sealed proof of a confirmed request: the first caller gets it and it is
    /// removed; later callers get `None`.
    async fn take_step_up_proof(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<String>>;

    /// Every signing key, retired ones included, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>>;

    /// Adds a signing key with its audit record.
    async fn add_signing_key(&self, key: &SigningKey, audit: &NewAuditEvent) -> StoreResult<()>;

    /// Retires a key (it no longer signs and is no longer published); `None` if there is no key
    /// with this ID, else whether it was active.
    async fn retire_signing_key(
        &self,
        kid: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>>;
}
