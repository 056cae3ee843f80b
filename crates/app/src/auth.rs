//! Passwords: the customer's password change, the check of a knowledge secret (login or
//! trading password) and the count toward the password lock.

use crate::error::AppError;
use crate::mail::notices::Notice;
use crate::notify;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::Error;
use sekisho_store::PasswordOwner;

/// Verifies a customer's or an operator's password against its stored hash (`None`: the dummy
/// hash, the same work, and false). A right password whose hash was made with other Argon2
/// parameters than the current ones is hashed again and the new hash stored, so raising
/// `password.argon2_*` reaches every account at its next login (issue 16, item 9). A rehash
/// that cannot be done now (busy hashing threads, a concurrent change) is left for the next
/// login: it never fails the login.
pub async fn verify_password(
    state: &App,
    owner: PasswordOwner,
    password: String,
    stored: Option<String>,
) -> Result<bool, AppError> {
    let right = state
        .hashes
        .verify(&state.metrics, password.clone(), stored.clone())
        .await?;
    let outdated = stored.filter(|h| right && state.hashes.hasher().needs_rehash(h));
    if let Some(old) = outdated {
        let salt: [u8; 16] = random_bytes(state.rng.as_ref());
        let done = match state.hashes.hash(&state.metrics, password, salt).await {
            Ok(new) => state
                .store
                .rehash_password(owner, &old, &new)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not store the upgraded password hash");
        }
    }
    Ok(right)
}

/// Checks a new password against the policy and the login's history, then hashes it.
pub async fn new_password_hash(
    state: &App,
    login: &Login,
    password: &str,
) -> Result<String, AppError> {
    let policy = &state.settings.password_policy;
    let password = PasswordPolicy::normalize(password);
    policy.check(&password, &login.login_id, login.has_second_factor())?;
    for old in state
        .store
        .password_history(login.id, policy.history)
        .await?
    {
        if state
            .hashes
            .verify(&state.metrics, password.clone(), Some(old))
            .await?
        {
            return Err(
                Error::PasswordPolicy(sekisho_core::PolicyViolation::Reused {
                    generations: policy.history,
                })
                .into(),
            );
        }
    }
    let salt: [u8; 16] = random_bytes(state.rng.as_ref());
    Ok(state.hashes.hash(&state.metrics, password, salt).await?)
}

/// The customer's own password change (JSON API and hosted pages): the current password, the
/// policy and history, then the new hash. A full session stays and the customer's other
/// sessions end; a restricted password-change session ends too, and the customer logs in with
/// the new password. Answers whether the session stays (`true` for a full session).
pub async fn change_password(
    state: &App,
    client: &ClientInfo,
    session: &Session,
    current: &str,
    new: &str,
) -> Result<bool, AppError> {
    let login = state
        .store
        .get_login(&session.login_id)
        .await?
        .ok_or(Error::SessionInvalid)?;
    check_current_password(state, client, &login, current).await?;
    let hash = new_password_hash(state, &login, new).await?;
    let full = session.purpose == SessionPurpose::Full;
    let ev = state.event(
        EventType::PasswordChanged,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "password changed by the customer; other sessions revoked",
    );
    let keep = full.then_some(session.id);
    state
        .store
        .set_password(login.id, &hash, false, state.clock.now(), keep, &ev)
        .await?;
    let what = Notice::PasswordChanged { by_operator: false };
    notify::send(state, &login, &what).await;
    Ok(full)
}

/// Ends the customer's session (logout).
pub async fn logout(state: &App, client: &ClientInfo, session: &Session) -> Result<(), AppError> {
    let ev = state.event(
        EventType::SessionRevoked,
        Some(&session.login_id),
        Actor::SelfService,
        client,
        "logout",
    );
    state
        .store
        .revoke_session(session.id, state.clock.now(), &ev)
        .await?;
    Ok(())
}

/// Verifies the current password for a change; a wrong one counts as a failure toward the lock.
pub async fn check_current_password(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    password: &str,
) -> Result<(), AppError> {
    let check = SecretCheck {
        hash: login.password_hash.clone(),
        error: Error::CurrentPasswordInvalid,
        event_type: EventType::PasswordChanged,
        reason: "refused: wrong current password",
    };
    check_secret(state, client, login, password, check).await
}

/// What a knowledge secret (login or trading password) is checked against, and how a wrong one
/// is answered and audited.
pub struct SecretCheck<'a> {
    /// The stored Argon2id hash; `None` matches nothing.
    pub hash: Option<String>,
    /// The error for a wrong secret.
    pub error: Error,
    /// The audit event of a wrong secret.
    pub event_type: EventType,
    /// Its description.
    pub reason: &'a str,
}

/// Verifies `given` (normalised as passwords are); a wrong one counts toward the login's
/// password lock and is audited as `check` says.
pub async fn check_secret(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    given: &str,
    check: SecretCheck<'_>,
) -> Result<(), AppError> {
    let given = PasswordPolicy::normalize(given);
    if state
        .hashes
        .verify(&state.metrics, given, check.hash)
        .await?
    {
        return Ok(());
    }
    password_failure(
        state,
        client,
        login,
        check.event_type,
        check.reason,
        &check.error,
    )
    .await?;
    Err(check.error.into())
}

/// Records a wrong password (here or at login): counts it toward the lock, audits it, audits
/// the lock when this failure is the one that reaches the threshold, and holds the login ID
/// for the growing delay (`throttle.delay_*`).
pub async fn password_failure(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    event_type: EventType,
    reason: &str,
    error: &Error,
) -> Result<(), AppError> {
    crate::factor_guard::settle(
        state,
        sekisho_core::lockout::Verdict::Wrong,
        crate::factor_guard::Refusal {
            counter: crate::factor_guard::Counter::Password(login.id),
            threshold: state.settings.password_policy.lockout_threshold,
            subject: "password",
            login_id: Some(&login.login_id),
            actor: Actor::SelfService,
            client,
            event_type,
            reason,
            error: error.clone(),
        },
    )
    .await?;
    crate::throttle::password_failed(state, &login.login_id).await?;
    Ok(())
}

/// With `password.lockout_mode = "timed"`, lifts the login's password lock once its
/// `password.lockout_duration_secs` have passed (audited `login_unlocked` by `system`, once,
/// whichever instance sees it first) and answers the login as it now is; otherwise the login
/// unchanged. `operator` locks stay until the support desk unlocks them.
pub async fn lift_expired_lock(
    state: &App,
    client: &ClientInfo,
    login: Login,
) -> Result<Login, AppError> {
    let p = &state.settings.password;
    let now = state.clock.now();
    let (mode, secs) = (p.lockout_mode(), p.lockout_duration_secs);
    let Some(at) = login.locked_at else {
        return Ok(login);
    };
    if !sekisho_core::lockout::lock_lifted(mode, Some(at), secs, now) {
        return Ok(login);
    }
    let ev = state.event(
        EventType::LoginUnlocked,
        Some(&login.login_id),
        Actor::System,
        client,
        format!(
            "password lock lifted {secs} s after it was set (lockout_mode timed; {} failures)",
            login.failed_logins
        ),
    );
    state
        .store
        .lift_password_lock(login.id, at, now, &ev)
        .await?;
    Ok(state
        .store
        .get_login(&login.login_id)
        .await?
        .unwrap_or(login))
}
