//! The trading password (取引パスワード) and the fresh re-authentication asked for before
//! sensitive changes (registering or changing a factor, the delivery address, …).
//!
//! Where the firm turns `trading_password.reauth` on and the login has a trading password, a
//! change needs that password (as the Hokuyo and JTG manuals ask for it); otherwise it needs the
//! login password again. The trading password is a knowledge factor: it never replaces the
//! second factor at login. A wrong one counts toward the login's password lock.

use crate::auth::{check_secret, SecretCheck};
use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::Error;

/// What a request offers as proof for a sensitive change.
#[derive(Default, Clone, Copy)]
pub struct Proof<'a> {
    /// The login password.
    pub password: Option<&'a str>,
    /// The trading password.
    pub trading_password: Option<&'a str>,
}

/// Checks the proof a sensitive change needs (see the module documentation).
/// `what` names the change in the audit record of a refusal.
pub async fn reauthenticate(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    proof: Proof<'_>,
    what: &str,
) -> Result<(), AppError> {
    let trading = state.settings.trading_password.reauth;
    prove(state, client, login, proof, trading, what).await
}

/// Checks the proof for changing the trading password itself: the current trading password if
/// there is one (whatever the firm's re-authentication setting), else the login password.
pub async fn reauthenticate_for_change(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    proof: Proof<'_>,
) -> Result<(), AppError> {
    prove(state, client, login, proof, true, "trading password change").await
}

async fn prove(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    proof: Proof<'_>,
    trading: bool,
    what: &str,
) -> Result<(), AppError> {
    for s in [proof.password, proof.trading_password]
        .into_iter()
        .flatten()
    {
        if s.len() > 1024 {
            return Err(Error::InvalidRequest("password too long".into()).into());
        }
    }
    let stored = if trading {
        state.store.trading_password_hash(login.id).await?
    } else {
        None
    };
    let (given, check) = match stored {
        Some(hash) => (
            proof
                .trading_password
                .ok_or(Error::TradingPasswordRequired)?,
            SecretCheck {
                hash: Some(hash),
                error: Error::TradingPasswordInvalid,
                event_type: EventType::StepUpFailed,
                reason: &format!("{what} refused: wrong trading password"),
            },
        ),
        None => (
            proof
                .password
                .ok_or_else(|| Error::InvalidRequest("password is required".into()))?,
            SecretCheck {
                hash: login.password_hash.clone(),
                error: Error::CurrentPasswordInvalid,
                event_type: EventType::StepUpFailed,
                reason: &format!("{what} refused: wrong current password"),
            },
        ),
    };
    check_secret(state, client, login, given, check).await
}

/// Sets the login's trading password after the policy checks: the password policy, and not the
/// same as the login password.
pub async fn set(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    new: &str,
    actor: Actor,
) -> Result<(), AppError> {
    if new.len() > 1024 {
        return Err(Error::InvalidRequest("password too long".into()).into());
    }
    let new = PasswordPolicy::normalize(new);
    state
        .settings
        .password_policy
        .check(&new, &login.login_id, login.has_second_factor())?;
    if login.password_hash.is_some()
        && state
            .hashes
            .verify(&state.metrics, new.clone(), login.password_hash.clone())
            .await?
    {
        return Err(Error::TradingPasswordSameAsLogin.into());
    }
    let had = state.store.trading_password_hash(login.id).await?.is_some();
    let salt: [u8; 16] = random_bytes(state.rng.as_ref());
    let hash = state.hashes.hash(&state.metrics, new, salt).await?;
    let (event_type, what) = match (&actor, had) {
        (Actor::SelfService, _) => (EventType::TradingPasswordChanged, "changed by the customer"),
        (_, true) => (EventType::TradingPasswordSet, "reset by an operator"),
        (_, false) => (EventType::TradingPasswordSet, "set by an operator"),
    };
    let ev = state.event(
        event_type,
        Some(&login.login_id),
        actor,
        client,
        format!("trading password {what}"),
    );
    if !state
        .store
        .set_trading_password(login.id, &hash, state.clock.now(), &ev)
        .await?
    {
        return Err(Error::LoginNotFound.into());
    }
    Ok(())
}
