//! The firm's use cases on one token of the inventory, shared by the admin API and the operator
//! console: assign it to a login, return it to stock, revoke (失効) or unlock it.

use crate::error::AppError;
use crate::staff::{named_login, StaffCaller};
use crate::state::App;
use sekisho_core::audit::{ClientInfo, EventType};
use sekisho_core::import::normalize_token_id;
use sekisho_core::Error;
use sekisho_store::{AssignOutcome, OtpToken};

/// The token an operator names, or `token_not_found`.
pub async fn named_token(app: &App, token_id: &str) -> Result<OtpToken, AppError> {
    let id = normalize_token_id(token_id).ok_or(Error::TokenNotFound)?;
    Ok(app
        .store
        .get_token(&id)
        .await?
        .ok_or(Error::TokenNotFound)?)
}

/// Assigns a token in stock to a login (admin only); answers the token after it.
pub async fn assign_to(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    token_id: &str,
    login_id: &str,
) -> Result<OtpToken, AppError> {
    caller.require_admin()?;
    let token = named_token(app, token_id).await?;
    if token.expired_at(app.clock.now()) {
        return Err(Error::TokenExpired.into());
    }
    let login = named_login(app, login_id).await?;
    let ev = app.event(
        EventType::TokenAssigned,
        Some(&login.login_id),
        caller.actor.clone(),
        client,
        format!("token {} assigned by an operator", token.token_id),
    );
    let outcome = app
        .store
        .assign_token(
            &token.token_id,
            login.id,
            app.settings.tokens.max_per_login,
            app.clock.now(),
            &ev,
        )
        .await?;
    match outcome {
        AssignOutcome::Assigned => {}
        AssignOutcome::NotInStock => return Err(Error::TokenStateConflict.into()),
        AssignOutcome::LoginHasToken => return Err(Error::LoginHasToken.into()),
    }
    named_token(app, &token.token_id).await
}

/// The state changes an operator makes on a token besides assigning it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenChange {
    /// Back to stock, usable for another customer.
    Unassign,
    /// Out of use for good (失効).
    Revoke,
    /// Its lock cleared.
    Unlock,
}

impl TokenChange {
    fn event_type(self) -> EventType {
        match self {
            TokenChange::Unassign => EventType::TokenUnassigned,
            TokenChange::Revoke => EventType::TokenRevoked,
            TokenChange::Unlock => EventType::TokenUnlocked,
        }
    }

    fn what(self) -> &'static str {
        match self {
            TokenChange::Unassign => "returned to stock",
            TokenChange::Revoke => "revoked",
            TokenChange::Unlock => "unlocked",
        }
    }
}

/// Runs one state change on a token (admin only) with its audit event; answers the token
/// after it and whether the store made the change (for an unlock: whether it was locked).
pub async fn change(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    token_id: &str,
    change: TokenChange,
) -> Result<(OtpToken, bool), AppError> {
    caller.require_admin()?;
    let token = named_token(app, token_id).await?;
    let ev = app.event(
        change.event_type(),
        token.login_id.as_deref(),
        caller.actor.clone(),
        client,
        format!("token {} {}", token.token_id, change.what()),
    );
    let now = app.clock.now();
    let store = &app.store;
    let done = match change {
        TokenChange::Unassign => store.unassign_token(&token.token_id, now, &ev).await?,
        TokenChange::Revoke => store.revoke_token(&token.token_id, now, &ev).await?,
        TokenChange::Unlock => store.unlock_token(&token.token_id, now, &ev).await?,
    };
    Ok((named_token(app, &token.token_id).await?, done))
}

/// An unassignment or revocation: `token_state_conflict` when the token's state refuses it.
pub async fn refusable_change(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    token_id: &str,
    kind: TokenChange,
) -> Result<OtpToken, AppError> {
    let (token, done) = change(app, caller, client, token_id, kind).await?;
    if !done {
        return Err(Error::TokenStateConflict.into());
    }
    Ok(token)
}
