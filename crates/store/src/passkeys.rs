//! Storage of passkeys (WebAuthn credentials) and of the ceremonies between a begin and a finish,
//! so that any instance can finish a ceremony another one started.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// What a WebAuthn ceremony does. Stored as `register`, `authenticate` or `discoverable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CeremonyKind {
    /// Registering a new passkey for a signed-in login.
    Register,
    /// Proving a known login's passkey (second step, step-up).
    Authenticate,
    /// A passwordless login: the passkey names the login.
    Discoverable,
}

impl CeremonyKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Authenticate => "authenticate",
            CeremonyKind::Discoverable => "discoverable",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CeremonyKind> {
        [
            CeremonyKind::Register,
            CeremonyKind::Authenticate,
            CeremonyKind::Discoverable,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// Internal key (the passkey's ID in the API).
    pub id: i64,
    /// The login's internal key.
    pub login_pk: i64,
    /// The login ID.
    pub login_id: String,
    /// The credential ID (base64url).
    pub credential_id: String,
    /// The WebAuthn user handle of the login (a UUID).
    pub user_handle: String,
    /// The customer's name for it.
    pub name: String,
    /// The credential as webauthn-rs serialises it (public key, counter, flags; no secret).
    pub credential: String,
    /// The last signature counter the authenticator reported.
    pub sign_count: i64,
    /// The authenticator may back the passkey up (sync it to other devices).
    pub backup_eligible: bool,
    /// The passkey is backed up.
    pub backup_state: bool,
    /// When its counter was seen going backwards, if ever (then it is refused).
    pub counter_regressed_at: Option<Timestamp>,
    /// Registered.
    pub created_at: Timestamp,
    /// Last used to log in.
    pub last_used_at: Option<Timestamp>,
}

/// A passkey to store.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    /// The login's internal key.
    pub login_pk: i64,
    /// The credential ID (base64url).
    pub credential_id: String,
    /// The login's WebAuthn user handle.
    pub user_handle: String,
    /// Name.
    pub name: String,
    /// The serialised credential.
    pub credential: String,
    /// Signature counter at registration.
    pub sign_count: i64,
    /// Backup eligible.
    pub backup_eligible: bool,
    /// Backed up.
    pub backup_state: bool,
    /// Registration time.
    pub now: Timestamp,
}

/// What a verified use of a passkey changes.
#[derive(Debug, Clone)]
pub struct PasskeyUse {
    /// The passkey's internal key.
    pub id: i64,
    /// The credential after the use (new counter and flags).
    pub credential: String,
    /// The new signature counter.
    pub sign_count: i64,
    /// Backup eligible.
    pub backup_eligible: bool,
    /// Backed up.
    pub backup_state: bool,
    /// When.
    pub now: Timestamp,
}

/// A ceremony to store.
#[derive(Debug, Clone)]
pub struct NewCeremony {
    /// Keyed hash of the ceremony's ID (the ID itself goes to the client only).
    pub id_hash: String,
    /// What the ceremony does.
    pub kind: CeremonyKind,
    /// The login it is for (none for a passwordless login, which learns it at the finish).
    pub login_pk: Option<i64>,
    /// What it is bound to (the hash of a login challenge), if anything.
    pub bound_to: Option<String>,
    /// The serialised webauthn-rs state.
    pub state: String,
    /// Created.
    pub now: Timestamp,
    /// End.
    pub expires_at: Timestamp,
}

/// A ceremony taken for its finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// Kind.
    pub kind: CeremonyKind,
    /// The login it is for.
    pub login_pk: Option<i64>,
    /// What it is bound to.
    pub bound_to: Option<String>,
    /// The serialised state.
    pub state: String,
}

/// Passkeys and their ceremonies.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a ceremony and forgets up to a hundred ceremonies that expired (the oldest first),
    /// so unauthenticated begins cannot grow the table without end.
    async fn create_ceremony(&self, new: &NewCeremony) -> StoreResult<()>;

    /// Takes the unused, unexpired ceremony of `kind` with `id_hash`, marking it used in the same
    /// statement: of concurrent finishes on any instances exactly one gets it. `None` if it is
    /// unknown, of another kind, expired or already used.
    async fn take_ceremony(
        &self,
        id_hash: &str,
        kind: CeremonyKind,
        now: Timestamp,
    ) -> StoreResult<Option<Ceremony>>;

    /// Stores a passkey with its audit record; [`crate::StoreError::Conflict`] if the credential
    /// ID is registered already. Returns its key.
    async fn add_passkey(&self, new: &NewPasskey, audit: &NewAuditEvent) -> StoreResult<i64>;

    /// The login's passkeys, oldest first.
    async fn list_passkeys(&self, login_pk: i64) -> StoreResult<Vec<StoredPasskey>>;

    /// The passkey with this credential ID.
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>>;

    /// Records a verified use (counter, flags, last used) with its audit record, unless the
    /// passkey is gone or flagged; false then (nothing written).
    async fn record_passkey_use(
        &self,
        used: &PasskeyUse,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Flags the passkey's counter as gone backwards (keeping the first time), with its audit
    /// record; false if it is gone.
    async fn flag_passkey_counter(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Renames the login's passkey `id`; false if the login has no such passkey.
    async fn rename_passkey(
        &self,
        login_pk: i64,
        id: i64,
        name: &str,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;

    /// Removes the login's passkey `id`; false if the login has no such passkey.
    async fn remove_passkey(
        &self,
        login_pk: i64,
        id: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool>;
}
