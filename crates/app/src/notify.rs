//! Notices to the customer's registered address: every successful login when switched on
//! (ログイン通知), and always after a factor is added or removed, the password changes or the
//! login is locked. They are recorded in the outbox right after the change they report (the
//! delivery address notice goes in the change's own transaction, see `code_address`); a notice
//! that cannot be recorded is logged and does not undo or fail the change.

use crate::error::AppError;
use crate::mail::{self, notices};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::Login;
use sekisho_core::Error;
use sekisho_store::LoginPatch;

/// Whether the login wants a mail at every login.
pub fn wants_login_notice(state: &App, login: &Login) -> bool {
    login
        .notify_login
        .unwrap_or(state.settings.notify.login_default)
}

/// Records a notice to the login's registered address and wakes the sender.
pub async fn send(state: &App, login: &Login, what: &notices::Notice<'_>) {
    if let Err(e) = try_send(state, login, what).await {
        tracing::error!(login = %login.login_id, error = ?e.error, "cannot record a notice mail");
    }
}

async fn try_send(state: &App, login: &Login, what: &notices::Notice<'_>) -> Result<(), AppError> {
    let rendered = notices::notice(
        login.lang,
        &state.settings.zone,
        &state.settings.mail.firm_name,
        &state.settings.mail.support_contact,
        &login.display_name,
        state.clock.now(),
        what,
    );
    let mail = mail::seal(state, Some(&login.login_id), &login.email, rendered)?;
    mail::enqueue(state, &mail).await
}

/// Like [`send`] for a login known by ID only.
pub async fn send_to(state: &App, login_id: &str, what: &notices::Notice<'_>) {
    match state.store.get_login(login_id).await {
        Ok(Some(login)) => send(state, &login, what).await,
        Ok(None) => {}
        Err(e) => {
            tracing::error!(login = %login_id, error = %e, "cannot read the login for a notice")
        }
    }
}

/// Switches the mail at every successful login (ログイン通知) for the customer.
pub async fn set_login_notice(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    on: bool,
) -> Result<Login, AppError> {
    let patch = LoginPatch {
        notify_login: Some(on),
        ..Default::default()
    };
    let ev = state.event(
        EventType::LoginUpdated,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("notify_login={on} (by the customer)"),
    );
    Ok(state
        .store
        .update_login(&login.login_id, &patch, state.clock.now(), &ev)
        .await?
        .ok_or(Error::SessionInvalid)?)
}
