//! Storage of OpenID Connect clients registered by operators: the validated client metadata
//! (JSON text, opaque to the store) with the columns that lists show, and the hash of the
//! client secret.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// A client's registration as written: everything but its state (disabled) and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client ID (random, unreserved URL characters).
    pub client_id: String,
    /// The client's name as shown to customers and operators.
    pub client_name: String,
    /// Sekisho's profile (`fapi2`, `basic`).
    pub profile: String,
    /// How the client authenticates at the token endpoint.
    pub token_endpoint_auth_method: String,
    /// The firm's own app (no consent page).
    pub first_party: bool,
    /// The client metadata document (JSON text).
    pub metadata: String,
    /// SHA-256 of the client secret, for the secret methods.
    pub secret_hash: Option<String>,
}

/// A stored client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClient {
    /// Internal key.
    pub id: i64,
    /// The registration.
    pub record: ClientRecord,
    /// Disabled by an operator: it can no longer sign customers in.
    pub disabled: bool,
    /// Registered.
    pub created_at: Timestamp,
    /// Last changed (registration, secret or state).
    pub updated_at: Timestamp,
}

/// OpenID Connect clients.
#[async_trait]
pub trait OidcClientStore: Send + Sync {
    /// Registers a client with its audit record; [`crate::StoreError::Conflict`] if the client
    /// ID is taken.
    async fn create_oidc_client(
        &self,
        record: &ClientRecord,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<StoredClient>;

    /// The client with this ID, disabled or not.
    async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<StoredClient>>;

    /// Every client, in the order they were registered.
    async fn list_oidc_clients(&self) -> StoreResult<Vec<StoredClient>>;

    /// Replaces a client's registration (name, profile, method, metadata, secret hash) with its
    /// audit record; `None` (nothing written) if there is no such client.
    async fn update_oidc_client(
        &self,
        record: &ClientRecord,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<StoredClient>>;

    /// Replaces only the secret hash of a client that has one; false (nothing written) if there
    /// is no such client or it has no secret.
    async fn set_oidc_client_secret(
        &self,
        client_id: &str,
        secret_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Disables or enables a client; `None` if there is no such client, else whether its state
    /// changed (the audit record is written only then).
    async fn set_oidc_client_disabled(
        &self,
        client_id: &str,
        disabled: bool,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>>;

    /// Deletes a client with its audit record; false if there was none.
    async fn delete_oidc_client(&self, client_id: &str, audit: &NewAuditEvent)
        -> StoreResult<bool>;
}
