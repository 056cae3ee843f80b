//! Passkeys at login: the firm's passkey policy applied to the second step, the challenge a
//! passkey answers, and the finish of a login with a passkey (after the password, or
//! passwordless with a discoverable passkey). Shared by the JSON API and the hosted pages.

use crate::error::AppError;
use crate::flow::ChallengeOffer;
use crate::login::{self, open_challenge, passkey_session, refuse, Issued};
use crate::passkey::{self, Policy};
use crate::state::App;
use sekisho_core::audit::ClientInfo;
use sekisho_core::login::{Login, SecondFactor, SecondStep};
use sekisho_core::{token, Error};
use webauthn_rs::prelude::PublicKeyCredential;

/// The second step once the passkey policy is applied: a required passkey replaces the other
/// factors (or, required for everyone and not registered, the login cannot go on); a passkey
/// offered during the interim joins them, and a registered passkey is always asked for.
pub async fn apply_policy(
    state: &App,
    login: &Login,
    step: SecondStep,
) -> Result<SecondStep, AppError> {
    Ok(match (passkey::policy(state, login).await?, step) {
        (Policy::Required { registered: true }, _) => {
            SecondStep::Required(vec![SecondFactor::Passkey])
        }
        (Policy::Required { registered: false }, s) if !state.settings.passkeys.required => s,
        (Policy::Required { registered: false }, _) => SecondStep::NotInitialized,
        (Policy::Offered, SecondStep::Required(mut m)) => {
            if !m.contains(&SecondFactor::Passkey) {
                m.insert(0, SecondFactor::Passkey);
            }
            SecondStep::Required(m)
        }
        (Policy::Offered, _) => SecondStep::Required(vec![SecondFactor::Passkey]),
        (Policy::None, s) => s,
    })
}

/// Opens the challenge of a second step a passkey may answer (`methods` lists what else may,
/// recovery codes included) and offers it.
pub async fn challenge(
    state: &App,
    login: &Login,
    methods: &[SecondFactor],
) -> Result<ChallengeOffer, AppError> {
    // A token's code may answer instead: its ID is shown, as at any token login.
    let token_id = if methods.contains(&SecondFactor::Token) {
        crate::hwtoken::registered_token(state, login.id)
            .await?
            .map(|t| t.token_id)
    } else {
        None
    };
    login::second_factor_challenge(state, login, methods, token_id).await
}

/// Begins a passkey ceremony for a login: for the open `challenge`'s login (which must offer
/// `passkey`), or passwordless without one.
pub async fn begin(
    state: &App,
    challenge: Option<&str>,
) -> Result<(String, webauthn_rs::prelude::RequestChallengeResponse), AppError> {
    match challenge {
        Some(c) => {
            let (ch, login) = open_challenge(state, c).await?;
            if !ch.methods.iter().any(|m| m == passkey::METHOD) {
                return Err(Error::FactorNotRegistered.into());
            }
            passkey::begin_authentication(state, Some(&login), Some(token::hash(c))).await
        }
        None => passkey::begin_authentication(state, None, None).await,
    }
}

/// Finishes a login with a passkey: after the password (`challenge`, which the ceremony must
/// have been begun for) or passwordless. The login must still be allowed in.
pub async fn finish(
    state: &App,
    client: &ClientInfo,
    challenge: Option<&str>,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<Issued, AppError> {
    let verified = passkey::finish_authentication(state, client, ceremony, credential).await?;
    let login = &verified.login;
    match challenge {
        Some(c) => {
            let (ch, ch_login) = open_challenge(state, c).await?;
            if verified.bound_to.as_deref() != Some(token::hash(c).as_str())
                || ch_login.id != login.id
            {
                return Err(Error::PasskeyCeremonyInvalid.into());
            }
            passkey_session(state, client, login, Some(ch.id)).await
        }
        None => {
            if verified.bound_to.is_some() {
                return Err(Error::PasskeyCeremonyInvalid.into());
            }
            // The passkey replaced the password, not what keeps the login out: an operator's
            // disabling and the lock after wrong passwords hold here as at the password step
            // (the right passkey reveals them, as the right password does).
            let refused = if login.disabled {
                Some(Error::LoginDisabled)
            } else if login.is_locked() {
                Some(Error::LoginLocked)
            } else {
                None
            };
            if let Some(e) = refused {
                refuse(state, client, login, &e, "passkey (passwordless): refused").await?;
                return Err(e.into());
            }
            passkey_session(state, client, login, None).await
        }
    }
}
