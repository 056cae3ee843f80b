//! Hardware and software tokens at login: start-of-use registration with two consecutive codes
//! (利用開始登録), the one-code check at login, and resynchronisation (同期ズレ補正). Each
//! accepted code or pair is recorded atomically, so it works once across all instances.

use crate::error::AppError;
use crate::factor_guard::{self, Counter, Refusal};
use crate::state::App;
use crate::token_inventory::secret_aad;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::import::normalize_token_id;
use sekisho_core::lockout::Verdict;
use sekisho_core::login::Login;
use sekisho_core::otp::{self, OtpKind, OtpParams, PairReject, TotpCheck, TotpReject};
use sekisho_core::Error;
use sekisho_store::{AssignOutcome, OtpToken, TokenState};

fn params(t: &OtpToken) -> OtpParams {
    OtpParams {
        algorithm: t.algorithm,
        digits: t.digits,
        period: t.period,
    }
}

fn kind(t: &OtpToken) -> OtpKind {
    t.kind
}

fn open_secret(state: &App, t: &OtpToken) -> Result<Vec<u8>, AppError> {
    state
        .secrets
        .open(&t.secret_enc, &secret_aad(&t.token_id))
        .ok_or_else(|| {
            tracing::error!(token = %t.token_id, "cannot decrypt a token secret: wrong master key?");
            Error::Internal.into()
        })
}

/// The login's registered token (assigned and through start-of-use registration), if any.
pub async fn registered_token(state: &App, login_pk: i64) -> Result<Option<OtpToken>, AppError> {
    Ok(state.store.registered_token(login_pk).await?)
}

fn pair_error(r: PairReject) -> Error {
    match r {
        PairReject::Invalid => Error::SecondFactorInvalid,
        PairReject::NotConsecutive => Error::TokenCodesNotConsecutive,
        PairReject::AlreadyUsed => Error::TokenCodeUsed,
        PairReject::Expired => Error::TokenCodeExpired,
    }
}

async fn refuse(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    e: &Error,
    what: String,
) -> Result<AppError, AppError> {
    refuse_as(state, client, login_id, Actor::SelfService, e, what).await
}

async fn refuse_as(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    actor: Actor,
    e: &Error,
    what: String,
) -> Result<AppError, AppError> {
    let ev = state
        .event(
            EventType::SecondFactorFailed,
            Some(login_id),
            actor,
            client,
            what,
        )
        .with_error(e.code());
    state.store.append_audit(&ev).await?;
    Ok(e.clone().into())
}

/// Settles a refused code of the token through the one rule: a wrong one counts toward the
/// lock (the failure that reaches the threshold locks it and notifies the customer), a used one
/// is refused without counting.
async fn settle(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    t: &OtpToken,
    verdict: Verdict,
    what: &str,
) -> Result<AppError, AppError> {
    settle_as(
        state,
        client,
        login_id,
        Actor::SelfService,
        t,
        verdict,
        what,
    )
    .await
}

async fn settle_as(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    actor: Actor,
    t: &OtpToken,
    verdict: Verdict,
    what: &str,
) -> Result<AppError, AppError> {
    let subject = format!("token {}", t.token_id);
    let reason = format!("{subject}: {what}");
    let settled = factor_guard::settle(
        state,
        verdict,
        Refusal {
            counter: Counter::Token(t.id),
            threshold: state.settings.tokens.lockout_threshold,
            subject: &subject,
            login_id: Some(login_id),
            actor,
            client,
            event_type: EventType::SecondFactorFailed,
            reason: &reason,
            error: Error::SecondFactorInvalid,
        },
    )
    .await?;
    Ok(match settled.answer {
        Verdict::Locked => Error::SecondFactorLocked.into(),
        _ => Error::SecondFactorInvalid.into(),
    })
}

/// Checks one code at login: HOTP within the look-ahead (the counter moves only on success),
/// TOTP with the window around the learnt drift; each code once. A wrong code counts toward the
/// lock; a used one is refused without counting.
pub async fn check_login_code(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    t: &OtpToken,
    code: &str,
) -> Result<(), AppError> {
    check_code(state, client, login_id, Actor::SelfService, t, code, None).await
}

/// Checks one code of the token as [`check_login_code`] does, answered by `actor` (the
/// customer at login, a relying system at `/api/v1/validate`); `audit` is written with the
/// accepted code, in its commit.
pub async fn check_code(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    actor: Actor,
    t: &OtpToken,
    code: &str,
    audit: Option<NewAuditEvent>,
) -> Result<(), AppError> {
    if t.locked_at.is_some() {
        return Err(Error::SecondFactorLocked.into());
    }
    let now = state.clock.now();
    if t.expired_at(now) {
        return Err(refuse_as(
            state,
            client,
            login_id,
            actor,
            &Error::TokenExpired,
            format!(
                "token {}: outside its validity period or out of transactions",
                t.token_id
            ),
        )
        .await?);
    }
    let secret = open_secret(state, t)?;
    let settings = &state.settings.tokens;
    let p = params(t);
    let (accepted, replayed) = match kind(t) {
        OtpKind::Hotp => {
            let counter = u64::try_from(t.counter).unwrap_or(0);
            match otp::verify_hotp(
                &secret,
                code,
                counter,
                settings.hotp_look_ahead,
                p.algorithm,
                p.digits,
            ) {
                Some(c) => (Some((i64::try_from(c).unwrap_or(i64::MAX) + 1, 0)), false),
                None => {
                    // A code of one of the last spent counters is a replay, not a guess.
                    let back = counter.saturating_sub(u64::from(settings.hotp_look_ahead));
                    let spent = otp::verify_hotp(
                        &secret,
                        code,
                        back,
                        u32::try_from(counter - back).unwrap_or(0).saturating_sub(1),
                        p.algorithm,
                        p.digits,
                    )
                    .is_some_and(|c| c < counter);
                    (None, spent)
                }
            }
        }
        OtpKind::Totp => match otp::verify_totp(
            &secret,
            code,
            now,
            p,
            settings.totp_window,
            t.drift,
            t.last_step,
        ) {
            TotpCheck::Accepted { step, new_drift } => (Some((step, new_drift)), false),
            TotpCheck::Rejected { reason } => (None, reason == TotpReject::Replayed),
        },
    };
    if let Some((value, drift)) = accepted {
        if state
            .store
            .accept_token_code(t.id, value, drift, now, audit.as_ref())
            .await?
        {
            return Ok(());
        }
        // Another request used it first (or the token was locked meanwhile).
    }
    let (verdict, what) = if accepted.is_some() || replayed {
        (Verdict::Replayed, "one-time password already used")
    } else {
        (Verdict::Wrong, "wrong or expired one-time password")
    };
    Err(settle_as(state, client, login_id, actor, t, verdict, what).await?)
}

/// Checks a pair of codes against a token. Registration looks within the login look-ahead
/// (HOTP) or ±1 step of the server's time (TOTP); resynchronisation within the wider windows.
fn check_pair(
    state: &App,
    t: &OtpToken,
    secret: &[u8],
    otp1: &str,
    otp2: &str,
    resync: bool,
) -> Result<(i64, i64), PairReject> {
    let s = &state.settings.tokens;
    let p = params(t);
    match kind(t) {
        OtpKind::Hotp => {
            let window = if resync {
                s.hotp_resync_window
            } else {
                s.hotp_look_ahead
            };
            otp::check_hotp_pair(
                secret,
                otp1,
                otp2,
                u64::try_from(t.counter).unwrap_or(0),
                window,
                s.hotp_resync_window,
                p.algorithm,
                p.digits,
            )
            .map(|c2| (i64::try_from(c2).unwrap_or(i64::MAX) + 1, 0))
        }
        OtpKind::Totp => otp::check_totp_pair(
            secret,
            otp1,
            otp2,
            state.clock.now(),
            p,
            // The drift learnt so far, or the vendor's measured TimeDrift for a new token.
            t.drift,
            if resync {
                s.totp_resync_steps
            } else {
                s.totp_window
            },
            t.last_step,
        ),
    }
}

/// Start-of-use registration: binds the token `token_id` to `login` after two consecutive
/// codes. Neither code can be used to log in afterwards.
pub async fn register(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    token_id: &str,
    otp1: &str,
    otp2: &str,
) -> Result<OtpToken, AppError> {
    let id = normalize_token_id(token_id);
    let token = match &id {
        Some(id) => state.store.get_token(id).await?,
        None => None,
    };
    let usable = token.filter(|t| {
        t.locked_at.is_none()
            && (t.state == TokenState::InStock
                || (t.state == TokenState::Assigned
                    && t.login_pk == Some(login.id)
                    && t.registered_at.is_none()))
    });
    let Some(t) = usable else {
        let shown: String = token_id.chars().take(64).collect();
        return Err(refuse(
            state,
            client,
            &login.login_id,
            &Error::TokenIdInvalid,
            format!("token registration: token ID {shown:?} unknown or not available"),
        )
        .await?);
    };
    if t.expired_at(state.clock.now()) {
        return Err(refuse(
            state,
            client,
            &login.login_id,
            &Error::TokenExpired,
            format!(
                "token registration {}: outside its validity period",
                t.token_id
            ),
        )
        .await?);
    }
    let secret = open_secret(state, &t)?;
    let (value, drift) = match check_pair(state, &t, &secret, otp1, otp2, false) {
        Ok(v) => v,
        Err(r) => {
            let e = pair_error(r);
            return Err(refuse(
                state,
                client,
                &login.login_id,
                &e,
                format!("token registration {}: {}", t.token_id, e.name()),
            )
            .await?);
        }
    };
    let (counter, last_step) = match kind(&t) {
        OtpKind::Hotp => (value, None),
        OtpKind::Totp => (t.counter, Some(value)),
    };
    let ev = state.event(
        EventType::TokenRegistered,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("token {} registered (start of use)", t.token_id),
    );
    let outcome = state
        .store
        .register_token(
            &t.token_id,
            login.id,
            state.settings.tokens.max_per_login,
            counter,
            last_step,
            drift,
            state.clock.now(),
            &ev,
        )
        .await?;
    match outcome {
        AssignOutcome::Assigned => {}
        AssignOutcome::NotInStock => return Err(Error::TokenIdInvalid.into()),
        AssignOutcome::LoginHasToken => return Err(Error::LoginHasToken.into()),
    }
    Ok(state
        .store
        .get_token(&t.token_id)
        .await?
        .ok_or(Error::Internal)?)
}

/// Resynchronisation: two consecutive codes within the wider windows move the token's counter
/// or drift; the customer then logs in with a fresh code. A wrong pair counts toward the lock.
pub async fn resync(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    otp1: &str,
    otp2: &str,
) -> Result<OtpToken, AppError> {
    let t = registered_token(state, login.id)
        .await?
        .ok_or(Error::TokenNotRegistered)?;
    if t.locked_at.is_some() {
        return Err(Error::SecondFactorLocked.into());
    }
    let secret = open_secret(state, &t)?;
    let (value, drift) = match check_pair(state, &t, &secret, otp1, otp2, true) {
        Ok(v) => v,
        Err(PairReject::Invalid) => {
            return Err(settle(
                state,
                client,
                &login.login_id,
                &t,
                Verdict::Wrong,
                "resynchronisation with wrong codes",
            )
            .await?)
        }
        Err(r) => {
            let e = pair_error(r);
            return Err(refuse(
                state,
                client,
                &login.login_id,
                &e,
                format!("token resynchronisation {}: {}", t.token_id, e.name()),
            )
            .await?);
        }
    };
    let ev = state.event(
        EventType::TokenResynchronised,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        match kind(&t) {
            OtpKind::Hotp => format!("token {} resynchronised to counter {value}", t.token_id),
            OtpKind::Totp => format!("token {} resynchronised, drift {drift} steps", t.token_id),
        },
    );
    let now = state.clock.now();
    if !state
        .store
        .accept_token_code(t.id, value, drift, now, Some(&ev))
        .await?
    {
        return Err(Error::TokenCodeUsed.into());
    }
    Ok(state
        .store
        .get_token(&t.token_id)
        .await?
        .ok_or(Error::Internal)?)
}
