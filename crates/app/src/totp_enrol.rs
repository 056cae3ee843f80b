//! The customer's authenticator app (TOTP) as the customer manages it: enrolment (申込) after a
//! fresh proof, confirmation with a first code, "show the code again" (コード再表示) and "stop
//! using" (利用停止). Shared by the JSON API, the account pages and the setup wizard.

use crate::error::AppError;
use crate::mail::notices::Notice;
use crate::notify;
use crate::state::App;
use crate::totp::{self, OnSuccess};
use crate::trading::{self, Proof};
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::otp;
use sekisho_core::Error;
use sekisho_store::{FactorState, NewOtpFactor, OtpFactor, StoreError};

pub async fn totp_factor(state: &App, login: &Login) -> Result<Option<OtpFactor>, AppError> {
    Ok(state
        .store
        .otp_factors(login.id)
        .await?
        .into_iter()
        .find(|f| f.method == "totp"))
}

/// The key as the customer's app needs it: shown at enrolment and on "show the code again" only.
pub struct TotpKey {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
    /// Issuer shown in the app.
    pub issuer: String,
    /// Account name shown in the app.
    pub account_name: String,
    /// Parameters.
    pub params: otp::OtpParams,
}

pub fn totp_key(state: &App, login: &Login, f: &OtpFactor) -> Result<TotpKey, AppError> {
    let secret = totp::open_secret(state, f)?;
    let s = &state.settings.totp;
    let account = s.account_name.replace("{login_id}", &login.login_id);
    let p = totp::params(f);
    let uri = otp::otpauth_uri(&s.issuer, &account, &secret, p);
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|_| AppError::from(Error::Internal))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    Ok(TotpKey {
        secret: otp::base32_encode(&secret),
        uri,
        qr_svg: qr,
        issuer: s.issuer.clone(),
        account_name: account,
        params: p,
    })
}

/// Starts the authenticator app's enrolment (申込) after a fresh proof: a pending factor with a
/// new key, which `confirm_totp` activates with a first code.
pub async fn start_totp(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    proof: Proof<'_>,
) -> Result<OtpFactor, AppError> {
    // Enrolment needs a fresh proof (login or trading password), not only a session.
    trading::reauthenticate(
        state,
        client,
        login,
        proof,
        "authenticator app registration",
    )
    .await?;
    begin_totp(state, client, login).await
}

/// Starts an enrolment for a caller already proven: after `start_totp`'s re-authentication, or
/// in the setup wizard, whose open setup link is the proof.
pub async fn begin_totp(
    state: &App,
    client: &ClientInfo,
    login: &Login,
) -> Result<OtpFactor, AppError> {
    if totp::active_totp(state, login.id).await?.is_some() {
        return Err(Error::FactorAlreadyRegistered.into());
    }
    let now = state.clock.now();
    let secret = otp::generate_secret(state.rng.as_ref());
    let uid = hex_id(state);
    let nonce: [u8; 12] = random_bytes(state.rng.as_ref());
    let sealed = state
        .secrets
        .seal(&secret, &totp::secret_aad(&uid), nonce)
        .ok_or(Error::Internal)?;
    let p = state.settings.totp.params();
    let new = NewOtpFactor {
        uid,
        login_pk: login.id,
        method: "totp".into(),
        label: "authenticator app".into(),
        secret_enc: sealed,
        algorithm: p.algorithm,
        digits: p.digits,
        period: p.period,
        now,
        expires_at: now.plus_secs(state.settings.totp.enrolment_timeout_secs),
    };
    let ev = state.event(
        EventType::FactorEnrolmentStarted,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app enrolment started",
    );
    let f = match state.store.put_pending_totp(&new, &ev).await {
        Ok(f) => f,
        Err(StoreError::Conflict) => return Err(Error::FactorAlreadyRegistered.into()),
        Err(e) => return Err(e.into()),
    };
    Ok(f)
}

/// Activates a pending authenticator app with its first code (the enrolment's confirmation).
pub async fn confirm_totp(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    otp: &str,
) -> Result<OtpFactor, AppError> {
    let f = totp_factor(state, login)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    if f.state == FactorState::Active {
        return Err(Error::FactorAlreadyRegistered.into());
    }
    if f.expires_at.is_some_and(|e| state.clock.now() >= e) {
        return Err(Error::EnrolmentExpired.into());
    }
    let ev = state.event(
        EventType::FactorAdded,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app registered (TOTP)",
    );
    totp::check_code(
        state,
        client,
        &login.login_id,
        Actor::SelfService,
        &f,
        otp,
        OnSuccess {
            activate: true,
            audit: Some(ev),
        },
    )
    .await?;
    notify::send(state, login, &Notice::FactorAdded("totp")).await;
    Ok(f)
}

fn hex_id(state: &App) -> String {
    let b: [u8; 12] = random_bytes(state.rng.as_ref());
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// "Show the code again" (コード再表示): a current code of the active app unlocks its key (for a
/// second device).
pub async fn reveal_totp(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    otp: &str,
) -> Result<OtpFactor, AppError> {
    let f = totp::active_totp(state, login.id)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    let ev = state.event(
        EventType::FactorRevealed,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app key shown again (another device)",
    );
    totp::check_code(
        state,
        client,
        &login.login_id,
        Actor::SelfService,
        &f,
        otp,
        OnSuccess {
            activate: false,
            audit: Some(ev),
        },
    )
    .await?;
    Ok(f)
}

/// Stops using the authenticator app (利用停止): an active one needs a current code.
pub async fn stop_totp(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    code: &str,
) -> Result<(), AppError> {
    let f = totp_factor(state, login)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    if f.state == FactorState::Active {
        totp::check_code(
            state,
            client,
            &login.login_id,
            Actor::SelfService,
            &f,
            code,
            OnSuccess {
                activate: false,
                audit: None,
            },
        )
        .await?;
    }
    let ev = state.event(
        EventType::FactorRemoved,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app removed by the customer (利用停止)",
    );
    if state.store.delete_otp_factor(f.id, &ev).await? && f.state == FactorState::Active {
        notify::send(state, login, &Notice::FactorRemoved("totp")).await;
    }
    Ok(())
}
