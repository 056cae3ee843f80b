//! Clients registered by operators: register, read, list, change, disable and enable, rotate
//! the secret, delete. Every change is audited with the client named. A client secret is shown
//! once, when it is made, and kept only as its SHA-256.

use super::metadata::{self, ClientMetadata, MetadataInput};
use crate::error::AppError;
use crate::state::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::{ClientRecord, StoredClient};
use serde::Serialize;
use subtle::ConstantTimeEq;

/// Prefix of client IDs.
pub const CLIENT_ID_PREFIX: &str = "skc_";
/// Prefix of client secrets.
pub const SECRET_PREFIX: &str = "skcs";

/// A registered client as shown (never with its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// The client ID.
    pub client_id: String,
    /// The registered metadata, defaults filled in.
    pub metadata: ClientMetadata,
    /// Disabled by an operator.
    pub disabled: bool,
    /// Registered.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// The client document (RFC 7591 §3.2.1) every door shows: the metadata with `client_id`, the
/// secret only when it was just made, and Sekisho's state.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    #[serde(flatten)]
    pub metadata: &'a ClientMetadata,
    pub client_id: &'a str,
    pub client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<&'a str>,
    /// 0: the secret does not expire (it is replaced by a rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Client {
    /// The client document without a secret.
    pub fn document(&self) -> Document<'_> {
        Document {
            metadata: &self.metadata,
            client_id: &self.client_id,
            client_id_issued_at: self.created_at.0,
            client_secret: None,
            client_secret_expires_at: None,
            disabled: self.disabled,
            created_at: self.created_at.to_rfc3339(),
            updated_at: self.updated_at.to_rfc3339(),
        }
    }
}

impl WithSecret {
    /// The client document with the secret just made, if one was.
    pub fn document(&self) -> Document<'_> {
        Document {
            client_secret: self.client_secret.as_deref(),
            client_secret_expires_at: self.client_secret.as_ref().map(|_| 0),
            ..self.client.document()
        }
    }
}

/// A client with the secret just made for it, if one was: the only time it is shown.
#[derive(Debug, Clone)]
pub struct WithSecret {
    /// The client.
    pub client: Client,
    /// The new client secret (unreserved URL characters only).
    pub client_secret: Option<String>,
}

fn view(s: StoredClient) -> Result<Client, AppError> {
    let metadata = serde_json::from_str(&s.record.metadata).map_err(|e| {
        tracing::error!(client_id = %s.record.client_id, error = %e, "stored client metadata unreadable");
        Error::Internal
    })?;
    Ok(Client {
        client_id: s.record.client_id,
        metadata,
        disabled: s.disabled,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

fn record(
    client_id: &str,
    m: &ClientMetadata,
    secret_hash: Option<String>,
) -> Result<ClientRecord, AppError> {
    Ok(ClientRecord {
        client_id: client_id.to_owned(),
        client_name: m.client_name.clone(),
        profile: m.profile.as_str().into(),
        token_endpoint_auth_method: m.token_endpoint_auth_method.as_str().into(),
        first_party: m.first_party,
        metadata: serde_json::to_string(m).map_err(|_| Error::Internal)?,
        secret_hash,
    })
}

/// A new secret and its hash.
fn new_secret(state: &App) -> (String, String) {
    let s = token::generate(SECRET_PREFIX, state.rng.as_ref());
    let h = token::hash(&s);
    (s, h)
}

/// Registers a client from a submitted metadata document.
pub async fn create(
    state: &App,
    actor: Actor,
    from: &ClientInfo,
    input: MetadataInput,
) -> Result<WithSecret, AppError> {
    let m = metadata::validate(input)?;
    let client_id = format!(
        "{CLIENT_ID_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<16>(state.rng.as_ref()))
    );
    let (secret, hash) = if m.token_endpoint_auth_method.uses_secret() {
        let (s, h) = new_secret(state);
        (Some(s), Some(h))
    } else {
        (None, None)
    };
    let ev = state.event(
        EventType::OidcClientCreated,
        None,
        actor,
        from,
        format!(
            "client {client_id} ({}) registered: {}, {}",
            m.client_name,
            m.profile.as_str(),
            m.token_endpoint_auth_method.as_str()
        ),
    );
    let stored = state
        .store
        .create_oidc_client(&record(&client_id, &m, hash)?, state.clock.now(), &ev)
        .await?;
    Ok(WithSecret {
        client: view(stored)?,
        client_secret: secret,
    })
}

async fn load(state: &App, client_id: &str) -> Result<StoredClient, AppError> {
    Ok(state
        .store
        .get_oidc_client(client_id)
        .await?
        .ok_or(Error::OidcClientNotFound)?)
}

/// A registered client.
pub async fn get(state: &App, client_id: &str) -> Result<Client, AppError> {
    view(load(state, client_id).await?)
}

/// Every registered client, in the order they were registered.
pub async fn list(state: &App) -> Result<Vec<Client>, AppError> {
    state
        .store
        .list_oidc_clients()
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// Changes a client: the submitted fields replace the registered ones (`null` goes back to the
/// default) and the result is validated as a whole. A client that moves to a secret method gets
/// a new secret (shown once); one that moves away from them loses its secret.
pub async fn update(
    state: &App,
    actor: Actor,
    from: &ClientInfo,
    client_id: &str,
    input: MetadataInput,
) -> Result<WithSecret, AppError> {
    let old = load(state, client_id).await?;
    let base = view(old.clone())?;
    let m = metadata::validate(input.over(&base.metadata))?;
    let (secret, hash) = match (
        m.token_endpoint_auth_method.uses_secret(),
        old.record.secret_hash,
    ) {
        (true, Some(h)) => (None, Some(h)),
        (true, None) => {
            let (s, h) = new_secret(state);
            (Some(s), Some(h))
        }
        (false, _) => (None, None),
    };
    let ev = state.event(
        EventType::OidcClientUpdated,
        None,
        actor,
        from,
        format!(
            "client {client_id} ({}) changed{}",
            m.client_name,
            if secret.is_some() {
                ", new client secret"
            } else {
                ""
            }
        ),
    );
    let stored = state
        .store
        .update_oidc_client(&record(client_id, &m, hash)?, state.clock.now(), &ev)
        .await?
        .ok_or(Error::OidcClientNotFound)?;
    Ok(WithSecret {
        client: view(stored)?,
        client_secret: secret,
    })
}

/// Disables (`true`) or enables a client; audited only when its state changes.
pub async fn set_disabled(
    state: &App,
    actor: Actor,
    from: &ClientInfo,
    client_id: &str,
    disabled: bool,
) -> Result<Client, AppError> {
    let c = load(state, client_id).await?;
    let (ty, what) = if disabled {
        (EventType::OidcClientDisabled, "disabled")
    } else {
        (EventType::OidcClientEnabled, "enabled")
    };
    let ev = state.event(
        ty,
        None,
        actor,
        from,
        format!("client {client_id} ({}) {what}", c.record.client_name),
    );
    state
        .store
        .set_oidc_client_disabled(client_id, disabled, state.clock.now(), &ev)
        .await?
        .ok_or(Error::OidcClientNotFound)?;
    get(state, client_id).await
}

/// Replaces the client secret of a client that uses one; the old secret stops working at once.
pub async fn rotate_secret(
    state: &App,
    actor: Actor,
    from: &ClientInfo,
    client_id: &str,
) -> Result<WithSecret, AppError> {
    let c = load(state, client_id).await?;
    if c.record.secret_hash.is_none() {
        return Err(Error::OidcClientNoSecret.into());
    }
    let (secret, hash) = new_secret(state);
    let ev = state.event(
        EventType::OidcClientSecretRotated,
        None,
        actor,
        from,
        format!(
            "client {client_id} ({}): new client secret",
            c.record.client_name
        ),
    );
    if !state
        .store
        .set_oidc_client_secret(client_id, &hash, state.clock.now(), &ev)
        .await?
    {
        // Deleted or moved to a method without a secret meanwhile.
        return Err(match state.store.get_oidc_client(client_id).await? {
            None => Error::OidcClientNotFound,
            Some(_) => Error::OidcClientNoSecret,
        }
        .into());
    }
    Ok(WithSecret {
        client: get(state, client_id).await?,
        client_secret: Some(secret),
    })
}

/// Deletes a client.
pub async fn delete(
    state: &App,
    actor: Actor,
    from: &ClientInfo,
    client_id: &str,
) -> Result<(), AppError> {
    let c = load(state, client_id).await?;
    let ev = state.event(
        EventType::OidcClientDeleted,
        None,
        actor,
        from,
        format!("client {client_id} ({}) deleted", c.record.client_name),
    );
    if !state.store.delete_oidc_client(client_id, &ev).await? {
        return Err(Error::OidcClientNotFound.into());
    }
    Ok(())
}

/// Whether `secret` is the current client secret of an enabled client (compared as hashes, in
/// constant time). What the token endpoint will ask for `client_secret_basic` / `_post`.
pub async fn secret_matches(state: &App, client_id: &str, secret: &str) -> Result<bool, AppError> {
    let Some(c) = state.store.get_oidc_client(client_id).await? else {
        return Ok(false);
    };
    let Some(stored) = c.record.secret_hash.filter(|_| !c.disabled) else {
        return Ok(false);
    };
    Ok(bool::from(
        token::hash(secret).as_bytes().ct_eq(stored.as_bytes()),
    ))
}
