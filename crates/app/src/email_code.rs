//! E-mail codes at login (JTG, Gungin): after the password, a code goes to the login's code
//! delivery address (the registered address when none is set) and a challenge waits for it in
//! the database, so any instance can finish the login. The code is kept only as a keyed hash,
//! compared in constant time, good for one login, for a limited time and a limited number of
//! wrong tries; a re-issue replaces it without resetting the failure count.

use crate::error::{AppError, ErrorContext};
use crate::factor_guard::{self, Counter, Refusal};
use crate::flow::EmailCodeOffer;
use crate::mail::{self, templates};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::email_code::{self, CodeState};
use sekisho_core::flow::Factor;
use sekisho_core::lockout::Verdict;
use sekisho_core::login::Login;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::{Challenge, IssuedCode, NewMail};

/// The method name of e-mail codes in challenges and sessions.
pub const METHOD: &str = "email";

/// A fresh code for the challenge with `token_hash`: the code (for the mail only) and what the
/// database keeps.
pub(crate) fn issue(state: &App, token_hash: &str, fail_limit: i64) -> (String, IssuedCode) {
    let policy = &state.settings.email_code;
    let now = state.clock.now();
    let code = email_code::generate(state.rng.as_ref(), policy.digits);
    let hash = state.secrets.code_hash(token_hash, &code);
    let issued = IssuedCode {
        hash,
        expires_at: now.plus_secs(policy.ttl_secs),
        fail_limit,
        now,
    };
    (code, issued)
}

fn code_mail(
    state: &App,
    login: &Login,
    code: &str,
    expires_at: Timestamp,
    resent: bool,
) -> Result<NewMail, AppError> {
    let rendered = templates::email_code(
        login.lang,
        &state.settings.zone,
        &state.settings.mail.firm_name,
        &login.display_name,
        code,
        expires_at,
        state.settings.email_code.ttl_secs,
        resent,
    );
    mail::seal(state, Some(&login.login_id), login.code_address(), rendered)
}

/// The end of a challenge answered by an e-mail code opened `now`: the login's time limit, or
/// the code's life if longer.
pub(crate) fn challenge_expiry(state: &App, now: Timestamp) -> Timestamp {
    let policy = &state.settings.email_code;
    now.plus_secs(policy.login_timeout_secs.max(policy.ttl_secs))
}

/// Masks an address for display: `ta***@example.co.jp`.
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let head: String = local.chars().take(2).collect();
            format!("{head}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Sends a code and opens the challenge it answers.
pub async fn start(
    state: &App,
    client: &ClientInfo,
    login: &Login,
) -> Result<EmailCodeOffer, AppError> {
    let policy = &state.settings.email_code;
    let now = state.clock.now();
    let tok = token::generate("sksc", state.rng.as_ref());
    let token_hash = token::hash(&tok);
    let (code, issued) = issue(state, &token_hash, i64::from(policy.max_tries));
    let mail = code_mail(state, login, &code, issued.expires_at, false)?;
    let expires = challenge_expiry(state, now);
    let methods = vec![Factor::Email];
    let ev = state.event(
        EventType::EmailCodeSent,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("login code sent to {}", masked(login.code_address())),
    );
    state
        .store
        .create_code_challenge(
            &token_hash,
            login.id,
            &Factor::names(&methods),
            expires,
            &issued,
            &mail,
            &ev,
        )
        .await?;
    mail::wake(state);
    Ok(EmailCodeOffer {
        challenge: tok,
        methods,
        sent_to: masked(login.code_address()),
        to_delivery_address: login.code_email.is_some(),
        code_expires_at: issued.expires_at,
        expires_at: expires,
    })
}

/// Checks the code typed for a challenge; a wrong one is counted and audited.
pub async fn check(
    state: &App,
    client: &ClientInfo,
    ch: &Challenge,
    token_hash: &str,
    typed: &str,
) -> Result<(), AppError> {
    let (Some(code), Some(hash)) = (ch.code, ch.code_hash.as_deref()) else {
        return Err(Error::ChallengeInvalid.into());
    };
    let now = state.clock.now();
    if let Err(e) = code.usable(now) {
        refuse(
            state,
            client,
            ch,
            &e,
            "e-mail code refused: no longer usable",
        )
        .await?;
        return Err(e.into());
    }
    let given = email_code::normalize(typed).unwrap_or_default();
    if SecretBox::hashes_equal(&state.secrets.code_hash(token_hash, &given), hash) {
        return Ok(());
    }
    let settled = factor_guard::settle(
        state,
        Verdict::Wrong,
        Refusal {
            counter: Counter::EmailCode(ch.id),
            threshold: u32::try_from(code.fail_limit).unwrap_or(u32::MAX),
            subject: "e-mail code",
            login_id: Some(&ch.login_id),
            actor: Actor::SelfService,
            client,
            event_type: EventType::SecondFactorFailed,
            reason: "e-mail code: wrong code",
            error: Error::EmailCodeInvalid,
        },
    )
    .await?;
    Err(code.wrong(settled.failures).into())
}

async fn refuse(
    state: &App,
    client: &ClientInfo,
    ch: &Challenge,
    e: &Error,
    reason: &str,
) -> Result<(), AppError> {
    let ev = state
        .event(
            EventType::SecondFactorFailed,
            Some(&ch.login_id),
            Actor::SelfService,
            client,
            reason,
        )
        .with_error(e.code());
    state.store.append_audit(&ev).await?;
    Ok(())
}

/// Re-issues the code of a challenge (認証コード再発行), within the cool-down and the limit.
pub async fn resend(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
) -> Result<(Timestamp, String), AppError> {
    let now = state.clock.now();
    let token_hash = token::hash(challenge);
    let ch = state
        .store
        .get_challenge(&token_hash)
        .await?
        .filter(|c| c.completed_at.is_none() && now < c.expires_at)
        .ok_or(Error::ChallengeInvalid)?;
    let code_state: CodeState = ch.code.ok_or(Error::ChallengeInvalid)?;
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
    let policy = &state.settings.email_code;
    if let Err((e, wait)) = code_state.may_resend(policy, now) {
        return Err(if wait > 0 {
            AppError::with(e, ErrorContext::RetryAfter(wait))
        } else {
            e.into()
        });
    }
    let (code, issued) = issue(state, &token_hash, code_state.next_fail_limit(policy));
    let mail = code_mail(state, &login, &code, issued.expires_at, true)?;
    let ev = state.event(
        EventType::EmailCodeSent,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!(
            "login code re-issued to {} (failures so far: {})",
            masked(login.code_address()),
            code_state.failures
        ),
    );
    if !state
        .store
        .reissue_email_code(ch.id, code_state.sends, &issued, &mail, &ev)
        .await?
    {
        // Another re-issue of the same challenge won: its code is the one that counts.
        return Err(AppError::with(
            Error::EmailCodeResendTooSoon,
            ErrorContext::RetryAfter(policy.resend_cooldown_secs),
        ));
    }
    mail::wake(state);
    Ok((issued.expires_at, masked(login.code_address())))
}
