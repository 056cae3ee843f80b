//! The code delivery address (JTG: 認証コード受信用メールアドレス): a customer may have login
//! codes sent somewhere other than the registered address. A new address takes effect only when
//! the confirmation code mailed to it comes back, so a typo cannot lock the customer out and a
//! session thief cannot divert codes silently; the old address is told. Without one, codes go to
//! the registered address (JTG's fallback).

use crate::email_code::masked;
use crate::error::{AppError, ErrorContext};
use crate::mail::{self, notices};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::email_code;
use sekisho_core::login::Login;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Error, Timestamp};
use sekisho_store::{NewMail, PendingAddress};

/// Binds a confirmation code to the login and the address it confirms.
fn context(login: &Login, address: &str) -> String {
    format!("code-address:{}:{address}", login.id)
}

/// The notice to the address that stops receiving codes.
pub fn changed_notice(
    state: &App,
    login: &Login,
    old: &str,
    new: Option<&str>,
) -> Result<NewMail, AppError> {
    let masked_new = new.map(masked);
    let rendered = notices::notice(
        login.lang,
        &state.settings.zone,
        &state.settings.mail.firm_name,
        &state.settings.mail.support_contact,
        &login.display_name,
        state.clock.now(),
        &notices::Notice::CodeAddressChanged(masked_new.as_deref()),
    );
    mail::seal(state, Some(&login.login_id), old, rendered)
}

/// The pending change, if it can still be confirmed.
pub async fn pending(state: &App, login: &Login) -> Result<Option<PendingAddress>, AppError> {
    let now = state.clock.now();
    let max = i64::from(state.settings.email_code.max_tries);
    Ok(state
        .store
        .pending_code_address(login.id)
        .await?
        .filter(|p| now < p.expires_at && p.failures < max))
}

/// Records a change to `address` (already validated, the step-up already passed) and mails its
/// confirmation code there; returns when the code expires.
pub async fn request(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    address: &str,
) -> Result<Timestamp, AppError> {
    let policy = &state.settings.email_code;
    let now = state.clock.now();
    let code = email_code::generate(state.rng.as_ref(), policy.digits);
    let expires_at = now.plus_secs(policy.ttl_secs);
    let rendered = notices::code_address_confirmation(
        login.lang,
        &state.settings.zone,
        &state.settings.mail.firm_name,
        &login.display_name,
        &code,
        expires_at,
        policy.ttl_secs,
    );
    let mail = mail::seal(state, Some(&login.login_id), address, rendered)?;
    let pending = PendingAddress {
        address: address.to_owned(),
        code_hash: state.secrets.code_hash(&context(login, address), &code),
        failures: 0,
        created_at: now,
        expires_at,
    };
    let ev = state.event(
        EventType::CodeAddressRequested,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "code delivery address change to {} requested; confirmation code sent there",
            masked(address)
        ),
    );
    state
        .store
        .request_code_address(login.id, &pending, &mail, &ev)
        .await?;
    mail::wake(state);
    Ok(expires_at)
}

/// Checks the confirmation code and makes the pending address the delivery address; returns it.
pub async fn confirm(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    typed: &str,
) -> Result<String, AppError> {
    let max = i64::from(state.settings.email_code.max_tries);
    let Some(p) = pending(state, login).await? else {
        let e = Error::ConfirmationCodeInvalid;
        let ev = state
            .event(
                EventType::CodeAddressConfirmationFailed,
                Some(&login.login_id),
                Actor::SelfService,
                client,
                "no code delivery address change pending (none, expired or too many wrong codes)",
            )
            .with_error(e.code());
        state.store.append_audit(&ev).await?;
        return Err(e.into());
    };
    let given = email_code::normalize(typed).unwrap_or_default();
    let hash = state.secrets.code_hash(&context(login, &p.address), &given);
    if !SecretBox::hashes_equal(&hash, &p.code_hash) {
        let e = Error::ConfirmationCodeInvalid;
        let ev = state
            .event(
                EventType::CodeAddressConfirmationFailed,
                Some(&login.login_id),
                Actor::SelfService,
                client,
                "wrong confirmation code for the new code delivery address",
            )
            .with_error(e.code());
        let failures = state.store.fail_code_address(login.id, &ev).await?;
        let left = (max - failures).max(0);
        return Err(AppError::with(e, ErrorContext::TriesLeft(left)));
    }
    let old = login.code_address().to_owned();
    // The address that stops receiving codes is told; confirming the address codes already go
    // to (the setup wizard's step 2) tells nobody anything new.
    let notices = if old == p.address {
        Vec::new()
    } else {
        vec![changed_notice(state, login, &old, Some(&p.address))?]
    };
    let ev = state.event(
        EventType::CodeAddressChanged,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        if notices.is_empty() {
            format!("code delivery address {} confirmed", masked(&p.address))
        } else {
            format!(
                "code delivery address changed from {} to {}; the old address was told",
                masked(&old),
                masked(&p.address)
            )
        },
    );
    let changed = state
        .store
        .confirm_code_address(
            login.id,
            &p.code_hash,
            max,
            state.clock.now(),
            &notices,
            &ev,
        )
        .await?
        .ok_or(Error::ConfirmationCodeInvalid)?;
    mail::wake(state);
    Ok(changed)
}

/// Removes the delivery address: codes go to the registered address again. False if none was set.
pub async fn remove(state: &App, client: &ClientInfo, login: &Login) -> Result<bool, AppError> {
    let Some(old) = login.code_email.as_deref() else {
        return Ok(false);
    };
    let notice = changed_notice(state, login, old, None)?;
    let ev = state.event(
        EventType::CodeAddressChanged,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "code delivery address {} removed; codes go to the registered address",
            masked(old)
        ),
    );
    let done = state
        .store
        .clear_code_address(login.id, state.clock.now(), &[notice], &ev)
        .await?;
    if done {
        mail::wake(state);
    }
    Ok(done)
}
