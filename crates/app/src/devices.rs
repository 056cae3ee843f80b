//! Familiar browsers at login: remembering one after a second factor, and letting a valid one
//! skip the factor next time (only for the methods the firm allows, default e-mail codes).

use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::{device, token, Error};
use sekisho_store::{NewDevice, TrustedDevice};

/// A remembered device handed to the client: the token (shown once) and its record, whose
/// `expires_at` the door carries into the browser's cookie.
pub struct IssuedDevice {
    /// The device token.
    pub token: String,
    /// The stored record.
    pub device: TrustedDevice,
}

/// Remembers the client's browser for `method`, if the firm allows it for that method.
pub async fn remember(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    method: &str,
) -> Result<Option<IssuedDevice>, AppError> {
    let policy = &state.settings.devices;
    if !policy.allows(method) {
        return Ok(None);
    }
    let now = state.clock.now();
    let tok = token::generate("sksd", state.rng.as_ref());
    let new = NewDevice {
        uid: hex::encode(random_bytes::<12>(state.rng.as_ref())),
        token_hash: token::hash(&tok),
        login_pk: login.id,
        method: method.to_owned(),
        label: device::label(client.user_agent.as_deref()),
        now,
        expires_at: now.plus_secs(policy.remember_secs()),
    };
    let ev = state.event(
        EventType::DeviceRemembered,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "familiar browser remembered for {method} until {} ({}, device {})",
            new.expires_at.to_rfc3339(),
            new.label,
            new.uid
        ),
    );
    let device = state.store.create_device(&new, &ev).await?;
    Ok(Some(IssuedDevice { token: tok, device }))
}

/// The device behind `token`, if it may skip `method` for this login now (belongs to the login,
/// was remembered for this method, the firm allows the method, not revoked, not expired); its
/// use is recorded.
pub async fn usable(
    state: &App,
    login: &Login,
    token_text: &str,
    method: &str,
) -> Result<Option<TrustedDevice>, AppError> {
    if !state.settings.devices.allows(method) || token_text.len() > 256 {
        return Ok(None);
    }
    let Some(d) = state.store.find_device(&token::hash(token_text)).await? else {
        return Ok(None);
    };
    if d.login_pk != login.id || d.method != method {
        return Ok(None);
    }
    let used = state
        .store
        .use_device(d.id, login.id, state.clock.now())
        .await?;
    Ok(used.then_some(d))
}

/// Revokes one of the login's familiar browsers (JSON API and hosted pages).
pub async fn revoke_device_for(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    id: &str,
) -> Result<(), AppError> {
    let ev = state.event(
        EventType::DeviceRevoked,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("familiar browser {id} revoked by the customer"),
    );
    if !state
        .store
        .revoke_device(login.id, id, state.clock.now(), &ev)
        .await?
    {
        return Err(Error::DeviceNotFound.into());
    }
    Ok(())
}
