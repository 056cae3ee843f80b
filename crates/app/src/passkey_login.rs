//! Passkeys at login: the ceremony a passkey answers and the finish of a login with a passkey
//! (after the password, or passwordless with a discoverable passkey). The firm's passkey policy
//! at the second step is `sekisho_core::flow`'s. Shared by the JSON API and the hosted pages.

use crate::error::AppError;
use crate::login::{open_challenge, passkey_session, Issued};
use crate::passkey;
use crate::state::App;
use sekisho_core::audit::ClientInfo;
use sekisho_core::flow::Factor;
use sekisho_core::{token, Error};
use webauthn_rs::prelude::PublicKeyCredential;

/// Begins a passkey ceremony for a login: for the open `challenge`'s login (which must offer
/// `passkey`), or passwordless without one.
pub async fn begin(
    state: &App,
    challenge: Option<&str>,
) -> Result<(String, webauthn_rs::prelude::RequestChallengeResponse), AppError> {
    match challenge {
        Some(c) => {
            let (ch, login) = open_challenge(state, c).await?;
            if !Factor::parse_all(&ch.methods).contains(&Factor::Passkey) {
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
            passkey_session(state, client, login, Some(&ch)).await
        }
        None => {
            if verified.bound_to.is_some() {
                return Err(Error::PasskeyCeremonyInvalid.into());
            }
            // The lock after wrong passwords and an operator's disabling hold here as at the
            // password step (the flow refuses them; the right passkey reveals them, as no
            // guess can produce one).
            passkey_session(state, client, login, None).await
        }
    }
}
