//! Finishing a login at its challenge: with a code (authenticator app, token, e-mail code),
//! a recovery code or a passkey. The challenge's own rule picks the verifier
//! (`sekisho_core::flow::code_answer`) and the login completes through the same transition as
//! at the password step (`sekisho_core::flow::next`).

use crate::devices;
use crate::email_code;
use crate::error::AppError;
use crate::hwtoken;
use crate::login::{full_session, open_session, Issued};
use crate::recovery;
use crate::state::App;
use crate::totp;
use sekisho_core::audit::{Actor, ClientInfo};
use sekisho_core::flow::{self, Done, Event, Factor, LoginState, Registered};
use sekisho_core::login::Login;
use sekisho_core::{token, Error};

/// Finishes a login waiting for its second factor with the factor the customer chose among the
/// challenge's methods (`totp` or `token` when both are registered); `None`, or a method the
/// challenge does not offer, is the login's configured one. With `remember`, the browser
/// becomes familiar (if the firm allows it for the method used).
pub async fn complete_second_factor_with(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    method: Option<&str>,
    otp: &str,
    remember: bool,
) -> Result<Issued, AppError> {
    let result = complete_inner(state, client, challenge, method, otp).await;
    let result = match result {
        Ok((mut issued, factor, login)) if remember => {
            issued.device = devices::remember(state, client, &login, factor.as_str()).await?;
            Ok(issued)
        }
        other => other.map(|(issued, _, _)| issued),
    };
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

/// Finishes a login waiting for its second factor with a recovery code instead (the phone is
/// lost): the code is used up, audited and notified; a wrong one counts toward the recovery
/// codes' lock. The browser is not remembered.
pub async fn complete_with_recovery_code(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    code: &str,
) -> Result<Issued, AppError> {
    let result = async {
        let (ch, login) = open_challenge(state, challenge).await?;
        recovery::check(state, client, &login, code).await?;
        let done = answered(&ch, Factor::RecoveryCode, state)?;
        open_full(state, client, &login, done, Some(ch.id)).await
    }
    .await;
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

/// The ways a login waiting at `challenge` may finish, in the order offered: the challenge's
/// factors (the login's configured one first), then recovery codes when the login has unused
/// ones (any challenge accepts one, see [`complete_with_recovery_code`]).
pub async fn challenge_methods(state: &App, challenge: &str) -> Result<Vec<Factor>, AppError> {
    let (ch, login) = open_challenge(state, challenge).await?;
    let offered = Factor::parse_all(&ch.methods);
    // A registration challenge is answered by the token once it is registered (利用開始登録
    // first, then the login goes on with a new code of that token).
    let registered = offered.contains(&Factor::TokenRegistration)
        && hwtoken::registered_token(state, login.id).await?.is_some();
    let mut methods: Vec<Factor> = offered
        .into_iter()
        .map(|m| match m {
            Factor::TokenRegistration if registered => Factor::Token,
            m => m,
        })
        .collect();
    if !methods.contains(&Factor::RecoveryCode) && recovery::usable(state, login.id).await? {
        methods.push(Factor::RecoveryCode);
    }
    Ok(methods)
}

/// Whether an answer with one method can still finish a waiting login, so that a page offers
/// only what can succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answerable {
    /// Why no answer with the method can succeed now: the factor is locked (an operator must
    /// unlock it), or the e-mail code is spent (expired or worn out by wrong tries); `None`
    /// when an answer may succeed.
    pub closed: Option<Error>,
    /// For the e-mail code: whether another code may still be sent in this login attempt (now
    /// or after the cool-down).
    pub resend: bool,
}

/// What an answer with `method` at `challenge` can still do; `Err` when the login itself can no
/// longer go on (the challenge ended, the login is locked or disabled). The checks are the
/// verifiers' own (a factor's `locked_at`, the code's [`CodeState`](sekisho_core::email_code::CodeState)),
/// read without trying a code.
pub async fn answerable(
    state: &App,
    challenge: &str,
    method: Factor,
) -> Result<Answerable, AppError> {
    let (ch, login) = open_challenge(state, challenge).await?;
    let now = state.clock.now();
    let locked = |at: Option<sekisho_core::Timestamp>| Answerable {
        closed: at.map(|_| Error::SecondFactorLocked),
        resend: false,
    };
    Ok(match method {
        Factor::Email => {
            let code = ch.code.ok_or(Error::ChallengeInvalid)?;
            let resend = !matches!(
                code.may_resend(&state.settings.email_code, now),
                Err((Error::EmailCodeResendLimit, _))
            );
            let closed = code.usable(now).err().map(|e| {
                // Spent, and no new one may come: the only way on is a new login.
                if resend {
                    e
                } else {
                    Error::EmailCodeResendLimit
                }
            });
            Answerable { closed, resend }
        }
        Factor::Token => locked(
            hwtoken::registered_token(state, login.id)
                .await?
                .and_then(|t| t.locked_at),
        ),
        Factor::Totp => locked(
            totp::active_totp(state, login.id)
                .await?
                .and_then(|f| f.locked_at),
        ),
        _ => Answerable {
            closed: None,
            resend: false,
        },
    })
}

/// The open challenge `challenge` and its login, if the login may still proceed.
pub async fn open_challenge(
    state: &App,
    challenge: &str,
) -> Result<(sekisho_store::Challenge, Login), AppError> {
    let now = state.clock.now();
    let token_hash = token::hash(challenge);
    let ch = state
        .store
        .get_challenge(&token_hash)
        .await?
        .filter(|c| c.completed_at.is_none() && now < c.expires_at)
        .ok_or(Error::ChallengeInvalid)?;
    let login = state
        .store
        .get_login(&ch.login_id)
        .await?
        .ok_or(Error::ChallengeInvalid)?;
    if login.disabled {
        return Err(Error::LoginDisabled.into());
    }
    if login.is_locked() {
        return Err(Error::LoginLocked.into());
    }
    Ok((ch, login))
}

/// The login waiting at `ch` completed by `factor` (already verified), as the flow says.
fn answered(ch: &sekisho_store::Challenge, factor: Factor, state: &App) -> Result<Done, AppError> {
    let waiting = LoginState::AwaitingFactor {
        offered: Factor::parse_all(&ch.methods),
        token: false,
    };
    let answer = Event::FactorAnswered {
        factor,
        result: Ok(()),
    };
    match flow::next(waiting, answer, state.clock.now()) {
        LoginState::Done(done) => Ok(done),
        LoginState::Denied(d) => Err(d.error.into()),
        _ => Err(Error::Internal.into()),
    }
}

/// Opens the full session of a completed login (using up the challenge, if any).
async fn open_full(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    done: Done,
    challenge_id: Option<i64>,
) -> Result<Issued, AppError> {
    let spec = full_session(state, &done, done.description(), challenge_id);
    let mut issued = open_session(state, client, login, spec).await?;
    issued.proof = Some(done);
    Ok(issued)
}

async fn complete_inner(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    method: Option<&str>,
    otp: &str,
) -> Result<(Issued, Factor, Login), AppError> {
    let token_hash = token::hash(challenge);
    let (ch, login) = open_challenge(state, challenge).await?;
    let offered = Factor::parse_all(&ch.methods);
    // An e-mail code's challenge needs neither the app nor the token.
    let (app, hw) = if offered.contains(&Factor::Email) {
        (None, None)
    } else {
        (
            totp::active_totp(state, login.id).await?,
            hwtoken::registered_token(state, login.id).await?,
        )
    };
    let registered = Registered {
        app: app.is_some(),
        token: hw.is_some(),
        passkey: false,
    };
    let chosen = method.and_then(Factor::parse);
    let factor = flow::code_answer(&offered, chosen, login.second_factor, registered)?;
    match (factor, &app, &hw) {
        (Factor::Email, _, _) => {
            email_code::check(state, client, &ch, &token_hash, otp).await?;
        }
        (Factor::Token, _, Some(t)) => {
            hwtoken::check_login_code(state, client, &login.login_id, t, otp).await?;
        }
        (Factor::Totp, Some(f), _) => {
            let on_success = totp::OnSuccess {
                activate: false,
                audit: None,
            };
            let actor = Actor::SelfService;
            totp::check_code(state, client, &login.login_id, actor, f, otp, on_success).await?;
        }
        _ => return Err(Error::ChallengeInvalid.into()),
    }
    let done = answered(&ch, factor, state)?;
    let issued = open_full(state, client, &login, done, Some(ch.id)).await?;
    Ok((issued, factor, login))
}

/// Opens the full session of a login whose passkey was verified: after its password (the
/// challenge `challenge_id`, which the session uses up) or passwordless (refused, and
/// recorded, when the login is locked or disabled: the passkey replaced the password, not
/// what keeps the login out).
pub async fn passkey_session(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    challenge: Option<&sekisho_store::Challenge>,
) -> Result<Issued, AppError> {
    // Passwordless, a timed password lock whose duration passed lifts here too.
    let lifted;
    let login = if challenge.is_none() && login.is_locked() {
        lifted = crate::auth::lift_expired_lock(state, client, login.clone()).await?;
        &lifted
    } else {
        login
    };
    let result = async {
        let now = state.clock.now();
        let st = match challenge {
            Some(ch) => {
                let waiting = LoginState::AwaitingFactor {
                    offered: Factor::parse_all(&ch.methods),
                    token: false,
                };
                let answer = Event::FactorAnswered {
                    factor: Factor::Passkey,
                    result: Ok(()),
                };
                flow::next(waiting, answer, now)
            }
            None => {
                let verified = Event::PasskeyVerified {
                    locked: login.is_locked(),
                    disabled: login.disabled,
                };
                flow::next(LoginState::PasswordStep, verified, now)
            }
        };
        match st {
            LoginState::Done(done) => {
                open_full(state, client, login, done, challenge.map(|c| c.id)).await
            }
            LoginState::Denied(d) => {
                if let flow::Record::Refused(reason) = d.record {
                    crate::login::refuse(state, client, login, &d.error, reason).await?;
                }
                Err(d.error.into())
            }
            _ => Err(Error::Internal.into()),
        }
    }
    .await;
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}
